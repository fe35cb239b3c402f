import BurrowKernel
import BurrowSpec
import Glibc

/// Turns the spec's root and setup operations into `Bindings`, in the order given, and
/// emulates what has no mount here: --tmpfs and --dev become temporary host directories
/// (removed at exit), --proc binds the host's /proc, --dir and --symlink are made in the
/// tree (and removed at exit if Burrow made them), --ro-root, --ro-bind and --remount-ro
/// refuse writes with EROFS.
struct Setup {
    let log: Log
    private(set) var bindings = Bindings(root: "/")
    private(set) var anchors: [Int32] = []
    /// Undone in reverse order at exit.
    private var undoList: [Undo] = []

    enum Undo {
        case removeTree(String)
        case removeDir(String)
        case removeLink(String)
    }

    init(log: Log) { self.log = log }

    var tree: HostTree { HostTree(anchors: anchors) }

    mutating func build(_ spec: SandboxSpec) throws(PtraceEngine.Failure) -> Bindings {
        let root: String
        do { root = try Files.realPath(spec.root.path.string) } catch {
            throw PtraceEngine.Failure(SysError("rootfs", spec.root.path.string, errno: error.errno))
        }
        let rootfd: Int32
        do { rootfd = try Files.open(root, O_PATH | O_DIRECTORY) } catch {
            throw PtraceEngine.Failure(SysError("rootfs", spec.root.path.string, errno: error.errno))
        }
        bindings = Bindings(root: root, rootReadOnly: spec.root.readOnly)
        anchors = [rootfd]
        log.step("root \(root)\(spec.root.readOnly ? " (read-only)" : "")")
        for op in spec.operations {
            switch op {
            case .bind(let b):
                let source: String
                do { source = try Files.realPath(b.source.string) } catch {
                    if b.optional && error.errno == .noSuchFileOrDirectory { continue }
                    throw PtraceEngine.Failure(SysError("bind source", b.source.string, errno: error.errno))
                }
                try addBinding(source: source, dest: b.destination, kind: .bind,
                               readOnly: b.readOnly || b.flags.contains(.readOnly), followDestination: b.followDestination)
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
                let host = try hostPath(of: dest)
                if Glibc.mkdir(host, mode_t(mode ?? 0o755)) == 0 {
                    if let mode { _ = Glibc.chmod(host, mode_t(mode)) }
                    undoList.append(.removeDir(host))
                    log.step("mkdir \(dest) (\(host))")
                } else if Glibc.errno != EEXIST {
                    throw PtraceEngine.Failure(SysError.last("mkdir", "\(dest) (\(host))"))
                }
            case .symlink(let target, let dest):
                let host = try hostPath(of: dest, followLast: false)
                if Glibc.symlink(target, host) == 0 {
                    undoList.append(.removeLink(host))
                    log.step("symlink \(dest) -> \(target)")
                } else if !(Glibc.errno == EEXIST && Files.readlinkIfSymlink(host, at: AT_FDCWD) == target) {
                    throw PtraceEngine.Failure(SysError.last("symlink", "\(dest) -> \(target)"))
                }
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

    mutating func temporaryDirectory(mode: UInt32, for what: String) throws(PtraceEngine.Failure) -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/burrow-ptrace.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw PtraceEngine.Failure(SysError.last("mkdtemp", "\(base) (for \(what))")) }
        let dir = String(cString: template)
        _ = Glibc.chmod(dir, mode_t(mode))
        undoList.append(.removeTree(dir))
        do { return try Files.realPath(dir) } catch { return dir }
    }

    /// A directory holding the usual device nodes, each a bind of the host's node.
    private mutating func emulateDev(_ dest: GuestPath) throws(PtraceEngine.Failure) {
        let dir = try temporaryDirectory(mode: 0o755, for: "--dev \(dest)")
        try addBinding(source: dir, dest: dest, kind: .bind, readOnly: false)
        let g = bindings.entries.last?.guest ?? dest
        // ptmx too: the host's /dev/pts/ptmx is often mode 000 (posix_openpt opens /dev/ptmx).
        for node in ["null", "zero", "full", "random", "urandom", "tty", "ptmx"] {
            // An empty file marks the node in listings; the bind does the rest.
            let fd = Glibc.open(dir + "/" + node, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
            if fd >= 0 { _ = Glibc.close(fd) }
            if let src = try? Files.realPath("/dev/" + node) {
                try addBinding(source: src, dest: g.appending(node), kind: .bind, readOnly: false)
            }
        }
        _ = Glibc.mkdir(dir + "/pts", 0o755)
        if (try? Files.realPath("/dev/pts")) != nil { try addBinding(source: "/dev/pts", dest: g.appending("pts"), kind: .bind, readOnly: false) }
        _ = Glibc.mkdir(dir + "/shm", 0o1777)
        _ = Glibc.chmod(dir + "/shm", 0o1777)
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2")] {
            _ = Glibc.symlink(target, dir + "/" + name)
        }
    }

    /// Removes what Burrow made, newest first.
    mutating func undo() {
        for u in undoList.reversed() {
            switch u {
            case .removeTree(let p): Files.removeTree(p)
            case .removeDir(let p): _ = Glibc.rmdir(p)
            case .removeLink(let p): _ = Glibc.unlink(p)
            }
        }
        undoList = []
        for fd in anchors { Files.close(fd) }
        anchors = []
    }
}
