// Pure: no Glibc. System calls, by name, mapped to what the engine does with them, then keyed
// once by the engine's numbers (Syscall, SyscallNames.swift) for the tracer's lookups.

import BurrowSeccomp

/// How a path argument's last component is treated.
enum Follow: Equatable, Sendable {
    case always
    case never
    /// Follow unless this flag bit is set in argument `arg` (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW).
    case unlessFlag(arg: Int, bit: UInt64)
    /// Follow only if this flag bit is set (linkat's AT_SYMLINK_FOLLOW).
    case ifFlag(arg: Int, bit: UInt64)
    /// open: O_NOFOLLOW, or O_CREAT|O_EXCL, do not follow.
    case openFlags(arg: Int)
    /// openat2: the flags are the first field of the struct `arg` points to.
    case openHow(arg: Int)
}

/// Whether a call changes the file system at that path (refused with EROFS under a
/// read-only bind or --ro-root).
enum Writes: Equatable, Sendable {
    case no
    case yes
    /// open and openat: if O_WRONLY, O_RDWR, O_CREAT or O_TRUNC is set in argument `arg`.
    case openFlags(arg: Int)
    case openHow(arg: Int)
    /// access and faccessat: if W_OK is in argument `arg`.
    case accessMode(arg: Int)
}

/// One path argument: where the path is, and the directory fd it is relative to (nil: cwd).
struct PathArg: Equatable, Sendable {
    var dirfd: Int?
    var path: Int
    var follow: Follow
    var writes: Writes
    /// AT_EMPTY_PATH in this argument lets an empty path name the dirfd itself.
    var emptyPathFlag: Int?

    init(dirfd: Int? = nil, path: Int, follow: Follow, writes: Writes = .no, emptyPathFlag: Int? = nil) {
        self.dirfd = dirfd
        self.path = path
        self.follow = follow
        self.writes = writes
        self.emptyPathFlag = emptyPathFlag
    }
}

/// The groups of system calls; each has its own file with `enter` and `exit`.
enum SyscallGroup: Equatable, Sendable {
    /// Path arguments translated guest -> host; nothing to do on the way back.
    case paths([PathArg])
    /// readlink, readlinkat: the path in, the link's target translated back.
    case readlink(PathArg, buffer: Int, size: Int)
    case execve(PathArg, argv: Int)
    case getcwd
    /// bind, connect: a `struct sockaddr_un` path.
    case socketAddress(addr: Int, length: Int)
    /// getsockname, getpeername, accept, accept4: a unix socket's host path written back
    /// (`length`: the argument pointing to the socklen_t) is turned into the guest's.
    case socketName(addr: Int, length: Int)
    /// i386's socketcall: bind, connect, getsockname, getpeername, accept and accept4 with
    /// their arguments in an array in memory (Sockets.swift).
    case socketCall
    /// chroot: to the guest's `/` it succeeds and changes nothing; elsewhere EPERM.
    case chroot
    /// mount, umount2, pivot_root...: refused with EPERM (as for an unprivileged user).
    case refused
    /// ptrace: emulated for guest tracers (PtraceEmulation).
    case ptrace
    /// wait4, waitid: a guest tracer's tracees are reported from the emulation.
    case wait(waitid: Bool)
    /// kill, tkill, tgkill: a SIGCONT lets go a process kept in its group stop
    /// (PtraceEmulation). `target`: the pid or tid argument; `signal`: the signal's.
    case kill(target: Int, signal: Int, thread: Bool)
}

/// A call the supervisor answers on the seccomp listener: it runs it itself on the
/// translated host path (or lets the kernel run the tracee's own when nothing changes) and
/// writes the result into the tracee. Arguments are register indices.
enum NotifiedCall: Equatable, Sendable {
    /// stat, lstat, newfstatat, statx: `flags` the AT_* flags argument, `mask` statx's.
    case stat(PathArg, buffer: Int, layout: StatLayout, flags: Int?, mask: Int?)
    case fstat(fd: Int, buffer: Int)
    /// access, faccessat, faccessat2 (`flags`: its AT_* flags argument).
    case access(PathArg, mode: Int, flags: Int?)
    case readlink(PathArg, buffer: Int, size: Int)
    /// getxattr, lgetxattr: the attribute `name` (a string) into `value`, at most `size` bytes.
    case getxattr(PathArg, name: Int, value: Int, size: Int)
    /// listxattr, llistxattr: the names into `list`, at most `size` bytes.
    case listxattr(PathArg, list: Int, size: Int)
    /// open, openat (`flags`, `mode`: those arguments), but not with O_TMPFILE or O_PATH: the
    /// supervisor opens the translated host path (creating the file under the caller's
    /// umask) and sends the caller the descriptor. Only where the kernel can
    /// (`SyscallTable.hostNotified`); the filter traces the others (`tracedOpenBits`).
    case open(PathArg, flags: Int, mode: Int)
    /// statfs: the host's struct statfs of the translated path into `buffer`.
    case statfs(PathArg, buffer: Int)
    /// wait4, waitid: let through, unless a guest tracer waits (PtraceEmulation).
    case wait(waitid: Bool)
    /// kill, tkill, tgkill: let through, once a SIGCONT has let go the processes kept in
    /// their group stop that it names (PtraceEmulation).
    case kill(target: Int, signal: Int, thread: Bool)
    /// unlink, rmdir (`directory`), unlinkat (`flags`: its AT_* flags argument; AT_REMOVEDIR
    /// removes a directory): the supervisor removes the translated host path itself, so it
    /// knows at once whether a directory went (the path caches go then) and a failing
    /// removal costs no stop (dpkg tries to remove every directory a package has).
    case remove(PathArg, flags: Int?, directory: Bool)
    /// rename, renameat, renameat2 (`flags`: its RENAME_* argument): renamed here; the path
    /// caches go when what moved (or was swapped in) is a directory or a symlink.
    case rename(from: PathArg, to: PathArg, flags: Int?)
    /// link, linkat (`flags`: its AT_* argument; one with AT_EMPTY_PATH, which names a
    /// descriptor, is traced): linked here; the path caches go when the new name is one of
    /// a symlink.
    case link(from: PathArg, to: PathArg, flags: Int?)
    /// mkdir, mkdirat: made here with the caller's umask (and, for a faked root, a mode its
    /// owner can use, the asked one remembered).
    case mkdir(PathArg, mode: Int)
    /// utimensat with a path (a NULL one, futimens, is let through by the filter): the
    /// times (`times`: two timespecs, or NULL for now) set here.
    case utimes(PathArg, times: Int, flags: Int)
    /// The chown and chmod family and the id calls (get*id, set*id, getgroups, setgroups)
    /// when ids are faked: the emulator answers them without the kernel (FakeIdentity), so
    /// no stop is needed.
    case faked
    /// getcwd: the guest's path of the working directory, written to the caller's buffer
    /// (an interpreter asks it at every import: Python's path finder).
    case getcwd
}

enum SyscallTable {
    static let atNoFollow: UInt64 = 0x100  // AT_SYMLINK_NOFOLLOW
    static let atFollow: UInt64 = 0x400  // AT_SYMLINK_FOLLOW
    static let atEmptyPath: UInt64 = 0x1000
    static let oNoFollow: UInt64 = 0o400000

    #if arch(x86_64)
    /// The ABI of the engine's numbers (AUDIT_ARCH_X86_64), to which the calls of the other
    /// ABI the filter covers (i386) are mapped by name (TracedABI).
    static let abi: Architecture? = .x86_64
    /// By number: an array, not a dictionary (built at every start, looked up at every stop).
    static let table = Syscall.Table(byName)
    /// By name, each name once (a test checks).
    static let byName: [(name: String, group: SyscallGroup)] = {
        let nf = Follow.never, f = Follow.always
        func at(_ flagArg: Int) -> Follow { .unlessFlag(arg: flagArg, bit: atNoFollow) }
        var t: [(name: String, group: SyscallGroup)] = [
            ("open", .paths([PathArg(path: 0, follow: .openFlags(arg: 1), writes: .openFlags(arg: 1))])),
            ("openat", .paths([PathArg(dirfd: 0, path: 1, follow: .openFlags(arg: 2), writes: .openFlags(arg: 2))])),
            ("openat2", .paths([PathArg(dirfd: 0, path: 1, follow: .openHow(arg: 2), writes: .openHow(arg: 2))])),
            ("creat", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("stat", .paths([PathArg(path: 0, follow: f)])),
            ("lstat", .paths([PathArg(path: 0, follow: nf)])),
            ("newfstatat", .paths([PathArg(dirfd: 0, path: 1, follow: at(3), emptyPathFlag: 3)])),
            ("statx", .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)])),
            ("access", .paths([PathArg(path: 0, follow: f, writes: .accessMode(arg: 1))])),
            ("faccessat", .paths([PathArg(dirfd: 0, path: 1, follow: f, writes: .accessMode(arg: 2))])),
            ("faccessat2", .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .accessMode(arg: 2), emptyPathFlag: 3)])),
            ("chdir", .paths([PathArg(path: 0, follow: f)])),
            ("fchdir", .paths([])),  // nothing to translate, but the cached cwd goes
            ("mkdir", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("mkdirat", .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)])),
            ("mknod", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("mknodat", .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)])),
            ("unlink", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("unlinkat", .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)])),
            ("rmdir", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("rename", .paths([PathArg(path: 0, follow: nf, writes: .yes), PathArg(path: 1, follow: nf, writes: .yes)])),
            ("renameat", .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes), PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)])),
            ("renameat2", .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes), PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)])),
            ("link", .paths([PathArg(path: 0, follow: nf), PathArg(path: 1, follow: nf, writes: .yes)])),
            ("linkat", .paths([PathArg(dirfd: 0, path: 1, follow: .ifFlag(arg: 4, bit: atFollow), emptyPathFlag: 4),
                         PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)])),  // linkat
            ("symlink", .paths([PathArg(path: 1, follow: nf, writes: .yes)])),  // the target is stored as given
            ("symlinkat", .paths([PathArg(dirfd: 1, path: 2, follow: nf, writes: .yes)])),
            ("chmod", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("fchmodat", .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes)])),
            ("fchmodat2", .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes, emptyPathFlag: 3)])),
            ("chown", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("lchown", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("fchownat", .paths([PathArg(dirfd: 0, path: 1, follow: at(4), writes: .yes, emptyPathFlag: 4)])),
            ("utime", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("utimes", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("futimesat", .paths([PathArg(dirfd: 0, path: 1, follow: f, writes: .yes)])),
            ("truncate", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("statfs", .paths([PathArg(path: 0, follow: f)])),
            ("inotify_add_watch", .paths([PathArg(path: 1, follow: f)])),
            ("setxattr", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("lsetxattr", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("getxattr", .paths([PathArg(path: 0, follow: f)])),
            ("lgetxattr", .paths([PathArg(path: 0, follow: nf)])),
            ("listxattr", .paths([PathArg(path: 0, follow: f)])),
            ("llistxattr", .paths([PathArg(path: 0, follow: nf)])),
            ("removexattr", .paths([PathArg(path: 0, follow: f, writes: .yes)])),
            ("lremovexattr", .paths([PathArg(path: 0, follow: nf, writes: .yes)])),
            ("uselib", .paths([PathArg(path: 0, follow: f)])),
            ("acct", .paths([PathArg(path: 0, follow: f)])),
            ("swapon", .paths([PathArg(path: 0, follow: f)])),
            ("swapoff", .paths([PathArg(path: 0, follow: f)])),
            ("readlink", .readlink(PathArg(path: 0, follow: nf), buffer: 1, size: 2)),
            ("readlinkat", .readlink(PathArg(dirfd: 0, path: 1, follow: nf, emptyPathFlag: nil), buffer: 2, size: 3)),
            ("execve", .execve(PathArg(path: 0, follow: f), argv: 1)),
            ("execveat", .execve(PathArg(dirfd: 0, path: 1, follow: at(4), emptyPathFlag: 4), argv: 2)),
            ("getcwd", .getcwd),
            ("bind", .socketAddress(addr: 1, length: 2)),
            ("connect", .socketAddress(addr: 1, length: 2)),
            ("getsockname", .socketName(addr: 1, length: 2)),
            ("getpeername", .socketName(addr: 1, length: 2)),
            ("accept", .socketName(addr: 1, length: 2)),
            ("accept4", .socketName(addr: 1, length: 2)),
            ("chroot", .chroot),
            ("mount", .refused), ("umount2", .refused), ("pivot_root", .refused),
            ("open_tree", .refused), ("move_mount", .refused), ("fsopen", .refused), ("fsconfig", .refused), ("fsmount", .refused), ("fspick", .refused),
            ("mount_setattr", .refused),
            ("ptrace", .ptrace), ("wait4", .wait(waitid: false)), ("waitid", .wait(waitid: true)),
            ("kill", .kill(target: 0, signal: 1, thread: false)), ("tkill", .kill(target: 0, signal: 1, thread: true)),
            ("tgkill", .kill(target: 1, signal: 2, thread: true)),
        ]
        // *xattrat (6.13+): dirfd, path, at-flags
        t.append(("setxattrat", .paths([PathArg(dirfd: 0, path: 1, follow: at(2), writes: .yes, emptyPathFlag: 2)])))
        t.append(("getxattrat", .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)])))
        t.append(("listxattrat", .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)])))
        t.append(("removexattrat", .paths([PathArg(dirfd: 0, path: 1, follow: at(2), writes: .yes, emptyPathFlag: 2)])))
        t.append(("utimensat", .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes, emptyPathFlag: nil)])))
        t.append(("fanotify_mark", .paths([PathArg(dirfd: 3, path: 4, follow: f)])))  // (fd, flags, mask, dirfd, path)
        t.append(("name_to_handle_at", .paths([PathArg(dirfd: 0, path: 1, follow: at(4), emptyPathFlag: 4)])))
        return t
    }()
    #else
    static let abi: Architecture? = nil
    static let byName: [(name: String, group: SyscallGroup)] = []
    static let table = Syscall.Table<SyscallGroup>([])
    #endif

    /// The calls the supervisor completes itself through seccomp user notification (no
    /// ptrace stop): queries whose answer it can compute on the host and write back.
    #if arch(x86_64)
    static let notified = Syscall.numbered(notifiedByName)
    static let notifiedByName: [String: NotifiedCall] = {
        let nf = Follow.never, f = Follow.always
        func at(_ flagArg: Int) -> Follow { .unlessFlag(arg: flagArg, bit: atNoFollow) }
        return [
            "stat": .stat(PathArg(path: 0, follow: f), buffer: 1, layout: .stat, flags: nil, mask: nil),
            "lstat": .stat(PathArg(path: 0, follow: nf), buffer: 1, layout: .stat, flags: nil, mask: nil),
            "newfstatat": .stat(PathArg(dirfd: 0, path: 1, follow: at(3), emptyPathFlag: 3), buffer: 2, layout: .stat, flags: 3, mask: nil),
            "statx": .stat(PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2), buffer: 4, layout: .statx, flags: 2, mask: 3),
            "access": .access(PathArg(path: 0, follow: f, writes: .accessMode(arg: 1)), mode: 1, flags: nil),
            "faccessat": .access(PathArg(dirfd: 0, path: 1, follow: f, writes: .accessMode(arg: 2)), mode: 2, flags: nil),
            "faccessat2": .access(PathArg(dirfd: 0, path: 1, follow: at(3), writes: .accessMode(arg: 2), emptyPathFlag: 3), mode: 2, flags: 3),
            "readlink": .readlink(PathArg(path: 0, follow: nf), buffer: 1, size: 2),
            "readlinkat": .readlink(PathArg(dirfd: 0, path: 1, follow: nf), buffer: 2, size: 3),
            "getxattr": .getxattr(PathArg(path: 0, follow: f), name: 1, value: 2, size: 3),
            "lgetxattr": .getxattr(PathArg(path: 0, follow: nf), name: 1, value: 2, size: 3),
            "listxattr": .listxattr(PathArg(path: 0, follow: f), list: 1, size: 2),
            "llistxattr": .listxattr(PathArg(path: 0, follow: nf), list: 1, size: 2),
        ]
    }()
    /// Calls answered on the listener for the host's ABI only (`hostNotified`): statfs,
    /// whose i386 struct is another, and open and openat (NotifiedCall.open), traced when a
    /// bit of `tracedOpenBits` is set in their flags, and the removals, where the supervisor
    /// may run them as the caller would; wait4, waitid and the kills, let through unless the
    /// guest traces (a shell waits for every program it runs: a ptrace stop each, before).
    static let notifiedOnHost: [Int64: NotifiedCall] = Syscall.numbered(notifiedOnHostByName)
    static let notifiedOnHostByName: [String: NotifiedCall] = [
        "open": .open(PathArg(path: 0, follow: .openFlags(arg: 1), writes: .openFlags(arg: 1)), flags: 1, mode: 2),
        "openat": .open(PathArg(dirfd: 0, path: 1, follow: .openFlags(arg: 2), writes: .openFlags(arg: 2)), flags: 2, mode: 3),
        "statfs": .statfs(PathArg(path: 0, follow: .always), buffer: 1),
        "wait4": .wait(waitid: false), "waitid": .wait(waitid: true),
        "kill": .kill(target: 0, signal: 1, thread: false), "tkill": .kill(target: 0, signal: 1, thread: true),
        "tgkill": .kill(target: 1, signal: 2, thread: true),
        "unlink": .remove(PathArg(path: 0, follow: .never, writes: .yes), flags: nil, directory: false),
        "rmdir": .remove(PathArg(path: 0, follow: .never, writes: .yes), flags: nil, directory: true),
        "unlinkat": .remove(PathArg(dirfd: 0, path: 1, follow: .never, writes: .yes), flags: 2, directory: false),
        "rename": .rename(from: PathArg(path: 0, follow: .never, writes: .yes), to: PathArg(path: 1, follow: .never, writes: .yes), flags: nil),
        "renameat": .rename(from: PathArg(dirfd: 0, path: 1, follow: .never, writes: .yes),
                            to: PathArg(dirfd: 2, path: 3, follow: .never, writes: .yes), flags: nil),
        "renameat2": .rename(from: PathArg(dirfd: 0, path: 1, follow: .never, writes: .yes),
                             to: PathArg(dirfd: 2, path: 3, follow: .never, writes: .yes), flags: 4),
        "link": .link(from: PathArg(path: 0, follow: .never), to: PathArg(path: 1, follow: .never, writes: .yes), flags: nil),
        "linkat": .link(from: PathArg(dirfd: 0, path: 1, follow: .ifFlag(arg: 4, bit: atFollow)),
                        to: PathArg(dirfd: 2, path: 3, follow: .never, writes: .yes), flags: 4),
        "mkdir": .mkdir(PathArg(path: 0, follow: .never, writes: .yes), mode: 1),
        "mkdirat": .mkdir(PathArg(dirfd: 0, path: 1, follow: .never, writes: .yes), mode: 2),
        "utimensat": .utimes(PathArg(dirfd: 0, path: 1, follow: .unlessFlag(arg: 3, bit: atNoFollow), writes: .yes), times: 2, flags: 3),
        "chown": .faked, "lchown": .faked, "fchown": .faked, "fchownat": .faked,
        "chmod": .faked, "fchmod": .faked, "fchmodat": .faked, "fchmodat2": .faked,
        "getuid": .faked, "geteuid": .faked, "getgid": .faked, "getegid": .faked, "getresuid": .faked, "getresgid": .faked,
        "getgroups": .faked, "setuid": .faked, "setgid": .faked, "setreuid": .faked, "setregid": .faked, "setresuid": .faked,
        "setresgid": .faked, "setfsuid": .faked, "setfsgid": .faked, "setgroups": .faked,
        "getcwd": .getcwd,
    ]
    /// Calls that may change a working directory, the path leading to one, or put a
    /// symlink where the caches know a directory or a file: the fast path's caches are
    /// dropped at their entry and, if they succeeded, at their exit (Paths/FastPath.swift).
    /// A symlink appears only through these (symlink, a rename or a hard link of one); a
    /// removed directory (rmdir) leaves no path a cache could misname: a path through it
    /// fails in the kernel, and what is made there later is made by one of these or is no
    /// symlink, but it may be a working directory: the caches go at the exit of an rmdir
    /// that succeeded (`removesDirectory`). A rename or link of what is neither a
    /// directory nor a symlink changes nothing the caches hold (Tracer.movesOnlyAFile).
    static let invalidatesCachesByName = ["chdir", "fchdir", "chroot", "rename", "renameat", "renameat2", "symlink", "symlinkat",
                                          "link", "linkat"]
    static let invalidatesCaches = Set(invalidatesCachesByName.map(Syscall.number))
    /// The renames and hard links: their first path is what moves (or gets a new name).
    static let movesOrLinksByName = ["rename", "renameat", "renameat2", "link", "linkat"]
    static let movesOrLinks = Set(movesOrLinksByName.map(Syscall.number))
    #else
    static let notified: [Int64: NotifiedCall] = [:]
    static let notifiedByName: [String: NotifiedCall] = [:]
    static let notifiedOnHost: [Int64: NotifiedCall] = [:]
    static let notifiedOnHostByName: [String: NotifiedCall] = [:]
    static let invalidatesCachesByName: [String] = []
    static let invalidatesCaches: Set<Int64> = []
    static let movesOrLinksByName: [String] = []
    static let movesOrLinks: Set<Int64> = []
    #endif

    /// Path calls whose path may be NULL, then naming their descriptor (utimensat: glibc's
    /// futimens, as `touch` of an open file, `cp -p` and rsync call it), by the argument of
    /// that path: the filter lets them through with NULL there, untraced (pathsEnter has
    /// nothing to do for them).
    static let nullPathArgument: [Int64: Int] = {
        #if arch(x86_64)
        return [Syscall.number("utimensat"): 1]
        #else
        return [:]
        #endif
    }()

    /// The opens traced, not notified: an O_TMPFILE file (the flag holds O_DIRECTORY, so
    /// its own bit) has no name to make it by, and an O_PATH descriptor is one
    /// SECCOMP_IOCTL_NOTIF_ADDFD cannot send (EBADF).
    static let tracedOpenBits: UInt64 = 0o20000000 | 0o10000000

    /// The calls of `notifiedOnHost` the filter sends to the listener, with their rules:
    /// for a privileged supervisor only the waits, the kills and getcwd (its look-ups, opens and changes
    /// would not meet the permission checks of a tracee that dropped its privileges); the
    /// opens only where the kernel sends descriptors and keeps a taken call from restarting
    /// (Linux 5.19); the chown and chmod family only when ids are faked (`fakesIds`).
    static func hostNotified(sendsDescriptors: Bool, privileged: Bool, fakesIds: Bool) -> [TraceFilter.HostNotified] {
        notifiedOnHost.compactMap { nr, call -> TraceFilter.HostNotified? in
            switch call {
            case .open(_, let flags, _):
                return sendsDescriptors && !privileged ? TraceFilter.HostNotified(nr: nr, tracedIfArgument: flags, has: tracedOpenBits) : nil
            case .wait, .kill, .getcwd:
                return TraceFilter.HostNotified(nr: nr)
            case .faked:
                return fakesIds && !privileged ? TraceFilter.HostNotified(nr: nr) : nil
            case .link(_, _, let flags?):
                return privileged ? nil : TraceFilter.HostNotified(nr: nr, tracedIfArgument: flags, has: atEmptyPath)
            default:
                return privileged ? nil : TraceFilter.HostNotified(nr: nr)
            }
        }.sorted { $0.nr < $1.nr }
    }

    /// fstat: notified only when ids are faked (its result must show the faked owner).
    static let fstat: (nr: Int64, call: NotifiedCall) = (Syscall.fstat, .fstat(fd: 0, buffer: 1))

    static func group(_ nr: Int64) -> SyscallGroup? { table[nr] }

    /// Every number the engine looks up by name, resolved when the engine starts: a name
    /// missing from the generated table stops it there, before the command runs.
    static func resolveAll() {
        _ = (table, notified, notifiedOnHost, invalidatesCaches, movesOrLinks, nullPathArgument, fstat, Syscall.named, EmulatedTable.identity(), EmulatedTable.uname)
    }

    /// Whether this call may drop the fast path's caches (Tracer.enter decides).
    static func invalidatesCaches(_ nr: Int64) -> Bool { invalidatesCaches.contains(nr) }

    /// rmdir, and unlinkat with AT_REMOVEDIR (`flags`: its third argument): the caches go
    /// at its exit if it removed the directory (which may be a working directory).
    static func removesDirectory(_ nr: Int64, flags: UInt64) -> Bool {
        nr == Syscall.rmdir || (nr == Syscall.unlinkat && flags & atRemoveDir != 0)
    }
    static let atRemoveDir: UInt64 = 0x200

    /// The system calls the seccomp filter sends to the tracer.
    static var traced: [Int64] { table.numbers }
}
