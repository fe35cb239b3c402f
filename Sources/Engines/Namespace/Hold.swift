import BurrowKernel
import BurrowSandbox
import Glibc

extension Sandbox {
    /// burrow-oci's create: the set-up waits here, the sandbox built and the root not yet
    /// entered, until `start` writes to the FIFO (runc parks its init on exec.fifo the same
    /// way). Opened by the supervisor (`heldFIFO`), with the caller's ids and its host paths; opened
    /// for reading without waiting, so that `start` can tell a held container (its open for
    /// writing succeeds) from one that is not (ENXIO).
    ///
    /// Once held, the set-up tells the supervisor (`Channels.heldWrite`), which hands the
    /// container over to create and leaves (Supervision.handOver), writing one byte on the
    /// lifeline first: from then on the container lives alone, its init the process conmon or
    /// the shim adopts, and only `delete` (or a kill) ends it. A lifeline that ends without
    /// that byte means the supervisor died before: the container ends here.
    func holdUntilReleased(_ hold: ExecHold) throws(SysError) {
        let fifo = heldFIFO >= 0 ? heldFIFO : try Files.open(hold.release.string, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        defer { Files.close(fifo) }
        var byte: UInt8 = 0
        let told = Glibc.write(channels.heldWrite, &byte, 1)
        Files.close(channels.heldWrite)
        // The supervisor is gone before it could hand the container over.
        if told != 1 { Proc.exit(Failure.setupStatus) }
        log.step("held until \(hold.release) is written (burrow-oci start)")
        var lifeline = channels.lifelineRead
        let initPid = getppid()
        while true {
            var fds = [pollfd(fd: fifo, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: lifeline, events: Int16(POLLIN), revents: 0)]
            if Glibc.poll(&fds, 2, -1) < 0 {
                if Glibc.errno == EINTR { continue }
                throw SysError.last("poll", hold.release.string)
            }
            if fds[1].revents != 0 {
                guard (try? Files.readByte(lifeline, what: "the lifeline")) != nil else { Proc.exit(Failure.setupStatus) }
                // Handed over: the supervisor's end is no longer this container's. The init is
                // the container now: this process (and the command it becomes) dies with it,
                // as it does anyway in a PID namespace of the container's own.
                lifeline = -1
                failuresOnStandardError = true
                if (try? Proc.dieWithParent(SIGKILL, expectedParent: initPid)) != true { Proc.exit(Failure.setupStatus) }
            }
            // A writer came: released (whether it wrote its byte or only closed).
            if fds[0].revents != 0 {
                _ = Glibc.read(fifo, &byte, 1)
                log.step("released")
                return
            }
        }
    }

    /// The hold's programs (`HeldProgram`), in order, each waited for; the first that fails
    /// ends the set-up, failed (`fail`). Their input gets the init's pid as this process
    /// sees it (its parent): 1 in a PID namespace of the sandbox's own.
    func runHeld(_ programs: [HeldProgram]) {
        for p in programs {
            let input = Array((p.inputBeforePid + String(getppid()) + p.inputAfterPid).utf8)
            let end: Proc.ProgramEnd
            do { end = try Proc.runProgram(p.path, argv: p.argv, environment: p.environment, input: input, timeout: p.timeout) } catch {
                fail(Failure("\(p.name) could not run: \(error.description)"), on: channels.errorWrite)
            }
            if let failure = end.failure(of: p.name) { fail(Failure(failure), on: channels.errorWrite) }
            log.step("\(p.name) ran")
        }
    }
}
