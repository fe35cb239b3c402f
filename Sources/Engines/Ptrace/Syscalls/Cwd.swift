import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// getcwd: answered by the supervisor from /proc/PID/cwd, translated back; the kernel is
// not asked (it would name the host directory).

extension Tracer {
    /// At the exit of a call: after chdir and fchdir, the guest path the working directory
    /// now has (fchdir's is found again from the host's, as for a process never seen to
    /// chdir); the modes a faked root's call opened go back (Identity/RootAccess.swift).
    func callEnded(_ t: Tracee, call: Int64, result: Int64) {
        if call == Syscall.chdir, result == 0 { t.guestCwd = t.chdirTarget }
        if call == Syscall.fchdir, result == 0 { t.guestCwd = nil }
        t.chdirTarget = nil
        restoreModes(t)
    }

    func getcwdEnter(_ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        guard let dir = directory(t, Tracer.atFDCWD) else { return .fail(.noSuchFileOrDirectory) }
        let bytes = Array(dir.guest.description.utf8) + [0]
        let size = Int(truncatingIfNeeded: regs.arg(1))
        guard bytes.count <= size else { return .fail(.outOfRange) }
        guard Trace.write(t.pid, at: regs.arg(0), bytes) else { return .fail(.badAddress) }
        return .succeed(Int64(bytes.count))
    }
}
