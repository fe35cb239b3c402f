import BurrowKernel
import BurrowSpec
import Glibc

/// A failure that crosses `fork` as data: the child writes it to a close-on-exec pipe, the
/// supervisor prints it and exits with its status. The sandbox never runs the command then.
struct Failure: Error {
    var message: String
    var status: Int32
    /// The host refused to make the sandbox's namespaces (EPERM from the supervisor's own
    /// unshare, where a seccomp profile says no), so that burrow is still outside every
    /// namespace and nothing was made: another engine may run the command instead. A refusal
    /// later (an id map, a mount) comes when the supervisor is inside the new user namespace
    /// already, where another engine would see the host's files through it: that one is
    /// reported, with a hint.
    var hostDenied = false

    static let setupStatus = Outcome.setupStatus
    /// A failure a child process of burrow's has already said (on stderr): nothing more is.
    init(saidBy child: String) {
        self.init("", status: Self.setupStatus)
    }
    init(_ message: String, status: Int32 = setupStatus) {
        self.message = message
        self.status = status
    }
    init(_ error: SysError, status: Int32 = setupStatus) {
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

    static func deniedByHost(_ e: SysError) -> Bool {
        // EACCES: an LSM's refusal (SELinux's user_namespace create).
        e.operation == "unshare" && [.notPermitted, .permissionDenied, .noSpace, .tooManyUsers].contains(e.errno)
    }

    var encoded: [UInt8] { [UInt8(truncatingIfNeeded: status), hostDenied ? 1 : 0] + Array(message.utf8) }
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        self.init(String(decoding: bytes.dropFirst(2), as: UTF8.self), status: Int32(bytes[0]))
        hostDenied = bytes[1] == 1
    }
}

/// The file descriptors and facts the processes of one sandbox share.
struct Channels {
    /// Setup and exec failures travel to the supervisor here; EOF means the command runs.
    var errorRead: Int32 = -1
    var errorWrite: Int32 = -1
    /// Held open by the supervisor only: the init sees it hang up if the supervisor died.
    var lifelineRead: Int32 = -1
    var lifelineWrite: Int32 = -1
    /// The supervisor tells the uid-map helper it has unshared.
    var mapHelperRead: Int32 = -1
    var mapHelperWrite: Int32 = -1
    /// The command announces itself here; the kernel attaches its host pid (for --pidfile,
    /// and the command's process group: JobControl).
    var pidSupervisor: Int32 = -1
    var pidCommand: Int32 = -1
    /// The init tells the supervisor the command stopped: one byte, the signal (non-blocking).
    var jobEventsRead: Int32 = -1
    var jobEventsWrite: Int32 = -1
    /// Paths Burrow creates on the host travel to the cleaner here, as fds of their parents.
    var cleanerSandbox: Int32 = -1
    var cleanerSide: Int32 = -1
}

/// Sends a failure to the supervisor and exits: the tail of every failing child.
func fail(_ failure: Failure, on fd: Int32) -> Never {
    _ = try? Files.writeAll(fd, failure.encoded, what: "error pipe")
    Proc.exit(failure.status)
}
