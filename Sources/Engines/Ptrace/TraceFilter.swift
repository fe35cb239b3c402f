// Pure: no Glibc. The seccomp filter the command runs under: its path system calls go to
// the tracer (SECCOMP_RET_TRACE), everything else runs untraced. Kept behind this one
// function so that the shared BPF compiler (BurrowSeccomp) can replace it.

enum TraceFilter {
    static let retAllow: UInt32 = 0x7fff_0000
    static let retTrace: UInt32 = 0x7ff0_0000
    static let retErrno: UInt32 = 0x0005_0000
    static let enosys: UInt32 = 38

    /// `struct sock_filter` array, 8 bytes per instruction, native byte order.
    /// Other ABIs (i386 int 0x80, x32) get ENOSYS: their path calls would escape translation.
    static func program(trace syscalls: [Int64], arch: UInt32) -> [UInt8] {
        var insns: [(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)] = []
        let ldW: UInt16 = 0x20, jeq: UInt16 = 0x15, jge: UInt16 = 0x35, ret: UInt16 = 0x06
        insns.append((ldW, 0, 0, 4))  // seccomp_data.arch
        insns.append((jeq, 1, 0, arch))
        insns.append((ret, 0, 0, retErrno | enosys))
        insns.append((ldW, 0, 0, 0))  // seccomp_data.nr
        insns.append((jge, 0, 1, 0x4000_0000))  // x32 numbers
        insns.append((ret, 0, 0, retErrno | enosys))
        let nrs = syscalls.filter { $0 >= 0 && $0 < 0x4000_0000 }
        // One compare per call: jump to the TRACE return at the end when equal.
        for (i, nr) in nrs.enumerated() {
            let toTrace = UInt8(nrs.count - i)  // skip the remaining compares and the ALLOW
            insns.append((jeq, toTrace, 0, UInt32(nr)))
        }
        insns.append((ret, 0, 0, retAllow))
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
