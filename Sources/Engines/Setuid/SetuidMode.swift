import BurrowKernel
import BurrowSpec
import Glibc
import NamespaceEngine

/// Setuid mode: on hosts without unprivileged user namespaces, a burrow installed setuid
/// root (`scripts/install --setuid`) builds the sandbox with root's privilege and runs the
/// command as the caller, as linux-user-chroot does. The privilege is used only to make
/// namespaces and mounts; it never reaches a file, an id or a program the caller could not
/// reach before. Where it is held, and where it ends, in the order things happen:
///
///  1. `begin()`, the first statement of main: the environment is cut down to
///     `SetuidPolicy.keptVariables` (glibc already dropped LD_*, GCONV_PATH, TMPDIR...
///     for AT_SECURE); file access switches to the caller's ids (setfsuid/setfsgid), so
///     every open, lookup and mkdir from here on is the caller's, with no DAC override.
///  2. Engine choice (`wanted`): setuid mode only when asked (`--engine setuid`) or when
///     `auto` finds user namespaces unusable for the caller (probed by a child that has
///     dropped privilege). Otherwise `giveUp()` drops root for good at once and the
///     namespace engine runs exactly as for an ordinary user.
///  3. The namespace engine with `.setuidRoot(caller)` (Sources/Engines/Namespace): options
///     unsafe with privilege are refused (`SandboxSpec.setuidRefusal`); no user namespace;
///     the supervisor makes the PID namespace, forks the cleaner (which drops at once) and
///     the init, then drops for good. The init makes the mount (and ipc, net, uts, cgroup)
///     namespaces, builds the root (sources opened as the caller and checked with access(2)
///     on the real ids; destinations resolved in the root with RESOLVE_IN_ROOT; root and
///     binds nosuid), pivots, and drops for good (`Credentials.becomeForGood`: the caller's
///     groups, setresgid, setresuid, capabilities cleared, then checked: every id the
///     caller's, no capability, setuid(0) refused). Only then is the command started, with
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
            try Credentials.setFilesystemIDs(uid: caller.uid, gid: caller.gid)
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

    /// Whether this run uses setuid mode: always for `--engine setuid`; for `auto`, when
    /// burrow is setuid root and user namespaces do not work for the caller.
    public static func wanted(_ spec: SandboxSpec, caller: Caller?) -> Bool {
        switch spec.engine {
        case .setuid: return true
        case .auto:
            guard let caller else { return false }
            let probe = userNamespaceProbe(caller)
            if spec.verbose, let failure = probe {
                say("user namespaces unavailable to uid \(caller.uid) (\(failure)): setuid mode", spec.toolName)
            }
            return probe != nil
        default: return false
        }
    }

    /// Runs `spec` in setuid mode. Refused, with status 125 (or the front-end's failure
    /// status), when burrow is not installed setuid root.
    public static func run(_ spec: SandboxSpec, caller: Caller?) -> Int32 {
        guard let caller else {
            say("""
                the setuid engine needs burrow installed setuid root, and this one is not \
                (uid \(getuid()), euid \(geteuid()))
                  hint: an administrator installs it with scripts/install --setuid (or --setuid-group GROUP); \
                where user namespaces work, use --engine namespace or auto
                """, spec.toolName)
            return spec.process.failureStatus
        }
        if spec.verbose { say("setuid mode: building the sandbox as root for uid \(caller.uid), gid \(caller.gid)", spec.toolName) }
        // Without a PID namespace the command would be one more process of the caller, in the
        // host's user namespace: nothing would keep it from ptracing the caller's other
        // processes and reaching the host through their /proc/PID/root. So setuid mode
        // always makes one (and --proc is then a fresh procfs of the sandbox's own).
        var spec = spec
        if !spec.namespaces.pid {
            spec.namespaces.pid = true
            if spec.verbose { say("setuid mode: a new PID namespace (always, in this mode)", spec.toolName) }
        }
        return NamespaceEngine.run(spec, privilege: .setuidRoot(caller))
    }

    /// nil when the caller, without privilege, can make a user and a mount namespace (the
    /// namespace engine will work); else what failed. Tried in a child that drops root for
    /// good first: root itself may always make them.
    static func userNamespaceProbe(_ caller: Caller) -> String? {
        let child: pid_t
        do { child = try Proc.fork("user namespace probe") } catch { return nil }
        if child == 0 {
            do {
                try caller.becomeForGood()
                try Proc.unshare(Namespace.user | Namespace.mount, what: "(user, mount)")
            } catch {
                Proc.exit(error.errno.rawValue & 0x7f)
            }
            Proc.exit(0)
        }
        switch Proc.wait(child, noHang: false) {
        case .exited(0)?: return nil
        case .exited(let e)?: return "unshare (user, mount): \(SysError.message(for: .init(rawValue: e)))"
        default: return "the probe died"
        }
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

    private static func say(_ text: String, _ tool: String = "burrow") {
        _ = try? Files.writeAll(2, Array("\(tool): \(text)\n".utf8), what: "stderr")
    }

    private static func die(_ text: String) -> Never {
        say(text)
        Proc.exit(125)
    }
}
