import BurrowKernel
import BurrowSandbox
import Glibc

extension Sandbox {
    /// burrow-oci's create: the set-up waits here, the sandbox built and the root not yet
    /// entered, until `start` writes to the FIFO (runc parks its init on exec.fifo the same
    /// way). Opened by the supervisor (`heldFIFO`), with the caller's ids and its host paths; opened
    /// for reading without waiting, so that `start` can tell a held container (its open for
    /// writing succeeds) from one that is not (ENXIO). The supervisor's lifeline is watched
    /// too: `delete --force` or a kill -9 of the supervisor ends the container here, since
    /// the init waits for the set-up before it dies with its parent.
    func holdUntilReleased(_ hold: ExecHold) throws(SysError) {
        let fifo = heldFIFO >= 0 ? heldFIFO : try Files.open(hold.release.string, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        defer { Files.close(fifo) }
        var byte: UInt8 = 0
        let told = Glibc.write(hold.readyDescriptor, &byte, 1)
        Files.close(hold.readyDescriptor)
        // create is gone before it could say the container exists: nobody can start it.
        if told != 1 { Proc.exit(Failure.setupStatus) }
        log.step("held until \(hold.release) is written (burrow-oci start)")
        while true {
            var fds = [pollfd(fd: fifo, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: channels.lifelineRead, events: Int16(POLLIN), revents: 0)]
            if Glibc.poll(&fds, 2, -1) < 0 {
                if Glibc.errno == EINTR { continue }
                throw SysError.last("poll", hold.release.string)
            }
            if fds[1].revents != 0 { Proc.exit(Failure.setupStatus) }
            // A writer came: released (whether it wrote its byte or only closed).
            if fds[0].revents != 0 {
                _ = Glibc.read(fifo, &byte, 1)
                log.step("released")
                return
            }
        }
    }
}
