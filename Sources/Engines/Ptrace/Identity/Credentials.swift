import SystemPackage

// Pure: no Glibc. The faked credentials of one traced process, and how the set*id calls
// change them, following the kernel's rules (kernel/sys.c) with "privileged" meaning a
// faked effective uid 0 (CAP_SETUID and CAP_SETGID come and go with it).

struct Credentials: Equatable, Sendable {
    var ruid: UInt32, euid: UInt32, suid: UInt32, fsuid: UInt32
    var rgid: UInt32, egid: UInt32, sgid: UInt32, fsgid: UInt32
    /// Supplementary groups.
    var groups: [UInt32]

    init(uid: UInt32, gid: UInt32, groups: [UInt32]? = nil) {
        ruid = uid; euid = uid; suid = uid; fsuid = uid
        rgid = gid; egid = gid; sgid = gid; fsgid = gid
        self.groups = groups ?? [gid]
    }

    /// `-1` as the kernel takes it: leave this id as it is.
    static let keep = UInt32.max

    var privileged: Bool { euid == 0 }

    /// The supplementary groups limit (NGROUPS_MAX).
    static let maxGroups = 65536

    enum Which: Equatable, Sendable { case user, group }

    /// setuid / setgid.
    mutating func set(_ which: Which, _ id: UInt32) -> Errno? {
        guard id != Self.keep else { return .invalidArgument }
        var t = triple(which)
        if privileged {
            t = (id, id, id, id)
        } else if id == t.r || id == t.s {
            t.e = id; t.fs = id
        } else {
            return .notPermitted
        }
        setTriple(which, t)
        return nil
    }

    /// setreuid / setregid.
    mutating func setRE(_ which: Which, real: UInt32, effective: UInt32) -> Errno? {
        var t = triple(which)
        let old = t
        if real != Self.keep {
            guard privileged || real == old.r || real == old.e else { return .notPermitted }
            t.r = real
        }
        if effective != Self.keep {
            guard privileged || effective == old.r || effective == old.e || effective == old.s else { return .notPermitted }
            t.e = effective
        }
        if real != Self.keep || (effective != Self.keep && effective != old.r) { t.s = t.e }
        t.fs = t.e
        setTriple(which, t)
        return nil
    }

    /// setresuid / setresgid.
    mutating func setRES(_ which: Which, real: UInt32, effective: UInt32, saved: UInt32) -> Errno? {
        var t = triple(which)
        let old = t
        for id in [real, effective, saved] where id != Self.keep && !privileged {
            guard id == old.r || id == old.e || id == old.s else { return .notPermitted }
        }
        if real != Self.keep { t.r = real }
        if effective != Self.keep { t.e = effective }
        if saved != Self.keep { t.s = saved }
        t.fs = t.e
        setTriple(which, t)
        return nil
    }

    /// setfsuid / setfsgid: returns the previous fs id, changed only when allowed.
    mutating func setFS(_ which: Which, _ id: UInt32) -> UInt32 {
        var t = triple(which)
        let old = t.fs
        if id != Self.keep, privileged || [t.r, t.e, t.s, t.fs].contains(id) {
            t.fs = id
            setTriple(which, t)
        }
        return old
    }

    mutating func setGroups(_ list: [UInt32]) -> Errno? {
        guard privileged else { return .notPermitted }
        guard list.count <= Self.maxGroups else { return .invalidArgument }
        groups = list
        return nil
    }

    /// A successful execve of a file whose (faked) mode is `mode` and owner `uid`:`gid`, as
    /// the kernel sets the ids (fs/exec.c bprm_fill_uid, security/commoncap.c): set-user-id
    /// makes the owner the effective uid; set-group-id with group execute (without it the
    /// bit means mandatory locking) makes the group the effective gid; the saved and fs
    /// ids follow the effective ones, set-id or not.
    mutating func exec(mode: UInt32, uid: UInt32, gid: UInt32) {
        if mode & 0o4000 != 0 { euid = uid }
        if mode & 0o2010 == 0o2010 { egid = gid }
        suid = euid; fsuid = euid
        sgid = egid; fsgid = egid
    }

    func triple(_ which: Which) -> (r: UInt32, e: UInt32, s: UInt32, fs: UInt32) {
        which == .user ? (ruid, euid, suid, fsuid) : (rgid, egid, sgid, fsgid)
    }

    private mutating func setTriple(_ which: Which, _ t: (r: UInt32, e: UInt32, s: UInt32, fs: UInt32)) {
        if which == .user { (ruid, euid, suid, fsuid) = t } else { (rgid, egid, sgid, fsgid) = t }
    }

    /// Whether the process is in group `gid` (fs gid or a supplementary group).
    func inGroup(_ gid: UInt32) -> Bool { gid == fsgid || groups.contains(gid) }
}

/// chown's rules for a faked owner: root may set anything; the owner may keep the owner
/// and set a group it belongs to.
enum ChownRule {
    static func allowed(_ c: Credentials, currentUid: UInt32, newUid: UInt32, newGid: UInt32) -> Bool {
        if c.fsuid == 0 { return true }
        guard currentUid == c.fsuid else { return false }
        if newUid != Credentials.keep && newUid != currentUid { return false }
        if newGid != Credentials.keep && !c.inGroup(newGid) { return false }
        return true
    }

    /// chmod: root or the (faked) owner.
    static func chmodAllowed(_ c: Credentials, currentUid: UInt32) -> Bool { c.fsuid == 0 || c.fsuid == currentUid }
}
