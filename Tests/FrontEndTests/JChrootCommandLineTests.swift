import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

/// Files the fake reader knows; anything else is missing.
private let files: [String: String] = [
    "/etc/chroot.fstab": "proc /proc proc defaults 0 0\n/home /home none bind,rw 0 0\n",
    "other.fstab": "tmpfs /tmp tmpfs mode=1777\n",
    "bad.fstab": "proc /proc proc defaults 0 0\n\n# fine so far\nsys sys sysfs defaults 0 0\n",
    // Found by scripts/fuzz: a NUL byte in the file went into the mount data.
    "nul.fstab": "tmpfs /t tmpfs siz\0e=64m\n",
    "crlf.fstab": "proc /proc proc\r\ntmpfs /tmp tmpfs\r\n",
]
private let context = HostFacts(readFile: { path in
    files[path].map { .success($0) } ?? .failure(UsageError("No such file or directory"))
})

private func parse(_ args: [String]) throws -> Invocation { try JChrootCommandLine.parse(args, context) }

private func spec(_ args: [String]) throws -> SandboxSpec {
    guard case .run(let spec) = try parse(args) else {
        Issue.record("expected a run invocation for \(args)")
        return SandboxSpec(root: RootFS(path: HostPath("")))
    }
    return spec
}

struct JChrootCommandLineTests {
    @Test func minimal() throws {
        let s = try spec(["/srv/chroot", "id"])
        #expect(s.root.path == HostPath("/srv/chroot"))
        #expect(s.process.argv == ["id"])
        var ns = Namespaces()
        ns.pid = true
        ns.ipc = true
        #expect(s.namespaces == ns)  // new PID, mount and IPC namespaces, always
        #expect(s.operations.isEmpty)
        #expect(s.identity == Identity())
        #expect(!s.process.keepChildren)
    }

    @Test func noCommandRunsAShell() throws {
        #expect(try spec(["/srv/chroot"]).process.argv == ["/bin/sh"])
        #expect(try spec(["/srv/chroot", "--"]).process.argv == ["/bin/sh"])
    }

    /// Each option, short and long, and what it puts into the spec.
    @Test(arguments: [
        (["-U"], { @Sendable (s: SandboxSpec) in s.namespaces.pid && s.namespaces.ipc && !s.namespaces.net }),
        (["--new-user-ns"], { @Sendable (s: SandboxSpec) in !s.namespaces.net }),
        (["-N"], { @Sendable (s: SandboxSpec) in s.namespaces.net }),
        (["--new-network-ns"], { @Sendable (s: SandboxSpec) in s.namespaces.net }),
        (["-u", "daemon"], { @Sendable (s: SandboxSpec) in s.identity.userName == "daemon" && s.identity.uid == nil && s.identity.gid == nil }),
        (["--user", "1000"], { @Sendable (s: SandboxSpec) in s.identity.uid == 1000 && s.identity.userName == nil && s.identity.gid == nil }),
        (["-g", "staff"], { @Sendable (s: SandboxSpec) in s.identity.groupName == "staff" && s.identity.gid == nil }),
        (["--group", "50"], { @Sendable (s: SandboxSpec) in s.identity.gid == 50 && s.identity.groupName == nil }),
        (["-u", "0", "-u", "daemon"], { @Sendable (s: SandboxSpec) in s.identity.userName == "daemon" && s.identity.uid == nil }),
        (["-u", "daemon", "-g", "0"], { @Sendable (s: SandboxSpec) in s.identity.userName == "daemon" && s.identity.gid == 0 }),
        (["-n", "box"], { @Sendable (s: SandboxSpec) in s.process.hostname == "box" && s.namespaces.uts }),
        (["--hostname", "box"], { @Sendable (s: SandboxSpec) in s.process.hostname == "box" && s.namespaces.uts }),
        (["-p", "/run/j.pid"], { @Sendable (s: SandboxSpec) in s.process.pidFile == HostPath("/run/j.pid") }),
        (["--pidfile", "j.pid"], { @Sendable (s: SandboxSpec) in s.process.pidFile == HostPath("j.pid") }),
        (["-e", "A=1", "--env", "B=x=y", "-e", "C=", "-e", "D"], { @Sendable (s: SandboxSpec) in
            s.process.environment == [.set("A", "1"), .set("B", "x=y"), .set("C", ""), .unset("D")] }),
        // The first '=' byte splits, as putenv's: by Character "\u{600}=" was no '='.
        (["-e", "A\u{600}=B=C"], { @Sendable (s: SandboxSpec) in s.process.environment == [.set("A\u{600}", "B=C")] }),
        (["-f", "crlf.fstab"], { @Sendable (s: SandboxSpec) in
            s.operations == [.filesystem(FilesystemMount(type: "proc", source: "proc", destination: g("/proc"))),
                             .filesystem(FilesystemMount(type: "tmpfs", source: "tmpfs", destination: g("/tmp")))] }),
        (["-c", "/tmp"], { @Sendable (s: SandboxSpec) in s.process.chdir == g("/tmp") }),
        (["--chdir", "home/u"], { @Sendable (s: SandboxSpec) in s.process.chdir == g("/home/u") }),
        (["-b"], { @Sendable (s: SandboxSpec) in s.process.leftovers == .leftRunning }),
        (["--background"], { @Sendable (s: SandboxSpec) in s.process.leftovers == .leftRunning }),
        (["-M", "0 100000 65536"], { @Sendable (s: SandboxSpec) in s.identity.uidMap == [IDMap(inside: 0, outside: 100000, count: 65536)] }),
        (["--uid-map", "0 1000 1,1 100000 65535"], { @Sendable (s: SandboxSpec) in
            s.identity.uidMap == [IDMap(inside: 0, outside: 1000, count: 1), IDMap(inside: 1, outside: 100000, count: 65535)] }),
        (["-G", "0:1000:1\n1:100000:10"], { @Sendable (s: SandboxSpec) in
            s.identity.gidMap == [IDMap(inside: 0, outside: 1000, count: 1), IDMap(inside: 1, outside: 100000, count: 10)] }),
        (["--gid-map", "  0\t1000   1 ,"], { @Sendable (s: SandboxSpec) in s.identity.gidMap == [IDMap(inside: 0, outside: 1000, count: 1)] }),
        (["-M", "0 1 1", "-M", "5 6 7"], { @Sendable (s: SandboxSpec) in s.identity.uidMap == [IDMap(inside: 5, outside: 6, count: 7)] }),
        (["-f", "/etc/chroot.fstab"], { @Sendable (s: SandboxSpec) in
            s.operations == [.filesystem(FilesystemMount(type: "proc", source: "proc", destination: g("/proc"))),
                             .bind(BindMount(source: HostPath("/home"), destination: g("/home"), allowDevices: true))] }),
        (["-f", "/etc/chroot.fstab", "--fstab", "other.fstab"], { @Sendable (s: SandboxSpec) in
            s.operations == [.filesystem(FilesystemMount(type: "tmpfs", source: "tmpfs", destination: g("/tmp"), data: ["mode=1777"]))] }),
    ] as [([String], @Sendable (SandboxSpec) -> Bool)])
    func option(args: [String], check: @Sendable (SandboxSpec) -> Bool) throws {
        let s = try spec(args + ["/t", "true"])
        #expect(check(s), "\(args) gave \(s)")
    }

    /// getopt_long's spellings: clusters, attached values, `=`, abbreviations.
    @Test(arguments: [
        ["-UN", "-udaemon", "-gstaff", "-nbox", "-cwork", "-bp/p"],
        ["--new-user-ns", "--new-network-ns", "--user=daemon", "--group", "staff", "--hostname=box", "--chdir=/work", "--background", "--pidfile=/p"],
        ["--new-u", "--new-n", "--us=daemon", "--gr=staff", "--host", "box", "--ch", "work", "--b", "--pid", "/p"],
        ["-NUb", "-u", "daemon", "-g", "staff", "-n", "box", "-c", "/work", "-p", "/p"],
    ])
    func getoptSpellings(args: [String]) throws {
        let s = try spec(args + ["/t"])
        #expect(s.namespaces.net && s.namespaces.uts && s.process.keepChildren)
        #expect(s.identity.userName == "daemon" && s.identity.groupName == "staff")
        #expect(s.process.hostname == "box" && s.process.chdir == g("/work") && s.process.pidFile == HostPath("/p"))
        #expect(s.process.argv == ["/bin/sh"])
    }

    @Test(arguments: [
        // Options stop at TARGET: the command keeps its own options.
        (["/t", "/bin/sh", "-c", "id"], "/t", ["/bin/sh", "-c", "id"], false),
        (["/t", "--", "/bin/sh", "-c", "id"], "/t", ["/bin/sh", "-c", "id"], false),
        (["-N", "--", "/t", "/bin/sh", "-c", "id"], "/t", ["/bin/sh", "-c", "id"], true),
        (["--", "-t", "sh"], "-t", ["sh"], false),
        // The original's order (getopt permutes): options right after TARGET, up to '--'.
        (["/t", "-N", "--", "/bin/sh", "-c", "id"], "/t", ["/bin/sh", "-c", "id"], true),
        (["/t", "-N", "sh", "-N"], "/t", ["sh", "-N"], true),
        (["/t", "sh", "--", "x"], "/t", ["sh", "--", "x"], false),
        (["/t", "-"], "/t", ["-"], false),
    ])
    func optionsStopAtTarget(args: [String], target: String, argv: [String], net: Bool) throws {
        let s = try spec(args)
        #expect(s.root.path == HostPath(target))
        #expect(s.process.argv == argv)
        #expect(s.namespaces.net == net)
    }

    @Test(arguments: [
        (["-h"], Invocation.help), (["--help"], .help), (["--he"], .help), (["-Nh", "--bogus"], .help),
        (["/t", "-h"], .help), (["--version"], .version),
    ])
    func stops(args: [String], expected: Invocation) throws {
        #expect(try parse(args) == expected)
    }

    @Test(arguments: [
        ([], "missing TARGET"),
        (["-N"], "missing TARGET"),
        (["", "sh"], "TARGET is an empty string"),
        (["-x", "/t"], "invalid option -- 'x'"),
        (["-T", "/t"], "invalid option -- 'T'"),
        (["--bogus", "/t"], "unrecognized option '--bogus'"),
        (["--new", "/t"], "option '--new' is ambiguous; possibilities: '--new-user-ns' '--new-network-ns'"),
        (["--background=yes", "/t"], "option '--background' doesn't allow an argument"),
        (["-u"], "option requires an argument -- 'u'"),
        (["--user"], "option '--user' requires an argument"),
        (["-u", "", "/t"], "the user is empty"),
        (["-g", "", "/t"], "the group is empty"),
        (["-u", "4294967295", "/t"], "not a valid uid"),
        (["-e", "=x", "/t"], "has no NAME before '='"),
        (["-e", "", "/t"], "expected NAME=VALUE"),
        (["-c", "/../x", "/t"], "climbs above the new root"),
        (["-p", "", "/t"], "the file name is empty"),
        (["-f", "", "/t"], "the file name is empty"),
        (["-n", "", "/t"], "must be 1 to 64 bytes"),
        (["-M", "0 1000", "/t"], "'0 1000' is not a mapping 'ID-inside ID-outside length'"),
        (["-M", "a b c", "/t"], "is not a mapping"),
        (["-M", "0 1000 0", "/t"], "the length must be at least 1"),
        (["-G", ",", "/t"], "-G: the mapping is empty"),
        (["-M", "0 1000 1,0 2000 1", "/t"], "overlaps"),
        (["-M", "0 1000 1", "-u", "5", "/t"], "-u 5 is not mapped by -M 0:1000:1"),
        (["-G", "0 1000 1", "-g", "5", "/t"], "-g 5 is not mapped by -G 0:1000:1"),
        (["-f", "/missing", "/t"], "-f /missing: cannot read it: No such file or directory"),
        (["-f", "bad.fstab", "/t"], "-f bad.fstab:4: mount point 'sys' is not absolute"),
        (["-f", "nul.fstab", "/t"], "-f nul.fstab:1: 'siz\\u{0}e=64m': a NUL byte cannot be part of a field"),
        (["--hostname\u{1B}", "/t"], "unrecognized option '--hostname\\u{1B}'"),
    ])
    func rejects(args: [String], fragment: String) {
        #expect {
            try parse(args)
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            if !e.message.contains(fragment) { Issue.record("message '\(e.message)' lacks '\(fragment)'") }
            return true
        }
    }

    @Test func fstabIsReadOnlyOnceTheCommandLineIsGood() {
        final class Count: @unchecked Sendable { var reads = 0 }
        let count = Count()
        let ctx = HostFacts(readFile: { _ in count.reads += 1; return .success("") })
        #expect(throws: UsageError.self) { try JChrootCommandLine.parse(["-f", "x", "--bogus", "/t"], ctx) }
        #expect(throws: Never.self) { try JChrootCommandLine.parse(["-f", "x", "/t"], ctx) }
        #expect(count.reads == 1)
    }

    @Test func helpListsEveryOption() {
        let help = JChrootCommandLine.help
        for option in JChrootCommandLine.options {
            #expect(help.contains("--\(option.long)"), "help lacks --\(option.long)")
            if option.short != "\0" { #expect(help.contains("-\(option.short),"), "help lacks -\(option.short)") }
        }
        #expect(help.contains("Usage: jchroot [OPTIONS] TARGET [--] [COMMAND [ARG...]]"))
    }

    @Test func frontEndTable() {
        let fe = FrontEnds.named("jchroot")
        #expect(fe.name == "jchroot")
        #expect(fe.failureStatus == 1)
        #expect(FrontEnds.named("./bin/jchroot").name == "jchroot")
    }
}

/// The spec's errors reach each front-end's users in its own option names, and in the spec's
/// words where the front-end has no option for the idea.
struct SpecErrorWordingTests {
    static let hostname = SpecError(.hostnameWithoutUTSNamespace)
    static let foreignUid = SpecError(.setuidForeignID(.uid, asked: 0, caller: 1000))
    static let mapLine = SpecError(.idMap(.uid, IDMap(inside: 0, outside: 1000, count: 0), .emptyRange))
    static let longTmpfs = SpecError(.pathLimit(.tmpfs, path: "/t", problem: "too long"))

    @Test(arguments: [
        (hostname, SpecTerms.spec, "a hostname needs a new UTS namespace"),
        (hostname, BurrowCommandLine.terms, "--hostname needs --unshare-uts (or --unshare-all)"),
        (hostname, JChrootCommandLine.terms, "-n/--hostname needs a new UTS namespace"),
        (foreignUid, SpecTerms.spec, "uid 0 is refused in setuid mode"),
        (foreignUid, BurrowCommandLine.terms, "--uid 0 (or --root) is refused in setuid mode"),
        (foreignUid, JChrootCommandLine.terms, "-u/--user 0 is refused in setuid mode"),
        (foreignUid, PRootCommandLine.terms, "-i's uid 0 (or -0) is refused in setuid mode"),
        (mapLine, BurrowCommandLine.terms, "--uid-map 0:1000:0: the count must be at least 1"),
        (mapLine, JChrootCommandLine.terms, "-M/--uid-map 0:1000:0: the count must be at least 1"),
        (longTmpfs, BurrowCommandLine.terms, "--tmpfs /t: too long"),
        (longTmpfs, LinuxUserChrootCommandLine.terms, "tmpfs destination /t: too long"),
    ] as [(SpecError, SpecTerms, String)])
    func worded(error: SpecError, terms: SpecTerms, expected: String) {
        #expect(error.message(in: terms).hasPrefix(expected), "\(error.message(in: terms))")
    }

    /// Through the parsers: what a user of each front-end reads.
    @Test func throughTheParsers() throws {
        #expect(throws: UsageError("--hostname needs --unshare-uts (or --unshare-all)")) {
            try BurrowCommandLine.parse(["--hostname", "x", "/r"])
        }
        #expect {
            try LinuxUserChrootCommandLine.parse(["--mount-proc", "/" + String(repeating: "x", count: 300), "/r", "true"])
        } throws: { error in
            (error as? UsageError)?.message.hasPrefix("--mount-proc /xxx") == true
        }
    }
}
