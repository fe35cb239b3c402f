import BurrowSandbox

// Pure: no Glibc. Where each guest path lives on the host, and back.

/// One place where the guest's tree comes from the host: the rootfs at `/`, or a bind.
struct Binding: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case root
        case bind
        /// The host's /proc: its symlinks are resolved by the kernel in the tracee's own
        /// context (`self`, `fd/N`), never by the supervisor.
        case proc
    }
    var guest: GuestPath
    /// Canonical (symlink-free) host directory or file.
    var host: String
    var kind: Kind
    var readOnly: Bool

    init(guest: GuestPath, host: String, kind: Kind = .bind, readOnly: Bool = false) {
        self.guest = guest
        self.host = host
        self.kind = kind
        self.readOnly = readOnly
    }
}

/// A guest path split into the binding it lies in and the components below that binding.
struct Location: Equatable, Sendable {
    var binding: Int
    var below: [String]
}

/// The rootfs and the binds, in the order they were given. The deepest binding containing a
/// guest path decides where it lives; at equal depth the later one wins (it was mounted on
/// top of the earlier).
struct Bindings: Sendable {
    private(set) var entries: [Binding]
    /// Read-only guest subtrees (`--ro-root`, `--remount-ro`) besides read-only binds.
    var readOnlyTrees: [GuestPath] = []

    init(root: String, rootReadOnly: Bool = false) {
        entries = [Binding(guest: .root, host: root, kind: .root, readOnly: rootReadOnly)]
    }

    mutating func add(_ b: Binding) { entries.append(b) }

    /// Binding `i` comes from `host` from now on (--dev's directory, once made).
    mutating func rehost(_ i: Int, to host: String) { entries[i].host = host }

    subscript(i: Int) -> Binding { entries[i] }

    func locate(_ g: GuestPath) -> Location {
        var best = 0
        var depth = 0
        for (i, b) in entries.enumerated() where i > 0 && g.isWithin(b.guest) {
            if b.guest.components.count >= depth {
                best = i
                depth = b.guest.components.count
            }
        }
        return Location(binding: best, below: Array(g.components.dropFirst(entries[best].guest.components.count)))
    }

    func host(_ loc: Location) -> String {
        let base = entries[loc.binding].host
        guard !loc.below.isEmpty else { return base }
        return (base == "/" ? "" : base) + "/" + loc.below.joined(separator: "/")
    }

    func host(_ g: GuestPath) -> String { host(locate(g)) }

    /// Writes are refused with EROFS here.
    func isReadOnly(_ g: GuestPath) -> Bool {
        if entries[locate(g).binding].readOnly { return true }
        return readOnlyTrees.contains { g.isWithin($0) }
    }

    /// The guest path of a host path (getcwd, readlink of /proc/PID/cwd and fd links), or nil
    /// when the host path is outside every binding. The binding with the longest host prefix
    /// wins; among equals, the later one; a binding hidden by a deeper one does not count.
    func guestPath(ofHost host: String) -> GuestPath? {
        let parts = host.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var best: (len: Int, path: GuestPath)?
        for b in entries.reversed() {
            let prefix = b.host.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard parts.count >= prefix.count, Array(parts.prefix(prefix.count)) == prefix else { continue }
            if let best, best.len >= prefix.count { continue }
            let g = GuestPath(components: b.guest.components + parts.dropFirst(prefix.count))
            // The guest path must really lead back to this host path (not shadowed by a bind).
            guard self.host(g) == normalised(host) else { continue }
            best = (prefix.count, g)
        }
        return best?.path
    }

    /// The binding whose host path is the longest prefix of `host` (the later at equal
    /// length): where PRoot says a host path belongs.
    func binding(ofHost host: String) -> Int? {
        let parts = host.split(separator: "/", omittingEmptySubsequences: true)
        var best: (index: Int, length: Int)?
        for (i, b) in entries.enumerated() {
            let prefix = b.host.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count >= prefix.count, parts.prefix(prefix.count).elementsEqual(prefix) else { continue }
            if let best, best.length > prefix.count { continue }
            best = (i, prefix.count)
        }
        return best?.index
    }

    /// PRoot's rule for the absolute text of a symlink at host path `link` outside the
    /// rootfs: where the link and its text, as host paths, belong to the same bind
    /// (`binding(ofHost:)`), the text names the bind's guest path (with -b /lib:/foo, the
    /// host's /lib/a -> /lib/b is /foo/a -> /foo/b in the guest); nil otherwise (the text is
    /// the guest's as it is; always with the host's / as the rootfs).
    func guestText(ofLink text: String, at link: String) -> String? {
        let root = entries[0].host.split(separator: "/", omittingEmptySubsequences: true)
        let linkParts = link.split(separator: "/", omittingEmptySubsequences: true)
        guard text.hasPrefix("/"), !linkParts.starts(with: root), let i = binding(ofHost: link), i > 0, entries[i].kind == .bind,
              binding(ofHost: text) == i
        else { return nil }
        let below = text.split(separator: "/", omittingEmptySubsequences: true).dropFirst(
            entries[i].host.split(separator: "/", omittingEmptySubsequences: true).count)
        let guest = entries[i].guest.components + below.map(String.init)
        return "/" + guest.joined(separator: "/") + (text.hasSuffix("/") && !below.isEmpty ? "/" : "")
    }

    private func normalised(_ host: String) -> String {
        "/" + host.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}
