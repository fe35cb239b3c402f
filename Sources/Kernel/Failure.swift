import Glibc

/// Burrow's own failure, in every engine: a message (the operation, the path, the errno and
/// a hint) and the status to end with. It crosses `fork` as data: a child writes it to a
/// close-on-exec pipe (`encoded`), the supervisor reads it back and returns it as the run's
/// `Outcome`, which main prints. The sandbox never runs the command then.
public struct Failure: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var status: Int32
    /// The host refused to make the sandbox's namespaces (EPERM from the supervisor's own
    /// unshare, where a seccomp profile says no), so that burrow is still outside every
    /// namespace and nothing was made: another engine may run the command instead. A refusal
    /// later (an id map, a mount) comes when the supervisor is inside the new user namespace
    /// already, where another engine would see the host's files through it: that one is
    /// reported, with a hint.
    public var hostDenied = false

    /// The sandbox could not be made (Outcome.setupStatus); 126 and 127 are for a command
    /// found but not run, and not found.
    public static let setupStatus: Int32 = 125
    public var description: String { message }
    /// A failure a child process of burrow's has already said (on stderr): nothing more is.
    public init(saidBy child: String) {
        self.init("", status: Self.setupStatus)
    }
    public init(_ message: String, status: Int32 = setupStatus) {
        self.message = message
        self.status = status
    }
    public init(_ error: SysError, status: Int32 = setupStatus) {
        var e = error
        let mountOperations = ["mount", "open_tree", "move_mount", "mount_setattr", "fsopen", "fsconfig", "fsmount", "pivot_root"]
        if e.hint == nil, e.errno == .notPermitted, mountOperations.contains(where: { e.operation.hasPrefix($0) }) {
            e.hint = """
                the host refuses this in a user namespace (a container's seccomp profile, or Ubuntu's \
                AppArmor restriction?); the ptrace engine needs no mounts: --engine ptrace
                """
        }
        self.init(e.description, status: status)
        hostDenied = Self.deniedByHost(error)
    }

    public static func deniedByHost(_ e: SysError) -> Bool {
        // EACCES: an LSM's refusal (SELinux's user_namespace create).
        e.operation == "unshare" && [.notPermitted, .permissionDenied, .noSpace, .tooManyUsers].contains(e.errno)
    }

    public var encoded: [UInt8] { [UInt8(truncatingIfNeeded: status), hostDenied ? 1 : 0] + Array(message.utf8) }
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        self.init(String(decoding: bytes.dropFirst(2), as: UTF8.self), status: Int32(bytes[0]))
        hostDenied = bytes[1] == 1
    }
}

