import BurrowCleaner
import BurrowKernel
import BurrowSandbox
import Glibc

/// Realises a `SandboxSpec` with unprivileged user namespaces: native speed, no privilege.
/// This file is the supervisor, the process the user started: it checks what it can
/// before anything is created, starts the cleaner, enters the new user namespace, starts
/// the init, reports failures, forwards signals and returns the command's status.
public enum NamespaceEngine {
    /// Runs the sandbox; how it ended (the caller prints a failure: `Outcome`).
    /// `privilege` is `.setuidRoot` only when the setuid engine runs this one without a
    /// user namespace (Sources/Engines/Setuid).
    public static func run(_ spec: SandboxSpec, privilege: Privilege = .userNamespace) -> Outcome {
        switch attempt(spec, privilege: privilege, fallThrough: false) {
        case .ran(let outcome): return outcome
        case .hostDenied(let why): return .failed(why, status: Failure.setupStatus)
        }
    }

    /// How an attempt ended: the sandbox ran (or failed), or (only with `fallThrough`) at its
    /// start, before any namespace or process of the sandbox existed, the host refused to
    /// make the namespaces (Failure.hostDenied): then `auto` tries the next engine.
    public enum Attempt: Equatable, Sendable {
        case ran(Outcome)
        case hostDenied(String)
    }

    public static func attempt(_ spec: SandboxSpec, privilege: Privilege = .userNamespace, fallThrough: Bool) -> Attempt {
        do {
            return .ran(.exited(try supervise(spec, privilege: privilege)))
        } catch {
            if error.hostDenied && fallThrough { return .hostDenied(error.message) }
            return .ran(.failed(error.message, status: error.status))
        }
    }

    /// Names in the identity (jchroot's `-u NAME`) mean the guest's users: they are looked
    /// up in the rootfs's own /etc/passwd and /etc/group, resolved inside it.
    static func resolveNames(_ identity: Identity, rootfd: Int32) throws(Failure) -> Identity {
        guard identity.userName != nil || identity.groupName != nil else { return identity }
        func read(_ path: String) -> String? {
            guard let fd = try? Files.open2(path, at: rootfd, flags: O_RDONLY, resolve: Resolve.inRoot | Resolve.noMagicLinks)
            else { return nil }
            defer { Files.close(fd) }
            return (try? Files.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
        }
        do throws(Identity.LookupError) {
            return try identity.resolvingNames(passwd: read("etc/passwd"), group: read("etc/group"))
        } catch {
            throw Failure("\(error)", status: Failure.setupStatus)
        }
    }

    /// From a child process of the sandbox, which cannot return an outcome.
    static func report(_ message: String) { Diagnostics.say(message) }

    private static func supervise(_ spec: SandboxSpec, privilege: Privilege) throws(Failure) -> Int32 {
        var spec = spec
        let log = Log(enabled: spec.verbose)
        if let dir = spec.temporaryDirectory, let e = HostProbes.unwritableDirectory(dir.string) {
            throw Failure(SysError("temporary directory", dir.string, errno: e))
        }
        // PRoot's -q keeps QEMU's options as arguments; binfmt_misc passes none.
        if let qemu = spec.emulation.qemu, qemu.prootStyle {
            do throws(Qemu.OptionError) { spec.process.environment += try Qemu.binfmtEnvironment(qemu) } catch {
                throw Failure("-q: \(error.message) (the namespace engine runs QEMU through binfmt_misc; the ptrace engine runs any command, as PRoot)")
            }
        }
        if privilege.caller != nil, spec.namespaces.userRequired {
            throw Failure("--unshare-user: setuid mode makes no user namespace (its ids are the host's)")
        }
        if privilege.caller != nil, spec.namespaces.userToJoin != nil || spec.namespaces.pidToJoin != nil
            || spec.namespaces.userAfterSetup != nil || !spec.namespaces.joined.isEmpty {
            throw Failure("joining the caller's namespaces (bwrap's --userns, --userns2, --pidns; a namespace's path) is refused in setuid mode: root would enter them")
        }
        if spec.namespaces.userToJoin != nil, !spec.identity.uidMap.isEmpty || !spec.identity.gidMap.isEmpty {
            throw Failure("a joined user namespace has its maps already: --uid-map/--gid-map cannot apply")
        }
        if spec.namespaces.keepsCallerMount, !spec.namespaces.keepsCallerUser || spec.namespaces.joined(.mnt) != nil {
            throw Failure("a sandbox in the caller's own mount namespace is for root alone, in the caller's own user namespace too")
        }
        if spec.namespaces.keepsCallerUser, geteuid() != 0 || !spec.identity.uidMap.isEmpty || !spec.identity.gidMap.isEmpty
            || spec.namespaces.userRequired || spec.namespaces.userToJoin != nil || spec.namespaces.joined(.user) != nil {
            throw Failure("a sandbox in the caller's own user namespace is for root alone, without id maps or a user namespace made or joined")
        }
        if spec.process.commandIsPID1, spec.emulation.uname != nil {
            throw Failure("a fake kernel release needs Burrow's init (its uname responder): not with the command as PID 1")
        }
        if !spec.emulation.portMap.isEmpty {
            throw Failure("a port map (proot -p) needs the ptrace engine: it changes ports at bind and connect")
        }
        let me = getpid()
        let parent = getppid()
        // Fail early, before any process or namespace exists, on what the host can tell.
        let rootfd: Int32
        do throws(SysError) {
            rootfd = try Files.open(spec.root.path.string, O_PATH | O_DIRECTORY)
        } catch {
            throw Failure(SysError(spec.root.openFailure.operation, spec.root.openFailure.subject, errno: error.errno))
        }
        do {
            spec.identity = try resolveNames(spec.identity, rootfd: rootfd)
        } catch {
            Files.close(rootfd)
            throw error
        }
        // setuid: the ids are known only now (names resolve in the rootfs); refuse what
        // privilege would make unsafe before anything exists.
        if let caller = privilege.caller, let refusal = spec.setuidRefusal(callerUid: caller.uid, callerGid: caller.gid) {
            Files.close(rootfd)
            throw Failure(refusal.message(in: spec.terms))
        }
        // The namespaces to join, opened and their kinds checked before anything exists.
        var joins: [NamespaceFile] = []
        for join in spec.namespaces.joined {
            do { joins.append(try NamespaceFile.open(join.path.string, name: join.kind.rawValue)) } catch {
                for j in joins { j.close() }
                Files.close(rootfd)
                throw Failure(error)
            }
            // The user and PID namespaces as bwrap's descriptors are: no user namespace of
            // ours, and an init that is no PID 1 and whose parent is outside.
            if join.kind == .user { spec.namespaces.userToJoin = joins.last?.fd }
            if join.kind == .pid { spec.namespaces.pidToJoin = joins.last?.fd }
        }
        defer { for j in joins { j.close() } }
        // (In the caller's mount namespace the cleaner detaches the root, with all the sandbox mounted in it.)
        let cleanupNeeded = spec.process.pidFile != nil || spec.namespaces.keepsCallerMount
            || (!spec.keepsCreatedEntries && HostChanges.possible(spec, rootfd: rootfd))
        Files.close(rootfd)
        if spec.process.dieWithParent {
            guard (try? Proc.dieWithParent(SIGKILL, expectedParent: parent)) == true else { return 128 + SIGKILL }
        }

        let seccomp = try SeccompSetup.program(for: spec, setuid: privilege.caller != nil, log: log)
        try SeccompSetup.readCallerPrograms(&spec, log: log)

        // Read while the host's /proc is in reach: the command drops capabilities up to it.
        _ = Proc.lastCapability
        // Signals are taken over before the first fork, so none is lost in between.
        let callerMask = Signals.takeOver()
        // The caller's terminal, if burrow has one: the command's group may get it.
        let jobs = JobControl(newSession: spec.process.newSession)
        let maps = IDMaps(identity: spec.identity, hostUid: getuid(), hostGid: getgid())
        if let caps = spec.identity.capabilities, caps != 0, maps.insideUid != 0 || privilege.caller != nil {
            throw Failure("capabilities for uid \(maps.insideUid) (--cap-add) need ambient capabilities, which Burrow does not raise yet: only uid 0 inside can keep them (--uid 0)")
        }
        var ch = Channels()
        var pidFile: Int32 = -1
        // The pid file is made by the cleaner (below), which removes it even after kill -9.
        var pidDir: (fd: Int32, name: String) = (-1, "")
        do throws(SysError) {
            (ch.errorRead, ch.errorWrite) = try Files.pipe()
            (ch.lifelineRead, ch.lifelineWrite) = try Files.pipe()
            (ch.jobEventsRead, ch.jobEventsWrite) = try Files.pipe(nonBlocking: true)
            (ch.pidSupervisor, ch.pidCommand) = try Files.socketPair(Int32(SOCK_DGRAM.rawValue))
            try Files.passCredentials(ch.pidSupervisor)
            if let path = spec.process.pidFile {
                let (dir, name) = Cleaner.split(path.string)
                do { pidDir = (try Files.open(dir, O_PATH | O_DIRECTORY), name) } catch {
                    throw SysError("open pid file", path.string, errno: error.errno)
                }
            }
            if cleanupNeeded {
                (ch.cleanerSide, ch.cleanerSandbox) = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue))
            }
            if maps.needsHelper { (ch.mapHelperRead, ch.mapHelperWrite) = try Files.pipe() }
            if spec.process.hold != nil { (ch.heldRead, ch.heldWrite) = try Files.pipe() }
        } catch {
            throw Failure(error)
        }

        // The cleaner and the map helper stay outside every namespace of the sandbox.
        var cleaner: pid_t = -1
        if ch.cleanerSide >= 0 {
            do { cleaner = try Proc.fork("cleaner") } catch { throw Failure(error) }
            if cleaner == 0 {
                for fd in [ch.errorRead, ch.errorWrite, ch.lifelineRead, ch.lifelineWrite, ch.mapHelperRead,
                           ch.mapHelperWrite, ch.pidSupervisor, ch.pidCommand, ch.cleanerSandbox, pidFile,
                           ch.jobEventsRead, ch.jobEventsWrite, jobs.descriptor, ch.heldRead, ch.heldWrite,
                           spec.process.hold?.readyDescriptor ?? -1] { Files.close(fd) }
                for j in joins { j.close() }  // the host's process holds no namespace of the sandbox
                // Nor the command's input and output: their readers (a pipe, conmon, the
                // shim) see their end when the sandbox's own processes are gone.
                Files.replaceWithNull([STDIN_FILENO, STDOUT_FILENO])
                // setuid: the cleaner removes only what the caller could remove.
                if let caller = privilege.caller {
                    do { try caller.becomeForGood() } catch { report(error.description); Proc.exit(Failure.setupStatus) }
                }
                let initial = pidDir.fd >= 0 ? [Cleaner.createPidFile(ch.cleanerSide, parent: pidDir.fd, name: pidDir.name)] : []
                Cleaner.run(ch.cleanerSide, initial: initial)
            }
            Files.close(ch.cleanerSide)
        }
        if pidDir.fd >= 0 {
            Files.close(pidDir.fd)
            switch Cleaner.receivePidFile(ch.cleanerSandbox, path: spec.process.pidFile?.string ?? "") {
            case .success(let fd): pidFile = fd
            case .failure(let e): throw Failure(e)
            }
        }
        var mapHelper: pid_t = -1
        if maps.needsHelper {
            do { mapHelper = try Proc.fork("uid map helper") } catch { throw Failure(error) }
            if mapHelper == 0 {
                Files.close(ch.mapHelperWrite)
                guard (try? Files.readAll(ch.mapHelperRead, limit: 1)) == [1] else { Proc.exit(1) }
                do { try maps.writeRanges(for: me, log: log) } catch {
                    report(error.message)
                    Proc.exit(1)
                }
                Proc.exit(0)
            }
            Files.close(ch.mapHelperRead)
        }

        // Whatever happens from here on, the cleaner gets to finish before burrow exits
        // (unless the container was handed over: then it outlives the supervisor too).
        var outcome: Result<Int32, Failure>
        var handedOver = false
        do {
            outcome = .success(try enterAndWatch(spec, joins: joins, privilege: privilege, maps: maps, seccomp: seccomp, channels: &ch,
                                                 mapHelper: mapHelper, pidFile: pidFile, callerMask: callerMask,
                                                 jobs: jobs, supervisor: me, parent: parent, cleaner: cleaner,
                                                 handedOver: &handedOver, log: log))
        } catch {
            outcome = .failure(error)
        }
        // Held until here: the cleaner starts removing once no process of the sandbox is left.
        Files.close(ch.cleanerSandbox)
        Files.close(ch.lifelineWrite)
        if handedOver { return try outcome.get() }
        if cleaner > 0, case .signaled(let sig)? = Proc.wait(cleaner, noHang: false) {
            // Only something of the caller's uid can do that: the command, without a PID namespace.
            outcome = .failure(Failure("""
                the cleaner was killed by signal \(sig)\(spec.namespaces.pid ? "" : " (from inside the sandbox?)"); \
                what burrow made in host directories (mount points in the rootfs, --dir, --symlink, the pid file) may be left
                """))
        }
        return try outcome.get()
    }

    /// Enters the new user namespace (and PID namespace, for our next child), maps ids,
    /// starts the init, reports its failures and passes signals on until it exits.
    private static func enterAndWatch(
        _ spec: SandboxSpec, joins: [NamespaceFile], privilege: Privilege, maps: IDMaps, seccomp: [BPFCode]?, channels ch: inout Channels,
        mapHelper: pid_t, pidFile: Int32, callerMask: sigset_t, jobs: JobControl,
        supervisor me: pid_t, parent: pid_t, cleaner: pid_t, handedOver: inout Bool, log: Log
    ) throws(Failure) -> Int32 {
        defer { Files.close(pidFile) }
        // Without a PID namespace, what the command starts comes back to the supervisor if
        // the init dies first: a child subreaper, with the list of its children kept open to
        // kill them then. (In a PID namespace they die with the init, PID 1.)
        var children: Int32 = -1
        if !spec.namespaces.pid {
            do throws(SysError) {
                try Proc.setChildSubreaper()
                children = try Files.open("/proc/self/task/\(me)/children", O_RDONLY)
            } catch {
                throw Failure(error)
            }
        }
        defer { Files.close(children) }
        var maps = maps
        // QEMU's binfmt_misc entry lives in a user namespace of its own, around the
        // sandbox's: only a namespace whose root is mapped may register one, and the sandbox
        // maps the caller to the id they asked for. Held open for as long as burrow runs.
        var binfmt: Int32 = -1
        defer { Files.close(binfmt) }
        if let qemu = spec.emulation.qemu {
            binfmt = try registerQemu(qemu, log: log)
            maps = maps.nested()
        }
        // Device nodes are made now, while the supervisor is still in the host's user
        // namespace: mknod makes devices only there (DeviceNodes). Setuid mode refuses them.
        if !spec.devices.isEmpty, privilege.caller == nil {
            ch.deviceNodes = try DeviceNodes.make(spec.devices, maps: maps, log: log)
        }
        var sandbox = Sandbox(spec: spec, privilege: privilege, maps: maps, seccomp: seccomp, channels: ch,
                              callerMask: callerMask, foregroundTerminal: jobs.handOver, supervisor: me, log: log)
        if let hold = spec.process.hold {
            // Opened without waiting for a writer (see Sandbox.holdUntilReleased).
            do { sandbox.heldFIFO = try Files.open(hold.release.string, O_RDONLY | O_NONBLOCK | O_CLOEXEC) } catch { throw Failure(error) }
        }
        // bwrap's --userns, --pidns, burrow-oci's namespace paths: existing namespaces,
        // entered before any of ours is made, with the rights the caller has over them
        // (runc's nsexec joins, then unshares): the user namespace first (it owns the
        // others and grants the right to enter them), the PID namespace last (it takes
        // only the children: the init).
        do throws(SysError) {
            let byPath = { (type: Int32) in joins.first { $0.type == type } }
            if let file = byPath(Namespace.user) { try file.enter() } else if let fd = spec.namespaces.userToJoin {
                try Proc.setns(fd, Namespace.user, what: "user namespace of descriptor \(fd)")
            }
            for file in joins where file.type != Namespace.user && file.type != Namespace.pid { try file.enter() }
            // A hostname for a joined UTS namespace is set now, with the caller's rights over
            // it: from inside a user namespace of ours it could not be (as runc does, it
            // changes the name for every process of that namespace).
            if byPath(Namespace.uts) != nil, let name = spec.process.hostname {
                try Proc.setHostname(name)
                log.step("hostname \(name) (in the joined UTS namespace)")
            }
            // So are the message queues of a joined IPC namespace, for its mqueue mounts: a
            // detached mount, placed by the set-up. Where the caller's mount namespace does
            // not let it (a joined user namespace does not own that), the set-up tries.
            if byPath(Namespace.ipc) != nil, spec.operations.contains(where: Filesystem.isMqueue) {
                do throws(SysError) {
                    let fs = try Mounts.FilesystemContext("mqueue", what: "the joined IPC namespace's queues")
                    sandbox.joinedQueues = try fs.mount([.noSuid, .noDev, .noExec])
                } catch where error.errno == .notPermitted {}
            }
            if let file = byPath(Namespace.pid) { try file.enter() } else if let fd = spec.namespaces.pidToJoin {
                try Proc.setns(fd, Namespace.pid, what: "PID namespace of descriptor \(fd)")
            }
        } catch {
            var e = error
            if e.errno == .notPermitted, e.hint == nil {
                e.hint = """
                    entering (or renaming) a namespace needs CAP_SYS_ADMIN in the user namespace that owns it: \
                    join that user namespace too, or run as its owner
                    """
            }
            throw Failure(e)
        }
        do throws(SysError) {
            let flags = sandbox.supervisorNamespaces
            if flags != 0 { try Proc.unshare(flags, what: sandbox.supervisorNamespaceNames) }
        } catch {
            var e = error
            if privilege.caller == nil, [.permissionDenied, .noSpace, .invalidArgument, .notPermitted, .tooManyUsers].contains(e.errno) {
                e.hint = Sandbox.userNamespaceHint
            }
            throw Failure(e)
        }
        if mapHelper > 0 {
            _ = try? Files.writeAll(ch.mapHelperWrite, [1], what: "map helper pipe")
            Files.close(ch.mapHelperWrite)
            // The helper has said what went wrong.
            if Proc.wait(mapHelper, noHang: false) != .exited(0) { throw Failure(saidBy: "the uid map helper") }
            // Ranges without the supervisor's own ids: it takes ids the namespace maps, or
            // every file the set-up creates fails with EOVERFLOW.
            if let ids = maps.setupIDs {
                do { try Credentials.becomeInside(uid: ids.uid, gid: ids.gid) } catch { throw Failure(error) }
                log.step("set-up as uid \(ids.uid), gid \(ids.gid) inside (your own ids are not mapped)")
            }
        }
        // setuid: no user namespace, so no maps: the ids stay the host's. A joined one has
        // its maps already.
        var spec = spec
        if sandbox.makesUserNamespace, let block = spec.namespaces.mapsFromCaller, let info = spec.process.reports.info {
            // bwrap's --userns-block-fd: the caller maps the namespace this process made
            // (its pid on --info-fd, which is then done with), then writes to the descriptor.
            let text = StatusReports.infoObject(childPid: me, namespaceIDs: [], oneLine: false)
            do throws(SysError) {
                try Files.writeAll(info, Array(text.utf8), what: "--info-fd \(info)")
                Files.close(info)
                try Files.awaitByte(block, what: "--userns-block-fd \(block)")
            } catch {
                throw Failure(error)
            }
            spec.process.reports.info = nil
            sandbox.maps.setgroupsAllowed = IDMaps.setgroupsAllowedNow()
            log.step("maps written by the caller")
        } else if sandbox.makesUserNamespace {
            try maps.writeOwn(log: log)
            sandbox.maps.setgroupsAllowed = !maps.identity.gidMap.isEmpty && IDMaps.setgroupsAllowedNow()
        }

        // What the supervisor gives back while it waits (Supervision), found once for the
        // init to inherit too.
        ResidentMemory.prepare()
        let initPid: pid_t
        do { initPid = try Proc.fork("sandbox init") } catch { throw Failure(error) }
        if initPid == 0 {
            // (create's end of the hold is the supervisor's to write: it reads to end of file.)
            for fd in [ch.errorRead, ch.pidSupervisor, ch.jobEventsRead, pidFile, children, ch.heldRead,
                       spec.process.hold?.readyDescriptor ?? -1] { Files.close(fd) }
            if jobs.handOver < 0 { Files.close(jobs.descriptor) }
            sandbox.start()
        }
        // The init leads a process group of its own, away from the caller's (it sets it
        // too: either side may run first), and the command leads another: a group signal
        // from inside the sandbox stays in it, and one to the caller's group (make, say)
        // reaches burrow alone, which passes it on once.
        Proc.setProcessGroup(initPid, initPid)
        // The init has the hold's FIFO now: a `start` finds a reader only while it waits.
        Files.close(sandbox.heldFIFO)
        Files.close(sandbox.joinedQueues)  // the init's now
        for fd in [ch.errorWrite, ch.lifelineRead, ch.pidCommand, ch.jobEventsWrite, ch.deviceNodes, ch.heldWrite] { Files.close(fd) }
        // Those passed on to the command (burrow-oci's --preserve-fds) are its, through the init.
        Files.close(from: 3, count: spec.process.preservedDescriptors)
        // setuid: the supervisor's privileged part ends with the init's fork (the PID
        // namespace above was its last use). It only waits and forwards signals from here.
        if let caller = privilege.caller {
            do throws(SysError) {
                try caller.becomeForGood()
                // The id change cleared the parent-death signal: set it again.
                if spec.process.dieWithParent, try !Proc.dieWithParent(SIGKILL, expectedParent: parent) {
                    Proc.kill(initPid, SIGKILL)
                    _ = Proc.wait(initPid, noHang: false)
                    return 128 + SIGKILL
                }
            } catch {
                Proc.kill(initPid, SIGKILL)
                _ = Proc.wait(initPid, noHang: false)
                throw Failure(error)
            }
        }

        // The sandbox's processes, among the supervisor's children once the init is gone: with
        // a PID namespace the init alone (PID 1 takes the namespace with it); else whoever is
        // in the sandbox's user namespace (the supervisor's own since its unshare) or one made
        // below it. Not the cleaner, nor a child the caller left burrow before its exec, nor
        // their orphans: all in the caller's user namespace. (Setuid mode always has a PID
        // namespace.)
        var sandboxProcess: (pid_t) -> Bool = { $0 == initPid }
        if !spec.namespaces.pid, privilege.caller == nil, let own = try? Proc.ownUserNamespace() {
            sandboxProcess = { Proc.isIn(own, $0) }
        }
        var watch = Supervision(spec: spec, initPid: initPid, errorPipe: ch.errorRead, jobEvents: ch.jobEventsRead,
                                announcements: ch.pidSupervisor, pidFile: pidFile, children: children,
                                sandboxProcess: sandboxProcess, jobs: jobs)
        if let hold = spec.process.hold { watch.handOver = (held: ch.heldRead, to: hold.readyDescriptor, cleaner: cleaner, lifeline: ch.lifelineWrite) }
        defer { for fd in [ch.errorRead, ch.jobEventsRead, ch.pidSupervisor, ch.heldRead] { Files.close(fd) } }
        let status = try watch.run()
        handedOver = watch.handedOver
        return status
    }

    /// Enters a user namespace where the caller is root, with a mount namespace of its own
    /// (a copy of the host's), and registers QEMU there. Returns the binfmt_misc mount.
    private static func registerQemu(_ qemu: QemuEmulation, log: Log) throws(Failure) -> Int32 {
        let (uid, gid) = (getuid(), getgid())  // before unshare: afterwards they are unmapped
        do throws(SysError) {
            try Proc.unshare(Namespace.user | Namespace.mount, what: "(user, mount) for binfmt_misc")
            try Files.writeFile("/proc/self/uid_map", "0 \(uid) 1\n")
            try Files.writeFile("/proc/self/setgroups", "deny\n")
            try Files.writeFile("/proc/self/gid_map", "0 \(gid) 1\n")
            return try QemuSetup.register(qemu, log: log)
        } catch {
            throw Failure(error)
        }
    }
}
