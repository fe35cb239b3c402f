import BurrowCleaner
import BurrowKernel
import BurrowSandbox
import Glibc

/// Builds the new root, step by step from the spec, inside the sandbox's own mount
/// namespace. Three passes, as bubblewrap does: open every host source (with the caller's
/// rights, before anything is mounted), mount the root, then apply the operations in order.
/// Only then does the process pivot into the new root.
struct Filesystem {
    let spec: SandboxSpec
    let log: Log
    /// Receives every entry Burrow creates on a host directory, for removal at the end.
    let cleaner: Int32
    /// setuid mode: every host source must be one the caller could use without burrow
    /// (searchable directory, readable file, a device node they can open). The opens below
    /// already run as the caller, with no capability effective; this adds the check an O_PATH
    /// open skips. And no procfs of the host's gets in: none as the rootfs or a bind source,
    /// and none carried in below them (`detachHostProcfs`).
    let setuidMode: Bool
    /// The supervisor's tmpfs of device nodes (DeviceNodes.make); -1: none, the host's are bound.
    let deviceNodes: Int32

    private var root: Int32 = -1
    /// Mounts that live in memory (tmpfs, proc, ...): what is created there needs no cleanup.
    /// (A few: an array. A Set or Dictionary of a new key type costs the runtime a search
    /// of every protocol conformance in the binary, in the set-up of every sandbox.)
    private var inMemory: [UInt64] = []
    /// How many more operations use the trees opened in pass 1: each device, the host's
    /// /proc, the host's /sys (see `take`).
    private var devicesLeft = 0, procLeft = 0, sysLeft = 0
    /// A joined IPC namespace's message queues: a detached mqueue mount the supervisor made
    /// with the caller's rights over that namespace (from here, in a user namespace of ours,
    /// a new one would be refused), for the mqueue mounts; -1: none, mounted here as usual.
    var joinedQueues: Int32 = -1
    private var queuesLeft = 0

    init(spec: SandboxSpec, log: Log, cleaner: Int32, setuidMode: Bool = false, deviceNodes: Int32 = -1) {
        self.spec = spec
        self.log = log
        self.cleaner = cleaner
        self.setuidMode = setuidMode
        self.deviceNodes = deviceNodes
    }

    static let devices = ["null", "zero", "full", "random", "urandom", "tty"]

    /// Returns the fd of the finished new root (not yet entered).
    mutating func build() throws(Failure) -> Int32 {
        do throws(SysError) {
            // Nothing mounted from here on may propagate back to the host. In setuid mode
            // nothing of the host's may come in later either (a procfs root mounts below a
            // bind source after the check that detaches those): private, not slave.
            // (In the caller's own mount namespace its propagation is left as it is: the
            // sandbox's mounts are the caller's there, and the cleaner detaches them.)
            if !spec.namespaces.keepsCallerMount {
                try Mounts.setPropagation("/", UInt(MS_REC | (setuidMode ? MS_PRIVATE : MS_SLAVE)))
            }
            let opened = try openSources()
            (devicesLeft, procLeft, sysLeft) = opened.uses(by: spec)
            queuesLeft = spec.operations.filter(Self.isMqueue).count
            root = try mountRoot(opened.root)
            if spec.namespaces.keepsCallerMount { try recordRootMount() }
            for (index, op) in spec.operations.enumerated() {
                try apply(op, source: opened.binds[index], layers: opened.overlays[index], opened: opened)
            }
            if !spec.devices.isEmpty { try makeDevices(opened) }
            if !spec.process.sysctls.isEmpty { try writeSysctls() }
            if let adjustment = spec.process.oomScoreAdjustment { try InheritedSettings.adjustOOMScore(adjustment, log: log) }
            if !spec.restrictedPaths.isEmpty { try restrictPaths() }
            if let uname = spec.emulation.uname { try fakeOSRelease(uname.release) }
            return root
        } catch {
            throw Failure(error)
        }
    }

    /// The root, mounted in the caller's own mount namespace (`keepsCallerMount`), goes to the
    /// cleaner at once, which detaches it with everything below once the sandbox has ended.
    private func recordRootMount() throws(SysError) {
        let (dir, name) = Cleaner.split(spec.root.path.string)
        let parent = try Files.open(dir, O_PATH | O_DIRECTORY)
        defer { Files.close(parent) }
        Cleaner.recordMount(cleaner, parent: parent, name: name, mountID: try Files.mountInfo(root).mountID)
        log.step("root \(spec.root.path) mounted in the caller's mount namespace (detached when the sandbox ends)")
    }

    struct Source { var tree: Int32; var isDirectory: Bool }

    /// An overlay's host directories, opened in pass 1 (O_PATH): overlayfs is given them by
    /// descriptor, so what it layers is what was there then, whatever is mounted later.
    struct OverlaySources {
        /// Lowest first, as the spec gives them.
        var layers: [Int32] = []
        var upper: Int32 = -1
        var work: Int32 = -1
        var all: [Int32] { layers + [upper, work].filter { $0 >= 0 } }
    }

    struct Opened {
        var root: Int32
        /// By the operation's index: nil where it is no bind, or one skipped.
        var binds: [Source?] = []
        /// By the operation's index: nil where it is no overlay.
        var overlays: [OverlaySources?] = []
        var devices: [String: Int32] = [:]
        var proc: Int32 = -1
        var sys: Int32 = -1
        /// By the index in `spec.devices`: the host's node to bind, where none was made.
        var hostDevices: [Int: Int32] = [:]

        /// How many operations of `spec` mount the devices, the host's /proc and its /sys.
        func uses(by spec: SandboxSpec) -> (devices: Int, proc: Int, sys: Int) {
            var n = (devices: 0, proc: 0, sys: 0)
            for op in spec.operations {
                switch op {
                case .dev: n.devices += 1
                case .filesystem(let f) where f.type == "sysfs" && sys >= 0: n.sys += 1
                case _ where Filesystem.needsHostProc(op) && proc >= 0: n.proc += 1
                default: break
                }
            }
            return n
        }
    }

    /// A tree opened in pass 1, for one operation: a copy while other operations still need
    /// it, the tree itself for the last one. A detached tree that is never attached is
    /// dissolved when its fd is closed (at the init's exit at the latest), and each one
    /// dissolved costs an RCU grace period (the kernel's namespace_unlock): a wait of up to
    /// milliseconds, for nothing.
    private func take(_ tree: Int32, usesLeft: Int, recursive: Bool = true, what: String) throws(SysError) -> Int32 {
        usesLeft <= 1 ? tree : try Mounts.cloneTree(tree, recursive: recursive, what: what)
    }

    // MARK: pass 1: open host paths

    /// Opens every host path and takes a detached copy of its mount tree now, before
    /// anything is mounted: a later bind of a parent of ROOTFS must show the host as it was,
    /// not the sandbox being built on top of it.
    private func openSources() throws(SysError) -> Opened {
        let rootPath = spec.root.path.string
        let rootfd = try Files.open(rootPath, O_PATH | O_DIRECTORY)
        if setuidMode {
            do throws(SysError) {
                try Credentials.callerMay(X_OK, fd: rootfd, what: rootPath)
                try Self.refuseProcfs(rootfd, as: "the rootfs", what: "rootfs \(rootPath)")
            } catch {
                Files.close(rootfd)
                throw error
            }
        }
        var opened = Opened(root: rootfd)
        opened.binds = Array(repeating: nil, count: spec.operations.count)
        opened.overlays = Array(repeating: nil, count: spec.operations.count)
        for (index, op) in spec.operations.enumerated() {
            switch op {
            case .bind(let b):
                let fd: Int32
                do {
                    fd = try Files.open(b.source.string, O_PATH)
                } catch where error.errno == .noSuchFileOrDirectory && b.optional {
                    log.step("skip \(b.destination): \(b.source) does not exist")
                    opened.binds[index] = nil
                    continue
                } catch {
                    throw SysError(spec.terms.failure(.bindSource), b.source.string, errno: error.errno)
                }
                let sourceStat = try Files.stat("", at: fd, follow: true)
                if let given = b.sourceDescriptor {
                    // bubblewrap's race check for --bind-fd, made before anything is mounted.
                    let named = try Files.stat("", at: given, follow: true)
                    guard named.st_dev == sourceStat.st_dev, named.st_ino == sourceStat.st_ino else {
                        Files.close(fd)
                        throw SysError("bind source", "\(b.source) (descriptor \(given))", errno: .noSuchFileOrDirectory,
                                       hint: "the path the descriptor had was replaced by another file while burrow started")
                    }
                }
                let type = sourceStat.st_mode & S_IFMT
                let isDir = type == S_IFDIR
                if setuidMode {
                    try callerMayUse(fd, type: type, b)
                    do { try Self.refuseProcfs(fd, as: "a bind source", what: "bind \(b.source) -> \(b.destination)") } catch {
                        Files.close(fd)
                        // A front-end's recommended bind (PRoot's -R: /etc/mtab -> /proc/self/mounts)
                        // is left out, as one the guest cannot have; one asked for by name is refused.
                        guard b.optionalDestination else { throw error }
                        log.step("skip \(b.destination): \(b.source) is on a procfs, which setuid mode never binds")
                        opened.binds[index] = nil
                        continue
                    }
                }
                opened.binds[index] = Source(tree: try Mounts.cloneTree(fd, what: b.source.string), isDirectory: isDir)
                Files.close(fd)
            case .overlay(let o):
                var sources = OverlaySources()
                func directory(_ path: HostPath, _ what: SpecTerm) throws(SysError) -> Int32 {
                    do { return try Files.open(path.string, O_PATH | O_DIRECTORY) } catch {
                        sources.all.forEach(Files.close)
                        throw SysError(spec.terms.failure(what), path.string, errno: error.errno)
                    }
                }
                for layer in o.layers { sources.layers.append(try directory(layer, .overlayLayer)) }
                if case .kept(let upper, let work) = o.changes {
                    sources.upper = try directory(upper, .overlayUpper)
                    sources.work = try directory(work, .overlayWork)
                }
                opened.overlays[index] = sources
            case .dev where opened.devices.isEmpty:
                for name in Self.devices {
                    let fd = try Files.open("/dev/\(name)", O_PATH)
                    opened.devices[name] = try Mounts.cloneTree(fd, recursive: false, what: "/dev/\(name)")
                    Files.close(fd)
                }
                // The caller's terminal becomes /dev/console, as bwrap does: the new devpts
                // cannot show it, and programs that ask ttyname() then still get an answer.
                // fd 1 was opened in the host's mount namespace: reopen its path in ours (a
                // mount can only be copied from the namespace one is in), checking it is the
                // same device.
                if isatty(1) == 1, let path = try? Files.readlink("/proc/self/fd/1", at: Files.cwd),
                   let fd = try? Files.open(path, O_PATH | O_NOFOLLOW)
                {
                    defer { Files.close(fd) }
                    if let a = try? Files.stat("", at: fd), let b = try? Files.stat("", at: 1, follow: true),
                       a.st_rdev == b.st_rdev, a.st_mode & S_IFMT == S_IFCHR
                    {
                        opened.devices["console"] = try Mounts.cloneTree(fd, recursive: false, what: path)
                    }
                }
            case _ where Self.needsHostProc(op) && !spec.namespaces.pid && opened.proc < 0:
                let fd = try Files.open("/proc", O_PATH | O_DIRECTORY)
                opened.proc = try Mounts.cloneTree(fd, what: "/proc")
                Files.close(fd)
            case .filesystem(let f) where f.type == "sysfs" && !spec.namespaces.net && opened.sys < 0:
                let fd = try Files.open("/sys", O_PATH | O_DIRECTORY)
                opened.sys = try Mounts.cloneTree(fd, what: "/sys")
                Files.close(fd)
            default: break
            }
        }
        if deviceNodes < 0 {
            for (index, node) in spec.devices.enumerated() where node.kind != .fifo {
                guard let fd = DeviceNodes.hostNode(for: node) else {
                    throw SysError("device \(node.path) (\(node.typeAndNumbers))", errno: .notPermitted, hint: """
                        a user namespace may not create device nodes (mknod needs privilege on the host), and the \
                        host has no \(node.typeAndNumbers) node in /dev to bind instead; run as root, or leave it out
                        """)
                }
                opened.hostDevices[index] = try Mounts.cloneTree(fd, recursive: false, what: "host node for \(node.path)")
                Files.close(fd)
            }
        }
        return opened
    }

    /// setuid mode: a procfs (or anything inside one) as the rootfs or a bind source would be
    /// the host's: through /proc/PID/root of the caller's other processes the command would
    /// reach the host's /. Refused by what the opened fd is on, whatever the path said.
    static func refuseProcfs(_ fd: Int32, as role: String, what: String) throws(SysError) {
        guard try Files.isOnProcfs(fd) else { return }
        throw SysError(what, errno: .permissionDenied, hint: """
            a procfs is refused as \(role) in setuid mode: the command would reach other processes' \
            /proc/PID/root outside the sandbox; use --proc DEST for the sandbox's own
            """)
    }

    /// setuid mode: refuses a source the caller could not use themselves.
    private func callerMayUse(_ fd: Int32, type: mode_t, _ b: BindMount) throws(SysError) {
        let what = "bind source \(b.source)"
        do {
            switch type {
            case S_IFDIR: try Credentials.callerMay(X_OK, fd: fd, what: what)
            case S_IFCHR, S_IFBLK:
                do { try Credentials.callerMay(R_OK, fd: fd, what: what) } catch { try Credentials.callerMay(W_OK, fd: fd, what: what) }
            default: try Credentials.callerMay(R_OK, fd: fd, what: what)
            }
        } catch {
            Files.close(fd)
            var e = error
            e.hint = "setuid mode binds only what you could open yourself: burrow's privilege never reaches a file you cannot"
            throw e
        }
    }

    // MARK: pass 2: the root

    private mutating func mountRoot(_ rootfd: Int32) throws(SysError) -> Int32 {
        let path = spec.root.path.string
        let tree: Int32
        switch spec.root.overlay {
        case nil where spec.root.fresh:
            // bubblewrap's root: an empty tmpfs the operations fill (nothing of the host's
            // is carried in with it).
            let fs = try Mounts.FilesystemContext("tmpfs", what: "/ (the new root)")
            try fs.set("mode", "0755")
            tree = try fs.mount([.noSuid, .noDev])
            try Mounts.attach(tree, onto: rootfd, what: "tmpfs / (the new root)")
            inMemory.append(try Files.mountInfo(tree).mountID)
            log.step("root: an empty tmpfs")
            return tree
        case nil:
            tree = try Mounts.cloneTree(rootfd, what: path)
            var attrs: Mounts.Attributes = [.noSuid]
            if spec.root.readOnly { attrs.insert(.readOnly) }
            try Mounts.setAttributes(tree, attrs, what: path)
            log.step("root \(path) (bind, \(attrs))")
        case .some(let overlay):
            let (upper, work, place) = try overlayDirectories(overlay)
            let fs = try Mounts.FilesystemContext("overlay", what: path)
            try fs.set("lowerdir", "/proc/self/fd/\(rootfd)")
            try fs.set("upperdir", "/proc/self/fd/\(upper)")
            try fs.set("workdir", "/proc/self/fd/\(work)")
            // Unprivileged overlays keep their whiteouts in user.* xattrs.
            try fs.set(flag: "userxattr")
            tree = try fs.mount([.noSuid])
            log.step("root overlay: lower \(path), changes \(place)")
        }
        try Mounts.attach(tree, onto: rootfd, what: "\(path) (the new root)")
        if spec.root.overlay == .discard { inMemory.append(try Files.mountInfo(tree).mountID) }
        if spec.root.overlay == nil { try detachHostProcfs(in: tree, at: .root, carriedBy: "the rootfs \(path)") }
        return tree
    }

    /// An overlay at a destination (`SetupOp.overlay`), from the directories pass 1 opened.
    private mutating func mountOverlay(_ o: OverlayMount, _ sources: OverlaySources) throws(SysError) {
        defer { sources.all.forEach(Files.close) }
        let what = "overlay \(o.destination)"
        let fs = try Mounts.FilesystemContext("overlay", what: what)
        // overlayfs lists the top layer first; paths by descriptor need no escaping of ':'.
        try fs.set("lowerdir", sources.layers.reversed().map { "/proc/self/fd/\($0)" }.joined(separator: ":"))
        var attrs: Mounts.Attributes = [.noSuid, .noDev]
        var changes = "read-only"
        switch o.changes {
        case .kept(let upper, _):
            try fs.set("upperdir", "/proc/self/fd/\(sources.upper)")
            try fs.set("workdir", "/proc/self/fd/\(sources.work)")
            changes = "changes in \(upper)"
        case .discarded:
            let (upper, work, _) = try overlayDirectories(.discard)
            defer { Files.close(upper); Files.close(work) }
            try fs.set("upperdir", "/proc/self/fd/\(upper)")
            try fs.set("workdir", "/proc/self/fd/\(work)")
            changes = "changes in memory"
        case .refused:
            attrs.insert(.readOnly)
        }
        // Unprivileged overlays keep their whiteouts in user.* xattrs.
        if o.changes != .refused { try fs.set(flag: "userxattr") }
        let tree = try fs.mount(attrs)
        let discarded = o.changes == .discarded
        try place(tree, at: o.destination, inMemory: discarded,
                  what: "\(what): \(o.layers.map(\.string).joined(separator: ", ")) (\(changes))")
    }

    private func overlayDirectories(_ overlay: RootOverlay) throws(SysError) -> (Int32, Int32, String) {
        switch overlay {
        case .discard:
            let fs = try Mounts.FilesystemContext("tmpfs", what: "overlay changes")
            try fs.set("mode", "0755")
            let tmp = try fs.mount([.noSuid, .noDev])
            try Files.mkdir("upper", at: tmp, mode: 0o755)
            try Files.mkdir("work", at: tmp, mode: 0o755)
            return (try Files.open("upper", O_PATH | O_DIRECTORY, at: tmp),
                    try Files.open("work", O_PATH | O_DIRECTORY, at: tmp), "in memory (discarded at exit)")
        case .keep(let changes):
            do { try Files.mkdir(changes.string, at: Files.cwd, mode: 0o755) } catch where error.errno == .fileExists {}
            let dir = try Files.open(changes.string, O_PATH | O_DIRECTORY)
            for name in ["upper", "work"] {
                do { try Files.mkdir(name, at: dir, mode: 0o755) } catch where error.errno == .fileExists {}
            }
            return (try Files.open("upper", O_PATH | O_DIRECTORY | O_NOFOLLOW, at: dir),
                    try Files.open("work", O_PATH | O_DIRECTORY | O_NOFOLLOW, at: dir), "\(changes)/upper")
        }
    }

    // MARK: pass 3: the operations, in order

    private mutating func apply(_ op: SetupOp, source: Source?, layers: OverlaySources?, opened: Opened) throws(SysError) {
        switch op {
        case .overlay(let o):
            guard let layers else { return }
            try mountOverlay(o, layers)
        case .bind(let b):
            guard var source else { return }
            if spec.mountTableInOrder {
                // A copy made now has a mount id after the mounts made before it: the table
                // lists them in the spec's order. (A kernel that copies no detached tree says
                // EINVAL: then the copy of pass 1, listed before them.)
                do {
                    let copy = try Mounts.cloneTree(source.tree, what: b.source.string)
                    Files.close(source.tree)
                    source.tree = copy
                } catch where error.errno == .invalidArgument {}
            }
            var attrs = Self.attributes(b.flags).union(b.allowDevices ? [.noSuid] : [.noSuid, .noDev])
            if b.readOnly { attrs.insert(.readOnly) }
            do {
                try Mounts.setAttributes(source.tree, attrs, what: b.source.string)
            } catch where error.errno == .notPermitted && !attrs.isDisjoint(with: Mounts.Attributes.accessTimeModes) {
                // The host's access-time mode is locked on its mounts in our user namespace
                // (MNT_LOCK_ATIME); it stays, as rootless runc keeps a locked flag. The rest
                // is set (a lock on anything else still fails).
                attrs.subtract(Mounts.Attributes.accessTimeModes)
                try Mounts.setAttributes(source.tree, attrs, what: b.source.string)
                log.step("bind \(b.source): the host's access-time mode kept (locked in a user namespace)")
            }
            do {
                try place(source.tree, at: b.destination, create: source.isDirectory ? .directory(nil) : .file,
                          follow: b.followDestination, inMemory: false, propagation: b.propagation,
                          fromHost: "bind \(b.source) -> \(b.destination)",
                          what: "bind \(b.source) -> \(b.destination)\(b.followDestination ? "" : " (the link itself)") (\(attrs))")
            } catch where b.optionalDestination && ["create mount point", "create"].contains(error.operation) {
                log.step("skip \(b.destination): \(error.description.split(separator: "\n")[0])")
            }
        case .filesystem(let f):
            try mountFilesystem(f, opened: opened)
        case .tmpfs(let d, let size, let mode):
            let fs = try Mounts.FilesystemContext("tmpfs", what: d.description)
            try fs.set("mode", String(mode ?? 0o755, radix: 8))
            if let size { try fs.set("size", String(size)) }
            try mountNew(fs, [.noSuid, .noDev], at: d)
        case .proc(let d):
            if spec.namespaces.pid {
                let fs = try Mounts.FilesystemContext("proc", what: d.description)
                do {
                    try mountNew(fs, [.noSuid, .noDev, .noExec], at: d)
                } catch where error.errno == .notPermitted {
                    // The kernel mounts a new procfs only where the caller sees a whole one:
                    // a container masks parts of its /proc with mounts over them.
                    var e = error
                    e.hint = ([e.hint].compactMap { $0 } + ["""
                        a new procfs is refused where /proc has mounts over parts of it, as in a container \
                        (podman and docker mask /proc/kcore, /proc/keys...): run the container with \
                        --security-opt unmask=/proc/*, or use --proc without --unshare-pid (the host's /proc)
                        """]).joined(separator: "\n")
                    throw e
                }
            } else {
                // A fresh procfs needs a PID namespace of our own; without one, the host's.
                // One copy serves every --proc (see `take`).
                let tree = try take(opened.proc, usesLeft: procLeft, what: "/proc")
                procLeft -= 1
                try Mounts.setAttributes(tree, [.noSuid, .noDev, .noExec], what: "/proc")
                try place(tree, at: d, inMemory: true, what: "proc \(d) (the host's: no --unshare-pid)")
            }
        case .dev(let d):
            try mountDev(d, devices: opened.devices)
        case .mqueue(let d):
            if try placeJoinedQueues(at: d, [.noSuid, .noDev, .noExec]) { break }
            let fs = try Mounts.FilesystemContext("mqueue", what: d.description)
            try mountNew(fs, [.noSuid, .noDev, .noExec], at: d)
        case .dir(let d, let mode):
            let fd = try resolve(d, create: .directory(mode))
            log.step("dir \(d)")
            Files.close(fd)
        case .symlink(let target, let d):
            guard let name = d.lastComponent else { throw SysError("symlink", "/ -> \(target)", errno: .fileExists) }
            let parent = try resolve(d.parent, create: .directory(nil))
            defer { Files.close(parent) }
            do throws(SysError) {
                try mayCreate(in: parent, d)
                do throws(SysError) { try Files.symlink(target, name, at: parent) } catch where error.errno != .fileExists {
                    // Name the guest path, not just its last component (e.g. a read-only rootfs).
                    throw SysError("symlink", "\(d) -> \(target)", errno: error.errno)
                }
                record(parent: parent, name: name, kind: .symlink)
            } catch where error.errno == .fileExists {
                // Already there and the same: fine, as bubblewrap does.
                let existing = try? Files.readlink(name, at: parent)
                guard existing == target else {
                    // bubblewrap's words, which its callers and tests look for.
                    let what = existing.map { "existing destination is \($0)" } ?? "existing destination is not a symlink"
                    throw SysError("Can't make symlink", "\(d) -> \(target): \(what)", errno: .fileExists,
                                   hint: "\(d) already exists in the new root")
                }
            }
            log.step("symlink \(d) -> \(target)")
        case .file(let f):
            try makeDataFile(f)
        case .chmod(let d, let mode):
            let fd = try resolve(d, create: nil)
            defer { Files.close(fd) }
            try Files.chmod(opened: fd, mode: mode_t(mode), what: d.description)
            log.step("chmod \(String(mode, radix: 8)) \(d)")
        case .remountReadOnly(let d):
            var fd = try resolve(d, create: nil)
            if !(try Files.mountInfo(fd).isMountRoot) {
                // Not a mount of its own yet: bind it onto itself so only DEST turns read-only.
                let tree = try Mounts.cloneTree(fd, what: d.description)
                try Mounts.attach(tree, onto: fd, what: "\(d) -> \(d)")
                Files.close(fd)
                fd = tree
            }
            try Mounts.setAttributes(fd, [.readOnly], what: d.description)
            log.step("remount-ro \(d)")
            Files.close(fd)
        }
    }

    /// bwrap's --file (written in the tree at the destination) and --bind-data,
    /// --ro-bind-data (a file in memory bound there: the tree is not written). The bound
    /// file lives in a tmpfs of its own, attached on the new root only while it is made and
    /// cloned (only a mount of this namespace can be cloned), then detached: the clone keeps
    /// it alive, and nothing of it shows elsewhere.
    private mutating func makeDataFile(_ f: DataFile) throws(SysError) {
        let d = f.destination
        let what = "data file \(d) (from descriptor \(f.descriptor))"
        switch f.placement {
        case .written:
            guard let name = d.lastComponent else { throw SysError("create", "/", errno: .isDirectory) }
            let parent = try resolve(d.parent, create: .directory(f.mode.map(Self.parentMode(of:))))
            defer { Files.close(parent) }
            try mayCreate(in: parent, d)
            let existed = (try? Files.stat(name, at: parent)) != nil
            let mode = mode_t(f.mode ?? 0o666)
            let fd = try Files.open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: mode, at: parent)
            defer { Files.close(fd) }
            if !existed { record(parent: parent, name: name, kind: .file) }
            try Files.copyAll(from: f.descriptor, to: fd, what: what)
            // The mode exactly, whatever the umask (as bubblewrap makes it).
            try Files.chmod(fd, mode: mode, what: what)
            log.step("file \(d) (written from descriptor \(f.descriptor))")
        case .bound(let readOnly):
            let fs = try Mounts.FilesystemContext("tmpfs", what: what)
            try fs.set("mode", "0700")
            let staging = try fs.mount([.noSuid, .noDev])
            defer { Files.close(staging) }
            try Mounts.attach(staging, onto: root, what: "tmpfs for \(what)")
            let tree: Int32
            do throws(SysError) {
                let mode = mode_t(f.mode ?? 0o600)
                let fd = try Files.open("data", O_WRONLY | O_CREAT | O_EXCL, mode: mode, at: staging)
                do throws(SysError) {
                    try Files.copyAll(from: f.descriptor, to: fd, what: what)
                    try Files.chmod(fd, mode: mode, what: what)
                } catch {
                    Files.close(fd)
                    throw error
                }
                Files.close(fd)
                let file = try Files.open("data", O_PATH | O_NOFOLLOW, at: staging)
                defer { Files.close(file) }
                tree = try Mounts.cloneTree(file, recursive: false, what: what)
            } catch {
                try? Mounts.detach(staging, what: "tmpfs for \(what)")
                throw error
            }
            try Mounts.detach(staging, what: "tmpfs for \(what)")
            var attrs: Mounts.Attributes = [.noSuid, .noDev]
            if readOnly { attrs.insert(.readOnly) }
            try Mounts.setAttributes(tree, attrs, what: what)
            try place(tree, at: d, create: .file, inMemory: true, what: "\(what) (\(attrs))")
        }
    }

    /// A filesystem named by type (an fstab line). proc and sysfs need a PID or network
    /// namespace of the sandbox's own; without one the host's instance is bound instead, as
    /// for --proc.
    private mutating func mountFilesystem(_ f: FilesystemMount, opened: Opened) throws(SysError) {
        let attrs = Self.attributes(f.flags).union(.noSuid)
        let d = f.destination
        let host: Int32 = f.type == "proc" && !spec.namespaces.pid ? opened.proc
            : f.type == "sysfs" && !spec.namespaces.net ? opened.sys : -1
        if host >= 0 {
            let tree = try take(host, usesLeft: f.type == "proc" ? procLeft : sysLeft, what: "/\(f.type == "proc" ? "proc" : "sys")")
            if f.type == "proc" { procLeft -= 1 } else { sysLeft -= 1 }
            try Mounts.setAttributes(tree, attrs, what: d.description)
            let why = f.type == "proc" ? "no new PID namespace" : "no new network namespace"
            try place(tree, at: d, inMemory: true, propagation: f.propagation,
                      fromHost: f.type == "sysfs" ? "\(f.type) \(d) (the host's)" : nil,
                      what: "\(f.type) \(d) (the host's: \(why)) (\(attrs))")
            return
        }
        if f.type == "mqueue", try placeJoinedQueues(at: d, attrs) { return }
        let fs = try Mounts.FilesystemContext(f.type, what: d.description)
        if !f.source.isEmpty { try fs.set("source", f.source) }
        for option in f.data {
            if let eq = option.firstIndex(of: "=") {
                try fs.set(String(option[..<eq]), String(option[option.index(after: eq)...]))
            } else {
                try fs.set(flag: option)
            }
        }
        try mountNew(fs, attrs, at: d, propagation: f.propagation)
    }

    /// Places the joined IPC namespace's queues (`joinedQueues`) at `d`, if there are any.
    private mutating func placeJoinedQueues(at d: GuestPath, _ attrs: Mounts.Attributes) throws(SysError) -> Bool {
        guard joinedQueues >= 0 else { return false }
        let tree = try take(joinedQueues, usesLeft: queuesLeft, what: "mqueue")
        queuesLeft -= 1
        try Mounts.setAttributes(tree, attrs, what: d.description)
        try place(tree, at: d, inMemory: true, what: "mqueue \(d) (the joined IPC namespace's) (\(attrs))")
        return true
    }

    static func isMqueue(_ op: SetupOp) -> Bool {
        switch op {
        case .mqueue: return true
        case .filesystem(let f): return f.type == "mqueue"
        default: return false
        }
    }

    static func needsHostProc(_ op: SetupOp) -> Bool {
        switch op {
        case .proc: return true
        case .filesystem(let f): return f.type == "proc"
        default: return false
        }
    }

    static func attributes(_ flags: MountFlags) -> Mounts.Attributes {
        var a: Mounts.Attributes = []
        let table: [(MountFlags, Mounts.Attributes)] = [
            (.readOnly, .readOnly), (.noSuid, .noSuid), (.noDev, .noDev), (.noExec, .noExec),
            (.noAtime, .noAtime), (.strictAtime, .strictAtime), (.noDirAtime, .noDirAtime), (.noSymFollow, .noSymFollow),
        ]
        for (flag, attr) in table where flags.contains(flag) { a.insert(attr) }
        return a
    }

    private mutating func mountNew(_ fs: borrowing Mounts.FilesystemContext, _ attrs: Mounts.Attributes, at d: GuestPath,
                                   propagation: [MountPropagation] = []) throws(SysError) {
        try place(try fs.mount(attrs), at: d, inMemory: true, propagation: propagation, what: "\(fs.type) \(d) (\(attrs))")
    }

    /// Attaches the detached mount `tree` at `d` (created if missing) and closes it. Mounts
    /// that live in memory are remembered: what is created on them needs no cleanup.
    /// `fromHost`: the tree is a recursive copy of a host path (what, for messages).
    /// `propagation`: set on it once attached, in order (a detached mount has no peers).
    private mutating func place(_ tree: Int32, at d: GuestPath, create: Create = .directory(nil), follow: Bool = true,
                                inMemory memory: Bool, propagation: [MountPropagation] = [], fromHost: String? = nil,
                                what: String) throws(SysError) {
        defer { Files.close(tree) }
        let dest = try follow ? resolve(d, create: create) : resolveLink(d, create: create)
        defer { Files.close(dest) }
        try Mounts.attach(tree, onto: dest, what: what)
        if memory { inMemory.append(try Files.mountInfo(tree).mountID) }
        log.step(what)
        for p in propagation {
            try Mounts.setPropagation(tree, p.kernelType, recursive: p.recursive, what: d.description)
            log.step("propagation \(p) \(d)")
        }
        if let fromHost { try detachHostProcfs(in: tree, at: d, carriedBy: fromHost) }
    }

    /// setuid mode: the root and every bind are copied with all that is mounted below them on
    /// the host (`--bind / /host`, or a chroot with the host's /proc mounted in it), and a
    /// procfs among those would be the host's, with /proc/PID/root of the caller's other
    /// processes leading to the host's /. Each is detached (umount2 MNT_DETACH, with whatever
    /// is mounted on or below it) right after its tree is attached, before the spec mounts
    /// anything of its own there: the sandbox's only procfs is a fresh one (--proc). Found
    /// in this mount namespace's table by the tree's mount id; reached from the tree's fd
    /// without following any symlink, and checked to be that mount before it is detached.
    private func detachHostProcfs(in tree: Int32, at d: GuestPath, carriedBy what: String) throws(SysError) {
        guard setuidMode else { return }
        let top = try Files.mountInfo(tree).mountID
        func refused(_ place: String) -> SysError {
            SysError(what, errno: .permissionDenied, hint: """
                the host's procfs mounted at \(place) below it could not be detached; setuid mode lets no procfs \
                but the sandbox's own (--proc DEST) in: the command would reach other processes' /proc/PID/root
                """)
        }
        // Each round detaches one procfs (and everything on and below it); the table is read again.
        for _ in 0..<256 {
            let table = MountTable.parse(try Mounts.tableText())
            guard let base = table.first(where: { $0.id == top }) else { throw refused("(not in the mount table)") }
            let below = MountTable.ids(below: top, in: table)
            guard let proc = table.first(where: { $0.type == "proc" && below.contains($0.id) }) else { return }
            let prefix = base.mountPoint == "/" ? "/" : base.mountPoint + "/"
            guard proc.mountPoint.hasPrefix(prefix) else { throw refused(proc.mountPoint) }
            let relative = String(proc.mountPoint.dropFirst(prefix.count))
            let guest = GuestPath(components: (d.components + relative.split(separator: "/").map(String.init)))
            guard let fd = try? Files.open2(relative, at: tree, flags: O_PATH,
                                            resolve: Resolve.beneath | Resolve.noSymlinks | Resolve.noMagicLinks)
            else { throw refused(guest.description) }
            defer { Files.close(fd) }
            // The mount found there is that procfs, or one mounted on top of it (gone with it).
            guard let found = try? Files.mountInfo(fd), found.isMountRoot,
                  found.mountID == proc.id || MountTable.ids(below: proc.id, in: table).contains(found.mountID)
            else { throw refused(guest.description) }
            try Mounts.detach(fd, what: guest.description)
            log.step("detached \(guest): the host's procfs, carried in by \(what) (setuid mode: no procfs but the sandbox's own)")
        }
        throw refused("(too many)")
    }

    private mutating func mountDev(_ d: GuestPath, devices: [String: Int32]) throws(SysError) {
        let fs = try Mounts.FilesystemContext("tmpfs", what: d.description)
        try fs.set("mode", "755")
        // Shown as "tmpfs" in mountinfo, as runc's /dev (the OCI validation suite compares it).
        try fs.set("source", "tmpfs")
        let dev = try fs.mount([.noSuid, .noExec])
        // Populate before attaching: the tmpfs is private until it is in the tree.
        for name in Self.devices + ["console"] {
            guard let host = devices[name] else { continue }
            let file = try Files.open(name, O_RDONLY | O_CREAT | O_EXCL, mode: 0o666, at: dev)
            Files.close(file)
            let node = try Files.open(name, O_PATH, at: dev)
            let tree = try take(host, usesLeft: devicesLeft, recursive: false, what: "/dev/\(name)")
            try Mounts.setAttributes(tree, [.noSuid, .noExec], recursive: false, what: "/dev/\(name)")
            try Mounts.attach(tree, onto: node, what: "/dev/\(name) -> \(d)/\(name)")
            Files.close(node); Files.close(tree)
        }
        devicesLeft -= 1
        for (link, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore"), ("ptmx", "pts/ptmx")] {
            try Files.symlink(target, link, at: dev)
        }
        try Files.mkdir("pts", at: dev, mode: 0o755)
        try Files.mkdir("shm", at: dev, mode: 0o1777)
        let pts = try Mounts.FilesystemContext("devpts", what: "\(d)/pts")
        try pts.set(flag: "newinstance")
        try pts.set("ptmxmode", "0666")
        try pts.set("mode", "620")
        let ptsTree = try pts.mount([.noSuid, .noExec])
        let ptsDir = try Files.open("pts", O_PATH | O_DIRECTORY, at: dev)
        try Mounts.attach(ptsTree, onto: ptsDir, what: "devpts -> \(d)/pts")
        let shm = try Mounts.FilesystemContext("tmpfs", what: "\(d)/shm")
        try shm.set("mode", "1777")
        let shmTree = try shm.mount([.noSuid, .noDev])
        let shmDir = try Files.open("shm", O_PATH | O_DIRECTORY, at: dev)
        try Mounts.attach(shmTree, onto: shmDir, what: "tmpfs -> \(d)/shm")
        for fd in [ptsTree, ptsDir, shmTree, shmDir] { Files.close(fd) }
        try place(dev, at: d, inMemory: true, what: "dev \(d): \(Self.devices.joined(separator: " ")), pts, shm")
    }

    /// With a fake kernel release, /proc/sys/kernel/osrelease (when a procfs is at /proc)
    /// shows it: a one-file tmpfs bound over it, read-only.
    private mutating func fakeOSRelease(_ release: String) throws(SysError) {
        let path = GuestPath(components: ["proc", "sys", "kernel", "osrelease"])
        guard let target = try? Files.open2(path.relative, at: root, flags: O_PATH,
                                            resolve: Resolve.inRoot | Resolve.noMagicLinks) else { return }
        defer { Files.close(target) }
        let fs = try Mounts.FilesystemContext("tmpfs", what: "osrelease")
        try fs.set("mode", "0755")
        try fs.set("size", "4096")
        let tmp = try fs.mount([.noSuid, .noDev, .noExec])
        defer { Files.close(tmp) }
        let file = try Files.open("osrelease", O_WRONLY | O_CREAT | O_EXCL, mode: 0o444, at: tmp)
        do {
            try Files.writeAll(file, Array((release + "\n").utf8), what: "osrelease")
        } catch {
            Files.close(file)
            throw error
        }
        Files.close(file)
        let node = try Files.open("osrelease", O_PATH, at: tmp)
        defer { Files.close(node) }
        let tree = try Mounts.cloneTree(node, recursive: false, what: "osrelease")
        try Mounts.setAttributes(tree, [.readOnly, .noSuid, .noDev, .noExec], recursive: false, what: "osrelease")
        try place(tree, at: path, create: .file, inMemory: true, what: "kernel release \(release) -> \(path)")
    }

    // MARK: destinations, resolved inside the new root

    /// Like `resolve`, but a symlink in the last component is returned as itself (O_PATH |
    /// O_NOFOLLOW), so a mount covers the link rather than what it points to.
    private func resolveLink(_ path: GuestPath, create: Create) throws(SysError) -> Int32 {
        guard let name = path.lastComponent else { return try resolve(path, create: create) }
        let parent = try resolve(path.parent, create: .directory(nil))
        defer { Files.close(parent) }
        do {
            return try Files.open(name, O_PATH | O_NOFOLLOW, at: parent)
        } catch where error.errno == .noSuchFileOrDirectory {
            return try resolve(path, create: create)
        }
    }

    enum Create { case directory(UInt32?), file }

    /// The mode of a missing parent of a directory made with `mode` (bubblewrap's rule):
    /// the owner gets everything, and group and others may enter it where `mode` lets them
    /// in at all (0750 for 0710 or 0640, 0705 for 0604, 0700 for 0600 or 0000), so nobody
    /// reaches the leaf through a parent more open than the leaf itself.
    static func parentMode(of mode: UInt32) -> UInt32 {
        var parent: UInt32 = 0o700
        if mode & 0o070 != 0 { parent |= 0o050 }
        if mode & 0o007 != 0 { parent |= 0o005 }
        return parent
    }

    /// Opens `path` inside the new root (`RESOLVE_IN_ROOT`: `..` and symlinks, absolute or
    /// relative, stay below it), creating what is missing when asked. Created entries are
    /// reported to the cleaner, so the host directory is as it was after the sandbox ends.
    private func resolve(_ path: GuestPath, create: Create?) throws(SysError) -> Int32 {
        let how = Resolve.inRoot | Resolve.noMagicLinks
        do {
            return try Files.open2(path.relative, at: root, flags: O_PATH, resolve: how)
        } catch where error.errno == .noSuchFileOrDirectory && create != nil {
            // Walk down, creating each missing component in the directory its parent
            // resolved to (which is inside the root by construction).
        }
        var parent = try Files.open2(".", at: root, flags: O_PATH | O_DIRECTORY, resolve: how)
        for (i, name) in path.components.enumerated() {
            let sub = GuestPath(components: Array(path.components[...i]))
            let isLast = i == path.components.count - 1
            let next: Int32
            do {
                next = try Files.open2(sub.relative, at: root, flags: O_PATH, resolve: how)
            } catch where error.errno == .noSuchFileOrDirectory {
                do { try mayCreate(in: parent, sub) } catch {
                    Files.close(parent)
                    throw error
                }
                do {
                    if isLast, case .file = create {
                        // Read-only, as bubblewrap makes it: what is bound over it is what counts.
                        let fd = try Files.open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o444, at: parent)
                        Files.close(fd)
                        record(parent: parent, name: name, kind: .file)
                    } else {
                        var mode: UInt32 = 0o755
                        var exact = false
                        if case .directory(let m?) = create {
                            if isLast { mode = m; exact = true } else { mode = Self.parentMode(of: m) }
                        }
                        try Files.mkdir(name, at: parent, mode: mode_t(mode))
                        record(parent: parent, name: name, kind: .directory)
                        // mkdir applies the umask; --perms means the mode exactly.
                        if exact { try Files.chmod(name, at: parent, mode: mode_t(mode)) }
                    }
                } catch where error.errno == .fileExists {
                    Files.close(parent)
                    throw SysError("create mount point", path.description, errno: .noSuchFileOrDirectory,
                                   hint: "\(sub) is a symlink whose target does not exist inside the new root")
                } catch {
                    Files.close(parent)
                    throw SysError("create mount point", "\(sub) (for \(path))", errno: error.errno,
                                   hint: error.errno == .readOnlyFileSystem || error.errno == .permissionDenied
                                       ? (setuidMode ? "create it in the rootfs first: setuid mode creates mount points only where you may write yourself"
                                          : "create it in the rootfs first, or use --root-tmp-overlay / --root-overlay DIR") : nil)
                }
                log.step("created \(sub)")
                next = try Files.open2(sub.relative, at: root, flags: O_PATH, resolve: how)
            }
            Files.close(parent)
            parent = next
        }
        return parent
    }
}

extension Filesystem {
    /// Creating in a host directory is allowed only when a cleaner will remove it again.
    fileprivate func mayCreate(in parent: Int32, _ what: GuestPath) throws(SysError) {
        guard cleaner < 0, !spec.keepsCreatedEntries, !inMemory.contains(try Files.mountInfo(parent).mountID) else { return }
        throw SysError("create", "\(what)", errno: .noSuchFileOrDirectory,
                       hint: "the rootfs changed while burrow was starting (it was there a moment ago); try again")
    }

    fileprivate func record(parent: Int32, name: String, kind: Cleaner.Kind) {
        guard cleaner >= 0, !spec.keepsCreatedEntries, let id = try? Files.mountInfo(parent).mountID, !inMemory.contains(id) else { return }
        Cleaner.record(cleaner, parent: parent, name: name, kind: kind)
    }
}

extension MountPropagation {
    /// The kernel's flag for this type (mount_setattr's `propagation`).
    var kernelType: Mounts.Propagation {
        switch kind {
        case .shared: return .shared
        case .slave: return .slave
        case .private: return .private
        case .unbindable: return .unbindable
        }
    }
}

let MS_REC = 16384
let MS_SLAVE = 1 << 19
let MS_PRIVATE = 1 << 18

extension Filesystem {
    /// burrow-oci's maskedPaths and readonlyPaths, as runc applies them: after every mount,
    /// a path the new root lacks skipped; a masked directory gets an empty read-only tmpfs,
    /// anything else the host's /dev/null bound over it; a read-only path is bound onto
    /// itself and made read-only.
    /// burrow-oci's linux.sysctl, through the new root's /proc (the container's: a PID
    /// namespace's own, or the host's bound in), before readonlyPaths can make /proc/sys
    /// read-only, as runc orders them. Only sysctls of namespaces the sandbox owns get here
    /// (OCIConfig).
    fileprivate func writeSysctls() throws(SysError) {
        for sysctl in spec.process.sysctls {
            let path = "proc/sys/" + sysctl.name.split(separator: ".").joined(separator: "/")
            let what = "sysctl \(sysctl.name)=\(sysctl.value): /\(path)"
            let fd: Int32
            do { fd = try Files.open2(path, at: root, flags: O_WRONLY | O_CLOEXEC, resolve: Resolve.inRoot | Resolve.noMagicLinks) } catch {
                throw SysError("open", what, errno: error.errno,
                               hint: error.errno == .noSuchFileOrDirectory ? "the container needs /proc mounted at /proc" : nil)
            }
            defer { Files.close(fd) }
            try Files.writeAll(fd, Array(sysctl.value.utf8), what: what)
            log.step("sysctl \(sysctl.name)=\(sysctl.value)")
        }
    }

    fileprivate mutating func restrictPaths() throws(SysError) {
        func existing(_ path: GuestPath) throws(SysError) -> Int32? {
            do { return try resolve(path, create: nil) } catch where error.errno == .noSuchFileOrDirectory {
                log.step("skip \(path): not in the new root")
                return nil
            }
        }
        for path in spec.restrictedPaths.masked {
            guard let fd = try existing(path) else { continue }
            defer { Files.close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw SysError.last("fstat", path.description) }
            let tree: Int32
            if st.st_mode & S_IFMT == S_IFDIR {
                let fs = try Mounts.FilesystemContext("tmpfs", what: path.description)
                tree = try fs.mount([.readOnly, .noSuid, .noDev, .noExec])
            } else {
                let null = try Files.open("/dev/null", O_PATH | O_CLOEXEC)
                defer { Files.close(null) }
                tree = try Mounts.cloneTree(null, what: "/dev/null")
            }
            defer { Files.close(tree) }
            try Mounts.attach(tree, onto: fd, what: "mask \(path)")
            log.step("mask \(path)")
        }
        for path in spec.restrictedPaths.readOnly {
            guard let fd = try existing(path) else { continue }
            defer { Files.close(fd) }
            let tree = try Mounts.cloneTree(fd, what: path.description)
            defer { Files.close(tree) }
            try Mounts.attach(tree, onto: fd, what: "\(path) -> \(path)")
            try Mounts.setAttributes(tree, [.readOnly], what: path.description)
            log.step("read-only \(path)")
        }
    }
}

extension Filesystem {
    /// burrow-oci's linux.devices, after every mount, as runc makes them: each device node
    /// bound onto an empty file at its path from the supervisor's tmpfs (attached on the new
    /// root only while its nodes are cloned, as for a bound data file) or from the host's
    /// node found in pass 1; each FIFO made in place. Directories on the way are made as for
    /// a mount point; a node already there (Burrow's /dev/null) must be that very device, or
    /// the runtime-spec's error.
    fileprivate mutating func makeDevices(_ opened: Opened) throws(SysError) {
        var made: [Int: Int32] = opened.hostDevices
        if deviceNodes >= 0 {
            try Mounts.attach(deviceNodes, onto: root, what: "tmpfs of device nodes")
            do throws(SysError) {
                for (index, node) in spec.devices.enumerated() where node.kind != .fifo {
                    let fd = try Files.open(DeviceNodes.name(index), O_PATH | O_NOFOLLOW, at: deviceNodes)
                    defer { Files.close(fd) }
                    made[index] = try Mounts.cloneTree(fd, recursive: false, what: "device node \(node.path)")
                }
            } catch {
                made.values.forEach(Files.close)
                try? Mounts.detach(deviceNodes, what: "tmpfs of device nodes")
                throw error
            }
            try Mounts.detach(deviceNodes, what: "tmpfs of device nodes")
        }
        defer { made.values.forEach(Files.close) }
        for (index, node) in spec.devices.enumerated() {
            let what = "device \(node.path) (\(node.typeAndNumbers))"
            guard let name = node.path.lastComponent else { continue }
            let parent = try resolve(node.path.parent, create: .directory(nil))
            defer { Files.close(parent) }
            if let st = try? Files.stat(name, at: parent) {
                guard DeviceNodes.matches(st, node) else {
                    throw SysError("create", what, errno: .fileExists,
                                   hint: "\(node.path) is in the new root already and is not that device")
                }
                log.step("\(what): there already")
                continue
            }
            if node.kind == .fifo {
                try mayCreate(in: parent, node.path)
                try Files.makeNode(name, at: parent, mode: mode_t(node.kind.typeBits | node.mode), major: 0, minor: 0, what: what)
                record(parent: parent, name: name, kind: .file)
                let fd = try Files.open(name, O_PATH | O_NOFOLLOW, at: parent)
                defer { Files.close(fd) }
                try Files.chmod(opened: fd, mode: mode_t(node.mode), what: what)
                try Files.chown(opened: fd, uid: node.uid, gid: node.gid, what: what)
                log.step("\(what): made (mkfifo), mode 0\(String(node.mode, radix: 8)), owner \(node.uid):\(node.gid)")
                continue
            }
            guard let tree = made.removeValue(forKey: index) else { continue }
            try Mounts.setAttributes(tree, [.noSuid, .noExec], recursive: false, what: what)
            let from = deviceNodes >= 0 ? "made by mknod" : "the host's node, with its owner and mode"
            try place(tree, at: node.path, create: .file, inMemory: false, what: "\(what): \(from)")
        }
    }
}
