import BurrowSandbox

/// `linux-user-chroot [OPTIONS] ROOTDIR PROGRAM [ARGS...]`, as linux-user-chroot(8) and its
/// README describe it. Like the original, options are exact words before ROOTDIR and the
/// mounts happen in command-line order; PROGRAM is required (there is no default command).
/// The command runs as the caller (no uid change), in a root mounted nosuid, with
/// no_new_privs: what the original achieves with a setuid helper, Burrow gets from a user
/// namespace.
public enum LinuxUserChrootCommandLine {
    public static func parse(_ args: [String]) throws(UsageError) -> Invocation {
        var state = State()
        var i = 0
        var lastOption: OptionArguments?
        while i < args.count {
            let arg = args[i]
            if arg == "--" { i += 1; break }  // not in the original; allows a ROOTDIR that begins with '-'
            guard arg.hasPrefix("-"), arg != "-" else { break }
            guard let option = table[arg] else { throw UsageError("unknown option '\(arg)'") }
            let values = Array(args[(i + 1)...].prefix(option.metavars.count))
            guard values.count == option.metavars.count else {
                throw UsageError("\(arg) takes \(option.metavars.count == 1 ? "one argument" : "two arguments"): \(option.metavars.joined(separator: " "))")
            }
            try option.apply(&state, values, arg)
            if let stop = state.stop { return stop }
            lastOption = values.isEmpty ? nil : OptionArguments(option: arg, metavars: option.metavars, values: values)
            i += 1 + values.count
        }
        // An option just before ROOTDIR may have taken the ROOTDIR meant (`--mount-bind /etc ROOTDIR PROGRAM`).
        let taken = lastOption.map { " (\($0))" } ?? ""
        guard i < args.count else { throw UsageError("missing ROOTDIR and PROGRAM\(taken): \(usage)") }
        let rootdir = args[i]
        guard !rootdir.isEmpty else { throw UsageError("ROOTDIR is an empty string") }
        let command = Array(args[(i + 1)...])
        guard !command.isEmpty else { throw UsageError("missing PROGRAM after ROOTDIR '\(rootdir)'\(taken): \(usage)") }
        var spec = state.spec
        spec.root.path = try HostPath.argument(rootdir, option: "ROOTDIR")
        spec.root.takenAfter = lastOption
        spec.process.argv = command
        applySeccomp(state.seccompProfileVersion, to: &spec)
        do { try spec.validate() } catch { throw UsageError(error.message(in: terms)) }
        return .run(spec)
    }

    /// The spec's ideas by linux-user-chroot's options, for its errors (`SpecError`).
    public static let terms = SpecTerms([
        .rootfs: "ROOTDIR", .bindSource: "--mount-bind SOURCE", .bindDestination: "--mount-bind DEST",
        .proc: "--mount-proc", .dev: "--mount-devapi", .remountReadOnly: "--mount-readonly", .workingDirectory: "--chdir",
        .ipcNamespace: "--unshare-ipc",
    ])

    static let usage = "linux-user-chroot [OPTIONS] ROOTDIR PROGRAM ARGS..."

    /// `--seccomp-profile-version N`: the original's profiles by number.
    enum SeccompProfileVersion: Int, Sendable {
        /// -1, the default: no filter.
        case none = -1
        /// 0: the original's first profile (deny what changes the kernel, loads modules,
        /// mounts, makes namespaces, traces processes, and uncommon socket families).
        case v0 = 0
    }

    /// The one place the profile number becomes part of the spec.
    static func applySeccomp(_ version: SeccompProfileVersion, to spec: inout SandboxSpec) {
        switch version {
        case .none: spec.security.seccomp = .none
        case .v0: spec.security.seccomp = .linuxUserChroot0
        }
    }

    // MARK: - The table

    typealias Apply = @Sendable (inout State, [String], String) throws(UsageError) -> Void

    struct Option: Sendable {
        var name: String
        var metavars: [String]
        var help: String
        var apply: Apply
    }

    struct State {
        var spec = SandboxSpec(root: RootFS(path: HostPath("")))
        var seccompProfileVersion = SeccompProfileVersion.none
        var stop: Invocation?
    }

    static func op(_ make: @escaping @Sendable (GuestPath) -> SetupOp) -> Apply {
        return { (s: inout State, v: [String], name: String) throws(UsageError) in
            s.spec.operations.append(make(try GuestPath.insideRoot(v[0], option: name)))
        }
    }

    static func flag(_ set: @escaping @Sendable (inout State) -> Void) -> Apply {
        return { (s: inout State, _: [String], _: String) throws(UsageError) in set(&s) }
    }

    static let options: [Option] = [
        Option(name: "--unshare-ipc", metavars: [], help: "New SysV IPC namespace (and, as in the original, UTS)",
               apply: flag { $0.spec.namespaces.ipc = true; $0.spec.namespaces.uts = true }),
        Option(name: "--unshare-pid", metavars: [], help: "New PID namespace: only the command's own processes",
               apply: flag { $0.spec.namespaces.pid = true }),
        Option(name: "--unshare-net", metavars: [], help: "New, empty network stack: no network at all",
               apply: flag { $0.spec.namespaces.net = true }),
        Option(name: "--mount-proc", metavars: ["DIR"], help: "Mount procfs at DIR (the host's, without --unshare-pid)",
               apply: op { .proc(dest: $0) }),
        Option(name: "--mount-devapi", metavars: ["DIR"], help: "Mount the API devices (null, zero, urandom, pts...) at DIR",
               apply: op { .dev(dest: $0) }),
        Option(name: "--mount-readonly", metavars: ["DIR"], help: "Make DIR and what is mounted below it read-only",
               apply: op { .remountReadOnly(dest: $0) }),
        Option(name: "--mount-bind", metavars: ["SOURCE", "DEST"], help: "Bind the host path SOURCE at DEST inside ROOTDIR",
               apply: { (s: inout State, v: [String], n: String) throws(UsageError) in
                   guard !v[0].isEmpty else { throw UsageError("\(n): SOURCE is empty") }
                   let dest = try GuestPath.insideRoot(v[1], option: n)
                   // The original's binds keep device nodes usable (its README binds /dev).
                   s.spec.operations.append(.bind(BindMount(source: try HostPath.argument(v[0], option: n), destination: dest, allowDevices: true)))
               }),
        Option(name: "--chdir", metavars: ["DIR"], help: "Working directory inside ROOTDIR (default /)",
               apply: { (s: inout State, v: [String], n: String) throws(UsageError) in
                   s.spec.process.chdir = try GuestPath.insideRoot(v[0], option: n) }),
        Option(name: "--seccomp-profile-version", metavars: ["N"], help: "-1: no seccomp filter (default); 0: the original's profile 0",
               apply: { (s: inout State, v: [String], n: String) throws(UsageError) in
                   guard let number = Int(v[0]), let version = SeccompProfileVersion(rawValue: number) else {
                       throw UsageError("\(n): unknown profile version '\(v[0])' (known: -1 for none, 0)")
                   }
                   s.seccompProfileVersion = version }),
        Option(name: "--help", metavars: [], help: "Print this help and exit", apply: flag { $0.stop = .help }),
        Option(name: "--version", metavars: [], help: "Print the version and exit", apply: flag { $0.stop = .version }),
    ]

    static let table: [String: Option] = {
        var t: [String: Option] = [:]
        for o in options { t[o.name] = o }
        return t
    }()

    /// Generated from the table that parses.
    public static var help: String {
        var out = """
            Usage: \(usage)

            Run PROGRAM with ROOTDIR as its root directory, as the calling user (not
            root). ROOTDIR is mounted nosuid and setuid programs cannot gain privileges.
            Options apply in the order given; DIR and DEST are paths inside ROOTDIR.

            Options:

            """
        for o in options { out += HelpText.row(([o.name] + o.metavars).joined(separator: " "), o.help) }
        out += """

            Exit status: PROGRAM's own, or 1 if linux-user-chroot failed (also when PROGRAM
            could not be run); 128+N if PROGRAM was killed by signal N.

            This is Burrow answering to the name linux-user-chroot; see linux-user-chroot(1)
            for what differs from the original.

            """
        return out
    }
}
