import BurrowCleaner
import BurrowKernel
import BurrowSpec
import Glibc

/// Realises a `SandboxSpec` with unprivileged user namespaces: native speed, no privilege.
/// This file is the supervisor, the process the user started: it checks what it can
/// before anything is created, starts the cleaner, enters the new user namespace, starts
/// the init, reports failures, forwards signals and returns the command's status.
public enum NamespaceEngine {
    /// Runs the sandbox and returns burrow's exit status. Errors are printed to stderr.
    /// `privilege` is `.setuidRoot` only when the setuid engine runs this one without a
    /// user namespace (Sources/Engines/Setuid).
    public static func run(_ spec: SandboxSpec, privilege: Privilege = .userNamespace) -> Int32 {
        do {
            return try supervise(spec, privilege: privilege)
        } catch {
            report(error.message, spec)
            return failed(error.status, spec)
        }
    }

    /// Burrow's own failures (125, or 126/127 when the command could not be started) as
    /// the front-end wants them reported: linux-user-chroot and jchroot say 1.
    static func failed(_ status: Int32, _ spec: SandboxSpec) -> Int32 {
        spec.process.failureStatus == Failure.setupStatus ? status : spec.process.failureStatus
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

    static func report(_ message: String, _ spec: SandboxSpec) {
        _ = try? Files.writeAll(2, Array("\(spec.toolName): \(message)\n".utf8), what: "stderr")
    }

    private static func supervise(_ spec: SandboxSpec, privilege: Privilege) throws(Failure) -> Int32 {
        var spec = spec
        let log = Log(enabled: spec.verbose, name: spec.toolName)
        if let dir = spec.temporaryDirectory, let e = HostProbes.unwritableDirectory(dir.string) {
            throw Failure(SysError("temporary directory", dir.string, errno: e))
        }
        // PRoot's -q keeps QEMU's options as arguments; binfmt_misc passes none.
        if let qemu = spec.emulation.qemu, qemu.prootStyle {
            do throws(Qemu.OptionError) { spec.process.environment += try Qemu.binfmtEnvironment(qemu) } catch {
                throw Failure("-q: \(error.message) (the namespace engine runs QEMU through binfmt_misc; the ptrace engine runs any command, as PRoot)")
            }
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
            throw Failure(SysError("rootfs", spec.root.path.string, errno: error.errno))
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
            throw Failure(refusal.message)
        }
        let cleanupNeeded = spec.process.pidFile != nil || HostChanges.possible(spec, rootfd: rootfd)
        Files.close(rootfd)
        if spec.process.dieWithParent {
            guard (try? Proc.dieWithParent(SIGKILL, expectedParent: parent)) == true else { return 128 + SIGKILL }
        }

        let seccomp = try SeccompSetup.program(for: spec, log: log)

        // Read while the host's /proc is in reach: the command drops capabilities up to it.
        _ = Proc.lastCapability
        // Signals are taken over before the first fork, so none is lost in between.
        let callerMask = Signals.takeOver()
        let maps = IDMaps(identity: spec.identity, hostUid: getuid(), hostGid: getgid())
        var ch = Channels()
        var pidFile: Int32 = -1
        // The pid file is made by the cleaner (below), which removes it even after kill -9.
        var pidDir: (fd: Int32, name: String) = (-1, "")
        do throws(SysError) {
            (ch.errorRead, ch.errorWrite) = try Files.pipe()
            (ch.lifelineRead, ch.lifelineWrite) = try Files.pipe()
            if let path = spec.process.pidFile {
                (ch.pidSupervisor, ch.pidCommand) = try Files.socketPair(Int32(SOCK_DGRAM.rawValue))
                try Files.passCredentials(ch.pidSupervisor)
                let (dir, name) = Cleaner.split(path.string)
                do { pidDir = (try Files.open(dir, O_PATH | O_DIRECTORY), name) } catch {
                    throw SysError("open pid file", path.string, errno: error.errno)
                }
            }
            if cleanupNeeded {
                (ch.cleanerSide, ch.cleanerSandbox) = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue))
            }
            if maps.needsHelper { (ch.mapHelperRead, ch.mapHelperWrite) = try Files.pipe() }
        } catch {
            throw Failure(error)
        }

        // The cleaner and the map helper stay outside every namespace of the sandbox.
        var cleaner: pid_t = -1
        if ch.cleanerSide >= 0 {
            do { cleaner = try Proc.fork("cleaner") } catch { throw Failure(error) }
            if cleaner == 0 {
                for fd in [ch.errorRead, ch.errorWrite, ch.lifelineRead, ch.lifelineWrite, ch.mapHelperRead,
                           ch.mapHelperWrite, ch.pidSupervisor, ch.pidCommand, ch.cleanerSandbox, pidFile] { Files.close(fd) }
                // setuid: the cleaner removes only what the caller could remove.
                if let caller = privilege.caller {
                    do { try caller.becomeForGood() } catch { report(error.description, spec); Proc.exit(Failure.setupStatus) }
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
                    report(error.message, spec)
                    Proc.exit(1)
                }
                Proc.exit(0)
            }
            Files.close(ch.mapHelperRead)
        }

        // Whatever happens from here on, the cleaner gets to finish before burrow exits.
        let outcome: Result<Int32, Failure>
        do {
            outcome = .success(try enterAndWatch(spec, privilege: privilege, maps: maps, seccomp: seccomp, channels: &ch,
                                                 mapHelper: mapHelper, pidFile: pidFile, callerMask: callerMask,
                                                 supervisor: me, parent: parent, log: log))
        } catch {
            outcome = .failure(error)
        }
        Files.close(ch.cleanerSandbox)
        Files.close(ch.lifelineWrite)
        if cleaner > 0 { _ = Proc.wait(cleaner, noHang: false) }
        return try outcome.get()
    }

    /// Enters the new user namespace (and PID namespace, for our next child), maps ids,
    /// starts the init, reports its failures and passes signals on until it exits.
    private static func enterAndWatch(
        _ spec: SandboxSpec, privilege: Privilege, maps: IDMaps, seccomp: [BPFCode]?, channels ch: inout Channels,
        mapHelper: pid_t, pidFile: Int32, callerMask: sigset_t, supervisor me: pid_t, parent: pid_t, log: Log
    ) throws(Failure) -> Int32 {
        defer { Files.close(pidFile) }
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
        var sandbox = Sandbox(spec: spec, privilege: privilege, maps: maps, seccomp: seccomp, channels: ch,
                              callerMask: callerMask, supervisor: me, log: log)
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
            if Proc.wait(mapHelper, noHang: false) != .exited(0) { return failed(Failure.setupStatus, spec) }
        }
        // setuid: no user namespace, so no maps: the ids stay the host's.
        if privilege.caller == nil {
            try maps.writeOwn(log: log)
            sandbox.maps.setgroupsAllowed = !maps.identity.gidMap.isEmpty && IDMaps.setgroupsAllowedNow()
        }

        let initPid: pid_t
        do { initPid = try Proc.fork("sandbox init") } catch { throw Failure(error) }
        if initPid == 0 {
            for fd in [ch.errorRead, ch.pidSupervisor, pidFile] { Files.close(fd) }
            sandbox.start()
        }
        for fd in [ch.errorWrite, ch.lifelineRead, ch.pidCommand, ch.cleanerSandbox] { Files.close(fd) }
        ch.cleanerSandbox = -1
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

        // EOF: the command is running. A message: setup or exec failed, and why.
        let message = (try? Files.readAll(ch.errorRead)) ?? []
        Files.close(ch.errorRead)
        let failure = Failure(decoding: message)
        if let failure { report(failure.message, spec) }

        if failure == nil, pidFile >= 0, let pid = Files.receiveSenderPid(ch.pidSupervisor) {
            _ = try? Files.writeAll(pidFile, Array("\(pid)\n".utf8), what: spec.process.pidFile?.string ?? "")
        }
        Files.close(ch.pidSupervisor)

        let status = forward(to: initPid, newSession: spec.process.newSession)
        if let f = failure, f.status != 0 { return failed(f.status, spec) }
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

    /// Forwards signals to the init until it exits; returns its status.
    private static func forward(to child: pid_t, newSession: Bool) -> Int32 {
        if let e = Proc.wait(child, noHang: true) { return e.status }
        while true {
            let r = Signals.wait()
            if r.signal == SIGCHLD {
                if let e = Proc.wait(child, noHang: true) { return e.status }
                continue
            }
            if !Signals.isFromTerminal(r) || newSession { Proc.kill(child, r.signal) }
        }
    }
}
