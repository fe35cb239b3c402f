import BurrowKernel
import BurrowSpec
import Glibc

/// `HostLookup` on the real host: one O_PATH descriptor per binding, opened at start, and
/// openat2(RESOLVE_NO_SYMLINKS) to check a whole run of components in one system call.
/// Only where that finds a symlink is the run walked component by component (readlinkat).
struct HostTree: HostLookup {
    /// One per binding, in the order of `Bindings.entries`; -1 where it could not be opened.
    let anchors: [Int32]

    func probe(binding: Int, below: [String], components: [String]) -> Probe {
        guard binding < anchors.count, anchors[binding] >= 0 else { return .plain }
        let fd = anchors[binding]
        let path = (below + components).joined(separator: "/")
        switch Files.probeNoSymlinks(path, at: fd) {
        case .found, .noSymlink: return .plain
        case .symlinkOnTheWay:
            for i in components.indices {
                let prefix = (below + components[...i]).joined(separator: "/")
                if let target = Files.readlinkIfSymlink(prefix, at: fd) { return .symlink(index: i, target: target) }
            }
            return .plain
        }
    }
}
