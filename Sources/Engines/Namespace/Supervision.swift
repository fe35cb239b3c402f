import BurrowKernel
import CKernel
import BurrowSandbox
import Glibc

/// What the init tells the supervisor on the job-events pipe: a byte of a signal the command
/// was stopped by, or `commandExited` and a byte of its status (`Leftovers.leftRunning`).
enum JobEvent {
    static let commandExited = UInt8(CK_JOB_EVENT_COMMAND_EXITED)
}

/// The supervisor's watch over a running sandbox, in one thread: one `poll` over
///
/// - the signals burrow takes (a signalfd): SIGCHLD, the init may have ended or stopped;
///   SIGCONT, burrow was continued (JobControl); any other goes on to the init, which
///   passes it to the command;
/// - the error pipe: a failure of the set-up or the exec, or end of file once the command
///   runs (never read to the end before the rest: the command can act on the init before
///   the init has closed its end);
/// - the init's job events: the command stopped (one byte, the signal).
///
/// The supervisor is a child subreaper: when the init dies, what the command started comes
/// back to it. An init killed or stopped (without a PID namespace the command can do both:
/// same uid) ends the sandbox: everything left is killed and burrow fails (125) saying so,
/// instead of waiting for ever or leaving the command's processes on the host.
struct Supervision {
    let spec: SandboxSpec
    let initPid: pid_t
    let errorPipe: Int32
    let jobEvents: Int32
    /// The command's announcement: the kernel attaches its host pid, which is its group.
    let announcements: Int32
    let pidFile: Int32
    /// The supervisor's own /proc/self/task/TID/children (-1 with a PID namespace: nothing
    /// of the sandbox outlives its PID 1), and which of them are the sandbox's.
    let children: Int32
    let sandboxProcess: (pid_t) -> Bool
    var jobs: JobControl
    /// burrow-oci's create (`ExecHold`): once the set-up says on `held` that it waits to be
    /// started, the supervisor writes "INIT CLEANER\n" (their host pids, 0 for no cleaner)
    /// to `to` and leaves, the sandbox running on: the init, reparented to whoever adopts
    /// orphans there (conmon, containerd's shim), is the container's process from then on.
    /// A byte on `lifeline` tells the set-up the leave is meant.
    var handOver: (held: Int32, to: Int32, cleaner: pid_t, lifeline: Int32)?
    /// The container was handed over: the watch ended, the sandbox runs on.
    private(set) var handedOver = false

    private var message: [UInt8] = []
    private var failure: Failure?
    private var errorPipeOpen = true
    private var jobEventsOpen = true
    private var initReaped = false
    /// `JobEvent.commandExited` came; its status is the next byte.
    private var exitStatusNext = false
    /// The descriptors holding `ProcessSpec.lockFiles`' locks, open until the watch ends.
    private var locks: [Int32] = []
    /// A lock file that could not be locked: the sandbox is ended, and this is burrow's failure.
    private var lockFailure: Failure?

    init(spec: SandboxSpec, initPid: pid_t, errorPipe: Int32, jobEvents: Int32, announcements: Int32, pidFile: Int32,
         children: Int32, sandboxProcess: @escaping (pid_t) -> Bool, jobs: JobControl) {
        self.spec = spec
        self.initPid = initPid
        self.errorPipe = errorPipe
        self.jobEvents = jobEvents
        self.announcements = announcements
        self.pidFile = pidFile
        self.children = children
        self.sandboxProcess = sandboxProcess
        self.jobs = jobs
    }

    /// Watches until the init ends; returns burrow's status.
    mutating func run() throws(Failure) -> Int32 {
        defer {
            for fd in locks { Files.close(fd) }
            jobs.takeBack()
            // However the watch ended, nothing of the sandbox outlives it (unless it was
            // handed over: then it is meant to).
            if !initReaped && !handedOver {
                Proc.kill(initPid, SIGKILL)
                _ = Proc.reap(initPid, noHang: false)
            }
            if !handedOver { Proc.killChildren(listedIn: children, chosen: sandboxProcess) }
        }
        let signals: Int32
        do { signals = try Signals.descriptor() } catch { throw Failure(error) }
        defer { Files.close(signals) }
        Files.setNonBlocking(errorPipe)
        var held = handOver?.held ?? -1
        while true {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errorPipeOpen ? errorPipe : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: jobEventsOpen ? jobEvents : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: held, events: Int16(POLLIN), revents: 0)]
            // Quiet for a while, it gives back the pages of the set-up's code (ResidentMemory).
            guard ResidentMemory.poll(&fds, count: 4) > 0 else { continue }
            if fds[3].revents != 0, let handOver {
                // End of file without the byte: the set-up failed before its hold (the error
                // pipe says why, and the init's end follows).
                held = -1
                if (try? Files.readByte(handOver.held, what: "the hold's pipe")) != nil {
                    let text = "\(initPid) \(max(handOver.cleaner, 0))\n"
                    if (try? Files.writeAll(handOver.to, Array(text.utf8), what: "create's pipe")) == nil {
                        // create is gone before it could say the container exists: nobody
                        // could start it, or delete it.
                        throw Failure("the container was set up, but burrow-oci create is gone: ended", status: Failure.setupStatus)
                    }
                    Files.close(handOver.to)
                    // The set-up's word that its supervisor leaves on purpose (Sandbox.holdUntilReleased).
                    _ = try? Files.writeAll(handOver.lifeline, [1], what: "the lifeline")
                    handedOver = true
                    return 0
                }
            }
            if fds[1].revents != 0 {
                let (bytes, ended) = Files.readAvailable(errorPipe)
                message += bytes
                if ended { commandStarted() }
            }
            if fds[2].revents != 0 {
                let (bytes, ended) = Files.readAvailable(jobEvents)
                jobEventsOpen = !ended
                for byte in bytes { jobEvent(byte) }
            }
            for r in Signals.received(signals) {
                switch r.signal {
                case SIGCHLD: if let status = try initChanged() { return status }
                case SIGCONT: jobs.continued()
                default: Proc.kill(initPid, r.signal)
                }
            }
        }
    }

    private mutating func jobEvent(_ byte: UInt8) {
        if exitStatusNext {
            exitStatusNext = false
            // What the set-up or the exec wrote is all there is by now: a command that
            // never ran has no status to announce (its failure is burrow's, said at the end).
            message += Files.readAvailable(errorPipe).bytes
            commandStarted()
            guard failure == nil else { return }
            // The command's status goes to burrow's caller now; the terminal with it.
            jobs.takeBack()
            Background.commandExited(Int32(byte))
        } else if byte == JobEvent.commandExited {
            exitStatusNext = true
        } else {
            jobs.commandStopped(by: Int32(byte))
        }
    }

    /// The error pipe ended: the command runs, or the set-up or exec failed (said now).
    private mutating func commandStarted() {
        guard errorPipeOpen else { return }
        errorPipeOpen = false
        failure = Failure(decoding: message)
        let pid = Files.receiveSenderPid(announcements)
        if let pid { jobs.commandStarted(group: pid) }
        if failure == nil, pidFile >= 0, let pid {
            _ = try? Files.writeAll(pidFile, Array("\(pid)\n".utf8), what: spec.process.pidFile?.string ?? "")
        }
        if failure == nil, !spec.process.reports.isEmpty, let pid { reportStarted(pid) }
        if failure == nil, !spec.process.lockFiles.isEmpty, let pid { lockFiles(of: pid) }
    }

    /// bwrap's --lock-file: each file, found inside the command's root (/proc/PID/root,
    /// RESOLVE_IN_ROOT), is held with a read lock until the sandbox ends. Taken once the
    /// command has started (bubblewrap takes them just before): one that cannot be taken
    /// ends the sandbox.
    private mutating func lockFiles(of pid: pid_t) {
        do throws(SysError) {
            let root = try Files.open("/proc/\(pid)/root", O_PATH | O_DIRECTORY)
            defer { Files.close(root) }
            for path in spec.process.lockFiles {
                let fd = try Files.open2(path.relative, at: root, flags: O_RDONLY, resolve: Resolve.inRoot | Resolve.noMagicLinks)
                locks.append(fd)
                try Files.readLock(fd, what: "\(path)")
            }
        } catch {
            lockFailure = Failure(SysError("lock file", error.subject, errno: error.errno))
            Proc.kill(initPid, SIGKILL)
        }
    }

    /// bubblewrap's --info-fd (then closed) and the first object of --json-status-fd: the
    /// command's host pid and the ids of the namespaces made for it (the inode numbers of
    /// /proc/PID/ns/NAME), read as soon as it has started. The command's, not the init's
    /// (bubblewrap's child): the caller can open its /proc/PID/ns (the init changed its ids,
    /// which makes it undumpable). A command that is gone by then (within a millisecond) has
    /// no ids said. The exit code follows from `main`, with the outcome.
    private func reportStarted(_ pid: pid_t) {
        let ids = StatusReports.namespaces(spec.namespaces).compactMap { ns -> (name: String, id: UInt64)? in
            guard ns.made, let st = try? Files.stat("/proc/\(pid)/ns/\(ns.name)", at: AT_FDCWD, follow: true) else { return nil }
            return (ns.name, UInt64(st.st_ino))
        }
        if let fd = spec.process.reports.info {
            let text = StatusReports.infoObject(childPid: pid, namespaceIDs: ids, oneLine: false)
            _ = try? Files.writeAll(fd, Array(text.utf8), what: "--info-fd \(fd)")
            Files.close(fd)
        }
        if let fd = spec.process.reports.jsonStatus {
            let text = StatusReports.infoObject(childPid: pid, namespaceIDs: ids, oneLine: true)
            _ = try? Files.writeAll(fd, Array(text.utf8), what: "--json-status-fd \(fd)")
        }
    }

    /// The init's state after a SIGCHLD: nil while it runs, else burrow's status.
    private mutating func initChanged() throws(Failure) -> Int32? {
        let how: String
        let sig: Int32
        let state = Proc.reap(initPid, noHang: true, untraced: true)
        if case .child = state { initReaped = true }
        switch state {
        case .nothingYet, .noChildren: return nil
        case .child(_, .exited(let code)):
            // What it wrote before it ended is all there is.
            message += Files.readAvailable(errorPipe).bytes
            commandStarted()
            if let f = failure, f.status != 0 { throw f }
            return code
        case .child(_, .signaled(let s)):
            message += Files.readAvailable(errorPipe).bytes
            commandStarted()
            if let lockFailure { throw lockFailure }
            // The command itself was the init (--as-pid-1): its own end, 128+N.
            if spec.process.commandIsPID1, failure == nil { return 128 + s }
            (how, sig) = ("killed", s)
        case .stopped(_, let s):
            (how, sig) = ("stopped", s)
        }
        // Without a PID namespace the command is one more process of the caller's uid.
        let suspect = spec.namespaces.pid ? "" : " (from inside the sandbox?)"
        throw Failure("the sandbox's init was \(how) by signal \(sig)\(suspect); everything in it was killed")
    }
}
