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
    /// EAGAIN (a rename or mount anywhere on the system while a `..` was resolved, which
    /// the kernel cannot tell from an escape) is tried again, as openat2(2) advises: a busy
    /// machine gives it now and then.
    public static func open2(_ path: String, at dir: Int32, flags: Int32, mode: UInt64 = 0, resolve: UInt64) throws(SysError) -> Int32 {
        var tries = 0
        while true {
            do throws(SysError) {
                return try retrying("open", path) { ck_openat2(dir, path, UInt64(flags | O_CLOEXEC), mode, resolve) }
            } catch {
                tries += 1
                guard error.errno == .resourceTemporarilyUnavailable, tries < 64 else { throw error }
            }
        }
    }

    public static func close(_ fd: Int32) { if fd >= 0 { _ = Glibc.close(fd) } }

    /// /dev/null in place of each of `fds` (a process that must not hold the caller's
    /// standard input or output open: a reader would not see their end). Best effort.
    public static func replaceWithNull(_ fds: [Int32]) {
        guard let null = try? open("/dev/null", O_RDWR) else { return }
        for fd in fds { _ = Glibc.dup2(null, fd) }
        close(null)
    }

    /// Closes descriptors `first` to `first+count-1` (close_range; one by one where the
    /// kernel has none, before 5.9).
    public static func close(from first: Int32, count: Int32) {
        guard count > 0, first >= 0 else { return }
        if ck_close_range(UInt32(first), UInt32(first) + UInt32(count) - 1) == 0 { return }
        for fd in first..<(first + count) { _ = Glibc.close(fd) }
    }

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

    /// statfs(2) of `path` as the bytes of the host's `struct statfs` (Swift's Glibc module
    /// lacks statfs), or the errno.
    public static func statfsBytes(_ path: String) -> Result<[UInt8], Errno> {
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = bytes.withUnsafeMutableBytes { ck_statfs_bytes(path, $0.baseAddress, UInt($0.count)) }
        guard n > 0 else { return .failure(Errno(rawValue: errno)) }
        bytes.removeSubrange(n...)
        return .success(bytes)
    }

    /// renameat2(2) of `from` to `to` (both absolute, or relative to the working directory)
    /// with RENAME_* `flags`; the errno if it fails.
    public static func rename(_ from: String, to: String, flags: UInt32) -> Result<Void, Errno> {
        ck_renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) == 0 ? .success(()) : .failure(Errno(rawValue: errno))
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

    /// Copies what can be read on `source` until its end to `destination` (a file made from a
    /// descriptor the caller passed, bwrap's `--file FD`).
    public static func copyAll(from source: Int32, to destination: Int32, what: String) throws(SysError) {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try retrying("read", "descriptor \(source) (for \(what))") {
                buf.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
            }
            if n == 0 { return }
            try writeAll(destination, Array(buf[..<n]), what: what)
        }
    }

    /// Takes a read lock on the whole of the open file `fd` (an open-file-description lock,
    /// F_OFD_SETLK: held while the descriptor is open, and seen by POSIX locks as theirs).
    public static func readLock(_ fd: Int32, what: String) throws(SysError) {
        _ = try retrying("lock", what) { ck_ofd_read_lock(fd) }
    }

    /// Whether `fd` is an open descriptor of this process.
    public static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

    /// Waits until a byte can be read on `fd`, or its end, and reads it (bwrap's --block-fd).
    public static func awaitByte(_ fd: Int32, what: String) throws(SysError) {
        var byte: UInt8 = 0
        _ = try retrying("read", what) { Glibc.read(fd, &byte, 1) }
    }

    /// fchmod of an open file (`--perms` of a data file: its mode exactly, whatever the umask).
    public static func chmod(_ fd: Int32, mode: mode_t, what: String) throws(SysError) {
        _ = try retrying("fchmod", what) { Glibc.fchmod(fd, mode) }
    }

    /// chmod of what the `O_PATH` fd `fd` is: fchmod refuses such an fd, and /proc/self/fd/N
    /// names exactly it.
    public static func chmod(opened fd: Int32, mode: mode_t, what: String) throws(SysError) {
        _ = try retrying("chmod", what) { Glibc.chmod("/proc/self/fd/\(fd)", mode) }
    }

    /// Writes a small file in one `write`, as /proc files such as uid_map require.
    /// `name` in `dir` replaced whole by `text`: written to `name.new`, then renamed over it,
    /// so that a reader sees the old file or the new one, never a part (runc's pid files).
    public static func replaceFile(_ name: String, at dir: Int32, with text: String) throws(SysError) {
        let new = name + ".new"
        let fd = try retrying("open", new) { Glibc.openat(dir, new, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        do {
            try writeAll(fd, Array(text.utf8), what: new)
            close(fd)
        } catch {
            close(fd)
            _ = Glibc.unlinkat(dir, new, 0)
            throw error
        }
        if Glibc.renameat(dir, new, dir, name) != 0 {
            let e = SysError.last("rename", "\(new) -> \(name)")
            _ = Glibc.unlinkat(dir, new, 0)
            throw e
        }
    }

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

// Queries the ptrace supervisor makes on host paths for its tracees (symlinks on the way,
// readlink, extended attributes, statx, the head of a file), and emptying a directory.
extension Files {
    public enum SymlinkProbe {
        /// It exists, and no symlink was met on the way.
        case found
        /// No symlink was met, but it could not be reached (no permission, not a directory).
        case noSymlink
        /// No symlink was met, and a component is missing (ENOENT).
        case missing
        case symlinkOnTheWay
    }

    /// openat2(dir, path, O_PATH, RESOLVE_NO_SYMLINKS): ELOOP means a symlink (or magic
    /// link) is somewhere on the way, the last component included; anything else (found,
    /// missing, no permission) means none was met.
    public static func probeNoSymlinks(_ path: String, at dir: Int32) -> SymlinkProbe {
        let fd = ck_openat2(dir, path, UInt64(O_PATH | O_CLOEXEC), 0, Resolve.noSymlinks)
        if fd >= 0 {
            _ = Glibc.close(fd)
            return .found
        }
        switch Glibc.errno {
        case ELOOP: return .symlinkOnTheWay
        case ENOENT: return .missing
        default: return .noSymlink
        }
    }

    /// fstatat(dir, path, AT_SYMLINK_NOFOLLOW): whether the last component of `path` is a
    /// symlink, for a path whose directories are known to be none (one call, not the two
    /// of an O_PATH open and its close).
    public static func probeLastComponent(_ path: String, at dir: Int32) -> SymlinkProbe {
        var st = Glibc.stat()
        guard fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return Glibc.errno == ENOENT ? .missing : .noSymlink }
        return st.st_mode & S_IFMT == S_IFLNK ? .symlinkOnTheWay : .found
    }

    /// The target of `path` if it is a symlink, else nil.
    public static func readlinkIfSymlink(_ path: String, at dir: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = Glibc.readlinkat(dir, path, &buf, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// readlinkat's bytes, at most `size` of them, or the errno (for answering a tracee's
    /// readlink: the supervisor runs it on the translated path).
    public static func readlinkBytes(_ path: String, size: Int) -> Result<[UInt8], Errno> {
        var buf = [CChar](repeating: 0, count: max(1, size))
        let n = Glibc.readlinkat(AT_FDCWD, path, &buf, buf.count)
        guard n >= 0 else { return .failure(Errno(rawValue: Glibc.errno)) }
        return .success(buf[..<n].map { UInt8(bitPattern: $0) })
    }

    /// getxattr(2) (`follow`) or lgetxattr(2) of `name`, into a buffer of `size` bytes (0:
    /// only the value's length, as the call itself does): the length and the bytes, or the
    /// errno (for answering a tracee's call on the translated path).
    public static func extendedAttribute(_ path: String, name: [UInt8], size: Int, follow: Bool) -> Result<(Int, [UInt8]), Errno> {
        var key = name
        key.append(0)
        var buf = [UInt8](repeating: 0, count: size)
        let n = key.withUnsafeBufferPointer { k in
            buf.withUnsafeMutableBytes { b in
                k.withMemoryRebound(to: CChar.self) { k in
                    follow ? getxattr(path, k.baseAddress, size == 0 ? nil : b.baseAddress, size)
                           : lgetxattr(path, k.baseAddress, size == 0 ? nil : b.baseAddress, size)
                }
            }
        }
        guard n >= 0 else { return .failure(Errno(rawValue: Glibc.errno)) }
        return .success((n, size == 0 ? [] : Array(buf[..<n])))
    }

    /// listxattr(2) (`follow`) or llistxattr(2), as `extendedAttribute`.
    public static func extendedAttributeNames(_ path: String, size: Int, follow: Bool) -> Result<(Int, [UInt8]), Errno> {
        var buf = [CChar](repeating: 0, count: size)
        let n = buf.withUnsafeMutableBufferPointer { b in
            follow ? listxattr(path, size == 0 ? nil : b.baseAddress, size) : llistxattr(path, size == 0 ? nil : b.baseAddress, size)
        }
        guard n >= 0 else { return .failure(Errno(rawValue: Glibc.errno)) }
        return .success((n, size == 0 ? [] : buf[..<n].map { UInt8(bitPattern: $0) }))
    }

    /// statx(2) into a raw `struct statx` (256 bytes), or the errno.
    public static func statxBytes(_ path: String, flags: Int32, mask: UInt32) -> Result<[UInt8], Errno> {
        var buf = [UInt8](repeating: 0, count: 256)
        let r = buf.withUnsafeMutableBytes { ck_statx(AT_FDCWD, path, flags, mask, $0.baseAddress) }
        return r == 0 ? .success(buf) : .failure(Errno(rawValue: Glibc.errno))
    }

    /// realpath(3): the canonical host path, or the errno.
    public static func realPath(_ path: String) throws(SysError) -> String {
        guard let p = Glibc.realpath(path, nil) else { throw SysError.last("realpath", path) }
        defer { free(p) }
        return String(cString: p)
    }

    /// The first `count` bytes of a file (for exec: `#!` lines and ELF headers).
    public static func readHead(_ path: String, count: Int, offset: Int = 0) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
        return n < 0 ? nil : Array(buf[..<n])
    }

    /// The names in directory `path` (without `.` and `..`); empty if it cannot be read.
    public static func entries(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// mknodat(2): the device node or FIFO `name` in `dir`; `mode` holds its type (S_IFCHR,
    /// S_IFBLK, S_IFIFO) and permission bits (less the umask).
    public static func makeNode(_ name: String, at dir: Int32, mode: mode_t, major: UInt32, minor: UInt32, what: String) throws(SysError) {
        let device = deviceNumber(major: major, minor: minor)
        _ = try retrying("mknod", what) { Glibc.mknodat(dir, name, mode, device) }
    }

    /// A dev_t of these numbers, as glibc's makedev lays it out.
    public static func deviceNumber(major: UInt32, minor: UInt32) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t(((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff))
    }

    /// chown of what the fd (`O_PATH` will do) is, never following a symlink.
    public static func chown(opened fd: Int32, uid: UInt32, gid: UInt32, what: String) throws(SysError) {
        _ = try retrying("chown \(uid):\(gid)", what) { Glibc.fchownat(fd, "", uid, gid, AT_EMPTY_PATH) }
    }

    /// mkfifo(3) of `path`.
    public static func makeFIFO(_ path: String, mode: mode_t) throws(SysError) {
        _ = try retrying("mkfifo", path) { Glibc.mkfifo(path, mode) }
    }

    /// One byte from `fd`, waiting for it; nil at its end.
    public static func readByte(_ fd: Int32, what: String) throws(SysError) -> UInt8? {
        var byte: UInt8 = 0
        return try retrying("read", what) { Glibc.read(fd, &byte, 1) } == 1 ? byte : nil
    }

    /// The process's working directory, if it has one it can name.
    public static func workingDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return getcwd(&buffer, buffer.count) != nil ? String(cString: buffer) : nil
    }

    /// Empties the directory `name` in `dir` (not the directory itself), never following
    /// symlinks.
    public static func emptyDirectory(_ name: String, at dir: Int32) {
        func clear(_ dir: Int32) {
            guard let d = fdopendir(Glibc.dup(dir)) else { return }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                if Glibc.unlinkat(dir, name, 0) == 0 { continue }
                let sub = Glibc.openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if sub >= 0 {
                    clear(sub)
                    _ = Glibc.close(sub)
                }
                _ = Glibc.unlinkat(dir, name, AT_REMOVEDIR)
            }
        }
        let fd = Glibc.openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            clear(fd)
            _ = Glibc.close(fd)
        }
    }
}
