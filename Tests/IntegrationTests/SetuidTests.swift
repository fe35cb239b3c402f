// Setuid mode: burrow installed setuid root (4755, or 4750 for one group) on a host without
// unprivileged user namespaces. The harness, as root, installs a copy of the built binary
// the way scripts/install --setuid does, then runs it as the test user under
// scripts/no-userns (CLONE_NEWUSER refused by a seccomp filter root installed, as on a host
// with kernel.unprivileged_userns_clone=0; setuid binaries still work under it). Each test
// is one rule of the mode, or one attack on it.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Setuid copies of the binary under test, made once per test process.
enum SetuidInstall {
    /// A group the test user is not in, by number: 4750 root:group lets only its members run.
    static let group: gid_t = 54321

    /// (4755 root:root, 4750 root:group), or nil with the reason they cannot be made.
    static let binaries: Result<(open: String, group: String), SpawnError> = {
        guard Harness.runningAsRoot else { return .failure(SpawnError(message: "not root")) }
        let dir = Harness.tempBase + "/setuid-bin"
        mkdir(dir, 0o755)
        chmod(dir, 0o755)
        var fs = statvfs()
        guard statvfs(dir, &fs) == 0, fs.f_flag & UInt(ST_NOSUID) == 0 else {
            return .failure(SpawnError(message: "\(dir) is on a nosuid filesystem"))
        }
        let open = dir + "/burrow", grouped = dir + "/burrow-group"
        for (path, gid, mode) in [(open, gid_t(0), mode_t(0o4755)), (grouped, group, mode_t(0o4750))] {
            let cp = runHost(["/bin/cp", Harness.binary, path])
            guard cp.status == 0, chown(path, 0, gid) == 0, chmod(path, mode) == 0 else {
                return .failure(SpawnError(message: "cannot install \(path): \(cp.stderr)"))
            }
        }
        return .success((open, grouped))
    }()

    static var open: String { (try? binaries.get().open) ?? "/nonexistent" }

    /// The 4755 copy under a front-end's name (`jchroot`, `linux-user-chroot`): a symlink
    /// beside it, as an administrator would make one.
    static func tool(_ name: String) -> String {
        let path = Harness.tempBase + "/setuid-bin/" + name
        _ = symlink(open, path)
        return path
    }
    static var grouped: String { (try? binaries.get().group) ?? "/nonexistent" }
    static var available: Bool { (try? binaries.get()) != nil }
}

/// Runs a setuid burrow as the test user. `noUserNamespaces`: under scripts/no-userns.
/// `groups`: the user's supplementary groups (none by default). The last exec is made by
/// env(1), already unprivileged: setpriv itself keeps its capabilities up to its own exec,
/// which would let it run a 4750 binary it has no right to. `environment` is set by that
/// env(1), so it reaches burrow alone, not the dynamically linked helpers before it.
func setuidBurrow(
    _ args: [String], binary: String = SetuidInstall.open, noUserNamespaces: Bool = true, groups: [gid_t] = [],
    environment: [String: String] = [:], timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    let argv = startSetuidArgv(args, binary: binary, noUserNamespaces: noUserNamespaces, groups: groups, environment: environment)
    do {
        let p = try spawn(argv)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(argv): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// `via`: run by env(1) as the test user, with the setuid binary and `args` as its
/// arguments (a wrapper that execs it: a shell that leaves a child behind, say).
func startSetuidArgv(_ args: [String], binary: String = SetuidInstall.open, noUserNamespaces: Bool = true,
                     groups: [gid_t] = [], environment: [String: String] = [:], via: [String] = []) -> [String] {
    let groupOption = groups.isEmpty ? "--clear-groups" : "--groups=" + groups.map(String.init).joined(separator: ",")
    let user = ["/usr/bin/setpriv", "--reuid=\(testUser.uid)", "--regid=\(testUser.gid)", groupOption, "--", "/usr/bin/env"]
        + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + via + [binary]
    return (noUserNamespaces ? ["\(Harness.packageRoot)/scripts/no-userns"] : []) + user + args
}

/// A process of root's sitting in a directory the test user cannot reach:
/// `base` (root's, 0700) / `inner` (0777: were it reachable, anyone could create there) /
/// `secret` (0644, one line). The caller names it as `/proc/PID/cwd/...`, which the kernel
/// follows only for whoever may ptrace that process: root, not the caller.
struct RootsProcess {
    let base: TempDir
    let process: SpawnedProcess
    let marker: String
    let secret = "SECRET-LINE-\(Int.random(in: 100_000...999_999))"
    var inner: String { base.sub("inner") }
    /// The directory as the caller names it.
    var cwd: String { "/proc/\(process.pid)/cwd" }
    var root: String { "/proc/\(process.pid)/root" }

    static func start(sourceLocation: SourceLocation = #_sourceLocation) async -> RootsProcess? {
        let base = makeTempDir(mode: 0o700)
        mkdir(base.sub("inner"), 0o777)
        chmod(base.sub("inner"), 0o777)
        let marker = sleepMarker()
        guard let p = try? spawn(["/bin/sh", "-c", "cd \(shellQuote(base.sub("inner"))) && exec /bin/sleep \(marker)"]) else {
            Issue.record("cannot start root's sleep", sourceLocation: sourceLocation)
            base.remove()
            return nil
        }
        let r = RootsProcess(base: base, process: p, marker: marker)
        writeFile(r.inner + "/secret", r.secret + "\n")
        chmod(r.inner + "/secret", 0o644)
        guard await waitForProcess(argument: marker) != nil,
              (try? FileManager.default.destinationOfSymbolicLink(atPath: r.cwd)) == r.inner
        else {
            Issue.record("root's sleep is not in \(r.inner)", sourceLocation: sourceLocation)
            r.stop()
            return nil
        }
        return r
    }

    func stop() {
        process.send(SIGKILL)
        _ = process.poll(blocking: true)
        base.remove()
    }

    /// What the inner directory holds: only `secret`, unless something got in.
    var innerEntries: [String] { directoryEntries(inner).sorted() }

    /// Runs burrow with `args(path)` for `secret` and for a file that is not there, both
    /// named through /proc/PID/cwd: each is refused with `status` and EACCES, quotes nothing
    /// of the file, and says the same as the other but for the path (no existence oracle).
    func expectSameRefusal(status: Int32 = 125, binary: String = SetuidInstall.open, _ args: (String) -> [String],
                           sourceLocation: SourceLocation = #_sourceLocation) async {
        let there = await setuidBurrow(args(cwd + "/secret"), binary: binary, sourceLocation: sourceLocation)
        let missing = await setuidBurrow(args(cwd + "/missing"), binary: binary, sourceLocation: sourceLocation)
        for r in [there, missing] {
            expectRefused(r, status: status, saying: "Permission denied", sourceLocation: sourceLocation)
            expectStderr(r, lacks: secret, sourceLocation: sourceLocation)
            expectStdout(r, lacks: secret, sourceLocation: sourceLocation)
        }
        #expect(stderr(there, naming: cwd + "/secret") == stderr(missing, naming: cwd + "/missing"), "\(there)\n\(missing)",
                sourceLocation: sourceLocation)
    }
}

/// Refused before the command ran: `status`, every fragment on stderr, no RAN on stdout.
func expectRefused(_ r: BurrowResult, status: Int32 = 125, saying fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    expectStatus(r, status, sourceLocation: sourceLocation)
    for f in fragments { expectStderr(r, contains: f, sourceLocation: sourceLocation) }
    expectStdout(r, lacks: "RAN", sourceLocation: sourceLocation)
}

/// stderr with `path` written as PATH: two runs that differ only in the file they name.
func stderr(_ r: BurrowResult, naming path: String) -> String { r.stderr.replacingOccurrences(of: path, with: "PATH") }

/// Runs a setuid burrow in a mount namespace of its own, made by root with unshare(1), where
/// `mounts` (mount(8) arguments each) were made first: the host's mount table is never
/// touched (tests that count host mounts run side by side). Says KEPT on stderr when a
/// mount at `keeping` is still there, outside the sandbox, after burrow has exited.
func setuidBurrow(afterMounting mounts: [[String]], keeping: String, _ args: [String],
                  sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    let script = mounts.map { "/bin/mount " + $0.map(shellQuote).joined(separator: " ") + " || exit 99; " }.joined()
        + "\"$@\"; s=$?; grep -q \" \(keeping) \" /proc/self/mountinfo && echo KEPT >&2; exit $s"
    let argv = ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"] + startSetuidArgv(args)
    do {
        return await (try spawn(argv)).wait(sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(argv): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// `cat /proc/self/uid_map` without a user namespace: the initial namespace's identity map.
let initialUidMap = "0 0 4294967295"

/// Whitespace (uid_map's padding, /proc/self/status's tabs) squeezed to single spaces.
func normalizedMap(_ line: String) -> String { line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }

@Suite("Setuid mode", .enabled(if: SetuidInstall.available), .timeLimit(.minutes(1)))
struct SetuidTests {
    // MARK: choosing the mode

    @Test("auto picks setuid mode without user namespaces; the command runs as the caller in the new root")
    func autoPicksSetuid() async {
        let r = await setuidBurrow(["-v", "--unshare-pid", "--proc", "/proc", Harness.sharedRootfs] + sh("""
            id -u; id -g; cat /proc/self/uid_map; grep -E '^(Uid|Gid|CapPrm|CapEff|NoNewPrivs):' /proc/self/status; \
            grep ^ID= /etc/os-release
            """))
        expectSuccess(r)
        let u = testUser.uid, g = testUser.gid
        let lines = r.lines.map(normalizedMap)
        #expect(lines == ["\(u)", "\(g)", initialUidMap, "Uid: \(u) \(u) \(u) \(u)",
                          "Gid: \(g) \(g) \(g) \(g)", "CapPrm: 0000000000000000", "CapEff: 0000000000000000",
                          "NoNewPrivs: 1", "ID=burrow"].map(normalizedMap), "\(r)")
        expectStderr(r, contains: "engine namespace not used: a seccomp filter denies unshare")
        expectStderr(r, contains: "engine setuid (auto)")
        expectStderr(r, contains: "setuid mode")
        expectStderr(r, contains: "privilege dropped for good")
    }

    @Test("An empty directory as rootfs: the command was looked for inside it, and it has no /bin")
    func commandNotFoundInAnEmptyRootfs() async {
        let empty = makeTempDir(owner: testUser)
        defer { empty.remove() }
        let r = await setuidBurrow(["--engine", "setuid", empty.path])
        expectStatus(r, 127)
        expectStderr(r, contains: "exec /bin/sh: No such file or directory\n  hint: /bin/sh is looked for inside the rootfs \(empty.path), not on the host")
        expectStderr(r, contains: "\(empty.path) has no /bin: is it a root file system?")
    }

    @Test("A setuid burrow where user namespaces work drops root at once and uses the namespace engine")
    func namespaceEngineWhenUserNamespacesWork() async {
        let r = await setuidBurrow(["-v", "--unshare-pid", "--proc", "/proc", Harness.sharedRootfs] + sh("cat /proc/self/uid_map; id -u"),
                                   noUserNamespaces: false)
        expectSuccess(r)
        #expect(r.lines.map(normalizedMap) == ["\(testUser.uid) \(testUser.uid) 1", "\(testUser.uid)"], "\(r)")
        expectStderr(r, lacks: "setuid mode")
        // Privilege really is gone: a pid file in a directory only root may write is refused.
        let dir = makeTempDir()
        defer { dir.remove() }
        let p = await setuidBurrow(["--pidfile", dir.sub("pid"), Harness.sharedRootfs] + sh("echo RAN"), noUserNamespaces: false)
        expectStatus(p, 125)
        expectStderr(p, contains: "Permission denied")
        expectStdout(p, lacks: "RAN")
        #expect(!pathExists(dir.sub("pid")))
    }

    @Test("--engine setuid forces the mode; a burrow that is not setuid root refuses it")
    func forcedEngine() async {
        let r = await setuidBurrow(["--engine", "setuid", "--unshare-pid", "--proc", "/proc", Harness.sharedRootfs]
                                   + sh("cat /proc/self/uid_map; id -u"), noUserNamespaces: false)
        expectSuccess(r)
        #expect(r.lines.map(normalizedMap) == [initialUidMap, "\(testUser.uid)"], "\(r)")

        let plain = await burrow(["--engine", "setuid", Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(plain, 125)
        expectStderr(plain, contains: "needs burrow installed setuid root")
        expectStderr(plain, contains: "scripts/install --setuid")
        expectStdout(plain, lacks: "RAN")
    }

    // MARK: the environment

    static let hostileEnvironment = [
        "LD_PRELOAD": "/nonexistent/evil.so", "LD_LIBRARY_PATH": "/nonexistent", "LD_AUDIT": "/nonexistent/a.so",
        "GCONV_PATH": "/nonexistent/gconv", "TMPDIR": "/nonexistent/tmp", "MALLOC_CHECK_": "3",
        "MALLOC_PERTURB_": "165", "GLIBC_TUNABLES": "glibc.malloc.check=3", "LOCPATH": "/nonexistent",
        "NLSPATH": "/nonexistent/%N", "HOSTALIASES": "/etc/shadow", "RESOLV_HOST_CONF": "/etc/shadow",
        "SWIFT_DEBUG_ENABLE_METADATA_ALLOCATION_ITERATION": "1", "BURROW_SECRET_TEST": "leak",
    ]

    @Test("LD_*, GCONV_PATH, TMPDIR, MALLOC_* and the rest never reach privileged code, nor the command unless re-added")
    func environmentWhitelist() async {
        let command = ["--unshare-pid", Harness.sharedRootfs, "/bin/env"]
        let clean = await setuidBurrow(command, environment: ["TERM": "xterm-burrow", "LC_ALL": "C"])
        let hostile = await setuidBurrow(command, environment: Self.hostileEnvironment.merging(["TERM": "xterm-burrow", "LC_ALL": "C"]) { $1 })
        expectSuccess(clean)
        expectSuccess(hostile)
        for name in Self.hostileEnvironment.keys {
            expectStdout(hostile, lacks: name + "=")
        }
        expectStdout(hostile, contains: "TERM=xterm-burrow")
        expectStdout(hostile, contains: "LC_ALL=C")
        // The privileged part honoured none of them: same result, nothing said.
        #expect(Set(hostile.lines) == Set(clean.lines), "clean:\n\(clean)\nhostile:\n\(hostile)")
        #expect(hostile.stderr.isEmpty, "\(hostile)")

        // --setenv puts a variable back, deliberately, for the unprivileged command only.
        let readded = await setuidBurrow(["--setenv", "TMPDIR", "/tmp"] + command, environment: Self.hostileEnvironment)
        expectSuccess(readded)
        expectStdout(readded, contains: "TMPDIR=/tmp")
        expectStdout(readded, lacks: "LD_PRELOAD=")
    }

    // MARK: the privileged process itself

    /// While burrow still holds root's capabilities (permitted, saved uid 0) the caller may
    /// signal it (its real uid is theirs) but not trace it, read its memory, environment or
    /// descriptors, follow its cwd, or change its limits: the kernel wants every uid equal,
    /// and a setuid exec left it undumpable. Held there by a FIFO as its --seccomp file,
    /// which it opens as the caller and waits on.
    @Test("The privileged burrow, held at a FIFO: the caller cannot trace it, read its /proc files or set its limits")
    func privilegedProcessOutOfReach() async throws {
        guard let probe = EscapeProbe.path() else { return }
        let dir = makeUserDir()
        defer { dir.remove() }
        let fifo = dir.sub("seccomp-fifo")
        #expect(mkfifo(fifo, 0o600) == 0 && chown(fifo, testUser.uid, testUser.gid) == 0)
        let p = try spawn(startSetuidArgv(["--seccomp", fifo, Harness.sharedRootfs, "/bin/true"]))
        defer { p.send(SIGKILL); _ = p.poll(blocking: true) }
        // burrow itself, once it has become the caller: uids real, effective, saved = caller, caller, 0.
        var pid: pid_t?
        let found = await eventually(timeout: 10) {
            pid = hostProcesses(withArgument: fifo).first { hostCmdline($0)?.first == SetuidInstall.open }
            guard let pid, let status = readBytes("/proc/\(pid)/status") else { return false }
            return String(decoding: status, as: UTF8.self).contains("Uid:\t\(testUser.uid)\t\(testUser.uid)\t0\t")
        }
        guard found, let pid else {
            Issue.record("no setuid burrow waiting at \(fifo) with saved uid 0")
            return
        }
        let attempts = ["ptrace:\(pid)", "open:/proc/\(pid)/environ", "open:/proc/\(pid)/mem", "open:/proc/\(pid)/cwd",
                        "open:/proc/\(pid)/fd", "prlimit:\(pid)", "kill0:\(pid)"]
        let r = await runHostAsync(asTestUser([probe] + attempts))
        let got = SysProbe.results(BurrowResult(argv: [], status: r.status, signal: nil, stdout: r.stdout, stderr: r.stderr, timedOut: false))
        let want = ["ptrace:\(pid)": "EPERM", "open:/proc/\(pid)/environ": "EACCES", "open:/proc/\(pid)/mem": "EACCES",
                    "open:/proc/\(pid)/cwd": "EACCES", "open:/proc/\(pid)/fd": "EACCES", "prlimit:\(pid)": "EPERM",
                    "kill0:\(pid)": "ok"]
        for (key, value) in want.sorted(by: { $0.key < $1.key }) {
            // prlimit: EPERM from the uid check, or EACCES where an LSM answers first.
            let accepted = key.hasPrefix("prlimit") ? ["EPERM", "EACCES"] : [value]
            #expect(accepted.contains(got[key] ?? ""), "\(key): expected \(value), got \(got[key] ?? "nothing")\n\(r.stdout)\(r.stderr)")
        }
    }

    /// Device nodes the caller made elsewhere (a USB stick, an unpacked image) sit on a nodev
    /// mount; --dev-bind must not lift that: root's bind copies the mount's flags and only adds.
    @Test("--dev-bind of a nodev mount keeps it nodev: a device node there stays closed")
    func devBindKeepsNodev() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        // /dev/null's numbers: harmless where it does open (the control below).
        #expect(mknod(dir.sub("null"), S_IFCHR | 0o666, dev_t(0x103)) == 0)
        chmod(dir.sub("null"), 0o666)
        let args = ["--dev-bind", dir.path, "/home", Harness.sharedRootfs] + sh("echo x > /home/null && echo OPENED")
        let nodev = await setuidBurrow(afterMounting: [["--bind", dir.path, dir.path], ["-o", "remount,bind,nodev", dir.path]],
                                       keeping: dir.path, args)
        expectStdout(nodev, lacks: "OPENED")
        expectStderr(nodev, contains: "Permission denied")
        let control = await setuidBurrow(args)
        expectStdout(control, contains: "OPENED")
    }

    // MARK: files the caller cannot reach

    @Test("A bind of something the caller cannot read or search fails with EACCES")
    func unreadableSources() async {
        let dir = makeTempDir()  // root's, 0755
        defer { dir.remove() }
        let secretDir = dir.sub("root-only")
        mkdir(secretDir, 0o700)
        writeFile(secretDir + "/file", "SECRET-IN-DIR\n")
        chmod(secretDir + "/file", 0o644)
        let secretFile = dir.sub("root-only-file")
        writeFile(secretFile, "SECRET-FILE\n")
        chmod(secretFile, 0o600)
        for source in ["/etc/shadow", secretDir, secretDir + "/file", secretFile] {
            let r = await setuidBurrow(["--ro-bind", source, "/mnt/x", Harness.sharedRootfs] + sh("cat /mnt/x; ls /mnt/x; echo RAN"))
            expectStatus(r, 125)
            expectStderr(r, contains: source)
            expectStderr(r, contains: "Permission denied")
            expectStdout(r, lacks: "RAN")
            expectStdout(r, lacks: "SECRET")
        }
    }

    @Test("Mount points and the pid file are made with the caller's rights, never root's")
    func hostChangesAsCaller() async {
        // The shared rootfs is root's: root could create /newdir in it, the caller cannot.
        let r = await setuidBurrow(["--tmpfs", "/burrow-new-dir", Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(r, 125)
        expectStderr(r, contains: "Permission denied")
        expectStdout(r, lacks: "RAN")
        #expect(!pathExists(Harness.sharedRootfs + "/burrow-new-dir"))

        let dir = makeTempDir()
        defer { dir.remove() }
        let p = await setuidBurrow(["--pidfile", dir.sub("pid"), Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(p, 125)
        expectStderr(p, contains: "open pid file")
        expectStderr(p, contains: "Permission denied")
        #expect(!pathExists(dir.sub("pid")))
    }

    @Test("--dev-bind of a device node the caller cannot open is refused; one they can open works")
    func deviceBinds() async {
        let dir = makeTempDir()
        defer { dir.remove() }
        let node = dir.sub("private-null")
        #expect(runHost(["/bin/mknod", "-m", "600", node, "c", "1", "3"]).status == 0)
        let r = await setuidBurrow(["--dev-bind", node, "/n", Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(r, 125)
        expectStderr(r, contains: node)
        expectStderr(r, contains: "Permission denied")
        expectStdout(r, lacks: "RAN")

        let ok = await setuidBurrow(["--dev", "/dev", "--dev-bind", "/dev/null", "/dev/bound-null", Harness.sharedRootfs]
                                    + sh("echo x > /dev/bound-null && echo WROTE"))
        expectSuccess(ok)
        expectLines(ok, ["WROTE"])
    }

    // MARK: paths the caller names, through a root process's /proc/PID/cwd

    // Burrow is the caller, with no capability effective, whenever it resolves a path the
    // caller named (Privileged.run raises one only around a mount or namespace call on fds).
    // Each row names a file or directory through /proc/PID/cwd of root's process: the kernel
    // follows that link only for who may ptrace the process, and must refuse burrow too.

    @Test("--seccomp FILE through root's /proc/PID/cwd: nothing read, the same error whether or not the file is there")
    func seccompFileThroughRootsCwd() async {
        guard let root = await RootsProcess.start() else { return }
        defer { root.stop() }
        // Control: the same file where the caller may read it is read, and quoted.
        let readable = makeUserDir(["deny": root.secret + "\n"])
        let link = makeUserDir()
        defer { readable.remove(); link.remove() }
        let control = await setuidBurrow(["--seccomp", readable.sub("deny"), Harness.sharedRootfs, "/bin/true"])
        expectStatus(control, 125)
        expectStderr(control, contains: root.secret)

        await root.expectSameRefusal { ["--seccomp", $0, Harness.sharedRootfs] + sh("echo RAN") }
        // Through a symlink of the caller's own: the same.
        symlink(root.cwd + "/secret", link.sub("deny"))
        let viaLink = await setuidBurrow(["--seccomp", link.sub("deny"), Harness.sharedRootfs, "/bin/true"])
        expectStatus(viaLink, 125)
        expectStderr(viaLink, contains: "Permission denied")
        expectStderr(viaLink, lacks: root.secret)
        // /proc/self is burrow's own process there, which the caller cannot read from outside.
        let own = await setuidBurrow(["--seccomp", "/proc/self/maps", Harness.sharedRootfs, "/bin/true"])
        expectStatus(own, 125)
        expectStderr(own, contains: "a file on procfs is not read in setuid mode")
        expectStderr(own, lacks: SetuidInstall.open)
    }

    @Test("--bind-try and --ro-bind through root's /proc/PID/cwd: refused alike whether or not the file is there")
    func bindThroughRootsCwd() async {
        guard let root = await RootsProcess.start() else { return }
        defer { root.stop() }
        // --bind-try skips a source that is not there: it must not tell that one apart.
        for option in ["--bind-try", "--ro-bind"] {
            await root.expectSameRefusal { [option, $0, "/home", Harness.sharedRootfs] + sh("cat /home; echo RAN") }
        }
        // The directory itself, and the rootfs named through root's /proc/PID/root.
        let dir = await setuidBurrow(["--bind", root.cwd, "/home", Harness.sharedRootfs] + sh("ls /home; echo RAN"))
        expectRefused(dir, saying: "Permission denied")
        let rootfs = await setuidBurrow([root.root + Harness.sharedRootfs] + sh("echo RAN"))
        expectRefused(rootfs, saying: "rootfs \(root.root)", "Permission denied")
    }

    @Test("--pidfile and --root-overlay in root's /proc/PID/cwd make nothing there; --chdir to it leads nowhere")
    func creationThroughRootsCwd() async {
        guard let root = await RootsProcess.start() else { return }
        defer { root.stop() }
        let pid = await setuidBurrow(["--pidfile", root.cwd + "/pid", Harness.sharedRootfs] + sh("echo RAN"))
        expectRefused(pid, saying: "open pid file \(root.cwd)/pid: Permission denied")
        let overlay = await setuidBurrow(["--root-overlay", root.cwd + "/changes", Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(overlay, 125)
        #expect(root.innerEntries == ["secret"], "made in root's directory: \(root.innerEntries)")
        // --chdir is resolved inside the sandbox, as the caller, after the drop.
        let chdir = await setuidBurrow(["--proc", "/proc", "--chdir", root.cwd, Harness.sharedRootfs] + sh("cat secret; pwd"))
        expectStatus(chdir, 125)
        expectStdout(chdir, lacks: root.secret)
    }

    @Test("--dir, --tmpfs, --symlink, a bind below a rootfs symlink to root's /proc/PID/cwd: nothing is made there",
          arguments: [["--dir", "/evil/made"], ["--tmpfs", "/evil/made"], ["--symlink", "x", "/evil/made"],
                      ["--ro-bind", "/etc/hostname", "/evil/made"]], [true, false])
    func creationBelowASymlinkToRootsCwd(_ op: [String], proc: Bool) async {
        guard let root = await RootsProcess.start() else { return }
        let rootfs = await makePrivateRootfs()
        defer { root.stop(); rootfs.remove() }
        // A symlink in the caller's own rootfs, pointing at root's directory: resolved inside
        // the new root, where /proc is the sandbox's (or the rootfs's empty directory).
        symlink(root.cwd, rootfs.at("/evil"))
        lchown(rootfs.at("/evil"), testUser.uid, testUser.gid)
        let r = await setuidBurrow((proc ? ["--proc", "/proc"] : []) + op + [rootfs.path] + sh("echo RAN"))
        #expect(r.status == 125 || r.status == 0, "\(r)")
        #expect(root.innerEntries == ["secret"], "made in root's directory: \(root.innerEntries)\n\(r)")
    }

    @Test("jchroot -f FSTAB and linux-user-chroot --mount-bind through root's /proc/PID/cwd: nothing read or bound; a readable fstab works")
    func frontEndsThroughRootsCwd() async {
        guard let root = await RootsProcess.start() else { return }
        let fstab = makeUserDir(["fstab": "tmpfs /tmp tmpfs mode=1777 0 0\n", "bad": "proc \(root.secret) proc defaults 0 0\n"])
        defer { root.stop(); fstab.remove() }
        let jchroot = SetuidInstall.tool("jchroot"), luc = SetuidInstall.tool("linux-user-chroot")
        // Read with the caller's rights: an fstab the caller may read works in setuid mode,
        // and a parse error quotes the caller's own file.
        let ok = await setuidBurrow(["-f", fstab.sub("fstab"), Harness.sharedRootfs] + sh("echo RAN"), binary: jchroot)
        expectSuccess(ok)
        expectStdout(ok, contains: "RAN")
        let own = await setuidBurrow(["-f", fstab.sub("bad"), Harness.sharedRootfs, "/bin/true"], binary: jchroot)
        expectStatus(own, 1)
        expectStderr(own, contains: root.secret)

        await root.expectSameRefusal(status: 1, binary: jchroot) { ["-f", $0, Harness.sharedRootfs] + sh("echo RAN") }
        let procfs = await setuidBurrow(["-f", "/proc/self/status", Harness.sharedRootfs, "/bin/true"], binary: jchroot)
        expectStatus(procfs, 1)
        expectStderr(procfs, contains: "a file on procfs is not read by a setuid burrow")
        expectStderr(procfs, lacks: "Name:")

        let bound = await setuidBurrow(["--mount-bind", root.cwd, "/home", Harness.sharedRootfs] + sh("ls /home; echo RAN"), binary: luc)
        #expect(bound.status != 0, "\(bound)")
        expectStderr(bound, contains: "Permission denied")
        expectStdout(bound, lacks: "RAN")
        expectStdout(bound, lacks: "secret")
    }

    // MARK: the host's procfs

    @Test("A procfs as a bind source or the rootfs is refused, saying why", arguments: [
        ["--ro-bind", "/proc", "/home"], ["--bind", "/proc/sys", "/home"], ["--ro-bind", "/proc/self", "/home"],
        ["--bind-try", "/proc/1", "/home"],
    ])
    func procfsSourceRefused(_ bind: [String]) async {
        let r = await setuidBurrow(bind + ["--proc", "/proc", Harness.sharedRootfs] + sh("ls /home; echo RAN"))
        expectRefused(r, saying: "bind \(bind[1]) -> /home: Permission denied", """
            a procfs is refused as a bind source in setuid mode: the command would reach other processes' \
            /proc/PID/root outside the sandbox; use --proc DEST for the sandbox's own
            """)
    }

    @Test("A procfs as the rootfs is refused", arguments: ["/proc", "/proc/self/root/proc"])
    func procfsRootfsRefused(_ path: String) async {
        let r = await setuidBurrow([path] + sh("echo RAN"))
        expectRefused(r, saying: "rootfs \(path): Permission denied", "a procfs is refused as the rootfs in setuid mode")
    }

    @Test("linux-user-chroot --mount-bind /proc is refused; --mount-proc is the sandbox's own procfs")
    func procfsThroughLinuxUserChroot() async {
        let luc = SetuidInstall.tool("linux-user-chroot")
        let bound = await setuidBurrow(["--mount-bind", "/proc", "/home", Harness.sharedRootfs] + sh("echo RAN"), binary: luc)
        #expect(bound.status != 0, "\(bound)")
        expectStderr(bound, contains: "a procfs is refused as a bind source")
        expectStdout(bound, lacks: "RAN")
        let own = await setuidBurrow(["--mount-proc", "/proc", Harness.sharedRootfs] + sh("ls /proc | grep -c '^[0-9]'"), binary: luc)
        expectSuccess(own)
        #expect((Int(own.lines.last ?? "") ?? 99) < 6, "only the sandbox's processes:\n\(own)")
    }

    @Test("--bind / DEST: the host's procfs below it is detached, --proc stays the sandbox's; the host keeps its own")
    func hostProcfsBelowABind() async {
        let r = await setuidBurrow(["-v", "--ro-bind", "/", "/home", "--proc", "/proc", Harness.sharedRootfs] + sh("""
            ls -A /home/proc | wc -l; [ -e /home/proc/1/root ] && echo REACHED; [ -e /home/proc/self ] && echo SELF; \
            [ -d /home\(Harness.sharedRootfs)/bin ] && echo host-tree; \(printMounts)
            """))
        expectSuccess(r)
        #expect(r.beforeMounts == "0\nhost-tree\n", "\(r)")
        expectStderr(r, contains: "detached /home/proc: the host's procfs, carried in by bind / -> /home")
        let procs = r.mounts.filter { $0.fsType == "proc" }
        #expect(procs.map(\.mountPoint) == ["/proc"], "only the sandbox's own procfs:\n\(r)")
        #expect(hostMountinfo().contains { $0.mountPoint == "/proc" && $0.fsType == "proc" }, "the host keeps its /proc")
    }

    @Test("Below a bind source: a procfs, a file bound from one, one covered by a tmpfs: all detached in the sandbox, kept outside")
    func hostProcfsBelowABindSource() async {
        guard Harness.runningAsRoot else { return }
        let source = makeTempDir()
        defer { source.remove() }
        for d in ["a", "c"] { mkdir(source.sub(d), 0o755) }
        writeFile(source.sub("f"), "")
        chmod(source.sub("f"), 0o644)
        let mounts = [["-t", "proc", "proc", source.sub("a")], ["--bind", "/proc/self/status", source.sub("f")],
                      ["-t", "proc", "proc", source.sub("c")], ["-t", "tmpfs", "tmpfs", source.sub("c")]]
        let r = await setuidBurrow(afterMounting: mounts, keeping: source.sub("a"), ["-v", "--ro-bind", source.path, "/home", "--proc", "/proc",
                                   Harness.sharedRootfs] + sh("ls -A /home/a | wc -l; wc -c < /home/f; ls -A /home/c | wc -l; \(printMounts)"))
        expectSuccess(r)
        #expect(r.beforeMounts.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["0", "0", "0"], "\(r)")
        #expect(r.mounts.filter { $0.fsType == "proc" }.map(\.mountPoint) == ["/proc"], "\(r)")
        #expect(r.mounts.filter { $0.mountPoint.hasPrefix("/home/") }.isEmpty, "\(r)")
        for d in ["/home/a", "/home/f", "/home/c"] { expectStderr(r, contains: "detached \(d): the host's procfs") }
        expectStderr(r, contains: "KEPT")
    }

    @Test("proot -R: the recommended /proc bind is the sandbox's own procfs, /etc/mtab (into /proc) is left out")
    func prootRecommendedProc() async {
        let r = await setuidBurrow(["-v", "1", "-R", Harness.sharedRootfs] + sh("ls /proc | grep -c '^[0-9]'; \(printMounts)"),
                                   binary: SetuidInstall.tool("proot"), environment: ["HOME": "/tmp"])
        expectSuccess(r)
        #expect((Int(r.beforeMounts.split(separator: "\n").first ?? "") ?? 99) < 6, "only the sandbox's processes:\n\(r)")
        #expect(r.mounts.filter { $0.fsType == "proc" }.map(\.mountPoint) == ["/proc"], "\(r)")
        expectStderr(r, contains: "the recommended /proc bind is the sandbox's own procfs")
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/mtab"))?.contains("proc") == true {
            expectStderr(r, contains: "skip /etc/mtab: /etc/mtab is on a procfs")
        }
    }

    @Test("A rootfs with the host's procfs mounted in it: detached in the sandbox, kept outside")
    func hostProcfsInTheRootfs() async {
        guard Harness.runningAsRoot else { return }
        let rootfs = await makePrivateRootfs()
        defer { rootfs.remove() }
        let mount = [["-t", "proc", "proc", rootfs.at("/proc")]]
        // Without --proc: the rootfs's own empty /proc directory.
        let bare = await setuidBurrow(afterMounting: mount, keeping: rootfs.at("/proc"), ["-v", rootfs.path] + sh("ls -A /proc | wc -l"))
        expectSuccess(bare)
        expectLines(bare, ["0"])
        expectStderr(bare, contains: "detached /proc: the host's procfs, carried in by the rootfs \(rootfs.path)")
        expectStderr(bare, contains: "KEPT")
        // With it: a fresh procfs of the sandbox's PID namespace on top, the only one.
        let own = await setuidBurrow(afterMounting: mount, keeping: rootfs.at("/proc"), ["--proc", "/proc", rootfs.path] + sh("""
            ls /proc | grep -c '^[0-9]'; [ -e /proc/1/root\(Harness.tempBase) ] && echo REACHED; \(printMounts)
            """))
        expectSuccess(own)
        #expect((Int(own.beforeMounts.split(separator: "\n").first ?? "") ?? 999) < 6, "no host processes:\n\(own)")
        expectStdout(own, lacks: "REACHED")
        #expect(own.mounts.filter { $0.fsType == "proc" }.map(\.mountPoint) == ["/proc"], "\(own)")
    }

    // MARK: escapes

    @Test("A symlink in the rootfs cannot point a bind destination at a host path")
    func symlinkDestinations() async {
        let root = await makePrivateRootfs()
        let host = makeTempDir(mode: 0o777)  // the caller may write here: an escape would show
        let source = makeTempDir()
        defer { root.remove(); host.remove(); source.remove() }
        writeFile(source.sub("payload"), "PAYLOAD\n")
        chmod(source.path, 0o755)
        chmod(source.sub("payload"), 0o644)
        let depth = String(repeating: "../", count: 12)
        symlink(host.path, root.at("/abs-link"))
        symlink(depth + String(host.path.dropFirst()), root.at("/rel-link"))
        lchown(root.at("/abs-link"), testUser.uid, testUser.gid)
        lchown(root.at("/rel-link"), testUser.uid, testUser.gid)
        for link in ["/abs-link", "/rel-link"] {
            let r = await setuidBurrow(["--ro-bind", source.path, link + "/x", root.path] + sh("echo RAN"))
            expectStatus(r, 125)
            expectStderr(r, contains: "does not exist inside the new root")
            #expect(directoryEntries(host.path).isEmpty, "\(host.path) got \(directoryEntries(host.path))")
        }
        // Where the rootfs has that path, the bind lands there: inside.
        let inside = root.path + host.path
        #expect(runHost(["/bin/mkdir", "-p", inside]).status == 0)
        giveToTestUser(inside)
        let r = await setuidBurrow(["--ro-bind", source.path, "/rel-link/x", "--unshare-pid", "--proc", "/proc", root.path]
                                   + sh("cat \(host.path)/x/payload; " + printMounts))
        expectSuccess(r)
        expectStdout(r, contains: "PAYLOAD")
        let m = expectMount(r, at: host.path + "/x")
        expectOption(m, "nosuid", context: r)
        #expect(directoryEntries(host.path).isEmpty)
        #expect(!pathExists(inside + "/x"), "the mount point made inside the rootfs is removed afterwards")
    }

    @Test("A setuid-root binary in the rootfs or in a bind gives no privilege")
    func setuidBinariesInside() async {
        let root = await makePrivateRootfs()
        let bound = makeTempDir()
        defer { root.remove(); bound.remove() }
        // The probe is a setuid-root copy of burrow itself (static, and it says its euid when
        // setuid mode is refused); busybox would drop the privilege on its own.
        mkdir(root.at("/suid"), 0o755)
        for path in [root.at("/suid/burrow"), bound.sub("burrow")] {
            #expect(runHost(["/bin/cp", Harness.binary, path]).status == 0)
            #expect(chown(path, 0, 0) == 0 && chmod(path, 0o4755) == 0)
        }
        // Control: outside a sandbox, the same file does run with root's privilege.
        let control = await setuidBurrow(["-v", Harness.sharedRootfs, "/bin/true"], binary: root.at("/suid/burrow"))
        expectSuccess(control)
        expectStderr(control, contains: "setuid mode: building the sandbox as root")

        let probe = "--engine setuid / /bin/true 2>&1; echo status=$?"
        let r = await setuidBurrow(["--unshare-pid", "--proc", "/proc", "--ro-bind", bound.path, "/b", root.path]
                                   + sh("/suid/burrow \(probe); /b/burrow \(probe); " + printMounts))
        expectSuccess(r)
        let refused = "is not (uid \(testUser.uid), euid \(testUser.uid))"
        #expect(r.beforeMounts.components(separatedBy: refused).count == 3, "both copies should run without privilege:\n\(r)")
        #expect(r.beforeMounts.components(separatedBy: "status=125").count == 3, "\(r)")
        expectOption(expectMount(r, at: "/"), "nosuid", context: r)
        expectOption(expectMount(r, at: "/b"), "nosuid", context: r)
    }

    // MARK: what privilege would make unsafe

    @Test("Options unsafe with privilege are refused, saying why", arguments: [
        (["--uid", "0"], "--uid 0 (or --root) is refused in setuid mode"),
        // Named: for --root, auto runs the ptrace engine's faked root instead (AptRootTests).
        (["--engine", "setuid", "--root"], "--uid 0 (or --root) is refused in setuid mode"),
        (["--gid", "0"], "--gid 0 (or --root) is refused in setuid mode"),
        (["--uid", "12345"], "uid 12345 is not yours"),
        (["--uid-map", "0:200000:1"], "--uid-map/--gid-map are refused in setuid mode"),
        (["--root-tmp-overlay"], "--root-tmp-overlay is refused in setuid mode: overlayfs"),
        (["--root-overlay", "/tmp/burrow-setuid-overlay"], "--root-overlay is refused in setuid mode"),
    ])
    func refusedOptions(options: [String], fragment: String) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await setuidBurrow(options + [root.path] + sh("touch /ran-marker; echo RAN"))
        expectStatus(r, 125)
        expectStderr(r, contains: fragment)
        expectStdout(r, lacks: "RAN")
        #expect(!pathExists(root.at("/ran-marker")))
        #expect(!pathExists("/tmp/burrow-setuid-overlay"))
    }

    @Test("--kernel-release, --pidfile and --die-with-parent work in setuid mode")
    func kernelReleaseAndPidFile() async {
        let run = makeTempDir(owner: testUser)
        defer { run.remove() }
        let r = await setuidBurrow(["--kernel-release", "9.9.9-setuid", "--proc", "/proc", "--die-with-parent",
                                    "--pidfile", run.sub("pid"), Harness.sharedRootfs]
                                   + sh("uname -r; cat /proc/sys/kernel/osrelease"))
        expectSuccess(r)
        expectLines(r, ["9.9.9-setuid", "9.9.9-setuid"])
        let marker = sleepMarker()
        let p = try? spawn(startSetuidArgv(["--pidfile", run.sub("pid"), Harness.sharedRootfs, "/bin/sleep", marker]))
        // burrow's own argv names the marker too: the command is the one that is /bin/sleep.
        func sleeper() -> pid_t? { hostProcesses(withArgument: marker).first { hostCmdline($0)?.first == "/bin/sleep" } }
        #expect(await eventually(timeout: 5) { sleeper().map { readFile(run.sub("pid")) == "\($0)\n" } ?? false },
                "pid file \(readFile(run.sub("pid")) ?? "none"), sleep \(sleeper() ?? -1)")
        p?.send(SIGTERM)
        _ = await p?.wait()
        #expect(await eventually(timeout: 5) { !pathExists(run.sub("pid")) })
        killProcesses(withArgument: marker)
    }

    @Test("Allowed with privilege: the caller's own ids, namespaces, hostname, loopback, exit statuses")
    func allowedOptions() async {
        let r = await setuidBurrow(["--uid", "\(testUser.uid)", "--gid", "\(testUser.gid)", "--unshare-all", "--hostname", "setuid-box",
                                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", Harness.sharedRootfs]
                                   + sh("hostname; ip -o link | cut -d: -f2 | tr -d ' '; exit 7"))
        expectStatus(r, 7)
        expectLines(r, ["setuid-box", "lo"])
        let missing = await setuidBurrow([Harness.sharedRootfs, "/no/such/command"])
        expectStatus(missing, 127)
    }

    // MARK: install modes

    @Test("Mode 4750 root:GROUP: outsiders cannot run it; members get setuid mode")
    func groupMode() async {
        let outsider = await setuidBurrow([Harness.sharedRootfs] + sh("echo RAN"), binary: SetuidInstall.grouped)
        #expect(outsider.status == 126, "\(outsider)")
        expectStderr(outsider, contains: "Permission denied")
        expectStdout(outsider, lacks: "RAN")

        let member = await setuidBurrow(["-v", Harness.sharedRootfs] + sh("id -u; echo RAN"), binary: SetuidInstall.grouped,
                                        groups: [SetuidInstall.group])
        expectSuccess(member)
        expectLines(member, ["\(testUser.uid)", "RAN"])
        expectStderr(member, contains: "setuid mode")
    }

    // MARK: leftovers

    @Test("Nothing is left on the host: mount points, --dir, --symlink, pid file; nor after kill -9")
    func noLeftovers() async {
        let root = await makePrivateRootfs()
        let run = makeTempDir(owner: testUser)
        defer { root.remove(); run.remove() }
        let before = treeListing(root.path)
        let args = ["--tmpfs", "/new/a/b", "--dir", "/made-dir", "--symlink", "target", "/made-link",
                    "--ro-bind", "/etc/hostname", "/new-file", "--pidfile", run.sub("pid"), root.path]
        let r = await setuidBurrow(args + sh("ls -d /new/a/b /made-dir /new-file && [ -L /made-link ] && echo OK"))
        expectSuccess(r)
        expectStdout(r, contains: "OK")
        #expect(await eventually { treeListing(root.path) == before }, "left: \(Set(treeListing(root.path)).subtracting(before))")
        #expect(!pathExists(run.sub("pid")))
        #expect(hostMounts(mentioning: root.path).isEmpty)

        let marker = sleepMarker()
        let p = try? spawn(startSetuidArgv(args + ["/bin/sleep", marker]))
        #expect(await waitForProcess(argument: marker) != nil)
        p?.send(SIGKILL)
        _ = await p?.wait()
        #expect(await waitUntilGone(argument: marker, timeout: 5).isEmpty)
        #expect(await eventually(timeout: 5) { treeListing(root.path) == before && !pathExists(run.sub("pid")) },
                "left: \(Set(treeListing(root.path)).subtracting(before))")
        #expect(hostMounts(mentioning: root.path).isEmpty)
        killProcesses(withArgument: marker)
    }
}
