/// A faked `uname`, as PRoot's `-k` takes it: either a plain release (`3.2.0`: only the
/// release changes), or the full form `\sysname\nodename\release\version\machine\domainname\hwcap\`
/// (every field replaced, as given; `hwcap` in hexadecimal becomes AT_HWCAP of each program
/// started). Fields longer than 64 bytes are cut, as the kernel's 65-byte fields require.
public struct FakeUname: Equatable, Sendable {
    /// The six fields of `struct utsname` in kernel order; nil keeps the real one.
    public var fields: [String?]
    /// AT_HWCAP in the auxiliary vector of programs started (full form only).
    public var hwcap: UInt64?

    public static let fieldNames = ["sysname", "nodename", "release", "version", "machine", "domainname"]
    public static let fieldLength = 65

    public var release: String { fields[2] ?? "" }

    public init(release: String) {
        fields = [nil, nil, String(decoding: Array(release.utf8.prefix(Self.fieldLength - 1)), as: UTF8.self), nil, nil, nil]
        hwcap = nil
    }

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses either form. The plain form must be 1 to 64 bytes; the full form needs its
    /// seven fields, each ended by `\`, and a hexadecimal hwcap.
    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("\\") else {
            guard !text.isEmpty, text.utf8.count <= Self.fieldLength - 1 else {
                throw ParseError(message: "the release must be 1 to 64 bytes long")
            }
            self.init(release: text)
            return
        }
        let parts = text.dropFirst().split(separator: "\\", omittingEmptySubsequences: false)
        // Seven fields, each followed by `\` (whatever follows the last one is ignored, as PRoot does).
        guard parts.count >= 8 else {
            let missing = parts.count - 1 < 6 ? FakeUname.fieldNames[max(0, parts.count - 1)] : "hwcap"
            throw ParseError(message: "can't find the \(missing) field in '\(text)' (the form is \\sysname\\nodename\\release\\version\\machine\\domainname\\hwcap\\)")
        }
        let given: [String?] = parts.prefix(6).map { String(decoding: Array($0.utf8.prefix(FakeUname.fieldLength - 1)), as: UTF8.self) }
        var hex = Substring(parts[6])
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex = hex.dropFirst(2) }
        guard let value = UInt64(hex, radix: 16) else {
            throw ParseError(message: "the hwcap field '\(parts[6])' is not a hexadecimal number")
        }
        self.init(release: "")
        fields = given
        hwcap = value
    }

    /// A release's version as the kernel's KERNEL_VERSION(a, b, c) (what PRoot's kompat
    /// compares): the leading numbers of `a.b.c...`; nil when it does not start with one.
    public static func versionCode(_ release: String) -> Int? {
        var numbers: [Int] = []
        for part in release.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).prefix(3) {
            guard let n = Int(part.prefix { $0.isASCII && $0.isNumber }) else { break }
            numbers.append(n)
        }
        guard !numbers.isEmpty else { return nil }
        while numbers.count < 3 { numbers.append(0) }
        return numbers[0] << 16 + numbers[1] << 8 + min(numbers[2], 255)
    }

    /// Overwrites the fields it sets in a `struct utsname` (6 × 65 bytes, NUL-padded).
    public func apply(toUtsname bytes: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            guard let field else { continue }
            let start = i * Self.fieldLength
            guard bytes.count >= start + Self.fieldLength else { return }
            let text = Array(field.utf8.prefix(Self.fieldLength - 1))
            for j in 0..<Self.fieldLength { bytes[start + j] = j < text.count ? text[j] : 0 }
        }
    }
}


