import BurrowKernel
import BurrowSpec
import Glibc
import SystemPackage

/// The last steps before the command: identity, capabilities, no_new_privs, working
/// directory, environment, exec. Runs in the forked child of the init, inside the new root.
struct Launcher {
    let spec: SandboxSpec
    let maps: IDMaps
    let errorPipe: Int32
    let pidSocket: Int32
    let callerMask: sigset_t
    let log: Log

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// What root inside keeps: everything but the power to undo the sandbox's own mounts
    /// (CAP_SYS_ADMIN) and to trace its init (CAP_SYS_PTRACE). Within the user namespace
    /// only: the host never sees these capabilities.
    static let rootDrops: Set<Int32> = [21 /* CAP_SYS_ADMIN */, 19 /* CAP_SYS_PTRACE */]

    func start() -> Never {
        Signals.restore(callerMask)
        do throws(SysError) {
            if spec.process.newSession, setsid() < 0 { throw SysError.last("setsid", "") }
            _ = try Proc.dieWithParent(SIGKILL, expectedParent: getppid())
            if pidSocket >= 0 {
                // The kernel attaches our pid, as the supervisor sees it, to this message.
                var one: UInt8 = 1
                _ = send(pidSocket, &one, 1, Int32(MSG_NOSIGNAL))
                Files.close(pidSocket)
            }
            let uid = maps.insideUid, gid = maps.insideGid
            let keep: Set<Int32> = uid == 0 ? Set(0...Proc.lastCapability).subtracting(Self.rootDrops) : []
            // The bounding set first (that needs CAP_SETPCAP), then the ids, then the rest.
            // Only root inside needs it: any other uid gets no capability from exec (every
            // mount here is nosuid, so file capabilities are ignored too).
            if uid == 0 { try Proc.limitBoundingSet(to: keep) }
            try Proc.become(uid: uid, gid: gid, groups: maps.setgroupsAllowed ? [] : nil)
            try Proc.setCapabilities(keep)
            // no_new_privs before the first exec in the new root: setuid files stay inert.
            try Proc.setNoNewPrivileges()
            let dir = spec.process.chdir?.description ?? "/"
            if chdir(dir) != 0 { throw SysError.last("chdir", dir) }
            // Descriptors the caller passed to burrow beyond stdio do not reach the sandbox.
            try Files.closeOnExec(from: 3)
        } catch {
            fail(Failure(error), on: errorPipe)
        }
        let env = applyEnvironment(spec.process.environment, to: Self.callerEnvironment())
        let (path, errno) = Self.execute(spec.process.argv, env: env)
        // exec failed: 127 when nothing was found, 126 when it was found but cannot run.
        let status: Int32 = errno == .noSuchFileOrDirectory || errno == .notDirectory ? 127 : 126
        fail(Failure(SysError("exec", path, errno: errno), status: status), on: errorPipe)
    }

    static func callerEnvironment() -> [(String, String)] {
        var out: [(String, String)] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out.append((String(s[..<eq]), String(s[s.index(after: eq)...]))) }
            p += 1
        }
        return out
    }

    /// execvpe with the *sandbox's* PATH, as env(1) searches it: a missing file moves on to
    /// the next directory, a file that cannot run is remembered.
    static func execute(_ argv: [String], env: [(String, String)]) -> (String, Errno) {
        let envStrings = env.map { "\($0.0)=\($0.1)" }
        let name = argv[0]
        if name.contains("/") { return (name, Proc.exec(name, argv, envStrings)) }
        let path = env.first { $0.0 == "PATH" }?.1 ?? defaultPath
        var found: (String, Errno)?
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            let e = Proc.exec(candidate, argv, envStrings)
            if e != .noSuchFileOrDirectory && e != .notDirectory && found == nil { found = (candidate, e) }
        }
        return found ?? (name, .noSuchFileOrDirectory)
    }
}
