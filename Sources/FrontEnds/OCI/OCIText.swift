import BurrowSandbox

/// What burrow-oci prints and writes: its help, the runtime-spec state, `features`, and the
/// default config `spec` writes. Pure.
extension OCICommandLine {
    public static var help: String {
        var out = """
            Usage: burrow-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID]

            Burrow as an OCI runtime: runc's command line, for podman (--runtime),
            containerd and CRI-O. A bundle's config.json becomes a Burrow sandbox on the
            namespace engine, rootless; what Burrow cannot honour in it is refused by name.

            Commands:

            """
        out += HelpText.row("create --bundle DIR ID", "Set up the container and hold it before its command (--pid-file F, --console-socket S)")
        out += HelpText.row("start ID", "Run the command of a created container")
        out += HelpText.row("run --bundle DIR ID", "create and start; waits for the command unless --detach")
        out += HelpText.row("  --preserve-fds N", "create, run, exec: the caller's descriptors 3 to 3+N-1 reach the process, at those numbers")
        out += HelpText.row("exec [OPTIONS] ID COMMAND...", "Run another process in the running container")
        out += HelpText.row("exec --process FILE ID", "... from a runtime-spec process.json (as podman's conmon does)")
        out += HelpText.row("  --detach, --pid-file F", "Return once it started, its pid in F; else wait and exit with its status")
        out += HelpText.row("  --env K=V, --cwd DIR", "Add to the container's environment; the working directory")
        out += HelpText.row("  --user UID[:GID], --additional-gids G", "The ids (numbers), supplementary groups")
        out += HelpText.row("  --no-new-privs", "Set no_new_privs")
        out += HelpText.row("  --tty, --console-socket S", "A terminal of its own, its master sent to the socket S")
        out += HelpText.row("update [OPTIONS] ID", "Change limits of the container's own cgroup; the others stay")
        out += HelpText.row("  --resources FILE|-", "... from a linux.resources object (pids, memory, cpu); -: stdin")
        out += HelpText.row("  --memory N", "Bytes (512m, 1g; -1: no limit); so are --memory-swap and --memory-reservation")
        out += HelpText.row("  --pids-limit N", "Tasks (-1: no limit)")
        out += HelpText.row("  --cpu-quota N, --cpu-period N", "CFS quota and period, in microseconds")
        out += HelpText.row("  --cpu-share N", "CPU shares (--cpu-shares too)")
        out += HelpText.row("  --cpuset-cpus S", "CPUs (0-3,8); also --cpuset-mems S")
        out += HelpText.row("ps [--format table|json] ID", "The container's processes, as the caller's pids (json: an array)")
        out += HelpText.row("pause ID, resume ID", "Freeze and thaw the container, with cgroup v2's freezer where its cgroup is its own, else (root, cgroup v1) v1's")
        out += HelpText.row("state ID", "The container's state, as runtime-spec JSON")
        out += HelpText.row("kill [--all] ID [SIGNAL]", "Send SIGNAL (a name or number; default TERM)")
        out += HelpText.row("delete [--force] ID", "Remove a stopped container (--force: kill it first)")
        out += HelpText.row("list [--format table|json] [-q]", "The containers under --root")
        out += HelpText.row("features", "What this runtime supports, as JSON")
        out += HelpText.row("spec [--bundle DIR] [--rootless]", "Write a default config.json")
        out += "\nGlobal options:\n"
        out += HelpText.row("--root DIR", "State directory (default $XDG_RUNTIME_DIR/burrow-oci, /run/burrow-oci for root)")
        out += HelpText.row("--log FILE", "Write messages to FILE too")
        out += HelpText.row("--log-format text|json", "The messages' form in the log")
        out += HelpText.row("--debug", "Say each step of the set-up")
        out += HelpText.row("--systemd-cgroup", "Accepted: burrow-oci writes cgroupfs paths, never systemd units")
        out += HelpText.row("-h, --help", "This help")
        out += HelpText.row("-v, --version", "Burrow's version and the runtime-spec version")
        out += "\nNot supported yet (refused by name): events, checkpoint, restore.\n"
        return out
    }

    /// `features` (runtime-spec's features.md): what this runtime accepts.
    public static var features: JSON {
        .object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string(ociVersion)),
            // In the runtime-spec's order of a container's life.
            ("hooks", .array([OCIHooks.Stage.prestart, .createRuntime, .createContainer, .startContainer, .poststart, .poststop]
                                .map { .string($0.rawValue) })),
            ("mountOptions", .array(["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "bind", "rbind",
                                     "noatime", "relatime", "strictatime", "nodiratime", "nosymfollow"]
                                     .map(JSON.string) + MountPropagation.Kind.allCases.flatMap {
                                         [JSON.string($0.rawValue), .string("r" + $0.rawValue)] })),
            ("linux", .object([
                ("namespaces", .array(["pid", "network", "mount", "ipc", "uts", "user", "cgroup"].map(JSON.string))),
                ("capabilities", .array([])),
                ("cgroup", .object([("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)),
                                    ("systemdUser", .bool(false))])),
                ("seccomp", .object([("enabled", .bool(true))])),
                ("apparmor", .object([("enabled", .bool(false))])),
                ("selinux", .object([("enabled", .bool(false))])),
            ])),
            ("annotations", .object([("org.burrow.engine", .string("namespace"))])),
        ])
    }

    /// runtime-spec's state of a container.
    public static func state(id: String, status: String, pid: Int32, bundle: String, annotations: [(String, String)]) -> JSON {
        .object([
            ("ociVersion", .string(ociVersion)),
            ("id", .string(id)),
            ("status", .string(status)),
            ("pid", .int(status == "stopped" ? 0 : pid)),
            ("bundle", .string(bundle)),
            ("annotations", .object(annotations.map { ($0.0, .string($0.1)) })),
        ])
    }

    /// The state document around its pid, for a program that puts in the pid itself
    /// (`HeldProgram`): the text before the pid's number and after it.
    public static func stateAroundPid(id: String, status: String, bundle: String, annotations: [(String, String)]) -> (before: String, after: String) {
        let head = JSON.object([("ociVersion", .string(ociVersion)), ("id", .string(id)), ("status", .string(status))]).text
        let tail = JSON.object([("bundle", .string(bundle)), ("annotations", .object(annotations.map { ($0.0, .string($0.1)) }))]).text
        return (String(head.dropLast()) + ",\"pid\":", "," + String(tail.dropFirst()))
    }

    /// The config.json `spec` writes: only what burrow-oci honours, so that `run` takes it
    /// as it is (runc's has capabilities, rlimits and masked paths too).
    public static func defaultConfig(rootless: Bool) -> JSON {
        func mount(_ dest: String, _ type: String, _ options: [String]) -> JSON {
            .object([("destination", .string(dest)), ("type", .string(type)), ("source", .string(type)),
                     ("options", .array(options.map(JSON.string)))])
        }
        var namespaces = ["pid", "ipc", "uts", "mount"]
        if rootless { namespaces.append("user") } else { namespaces.insert("network", at: 1) }
        return .object([
            ("ociVersion", .string(ociVersion)),
            ("process", .object([
                ("terminal", .bool(false)),
                ("user", .object([("uid", .int(0)), ("gid", .int(0))])),
                ("args", .array([.string("sh")])),
                ("env", .array([.string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), .string("TERM=xterm")])),
                ("cwd", .string("/")),
                ("noNewPrivileges", .bool(true)),
            ])),
            ("root", .object([("path", .string("rootfs")), ("readonly", .bool(true))])),
            ("hostname", .string("burrow")),
            ("mounts", .array([
                mount("/proc", "proc", ["nosuid", "noexec", "nodev"]),
                mount("/dev", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                mount("/dev/mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
                mount("/tmp", "tmpfs", ["nosuid", "nodev", "mode=1777"]),
            ])),
            ("linux", .object([
                ("namespaces", .array(namespaces.map { .object([("type", .string($0))]) })),
                ("readonlyPaths", .array(["/proc/sys"].map(JSON.string))),
            ])),
        ])
    }
}
