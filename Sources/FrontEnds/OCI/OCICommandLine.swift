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
    /// Accepted: burrow-oci writes cgroupfs paths (a systemd slice:prefix:name cgroupsPath is refused).
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
    /// `--preserve-fds N`: the caller's descriptors 3 to 3+N-1 reach the container's process.
    public var preservedDescriptors: Int32 = 0
}

/// `exec`: another process in a running container, from a process.json (`--process`, what
/// podman's conmon sends) or from the container's own process with a command and overrides.
public struct OCIExecOptions: Equatable, Sendable {
    public var id: String
    /// A runtime-spec process object, read by the runtime (OCIConfig.execProcess).
    public var processFile: String?
    /// The command, when there is no --process.
    public var args: [String] = []
    /// Return once the process has started (its pid in --pid-file); else wait for it.
    public var detach = false
    public var pidFile: String?
    public var cwd: String?
    /// `--env NAME=VALUE`, in order: added to the container's process.env.
    public var environment: [String] = []
    public var uid: UInt32?
    public var gid: UInt32?
    public var additionalGids: [UInt32] = []
    public var noNewPrivileges = false
    /// `--tty`: a terminal of its own (process.terminal, when there is no --process).
    public var tty = false
    /// Where the terminal's master goes (process.terminal, or --tty).
    public var consoleSocket: String?
    /// `--preserve-fds N`: the caller's descriptors 3 to 3+N-1 reach the process at the same numbers.
    public var preservedDescriptors: Int32 = 0
    public init(id: String) { self.id = id }
}

/// `update`: new limits for the container's own cgroup, from a linux.resources object
/// (`--resources FILE`, `-` for standard input: what containerd and podman send) or from
/// runc's options, as linux.resources would say them.
public struct OCIUpdateOptions: Equatable, Sendable {
    public var id: String
    /// A file (`-`: standard input) with a linux.resources object, read by the runtime
    /// (OCIConfig.resources); the options then do not apply.
    public var resourcesFile: String?
    /// The options' limits (nil: unchanged).
    public var limits = CgroupLimits()
    /// Said, not refused: options runc ignores too.
    public var warnings: [String] = []
    public init(id: String) { self.id = id }
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
    case exec(OCIExecOptions)
    /// The container's processes, as pids of the caller's PID namespace.
    case ps(id: String, json: Bool)
    case pause(id: String)
    case resume(id: String)
    case update(OCIUpdateOptions)
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
        guard let sub = rest.first else { throw UsageError("a command is missing (create, start, state, kill, delete, run, exec, ps, pause, resume, update, list, features, spec)") }
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
        case "exec": command = .exec(try exec(&rest))
        case "ps":
            let (opts, positional) = try options(sub, &rest, flags: [], valued: ["--format", "-f"])
            // runc's ps passes what follows the ID to ps(1); burrow-oci lists pids only.
            guard positional.count <= 1 else { throw UsageError("ps: ps(1) options after the ID are not supported (burrow-oci lists pids)") }
            let format = opts["--format"] ?? opts["-f"] ?? "table"
            guard format == "table" || format == "json" else { throw UsageError("ps --format: '\(format)' is not table or json") }
            command = .ps(id: try oneID(sub, positional), json: format == "json")
        case "pause", "resume":
            let (_, ids) = try options(sub, &rest, flags: [], valued: [])
            let id = try oneID(sub, ids)
            command = sub == "pause" ? .pause(id: id) : .resume(id: id)
        case "update": command = .update(try update(&rest))
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
        var c = OCICreateOptions(id: try oneID(sub, ids), bundle: opts["--bundle"] ?? opts["-b"] ?? ".")
        if let n = opts["--preserve-fds"] { c.preservedDescriptors = try descriptorCount("\(sub) --preserve-fds", n) }
        c.pidFile = opts["--pid-file"]
        c.consoleSocket = opts["--console-socket"]
        c.detach = opts["--detach"] != nil || opts["-d"] != nil
        if opts["--keep"] != nil { throw UsageError("run --keep: burrow-oci removes a container run in the foreground when it ends") }
        return sub == "run" ? .run(c) : .create(c)
    }

    /// runc's exec: options, then the ID, then the command (whose own options are its
    /// arguments). Options may repeat (--env, --additional-gids).
    private static func exec(_ rest: inout ArraySlice<String>) throws(UsageError) -> OCIExecOptions {
        let flags: Set<String> = ["--detach", "-d", "--tty", "-t", "--no-new-privs", "--ignore-paused"]
        let valued: Set<String> = ["--process", "-p", "--pid-file", "--console-socket", "--cwd", "--env", "-e", "--user", "-u",
                                   "--additional-gids", "-g", "--cap", "-c", "--preserve-fds", "--process-label", "--apparmor",
                                   "--cgroup", "--pidfd-socket"]
        var o = OCIExecOptions(id: "")
        var id: String?
        var tty = false
        while let arg = rest.first {
            rest = rest.dropFirst()
            if arg == "--" {
                if id == nil, let next = rest.first { id = next; rest = rest.dropFirst() }
                o.args += rest
                rest = []
                break
            }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                // The ID; the rest is the command, its options included.
                id = arg
                o.args = Array(rest)
                rest = []
                break
            }
            let (name, inline) = split(arg)
            if flags.contains(name) {
                if let inline, inline != "true" {
                    if inline == "false" { continue }
                    throw UsageError("exec \(name) takes no value")
                }
                switch name {
                case "--detach", "-d": o.detach = true
                case "--tty", "-t": tty = true
                case "--no-new-privs": o.noNewPrivileges = true
                default: break  // --ignore-paused: a paused container is refused anyway (see pause)
                }
                continue
            }
            guard valued.contains(name) else {
                if name == "--help" || name == "-h" { throw UsageError("exec: see 'burrow-oci --help' or burrow-oci(1)") }
                throw UsageError("exec: unknown option \(name)")
            }
            let v = try value("exec \(name)", inline, &rest)
            switch name {
            case "--process", "-p": o.processFile = v
            case "--pid-file": o.pidFile = v
            case "--cwd":
                guard v.hasPrefix("/") else { throw UsageError("exec --cwd: '\(v)' is not an absolute path") }
                o.cwd = v
            case "--env", "-e":
                guard let eq = v.firstIndex(of: "="), eq != v.startIndex else { throw UsageError("exec --env: '\(v)' is not NAME=VALUE") }
                o.environment.append(v)
            case "--user", "-u":
                let parts = v.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                    throw UsageError("exec --user: '\(v)' is not UID[:GID] (numbers: names are the container's, which burrow-oci does not look up)")
                }
                o.uid = uid
                o.gid = parts.count == 2 ? UInt32(parts[1]) : nil
            case "--additional-gids", "-g":
                for gid in v.split(separator: ",") {
                    guard let n = UInt32(gid) else { throw UsageError("exec --additional-gids: '\(gid)' is not a group id") }
                    o.additionalGids.append(n)
                }
            case "--console-socket": o.consoleSocket = v
            case "--preserve-fds": o.preservedDescriptors = try descriptorCount("exec --preserve-fds", v)
            case "--cap", "-c": throw UsageError("exec --cap: adding capabilities is not supported yet (give process.capabilities in --process FILE)")
            case "--process-label": if !v.isEmpty { throw UsageError("exec --process-label: SELinux labels are not supported") }
            case "--apparmor": if !v.isEmpty { throw UsageError("exec --apparmor: AppArmor profiles are not supported") }
            case "--cgroup": throw UsageError("exec --cgroup: a sub-cgroup is not supported (exec's process joins the container's cgroup)")
            default: throw UsageError("exec --pidfd-socket: handing over a pidfd is not supported yet (use --pid-file)")
            }
        }
        o.tty = tty
        guard let id else { throw UsageError("exec: the container ID is missing") }
        o.id = try checkedID(id)
        if o.processFile != nil {
            guard o.args.isEmpty else { throw UsageError("exec: give either --process FILE or a command, not both") }
            let overrides = [(o.cwd != nil, "--cwd"), (!o.environment.isEmpty, "--env"), (o.uid != nil, "--user"),
                             (!o.additionalGids.isEmpty, "--additional-gids"), (o.noNewPrivileges, "--no-new-privs")]
            if let (_, name) = overrides.first(where: \.0) {
                throw UsageError("exec --process: \(name) does not apply (say it in the process file)")
            }
        } else if o.args.isEmpty {
            throw UsageError("exec: the command is missing (or give --process FILE)")
        }
        return o
    }

    /// runc's update: `--resources FILE` or the options, each the linux.resources setting
    /// named in the comment; an empty value is no change, as runc reads them.
    private static func update(_ rest: inout ArraySlice<String>) throws(UsageError) -> OCIUpdateOptions {
        let refused: [String: String] = [
            "--blkio-weight": "block IO limits are not supported yet",
            "--cpu-rt-period": "real-time CPU limits are not supported yet", "--cpu-rt-runtime": "real-time CPU limits are not supported yet",
            "--cpu-burst": "CPU burst is not supported yet", "--cpu-idle": "SCHED_IDLE cgroups are not supported yet",
            "--l3-cache-schema": "Intel RDT is not supported", "--mem-bw-schema": "Intel RDT is not supported",
        ]
        let limitOptions: Set<String> = ["--memory", "--memory-reservation", "--memory-swap", "--pids-limit", "--cpu-quota", "--cpu-period",
                                         "--cpu-share", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems"]
        let ignored: Set<String> = ["--kernel-memory", "--kernel-memory-tcp"]
        let (opts, ids) = try options("update", &rest, flags: [],
                                      valued: limitOptions.union(refused.keys).union(ignored).union(["--resources", "-r"]))
        var u = OCIUpdateOptions(id: try oneID("update", ids))
        // (runc reads an empty value, and 0 for these, as not given.)
        let given = opts.filter { !$0.value.isEmpty }
        for (name, why) in refused.sorted(by: { $0.key < $1.key }) where given[name].map({ $0 != "0" }) == true {
            throw UsageError("update \(name): \(why)")
        }
        for name in ignored.sorted() where given[name] != nil {
            u.warnings.append("update \(name): ignored, as runc ignores it: Linux no longer limits kernel memory on its own")
        }
        u.resourcesFile = given["--resources"] ?? given["-r"]
        if u.resourcesFile != nil {
            if let other = given.keys.sorted().first(where: limitOptions.contains) {
                throw UsageError("update: give either --resources FILE or options such as \(other), not both (runc ignores the options then)")
            }
            return u
        }
        func integer<N: FixedWidthInteger>(_ name: String, _: N.Type) throws(UsageError) -> N? {
            guard let text = given[name] else { return nil }
            guard let n = N(text) else { throw UsageError("update \(name): '\(text)' is not \(N.isSigned ? "an integer" : "a whole number")") }
            return n
        }
        func cpuList(_ name: String) throws(UsageError) -> String? {
            guard let text = given[name] else { return nil }
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "," || $0 == "-") }) else {
                throw UsageError("update \(name): '\(text)' is not a list of numbers and ranges (0-3,8)")
            }
            return text
        }
        func bytes(_ name: String) throws(UsageError) -> Int64? {
            guard let text = given[name] else { return nil }
            return try size("update \(name)", text)
        }
        u.limits.memory = try bytes("--memory")
        u.limits.memoryReservation = try bytes("--memory-reservation")
        u.limits.memorySwap = try bytes("--memory-swap")
        u.limits.pids = try integer("--pids-limit", Int64.self)
        u.limits.cpuQuota = try integer("--cpu-quota", Int64.self)
        u.limits.cpuPeriod = try integer("--cpu-period", UInt64.self)
        // (--cpu-share is runc's name; --cpu-shares docker's and podman's.)
        u.limits.cpuShares = try integer("--cpu-share", UInt64.self)
        if u.limits.cpuShares == nil { u.limits.cpuShares = try integer("--cpu-shares", UInt64.self) }
        u.limits.cpus = try cpuList("--cpuset-cpus")
        u.limits.mems = try cpuList("--cpuset-mems")
        return u
    }

    /// A size in bytes as runc's update reads one: a number, with k, m, g, t or p (powers of
    /// 1024, an `i` and a `b` after them allowed: 512m, 1GiB, 64kb); -1 is no limit.
    static func size(_ option: String, _ text: String) throws(UsageError) -> Int64 {
        if text == "-1" { return -1 }
        let wrong = UsageError("\(option): '\(text)' is not a size in bytes (a number, or one with k, m, g, t or p: 512m; -1: no limit)")
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { throw wrong }
        var unit = text.dropFirst(digits.count).lowercased()[...]
        if unit.hasPrefix(" ") { unit = unit.dropFirst() }
        if unit.hasSuffix("b") { unit = unit.dropLast() }
        if unit.count == 2, unit.hasSuffix("i") { unit = unit.dropLast() }
        let shifts: [Substring: Int64] = ["": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50]
        guard let shift = shifts[unit] else { throw wrong }
        guard n <= Int64.max >> shift else { throw UsageError("\(option): '\(text)' is too large") }
        return n << shift
    }

    /// runc's --preserve-fds N: how many descriptors after 2 are passed on.
    static func descriptorCount(_ option: String, _ text: String) throws(UsageError) -> Int32 {
        guard let n = Int32(text), n >= 0, n <= Int32.max - 3 else {
            throw UsageError("\(option): '\(text)' is not a number of descriptors (N passes on 3 to 3+N-1)")
        }
        return n
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
