import BurrowSandbox

/// `bwrap [OPTIONS...] [--] COMMAND [ARGS...]`, bubblewrap 0.11's command line (bwrap(1)),
/// for Flatpak, pressure-vessel, WebKitGTK and the other callers of bwrap.
///
/// bubblewrap has no ROOTFS: `/` is an empty tmpfs and the options assemble the tree in it
/// (`RootFS.fresh`). A bind onto `/` itself (`--ro-bind / /`, the common `--bind / /`) hides
/// everything mounted before it, so the last one becomes the root, as a bind of that tree,
/// and the operations before it are dropped: the same tree, on every engine.
///
/// Every option of bubblewrap 0.11 is recognised and mapped onto the spec; what an engine
/// cannot do is refused there, by name, never accepted and ignored.
public enum BwrapCommandLine {
    /// The bubblewrap release whose command line this is.
    public static let bubblewrapVersion = "0.11.1"
    public static var version: String { "bubblewrap \(bubblewrapVersion) (burrow \(BurrowCommandLine.version))" }

    /// How many `--args FD` may nest (an FD's arguments may hold another `--args`).
    static let argsDepthLimit = 16

    public static func parse(_ arguments: [String], _ facts: HostFacts) throws(UsageError) -> Invocation {
        var args = arguments
        var state = ParseState()
        var i = 0
        var argsDepth = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { i += 1; break }
            guard arg.hasPrefix("-") else { break }
            if arg == "--help" { return .text(help(invokedAs: facts.invokedName)) }
            if arg == "--version" { return .version }
            if arg == "--args" {
                // NUL-separated arguments read from a descriptor, parsed in place (Flatpak
                // passes its whole set this way, past the kernel's limit on argv).
                guard i + 1 < args.count else { throw UsageError("--args takes an argument") }
                argsDepth += 1
                guard argsDepth <= argsDepthLimit else { throw UsageError("--args: nested more than \(argsDepthLimit) deep") }
                let fd = try descriptor(args[i + 1], option: arg)
                let data: [UInt8]
                switch facts.readDescriptor(fd) {
                case .success(let bytes): data = bytes
                case .failure(let e): throw UsageError("--args \(fd): \(e.message)")
                }
                args.replaceSubrange(i..<(i + 2), with: Self.nulSeparated(data))
                continue
            }
            guard let option = table[arg] else { throw UsageError("Unknown option \(arg)") }
            let values = Array(args[(i + 1)...].prefix(option.metavars.count))
            guard values.count == option.metavars.count else {
                let count = ["no", "an", "two", "three"][min(option.metavars.count, 3)]
                throw UsageError("\(arg) takes \(count) argument\(option.metavars.count == 1 ? "" : "s"): \(option.metavars.joined(separator: " "))")
            }
            if !state.pendingLayers.isEmpty, !Self.overlayOptions.contains(arg) { throw Self.layersLeftOver }
            try option.apply(&state, values, arg, facts)
            i += 1 + values.count
        }
        if !state.pendingLayers.isEmpty { throw Self.layersLeftOver }
        if let pending = state.pendingOption {
            throw UsageError("\(pending) must be followed by an option it applies to (--tmpfs, --dir, --file...)")
        }
        let command = Array(args[i...])
        guard !command.isEmpty else { throw UsageError("No command specified") }
        var spec = state.spec
        spec.process.argv = command
        // bubblewrap sets PWD to where the command starts.
        spec.process.exportsWorkingDirectory = true
        // What bubblewrap creates on the host (mount points, --dir, --symlink) stays.
        spec.keepsCreatedEntries = true
        assembleRoot(&spec)
        if spec.process.chdir == nil, let cwd = facts.workingDirectory, let here = try? GuestPath.destination(cwd, option: "") {
            // bubblewrap stays in the caller's directory when the sandbox has it, else `/`.
            spec.process.chdir = here
            spec.process.chdirIsOptional = true
        }
        if spec.security.deniesUserNamespaces, state.unshareUser != "--unshare-user" {
            throw UsageError("--disable-userns requires --unshare-user")
        }
        if spec.namespaces.mapsFromCaller != nil {
            // (bubblewrap's words, the two spaces included)
            guard state.unshareUser == "--unshare-user" else { throw UsageError("--userns-block-fd requires --unshare-user") }
            guard spec.process.reports.info != nil else { throw UsageError("--userns-block-fd requires --info-fd") }
            if spec.security.deniesUserNamespaces { throw UsageError("--disable-userns is not compatible with  --userns-block-fd") }
        }
        if spec.namespaces.userToJoin != nil, let given = state.unshareUser {
            throw UsageError("--userns not compatible \(given)")
        }
        if let fd = state.seccompFD { spec.security.callerPrograms = [CallerSeccompProgram(descriptor: fd)] }
        spec.security.callerPrograms += state.addedSeccomp.map { CallerSeccompProgram(descriptor: $0) }
        if state.shareNet {
            guard state.unshareAll else { throw UsageError("--share-net must be used with --unshare-all") }
            spec.namespaces.net = false
        }
        do { try spec.validate() } catch { throw UsageError(error.message(in: terms)) }
        return .run(spec)
    }

    /// `/` from the operations: the last bind onto `/` is the root (what was mounted before
    /// it is hidden by it), else an empty tmpfs.
    static func assembleRoot(_ spec: inout SandboxSpec) {
        let last = spec.operations.lastIndex { op in
            if case .bind(let b) = op { return b.destination.components.isEmpty } else { return false }
        }
        guard let last, case .bind(let b) = spec.operations[last] else {
            spec.root = RootFS(path: HostPath("/"))
            spec.root.fresh = true
            return
        }
        spec.root = RootFS(path: b.source, readOnly: b.readOnly)
        spec.operations.removeSubrange(...last)
    }

    /// `a\0b\0` as `["a", "b"]`; a last argument without its NUL counts too.
    static func nulSeparated(_ data: [UInt8]) -> [String] {
        var parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if data.last == 0 || data.isEmpty { parts.removeLast() }
        return parts
    }

    static func descriptor(_ text: String, option: String) throws(UsageError) -> Int32 {
        // bubblewrap's words, which its callers' tests look for.
        guard let fd = Int32(text), fd >= 0 else { throw UsageError("Invalid fd: \(text)") }
        return fd
    }

    /// The spec's ideas by bwrap's options, for its errors (`SpecError`).
    public static let terms = SpecTerms([
        .hostname: "--hostname", .utsNamespace: "--unshare-uts (or --unshare-all)",
        .ipcNamespace: "--unshare-ipc (or --unshare-all)", .mqueue: "--mqueue", .symlink: "--symlink",
        .symlinkTarget: "--symlink SRC", .bindSource: "--bind SRC", .bindDestination: "--bind DEST",
        .uid: "--uid", .gid: "--gid", .rootfs: "--bind SRC /", .tmpfs: "--tmpfs", .proc: "--proc", .dev: "--dev",
        .directory: "--dir", .remountReadOnly: "--remount-ro", .workingDirectory: "--chdir",
        .dataFile: "--file DEST", .chmod: "--chmod PATH", .lockFile: "--lock-file", .infoDescriptor: "--info-fd",
        .jsonStatusDescriptor: "--json-status-fd", .blockDescriptor: "--block-fd", .bindDescriptor: "--bind-fd",
        .seccompDescriptor: "--seccomp/--add-seccomp-fd", .commandIsPID1: "Specifying --as-pid-1",
        .pidNamespace: "--unshare-pid", .userNamespaceDescriptor: "--userns", .pidNamespaceDescriptor: "--pidns",
        .overlay: "--overlay/--tmp-overlay/--ro-overlay DEST", .overlayLayer: "--overlay-src",
        .overlayUpper: "--overlay RWSRC", .overlayWork: "--overlay WORKDIR", .userNamespaceAfterSetupDescriptor: "--userns2", .mapsFromCallerDescriptor: "--userns-block-fd",
    ], failures: [.bindSource: "Can't find source path"])

    /// Options of bubblewrap 0.11 that Burrow recognises and does not do yet, and why.

    // MARK: - The table

    typealias Apply = @Sendable (inout ParseState, [String], String, HostFacts) throws(UsageError) -> Void

    struct Option: Sendable {
        var name: String
        var metavars: [String]
        var help: String
        var apply: Apply
    }

    struct ParseState {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/")))
        var pendingSize: UInt64?
        var pendingMode: UInt32?
        /// The --size or --perms waiting for the option it modifies.
        var pendingOption: String?
        var shareNet = false
        var unshareAll = false
        /// --unshare-user or --unshare-user-try (or --unshare-all) given: not with --userns.
        var unshareUser: String?
        /// `--seccomp FD` (the last one given) and `--add-seccomp-fd FD` (each): one or the other.
        var seccompFD: Int32?
        var addedSeccomp: [Int32] = []
        /// --overlay-src directories waiting for the --overlay, --tmp-overlay or --ro-overlay
        /// that takes them (which must come next).
        var pendingLayers: [HostPath] = []

        /// --size and --perms apply to the next option only.
        mutating func takeModifiers(for option: String, size allowed: Bool) throws(UsageError) -> (UInt64?, UInt32?) {
            if !allowed, pendingSize != nil { throw UsageError("--size is only supported for --tmpfs, not \(option)") }
            defer { pendingSize = nil; pendingMode = nil; pendingOption = nil }
            return (pendingSize, pendingMode)
        }

        mutating func modifierNotUsed(by option: String) throws(UsageError) {
            if let pending = pendingOption {
                throw UsageError("\(pending) does not apply to \(option) (only to --tmpfs, --dir, --file, --bind-data, --ro-bind-data)")
            }
        }
    }

    static func bind(_ ro: Bool, dev: Bool, optional: Bool) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            s.spec.operations.append(.bind(BindMount(
                source: try HostPath.argument(v[0], option: name), destination: try GuestPath.destination(v[1], option: name),
                readOnly: ro, allowDevices: dev, optional: optional)))
        }
    }

    /// --bind-fd, --ro-bind-fd (`BindMount.fromDescriptor`).
    static func bindDescriptor(_ ro: Bool) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, facts: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            let fd = try descriptor(v[0], option: name)
            s.spec.operations.append(.bind(try BindMount.fromDescriptor(fd, destination: v[1], readOnly: ro, option: name, facts: facts)))
        }
    }

    /// --cap-add, --cap-drop: from none (bubblewrap's start without privilege), in order.
    static func capability(add: Bool) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            let bits = try Numbers.capability(v[0], option: name)
            let now = s.spec.identity.capabilities ?? 0
            s.spec.identity.capabilities = add ? now | bits : now & ~bits
        }
    }

    static func dataFile(_ placement: DataFile.Placement) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            let fd = try descriptor(v[0], option: name)
            let d = try GuestPath.destination(v[1], option: name)
            let (_, mode) = try s.takeModifiers(for: name, size: false)
            s.spec.operations.append(.file(DataFile(descriptor: fd, destination: d, placement: placement, mode: mode)))
        }
    }

    static func dest(_ make: @escaping @Sendable (GuestPath) -> SetupOp) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            s.spec.operations.append(make(try GuestPath.destination(v[0], option: name)))
        }
    }

    /// --exec-label, --file-label: SELinux contexts. Where SELinux is off they mean nothing and
    /// bubblewrap ignores them (its label calls do nothing then): so does Burrow. Where it is
    /// on, Burrow cannot set them, and says so rather than run the command unlabelled.
    static let label: Apply = { (s: inout ParseState, v: [String], name: String, facts: HostFacts) throws(UsageError) in
        try s.modifierNotUsed(by: name)
        if facts.selinuxEnabled() {
            throw UsageError("\(name): SELinux is enabled here, and Burrow does not set SELinux labels")
        }
    }

    /// The options that take the --overlay-src directories given before them.
    static let overlayOptions = ["--overlay-src", "--overlay", "--tmp-overlay", "--ro-overlay"]
    static let layersLeftOver = UsageError(
        "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay")

    /// --overlay, --tmp-overlay, --ro-overlay: an overlay of the --overlay-src directories
    /// just before it (bubblewrap's order: the last one given is the top layer).
    static func overlay(_ changes: @escaping @Sendable ([String], String) throws(UsageError) -> OverlayMount.Changes) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            let kind = try changes(v, name)
            let needed = kind == .refused ? 2 : 1
            guard s.pendingLayers.count >= needed else {
                throw UsageError("\(name) requires at least \(needed == 1 ? "one" : "two") --overlay-src")
            }
            let dest = try GuestPath.destination(v[v.count - 1], option: name)
            s.spec.operations.append(.overlay(OverlayMount(layers: s.pendingLayers, changes: kind, destination: dest)))
            s.pendingLayers = []
        }
    }

    static func flag(_ set: @escaping @Sendable (inout ParseState) -> Void) -> Apply {
        return { (s: inout ParseState, _: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            set(&s)
        }
    }

    static func reportDescriptor(_ set: @escaping @Sendable (inout StatusReports, Int32) -> Void) -> Apply {
        return { (s: inout ParseState, v: [String], name: String, _: HostFacts) throws(UsageError) in
            try s.modifierNotUsed(by: name)
            set(&s.spec.process.reports, try descriptor(v[0], option: name))
        }
    }

    static let options: [Option] = [
        Option(name: "--argv0", metavars: ["VALUE"], help: "Set argv[0] to the value VALUE before running the program",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.process.argv0 = v[0] }),
        Option(name: "--level-prefix", metavars: [], help: "Prepend e.g. <3> to diagnostic messages",
               apply: flag { $0.spec.levelPrefix = true }),
        Option(name: "--unshare-all", metavars: [], help: "Unshare every namespace we support by default",
               apply: flag {
                   $0.spec.namespaces = .all
                   $0.spec.namespaces.cgroupIsOptional = true
                   $0.unshareAll = true
                   $0.unshareUser = "--unshare-user-try" }),
        Option(name: "--share-net", metavars: [], help: "Retain the network namespace (can only combine with --unshare-all)",
               apply: flag { $0.shareNet = true }),
        Option(name: "--unshare-user", metavars: [], help: "Create new user namespace (always done by the namespace engine)",
               apply: flag { $0.unshareUser = "--unshare-user"; $0.spec.namespaces.userRequired = true }),
        Option(name: "--unshare-user-try", metavars: [], help: "Create new user namespace if possible else continue by skipping it",
               apply: flag { $0.unshareUser = "--unshare-user-try" }),
        Option(name: "--disable-userns", metavars: [], help: "Disable further use of user namespaces inside sandbox",
               apply: flag { $0.spec.security.deniesUserNamespaces = true }),
        Option(name: "--assert-userns-disabled", metavars: [], help: "Fail unless further use of user namespace inside sandbox is disabled",
               apply: flag { $0.spec.security.assertsUserNamespacesDisabled = true }),
        Option(name: "--userns", metavars: ["FD"], help: "Use this user namespace (cannot combine with --unshare-user)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.namespaces.userToJoin = try descriptor(v[0], option: n) }),
        Option(name: "--userns2", metavars: ["FD"], help: "After setup switch to this user namespace, only useful with --userns",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   if s.spec.namespaces.userAfterSetup != nil { s.spec.warnings.append("Only the last --userns2 option will take effect") }
                   s.spec.namespaces.userAfterSetup = try descriptor(v[0], option: n) }),
        Option(name: "--userns-block-fd", metavars: ["FD"], help: "Block on FD until the user namespace is ready",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.namespaces.mapsFromCaller = try descriptor(v[0], option: n) }),
        Option(name: "--pidns", metavars: ["FD"], help: "Use this pid namespace (as parent namespace if using --unshare-pid)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.namespaces.pidToJoin = try descriptor(v[0], option: n) }),
        Option(name: "--unshare-ipc", metavars: [], help: "Create new ipc namespace", apply: flag { $0.spec.namespaces.ipc = true }),
        Option(name: "--unshare-pid", metavars: [], help: "Create new pid namespace", apply: flag { $0.spec.namespaces.pid = true }),
        Option(name: "--unshare-net", metavars: [], help: "Create new network namespace", apply: flag { $0.spec.namespaces.net = true }),
        Option(name: "--unshare-uts", metavars: [], help: "Create new uts namespace", apply: flag { $0.spec.namespaces.uts = true }),
        Option(name: "--unshare-cgroup", metavars: [], help: "Create new cgroup namespace",
               apply: flag { $0.spec.namespaces.cgroup = true; $0.spec.namespaces.cgroupIsOptional = false }),
        Option(name: "--unshare-cgroup-try", metavars: [], help: "Create new cgroup namespace if possible else continue by skipping it",
               apply: flag {
                   if !$0.spec.namespaces.cgroup { $0.spec.namespaces.cgroupIsOptional = true }
                   $0.spec.namespaces.cgroup = true }),
        Option(name: "--uid", metavars: ["UID"], help: "Custom uid in the sandbox",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.identity.uid = try Numbers.id(v[0], option: n) }),
        Option(name: "--gid", metavars: ["GID"], help: "Custom gid in the sandbox",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.identity.gid = try Numbers.id(v[0], option: n) }),
        Option(name: "--hostname", metavars: ["NAME"], help: "Custom hostname in the sandbox (requires --unshare-uts)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.process.hostname = v[0] }),
        Option(name: "--chdir", metavars: ["DIR"], help: "Change directory to DIR",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   if s.spec.process.chdir != nil { s.spec.warnings.append("Only the last --chdir option will take effect") }
                   s.spec.process.chdir = try GuestPath.destination(v[0], option: n)
                   s.spec.process.chdirIsOptional = false }),
        Option(name: "--clearenv", metavars: [], help: "Unset all environment variables",
               apply: flag { $0.spec.process.environment.append(.clear) }),
        Option(name: "--setenv", metavars: ["VAR", "VALUE"], help: "Set an environment variable",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   guard !v[0].isEmpty, !v[0].utf8.contains(UInt8(ascii: "=")) else {
                       throw UsageError("\(n): '\(v[0])' is not a variable name")
                   }
                   s.spec.process.environment.append(.set(v[0], v[1])) }),
        Option(name: "--unsetenv", metavars: ["VAR"], help: "Unset an environment variable",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.process.environment.append(.unset(v[0])) }),
        Option(name: "--sync-fd", metavars: ["FD"], help: "Keep this fd open while sandbox is running (burrow holds it until it exits)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   // burrow's supervisor inherits it and never closes it: it closes when burrow
                   // exits, once nothing of the sandbox is left.
                   _ = try descriptor(v[0], option: n) }),
        Option(name: "--bind", metavars: ["SRC", "DEST"], help: "Bind mount the host path SRC on DEST",
               apply: bind(false, dev: false, optional: false)),
        Option(name: "--bind-try", metavars: ["SRC", "DEST"], help: "Equal to --bind but ignores non-existent SRC",
               apply: bind(false, dev: false, optional: true)),
        Option(name: "--dev-bind", metavars: ["SRC", "DEST"], help: "Bind mount the host path SRC on DEST, allowing device access",
               apply: bind(false, dev: true, optional: false)),
        Option(name: "--dev-bind-try", metavars: ["SRC", "DEST"], help: "Equal to --dev-bind but ignores non-existent SRC",
               apply: bind(false, dev: true, optional: true)),
        Option(name: "--ro-bind", metavars: ["SRC", "DEST"], help: "Bind mount the host path SRC readonly on DEST",
               apply: bind(true, dev: false, optional: false)),
        Option(name: "--ro-bind-try", metavars: ["SRC", "DEST"], help: "Equal to --ro-bind but ignores non-existent SRC",
               apply: bind(true, dev: false, optional: true)),
        Option(name: "--bind-fd", metavars: ["FD", "DEST"], help: "Bind open directory or path fd on DEST",
               apply: bindDescriptor(false)),
        Option(name: "--ro-bind-fd", metavars: ["FD", "DEST"], help: "Bind open directory or path fd read-only on DEST",
               apply: bindDescriptor(true)),
        Option(name: "--remount-ro", metavars: ["DEST"], help: "Remount DEST as readonly (with what is mounted below it)",
               apply: dest { .remountReadOnly(dest: $0) }),
        Option(name: "--overlay-src", metavars: ["SRC"], help: "Read files from SRC in the following overlay",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.pendingLayers.append(try HostPath.argument(v[0], option: n)) }),
        Option(name: "--overlay", metavars: ["RWSRC", "WORKDIR", "DEST"],
               help: "Mount overlayfs on DEST, with RWSRC as the host path for writes and WORKDIR an empty directory on the same filesystem as RWSRC",
               apply: overlay { (v: [String], n: String) throws(UsageError) in
                   .kept(upper: try HostPath.argument(v[0], option: n), work: try HostPath.argument(v[1], option: n)) }),
        Option(name: "--tmp-overlay", metavars: ["DEST"], help: "Mount overlayfs on DEST, with writes going to an invisible tmpfs",
               apply: overlay { _, _ in .discarded }),
        Option(name: "--ro-overlay", metavars: ["DEST"], help: "Mount overlayfs read-only on DEST",
               apply: overlay { _, _ in .refused }),
        Option(name: "--exec-label", metavars: ["LABEL"], help: "Exec label for the sandbox (SELinux hosts: refused)",
               apply: label),
        Option(name: "--file-label", metavars: ["LABEL"], help: "File label for temporary sandbox content (SELinux hosts: refused)",
               apply: label),
        Option(name: "--proc", metavars: ["DEST"], help: "Mount new procfs on DEST (the host's without --unshare-pid)",
               apply: dest { .proc(dest: $0) }),
        Option(name: "--dev", metavars: ["DEST"], help: "Mount new dev on DEST", apply: dest { .dev(dest: $0) }),
        Option(name: "--tmpfs", metavars: ["DEST"], help: "Mount new tmpfs on DEST",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   let d = try GuestPath.destination(v[0], option: n)
                   let (size, mode) = try s.takeModifiers(for: n, size: true)
                   s.spec.operations.append(.tmpfs(dest: d, sizeBytes: size, mode: mode)) }),
        Option(name: "--mqueue", metavars: ["DEST"], help: "Mount new mqueue on DEST (needs --unshare-ipc)",
               apply: dest { .mqueue(dest: $0) }),
        Option(name: "--dir", metavars: ["DEST"], help: "Create dir at DEST",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   let d = try GuestPath.destination(v[0], option: n)
                   let (_, mode) = try s.takeModifiers(for: n, size: false)
                   s.spec.operations.append(.dir(dest: d, mode: mode)) }),
        Option(name: "--symlink", metavars: ["SRC", "DEST"], help: "Create symlink at DEST with target SRC",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.operations.append(.symlink(target: v[0], dest: try GuestPath.destination(v[1], option: n))) }),
        Option(name: "--file", metavars: ["FD", "DEST"], help: "Copy from FD to destination DEST",
               apply: dataFile(.written)),
        Option(name: "--bind-data", metavars: ["FD", "DEST"], help: "Copy from FD to file which is bind-mounted on DEST",
               apply: dataFile(.bound(readOnly: false))),
        Option(name: "--ro-bind-data", metavars: ["FD", "DEST"], help: "Copy from FD to file which is readonly bind-mounted on DEST",
               apply: dataFile(.bound(readOnly: true))),
        Option(name: "--chmod", metavars: ["OCTAL", "PATH"], help: "Change permissions of PATH (must already exist)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   let mode = try Numbers.mode(v[0], option: n)
                   s.spec.operations.append(.chmod(dest: try GuestPath.destination(v[1], option: n), mode: mode)) }),
        Option(name: "--lock-file", metavars: ["DEST"], help: "Take a lock on DEST while sandbox is running",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.process.lockFiles.append(try GuestPath.destination(v[0], option: n)) }),
        Option(name: "--block-fd", metavars: ["FD"], help: "Block on FD until some data to read is available",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   s.spec.process.blockDescriptor = try descriptor(v[0], option: n) }),
        Option(name: "--seccomp", metavars: ["FD"], help: "Load and use seccomp rules from FD (not repeatable)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   guard s.addedSeccomp.isEmpty else { throw UsageError("--seccomp cannot be combined with --add-seccomp-fd") }
                   s.seccompFD = try descriptor(v[0], option: n) }),
        Option(name: "--add-seccomp-fd", metavars: ["FD"], help: "Load and use seccomp rules from FD (repeatable)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   try s.modifierNotUsed(by: n)
                   guard s.seccompFD == nil else { throw UsageError("--add-seccomp-fd cannot be combined with --seccomp") }
                   s.addedSeccomp.append(try descriptor(v[0], option: n)) }),
        Option(name: "--info-fd", metavars: ["FD"], help: "Write information about the running container to FD",
               apply: reportDescriptor { $0.info = $1 }),
        Option(name: "--json-status-fd", metavars: ["FD"], help: "Write container status to FD as multiple JSON documents",
               apply: reportDescriptor { $0.jsonStatus = $1 }),
        Option(name: "--new-session", metavars: [], help: "Create a new terminal session",
               apply: flag { $0.spec.process.newSession = true }),
        Option(name: "--die-with-parent", metavars: [], help: "Kills with SIGKILL child process (COMMAND) when bwrap or bwrap's parent dies.",
               apply: flag { $0.spec.process.dieWithParent = true }),
        Option(name: "--as-pid-1", metavars: [], help: "Do not install a reaper process with PID=1",
               apply: flag { $0.spec.process.commandIsPID1 = true }),
        Option(name: "--cap-add", metavars: ["CAP"], help: "Add cap CAP (uid 0 inside only)", apply: capability(add: true)),
        Option(name: "--cap-drop", metavars: ["CAP"], help: "Drop cap CAP", apply: capability(add: false)),
        Option(name: "--perms", metavars: ["OCTAL"], help: "Set permissions of next argument (--bind-data, --file, etc.)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   if let pending = s.pendingOption, pending == n { throw UsageError("--perms given twice for the same argument") }
                   s.pendingMode = try Numbers.mode(v[0], option: n)
                   s.pendingOption = n }),
        Option(name: "--size", metavars: ["BYTES"], help: "Set size of next argument (only for --tmpfs)",
               apply: { (s: inout ParseState, v: [String], n: String, _: HostFacts) throws(UsageError) in
                   if let pending = s.pendingOption, pending == n { throw UsageError("--size given twice for the same argument") }
                   s.pendingSize = try Numbers.size(v[0], option: n)
                   s.pendingOption = n }),
    ]

    static let table: [String: Option] = {
        var t: [String: Option] = [:]
        for o in options { t[o.name] = o }
        return t
    }()

    /// Every option of bubblewrap 0.11, in its help's order. (`BwrapCommandLineTests` checks
    /// this list against the table.)
    static let bubblewrapOptions = [
        "--help", "--version", "--args", "--argv0", "--level-prefix", "--unshare-all", "--share-net", "--unshare-user",
        "--unshare-user-try", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup",
        "--unshare-cgroup-try", "--userns", "--userns2", "--disable-userns", "--assert-userns-disabled", "--pidns", "--uid",
        "--gid", "--hostname", "--chdir", "--clearenv", "--setenv", "--unsetenv", "--lock-file", "--sync-fd", "--bind",
        "--bind-try", "--dev-bind", "--dev-bind-try", "--ro-bind", "--ro-bind-try", "--bind-fd", "--ro-bind-fd",
        "--remount-ro", "--overlay-src", "--overlay", "--tmp-overlay", "--ro-overlay", "--exec-label", "--file-label",
        "--proc", "--dev", "--tmpfs", "--mqueue", "--dir", "--file", "--bind-data", "--ro-bind-data", "--symlink",
        "--seccomp", "--add-seccomp-fd", "--block-fd", "--userns-block-fd", "--info-fd", "--json-status-fd",
        "--new-session", "--die-with-parent", "--as-pid-1", "--cap-add", "--cap-drop", "--perms", "--size", "--chmod",
    ]

    /// `usage: NAME ...`, NAME as the binary was invoked (bubblewrap prints its argv[0]).
    public static func help(invokedAs name: String) -> String {
        var out = "usage: \(name.isEmpty ? "bwrap" : name) [OPTIONS...] [--] COMMAND [ARGS...]\n\n"
        out += HelpText.row("--help", "Print this help", column: 36)
        out += HelpText.row("--version", "Print version", column: 36)
        out += HelpText.row("--args FD", "Parse NUL-separated args from FD", column: 36)
        for o in options {
            out += HelpText.row(([o.name] + o.metavars).joined(separator: " "), o.help, column: 36)
        }
        out += """

            Burrow's bwrap: the namespace engine where user namespaces work, else the ptrace
            engine for what it can express (BURROW_ENGINE=namespace|setuid|ptrace|auto).
            Exit status: COMMAND's own (128+N if killed by signal N); 1 if bwrap failed.

            """
        return out
    }
}
