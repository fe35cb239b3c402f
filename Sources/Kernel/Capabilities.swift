import CKernel
import Glibc

/// Linux capabilities by name (capabilities(7)). A set is the 64-bit mask capget(2) gives:
/// bit N is CAP_N, numbered as in the kernel's include/uapi/linux/capability.h.
public struct Capabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    init(number: Int) { rawValue = 1 << UInt64(number) }

    /// The kernel's names, by number.
    static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    public static let setGID = Capabilities(number: 6)
    public static let setUID = Capabilities(number: 7)
    public static let netAdmin = Capabilities(number: 12)
    public static let sysPtrace = Capabilities(number: 19)
    public static let sysAdmin = Capabilities(number: 21)

    /// Every capability this kernel knows: CAP_CHOWN up to `last` (/proc/sys/kernel/cap_last_cap).
    public static func all(upTo last: Int32) -> Capabilities {
        Capabilities(rawValue: last >= 63 ? .max : (1 << UInt64(max(last, 0) + 1)) - 1)
    }

    public var description: String {
        let list = (0..<64).filter { rawValue & (1 << UInt64($0)) != 0 }
            .map { $0 < Self.names.count ? Self.names[$0] : "CAP_\($0)" }
        return list.isEmpty ? "none" : list.joined(separator: ",")
    }

    /// This process's sets.
    public struct Sets: Sendable, Equatable {
        public var permitted: Capabilities
        public var effective: Capabilities
        public var inheritable: Capabilities
    }

    public static func current() throws(SysError) -> Sets {
        var p: UInt64 = 0, e: UInt64 = 0, i: UInt64 = 0
        if ck_capget(&p, &e, &i) != 0 { throw SysError.last("capget", "") }
        return Sets(permitted: Capabilities(rawValue: p), effective: Capabilities(rawValue: e), inheritable: Capabilities(rawValue: i))
    }

    public static func set(_ s: Sets, what: String) throws(SysError) {
        if ck_capset(s.permitted.rawValue, s.effective.rawValue, s.inheritable.rawValue) != 0 {
            throw SysError.last("capset", what)
        }
    }
}

/// The one place where a capability becomes effective (bubblewrap's `privileged_op`).
///
/// In setuid mode burrow *is* the caller for every check the kernel makes: real and effective
/// uid, fsuid, gids and groups are the caller's, and the effective capability set is empty.
/// Root's capabilities wait in the permitted set (the saved uid is 0) and are raised here,
/// one call at a time: exactly the capability that call needs, around that call only, then
/// lowered again. None of these calls resolves a path the caller named: each works on file
/// descriptors (`""` with `AT_EMPTY_PATH`, or /proc/self/fd/N), on burrow's own working
/// directory or "/", or on no path at all. So every path the caller names (the rootfs, bind sources, --seccomp files, the
/// pid file, mount points, fstab files) is looked up, opened, read or created with no
/// capability at all: a /proc/PID/cwd of root's process stays as closed as it is for the
/// caller, and nothing is read that the caller could not read.
///
/// Where the capability is effective already (root of a user namespace of burrow's own) or
/// not permitted at all (an ordinary user), nothing changes: the call runs as it is.
public enum Privileged {
    public enum Call: Sendable {
        /// unshare(2) of these namespaces.
        case unshare(Int32)
        /// open_tree(fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH): a copy of the mount at an fd.
        case cloneMount
        /// move_mount(fd, "", fd, "", MOVE_MOUNT_*_EMPTY_PATH): between two fds.
        case attachMount
        /// mount_setattr(fd, "", AT_EMPTY_PATH).
        case setMountAttributes
        /// fsopen(type): a filesystem context, no path.
        case openFilesystem
        /// fsconfig(FSCONFIG_CMD_CREATE): the superblock; Burrow's types (proc, sysfs, tmpfs,
        /// devpts, mqueue; overlay only with a user namespace) take no path as their source.
        case createSuperblock
        /// fsmount(fd): a detached mount of a context.
        case mountFilesystem
        /// mount(NULL, "/", NULL, MS_REC | MS_SLAVE): propagation of burrow's own "/".
        case setPropagation
        /// pivot_root(".", ".") and umount2(".", MNT_DETACH): on the working directory, which
        /// burrow has just set with fchdir to an fd it holds; umount2 of "/proc/self/fd/N",
        /// an fd burrow holds, through its own /proc.
        case pivotRoot
        case detachMount
        /// sethostname(2).
        case setHostname
        /// ioctl(SIOCSIFFLAGS) on a socket of the sandbox's own network namespace.
        case setInterfaceFlags
        /// setgroups(2), on the way down to the caller's ids.
        case setGroups

        var needs: Capabilities {
            switch self {
            // A new user namespace needs nothing, and gives its creator every capability in
            // it: nothing to raise (and nothing to lower afterwards).
            case .unshare(let flags): return flags & Namespace.user != 0 ? [] : .sysAdmin
            case .cloneMount, .attachMount, .setMountAttributes, .openFilesystem, .createSuperblock, .mountFilesystem,
                 .setPropagation, .pivotRoot, .detachMount, .setHostname:
                return .sysAdmin
            case .setInterfaceFlags: return .netAdmin
            case .setGroups: return .setGID
            }
        }
    }

    /// Runs `body` (one system call) with what `call` needs raised into the effective set,
    /// and lowers it again before returning; errno is kept as `body` left it. A capability
    /// the process is not permitted is not raised: the call then fails with the kernel's own
    /// EPERM.
    public static func run<T>(_ call: Call, _ body: () -> T) -> T {
        let needed = call.needs
        guard !needed.isEmpty, var sets = try? Capabilities.current() else { return body() }
        let raised = needed.intersection(sets.permitted).subtracting(sets.effective)
        guard !raised.isEmpty else { return body() }
        sets.effective.formUnion(raised)
        guard (try? Capabilities.set(sets, what: "raise \(raised)")) != nil else { return body() }
        let result = body()
        let errno = Glibc.errno
        lower(raised)
        Glibc.errno = errno
        return result
    }

    /// Takes `raised` out of the effective set again, as it is now (the call may have changed
    /// the sets). Lowering cannot fail for a process that could raise; if it did, burrow stops
    /// rather than go on with a capability effective.
    private static func lower(_ raised: Capabilities) {
        do throws(SysError) {
            var sets = try Capabilities.current()
            guard !sets.effective.isDisjoint(with: raised) else { return }
            sets.effective.subtract(raised)
            try Capabilities.set(sets, what: "lower \(raised)")
        } catch {
            Diagnostics.say("\(error); stopping rather than keep a capability effective")
            Glibc._exit(125)
        }
    }
}
