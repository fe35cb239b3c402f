import BurrowKernel
import BurrowSandbox
import Glibc

/// Where the right to build the sandbox comes from.
public enum Privilege: Sendable {
    /// A new user namespace: burrow has no privilege on the host, nothing to give up.
    case userNamespace
    /// burrow is setuid root and no user namespace is made (Sources/Engines/Setuid): root's
    /// capabilities build the sandbox, and every process gives them up for good before it
    /// does anything for the caller. Files are opened with the caller's fsuid/fsgid all along.
    case setuidRoot(Caller)

    var caller: Caller? {
        if case .setuidRoot(let c) = self { return c }
        return nil
    }
}

/// The real ids of whoever ran a setuid burrow, and their groups: what the sandbox runs as.
public struct Caller: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, groups: [UInt32]) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// Root's privilege, gone for good and checked (Credentials.becomeForGood). The kernel
    /// clears the parent-death signal when the ids change: callers set it again.
    public func becomeForGood() throws(SysError) {
        try Credentials.becomeForGood(uid: uid, gid: gid, groups: groups)
    }
}

extension NamespaceEngine {
    /// What to check, and what works instead, when user namespaces cannot be used.
    public static var userNamespaceHint: String { Sandbox.userNamespaceHint }
}
