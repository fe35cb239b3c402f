import BurrowKernel
import BurrowSandbox
import Glibc

/// Everything about the command's process decided in Swift, before it exists: its ids,
/// capabilities, working directory, environment and the programs to try. The process itself
/// is started by `Proc.launch`, whose child runs only raw system calls between clone and exec.
struct Launcher {
    let spec: SandboxSpec
    let maps: IDMaps
    let seccomp: [BPFCode]?
    let pidSocket: Int32
    let callerMask: sigset_t
    let foregroundTerminal: Int32
    /// setuid mode: no_new_privs whatever the spec says.
    var setuidMode = false
    /// The command's own terminal (`ConsoleRequest`), made by the set-up; -1: none.
    var terminal: Int32 = -1

    /// What root inside keeps unless told otherwise: everything but the power to undo the
    /// sandbox's own mounts (CAP_SYS_ADMIN) and to trace its init (CAP_SYS_PTRACE). Within
    /// the user namespace only: the host never sees these capabilities.
    static let rootDrops: Capabilities = [.sysAdmin, .sysPtrace]
    /// What no capability set given (burrow-oci's process.capabilities) can hold: the power to
    /// trace the init, and the supervisor where it is in sight (no PID namespace).
    static let neverGiven: Capabilities = [.sysPtrace]

    var request: Proc.LaunchRequest {
        let cwd = workingDirectory
        let env = spec.process.launchEnvironment(caller: Credentials.environment(), workingDirectory: (try? Files.realPath(cwd)) ?? cwd)
        let uid = maps.insideUid
        var r = Proc.LaunchRequest(
            candidates: candidates(env), argv: spec.process.execArgv,
            environment: env.map { "\($0.0)=\($0.1)" }, workingDirectory: workingDirectory,
            signalMask: callerMask, uid: uid, gid: maps.insideGid)
        r.newSession = spec.process.newSession
        r.foregroundTerminal = foregroundTerminal
        if terminal >= 0 {
            r.terminal = terminal
            r.foregroundTerminal = -1  // (the caller's terminal is not the command's)
        }
        r.shellFallback = spec.process.commandLookup.shellFallback
        r.preservedDescriptors = spec.process.preservedDescriptors
        r.announceFD = pidSocket
        r.clearGroups = maps.setgroupsAllowed || !spec.identity.supplementaryGroups.isEmpty
        if let fd = spec.namespaces.userAfterSetup {
            // Whether setgroups is allowed there is that namespace's business: left alone.
            r.enterUserNamespace = fd
            r.clearGroups = false
        }
        r.groups = spec.identity.supplementaryGroups
        r.seccompFilter = seccomp
        r.callerSeccompPrograms = spec.security.callerPrograms.compactMap(\.instructions)
        if uid == 0 {
            // (bwrap's --cap-add/--cap-drop choose them; NamespaceEngine refuses a choice for
            // any other uid.)
            r.keepCapabilities = spec.identity.capabilities.map { Capabilities(rawValue: $0) }
                ?? Capabilities.all(upTo: Proc.lastCapability).subtracting(Self.rootDrops)
            // In the caller's own user namespace (burrow-oci's root on the host) no more than
            // the caller has: a user namespace of Burrow's would grant every one, this one not.
            if spec.namespaces.keepsCallerUser, spec.identity.capabilities == nil, let own = try? Capabilities.current() {
                r.keepCapabilities = r.keepCapabilities.intersection(own.permitted)
            }
            r.dropBoundingSet = true
        } else if !setuidMode {
            // Any other uid gets no capability from exec (every mount is nosuid, so file
            // capabilities are ignored too); its bounding set is emptied all the same, as
            // bubblewrap's is, so that nothing the sandbox later mounts or is given can
            // raise one. The child is still root of its user namespace here (CAP_SETPCAP);
            // in setuid mode it no longer has an effective capability to do it with.
            r.dropBoundingSet = true
        }
        if let sets = spec.security.capabilities { Self.apply(sets, to: &r, uid: uid) }
        // Every mount is nosuid (file capabilities too), so without no_new_privs an exec
        // still gains nothing; burrow-oci asks for it only where the config says false.
        r.noNewPrivileges = spec.security.noNewPrivileges || setuidMode
        return r
    }

    /// Runs in the new root. An optional directory the guest lacks means `/`.
    var workingDirectory: String {
        guard let dir = spec.process.chdir?.description else { return "/" }
        if spec.process.chdirIsOptional {
            var st = stat()
            if stat(dir, &st) != 0 || st.st_mode & S_IFMT != S_IFDIR { return "/" }
        }
        return dir
    }

    /// The paths execve will try, found in the new root (where this runs), in the sandbox's
    /// PATH (not burrow's).
    func candidates(_ env: [(String, String)]) -> [String] {
        let cwd = workingDirectory
        return spec.process.commandLookup.candidates(for: spec.process.argv[0], environment: env) { dir in
            try? Files.realPath(dir.hasPrefix("/") ? dir : (cwd == "/" ? "" : cwd) + "/" + dir)
        }
    }
}

extension Launcher {
    /// burrow-oci's process.capabilities, which the front-end checked can be had exactly
    /// (OCIConfig): for root, permitted and effective are the bounding and inheritable sets
    /// together after exec; for another uid, the ambient set (kept over setresuid, raised
    /// after capset). CAP_SYS_ADMIN where the config names it; never CAP_SYS_PTRACE
    /// (`neverGiven`).
    static func apply(_ sets: CapabilitySets, to r: inout Proc.LaunchRequest, uid: UInt32) {
        func mask(_ names: [String]) -> Capabilities {
            Capabilities(rawValue: CapabilitySets.mask(names).mask).subtracting(neverGiven)
        }
        r.dropBoundingSet = true
        r.boundingSet = mask(sets.bounding)
        r.inheritableCapabilities = mask(sets.inheritable)
        r.ambientCapabilities = mask(sets.ambient)
        r.keepCapabilities = mask(sets.permitted)
    }
}
