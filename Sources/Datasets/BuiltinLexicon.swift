/// The built-in corpus's lexicon: fixed English words (all with regular inflection), target
/// words and noun genders drawn from the seed.
extension BuiltinCorpus {
    struct Lexicon: Sendable {
        var nouns: [Noun]
        var animateNouns: [Noun]
        var adjectives: [Adjective]
        var transitiveVerbs: [Verb]
        var intransitiveVerbs: [Verb]

        static let animateEnglish = """
            dog cat bird horse cow pig duck rabbit fox bear lion tiger monkey girl boy teacher farmer doctor \
            student friend king queen cook baker singer dancer driver painter sailor soldier nurse pilot artist \
            writer player neighbor brother sister mother father uncle aunt baby lady actor tourist guard judge clown
            """.split(separator: " ").map(String.init)
        static let inanimateEnglish = """
            apple book ball box house car tree flower door window table chair cup letter song picture key bag hat \
            shoe coat river garden street bridge boat train bottle glass dress bench lamp clock bed bowl basket \
            cake egg pencil map ticket gift stone road shop park school kitchen field forest city church beach village
            """.split(separator: " ").map(String.init)
        static let adjectivesEnglish = """
            big small old young red blue green yellow black white happy sad tall short quiet loud clever brave kind \
            angry hungry tired rich poor strong weak fast slow new dirty clean beautiful ugly funny lazy busy famous \
            strange warm cold
            """.split(separator: " ").map(String.init)
        static let transitiveEnglish = """
            watch follow help like love call visit paint push pull kick chase greet carry clean open wash fix need \
            want hate touch kiss miss pass thank answer remember protect count fill join lift reach search trust \
            warn fetch enjoy ignore admire study order collect deliver describe invite notice
            """.split(separator: " ").map(String.init)
        static let intransitiveEnglish = """
            walk jump laugh dance smile cry wait work play arrive rest shout listen travel cough yawn sneeze \
            whisper hurry relax return climb
            """.split(separator: " ").map(String.init)

        /// Function words of the target language, which no generated word may equal.
        static let reserved: Set<String> = {
            var words: Set<String> = ["non", "e"]
            for p in BuiltinCorpus.pronouns { words.insert(p.target) }
            for p in BuiltinCorpus.prepositions { words.insert(p.target) }
            for d in BuiltinCorpus.determiners { for e in ["o", "a", "i", "e"] { words.insert(d.target + e) } }
            return words
        }()

        init(rng: inout SeededGenerator) {
            var used = Self.reserved
            func word(syllables: Int, closed: Bool) -> String {
                let consonants = Array("bdfgklmnprstvz"), vowels = Array("aeiou"), finals = Array("lmnrs")
                while true {
                    var w = ""
                    for _ in 0..<syllables {
                        w.append(rng.pick(consonants))
                        w.append(rng.pick(vowels))
                    }
                    if closed { w.append(rng.pick(finals)) }
                    // Every inflected form must stay distinct from function words too.
                    if used.insert(w).inserted { return w }
                }
            }
            let animate = Self.animateEnglish.map { english in
                Noun(
                    english: english, target: word(syllables: 2 + rng.below(2), closed: rng.chance(0.5)),
                    gender: rng.chance(0.5) ? .masculine : .feminine, animate: true)
            }
            let inanimate = Self.inanimateEnglish.map { english in
                Noun(
                    english: english, target: word(syllables: 2 + rng.below(2), closed: rng.chance(0.5)),
                    gender: rng.chance(0.5) ? .masculine : .feminine, animate: false)
            }
            nouns = animate + inanimate
            animateNouns = animate
            // Adjective and verb stems end in a consonant: the endings add the vowel.
            adjectives = Self.adjectivesEnglish.map { Adjective(english: $0, target: word(syllables: 1 + rng.below(2), closed: true)) }
            transitiveVerbs = Self.transitiveEnglish.map { Verb(english: $0, target: word(syllables: 1 + rng.below(2), closed: true), transitive: true) }
            intransitiveVerbs = Self.intransitiveEnglish.map { Verb(english: $0, target: word(syllables: 1 + rng.below(2), closed: true), transitive: false) }
        }
    }
}
