import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

// proot(1)'s command line, option by option and alias by alias, as tables of
// (arguments, expected spec or error). The caller's world is made up: cwd /home/u/src,
// HOME=/home/u.

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

private let host = HostFacts(environment: ["HOME": "/home/u", "PATH": "/usr/bin:/bin"], workingDirectory: "/home/u/src")

private func parse(_ args: [String], host facts: HostFacts = host) throws -> Invocation {
    try PRootCommandLine.parse(args, host: facts)
}

private func spec(_ args: [String], host facts: HostFacts = host) throws -> SandboxSpec {
    guard case .run(let spec) = try parse(args, host: facts) else {
        Issue.record("expected a run invocation for \(args)")
        return SandboxSpec(root: RootFS(path: HostPath("")))
    }
    return spec
}

private func binds(_ s: SandboxSpec) -> [BindMount] {
    s.operations.compactMap { if case .bind(let b) = $0 { return b } else { return nil } }
}

/// A bind as proot's -b makes it: devices usable, a missing host path skipped.
private func pb(_ source: String, _ dest: String? = nil, follow: Bool = true, glue: BindGlue = .whereNotCreatable) -> BindMount {
    var b = BindMount(source: HostPath(source), destination: g(dest ?? source), allowDevices: true, optional: true,
                      followDestination: follow)
    b.glue = glue
    return b
}

private func glued(_ b: BindMount) -> BindMount {
    var b = b
    b.glue = .whereNotCreatable
    return b
}

struct PRootCommandLineTests {
    // MARK: defaults

    @Test func defaults() throws {
        let s = try spec([])
        #expect(s.root.path == HostPath("/"))
        #expect(s.process.argv == ["/bin/sh"])
        #expect(s.operations.isEmpty)
        #expect(s.identity == Identity())
        #expect(s.verbose == false)
        #expect(s.emulation == Emulation())
        // The caller's cwd, or / when the guest lacks it.
        #expect(s.process.chdir == g("/home/u/src"))
        #expect(s.process.chdirIsOptional)
        // PRoot waits for every guest process and returns the last one's status.
        #expect(s.process.status == .lastToExit)
        #expect(s.process.leftovers == .waitedFor)
        #expect(s.namespaces == Namespaces())
        #expect(s.engine == .auto)
    }

    @Test func noWorkingDirectoryKnownMeansRoot() throws {
        let s = try spec(["-r", "/srv/r", "true"], host: HostFacts(environment: [:], workingDirectory: nil))
        #expect(s.process.chdir == nil)
    }

    // MARK: rootfs

    @Test(arguments: [
        (["-r", "/srv/r"], "/srv/r"),
        (["--rootfs=/srv/r"], "/srv/r"),
        (["--rootfs", "/srv/r"], "/srv/r"),
        (["-r", "rel/r"], "/home/u/src/rel/r"),
        (["--rootfs=../r"], "/home/u/src/../r"),
        (["-r", "/a", "-r", "/b"], "/b"),
    ])
    func rootfs(args: [String], root: String) throws {
        let s = try spec(args + ["true"])
        #expect(s.root.path == HostPath(root))
        #expect(s.operations.isEmpty)
        #expect(s.process.argv == ["true"])
    }

    // MARK: binds

    @Test(arguments: [
        (["-b", "/proc"], pb("/proc")),
        (["--bind=/proc"], pb("/proc")),
        (["-m", "/proc"], pb("/proc")),
        (["--mount=/proc"], pb("/proc")),
        (["--bind", "/proc"], pb("/proc")),
        (["-b", "/dev/"], pb("/dev")),
        (["-b", "/tmp/alternate_opt:/opt"], pb("/tmp/alternate_opt", "/opt")),
        (["-b", "/bin/bash:/bin/sh"], pb("/bin/bash", "/bin/sh")),
        (["-b", "/bin/bash:/bin/sh!"], pb("/bin/bash", "/bin/sh", follow: false)),
        (["--mount=/bin/bash:/bin/sh!"], pb("/bin/bash", "/bin/sh", follow: false)),
        (["-b", "/etc/hosts!"], pb("/etc/hosts", follow: false)),
        (["-b", "alternate_hosts:/etc/hosts"], pb("/home/u/src/alternate_hosts", "/etc/hosts")),
        (["-b", "data"], pb("/home/u/src/data", "/home/u/src/data")),
        (["-b", "./data/"], pb("/home/u/src/./data", "/home/u/src/data")),
        // A ':' not followed by an absolute path is part of the host path.
        (["-b", "/srv/a:b"], pb("/srv/a:b")),
        (["-b", "/srv/a:b:/x"], pb("/srv/a:b", "/x")),
        (["-b", "/srv/x:/opt/../y"], pb("/srv/x", "/y")),
        // Found by scripts/fuzz: "/" and a combining mark are one Character, and this was
        // taken as relative to the working directory.
        (["-b", "/a:/\u{301}x"], glued(BindMount(source: HostPath("/a"), destination: GuestPath(components: ["\u{301}x"]),
                                                 allowDevices: true, optional: true))),
        (["-b", "/a\u{600}!"], pb("/a\u{600}", follow: false)),
        (["-b", "/\u{301}x"], glued(BindMount(source: HostPath("/\u{301}x"), destination: GuestPath(components: ["\u{301}x"]),
                                               allowDevices: true, optional: true))),
    ])
    func bind(args: [String], expected: BindMount) throws {
        let s = try spec(args + ["true"])
        #expect(binds(s) == [expected])
    }

    @Test func relativeHostPathAgainstRootCwd() throws {
        let s = try spec(["-b", "data"], host: HostFacts(environment: [:], workingDirectory: "/"))
        #expect(binds(s) == [pb("/data")])
    }

    @Test func relativeHostPathWithoutCwdIsAnError() {
        #expect(throws: UsageError.self) {
            try parse(["-b", "data"], host: HostFacts(environment: [:], workingDirectory: nil))
        }
    }

    @Test("The deepest bind wins whatever the order given (shallower ones are mounted first)")
    func deepestBindWins() throws {
        let s = try spec(["-b", "/h/deep:/opt/a/b", "-b", "/h/opt:/opt", "-b", "/h/a:/opt/a", "-b", "/h/other:/srv", "true"])
        #expect(binds(s) == [pb("/h/opt", "/opt"), pb("/h/other", "/srv"), pb("/h/a", "/opt/a"), pb("/h/deep", "/opt/a/b")])
    }

    @Test("At the same depth, the later bind wins (it is mounted last)")
    func sameDepthKeepsOrder() throws {
        let s = try spec(["-b", "/h/one:/x", "-b", "/h/two:/x", "true"])
        #expect(binds(s) == [pb("/h/one", "/x"), pb("/h/two", "/x")])
    }

    // MARK: working directory

    @Test(arguments: [
        (["-w", "/etc"], "/etc"),
        (["--pwd=/etc"], "/etc"),
        (["--cwd=/etc"], "/etc"),
        (["--cwd", "/etc"], "/etc"),
        (["-w", "/"], "/"),
        (["-w", "/a/../b/"], "/b"),
        // Relative: against the default working directory, the caller's (as PRoot does).
        (["-w", "sub"], "/home/u/src/sub"),
        (["-w", ".."], "/home/u"),
    ])
    func workingDirectory(args: [String], expected: String) throws {
        let s = try spec(args + ["true"])
        #expect(s.process.chdir == g(expected))
        // PRoot falls back to / when the guest lacks it (with a warning), for -w too.
        #expect(s.process.chdirIsOptional)
    }

    // MARK: verbosity, version, help

    @Test(arguments: [
        (["-v", "1"], true), (["--verbose=2"], true), (["-v", "0"], false), (["-v", "-1"], false), ([], false),
    ])
    func verbose(args: [String], verbose: Bool) throws {
        #expect(try spec(args + ["true"]).verbose == verbose)
    }

    @Test(arguments: [
        (["-V"], Invocation.version), (["--version"], .version), (["--about"], .version),
        (["-h"], .help), (["--help"], .help), (["--usage"], .help),
        // They stop the parse: what follows is not looked at.
        (["-r", "/srv/r", "-V", "--bogus"], .version),
        (["-h", "-r"], .help),
    ])
    func stops(args: [String], expected: Invocation) throws {
        #expect(try parse(args) == expected)
    }

    @Test func helpListsEveryOptionOfTheManual() {
        let help = PRootCommandLine.help
        for name in ["-r", "--rootfs=", "-b", "--bind=", "-m", "--mount=", "-q", "--qemu=", "-w", "--pwd=", "--cwd=",
                     "-v", "--verbose=", "-V", "--version", "--about", "-h", "--help", "--usage", "-k",
                     "--kernel-release=", "-0", "--root-id", "-i", "--change-id=", "-R", "-S"] {
            #expect(help.contains(name), "help lacks \(name)")
        }
        #expect(help.hasPrefix("Usage: proot [option] ... [command]"))
        #expect(PRootCommandLine.version.contains("proot 5.1.0"))
    }

    // MARK: -k (parsed only: the engine side is not this test's)

    @Test(arguments: [
        (["-k", "3.2.1"], "3.2.1"), (["--kernel-release=5.10.0-foo"], "5.10.0-foo"),
        // Longer than uname's 64 bytes: cut, as PRoot cuts it.
        (["-k", String(repeating: "9", count: 70)], String(repeating: "9", count: 64)),
    ])
    func kernelRelease(args: [String], release: String) throws {
        #expect(try spec(args + ["true"]).emulation.uname?.release == release)
    }

    @Test("The full form: every field, as PRoot parses it")
    func fullKernelRelease() throws {
        let s = try spec(["-k", "\\Linux\\box\\3.2.0\\#1\\armv7l\\dom\\1f\\", "true"])
        #expect(s.emulation.uname?.fields == ["Linux", "box", "3.2.0", "#1", "armv7l", "dom"])
        #expect(s.emulation.uname?.hwcap == 0x1f)
    }

    @Test("BURROW_FAKE_DB names where faked owners are kept (with -0 or -i only), absolute")
    func fakeDatabase() throws {
        let facts = HostFacts(environment: ["BURROW_FAKE_DB": "db/owners"], workingDirectory: "/home/u")
        #expect(try spec(["-0", "true"], host: facts).identity.fakeDatabase == HostPath("/home/u/db/owners"))
        #expect(try spec(["true"], host: facts).identity.fakeDatabase == nil)
    }

    @Test(arguments: [["-k", ""], ["-k", "\\a\\b\\c\\"], ["-k", "\\a\\b\\c\\d\\e\\f\\g\\"]])
    func badKernelRelease(args: [String]) {
        #expect(throws: UsageError.self) { try parse(args + ["true"]) }
    }

    // MARK: identity

    @Test(arguments: [
        (["-0"], UInt32?(0), UInt32?(0)),
        (["--root-id"], 0, 0),
        (["-i", "5:6"], 5, 6),
        (["--change-id=1000:100"], 1000, 100),
        (["-i", "0:0"], 0, 0),
        // PRoot takes a lone uid and keeps the caller's gid.
        (["-i", "5"], 5, nil),
        (["-0", "-i", "5:6"], 5, 6),
        (["-i", "5:6", "-0"], 0, 0),
    ])
    func identity(args: [String], uid: UInt32?, gid: UInt32?) throws {
        let s = try spec(args + ["true"])
        #expect(s.identity.uid == uid)
        #expect(s.identity.gid == gid)
    }

    @Test(arguments: [["-i", "a:b"], ["-i", "5:6:7"], ["-i", ":6"], ["-i", "5:"], ["-i", ""], ["-i", "-1:0"],
                      ["-i", "4294967295:0"]])
    func badIdentity(args: [String]) {
        #expect(throws: UsageError.self) { try parse(args + ["true"]) }
    }

    // MARK: -R and -S: exactly the manual's lists, plus $HOME and the rootfs

    static let manualR = [
        "/etc/host.conf", "/etc/hosts", "/etc/hosts.equiv", "/etc/mtab", "/etc/netgroup", "/etc/networks",
        "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/resolv.conf", "/etc/localtime", "/dev", "/sys",
        "/proc", "/tmp", "/run", "/var/run/dbus/system_bus_socket",
    ]
    static let manualS = [
        "/etc/host.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf", "/dev", "/sys", "/proc", "/tmp",
        "/run/shm",
    ]

    @Test(arguments: [
        ("-R", manualR, UInt32?.none),
        ("-S", manualS, UInt32?(0)),
    ])
    func alias(option: String, list: [String], uid: UInt32?) throws {
        let s = try spec([option, "/srv/guest", "true"])
        #expect(s.root.path == HostPath("/srv/guest"))
        let expected = (list + ["/home/u", "/srv/guest"]).map { path in
            var b = pb(path)
            b.optionalDestination = true
            return b
        }
        #expect(binds(s).count == expected.count)
        for b in expected { #expect(binds(s).contains(b), "\(option) should bind \(b.source)") }
        #expect(s.identity.uid == uid && s.identity.gid == uid)
        // Deepest last.
        let depths = binds(s).map(\.destination.components.count)
        #expect(depths == depths.sorted())
    }

    @Test("-b X:/ is the rootfs, as -r X: the later one wins")
    func bindOfRoot() throws {
        #expect(try spec(["-r", "/srv/a", "-b", "/etc:/", "true"]).root.path == HostPath("/etc"))
        let s = try spec(["-b", "/etc:/", "-r", "/srv/a", "-b", "/x:/y", "true"])
        #expect(s.root.path == HostPath("/srv/a") && binds(s) == [pb("/x", "/y")])
    }

    @Test("What only the ptrace engine does as PRoot: -0/-i, -k, -q, a renamed bind in another rootfs")
    func ptraceOnly() throws {
        #expect(try spec(["-r", "/srv/a", "-b", "/x", "-w", "/", "true"]).ptraceOnly.isEmpty)
        #expect(try spec(["-b", "/x:/y", "true"]).ptraceOnly.isEmpty)  // the host as the rootfs: links are shown as they are
        #expect(try spec(["-r", "/srv/a", "-b", "/x:/y", "true"]).ptraceOnly.count == 1)
        for options in [["-0"], ["-i", "1:2"], ["-k", "1.2.3"], ["-S", "/srv/a"]] {
            #expect(try spec(options + ["true"]).ptraceOnly.count == 1, "\(options)")
        }
    }

    @Test("A missing bind destination is PRoot's glue; never made in the rootfs with PROOT_DONT_POLLUTE_ROOTFS")
    func glue() throws {
        #expect(binds(try spec(["-b", "/a:/b", "true"])) == [pb("/a", "/b")])
        let clean = HostFacts(environment: ["PROOT_DONT_POLLUTE_ROOTFS": "1"], workingDirectory: "/")
        #expect(binds(try spec(["-b", "/a:/b", "true"], host: clean)) == [pb("/a", "/b", glue: .always)])
    }

    @Test func aliasWithRelativePathAndNoHome() throws {
        let s = try spec(["-R", "guest", "true"], host: HostFacts(environment: [:], workingDirectory: "/w"))
        #expect(s.root.path == HostPath("/w/guest"))
        #expect(binds(s).contains { $0.source == HostPath("/w/guest") && $0.destination == g("/w/guest") })
        #expect(binds(s).count == Self.manualR.count + 1)
    }

    @Test func aliasWithRootfsSlashDoesNotBindRoot() throws {
        let s = try spec(["-S", "/", "true"])
        #expect(!binds(s).contains { $0.destination.isRoot })
        #expect(binds(s).count == Self.manualS.count + 1)
    }

    // MARK: -q

    // PRoot's style: the words of -q stay QEMU's arguments (the namespace engine turns them
    // into QEMU_* variables itself, Qemu.binfmtEnvironment).
    @Test func qemuWithGdb() throws {
        let s = try spec(["-R", "/mnt/armslack", "-q", "qemu-arm -g 1234", "emacs"])
        var expected = QemuEmulation(command: ["qemu-arm", "-g", "1234"])
        expected.prootStyle = true
        #expect(s.emulation.qemu == expected)
        #expect(s.process.environment.isEmpty)
        #expect(binds(s).contains { $0.source == HostPath("/") && $0.destination == g("/host-rootfs") && !$0.readOnly })
        #expect(s.process.argv == ["emacs"])
    }

    @Test(arguments: [
        (["-q", "qemu-aarch64"], ["qemu-aarch64"]),
        (["--qemu=qemu-aarch64-static -strace"], ["qemu-aarch64-static", "-strace"]),
        (["-q", "/usr/bin/qemu-s390x  -cpu max\t-E A=1 -E B=2"], ["/usr/bin/qemu-s390x", "-cpu", "max", "-E", "A=1", "-E", "B=2"]),
        (["-q", "echo --"], ["echo", "--"]),  // any program, as PRoot takes it
    ])
    func qemu(args: [String], command: [String]) throws {
        let s = try spec(args + ["true"])
        #expect(s.emulation.qemu?.command == command && s.emulation.qemu?.prootStyle == true)
        #expect(s.emulation.qemu?.everythingForeign == false && s.process.environment.isEmpty)
        let forced = HostFacts(environment: ["PROOT_FORCE_FOREIGN_BINARY": "1"], workingDirectory: "/")
        #expect(try spec(args + ["true"], host: forced).emulation.qemu?.everythingForeign == true)
    }

    @Test("QEMU's binds too follow depth order: a deeper user bind is not covered by the host runtime")
    func qemuBindsSortedWithTheRest() throws {
        let s = try spec(["-b", "/h/x:/usr/lib/x86_64-linux-gnu/a/b", "-q", "qemu-aarch64", "true"])
        let depths = binds(s).map(\.destination.components.count)
        #expect(depths == depths.sorted())
        #expect(binds(s).last == pb("/h/x", "/usr/lib/x86_64-linux-gnu/a/b"))
    }

    @Test(arguments: [
        (["-q", ""], "the QEMU command is empty"),
        (["-q", "   "], "the QEMU command is empty"),
    ])
    func badQemu(args: [String], message: String) {
        #expect {
            try parse(args + ["true"])
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            return e.message.hasPrefix("-q") && e.message.contains(message)
        }
    }

    // MARK: the command

    @Test(arguments: [
        (["-r", "/r", "cat", "/etc/motd"], ["cat", "/etc/motd"]),
        (["-r", "/r", "sh", "-c", "-r"], ["sh", "-c", "-r"]),
        (["-r", "/r", "--", "-weird", "-b"], ["-weird", "-b"]),
        (["--", "ls"], ["ls"]),
        (["-0", "id", "-u"], ["id", "-u"]),
        // `-` alone is not an option.
        (["-", "x"], ["-", "x"]),
        (["-r", "/r", "--"], ["/bin/sh"]),
        (["-r", "/r"], ["/bin/sh"]),
    ])
    func command(args: [String], argv: [String]) throws {
        #expect(try spec(args).process.argv == argv)
    }

    // MARK: errors

    @Test(arguments: [
        (["--bogus"], "unknown option '--bogus'"),
        (["-x", "true"], "unknown option '-x'"),
        (["-r"], "option '-r' expects a value"),
        (["-b"], "option '-b' expects a value"),
        (["-w"], "option '-w' expects a value"),
        (["-q"], "option '-q' expects a value"),
        (["-i"], "option '-i' expects a value"),
        (["-R"], "option '-R' expects a value"),
        (["-v", "loud"], "-v: 'loud' is not an integer"),
        // PRoot's own words for an attached value.
        (["-r/srv/r", "true"], "option '-r' and its value must be separated by ' '"),
        (["-v1"], "option '-v' and its value must be separated by ' '"),
        (["-b/proc"], "option '-b' and its value must be separated by ' '"),
        (["-0x"], "unknown option '-0x'"),
        (["--root-id=1"], "option '--root-id' takes no value"),
        (["-r", ""], "-r: the path is empty"),
        (["-b", ""], "-b: the path is empty"),
    ])
    func errors(args: [String], message: String) {
        #expect {
            try parse(args)
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            return e.message.contains(message)
        }
    }

    @Test func frontEndTableAnswersToProot() {
        let fe = FrontEnds.named("/usr/local/bin/proot")
        #expect(fe.name == "proot")
        #expect(fe.failureStatus == 1)
        #expect(FrontEnds.compatibilityNames.contains("proot"))
    }
}
