// The ptrace engine: the features it shares with the namespace engine, run on both; the
// path cases only path translation has (symlink tricks, `..` at the root, deep binds, a
// deleted cwd, long paths, many processes, scripts, /proc/self/exe); every way of making a
// process, a thread or an exec (Tests/Helpers/procprobe.c), on both engines; a host without user
// namespaces where `auto` picks it; and the same invocations through the real proot.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Both engines", .timeLimit(.minutes(1)))
struct BothEnginesTests {
    let rootfs = Harness.sharedRootfs

    @Test("A writable bind: the host file is seen, a write lands on the host", arguments: Engine.allCases)
    func bind(_ engine: Engine) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "from-host\n", owner: testUser)
        let r = await burrow(engine: engine, ["--bind", w.path, "/run", rootfs]
            + sh("cat /run/hello && echo from-guest > /run/written && cd /run && pwd && ls"))
        expectSuccess(r)
        expectLines(r, ["from-host", "/run", "hello", "written"])
        #expect(readFile(w.sub("written")) == "from-guest\n")
    }

    @Test("Unix sockets: bind and connect at guest paths; getsockname and getpeername name them as the guest's",
          arguments: Engine.allCases)
    func unixSocketNames(_ engine: Engine) async throws {
        let probe = try #require(SysProbe.path())
        let r = await burrow(engine: engine, ["--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/sysprobe", rootfs]
            + ["/tmp/sysprobe", "sock=/tmp/s", "sock=/tmp/a-much-longer-name-for-the-socket"])
        expectSuccess(r)
        expectLines(r, ["sockname=/tmp/s len=9", "peername=/tmp/s len=9",
                        "sockname=/tmp/a-much-longer-name-for-the-socket len=41", "peername=/tmp/a-much-longer-name-for-the-socket len=41"])
    }

    /// The ptrace engine answers getxattr, lgetxattr and listxattr itself (seccomp user
    /// notification), on the translated path: the link's text is a guest path that names
    /// nothing on the host.
    @Test("Extended attributes: getxattr follows a guest symlink, lgetxattr does not; sizes and errors as the kernel's",
          arguments: Engine.allCases)
    func extendedAttributes(_ engine: Engine) async throws {
        let probe = try #require(SysProbe.path())
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("f"), "", owner: testUser)
        #expect(symlink("/run/f", w.sub("link")) == 0)
        let r = await burrow(engine: engine, ["--bind", w.path, "/run", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/sysprobe", rootfs]
            + ["/tmp/sysprobe", "xattr=/run/f:/run/link"])
        expectSuccess(r)
        expectLines(r, ["xattr size=2 value=v1(2) followed=v1 own=ENODATA small=ERANGE missing=ENODATA listed=1"])
    }

    // Each path is used once before the change and once after, by the same names: a cache
    // that missed the change would answer the second from the first.
    @Test("The guest renames directories and puts symlinks where they were: paths follow at once (the ptrace engine's caches)",
          arguments: Engine.allCases)
    func renamesAndReplacedSymlinks(_ engine: Engine) async {
        let r = await burrow(engine: engine, ["--tmpfs", "/tmp", rootfs] + sh("""
            cd /tmp && mkdir -p d/a && echo plain > d/a/hostname && cat d/a/hostname && stat -c %F d/a
            mv d/a d/b && ln -s /etc d/a && cat d/a/hostname && stat -c %F d/a d/a/ && readlink d/a
            rm d/a && mkdir d/a && echo again > d/a/hostname && cat d/a/hostname
            mkdir -p /tmp/w/x && cd /tmp/w/x && cat ../../d/b/hostname && mv /tmp/w /tmp/d/w && cat ../../b/hostname && /bin/pwd
            rmdir /tmp/d/w/x && ln -s /etc /tmp/d/w/x && cd /tmp/d/w/x && /bin/pwd && cat hostname
            cd /tmp && ln -s /etc/hostname l1 && echo one > f1 && cat /tmp/f1 && mv l1 f1 && cat /tmp/f1
            ln -s /etc/hostname l2 && echo two > f2 && cat /tmp/f2 && rm f2 && ln l2 f2 && cat /tmp/f2 && stat -c %F f2
            echo three > f3 && cat /tmp/f3 && mv f3 f4 && cat /tmp/f4 && (cat /tmp/f3 2>/dev/null || echo gone)
            mkdir -p e/g && rmdir e/g && ln -s /etc e/g && cat /tmp/e/g/hostname
            """))
        expectSuccess(r)
        expectLines(r, ["plain", "directory", "burrow-rootfs", "symbolic link", "directory", "/etc", "again",
                        "plain", "plain", "/tmp/d/w/x", "/etc", "burrow-rootfs",
                        "one", "burrow-rootfs", "two", "burrow-rootfs", "symbolic link", "three", "three", "gone", "burrow-rootfs"])
    }

    // The ptrace engine remembers directories (and files) reached through symlinks and
    // checks those symlinks again at each use: a link replaced by a directory or a file
    // (unlink, then mkdir or a write: neither a rename nor a new symlink) must be seen at
    // once; so must a link into a bind, a missing file (answered ENOENT without running the
    // open) that is then created, absolute paths into the bind, and a link whose text ends
    // in `/` (a directory is asked for).
    @Test("Directories reached through symlinks: the link replaced by another, a directory or a file; links into a bind; missing files",
          arguments: Engine.allCases)
    func symlinkedDirectoriesReplaced(_ engine: Engine) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "in-bind\n", owner: testUser)
        let r = await burrow(engine: engine, ["--bind", w.path, "/run", "--tmpfs", "/tmp", rootfs] + sh("""
            mkdir -p /tmp/t/a /tmp/t/b && echo A > /tmp/t/a/f && echo B > /tmp/t/b/f && ln -s a /tmp/t/d && cat /tmp/t/d/f
            rm /tmp/t/d && ln -s b /tmp/t/d && cat /tmp/t/d/f
            rm /tmp/t/d && mkdir /tmp/t/d && echo C > /tmp/t/d/f && cat /tmp/t/d/f
            rm -r /tmp/t/d && echo D > /tmp/t/d && cat /tmp/t/d/f 2>/dev/null || echo not-a-directory
            ln -s /run /tmp/t/r && cat /tmp/t/r/hello /run/hello && cd /tmp/t/r && cat hello
            cat /run/missing 2>/dev/null || echo missing; echo E > /run/missing && cat /run/missing /tmp/t/r/missing
            ln -s /tmp/t/b/f /tmp/t/lf && cat /tmp/t/lf && rm /tmp/t/lf && echo G > /tmp/t/lf && cat /tmp/t/lf
            ln -s /tmp/t/b/f/ /tmp/t/ls && (cat /tmp/t/ls 2>/dev/null || echo slash-not-a-directory)
            """))
        expectSuccess(r)
        expectLines(r, ["A", "B", "C", "not-a-directory", "in-bind", "in-bind", "in-bind", "missing", "E", "E",
                        "B", "G", "slash-not-a-directory"])
        #expect(readFile(w.sub("missing")) == "E\n")
    }

    @Test("--ro-bind and --ro-root refuse writes with EROFS", arguments: Engine.allCases)
    func readOnly(_ engine: Engine) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let r = await burrow(engine: engine, ["--ro-root", "--ro-bind", w.path, "/run", rootfs]
            + sh("touch /run/x || echo run-refused; mkdir /newdir || echo root-refused; cat /etc/hostname"))
        expectSuccess(r)
        expectLines(r, ["run-refused", "root-refused", "burrow-rootfs"])
        expectStderr(r, contains: "Read-only file system")
        #expect(!pathExists(w.sub("x")))
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        let engine: Engine
        let command: [String]
        let status: Int32
        var testDescription: String { "\(engine): \(command.joined(separator: " ")) -> \(status)" }
    }

    @Test("Exit status: the command's, 128+N for a signal, 127 not found, 126 not executable", arguments:
        Engine.allCases.flatMap { e in [
            StatusCase(engine: e, command: sh("exit 3"), status: 3),
            StatusCase(engine: e, command: sh("kill -9 $$"), status: 137),
            StatusCase(engine: e, command: ["no-such-command"], status: 127),
            StatusCase(engine: e, command: ["/etc/hostname"], status: 126),
        ] })
    func status(_ c: StatusCase) async {
        let r = await burrow(engine: c.engine, [rootfs] + c.command)
        expectStatus(r, c.status)
    }

    @Test("Paths resolve inside the root: .., absolute and relative symlinks, --chdir", arguments: Engine.allCases)
    func paths(_ engine: Engine) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(engine: engine, ["--chdir", "/etc", root.path] + sh("""
            cat ../../../etc/hostname; pwd
            ln -s /etc /tmp/abs; cat /tmp/abs/hostname
            ln -s ../../../../../../etc/hostname /tmp/rel; cat /tmp/rel
            cd /../../..; cat etc/hostname; cd /tmp; readlink abs
            """))
        expectSuccess(r)
        expectLines(r, ["burrow-rootfs", "/etc", "burrow-rootfs", "burrow-rootfs", "burrow-rootfs", "/etc"])
    }

    @Test("A #! script runs with its interpreter from the guest; argv[0] and arguments are kept", arguments: Engine.allCases)
    func script(_ engine: Engine) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        writeFile(root.at("/tmp/s"), "#!/bin/sh -u\necho \"$0|$1|$2\"\n", owner: testUser)
        chmod(root.at("/tmp/s"), 0o755)
        let r = await burrow(engine: engine, [root.path, "/tmp/s", "a b", "c"])
        expectSuccess(r)
        expectLines(r, ["/tmp/s|a b|c"])
    }

    @Test("/proc/self/exe names the guest program", arguments: Engine.allCases)
    func procSelfExe(_ engine: Engine) async {
        let r = await burrow(engine: engine, ["--proc", "/proc", rootfs] + sh("readlink /proc/self/exe; ls -l /proc/self/exe | grep -c busybox"))
        expectSuccess(r)
        expectLines(r, ["/bin/busybox", "1"])
    }

    @Test("--tmpfs is empty and writable; nothing is left on the host", arguments: Engine.allCases)
    func tmpfs(_ engine: Engine) async {
        // A TMPDIR of its own: other sandboxes on the machine make theirs in /tmp meanwhile.
        let tmp = makeTempDir(owner: testUser)
        defer { tmp.remove() }
        let r = await burrow(engine: engine, ["--perms", "0700", "--tmpfs", "/tmp", rootfs]
            + sh("ls -A /tmp | wc -l; stat -c %a /tmp; echo hi > /tmp/x && cat /tmp/x"), environment: ["TMPDIR": tmp.path])
        expectSuccess(r)
        expectLines(r, ["0", "700", "hi"])
        #expect(directoryEntries(tmp.path).isEmpty, "left behind: \(directoryEntries(tmp.path))")
    }

    @Test("--dev: the usual device nodes work", arguments: Engine.allCases)
    func dev(_ engine: Engine) async {
        let r = await burrow(engine: engine, ["--dev", "/dev", rootfs]
            + sh("echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; ls /dev | grep -c -x -e null -e zero -e urandom"))
        expectSuccess(r)
        expectLines(r, ["null-ok", "4", "3"])
    }

    /// The ptrace engine makes --dev's directory on the host only once the guest needs it
    /// (a listing, /dev/shm, a name that is no device node, the links): until then the
    /// device nodes are binds on the host's /dev, and no cleaner runs.
    @Test("--dev on the ptrace engine: its directory is made when first needed, and is the same /dev")
    func devMadeWhenNeeded() async {
        let nodesOnly = await burrow(engine: .ptrace, ["-v", "--dev", "/dev", rootfs]
            + sh("echo x > /dev/null && echo null-ok; head -c 4 /dev/urandom | wc -c; test -c /dev/tty && echo tty-ok; test -d /dev/pts && echo pts-ok"))
        expectSuccess(nodesOnly)
        expectLines(nodesOnly, ["null-ok", "4", "tty-ok", "pts-ok"])
        expectStderr(nodesOnly, lacks: "its directory made")
        let cases: [(script: String, expected: [String])] = [
            ("echo $(ls -A /dev)", ["fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"]),
            ("test -e /dev/sda || test -e /dev/kmsg || echo host-devices-hidden", ["host-devices-hidden"]),
            ("echo shm-data > /dev/shm/f && cat /dev/shm/f", ["shm-data"]),
            ("readlink /dev/stdin", ["/proc/self/fd/0"]),
            ("cd /dev && ls null zero", ["null", "zero"]),
        ]
        for c in cases {
            let r = await burrow(engine: .ptrace, ["-v", "--dev", "/dev", "--proc", "/proc", rootfs] + sh(c.script))
            expectSuccess(r)
            expectLines(r, c.expected)
            expectStderr(r, contains: "its directory made")
        }
    }

    @Test("Everything the command started is killed when it exits", arguments: Engine.allCases)
    func leftoversKilled(_ engine: Engine) async {
        let marker = sleepMarker()
        defer { killProcesses(withArgument: marker) }
        let r = await burrow(engine: engine, ["--proc", "/proc", "--dev", "/dev", rootfs]
            + sh("sleep \(marker) & \(waitUntilRunning(sleep: marker))"))
        expectSuccess(r)
        expectStdout(r, contains: "sleep \(marker)")
        #expect(await waitUntilGone(argument: marker).isEmpty, "sleep \(marker) survived the sandbox")
    }

    @Test("Signals sent to burrow reach the command", arguments: Engine.allCases)
    func signalForwarded(_ engine: Engine) async throws {
        let p = try startBurrow(["--engine", engine.rawValue, rootfs] + sh("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"))
        #expect(await p.waitForStdout("ready"))
        try? await Task.sleep(nanoseconds: 100_000_000)
        p.send(SIGTERM)
        let r = await p.wait()
        expectStatus(r, 7)
        expectStdout(r, contains: "got-term")
    }
}

@Suite("Ptrace engine", .timeLimit(.minutes(1)))
struct PtraceEngineTests {
    let rootfs = Harness.sharedRootfs

    @Test("Deep binds: the deepest one wins, .. leaves it for its parent in the guest")
    func deepBinds() async {
        let a = makeTempDir(owner: testUser), b = makeTempDir(owner: testUser)
        defer { a.remove(); b.remove() }
        writeFile(a.sub("fa"), "in-a\n", owner: testUser)
        mkdir(a.sub("x"), 0o755)
        writeFile(a.sub("x/hidden"), "hidden\n", owner: testUser)
        writeFile(b.sub("fb"), "in-b\n", owner: testUser)
        let r = await burrow(engine: .ptrace, ["--bind", a.path, "/mnt", "--bind", b.path, "/mnt/x/y", rootfs] + sh("""
            cat /mnt/fa /mnt/x/y/fb /mnt/x/hidden; cat /mnt/x/y/../y/fb; cat /mnt/x/y/../../fa; cd /mnt/x/y && pwd && cat ../../../etc/hostname
            """))
        expectSuccess(r)
        expectLines(r, ["in-a", "in-b", "hidden", "in-b", "in-a", "/mnt/x/y", "burrow-rootfs"])
    }

    @Test("A deleted and recreated working directory behaves as natively")
    func deletedCwd() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(engine: .ptrace, [root.path] + sh("""
            mkdir /tmp/d && cd /tmp/d && rmdir /tmp/d && mkdir /tmp/d && echo new > /tmp/d/f
            ls . 2>/dev/null | wc -l; cat f 2>/dev/null || echo no-f-here; cd /tmp/d && cat f && /bin/pwd
            """))
        expectSuccess(r)
        expectLines(r, ["0", "no-f-here", "new", "/tmp/d"])
    }

    @Test("Paths close to PATH_MAX work")
    func longPaths() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        // 30 levels of 100-byte names: a 3000-byte guest path.
        let r = await burrow(engine: .ptrace, [root.path] + sh("""
            n=$(printf 'd%.0s' $(seq 100)); p=/tmp; i=0
            while [ $i -lt 30 ]; do p=$p/$n; mkdir $p || exit 1; i=$((i+1)); done
            echo deep > $p/f && cat $p/f && cd $p && cat ./f && echo ${#p}
            """))
        expectSuccess(r)
        expectLines(r, ["deep", "deep", "3034"])
    }

    @Test("Many processes at once are all followed")
    func manyProcesses() async {
        let r = await burrow(engine: .ptrace, ["--dev", "/dev", rootfs] + sh("""
            i=0; while [ $i -lt 40 ]; do (cat /etc/hostname >/dev/null && ls /bin/sh) & i=$((i+1)); done; wait
            """), timeout: 60)
        expectSuccess(r)
        #expect(r.lines.count == 40 && r.lines.allSatisfy { $0 == "/bin/sh" }, "\(r)")
    }

    @Test("getcwd and readlink of /proc/self/cwd name guest paths; chroot / succeeds, mount is refused")
    func cwdAndRefused() async {
        let r = await burrow(engine: .ptrace, ["--proc", "/proc", "--chdir", "/usr", rootfs] + sh("""
            /bin/pwd; readlink /proc/self/cwd; chroot / /bin/true && echo chroot-ok; mount -t tmpfs x /tmp 2>/dev/null || echo mount-refused
            """))
        expectSuccess(r)
        expectLines(r, ["/usr", "/usr", "chroot-ok", "mount-refused"])
    }

    @Test("Options the ptrace engine cannot honour are refused, naming the engine that can", arguments: [
        ["--unshare-net"], ["--unshare-pid"], ["--uid-map", "0:1000:1"], ["--root-tmp-overlay"], ["--size", "1M", "--tmpfs", "/tmp"], ["--seccomp", "default"],
    ])
    func refused(_ options: [String]) async {
        let r = await burrow(engine: .ptrace, options + [rootfs] + sh("echo RAN"))
        expectStatus(r, 125)
        expectStderr(r, contains: "namespace engine")
        expectStdout(r, lacks: "RAN")
    }

    @Test("Without user namespaces, auto picks the ptrace engine and it works")
    func autoWithoutUserNamespaces() async {
        guard Harness.runningAsRoot else { return }
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let argv = ["\(Harness.packageRoot)/scripts/no-userns"]
            + asTestUser([Harness.binary, "-v", root.path] + sh("touch /ran-marker; cat /etc/hostname"))
        let r = await runHostAsync(argv)
        #expect(r.status == 0, "status \(r.status), stderr: \(r.stderr)")
        #expect(r.stdout == "burrow-rootfs\n", "stdout: \(r.stdout)")
        #expect(r.stderr.contains("engine ptrace (auto)"), "stderr: \(r.stderr)")
        #expect(pathExists(root.at("/ran-marker")))
        let engines = await runHostAsync(["\(Harness.packageRoot)/scripts/no-userns"] + asTestUser([Harness.binary, "--engines"]))
        #expect(engines.stdout.contains("namespace no: a seccomp filter denies unshare: inside a container? (clone (CLONE_NEWUSER, CLONE_NEWNS): Operation not permitted)"), "\(engines.stdout)")
        #expect(engines.stdout.contains("auto      -> ptrace"), "\(engines.stdout)")
    }

    @Test("The same invocation through the real proot prints the same")
    func sameAsProot() async {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/proot") else {
            Issue.record("proot is not installed (scripts/deps installs it)")
            return
        }
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("f"), "bound\n", owner: testUser)
        let script = """
            cd /etc; pwd; cat hostname; ls /; ls /../..; readlink /bin/sh; cd /mnt/w && pwd && cat f
            ls -d /usr/../bin; readlink /proc/self/cwd; /bin/sh -c 'echo $0'
            """
        // Not compared: /proc/self/root, which Burrow shows as the guest's root and proot
        // does not translate.
        let viaProot = await runHostAsync(asTestUser(["/usr/bin/proot", "-r", rootfs, "-b", "/proc", "-b", "\(w.path):/mnt/w", "/bin/sh", "-c", script]))
        let viaBurrow = await burrow(engine: .ptrace, ["--proc", "/proc", "--bind", w.path, "/mnt/w", rootfs, "/bin/sh", "-c", script])
        expectSuccess(viaBurrow)
        #expect(viaProot.status == 0, "proot: \(viaProot.stderr)")
        #expect(viaBurrow.stdout == viaProot.stdout, "burrow:\n\(viaBurrow.stdout)\nproot:\n\(viaProot.stdout)")
    }
}

/// Tests/Helpers/procprobe.c, built static (with threads) once per test process.
enum ProcProbe {
    static let built = buildStaticHelper("procprobe", flags: ["-pthread"])

    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build procprobe: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }

    /// Runs `procprobe ARGS` (or, with `script`, a shell that runs it as /tmp/procprobe) on
    /// `engine`, with /proc and a tmpfs at /tmp holding the probe.
    static func run(_ engine: Engine, _ args: [String], before script: String? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult? {
        guard let probe = path(sourceLocation: sourceLocation) else { return nil }
        let command = script.map { sh("\($0); exec /tmp/procprobe \(args.joined(separator: " "))") } ?? (["/tmp/procprobe"] + args)
        return await burrow(engine: engine, ["--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/procprobe",
                                             Harness.sharedRootfs] + command, sourceLocation: sourceLocation)
    }
}

/// Every way of making a process, a thread or an exec is followed: what the new process or
/// thread opens is the guest's file. Run on both engines: the namespace engine is native,
/// so it is the reference the ptrace engine must match.
@Suite("Processes, threads and execs", .timeLimit(.minutes(1)))
struct ProcessesFollowedTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let engine: Engine
        let probe: String
        let expected: [String]
        var testDescription: String { "\(engine): \(probe)" }
    }

    static let cases: [Case] = Engine.allCases.flatMap { e in [
        Case(engine: e, probe: "threads", expected: ["threads=8/8 read, 8/8 wrote"]),
        Case(engine: e, probe: "threadexec", expected: ["threadexec=burrow-rootfs"]),
        Case(engine: e, probe: "clonethread", expected: ["clonethread=burrow-rootfs"]),
        Case(engine: e, probe: "fork", expected: ["fork=burrow-rootfs"]),
        Case(engine: e, probe: "vfork", expected: ["vfork=burrow-rootfs", "vfork-status=0"]),
        // The ptrace engine refuses clone3 (ENOSYS, libc falls back to clone): its flags, in
        // memory, could ask for CLONE_UNTRACED behind a check (TraceFilter.outOfReach).
        Case(engine: e, probe: "clone3", expected: e == .ptrace ? ["clone3=ENOSYS"] : ["clone3=burrow-rootfs", "clone3-status=0"]),
        Case(engine: e, probe: "clone3exec",
             expected: e == .ptrace ? ["clone3=ENOSYS"] : ["clone3exec=burrow-rootfs", "clone3-status=0"]),
        // Both filters hold: the guest's denies mkdir (also in the program it execs), the
        // engine's still translates paths.
        Case(engine: e, probe: "seccomp", expected: ["seccomp=ok", "after-filter=burrow-rootfs", "mkdir=EPERM",
                                                     "sh-mkdir=denied", "sh=burrow-rootfs", "0"]),
        Case(engine: e, probe: "selfexe", expected: ["selfexe=burrow-rootfs", "exe=/tmp/procprobe"]),
        // execveat(fd of /bin, "sh"), then execveat(fd of /bin/sh, "", AT_EMPTY_PATH), whose
        // shell runs busybox applets through /proc/self/exe.
        Case(engine: e, probe: "execveat", expected: ["execveat=burrow-rootfs", "execveat-empty=burrow-rootfs"]),
    ] }

    @Test("fork, vfork, clone3 (ptrace engine: ENOSYS), threads (pthread and raw clone, and a thread that execs), a guest's own seccomp filter, /proc/self/exe, execveat", arguments: cases)
    func followed(_ c: Case) async {
        guard let r = await ProcProbe.run(c.engine, [c.probe]) else { return }
        expectSuccess(r)
        expectLines(r, c.expected)
    }

    struct OpenCase: Sendable, CustomTestStringConvertible {
        let engine: Engine
        let dir: String
        let path: String
        let inRoot: Bool
        let expected: String
        var testDescription: String { "\(engine): openat2(\(dir), \(path)\(inRoot ? ", RESOLVE_IN_ROOT" : "")) -> \(expected)" }
    }

    /// /tmp/j holds f ("jail") and l -> /f; the guest's / has no f.
    static let openCases: [OpenCase] = Engine.allCases.flatMap { e in [
        OpenCase(engine: e, dir: ".", path: "/etc/hostname", inRoot: false, expected: "burrow-rootfs"),
        OpenCase(engine: e, dir: "/etc", path: "../etc/hostname", inRoot: false, expected: "burrow-rootfs"),
        OpenCase(engine: e, dir: "/tmp/j", path: "l", inRoot: false, expected: "ENOENT"),
        OpenCase(engine: e, dir: "/etc", path: "/hostname", inRoot: true, expected: "burrow-rootfs"),
        OpenCase(engine: e, dir: "/etc", path: "../../hostname", inRoot: true, expected: "burrow-rootfs"),
        OpenCase(engine: e, dir: "/etc", path: "/etc/hostname", inRoot: true, expected: "ENOENT"),
        OpenCase(engine: e, dir: "/tmp/j", path: "l", inRoot: true, expected: "jail"),
        OpenCase(engine: e, dir: "/tmp/j", path: "../../f", inRoot: true, expected: "jail"),
        OpenCase(engine: e, dir: "/", path: "etc/hostname", inRoot: true, expected: "burrow-rootfs"),
    ] }

    @Test("openat2: paths resolve in the guest; with RESOLVE_IN_ROOT, in the directory given (.., absolute paths and symlinks stay there)",
          arguments: openCases)
    func openat2(_ c: OpenCase) async {
        guard let r = await ProcProbe.run(c.engine, ["openat2", c.dir, c.path] + (c.inRoot ? ["inroot"] : []),
                                          before: "mkdir /tmp/j && echo jail > /tmp/j/f && ln -s /f /tmp/j/l") else { return }
        expectSuccess(r)
        expectLines(r, ["openat2=\(c.expected)"])
    }

    /// A bind below the directory: the kernel cannot see it, so the ptrace engine translates
    /// the path as without the flag.
    @Test("openat2 with RESOLVE_IN_ROOT in a directory with a bind below it", arguments: Engine.allCases)
    func openat2BindBelow(_ engine: Engine) async {
        guard let probe = ProcProbe.path() else { return }
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("g"), "bound\n", owner: testUser)
        let r = await burrow(engine: engine, ["--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/procprobe",
                                              "--dir", "/tmp/j/b", "--bind", w.path, "/tmp/j/b", Harness.sharedRootfs,
                                              "/tmp/procprobe", "openat2", "/tmp/j", "/b/g", "inroot"])
        expectSuccess(r)
        expectLines(r, ["openat2=bound"])
    }
}

/// Opens that create nothing: on the ptrace engine the supervisor opens the translated path
/// and sends the descriptor (Syscalls/Notified.swift), so what the guest gets must be what
/// its own open would give: the lowest free number, the flags asked for and no others, the
/// guest's file through symlinks, its own /proc/self, a FIFO that waits for its writer, and
/// the kernel's errors. The namespace engine, native, is the reference.
@Suite("Opens answered by the supervisor", .timeLimit(.minutes(1)))
struct SupervisorOpenTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let engine: Engine
        let args: [String]
        let expected: [String]
        var testDescription: String { "\(engine): \(args.joined(separator: " "))" }
    }

    static let setUp = "echo appended > /tmp/a && ln -s /etc /tmp/etc && ln -s /etc/hostname /tmp/link && "
        + "ln -s /proc/self/status /tmp/status && echo secret > /tmp/closed && chmod 000 /tmp/closed"

    static let cases: [Case] = Engine.allCases.flatMap { e in [
        Case(engine: e, args: ["open", "/etc/hostname", "r"], expected: ["open=fd next, inherited, blocking, file", "line=burrow-rootfs"]),
        Case(engine: e, args: ["open", "/etc/hostname", "rc"], expected: ["open=fd next, cloexec, blocking, file", "line=burrow-rootfs"]),
        Case(engine: e, args: ["open", "/etc/hostname", "rn"], expected: ["open=fd next, inherited, nonblock, file", "line=burrow-rootfs"]),
        Case(engine: e, args: ["open", "/tmp/a", "wa"], expected: ["open=fd next, inherited, blocking append, file"]),
        Case(engine: e, args: ["open", "/etc", "dc"], expected: ["open=fd next, cloexec, blocking, directory"]),
        Case(engine: e, args: ["open", "/etc/hostname/", "r"], expected: ["open=ENOTDIR"]),
        Case(engine: e, args: ["open", "/etc/no-such-file", "r"], expected: ["open=ENOENT"]),
        Case(engine: e, args: ["open", "/tmp/etc/hostname", "r"], expected: ["open=fd next, inherited, blocking, file", "line=burrow-rootfs"]),
        Case(engine: e, args: ["open", "/tmp/link", "r"], expected: ["open=fd next, inherited, blocking, file", "line=burrow-rootfs"]),
        Case(engine: e, args: ["open", "/tmp/link", "rN"], expected: ["open=ELOOP"]),
        // The guest's own /proc/self through a symlink of its tree, not the supervisor's.
        Case(engine: e, args: ["open", "/tmp/status", "r"], expected: ["open=fd next, inherited, blocking, file", "line=Name:\tprocprobe"]),
        Case(engine: e, args: ["fifo", "/tmp/fifo"], expected: ["fifo=through the fifo", "writer=0"]),
        // A file made gets the caller's umask, not the supervisor's; O_EXCL holds.
        Case(engine: e, args: ["create", "/tmp/new", "0666", "027"], expected: ["create=0640"]),
        Case(engine: e, args: ["create", "/tmp/new", "0777", "0"], expected: ["create=0777"]),
        Case(engine: e, args: ["create", "/tmp/a", "0600", "022", "excl"], expected: ["create=EEXIST"]),
        Case(engine: e, args: ["create", "/tmp/a", "0600", "022"], expected: ["create=0644"]),
        Case(engine: e, args: ["create", "/no-such-dir/f", "0644", "022"], expected: ["create=ENOENT"]),
    ] }

    @Test("open and openat: descriptor numbers and flags, symlinks, /proc/self, FIFOs and errors as the guest's own open", arguments: cases)
    func opens(_ c: Case) async {
        guard let r = await ProcProbe.run(c.engine, c.args, before: Self.setUp) else { return }
        expectSuccess(r)
        expectLines(r, c.expected)
    }

    /// A mode that keeps the owner out: the supervisor opens as the guest's user, so the
    /// kernel refuses it the same (the namespace engine's user is root in its namespace,
    /// which may read it).
    /// A faked root (--root) asks for a mode that keeps its owner out: the file is made
    /// usable and the mode asked is what the guest sees, as when the open is traced.
    @Test("A faked root's new file shows the mode asked for", arguments: [Engine.ptrace])
    func fakedRootCreate(_ engine: Engine) async {
        guard let probe = ProcProbe.path() else { return }
        let r = await burrow(engine: engine, ["--root", "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/procprobe",
                                              Harness.sharedRootfs] + sh("/tmp/procprobe create /tmp/locked 0000 022 && stat -c %a /tmp/locked && echo again >> /tmp/locked && echo written"))
        expectSuccess(r)
        expectLines(r, ["create=0000", "0", "written"])
    }

    /// statfs answered on the listener: the file system of the guest's file (the rootfs's,
    /// through a symlink too; procfs at /proc), and the kernel's errors.
    @Test("statfs: the guest's path's file system", arguments: Engine.allCases)
    func statfs(_ engine: Engine) async {
        let host = await runHostAsync(["/usr/bin/stat", "-f", "-c", "%t", Harness.sharedRootfs + "/etc"])
        let rootfsType = host.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let r = await ProcProbe.run(engine, ["statfs", "/etc"], before: Self.setUp + "; /tmp/procprobe statfs /tmp/etc; "
                                          + "/tmp/procprobe statfs /proc/self; /tmp/procprobe statfs /no-such-dir") else { return }
        expectSuccess(r)
        expectLines(r, ["statfs=\(rootfsType)", "statfs=9fa0", "statfs=ENOENT", "statfs=\(rootfsType)"])
    }

    /// getcwd in the very process whose working directory was removed (PRoot's
    /// test-5bed7143): ENOENT, as natively; the ptrace engine must not answer from its cache.
    @Test("getcwd after the working directory is removed: ENOENT", arguments: Engine.allCases)
    func removedWorkingDirectory(_ engine: Engine) async {
        guard let r = await ProcProbe.run(engine, ["rmcwd", "/tmp/gone"]) else { return }
        expectSuccess(r)
        expectLines(r, ["cwd=/tmp/gone", "cwd=ENOENT"])
    }

    /// /tmp/empty, an empty directory; /tmp/full, one with a file; /tmp/f, a file;
    /// /tmp/ldir, a symlink to /tmp/empty; /tmp/letc, one to /etc; /tmp/lf, one to /tmp/f.
    static let removeSetUp = "mkdir /tmp/empty /tmp/full && touch /tmp/full/x /tmp/f && ln -s /tmp/empty /tmp/ldir && ln -s /etc /tmp/letc"
        + " && ln -s /tmp/f /tmp/lf"

    static let removeCases: [Case] = Engine.allCases.flatMap { e in [
        Case(engine: e, args: ["remove", "rmdir", "/tmp/empty"], expected: ["rmdir=ok"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/empty/"], expected: ["rmdir=ok"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/empty/."], expected: ["rmdir=EINVAL"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/full"], expected: ["rmdir=ENOTEMPTY"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/f"], expected: ["rmdir=ENOTDIR"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/ldir"], expected: ["rmdir=ENOTDIR"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/nothing"], expected: ["rmdir=ENOENT"]),
        Case(engine: e, args: ["remove", "rmdir", "/tmp/nothing/x"], expected: ["rmdir=ENOENT"]),
        Case(engine: e, args: ["remove", "unlink", "/tmp/f"], expected: ["unlink=ok"]),
        Case(engine: e, args: ["remove", "unlink", "/tmp/f/"], expected: ["unlink=ENOTDIR"]),
        Case(engine: e, args: ["remove", "unlink", "/tmp/empty"], expected: ["unlink=EISDIR"]),
        Case(engine: e, args: ["remove", "unlink", "/tmp/ldir"], expected: ["unlink=ok"]),
        Case(engine: e, args: ["remove", "unlink", "/tmp/letc/no-such-file"], expected: ["unlink=ENOENT"]),
        Case(engine: e, args: ["remove", "unlinkat", "f", "/tmp"], expected: ["unlinkat=ok"]),
        Case(engine: e, args: ["remove", "unlinkat", "empty", "/tmp"], expected: ["unlinkat=EISDIR"]),
        Case(engine: e, args: ["remove", "unlinkat-dir", "empty", "/tmp"], expected: ["unlinkat-dir=ok"]),
        Case(engine: e, args: ["remove", "unlinkat-dir", "f", "/tmp"], expected: ["unlinkat-dir=ENOTDIR"]),
        Case(engine: e, args: ["remove", "unlinkat-dir", "../tmp/full", "/tmp"], expected: ["unlinkat-dir=ENOTEMPTY"]),
    ] }

    /// On the ptrace engine the supervisor removes the translated path itself (Notified.swift):
    /// the kernel's answers must be the guest's own call's, and what was removed gone from
    /// the guest's tree (and nothing else).
    @Test("rmdir, unlink and unlinkat: what goes and the errors, as the guest's own call", arguments: removeCases)
    func removes(_ c: Case) async {
        guard let r = await ProcProbe.run(c.engine, c.args, before: Self.removeSetUp) else { return }
        expectSuccess(r)
        expectLines(r, c.expected)
    }

    static let changeCases: [Case] = Engine.allCases.flatMap { e in [
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/g"], expected: ["rename=ok"]),
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/full/x"], expected: ["rename=ok"]),
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/full/x", "noreplace"], expected: ["rename=EEXIST"]),
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/empty", "exchange"], expected: ["rename=ok"]),
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/empty"], expected: ["rename=EISDIR"]),
        Case(engine: e, args: ["rename", "/tmp/empty", "/tmp/full"], expected: ["rename=ENOTEMPTY"]),
        Case(engine: e, args: ["rename", "/tmp/nothing", "/tmp/g"], expected: ["rename=ENOENT"]),
        Case(engine: e, args: ["rename", "/tmp/f", "/tmp/nothing/g"], expected: ["rename=ENOENT"]),
        Case(engine: e, args: ["rename", "/tmp/f/", "/tmp/g"], expected: ["rename=ENOTDIR"]),
        Case(engine: e, args: ["mkdir", "/tmp/new", "0777", "027"], expected: ["mkdir=0750"]),
        Case(engine: e, args: ["mkdir", "/tmp/new", "01777", "0"], expected: ["mkdir=1777"]),
        Case(engine: e, args: ["mkdir", "/tmp/empty", "0755", "022"], expected: ["mkdir=EEXIST"]),
        Case(engine: e, args: ["mkdir", "/tmp/nothing/new", "0755", "022"], expected: ["mkdir=ENOENT"]),
        Case(engine: e, args: ["mkdir", "/tmp/ldir", "0755", "022"], expected: ["mkdir=EEXIST"]),
        Case(engine: e, args: ["utimes", "/tmp/f", "1000000000"], expected: ["utimes=1000000000"]),
        Case(engine: e, args: ["utimes", "/tmp/ldir", "1000000000", "nofollow"], expected: ["utimes=1000000000"]),
        Case(engine: e, args: ["utimes", "/tmp/nothing", "1000000000"], expected: ["utimes=ENOENT"]),
        Case(engine: e, args: ["utimes", "/tmp/f/", "1000000000"], expected: ["utimes=ENOTDIR"]),
        Case(engine: e, args: ["link", "/tmp/f", "/tmp/g"], expected: ["link=ok file"]),
        Case(engine: e, args: ["link", "/tmp/f", "/tmp/full/x"], expected: ["link=EEXIST"]),
        Case(engine: e, args: ["link", "/tmp/empty", "/tmp/g"], expected: ["link=EPERM"]),
        Case(engine: e, args: ["link", "/tmp/nothing", "/tmp/g"], expected: ["link=ENOENT"]),
        Case(engine: e, args: ["link", "/tmp/f", "/tmp/nothing/g"], expected: ["link=ENOENT"]),
        Case(engine: e, args: ["link", "/tmp/lf", "/tmp/g"], expected: ["link=ok symlink"]),
        Case(engine: e, args: ["link", "/tmp/lf", "/tmp/g", "follow"], expected: ["link=ok file"]),
        // A program that is not there: the kernel's errors (an execvp's search along PATH).
        Case(engine: e, args: ["exec", "/tmp/nothing"], expected: ["exec=ENOENT"]),
        Case(engine: e, args: ["exec", "/tmp/f/x"], expected: ["exec=ENOTDIR"]),
        Case(engine: e, args: ["exec", "/tmp/empty"], expected: ["exec=EACCES"]),
        Case(engine: e, args: ["exec", "/usr/local/bin/nothing"], expected: ["exec=ENOENT"]),
    ] }

    /// rename, link, mkdir and utimensat answered by the supervisor, and an execve of what is
    /// not there answered at its stop: the kernel's answers and the guest's umask, as the
    /// guest's own call.
    @Test("rename, link, mkdir, utimensat and a missing program's execve: results and errors as the guest's own call", arguments: changeCases)
    func changes(_ c: Case) async {
        guard let r = await ProcProbe.run(c.engine, c.args, before: Self.removeSetUp) else { return }
        expectSuccess(r)
        expectLines(r, c.expected)
    }

    /// A directory renamed while a process works in it: its getcwd names the new place; a
    /// symlink swapped in for a directory (RENAME_EXCHANGE) is followed inside the guest.
    /// (That the caches go after such renames, the cache test of "Both engines" checks.)
    @Test("After renames of a directory and a symlink: getcwd and paths follow", arguments: Engine.allCases)
    func renamedDirectories(_ engine: Engine) async {
        let before = Self.removeSetUp + " && cd /tmp/full && /tmp/procprobe rename /tmp/full /tmp/moved && pwd -P && ls"
            + " && /tmp/procprobe rename /tmp/letc /tmp/empty exchange && cat /tmp/empty/hostname && cd /"
        guard let r = await ProcProbe.run(engine, ["remove", "rmdir", "/tmp/letc"], before: before) else { return }
        expectSuccess(r)
        expectLines(r, ["rename=ok", "/tmp/moved", "x", "rename=ok", "burrow-rootfs", "rmdir=ok"])
    }

    /// What the removals leave: the symlink went, not its target; a path through a symlink
    /// and `..` removes the directory the kernel finds (/tmp/letc/.. is /, not /tmp).
    @Test("After rmdir and unlink: the guest's tree", arguments: Engine.allCases)
    func removedTree(_ engine: Engine) async {
        let before = Self.removeSetUp + " && /tmp/procprobe remove unlink /tmp/ldir && /tmp/procprobe remove rmdir /tmp/letc/../tmp/empty"
            + " && echo $(ls /tmp | grep -v procprobe)"  // the ptrace engine's bind is no entry of /tmp's (docs/compatibility.md)
        guard let r = await ProcProbe.run(engine, ["remove", "unlinkat-dir", "full", "/tmp"], before: before) else { return }
        expectSuccess(r)
        expectLines(r, ["unlink=ok", "rmdir=ok", "f full letc lf", "unlinkat-dir=ENOTEMPTY"])
    }

    @Test("A file the guest may not read stays unreadable on the ptrace engine")
    func permissions() async {
        guard let r = await ProcProbe.run(.ptrace, ["open", "/tmp/closed", "r"], before: Self.setUp) else { return }
        expectSuccess(r)
        expectLines(r, ["open=EACCES"])
    }
}
