import BurrowSpec
import Testing

@testable import PtraceEngine

@Suite("Exec formats and the trace filter") struct ExecAndFilterTests {
    struct Shebang: Sendable, CustomTestStringConvertible {
        let line: String
        let interpreter: String?
        let argument: String?
        var testDescription: String { line.debugDescription }
    }

    @Test(arguments: [
        Shebang(line: "#!/bin/sh\necho", interpreter: "/bin/sh", argument: nil),
        Shebang(line: "#! /usr/bin/env  python3 \n", interpreter: "/usr/bin/env", argument: "python3"),
        Shebang(line: "#!/bin/awk -f -x\n", interpreter: "/bin/awk", argument: "-f -x"),
        Shebang(line: "#!/bin/sh\r\n", interpreter: "/bin/sh\r", argument: nil),
        Shebang(line: "#!\n", interpreter: nil, argument: nil),
        Shebang(line: "\u{7f}ELF", interpreter: nil, argument: nil),
    ])
    func shebang(_ c: Shebang) {
        let r = ExecFormat.shebang(Array(c.line.utf8))
        #expect(r?.interpreter == c.interpreter)
        #expect(r?.argument == c.argument)
    }

    @Test func elfInterpreter() {
        // A minimal 64-bit ELF header with one PT_INTERP program header.
        var f = [UInt8](repeating: 0, count: 200)
        f[0...3] = [0x7f, 0x45, 0x4c, 0x46]
        f[4] = 2; f[5] = 1
        f[32] = 64  // e_phoff
        f[54] = 56  // e_phentsize
        f[56] = 1  // e_phnum
        f[64] = 3  // p_type PT_INTERP
        f[72] = 150  // p_offset
        f[96] = 11  // p_filesz
        let interp = Array("/lib/ld.so\0".utf8)
        f.replaceSubrange(150..<161, with: interp)
        let read: (Int, Int) -> [UInt8]? = { off, n in off + n <= f.count ? Array(f[off..<(off + n)]) : nil }
        #expect(ExecFormat.elfInterpreter(read: read) == "/lib/ld.so")
        f[64] = 1  // PT_LOAD: a static program
        #expect(ExecFormat.elfInterpreter(read: read) == nil)
        #expect(ExecFormat.elfInterpreter(read: { _, _ in Array("#!/bin/sh".utf8) }) == nil)
    }

    /// Runs a filter made of the instructions TraceFilter emits (ld abs, jeq, jge, ret).
    static func evaluate(_ prog: [UInt8], arch: UInt32, nr: UInt32) -> UInt32? {
        func word(_ i: Int, _ at: Int, _ size: Int) -> UInt32 {
            prog[(i * 8 + at)..<(i * 8 + at + size)].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        var pc = 0, acc: UInt32 = 0
        while pc < prog.count / 8 {
            let code = word(pc, 0, 2), jt = Int(prog[pc * 8 + 2]), jf = Int(prog[pc * 8 + 3]), k = word(pc, 4, 4)
            switch code {
            case 0x20: acc = k == 4 ? arch : k == 0 ? nr : 0
            case 0x15: pc += acc == k ? jt : jf
            case 0x35: pc += acc >= k ? jt : jf
            case 0x06: return k
            default: return nil
            }
            pc += 1
        }
        return nil
    }

    static let x86 = SyscallTable.auditArch
    static let filterCases: [(UInt32, UInt32, UInt32)] = [
        (x86, 2, TraceFilter.retTrace), (x86, 257, TraceFilter.retTrace), (x86, 59, TraceFilter.retTrace),
        (x86, 4, TraceFilter.retUserNotif), (x86, 262, TraceFilter.retUserNotif),
        // In both lists: the listener wins.
        (x86, 6, TraceFilter.retUserNotif),
        (x86, 0, TraceFilter.retAllow), (x86, 1, TraceFilter.retAllow), (x86, 1000, TraceFilter.retAllow),
        (x86, 0x4000_0002, TraceFilter.retErrno | 38), (0x4000_0003, 4, TraceFilter.retErrno | 38),
    ]

    @Test("The filter: notified calls to the listener, traced ones to the tracer, the rest allowed, other ABIs ENOSYS",
          arguments: filterCases)
    func filter(_ arch: UInt32, _ nr: UInt32, _ expected: UInt32) {
        let prog = TraceFilter.program(trace: [2, 6, 257, 59], notify: [4, 6, 262], arch: Self.x86)
        #expect(prog.count % 8 == 0)
        #expect(Self.evaluate(prog, arch: arch, nr: nr) == expected)
        // Without a listener every path call goes to the tracer.
        let fallback = TraceFilter.program(trace: [2, 4, 6, 257, 59, 262], arch: Self.x86)
        let traced = expected == TraceFilter.retUserNotif ? TraceFilter.retTrace : expected
        #expect(Self.evaluate(fallback, arch: arch, nr: nr) == traced)
    }

    @Test func theFullTablesCompile() {
        let prog = TraceFilter.program(trace: SyscallTable.traced, notify: SyscallTable.notified.keys.sorted(), arch: Self.x86)
        for nr in SyscallTable.notified.keys { #expect(Self.evaluate(prog, arch: Self.x86, nr: UInt32(nr)) == TraceFilter.retUserNotif) }
        for nr in SyscallTable.traced where SyscallTable.notified[nr] == nil {
            #expect(Self.evaluate(prog, arch: Self.x86, nr: UInt32(nr)) == TraceFilter.retTrace, "syscall \(nr)")
        }
    }

    @Test func everyPathSyscallIsTraced() {
        #if arch(x86_64)
        for nr: Int64 in [2, 257, 437, 4, 6, 262, 332, 21, 269, 439, 89, 267, 59, 322, 79, 80, 82, 316, 49, 42] {
            #expect(SyscallTable.traced.contains(nr), "syscall \(nr)")
        }
        // read, write and close are not: no path. (fchdir is: it drops the cached cwd.)
        for nr: Int64 in [0, 1, 3] { #expect(!SyscallTable.traced.contains(nr)) }
        #expect(SyscallTable.traced.contains(81))
        #endif
    }

    struct RefusalCase: Sendable, CustomTestStringConvertible {
        let name: String
        let mutate: @Sendable (inout SandboxSpec) -> Void
        let mentions: String?
        var testDescription: String { name }
    }

    @Test(arguments: [
        RefusalCase(name: "plain", mutate: { _ in }, mentions: nil),
        RefusalCase(name: "own uid", mutate: { $0.identity.uid = 1000 }, mentions: nil),
        RefusalCase(name: "--unshare-net", mutate: { $0.namespaces.net = true }, mentions: "--unshare-net"),
        RefusalCase(name: "--unshare-pid", mutate: { $0.namespaces.pid = true }, mentions: "--unshare-pid"),
        // Faked (Emulator): no refusal.
        RefusalCase(name: "--uid 0", mutate: { $0.identity.uid = 0 }, mentions: nil),
        RefusalCase(name: "--kernel-release, --qemu", mutate: {
            $0.emulation.kernelRelease = "1.0"; $0.emulation.qemu = QemuEmulation(command: ["qemu-aarch64"])
        }, mentions: nil),
        RefusalCase(name: "--uid-map", mutate: { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)] }, mentions: "--uid-map"),
        RefusalCase(name: "overlay", mutate: { $0.root.overlay = .discard }, mentions: "--root-tmp-overlay"),
        RefusalCase(name: "tmpfs size", mutate: { $0.operations = [.tmpfs(dest: g("/tmp"), sizeBytes: 1, mode: nil)] }, mentions: "--size"),
        RefusalCase(name: "tmpfs without size", mutate: { $0.operations = [.tmpfs(dest: g("/tmp"), sizeBytes: nil, mode: nil)] }, mentions: nil),
    ])
    func refusals(_ c: RefusalCase) {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/r")))
        c.mutate(&spec)
        let r = Refusals.check(spec, hostUid: 1000, hostGid: 1000)
        if let m = c.mentions {
            #expect(r?.contains(m) == true, "\(r ?? "nil")")
            #expect(r?.contains("namespace engine") == true)
        } else {
            #expect(r == nil)
        }
    }
}
