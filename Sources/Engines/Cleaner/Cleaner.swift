import BurrowKernel
import CKernel
import Glibc
import SystemPackage

/// The cleaner: a small process outside the sandbox's namespaces that removes, once the
/// sandbox has ended, what Burrow had to create on the host (missing mount points, --dir and
/// --symlink results, the pid file, the ptrace engine's temporary directories). It outlives
/// a `kill -9` of burrow, so nothing is left behind then either. Each entry arrives with an
/// fd of its parent directory, so a path the sandbox rewrote in the meantime cannot redirect
/// the removal.
///
/// Two ways to hand it an entry: `record` (the namespace engine's init, after it created
/// something in its own mount namespace) and `make` (the ptrace engine, which creates on the
/// host's tree: the cleaner itself makes the entry, so the process that outlives burrow owns
/// it from the moment it exists and no `kill -9` can fall between creating and telling).
public enum Cleaner {
    /// `tree`: a directory removed with everything in it (an emulated tmpfs). `mount`: the
    /// mount at that place detached (MNT_DETACH, with all below it) if it is still the one
    /// whose id the entry's `inode` carries; mounts go first, before any removal.
    public enum Kind: UInt8 { case directory = 0x64, file = 0x66, symlink = 0x6c, pidFile = 0x70, tree = 0x74, mount = 0x6d }

    /// The first byte of a `make` request (record messages start with their `Kind`).
    static let makeRequest: UInt8 = 0x4d

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
        send(sock, Entry(parent: parent, name: name, kind: kind, inode: UInt64(st.st_ino), device: UInt64(st.st_dev)))
    }

    /// Sandbox side: announce that the mount `mountID`, at `name` in `parent`, is the
    /// sandbox's, to be detached once it has ended.
    public static func recordMount(_ sock: Int32, parent: Int32, name: String, mountID: UInt64) {
        guard sock >= 0 else { return }
        send(sock, Entry(parent: parent, name: name, kind: .mount, inode: mountID, device: 0))
    }

    /// A record message (`decode` reads it back): the kind, the inode and the device (8
    /// bytes each, little-endian), the name; the parent goes with it as a descriptor.
    private static func send(_ sock: Int32, _ e: Entry) {
        var bytes: [UInt8] = [e.kind.rawValue]
        withUnsafeBytes(of: e.inode.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: e.device.littleEndian) { bytes += $0 }
        bytes += Array(e.name.utf8)
        _ = bytes.withUnsafeBytes { ck_send_fd(sock, e.parent, $0.baseAddress, $0.count) }
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
    /// The one message the cleaner may print: what it could not remove.
    public static func run(_ sock: Int32, initial: [Entry]) -> Never {
        Signals.ignore([SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU])
        ResidentMemory.prepare()
        var entries = initial
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            var fd: Int32 = -1
            // The sandbox may run for hours: quiet for a while, the cleaner gives back the
            // pages of the code it ran (ResidentMemory) until the next message or the end.
            var ready = pollfd(fd: sock, events: Int16(POLLIN), revents: 0)
            _ = ResidentMemory.poll(&ready, count: 1)
            let n = buf.withUnsafeMutableBytes { ck_recv_fd(sock, $0.baseAddress, $0.count, &fd) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n <= 0 { break }
            if n > 0, buf[0] == makeRequest {
                if let e = make(buf[1..<n], parent: fd, reply: sock) { entries.append(e) } else { Files.close(fd) }
            } else if let e = decode(buf[..<n], fd: fd) {
                entries.append(e)
            } else {
                Files.close(fd)
            }
        }
        // Mounts first: what was created below them is reached once they are gone.
        for e in entries.filter({ $0.kind == .mount }).reversed() + entries.filter({ $0.kind != .mount }).reversed() {
            if let failure = remove(e) {
                // Nothing of the sandbox may stay on the host unsaid.
                let dir = Files.describe(e.parent)
                let path = dir.hasSuffix("/") ? dir + e.name : dir + "/" + e.name
                Diagnostics.say("\(path) was made for the sandbox and could not be removed: \(SysError.message(for: failure.errno))")
            }
        }
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

    /// Supervisor side: the cleaner's answer to a request, 'o' with a payload and maybe a
    /// descriptor, or 'e' with the errno it saw (EIO if it died without a word: it said why
    /// on stderr). A descriptor that came with an error is closed.
    static func answer(_ sock: Int32, capacity: Int) -> Result<(payload: ArraySlice<UInt8>, fd: Int32), Errno> {
        var buf = [UInt8](repeating: 0, count: capacity)
        var fd: Int32 = -1
        var n = -1
        repeat {
            n = buf.withUnsafeMutableBytes { ck_recv_fd(sock, $0.baseAddress, $0.count, &fd) }
        } while n < 0 && Glibc.errno == EINTR
        if n >= 1, buf[0] == 0x6f { return .success((buf[1..<n], fd)) }
        if fd >= 0 { Files.close(fd) }
        let errno = n == 5 && buf[0] == 0x65 ? Int32(buf[1]) | Int32(buf[2]) << 8 | Int32(buf[3]) << 16 | Int32(buf[4]) << 24 : EIO
        return .failure(Errno(rawValue: errno))
    }

    /// Supervisor side: the pid file the cleaner made, or why it could not.
    public static func receivePidFile(_ sock: Int32, path: String) -> Result<Int32, SysError> {
        switch answer(sock, capacity: 8) {
        case .success(let a) where a.fd >= 0: return .success(a.fd)
        case .success: return .failure(SysError("open pid file", path, errno: .ioError))
        case .failure(let e): return .failure(SysError("open pid file", path, errno: e))
        }
    }

    /// Removes `e` if it is still what Burrow made; nil when it is gone (or no longer
    /// Burrow's), else why it could not be removed.
    static func remove(_ e: Entry) -> SysError? {
        if e.kind == .mount { return detach(e) }
        // The sandbox's mounts go away with its last process, a moment after its fds are
        // closed: until then a mount point is busy, or shows the mount on top of it.
        var last: SysError?
        for _ in 0..<500 {
            guard let st = try? Files.stat(e.name, at: e.parent) else { return nil }
            if UInt64(st.st_ino) != e.inode || UInt64(st.st_dev) != e.device {
                if isMountRoot(e) { usleep(4_000); continue }
                return nil  // replaced by the command: not ours any more
            }
            let type = st.st_mode & S_IFMT
            switch e.kind {
            case .directory where type != S_IFDIR: return nil
            case .file where type != S_IFREG || st.st_size != 0: return nil
            case .symlink where type != S_IFLNK: return nil
            case .pidFile where type != S_IFREG: return nil
            case .tree where type != S_IFDIR: return nil
            default: break
            }
            if e.kind == .tree { Files.emptyDirectory(e.name, at: e.parent) }
            let directory = e.kind == .directory || e.kind == .tree
            do {
                try Files.unlink(e.name, at: e.parent, directory: directory)
                return nil
            } catch where error.errno == .permissionDenied {
                // Made in a directory of the caller's that its owner may not write (a rootfs
                // of mode 0555): the init, root in the user namespace, could create there; the
                // cleaner, the caller without capabilities, lends the owner write permission
                // for the removal and puts the mode back.
                do throws(SysError) {
                    try Files.withOwnerWriteAccess(e.parent) { () throws(SysError) in
                        try Files.unlink(e.name, at: e.parent, directory: directory)
                    }
                    return nil
                } catch where error.errno == .directoryNotEmpty {
                    return nil
                } catch { return error }
            } catch where error.errno == .directoryNotEmpty {
                return nil  // the command filled it: its files stay, and so does the directory
            } catch {
                guard error.errno == .resourceBusy else { return error }
                last = error
                usleep(4_000)
            }
        }
        return last
    }

    /// Detaches the mount at `e` if it is still the one recorded (its id in `inode`).
    static func detach(_ e: Entry) -> SysError? {
        guard let fd = try? Files.open(e.name, O_PATH | O_NOFOLLOW | O_DIRECTORY, at: e.parent) else { return nil }
        defer { Files.close(fd) }
        guard let info = try? Files.mountInfo(fd), info.isMountRoot, info.mountID == e.inode else { return nil }
        do { try Mounts.detach(fd, what: e.name) } catch { return error }
        return nil
    }

    static func isMountRoot(_ e: Entry) -> Bool {
        guard let fd = try? Files.open(e.name, O_PATH | O_NOFOLLOW, at: e.parent) else { return false }
        defer { Files.close(fd) }
        return (try? Files.mountInfo(fd).isMountRoot) ?? false
    }

    // MARK: make requests (the ptrace engine)

    /// Cleaner side: makes what the request asks for in `parent`, remembers it, and replies
    /// "o" + the name made, or "e" + the errno (4 bytes). Request: kind, mode (4 bytes), the
    /// name's length (2 bytes), the name, then a symlink's target. A `tree` name is a prefix:
    /// the cleaner adds six random characters, as mkdtemp does.
    static func make(_ bytes: ArraySlice<UInt8>, parent: Int32, reply sock: Int32) -> Entry? {
        func answer(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { ck_send_fd(sock, -1, $0.baseAddress, $0.count) } }
        func fail(_ e: Errno) -> Entry? {
            var r: [UInt8] = [0x65]
            withUnsafeBytes(of: e.rawValue.littleEndian) { r += $0 }
            answer(r)
            return nil
        }
        let b = Array(bytes)
        guard parent >= 0, b.count >= 7, let kind = Kind(rawValue: b[0]) else { return fail(.invalidArgument) }
        let mode = mode_t(b[1]) | mode_t(b[2]) << 8 | mode_t(b[3]) << 16 | mode_t(b[4]) << 24
        let length = Int(b[5]) | Int(b[6]) << 8
        guard b.count >= 7 + length else { return fail(.invalidArgument) }
        var name = String(decoding: b[7..<(7 + length)], as: UTF8.self)
        let target = String(decoding: b[(7 + length)...], as: UTF8.self)
        func create() throws(SysError) {
            switch kind {
            case .directory:
                try Files.mkdir(name, at: parent, mode: mode)
                try Files.chmod(name, at: parent, mode: mode)
            case .tree:
                let prefix = name
                var tries = 0
                while true {
                    name = prefix + randomSuffix()
                    do {
                        try Files.mkdir(name, at: parent, mode: 0o700)
                        break
                    } catch {
                        tries += 1
                        if error.errno != .fileExists || tries > 100 { throw error }
                    }
                }
                try Files.chmod(name, at: parent, mode: mode)
            case .symlink:
                try Files.symlink(target, name, at: parent)
            case .file, .pidFile:
                let fd = try Files.open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode, at: parent)
                Files.close(fd)
            case .mount:
                throw SysError("make", name, errno: .invalidArgument)  // a mount is recorded, never made here
            }
        }
        do throws(SysError) {
            do { try create() } catch where error.errno == .permissionDenied && kind != .tree {
                // A directory of the caller's that its owner may not write (a rootfs of mode
                // 0555): what the namespace engine's init may make there as root in its user
                // namespace, this engine makes too, and `remove` takes it away the same way.
                try Files.withOwnerWriteAccess(parent, create)
            }
            let st = try Files.stat(name, at: parent)
            answer([0x6f] + Array(name.utf8))
            return Entry(parent: parent, name: name, kind: kind, inode: UInt64(st.st_ino), device: UInt64(st.st_dev))
        } catch {
            return fail(error.errno)
        }
    }

    static func randomSuffix() -> String {
        // Bytes, not Characters: no generic collection for the runtime to build at start-up.
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var g = SystemRandomNumberGenerator()
        var suffix: [UInt8] = []
        for _ in 0..<6 { suffix.append(letters[Int(g.next() % UInt64(letters.count))]) }
        return String(decoding: suffix, as: UTF8.self)
    }

    /// Supervisor side of a cleaner that creates on the host's tree (the ptrace engine).
    /// The cleaner is a grandchild of burrow, not a child: a tracer that waits for any child
    /// must not wait for it, and it must outlive burrow. Started after burrow became a
    /// child subreaper (the ptrace engine's --dev directory, made when the guest first
    /// needs it), it comes back as burrow's child, which the tracer does not wait for.
    public struct Connection {
        public let socket: Int32

        /// Starts the cleaner; with `pidFile`, the cleaner creates it first (see
        /// `createPidFile`) and its open fd is returned.
        public static func start(pidFile: (parent: Int32, name: String, path: String)?) throws(SysError) -> (Connection, pidFile: Int32?) {
            let (mine, theirs) = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue))
            let middle: pid_t
            do { middle = try Proc.fork("cleaner") } catch {
                Files.close(mine)
                Files.close(theirs)
                throw error
            }
            if middle == 0 {
                // Only the cleaner's socket, the pid file's directory and stdio stay open.
                Files.close(mine)
                var keep = [theirs]
                if let p = pidFile { keep.append(p.parent) }
                closeAll(except: keep)
                guard let cleaner = try? Proc.fork("cleaner") else { Proc.exit(1) }
                if cleaner != 0 { Proc.exit(0) }
                let initial = pidFile.map { [createPidFile(theirs, parent: $0.parent, name: $0.name)] } ?? []
                run(theirs, initial: initial)
            }
            Files.close(theirs)
            let connection = Connection(socket: mine)
            guard Proc.wait(middle, noHang: false) == .exited(0) else {
                connection.finish()
                throw SysError("fork", "cleaner", errno: .resourceTemporarilyUnavailable)
            }
            guard let p = pidFile else { return (connection, nil) }
            switch receivePidFile(mine, path: p.path) {
            case .success(let fd): return (connection, fd)
            case .failure(let e):
                connection.finish()
                throw e
            }
        }

        /// Asks the cleaner to make `name` in `parent` (a `tree`: a fresh directory whose name
        /// starts with `name`); returns the name made.
        public func make(_ kind: Kind, name: String, in parent: Int32, mode: mode_t = 0, target: String = "",
                         what: String) throws(SysError) -> String {
            var request: [UInt8] = [makeRequest, kind.rawValue]
            withUnsafeBytes(of: UInt32(mode).littleEndian) { request += $0 }
            let nameBytes = Array(name.utf8)
            guard nameBytes.count < 0x10000 else { throw SysError(what, name, errno: .fileNameTooLong) }
            request += [UInt8(nameBytes.count & 0xff), UInt8(nameBytes.count >> 8)] + nameBytes + Array(target.utf8)
            let sent = request.withUnsafeBytes { ck_send_fd(socket, parent, $0.baseAddress, $0.count) }
            if sent < 0 { throw SysError.last(what, "\(name) (to the cleaner)") }
            switch Cleaner.answer(socket, capacity: 4096) {
            case .success(let a):
                Files.close(a.fd)
                return String(decoding: a.payload, as: UTF8.self)
            case .failure(let e): throw SysError(what, name, errno: e)
            }
        }

        /// Tells the cleaner that the sandbox is over and waits until it has removed
        /// everything and ended.
        public func finish() {
            _ = Glibc.shutdown(socket, Int32(SHUT_WR))
            var buf = [UInt8](repeating: 0, count: 64)
            while true {
                var fd: Int32 = -1
                let n = buf.withUnsafeMutableBytes { ck_recv_fd(socket, $0.baseAddress, $0.count, &fd) }
                Files.close(fd)
                if n < 0 && Glibc.errno == EINTR { continue }
                if n <= 0 { break }
            }
            Files.close(socket)
        }

        static func closeAll(except keep: [Int32]) {
            // close_range over the gaps between the kept ones; the list of /proc/self/fd
            // where the kernel has no close_range (before 5.9).
            var first: UInt32 = 3
            var ranged = true
            for fd in keep.sorted() where fd >= Int32(first) {
                if UInt32(fd) > first { ranged = ranged && ck_close_range(first, UInt32(fd) - 1) == 0 }
                first = UInt32(fd) + 1
            }
            if ranged && ck_close_range(first, UInt32.max) == 0 { return }
            // (The listing's own descriptor is closed again by the time the list is read.)
            let open = Files.entries("/proc/self/fd").compactMap { Int32($0) }
            for fd in open where fd > 2 && !keep.contains(fd) { Files.close(fd) }
        }
    }

    /// `path` as the directory to open and the name in it.
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
}
