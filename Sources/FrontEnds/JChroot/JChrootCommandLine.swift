import BurrowSandbox

/// `jchroot [OPTIONS] TARGET [--] [COMMAND [ARG...]]`, as jchroot(8) describes it: new PID,
/// mount and IPC namespaces always (and a user namespace: Burrow always has one), every
/// process killed when the command exits unless `-b`, mounts from an fstab(5) file.
///
/// Options are read as getopt_long reads them (`-u NAME`, `-uNAME`, `-UN`, `--user NAME`,
/// `--user=NAME`, unambiguous abbreviations such as `--host`), but they stop at TARGET: the
/// command keeps its own options (`jchroot T /bin/sh -c id` runs `sh -c id`; the original
/// would take `-c` for itself). Right after TARGET, options are still read up to a `--`,
/// so the original's `jchroot T -n box -- cmd` works too.
public enum JChrootCommandLine {
    public static func parse(_ args: [String], _ host: HostFacts) throws(UsageError) -> Invocation {
        var state = State()
        var i = try parseOptions(args, from: 0, into: &state)
        if let stop = state.stop { return stop }
        guard i < args.count else { throw UsageError("missing TARGET: \(usage)") }
        let target = args[i]
        guard !target.isEmpty else { throw UsageError("TARGET is an empty string") }
        i += 1
        if i < args.count, args[i] == "--" {
            i += 1
        } else if i < args.count, isOption(args[i]) {
            i = try parseOptions(args, from: i, into: &state)
            if let stop = state.stop { return stop }
        }
        var spec = state.spec
        spec.root.path = try HostPath.argument(target, option: "TARGET")
        let command = Array(args[i...])
        // The manual runs "a command or a shell": no command, a shell.
        spec.process.argv = command.isEmpty ? ["/bin/sh"] : command
        if let fstab = state.fstab {
            let text: String
            switch host.readFile(fstab) {
            case .success(let t): text = t
            case .failure(let why): throw UsageError("-f \(fstab): cannot read it: \(why)")
            }
            do { spec.operations = try Fstab.parse(text, file: fstab) } catch { throw UsageError("-f \(error)") }
        }
        try checkMaps(spec.identity)
        do { try spec.validate() } catch { throw UsageError(error.message(in: terms)) }
        return .run(spec)
    }

    /// The spec's ideas by jchroot's options; what it has no option for (it always makes
    /// new UTS and IPC namespaces) is said in the spec's words. fstab lines name the mounts.
    public static let terms = SpecTerms([
        .hostname: "-n/--hostname", .uid: "-u/--user", .gid: "-g/--group",
        .uidMap: "-M/--uid-map", .gidMap: "-G/--gid-map", .rootfs: "target",
        .workingDirectory: "-c/--chdir", .pidFile: "-p/--pidfile", .bindSource: "the fstab's bind source",
        .bindDestination: "the fstab's mount point",
    ])

    static let usage = "jchroot [OPTIONS] TARGET [--] [COMMAND [ARG...]]"

    static func isOption(_ arg: String) -> Bool { arg.hasPrefix("-") && arg != "-" }

    /// Reads options from `start`; returns the index of the first argument that is not one
    /// (after skipping a `--`), or stops early at `-h`.
    static func parseOptions(_ args: [String], from start: Int, into state: inout State) throws(UsageError) -> Int {
        var i = start
        while i < args.count, state.stop == nil {
            let arg = args[i]
            if arg == "--" { return i + 1 }
            guard isOption(arg) else { return i }
            i += 1
            if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                let option = try longOption(name)
                let shown = "--\(option.long)"
                if option.metavar == nil {
                    if inline != nil { throw UsageError("option '\(shown)' doesn't allow an argument") }
                    try option.apply(&state, "", shown)
                } else if let inline {
                    try option.apply(&state, inline, shown)
                } else {
                    guard i < args.count else { throw UsageError("option '\(shown)' requires an argument: \(option.metavar ?? "")") }
                    try option.apply(&state, args[i], shown)
                    i += 1
                }
                continue
            }
            // A cluster of short options: -UN, -uNAME, -u NAME.
            var rest = Substring(arg.dropFirst())
            while let c = rest.first, state.stop == nil {
                rest = rest.dropFirst()
                guard let option = options.first(where: { $0.short == c }) else {
                    throw UsageError("invalid option -- '\(c)'")
                }
                let shown = "-\(c)"
                if option.metavar == nil {
                    try option.apply(&state, "", shown)
                    continue
                }
                if !rest.isEmpty {
                    try option.apply(&state, String(rest), shown)
                } else {
                    guard i < args.count else { throw UsageError("option requires an argument -- '\(c)' (\(option.metavar ?? ""))") }
                    try option.apply(&state, args[i], shown)
                    i += 1
                }
                break
            }
        }
        return i
    }

    /// An exact long name, or an unambiguous abbreviation of one (as getopt_long allows).
    static func longOption(_ name: String) throws(UsageError) -> Option {
        if let exact = options.first(where: { $0.long == name }) { return exact }
        let candidates = options.filter { !name.isEmpty && $0.long.hasPrefix(name) }
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty { throw UsageError("unrecognized option '--\(name)'") }
        throw UsageError("option '--\(name)' is ambiguous; possibilities: \(candidates.map { "'--\($0.long)'" }.joined(separator: " "))")
    }

    /// A numeric `-u` must be inside the `-M` ranges, or the command would run as nobody.
    static func checkMaps(_ identity: Identity) throws(UsageError) {
        if let uid = identity.uid, !identity.uidMap.isEmpty, !identity.uidMap.contains(where: { $0.contains(inside: uid) }) {
            throw UsageError("-u \(uid) is not mapped by -M \(identity.uidMap.map(\.description).joined(separator: ","))")
        }
        if let gid = identity.gid, !identity.gidMap.isEmpty, !identity.gidMap.contains(where: { $0.contains(inside: gid) }) {
            throw UsageError("-g \(gid) is not mapped by -G \(identity.gidMap.map(\.description).joined(separator: ","))")
        }
    }

    /// `-M`/`-G`: records as the kernel's uid_map takes them (`ID-inside ID-outside length`,
    /// user_namespaces(7)) or as burrow's `INSIDE:OUTSIDE:COUNT`, separated by commas or
    /// newlines (jchroot turns commas into newlines and writes the map as given).
    static func idMaps(_ text: String, option: String) throws(UsageError) -> [IDMap] {
        var maps: [IDMap] = []
        for record in text.split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            let fields = record.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            if fields.isEmpty { continue }
            guard fields.count == 3, let a = UInt32(fields[0]), let b = UInt32(fields[1]), let c = UInt32(fields[2]) else {
                throw UsageError("\(option): '\(record)' is not a mapping 'ID-inside ID-outside length' (for example '0 100000 65536', or 0:100000:65536)")
            }
            guard c > 0 else { throw UsageError("\(option): '\(record)': the length must be at least 1") }
            maps.append(IDMap(inside: a, outside: b, count: c))
        }
        guard !maps.isEmpty else { throw UsageError("\(option): the mapping is empty") }
        return maps
    }

    // MARK: - The table

    typealias Apply = @Sendable (inout State, String, String) throws(UsageError) -> Void

    struct Option: Sendable {
        var short: Character
        var long: String
        /// nil: a flag without a value.
        var metavar: String?
        var help: String
        var apply: Apply
    }

    struct State {
        var spec: SandboxSpec = {
            var s = SandboxSpec(root: RootFS(path: HostPath("")))
            s.namespaces.pid = true
            s.namespaces.ipc = true
            return s
        }()
        /// The last `-f` wins, as in jchroot; read once the command line is known good.
        var fstab: String?
        var stop: Invocation?
    }

    static func flag(_ set: @escaping @Sendable (inout State) -> Void) -> Apply {
        return { (s: inout State, _: String, _: String) throws(UsageError) in set(&s) }
    }

    static let options: [Option] = [
        Option(short: "U", long: "new-user-ns", metavar: nil,
               help: "New user namespace: always done", apply: flag { _ in }),
        Option(short: "N", long: "new-network-ns", metavar: nil,
               help: "New network namespace: no network access", apply: flag { $0.spec.namespaces.net = true }),
        Option(short: "u", long: "user", metavar: "USER",
               help: "Run as USER: a uid, or a name in TARGET's /etc/passwd",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   guard !v.isEmpty else { throw UsageError("\(n): the user is empty") }
                   if let id = UInt32(v) {
                       guard id != UInt32.max else { throw UsageError("\(n): '\(v)' is not a valid uid") }
                       s.spec.identity.uid = id; s.spec.identity.userName = nil
                   } else {
                       s.spec.identity.userName = v; s.spec.identity.uid = nil
                   } }),
        Option(short: "g", long: "group", metavar: "GROUP",
               help: "Primary group: a gid, or a name in TARGET's /etc/group",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   guard !v.isEmpty else { throw UsageError("\(n): the group is empty") }
                   if let id = UInt32(v) {
                       guard id != UInt32.max else { throw UsageError("\(n): '\(v)' is not a valid gid") }
                       s.spec.identity.gid = id; s.spec.identity.groupName = nil
                   } else {
                       s.spec.identity.groupName = v; s.spec.identity.gid = nil
                   } }),
        Option(short: "f", long: "fstab", metavar: "FSTAB",
               help: "Mount what the fstab(5) file FSTAB lists, inside TARGET",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   guard !v.isEmpty else { throw UsageError("\(n): the file name is empty") }
                   s.fstab = v }),
        Option(short: "n", long: "hostname", metavar: "NAME",
               help: "Hostname inside (a new UTS namespace)",
               apply: { (s: inout State, v: String, _: String) throws(UsageError) in
                   s.spec.process.hostname = v; s.spec.namespaces.uts = true }),
        Option(short: "M", long: "uid-map", metavar: "MAP",
               help: "uid map 'INSIDE OUTSIDE LENGTH[,...]' (/etc/subuid)",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   s.spec.identity.uidMap = try idMaps(v, option: n) }),
        Option(short: "G", long: "gid-map", metavar: "MAP",
               help: "gid map, as -M (/etc/subgid)",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   s.spec.identity.gidMap = try idMaps(v, option: n) }),
        Option(short: "p", long: "pidfile", metavar: "FILE",
               help: "Write the command's host pid to FILE while it runs",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   guard !v.isEmpty else { throw UsageError("\(n): the file name is empty") }
                   s.spec.process.pidFile = try HostPath.argument(v, option: n) }),
        Option(short: "e", long: "env", metavar: "NAME=VALUE",
               help: "Set NAME to VALUE (repeatable); NAME alone unsets it",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   // The first '=' byte, as putenv finds it (by Character, "=" and a combining
                   // mark after it would be one character and no '=').
                   let scalars = v.unicodeScalars
                   guard let eq = scalars.firstIndex(of: "=") else {
                       guard !v.isEmpty else { throw UsageError("\(n): expected NAME=VALUE") }
                       s.spec.process.environment.append(.unset(v))  // putenv("NAME") unsets, as in jchroot
                       return
                   }
                   let name = String(scalars[..<eq])
                   guard !name.isEmpty else { throw UsageError("\(n): '\(v)' has no NAME before '='") }
                   s.spec.process.environment.append(.set(name, String(scalars[scalars.index(after: eq)...]))) }),
        Option(short: "c", long: "chdir", metavar: "DIR",
               help: "Working directory inside TARGET (default /)",
               apply: { (s: inout State, v: String, n: String) throws(UsageError) in
                   s.spec.process.chdir = try GuestPath.insideRoot(v, option: n) }),
        Option(short: "b", long: "background", metavar: nil,
               help: "Return when the command exits; what it started runs on",
               apply: flag { $0.spec.process.leftovers = .leftRunning }),
        Option(short: "h", long: "help", metavar: nil, help: "Print this help and exit", apply: flag { $0.stop = .help }),
        // Not in the original; long only, so no short letter can collide with a future one.
        Option(short: "\0", long: "version", metavar: nil, help: "Print the version and exit", apply: flag { $0.stop = .version }),
    ]

    /// Generated from the table that parses.
    public static var help: String {
        var out = """
            Usage: \(usage)

            Run COMMAND (default /bin/sh) with TARGET as its root directory, in new
            PID, mount, IPC and user namespaces, as an ordinary user. When COMMAND
            exits, every process it started is killed (unless -b). Options end at
            TARGET; a '--' right after TARGET ends any options given there.

            Options:

            """
        for o in options {
            let names = o.short == "\0" ? "    --\(o.long)" : "-\(o.short), --\(o.long)"
            out += HelpText.row([names, o.metavar].compactMap { $0 }.joined(separator: " "), o.help)
        }
        out += """

            Exit status: COMMAND's own, or 1 if jchroot failed (also when COMMAND
            could not be run); 128+N if COMMAND was killed by signal N.

            This is Burrow answering to the name jchroot; see jchroot(1) for what
            differs from the original.

            """
        return out
    }
}
