import CKernel
import Glibc
import SystemPackage

/// One classic BPF instruction (`struct sock_filter`), for seccomp.
public typealias BPFCode = (code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)

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

        /// Decodes a wait status (WIFEXITED and friends are macros Swift cannot call).
        public init?(waitStatus status: Int32) {
            let sig = status & 0x7f
            if sig == 0 { self = .exited((status >> 8) & 0xff) } else if sig != 0x7f { self = .signaled(sig) } else { return nil }
        }

        /// The shell convention: the code, or 128+N for signal N.
        public var status: Int32 {
            switch self {
            case .exited(let c): return c
            case .signaled(let s): return 128 + s
            }
        }
    }

    /// PRoot's "status of the last process to exit" (`StatusRule.lastToExit`): the last
    /// process that exited counts; one killed by a signal only while none has exited (PRoot
    /// then says 255, Burrow 128+N).
    public struct LastExit: Equatable, Sendable {
        public private(set) var exit: Exit?
        public init() {}
        public mutating func record(_ e: Exit) {
            switch (e, exit) {
            case (.exited, _), (.signaled, nil), (.signaled, .signaled?): exit = e
            case (.signaled, .exited?): break
            }
        }
    }

    public enum Reaped: Equatable {
        case child(pid_t, Exit)
        /// Children exist, none has ended (only with `noHang`).
        case nothingYet
        case noChildren
    }

    /// waitpid, retried on EINTR.
    public static func reap(_ pid: pid_t = -1, noHang: Bool) -> Reaped {
        var status: Int32 = 0
        while true {
            let r = Glibc.waitpid(pid, &status, noHang ? WNOHANG : 0)
            if r < 0 && Glibc.errno == EINTR { continue }
            if r < 0 { return .noChildren }
            if r == 0 { return .nothingYet }
            if let exit = Exit(waitStatus: status) { return .child(r, exit) }
        }
    }

    /// The exit of `pid`, or nil (with `noHang`, when it is still running).
    public static func wait(_ pid: pid_t, noHang: Bool) -> Exit? {
        if case .child(_, let exit) = reap(pid, noHang: noHang) { return exit }
        return nil
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

    /// seccomp(SECCOMP_SET_MODE_FILTER): installs `filter` on the calling thread (needs
    /// no_new_privs or CAP_SYS_ADMIN). Returns the listener fd with
    /// SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0.
    public static func installSeccomp(_ filter: [BPFCode], flags: UInt32 = 0) throws(SysError) -> Int32 {
        var copy = filter.map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        let r = copy.withUnsafeMutableBufferPointer { f in
            var prog = sock_fprog(len: UInt16(clamping: f.count), filter: f.baseAddress)
            return ck_seccomp(1 /* SECCOMP_SET_MODE_FILTER */, flags, &prog)
        }
        if r < 0 { throw SysError.last("seccomp", "SECCOMP_SET_MODE_FILTER (\(filter.count) instructions)") }
        return r
    }

    public static func unshare(_ flags: Int32, what: String, hint: String? = nil) throws(SysError) {
        if ck_unshare(flags) != 0 { throw SysError.last("unshare", what, hint: hint) }
    }

    public static func setHostname(_ name: String) throws(SysError) {
        if ck_sethostname(name, name.utf8.count) != 0 { throw SysError.last("sethostname", name) }
    }

    public static let lastCapability: Int32 = {
        guard let fd = try? Files.open("/proc/sys/kernel/cap_last_cap", O_RDONLY),
            let bytes = try? Files.readAll(fd, limit: 16)
        else { return 40 }
        Files.close(fd)
        return Int32(String(decoding: bytes, as: UTF8.self).filter(\.isNumber)) ?? 40
    }()

    /// The shell a file without a format is run by (glibc's _PATH_BSHELL).
    public static let shell = "/bin/sh"

    /// What the command's process does between clone and exec (see `ck_launch`).
    public struct LaunchRequest {
        public var candidates: [String]
        public var argv: [String]
        public var environment: [String]
        public var workingDirectory: String
        public var signalMask: sigset_t
        public var newSession = false
        public var announceFD: Int32 = -1
        public var clearGroups = false
        public var uid: UInt32
        public var gid: UInt32
        public var keepCapabilities: Set<Int32> = []
        public var dropBoundingSet = false
        /// Installed last, right before execve; nil: none.
        public var seccompFilter: [BPFCode]?
        public var seccompFlags: UInt32 = 0
        /// A candidate that fails with ENOEXEC is run as `/bin/sh CANDIDATE ARGS...`.
        public var shellFallback = false

        public init(candidates: [String], argv: [String], environment: [String], workingDirectory: String,
                    signalMask: sigset_t, uid: UInt32, gid: UInt32) {
            self.candidates = candidates
            self.argv = argv
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.signalMask = signalMask
            self.uid = uid
            self.gid = gid
        }
    }

    /// Where starting the command failed, and the errno; for exec, which candidate.
    public struct LaunchFailure: Error {
        public var step: String
        public var errno: Errno
        public var candidate: String?
        /// 127: nothing to run was found; 126: found but could not run; 125: set-up.
        public var status: Int32
    }

    /// Starts the command: returns its pid, and the failure if it did not get to run.
    public static func launch(_ r: LaunchRequest) throws(SysError) -> (pid_t, LaunchFailure?) {
        let candidates = r.candidates.map { UnsafePointer(strdup($0)) }
        let argv = r.argv.map { strdup($0) } + [nil]
        let env = r.environment.map { strdup($0) } + [nil]
        let cwd = strdup(r.workingDirectory)
        // ["/bin/sh", (the candidate, set by the child), argv[1]...]
        var shell = r.shellFallback ? [strdup(Proc.shell), nil] + argv.dropFirst() : []
        defer {
            candidates.forEach { free(UnsafeMutablePointer(mutating: $0)) }
            if !shell.isEmpty { free(shell[0]) }
            argv.forEach { free($0) }
            env.forEach { free($0) }
            free(cwd)
        }
        var low: UInt32 = 0, high: UInt32 = 0
        for cap in r.keepCapabilities where cap <= lastCapability {
            if cap < 32 { low |= 1 << UInt32(cap) } else { high |= 1 << UInt32(cap - 32) }
        }
        var mask = r.signalMask
        var l = ck_launch()
        let filter = (r.seccompFilter ?? []).map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        let pid: Int32 = filter.withUnsafeBufferPointer { f in
            var prog = sock_fprog(len: UInt16(clamping: f.count), filter: UnsafeMutablePointer(mutating: f.baseAddress))
            return withUnsafePointer(to: &prog) { fprog in
            candidates.withUnsafeBufferPointer { cands in
            shell.withUnsafeMutableBufferPointer { sh in
            argv.withUnsafeBufferPointer { a in
                env.withUnsafeBufferPointer { e in
                    withUnsafePointer(to: &mask) { m in
                        l.candidates = UnsafePointer(cands.baseAddress)
                        l.candidate_count = Int32(cands.count)
                        l.argv = UnsafePointer(a.baseAddress)
                        l.envp = UnsafePointer(e.baseAddress)
                        l.cwd = UnsafePointer(cwd)
                        l.sigmask = UnsafeRawPointer(m)
                        l.new_session = r.newSession ? 1 : 0
                        l.announce_fd = r.announceFD
                        l.clear_groups = r.clearGroups ? 1 : 0
                        l.uid = r.uid
                        l.gid = r.gid
                        l.keep_caps_low = low
                        l.keep_caps_high = high
                        l.drop_bounding = r.dropBoundingSet ? 1 : 0
                        l.last_cap = lastCapability
                        l.seccomp = r.seccompFilter == nil ? nil : fprog
                        l.seccomp_flags = r.seccompFlags
                        l.shell_argv = sh.isEmpty ? nil : sh.baseAddress
                        return ck_launch(&l)
                    }
                }
            }
            }
            }
            }
        }
        if pid < 0 { throw SysError.last("clone", "(the command)") }
        let step = ck_launch_step(rawValue: UInt32(l.failed_step))
        guard step != CK_STEP_NONE else { return (pid, nil) }
        let names: [ck_launch_step: String] = [
            CK_STEP_SIGMASK: "sigprocmask", CK_STEP_SETSID: "setsid", CK_STEP_PDEATHSIG: "prctl PR_SET_PDEATHSIG",
            CK_STEP_ANNOUNCE: "send (pid file)", CK_STEP_BOUNDING: "prctl PR_CAPBSET_DROP",
            CK_STEP_SETGROUPS: "setgroups", CK_STEP_SETRESGID: "setresgid \(r.gid)", CK_STEP_SETRESUID: "setresuid \(r.uid)",
            CK_STEP_CAPSET: "capset", CK_STEP_NO_NEW_PRIVS: "prctl PR_SET_NO_NEW_PRIVS",
            CK_STEP_CHDIR: "chdir \(r.workingDirectory)", CK_STEP_CLOSE_RANGE: "close_range",
            CK_STEP_SECCOMP: "seccomp SECCOMP_SET_MODE_FILTER (\(filter.count) instructions)", CK_STEP_EXEC: "exec",
        ]
        let errno = Errno(rawValue: l.failed_errno)
        if step == CK_STEP_EXEC {
            let i = Int(l.failed_candidate)
            let name = i >= 0 && i < r.candidates.count ? r.candidates[i] : r.argv.first ?? ""
            let notFound = errno == .noSuchFileOrDirectory || errno == .notDirectory
            // Not found anywhere: name the command as given, not the last PATH entry tried.
            let shown = notFound && !(r.argv.first ?? "").contains("/") ? (r.argv.first ?? name) : name
            return (pid, LaunchFailure(step: "exec", errno: errno, candidate: shown, status: notFound ? 127 : 126))
        }
        return (pid, LaunchFailure(step: names[step] ?? "launch", errno: errno, candidate: nil, status: 125))
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

    /// Blocks `handled`, to be taken with `wait()`. Blocked signals are queued even for a
    /// PID 1 and even where the disposition would ignore them, so no handler is installed;
    /// the caller's dispositions (an ignored SIGINT under nohup, say) reach the command
    /// unchanged. SIGCHLD alone must not be ignored, or children would vanish unwaited.
    /// Returns the previous mask, for the command to get back before exec.
    public static func takeOver() -> sigset_t {
        _ = ck_signal_default(SIGCHLD)
        var set = set(handled)
        var old = sigset_t()
        sigprocmask(SIG_BLOCK, &set, &old)
        return old
    }

    /// A descriptor that becomes readable when a child (or tracee) changes state: SIGCHLD
    /// blocked and taken by a non-blocking signalfd, for `poll` beside other descriptors.
    public static func childEvents() throws(SysError) -> Int32 {
        _ = ck_signal_default(SIGCHLD)
        var set = set([SIGCHLD])
        sigprocmask(SIG_BLOCK, &set, nil)
        let fd = withUnsafePointer(to: &set) { ck_signalfd($0) }
        if fd < 0 { throw SysError.last("signalfd", "SIGCHLD") }
        return fd
    }

    /// Empties a signalfd (its signals are only a wake-up; waitpid says what happened).
    public static func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 128 * 8)
        while buffer.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, $0.count) }) > 0 {}
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
    public static func setChildSubreaper() throws(SysError) { try prctl(PR_SET_CHILD_SUBREAPER, 1, what: "PR_SET_CHILD_SUBREAPER") }
    public static func setDumpable(_ on: Bool) throws(SysError) { try prctl(PR_SET_DUMPABLE, on ? 1 : 0, what: "PR_SET_DUMPABLE") }
}
