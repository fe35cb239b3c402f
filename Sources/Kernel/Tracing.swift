import CKernel
import Glibc
import SystemPackage

/// ptrace, tracee memory and registers: what the ptrace engine's supervisor needs from the
/// kernel. Stops are taken synchronously with `wait`; nothing here keeps state.
public enum Trace {
    // Requests and options from <linux/ptrace.h>.
    static let PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_SYSCALL = 24, PTRACE_SETOPTIONS = 0x4200
    static let PTRACE_GETEVENTMSG = 0x4201, PTRACE_GETSIGINFO = 0x4202, PTRACE_GET_SYSCALL_INFO = 0x420e

    public struct Options: OptionSet, Sendable {
        public let rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }
        public static let traceSysGood = Options(rawValue: 0x01)
        public static let traceFork = Options(rawValue: 0x02)
        public static let traceVfork = Options(rawValue: 0x04)
        public static let traceClone = Options(rawValue: 0x08)
        public static let traceExec = Options(rawValue: 0x10)
        public static let traceSeccomp = Options(rawValue: 0x80)
        public static let exitKill = Options(rawValue: 0x10_0000)
    }

    public enum Event: Int32, Sendable {
        case fork = 1, vfork = 2, clone = 3, exec = 4, vforkDone = 5, exit = 6, seccomp = 7, stop = 128
    }

    /// What `wait` reported about one tracee.
    public enum Stop: Equatable, Sendable {
        case exited(pid_t, Proc.Exit)
        /// A system-call stop (entry or exit; PTRACE_O_TRACESYSGOOD).
        case syscall(pid_t)
        case event(pid_t, Event)
        /// Signal-delivery stop (or group stop) with this signal.
        case signal(pid_t, Int32)
    }

    /// waitpid(-1, __WALL), retried on EINTR; nil when no child or tracee is left.
    public static func wait() -> Stop? {
        var status: Int32 = 0
        while true {
            let pid = Glibc.waitpid(-1, &status, Int32(bitPattern: 0x4000_0000) /* __WALL */)
            if pid < 0 {
                if Glibc.errno == EINTR { continue }
                return nil
            }
            return stop(pid, status)
        }
    }

    /// What `poll` found without blocking.
    public enum Ready: Equatable, Sendable {
        case stop(Stop)
        /// Tracees are left, but none has stopped.
        case nothing
        /// No child or tracee is left.
        case none
    }

    /// waitpid(-1, __WALL | WNOHANG): a stop if one is waiting, without blocking.
    public static func poll() -> Ready {
        var status: Int32 = 0
        while true {
            let pid = Glibc.waitpid(-1, &status, Int32(bitPattern: 0x4000_0000) /* __WALL */ | WNOHANG)
            if pid < 0 {
                if Glibc.errno == EINTR { continue }
                return .none
            }
            if pid == 0 { return .nothing }
            return .stop(stop(pid, status))
        }
    }

    static func stop(_ pid: pid_t, _ status: Int32) -> Stop {
        if let exit = Proc.Exit(waitStatus: status) { return .exited(pid, exit) }
        let sig = (status >> 8) & 0xff
        let event = (status >> 16) & 0xff
        if sig == (SIGTRAP | 0x80) { return .syscall(pid) }
        if sig == SIGTRAP, event != 0 { return .event(pid, Event(rawValue: event) ?? .stop) }
        if event == 128 { return .event(pid, .stop) }
        return .signal(pid, sig)
    }

    public static func setOptions(_ pid: pid_t, _ options: Options) throws(SysError) {
        if ck_ptrace(PTRACE_SETOPTIONS, pid, 0, options.rawValue) < 0 { throw SysError.last("ptrace(PTRACE_SETOPTIONS)", "pid \(pid)") }
    }

    /// Resumes a stopped tracee; `stopAtSyscalls`: also stop at the next system call (or,
    /// after a seccomp stop, at this call's exit). Fails only if the tracee is gone.
    @discardableResult
    public static func resume(_ pid: pid_t, stopAtSyscalls: Bool, signal: Int32 = 0) -> Bool {
        ck_ptrace(stopAtSyscalls ? PTRACE_SYSCALL : PTRACE_CONT, pid, 0, UInt(signal)) == 0
    }

    public static func eventMessage(_ pid: pid_t) -> UInt {
        var msg: UInt = 0
        _ = withUnsafeMutablePointer(to: &msg) { ck_ptrace(PTRACE_GETEVENTMSG, pid, 0, UInt(bitPattern: $0)) }
        return msg
    }

    /// True for a group stop (job control): PTRACE_GETSIGINFO fails with EINVAL there.
    public static func isGroupStop(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        let r = withUnsafeMutablePointer(to: &info) { ck_ptrace(PTRACE_GETSIGINFO, pid, 0, UInt(bitPattern: $0)) }
        return r < 0 && Glibc.errno == EINVAL
    }

    /// A ptrace request as a guest tracer made it, carried out on the real tracee (the
    /// ptrace engine's emulation): its value, or the errno. `addr` and `data` are ours.
    public static func request(_ req: Int, _ pid: pid_t, addr: UInt, data: UInt) -> Result<Int, Errno> {
        var err: Int32 = 0
        let r = ck_ptrace_raw(req, pid, addr, data, &err)
        if r == -1 && err != 0 { return .failure(Errno(rawValue: err)) }
        return .success(r)
    }

    /// The same request with a buffer of ours as `data` (`count` bytes, given as `bytes` or
    /// zeroed): the buffer afterwards.
    public static func request(_ req: Int, _ pid: pid_t, addr: UInt, buffer bytes: [UInt8]) -> Result<(Int, [UInt8]), Errno> {
        var buf = bytes
        var err: Int32 = 0
        let r = buf.withUnsafeMutableBytes { ck_ptrace_raw(req, pid, addr, UInt(bitPattern: $0.baseAddress), &err) }
        if r == -1 && err != 0 { return .failure(Errno(rawValue: err)) }
        return .success((r, buf))
    }

    /// PTRACE_GETREGSET / PTRACE_SETREGSET of regset `type` with `bytes` (their count is
    /// the size asked for): the bytes the kernel filled in (GETREGSET shortens them).
    public static func regset(_ req: Int, _ pid: pid_t, type: UInt, _ bytes: [UInt8]) -> Result<[UInt8], Errno> {
        var buf = bytes.isEmpty ? [0] : bytes
        let count = bytes.count
        return buf.withUnsafeMutableBytes { b -> Result<[UInt8], Errno> in
            var iov = iovec(iov_base: b.baseAddress, iov_len: count)
            var err: Int32 = 0
            let r = withUnsafeMutablePointer(to: &iov) { ck_ptrace_raw(req, pid, type, UInt(bitPattern: $0), &err) }
            if r == -1 && err != 0 { return .failure(Errno(rawValue: err)) }
            return .success(Array(b.prefix(min(iov.iov_len, count))))
        }
    }

    /// PTRACE_SINGLESTEP.
    @discardableResult
    public static func singleStep(_ pid: pid_t, signal: Int32 = 0) -> Bool {
        ck_ptrace(9, pid, 0, UInt(signal)) == 0
    }

    /// A signal to one thread (tgkill).
    public static func signalThread(_ tgid: pid_t, _ tid: pid_t, _ sig: Int32) {
        _ = ck_tgkill(tgid, tid, sig)
    }

    /// PTRACE_GET_SYSCALL_INFO's `op`: which kind of system-call stop this is.
    public enum SyscallStopKind: UInt8, Sendable { case none = 0, entry = 1, exit = 2, seccomp = 3 }

    public static func syscallStopKind(_ pid: pid_t) -> SyscallStopKind { syscallInfo(pid)?.kind ?? .none }

    /// PTRACE_GET_SYSCALL_INFO (Linux 5.3): the kind of stop and the ABI (AUDIT_ARCH_*) of
    /// the call, as the kernel decoded it: on x86_64, AUDIT_ARCH_I386 for `int $0x80`
    /// whatever mode the code runs in. nil where the kernel has no such request.
    public static func syscallInfo(_ pid: pid_t) -> (kind: SyscallStopKind, arch: UInt32)? {
        // struct ptrace_syscall_info is 88 bytes: `op` (byte 0), `arch` (bytes 4...7), ...
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let size = MemoryLayout.size(ofValue: buf)
        let r = withUnsafeMutablePointer(to: &buf) { ck_ptrace(PTRACE_GET_SYSCALL_INFO, pid, UInt(size), UInt(bitPattern: $0)) }
        guard r > 0 else { return nil }
        return (SyscallStopKind(rawValue: UInt8(truncatingIfNeeded: buf.0)) ?? .none, UInt32(truncatingIfNeeded: buf.0 >> 32))
    }

    /// A stopped tracee's registers; the accessors are architecture-neutral. `compat`: the
    /// call is of x86_64's i386 ABI (the caller says so, from `syscallInfo`): its number,
    /// arguments and result are then read and written 32 bits wide, the arguments in
    /// ebx, ecx, edx, esi, edi, ebp.
    public struct Registers: @unchecked Sendable {
        var raw = ck_regs()
        public var compat = false
        public init() {}
        /// A call as seccomp user notification reports it: number and arguments only (no
        /// stack pointer: nothing can be pushed below it).
        public init(syscall: Int64, args: [UInt64], compat: Bool = false) {
            self.compat = compat
            self.syscall = syscall
            for (i, a) in args.prefix(6).enumerated() { setArg(i, a) }
        }
        public var syscall: Int64 {
            get {
                let nr = withUnsafePointer(to: raw) { ck_reg_sysnum($0) }
                return compat ? Int64(Int32(truncatingIfNeeded: nr)) : nr
            }
            set { ck_reg_set_sysnum(&raw, newValue) }
        }
        public func arg(_ i: Int) -> UInt64 {
            withUnsafePointer(to: raw) { compat ? ck_reg_compat_arg($0, Int32(i)) : ck_reg_arg($0, Int32(i)) }
        }
        public mutating func setArg(_ i: Int, _ v: UInt64) {
            if compat { ck_reg_set_compat_arg(&raw, Int32(i), v) } else { ck_reg_set_arg(&raw, Int32(i), v) }
        }
        public var result: Int64 {
            get {
                let v = withUnsafePointer(to: raw) { ck_reg_result($0) }
                return compat ? Int64(Int32(truncatingIfNeeded: v)) : v
            }
            set { ck_reg_set_result(&raw, newValue) }
        }
        public var stackPointer: UInt64 {
            get { withUnsafePointer(to: raw) { ck_reg_sp($0) } }
            set { ck_reg_set_sp(&raw, newValue) }
        }
        /// The size of a pointer in the call's arguments and in the memory they point to.
        public var pointerSize: Int { compat ? 4 : 8 }
        /// The highest address a pointer argument can hold.
        public var addressLimit: UInt64 { compat ? 0xFFFF_FFFF : UInt64.max }
        /// True while 32-bit code runs (x86_64's code segment 0x23): after an exec, the new
        /// program is an i386 one. (Not the ABI of a call: 64-bit code may use `int $0x80`.)
        public var runs32BitCode: Bool { withUnsafePointer(to: raw) { ck_reg_code_segment($0) } == 0x23 }
        public static var redZone: UInt64 { UInt64(ck_red_zone()) }
    }

    public static func registers(_ pid: pid_t) -> Registers? {
        var r = Registers()
        return ck_regs_get(pid, &r.raw) == 0 ? r : nil
    }

    @discardableResult
    public static func setRegisters(_ pid: pid_t, _ r: Registers) -> Bool {
        withUnsafePointer(to: r.raw) { ck_regs_set(pid, $0) } == 0
    }

    /// Reads a NUL-terminated string of at most `limit` bytes (without the NUL) from the
    /// tracee. Reads page by page: a string may end just before an unmapped page.
    public static func readString(_ pid: pid_t, at address: UInt64, limit: Int = 4096) -> Result<[UInt8], Errno> {
        guard address != 0 else { return .failure(.badAddress) }
        // One page at a time into a buffer on the stack (this runs for every traced path).
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { chunk -> Result<[UInt8], Errno> in
            var out: [UInt8] = []
            var addr = address
            while out.count <= limit {
                // Most paths are short: a first read of up to 256 bytes copies less.
                let toPageEnd = min(Int(4096 - (addr & 4095)), out.isEmpty ? 256 : 4096)
                let n = Memory.read(pid, UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(chunk)[..<toPageEnd]), at: addr)
                if n <= 0 { return .failure(.badAddress) }
                let got = UnsafeBufferPointer(rebasing: chunk[..<n])
                if let nul = got.firstIndex(of: 0) {
                    out += got[..<nul]
                    return out.count > limit ? .failure(.fileNameTooLong) : .success(out)
                }
                out += got
                addr += UInt64(n)
            }
            return .failure(.fileNameTooLong)
        }
    }

    /// Two strings (a path and an attribute's name), as two `readString`s, but in one
    /// process_vm_readv where both end within their first 256 bytes.
    public static func readStrings(_ pid: pid_t, at first: UInt64, _ second: UInt64, limits: (Int, Int))
        -> Result<([UInt8], [UInt8]), Errno> {
        if Memory.reading == .processVM, first != 0, second != 0 {
            let n1 = min(256, Int(4096 - (first & 4095))), n2 = min(256, Int(4096 - (second & 4095)))
            let both = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { buf -> ([UInt8], [UInt8])? in
                guard ck_vm_read2(pid, buf.baseAddress, n1, first, n2, second) == n1 + n2 else { return nil }
                let a = UnsafeBufferPointer(rebasing: buf[..<n1]), b = UnsafeBufferPointer(rebasing: buf[n1..<(n1 + n2)])
                guard let i = a.firstIndex(of: 0), let j = b.firstIndex(of: 0), i - a.startIndex <= limits.0,
                      j - b.startIndex <= limits.1 else { return nil }
                return (Array(a[..<i]), Array(b[..<j]))
            }
            if let both { return .success(both) }
        }
        switch readString(pid, at: first, limit: limits.0) {
        case .failure(let e): return .failure(e)
        case .success(let a): return readString(pid, at: second, limit: limits.1).map { (a, $0) }
        }
    }

    public static func read(_ pid: pid_t, at address: UInt64, count: Int) -> [UInt8]? {
        guard count > 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { Memory.read(pid, $0, at: address) }
        return n == count ? buf : nil
    }

    public static func write(_ pid: pid_t, at address: UInt64, _ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        let n = bytes.withUnsafeBytes { Memory.write(pid, $0, at: address) }
        return n == bytes.count
    }

    /// A tracee's memory, read and written the first way of three that this host allows:
    /// process_vm_readv/writev (Docker's profile allows them; other profiles may not),
    /// /proc/PID/mem (as gdb does), or PTRACE_PEEKDATA/POKEDATA, a word at a time and only
    /// while the tracee is in a ptrace stop (so not for calls that wait on a seccomp
    /// listener). A way that fails with EPERM or ENOSYS is not tried again; `noteFallback`
    /// hears of each change once (for -v).
    public enum Memory {
        public enum Access: Int, Sendable {
            case processVM, procMem, peekPoke
            func name(writing: Bool) -> String {
                switch self {
                case .processVM: return writing ? "process_vm_writev" : "process_vm_readv"
                case .procMem: return "/proc/PID/mem"
                case .peekPoke: return writing ? "PTRACE_POKEDATA" : "PTRACE_PEEKDATA"
                }
            }
        }
        nonisolated(unsafe) public private(set) static var reading = Access.processVM
        nonisolated(unsafe) public private(set) static var writing = Access.processVM
        nonisolated(unsafe) public static var noteFallback: (String) -> Void = { _ in }

        /// True when memory can be reached while the tracee runs (a seccomp listener's caller
        /// is not in a ptrace stop).
        public static var reachableWhileRunning: Bool { reading != .peekPoke && writing != .peekPoke }

        /// Tries each way on this process now, so the choice is made before the command runs.
        public static func probe() {
            var word: UInt64 = 0x5eed
            withUnsafeMutableBytes(of: &word) { w in
                let address = UInt64(UInt(bitPattern: w.baseAddress))
                var copy: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &copy) { read(getpid(), $0, at: address, probing: true) }
                _ = write(getpid(), UnsafeRawBufferPointer(w), at: address, probing: true)
            }
        }

        /// Whether `e` means this way is closed here, not that this address or tracee failed:
        /// a profile's EPERM, ENOSYS or EINVAL (the calls are made with valid flags), EACCES;
        /// /proc missing (ENOENT, seen when probing on this very process) or read-only (EROFS).
        static func refuses(_ access: Access, _ e: Int32, probing: Bool) -> Bool {
            switch access {
            case .processVM: return e == EPERM || e == ENOSYS || e == EINVAL || e == EACCES
            case .procMem: return e == EPERM || e == EACCES || e == EROFS || (probing && e == ENOENT)
            case .peekPoke: return false
            }
        }

        /// How the tracee's memory is written now (for messages).
        public static var writingName: String { writing.name(writing: true) }

        /// Bytes read (at most `buffer.count`), or -1 with errno set.
        public static func read(_ pid: pid_t, _ buffer: UnsafeMutableRawBufferPointer, at address: UInt64, probing: Bool = false) -> Int {
            transfer(pid, writing: false, buffer.baseAddress, buffer.count, at: address, probing: probing)
        }

        /// Bytes written, or -1 with errno set.
        public static func write(_ pid: pid_t, _ bytes: UnsafeRawBufferPointer, at address: UInt64, probing: Bool = false) -> Int {
            transfer(pid, writing: true, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count, at: address, probing: probing)
        }

        /// One read or write the way chosen so far; a way refused here is left for the next.
        private static func transfer(_ pid: pid_t, writing: Bool, _ local: UnsafeMutableRawPointer?, _ count: Int, at address: UInt64,
                                     probing: Bool) -> Int {
            while true {
                let access = writing ? Self.writing : reading
                let n: Int
                switch access {
                case .processVM: n = writing ? ck_vm_write(pid, local, count, address) : ck_vm_read(pid, local, count, address)
                case .procMem:
                    let offset = off_t(Int64(bitPattern: address))
                    n = procMem(pid, writing ? O_WRONLY : O_RDONLY) { writing ? Glibc.pwrite($0, local, count, offset) : Glibc.pread($0, local, count, offset) }
                case .peekPoke:
                    let buffer = UnsafeMutableRawBufferPointer(start: local, count: count)
                    return writing ? poke(pid, UnsafeRawBufferPointer(buffer), at: address) : peek(pid, buffer, at: address)
                }
                let e = Glibc.errno
                guard n < 0, refuses(access, e, probing: probing) else { return n }
                let next = Access(rawValue: access.rawValue + 1) ?? .peekPoke
                noteFallback("tracee memory: \(access.name(writing: writing)): \(String(cString: strerror(e))): \(writing ? "writing" : "reading") through \(next.name(writing: writing)) instead")
                if writing { Self.writing = next } else { reading = next }
            }
        }

        private static func procMem(_ pid: pid_t, _ mode: Int32, _ body: (Int32) -> Int) -> Int {
            let fd = Glibc.open("/proc/\(pid)/mem", mode | O_CLOEXEC)
            guard fd >= 0 else { return -1 }
            let n = body(fd)
            let e = Glibc.errno
            _ = Glibc.close(fd)
            Glibc.errno = e
            return n
        }

        static let PTRACE_PEEKDATA = 2, PTRACE_POKEDATA = 5
        static let word = UInt64(MemoryLayout<UInt>.size)

        private static func peekWord(_ pid: pid_t, _ at: UInt64) -> UInt? {
            var err: Int32 = 0
            let v = ck_ptrace_raw(PTRACE_PEEKDATA, pid, UInt(at), 0, &err)
            if err != 0 { Glibc.errno = err; return nil }
            return UInt(bitPattern: v)
        }

        private static func peek(_ pid: pid_t, _ buffer: UnsafeMutableRawBufferPointer, at address: UInt64) -> Int {
            var done = 0
            while done < buffer.count {
                let at = address + UInt64(done)
                let base = at & ~(word - 1), skip = Int(at - base)
                guard var v = peekWord(pid, base) else { return done > 0 ? done : -1 }
                let n = min(Int(word) - skip, buffer.count - done)
                withUnsafeBytes(of: &v) { buffer.baseAddress!.advanced(by: done).copyMemory(from: $0.baseAddress!.advanced(by: skip), byteCount: n) }
                done += n
            }
            return done
        }

        private static func poke(_ pid: pid_t, _ bytes: UnsafeRawBufferPointer, at address: UInt64) -> Int {
            var done = 0
            while done < bytes.count {
                let at = address + UInt64(done)
                let base = at & ~(word - 1), skip = Int(at - base)
                let n = min(Int(word) - skip, bytes.count - done)
                var v: UInt = 0
                if n < Int(word) {
                    // Part of a word: the bytes around it stay as they are.
                    guard let old = peekWord(pid, base) else { return done > 0 ? done : -1 }
                    v = old
                }
                withUnsafeMutableBytes(of: &v) { $0.baseAddress!.advanced(by: skip).copyMemory(from: bytes.baseAddress!.advanced(by: done), byteCount: n) }
                var err: Int32 = 0
                _ = ck_ptrace_raw(PTRACE_POKEDATA, pid, UInt(base), v, &err)
                if err != 0 { Glibc.errno = err; return done > 0 ? done : -1 }
                done += n
            }
            return done
        }
    }

    /// Forks the command's process; the child runs `ck_trace_child` and never returns here.
    public struct ChildLaunch {
        public var candidates: [String]
        public var argv: [String]
        public var environment: [String]
        public var hostWorkingDirectory: String
        public var signalMask: sigset_t
        /// setsid for the command; else it leads a process group of its own.
        public var newSession = false
        /// The controlling terminal, handed to the command's group before exec; -1: none.
        public var foregroundTerminal: Int32 = -1
        public var filter: [BPFCode]?
        /// Tried first, with a listener the tracer takes (see ck_trace_launch).
        public var notifyFilter: [BPFCode]?
        /// The notify filter goes in with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19):
        /// a call the tracer has taken is not restarted by a signal's handler. Where the
        /// kernel refuses the flag, `filter` goes in instead.
        public var notifyKillable = false
        /// A candidate that fails with ENOEXEC is run as `/bin/sh CANDIDATE ARGS...`.
        public var shellFallback = false
        public init(candidates: [String], argv: [String], environment: [String], hostWorkingDirectory: String, signalMask: sigset_t) {
            self.candidates = candidates
            self.argv = argv
            self.environment = environment
            self.hostWorkingDirectory = hostWorkingDirectory
            self.signalMask = signalMask
        }
    }

    /// Where the traced child failed before it could run the command.
    public struct ChildFailure: Error, Sendable {
        public var step: String
        public var errno: Errno
        public var candidate: String?
        public var status: Int32
    }

    /// The traced child, as `startChild` left it.
    public struct Child: Sendable {
        public var pid: pid_t
        /// The read end of a close-on-exec pipe: it gets a failure record if the child never
        /// runs the command.
        public var report: Int32
        /// With a `notifyFilter`: where the child sends its seccomp listener (non-blocking;
        /// see `receiveListener`), else -1.
        public var listenerSocket: Int32
    }

    /// Starts the child (stopped by its own SIGSTOP, traced by us).
    public static func startChild(_ l: ChildLaunch) throws(SysError) -> Child {
        var sockets: (mine: Int32, theirs: Int32) = (-1, -1)
        if l.notifyFilter != nil {
            sockets = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        }
        let readEnd: Int32, writeEnd: Int32
        do { (readEnd, writeEnd) = try Files.pipe() } catch {
            Files.close(sockets.mine); Files.close(sockets.theirs)
            throw error
        }
        let candidates = l.candidates.map { UnsafePointer(strdup($0)) }
        let argv = l.argv.map { strdup($0) } + [nil]
        let env = l.environment.map { strdup($0) } + [nil]
        let cwd = strdup(l.hostWorkingDirectory)
        var shell = l.shellFallback ? [strdup(Proc.shell), nil] + argv.dropFirst() : []
        defer {
            candidates.forEach { free(UnsafeMutablePointer(mutating: $0)) }
            if !shell.isEmpty { free(shell[0]) }
            argv.forEach { free($0) }
            env.forEach { free($0) }
            free(cwd)
        }
        var mask = l.signalMask
        let filter = sockFilters(l.filter)
        let notifyFilter = sockFilters(l.notifyFilter)
        let parent = getpid()
        let pid = Glibc.fork()
        if pid < 0 {
            let e = SysError.last("fork", "(the command)")
            Files.close(readEnd); Files.close(writeEnd)
            Files.close(sockets.mine); Files.close(sockets.theirs)
            throw e
        }
        if pid == 0 {
            candidates.withUnsafeBufferPointer { c in
              shell.withUnsafeMutableBufferPointer { sh in
                argv.withUnsafeBufferPointer { a in
                    env.withUnsafeBufferPointer { e in
                        filter.withUnsafeBufferPointer { f in
                          notifyFilter.withUnsafeBufferPointer { nf in
                            withUnsafePointer(to: &mask) { m in
                                var t = ck_trace_launch()
                                t.candidates = UnsafePointer(c.baseAddress)
                                t.candidate_count = Int32(c.count)
                                t.argv = UnsafePointer(a.baseAddress)
                                t.envp = UnsafePointer(e.baseAddress)
                                t.host_cwd = UnsafePointer(cwd)
                                t.sigmask = UnsafeRawPointer(m)
                                t.new_session = l.newSession ? 1 : 0
                                t.foreground_fd = l.foregroundTerminal
                                t.filter = l.filter == nil ? nil : UnsafeRawPointer(f.baseAddress)
                                t.filter_len = UInt16(clamping: filter.count)
                                t.notify_filter = l.notifyFilter == nil ? nil : UnsafeRawPointer(nf.baseAddress)
                                t.notify_filter_len = UInt16(clamping: notifyFilter.count)
                                t.notify_killable = l.notifyKillable ? 1 : 0
                                t.listener_socket = sockets.theirs
                                t.report_fd = writeEnd
                                t.parent = parent
                                t.shell_argv = sh.isEmpty ? nil : sh.baseAddress
                                ck_trace_child(&t)
                            }
                          }
                        }
                    }
                }
              }
            }
        }
        // The command's group, from this side too (a fork: either side may run first).
        if !l.newSession { Proc.setProcessGroup(pid, pid) }
        Files.close(writeEnd)
        Files.close(sockets.theirs)
        return Child(pid: pid, report: readEnd, listenerSocket: sockets.mine)
    }

    /// The seccomp listener the child sent (ck_trace_child sends it right after the filter
    /// went in); nil when it has not arrived (yet).
    public static func receiveListener(_ child: Child) -> Int32? {
        child.listenerSocket < 0 ? nil : Files.receiveDescriptor(child.listenerSocket)
    }

    /// Reads the child's failure record (nil: it ran the command, or reported nothing).
    public static func childFailure(_ report: Int32, _ l: ChildLaunch) -> ChildFailure? {
        var rec: (Int32, Int32, Int32) = (0, 0, -1)
        let n = withUnsafeMutableBytes(of: &rec) { Glibc.read(report, $0.baseAddress, $0.count) }
        guard n == 12 else { return nil }
        let step = ck_trace_step(rawValue: UInt32(rec.0))
        let errno = Errno(rawValue: rec.1)
        if step == CK_TSTEP_EXEC {
            let i = Int(rec.2)
            let name = i >= 0 && i < l.candidates.count ? l.candidates[i] : l.argv.first ?? ""
            let notFound = errno == .noSuchFileOrDirectory || errno == .notDirectory
            let shown = notFound && !(l.argv.first ?? "").contains("/") ? (l.argv.first ?? name) : name
            return ChildFailure(step: "exec", errno: errno, candidate: shown, status: notFound ? 127 : 126)
        }
        let names: [ck_trace_step: String] = [
            CK_TSTEP_TRACEME: "ptrace(PTRACE_TRACEME)", CK_TSTEP_SIGMASK: "sigprocmask", CK_TSTEP_SETSID: "setsid", CK_TSTEP_SETPGID: "setpgid",
            CK_TSTEP_PDEATHSIG: "prctl PR_SET_PDEATHSIG", CK_TSTEP_CHDIR: "chdir \(l.hostWorkingDirectory)",
            CK_TSTEP_NO_NEW_PRIVS: "prctl PR_SET_NO_NEW_PRIVS", CK_TSTEP_CLOSE_RANGE: "close_range", CK_TSTEP_STOP: "kill SIGSTOP",
            CK_TSTEP_SEND_LISTENER: "send the seccomp listener to the supervisor (sendmsg SCM_RIGHTS)",
        ]
        return ChildFailure(step: names[step] ?? "start", errno: errno, candidate: nil, status: 125)
    }

    /// Forwards `signals` sent to burrow to `pid`, from a C handler (see ck_forward_signals_to).
    public static func forwardSignals(_ signals: [Int32], to pid: pid_t) {
        _ = signals.withUnsafeBufferPointer { ck_forward_signals_to(pid, $0.baseAddress, Int32($0.count)) }
    }
}
