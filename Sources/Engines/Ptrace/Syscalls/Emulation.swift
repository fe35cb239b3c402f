import BurrowKernel
import BurrowSpec
import Glibc
import SystemPackage

// QEMU at execve (a foreign ELF program runs as `qemu-ARCH -0 ARGV0 PROGRAM ARGS`; QEMU's
// own path calls are translated like any other, so it finds the guest's program and
// loader), and AT_HWCAP of PRoot's full `-k` form and the faked ids (AT_UID, AT_EUID,
// AT_GID, AT_EGID, as PRoot's -0 and -i write them) in each new program's auxiliary vector
// at the exec event.

extension Tracer {
    /// For execEnter: when `head` is a program of QEMU's target, the argv that runs it
    /// through QEMU and the host program to execute; nil for any other file.
    func qemuExec(_ t: Tracee, _ regs: Trace.Registers, head: [UInt8], program: GuestPath,
                  argv: [ArgItem]?, argvArg: Int) -> (host: String, argv: [ArgItem])? {
        guard let q = emulator?.qemu, q.target.matches(elfHeader: head) else { return nil }
        guard let old = argv ?? readArgv(t, regs.arg(argvArg)) else { return nil }
        let items: [ArgItem] = [.new(q.program), .new("-0"), old.first ?? .new(program.description), .new(program.description)]
            + old.dropFirst()
        return (q.program, items)
    }
}

extension Emulator {
    static let atHWCAP: UInt64 = 16
    static let atUID: UInt64 = 11, atEUID: UInt64 = 12, atGID: UInt64 = 13, atEGID: UInt64 = 14
    static let atIgnore: UInt64 = 1, atSysinfoEHDR: UInt64 = 33

    /// After a successful execve: the ids of a set-id program (`execCredentials`), and the
    /// auxiliary vector's AT_HWCAP as the full `-k` form asks and ids as faked; under a faked
    /// uname the vDSO is not announced (AT_SYSINFO_EHDR becomes AT_IGNORE, as PRoot's -k
    /// has it: its ELF note names the real kernel release). The new program's stack holds
    /// argc, argv, NULL, envp, NULL, then the auxv pairs.
    func execDone(_ t: Tracee) {
        if let c = t.execCredentials { t.credentials = c }
        t.execCredentials = nil
        var values: [UInt64: UInt64] = [:]
        if let hwcap = uname?.hwcap { values[Self.atHWCAP] = hwcap }
        if let c = t.credentials ?? initialCredentials {
            values[Self.atUID] = UInt64(c.ruid)
            values[Self.atEUID] = UInt64(c.euid)
            values[Self.atGID] = UInt64(c.rgid)
            values[Self.atEGID] = UInt64(c.egid)
        }
        let hideVDSO = uname != nil
        guard !values.isEmpty || hideVDSO, let regs = Trace.registers(t.pid) else { return }
        var at = regs.stackPointer
        func word(_ address: UInt64) -> UInt64? {
            guard let b = Trace.read(t.pid, at: address, count: 8) else { return nil }
            return b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
        guard let argc = word(at), argc < 1 << 20 else { return }
        at += 8 * (argc + 2)  // argc, argv[], NULL
        var n = 0
        while let w = word(at), w != 0, n < 1 << 20 { at += 8; n += 1 }
        at += 8  // envp's NULL
        for _ in 0..<64 {
            guard let type = word(at), type != 0 else { return }
            if let v = values[type] { _ = Trace.write(t.pid, at: at + 8, withUnsafeBytes(of: v.littleEndian, Array.init)) }
            if hideVDSO, type == Self.atSysinfoEHDR {
                _ = Trace.write(t.pid, at: at, withUnsafeBytes(of: Self.atIgnore.littleEndian, Array.init) + [UInt8](repeating: 0, count: 8))
            }
            at += 16
        }
    }
}
