import Testing

@testable import PtraceEngine

// The guest-ptrace bookkeeping (Syscalls/PtraceEmulation/GuestTracing.swift): wait
// statuses as the kernel encodes them, who may attach, which real stops a guest tracer
// takes, and what its waits get.

@Suite("Guest ptrace emulation: the state machine") struct PtraceGuestTracingTests {
    struct StatusCase: Sendable, CustomTestStringConvertible {
        let stop: GuestStop
        let seized: Bool
        let options: GuestTraceOptions
        let status: Int32
        var testDescription: String { "\(stop) seized=\(seized) -> 0x\(String(status, radix: 16))" }
    }

    @Test("Wait statuses", arguments: [
        StatusCase(stop: .signal(19), seized: false, options: [], status: 0x137f),
        StatusCase(stop: .signal(11), seized: true, options: [], status: 0x0b7f),
        StatusCase(stop: .group(19), seized: false, options: [], status: 0x137f),
        StatusCase(stop: .group(19), seized: true, options: [], status: 0x80137f),
        StatusCase(stop: .syscall(entry: true), seized: false, options: [], status: 0x057f),
        StatusCase(stop: .syscall(entry: false), seized: false, options: .traceSysGood, status: 0x857f),
        StatusCase(stop: .event(.fork), seized: false, options: .traceFork, status: 0x1057f),
        StatusCase(stop: .event(.exec), seized: true, options: .traceExec, status: 0x4057f),
        StatusCase(stop: .event(.exit), seized: false, options: .traceExit, status: 0x6057f),
        StatusCase(stop: .event(.seccomp), seized: true, options: .traceSeccomp, status: 0x7057f),
        StatusCase(stop: .initial, seized: false, options: [], status: 0x137f),
        StatusCase(stop: .initial, seized: true, options: [], status: 0x80057f),
        StatusCase(stop: .interrupted, seized: true, options: [], status: 0x80057f),
        StatusCase(stop: .exited(3), seized: false, options: [], status: 0x0300),
        StatusCase(stop: .killed(9), seized: false, options: [], status: 9),
    ])
    func waitStatus(_ c: StatusCase) {
        #expect(GuestTracing.waitStatus(c.stop, seized: c.seized, options: c.options) == c.status)
    }

    @Test("waitid's si_code and si_status")
    func childInfo() {
        #expect(GuestTracing.childInfo(.exited(7), seized: false, options: []) == (1, 7))
        #expect(GuestTracing.childInfo(.killed(9), seized: false, options: []) == (2, 9))
        #expect(GuestTracing.childInfo(.signal(19), seized: false, options: []) == (4, 19))
        #expect(GuestTracing.childInfo(.event(.fork), seized: false, options: []) == (4, 0x105))
    }

    struct AttachCase: Sendable, CustomTestStringConvertible {
        let name: String
        let before: [(tracee: Int32, tracer: Int32)]
        let tracee: Int32
        let tracer: Int32
        let how: GuestTracing.How
        let error: GuestPtraceError?
        var testDescription: String { name }
    }

    @Test("Who may attach", arguments: [
        AttachCase(name: "a free process", before: [], tracee: 10, tracer: 5, how: .attach, error: nil),
        AttachCase(name: "TRACEME", before: [], tracee: 10, tracer: 5, how: .traceMe, error: nil),
        AttachCase(name: "itself", before: [], tracee: 5, tracer: 5, how: .attach, error: .notPermitted),
        AttachCase(name: "traced already", before: [(10, 6)], tracee: 10, tracer: 5, how: .seize([]), error: .notPermitted),
        AttachCase(name: "traced already, TRACEME again", before: [(10, 5)], tracee: 10, tracer: 5, how: .traceMe, error: .notPermitted),
        AttachCase(name: "seize with bad options", before: [], tracee: 10, tracer: 5, how: .seize(GuestTraceOptions(rawValue: 0x8000)), error: .invalid),
    ])
    func attach(_ c: AttachCase) {
        var g = GuestTracing()
        for b in c.before { try? g.attach(b.tracee, by: b.tracer, .attach) }
        do throws(GuestPtraceError) {
            try g.attach(c.tracee, by: c.tracer, c.how)
            #expect(c.error == nil)
            #expect(g.tracer(of: c.tracee) == c.tracer)
            #expect(g.isActive)
        } catch {
            #expect(error == c.error)
        }
    }

    struct TakeCase: Sendable, CustomTestStringConvertible {
        let name: String
        let options: GuestTraceOptions
        let resume: GuestResume
        let stop: GuestStop
        let taken: Bool
        var testDescription: String { name }
    }

    @Test("Which real stops the guest tracer takes", arguments: [
        TakeCase(name: "a signal, always", options: [], resume: .cont, stop: .signal(10), taken: true),
        TakeCase(name: "a group stop, always", options: [], resume: .cont, stop: .group(19), taken: true),
        TakeCase(name: "syscall stops after PTRACE_SYSCALL", options: [], resume: .syscall, stop: .syscall(entry: true), taken: true),
        TakeCase(name: "no syscall stops after PTRACE_CONT", options: [], resume: .cont, stop: .syscall(entry: false), taken: false),
        TakeCase(name: "fork with TRACEFORK", options: .traceFork, resume: .cont, stop: .event(.fork), taken: true),
        TakeCase(name: "fork without", options: .traceClone, resume: .cont, stop: .event(.fork), taken: false),
        TakeCase(name: "exec with TRACEEXEC", options: .traceExec, resume: .syscall, stop: .event(.exec), taken: true),
        TakeCase(name: "exec without", options: [], resume: .syscall, stop: .event(.exec), taken: false),
        TakeCase(name: "exit with TRACEEXIT", options: .traceExit, resume: .cont, stop: .event(.exit), taken: true),
        TakeCase(name: "seccomp with TRACESECCOMP", options: .traceSeccomp, resume: .cont, stop: .event(.seccomp), taken: true),
        TakeCase(name: "seccomp without", options: .traceExec, resume: .syscall, stop: .event(.seccomp), taken: false),
    ])
    func takes(_ c: TakeCase) throws {
        var g = GuestTracing()
        try g.attach(10, by: 5, .seize(c.options))
        let r1 = g.stopped(10, .signal(19))
        #expect(r1)
        let r2 = try g.resume(10, by: 5, c.resume)
        #expect(r2 == .signal(19))
        #expect(g.stepsSyscalls(10) == (c.resume == .syscall))
        let r3 = g.stopped(10, c.stop, message: 42)
        #expect(r3 == c.taken)
        #expect((g.link(10)?.stop == c.stop) == c.taken)
        if c.taken {
            #expect(g.link(10)?.message == 42)
            // Held: a second stop cannot come, nor does it step.
            let r4 = g.stopped(10, .signal(10))
            #expect(!r4)
            #expect(!g.stepsSyscalls(10))
        }
    }

    @Test("A wait: the unreported stop first, then held, WNOHANG 0, nothing of its own for the kernel")
    func waits() throws {
        var g = GuestTracing()
        try g.attach(10, by: 5, .attach)
        try g.attach(11, by: 5, .attach)
        let any = WaitRequest(kind: .wait4(status: 0, rusage: 0), selector: .any, noHang: false, noWait: false)
        var noHang = any
        noHang.noHang = true
        var only12 = any
        only12.selector = .pid(12)
        let r5 = g.wait(5, only12)
        #expect(r5 == .kernel)
        let r6 = g.wait(6, any)
        #expect(r6 == .kernel)
        let r7 = g.wait(5, noHang)
        #expect(r7 == .nothingYet)
        let r8 = g.stopped(11, .signal(19))
        #expect(r8)
        var peek = any
        peek.noWait = true
        let r9 = g.wait(5, peek)
        #expect(r9 == .report(pid: 11, stop: .signal(19), seized: false, options: []))
        let r10 = g.wait(5, any)
        #expect(r10 == .report(pid: 11, stop: .signal(19), seized: false, options: []))
        // Reported: not again, and the tracer is held.
        let r11 = g.wait(5, any)
        #expect(r11 == .block)
        #expect(g.isHeld(5))
        let r12 = g.stopped(10, .signal(19))
        #expect(r12)
        let r13 = g.retryHeldWait(5)
        #expect(r13 == .report(pid: 10, stop: .signal(19), seized: false, options: []))
        #expect(!g.isHeld(5))
        // Requests need the tracee stopped, and the tracer's.
        #expect(throws: GuestPtraceError.noSuchProcess) { try g.stoppedTracee(10, of: 6) }
        _ = try g.resume(10, by: 5, .cont)
        #expect(throws: GuestPtraceError.noSuchProcess) { try g.stoppedTracee(10, of: 5) }
    }

    @Test("Exits: held for a tracer that is not the parent (the link ends when reported), dropped for the parent; the tracer's exit lets its tracees go")
    func exits() throws {
        var g = GuestTracing()
        try g.attach(10, by: 5, .attach)
        try g.attach(11, by: 5, .seize(.exitKill))
        try g.attach(12, by: 6, .traceMe)
        let r14 = g.exited(10, .exited(3), tracerIsParent: false)
        #expect(r14)
        var waitid = WaitRequest(kind: .waitid(info: 0, rusage: 0), selector: .pid(10), noHang: true, noWait: false)
        waitid.exits = false
        let r15 = g.wait(5, waitid)
        #expect(r15 == .nothingYet)
        waitid.exits = true
        let r16 = g.wait(5, waitid)
        #expect(r16 == .report(pid: 10, stop: .exited(3), seized: false, options: []))
        #expect(g.link(10) == nil)
        let r17 = g.exited(12, .killed(9), tracerIsParent: true)
        #expect(!r17)
        #expect(g.link(12) == nil)
        let r18 = g.stopped(11, .signal(19))
        #expect(r18)
        let gone = g.tracerExited(5)
        #expect(gone.count == 1 && gone[0].tracee == 11 && gone[0].stop == .signal(19) && gone[0].kill)
        #expect(!g.isActive)
    }

    @Test("Fork events auto-attach the child only when asked; it inherits options and seizing")
    func forks() throws {
        var g = GuestTracing()
        try g.attach(10, by: 5, .seize([.traceFork, .traceSysGood]))
        let r19 = g.forked(20, by: 10, .clone)
        #expect(!r19)
        let r20 = g.forked(21, by: 10, .fork)
        #expect(r20)
        #expect(g.link(21)?.tracer == 5 && g.link(21)?.seized == true && g.link(21)?.options == [.traceFork, .traceSysGood])
        #expect(g.link(21)?.autoAttached == true && g.link(10)?.autoAttached == false)
        let r21 = g.stopped(21, .initial)
        #expect(r21)
        let r22 = g.forked(22, by: 30, .fork)
        #expect(!r22)
    }

    @Test("PTRACE_INTERRUPT and PTRACE_LISTEN need a seized tracee; INTERRUPT's SIGSTOP becomes the interrupted stop")
    func interruptAndListen() throws {
        var g = GuestTracing()
        try g.attach(10, by: 5, .attach)
        #expect(throws: GuestPtraceError.io) { try g.interrupt(10, by: 5) }
        try g.attach(11, by: 5, .seize([]))
        let r23 = try g.interrupt(11, by: 5)
        #expect(r23)
        let r24 = try g.interrupt(11, by: 5)
        #expect(!r24)
        let r25 = g.stopped(11, .signal(19))
        #expect(r25)
        #expect(g.link(11)?.stop == .interrupted)
        try g.listen(11, by: 5)
        #expect(g.link(11)?.stop == nil)
        let r26 = g.stopped(11, .signal(10))
        #expect(r26)
        #expect(throws: GuestPtraceError.io) { try g.listen(11, by: 5) }
    }
}
