import BurrowKernel
import CKernel
import Glibc

/// The cleaner: a small process outside the sandbox's namespaces that removes, once the
/// sandbox has ended, what Burrow had to create on the host (missing mount points, --dir and
/// --symlink results, the pid file). It outlives a `kill -9` of burrow, so nothing is left
/// behind then either. Each entry arrives with an fd of its parent directory, so a path the
/// sandbox rewrote in the meantime cannot redirect the removal.
public enum Cleaner {
    public enum Kind: UInt8 { case directory = 0x64, file = 0x66, symlink = 0x6c, pidFile = 0x70 }

    public struct Entry {
        public var parent: Int32
        public var name: String
        public var kind: Kind
        public var inode: UInt64
        public var device: UInt64
    }

    /// Sandbox side: announce that `name` in `parent` was created by Burrow.
    public static func record(_ sock: Int32, parent: Int32, name: String, kind: Kind) {
        guard sock >= 0, let st = try? Files.stat(name, at: parent) else { return }
        var bytes: [UInt8] = [kind.rawValue]
        withUnsafeBytes(of: UInt64(st.st_ino).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt64(st.st_dev).littleEndian) { bytes += $0 }
        bytes += Array(name.utf8)
        _ = bytes.withUnsafeBytes { ck_send_fd(sock, parent, $0.baseAddress, $0.count) }
    }

    static func decode(_ bytes: ArraySlice<UInt8>, fd: Int32) -> Entry? {
        guard bytes.count > 17, let kind = Kind(rawValue: bytes[bytes.startIndex]) else { return nil }
        func u64(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[bytes.startIndex + at + i]) << (8 * UInt64(i)) }
            return v
        }
        let name = String(decoding: bytes.dropFirst(17), as: UTF8.self)
        return Entry(parent: fd, name: name, kind: kind, inode: u64(1), device: u64(9))
    }

    /// Cleaner side: collect entries until every sandbox process has closed its end, then
    /// remove them, newest first. Only what is still exactly what Burrow made goes: an
    /// entry the command replaced, or a directory it filled, stays.
    public static func run(_ sock: Int32, initial: [Entry]) -> Never {
        Signals.ignore([SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU])
        var entries = initial
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            var fd: Int32 = -1
            let n = buf.withUnsafeMutableBytes { ck_recv_fd(sock, $0.baseAddress, $0.count, &fd) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n <= 0 { break }
            if let e = decode(buf[..<n], fd: fd) { entries.append(e) } else { Files.close(fd) }
        }
        for e in entries.reversed() { remove(e) }
        Proc.exit(0)
    }

    /// Cleaner side, before `run`: creates the pid file, so that the one process that
    /// outlives a `kill -9` of burrow owns it from the moment it exists. Sends the supervisor
    /// the open file (reply "o") or the errno of the failure (reply "e" + 4 bytes, and the
    /// cleaner ends: there is nothing to remove).
    public static func createPidFile(_ sock: Int32, parent: Int32, name: String) -> Entry {
        do {
            let fd = try Files.open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode: 0o644, at: parent)
            let st = try Files.stat(name, at: parent)
            let entry = Entry(parent: parent, name: name, kind: .pidFile, inode: UInt64(st.st_ino), device: UInt64(st.st_dev))
            let reply: [UInt8] = [0x6f]
            _ = reply.withUnsafeBytes { ck_send_fd(sock, fd, $0.baseAddress, $0.count) }
            Files.close(fd)
            return entry
        } catch {
            var reply: [UInt8] = [0x65]
            withUnsafeBytes(of: error.errno.rawValue.littleEndian) { reply += $0 }
            _ = reply.withUnsafeBytes { ck_send_fd(sock, -1, $0.baseAddress, $0.count) }
            Proc.exit(0)
        }
    }

    /// Supervisor side: the pid file the cleaner made, or why it could not.
    public static func receivePidFile(_ sock: Int32, path: String) -> Result<Int32, SysError> {
        var buf = [UInt8](repeating: 0, count: 8)
        var fd: Int32 = -1
        var n = -1
        repeat {
            n = buf.withUnsafeMutableBytes { ck_recv_fd(sock, $0.baseAddress, $0.count, &fd) }
        } while n < 0 && Glibc.errno == EINTR
        if n >= 1, buf[0] == 0x6f, fd >= 0 { return .success(fd) }
        if fd >= 0 { Files.close(fd) }
        // The errno the cleaner saw; EIO if it died without a word (it said why on stderr).
        Glibc.errno = n == 5 && buf[0] == 0x65 ? Int32(buf[1]) | Int32(buf[2]) << 8 | Int32(buf[3]) << 16 | Int32(buf[4]) << 24 : EIO
        return .failure(SysError.last("open pid file", path))
    }

    static func remove(_ e: Entry) {
        // The sandbox's mounts go away with its last process, a moment after its fds are
        // closed: until then a mount point is busy, or shows the mount on top of it.
        for _ in 0..<500 {
            guard let st = try? Files.stat(e.name, at: e.parent) else { return }
            if UInt64(st.st_ino) != e.inode || UInt64(st.st_dev) != e.device {
                if isMountRoot(e) { usleep(4_000); continue }
                return  // replaced by the command: not ours any more
            }
            let type = st.st_mode & S_IFMT
            switch e.kind {
            case .directory where type != S_IFDIR: return
            case .file where type != S_IFREG || st.st_size != 0: return
            case .symlink where type != S_IFLNK: return
            case .pidFile where type != S_IFREG: return
            default: break
            }
            do {
                try Files.unlink(e.name, at: e.parent, directory: e.kind == .directory)
                return
            } catch {
                guard error.errno == .resourceBusy else { return }
                usleep(4_000)
            }
        }
    }

    static func isMountRoot(_ e: Entry) -> Bool {
        guard let fd = try? Files.open(e.name, O_PATH | O_NOFOLLOW, at: e.parent) else { return false }
        defer { Files.close(fd) }
        return (try? Files.mountInfo(fd).isMountRoot) ?? false
    }
}
