import Datasets
import Foundation
import TestSupport

/// One scoring test case: hypotheses and line-aligned reference streams.
struct ScoreCase {
    let name: String
    let hypotheses: [String]
    let references: [[String]]
}

/// The hypothesis/reference pairs the scorers are checked on against sacreBLEU, generated
/// deterministically (fixed text, or SplitMix64 with fixed seeds).
enum ScoreCases {
    static func all() throws -> [ScoreCase] {
        [
            identical, wrong, noHigherOrderMatches, emptyLines, punctuation, unicode, oneWord, longLines(),
            numbers, entitiesAndHyphens, multipleReferences, casing, internationalPunctuation, whitespace,
            pretokenized, try multi30k(),
        ]
    }

    static let sentences = [
        "The quick brown fox jumps over the lazy dog.",
        "A man in a blue shirt is standing on a ladder cleaning windows.",
        "Two young, White males are outside near many bushes.",
        "Several men in hard hats are operating a giant pulley system.",
        "A little girl climbing into a wooden playhouse.",
        "\"Don't do that,\" she said; he didn't listen (as usual).",
        "It costs $5.99 — or 5,99 € — at the U.S. store!",
        "Is this the real life? Is this just fantasy?",
        "Ein Mann schläft in einem grünen Raum auf einem Sofa.",
        "Une femme âgée garde ses pensées pour elle-même.",
    ]

    /// BLEU 100: the hypothesis is the reference.
    static var identical: ScoreCase {
        ScoreCase(name: "identical", hypotheses: sentences, references: [sentences])
    }

    /// No token in common with the reference: BLEU 0 through sacreBLEU's early stop.
    static var wrong: ScoreCase {
        let hyps = sentences.indices.map { i in (0..<(5 + i)).map { "zq\($0 * 7 + i)x" }.joined(separator: " ") }
        return ScoreCase(name: "wrong", hypotheses: hyps, references: [sentences])
    }

    /// The reference's words reversed: unigrams match, longer n-grams hardly or not at all, so
    /// the exponential smoothing (and, for tokenized BLEU, the zero) decides the score.
    static var noHigherOrderMatches: ScoreCase {
        let hyps = sentences.map { $0.split(separator: " ").reversed().joined(separator: " ") }
        return ScoreCase(name: "reversed", hypotheses: hyps, references: [sentences])
    }

    static var emptyLines: ScoreCase {
        ScoreCase(
            name: "empty_lines",
            hypotheses: ["", "a cat sat on the mat", "", "   ", "the end", "", "x"],
            references: [["", "", "the cat sat on the mat", "", "the end .", "\t", "x y"]])
    }

    static var punctuation: ScoreCase {
        let refs = [
            "Hello, world!!! (yes) -- 'quoted' ... a.b,c",
            "e-mail: user@example.com; path/to/file.txt?q=1&r=2#frag",
            "{braces} [brackets] <angles> `ticks` ~tilde ^caret |pipe| \\back\\slash",
            "Wait... what?! \"Really\"?! (No.) [Yes.]",
            "end.", ".start", ",comma,", "a,b.c", "x.,y", "..,,..", "'''", "*_*",
            "He said: \"It's 'fine'.\"", "!!!???...", "a - b -- c --- d",
        ]
        let hyps = [
            "Hello , world ! (yes)-- 'quoted'... a.b, c",
            "e-mail : user@example.com ; path/to/file.txt?q=1&r=2",
            "{braces} [brackets] <angles>`ticks`~tilde ^ caret | pipe | \\back\\slash",
            "Wait...what?!\"Really\"?!(No.)[Yes.]",
            "end .", ". start", ", comma ,", "a, b. c", "x., y", ".,.,.,", "''", "*_*_*",
            "He said: 'It's \"fine\".'", "!?!?!?", "a -b - - c --- d",
        ]
        return ScoreCase(name: "punctuation", hypotheses: hyps, references: [refs])
    }

    /// German umlauts, French accents, CJK, emoji (with ZWJ, skin tones, flags), combining marks
    /// (a decomposed é in the hypothesis against a precomposed one: different code points, so
    /// no match, as in Python), and letters whose lowercase is special (Σ, İ, ẞ, fullwidth Ａ).
    static var unicode: ScoreCase {
        let refs = [
            "Größe, Übermaß und Äpfel: Öl für Straßen.",
            "Où est l'élève ? À côté de la fenêtre, déjà.",
            "猫がマットの上に座った。我爱北京天安门！",
            "Emoji \u{1F600} test \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} family \u{1F44D}\u{1F3FD} and \u{1F1E9}\u{1F1EA} flag.",
            "caf\u{E9} na\u{EF}ve r\u{E9}sum\u{E9}",
            "ΟΔΟΣ ΣΟΦΙΑΣ Σ ΑΣ. \u{130}stanbul \u{1E9E}traße ＡＢＣ",
            "Zürich—Genève «Bahn» „Zug“ ‚klein‘",
            "한국어 문장입니다.",
        ]
        let hyps = [
            "Grösse, Übermass und Äpfel: Öl für Strassen.",
            "Où est l’élève? À cote de la fenetre, deja.",
            "猫がマットに座った。我爱北京！",
            "Emoji \u{1F600} test \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F466} family \u{1F44D} and \u{1F1E9}\u{1F1EA} flag .",
            "cafe\u{301} nai\u{308}ve r\u{E9}sum\u{E9}",
            "οδος σοφιας σ ας. i\u{307}stanbul ßtraße ａｂｃ",
            "Zürich-Genève \"Bahn\" \"Zug\" klein",
            "한국어 문장 입니다.",
        ]
        return ScoreCase(name: "unicode", hypotheses: hyps, references: [refs])
    }

    static var oneWord: ScoreCase {
        ScoreCase(
            name: "one_word",
            hypotheses: ["Yes.", "no", "Maybe", "1,000", "OK!", "ja", "(hi)", "über", "-", "x"],
            references: [["Yes.", "No", "maybe", "1,000", "OK", "ja", "hi", "Über", "-", "y"]])
    }

    /// Thousands of tokens a line, with ~15% of the words changed, dropped or doubled.
    static func longLines() -> ScoreCase {
        var rng = SeededGenerator(seed: 2024)
        let vocabulary = (0..<60).map { "w\($0)" } + [",", ".", "the", "a", "of", "1,000.5", "(x)", "don't", "&amp;"]
        var hyps: [String] = [], refs: [String] = []
        for line in 0..<5 {
            let length = 2000 + 600 * line
            let ref = (0..<length).map { _ in rng.pick(vocabulary) }
            var hyp: [String] = []
            for word in ref {
                let r = rng.below(100)
                if r < 5 { continue }
                if r < 10 {
                    hyp.append(rng.pick(vocabulary))
                    continue
                }
                hyp.append(word)
                if r < 15 { hyp.append(word) }
            }
            refs.append(ref.joined(separator: " "))
            hyps.append(hyp.joined(separator: " "))
        }
        return ScoreCase(name: "long_lines", hypotheses: hyps, references: [refs])
    }

    static var numbers: ScoreCase {
        let refs = [
            "It weighs 1,000.5 kg, not 1.000,5 kg.", "Call 555-1234 or +49 (0)30 123-456.",
            "Scores: 3.14, 2.71 and 1.41.", "In 2020. Then 2021.", "from 5-3 to 10-12",
            "$5, 5%, -5, .5, 5., ,5", "1,2,3 and 4.5.6", "version 2.6.0-beta", "10:30 on 2024-01-01",
        ]
        let hyps = [
            "It weighs 1,000.5 kg , not 1.000,5kg.", "Call 555 - 1234 or +49 ( 0 ) 30 123-456 .",
            "Scores: 3.14 , 2.71 and 1.41 .", "In 2020 . Then 2021.", "from 5 - 3 to 10-12",
            "$ 5, 5 %, -5, . 5, 5 ., , 5", "1, 2, 3 and 4.5.6", "version 2.6.0 - beta", "10 : 30 on 2024 - 01 - 01",
        ]
        return ScoreCase(name: "numbers", hypotheses: hyps, references: [refs])
    }

    /// HTML entities (13a unescapes &quot; &amp; &lt; &gt; in that order), `<skipped>`, and
    /// hyphenation.
    static var entitiesAndHyphens: ScoreCase {
        let refs = [
            "Tom &amp; Jerry said &quot;hi&quot; &lt;b&gt;", "AT&T &amp;quot; &amp;lt; &apos; &#39; &nbsp;",
            "a <skipped> b<skipped>c", "state-of-the-art e-mail well-known", "-- - --- -a a- -a-",
            "x &amp y &quot z &", "&lt;&gt;&amp;&quot;",
        ]
        let hyps = [
            "Tom & Jerry said \"hi\" <b>", "AT&T &quot; &lt; ' ' &nbsp;",
            "a b c", "state of the art email well-known", "- - - - -a a - - a -",
            "x & y \" z &amp;", "<>&\"",
        ]
        return ScoreCase(name: "entities_hyphens", hypotheses: hyps, references: [refs])
    }

    /// Three reference streams of different lengths (closest length, shorter on ties), one
    /// reference line empty.
    static var multipleReferences: ScoreCase {
        let hyps = ["the cat is on the mat", "a b c d e", "there is a dog in the garden", "hello world", "one"]
        let r1 = ["the cat is on a mat", "a b c d", "a dog is in the garden", "hello", "one two three"]
        let r2 = ["there is a cat on the mat", "a b c d e f", "there is a dog in the garden today", "hello there world", ""]
        let r3 = ["a cat sits on the mat", "b c d e", "the dog is in the garden", "", "one"]
        return ScoreCase(name: "multi_ref", hypotheses: hyps, references: [r1, r2, r3])
    }

    static var casing: ScoreCase {
        ScoreCase(
            name: "casing",
            hypotheses: ["The THE the tHe", "HELLO World", "McDonald's IPHONE", "ÉCOLE Öffentlich"],
            references: [["the the the the", "hello world", "mcdonald's iPhone", "école öffentlich"]])
    }

    /// Unicode punctuation and symbols that only the intl tokenizer splits.
    static var internationalPunctuation: ScoreCase {
        let refs = [
            "„Ja“, sagte er – «oui» — 「はい」。", "¡Hola! ¿Qué tal?", "Price: 1.000,5€ or £3 or ¥100.",
            "© 2024 Foo™ ± 5° × 3 ÷ 2 § 4 ¶ • item", "x→y ≤ z ∑ ∞ √2 ½ ² ³", "end in 2020.", "a…b‽c⁉",
        ]
        let hyps = [
            "\"Ja\", sagte er - \"oui\" - 「はい」.", "Hola! Que tal?", "Price : 1.000,5 € or £ 3 or ¥ 100 .",
            "(c) 2024 Foo ™ +- 5 ° x 3 / 2 § 4 ¶ item", "x -> y <= z ∑ ∞ √ 2 ½ 2 3", "end in 2020 .", "a... b ‽c ⁉",
        ]
        return ScoreCase(name: "intl_punct", hypotheses: hyps, references: [refs])
    }

    /// Whitespace Python's split() knows (tab, NBSP, ideographic space, U+2028, U+001C, U+0085)
    /// and characters it does not (zero-width space U+200B, U+180E).
    static var whitespace: ScoreCase {
        let refs = [
            "a\tb  c", "d\u{00A0}e\u{3000}f", "g\u{2028}h\u{001C}i\u{0085}j", "  leading and trailing  ",
            "zero\u{200B}width", "mongolian\u{180E}vowel", "thin\u{2009}space\u{202F}narrow",
        ]
        let hyps = [
            "a b c", "d e f", "g h i j", "leading and trailing",
            "zero width", "mongolian vowel", "thin\u{2009}space narrow",
        ]
        return ScoreCase(name: "whitespace", hypotheses: hyps, references: [refs])
    }

    /// Already tokenized text, what "tokenized BLEU" is for.
    static var pretokenized: ScoreCase {
        let refs = [
            "the cat sat on the mat .", "a man , a plan , a canal : panama .", "it 's 5 @-@ 3 .",
            "he said \" yes \" .", "two people are walking down the street .",
        ]
        let hyps = [
            "the cat sat on a mat .", "a man , a plan , a canal panama .", "it is 5 @-@ 3 .",
            "he said \" no \" .", "two persons walk down the street .",
        ]
        return ScoreCase(name: "pretokenized", hypotheses: hyps, references: [refs])
    }

    /// Real data: the first 300 German references of Multi30k test 2016, and a deterministic
    /// corruption of them (words dropped, swapped, replaced) as hypotheses.
    static func multi30k() throws -> ScoreCase {
        let path = sharedDataDirectory.appendingPathComponent("multi30k/test_2016_flickr.de.gz").path
        let refs = Array(try TextFile(path: path).lines.prefix(300))
        var rng = SeededGenerator(seed: 30_000)
        let allWords = refs.flatMap { $0.split(separator: " ").map(String.init) }
        let hyps = refs.map { line -> String in
            var words = line.split(separator: " ").map(String.init)
            var i = 0
            while i < words.count {
                let r = rng.below(100)
                if r < 8 && words.count > 1 {
                    words.remove(at: i)
                    continue
                }
                if r < 16 && i + 1 < words.count {
                    words.swapAt(i, i + 1)
                } else if r < 20 {
                    words[i] = rng.pick(allWords)
                }
                i += 1
            }
            return words.joined(separator: " ")
        }
        return ScoreCase(name: "multi30k", hypotheses: hyps, references: [refs])
    }
}
