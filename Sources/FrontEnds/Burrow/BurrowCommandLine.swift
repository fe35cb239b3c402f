import BurrowSandbox

/// `burrow [OPTIONS] ROOTFS [--] [COMMAND [ARG...]]`
///
/// A small table-driven tokenizer rather than an argument-parser library: filesystem options
/// are order-sensitive (a later `--bind` may mount over an earlier `--tmpfs`), and a table
/// keeps `--help` generated from the very entries that parse.
public enum BurrowCommandLine {
    public static let version = "0.1.0"

    public static func parse(_ args: [String], _ facts: HostFacts = HostFacts()) throws(UsageError) -> Invocation {
        var state = ParseState()
        state.facts = facts
        var i = 0
        var rootfs: String?
        var lastOption: OptionArguments?
        while i < args.count {
            let arg = args[i]
            if arg == "--" {
                i += 1
                if rootfs == nil {
                    guard i < args.count else { throw UsageError("missing ROOTFS after '--'") }
                    rootfs = args[i]
                    i += 1
                    if i < args.count, args[i] == "--" { i += 1 }
                }
                break
            }
            if arg.hasPrefix("-"), arg != "-" {
                guard let option = table[arg] else {
                    if let hint = bwrapOnly[arg] { throw UsageError("unknown option '\(arg)': \(hint)") }
                    throw UsageError("unknown option '\(arg)'")
                }
                let values = Array(args[(i + 1)...].prefix(option.metavars.count))
                guard values.count == option.metavars.count else {
                    let what = option.metavars.joined(separator: " ")
                    throw UsageError("\(arg) needs \(option.metavars.count == 1 ? "an argument" : "\(option.metavars.count) arguments"): \(what)")
                }
                if !state.pendingLayers.isEmpty, !Self.overlayOptions.contains(arg) { throw Self.layersLeftOver }
                try option.apply(&state, values, arg)
                if state.stop != nil { return state.stop! }
                lastOption = values.isEmpty ? nil : OptionArguments(option: arg, metavars: option.metavars, values: values)
                i += 1 + values.count
                continue
            }
            rootfs = arg
            i += 1
            if i < args.count, args[i] == "--" { i += 1 }
            break
        }
        if !state.pendingLayers.isEmpty { throw Self.layersLeftOver }
        guard let rootfs else {
            throw UsageError("missing ROOTFS: the directory that becomes /" + (lastOption.map { " (\($0))" } ?? ""))
        }
        guard !rootfs.isEmpty else { throw UsageError("ROOTFS is an empty string") }
        if state.pendingSize != nil || state.pendingMode != nil {
            throw UsageError("--size/--perms must come right before the --tmpfs, --dir or --file they modify")
        }
        let command = Array(args[i...])
        var spec = state.spec
        spec.root.path = try HostPath.argument(rootfs, option: "ROOTFS")
        spec.root.takenAfter = lastOption
        if !command.isEmpty { spec.process.argv = command }
        do { try spec.validate() } catch { throw UsageError(error.message(in: terms)) }
        return .run(spec)
    }

    /// The spec's ideas by the options that set them, for its errors (`SpecError`).
    public static let terms = SpecTerms([
        .hostname: "--hostname", .utsNamespace: "--unshare-uts (or --unshare-all)",
        .ipcNamespace: "--unshare-ipc (or --unshare-all)", .mqueue: "--mqueue",
        .readOnlyRoot: "--ro-root", .rootOverlay: "--root-overlay", .rootTmpOverlay: "--root-tmp-overlay",
        .symlink: "--symlink", .symlinkTarget: "--symlink TARGET", .bindSource: "--bind SRC", .bindDestination: "--bind DEST",
        .uid: "--uid", .gid: "--gid", .rootInside: "--root", .uidMap: "--uid-map", .gidMap: "--gid-map", .qemu: "--qemu",
        .rootfs: "ROOTFS", .overlayDirectory: "--root-overlay", .tmpfs: "--tmpfs", .proc: "--proc", .dev: "--dev",
        .directory: "--dir", .remountReadOnly: "--remount-ro", .workingDirectory: "--chdir", .pidFile: "--pidfile",
        .fakeDatabase: "--fake-db", .dataFile: "--file DEST", .chmod: "--chmod DEST", .lockFile: "--lock-file",
        .infoDescriptor: "--info-fd", .jsonStatusDescriptor: "--json-status-fd", .blockDescriptor: "--block-fd",
        .seccompDescriptor: "--add-seccomp-fd", .commandIsPID1: "--as-pid-1", .pidNamespace: "--unshare-pid",
        .bindDescriptor: "--bind-fd",
        .overlay: "--overlay/--tmp-overlay/--ro-overlay DEST", .overlayLayer: "--overlay-src",
        .overlayUpper: "--overlay UPPER", .overlayWork: "--overlay WORK",
    ])

    // MARK: - The table

    typealias Apply = @Sendable (inout ParseState, [String], String) throws(UsageError) -> Void

    struct Option: Sendable {
        var names: [String]
        var metavars: [String]
        var group: Group
        var help: String
        var apply: Apply
    }

    enum Group: String, CaseIterable {
        case filesystem = "Filesystem (applied in the order given; DEST is a path inside the new root)"
        case namespaces = "Namespaces (user and mount are always new)"
        case identity = "Identity"
        case process = "Process"
        case emulation = "Emulation"
        case security = "Security"
        case general = "General"
    }

    struct ParseState {
        var spec = SandboxSpec(root: RootFS(path: HostPath("")))
        var pendingSize: UInt64?
        var pendingMode: UInt32?
        var stop: Invocation?
        var seccompGiven = false
        /// --overlay-src directories for the --overlay, --tmp-overlay or --ro-overlay next.
        var pendingLayers: [HostPath] = []
        /// The caller's world (the path of a --bind-fd descriptor).
        var facts = HostFacts()

        mutating func takeModifiers(for option: String, allowSize: Bool) throws(UsageError) -> (UInt64?, UInt32?) {
            if !allowSize, pendingSize != nil { throw UsageError("--size applies to --tmpfs only, not \(option)") }
            defer { pendingSize = nil; pendingMode = nil }
            return (pendingSize, pendingMode)
        }
    }

    static func bind(_ ro: Bool, dev: Bool, optional: Bool) -> Apply {
        return { (s: inout ParseState, v: [String], name: String) throws(UsageError) in
            let dest = try GuestPath.destination(v[1], option: name)
            s.spec.operations.append(.bind(BindMount(
                source: try HostPath.argument(v[0], option: name), destination: dest, readOnly: ro, allowDevices: dev, optional: optional)))
        }
    }

    static func descriptor(_ text: String, option: String) throws(UsageError) -> Int32 {
        guard let fd = Int32(text), fd >= 0 else { throw UsageError("\(option): '\(text)' is not a descriptor number") }
        return fd
    }

    static func dataFile(_ placement: DataFile.Placement) -> Apply {
        return { (s: inout ParseState, v: [String], name: String) throws(UsageError) in
            let fd = try descriptor(v[0], option: name)
            let d = try GuestPath.destination(v[1], option: name)
            let (_, mode) = try s.takeModifiers(for: name, allowSize: false)
            s.spec.operations.append(.file(DataFile(descriptor: fd, destination: d, placement: placement, mode: mode)))
        }
    }

    static func dest(_ make: @escaping @Sendable (GuestPath) -> SetupOp) -> Apply {
        return { (s: inout ParseState, v: [String], name: String) throws(UsageError) in
            s.spec.operations.append(make(try GuestPath.destination(v[0], option: name)))
        }
    }

    /// The options that take the --overlay-src directories given before them.
    static let overlayOptions = ["--overlay-src", "--overlay", "--tmp-overlay", "--ro-overlay"]
    static let layersLeftOver = UsageError(
        "--overlay-src must come right before another --overlay-src or the --overlay, --tmp-overlay or --ro-overlay it is a layer of")

    /// An overlay of the --overlay-src directories just before it (the last is the top layer).
    static func overlay(_ changes: @escaping @Sendable ([String], String) throws(UsageError) -> OverlayMount.Changes) -> Apply {
        return { (s: inout ParseState, v: [String], name: String) throws(UsageError) in
            let o = OverlayMount(layers: s.pendingLayers, changes: try changes(v, name),
                                 destination: try GuestPath.destination(v[v.count - 1], option: name))
            guard o.layers.count >= o.layersNeeded else {
                throw UsageError("\(name) needs at least \(o.layersNeeded == 1 ? "one --overlay-src before it" : "two --overlay-src before it (one alone is that directory: --ro-bind it)")")
            }
            s.spec.operations.append(.overlay(o))
            s.pendingLayers = []
        }
    }

    static func flag(_ set: @escaping @Sendable (inout ParseState) -> Void) -> Apply {
        return { (s: inout ParseState, _: [String], _: String) throws(UsageError) in set(&s) }
    }

    static let options: [Option] = [
        // Filesystem
        Option(names: ["--bind"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Bind the host path SRC at DEST, writable (nosuid,nodev)", apply: bind(false, dev: false, optional: false)),
        Option(names: ["--bind-try"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Like --bind, skipped if SRC does not exist", apply: bind(false, dev: false, optional: true)),
        Option(names: ["--ro-bind"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Bind SRC at DEST read-only (nosuid,nodev)", apply: bind(true, dev: false, optional: false)),
        Option(names: ["--ro-bind-try"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Like --ro-bind, skipped if SRC does not exist", apply: bind(true, dev: false, optional: true)),
        Option(names: ["--dev-bind"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Bind SRC at DEST, devices usable (nosuid only)", apply: bind(false, dev: true, optional: false)),
        Option(names: ["--dev-bind-try"], metavars: ["SRC", "DEST"], group: .filesystem,
               help: "Like --dev-bind, skipped if SRC does not exist", apply: bind(false, dev: true, optional: true)),
        Option(names: ["--bind-fd"], metavars: ["FD", "DEST"], group: .filesystem,
               help: "Bind what the open descriptor FD names at DEST, writable (checked to be that file still)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let fd = try descriptor(v[0], option: n)
                   s.spec.operations.append(.bind(try BindMount.fromDescriptor(fd, destination: v[1], readOnly: false, option: n, facts: s.facts))) }),
        Option(names: ["--ro-bind-fd"], metavars: ["FD", "DEST"], group: .filesystem,
               help: "Like --bind-fd, read-only",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let fd = try descriptor(v[0], option: n)
                   s.spec.operations.append(.bind(try BindMount.fromDescriptor(fd, destination: v[1], readOnly: true, option: n, facts: s.facts))) }),
        Option(names: ["--size"], metavars: ["BYTES"], group: .filesystem,
               help: "Size of the next --tmpfs (suffixes k, M, G)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.pendingSize = try Numbers.size(v[0], option: n) }),
        Option(names: ["--perms"], metavars: ["OCTAL"], group: .filesystem,
               help: "Mode of the next --tmpfs, --dir (default 0755), --file or --bind-data",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.pendingMode = try Numbers.mode(v[0], option: n) }),
        Option(names: ["--tmpfs"], metavars: ["DEST"], group: .filesystem,
               help: "Mount a new tmpfs at DEST (nosuid,nodev)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let d = try GuestPath.destination(v[0], option: n)
                   let (size, mode) = try s.takeModifiers(for: n, allowSize: true)
                   s.spec.operations.append(.tmpfs(dest: d, sizeBytes: size, mode: mode)) }),
        Option(names: ["--proc"], metavars: ["DEST"], group: .filesystem,
               help: "Mount procfs at DEST (new with --unshare-pid, else the host's)", apply: dest { .proc(dest: $0) }),
        Option(names: ["--dev"], metavars: ["DEST"], group: .filesystem,
               help: "Minimal /dev at DEST: null zero full random urandom tty pts shm, your terminal as console",
               apply: dest { .dev(dest: $0) }),
        Option(names: ["--mqueue"], metavars: ["DEST"], group: .filesystem,
               help: "Mount mqueue at DEST (needs --unshare-ipc)",
               apply: dest { .mqueue(dest: $0) }),
        Option(names: ["--dir"], metavars: ["DEST"], group: .filesystem,
               help: "Create the directory DEST (removed at exit if Burrow made it)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let d = try GuestPath.destination(v[0], option: n)
                   let (_, mode) = try s.takeModifiers(for: n, allowSize: false)
                   s.spec.operations.append(.dir(dest: d, mode: mode)) }),
        Option(names: ["--symlink"], metavars: ["TARGET", "DEST"], group: .filesystem,
               help: "Symlink DEST -> TARGET (removed at exit)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let d = try GuestPath.destination(v[1], option: n)
                   s.spec.operations.append(.symlink(target: v[0], dest: d)) }),
        Option(names: ["--file"], metavars: ["FD", "DEST"], group: .filesystem,
               help: "Create the file DEST with what can be read on descriptor FD (mode: --perms, default 0666)",
               apply: dataFile(.written)),
        Option(names: ["--bind-data"], metavars: ["FD", "DEST"], group: .filesystem,
               help: "Bind a file in memory, holding what can be read on FD, at DEST (default 0600)",
               apply: dataFile(.bound(readOnly: false))),
        Option(names: ["--ro-bind-data"], metavars: ["FD", "DEST"], group: .filesystem,
               help: "Like --bind-data, read-only", apply: dataFile(.bound(readOnly: true))),
        Option(names: ["--chmod"], metavars: ["OCTAL", "DEST"], group: .filesystem,
               help: "Change the mode of DEST, which must exist",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let mode = try Numbers.mode(v[0], option: n)
                   s.spec.operations.append(.chmod(dest: try GuestPath.destination(v[1], option: n), mode: mode)) }),
        Option(names: ["--remount-ro"], metavars: ["DEST"], group: .filesystem,
               help: "Make DEST and everything below it read-only", apply: dest { .remountReadOnly(dest: $0) }),
        Option(names: ["--ro-root"], metavars: [], group: .filesystem,
               help: "Mount ROOTFS itself read-only", apply: flag { $0.spec.root.readOnly = true }),
        Option(names: ["--root-overlay"], metavars: ["DIR"], group: .filesystem,
               help: "Writable overlay over ROOTFS, kept in DIR/upper",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard !v[0].isEmpty else { throw UsageError("--root-overlay needs a directory") }
                   s.spec.root.overlay = .keep(changes: try HostPath.argument(v[0], option: n)) }),
        Option(names: ["--overlay-src"], metavars: ["SRC"], group: .filesystem,
               help: "A layer (host directory) of the --overlay, --tmp-overlay or --ro-overlay that follows; the last is the top",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.pendingLayers.append(try HostPath.argument(v[0], option: n)) }),
        Option(names: ["--overlay"], metavars: ["UPPER", "WORK", "DEST"], group: .filesystem,
               help: "Overlay the layers at DEST, writes kept in the host directory UPPER (WORK: an empty directory on its filesystem)",
               apply: overlay { (v: [String], n: String) throws(UsageError) in
                   .kept(upper: try HostPath.argument(v[0], option: n), work: try HostPath.argument(v[1], option: n)) }),
        Option(names: ["--tmp-overlay"], metavars: ["DEST"], group: .filesystem,
               help: "Overlay the layers at DEST, writes gone at exit", apply: overlay { _, _ in .discarded }),
        Option(names: ["--ro-overlay"], metavars: ["DEST"], group: .filesystem,
               help: "Overlay two or more layers at DEST, read-only", apply: overlay { _, _ in .refused }),
        Option(names: ["--root-tmp-overlay"], metavars: [], group: .filesystem,
               help: "Writable overlay over ROOTFS, gone at exit",
               apply: flag { $0.spec.root.overlay = .discard }),
        // Namespaces
        Option(names: ["--unshare-user"], metavars: [], group: .namespaces,
               help: "Accepted for bwrap users: always done", apply: flag { _ in }),
        Option(names: ["--unshare-pid"], metavars: [], group: .namespaces,
               help: "New PID namespace; PID 1 reaps and forwards signals",
               apply: flag { $0.spec.namespaces.pid = true }),
        Option(names: ["--unshare-ipc"], metavars: [], group: .namespaces,
               help: "New IPC namespace", apply: flag { $0.spec.namespaces.ipc = true }),
        Option(names: ["--unshare-net"], metavars: [], group: .namespaces,
               help: "New network namespace: only lo, up",
               apply: flag { $0.spec.namespaces.net = true }),
        Option(names: ["--unshare-uts"], metavars: [], group: .namespaces,
               help: "New UTS namespace (hostname)", apply: flag { $0.spec.namespaces.uts = true }),
        Option(names: ["--unshare-cgroup"], metavars: [], group: .namespaces,
               help: "New cgroup namespace", apply: flag { $0.spec.namespaces.cgroup = true }),
        Option(names: ["--unshare-all"], metavars: [], group: .namespaces,
               help: "All of the above: pid, ipc, net, uts, cgroup",
               apply: flag { $0.spec.namespaces = .all }),
        Option(names: ["--share-net"], metavars: [], group: .namespaces,
               help: "Keep the host network (after --unshare-all)", apply: flag { $0.spec.namespaces.net = false }),
        Option(names: ["--hostname"], metavars: ["NAME"], group: .namespaces,
               help: "Hostname inside (needs --unshare-uts)",
               apply: { (s: inout ParseState, v: [String], _: String) throws(UsageError) in s.spec.process.hostname = v[0] }),
        // Identity
        Option(names: ["--uid"], metavars: ["UID"], group: .identity,
               help: "Run as UID inside (default: your own uid)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in s.spec.identity.uid = try Numbers.id(v[0], option: n) }),
        Option(names: ["--gid"], metavars: ["GID"], group: .identity,
               help: "Run as GID inside (default: your own gid)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in s.spec.identity.gid = try Numbers.id(v[0], option: n) }),
        Option(names: ["--root", "-0"], metavars: [], group: .identity,
               help: "Appear as root (uid 0, gid 0) inside; your /etc/subuid and /etc/subgid ranges are mapped from 1 (newuidmap), else auto fakes root on the ptrace engine",
               apply: flag { $0.spec.identity.uid = 0; $0.spec.identity.gid = 0 }),
        Option(names: ["--uid-map"], metavars: ["IN:HOST:COUNT"], group: .identity,
               help: "Map a uid range (newuidmap, /etc/subuid); repeatable",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in s.spec.identity.uidMap.append(try Numbers.idMap(v[0], option: n)) }),
        Option(names: ["--gid-map"], metavars: ["IN:HOST:COUNT"], group: .identity,
               help: "Map a gid range (newgidmap, /etc/subgid); repeatable",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in s.spec.identity.gidMap.append(try Numbers.idMap(v[0], option: n)) }),
        // Process
        Option(names: ["--chdir"], metavars: ["DIR"], group: .process,
               help: "Working directory inside (default /)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.process.chdir = try GuestPath.destination(v[0], option: n) }),
        Option(names: ["--setenv"], metavars: ["VAR", "VALUE"], group: .process,
               help: "Set VAR to VALUE",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard !v[0].isEmpty, !v[0].utf8.contains(UInt8(ascii: "=")) else { throw UsageError("\(n): '\(v[0])' is not a variable name") }
                   s.spec.process.environment.append(.set(v[0], v[1])) }),
        Option(names: ["--unsetenv"], metavars: ["VAR"], group: .process,
               help: "Remove VAR from the environment",
               apply: { (s: inout ParseState, v: [String], _: String) throws(UsageError) in s.spec.process.environment.append(.unset(v[0])) }),
        Option(names: ["--clearenv"], metavars: [], group: .process,
               help: "Start from an empty environment",
               apply: flag { $0.spec.process.environment.append(.clear) }),
        Option(names: ["--pidfile"], metavars: ["FILE"], group: .process,
               help: "Write the command's host pid to FILE (removed at exit)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard !v[0].isEmpty else { throw UsageError("\(n) needs a file name") }
                   s.spec.process.pidFile = try HostPath.argument(v[0], option: n) }),
        Option(names: ["--argv0"], metavars: ["NAME"], group: .process,
               help: "Start COMMAND with NAME as its argv[0]",
               apply: { (s: inout ParseState, v: [String], _: String) throws(UsageError) in s.spec.process.argv0 = v[0] }),
        Option(names: ["--lock-file"], metavars: ["DEST"], group: .process,
               help: "Hold a read lock on DEST (inside) while COMMAND runs",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.process.lockFiles.append(try GuestPath.destination(v[0], option: n)) }),
        Option(names: ["--info-fd"], metavars: ["FD"], group: .process,
               help: "Write JSON to descriptor FD once COMMAND runs: its pid, the namespaces' ids (as bwrap)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.process.reports.info = try descriptor(v[0], option: n) }),
        Option(names: ["--json-status-fd"], metavars: ["FD"], group: .process,
               help: "Write the same JSON on one line to FD, then COMMAND's exit code (as bwrap)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.process.reports.jsonStatus = try descriptor(v[0], option: n) }),
        Option(names: ["--block-fd"], metavars: ["FD"], group: .process,
               help: "Start only once a byte can be read on descriptor FD (or it is closed)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.process.blockDescriptor = try descriptor(v[0], option: n) }),
        Option(names: ["--die-with-parent"], metavars: [], group: .process,
               help: "Kill the sandbox when burrow's parent dies",
               apply: flag { $0.spec.process.dieWithParent = true }),
        Option(names: ["--new-session"], metavars: [], group: .process,
               help: "New session: no controlling terminal (stops TIOCSTI)",
               apply: flag { $0.spec.process.newSession = true }),
        Option(names: ["--as-pid-1"], metavars: [], group: .process,
               help: "With --unshare-pid: COMMAND itself is PID 1, with no init of burrow's to reap",
               apply: flag { $0.spec.process.commandIsPID1 = true }),
        Option(names: ["--keep-children"], metavars: [], group: .process,
               help: "Wait for leftover processes instead of killing them",
               apply: flag { $0.spec.process.leftovers = .waitedFor }),
        Option(names: ["--leave-running"], metavars: [], group: .process,
               help: "Return when the command exits; leftovers run on in the background",
               apply: flag { $0.spec.process.leftovers = .leftRunning }),
        // Emulation
        Option(names: ["--kernel-release"], metavars: ["RELEASE"], group: .emulation,
               help: "uname and /proc/sys/kernel/osrelease show RELEASE (or every field: PRoot's \\sysname\\...\\hwcap\\ form)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   do throws(FakeUname.ParseError) { s.spec.emulation.uname = try FakeUname(parsing: v[0]) } catch {
                       throw UsageError("\(n): \(error.message)")
                   } }),
        Option(names: ["--fake-db"], metavars: ["FILE"], group: .identity,
               help: "ptrace engine, faked ids: load and save the faked owners and modes in FILE (as fakeroot -i/-s)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard !v[0].isEmpty else { throw UsageError("\(n) needs a file name") }
                   s.spec.identity.fakeDatabase = try HostPath.argument(v[0], option: n) }),
        Option(names: ["--qemu"], metavars: ["COMMAND"], group: .emulation,
               help: "Run foreign-CPU programs through QEMU user mode ('qemu-ARCH [OPTIONS]'); the host's / appears at /host-rootfs",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   let words = v[0].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                   do throws(Qemu.OptionError) {
                       try Qemu.apply(words, to: &s.spec, hostArch: Qemu.hostArchitecture)
                   } catch { throw UsageError("\(n): \(error.message)") } }),
        // Security
        Option(names: ["--seccomp"], metavars: ["PROFILE"], group: .security,
               help: "none (default), default, linux-user-chroot-0, or a FILE of calls to deny (has a '/')",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard !s.seccompGiven else { throw UsageError("\(n) given twice: one profile only (a deny file can list any calls)") }
                   guard let p = SeccompProfile(argument: v[0]) else {
                       let names = SeccompProfile.named.map(\.name).joined(separator: ", ")
                       var hint = "choose \(names), or a file path with a '/' such as ./deny.txt"
                       if !v[0].isEmpty, v[0].allSatisfy(\.isNumber) { hint += "; for bwrap's --seccomp FD use --add-seccomp-fd FD" }
                       throw UsageError("\(n): unknown profile '\(v[0])' (\(hint))")
                   }
                   s.seccompGiven = true
                   s.spec.security.seccomp = p }),
        Option(names: ["--cap-add"], metavars: ["CAP"], group: .security,
               help: "Root inside keeps CAP (CAP_NET_RAW, or ALL): with --cap-add or --cap-drop it starts from none, in order",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.identity.capabilities = (s.spec.identity.capabilities ?? 0) | (try Numbers.capability(v[0], option: n)) }),
        Option(names: ["--cap-drop"], metavars: ["CAP"], group: .security,
               help: "Root inside does not keep CAP (or ALL)",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.identity.capabilities = (s.spec.identity.capabilities ?? 0) & ~(try Numbers.capability(v[0], option: n)) }),
        Option(names: ["--add-seccomp-fd"], metavars: ["FD"], group: .security,
               help: "Also install the compiled BPF program read from descriptor FD (libseccomp's export); repeatable",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   s.spec.security.callerPrograms.append(CallerSeccompProgram(descriptor: try descriptor(v[0], option: n))) }),
        Option(names: ["--allow-terminal-injection"], metavars: [], group: .security,
               help: "Let COMMAND type into your terminal (TIOCSTI)",
               apply: flag { $0.spec.security.allowTerminalInjection = true }),
        // General
        Option(names: ["--engine"], metavars: ["ENGINE"], group: .general,
               help: "auto (default), namespace, setuid or ptrace; BURROW_ENGINE sets the default",
               apply: { (s: inout ParseState, v: [String], n: String) throws(UsageError) in
                   guard let e = EngineChoice(rawValue: v[0]) else {
                       throw UsageError("\(n): unknown engine '\(v[0])' (choose auto, namespace, setuid or ptrace)")
                   }
                   s.spec.engine = e }),
        Option(names: ["--engines"], metavars: [], group: .general,
               help: "Print which engines this host allows (and why not), then exit",
               apply: flag { $0.stop = .engines }),
        Option(names: ["--verbose", "-v"], metavars: [], group: .general,
               help: "Print each setup step on stderr as it happens", apply: flag { $0.spec.verbose = true }),
        Option(names: ["--version"], metavars: [], group: .general,
               help: "Print the version and exit", apply: flag { $0.stop = .version }),
        Option(names: ["--help", "-h"], metavars: [], group: .general,
               help: "Print this help and exit", apply: flag { $0.stop = .help }),
    ]

    /// bwrap options users will try, and what to do instead.
    static let bwrapOnly: [String: String] = {
        let fd = "passing options through descriptors is not supported by burrow's command line (the bwrap name has it; burrow has --bind-fd, --file, --info-fd...)"
        let join = "joining an existing namespace is not supported by burrow's command line (the bwrap name has it)"
        var t = [
            "--disable-userns": "use --seccomp default, which refuses new user namespaces",
            "--exec-label": "SELinux labels are not supported", "--file-label": "SELinux labels are not supported",
            "--userns": join, "--pidns": join, "--userns2": join,
        ]
        for o in ["--args", "--userns-block-fd", "--sync-fd"] { t[o] = fd }
        return t
    }()

    static let table: [String: Option] = {
        var t: [String: Option] = [:]
        for o in options { for n in o.names { t[n] = o } }
        return t
    }()

    /// Generated from the same table that parses, so it cannot drift from behaviour.
    public static var help: String {
        var out = """
            Usage: burrow [OPTIONS] ROOTFS [--] [COMMAND [ARG...]]

            Run COMMAND (default /bin/sh) with the directory ROOTFS as its /, as an ordinary
            user: no root, no setuid. ROOTFS is mounted nosuid; when COMMAND exits, every
            process it left in the sandbox is killed (unless --keep-children).

            """
        for group in Group.allCases {
            out += "\n\(group.rawValue):\n"
            for o in options where o.group == group {
                out += HelpText.row(([o.names.joined(separator: ", ")] + o.metavars).joined(separator: " "), o.help)
            }
        }
        out += """

            Exit status: COMMAND's own; 128+N if it was killed by signal N; 125 if burrow
            itself failed; 126 if COMMAND was found but could not run; 127 if not found.

            Engines: namespace (unprivileged user namespaces, native speed); setuid (burrow
            installed setuid root, for hosts without them; the command runs as you, and
            --uid/--gid/--root, id maps and overlays are refused); ptrace (no namespaces, no
            privilege: paths translated as PRoot does; --uid/--gid/--root, --kernel-release
            and --qemu faked by the tracer). auto picks the first this host
            allows, in that order (--engines says which), and the ptrace engine for --root
            where the namespace engine has no subordinate ranges to map or only setuid mode
            would run. See burrow(1) for details.

            Compatibility names: installed (or symlinked) under these names, burrow reads
            that tool's command line instead (`NAME --help` for each):

            """
        for frontEnd in FrontEnds.all.dropFirst() {
            out += HelpText.row(frontEnd.name, frontEnd.summary, column: 22)
        }
        return out
    }
}
