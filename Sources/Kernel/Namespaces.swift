import CKernel
import Glibc
import SystemPackage

/// The namespaces and root of a running process, opened to be joined (burrow-oci's exec,
/// as runc's nsenter and nsenter(1) --root do it): every namespace of the process that is
/// not the caller's own, through /proc/PID/ns/*, and its root, through /proc/PID/root.
/// Opened while the caller's /proc is in reach; entered in one go by `enter`.
public struct ProcessNamespaces {
    public struct Entry {
        /// As /proc/PID/ns names it (`mnt`, `net`).
        public let name: String
        /// Its `Namespace` flag, which setns checks against the descriptor.
        public let type: Int32
        let fd: Int32
    }

    public let pid: pid_t
    /// In the order they are entered: the user namespace first (it owns the others, and
    /// grants the capabilities setns needs for them), then the mount namespace (after which
    /// the caller's /proc is gone), then the rest.
    public private(set) var entries: [Entry] = []
    let root: Int32

    /// Entered in this order: user first, mnt second (runc's nsexec orders them the same way).
    static let kinds: [(String, Int32)] = [
        ("user", Namespace.user), ("mnt", Namespace.mount), ("pid", Namespace.pid), ("ipc", Namespace.ipc),
        ("uts", Namespace.uts), ("net", Namespace.net), ("cgroup", Namespace.cgroup),
    ]

    /// Opens the namespaces of `pid` that differ from the caller's, and its root.
    public static func open(of pid: pid_t) throws(SysError) -> ProcessNamespaces {
        var entries: [Entry] = []
        func close() { for e in entries { Files.close(e.fd) } }
        for (name, type) in kinds {
            let path = "/proc/\(pid)/ns/\(name)"
            let fd: Int32
            do { fd = try Files.open(path, O_RDONLY) } catch {
                close()
                throw SysError("open", path, errno: error.errno, hint: hint(error.errno, pid: pid))
            }
            var theirs = stat()
            if fstat(fd, &theirs) == 0, let ours = try? Files.stat("/proc/self/ns/\(name)", at: AT_FDCWD, follow: true),
               theirs.st_dev == ours.st_dev, theirs.st_ino == ours.st_ino {
                Files.close(fd)  // shared with the caller: nothing to enter
                continue
            }
            entries.append(Entry(name: name, type: type, fd: fd))
        }
        let root: Int32
        do { root = try Files.open("/proc/\(pid)/root", O_PATH | O_DIRECTORY) } catch {
            close()
            throw SysError("open", "/proc/\(pid)/root", errno: error.errno, hint: hint(error.errno, pid: pid))
        }
        return ProcessNamespaces(pid: pid, entries: entries, root: root)
    }

    static func hint(_ errno: Errno, pid: pid_t) -> String? {
        switch errno {
        case .noSuchFileOrDirectory, .noSuchProcess: return "process \(pid) has ended"
        case .permissionDenied, .notPermitted:
            return "only the user who started the container can enter it (its namespaces belong to that user)"
        default: return nil
        }
    }

    /// Enters every namespace, then the root (`fchdir` to it and `chroot(".")`): from here on
    /// this process sees the container's files, and its next child is in the PID namespace.
    /// `afterUser` runs once the user namespace is entered, before the mount namespace hides
    /// the caller's /proc (what this process's own /proc files say there is the new one's).
    /// Must run single-threaded (the kernel refuses a user namespace to a threaded process).
    public func enter(afterUser: () -> Void = {}) throws(SysError) {
        if !entries.contains(where: { $0.type == Namespace.user }) { afterUser() }
        for e in entries {
            try Proc.setns(e.fd, e.type, what: "/proc/\(pid)/ns/\(e.name)")
            if e.type == Namespace.user { afterUser() }
        }
        _ = try retrying("fchdir", "/proc/\(pid)/root") { Glibc.fchdir(root) }
        _ = try retrying("chroot", "/proc/\(pid)/root") { Glibc.chroot(".") }
    }

    public func close() {
        for e in entries { Files.close(e.fd) }
        Files.close(root)
    }
}

/// One namespace's file (/proc/PID/ns/KIND of a process in it, or a bind mount of one),
/// opened to be entered with setns: burrow-oci's linux.namespaces[].path. Its kind is checked
/// when it is opened (the kernel's NS_GET_NSTYPE), so that a wrong path is named before
/// anything of the sandbox exists, not as setns's bare EINVAL later.
public struct NamespaceFile {
    /// As /proc/PID/ns names it (`net`, `uts`).
    public let name: String
    /// Its `Namespace` flag.
    public let type: Int32
    public let path: String
    public let fd: Int32

    static let names: [(String, Int32)] = [
        ("user", Namespace.user), ("mnt", Namespace.mount), ("pid", Namespace.pid), ("ipc", Namespace.ipc),
        ("uts", Namespace.uts), ("net", Namespace.net), ("cgroup", Namespace.cgroup), ("time", 0x80),
    ]

    /// The `Namespace` flag of the kind /proc/PID/ns calls `name`.
    public static func type(named name: String) -> Int32? { names.first { $0.0 == name }?.1 }

    /// Opens `path`, which must be a namespace of kind `name` (`net`, `uts`...).
    public static func open(_ path: String, name: String) throws(SysError) -> NamespaceFile {
        guard let type = type(named: name) else { throw SysError("join", "\(name) namespace \(path)", errno: .invalidArgument) }
        let fd: Int32
        do { fd = try Files.open(path, O_RDONLY) } catch {
            throw SysError("open \(name) namespace", path, errno: error.errno,
                           hint: error.errno == .noSuchFileOrDirectory ? "the process whose namespace it named may have ended" : nil)
        }
        let actual = ck_ns_get_nstype(fd)
        if actual < 0 {
            let e = SysError.last("ioctl NS_GET_NSTYPE", path)
            Files.close(fd)
            throw SysError(e.operation, e.subject, errno: e.errno,
                           hint: e.errno == .inappropriateIOCTLForDevice ? "not a namespace file: /proc/PID/ns/\(name), or a bind mount of one" : nil)
        }
        guard actual == type else {
            Files.close(fd)
            let other = names.first { $0.1 == actual }?.0 ?? "another kind of"
            throw SysError("join \(name) namespace", path, errno: .invalidArgument, hint: "it is a \(other) namespace, not a \(name) namespace")
        }
        return NamespaceFile(name: name, type: type, path: path, fd: fd)
    }

    /// setns(2). The user namespace first: it grants the capabilities setns needs for the
    /// others. A PID namespace takes only the children made afterwards.
    public func enter() throws(SysError) {
        try Proc.setns(fd, type, what: "\(name) namespace \(path)")
    }

    public func close() { Files.close(fd) }
}
