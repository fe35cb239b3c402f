import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

private func spec(_ args: [String]) throws -> SandboxSpec {
    guard case .run(let spec) = try LinuxUserChrootCommandLine.parse(args) else {
        Issue.record("expected a run invocation for \(args)")
        return SandboxSpec(root: RootFS(path: HostPath("")))
    }
    return spec
}

struct LinuxUserChrootCommandLineTests {
    @Test func theOptionBeforeRootdirIsNamedWhenProgramIsMissing() throws {
        #expect(throws: UsageError("missing PROGRAM after ROOTDIR 'id' (--mount-bind takes SOURCE DEST: here SOURCE=/etc DEST=/srv/root): linux-user-chroot [OPTIONS] ROOTDIR PROGRAM ARGS...")) {
            try LinuxUserChrootCommandLine.parse(["--mount-bind", "/etc", "/srv/root", "id"])
        }
        guard case .run(let s) = try LinuxUserChrootCommandLine.parse(["--mount-bind", "/etc", "/srv/root", "id", "-u"]) else {
            Issue.record("expected a run")
            return
        }
        #expect(s.root.takenAfter == OptionArguments(option: "--mount-bind", metavars: ["SOURCE", "DEST"], values: ["/etc", "/srv/root"]))
    }

    @Test func minimal() throws {
        let s = try spec(["/srv/chroot", "make", "all"])
        #expect(s.root.path == HostPath("/srv/chroot"))
        #expect(s.process.argv == ["make", "all"])
        #expect(s.operations.isEmpty)
        #expect(s.namespaces == Namespaces())
        #expect(s.identity == Identity())  // the calling user: no uid change
        #expect(s.process.chdir == nil)
        #expect(!s.process.keepChildren)
    }

    /// Each option alone, and what it puts into the spec.
    @Test(arguments: [
        (["--unshare-ipc"], { @Sendable (s: SandboxSpec) in s.namespaces.ipc && s.namespaces.uts && !s.namespaces.pid && !s.namespaces.net }),
        (["--unshare-pid"], { @Sendable (s: SandboxSpec) in s.namespaces.pid && !s.namespaces.ipc }),
        (["--unshare-net"], { @Sendable (s: SandboxSpec) in s.namespaces.net && !s.namespaces.pid }),
        (["--mount-proc", "/proc"], { @Sendable (s: SandboxSpec) in s.operations == [.proc(dest: g("/proc"))] }),
        (["--mount-devapi", "/dev"], { @Sendable (s: SandboxSpec) in s.operations == [.dev(dest: g("/dev"))] }),
        (["--mount-readonly", "/usr"], { @Sendable (s: SandboxSpec) in s.operations == [.remountReadOnly(dest: g("/usr"))] }),
        (["--mount-bind", "/home/u/src", "/usr/src"], { @Sendable (s: SandboxSpec) in
            s.operations == [.bind(BindMount(source: HostPath("/home/u/src"), destination: g("/usr/src"), allowDevices: true))] }),
        (["--mount-bind", "rel/src", "usr/src"], { @Sendable (s: SandboxSpec) in
            s.operations == [.bind(BindMount(source: HostPath("rel/src"), destination: g("/usr/src"), allowDevices: true))] }),
        (["--chdir", "/build"], { @Sendable (s: SandboxSpec) in s.process.chdir == g("/build") }),
        // Found by scripts/fuzz: "/" and a combining mark were one Character, so this was taken
        // as relative and "/" + it parsed to the one component "/\u{301}x".
        (["--mount-proc", "/\u{301}x"], { @Sendable (s: SandboxSpec) in
            s.operations == [.proc(dest: GuestPath(components: ["\u{301}x"]))] }),
        (["--chdir", "build/dir"], { @Sendable (s: SandboxSpec) in s.process.chdir == g("/build/dir") }),
    ] as [([String], @Sendable (SandboxSpec) -> Bool)])
    func option(args: [String], check: @Sendable (SandboxSpec) -> Bool) throws {
        let s = try spec(args + ["/r", "true"])
        #expect(check(s), "\(args) gave \(s)")
    }

    @Test func operationsKeepCommandLineOrder() throws {
        let s = try spec([
            "--mount-bind", "/a", "/x", "--mount-readonly", "/x", "--mount-proc", "/proc", "--mount-devapi", "/dev",
            "--mount-bind", "/b", "/x/y", "/r", "sh",
        ])
        #expect(s.operations == [
            .bind(BindMount(source: HostPath("/a"), destination: g("/x"), allowDevices: true)),
            .remountReadOnly(dest: g("/x")),
            .proc(dest: g("/proc")),
            .dev(dest: g("/dev")),
            .bind(BindMount(source: HostPath("/b"), destination: g("/x/y"), allowDevices: true)),
        ])
    }

    /// The README's example, as written (with its repeated --unshare-pid).
    @Test func readmeExample() throws {
        let s = try spec([
            "--seccomp-profile-version", "0",
            "--unshare-pid", "--unshare-net", "--unshare-pid", "--mount-proc", "/proc", "--mount-bind", "/dev", "/dev",
            "--mount-bind", "/home/user/source/project", "/usr/src/project", "/path/to/my/chroot", "/bin/sh",
        ])
        #expect(s.namespaces.pid && s.namespaces.net && !s.namespaces.ipc)
        #expect(s.operations == [
            .proc(dest: g("/proc")),
            .bind(BindMount(source: HostPath("/dev"), destination: g("/dev"), allowDevices: true)),
            .bind(BindMount(source: HostPath("/home/user/source/project"), destination: g("/usr/src/project"), allowDevices: true)),
        ])
        #expect(s.root.path == HostPath("/path/to/my/chroot"))
        #expect(s.process.argv == ["/bin/sh"])
        #expect(s.security.seccomp == .linuxUserChroot0)
    }

    /// The man page's build without network, given `/` as ROOTDIR.
    @Test func manPageExample() throws {
        let s = try spec(["--unshare-net", "--chdir", "/home/u/project", "/", "make", "clean", "all", "check"])
        #expect(s.root.path == HostPath("/"))
        #expect(s.namespaces.net)
        #expect(s.process.chdir == g("/home/u/project"))
        #expect(s.process.argv == ["make", "clean", "all", "check"])
    }

    @Test(arguments: [
        ([], SeccompProfile.none), (["--seccomp-profile-version", "-1"], .none),
        (["--seccomp-profile-version", "0"], .linuxUserChroot0),
        (["--seccomp-profile-version", "0", "--seccomp-profile-version", "-1"], .none),
    ])
    func seccompProfile(args: [String], profile: SeccompProfile) throws {
        #expect(try spec(args + ["/r", "true"]).security.seccomp == profile)
    }

    @Test(arguments: [
        (["/r", "--unshare-net"], "/r", ["--unshare-net"]),
        (["/r", "sh", "--chdir", "x"], "/r", ["sh", "--chdir", "x"]),
        (["--", "-odd", "sh"], "-odd", ["sh"]),
        (["--unshare-net", "--", "/r", "--", "x"], "/r", ["--", "x"]),
    ])
    func optionsStopAtRootdir(args: [String], root: String, argv: [String]) throws {
        let s = try spec(args)
        #expect(s.root.path == HostPath(root))
        #expect(s.process.argv == argv)
    }

    @Test(arguments: [
        (["--help"], Invocation.help), (["--version"], .version), (["--unshare-net", "--help", "--bogus"], .help),
    ])
    func stops(args: [String], expected: Invocation) throws {
        #expect(try LinuxUserChrootCommandLine.parse(args) == expected)
    }

    @Test(arguments: [
        ([], "missing ROOTDIR and PROGRAM"),
        (["/r"], "missing PROGRAM after ROOTDIR '/r'"),
        (["--unshare-net"], "missing ROOTDIR"),
        (["", "sh"], "ROOTDIR is an empty string"),
        (["--unshare-uts", "/r", "sh"], "unknown option '--unshare-uts'"),
        (["-h", "/r", "sh"], "unknown option '-h'"),
        (["--mount-proc\r", "/r", "sh"], "unknown option '--mount-proc\\r'"),
        (["--mount-bind", "/a"], "--mount-bind takes two arguments: SOURCE DEST"),
        (["--mount-proc"], "--mount-proc takes one argument: DIR"),
        (["--chdir"], "--chdir takes one argument"),
        (["--mount-bind", "", "/x", "/r", "sh"], "SOURCE is empty"),
        (["--mount-bind", "/a", "", "/r", "sh"], "the path is empty"),
        (["--mount-readonly", "/../etc", "/r", "sh"], "climbs above the new root"),
        (["--mount-proc", "../proc", "/r", "sh"], "climbs above the new root"),
        (["--seccomp-profile-version", "1", "/r", "sh"], "unknown profile version '1' (known: -1 for none, 0)"),
        (["--seccomp-profile-version", "abc", "/r", "sh"], "unknown profile version 'abc'"),
    ])
    func rejects(args: [String], fragment: String) {
        #expect {
            try LinuxUserChrootCommandLine.parse(args)
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            if !e.message.contains(fragment) { Issue.record("message '\(e.message)' lacks '\(fragment)'") }
            return true
        }
    }

    @Test func helpListsEveryOption() {
        let help = LinuxUserChrootCommandLine.help
        for option in LinuxUserChrootCommandLine.options { #expect(help.contains(option.name), "help lacks \(option.name)") }
        #expect(help.contains("Usage: linux-user-chroot [OPTIONS] ROOTDIR PROGRAM ARGS..."))
    }

    @Test func frontEndTable() {
        let fe = FrontEnds.named("/usr/local/bin/linux-user-chroot")
        #expect(fe.name == "linux-user-chroot")
        #expect(fe.failureStatus == 1)
        #expect(FrontEnds.compatibilityNames.contains("linux-user-chroot"))
    }
}
