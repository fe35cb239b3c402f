import BurrowKernel
import BurrowSpec
import Glibc
import SystemPackage

// open, stat, access, mkdir, unlink, rename, link, chmod, chown, utime, truncate, xattr,
// statfs, inotify...: every path argument translated guest -> host; nothing comes back.
// At exit the original registers are restored (Tracer.exit).

extension Tracer {
    func pathsEnter(_ t: Tracee, _ regs: Trace.Registers, _ args: [PathArg]) -> EnterResult {
        var new = regs
        var scratch = Scratch(pid: t.pid, regs: regs)
        var changed = false
        for a in args {
            let pointer = regs.arg(a.path)
            // NULL (utimensat on the fd itself): the kernel handles it.
            guard pointer != 0 else { continue }
            let path: [UInt8]
            switch Trace.readString(t.pid, at: pointer) {
            case .success(let p): path = p
            case .failure(let e): return .fail(e)
            }
            // Empty: AT_EMPTY_PATH names the dirfd itself, else ENOENT from the kernel.
            guard !path.isEmpty else { continue }
            let dirfd = a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
            if case .openHow(let how) = a.follow, let scoped = resolvesInDirectory(t, regs.arg(how), dirfd: dirfd) {
                if writes(a.writes, t, regs), bindings.isReadOnly(scoped) { return .fail(.readOnlyFileSystem) }
                continue
            }
            let tr: Translation
            switch translate(t, path, dirfd: dirfd, follow: follows(a.follow, t, regs)) {
            case .success(let x): tr = x
            case .failure(let e): return .fail(e)
            }
            if writes(a.writes, t, regs), bindings.isReadOnly(tr.guest) { return .fail(.readOnlyFileSystem) }
            guard tr.changed else { continue }
            guard let address = scratch.push(string: tr.host) else { return .fail(.badAddress) }
            new.setArg(a.path, address)
            changed = true
        }
        return changed ? .rewrite(new, exit: .restore) : .allow
    }

    /// openat2 with RESOLVE_IN_ROOT or RESOLVE_BENEATH: the path is resolved in the directory
    /// `dirfd`, not in the guest's `/`, and an absolute host path would be taken inside it.
    /// When no bind or read-only tree lies below that directory, the kernel's own resolution
    /// there is the guest's: the path is left as it is, and the guest directory returned.
    /// Otherwise nil, and the path is translated as without the flag (the kernel could not
    /// see the binds below).
    func resolvesInDirectory(_ t: Tracee, _ how: UInt64, dirfd: Int32) -> GuestPath? {
        let resolveBeneath: UInt64 = 0x08, resolveInRoot: UInt64 = 0x10
        guard let b = Trace.read(t.pid, at: how, count: 24), b.count == 24 else { return nil }
        let resolve = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
        guard resolve & (resolveBeneath | resolveInRoot) != 0, let dir = directory(t, dirfd) else { return nil }
        let below = { (g: GuestPath) in g.isWithin(dir.guest) && g != dir.guest }
        if bindings.entries.contains(where: { below($0.guest) }) || bindings.readOnlyTrees.contains(where: below) { return nil }
        return dir.guest
    }
}
