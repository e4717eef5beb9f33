import Foundation
import Testing

@testable import Datasets

@Suite("Built-in corpus: English → Synthetic")
struct BuiltinCorpusTests {
    @Test func deterministicFromTheSeedWithDisjointSplits() {
        let a = BuiltinCorpus(seed: 11).splits(train: 2000, valid: 200, test: 200)
        let b = BuiltinCorpus(seed: 11).splits(train: 2000, valid: 200, test: 200)
        let c = BuiltinCorpus(seed: 12).splits(train: 2000, valid: 200, test: 200)
        #expect(a.map(\.pairs) == b.map(\.pairs))
        #expect(a[0].pairs != c[0].pairs)
        #expect(a.map(\.name) == ["train", "valid", "test"] && a.map(\.pairs.count) == [2000, 200, 200])
        let sources = a.flatMap { $0.pairs.map(\.source) }
        #expect(Set(sources).count == sources.count, "no sentence repeats, none of valid/test is in train")
        // Another seed is another language: different target words for the same English noun.
        let da = BuiltinCorpus(seed: 11).lexicon.nouns.map(\.target), dc = BuiltinCorpus(seed: 12).lexicon.nouns.map(\.target)
        #expect(da != dc)
    }

    @Test func englishInflectionIsRight() {
        #expect(BuiltinCorpus.englishSuffixS("watch") == "watches" && BuiltinCorpus.englishSuffixS("carry") == "carries")
        #expect(BuiltinCorpus.englishSuffixS("play") == "plays" && BuiltinCorpus.englishSuffixS("box") == "boxes")
        #expect(BuiltinCorpus.englishPast("like") == "liked" && BuiltinCorpus.englishPast("study") == "studied")
        #expect(BuiltinCorpus.englishPast("enjoy") == "enjoyed" && BuiltinCorpus.englishPast("visit") == "visited")
        let text = BuiltinCorpus(seed: 2).splits(train: 3000, valid: 0, test: 0)[0].pairs.map(\.source).joined(separator: " ")
        #expect(!text.contains(" a a") && !text.contains(" a e") && !text.contains(" a o") && !text.contains("A a"))
        #expect(text.contains(" an "))
    }

    /// Parses target sentences with the lexicon and checks the grammar the model has to learn.
    @Test func targetHasAgreementAndVerbFinalOrder() {
        let corpus = BuiltinCorpus(seed: 4)
        let lex = corpus.lexicon
        var nounForms: [String: (BuiltinCorpus.Gender, Bool)] = [:]
        for n in lex.nouns {
            nounForms[n.target] = (n.gender, false)
            nounForms[n.targetPlural] = (n.gender, true)
        }
        let determinerStems = Set(BuiltinCorpus.determiners.map(\.target))
        let adjectiveStems = Set(lex.adjectives.map(\.target))
        let verbStems = Set((lex.transitiveVerbs + lex.intransitiveVerbs).map(\.target))
        let pronounPerson = Dictionary(uniqueKeysWithValues: BuiltinCorpus.pronouns.map { ($0.target, ($0.person, $0.plural)) })
        func isVerb(_ word: String) -> Bool {
            for past in [false, true] {
                for (person, plural) in [(BuiltinCorpus.Person.first, false), (.second, false), (.third, false), (.first, true), (.third, true)] {
                    let ending = BuiltinCorpus.verbEnding(person, plural: plural, past: past)
                    if word.hasSuffix(ending), verbStems.contains(String(word.dropLast(ending.count))) { return true }
                }
            }
            return false
        }
        var checkedPhrases = 0, checkedPronouns = 0
        for pair in corpus.splits(train: 1500, valid: 0, test: 0)[0].pairs {
            #expect(pair.target.hasSuffix(".") && pair.target.first!.isUppercase)
            let text = pair.target.dropLast().lowercased()
            for clause in text.components(separatedBy: " e ") {
                let words = clause.split(separator: " ").map(String.init)
                // Verb-final clause; the verb appears nowhere else.
                #expect(isVerb(words.last!), "clause must end with its verb: \(clause)")
                // Determiner + noun + adjectives agree in gender and number.
                for (i, w) in words.enumerated() where i + 1 < words.count {
                    guard determinerStems.contains(String(w.dropLast())), let (gender, plural) = nounForms[words[i + 1]] else { continue }
                    let ending = BuiltinCorpus.ending(gender, plural: plural)
                    #expect(w.hasSuffix(ending), "determiner \(w) agrees with \(words[i + 1]) in \(clause)")
                    var k = i + 2
                    while k < words.count, adjectiveStems.contains(String(words[k].dropLast())) {
                        #expect(words[k].hasSuffix(ending), "adjective \(words[k]) agrees with \(words[i + 1]) in \(clause)")
                        k += 1
                    }
                    checkedPhrases += 1
                }
                // Subject pronoun ↔ verb ending.
                if let (person, plural) = pronounPerson[words[0]] {
                    let verb = words.last!
                    let present = BuiltinCorpus.verbEnding(person, plural: plural, past: false)
                    #expect(verb.hasSuffix(present), "\(words[0]) … \(verb)")
                    checkedPronouns += 1
                }
            }
        }
        #expect(checkedPhrases > 2000 && checkedPronouns > 200)
    }

    @Test func englishVerbComesBeforeItsObject() {
        // In English the verb follows the subject; the clause never ends with a verb form that takes an object.
        let corpus = BuiltinCorpus(seed: 4)
        let transitive = Set(corpus.lexicon.transitiveVerbs.flatMap { [$0.english, $0.english3sg, $0.englishPast] })
        for pair in corpus.splits(train: 500, valid: 0, test: 0)[0].pairs {
            let words = pair.source.dropLast().split(separator: " ").map(String.init)
            #expect(!transitive.contains(words.last!), "\(pair.source)")
        }
    }

    @Test func preparesWithItsDefaultVocabularyAndRoundTrips() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("out").path
        let manifest = try BuiltinCorpus(seed: 1).prepare(output: output).manifest
        #expect(manifest.sourceLanguage == "en" && manifest.targetLanguage == "syn")
        #expect(manifest.vocabulary.sourceSize == 1000 && manifest.vocabulary.shared)
        let train = manifest.split("train")!
        #expect(train.sentences == 10_000 && train.removed.total == 0 && train.sourceUnknownTokens == 0)
        // Short sentences: a tiny model's batches stay small.
        #expect(train.sourceLength.mean < 16 && train.targetLength.mean < 16 && train.targetLength.max < 64)
        let data = try PreparedDataset(directory: output)
        let valid = try data.split("valid"), lines = try data.targetText("valid")
        for i in 0..<valid.count { #expect(data.targetVocabulary.decode(valid.target(i)) == lines[i]) }
        // Generating the same text again changes nothing: the preparation is up to date.
        #expect(try BuiltinCorpus(seed: 1).prepare(output: output).upToDate)
        #expect(FileManager.default.fileExists(atPath: output + "-text/train.syn"))
    }
}
