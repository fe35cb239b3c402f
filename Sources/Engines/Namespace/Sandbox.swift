import BurrowKernel
import BurrowSpec
import Glibc

/// The processes of a sandbox:
///
///     burrow (supervisor)     new user (+ PID) namespace; writes its own id maps, forwards
///       │                     signals, follows the command's stops (JobControl), reports
///       │                     failures, returns the command's status (Supervision.swift)
///       ├─ cleaner (host)     only when Burrow must create something on a host directory:
///       │                     removes it once the sandbox has ended, even after kill -9
///       └─ init               new mount (+ ipc, net, uts, cgroup) namespace; PID 1 with
///            │                --unshare-pid, else a child subreaper. Builds the filesystem,
///            │                starts the command, kills what it leaves behind
///            └─ command       leads a process group of its own (the init leads another)
///
/// The supervisor stays in the host's mount namespace, so the sandbox's mounts go away
/// with the init, and never exist on the host.
struct Sandbox {
    let spec: SandboxSpec
    let privilege: Privilege
    var maps: IDMaps
    /// Compiled by the supervisor; installed by the command's launch, last.
    let seccomp: [BPFCode]?
    var channels: Channels
    let callerMask: sigset_t
    /// The caller's terminal, for the command's group to take at its launch; -1: none.
    let foregroundTerminal: Int32
    let supervisor: pid_t
    let log: Log

    /// Created by the supervisor itself: the user namespace, and the PID namespace so that
    /// its first child is PID 1.
    /// setuid: no user namespace (root's privilege builds the sandbox instead).
    var supervisorNamespaces: Int32 {
        (privilege.caller == nil ? Namespace.user : 0) | (spec.namespaces.pid ? Namespace.pid : 0)
    }
    var supervisorNamespaceNames: String {
        "(" + [(privilege.caller == nil, "user"), (spec.namespaces.pid, "pid")].filter(\.0).map(\.1).joined(separator: ", ") + ")"
    }

    /// Created by the init, owned by the new user namespace: the mount namespace and these.
    private var initExtras: [(flag: Int32, name: String)] {
        [(spec.namespaces.ipc, Namespace.ipc, "ipc"), (spec.namespaces.net, Namespace.net, "net"),
         (spec.namespaces.uts, Namespace.uts, "uts"), (spec.namespaces.cgroup, Namespace.cgroup, "cgroup")]
            .filter { $0.0 }.map { ($0.1, $0.2) }
    }

    static let userNamespaceHint = """
        unprivileged user namespaces look disabled on this host. Check the sysctls
          kernel.unprivileged_userns_clone (Debian and Ubuntu kernels: must be 1),
          user.max_user_namespaces (must be more than 0), and on Ubuntu 23.10 or later
          kernel.apparmor_restrict_unprivileged_userns (an AppArmor profile must allow burrow).
        Where they stay off, Burrow's setuid mode works if burrow is installed setuid root
        (scripts/install --setuid; see "Setuid mode" in the README); otherwise the ptrace
        engine does (--engine ptrace or BURROW_ENGINE=ptrace; auto picks whichever works).
        """

    /// The init: runs in the forked child of the supervisor. Never returns.
    func start() -> Never {
        let err = channels.errorWrite
        let isPID1 = spec.namespaces.pid
        // A process group of its own, out of the caller's (the supervisor sets it too).
        Proc.setProcessGroup(0, 0)
        // Without a PID namespace the init must clean up first: SIGTERM, blocked, wakes its
        // loop instead of killing it. PID 1 takes the namespace with it when it dies, and
        // will die from SIGKILL, but only once the set-up is over: a kill -9 of burrow must
        // not cut a mkdir in the rootfs from its report to the cleaner (SIGTERM, blocked,
        // until then; the lifeline is checked again after the set-up).
        _ = try? Proc.dieWithParent(SIGTERM, expectedParent: supervisor)
        // The supervisor may have died before that prctl: then its end of the lifeline is
        // closed already (getppid cannot tell from inside a new PID namespace).
        Files.close(channels.lifelineWrite)
        if Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
        do {
            let extras = initExtras
            try Proc.unshare(extras.reduce(Namespace.mount) { $0 | $1.flag },
                             what: "(" + (["mount"] + extras.map(\.name)).joined(separator: ", ") + ")")
        } catch {
            fail(Failure(error), on: err)
        }
        initProcess(isPID1: isPID1)
    }

    /// Sets up the filesystem and identity, starts the command, and watches over it.
    private func initProcess(isPID1: Bool) -> Never {
        let err = channels.errorWrite
        var children: Int32 = -1
        let rootfd: Int32
        do throws(Failure) {
            if !isPID1 {
                do throws(SysError) {
                    try Proc.setChildSubreaper()
                    // Opened now, while the host's /proc is still reachable: the list of our
                    // children, read again at the end to kill what the command left behind.
                    children = try Files.open("/proc/self/task/\(getpid())/children", O_RDONLY)
                } catch { throw Failure(error) }
            } else if spec.emulation.kernelRelease != nil {
                // PID 1 needs the list only to tell when the uname responder is all that is left.
                do throws(SysError) {
                    children = try Files.open("/proc/thread-self/children", O_RDONLY)
                } catch { throw Failure(error) }
            }
            var fs = Filesystem(spec: spec, log: log, cleaner: channels.cleanerSandbox, setuidMode: privilege.caller != nil)
            rootfd = try fs.build()
            do throws(SysError) {
                if let name = spec.process.hostname {
                    try Proc.setHostname(name)
                    log.step("hostname \(name)")
                }
                if spec.namespaces.net {
                    try Proc.loopbackUp()
                    log.step("lo up")
                }
                try Mounts.pivotInto(rootfd, what: spec.root.path.string)
                log.step("pivot_root into \(spec.root.path)")
                Files.close(rootfd)
                // Nothing in the sandbox may ptrace or read the fds of its init.
                try Proc.setDumpable(false)
                // setuid: the sandbox is built; root's privilege goes for good before the
                // command exists. The id change cleared the parent-death signal: set it again.
                if let caller = privilege.caller {
                    try caller.becomeForGood()
                    log.step("privilege dropped for good: uid \(caller.uid), gid \(caller.gid)")
                    _ = try Proc.dieWithParent(isPID1 ? SIGKILL : SIGTERM, expectedParent: supervisor)
                    if Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
                }
            } catch { throw Failure(error) }
        } catch {
            fail(error, on: err)
        }
        // Everything made on the host is with the cleaner: from now on PID 1 dies with the
        // supervisor, and does not go on if the supervisor died during the set-up.
        if isPID1 {
            _ = try? Proc.dieWithParent(SIGKILL, expectedParent: supervisor)
            if Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
        }

        var responder: pid_t = -1
        if let uname = spec.emulation.uname {
            let release = uname.release
            // The responder is started before the filter exists, so that its own uname()
            // is the real one; the listener reaches it over a socket.
            do throws(SysError) {
                let (here, there) = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue))
                responder = try Proc.fork("uname responder")
                if responder == 0 {
                    for fd in [err, channels.pidCommand, channels.jobEventsWrite, foregroundTerminal, children, here] {
                        Files.close(fd)
                    }
                    _ = try? Proc.dieWithParent(SIGKILL, expectedParent: getppid())
                    guard let listener = Files.receiveDescriptor(there) else { Proc.exit(0) }
                    Files.close(there)
                    KernelRelease.serve(listener: listener, uname: uname)
                }
                Files.close(there)
                let listener = try KernelRelease.install()
                try Files.sendDescriptor(here, listener, what: "seccomp listener")
                Files.close(listener)
                Files.close(here)
                log.step("uname answers release \(release) (seccomp user notification)")
            } catch {
                fail(Failure(error), on: err)
            }
        }
        let launcher = Launcher(spec: spec, maps: maps, seccomp: seccomp, pidSocket: channels.pidCommand, callerMask: callerMask,
                                foregroundTerminal: foregroundTerminal)
        let command: pid_t
        do {
            let (pid, failure) = try Proc.launch(launcher.request)
            command = pid
            if let f = failure {
                let subject = f.candidate.map { "\(f.step) \($0)" } ?? f.step
                // Not found: looked for inside the rootfs (the init's / by now), not on the host.
                let hint = f.candidate != nil && f.errno == .noSuchFileOrDirectory
                    ? spec.commandNotFoundHint(rootHasBin: (try? Files.stat("/bin", at: Files.cwd)) != nil) : nil
                _ = try? Files.writeAll(err, Failure(SysError(subject, errno: f.errno, hint: hint), status: f.status).encoded, what: "error pipe")
            }
        } catch {
            fail(Failure(error), on: err)
        }
        Files.close(channels.errorWrite)
        Files.close(channels.pidCommand)
        Files.close(foregroundTerminal)
        watch(command, responder: responder, isPID1: isPID1, children: children)
    }

    /// The init's loop: reap, forward signals, tell the supervisor when the command stops,
    /// and end the sandbox with the command.
    private func watch(_ command: pid_t, responder: pid_t, isPID1: Bool, children: Int32) -> Never {
        var responderAlive = responder > 0
        var commandExit: Proc.Exit?
        var lastExit = Proc.LastExit()
        while true {
            let r = Signals.wait()
            if !isPID1 && getppid() != supervisor {
                killAll(isPID1: false, children: children)
                Proc.exit(commandExit?.status ?? 128 + SIGKILL)
            }
            // SIGCONT: the supervisor continues the command's group itself.
            if r.signal == SIGCONT { continue }
            if r.signal != SIGCHLD {
                // The terminal's signals reach the init only in the moment before it left
                // the caller's group: the supervisor got them too, and passes them on.
                guard !Signals.isFromTerminal(r) else { continue }
                if commandExit == nil { Proc.kill(command, r.signal) } else if isPID1 { Proc.kill(-1, r.signal) }
                continue
            }
            var anyLeft = true
            reaping: while true {
                switch Proc.reap(noHang: true, untraced: true) {
                case .child(let pid, let exit):
                    if pid == responder { responderAlive = false; continue }
                    lastExit.record(exit)
                    if pid == command {
                        commandExit = exit
                        // Its status goes to the caller now; the rest runs on (Background).
                        // (The supervisor knows whether it ran at all: the error pipe.)
                        if spec.process.leftovers == .leftRunning {
                            _ = Glibc.write(channels.jobEventsWrite, [JobEvent.commandExited, UInt8(truncatingIfNeeded: exit.status)], 2)
                        }
                    }
                case .stopped(let pid, let sig):
                    // The supervisor follows it (JobControl); a full pipe drops the news.
                    if pid == command { _ = Glibc.write(channels.jobEventsWrite, [UInt8(truncatingIfNeeded: sig)], 1) }
                case .nothingYet: break reaping
                case .noChildren: anyLeft = false; break reaping
                }
            }
            guard let exit = commandExit else { continue }
            if !spec.process.keepChildren && spec.process.status == .command {
                killAll(isPID1: isPID1, children: children)
                Proc.exit(exit.status)
            }
            // Only the uname responder left: it serves no one any more.
            if anyLeft, responderAlive, Self.childCount(children) == 1 {
                Proc.kill(responder, SIGKILL)
                continue
            }
            if !anyLeft { Proc.exit((spec.process.status == .lastToExit ? lastExit.exit ?? exit : exit).status) }
        }
    }

    static func childCount(_ children: Int32) -> Int { Proc.childPids(children).count }

    /// Kills every process left in the sandbox and reaps them.
    private func killAll(isPID1: Bool, children: Int32) {
        if isPID1 {
            // kill(-1) from a PID 1 reaches every process of its namespace and nothing else.
            Proc.kill(-1, SIGKILL)
            while Proc.reap(noHang: false) != .noChildren {}
            return
        }
        // Without a PID namespace: kill our children; their orphans come back to us (child
        // subreaper) and are killed in the next round, until none is left.
        Proc.killChildren(listedIn: children)
    }
}
