import BurrowKernel
import BurrowSeccomp
import BurrowSandbox
import Glibc

/// Realises a `SandboxSpec` with no namespace and no privilege, as PRoot does: the command
/// runs traced, and every path it gives the kernel is translated from the guest's tree (the
/// rootfs and the binds) to the host's, and back where the kernel answers with a path.
///
///     burrow (supervisor, tracer)   translates path system calls, follows every process,
///       │                           forwards signals, returns the command's status
///       ├┄ cleaner (host)           only if something is made on the host: makes it, and
///       │                           removes it after the sandbox, even after kill -9
///       │                           (a grandchild, so that the tracer never waits for it)
///       └─ command (traced, under a seccomp filter that stops only the calls the engine
///                   translates or emulates, and sends the metadata queries to the
///                   supervisor's seccomp listener: Syscalls/Notified.swift)
///
/// Beyond paths, the `Emulator` fakes what needs privilege or namespaces: ids (with the
/// files' owners and modes remembered, `--fake-db`), uname and QEMU at execve; the calls
/// it needs are traced only when asked for.
///
/// Not a security boundary (docs/security.md): a traced process can still reach the host
/// through device nodes under a bind or the host's /proc. Both ABIs of an x86_64 host are
/// translated (i386 too); io_uring and untraced children are refused. Use the namespace
/// engine where user namespaces exist.
public enum PtraceEngine {
    /// Runs the sandbox; how it ended (the caller prints a failure: `Outcome`).
    public static func run(_ spec: SandboxSpec) -> Outcome {
        do {
            return try supervise(spec)
        } catch {
            return .failed(error.description, status: error.status)
        }
    }

    /// Burrow's failures (shared with the namespace engine: Sources/Kernel/Failure.swift).
    typealias Failure = BurrowKernel.Failure

    /// What goes wrong once the command has run (it does not change its status).
    static func report(_ message: String) { Diagnostics.say(message) }

    /// Whether this host lets the engine run, and if not, why (for `burrow --engines`).
    /// The first option of `spec` this engine cannot honour, as a message; nil when it can.
    public static func refusal(_ spec: SandboxSpec) -> String? {
        Refusals.check(spec, hostUid: getuid(), hostGid: getgid())
    }

    public static func unavailableReason() -> String? {
        #if !arch(x86_64)
        return "only x86_64 is supported so far"
        #else
        if let scope = HostProbes.yamaPtraceScope, scope >= 3 {
            return "ptrace is disabled (kernel.yama.ptrace_scope = 3)"
        }
        return nil
        #endif
    }

    private static func supervise(_ spec: SandboxSpec) throws(Failure) -> Outcome {
        if let reason = unavailableReason() { throw Failure("the ptrace engine cannot run here: \(reason)") }
        if let refusal = Refusals.check(spec, hostUid: getuid(), hostGid: getgid()) {
            throw Failure(refusal)
        }
        let log = Log(enabled: spec.verbose)
        if spec.process.dieWithParent {
            // The tracees die with the supervisor (PTRACE_O_EXITKILL).
            guard (try? Proc.dieWithParent(SIGKILL, expectedParent: getppid())) == true else { return .exited(128 + SIGKILL) }
        }
        var setup = Setup(log: log)
        defer { setup.undo() }
        var bindings = try setup.build(spec)
        // Faked ids, uname, QEMU (Emulator.swift): their files and calls.
        let emulator = try makeEmulator(spec, setup: &setup, bindings: &bindings, log: log)
        if let made = try setup.makeDevDirectoryIfCleanerRuns() { bindings.rehost(made.binding, to: made.host) }

        // The command starts in its working directory, found in the guest.
        let cwdGuest = spec.process.chdir ?? .root
        var cwdHost: String
        var cwdCanonical: GuestPath
        do throws(PathFailure) {
            cwdCanonical = try Canonicalizer(bindings: bindings).canonical(cwdGuest.description, base: .root, followLast: true, lookup: setup.tree)
        } catch {
            throw Failure("chdir \(cwdGuest): Too many levels of symbolic links")
        }
        // In --dev's directory: made now (the host's /dev stands in for it until then).
        if let standIn = setup.devStandIn, bindings.locate(cwdCanonical).binding == standIn.binding {
            let made = try setup.makeDevDirectory()
            bindings.rehost(made.binding, to: made.host)
        }
        cwdHost = bindings.host(cwdCanonical)
        let tree = setup.tree
        // PRoot's default working directory may be missing in the guest: then `/`.
        if spec.process.chdirIsOptional, (try? Files.stat(cwdHost, at: AT_FDCWD, follow: true)) == nil {
            cwdHost = bindings.host(.root)
            cwdCanonical = .root
        }

        let env = spec.process.launchEnvironment(caller: BurrowKernel.Credentials.environment(), workingDirectory: cwdCanonical.description)
        let forwarded = Signals.forwarded
        var blocked = Signals.set(forwarded)
        var callerMask = sigset_t()
        sigprocmask(SIG_BLOCK, &blocked, &callerMask)
        var launch = Trace.ChildLaunch(
            candidates: candidates(spec, env: env, cwd: cwdCanonical, bindings: bindings, tree: tree), argv: spec.process.execArgv,
            environment: env.map { "\($0.0)=\($0.1)" }, hostWorkingDirectory: cwdHost, signalMask: callerMask)
        launch.newSession = spec.process.newSession
        // The command leads a process group of its own (a kill(0, ...) inside reaches the
        // sandbox only) and, if burrow is in its terminal's foreground, gets the terminal.
        var jobs = JobControl(newSession: spec.process.newSession)
        defer { jobs.takeBack() }
        launch.foregroundTerminal = jobs.handOver
        guard SyscallTable.abi != nil else { throw Failure("the ptrace engine has no system-call table for this machine") }
        SyscallTable.resolveAll()
        // The ABIs whose calls are translated (x86_64 and its i386 compat ABI); others are refused.
        let abis = TracedABI.all
        // An untraced child (CLONE_UNTRACED) and io_uring are refused, and terminal injection (TIOCSTI,
        // TIOCLINUX) unless allowed: in the filter, or at the tracer's stops where the
        // kernel takes no filter.
        let refusals = TraceFilter.Refusals(
            TraceFilter.outOfReach + (spec.security.allowTerminalInjection ? [] : [TerminalInjection.rule]), abis: abis.map(\.architecture))
        launch.shellFallback = spec.process.commandLookup.shellFallback
        let traced = Array(Set(SyscallTable.traced + (emulator?.traced ?? []))).sorted()
        // Preferred: the queries go to the listener instead (Syscalls/Notified.swift).
        let fakesIds = emulator?.initialCredentials != nil
        let notified = SyscallTable.notified.keys.sorted() + (fakesIds ? [SyscallTable.fstat.nr] : [])
        // statfs, the opens and the calls that change a path (remove, rename, mkdir,
        // utimensat; chown, chmod and the id calls when faked) too, where the supervisor may run them as the
        // caller (and, for the opens, send it the descriptor: Syscalls/Notified.swift).
        let onHost = SyscallTable.hostNotified(sendsDescriptors: SeccompNotify.sendsDescriptors, privileged: geteuid() == 0,
                                               fakesIds: fakesIds)
        let opensNotified = onHost.contains { $0.tracedIfArgument != nil }
        // The supervisor writes the answers into the caller's memory while it waits in the
        // kernel, not in a ptrace stop: PTRACE_POKEDATA cannot reach it there.
        Trace.Memory.noteFallback = { log.step($0) }
        Trace.Memory.probe()
        do throws(SeccompError) {
            let programs = try TraceFilter.programs(trace: traced, notify: notified, notifyOnHost: onHost, refusals: refusals, abis: abis)
            if Trace.Memory.reachableWhileRunning {
                launch.notifyFilter = programs.withListener.map { ($0.code, $0.jt, $0.jf, $0.k) }
                // An open the supervisor completed must not run again (a file made with
                // O_EXCL, a FIFO's other end met): a signal's handler waits for the answer.
                launch.notifyKillable = opensNotified
            } else {
                log.step("no seccomp user notification (\(Trace.Memory.writingName) reaches a tracee only in a ptrace stop): stat, access and readlink are traced instead")
            }
            launch.filter = programs.traceOnly.map { ($0.code, $0.jt, $0.jf, $0.k) }
        } catch {
            throw Failure(error.message)
        }
        // Orphans of the command come back to the supervisor, which reaps them. (After the
        // set-up: the cleaner, started there, must not come back.)
        try? Proc.setChildSubreaper()
        let child: Trace.Child
        do { child = try Trace.startChild(launch) } catch { throw Failure(error) }
        defer {
            Files.close(child.report)
            Files.close(child.listenerSocket)
        }
        jobs.commandStarted(group: child.pid)
        log.step("traced command started as pid \(child.pid) in \(cwdHost)")
        Trace.forwardSignals(forwarded, to: child.pid)
        sigprocmask(SIG_SETMASK, &callerMask, nil)

        // The pid file was made by the cleaner (Setup), which removes it again.
        if let p = spec.process.pidFile, setup.pidFile >= 0 {
            do throws(SysError) {
                try Files.writeAll(setup.pidFile, Array("\(child.pid)\n".utf8), what: p.string)
            } catch {
                Proc.kill(child.pid, SIGKILL)
                _ = Proc.wait(child.pid, noHang: false)
                throw Failure(SysError("write pid file", p.string, errno: error.errno))
            }
        }

        let lastToExit = spec.process.status == .lastToExit
        let tracer = Tracer(bindings: bindings, tree: tree, command: child.pid,
                            keepChildren: spec.process.keepChildren || lastToExit, lastToExit: lastToExit)
        tracer.emulator = emulator
        tracer.jobs = jobs
        tracer.refusals = refusals
        tracer.listenerSocket = child.listenerSocket
        tracer.hostNotified = onHost.map(\.nr)
        tracer.log = log
        // --dev's directory, if not made yet, is made when the guest first needs it.
        if let standIn = setup.devStandIn {
            tracer.devStandIn = standIn.binding
            tracer.makeDevDirectory = { () throws(Failure) in try setup.makeDevDirectory() }
        }
        // The command runs as the same user: nothing of it may read or write the tracer's
        // memory (process_vm_writev, /proc/PID/mem) or take its descriptors (pidfd_getfd).
        // Not when burrow is itself traced (proot or burrow in proot): its own tracer must
        // still read its calls' paths, and has that access whatever the mode.
        ResidentMemory.prepare()
        if Proc.tracer(of: getpid()) == 0 { _ = try? Proc.setDumpable(false) }
        tracer.tracee(child.pid).guestCwd = cwdCanonical
        let exit = tracer.run()
        jobs = tracer.jobs
        do throws(Failure) { try emulator?.save() } catch { report(error.description) }
        if !tracer.initialExecDone, let f = Trace.childFailure(child.report, launch) {
            let subject = f.candidate.map { "\(f.step) \($0)" } ?? f.step
            let hint = f.candidate != nil && f.errno == .noSuchFileOrDirectory
                ? spec.commandNotFoundHint(rootHasBin: (try? Files.stat(spec.root.path.string + "/bin", at: Files.cwd)) != nil) : nil
            // 126/127 (the front-ends that say 1 for their own failures say it then: Outcome).
            return .failed(SysError(subject, errno: f.errno, hint: hint).description, status: f.status)
        }
        if let failure = tracer.setupFailure { throw Failure(failure) }
        return .exited(exit.status)
    }

    /// The guest paths the command's execve will try (the tracer translates them), found
    /// in the guest from its working directory.
    static func candidates(_ spec: SandboxSpec, env: [(String, String)], cwd: GuestPath, bindings: Bindings,
                           tree: HostTree) -> [String] {
        spec.process.commandLookup.candidates(for: spec.process.argv[0], environment: env) { dir in
            (try? Canonicalizer(bindings: bindings).canonical(dir, base: cwd, followLast: true, lookup: tree))?.description
        }
    }
}

