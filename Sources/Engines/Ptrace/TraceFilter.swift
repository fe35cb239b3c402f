import BurrowSeccomp

// Pure: no Glibc. The seccomp filter the command runs under, built with the shared compiler
// (BurrowSeccomp): its path system calls go to the tracer or to the listener, terminal
// injection fails with EPERM unless the spec allows it, everything else runs untraced.

enum TraceFilter {
    /// `trace`: stop the tracee for the tracer (SECCOMP_RET_TRACE); `notify`: wait for the
    /// supervisor's answer on the listener (SECCOMP_RET_USER_NOTIF): no ptrace stop, so they
    /// cost a fraction of a traced call; a call in both lists is notified. Numbers are the
    /// engine's (`SyscallTable`), turned into each ABI's names for the compiler: each ABI's
    /// rules apply to it alone (i386's `stat` is not x86_64's), with its own calls
    /// (`TracedABI.ownGroups`, socketcall...) traced. Other ABIs (x32, and i386 when it is
    /// not in `abis`) get ENOSYS: their path calls would escape translation.
    /// `notifyOnHost`: calls notified for the host's ABI only (SyscallTable.hostNotified).
    static func filter(trace: [Int64], notify: [Int64] = [], notifyOnHost: [HostNotified] = [],
                       refusals: Refusals?, abis: [TracedABI]) throws(SeccompError) -> SeccompFilter {
        func rules(_ numbers: [Int64], _ action: SeccompAction, _ abi: Architecture) throws(SeccompError) -> [SeccompRule] {
            var out: [SeccompRule] = []
            out.reserveCapacity(numbers.count)
            for nr in numbers {
                // By number (the engine's tables and `TracedABI` take theirs from the ABI's
                // table): the compiler looks no name up.
                guard let n = Int32(exactly: nr) else {
                    throw SeccompError("seccomp: system call \(nr) of the ptrace engine's table is out of range on \(abi.rawValue)")
                }
                out.append(SeccompRule(number: n, on: abi, action))
            }
            return out
        }
        let notified = Set(notify)
        // The compiler tests the calls in the order of their first rule: the path calls
        // first, the refusals (clone's flags, ioctl's request) after them.
        var all: [SeccompRule] = []
        for abi in abis {
            let notifiedHere = abi.numbers(ofEngine: notify, own: false).filter { abi.ownGroups[$0] == nil }
            let onHost = abi.compat ? [] : notifyOnHost
            let tracedHere = Set(abi.numbers(ofEngine: trace.filter { !notified.contains($0) })).subtracting(notifiedHere)
                .subtracting(onHost.map(\.nr)).sorted()
            all += try rules(notifiedHere, .userNotify, abi.architecture)
            for rule in try rules(tracedHere, .trace(0), abi.architecture) {
                // A NULL path names the descriptor itself: nothing to translate, no stop.
                if !abi.compat, let n = rule.number(on: abi.architecture), let arg = SyscallTable.nullPathArgument[Int64(n)] {
                    all.append(SeccompRule(number: n, on: abi.architecture, where: [.arg(arg, .equals(0), width: .full64)], .allow))
                }
                all.append(rule)
            }
            for call in onHost {
                guard let n = Int32(exactly: call.nr) else { continue }
                if let arg = SyscallTable.nullPathArgument[call.nr] {
                    all.append(SeccompRule(number: n, on: abi.architecture, where: [.arg(arg, .equals(0), width: .full64)], .allow))
                }
                if let arg = call.tracedIfArgument {
                    all.append(SeccompRule(number: n, on: abi.architecture, where: [.arg(arg, .anyBitsSet(call.bits))], .trace(0)))
                }
                all.append(SeccompRule(number: n, on: abi.architecture, .userNotify))
            }
        }
        all += refusals?.rules ?? []
        return SeccompFilter(
            defaultAction: .allow, rules: all, architectures: abis.map(\.architecture),
            x32Action: .errno(SeccompErrno.ENOSYS), otherArchitectureAction: .errno(SeccompErrno.ENOSYS))
    }

    static func program(trace: [Int64], notify: [Int64] = [], refusals: Refusals?, abis: [TracedABI]) throws(SeccompError) -> [BPFInstruction] {
        try filter(trace: trace, notify: notify, refusals: refusals, abis: abis).compile()
    }

    /// The two programs the command's process tries: with the listener, and without it
    /// (every path call traced) where the kernel refuses the listener.
    static func programs(trace: [Int64], notify: [Int64], notifyOnHost: [HostNotified] = [],
                         refusals: Refusals?, abis: [TracedABI]) throws(SeccompError)
        -> (withListener: [BPFInstruction], traceOnly: [BPFInstruction]) {
        let withListener = try filter(trace: trace, notify: notify, notifyOnHost: notifyOnHost, refusals: refusals,
                                      abis: abis).compile()
        // The same program, the notified calls traced instead (no default or ABI action of
        // the filter is a notification): one compilation at start-up, not two.
        return (withListener, SeccompFilter.replacingReturns(of: .userNotify, with: .trace(0), in: withListener))
    }

    /// A call notified for the host's ABI alone (i386's struct statfs is another; its open
    /// without O_LARGEFILE fails on a large file where the supervisor's would not), traced
    /// for i386; traced for the host's too when a bit of `bits` is set in argument
    /// `tracedIfArgument`.
    struct HostNotified {
        var nr: Int64
        var tracedIfArgument: Int?
        var bits: UInt64 = 0

        init(nr: Int64, tracedIfArgument: Int? = nil, has bits: UInt64 = 0) {
            self.nr = nr
            self.tracedIfArgument = tracedIfArgument
            self.bits = bits
        }
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

        init(_ rules: [SeccompRule], abis: [Architecture]) {
            self.rules = rules
            filter = SeccompFilter(defaultAction: .allow, rules: rules, architectures: abis)
            numbers = Set(abis.flatMap { abi in rules.compactMap { $0.number(on: abi).map { Self.key(abi, Int64($0)) } } })
        }

        private static func key(_ abi: Architecture, _ nr: Int64) -> Int64 { Int64(abi.auditArch) << 32 | (nr & 0xFFFF_FFFF) }

        /// The errno the filter would answer this call (of ABI `arch`, the first one's by
        /// default) with, nil if it would let it run.
        func errno(arch: Architecture? = nil, nr: Int64, args: () -> [UInt64]) -> UInt16? {
            guard let abi = arch ?? filter.architectures.first, numbers.contains(Self.key(abi, nr)) else { return nil }
            guard case .errno(let e) = filter.verdict(arch: abi.auditArch, nr: Int32(truncatingIfNeeded: nr), args: args()) else {
                return nil
            }
            return e
        }
    }
}
