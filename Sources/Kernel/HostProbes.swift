import CKernel
import Glibc
import SystemPackage

/// What this host lets an unprivileged process do, found by trying it, and the settings
/// that explain a refusal. Asked by the engine choice (Sources/burrow/main.swift).
public enum HostProbes {
    /// The first step of making and using a user namespace that failed.
    public struct UserNamespaceFailure: Equatable, Sendable {
        public enum Step: Sendable {
            case clone, setgroups, uidMap, gidMap, mount
        }
        public var step: Step
        public var errno: Errno
        public init(step: Step, errno: Errno) {
            self.step = step
            self.errno = errno
        }
    }

    /// Makes a user namespace in a vfork-style child that shares our memory, and in it does
    /// what the namespace engine does first: a mount namespace, its own id maps, `/` made
    /// private. nil when all of it worked. Costs one clone and four small writes.
    public static func userNamespace() -> UserNamespaceFailure? {
        var p = ck_userns_probe()
        func fill<T>(_ field: inout T, _ text: String) {
            withUnsafeMutableBytes(of: &field) { raw in
                let bytes = Array(text.utf8.prefix(raw.count - 1))
                raw.copyBytes(from: bytes + [0])
            }
        }
        fill(&p.uid_map, "0 \(getuid()) 1\n")
        fill(&p.gid_map, "0 \(getgid()) 1\n")
        guard ck_probe_userns(&p) != 0 else { return nil }
        let steps: [Int32: UserNamespaceFailure.Step] = [
            Int32(CK_PROBE_CLONE): .clone, Int32(CK_PROBE_SETGROUPS): .setgroups,
            Int32(CK_PROBE_UID_MAP): .uidMap, Int32(CK_PROBE_GID_MAP): .gidMap, Int32(CK_PROBE_MOUNT): .mount,
        ]
        return UserNamespaceFailure(step: steps[p.step] ?? .clone, errno: Errno(rawValue: p.err))
    }

    /// What is at `components` below the host directory `base`, resolved inside it (a
    /// symlink there means the tree's own target; the last one only if `follow`): there
    /// (a directory or not), missing but makeable by this process (the deepest directory on
    /// the way that exists is writable, and no symlink leads there), or neither.
    public enum PathState: Equatable, Sendable { case directory, other, creatable, notCreatable }

    public static func pathState(below base: String, _ components: [String], follow: Bool) -> PathState {
        guard let root = try? Files.open(base, O_PATH | O_DIRECTORY | O_CLOEXEC) else { return .notCreatable }
        defer { Files.close(root) }
        var n = components.count
        while n >= 0 {
            let path = n == 0 ? "." : components.prefix(n).joined(separator: "/")
            let flags = O_PATH | O_CLOEXEC | (n == components.count && !follow ? O_NOFOLLOW : 0)
            if let fd = try? Files.open2(path, at: root, flags: flags, resolve: Resolve.inRoot) {
                defer { Files.close(fd) }
                if n == components.count {
                    var st = stat()
                    guard fstat(fd, &st) == 0 else { return .notCreatable }
                    return st.st_mode & S_IFMT == S_IFDIR ? .directory : .other
                }
                return ck_faccessat2(fd, "", W_OK | X_OK, AT_EMPTY_PATH) == 0 ? .creatable : .notCreatable
            }
            guard Glibc.errno == ENOENT else { return .notCreatable }
            // A dangling symlink: the namespace engine makes no mount point through one.
            if n == components.count, Files.readlinkIfSymlink(path, at: root) != nil || hasSymlink(path, at: root) { return .notCreatable }
            n -= 1
        }
        return .notCreatable
    }

    /// Is any component of `path` below `dir` a symlink?
    private static func hasSymlink(_ path: String, at dir: Int32) -> Bool {
        if case .symlinkOnTheWay = Files.probeNoSymlinks(path, at: dir) { return true }
        return false
    }

    /// Why `path` is not a directory this process can make files in (the errno: ENOTDIR,
    /// EACCES, EROFS, ENOENT...), or nil when it is.
    public static func unwritableDirectory(_ path: String) -> Errno? {
        do {
            let st = try Files.stat(path, at: AT_FDCWD, follow: true)
            guard st.st_mode & S_IFMT == S_IFDIR else { return .notDirectory }
        } catch {
            return error.errno
        }
        return access(path, W_OK | X_OK) == 0 ? nil : Errno(rawValue: Glibc.errno)
    }

    /// Whether `path` lies on a `nosuid` mount, where a set-id program gains nothing.
    public static func onNosuidMount(_ path: String) -> Bool {
        var fs = statvfs()
        return statvfs(path, &fs) == 0 && fs.f_flag & UInt(ST_NOSUID) != 0
    }

    /// Whether this process has no_new_privs (nothing it executes gains privilege).
    public static var noNewPrivileges: Bool { Proc.statusField("NoNewPrivs", of: "self") == "1" }

    /// An integer sysctl (`kernel.apparmor_restrict_unprivileged_userns`), nil where this
    /// kernel has none or it cannot be read.
    public static func sysctl(_ name: String) -> Int? {
        let path = "/proc/sys/" + name.split(separator: ".").joined(separator: "/")
        guard let head = Files.readHead(path, count: 32) else { return nil }
        return Int(String(decoding: head.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }, as: UTF8.self))
    }

    /// Yama's ptrace scope (kernel.yama.ptrace_scope; 3: no process may trace another),
    /// nil where Yama is absent. A seccomp policy may forbid ptrace as well.
    public static var yamaPtraceScope: Int? { sysctl("kernel.yama.ptrace_scope") }

    /// True when a seccomp filter binds this process (`Seccomp: 2` in /proc/self/status):
    /// a container runtime's profile, most often.
    public static var seccompFiltered: Bool {
        Proc.statusField("Seccomp", of: "self") == "2"
    }
}
