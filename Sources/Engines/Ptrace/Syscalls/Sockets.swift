import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// bind, connect: the path of a unix socket address (not an abstract one) is translated;
// getsockname, getpeername, accept and accept4 give it back as the guest's path. An IPv4 or
// IPv6 port of the port map (proot -p IN:OUT) is changed, as PRoot's portmap does.

extension Tracer {
    func socketEnter(_ t: Tracee, _ regs: Trace.Registers, addr: Int, length: Int) -> EnterResult {
        let address = regs.arg(addr)
        let len = Int(truncatingIfNeeded: regs.arg(length))
        guard address != 0, len > 2, len <= 128, let sa = Trace.read(t.pid, at: address, count: len) else { return .allow }
        let family = UInt16(sa[0]) | UInt16(sa[1]) << 8
        if family == 2 || family == 10, len >= 4, let map = emulator?.portMap, !map.isEmpty {  // AF_INET, AF_INET6
            let port = UInt16(sa[2]) << 8 | UInt16(sa[3])  // network order
            guard let to = map[port] else { return .allow }
            var changed = sa
            changed[2] = UInt8(to >> 8)
            changed[3] = UInt8(to & 0xff)
            var scratch = Scratch(pid: t.pid, regs: regs)
            guard let p = scratch.push(changed) else { return .fail(.badAddress) }
            var new = regs
            new.setArg(addr, p)
            return .rewrite(new, exit: .restore)
        }
        guard len <= 110 else { return .allow }
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

    /// The kernel wrote a socket address into a buffer of `buffer` bytes and its full size
    /// into `*length`: a unix socket's host path becomes the guest's, cut to the buffer as
    /// the kernel cuts, and `*length` its full size.
    func socketNameExit(_ t: Tracee, address: UInt64, length: UInt64, buffer: Int) {
        guard let lenBytes = Trace.read(t.pid, at: length, count: 4) else { return }
        let full = Int(lenBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        let stored = min(full, buffer, 110)
        guard stored > 2, let sa = Trace.read(t.pid, at: address, count: stored), sa[0] == 1, sa[1] == 0, sa[2] == UInt8(ascii: "/")
        else { return }
        let host = String(decoding: sa[2...].prefix { $0 != 0 }, as: UTF8.self)
        guard let guest = bindings.guestPath(ofHost: host) else { return }
        let named: [UInt8] = [sa[0], sa[1]] + Array(guest.description.utf8) + [0]
        _ = Trace.write(t.pid, at: address, Array(named.prefix(buffer)))
        _ = Trace.write(t.pid, at: length, withUnsafeBytes(of: UInt32(named.count).littleEndian, Array.init))
    }

    /// i386's socketcall(call, args): the calls that carry a socket address are handled as
    /// their own system calls would be, on a copy of the argument array (32-bit words)
    /// pushed below the stack; the others run as they are.
    func socketCallEnter(_ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        // socketcall's calls (SYS_* of linux/net.h), each with its count of arguments.
        let sysBind: UInt64 = 2, sysConnect: UInt64 = 3, sysAccept: UInt64 = 5, sysGetsockname: UInt64 = 6,
            sysGetpeername: UInt64 = 7, sysAccept4: UInt64 = 18
        let addressCalls: [UInt64: Int] = [sysBind: 3, sysConnect: 3]
        let nameCalls: [UInt64: Int] = [sysAccept: 3, sysGetsockname: 3, sysGetpeername: 3, sysAccept4: 4]
        let call = regs.arg(0)
        guard let count = addressCalls[call] ?? nameCalls[call] else { return .allow }
        let size = regs.pointerSize
        guard let words = Trace.read(t.pid, at: regs.arg(1), count: count * size) else { return .fail(.badAddress) }
        // The arguments as if they were the call's own registers.
        var direct = regs
        for i in 0..<count {
            let w = words[(i * size)..<((i + 1) * size)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            direct.setArg(i, w)
        }
        if nameCalls[call] != nil {
            return enter(.socketName(addr: 1, length: 2), t, direct).replacingRegisters(regs)
        }
        let result = socketEnter(t, direct, addr: 1, length: 2)
        guard case .rewrite(let changed, let exit) = result else { return result }
        var array: [UInt8] = []
        for i in 0..<count { array += withUnsafeBytes(of: changed.arg(i).littleEndian, Array.init).prefix(size) }
        // Below what socketEnter pushed.
        var scratch = Scratch(pid: t.pid, regs: regs)
        scratch.cursor = min(scratch.cursor, changed.arg(1))
        guard let p = scratch.push(array) else { return .fail(.badAddress) }
        var new = regs
        new.setArg(1, p)
        return .rewrite(new, exit: exit)
    }

    func chrootEnter(_ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        guard let path = try? Trace.readString(t.pid, at: regs.arg(0)).get() else { return .fail(.badAddress) }
        // Under faked ids, only a faked root may (as PRoot's -0 and -i have it).
        if let c = t.credentials ?? emulator?.initialCredentials, !c.privileged { return .fail(.notPermitted) }
        switch translate(t, path, follow: true) {
        case .success(let tr) where tr.guest.isRoot: return .succeed(0)
        case .success: return .fail(.notPermitted)
        case .failure(let e): return .fail(e)
        }
    }
}

extension EnterResult {
    /// A result decided on other registers (socketcall's unpacked arguments), the call's own
    /// registers kept where it is run.
    func replacingRegisters(_ regs: Trace.Registers) -> EnterResult {
        if case .rewrite(_, let exit) = self { return .rewrite(regs, exit: exit) }
        return self
    }
}
