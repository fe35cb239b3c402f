// Pure: no Glibc. The system calls the ptrace engine emulates beyond path translation, by
// feature: faked ids (the get/set id family, stat results, chown, chmod, mknod of devices,
// creation modes, removal), and a faked uname. They are traced only when the feature is on.

/// An id-state call.
enum IdCall: Equatable, Sendable {
    case get(Credentials.Which, effective: Bool)
    case getRES(Credentials.Which)
    case getGroups
    case set(Credentials.Which)
    case setRE(Credentials.Which)
    case setRES(Credentials.Which)
    case setFS(Credentials.Which)
    case setGroups
}

/// Where a call names its file: a path argument (with its dirfd), or a descriptor.
enum FileArg: Equatable, Sendable {
    case path(PathArg)
    case fd(Int)
}

enum EmulatedCall: Equatable, Sendable {
    case ids(IdCall)
    /// stat, lstat, newfstatat, statx (paths translated as usual), fstat: the result is
    /// rewritten at exit.
    case stat(buffer: Int, layout: StatLayout)
    /// chown family: not run; remembered. `flags`: the AT_* flags argument, if any.
    case chown(FileArg, uid: Int, gid: Int)
    /// chmod family: run with a mode the caller can still use; the asked one remembered.
    case chmod(FileArg, mode: Int)
    /// mknod, mknodat: devices become regular files, remembered as devices.
    case mknod(PathArg, mode: Int, dev: Int)
    /// mkdir, mkdirat: created usable by the caller, the asked mode remembered.
    case mkdir(PathArg, mode: Int)
    /// open, openat, creat: a new file created usable by the caller. `flags` nil: creat.
    case create(PathArg, flags: Int?, mode: Int)
    /// unlink, unlinkat, rmdir, and rename's target: a removed file's record goes too.
    case remove(PathArg)
    case uname
    /// capset: a faked root's succeeds (the capabilities it asks for are root's).
    case capset
    /// setxattr, lsetxattr, fsetxattr: run; EPERM (security.capability, trusted.*) is
    /// success for a faked root, as PRoot's -0 has it.
    case setxattr
    /// sethostname, setdomainname: the name (argument 0, length argument 1) becomes the
    /// faked uname's field `field`; a faked root's call succeeds without the kernel.
    case setUname(field: Int)
}

enum EmulatedTable {
    #if arch(x86_64)
    static func identity() -> [Int64: EmulatedCall] { Syscall.numbered(identityByName) }
    static let identityByName: [String: EmulatedCall] = {
        let nf = Follow.never, f = Follow.always
        let atNoFollow = SyscallTable.atNoFollow
        func at(_ flagArg: Int) -> Follow { .unlessFlag(arg: flagArg, bit: atNoFollow) }
        return [
            "getuid": .ids(.get(.user, effective: false)), "geteuid": .ids(.get(.user, effective: true)),
            "getgid": .ids(.get(.group, effective: false)), "getegid": .ids(.get(.group, effective: true)),
            "getresuid": .ids(.getRES(.user)), "getresgid": .ids(.getRES(.group)), "getgroups": .ids(.getGroups),
            "setuid": .ids(.set(.user)), "setgid": .ids(.set(.group)), "setreuid": .ids(.setRE(.user)), "setregid": .ids(.setRE(.group)),
            "setresuid": .ids(.setRES(.user)), "setresgid": .ids(.setRES(.group)), "setfsuid": .ids(.setFS(.user)), "setfsgid": .ids(.setFS(.group)),
            "setgroups": .ids(.setGroups),
            "stat": .stat(buffer: 1, layout: .stat), "fstat": .stat(buffer: 1, layout: .stat), "lstat": .stat(buffer: 1, layout: .stat),
            "newfstatat": .stat(buffer: 2, layout: .stat), "statx": .stat(buffer: 4, layout: .statx),
            "chown": .chown(.path(PathArg(path: 0, follow: f)), uid: 1, gid: 2),
            "lchown": .chown(.path(PathArg(path: 0, follow: nf)), uid: 1, gid: 2),
            "fchown": .chown(.fd(0), uid: 1, gid: 2),
            "fchownat": .chown(.path(PathArg(dirfd: 0, path: 1, follow: at(4), emptyPathFlag: 4)), uid: 2, gid: 3),
            "chmod": .chmod(.path(PathArg(path: 0, follow: f)), mode: 1),
            "fchmod": .chmod(.fd(0), mode: 1),
            "fchmodat": .chmod(.path(PathArg(dirfd: 0, path: 1, follow: f)), mode: 2),
            "fchmodat2": .chmod(.path(PathArg(dirfd: 0, path: 1, follow: at(3), emptyPathFlag: 3)), mode: 2),
            "mknod": .mknod(PathArg(path: 0, follow: nf), mode: 1, dev: 2),
            "mknodat": .mknod(PathArg(dirfd: 0, path: 1, follow: nf), mode: 2, dev: 3),
            "mkdir": .mkdir(PathArg(path: 0, follow: nf), mode: 1),
            "mkdirat": .mkdir(PathArg(dirfd: 0, path: 1, follow: nf), mode: 2),
            "open": .create(PathArg(path: 0, follow: .openFlags(arg: 1)), flags: 1, mode: 2),
            "openat": .create(PathArg(dirfd: 0, path: 1, follow: .openFlags(arg: 2)), flags: 2, mode: 3),
            "creat": .create(PathArg(path: 0, follow: f), flags: nil, mode: 1),
            "unlink": .remove(PathArg(path: 0, follow: nf)), "rmdir": .remove(PathArg(path: 0, follow: nf)),
            "unlinkat": .remove(PathArg(dirfd: 0, path: 1, follow: nf)),
            "rename": .remove(PathArg(path: 1, follow: nf)),
            "capset": .capset, "setxattr": .setxattr, "lsetxattr": .setxattr, "fsetxattr": .setxattr,
            "renameat": .remove(PathArg(dirfd: 2, path: 3, follow: nf)), "renameat2": .remove(PathArg(dirfd: 2, path: 3, follow: nf)),
        ]
    }()

    static let uname = Syscall.numbered(unameByName)
    static let unameByName: [String: EmulatedCall] = ["uname": .uname, "sethostname": .setUname(field: 1), "setdomainname": .setUname(field: 5)]
    #else
    static func identity() -> [Int64: EmulatedCall] { [:] }
    static let identityByName: [String: EmulatedCall] = [:]
    static let unameByName: [String: EmulatedCall] = [:]
    static let uname: [Int64: EmulatedCall] = [:]
    #endif

    /// The emulated calls for what the session fakes.
    static func calls(fakeIds: Bool, fakeUname: Bool) -> [Int64: EmulatedCall] {
        var t: [Int64: EmulatedCall] = [:]
        if fakeIds { t.merge(identity()) { a, _ in a } }
        if fakeUname { t.merge(uname) { a, _ in a } }
        return t
    }
}
