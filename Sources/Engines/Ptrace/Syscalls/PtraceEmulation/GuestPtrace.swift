import BurrowKernel
import Glibc
import SystemPackage

// ptrace inside the guest. Every guest process is the supervisor's tracee, and a process
// has one tracer, so a guest's own ptrace would fail with EPERM. Instead its ptrace, wait4
// and waitid are answered here (the seccomp filter sends them to the supervisor):
//
//   - PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE make a virtual relationship
//     (GuestTracing.swift); ATTACH sends the SIGSTOP the kernel would.
//   - A real stop of a virtually traced process that its guest tracer asked for (signals,
//     group stops, PTRACE_SYSCALL's entry and exit, the PTRACE_O_TRACE* events) is held:
//     the process stays in its real ptrace-stop, after the supervisor has done its own work
//     (at a system call's exit the registers are the ones the guest made, not the
//     translated ones), and the guest tracer gets SIGCHLD.
//   - The guest tracer's wait4/waitid reports held stops; with none to report it is held
//     itself at the call's entry until one comes (or a real child of its own exits: then
//     the kernel runs the call).
//   - Its requests (GETREGS, PEEKDATA, GETSIGINFO, GET_SYSCALL_INFO, CONT, SYSCALL,
//     DETACH...) are carried out by the supervisor on the tracee, its buffers copied
//     between the guest tracer and the supervisor.
//   - When the guest tracer exits, its tracees are let go (killed with PTRACE_O_EXITKILL).
//
//   - A guest tracer with PTRACE_O_TRACESECCOMP gets the seccomp stops of its tracee
//     first (its own filter's SECCOMP_RET_TRACE: a proot or burrow inside); when it lets the
//     call go on, the supervisor does its own work on the call as the guest left it. The
//     stops the supervisor's own filter makes are reported too: the two filters' stops
//     cannot be told apart (both say SECCOMP_RET_TRACE).
//
// Known gaps: PEEKSIGINFO, and a guest tracer that is itself traced by a guest.

extension Tracer {
    static let sigstop = SIGSTOP, sigtrap = SIGTRAP, sigchld = SIGCHLD

    // MARK: ptrace(2)

    func guestPtraceEnter(_ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        let request = Int(truncatingIfNeeded: Int64(bitPattern: regs.arg(0)))
        let pid = pid_t(truncatingIfNeeded: regs.arg(1))
        switch guestPtrace(t, request, pid, addr: regs.arg(2), data: regs.arg(3)) {
        case .success(let v): return .succeed(v)
        case .failure(let e): return .fail(e)
        }
    }

    private func errno(_ e: GuestPtraceError) -> Errno {
        switch e {
        case .notPermitted: return .notPermitted
        case .noSuchProcess: return .noSuchProcess
        case .invalid: return .invalidArgument
        case .io: return .ioError
        }
    }

    private func guestPtrace(_ t: Tracee, _ raw: Int, _ pid: pid_t, addr: UInt64, data: UInt64) -> Result<Int64, Errno> {
        let me = t.pid
        guests.called(me)
        do throws(GuestPtraceError) {
            guard let request = PtraceRequest(rawValue: raw) else {
                _ = try guests.stoppedTracee(pid, of: me)
                return .failure(.ioError)
            }
            switch request {
            case .traceMe:  // the parent becomes the tracer.
                guard let parent = Self.statusField(me, "PPid"), tracees[parent] != nil else { throw .notPermitted }
                try guests.attach(me, by: parent, .traceMe)
                return .success(0)
            case .attach, .seize:
                guard tracees[pid] != nil else { throw tracees.isEmpty ? .noSuchProcess : .notPermitted }
                if let a = Self.statusField(pid, "Tgid"), a == (Self.statusField(me, "Tgid") ?? me) { throw .notPermitted }
                if request == .attach {
                    try guests.attach(pid, by: me, .attach)
                    if let target = tracees[pid], target.heldInGroupStop {
                        // Stopped already: that is the stop the tracer sees.
                        target.heldInGroupStop = false
                        _ = guestTakes(target, .signal(Self.sigstop))
                    } else if let target = tracees[pid], !target.started {
                        // Just forked: its first SIGSTOP is still to come (a second one
                        // would merge with it); that one is the tracer's.
                        target.attachStopPending = true
                    } else {
                        Trace.signalThread(Self.statusField(pid, "Tgid") ?? pid, pid, Self.sigstop)
                    }
                } else {
                    guard addr == 0 else { throw .io }
                    try guests.attach(pid, by: me, .seize(GuestTraceOptions(rawValue: data)))
                }
                return .success(0)
            case .cont, .syscall, .singleStep:
                guard data < 65 else { throw .io }
                let how: GuestResume = request == .cont ? .cont : request == .syscall ? .syscall : .singleStep
                let left = try guests.resume(pid, by: me, how)
                continueTracee(pid, from: left, signal: Int32(data))
                return .success(0)
            case .detach:
                guard data < 65 else { throw .io }
                let left = try guests.detach(pid, by: me)
                continueTracee(pid, from: left, signal: Int32(data))
                return .success(0)
            case .kill:
                guard guests.tracer(of: pid) == me else { throw .noSuchProcess }
                Proc.kill(pid, SIGKILL)
                return .success(0)
            case .interrupt:
                if let target = tracees[pid], target.heldInGroupStop, guests.tracer(of: pid) == me {
                    target.heldInGroupStop = false
                    _ = guestTakes(target, .group(Self.sigstop))
                } else if try guests.interrupt(pid, by: me) {
                    Trace.signalThread(Self.statusField(pid, "Tgid") ?? pid, pid, Self.sigstop)
                }
                return .success(0)
            case .listen:  // kept stopped, until a SIGCONT.
                try guests.listen(pid, by: me)
                if let target = tracees[pid] {
                    // A signal already pending (the SIGCONT that ends the stop) wakes it now.
                    if Self.pendingSignals(pid) != 0 { resume(target) } else { target.heldInGroupStop = true }
                }
                return .success(0)
            case .setOptions:
                let options = GuestTraceOptions(rawValue: data)
                try guests.setOptions(pid, by: me, options)
                return .success(0)
            case .getEventMsg:
                let l = try guests.stoppedTracee(pid, of: me)
                return put(t, at: data, withUnsafeBytes(of: l.message.littleEndian, Array.init)).map { 0 }
            case .peekText, .peekData, .peekUser, .pokeText, .pokeData, .pokeUser, .getRegs, .setRegs, .getFPRegs,
                 .setFPRegs, .getSigInfo, .setSigInfo, .getRegSet, .setRegSet, .getSigMask, .setSigMask, .getSyscallInfo:
                _ = try guests.stoppedTracee(pid, of: me)
                return carryOut(t, request, on: pid, addr: addr, data: data)
            }
        } catch {
            return .failure(errno(error))
        }
    }

    /// The supervisor's own options, plus the events only its guest tracer wants: set on
    /// the stopped tracee before it is resumed (PTRACE_SETOPTIONS needs it stopped; a
    /// seized one is still running).
    func syncGuestOptions(_ t: Tracee) {
        let wanted = UInt((guests.link(t.pid)?.options ?? []).intersection([.traceExit, .traceVforkDone]).rawValue)
        guard wanted != t.guestOptions else { return }
        if (try? Trace.setOptions(t.pid, Self.options.union(Trace.Options(rawValue: wanted)))) != nil { t.guestOptions = wanted }
    }

    private func put(_ t: Tracee, at address: UInt64, _ bytes: [UInt8]) -> Result<Void, Errno> {
        guard address != 0, Trace.write(t.pid, at: address, bytes) else { return .failure(.badAddress) }
        return .success(())
    }

    private func get(_ t: Tracee, at address: UInt64, count: Int) -> Result<[UInt8], Errno> {
        guard address != 0, let b = Trace.read(t.pid, at: address, count: count) else { return .failure(.badAddress) }
        return .success(b)
    }

    /// A request on the stopped tracee's state: run here, its buffers copied from and to
    /// the guest tracer `t`.
    private func carryOut(_ t: Tracee, _ request: PtraceRequest, on pid: pid_t, addr: UInt64, data: UInt64) -> Result<Int64, Errno> {
        #if arch(x86_64)
        let regsSize = 216, fpregsSize = 512  // struct user_regs_struct, user_fpregs_struct
        #else
        let regsSize = 0, fpregsSize = 0
        #endif
        switch request {
        case .peekText, .peekData, .peekUser:  // the word goes to *data.
            return Trace.request(request.rawValue, pid, addr: UInt(addr), data: 0).flatMap { w in
                put(t, at: data, withUnsafeBytes(of: Int64(w).littleEndian, Array.init)).map { 0 }
            }
        case .pokeText, .pokeData, .pokeUser:
            return Trace.request(request.rawValue, pid, addr: UInt(addr), data: UInt(data)).map { _ in 0 }
        case .getRegs, .getFPRegs, .getSigInfo, .getSigMask, .getSyscallInfo:
            // GETSIGMASK's addr: the mask's size; GET_SYSCALL_INFO's: the buffer's
            let size = request == .getRegs ? regsSize : request == .getFPRegs ? fpregsSize : request == .getSigInfo ? 128 : Int(min(addr, 256))
            let a: UInt = request == .getSigMask || request == .getSyscallInfo ? UInt(size) : 0
            return Trace.request(request.rawValue, pid, addr: a, buffer: [UInt8](repeating: 0, count: size)).flatMap { r, bytes in
                let shown = request == .getSyscallInfo ? Array(bytes.prefix(min(size, max(0, r)))) : bytes
                return put(t, at: data, shown).map { Int64(r) }
            }
        case .setRegs, .setFPRegs, .setSigInfo, .setSigMask:
            let size = request == .setRegs ? regsSize : request == .setFPRegs ? fpregsSize : request == .setSigInfo ? 128 : Int(min(addr, 8))
            let a: UInt = request == .setSigMask ? UInt(size) : 0
            return get(t, at: data, count: size).flatMap { bytes in
                Trace.request(request.rawValue, pid, addr: a, buffer: bytes).map { r, _ in Int64(r) }
            }
        case .getRegSet, .setRegSet:  // data is a struct iovec.
            return get(t, at: data, count: 16).flatMap { iov in
                let base = iov.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self) }
                let length = Int(min(iov.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }, 1 << 16))
                let input: Result<[UInt8], Errno> = request == .setRegSet ? get(t, at: base, count: length) : .success([UInt8](repeating: 0, count: length))
                return input.flatMap { bytes in
                    Trace.regset(request.rawValue, pid, type: UInt(addr), bytes).flatMap { out in
                        guard request == .getRegSet else { return .success(0) }
                        return put(t, at: base, out).flatMap {
                            put(t, at: data + 8, withUnsafeBytes(of: UInt64(out.count).littleEndian, Array.init)).map { 0 }
                        }
                    }
                }
            }
        default:
            return .failure(.ioError)
        }
    }

    /// The tracee goes on from the stop it was held in, as the guest tracer asked.
    func continueTracee(_ pid: pid_t, from stop: GuestStop, signal: Int32) {
        guard let t = tracees[pid] else { return }
        switch stop {
        case .syscall(entry: true) where !filterActive, .event(.seccomp):
            // The supervisor's own work at this entry waited for the guest tracer (it may
            // have changed the call).
            enter(t)
        case .interrupted:
            resume(t)
        default:
            resume(t, signal: signal)
        }
    }

    // MARK: Stops

    /// A SIGSTOP `t` sent itself, its parent a guest tracer: its group stop is kept.
    func guestSelfStop(_ t: Tracee, _ sig: Int32) {
        guard sig == Self.sigstop, let parent = t.parent, guests.callers.contains(parent) else { return }
        guard case .success(let (_, info)) = Trace.request(PtraceRequest.getSigInfo.rawValue, t.pid, addr: 0, buffer: [UInt8](repeating: 0, count: 128)) else { return }
        let code = info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Int32.self) }
        let sender = info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: Int32.self) }
        // SI_USER (kill) or SI_TKILL (raise), from its own process.
        if code == 0 || code == -6, sender == (Self.statusField(t.pid, "Tgid") ?? t.pid) { t.selfStopped = true }
    }

    /// kill, tkill, tgkill by a guest: a SIGCONT first lets go the processes it names that
    /// are kept in their group stop (the signal then arrives as the kernel sends it).
    func guestKillEnter(_ t: Tracee, _ regs: Trace.Registers, target: Int, signal: Int, thread: Bool) -> EnterResult {
        guard regs.arg(signal) == UInt64(SIGCONT) else { return .allow }
        let named = pid_t(truncatingIfNeeded: regs.arg(target))
        for (pid, s) in tracees where s.heldInGroupStop || s.selfStopped {
            let matches = thread ? pid == named : named <= 0 || named == -1 || (Self.statusField(pid, "Tgid") ?? pid) == named
            guard matches else { continue }
            // Not in its group stop yet (the supervisor has still to take that stop): it
            // will not be kept there.
            s.selfStopped = false
            if s.heldInGroupStop {
                s.heldInGroupStop = false
                resume(s)
            }
        }
        return .allow
    }

    /// A real stop of `t`: true when its guest tracer takes it (then `t` stays stopped and
    /// the tracer hears of it: its held wait is answered, else it gets SIGCHLD).
    func guestTakes(_ t: Tracee, _ stop: GuestStop, message: UInt64 = 0) -> Bool {
        guard guests.stopped(t.pid, stop, message: message), let tracer = guests.tracer(of: t.pid) else { return false }
        notifyGuestTracer(tracer)
        return true
    }

    private func notifyGuestTracer(_ tracer: pid_t) {
        if guests.isHeld(tracer) { wakeGuestTracer(tracer) } else { Proc.kill(tracer, Self.sigchld) }
    }

    /// A new tracee's first stop: held when it is a guest tracer's (auto-attached), or
    /// when its parent's fork event, which says so, has not come yet.
    func guestFirstStop(_ t: Tracee) -> Bool {
        if t.attachStopPending {
            t.attachStopPending = false
            if guestTakes(t, .signal(Self.sigstop)) { return true }
        }
        // Only a tracee auto-attached at its parent's event: a process the guest seized
        // or attached just after its fork starts for the supervisor alone.
        if guests.link(t.pid)?.autoAttached == true { return guestTakes(t, .initial) }
        if t.parent == nil {
            t.awaitingParent = true
            return true
        }
        return false
    }

    /// `t` made `c`: auto-attached to `t`'s guest tracer when it asked for the event;
    /// true when `t` is held in that event.
    func guestForked(_ t: Tracee, _ c: Tracee, _ event: Trace.Event) -> Bool {
        let e: GuestEvent = event == .vfork ? .vfork : event == .clone ? .clone : .fork
        let attached = guests.forked(c.pid, by: t.pid, e)
        if c.awaitingParent {
            c.awaitingParent = false
            if !(attached && guestTakes(c, .initial)) { resume(c) }
        }
        return guestTakes(t, .event(e), message: UInt64(c.pid))
    }

    /// A seccomp stop of a guest tracer's tracee that asked for them: held for it (with the
    /// filter's data as the event message), the supervisor's own work done when it resumes.
    func guestSeccompStop(_ t: Tracee) -> Bool {
        guestTakes(t, .event(.seccomp), message: UInt64(Trace.eventMessage(t.pid)))
    }

    /// After a successful execve: the event if asked for, else the SIGTRAP the kernel sends
    /// a tracee that was not seized.
    func guestExec(_ t: Tracee, former: pid_t) -> Bool {
        guard let l = guests.link(t.pid) else { return false }
        if guestTakes(t, .event(.exec), message: UInt64(UInt32(bitPattern: former))) { return true }
        if !l.seized { Trace.signalThread(t.pid, t.pid, Self.sigtrap) }
        return false
    }

    func guestEvent(_ t: Tracee, _ event: Trace.Event) -> Bool {
        let e: GuestEvent
        switch event {
        case .vforkDone: e = .vforkDone
        case .exit: e = .exit
        default: return false
        }
        return guestTakes(t, .event(e), message: UInt64(Trace.eventMessage(t.pid)))
    }

    /// A system-call stop of a guest tracer's tracee: entry (only when the guest stepped it;
    /// without the filter, the supervisor's own entry work follows), or exit (the
    /// supervisor's restore first, so the guest reads the registers its tracee made).
    func guestSyscallStop(_ t: Tracee) {
        switch Trace.syscallStopKind(t.pid) {
        case .entry:
            if guestTakes(t, .syscall(entry: true)) { return }
            if filterActive { resume(t) } else { enter(t) }
        default:
            exit(t)
            if guestTakes(t, .syscall(entry: false)) { return }
            resume(t)
        }
    }

    /// A process is gone: as a guest tracer, its tracees are let go; as a tracee, its exit
    /// goes to its guest tracer; as a real child of a held guest tracer, that tracer's wait
    /// is run by the kernel (which reaps it).
    func guestExited(_ pid: pid_t, _ exit: Proc.Exit, parent: pid_t?) {
        guests.forget(caller: pid)
        heldNotifications[pid] = nil
        for (tracee, stop, kill) in guests.tracerExited(pid) {
            if kill {
                Proc.kill(tracee, SIGKILL)
            } else if let stop, !stop.isExit {
                continueTracee(tracee, from: stop, signal: 0)
            }
        }
        let stop: GuestStop
        switch exit {
        case .exited(let c): stop = .exited(c)
        case .signaled(let s): stop = .killed(s)
        }
        if let tracer = guests.tracer(of: pid), guests.exited(pid, stop, tracerIsParent: tracer == parent) {
            notifyGuestTracer(tracer)
            return
        }
        guard let parent, let r = guests.waitRequest(parent), r.selector.matches(pid), Self.isZombie(pid) else { return }
        _ = guests.releaseHeldWait(parent)
        if answerHeldNotification(parent, .allow) { return }
        if let v = tracees[parent] { resume(v) }
    }

    // MARK: wait4, waitid

    func guestWaitEnter(_ t: Tracee, _ regs: Trace.Registers, waitid: Bool) -> EnterResult {
        guard guests.isActive, let r = waitRequest(regs, waitid: waitid) else { return .allow }
        return answerWait(t, r, guestWait(t, r))
    }

    /// wait4, waitid on the listener (the host's ABI): let through unless a guest traces;
    /// a wait held for a guest tracee's stop keeps its notification (`heldNotifications`)
    /// until it is answered.
    func guestWaitNotified(_ t: Tracee, _ regs: Trace.Registers, waitid: Bool, id: UInt64) -> NotifyAnswer {
        guard guests.isActive, let r = waitRequest(regs, waitid: waitid) else { return .proceed }
        let answer = notifyAnswer(answerWait(t, r, guestWait(t, r)))
        if answer == .answered { heldNotifications[t.pid] = id }
        return answer
    }

    /// A wait's result as the listener's answer; `.answered` for one held.
    private func notifyAnswer(_ r: EnterResult) -> NotifyAnswer {
        switch r {
        case .allow, .rewrite: return .proceed
        case .hold: return .answered
        case .succeed(let v): return .value(v)
        case .fail(let e): return .error(e)
        }
    }

    /// Answers `tracer`'s held wait on the listener, if it was one taken there: true then.
    private func answerHeldNotification(_ tracer: pid_t, _ r: EnterResult) -> Bool {
        guard let id = heldNotifications[tracer] else { return false }
        if case .hold = r { return true }
        heldNotifications[tracer] = nil
        respond(notifyAnswer(r), id: id)
        return true
    }

    private func guestWait(_ t: Tracee, _ r: WaitRequest) -> WaitOutcome {
        var outcome = guests.wait(t.pid, r)
        if outcome == .block || outcome == .nothingYet, Self.hasZombieChild(t.pid, r.selector) {
            // A real child has ended already: the kernel reports it.
            _ = guests.releaseHeldWait(t.pid)
            outcome = .kernel
        }
        return outcome
    }

    /// The wait4 or waitid in `regs`; nil for one the kernel answers (P_PIDFD).
    private func waitRequest(_ regs: Trace.Registers, waitid: Bool) -> WaitRequest? {
        let options: UInt64
        var r: WaitRequest
        if waitid {
            let idType = regs.arg(0), id = pid_t(truncatingIfNeeded: regs.arg(1))
            options = regs.arg(3)
            guard idType <= 2 else { return nil }  // P_PIDFD: the kernel's
            r = WaitRequest(kind: .waitid(info: regs.arg(2), rusage: regs.arg(4)),
                            selector: idType == 1 ? .pid(id) : .any, noHang: false, noWait: false)
            r.exits = options & 4 /* WEXITED */ != 0
        } else {
            options = regs.arg(2)
            r = WaitRequest(kind: .wait4(status: regs.arg(1), rusage: regs.arg(3)),
                            selector: WaitSelector(wait4: pid_t(truncatingIfNeeded: regs.arg(0))), noHang: false, noWait: false)
        }
        // i386's struct rusage: two 8-byte timevals and 14 4-byte longs.
        if regs.compat { r.rusageSize = 72 }
        r.noHang = options & 1 /* WNOHANG */ != 0
        r.noWait = options & 0x0100_0000 /* WNOWAIT */ != 0
        return r
    }

    private func answerWait(_ t: Tracee, _ r: WaitRequest, _ outcome: WaitOutcome) -> EnterResult {
        switch outcome {
        case .kernel: return .allow
        case .block: return .hold
        case .nothingYet:
            if case .waitid(let info, _) = r.kind, info != 0 {
                guard Trace.write(t.pid, at: info, [UInt8](repeating: 0, count: 128)) else { return .fail(.badAddress) }
            }
            return .succeed(0)
        case .report(let pid, let stop, let seized, let options):
            let rusage: UInt64
            let value: Int64
            switch r.kind {
            case .wait4(let status, let u):
                rusage = u
                value = Int64(pid)
                let s = GuestTracing.waitStatus(stop, seized: seized, options: options)
                if status != 0, !Trace.write(t.pid, at: status, withUnsafeBytes(of: s.littleEndian, Array.init)) { return .fail(.badAddress) }
            case .waitid(let info, let u):
                rusage = u
                value = 0
                let (code, status) = GuestTracing.childInfo(stop, seized: seized, options: options)
                var si = [UInt8](repeating: 0, count: 128)
                func field(_ offset: Int, _ v: Int32) { withUnsafeBytes(of: v.littleEndian) { si.replaceSubrange(offset..<offset + 4, with: $0) } }
                field(0, Self.sigchld)  // si_signo
                field(8, code)  // si_code
                field(16, pid)  // si_pid
                field(20, Int32(bitPattern: getuid()))  // si_uid
                field(24, status)  // si_status
                if info != 0, !Trace.write(t.pid, at: info, si) { return .fail(.badAddress) }
            }
            if rusage != 0 { _ = Trace.write(t.pid, at: rusage, [UInt8](repeating: 0, count: r.rusageSize)) }
            return .succeed(value)
        }
    }

    /// A held guest tracer's wait, tried again: answered (the call skipped with its
    /// result), still held, or let run by the kernel.
    private func wakeGuestTracer(_ tracer: pid_t) {
        guard let r = guests.waitRequest(tracer), let outcome = guests.retryHeldWait(tracer), let v = tracees[tracer] else { return }
        let answer = answerWait(v, r, outcome)
        if answerHeldNotification(tracer, answer) { return }
        switch answer {
        case .hold: break
        case .allow, .rewrite: resume(v)
        case .succeed(let value):
            guard var regs = Trace.registers(v.pid) else { return }
            skip(v, &regs, value)
        case .fail(let e):
            guard var regs = Trace.registers(v.pid) else { return }
            skip(v, &regs, -Int64(e.rawValue))
        }
    }

    /// A guest tracer held in its wait with a signal to take: the wait ends as the kernel's
    /// would, with -ERESTARTSYS (restarted after a SA_RESTART handler, else EINTR, or the
    /// default action). The held call becomes getpid, and at its exit the original
    /// registers come back with that result, before the kernel delivers the signal.
    func interruptHeldWaits() {
        for tracer in guests.held.keys.sorted() {
            guard Self.deliverableSignals(tracer) != 0 else { continue }
            if let id = heldNotifications.removeValue(forKey: tracer) {
                // Held on the listener: the same result, which the kernel turns into a
                // restart or EINTR as it delivers the signal.
                _ = guests.releaseHeldWait(tracer)
                SeccompNotify.respond(listener, id: id, error: 512 /* ERESTARTSYS */)
                continue
            }
            guard let v = tracees[tracer], var regs = Trace.registers(tracer) else { continue }
            _ = guests.releaseHeldWait(tracer)
            let original = regs
            regs.syscall = Syscall.getpid
            Trace.setRegisters(tracer, regs)
            v.pending = Pending(original: original, onExit: .setResult(-512 /* ERESTARTSYS */))
            Trace.resume(tracer, stopAtSyscalls: true)
        }
    }

    // MARK: /proc

    /// A numeric field of /proc/PID/status (PPid, Tgid).
    static func statusField(_ pid: pid_t, _ name: String) -> pid_t? {
        guard let fd = try? Files.open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC) else { return nil }
        defer { Files.close(fd) }
        let text = String(decoding: (try? Files.readAll(fd, limit: 1 << 16)) ?? [], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
        return pid_t(line.dropFirst(name.count + 1).trimmingPrefix { $0 == " " || $0 == "\t" })
    }

    /// Whether a child of `pid` (of any of its threads) that `selector` names has ended and
    /// waits to be reaped (/proc/PID/task/TID/children).
    static func hasZombieChild(_ pid: pid_t, _ selector: WaitSelector) -> Bool {
        for name in Files.entries("/proc/\(pid)/task") {
            guard let tid = pid_t(name), let fd = try? Files.open("/proc/\(pid)/task/\(tid)/children", O_RDONLY | O_CLOEXEC) else { continue }
            let text = String(decoding: (try? Files.readAll(fd, limit: 1 << 20)) ?? [], as: UTF8.self)
            Files.close(fd)
            for child in text.split(separator: " ").compactMap({ pid_t($0.filter(\.isNumber)) })
            where selector.matches(child) && isZombie(child) {
                return true
            }
        }
        return false
    }

    /// Whether `signal` is pending for thread `pid` or its process.
    static func isPending(_ signal: Int32, _ pid: pid_t) -> Bool { pendingSignals(pid) & (1 << UInt64(signal - 1)) != 0 }

    /// The signals pending for thread `pid` or its process (SigPnd | ShdPnd).
    static func pendingSignals(_ pid: pid_t) -> UInt64 {
        guard let fd = try? Files.open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC) else { return 0 }
        defer { Files.close(fd) }
        let text = String(decoding: (try? Files.readAll(fd, limit: 1 << 16)) ?? [], as: UTF8.self)
        var mask: UInt64 = 0
        for line in text.split(separator: "\n") where line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") {
            mask |= UInt64(line.dropFirst(7).filter(\.isHexDigit), radix: 16) ?? 0
        }
        return mask
    }

    /// The signals pending for thread `pid` or its process that it does not block.
    static func deliverableSignals(_ pid: pid_t) -> UInt64 {
        guard let fd = try? Files.open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC) else { return 0 }
        defer { Files.close(fd) }
        let text = String(decoding: (try? Files.readAll(fd, limit: 1 << 16)) ?? [], as: UTF8.self)
        var pending: UInt64 = 0, blocked: UInt64 = 0
        for line in text.split(separator: "\n") {
            let value = { UInt64(line.dropFirst(7).filter(\.isHexDigit), radix: 16) ?? 0 }
            if line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") { pending |= value() }
            if line.hasPrefix("SigBlk:") { blocked = value() }
        }
        return pending & ~blocked
    }

    /// A zombie its real parent has yet to reap (state Z in /proc/PID/stat).
    static func isZombie(_ pid: pid_t) -> Bool {
        guard let fd = try? Files.open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC) else { return false }
        defer { Files.close(fd) }
        let text = (try? Files.readAll(fd, limit: 4096)) ?? []
        guard let close = text.lastIndex(of: UInt8(ascii: ")")), close + 2 < text.count else { return false }
        return text[close + 2] == UInt8(ascii: "Z")
    }
}
