import BurrowKernel
import BurrowSandbox
import Glibc
import NamespaceEngine
import SystemPackage

/// Setuid mode: on hosts without unprivileged user namespaces, a burrow installed setuid
/// root (`scripts/install --setuid`) builds the sandbox with root's privilege and runs the
/// command as the caller, as linux-user-chroot does. The privilege is used only to make
/// namespaces and mounts; it never reaches a file, an id or a program the caller could not
/// reach before. Where it is held, and where it ends, in the order things happen:
///
///  1. `begin()`, the first statement of main: the environment is cut down to
///     `SetuidPolicy.keptVariables` (glibc already dropped LD_*, GCONV_PATH, TMPDIR...
///     for AT_SECURE); the process becomes the caller (`Credentials.actAsCaller`:
///     setresuid(caller, caller, 0), the caller's gids), with an empty effective capability
///     set. Root's capabilities stay in the permitted set only, and `Privileged.run`
///     (Sources/Kernel/Capabilities.swift) raises the one a mount, unshare, pivot_root,
///     sethostname or setgroups needs around that system call alone; none of those takes a
///     path the caller named. So every path the caller names (rootfs, bind sources, --seccomp
///     and fstab files, the pid file, mount points) is resolved, opened, read and created
///     with the caller's rights and no capability: /proc/PID/cwd of root's processes stays
///     closed, and an error reads the same whether or not the file behind it exists.
///  2. Engine choice (Sources/burrow/main.swift, the one place): setuid mode only when asked
///     (`--engine setuid`) or when `auto` finds user namespaces unusable for the caller
///     (`userNamespaceProbe`, in a child that has dropped privilege) and root able to make
///     the namespaces (`rootNamespaceProbe`, its unshare and mount raised like the engine's).
///     Otherwise `giveUp()` drops root for good at once and the chosen engine runs exactly
///     as for an ordinary user.
///  3. The namespace engine with `.setuidRoot(caller)` (Sources/Engines/Namespace): options
///     unsafe with privilege are refused (`SandboxSpec.setuidRefusal`); no user namespace;
///     the supervisor makes the PID namespace, forks the cleaner (which drops at once) and
///     the init, then drops for good. The init makes the mount (and ipc, net, uts, cgroup)
///     namespaces, builds the root (sources opened as the caller and checked with access(2)
///     on the real ids; a procfs refused as a source, and every procfs the root and binds
///     carried in from the host detached; destinations resolved in the root with
///     RESOLVE_IN_ROOT; root and binds nosuid), pivots, and drops for good
///     (`Credentials.becomeForGood`: the caller's groups, setresgid, setresuid, capabilities
///     cleared, then checked: every id the caller's, no capability, setuid(0) refused). Only then is the command started, with
///     no_new_privs set.
public enum SetuidMode {
    /// Run first. Returns the caller when burrow runs setuid root (euid 0, real uid not 0);
    /// nil otherwise. Any other raised privilege (setgid, file capabilities) is dropped here.
    public static func begin() -> Caller? {
        let uids = Credentials.uids(), gids = Credentials.gids()
        let raised = Credentials.isSecureExec || uids.effective != uids.real || gids.effective != gids.real
        guard raised else { return nil }
        Credentials.replaceEnvironment(with: SetuidPolicy.safeEnvironment(Credentials.environment()))
        let caller = Caller(uid: uids.real, gid: gids.real, groups: Credentials.groups())
        guard uids.effective == 0, uids.real != 0 else {
            drop(caller)
            return nil
        }
        do {
            try Credentials.actAsCaller(uid: caller.uid, gid: caller.gid)
        } catch {
            die("setuid mode: \(error)")
        }
        return caller
    }

    /// Drops root for good when setuid mode will not be used: the namespace engine and
    /// everything else run as an ordinary user would.
    public static func giveUp(_ caller: Caller?) {
        if let caller { drop(caller) }
    }

    /// Runs `spec` in setuid mode. Refused (a failure, 125) when burrow is not installed
    /// setuid root.
    public static func run(_ spec: SandboxSpec, caller: Caller?) -> Outcome {
        guard let caller else {
            return .failed("""
                the setuid engine needs burrow installed setuid root, and this one is not \
                (uid \(getuid()), euid \(geteuid()))
                  hint: an administrator installs it with scripts/install --setuid (or --setuid-group GROUP); \
                where user namespaces work, use --engine namespace or auto
                """, status: Outcome.setupStatus)
        }
        if spec.verbose { say("setuid mode: building the sandbox as root for uid \(caller.uid), gid \(caller.gid)") }
        // Without a PID namespace the command would be one more process of the caller, in the
        // host's user namespace: nothing would keep it from ptracing the caller's other
        // processes and reaching the host through their /proc/PID/root. So setuid mode
        // always makes one (and --proc is then a fresh procfs of the sandbox's own).
        var spec = spec
        if !spec.namespaces.pid {
            spec.namespaces.pid = true
            if spec.verbose { say("setuid mode: a new PID namespace (always, in this mode)") }
        }
        let own = spec.withOwnProcfsForRecommendedBinds()
        if spec.verbose, own.operations != spec.operations {
            say("setuid mode: the recommended /proc bind is the sandbox's own procfs (the host's is never bound)")
        }
        return NamespaceEngine.run(own, privilege: .setuidRoot(caller))
    }

    /// nil when the caller, without privilege, can make and use a user namespace as the
    /// namespace engine would (HostProbes.userNamespace); else the step that failed. Tried in
    /// a child that drops root for good first: root itself may always make them.
    public static func userNamespaceProbe(_ caller: Caller) -> HostProbes.UserNamespaceFailure? {
        let steps: [HostProbes.UserNamespaceFailure.Step] = [.clone, .setgroups, .uidMap, .gidMap, .mount]
        let answer = childProbe { () throws(SysError) in
            try caller.becomeForGood()
            // The id change made this process undumpable: its /proc files would be root's,
            // and the probe could not write its own uid_map.
            try Proc.setDumpable(true)
            guard let f = HostProbes.userNamespace() else { return nil }
            return (Int32(steps.firstIndex(of: f.step) ?? 0), f.errno.rawValue)
        }
        guard let (step, errno) = answer else { return nil }
        return .init(step: steps.indices.contains(Int(step)) ? steps[Int(step)] : .clone, errno: Errno(rawValue: errno))
    }

    /// nil when root can make what setuid mode needs here: a PID and a mount namespace, and
    /// mounts in it (a container without CAP_SYS_ADMIN, or whose seccomp profile denies
    /// unshare, cannot); else what failed.
    public static func rootNamespaceProbe(_ caller: Caller) -> String? {
        let answer = childProbe { () throws(SysError) in
            try Proc.unshare(Namespace.pid | Namespace.mount, what: "(pid, mount)")
            try Mounts.setPropagation("/", UInt(MS_REC | MS_PRIVATE))
            return nil
        }
        guard let (step, errno) = answer else { return nil }
        return "\(step == 0 ? "unshare (pid, mount)" : "mount (make / private)"): \(SysError.message(for: Errno(rawValue: errno)))"
    }

    /// Runs `body` in a forked child and brings back what it says: nil (it worked) or a step
    /// and an errno. A thrown error counts as step 0 with its errno; a child that died, as
    /// step 0, EPERM.
    private static func childProbe(_ body: () throws(SysError) -> (Int32, Int32)?) -> (Int32, Int32)? {
        guard let (r, w) = try? Files.pipe() else { return (0, EPERM) }
        let child: pid_t
        do { child = try Proc.fork("probe") } catch {
            Files.close(r)
            Files.close(w)
            return (0, error.errno.rawValue)
        }
        if child == 0 {
            Files.close(r)
            var said: (Int32, Int32)?
            do { said = try body() } catch { said = (0, error.errno.rawValue) }
            if let (a, b) = said { _ = try? Files.writeAll(w, [a, b].withUnsafeBytes { Array($0) }, what: "probe") }
            Proc.exit(0)
        }
        Files.close(w)
        let bytes = (try? Files.readAll(r, limit: 8)) ?? []
        Files.close(r)
        let exit = Proc.wait(child, noHang: false)
        if bytes.count == 8 {
            return bytes.withUnsafeBytes { ($0.load(fromByteOffset: 0, as: Int32.self), $0.load(fromByteOffset: 4, as: Int32.self)) }
        }
        return exit == .exited(0) ? nil : (0, EPERM)
    }

    private static func drop(_ caller: Caller) {
        do {
            try caller.becomeForGood()
            // A process whose ids changed is not dumpable: its /proc files belong to root, and
            // the namespace engine could not write its own uid_map. Nothing privileged is
            // left to protect.
            try Proc.setDumpable(true)
        } catch {
            die("cannot give up the setuid privilege: \(error)")
        }
    }

    private static func say(_ text: String) { Diagnostics.say(text) }

    private static func die(_ text: String) -> Never {
        say(text)
        Proc.exit(125)
    }
}
