import CKernel
import Glibc
import SystemPackage

/// File-descriptor operations. Everything that can be done through an fd is done through
/// one; paths are relative to a directory fd wherever a path could be swapped underneath.
public enum Files {
    public static let cwd: Int32 = AT_FDCWD

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0, at dir: Int32 = AT_FDCWD) throws(SysError) -> Int32 {
        try retrying("open", path) { Glibc.openat(dir, path, flags | O_CLOEXEC, mode) }
    }

    /// openat2 with RESOLVE_* flags: `RESOLVE_IN_ROOT` treats `dir` as `/` for `..` and symlinks.
    public static func open2(_ path: String, at dir: Int32, flags: Int32, mode: UInt64 = 0, resolve: UInt64) throws(SysError) -> Int32 {
        try retrying("open", path) { ck_openat2(dir, path, UInt64(flags | O_CLOEXEC), mode, resolve) }
    }

    public static func close(_ fd: Int32) { if fd >= 0 { _ = Glibc.close(fd) } }

    public static func mkdir(_ name: String, at dir: Int32, mode: mode_t) throws(SysError) {
        _ = try retrying("mkdir", name) { Glibc.mkdirat(dir, name, mode) }
    }

    /// chmod of the directory `name` in `dir`, through an fd so a symlink is never followed.
    public static func chmod(_ name: String, at dir: Int32, mode: mode_t) throws(SysError) {
        let fd = try open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, at: dir)
        defer { close(fd) }
        _ = try retrying("chmod", name) { Glibc.fchmod(fd, mode) }
    }

    /// Runs `body` with the directory `dir` (an `O_PATH` fd will do) writable and searchable
    /// by its owner, then puts its mode back: for a directory of one's own of mode 0555. Only
    /// the owner may change the mode, so another's directory stays as it is (EACCES from
    /// `body` then, or EPERM from chmod).
    public static func withOwnerWriteAccess(_ dir: Int32, _ body: () throws(SysError) -> Void) throws(SysError) {
        let st = try stat("", at: dir)
        let mode = st.st_mode & 0o7777
        let lent = mode | S_IRWXU
        guard lent != mode, st.st_uid == geteuid() else { return try body() }
        // fchmod refuses an O_PATH fd; /proc/self/fd/N names the same directory, whatever
        // path it had or has now.
        let procPath = "/proc/self/fd/\(dir)"
        _ = try retrying("chmod", describe(dir)) { Glibc.chmod(procPath, lent) }
        defer { _ = Glibc.chmod(procPath, mode) }
        try body()
    }

    public static func symlink(_ target: String, _ name: String, at dir: Int32) throws(SysError) {
        _ = try retrying("symlink", "\(name) -> \(target)") { Glibc.symlinkat(target, dir, name) }
    }

    public static func unlink(_ name: String, at dir: Int32, directory: Bool) throws(SysError) {
        _ = try retrying(directory ? "rmdir" : "unlink", name) { Glibc.unlinkat(dir, name, directory ? AT_REMOVEDIR : 0) }
    }

    public static func readlink(_ name: String, at dir: Int32) throws(SysError) -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try retrying("readlink", name) { Glibc.readlinkat(dir, name, &buf, buf.count - 1) }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func stat(_ name: String, at dir: Int32, follow: Bool = false) throws(SysError) -> stat {
        var st = Glibc.stat()
        let flags = (follow ? 0 : AT_SYMLINK_NOFOLLOW) | (name.isEmpty ? AT_EMPTY_PATH : 0)
        _ = try retrying("stat", name) { Glibc.fstatat(dir, name, &st, flags) }
        return st
    }

    /// The filesystem kinds Burrow must recognise by their superblock magic (statfs f_type).
    public enum FilesystemKind: Int, Sendable {
        case proc = 0x9fa0  // PROC_SUPER_MAGIC
        case tmpfs = 0x0102_1994  // TMPFS_MAGIC
    }

    /// The kind of filesystem `path` is on, nil when it cannot be asked or is none of these.
    public static func filesystemKind(_ path: String) -> FilesystemKind? {
        guard let fd = try? open(path, O_PATH | O_CLOEXEC) else { return nil }
        defer { close(fd) }
        var type = 0
        guard ck_fstatfs_type(fd, &type) == 0 else { return nil }
        return FilesystemKind(rawValue: type)
    }

    /// True when `fd` is the root directory of a procfs instance (procfs's root inode is 1):
    /// a bind of it shows processes, and its magic links mean the process that looks.
    public static func isProcfsRoot(_ fd: Int32) -> Bool {
        guard (try? isOnProcfs(fd)) == true else { return false }
        return (try? stat("", at: fd).st_ino) == 1
    }

    /// True when `fd` is anywhere on a procfs (its superblock's magic, fstatfs's f_type).
    public static func isOnProcfs(_ fd: Int32) throws(SysError) -> Bool {
        var type = 0
        _ = try retrying("fstatfs", describe(fd)) { ck_fstatfs_type(fd, &type) }
        return type == FilesystemKind.proc.rawValue
    }

    public struct MountInfo: Sendable { public var mountID: UInt64; public var isMountRoot: Bool; public var inode: UInt64; public var device: UInt64; public var mode: UInt32 }

    /// statx for the mount id and whether the fd is the root of a mount.
    public static func mountInfo(_ fd: Int32) throws(SysError) -> MountInfo {
        var id: UInt64 = 0, root: Int32 = 0, ino: UInt64 = 0, maj: UInt32 = 0, mi: UInt32 = 0, mode: UInt32 = 0
        _ = try retrying("statx", "fd \(fd)") { ck_statx_mount(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, &id, &root, &ino, &maj, &mi, &mode) }
        return MountInfo(mountID: id, isMountRoot: root == 1, inode: ino, device: (UInt64(maj) << 32) | UInt64(mi), mode: mode)
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(SysError) {
        var off = 0
        while off < bytes.count {
            let n = try retrying("write", what) { bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
            off += n
        }
    }

    /// Reads until EOF (or `limit` bytes).
    public static func readAll(_ fd: Int32, limit: Int = 1 << 20) throws(SysError) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let n = try retrying("read", "fd \(fd)") { buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            if n == 0 { break }
            out += buf[..<n]
        }
        return out
    }

    /// Writes a small file in one `write`, as /proc files such as uid_map require.
    public static func writeFile(_ path: String, _ text: String, at dir: Int32 = AT_FDCWD) throws(SysError) {
        let fd = try open(path, O_WRONLY, at: dir)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = try retrying("write", path) { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        if n != bytes.count { throw SysError("write", path, errno: .ioError) }
    }

    /// True when every write end of the pipe `fd` is closed.
    public static func isHungUp(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 1 && (p.revents & Int16(POLLHUP)) != 0
    }

    /// `nonBlocking`: both ends (a writer that must never wait, a reader under `poll`).
    public static func pipe(nonBlocking: Bool = false) throws(SysError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("pipe2", "") { ck_pipe2(&fds, O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)) }
        return (fds[0], fds[1])
    }

    /// Makes reads of `fd` return at once (EAGAIN) when nothing is there.
    public static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// What the non-blocking `fd` holds now; `ended`: end of file (every writer closed it).
    public static func readAvailable(_ fd: Int32) -> (bytes: [UInt8], ended: Bool) {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n > 0 { out += buf[..<n]; continue }
            // EOF, or nothing more for now (EAGAIN); another error ends it too.
            return (out, n == 0 || Glibc.errno != EAGAIN)
        }
    }

    public static func socketPair(_ type: Int32) throws(SysError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("socketpair", "") { Glibc.socketpair(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (fds[0], fds[1])
    }

    /// Asks the kernel to attach the sender's credentials to every message on `sock`.
    public static func passCredentials(_ sock: Int32) throws(SysError) {
        var on: Int32 = 1
        if setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw SysError.last("setsockopt", "SO_PASSCRED")
        }
    }

    /// Passes `fd` over the unix socket `sock` (SCM_RIGHTS).
    public static func sendDescriptor(_ sock: Int32, _ fd: Int32, what: String) throws(SysError) {
        let byte: [UInt8] = [1]
        let n = byte.withUnsafeBytes { ck_send_fd(sock, fd, $0.baseAddress, $0.count) }
        if n < 0 { throw SysError.last("send descriptor", what) }
    }

    /// Waits for a descriptor sent with `sendDescriptor`; nil when the peer closed first.
    public static func receiveDescriptor(_ sock: Int32) -> Int32? {
        var byte: UInt8 = 0
        var fd: Int32 = -1
        let n = ck_recv_fd(sock, &byte, 1, &fd)
        return n > 0 && fd >= 0 ? fd : nil
    }

    /// The pid (as this process's PID namespace numbers it) of whoever sent the datagram
    /// waiting on `sock`, which must have SO_PASSCRED; nil when nothing is waiting.
    public static func receiveSenderPid(_ sock: Int32) -> Int32? {
        var byte: UInt8 = 0
        var pid: Int32 = 0
        return ck_recv_creds_nonblocking(sock, &byte, &pid) > 0 && pid > 0 ? pid : nil
    }

    /// Path of an fd as the kernel names it (for messages only, never to open).
    public static func describe(_ fd: Int32) -> String {
        (try? readlink("/proc/self/fd/\(fd)", at: AT_FDCWD)) ?? "fd \(fd)"
    }
}
