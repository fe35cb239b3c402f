/// The command waits, its sandbox built, until it is released from another process: the
/// OCI runtime's `create` leaves a container held this way and `start` releases it (runc
/// parks its init on `exec.fifo` the same way).
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
