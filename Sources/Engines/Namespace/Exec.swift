import BurrowKernel
import BurrowSandbox
import Glibc

/// burrow-oci's `exec`: one more process in a sandbox that runs already. This process (the
/// exec call, single-threaded) joins the namespaces of a process of the sandbox and takes
/// its root (`ProcessNamespaces`), sets what the new process inherits (rlimits, umask,
/// oom_score_adj), then launches it as the set-up launches the command: `Launcher` (ids,
/// capabilities, no_new_privs, working directory, the seccomp filter last) and `ck_launch`.
///
///     burrow-oci exec     opens /proc/PID/ns/* and /proc/PID/root of the sandbox's command,
///       │                 setns: user first, then mnt, pid, ipc, uts, net, cgroup; chroot
///       └─ process        cloned into the PID namespace; waited for, or left running
///                         (`detached`) once it has exec'd
extension NamespaceEngine {
    /// Runs `spec`'s process (only its process, identity and security count) in the
    /// namespaces and root of process `target`. `started` gets the new process's pid (as the
    /// caller's PID namespace numbers it) once it has exec'd, and may fail the run. Detached:
    /// returns then, the process left running; else waits for it, passing on the signals
    /// burrow forwards, and returns its status (128+N for signal N).
    public static func exec(_ spec: SandboxSpec, joining target: pid_t, detached: Bool,
                            started: (pid_t) -> Failure?) -> Outcome {
        do throws(Failure) {
            return .exited(try execute(spec, joining: target, detached: detached, started: started))
        } catch {
            return .failed(error.message, status: error.status)
        }
    }

    private static func execute(_ spec: SandboxSpec, joining target: pid_t, detached: Bool,
                                started: (pid_t) -> Failure?) throws(Failure) -> Int32 {
        let log = Log(enabled: spec.verbose)
        // What needs the caller's /proc and files, first: the filter, the last capability,
        // the oom score (through /proc/self, which the container's /proc lacks).
        let seccomp = try SeccompSetup.program(for: spec, log: log)
        _ = Proc.lastCapability
        var maps = IDMaps(identity: spec.identity, hostUid: getuid(), hostGid: getgid())
        // The caller's terminal (/dev/tty, the host's), opened while it is in reach: in the
        // foreground, exec's process gets it as the sandbox's command does (JobControl), so
        // that it can read it, and Ctrl-C and Ctrl-Z reach it. Not for a detached process.
        // (With a terminal of its own, the caller's is not handed over either.)
        var jobs = JobControl(newSession: detached || spec.process.console != nil)
        let namespaces: ProcessNamespaces
        do throws(SysError) {
            if let adjustment = spec.process.oomScoreAdjustment { try InheritedSettings.adjustOOMScore(adjustment, log: log) }
            try InheritedSettings.applyLimits(spec.process, log: log)
            namespaces = try ProcessNamespaces.open(of: target)
        } catch {
            throw Failure(error)
        }
        defer { namespaces.close() }
        do throws(SysError) {
            // Nothing in the container may ptrace this process, which holds the caller's
            // descriptors, while it joins (runc's nsexec does the same); the process it
            // launches is dumpable again after its exec.
            try Proc.setDumpable(false)
            try namespaces.enter(afterUser: { maps.setgroupsAllowed = IDMaps.setgroupsAllowedNow() })
            log.step("entered \(namespaces.entries.map(\.name).joined(separator: ", ")) and the root of process \(target)")
        } catch {
            throw Failure(error)
        }
        // A terminal of its own (exec --tty, process.terminal): made in the container's devpts,
        // now that its root is ours.
        var terminal: Int32 = -1
        if let console = spec.process.console {
            do throws(SysError) {
                let root = try Files.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                defer { Files.close(root) }
                terminal = try Terminals.sendPair(to: console, in: root, log: log)
            } catch {
                throw Failure(error)
            }
        }
        defer { Files.close(terminal) }
        // Blocked before the launch, so that none is lost; the process gets the caller's mask.
        let callerMask = Signals.takeOver()
        var launcher = Launcher(spec: spec, maps: maps, seccomp: seccomp, pidSocket: -1, callerMask: callerMask,
                                foregroundTerminal: jobs.handOver)
        launcher.terminal = terminal
        var request = launcher.request
        // exec --detach returns while the process goes on (podman's conmon waits for it).
        request.diesWithParent = !detached
        let pid: pid_t
        let failure: Proc.LaunchFailure?
        do { (pid, failure) = try Proc.launch(request) } catch { throw Failure(error) }
        // The descriptors passed on (--preserve-fds) are the process's now.
        Files.close(from: 3, count: spec.process.preservedDescriptors)
        if let f = failure {
            _ = Proc.wait(pid, noHang: false)
            let subject = f.candidate.map { "\(f.step) \($0)" } ?? f.step
            var hint: String?
            if f.candidate != nil && f.errno == .noSuchFileOrDirectory { hint = "looked for in the container's root and its PATH" }
            if f.step.hasPrefix("setres") && f.errno == .invalidArgument {
                hint = "the id is not mapped in the container's user namespace (its linux.uidMappings and gidMappings)"
            }
            throw Failure(SysError(subject, errno: f.errno, hint: hint), status: f.status)
        }
        log.step("process \(pid) started")
        if let problem = started(pid) {
            Proc.kill(pid, SIGKILL)
            _ = Proc.wait(pid, noHang: false)
            throw problem
        }
        if detached { return 0 }
        jobs.commandStarted(group: pid)
        while true {
            let received = Signals.wait()
            switch received.signal {
            case SIGCHLD:
                switch Proc.reap(pid, noHang: true, untraced: true) {
                case .child(_, let exit):
                    jobs.takeBack()
                    return exit.status
                case .stopped(_, let sig): jobs.commandStopped(by: sig)
                case .noChildren: return 0
                case .nothingYet: break
                }
            case SIGCONT: jobs.continued()
            case let sig where Signals.forwarded.contains(sig): Proc.kill(pid, sig)
            default: break
            }
        }
    }
}
