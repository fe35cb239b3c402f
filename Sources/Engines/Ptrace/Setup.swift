import BurrowCleaner
import BurrowKernel
import BurrowSandbox
import Glibc

/// Turns the spec's root and setup operations into `Bindings`, in the order given, and
/// emulates what has no mount here: --tmpfs and --dev become temporary host directories
/// (--dev's only once the guest needs it: `DevStandIn`),
/// --proc binds the host's /proc, --dir and --symlink are made in the tree, --ro-root,
/// --ro-bind and --remount-ro refuse writes with EROFS.
///
/// What is created on the host (those directories, --dir and --symlink results, the pid
/// file) is created by the cleaner (Sources/Engines/Cleaner), a process that outlives burrow
/// and removes it all when the sandbox is over, even after `kill -9` of burrow. It is
/// started on the first need: during the set-up, or for --dev's directory while the
/// command runs (it then comes back to the tracer as a child, which it does not wait for).
struct Setup {
    let log: Log
    private(set) var bindings = Bindings(root: "/")
    private(set) var anchors: [Int32] = []
    private var cleaner: Cleaner.Connection?
    /// The pid file, open for writing (made by the cleaner).
    private(set) var pidFile: Int32 = -1
    /// The temporary directory of PRoot's glue (BindGlue), once made.
    private var glueRoot: String?
    /// Where temporary directories are made (`SandboxSpec.temporaryDirectory`).
    private var temporaryBase: String?

    init(log: Log) { self.log = log }

    /// The cleaner, started now if it is not running yet.
    private mutating func connection(for what: String) throws(PtraceEngine.Failure) -> Cleaner.Connection {
        if let cleaner { return cleaner }
        do {
            let (c, _) = try Cleaner.Connection.start(pidFile: nil)
            cleaner = c
            return c
        } catch {
            throw PtraceEngine.Failure(SysError("start the cleaner", what, errno: error.errno))
        }
    }

    /// Opens the pid file (the cleaner creates it, and removes it at the end).
    mutating func makePidFile(_ path: String) throws(PtraceEngine.Failure) {
        // The cleaner makes the pid file before anything else, so it must not run yet.
        guard cleaner == nil else { throw PtraceEngine.Failure("open pid file \(path): the cleaner is already running") }
        let (dir, name) = Cleaner.split(path)
        let parent: Int32
        do { parent = try Files.open(dir, O_PATH | O_DIRECTORY) } catch {
            throw PtraceEngine.Failure(SysError("open pid file", path, errno: error.errno))
        }
        defer { Files.close(parent) }
        do {
            let (c, fd) = try Cleaner.Connection.start(pidFile: (parent, name, path))
            cleaner = c
            pidFile = fd ?? -1
        } catch {
            throw PtraceEngine.Failure(error)
        }
    }

    /// The host path `host` made by the cleaner as `kind`; false if something is there already.
    private mutating func make(_ kind: Cleaner.Kind, _ host: String, mode: mode_t = 0, target: String = "",
                               what: String) throws(PtraceEngine.Failure) -> Bool {
        let operation = kind == .symlink ? "symlink" : "mkdir"
        let c = try connection(for: what)
        let (dir, name) = Cleaner.split(host)
        do throws(SysError) {
            let parent = try Files.open(dir, O_PATH | O_DIRECTORY)
            defer { Files.close(parent) }
            _ = try c.make(kind, name: name, in: parent, mode: mode, target: target, what: operation)
            return true
        } catch {
            if error.errno == .fileExists { return false }
            throw PtraceEngine.Failure(SysError(operation, what, errno: error.errno))
        }
    }

    /// --dir: the directory and, as on the namespace engine, its missing parents (0755).
    private mutating func makeDirectory(_ dest: GuestPath, mode: UInt32?) throws(PtraceEngine.Failure) {
        if dest.isRoot { return }
        let parent = try hostPath(of: dest.parent)
        if (try? Files.stat(parent, at: AT_FDCWD, follow: true)) == nil { try makeDirectory(dest.parent, mode: nil) }
        let host = try hostPath(of: dest)
        if try make(.directory, host, mode: mode_t(mode ?? 0o755), what: "\(dest) (\(host))") {
            log.step("mkdir \(dest) (\(host))")
        }
    }

    var tree: HostTree { HostTree(anchors: anchors, standIn: devStandIn?.binding) }

    mutating func build(_ spec: SandboxSpec) throws(PtraceEngine.Failure) -> Bindings {
        let root: String
        do { root = try Files.realPath(spec.root.path.string) } catch {
            throw PtraceEngine.Failure(SysError(spec.root.openFailure.operation, spec.root.openFailure.subject, errno: error.errno))
        }
        let rootfd: Int32
        do { rootfd = try Files.open(root, O_PATH | O_DIRECTORY) } catch {
            throw PtraceEngine.Failure(SysError(spec.root.openFailure.operation, spec.root.openFailure.subject, errno: error.errno))
        }
        if let dir = spec.temporaryDirectory {
            if let e = HostProbes.unwritableDirectory(dir.string) {
                throw PtraceEngine.Failure(SysError("temporary directory", dir.string, errno: e).description)
            }
            temporaryBase = dir.string
        }
        bindings = Bindings(root: root, rootReadOnly: spec.root.readOnly)
        anchors = [rootfd]
        if let p = spec.process.pidFile { try makePidFile(p.string) }
        log.step("root \(root)\(spec.root.readOnly ? " (read-only)" : "")")
        try procWithin(root, at: .root)
        for op in spec.operations {
            switch op {
            case .bind(let b):
                let source: String
                do { source = try Files.realPath(b.source.string) } catch {
                    if b.optional && error.errno == .noSuchFileOrDirectory { continue }
                    throw PtraceEngine.Failure(SysError(spec.terms.failure(.bindSource), b.source.string, errno: error.errno))
                }
                if b.glue != .none {
                    let sourceIsDirectory = (try? Files.stat(source, at: AT_FDCWD, follow: true)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
                    try glue(try canonical(b.destination, followLast: b.followDestination), directory: sourceIsDirectory, policy: b.glue)
                }
                // A bind of the host's /proc (proot -R, -b /proc) is a /proc like --proc's:
                // /proc/self and its magic links must mean the tracee, not the supervisor.
                try addBinding(source: source, dest: b.destination, kind: Self.isProcfsRoot(source) ? .proc : .bind,
                               readOnly: b.readOnly || b.flags.contains(.readOnly), followDestination: b.followDestination)
                try procWithin(source, at: b.destination)
            case .filesystem(let f):
                let ro = f.flags.contains(.readOnly)
                switch f.type {
                case "proc": try addBinding(source: "/proc", dest: f.destination, kind: .proc, readOnly: ro)
                case "sysfs": try addBinding(source: "/sys", dest: f.destination, kind: .bind, readOnly: ro)
                case "devpts": try addBinding(source: "/dev/pts", dest: f.destination, kind: .bind, readOnly: ro)
                case "tmpfs":
                    let mode = f.data.first { $0.hasPrefix("mode=") }.flatMap { UInt32($0.dropFirst(5), radix: 8) }
                    let dir = try temporaryDirectory(mode: mode ?? 0o1777, for: "tmpfs \(f.destination)")
                    try addBinding(source: dir, dest: f.destination, kind: .bind, readOnly: ro)
                default:
                    throw PtraceEngine.Failure("a \(f.type) filesystem at \(f.destination) needs the namespace engine")
                }
            case .proc(let dest):
                try addBinding(source: "/proc", dest: dest, kind: .proc, readOnly: false)
            case .tmpfs(let dest, _, let mode):
                let dir = try temporaryDirectory(mode: mode ?? 0o755, for: "--tmpfs \(dest)")
                try addBinding(source: dir, dest: dest, kind: .bind, readOnly: false)
            case .dev(let dest):
                try emulateDev(dest)
            case .mqueue(let dest):
                throw PtraceEngine.Failure("--mqueue \(dest) needs the namespace engine")
            case .dir(let dest, let mode):
                try makeDirectory(dest, mode: mode)
            case .symlink(let target, let dest):
                let host = try hostPath(of: dest, followLast: false)
                if try make(.symlink, host, target: target, what: "\(dest) -> \(target)") {
                    log.step("symlink \(dest) -> \(target)")
                } else if Files.readlinkIfSymlink(host, at: AT_FDCWD) != target {
                    throw PtraceEngine.Failure(SysError("symlink", "\(dest) -> \(target)", errno: .fileExists))
                }
            case .file(let f):
                throw PtraceEngine.Failure("a file from a descriptor at \(f.destination) needs the namespace engine")
            case .chmod(let dest, _):
                throw PtraceEngine.Failure("a chmod of \(dest) needs the namespace engine")
            case .overlay(let o):
                throw PtraceEngine.Failure("an overlay at \(o.destination) needs the namespace engine")
            case .remountReadOnly(let dest):
                let g = try canonical(dest)
                bindings.readOnlyTrees.append(g)
                log.step("read-only \(g) (writes refused with EROFS)")
            }
        }
        return bindings
    }

    /// The destination resolved in the guest as it is so far (a symlink there is followed,
    /// as the namespace engine resolves mount points inside the new root).
    private func canonical(_ dest: GuestPath, followLast: Bool = true) throws(PtraceEngine.Failure) -> GuestPath {
        do {
            return try Canonicalizer(bindings: bindings).canonical(dest.description, base: .root, followLast: followLast, lookup: tree)
        } catch {
            throw PtraceEngine.Failure("\(dest): too many levels of symbolic links")
        }
    }

    private func hostPath(of dest: GuestPath, followLast: Bool = true) throws(PtraceEngine.Failure) -> String {
        bindings.host(try canonical(dest, followLast: followLast))
    }

    mutating func addBinding(source: String, dest: GuestPath, kind: Binding.Kind, readOnly: Bool,
                                     followDestination: Bool = true) throws(PtraceEngine.Failure) {
        let g = try canonical(dest, followLast: followDestination)
        let fd: Int32
        do { fd = try Files.open(source, O_PATH) } catch {
            throw PtraceEngine.Failure(SysError("bind source", source, errno: error.errno))
        }
        bindings.add(Binding(guest: g, host: source, kind: kind, readOnly: readOnly))
        anchors.append(fd)
        log.step("bind \(source) -> \(g)\(readOnly ? " (read-only)" : "")")
    }

    /// PRoot's glue (BindGlue): each directory on the way to `g` that the guest lacks, and `g`
    /// itself, made in the guest's tree where the policy allows (by the cleaner, which
    /// removes it afterwards), else below a temporary directory bound in the place of the
    /// first one missing: the guest sees them, the rootfs is not changed.
    private mutating func glue(_ g: GuestPath, directory: Bool, policy: BindGlue) throws(PtraceEngine.Failure) {
        guard policy != .none, !g.isRoot else { return }
        for k in 1...g.components.count {
            let q = GuestPath(components: Array(g.components.prefix(k)))
            let host = bindings.host(q)
            if (try? Files.stat(host, at: AT_FDCWD, follow: false)) != nil { continue }
            let last = k == g.components.count
            let kind: Cleaner.Kind = last && !directory ? .file : .directory
            if let root = glueRoot, host.hasPrefix(root + "/") {
                // In the glue directory: ours, and removed with it.
                Self.makeInGlue(host, kind)
                continue
            }
            // Made where the rootfs lets the caller make it as it is (PRoot's mkdir); else glued.
            let parent = "/" + host.split(separator: "/").dropLast().joined(separator: "/")
            if policy == .whereNotCreatable, access(parent, W_OK | X_OK) == 0,
               (try? make(kind, host, mode: kind == .directory ? 0o755 : 0o644, what: "\(q) (\(host))")) != nil {
                log.step("made \(q) (\(host)), removed afterwards")
                continue
            }
            // The bind itself shows its destination; only the directories on the way need glue.
            if last { return }
            let root: String
            if let r = glueRoot { root = r } else { root = try temporaryDirectory(mode: 0o755, for: "the glue of \(g)") }
            glueRoot = root
            var dir = root
            for c in q.components {
                dir += "/" + c
                Self.makeInGlue(dir, .directory)
            }
            try addBinding(source: dir, dest: q, kind: .bind, readOnly: false)
        }
    }

    private static func makeInGlue(_ host: String, _ kind: Cleaner.Kind) {
        if kind == .directory {
            _ = Glibc.mkdir(host, 0o755)
        } else {
            let fd = Glibc.open(host, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { _ = Glibc.close(fd) }
        }
    }

    /// The host's /proc met inside a tree (the rootfs `/`, a bind of `/`) is a /proc like
    /// --proc's too: `self` and its links name the tracee, not the supervisor.
    private mutating func procWithin(_ source: String, at dest: GuestPath) throws(PtraceEngine.Failure) {
        let inside = (source == "/" ? "" : source) + "/proc"
        guard Self.isProcfsRoot(inside) else { return }
        try addBinding(source: inside, dest: dest.appending("proc"), kind: .proc, readOnly: false)
    }

    static func isProcfsRoot(_ path: String) -> Bool {
        guard let fd = try? Files.open(path, O_PATH | O_DIRECTORY) else { return false }
        defer { Files.close(fd) }
        return Files.isProcfsRoot(fd)
    }

    /// `inMemory`: where the caller named no place (no temporary directory in the spec, no
    /// TMPDIR), /dev/shm when it is a tmpfs this process may write, instead of /tmp: for what
    /// is a tmpfs on the namespace engine and small (the emulated /dev), made at every start
    /// and removed at every end, which costs a journalled disk filesystem milliseconds.
    mutating func temporaryDirectory(mode: UInt32, for what: String, inMemory: Bool = false) throws(PtraceEngine.Failure) -> String {
        let named = temporaryBase ?? getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        let base = named ?? (inMemory ? Self.memoryBase : nil) ?? "/tmp"
        let c = try connection(for: "mkdtemp \(base) (for \(what))")
        let name: String
        do throws(SysError) {
            let parent = try Files.open(base, O_PATH | O_DIRECTORY)
            defer { Files.close(parent) }
            name = try c.make(.tree, name: "burrow-ptrace.", in: parent, mode: mode_t(mode), what: "mkdtemp")
        } catch {
            throw PtraceEngine.Failure(SysError("mkdtemp", "\(base) (for \(what))", errno: error.errno))
        }
        let dir = base + "/" + name
        do { return try Files.realPath(dir) } catch { return dir }
    }

    /// /dev/shm, when it is a tmpfs this process may make directories in.
    static var memoryBase: String? {
        let shm = "/dev/shm"
        return Files.filesystemKind(shm) == .tmpfs && access(shm, W_OK | X_OK) == 0 ? shm : nil
    }

    /// --dev: the usual device nodes, each a bind of the host's node, in a directory of
    /// their own. The directory (with `pts`, a private `shm` and the `fd`, `stdin`, `stdout`,
    /// `stderr` links) is made only once the guest needs it (`DevStandIn`): until then the
    /// host's /dev stands in for it and nothing is made on the host, so most commands need
    /// no cleaner. Made at once where a cleaner runs anyway.
    private mutating func emulateDev(_ dest: GuestPath) throws(PtraceEngine.Failure) {
        guard devStandIn == nil, Self.isDirectory(DevStandIn.host) else {
            let dir = try temporaryDirectory(mode: 0o755, for: "--dev \(dest)", inMemory: true)
            try addBinding(source: dir, dest: dest, kind: .bind, readOnly: false)
            Self.fillDev(dir)
            try bindDeviceNodes(below: bindings.entries.last?.guest ?? dest)
            return
        }
        try addBinding(source: DevStandIn.host, dest: dest, kind: .bind, readOnly: false)
        devStandIn = DevStandIn(binding: bindings.entries.count - 1, guest: dest)
        try bindDeviceNodes(below: bindings.entries.last?.guest ?? dest)
    }

    /// The nodes of --dev at `g`, each a bind of the host's. Their destinations are not
    /// followed: where the host's /dev stands in, its `ptmx` may be a symlink (`pts/ptmx`,
    /// as in Docker's), and the node must still be /dev/ptmx.
    private mutating func bindDeviceNodes(below g: GuestPath) throws(PtraceEngine.Failure) {
        // ptmx too: the host's /dev/pts/ptmx is often mode 000 (posix_openpt opens /dev/ptmx).
        for node in Self.deviceNodes {
            if let src = try? Files.realPath("/dev/" + node) {
                try addBinding(source: src, dest: g.appending(node), kind: .bind, readOnly: false, followDestination: false)
            }
        }
        if (try? Files.realPath("/dev/pts")) != nil {
            try addBinding(source: "/dev/pts", dest: g.appending("pts"), kind: .bind, readOnly: false, followDestination: false)
        }
    }

    static let deviceNodes = ["null", "zero", "full", "random", "urandom", "tty", "ptmx"]

    /// What --dev's directory holds besides the binds on top of it: an empty file per node
    /// (for listings), `pts`, a private `shm` and the links to /proc/self/fd.
    private static func fillDev(_ dir: String) {
        for node in deviceNodes {
            let fd = Glibc.open(dir + "/" + node, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
            if fd >= 0 { _ = Glibc.close(fd) }
        }
        _ = Glibc.mkdir(dir + "/pts", 0o755)
        _ = Glibc.mkdir(dir + "/shm", 0o1777)
        _ = Glibc.chmod(dir + "/shm", 0o1777)
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2")] {
            _ = Glibc.symlink(target, dir + "/" + name)
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        (try? Files.stat(path, at: AT_FDCWD, follow: false)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    /// --dev's binding while the host's /dev stands in for its directory.
    struct DevStandIn {
        static let host = "/dev"
        let binding: Int
        let guest: GuestPath
    }
    /// Set while --dev's directory is not made yet.
    private(set) var devStandIn: DevStandIn?

    /// Makes --dev's directory (the cleaner removes it afterwards) and puts it in the host's
    /// /dev's place: its binding's new host path and anchor.
    mutating func makeDevDirectory() throws(PtraceEngine.Failure) -> (binding: Int, host: String, anchor: Int32) {
        guard let standIn = devStandIn else { throw PtraceEngine.Failure("--dev: made already") }
        let dir = try temporaryDirectory(mode: 0o755, for: "--dev \(standIn.guest)", inMemory: true)
        Self.fillDev(dir)
        let fd: Int32
        do { fd = try Files.open(dir, O_PATH | O_DIRECTORY) } catch {
            throw PtraceEngine.Failure(SysError("open", "\(dir) (--dev \(standIn.guest))", errno: error.errno))
        }
        bindings.rehost(standIn.binding, to: dir)
        Files.close(anchors[standIn.binding])
        anchors[standIn.binding] = fd
        devStandIn = nil
        log.step("--dev \(standIn.guest): its directory made at \(dir)")
        return (standIn.binding, dir, fd)
    }

    /// Where a cleaner runs anyway, --dev's directory is made at once.
    mutating func makeDevDirectoryIfCleanerRuns() throws(PtraceEngine.Failure) -> (binding: Int, host: String, anchor: Int32)? {
        guard devStandIn != nil, cleaner != nil else { return nil }
        return try makeDevDirectory()
    }

    /// Has the cleaner remove what Burrow made (newest first) and waits for it.
    mutating func undo() {
        Files.close(pidFile)
        pidFile = -1
        cleaner?.finish()
        cleaner = nil
        for fd in anchors { Files.close(fd) }
        anchors = []
    }
}
