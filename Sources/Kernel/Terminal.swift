import CKernel
import Glibc

/// The controlling terminal, as a job-control shell uses it: which process group is in its
/// foreground, and handing it to another group of the same session.
public struct Terminal {
    public let fd: Int32

    /// This process's controlling terminal (/dev/tty, close-on-exec), or nil when it has none.
    public static func controlling() -> Terminal? {
        let fd = Glibc.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        return fd < 0 ? nil : Terminal(fd: fd)
    }

    /// tcgetpgrp: the group reading from it now (-1 if the terminal cannot say).
    public var foregroundGroup: pid_t { tcgetpgrp(fd) }

    /// tcsetpgrp, with SIGTTOU blocked: a process outside the foreground may hand it on.
    @discardableResult
    public func setForeground(_ group: pid_t) -> Bool {
        var ttou = Signals.set([SIGTTOU])
        var old = sigset_t()
        sigprocmask(SIG_BLOCK, &ttou, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }
        return tcsetpgrp(fd, group) == 0
    }
}

/// Job control for a sandbox whose command leads a process group of its own (so that a
/// `kill(0, ...)` inside reaches the sandbox only): burrow does for that group what a
/// job-control shell does for its jobs, and is itself one job of the caller's shell (as
/// sudo does for its command).
///
/// - At the start, if burrow is in its terminal's foreground, the command's group gets the
///   terminal: the command's launch takes it before exec (`handOver`), since an
///   interactive shell inside checks at once whether it is in the foreground. Ctrl-C and
///   Ctrl-Z then reach the command alone, as they reach a shell's foreground job.
/// - When the command is stopped by SIGTSTP, SIGTTIN or SIGTTOU, burrow takes the terminal
///   back and stops itself with the same signal: the caller's shell sees its job stopped.
/// - When burrow is continued (`fg` or `bg`), the terminal goes back to the command's group
///   if burrow is in the foreground again, and the group gets SIGCONT.
/// - At the end, the terminal goes back to burrow's group if the sandbox still has it.
public struct JobControl {
    /// The controlling terminal; nil without one, or when the command gets a session of its
    /// own (--new-session: it has no terminal to hand over).
    let terminal: Terminal?
    let callerGroup: pid_t
    let foregroundAtStart: Bool
    /// The command's process group (its pid), once known; 0 until then.
    public private(set) var sandboxGroup: pid_t = 0
    /// The terminal's foreground is a group of the sandbox, handed over by burrow.
    var sandboxHasTerminal = false

    public init(newSession: Bool) {
        let group = getpgrp()
        let t = newSession ? nil : Terminal.controlling()
        callerGroup = group
        terminal = t
        foregroundAtStart = t.map { $0.foregroundGroup == group } ?? false
    }

    /// The descriptor the command's launch gives the terminal to its new group with, or -1:
    /// only when burrow was in the foreground.
    public var handOver: Int32 { foregroundAtStart ? terminal?.fd ?? -1 : -1 }

    /// The terminal's descriptor (close-on-exec), for children that have no use for it to close.
    public var descriptor: Int32 { terminal?.fd ?? -1 }

    /// The command runs, leading process group `group` (its pid, as this process sees it).
    /// Its launch took the terminal; this side hands it over too, should that have failed or
    /// not have run yet (a fork): the group exists, it was set from both sides.
    public mutating func commandStarted(group: pid_t) {
        sandboxGroup = group
        guard foregroundAtStart, let t = terminal else { return }
        if t.foregroundGroup == callerGroup { t.setForeground(group) }
        sandboxHasTerminal = t.foregroundGroup != callerGroup
    }

    /// The command was stopped by `sig`. For a stop of job control burrow follows it: takes
    /// the terminal back, stops until it is continued, then continues the sandbox. Other
    /// stops (SIGSTOP) leave burrow running; a SIGCONT to burrow continues the sandbox.
    public mutating func commandStopped(by sig: Int32) {
        guard Signals.jobStops.contains(sig) else { return }
        // A read or write of the terminal while burrow is in its foreground: the command only
        // lacked the terminal (burrow was brought to the foreground while it ran, and has not
        // handed it over yet, or that failed at the start). It gets it, and goes on.
        if sig != SIGTSTP, let t = terminal, !sandboxHasTerminal, t.foregroundGroup == callerGroup {
            continued()
            return
        }
        takeBack()
        Signals.stopSelf(sig)
        continued()
    }

    /// burrow got SIGCONT (or came back from its own stop): the command's group gets the
    /// terminal if burrow has it again (`fg`), and SIGCONT, as a shell's `fg` or `bg` sends
    /// it to the job (to a group that was not stopped, it is only a signal).
    public mutating func continued() {
        if let t = terminal, !sandboxHasTerminal, sandboxGroup > 0, t.foregroundGroup == callerGroup,
           t.setForeground(sandboxGroup) {
            sandboxHasTerminal = true
        }
        Proc.signalGroup(sandboxGroup, SIGCONT)
    }

    /// The sandbox is over (or stopped): the terminal goes back to burrow's group.
    public mutating func takeBack() {
        guard sandboxHasTerminal, let t = terminal else { return }
        t.setForeground(callerGroup)
        sandboxHasTerminal = false
    }
}
