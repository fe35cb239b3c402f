import CKernel
import Glibc
import SystemPackage

/// Processes, signals, identity and namespaces.
public enum Proc {
    public static func fork(_ what: String) throws(SysError) -> pid_t {
        let pid = Glibc.fork()
        if pid < 0 { throw SysError.last("fork", what) }
        return pid
    }

    public enum Exit: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        /// The shell convention: the code, or 128+N for signal N.
        public var status: Int32 {
            switch self {
            case .exited(let c): return c
            case .signaled(let s): return 128 + s
            }
        }
    }

    /// waitpid; nil with WNOHANG when nothing changed, or when there is no such child.
    public static func wait(_ pid: pid_t, noHang: Bool) -> (pid_t, Exit)? {
        var status: Int32 = 0
        while true {
            let r = Glibc.waitpid(pid, &status, noHang ? WNOHANG : 0)
            if r < 0 && Glibc.errno == EINTR { continue }
            if r <= 0 { return nil }
            // WIFEXITED / WTERMSIG are macros: decode the status word by hand.
            let sig = status & 0x7f
            if sig == 0 { return (r, .exited((status >> 8) & 0xff)) }
            if sig != 0x7f { return (r, .signaled(sig)) }
        }
    }

    public static func kill(_ pid: pid_t, _ sig: Int32) { _ = Glibc.kill(pid, sig) }

    public static func exit(_ code: Int32) -> Never { Glibc._exit(code) }

    public static func prctl(_ option: Int32, _ a2: UInt = 0, what: String) throws(SysError) {
        if ck_prctl(option, a2, 0, 0, 0) != 0 { throw SysError.last("prctl", what) }
    }

    /// Sends `sig` to this process when its parent thread dies; returns false when the parent
    /// is already gone (the race between fork and prctl).
    public static func dieWithParent(_ sig: Int32, expectedParent: pid_t) throws(SysError) -> Bool {
        try prctl(PR_SET_PDEATHSIG, UInt(sig), what: "PR_SET_PDEATHSIG")
        return Glibc.getppid() == expectedParent
    }

    public static func unshare(_ flags: Int32, what: String, hint: String? = nil) throws(SysError) {
        if ck_unshare(flags) != 0 { throw SysError.last("unshare", what, hint: hint) }
    }

    public static func setHostname(_ name: String) throws(SysError) {
        if ck_sethostname(name, name.utf8.count) != 0 { throw SysError.last("sethostname", name) }
    }

    /// `setgroups` before `setresgid` before `setresuid`: each later call removes the right
    /// to make the earlier one.
    public static func become(uid: UInt32, gid: UInt32, groups: [UInt32]?) throws(SysError) {
        if let groups {
            if ck_setgroups(groups.count, groups) != 0 { throw SysError.last("setgroups", "\(groups)") }
        }
        if ck_setresgid(gid, gid, gid) != 0 { throw SysError.last("setresgid", "\(gid)") }
        if ck_setresuid(uid, uid, uid) != 0 { throw SysError.last("setresuid", "\(uid)") }
    }

    public static let lastCapability: Int32 = {
        guard let fd = try? Files.open("/proc/sys/kernel/cap_last_cap", O_RDONLY),
            let bytes = try? Files.readAll(fd, limit: 16)
        else { return 40 }
        Files.close(fd)
        return Int32(String(decoding: bytes, as: UTF8.self).filter(\.isNumber)) ?? 40
    }()

    /// Removes every capability but `keep` from the bounding set and clears the ambient set:
    /// nothing the command executes can regain the others. Needs CAP_SETPCAP, so it comes
    /// before the switch to the command's ids.
    public static func limitBoundingSet(to keep: Set<Int32>) throws(SysError) {
        for cap in 0...lastCapability where !keep.contains(cap) {
            if ck_prctl(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) != 0 && Glibc.errno != EINVAL {
                throw SysError.last("prctl", "PR_CAPBSET_DROP \(cap)")
            }
        }
        _ = ck_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
    }

    /// Effective and permitted sets become exactly `keep`; the inheritable set empty.
    public static func setCapabilities(_ keep: Set<Int32>) throws(SysError) {
        var low: UInt32 = 0, high: UInt32 = 0
        for cap in keep where cap <= lastCapability {
            if cap < 32 { low |= 1 << UInt32(cap) } else { high |= 1 << UInt32(cap - 32) }
        }
        if ck_capset_all(low, high) != 0 { throw SysError.last("capset", "") }
    }

    /// execve; returns only on failure, with the errno.
    public static func exec(_ path: String, _ argv: [String], _ env: [String]) -> Errno {
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        Glibc.execve(path, cArgs, cEnv)
        return Errno(rawValue: Glibc.errno)
    }

    public static func loopbackUp() throws(SysError) {
        let sock = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if sock < 0 { throw SysError.last("socket", "AF_INET (to bring lo up)") }
        defer { Files.close(sock) }
        var flags: Int16 = 0
        if ck_if_get_flags(sock, "lo", &flags) != 0 { throw SysError.last("ioctl SIOCGIFFLAGS", "lo") }
        if ck_if_set_flags(sock, "lo", flags | Int16(IFF_UP)) != 0 { throw SysError.last("ioctl SIOCSIFFLAGS", "lo up") }
    }
}

/// Signals are handled synchronously: blocked, then taken with `sigwaitinfo` in the loop of
/// the process that owns them. No handler ever runs Swift code.
public enum Signals {
    /// What burrow's processes pass on to the command.
    public static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGWINCH]
    public static let handled: [Int32] = forwarded + [SIGCHLD]

    public static func set(_ signals: [Int32]) -> sigset_t {
        var s = sigset_t()
        sigemptyset(&s)
        for sig in signals { sigaddset(&s, sig) }
        return s
    }

    /// Blocks `handled` and gives each a no-op handler (a PID 1 drops SIG_DFL signals).
    /// Returns the previous mask, for the command to get back before exec.
    public static func takeOver() -> sigset_t {
        var set = set(handled)
        var old = sigset_t()
        sigprocmask(SIG_BLOCK, &set, &old)
        for sig in handled { _ = ck_signal_noop(sig) }
        return old
    }

    /// Back to how the caller had them, for the command (exec resets handlers, not masks).
    public static func restore(_ mask: sigset_t) {
        for sig in handled { _ = ck_signal_default(sig) }
        var m = mask
        sigprocmask(SIG_SETMASK, &m, nil)
    }

    public static func ignore(_ signals: [Int32]) { for s in signals { _ = ck_signal_ignore(s) } }

    public struct Received { public var signal: Int32; public var code: Int32; public var sender: pid_t }

    /// Waits for one of the blocked signals.
    public static func wait() -> Received {
        var set = set(handled)
        var info = siginfo_t()
        while true {
            let sig = sigwaitinfo(&set, &info)
            if sig > 0 {
                return Received(signal: sig, code: info.si_code, sender: info._sifields._kill.si_pid)
            }
        }
    }

    /// True for signals the kernel generated for a terminal's process group (Ctrl-C):
    /// the command, in the same group, got its own copy already.
    public static func isFromTerminal(_ r: Received) -> Bool { r.code == 0x80 /* SI_KERNEL */ }
}

extension Proc {
    public static func setNoNewPrivileges() throws(SysError) { try prctl(PR_SET_NO_NEW_PRIVS, 1, what: "PR_SET_NO_NEW_PRIVS") }
    public static func setChildSubreaper() throws(SysError) { try prctl(PR_SET_CHILD_SUBREAPER, 1, what: "PR_SET_CHILD_SUBREAPER") }
    public static func setDumpable(_ on: Bool) throws(SysError) { try prctl(PR_SET_DUMPABLE, on ? 1 : 0, what: "PR_SET_DUMPABLE") }
}
