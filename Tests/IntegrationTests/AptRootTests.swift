// Package managers as root inside, on every engine: `apt-get update` and `apt-get install`
// in a copy of the Debian fixture, from a repository of two packages (dpkg-deb,
// dpkg-scanpackages) that python3's http.server serves on 127.0.0.1, so apt's HTTP method
// drops to its `_apt` user and calls setgroups as it does from a real mirror. Run as the
// test user (who has /etc/subuid and /etc/subgid ranges: the namespace engine maps them) and
// as a second user without ranges (auto takes the ptrace engine's faked ids), with
// `burrow --root` and `proot -0`, and through a setuid install; then the owners dpkg and
// the postinst set are checked on the next run and on the host.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The repository, built and served once per test process; the server is killed at exit.
enum AptMirror {
    nonisolated(unsafe) static var serverPid: pid_t = 0  // written once, by `served`

    static let served = Task { () -> Result<Int, SpawnError> in
        do { return .success(try await start()) } catch let e as SpawnError { return .failure(e) } catch {
            return .failure(SpawnError(message: "\(error)"))
        }
    }

    static func port() async throws -> Int { try await served.value.get() }

    /// burrow-lib: a data file its postinst gives to `_apt:nogroup`. burrow-hello (depends
    /// on burrow-lib): a program, and a directory the archive itself gives to daemon (1:1).
    private static func start() async throws -> Int {
        let work = makeTempDir()
        let repo = work.sub("repo")
        let lib = work.sub("lib"), hello = work.sub("hello")
        for dir in [repo, lib + "/DEBIAN", lib + "/usr/share/burrow-lib", hello + "/DEBIAN", hello + "/usr/bin",
                    hello + "/var/lib/burrow-hello"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        func control(_ name: String, _ extra: String = "") -> String {
            "Package: \(name)\nVersion: 1.0\nArchitecture: all\n\(extra)Maintainer: Burrow <burrow@example.org>\nDescription: test package\n"
        }
        writeFile(lib + "/DEBIAN/control", control("burrow-lib"))
        writeFile(lib + "/DEBIAN/postinst", "#!/bin/sh\nset -e\nchown _apt:nogroup /usr/share/burrow-lib/data\n")
        writeFile(lib + "/usr/share/burrow-lib/data", "data\n")
        writeFile(hello + "/DEBIAN/control", control("burrow-hello", "Depends: burrow-lib\n"))
        writeFile(hello + "/usr/bin/burrow-hello", "#!/bin/sh\necho hello from burrow-hello\n")
        for file in [lib + "/DEBIAN/postinst", hello + "/usr/bin/burrow-hello"] { chmod(file, 0o755) }
        chown(hello + "/var/lib/burrow-hello", 1, 1)
        for (dir, deb, rootOwned) in [(lib, "burrow-lib_1.0_all.deb", true), (hello, "burrow-hello_1.0_all.deb", false)] {
            let built = await runHostAsync(["/usr/bin/dpkg-deb"] + (rootOwned ? ["--root-owner-group"] : []) + ["-b", dir, repo + "/" + deb])
            guard built.status == 0 else { throw SpawnError(message: "dpkg-deb -b \(dir): \(built.stderr)") }
        }
        let scan = await runHostAsync(["/bin/sh", "-c", "cd \(shellQuote(repo)) && dpkg-scanpackages . /dev/null > Packages"])
        guard scan.status == 0 else { throw SpawnError(message: "dpkg-scanpackages (dpkg-dev): \(scan.stderr)") }
        // Port 0: the kernel picks a free one, which http.server prints.
        let server = try spawn(["/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", repo, "0"])
        serverPid = server.pid
        atexit { if AptMirror.serverPid > 0 { kill(AptMirror.serverPid, SIGKILL) } }
        guard await server.waitForStdout("Serving HTTP"),
              let match = server.stdoutSoFar.firstMatch(of: #/port (\d+)/#), let port = Int(match.1)
        else { throw SpawnError(message: "python3 -m http.server did not start: \(server.stdoutSoFar)\(server.stderrSoFar)") }
        return port
    }
}

@Suite("Package managers as root: apt-get from an HTTP mirror on every engine", .timeLimit(.minutes(5)),
       .enabled(if: DebianFixture.runnable, DebianFixture.skipReason))
struct AptRootTests {
    /// Who runs burrow, and how it is started.
    enum Runner: Sendable {
        case burrow, proot
        /// The setuid install (SetuidTests), as the test user; under scripts/no-userns or not.
        case setuidBurrow(noUserNamespaces: Bool), setuidProot
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let runner: Runner
        /// The test user (ranges) or the second one (none).
        let withRanges: Bool
        let environment: [String: String]
        /// Burrow's options before ROOTFS (proot's are made from the runner).
        let options: [String]
        /// What -v says of the engine.
        let engineSays: String
        /// Owners set inside are real subordinate ids on the host (else the caller's, faked).
        let realOwners: Bool
        let testDescription: String
    }

    static let cases: [Case] = [
        Case(runner: .burrow, withRanges: true, environment: [:], options: ["--root"],
             engineSays: "root inside: uids 0-65536 and gids 0-65536 mapped", realOwners: true,
             testDescription: "burrow --root, namespace engine, subordinate ranges"),
        Case(runner: .proot, withRanges: true, environment: ["BURROW_ENGINE": "namespace"], options: [],
             engineSays: "engine namespace (asked for)", realOwners: true,
             testDescription: "proot -0, namespace engine, subordinate ranges"),
        Case(runner: .burrow, withRanges: false, environment: [:], options: ["--root"],
             engineSays: "engine ptrace (auto, for what only it does: root inside: \(TestUser.withoutRangesName) has no range in /etc/subuid and /etc/subgid",
             realOwners: false, testDescription: "burrow --root without ranges: auto takes the ptrace engine"),
        Case(runner: .proot, withRanges: false, environment: [:], options: [],
             engineSays: "engine ptrace (auto, for what only it does: -0", realOwners: false,
             testDescription: "proot -0 without ranges, auto (the ptrace engine)"),
        Case(runner: .burrow, withRanges: true, environment: [:], options: ["--engine", "ptrace", "--root"],
             engineSays: "engine ptrace (asked for)", realOwners: false,
             testDescription: "burrow --root, the ptrace engine asked for"),
        Case(runner: .setuidBurrow(noUserNamespaces: true), withRanges: true, environment: [:], options: ["--root"],
             engineSays: "engine ptrace (auto, for what only it does: root inside: setuid mode runs the command as you",
             realOwners: false, testDescription: "setuid install without user namespaces: auto takes the ptrace engine"),
        Case(runner: .setuidProot, withRanges: true, environment: [:], options: [],
             engineSays: "engine ptrace (auto, for what only it does: -0", realOwners: false,
             testDescription: "proot -0 through the setuid install without user namespaces"),
        Case(runner: .setuidBurrow(noUserNamespaces: false), withRanges: true, environment: [:], options: ["--root"],
             engineSays: "root inside: uids 0-65536 and gids 0-65536 mapped", realOwners: true,
             testDescription: "setuid install with user namespaces: the namespace engine as the caller, with the ranges"),
    ]

    static func user(_ withRanges: Bool) throws -> TestUser {
        if withRanges {
            _ = try #require(subIDRanges, "the test user needs /etc/subuid and /etc/subgid ranges and newuidmap (scripts/test)")
            return testUser
        }
        return try #require(TestUser.withoutRanges, "no user \(TestUser.withoutRangesName) (scripts/test makes it, without ranges)")
    }

    /// Runs `script` (dash) in `root` as `c` says, with a fake database for the ptrace engine.
    func run(_ c: Case, _ root: PrivateRootfs, db: String, _ script: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> BurrowResult {
        let user = try Self.user(c.withRanges)
        let command = ["/bin/sh", "-c", "export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive; " + script]
        let burrowArgs = ["-v"] + c.options + ["--fake-db", db, "--dev", "/dev", "--proc", "/proc", root.path] + command
        let prootArgs = ["-v", "1", "-0", "-r", root.path, "-b", "/dev", "-b", "/proc"] + command
        var environment = c.environment
        if case .proot = c.runner { environment["BURROW_FAKE_DB"] = db }
        if case .setuidProot = c.runner { environment["BURROW_FAKE_DB"] = db }
        let env = ["/usr/bin/env", "-C", "/"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv: [String]
        switch c.runner {
        case .burrow: argv = asUser(user, env + [Harness.binary] + burrowArgs)
        case .proot: argv = asUser(user, env + [PRootFixtures.burrowProot] + prootArgs)
        case .setuidBurrow(let noUserNamespaces):
            try #require(SetuidInstall.available, "no setuid install: \(SetuidInstall.binaries)")
            argv = startSetuidArgv(burrowArgs, noUserNamespaces: noUserNamespaces, environment: environment)
        case .setuidProot:
            try #require(SetuidInstall.available, "no setuid install: \(SetuidInstall.binaries)")
            argv = startSetuidArgv(prootArgs, binary: SetuidInstall.tool("proot"), environment: environment)
        }
        let p = try spawn(argv)
        return await p.wait(timeout: 180, sourceLocation: sourceLocation)
    }

    static let owners = "stat -c '%U:%G %n' /usr/share/burrow-lib/data /var/lib/burrow-hello /usr/bin/burrow-hello /var/lib/apt/lists/partial"
    static let expectedOwners = ["_apt:nogroup /usr/share/burrow-lib/data", "daemon:daemon /var/lib/burrow-hello",
                                 "root:root /usr/bin/burrow-hello", "_apt:root /var/lib/apt/lists/partial"]

    @Test(arguments: cases)
    func aptFromMirror(_ c: Case) async throws {
        let user = try Self.user(c.withRanges)
        let port = try await AptMirror.port()
        let root = try await DebianFixture.makeCopy(owner: user)
        defer { root.remove() }
        writeFile(root.at("/etc/apt/sources.list"), "deb [trusted=yes] http://127.0.0.1:\(port)/ ./\n", owner: user)
        let db = makeTempDir(owner: user)
        defer { db.remove() }
        let install = try await run(c, root, db: db.sub("owners"), """
            apt-get update >/tmp/update.log 2>&1; echo update=$?
            apt-get install -y burrow-hello >/tmp/install.log 2>&1; echo install=$?
            id -u; \(Self.owners); burrow-hello
            """)
        expectSuccess(install)
        expectLines(install, ["update=0", "install=0", "0"] + Self.expectedOwners + ["hello from burrow-hello"])
        expectStderr(install, contains: c.engineSays)
        if install.lines.first != "update=0" || install.lines.dropFirst().first != "install=0" {
            Issue.record("apt-get said:\n\(readFile(root.at("/tmp/update.log")) ?? "")\n\(readFile(root.at("/tmp/install.log")) ?? "")")
        }
        // apt's http method ran as _apt, not unsandboxed as root.
        #expect(readFile(root.at("/tmp/update.log"))?.contains("unsandboxed") == false, "\(readFile(root.at("/tmp/update.log")) ?? "")")

        let next = try await run(c, root, db: db.sub("owners"),
                                 "\(Self.owners); dpkg-query -W -f '${Package} ${Status}\\n' 'burrow-*'; burrow-hello")
        expectSuccess(next)
        expectLines(next, Self.expectedOwners + ["burrow-hello install ok installed", "burrow-lib install ok installed",
                                                 "hello from burrow-hello"])

        // On the host: subordinate ids where they were mapped (_apt is 42, nogroup 65534 and
        // daemon 1 inside), else the caller's own files with the owners faked.
        let data = try #require(hostStat(root.at("/usr/share/burrow-lib/data")))
        let state = try #require(hostStat(root.at("/var/lib/burrow-hello")))
        if c.realOwners, let (u, g) = subIDRanges {
            #expect(data.uid == u.start + 41 && data.gid == g.start + 65533, "host owner \(data.uid):\(data.gid)")
            #expect(state.uid == u.start && state.gid == g.start, "host owner \(state.uid):\(state.gid)")
        } else {
            #expect(data.uid == user.uid && state.uid == user.uid, "host owners \(data.uid), \(state.uid)")
        }
    }

    @Test("An engine named that cannot make root usable says so: the namespace engine without ranges runs as before, -v says what fails; setuid mode refuses --root")
    func namedEngines() async throws {
        let plain = try Self.user(false)
        let port = try await AptMirror.port()
        let root = try await DebianFixture.makeCopy(owner: plain)
        defer { root.remove() }
        writeFile(root.at("/etc/apt/sources.list"), "deb [trusted=yes] http://127.0.0.1:\(port)/ ./\n", owner: plain)
        let p = try spawn(asUser(plain, ["/usr/bin/env", "-C", "/", Harness.binary, "-v", "--engine", "namespace", "--root",
                                         "--proc", "/proc", root.path, "/bin/sh", "-c",
                                         "export PATH=/usr/sbin:/usr/bin:/sbin:/bin; id -u; cat /proc/self/uid_map; apt-get update >/dev/null 2>&1; echo update=$?"]))
        let r = await p.wait(timeout: 120)
        expectSuccess(r)
        #expect(r.lines.count == 3 && r.lines.first == "0" && r.lines.last != "update=0", "\(r)")
        #expect(IdentityTests.mapLine(r.lines.dropFirst().first ?? "") == [0, plain.uid, 1], "\(r)")
        expectStderr(r, contains: "root inside: \(TestUser.withoutRangesName) has no range in /etc/subuid and /etc/subgid: only your own ids are mapped")
        expectStderr(r, contains: "engine namespace (asked for)")

        try #require(SetuidInstall.available, "no setuid install: \(SetuidInstall.binaries)")
        let refused = await setuidBurrow(["--engine", "setuid", "--root", root.path, "/bin/echo", "RAN"])
        expectRefused(refused, saying: "--uid 0 (or --root) is refused in setuid mode", "the ptrace engine fakes it")
    }
}
