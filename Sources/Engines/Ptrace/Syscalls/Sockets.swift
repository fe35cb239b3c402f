import BurrowKernel
import BurrowSpec
import Glibc
import SystemPackage

// bind, connect: the path of a unix socket address (not an abstract one) is translated.

extension Tracer {
    func socketEnter(_ t: Tracee, _ regs: Trace.Registers, addr: Int, length: Int) -> EnterResult {
        let address = regs.arg(addr)
        let len = Int(truncatingIfNeeded: regs.arg(length))
        guard address != 0, len > 2, len <= 110, let sa = Trace.read(t.pid, at: address, count: len) else { return .allow }
        let family = UInt16(sa[0]) | UInt16(sa[1]) << 8
        guard family == 1 /* AF_UNIX */, sa[2] != 0 else { return .allow }
        let path = Array(sa[2...].prefix { $0 != 0 })
        let tr: Translation
        switch translate(t, path, follow: true) {
        case .success(let x): tr = x
        case .failure(let e): return .fail(e)
        }
        guard tr.changed else { return .allow }
        let hostBytes = Array(tr.host.utf8)
        guard hostBytes.count < 108 else { return .fail(.fileNameTooLong) }
        var scratch = Scratch(pid: t.pid, regs: regs)
        let newAddress = [sa[0], sa[1]] + hostBytes + [0]
        guard let p = scratch.push(newAddress) else { return .fail(.badAddress) }
        var new = regs
        new.setArg(addr, p)
        new.setArg(length, UInt64(newAddress.count))
        return .rewrite(new, exit: .restore)
    }

    func chrootEnter(_ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        guard let path = try? Trace.readString(t.pid, at: regs.arg(0)).get() else { return .fail(.badAddress) }
        switch translate(t, path, follow: true) {
        case .success(let tr) where tr.guest.isRoot: return .succeed(0)
        case .success: return .fail(.notPermitted)
        case .failure(let e): return .fail(e)
        }
    }
}
