// jchroot(8) with Burrow in its place: every option and the manual's fstab example, run as
// the unprivileged test user through a symlink named `jchroot`.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

private func jchroot(_ args: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    await runTool("jchroot", args, stdin: stdin, sourceLocation: sourceLocation)
}

/// An fstab file the test user can read.
private func fstab(_ text: String) -> (TempDir, String) {
    let dir = makeUserDir(["fstab": text])
    return (dir, dir.sub("fstab"))
}

@Suite("jchroot", .timeLimit(.minutes(1)))
struct JChrootTests {
    let rootfs = Harness.sharedRootfs

    @Test("The manual's fstab example")
    func manualFstab() async throws {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let (dir, file) = fstab("""
            proc /proc proc defaults 0 0
            sys /sys sysfs defaults 0 0
            /home /home none bind,rw 0 0
            /dev/pts /dev/pts none bind,rw 0 0
            /var/run /var/run tmpfs rw,nosuid,noexec,mode=755 0 0
            /etc/resolv.conf /etc/resolv.conf none bind,ro 0 0

            """)
        defer { dir.remove() }
        let r = await jchroot(["-f", file, chroot.path] + sh("cat /etc/resolv.conf; \(printMounts)"))
        expectSuccess(r)
        #expect(r.beforeMounts == (readFile("/etc/resolv.conf") ?? "?"), "\(r)")
        #expect(expectMount(r, at: "/proc")?.fsType == "proc")
        #expect(expectMount(r, at: "/sys")?.fsType == "sysfs")
        let home = expectMount(r, at: "/home")
        // The host's /home: its own mount's root, or the directory of the root filesystem.
        #expect(home?.root == hostMountinfo().top(at: "/home")?.root ?? "/home", "/home is the host's /home:\n\(r)")
        expectOption(home, "rw", context: r)
        #expect(expectMount(r, at: "/dev/pts")?.fsType == "devpts")
        let run = expectMount(r, at: "/var/run")
        #expect(run?.fsType == "tmpfs")
        expectOption(run, "noexec", context: r)
        expectOption(run, "nosuid", context: r)
        #expect(run?.superOptions.contains("mode=755") == true, "\(r)")
        expectOption(expectMount(r, at: "/etc/resolv.conf"), "ro", context: r)
        // Mount points made in the user's chroot are gone again.
        #expect(!pathExists(chroot.at("/var/run")) && !pathExists(chroot.at("/etc/resolv.conf")))
    }

    @Test("A malformed fstab line: exit 1, naming the file, line and problem")
    func badFstab() async {
        let (dir, file) = fstab("proc /proc proc defaults 0 0\n# comment\nsys sys sysfs defaults 0 0\n")
        defer { dir.remove() }
        let r = await jchroot(["-f", file, rootfs, "/bin/true"])
        expectStatus(r, 1)
        expectStderr(r, contains: "jchroot: -f \(file):3: mount point 'sys' is not absolute")
        let missing = await jchroot(["-f", dir.sub("nope"), rootfs, "/bin/true"])
        expectStatus(missing, 1)
        expectStderr(missing, contains: "cannot read it: No such file or directory")
    }

    @Test("fstab: flags and data reach the mounts; binds keep devices unless nodev")
    func fstabFlags() async {
        let (dir, file) = fstab("""
            proc /proc proc defaults
            tmpfs /t tmpfs ro,nodev,noexec,noatime,size=1m,mode=0700 0 0
            /dev/null /n1 none bind 0 0
            /dev/null /n2 none bind,nodev 0 0
            /etc /e none rbind,ro,noexec
            /no/such/path /opt none bind,nofail

            """)
        defer { dir.remove() }
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let r = await jchroot(["-f", file, "-f", file, chroot.path]
            + sh("echo x > /n1 && echo n1-ok; echo x 2>&- > /n2 || echo n2-refused; \(printMounts)"))
        expectSuccess(r)
        #expect(r.beforeMounts == "n1-ok\nn2-refused\n", "\(r)")
        let t = expectMount(r, at: "/t")
        for o in ["ro", "nodev", "noexec", "nosuid", "noatime"] { expectOption(t, o, context: r) }
        #expect(t?.superOptions.contains("size=1024k") == true && t?.superOptions.contains("mode=700") == true, "\(r)")
        expectOption(expectMount(r, at: "/n1"), "nodev", present: false, context: r)
        expectOption(expectMount(r, at: "/n2"), "nodev", context: r)
        let e = expectMount(r, at: "/e")
        expectOption(e, "ro", context: r)
        expectOption(e, "noexec", context: r)
        #expect(r.mounts.top(at: "/opt") == nil, "nofail skips a missing source:\n\(r)")
    }

    @Test("Always new PID, mount and IPC namespaces; the shared ones stay the host's")
    func namespaces() async {
        let (dir, file) = fstab("proc /proc proc defaults\n")
        defer { dir.remove() }
        let r = await jchroot(["-f", file, rootfs]
            + sh("for n in pid ipc mnt net uts; do readlink /proc/self/ns/$n; done; ls /proc | grep -c '^[0-9]'"))
        expectSuccess(r)
        guard r.lines.count == 6 else { Issue.record("\(r)"); return }
        #expect(r.lines[0] != hostNamespace("pid") && r.lines[1] != hostNamespace("ipc") && r.lines[2] != hostNamespace("mnt"), "\(r)")
        #expect(r.lines[3] == hostNamespace("net") && r.lines[4] == hostNamespace("uts"), "\(r)")
        #expect((Int(r.lines[5]) ?? 999) < 6, "\(r)")
    }

    @Test("-U and --new-user-ns are accepted (a user namespace is always there)", arguments: ["-U", "--new-user-ns"])
    func newUserNS(option: String) async {
        let r = await jchroot([option, rootfs, "/bin/sh", "-c", "id -u"])
        expectSuccess(r)
        expectLines(r, ["\(testUser.uid)"])
    }

    @Test("-N / --new-network-ns: only lo", arguments: ["-N", "--new-network-ns"])
    func newNetworkNS(option: String) async {
        let r = await jchroot([option, rootfs, "ip", "link"])
        expectSuccess(r)
        #expect(interfaces(r) == ["lo"], "\(r)")
    }

    @Test("-n / --hostname NAME: a new UTS namespace with that name", arguments: [["-n", "box"], ["--hostname=box"], ["-nbox"]])
    func hostname(args: [String]) async {
        let r = await jchroot(args + [rootfs, "hostname"])
        expectSuccess(r)
        expectLines(r, ["box"])
    }

    @Test("-e / --env NAME=VALUE, repeatable")
    func env() async {
        let r = await jchroot(["-e", "A=1", "--env", "B=two words", "--env=C=x=y", rootfs] + sh(#"echo "$A|$B|$C""#))
        expectSuccess(r)
        expectLines(r, ["1|two words|x=y"])
    }

    @Test("-c / --chdir DIR", arguments: [["-c", "/etc"], ["--chdir", "etc"], ["--chdir=/etc"]])
    func chdir(args: [String]) async {
        let r = await jchroot(args + [rootfs, "pwd"])
        expectSuccess(r)
        expectLines(r, ["/etc"])
    }

    /// A rootfs with a user and a group of its own in /etc/passwd and /etc/group.
    static func rootfsWithUsers() async -> PrivateRootfs {
        let chroot = await makePrivateRootfs()
        let passwd = (readFile(chroot.at("/etc/passwd")) ?? "") + "builder:x:1234:1234:Builder:/home:/bin/sh\n"
        let group = (readFile(chroot.at("/etc/group")) ?? "") + "builder:x:1234:\nbuilders:x:4321:\n"
        writeFile(chroot.at("/etc/passwd"), passwd, owner: testUser)
        writeFile(chroot.at("/etc/group"), group, owner: testUser)
        return chroot
    }

    @Test("-u / -g by name (the target's /etc/passwd and /etc/group) or number", arguments: [
        (["-u", "builder"], "1234 1234 builder"),
        (["--user=builder", "-g", "builders"], "1234 4321 builder"),
        (["-g", "builders", "-u", "builder"], "1234 4321 builder"),
        (["-u", "builder", "-g", "0"], "1234 0 builder"),
        (["-u", "daemon"], "1 1 daemon"),
        (["-u", "77", "-g", "88"], "77 88 77"),
        (["-u", "0"], "0 TESTGID root"),
        (["--group=builders"], "TESTUID 4321 TESTUID"),
    ])
    func user(args: [String], expected: String) async {
        let chroot = await Self.rootfsWithUsers()
        defer { chroot.remove() }
        let r = await jchroot(args + [chroot.path] + sh("echo $(id -u) $(id -g) $(id -un 2>&-)"))
        expectSuccess(r)
        let want = expected.replacingOccurrences(of: "TESTUID", with: "\(testUser.uid)")
            .replacingOccurrences(of: "TESTGID", with: "\(testUser.gid)")
        expectLines(r, [want])
    }

    @Test("-u with a name the target does not know: exit 1")
    func unknownUser() async {
        let r = await jchroot(["-u", "nosuchuser", rootfs, "/bin/true"])
        expectStatus(r, 1)
        expectStderr(r, contains: "user 'nosuchuser' is not in the rootfs's /etc/passwd")
    }

    @Test(
        "-M / -G: full maps from the test user's /etc/subuid and /etc/subgid ranges",
        .enabled(if: subIDRanges != nil, "needs root, a test user with /etc/subuid and /etc/subgid ranges, and newuidmap"))
    func maps() async throws {
        let (u, g) = try #require(subIDRanges)
        let (dir, file) = fstab("proc /proc proc defaults\n")
        defer { dir.remove() }
        let show = sh("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map")
        // The manual's form (user_namespaces(7)): the whole range, root inside.
        let r = await jchroot(["-U", "-M", "0 \(u.start) \(u.count)", "-G", "0 \(g.start) \(g.count)", "-f", file, rootfs] + show)
        expectSuccess(r)
        #expect(r.lines.count == 4, "\(r)")
        #expect(r.lines.prefix(2) == ["0", "0"], "\(r)")
        #expect(r.lines.dropFirst(2).map(IdentityTests.mapLine) == [[0, u.start, u.count], [0, g.start, g.count]], "\(r)")
        // Several records, comma separated, in either notation, with -u/-g inside them.
        let several = await jchroot([
            "--uid-map=0 \(testUser.uid) 1,1:\(u.start):100", "--gid-map", "0:\(testUser.gid):1\n1 \(g.start) 100",
            "-u", "5", "-g", "6", "-f", file, rootfs,
        ] + show)
        expectSuccess(several)
        #expect(several.lines.prefix(2) == ["5", "6"], "\(several)")
        #expect(several.lines.dropFirst(2).map(IdentityTests.mapLine)
            == [[0, testUser.uid, 1], [1, u.start, 100], [0, testUser.gid, 1], [1, g.start, 100]], "\(several)")
        // Only the caller's own gid through newgidmap: setgroups is denied there, and fine.
        let own = await jchroot(["-M", "0 \(u.start) 10", "-G", "0 \(testUser.gid) 1", rootfs, "id", "-g"])
        expectSuccess(own)
        expectLines(own, ["0"])
        // A range that is not the user's: newuidmap refuses, jchroot exits 1.
        let refused = await jchroot(["-M", "0 \(u.start + u.count) 10", rootfs, "/bin/true"])
        expectStatus(refused, 1)
        expectStderr(refused, contains: "newuidmap")
    }

    @Test("-p / --pidfile FILE holds the command's pid while it runs")
    func pidfile() async throws {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let dir = makeUserDir()
        defer { dir.remove() }
        let file = dir.sub("j.pid")
        let marker = sleepMarker()
        let script = "echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo \(marker)"
        let p = try startTool("jchroot", ["-p", file, chroot.path] + sh(script))
        #expect(await p.waitForStdout("ready"))
        // Written by burrow once it knows the command runs: maybe just after its first output.
        _ = await eventually(timeout: 10) { !(readFile(file) ?? "").isEmpty }
        let text = readFile(file) ?? ""
        let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(pid != nil, "pid file: '\(text)'")
        if let pid { #expect(hostCmdline(pid)?.last == script, "pid \(pid) is not the command: \(hostCmdline(pid) ?? [])") }
        writeFile(chroot.at("/tmp/go"), "")
        let r = await p.wait()
        expectSuccess(r)
        expectLines(r, ["ready", marker])
    }

    /// The command starts a background loop that waits for /tmp/go, writes /tmp/out and
    /// ends; the command itself exits at once. `marker` makes the script recognisable in /proc.
    static func background(_ marker: String) -> String {
        ": \(marker); (while [ ! -e /tmp/go ]; do sleep 0.05; done; echo alive > /tmp/out) & echo started"
    }

    /// -b as the manual has it: jchroot returns when the command exits, with its status, and
    /// what the command started goes on in the background, in the sandbox (no clock: the
    /// loop waits for a file the test makes only once jchroot has returned).
    @Test("-b / --background: jchroot returns with the command; what it started runs on", arguments: ["-b", "--background"])
    func backgroundKeeps(option: String) async throws {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let (dir, file) = fstab("/dev /dev none rbind\n")
        defer { dir.remove() }
        let r = await jchroot([option, "-f", file, chroot.path] + sh(Self.background(sleepMarker()) + "; exit 5"))
        #expect(r.status == 5, "\(r)")
        expectLines(r, ["started"])
        #expect(!pathExists(chroot.at("/tmp/out")), "jchroot waited for the background process:\n\(r)")
        writeFile(chroot.at("/tmp/go"), "")
        let ran = await eventually(timeout: 20) { readFile(chroot.at("/tmp/out")) == "alive\n" }
        #expect(ran, "the background process did not run on after jchroot returned:\n\(r)")
    }

    @Test("Without -b, every process the command started is killed when it exits")
    func backgroundKilled() async {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let (dir, file) = fstab("/dev /dev none rbind\n")
        defer { dir.remove() }
        let script = Self.background(sleepMarker())
        let r = await jchroot(["-f", file, chroot.path] + sh(script))
        expectSuccess(r)
        expectLines(r, ["started"])
        // jchroot has returned: the loop must be gone (it could only end through /tmp/go).
        #expect(hostProcesses(withArgument: script).isEmpty, "a background process survived")
        writeFile(chroot.at("/tmp/go"), "")
        #expect(!pathExists(chroot.at("/tmp/out")))
    }

    @Test("Options stop at the target: jchroot TARGET /bin/sh -c id runs sh -c id", arguments: [
        ["ROOT", "/bin/sh", "-c", "id -u"],
        ["ROOT", "--", "/bin/sh", "-c", "id -u"],
        ["-U", "--", "ROOT", "/bin/sh", "-c", "id -u"],
        ["ROOT", "-U", "--", "/bin/sh", "-c", "id -u"],
    ])
    func optionsStopAtTarget(args: [String]) async {
        let r = await jchroot(args.map { $0 == "ROOT" ? rootfs : $0 })
        expectSuccess(r)
        expectLines(r, ["\(testUser.uid)"])
    }

    @Test("No command: a shell")
    func defaultShell() async {
        let r = await jchroot([rootfs], stdin: "echo shell $0\n")
        expectSuccess(r)
        expectLines(r, ["shell /bin/sh"])
    }

    @Test("Exit status: the command's; 128+N for a signal; 1 when jchroot fails", arguments: [
        (["ROOT"] + sh("exit 9"), Int32(9), ""),
        (["ROOT"] + sh("kill -9 $$"), 137, ""),
        (["ROOT", "/no/such/program"], 1, "/no/such/program"),
        (["/no/such/dir", "/bin/true"], 1, "/no/such/dir"),
        (["-x", "ROOT", "/bin/true"], 1, "jchroot: invalid option -- 'x'"),
        ([], 1, "missing TARGET"),
        (["-M", "0 1", "ROOT"], 1, "is not a mapping"),
        (["-c", "/no/such/dir", "ROOT", "/bin/true"], 1, "/no/such/dir"),
    ])
    func exitStatus(args: [String], status: Int32, stderr: String) async {
        let r = await jchroot(args.map { $0 == "ROOT" ? rootfs : $0 })
        expectStatus(r, status)
        if !stderr.isEmpty { expectStderr(r, contains: stderr) }
    }

    @Test("-h / --help print the help and exit 0", arguments: ["-h", "--help"])
    func help(option: String) async {
        let r = await jchroot([option])
        expectSuccess(r)
        expectStdout(r, contains: "Usage: jchroot [OPTIONS] TARGET [--] [COMMAND [ARG...]]")
    }
}
