import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

/// One traced thread. The supervisor knows each by its tid.
final class Tracee {
    let pid: pid_t
    /// False until its first stop (the SIGSTOP every new tracee starts with) was absorbed.
    var started = false
    /// What to do at this call's exit stop; nil when no exit stop was asked for.
    var pending: Pending?
    /// The guest program /proc/PID/exe names (the kernel would name the host file, or the
    /// guest's ELF interpreter when Burrow ran the program through it).
    var exe: GuestPath?
    /// Set while an execve is under way: the program it runs, once it succeeds.
    var execTarget: GuestPath?
    /// Its working directory, cached for the fast path (Paths/FastPath.swift).
    var cwd: WorkingDirectory?
    /// The guest path its working directory was last given (the start, chdir), inherited
    /// at fork: of two guest paths for one host directory (a directory bound twice) it is
    /// the one getcwd names, as in PRoot. Used only while it still leads to the host cwd.
    var guestCwd: GuestPath?
    /// Set while a chdir is under way: where it goes, once it succeeds.
    var chdirTarget: GuestPath?
    /// The call stopped at entry may change what the fast path's caches hold: they are
    /// dropped again at its exit if it succeeds (Tracer.enter).
    var invalidatesAtExit = false
    /// The system call being handled (at its entry, or answered on the listener).
    var call: Int64 = -1
    /// Modes a faked root's call opened on the caller's own files, put back when it ends
    /// (Identity/RootAccess.swift).
    var openedModes: [(path: String, mode: mode_t)] = []
    /// Faked ids (Emulator); nil until first needed.
    var credentials: Credentials?
    /// Set while an execve is under way with faked ids: the ids it runs the program with
    /// (a set-id program's owner), once it succeeds.
    var execCredentials: Credentials?
    /// The process that forked it (from the fork, vfork or clone event); nil for the
    /// command, and until that event arrives.
    var parent: pid_t?
    /// Its first stop came before its parent's fork event while a guest traces something:
    /// held until that event says whether the guest tracer takes it (PtraceEmulation).
    var awaitingParent = false
    /// It stopped itself with SIGSTOP, its parent a guest tracer: its group stop is kept
    /// (`heldInGroupStop`) until a guest's SIGCONT or its tracer's PTRACE_SEIZE/ATTACH.
    var selfStopped = false
    var heldInGroupStop = false
    /// The events only a guest tracer asked for (PTRACE_O_TRACEEXIT, TRACEVFORKDONE) that
    /// are set in its real options (set while it is stopped, before it is resumed).
    var guestOptions: UInt = 0
    /// PTRACE_ATTACH came before its first stop: that stop is the attach's SIGSTOP.
    var attachStopPending = false

    init(pid: pid_t) { self.pid = pid }
}

/// Work left for a system call's exit stop.
struct Pending {
    /// The registers as the tracee had them at entry: restored at exit (but the result).
    var original: Trace.Registers
    var onExit: ExitAction
}

enum ExitAction: Equatable {
    case restore
    /// readlink: translate the target the kernel wrote into the buffer back to the guest.
    case readlink(buffer: UInt64, size: Int)
    /// getsockname and the like: the unix socket path the kernel wrote, back to the guest's.
    case socketName(address: UInt64, length: UInt64, buffer: Int)
    /// In the fallback mode (no seccomp), a skipped call sets its result at exit.
    case setResult(Int64)
    /// Faked ids, uname (FakeIdentity.swift).
    case emulated(EmulatedExit)
}

/// What a group's `enter` decided.
enum EnterResult {
    /// Untouched: the kernel runs it as the tracee made it.
    case allow
    /// Run with these registers; at exit, restore the originals and do `exit`.
    case rewrite(Trace.Registers, exit: ExitAction)
    /// Not run: returns -errno (PRoot's PR_void).
    case fail(Errno)
    /// Not run: returns this value.
    case succeed(Int64)
    /// Left stopped at entry: a guest tracer's wait with nothing to report yet
    /// (PtraceEmulation); answered or let run when one of its tracees stops.
    case hold
}
