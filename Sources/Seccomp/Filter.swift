/// Seccomp filters as data: rules (a system call by name, conditions on its arguments, an
/// action), a default action, the ABIs the rules apply to, and what happens to every other
/// ABI. `compile()` turns a filter into classic BPF for `seccomp(SECCOMP_SET_MODE_FILTER)`.
///
/// A deny list (what the profiles are):
///
///     var f = SeccompFilter(defaultAction: .allow)
///     f.rules = [SeccompRule("reboot", .errno(SeccompErrno.EPERM)),
///                SeccompRule("ioctl", where: [.arg(1, .in([0x5412]))], .errno(SeccompErrno.EPERM))]
///
/// The ptrace engine (stop at path calls, run everything else):
///
///     SeccompFilter(defaultAction: .allow, rules: ["openat", "execve", ...].map { SeccompRule($0, .trace(0)) })
///
/// A fake kernel release (`uname` answered by a supervisor through the listener fd that
/// `seccomp()` returns with SECCOMP_FILTER_FLAG_NEW_LISTENER):
///
///     SeccompFilter(defaultAction: .allow, rules: [SeccompRule("uname", .userNotify)], flags: [.newListener])

/// What a rule (or the default) does with a call: SECCOMP_RET_* and its 16-bit data.
public enum SeccompAction: Equatable, Hashable, Sendable, CustomStringConvertible {
    case allow
    /// Allowed, and logged by the audit subsystem.
    case log
    /// The call is not made; it returns -1 with this errno (at most 4095).
    case errno(UInt16)
    /// A ptrace stop (PTRACE_EVENT_SECCOMP) with this value as the event message; ENOSYS if
    /// no tracer is attached.
    case trace(UInt16)
    /// SIGSYS to the thread, with this value in si_errno.
    case trap(UInt16)
    /// Asks the supervisor holding the listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER).
    case userNotify
    case killThread
    case killProcess

    public var returnValue: UInt32 {
        switch self {
        case .killProcess: return 0x8000_0000
        case .killThread: return 0x0000_0000
        case .trap(let d): return 0x0003_0000 | UInt32(d)
        case .errno(let e): return 0x0005_0000 | UInt32(e)
        case .userNotify: return 0x7FC0_0000
        case .trace(let d): return 0x7FF0_0000 | UInt32(d)
        case .log: return 0x7FFC_0000
        case .allow: return 0x7FFF_0000
        }
    }

    /// Decodes what a filter returned (as the kernel reads it: action in the high 16 bits).
    public init?(returnValue v: UInt32) {
        let data = UInt16(truncatingIfNeeded: v)
        switch v & 0xFFFF_0000 {
        case 0x8000_0000: self = .killProcess
        case 0x0000_0000: self = .killThread
        case 0x0003_0000: self = .trap(data)
        case 0x0005_0000: self = .errno(data)
        case 0x7FC0_0000: self = .userNotify
        case 0x7FF0_0000: self = .trace(data)
        case 0x7FFC_0000: self = .log
        case 0x7FFF_0000: self = .allow
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .allow: return "ALLOW"
        case .log: return "LOG"
        case .errno(let e): return "ERRNO(\(e))"
        case .trace(let d): return "TRACE(\(d))"
        case .trap(let d): return "TRAP(\(d))"
        case .userNotify: return "USER_NOTIF"
        case .killThread: return "KILL_THREAD"
        case .killProcess: return "KILL_PROCESS"
        }
    }
}

/// The errno values the profiles use (the generic Linux numbering of x86 and arm).
public enum SeccompErrno {
    public static let EPERM: UInt16 = 1
    public static let ENOSYS: UInt16 = 38
    public static let EAFNOSUPPORT: UInt16 = 97
}

/// A system-call ABI a filter can see, with its AUDIT_ARCH_* value and its numbering.
public enum Architecture: String, CaseIterable, Equatable, Hashable, Sendable {
    case x86_64
    /// The i386 ABI: native on i386, and the compat ABI of x86_64 (`int $0x80`, 32-bit
    /// programs), with its own numbers.
    case i386
    case aarch64

    public var auditArch: UInt32 {
        switch self {
        case .x86_64: return 0xC000_003E  // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
        case .i386: return 0x4000_0003   // EM_386 | __AUDIT_ARCH_LE
        case .aarch64: return 0xC000_00B7
        }
    }

    /// name -> number, sorted by name.
    public var syscalls: [(name: String, number: Int32)] {
        switch self {
        case .x86_64: return SyscallTables.x86_64
        case .i386: return SyscallTables.i386
        case .aarch64: return SyscallTables.aarch64
        }
    }

    /// By binary search: burrow compiles a filter at every start, and hashing a whole table
    /// into a dictionary for the few names one filter uses cost more than the rest of the
    /// compiler together.
    public func number(of name: String) -> Int32? {
        let table = syscalls
        var low = 0, high = table.count
        while low < high {
            let mid = (low + high) / 2
            if table[mid].name < name { low = mid + 1 } else { high = mid }
        }
        return low < table.count && table[low].name == name ? table[low].number : nil
    }

    /// number -> name, for callers that keep numbers (the ptrace engine's tables). Where
    /// two names share a number, the first in alphabetical order.
    public func name(of number: Int32) -> String? {
        syscalls.first { $0.number == number }?.name
    }

    /// The ABI this program was built for, nil on an architecture Burrow has no table for.
    public static var native: Architecture? {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #elseif arch(i386)
        return .i386
        #else
        return nil
        #endif
    }

    /// The ABIs a process on this architecture can use and a filter should therefore cover
    /// with its rules. x86_64 also runs i386 code; its x32 ABI is handled separately (see
    /// `SeccompFilter.x32Action`). aarch64's 32-bit compat ABI has no table here, so it
    /// falls under `SeccompFilter.otherArchitectureAction`.
    public var abis: [Architecture] {
        switch self {
        case .x86_64: return [.x86_64, .i386]
        case .i386: return [.i386]
        case .aarch64: return [.aarch64]
        }
    }

    /// Whether any known ABI has a system call of this name.
    public static func isKnown(_ name: String) -> Bool { allCases.contains { $0.number(of: name) != nil } }
}

/// A condition on one argument of a call. All conditions of a rule must hold.
public struct ArgumentCondition: Equatable, Hashable, Sendable {
    public enum Test: Equatable, Hashable, Sendable {
        case equals(UInt64)
        case notEquals(UInt64)
        /// `arg & mask != 0`
        case anyBitsSet(UInt64)
        /// `arg & mask == 0`
        case noBitsSet(UInt64)
        /// `arg & mask == value`
        case maskedEquals(mask: UInt64, value: UInt64)
        case `in`([UInt64])
        case notIn([UInt64])
        /// unsigned `arg >= value`
        case atLeast(UInt64)
        /// unsigned `arg < value`
        case below(UInt64)
    }

    /// How much of the argument register is compared.
    public enum Width: Equatable, Hashable, Sendable {
        /// The low 32 bits only: right for `int` and `unsigned int` arguments (ioctl's request,
        /// a socket family, flags), which the kernel truncates itself. Comparing all 64 bits
        /// there would let `TIOCSTI | 1 << 32` slip past a rule the kernel then honours.
        case low32
        /// The whole register (pointers, `unsigned long` and 64-bit values).
        case full64
    }

    public var index: Int
    public var test: Test
    public var width: Width

    public init(index: Int, test: Test, width: Width = .low32) {
        self.index = index
        self.test = test
        self.width = width
    }

    /// `.arg(1, .equals(0x5412))`
    public static func arg(_ index: Int, _ test: Test, width: Width = .low32) -> ArgumentCondition {
        ArgumentCondition(index: index, test: test, width: width)
    }

    /// Evaluates the condition directly: the reference the compiled program is tested against.
    public func holds(for args: [UInt64]) -> Bool {
        let raw = index < args.count ? args[index] : 0
        let v = width == .low32 ? raw & 0xFFFF_FFFF : raw
        let m: (UInt64) -> UInt64 = { self.width == .low32 ? $0 & 0xFFFF_FFFF : $0 }
        switch test {
        case .equals(let x): return v == m(x)
        case .notEquals(let x): return v != m(x)
        case .anyBitsSet(let x): return v & m(x) != 0
        case .noBitsSet(let x): return v & m(x) == 0
        case .maskedEquals(let mask, let x): return v & m(mask) == m(x) & m(mask)
        case .in(let xs): return xs.contains { v == m($0) }
        case .notIn(let xs): return !xs.contains { v == m($0) }
        case .atLeast(let x): return v >= m(x)
        case .below(let x): return v < m(x)
        }
    }
}

/// `syscall(args...) where conditions -> action`. A name no ABI of the filter has is skipped
/// for that ABI (`socketcall` exists on i386 only), but must exist in some table.
/// `only`: the rule applies to these ABIs alone (a name that means another call on the
/// other ABI: i386's `stat` has another layout than x86_64's); nil: every ABI of the filter.
public struct SeccompRule: Equatable, Hashable, Sendable {
    public var syscall: String
    public var conditions: [ArgumentCondition]
    public var action: SeccompAction
    public var only: [Architecture]?
    /// The call's number on its one ABI (`only`), for rules made from numbers: no name to
    /// look up when the filter is compiled (the ptrace engine keeps numbers, and compiles
    /// its filter at every start).
    public private(set) var resolved: Int32?

    public init(_ syscall: String, where conditions: [ArgumentCondition] = [], _ action: SeccompAction, only: [Architecture]? = nil) {
        self.syscall = syscall
        self.conditions = conditions
        self.action = action
        self.only = only
    }

    /// The rule for call `number` of `abi` alone (`syscall` is empty: the name is not
    /// looked up), for numbers taken from `abi`'s own table (`number(of:)`, `syscalls`).
    public init(number: Int32, on abi: Architecture, where conditions: [ArgumentCondition] = [], _ action: SeccompAction) {
        self.init("", where: conditions, action, only: [abi])
        resolved = number
    }

    /// The call's name, or `#number` for a rule made from a number.
    public var label: String { resolved.map { "#\($0)" } ?? syscall }

    /// This rule's number on `abi`, nil where it does not apply there.
    public func number(on abi: Architecture) -> Int32? {
        if let only, !only.contains(abi) { return nil }
        return resolved ?? abi.number(of: syscall)
    }
}

/// seccomp(2) flags for installing the filter (SECCOMP_FILTER_FLAG_*).
public struct SeccompInstallFlags: OptionSet, Equatable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let tsync = SeccompInstallFlags(rawValue: 1 << 0)
    public static let log = SeccompInstallFlags(rawValue: 1 << 1)
    public static let specAllow = SeccompInstallFlags(rawValue: 1 << 2)
    /// seccomp() returns a listener fd for `.userNotify` rules.
    public static let newListener = SeccompInstallFlags(rawValue: 1 << 3)
    public static let waitKillableRecv = SeccompInstallFlags(rawValue: 1 << 5)
}

public struct SeccompError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct SeccompFilter: Equatable, Sendable {
    /// Checked in order for each call: the first rule whose conditions hold decides.
    public var rules: [SeccompRule]
    /// For calls no rule matches, in the covered ABIs.
    public var defaultAction: SeccompAction
    /// The ABIs the rules apply to, each with its own numbers.
    public var architectures: [Architecture]
    /// x32 calls (AUDIT_ARCH_X86_64 with bit 30 of the number set) when `.x86_64` is covered.
    /// x32 has numbers of its own (its ioctl is 514, not 16), so applying x86_64's rules to
    /// it would let calls through under other numbers. Refused as a whole by default: EPERM,
    /// like every other denial, and distinct from the ENOSYS of a kernel built without x32.
    public var x32Action: SeccompAction
    /// Calls from any ABI not in `architectures` (on aarch64: 32-bit arm programs).
    public var otherArchitectureAction: SeccompAction
    public var flags: SeccompInstallFlags

    public static let x32Bit: UInt32 = 0x4000_0000

    public init(
        defaultAction: SeccompAction, rules: [SeccompRule] = [],
        architectures: [Architecture] = Architecture.native?.abis ?? [],
        x32Action: SeccompAction = .errno(SeccompErrno.EPERM), otherArchitectureAction: SeccompAction = .killProcess,
        flags: SeccompInstallFlags = []
    ) {
        self.rules = rules
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.x32Action = x32Action
        self.otherArchitectureAction = otherArchitectureAction
        self.flags = flags
    }

    /// What the filter decides for one call, computed directly from the rules. The compiled
    /// program must agree with this on every input (the tests check that it does).
    public func verdict(arch: UInt32, nr: Int32, args: [UInt64] = []) -> SeccompAction {
        guard let abi = architectures.first(where: { $0.auditArch == arch }) else { return otherArchitectureAction }
        if abi == .x86_64, UInt32(bitPattern: nr) & Self.x32Bit != 0 { return x32Action }
        for rule in rules where rule.number(on: abi) == nr {
            if rule.conditions.allSatisfy({ $0.holds(for: args) }) { return rule.action }
        }
        return defaultAction
    }

    /// Checks the filter and compiles it to classic BPF.
    public func compile() throws(SeccompError) -> [BPFInstruction] {
        try validate()
        var asm = Assembler()
        let other = asm.label()
        asm.load(SeccompData.archOffset)
        var sections: [(Architecture, Assembler.Label)] = []
        for abi in architectures {
            let section = asm.label(), next = asm.label()
            asm.jump(BPF.jeqK, abi.auditArch, then: section, else: next)
            asm.place(next)
            sections.append((abi, section))
        }
        asm.goto(other)
        for (abi, section) in sections {
            asm.place(section)
            emit(abi, into: &asm)
        }
        asm.place(other)
        asm.ret(otherArchitectureAction.returnValue)
        let program: [BPFInstruction]
        do { program = try asm.finish() } catch {
            throw SeccompError("seccomp: internal error laying out the filter (\(error))")
        }
        guard program.count <= BPF.maxInstructions else {
            throw SeccompError("seccomp: the filter needs \(program.count) BPF instructions; the kernel takes at most \(BPF.maxInstructions)")
        }
        return program
    }

    /// `program` with every return of `action` turned into one of `replacement`: what
    /// compiling this filter again with those rules' actions replaced gives (when neither
    /// the default nor the other ABIs' actions are `action`), at no compiling cost.
    public static func replacingReturns(of action: SeccompAction, with replacement: SeccompAction,
                                        in program: [BPFInstruction]) -> [BPFInstruction] {
        let old = action.returnValue, new = replacement.returnValue
        var out = program
        for i in out.indices where out[i].code == BPF.retK && out[i].k == old { out[i].k = new }
        return out
    }

    private func validate() throws(SeccompError) {
        for rule in rules {
            guard rule.resolved != nil || Architecture.isKnown(rule.syscall) else {
                throw SeccompError("seccomp: unknown system call '\(rule.syscall)'")
            }
            for c in rule.conditions where !(0..<6).contains(c.index) {
                throw SeccompError("seccomp: \(rule.label): argument \(c.index) does not exist (0 to 5)")
            }
        }
        for action in rules.map(\.action) + [defaultAction, x32Action, otherArchitectureAction] {
            if case .errno(let e) = action, e > 4095 { throw SeccompError("seccomp: errno \(e) is above 4095") }
        }
    }

    /// One ABI's section: the x32 check, a dispatch on the number, then each call's rules.
    /// The dispatch is a binary search (BPF_JGE on the sorted numbers, down to runs of a few
    /// BPF_JEQ): the filter runs at every system call of every process under it, and an
    /// unlisted call (read, write, mmap: most of them) passes about a dozen instructions
    /// instead of one comparison per listed call. A call whose only rule has no condition
    /// jumps straight to its action's return, shared by every such call: a shorter program
    /// is also less for the kernel to check and translate when the filter goes in.
    private func emit(_ abi: Architecture, into asm: inout Assembler) {
        asm.load(SeccompData.nrOffset)
        if abi == .x86_64 {
            let x32 = asm.label(), native = asm.label()
            asm.jump(BPF.jsetK, Self.x32Bit, then: x32, else: native)
            asm.place(x32)
            asm.ret(x32Action.returnValue)
            asm.place(native)
        }
        // (Sorted numbers, no dictionary: one filter is compiled at every start, and a
        // dictionary's key type costs the runtime a conformance search the first time.)
        // `byCall`: the rules' indices by number, then by index, packed as number << 32 | index.
        var byCall: [UInt64] = []
        byCall.reserveCapacity(rules.count)
        for (i, rule) in rules.enumerated() {
            if let nr = rule.number(on: abi) { byCall.append(UInt64(UInt32(bitPattern: nr)) << 32 | UInt64(i)) }
        }
        byCall.sort()
        // Each call's run in `byCall`: its start, in the order of the numbers.
        var starts: [Int] = []
        for k in byCall.indices where k == 0 || byCall[k] >> 32 != byCall[k - 1] >> 32 { starts.append(k) }
        func number(_ call: Int) -> UInt32 { UInt32(truncatingIfNeeded: byCall[starts[call]] >> 32) }
        func rulesOf(_ call: Int) -> ArraySlice<UInt64> {
            byCall[starts[call]..<(call + 1 < starts.count ? starts[call + 1] : byCall.count)]
        }
        // Where each call goes: its action's shared return, or a body of its own.
        var returns: [(value: UInt32, label: Assembler.Label)] = []
        var targets: [Assembler.Label] = []
        var bodies: [(call: Int, label: Assembler.Label)] = []
        targets.reserveCapacity(starts.count)
        for call in starts.indices {
            let own = rulesOf(call)
            if own.count == 1, let only = own.first, rules[Int(only & 0xFFFF_FFFF)].conditions.isEmpty {
                let value = rules[Int(only & 0xFFFF_FFFF)].action.returnValue
                if let shared = returns.first(where: { $0.value == value }) {
                    targets.append(shared.label)
                } else {
                    let label = asm.label()
                    returns.append((value, label))
                    targets.append(label)
                }
            } else {
                let body = asm.label()
                bodies.append((call, body))
                targets.append(body)
            }
        }
        // The search over calls[low..<high]: the number is below all of them or above, or one.
        func dispatch(_ low: Int, _ high: Int) {
            if high - low <= 4 {
                for call in low..<high {
                    let next = asm.label()
                    asm.jump(BPF.jeqK, number(call), then: targets[call], else: next)
                    asm.place(next)
                }
                asm.ret(defaultAction.returnValue)
                return
            }
            let middle = (low + high) / 2
            let below = asm.label(), atOrAbove = asm.label()
            asm.jump(BPF.jgeK, number(middle), then: atOrAbove, else: below)
            asm.place(below)
            dispatch(low, middle)
            asm.place(atOrAbove)
            dispatch(middle, high)
        }
        dispatch(0, starts.count)
        for (call, body) in bodies {
            asm.place(body)
            for packed in rulesOf(call) {
                let rule = rules[Int(packed & 0xFFFF_FFFF)]
                let failed = asm.label()
                for c in rule.conditions {
                    let passed = asm.label()
                    emit(c, into: &asm, pass: passed, fail: failed)
                    asm.place(passed)
                }
                asm.ret(rule.action.returnValue)
                asm.place(failed)
            }
            asm.ret(defaultAction.returnValue)
        }
        for (value, label) in returns {
            asm.place(label)
            asm.ret(value)
        }
    }

    /// Jumps to `pass` if the condition holds, else to `fail`.
    private func emit(_ c: ArgumentCondition, into asm: inout Assembler, pass: Assembler.Label, fail: Assembler.Label) {
        let lo = SeccompData.argLow(c.index), hi = SeccompData.argHigh(c.index)
        let wide = c.width == .full64
        func low(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
        func high(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v >> 32) }
        // `arg == v` (the compared part): to `yes` or `no`.
        func equal(_ v: UInt64, yes: Assembler.Label, no: Assembler.Label) {
            if wide {
                let lower = asm.label()
                asm.load(hi)
                asm.jump(BPF.jeqK, high(v), then: lower, else: no)
                asm.place(lower)
            }
            asm.load(lo)
            asm.jump(BPF.jeqK, low(v), then: yes, else: no)
        }
        switch c.test {
        case .equals(let v):
            equal(v, yes: pass, no: fail)
        case .notEquals(let v):
            equal(v, yes: fail, no: pass)
        case .in(let values):
            for v in values {
                let next = asm.label()
                equal(v, yes: pass, no: next)
                asm.place(next)
            }
            asm.goto(fail)
        case .notIn(let values):
            for v in values {
                let next = asm.label()
                equal(v, yes: fail, no: next)
                asm.place(next)
            }
            asm.goto(pass)
        case .anyBitsSet(let mask), .noBitsSet(let mask):
            let (some, none) = c.test == .anyBitsSet(mask) ? (pass, fail) : (fail, pass)
            if wide, high(mask) != 0 {
                let lower = asm.label()
                asm.load(hi)
                asm.jump(BPF.jsetK, high(mask), then: some, else: lower)
                asm.place(lower)
            }
            asm.load(lo)
            asm.jump(BPF.jsetK, low(mask), then: some, else: none)
        case .maskedEquals(let mask, let v):
            if wide {
                let lower = asm.label()
                asm.load(hi)
                asm.and(high(mask))
                asm.jump(BPF.jeqK, high(v & mask), then: lower, else: fail)
                asm.place(lower)
            }
            asm.load(lo)
            asm.and(low(mask))
            asm.jump(BPF.jeqK, low(v & mask), then: pass, else: fail)
        case .atLeast(let v), .below(let v):
            let (ge, lt) = c.test == .atLeast(v) ? (pass, fail) : (fail, pass)
            if wide {
                let lower = asm.label(), upper = asm.label()
                asm.load(hi)
                asm.jump(BPF.jgtK, high(v), then: ge, else: upper)
                asm.place(upper)
                asm.jump(BPF.jeqK, high(v), then: lower, else: lt)
                asm.place(lower)
            }
            asm.load(lo)
            asm.jump(BPF.jgeK, low(v), then: ge, else: lt)
        }
    }
}
