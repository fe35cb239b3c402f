// Pure: no Glibc. What the faked root did to files: owners, modes and device nodes that
// the host cannot hold for an unprivileged user, kept per file (device and inode) for the
// session and, with --fake-db, in a file between sessions (as fakeroot's -s and -i).

/// A file, as stat names it: st_dev (glibc's encoding) and st_ino.
struct FileKey: Hashable, Sendable, Comparable {
    var dev: UInt64
    var ino: UInt64
    static func < (a: FileKey, b: FileKey) -> Bool { (a.dev, a.ino) < (b.dev, b.ino) }
}

/// What stat shows instead of the host's values; nil fields are the host's.
struct FakeAttributes: Equatable, Sendable {
    var uid: UInt32?
    var gid: UInt32?
    /// Permission bits (07777).
    var permissions: UInt32?
    /// File type bits (S_IFCHR, S_IFBLK) of a device node made as a regular file.
    var type: UInt32?
    var rdev: UInt64?

    var isEmpty: Bool { uid == nil && gid == nil && permissions == nil && type == nil && rdev == nil }
}

/// The fields of a stat result that faking changes.
struct StatFields: Equatable, Sendable {
    var key: FileKey
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var rdev: UInt64
}

enum FileMode {
    static let typeMask: UInt32 = 0o170000
    static let directory: UInt32 = 0o040000
    static let regular: UInt32 = 0o100000
    static let characterDevice: UInt32 = 0o020000
    static let blockDevice: UInt32 = 0o060000
    static let symlink: UInt32 = 0o120000
    static let permissionMask: UInt32 = 0o7777

    /// The mode the host file really gets when the guest asks for `wanted`: the owner
    /// (the caller, on the host) keeps read and write, and search on directories, so that
    /// root's bypass of permission checks keeps working; set-id bits stay faked only.
    static func usable(_ wanted: UInt32, directory: Bool) -> UInt32 {
        let owner: UInt32 = directory ? 0o700 : 0o600
        // Set-group-id stays on directories (inheritance of the group); sticky everywhere.
        return (wanted & (directory ? 0o3777 : 0o1777)) | owner
    }

    /// Whether `usable` changes anything (then the faked mode must be remembered).
    static func needsFaking(_ wanted: UInt32, directory: Bool) -> Bool {
        usable(wanted, directory: directory) != wanted & permissionMask
    }
}

/// glibc's makedev, for statx's major and minor.
func makeDevice(major: UInt32, minor: UInt32) -> UInt64 {
    let ma = UInt64(major), mi = UInt64(minor)
    return ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

func deviceNumbers(_ dev: UInt64) -> (major: UInt32, minor: UInt32) {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff)
    return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
}

struct OwnershipTable: Equatable, Sendable {
    private(set) var entries: [FileKey: FakeAttributes] = [:]
    /// The host's ids of the caller, and who they appear as.
    var hostUid: UInt32
    var hostGid: UInt32
    var shownUid: UInt32
    var shownGid: UInt32

    init(hostUid: UInt32, hostGid: UInt32, shownUid: UInt32, shownGid: UInt32) {
        self.hostUid = hostUid
        self.hostGid = hostGid
        self.shownUid = shownUid
        self.shownGid = shownGid
    }

    subscript(key: FileKey) -> FakeAttributes? { entries[key] }

    mutating func update(_ key: FileKey, _ change: (inout FakeAttributes) -> Void) {
        var a = entries[key] ?? FakeAttributes()
        change(&a)
        entries[key] = a.isEmpty ? nil : a
    }

    mutating func forget(_ key: FileKey) { entries[key] = nil }

    /// The owner a file appears to have: the faked one, else the caller's files as the
    /// faked identity, else the host's.
    func shownOwner(_ real: StatFields) -> (uid: UInt32, gid: UInt32) {
        let a = entries[real.key]
        let uid = a?.uid ?? (real.uid == hostUid ? shownUid : real.uid)
        let gid = a?.gid ?? (real.gid == hostGid ? shownGid : real.gid)
        return (uid, gid)
    }

    /// A stat result as the guest sees it.
    func shown(_ real: StatFields) -> StatFields {
        var s = real
        (s.uid, s.gid) = shownOwner(real)
        if let a = entries[real.key] {
            if let p = a.permissions { s.mode = (s.mode & ~FileMode.permissionMask) | (p & FileMode.permissionMask) }
            if let t = a.type, real.mode & FileMode.typeMask == FileMode.regular {
                s.mode = (s.mode & ~FileMode.typeMask) | t
                s.rdev = a.rdev ?? 0
            }
        }
        return s
    }

    // MARK: the file (--fake-db)

    static let header = "burrow-fake-db 1"

    struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// One line per file: `dev ino uid gid permissions(octal) type(octal) rdev`, `-` where
    /// the host's value applies.
    func serialized() -> String {
        var out = Self.header + "\n"
        for key in entries.keys.sorted() {
            let a = entries[key]!
            func f<T: BinaryInteger>(_ v: T?, octal: Bool = false) -> String {
                guard let v else { return "-" }
                return octal ? String(v, radix: 8) : String(v)
            }
            out += "\(key.dev) \(key.ino) \(f(a.uid)) \(f(a.gid)) \(f(a.permissions, octal: true)) \(f(a.type, octal: true)) \(f(a.rdev))\n"
        }
        return out
    }

    mutating func load(_ text: String) throws(FormatError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first else { return }
        guard first == Self.header else { throw FormatError(line: 1, message: "not a Burrow fake database (expected '\(Self.header)')") }
        for (i, line) in lines.enumerated().dropFirst() {
            let w = line.split(separator: " ").map(String.init)
            guard w.count == 7, let dev = UInt64(w[0]), let ino = UInt64(w[1]) else {
                throw FormatError(line: i + 1, message: "expected 'dev ino uid gid mode type rdev'")
            }
            func opt<T: FixedWidthInteger>(_ s: String, _ radix: Int = 10) throws(FormatError) -> T? {
                if s == "-" { return nil }
                guard let v = T(s, radix: radix) else { throw FormatError(line: i + 1, message: "'\(s)' is not a number") }
                return v
            }
            let a = FakeAttributes(uid: try opt(w[2]), gid: try opt(w[3]), permissions: try opt(w[4], 8),
                                   type: try opt(w[5], 8), rdev: try opt(w[6]))
            entries[FileKey(dev: dev, ino: ino)] = a.isEmpty ? nil : a
        }
    }
}

/// The layouts of the stat results the kernel writes (x86_64 `struct stat`, `struct statx`;
/// i386's `struct stat64` of stat64, lstat64, fstat64 and fstatat64, and its `struct stat` of
/// stat, lstat and fstat: 32-bit numbers, 16-bit mode and owners).
enum StatLayout: Equatable, Sendable {
    case stat
    case statx
    case stat64
    case compatStat

    var size: Int {
        switch self {
        case .stat: return 144
        case .statx: return 256
        case .stat64: return 96
        case .compatStat: return 64
        }
    }

    /// The id a 16-bit field shows for `id` (the kernel's high2lowuid: overflowuid 65534).
    static func narrowId(_ id: UInt32) -> UInt32 { id > 0xFFFF ? 65534 : id }

    static func u16(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 { u16(b, o) | u16(b, o + 2) << 16 }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32 }
    static func put32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
    static func put16(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { for i in 0..<2 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
    static func put64(_ b: inout [UInt8], _ o: Int, _ v: UInt64) { for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }

    /// statx's mask bits for the fields read here.
    static let statxType: UInt32 = 0x1, statxMode: UInt32 = 0x2, statxUid: UInt32 = 0x8, statxGid: UInt32 = 0x10, statxIno: UInt32 = 0x100

    func read(_ b: [UInt8]) -> StatFields? {
        guard b.count >= size else { return nil }
        switch self {
        case .stat:
            return StatFields(key: FileKey(dev: Self.u64(b, 0), ino: Self.u64(b, 8)), mode: Self.u32(b, 24),
                              uid: Self.u32(b, 28), gid: Self.u32(b, 32), rdev: Self.u64(b, 40))
        case .statx:
            let dev = makeDevice(major: Self.u32(b, 136), minor: Self.u32(b, 140))
            return StatFields(key: FileKey(dev: dev, ino: Self.u64(b, 32)), mode: Self.u16(b, 28),
                              uid: Self.u32(b, 20), gid: Self.u32(b, 24),
                              rdev: makeDevice(major: Self.u32(b, 128), minor: Self.u32(b, 132)))
        case .stat64:
            return StatFields(key: FileKey(dev: Self.u64(b, 0), ino: Self.u64(b, 88)), mode: Self.u32(b, 16),
                              uid: Self.u32(b, 24), gid: Self.u32(b, 28), rdev: Self.u64(b, 32))
        case .compatStat:
            return StatFields(key: FileKey(dev: UInt64(Self.u32(b, 0)), ino: UInt64(Self.u32(b, 4))), mode: Self.u16(b, 8),
                              uid: Self.u16(b, 12), gid: Self.u16(b, 14), rdev: UInt64(Self.u32(b, 16)))
        }
    }

    /// A host `struct stat` (x86_64's, as `.stat` lays it out) in this layout, as the kernel's
    /// cp_stat64 and cp_compat_stat write it for an i386 caller; nil where a number does not
    /// fit (the kernel's EOVERFLOW), and for statx (the kernel's own either way).
    func converted(fromStat b: [UInt8]) -> [UInt8]? {
        guard b.count >= Self.stat.size else { return nil }
        switch self {
        case .stat: return b
        case .statx: return nil
        case .compatStat:
            let dev = Self.u64(b, 0), ino = Self.u64(b, 8), nlink = Self.u64(b, 16), rdev = Self.u64(b, 40), length = Self.u64(b, 48)
            guard dev <= 0xFFFF_FFFF, ino <= 0xFFFF_FFFF, nlink <= 0xFFFF, rdev <= 0xFFFF_FFFF, length <= 0x7FFF_FFFF else { return nil }
            var out = [UInt8](repeating: 0, count: size)
            Self.put32(&out, 0, UInt32(dev)); Self.put32(&out, 4, UInt32(ino))
            Self.put16(&out, 8, Self.u32(b, 24)); Self.put16(&out, 10, UInt32(nlink))  // st_mode, st_nlink
            Self.put16(&out, 12, Self.narrowId(Self.u32(b, 28))); Self.put16(&out, 14, Self.narrowId(Self.u32(b, 32)))
            Self.put32(&out, 16, UInt32(rdev)); Self.put32(&out, 20, UInt32(length))
            Self.put32(&out, 24, Self.u32(b, 56)); Self.put32(&out, 28, Self.u32(b, 64))  // st_blksize, st_blocks
            for (i, from) in [72, 80, 88, 96, 104, 112].enumerated() {  // st_[amc]time and their nsec
                Self.put32(&out, 32 + 4 * i, Self.u32(b, from))
            }
            return out
        case .stat64:
            var out = [UInt8](repeating: 0, count: size)
            let ino = Self.u64(b, 8)
            Self.put64(&out, 0, Self.u64(b, 0))  // st_dev
            Self.put32(&out, 12, UInt32(truncatingIfNeeded: ino))  // __st_ino
            Self.put32(&out, 16, Self.u32(b, 24))  // st_mode
            Self.put32(&out, 20, Self.u32(b, 16))  // st_nlink
            Self.put32(&out, 24, Self.u32(b, 28)); Self.put32(&out, 28, Self.u32(b, 32))  // st_uid, st_gid
            Self.put64(&out, 32, Self.u64(b, 40))  // st_rdev
            Self.put64(&out, 44, Self.u64(b, 48))  // st_size
            Self.put32(&out, 52, Self.u32(b, 56))  // st_blksize
            Self.put64(&out, 56, Self.u64(b, 64))  // st_blocks
            for (i, from) in [72, 80, 88, 96, 104, 112].enumerated() {  // st_[amc]time and their nsec
                Self.put32(&out, 64 + 4 * i, Self.u32(b, from))
            }
            Self.put64(&out, 88, ino)  // st_ino
            return out
        }
    }

    /// Whether the result shows a file that is not a symlink (for statx, only if the
    /// kernel says the type is filled in).
    func isPlainFile(_ b: [UInt8]) -> Bool {
        guard b.count >= size else { return false }
        let mode: UInt32
        switch self {
        case .stat: mode = Self.u32(b, 24)
        case .stat64: mode = Self.u32(b, 16)
        case .compatStat: mode = Self.u16(b, 8)
        case .statx:
            guard Self.u32(b, 0) & Self.statxType != 0 else { return false }
            mode = Self.u16(b, 28)
        }
        return mode & 0o170000 != 0o120000
    }

    func write(_ s: StatFields, into b: inout [UInt8]) {
        guard b.count >= size else { return }
        switch self {
        case .stat:
            Self.put32(&b, 24, s.mode); Self.put32(&b, 28, s.uid); Self.put32(&b, 32, s.gid); Self.put64(&b, 40, s.rdev)
        case .statx:
            Self.put16(&b, 28, s.mode); Self.put32(&b, 20, s.uid); Self.put32(&b, 24, s.gid)
            let (major, minor) = deviceNumbers(s.rdev)
            Self.put32(&b, 128, major); Self.put32(&b, 132, minor)
        case .stat64:
            Self.put32(&b, 16, s.mode); Self.put32(&b, 24, s.uid); Self.put32(&b, 28, s.gid); Self.put64(&b, 32, s.rdev)
        case .compatStat:
            Self.put16(&b, 8, s.mode); Self.put16(&b, 12, Self.narrowId(s.uid)); Self.put16(&b, 14, Self.narrowId(s.gid))
            Self.put32(&b, 16, UInt32(truncatingIfNeeded: s.rdev))
        }
    }
}
