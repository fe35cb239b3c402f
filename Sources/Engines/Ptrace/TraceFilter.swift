// Pure: no Glibc. The seccomp filter the command runs under: its path system calls go to
// the tracer (SECCOMP_RET_TRACE), everything else runs untraced. Kept behind this one
// function so that the shared BPF compiler (BurrowSeccomp) can replace it.

enum TraceFilter {
    static let retAllow: UInt32 = 0x7fff_0000
    static let retTrace: UInt32 = 0x7ff0_0000
    static let retUserNotif: UInt32 = 0x7fc0_0000
    static let retErrno: UInt32 = 0x0005_0000
    static let enosys: UInt32 = 38

    /// `struct sock_filter` array, 8 bytes per instruction, native byte order. `trace`
    /// stop the tracee for the tracer (SECCOMP_RET_TRACE); `notify` wait for the
    /// supervisor's answer on the listener (SECCOMP_RET_USER_NOTIF): no ptrace stop, so
    /// they cost a fraction of a traced call. Other ABIs (i386 int 0x80, x32) get ENOSYS:
    /// their path calls would escape translation.
    static func program(trace: [Int64], notify: [Int64] = [], arch: UInt32) -> [UInt8] {
        var insns: [(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)] = []
        let ldW: UInt16 = 0x20, jeq: UInt16 = 0x15, jge: UInt16 = 0x35, ret: UInt16 = 0x06
        insns.append((ldW, 0, 0, 4))  // seccomp_data.arch
        insns.append((jeq, 1, 0, arch))
        insns.append((ret, 0, 0, retErrno | enosys))
        insns.append((ldW, 0, 0, 0))  // seccomp_data.nr
        insns.append((jge, 0, 1, 0x4000_0000))  // x32 numbers
        insns.append((ret, 0, 0, retErrno | enosys))
        let valid = { (nr: Int64) in nr >= 0 && nr < 0x4000_0000 }
        let notified = notify.filter(valid)
        let traced = trace.filter { valid($0) && !notified.contains($0) }
        // One compare per call, jumping to its return at the end when equal: the notified
        // calls first (to the second-to-last return), then the traced ones (to the last).
        let compares = notified.count + traced.count
        for (i, nr) in (notified + traced).enumerated() {
            let remaining = compares - i - 1  // compares after this one
            let toReturn = i < notified.count ? remaining + 1 : remaining + 2  // past the ALLOW (and the NOTIF)
            insns.append((jeq, UInt8(toReturn), 0, UInt32(nr)))
        }
        insns.append((ret, 0, 0, retAllow))
        insns.append((ret, 0, 0, retUserNotif))
        insns.append((ret, 0, 0, retTrace))
        var out: [UInt8] = []
        for i in insns {
            out += withUnsafeBytes(of: i.code.littleEndian, Array.init)
            out += [i.jt, i.jf]
            out += withUnsafeBytes(of: i.k.littleEndian, Array.init)
        }
        return out
    }
}
