import CKernel
import Glibc

/// A sandbox whose leftovers run on in the background (`Leftovers.leftRunning`, jchroot's
/// `-b`): the process the caller waits for returns the command's status as soon as the
/// command exits, while what the command started goes on, still sandboxed and still
/// supervised, until it exits too.
///
/// Two processes, so that the engines stay as they are:
///
///     caller (a shell) ── waits for ──> front (this process: returns the status)
///                                         └── supervisor (the engine, as always, until
///                                             the sandbox's last process has exited)
///
/// The supervisor says the command's status on a pipe (`commandExited`) and goes on; the
/// front exits with it. Until then the front is the caller's job: signals sent to it go on
/// to the supervisor (which passes them to the command, as burrow always does), and when
/// the supervisor stops for job control (the command was stopped from the terminal) the
/// front stops with the same signal, so the caller's shell sees its job stopped; its `fg`
/// continues both (they share the process group). Killing the front ends nothing: that is
/// what `-b` asks for.
public enum Background {
    /// The supervisor's end of the pipe to the front, -1 elsewhere. (Single-threaded.)
    nonisolated(unsafe) private static var notice: Int32 = -1

    /// In the supervisor: the command exited with `status` (128+N for a signal); the front
    /// returns it to the caller now. Once; nothing without a front.
    public static func commandExited(_ status: Int32) {
        guard notice >= 0 else { return }
        var byte = UInt8(truncatingIfNeeded: status)
        _ = Glibc.write(notice, &byte, 1)
        _ = Glibc.close(notice)
        notice = -1
    }

    /// Whether this process is a supervisor with a front waiting for the command's status.
    public static var hasFront: Bool { notice >= 0 }

    /// Runs `supervise` in a child and returns, in this process, the command's status as
    /// soon as the child says it (`commandExited`), or the child's own status when it ends
    /// first (the sandbox failed before the command ran: it said why). In the child,
    /// returns what `supervise` returned, once the whole sandbox has ended.
    public static func run(_ supervise: () -> Int32) -> Int32 {
        var fds: [Int32] = [-1, -1]
        var blocked = Signals.set(Signals.forwarded + [SIGCHLD])
        var callerMask = sigset_t()
        guard ck_pipe2(&fds, O_CLOEXEC) == 0 else { return supervise() }
        // Blocked before the fork: a signal sent in between waits for the front's loop.
        _ = ck_signal_default(SIGCHLD)
        sigprocmask(SIG_BLOCK, &blocked, &callerMask)
        let child = Glibc.fork()
        if child < 0 {
            sigprocmask(SIG_SETMASK, &callerMask, nil)
            _ = Glibc.close(fds[0])
            _ = Glibc.close(fds[1])
            return supervise()
        }
        if child == 0 {
            _ = Glibc.close(fds[0])
            notice = fds[1]
            sigprocmask(SIG_SETMASK, &callerMask, nil)
            return supervise()
        }
        _ = Glibc.close(fds[1])
        return front(child: child, notice: fds[0], signals: blocked)
    }

    /// The front's loop: the status on the pipe, or the child's end; signals passed on.
    private static func front(child: pid_t, notice: Int32, signals: sigset_t) -> Int32 {
        var set = signals
        let signalFD = withUnsafePointer(to: &set) { ck_signalfd($0) }
        var ended: Proc.Exit?
        while true {
            var fds = [pollfd(fd: notice, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            if Glibc.poll(&fds, signalFD >= 0 ? 2 : 1, -1) < 0 { continue }
            if fds[0].revents != 0 {
                var byte: UInt8 = 0
                let n = Glibc.read(notice, &byte, 1)
                if n == 1 { return Int32(byte) }
                if n == 0 {
                    // The child ended without a word: its status is burrow's.
                    while ended == nil {
                        switch Proc.reap(child, noHang: false) {
                        case .child(_, let exit): ended = exit
                        case .noChildren: return 125
                        case .nothingYet, .stopped: continue
                        }
                    }
                    return ended?.status ?? 125
                }
            }
            guard signalFD >= 0, fds[1].revents != 0 else { continue }
            for r in Signals.received(signalFD) where r.signal != SIGCHLD { Proc.kill(child, r.signal) }
            // The supervisor stopped itself for job control: so does the front, for the shell.
            guard ended == nil else { continue }
            switch Proc.reap(child, noHang: true, untraced: true) {
            case .stopped(_, let sig):
                Signals.stopSelf(sig)
                Proc.kill(child, SIGCONT)
            case .child(_, let exit): ended = exit  // its pipe's end follows
            case .nothingYet, .noChildren: break
            }
        }
    }
}
