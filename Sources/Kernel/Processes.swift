import CKernel
import Glibc
import SystemPackage

/// One classic BPF instruction (`struct sock_filter`), for seccomp.
public typealias BPFCode = (code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)

/// The `struct sock_filter` array of a program, for `struct sock_fprog`.
func sockFilters(_ program: [BPFCode]?) -> [sock_filter] {
    (program ?? []).map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
}

/// Processes, signals, identity and namespaces.
public enum Proc {
    /// setsid(2): a session (and process group) of its own, out of the caller's terminal.
    public static func newSession() { _ = Glibc.setsid() }

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
        /// Stopped by this signal (only with `untraced`).
        case stopped(pid_t, Int32)
        /// Children exist, none has ended (only with `noHang`).
        case nothingYet
        case noChildren
    }

    /// waitpid, retried on EINTR; `untraced` (WUNTRACED): stops are reported too.
    public static func reap(_ pid: pid_t = -1, noHang: Bool, untraced: Bool = false) -> Reaped {
        var status: Int32 = 0
        while true {
            let r = Glibc.waitpid(pid, &status, (noHang ? WNOHANG : 0) | (untraced ? WUNTRACED : 0))
            if r < 0 && Glibc.errno == EINTR { continue }
            if r < 0 { return .noChildren }
            if r == 0 { return .nothingYet }
            if let exit = Exit(waitStatus: status) { return .child(r, exit) }
            if status & 0xff == 0x7f { return .stopped(r, (status >> 8) & 0xff) }
        }
    }

    /// The pids in a /proc/PID/task/TID/children file, read from its start (the file stays
    /// open: it can be read again after the process has left the host's /proc behind).
    public static func childPids(_ children: Int32) -> [pid_t] {
        guard children >= 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { pread(children, $0.baseAddress, $0.count, 0) }
        return n <= 0 ? [] : String(decoding: buf[..<n], as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
    }

    /// Kills every child listed in `children` (see `childPids`) that `chosen` picks, reaps
    /// it, and goes on with what comes back to this process when they die (it must be a
    /// child subreaper: their orphans are its children next round) until none is left.
    public static func killChildren(listedIn children: Int32, chosen: (pid_t) -> Bool = { _ in true }) {
        while true {
            let pids = childPids(children).filter(chosen)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            for pid in pids { _ = reap(pid, noHang: false) }
        }
    }

    /// A user namespace, by the identity of its nsfs file.
    public struct UserNamespace: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64
    }

    /// The user namespace this process is in now.
    public static func ownUserNamespace() throws(SysError) -> UserNamespace {
        let st = try Files.stat("/proc/self/ns/user", at: AT_FDCWD, follow: true)
        return UserNamespace(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// True when process `pid` is in user namespace `ns`, or in one nested below it (walked
    /// up with NS_GET_PARENT, which stops at the edge of this process's own). False when its
    /// namespace cannot be opened (a zombie has none; another user's is out of reach).
    public static func isIn(_ ns: UserNamespace, _ pid: pid_t) -> Bool {
        var fd = Glibc.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
        while fd >= 0 {
            var st = stat()
            let found = fstat(fd, &st) == 0 && UInt64(st.st_dev) == ns.device && UInt64(st.st_ino) == ns.inode
            let parent = found ? -1 : ck_ns_get_parent(fd)
            _ = Glibc.close(fd)
            if found { return true }
            fd = parent
        }
        return false
    }

    /// setpgid: moves `pid` (0: this process) into process group `group` (0: a new one it
    /// leads). Made by parent and child alike, so the group exists whichever runs first;
    /// false when it failed (the other side did it already, after its exec, say).
    @discardableResult
    public static func setProcessGroup(_ pid: pid_t, _ group: pid_t) -> Bool { Glibc.setpgid(pid, group) == 0 }

    /// getpgid: the process group of `pid` (-1 if it is gone).
    public static func processGroup(of pid: pid_t) -> pid_t { Glibc.getpgid(pid) }

    /// `call`'s result, run with the file-mode creation mask `mask` (a file made for another
    /// process gets that process's umask), the caller's put back after; errno as `call` left it.
    public static func withUmask(_ mask: mode_t, _ call: () -> Int32) -> Int32 {
        let before = Glibc.umask(mask)
        let result = call()
        let e = errno
        Glibc.umask(before)
        errno = e
        return result
    }

    /// The file-mode creation mask of process (or thread) `pid`, from the `Umask:` line of
    /// its /proc status (Linux 4.7), read with one pread of the start of the file, where
    /// it is; nil if it cannot be read.
    public static func umask(of pid: pid_t) -> mode_t? {
        let fd = Glibc.open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        // "Name:\t<up to 64 bytes>\nUmask:\t0022\n"
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer -> mode_t? in
            let n = Glibc.pread(fd, buffer.baseAddress, 256, 0)
            guard n > 0 else { return nil }
            let bytes = UnsafeBufferPointer(rebasing: buffer[..<n])
            let key = Array("\nUmask:\t".utf8)
            var i = 0
            while i + key.count <= bytes.count {
                if bytes[i] == key[0], bytes[i..<(i + key.count)].elementsEqual(key) {
                    var value: mode_t = 0, k = i + key.count, digits = 0
                    while k < bytes.count, bytes[k] >= UInt8(ascii: "0"), bytes[k] <= UInt8(ascii: "7") {
                        value = value << 3 | mode_t(bytes[k] - UInt8(ascii: "0"))
                        k += 1
                        digits += 1
                    }
                    return digits > 0 ? value : nil
                }
                i += 1
            }
            return nil
        }
    }

    /// kill(-group, sig): every process of the group.
    public static func signalGroup(_ group: pid_t, _ sig: Int32) {
        if group > 0 { _ = Glibc.kill(-group, sig) }
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
        var copy = sockFilters(filter)
        let r = copy.withUnsafeMutableBufferPointer { f in
            var prog = sock_fprog(len: UInt16(clamping: f.count), filter: f.baseAddress)
            return ck_seccomp(1 /* SECCOMP_SET_MODE_FILTER */, flags, &prog)
        }
        if r < 0 { throw SysError.last("seccomp", "SECCOMP_SET_MODE_FILTER (\(filter.count) instructions)") }
        return r
    }

    /// `what` (the namespaces' names) is made only for the error.
    public static func unshare(_ flags: Int32, what: @autoclosure () -> String, hint: String? = nil) throws(SysError) {
        if Privileged.run(.unshare(flags), { ck_unshare(flags) }) != 0 { throw SysError.last("unshare", what(), hint: hint) }
    }

    /// setns(2): enters the namespace the caller's descriptor `fd` names (bwrap's --userns,
    /// --pidns), of type `type` (a `Namespace` flag, checked by the kernel).
    public static func setns(_ fd: Int32, _ type: Int32, what: @autoclosure () -> String) throws(SysError) {
        if ck_setns(fd, type) != 0 { throw SysError.last("setns", what()) }
    }

    public static func setHostname(_ name: String) throws(SysError) {
        if Privileged.run(.setHostname, { ck_sethostname(name, name.utf8.count) }) != 0 { throw SysError.last("sethostname", name) }
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
        /// setsid for the command; else it leads a process group of its own.
        public var newSession = false
        /// The controlling terminal, handed to the command's group before exec; -1: none.
        public var foregroundTerminal: Int32 = -1
        public var announceFD: Int32 = -1
        /// Dies with its parent (PR_SET_PDEATHSIG SIGKILL) unless this is false (exec --detach).
        public var diesWithParent = true
        public var clearGroups = false
        /// With `clearGroups`: the supplementary groups set instead of none.
        public var groups: [UInt32] = []
        public var uid: UInt32
        public var gid: UInt32
        public var keepCapabilities: Capabilities = []
        public var dropBoundingSet = false
        /// The command's own terminal (the peer of a pseudo-terminal): its fds 0, 1 and 2 and
        /// the controlling terminal of a new session.
        public var terminal: Int32?
        /// A descriptor of a user namespace the command enters before its ids change (bwrap's
        /// `--userns2`); its ids are then that namespace's.
        public var enterUserNamespace: Int32?
        /// The bounding set, when it is not `keepCapabilities` (burrow-oci's process.capabilities).
        public var boundingSet: Capabilities?
        public var inheritableCapabilities: Capabilities = []
        public var ambientCapabilities: Capabilities = []
        /// PR_SET_NO_NEW_PRIVS before exec (always, but for burrow-oci's noNewPrivileges false).
        public var noNewPrivileges = true
        /// Installed last, right before execve; nil: none.
        public var seccompFilter: [BPFCode]?
        /// The caller's compiled programs (8-byte `struct sock_filter` records each), installed
        /// after `seccompFilter`, in order: the last one's answer wins among equals, as the
        /// kernel stacks filters.
        public var callerSeccompPrograms: [[UInt8]] = []
        public var seccompFlags: UInt32 = 0
        /// A candidate that fails with ENOEXEC is run as `/bin/sh CANDIDATE ARGS...`.
        public var shellFallback = false
        /// N: descriptors 3 to 3+N-1 reach the command at their numbers, their close-on-exec
        /// flags cleared (burrow-oci's --preserve-fds); every other one above 2 is closed at exec.
        public var preservedDescriptors: Int32 = 0

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
        let (pid, failure, cloneErrno) = launch(r, here: false)
        if pid < 0 { throw SysError("clone", "(the command)", errno: Errno(rawValue: cloneErrno)) }
        return (pid, failure)
    }

    /// Becomes the command: the same steps in this process, then its exec. Returns only
    /// when that failed, with why.
    public static func launchHere(_ r: LaunchRequest) -> LaunchFailure {
        launch(r, here: true).failure ?? LaunchFailure(step: "execve", errno: .noSuchFileOrDirectory, candidate: nil, status: 127)
    }

    private static func launch(_ r: LaunchRequest, here: Bool) -> (pid: pid_t, failure: LaunchFailure?, cloneErrno: Int32) {
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
        let kept = r.keepCapabilities.intersection(.all(upTo: lastCapability)).rawValue
        let low = UInt32(truncatingIfNeeded: kept), high = UInt32(truncatingIfNeeded: kept >> 32)
        var mask = r.signalMask
        var l = ck_launch()
        // The caller's programs, in memory of their own until the launch has returned.
        let callerPrograms = UnsafeMutablePointer<sock_fprog>.allocate(capacity: max(r.callerSeccompPrograms.count, 1))
        var callerFilters: [UnsafeMutableRawPointer] = []
        for (i, bytes) in r.callerSeccompPrograms.enumerated() {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 8), alignment: 8)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { memory.copyMemory(from: base, byteCount: $0.count) } }
            callerFilters.append(memory)
            callerPrograms[i] = sock_fprog(len: UInt16(clamping: bytes.count / 8), filter: memory.assumingMemoryBound(to: sock_filter.self))
        }
        defer {
            callerFilters.forEach { $0.deallocate() }
            callerPrograms.deallocate()
        }
        l.caller_seccomp = UnsafePointer(callerPrograms)
        l.caller_seccomp_count = Int32(r.callerSeccompPrograms.count)
        let filter = sockFilters(r.seccompFilter)
        let pid: Int32 = r.groups.withUnsafeBufferPointer { groups in filter.withUnsafeBufferPointer { f in
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
                        l.foreground_fd = r.foregroundTerminal
                        l.announce_fd = r.announceFD
                        l.outlive_parent = r.diesWithParent ? 0 : 1
                        l.clear_groups = r.clearGroups ? 1 : 0
                        l.groups = groups.baseAddress
                        l.group_count = Int32(groups.count)
                        l.uid = r.uid
                        l.gid = r.gid
                        l.keep_caps_low = low
                        l.keep_caps_high = high
                        l.drop_bounding = r.dropBoundingSet ? 1 : 0
                        if let b = r.boundingSet?.rawValue {
                            l.own_bounding = 1
                            l.bounding_caps_low = UInt32(truncatingIfNeeded: b)
                            l.bounding_caps_high = UInt32(truncatingIfNeeded: b >> 32)
                        }
                        let i = r.inheritableCapabilities.rawValue, a = r.ambientCapabilities.rawValue
                        l.inheritable_caps_low = UInt32(truncatingIfNeeded: i)
                        l.inheritable_caps_high = UInt32(truncatingIfNeeded: i >> 32)
                        l.ambient_caps_low = UInt32(truncatingIfNeeded: a)
                        l.ambient_caps_high = UInt32(truncatingIfNeeded: a >> 32)
                        l.keep_new_privs = r.noNewPrivileges ? 0 : 1
                        l.last_cap = lastCapability
                        l.seccomp = r.seccompFilter == nil ? nil : fprog
                        l.seccomp_flags = r.seccompFlags
                        l.shell_argv = sh.isEmpty ? nil : sh.baseAddress
                        if let fd = r.terminal {
                            l.has_terminal = 1
                            l.terminal_fd = fd
                        }
                        l.preserved_fds = r.preservedDescriptors
                        if let fd = r.enterUserNamespace {
                            l.enter_userns = 1
                            l.enter_userns_fd = fd
                        }
                        return here ? ck_launch_here(&l) : ck_launch(&l)
                    }
                }
            }
            }
            }
            }
        } }
        if pid < 0 && !here { return (pid, nil, Glibc.errno) }
        let step = ck_launch_step(rawValue: UInt32(l.failed_step))
        guard step != CK_STEP_NONE else { return (pid, nil, 0) }
        let names: [ck_launch_step: String] = [
            CK_STEP_SIGMASK: "sigprocmask", CK_STEP_SETSID: "setsid", CK_STEP_SETPGID: "setpgid", CK_STEP_PDEATHSIG: "prctl PR_SET_PDEATHSIG",
            CK_STEP_ANNOUNCE: "send (pid file)", CK_STEP_BOUNDING: "prctl PR_CAPBSET_DROP",
            CK_STEP_SETGROUPS: "setgroups", CK_STEP_SETRESGID: "setresgid \(r.gid)", CK_STEP_SETRESUID: "setresuid \(r.uid)",
            CK_STEP_CAPSET: "capset", CK_STEP_NO_NEW_PRIVS: "prctl PR_SET_NO_NEW_PRIVS",
            CK_STEP_CHDIR: "chdir \(r.workingDirectory)", CK_STEP_CLOSE_RANGE: "close_range",
            CK_STEP_PRESERVE_FDS: "fcntl F_SETFD (descriptors 3 to \(2 + r.preservedDescriptors), passed on)",
            CK_STEP_AMBIENT: "prctl PR_CAP_AMBIENT_RAISE", CK_STEP_TERMINAL: "the terminal as fds 0 to 2 (dup2, TIOCSCTTY)", CK_STEP_USERNS: "setns CLONE_NEWUSER (descriptor \(r.enterUserNamespace ?? -1))",
            CK_STEP_SECCOMP: "seccomp SECCOMP_SET_MODE_FILTER (\(filter.count) instructions)", CK_STEP_EXEC: "exec",
        ]
        let errno = Errno(rawValue: l.failed_errno)
        if step == CK_STEP_EXEC {
            let i = Int(l.failed_candidate)
            let name = i >= 0 && i < r.candidates.count ? r.candidates[i] : r.argv.first ?? ""
            let notFound = errno == .noSuchFileOrDirectory || errno == .notDirectory
            // Not found anywhere: name the command as given, not the last PATH entry tried.
            let shown = notFound && !(r.argv.first ?? "").contains("/") ? (r.argv.first ?? name) : name
            return (pid, LaunchFailure(step: "exec", errno: errno, candidate: shown, status: notFound ? 127 : 126), 0)
        }
        return (pid, LaunchFailure(step: names[step] ?? "launch", errno: errno, candidate: nil, status: 125), 0)
    }

    public static func loopbackUp() throws(SysError) {
        let sock = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if sock < 0 { throw SysError.last("socket", "AF_INET (to bring lo up)") }
        defer { Files.close(sock) }
        var flags: Int16 = 0
        if ck_if_get_flags(sock, "lo", &flags) != 0 { throw SysError.last("ioctl SIOCGIFFLAGS", "lo") }
        if Privileged.run(.setInterfaceFlags, { ck_if_set_flags(sock, "lo", flags | Int16(IFF_UP)) }) != 0 {
            throw SysError.last("ioctl SIOCSIFFLAGS", "lo up")
        }
    }
}

/// Signals are handled synchronously: blocked, then taken with `sigwaitinfo` in the loop of
/// the process that owns them. No handler ever runs Swift code.
public enum Signals {
    /// What burrow's processes pass on to the command.
    public static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGWINCH]
    /// The stops of job control. The namespace engine's processes pass them on too (burrow
    /// then stops once its command has: JobControl), and never stop from them themselves:
    /// a write to the terminal from outside its foreground goes through (TOSTOP).
    public static let jobStops: [Int32] = [SIGTSTP, SIGTTIN, SIGTTOU]
    public static let handled: [Int32] = forwarded + jobStops + [SIGCHLD, SIGCONT]

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
    /// A read returns every signal pending up to its buffer's size: one that did not fill
    /// it emptied the descriptor, and no second read (EAGAIN) is needed.
    public static func drain(_ fd: Int32) {
        withUnsafeTemporaryAllocation(byteCount: 128 * 8, alignment: 8) { buffer in
            while Glibc.read(fd, buffer.baseAddress, buffer.count) == buffer.count {}
        }
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

    /// True for signals the kernel generated for a terminal's process group (Ctrl-C).
    public static func isFromTerminal(_ r: Received) -> Bool { r.code == 0x80 /* SI_KERNEL */ }

    /// A descriptor for the `handled` signals (blocked by `takeOver`), non-blocking, for
    /// `poll` beside other descriptors; `received` reads it.
    public static func descriptor() throws(SysError) -> Int32 {
        var set = set(handled)
        let fd = withUnsafePointer(to: &set) { ck_signalfd($0) }
        if fd < 0 { throw SysError.last("signalfd", "the signals burrow handles") }
        return fd
    }

    /// What a signal descriptor holds now (nothing when empty).
    public static func received(_ fd: Int32) -> [Received] {
        // struct signalfd_siginfo: 128 bytes; ssi_signo, ssi_errno, ssi_code, ssi_pid first.
        var buffer = [UInt8](repeating: 0, count: 128 * 16)
        var out: [Received] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n >= 128 else { return out }
            buffer.withUnsafeBytes { b in
                for at in stride(from: 0, to: n - 127, by: 128) {
                    out.append(Received(signal: b.loadUnaligned(fromByteOffset: at, as: Int32.self),
                                        code: b.loadUnaligned(fromByteOffset: at + 8, as: Int32.self),
                                        sender: b.loadUnaligned(fromByteOffset: at + 12, as: Int32.self)))
                }
            }
        }
    }

    /// Takes a pending `sig` out of the queue, if one is waiting (it must be blocked).
    @discardableResult
    public static func take(_ sig: Int32) -> Bool {
        var one = set([sig])
        var info = siginfo_t()
        var now = timespec()
        return sigtimedwait(&one, &info, &now) == sig
    }

    /// Stops this process with `sig`, as a terminal would stop a job (its shell sees it
    /// stopped by that signal), and returns once it is continued; at once if the kernel
    /// drops the stop (`sig` ignored, or an orphaned process group: no one could continue
    /// it). A copy of `sig` already waiting is dropped first, and the SIGCONT after.
    public static func stopSelf(_ sig: Int32) {
        take(sig)
        var one = set([sig])
        var old = sigset_t()
        sigprocmask(SIG_UNBLOCK, &one, &old)
        _ = Glibc.kill(getpid(), sig)
        sigprocmask(SIG_SETMASK, &old, nil)
        take(SIGCONT)
    }
}

extension Proc {
    public static func setChildSubreaper() throws(SysError) { try prctl(PR_SET_CHILD_SUBREAPER, 1, what: "PR_SET_CHILD_SUBREAPER") }
    /// One field of /proc/PROCESS/status (`process`: a pid, or "self"), its value without
    /// the blanks after the colon; nil when the file or the field cannot be read.
    public static func statusField(_ name: String, of process: String) -> String? {
        guard let head = Files.readHead("/proc/\(process)/status", count: 4096) else { return nil }
        // Over the bytes, line by line: no array of lines (each new generic type costs the
        // runtime a metadata instantiation, at start-up where this is asked).
        let key = Array((name + ":").utf8)
        var start = 0
        while start < head.count {
            var end = start
            while end < head.count && head[end] != UInt8(ascii: "\n") { end += 1 }
            if end - start >= key.count && head[start..<(start + key.count)].elementsEqual(key) {
                var value = start + key.count
                while value < end && (head[value] == UInt8(ascii: " ") || head[value] == UInt8(ascii: "\t")) { value += 1 }
                return String(decoding: head[value..<end], as: UTF8.self)
            }
            start = end + 1
        }
        return nil
    }

    /// The pid tracing `pid` (its TracerPid), 0 when none; nil if unknown.
    public static func tracer(of pid: pid_t) -> pid_t? {
        statusField("TracerPid", of: "\(pid)").flatMap { pid_t($0) }
    }

    /// The thread group (process) thread `tid` belongs to (its Tgid); `tid` itself when that
    /// cannot be read.
    public static func threadGroup(of tid: pid_t) -> pid_t {
        statusField("Tgid", of: "\(tid)").flatMap { pid_t($0) } ?? tid
    }

    public static func setDumpable(_ on: Bool) throws(SysError) { try prctl(PR_SET_DUMPABLE, on ? 1 : 0, what: "PR_SET_DUMPABLE") }
    /// no_new_privs: exec grants nothing from here on (setuid bits, file capabilities), and a
    /// seccomp filter may be installed without CAP_SYS_ADMIN.
    public static func setNoNewPrivileges() throws(SysError) { try prctl(PR_SET_NO_NEW_PRIVS, 1, what: "PR_SET_NO_NEW_PRIVS") }
}
