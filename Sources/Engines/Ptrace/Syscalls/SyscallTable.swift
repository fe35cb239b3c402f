// Pure: no Glibc. System-call numbers mapped to what the engine does with them, once; the
// architecture #if lives only here.

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
}

enum SyscallTable {
    static let atNoFollow: UInt64 = 0x100  // AT_SYMLINK_NOFOLLOW
    static let atFollow: UInt64 = 0x400  // AT_SYMLINK_FOLLOW
    static let atEmptyPath: UInt64 = 0x1000
    static let oNoFollow: UInt64 = 0o400000

    #if arch(x86_64)
    /// The ABI these numbers are of (AUDIT_ARCH_X86_64): the engine's numbers, to which
    /// the calls of the other ABI the filter covers (i386) are mapped by name (TracedABI).
    static let abi: Architecture? = .x86_64
    static let seccompSyscall: Int64 = 317
    static let table: [Int64: SyscallGroup] = {
        let nf = Follow.never, f = Follow.always
        func at(_ flagArg: Int) -> Follow { .unlessFlag(arg: flagArg, bit: atNoFollow) }
        var t: [Int64: SyscallGroup] = [
            2: .paths([PathArg(path: 0, follow: .openFlags(arg: 1), writes: .openFlags(arg: 1))]),  // open
            257: .paths([PathArg(dirfd: 0, path: 1, follow: .openFlags(arg: 2), writes: .openFlags(arg: 2))]),  // openat
            437: .paths([PathArg(dirfd: 0, path: 1, follow: .openHow(arg: 2), writes: .openHow(arg: 2))]),  // openat2
            85: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // creat
            4: .paths([PathArg(path: 0, follow: f)]),  // stat
            6: .paths([PathArg(path: 0, follow: nf)]),  // lstat
            262: .paths([PathArg(dirfd: 0, path: 1, follow: at(3), emptyPathFlag: 3)]),  // newfstatat
            332: .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)]),  // statx
            21: .paths([PathArg(path: 0, follow: f, writes: .accessMode(arg: 1))]),  // access
            269: .paths([PathArg(dirfd: 0, path: 1, follow: f, writes: .accessMode(arg: 2))]),  // faccessat
            439: .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .accessMode(arg: 2), emptyPathFlag: 3)]),  // faccessat2
            80: .paths([PathArg(path: 0, follow: f)]),  // chdir
            81: .paths([]),  // fchdir: nothing to translate, but the cached cwd goes
            83: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // mkdir
            258: .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)]),  // mkdirat
            133: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // mknod
            259: .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)]),  // mknodat
            87: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // unlink
            263: .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes)]),  // unlinkat
            84: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // rmdir
            82: .paths([PathArg(path: 0, follow: nf, writes: .yes), PathArg(path: 1, follow: nf, writes: .yes)]),  // rename
            264: .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes), PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)]),  // renameat
            316: .paths([PathArg(dirfd: 0, path: 1, follow: nf, writes: .yes), PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)]),  // renameat2
            86: .paths([PathArg(path: 0, follow: nf), PathArg(path: 1, follow: nf, writes: .yes)]),  // link
            265: .paths([PathArg(dirfd: 0, path: 1, follow: .ifFlag(arg: 4, bit: atFollow), emptyPathFlag: 4),
                         PathArg(dirfd: 2, path: 3, follow: nf, writes: .yes)]),  // linkat
            88: .paths([PathArg(path: 1, follow: nf, writes: .yes)]),  // symlink (the target is stored as given)
            266: .paths([PathArg(dirfd: 1, path: 2, follow: nf, writes: .yes)]),  // symlinkat
            90: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // chmod
            268: .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes)]),  // fchmodat
            452: .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes, emptyPathFlag: 3)]),  // fchmodat2
            92: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // chown
            94: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // lchown
            260: .paths([PathArg(dirfd: 0, path: 1, follow: at(4), writes: .yes, emptyPathFlag: 4)]),  // fchownat
            132: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // utime
            235: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // utimes
            261: .paths([PathArg(dirfd: 0, path: 1, follow: f, writes: .yes)]),  // futimesat
            76: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // truncate
            137: .paths([PathArg(path: 0, follow: f)]),  // statfs
            254: .paths([PathArg(path: 1, follow: f)]),  // inotify_add_watch
            188: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // setxattr
            189: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // lsetxattr
            191: .paths([PathArg(path: 0, follow: f)]),  // getxattr
            192: .paths([PathArg(path: 0, follow: nf)]),  // lgetxattr
            194: .paths([PathArg(path: 0, follow: f)]),  // listxattr
            195: .paths([PathArg(path: 0, follow: nf)]),  // llistxattr
            197: .paths([PathArg(path: 0, follow: f, writes: .yes)]),  // removexattr
            198: .paths([PathArg(path: 0, follow: nf, writes: .yes)]),  // lremovexattr
            134: .paths([PathArg(path: 0, follow: f)]),  // uselib
            163: .paths([PathArg(path: 0, follow: f)]),  // acct
            167: .paths([PathArg(path: 0, follow: f)]),  // swapon
            168: .paths([PathArg(path: 0, follow: f)]),  // swapoff
            89: .readlink(PathArg(path: 0, follow: nf), buffer: 1, size: 2),  // readlink
            267: .readlink(PathArg(dirfd: 0, path: 1, follow: nf, emptyPathFlag: nil), buffer: 2, size: 3),  // readlinkat
            59: .execve(PathArg(path: 0, follow: f), argv: 1),  // execve
            322: .execve(PathArg(dirfd: 0, path: 1, follow: at(4), emptyPathFlag: 4), argv: 2),  // execveat
            79: .getcwd,
            49: .socketAddress(addr: 1, length: 2),  // bind
            42: .socketAddress(addr: 1, length: 2),  // connect
            51: .socketName(addr: 1, length: 2),  // getsockname
            52: .socketName(addr: 1, length: 2),  // getpeername
            43: .socketName(addr: 1, length: 2),  // accept
            288: .socketName(addr: 1, length: 2),  // accept4
            161: .chroot,
            165: .refused, 166: .refused, 155: .refused,  // mount, umount2, pivot_root
            428: .refused, 429: .refused, 430: .refused, 431: .refused, 432: .refused, 433: .refused,  // open_tree..fspick
            442: .refused,  // mount_setattr
            101: .ptrace, 61: .wait(waitid: false), 247: .wait(waitid: true),  // ptrace, wait4, waitid
            62: .kill(target: 0, signal: 1, thread: false), 200: .kill(target: 0, signal: 1, thread: true),  // kill, tkill
            234: .kill(target: 1, signal: 2, thread: true),  // tgkill
        ]
        // *xattrat (6.13+): dirfd, path, at-flags
        t[463] = .paths([PathArg(dirfd: 0, path: 1, follow: at(2), writes: .yes, emptyPathFlag: 2)])  // setxattrat
        t[464] = .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)])  // getxattrat
        t[465] = .paths([PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2)])  // listxattrat
        t[466] = .paths([PathArg(dirfd: 0, path: 1, follow: at(2), writes: .yes, emptyPathFlag: 2)])  // removexattrat
        t[280] = .paths([PathArg(dirfd: 0, path: 1, follow: at(3), writes: .yes, emptyPathFlag: nil)])  // utimensat
        t[301] = .paths([PathArg(dirfd: 3, path: 4, follow: f)])  // fanotify_mark (dirfd, path)
        t[303] = .paths([PathArg(dirfd: 0, path: 1, follow: at(4), emptyPathFlag: 4)])  // name_to_handle_at
        return t
    }()
    #else
    static let abi: Architecture? = nil
    static let seccompSyscall: Int64 = -1
    static let table: [Int64: SyscallGroup] = [:]
    #endif

    /// The calls the supervisor completes itself through seccomp user notification (no
    /// ptrace stop): queries whose answer it can compute on the host and write back.
    #if arch(x86_64)
    static let notified: [Int64: NotifiedCall] = {
        let nf = Follow.never, f = Follow.always
        func at(_ flagArg: Int) -> Follow { .unlessFlag(arg: flagArg, bit: atNoFollow) }
        return [
            4: .stat(PathArg(path: 0, follow: f), buffer: 1, layout: .stat, flags: nil, mask: nil),  // stat
            6: .stat(PathArg(path: 0, follow: nf), buffer: 1, layout: .stat, flags: nil, mask: nil),  // lstat
            262: .stat(PathArg(dirfd: 0, path: 1, follow: at(3), emptyPathFlag: 3), buffer: 2, layout: .stat, flags: 3, mask: nil),  // newfstatat
            332: .stat(PathArg(dirfd: 0, path: 1, follow: at(2), emptyPathFlag: 2), buffer: 4, layout: .statx, flags: 2, mask: 3),  // statx
            21: .access(PathArg(path: 0, follow: f, writes: .accessMode(arg: 1)), mode: 1, flags: nil),  // access
            269: .access(PathArg(dirfd: 0, path: 1, follow: f, writes: .accessMode(arg: 2)), mode: 2, flags: nil),  // faccessat
            439: .access(PathArg(dirfd: 0, path: 1, follow: at(3), writes: .accessMode(arg: 2), emptyPathFlag: 3), mode: 2, flags: 3),  // faccessat2
            89: .readlink(PathArg(path: 0, follow: nf), buffer: 1, size: 2),  // readlink
            267: .readlink(PathArg(dirfd: 0, path: 1, follow: nf), buffer: 2, size: 3),  // readlinkat
            191: .getxattr(PathArg(path: 0, follow: f), name: 1, value: 2, size: 3),  // getxattr
            192: .getxattr(PathArg(path: 0, follow: nf), name: 1, value: 2, size: 3),  // lgetxattr
            194: .listxattr(PathArg(path: 0, follow: f), list: 1, size: 2),  // listxattr
            195: .listxattr(PathArg(path: 0, follow: nf), list: 1, size: 2),  // llistxattr
        ]
    }()
    /// Calls that may change a working directory, the path leading to one, or turn a
    /// directory on some path into a symlink: the fast path's caches are dropped at their
    /// entry and exit (Paths/FastPath.swift). unlinkat counts with AT_REMOVEDIR only.
    static let invalidatesCaches: Set<Int64> = [80, 81, 82, 84, 88, 161, 263, 264, 266, 316]
    static let unlinkat: Int64 = 263
    static let chdir: Int64 = 80, fchdir: Int64 = 81

    /// fstat: notified only when ids are faked (its result must show the faked owner).
    static let fstat: (nr: Int64, call: NotifiedCall) = (5, .fstat(fd: 0, buffer: 1))
    #else
    static let notified: [Int64: NotifiedCall] = [:]
    static let invalidatesCaches: Set<Int64> = []
    static let unlinkat: Int64 = -1
    static let chdir: Int64 = -1, fchdir: Int64 = -1
    static let fstat: (nr: Int64, call: NotifiedCall) = (-1, .fstat(fd: 0, buffer: 1))
    #endif

    static func group(_ nr: Int64) -> SyscallGroup? { table[nr] }

    /// Whether this call (number and its flags argument) drops the fast path's caches.
    static func invalidatesCaches(_ nr: Int64, flags: UInt64) -> Bool {
        guard invalidatesCaches.contains(nr) else { return false }
        return nr != unlinkat || flags & 0x200 /* AT_REMOVEDIR */ != 0
    }

    /// The system calls the seccomp filter sends to the tracer.
    static var traced: [Int64] { table.keys.sorted() }
}
