import BurrowSeccomp
import Testing

// The compiler is checked by running what it produced: the BPF interpreter executes the
// program on (arch, nr, args) as the kernel would, and the verdict must be the one the
// rules say (`SeccompFilter.verdict`, and hand-written expectations in the tables).

let x86_64 = Architecture.x86_64.auditArch
let i386 = Architecture.i386.auditArch
let aarch64 = Architecture.aarch64.auditArch
let eperm = SeccompAction.errno(SeccompErrno.EPERM)

func nr(_ name: String, _ abi: Architecture = .x86_64) -> Int32 {
    guard let n = abi.number(of: name) else {
        Issue.record("\(name) is not in the \(abi) table")
        return -1
    }
    return n
}

/// Runs the compiled program; records a failure (and returns nil) if it is malformed.
func run(_ program: [BPFInstruction], arch: UInt32, nr: Int32, args: [UInt64] = []) -> SeccompAction? {
    do {
        let v = try BPFInterpreter.run(program, on: SeccompData(nr: nr, arch: arch, args: args))
        return SeccompAction(returnValue: v)
    } catch {
        Issue.record("the program failed to run: \(error)")
        return nil
    }
}

struct CompilerTests {
    /// A filter exercising every kind of condition and action.
    static let filter = SeccompFilter(
        defaultAction: .allow,
        rules: [
            SeccompRule("reboot", eperm),
            SeccompRule("ioctl", where: [.arg(1, .in([0x5412, 0x541C]))], eperm),
            SeccompRule("clone", where: [.arg(0, .anyBitsSet(0x1000_0000))], eperm),
            SeccompRule("socket", where: [.arg(0, .notIn([0, 1, 2, 10, 16]))], .errno(SeccompErrno.EAFNOSUPPORT)),
            SeccompRule("openat", .trace(7)),
            SeccompRule("uname", .userNotify),
            SeccompRule("kill", where: [.arg(0, .equals(1)), .arg(1, .equals(9))], .killProcess),
            SeccompRule("kill", where: [.arg(1, .equals(15))], .log),
            SeccompRule("lseek", where: [.arg(1, .atLeast(0x1_0000_0000), width: .full64)], .errno(22)),
            SeccompRule("mmap", where: [.arg(2, .maskedEquals(mask: 0x7, value: 0x7))], .trap(3)),
            SeccompRule("pread64", where: [.arg(3, .notEquals(0xFFFF_FFFF_0000_0000), width: .full64)], .errno(5)),
            SeccompRule("madvise", where: [.arg(2, .noBitsSet(0x1))], .errno(6)),
            SeccompRule("fcntl", where: [.arg(1, .below(3))], .errno(7)),
            SeccompRule("mprotect", where: [.arg(2, .anyBitsSet(0x1_0000_0004), width: .full64)], .errno(8)),
            SeccompRule("socketcall", .errno(9)),  // i386 only
            SeccompRule("clone3", .errno(SeccompErrno.ENOSYS)),
        ],
        architectures: [.x86_64, .i386])

    struct Case: CustomTestStringConvertible, Sendable {
        var arch: UInt32
        var call: String
        var abi: Architecture
        var args: [UInt64]
        var expected: SeccompAction
        var testDescription: String { "\(abi) \(call)(\(args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")))" }

        init(_ abi: Architecture, _ call: String, _ args: [UInt64] = [], _ expected: SeccompAction) {
            self.arch = abi.auditArch
            self.abi = abi
            self.call = call
            self.args = args
            self.expected = expected
        }
    }

    static let cases: [Case] = [
        Case(.x86_64, "reboot", [], eperm),
        Case(.x86_64, "getpid", [], .allow),
        Case(.x86_64, "ioctl", [1, 0x5412], eperm),
        Case(.x86_64, "ioctl", [1, 0x541C], eperm),
        // The kernel truncates the request to 32 bits: so does the rule.
        Case(.x86_64, "ioctl", [1, 0x1_0000_5412], eperm),
        Case(.x86_64, "ioctl", [1, 0x5413], .allow),
        Case(.x86_64, "clone", [0x1000_0000 | 0x11], eperm),
        Case(.x86_64, "clone", [0x1_0120_0011], .allow),
        Case(.x86_64, "socket", [1, 1, 0], .allow),
        Case(.x86_64, "socket", [10, 1, 0], .allow),
        Case(.x86_64, "socket", [16, 3, 0], .allow),
        Case(.x86_64, "socket", [17, 3, 0], .errno(SeccompErrno.EAFNOSUPPORT)),
        Case(.x86_64, "socket", [3, 3, 0], .errno(SeccompErrno.EAFNOSUPPORT)),
        Case(.x86_64, "openat", [], .trace(7)),
        Case(.x86_64, "uname", [], .userNotify),
        Case(.x86_64, "kill", [1, 9], .killProcess),
        Case(.x86_64, "kill", [2, 9], .allow),
        Case(.x86_64, "kill", [2, 15], .log),
        Case(.x86_64, "kill", [1, 15], .log),
        Case(.x86_64, "lseek", [3, 0x1_0000_0000], .errno(22)),
        Case(.x86_64, "lseek", [3, 0xFFFF_FFFF], .allow),
        Case(.x86_64, "lseek", [3, 0x2_0000_0000], .errno(22)),
        Case(.x86_64, "mmap", [0, 4096, 7], .trap(3)),
        Case(.x86_64, "mmap", [0, 4096, 0xF], .trap(3)),
        Case(.x86_64, "mmap", [0, 4096, 3], .allow),
        Case(.x86_64, "pread64", [3, 0, 10, 0xFFFF_FFFF_0000_0000], .allow),
        Case(.x86_64, "pread64", [3, 0, 10, 0xFFFF_FFFE_0000_0000], .errno(5)),
        Case(.x86_64, "pread64", [3, 0, 10, 0xFFFF_FFFF_0000_0001], .errno(5)),
        Case(.x86_64, "madvise", [0, 0, 2], .errno(6)),
        Case(.x86_64, "madvise", [0, 0, 3], .allow),
        Case(.x86_64, "fcntl", [0, 2], .errno(7)),
        Case(.x86_64, "fcntl", [0, 3], .allow),
        Case(.x86_64, "mprotect", [0, 0, 0x1_0000_0000], .errno(8)),
        Case(.x86_64, "mprotect", [0, 0, 4], .errno(8)),
        Case(.x86_64, "mprotect", [0, 0, 3], .allow),
        Case(.x86_64, "clone3", [], .errno(SeccompErrno.ENOSYS)),
        // i386: the same rules under i386's numbers.
        Case(.i386, "reboot", [], eperm),
        Case(.i386, "ioctl", [1, 0x5412], eperm),
        Case(.i386, "clone", [0x1000_0000], eperm),
        Case(.i386, "socket", [5, 1, 0], .errno(SeccompErrno.EAFNOSUPPORT)),
        Case(.i386, "socketcall", [1, 0], .errno(9)),
        Case(.i386, "getpid", [], .allow),
        Case(.i386, "clone3", [], .errno(SeccompErrno.ENOSYS)),
    ]

    @Test(arguments: cases)
    func compiledProgramDecides(_ c: Case) throws {
        let program = try Self.filter.compile()
        let n = nr(c.call, c.abi)
        #expect(run(program, arch: c.arch, nr: n, args: c.args) == c.expected)
        #expect(Self.filter.verdict(arch: c.arch, nr: n, args: c.args) == c.expected)
    }

    @Test func i386NumbersAreNotX86_64Numbers() throws {
        // reboot is 169 on x86_64 and 88 on i386; 169 on i386 is nfsservctl, 88 on x86_64 symlink.
        let program = try Self.filter.compile()
        #expect(run(program, arch: i386, nr: 169) == .allow)
        #expect(run(program, arch: x86_64, nr: 88) == .allow)
        // socketcall (102 on i386) is getuid on x86_64.
        #expect(run(program, arch: x86_64, nr: 102) == .allow)
    }

    @Test(arguments: [Int32(39), 16, 169, 514, 0x1FF])
    func x32IsRefusedWhole(_ n: Int32) throws {
        let program = try Self.filter.compile()
        let x32 = Int32(bitPattern: SeccompFilter.x32Bit) | n
        #expect(run(program, arch: x86_64, nr: x32) == eperm)
        var other = Self.filter
        other.x32Action = .killProcess
        #expect(run(try other.compile(), arch: x86_64, nr: x32) == .killProcess)
    }

    @Test func otherArchitecturesGetTheirAction() throws {
        let program = try Self.filter.compile()
        #expect(run(program, arch: aarch64, nr: nr("getpid", .aarch64)) == .killProcess)
        #expect(run(program, arch: 0x4000_0028 /* arm */, nr: 20) == .killProcess)
        var f = Self.filter
        f.otherArchitectureAction = .errno(SeccompErrno.ENOSYS)
        #expect(run(try f.compile(), arch: aarch64, nr: 1) == .errno(SeccompErrno.ENOSYS))
    }

    @Test func aarch64UsesItsOwnTable() throws {
        let f = SeccompFilter(defaultAction: .allow, rules: [SeccompRule("reboot", eperm), SeccompRule("open", eperm)],
                              architectures: [.aarch64])
        let program = try f.compile()
        #expect(run(program, arch: aarch64, nr: 142) == eperm)  // reboot on aarch64
        #expect(run(program, arch: aarch64, nr: 169) == .allow)  // gettimeofday there
        #expect(run(program, arch: x86_64, nr: 169) == .killProcess)  // not covered
    }

    @Test func firstMatchingRuleWins() throws {
        let f = SeccompFilter(
            defaultAction: .errno(99),
            rules: [SeccompRule("write", where: [.arg(0, .equals(2))], .allow), SeccompRule("write", .log),
                    SeccompRule("write", eperm)],
            architectures: [.x86_64])
        let program = try f.compile()
        #expect(run(program, arch: x86_64, nr: 1, args: [2]) == .allow)
        #expect(run(program, arch: x86_64, nr: 1, args: [1]) == .log)
        #expect(run(program, arch: x86_64, nr: 0) == .errno(99))
    }

    @Test func theDefaultActionAppliesToUnlistedCalls() throws {
        let f = SeccompFilter(defaultAction: .killProcess, rules: [SeccompRule("read", .allow)], architectures: [.x86_64])
        let program = try f.compile()
        #expect(run(program, arch: x86_64, nr: 0) == .allow)
        #expect(run(program, arch: x86_64, nr: 1) == .killProcess)
    }

    /// The ptrace engine's shape: many calls trapped, the rest allowed, on both ABIs. Also big
    /// enough that jumps need trampolines (a conditional jump reaches 255 instructions).
    @Test func manyRulesNeedFarJumps() throws {
        let names = Array(Architecture.x86_64.syscalls.map(\.name).filter { Architecture.i386.number(of: $0) != nil }.prefix(120))
        let rules = names.enumerated().map { i, name in
            SeccompRule(name, where: [.arg(0, .in((0..<4).map { UInt64($0 + i) }))], .trace(UInt16(i)))
        }
        let f = SeccompFilter(defaultAction: .allow, rules: rules, architectures: [.x86_64, .i386])
        let program = try f.compile()
        #expect(program.count > 1500)
        #expect(program.contains { $0.code == BPF.ja })
        for (i, name) in names.enumerated() {
            for abi in [Architecture.x86_64, .i386] {
                let n = nr(name, abi)
                #expect(run(program, arch: abi.auditArch, nr: n, args: [UInt64(i + 2)]) == .trace(UInt16(i)), "\(abi) \(name)")
                #expect(run(program, arch: abi.auditArch, nr: n, args: [UInt64(i + 4)]) == .allow, "\(abi) \(name)")
            }
        }
    }

    /// The dispatch on the number is a binary search: a call's verdict, listed or not, takes
    /// a dozen or so instructions however many calls the filter lists (the ptrace engine's
    /// lists about 90 on each ABI), and the unconditional ones share their returns.
    @Test func aVerdictTakesLogarithmicallyFewInstructions() throws {
        let names = Array(Architecture.x86_64.syscalls.map(\.name).filter { Architecture.i386.number(of: $0) != nil }.prefix(150))
        let rules = names.enumerated().map { i, name in SeccompRule(name, i % 3 == 0 ? .userNotify : .trace(0)) }
        let f = SeccompFilter(defaultAction: .allow, rules: rules, architectures: [.x86_64, .i386])
        let program = try f.compile()
        #expect(program.count < 2 * names.count * 2, "\(program.count) instructions")
        let listed = Set(names)
        for abi in [Architecture.x86_64, .i386] {
            for n in Int32(0)...460 {
                var steps = 0
                let got = try BPFInterpreter.run(program, on: SeccompData(nr: n, arch: abi.auditArch), steps: &steps)
                let name = abi.syscalls.first { $0.number == n }?.name
                let expected = f.verdict(arch: abi.auditArch, nr: n, args: [])
                #expect(SeccompAction(returnValue: got) == expected, "\(abi) \(n)")
                #expect(steps <= 20, "\(abi) \(n) (\(name ?? "-"), \(listed.contains(name ?? "") ? "listed" : "unlisted")): \(steps) instructions")
            }
        }
    }

    @Test func tooLongAProgramIsAnError() {
        let rules = (0..<3000).map { i in SeccompRule("write", where: [.arg(0, .equals(UInt64(i)))], eperm) }
        let f = SeccompFilter(defaultAction: .allow, rules: rules, architectures: [.x86_64])
        #expect(throws: SeccompError.self) { try f.compile() }
    }

    @Test func unknownNamesAndBadArgumentsAreErrors() {
        #expect(throws: SeccompError("seccomp: unknown system call 'rebooot'")) {
            try SeccompFilter(defaultAction: .allow, rules: [SeccompRule("rebooot", eperm)]).compile()
        }
        #expect(throws: SeccompError.self) {
            try SeccompFilter(defaultAction: .allow, rules: [SeccompRule("read", where: [.arg(6, .equals(0))], eperm)]).compile()
        }
        #expect(throws: SeccompError.self) {
            try SeccompFilter(defaultAction: .errno(4096)).compile()
        }
    }

    /// Every verdict of the compiled program agrees with the rules, over a grid of inputs.
    @Test func programAgreesWithRulesEverywhere() throws {
        let program = try Self.filter.compile()
        let values: [UInt64] = [0, 1, 2, 3, 7, 9, 15, 16, 17, 0x5412, 0x1000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
                                0xFFFF_FFFF_0000_0000, 0x1_0000_5412]
        for arch in [x86_64, i386, aarch64] {
            for n in Int32(0)...460 {
                for a in values.prefix(arch == x86_64 ? values.count : 4) {
                    for b in [UInt64(9), 15, 0x5412, 0x541C, 0x1_0000_0000, 3] {
                        let args = [a, b, a, a]
                        let expected = Self.filter.verdict(arch: arch, nr: n, args: args)
                        let got = run(program, arch: arch, nr: n, args: args)
                        if got != expected {
                            Issue.record("arch 0x\(String(arch, radix: 16)) nr \(n) args \(args): program \(String(describing: got)), rules \(expected)")
                            return
                        }
                    }
                }
            }
        }
    }

    @Test func everyProgramStartsByCheckingTheArchitecture() throws {
        let program = try SeccompFilter(defaultAction: .allow, rules: [], architectures: [.x86_64]).compile()
        #expect(program.first == BPFInstruction(code: BPF.ldAbsW, k: SeccompData.archOffset))
    }
}

struct InterpreterTests {
    @Test func refusesMalformedPrograms() {
        let d = SeccompData(nr: 0, arch: x86_64)
        #expect(throws: BPFRunError.empty) { try BPFInterpreter.run([], on: d) }
        #expect(throws: BPFRunError.ranOffTheEnd) { try BPFInterpreter.run([BPFInstruction(code: BPF.ldAbsW, k: 0)], on: d) }
        #expect(throws: BPFRunError.badLoad(pc: 0, offset: 64)) {
            try BPFInterpreter.run([BPFInstruction(code: BPF.ldAbsW, k: 64), BPFInstruction(code: BPF.retK, k: 0)], on: d)
        }
        #expect(throws: BPFRunError.badLoad(pc: 0, offset: 2)) {
            try BPFInterpreter.run([BPFInstruction(code: BPF.ldAbsW, k: 2), BPFInstruction(code: BPF.retK, k: 0)], on: d)
        }
        #expect(throws: BPFRunError.badJump(pc: 0)) {
            try BPFInterpreter.run([BPFInstruction(code: BPF.jeqK, jt: 5, jf: 0, k: 0), BPFInstruction(code: BPF.retK, k: 0)], on: d)
        }
        #expect(throws: BPFRunError.unknownOpcode(pc: 0, code: 0x07)) {
            try BPFInterpreter.run([BPFInstruction(code: 0x07, k: 0), BPFInstruction(code: BPF.retK, k: 0)], on: d)
        }
    }

    @Test func readsTheFieldsOfSeccompData() throws {
        let d = SeccompData(nr: 59, arch: x86_64, instructionPointer: 0x1122_3344_5566_7788,
                            args: [0xA, 0xB_0000_000C, 0, 0, 0, 0xDEAD_BEEF_0000_0001])
        func word(_ offset: UInt32, is value: UInt32) throws -> Bool {
            let p = [BPFInstruction(code: BPF.ldAbsW, k: offset), BPFInstruction(code: BPF.jeqK, jt: 0, jf: 1, k: value),
                     BPFInstruction(code: BPF.retK, k: 1), BPFInstruction(code: BPF.retK, k: 0)]
            return try BPFInterpreter.run(p, on: d) == 1
        }
        #expect(try word(0, is: 59))
        #expect(try word(4, is: x86_64))
        #expect(try word(8, is: 0x5566_7788))
        #expect(try word(12, is: 0x1122_3344))
        #expect(try word(16, is: 0xA))
        #expect(try word(24, is: 0xC))
        #expect(try word(28, is: 0xB))
        #expect(try word(56, is: 1))
        #expect(try word(60, is: 0xDEAD_BEEF))
    }

    @Test(arguments: [SeccompAction.allow, .log, .errno(1), .errno(4095), .trace(0), .trace(65535), .trap(2),
                      .userNotify, .killThread, .killProcess])
    func actionsRoundTrip(_ a: SeccompAction) {
        #expect(SeccompAction(returnValue: a.returnValue) == a)
    }

    /// The tables are sorted for `number(of:)`'s binary search: every name is found with its
    /// number, in Swift's own String order, and numbers map back to a name.
    @Test(arguments: Architecture.allCases)
    func tablesAreSortedAndSearchable(_ abi: Architecture) {
        let table = abi.syscalls
        #expect(table.count > 300)
        for (a, b) in zip(table, table.dropFirst()) { #expect(a.name < b.name, "\(a.name) before \(b.name)") }
        for entry in table {
            #expect(abi.number(of: entry.name) == entry.number, "\(entry.name)")
            #expect(abi.name(of: entry.number).flatMap { abi.number(of: $0) } == entry.number, "\(entry.number)")
        }
        for unknown in ["", "a", "zzz", "read ", "_", "openat3"] { #expect(abi.number(of: unknown) == nil, "\(unknown)") }
        #expect(abi.name(of: -1) == nil)
    }
}
