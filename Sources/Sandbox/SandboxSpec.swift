/// The sandbox as data. Front-ends build a `SandboxSpec`; engines realise it. Nothing here
/// touches the kernel, so every front-end and the validation rules are testable as plain values.
public struct SandboxSpec: Equatable, Sendable {
    public var root: RootFS
    /// Applied in this order, after the root is in place and before the command runs.
    public var operations: [SetupOp]
    public var namespaces: Namespaces
    public var identity: Identity
    public var process: ProcessSpec
    public var security: Security
    public var engine: EngineChoice
    public var verbose: Bool
    /// Every message begins with its syslog level (`<3>` for an error), as bubblewrap's
    /// `--level-prefix` has it, for a caller that logs burrow's stderr to the journal.
    public var levelPrefix = false
    /// What the front-end noticed on the command line that does not stop the run (bwrap's
    /// "Only the last --chdir option will take effect"): said once, as warnings, before it.
    public var warnings: [String] = []
    /// What the namespace engine creates in a host directory (a missing mount point, a
    /// `--dir`, a `--symlink`) stays there after the sandbox, as bubblewrap leaves it; by
    /// default it is removed at exit (the cleaner). The ptrace engine still removes it.
    public var keepsCreatedEntries = false
    public var emulation = Emulation()
    /// The front-end's words for the spec's ideas, for a `SpecError` an engine finds (setuid
    /// mode's refusals, known only once names resolve in the rootfs): how to speak to the
    /// caller, not what the sandbox is.
    public var terms = SpecTerms.spec
    /// What the front-end asks that only the ptrace engine does as it means it (PRoot's
    /// faked ids, its QEMU at execve...), one reason each: `auto` then picks the ptrace
    /// engine where it can run (`EngineSelection.ptraceReasons`). An engine named is used.
    public var ptraceOnly: [String] = []
    /// Where the engine makes its own temporary directories (PRoot's PROOT_TMP_DIR; else
    /// TMPDIR, else /tmp). When set it must be a directory the caller can write, checked at
    /// start, as PRoot checks it.
    public var temporaryDirectory: HostPath?
    /// Masked and read-only paths (burrow-oci), after the operations; missing ones skipped.
    public var restrictedPaths = PathRestrictions()
    /// Device nodes made after the operations (burrow-oci's linux.devices), in order.
    public var devices: [DeviceNode] = []
    /// The mount table (/proc/self/mountinfo) lists the mounts in the order of the
    /// operations, as the runtime-spec asks of `mounts` and its validation suite reads it:
    /// each bind's tree, copied before anything is mounted, is copied again when its turn
    /// comes (the first copy's dissolution costs the kernel an RCU grace period per bind, so
    /// only burrow-oci asks it).
    public var mountTableInOrder = false
    /// The cgroup the container runs in, with its limits (burrow-oci); made and joined by
    /// the runtime before the engine runs, removed at `delete`. nil: the caller's cgroup.
    public var cgroup: CgroupSpec?

    public init(
        root: RootFS, operations: [SetupOp] = [], namespaces: Namespaces = Namespaces(),
        identity: Identity = Identity(), process: ProcessSpec = ProcessSpec(),
        security: Security = Security(), engine: EngineChoice = .auto, verbose: Bool = false
    ) {
        self.root = root
        self.operations = operations
        self.namespaces = namespaces
        self.identity = identity
        self.process = process
        self.security = security
        self.engine = engine
        self.verbose = verbose
    }
}

/// The directory tree that becomes `/`.
public struct RootFS: Equatable, Sendable {
    public var path: HostPath
    public var readOnly: Bool
    public var overlay: RootOverlay?
    /// The option just before ROOTFS on the command line, when it took arguments: one of
    /// them may have been meant as the rootfs (`--bind /etc ROOTFS id` takes ROOTFS as the
    /// bind's DEST and `id` as the rootfs). Only said when the rootfs cannot be opened.
    public var takenAfter: OptionArguments?
    /// `/` is a new, empty tmpfs and the operations assemble the tree in it (bubblewrap's
    /// way: no ROOTFS; `--ro-bind /usr /usr --proc /proc ...`). `path` is then only where
    /// the engine attaches that tmpfs in its own mount namespace before it pivots into it;
    /// nothing is created there. The namespace engine does it; the ptrace engine refuses it.
    public var fresh = false
    /// The propagation of `/` in the sandbox, set once the command's root is entered (after
    /// pivot_root, which refuses a shared root, as runc orders it): burrow-oci's
    /// linux.rootfsPropagation. nil: as the engine leaves it (a slave of the host's).
    public var propagation: MountPropagation?

    public init(path: HostPath, readOnly: Bool = false, overlay: RootOverlay? = nil) {
        self.path = path
        self.readOnly = readOnly
        self.overlay = overlay
    }
}

/// A writable overlay over the rootfs: the rootfs itself is never written.
public enum RootOverlay: Equatable, Sendable {
    /// Changes land in `changes/upper` (with `changes/work` beside it) and survive the run.
    case keep(changes: HostPath)
    /// Changes live in memory and are gone when the sandbox ends.
    case discard
}

/// One filesystem setup step. Destinations are guest paths; missing ones are created inside
/// the new root (and removed again afterwards when they were created in a host directory).
public enum SetupOp: Equatable, Sendable {
    case bind(BindMount)
    case tmpfs(dest: GuestPath, sizeBytes: UInt64?, mode: UInt32?)
    case proc(dest: GuestPath)
    case dev(dest: GuestPath)
    case mqueue(dest: GuestPath)
    case dir(dest: GuestPath, mode: UInt32?)
    case symlink(target: String, dest: GuestPath)
    case remountReadOnly(dest: GuestPath)
    /// Any other filesystem, as an fstab line names it: `sysfs`, `tmpfs` with options, ...
    case filesystem(FilesystemMount)
    /// A file whose content the caller passes on a descriptor (bwrap's `--file`,
    /// `--bind-data`, `--ro-bind-data`).
    case file(DataFile)
    /// The permission bits of what is at `dest` (which must exist), symlinks followed
    /// inside the new root (bwrap's `--chmod`).
    case chmod(dest: GuestPath, mode: UInt32)
    /// Host directories seen as one tree at `dest` (overlayfs; bwrap's `--overlay-src` with
    /// `--overlay`, `--tmp-overlay` or `--ro-overlay`).
    case overlay(OverlayMount)

    public var destination: GuestPath {
        switch self {
        case .bind(let b): return b.destination
        case .filesystem(let f): return f.destination
        case .file(let f): return f.destination
        case .chmod(let d, _): return d
        case .overlay(let o): return o.destination
        case .tmpfs(let d, _, _), .proc(let d), .dev(let d), .mqueue(let d), .dir(let d, _),
            .symlink(_, let d), .remountReadOnly(let d):
            return d
        }
    }
}

/// An overlay filesystem: `layers`, host directories given lowest first (a file in a later
/// one hides the same name in an earlier one), merged at `destination`. Writes go where
/// `changes` says. The layers themselves are never written.
public struct OverlayMount: Equatable, Sendable {
    public enum Changes: Equatable, Sendable {
        /// Into the host directory `upper`, which the run leaves changed; `work` is the empty
        /// directory overlayfs needs on the same filesystem (bwrap's `--overlay`).
        case kept(upper: HostPath, work: HostPath)
        /// Into memory, gone when the sandbox ends (`--tmp-overlay`).
        case discarded
        /// Refused: the overlay is read-only (`--ro-overlay`). It needs at least two layers,
        /// as the kernel does: one alone is just that directory.
        case refused
    }
    public var layers: [HostPath]
    public var changes: Changes
    public var destination: GuestPath

    public init(layers: [HostPath], changes: Changes, destination: GuestPath) {
        self.layers = layers
        self.changes = changes
        self.destination = destination
    }

    /// How many layers the kernel needs with these changes.
    public var layersNeeded: Int { changes == .refused ? 2 : 1 }
}

/// A file made from all that can be read on `descriptor` (open in burrow's caller), read
/// when the sandbox is set up.
public struct DataFile: Equatable, Sendable {
    public enum Placement: Equatable, Sendable {
        /// Created (or truncated) at the destination, in the tree: bwrap's `--file`.
        case written
        /// A file in memory bound onto the destination, read-only or not: the tree under it
        /// is not written (bwrap's `--bind-data`, `--ro-bind-data`).
        case bound(readOnly: Bool)
    }
    public var descriptor: Int32
    public var destination: GuestPath
    public var placement: Placement
    /// Its permission bits; nil: 0666 written, 0600 bound (bubblewrap's defaults).
    public var mode: UInt32?

    public init(descriptor: Int32, destination: GuestPath, placement: Placement, mode: UInt32? = nil) {
        self.descriptor = descriptor
        self.destination = destination
        self.placement = placement
        self.mode = mode
    }
}

public struct BindMount: Equatable, Sendable {
    public var source: HostPath
    public var destination: GuestPath
    public var readOnly: Bool
    /// Device nodes stay usable (no `nodev`): `--dev-bind`.
    public var allowDevices: Bool
    /// A missing source skips the bind instead of failing (`--bind-try`).
    public var optional: Bool
    /// When the destination is a symlink inside the root, bind over what it points to (the
    /// default, as PRoot and bubblewrap do) or, when false, over the link itself
    /// (PRoot's `host:guest!`).
    public var followDestination: Bool
    /// Flags beyond the defaults (`nosuid`, and `nodev` unless `allowDevices`).
    public var flags: MountFlags
    /// A destination missing from the rootfs that cannot be created there (a read-only or
    /// someone else's rootfs) skips the bind instead of failing: the host paths proot's
    /// `-R` and `-S` bind, which a guest need not have.
    public var optionalDestination = false
    /// Where the destination, or a directory on the way to it, is missing in the guest.
    public var glue: BindGlue = .none
    /// The caller named the source by this open descriptor (bwrap's `--bind-fd`) and
    /// `source` is the path it had: what the engine opens there must be that very file
    /// (device and inode), else the path was swapped in between and the bind is refused.
    public var sourceDescriptor: Int32?
    /// Set on the mount at the destination once it is there, in this order (burrow-oci's
    /// `shared`, `rslave`... options).
    public var propagation: [MountPropagation] = []

    public init(
        source: HostPath, destination: GuestPath, readOnly: Bool = false,
        allowDevices: Bool = false, optional: Bool = false, followDestination: Bool = true,
        flags: MountFlags = []
    ) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.allowDevices = allowDevices
        self.optional = optional
        self.followDestination = followDestination
        self.flags = flags
    }
}

/// PRoot's "glue": a bind destination missing in the guest is shown there anyway (with the
/// directories on the way to it), made in the rootfs where that is allowed and removed
/// afterwards, else through a directory of the engine's own; the rootfs is never changed
/// when `always`. Only the ptrace engine can show a path the rootfs lacks (`EngineSelection`
/// prefers it where the namespace engine would have to create it and cannot).
public enum BindGlue: Equatable, Sendable {
    /// The engine's own rule: the namespace engine creates the destination (or fails); the
    /// ptrace engine binds the path without showing it in its directory.
    case none
    /// Created in the rootfs where it can be, else glued (PRoot's default).
    case whereNotCreatable
    /// Always glued, nothing created in the rootfs (PROOT_DONT_POLLUTE_ROOTFS).
    case always
}

/// Per-mount flags, as mount(8) names them. Every mount Burrow makes is `nosuid`; these add
/// to that.
public struct MountFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readOnly = MountFlags(rawValue: 1 << 0)
    public static let noSuid = MountFlags(rawValue: 1 << 1)
    public static let noDev = MountFlags(rawValue: 1 << 2)
    public static let noExec = MountFlags(rawValue: 1 << 3)
    public static let noAtime = MountFlags(rawValue: 1 << 4)
    public static let noDirAtime = MountFlags(rawValue: 1 << 5)
    public static let relAtime = MountFlags(rawValue: 1 << 6)
    public static let strictAtime = MountFlags(rawValue: 1 << 7)
    public static let noSymFollow = MountFlags(rawValue: 1 << 8)
}

/// A new filesystem instance: `type` as the kernel names it (`proc`, `sysfs`, `tmpfs`,
/// `devpts`, `mqueue`, ...), `source` as fstab's first field (shown in /proc/mounts), `data`
/// the filesystem's own options (`mode=755`, `size=64m`, ...) in order.
public struct FilesystemMount: Equatable, Sendable {
    public var type: String
    public var source: String
    public var destination: GuestPath
    public var flags: MountFlags
    public var data: [String]
    /// Set on the new mount once it is attached, in this order (`BindMount.propagation`).
    public var propagation: [MountPropagation] = []

    public init(type: String, source: String, destination: GuestPath, flags: MountFlags = [], data: [String] = []) {
        self.type = type
        self.source = source
        self.destination = destination
        self.flags = flags
        self.data = data
    }
}

/// Namespaces beyond user and mount (which the namespace engine always creates).
public struct Namespaces: Equatable, Sendable {
    public var pid = false
    public var ipc = false
    public var net = false
    public var uts = false
    public var cgroup = false
    /// `cgroup` only where the engine can make one (bwrap's `--unshare-cgroup-try`): the
    /// ptrace engine goes without.
    public var cgroupIsOptional = false
    /// A user namespace is asked for by name (bwrap's `--unshare-user`): an engine that
    /// makes none (setuid mode, the ptrace engine) refuses rather than run without.
    public var userRequired = false
    /// A descriptor of the caller's naming a user namespace (its /proc/PID/ns/user) that the
    /// sandbox enters instead of making one: ids are as that namespace maps them, and none
    /// are written (bwrap's `--userns FD`).
    public var userToJoin: Int32?
    /// A descriptor of the caller's naming a user namespace the command enters once the
    /// sandbox is set up, before its ids change: its ids are then as that namespace maps
    /// them (bwrap's `--userns2`, for a namespace made inside the one `userToJoin` names).
    public var userAfterSetup: Int32?
    /// A descriptor of the caller's: once the user namespace is made, its maker's pid goes
    /// out as `child-pid` on the info descriptor (which is then closed), the caller writes
    /// the namespace's uid and gid maps (/proc/PID/uid_map, gid_map) itself, and a byte (or
    /// the end) on this descriptor lets the set-up go on; burrow writes no maps (bwrap's
    /// `--userns-block-fd`). Needs a new user namespace and `reports.info`.
    public var mapsFromCaller: Int32?
    /// A descriptor naming a PID namespace the sandbox's processes are in, or, with `pid`,
    /// the parent of the one made for them (bwrap's `--pidns FD`).
    public var pidToJoin: Int32?
    /// Namespaces that exist already, entered by their files instead of being made
    /// (burrow-oci's linux.namespaces[].path), one per kind. A kind joined is not made: its
    /// flag above stays false. The user namespace is entered first (it owns the others and
    /// grants the right to enter them); a PID namespace takes the sandbox's processes, not
    /// the supervisor (setns moves only the children). A joined mount namespace is where the
    /// root is built; its user namespace must be joined too (validation says so).
    public var joined: [NamespaceJoin] = []
    /// No user namespace is made: the sandbox's ids and capabilities are the caller's own
    /// namespace's (burrow-oci run by root with a config that lists none, as runc runs it:
    /// the container's root is root). Only for a caller who is root there; no id maps.
    public var keepsCallerUser = false
    /// No mount namespace is made either: the root is built in the caller's own, mounted at
    /// the rootfs's path for every process there to see, entered by chroot (pivot_root
    /// would move the root of every process there), and detached, with all that is mounted
    /// in it, by the cleaner once the sandbox has ended (burrow-oci run by root with a
    /// config that lists no mount namespace; runc runs such a container so, and leaves its
    /// mounts). Only with `keepsCallerUser`.
    public var keepsCallerMount = false
    public init() {}

    /// The file of the namespace of this kind the sandbox joins, if any.
    public func joined(_ kind: NamespaceKind) -> HostPath? { joined.first { $0.kind == kind }?.path }

    public static var all: Namespaces {
        var n = Namespaces()
        n.pid = true; n.ipc = true; n.net = true; n.uts = true; n.cgroup = true
        return n
    }
}

/// A kind of namespace, as /proc/PID/ns names it.
public enum NamespaceKind: String, Equatable, Sendable, CaseIterable {
    case user, mnt, pid, ipc, net, uts, cgroup
}

/// An existing namespace the sandbox enters: `path` is its file (/proc/PID/ns/KIND of a
/// process in it, or a bind mount of one), which must be a namespace of that kind.
public struct NamespaceJoin: Equatable, Sendable {
    public var kind: NamespaceKind
    public var path: HostPath
    public init(_ kind: NamespaceKind, path: HostPath) {
        self.kind = kind
        self.path = path
    }
}

/// One line of a uid or gid map: `count` ids from `inside` map to host ids from `outside`.
public struct IDMap: Equatable, Sendable, CustomStringConvertible {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32
    public init(inside: UInt32, outside: UInt32, count: UInt32) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }
    public func contains(inside id: UInt32) -> Bool {
        id >= inside && UInt64(id) < UInt64(inside) + UInt64(count)
    }
    public var description: String { "\(inside):\(outside):\(count)" }
}

public struct Identity: Equatable, Sendable {
    /// The uid/gid the command runs as inside; nil means "the id the caller's own maps to".
    public var uid: UInt32?
    public var gid: UInt32?
    /// Empty: map the caller's own id only. Otherwise the full map, written through the
    /// host's `newuidmap`/`newgidmap` (ranges from /etc/subuid and /etc/subgid).
    public var uidMap: [IDMap] = []
    public var gidMap: [IDMap] = []
    /// A user or group named rather than numbered (jchroot's `-u`/`-g`): looked up in the
    /// rootfs's own `/etc/passwd` and `/etc/group` (the names as the guest means them) and
    /// then used as `uid`/`gid`. A named user's primary group applies unless `gid` or
    /// `groupName` says otherwise.
    public var userName: String?
    public var groupName: String?
    /// The ptrace engine's faked owners, modes and device nodes (`--fake-db`): loaded at
    /// start and saved at exit, so a rootfs keeps what `chown` set inside across runs.
    public var fakeDatabase: HostPath?
    /// The ptrace engine's faked ids start with the caller's own supplementary groups (as
    /// PRoot leaves them) rather than the faked gid alone.
    public var keepsCallerGroups = false
    /// PRoot's rule for a faked root on the ptrace engine: chmod changes the host file's
    /// permission bits as asked (set-id bits stay faked), and the caller's own files are
    /// reached whatever their modes, opened for the time of each call. Else (Burrow's) the
    /// host file keeps its owner's read and write and the asked mode is remembered.
    public var appliesModes = false
    /// Supplementary groups set in the namespace engine's launch where setgroups is allowed
    /// (burrow-oci's process.user.additionalGids); empty: none.
    public var supplementaryGroups: [UInt32] = []
    /// The capabilities the command keeps, where the caller chose them (bwrap's `--cap-add`,
    /// `--cap-drop`): bit N is capability N. nil: Burrow's rule, none for a uid other than 0
    /// and, for uid 0 inside, all but CAP_SYS_ADMIN and CAP_SYS_PTRACE. Within the sandbox's
    /// user namespace only.
    public var capabilities: UInt64?
    public init(uid: UInt32? = nil, gid: UInt32? = nil) {
        self.uid = uid
        self.gid = gid
    }
}

/// How the environment of the command is derived from the caller's, in order.
public enum EnvOp: Equatable, Sendable {
    case set(String, String)
    case unset(String)
    case clear
}

public struct ProcessSpec: Equatable, Sendable {
    /// argv of the command; `argv[0]` is looked up in the sandbox's PATH when it has no `/`.
    public var argv: [String] = ["/bin/sh"]
    /// What the command gets as its `argv[0]` when not the name it was found by
    /// (bubblewrap's `--argv0`).
    public var argv0: String?
    /// Descriptors the caller gave for status reports, written as bubblewrap writes them.
    public var reports = StatusReports()
    /// Files inside the sandbox held with a read lock (fcntl) for as long as the command
    /// runs, from its start (bwrap's `--lock-file`; Flatpak locks its runtime's `.ref`
    /// so that it is not removed under a running app).
    public var lockFiles: [GuestPath] = []
    /// A descriptor of the caller's on which burrow waits until something can be read (or
    /// it is closed) before it starts the sandbox (bwrap's `--block-fd`).
    public var blockDescriptor: Int32?
    /// How `argv[0]` is found and started.
    public var commandLookup: CommandLookup = .execvp
    /// Working directory inside; nil means `/`.
    public var chdir: GuestPath?
    public var environment: [EnvOp] = []
    /// Host file that receives the command's host pid while it runs.
    public var pidFile: HostPath?
    /// Kill the sandbox when the process that started burrow dies.
    public var dieWithParent = false
    /// Run the command in a new session (no controlling terminal: defeats TIOCSTI).
    public var newSession = false
    /// The command is PID 1 of its PID namespace, with no init of Burrow's before it
    /// (bwrap's `--as-pid-1`): nothing reaps what it leaves, and it ignores the signals it
    /// has no handler for, as PID 1 does. Needs a PID namespace.
    public var commandIsPID1 = false
    /// What becomes of the processes the command leaves behind when it exits.
    public var leftovers: Leftovers = .killed
    /// Leftovers are not killed with the command.
    public var keepChildren: Bool { leftovers != .killed }
    public var hostname: String?
    /// The exit status when Burrow itself fails (the command never ran or its status is
    /// unknown): 125 for `burrow`, 1 for linux-user-chroot and jchroot, as their manuals say.
    public var failureStatus: Int32 = 125
    /// A `chdir` that may be missing in the guest: then `/` instead of an error (PRoot's
    /// default working directory, the caller's own).
    public var chdirIsOptional = false
    /// PWD is set to the working directory the command starts in (its canonical guest
    /// path), as PRoot does: a shell trusts an inherited PWD that names the same directory.
    public var exportsWorkingDirectory = false
    /// Whose exit status burrow returns.
    public var status: StatusRule = .command
    /// Held before the command runs until released (burrow-oci's create and start; the
    /// namespace engine only).
    public var hold: ExecHold?
    /// A pseudo-terminal of the command's own (burrow-oci's process.terminal).
    public var console: ConsoleRequest?
    /// setrlimit calls made before the command runs (burrow-oci's process.rlimits).
    public var resourceLimits: [ResourceLimit] = []
    /// The command's umask (burrow-oci's process.user.umask); nil: the caller's.
    public var umask: UInt32?
    /// Written to /proc/sys in the new root before the command (burrow-oci's linux.sysctl).
    public var sysctls: [Sysctl] = []
    /// Written to /proc/self/oom_score_adj before the command (burrow-oci's oomScoreAdj).
    public var oomScoreAdjustment: Int32?
    /// N: the caller's descriptors 3 to 3+N-1 reach the command at the same numbers
    /// (burrow-oci's --preserve-fds, as runc passes them on); Burrow's own processes close
    /// them once the command has them. 0: only 0, 1 and 2 reach it. The namespace engine only.
    public var preservedDescriptors: Int32 = 0
    public init() {}
}

/// Descriptors, open in burrow's caller, on which burrow reports the sandbox's state as
/// JSON, as bubblewrap does (Flatpak reads them): `info` gets one object once the command
/// runs (`child-pid`, the command's host pid, and the ids of the namespaces made for it),
/// then is closed; `jsonStatus` gets the same object on one line, then
/// `{ "exit-code": N }` when the command has exited. Nothing is written when the command
/// never ran.
public struct StatusReports: Equatable, Sendable {
    public var info: Int32?
    public var jsonStatus: Int32?
    public init(info: Int32? = nil, jsonStatus: Int32? = nil) {
        self.info = info
        self.jsonStatus = jsonStatus
    }
    public var isEmpty: Bool { info == nil && jsonStatus == nil }

    /// The namespaces whose ids are reported, in bubblewrap's order, and whether the spec
    /// makes each one (the mount namespace always).
    public static func namespaces(_ n: Namespaces) -> [(name: String, made: Bool)] {
        [("cgroup", n.cgroup), ("ipc", n.ipc), ("mnt", true), ("net", n.net), ("pid", n.pid), ("uts", n.uts)]
    }

    /// The info object: `{\n    "child-pid": 42,\n    "mnt-namespace": 4026531841\n}\n`
    /// (`oneLine`: `{ "child-pid": 42, "mnt-namespace": 4026531841 }\n`, for jsonStatus).
    public static func infoObject(childPid: Int32, namespaceIDs: [(name: String, id: UInt64)], oneLine: Bool) -> String {
        let separator = oneLine ? " " : "\n    "
        var out = "{" + separator + "\"child-pid\": \(childPid)"
        for (name, id) in namespaceIDs { out += "," + separator + "\"\(name)-namespace\": \(id)" }
        return out + (oneLine ? " }\n" : "\n}\n")
    }

    /// `{ "exit-code": 42 }\n`
    public static func exitObject(_ status: Int32) -> String { "{ \"exit-code\": \(status) }\n" }
}

/// What becomes of the processes the command leaves behind when it exits.
public enum Leftovers: Equatable, Sendable {
    /// Killed with it: nothing of the sandbox outlives the command (the default).
    case killed
    /// Waited for: burrow returns once the last of them has exited (`--keep-children`, and
    /// PRoot, which waits for every process of the guest).
    case waitedFor
    /// Left running: burrow returns the command's status when the command exits, and what
    /// it started goes on in the background, in the sandbox, until it exits; killing burrow
    /// ends none of it (jchroot's `-b`, `--leave-running`).
    case leftRunning
}

public enum StatusRule: Equatable, Sendable {
    /// The command's (128+N when a signal killed it); what is left is killed, or with
    /// `keepChildren` waited for.
    case command
    /// Wait until every process of the sandbox has exited and return the status of the last
    /// one to end, as PRoot's manual says it does; as PRoot counts, one killed by a signal
    /// only while none has exited (PRoot then says 255, Burrow 128+N).
    case lastToExit
}

public struct Security: Equatable, Sendable {
    /// Always true today; kept as data so engines state it rather than assume it.
    public var noNewPrivileges = true
    /// The seccomp filter installed last, just before the command is executed.
    public var seccomp: SeccompProfile = .none
    /// Let the command type into the caller's terminal (`ioctl` TIOCSTI, and TIOCLINUX on
    /// a virtual console). Refused by default on every engine, whatever the profile: the
    /// caller's shell would run what was typed once burrow has exited (CVE-2017-5226).
    public var allowTerminalInjection = false
    /// The command's capability sets as asked (burrow-oci's process.capabilities); nil:
    /// Burrow's rule (root inside keeps all but CAP_SYS_ADMIN and CAP_SYS_PTRACE).
    public var capabilities: CapabilitySets?
    /// The caller's own compiled programs (bwrap's `--seccomp FD`, `--add-seccomp-fd FD`),
    /// installed after the filter above, in this order.
    public var callerPrograms: [CallerSeccompProgram] = []
    /// The command cannot make user namespaces (clone and unshare with CLONE_NEWUSER fail
    /// with EPERM, clone3 with ENOSYS), whatever the profile: bwrap's `--disable-userns`.
    public var deniesUserNamespaces = false
    /// Burrow fails unless user namespaces cannot be made where it runs (bwrap's
    /// `--assert-userns-disabled`, for a sandbox inside one made with `--disable-userns`).
    public var assertsUserNamespacesDisabled = false
    public init() {}
}

/// A compiled classic-BPF seccomp program of the caller's, as libseccomp's
/// `seccomp_export_bpf` writes it: `struct sock_filter` records of 8 bytes. Named by the
/// descriptor it is read from; the engine reads it (once, before anything is forked) into
/// `instructions`.
public struct CallerSeccompProgram: Equatable, Sendable {
    public var descriptor: Int32
    public var instructions: [UInt8]?
    public init(descriptor: Int32, instructions: [UInt8]? = nil) {
        self.descriptor = descriptor
        self.instructions = instructions
    }

    /// Why `bytes` is no program (bubblewrap's words where it has them), or nil.
    public static func problem(_ bytes: [UInt8]) -> String? {
        if bytes.count % 8 != 0 { return "Invalid seccomp data, must be multiple of 8" }
        if bytes.isEmpty { return "Invalid seccomp data: it is empty" }
        if bytes.count / 8 > 4096 { return "Invalid seccomp data: more than 4096 instructions (the kernel's limit)" }
        return nil
    }
}

/// What the guest is made to believe about the machine.
public struct Emulation: Equatable, Sendable {
    /// What `uname` and /proc/sys/kernel/osrelease report: a release, or PRoot's every
    /// field; parsed once, by the front-end that read it.
    public var uname: FakeUname?
    /// Run foreign-architecture programs through QEMU user mode.
    public var qemu: QemuEmulation?
    /// PRoot's PROOT_FORCE_KOMPAT: what a kernel older than `uname`'s release lacks is
    /// emulated whatever the real kernel has. Of PRoot's kompat, the ptrace engine does the
    /// auxiliary vector's AT_RANDOM (appended for a release of 2.6.29 or later, as PRoot
    /// adds it where the real kernel is older).
    public var forceOldKernelEmulation = false
    /// TCP and UDP ports changed at bind and connect (PRoot's `-p IN:OUT`): the guest's
    /// port, the one the host sees (the ptrace engine).
    public var portMap: [UInt16: UInt16] = [:]
    public init() {}
}

public struct QemuEmulation: Equatable, Sendable {
    /// The QEMU user-mode command as given: program (looked up in the host's PATH) and
    /// options; options become QEMU_* environment variables (see `QemuOptions`).
    public var command: [String]
    /// PRoot's way (proot -q; the ptrace engine): the command may be any program and its
    /// options are its arguments; every program that is not a host ELF file runs through
    /// it (a script's interpreter included), with the guest's LD_* variables given as its
    /// `-E NAME=VALUE` (`-U LD_LIBRARY_PATH` without one) and taken from its own
    /// environment; host programs get LD_LIBRARY_PATH naming the host's libraries below
    /// /host-rootfs. On the namespace engine the options become QEMU_* variables as usual.
    public var prootStyle = false
    /// PROOT_FORCE_FOREIGN_BINARY: host programs run through it too.
    public var everythingForeign = false
    public init(command: [String]) { self.command = command }
}

public enum EngineChoice: String, Equatable, Sendable, CaseIterable {
    case auto, namespace, ptrace, setuid
}

extension ProcessSpec {
    /// The argv the command is started with: `argv`, its first word replaced by `argv0`.
    public var execArgv: [String] {
        guard let argv0, !argv.isEmpty else { return argv }
        return [argv0] + argv.dropFirst()
    }
}

/// Environment derivation, pure so that it is testable.
extension ProcessSpec {
    /// The command's environment: the caller's (`caller`, in its order), changed as the
    /// spec says, and PWD naming `workingDirectory` (its path in the guest) when the spec
    /// exports it. Every engine starts the command with this, computed here only.
    public func launchEnvironment(caller: [(String, String)], workingDirectory: @autoclosure () -> String) -> [(String, String)] {
        let env = applyEnvironment(environment, to: caller)
        return exportsWorkingDirectory ? applyEnvironment([.set("PWD", workingDirectory())], to: env) : env
    }
}

public func applyEnvironment(_ ops: [EnvOp], to base: [(String, String)]) -> [(String, String)] {
    var env = base
    for op in ops {
        switch op {
        case .clear: env.removeAll()
        case .unset(let k): env.removeAll { $0.0 == k }
        case .set(let k, let v):
            if let i = env.firstIndex(where: { $0.0 == k }) { env[i].1 = v } else { env.append((k, v)) }
        }
    }
    return env
}
