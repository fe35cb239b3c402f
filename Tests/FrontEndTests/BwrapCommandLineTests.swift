import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

/// Descriptor 3 holds `a\0b\0`-style arguments; any other cannot be read.
private let host = HostFacts(environment: [:], workingDirectory: "/home/u/src", invokedName: "/usr/bin/bwrap",
                             readDescriptor: { fd in
                                 switch fd {
                                 case 3: return .success(Array("--setenv\0A\0B\0--unshare-pid\0".utf8))
                                 case 5: return .success(Array("--args\05\0".utf8))
                                 default: return .failure(UsageError("Bad file descriptor"))
                                 }
                             },
                             descriptorPath: { fd in fd == 9 ? "/srv/data" : nil })

private func parse(_ args: [String]) throws(UsageError) -> Invocation { try BwrapCommandLine.parse(args, host) }

private func spec(_ args: [String]) throws -> SandboxSpec {
    guard case .run(let spec) = try parse(args) else {
        Issue.record("expected a run invocation for \(args)")
        return SandboxSpec(root: RootFS(path: HostPath("")))
    }
    return spec
}

struct BwrapCommandLineTests {
    @Test func everyOptionOfBubblewrapIsRecognised() {
        for name in BwrapCommandLine.bubblewrapOptions where !["--help", "--version", "--args"].contains(name) {
            #expect(BwrapCommandLine.table[name] != nil, "\(name) is not parsed")
        }
        let known = Set(BwrapCommandLine.bubblewrapOptions)
        for name in BwrapCommandLine.table.keys { #expect(known.contains(name), "\(name) is not bubblewrap's") }
    }

    @Test func noBindOntoRootMakesAnEmptyTmpfsRoot() throws {
        let s = try spec(["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "true"])
        #expect(s.root.fresh)
        #expect(s.operations == [.bind(BindMount(source: HostPath("/usr"), destination: g("/usr"), readOnly: true)),
                                 .proc(dest: g("/proc")), .dev(dest: g("/dev"))])
        #expect(s.process.argv == ["true"])
        #expect(s.keepsCreatedEntries)
        #expect(s.process.exportsWorkingDirectory)
        #expect(s.process.chdir == g("/home/u/src") && s.process.chdirIsOptional, "the caller's directory, if the sandbox has it")
    }

    @Test func theLastBindOntoRootIsTheRootAndHidesWhatCameBefore() throws {
        let s = try spec(["--bind", "/", "/", "--tmpfs", "/tmp", "--ro-bind", "/srv/r", "/", "--dir", "/tmp/x", "true"])
        #expect(!s.root.fresh)
        #expect(s.root.path == HostPath("/srv/r") && s.root.readOnly)
        #expect(s.operations == [.dir(dest: g("/tmp/x"), mode: nil)])
        let rw = try spec(["--bind", "/", "/", "--tmpfs", "/tmp", "true"])
        #expect(rw.root.path == HostPath("/") && !rw.root.readOnly)
        #expect(rw.operations == [.tmpfs(dest: g("/tmp"), sizeBytes: nil, mode: nil)])
    }

    /// Each option alone, and what it puts into the spec.
    @Test(arguments: [
        (["--unshare-all"], { @Sendable (s: SandboxSpec) in
            var all = Namespaces.all
            all.cgroupIsOptional = true
            return s.namespaces == all }),
        (["--unshare-all", "--share-net"], { @Sendable (s: SandboxSpec) in
            s.namespaces.pid && s.namespaces.ipc && s.namespaces.uts && s.namespaces.cgroup && !s.namespaces.net }),
        (["--share-net", "--unshare-all"], { @Sendable (s: SandboxSpec) in !s.namespaces.net }),
        (["--unshare-user-try"], { @Sendable (s: SandboxSpec) in s.namespaces == Namespaces() }),
        (["--unshare-user"], { @Sendable (s: SandboxSpec) in
            var user = Namespaces()
            user.userRequired = true
            return s.namespaces == user }),
        (["--unshare-cgroup-try"], { @Sendable (s: SandboxSpec) in s.namespaces.cgroup && s.namespaces.cgroupIsOptional }),
        (["--unshare-cgroup-try", "--unshare-cgroup"], { @Sendable (s: SandboxSpec) in s.namespaces.cgroup && !s.namespaces.cgroupIsOptional }),
        (["--unshare-uts", "--hostname", "box"], { @Sendable (s: SandboxSpec) in s.process.hostname == "box" }),
        (["--uid", "0", "--gid", "100"], { @Sendable (s: SandboxSpec) in s.identity.uid == 0 && s.identity.gid == 100 }),
        (["--chdir", "/w"], { @Sendable (s: SandboxSpec) in s.process.chdir == g("/w") && !s.process.chdirIsOptional }),
        (["--clearenv", "--setenv", "A", "1", "--unsetenv", "B"], { @Sendable (s: SandboxSpec) in
            s.process.environment == [.clear, .set("A", "1"), .unset("B")] }),
        (["--argv0", "name"], { @Sendable (s: SandboxSpec) in s.process.execArgv == ["name"] && s.process.argv == ["true"] }),
        (["--level-prefix"], { @Sendable (s: SandboxSpec) in s.levelPrefix }),
        (["--die-with-parent", "--new-session"], { @Sendable (s: SandboxSpec) in s.process.dieWithParent && s.process.newSession }),
        (["--info-fd", "4", "--json-status-fd", "5"], { @Sendable (s: SandboxSpec) in
            s.process.reports == StatusReports(info: 4, jsonStatus: 5) }),
        (["--sync-fd", "7"], { @Sendable (s: SandboxSpec) in s.operations.isEmpty }),
        (["--bind-try", "/a", "/b"], { @Sendable (s: SandboxSpec) in
            s.operations == [.bind(BindMount(source: HostPath("/a"), destination: g("/b"), optional: true))] }),
        (["--dev-bind", "/dev", "/dev"], { @Sendable (s: SandboxSpec) in
            s.operations == [.bind(BindMount(source: HostPath("/dev"), destination: g("/dev"), allowDevices: true))] }),
        (["--ro-bind-try", "/a", "/b"], { @Sendable (s: SandboxSpec) in
            s.operations == [.bind(BindMount(source: HostPath("/a"), destination: g("/b"), readOnly: true, optional: true))] }),
        (["--bind-fd", "9", "/b"], { @Sendable (s: SandboxSpec) in
            guard case .bind(let b) = s.operations.first else { return false }
            return b.source == HostPath("/srv/data") && b.destination == g("/b") && !b.readOnly && b.sourceDescriptor == 9 }),
        (["--ro-bind-fd", "9", "/b"], { @Sendable (s: SandboxSpec) in
            guard case .bind(let b) = s.operations.first else { return false }
            return b.source == HostPath("/srv/data") && b.readOnly && b.sourceDescriptor == 9 }),
        (["--size", "4096", "--perms", "0700", "--tmpfs", "/t"], { @Sendable (s: SandboxSpec) in
            s.operations == [.tmpfs(dest: g("/t"), sizeBytes: 4096, mode: 0o700)] }),
        (["--perms", "0700", "--dir", "/d"], { @Sendable (s: SandboxSpec) in s.operations == [.dir(dest: g("/d"), mode: 0o700)] }),
        (["--unshare-ipc", "--mqueue", "/dev/mqueue"], { @Sendable (s: SandboxSpec) in s.operations == [.mqueue(dest: g("/dev/mqueue"))] }),
        (["--symlink", "usr/lib", "/lib"], { @Sendable (s: SandboxSpec) in s.operations == [.symlink(target: "usr/lib", dest: g("/lib"))] }),
        (["--remount-ro", "/etc"], { @Sendable (s: SandboxSpec) in s.operations == [.remountReadOnly(dest: g("/etc"))] }),
        (["--args", "3"], { @Sendable (s: SandboxSpec) in s.process.environment == [.set("A", "B")] && s.namespaces.pid }),
        (["--unshare-pid", "--as-pid-1"], { @Sendable (s: SandboxSpec) in s.process.commandIsPID1 }),
        (["--userns", "8", "--pidns", "9"], { @Sendable (s: SandboxSpec) in
            s.namespaces.userToJoin == 8 && s.namespaces.pidToJoin == 9 }),
        (["--userns", "8", "--userns2", "7", "--userns2", "9"], { @Sendable (s: SandboxSpec) in
            s.namespaces.userToJoin == 8 && s.namespaces.userAfterSetup == 9
                && s.warnings == ["Only the last --userns2 option will take effect"] }),
        (["--uid", "0", "--cap-add", "ALL", "--cap-drop", "CAP_SYS_ADMIN"], { @Sendable (s: SandboxSpec) in
            s.identity.capabilities == CapabilityNames.everything & ~(1 << 21) }),
        (["--cap-add", "net_raw"], { @Sendable (s: SandboxSpec) in s.identity.capabilities == 1 << 13 }),
        (["--cap-drop", "ALL"], { @Sendable (s: SandboxSpec) in s.identity.capabilities == 0 }),
        (["--unshare-user", "--disable-userns"], { @Sendable (s: SandboxSpec) in
            s.namespaces.userRequired && s.security.deniesUserNamespaces }),
        (["--unshare-user-try", "--assert-userns-disabled"], { @Sendable (s: SandboxSpec) in
            !s.namespaces.userRequired && s.security.assertsUserNamespacesDisabled }),
        (["--seccomp", "3", "--seccomp", "4"], { @Sendable (s: SandboxSpec) in
            s.security.callerPrograms == [CallerSeccompProgram(descriptor: 4)] }),
        (["--add-seccomp-fd", "3", "--add-seccomp-fd", "4"], { @Sendable (s: SandboxSpec) in
            s.security.callerPrograms.map(\.descriptor) == [3, 4] }),
        (["--overlay-src", "/l1", "--overlay-src", "l2", "--overlay", "/u", "/w", "/o"], { @Sendable (s: SandboxSpec) in
            s.operations == [.overlay(OverlayMount(layers: [HostPath("/l1"), HostPath("l2")],
                                                   changes: .kept(upper: HostPath("/u"), work: HostPath("/w")), destination: g("/o")))] }),
        (["--overlay-src", "/l1", "--tmp-overlay", "/o", "--overlay-src", "/l2", "--overlay-src", "/l3", "--ro-overlay", "/p"],
         { @Sendable (s: SandboxSpec) in
            s.operations == [.overlay(OverlayMount(layers: [HostPath("/l1")], changes: .discarded, destination: g("/o"))),
                             .overlay(OverlayMount(layers: [HostPath("/l2"), HostPath("/l3")], changes: .refused, destination: g("/p")))] }),
        (["--perms", "01777", "--tmpfs", "/t"], { @Sendable (s: SandboxSpec) in s.operations == [.tmpfs(dest: g("/t"), sizeBytes: nil, mode: 0o1777)] }),
        (["--chdir", "/a", "--chdir", "/b"], { @Sendable (s: SandboxSpec) in
            s.process.chdir == g("/b") && s.warnings == ["Only the last --chdir option will take effect"] }),
        (["--chdir", "/a"], { @Sendable (s: SandboxSpec) in s.warnings.isEmpty }),
        // Without SELinux (the test's HostFacts), labels mean nothing: accepted, nothing changes.
        (["--exec-label", "system_u:system_r:x:s0", "--file-label", "y"], { @Sendable (s: SandboxSpec) in s.operations.isEmpty }),
    ] as [([String], @Sendable (SandboxSpec) -> Bool)])
    func option(args: [String], check: @Sendable (SandboxSpec) -> Bool) throws {
        let s = try spec(args + ["true"])
        #expect(check(s), "\(args) gave \(s)")
    }

    @Test func argumentsAreNulSeparated() {
        #expect(BwrapCommandLine.nulSeparated(Array("a\0b c\0".utf8)) == ["a", "b c"])
        #expect(BwrapCommandLine.nulSeparated(Array("a\0\0b".utf8)) == ["a", "", "b"])
        #expect(BwrapCommandLine.nulSeparated([]) == [])
    }

    @Test(arguments: [
        (["true"], nil),
        ([], "No command specified"),
        (["--ro-bind", "/"], "--ro-bind takes two arguments: SRC DEST"),
        (["--frob", "true"], "Unknown option --frob"),
        (["-x", "true"], "Unknown option -x"),
        (["--info-fd", "x", "true"], "Invalid fd: x"),
        (["--seccomp", "0a", "true"], "Invalid fd: 0a"),
        (["--add-seccomp-fd", "-1", "true"], "Invalid fd: -1"),
        (["--add-seccomp-fd", "3", "--seccomp", "4", "true"], "--seccomp cannot be combined with --add-seccomp-fd"),
        (["--seccomp", "4", "--add-seccomp-fd", "3", "true"], "--add-seccomp-fd cannot be combined with --seccomp"),
        (["--bind-fd", "8", "/b", "true"], "--bind-fd 8: not an open descriptor of a file or directory"),
        (["--args", "4", "true"], "--args 4: Bad file descriptor"),
        (["--args", "5", "true"], "--args: nested more than 16 deep"),
        (["--share-net", "true"], "--share-net must be used with --unshare-all"),
        (["--size", "10", "--dir", "/d", "true"], "--size is only supported for --tmpfs, not --dir"),
        (["--perms", "0700", "--bind", "/a", "/b", "true"], "--perms does not apply to --bind (only to --tmpfs, --dir, --file, --bind-data, --ro-bind-data)"),
        (["--perms", "0700", "true"], "--perms must be followed by an option it applies to (--tmpfs, --dir, --file...)"),
        (["--hostname", "h", "true"], "--hostname needs --unshare-uts (or --unshare-all)"),
        (["--mqueue", "/m", "true"], "--mqueue needs --unshare-ipc (or --unshare-all)"),
        (["--cap-add", "FOO", "true"], "FOO is not a valid capability"),
        (["--as-pid-1", "true"], "Specifying --as-pid-1 needs --unshare-pid"),
        (["--unshare-all", "--userns", "3", "true"], "--userns not compatible --unshare-user-try"),
        (["--unshare-user-try", "--disable-userns", "true"], "--disable-userns requires --unshare-user"),
        (["--userns-block-fd", "3", "--info-fd", "4", "true"], "--userns-block-fd requires --unshare-user"),
        (["--unshare-user", "--userns-block-fd", "3", "true"], "--userns-block-fd requires --info-fd"),
        (["--unshare-user", "--disable-userns", "--info-fd", "4", "--userns-block-fd", "3", "true"], "--disable-userns is not compatible with  --userns-block-fd"),
        (["--overlay", "/u", "/w", "/o", "true"], "--overlay requires at least one --overlay-src"),
        (["--tmp-overlay", "/o", "true"], "--tmp-overlay requires at least one --overlay-src"),
        (["--overlay-src", "/l", "--ro-overlay", "/o", "true"], "--ro-overlay requires at least two --overlay-src"),
        (["--overlay-src", "/l", "true"], BwrapCommandLine.layersLeftOver.message),
        (["--overlay-src", "/l", "--chdir", "/", "--tmp-overlay", "/o", "true"], BwrapCommandLine.layersLeftOver.message),
        (["--size", "9223372036854775808", "--tmpfs", "/t", "true"], "--size: '9223372036854775808' is too large"),
        (["--perms", "+755", "--dir", "/d", "true"], "--perms: '+755' is not an octal mode such as 0755"),
    ] as [([String], String?)])
    func errors(args: [String], message: String?) {
        do {
            _ = try parse(args)
            #expect(message == nil, "\(args) should fail with \(message ?? "")")
        } catch {
            #expect(error.message == message, "\(args)")
        }
    }

    @Test func labelsAreRefusedWhereSELinuxIsOn() {
        var selinux = host
        selinux.selinuxEnabled = { true }
        for option in ["--exec-label", "--file-label"] {
            #expect(throws: UsageError("\(option): SELinux is enabled here, and Burrow does not set SELinux labels")) {
                try BwrapCommandLine.parse([option, "x", "true"], selinux)
            }
        }
    }

    @Test func helpNamesTheBinaryAsInvoked() throws {
        guard case .text(let help) = try parse(["--ro-bind", "/", "/", "--help"]) else {
            Issue.record("--help gives text")
            return
        }
        #expect(help.hasPrefix("usage: /usr/bin/bwrap [OPTIONS...] [--] COMMAND [ARGS...]\n"))
        for name in BwrapCommandLine.bubblewrapOptions { #expect(help.contains(name), "\(name) in help") }
        #expect(try parse(["--version"]) == .version)
        #expect(BwrapCommandLine.version.hasPrefix("bubblewrap 0.11.1"))
    }

    @Test func theNameBwrapPicksThisFrontEnd() {
        #expect(FrontEnds.named("/usr/local/bin/bwrap").name == "bwrap")
        #expect(FrontEnds.named("bwrap").failureStatus == 1)
        #expect(FrontEnds.compatibilityNames.contains("bwrap"))
    }

    /// Run again as /proc/self/exe (bubblewrap's tests nest it so), argv[0] names no front-end:
    /// the executable's own name does, where it is a hard link named bwrap; else burrow.
    @Test func runAsProcSelfExeTheExecutablesNamePicks() {
        #expect(FrontEnds.named("/proc/self/exe", executable: { "/tmp/suite/bwrap" }).name == "bwrap")
        #expect(FrontEnds.named("/proc/self/exe", executable: { "/usr/local/bin/burrow" }).name == "burrow")
        #expect(FrontEnds.named("/proc/self/exe", executable: { nil }).name == "burrow")
        // argv[0] first: a name it gives is never overridden.
        #expect(FrontEnds.named("proot", executable: { "/tmp/suite/bwrap" }).name == "proot")
    }

    @Test func statusReportsAreBubblewrapsJSON() {
        let ids: [(name: String, id: UInt64)] = [("mnt", 4026531841), ("pid", 4026531836)]
        #expect(StatusReports.infoObject(childPid: 42, namespaceIDs: ids, oneLine: false)
            == "{\n    \"child-pid\": 42,\n    \"mnt-namespace\": 4026531841,\n    \"pid-namespace\": 4026531836\n}\n")
        #expect(StatusReports.infoObject(childPid: 42, namespaceIDs: ids, oneLine: true)
            == "{ \"child-pid\": 42, \"mnt-namespace\": 4026531841, \"pid-namespace\": 4026531836 }\n")
        #expect(StatusReports.exitObject(3) == "{ \"exit-code\": 3 }\n")
    }
}
