import BurrowSeccomp
import BurrowSandbox
import Testing

// The profiles, compiled and run: what each denies, with which errno, on x86_64 and i386,
// and that ordinary calls pass.

func compiled(_ p: SeccompProfile, pid: Bool = false, denied: [String] = []) throws -> [BPFInstruction] {
    let ctx = SeccompProfiles.Context(pidNamespace: pid, denied: denied, architectures: [.x86_64, .i386])
    guard let f = SeccompProfiles.filter(p, ctx) else {
        Issue.record("no filter for \(p)")
        return []
    }
    return try f.compile()
}

struct ProfileTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var call: String
        var args: [UInt64]
        var expected: SeccompAction
        var testDescription: String { "\(call)\(args) -> \(expected)" }
        init(_ call: String, _ args: [UInt64], _ expected: SeccompAction) {
            self.call = call
            self.args = args
            self.expected = expected
        }
        init(_ call: String, _ expected: SeccompAction) { self.init(call, [], expected) }
    }

    static let enosys = SeccompAction.errno(SeccompErrno.ENOSYS)
    static let eafnosupport = SeccompAction.errno(SeccompErrno.EAFNOSUPPORT)

    /// `default`, without a PID namespace.
    static let defaultCases: [Case] = [
        Case("reboot", eperm), Case("kexec_load", eperm), Case("kexec_file_load", eperm),
        Case("init_module", eperm), Case("finit_module", eperm), Case("delete_module", eperm),
        Case("swapon", eperm), Case("swapoff", eperm), Case("settimeofday", eperm), Case("clock_settime", eperm),
        Case("syslog", eperm), Case("acct", eperm), Case("quotactl", eperm), Case("iopl", eperm), Case("ioperm", eperm),
        Case("bpf", eperm), Case("perf_event_open", eperm), Case("userfaultfd", eperm),
        Case("keyctl", eperm), Case("add_key", eperm), Case("request_key", eperm),
        Case("ptrace", eperm), Case("process_vm_readv", eperm), Case("process_vm_writev", eperm),
        Case("pidfd_getfd", eperm), Case("open_by_handle_at", eperm),
        Case("clone", [0x1000_0000 | 17], eperm), Case("unshare", [0x1000_0000], eperm),
        Case("unshare", [0x1002_0000], eperm), Case("clone3", enosys),
        Case("ioctl", [0, 0x5412], eperm), Case("ioctl", [0, 0x541C], eperm), Case("ioctl", [0, 0xFFFF_FFFF_0000_5412], eperm),
        // What builds and shells do.
        Case("clone", [0x1_0120_0011], .allow), Case("unshare", [0x2_0000], .allow),
        Case("ioctl", [0, 0x5401], .allow), Case("ioctl", [0, 0x5413], .allow),
        Case("execve", .allow), Case("openat", .allow), Case("socket", [17, 3, 0], .allow), Case("adjtimex", .allow),
        Case("clock_gettime", .allow), Case("mount", .allow), Case("personality", .allow), Case("wait4", .allow),
    ]

    @Test(arguments: defaultCases)
    func defaultProfile(_ c: Case) throws {
        let program = try compiled(.default)
        #expect(run(program, arch: x86_64, nr: nr(c.call), args: c.args) == c.expected)
        if c.call == "kexec_file_load" { return }  // x86_64 only
        #expect(run(program, arch: i386, nr: nr(c.call, .i386), args: c.args) == c.expected, "i386")
    }

    @Test func defaultProfileOnI386AlsoCoversItsOwnCalls() throws {
        let program = try compiled(.default)
        for call in ["stime", "clock_settime64", "vm86", "vm86old", "create_module"] {
            #expect(run(program, arch: i386, nr: nr(call, .i386)) == eperm, "\(call)")
        }
    }

    @Test func ptraceIsAllowedWithAPIDNamespace() throws {
        let program = try compiled(.default, pid: true)
        for call in ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"] {
            #expect(run(program, arch: x86_64, nr: nr(call)) == .allow, "\(call)")
        }
        #expect(run(program, arch: x86_64, nr: nr("reboot")) == eperm)
        #expect(run(program, arch: x86_64, nr: nr("clone"), args: [0x1000_0000]) == eperm)
    }

    static let linuxUserChrootCases: [Case] = [
        Case("syslog", eperm), Case("uselib", eperm), Case("personality", [0], eperm), Case("acct", eperm),
        Case("modify_ldt", eperm), Case("quotactl", eperm), Case("move_pages", eperm), Case("mbind", eperm),
        Case("get_mempolicy", eperm), Case("set_mempolicy", eperm), Case("migrate_pages", eperm),
        Case("unshare", [0x2_0000], eperm), Case("mount", eperm), Case("pivot_root", eperm),
        Case("clone", [0x1000_0011], eperm), Case("perf_event_open", eperm),
        Case("clone3", enosys), Case("fsopen", eperm), Case("open_tree", eperm), Case("move_mount", eperm),
        Case("socket", [1, 1, 0], .allow), Case("socket", [2, 1, 0], .allow), Case("socket", [10, 2, 0], .allow),
        Case("socket", [16, 3, 0], .allow), Case("socket", [0, 1, 0], .allow),
        Case("socket", [3, 5, 0], eafnosupport), Case("socket", [4, 2, 0], eafnosupport), Case("socket", [15, 3, 0], eafnosupport),
        Case("socket", [17, 3, 0], eafnosupport), Case("socket", [38, 5, 0], eafnosupport), Case("socket", [45, 5, 0], eafnosupport),
        Case("clone", [0x1_0120_0011], .allow), Case("ioctl", [0, 0x5401], .allow), Case("reboot", .allow),
        Case("bpf", .allow), Case("execve", .allow),
        // Terminal injection: refused under every profile unless allowed (`terminalInjection...`).
        Case("ioctl", [0, 0x5412], eperm),
    ]

    @Test(arguments: linuxUserChrootCases)
    func linuxUserChroot0(_ c: Case) throws {
        let program = try compiled(.linuxUserChroot0)
        #expect(run(program, arch: x86_64, nr: nr(c.call), args: c.args) == c.expected)
        #expect(run(program, arch: i386, nr: nr(c.call, .i386), args: c.args) == c.expected, "i386")
    }

    @Test func i386SocketcallIsTheDocumentedGap() throws {
        // SYS_SOCKET through socketcall: the family is in memory, out of the filter's reach.
        let program = try compiled(.linuxUserChroot0)
        #expect(run(program, arch: i386, nr: nr("socketcall", .i386), args: [1, 0x1000]) == .allow)
    }

    @Test func denyFileProfile() throws {
        let program = try compiled(.denyFile(HostPath("/x")), denied: ["uname", "getcwd", "stime"])
        #expect(run(program, arch: x86_64, nr: nr("uname")) == eperm)
        #expect(run(program, arch: x86_64, nr: nr("getcwd")) == eperm)
        #expect(run(program, arch: i386, nr: nr("uname", .i386)) == eperm)
        #expect(run(program, arch: i386, nr: nr("stime", .i386)) == eperm)
        #expect(run(program, arch: x86_64, nr: nr("getpid")) == .allow)
        #expect(run(program, arch: x86_64, nr: Int32(bitPattern: SeccompFilter.x32Bit) | nr("getpid")) == eperm)
    }

    @Test(arguments: [SeccompProfile.default, .linuxUserChroot0, .denyFile(HostPath("/x"))])
    func everyProfileRefusesX32(_ p: SeccompProfile) throws {
        let program = try compiled(p)
        for n in [Int32(0), 39, 59, 512, 514, 520] {
            #expect(run(program, arch: x86_64, nr: Int32(bitPattern: SeccompFilter.x32Bit) | n) == eperm)
        }
    }

    @Test func noneHasNoFilterWhenTerminalInjectionIsAllowed() {
        #expect(SeccompProfiles.filter(.none, SeccompProfiles.Context(pidNamespace: false, allowTerminalInjection: true)) == nil)
    }

    static let terminalRequests: [(UInt64, SeccompAction)] = [
        (0x5412, eperm), (0x541C, eperm),
        // The kernel's request is an unsigned int: high bits do not make it another one.
        (0x1_0000_5412, eperm), (0xFFFF_FFFF_0000_541C, eperm), (0x8000_0000_0000_5412, eperm),
        (0x5401, .allow), (0x5413, .allow), (0x5412_0000, .allow), (0x1_0000_5401, .allow),
    ]

    /// Without a profile the command still gets a filter: TIOCSTI and TIOCLINUX, and nothing
    /// else, on x86_64 and i386 under their own numbers (and aarch64's); x32 refused.
    @Test(arguments: terminalRequests)
    func terminalInjectionIsRefusedWithoutAProfile(_ request: UInt64, _ expected: SeccompAction) throws {
        let f = try #require(SeccompProfiles.filter(.none, SeccompProfiles.Context(pidNamespace: false, architectures: [.x86_64, .i386])))
        let program = try f.compile()
        #expect(run(program, arch: x86_64, nr: nr("ioctl"), args: [0, request]) == expected)
        #expect(run(program, arch: i386, nr: nr("ioctl", .i386), args: [0, request & 0xFFFF_FFFF]) == expected, "i386")
        for call in ["read", "openat", "execve", "reboot", "ptrace", "clone3"] {
            #expect(run(program, arch: x86_64, nr: nr(call)) == .allow, "\(call)")
        }
        #expect(run(program, arch: x86_64, nr: Int32(bitPattern: SeccompFilter.x32Bit) | 514, args: [0, 0x5412]) == eperm, "x32")
        let arm = try #require(SeccompProfiles.filter(.none, SeccompProfiles.Context(pidNamespace: false, architectures: [.aarch64])))
        let armProgram = try arm.compile()
        #expect(run(armProgram, arch: Architecture.aarch64.auditArch, nr: nr("ioctl", .aarch64), args: [0, request]) == expected, "aarch64")
        #expect(program.count <= 32, "\(program.count) instructions")  // (the descriptor check is one)
    }

    /// The descriptor is compared on its low 32 bits too (the kernel's `unsigned int fd`):
    /// one that is negative as an int can name nothing, so the kernel's EBADF comes through;
    /// high bits over a real descriptor do not hide it.
    static let descriptors: [(UInt64, SeccompAction)] = [
        (0, eperm), (2, eperm), (0x7FFF_FFFF, eperm), (0x1_0000_0000, eperm), (0xFFFF_FFFF_0000_0001, eperm),
        (0xFFFF_FFFF, .allow), (0x8000_0000, .allow), (0xFFFF_FFFF_FFFF_FFFF, .allow),
    ]
    @Test(arguments: descriptors)
    func terminalInjectionOnADescriptorNoProcessCanHold(_ fd: UInt64, _ expected: SeccompAction) throws {
        let f = try #require(SeccompProfiles.filter(.none, SeccompProfiles.Context(pidNamespace: false, architectures: [.x86_64, .i386])))
        let program = try f.compile()
        #expect(run(program, arch: x86_64, nr: nr("ioctl"), args: [fd, 0x5412]) == expected)
        #expect(run(program, arch: i386, nr: nr("ioctl", .i386), args: [fd & 0xFFFF_FFFF, 0x5412]) == expected, "i386")
    }

    /// With a profile, the terminal rule is merged into its program; allowing it leaves the
    /// profile as it is (for `default` too: the option is the one switch for it).
    @Test(arguments: [SeccompProfile.default, .linuxUserChroot0, .denyFile(HostPath("/x"))], [false, true])
    func terminalInjectionUnderAProfile(_ p: SeccompProfile, allowed: Bool) throws {
        let ctx = SeccompProfiles.Context(pidNamespace: false, denied: ["uname"], architectures: [.x86_64, .i386],
                                          allowTerminalInjection: allowed)
        let f = try #require(SeccompProfiles.filter(p, ctx))
        #expect(f.rules.filter { $0 == TerminalInjection.rule }.count == (allowed ? 0 : 1))
        let program = try f.compile()
        for (request, expected) in Self.terminalRequests {
            let want = allowed ? SeccompAction.allow : expected
            #expect(run(program, arch: x86_64, nr: nr("ioctl"), args: [0, request]) == want)
            #expect(run(program, arch: i386, nr: nr("ioctl", .i386), args: [0, request & 0xFFFF_FFFF]) == want, "i386")
        }
        // The profile's own rules stay.
        let own = p == .linuxUserChroot0 ? "mount" : p == .default ? "reboot" : "uname"
        #expect(run(program, arch: x86_64, nr: nr(own)) == eperm)
    }

    @Test(arguments: [SeccompProfile.default, .linuxUserChroot0])
    func profilesCompileForEveryArchitecture(_ p: SeccompProfile) throws {
        for abis in [[Architecture.x86_64, .i386], [.aarch64], [.i386]] {
            let f = SeccompProfiles.filter(p, SeccompProfiles.Context(pidNamespace: false, architectures: abis))
            let program = try #require(f).compile()
            #expect(program.count < 400)
        }
    }
}

struct DenyListTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var text: String
        var expected: Result<[String], SeccompError>
        var testDescription: String { text.debugDescription }
    }

    static let cases: [Case] = [
        Case(text: "", expected: .success([])),
        Case(text: "reboot\n", expected: .success(["reboot"])),
        Case(text: "# a comment\n\n  uname  \n\tgetcwd # trailing comment\nreboot\r\n", expected: .success(["uname", "getcwd", "reboot"])),
        Case(text: "uname\nuname\n", expected: .success(["uname"])),
        Case(text: "socketcall\n", expected: .success(["socketcall"])),  // an i386 call
        Case(text: "uname\n\nrebooot\n", expected: .failure(SeccompError(
            "deny.txt:3: unknown system call 'rebooot' (one name per line, as in syscalls(2); '#' starts a comment)"))),
        Case(text: "uname getcwd\n", expected: .failure(SeccompError(
            "deny.txt:1: unknown system call 'uname getcwd' (one name per line, as in syscalls(2); '#' starts a comment)"))),
        Case(text: "SYS_uname", expected: .failure(SeccompError(
            "deny.txt:1: unknown system call 'SYS_uname' (one name per line, as in syscalls(2); '#' starts a comment)"))),
    ]

    @Test(arguments: cases)
    func parse(_ c: Case) {
        let got: Result<[String], SeccompError>
        do { got = .success(try DenyList.parse(c.text, file: "deny.txt")) } catch { got = .failure(error) }
        #expect(got == c.expected)
    }
}

struct ProfileNameTests {
    @Test(arguments: [
        ("none", SeccompProfile.none), ("default", .default), ("linux-user-chroot-0", .linuxUserChroot0),
        ("./deny", .denyFile(HostPath("./deny"))), ("/etc/deny.list", .denyFile(HostPath("/etc/deny.list"))),
    ])
    func known(_ text: String, _ p: SeccompProfile) {
        #expect(SeccompProfile(argument: text) == p)
    }

    @Test(arguments: ["", "Default", "linux-user-chroot-1", "deny.txt", "3"])
    func unknown(_ text: String) {
        #expect(SeccompProfile(argument: text) == nil)
    }
}
