// The ptrace engine's faked identity, uname and QEMU, on a host without user namespaces
// (scripts/no-userns): `auto` picks the ptrace engine there. Burrow's results are compared
// with the real proot's where both fake the same thing.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `program` (burrow, or a front-end link to it) with `args` as the test user on a host
/// without user namespaces. Not as root (no scripts/no-userns then): with the ptrace engine
/// forced instead.
func withoutUserNamespaces(
    _ args: [String], program: String = Harness.binary, environment: [String: String] = [:], timeout: Double = 60,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    var env = PRootFixtures.environment.merging(environment) { $1 }
    var argv = asTestUser(["/usr/bin/env", "-C", "/", program] + args)
    if Harness.runningAsRoot {
        argv = ["\(Harness.packageRoot)/scripts/no-userns"] + argv
    } else {
        env["BURROW_ENGINE"] = "ptrace"
    }
    do {
        let p = try spawn(argv, environment: env)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(argv): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// A file's owner and mode on the host.
func hostStat(_ path: String) -> (uid: uid_t, gid: gid_t, mode: mode_t, regular: Bool)? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return (st.st_uid, st.st_gid, st.st_mode & 0o7777, st.st_mode & S_IFMT == S_IFREG)
}

@Suite("Ptrace engine: faked identity", .timeLimit(.minutes(3)))
struct PtraceIdentityTests {
    @Test("--root: the id calls agree; set*id is remembered per process and inherited across fork and exec")
    func ids() async throws {
        let probe = try #require(SysProbe.path())
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await withoutUserNamespaces(["-v", "--root", "--ro-bind", probe, "/sysprobe", root.path] + sh("""
            id; /sysprobe ids
            su -s /bin/sh daemon -c 'id -u; sh -c "id -un; /sysprobe ids"; (id -g)'
            id -u
            """))
        expectSuccess(r)
        expectLines(r, ["uid=0(root) gid=0(root) groups=0(root)", "ids=0,0,0:0,0,0",
                        "1", "daemon", "ids=1,1,1:1,1,1", "1", "0"])
        if Harness.runningAsRoot { expectStderr(r, contains: "engine ptrace (auto)") }
    }

    @Test("--uid and --gid: the caller's files appear as theirs, others' as they are; root's rights are not faked")
    func otherIds() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await withoutUserNamespaces(["--uid", "1000", "--gid", "100", "--proc", "/proc", root.path] + sh("""
            id -u; id -g; stat -c '%u %g' /bin/busybox /proc/1
            touch /tmp/mine; chown 5 /tmp/mine 2>/dev/null || echo chown-refused; chgrp 100 /tmp/mine && echo chgrp-ok
            """))
        expectSuccess(r)
        expectLines(r, ["1000", "100", "1000 100", "0 0", "chown-refused", "chgrp-ok"])
    }

    @Test("chown, chmod and mknod succeed and later stat calls agree; the host files stay the caller's and usable")
    func filesRemembered() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await withoutUserNamespaces(["--root", root.path] + sh("""
            touch /tmp/f; chown 12:34 /tmp/f; chmod 4750 /tmp/f; stat -c '%u %g %a' /tmp/f
            mkdir /tmp/d; chmod 000 /tmp/d; echo inside > /tmp/d/in && cat /tmp/d/in; stat -c %a /tmp/d
            mknod /tmp/tty c 5 0; stat -c '%F %t %T %u' /tmp/tty
            ln -s f /tmp/link; chown -h 7:8 /tmp/link; stat -c '%u %g' /tmp/link /tmp/f
            rm /tmp/tty; touch /tmp/tty; stat -c '%F %u' /tmp/tty
            """))
        expectSuccess(r)
        expectLines(r, ["12 34 4750", "inside", "0", "character special file 5 0 0", "7 8", "12 34", "regular empty file 0"])
        let f = hostStat(root.at("/tmp/f")), d = hostStat(root.at("/tmp/d"))
        #expect(f?.uid == testUser.uid && f?.mode == 0o750, "host /tmp/f: \(String(describing: f))")
        #expect(d?.mode == 0o700, "host /tmp/d: \(String(describing: d))")
    }

    @Test("tar -x as root keeps the archive's owners and modes; with --fake-db they are still there on the next run")
    func archiveOwnersPersist() async throws {
        guard Harness.runningAsRoot else { return }
        let root = await makePrivateRootfs()
        defer { root.remove() }
        // The archive, made on the host by real root: owners busybox tar must restore.
        let stage = makeTempDir()
        defer { stage.remove() }
        mkdir(stage.sub("etc"), 0o755)
        writeFile(stage.sub("etc/conf"), "conf\n")
        mkdir(stage.sub("app"), 0o750)
        writeFile(stage.sub("app/data"), "data\n")
        writeFile(stage.sub("tool"), "#!/bin/sh\necho tool-ran\n")
        chown(stage.sub("etc/conf"), 0, 42); chmod(stage.sub("etc/conf"), 0o640)
        chown(stage.sub("app"), 100, 101); chown(stage.sub("app/data"), 100, 101); chmod(stage.sub("app/data"), 0o400)
        chmod(stage.sub("tool"), 0o4755)
        let tar = await runHostAsync(["/bin/tar", "-C", stage.path, "--numeric-owner", "-cf", root.at("/pkg.tar"), "etc", "app", "tool"])
        try #require(tar.status == 0, "tar: \(tar.stderr)")
        chown(root.at("/pkg.tar"), testUser.uid, testUser.gid)
        let db = makeTempDir(owner: testUser)
        defer { db.remove() }
        let check = "cd /opt && stat -c '%n %u %g %a' etc/conf app app/data tool && cat app/data && ./tool"
        let first = await withoutUserNamespaces(["--root", "--fake-db", db.sub("owners"), root.path] + sh("mkdir -p /opt && cd /opt && tar -xpf /pkg.tar && \(check)"))
        let expected = ["etc/conf 0 42 640", "app 100 101 750", "app/data 100 101 400", "tool 0 0 4755", "data", "tool-ran"]
        expectSuccess(first)
        expectLines(first, expected)
        let again = await withoutUserNamespaces(["--root", "--fake-db", db.sub("owners"), root.path] + sh(check))
        expectSuccess(again)
        expectLines(again, expected)
        // Without the database only the defaults are left: everything the caller's, as root's.
        let forgotten = await withoutUserNamespaces(["--root", root.path] + sh("stat -c '%u %g' /opt/app/data"))
        expectLines(forgotten, ["0 0"])
        // The same database through proot's front-end (BURROW_FAKE_DB).
        let viaProot = await withoutUserNamespaces(["-0", "-r", root.path] + sh("stat -c '%u %g %a' /opt/app"),
                                                   program: PRootFixtures.burrowProot, environment: ["BURROW_FAKE_DB": db.sub("owners")])
        expectLines(viaProot, ["100 101 750"])
        #expect(hostStat(root.at("/opt/app/data"))?.uid == testUser.uid)
        #expect(readFile(db.sub("owners"))?.hasPrefix("burrow-fake-db 1\n") == true)
        #expect(!pathExists(db.sub("owners.burrow-new")))
    }

    @Test("dpkg -i of a local package under faked root: its owners, set-id bits and device node hold on the next run")
    func dpkgInstall() async throws {
        guard Harness.runningAsRoot else { return }
        let dpkgDeb = "/usr/bin/dpkg-deb"
        try #require(FileManager.default.isExecutableFile(atPath: dpkgDeb), "dpkg-deb is missing")
        // The package: a data file owned by 100:101 in the archive, a program the postinst
        // gives to 7:8 and makes set-uid, and a device node the postinst makes.
        let work = makeTempDir()
        defer { work.remove() }
        for d in ["pkg", "pkg/DEBIAN", "pkg/opt", "pkg/opt/hello", "pkg/opt/hello/bin", "pkg/opt/hello/data"] { mkdir(work.sub(d), 0o755) }
        writeFile(work.sub("pkg/DEBIAN/control"), "Package: burrow-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: Burrow <burrow@example.org>\nDescription: test package\n")
        writeFile(work.sub("pkg/DEBIAN/postinst"), "#!/bin/sh\nset -e\nchown 7:8 /opt/hello/bin/hello\nchmod 4755 /opt/hello/bin/hello\nmknod /opt/hello/null c 1 3\n")
        writeFile(work.sub("pkg/opt/hello/bin/hello"), "#!/bin/sh\necho hello-from-package\n")
        writeFile(work.sub("pkg/opt/hello/data/secret"), "secret\n")
        chmod(work.sub("pkg/DEBIAN/postinst"), 0o755); chmod(work.sub("pkg/opt/hello/bin/hello"), 0o755); chmod(work.sub("pkg/opt/hello/data/secret"), 0o640)
        chown(work.sub("pkg/opt/hello/data"), 100, 101); chown(work.sub("pkg/opt/hello/data/secret"), 100, 101)
        let built = await runHostAsync([dpkgDeb, "-b", work.sub("pkg"), work.sub("hello.deb")])
        try #require(built.status == 0, "dpkg-deb: \(built.stderr)")
        // The rootfs: the host's /usr and /etc read-only (dpkg and a shell), its own dpkg database.
        let root = makeTempDir(owner: testUser)
        defer { root.remove() }
        for d in ["usr", "etc", "opt", "tmp", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"] {
            mkdir(root.sub(d), 0o755)
        }
        for l in ["bin", "sbin", "lib", "lib64"] { symlink("usr/\(l)", root.sub(l)) }
        writeFile(root.sub("var/lib/dpkg/status"), "")
        writeFile(root.sub("var/lib/dpkg/available"), "")
        _ = await runHostAsync(["/bin/cp", work.sub("hello.deb"), root.sub("hello.deb")])
        _ = await runHostAsync(["/bin/chown", "-R", "-h", "\(testUser.uid):\(testUser.gid)", root.path])
        let db = makeTempDir(owner: testUser)
        defer { db.remove() }
        let options = ["--root", "--fake-db", db.sub("owners"), "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
                       "--dev", "/dev", "--proc", "/proc", root.path]
        let check = "stat -c '%n %u %g %a %F' /opt/hello/bin/hello /opt/hello/data /opt/hello/data/secret /opt/hello/null; /opt/hello/bin/hello"
        let expected = ["/opt/hello/bin/hello 7 8 4755 regular file", "/opt/hello/data 100 101 755 directory",
                        "/opt/hello/data/secret 100 101 640 regular file", "/opt/hello/null 0 0 644 character special file",
                        "hello-from-package"]
        let install = await withoutUserNamespaces(options + sh("dpkg -i /hello.deb >/dev/null && \(check)"))
        expectSuccess(install)
        expectLines(install, expected)
        let next = await withoutUserNamespaces(options + sh("\(check); dpkg -s burrow-hello | grep Status"))
        expectSuccess(next)
        expectLines(next, expected + ["Status: install ok installed"])
        #expect(hostStat(root.sub("opt/hello/data/secret"))?.uid == testUser.uid)
        #expect(hostStat(root.sub("opt/hello/null"))?.regular == true)
    }

    @Test("A damaged --fake-db is refused before the command runs, naming the file and line")
    func damagedDatabase() async {
        let db = makeTempDir(owner: testUser)
        defer { db.remove() }
        writeFile(db.sub("owners"), "burrow-fake-db 1\n1 2 three\n", owner: testUser)
        let r = await withoutUserNamespaces(["--root", "--fake-db", db.sub("owners"), Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(r, 125)
        expectStderr(r, contains: "\(db.sub("owners")): line 2")
        expectStdout(r, lacks: "RAN")
    }
}

@Suite("Ptrace engine: faked uname and QEMU", .timeLimit(.minutes(3)))
struct PtraceEmulationTests {
    @Test("proot -k with PRoot's full form: each field, /proc/sys/kernel/osrelease and AT_HWCAP")
    func fullUname() async throws {
        let probe = try #require(SysProbe.path())
        let r = await withoutUserNamespaces(["-k", "\\Plan9\\box\\2.6.32\\#7 SMP\\mips\\home\\1f\\", "-R", Harness.sharedRootfs,
                                             "-b", "\(probe):/sysprobe"] + sh("""
            uname -s; uname -n; uname -r; uname -v; uname -m; cat /proc/sys/kernel/osrelease; /sysprobe hwcap
            """), program: PRootFixtures.burrowProot)
        expectSuccess(r)
        expectLines(r, ["Plan9", "box", "2.6.32", "#7 SMP", "mips", "2.6.32", "hwcap=1f"])
    }

    @Test("The host's /proc bound in (-R, -b /proc, --bind /proc /proc): /proc/self is the guest process, not burrow",
          arguments: [["-R"], ["-b", "/proc", "-r"], ["--bind", "/proc", "/proc"]])
    func hostProcBound(_ form: [String]) async {
        // Was: /proc/self/exe named burrow itself, and busybox re-executing itself ran burrow.
        let program = form.first == "--bind" ? Harness.binary : PRootFixtures.burrowProot
        let r = await withoutUserNamespaces(form + [Harness.sharedRootfs] + sh("""
            readlink /proc/self/exe; [ "$(readlink /proc/self)" -gt 0 ] && echo self-is-a-pid
            [ -L /proc/self ] && echo self-is-a-link; cat /proc/self/cmdline | tr '\\0' ' '; echo
            mkdir /tmp/d.$$; ln -s /proc/self/exe /tmp/d.$$/uname && /tmp/d.$$/uname -s; rm -r /tmp/d.$$
            """), program: program)
        expectSuccess(r)
        expectLines(r, ["/bin/busybox", "self-is-a-pid", "self-is-a-link", "cat /proc/self/cmdline ", "Linux"])
    }

    @Test("--kernel-release: the release only; the machine stays real")
    func plainRelease() async {
        let r = await withoutUserNamespaces(["--kernel-release", "3.1.4-old", Harness.sharedRootfs] + sh("uname -r; uname -m"))
        expectSuccess(r)
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        expectLines(r, ["3.1.4-old", machine])
    }

    @Test("--qemu: an arm64 rootfs runs; argv[0] and /proc/self/exe look native; host programs run natively from /host-rootfs")
    func qemu() async throws {
        try #require(PRootFixtures.qemuReady, "missing fixture")
        let arm = try await makeArm64Rootfs(owner: testUser)
        defer { arm.remove() }
        let r = await withoutUserNamespaces(["--root", "--qemu", "qemu-aarch64", "--proc", "/proc", arm.path] + sh("""
            uname -m; echo $0; readlink /proc/self/exe; /host-rootfs/bin/echo mixed; /host-rootfs/usr/bin/uname -m
            id -u; touch /tmp/a; chown 3:4 /tmp/a; stat -c '%u %g' /tmp/a; sh -c 'echo nested $0'
            """))
        expectSuccess(r)
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        expectLines(r, ["aarch64", "/bin/sh", "/bin/busybox", "mixed", machine, "0", "3 4", "nested sh"])
    }
}

@Suite("Ptrace engine: the same as the real proot", .timeLimit(.minutes(3)))
struct PtraceProotParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let options: [String]
        let script: String
        var arm64 = false
        var testDescription: String { options.joined(separator: " ") + ": " + script }
    }

    @Test(arguments: [
        Case(options: ["-0"], script: "id -u; id -g; touch /tmp/p; stat -c %u:%g /tmp/p /bin/busybox; chown 12:34 /tmp/p && echo chown-ok; mknod /tmp/n c 1 3 && echo mknod-ok; chroot / true && echo chroot-ok"),
        Case(options: ["-i", "1000:100"], script: "id -u; id -g; stat -c %u:%g /bin/busybox; touch /tmp/i; stat -c %u:%g /tmp/i"),
        Case(options: ["-k", "3.2.1"], script: "uname -r; uname -s; uname -m"),
        Case(options: ["-0", "-k", "\\Linux\\node\\4.4.4\\#1\\x86_64\\dom\\0\\"], script: "id -u; uname -n; uname -r; uname -v"),
        Case(options: ["-q", PRootFixtures.qemu], script: "uname -m; /host-rootfs/bin/echo mixed; echo $0; cat /etc/hostname", arm64: true),
        Case(options: ["-0", "-q", PRootFixtures.qemu], script: "id -u; uname -m; touch /tmp/q; stat -c %u /tmp/q", arm64: true),
    ])
    func same(_ c: Case) async throws {
        try #require(PRootFixtures.realProotPresent, "proot is not installed (scripts/deps installs it)")
        if c.arm64 { try #require(PRootFixtures.qemuReady, "missing fixture") }
        let root = c.arm64 ? try await makeArm64Rootfs(owner: testUser) : await makePrivateRootfs()
        defer { root.remove() }
        let args = c.options + ["-r", root.path, "/bin/sh", "-c", c.script]
        let real = await runHostAsync(asTestUser(["/usr/bin/env", "-C", "/", PRootFixtures.realProot] + args))
        // Between runs: the real proot's files go, so that both start alike.
        _ = await runHostAsync(["/bin/rm", "-rf", root.at("/tmp/p"), root.at("/tmp/n"), root.at("/tmp/i"), root.at("/tmp/q")])
        let ours = await withoutUserNamespaces(args, program: PRootFixtures.burrowProot)
        #expect(real.status == 0, "proot: \(real.stderr)")
        expectSuccess(ours)
        #expect(ours.stdout == real.stdout, "burrow:\n\(ours.stdout)\nproot:\n\(real.stdout)")
    }

    @Test("Where Burrow deliberately differs: a chown is remembered (proot -0 forgets it)")
    func chownRemembered() async throws {
        try #require(PRootFixtures.realProotPresent, "proot is not installed (scripts/deps installs it)")
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let script = "touch /tmp/c; chown 12:34 /tmp/c; stat -c %u:%g /tmp/c"
        let real = await runHostAsync(asTestUser(["/usr/bin/env", "-C", "/", PRootFixtures.realProot, "-0", "-r", root.path] + sh(script)))
        let ours = await withoutUserNamespaces(["-0", "-r", root.path] + sh(script), program: PRootFixtures.burrowProot)
        #expect(real.stdout == "0:0\n", "proot: \(real.stdout) \(real.stderr)")
        expectLines(ours, ["12:34"])
    }
}
