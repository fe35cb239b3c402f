import BurrowSandbox
import SystemPackage
import Testing

@testable import PtraceEngine

@Suite("Faked credentials: the set*id rules") struct CredentialsTests {
    enum Op: Sendable, CustomStringConvertible {
        case setuid(UInt32), setgid(UInt32), setreuid(UInt32, UInt32), setresuid(UInt32, UInt32, UInt32)
        case setresgid(UInt32, UInt32, UInt32), setfsuid(UInt32), setgroups([UInt32])
        var description: String {
            switch self {
            case .setuid(let u): "setuid(\(u))"
            case .setgid(let g): "setgid(\(g))"
            case .setreuid(let r, let e): "setreuid(\(r), \(e))"
            case .setresuid(let r, let e, let s): "setresuid(\(r), \(e), \(s))"
            case .setresgid(let r, let e, let s): "setresgid(\(r), \(e), \(s))"
            case .setfsuid(let u): "setfsuid(\(u))"
            case .setgroups(let g): "setgroups(\(g))"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let start: Credentials
        let ops: [Op]
        /// uid triple + fsuid, gid triple, groups; nil: the last op fails with EPERM.
        let uids: [UInt32]?
        var gids: [UInt32]? = nil
        var groups: [UInt32]? = nil
        var testDescription: String { "\(start.ruid): " + ops.map(\.description).joined(separator: "; ") }
    }

    static let keep = Credentials.keep
    static let root = Credentials(uid: 0, gid: 0)
    static let user = Credentials(uid: 1000, gid: 100)

    @Test(arguments: [
        Case(start: root, ops: [.setuid(1000)], uids: [1000, 1000, 1000, 1000]),
        Case(start: root, ops: [.setuid(1000), .setuid(0)], uids: nil),  // every id dropped
        Case(start: root, ops: [.setreuid(keep, 1000)], uids: [0, 1000, 1000, 1000]),
        Case(start: root, ops: [.setresuid(keep, 1000, keep)], uids: [0, 1000, 0, 1000]),
        Case(start: root, ops: [.setresuid(keep, 1000, keep), .setuid(0)], uids: [0, 0, 0, 0]),  // saved 0 lets it back
        Case(start: root, ops: [.setresuid(1, 2, 3), .setresuid(3, 1, 2)], uids: [3, 1, 2, 1]),
        Case(start: root, ops: [.setresuid(1, 2, 3), .setresuid(4, keep, keep)], uids: nil),
        Case(start: user, ops: [.setuid(0)], uids: nil),
        Case(start: user, ops: [.setuid(1000)], uids: [1000, 1000, 1000, 1000]),
        Case(start: user, ops: [.setfsuid(5)], uids: [1000, 1000, 1000, 1000]),  // refused silently
        Case(start: root, ops: [.setfsuid(5)], uids: [0, 0, 0, 5]),
        Case(start: root, ops: [.setresgid(7, 8, 9)], uids: [0, 0, 0, 0], gids: [7, 8, 9]),
        Case(start: user, ops: [.setgid(0)], uids: nil),
        Case(start: root, ops: [.setgroups([4, 5])], uids: [0, 0, 0, 0], groups: [4, 5]),
        Case(start: root, ops: [.setuid(1), .setgroups([4])], uids: nil),
    ])
    func transitions(_ c: Case) {
        var creds = c.start
        var failed: Errno?
        for op in c.ops {
            switch op {
            case .setuid(let u): failed = creds.set(.user, u)
            case .setgid(let g): failed = creds.set(.group, g)
            case .setreuid(let r, let e): failed = creds.setRE(.user, real: r, effective: e)
            case .setresuid(let r, let e, let s): failed = creds.setRES(.user, real: r, effective: e, saved: s)
            case .setresgid(let r, let e, let s): failed = creds.setRES(.group, real: r, effective: e, saved: s)
            case .setfsuid(let u): _ = creds.setFS(.user, u); failed = nil
            case .setgroups(let g): failed = creds.setGroups(g)
            }
        }
        guard let uids = c.uids else {
            #expect(failed == .notPermitted)
            return
        }
        #expect(failed == nil)
        #expect([creds.ruid, creds.euid, creds.suid, creds.fsuid] == uids)
        if let gids = c.gids { #expect([creds.rgid, creds.egid, creds.sgid] == gids) }
        if let groups = c.groups { #expect(creds.groups == groups) }
    }

    @Test("execve of a set-id file: the effective ids become its owner's; saved and fs ids follow", arguments: [
        // start, file mode, owner, group -> uids (r, e, s, fs), gids (r, e, s, fs)
        (user, UInt32(0o104755), UInt32(0), UInt32(0), [UInt32(1000), 0, 0, 0], [UInt32(100), 100, 100, 100]),
        (user, 0o102755, 0, 42, [1000, 1000, 1000, 1000], [100, 42, 42, 42]),
        (user, 0o102745, 0, 42, [1000, 1000, 1000, 1000], [100, 100, 100, 100]),  // no group x: locking, not set-gid
        (user, 0o106755, 7, 8, [1000, 7, 7, 7], [100, 8, 8, 8]),
        (root, 0o104755, 1000, 100, [0, 1000, 1000, 1000], [0, 0, 0, 0]),
        (user, 0o100755, 0, 0, [1000, 1000, 1000, 1000], [100, 100, 100, 100]),
    ])
    func exec(_ start: Credentials, mode: UInt32, owner: UInt32, group: UInt32, uids: [UInt32], gids: [UInt32]) {
        var c = start
        c.exec(mode: mode, uid: owner, gid: group)
        #expect([c.ruid, c.euid, c.suid, c.fsuid] == uids)
        #expect([c.rgid, c.egid, c.sgid, c.fsgid] == gids)
    }

    @Test("A set-id program's saved id is replaced at the next exec of a plain program")
    func execDropsSaved() {
        var c = Self.user
        c.exec(mode: 0o104755, uid: 0, gid: 0)
        #expect(c.setRES(.user, real: Credentials.keep, effective: 1000, saved: Credentials.keep) == nil)
        #expect([c.ruid, c.euid, c.suid] == [1000, 1000, 0])  // it may go back to 0 ...
        c.exec(mode: 0o100755, uid: 0, gid: 0)
        #expect([c.ruid, c.euid, c.suid] == [1000, 1000, 1000])  // ... until it execs
        #expect(c.set(.user, 0) == .notPermitted)
    }

    @Test(arguments: [
        (Credentials(uid: 0, gid: 0), UInt32(5), UInt32(7), UInt32(8), true),
        (Credentials(uid: 1000, gid: 100), 1000, Credentials.keep, 100, true),  // own file, own group
        (Credentials(uid: 1000, gid: 100), 1000, Credentials.keep, 7, false),  // a group it is not in
        (Credentials(uid: 1000, gid: 100), 1000, 0, Credentials.keep, false),  // giving it away
        (Credentials(uid: 1000, gid: 100), 5, Credentials.keep, 100, false),  // not its file
    ])
    func chownRule(_ c: Credentials, owner: UInt32, uid: UInt32, gid: UInt32, allowed: Bool) {
        #expect(ChownRule.allowed(c, currentUid: owner, newUid: uid, newGid: gid) == allowed)
    }
}

@Suite("Faked owners and modes") struct OwnershipTests {
    func table() -> OwnershipTable { OwnershipTable(hostUid: 1000, hostGid: 100, shownUid: 0, shownGid: 0) }
    let key = FileKey(dev: 2049, ino: 42)

    @Test("The caller's files appear as the faked identity's; others' as they are")
    func defaults() {
        let t = table()
        let mine = StatFields(key: key, mode: 0o100644, uid: 1000, gid: 100, rdev: 0)
        #expect(t.shown(mine) == StatFields(key: key, mode: 0o100644, uid: 0, gid: 0, rdev: 0))
        let theirs = StatFields(key: key, mode: 0o100644, uid: 33, gid: 100, rdev: 0)
        #expect(t.shown(theirs) == StatFields(key: key, mode: 0o100644, uid: 33, gid: 0, rdev: 0))
    }

    @Test("Recorded owner, mode and device win; the type changes only on a regular file")
    func recorded() {
        var t = table()
        t.update(key) { $0.uid = 12; $0.gid = 34; $0.permissions = 0o4755; $0.type = FileMode.characterDevice; $0.rdev = 0x103 }
        let real = StatFields(key: key, mode: 0o100600, uid: 1000, gid: 100, rdev: 0)
        #expect(t.shown(real) == StatFields(key: key, mode: 0o024755, uid: 12, gid: 34, rdev: 0x103))
        let dir = StatFields(key: key, mode: 0o040700, uid: 1000, gid: 100, rdev: 0)
        #expect(t.shown(dir).mode == 0o044755)
        t.forget(key)
        #expect(t[key] == nil)
    }

    @Test("An update that leaves nothing faked drops the entry")
    func emptyDropped() {
        var t = table()
        t.update(key) { $0.permissions = 0o700 }
        t.update(key) { $0.permissions = nil }
        #expect(t.entries.isEmpty)
    }

    @Test("Saved and loaded as text, unchanged")
    func roundTrip() throws {
        var t = table()
        t.update(key) { $0.uid = 12; $0.permissions = 0o755 }
        t.update(FileKey(dev: 1, ino: 2)) { $0.type = FileMode.blockDevice; $0.rdev = 0x801; $0.gid = 6 }
        let text = t.serialized()
        #expect(text == "burrow-fake-db 1\n1 2 - 6 - 60000 2049\n2049 42 12 - 755 - -\n")
        var u = table()
        try u.load(text)
        #expect(u.entries == t.entries)
    }

    @Test("A damaged file is refused, naming the line", arguments: [
        ("something else\n", 1), ("burrow-fake-db 1\n1 2 3\n", 2), ("burrow-fake-db 1\n1 2 x - - - -\n", 2),
        ("burrow-fake-db 1\n1 2 - - 9 - -\n", 2),
    ])
    func damaged(_ text: String, line: Int) {
        var t = table()
        #expect(throws: OwnershipTable.FormatError.self) { try t.load(text) }
        do { try t.load(text) } catch { #expect(error.line == line) }
    }

    @Test("What the host file gets: the owner can still use it", arguments: [
        (UInt32(0o000), false, UInt32(0o600), true), (0o644, false, 0o644, false), (0o4755, false, 0o755, true),
        (0o000, true, 0o700, true), (0o555, true, 0o755, true), (0o2775, true, 0o2775, false), (0o1777, true, 0o1777, false),
    ])
    func usable(_ wanted: UInt32, directory: Bool, real: UInt32, faked: Bool) {
        #expect(FileMode.usable(wanted, directory: directory) == real)
        #expect(FileMode.needsFaking(wanted, directory: directory) == faked)
    }

    @Test("stat and statx results: read and rewritten in place")
    func layouts() {
        var stat = [UInt8](repeating: 0, count: 144)
        StatLayout.put64(&stat, 0, 2049); StatLayout.put64(&stat, 8, 42); StatLayout.put32(&stat, 24, 0o100600)
        StatLayout.put32(&stat, 28, 1000); StatLayout.put32(&stat, 32, 100)
        let s = StatLayout.stat.read(stat)
        #expect(s == StatFields(key: key, mode: 0o100600, uid: 1000, gid: 100, rdev: 0))
        StatLayout.stat.write(StatFields(key: key, mode: 0o020644, uid: 0, gid: 5, rdev: 0x103), into: &stat)
        #expect(StatLayout.stat.read(stat) == StatFields(key: key, mode: 0o020644, uid: 0, gid: 5, rdev: 0x103))

        var statx = [UInt8](repeating: 0, count: 256)
        StatLayout.put32(&statx, 136, 8); StatLayout.put32(&statx, 140, 1)  // dev 8:1
        StatLayout.put64(&statx, 32, 42); StatLayout.put16(&statx, 28, 0o40755)
        StatLayout.put32(&statx, 20, 1000); StatLayout.put32(&statx, 24, 100)
        let x = StatLayout.statx.read(statx)
        #expect(x?.key == FileKey(dev: 0x801, ino: 42))
        StatLayout.statx.write(StatFields(key: key, mode: 0o060600, uid: 7, gid: 8, rdev: makeDevice(major: 259, minor: 300)), into: &statx)
        let y = StatLayout.statx.read(statx)
        #expect(y?.mode == 0o060600 && y?.uid == 7 && y?.gid == 8)
        #expect(StatLayout.u32(statx, 128) == 259 && StatLayout.u32(statx, 132) == 300)
    }

    /// i386's layouts from the host's struct stat, as the kernel's cp_stat64 and
    /// cp_compat_stat write them; numbers that do not fit the old one are EOVERFLOW (nil).
    @Test("i386's struct stat64 and struct stat from the host's, read and rewritten")
    func i386Layouts() throws {
        var host = [UInt8](repeating: 0, count: 144)
        StatLayout.put64(&host, 0, 2049); StatLayout.put64(&host, 8, 42); StatLayout.put64(&host, 16, 3)  // dev, ino, nlink
        StatLayout.put32(&host, 24, 0o100640); StatLayout.put32(&host, 28, 1000); StatLayout.put32(&host, 32, 70000)
        StatLayout.put64(&host, 48, 12); StatLayout.put64(&host, 88, 1_700_000_000)  // size, mtime
        let s64 = try #require(StatLayout.stat64.converted(fromStat: host))
        #expect(s64.count == 96)
        #expect(StatLayout.stat64.read(s64) == StatFields(key: key, mode: 0o100640, uid: 1000, gid: 70000, rdev: 0))
        #expect(StatLayout.u32(s64, 20) == 3 && StatLayout.u64(s64, 44) == 12 && StatLayout.u32(s64, 72) == 1_700_000_000)
        let old = try #require(StatLayout.compatStat.converted(fromStat: host))
        #expect(old.count == 64)
        // A gid above 16 bits shows as 65534, as the kernel shows it.
        #expect(StatLayout.compatStat.read(old) == StatFields(key: key, mode: 0o100640, uid: 1000, gid: 65534, rdev: 0))
        #expect(StatLayout.u16(old, 10) == 3 && StatLayout.u32(old, 20) == 12 && StatLayout.u32(old, 40) == 1_700_000_000)
        var written = s64
        StatLayout.stat64.write(StatFields(key: key, mode: 0o100600, uid: 0, gid: 0, rdev: 0), into: &written)
        #expect(StatLayout.stat64.read(written)?.uid == 0 && StatLayout.stat64.read(written)?.mode == 0o100600)
        StatLayout.put64(&host, 8, 1 << 32)  // an inode number beyond 32 bits
        #expect(StatLayout.compatStat.converted(fromStat: host) == nil)
    }

    @Test("makedev as glibc encodes it", arguments: [(UInt32(8), UInt32(1), UInt64(0x801)), (259, 300, 0x11_032c), (4096, 0, 0x1000_0000_0000)])
    func devices(major: UInt32, minor: UInt32, dev: UInt64) {
        #expect(makeDevice(major: major, minor: minor) == dev)
        #expect(deviceNumbers(dev) == (major, minor))
    }
}

@Suite("Emulated calls") struct EmulatedTableTests {
    @Test("Only the features asked for are traced")
    func features() {
        #expect(EmulatedTable.calls(fakeIds: false, fakeUname: false).isEmpty)
        #expect(EmulatedTable.calls(fakeIds: false, fakeUname: true) == [63: .uname, 170: .setUname(field: 1), 171: .setUname(field: 5)])
        let ids = EmulatedTable.calls(fakeIds: true, fakeUname: false)
        #expect(ids[102] == .ids(.get(.user, effective: false)) && ids[5] == .stat(buffer: 1, layout: .stat))
        #expect(ids[332] == .stat(buffer: 4, layout: .statx) && ids[63] == nil)
    }

    @Test("Every emulated path call is also translated by the path table, or has no path")
    func pathsStillTranslated() {
        for (nr, call) in EmulatedTable.calls(fakeIds: true, fakeUname: true) {
            switch call {
            case .ids, .uname, .setUname, .capset, .chown(.fd, _, _), .chmod(.fd, _): continue
            case .setxattr where nr == 190: continue  // fsetxattr
            case .stat where nr == 5: continue
            default: #expect(SyscallTable.group(nr) != nil, "call \(nr)")
            }
        }
    }
}
