import BurrowKernel
import BurrowSandbox
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
            var scope = ResolutionScope.guest
            var scopedHow: UInt64?
            if case .openHow(let how) = a.follow, let scoped = resolvesInDirectory(t, regs.arg(how), dirfd: dirfd) {
                if scoped.kernelAlone {
                    if writes(a.writes, t, regs), bindings.isReadOnly(scoped.directory) { return .fail(.readOnlyFileSystem) }
                    continue
                }
                scope = scoped.scope
                scopedHow = regs.arg(how)
            }
            let follow = follows(a.follow, t, regs)
            // An fts walk's openat(dirfd, name, O_NOFOLLOW): nothing to look up.
            if scopedHow == nil, !writes(a.writes, t, regs), regs.syscall != Syscall.chdir,
               kernelResolvesAlone(path, follow: follow, t) { continue }
            let tr: Translation
            switch translate(t, path, dirfd: dirfd, follow: follow, scope: scope) {
            case .success(let x): tr = x
            case .failure(let e): return .fail(e)
            }
            if writes(a.writes, t, regs), bindings.isReadOnly(tr.guest) { return .fail(.readOnlyFileSystem) }
            // A library search opens many paths that are not there: the kernel would say
            // ENOENT, and so does this, without running the call (no exit stop).
            if tr.missing, scopedHow == nil, let flags = openFlags(a.follow, t, regs), flags & Self.creates == 0 {
                return .fail(.noSuchFileOrDirectory)
            }
            if engineCall(regs) == Syscall.chdir { t.chdirTarget = tr.guest }
            guard tr.changed else { continue }
            guard let address = scratch.push(string: tr.host) else { return .fail(.badAddress) }
            new.setArg(a.path, address)
            changed = true
            // Resolved in the directory already: the kernel gets the host path without the
            // flag (it would look for the host path inside the directory).
            if let how = scopedHow, case .openHow(let howArg) = a.follow {
                let size = Int(min(regs.arg(howArg + 1), 64))
                guard size >= 24, var struc = Trace.read(t.pid, at: how, count: size) else { return .fail(.badAddress) }
                struc[16] &= ~UInt8(Self.resolveBeneath | Self.resolveInRoot)  // `resolve`'s low byte (little-endian)
                guard let copy = scratch.push(struc) else { return .fail(.badAddress) }
                new.setArg(howArg, copy)
            }
        }
        return changed ? .rewrite(new, exit: .restore) : .allow
    }

    static let resolveBeneath: UInt64 = 0x08, resolveInRoot: UInt64 = 0x10
    /// O_CREAT and O_TMPFILE (which holds O_DIRECTORY).
    static let creates: UInt64 = 0o100 | 0o20000000

    /// An open's flags (open, openat, openat2), or nil for any other call.
    func openFlags(_ f: Follow, _ t: Tracee, _ regs: Trace.Registers) -> UInt64? {
        switch f {
        case .openFlags(let arg): return regs.arg(arg)
        case .openHow(let arg): return openHowFlags(t, regs.arg(arg))
        default: return nil
        }
    }

    /// openat2 with RESOLVE_IN_ROOT or RESOLVE_BENEATH: the path is resolved in the directory
    /// `dirfd`, not in the guest's `/`. When no bind or read-only tree lies below that
    /// directory the kernel's own resolution there is the guest's (`kernelAlone`: the path
    /// is left as it is); otherwise the path is resolved in that scope here. nil: no such
    /// flag (or both, which the kernel refuses), or the directory is unknown.
    func resolvesInDirectory(_ t: Tracee, _ how: UInt64, dirfd: Int32)
        -> (directory: GuestPath, scope: ResolutionScope, kernelAlone: Bool)? {
        guard let b = Trace.read(t.pid, at: how, count: 24), b.count == 24 else { return nil }
        let resolve = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
        let inRoot = resolve & Self.resolveInRoot != 0, beneath = resolve & Self.resolveBeneath != 0
        guard inRoot != beneath, let dir = directory(t, dirfd) else { return nil }
        let below = { (g: GuestPath) in g.isWithin(dir.guest) && g != dir.guest }
        let alone = !bindings.entries.contains(where: { below($0.guest) }) && !bindings.readOnlyTrees.contains(where: below)
        return (dir.guest, inRoot ? .inRoot(dir.guest) : .beneath(dir.guest), alone)
    }
}
