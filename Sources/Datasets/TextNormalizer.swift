import Foundation

/// The one text normalization of the data stage: Unicode NFC, then whitespace normalization
/// (every run of Unicode white space becomes one ASCII space; none at either end).
///
/// SentencePiece is trained with its `identity` normalization rule, so this is the only
/// normalization applied: `vocabulary.decode(vocabulary.encode(x)) == TextNormalizer.normalize(x)`
/// for every training line (SentencePiece's default NFKC would otherwise change some
/// characters, and its output could not be compared with the normalized references).
public enum TextNormalizer {
    /// Returns `text` in NFC with whitespace normalized.
    ///
    /// ```swift
    /// TextNormalizer.normalize("  Cafe\u{301}\t au  lait ")  // "Café au lait"
    /// ```
    public static func normalize(_ text: String) -> String {
        var out = String()
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        // Fast path: ASCII needs no NFC work.
        let nfc = text.utf8.allSatisfy({ $0 < 0x80 }) ? text : text.precomposedStringWithCanonicalMapping
        for scalar in nfc.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.unicodeScalars.append(" ")
                pendingSpace = false
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
