// linux-user-chroot(8) with Burrow in its place: every option and both examples of its
// manual and README, run as the unprivileged test user through a symlink named
// `linux-user-chroot`.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

private func luc(_ args: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    await runTool("linux-user-chroot", args, stdin: stdin, sourceLocation: sourceLocation)
}

@Suite("linux-user-chroot", .timeLimit(.minutes(1)))
struct LinuxUserChrootTests {
    let rootfs = Harness.sharedRootfs

    /// The README's session: the user's own chroot, their project bound into it, /dev from
    /// the host, /proc of a new PID namespace, no network, an interactive /bin/sh.
    static func readmeExample(seccomp: [String]) async {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let project = makeUserDir(["README": "project file\n"])
        defer { project.remove() }
        mkdir(chroot.at("/usr/src"), 0o755)
        mkdir(chroot.at("/usr/src/project"), 0o755)
        giveToTestUser(chroot.at("/usr/src"))
        giveToTestUser(chroot.at("/usr/src/project"))
        let session = """
            cat /usr/src/project/README
            echo built > /usr/src/project/output
            ip link
            echo processes $(ls /proc | grep -c '^[0-9]')
            echo data > /dev/null && test -c /dev/null && test -d /dev/pts && echo dev-ok
            id -u

            """
        let r = await luc(seccomp + [
            "--unshare-pid", "--unshare-net", "--unshare-pid",
            "--mount-proc", "/proc", "--mount-bind", "/dev", "/dev",
            "--mount-bind", project.path, "/usr/src/project",
            chroot.path, "/bin/sh",
        ], stdin: session)
        expectSuccess(r)
        expectStdout(r, contains: "project file")
        #expect(readFile(project.sub("output")) == "built\n", "the bind is writable and reaches the host:\n\(r)")
        #expect(interfaces(r) == ["lo"], "no network:\n\(r)")
        let count = r.lines.first { $0.hasPrefix("processes ") }.flatMap { Int($0.dropFirst(10)) } ?? 999
        #expect(count < 6, "a new PID namespace shows only the sandbox's processes:\n\(r)")
        expectStdout(r, contains: "dev-ok")
        #expect(r.lines.last == "\(testUser.uid)", "runs as the calling user:\n\(r)")
    }

    @Test("The README's example as written, with --seccomp-profile-version 0")
    func readme() async {
        await Self.readmeExample(seccomp: ["--seccomp-profile-version", "0"])
    }

    @Test("The README's example without its seccomp option")
    func readmeWithoutSeccomp() async {
        await Self.readmeExample(seccomp: [])
    }

    @Test("--seccomp-profile-version 0 filters system calls; -1 and no option only refuse terminal injection")
    func seccompProfile() async {
        // personality(2) is on profile 0's deny list; busybox's linux32 calls it.
        let script = "grep Seccomp: /proc/self/status; linux32 true 2>&1 && echo personality-ok"
        let zero = await luc(["--seccomp-profile-version", "0", "--mount-proc", "/proc", rootfs] + sh(script))
        #expect(zero.lines.first?.hasSuffix("2") == true, "a filter is installed:\n\(zero)")
        expectStdout(zero, lacks: "personality-ok")
        for args in [["--seccomp-profile-version", "-1"], []] {
            let none = await luc(args + ["--mount-proc", "/proc", rootfs] + sh(script))
            expectSuccess(none)
            // The filter every sandbox gets (TIOCSTI and TIOCLINUX), and nothing else.
            #expect(none.lines.first?.hasSuffix("2") == true, "the terminal filter:\n\(none)")
            expectStdout(none, contains: "personality-ok")
        }
    }

    @Test("The man page's example: build in the real system without network")
    func manPageExample() async {
        let tab = "\t"
        let dir = makeUserDir(["Makefile": """
            clean:
            \(tab)rm -f built
            all:
            \(tab)echo built > built
            check:
            \(tab)test -f built
            \(tab)echo interfaces $$(grep -c : /proc/net/dev)
            \(tab)pwd

            """])
        defer { dir.remove() }
        writeFile(dir.sub("built"), "stale\n", owner: testUser)
        // linux-user-chroot --unshare-net --chdir "$(pwd)" / make clean all check
        let r = await luc(["--unshare-net", "--chdir", dir.path, "/", "make", "clean", "all", "check"])
        expectSuccess(r)
        expectStdout(r, contains: "interfaces 1\n")  // lo only
        expectStdout(r, contains: "\(dir.path)\n")
        #expect(readFile(dir.sub("built")) == "built\n", "make wrote into the real directory:\n\(r)")
    }

    @Test("--unshare-ipc: new IPC (and UTS) namespace; without it the host's")
    func unshareIPC() async {
        let script = "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts"
        let r = await luc(["--unshare-ipc", "--mount-proc", "/proc", rootfs] + sh(script))
        expectSuccess(r)
        #expect(r.lines.count == 2 && r.lines[0] != hostNamespace("ipc") && r.lines[1] != hostNamespace("uts"), "\(r)")
        let shared = await luc(["--mount-proc", "/proc", rootfs] + sh(script))
        expectSuccess(shared)
        expectLines(shared, [hostNamespace("ipc"), hostNamespace("uts")])
    }

    @Test("--unshare-pid: the command sees only its own processes")
    func unsharePID() async {
        let r = await luc(["--unshare-pid", "--mount-proc", "/proc", rootfs] + sh("readlink /proc/self/ns/pid; ls /proc | grep -c '^[0-9]'"))
        expectSuccess(r)
        #expect(r.lines.first != hostNamespace("pid"), "\(r)")
        #expect((Int(r.lines.last ?? "") ?? 999) < 6, "\(r)")
    }

    @Test("--unshare-net: only the loopback interface; without it the host's interfaces")
    func unshareNet() async {
        let r = await luc(["--unshare-net", rootfs] + sh("ip link"))
        expectSuccess(r)
        #expect(interfaces(r) == ["lo"], "\(r)")
        let shared = await luc([rootfs] + sh("ip link"))
        #expect(Set(interfaces(shared)) == hostInterfaces(), "\(shared)")
    }

    @Test("--mount-proc DIR mounts proc at DIR")
    func mountProc() async {
        let r = await luc(["--mount-proc", "/tmp/p", "--mount-proc", "/proc", rootfs]
            + sh("cat /tmp/p/self/comm; \(printMounts)"))
        expectSuccess(r)
        #expect(r.beforeMounts == "cat\n", "\(r)")
        #expect(expectMount(r, at: "/tmp/p")?.fsType == "proc")
    }

    @Test("--mount-devapi DIR: the API devices, usable")
    func mountDevapi() async {
        let r = await luc(["--mount-devapi", "/dev", "--mount-proc", "/proc", rootfs]
            + sh("ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c"))
        expectSuccess(r)
        for name in ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm"] {
            #expect(r.lines.contains(name), "/dev lacks \(name):\n\(r)")
        }
        #expect(r.lines.suffix(2) == ["4", "4"], "\(r)")
    }

    @Test("--mount-readonly DIR: DIR is read-only, the rest stays writable")
    func mountReadonly() async {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let r = await luc(["--mount-readonly", "/etc", chroot.path]
            + sh("touch /etc/x 2>&1; touch /tmp/y && echo tmp-writable"))
        expectSuccess(r)
        expectStdout(r, contains: "Read-only file system")
        expectStdout(r, contains: "tmp-writable")
        #expect(!pathExists(chroot.at("/etc/x")))
    }

    @Test("--mount-bind SOURCE DEST, DEST inside ROOTDIR (relative DEST too)")
    func mountBind() async {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let src = makeUserDir(["f": "from the host\n"])
        defer { src.remove() }
        let r = await luc(["--mount-bind", src.path, "mnt/src", "--mount-bind", "/dev/null", "/mnt/null", chroot.path]
            + sh("cat /mnt/src/f; echo x > /mnt/null && echo null-ok"))
        expectSuccess(r)
        expectLines(r, ["from the host", "null-ok"])
    }

    @Test("Operations apply in command-line order")
    func order() async {
        let chroot = await makePrivateRootfs()
        defer { chroot.remove() }
        let src = makeUserDir()
        defer { src.remove() }
        // A bind, then made read-only: read-only. (No /dev here: `2>&-` rather than /dev/null.)
        let ro = await luc(["--mount-bind", src.path, "/mnt", "--mount-readonly", "/mnt", chroot.path]
            + sh("touch /mnt/a 2>&- && echo writable || echo read-only"))
        #expect(ro.lines == ["read-only"], "\(ro)")
        // Read-only first, then a bind over it: the bind is what is seen, writable.
        let rw = await luc(["--mount-readonly", "/tmp", "--mount-bind", src.path, "/tmp", chroot.path]
            + sh("touch /tmp/b 2>&- && echo writable || echo read-only"))
        #expect(rw.lines == ["writable"], "\(rw)")
        #expect(pathExists(src.sub("b")))
    }

    @Test("--chdir DIR: the working directory inside the new root")
    func chdir() async {
        let r = await luc(["--chdir", "/etc", rootfs, "/bin/pwd"])
        expectSuccess(r)
        expectLines(r, ["/etc"])
        let relative = await luc(["--chdir", "usr/bin", rootfs, "/bin/pwd"])
        expectLines(relative, ["/usr/bin"])
    }

    @Test("Runs as the calling user, in a root mounted nosuid")
    func callingUserNosuid() async {
        let r = await luc(["--mount-proc", "/proc", rootfs] + sh("id -u; id -g; \(printMounts)"))
        expectSuccess(r)
        #expect(r.lines.prefix(2) == ["\(testUser.uid)", "\(testUser.gid)"], "\(r)")
        expectOption(expectMount(r, at: "/"), "nosuid", context: r)
    }

    @Test("Exit status: the command's; 128+N for a signal; 1 when linux-user-chroot fails", arguments: [
        (["ROOT"] + sh("exit 7"), Int32(7), ""),
        (["ROOT"] + sh("exit 0"), 0, ""),
        (["ROOT"] + sh("kill -9 $$"), 137, ""),
        (["ROOT", "/no/such/program"], 1, "/no/such/program"),
        (["ROOT", "/etc/passwd"], 1, "/etc/passwd"),
        (["/no/such/dir", "/bin/true"], 1, "/no/such/dir"),
        (["ROOT"], 1, "missing PROGRAM"),
        (["--bogus", "ROOT", "/bin/true"], 1, "linux-user-chroot: unknown option '--bogus'"),
        (["--mount-bind", "/no/such/source", "/x", "ROOT", "/bin/true"], 1, "/no/such/source"),
        (["--seccomp-profile-version", "7", "ROOT", "/bin/true"], 1, "unknown profile version '7'"),
    ])
    func exitStatus(args: [String], status: Int32, stderr: String) async {
        let r = await luc(args.map { $0 == "ROOT" ? rootfs : $0 })
        expectStatus(r, status)
        if !stderr.isEmpty { expectStderr(r, contains: stderr) }
    }

    @Test("--help and --version print and exit 0")
    func helpVersion() async {
        let help = await luc(["--help"])
        expectSuccess(help)
        expectStdout(help, contains: "Usage: linux-user-chroot [OPTIONS] ROOTDIR PROGRAM ARGS...")
        let version = await luc(["--version"])
        expectSuccess(version)
        expectStdout(version, contains: "linux-user-chroot (burrow ")
    }
}
