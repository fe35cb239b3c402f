import BurrowSpec

/// Pieces the compatibility front-ends share: help rows and chroot-style paths.
enum HelpText {
    /// `  --option ARG                  What it does`, the help column at 32 as in burrow's.
    static func row(_ left: String, _ help: String) -> String {
        let left = "  " + left
        let pad = left.count < 32 ? String(repeating: " ", count: 32 - left.count) : "\n" + String(repeating: " ", count: 32)
        return left + pad + help + "\n"
    }
}

extension GuestPath {
    /// A path inside the chroot as the chroot tools take it: absolute, or relative to the
    /// new root (they prepend ROOTDIR/target to whatever they are given).
    static func insideRoot(_ text: String, option: String) throws(UsageError) -> GuestPath {
        guard !text.isEmpty else { throw UsageError("\(option): the path is empty") }
        return try destination(text.startsWithSlash ? text : "/" + text, option: option)
    }
}

extension String {
    /// Whether the first byte is `/`, as the kernel sees an absolute path (`hasPrefix("/")`
    /// compares Characters: `/` followed by a combining mark would not count).
    var startsWithSlash: Bool { utf8.first == UInt8(ascii: "/") }
}
