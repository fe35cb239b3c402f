import BurrowSandbox

/// linux.seccomp as a `SeccompRuleSet` for Burrow's seccomp compiler. Actions, errnoRet,
/// the x86 architectures and argument comparisons are honoured; a listener (SCMP_ACT_NOTIFY,
/// listenerPath), filter flags and other architectures are refused by name.
enum OCISeccomp {
    static func ruleSet(_ f: Field) throws(UsageError) -> SeccompRuleSet {
        let defaultErrno = try f.member("defaultErrnoRet").map { (e) throws(UsageError) in try errno(e) }
        guard let defaultField = try f.member("defaultAction") else { throw f.refuse("defaultAction is missing") }
        var set = SeccompRuleSet(defaultAction: try action(defaultField, errnoRet: defaultErrno))
        if let archs = try f.member("architectures") {
            var i386 = false
            for item in try archs.items() {
                switch try item.string() {
                case "SCMP_ARCH_X86": i386 = true
                case "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM": break
                case let other: throw item.refuse("'\(other)' is not supported (SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64)")
                }
            }
            set.coversI386 = i386
        }
        if let flags = try f.member("flags"), flags.isSet { throw flags.refuse("seccomp filter flags are not supported yet") }
        if let path = try f.member("listenerPath"), path.isSet { throw path.refuse("a seccomp listener is not supported") }
        if let metadata = try f.member("listenerMetadata"), metadata.isSet { throw metadata.refuse("a seccomp listener is not supported") }
        for item in try f.member("syscalls")?.items() ?? [] {
            let names = try item.member("names")?.strings() ?? []
            guard !names.isEmpty else { throw item.refuse("names is missing") }
            guard let actionField = try item.member("action") else { throw item.refuse("action is missing") }
            let ret = try item.member("errnoRet").map { (e) throws(UsageError) in try errno(e) }
            var rule = SeccompRuleSet.Rule(names: names, action: try action(actionField, errnoRet: ret ?? defaultErrno))
            for arg in try item.member("args")?.items() ?? [] {
                guard let index = try arg.member("index")?.uint32(), index < 6 else { throw arg.refuse("index must be 0 to 5") }
                guard let opField = try arg.member("op") else { throw arg.refuse("op is missing") }
                let opName = try opField.string()
                guard let op = SeccompRuleSet.Comparison.Operator(rawValue: opName) else {
                    throw opField.refuse("'\(opName)' is not a comparison (\(SeccompRuleSet.Comparison.Operator.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                rule.comparisons.append(SeccompRuleSet.Comparison(
                    index: Int(index), op: op, value: try arg.member("value")?.uint64() ?? 0,
                    valueTwo: try arg.member("valueTwo")?.uint64() ?? 0))
            }
            set.rules.append(rule)
        }
        return set
    }

    static func errno(_ f: Field) throws(UsageError) -> UInt16 {
        let n = try f.uint32()
        guard n <= 4095 else { throw f.refuse("\(n) is above 4095") }
        return UInt16(n)
    }

    /// libseccomp's actions; SCMP_ACT_ERRNO without errnoRet is EPERM, as runc has it.
    static func action(_ f: Field, errnoRet: UInt16?) throws(UsageError) -> SeccompRuleSet.Action {
        switch try f.string() {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .killThread
        case "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_ERRNO": return .errno(errnoRet ?? 1)
        case "SCMP_ACT_TRAP": return .trap(errnoRet ?? 0)
        case "SCMP_ACT_TRACE": return .trace(errnoRet ?? 1)
        case "SCMP_ACT_NOTIFY": throw f.refuse("SCMP_ACT_NOTIFY: a seccomp listener is not supported")
        case let other: throw f.refuse("'\(other)' is not a seccomp action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, ...)")
        }
    }
}
