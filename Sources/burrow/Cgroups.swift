import BurrowKernel
import BurrowSandbox
import Glibc

/// The container's cgroup on the host (burrow-oci): the directories of a `CgroupSpec` in
/// each hierarchy, made, given their limits, joined, and removed. v1 (a hierarchy per
/// controller, or co-mounted ones: cpu,cpuacct) where the host mounts the controllers so,
/// else v2's unified hierarchy, as runc's fs and fs2 drivers choose. Every failure names the
/// operation, the file and the errno; a refusal (EACCES, EPERM, EROFS) says that the
/// cgroup is not delegated to the caller, and names the limits that cannot then be applied.
public struct CgroupPlacement: Equatable, Sendable {
    /// One directory of the container's cgroup: the controllers it is for (v1), or all (v2).
    public struct Directory: Equatable, Sendable {
        public var controllers: [String]
        public var path: String
        /// Where this hierarchy's own cgroup was before joining (for `run`, which leaves it).
        public var origin: String
        /// The hierarchy's mount point.
        public var mount: String
    }
    public var version: CgroupVersion
    public var directories: [Directory]
    /// The directories made here, parents first: what `remove` takes away.
    public var created: [String] = []

    /// Where `spec` lies on this host. `defaultName` names a cgroup without a path (the
    /// container's id, relative, as runc's default). With `devices`, in cgroup v1's devices
    /// hierarchy too, where the host mounts one (`deviceSupport`); with `freezer`, in its
    /// freezer hierarchy (what `pause` freezes on a v1 or hybrid host).
    public static func locate(_ spec: CgroupSpec, defaultName: String, devices: Bool = false,
                              freezer: Bool = false) throws(SysError) -> CgroupPlacement {
        let inner = spec.path.isEmpty ? defaultName : spec.path
        let mounts = cgroupMounts()
        let own = ownCgroups()
        var dirs: [Directory] = []
        let v1 = (CgroupLimits.v1Controllers + (devices ? ["devices"] : []) + (freezer ? ["freezer"] : []))
            .filter { c in mounts.contains { $0.controllers.contains(c) } }
        if !v1.isEmpty {
            for controller in v1 {
                guard let m = mounts.first(where: { $0.controllers.contains(controller) }) else { continue }
                if let i = dirs.firstIndex(where: { $0.mount == m.point }) {
                    dirs[i].controllers.append(controller)  // co-mounted: one directory
                    continue
                }
                let origin = m.point + relative(own[controller] ?? "/", to: m.root)
                dirs.append(Directory(controllers: [controller], path: join(inner.hasPrefix("/") ? m.point : origin, inner), origin: origin,
                                      mount: m.point))
            }
            // A controller asked for and not mounted: said when its file is written.
            return CgroupPlacement(version: .v1, directories: dirs)
        }
        guard let m = mounts.first(where: { $0.isV2 }) else {
            throw SysError("find a cgroup hierarchy", "/proc/self/mountinfo", errno: .noSuchFileOrDirectory,
                           hint: "no cgroup filesystem is mounted: linux.cgroupsPath and linux.resources need one")
        }
        let origin = m.point + relative(own[""] ?? "/", to: m.root)
        dirs.append(Directory(controllers: CgroupLimits.v1Controllers, path: join(inner.hasPrefix("/") ? m.point : origin, inner),
                              origin: origin, mount: m.point))
        return CgroupPlacement(version: .v2, directories: dirs)
    }

    /// Whether the container's device rules can go in a device cgroup here: cgroup v1's
    /// devices hierarchy, located with `devices` (which only root on the host may write).
    public func deviceSupport(root: Bool) -> DeviceCgroupSupport {
        guard root else { return .notRoot }
        return version == .v1 && directories.contains { $0.controllers.contains("devices") } ? .writable : .notMounted
    }

    /// Makes the directories (as `mkdir -p`, remembering which were new), and under v2
    /// enables the controllers the writes need in each parent's cgroup.subtree_control.
    /// A cpuset made under v1 gets its parent's cpus and mems first (else nothing can join it).
    public mutating func create(for writes: [CgroupWrite], asked: [String]) throws(SysError) {
        for d in directories {
            var path = ""
            var made: [String] = []
            for part in d.path.split(separator: "/") {
                path += "/" + part
                do {
                    try Files.mkdir(path, at: AT_FDCWD, mode: 0o755)
                    made.append(path)
                    created.append(path)
                } catch where error.errno == .fileExists {
                } catch {
                    throw Self.refusal(error, asked: asked)
                }
            }
            if version == .v1 && d.controllers.contains("cpuset") {
                for dir in made {
                    let parent = String(dir[..<(dir.lastIndex(of: "/") ?? dir.endIndex)])
                    for file in ["cpuset.cpus", "cpuset.mems"] where Self.read(dir + "/" + file).isEmpty {
                        try Self.write(dir + "/" + file, Self.read(parent + "/" + file), asked: asked)
                    }
                }
            }
            if version == .v2 {
                // Each new directory's parent enables the controllers for it (the leaf's
                // parent when nothing was new).
                let needed = Set(writes.map(\.controller))
                let leafParent = String(d.path[..<(d.path.lastIndex(of: "/") ?? d.path.endIndex)])
                let parents = made.isEmpty ? [leafParent] : made.map { String($0[..<($0.lastIndex(of: "/") ?? $0.endIndex)]) }
                for parent in parents { try Self.enable(needed, in: parent, asked: asked) }
            }
        }
    }

    /// cgroup v2: `parent` gives the controllers `needed` to the cgroups below it, those
    /// its cgroup.subtree_control lacks.
    static func enable(_ needed: Set<String>, in parent: String, asked: [String]) throws(SysError) {
        let enabled = Set(read(parent + "/cgroup.subtree_control").split(separator: " ").map(String.init))
        let offered = Set(read(parent + "/cgroup.controllers").split(separator: " ").map(String.init))
        for c in needed.sorted() where !enabled.contains(c) {
            guard offered.contains(c) else {
                throw SysError("enable the \(c) controller in", parent + "/cgroup.subtree_control", errno: .noSuchFileOrDirectory,
                               hint: "\(parent)/cgroup.controllers does not offer it (not enabled above, or bound to a cgroup v1 hierarchy): linux.resources \(asked.joined(separator: ", ")) cannot be applied")
            }
            do { try write(parent + "/cgroup.subtree_control", "+" + c, asked: asked) } catch {
                var e = error
                if e.errno == .resourceBusy {
                    e.hint = "a cgroup v2 with processes of its own cannot give controllers to the cgroups below it: put the container's cgroup beside the caller's, not under it"
                }
                throw e
            }
        }
    }

    /// Writes the limits, each to the directory of its controller.
    public func apply(_ writes: [CgroupWrite], asked: [String]) throws(SysError) {
        for w in writes {
            guard let d = directories.first(where: { $0.controllers.contains(w.controller) }) else {
                throw SysError("write \(w.value) to", w.file, errno: .noSuchFileOrDirectory,
                               hint: "linux.resources.\(w.setting) needs the \(w.controller) controller, which is not mounted here")
            }
            do { try Self.write(d.path + "/" + w.file, w.value, asked: asked) } catch {
                var e = error
                if e.hint == nil { e.hint = "linux.resources.\(w.setting): the kernel refused the value" }
                throw e
            }
        }
    }

    /// Puts `pid` (0: the caller) in every directory of the cgroup.
    public func join(_ pid: pid_t, asked: [String]) throws(SysError) {
        for d in directories { try Self.write(d.path + "/cgroup.procs", "\(pid == 0 ? getpid() : pid)", asked: asked) }
    }

    /// Puts `pid` (0: the caller) in these cgroup directories (a running container's, for exec).
    public static func join(paths: [String], pid: pid_t) throws(SysError) {
        for path in paths { try write(path + "/cgroup.procs", "\(pid == 0 ? getpid() : pid)", asked: []) }
    }

    /// The processes in these cgroup directories (their cgroup.procs), the caller left out.
    public static func processes(in dirs: [String]) -> [pid_t] {
        var out = Set<pid_t>()
        for dir in dirs {
            for line in read(dir + "/cgroup.procs").split(separator: "\n") { if let pid = pid_t(line), pid != getpid() { out.insert(pid) } }
        }
        return out.sorted()
    }

    /// Puts the caller back where it was (before `remove`, for `run`'s own process).
    public func leave() {
        for d in directories { _ = try? Files.writeFile(d.origin + "/cgroup.procs", "\(getpid())") }
    }

    /// Removes the directories made by `create`, deepest first; a cgroup still busy (a task
    /// on its way out) is tried again for up to 2 s. Those already gone count as removed.
    public static func remove(_ created: [String]) throws(SysError) {
        for dir in created.sorted(by: { $0.count > $1.count }) {
            var tries = 0
            while true {
                do { try Files.unlink(dir, at: AT_FDCWD, directory: true) } catch {
                    if error.errno == .noSuchFileOrDirectory { break }
                    // A parent that another container uses now is left to it.
                    let busy = error.errno == .resourceBusy
                    if error.errno == .directoryNotEmpty || (busy && !isDeepest(dir, created)) { break }
                    tries += 1
                    guard busy, tries < 200 else { throw error }
                    var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
                    nanosleep(&ts, nil)
                    continue
                }
                break
            }
        }
    }

    private static func isDeepest(_ dir: String, _ all: [String]) -> Bool { !all.contains { $0.hasPrefix(dir + "/") } }

    // MARK: the host's hierarchies

    struct Mount { var point: String; var root: String; var controllers: [String]; var isV2: Bool }

    /// Every cgroup mount of /proc/self/mountinfo: where, from which cgroup (its root), of
    /// which controllers (the super options of a v1 one).
    static func cgroupMounts() -> [Mount] {
        let text = String(decoding: Files.readHead("/proc/self/mountinfo", count: 1 << 20) ?? [], as: UTF8.self)
        return MountTable.parse(text).filter { $0.type == "cgroup" || $0.type == "cgroup2" }.map { m in
            Mount(point: m.mountPoint, root: m.root, controllers: m.type == "cgroup" ? m.superOptions : [], isV2: m.type == "cgroup2")
        }
    }

    /// This process's cgroup per v1 controller, and v2's under "".
    static func ownCgroups() -> [String: String] {
        let text = String(decoding: Files.readHead("/proc/self/cgroup", count: 1 << 16) ?? [], as: UTF8.self)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty { out[""] = String(parts[2]) }
            for c in parts[1].split(separator: ",") { out[String(c)] = String(parts[2]) }
        }
        return out
    }


    /// `path` (a cgroup) as seen under a mount of cgroup `root`.
    static func relative(_ path: String, to root: String) -> String {
        if root == "/" { return path == "/" ? "" : path }
        if path == root { return "" }
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count)) }
        return path == "/" ? "" : path
    }

    static func join(_ base: String, _ inner: String) -> String {
        let parts = inner.split(separator: "/").filter { $0 != "." }
        return parts.isEmpty ? base : base + "/" + parts.joined(separator: "/")
    }

    static func read(_ path: String) -> String {
        var s = String(decoding: Files.readHead(path, count: 4096) ?? [], as: UTF8.self)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }

    static func write(_ path: String, _ value: String, asked: [String]) throws(SysError) {
        do { try Files.writeFile(path, value) } catch {
            var e = error
            e.operation = "write \(value) to"
            throw refusal(e, asked: asked)
        }
    }

    /// A refusal worded as runc's rootless mode fails: the limits asked cannot be applied
    /// without a cgroup delegated to the caller.
    static func refusal(_ e: SysError, asked: [String]) -> SysError {
        guard e.errno == .permissionDenied || e.errno == .notPermitted || e.errno == .readOnlyFileSystem else { return e }
        var out = e
        let what = asked.isEmpty ? "linux.cgroupsPath" : "linux.resources " + asked.joined(separator: ", ")
        out.hint = "the cgroup is not delegated to you, so \(what) cannot be applied (as rootless runc fails): "
            + "run as root, give the user a cgroup of its own (chown it, or systemd-run --user --scope -p Delegate=yes), or leave them out"
        return out
    }
}

extension CgroupPlacement {
    /// The cgroup `create` made, from the directories the state recorded (burrow-oci's
    /// update): each one's hierarchy, and so its controllers and the version, found in the
    /// mount table (the path under which update runs does not say where create put it).
    public static func recorded(_ paths: [String]) throws(SysError) -> CgroupPlacement {
        let mounts = cgroupMounts()
        var version = CgroupVersion.v1
        var dirs: [Directory] = []
        for path in paths {
            let under = mounts.filter { path == $0.point || path.hasPrefix($0.point + "/") }
            guard let m = under.max(by: { $0.point.count < $1.point.count }) else {
                throw SysError("find the cgroup hierarchy of", path, errno: .noSuchFileOrDirectory,
                               hint: "the container's cgroup is under no cgroup mount of this host now")
            }
            if m.isV2 { version = .v2 }
            let controllers = m.isV2 ? CgroupLimits.v1Controllers : m.controllers.filter(CgroupLimits.v1Controllers.contains)
            dirs.append(Directory(controllers: controllers, path: path, origin: path, mount: m.point))
        }
        return CgroupPlacement(version: version, directories: dirs)
    }

    /// A running container's new limits (update), written as create writes them; under v2
    /// the container's parent cgroup first gives it a controller none of its limits needed
    /// until now.
    public func update(_ writes: [CgroupWrite], asked: [String]) throws(SysError) {
        if version == .v2 {
            for d in directories {
                let parent = String(d.path[..<(d.path.lastIndex(of: "/") ?? d.path.endIndex)])
                try Self.enable(Set(writes.map(\.controller)), in: parent, asked: asked)
            }
        }
        try apply(writes, asked: asked)
    }

    /// The memory limit in force now (v1's memory.limit_in_bytes), for the order of an update's writes.
    public var memoryLimitNow: Int64? {
        guard version == .v1, let d = directories.first(where: { $0.controllers.contains("memory") }) else { return nil }
        return Int64(Self.read(d.path + "/memory.limit_in_bytes"))
    }
}
