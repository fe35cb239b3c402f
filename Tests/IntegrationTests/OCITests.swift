// burrow-oci, the OCI runtime name, as podman's conmon and containerd's shim drive it:
// separate create, start, state, kill and delete calls on a bundle made from the test
// busybox rootfs, run as the test user. The container writes what it saw into a directory
// bound at /home; the tests read it there.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum OCILink {
    /// burrow under the name burrow-oci, where the test user can run it.
    static var path: String { FrontEndLinks.path("burrow-oci") }
}

/// A bundle of the test user's: config.json running `script` in the shared rootfs
/// (read-only), with `out` bound read-write at /home and a state directory of its own.
struct OCIBundle {
    let dir: TempDir
    /// Unique, so that the container's processes can be found by it on the host.
    let id = "oci-\(sleepMarker())"
    var bundle: String { dir.sub("bundle") }
    var out: String { dir.sub("out") }
    var stateRoot: String { dir.sub("state") }

    init(script: String, extraProcess: String = "", extraLinux: String = "") {
        dir = makeTempDir(owner: testUser)
        for sub in ["bundle", "out"] {
            mkdir(dir.sub(sub), 0o755)
            giveToTestUser(dir.sub(sub))
        }
        let args = ["/bin/sh", "-c", script].map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\"" }
        let config = """
            {"ociVersion": "1.0.2",
             "root": {"path": "\(Harness.sharedRootfs)", "readonly": true},
             "hostname": "oci-test",
             "process": {"args": [\(args.joined(separator: ", "))], "cwd": "/", "env": ["PATH=/bin:/usr/bin", "OCI=yes"],
                         "user": {"uid": 0, "gid": 0}\(extraProcess)},
             "mounts": [
               {"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
               {"destination": "/home", "type": "bind", "source": "\(dir.sub("out"))", "options": ["rbind", "rw"]}
             ],
             "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]\(extraLinux)}}
            """
        writeFile(dir.sub("bundle/config.json"), config, owner: testUser)
    }

    func output(_ name: String) -> String? { readFile(out + "/" + name) }

    /// config.json's `hooks`: the JSON object given.
    func setHooks(_ object: String) {
        let path = bundle + "/config.json"
        writeFile(path, String((readFile(path) ?? "").dropLast()) + #", "hooks": "# + object + "}", owner: testUser)
    }

    /// A hook of `stage` that fails (/bin/false) and runs while `create` does: create fails,
    /// naming it, and nothing is left. Returns create's result.
    @discardableResult
    static func expectCreateFails(onHook stage: String, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        let failing = OCIBundle(script: "echo ran > /home/ran")
        defer { failing.remove() }
        failing.setHooks(#"{"\#(stage)": [{"path": "/bin/false"}]}"#)
        let refused = await failing.oci(["create", "--bundle", failing.bundle, failing.id], sourceLocation: sourceLocation)
        expectStatus(refused, 1, sourceLocation: sourceLocation)
        expectStderr(refused, contains: "hooks.\(stage)[0] (/bin/false) failed with status 1", sourceLocation: sourceLocation)
        #expect(await failing.state() == nil, sourceLocation: sourceLocation)
        #expect(failing.output("ran") == nil, sourceLocation: sourceLocation)
        await failing.expectNothingLeft(sourceLocation: sourceLocation)
        return refused
    }

    /// burrow-oci --root STATE ARGS, as the test user (as root with `asRoot`, when the tests
    /// run as root); in cgroup (v2) directory `cgroup` when given (moved there by root,
    /// before setpriv); through the command `through` when given (nsenter, say).
    func oci(_ args: [String], cgroup: String? = nil, asRoot: Bool = false, through: [String] = [],
             sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        do {
            let enter = through + (cgroup.map { ["/bin/sh", "-c", "echo $$ > \(shellQuote($0 + "/cgroup.procs")) && exec \"$@\"", "sh"] } ?? [])
            let argv = [OCILink.path, "--root", stateRoot] + args
            let p = try spawn(enter + (asRoot ? argv : asTestUser(argv)))
            return await p.wait(timeout: 20, sourceLocation: sourceLocation)
        } catch {
            Issue.record("cannot start burrow-oci: \(error)", sourceLocation: sourceLocation)
            return BurrowResult(argv: args, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
        }
    }

    /// `state ID`'s status and pid.
    func state(sourceLocation: SourceLocation = #_sourceLocation) async -> (status: String, pid: Int32)? {
        let r = await oci(["state", id], sourceLocation: sourceLocation)
        guard r.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let status = json["status"] as? String, let pid = json["pid"] as? Int
        else { return nil }
        #expect(json["id"] as? String == id, sourceLocation: sourceLocation)
        #expect(json["ociVersion"] as? String == "1.0.2", sourceLocation: sourceLocation)
        #expect(json["bundle"] as? String == bundle, sourceLocation: sourceLocation)
        return (status, Int32(pid))
    }

    /// Nothing of the container left on the host: no process with its id in its arguments.
    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) async {
        let left = await waitUntilGone(argument: id, timeout: 5)
        #expect(left.isEmpty, "processes left: \(left)", sourceLocation: sourceLocation)
        #expect(hostMounts(mentioning: dir.path).isEmpty, sourceLocation: sourceLocation)
    }

    func remove() {
        killProcesses(withArgument: id)
        dir.remove()
    }
}

/// `unshare ARGS /bin/sleep MARKER` (as the test user with `asTestUser`), once the sleep
/// runs in its new namespaces: `body` gets its pid; then it is killed and reaped (no
/// zombie is left to the test process).
func withNamespaceHolder(_ args: [String], asTestUser user: Bool = false, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: (pid_t) async -> Void) async {
    let marker = sleepMarker()
    let argv = ["/usr/bin/unshare"] + args + ["/bin/sleep", marker]
    guard let holder = try? spawn(user ? asTestUser(argv) : argv) else {
        Issue.record("cannot start unshare", sourceLocation: sourceLocation)
        return
    }
    var pid: pid_t?
    for _ in 0..<200 where pid == nil {
        // Once unshare has exec'd the sleep.
        if let p = hostProcesses(withArgument: marker).first, hostCmdline(p)?.first == "/bin/sleep" { pid = p } else {
            try? await Task.sleep(nanoseconds: 25_000_000)
        }
    }
    if let pid { await body(pid) } else { Issue.record("unshare \(args.joined(separator: " ")) did not start its sleep", sourceLocation: sourceLocation) }
    killProcesses(withArgument: marker)
    _ = await holder.wait(timeout: 5)
}

/// A parent cgroup of the test user's in each hierarchy burrow-oci uses, as systemd's
/// Delegate=yes gives one (v1: pids, memory, cpu, cpuset; v2: the unified root's child, with
/// `v2Controllers` enabled for it). nil, with a known issue recorded, where the tests are not
/// root or the host has neither.
struct DelegatedCgroup {
    let name = "burrow-oci-test-" + sleepMarker()
    /// (controller, mount point) of each v1 hierarchy; empty under v2.
    let v1: [(String, String)]
    let v2: String?
    var parents: [(String, String)] { v1.isEmpty ? [("", v2 ?? "")] : v1 }
    private var made: [String] = []

    private init(v1: [(String, String)], v2: String?) {
        self.v1 = v1
        self.v2 = v2
    }

    static func make(v2Controllers: String, sourceLocation: SourceLocation = #_sourceLocation) -> DelegatedCgroup? {
        let mounts = hostMountinfo().filter { $0.fsType == "cgroup" || $0.fsType == "cgroup2" }
        let v1 = ["pids", "memory", "cpu", "cpuset"].compactMap { c in mounts.first { $0.fsType == "cgroup" && $0.superOptions.contains(c) }.map { (c, $0.mountPoint) } }
        let v2 = mounts.first { $0.fsType == "cgroup2" && $0.mountPoint == "/sys/fs/cgroup" }?.mountPoint
        guard Harness.runningAsRoot, v1.count == 4 || (v1.isEmpty && v2 != nil) else {
            withKnownIssue("needs root and cgroup v1's pids, memory, cpu and cpuset or a cgroup v2 root to delegate a cgroup to the test user",
                           sourceLocation: sourceLocation) { Issue.record("skipped") }
            return nil
        }
        var cg = DelegatedCgroup(v1: v1, v2: v2)
        func put(_ path: String, _ text: String) {
            let fd = open(path, O_WRONLY)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        for (controller, mount) in cg.parents {
            let dir = mount + "/" + cg.name
            #expect(mkdir(dir, 0o755) == 0, sourceLocation: sourceLocation)
            cg.made.append(dir)
            for file in ["", "/cgroup.procs", "/cgroup.subtree_control"] { chown(dir + file, testUser.uid, testUser.gid) }
            if controller == "cpuset" {
                for file in ["cpuset.cpus", "cpuset.mems"] { put(dir + "/" + file, readFile(mount + "/" + file) ?? "") }
            }
            if v1.isEmpty { put(mount + "/cgroup.subtree_control", v2Controllers) }
        }
        return cg
    }

    func remove() { for dir in made.reversed() { rmdir(dir) } }
}

/// Tests/Helpers/consolesock.c: the receiving end of --console-socket, as conmon is.
enum ConsoleSock {
    static let built = buildStaticHelper("consolesock")

    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build consolesock: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }
}

@Suite("burrow-oci")
struct OCIRuntimeTests {
    @Test("run: the container's command runs in its namespaces and its status is run's")
    func runInTheForeground() async {
        let b = OCIBundle(script: "echo $(hostname) $(id -u) $$ $OCI; grep NoNewPrivs /proc/self/status; exit 7",
                          extraProcess: ", \"noNewPrivileges\": true")
        defer { b.remove() }
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectStatus(r, 7)
        #expect(r.stdout == "oci-test 0 2 yes\nNoNewPrivs:\t1\n")
        // run removes its state when the container ends.
        #expect(!pathExists(b.stateRoot + "/" + b.id))
    }

    @Test("create holds the command; start runs it; state follows; delete removes it")
    func lifecycle() async {
        let b = OCIBundle(script: "echo $$ > /home/ran; while [ ! -e /home/stop ]; do sleep 0.05; done; echo done > /home/done")
        defer { b.remove() }
        let pidFile = b.dir.sub("out/pid")
        let created = await b.oci(["create", "--bundle", b.bundle, "--pid-file", pidFile, b.id])
        expectSuccess(created)
        let state = await b.state()
        #expect(state?.status == "created")
        #expect(state.map { String($0.pid) } == readFile(pidFile))
        #expect(state.map { kill($0.pid, 0) == 0 } == true)
        // The state's pid is the container's init, in every namespace of the container (PID 1
        // in its own), as runc's is the container's process: what conmon and the shim wait for.
        // Its supervisor has left: create's descendants are the container alone.
        let initPid = state?.pid ?? 0
        let nspid = readFile("/proc/\(initPid)/status")?.split(separator: "\n").first { $0.hasPrefix("NSpid:") }
        #expect(nspid?.split(whereSeparator: \.isWhitespace).last == "1", "\(String(describing: nspid))")
        for ns in ["pid", "mnt", "ipc", "uts", "user"] {
            let theirs = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPid)/ns/\(ns)")
            #expect(theirs != nil && theirs != hostNamespace(ns), "\(ns): \(String(describing: theirs))")
        }
        let parent = readFile("/proc/\(initPid)/stat").flatMap { $0.split(separator: ")").last?.split(separator: " ").dropFirst().first }
        #expect(parent.flatMap { hostCmdline(Int32($0) ?? 0) }?.contains(b.id) != true, "the init's parent: \(String(describing: parent))")
        // Held: the command has not run.
        try? await Task.sleep(nanoseconds: 300_000_000)
        #expect(b.output("ran") == nil)
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        #expect(b.output("ran") == "2\n")
        #expect(await b.state()?.status == "running")
        let again = await b.oci(["start", b.id])
        expectStatus(again, 1)
        expectStderr(again, contains: "the container is running, not created")
        let early = await b.oci(["delete", b.id])
        expectStatus(early, 1)
        expectStderr(early, contains: "the container is running")
        writeFile(b.out + "/stop", "")
        #expect(await eventually(timeout: 5) { b.output("done") != nil })
        #expect(await eventually(timeout: 5) { pathExists("/proc/\(state?.pid ?? 0)") == false || readFile("/proc/\(state?.pid ?? 0)/stat")?.contains(") Z") == true })
        let stopped = await b.state()
        #expect(stopped?.status == "stopped")
        #expect(stopped?.pid == 0)
        expectSuccess(await b.oci(["delete", b.id]))
        #expect(!pathExists(b.stateRoot + "/" + b.id))
        let gone = await b.oci(["state", b.id])
        expectStatus(gone, 1)
        expectStderr(gone, contains: "container \(b.id) does not exist")
        await b.expectNothingLeft()
    }

    @Test("kill passes a signal on to the command; list shows the container")
    func killAndList() async {
        let b = OCIBundle(script: "trap 'echo TERM > /home/signal; exit 3' TERM; touch /home/ran; while :; do sleep 0.05; done")
        defer { b.remove() }
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        let list = await b.oci(["list"])
        expectStdout(list, contains: b.id)
        expectStdout(list, contains: "created")
        let quiet = await b.oci(["list", "-q"])
        #expect(quiet.stdout == b.id + "\n")
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        expectSuccess(await b.oci(["kill", b.id, "TERM"]))
        #expect(await eventually(timeout: 5) { b.output("signal") == "TERM\n" })
        #expect(await eventually(timeout: 5) { b.output("signal") != nil && hostProcesses(withArgument: b.id).isEmpty })
        #expect(await b.state()?.status == "stopped")
        let late = await b.oci(["kill", b.id, "KILL"])
        expectStatus(late, 1)
        expectStderr(late, contains: "the container is not running")
        expectSuccess(await b.oci(["delete", b.id]))
        await b.expectNothingLeft()
    }

    @Test("delete --force, kill -9 of the container's pid, kill --all KILL: nothing is left")
    func nothingLeft() async {
        // The command, once it runs, is found on the host by its argument.
        let marker = sleepMarker()
        let b = OCIBundle(script: "touch /home/ran; exec sleep \(marker)")
        defer {
            killProcesses(withArgument: marker)
            b.remove()
        }
        // Created, then forced away.
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        #expect(!hostProcesses(withArgument: b.id).isEmpty)
        expectSuccess(await b.oci(["delete", "--force", b.id]))
        await b.expectNothingLeft()
        #expect(b.output("ran") == nil)
        // Created, its init (the state's pid) killed -9: the held set-up ends too.
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        if let pid = await b.state()?.pid { kill(pid, SIGKILL) }
        await b.expectNothingLeft()
        #expect(await b.state()?.status == "stopped")
        expectSuccess(await b.oci(["delete", b.id]))
        // Running, then kill --all KILL.
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        #expect(await waitForProcess(argument: marker) != nil)
        expectSuccess(await b.oci(["kill", "--all", b.id, "KILL"]))
        await b.expectNothingLeft()
        #expect(await waitUntilGone(argument: marker, timeout: 5).isEmpty)
        expectSuccess(await b.oci(["delete", b.id]))
    }

    @Test("hooks: prestart and createRuntime before the command, poststart after start, poststop after delete, each with the state on stdin; a failing prestart removes the container")
    func hooks() async {
        let b = OCIBundle(script: "echo ran > /home/ran")
        defer { b.remove() }
        let out = b.out
        func hook(_ name: String, exit: Int = 0) -> String {
            // The state, and whether the command had run yet.
            #"{"path": "/bin/sh", "args": ["sh", "-c", "cat > \#(out)/\#(name).json; test -e \#(out)/ran && echo ran >> \#(out)/\#(name).json; exit \#(exit)"]}"#
        }
        b.setHooks(#"{"prestart": [\#(hook("prestart"))], "createRuntime": [\#(hook("createRuntime"))], "#
                   + #""poststart": [\#(hook("poststart", exit: 3))], "poststop": [\#(hook("poststop"))]}"#)
        let path = b.bundle + "/config.json"
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        #expect(b.output("prestart.json")?.contains(#""status":"created""#) == true, "\(String(describing: b.output("prestart.json")))")
        #expect(b.output("createRuntime.json")?.contains(#""id":"\#(b.id)""#) == true)
        #expect(b.output("poststart.json") == nil && b.output("ran") == nil)
        // A change of config.json after create changes nothing (the hooks were kept).
        writeFile(path, "{}", owner: testUser)
        let started = await b.oci(["start", b.id])
        expectSuccess(started)  // a failed poststart is a warning
        expectStderr(started, contains: "hooks.poststart[0] (/bin/sh) failed with status 3")
        #expect(b.output("poststart.json")?.contains(#""status":"running""#) == true)
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = await b.state()?.status == "stopped"
            if !stopped { try? await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(stopped)
        expectSuccess(await b.oci(["delete", b.id]))
        #expect(b.output("poststop.json")?.contains(#""status":"stopped""#) == true)
        #expect(b.output("poststop.json")?.hasSuffix("ran\n") == true)
        await b.expectNothingLeft()

        // A prestart hook that fails: create fails, saying which, and nothing is left.
        let refused = await OCIBundle.expectCreateFails(onHook: "prestart")
        expectStderr(refused, contains: "create \(refused.argv.last ?? ""): hooks.prestart[0] (/bin/false) failed with status 1; the container was removed")
    }

    @Test("hooks in the container's namespaces: createContainer before pivot_root (a host path), startContainer in the new root before the command; a failing one stops the container")
    func containerHooks() async {
        func stopped(_ b: OCIBundle) async -> Bool {
            for _ in 0..<100 {
                if await b.state()?.status == "stopped" { return true }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            return false
        }
        let b = OCIBundle(script: "test -e /home/startContainer.json && echo after > /home/ran")
        defer { b.remove() }
        let out = b.out
        // createContainer: a host program, in the container's PID and mount namespaces, the
        // root not yet entered (it writes to the host's path of the bind).
        let create = #"{"path": "/bin/sh", "args": ["sh", "-c", "cat > \#(out)/createContainer.json; readlink /proc/self/ns/pid /proc/self/ns/mnt > \#(out)/createContainer.ns"]}"#
        // startContainer: the container's own /bin/sh, in its root (where /home is the bind).
        let start = #"{"path": "/bin/sh", "args": ["sh", "-c", "cat > /home/startContainer.json; test -d /home && test ! -e \#(out) && echo in root >> /home/startContainer.json"]}"#
        b.setHooks(#"{"createContainer": [\#(create)], "startContainer": [\#(start)]}"#)
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        // Its state's pid is the container's init as the hook sees it: PID 1.
        #expect(b.output("createContainer.json")?.contains(#""status":"creating","pid":1,"#) == true, "\(String(describing: b.output("createContainer.json")))")
        let ns = (b.output("createContainer.ns") ?? "").split(separator: "\n").map(String.init)
        #expect(ns.count == 2 && ns.first != hostNamespace("pid") && ns.last != hostNamespace("mnt"), "\(ns)")
        #expect(b.output("startContainer.json") == nil)
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") == "after\n" })
        #expect(b.output("startContainer.json")?.contains(#""status":"created","pid":1,"#) == true)
        #expect(b.output("startContainer.json")?.hasSuffix("in root\n") == true, "\(String(describing: b.output("startContainer.json")))")
        #expect(await stopped(b))
        expectSuccess(await b.oci(["delete", b.id]))
        await b.expectNothingLeft()

        // A createContainer hook that fails: create fails, naming it, and nothing is left.
        await OCIBundle.expectCreateFails(onHook: "createContainer")
        // A startContainer hook that fails: the command never runs, the container stops.
        let late = OCIBundle(script: "echo ran > /home/ran")
        defer { late.remove() }
        late.setHooks(#"{"startContainer": [{"path": "/no/such/hook"}]}"#)
        expectSuccess(await late.oci(["create", "--bundle", late.bundle, late.id]))
        expectSuccess(await late.oci(["start", late.id]))
        #expect(await stopped(late))
        #expect(late.output("ran") == nil)
        expectSuccess(await late.oci(["delete", late.id]))
        await late.expectNothingLeft()
    }

    @Test("process.terminal with --console-socket: the command's terminal is one of the container's /dev/pts, sized, its master sent to the socket; without the socket it fails clearly")
    func terminal() async throws {
        let consolesock = try #require(ConsoleSock.path())
        let b = OCIBundle(script: "tty; stty size; test -t 0 && test -t 1 && echo std-tty; echo READY; read x; echo got $x; exit 4",
                          extraProcess: #", "terminal": true, "consoleSize": {"height": 30, "width": 100}"#)
        defer { b.remove() }
        let socket = b.dir.sub("out/console.sock")
        let p = try spawn(asTestUser([consolesock, socket, "-s", "READY", "typed\n", "--", OCILink.path, "--root", b.stateRoot,
                                      "run", "--console-socket", socket, "--bundle", b.bundle, b.id]))
        let r = await p.wait(timeout: 30)
        expectStatus(r, 4)
        let lines = r.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(4)) == ["size 30 100", "/dev/pts/0", "30 100", "std-tty"], "\(r)")
        expectStdout(r, contains: "got typed")
        await b.expectNothingLeft()
        // exec --tty in a running container: a terminal of its own, from the container's devpts.
        let running = OCIBundle(script: "while [ ! -e /home/stop ]; do sleep 0.05; done")
        defer { running.remove() }
        expectSuccess(await running.oci(["create", "--bundle", running.bundle, running.id]))
        expectSuccess(await running.oci(["start", running.id]))
        let esock = running.dir.sub("out/exec.sock")
        let e = try spawn(asTestUser([consolesock, esock, "--", OCILink.path, "--root", running.stateRoot,
                                      "exec", "--tty", "--console-socket", esock, running.id, "sh", "-c", "tty; test -t 0 && echo in-tty; exit 3"]))
        let er = await e.wait(timeout: 30)
        expectStatus(er, 3)
        #expect(er.stdout.replacingOccurrences(of: "\r", with: "").contains("/dev/pts/0\nin-tty\n"), "\(er)")
        let noTerminal = await running.oci(["exec", "--tty", running.id, "true"])
        expectStatus(noTerminal, 1)
        expectStderr(noTerminal, contains: "exec: process.terminal is true: give --console-socket")
        writeFile(running.out + "/stop", "", owner: testUser)
        let noSocket = await b.oci(["create", "--bundle", b.bundle, b.id])
        expectStatus(noSocket, 1)
        expectStderr(noSocket, contains: "create: process.terminal is true: give --console-socket, where the terminal's master is sent")
        let plain = OCIBundle(script: "true")
        defer { plain.remove() }
        let extra = await plain.oci(["create", "--console-socket", socket, "--bundle", plain.bundle, plain.id])
        expectStatus(extra, 1)
        expectStderr(extra, contains: "create --console-socket: process.terminal is false: there is no terminal to send")
        #expect(await plain.state() == nil)
    }

    @Test("linux.uidMappings and gidMappings that leave the caller's own ids out: the set-up runs as the container's root, the command sees the maps")
    func mappingsWithoutTheCallersIDs() async throws {
        let (u, g) = try #require(subIDRanges, "the test user needs /etc/subuid and /etc/subgid ranges and newuidmap (scripts/test)")
        let count = min(u.count, g.count, 65536)
        let b = OCIBundle(script: "cat /proc/self/uid_map /proc/self/gid_map > /home/maps; id -u >> /home/maps; test -c /dev/null && echo dev >> /home/maps",
                          extraLinux: #", "uidMappings": [{"containerID": 0, "hostID": \#(u.start), "size": \#(count)}]"#
                              + #", "gidMappings": [{"containerID": 0, "hostID": \#(g.start), "size": \#(count)}]"#)
        defer { b.remove() }
        chmod(b.out, 0o777)  // the container's root is host uid \(u.start), not the test user
        expectSuccess(await b.oci(["run", "--bundle", b.bundle, b.id]))
        let seen = (b.output("maps") ?? "").split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(seen == ["0 \(u.start) \(count)", "0 \(g.start) \(count)", "0", "dev"], "\(seen)")
        await b.expectNothingLeft()
    }

    @Test("process.capabilities, process.rlimits and linux.seccomp reach the command")
    func processSettings() async {
        let caps = "[\"CAP_KILL\", \"CAP_CHOWN\", \"CAP_NET_BIND_SERVICE\"]"
        let b = OCIBundle(
            script: "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)' /proc/self/status; ulimit -Sn; ulimit -Hn; mkdir /tmp/x || echo mkdir refused; cat /proc/self/oom_score_adj",
            extraProcess: """
                , "capabilities": {"bounding": \(caps), "permitted": \(caps), "effective": \(caps), "inheritable": \(caps), "ambient": ["CAP_KILL"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}], "oomScoreAdj": 700
                """,
            extraLinux: """
                , "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
                """)
        defer { b.remove() }
        let config = readFile(b.bundle + "/config.json") ?? ""
        // /tmp must be writable for mkdir to reach the filter: a tmpfs there.
        writeFile(b.bundle + "/config.json", config.replacingOccurrences(
            of: "\"mounts\": [", with: "\"mounts\": [{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"), owner: testUser)
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectSuccess(r)
        // CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10.
        let set = "0000000000000421"
        // No noNewPrivileges in the config: false, so the filter went in before the ids changed.
        expectLines(r, ["CapInh:\t\(set)", "CapPrm:\t\(set)", "CapEff:\t\(set)", "CapBnd:\t\(set)", "CapAmb:\t0000000000000020",
                        "NoNewPrivs:\t0", "100", "200", "mkdir refused", "700"])
        expectStderr(r, contains: "Operation not permitted")
    }

    @Test("linux.maskedPaths and linux.readonlyPaths: hidden, read-only, a missing path skipped")
    func restrictedPaths() async {
        let b = OCIBundle(
            script: """
                echo passwd:$(wc -c < /etc/passwd) var:$(ls -A /var | wc -l)
                touch /home/x 2>/dev/null && echo home writable
                touch /var/x 2>/dev/null || echo var read-only
                """,
            extraLinux: """
                , "maskedPaths": ["/etc/passwd", "/var", "/no/such/path"], "readonlyPaths": ["/home", "/nowhere"]
                """)
        defer { b.remove() }
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectSuccess(r)
        expectLines(r, ["passwd:0 var:0", "var read-only"])
        #expect(!pathExists(b.out + "/x"))
    }

    @Test("Mount propagation: shared, slave, unbindable inside; no peer group reaches the host")
    func propagation() async {
        let b = OCIBundle(
            script: "cat /proc/self/mountinfo",
            extraLinux: ", \"rootfsPropagation\": \"shared\"")
        defer { b.remove() }
        let config = readFile(b.bundle + "/config.json") ?? ""
        writeFile(b.bundle + "/config.json", config.replacingOccurrences(of: "\"mounts\": [", with: """
            "mounts": [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["rshared", "mode=755"]},
                       {"destination": "/tmp/e", "type": "bind", "source": "/etc", "options": ["rbind", "rslave", "mode=755"]},
                       {"destination": "/tmp/u", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]},
            """), owner: testUser)
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectSuccess(r)
        // The optional fields of the mount at `path` (between its options and "-"): shared:N,
        // master:N, unbindable, which the harness's MountEntry does not keep.
        func tags(_ path: String) -> [String] {
            for line in r.stdout.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count > 6, fields[4] == path, let dash = fields.firstIndex(of: "-") else { continue }
                return Array(fields[6..<dash])
            }
            Issue.record("no mount at \(path) in the container's mountinfo:\n\(r)")
            return []
        }
        let root = tags("/"), tmp = tags("/tmp"), etc = tags("/tmp/e"), unbindable = tags("/tmp/u")
        #expect(root.contains { $0.hasPrefix("shared:") }, "\(r)")
        #expect(tmp.contains { $0.hasPrefix("shared:") }, "\(r)")
        #expect(!etc.contains { $0.hasPrefix("shared:") }, "\(r)")
        #expect(unbindable == ["unbindable"], "\(r)")
        // The container's peer groups are its own: none of the host's mounts is in one.
        let inside = Set((root + tmp).filter { $0.hasPrefix("shared:") })
        let host = Set(((readFile("/proc/self/mountinfo") ?? "") + (readFile("/proc/1/mountinfo") ?? ""))
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { $0.hasPrefix("shared:") })
        #expect(inside.isDisjoint(with: host), "the container's peer groups \(inside) are the host's too")
        await b.expectNothingLeft()
    }

    @Test("process.capabilities naming CAP_SYS_ADMIN: the container mounts, in its own mount namespace; linux.rootfsPropagation holds as the validation suite checks it")
    func capSysAdminAndRootPropagation() async {
        // As runtime-tools' runtimetest checks it: / bound recursively elsewhere (/run), then
        // a mount on a directory of / (/tmp); a shared root shows it at the copy too.
        let script = """
            grep CapEff /proc/self/status
            mount -o rbind / /run 2>&1 || exit 0
            mount -t tmpfs t /tmp && touch /tmp/seen
            if [ -e /run/tmp/seen ]; then echo exposed; else echo hidden; fi
            """
        let caps = "[\"CAP_SYS_ADMIN\"]"
        for (propagation, expected) in [("shared", "exposed"), ("private", "hidden"), ("slave", "hidden"),
                                        ("unbindable", "mount: mounting / on /run failed: Invalid argument")] {
            let b = OCIBundle(
                script: script,
                extraProcess: ", \"capabilities\": {\"bounding\": \(caps), \"effective\": \(caps), \"permitted\": \(caps), \"inheritable\": \(caps)}",
                extraLinux: ", \"rootfsPropagation\": \"\(propagation)\"")
            defer { b.remove() }
            let r = await b.oci(["run", "--bundle", b.bundle, b.id])
            expectSuccess(r)
            // CAP_SYS_ADMIN alone, within the container's user namespace.
            expectLines(r, ["CapEff:\t0000000000200000", expected])
            await b.expectNothingLeft()
        }
    }

    @Test("Run by root with no user and no mount namespace listed: the container is root's, in the caller's namespaces, its mounts at the rootfs for the host to see, all detached once it ends, after a kill -9 of its init too")
    func rootWithoutNamespaces() async {
        guard Harness.runningAsRoot else {
            withKnownIssue("needs root") { Issue.record("skipped") }
            return
        }
        // "The caller's mount namespace" is a private one of the test's (a sleep's, entered
        // by nsenter for each call): other tests watch the host's for mounts of theirs.
        await withNamespaceHolder(["--mount", "--propagation", "private"]) { caller in await rootWithoutNamespaces(caller: caller) }
    }

    func rootWithoutNamespaces(caller: pid_t) async {
        let through = ["/usr/bin/nsenter", "--mount=/proc/\(caller)/ns/mnt", "--"]
        let callerMounts = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(caller)/ns/mnt")
        // A rootfs of its own: the mounts made at it are seen by every process of that namespace.
        let rootfs = await makePrivateRootfs(owner: nil)
        defer { rootfs.remove() }
        let b = OCIBundle(script: "for n in mnt user pid; do readlink /proc/self/ns/$n; done > /home/ns; touch /home/ran; while [ ! -e /home/stop ]; do sleep 0.05; done")
        defer { b.remove() }
        chmod(b.out, 0o777)
        let config = readFile(b.bundle + "/config.json") ?? ""
        writeFile(b.bundle + "/config.json", config
            .replacingOccurrences(of: "[{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}]", with: "[]")
            .replacingOccurrences(of: "\"hostname\": \"oci-test\",", with: "")
            .replacingOccurrences(of: "\"path\": \"\(Harness.sharedRootfs)\"", with: "\"path\": \"\(rootfs.path)\""), owner: testUser)
        func mountsAtRootfs() -> [String] {
            parseMountinfo(readFile("/proc/\(caller)/mountinfo") ?? "").map(\.mountPoint).filter { $0 == rootfs.path || $0.hasPrefix(rootfs.path + "/") }
        }
        #expect(mountsAtRootfs().isEmpty)
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id], asRoot: true, through: through))
        // The root and the container's mounts (its /proc, the bind at /home) are the caller's to see.
        let during = mountsAtRootfs()
        #expect(during.contains(rootfs.path) && during.contains(rootfs.path + "/proc") && during.contains(rootfs.path + "/home"), "\(during)")
        expectSuccess(await b.oci(["start", b.id], asRoot: true, through: through))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        // The caller's mount, user and PID namespaces.
        #expect(b.output("ns") == [callerMounts ?? "?", hostNamespace("user"), hostNamespace("pid")].map { $0 + "\n" }.joined(),
                "\(String(describing: b.output("ns")))")
        writeFile(b.out + "/stop", "")
        #expect(await eventually(timeout: 5) { hostProcesses(withArgument: b.id).isEmpty })
        expectSuccess(await b.oci(["delete", b.id], asRoot: true, through: through))
        #expect(await eventually(timeout: 5) { mountsAtRootfs().isEmpty }, "\(mountsAtRootfs())")
        // A kill -9 of its init: its set-up dies with it, and the cleaner detaches everything.
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id], asRoot: true, through: through))
        #expect(!mountsAtRootfs().isEmpty)
        let state = await b.oci(["state", b.id], asRoot: true, through: through)
        let pid = (try? JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any])?["pid"] as? Int
        #expect(pid != nil, "\(state)")
        if let pid { kill(pid_t(pid), SIGKILL) }
        #expect(await eventually(timeout: 5) { mountsAtRootfs().isEmpty }, "\(mountsAtRootfs())")
        expectSuccess(await b.oci(["delete", b.id], asRoot: true, through: through))
        await b.expectNothingLeft()
    }

    @Test("linux.resources.devices run by root: a cgroup v1 device cgroup, the rules in order and Burrow's /dev after them; the container opens only what they allow")
    func deviceCgroup() async {
        let controller = hostMountinfo().first { $0.fsType == "cgroup" && $0.superOptions.contains("devices") }
        guard Harness.runningAsRoot, let mount = controller?.mountPoint else {
            withKnownIssue("needs root and cgroup v1's devices controller") { Issue.record("skipped") }
            return
        }
        // Two nodes made by mknod (run by root), open to all by their mode: the rules allow
        // one; the other is refused by the device cgroup alone.
        let name = "burrow-oci-test-" + sleepMarker()
        let b = OCIBundle(
            script: """
                exec > /home/seen 2>&1
                for d in fuse loop0; do (: < /dev/$d) 2>/dev/null && echo "$d opened" || echo "$d: $( (: < /dev/$d) 2>&1 | sed 's/.*: //')"; done
                echo x > /dev/null && echo null written
                """,
            extraLinux: """
                , "cgroupsPath": "/\(name)",
                "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438},
                            {"path": "/dev/loop0", "type": "b", "major": 7, "minor": 0, "fileMode": 438}],
                "resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]}
                """)
        defer { b.remove() }
        chmod(b.out, 0o777)  // the container's root is host uid 0, with no rights over the test user's files
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id], asRoot: true))
        let list = readFile(mount + "/" + name + "/devices.list") ?? ""
        #expect(list.split(separator: "\n").map(String.init) == ["c 10:229 rw", "c *:* m", "b *:* m"]
            + ["1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "5:1", "5:2", "136:*"].map { "c \($0) rwm" })
        expectSuccess(await b.oci(["start", b.id], asRoot: true))
        #expect(await eventually(timeout: 5) { b.output("seen")?.hasSuffix("null written\n") == true })
        #expect(b.output("seen") == "fuse opened\nloop0: Operation not permitted\nnull written\n")
        #expect(await eventually(timeout: 5) { hostProcesses(withArgument: b.id).isEmpty })
        expectSuccess(await b.oci(["delete", b.id], asRoot: true))
        #expect(!pathExists(mount + "/" + name))
        await b.expectNothingLeft()
    }

    @Test("linux.resources.devices allowing a device the container's /dev lacks, rootless: refused by name, nothing left")
    func deviceRulesRefusedRootless() async {
        let b = OCIBundle(script: "true", extraLinux: """
            , "resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}
            """)
        defer { b.remove() }
        let r = await b.oci(["create", "--bundle", b.bundle, b.id])
        expectStatus(r, 1)
        expectStderr(r, contains: "config.json: linux.resources.devices[1]: allowing c 10:200 rwm needs a device cgroup, ")
        #expect(!pathExists(b.stateRoot + "/" + b.id))
        for m in hostMountinfo() where m.fsType.hasPrefix("cgroup") { #expect(!pathExists(m.mountPoint + "/" + b.id)) }
        await b.expectNothingLeft()
    }

    @Test("linux.devices without privilege: the host's node bound by its numbers, a FIFO made; none found, refused")
    func devices() async {
        let b = OCIBundle(
            script: "ls -ln /dev/mynull /dev/sub/fifo | cut -c1-10; echo hi > /dev/mynull && echo written",
            extraLinux: """
                , "devices": [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438},
                              {"path": "/dev/sub/fifo", "type": "p", "fileMode": 416, "uid": 0, "gid": 0}]
                """)
        defer { b.remove() }
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectSuccess(r)
        // The host's /dev/null (c 1:3) under another name; the FIFO 0640 as asked.
        expectLines(r, ["crw-rw-rw-", "prw-r-----", "written"])

        let missing = OCIBundle(
            script: "true",
            extraLinux: ", \"devices\": [{\"path\": \"/dev/nothing\", \"type\": \"b\", \"major\": 4095, \"minor\": 4242}]")
        defer { missing.remove() }
        let refused = await missing.oci(["run", "--bundle", missing.bundle, missing.id])
        expectStatus(refused, 1)
        expectStderr(refused, contains: "device /dev/nothing (b 4095:4242): Operation not permitted")
        expectStderr(refused, contains: "host has no b 4095:4242 node in /dev to bind instead")

        let clash = OCIBundle(
            script: "true",
            extraLinux: ", \"devices\": [{\"path\": \"/dev/null\", \"type\": \"c\", \"major\": 1, \"minor\": 5}]")
        defer { clash.remove() }
        let exists = await clash.oci(["run", "--bundle", clash.bundle, clash.id])
        expectStatus(exists, 1)
        expectStderr(exists, contains: "/dev/null is in the new root already and is not that device")
        await clash.expectNothingLeft()
    }

    @Test("What burrow-oci cannot honour fails clearly and leaves no state")
    func refusals() async {
        let b = OCIBundle(script: "true", extraLinux: ", \"intelRdt\": {\"closID\": \"x\"}")
        defer { b.remove() }
        let r = await b.oci(["create", "--bundle", b.bundle, b.id])
        expectStatus(r, 1)
        expectStderr(r, contains: "config.json: linux.intelRdt:")
        #expect(!pathExists(b.stateRoot + "/" + b.id))
        let exec = await b.oci(["exec", b.id, "ls"])
        expectStatus(exec, 1)
        expectStderr(exec, contains: "container \(b.id) does not exist")
        let missing = await b.oci(["create", "--bundle", b.dir.sub("nowhere"), b.id])
        expectStatus(missing, 1)
        expectStderr(missing, contains: "nowhere/config.json: No such file or directory")
    }

    @Test("A container that cannot be set up: create fails, says why, and leaves nothing")
    func failedSetUp() async {
        let b = OCIBundle(script: "true")
        defer { b.remove() }
        // A bind source that does not exist.
        let config = readFile(b.bundle + "/config.json") ?? ""
        writeFile(b.bundle + "/config.json", config.replacingOccurrences(of: b.out, with: b.dir.sub("missing")), owner: testUser)
        let r = await b.oci(["create", "--bundle", b.bundle, b.id])
        expectStatus(r, 1)
        expectStderr(r, contains: "missing")
        #expect(!pathExists(b.stateRoot + "/" + b.id))
        await b.expectNothingLeft()
    }

    @Test("exec: another process in the running container, in its namespaces and root; its status is exec's")
    func exec() async {
        let b = OCIBundle(script: "echo $$ > /home/ran; while [ ! -e /home/stop ]; do sleep 0.05; done; echo done > /home/done")
        defer { b.remove() }
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        let early = await b.oci(["exec", b.id, "true"])
        expectStatus(early, 1)
        expectStderr(early, contains: "exec \(b.id): the container is created, not running: start it first")
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        // The container's hostname, environment, root (the bind at /home) and PID namespace
        // (its command is pid 2 there), and a status of its own. In the PID namespace, the
        // process's pid is the one the container's /proc gives /proc/self (read by the shell
        // itself; outside it, /proc/self is not there). Not "$$ is small": the command's loop
        // forks a sleep up to 20 times a second, so an exec that comes 5 s late (a loaded
        // machine) gets a pid past 100 in the namespace.
        let ownPid = "read own rest < /proc/self/stat; [ \"$own\" = $$ ] && echo own pid"
        let seen = await b.oci(["exec", b.id, "sh", "-c",
                                "echo $(hostname) $OCI $(id -u) $(pwd) $(cat /home/ran) $(head -c 7 /proc/2/cmdline); \(ownPid); exit 6"])
        expectStatus(seen, 6)
        #expect(seen.stdout == "oci-test yes 0 / 2 /bin/sh\nown pid\n", "\(seen)")
        // Still so once the namespace's pids are past 100 (where "$$ < 100" would fail):
        // 150 children of another exec first.
        expectSuccess(await b.oci(["exec", b.id, "sh", "-c", "i=0; while [ $i -lt 150 ]; do true & i=$((i+1)); done; wait"]))
        let crowded = await b.oci(["exec", b.id, "sh", "-c", "[ $$ -gt 150 ] && echo past 150; \(ownPid)"])
        expectSuccess(crowded)
        #expect(crowded.stdout == "past 150\nown pid\n", "\(crowded)")
        // exec's overrides of the container's process.
        let overrides = await b.oci(["exec", "--env", "E=1", "--env", "OCI=no", "--cwd", "/home", b.id, "sh", "-c", "echo $E $OCI $(pwd)"])
        expectSuccess(overrides)
        #expect(overrides.stdout == "1 no /home\n")
        // On a terminal, in its foreground: the process gets the terminal and reads it.
        if let ptyrun = PtyRun.path() {
            let typed = try? await spawn(asTestUser([ptyrun, "-s", "READY", "typed\n", "--", OCILink.path, "--root", b.stateRoot,
                                                     "exec", b.id, "sh", "-c", "echo READY; read x; echo got $x; exit 4"])).wait()
            #expect(typed?.status == 4, "\(String(describing: typed))")
            #expect(typed?.stdout.contains("got typed") == true, "\(String(describing: typed))")
        }
        // A signal's death: 128+N.
        expectStatus(await b.oci(["exec", b.id, "sh", "-c", "kill -9 $$"]), 137)
        let missing = await b.oci(["exec", b.id, "no-such-command"])
        expectStatus(missing, 127)
        expectStderr(missing, contains: "exec no-such-command: No such file or directory")
        // A process.json, as podman's conmon gives it.
        writeFile(b.dir.sub("bundle/process.json"), """
            {"args": ["sh", "-c", "echo $P $(pwd); grep NoNewPrivs /proc/self/status"], "cwd": "/tmp", "env": ["PATH=/bin", "P=file"],
             "user": {"uid": 0, "gid": 0}, "noNewPrivileges": true}
            """, owner: testUser)
        let file = await b.oci(["exec", "--process", b.dir.sub("bundle/process.json"), b.id])
        expectSuccess(file)
        #expect(file.stdout == "file /tmp\nNoNewPrivs:\t1\n")
        // Detached: exec returns once it started; the pid file has its host pid.
        let marker = sleepMarker()
        let pidFile = b.dir.sub("out/exec.pid")
        let detached = await b.oci(["exec", "--detach", "--pid-file", pidFile, b.id, "sh", "-c",
                                    "read own rest < /proc/self/stat; echo $$ $own > /home/detached; exec sleep \(marker)"])
        expectSuccess(detached)
        let pid = readFile(pidFile).flatMap { Int32($0) }
        #expect(pid != nil)
        #expect(await eventually(timeout: 5) { pid.flatMap { hostCmdline($0) } == ["sleep", marker] })
        #expect(await eventually(timeout: 5) { b.output("detached")?.hasSuffix("\n") == true })
        // In the PID namespace: its pid there is the one the container's /proc gives it, not the host's.
        let inside = (b.output("detached") ?? "").split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(inside.count == 2 && inside.first == inside.last && inside.first != pid, "\(inside), host pid \(String(describing: pid))")
        // ps: the container's processes as the host numbers them, the detached one among them.
        let ps = await b.oci(["ps", "--format", "json", b.id])
        expectSuccess(ps)
        let pids = (try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]) ?? []
        #expect(pid.map { pids.contains(Int($0)) } == true, "\(ps)")
        let table = await b.oci(["ps", b.id])
        expectStdout(table, contains: "PID")
        expectStdout(table, contains: "sleep \(marker)")
        #expect(await b.state()?.status == "running")
        // The container's end ends what exec started in it (its PID namespace goes).
        writeFile(b.out + "/stop", "")
        #expect(await eventually(timeout: 5) { b.output("done") != nil })
        #expect(await waitUntilGone(argument: marker, timeout: 5).isEmpty)
        #expect(await eventually(timeout: 5) { hostProcesses(withArgument: b.id).isEmpty })
        let late = await b.oci(["exec", b.id, "true"])
        expectStatus(late, 1)
        expectStderr(late, contains: "exec \(b.id): the container is not running")
        let lateps = await b.oci(["ps", b.id])
        expectStatus(lateps, 1)
        expectSuccess(await b.oci(["delete", b.id]))
        await b.expectNothingLeft()
    }

    @Test("--preserve-fds: the caller's descriptors 3 to 3+N-1 reach exec's process and the container's command at their numbers, no other; Burrow's processes keep none of them")
    func preserveFDs() async {
        let b = OCIBundle(script: "echo hello >&3; exec 3>&-; cat <&4 > /home/got4; echo ran > /home/ran; while [ ! -e /home/stop ]; do sleep 0.05; done")
        defer { b.remove() }
        let three = b.dir.sub("three"), five = b.dir.sub("five")
        writeFile(three, "three\n")
        writeFile(five, "five\n")
        // As conmon passes them: opened by the caller (root here: read only through the
        // descriptor), then burrow-oci run as the test user.
        let oci = asTestUser([OCILink.path, "--root", b.stateRoot])
        // run --detach with fd 3 the write end of a pipe the caller reads to its end, fd 4 a
        // file: the pipe ends once the command closes it, while the container runs on (the
        // init, the supervisor and burrow-oci hold none of it).
        let fromThree = b.dir.sub("from3")
        let run = try? await spawn(["/bin/sh", "-c", "exec 4<\"$1\"; out=$2; shift 2; { \"$@\" 3>&1 >/dev/null; } | cat > \"$out\"", "sh",
                                    three, fromThree] + oci + ["run", "--detach", "--bundle", b.bundle, "--preserve-fds", "2", b.id]).wait()
        #expect(run?.status == 0, "\(String(describing: run))")
        #expect(readFile(fromThree) == "hello\n")
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        #expect(b.output("got4") == "three\n")
        #expect(await b.state()?.status == "running")
        // exec: fd 3 a file, fd 4 a pipe, fd 5 open in the caller but not passed on.
        let seen = try? await spawn(["/bin/sh", "-c", "exec 3<\"$1\" 5<\"$2\"; shift 2; echo four | \"$@\" 4<&0 </dev/null", "sh", three, five]
                                    + oci + ["exec", "--preserve-fds", "2", b.id, "sh", "-c", "cat <&3; cat <&4; (cat <&5) 2>/dev/null || echo no 5"]).wait()
        #expect(seen?.status == 0, "\(String(describing: seen))")
        #expect(seen?.stdout == "three\nfour\nno 5\n", "\(String(describing: seen))")
        // A descriptor the caller does not have is an error naming it.
        let missing = try? await spawn(["/bin/sh", "-c", "exec 3<\"$1\"; shift; exec \"$@\"", "sh", three]
                                       + oci + ["exec", "--preserve-fds", "2", b.id, "true"]).wait()
        #expect(missing?.status == 1)
        #expect(missing?.stderr.contains("exec --preserve-fds 2: descriptor 4 is not open (2 passes on descriptors 3 to 4)") == true,
                "\(String(describing: missing))")
        expectSuccess(await b.oci(["delete", "--force", b.id]))
        await b.expectNothingLeft()
        let refused = try? await spawn(oci + ["create", "--bundle", b.bundle, "--preserve-fds", "1", b.id]).wait()
        #expect(refused?.status == 1)
        #expect(refused?.stderr.contains("create --preserve-fds 1: descriptor 3 is not open (1 passes on descriptors 3 to 3)") == true,
                "\(String(describing: refused))")
        #expect(!pathExists(b.stateRoot + "/" + b.id))
    }

    @Test("linux.namespaces[].path: a second container joins the first's user, network, UTS, IPC and PID namespaces")
    func joinsNamespaces() async {
        let marker = sleepMarker()
        let seen = "for n in user net uts ipc; do readlink /proc/self/ns/$n; done"
        let a = OCIBundle(script: "hostname > /home/hostname; (\(seen)) > /home/ns; exec sleep \(marker)")
        defer { a.remove() }
        // A network namespace of its own too.
        let aConfig = readFile(a.bundle + "/config.json") ?? ""
        writeFile(a.bundle + "/config.json", aConfig.replacingOccurrences(of: "{\"type\": \"pid\"}", with: "{\"type\": \"pid\"}, {\"type\": \"network\"}")
            .replacingOccurrences(of: "\"oci-test\"", with: "\"oci-first\""), owner: testUser)
        expectSuccess(await a.oci(["run", "--detach", "--bundle", a.bundle, a.id]))
        #expect(await eventually(timeout: 5) { a.output("ns")?.split(separator: "\n").count == 4 })
        guard let command = hostProcesses(withArgument: marker).first else {
            Issue.record("the first container's command is not running")
            return
        }
        let ns = "/proc/\(command)/ns"
        func joining(_ entries: String) -> OCIBundle {
            let b = OCIBundle(script: "hostname > /home/hostname; (\(seen)) > /home/ns; echo $$ > /home/pid")
            let config = readFile(b.bundle + "/config.json") ?? ""
            writeFile(b.bundle + "/config.json", config
                .replacingOccurrences(of: "\"hostname\": \"oci-test\",", with: "")
                .replacingOccurrences(of: "[{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}]",
                                      with: "[\(entries)]"), owner: testUser)
            return b
        }
        // The user namespace first: it owns the others (their owner, the test user, has no
        // right to enter them from the host's user namespace, nor from one of Burrow's).
        let b = joining("""
            {"type": "mount"}, {"type": "pid", "path": "\(ns)/pid"}, {"type": "network", "path": "\(ns)/net"}, {"type": "uts", "path": "\(ns)/uts"},
            {"type": "ipc", "path": "\(ns)/ipc"}, {"type": "user", "path": "\(ns)/user"}
            """)
        defer { b.remove() }
        let r = await b.oci(["run", "--bundle", b.bundle, b.id])
        expectSuccess(r)
        #expect(b.output("hostname") == "oci-first\n")
        #expect(b.output("ns") != nil && b.output("ns") == a.output("ns"), "\(String(describing: b.output("ns"))) \(String(describing: a.output("ns")))")
        // In the first one's PID namespace (its command is 2 there), not PID 1 of one of its own.
        #expect(b.output("pid").flatMap { Int($0.dropLast()) }.map { $0 > 2 && $0 < 100 } == true, "\(String(describing: b.output("pid")))")

        // Not its user namespace: entering the others is refused, and said so.
        let c = joining("{\"type\": \"mount\"}, {\"type\": \"network\", \"path\": \"\(ns)/net\"}, {\"type\": \"user\"}")
        defer { c.remove() }
        let refused = await c.oci(["run", "--bundle", c.bundle, c.id])
        expectStatus(refused, 1)
        expectStderr(refused, contains: "setns net namespace \(ns)/net: Operation not permitted")
        expectStderr(refused, contains: "join that user namespace too")
        // A path that is no namespace of that type.
        let d = joining("{\"type\": \"mount\"}, {\"type\": \"uts\", \"path\": \"\(ns)/net\"}, {\"type\": \"user\", \"path\": \"\(ns)/user\"}")
        defer { d.remove() }
        let wrong = await d.oci(["run", "--bundle", d.bundle, d.id])
        expectStatus(wrong, 1)
        expectStderr(wrong, contains: "join uts namespace \(ns)/net: Invalid argument")
        expectStderr(wrong, contains: "it is a net namespace, not a uts namespace")
        // A mount namespace without the user namespace that owns it: nothing could be mounted there.
        let e = joining("{\"type\": \"mount\", \"path\": \"\(ns)/mnt\"}")
        defer { e.remove() }
        let mount = await e.oci(["run", "--bundle", e.bundle, e.id])
        expectStatus(mount, 1)
        expectStderr(mount, contains: #"a "mount" namespace with a path needs a "user" namespace with a path too"#)
        expectSuccess(await a.oci(["delete", "--force", a.id]))
        await a.expectNothingLeft()
        for x in [b, c, d] { #expect(!pathExists(x.stateRoot + "/" + x.id)) }
    }

    @Test("linux.namespaces[].path of a mount namespace, with the user namespace that owns it: the root is built there, as runc builds it; the container's processes are its own, not that namespace's others")
    func joinsMountNamespace() async {
        await withNamespaceHolder(["--user", "--map-root-user", "--mount", "--propagation", "private"], asTestUser: true) { holder in
            await joinMountNamespace(of: holder)
        }
    }

    /// The body of `joinsMountNamespace`: `holderPid` is in the namespaces to join.
    func joinMountNamespace(of holderPid: pid_t) async {
        let ns = "/proc/\(holderPid)/ns"
        let joined = try? FileManager.default.destinationOfSymbolicLink(atPath: ns + "/mnt")
        let b = OCIBundle(script: "touch /home/ran; while [ ! -e /home/stop ]; do sleep 0.05; done")
        defer { b.remove() }
        let config = readFile(b.bundle + "/config.json") ?? ""
        writeFile(b.bundle + "/config.json", config.replacingOccurrences(
            of: "[{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}]",
            with: "[{\"type\": \"pid\"}, {\"type\": \"mount\", \"path\": \"\(ns)/mnt\"}, {\"type\": \"user\", \"path\": \"\(ns)/user\"}]")
            .replacingOccurrences(of: "\"hostname\": \"oci-test\",", with: ""), owner: testUser)
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        // The container's init is in that very mount namespace.
        let initPid = await b.state()?.pid ?? 0
        #expect(joined != nil && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPid)/ns/mnt")) == joined)
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("ran") != nil })
        // kill --all and delete end the container's processes, not the sleep that shares the namespace.
        let ps = await b.oci(["ps", "--format", "json", b.id])
        #expect(!ps.stdout.contains(String(holderPid)), "\(ps)")
        expectSuccess(await b.oci(["kill", "--all", b.id, "KILL"]))
        expectSuccess(await b.oci(["delete", "--force", b.id]))
        await b.expectNothingLeft()
        #expect(hostCmdline(holderPid)?.first == "/bin/sleep", "the holder of the joined namespace was ended with the container")
    }

    @Test("pause and resume: the cgroup v2 freezer, where the container has a cgroup of its own; refused otherwise")
    func pauseAndResume() async throws {
        let b = OCIBundle(script: "i=0; while :; do i=$((i+1)); echo $i > /home/count; sleep 0.05; done")
        defer { b.remove() }
        // In the cgroup the tests run in, with other processes: refused, the state unchanged.
        expectSuccess(await b.oci(["run", "--detach", "--bundle", b.bundle, b.id]))
        #expect(await eventually(timeout: 5) { b.output("count") != nil })
        let refused = await b.oci(["pause", b.id])
        expectStatus(refused, 1)
        expectStderr(refused, contains: "burrow-oci freezes a cgroup v2 that holds the container alone")
        #expect(await b.state()?.status == "running")
        let notPaused = await b.oci(["resume", b.id])
        expectStatus(notPaused, 1)
        expectStderr(notPaused, contains: "the container is running, not paused")
        expectSuccess(await b.oci(["delete", "--force", b.id]))
        await b.expectNothingLeft()

        // A cgroup of its own, delegated to the test user (as systemd's Delegate=yes does).
        let mountinfo = hostMountinfo()
        guard Harness.runningAsRoot, let v2 = mountinfo.first(where: { $0.fsType == "cgroup2" })?.mountPoint,
              pathExists(v2 + "/cgroup.subtree_control") else {
            withKnownIssue("needs root and a cgroup v2 hierarchy to delegate a cgroup to the test user") { Issue.record("skipped") }
            return
        }
        let cgroup = v2 + "/burrow-oci-test-" + sleepMarker()
        #expect(mkdir(cgroup, 0o755) == 0)
        defer { rmdir(cgroup) }
        for file in ["", "/cgroup.procs", "/cgroup.freeze"] { chown(cgroup + file, testUser.uid, testUser.gid) }
        expectSuccess(await b.oci(["run", "--detach", "--bundle", b.bundle, b.id], cgroup: cgroup))
        #expect(await eventually(timeout: 5) { b.output("count") != nil })
        expectSuccess(await b.oci(["pause", b.id]))
        #expect(await b.state()?.status == "paused")
        let frozen = b.output("count")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(b.output("count") == frozen)
        let exec = await b.oci(["exec", b.id, "true"])
        expectStatus(exec, 1)
        expectStderr(exec, contains: "the container is paused: resume it first")
        let list = await b.oci(["list"])
        expectStdout(list, contains: "paused")
        expectSuccess(await b.oci(["resume", b.id]))
        #expect(await b.state()?.status == "running")
        #expect(await eventually(timeout: 5) { b.output("count") != frozen })
        // Paused again, then removed by force: nothing stays frozen or left.
        expectSuccess(await b.oci(["pause", b.id]))
        expectSuccess(await b.oci(["delete", "--force", b.id]))
        await b.expectNothingLeft()
        #expect(await eventually(timeout: 5) { (readFile(cgroup + "/cgroup.procs") ?? "x").isEmpty })
    }

    /// As root on a cgroup v1 or hybrid host (this one: the unified hierarchy holds the
    /// container among the test's processes), a container with linux.cgroupsPath gets a v1
    /// freezer cgroup of its own, which pause freezes, as runc's fs driver does.
    @Test("pause and resume as root on cgroup v1: the container's own freezer cgroup (freezer.state)")
    func pauseWithTheV1Freezer() async throws {
        let freezer = hostMountinfo().first { $0.fsType == "cgroup" && $0.superOptions.contains("freezer") }?.mountPoint
        guard Harness.runningAsRoot, let freezer else {
            withKnownIssue("needs root and a cgroup v1 freezer hierarchy") { Issue.record("skipped") }
            return
        }
        let name = "burrow-oci-test-" + sleepMarker()
        let b = OCIBundle(script: "i=0; while :; do i=$((i+1)); echo $i > /home/count; sleep 0.05; done",
                          extraLinux: ", \"cgroupsPath\": \"/\(name)\"")
        defer { b.remove() }
        chmod(b.out, 0o777)  // the container's root is host uid 0, with no rights over the test user's files
        expectSuccess(await b.oci(["run", "--detach", "--bundle", b.bundle, b.id], asRoot: true))
        #expect(await eventually(timeout: 5) { b.output("count") != nil })
        let stateFile = freezer + "/" + name + "/freezer.state"
        #expect(readFile(stateFile) == "THAWED\n")
        expectSuccess(await b.oci(["pause", b.id], asRoot: true))
        #expect(readFile(stateFile) == "FROZEN\n")
        let state = await b.oci(["state", b.id], asRoot: true)
        expectStdout(state, contains: "\"status\": \"paused\"")
        let frozen = b.output("count")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(b.output("count") == frozen)
        let exec = await b.oci(["exec", b.id, "true"], asRoot: true)
        expectStatus(exec, 1)
        expectStderr(exec, contains: "the container is paused: resume it first")
        expectSuccess(await b.oci(["resume", b.id], asRoot: true))
        #expect(readFile(stateFile) == "THAWED\n")
        #expect(await eventually(timeout: 5) { b.output("count") != frozen })
        // Paused again, then removed by force: thawed, nothing left, the cgroup gone.
        expectSuccess(await b.oci(["pause", b.id], asRoot: true))
        expectSuccess(await b.oci(["delete", "--force", b.id], asRoot: true))
        await b.expectNothingLeft()
        #expect(await eventually(timeout: 5) { !pathExists(freezer + "/" + name) })
    }

    @Test("linux.resources without a delegated cgroup: an error naming the limits, nothing left")
    func cgroupLimitsRefusedWithoutDelegation() async {
        let name = "burrow-oci-test-" + sleepMarker()
        let b = OCIBundle(script: "true", extraLinux: ", \"cgroupsPath\": \"/\(name)\", \"resources\": {\"pids\": {\"limit\": 50}, \"memory\": {\"limit\": 67108864}}")
        defer { b.remove() }
        let r = await b.oci(["create", "--bundle", b.bundle, b.id])
        expectStatus(r, 1)
        expectStderr(r, contains: "Permission denied")
        expectStderr(r, contains: "the cgroup is not delegated to you, so linux.resources pids.limit, memory.limit cannot be applied")
        #expect(!pathExists(b.stateRoot + "/" + b.id))
        for m in hostMountinfo() where m.fsType.hasPrefix("cgroup") { #expect(!pathExists(m.mountPoint + "/" + name)) }
        await b.expectNothingLeft()
    }

    @Test("linux.resources in a cgroup delegated to the user: limits written, every process in it from create, delete removes it (after kill -9 too)")
    func cgroupLimits() async throws {
        // A parent cgroup of the test user's in each hierarchy burrow-oci uses (DelegatedCgroup).
        guard let cg = DelegatedCgroup.make(v2Controllers: "+pids +memory +cpu") else { return }
        defer { cg.remove() }
        let (name, v1, v2, parents) = (cg.name, cg.v1, cg.v2, cg.parents)
        let limits = "\"resources\": {\"pids\": {\"limit\": 50}, \"memory\": {\"limit\": 67108864}, \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000}}"
        let b = OCIBundle(script: "cat /proc/self/cgroup > /home/cgroup", extraLinux: ", \"cgroupsPath\": \"/\(name)/c\", \(limits)")
        defer { b.remove() }
        expectSuccess(await b.oci(["create", "--bundle", b.bundle, b.id]))
        let pid = await b.state()?.pid ?? 0
        func file(_ controller: String, _ f: String) -> String? {
            let mount = v1.first { $0.0 == controller }?.1 ?? v2 ?? ""
            return readFile(mount + "/" + name + "/c/" + f)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The limits are there from create, and the container's pid is in the cgroup.
        if v1.isEmpty {
            #expect(file("pids", "pids.max") == "50")
            #expect(file("memory", "memory.max") == "67108864")
            #expect(file("cpu", "cpu.max") == "50000 100000")
            #expect(file("cpu", "cpu.weight") == "20")
        } else {
            #expect(file("pids", "pids.max") == "50")
            #expect(file("memory", "memory.limit_in_bytes") == "67108864")
            #expect(file("cpu", "cpu.shares") == "512")
            #expect(file("cpu", "cpu.cfs_quota_us") == "50000")
        }
        #expect(file("pids", "cgroup.procs")?.split(separator: "\n").contains(Substring(String(pid))) == true)
        expectSuccess(await b.oci(["start", b.id]))
        #expect(await eventually(timeout: 5) { b.output("cgroup") != nil })
        // The command saw itself there.
        #expect(b.output("cgroup")?.contains((v1.isEmpty ? "0::/" : "pids:/") + name + "/c\n") == true)
        for _ in 0..<50 where await b.state()?.status != "stopped" { try await Task.sleep(nanoseconds: 100_000_000) }
        expectSuccess(await b.oci(["delete", b.id]))
        for (_, mount) in parents {
            #expect(!pathExists(mount + "/" + name + "/c"))
            #expect(pathExists(mount + "/" + name))  // the delegated parent was not burrow-oci's
        }

        // kill -9 of the container's pid: its cgroup stays, empty, until delete removes it.
        let k = OCIBundle(script: "sleep 30", extraLinux: ", \"cgroupsPath\": \"/\(name)/k\", \(limits)")
        defer { k.remove() }
        expectSuccess(await k.oci(["create", "--bundle", k.bundle, k.id]))
        expectSuccess(await k.oci(["start", k.id]))
        // What exec starts is in the container's cgroup too.
        let exec = await k.oci(["exec", k.id, "cat", "/proc/self/cgroup"])
        expectSuccess(exec)
        expectStdout(exec, contains: (v1.isEmpty ? "0::/" : "pids:/") + name + "/k\n")
        let holder = await k.state()?.pid ?? 0
        #expect(holder > 0 && kill(holder, SIGKILL) == 0)
        #expect(await eventually(timeout: 5) { (readFile(parents[0].1 + "/" + name + "/k/cgroup.procs") ?? "x").isEmpty })
        #expect(await k.state()?.status == "stopped")
        #expect(pathExists(parents[0].1 + "/" + name + "/k"))
        expectSuccess(await k.oci(["delete", k.id]))
        for (_, mount) in parents { #expect(!pathExists(mount + "/" + name + "/k")) }
        await k.expectNothingLeft()

        // Without a PID namespace, what exec started outlives a command that ended on its
        // own: delete finds it in the container's cgroup and ends it, then removes the cgroup.
        let e = OCIBundle(script: "while [ ! -e /home/stop ]; do sleep 0.05; done", extraLinux: ", \"cgroupsPath\": \"/\(name)/e\", \(limits)")
        defer { e.remove() }
        let config = readFile(e.bundle + "/config.json") ?? ""
        writeFile(e.bundle + "/config.json", config.replacingOccurrences(of: "{\"type\": \"pid\"}, ", with: ""), owner: testUser)
        expectSuccess(await e.oci(["run", "--detach", "--bundle", e.bundle, e.id]))
        expectSuccess(await e.oci(["exec", "--detach", e.id, "sh", "-c", "sleep 30; : \(e.id)"]))
        writeFile(e.out + "/stop", "", owner: testUser)
        for _ in 0..<50 where await e.state()?.status != "stopped" { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(await e.state()?.status == "stopped")
        #expect(!(readFile(parents[0].1 + "/" + name + "/e/cgroup.procs") ?? "").isEmpty)
        expectSuccess(await e.oci(["delete", e.id]))
        for (_, mount) in parents { #expect(!pathExists(mount + "/" + name + "/e")) }
        await e.expectNothingLeft()
    }

    @Test("update without a cgroup of the container's own, or of a stopped container: refused, saying why")
    func updateRefused() async throws {
        let b = OCIBundle(script: "while [ ! -e /home/stop ]; do sleep 0.05; done")
        defer { b.remove() }
        expectSuccess(await b.oci(["run", "--detach", "--bundle", b.bundle, b.id]))
        let none = await b.oci(["update", "--pids-limit", "10", b.id])
        expectStatus(none, 1)
        expectStderr(none, contains: "update \(b.id): the container has no cgroup of its own (its config.json has neither linux.cgroupsPath nor limits in linux.resources, so create made none)")
        let blkio = await b.oci(["update", "--blkio-weight", "500", b.id])
        expectStatus(blkio, 1)
        expectStderr(blkio, contains: "update --blkio-weight: block IO limits are not supported yet")
        writeFile(b.out + "/stop", "")
        for _ in 0..<50 where await b.state()?.status != "stopped" { try await Task.sleep(nanoseconds: 100_000_000) }
        let stopped = await b.oci(["update", "--pids-limit", "10", b.id])
        expectStatus(stopped, 1)
        expectStderr(stopped, contains: "update \(b.id): the container is not running")
        expectSuccess(await b.oci(["delete", b.id]))
        await b.expectNothingLeft()
    }

    @Test("update in a cgroup delegated to the user: the limits changed in the container's cgroup, the others kept; the container sees them; what cannot be written is refused by name")
    func update() async throws {
        // A parent of the test user's in each hierarchy (DelegatedCgroup). Under v2 only pids
        // and cpu are asked at create: update --memory has the parent enable memory.
        guard let cg = DelegatedCgroup.make(v2Controllers: "+pids +memory +cpu +cpuset") else { return }
        defer { cg.remove() }
        let (name, v1, v2, parents) = (cg.name, cg.v1, cg.v2, cg.parents)
        func file(_ controller: String, _ f: String) -> String? {
            let mount = v1.first { $0.0 == controller }?.1 ?? v2 ?? ""
            return readFile(mount + "/" + name + "/u/" + f)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The host's hierarchies bound at /run (no cgroup namespace), read-only: the container
        // reads its own limits there.
        let b = OCIBundle(script: "while [ ! -e /home/stop ]; do sleep 0.05; done", extraLinux: """
            , "cgroupsPath": "/\(name)/u", "resources": {"pids": {"limit": 50}, "cpu": {"quota": 50000, "period": 100000}}
            """)
        defer { b.remove() }
        let config = readFile(b.bundle + "/config.json") ?? ""
        writeFile(b.bundle + "/config.json", config.replacingOccurrences(
            of: "\"mounts\": [", with: "\"mounts\": [{\"destination\": \"/run\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"ro\"]}, "),
                  owner: testUser)
        expectSuccess(await b.oci(["run", "--detach", "--bundle", b.bundle, b.id]))
        let pidsInside = "/run/" + (v1.isEmpty ? "" : "pids/") + name + "/u/pids.max"
        #expect(file("pids", "pids.max") == "50")

        // Options: pids and the CFS quota change, the period stays.
        expectSuccess(await b.oci(["update", "--pids-limit", "8", "--cpu-quota", "20000", b.id]))
        #expect(file("pids", "pids.max") == "8")
        if v1.isEmpty {
            #expect(file("cpu", "cpu.max") == "20000 100000")
        } else {
            #expect(file("cpu", "cpu.cfs_quota_us") == "20000")
            #expect(file("cpu", "cpu.cfs_period_us") == "100000")
        }
        let seen = await b.oci(["exec", b.id, "cat", pidsInside])
        expectSuccess(seen)
        #expect(seen.stdout == "8\n", "\(seen)")
        // The limit holds inside: a tenth task cannot be forked.
        let crowd = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait"
        let forked = await b.oci(["exec", b.id, "sh", "-c", crowd])
        #expect(forked.status != 0, "\(forked)")
        expectStderr(forked, contains: "can't fork")

        // --resources on standard input, as containerd sends it: the whole linux.resources
        // object, whose device rules are left as they are.
        let resources = """
            {"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": -1}, "memory": {"limit": 134217728}, "cpu": {"period": 200000}}
            """
        let p = try spawn(asTestUser([OCILink.path, "--root", b.stateRoot, "update", "--resources", "-", b.id]), stdin: resources)
        expectSuccess(await p.wait())
        #expect(file("pids", "pids.max") == "max")
        if v1.isEmpty {
            #expect(file("memory", "memory.max") == "134217728")
            // The quota in force (from the last update) with the new period.
            #expect(file("cpu", "cpu.max") == "20000 200000")
        } else {
            #expect(file("memory", "memory.limit_in_bytes") == "134217728")
            #expect(file("cpu", "cpu.cfs_period_us") == "200000")
            #expect(file("cpu", "cpu.cfs_quota_us") == "20000")
        }
        expectSuccess(await b.oci(["exec", b.id, "sh", "-c", crowd]))
        #expect(await b.oci(["exec", b.id, "cat", pidsInside]).stdout == "max\n")

        // Refused by name, nothing written.
        let period = await b.oci(["update", "--cpu-period", "999", b.id])
        expectStatus(period, 1)
        expectStderr(period, contains: "update \(b.id): linux.resources.cpu.period: 999 is not from 1000 to 1000000 microseconds")
        let hugepages = try spawn(asTestUser([OCILink.path, "--root", b.stateRoot, "update", "-r", "-", b.id]),
                                  stdin: "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1048576}]}")
        let refused = await hugepages.wait()
        expectStatus(refused, 1)
        expectStderr(refused, contains: "update --resources -: hugepageLimits: cgroup limits other than pids, memory and cpu are not supported yet")
        if v1.isEmpty {
            let swappiness = try spawn(asTestUser([OCILink.path, "--root", b.stateRoot, "update", "-r", "-", b.id]),
                                       stdin: "{\"memory\": {\"swappiness\": 10}}")
            let v2Refused = await swappiness.wait()
            expectStatus(v2Refused, 1)
            expectStderr(v2Refused, contains: "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness (this host's cgroups are v2)")
        }
        #expect(file("pids", "pids.max") == "max")
        writeFile(b.out + "/stop", "", owner: testUser)
        for _ in 0..<50 where await b.state()?.status != "stopped" { try await Task.sleep(nanoseconds: 100_000_000) }
        expectSuccess(await b.oci(["delete", b.id]))
        for (_, mount) in parents { #expect(!pathExists(mount + "/" + name + "/u")) }
        await b.expectNothingLeft()
    }

    @Test("spec writes a config.json that run takes as it is")
    func specThenRun() async {
        let b = OCIBundle(script: "true")
        defer { b.remove() }
        let fresh = b.dir.sub("fresh")
        mkdir(fresh, 0o755)
        giveToTestUser(fresh)
        symlink(Harness.sharedRootfs, fresh + "/rootfs")
        expectSuccess(await b.oci(["spec", "--rootless", "--bundle", fresh]))
        let again = await b.oci(["spec", "--rootless", "--bundle", fresh])
        expectStatus(again, 1)
        expectStderr(again, contains: "exists already")
        // The default command is sh, which reads an empty stdin and exits.
        let r = await b.oci(["run", "--bundle", fresh, b.id])
        expectSuccess(r)
        let features = await b.oci(["features"]).stdout
        #expect(features.contains("\"ociVersionMax\": \"1.0.2\""))
        // What it runs, said as it is: every hook stage, and seccomp filters.
        let featureObject = try? JSONSerialization.jsonObject(with: Data(features.utf8)) as? [String: Any]
        #expect(featureObject?["hooks"] as? [String] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        #expect(((featureObject?["linux"] as? [String: Any])?["seccomp"] as? [String: Any])?["enabled"] as? Bool == true)
        let v = await b.oci(["--version"])
        expectStdout(v, contains: "spec: 1.0.2")
    }
}

@Suite("burrow-oci's documentation and installation")
struct OCIDocumentationTests {
    @Test("docs/burrow-oci.1 documents every option and command burrow-oci --help lists")
    func manPageMatchesHelp() async {
        let b = OCIBundle(script: "true")
        defer { b.remove() }
        let r = await b.oci(["--help"])
        expectSuccess(r)
        let man = (readFile(Harness.packageRoot + "/docs/burrow-oci.1") ?? "").replacingOccurrences(of: "\\-", with: "-")
        let words = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }.flatMap { row in
            row.dropFirst(2).components(separatedBy: "  ")[0].split(whereSeparator: { $0 == " " || $0 == "," })
                .filter { $0.allSatisfy { $0 == "-" || $0.isLetter } && $0.count > 1 && $0.uppercased() != $0 }
        }.map(String.init)
        #expect(words.count > 15, "\(r.stdout)")
        for word in words { #expect(man.contains(word), "docs/burrow-oci.1 lacks \(word), which burrow-oci --help lists") }
    }

    @Test("scripts/install installs burrow-oci and its page")
    func installed() async {
        let scene = ScriptTests.InstallScene.make()
        defer { scene.base.remove() }
        let bin = scene.prefix + "/bin"
        expectSuccess(await scene.run([], path: "\(bin):/usr/bin:/bin"))
        #expect(pathExists(bin + "/burrow-oci"))
        #expect(pathExists(scene.prefix + "/share/man/man1/burrow-oci.1"))
        let v = await runHostAsync(asTestUser([bin + "/burrow-oci", "--version"]))
        #expect(v.status == 0 && v.stdout.contains("burrow-oci version"), "\(v)")
    }
}

/// Rootless podman (Debian's 4.3) with `--runtime burrow-oci`, as the test user, on an image
/// imported offline from the busybox rootfs. This machine needs `--cgroup-manager cgroupfs`,
/// `--ulimit host` (root lacks CAP_SYS_RESOURCE) and `--network none` (no /dev/net/tun for
/// slirp4netns). Required where the container tests are (BURROW_TEST_CONTAINERS=1).
@Suite("burrow-oci under rootless podman", .enabled(if: Container.required || (Harness.runningAsRoot && Container.podman != nil)),
       .serialized)
struct OCIPodmanTests {
    /// A home and runtime directory of the test user's, with the image imported once.
    struct Scene {
        let dir: TempDir
        var environment: [String: String] {
            ["HOME": dir.sub("home"), "XDG_RUNTIME_DIR": dir.sub("run"), "XDG_CONFIG_HOME": dir.sub("home/.config"),
             "XDG_DATA_HOME": dir.sub("home/.local/share"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        }

        static func make() async -> Scene {
            let dir = makeTempDir(owner: testUser)
            for sub in ["home", "run", "vol"] {
                mkdir(dir.sub(sub), 0o700)
                giveToTestUser(dir.sub(sub))
            }
            let tar = await runHostAsync(["/bin/tar", "-C", Harness.sharedRootfs, "-cf", dir.sub("rootfs.tar"), "."])
            #expect(tar.status == 0, "\(tar.stderr)")
            chmod(dir.sub("rootfs.tar"), 0o644)
            let scene = Scene(dir: dir)
            let imported = await scene.podman(["import", dir.sub("rootfs.tar"), "busybox-oci"], runtime: false)
            expectSuccess(imported)
            return scene
        }

        func podman(_ args: [String], runtime: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
            let global = ["--cgroup-manager", "cgroupfs"] + (runtime ? ["--runtime", OCILink.path] : [])
            do {
                let p = try spawn(asTestUser([Container.podman ?? "/usr/bin/podman"] + global + args), environment: environment)
                return await p.wait(timeout: 90, sourceLocation: sourceLocation)
            } catch {
                Issue.record("cannot start podman: \(error)", sourceLocation: sourceLocation)
                return BurrowResult(argv: args, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
            }
        }

        func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
            await podman(["run", "--rm", "--network", "none", "--ulimit", "host"] + args, sourceLocation: sourceLocation)
        }

        func remove() async {
            _ = await podman(["rm", "-f", "-a"], runtime: false)
            _ = await podman(["system", "reset", "-f"], runtime: false)
            dir.remove()
        }
    }

    @Test("run: status, environment, working directory, hostname, user, volumes, PID namespace; run -d, exec, stop, rm")
    func podmanRuns() async {
        let scene = await Scene.make()
        let vol = scene.dir.sub("vol")
        expectStatus(await scene.run(["busybox-oci", "sh", "-c", "exit 3"]), 3)
        let seen = await scene.run(["-e", "FOO=bar", "-w", "/tmp", "--hostname", "boxy", "--user", "1000:1000", "busybox-oci",
                                    "sh", "-c", "echo $FOO $(pwd) $(hostname) $(id -u):$(id -g) $$"])
        expectSuccess(seen)
        #expect(seen.stdout == "bar /tmp boxy 1000:1000 1\n" || seen.stdout == "bar /tmp boxy 1000:1000 2\n", "\(seen)")
        // -t: conmon takes the terminal's master over the console socket.
        let terminal = await scene.run(["-t", "busybox-oci", "sh", "-c", "tty; test -t 0 && echo tty-in"])
        expectSuccess(terminal)
        #expect(terminal.stdout.replacingOccurrences(of: "\r", with: "") == "/dev/pts/0\ntty-in\n", "\(terminal)")
        expectSuccess(await scene.run(["-v", "\(vol):/data", "busybox-oci", "sh", "-c", "echo written > /data/f"]))
        #expect(readFile(vol + "/f") == "written\n")
        let ro = await scene.run(["-v", "\(vol):/data:ro", "busybox-oci", "sh", "-c", "echo x > /data/g || echo refused"])
        expectStdout(ro, contains: "refused")
        #expect(!pathExists(vol + "/g"))
        expectSuccess(await scene.podman(["run", "-d", "--name", "d1", "--hostname", "boxy", "--network", "none", "--ulimit", "host",
                                          "busybox-oci", "sleep", "1000"]))
        let ps = await scene.podman(["ps", "--format", "{{.Names}}"])
        expectStdout(ps, contains: "d1")
        // podman exec: conmon's `exec --process FILE --detach --pid-file F`, then its wait.
        let exec = await scene.podman(["exec", "-e", "FOO=bar", "-w", "/tmp", "d1", "sh", "-c", "echo $FOO $(pwd) $(hostname) $(id -u)"])
        expectSuccess(exec)
        #expect(exec.stdout == "bar /tmp boxy 0\n", "\(exec)")
        expectStatus(await scene.podman(["exec", "d1", "sh", "-c", "exit 5"]), 5)
        let user = await scene.podman(["exec", "--user", "1000:1000", "d1", "sh", "-c", "echo $(id -u):$(id -g)"])
        expectSuccess(user)
        #expect(user.stdout == "1000:1000\n", "\(user)")
        expectStatus(await scene.podman(["exec", "d1", "no-such-command"]), 127)
        // exec -t: a terminal of its own, from the container's devpts, through conmon.
        let tty = await scene.podman(["exec", "-t", "d1", "sh", "-c", "tty; test -t 1 && echo tty-out"])
        expectSuccess(tty)
        #expect(tty.stdout.replacingOccurrences(of: "\r", with: "").hasSuffix("tty-out\n"), "\(tty)")
        expectStdout(tty, contains: "/dev/pts/")
        expectSuccess(await scene.podman(["stop", "-t", "2", "d1"]))
        expectSuccess(await scene.podman(["rm", "d1"]))
        #expect(await waitUntilGone(argument: "1000", timeout: 5).filter { hostCmdline($0)?.first?.hasSuffix("sleep") == true }.isEmpty)
        await scene.remove()
    }
}


/// containerd (Debian's 1.6) with its runc shim (io.containerd.runc.v2) running burrow-oci in
/// runc's place (`ctr run --runc-binary`, as a config.toml's BinaryName does): a private
/// containerd (its own root, state and socket) started for the test, as root, as a node
/// runs it. Required where the container tests are (BURROW_TEST_CONTAINERS=1).
@Suite("burrow-oci under containerd", .enabled(if: Container.required || (Harness.runningAsRoot && ContainerD.installed)),
       .serialized, .timeLimit(.minutes(2)))
struct OCIContainerdTests {
    @Test("ctr run (foreground and -d), task exec, ps, kill, rm: the shim drives burrow-oci as it drives runc")
    func containerdRuns() async throws {
        try #require(Harness.runningAsRoot, "containerd runs as root here")
        try #require(ContainerD.installed, "containerd is not installed (scripts/deps installs it)")
        let dir = makeTempDir()
        defer { dir.remove() }
        let socket = dir.sub("containerd.sock")
        let daemon = try spawn(["/usr/bin/containerd", "--root", dir.sub("root"), "--state", dir.sub("state"), "--address", socket])
        defer {
            daemon.send(SIGTERM)
            _ = daemon.poll(blocking: true)
        }
        var up = false
        for _ in 0..<200 where !up {
            up = pathExists(socket)
            if !up { try? await Task.sleep(nanoseconds: 50_000_000) }
        }
        try #require(up, "containerd did not start:\n\(daemon.stderrSoFar)")
        func ctr(_ args: [String]) async -> BurrowResult {
            do { return try await spawn(["/usr/bin/ctr", "-a", socket] + args).wait(timeout: 40) } catch {
                Issue.record("cannot start ctr: \(error)")
                return BurrowResult(argv: args, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
            }
        }
        let id = "ctd-\(sleepMarker())"
        let rootfs = Harness.sharedRootfs
        let once = await ctr(["run", "--rm", "--rootfs", "--runc-binary", OCILink.path, rootfs, id, "/bin/sh", "-c",
                              "echo in $(id -u) $$; exit 3"])
        expectStatus(once, 3)
        expectStdout(once, contains: "in 0 2")
        expectSuccess(await ctr(["run", "-d", "--rootfs", "--runc-binary", OCILink.path, rootfs, id, "/bin/sh", "-c",
                                 "while true; do sleep 1; done"]))
        let exec = await ctr(["task", "exec", "--exec-id", "e1", id, "/bin/sh", "-c", "echo exec $$; exit 4"])
        expectStatus(exec, 4)
        expectStdout(exec, contains: "exec ")
        let ps = await ctr(["task", "ps", id])
        expectSuccess(ps)
        #expect(ps.lines.count >= 3, "\(ps)")
        expectSuccess(await ctr(["task", "kill", "-s", "SIGKILL", id]))
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = (await ctr(["task", "ls"])).stdout.contains("STOPPED")
            if !stopped { try? await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(stopped)
        expectSuccess(await ctr(["task", "rm", id]))
        expectSuccess(await ctr(["container", "rm", id]))
        #expect(await waitUntilGone(argument: id, timeout: 5).isEmpty)
    }
}

enum ContainerD {
    static var installed: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd") && FileManager.default.isExecutableFile(atPath: "/usr/bin/ctr")
    }
}
