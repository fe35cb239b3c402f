/// The command waits, its sandbox built, until it is released from another process: the
/// OCI runtime's `create` leaves a container held this way and `start` releases it (runc
/// parks its init on `exec.fifo` the same way).
public struct ConsoleRequest: Equatable, Sendable {
    /// A descriptor connected to the caller's console socket (runc's --console-socket): the
    /// set-up sends it the terminal's master, made in the new root's devpts (/dev/pts/ptmx).
    /// The command gets the other end as its standard input, output and error, and as the
    /// controlling terminal of a session of its own. (-1 in what burrow-oci's config reader
    /// gives: the runtime connects to the socket its command line names, then sets it.)
    public var socket: Int32
    /// The size to give the terminal (process.consoleSize); nil: the kernel's 0x0.
    public var rows: UInt16?
    public var columns: UInt16?

    public init(socket: Int32, rows: UInt16? = nil, columns: UInt16? = nil) {
        self.socket = socket
        self.rows = rows
        self.columns = columns
    }
}

/// A held sandbox is handed over: once it waits to be released, its supervisor says so on
/// `readyDescriptor` and leaves, and the sandbox lives on alone, its init the container's
/// process (the one runc's callers wait for: conmon and containerd's shim adopt orphans).
public struct ExecHold: Equatable, Sendable {
    /// A FIFO on the host. The set-up opens it for reading before it enters the new root
    /// and goes on once a byte is written to it, or ends if the supervisor died before the
    /// hand-over.
    public var release: HostPath
    /// A descriptor the supervisor inherited: once the sandbox is built and waits on
    /// `release`, it writes "INIT CLEANER\n" there (the host pids of the init and of the
    /// cleaner, 0 without one), closes it and exits. End of file without that line: the
    /// set-up failed (the failure is said on the supervisor's standard error).
    public var readyDescriptor: Int32
    /// Programs the set-up runs in the container's namespaces, as root there (runtime-spec's
    /// `createContainer` hooks): once the root is built, before the hold; the path is the
    /// host's (the set-up has not entered the new root yet).
    public var whenBuilt: [HeldProgram] = []
    /// And once released, in the new root, before the command's exec (`startContainer`):
    /// the path is the container's.
    public var whenReleased: [HeldProgram] = []

    public init(release: HostPath, readyDescriptor: Int32) {
        self.release = release
        self.readyDescriptor = readyDescriptor
    }
}

/// A program a held sandbox's set-up runs and waits for: burrow-oci's hooks that run in the
/// container's namespaces. It gets `input` on its standard input, the set-up's standard
/// output and error, nothing else inherited; one that fails (a status other than 0, a
/// signal, `timeout` seconds passed, a path that cannot run) fails the set-up, saying so
/// in `name`'s words.
public struct HeldProgram: Equatable, Sendable {
    /// How a failure names it ("hooks.createContainer[0] (/usr/bin/nvidia-ctk)").
    public var name: String
    public var path: String
    public var argv: [String]
    public var environment: [String]
    public var timeout: Int?
    /// Its standard input, around the pid of the sandbox's init as the set-up sees it
    /// (runc gives these hooks its container process's own getpid()): `inputBeforePid`,
    /// the pid, then `inputAfterPid` (burrow-oci: the container's state document).
    public var inputBeforePid: String
    public var inputAfterPid: String

    public init(name: String, path: String, argv: [String], environment: [String], timeout: Int?,
                inputBeforePid: String, inputAfterPid: String) {
        self.name = name
        self.path = path
        self.argv = argv
        self.environment = environment
        self.timeout = timeout
        self.inputBeforePid = inputBeforePid
        self.inputAfterPid = inputAfterPid
    }
}
