import CKernel
import BurrowKernel
import BurrowSandbox
import Glibc

/// The processes of a sandbox:
///
///     burrow (supervisor)     new user (+ PID, ipc, net, uts, cgroup) namespace; writes its
///       │                     own id maps, forwards signals, follows the command's stops
///       │                     (JobControl), reports failures, returns the command's status
///       │                     (Supervision.swift)
///       ├─ cleaner (host)     only when Burrow must create something on a host directory:
///       │                     removes it once the sandbox has ended, even after kill -9
///       └─ init               new mount namespace; PID 1 with
///            │                --unshare-pid, else a child subreaper. Reaps, passes signals
///            │                on, kills what the command leaves behind (C: ck_init_watch)
///            └─ set-up        builds the filesystem and becomes the command (its exec);
///                             leads a process group of its own (the init leads another)
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
    /// burrow-oci's create: the hold's FIFO, opened by the supervisor with the caller's ids
    /// (the set-up may run as other ids, which cannot open the state directory); -1: none.
    var heldFIFO: Int32 = -1
    /// A joined IPC namespace's message queues, mounted by the supervisor (`Filesystem.joinedQueues`).
    var joinedQueues: Int32 = -1

    /// Created by the supervisor itself: the user namespace, the PID namespace so that its
    /// first child is PID 1, and the IPC, network, UTS and cgroup namespaces, so that the
    /// supervisor is in every namespace of the sandbox but its mount and PID namespaces, as
    /// it is in those it joins (burrow-oci's `state` gives its pid as the container's,
    /// whose /proc/PID/ns the OCI validation suite reads).
    /// setuid: no user namespace (root's privilege builds the sandbox instead).
    /// (None of its own where it joins the caller's: bwrap's --userns FD.)
    var supervisorNamespaces: Int32 {
        (makesUserNamespace ? Namespace.user : 0) | (spec.namespaces.pid ? Namespace.pid : 0)
            | (spec.namespaces.ipc ? Namespace.ipc : 0) | (spec.namespaces.net ? Namespace.net : 0)
            | (spec.namespaces.uts ? Namespace.uts : 0) | (spec.namespaces.cgroup ? Namespace.cgroup : 0)
    }
    var supervisorNamespaceNames: String {
        "(" + [(makesUserNamespace, "user"), (spec.namespaces.pid, "pid"), (spec.namespaces.ipc, "ipc"), (spec.namespaces.net, "net"),
               (spec.namespaces.uts, "uts"), (spec.namespaces.cgroup, "cgroup")].filter(\.0).map(\.1).joined(separator: ", ") + ")"
    }
    var makesUserNamespace: Bool { privilege.caller == nil && spec.namespaces.userToJoin == nil && !spec.namespaces.keepsCallerUser }

    /// Created by the init, owned by the new user namespace: the mount namespace (the
    /// supervisor stays in the host's, so that the sandbox's mounts go with the init).
    /// None where one is joined (burrow-oci's path): the supervisor entered it, and the
    /// root is built there; nor where the caller's is kept (`keepsCallerMount`).
    private var initNamespaces: Int32 { spec.namespaces.joined(.mnt) == nil && !spec.namespaces.keepsCallerMount ? Namespace.mount : 0 }
    private var initNamespaceNames: String { "(mount)" }

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
        // (burrow-oci's container outlives its supervisor, which leaves once it is held.)
        if spec.process.hold == nil { _ = try? Proc.dieWithParent(SIGTERM, expectedParent: supervisor) }
        // The supervisor may have died before that prctl: then its end of the lifeline is
        // closed already (getppid cannot tell from inside a new PID namespace).
        Files.close(channels.lifelineWrite)
        if Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
        do {
            if initNamespaces != 0 { try Proc.unshare(initNamespaces, what: initNamespaceNames) }
        } catch {
            fail(Failure(error), on: err)
        }
        // bwrap's --as-pid-1: no init of Burrow's; this process sets up and becomes the command.
        if spec.process.commandIsPID1 { setUp(uname: -1) }
        initProcess(isPID1: isPID1)
    }

    /// PID 1 (or the child subreaper): starts the set-up process, which builds the
    /// filesystem and becomes the command, and watches over the sandbox in C
    /// (`ck_init_watch`): the init is a fork of the supervisor, and the set-up's Swift, run
    /// in another process, leaves the init's memory alone.
    private func initProcess(isPID1: Bool) -> Never {
        let err = channels.errorWrite
        var children: Int32 = -1
        var setupDone: (read: Int32, write: Int32) = (-1, -1)
        var uname: (here: Int32, there: Int32) = (-1, -1)
        let signals: Int32
        // Its own pagemap, before the set-up can make /proc the guest's (ResidentMemory).
        ResidentMemory.prepare()
        do throws(SysError) {
            if !isPID1 {
                try Proc.setChildSubreaper()
                // Opened now, while the host's /proc is still reachable: the list of our
                // children, read again at the end to kill what the command left behind.
                // (thread-self: in a PID namespace joined with --pidns, getpid() is not the
                // number the host's /proc knows.)
                children = try Files.open("/proc/thread-self/children", O_RDONLY)
            } else if spec.emulation.uname != nil {
                // PID 1 needs the list only to tell when the uname responder is all that is left.
                children = try Files.open("/proc/thread-self/children", O_RDONLY)
            }
            // Held by the set-up until its exec (or exit): then the set-up is over.
            setupDone = try Files.pipe()
            // The responder, started below, gets the seccomp listener the set-up makes.
            if spec.emulation.uname != nil { uname = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue)) }
            signals = try Signals.descriptor()
        } catch {
            fail(Failure(error), on: err)
        }
        let command: pid_t
        do { command = try Proc.fork("sandbox set-up") } catch { fail(Failure(error), on: err) }
        if command == 0 {
            for fd in [children, setupDone.read, uname.there, signals] { Files.close(fd) }
            setUp(uname: uname.here)
        }
        // The init keeps only what it watches with (and the error pipe until the responder runs).
        for fd in [setupDone.write, uname.here, channels.pidCommand, foregroundTerminal, channels.deviceNodes] { Files.close(fd) }
        // The descriptors passed on are the command's alone (a pipe's reader sees its end
        // when the command closes it), as under runc, whose init execs into the command.
        Files.close(from: 3, count: spec.process.preservedDescriptors)
        // setuid: the init needs no privilege past the fork of the set-up. The id change
        // cleared the parent-death signal: set it again (SIGKILL once the set-up is over).
        if let caller = privilege.caller {
            do throws(SysError) { try caller.becomeForGood() } catch {
                Proc.kill(command, SIGKILL)
                fail(Failure(error), on: err)
            }
            _ = try? Proc.dieWithParent(SIGTERM, expectedParent: supervisor)
            if Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
        }
        // Nothing in the sandbox may ptrace or read the fds of its init.
        _ = try? Proc.setDumpable(false)
        var responder: pid_t = -1
        if let emulated = spec.emulation.uname {
            // The responder's own uname() is the real one: no filter here. The listener
            // reaches it over a socket once the set-up has made it.
            do { responder = try Proc.fork("uname responder") } catch {
                Proc.kill(command, SIGKILL)
                fail(Failure(error), on: err)
            }
            if responder == 0 {
                for fd in [err, channels.jobEventsWrite, children, setupDone.read, signals] { Files.close(fd) }
                _ = try? Proc.dieWithParent(SIGKILL, expectedParent: getppid())
                guard let listener = Files.receiveDescriptor(uname.there) else { Proc.exit(0) }
                Files.close(uname.there)
                KernelRelease.serve(listener: listener, uname: emulated)
            }
        }
        Files.close(uname.there)
        Files.close(err)
        var watch = ck_init(
            signals: signals, setup_done: setupDone.read, lifeline: channels.lifelineRead, children: children,
            job_events: channels.jobEventsWrite, command: command, responder: max(responder, 0),
            // In a PID namespace joined with --pidns the supervisor, outside it, is the parent
            // getppid() says 0 for; a parent it can name means the supervisor is gone.
            supervisor: spec.namespaces.pidToJoin != nil ? 0 : supervisor,
            is_pid1: isPID1 ? 1 : 0, keep_children: spec.process.keepChildren ? 1 : 0,
            last_to_exit: spec.process.status == .lastToExit ? 1 : 0,
            announce_exit: spec.process.leftovers == .leftRunning ? 1 : 0,
            outlives_supervisor: spec.process.hold != nil ? 1 : 0,
            idle_pages: ResidentMemory.programPages, idle_ms: ResidentMemory.idleMilliseconds)
        ck_init_watch(&watch)
    }

    /// The set-up, in the init's child: the filesystem and identity, then, in this very
    /// process, the command. A failure goes to the supervisor over the error pipe.
    private func setUp(uname: Int32) -> Never {
        let err = channels.errorWrite
        let rootfd: Int32
        var terminal: Int32 = -1
        do throws(Failure) {
            var fs = Filesystem(spec: spec, log: log, cleaner: channels.cleanerSandbox, setuidMode: privilege.caller != nil,
                                deviceNodes: channels.deviceNodes)
            fs.joinedQueues = joinedQueues
            rootfd = try fs.build()
            Files.close(channels.deviceNodes)
            do throws(SysError) {
                // (A joined UTS namespace has it from the supervisor.)
                if let name = spec.process.hostname, spec.namespaces.joined(.uts) == nil {
                    try Proc.setHostname(name)
                    log.step("hostname \(name)")
                }
                if spec.namespaces.net {
                    try Proc.loopbackUp()
                    log.step("lo up")
                }
                // burrow-oci's createContainer hooks: the container built, before pivot_root.
                if let hold = spec.process.hold { runHeld(hold.whenBuilt) }
                // burrow-oci's process.terminal: made before the hold, so that create hands the
                // master to the console socket, as runc does.
                if let console = spec.process.console { terminal = try Terminals.sendPair(to: console, in: rootfd, log: log) }
                if let hold = spec.process.hold { try holdUntilReleased(hold) }
                // In the caller's mount namespace, pivot_root would move every process's root.
                if spec.namespaces.keepsCallerMount {
                    try Mounts.chrootInto(rootfd, what: spec.root.path.string)
                } else {
                    try Mounts.pivotInto(rootfd, what: spec.root.path.string)
                }
                if let propagation = spec.root.propagation {
                    // After pivot_root, which refuses a shared root, and the old root's
                    // detach, so nothing of the host's is in its peer group (runc's order).
                    let root = try Files.open("/", O_PATH | O_DIRECTORY)
                    defer { Files.close(root) }
                    try Mounts.setPropagation(root, propagation.kernelType, recursive: propagation.recursive, what: "/ (the new root)")
                    log.step("root propagation \(propagation)")
                }
                try applyResourceLimits()
                log.step("pivot_root into \(spec.root.path)")
                // burrow-oci's startContainer hooks: in the new root, before the exec.
                if let hold = spec.process.hold { runHeld(hold.whenReleased) }
                Files.close(rootfd)
                // Nothing in the sandbox may ptrace or read the fds of the set-up (until its exec).
                try Proc.setDumpable(false)
                // setuid: the sandbox is built; root's privilege goes for good before the
                // command exists.
                if let caller = privilege.caller {
                    try caller.becomeForGood()
                    log.step("privilege dropped for good: uid \(caller.uid), gid \(caller.gid)")
                }
                if uname >= 0, let release = spec.emulation.uname?.release {
                    // The filter is installed here, inherited by the command; its listener goes
                    // to the responder, the init's other child.
                    let listener = try KernelRelease.install()
                    try Files.sendDescriptor(uname, listener, what: "seccomp listener")
                    Files.close(listener)
                    Files.close(uname)
                    log.step("uname answers release \(release) (seccomp user notification)")
                }
            } catch { throw Failure(error) }
        } catch {
            fail(error, on: err)
        }
        // As PID 1 it dies with the supervisor (no init of ours is there to end it).
        if spec.process.commandIsPID1 { _ = try? Proc.dieWithParent(SIGKILL, expectedParent: supervisor) }
        // The supervisor died during the set-up: the command does not start (the init, which
        // sees the same once the set-up is over, ends the sandbox). A held container's left
        // on purpose (holdUntilReleased).
        if spec.process.hold == nil, Files.isHungUp(channels.lifelineRead) { Proc.exit(Failure.setupStatus) }
        // (A held container's supervisor, which the command announces itself to, has left.)
        var launcher = Launcher(spec: spec, maps: maps, seccomp: seccomp, pidSocket: spec.process.hold == nil ? channels.pidCommand : -1,
                                callerMask: callerMask,
                                foregroundTerminal: foregroundTerminal)
        launcher.setuidMode = privilege.caller != nil
        launcher.terminal = terminal
        // Returns only when the command could not be started.
        let f = Proc.launchHere(launcher.request)
        let subject = f.candidate.map { "\(f.step) \($0)" } ?? f.step
        // Not found: looked for inside the rootfs (the init's / by now), not on the host.
        let hint = f.candidate != nil && f.errno == .noSuchFileOrDirectory
            ? spec.commandNotFoundHint(rootHasBin: (try? Files.stat("/bin", at: Files.cwd)) != nil) : nil
        fail(Failure(SysError(subject, errno: f.errno, hint: hint), status: f.status), on: err)
    }
}

extension Terminals {
    /// A terminal for a command of the sandbox (`ConsoleRequest`): a pair of the devpts of
    /// `root` (its /dev/pts), the size set, the master sent over the console socket and
    /// closed here with the socket; the other end is returned, for the command.
    static func sendPair(to console: ConsoleRequest, in root: Int32, log: Log) throws(SysError) -> Int32 {
        let pair: (master: Int32, peer: Int32)
        do { pair = try openPair(in: root, ptmx: "dev/pts/ptmx") } catch {
            var e = error
            e.hint = "a terminal is made in the container's own devpts: mount one at /dev/pts (a tmpfs at /dev gets it)"
            throw e
        }
        defer { Files.close(pair.master) }
        do throws(SysError) {
            if let rows = console.rows, let columns = console.columns { try setSize(pair.master, rows: rows, columns: columns) }
            try Files.sendDescriptor(console.socket, pair.master, what: "the terminal's master to the console socket")
        } catch {
            Files.close(pair.peer)
            throw error
        }
        Files.close(console.socket)
        log.step("terminal /dev/pts/\(number(of: pair.master).map(String.init) ?? "?") (its master sent to the console socket)")
        return pair.peer
    }
}
