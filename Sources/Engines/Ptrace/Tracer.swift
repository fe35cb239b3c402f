import BurrowKernel
import BurrowSeccomp
import BurrowSandbox
import Glibc
import SystemPackage

/// The supervisor's loop: takes every stop of every tracee, translates path system calls
/// and follows new processes, until the command (and, with --keep-children, everything it
/// started) has exited.
final class Tracer {
    private(set) var bindings: Bindings
    private(set) var canonicalizer: Canonicalizer
    private(set) var tree: HostTree
    let command: pid_t
    let keepChildren: Bool
    var tracees: [pid_t: Tracee] = [:]
    /// Set once the command's seccomp filter is in place: then only path calls stop (at a
    /// seccomp stop) and the tracer resumes with PTRACE_CONT. Until then, and for good if
    /// the filter could not be installed, every system call stops at entry and exit.
    var filterActive = false
    var commandExit: Proc.Exit?
    /// The proc binding's guest path, if any (for /proc/PID/exe).
    let procDestination: GuestPath?
    var initialExecDone = false
    /// Faked ids, uname and QEMU (Emulator.swift); nil when nothing is faked.
    var emulator: Emulator?
    /// The command's process group and the terminal (burrow stops when the group does).
    var jobs = JobControl(newSession: true)
    /// What the filter refuses (untraced children, io_uring; terminal injection unless allowed); refused here at the
    /// entry stop instead while no filter is active.
    var refusals: TraceFilter.Refusals?

    /// The seccomp listener of the command's filter, once taken: the calls of `notified`
    /// arrive there, not as ptrace stops. -1 without one (the kernel refused it, or no
    /// process is left that uses it).
    var listener: Int32 = -1
    /// Where the command sends its listener (Trace.receiveListener), and whether one is on
    /// its way (the filter went in with one, and it has not been taken yet).
    var listenerSocket: Int32 = -1
    var listenerExpected = false
    /// Set when the sandbox could not be set up after the command started (the command is
    /// killed then): what failed, for burrow's message and status 125.
    var setupFailure: String?
    var log = Log(enabled: false)
    /// SIGCHLD as a descriptor, to wait for stops and notifications at once.
    var childEvents: Int32 = -1
    /// The calls answered on the listener (the filter's SECCOMP_RET_USER_NOTIF list).
    var notified: [Int64: NotifiedCall] = [:]
    /// The calls of SyscallTable.notifiedOnHost the filter notifies (hostNotified).
    var hostNotified: [Int64] = []

    /// Bumped at entry and (if it succeeded) exit of every call that may change a working
    /// directory, the path to one, or put a symlink where a directory or file was
    /// (SyscallTable.invalidatesCaches): what the fast path cached before is looked up again.
    var cacheGeneration: UInt64 = 0
    /// Paths below a binding's root met with no symlink (FastPath.swift), as of a generation.
    var knownPlain: (generation: UInt64, paths: Set<PlainKey>) = (0, [])
    /// Directories reached through symlinks, by the guest path that names them
    /// (Paths/ResolvedDirectories.swift), as of a generation.
    var knownResolved: (generation: UInt64, byGuest: [PlainKey: ResolvedDirectory]) = (0, [:])
    /// Each binding's guest path as byte components (for the absolute fast path).
    let bindingComponents: [[[UInt8]]]
    /// Directories by host path (FastPath.swift), as of a generation.
    var knownDirectories: (generation: UInt64, byHost: [String: WorkingDirectory]) = (0, [:])

    /// PRoot's rule: the status of the last process to exit, not the command's.
    let lastToExit: Bool
    var lastExit = Proc.LastExit()

    /// --dev's binding while the host's /dev stands in for its directory (Setup.DevStandIn),
    /// and what makes that directory the first time a path lands in it (Translate.swift).
    var devStandIn: Int?
    var makeDevDirectory: (() throws(PtraceEngine.Failure) -> (binding: Int, host: String, anchor: Int32))?

    /// Guest tracers and their tracees (Syscalls/PtraceEmulation): inactive, and free,
    /// until a guest process calls ptrace.
    var guests = GuestTracing()
    /// Guest tracers whose held wait came on the listener: its notification, answered
    /// when the wait ends (PtraceEmulation).
    var heldNotifications: [pid_t: UInt64] = [:]

    init(bindings: Bindings, tree: HostTree, command: pid_t, keepChildren: Bool, lastToExit: Bool = false) {
        self.lastToExit = lastToExit
        self.bindings = bindings
        self.canonicalizer = Canonicalizer(bindings: bindings)
        bindingComponents = bindings.entries.map { $0.guest.components.map { Array($0.utf8) } }
        self.tree = tree
        self.command = command
        self.keepChildren = keepChildren
        self.procDestination = bindings.entries.first { $0.kind == .proc }?.guest
        let first = Tracee(pid: command)
        tracees[command] = first
    }

    /// Makes --dev's directory and puts it in the stand-in's place everywhere the tracer
    /// looks; what the path caches learnt goes.
    func makeDevDirectoryNow() throws(PtraceEngine.Failure) {
        guard let make = makeDevDirectory else { throw PtraceEngine.Failure("--dev: its directory cannot be made now") }
        let made = try make()
        bindings.rehost(made.binding, to: made.host)
        canonicalizer = Canonicalizer(bindings: bindings)
        tree.anchors[made.binding] = made.anchor
        tree.standIn = nil
        devStandIn = nil
        cacheGeneration &+= 1
    }

    static let options: Trace.Options = [
        .traceSysGood, .traceFork, .traceVfork, .traceClone, .traceExec, .traceSeccomp, .exitKill,
    ]

    /// Runs until no tracee is left; returns the command's exit. (Not until no child is left:
    /// a caller that execs burrow may leave it children of its own, which are no tracees.)
    func run() -> Proc.Exit {
        defer {
            listenerSocket = -1  // the engine's, which closes it
            if listener >= 0 { Files.close(listener) }
            if childEvents >= 0 { Files.close(childEvents) }
        }
        // With a listener: sleep in poll until a notification or SIGCHLD; after SIGCHLD
        // (drained first, so one arriving meanwhile wakes the next poll) take every stop
        // waiting, without blocking.
        var stopsWaiting = true
        loop: while true {
            if tracees.isEmpty {
                // Every tracee is gone, but a child may be left that is none: the cleaner,
                // when burrow is the init of its PID namespace (a container's entry point)
                // and orphans come back to it. Waiting for that one would never end.
                switch Trace.poll() {
                case .stop(let stop): handle(stop); continue
                case .nothing, .none: break loop
                }
            }
            if listener < 0 {
                guard let stop = Trace.wait() else { break }
                handle(stop)
                if finished { break }
                continue
            }
            while stopsWaiting {
                switch Trace.poll() {
                case .stop(let stop): handle(stop)
                case .nothing: stopsWaiting = false
                case .none: break loop
                }
                if finished { break loop }
            }
            if listener >= 0 { stopsWaiting = waitForEvents() }
        }
        if lastToExit, let last = lastExit.exit { return last }
        return commandExit ?? .signaled(SIGKILL)
    }

    /// The command has exited and every tracee after it.
    private var finished: Bool { commandExit != nil && tracees.isEmpty }

    /// Sleeps until a notification (answered here) or a stop; true when stops may wait.
    private func waitForEvents() -> Bool {
        // A pair, not an array: no allocation for each event.
        var fds = (pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: childEvents, events: Int16(POLLIN), revents: 0))
        // EINTR: a forwarded signal's handler ran; look again. A guest tracer held in its
        // wait gets no event for a signal sent to it: looked for now and then.
        let held = guests.isActive && !guests.held.isEmpty
        let ready = withUnsafeMutablePointer(to: &fds) {
            // Quiet for a while, it gives back the pages of the code it ran (ResidentMemory).
            $0.withMemoryRebound(to: pollfd.self, capacity: 2) { held ? Glibc.poll($0, 2, 100) : ResidentMemory.poll($0, count: 2) }
        }
        if held { interruptHeldWaits() }
        guard ready > 0 else { return false }
        let l = fds.0.revents
        if l & Int16(POLLIN) != 0 {
            if let request = SeccompNotify.receiveReady(listener) { answer(request) }
        } else if l & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
            // No process uses the filter any more.
            Files.close(listener)
            listener = -1
            return true
        }
        guard fds.1.revents != 0 else { return false }
        Signals.drain(childEvents)
        return true
    }

    /// The caller's pid cannot be reused while this runs: only this loop reaps tracees.
    private func answer(_ r: SeccompNotify.Request) {
        let t = tracee(r.pid)
        let answer: NotifyAnswer
        // The ABI as the kernel decoded the call (an i386 one is answered by its x86_64
        // name's entry); a call the supervisor does not know is refused, never let through.
        if let abi = TracedABI.of(arch: r.arch), let nr = abi.engineNumber(Int64(r.nr)), let call = notified[nr] {
            t.call = nr
            answer = notified(call, t, Trace.Registers(syscall: Int64(r.nr), args: r.args, compat: abi.compat), id: r.id)
        } else {
            t.call = -1
            answer = .error(.noFunction)
        }
        restoreModes(t)
        respond(answer, id: r.id)
    }

    /// Completes notified call `id` with `answer` (nothing to do for one answered already).
    func respond(_ answer: NotifyAnswer, id: UInt64) {
        switch answer {
        case .proceed: SeccompNotify.respond(listener, id: id, continue: true)
        case .value(let v): SeccompNotify.respond(listener, id: id, value: v)
        case .error(let e): SeccompNotify.respond(listener, id: id, error: e.rawValue)
        case .answered: break
        }
    }

    private func handle(_ stop: Trace.Stop) {
        switch stop {
        case .exited(let pid, let exit):
            let parent = tracees[pid]?.parent
            if tracees[pid] != nil { lastExit.record(exit) }
            tracees[pid] = nil
            if pid == command {
                commandExit = exit
                listenerExpected = false
                // Leftovers left running: the command's status goes to burrow's caller now.
                if Background.hasFront, initialExecDone {
                    jobs.takeBack()
                    Background.commandExited(exit.status)
                }
                if !keepChildren { killAll() }
            }
            if guests.isActive || !guests.callers.isEmpty { guestExited(pid, exit, parent: parent) }
        case .syscall(let pid):
            syscallStop(tracee(pid))
        case .event(let pid, let event):
            eventStop(tracee(pid), event)
        case .signal(let pid, let sig):
            let t = tracee(pid)
            if listenerExpected, pid == command { takeListener(required: false) }
            if !t.started {
                // The SIGSTOP a new tracee starts with: the options are inherited (or,
                // for the command, set now).
                t.started = true
                if pid == command {
                    do throws(SysError) { try Trace.setOptions(pid, Self.options) } catch {
                        // Untraced forks and execs would escape the translation.
                        failSetup(error.description)
                        return
                    }
                }
                if guests.isActive, pid != command, guestFirstStop(t) { return }
                resume(t)
            } else if Trace.isGroupStop(pid) {
                // Job control under PTRACE_TRACEME cannot keep the tracee stopped
                // (but for a guest tracer's child that stopped itself: PtraceEmulation).
                if guests.isActive, guestTakes(t, .group(sig)) { return }
                if t.selfStopped {
                    t.selfStopped = false
                    // Kept, unless the SIGCONT that would end it came already.
                    if !Self.isPending(SIGCONT, pid) {
                        t.heldInGroupStop = true
                        return
                    }
                }
                if Signals.jobStops.contains(sig) { jobStop(t, sig) }
                resume(t)
            } else {
                if guests.isActive, guestTakes(t, .signal(sig)) { return }
                if !guests.callers.isEmpty { guestSelfStop(t, sig) }
                resume(t, signal: sig)
            }
        }
    }

    func tracee(_ pid: pid_t) -> Tracee {
        if let t = tracees[pid] { return t }
        let t = Tracee(pid: pid)
        tracees[pid] = t
        return t
    }

    private func killAll() {
        for pid in tracees.keys where pid != command { Proc.kill(pid, SIGKILL) }
    }

    /// A process of the command's group stopped by Ctrl-Z, or by a read or write of the
    /// terminal from the background: burrow stops too and, once continued, continues the
    /// group (JobControl) before this process is resumed. A stop the SIGCONT overtook (one
    /// is pending: the group was continued while this stop waited here) is not followed.
    private func jobStop(_ t: Tracee, _ sig: Int32) {
        guard jobs.sandboxGroup > 0, Proc.processGroup(of: t.pid) == jobs.sandboxGroup,
              !Self.isPending(SIGCONT, t.pid) else { return }
        jobs.commandStopped(by: sig)
    }

    // MARK: Events

    private func eventStop(_ t: Tracee, _ event: Trace.Event) {
        switch event {
        case .seccomp:
            // A path call, at entry (the filter said SECCOMP_RET_TRACE); first for a guest
            // tracer that asked for its own filter's stops (PtraceEmulation). The listener was
            // sent before the command's first one (ck_trace_child).
            if listenerExpected, t.pid == command {
                takeListener(required: true)
                if setupFailure != nil { return }
            }
            t.started = true
            if guests.isActive, guestSeccompStop(t) { return }
            enter(t)
            return
        case .fork, .vfork, .clone:
            let child = pid_t(truncatingIfNeeded: Trace.eventMessage(t.pid))
            let c = tracee(child)
            c.exe = t.exe
            c.guestCwd = t.guestCwd
            c.parent = t.pid
            if c.credentials == nil { c.credentials = t.credentials }
            if killedSandbox { Proc.kill(child, SIGKILL) }
            if guests.isActive || c.awaitingParent, guestForked(t, c, event) { return }
        case .exec:
            // The thread that called execve may not be the leader: its state moves here.
            let former = pid_t(truncatingIfNeeded: Trace.eventMessage(t.pid))
            if former != t.pid, let old = tracees[former] {
                t.pending = old.pending
                t.execTarget = old.execTarget
                t.execCredentials = old.execCredentials
                t.credentials = old.credentials ?? t.credentials
                tracees[former] = nil
            }
            if let target = t.execTarget { t.exe = target }
            t.execTarget = nil
            // A successful exec leaves nothing to restore.
            t.pending = nil
            if t.pid == command { initialExecDone = true }
            emulator?.execDone(t)
            if guests.isActive, guestExec(t, former: former) { return }
        default:
            // Only a guest tracer's options ask for the others (PTRACE_O_TRACEEXIT...).
            if guests.isActive, guestEvent(t, event) { return }
        }
        resume(t)
    }

    /// Resumes a tracee as the supervisor needs it and, for a guest tracer's tracee, as
    /// that tracer last asked (PTRACE_SYSCALL, PTRACE_SINGLESTEP).
    func resume(_ t: Tracee, signal: Int32 = 0) {
        if guests.isActive || t.guestOptions != 0 { syncGuestOptions(t) }
        if guests.isActive, let l = guests.link(t.pid) {
            switch l.resume {
            case .syscall: Trace.resume(t.pid, stopAtSyscalls: true, signal: signal); return
            case .singleStep: Trace.singleStep(t.pid, signal: signal); return
            case .cont: break
            }
        }
        Trace.resume(t.pid, stopAtSyscalls: !filterActive, signal: signal)
    }

    private var killedSandbox: Bool { commandExit != nil && !keepChildren }

    // MARK: System calls

    private func syscallStop(_ t: Tracee) {
        if guests.isActive, guests.link(t.pid) != nil {
            guestSyscallStop(t)
            return
        }
        if filterActive {
            // Only the exits asked for stop here.
            exit(t)
            Trace.resume(t.pid, stopAtSyscalls: false)
            return
        }
        switch Trace.syscallStopKind(t.pid) {
        case .entry: enter(t)
        case .exit:
            exit(t)
            Trace.resume(t.pid, stopAtSyscalls: !filterActive)
        default:
            Trace.resume(t.pid, stopAtSyscalls: true)
        }
    }

    func enter(_ t: Tracee) {
        guard var regs = Trace.registers(t.pid) else { return }
        // The call's ABI, as the kernel decoded it (64-bit code may use `int $0x80`); before
        // Linux 5.3, from the code segment.
        let arch = Trace.syscallInfo(t.pid)?.arch
        regs.compat = arch.map { $0 == Architecture.i386.auditArch } ?? regs.runs32BitCode
        let abi = TracedABI.of(compat: regs.compat)
        if arch.map({ $0 != abi.architecture.auditArch }) == true || (!abi.compat && regs.syscall > 0 && regs.syscall & Int64(SeccompFilter.x32Bit) != 0) {
            // An ABI without a table (x32, where no filter refused it): not run. (-1: a call
            // a guest tracer skipped.)
            skip(t, &regs, -Int64(Errno.noFunction.rawValue))
            return
        }
        // The engine's number for this call (its x86_64 name's); -1 for one it has none for.
        let nr = abi.engineNumber(regs.syscall) ?? -1
        t.call = nr
        var invalidates = SyscallTable.invalidatesCaches(nr)
        if invalidates, SyscallTable.movesOrLinks.contains(nr), movesOnlyAFile(t, regs, nr) { invalidates = false }
        if invalidates { cacheGeneration &+= 1 }
        // A directory removed may be a working directory (getcwd must fail): the caches go
        // once it is gone, not for each rmdir that fails (dpkg's, by the hundred).
        if SyscallTable.removesDirectory(nr, flags: regs.arg(2)) { invalidates = true }
        t.invalidatesAtExit = invalidates
        var result: EnterResult
        if let group = abi.ownGroups[regs.syscall] {
            result = enter(group, t, regs)
        } else if let call = emulator?.calls[nr] {
            result = emulatedEnter(call, t, regs)
        } else if let group = SyscallTable.group(nr) {
            result = enter(group, t, regs)
        } else if nr == Syscall.seccomp && !filterActive && t.pid == command && !initialExecDone {
            // Our own filter going in: watch its result.
            result = .rewrite(regs, exit: .restore)
        } else if !filterActive, let e = refusals?.errno(arch: abi.architecture, nr: regs.syscall, args: { (0..<6).map { regs.arg($0) } }) {
            // The kernel took no filter: every call stops here, and what the filter would
            // have refused is refused now.
            result = .fail(Errno(rawValue: Int32(e)))
        } else {
            result = .allow
        }
        // Its exit must be seen too, to drop what was cached while it ran, or to put back
        // the modes a faked root's call opened.
        if t.invalidatesAtExit || !t.openedModes.isEmpty, case .allow = result { result = .rewrite(regs, exit: .restore) }
        switch result {
        case .fail, .succeed: restoreModes(t)
        default: break
        }
        switch result {
        case .hold:
            break
        case .allow:
            resume(t)
        case .rewrite(let new, let action):
            t.pending = Pending(original: regs, onExit: action)
            Trace.setRegisters(t.pid, new)
            Trace.resume(t.pid, stopAtSyscalls: true)
        case .fail(let e):
            skip(t, &regs, -Int64(e.rawValue))
        case .succeed(let v):
            skip(t, &regs, v)
        }
    }

    /// The call is not run: syscall number -1, and the result set now (after a seccomp
    /// stop the kernel leaves it) or at the exit stop (after a syscall-entry stop).
    func skip(_ t: Tracee, _ regs: inout Trace.Registers, _ value: Int64) {
        let original = regs
        regs.syscall = -1
        regs.result = value
        Trace.setRegisters(t.pid, regs)
        // A guest tracer stepping system calls sees the exit too, with the registers the
        // call was made with.
        if filterActive && !(guests.isActive && guests.stepsSyscalls(t.pid)) {
            Trace.resume(t.pid, stopAtSyscalls: false)
        } else {
            t.pending = Pending(original: original, onExit: .setResult(value))
            Trace.resume(t.pid, stopAtSyscalls: true)
        }
    }

    func exit(_ t: Tracee) {
        t.execTarget = nil
        guard let p = t.pending else { return }
        t.pending = nil
        let call = engineCall(p.original)
        let invalidates = t.invalidatesAtExit
        t.invalidatesAtExit = false
        guard var now = Trace.registers(t.pid) else {
            if invalidates { cacheGeneration &+= 1 }
            return
        }
        // A call that failed changed nothing.
        if invalidates, now.result >= 0 { cacheGeneration &+= 1 }
        now.compat = p.original.compat
        callEnded(t, call: call, result: now.result)
        var regs = p.original
        regs.result = now.result
        if call == Syscall.seccomp, t.pid == command {
            let withListener = p.original.arg(1) & Self.newListener != 0
            if now.result >= 0 {
                filterActive = true
                if withListener { listenerExpected = true } else { log.step("seccomp filter in place: path calls are traced") }
            } else {
                let e = Errno(rawValue: Int32(truncatingIfNeeded: -now.result))
                // An old kernel, or a profile that refuses listeners: the child installs the
                // filter that traces those calls too; without that one, every call stops.
                log.step(withListener ? "no seccomp user notification (seccomp SECCOMP_FILTER_FLAG_NEW_LISTENER\(p.original.arg(1) & Self.waitKillableRecv != 0 ? "|WAIT_KILLABLE_RECV" : ""): \(e)): stat, access, readlink and open are traced instead"
                                      : "no seccomp filter (seccomp SECCOMP_SET_MODE_FILTER: \(e)): every system call stops")
            }
        }
        switch p.onExit {
        case .restore: break
        case .setResult(let v): regs.result = v
        case .readlink(let buffer, let size): regs.result = readlinkExit(t, buffer: buffer, size: size, result: now.result)
        case .emulated(let e): regs.result = emulatedExit(e, t, result: now.result)
        case .socketName(let address, let length, let buffer):
            if now.result >= 0 { socketNameExit(t, address: address, length: length, buffer: buffer) }
        }
        Trace.setRegisters(t.pid, regs)
    }

    /// A rename or hard link (`nr`) whose first path is neither a directory nor a symlink
    /// (nor swapped with one: RENAME_EXCHANGE): a file gets another name, which the caches
    /// never named wrongly. False when that cannot be told.
    private func movesOnlyAFile(_ t: Tracee, _ regs: Trace.Registers, _ nr: Int64) -> Bool {
        if nr == Syscall.renameat2, regs.arg(4) & 2 /* RENAME_EXCHANGE */ != 0 { return false }
        guard case .paths(let args)? = abi(regs).ownGroups[regs.syscall] ?? SyscallTable.group(nr), let a = args.first,
              regs.arg(a.path) != 0, case .success(let path) = Trace.readString(t.pid, at: regs.arg(a.path)), !path.isEmpty
        else { return false }
        let fd = a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
        guard case .success(let tr) = translate(t, path, dirfd: fd, follow: false) else { return false }
        return Self.namesOnlyAFile(hostPath(t, tr, dirfd: fd, follow: false))
    }

    /// `host` is there and is neither a directory nor a symlink (its last symlink followed
    /// with `follow`): another name for it is one the caches never named wrongly.
    static func namesOnlyAFile(_ host: String, follow: Bool = false) -> Bool {
        var st = stat()
        guard fstatat(atFDCWD, host, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type != S_IFDIR && type != S_IFLNK
    }

    static let newListener: UInt64 = 1 << 3  // SECCOMP_FILTER_FLAG_NEW_LISTENER
    static let waitKillableRecv: UInt64 = 1 << 5  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

    /// The ABI of the call `regs` hold (TracedABI).
    func abi(_ regs: Trace.Registers) -> TracedABI { TracedABI.of(compat: regs.compat) }

    /// The engine's number of the call `regs` hold (its x86_64 name's); -1 for one the
    /// engine's tables do not describe.
    func engineCall(_ regs: Trace.Registers) -> Int64 { abi(regs).engineNumber(regs.syscall) ?? -1 }

    /// The command's filter went in with a listener, which it sends over `listenerSocket`
    /// right after (pidfd_getfd would need Linux 5.6, and Docker's profile denies it): take
    /// it, and wait for stops and notifications together from now on. `required`: the
    /// command made a traced call since, so the listener must be there.
    private func takeListener(required: Bool) {
        guard let mine = Files.receiveDescriptor(listenerSocket) else {
            // Without the listener its calls would wait for ever: the sandbox cannot go on.
            if required { failSetup("seccomp listener: not received from the command") }
            return
        }
        listenerExpected = false
        Files.close(listenerSocket)
        listenerSocket = -1
        do throws(SysError) {
            let events = try Signals.childEvents()
            SeccompNotify.wakeUpSynchronously(mine)
            listener = mine
            childEvents = events
            notified = SyscallTable.notified
            if emulator?.initialCredentials != nil { notified[SyscallTable.fstat.nr] = SyscallTable.fstat.call }
            for nr in hostNotified { notified[nr] = SyscallTable.notifiedOnHost[nr] }
            let opens = hostNotified.contains(Syscall.number("openat"))
            let changes = hostNotified.contains(Syscall.rmdir)
            log.step("seccomp listener received from the command: stat, access, readlink\(changes ? ", statfs" : "")\(opens ? ", open" : "")\(changes ? ", unlink, rmdir, rename, link, mkdir, utimensat" : "") are answered on it")
        } catch {
            Files.close(mine)
            failSetup("seccomp listener: \(error)")
        }
    }

    /// The sandbox cannot be set up: say why (burrow exits 125) and end the command.
    func failSetup(_ what: String) {
        if setupFailure == nil { setupFailure = what }
        listenerExpected = false
        Proc.kill(command, SIGKILL)
    }

    func enter(_ group: SyscallGroup, _ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        switch group {
        case .paths(let args): return pathsEnter(t, regs, args)
        case .readlink(let arg, let buffer, let size): return readlinkEnter(t, regs, arg, buffer: buffer, size: size)
        case .execve(let arg, let argv): return execEnter(t, regs, arg, argv: argv)
        case .getcwd: return getcwdEnter(t, regs)
        case .socketAddress(let addr, let length): return socketEnter(t, regs, addr: addr, length: length)
        case .socketName(let addr, let length):
            guard regs.arg(addr) != 0, regs.arg(length) != 0, let size = Trace.read(t.pid, at: regs.arg(length), count: 4) else { return .allow }
            let buffer = Int(size.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
            return .rewrite(regs, exit: .socketName(address: regs.arg(addr), length: regs.arg(length), buffer: buffer))
        case .socketCall: return socketCallEnter(t, regs)
        case .chroot: return chrootEnter(t, regs)
        case .refused: return .fail(.notPermitted)
        case .ptrace: return guestPtraceEnter(t, regs)
        case .wait(let waitid): return guestWaitEnter(t, regs, waitid: waitid)
        case .kill(let target, let signal, let thread): return guestKillEnter(t, regs, target: target, signal: signal, thread: thread)
        }
    }
}
