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
}
