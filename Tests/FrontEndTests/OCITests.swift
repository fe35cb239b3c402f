import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

/// burrow-oci's JSON reader: strict RFC 8259, with where and what on every error.
struct OCIJSONTests {
    @Test(arguments: [
        ("null", JSON.null), ("true", .bool(true)), (" false ", .bool(false)), ("0", .number("0")), ("-12.5e+3", .number("-12.5e+3")),
        ("\"a\\u00e9\\n\\\"\"", .string("aé\n\"")), ("\"\\ud83d\\ude00\"", .string("😀")), ("[]", .array([])), ("{}", .object([])),
        ("[1, [2], {\"a\": null}]", .array([.number("1"), .array([.number("2")]), .object([("a", .null)])])),
        ("{\"b\": 1, \"a\": 2}", .object([("b", .number("1")), ("a", .number("2"))])),
    ])
    func accepts(_ text: String, _ expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
    }

    @Test(arguments: [
        ("", "line 1, column 1: unexpected end of the text: a value is missing"),
        ("{\"a\": 1,}", "line 1, column 9: expected a member name in double quotes"),
        ("[1,]", "line 1, column 4: unexpected character ']'"),
        ("{\"a\": 1, \"a\": 2}", "line 1, column 10: duplicate member \"a\""),
        ("01", "line 1, column 2: a number may not start with 0"),
        ("1.", "line 1, column 3: expected digits after '.'"),
        ("NaN", "line 1, column 1: unexpected character 'N'"),
        ("\"a\nb\"", "line 1, column 3: a control character in a string (write it as an escape)"),
        ("\"\\ud800\"", "line 1, column 8: a lone high surrogate in \\u escapes"),
        ("\"\\x\"", "line 1, column 2: unknown escape '\\x'"),
        ("{}\n x", "line 2, column 2: unexpected text after the value"),
        ("// c\n{}", "line 1, column 1: unexpected character '/'"),
        // Found by scripts/fuzz: the byte itself went into the message.
        ("[\u{0}]", "line 1, column 2: unexpected character byte 0x00"),
        ("\"\\\u{7}\"", "line 1, column 2: unknown escape: \\ then byte 0x07"),
        ("tru", "line 1, column 4: expected 'true'"),
    ])
    func refuses(_ text: String, _ message: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
        do { _ = try JSON.parse(text) } catch { #expect(error.description == message) }
    }

    @Test func depthIsLimited() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONError.self) { try JSON.parse(deep) }
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSON.parse(fine)) != nil)
    }

    @Test func writesWhatItReads() throws {
        let value = JSON.object([("s", .string("a\"\\\n\u{1}é")), ("n", .int(-3)), ("a", .array([.bool(true), .null])), ("o", .object([]))])
        #expect(value.text == "{\"s\":\"a\\\"\\\\\\n\\u0001é\",\"n\":-3,\"a\":[true,null],\"o\":{}}")
        #expect(try JSON.parse(value.text) == value)
        #expect(try JSON.parse(value.indentedText) == value)
    }

    @Test func integers() {
        #expect(JSON.number("42").integer == 42)
        #expect(JSON.number("4.2").integer == nil)
        #expect(JSON.number("1e3").integer == nil)
        #expect(JSON.string("42").integer == nil)
    }
}

/// runc's command line, as podman and containerd send it.
struct OCICommandLineTests {
    @Test func whatPodmanSends() throws {
        let create = try OCICommandLine.parse(["--root", "/run/x", "--log", "/l", "--log-format=json", "--systemd-cgroup",
                                               "create", "--bundle", "/b", "--pid-file", "/p", "ctr1"])
        #expect(create.global.root == "/run/x")
        #expect(create.global.log == "/l")
        #expect(create.global.logJSON)
        #expect(create.global.systemdCgroup)
        var c = OCICreateOptions(id: "ctr1", bundle: "/b")
        c.pidFile = "/p"
        #expect(create.command == .create(c))
        #expect(try OCICommandLine.parse(["start", "ctr1"]).command == .start(id: "ctr1"))
        #expect(try OCICommandLine.parse(["kill", "ctr1", "15"]).command == .kill(id: "ctr1", signal: 15, all: false))
        #expect(try OCICommandLine.parse(["kill", "--all", "ctr1", "SIGKILL"]).command == .kill(id: "ctr1", signal: 9, all: true))
        #expect(try OCICommandLine.parse(["kill", "ctr1"]).command == .kill(id: "ctr1", signal: 15, all: false))
        #expect(try OCICommandLine.parse(["delete", "--force", "ctr1"]).command == .delete(id: "ctr1", force: true))
        #expect(try OCICommandLine.parse(["-debug", "state", "ctr1"]).global.debug)
        #expect(try OCICommandLine.parse(["list", "-q"]).command == .list(json: false, quiet: true))
        #expect(try OCICommandLine.parse(["list", "--format", "json"]).command == .list(json: true, quiet: false))
        #expect(try OCICommandLine.parse(["spec", "--rootless", "-b", "/b"]).command == .spec(bundle: "/b", rootless: true))
        var r = OCICreateOptions(id: "x", bundle: ".")
        r.detach = true
        #expect(try OCICommandLine.parse(["run", "-d", "x"]).command == .run(r))
        #expect(try OCICommandLine.parse(["--version"]).command == .version)
        #expect(try OCICommandLine.parse(["features"]).command == .features)
    }

    @Test(arguments: [
        (["exec", "c"], "exec: the command is missing (or give --process FILE)"),
        (["exec", "--detach"], "exec: the container ID is missing"),
        (["exec", "--process", "p.json", "c", "ls"], "exec: give either --process FILE or a command, not both"),
        (["exec", "--process", "p.json", "--cwd", "/tmp", "c"], "exec --process: --cwd does not apply (say it in the process file)"),
        (["exec", "--preserve-fds", "x", "c", "sh"], "exec --preserve-fds: 'x' is not a number of descriptors (N passes on 3 to 3+N-1)"),
        (["exec", "--preserve-fds", "-1", "c", "sh"], "exec --preserve-fds: '-1' is not a number of descriptors (N passes on 3 to 3+N-1)"),
        (["exec", "--cap", "CAP_KILL", "c", "sh"], "exec --cap: adding capabilities is not supported yet (give process.capabilities in --process FILE)"),
        (["exec", "--apparmor", "p", "c", "sh"], "exec --apparmor: AppArmor profiles are not supported"),
        (["exec", "--cgroup", "x", "c", "sh"], "exec --cgroup: a sub-cgroup is not supported (exec's process joins the container's cgroup)"),
        (["exec", "--user", "root", "c", "sh"], "exec --user: 'root' is not UID[:GID] (numbers: names are the container's, which burrow-oci does not look up)"),
        (["exec", "--user", "1:x", "c", "sh"], "exec --user: '1:x' is not UID[:GID] (numbers: names are the container's, which burrow-oci does not look up)"),
        (["exec", "--env", "NOEQUALS", "c", "sh"], "exec --env: 'NOEQUALS' is not NAME=VALUE"),
        (["exec", "--cwd", "tmp", "c", "sh"], "exec --cwd: 'tmp' is not an absolute path"),
        (["exec", "--frob", "c", "sh"], "exec: unknown option --frob"),
        (["exec", "../c", "sh"], "invalid container ID '../c': use letters, digits, '_', '+', '-' and '.'"),
        (["ps", "--format", "xml", "c"], "ps --format: 'xml' is not table or json"),
        (["ps", "c", "--", "-ef"], "ps: ps(1) options after the ID are not supported (burrow-oci lists pids)"),
        (["ps"], "ps: the container ID is missing"),
        (["pause"], "pause: the container ID is missing"),
        (["resume", "a", "b"], "resume: expected one container ID, got 2 arguments"),
        (["update"], "update: the container ID is missing"),
        (["update", "--memory", "12x", "c"], "update --memory: '12x' is not a size in bytes (a number, or one with k, m, g, t or p: 512m; -1: no limit)"),
        (["update", "--memory-swap", "1.5g", "c"], "update --memory-swap: '1.5g' is not a size in bytes (a number, or one with k, m, g, t or p: 512m; -1: no limit)"),
        (["update", "--memory", "9000000p", "c"], "update --memory: '9000000p' is too large"),
        (["update", "--pids-limit", "many", "c"], "update --pids-limit: 'many' is not an integer"),
        (["update", "--cpu-period", "-5", "c"], "update --cpu-period: '-5' is not a whole number"),
        (["update", "--cpuset-cpus", "all", "c"], "update --cpuset-cpus: 'all' is not a list of numbers and ranges (0-3,8)"),
        (["update", "--blkio-weight", "500", "c"], "update --blkio-weight: block IO limits are not supported yet"),
        (["update", "--cpu-rt-runtime=950000", "c"], "update --cpu-rt-runtime: real-time CPU limits are not supported yet"),
        (["update", "--l3-cache-schema", "L3:0=ff", "c"], "update --l3-cache-schema: Intel RDT is not supported"),
        (["update", "-r", "res.json", "--memory", "1m", "c"],
         "update: give either --resources FILE or options such as --memory, not both (runc ignores the options then)"),
        (["update", "--swap", "1", "c"], "update: unknown option --swap"),
        (["events", "c"], "events: container events are not supported"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        ([], "a command is missing (create, start, state, kill, delete, run, exec, ps, pause, resume, update, list, features, spec)"),
        (["--root"], "--root needs a value"),
        (["--log-format", "xml", "list"], "--log-format: 'xml' is not text or json"),
        (["start"], "start: the container ID is missing"),
        (["start", "a", "b"], "start: expected one container ID, got 2 arguments"),
        (["state", "../x"], "invalid container ID '../x': use letters, digits, '_', '+', '-' and '.'"),
        (["state", ".."], "invalid container ID '..': use letters, digits, '_', '+', '-' and '.'"),
        (["kill", "c", "FOO"], "kill: unknown signal 'FOO' (a name such as TERM or KILL, or a number)"),
        (["kill", "c", "99"], "kill: signal 99 is out of range (1 to 64)"),
        (["create", "--bundle", "/b", "--no-pivot", "c"], "create --no-pivot: burrow-oci always enters the root with pivot_root"),
        (["create", "--frob", "c"], "create: unknown option --frob"),
        (["create", "--preserve-fds", "two", "c"], "create --preserve-fds: 'two' is not a number of descriptors (N passes on 3 to 3+N-1)"),
    ])
    func refuses(_ args: [String], _ message: String) {
        do {
            _ = try OCICommandLine.parse(args)
            Issue.record("\(args) was accepted")
        } catch {
            #expect(error.message == message)
        }
    }

    /// runc's exec as podman 4.3's conmon sends it, and as a person types it.
    @Test func exec() throws {
        var conmon = OCIExecOptions(id: "ctr1")
        conmon.processFile = "/x/exec.json"
        conmon.pidFile = "/x/pid"
        conmon.detach = true
        #expect(try OCICommandLine.parse(["--root", "/r", "exec", "--pid-file", "/x/pid", "--process", "/x/exec.json", "--detach", "ctr1"]).command
                == .exec(conmon))
        #expect(try OCICommandLine.parse(["exec", "--pid-file=/x/pid", "-p", "/x/exec.json", "-d", "ctr1"]).command == .exec(conmon))
        var typed = OCIExecOptions(id: "c")
        typed.args = ["sh", "-c", "echo $A", "--env", "-e"]
        typed.environment = ["A=1", "B=x=y"]
        typed.cwd = "/tmp"
        typed.uid = 1000
        typed.gid = 100
        typed.additionalGids = [5, 6, 7]
        typed.noNewPrivileges = true
        // Options end at the ID: what follows is the command's, options and all.
        #expect(try OCICommandLine.parse(["exec", "-e", "A=1", "--env=B=x=y", "--cwd", "/tmp", "-u", "1000:100", "-g", "5,6",
                                          "--additional-gids", "7", "--no-new-privs", "--ignore-paused", "--preserve-fds", "0",
                                          "c", "sh", "-c", "echo $A", "--env", "-e"]).command == .exec(typed))
        var uidOnly = OCIExecOptions(id: "c")
        uidOnly.uid = 7
        uidOnly.args = ["id"]
        #expect(try OCICommandLine.parse(["exec", "--user", "7", "--", "c", "id"]).command == .exec(uidOnly))
        #expect(try OCICommandLine.parse(["ps", "c"]).command == .ps(id: "c", json: false))
        #expect(try OCICommandLine.parse(["ps", "--format", "json", "c"]).command == .ps(id: "c", json: true))
        #expect(try OCICommandLine.parse(["pause", "c"]).command == .pause(id: "c"))
        #expect(try OCICommandLine.parse(["resume", "c"]).command == .resume(id: "c"))
    }

    /// --preserve-fds on create, run and exec, as podman's conmon passes it on.
    @Test func preserveFDs() throws {
        var c = OCICreateOptions(id: "c", bundle: "/b")
        c.preservedDescriptors = 2
        #expect(try OCICommandLine.parse(["create", "--bundle", "/b", "--preserve-fds", "2", "c"]).command == .create(c))
        c.detach = true
        #expect(try OCICommandLine.parse(["run", "-d", "-b", "/b", "--preserve-fds=2", "c"]).command == .run(c))
        var e = OCIExecOptions(id: "c")
        e.preservedDescriptors = 3
        e.args = ["cat", "/proc/self/fd/5"]
        #expect(try OCICommandLine.parse(["exec", "--preserve-fds", "3", "c", "cat", "/proc/self/fd/5"]).command == .exec(e))
    }

    /// runc's update, as containerd (--resources -) and podman (--resources FILE) call it, and
    /// as a person types it.
    @Test func update() throws {
        var file = OCIUpdateOptions(id: "c")
        file.resourcesFile = "-"
        #expect(try OCICommandLine.parse(["update", "--resources", "-", "c"]).command == .update(file))
        #expect(try OCICommandLine.parse(["update", "-r=-", "c"]).command == .update(file))
        var typed = OCIUpdateOptions(id: "c")
        typed.limits.memory = 512 << 20
        typed.limits.memoryReservation = 1 << 30
        typed.limits.memorySwap = -1
        typed.limits.pids = 20
        typed.limits.cpuQuota = -1
        typed.limits.cpuPeriod = 100_000
        typed.limits.cpuShares = 512
        typed.limits.cpus = "0-1"
        typed.limits.mems = "0"
        typed.warnings = ["update --kernel-memory: ignored, as runc ignores it: Linux no longer limits kernel memory on its own"]
        #expect(try OCICommandLine.parse(["update", "--memory", "512m", "--memory-reservation=1GiB", "--memory-swap", "-1", "--pids-limit", "20",
                                          "--cpu-quota", "-1", "--cpu-period", "100000", "--cpu-share", "512", "--cpuset-cpus", "0-1",
                                          "--cpuset-mems", "0", "--kernel-memory", "1m", "--blkio-weight", "0", "--cpu-rt-period", "",
                                          "c"]).command == .update(typed))
        var shares = OCIUpdateOptions(id: "c")
        shares.limits.cpuShares = 256
        #expect(try OCICommandLine.parse(["update", "--cpu-shares", "256", "c"]).command == .update(shares))
    }

    @Test(arguments: [("1", 1), ("1k", 1024), ("64kb", 65536), ("512M", 512 << 20), ("2 g", 2 << 30), ("1GiB", 1 << 30), ("3t", 3 << 40),
                      ("1p", 1 << 50), ("100b", 100), ("-1", -1)] as [(String, Int64)])
    func sizes(_ text: String, _ bytes: Int64) throws {
        #expect(try OCICommandLine.size("update --memory", text) == bytes)
    }

    @Test(arguments: [("TERM", 15), ("sigkill", 9), ("SIGUSR1", 10), ("hup", 1), ("34", 34), ("WINCH", 28)])
    func signals(_ text: String, _ number: Int32) throws {
        #expect(try Signal.number(text) == number)
    }

    @Test func theNameIsRegistered() {
        #expect(FrontEnds.named("/usr/local/bin/burrow-oci").name == "burrow-oci")
        #expect(FrontEnds.compatibilityNames.contains("burrow-oci"))
        #expect(FrontEnds.named("burrow-oci").failureStatus == 1)
    }
}

/// config.json as a SandboxSpec: what is honoured, and every known field that is not,
/// refused by its name.
struct OCIConfigTests {
    static let minimal = """
        {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
         "process": {"args": ["sh", "-c", "true"], "cwd": "/", "env": ["PATH=/bin", "A=b=c"], "user": {"uid": 1000, "gid": 100}},
         "linux": {"namespaces": [{"type": "mount"}]}}
        """

    /// The minimal config with `process`, `linux` or top-level members replaced.
    static func config(top: String = "", process: String = "", linux: String = "") -> String {
        """
        {"ociVersion": "1.0.2", "root": {"path": "rootfs"}\(top.isEmpty ? "" : ", " + top),
         "process": {"args": ["sh"], "cwd": "/"\(process.isEmpty ? "" : ", " + process)},
         "linux": {"namespaces": [{"type": "mount"}]\(linux.isEmpty ? "" : ", " + linux)}}
        """
    }

    /// hooks: the six stages, as given; unknown stages ignored; the copy kept in the state
    /// directory reads back the same. The container's set-up gets the last two as
    /// `HeldProgram`s, the state around the pid it puts in.
    @Test func hooks() throws {
        let c = try OCIConfig.parse(Self.config(top: """
            "hooks": {"prestart": [{"path": "/bin/a"}], "createRuntime": [{"path": "/bin/b", "args": ["b", "1"], "env": ["K=v"], "timeout": 3}],
                      "poststart": [], "poststop": [{"path": "/bin/c"}, {"path": "/bin/d"}], "createContainer": [], "somedayStage": [{"path": "x"}]}
            """), bundle: "/b")
        #expect(c.hooks[.prestart] == [OCIHook(path: "/bin/a")])
        #expect(c.hooks[.createRuntime] == [OCIHook(path: "/bin/b", args: ["b", "1"], env: ["K=v"], timeout: 3)])
        #expect(c.hooks[.poststart].isEmpty)
        #expect(c.hooks[.poststop].map(\.path) == ["/bin/c", "/bin/d"])
        #expect(c.hooks[.createContainer].isEmpty)
        #expect(try OCIHooks.parse(c.hooks.json, file: "state.json") == c.hooks)
        let inside = try OCIConfig.parse(Self.config(top: #""hooks": {"startContainer": [{"path": "/usr/bin/hook", "args": ["hook", "x"], "timeout": 5}]}"#),
                                         bundle: "/b").hooks
        let held = inside.held(.startContainer, id: "c1", status: "created", bundle: "/b", annotations: [("k", "v")])
        #expect(held.map(\.name) == ["hooks.startContainer[0] (/usr/bin/hook)"])
        #expect(held.first?.argv == ["hook", "x"] && held.first?.timeout == 5)
        #expect(held.first.map { $0.inputBeforePid + "7" + $0.inputAfterPid }
                == #"{"ociVersion":"1.0.2","id":"c1","status":"created","pid":7,"bundle":"/b","annotations":{"k":"v"}}"#)
        #expect(try OCIConfig.parse(Self.config(), bundle: "/b").hooks.isEmpty)
    }

    /// Read for root on the host (`callerIsHostRoot`), a config that lists no user namespace
    /// gets none, and one that lists no mount namespace either stays in the caller's; a
    /// mount namespace may then be joined without a user namespace's path.
    @Test func rootOnTheHost() throws {
        let bare = #"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}}"#
        let none = try OCIConfig.parse(bare, bundle: "/b", callerIsHostRoot: true).spec.namespaces
        #expect(none.keepsCallerUser && none.keepsCallerMount)
        let mountOnly = try OCIConfig.parse(Self.config(), bundle: "/b", callerIsHostRoot: true).spec.namespaces
        #expect(mountOnly.keepsCallerUser && !mountOnly.keepsCallerMount)
        let withUser = try OCIConfig.parse(#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}, {"type": "user"}]}}"#,
                                           bundle: "/b", callerIsHostRoot: true).spec.namespaces
        #expect(!withUser.keepsCallerUser && !withUser.keepsCallerMount)
        let joined = try OCIConfig.parse(#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount", "path": "/proc/1/ns/mnt"}]}}"#,
                                         bundle: "/b", callerIsHostRoot: true).spec.namespaces
        #expect(joined.keepsCallerUser && joined.joined(.mnt) == HostPath("/proc/1/ns/mnt"))
    }

    /// containerd's default device rules (deny all; mknod of any; Burrow's /dev's devices)
    /// are what a container of Burrow's has: they hold without a device cgroup, and ask for
    /// no cgroup of their own (made only where a device cgroup can be had).
    @Test func containerdsDeviceRules() throws {
        let rules = #"{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "access": "m"}, {"allow": true, "type": "b", "access": "m"},"#
            + #" {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},"#
            + #" {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"}, {"allow": true, "type": "c", "major": 136, "minor": -1, "access": "rwm"},"#
            + #" {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"}"#
        let containerd = try OCIConfig.parse(Self.config(linux: #""resources": {"devices": [\#(rules)]}"#), bundle: "/b")
        #expect(containerd.spec.cgroup?.limits.devices.count == 8)
        #expect(containerd.spec.cgroup?.limits.devices.allSatisfy(\.holdsWithoutCgroup) == true)
        #expect(containerd.spec.cgroup?.onlyForDevices == true)
        #expect(containerd.spec.cgroup?.limits.devices[6] == DeviceCgroupRule(allow: true, kind: .character, major: 136, access: "rwm", holdsWithoutCgroup: true, index: 6))
        // podman's --device /dev/fuse: the node and a rule allowing it.
        let podman = try OCIConfig.parse(Self.config(linux: #""devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}], "#
            + #""resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]}"#), bundle: "/b")
        #expect(podman.spec.cgroup?.limits.devices.allSatisfy(\.holdsWithoutCgroup) == true)
    }

    /// The validation suite's linux_cgroups_devices: devices the container's /dev does not
    /// have, which only a device cgroup can allow (and keep the rest denied); the access
    /// letters as the kernel lists them. Whether one can be had is the runtime's to say.
    @Test func deviceRulesThatNeedACgroup() throws {
        let c = try OCIConfig.parse(Self.config(linux: """
            "resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
                                      {"allow": true, "type": "b", "major": 8, "minor": 20, "access": "wr"},
                                      {"allow": true, "type": "b", "major": 10, "minor": 200, "access": "r"}]}
            """), bundle: "/b")
        #expect(c.spec.cgroup?.path == "")
        #expect(c.spec.cgroup?.onlyForDevices == false)
        #expect(c.spec.cgroup?.limits.devices == [
            DeviceCgroupRule(allow: false, holdsWithoutCgroup: true, index: 0),
            DeviceCgroupRule(allow: true, kind: .character, major: 10, minor: 229, access: "rwm", index: 1),
            DeviceCgroupRule(allow: true, kind: .block, major: 8, minor: 20, access: "rw", index: 2),
            DeviceCgroupRule(allow: true, kind: .block, major: 10, minor: 200, access: "r", index: 3),
        ])
        // A rule for any device of a type, or for a device linux.devices makes under another
        // type, needs one as well.
        let wide = try OCIConfig.parse(Self.config(linux: """
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
            "resources": {"devices": [{"allow": true, "type": "c", "major": 10, "access": "rwm"}, {"allow": true, "type": "b", "major": 10, "minor": 229, "access": "r"}]}
            """), bundle: "/b")
        #expect(wide.spec.cgroup?.limits.devices.map(\.holdsWithoutCgroup) == [false, false])
    }

    /// CAP_SYS_ADMIN is given when the config names it (within the container's user
    /// namespace, as rootless runc gives it); CAP_SYS_PTRACE never (in `refusals`).
    @Test func capSysAdmin() throws {
        let caps = "[\"CAP_SYS_ADMIN\", \"CAP_CHOWN\"]"
        let c = try OCIConfig.parse(Self.config(process: """
            "capabilities": {"bounding": \(caps), "permitted": \(caps), "effective": \(caps), "inheritable": \(caps), "ambient": \(caps)}
            """), bundle: "/b")
        #expect(c.spec.security.capabilities?.bounding == ["CAP_SYS_ADMIN", "CAP_CHOWN"])
        #expect(c.spec.security.capabilities?.ambient == ["CAP_SYS_ADMIN", "CAP_CHOWN"])
    }

    @Test func minimal() throws {
        let c = try OCIConfig.parse(Self.minimal, bundle: "/b")
        #expect(c.spec.root == RootFS(path: HostPath("/b/rootfs")))
        #expect(c.spec.process.argv == ["sh", "-c", "true"])
        #expect(c.spec.process.environment == [.clear, .set("PATH", "/bin"), .set("A", "b=c")])
        #expect(c.spec.process.chdir == g("/"))
        #expect(c.spec.identity.uid == 1000 && c.spec.identity.gid == 100)
        #expect(c.spec.engine == .namespace)
        #expect(c.spec.namespaces == Namespaces())
        #expect(c.spec.process.hold == nil)
        // Absent: false, as the runtime-spec says.
        #expect(!c.spec.security.noNewPrivileges)
    }

    @Test func everythingHonoured() throws {
        let text = """
            {"ociVersion": "1.0.2", "root": {"path": "/abs/root", "readonly": true}, "hostname": "box",
             "annotations": {"org.example": "v"}, "future": {"ignored": true},
             "process": {"terminal": false, "args": ["/bin/true"], "cwd": "/tmp", "noNewPrivileges": true,
                         "user": {"uid": 0, "gid": 0, "additionalGids": []}},
             "mounts": [
               {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
               {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "newinstance", "ptmxmode=0666"]},
               {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"},
               {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nosuid"]},
               {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777"]},
               {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro", "rprivate"]},
               {"destination": "/src", "source": "/home/u/src", "options": ["bind", "noexec", "dev"]},
               {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]}
             ],
             "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                                      {"type": "mount"}, {"type": "user"}, {"type": "cgroup"}],
                       "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                       "gidMappings": [{"containerID": 0, "hostID": 100, "size": 1}],
                       "readonlyPaths": ["/proc/sys"], "rootfsPropagation": "rprivate", "maskedPaths": ["/proc/kcore"]}}
            """
        let c = try OCIConfig.parse(text, bundle: "/b/")
        var root = RootFS(path: HostPath("/abs/root"), readOnly: true)
        root.propagation = MountPropagation(.private, recursive: true)
        #expect(c.spec.root == root)
        #expect(c.spec.security.noNewPrivileges)
        #expect(c.spec.process.hostname == "box")
        #expect(c.spec.namespaces == Namespaces.all)
        #expect(c.spec.identity.uidMap == [IDMap(inside: 0, outside: 1000, count: 1)])
        #expect(c.spec.identity.gidMap == [IDMap(inside: 0, outside: 100, count: 1)])
        #expect(c.annotations.count == 1 && c.annotations[0] == ("org.example", "v"))
        var data = BindMount(source: HostPath("/b/data"), destination: g("/data"), readOnly: true, allowDevices: true)
        data.propagation = [MountPropagation(.private, recursive: true)]
        #expect(c.spec.operations == [
            .filesystem(FilesystemMount(type: "proc", source: "proc", destination: g("/proc"), flags: [.noSuid, .noExec, .noDev])),
            .dev(dest: g("/dev")),
            .filesystem(FilesystemMount(type: "devpts", source: "devpts", destination: g("/dev/pts"), flags: [.noSuid],
                                        data: ["newinstance", "ptmxmode=0666"])),
            .filesystem(FilesystemMount(type: "mqueue", source: "mqueue", destination: g("/dev/mqueue"))),
            .filesystem(FilesystemMount(type: "sysfs", source: "sysfs", destination: g("/sys"), flags: [.readOnly, .noSuid])),
            .filesystem(FilesystemMount(type: "tmpfs", source: "tmpfs", destination: g("/tmp"), data: ["size=1m", "mode=1777"])),
            .bind(data),
            .bind(BindMount(source: HostPath("/home/u/src"), destination: g("/src"), allowDevices: true, flags: [.noExec])),
            // A cgroup namespace of its own: a cgroup2 filesystem (else the host's hierarchy bound).
            .filesystem(FilesystemMount(type: "cgroup2", source: "cgroup", destination: g("/sys/fs/cgroup"), flags: [.readOnly, .noSuid])),
        ])
        #expect(c.spec.restrictedPaths.readOnly == [g("/proc/sys")])
        #expect(c.spec.restrictedPaths.masked == [g("/proc/kcore")])
    }

    static let refusals: [(String, String)] = [
        (config(process: "\"terminal\": true, \"consoleSize\": {\"width\": 80}"), "config.json: process.consoleSize.height is missing"),
        (config(process: "\"terminal\": true, \"consoleSize\": {\"height\": 70000, \"width\": 80}"), "config.json: process.consoleSize: a terminal is at most 65535 by 65535"),
        (config(process: "\"capabilities\": {\"bounding\": [\"CAP_KILL\"]}"), "config.json: process.capabilities: for root, Burrow gives effective = permitted = bounding + inheritable, with ambient within permitted and inheritable; these sets differ"),
        (config(process: "\"capabilities\": {\"bounding\": [\"CAP_SYS_PTRACE\"], \"permitted\": [\"CAP_SYS_PTRACE\"], \"effective\": [\"CAP_SYS_PTRACE\"]}"), "config.json: process.capabilities.bounding: CAP_SYS_PTRACE: Burrow never gives it (the command could trace the container's init and Burrow's supervisor)"),
        (config(process: "\"capabilities\": {\"bounding\": [\"CAP_FLY\"]}"), "config.json: process.capabilities.bounding: 'CAP_FLY' is not a capability"),
        (config(process: "\"user\": {\"uid\": 5, \"gid\": 5}, \"capabilities\": {\"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"]}"), "config.json: process.capabilities: for a uid other than 0, Burrow gives effective = permitted = ambient, with ambient within inheritable; these sets differ"),
        (config(process: "\"oomScoreAdj\": 1001"), "config.json: process.oomScoreAdj: expected an integer from -1000 to 1000"),
        (config(process: "\"rlimits\": [{\"type\": \"RLIMIT_FLY\", \"hard\": 1, \"soft\": 1}]"), "config.json: process.rlimits[0].type: 'RLIMIT_FLY' is not a resource limit (RLIMIT_NOFILE, ...)"),
        (config(process: "\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 2}]"), "config.json: process.rlimits[0]: the soft limit 2 is above the hard limit 1"),
        (config(linux: "\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"u\", \"access\": \"rwm\"}]}"), "config.json: linux.resources.devices[0].type: 'u' is not a device cgroup type (a, b or c)"),
        (config(linux: "\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"c\", \"access\": \"rx\"}]}"), "config.json: linux.resources.devices[0].access: 'rx' is not r, w and m, each at most once"),
        (config(linux: "\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"\"}]}"), "config.json: linux.resources.devices[0].access: '' is not r, w and m, each at most once"),
        (config(linux: "\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": -2, \"access\": \"r\"}]}"), "config.json: linux.resources.devices[0].major: expected a device number or -1, found a number"),
        (config(linux: "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}"), "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY: a seccomp listener is not supported"),
        (config(linux: "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"]}"), "config.json: linux.seccomp.flags: seccomp filter flags are not supported yet"),
        (config(linux: "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}"), "config.json: linux.seccomp.syscalls[0].args[0]: index must be 0 to 5"),
        (config(process: "\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [\"5\"]}"), "config.json: process.user.additionalGids[0]: expected an integer from 0 to 4294967295, found a string"),
        (config(process: "\"user\": {\"uid\": 0, \"umask\": 512}"), "config.json: process.user.umask: 512 is not a umask (0 to 511, 0777)"),
        (config(linux: "\"sysctl\": {\"kernel.panic\": \"1\"}"), "config.json: linux.sysctl.kernel.panic: not a sysctl of the container's own namespaces: it would change the host"),
        (config(linux: "\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}"), "config.json: linux.sysctl.net.ipv4.ip_forward: needs a \"network\" namespace of the container's own"),
        (config(process: "\"user\": {\"uid\": -1}"), "config.json: process.user.uid: expected an integer from 0 to 4294967295, found a number"),
        (config(process: "\"user\": {\"uid\": \"0\"}"), "config.json: process.user.uid: expected an integer from 0 to 4294967295, found a string"),
        (config(process: "\"env\": [\"NOEQUALS\"]"), "config.json: process.env[0]: 'NOEQUALS' is not NAME=VALUE"),
        (config(linux: "\"maskedPaths\": [\"proc/kcore\"]"), "config.json: linux.maskedPaths[0]: destination 'proc/kcore' is not an absolute path inside the new root"),
        (config(linux: "\"resources\": {\"blockIO\": {\"weight\": 10}}"), "config.json: linux.resources.blockIO: cgroup limits other than pids, memory and cpu are not supported yet"),
        (config(linux: "\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}"), "config.json: linux.resources.hugepageLimits: cgroup limits other than pids, memory and cpu are not supported yet"),
        (config(linux: "\"resources\": {\"memory\": {\"swappiness\": 101}}"), "config.json: linux.resources.memory.swappiness: 101 is not from 0 to 100"),
        (config(linux: "\"resources\": {\"memory\": {\"limit\": \"1M\"}}"), "config.json: linux.resources.memory.limit: expected an integer from -9223372036854775808 to 9223372036854775807, found a string"),
        (config(linux: "\"resources\": {\"cpu\": {\"realtimeRuntime\": 950000}}"), "config.json: linux.resources.cpu.realtimeRuntime: real-time CPU limits are not supported yet"),
        (config(linux: "\"resources\": {\"cpu\": {\"cpus\": \"0;1\"}}"), "config.json: linux.resources.cpu.cpus: '0;1' is not a list of numbers and ranges (0-3,8)"),
        (config(linux: "\"resources\": {\"pids\": {\"limit\": null}}"), "config.json: linux.resources.pids.limit is missing"),
        (config(linux: "\"cgroupsPath\": \"system.slice:burrow:c\""), "config.json: linux.cgroupsPath: 'system.slice:burrow:c' is systemd's slice:prefix:name form; burrow-oci writes cgroupfs paths (/a/b, or a/b under its own cgroup)"),
        (config(linux: "\"cgroupsPath\": \"/a/../b\""), "config.json: linux.cgroupsPath: '/a/../b': '..' is not allowed in a cgroup path"),
        (config(linux: "\"rootfsPropagation\": \"sideways\""), "config.json: linux.rootfsPropagation: 'sideways' is not a propagation (shared, slave, private, unbindable, or rshared, rslave, rprivate, runbindable)"),
        (config(top: "\"mounts\": [{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"rshared\"]}]"), "config.json: mounts[0]: 'rshared' propagation on the tmpfs at /dev is not supported (it is private)"),
        (config(top: "\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/y\", \"options\": [\"rdonly\"]}]"), "config.json: mounts[0]: 'rdonly' has no meaning for a bind mount"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\"}]"), "config.json: linux.devices[0].type: 'x' is not a device type (c, b, u or p)"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]"), "config.json: linux.devices[0].minor is missing"),
        (config(linux: "\"devices\": [{\"type\": \"p\"}]"), "config.json: linux.devices[0].path is missing"),
        (config(linux: "\"devices\": [{\"path\": \"dev/x\", \"type\": \"p\"}]"), "config.json: linux.devices[0].path: 'dev/x' is not an absolute path"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": -1, \"minor\": 0}]"), "config.json: linux.devices[0].major: expected an integer from 0 to 4294967295, found a number"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 4096, \"minor\": 0}]"), "config.json: linux.devices[0] (/dev/x): major 4096 is more than the kernel's largest, 4095"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"major\": 8, \"minor\": 1048576}]"), "config.json: linux.devices[0] (/dev/x): minor 1048576 is more than the kernel's largest, 1048575"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"p\", \"fileMode\": 2486}]"), "config.json: linux.devices[0] (/dev/x): mode 2486 (04666) is more than permission bits (0 to 0777)"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"p\"}, {\"path\": \"/dev//x\", \"type\": \"p\"}]"), "config.json: linux.devices[1] (/dev/x) is listed twice"),
        (config(linux: "\"devices\": [{\"path\": \"/dev/x\", \"type\": \"p\", \"uid\": 7}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"), "config.json: linux.devices[0] (/dev/x): its uid 7 is not mapped by the linux.uidMappings ranges given"),
        (config(top: "\"hooks\": {\"startContainer\": [{\"path\": \"bin/true\"}]}"), "config.json: hooks.startContainer[0].path: 'bin/true' is not an absolute path"),
        (config(top: "\"hooks\": {\"prestart\": [{\"path\": \"true\"}]}"), "config.json: hooks.prestart[0].path: 'true' is not an absolute path"),
        (config(top: "\"hooks\": {\"poststop\": [{\"args\": [\"x\"]}]}"), "config.json: hooks.poststop[0].path is missing"),
        (config(top: "\"hooks\": {\"poststart\": [{\"path\": \"/x\", \"timeout\": 0}]}"), "config.json: hooks.poststart[0].timeout: expected a number of seconds from 1 to 86400, found a number"),
        (config(top: "\"hooks\": {\"poststart\": [{\"path\": \"/x\", \"env\": [\"A\"]}]}"), "config.json: hooks.poststart[0].env[0]: 'A' is not KEY=value"),
        (config(top: "\"mounts\": [{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nsdelegate\"]}]"), "config.json: mounts[0]: 'nsdelegate': cgroup mount options are not supported"),
        (config(top: "\"mounts\": [{\"destination\": \"/x\", \"type\": \"overlay\", \"source\": \"o\"}]"), "config.json: mounts[0]: 'overlay' mounts are not supported (bind, proc, tmpfs, devpts, mqueue, sysfs)"),
        (config(top: "\"mounts\": [{\"destination\": \"x\", \"type\": \"tmpfs\"}]"), "config.json: mounts[0].destination: destination 'x' is not an absolute path inside the new root"),
        (config(top: "\"hostname\": \"h\""), "config.json: hostname needs a \"uts\" entry in linux.namespaces"),
        (config(top: "\"ociVersion\": \"2.0\""), "config.json: line 1, column 53: duplicate member \"ociVersion\""),
        ("""
         {"ociVersion": "0.5", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}}
         """, "config.json: ociVersion: '0.5' is not a 1.x runtime-spec version (burrow-oci reads 1.0.2)"),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}}
         """, #"config.json: linux.namespaces: without a "mount" entry the container's root would be built in the caller's mount namespace, which only root on the host may do (with no "user" namespace either); list {"type": "mount"}"#),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": [], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}]}}
         """, "config.json: process.args: the command is missing"),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "tmp"}, "linux": {"namespaces": [{"type": "mount"}]}}
         """, "config.json: process.cwd: 'tmp' is not an absolute path"),
        (config(linux: "\"uidMappings\": [{\"containerID\": 0, \"size\": 1}]"), "config.json: linux.uidMappings[0]: containerID, hostID and size are all needed"),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}, {"type": "net", "path": ""}]}}
         """, "config.json: linux.namespaces[1].type: 'net' is not a namespace type (pid, network, mount, ipc, uts, user, cgroup, time)"),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount", "path": "/proc/1/ns/mnt"}]}}
         """, #"config.json: a "mount" namespace with a path needs a "user" namespace with a path too, the one that owns it: the root is built in the joined mount namespace, and from a user namespace of Burrow's own nothing may be mounted there"#),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}, {"type": "network", "path": "proc/1/ns/net"}]}}
         """, "config.json: linux.namespaces[1].path: 'proc/1/ns/net' is not an absolute path (a namespace file: /proc/PID/ns/...)"),
        ("""
         {"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}, {"type": "time", "path": "/proc/1/ns/time"}]}}
         """, "config.json: linux.namespaces[1].type: a time namespace is not supported yet"),
        (config(linux: "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]").replacing("[{\"type\": \"mount\"}]", with: "[{\"type\": \"mount\"}, {\"type\": \"user\", \"path\": \"/proc/1/ns/user\"}]"),
         "config.json: linux.uidMappings: a joined user namespace (a \"user\" entry with a path) has its maps already"),
        ("[]", "config.json: expected an object at the top"),
        (config(process: "\"env\": [\"A=b\\u0000c\"]"), "config.json: process.env[0]: a NUL character (\\u0000) is not allowed here"),
    ]

    /// A namespace with a path is joined, not made: every kind but mount (and time).
    @Test func joinsNamespacesByPath() throws {
        let text = Self.config(top: "\"hostname\": \"h\"").replacing("[{\"type\": \"mount\"}]", with: """
            [{"type": "mount"}, {"type": "user", "path": "/proc/7/ns/user"}, {"type": "pid", "path": "/proc/7/ns/pid"},
             {"type": "network", "path": "/run/netns/a"}, {"type": "ipc", "path": "/proc/7/ns/ipc"}, {"type": "uts", "path": "/proc/7/ns/uts"},
             {"type": "cgroup", "path": "/proc/7/ns/cgroup"}]
            """)
        let c = try OCIConfig.parse(text, bundle: "/b")
        #expect(c.spec.namespaces.joined == [
            NamespaceJoin(.user, path: HostPath("/proc/7/ns/user")), NamespaceJoin(.pid, path: HostPath("/proc/7/ns/pid")),
            NamespaceJoin(.net, path: HostPath("/run/netns/a")), NamespaceJoin(.ipc, path: HostPath("/proc/7/ns/ipc")),
            NamespaceJoin(.uts, path: HostPath("/proc/7/ns/uts")), NamespaceJoin(.cgroup, path: HostPath("/proc/7/ns/cgroup")),
        ])
        // None made: the joined ones are the container's.
        var made = c.spec.namespaces
        made.joined = []
        #expect(made == Namespaces())
        #expect(c.userNamespace)
        // A hostname is set in the joined UTS namespace.
        #expect(c.spec.process.hostname == "h")
        // An empty path means a new one, as no path does.
        let empty = try OCIConfig.parse(Self.config().replacing("[{\"type\": \"mount\"}]", with: "[{\"type\": \"mount\"}, {\"type\": \"ipc\", \"path\": \"\"}]"), bundle: "/b")
        #expect(empty.spec.namespaces.ipc && empty.spec.namespaces.joined.isEmpty)
    }

    /// In a joined cgroup namespace a cgroup mount is the host's hierarchy, bound: a new
    /// cgroup2 filesystem there would need rights over the namespace's owner.
    @Test func cgroupMountInAJoinedCgroupNamespace() throws {
        let text = Self.config(top: "\"mounts\": [{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\"}]")
            .replacing("[{\"type\": \"mount\"}]", with: "[{\"type\": \"mount\"}, {\"type\": \"cgroup\", \"path\": \"/proc/7/ns/cgroup\"}]")
        let c = try OCIConfig.parse(text, bundle: "/b")
        guard case .bind(let b)? = c.spec.operations.first else { Issue.record("not a bind: \(c.spec.operations)"); return }
        #expect(b.source == HostPath("/sys/fs/cgroup"))
    }

    @Test(arguments: refusals)
    func refuses(_ text: String, _ message: String) {
        do {
            _ = try OCIConfig.parse(text, bundle: "/b")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func cgroupPathAndLimits() throws {
        let c = try OCIConfig.parse(Self.config(linux: """
            "cgroupsPath": "/burrow/c1",
            "resources": {"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 1000},
                          "memory": {"limit": 50593792, "reservation": 40000000, "swap": 60000000, "kernel": 50593792,
                                     "kernelTCP": 1000000, "swappiness": 10, "disableOOMKiller": true},
                          "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"}}
            """), bundle: "/b")
        var limits = CgroupLimits()
        limits.devices = [DeviceCgroupRule(allow: false, holdsWithoutCgroup: true, index: 0)]
        limits.pids = 1000
        limits.memory = 50_593_792
        limits.memoryReservation = 40_000_000
        limits.memorySwap = 60_000_000
        limits.kernelTCP = 1_000_000
        limits.swappiness = 10
        limits.disableOOMKiller = true
        limits.cpuShares = 1024
        limits.cpuQuota = 50000
        limits.cpuPeriod = 100_000
        limits.cpus = "0-1"
        limits.mems = "0"
        #expect(c.spec.cgroup == CgroupSpec(path: "/burrow/c1", limits: limits))
        // memory.kernel is ignored, as runc ignores it, and said.
        #expect(c.spec.warnings == ["config.json: linux.resources.memory.kernel: ignored, as runc ignores it: Linux no longer limits kernel memory on its own (memory.kmem.limit_in_bytes has no effect since 6.1; v2 has no such limit)"])
        // A path alone: a cgroup without limits. Limits alone: the runtime's default path.
        #expect(try OCIConfig.parse(Self.config(linux: "\"cgroupsPath\": \"a/b\""), bundle: "/b").spec.cgroup == CgroupSpec(path: "a/b"))
        var pids = CgroupLimits()
        pids.pids = -1
        #expect(try OCIConfig.parse(Self.config(linux: "\"resources\": {\"pids\": {\"limit\": -1}}"), bundle: "/b").spec.cgroup
                == CgroupSpec(path: "", limits: pids))
        // Neither: no cgroup at all.
        #expect(try OCIConfig.parse(Self.config(), bundle: "/b").spec.cgroup == nil)
        // Only the deny-all rule, which holds without a device cgroup: a cgroup only where
        // one can be had.
        #expect(try OCIConfig.parse(Self.config(linux: "\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}"), bundle: "/b").spec.cgroup?.onlyForDevices == true)
    }

    /// update's --resources: pids, memory and cpu as config.json's; the device rules left as
    /// they are (containerd sends the whole object); the rest refused by name, in the terms
    /// of the file it came from.
    @Test func updateResources() throws {
        let (limits, warnings) = try OCIConfig.resources("""
            {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}],
             "pids": {"limit": 30}, "memory": {"limit": 134217728, "swap": 268435456, "kernel": 1, "checkBeforeUpdate": false},
             "cpu": {"shares": 256, "quota": 20000, "period": 100000, "cpus": "0", "realtimeRuntime": 0}, "hugepageLimits": [], "unified": {}}
            """, file: "res.json")
        var expected = CgroupLimits()
        expected.pids = 30
        expected.memory = 134_217_728
        expected.memorySwap = 268_435_456
        expected.cpuShares = 256
        expected.cpuQuota = 20000
        expected.cpuPeriod = 100_000
        expected.cpus = "0"
        #expect(limits == expected)
        #expect(warnings == ["res.json: memory.kernel: ignored, as runc ignores it: Linux no longer limits kernel memory on its own (memory.kmem.limit_in_bytes has no effect since 6.1; v2 has no such limit)"])
        // burrow-oci's state keeps the limits in force in the same form.
        #expect(try OCIConfig.resources(OCIConfig.resourcesJSON(expected), file: "state.json").limits == expected)
        var all = expected
        all.memoryReservation = -1
        all.swappiness = 10
        all.kernelTCP = 5
        all.disableOOMKiller = true
        all.mems = "0-1"
        #expect(try OCIConfig.resources(OCIConfig.resourcesJSON(all), file: "state.json").limits == all)
        #expect(OCIConfig.resourcesJSON(CgroupLimits()) == .object([]))
        for (text, message) in [
            ("{\"blockIO\": {\"weight\": 500}}", "res.json: blockIO: cgroup limits other than pids, memory and cpu are not supported yet"),
            ("{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}]}", "res.json: hugepageLimits: cgroup limits other than pids, memory and cpu are not supported yet"),
            ("{\"unified\": {\"memory.high\": \"1000000\"}}", "res.json: unified: cgroup limits other than pids, memory and cpu are not supported yet"),
            ("{\"cpu\": {\"realtimePeriod\": 1000000}}", "res.json: cpu.realtimePeriod: real-time CPU limits are not supported yet"),
            ("{\"memory\": {\"limit\": \"1g\"}}", "res.json: memory.limit: expected an integer from -9223372036854775808 to 9223372036854775807, found a string"),
            ("{\"memory\": {\"checkBeforeUpdate\": true}}", "res.json: memory.checkBeforeUpdate: not supported: burrow-oci does not compare a new limit with the memory in use"),
            ("{\"pids\": {\"max\": 3}}", "res.json: pids.limit is missing"),
            ("[]", "res.json: expected a linux.resources object, found an array"),
        ] {
            do { _ = try OCIConfig.resources(text, file: "res.json"); Issue.record("accepted \(text)") } catch { #expect(error.message == message) }
        }
    }

    @Test func capabilitiesRlimitsSeccompAndDevices() throws {
        let caps = "[\"CAP_KILL\", \"CAP_CHOWN\"]"
        let text = Self.config(
            process: """
                "capabilities": {"bounding": \(caps), "permitted": \(caps), "effective": \(caps), "inheritable": \(caps), "ambient": ["CAP_KILL"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}], "oomScoreAdj": 500,
                "user": {"uid": 0, "gid": 0, "additionalGids": [5, 6], "umask": 18}
                """,
            linux: """
                "resources": {"devices": [{"allow": false, "access": "rwm"}]}, "sysctl": {"kernel.shmmax": "4096"},
                "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86_64"],
                            "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                                         {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                                         {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                                          "args": [{"index": 1, "value": 255, "valueTwo": 9, "op": "SCMP_CMP_MASKED_EQ"}]}]}
                """)
        let c = try OCIConfig.parse(text.replacing("[{\"type\": \"mount\"}]", with: "[{\"type\": \"mount\"}, {\"type\": \"ipc\"}]"), bundle: "/b")
        var sets = CapabilitySets()
        sets.bounding = ["CAP_KILL", "CAP_CHOWN"]
        sets.permitted = sets.bounding
        sets.effective = sets.bounding
        sets.inheritable = sets.bounding
        sets.ambient = ["CAP_KILL"]
        #expect(c.spec.security.capabilities == sets)
        #expect(c.spec.process.resourceLimits == [ResourceLimit(resource: "RLIMIT_NOFILE", soft: 512, hard: 1024)])
        #expect(c.spec.identity.supplementaryGroups == [5, 6])
        #expect(c.spec.process.sysctls == [Sysctl(name: "kernel.shmmax", value: "4096")])
        #expect(c.spec.process.umask == 0o22)
        #expect(c.spec.process.oomScoreAdjustment == 500)
        #expect(c.spec.security.seccomp == SeccompProfile.rules(SeccompRuleSet(defaultAction: .errno(38), coversI386: false, rules: [
            .init(names: ["read", "write"], action: .allow),
            .init(names: ["personality"], action: .allow, comparisons: [.init(index: 0, op: .equal, value: 8)]),
            .init(names: ["kill"], action: .errno(1), comparisons: [.init(index: 1, op: .maskedEqual, value: 255, valueTwo: 9)]),
        ])))
    }

    /// Propagation on mounts and on the root (runc's words for it), and device nodes.
    @Test func propagationAndDevices() throws {
        let text = Self.config(
            top: """
                "mounts": [{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "shared", "mode=755"]},
                           {"destination": "/e", "source": "/etc", "options": ["rbind", "rslave", "size=1k", "runbindable"]}]
                """,
            linux: """
                "rootfsPropagation": "shared",
                "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
                            {"path": "/dev/sdz", "type": "b", "major": 8, "minor": 666},
                            {"path": "/dev/u", "type": "u", "major": 4, "minor": 1, "fileMode": 8624, "gid": 5},
                            {"path": "/dev/fifo", "type": "p", "major": 99, "fileMode": 432}]
                """)
        let c = try OCIConfig.parse(text, bundle: "/b")
        #expect(c.spec.root.propagation == MountPropagation(.shared))
        var tmp = FilesystemMount(type: "tmpfs", source: "tmpfs", destination: g("/t"), flags: [.noSuid], data: ["mode=755"])
        tmp.propagation = [MountPropagation(.shared)]
        var etc = BindMount(source: HostPath("/etc"), destination: g("/e"), allowDevices: true)
        etc.propagation = [MountPropagation(.slave, recursive: true), MountPropagation(.unbindable, recursive: true)]
        #expect(c.spec.operations == [.filesystem(tmp), .bind(etc)])
        #expect(c.spec.devices == [
            DeviceNode(path: g("/dev/fuse"), kind: .character, major: 10, minor: 229, mode: 0o666),
            DeviceNode(path: g("/dev/sdz"), kind: .block, major: 8, minor: 666),
            // u is a character device; the type's bits beside the mode (020660) are dropped.
            DeviceNode(path: g("/dev/u"), kind: .character, major: 4, minor: 1, mode: 0o660, gid: 5),
            // A FIFO has no numbers.
            DeviceNode(path: g("/dev/fifo"), kind: .fifo, mode: 0o660),
        ])
    }

    @Test(arguments: [
        ("shared", MountPropagation(.shared)), ("rshared", MountPropagation(.shared, recursive: true)),
        ("slave", MountPropagation(.slave)), ("rslave", MountPropagation(.slave, recursive: true)),
        ("private", MountPropagation(.private)), ("rprivate", MountPropagation(.private, recursive: true)),
        ("unbindable", MountPropagation(.unbindable)), ("runbindable", MountPropagation(.unbindable, recursive: true)),
    ])
    func propagationWords(_ word: String, _ expected: MountPropagation) {
        #expect(MountPropagation(word: word) == expected)
        #expect(expected.description == word)
    }

    @Test(arguments: ["", "r", "rr", "rrshared", "Shared", "bind", "ro"])
    func notPropagationWords(_ word: String) {
        #expect(MountPropagation(word: word) == nil)
    }

    @Test func capabilitiesOfAnotherUid() throws {
        let text = Self.config(process: """
            "user": {"uid": 1000, "gid": 1000},
            "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "permitted": ["CAP_KILL"], "effective": ["CAP_KILL"],
                             "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
            """)
        let c = try OCIConfig.parse(text, bundle: "/b")
        #expect(c.spec.security.capabilities?.ambient == ["CAP_KILL"])
        #expect(c.spec.identity.uid == 1000)
    }

    /// exec's process: --process FILE in place of the container's process (what it does not
    /// say is not kept from the container's), or the container's with exec's overrides.
    @Test func execProcess() throws {
        let container = try OCIConfig.parse(Self.config(process: """
            "env": ["PATH=/bin", "C=1"], "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 10}], "oomScoreAdj": 5,
            "user": {"uid": 0, "gid": 0, "additionalGids": [3], "umask": 18}
            """), bundle: "/b").spec
        let file = """
            {"args": ["ls", "-l"], "env": ["PATH=/usr/bin", "E=2"], "cwd": "/tmp", "user": {"uid": 1000, "gid": 100},
             "noNewPrivileges": true, "terminal": false, "unknown": 1}
            """
        let p = try OCIConfig.execProcess(file, file: "/run/exec.json", container: container)
        #expect(p.process.argv == ["ls", "-l"])
        #expect(p.process.environment == [.clear, .set("PATH", "/usr/bin"), .set("E", "2")])
        #expect(p.process.chdir == g("/tmp"))
        #expect(p.identity.uid == 1000 && p.identity.gid == 100)
        #expect(p.identity.supplementaryGroups.isEmpty)
        #expect(p.process.resourceLimits.isEmpty && p.process.oomScoreAdjustment == nil && p.process.umask == nil)
        #expect(p.security.noNewPrivileges)
        // The container's own: root, namespaces, seccomp.
        #expect(p.root == container.root && p.namespaces == container.namespaces && p.security.seccomp == container.security.seccomp)

        var o = OCIExecOptions(id: "c")
        o.args = ["id"]
        o.environment = ["D=4", "C=2"]
        o.cwd = "/home"
        o.uid = 5
        o.additionalGids = [9]
        let typed = try OCIConfig.execProcess(o, container: container)
        #expect(typed.process.argv == ["id"])
        #expect(applyEnvironment(typed.process.environment, to: [("HOME", "/")]).map { "\($0.0)=\($0.1)" } == ["PATH=/bin", "C=2", "D=4"])
        #expect(typed.process.chdir == g("/home"))
        #expect(typed.identity.uid == 5 && typed.identity.gid == 0)
        #expect(typed.identity.supplementaryGroups == [3, 9])
        #expect(typed.process.resourceLimits == container.process.resourceLimits)
    }

    /// podman's exec --user 1000: the container's sets as effective and permitted, no
    /// ambient. A uid other than 0 keeps none of them over execve (under runc too).
    @Test func execProcessOfAnotherUidWithPodmansCapabilities() throws {
        let container = try OCIConfig.parse(Self.minimal, bundle: "/b").spec
        let caps = "[\"CAP_CHOWN\", \"CAP_KILL\"]"
        let file = """
            {"user": {"uid": 1000, "gid": 1000}, "args": ["id"], "cwd": "/",
             "capabilities": {"bounding": \(caps), "effective": \(caps), "permitted": \(caps)}}
            """
        let p = try OCIConfig.execProcess(file, file: "/e.json", container: container)
        #expect(p.security.capabilities?.permitted == ["CAP_CHOWN", "CAP_KILL"])
        #expect(p.security.capabilities?.ambient == [])
        // config.json stays strict.
        #expect(throws: UsageError.self) {
            try OCIConfig.parse(Self.config(process: "\"user\": {\"uid\": 1000}, \"capabilities\": {\"effective\": \(caps), \"permitted\": \(caps)}"), bundle: "/b")
        }
    }

    @Test(arguments: [
        ("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 5}, \"capabilities\": {\"ambient\": [\"CAP_KILL\"]}}", "/e.json: capabilities: for a uid other than 0, Burrow gives effective = permitted = ambient (what execve leaves), with ambient within permitted and inheritable; these sets differ"),
        ("{\"cwd\": \"/\"}", "/e.json: args is missing"),
        ("{\"args\": [\"sh\"]}", "/e.json: cwd is missing"),
        ("{\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\": {\"bounding\": [\"CAP_FLY\"]}}", "/e.json: capabilities.bounding: 'CAP_FLY' is not a capability"),
        ("{\"args\": [\"sh\"], \"cwd\": \"/\", \"selinuxLabel\": \"x\"}", "/e.json: selinuxLabel: SELinux labels are not supported"),
        ("[]", "/e.json: expected a process object at the top"),
        ("{", "/e.json: line 1, column 2: expected a member name in double quotes"),
    ])
    func execProcessRefusals(_ text: String, _ message: String) throws {
        let container = try OCIConfig.parse(Self.minimal, bundle: "/b").spec
        do {
            _ = try OCIConfig.execProcess(text, file: "/e.json", container: container)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func theDefaultSpecIsAccepted() throws {
        for rootless in [false, true] {
            let c = try OCIConfig.parse(OCICommandLine.defaultConfig(rootless: rootless).indentedText, bundle: "/b")
            #expect(c.spec.root.readOnly)
            #expect(c.spec.process.hostname == "burrow")
            #expect(c.spec.namespaces.net == !rootless)
        }
    }

    @Test func state() throws {
        let s = OCICommandLine.state(id: "c", status: "created", pid: 42, bundle: "/b", annotations: [("k", "v")])
        #expect(s.text == "{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"created\",\"pid\":42,\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}")
        #expect(OCICommandLine.state(id: "c", status: "stopped", pid: 42, bundle: "/b", annotations: [])["pid"] == .number("0"))
    }
}
