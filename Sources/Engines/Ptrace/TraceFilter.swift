import BurrowSeccomp

// Pure: no Glibc. The seccomp filter the command runs under, built with the shared compiler
// (BurrowSeccomp): its path system calls go to the tracer or to the listener, terminal
// injection fails with EPERM unless the spec allows it, everything else runs untraced.

enum TraceFilter {
    /// `trace`: stop the tracee for the tracer (SECCOMP_RET_TRACE); `notify`: wait for the
    /// supervisor's answer on the listener (SECCOMP_RET_USER_NOTIF): no ptrace stop, so they
    /// cost a fraction of a traced call; a call in both lists is notified. Numbers are the
    /// engine's (`SyscallTable`), turned into `abi`'s names for the compiler. Other ABIs
    /// (i386's int 0x80, x32) get ENOSYS: their path calls would escape translation.
    static func filter(trace: [Int64], notify: [Int64] = [], refusals: Refusals?, abi: Architecture) throws(SeccompError) -> SeccompFilter {
        func rules(_ numbers: [Int64], _ action: SeccompAction) throws(SeccompError) -> [SeccompRule] {
            var out: [SeccompRule] = []
            for nr in numbers {
                guard let n = Int32(exactly: nr), let name = abi.name(of: n) else {
                    throw SeccompError("seccomp: system call \(nr) of the ptrace engine's table has no name on \(abi.rawValue)")
                }
                out.append(SeccompRule(name, action))
            }
            return out
        }
        let notified = Set(notify)
        // The compiler tests the calls in the order of their first rule: the path calls
        // first, the refusals (clone's flags, ioctl's request) after them.
        let all = try rules(notify, .userNotify) + rules(trace.filter { !notified.contains($0) }, .trace(0))
            + (refusals?.rules ?? [])
        return SeccompFilter(
            defaultAction: .allow, rules: all, architectures: [abi],
            x32Action: .errno(SeccompErrno.ENOSYS), otherArchitectureAction: .errno(SeccompErrno.ENOSYS))
    }

    static func program(trace: [Int64], notify: [Int64] = [], refusals: Refusals?, abi: Architecture) throws(SeccompError) -> [BPFInstruction] {
        try filter(trace: trace, notify: notify, refusals: refusals, abi: abi).compile()
    }

    /// The two programs the command's process tries: with the listener, and without it
    /// (every path call traced) where the kernel refuses the listener.
    static func programs(trace: [Int64], notify: [Int64], refusals: Refusals?, abi: Architecture) throws(SeccompError)
        -> (withListener: [BPFInstruction], traceOnly: [BPFInstruction]) {
        let withListener = try filter(trace: trace, notify: notify, refusals: refusals, abi: abi)
        // The same rules, the notified ones traced instead.
        var traceOnly = withListener
        traceOnly.rules = withListener.rules.map { $0.action == .userNotify ? SeccompRule($0.syscall, where: $0.conditions, .trace(0)) : $0 }
        return (try withListener.compile(), try traceOnly.compile())
    }

    /// Refused on every run, whatever the spec: what would work out of the tracer's reach.
    /// - A child made with CLONE_UNTRACED is not traced whatever the tracer's options
    ///   (PTRACE_O_TRACECLONE does not apply to it): its path calls would go untranslated and it
    ///   would outlive burrow, since PTRACE_O_EXITKILL reaches tracees only. clone with the
    ///   flag fails with EPERM; clone3, whose flags sit in memory a filter cannot read, with
    ///   ENOSYS, so libc falls back to clone (as the profiles do for CLONE_NEWUSER).
    /// - io_uring runs its operations (openat, statx, mkdirat, renameat, ...) in the kernel
    ///   without a system call of the tracee's: their paths would reach the host untranslated.
    ///   ENOSYS, as on a kernel without it: programs fall back to system calls.
    static let outOfReach = [
        SeccompRule("clone", where: [.arg(0, .anyBitsSet(CLONE_UNTRACED))], .errno(SeccompErrno.EPERM)),
        SeccompRule("clone3", .errno(SeccompErrno.ENOSYS)),
    ] + ["io_uring_setup", "io_uring_enter", "io_uring_register"].map { SeccompRule($0, .errno(SeccompErrno.ENOSYS)) }
    static let CLONE_UNTRACED: UInt64 = 0x0080_0000

    /// The calls the filter makes fail (`outOfReach`; terminal injection,
    /// `TerminalInjection.rule`, unless allowed).
    /// When the kernel takes no filter at all, every call stops at the tracer, which then
    /// refuses these itself (`Tracer.enter`), from the same rules.
    struct Refusals {
        let rules: [SeccompRule]
        private let filter: SeccompFilter
        private let numbers: Set<Int64>

        init(_ rules: [SeccompRule], abi: Architecture) {
            self.rules = rules
            filter = SeccompFilter(defaultAction: .allow, rules: rules, architectures: [abi])
            numbers = Set(rules.compactMap { abi.number(of: $0.syscall).map(Int64.init) })
        }

        /// The errno the filter would answer this call with, nil if it would let it run.
        func errno(nr: Int64, args: () -> [UInt64]) -> UInt16? {
            guard numbers.contains(nr), let abi = filter.architectures.first else { return nil }
            guard case .errno(let e) = filter.verdict(arch: abi.auditArch, nr: Int32(truncatingIfNeeded: nr), args: args()) else {
                return nil
            }
            return e
        }
    }
}
