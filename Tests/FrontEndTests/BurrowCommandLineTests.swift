import Foundation
import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

private func spec(_ args: [String]) throws -> SandboxSpec {
    guard case .run(let spec) = try BurrowCommandLine.parse(args) else {
        Issue.record("expected a run invocation for \(args)")
        return SandboxSpec(root: RootFS(path: HostPath("")))
    }
    return spec
}

struct BurrowCommandLineTests {
    @Test func fakeDatabaseAndFullKernelRelease() throws {
        let s = try spec(["--root", "--fake-db", "/var/db", "--kernel-release", "\\L\\n\\1.0\\v\\m\\d\\0\\", "/srv/root"])
        #expect(s.identity.fakeDatabase == HostPath("/var/db") && s.identity.uid == 0)
        #expect(s.emulation.uname?.fields == ["L", "n", "1.0", "v", "m", "d"])
        #expect(throws: UsageError.self) { try spec(["--kernel-release", "\\L\\n\\", "/srv/root"]) }
        #expect(throws: UsageError.self) { try spec(["--fake-db", "", "/srv/root"]) }
    }

    /// Found by scripts/fuzz: "/" and a combining mark after it are one Character; paths are
    /// split at "/" bytes, as the kernel splits them.
    @Test func pathsAreSplitAtSlashBytes() throws {
        let s = try spec(["--tmpfs", "/a/\u{301}b", "--dir", "/\u{301}x", "root"])
        #expect(s.operations == [.tmpfs(dest: GuestPath(components: ["a", "\u{301}b"]), sizeBytes: nil, mode: nil),
                                 .dir(dest: GuestPath(components: ["\u{301}x"]), mode: nil)])
    }

    /// `burrow --bind /etc ROOTFS id`: ROOTFS went to --bind as its DEST and `id` became
    /// the rootfs; the spec keeps what the option took, for the message if the rootfs fails.
    @Test(arguments: [
        (["--bind", "/etc", "/srv/root", "id"], OptionArguments(option: "--bind", metavars: ["SRC", "DEST"], values: ["/etc", "/srv/root"])),
        (["--tmpfs", "/tmp", "/srv/root"], OptionArguments(option: "--tmpfs", metavars: ["DEST"], values: ["/tmp"])),
        (["--bind", "/a", "/b", "--unshare-pid", "/srv/root"], nil),
        (["/srv/root", "--bind", "/a", "/b"], nil),
    ] as [([String], OptionArguments?)])
    func theOptionBeforeTheRootfs(_ args: [String], _ taken: OptionArguments?) throws {
        #expect(try spec(args).root.takenAfter == taken)
    }

    @Test func missingRootfsSaysWhatTheOptionBeforeTook() {
        #expect(throws: UsageError("missing ROOTFS: the directory that becomes / (--bind takes SRC DEST: here SRC=/etc DEST=/srv/root)")) {
            try BurrowCommandLine.parse(["--bind", "/etc", "/srv/root"])
        }
    }

    /// Over PATH_MAX or NAME_MAX: refused while parsing, the option named, on every engine alike.
    @Test(arguments: [
        (["--tmpfs", "/tmp/" + String(repeating: "x", count: 5000), "/r"], "--tmpfs /tmp/"),
        (["--bind", "/" + String(repeating: "s", count: 256), "/d", "/r"], "--bind /sss"),
        (["--ro-bind", "/s", "/" + String(repeating: "d", count: 256), "/r"], "--ro-bind /ddd"),
        (["--dir", "/" + String(repeating: "d", count: 256), "/r"], "--dir /ddd"),
        (["--symlink", "t", "/" + String(repeating: "d", count: 256), "/r"], "--symlink /ddd"),
        (["--chdir", "/" + String(repeating: "d", count: 256), "/r"], "--chdir /ddd"),
        (["--pidfile", "/" + String(repeating: "p", count: 256), "/r"], "--pidfile /ppp"),
        (["--root-overlay", "/" + String(repeating: "o", count: 256), "/r"], "--root-overlay /ooo"),
        (["--fake-db", "/" + String(repeating: "f", count: 256), "/r"], "--fake-db /fff"),
        (["/" + String(repeating: "r", count: 256)], "ROOTFS /rrr"),
    ])
    func pathLimitsNameTheOption(_ args: [String], _ prefix: String) {
        #expect {
            try BurrowCommandLine.parse(args)
        } throws: { error in
            guard let message = (error as? UsageError)?.message else { return false }
            return message.hasPrefix(prefix) && message.hasSuffix(": File name too long")
        }
    }

    @Test func minimal() throws {
        let s = try spec(["/srv/root"])
        #expect(s.root.path == HostPath("/srv/root"))
        #expect(s.process.argv == ["/bin/sh"])
        #expect(s.operations.isEmpty)
        #expect(s.namespaces == Namespaces())
        #expect(s.engine == .auto)
    }

    @Test func filesystemOperationsKeepTheirOrder() throws {
        let s = try spec([
            "--tmpfs", "/tmp", "--bind", "/a", "/tmp/a", "--ro-bind", "b", "/b", "--dev-bind", "/dev/null", "/n",
            "--bind-try", "/x", "/x", "--ro-bind-try", "/y", "/y", "--dev-bind-try", "/z", "/z",
            "--proc", "/proc", "--dev", "/dev", "--dir", "/d", "--symlink", "usr/bin", "/bin", "--remount-ro", "/b",
            "root", "echo", "hi",
        ])
        #expect(s.operations == [
            .tmpfs(dest: g("/tmp"), sizeBytes: nil, mode: nil),
            .bind(BindMount(source: HostPath("/a"), destination: g("/tmp/a"))),
            .bind(BindMount(source: HostPath("b"), destination: g("/b"), readOnly: true)),
            .bind(BindMount(source: HostPath("/dev/null"), destination: g("/n"), allowDevices: true)),
            .bind(BindMount(source: HostPath("/x"), destination: g("/x"), optional: true)),
            .bind(BindMount(source: HostPath("/y"), destination: g("/y"), readOnly: true, optional: true)),
            .bind(BindMount(source: HostPath("/z"), destination: g("/z"), allowDevices: true, optional: true)),
            .proc(dest: g("/proc")),
            .dev(dest: g("/dev")),
            .dir(dest: g("/d"), mode: nil),
            .symlink(target: "usr/bin", dest: g("/bin")),
            .remountReadOnly(dest: g("/b")),
        ])
        #expect(s.process.argv == ["echo", "hi"])
    }

    @Test(arguments: [
        (["--size", "1M", "--tmpfs", "/t"], SetupOp.tmpfs(dest: g("/t"), sizeBytes: 1 << 20, mode: nil)),
        (["--perms", "1777", "--tmpfs", "/t"], .tmpfs(dest: g("/t"), sizeBytes: nil, mode: 0o1777)),
        (["--perms", "0700", "--size", "512k", "--tmpfs", "/t"], .tmpfs(dest: g("/t"), sizeBytes: 512 << 10, mode: 0o700)),
        (["--perms", "0750", "--dir", "/d"], .dir(dest: g("/d"), mode: 0o750)),
        (["--size", "2G", "--tmpfs", "/t/../u"], .tmpfs(dest: g("/u"), sizeBytes: 2 << 30, mode: nil)),
    ])
    func modifiersApplyToTheNextOperation(args: [String], expected: SetupOp) throws {
        let s = try spec(args + ["root"])
        #expect(s.operations == [expected])
    }

    @Test func modifiersDoNotLeak() throws {
        let s = try spec(["--perms", "0700", "--tmpfs", "/a", "--tmpfs", "/b", "root"])
        #expect(s.operations == [.tmpfs(dest: g("/a"), sizeBytes: nil, mode: 0o700), .tmpfs(dest: g("/b"), sizeBytes: nil, mode: nil)])
    }

    @Test func namespacesIdentityProcess() throws {
        let s = try spec([
            "--unshare-all", "--share-net", "--hostname", "box", "--uid", "5", "--gid", "6",
            "--chdir", "/work", "--setenv", "A", "1", "--unsetenv", "B", "--clearenv", "--setenv", "C", "x=y",
            "--pidfile", "/run/p", "--die-with-parent", "--new-session", "--keep-children", "-v", "--engine", "namespace",
            "root", "--", "-c",
        ])
        var ns = Namespaces.all
        ns.net = false
        #expect(s.namespaces == ns)
        #expect(s.process.hostname == "box")
        #expect(s.identity.uid == 5 && s.identity.gid == 6)
        #expect(s.process.chdir == g("/work"))
        #expect(s.process.environment == [.set("A", "1"), .unset("B"), .clear, .set("C", "x=y")])
        #expect(s.process.pidFile == HostPath("/run/p"))
        #expect(s.process.dieWithParent && s.process.newSession && s.process.keepChildren)
        #expect(s.verbose)
        #expect(s.engine == .namespace)
        #expect(s.process.argv == ["-c"])
    }

    @Test(arguments: [
        (["--unshare-net", "--unshare-all", "--share-net"], false),
        (["--unshare-all", "--share-net", "--unshare-net"], true),
        (["--share-net", "--unshare-all"], true),
        (["--unshare-all"], true),
    ])
    func shareNetIsOrderSensitive(args: [String], net: Bool) throws {
        #expect(try spec(args + ["root"]).namespaces.net == net)
    }

    @Test func rootAndMaps() throws {
        let s = try spec(["--root", "--uid-map", "0:1000:1", "--uid-map", "1:100000:65536", "--gid-map", "0:1000:1", "root"])
        #expect(s.identity.uid == 0 && s.identity.gid == 0)
        #expect(s.identity.uidMap == [IDMap(inside: 0, outside: 1000, count: 1), IDMap(inside: 1, outside: 100000, count: 65536)])
        #expect(s.identity.gidMap == [IDMap(inside: 0, outside: 1000, count: 1)])
        #expect(try spec(["-0", "root"]).identity.uid == 0)
    }

    @Test(arguments: [
        (["--", "-weird-root"], "-weird-root", ["/bin/sh"]),
        (["--", "root", "--", "ls"], "root", ["ls"]),
        (["root", "--", "--help"], "root", ["--help"]),
        (["root", "--version"], "root", ["--version"]),
        (["root", "-"], "root", ["-"]),
    ])
    func optionsStopAtRootfs(args: [String], root: String, argv: [String]) throws {
        let s = try spec(args)
        #expect(s.root.path == HostPath(root))
        #expect(s.process.argv == argv)
    }

    @Test(arguments: [
        (["--help"], Invocation.help), (["-h"], .help), (["--version"], .version),
        (["--bind", "/a", "/b", "--help", "--bogus"], .help),
    ])
    func stops(args: [String], expected: Invocation) throws {
        #expect(try BurrowCommandLine.parse(args) == expected)
    }

    /// --bind-fd by the path the descriptor has (checked again by the engine); --cap-add and
    /// --cap-drop from none, in order.
    @Test func descriptorBindsAndCapabilities() throws {
        let facts = HostFacts(descriptorPath: { $0 == 7 ? "/srv/data" : nil })
        guard case .run(let s) = try BurrowCommandLine.parse(["--ro-bind-fd", "7", "/d", "--cap-add", "ALL", "--cap-drop", "sys_admin",
                                                              "--cap-drop", "ALL", "--cap-add", "CAP_NET_RAW", "root"], facts) else {
            Issue.record("expected a run")
            return
        }
        guard case .bind(let b) = s.operations.first else { Issue.record("no bind: \(s.operations)"); return }
        #expect(b.source == HostPath("/srv/data") && b.readOnly && b.sourceDescriptor == 7)
        #expect(s.identity.capabilities == 1 << 13)
    }

    @Test(arguments: [
        ([], "missing ROOTFS"),
        ([""], "ROOTFS is an empty string"),
        (["--"], "missing ROOTFS after '--'"),
        (["--frobnicate", "root"], "unknown option '--frobnicate'"),
        (["--tmp-overlay", "/usr", "root"], "--tmp-overlay needs at least one --overlay-src before it"),
        (["--overlay-src", "/a", "--ro-overlay", "/usr", "root"], "--ro-overlay needs at least two --overlay-src before it"),
        (["--overlay-src", "/a", "root"], "--overlay-src must come right before another --overlay-src or the --overlay"),
        (["--overlay-src", "/a", "--proc", "/proc", "--tmp-overlay", "/usr", "root"], "--overlay-src must come right before"),
        (["--cap-add", "CAP_FOO", "root"], "CAP_FOO is not a valid capability"),
        (["--bind-fd", "9", "/b", "root"], "--bind-fd 9: not an open descriptor of a file or directory"),
        (["--args", "3", "root"], "through descriptors is not supported"),
        (["--bind", "/tmp"], "--bind needs 2 arguments: SRC DEST"),
        (["--tmpfs"], "--tmpfs needs an argument: DEST"),
        (["--bind", "/tmp", "rel", "root"], "--bind: destination 'rel' is not an absolute path"),
        (["--tmpfs", "/../x", "root"], "climbs above the new root"),
        (["--dir", "", "root"], "empty path"),
        (["--hostname", "x", "root"], "--hostname needs --unshare-uts"),
        (["--uid", "-1", "root"], "--uid: '-1' is not a valid id"),
        (["--uid", "4294967295", "root"], "not a valid id"),
        (["--perms", "999", "--dir", "/d", "root"], "--perms: '999' is not an octal mode"),
        (["--size", "0", "--tmpfs", "/t", "root"], "--size: '0' is not a size"),
        (["--size", "12Q", "--tmpfs", "/t", "root"], "is not a size"),
        (["--size", "99999999999G", "--tmpfs", "/t", "root"], "too large"),
        (["--size", "1M", "--dir", "/d", "root"], "--size applies to --tmpfs only"),
        (["--perms", "0700", "root"], "must come right before"),
        (["--uid-map", "0:1000", "root"], "is not INSIDE:HOST:COUNT"),
        (["--engine", "bogus", "root"], "unknown engine 'bogus'"),
        (["--setenv", "A=B", "c", "root"], "'A=B' is not a variable name"),
        (["--mqueue", "/m", "root"], "--mqueue needs --unshare-ipc"),
        (["--ro-root", "--root-tmp-overlay", "root"], "contradict"),
        (["--root-overlay", "", "root"], "--root-overlay needs a directory"),
        (["--pidfile", "", "root"], "--pidfile needs a file name"),
        (["--chdir", "work", "root"], "not an absolute path"),
        // Found by scripts/fuzz: a control character in an argument reached the message raw
        // (main prints it on one line; a newline or ESC could forge lines or drive the terminal).
        (["-\u{1A}+"], "unknown option '-\\u{1A}+'"),
        (["--frob\nnicate", "root"], "unknown option '--frob\\nnicate'"),
        (["--bind", "/a", "/x\u{1B}[2J", "--bind", "/b", "rel\n", "root"], "destination 'rel\\n' is not an absolute path"),
        // U+0600 joins the next character: by Character "\u{600}/" was no separator, so
        // ".." popped one component where the kernel sees two.
        (["--bind", "/x", "/a\u{600}/../../etc", "root"], "climbs above the new root"),
        (["--setenv", "A\u{600}=", "v", "root"], "is not a variable name"),
    ])
    func rejects(args: [String], fragment: String) {
        #expect {
            try BurrowCommandLine.parse(args)
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            if !e.message.contains(fragment) { Issue.record("message '\(e.message)' lacks '\(fragment)'") }
            return true
        }
    }

    @Test func helpListsEveryOption() {
        let help = BurrowCommandLine.help
        for option in BurrowCommandLine.options {
            for name in option.names { #expect(help.contains(name), "help lacks \(name)") }
        }
        #expect(help.contains("Usage: burrow [OPTIONS] ROOTFS [--] [COMMAND [ARG...]]"))
    }
}

/// The man page and the README are documentation of the same table that parses.
struct DocumentationTests {
    static let root: String = {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)  // Tests/FrontEndTests/<file>
        return "/" + parts.joined(separator: "/")
    }()

    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: root + "/" + path, encoding: .utf8)
    }

    @Test func prootManPageDocumentsEveryOption() throws {
        let man = try Self.read("docs/proot.1").replacingOccurrences(of: "\\-", with: "-")
        for option in PRootCommandLine.table {
            for name in option.names { #expect(man.contains(name), "docs/proot.1 lacks \(name)") }
        }
        #expect(man.contains("PRoot \(PRootCommandLine.compatibleWith)"), "docs/proot.1 names the PRoot release the command line follows")
    }

    @Test func manPageDocumentsEveryOption() throws {
        // In roff, "-" in option names is written "\-".
        let man = try Self.read("docs/burrow.1").replacingOccurrences(of: "\\-", with: "-")
        for option in BurrowCommandLine.options {
            for name in option.names { #expect(man.contains(name), "docs/burrow.1 lacks \(name)") }
        }
    }
}

/// What `--help` prints fits an 80-column terminal, under every name.
struct HelpWidthTests {
    /// Columns as a terminal shows them: a tab moves to the next multiple of 8.
    static func columns(_ line: Substring) -> Int {
        line.reduce(0) { at, c in c == "\t" ? (at / 8 + 1) * 8 : at + 1 }
    }

    @Test(arguments: FrontEnds.all.map(\.name))
    func everyLineFitsEightyColumns(_ name: String) {
        let help = FrontEnds.named(name).help()
        let wide = help.split(separator: "\n").filter { Self.columns($0) > HelpText.width }
        #expect(wide.isEmpty, "\(name) --help has lines wider than 80 columns:\n\(wide.joined(separator: "\n"))")
    }

    @Test(arguments: [
        ("a b c", 80, ["a b c"]),
        ("one two three", 7, ["one two", "three"]),
        ("a verylongword b", 4, ["a", "verylongword", "b"]),
        ("", 10, [""]),
    ])
    func wrap(_ text: String, _ columns: Int, _ expected: [String]) {
        #expect(HelpText.wrap(text, columns: columns) == expected)
    }
}

struct LeftoversOptionTests {
    @Test("What becomes of leftovers: killed by default, --keep-children waits, --leave-running returns")
    func leftovers() throws {
        func spec(_ args: [String]) throws -> SandboxSpec {
            guard case .run(let s) = try BurrowCommandLine.parse(args + ["/r"]) else { throw UsageError("not a run") }
            return s
        }
        #expect(try spec([]).process.leftovers == .killed)
        #expect(try spec(["--keep-children"]).process.leftovers == .waitedFor)
        #expect(try spec(["--leave-running"]).process.leftovers == .leftRunning)
    }
}
