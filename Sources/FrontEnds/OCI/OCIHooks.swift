import BurrowSandbox

/// config.json's `hooks`: host programs the runtime runs at points of the container's life,
/// each given the container's state (runtime-spec's JSON) on its standard input.
///
/// burrow-oci runs the ones that run in the runtime's namespaces: `prestart` and
/// `createRuntime` once `create` has built the container (before its command starts; its
/// set-up is then held before pivot_root, as the spec puts them), `poststart` once `start`
/// has released it, `poststop` once `delete` has removed it. The container's set-up runs
/// the two that run in the container's namespaces (`HeldProgram`, `ExecHold`):
/// `createContainer` once the container is built, before pivot_root (its path the
/// host's), and `startContainer` once released, in the new root, before the command (its
/// path the container's). Their state's pid is the container's init as they see it (1 in
/// its PID namespace), as runc gives them its container process's getpid().
public struct OCIHook: Equatable, Sendable {
    /// Absolute, on the host.
    public var path: String
    /// argv, argv[0] included (the path when absent).
    public var args: [String]
    /// The whole environment (`KEY=value`); empty: none.
    public var env: [String]
    /// Seconds before the hook is killed and counts as failed; nil: no limit.
    public var timeout: Int?

    public init(path: String, args: [String] = [], env: [String] = [], timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }

    /// As config.json has it (kept in the state directory, so that a later change of
    /// config.json does not change what `start` and `delete` run).
    public var json: JSON {
        var members: [(String, JSON)] = [("path", .string(path))]
        if !args.isEmpty { members.append(("args", .array(args.map(JSON.string)))) }
        if !env.isEmpty { members.append(("env", .array(env.map(JSON.string)))) }
        if let timeout { members.append(("timeout", .int(timeout))) }
        return .object(members)
    }
}

public struct OCIHooks: Equatable, Sendable {
    /// The stages of hooks: the first four run in the runtime's namespaces, the last two
    /// in the container's (by its set-up).
    public enum Stage: String, CaseIterable, Sendable { case prestart, createRuntime, poststart, poststop, createContainer, startContainer }
    public var stages: [Stage: [OCIHook]] = [:]
    public init() {}

    public subscript(_ stage: Stage) -> [OCIHook] { stages[stage] ?? [] }
    public var isEmpty: Bool { stages.values.allSatisfy(\.isEmpty) }

    public var json: JSON {
        .object(Stage.allCases.compactMap { s in self[s].isEmpty ? nil : (s.rawValue, .array(self[s].map(\.json))) })
    }

    /// `hooks` of config.json (or of the state directory's copy, `file`).
    public static func parse(_ value: JSON, file: String = "config.json") throws(UsageError) -> OCIHooks {
        try parse(Field("hooks", value, file: file))
    }

    static func parse(_ f: Field) throws(UsageError) -> OCIHooks {
        var hooks = OCIHooks()
        guard case .object(let members) = f.value else { throw f.wrong("an object") }
        for (key, _) in members {
            guard let list = try f.member(key) else { continue }
            guard let stage = Stage(rawValue: key) else { continue }  // unknown: ignored, as the runtime-spec asks
            var each: [OCIHook] = []
            for item in try list.items() { each.append(try hook(item)) }
            if !each.isEmpty { hooks.stages[stage] = each }
        }
        return hooks
    }

    /// A stage's hooks as the container's set-up runs them, with the state (its status
    /// `status`) on their standard input.
    public func held(_ stage: Stage, id: String, status: String, bundle: String, annotations: [(String, String)]) -> [HeldProgram] {
        let state = OCICommandLine.stateAroundPid(id: id, status: status, bundle: bundle, annotations: annotations)
        return self[stage].enumerated().map { i, hook in
            HeldProgram(name: "hooks.\(stage.rawValue)[\(i)] (\(hook.path))", path: hook.path, argv: hook.args, environment: hook.env,
                        timeout: hook.timeout, inputBeforePid: state.before, inputAfterPid: state.after)
        }
    }

    /// One hook, checked: an absolute path, strings, a positive timeout.
    static func hook(_ h: Field) throws(UsageError) -> OCIHook {
        guard let pathField = try h.member("path") else { throw h.missing("path") }
        let path = try pathField.string()
        guard path.startsWithSlash else { throw pathField.refuse("'\(path)' is not an absolute path") }
        var hook = OCIHook(path: path)
        if let args = try h.member("args") { hook.args = try args.strings() }
        if let env = try h.member("env") {
            for item in try env.items() {
                let entry = try item.string()
                guard entry.contains("=") else { throw item.refuse("'\(entry)' is not KEY=value") }
                hook.env.append(entry)
            }
        }
        if let t = try h.member("timeout") {
            guard let n = t.value.integer, n > 0, n <= 86_400 else { throw t.wrong("a number of seconds from 1 to 86400") }
            hook.timeout = Int(n)
        }
        return hook
    }
}
