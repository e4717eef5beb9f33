import Foundation
import Testing

@testable import Datasets

@Suite("Text: normalization, reading, checksums")
struct TextTests {
    @Test func normalizationComposesAndCollapsesWhitespace() {
        #expect(TextNormalizer.normalize("  Cafe\u{301}\t au \u{00A0} lait \r") == "Café au lait")
        #expect(TextNormalizer.normalize("a\u{3000}b\u{2009}c") == "a b c")
        #expect(TextNormalizer.normalize(" \t ") == "")
        #expect(TextNormalizer.normalize("plain ASCII stays") == "plain ASCII stays")
        // NFC, not NFKC: compatibility characters are kept.
        #expect(TextNormalizer.normalize("ﬁ ①") == "ﬁ ①")
        let composed = TextNormalizer.normalize("U\u{308}ber")
        #expect(composed == "Über" && composed.unicodeScalars.count == 4)
    }

    @Test func sha256MatchesStandardVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        for _ in 0..<1000 { h.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func readsPlainTextWithCRLFAndBOM() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try DataTestSupport.write(bytes: [0xEF, 0xBB, 0xBF] + Array("one\r\ntwo\n\nfour".utf8), to: dir, "a.txt")
        #expect(try TextFile(path: path).lines == ["one", "two", "", "four"])
        let trailing = try DataTestSupport.write(["x", "y"], to: dir, "b.txt")
        #expect(try TextFile(path: trailing).lines == ["x", "y"])
    }

    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func readsGzipLikeItsPlainText() throws {
        let gz = try TextFile(path: DataTestSupport.multi30kDirectory + "/val.de.gz")
        #expect(gz.lines.count == 1014)
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try TextFile(path: try DataTestSupport.write(gz.lines, to: dir, "val.de"))
        #expect(plain.lines == gz.lines)
        #expect(plain.sha256 != gz.sha256)  // checksums are of the stored bytes
    }

    @Test func invalidUTF8NamesFileAndLine() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try DataTestSupport.write(bytes: Array("good\nalso good\n".utf8) + [0x62, 0xC3, 0x28, 0x0A] + Array("fine\n".utf8), to: dir, "bad.txt")
        #expect(throws: DataError.invalidUTF8(path: path, line: 3)) { try TextFile(path: path) }
        let message = DataError.invalidUTF8(path: path, line: 3).description
        #expect(message.contains(path) && message.contains("line 3"))
    }

    @Test func missingAndUnreadableFilesAreNamed() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.en.gz").path
        #expect(throws: DataError.missingFile(path: missing)) { try TextFile(path: missing) }
        do {
            _ = try TextFile(path: dir.path)
            Issue.record("reading a folder must fail")
        } catch let error as DataError {
            #expect(error.description.contains(dir.path))
        }
    }

    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func truncatedGzipIsUnreadableNotSilentlyShort() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: DataTestSupport.multi30kDirectory + "/val.en.gz"))
        let path = try DataTestSupport.write(bytes: Array(whole.prefix(whole.count / 2)), to: dir, "cut.en.gz")
        do {
            _ = try TextFile(path: path)
            Issue.record("a truncated gzip must fail")
        } catch let error as DataError {
            guard case .unreadableFile(let p, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(p == path)
        }
    }
}
