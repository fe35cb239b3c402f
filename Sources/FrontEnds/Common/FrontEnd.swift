import BurrowSandbox

/// What a command line asks for. Front-ends only build values; they never touch the kernel.
public enum Invocation: Equatable, Sendable {
    case run(SandboxSpec)
    case help
    /// Print this on stdout and exit 0 (a help that names the binary as it was invoked).
    case text(String)
    case version
    /// `--engines`: say which engines this host allows, and why not.
    case engines
    /// burrow-oci: a runtime command (create, start, state, kill, delete, ...), which the
    /// executable carries out (Sources/burrow/OCIRuntime.swift).
    case oci(OCIInvocation)
}

/// A command-line mistake. `tool` names the front-end, so messages read like the tool's own.
/// The message is one line: control characters quoted from the input are escaped.
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = OneLine.escaping(message) }
    public var description: String { message }
}

/// Number parsing shared by the front-ends: decimal ids, octal modes, sizes with suffixes.
public enum Numbers {
    public static func id(_ text: String, option: String) throws(UsageError) -> UInt32 {
        guard let v = UInt32(text), v != UInt32.max else {
            throw UsageError("\(option): '\(text)' is not a valid id (a decimal number below 4294967295)")
        }
        return v
    }

    public static func mode(_ text: String, option: String) throws(UsageError) -> UInt32 {
        // Any number of digits (bwrap takes 01777 as 1777), but digits only: no sign, no space.
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }),
              let v = UInt32(text, radix: 8), v <= 0o7777 else {
            throw UsageError("\(option): '\(text)' is not an octal mode such as 0755")
        }
        return v
    }

    /// `1048576`, `512k`, `64M`, `2G` (binary multiples).
    public static func size(_ text: String, option: String) throws(UsageError) -> UInt64 {
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        switch text.last {
        case "k", "K": multiplier = 1 << 10; digits = digits.dropLast()
        case "m", "M": multiplier = 1 << 20; digits = digits.dropLast()
        case "g", "G": multiplier = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard let v = UInt64(digits), v > 0 else {
            throw UsageError("\(option): '\(text)' is not a size such as 65536, 512k, 64M or 1G")
        }
        // At most 2^63 - 1 bytes (bubblewrap's SIZE_MAX / 2): the kernel's own sums stay signed.
        let (product, overflow) = v.multipliedReportingOverflow(by: multiplier)
        guard !overflow, product <= UInt64(Int64.max) else { throw UsageError("\(option): '\(text)' is too large") }
        return product
    }

    /// A capability by the kernel's name (`CAP_NET_RAW`, `net_raw`), or `ALL`: its bits.
    public static func capability(_ text: String, option: String) throws(UsageError) -> UInt64 {
        if text.uppercased() == "ALL" { return CapabilityNames.everything }
        guard let bit = CapabilityNames.bit(text) else { throw UsageError("\(text) is not a valid capability") }
        return bit
    }

    /// `INSIDE:HOST:COUNT`
    public static func idMap(_ text: String, option: String) throws(UsageError) -> IDMap {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let a = UInt32(parts[0]), let b = UInt32(parts[1]), let c = UInt32(parts[2]) else {
            throw UsageError("\(option): '\(text)' is not INSIDE:HOST:COUNT (for example 0:100000:65536)")
        }
        return IDMap(inside: a, outside: b, count: c)
    }
}

extension GuestPath {
    /// A destination given on a command line, with the option named in the error: not
    /// absolute, climbing above the root, or over the kernel's limits (`PathLimit`).
    public static func destination(_ text: String, option: String) throws(UsageError) -> GuestPath {
        let path: GuestPath
        do {
            path = try GuestPath(parsing: text)
        } catch {
            throw UsageError("\(option): destination \(error)")
        }
        if let message = PathLimit.message(path.description, what: option) { throw UsageError(message) }
        return path
    }
}

extension HostPath {
    /// A host path given on a command line (a bind's source, a pid file, the rootfs), with
    /// the option named when it is over the kernel's limits (`PathLimit`).
    public static func argument(_ text: String, option: String) throws(UsageError) -> HostPath {
        if let message = PathLimit.message(text, what: option) { throw UsageError(message) }
        return HostPath(text)
    }
}

extension BindMount {
    /// A bind of the file or directory an open descriptor of the caller's names (bwrap's and
    /// burrow's --bind-fd): by the path it has, since a mount namespace of the sandbox's own
    /// cannot bind a file opened in the caller's; the engine checks that the path still
    /// names the descriptor's file, as bubblewrap does.
    public static func fromDescriptor(_ fd: Int32, destination: String, readOnly: Bool, option: String,
                                      facts: HostFacts) throws(UsageError) -> BindMount {
        guard let path = facts.descriptorPath(fd), path.startsWithSlash else {
            throw UsageError("\(option) \(fd): not an open descriptor of a file or directory")
        }
        var bind = BindMount(source: try HostPath.argument(path, option: option),
                             destination: try GuestPath.destination(destination, option: option), readOnly: readOnly)
        bind.sourceDescriptor = fd
        return bind
    }
}
