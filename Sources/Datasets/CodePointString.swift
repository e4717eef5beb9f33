/// A String compared and hashed by its code points, as Python compares `str`.
///
/// Swift's `String` equality is canonical equivalence ("é" == "e\u{301}"), so a dictionary
/// keyed by String would merge entries that Python, subword-nmt and fairseq keep apart (two
/// dictionary lines, two BPE symbols). Keys of the ported tables use this instead.
struct CodePointString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: CodePointString, b: CodePointString) -> Bool {
        a.string.utf8.elementsEqual(b.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
