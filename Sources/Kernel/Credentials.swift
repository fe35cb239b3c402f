import CKernel
import Glibc

/// User and group ids, and the calls that change them. Most of this is for setuid mode,
/// where burrow starts with euid 0 and the caller's real ids (Sources/Engines/Setuid).
public enum Credentials {
    public struct IDs: Equatable, Sendable, CustomStringConvertible {
        public var real: UInt32
        public var effective: UInt32
        public var saved: UInt32
        public var description: String { "\(real)/\(effective)/\(saved)" }
        public func all(_ id: UInt32) -> Bool { real == id && effective == id && saved == id }
    }

    public static func uids() -> IDs {
        var r: UInt32 = 0, e: UInt32 = 0, s: UInt32 = 0
        _ = ck_getresuid(&r, &e, &s)
        return IDs(real: r, effective: e, saved: s)
    }

    public static func gids() -> IDs {
        var r: UInt32 = 0, e: UInt32 = 0, s: UInt32 = 0
        _ = ck_getresgid(&r, &e, &s)
        return IDs(real: r, effective: e, saved: s)
    }

    /// The kernel's AT_SECURE: this exec raised privilege (setuid, setgid or file
    /// capabilities). glibc has then already dropped LD_*, GCONV_PATH, TMPDIR and friends.
    public static var isSecureExec: Bool { ck_at_secure() != 0 }

    /// The supplementary groups of this process.
    public static func groups() -> [UInt32] {
        let n = getgroups(0, nil)
        guard n > 0 else { return [] }
        var list = [gid_t](repeating: 0, count: Int(n))
        let got = getgroups(n, &list)
        return got > 0 ? Array(list[..<Int(got)]) : []
    }

    /// Capability sets of this process: (permitted, effective).
    public static func capabilities() throws(SysError) -> (permitted: UInt64, effective: UInt64) {
        let sets = try Capabilities.current()
        return (sets.permitted.rawValue, sets.effective.rawValue)
    }

    public static func clearCapabilities() throws(SysError) {
        try Capabilities.set(.init(permitted: [], effective: [], inheritable: []), what: "(clear all)")
    }

    /// Setuid mode's first step: from here on the process is the caller for every check the
    /// kernel makes (real, effective and fs uid and gid; exec kept the caller's groups), with
    /// no capability effective. Root's capabilities stay in the permitted set only (the saved
    /// uid stays 0, so the kernel keeps them there), for `Privileged.run` to raise one system
    /// call at a time. Every open, lookup, mkdir, /proc access check and kill() is the
    /// caller's own: no DAC override, no CAP_SYS_PTRACE through /proc/PID/cwd. Checked.
    public static func actAsCaller(uid: UInt32, gid: UInt32) throws(SysError) {
        // gid before uid: changing it needs CAP_SETGID, effective while the euid is still 0.
        if ck_setresgid(gid, gid, gid) != 0 { throw SysError.last("setresgid", "\(gid)") }
        // Leaving euid 0 empties the effective set; the permitted set stays while a uid is 0.
        if ck_setresuid(uid, uid, 0) != 0 { throw SysError.last("setresuid", "\(uid), \(uid), 0") }
        // A SECBIT_NO_SETUID_FIXUP inherited from the caller would have kept it: empty it here.
        var sets = try Capabilities.current()
        sets.effective = []
        try Capabilities.set(sets, what: "(empty the effective set)")
        let u = uids(), g = gids()
        let fsuid = UInt32(bitPattern: ck_setfsuid(UInt32.max)), fsgid = UInt32(bitPattern: ck_setfsgid(UInt32.max))
        guard u == IDs(real: uid, effective: uid, saved: 0), g.all(gid), fsuid == uid, fsgid == gid,
              try Capabilities.current().effective.isEmpty
        else {
            throw SysError("check the caller's ids", "uids \(u), gids \(g), fs \(fsuid)/\(fsgid)", errno: .notPermitted)
        }
    }

    /// True when this process has no rights beyond its real ids' own: effective ids are the
    /// real ones and, unless the real uid is 0, no capability is effective. (Setuid mode
    /// after `actAsCaller`: the permitted set does not count, only `Privileged.run` raises it.)
    public static var hasOnlyRealIDsRights: Bool {
        let u = uids(), g = gids()
        guard u.effective == u.real, g.effective == g.real else { return false }
        return u.real == 0 || ((try? Capabilities.current().effective.isEmpty) ?? false)
    }

    /// In a user namespace this process made, whose maps leave its own ids out (a root
    /// caller's ranges, burrow-oci's `0 1000 2000`): becomes `uid` and `gid` of it, so that
    /// what it creates has an owner the namespace can name (the kernel refuses with
    /// EOVERFLOW otherwise). Its capabilities there stay: it is the namespace's owner.
    public static func becomeInside(uid: UInt32, gid: UInt32) throws(SysError) {
        if ck_setresgid(gid, gid, gid) != 0 { throw SysError.last("setresgid", "\(gid) (inside the new user namespace)") }
        if ck_setresuid(uid, uid, uid) != 0 { throw SysError.last("setresuid", "\(uid) (inside the new user namespace)") }
    }

    /// Gives up root for good: the caller's groups, then gid, then uid (each step removes
    /// the right to the one before), then checks that every id is the caller's, that no
    /// capability is left and that uid 0 cannot be had back.
    public static func becomeForGood(uid: UInt32, gid: UInt32, groups: [UInt32]) throws(SysError) {
        if getuid() == 0 || geteuid() == 0 || uids().saved == 0 {
            let rc = groups.withUnsafeBufferPointer { g in Privileged.run(.setGroups) { ck_setgroups(g.count, g.baseAddress) } }
            if rc != 0 { throw SysError.last("setgroups", groups.map(String.init).joined(separator: ",")) }
        }
        if ck_setresgid(gid, gid, gid) != 0 { throw SysError.last("setresgid", "\(gid)") }
        if ck_setresuid(uid, uid, uid) != 0 { throw SysError.last("setresuid", "\(uid)") }
        // Leaving uid 0 clears the capability sets; file capabilities would survive it.
        if uid != 0 { try clearCapabilities() }
        try checkDropped(uid: uid, gid: gid)
    }

    /// The proof that privilege is gone: fails unless every uid and gid (and the fs ids) is
    /// the caller's, no capability is permitted, and setuid(0) is refused.
    public static func checkDropped(uid: UInt32, gid: UInt32) throws(SysError) {
        let u = uids(), g = gids()
        guard u.all(uid), g.all(gid) else {
            throw SysError("check ids after the drop", "uids \(u), gids \(g)", errno: .notPermitted)
        }
        let fsuid = UInt32(bitPattern: ck_setfsuid(UInt32.max)), fsgid = UInt32(bitPattern: ck_setfsgid(UInt32.max))
        guard fsuid == uid, fsgid == gid else {
            throw SysError("check fs ids after the drop", "\(fsuid)/\(fsgid)", errno: .notPermitted)
        }
        let caps = try capabilities()
        guard uid == 0 || (caps.permitted == 0 && caps.effective == 0) else {
            throw SysError("check capabilities after the drop", "permitted \(caps.permitted)", errno: .notPermitted)
        }
        if uid != 0, ck_setresuid(0, 0, 0) == 0 {
            throw SysError("check the drop", "setresuid(0) succeeded", errno: .notPermitted)
        }
    }

    /// access(2) of the file at `fd` with the *real* ids and their groups, capabilities
    /// ignored: "could the caller do this themselves?". `mode` is R_OK, W_OK, X_OK or a mix.
    public static func callerMay(_ mode: Int32, fd: Int32, what: String) throws(SysError) {
        if ck_faccessat2(fd, "", mode, AT_EMPTY_PATH) != 0 {
            throw SysError.last("access (as the caller, \(describe(mode)))", what)
        }
    }

    static func describe(_ mode: Int32) -> String {
        [(R_OK, "read"), (W_OK, "write"), (X_OK, "search")].filter { mode & $0.0 != 0 }.map(\.1).joined(separator: "+")
    }

    /// Replaces the whole environment of this process with `entries`.
    public static func replaceEnvironment(with entries: [(String, String)]) {
        _ = clearenv()
        for (k, v) in entries { _ = setenv(k, v, 1) }
    }

    /// The current environment as pairs, split at the first `=` byte (as getenv does).
    /// Bytes, not Characters: walking a String by grapheme costs more than the rest of
    /// this at every start.
    public static func environment() -> [(String, String)] {
        var out: [(String, String)] = []
        var p = Glibc.environ
        while let entry = p.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { start in
                let bytes = UnsafeBufferPointer(start: start, count: length)
                guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { return }
                out.append((String(decoding: UnsafeBufferPointer(rebasing: bytes[..<eq]), as: UTF8.self),
                            String(decoding: UnsafeBufferPointer(rebasing: bytes[(eq + 1)...]), as: UTF8.self)))
            }
            p += 1
        }
        return out
    }
}
