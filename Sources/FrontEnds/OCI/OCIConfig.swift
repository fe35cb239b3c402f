import BurrowSandbox

/// A bundle's `config.json` (runtime-spec 1.0) as a `SandboxSpec`. Pure: the runtime reads
/// the file and hands its text here. Every known field Burrow cannot honour is an error
/// that names it in the config's own terms (`linux.namespaces[2].path`), never dropped;
/// unknown fields are ignored, as the runtime-spec requires of a runtime.
public struct OCIConfig: Equatable, Sendable {
    public var spec: SandboxSpec
    /// Passed through to `state`.
    public var annotations: [(String, String)]
    /// The hooks burrow-oci runs (`OCIHooks`).
    public var hooks = OCIHooks()
    /// linux.namespaces lists "user": without it, a runtime run by root maps every id to
    /// itself (as runc shares the host's ids), which the runtime decides (it knows the caller).
    public var userNamespace = false

    public static func == (a: OCIConfig, b: OCIConfig) -> Bool {
        a.spec == b.spec && a.hooks == b.hooks && a.annotations.count == b.annotations.count
            && zip(a.annotations, b.annotations).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The config's words for the spec's ideas, for a `SpecError`.
    public static let terms = SpecTerms([
        .hostname: "hostname", .utsNamespace: "a \"uts\" entry in linux.namespaces",
        .ipcNamespace: "an \"ipc\" entry in linux.namespaces", .mqueue: "an mqueue mount",
        .readOnlyRoot: "root.readonly", .uid: "process.user.uid", .gid: "process.user.gid",
        .uidMap: "linux.uidMappings", .gidMap: "linux.gidMappings", .rootfs: "root.path",
        .workingDirectory: "process.cwd", .bindSource: "a bind mount's source", .bindDestination: "a mount's destination",
        .tmpfs: "a tmpfs mount", .proc: "a proc mount", .remountReadOnly: "linux.readonlyPaths",
        .device: "linux.devices",
        .joinedMountNamespace: "a \"mount\" namespace with a path", .joinedUserNamespace: "a \"user\" namespace with a path",
    ])

    /// `text` is config.json, `bundle` the bundle directory as given (absolute or relative
    /// to the caller's working directory): root.path and relative bind sources are under it.
    /// `callerIsHostRoot`: the runtime runs as root in the host's user namespace; a config
    /// that lists no user namespace then gets none (`Namespaces.keepsCallerUser`), as runc
    /// runs it.
    public static func parse(_ text: String, bundle: String, callerIsHostRoot: Bool = false) throws(UsageError) -> OCIConfig {
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw UsageError("config.json: \(error)") }
        var reader = Reader(bundle: bundle)
        reader.callerIsHostRoot = callerIsHostRoot
        return try reader.config(Field("", json))
    }
}

extension OCIConfig {
    /// exec's `--process FILE` (a runtime-spec process object: what podman's conmon sends)
    /// in place of the container's own process: args, env, cwd, user, capabilities,
    /// noNewPrivileges, rlimits, oomScoreAdj, checked as config.json's process is. The rest
    /// of `container` (namespaces, seccomp, ids maps) is the container's, as runc keeps it.
    public static func execProcess(_ text: String, file: String, container: SandboxSpec) throws(UsageError) -> SandboxSpec {
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw UsageError("\(file): \(error)") }
        guard case .object = json else { throw UsageError("\(file): expected a process object at the top") }
        var spec = container
        spec.process.environment = []
        spec.process.resourceLimits = []
        spec.process.umask = nil
        spec.process.oomScoreAdjustment = nil
        spec.identity.supplementaryGroups = []
        spec.security.capabilities = nil
        spec.process.console = nil  // (the file's own "terminal" says)
        var reader = Reader(bundle: "")
        reader.forExec = true
        try reader.process(Field("", json, file: file), into: &spec)
        return spec
    }

    /// exec with a command: the container's process.json with exec's overrides, as runc
    /// builds it (the command, --cwd, --env added, --user, --additional-gids, --no-new-privs).
    public static func execProcess(_ o: OCIExecOptions, container: SandboxSpec) throws(UsageError) -> SandboxSpec {
        var spec = container
        spec.process.argv = o.args
        for pair in o.environment {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            spec.process.environment.append(.set(String(pair[..<eq]), String(pair[pair.index(after: eq)...])))
        }
        if let cwd = o.cwd { spec.process.chdir = try GuestPath.destination(cwd, option: "exec --cwd") }
        if let uid = o.uid {
            spec.identity.uid = uid
            spec.identity.gid = o.gid ?? spec.identity.gid
        }
        spec.identity.supplementaryGroups += o.additionalGids
        spec.security.noNewPrivileges = spec.security.noNewPrivileges || o.noNewPrivileges
        // The container's own terminal is not exec's: --tty asks for one of its own.
        spec.process.console = o.tty ? ConsoleRequest(socket: -1) : nil
        return spec
    }
}

/// A value with the path that leads to it in the config, for messages.
struct Field {
    var path: String
    var value: JSON
    /// The file the value is in, for messages: config.json, or exec's --process file.
    var file = "config.json"
    init(_ path: String, _ value: JSON, file: String = "config.json") {
        self.path = path
        self.value = value
        self.file = file
    }

    func wrong(_ expected: String) -> UsageError {
        UsageError("\(file): \(path): expected \(expected), found \(value.kind)")
    }
    func refuse(_ why: String) -> UsageError { UsageError("\(file): \(path): \(why)") }
    /// `key` of this object is missing.
    func missing(_ key: String) -> UsageError { UsageError("\(file): \(sub(key).path) is missing") }

    /// A member's field (its value given), in the same file.
    func sub(_ key: String, _ v: JSON = .null) -> Field { Field(path.isEmpty ? key : "\(path).\(key)", v, file: file) }

    func member(_ key: String) throws(UsageError) -> Field? {
        guard case .object = value else { throw wrong("an object") }
        guard let v = value[key], v != .null else { return nil }
        return sub(key, v)
    }
    func string() throws(UsageError) -> String {
        guard case .string(let s) = value else { throw wrong("a string") }
        // A \u0000 would cut the string short where the kernel reads it (paths, argv, env).
        guard !s.utf8.contains(0) else { throw refuse("a NUL character (\\u0000) is not allowed here") }
        return s
    }
    func bool() throws(UsageError) -> Bool {
        guard case .bool(let b) = value else { throw wrong("a boolean") }
        return b
    }
    func uint64() throws(UsageError) -> UInt64 {
        guard case .number(let text) = value, let n = UInt64(text) else { throw wrong("an integer from 0 to 18446744073709551615") }
        return n
    }
    func int64() throws(UsageError) -> Int64 {
        guard case .number(let text) = value, let n = Int64(text) else { throw wrong("an integer from -9223372036854775808 to 9223372036854775807") }
        return n
    }
    func uint32() throws(UsageError) -> UInt32 {
        guard let n = value.integer, n >= 0, n <= Int64(UInt32.max) else { throw wrong("an integer from 0 to 4294967295") }
        return UInt32(n)
    }
    func items() throws(UsageError) -> [Field] {
        guard case .array(let a) = value else { throw wrong("an array") }
        return a.enumerated().map { Field("\(path)[\($0.offset)]", $0.element, file: file) }
    }
    func strings() throws(UsageError) -> [String] {
        var out: [String] = []
        for item in try items() { out.append(try item.string()) }
        return out
    }
    /// Present and not empty (`[]`, `{}`, `""` and `false` count as absent).
    var isSet: Bool {
        switch value {
        case .null: return false
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .string(let s): return !s.isEmpty
        case .bool(let b): return b
        default: return true
        }
    }
}

private struct Reader {
    let bundle: String
    /// Reading exec's process file: for a uid other than 0, effective and permitted may
    /// hold more than ambient (podman's exec --user writes the container's sets there).
    var forExec = false
    /// Reading update's --resources, where memory.checkBeforeUpdate means something.
    var forUpdate = false
    /// `OCIConfig.parse`'s.
    var callerIsHostRoot = false
    /// linux.namespaces lists a mount namespace (made or joined).
    var mountListed = true
    var userNamespace = false
    var cgroupNamespace = false

    func underBundle(_ path: String) -> String {
        if path.startsWithSlash { return path }
        return (bundle.hasSuffix("/") ? bundle : bundle + "/") + path
    }

    /// Refuses a known field that is present and not empty.
    func refuse(_ parent: Field, _ key: String, _ why: String) throws(UsageError) {
        if let f = try parent.member(key), f.isSet { throw f.refuse(why) }
    }

    mutating func config(_ top: Field) throws(UsageError) -> OCIConfig {
        guard case .object = top.value else { throw UsageError("config.json: expected an object at the top") }
        guard let version = try top.member("ociVersion")?.string() else { throw UsageError("config.json: ociVersion is missing") }
        guard version.hasPrefix("1.") else {
            throw UsageError("config.json: ociVersion: '\(version)' is not a 1.x runtime-spec version (burrow-oci reads \(OCICommandLine.ociVersion))")
        }
        guard let rootField = try top.member("root") else { throw UsageError("config.json: root is missing") }
        guard let rootPath = try rootField.member("path")?.string(), !rootPath.isEmpty else {
            throw UsageError("config.json: root.path is missing")
        }
        var spec = SandboxSpec(root: RootFS(path: HostPath(underBundle(rootPath)),
                                            readOnly: try rootField.member("readonly")?.bool() ?? false))
        // Only the namespace engine holds a container between create and start.
        spec.engine = .namespace
        spec.mountTableInOrder = true
        let hooks = try top.member("hooks").map(OCIHooks.parse) ?? OCIHooks()
        try refuse(top, "domainname", "a NIS domain name is not supported")
        if let hostname = try top.member("hostname") { spec.process.hostname = try hostname.string() }
        guard let process = try top.member("process") else { throw UsageError("config.json: process is missing") }
        try self.process(process, into: &spec)
        // A cgroup mount depends on whether the container has a cgroup namespace of its own.
        for ns in try top.member("linux")?.member("namespaces")?.items() ?? [] where try ns.member("type")?.string() == "cgroup" {
            if try ns.member("path")?.isSet != true { cgroupNamespace = true }
        }
        if let mounts = try top.member("mounts") {
            for m in try mounts.items() { if let op = try mount(m) { spec.operations.append(op) } }
        }
        // After the mounts: readonlyPaths are paths on them (/proc/sys).
        try self.linux(try top.member("linux") ?? Field("linux", .object([])), into: &spec)
        var annotations: [(String, String)] = []
        if let a = try top.member("annotations") {
            guard case .object(let members) = a.value else { throw a.wrong("an object") }
            for (key, value) in members {
                guard case .string(let s) = value else { throw Field("annotations.\(key)", value).wrong("a string") }
                annotations.append((key, s))
            }
        }
        if callerIsHostRoot, !userNamespace, spec.identity.uidMap.isEmpty, spec.identity.gidMap.isEmpty {
            spec.namespaces.keepsCallerUser = true
        }
        // No mount namespace listed: the container's mounts are the caller's, as runc makes
        // them, only where the container's root is root too.
        if !mountListed {
            guard spec.namespaces.keepsCallerUser else {
                throw UsageError("""
                    config.json: linux.namespaces: without a "mount" entry the container's root would be built in the caller's \
                    mount namespace, which only root on the host may do (with no "user" namespace either); list {"type": "mount"}
                    """)
            }
            spec.namespaces.keepsCallerMount = true
        }
        do { try spec.validate() } catch { throw UsageError("config.json: " + error.message(in: OCIConfig.terms)) }
        var config = OCIConfig(spec: spec, annotations: annotations)
        config.userNamespace = userNamespace
        config.hooks = hooks
        return config
    }

    func process(_ p: Field, into spec: inout SandboxSpec) throws(UsageError) {
        if let t = try p.member("terminal"), try t.bool() {
            // The runtime connects to --console-socket and fills in the descriptor.
            spec.process.console = ConsoleRequest(socket: -1)
            if let size = try p.member("consoleSize") {
                guard let h = try size.member("height"), let w = try size.member("width") else { throw size.missing("height") }
                let rows = try h.uint32(), columns = try w.uint32()
                guard rows <= UInt16.max, columns <= UInt16.max else { throw size.refuse("a terminal is at most 65535 by 65535") }
                spec.process.console?.rows = UInt16(rows)
                spec.process.console?.columns = UInt16(columns)
            }
        }
        guard let argsField = try p.member("args") else { throw p.missing("args") }
        let args = try argsField.strings()
        guard let first = args.first, !first.isEmpty else { throw argsField.refuse("the command is missing") }
        spec.process.argv = args
        var env: [EnvOp] = [.clear]
        if let e = try p.member("env") {
            for item in try e.items() {
                let s = try item.string()
                guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { throw item.refuse("'\(s)' is not NAME=VALUE") }
                env.append(.set(String(s[..<eq]), String(s[s.index(after: eq)...])))
            }
        }
        spec.process.environment = env
        guard let cwdField = try p.member("cwd") else { throw p.missing("cwd") }
        let cwd = try cwdField.string()
        guard cwd.startsWithSlash else { throw cwdField.refuse("'\(cwd)' is not an absolute path") }
        spec.process.chdir = try GuestPath.destination(cwd, option: "\(cwdField.file): \(cwdField.path)")
        if let user = try p.member("user") {
            spec.identity.uid = try user.member("uid")?.uint32() ?? 0
            spec.identity.gid = try user.member("gid")?.uint32() ?? 0
            if let gids = try user.member("additionalGids") {
                for item in try gids.items() { spec.identity.supplementaryGroups.append(try item.uint32()) }
            }
            if let umask = try user.member("umask") {
                let mask = try umask.uint32()
                guard mask <= 0o777 else { throw umask.refuse("\(mask) is not a umask (0 to 511, 0777)") }
                spec.process.umask = mask
            }
            try refuse(user, "username", "a user name is Windows's (use uid and gid)")
        } else {
            spec.identity.uid = 0
            spec.identity.gid = 0
        }
        // Absent means false, as the runtime-spec says.
        spec.security.noNewPrivileges = try p.member("noNewPrivileges")?.bool() ?? false
        if let caps = try p.member("capabilities") {
            spec.security.capabilities = try capabilities(caps, uid: spec.identity.uid ?? 0)
        }
        if let rlimits = try p.member("rlimits") {
            var seen = Set<String>()
            for item in try rlimits.items() {
                guard let typeField = try item.member("type") else { throw item.refuse("the type is missing") }
                let type = try typeField.string()
                guard ResourceLimit.numbers[type] != nil else { throw typeField.refuse("'\(type)' is not a resource limit (RLIMIT_NOFILE, ...)") }
                guard seen.insert(type).inserted else { throw typeField.refuse("\(type) is listed twice") }
                guard let hard = try item.member("hard")?.uint64(), let soft = try item.member("soft")?.uint64() else {
                    throw item.refuse("hard and soft are both needed")
                }
                guard soft <= hard else { throw item.refuse("the soft limit \(soft) is above the hard limit \(hard)") }
                spec.process.resourceLimits.append(ResourceLimit(resource: type, soft: soft, hard: hard))
            }
        }
        try refuse(p, "apparmorProfile", "AppArmor profiles are not supported")
        try refuse(p, "selinuxLabel", "SELinux labels are not supported")
        if let oom = try p.member("oomScoreAdj") {
            guard let n = oom.value.integer, n >= -1000, n <= 1000 else { throw oom.refuse("expected an integer from -1000 to 1000") }
            spec.process.oomScoreAdjustment = Int32(n)
        }
        try refuse(p, "ioPriority", "I/O priorities are not supported yet")
        try refuse(p, "scheduler", "a scheduling policy is not supported yet")
        try refuse(p, "execCPUAffinity", "CPU affinity is not supported yet")
    }

    mutating func linux(_ l: Field, into spec: inout SandboxSpec) throws(UsageError) {
        var mount = false
        if let namespaces = try l.member("namespaces") {
            var seen = Set<String>()
            for ns in try namespaces.items() {
                guard let typeField = try ns.member("type") else { throw ns.refuse("the namespace's type is missing") }
                let type = try typeField.string()
                guard seen.insert(type).inserted else { throw typeField.refuse("the \"\(type)\" namespace is listed twice") }
                // With a path: that namespace is joined (the runtime checks its kind), not made.
                var path: HostPath?
                if let p = try ns.member("path"), p.isSet {
                    let s = try p.string()
                    guard s.startsWithSlash else { throw p.refuse("'\(s)' is not an absolute path (a namespace file: /proc/PID/ns/...)") }
                    path = HostPath(s)
                }
                let kind: NamespaceKind
                switch type {
                case "pid": kind = .pid
                case "network": kind = .net
                case "ipc": kind = .ipc
                case "uts": kind = .uts
                case "cgroup": kind = .cgroup
                case "mount": kind = .mnt
                case "user": kind = .user
                case "time": throw typeField.refuse("a time namespace is not supported yet")
                default: throw typeField.refuse("'\(type)' is not a namespace type (pid, network, mount, ipc, uts, user, cgroup, time)")
                }
                // A mount namespace with a path is where the root is built, as runc builds it:
                // its processes see the container's mounts, and pivot_root moves those whose
                // root was its root (docs/compatibility.md).
                if let path { spec.namespaces.joined.append(NamespaceJoin(kind, path: path)) }
                switch kind {
                case .pid: spec.namespaces.pid = path == nil
                case .net: spec.namespaces.net = path == nil
                case .ipc: spec.namespaces.ipc = path == nil
                case .uts: spec.namespaces.uts = path == nil
                case .cgroup: spec.namespaces.cgroup = path == nil
                case .mnt: mount = true
                case .user: userNamespace = true  // Burrow makes one unless it is joined.
                }
            }
        }
        mountListed = mount
        spec.identity.uidMap = try maps(l.member("uidMappings"))
        spec.identity.gidMap = try maps(l.member("gidMappings"))
        if spec.namespaces.joined(.user) != nil {
            for key in ["uidMappings", "gidMappings"] {
                if let f = try l.member(key), f.isSet {
                    throw f.refuse("a joined user namespace (a \"user\" entry with a path) has its maps already")
                }
            }
        }
        for (key, isMask) in [("maskedPaths", true), ("readonlyPaths", false)] {
            for item in try l.member(key)?.items() ?? [] {
                let path = try GuestPath.destination(try item.string(), option: "config.json: \(item.path)")
                if isMask { spec.restrictedPaths.masked.append(path) } else { spec.restrictedPaths.readOnly.append(path) }
            }
        }
        if let seccomp = try l.member("seccomp"), seccomp.isSet {
            spec.security.seccomp = .rules(try OCISeccomp.ruleSet(seccomp))
        }
        if let propagation = try l.member("rootfsPropagation") {
            let p = try propagation.string()
            if !p.isEmpty {
                guard let given = MountPropagation(word: p) else {
                    throw propagation.refuse("'\(p)' is not a propagation (shared, slave, private, unbindable, or rshared, rslave, rprivate, runbindable)")
                }
                spec.root.propagation = given
            }
        }
        var limits = CgroupLimits()
        // (Before the device rules: a rule may allow a device the config makes.)
        for item in try l.member("devices")?.items() ?? [] { spec.devices.append(try device(item)) }
        if let resources = try l.member("resources") {
            try self.resources(resources, into: &limits, warnings: &spec.warnings, devices: spec.devices)
        }
        if let path = try l.member("cgroupsPath") {
            let p = try path.string()
            // systemd's "slice:prefix:name" form needs --systemd-cgroup, which burrow-oci refuses.
            if !p.startsWithSlash && p.contains(":") {
                throw path.refuse("'\(p)' is systemd's slice:prefix:name form; burrow-oci writes cgroupfs paths (/a/b, or a/b under its own cgroup)")
            }
            if p.split(separator: "/").contains("..") { throw path.refuse("'\(p)': '..' is not allowed in a cgroup path") }
            if !p.isEmpty { spec.cgroup = CgroupSpec(path: p, limits: limits) }
        }
        // Limits or device rules without a path: a cgroup named after the container, the
        // runtime's default (for rules that hold anyway, only where a device cgroup can be
        // had: `CgroupSpec.onlyForDevices`).
        if spec.cgroup == nil, !limits.isEmpty || !limits.devices.isEmpty { spec.cgroup = CgroupSpec(path: "", limits: limits) }
        if let sysctl = try l.member("sysctl") {
            guard case .object(let members) = sysctl.value else { throw sysctl.wrong("an object") }
            for (key, value) in members {
                let f = Field("\(sysctl.path).\(key)", value)
                guard case .string(let v) = value else { throw f.wrong("a string") }
                if let why = Sysctl.refusal(key, namespaces: spec.namespaces) { throw f.refuse(why) }
                spec.process.sysctls.append(Sysctl(name: key, value: v))
            }
        }
        try refuse(l, "mountLabel", "SELinux labels are not supported")
        try refuse(l, "intelRdt", "Intel RDT is not supported")
        try refuse(l, "personality", "execution domains are not supported yet")
        try refuse(l, "timeOffsets", "a time namespace is not supported yet")
    }

    /// linux.resources: pids, memory and cpu as limits of the container's cgroup, and the
    /// device rules (`DeviceRule`). Anything else is refused by name. memory.kernel is said
    /// and ignored, as runc ignores it (Linux does: kmem.limit_in_bytes has no effect since
    /// 6.1 and v2 has none).
    func resources(_ r: Field, into limits: inout CgroupLimits, warnings: inout [String], devices: [DeviceNode]) throws(UsageError) {
        guard case .object(let members) = r.value else { throw r.wrong("an object") }
        for (key, value) in members where Field(key, value).isSet {
            let f = Field("\(r.path).\(key)", value)
            switch key {
            case "devices":
                for (i, rule) in try f.items().enumerated() { limits.devices.append(try DeviceRule.parse(rule, index: i, made: devices)) }
            case "pids":
                guard let limit = try f.member("limit") else { throw f.missing("limit") }
                limits.pids = try limit.int64()
            case "memory":
                try memory(f, into: &limits, warnings: &warnings)
            case "cpu":
                try cpu(f, into: &limits)
            default:
                throw f.refuse("cgroup limits other than pids, memory and cpu are not supported yet")
            }
        }
    }

    /// linux.resources.devices, one rule, as data: whether a device cgroup is needed for it,
    /// and whether one can be had, is the runtime's to say (`CgroupLimits.writes`). A rule
    /// holds without one where the container's /dev already has what it says: Burrow's usual
    /// devices (null, zero, full, random, urandom, tty, a devpts' ptmx and pts), those the
    /// config's linux.devices makes (exactly that device: a wildcard would reach others),
    /// mknod alone (no node can be made in a user namespace), or any denial. So the rules
    /// runtimes send (deny all, then allow those devices, and mknod of any) hold rootless too.
    enum DeviceRule {
        static func parse(_ rule: Field, index: Int, made: [DeviceNode]) throws(UsageError) -> DeviceCgroupRule {
            let allow = try rule.member("allow")?.bool() ?? false
            let typeName = try rule.member("type")?.string() ?? "a"
            guard let kind = DeviceCgroupRule.Kind(rawValue: typeName) else {
                throw rule.sub("type").refuse("'\(typeName)' is not a device cgroup type (a, b or c)")
            }
            // (Absent: all three, as the kernel reads a line without them.)
            let access = try rule.member("access")?.string() ?? "rwm"
            guard !access.isEmpty, Set(access).isSubset(of: Set("rwm")), Set(access).count == access.count else {
                throw rule.sub("access").refuse("'\(access)' is not r, w and m, each at most once")
            }
            func number(_ key: String) throws(UsageError) -> Int64? {
                guard let f = try rule.member(key), f.isSet else { return nil }
                guard let n = f.value.integer, n >= -1, n <= Int64(UInt32.max) else { throw f.wrong("a device number or -1") }
                return n < 0 ? nil : n
            }
            let major = try number("major"), minor = try number("minor")
            let standard = kind == .character && major != nil
                && DeviceCgroupRule.burrowDev.contains { d in d.major == major && (d.minor == nil || d.minor == minor) }
            let listed = major != nil && minor != nil && made.contains { d in
                d.kind.rawValue == kind.rawValue && Int64(d.major) == major && Int64(d.minor) == minor
            }
            return DeviceCgroupRule(allow: allow, kind: kind, major: major, minor: minor, access: "rwm".filter(access.contains),
                                    holdsWithoutCgroup: !allow || access == "m" || standard || listed, index: index)
        }
    }

    func memory(_ f: Field, into limits: inout CgroupLimits, warnings: inout [String]) throws(UsageError) {
        guard case .object(let members) = f.value else { throw f.wrong("an object") }
        for (key, value) in members where value != .null {
            let m = f.sub(key, value)
            switch key {
            case "limit": limits.memory = try m.int64()
            case "reservation": limits.memoryReservation = try m.int64()
            case "swap": limits.memorySwap = try m.int64()
            case "kernelTCP": limits.kernelTCP = try m.int64()
            case "swappiness":
                let n = try m.uint64()
                guard n <= 100 else { throw m.refuse("\(n) is not from 0 to 100") }
                limits.swappiness = n
            case "disableOOMKiller": limits.disableOOMKiller = try m.bool()
            case "kernel":
                _ = try m.int64()
                warnings.append("\(m.file): \(m.path): ignored, as runc ignores it: Linux no longer limits kernel memory on its own (memory.kmem.limit_in_bytes has no effect since 6.1; v2 has no such limit)")
            case "useHierarchy":
                throw m.refuse("not supported (cgroup v1's memory.use_hierarchy is always on in current kernels)")
            case "checkBeforeUpdate":
                // runc reads it in update only (cgroup v2: no limit below the memory in use).
                if try m.bool(), forUpdate {
                    throw m.refuse("not supported: burrow-oci does not compare a new limit with the memory in use")
                }
            default: continue  // Unknown fields are ignored, as the runtime-spec asks.
            }
        }
    }

    func cpu(_ f: Field, into limits: inout CgroupLimits) throws(UsageError) {
        guard case .object(let members) = f.value else { throw f.wrong("an object") }
        for (key, value) in members where value != .null {
            let c = f.sub(key, value)
            switch key {
            case "shares": limits.cpuShares = try c.uint64()
            case "quota": limits.cpuQuota = try c.int64()
            case "period": limits.cpuPeriod = try c.uint64()
            case "cpus": limits.cpus = try cpuList(c)
            case "mems": limits.mems = try cpuList(c)
            case "realtimeRuntime", "realtimePeriod":
                if Field(key, value).isSet && value.integer != 0 { throw c.refuse("real-time CPU limits are not supported yet") }
            case "idle", "burst":
                if Field(key, value).isSet && value.integer != 0 { throw c.refuse("not supported yet") }
            default: continue
            }
        }
    }

    /// A cpuset list as the kernel reads it: "0-3,8".
    func cpuList(_ f: Field) throws(UsageError) -> String {
        let s = try f.string()
        let ok = !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "," || $0 == "-") }
        guard ok else { throw f.refuse("'\(s)' is not a list of numbers and ranges (0-3,8)") }
        return s
    }

    /// process.capabilities, where Burrow can give exactly what is asked: after exec, root's
    /// permitted and effective sets are its bounding and inheritable sets together; another
    /// uid's are its ambient set. All within the container's user namespace. CAP_SYS_ADMIN
    /// when named (the container can then mount, and undo its own mounts, as under runc);
    /// CAP_SYS_PTRACE never (the command could trace Burrow's init and supervisor).
    func capabilities(_ c: Field, uid: UInt32) throws(UsageError) -> CapabilitySets {
        var sets = CapabilitySets()
        var masks: [String: UInt64] = [:]
        for key in ["bounding", "effective", "permitted", "inheritable", "ambient"] {
            let names = try c.member(key)?.strings() ?? []
            let (mask, unknown) = CapabilitySets.mask(names)
            if let unknown { throw c.sub(key).refuse("'\(unknown)' is not a capability") }
            if names.contains("CAP_SYS_PTRACE") {
                throw c.sub(key).refuse("CAP_SYS_PTRACE: Burrow never gives it (the command could trace the container's init and Burrow's supervisor)")
            }
            masks[key] = mask
            switch key {
            case "bounding": sets.bounding = names
            case "effective": sets.effective = names
            case "permitted": sets.permitted = names
            case "inheritable": sets.inheritable = names
            default: sets.ambient = names
            }
        }
        let b = masks["bounding"] ?? 0, e = masks["effective"] ?? 0, p = masks["permitted"] ?? 0
        let i = masks["inheritable"] ?? 0, a = masks["ambient"] ?? 0
        if uid == 0 {
            guard e == p, p == b | i, a & ~(p & i) == 0 else {
                throw c.refuse("for root, Burrow gives effective = permitted = bounding + inheritable, with ambient within permitted and inheritable; these sets differ")
            }
        } else if forExec {
            // Another uid keeps only its ambient set over execve (file capabilities are
            // ignored: every mount is nosuid): the rest of permitted and effective goes, as
            // it does under runc. Ambient must be within permitted and inheritable.
            guard e & ~p == 0, a & ~(p & i) == 0 else {
                throw c.refuse("for a uid other than 0, Burrow gives effective = permitted = ambient (what execve leaves), with ambient within permitted and inheritable; these sets differ")
            }
        } else {
            // After exec another uid has its ambient set as permitted and effective.
            guard e == p, p == a, a & ~i == 0 else {
                throw c.refuse("for a uid other than 0, Burrow gives effective = permitted = ambient, with ambient within inheritable; these sets differ")
            }
        }
        return sets
    }

    func maps(_ f: Field?) throws(UsageError) -> [IDMap] {
        guard let f else { return [] }
        var out: [IDMap] = []
        for m in try f.items() {
            guard let c = try m.member("containerID"), let h = try m.member("hostID"), let s = try m.member("size") else {
                throw m.refuse("containerID, hostID and size are all needed")
            }
            out.append(IDMap(inside: try c.uint32(), outside: try h.uint32(), count: try s.uint32()))
        }
        return out
    }

    /// One entry of `mounts`; nil for what needs no mount of Burrow's own.
    func mount(_ m: Field) throws(UsageError) -> SetupOp? {
        guard let destField = try m.member("destination") else { throw m.refuse("the destination is missing") }
        let destination = try GuestPath.destination(try destField.string(), option: "config.json: \(destField.path)")
        let type = try m.member("type")?.string() ?? ""
        let source = try m.member("source")?.string() ?? ""
        var words = try m.member("options")?.strings() ?? []
        try refuse(m, "uidMappings", "idmapped mounts are not supported yet")
        try refuse(m, "gidMappings", "idmapped mounts are not supported yet")
        // Propagation, set on the mount once it is there, in the order given (as runc does).
        let propagation = words.compactMap(MountPropagation.init(word:))
        words.removeAll { MountPropagation(word: $0) != nil }
        let isBind = type == "bind" || words.contains("bind") || words.contains("rbind")
        // Binds are recursive, as every bind Burrow makes (`bind` as `rbind`).
        words.removeAll { $0 == "bind" || $0 == "rbind" }
        let options: MountOptions
        do { options = try MountOptions(words.isEmpty ? "defaults" : words.joined(separator: ",")) } catch {
            throw m.refuse("options: \(error.message)")
        }
        if options.noFail { throw m.refuse("nofail is not supported") }
        if isBind {
            guard !source.isEmpty else { throw m.refuse("a bind mount needs a source") }
            // A filesystem's parameters (mode=755, size=1k) mean nothing to a bind, and the
            // kernel ignores them there under runc: ignored too. A word that is no flag may be
            // a misspelt one (rdonly): refused, rather than leave the bind writable.
            if let word = options.data.first(where: { !$0.contains("=") }) {
                throw m.refuse("'\(word)' has no meaning for a bind mount")
            }
            var bind = BindMount(source: HostPath(underBundle(source)), destination: destination,
                                 readOnly: options.flags.contains(.readOnly), allowDevices: !options.flags.contains(.noDev),
                                 flags: options.flags.subtracting([.readOnly, .noDev]))
            bind.propagation = propagation
            return .bind(bind)
        }
        var op = try filesystem(m, type: type, source: source, destination: destination, options: options)
        switch op {
        case .bind(var b):
            b.propagation = propagation
            op = .bind(b)
        case .filesystem(var f):
            f.propagation = propagation
            op = .filesystem(f)
        default:
            // Burrow's /dev: a new tmpfs, private under its parent already.
            if let p = propagation.first(where: { $0.kind != .private }) {
                throw m.refuse("'\(p)' propagation on the tmpfs at /dev is not supported (it is private)")
            }
        }
        return op
    }

    /// The mount of a `mounts` entry that is no bind, before its propagation.
    func filesystem(_ m: Field, type: String, source: String, destination: GuestPath, options: MountOptions) throws(UsageError) -> SetupOp {
        switch type {
        case "proc":
            // As a filesystem, so that its source shows as the config says (a new procfs with
            // a PID namespace, else the host's, as for --proc).
            return .filesystem(FilesystemMount(type: "proc", source: source.isEmpty ? "proc" : source, destination: destination,
                                               flags: options.flags, data: options.data))
        case "tmpfs" where destination.description == "/dev":
            // The usual /dev: Burrow's minimal one (null, zero, full, random, urandom, tty,
            // pts, shm), on a tmpfs of its own, as runc fills its tmpfs with the default devices.
            return .dev(dest: destination)
        case "tmpfs", "devpts", "mqueue", "sysfs":
            return .filesystem(FilesystemMount(type: type, source: source.isEmpty ? type : source, destination: destination,
                                               flags: options.flags, data: options.data))
        case "cgroup", "cgroup2":
            // In a cgroup namespace, a cgroup2 filesystem of its own; else the host's
            // hierarchy bound in (read-only when asked), as rootless runc shows it.
            guard options.data.isEmpty else { throw m.refuse("'\(options.data.joined(separator: ","))': cgroup mount options are not supported") }
            if cgroupNamespace {
                return .filesystem(FilesystemMount(type: "cgroup2", source: source.isEmpty ? "cgroup" : source, destination: destination,
                                                   flags: options.flags))
            }
            return .bind(BindMount(source: HostPath("/sys/fs/cgroup"), destination: destination,
                                   readOnly: options.flags.contains(.readOnly), allowDevices: false,
                                   flags: options.flags.subtracting([.readOnly, .noDev])))
        case "":
            throw m.refuse("the type is missing (bind, proc, tmpfs, devpts, mqueue or sysfs)")
        default:
            throw m.refuse("'\(type)' mounts are not supported (bind, proc, tmpfs, devpts, mqueue, sysfs)")
        }
    }
    /// One entry of linux.devices: its fields read and typed here; what the numbers and ids
    /// may be is the spec's named checks (`DeviceNode.checks`), said with this entry's path.
    func device(_ d: Field) throws(UsageError) -> DeviceNode {
        guard let pathField = try d.member("path") else { throw d.missing("path") }
        let text = try pathField.string()
        guard text.startsWithSlash else { throw pathField.refuse("'\(text)' is not an absolute path") }
        let path = try GuestPath.destination(text, option: "config.json: \(pathField.path)")
        guard let typeField = try d.member("type") else { throw d.missing("type") }
        let kind: DeviceNode.Kind
        switch try typeField.string() {
        case "c", "u": kind = .character  // u: unbuffered, a character device to the kernel
        case "b": kind = .block
        case "p": kind = .fifo
        case let other: throw typeField.refuse("'\(other)' is not a device type (c, b, u or p)")
        }
        var node = DeviceNode(path: path, kind: kind)
        if kind != .fifo {
            guard let major = try d.member("major") else { throw d.missing("major") }
            guard let minor = try d.member("minor") else { throw d.missing("minor") }
            node.major = try major.uint32()
            node.minor = try minor.uint32()
        }
        if let mode = try d.member("fileMode") {
            var bits = try mode.uint32()
            // The type's own bits (S_IFCHR...) may come with the permissions, as stat gives them.
            if bits & 0o170000 == kind.typeBits { bits &= 0o7777 }
            node.mode = bits
        }
        if let uid = try d.member("uid") { node.uid = try uid.uint32() }
        if let gid = try d.member("gid") { node.gid = try gid.uint32() }
        return node
    }
}

extension OCIConfig {
    /// runc update's `--resources` (a linux.resources object, from a file or standard input),
    /// as the limits it changes; also the limits in effect that burrow-oci's state keeps.
    /// pids, memory and cpu are read as config.json's are; the device rules are ignored, as
    /// runc's update leaves them (containerd sends the container's whole object); anything
    /// else is refused by name. `file` names where the object came from, in messages.
    public static func resources(_ text: String, file: String) throws(UsageError) -> (limits: CgroupLimits, warnings: [String]) {
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw UsageError("\(file): \(error)") }
        return try resources(json, file: file)
    }

    public static func resources(_ json: JSON, file: String) throws(UsageError) -> (limits: CgroupLimits, warnings: [String]) {
        var reader = Reader(bundle: "")
        reader.forUpdate = true
        let top = Field("", json, file: file)
        guard case .object(let members) = json else { throw UsageError("\(file): expected a linux.resources object, found \(json.kind)") }
        var limits = CgroupLimits()
        var warnings: [String] = []
        for (key, value) in members where Field(key, value).isSet {
            let f = top.sub(key, value)
            switch key {
            case "devices": continue
            case "pids":
                guard let limit = try f.member("limit") else { throw f.missing("limit") }
                limits.pids = try limit.int64()
            case "memory": try reader.memory(f, into: &limits, warnings: &warnings)
            case "cpu": try reader.cpu(f, into: &limits)
            default: throw f.refuse("cgroup limits other than pids, memory and cpu are not supported yet")
            }
        }
        return (limits, warnings)
    }

    /// `limits` as a linux.resources object (what `resources` reads back).
    public static func resourcesJSON(_ limits: CgroupLimits) -> JSON {
        func members(_ pairs: [(String, JSON?)]) -> [(String, JSON)] { pairs.compactMap { p in p.1.map { (p.0, $0) } } }
        func number<N: BinaryInteger>(_ n: N?) -> JSON? { n.map { .number(String($0)) } }
        let memory = members([("limit", number(limits.memory)), ("reservation", number(limits.memoryReservation)),
                              ("swap", number(limits.memorySwap)), ("kernelTCP", number(limits.kernelTCP)),
                              ("swappiness", number(limits.swappiness)), ("disableOOMKiller", limits.disableOOMKiller.map { .bool($0) })])
        let cpu = members([("shares", number(limits.cpuShares)), ("quota", number(limits.cpuQuota)), ("period", number(limits.cpuPeriod)),
                           ("cpus", limits.cpus.map { .string($0) }), ("mems", limits.mems.map { .string($0) })])
        return .object(members([("pids", limits.pids.map { .object([("limit", .number(String($0)))]) }),
                                ("memory", memory.isEmpty ? nil : .object(memory)), ("cpu", cpu.isEmpty ? nil : .object(cpu))]))
    }
}
