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

public struct ExecHold: Equatable, Sendable {
    /// A FIFO on the host. The set-up opens it for reading before it enters the new root
    /// and goes on once a byte is written to it, or ends when the supervisor has gone.
    public var release: HostPath
    /// A descriptor the supervisor inherited: the set-up writes one byte to it once it
    /// waits on `release` (the sandbox is built), then closes it.
    public var readyDescriptor: Int32

    public init(release: HostPath, readyDescriptor: Int32) {
        self.release = release
        self.readyDescriptor = readyDescriptor
    }
}
