// Burrow invoked as `proot`: every option and every example of proot(1) that can run here,
// run as the unprivileged test user on busybox rootfs trees; the same invocations through
// the real PRoot (Debian's package) where both can run; and QEMU user mode on an arm64
// busybox rootfs (Debian's busybox-static:arm64, fetched by scripts/test).

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum PRootFixtures {
    /// In CI a missing fixture is a failure, elsewhere a skip with a message.
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// `proot`: a symlink to the burrow binary in a directory the test user can reach.
    static let burrowProot: String = {
        let dir = makeTempDir()
        let link = dir.sub("proot")
        precondition(symlink(Harness.binary, link) == 0, "symlink \(link): \(String(cString: strerror(errno)))")
        return link
    }()

    static let realProot = "/usr/bin/proot"
    static var realProotPresent: Bool { FileManager.default.isExecutableFile(atPath: realProot) }

    static let qemu = "/usr/bin/qemu-aarch64-static"
    /// The arm64 busybox scripts/test fetched (scripts/fetch-foreign-busybox).
    static let arm64Busybox: String? = ProcessInfo.processInfo.environment["BURROW_TEST_ARM64_BUSYBOX"].flatMap {
        FileManager.default.isExecutableFile(atPath: $0) || FileManager.default.fileExists(atPath: $0) ? $0 : nil
    }
    static var qemuReady: Bool { arm64Busybox != nil && FileManager.default.isExecutableFile(atPath: qemu) }

    /// Does the host itself run aarch64 ELF files (a binfmt_misc entry of its own)? Then
    /// an exec without -q succeeds through the host's entry, and the "fails without -q"
    /// check means nothing.
    static var hostRunsAarch64: Bool {
        let dir = "/proc/sys/fs/binfmt_misc"
        return directoryEntries(dir).contains { name in
            guard name != "register", name != "status", let text = readFile(dir + "/" + name) else { return false }
            return text.contains("enabled") && text.contains("7f454c460201010000000000000000000200b700")
        }
    }

    /// The environment every proot run gets: a HOME the test user owns, a plain PATH.
    static let home: String = {
        let dir = makeTempDir(owner: testUser)
        return dir.path
    }()
    static var environment: [String: String] { ["HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"] }
}

/// Runs `proot` (Burrow's, or the real one) as the test user, from `cwd`.
func proot(
    _ args: [String], real: Bool = false, cwd: String = "/", stdin: String? = nil, timeout: Double = 30,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    let program = real ? PRootFixtures.realProot : PRootFixtures.burrowProot
    // env -C: the harness starts everything in /, and proot's default cwd is the caller's.
    let argv = asTestUser(["/usr/bin/env", "-C", cwd, program] + args)
    do {
        let p = try spawn(argv, stdin: stdin, environment: PRootFixtures.environment)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(program): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// An arm64 busybox rootfs, owned by `owner` (nil: root).
func makeArm64Rootfs(owner: TestUser?) async throws -> PrivateRootfs {
    let busybox = try #require(PRootFixtures.arm64Busybox, "BURROW_TEST_ARM64_BUSYBOX is not set: run scripts/test as root")
    let rootfs = PrivateRootfs(base: makeTempDir())
    let p = try spawn([Harness.packageRoot + "/scripts/make-rootfs", rootfs.path],
                      environment: ["BUSYBOX": busybox, "BUSYBOX_RUNNER": PRootFixtures.qemu])
    let r = await p.wait(timeout: 120)
    try #require(r.status == 0, "make-rootfs for arm64 failed:\n\(r)")
    chmod(rootfs.path, 0o755)
    if let owner, Harness.runningAsRoot {
        let own = await runHostAsync(["/bin/chown", "-R", "-h", "\(owner.uid):\(owner.gid)", rootfs.path])
        try #require(own.status == 0, "chown of the arm64 rootfs failed: \(own.stderr)")
    }
    return rootfs
}

@Suite("proot front-end", .timeLimit(.minutes(3)))
struct PRootTests {
    let rootfs = Harness.sharedRootfs

    // MARK: the manual's examples

    @Test("chroot equivalent: proot -r ROOT cat /etc/motd")
    func chrootEquivalent() async {
        let r0 = await makePrivateRootfs()
        defer { r0.remove() }
        writeFile(r0.at("/etc/motd"), "Welcome to Burrow busybox\n")
        let r = await proot(["-r", r0.path, "cat", "/etc/motd"])
        expectSuccess(r)
        expectLines(r, ["Welcome to Burrow busybox"])
    }

    @Test("The default command is /bin/sh (a script on stdin)")
    func defaultCommand() async {
        let r = await proot(["-r", rootfs], stdin: "echo \"shell $0\"; cat /etc/hostname; exit 3\n")
        expectStatus(r, 3)
        expectLines(r, ["shell /bin/sh", "burrow-rootfs"])
    }

    @Test("The default rootfs is /: proot -b HOST:GUEST alone relocates a host directory")
    func defaultRootfs() async {
        let dir = makeTempDir(owner: testUser)
        defer { dir.remove() }
        writeFile(dir.sub("prog"), "installed\n")
        // The manual's "proot -b /tmp/alternate_opt:/opt" example (over the host's own /opt).
        let r = await proot(["-b", "\(dir.path):/opt", "/bin/sh", "-c", "cat /opt/prog; test -d /usr/share && echo host-root"])
        expectSuccess(r)
        expectLines(r, ["installed", "host-root"])
    }

    @Test("-b FILE:GUEST overlays a file (the alternate /etc/hosts example), writes go to the host file")
    func bindFile() async {
        let dir = makeTempDir(owner: testUser)
        defer { dir.remove() }
        writeFile(dir.sub("alternate_hosts"), "127.0.0.1 localhost\n", owner: testUser)
        // As in the manual: rootfs / (the default), the host's own /etc/hosts overlaid.
        let r = await proot(["-b", "\(dir.sub("alternate_hosts")):/etc/hosts"]
                            + sh("echo '1.2.3.4 google.com' > /etc/hosts; cat /etc/hosts"))
        expectSuccess(r)
        expectLines(r, ["1.2.3.4 google.com"])
        #expect(readFile(dir.sub("alternate_hosts")) == "1.2.3.4 google.com\n")
    }

    @Test("-b DIR, -b DIR:GUEST, --bind=, -m, --mount=, and a relative host path")
    func bindDirectories() async {
        let dir = makeTempDir(owner: testUser)
        defer { dir.remove() }
        for name in ["a", "b", "c", "d"] {
            mkdir(dir.sub(name), 0o755)
            writeFile(dir.sub(name) + "/f", "\(name)\n")
        }
        // A private rootfs: the mount points made (and removed) in its /tmp must not race
        // with other tests copying the shared one.
        let r0 = await makePrivateRootfs()
        defer { r0.remove() }
        let r = await proot(["-r", r0.path, "-b", "\(dir.sub("a")):/tmp/a", "--bind=\(dir.sub("b")):/tmp/b",
                             "-m", "c:/tmp/c", "--mount=\(dir.sub("d"))"]
                            + sh("cat /tmp/a/f /tmp/b/f /tmp/c/f \(dir.sub("d"))/f"), cwd: dir.path)
        expectSuccess(r)
        expectLines(r, ["a", "b", "c", "d"])
    }

    @Test("A missing -b host path is skipped, as PRoot does")
    func missingBindSourceSkipped() async {
        let r = await proot(["-r", rootfs, "-b", "/nonexistent/burrow-test", "-b", "/nonexistent/x:/opt"] + sh("echo ran; ls /opt 2>&1 | head -1"))
        expectSuccess(r)
        expectStdout(r, contains: "ran")
        #expect(!pathExists(rootfs + "/nonexistent"))
    }

    @Test("The deepest bind wins, whatever the order they were given in")
    func deepestBindWins() async {
        let dir = makeTempDir(owner: testUser)
        defer { dir.remove() }
        mkdir(dir.sub("outer"), 0o755)
        mkdir(dir.sub("outer/inner"), 0o755)
        writeFile(dir.sub("outer/inner/who"), "outer\n")
        mkdir(dir.sub("inner"), 0o755)
        writeFile(dir.sub("inner/who"), "inner\n")
        // A private rootfs: the mount points made (and removed) in its /tmp must not race
        // with other tests copying the shared one.
        let r0 = await makePrivateRootfs()
        defer { r0.remove() }
        let r = await proot(["-r", r0.path, "-b", "\(dir.sub("inner")):/tmp/x/inner", "-b", "\(dir.sub("outer")):/tmp/x",
                             "cat", "/tmp/x/inner/who"])
        expectSuccess(r)
        expectLines(r, ["inner"])
    }

    /// A rootfs where /bin/sh is a symlink to dash, as on Debian; the host's dash and bash
    /// (the manual's example binds /bin/bash over /bin/sh).
    static func debianLikeRootfs() async -> PrivateRootfs {
        let r0 = await makePrivateRootfs()
        _ = await runHostAsync(["/bin/cp", "/usr/bin/dash", r0.at("/bin/dash")])
        _ = await runHostAsync(["/bin/rm", "-f", r0.at("/bin/sh"), r0.at("/bin/bash")])
        symlink("dash", r0.at("/bin/sh"))
        writeFile(r0.at("/bin/bash"), "")  // a mount point for the host's bash
        for p in ["/bin/dash", "/bin/sh", "/bin/bash"] { giveToTestUser(r0.at(p)) }
        return r0
    }

    static func md5(_ path: String) async -> String {
        String((await runHostAsync(["/usr/bin/md5sum", path])).stdout.prefix(32))
    }

    @Test("-b /bin/bash:/bin/sh follows the guest symlink: bash lands on /bin/dash")
    func bindFollowsGuestSymlink() async {
        let r0 = await Self.debianLikeRootfs()
        defer { r0.remove() }
        let bash = await Self.md5("/bin/bash"), dash = await Self.md5("/usr/bin/dash")
        let r = await proot(["-r", r0.path, "-b", "/bin/bash", "-b", "/bin/bash:/bin/sh",
                             "/bin/busybox", "md5sum", "/bin/sh", "/bin/bash", "/bin/dash"])
        expectSuccess(r)
        expectLines(r, ["\(bash)  /bin/sh", "\(bash)  /bin/bash", "\(bash)  /bin/dash"])
        #expect(bash != dash)
    }

    @Test("-b '/bin/bash:/bin/sh!' binds over the symlink itself: /bin/dash is untouched")
    func bindBangKeepsGuestSymlink() async {
        let r0 = await Self.debianLikeRootfs()
        defer { r0.remove() }
        let bash = await Self.md5("/bin/bash"), dash = await Self.md5("/usr/bin/dash")
        let r = await proot(["-r", r0.path, "-b", "/bin/bash", "-b", "/bin/bash:/bin/sh!",
                             "/bin/busybox", "md5sum", "/bin/sh", "/bin/bash", "/bin/dash"])
        expectSuccess(r)
        expectLines(r, ["\(bash)  /bin/sh", "\(bash)  /bin/bash", "\(dash)  /bin/dash"])
        // The rootfs's symlink is as it was.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: r0.at("/bin/sh"))) == "dash")
    }

    @Test("-r ROOT alone: ps fails without /proc; -r ROOT -b /proc: ps works")
    func bindProcForPs() async {
        let without = await proot(["-r", rootfs, "ps", "-o", "pid,comm"])
        #expect(without.lines.count <= 1, "no /proc, no processes:\n\(without)")
        let with = await proot(["-r", rootfs, "-b", "/proc", "ps", "-o", "pid,comm"])
        expectSuccess(with)
        expectStdout(with, contains: "ps")
        #expect(with.lines.count > 2, "ps should list processes:\n\(with)")
    }

    @Test("-R ROOT: host users, /proc, /dev, /tmp and $HOME are visible; ps works")
    func recommendedBinds() async {
        let r0 = await makePrivateRootfs()
        defer { r0.remove() }
        let marker = "burrow-R-\(UUID().uuidString)"
        writeFile(PRootFixtures.home + "/marker", marker + "\n", owner: testUser)
        defer { unlink(PRootFixtures.home + "/marker") }
        let hostPasswd = readFile("/etc/passwd") ?? ""
        let before = treeListing(r0.path)
        let r = await proot(["-R", r0.path] + sh("""
            cat /etc/passwd | md5sum; cat $HOME/marker; test -c /dev/null && echo dev; \
            test -r /proc/self/status && echo proc; ls -d /tmp/burrow-it.* >/dev/null && echo host-tmp; \
            ps -o comm | grep -qx ps && echo ps; pwd
            """))
        expectSuccess(r)
        let expectedPasswd = await runHostAsync(["/bin/sh", "-c", "md5sum < /etc/passwd"])
        #expect(!hostPasswd.isEmpty)
        expectLines(r, [expectedPasswd.stdout.trimmingCharacters(in: .whitespacesAndNewlines), marker, "dev", "proc",
                        "host-tmp", "ps", "/"])
        // The mount point made for $HOME is gone again.
        #expect(treeListing(r0.path) == before, "left in the rootfs: \(Set(treeListing(r0.path)).subtracting(before))")
    }

    @Test("-R on a rootfs the caller cannot write to: paths it lacks are left out, the rest runs")
    func recommendedBindsReadOnlyRootfs() async {
        let r = await proot(["-v", "1", "-R", rootfs] + sh("id -u; test -e /etc/host.conf || echo no-host-conf; test -d /proc/self && echo proc"))
        expectSuccess(r)
        expectLines(r, ["\(testUser.uid)", "no-host-conf", "proc"])
        if pathExists("/etc/host.conf") { expectStderr(r, contains: "skip /etc/host.conf") }
    }

    @Test("-S ROOT: appears as root, /etc/passwd is the guest's, /proc and /dev are bound")
    func installBinds() async {
        let r = await proot(["-S", rootfs] + sh("id -u; id -g; id -un; cat /etc/passwd | head -1; test -c /dev/null && echo dev; test -d /proc/self && echo proc"))
        expectSuccess(r)
        expectLines(r, ["0", "0", "root", "root:x:0:0:root:/root:/bin/sh", "dev", "proc"])
    }

    @Test("-0 and --root-id: id is root, the caller's files appear owned by root")
    func rootId() async {
        for option in ["-0", "--root-id"] {
            let r0 = await makePrivateRootfs()
            defer { r0.remove() }
            let r = await proot([option, "-r", r0.path] + sh("""
                id; mkdir /tmp/foo; chmod a-rwx /tmp/foo; echo 'I bypass file-system permissions.' > /tmp/foo/bar; \
                cat /tmp/foo/bar; stat -c '%u:%g' /tmp/foo /etc/passwd
                """))
            expectSuccess(r)
            expectLines(r, ["uid=0(root) gid=0(root)", "I bypass file-system permissions.", "0:0", "0:0"])
            // On the host, the file is the caller's.
            var st = stat()
            #expect(lstat(r0.at("/tmp/foo"), &st) == 0 && st.st_uid == testUser.uid)
        }
    }

    @Test("-i uid:gid and --change-id=", arguments: [["-i", "5:6"], ["--change-id=5:6"]])
    func changeId(args: [String]) async {
        let r0 = await makePrivateRootfs()
        defer { r0.remove() }
        let r = await proot(args + ["-r", r0.path] + sh("id -u; id -g; touch /tmp/mine; stat -c '%u:%g' /tmp/mine /etc/passwd"))
        expectSuccess(r)
        expectLines(r, ["5", "6", "5:6", "5:6"])
    }

    @Test("-i with a lone uid keeps the caller's group")
    func changeUidOnly() async {
        let r = await proot(["-i", "5", "-r", rootfs] + sh("id -u; id -g"))
        expectSuccess(r)
        expectLines(r, ["5", "\(testUser.gid)"])
    }

    @Test("-w, --pwd=, --cwd= and a relative -w", arguments: [
        (["-w", "/etc"], "/", "/etc"), (["--pwd=/usr/bin"], "/", "/usr/bin"), (["--cwd=/var/tmp"], "/", "/var/tmp"),
        (["-w", "tmp"], "/var", "/var/tmp"), (["-w", "/nonexistent"], "/", "/"),
    ])
    func workingDirectory(args: [String], cwd: String, expected: String) async {
        let r = await proot(args + ["-r", rootfs, "pwd"], cwd: cwd)
        expectSuccess(r)
        expectLines(r, [expected])
    }

    @Test("The default working directory is the caller's, or / when the guest lacks it", arguments: [
        ("/etc", "/etc"), ("/usr/share", "/"), ("/var/tmp", "/var/tmp"),
    ])
    func defaultWorkingDirectory(cwd: String, expected: String) async {
        let r = await proot(["-r", rootfs, "pwd"], cwd: cwd)
        expectSuccess(r)
        expectLines(r, [expected])
    }

    @Test("-v 1 and --verbose=1 show the setup steps on stderr; without, nothing")
    func verbose() async {
        for args in [["-v", "1"], ["--verbose=1"]] {
            let r = await proot(args + ["-r", rootfs, "-b", "/proc", "true"])
            expectSuccess(r)
            expectStderr(r, contains: "proot: ")
            expectStderr(r, contains: "pivot_root")
            expectStderr(r, contains: "/proc")
        }
        let quiet = await proot(["-r", rootfs, "-b", "/proc", "true"])
        expectSuccess(quiet)
        #expect(quiet.stderr.isEmpty, "\(quiet)")
    }

    @Test("-V, --version, --about print the version; -h, --help, --usage the usage", arguments: [
        ("-V", "proot 5.1.0"), ("--version", "proot 5.1.0"), ("--about", "burrow"),
        ("-h", "Usage: proot [option] ... [command]"), ("--help", "-b *path*"), ("--usage", "--kernel-release"),
    ])
    func versionAndHelp(option: String, fragment: String) async {
        let r = await proot([option])
        expectSuccess(r)
        expectStdout(r, contains: fragment)
    }

    // MARK: exit status

    @Test("Exit status: the last process to end, even a background job")
    func lastToExit() async {
        // busybox sh opens /dev/null for a background job: bind /dev.
        let r = await proot(["-r", rootfs, "-b", "/dev"] + sh("(sleep 0.5; exit 7) & exit 3"))
        expectStatus(r, 7)
        let r2 = await proot(["-r", rootfs, "-b", "/dev"] + sh("(sleep 0.5; exit 0) & exit 3"))
        expectStatus(r2, 0)
        let r3 = await proot(["-r", rootfs] + sh("exit 42"))
        expectStatus(r3, 42)
    }

    @Test("A command not found gives 1, with the name in the message")
    func commandNotFound() async {
        let r = await proot(["-r", rootfs, "no-such-command-here"])
        expectStatus(r, 1)
        expectStderr(r, contains: "no-such-command-here")
    }

    @Test("A guest killed by signal N gives 128+N")
    func signal() async {
        let r = await proot(["-r", rootfs] + sh("kill -9 $$"))
        expectStatus(r, 128 + 9)
        let r2 = await proot(["-r", rootfs] + sh("kill -TERM $$"))
        expectStatus(r2, 128 + 15)
    }

    @Test("Usage errors: status 1 and PRoot's words", arguments: [
        (["-r/tmp", "true"], "option '-r' and its value must be separated by ' '"),
        (["--bogus"], "unknown option '--bogus'"),
        (["-r"], "option '-r' expects a value"),
    ])
    func usageErrors(args: [String], message: String) async {
        let r = await proot(args)
        expectStatus(r, 1)
        expectStderr(r, contains: "proot: ")
        expectStderr(r, contains: message)
        expectStderr(r, contains: "proot --help")
    }

    @Test("A QEMU command that cannot be found: status 1, naming it (as PRoot: any program will do)")
    func qemuNotFound() async {
        let r = await proot(["-q", "no-such-qemu-program", "true"])
        expectStatus(r, 1)
        expectStderr(r, contains: "no-such-qemu-program")
    }

    @Test("With BURROW_ENGINE=namespace, -q needs a qemu-ARCH program whose options have QEMU_* variables")
    func qemuOnTheNamespaceEngine() async {
        for (q, message) in [("emacs", "not a QEMU user-mode program"), ("qemu-aarch64 -bogus", "'-bogus' has no environment equivalent")] {
            let argv = asTestUser(["/usr/bin/env", "-C", "/", PRootFixtures.burrowProot, "-q", q, "true"])
            var env = PRootFixtures.environment
            env["BURROW_ENGINE"] = "namespace"
            guard let p = try? spawn(argv, environment: env) else { Issue.record("spawn"); return }
            let r = await p.wait(timeout: 30)
            expectStatus(r, 1)
            expectStderr(r, contains: message)
        }
    }

    @Test("A rootfs that does not exist: status 1")
    func missingRootfs() async {
        let r = await proot(["-r", "/nonexistent/rootfs", "true"])
        expectStatus(r, 1)
        expectStderr(r, contains: "/nonexistent/rootfs")
    }
}

// MARK: - Parity with the real PRoot

@Suite("proot parity with PRoot", .timeLimit(.minutes(3)),
       .enabled(if: PRootFixtures.realProotPresent || PRootFixtures.inCI,
                "the real proot is not installed (apt-get install proot; scripts/deps does it as root)"))
struct PRootParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let args: [String]
        var cwd = "/"
        var stdin: String?
        var testDescription: String { "proot " + args.map(shellQuote).joined(separator: " ") + (cwd == "/" ? "" : " (from \(cwd))") }
    }

    static let root = "@ROOT@"

    // Excluded, with why:
    // - a guest killed by a signal: PRoot says 255, Burrow 128+N (as the manual's "exit
    //   status of the last terminated program" would have it for a shell; see README);
    // - `ls -ln`/`stat` of files the caller does not own: PRoot shows the host's owner
    //   (root as 0), the namespace engine shows the overflow id 65534 (the kernel's view);
    // - `ps`: PRoot's own process is among the guest's (it is the tracer), Burrow's is not;
    // - -V/-h: each prints its own version and usage;
    // - a -b destination missing from a rootfs the caller cannot write to: PRoot fakes it,
    //   Burrow must create a mount point and fails (so the cases bind onto existing paths);
    // - `--` before the command: PRoot 5.1.0 rejects it ("unknown option '--'"), Burrow
    //   takes it as the end of the options (the only way to run a command named "-x");
    // - warnings on stderr (PRoot warns about a missing -w or default cwd, and missing -b
    //   host paths): only stdout and the status are compared.
    static let cases: [Case] = [
        Case(args: ["-r", root, "cat", "/etc/hostname"]),
        Case(args: ["-r", root], stdin: "echo from-stdin; cat /etc/os-release; exit 3\n"),
        Case(args: ["--rootfs=\(root)", "sh", "-c", "echo $0 \"$@\"", "zero", "one", "two"]),
        Case(args: ["-r", root, "-b", "/etc/hostname:/tmp/h", "cat", "/tmp/h"]),
        Case(args: ["-r", root, "-b", "/usr/share/common-licenses:/home", "ls", "/home"]),
        Case(args: ["-r", root, "-b", "/nonexistent/path", "echo", "skipped"]),
        Case(args: ["-r", root, "-w", "/etc", "pwd"]),
        Case(args: ["-r", root, "--cwd=/usr/bin", "pwd"]),
        Case(args: ["-r", root, "-w", "/nonexistent", "pwd"]),
        Case(args: ["-r", root, "-w", "tmp", "pwd"], cwd: "/var"),
        Case(args: ["-r", root, "pwd"], cwd: "/etc"),
        Case(args: ["-r", root, "pwd"], cwd: "/usr/share"),
        Case(args: ["-r", root, "-0", "sh", "-c", "id -u; id -g; id -un"]),
        Case(args: ["-r", root, "-i", "5:6", "sh", "-c", "id -u; id -g"]),
        Case(args: ["-r", root, "--change-id=1000:100", "id"]),
        Case(args: ["-S", root, "sh", "-c", "id -u; head -1 /etc/passwd; test -c /dev/null && echo dev"]),
        Case(args: ["-R", root, "sh", "-c", "md5sum /etc/passwd; test -d /proc/self && echo proc; echo $HOME"]),
        Case(args: ["-r", root, "sh", "-c", "exit 42"]),
        Case(args: ["-r", root, "-b", "/dev", "sh", "-c", "(sleep 0.3; exit 7) & exit 3"]),
        Case(args: ["-r", root, "-b", "/dev", "sh", "-c", "(sleep 0.3; exit 0) & exit 5"]),
        Case(args: ["-r", root, "no-such-command"]),
        Case(args: ["-r/tmp", "true"]),
        Case(args: ["--bogus", "true"]),
        Case(args: ["-r"]),
    ]

    @Test(arguments: cases)
    func sameOutputAndStatus(_ c: Case) async throws {
        try #require(PRootFixtures.realProotPresent, "the real proot is missing (\(PRootFixtures.realProot))")
        let args = c.args.map { $0.replacingOccurrences(of: Self.root, with: Harness.sharedRootfs) }
        let real = await proot(args, real: true, cwd: c.cwd, stdin: c.stdin)
        let ours = await proot(args, cwd: c.cwd, stdin: c.stdin)
        #expect(ours.stdout == real.stdout, "stdout differs:\nPRoot: \(real)\nBurrow: \(ours)")
        #expect(ours.status == real.status, "status differs:\nPRoot: \(real)\nBurrow: \(ours)")
    }

    @Test("Known difference: a signal gives 128+N where PRoot says 255")
    func signalDiffers() async throws {
        try #require(PRootFixtures.realProotPresent)
        let real = await proot(["-r", Harness.sharedRootfs, "sh", "-c", "kill -9 $$"], real: true)
        let ours = await proot(["-r", Harness.sharedRootfs, "sh", "-c", "kill -9 $$"])
        expectStatus(real, 255)
        expectStatus(ours, 137)
    }
}

// MARK: - QEMU user mode

@Suite("proot -q and burrow --qemu", .timeLimit(.minutes(3)),
       .enabled(if: PRootFixtures.qemuReady || PRootFixtures.inCI,
                "no arm64 busybox or qemu-aarch64-static: run scripts/test as root (it fetches them)"))
struct PRootQemuTests {
    @Test("proot -R ARM64ROOT -q qemu-aarch64 uname -m prints aarch64; without -q the exec fails")
    func unameThroughQemu() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture: BURROW_TEST_ARM64_BUSYBOX or \(PRootFixtures.qemu)")
        let r0 = try await makeArm64Rootfs(owner: nil)
        defer { r0.remove() }
        let r = await proot(["-R", r0.path, "-q", "qemu-aarch64", "uname", "-m"])
        expectSuccess(r)
        expectLines(r, ["aarch64"])
        // Without -q: the kernel has no way to run an arm64 file. Unless the host itself
        // has an aarch64 binfmt_misc entry (qemu-user-binfmt, or a container host that
        // registered one): then it would run and this check would be meaningless.
        if !PRootFixtures.hostRunsAarch64 {
            let without = await proot(["-R", r0.path, "/bin/uname", "-m"])
            #expect(without.status != 0, "an arm64 binary ran without -q:\n\(without)")
            expectStdout(without, lacks: "aarch64")
        }
    }

    @Test("As the caller, and with -0 (id shows 0)", arguments: [[String](), ["-0"]])
    func identities(extra: [String]) async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r0 = try await makeArm64Rootfs(owner: nil)
        defer { r0.remove() }
        let r = await proot(extra + ["-R", r0.path, "-q", "qemu-aarch64", "sh", "-c", "id -u; uname -m"])
        expectSuccess(r)
        expectLines(r, [extra.isEmpty ? "\(testUser.uid)" : "0", "aarch64"])
    }

    @Test("Mixed execution: /host-rootfs/bin/echo (a dynamic host binary) runs natively; nothing is left behind")
    func mixedExecution() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r0 = try await makeArm64Rootfs(owner: testUser)
        defer { r0.remove() }
        let before = treeListing(r0.path)
        let r = await proot(["-R", r0.path, "-q", "qemu-aarch64"] + sh("""
            /bin/echo 'Hello world!'; /host-rootfs/bin/echo 'Hello mixed world!'; uname -m; /host-rootfs/bin/uname -m
            """))
        expectSuccess(r)
        var hostMachine = utsname()
        uname(&hostMachine)
        let machine = withUnsafeBytes(of: hostMachine.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        expectLines(r, ["Hello world!", "Hello mixed world!", "aarch64", machine])
        // The mount points Burrow made (/host-rootfs, /lib64, /lib/x86_64-linux-gnu...) are gone.
        #expect(treeListing(r0.path) == before, "left in the rootfs: \(Set(treeListing(r0.path)).subtracting(before))")
    }

    @Test("-q 'qemu-aarch64 -strace' shows QEMU's strace output")
    func strace() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r0 = try await makeArm64Rootfs(owner: nil)
        defer { r0.remove() }
        let r = await proot(["-R", r0.path, "-q", "qemu-aarch64 -strace", "/bin/true"])
        expectSuccess(r)
        #expect((r.stdout + r.stderr).contains("exit_group(0)"), "no strace output:\n\(r)")
    }

    @Test("-q with QEMU options: they travel as QEMU_* variables (-E sets the guest's environment)")
    func optionAsEnvironment() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r0 = try await makeArm64Rootfs(owner: nil)
        defer { r0.remove() }
        // -E sets a variable in the guest through QEMU itself.
        let r = await proot(["-r", r0.path, "-q", "qemu-aarch64 -E BURROW_QEMU_SAYS=hi -E OTHER=2", "sh", "-c", "echo $BURROW_QEMU_SAYS $OTHER"])
        expectSuccess(r)
        expectLines(r, ["hi 2"])
    }

    @Test("burrow --qemu works the same", arguments: [["--qemu", "qemu-aarch64"], ["--qemu", "/usr/bin/qemu-aarch64-static"]])
    func burrowQemu(args: [String]) async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r0 = try await makeArm64Rootfs(owner: testUser)
        defer { r0.remove() }
        let before = treeListing(r0.path)
        let r = await burrow(args + [r0.path] + sh("uname -m; /host-rootfs/bin/echo mixed"))
        expectSuccess(r)
        expectLines(r, ["aarch64", "mixed"])
        #expect(treeListing(r0.path) == before, "left in the rootfs: \(Set(treeListing(r0.path)).subtracting(before))")
    }

    @Test("A QEMU program that does not exist: a clear error, status 1")
    func missingQemu() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let r = await proot(["-r", Harness.sharedRootfs, "-q", "qemu-riscv32", "true"])
        // qemu-user-static ships riscv32 on some releases: only a missing one must fail.
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-riscv32-static") {
            expectStatus(r, 1)
            expectStderr(r, contains: "qemu-riscv32")
        }
        let r2 = await proot(["-r", Harness.sharedRootfs, "-q", "/nonexistent/qemu-aarch64", "true"])
        expectStatus(r2, 1)
        expectStderr(r2, contains: "/nonexistent/qemu-aarch64")
    }
}
