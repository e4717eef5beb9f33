/// Helpers shared by the ports of Python text code: code-point buffers and Python's whitespace.
enum PythonText {
    /// The code points of `text`.
    @inline(__always)
    static func scalars(_ text: String, into buffer: inout [UInt32]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { buffer.append(s.value) }
    }

    /// A String from code points (all valid scalars: they came from Strings or literals).
    static func string<C: Collection>(_ scalars: C) -> String where C.Element == UInt32 {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(scalars.count + 8)
        for c in scalars { appendUTF8(c, to: &utf8) }
        return String(decoding: utf8, as: UTF8.self)
    }

    @inline(__always)
    static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        if c < 0x80 {
            out.append(UInt8(c))
        } else if c < 0x800 {
            out.append(UInt8(0xC0 | (c >> 6)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else if c < 0x10000 {
            out.append(UInt8(0xE0 | (c >> 12)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (c >> 18)))
            out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }

    /// The code points of an ASCII literal.
    static func ascii(_ s: StaticString) -> [UInt32] {
        var out: [UInt32] = []
        s.withUTF8Buffer { for b in $0 { out.append(UInt32(b)) } }
        return out
    }

    /// Python's `str.isspace` for one code point.
    @inline(__always)
    static func isPythonWhitespace(_ c: UInt32) -> Bool {
        // The common case without the table: ASCII space and control whitespace.
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) }
        return MosesCharacterTable.shared.isIn(c, .whitespace)
    }

    /// Python's `s.split()` (runs of Unicode whitespace, no empty pieces), as strings.
    static func pythonSplit(_ s: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if isPythonWhitespace(scalar.value) {
                if !current.isEmpty {
                    out.append(String(current))
                    current = String.UnicodeScalarView()
                }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    /// Python's `s.rstrip()` (trailing Unicode whitespace).
    static func pythonRStrip(_ s: String) -> String {
        var view = s.unicodeScalars
        while let last = view.last, isPythonWhitespace(last.value) { view.removeLast() }
        return String(view)
    }
}
