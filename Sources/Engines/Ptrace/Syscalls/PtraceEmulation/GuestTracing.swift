// Pure: no Glibc. Ptrace as the guest sees it. The supervisor is the real tracer of every
// guest process, so a guest tracer (strace, gdb, a test helper) gets a *virtual* tracer
// relationship instead: its ptrace, wait4 and waitid calls are answered by the supervisor
// (GuestPtrace.swift), the stops of its tracee that it asked for are held (the tracee stays
// in its real ptrace-stop) and reported through its emulated wait, and its requests are
// carried out by the supervisor on the tracee. PRoot's "ptrace" extension does the same.
//
// This file is the bookkeeping only: who traces whom with which options, which stop each
// tracee is held in, whether it was reported, and which guest tracer waits for what. The
// supervisor feeds it the real stops and does what it answers.

/// PTRACE_O_* as a guest tracer sets them (PTRACE_SETOPTIONS, PTRACE_SEIZE).
struct GuestTraceOptions: OptionSet, Equatable, Sendable {
    let rawValue: UInt64
    static let traceSysGood = GuestTraceOptions(rawValue: 0x01)
    static let traceFork = GuestTraceOptions(rawValue: 0x02)
    static let traceVfork = GuestTraceOptions(rawValue: 0x04)
    static let traceClone = GuestTraceOptions(rawValue: 0x08)
    static let traceExec = GuestTraceOptions(rawValue: 0x10)
    static let traceVforkDone = GuestTraceOptions(rawValue: 0x20)
    static let traceExit = GuestTraceOptions(rawValue: 0x40)
    static let traceSeccomp = GuestTraceOptions(rawValue: 0x80)
    static let exitKill = GuestTraceOptions(rawValue: 0x10_0000)
    static let suspendSeccomp = GuestTraceOptions(rawValue: 0x20_0000)
    /// What the kernel accepts; anything else is EINVAL.
    static let valid = GuestTraceOptions(rawValue: 0x30_00ff)
}

/// PTRACE_EVENT_*.
enum GuestEvent: Int32, Equatable, Sendable {
    case fork = 1, vfork = 2, clone = 3, exec = 4, vforkDone = 5, exit = 6
    /// The guest's own seccomp filter said SECCOMP_RET_TRACE (its data is the message).
    case seccomp = 7
    case stop = 128

    /// The option that asks for it.
    var option: GuestTraceOptions {
        switch self {
        case .fork: return .traceFork
        case .vfork: return .traceVfork
        case .clone: return .traceClone
        case .exec: return .traceExec
        case .vforkDone: return .traceVforkDone
        case .exit: return .traceExit
        case .seccomp: return .traceSeccomp
        case .stop: return []
        }
    }
}

/// How the guest tracer last resumed its tracee.
enum GuestResume: Equatable, Sendable {
    case cont
    /// PTRACE_SYSCALL: stop at the next system call's entry and exit.
    case syscall
    case singleStep
}

/// A stop the guest tracer is told about (and its tracee held in).
enum GuestStop: Equatable, Sendable {
    /// Signal-delivery stop: resuming with a signal delivers that one.
    case signal(Int32)
    /// Group stop (job control).
    case group(Int32)
    case syscall(entry: Bool)
    case event(GuestEvent)
    /// The first stop of a tracee auto-attached at its parent's fork, vfork or clone.
    case initial
    /// PTRACE_INTERRUPT of a seized tracee.
    case interrupted
    case exited(Int32)
    case killed(Int32)

    var isExit: Bool {
        switch self {
        case .exited, .killed: return true
        default: return false
        }
    }
}

/// Which children a wait4 or waitid asks about.
enum WaitSelector: Equatable, Sendable {
    case any
    case pid(Int32)

    /// wait4's pid argument: -1 any; 0 and < -1 name a process group, taken as any here.
    init(wait4 pid: Int32) { self = pid > 0 ? .pid(pid) : .any }

    func matches(_ pid: Int32) -> Bool {
        switch self {
        case .any: return true
        case .pid(let p): return p == pid
        }
    }
}

/// A guest's wait4 or waitid: what it waits for and where the answer goes.
struct WaitRequest: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// wait4: `status` an int*, `rusage` a struct rusage* (both may be 0).
        case wait4(status: UInt64, rusage: UInt64)
        /// waitid: `info` a siginfo_t*, `rusage` a struct rusage*.
        case waitid(info: UInt64, rusage: UInt64)
    }
    var kind: Kind
    var selector: WaitSelector
    var noHang: Bool
    /// WNOWAIT: report but leave it reportable.
    var noWait: Bool
    /// waitid without WEXITED does not report exits; wait4 always does.
    var exits: Bool = true
    /// The caller's struct rusage: 144 bytes, 72 for an i386 caller.
    var rusageSize = 144
    /// waitid without WSTOPPED still reports ptrace stops, as the kernel does.
}

/// What becomes of a guest's wait.
enum WaitOutcome: Equatable, Sendable {
    /// Answered now: this tracee, in this stop (its wait status computed by `waitStatus`).
    case report(pid: Int32, stop: GuestStop, seized: Bool, options: GuestTraceOptions)
    /// WNOHANG and nothing to report yet (the tracees are still running): 0.
    case nothingYet
    /// No virtual tracee concerns it: the kernel runs the call as made (real children).
    case kernel
    /// Held: the guest tracer stays stopped in its wait until one of its tracees stops.
    case block
}

/// Why a guest's ptrace request fails (the errno the kernel would give).
enum GuestPtraceError: Error, Equatable, Sendable {
    /// EPERM: already traced, itself, or not allowed.
    case notPermitted
    /// ESRCH: not its tracee, or not stopped.
    case noSuchProcess
    /// EINVAL: bad options.
    case invalid
    /// EIO: an unknown request.
    case io
}

struct GuestTracing: Equatable, Sendable {
    /// One virtual tracer relationship.
    struct Link: Equatable, Sendable {
        var tracer: Int32
        var options: GuestTraceOptions
        var seized: Bool
        var resume: GuestResume = .cont
        /// The stop the tracee is held in (nil: running as far as the guest tracer knows).
        var stop: GuestStop?
        /// The guest tracer's wait has taken `stop` already.
        var reported = false
        /// PTRACE_GETEVENTMSG.
        var message: UInt64 = 0
        /// A PTRACE_INTERRUPT is under way: its SIGSTOP becomes the interrupted stop.
        var interrupting = false
        /// Made by its parent's fork, vfork or clone event: its first stop is the guest
        /// tracer's too (a process attached otherwise starts, for the supervisor, before).
        var autoAttached = false
    }

    private(set) var links: [Int32: Link] = [:]
    /// Guest tracers held in a wait, by pid.
    private(set) var held: [Int32: WaitRequest] = [:]

    /// Guest processes that have called ptrace: a child of one that stops itself with
    /// SIGSTOP is kept stopped (strace's child waits so for PTRACE_SEIZE and SIGCONT).
    private(set) var callers: Set<Int32> = []

    /// Nothing to do (and no cost) until a guest traces something.
    var isActive: Bool { !links.isEmpty || !held.isEmpty }

    mutating func called(_ pid: Int32) { callers.insert(pid) }
    mutating func forget(caller pid: Int32) { callers.remove(pid) }

    func link(_ tracee: Int32) -> Link? { links[tracee] }
    func tracer(of tracee: Int32) -> Int32? { links[tracee]?.tracer }
    func tracees(of tracer: Int32) -> [Int32] { links.filter { $0.value.tracer == tracer }.map(\.key).sorted() }
    func isHeld(_ tracer: Int32) -> Bool { held[tracer] != nil }
    func waitRequest(_ tracer: Int32) -> WaitRequest? { held[tracer] }

    /// Whether the tracee's next system call stops for its guest tracer (PTRACE_SYSCALL).
    func stepsSyscalls(_ tracee: Int32) -> Bool {
        guard let l = links[tracee], l.stop == nil else { return false }
        return l.resume == .syscall
    }

    // MARK: Attaching

    enum How: Equatable, Sendable {
        /// PTRACE_TRACEME by `tracee`: its parent traces it.
        case traceMe
        /// PTRACE_ATTACH: a SIGSTOP follows.
        case attach
        case seize(GuestTraceOptions)
    }

    /// A new relationship; the kernel's EPERM cases: itself, a tracee traced already.
    mutating func attach(_ tracee: Int32, by tracer: Int32, _ how: How) throws(GuestPtraceError) {
        guard tracee != tracer, tracee > 0, tracer > 0 else { throw .notPermitted }
        guard links[tracee] == nil else { throw .notPermitted }
        switch how {
        case .traceMe, .attach:
            links[tracee] = Link(tracer: tracer, options: [], seized: false)
        case .seize(let options):
            guard options.isSubset(of: .valid) else { throw .invalid }
            links[tracee] = Link(tracer: tracer, options: options, seized: true)
        }
    }

    /// `child`, made by `parent`'s fork, vfork or clone `event`: auto-attached to the same
    /// guest tracer when that tracer asked for the event. True when it is.
    mutating func forked(_ child: Int32, by parent: Int32, _ event: GuestEvent) -> Bool {
        guard let p = links[parent], p.options.contains(event.option), links[child] == nil else { return false }
        links[child] = Link(tracer: p.tracer, options: p.options, seized: p.seized, autoAttached: true)
        return true
    }

    // MARK: Stops

    /// Whether the guest tracer of `tracee` takes this real stop: then it is recorded (the
    /// supervisor must leave the tracee stopped) and true. `message` for GETEVENTMSG.
    mutating func stopped(_ tracee: Int32, _ stop: GuestStop, message: UInt64 = 0) -> Bool {
        guard var l = links[tracee], l.stop == nil else { return false }
        switch stop {
        case .syscall:
            guard l.resume == .syscall else { return false }
        case .event(let e):
            guard l.options.contains(e.option) else { return false }
        case .signal(let sig) where l.interrupting && sig == LinuxSignal.stop:
            l.interrupting = false
            l.stop = .interrupted
            l.reported = false
            l.message = 0
            links[tracee] = l
            return true
        default:
            break
        }
        l.stop = stop
        l.reported = false
        l.message = message
        links[tracee] = l
        return true
    }

    /// The tracee is gone. `tracerIsParent`: its guest tracer is its real parent, which
    /// reaps it through the kernel; the relationship ends now. Otherwise the exit is held
    /// for the guest tracer's wait (and the relationship ends when it is reported).
    mutating func exited(_ tracee: Int32, _ stop: GuestStop, tracerIsParent: Bool) -> Bool {
        guard links[tracee] != nil else { return false }
        if tracerIsParent {
            links[tracee] = nil
            return false
        }
        links[tracee]?.stop = stop
        links[tracee]?.reported = false
        return true
    }

    /// The guest tracer exited: its tracees are detached (or, with PTRACE_O_EXITKILL,
    /// to be killed), their held waits forgotten. Each with the stop it was held in.
    mutating func tracerExited(_ tracer: Int32) -> [(tracee: Int32, stop: GuestStop?, kill: Bool)] {
        held[tracer] = nil
        var out: [(Int32, GuestStop?, Bool)] = []
        for pid in tracees(of: tracer) {
            guard let l = links.removeValue(forKey: pid) else { continue }
            out.append((pid, l.stop, l.options.contains(.exitKill)))
        }
        return out
    }

    // MARK: The guest tracer's requests

    /// A request needs its tracee stopped (not exited), and to be its guest tracer's.
    func stoppedTracee(_ tracee: Int32, of tracer: Int32) throws(GuestPtraceError) -> Link {
        guard let l = links[tracee], l.tracer == tracer, let s = l.stop, !s.isExit else { throw .noSuchProcess }
        return l
    }

    mutating func setOptions(_ tracee: Int32, by tracer: Int32, _ options: GuestTraceOptions) throws(GuestPtraceError) {
        _ = try stoppedTracee(tracee, of: tracer)
        guard options.isSubset(of: .valid) else { throw .invalid }
        links[tracee]?.options = options
    }

    /// PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SINGLESTEP: the stop it leaves.
    mutating func resume(_ tracee: Int32, by tracer: Int32, _ how: GuestResume) throws(GuestPtraceError) -> GuestStop {
        let l = try stoppedTracee(tracee, of: tracer)
        links[tracee]?.stop = nil
        links[tracee]?.reported = false
        links[tracee]?.resume = how
        return l.stop ?? .signal(0)
    }

    /// PTRACE_DETACH: the relationship ends; the stop it leaves.
    mutating func detach(_ tracee: Int32, by tracer: Int32) throws(GuestPtraceError) -> GuestStop {
        let l = try stoppedTracee(tracee, of: tracer)
        links[tracee] = nil
        return l.stop ?? .signal(0)
    }

    /// PTRACE_LISTEN: a seized tracee in a group stop stays stopped, reported, until a
    /// signal wakes it (SIGCONT: the supervisor lets it go then).
    mutating func listen(_ tracee: Int32, by tracer: Int32) throws(GuestPtraceError) {
        let l = try stoppedTracee(tracee, of: tracer)
        guard l.seized else { throw .io }
        switch l.stop {
        case .group?, .interrupted?: break
        default: throw .io
        }
        links[tracee]?.stop = nil
        links[tracee]?.resume = .cont
    }

    /// PTRACE_INTERRUPT of a running seized tracee: true when the supervisor must stop it
    /// (with a SIGSTOP that becomes the interrupted stop). Stopped already: nothing to do.
    mutating func interrupt(_ tracee: Int32, by tracer: Int32) throws(GuestPtraceError) -> Bool {
        guard let l = links[tracee], l.tracer == tracer else { throw .noSuchProcess }
        guard l.seized else { throw .io }
        guard l.stop == nil, !l.interrupting else { return false }
        links[tracee]?.interrupting = true
        return true
    }

    // MARK: Waits

    /// A guest's wait4 or waitid. Its tracees' unreported stops first; else held if it has
    /// tracees to wait for (WNOHANG: 0), else the kernel's (real children only).
    mutating func wait(_ tracer: Int32, _ r: WaitRequest) -> WaitOutcome {
        let mine = tracees(of: tracer).filter { r.selector.matches($0) }
        guard !mine.isEmpty else { return .kernel }
        for pid in mine {
            guard let l = links[pid], let stop = l.stop, !l.reported else { continue }
            if stop.isExit && !r.exits { continue }
            if !r.noWait {
                if stop.isExit { links[pid] = nil } else { links[pid]?.reported = true }
            }
            return .report(pid: pid, stop: stop, seized: l.seized, options: l.options)
        }
        if r.noHang { return .nothingYet }
        held[tracer] = r
        return .block
    }

    /// The held wait of `tracer`, taken again after one of its tracees stopped: its
    /// outcome (the hold ends unless it blocks again).
    mutating func retryHeldWait(_ tracer: Int32) -> WaitOutcome? {
        guard let r = held.removeValue(forKey: tracer) else { return nil }
        return wait(tracer, r)
    }

    /// The hold ends without an answer (the kernel runs the call: a real child changed).
    mutating func releaseHeldWait(_ tracer: Int32) -> WaitRequest? { held.removeValue(forKey: tracer) }

    // MARK: What the guest tracer reads

    /// The wait status the kernel would give the guest tracer for `stop`.
    static func waitStatus(_ stop: GuestStop, seized: Bool, options: GuestTraceOptions) -> Int32 {
        let sigtrap = LinuxSignal.trap, sigstop = LinuxSignal.stop
        func stopped(_ sig: Int32, event: Int32 = 0) -> Int32 { (event << 16) | (sig << 8) | 0x7f }
        switch stop {
        case .signal(let s): return stopped(s)
        case .group(let s): return seized ? stopped(s, event: GuestEvent.stop.rawValue) : stopped(s)
        case .syscall: return stopped(options.contains(.traceSysGood) ? sigtrap | 0x80 : sigtrap)
        case .event(let e): return stopped(sigtrap, event: e.rawValue)
        case .initial: return seized ? stopped(sigtrap, event: GuestEvent.stop.rawValue) : stopped(sigstop)
        case .interrupted: return stopped(sigtrap, event: GuestEvent.stop.rawValue)
        case .exited(let code): return (code & 0xff) << 8
        case .killed(let sig): return sig & 0x7f
        }
    }

    /// waitid's siginfo fields for `stop`: si_code (CLD_*) and si_status.
    static func childInfo(_ stop: GuestStop, seized: Bool, options: GuestTraceOptions) -> (code: Int32, status: Int32) {
        switch stop {
        case .exited(let c): return (1 /* CLD_EXITED */, c)
        case .killed(let s): return (2 /* CLD_KILLED */, s)
        default: return (4 /* CLD_TRAPPED */, (waitStatus(stop, seized: seized, options: options) >> 8) & 0xffff)
        }
    }
}

/// The signals this pure state machine names, by their Linux numbers (the same on every
/// architecture Linux has for these two); Glibc's SIGSTOP and SIGTRAP where Glibc is imported.
enum LinuxSignal {
    static let trap: Int32 = 5
    static let stop: Int32 = 19
}
