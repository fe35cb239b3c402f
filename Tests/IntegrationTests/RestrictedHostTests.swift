// The ptrace engine where the host refuses what it would rather use: Docker's default
// seccomp profile (pidfd_getfd, kcmp, clone3, the mount family and most personas refused),
// and each of those calls refused alone, by scripts/restricted-host (root installs a seccomp
// filter that binds the test user). Each time: the command's status, a bind, faked root
// (chown then stat), 100 processes, a background process killed when the command exits,
// nothing left behind, and -v naming the fallback in use. Then a Debian rootfs under the
// Docker profile (gcc, perl, python3), burrow as a container's
// pid 1 (where it used to hang), the proot front-end, and set-up failures: status 125, the
// operation named, nothing left.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A host restriction (scripts/restricted-host's options) and what burrow -v says about it.
struct Restriction: Sendable, CustomTestStringConvertible {
    let options: [String]
    /// A line of burrow -v that names the fallback in use.
    let says: String
    var testDescription: String { options.joined(separator: " ") }

    static let listener = "seccomp listener received from the command"
    static let noListener = "no seccomp user notification"

    /// One call refused at a time, then Docker's profile.
    static let each: [Restriction] = [
        Restriction(options: ["--deny", "pidfd_getfd"], says: listener),
        Restriction(options: ["--deny", "clone3=ENOSYS"], says: listener),
        Restriction(options: ["--deny", "kcmp"], says: listener),
        Restriction(options: ["--deny", "personality"], says: listener),
        Restriction(options: ["--deny", "process_vm_readv"], says: "process_vm_readv: Operation not permitted: reading through /proc/PID/mem instead"),
        Restriction(options: ["--deny", "process_vm_writev"], says: "process_vm_writev: Operation not permitted: writing through /proc/PID/mem instead"),
        // /proc/PID/mem cannot be written either: PTRACE_POKEDATA, and so no listener.
        Restriction(options: ["--read-only-proc", "--deny", "process_vm_writev"],
                    says: "/proc/PID/mem: Read-only file system: writing through PTRACE_POKEDATA instead"),
        Restriction(options: ["--deny-user-notification"], says: noListener + " (seccomp SECCOMP_FILTER_FLAG_NEW_LISTENER|WAIT_KILLABLE_RECV: Invalid argument)"),
        Restriction(options: ["--docker"], says: listener),
        Restriction(options: ["--docker", "--pid1"], says: listener),
    ]
    static let docker = Restriction(options: ["--docker"], says: listener)
}

/// `argv` (burrow, or a front-end link) as the test user under `restriction`.
func underRestriction(
    _ restriction: Restriction, _ argv: [String], environment: [String: String] = [:], timeout: Double = 30,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    let full = [Harness.packageRoot + "/scripts/restricted-host"] + restriction.options + ["--"] + asTestUser(argv)
    do {
        let p = try spawn(full, environment: environment)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(full): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: full, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

@Suite("Restricted hosts (ptrace engine)", .serialized, .timeLimit(.minutes(5)))
struct RestrictedHostTests {
    let rootfs = Harness.sharedRootfs

    /// A bind, a TMPDIR for the --tmpfs directory (empty again at the end) and a marker.
    struct Scene {
        let work = makeTempDir(owner: testUser)
        let tmp = makeTempDir(owner: testUser)
        let marker = sleepMarker()
        init() { writeFile(work.sub("hello"), "from-host\n", owner: testUser) }
        func tearDown() {
            killProcesses(withArgument: marker)
            work.remove()
            tmp.remove()
        }

        /// The script every restriction runs: exits 3. `background`: leaves a sleep running
        /// (proot waits for it: not there).
        func script(background: Bool = true) -> String {
            let sleep = "sleep \(marker) & \(waitUntilRunning(sleep: marker))"
            return """
                cat /work/hello && echo from-guest > /work/written
                touch /work/f && chown 1234:5678 /work/f && stat -c '%u %g' /work/f
                i=0; while [ $i -lt 100 ]; do /bin/true & i=$((i+1)); done; wait; echo "$i processes"
                \(background ? sleep : "")
                exit 3
                """
        }
        func expected(background: Bool = true) -> [String] {
            ["from-host", "1234 5678", "100 processes"] + (background ? ["sleep \(marker) "] : [])
        }

        /// The script without the background sleep (proot waits for every process) through
        /// the proot name as faked root, with /work, /proc and /dev bound, under `restriction`.
        func proot(_ restriction: Restriction, environment: [String: String] = [:]) async -> BurrowResult {
            let env = PRootFixtures.environment.merging(["TMPDIR": tmp.path].merging(environment) { $1 }) { $1 }
            return await underRestriction(restriction, ["/usr/bin/env", "-C", "/", PRootFixtures.burrowProot, "-0", "-r",
                                                        Harness.sharedRootfs, "-b", "\(work.path):/work", "-b", "/proc", "-b", "/dev"]
                                              + sh(script(background: false)),
                                          environment: env)
        }

        func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) async {
            #expect(await waitUntilGone(argument: marker).isEmpty, "sleep \(marker) survived the sandbox", sourceLocation: sourceLocation)
            let helpers = await waitUntilGone(argument: work.path)
            #expect(helpers.isEmpty, "burrow's processes left: \(helpers.map { hostCmdline($0) ?? [] })", sourceLocation: sourceLocation)
            #expect(await eventually { directoryEntries(tmp.path).isEmpty }, "left behind in TMPDIR: \(directoryEntries(tmp.path))",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("burrow --engine ptrace: status, a bind, faked root, 100 processes, a background process killed, nothing left",
          arguments: Restriction.each)
    func engine(_ restriction: Restriction) async {
        guard Harness.runningAsRoot else { return }  // scripts/restricted-host needs root
        let s = Scene()
        defer { s.tearDown() }
        let r = await underRestriction(restriction, [Harness.binary, "--engine", "ptrace", "-v", "--root", "--proc", "/proc", "--dev", "/dev",
                                                     "--tmpfs", "/tmp", "--bind", s.work.path, "/work", rootfs] + sh(s.script()),
                                       environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 3)
        expectLines(r, s.expected())
        expectStderr(r, contains: restriction.says)
        #expect(readFile(s.work.sub("written")) == "from-guest\n")
        await s.expectNothingLeft()
    }

    @Test("The proot front-end on the ptrace engine", arguments: Restriction.each)
    func proot(_ restriction: Restriction) async {
        guard Harness.runningAsRoot else { return }
        let s = Scene()
        defer { s.tearDown() }
        let r = await s.proot(restriction, environment: ["BURROW_ENGINE": "ptrace"])
        expectStatus(r, 3)
        expectLines(r, s.expected(background: false))
        await s.expectNothingLeft()
    }

    @Test("A Debian rootfs under Docker's profile: gcc builds and runs a program, perl and python3 run, with a --tmpfs /tmp",
          .enabled(if: DebianFixture.runnable, DebianFixture.skipReason),
          arguments: [Restriction.docker, Restriction(options: ["--docker", "--pid1"], says: Restriction.listener)])
    func debian(_ restriction: Restriction) async throws {
        let root = try await DebianFixture.shared()
        let s = Scene()
        defer { s.tearDown() }
        writeFile(s.work.sub("h.c"), "#include <stdio.h>\nint main(void) { puts(\"hello from gcc\"); return 0; }\n", owner: testUser)
        // The program in /work: the proot run has the shared copy's /tmp.
        let script = "gcc -o /work/h /work/h.c && /work/h && perl -e 'print \"perl \", 6 * 7, \"\\n\"' && python3 -c 'import os; print(\"python\", 6 * 7, os.getcwd())'"
        let r = await underRestriction(restriction, [Harness.binary, "--engine", "ptrace", "-v", "--tmpfs", "/tmp", "--dev", "/dev",
                                                     "--bind", s.work.path, "/work", root.path] + ["/bin/sh", "-c", script],
                                       environment: ["TMPDIR": s.tmp.path, "PATH": "/usr/bin:/bin"], timeout: 120)
        expectSuccess(r)
        expectLines(r, ["hello from gcc", "perl 42", "python 42 /"])
        expectStderr(r, contains: restriction.says)
        await s.expectNothingLeft()
        // The same through proot.
        let env = PRootFixtures.environment.merging(["BURROW_ENGINE": "ptrace", "TMPDIR": s.tmp.path]) { $1 }
        let viaProot = await underRestriction(restriction, ["/usr/bin/env", "-C", "/", PRootFixtures.burrowProot, "-r", root.path,
                                                            "-b", "\(s.work.path):/work", "-b", "/dev", "/bin/sh", "-c", script],
                                              environment: env, timeout: 120)
        expectSuccess(viaProot)
        expectLines(viaProot, ["hello from gcc", "perl 42", "python 42 /"])
        await s.expectNothingLeft()
    }

    /// What fails during set-up (after the cleaner started, for --tmpfs): status 125, the
    /// operation in the message, the command never run, nothing left.
    static let setupFailures: [(options: [String], message: String)] = [
        (["--deny", "ptrace"], "burrow: ptrace(PTRACE_TRACEME): Operation not permitted"),
        (["--docker", "--deny", "signalfd4"], "burrow: seccomp listener: signalfd"),
        (["--pid1", "--deny", "chdir"], "burrow: chdir "),
    ]

    @Test("A set-up failure: status 125 naming the operation, the command never runs, nothing is left", arguments: setupFailures)
    func setupFailure(_ options: [String], _ message: String) async {
        guard Harness.runningAsRoot else { return }
        let s = Scene()
        defer { s.tearDown() }
        let r = await underRestriction(Restriction(options: options, says: ""),
                                       [Harness.binary, "--engine", "ptrace", "--tmpfs", "/tmp", "--bind", s.work.path, "/work", rootfs]
                                           + sh("echo RAN; sleep \(s.marker)"),
                                       environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 125)
        expectStderr(r, contains: message)
        expectStdout(r, lacks: "RAN")
        await s.expectNothingLeft()
    }

    static let probed = ["unshare_newuser", "clone_newuser", "clone_newuts", "clone3", "mount", "pivot_root", "pidfd_getfd", "kcmp",
                         "personality", "personality_linux32", "personality_no_randomize", "process_vm_readv", "process_vm_writev",
                         "process_madvise", "ptrace", "seccomp_listener"]

    /// sysprobe's answers: each call is made with arguments the kernel itself refuses with
    /// something else than EPERM (or, for the personas, that it allows).
    @Test("scripts/restricted-host: --docker refuses what Docker's profile refuses, and allows what it allows; --deny refuses one call",
          arguments: [
            (["--docker"], ["unshare_newuser=EPERM", "clone_newuser=EPERM", "clone_newuts=EPERM", "clone3=ENOSYS", "mount=EPERM",
                            "pivot_root=EPERM", "pidfd_getfd=EPERM", "kcmp=EPERM", "personality=ok", "personality_linux32=ok",
                            "personality_no_randomize=EPERM", "process_vm_readv=EINVAL", "process_vm_writev=EINVAL",
                            "process_madvise=EPERM", "ptrace=ESRCH", "seccomp_listener=EFAULT"]),
            (["--deny-user-notification", "--deny", "process_vm_readv", "--deny", "kcmp"],
             ["unshare_newuser=EINVAL", "clone_newuser=EINVAL", "clone_newuts=EPERM", "clone3=EINVAL", "mount=EFAULT",
              "pivot_root=EPERM", "pidfd_getfd=EBADF", "kcmp=EPERM", "personality=ok", "personality_linux32=ok",
              "personality_no_randomize=ok", "process_vm_readv=EPERM", "process_vm_writev=EINVAL", "process_madvise=EBADF",
              "ptrace=ESRCH", "seccomp_listener=EINVAL"]),
            (["--apparmor-userns"], ["unshare_newuser=EINVAL", "clone_newuser=EINVAL", "clone_newuts=EPERM", "clone3=EINVAL", "mount=EPERM",
                                     "pivot_root=EPERM", "pidfd_getfd=EBADF", "kcmp=ESRCH", "personality=ok", "personality_linux32=ok",
                                     "personality_no_randomize=ok", "process_vm_readv=EINVAL", "process_vm_writev=EINVAL",
                                     "process_madvise=EBADF", "ptrace=ESRCH", "seccomp_listener=EFAULT"]),
          ])
    func emulation(_ options: [String], _ expected: [String]) async {
        guard Harness.runningAsRoot, let probe = SysProbe.path() else { return }
        let r = await underRestriction(Restriction(options: options, says: ""), [probe] + Self.probed)
        expectSuccess(r)
        expectLines(r, expected)
    }
}

/// `auto` on the restricted hosts: the engine that works is chosen, by what really works
/// (Ubuntu's AppArmor restriction lets a user namespace be made and then refuses what is done
/// in it), and --engines, -v and an explicit --engine say why the others cannot.
@Suite("Restricted hosts: auto picks what works", .serialized, .timeLimit(.minutes(5)))
struct RestrictedHostAutoTests {
    struct Host: Sendable, CustomTestStringConvertible {
        let options: [String]
        /// What --engines says about the namespace engine there.
        let cause: String
        var testDescription: String { options.joined(separator: " ") }
    }

    static let hosts: [Host] = [
        Host(options: ["--apparmor-userns"],
             cause: "(mount (make / private) in the new user namespace: Operation not permitted)"),
        // The second Ubuntu variant: the id maps cannot be written (here: /proc read-only).
        Host(options: ["--apparmor-userns", "--read-only-proc"], cause: "(write /proc/self/setgroups: Read-only file system)"),
        Host(options: ["--docker"], cause: "a seccomp filter denies unshare: inside a container? (clone (CLONE_NEWUSER, CLONE_NEWNS): Operation not permitted)"),
        Host(options: ["--no-userns"], cause: "a seccomp filter denies unshare: inside a container? (clone (CLONE_NEWUSER, CLONE_NEWNS): Operation not permitted)"),
    ]

    @Test("--engines tells the truth; -v says why namespace was not used; the command runs on ptrace: status, bind, fake root, 100 processes, background killed, nothing left",
          arguments: hosts)
    func auto(_ host: Host) async {
        guard Harness.runningAsRoot else { return }
        let restriction = Restriction(options: host.options, says: "")
        let engines = await underRestriction(restriction, [Harness.binary, "--engines"])
        expectSuccess(engines)
        expectStdout(engines, contains: "namespace no: ")
        expectStdout(engines, contains: host.cause)
        expectStdout(engines, contains: "auto      -> ptrace")

        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        let r = await underRestriction(restriction, [Harness.binary, "-v", "--root", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                                                     "--bind", s.work.path, "/work", Harness.sharedRootfs] + sh(s.script()),
                                       environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 3)
        expectLines(r, s.expected())
        expectStderr(r, contains: "engine namespace not used: ")
        expectStderr(r, contains: "engine ptrace (auto)")
        await s.expectNothingLeft()

        // A command killed by a signal: 128 + n.
        let killed = await underRestriction(restriction, [Harness.binary, Harness.sharedRootfs] + sh("kill -TERM $$"))
        expectStatus(killed, 128 + SIGTERM)

        // The namespace engine named explicitly: 125 and the same cause, nothing run.
        let named = await underRestriction(restriction, [Harness.binary, "--engine", "namespace", Harness.sharedRootfs] + sh("echo RAN"))
        expectStatus(named, 125)
        expectStderr(named, contains: "burrow: the namespace engine cannot run here: ")
        expectStderr(named, contains: host.cause)
        expectStdout(named, lacks: "RAN")
    }

    @Test("The proot front-end with the default choice", arguments: hosts)
    func proot(_ host: Host) async {
        guard Harness.runningAsRoot else { return }
        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        let r = await s.proot(Restriction(options: host.options, says: ""))
        expectStatus(r, 3)
        expectLines(r, s.expected(background: false))
        await s.expectNothingLeft()
    }

    /// Issue 17's third item: where bubblewrap itself cannot run, Burrow's bwrap runs what the
    /// ptrace engine expresses, refuses by name what it does not, and the -try forms go without.
    @Test("The bwrap front-end where bwrap cannot run: --ro-bind / /, a bind, tmpfs, env, chdir run; --unshare-net refused by name; -try forms go without",
          arguments: hosts)
    func bwrap(_ host: Host) async {
        guard Harness.runningAsRoot else { return }
        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        let restriction = Restriction(options: host.options, says: "")
        let bwrap = FrontEndLinks.path("bwrap")
        let r = await underRestriction(restriction, [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                                     "--bind", s.work.path, "/work", "--tmpfs", "/tmp", "--setenv", "X", "from-env",
                                                     "--chdir", "/work", "--die-with-parent"]
                                           + sh("cat hello; echo $X; pwd; ls -A /tmp | wc -l; echo x > written; exit 3"),
                                       environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 3)
        expectLines(r, ["from-host", "from-env", "/work", "0"])
        #expect(readFile(s.work.sub("written")) == "x\n")

        let refused = await underRestriction(restriction, [bwrap, "--ro-bind", "/", "/", "--unshare-net"] + sh("echo RAN"))
        expectStatus(refused, 1)
        #expect(refused.stderr.hasPrefix("bwrap: ") && refused.stderr.contains("--unshare-net"), "\(refused.stderr)")
        expectStdout(refused, lacks: "RAN")

        let tried = await underRestriction(restriction, [bwrap, "--ro-bind", "/", "/", "--unshare-user-try", "--unshare-cgroup-try"]
                                                        + sh("echo ran"))
        expectSuccess(tried)
        expectLines(tried, ["ran"])
        await s.expectNothingLeft()
    }

    @Test("A Debian rootfs with the default choice: gcc builds and runs a program, python3 runs",
          .enabled(if: DebianFixture.runnable, DebianFixture.skipReason), arguments: hosts)
    func debian(_ host: Host) async throws {
        let root = try await DebianFixture.shared()
        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        writeFile(s.work.sub("h.c"), "#include <stdio.h>\nint main(void) { puts(\"hello from gcc\"); return 0; }\n", owner: testUser)
        let script = "gcc -o /work/h /work/h.c && /work/h && python3 -c 'print(\"python\", 6 * 7)'"
        let r = await underRestriction(Restriction(options: host.options, says: ""),
                                       [Harness.binary, "--tmpfs", "/tmp", "--dev", "/dev", "--bind", s.work.path, "/work", root.path]
                                           + ["/bin/sh", "-c", script],
                                       environment: ["TMPDIR": s.tmp.path, "PATH": "/usr/bin:/bin"], timeout: 120)
        expectSuccess(r)
        expectLines(r, ["hello from gcc", "python 42"])
        await s.expectNothingLeft()
    }

    @Test("The namespaces refused where the probe got them (unshare denied, clone allowed): auto falls through to ptrace before anything exists, and the command runs once")
    func fallThrough() async {
        guard Harness.runningAsRoot else { return }
        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        let restriction = Restriction(options: ["--deny", "unshare"], says: "")
        let r = await underRestriction(restriction, [Harness.binary, "-v", "--tmpfs", "/tmp", "--bind", s.work.path, "/work",
                                                     Harness.sharedRootfs] + sh("echo ran >> /work/count; exit 4"),
                                       environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 4)
        expectStderr(r, contains: "engine namespace failed during set-up: unshare (user): Operation not permitted; engine ptrace (auto)")
        #expect(readFile(s.work.sub("count")) == "ran\n", "the command must run exactly once")
        await s.expectNothingLeft()
        // Without -v nothing is said of it.
        let quiet = await underRestriction(restriction, [Harness.binary, "--tmpfs", "/tmp", Harness.sharedRootfs] + sh("true"),
                                           environment: ["TMPDIR": s.tmp.path])
        expectSuccess(quiet)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test("A mount refused inside the user namespace (fsopen denied): reported with the hint, not retried on another engine from inside it")
    func mountRefused() async {
        guard Harness.runningAsRoot else { return }
        let s = RestrictedHostTests.Scene()
        defer { s.tearDown() }
        let r = await underRestriction(Restriction(options: ["--deny", "fsopen"], says: ""),
                                       [Harness.binary, "--tmpfs", "/tmp", "--bind", s.work.path, "/work", Harness.sharedRootfs]
                                           + sh("echo ran >> /work/count"), environment: ["TMPDIR": s.tmp.path])
        expectStatus(r, 125)
        expectStderr(r, contains: "fsopen tmpfs: Operation not permitted")
        expectStderr(r, contains: "--engine ptrace")
        #expect(!pathExists(s.work.sub("count")), "the command must not run")
        await s.expectNothingLeft()
    }

    @Test("A setuid install in a container (Docker's profile: root cannot make namespaces either): auto does not pick setuid mode but the ptrace engine, and says why",
          .enabled(if: SetuidInstall.available))
    func setuidInstallInContainer() async {
        let restriction = Restriction(options: ["--docker"], says: "")
        let engines = await underRestriction(restriction, ["/usr/bin/env", SetuidInstall.open, "--engines"])
        expectSuccess(engines)
        expectStdout(engines, contains: "setuid    no: root cannot make the sandbox's namespaces here: unshare (pid, mount): Operation not permitted")
        expectStdout(engines, contains: "auto      -> ptrace")
        let r = await underRestriction(restriction, ["/usr/bin/env", SetuidInstall.open, "-v", Harness.sharedRootfs] + sh("id -u; exit 5"))
        expectStatus(r, 5)
        expectLines(r, ["\(testUser.uid)"])
        expectStderr(r, contains: "engine ptrace (auto)")
        // Named explicitly: 125 with the cause.
        let named = await underRestriction(restriction, ["/usr/bin/env", SetuidInstall.open, "--engine", "setuid", Harness.sharedRootfs]
                                               + sh("echo RAN"))
        expectStatus(named, 125)
        expectStderr(named, contains: "the setuid engine cannot run here: root cannot make the sandbox's namespaces here")
        expectStdout(named, lacks: "RAN")
    }
}
