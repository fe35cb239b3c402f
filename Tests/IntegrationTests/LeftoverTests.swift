// Nothing is left behind: after a normal run, after a setup that fails half-way, and after
// burrow itself is killed with SIGKILL while the command sleeps. "Nothing" means no process
// (neither the sandboxed ones, found by a unique sleep duration, nor a burrow helper, found
// by the rootfs path on its command line), no mount the test process can see mentioning the
// rootfs, and no mount point burrow created in the rootfs.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Leftovers", .timeLimit(.minutes(1)))
struct LeftoverTests {
    struct Mode: Sendable, CustomTestStringConvertible {
        let args: [String]
        var testDescription: String { args.isEmpty ? "default" : args.joined(separator: " ") }
    }

    static let modes = [Mode(args: []), Mode(args: ["--unshare-pid"])]

    /// Setup steps that make mount points, a directory and a symlink in the rootfs (and a
    /// /dev: busybox sh opens /dev/null for background jobs).
    static func creatingSteps(_ w: TempDir) -> [String] {
        [
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/newdir/sub", "--bind", w.path, "/newbind", "--dir", "/newdir3",
            "--symlink", "/etc", "/newlink",
        ]
    }


    /// A private rootfs, a host directory to bind, a unique sleep marker, and the rootfs
    /// listing to compare with afterwards.
    struct Scene {
        let root: PrivateRootfs
        let work: TempDir
        let marker: String
        let before: [String]

        static func make() async -> Scene {
            let root = await makePrivateRootfs()
            return Scene(root: root, work: makeTempDir(owner: testUser), marker: sleepMarker(), before: treeListing(root.path))
        }

        func tearDown() {
            killProcesses(withArgument: marker)
            root.remove()
            work.remove()
        }
    }

    func expectNothingLeft(
        rootfs: PrivateRootfs, listing before: [String], marker: String, grace: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let left = await waitUntilGone(argument: marker, timeout: grace)
        #expect(left.isEmpty, "sandboxed processes left: \(left)", sourceLocation: sourceLocation)
        let helpers = await waitUntilGone(argument: rootfs.path, timeout: grace)
        #expect(
            helpers.isEmpty,
            "processes with the rootfs on their command line left: \(helpers.map { "\($0): \(hostCmdline($0) ?? [])" })",
            sourceLocation: sourceLocation)
        let clean = await eventually(timeout: grace) { treeListing(rootfs.path) == before }
        let extra = Set(treeListing(rootfs.path)).subtracting(before).sorted()
        #expect(clean, "the rootfs still has what burrow made: \(extra)", sourceLocation: sourceLocation)
        #expect(
            hostMounts(mentioning: rootfs.path).isEmpty,
            "the host mount table mentions the rootfs: \(hostMounts(mentioning: rootfs.path))",
            sourceLocation: sourceLocation)
    }

    @Test("After a normal run", arguments: modes)
    func normalRun(_ mode: Mode) async {
        let scene = await Scene.make()
        defer { scene.tearDown() }
        let (root, w, marker, before) = (scene.root, scene.work, scene.marker, scene.before)
        let r = await burrow(
            mode.args + Self.creatingSteps(w) + [root.path]
                + sh(
                    "sleep \(marker) & test -d /newdir/sub && test -L /newlink && echo set-up; \(waitUntilRunning(sleep: marker))"
                ))
        expectSuccess(r)
        expectStdout(r, contains: "set-up")
        expectStdout(r, contains: "sleep \(marker)")
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 1)
    }

    /// A rootfs the user owns with mode 0555 (and a 0555 directory in it), as an unpacked
    /// read-only image is: the namespace engine's init, root in its user namespace, may make
    /// mount points there, the cleaner (the user, no capabilities) must still remove them.
    @Test("In a rootfs of mode 0555 the user owns: nothing left, the modes as they were", arguments: Engine.allCases)
    func readOnlyModeRootfs(_ engine: Engine) async {
        let scene = await Scene.make()
        defer {
            chmod(scene.root.path, 0o755)
            chmod(scene.root.at("/usr"), 0o755)
            scene.tearDown()
        }
        let (root, w, marker, before) = (scene.root, scene.work, scene.marker, scene.before)
        chmod(root.path, 0o555)
        chmod(root.at("/usr"), 0o555)
        let r = await burrow(
            engine: engine,
            ["--ro-bind", "/etc", "/mnt/x", "--tmpfs", "/usr/new/sub"] + Self.creatingSteps(w) + [root.path]
                + sh("test -f /mnt/x/passwd && test -d /usr/new/sub && test -d /newdir3 && echo set-up"))
        expectSuccess(r)
        expectLines(r, ["set-up"])
        #expect(r.stderr.isEmpty, "nothing said:\n\(r)")
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 1)
        var st = stat()
        #expect(stat(root.path, &st) == 0 && st.st_mode & 0o7777 == 0o555, "the rootfs's mode is 0555 again")
        #expect(stat(root.at("/usr"), &st) == 0 && st.st_mode & 0o7777 == 0o555, "/usr's mode is 0555 again")
    }

    @Test("After a setup that fails half-way", arguments: modes)
    func failedSetup(_ mode: Mode) async {
        let scene = await Scene.make()
        defer { scene.tearDown() }
        let (root, w, marker, before) = (scene.root, scene.work, scene.marker, scene.before)
        // The creating steps succeed, then a bind of a missing source fails.
        let r = await burrow(
            mode.args + Self.creatingSteps(w) + ["--bind", "/nonexistent-burrow-src", "/other/x", root.path]
                + sh("sleep \(marker) & echo RAN-COMMAND"))
        expectStatus(r, 125)
        expectStderr(r, contains: "/nonexistent-burrow-src")
        expectStdout(r, lacks: "RAN-COMMAND")
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 1)
        #expect(!pathExists(root.at("/other")))
    }

    @Test("After burrow is killed with SIGKILL while the command sleeps", arguments: modes)
    func killNine(_ mode: Mode) async throws {
        let scene = await Scene.make()
        defer { scene.tearDown() }
        let (root, w, marker, before) = (scene.root, scene.work, scene.marker, scene.before)
        let p = try startBurrow(mode.args + Self.creatingSteps(w) + [root.path] + sh("sleep \(marker) & wait"))
        let started = await waitForProcess(argument: marker, timeout: 10)
        #expect(started != nil, "the command never started; stderr: \(p.stderrSoFar)")
        #expect(pathExists(root.at("/newdir")), "the mount point should exist while the sandbox runs")
        p.send(SIGKILL)
        let r = await p.wait(timeout: 10)
        #expect(r.signal == SIGKILL, "burrow should have died from SIGKILL:\n\(r)")
        // Cleanup may happen just after burrow's death: allow it a moment.
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 3)
    }

    /// The ptrace engine makes --dev's directory once the command first needs it, from the
    /// tracer (the cleaner starts then): it goes too when burrow is killed.
    @Test("The ptrace engine's --dev directory, made while the command runs, goes after SIGKILL")
    func killNineAfterDevMade() async throws {
        let scene = await Scene.make()
        let tmp = makeTempDir(owner: testUser)
        defer {
            scene.tearDown()
            tmp.remove()
        }
        let (root, marker, before) = (scene.root, scene.marker, scene.before)
        let p = try startBurrow(["--engine", "ptrace", "--dev", "/dev", root.path]
            + sh("ls /dev >/dev/null && echo data > /dev/shm/f && sleep \(marker) & wait"), environment: ["TMPDIR": tmp.path])
        let started = await waitForProcess(argument: marker, timeout: 10)
        #expect(started != nil, "the command never started; stderr: \(p.stderrSoFar)")
        #expect(directoryEntries(tmp.path).count == 1, "--dev's directory should exist while the command runs: \(directoryEntries(tmp.path))")
        p.send(SIGKILL)
        let r = await p.wait(timeout: 10)
        #expect(r.signal == SIGKILL, "burrow should have died from SIGKILL:\n\(r)")
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 3)
        let gone = await eventually(timeout: 3) { directoryEntries(tmp.path).isEmpty }
        #expect(gone, "left behind: \(directoryEntries(tmp.path))")
    }

    @Test("After burrow is stopped with SIGTERM", arguments: modes)
    func terminated(_ mode: Mode) async throws {
        let scene = await Scene.make()
        defer { scene.tearDown() }
        let (root, w, marker, before) = (scene.root, scene.work, scene.marker, scene.before)
        let p = try startBurrow(mode.args + Self.creatingSteps(w) + [root.path, "/bin/sleep", marker])
        let started = await waitForProcess(argument: marker, timeout: 10)
        #expect(started != nil, "the command never started; stderr: \(p.stderrSoFar)")
        p.send(SIGTERM)
        let r = await p.wait(timeout: 10)
        expectStatus(r, 143)
        await expectNothingLeft(rootfs: root, listing: before, marker: marker, grace: 1)
    }
}
