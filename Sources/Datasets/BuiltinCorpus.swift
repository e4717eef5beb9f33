import Foundation

/// The built-in translation task: English → "Synthetic" (language code `syn`), a made-up
/// language whose content words are drawn from a seed. Small enough for a tiny model to master
/// on 2 CPU cores in minutes; real enough that it must learn structure, not copy:
///
/// - word order: English SVO becomes SOV — the verb moves to the end of its clause, after the
///   object and any prepositional phrase ("the dog watches a cat in the garden" →
///   "lo bakor una tilum en lo gardun dorgit");
/// - adjectives follow the noun, in the same order ("a big red ball" → "uno palim grando rosso");
/// - agreement: every noun has a gender (m/f, from the seed) that English does not show; the
///   determiner and each adjective take the ending of the noun's gender and number
///   (m.sg -o, f.sg -a, m.pl -i, f.pl -e), so the model must learn each noun's gender;
/// - the verb agrees with the subject in person and number and marks tense
///   (stem + "av" in the past + -i/-is/-it/-imus/-int for I/you/he-she-it/we/they);
/// - negation ("does not", "do not", "did not") becomes "non" before the verb;
/// - plural nouns add -en (-n after a vowel); clauses join with "e" for "and".
///
/// English is real English with a regular lexicon (about 100 nouns, 40 adjectives, 70 verbs,
/// correct -s/-es/-ies and -ed/-d/-ied forms, a/an). Everything is a function of the seed:
/// the target lexicon, the genders and the sentences (`SeededGenerator`), so a seed names a corpus.
public struct BuiltinCorpus: Sendable {
    public static let sourceLanguage = "en"
    public static let targetLanguage = "syn"
    /// The vocabulary size that suits the corpus (joint BPE).
    public static let defaultVocabularySize = 1000

    public let seed: UInt64
    let lexicon: Lexicon

    public init(seed: UInt64 = 1) {
        self.seed = seed
        var rng = SeededGenerator(seed: seed, stream: 0x1e71c0)
        lexicon = Lexicon(rng: &rng)
    }

    /// A sentence pair.
    public struct Pair: Sendable, Equatable {
        public var source: String
        public var target: String
    }

    /// `train`, `valid` and `test` pairs with pairwise distinct source sentences (no test
    /// sentence is seen in training), the same for the same seed.
    public func splits(train: Int, valid: Int, test: Int) -> [(name: String, pairs: [Pair])] {
        var rng = SeededGenerator(seed: seed, stream: 0x5e47e4ce)
        var seen = Set<String>()
        func make(_ count: Int) -> [Pair] {
            var pairs: [Pair] = []
            pairs.reserveCapacity(count)
            var attempts = 0
            while pairs.count < count {
                attempts += 1
                precondition(attempts < 100 * count + 1000, "the built-in grammar cannot produce \(count) distinct sentences")
                let p = sentence(rng: &rng)
                if seen.insert(p.source).inserted { pairs.append(p) }
            }
            return pairs
        }
        return [("train", make(train)), ("valid", make(valid)), ("test", make(test))]
    }

    /// Writes the splits as plain text, one sentence per line (`train.en`, `train.syn`, ...), into
    /// `directory` (atomically), and returns the files for `DatasetPreparation`.
    public func writeText(to directory: String, train: Int, valid: Int, test: Int) throws -> [DatasetPreparation.SplitFiles] {
        // Replaced only when it holds nothing but the text files this writes.
        let ours = Set(["train", "valid", "test"].flatMap { ["\($0).\(Self.sourceLanguage)", "\($0).\(Self.targetLanguage)"] })
        let folder = try AtomicDirectory(destination: URL(fileURLWithPath: directory)) { existing in
            ((try? FileManager.default.contentsOfDirectory(atPath: existing.path)) ?? []).allSatisfy(ours.contains)
        }
        var files: [DatasetPreparation.SplitFiles] = []
        do {
            for (name, pairs) in splits(train: train, valid: valid, test: test) where !pairs.isEmpty {
                let s = "\(name).\(Self.sourceLanguage)", t = "\(name).\(Self.targetLanguage)"
                try AtomicFile.write(pairs.map { $0.source + "\n" }.joined(), to: folder.path(s))
                try AtomicFile.write(pairs.map { $0.target + "\n" }.joined(), to: folder.path(t))
                files.append(
                    .init(
                        name: name, source: folder.destination.appendingPathComponent(s).path,
                        target: folder.destination.appendingPathComponent(t).path))
            }
            try folder.commit()
        } catch {
            folder.discard()
            throw error
        }
        return files
    }

    /// Generates the corpus as text next to `output` (in `textDirectory`, default `OUTPUT-text`)
    /// and prepares it into `output` with a joint BPE vocabulary of `vocabularySize` pieces: what
    /// `hat data builtin` does, for code (the demo, tests) that wants the dataset without the CLI.
    /// A rerun with the same arguments finds the work done.
    @discardableResult
    public func prepare(
        output: String, textDirectory: String? = nil, train: Int = 10_000, valid: Int = 500, test: Int = 500,
        vocabularySize: Int = defaultVocabularySize, log: (String) -> Void = { _ in }
    ) throws -> DatasetPreparation.Report {
        let files = try writeText(to: textDirectory ?? output + "-text", train: train, valid: valid, test: test)
        var prep = DatasetPreparation(splits: files, sourceLanguage: Self.sourceLanguage, targetLanguage: Self.targetLanguage, output: output)
        prep.vocabulary.vocabularySize = vocabularySize
        prep.createdBy = "hat data builtin --corpus-seed \(seed)"
        return try prep.run(log: log)
    }

    // MARK: - Grammar

    enum Gender: Sendable { case masculine, feminine }
    enum Person: Int, Sendable { case first = 0, second, third }

    struct Noun: Sendable {
        var english: String
        var target: String
        var gender: Gender
        var animate: Bool
        var englishPlural: String { BuiltinCorpus.englishSuffixS(english) }
        var targetPlural: String { target + ("aeiou".contains(target.last!) ? "n" : "en") }
    }

    struct Adjective: Sendable {
        var english: String
        var target: String
    }

    struct Verb: Sendable {
        var english: String
        var target: String
        var transitive: Bool
        var english3sg: String { BuiltinCorpus.englishSuffixS(english) }
        var englishPast: String { BuiltinCorpus.englishPast(english) }
    }

    /// English determiners and the target stem they map to (the stem takes the agreement ending).
    struct Determiner: Sendable {
        var singular: String?  // nil: not used with singular nouns
        var plural: String?  // nil: not used with plural nouns
        var target: String
    }

    static let determiners: [Determiner] = [
        .init(singular: "the", plural: "the", target: "l"),
        .init(singular: "a", plural: "some", target: "un"),
        .init(singular: "this", plural: "these", target: "kest"),
        .init(singular: "that", plural: "those", target: "kell"),
        .init(singular: "my", plural: "my", target: "mi"),
        .init(singular: "our", plural: "our", target: "nostr"),
    ]

    /// Subject pronouns: English, target, person, plural.
    static let pronouns: [(english: String, target: String, person: Person, plural: Bool)] = [
        ("I", "jo", .first, false), ("you", "tu", .second, false), ("he", "eo", .third, false),
        ("she", "ea", .third, false), ("we", "nos", .first, true), ("they", "lor", .third, true),
    ]

    static let prepositions: [(english: String, target: String)] = [
        ("in", "en"), ("on", "sur"), ("near", "pres"), ("under", "sob"), ("behind", "tras"), ("with", "kon"),
    ]

    /// Agreement ending of determiners and adjectives.
    static func ending(_ gender: Gender, plural: Bool) -> String {
        switch (gender, plural) {
        case (.masculine, false): return "o"
        case (.feminine, false): return "a"
        case (.masculine, true): return "i"
        case (.feminine, true): return "e"
        }
    }

    /// Verb ending for person, number and tense: present -i -is -it -imus -int; past inserts "av".
    static func verbEnding(_ person: Person, plural: Bool, past: Bool) -> String {
        let personal: String
        switch (person, plural) {
        case (.first, false): personal = "i"
        case (.second, false): personal = "is"
        case (.third, false): personal = "it"
        case (.first, true): personal = "imus"
        case (.second, true): personal = "itis"
        case (.third, true): personal = "int"
        }
        return (past ? "av" : "") + personal
    }

    static func englishSuffixS(_ word: String) -> String {
        if word.hasSuffix("s") || word.hasSuffix("x") || word.hasSuffix("z") || word.hasSuffix("ch") || word.hasSuffix("sh") {
            return word + "es"
        }
        if word.hasSuffix("y"), let before = word.dropLast().last, !"aeiou".contains(before) {
            return word.dropLast() + "ies"
        }
        return word + "s"
    }

    static func englishPast(_ word: String) -> String {
        if word.hasSuffix("e") { return word + "d" }
        if word.hasSuffix("y"), let before = word.dropLast().last, !"aeiou".contains(before) {
            return word.dropLast() + "ied"
        }
        return word + "ed"
    }

    /// A noun phrase in both languages.
    private func nounPhrase(_ noun: Noun, plural: Bool, adjectiveCount: Int, rng: inout SeededGenerator) -> (english: [String], target: [String]) {
        let det = rng.pick(Self.determiners.filter { (plural ? $0.plural : $0.singular) != nil })
        var adjectives: [Adjective] = []
        while adjectives.count < adjectiveCount {
            let a = rng.pick(lexicon.adjectives)
            if !adjectives.contains(where: { $0.english == a.english }) { adjectives.append(a) }
        }
        let ending = Self.ending(noun.gender, plural: plural)
        let englishNoun = plural ? noun.englishPlural : noun.english
        var englishDet = plural ? det.plural! : det.singular!
        if englishDet == "a", let first = (adjectives.first?.english ?? englishNoun).first, "aeiou".contains(first) {
            englishDet = "an"
        }
        let english = [englishDet] + adjectives.map(\.english) + [englishNoun]
        let target = [det.target + ending, plural ? noun.targetPlural : noun.target] + adjectives.map { $0.target + ending }
        return (english, target)
    }

    private func adjectiveCount(_ rng: inout SeededGenerator, max: Int) -> Int {
        let r = rng.below(100)
        return min(max, r < 55 ? 0 : (r < 88 ? 1 : 2))
    }

    /// One clause: subject, verb (with tense and maybe negation), object, prepositional phrase.
    private func clause(rng: inout SeededGenerator) -> (english: [String], target: [String]) {
        var english: [String] = [], target: [String] = []
        // Subject.
        let person: Person, plural: Bool
        if rng.chance(0.25) {
            let p = rng.pick(Self.pronouns)
            english = [p.english]
            target = [p.target]
            person = p.person
            plural = p.plural
        } else {
            plural = rng.chance(0.4)
            let np = nounPhrase(rng.pick(lexicon.animateNouns), plural: plural, adjectiveCount: adjectiveCount(&rng, max: 2), rng: &rng)
            english = np.english
            target = np.target
            person = .third
        }
        // Verb.
        let verb = rng.chance(0.65) ? rng.pick(lexicon.transitiveVerbs) : rng.pick(lexicon.intransitiveVerbs)
        let past = rng.chance(0.5)
        let negated = rng.chance(0.15)
        let thirdSingular = person == .third && !plural
        if negated {
            english += [past ? "did" : (thirdSingular ? "does" : "do"), "not", verb.english]
        } else {
            english.append(past ? verb.englishPast : (thirdSingular ? verb.english3sg : verb.english))
        }
        let targetVerb = (negated ? ["non"] : []) + [verb.target + Self.verbEnding(person, plural: plural, past: past)]
        // Object, then an optional prepositional phrase; in the target both precede the verb.
        if verb.transitive {
            let np = nounPhrase(rng.pick(lexicon.nouns), plural: rng.chance(0.35), adjectiveCount: adjectiveCount(&rng, max: 2), rng: &rng)
            english += np.english
            target += np.target
        }
        if rng.chance(0.35) {
            let prep = rng.pick(Self.prepositions)
            let np = nounPhrase(rng.pick(lexicon.nouns), plural: rng.chance(0.25), adjectiveCount: adjectiveCount(&rng, max: 1), rng: &rng)
            english += [prep.english] + np.english
            target += [prep.target] + np.target
        }
        target += targetVerb
        return (english, target)
    }

    /// One sentence pair: a clause, or two joined by "and"; capitalized, with a final period.
    func sentence(rng: inout SeededGenerator) -> Pair {
        var (english, target) = clause(rng: &rng)
        if rng.chance(0.12) {
            let second = clause(rng: &rng)
            english += ["and"] + second.english
            target += ["e"] + second.target
        }
        func finish(_ words: [String]) -> String {
            let text = words.joined(separator: " ")
            return text.prefix(1).uppercased() + text.dropFirst() + "."
        }
        return Pair(source: finish(english), target: finish(target))
    }
}
