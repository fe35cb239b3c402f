import BurrowSeccomp
import BurrowSandbox
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

    static let abi = Architecture.x86_64
    static let x86 = abi.auditArch
    static let i386 = Architecture.i386.auditArch
    static let allow = SeccompAction.allow, trace = SeccompAction.trace(0), notify = SeccompAction.userNotify
    static let enosys = SeccompAction.errno(SeccompErrno.ENOSYS), eperm = SeccompAction.errno(SeccompErrno.EPERM)
    static let terminal = TraceFilter.Refusals([TerminalInjection.rule], abis: [abi])
    static let ioctl = UInt32(bitPattern: abi.number(of: "ioctl") ?? -1)

    /// Runs the compiled program as the kernel would.
    static func run(_ prog: [BPFInstruction], arch: UInt32, nr: UInt32, args: [UInt64] = []) -> SeccompAction? {
        guard let v = try? BPFInterpreter.run(prog, on: SeccompData(nr: Int32(bitPattern: nr), arch: arch, args: args)) else { return nil }
        return SeccompAction(returnValue: v)
    }

    static let filterCases: [(UInt32, UInt32, [UInt64], SeccompAction)] = [
        (x86, 2, [], trace), (x86, 257, [], trace), (x86, 59, [], trace),
        (x86, 4, [], notify), (x86, 262, [], notify),
        // In both lists: the listener wins.
        (x86, 6, [], notify),
        (x86, 0, [], allow), (x86, 1, [], allow), (x86, 1000, [], allow),
        (x86, 0x4000_0002, [], enosys), (i386, 4, [], enosys), (0x4000_0003, 4, [], enosys),
        // Terminal injection, also with the request's high bits set; other requests run.
        (x86, ioctl, [0, 0x5412], eperm), (x86, ioctl, [0, 0x541C], eperm), (x86, ioctl, [0, 0x1_0000_5412], eperm),
        (x86, ioctl, [0, 0x5401], allow), (x86, ioctl, [0, 0x5413], allow),
    ]

    @Test("The filter: notified calls to the listener, traced ones to the tracer, terminal injection EPERM, the rest allowed, other ABIs ENOSYS",
          arguments: filterCases)
    func filter(_ arch: UInt32, _ nr: UInt32, _ args: [UInt64], _ expected: SeccompAction) throws {
        let prog = try TraceFilter.program(trace: [2, 6, 257, 59], notify: [4, 6, 262], refusals: Self.terminal, abis: [.host])
        #expect(Self.run(prog, arch: arch, nr: nr, args: args) == expected)
        // Without a listener every path call goes to the tracer.
        let fallback = try TraceFilter.program(trace: [2, 4, 6, 257, 59, 262], refusals: Self.terminal, abis: [.host])
        let traced = expected == Self.notify ? Self.trace : expected
        #expect(Self.run(fallback, arch: arch, nr: nr, args: args) == traced)
        // Both programs the traced child tries, compiled once: the same verdicts.
        let both = try TraceFilter.programs(trace: [2, 6, 257, 59], notify: [4, 6, 262], refusals: Self.terminal, abis: [.host])
        #expect(Self.run(both.withListener, arch: arch, nr: nr, args: args) == expected)
        #expect(Self.run(both.traceOnly, arch: arch, nr: nr, args: args) == traced)
        // --allow-terminal-injection: no refusal.
        let allowing = try TraceFilter.program(trace: [2, 6, 257, 59], notify: [4, 6, 262], refusals: nil, abis: [.host])
        #expect(Self.run(allowing, arch: arch, nr: nr, args: args) == (expected == Self.eperm ? Self.allow : expected))
    }

    /// open and openat go to the listener (the supervisor opens the file and sends the
    /// descriptor); with O_TMPFILE or O_PATH, and from i386 (whose open without O_LARGEFILE
    /// the supervisor's would not match), to the tracer. statfs and the calls that change a
    /// path (removals, renames, mkdir, utimensat) likewise (i386's are traced). A privileged
    /// supervisor, or a kernel that cannot send descriptors: the opens are traced (and the
    /// rest, for a privileged one). The chown and chmod family and the id calls only when
    /// ids are faked.
    /// wait4, waitid and the kills (let through unless a guest traces) and getcwd (answered
    /// from the guest's working directory): always notified.
    @Test("Opens: notified unless O_TMPFILE or O_PATH; i386's traced; changes notified; waits, kills and getcwd notified")
    func openRules() throws {
        func nr(_ name: String) -> Int64 { Int64(Self.abi.number(of: name) ?? -1) }
        let open = UInt32(nr("open")), openat = UInt32(nr("openat")), statfs = UInt32(nr("statfs"))
        let always = ["wait4", "waitid", "kill", "tkill", "tgkill", "getcwd"].map(nr)
        let changes = ["unlink", "rmdir", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "mkdir", "mkdirat",
                       "utimensat"].map(nr)
        let faked = ["chown", "lchown", "fchown", "fchownat", "chmod", "fchmod", "fchmodat", "fchmodat2",
                     "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid",
                     "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups"].map(nr)
        #expect(!changes.contains(-1) && !faked.contains(-1))
        let onHost = SyscallTable.hostNotified(sendsDescriptors: true, privileged: false, fakesIds: false)
        #expect(onHost.map(\.nr) == ([Int64(open), Int64(openat), Int64(statfs)] + always + changes).sorted())
        #expect(SyscallTable.hostNotified(sendsDescriptors: false, privileged: false, fakesIds: false).map(\.nr)
                == ([Int64(statfs)] + always + changes).sorted())
        #expect(SyscallTable.hostNotified(sendsDescriptors: true, privileged: true, fakesIds: true).map(\.nr) == always.sorted())
        #expect(SyscallTable.hostNotified(sendsDescriptors: true, privileged: false, fakesIds: true).map(\.nr)
                == ([Int64(open), Int64(openat), Int64(statfs)] + always + changes + faked).sorted())
        let both = try TraceFilter.programs(trace: SyscallTable.traced, notify: [4], notifyOnHost: onHost,
                                            refusals: Self.terminal, abis: TracedABI.all)
        let oCreat: UInt64 = 0o100, oTmpfile: UInt64 = 0o20200000, oPath: UInt64 = 0o10000000, oCloexec: UInt64 = 0o2000000
        let cases: [(UInt32, [UInt64], SeccompAction)] = [
            (open, [0, 0], Self.notify), (open, [0, 0o2 | oCloexec], Self.notify), (open, [0, oCreat | 0o1], Self.notify),
            (openat, [0, 0, 0o200000 | oCloexec], Self.notify), (openat, [0, 0, oCreat], Self.notify),
            (openat, [0, 0, oTmpfile | 0o2], Self.trace), (openat, [0, 0, oPath | oCloexec], Self.trace),
            // The flags' high 32 bits are not the kernel's (it takes an int).
            (openat, [0, 0, 0x1_0000_0000], Self.notify),
            (statfs, [0, 0], Self.notify), (UInt32(nr("wait4")), [], Self.notify), (UInt32(nr("tgkill")), [], Self.notify),
            // futimens (utimensat with a NULL path): no stop; with a path: notified.
            (UInt32(nr("utimensat")), [3, 0, 0x7fff_0000, 0], Self.allow), (UInt32(nr("utimensat")), [3, 0x7fff_1000, 0, 0], Self.notify),
            (UInt32(nr("utimensat")), [3, 0x1_0000_0000, 0, 0], Self.notify),
            (UInt32(nr("rmdir")), [0x7fff_1000], Self.notify), (UInt32(nr("renameat2")), [3, 0x7fff_1000, 4, 0x7fff_2000, 0], Self.notify),
            // linkat: notified, but with AT_EMPTY_PATH (a descriptor's file) traced.
            (UInt32(nr("linkat")), [3, 0x7fff_1000, 4, 0x7fff_2000, 0x400], Self.notify),
            (UInt32(nr("linkat")), [3, 0x7fff_1000, 4, 0x7fff_2000, 0x1000], Self.trace),
            (59, [], Self.trace),
        ]
        for (nr, args, expected) in cases {
            #expect(Self.run(both.withListener, arch: Self.x86, nr: nr, args: args) == expected, "call \(nr) \(args)")
            #expect(Self.run(both.traceOnly, arch: Self.x86, nr: nr, args: args) == (expected == Self.notify ? Self.trace : expected), "call \(nr) \(args), no listener")
        }
        // i386's open (5), openat (295) and statfs (99): traced.
        #expect(Self.run(both.withListener, arch: Self.i386, nr: 5, args: [0, 0]) == Self.trace)
        #expect(Self.run(both.withListener, arch: Self.i386, nr: 295, args: [0, 0, 0]) == Self.trace)
        #expect(Self.run(both.withListener, arch: Self.i386, nr: 99, args: [0, 0]) == Self.trace)
        // i386's rmdir (40) and rename (38) too.
        #expect(Self.run(both.withListener, arch: Self.i386, nr: 40, args: [0]) == Self.trace)
        #expect(Self.run(both.withListener, arch: Self.i386, nr: 38, args: [0, 0]) == Self.trace)
    }

    /// Where no filter is active the tracer refuses the same calls at their entry stop.
    @Test func refusalsWithoutAFilter() {
        let r = Self.terminal
        let ioctl = Int64(Self.ioctl)
        #expect(r.errno(nr: ioctl, args: { [0, 0x5412] }) == SeccompErrno.EPERM)
        #expect(r.errno(nr: ioctl, args: { [0, 0xFFFF_FFFF_0000_541C] }) == SeccompErrno.EPERM)
        #expect(r.errno(nr: ioctl, args: { [0, 0x5401] }) == nil)
        #expect(r.errno(nr: ioctl + 1, args: { [0, 0x5412] }) == nil)
    }

    /// A child made with CLONE_UNTRACED would escape the tracer: clone with the flag fails,
    /// in the filter and at the tracer's own stops; clone3 says ENOSYS (libc falls back to
    /// clone); fork, vfork and threads run. io_uring says ENOSYS.
    @Test func outOfReachIsRefused() throws {
        let refusals = TraceFilter.Refusals(TraceFilter.outOfReach, abis: [Self.abi])
        let prog = try TraceFilter.program(trace: [2, 59], refusals: refusals, abis: [.host])
        let clone = UInt32(bitPattern: Self.abi.number(of: "clone") ?? -1), clone3 = UInt32(bitPattern: Self.abi.number(of: "clone3") ?? -1)
        let cases: [([UInt64], SeccompAction)] = [
            ([0x0080_0011], Self.eperm), ([0x1_0080_0000], Self.eperm),  // CLONE_UNTRACED | SIGCHLD; high bits ignored
            ([0x11], Self.allow), ([0x3D0F00], Self.allow),  // fork; pthread_create's flags
        ]
        for (args, expected) in cases {
            #expect(Self.run(prog, arch: Self.x86, nr: clone, args: args) == expected, "clone \(args)")
            #expect(refusals.errno(nr: Int64(clone), args: { args }) == (expected == Self.eperm ? SeccompErrno.EPERM : nil))
        }
        #expect(Self.run(prog, arch: Self.x86, nr: clone3, args: [0, 88]) == Self.enosys)
        #expect(refusals.errno(nr: Int64(clone3), args: { [0, 88] }) == SeccompErrno.ENOSYS)
        // io_uring's operations would take their paths untranslated.
        for name in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            let nr = UInt32(bitPattern: Self.abi.number(of: name) ?? -1)
            #expect(Self.run(prog, arch: Self.x86, nr: nr, args: [4, 0]) == Self.enosys, "\(name)")
        }
    }

    @Test func theFullTablesCompile() throws {
        let prog = try TraceFilter.program(trace: SyscallTable.traced, notify: SyscallTable.notified.keys.sorted(),
                                           refusals: Self.terminal, abis: [.host])
        for nr in SyscallTable.notified.keys { #expect(Self.run(prog, arch: Self.x86, nr: UInt32(nr)) == Self.notify) }
        // (Paths not NULL: utimensat with a NULL one, futimens, runs untraced.)
        let paths: [UInt64] = [3, 0x7fff_1000, 0x7fff_2000, 0x7fff_3000, 0x7fff_4000, 0]
        for nr in SyscallTable.traced where SyscallTable.notified[nr] == nil {
            #expect(Self.run(prog, arch: Self.x86, nr: UInt32(nr), args: paths) == Self.trace, "syscall \(nr)")
        }
        for (nr, arg) in SyscallTable.nullPathArgument {
            var null = paths
            null[arg] = 0
            #expect(Self.run(prog, arch: Self.x86, nr: UInt32(nr), args: null) == Self.allow, "syscall \(nr) with a NULL path")
        }
        // The hot path: an allowed call tests each traced call once, and no more.
        let compares = prog.filter { $0.code == BPF.jeqK }.count
        #expect(compares < SyscallTable.traced.count + 8, "\(compares) compares")
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

    /// The engine's tables are written by call name: every name is one of x86_64's (a
    /// misspelt one would stop the engine at start-up), and the names resolve to the numbers.
    @Test func everyNameTheEngineUsesIsInTheTable() {
        #if arch(x86_64)
        let names = SyscallTable.byName.map(\.name) + Array(SyscallTable.notifiedByName.keys) + SyscallTable.invalidatesCachesByName
            + SyscallTable.movesOrLinksByName + Array(SyscallTable.notifiedOnHostByName.keys)
            + Array(EmulatedTable.identityByName.keys) + Array(EmulatedTable.unameByName.keys)
        for name in names { #expect(Syscall.lookUp(name) != nil, "\(name)") }
        #expect(!Syscall.named.contains(-1))
        #expect(Syscall.number("openat") == 257 && Syscall.fstat == 5 && Syscall.seccomp == 317 && Syscall.getpid == 39)
        #expect(Set(SyscallTable.byName.map(\.name)).count == SyscallTable.byName.count, "a name given twice")
        #expect(SyscallTable.table.count == SyscallTable.byName.count
            && SyscallTable.table[257] == SyscallTable.byName.first { $0.name == "openat" }?.group)
        #expect(SyscallTable.table[-1] == nil && SyscallTable.table[100_000] == nil && SyscallTable.traced == SyscallTable.traced.sorted())
        #expect(SyscallTable.invalidatesCaches == [80, 81, 82, 86, 88, 161, 264, 265, 266, 316])
        #expect(SyscallTable.movesOrLinks == [82, 86, 264, 265, 316])
        #expect(Tracer.lookOnlyCalls == [4, 5, 6, 262, 332, 137])
        #expect(Syscall.lookUp("no_such_call") == nil)
        #endif
    }

    #if arch(x86_64)
    /// i386 (32-bit programs, `int $0x80`): its calls by its own numbers, each ABI's rules
    /// for it alone; x32 and unknown ABIs refused.
    @Test func i386CallsAreTranslatedByTheirOwnNumbers() throws {
        let i = Architecture.i386
        func nr(_ name: String) -> UInt32 { UInt32(bitPattern: i.number(of: name) ?? -1) }
        let refusals = TraceFilter.Refusals(TraceFilter.outOfReach + [TerminalInjection.rule], abis: TracedABI.all.map(\.architecture))
        let prog = try TraceFilter.program(trace: SyscallTable.traced, notify: SyscallTable.notified.keys.sorted(),
                                           refusals: refusals, abis: TracedABI.all)
        let cases: [(String, [UInt64], SeccompAction)] = [
            ("open", [], Self.trace), ("openat", [], Self.trace), ("execve", [], Self.trace), ("chown32", [], Self.trace),
            ("stat64", [], Self.notify), ("lstat64", [], Self.notify), ("fstatat64", [], Self.notify), ("statx", [], Self.notify),
            ("access", [], Self.notify), ("readlink", [], Self.notify),
            // Same name, its own layout on i386 (answered in it); the old layout traced.
            ("stat", [], Self.notify), ("lstat", [], Self.notify), ("oldstat", [], Self.trace), ("chown", [], Self.trace),
            ("socketcall", [], Self.trace), ("bind", [], Self.trace), ("fanotify_mark", [], Self.trace), ("ptrace", [], Self.trace),
            ("getpid", [], Self.allow), ("read", [], Self.allow), ("fstat", [], Self.allow),
            ("ioctl", [0, 0x5412], Self.eperm), ("clone", [0x0080_0011], Self.eperm), ("clone3", [], Self.enosys),
        ]
        for (name, args, expected) in cases {
            #expect(Self.run(prog, arch: i.auditArch, nr: nr(name), args: args) == expected, "i386 \(name)")
        }
        // x86_64's own numbers unchanged; x32 and other ABIs refused.
        #expect(Self.run(prog, arch: Self.x86, nr: 4) == Self.notify)
        #expect(Self.run(prog, arch: Self.x86, nr: 0x4000_0002) == Self.enosys)
        #expect(Self.run(prog, arch: 0x4000_0028, nr: 5) == Self.enosys)
        // At the tracer's stops, without a filter: the same refusals, by the call's ABI.
        #expect(refusals.errno(arch: i, nr: Int64(nr("ioctl")), args: { [0, 0x5412] }) == SeccompErrno.EPERM)
        #expect(refusals.errno(arch: i, nr: Int64(Self.ioctl), args: { [0, 0x5412] }) == nil)
    }

    /// Every i386 call of a name the engine translates on x86_64 is traced or notified on
    /// i386, and so is every i386-only call that takes a path: none escapes translation.
    @Test func everyI386PathCallIsTraced() throws {
        let x = Architecture.x86_64, i = Architecture.i386
        let prog = try TraceFilter.program(trace: SyscallTable.traced, notify: SyscallTable.notified.keys.sorted(),
                                           refusals: nil, abis: TracedABI.all)
        // (wait4 and waitid take no path: traced for guest tracers, which i386 programs cannot be.)
        var names = SyscallTable.traced.compactMap { x.name(of: Int32($0)) }.filter { i.number(of: $0) != nil && !["wait4", "waitid"].contains($0) }
        names += ["stat64", "lstat64", "fstatat64", "oldstat", "oldlstat", "chown32", "lchown32", "truncate64", "statfs64",
                  "utimensat_time64", "umount", "socketcall", "fanotify_mark"]
        for name in names {
            let action = Self.run(prog, arch: i.auditArch, nr: UInt32(bitPattern: i.number(of: name) ?? -1))
            #expect(action == Self.trace || action == Self.notify, "i386 \(name): \(String(describing: action))")
        }
    }

    /// Each i386 call maps to x86_64's call of its name (or of its alias), but those that
    /// mean another call there or have a group of their own.
    @Test func i386CallsMapByName() {
        let x = Architecture.x86_64, i = Architecture.i386
        for (name, nr) in i.syscalls {
            let unmapped = TracedABI.i386Differs.contains(name) || TracedABI.i386OwnGroups.contains { $0.name == name }
            let target = TracedABI.i386Aliases.first { $0.name == name }?.to ?? name
            let expected = unmapped ? nil : x.number(of: target).map(Int64.init)
            #expect(TracedABI.i386.engineNumber(Int64(nr)) == expected, "\(name) (\(nr))")
        }
    }

    @Test func i386NumbersMapToTheEngines() {
        let x = Architecture.x86_64, i = Architecture.i386
        func engine(_ name: String) -> Int64? { i.number(of: name).flatMap { TracedABI.i386.engineNumber(Int64($0)) } }
        func host(_ name: String) -> Int64? { x.number(of: name).map(Int64.init) }
        for (i386Name, x86Name) in [("open", "open"), ("execve", "execve"), ("stat64", "stat"), ("fstatat64", "newfstatat"),
                                     ("getuid32", "getuid"), ("setresuid32", "setresuid"), ("chown32", "chown"), ("umount", "umount2"),
                                     ("getuid", "getuid"), ("chown", "chown"), ("stat", "stat")] {
            #expect(engine(i386Name) != nil && engine(i386Name) == host(x86Name), "\(i386Name)")
        }
        // Another call on i386 under x86_64's name.
        for name in ["fanotify_mark", "ptrace", "oldstat"] { #expect(engine(name) == nil, "\(name)") }
        // The 16-bit ids and the old struct stat are said per call.
        func nr(_ name: String) -> Int64 { Int64(i.number(of: name) ?? -1) }
        #expect(TracedABI.i386.narrowIds.contains(nr("getuid")) && TracedABI.i386.narrowIds.contains(nr("chown")))
        #expect(!TracedABI.i386.narrowIds.contains(nr("getuid32")) && !TracedABI.i386.narrowIds.contains(nr("chown32")))
        #expect(TracedABI.i386.layout(.stat, call: nr("stat64")) == .stat64 && TracedABI.i386.layout(.stat, call: nr("stat")) == .compatStat)
        #expect(TracedABI.host.layout(.stat, call: 4) == .stat && TracedABI.i386.layout(.statx, call: nr("statx")) == .statx)
    }
    #endif

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
            $0.emulation.uname = FakeUname(release: "1.0"); $0.emulation.qemu = QemuEmulation(command: ["qemu-aarch64"])
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
