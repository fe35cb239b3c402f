@testable import BurrowSeccomp
import BurrowSandbox
import Testing

/// burrow-oci's linux.seccomp, compiled: what the program decides for each call, checked by
/// running it in the BPF interpreter.
struct OCIRuleSetTests {
    static let x86 = Architecture.x86_64

    func decide(_ set: SeccompRuleSet, _ name: String, _ args: [UInt64] = [], arch: Architecture = x86,
                terminal: Bool = true) throws -> SeccompAction? {
        let context = SeccompProfiles.Context(pidNamespace: true, architectures: [.x86_64, .i386], allowTerminalInjection: !terminal)
        let filter = try #require(SeccompProfiles.filter(.rules(set), context))
        let program = try filter.compile()
        let nr = try #require(arch.number(of: name))
        return SeccompAction(returnValue: try BPFInterpreter.run(program, on: SeccompData(nr: nr, arch: arch.auditArch, args: args)))
    }

    @Test func allowListWithComparisons() throws {
        let set = SeccompRuleSet(defaultAction: .errno(38), coversI386: false, rules: [
            .init(names: ["read", "no_such_call", "write"], action: .allow),
            .init(names: ["personality"], action: .allow, comparisons: [.init(index: 0, op: .equal, value: 8)]),
            .init(names: ["kill"], action: .errno(1), comparisons: [.init(index: 1, op: .maskedEqual, value: 0xff, valueTwo: 9)]),
            .init(names: ["kill"], action: .allow),
            .init(names: ["dup2"], action: .allow, comparisons: [.init(index: 0, op: .atMost, value: 2)]),
            .init(names: ["dup3"], action: .allow, comparisons: [.init(index: 0, op: .above, value: 2)]),
            .init(names: ["close"], action: .allow, comparisons: [.init(index: 0, op: .below, value: 0)]),
            .init(names: ["ioctl"], action: .allow),
        ])
        #expect(try decide(set, "read") == .allow)
        #expect(try decide(set, "openat") == .errno(38))
        #expect(try decide(set, "personality", [8]) == .allow)
        #expect(try decide(set, "personality", [8 | 1 << 32]) == .errno(38))
        #expect(try decide(set, "kill", [1, 9]) == .errno(1))
        #expect(try decide(set, "kill", [1, 0x109]) == .errno(1))
        #expect(try decide(set, "kill", [1, 15]) == .allow)
        #expect(try decide(set, "dup2", [2]) == .allow)
        #expect(try decide(set, "dup2", [3]) == .errno(38))
        #expect(try decide(set, "dup3", [2]) == .errno(38))
        #expect(try decide(set, "dup3", [3]) == .allow)
        // `< 0` never holds: the rule is left out.
        #expect(try decide(set, "close", [0]) == .errno(38))
        // The terminal rule comes first, whatever the set allows.
        #expect(try decide(set, "ioctl", [0, 0x5412]) == .errno(1))
        #expect(try decide(set, "ioctl", [0, 0x5412], terminal: false) == .allow)
        // i386 is not covered: its calls are killed.
        #expect(try decide(set, "read", arch: .i386) == .killProcess)
    }

    @Test func i386IsCoveredWhenAsked() throws {
        let set = SeccompRuleSet(defaultAction: .allow, coversI386: true, rules: [.init(names: ["mount"], action: .errno(1))])
        #expect(try decide(set, "mount", arch: .i386) == .errno(1))
        #expect(try decide(set, "read", arch: .i386) == .allow)
    }
}
