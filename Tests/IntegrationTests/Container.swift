// Burrow inside a real container, as people run it in CI jobs and `docker run`: rootful podman
// with runc starts a container as uid 1000 with no capabilities, under a seccomp profile,
// with the burrow binary mounted at /b/burrow, the busybox rootfs at /r and (when there is
// one) the Debian rootfs at /d, all read-only. Tests `podman exec` burrow in it and look at
// its status, stdout and stderr.
//
// One image per test process (`podman import` of a tar of the busybox rootfs: nothing is
// pulled from a registry), under a unique tag; one long-running container per seccomp
// profile, started on first use; both removed when the test process exits. podman runs in a
// mount namespace of its own, so the mounts it makes (the image's overlay, the container's
// /dev/shm) never show in the host's mount table, which other tests compare before and after.
//
// scripts/test (as root) sets BURROW_TEST_CONTAINERS=1: then a missing podman or runc fails
// these tests instead of skipping them.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The seccomp profile a test container runs under.
enum ContainerProfile: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// Docker's default (Tests/Fixtures/docker-default-seccomp.json): no user namespaces, no
    /// mount, no pidfd_getfd; ptrace and process_vm_readv allowed.
    case docker
    /// podman's own default (containers-common's seccomp.json): it allows unshare, clone with
    /// CLONE_NEW* flags and mount, so unprivileged user namespaces work.
    case podman

    var testDescription: String { rawValue }
}

enum Container {
    /// Set by scripts/test: the container tests must run.
    static let required: Bool = {
        let value = ProcessInfo.processInfo.environment["BURROW_TEST_CONTAINERS"] ?? ""
        return !value.isEmpty && value != "0"
    }()

    static let podman = ["/usr/bin/podman", "/usr/local/bin/podman"].first(where: FileManager.default.isExecutableFile)
    /// Always runc: crun fails on hosts with hybrid cgroups (v1 controllers, a v2 mount).
    static let runc = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"].first(where: FileManager.default.isExecutableFile)

    /// Run (and fail when something is missing) if required; else when the tests run as root
    /// (rootful podman) and podman and runc are installed.
    static var runnable: Bool { required || (Harness.runningAsRoot && podman != nil && runc != nil) }
    static let skipReason: Comment =
        "no rootful podman with runc (as root: scripts/deps installs podman and runc; BURROW_TEST_CONTAINERS=1 makes these tests required)"

    /// The user burrow runs as in the container (not the host's test user: the container has
    /// its own /etc/passwd, and none of the host's files are writable to it anyway).
    static let user = "1000:1000"
    static let dockerProfile = Harness.packageRoot + "/Tests/Fixtures/docker-default-seccomp.json"

    /// Where the container sees what the tests mount in.
    static let binary = "/b/burrow"
    static let rootfs = "/r"
    static let debianRootfs = "/d"

    /// Unique per test process: tests of several worktrees may run at once on one host.
    private static let suffix = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    static let imageTag = "localhost/burrow-test:\(suffix)"
    static func containerName(_ profile: ContainerProfile) -> String { "burrow-test-\(suffix)-\(profile.rawValue)" }

    /// Checks what a runnable test needs; records why when it is missing.
    static func check() throws {
        try #require(Harness.runningAsRoot, "the container tests run rootful podman: run them as root")
        try #require(podman != nil, "podman is not installed (scripts/deps installs it)")
        try #require(runc != nil, "runc is not installed (scripts/deps installs it)")
        try #require(FileManager.default.isReadableFile(atPath: dockerProfile), "missing \(dockerProfile)")
        try #require(FileManager.default.isExecutableFile(atPath: Harness.binary), "no burrow binary at \(Harness.binary) (BURROW_BIN)")
    }

    /// A `sleep` in a new mount namespace (private propagation) that every podman command
    /// enters: podman's mounts stay there. Made once, on first use; killed at exit.
    private static let mountNamespaceHolder: Result<pid_t, ContainerError> = {
        let own = hostNamespace("mnt")
        guard let p = try? spawn(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sleep", "2147483647"]) else {
            return .failure(ContainerError(message: "cannot start unshare --mount"))
        }
        // unshare(2) happens after the spawn returns: wait until the namespace is new.
        for _ in 0..<500 {
            let ns = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p.pid)/ns/mnt")) ?? own
            if ns != own, hostCmdline(p.pid)?.first == "/bin/sleep" { return .success(p.pid) }
            if !p.isRunning { break }
            usleep(10_000)
        }
        p.send(SIGKILL)
        _ = p.poll(blocking: true)
        return .failure(ContainerError(message: "unshare --mount did not start a sleep in a new mount namespace: \(p.stderrSoFar)"))
    }()

    /// `podman ARGS...` in the mount namespace of `holder`.
    fileprivate static func podmanCommand(_ podman: String, holder: pid_t, _ args: [String]) -> [String] {
        ["/usr/bin/nsenter", "--target", "\(holder)", "--mount", "--", podman] + args
    }

    /// The running container for `profile`, started on first use.
    static func session(_ profile: ContainerProfile) async throws -> ContainerSession {
        try check()
        switch profile {
        case .docker: return try await dockerSession.value.get()
        case .podman: return try await podmanSession.value.get()
        }
    }

    private static let dockerSession = Task { await start(.docker) }
    private static let podmanSession = Task { await start(.podman) }

    private static let image = Task { () -> Result<String, ContainerError> in
        guard let podman else { return .failure(ContainerError(message: "podman is not installed")) }
        let holder: pid_t
        switch mountNamespaceHolder {
        case .success(let pid): holder = pid
        case .failure(let e): return .failure(e)
        }
        removeAtExit(podman: podman, holder: holder)
        let tar = Harness.tempBase + "/container-image.tar"
        let packed = await runHostAsync(["/bin/tar", "-C", Harness.sharedRootfs, "-cf", tar, "."])
        guard packed.status == 0 else { return .failure(ContainerError(message: "tar of the rootfs failed: \(packed.stderr)")) }
        let imported = await runHostAsync(podmanCommand(podman, holder: holder, ["import", "--quiet", tar, imageTag]))
        unlink(tar)
        guard imported.status == 0 else {
            return .failure(ContainerError(message: "podman import \(imageTag) failed (\(imported.status)): \(imported.stderr)"))
        }
        return .success(imageTag)
    }

    private static func start(_ profile: ContainerProfile) async -> Result<ContainerSession, ContainerError> {
        guard let podman, let runc else { return .failure(ContainerError(message: "podman or runc is not installed")) }
        let tag: String
        switch await image.value {
        case .success(let t): tag = t
        case .failure(let e): return .failure(e)
        }
        guard case .success(let holder) = mountNamespaceHolder else { return .failure(ContainerError(message: "no mount namespace")) }
        let name = containerName(profile)
        var argv = [
            "run", "--detach", "--rm", "--name", name, "--runtime", runc, "--pull", "never", "--network", "none",
            "--user", user,
            // Root here may lack CAP_SYS_RESOURCE: limits no higher than the host's defaults.
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
            "--volume", "\(Harness.binary):\(binary):ro", "--volume", "\(Harness.sharedRootfs):\(rootfs):ro",
        ]
        if profile == .docker { argv += ["--security-opt", "seccomp=\(dockerProfile)"] }
        if DebianFixture.complete { argv += ["--volume", "\(DebianFixture.path):\(debianRootfs):ro"] }
        // PID 1 only waits to be removed (`podman rm -f` kills it).
        argv += [tag, "/bin/sleep", "2147483647"]
        let r = await runHostAsync(podmanCommand(podman, holder: holder, argv))
        guard r.status == 0 else {
            return .failure(ContainerError(message: "podman run (\(profile.rawValue)) failed (\(r.status)): \(r.stderr)"))
        }
        return .success(ContainerSession(name: name, podman: podman, holder: holder, profile: profile))
    }

    /// Registered before the image exists: removes both containers and the image when the
    /// test process exits (before Harness's own atexit removes the temporary directory), then
    /// ends the mount namespace.
    private static func removeAtExit(podman: String, holder: pid_t) {
        removal = (podman, holder)
        atexit {
            guard let r = Container.removal else { return }
            let names = ContainerProfile.allCases.map(Container.containerName)
            _ = runHost(Container.podmanCommand(r.podman, holder: r.holder, ["rm", "--force", "--time", "0", "--ignore"] + names))
            _ = runHost(Container.podmanCommand(r.podman, holder: r.holder, ["rmi", "--force", Container.imageTag]))
            kill(r.holder, SIGKILL)
            waitpid(r.holder, nil, 0)
        }
    }
    /// Set once, before the atexit handler that reads it is registered.
    nonisolated(unsafe) private static var removal: (podman: String, holder: pid_t)?
}

struct ContainerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A running test container.
struct ContainerSession: Sendable {
    let name: String
    let podman: String
    /// The `sleep` whose mount namespace podman runs in.
    let holder: pid_t
    let profile: ContainerProfile

    /// Runs `argv` in the container (as uid 1000, from /) and waits at most `timeout` seconds.
    func exec(_ argv: [String], timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        do {
            let p = try spawn(Container.podmanCommand(podman, holder: holder, ["exec", "--workdir", "/", name] + argv))
            return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
        } catch {
            Issue.record("cannot start podman exec: \(error)", sourceLocation: sourceLocation)
            return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
        }
    }

    /// Runs `burrow ARGS...` in the container.
    func burrow(_ args: [String], timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        await exec([Container.binary] + args, timeout: timeout, sourceLocation: sourceLocation)
    }

    /// Runs a busybox sh script in the container (not in a sandbox): `burrow` in it is
    /// `/b/burrow`, `$work` a fresh directory of uid 1000 in the container's /tmp, removed
    /// after the script.
    func script(_ text: String, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        let wrapped = """
            burrow() { \(Container.binary) "$@"; }
            work=$(mktemp -d /tmp/work.XXXXXX) || exit 99
            ( \(text)
            )
            status=$?
            rm -rf "$work"
            exit $status
            """
        return await exec(["/bin/sh", "-c", wrapped], timeout: timeout, sourceLocation: sourceLocation)
    }
}

/// `args` as one shell command line (for `ContainerSession.script`).
func shellLine(_ args: [String]) -> String { args.map(shellQuote).joined(separator: " ") }
