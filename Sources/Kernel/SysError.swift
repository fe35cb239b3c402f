import Glibc
import SystemPackage

/// A failed system call: the operation, what it was applied to, the errno, and where the
/// kernel says too little, a hint. Printed as `mount /a -> /b (bind): Permission denied`.
public struct SysError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var subject: String
    public var errno: Errno
    public var hint: String?

    public init(_ operation: String, _ subject: String = "", errno: Errno, hint: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.hint = hint
    }

    /// Captures the thread's errno right away, before any cleanup can overwrite it.
    public static func last(_ operation: String, _ subject: String = "", hint: String? = nil) -> SysError {
        SysError(operation, subject, errno: Errno(rawValue: Glibc.errno), hint: hint)
    }

    public var description: String {
        let what = subject.isEmpty ? operation : "\(operation) \(subject)"
        var text = "\(what): \(Self.message(for: errno))"
        if let hint {
            // Continuation lines line up under the hint's first word.
            text += "\n  hint: " + hint.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n        ")
        }
        return text
    }

    /// strerror's wording (what users know from the shell), not swift-system's.
    public static func message(for errno: Errno) -> String {
        guard let s = strerror(errno.rawValue) else { return "errno \(errno.rawValue)" }
        return String(cString: s)
    }
}

/// Calls `body` until it does not fail with EINTR; returns its result or throws.
@inline(__always)
func retrying<T: BinaryInteger>(_ op: String, _ subject: @autoclosure () -> String, _ body: () -> T) throws(SysError) -> T {
    while true {
        let r = body()
        if r >= 0 { return r }
        let e = Glibc.errno
        if e == EINTR { continue }
        throw SysError(op, subject(), errno: Errno(rawValue: e))
    }
}
