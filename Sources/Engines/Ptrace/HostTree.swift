import BurrowKernel
import BurrowSandbox
import Glibc

/// `HostLookup` on the real host: one O_PATH descriptor per binding, opened at start, and
/// openat2(RESOLVE_NO_SYMLINKS) to check a whole run of components in one system call.
/// Only where that finds a symlink is the run walked component by component (readlinkat).
struct HostTree: HostLookup {
    /// One per binding, in the order of `Bindings.entries`; -1 where it could not be opened.
    var anchors: [Int32]
    /// --dev's binding while the host's /dev stands in for its directory: its symlinks are
    /// the host's, not the guest's, and are not followed (a path through one lands in the
    /// stand-in, which has the directory made: Tracer.translate).
    var standIn: Int?

    func probe(binding: Int, below: [String], components: [String]) -> Probe {
        guard binding < anchors.count, anchors[binding] >= 0, binding != standIn else { return .plain }
        let fd = anchors[binding]
        let path = (below + components).joined(separator: "/")
        switch Files.probeNoSymlinks(path, at: fd) {
        case .found, .noSymlink, .missing: return .plain
        case .symlinkOnTheWay:
            for i in components.indices {
                let prefix = (below + components[...i]).joined(separator: "/")
                if let target = Files.readlinkIfSymlink(prefix, at: fd) { return .symlink(index: i, target: target) }
            }
            return .plain
        }
    }

    func notDirectory(binding: Int, below: [String]) -> Int32? {
        guard binding < anchors.count, anchors[binding] >= 0 else { return nil }
        return Self.notDirectory(below.isEmpty ? "." : below.joined(separator: "/"), at: anchors[binding])
    }

    /// The errno of walking through `path` as a directory (ENOENT, ENOTDIR, EACCES...), or nil.
    static func notDirectory(_ path: String, at dir: Int32) -> Int32? {
        do {
            let st = try Files.stat(path, at: dir, follow: true)
            return st.st_mode & S_IFMT == S_IFDIR ? nil : ENOTDIR
        } catch {
            return error.errno.rawValue
        }
    }
}

/// `HostLookup` for one tracee: the host tree, but /proc (its `self`, its magic links)
/// seen from the tracee, not from the supervisor.
struct TraceeLookup: HostLookup {
    let tracer: Tracer
    let tracee: Tracee

    func probe(binding: Int, below: [String], components: [String]) -> Probe {
        tracer.tree.probe(binding: binding, below: below, components: components)
    }

    func notDirectory(binding: Int, below: [String]) -> Int32? {
        guard tracer.bindings[binding].kind == .proc else { return tracer.tree.notDirectory(binding: binding, below: below) }
        let host = tracer.bindings.host(Location(binding: binding, below: below))
        return HostTree.notDirectory(tracer.inTracee(host, tracee), at: AT_FDCWD)
    }

    func procLink(_ link: GuestPath) -> GuestPath? {
        if link.lastComponent == "exe", let exe = tracer.procExe(tracee, link) { return exe }
        let host = tracer.inTracee(tracer.bindings.host(link), tracee, followLast: false)
        guard let text = Files.readlinkIfSymlink(host, at: AT_FDCWD), text.hasPrefix("/"), !text.hasSuffix(" (deleted)")
        else { return nil }
        return tracer.bindings.guestPath(ofHost: text)
    }
}
