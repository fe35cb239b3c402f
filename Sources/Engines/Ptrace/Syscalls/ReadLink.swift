import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// readlink, readlinkat: the link's path goes in translated; what comes back is the guest's
// own text for a symlink in the tree, but a host path for the kernel's links under /proc
// (cwd, root, fd/N, exe), which is translated back. /proc/PID/exe names the guest program.

extension Tracer {
    func readlinkEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, buffer: Int, size: Int) -> EnterResult {
        let pointer = regs.arg(a.path)
        guard pointer != 0 else { return .allow }
        let path: [UInt8]
        switch Trace.readString(t.pid, at: pointer) {
        case .success(let p): path = p
        case .failure(let e): return .fail(e)
        }
        guard !path.isEmpty else { return .allow }
        let dirfd = a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
        let tr: Translation
        switch translate(t, path, dirfd: dirfd, follow: false) {
        case .success(let x): tr = x
        case .failure(let e): return .fail(e)
        }
        let bufferAddress = regs.arg(buffer)
        let bufferSize = Int(truncatingIfNeeded: regs.arg(size))
        if let exe = procExe(t, tr.guest) {
            let bytes = Array(exe.description.utf8.prefix(max(0, bufferSize)))
            guard Trace.write(t.pid, at: bufferAddress, bytes) else { return .fail(.badAddress) }
            return .succeed(Int64(bytes.count))
        }
        if let text = bindLinkText(t, tr, dirfd: dirfd) {
            switch text {
            case .success(let b):
                let bytes = Array(b.prefix(max(0, bufferSize)))
                guard Trace.write(t.pid, at: bufferAddress, bytes) else { return .fail(.badAddress) }
                return .succeed(Int64(bytes.count))
            case .failure(let e): return .fail(e)
            }
        }
        var new = regs
        if tr.changed {
            var scratch = Scratch(pid: t.pid, regs: regs)
            guard let address = scratch.push(string: tr.host) else { return .fail(.badAddress) }
            new.setArg(a.path, address)
        }
        let underProc = procDestination.map { tr.guest.isWithin($0) } ?? false
        if underProc { return .rewrite(new, exit: .readlink(buffer: bufferAddress, size: bufferSize)) }
        return tr.changed ? .rewrite(new, exit: .restore) : .allow
    }

    /// The text of a symlink that lies in a bind (not the rootfs, not /proc), as the guest
    /// reads it: a text naming a host path in that same bind names the bind's guest path
    /// (Bindings.guestText). nil: not such a link, the kernel answers as usual.
    /// `guest`: `tr.guest`, if made already.
    func bindLinkText(_ t: Tracee, _ tr: Translation, dirfd: Int32, guest: GuestPath? = nil) -> Result<[UInt8], Errno>? {
        let linkHost = bindings.host(guest ?? tr.guest)
        // Most links are in no bind: a bind's host path is a prefix of the link's if it is in one.
        guard bindings.entries.contains(where: { $0.kind == .bind && linkHost.hasPrefix($0.host) }),
              let i = bindings.binding(ofHost: linkHost), i > 0, bindings[i].kind == .bind else { return nil }
        let host = hostPath(t, tr, dirfd: dirfd, follow: false)
        switch Files.readlinkBytes(host, size: 4096) {
        case .failure(let e): return .failure(e)
        case .success(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self), let guest = bindings.guestText(ofLink: text, at: linkHost) else {
                return .success(bytes)
            }
            return .success(Array(guest.utf8))
        }
    }

    /// The result of a readlink under /proc: a host path turned back into the guest's.
    func readlinkExit(_ t: Tracee, buffer: UInt64, size: Int, result: Int64) -> Int64 {
        guard result > 0, let bytes = Trace.read(t.pid, at: buffer, count: Int(result)),
              let guest = guestLinkText(bytes) else { return result }
        let out = Array(guest.prefix(size))
        return Trace.write(t.pid, at: buffer, out) ? Int64(out.count) : result
    }

    /// A link under /proc naming a host path (with " (deleted)" kept), as the guest's path;
    /// nil when it names no host path inside the guest's tree.
    func guestLinkText(_ bytes: [UInt8]) -> [UInt8]? {
        guard let text = String(validating: bytes, as: UTF8.self), text.hasPrefix("/") else { return nil }
        let deleted = text.hasSuffix(" (deleted)")
        let host = deleted ? String(text.dropLast(10)) : text
        guard let guest = bindings.guestPath(ofHost: host) else { return nil }
        return Array((guest.description + (deleted ? " (deleted)" : "")).utf8)
    }
}
