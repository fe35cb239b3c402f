import BurrowKernel
import BurrowSandbox
import Glibc

// The fast path of translation: most paths a busy program passes are relative to its
// working directory, and most of those the kernel, running in the tracee, resolves exactly
// as the guest would: no `..`, no symlink on the way, no bind (or read-only subtree) entered
// below the working directory. Those need no canonicalisation at all, only one
// openat2(RESOLVE_NO_SYMLINKS) probe of the directories on the way (none for a bare name
// whose last component is not followed), and the working directory itself is cached per
// tracee instead of read from /proc/PID/cwd each time.
//
// The caches stay correct while the guest changes its tree: every call that can change a
// working directory or the path leading to one, or put a symlink where the caches know a
// directory or a file (chdir, fchdir, chroot, symlink*, and rename* and link* of a
// directory or a symlink: SyscallTable.invalidatesCaches) is traced and bumps
// `Tracer.cacheGeneration` at entry and, if it succeeded, at exit, which drops every cached
// entry; an rmdir that removed a directory (a working directory, maybe) bumps it at exit.
// Changes made by processes outside the sandbox to the directories the guest works in are
// not seen until then.

/// A directory relative paths start from (a tracee's working directory, or the descriptor
/// of an `*at` call), as the fast path needs it.
struct WorkingDirectory {
    /// `Tracer.cacheGeneration` when it was read.
    var generation: UInt64
    var guest: GuestPath
    var host: String
    /// Its binding, and its host path below that binding's root (for the probe).
    var binding: Int
    var belowAnchor: [UInt8]
    /// False where the kernel must not be trusted with relative paths (inside /proc).
    var fast: Bool
    /// Bind destinations and read-only subtrees strictly below it, as components relative
    /// to it: a relative path entering one takes the slow path.
    var boundaries: [[[UInt8]]]
}

extension Tracer {
    /// Whether `path` (below binding `binding`'s root) is met with no symlink on the way.
    /// Paths found to exist are remembered until the guest renames or removes something
    /// (`cacheGeneration`); a missing one is asked again, as it may appear as a symlink.
    func plainDirectories(binding: Int, _ path: ArraySlice<UInt8>) -> Bool { probePlain(binding: binding, path) != .symlink }

    enum PlainProbe { case plain, missing, symlink }

    /// `plainDirectories`, telling apart a path with a component missing (ENOENT).
    func probePlain(binding: Int, _ path: ArraySlice<UInt8>) -> PlainProbe {
        let key = PlainKey(binding: binding, path: path)
        if knownPlainIsCurrent, knownPlain.paths.contains(key) { return .plain }
        // Its directory known plain (the usual case: a stat of a file after its directory's
        // listing), only the last component is looked at.
        let parentKnown = path.lastIndex(of: UInt8(ascii: "/")).map {
            knownPlainIsCurrent && knownPlain.paths.contains(PlainKey(binding: binding, path: path[..<$0]))
        } ?? true
        let text = String(decoding: path, as: UTF8.self), anchor = tree.anchors[binding]
        switch parentKnown ? Files.probeLastComponent(text, at: anchor) : Files.probeNoSymlinks(text, at: anchor) {
        case .symlinkOnTheWay: return .symlink
        case .noSymlink: return .plain
        case .missing: return .missing
        case .found:
            rememberPlain(key)
            return .plain
        }
    }

    /// Records a path found to exist with no symlink on the way, its last component
    /// included (a probe, or a stat that did not follow it and saw no symlink).
    func rememberPlain(_ key: PlainKey) {
        if !knownPlainIsCurrent || knownPlain.paths.count > 32768 { knownPlain = (cacheGeneration, []) }
        knownPlain.paths.insert(key)
    }

    private var knownPlainIsCurrent: Bool { knownPlain.generation == cacheGeneration }

    /// Whether the kernel, resolving `path` from the tracee's own directory (its cwd or the
    /// call's dirfd), finds what the guest would, with nothing looked up, not even that
    /// directory: a bare name (one component, not `.` or `..`) whose symlink, if it is one,
    /// is not followed, and that no bind ends with (the bind would stand in for it), while
    /// nothing about the file is faked. A directory outside the guest's tree is the
    /// kernel's to resolve in any case; in /proc the tracee's own view is the right one.
    func kernelResolvesAlone(_ path: [UInt8], follow: Bool, _ t: Tracee) -> Bool {
        guard !follow, let first = path.first, emulator?.initialCredentials == nil, t.openedModes.isEmpty else { return false }
        let dot = UInt8(ascii: ".")
        if first == dot && (path.count == 1 || (path.count == 2 && path[1] == dot)) { return false }
        guard !path.contains(UInt8(ascii: "/")) else { return false }
        for guest in bindingComponents.dropFirst() where guest.last.map({ $0 == path }) ?? false { return false }
        return true
    }

    /// The cached working directory of `t`, read again when the cache is stale; nil when it
    /// is deleted or outside the guest's tree.
    func workingDirectory(_ t: Tracee) -> WorkingDirectory? {
        if let c = t.cwd, c.generation == cacheGeneration { return c }
        t.cwd = directory(link: "/proc/\(t.pid)/cwd", preferring: t.guestCwd)
        return t.cwd
    }

    /// The directory a /proc link (a cwd, or a descriptor of `*at` calls) names; by host
    /// path, from a cache of the current generation. `preferring`: the guest path it is
    /// known by, if it still leads there (a host directory bound at two places has two).
    func directory(link: String, preferring known: GuestPath? = nil) -> WorkingDirectory? {
        guard let host = Files.readlinkIfSymlink(link, at: Tracer.atFDCWD), host.hasPrefix("/"), !host.hasSuffix(" (deleted)")
        else { return nil }
        if knownDirectories.generation != cacheGeneration || knownDirectories.byHost.count > 1024 {
            knownDirectories = (cacheGeneration, [:])
        }
        let preferred = known.flatMap { bindings.host($0) == host ? $0 : nil }
        let key = preferred.map { "\($0.description)\u{0}\(host)" } ?? host
        if let d = knownDirectories.byHost[key] { return d }
        guard let guest = preferred ?? bindings.guestPath(ofHost: host) else { return nil }
        let loc = bindings.locate(guest)
        let below = loc.below.joined(separator: "/")
        var boundaries: [[[UInt8]]] = []
        let depth = guest.components.count
        for g in bindings.entries.dropFirst().map(\.guest) + bindings.readOnlyTrees
        where g.components.count > depth && g.isWithin(guest) {
            boundaries.append(g.components.dropFirst(depth).map { Array($0.utf8) })
        }
        let d = WorkingDirectory(generation: cacheGeneration, guest: guest, host: host, binding: loc.binding,
                                 belowAnchor: Array((below.isEmpty ? "." : below).utf8),
                                 fast: bindings[loc.binding].kind != .proc && tree.anchors[loc.binding] >= 0,
                                 boundaries: boundaries)
        knownDirectories.byHost[key] = d
        return d
    }

    /// The translation of a relative `path` that the kernel resolves from the tracee's
    /// working directory as the guest would; nil when the slow path must decide.
    func fastTranslation(_ t: Tracee, _ path: [UInt8], text: String, dirfd: Int32, follow: Bool) -> Translation? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard let first = path.first, first != slash else { return nil }
        let dir = dirfd == Tracer.atFDCWD ? workingDirectory(t) : directory(link: "/proc/\(t.pid)/fd/\(dirfd)")
        guard let cwd = dir, cwd.fast else { return nil }
        // The components, without `.` and empty ones; `..` leaves the fast path.
        var components: [ArraySlice<UInt8>] = []
        var start = 0
        for i in 0...path.count where i == path.count || path[i] == slash {
            let c = path[start..<i]
            start = i + 1
            if c.isEmpty || (c.count == 1 && c.first == dot) { continue }
            if c.count == 2 && c.first == dot && c.last == dot { return nil }
            components.append(c)
        }
        for b in cwd.boundaries where b.count <= components.count {
            if zip(b, components).allSatisfy({ $0.elementsEqual($1) }) { return nil }
        }
        // Symlinks on the way (and in the last component, when followed) are the slow
        // path's; a trailing `/` or `/.` always follows.
        let endsInDot = path.last == dot && (path.count == 1 || path[path.count - 2] == slash)
        let probeAll = follow || path.last == slash || endsInDot
        let probed = probeAll ? components[...] : components.dropLast()
        var rel = cwd.belowAnchor
        for c in probed { rel.append(slash); rel += c }
        var probe = PlainProbe.plain
        if !probed.isEmpty {
            probe = probePlain(binding: cwd.binding, rel[...])
            guard probe != .symlink else { return nil }
        }
        var tr = Translation(unchanged: text, base: cwd.guest, components: components)
        tr.missing = probeAll && probe == .missing
        if !probeAll, let last = components.last {
            rel.append(slash)
            rel += last
            tr.wholePath = PlainKey(binding: cwd.binding, path: rel[...])
        }
        return tr
    }

    /// The translation of an absolute `path` that has no `.` or `..` component, lies outside
    /// /proc, and meets no symlink on the way (as far as it is followed) in any binding it
    /// goes through: the binding's host path and the rest of the bytes, with no
    /// canonicalisation. The same probes as the canonicaliser's, one per binding crossed,
    /// cached as the relative fast path's are. nil when the canonicaliser must decide.
    func absoluteTranslation(_ t: Tracee, _ path: [UInt8], follow: Bool) -> Translation? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard path.first == slash else { return nil }
        // The components, as ranges of `path`; `//` adds none.
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(16)
        var start = 1
        for i in 1...path.count where i == path.count || path[i] == slash {
            if i > start {
                if path[start] == dot && (i - start == 1 || (i - start == 2 && path[start + 1] == dot)) { return nil }
                ranges.append(start..<i)
            }
            start = i + 1
        }
        let n = ranges.count
        guard n > 0 else { return nil }
        // The bindings this path goes into (Bindings.locate's rule: the deepest, the later
        // at equal depth), as (index, depth of its guest path).
        var entered: [(binding: Int, depth: Int)] = []
        for (b, guest) in bindingComponents.enumerated() where b > 0 && guest.count <= n {
            var same = true
            for (k, c) in guest.enumerated() where !path[ranges[k]].elementsEqual(c) {
                same = false
                break
            }
            if same {
                if bindings[b].kind == .proc { return nil }
                entered.append((b, guest.count))
            }
        }
        func binding(coveringFirst k: Int) -> (binding: Int, depth: Int) {
            var best = (binding: 0, depth: 0)
            for e in entered where e.depth <= k && e.depth >= best.depth { best = e }
            return best
        }
        // Every component walked through as a directory (and the last one, when followed)
        // must be a plain one of its binding; a bind's destination itself is not looked at
        // (the bind stands in for it).
        let trailingSlash = path.last == slash
        let probed = follow || trailingSlash ? n : n - 1
        var run = binding(coveringFirst: 0), runEnd = -1
        var lastProbe = PlainProbe.plain
        func runIsPlain() -> Bool {
            lastProbe = .plain
            guard runEnd >= run.depth else { return true }
            guard tree.anchors[run.binding] >= 0 else { return false }
            lastProbe = probePlain(binding: run.binding, path[ranges[run.depth].lowerBound..<ranges[runEnd].upperBound])
            return lastProbe != .symlink
        }
        for i in 0..<probed {
            let b = binding(coveringFirst: i + 1)
            if b.binding != run.binding {
                guard runIsPlain() else { return resolvedTranslation(t, path, ranges, follow: follow) }
                run = b
                runEnd = -1
            } else {
                runEnd = i
            }
        }
        // A symlink on the way: its directory may be known (ResolvedDirectories.swift).
        guard runIsPlain() else { return resolvedTranslation(t, path, ranges, follow: follow) }
        let last = binding(coveringFirst: n)
        let base = bindings[last.binding].host
        var host = base == "/" ? "" : base
        if last.depth < n {
            host += "/" + String(decoding: path[ranges[last.depth].lowerBound...], as: UTF8.self)
        } else if trailingSlash || host.isEmpty {
            host += "/"
        }
        guard host.utf8.count < 4096 else { return nil }
        var tr = Translation(host: host, base: .root, components: ranges.map { path[$0] })
        // Only the last run's probe, and only if it took the last component: a missing
        // component before a bind's destination is no missing path.
        tr.missing = lastProbe == .missing && runEnd == n - 1
        if !follow, !trailingSlash, last.depth < n {
            tr.wholePath = PlainKey(binding: last.binding, path: path[ranges[last.depth].lowerBound...])
        }
        return tr
    }
}

/// A path below a binding's root, as the symlink-free cache knows it.
struct PlainKey: Hashable {
    var binding: Int
    /// A slice of the path as read (no copy to look it up).
    var path: ArraySlice<UInt8>

    // The bytes in one go (an array hashes element by element).
    func hash(into h: inout Hasher) {
        h.combine(binding)
        path.withUnsafeBytes { h.combine(bytes: $0) }
    }
}
