/// A spec that cannot run, said in the spec's own terms: the problem is data, and the words
/// for what it involves come from whoever speaks to the user. Each front-end names the
/// spec's ideas as its users typed them (`SpecTerms`): a hostname without a UTS namespace
/// is `--hostname needs --unshare-uts (or --unshare-all)` to burrow's users, `-n needs a new
/// UTS namespace` to jchroot's, and `a hostname needs a new UTS namespace` in the spec's
/// own words (`message`), which no user's command line spells.
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum IDKind: String, Equatable, Sendable { case uid, gid }

    /// What is wrong with a uid or gid map line.
    public enum MapDefect: Equatable, Sendable {
        case emptyRange
        case pastLargestID
        case overlapsInside(IDMap)
        case overlapsOnHost(IDMap)
    }

    public enum Problem: Equatable, Sendable {
        case emptyCommand
        /// A path the kernel would refuse (`PathLimit.problem` says why).
        case pathLimit(SpecTerm, path: String, problem: String)
        /// The same for where a mount of this type (an fstab line) goes.
        case mountPointLimit(type: String, path: String, problem: String)
        case hostnameWithoutUTSNamespace
        case commandPID1WithoutPIDNamespace
        case hostnameLength(String)
        case readOnlyRootWithOverlay(discarded: Bool)
        case mqueueWithoutIPCNamespace
        case emptySymlinkTarget
        case emptyBindSource(GuestPath)
        /// An overlay with fewer layers than its kind needs (`OverlayMount.layersNeeded`).
        case overlayLayers(GuestPath, needed: Int)
        case filesystemWithoutType(GuestPath)
        case qemuWithIDMaps
        case idMap(IDKind, IDMap, MapDefect)
        case tooManyMapLines(IDKind)
        case idNotMapped(IDKind, UInt32)
        /// `spec.devices[index]` fails the named check (`DeviceNode.checks`).
        case device(index: Int, GuestPath, check: String, DeviceNode.Defect)
        // Setuid mode (`setuidRefusal`): what root's privilege would make unsafe.
        case setuidForeignID(IDKind, asked: UInt32, caller: UInt32)
        case setuidIDMaps
        case setuidOverlay(discarded: Bool)
        case setuidQemu
        case setuidFilesystem(type: String, GuestPath)
        case setuidMqueueWithoutIPCNamespace(GuestPath)
        case setuidDevices(GuestPath)
        // Namespaces joined by path (`Namespaces.joined`).
        case mountNamespaceWithoutItsUserNamespace
        case namespaceJoinedTwice(NamespaceKind)
        case namespaceJoinedAndMade(NamespaceKind)
        case mapsForJoinedUserNamespace
    }

    public var problem: Problem
    public init(_ problem: Problem) { self.problem = problem }

    /// In the spec's own words.
    public var message: String { message(in: .spec) }
    public var description: String { message }

    /// In the words of the front-end the user called, on one line (`OneLine`).
    public func message(in terms: SpecTerms) -> String {
        OneLine.escaping(words(terms))
    }

    private func words(_ t: SpecTerms) -> String {
        let noUserNamespace = "setuid mode has no user namespace: ids inside are real host ids"
        switch problem {
        case .emptyCommand:
            return "the command is empty"
        case .pathLimit(let what, let path, let problem):
            return "\(t[what]) \(PathLimit.shortened(path)): \(problem)"
        case .mountPointLimit(let type, let path, let problem):
            return "\(type) destination \(PathLimit.shortened(path)): \(problem)"
        case .hostnameWithoutUTSNamespace:
            return "\(t[.hostname]) needs \(t[.utsNamespace])"
        case .commandPID1WithoutPIDNamespace:
            return "\(t[.commandIsPID1]) needs \(t[.pidNamespace])"
        case .hostnameLength(let name):
            return "hostname '\(name)' must be 1 to 64 bytes long"
        case .readOnlyRootWithOverlay(let discarded):
            return "\(t[.readOnlyRoot]) and \(t[discarded ? .rootTmpOverlay : .rootOverlay]) contradict each other: the overlay makes the root writable"
        case .mqueueWithoutIPCNamespace:
            return "\(t[.mqueue]) needs \(t[.ipcNamespace])"
        case .emptySymlinkTarget:
            return "\(t[.symlink]) needs a non-empty target"
        case .emptyBindSource(let dest):
            return "\(t[.bindSource]) for \(dest) is empty"
        case .overlayLayers(let dest, let needed):
            let read = needed > 1 ? "a read-only " : "an "
            return "\(read)overlay at \(dest) needs at least \(needed == 1 ? "one" : "two") \(t[.overlayLayer])\(needed > 1 ? "s" : "")"
        case .filesystemWithoutType(let dest):
            return "the mount at \(dest) names no filesystem type"
        case .qemuWithIDMaps:
            return "\(t[.qemu]) cannot be combined with \(t[.uidMap])/\(t[.gidMap]) ranges (yet)"
        case .idMap(let kind, let line, let defect):
            let map = t[kind == .uid ? .uidMap : .gidMap]
            switch defect {
            case .emptyRange: return "\(map) \(line): the count must be at least 1"
            case .pastLargestID: return "\(map) \(line): the range runs past the largest id"
            case .overlapsInside(let other): return "\(map) \(line) overlaps \(other) inside the sandbox"
            case .overlapsOnHost(let other): return "\(map) \(line) overlaps \(other) on the host"
            }
        case .tooManyMapLines(let kind):
            return "\(t[kind == .uid ? .uidMap : .gidMap]): the kernel accepts at most 340 lines"
        case .idNotMapped(let kind, let id):
            return "\(t[kind == .uid ? .uid : .gid]) \(id) is not mapped by the \(t[kind == .uid ? .uidMap : .gidMap]) ranges given"
        case .device(let index, let path, _, let defect):
            // The front-end's list, by index (linux.devices[2] (/dev/x)), else the spec's words.
            let node = t.has(.device) ? "\(t[.device])[\(index)] (\(path))" : "\(t[.device]) \(path)"
            switch defect {
            case .atRoot: return "\(node): a device node cannot be at /"
            case .majorTooLarge(let n): return "\(node): major \(n) is more than the kernel's largest, \(DeviceNode.largestMajor)"
            case .minorTooLarge(let n): return "\(node): minor \(n) is more than the kernel's largest, \(DeviceNode.largestMinor)"
            case .notPermissionBits(let m): return "\(node): mode \(m) (0\(String(m, radix: 8))) is more than permission bits (0 to 0777)"
            case .listedTwice: return "\(node) is listed twice"
            case .idNotMapped(let kind, let id):
                return "\(node): its \(kind.rawValue) \(id) is not mapped by the \(t[kind == .uid ? .uidMap : .gidMap]) ranges given"
            }
        case .setuidForeignID(let kind, let asked, let caller):
            let option = t[kind == .uid ? .uid : .gid]
            let orRoot = asked == 0 && t.has(.rootInside) ? " (or \(t[.rootInside]))" : ""
            let runs = kind == .uid ? "runs as you (uid \(caller))" : "runs with your gid \(caller)"
            return "\(option) \(asked)\(orRoot) is refused in setuid mode: the command \(runs); \(noUserNamespace), and \(kind.rawValue) \(asked) is not yours; the ptrace engine fakes it (--engine ptrace, which auto picks for root inside)"
        case .setuidIDMaps:
            return "\(t[.uidMap])/\(t[.gidMap]) are refused in setuid mode: \(noUserNamespace); there is nothing to map"
        case .setuidOverlay(let discarded):
            return "\(t[discarded ? .rootTmpOverlay : .rootOverlay]) is refused in setuid mode: overlayfs acts on its layers with the credentials of whoever mounted it, here root"
        case .setuidQemu:
            return "\(t[.qemu]) is refused in setuid mode: it registers QEMU with binfmt_misc, and without a user namespace of the sandbox's own that would be the host's"
        case .setuidFilesystem(let type, let dest):
            let article = type.first.map { "aeiou".contains($0) } == true ? "an" : "a"
            return "mounting \(article) \(type) filesystem on \(dest) is refused in setuid mode: only \(SandboxSpec.setuidFilesystemTypes.sorted().joined(separator: ", ")) can be mounted with root's privilege without giving the caller more than they had (a disk, overlay or FUSE filesystem would be mounted as root)"
        case .setuidMqueueWithoutIPCNamespace(let dest):
            return "mqueue on \(dest) needs \(t[.ipcNamespace]) in setuid mode: the host's would be mounted as root"
        case .setuidDevices(let path):
            return "\(t[.device]) \(path) is refused in setuid mode: root would create it (mknod), giving the caller a device they could not open before"
        case .mountNamespaceWithoutItsUserNamespace:
            return "\(t[.joinedMountNamespace]) needs \(t[.joinedUserNamespace]) too, the one that owns it: the root is built in the joined mount namespace, and from a user namespace of Burrow's own nothing may be mounted there"
        case .namespaceJoinedTwice(let kind):
            return "the \(kind.rawValue) namespace to join is given twice"
        case .namespaceJoinedAndMade(let kind):
            return "the \(kind.rawValue) namespace is both joined and made new"
        case .mapsForJoinedUserNamespace:
            return "\(t[.uidMap])/\(t[.gidMap]) cannot apply to \(t[.joinedUserNamespace]): it has its maps already"
        }
    }
}

/// The spec's ideas an error may have to name. Each has the spec's own words; a front-end
/// gives its option for it (`SpecTerms`).
public enum SpecTerm: Hashable, Sendable, CaseIterable {
    case hostname, utsNamespace, ipcNamespace, mqueue
    case readOnlyRoot, rootOverlay, rootTmpOverlay
    case symlink, symlinkTarget, bindSource, bindDestination
    case uid, gid, rootInside, uidMap, gidMap, qemu
    case rootfs, overlayDirectory, tmpfs, proc, dev, directory, remountReadOnly
    case workingDirectory, pidFile, fakeDatabase, dataFile, chmod, lockFile
    case infoDescriptor, jsonStatusDescriptor, blockDescriptor, bindDescriptor, seccompDescriptor
    case commandIsPID1, pidNamespace, userNamespaceDescriptor, pidNamespaceDescriptor
    case overlay, overlayLayer, overlayUpper, overlayWork, userNamespaceAfterSetupDescriptor, mapsFromCallerDescriptor
    case joinedMountNamespace, joinedUserNamespace, device

    /// How the spec itself says it.
    public var specWords: String {
        switch self {
        case .hostname: return "a hostname"
        case .utsNamespace: return "a new UTS namespace"
        case .ipcNamespace: return "a new IPC namespace"
        case .mqueue: return "an mqueue mount"
        case .readOnlyRoot: return "a read-only root"
        case .rootOverlay: return "an overlay over the root"
        case .rootTmpOverlay: return "a discarded overlay over the root"
        case .symlink: return "symlink"
        case .symlinkTarget: return "symlink target"
        case .bindSource: return "bind source"
        case .bindDestination: return "bind destination"
        case .uid: return "uid"
        case .gid: return "gid"
        case .rootInside: return "root inside"
        case .uidMap: return "uid map"
        case .gidMap: return "gid map"
        case .qemu: return "running foreign programs through QEMU"
        case .rootfs: return "rootfs"
        case .overlayDirectory: return "overlay directory"
        case .tmpfs: return "tmpfs destination"
        case .proc: return "proc destination"
        case .dev: return "dev destination"
        case .directory: return "directory"
        case .remountReadOnly: return "read-only remount of"
        case .workingDirectory: return "working directory"
        case .pidFile: return "pid file"
        case .fakeDatabase: return "fake database"
        case .dataFile: return "data file"
        case .chmod: return "chmod of"
        case .lockFile: return "lock file"
        case .infoDescriptor: return "the info descriptor"
        case .jsonStatusDescriptor: return "the JSON status descriptor"
        case .blockDescriptor: return "the descriptor to wait on"
        case .bindDescriptor: return "bind source descriptor"
        case .seccompDescriptor: return "seccomp program descriptor"
        case .commandIsPID1: return "the command as PID 1"
        case .pidNamespace: return "a new PID namespace"
        case .userNamespaceDescriptor: return "the user namespace to join"
        case .pidNamespaceDescriptor: return "the PID namespace to join"
        case .overlay: return "overlay destination"
        case .overlayLayer: return "overlay layer"
        case .overlayUpper: return "overlay upper directory"
        case .overlayWork: return "overlay work directory"
        case .userNamespaceAfterSetupDescriptor: return "the user namespace to enter after the set-up"
        case .device: return "device node"
        case .mapsFromCallerDescriptor: return "the descriptor to wait on for the caller's maps"
        case .joinedMountNamespace: return "a joined mount namespace"
        case .joinedUserNamespace: return "a joined user namespace"
        }
    }
}

/// A front-end's words for the spec's ideas: its option names, as its users typed them.
/// What it does not name is said in the spec's words.
public struct SpecTerms: Equatable, Sendable, CustomStringConvertible {
    public var words: [SpecTerm: String]
    /// How the front-end's own tool words a failure to set one up, where its users (and
    /// their scripts) know that wording: bwrap's "Can't find source path" for a bind source
    /// that cannot be opened. Followed by the path and the error, as every such message is.
    public var failures: [SpecTerm: String]
    public init(_ words: [SpecTerm: String], failures: [SpecTerm: String] = [:]) {
        self.words = words
        self.failures = failures
    }
    /// The spec's own words for everything.
    public static let spec = SpecTerms([:])
    public subscript(_ term: SpecTerm) -> String { words[term] ?? term.specWords }
    /// The words before PATH: ERROR when setting up `term` failed.
    public func failure(_ term: SpecTerm) -> String { failures[term] ?? term.specWords }
    public func has(_ term: SpecTerm) -> Bool { words[term] != nil }
    /// Short, for test reports: the words for a hostname and a uid.
    public var description: String { "SpecTerms(\(self[.hostname]), \(self[.uid]), ...)" }
}

/// Error messages quote what the user typed, and are printed on one line after the tool's
/// name. A newline, escape sequence or other control character in a quoted argument (or
/// file) is shown as an escape (`\n`, `\t`, `\r`, `\u{1B}`) so the message stays one line
/// and cannot rewrite the terminal.
public enum OneLine {
    public static func escaping(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: breaks) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where breaks(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    public static func breaks(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

/// The kernel's limits on a path, checked before any engine runs, so that every engine
/// refuses the same paths in the same words: the namespace engine would meet ENAMETOOLONG
/// in `openat` (naming neither the option nor the path as given), the ptrace engine only
/// when the guest used the path, or never.
public enum PathLimit {
    /// PATH_MAX (4096) counts the terminating NUL: a path has at most 4095 bytes.
    public static let maxPathBytes = 4095
    /// NAME_MAX: one component (between slashes) has at most 255 bytes.
    public static let maxNameBytes = 255
    /// How much of a path a message quotes before `…`.
    static let quoted = 40

    /// Why the kernel would refuse `path` with ENAMETOOLONG (`a path of 5005 bytes, more
    /// than 4095: File name too long`); nil when it would not.
    public static func problem(_ path: String) -> String? {
        let bytes = path.utf8.count
        if bytes > maxPathBytes {
            return "a path of \(bytes) bytes, more than \(maxPathBytes): File name too long"
        }
        for component in path.utf8.split(separator: UInt8(ascii: "/")) where component.count > maxNameBytes {
            let name = shortened(String(decoding: component, as: UTF8.self))
            return "a name of \(component.count) bytes in it (\(name)), more than \(maxNameBytes): File name too long"
        }
        return nil
    }

    /// `what PATH…: problem` for a path over a limit (`--tmpfs /tmp/xxx…: a path of ...`);
    /// nil when it is within them. `what` is an option name or the spec's word for the path.
    public static func message(_ path: String, what: String) -> String? {
        problem(path).map { "\(what) \(shortened(path)): \($0)" }
    }

    /// The first characters of a long path, then `…`.
    static func shortened(_ text: String) -> String {
        text.count > quoted ? String(text.prefix(quoted)) + "…" : text
    }
}

extension SandboxSpec {
    /// The caller's descriptors the spec reads or writes, with what each is for (a data
    /// file's destination, or nil): `main` checks they are open before burrow opens any of
    /// its own, whose numbers they could otherwise take.
    public var callerDescriptors: [(fd: Int32, what: SpecTerm, path: String?)] {
        var out: [(Int32, SpecTerm, String?)] = []
        for op in operations {
            if case .file(let f) = op { out.append((f.descriptor, .dataFile, f.destination.description)) }
            if case .bind(let b) = op, let fd = b.sourceDescriptor { out.append((fd, .bindDescriptor, b.destination.description)) }
        }
        if let fd = process.reports.info { out.append((fd, .infoDescriptor, nil)) }
        if let fd = process.reports.jsonStatus { out.append((fd, .jsonStatusDescriptor, nil)) }
        if let fd = process.blockDescriptor { out.append((fd, .blockDescriptor, nil)) }
        for p in security.callerPrograms { out.append((p.descriptor, .seccompDescriptor, nil)) }
        if let fd = namespaces.userToJoin { out.append((fd, .userNamespaceDescriptor, nil)) }
        if let fd = namespaces.userAfterSetup { out.append((fd, .userNamespaceAfterSetupDescriptor, nil)) }
        if let fd = namespaces.mapsFromCaller { out.append((fd, .mapsFromCallerDescriptor, nil)) }
        if let fd = namespaces.pidToJoin { out.append((fd, .pidNamespaceDescriptor, nil)) }
        return out
    }

    /// Every path the spec holds with the spec's word for it (nil: a filesystem mount's, named
    /// by its type), for the checks that apply to
    /// all of them alike (`PathLimit`).
    public var namedPaths: [(what: SpecTerm?, path: String)] {
        var out: [(SpecTerm?, String)] = [(.rootfs, root.path.string)]
        if case .keep(let dir) = root.overlay { out.append((.overlayDirectory, dir.string)) }
        for op in operations {
            switch op {
            case .bind(let b):
                out.append((.bindSource, b.source.string))
                out.append((.bindDestination, b.destination.description))
            case .tmpfs(let d, _, _): out.append((.tmpfs, d.description))
            case .proc(let d): out.append((.proc, d.description))
            case .dev(let d): out.append((.dev, d.description))
            case .mqueue(let d): out.append((.mqueue, d.description))
            case .dir(let d, _): out.append((.directory, d.description))
            case .symlink(let target, let d):
                out.append((.symlinkTarget, target))
                out.append((.symlink, d.description))
            case .remountReadOnly(let d): out.append((.remountReadOnly, d.description))
            case .file(let f): out.append((.dataFile, f.destination.description))
            case .chmod(let d, _): out.append((.chmod, d.description))
            case .overlay(let o):
                for layer in o.layers { out.append((.overlayLayer, layer.string)) }
                if case .kept(let upper, let work) = o.changes {
                    out.append((.overlayUpper, upper.string))
                    out.append((.overlayWork, work.string))
                }
                out.append((.overlay, o.destination.description))
            // A mount an fstab line asks for, named by its type (`mountPointLimit`).
            case .filesystem(let f): out.append((nil, f.destination.description))
            }
        }
        if let d = process.chdir { out.append((.workingDirectory, d.description)) }
        if let f = process.pidFile { out.append((.pidFile, f.string)) }
        if let f = identity.fakeDatabase { out.append((.fakeDatabase, f.string)) }
        for l in process.lockFiles { out.append((.lockFile, l.description)) }
        for d in devices { out.append((.device, d.path.description)) }
        return out
    }

    /// Returns the first problem found, in the order a user would want to hear about them.
    public func validate() throws(SpecError) {
        if process.argv.isEmpty || process.argv[0].isEmpty {
            throw SpecError(.emptyCommand)
        }
        for (what, path) in namedPaths {
            guard let problem = PathLimit.problem(path) else { continue }
            if let what { throw SpecError(.pathLimit(what, path: path, problem: problem)) }
        }
        for case .filesystem(let f) in operations {
            let path = f.destination.description
            if let problem = PathLimit.problem(path) { throw SpecError(.mountPointLimit(type: f.type, path: path, problem: problem)) }
        }
        try validateJoins()
        if let name = process.hostname {
            if !namespaces.uts && namespaces.joined(.uts) == nil { throw SpecError(.hostnameWithoutUTSNamespace) }
            if name.isEmpty || name.utf8.count > 64 { throw SpecError(.hostnameLength(name)) }
        }
        if process.commandIsPID1, !namespaces.pid { throw SpecError(.commandPID1WithoutPIDNamespace) }
        if root.readOnly, let overlay = root.overlay {
            throw SpecError(.readOnlyRootWithOverlay(discarded: overlay == .discard))
        }
        for op in operations {
            switch op {
            // (Root in its own user namespace, burrow-oci's `keepsCallerUser`, mounts the
            // caller's queues, as runc does; from a user namespace of Burrow's it could not.)
            case .mqueue where !namespaces.ipc && namespaces.joined(.ipc) == nil && !namespaces.keepsCallerUser:
                throw SpecError(.mqueueWithoutIPCNamespace)
            case .symlink(let target, _) where target.isEmpty:
                throw SpecError(.emptySymlinkTarget)
            case .bind(let b) where b.source.string.isEmpty:
                throw SpecError(.emptyBindSource(b.destination))
            case .overlay(let o) where o.layers.count < o.layersNeeded:
                throw SpecError(.overlayLayers(o.destination, needed: o.layersNeeded))
            case .filesystem(let f) where f.type.isEmpty:
                throw SpecError(.filesystemWithoutType(f.destination))
            case .filesystem(let f) where f.type == "mqueue" && !namespaces.ipc && namespaces.joined(.ipc) == nil && !namespaces.keepsCallerUser:
                throw SpecError(.mqueueWithoutIPCNamespace)
            default: break
            }
        }
        for (index, node) in devices.enumerated() {
            for check in DeviceNode.checks {
                if let defect = check(node, index, in: self) {
                    throw SpecError(.device(index: index, node.path, check: check.name, defect))
                }
            }
        }
        if emulation.qemu != nil, !identity.uidMap.isEmpty || !identity.gidMap.isEmpty {
            throw SpecError(.qemuWithIDMaps)
        }
        try Self.validate(map: identity.uidMap, kind: .uid, chosen: identity.uid)
        try Self.validate(map: identity.gidMap, kind: .gid, chosen: identity.gid)
    }

    /// Each kind joined once, and not made as well; no maps for a user namespace joined (by
    /// path or descriptor). A joined mount namespace is where the root is built (burrow-oci's
    /// `linux.namespaces[].path`, as runc builds it there); setuid mode refuses every join.
    private func validateJoins() throws(SpecError) {
        var seen: [NamespaceKind] = []
        for join in namespaces.joined {
            if seen.contains(join.kind) { throw SpecError(.namespaceJoinedTwice(join.kind)) }
            seen.append(join.kind)
            let made: Bool
            switch join.kind {
            case .user: made = namespaces.userRequired
            case .pid: made = namespaces.pid
            case .ipc: made = namespaces.ipc
            case .net: made = namespaces.net
            case .uts: made = namespaces.uts
            case .cgroup: made = namespaces.cgroup
            case .mnt: made = false
            }
            if made { throw SpecError(.namespaceJoinedAndMade(join.kind)) }
            if join.kind == .mnt, namespaces.keepsCallerMount { throw SpecError(.namespaceJoinedAndMade(.mnt)) }
            if join.kind == .mnt, namespaces.joined(.user) == nil, namespaces.userToJoin == nil, !namespaces.keepsCallerUser {
                throw SpecError(.mountNamespaceWithoutItsUserNamespace)
            }
            if join.kind == .user, namespaces.userToJoin != nil { throw SpecError(.namespaceJoinedTwice(.user)) }
            if join.kind == .pid, namespaces.pidToJoin != nil { throw SpecError(.namespaceJoinedTwice(.pid)) }
        }
        if seen.contains(.user), !identity.uidMap.isEmpty || !identity.gidMap.isEmpty {
            throw SpecError(.mapsForJoinedUserNamespace)
        }
    }

    private static func validate(map: [IDMap], kind: SpecError.IDKind, chosen: UInt32?) throws(SpecError) {
        guard !map.isEmpty else { return }
        for (i, line) in map.enumerated() {
            if line.count == 0 { throw SpecError(.idMap(kind, line, .emptyRange)) }
            if UInt64(line.inside) + UInt64(line.count) > UInt64(UInt32.max)
                || UInt64(line.outside) + UInt64(line.count) > UInt64(UInt32.max)
            {
                throw SpecError(.idMap(kind, line, .pastLargestID))
            }
            for other in map[..<i] {
                if ranges(line.inside, line.count, overlap: other.inside, other.count) {
                    throw SpecError(.idMap(kind, line, .overlapsInside(other)))
                }
                if ranges(line.outside, line.count, overlap: other.outside, other.count) {
                    throw SpecError(.idMap(kind, line, .overlapsOnHost(other)))
                }
            }
        }
        if map.count > 340 { throw SpecError(.tooManyMapLines(kind)) }
        if let id = chosen, !map.contains(where: { $0.contains(inside: id) }) {
            throw SpecError(.idNotMapped(kind, id))
        }
    }

    private static func ranges(_ a: UInt32, _ n: UInt32, overlap b: UInt32, _ m: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(m) && UInt64(b) < UInt64(a) + UInt64(n)
    }
}
