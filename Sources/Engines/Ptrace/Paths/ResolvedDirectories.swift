import BurrowKernel
import BurrowSandbox
import Glibc

// Absolute paths whose directory is reached through a symlink: on a merged-/usr system every
// program and library is named that way (/bin/sed, /lib/x86_64-linux-gnu/libc.so.6,
// /lib64/ld-linux-x86-64.so.2), so the fast path (FastPath.swift), which takes only paths
// with no symlink on the way, would leave them all to the canonicaliser. Instead the
// directory part is canonicalised once and remembered, with the symlinks met on the way;
// each later use reads those symlinks again (one readlinkat each) and takes the
// remembered directory only if every one still says the same. The components that were
// plain directories stay so until a rename or rmdir (`Tracer.cacheGeneration`), as for the
// fast path; a symlink replaced by anything (unlink, then mkdir or a file) no longer reads
// the same.

/// A guest directory as the canonicaliser resolved it.
struct ResolvedDirectory {
    /// The canonical guest path, its binding, and its host path.
    var guest: GuestPath
    var binding: Int
    var host: String
    /// Its path below the binding's host root, as the symlink-free cache keys it.
    var below: [UInt8]
    /// The symlinks met on the way: binding, path below its root, and the text read.
    var links: [(binding: Int, path: String, text: String)]
}

/// Records the symlinks a canonicalisation meets, and whether it went through /proc's
/// magic links (then nothing is remembered: they depend on the tracee).
final class LinkLog {
    var links: [(binding: Int, path: String, text: String)] = []
    var procLinks = false
}

struct RecordingLookup: HostLookup {
    let inner: TraceeLookup
    let log: LinkLog

    func probe(binding: Int, below: [String], components: [String]) -> Probe {
        let p = inner.probe(binding: binding, below: below, components: components)
        if case .symlink(let i, let target) = p {
            log.links.append((binding, (below + components[...i]).joined(separator: "/"), target))
        }
        return p
    }

    func notDirectory(binding: Int, below: [String]) -> Int32? { inner.notDirectory(binding: binding, below: below) }

    func procLink(_ link: GuestPath) -> GuestPath? {
        log.procLinks = true
        return inner.procLink(link)
    }
}

extension Tracer {
    /// The translation of an absolute `path` (split at `ranges`, no `.` or `..`, no trailing
    /// `/`) whose directory is a remembered (or now resolved) one and whose last component is
    /// no bind's destination; a last component that is a symlink and followed is resolved
    /// and remembered with the whole path. nil: the canonicaliser decides.
    func resolvedTranslation(_ t: Tracee, _ path: [UInt8], _ ranges: [Range<Int>], follow: Bool) -> Translation? {
        guard ranges.count >= 2, path.last != UInt8(ascii: "/"), let last = ranges.last else { return nil }
        let key = PlainKey(binding: -1, path: path[..<(last.lowerBound - 1)])
        guard let dir = resolvedDirectory(t, key) else { return nil }
        let name = path[last]
        // The last component may be a bind's destination, which stands in for it.
        let depth = dir.guest.components.count
        for (b, guest) in bindingComponents.enumerated() where b > 0 && guest.count == depth + 1 {
            if guest.last.map({ $0.elementsEqual(name) }) ?? false { return nil }
        }
        var below = dir.below
        if !below.isEmpty { below.append(UInt8(ascii: "/")) }
        below += name
        var probe = PlainProbe.plain
        if follow {
            probe = probePlain(binding: dir.binding, below[...])
            if probe == .symlink {
                // The last component is itself a symlink, followed (/bin/sh -> dash,
                // /lib64/ld-linux-x86-64.so.2): the whole path resolved and remembered
                // the same way.
                guard let whole = resolvedDirectory(t, PlainKey(binding: -1, path: path[...])), whole.host.utf8.count < 4096
                else { return nil }
                return Translation(host: whole.host, guest: whole.guest, changed: true)
            }
        }
        let host = (dir.host == "/" ? "" : dir.host) + "/" + String(decoding: name, as: UTF8.self)
        guard host.utf8.count < 4096 else { return nil }
        var tr = Translation(host: host, base: dir.guest, components: [name])
        tr.missing = probe == .missing
        if !follow { tr.wholePath = PlainKey(binding: dir.binding, path: below[...]) }
        return tr
    }

    /// The directory (or, followed to its end, the file) the guest's `key.path` names, from
    /// the cache if its symlinks still read the same; else canonicalised now (and
    /// remembered, unless it went through /proc).
    private func resolvedDirectory(_ t: Tracee, _ key: PlainKey) -> ResolvedDirectory? {
        if knownResolved.generation != cacheGeneration || knownResolved.byGuest.count > 4096 {
            knownResolved = (cacheGeneration, [:])
        }
        if let d = knownResolved.byGuest[key] {
            let same = d.links.allSatisfy { l in
                tree.anchors[l.binding] >= 0 && Files.readlinkIfSymlink(l.path, at: tree.anchors[l.binding]) == l.text
            }
            if same { return d }
            knownResolved.byGuest[key] = nil
        }
        let log = LinkLog()
        let guest: GuestPath
        do throws(PathFailure) {
            let trailer: Canonicalizer.Trailer
            (guest, trailer) = try canonicalizer.resolve(String(decoding: key.path, as: UTF8.self), base: .root, followLast: true,
                                                         lookup: RecordingLookup(inner: TraceeLookup(tracer: self, tracee: t), log: log))
            // A link whose text ends in `/` asks for a directory: the slow path's.
            guard trailer == .none else { return nil }
        } catch {
            return nil  // the canonicaliser says why, again, on the slow path
        }
        let loc = bindings.locate(guest)
        guard !log.procLinks, bindings[loc.binding].kind != .proc, tree.anchors[loc.binding] >= 0 else { return nil }
        let d = ResolvedDirectory(guest: guest, binding: loc.binding, host: bindings.host(loc),
                                  below: Array(loc.below.joined(separator: "/").utf8), links: log.links)
        knownResolved.byGuest[key] = d
        return d
    }
}
