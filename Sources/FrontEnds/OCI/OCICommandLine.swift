import BurrowSandbox

/// `burrow-oci`: runc's command line (the OCI runtime interface podman, containerd and
/// CRI-O speak). It only says what was asked: the runtime (Sources/burrow/OCIRuntime.swift)
/// reads the bundle, keeps the state and starts the container on the namespace engine.
public struct OCIInvocation: Equatable, Sendable {
    public var global = OCIGlobalOptions()
    public var command: OCICommand
}

/// runc's global options, given before the subcommand.
public struct OCIGlobalOptions: Equatable, Sendable {
    /// The state directory (one directory per container below it); nil: the default
    /// (`$XDG_RUNTIME_DIR/burrow-oci` for a user, `/run/burrow-oci` for root).
    public var root: String?
    /// Where messages go besides stderr (podman reads them from there).
    public var log: String?
    public var logJSON = false
    public var debug = false
    /// Accepted: Burrow makes no cgroup, systemd's or its own.
    public var systemdCgroup = false
    public init() {}
}

public struct OCICreateOptions: Equatable, Sendable {
    public var id: String
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    /// `run --detach`: create and start, return at once.
    public var detach = false
}

public enum OCICommand: Equatable, Sendable {
    case create(OCICreateOptions)
    case run(OCICreateOptions)
    case start(id: String)
    case state(id: String)
    case kill(id: String, signal: Int32, all: Bool)
    case delete(id: String, force: Bool)
    case list(json: Bool, quiet: Bool)
    case features
    case spec(bundle: String, rootless: Bool)
    case help
    case version
}

public enum OCICommandLine {
    public static let name = "burrow-oci"
    /// The runtime-spec version the configs and the state speak.
    public static let ociVersion = "1.0.2"

    public static var version: String {
        "burrow-oci version \(BurrowCommandLine.version)\nspec: \(ociVersion)"
    }

    /// runc's subcommands Burrow does not do yet, refused by name.
    static let unsupported: [String: String] = [
        "exec": "running another process in a container is not supported yet",
        "pause": "freezing a container needs the cgroup freezer, which burrow-oci does not use yet",
        "resume": "freezing a container needs the cgroup freezer, which burrow-oci does not use yet",
        "ps": "listing a container's processes is not supported yet",
        "update": "burrow-oci sets no cgroup limits, so none can be updated",
        "events": "container events are not supported",
        "checkpoint": "checkpoint and restore (CRIU) are not supported",
        "restore": "checkpoint and restore (CRIU) are not supported",
    ]

    public static func parse(_ args: [String]) throws(UsageError) -> OCIInvocation {
        var global = OCIGlobalOptions()
        var rest = args[...]
        // Global options, up to the subcommand.
        while let arg = rest.first, arg.hasPrefix("-") {
            rest = rest.dropFirst()
            let (name, inline) = split(arg)
            switch name {
            case "--help", "-h": return OCIInvocation(global: global, command: .help)
            case "--version", "-v": return OCIInvocation(global: global, command: .version)
            case "--debug": global.debug = true
            case "--systemd-cgroup": global.systemdCgroup = true
            case "--root": global.root = try value(name, inline, &rest)
            case "--log": global.log = try value(name, inline, &rest)
            case "--log-format":
                let v = try value(name, inline, &rest)
                guard v == "text" || v == "json" else { throw UsageError("--log-format: '\(v)' is not text or json") }
                global.logJSON = v == "json"
            case "--rootless":
                // runc's auto|true|false: burrow-oci is rootless whatever the caller.
                let v = try value(name, inline, &rest)
                guard ["auto", "true", "false"].contains(v) else { throw UsageError("--rootless: '\(v)' is not auto, true or false") }
            default: throw UsageError("unknown global option \(name)")
            }
        }
        guard let sub = rest.first else { throw UsageError("a command is missing (create, start, state, kill, delete, run, list, features, spec)") }
        rest = rest.dropFirst()
        if let why = unsupported[sub] { throw UsageError("\(sub): \(why)") }
        var command: OCICommand
        switch sub {
        case "create", "run": command = try create(sub, &rest)
        case "start", "state":
            let (_, ids) = try options(sub, &rest, flags: [], valued: [])
            let id = try oneID(sub, ids)
            command = sub == "start" ? .start(id: id) : .state(id: id)
        case "kill":
            let (opts, positional) = try options(sub, &rest, flags: ["--all", "-a"], valued: [])
            guard positional.count == 1 || positional.count == 2 else {
                throw UsageError("kill: expected ID [SIGNAL], got \(positional.count) arguments")
            }
            let signal = try positional.count == 2 ? Signal.number(positional[1]) : 15
            command = .kill(id: try checkedID(positional[0]), signal: signal, all: opts["--all"] != nil || opts["-a"] != nil)
        case "delete":
            let (opts, ids) = try options(sub, &rest, flags: ["--force", "-f"], valued: [])
            command = .delete(id: try oneID(sub, ids), force: opts["--force"] != nil || opts["-f"] != nil)
        case "list":
            let (opts, extra) = try options(sub, &rest, flags: ["--quiet", "-q"], valued: ["--format", "-f"])
            guard extra.isEmpty else { throw UsageError("list: unexpected argument '\(extra[0])'") }
            let format = opts["--format"] ?? opts["-f"] ?? "table"
            guard format == "table" || format == "json" else { throw UsageError("list --format: '\(format)' is not table or json") }
            command = .list(json: format == "json", quiet: opts["--quiet"] != nil || opts["-q"] != nil)
        case "features":
            let (_, extra) = try options(sub, &rest, flags: [], valued: [])
            guard extra.isEmpty else { throw UsageError("features: unexpected argument '\(extra[0])'") }
            command = .features
        case "spec":
            let (opts, extra) = try options(sub, &rest, flags: ["--rootless"], valued: ["--bundle", "-b"])
            guard extra.isEmpty else { throw UsageError("spec: unexpected argument '\(extra[0])'") }
            command = .spec(bundle: opts["--bundle"] ?? opts["-b"] ?? ".", rootless: opts["--rootless"] != nil)
        case "help": command = .help
        default: throw UsageError("unknown command '\(sub)'")
        }
        return OCIInvocation(global: global, command: command)
    }

    private static func create(_ sub: String, _ rest: inout ArraySlice<String>) throws(UsageError) -> OCICommand {
        var flags: Set<String> = ["--no-pivot", "--no-new-keyring"]
        if sub == "run" { flags.formUnion(["--detach", "-d", "--keep"]) }
        let (opts, ids) = try options(sub, &rest, flags: flags,
                                      valued: ["--bundle", "-b", "--pid-file", "--console-socket", "--preserve-fds"])
        if opts["--no-pivot"] != nil { throw UsageError("\(sub) --no-pivot: burrow-oci always enters the root with pivot_root") }
        if let n = opts["--preserve-fds"], n != "0" { throw UsageError("\(sub) --preserve-fds: passing descriptors on is not supported yet") }
        var c = OCICreateOptions(id: try oneID(sub, ids), bundle: opts["--bundle"] ?? opts["-b"] ?? ".")
        c.pidFile = opts["--pid-file"]
        c.consoleSocket = opts["--console-socket"]
        c.detach = opts["--detach"] != nil || opts["-d"] != nil
        if opts["--keep"] != nil { throw UsageError("run --keep: burrow-oci removes a container run in the foreground when it ends") }
        return sub == "run" ? .run(c) : .create(c)
    }

    /// `--name=value` -> ("--name", "value"); single-dash long names as urfave/cli takes them.
    static func split(_ arg: String) -> (String, String?) {
        var name = arg
        var inline: String?
        if let eq = arg.firstIndex(of: "=") {
            name = String(arg[..<eq])
            inline = String(arg[arg.index(after: eq)...])
        }
        if !name.hasPrefix("--"), name.count > 2 { name = "-" + name }
        return (name, inline)
    }

    static func value(_ name: String, _ inline: String?, _ rest: inout ArraySlice<String>) throws(UsageError) -> String {
        if let inline { return inline }
        guard let v = rest.first else { throw UsageError("\(name) needs a value") }
        rest = rest.dropFirst()
        return v
    }

    /// A subcommand's options (anywhere before `--`) and its other arguments.
    static func options(_ sub: String, _ rest: inout ArraySlice<String>, flags: Set<String>, valued: Set<String>)
        throws(UsageError) -> ([String: String], [String])
    {
        var opts: [String: String] = [:]
        var positional: [String] = []
        while let arg = rest.first {
            rest = rest.dropFirst()
            if arg == "--" { positional += rest; rest = []; break }
            guard arg.hasPrefix("-"), arg.count > 1 else { positional.append(arg); continue }
            let (name, inline) = split(arg)
            if flags.contains(name) {
                if let inline, inline != "true" {
                    if inline == "false" { continue }
                    throw UsageError("\(sub) \(name) takes no value")
                }
                opts[name] = ""
            } else if valued.contains(name) {
                opts[name] = try value("\(sub) \(name)", inline, &rest)
            } else if name == "--help" || name == "-h" {
                throw UsageError("\(sub): see 'burrow-oci --help' or burrow-oci(1)")
            } else {
                throw UsageError("\(sub): unknown option \(name)")
            }
        }
        return (opts, positional)
    }

    static func oneID(_ sub: String, _ ids: [String]) throws(UsageError) -> String {
        guard ids.count == 1 else {
            throw UsageError(ids.isEmpty ? "\(sub): the container ID is missing" : "\(sub): expected one container ID, got \(ids.count) arguments")
        }
        return try checkedID(ids[0])
    }

    /// runc's rule: letters, digits, `_`, `+`, `-` and `.`, not `.` or `..` (a directory name).
    public static func checkedID(_ id: String) throws(UsageError) -> String {
        let allowed = id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2B || b == 0x2D || b == 0x2E
        }
        guard !id.isEmpty, id.utf8.count <= 1024, allowed, id != ".", id != ".." else {
            throw UsageError("invalid container ID '\(id)': use letters, digits, '_', '+', '-' and '.'")
        }
        return id
    }
}

/// Signals by name (`TERM`, `SIGTERM`, `term`) or number, with Linux's numbers (the same on
/// x86_64 and arm64).
public enum Signal {
    static let names: [(String, Int32)] = [
        ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("IOT", 6), ("BUS", 7), ("FPE", 8),
        ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13), ("ALRM", 14), ("TERM", 15), ("STKFLT", 16),
        ("CHLD", 17), ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21), ("TTOU", 22), ("URG", 23), ("XCPU", 24),
        ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27), ("WINCH", 28), ("IO", 29), ("POLL", 29), ("PWR", 30), ("SYS", 31),
    ]

    public static func number(_ text: String) throws(UsageError) -> Int32 {
        if let n = Int32(text) {
            guard n >= 1, n <= 64 else { throw UsageError("kill: signal \(n) is out of range (1 to 64)") }
            return n
        }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        if let hit = names.first(where: { $0.0 == upper }) { return hit.1 }
        throw UsageError("kill: unknown signal '\(text)' (a name such as TERM or KILL, or a number)")
    }

    public static func name(_ number: Int32) -> String {
        names.first { $0.1 == number }.map { "SIG" + $0.0 } ?? "signal \(number)"
    }
}

extension OCICommandLine {
    /// The front-end table's entry: help and version as every name prints them.
    static func invocation(_ args: [String]) throws(UsageError) -> Invocation {
        let parsed = try parse(args)
        switch parsed.command {
        case .help: return .help
        case .version: return .version
        default: return .oci(parsed)
        }
    }
}
