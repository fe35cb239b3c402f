import BurrowSandbox

/// Pieces the compatibility front-ends share: help rows and chroot-style paths.
enum HelpText {
    /// Every line of every `--help` fits a terminal of this many columns.
    static let width = 80

    /// `  --option ARG                  What it does`, the help column at 32 as in burrow's;
    /// the help wraps at `width`, its further lines in the same column.
    static func row(_ left: String, _ help: String, column: Int = 32) -> String {
        let left = "  " + left
        let indent = String(repeating: " ", count: column)
        let pad = left.count < column ? String(repeating: " ", count: column - left.count) : "\n" + indent
        return left + pad + wrap(help, columns: width - column).joined(separator: "\n" + indent) + "\n"
    }

    /// `text` broken at spaces into lines of at most `columns` characters (a word longer
    /// than that stays whole, on a line of its own).
    static func wrap(_ text: String, columns: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= columns {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
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
