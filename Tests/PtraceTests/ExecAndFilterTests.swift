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

    @Test func filterTracesOnlyTheTable() {
        let prog = TraceFilter.program(trace: [2, 257, 59], arch: 0xC000_003E)
        #expect(prog.count % 8 == 0)
        let n = prog.count / 8
        // 6 header instructions, 3 compares, ALLOW, TRACE.
        #expect(n == 11)
        func k(_ i: Int) -> UInt32 { prog[(i * 8 + 4)..<(i * 8 + 8)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        #expect(k(n - 1) == TraceFilter.retTrace)
        #expect(k(n - 2) == TraceFilter.retAllow)
        // The first compare jumps over the other two and the ALLOW to TRACE.
        #expect(prog[6 * 8 + 2] == 3)
        #expect(k(6) == 2)
    }

    @Test func everyPathSyscallIsTraced() {
        #if arch(x86_64)
        for nr: Int64 in [2, 257, 437, 4, 6, 262, 332, 21, 269, 439, 89, 267, 59, 322, 79, 80, 82, 316, 49, 42] {
            #expect(SyscallTable.traced.contains(nr), "syscall \(nr)")
        }
        // fchdir, read, write and close are not: no path.
        for nr: Int64 in [81, 0, 1, 3] { #expect(!SyscallTable.traced.contains(nr)) }
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
