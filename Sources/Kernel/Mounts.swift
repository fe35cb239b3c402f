import CKernel
import Glibc
import SystemPackage

/// The mount API, fd-based (open_tree / move_mount / mount_setattr / fsopen / fsmount):
/// sources are opened once and mounted through their fd, so nothing can swap a path
/// between the check and the mount, and no /proc is needed to name an fd.
public enum Mounts {
    public struct Attributes: OptionSet, Sendable, CustomStringConvertible {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public static let readOnly = Attributes(rawValue: 0x1)  // MOUNT_ATTR_RDONLY
        public static let noSuid = Attributes(rawValue: 0x2)
        public static let noDev = Attributes(rawValue: 0x4)
        public static let noExec = Attributes(rawValue: 0x8)
        // Access-time modes (MOUNT_ATTR__ATIME values): at most one of these; relatime is 0.
        public static let noAtime = Attributes(rawValue: 0x10)
        public static let strictAtime = Attributes(rawValue: 0x20)
        public static let noDirAtime = Attributes(rawValue: 0x80)
        public static let noSymFollow = Attributes(rawValue: 0x20_0000)
        static let atimeMask: UInt64 = 0x70
        /// noatime, strictatime, nodiratime: what changes the access-time mode.
        public static let accessTimeModes: Attributes = [.noAtime, .strictAtime, .noDirAtime]
        public var description: String {
            var parts: [String] = []
            if contains(.readOnly) { parts.append("ro") }
            if contains(.noSuid) { parts.append("nosuid") }
            if contains(.noDev) { parts.append("nodev") }
            if contains(.noExec) { parts.append("noexec") }
            if contains(.noAtime) { parts.append("noatime") }
            if contains(.strictAtime) { parts.append("strictatime") }
            if contains(.noDirAtime) { parts.append("nodiratime") }
            if contains(.noSymFollow) { parts.append("nosymfollow") }
            return parts.isEmpty ? "rw" : parts.joined(separator: ",")
        }
    }

    static let openTreeClone: UInt32 = 1
    static let atRecursive: UInt32 = 0x8000
    static let moveFromEmpty: UInt32 = 0x4
    static let moveToEmpty: UInt32 = 0x40

    /// A detached copy of the mount tree at `fd` (recursive), ready to be attached elsewhere.
    public static func cloneTree(_ fd: Int32, recursive: Bool = true, what: String) throws(SysError) -> Int32 {
        let flags = openTreeClone | UInt32(O_CLOEXEC) | UInt32(AT_EMPTY_PATH) | (recursive ? atRecursive : 0)
        return try retrying("open_tree (clone)", what) { Privileged.run(.cloneMount) { ck_open_tree(fd, "", flags) } }
    }

    /// Attaches the detached mount `tree` on top of the directory or file `target`.
    public static func attach(_ tree: Int32, onto target: Int32, what: String) throws(SysError) {
        _ = try retrying("move_mount", what) {
            Privileged.run(.attachMount) { ck_move_mount(tree, "", target, "", moveFromEmpty | moveToEmpty) }
        }
    }

    /// Sets attributes on the mount at `fd` and, when recursive, on every mount below it.
    /// Only sets, never clears: flags the kernel locked (from a more privileged namespace)
    /// therefore stay as they are instead of failing with EPERM.
    public static func setAttributes(_ fd: Int32, _ attrs: Attributes, recursive: Bool = true, what: String) throws(SysError) {
        guard !attrs.isEmpty else { return }
        let flags = UInt32(AT_EMPTY_PATH) | (recursive ? atRecursive : 0)
        // An access-time mode replaces the current one: the kernel wants the mask cleared.
        let clear = attrs.rawValue & Attributes.atimeMask != 0 ? Attributes.atimeMask : 0
        _ = try retrying("mount_setattr (\(attrs))", what) {
            Privileged.run(.setMountAttributes) { ck_mount_setattr(fd, "", flags, attrs.rawValue, clear, 0) }
        }
    }

    /// A filesystem being configured: `fsopen`, then `set`, then `mount()` for a detached mount.
    public struct FilesystemContext: ~Copyable {
        public let fd: Int32
        public let type: String
        let what: String

        public init(_ type: String, what: String) throws(SysError) {
            self.type = type
            self.what = what
            self.fd = try retrying("fsopen", type) { Privileged.run(.openFilesystem) { ck_fsopen(type, 1 /* FSOPEN_CLOEXEC */) } }
        }

        deinit { Files.close(fd) }

        public func set(_ key: String, _ value: String) throws(SysError) {
            try config(1 /* FSCONFIG_SET_STRING */, key, value, 0, "\(key)=\(value)")
        }

        public func set(flag key: String) throws(SysError) {
            try config(0 /* FSCONFIG_SET_FLAG */, key, nil, 0, key)
        }

        public func set(_ key: String, fd value: Int32) throws(SysError) {
            try config(5 /* FSCONFIG_SET_FD */, key, nil, value, "\(key)=\(Files.describe(value))")
        }

        /// Creates the superblock and returns a detached mount of it.
        public func mount(_ attrs: Attributes) throws(SysError) -> Int32 {
            try config(6 /* FSCONFIG_CMD_CREATE */, nil, nil, 0, "create")
            do {
                return try retrying("fsmount \(type) (\(attrs))", what) {
                    Privileged.run(.mountFilesystem) { ck_fsmount(fd, 1 /* FSMOUNT_CLOEXEC */, UInt32(attrs.rawValue)) }
                }
            } catch {
                throw withLog(error)
            }
        }

        private func config(_ cmd: UInt32, _ key: String?, _ value: String?, _ aux: Int32, _ text: String) throws(SysError) {
            let r: Int32 = { () -> Int32 in
                switch (key, value) {
                // Only the superblock's creation needs a capability; setting options does not.
                case (nil, _): return Privileged.run(.createSuperblock) { ck_fsconfig(fd, cmd, nil, nil, aux) }
                case (let k?, nil): return ck_fsconfig(fd, cmd, k, nil, aux)
                case (let k?, let v?): return ck_fsconfig(fd, cmd, k, v, aux)
                }
            }()
            if r < 0 { throw withLog(SysError.last("fsconfig \(type) \(text)", what)) }
        }

        /// The kernel explains filesystem errors in the context's message log: "e overlayfs: ...".
        private func withLog(_ error: SysError) -> SysError {
            var e = error
            var lines: [String] = []
            var buf = [UInt8](repeating: 0, count: 512)
            while true {
                let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                // "e VFS: Mount too revealing\n": a severity letter, the text, a newline.
                var text = String(decoding: buf[..<n], as: UTF8.self)
                while text.last == "\n" { text.removeLast() }
                if text.count > 2, text.dropFirst().first == " ", "ewi".contains(text.first ?? "x") { text.removeFirst(2) }
                lines.append(text)
            }
            if !lines.isEmpty { e.hint = ([e.hint].compactMap { $0 } + ["kernel says: " + lines.joined(separator: "; ")]).joined(separator: "\n  ") }
            return e
        }
    }

    /// This process's mount table, /proc/self/mountinfo, as the kernel writes it (BurrowSandbox's
    /// MountTable reads it).
    public static func tableText() throws(SysError) -> String {
        let fd = try Files.open("/proc/self/mountinfo", O_RDONLY)
        defer { Files.close(fd) }
        return String(decoding: try Files.readAll(fd, limit: 64 << 20), as: UTF8.self)
    }

    /// A propagation type (MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE), as
    /// mount_setattr's `propagation` takes it.
    public enum Propagation: UInt64, Sendable {
        case shared = 0x10_0000
        case slave = 0x8_0000
        case `private` = 0x4_0000
        case unbindable = 0x2_0000
    }

    /// Gives the mount at `fd` (attached: a detached one has no peers to have) this
    /// propagation, and every mount below it when recursive.
    public static func setPropagation(_ fd: Int32, _ type: Propagation, recursive: Bool, what: String) throws(SysError) {
        let flags = UInt32(AT_EMPTY_PATH) | (recursive ? atRecursive : 0)
        _ = try retrying("mount_setattr (\(recursive ? "r" : "")\(type))", what) {
            Privileged.run(.setMountAttributes) { ck_mount_setattr(fd, "", flags, 0, 0, type.rawValue) }
        }
    }

    /// Classic mount(2), for propagation changes only.
    public static func setPropagation(_ path: String, _ flags: UInt) throws(SysError) {
        _ = try retrying("mount (make \(path) private)", path) { Privileged.run(.setPropagation) { Glibc.mount(nil, path, nil, flags, nil) } }
    }

    /// Detaches (umount2 MNT_DETACH) the mount whose root `fd` is (a directory or a file),
    /// with everything mounted on and below it. umount2 takes a path: burrow's own
    /// /proc/self/fd/N, which names the fd and nothing the caller chose.
    public static func detach(_ fd: Int32, what: String) throws(SysError) {
        let path = "/proc/self/fd/\(fd)"
        _ = try retrying("umount2 (MNT_DETACH)", what) { Privileged.run(.detachMount) { Glibc.umount2(path, Int32(MNT_DETACH)) } }
    }

    /// Enters the directory `fd` as the root by chroot, where pivot_root would change others'
    /// roots too (a sandbox in the caller's mount namespace, as runc enters one without a
    /// mount namespace of its own).
    public static func chrootInto(_ fd: Int32, what: String) throws(SysError) {
        _ = try retrying("fchdir", what) { Glibc.fchdir(fd) }
        _ = try retrying("chroot", what) { Glibc.chroot(".") }
        _ = try retrying("chdir", "/") { Glibc.chdir("/") }
    }

    /// Enters the directory `fd` as the new root, as runc does: `pivot_root(".", ".")` stacks the
    /// old root on top of the new one; detaching it leaves only the new root.
    public static func pivotInto(_ fd: Int32, what: String) throws(SysError) {
        _ = try retrying("fchdir", what) { Glibc.fchdir(fd) }
        _ = try retrying("pivot_root", what) { Privileged.run(.pivotRoot) { ck_pivot_root(".", ".") } }
        _ = try retrying("umount2 (detach old root)", what) { Privileged.run(.detachMount) { Glibc.umount2(".", Int32(MNT_DETACH)) } }
        _ = try retrying("chdir", "/") { Glibc.chdir("/") }
    }
}

public enum Resolve {
    public static let noXDev: UInt64 = 0x01
    public static let noMagicLinks: UInt64 = 0x02
    public static let noSymlinks: UInt64 = 0x04
    public static let beneath: UInt64 = 0x08
    public static let inRoot: UInt64 = 0x10
}
