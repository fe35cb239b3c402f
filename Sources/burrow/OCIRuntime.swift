import BurrowFrontEnds
import BurrowKernel
import BurrowSandbox
import Glibc
import NamespaceEngine

/// burrow-oci's commands, carried out: the state directory, the container held between
/// `create` and `start`, signals, removal. The container itself is an ordinary sandbox of
/// the namespace engine, whose set-up waits before entering the root (`ExecHold`):
///
///     create (exits once the container is held)
///       └─ supervisor (builds the container; leaves once it is held)
///            ├─ init (the container's pid in `state` and --pid-file: in every namespace of
///            │    │   the container, PID 1 with a PID namespace; it passes signals on to
///            │    │   the command and exits with its status. Orphaned when the supervisor
///            │    │   leaves, it is adopted by conmon or the shim, which wait for it)
///            │    └─ set-up, waiting on <root>/<id>/exec.fifo until `start` writes to it,
///            │       then the command
///            └─ cleaner, when the set-up made something in host directories
///
/// The state directory `<root>/<id>/` holds `state.json` (id, pid and its start time, the
/// cleaner's, bundle, annotations) and, until `start`, `exec.fifo`. The status is read from
/// the processes, not stored: the init alive with the FIFO there is `created`, alive without
/// it `running`, gone `stopped`. A kill -9 of any burrow-oci call leaves no process or mount
/// behind: until the hand-over the sandbox ends with its supervisor (the set-up watches its
/// lifeline), after it the container is whole and `delete` ends it.
/// The container's own cgroup (linux.cgroupsPath, linux.resources) is recorded in the state
/// as soon as it is made; what a kill -9 leaves of it (an empty directory) `delete` removes.
enum OCIRuntime {
    /// The global options, for `report` (single-threaded).
    nonisolated(unsafe) static var global = OCIGlobalOptions()

    static func run(_ invocation: OCIInvocation) -> Int32 {
        global = invocation.global
        do throws(OCIFailure) {
            switch invocation.command {
            case .create(let c): return try create(c)
            case .run(let c): return try runContainer(c)
            case .start(let id): try start(id)
            case .state(let id):
                let c = try Container.load(id, root: stateRoot)
                print(OCICommandLine.state(id: id, status: c.status.rawValue, pid: c.pid, bundle: c.bundle,
                                           annotations: c.annotations).indentedText)
            case .kill(let id, let signal, let all): try kill(id, signal: signal, all: all)
            case .delete(let id, let force): try delete(id, force: force)
            case .list(let json, let quiet): list(json: json, quiet: quiet)
            case .features: print(OCICommandLine.features.indentedText)
            case .spec(let bundle, let rootless): try writeSpec(bundle: bundle, rootless: rootless)
            case .exec(let o): return try exec(o)
            case .ps(let id, let json): try ps(id, json: json)
            case .pause(let id): try freeze(id, true)
            case .resume(let id): try freeze(id, false)
            case .update(let o): try update(o)
            case .help, .version: break  // printed by main
            }
            return 0
        } catch {
            report(error.message)
            return error.status
        }
    }

    struct OCIFailure: Error {
        var message: String
        /// burrow-oci's status for it: 1, or exec's 126 and 127 (found but not run, not found).
        var status: Int32 = 1
        init(_ message: String, status: Int32 = 1) {
            self.message = message
            self.status = status
        }
        init(_ e: SysError) { message = e.description }
    }

    /// A message on stderr, and in `--log` (as runc's logrus writes it with --log-format json).
    static func report(_ message: String, level: String = "error") {
        if level == "error" { Diagnostics.say(message) } else { Diagnostics.warn(message) }
        guard let path = global.log else { return }
        let line: String
        if global.logJSON {
            line = JSON.object([("level", .string(level)), ("msg", .string(message)), ("time", .string(timestamp()))]).text + "\n"
        } else {
            line = "time=\"\(timestamp())\" level=\(level) msg=\(JSON.string(message).text)\n"
        }
        guard let fd = try? Files.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o600) else { return }
        _ = try? Files.writeAll(fd, Array(line.utf8), what: path)
        Files.close(fd)
    }

    /// `--root`, else `$XDG_RUNTIME_DIR/burrow-oci` for a user and `/run/burrow-oci` for root.
    /// Root of a user namespace of its own (rootless podman runs the runtime so) counts as a
    /// user, as runc has it.
    static var stateRoot: String {
        if let root = global.root { return root }
        let xdg = getenv("XDG_RUNTIME_DIR").flatMap { $0.pointee != 0 ? String(cString: $0) : nil }
        if getuid() == 0, xdg == nil || inInitialUserNamespace { return "/run/burrow-oci" }
        if let xdg { return xdg + "/burrow-oci" }
        return "/tmp/burrow-oci-\(getuid())"
    }

    /// /proc/self/uid_map maps every id to itself only in the initial user namespace.
    static var inInitialUserNamespace: Bool {
        guard let bytes = Files.readHead("/proc/self/uid_map", count: 256) else { return true }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields == ["0", "0", "4294967295"]
    }

    // MARK: create, start, run

    static func create(_ c: OCICreateOptions, as command: String = "create") throws(OCIFailure) -> Int32 {
        try checkPassedOn(c.preservedDescriptors, option: "\(command) --preserve-fds")
        var (config, bundle) = try readBundle(c.bundle)
        try connectConsole(&config.spec, socket: c.consoleSocket, command: command)
        let dir = try makeStateDirectory(c.id)
        for warning in config.spec.warnings { Diagnostics.warn(warning) }
        // The cgroup first, with its limits, recorded at once: a delete finds it even if
        // create is killed from here on. The supervisor joins it before anything else runs.
        var placement: CgroupPlacement?
        if let cg = config.spec.cgroup {
            do throws(OCIFailure) {
                placement = try makeCgroup(cg, id: c.id)
                if let p = placement {
                    var early = Container(id: c.id, pid: 0, pidStart: 0, bundle: bundle, annotations: config.annotations)
                    early.cgroups = p.directories.map(\.path)
                    early.cgroupsCreated = p.created
                    do { try early.save(in: dir) } catch { throw OCIFailure(error) }
                }
            } catch {
                if let p = placement { try? CgroupPlacement.remove(p.created) }
                removeState(dir)
                throw error
            }
        }
        func abandon() {
            if let p = placement { try? CgroupPlacement.remove(p.created) }
            removeState(dir)
        }
        let fifo = dir + "/exec.fifo"
        do { try Files.makeFIFO(fifo, mode: 0o600) } catch { abandon(); throw OCIFailure(error) }
        let ready: (read: Int32, write: Int32)
        do { ready = try Files.pipe() } catch { abandon(); throw OCIFailure(error) }
        var spec = config.spec
        var hold = ExecHold(release: HostPath(fifo), readyDescriptor: ready.write)
        // runc's statuses for these: creating while the container is built, created once held.
        hold.whenBuilt = config.hooks.held(.createContainer, id: c.id, status: "creating", bundle: bundle, annotations: config.annotations)
        hold.whenReleased = config.hooks.held(.startContainer, id: c.id, status: "created", bundle: bundle, annotations: config.annotations)
        spec.process.hold = hold
        spec.process.preservedDescriptors = c.preservedDescriptors
        spec.verbose = global.debug
        spec.process.failureStatus = 1
        spec.terms = OCIConfig.terms
        let supervisor: pid_t
        do { supervisor = try Proc.fork("the container's supervisor") } catch { abandon(); throw OCIFailure(error) }
        if supervisor == 0 {
            Files.close(ready.read)
            // In the container's cgroup before the init and the command exist: they inherit it.
            if let p = placement {
                do { try p.join(0, asked: config.spec.cgroup?.limits.names ?? []) } catch {
                    report("\(command) \(c.id): \(error)")
                    exit(1)
                }
            }
            // Out of the caller's session: the container outlives create (conmon adopts it).
            Proc.newSession()
            exit(supervise(spec))
        }
        Files.close(ready.write)
        var container = Container(id: c.id, pid: supervisor, pidStart: startTime(of: supervisor) ?? 0, bundle: bundle,
                                  annotations: config.annotations)
        container.cgroups = placement?.directories.map(\.path) ?? []
        container.cgroupsCreated = placement?.created ?? []
        container.limits = config.spec.cgroup?.limits ?? CgroupLimits()
        container.joinedMountNamespace = config.spec.namespaces.joined(.mnt) != nil
        container.hooks = config.hooks
        do { try container.save(in: dir) } catch {
            Proc.kill(supervisor, SIGKILL)
            waitGone(supervisor)
            abandon()
            throw OCIFailure(error)
        }
        // "INIT CLEANER" once the container is held and its supervisor leaves; end of file
        // if it failed (it said why).
        let handed = String(decoding: (try? Files.readAll(ready.read, limit: 64)) ?? [], as: UTF8.self)
        Files.close(ready.read)
        let ended = Proc.wait(supervisor, noHang: false)
        let pids = handed.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        guard pids.count == 2, pids[0] > 0, ended == .exited(0), let initStart = startTime(of: pids[0]) else {
            if pids.first.map({ $0 > 0 }) == true { Proc.kill(pids[0], SIGKILL) }
            abandon()
            throw OCIFailure("\(command) \(c.id): the container could not be set up (status \(ended?.status ?? 1))")
        }
        container.pid = pids[0]
        container.pidStart = initStart
        if pids[1] > 0 {
            container.cleaner = pids[1]
            container.cleanerStart = startTime(of: pids[1]) ?? 0
        }
        do { try container.save(in: dir) } catch {
            kill(container)
            abandon()
            throw OCIFailure(error)
        }
        // Built, held before its root is entered: the runtime-spec's place for these.
        for stage in [OCIHooks.Stage.prestart, .createRuntime] {
            if let failure = runHooks(stage, of: container, status: "created") {
                kill(container)
                abandon()
                throw OCIFailure("\(command) \(c.id): \(failure); the container was removed")
            }
        }
        if let pidFile = c.pidFile {
            do throws(OCIFailure) { try writePidFile(pidFile, container.pid) } catch {
                kill(container)
                abandon()
                throw error
            }
        }
        return 0
    }

    /// runc's --preserve-fds N: the caller's descriptors 3 to 3+N-1, passed on to the
    /// container's process at their numbers. Checked before burrow-oci opens anything it
    /// keeps open (which would take a free number among them and be passed on instead).
    static func checkPassedOn(_ n: Int32, option: String) throws(OCIFailure) {
        guard n > 0 else { return }
        for fd in 3..<(3 + n) where !Files.isOpen(fd) {
            throw OCIFailure("\(option) \(n): descriptor \(fd) is not open (\(n) passes on descriptors 3 to \(2 + n))")
        }
    }

    /// Ends a container handed over by its supervisor: its init (PID 1 takes the rest with
    /// it; without a PID namespace its descendants are ended too), then waits until they
    /// and the cleaner are gone, so that nothing of it is left once this returns.
    static func kill(_ c: Container) {
        let inside = containerProcesses(of: c)
        Proc.kill(c.pid, SIGKILL)
        for pid in inside { Proc.kill(pid, SIGKILL) }
        for pid in [c.pid] + inside { waitGone(pid) }
        if let cleaner = c.cleaner, isAlive(cleaner, start: c.cleanerStart) { waitGone(cleaner) }
    }

    /// Runs `stage`'s hooks in order, each with the container's state on its standard
    /// input; the first that fails (exits non-zero, is killed, times out, cannot start)
    /// stops the rest, and is said in the returned words.
    static func runHooks(_ stage: OCIHooks.Stage, of c: Container, status: String) -> String? {
        let state = Array(OCICommandLine.state(id: c.id, status: status, pid: c.pid, bundle: c.bundle,
                                               annotations: c.annotations).text.utf8)
        for (i, hook) in c.hooks[stage].enumerated() {
            let what = "hooks.\(stage.rawValue)[\(i)] (\(hook.path))"
            let end: Proc.ProgramEnd
            do { end = try Proc.runProgram(hook.path, argv: hook.args, environment: hook.env, input: state, timeout: hook.timeout) } catch {
                return "\(what) could not run: \(error.description)"
            }
            if let failure = end.failure(of: what) { return failure }
        }
        return nil
    }

    /// process.terminal and --console-socket go together (as with runc): the socket is
    /// connected here, and the container's set-up sends the terminal's master over it.
    static func connectConsole(_ spec: inout SandboxSpec, socket: String?, command: String) throws(OCIFailure) {
        switch (spec.process.console != nil, socket) {
        case (false, nil): return
        case (false, _?): throw OCIFailure("\(command) --console-socket: process.terminal is false: there is no terminal to send")
        case (true, nil): throw OCIFailure("\(command): process.terminal is true: give --console-socket, where the terminal's master is sent")
        case (true, let path?):
            do { spec.process.console?.socket = try Terminals.connect(path) } catch { throw OCIFailure(error) }
        }
    }

    /// The supervisor's life: the sandbox on the namespace engine, its failure said here.
    static func supervise(_ spec: SandboxSpec) -> Int32 {
        let outcome = NamespaceEngine.run(spec)
        if case .failed(let message, _) = outcome, !message.isEmpty { report(message) }
        return outcome.status(failureStatus: spec.process.failureStatus)
    }

    static func start(_ id: String) throws(OCIFailure) {
        let c = try Container.load(id, root: stateRoot)
        let fifo = stateRoot + "/" + id + "/exec.fifo"
        guard c.status == .created else { throw OCIFailure("start \(id): the container is \(c.status.rawValue), not created") }
        let fd: Int32
        do { fd = try Files.open(fifo, O_WRONLY | O_NONBLOCK) } catch {
            throw OCIFailure(error.errno.rawValue == ENXIO ? "start \(id): the container is not waiting to start" : error.description)
        }
        _ = try? Files.writeAll(fd, [0x30], what: fifo)
        Files.close(fd)
        _ = try? Files.unlink(fifo, at: AT_FDCWD, directory: false)
        // A failed poststart hook is a warning: the container runs on (the runtime-spec).
        if let failure = runHooks(.poststart, of: c, status: "running") { report("start \(id): \(failure)", level: "warning") }
    }

    /// `run`: create and start. In the foreground, this process then waits for the container
    /// as conmon would: a child subreaper, it adopts the init when the supervisor leaves,
    /// passes on the signals it gets (Ctrl-C, a TERM), and returns the init's status, the
    /// command's. The container is then removed as delete removes it (its cgroup, the
    /// poststop hooks, the state), as runc's run does.
    static func runContainer(_ c: OCICreateOptions) throws(OCIFailure) -> Int32 {
        if c.detach {
            let status = try create(c)
            if status == 0 { try start(c.id) }
            return status
        }
        do { try Proc.setChildSubreaper() } catch { throw OCIFailure(error) }
        _ = try create(c, as: "run")
        let container = try Container.load(c.id, root: stateRoot)
        func remove() {
            if let cleaner = container.cleaner { _ = Proc.wait(cleaner, noHang: false) }
            do { try removeCgroup(of: container) } catch { report("run \(c.id): \(error)", level: "warning") }
            if let failure = runHooks(.poststop, of: container, status: "stopped") { report("run \(c.id): \(failure)", level: "warning") }
            removeState(stateRoot + "/" + c.id)
        }
        // Taken over once the container exists: its command gets the signals as they were.
        _ = Signals.takeOver()
        do { try start(c.id) } catch {
            kill(container)
            remove()
            throw error
        }
        var status: Int32 = 1
        waiting: while true {
            // The init, or the cleaner and what else this subreaper adopted.
            while case .child(let pid, let exit) = Proc.reap(noHang: true) {
                if pid == container.pid {
                    status = exit.status
                    break waiting
                }
            }
            let sig = Signals.wait().signal
            if Signals.forwarded.contains(sig) { Proc.kill(container.pid, sig) }
        }
        remove()
        return status
    }

    /// The container's cgroup made, with its limits written: a limit the cgroup version
    /// here cannot express, or one the kernel or the permissions refuse, is an error that
    /// names it (never dropped), and nothing is left of the cgroup then. The device rules go
    /// in cgroup v1's devices controller where the caller is root on the host, as runc puts
    /// them; elsewhere only those that hold without a device cgroup are accepted. A cgroup
    /// asked for by nothing but such rules (`CgroupSpec.onlyForDevices`) is made, in the
    /// devices hierarchy alone, where they can go in a device cgroup, else not at all: nil.
    static func makeCgroup(_ cg: CgroupSpec, id: String) throws(OCIFailure) -> CgroupPlacement? {
        var asked = cg.limits.names
        let root = mayWriteDeviceRules
        var p: CgroupPlacement
        // As root, the freezer hierarchy too on cgroup v1: `pause` freezes it where the
        // container has no cgroup v2 of its own (a v1 or hybrid host).
        do { p = try CgroupPlacement.locate(cg, defaultName: id, devices: root && !cg.limits.devices.isEmpty, freezer: root) } catch {
            if cg.onlyForDevices { return nil }
            throw OCIFailure("create \(id): \(error)")
        }
        if cg.onlyForDevices {
            guard p.deviceSupport(root: root) == .writable else { return nil }
            p.directories = p.directories.filter { $0.controllers.contains("devices") }
        }
        let writes: [CgroupWrite]
        do { writes = try cg.limits.writes(p.version, devices: p.deviceSupport(root: root)) } catch {
            throw OCIFailure("config.json: \(error.message) (this host's cgroups are \(p.version == .v1 ? "v1" : "v2"))")
        }
        if writes.contains(where: { $0.controller == "devices" }) { asked.append("devices") }
        do {
            try p.create(for: writes, asked: asked)
            try p.apply(writes, asked: asked)
        } catch {
            try? CgroupPlacement.remove(p.created)
            throw OCIFailure("create \(id): \(error)")
        }
        return p
    }

    /// Root on the host, the only caller cgroup v1's devices.allow takes (CAP_SYS_ADMIN in
    /// the initial user namespace; root of a user namespace of its own, as rootless podman
    /// runs the runtime, is not).
    static var mayWriteDeviceRules: Bool {
        inInitialUserNamespace && (try? Capabilities.current())?.effective.contains(.sysAdmin) == true
    }

    // MARK: exec, ps

    /// Another process in the running container, in the namespaces and root of its command
    /// (NamespaceEngine.exec): from --process FILE, or the container's process with exec's
    /// command and overrides. Detached: returns once it has started, its pid in --pid-file.
    static func exec(_ o: OCIExecOptions) throws(OCIFailure) -> Int32 {
        try checkPassedOn(o.preservedDescriptors, option: "exec --preserve-fds")
        let c = try Container.load(o.id, root: stateRoot)
        switch c.status {
        case .running: break
        case .created: throw OCIFailure("exec \(o.id): the container is created, not running: start it first")
        case .paused: throw OCIFailure("exec \(o.id): the container is paused: resume it first")
        case .stopped: throw OCIFailure("exec \(o.id): the container is not running")
        }
        let (config, _) = try readBundle(c.bundle)
        var spec: SandboxSpec
        do throws(UsageError) {
            if let file = o.processFile {
                let text: String
                do throws(SysError) {
                    let fd = try Files.open(file, O_RDONLY)
                    defer { Files.close(fd) }
                    text = String(decoding: try Files.readAll(fd, limit: 16 << 20), as: UTF8.self)
                } catch {
                    throw UsageError(SysError("open", file, errno: error.errno, hint: "exec --process: the process.json").description)
                }
                spec = try OCIConfig.execProcess(text, file: file, container: config.spec)
            } else {
                spec = try OCIConfig.execProcess(o, container: config.spec)
            }
        } catch {
            throw OCIFailure("exec \(o.id): \(error.message)")
        }
        spec.verbose = global.debug
        spec.terms = OCIConfig.terms
        spec.process.preservedDescriptors = o.preservedDescriptors
        // --tty with a --process file (podman sends both): a terminal, as the file may say too.
        if o.tty, spec.process.console == nil { spec.process.console = ConsoleRequest(socket: -1) }
        try connectConsole(&spec, socket: o.consoleSocket, command: "exec")
        let target = try commandProcess(c, for: "exec")
        // The process exec starts is in the container's cgroup, as runc puts it (limits count it).
        do { try CgroupPlacement.join(paths: c.cgroups, pid: 0) } catch { throw OCIFailure("exec \(o.id): \(error)") }
        // The pid file's directory, opened now: the pid is written once the process has
        // started, from inside the container's root, where the path means nothing.
        var pidDirectory: (fd: Int32, name: String)?
        if let file = o.pidFile {
            let slash = file.lastIndex(of: "/")
            let dir = slash.map { file[..<$0].isEmpty ? "/" : String(file[..<$0]) } ?? "."
            let name = slash.map { String(file[file.index(after: $0)...]) } ?? file
            do { pidDirectory = (try Files.open(dir, O_PATH | O_DIRECTORY), name) } catch {
                throw OCIFailure(SysError("open", dir, errno: error.errno, hint: "the directory of the --pid-file"))
            }
        }
        defer { if let d = pidDirectory { Files.close(d.fd) } }
        let outcome = NamespaceEngine.exec(spec, joining: target, detached: o.detach) { pid in
            guard let d = pidDirectory else { return nil }
            do throws(SysError) { try Files.replaceFile(d.name, at: d.fd, with: "\(pid)") } catch {
                return Failure(SysError("write pid file", o.pidFile ?? d.name, errno: error.errno).description, status: 1)
            }
            return nil
        }
        switch outcome {
        case .exited(let status): return status
        case .failed(let message, let status):
            throw OCIFailure("exec \(o.id): \(message)", status: status == 126 || status == 127 ? status : 1)
        }
    }

    /// The container's command (the first child of Burrow's init), once it runs in the
    /// container's root: right after `start` it may still be the set-up, which enters the
    /// root and execs in a moment (its namespaces cannot be opened before, nor its root be
    /// other than the host's). Waits up to 5 s for that.
    static func commandProcess(_ c: Container, for sub: String) throws(OCIFailure) -> pid_t {
        let hostRoot = try? Files.stat("/", at: AT_FDCWD, follow: true)
        for _ in 0..<500 {
            guard c.status != .stopped else { break }
            if let command = firstChild(of: c.pid), Glibc.access("/proc/\(command)/ns/mnt", R_OK) == 0 {
                if let root = try? Files.stat("/proc/\(command)/root/", at: AT_FDCWD, follow: true),
                   root.st_dev != hostRoot?.st_dev || root.st_ino != hostRoot?.st_ino {
                    return command
                }
            }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
        }
        throw OCIFailure("\(sub) \(c.id): the container's command was not found running in its root (has it ended?)")
    }

    /// The oldest living child of Burrow's init: the set-up that became the command.
    /// (Orphans the init adopts come later.)
    static func firstChild(of initPid: pid_t) -> pid_t? {
        let table = processTable()
        let candidates = (table.children[initPid] ?? []).compactMap { pid -> (pid_t, UInt64)? in
            guard let fields = statFields(pid), fields.first != "Z", fields.count > 19, let start = UInt64(fields[19]) else { return nil }
            return (pid, start)
        }
        return candidates.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    /// runc's ps: the container's processes, as this PID namespace numbers them (a JSON
    /// array of pids, or a table with their commands). Burrow's init is one of them (PID 1
    /// inside with a PID namespace), and so are processes `exec` started.
    static func ps(_ id: String, json: Bool) throws(OCIFailure) {
        let c = try Container.load(id, root: stateRoot)
        guard c.status != .stopped else { throw OCIFailure("ps \(id): the container is not running") }
        let pids = containerProcesses(of: c, includingInit: true).sorted()
        if json {
            print(JSON.array(pids.map { .int($0) }).text)
            return
        }
        print("PID      COMMAND")
        for pid in pids {
            let bytes: [UInt8] = Files.readHead("/proc/\(pid)/cmdline", count: 4096) ?? []
            let argv: [String] = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let name: String = argv.isEmpty ? "[" + (statName(pid) ?? "?") + "]" : argv.joined(separator: " ")
            let number = String(pid)
            print(number + String(repeating: " ", count: max(1, 9 - number.count)) + name)
        }
    }

    // MARK: pause, resume

    /// runc's pause and resume, with cgroup v2's freezer (cgroup.freeze), else cgroup v1's
    /// (freezer.state). It freezes the cgroup v2 the container runs in only when that holds
    /// the container's processes and nothing else (its own from linux.cgroupsPath, or one the
    /// caller started it in, delegated); where there is none (a v1 or hybrid host), the v1
    /// freezer cgroup create made for it (as root, with linux.cgroupsPath or limits), under
    /// the same rule; it refuses otherwise, as rootless runc fails without a delegated
    /// cgroup. The state says "paused" while the cgroup is frozen.
    static func freeze(_ id: String, _ on: Bool) throws(OCIFailure) {
        let sub = on ? "pause" : "resume"
        var c = try Container.load(id, root: stateRoot)
        let status = c.status
        let expected: Container.Status = on ? .running : .paused
        guard status == expected else { throw OCIFailure("\(sub) \(id): the container is \(status.rawValue), not \(expected.rawValue)") }
        let dir: String
        if on {
            do { dir = try ownCgroup(c) } catch {
                guard let freezer = try ownFreezer(c) else { throw error }
                dir = freezer
            }
        } else {
            dir = c.cgroup ?? ""
        }
        let freezer = Freezer(dir)
        do { try freezer.set(frozen: on) } catch {
            var e = error
            if e.errno == .permissionDenied { e.hint = "the cgroup is not delegated to you (rootless runc cannot pause without a delegated cgroup either)" }
            throw OCIFailure(e)
        }
        // Frozen (or thawed) once the cgroup says so.
        var settled = false
        for _ in 0..<500 {
            if freezer.isFrozen == on { settled = true; break }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
        }
        if !settled { throw OCIFailure("\(sub) \(id): \(dir)/\(freezer.settledFile) did not say \(on ? "frozen" : "thawed") within 5 s") }
        if on {
            c.cgroup = dir
            do { try c.save(in: stateRoot + "/" + id) } catch {
                thaw(c)
                throw OCIFailure(error)
            }
        }
    }

    /// Thaws a paused container (delete --force), so that nothing of it stays frozen.
    static func thaw(_ c: Container) {
        if let dir = c.cgroup { try? Freezer(dir).set(frozen: false) }
    }

    /// A cgroup's freezer: cgroup v2's `cgroup.freeze` (1 or 0, settled when `cgroup.events`
    /// says `frozen 1` or `frozen 0`), or cgroup v1's `freezer.state` (FROZEN or THAWED, which
    /// reads FREEZING until every task is stopped).
    struct Freezer {
        let dir: String
        let v1: Bool

        init(_ dir: String) {
            self.dir = dir
            v1 = access(dir + "/freezer.state", F_OK) == 0
        }

        var file: String { v1 ? "freezer.state" : "cgroup.freeze" }
        var settledFile: String { v1 ? "freezer.state" : "cgroup.events" }

        /// Asks for it frozen or thawed (settled later: `isFrozen`).
        func set(frozen: Bool) throws(SysError) {
            let value = v1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0")
            do { try Files.writeFile(dir + "/" + file, value) } catch {
                throw SysError("write \(value) to", dir + "/" + file, errno: error.errno)
            }
        }

        /// Whether it is frozen now (nil: neither frozen nor thawed yet, or unreadable).
        var isFrozen: Bool? {
            let text = String(decoding: Files.readHead(dir + "/" + settledFile, count: 256) ?? [], as: UTF8.self)
            if v1 {
                switch text.split(separator: "\n").first ?? "" {
                case "FROZEN": return true
                case "THAWED": return false
                default: return nil
                }
            }
            let lines = text.split(separator: "\n")
            if lines.contains("frozen 1") { return true }
            if lines.contains("frozen 0") { return false }
            return nil
        }

        /// What it was asked to be: frozen since a pause (v2's cgroup.freeze says 1; v1's
        /// freezer.state says FREEZING or FROZEN).
        var isPaused: Bool {
            guard let bytes = Files.readHead(dir + "/" + file, count: 16) else { return false }
            return v1 ? bytes.starts(with: Array("FR".utf8)) : bytes.first == UInt8(ascii: "1")
        }
    }

    /// cgroup v1: the freezer cgroup create made for the container, when it holds the
    /// container's processes alone (nil where it has none: not root, no freezer mounted,
    /// no cgroup of its own).
    static func ownFreezer(_ c: Container) throws(OCIFailure) -> String? {
        guard let dir = c.cgroups.first(where: { access($0 + "/freezer.state", F_OK) == 0 }) else { return nil }
        try requireOwn(c, dir)
        return dir
    }

    /// The cgroup v2 directory the container runs in, when it is the container's alone.
    static func ownCgroup(_ c: Container) throws(OCIFailure) -> String {
        guard let mount = cgroup2Mount() else {
            throw OCIFailure("pause \(c.id): no cgroup v2 hierarchy is mounted, and the container has no cgroup v1 freezer of its own: burrow-oci freezes a cgroup v2 that holds the container alone, or on cgroup v1 the freezer cgroup create makes as root for a container with linux.cgroupsPath")
        }
        let lines = String(decoding: Files.readHead("/proc/\(c.pid)/cgroup", count: 4096) ?? [], as: UTF8.self).split(separator: "\n")
        guard let line = lines.first(where: { $0.hasPrefix("0::") }) else {
            throw OCIFailure("pause \(c.id): the container is in no cgroup v2 (/proc/\(c.pid)/cgroup has no 0:: line)")
        }
        let path = String(line.dropFirst(3))
        let notOwn = "burrow-oci freezes a cgroup v2 that holds the container alone: give it linux.cgroupsPath on a cgroup v2 host, or start it in a cgroup that holds nothing else, delegated to you (systemd-run --user --scope, say); on a cgroup v1 or hybrid host, root's container with linux.cgroupsPath gets a v1 freezer cgroup of its own"
        guard path != "/" else { throw OCIFailure("pause \(c.id): the container runs in the root cgroup, which cannot be frozen: \(notOwn)") }
        let dir = mount + path
        try requireOwn(c, dir, notOwn: notOwn)
        return dir
    }

    /// Every process the freeze of `dir` would stop, below it too, must be the container's.
    static func requireOwn(_ c: Container, _ dir: String, notOwn: String = "") throws(OCIFailure) {
        var members: [pid_t] = []
        var queue = [dir]
        while let d = queue.popLast() {
            let procs = String(decoding: Files.readHead(d + "/cgroup.procs", count: 1 << 20) ?? [], as: UTF8.self)
            members += procs.split(separator: "\n").compactMap { pid_t($0) }
            for name in Files.entries(d) {
                if let st = try? Files.stat(d + "/" + name, at: AT_FDCWD), st.st_mode & S_IFMT == S_IFDIR { queue.append(d + "/" + name) }
            }
        }
        // (The cleaner, the supervisor's other child, is in the cgroup too.)
        // (containerProcesses has the init's descendants already: its own walk of /proc.)
        let ours = Set(containerProcesses(of: c, includingInit: true) + [c.pid] + [c.cleaner].compactMap { $0 })
        // (cgroup.procs was read first: a process listed there and gone by now, a short-lived
        // child of the command, is not another's.)
        let others = members.filter { !ours.contains($0) && statFields($0) != nil }
        guard others.isEmpty else {
            let shown = others.prefix(3).map { "\($0) (\(statName($0) ?? "?"))" }.joined(separator: ", ")
            throw OCIFailure("pause \(c.id): its cgroup \(dir) holds other processes too (\(shown)\(others.count > 3 ? ", ..." : "")), which a freeze would stop as well\(notOwn.isEmpty ? "" : ": " + notOwn)")
        }
    }

    /// Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host).
    static func cgroup2Mount() -> String? {
        let text = String(decoding: Files.readHead("/proc/self/mountinfo", count: 1 << 20) ?? [], as: UTF8.self)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2", fields.count > 4,
                  fields[3] == "/" else { continue }
            return String(fields[4])
        }
        return nil
    }

    // MARK: update

    /// runc's update: new limits for the container's own cgroup (the one create made, or
    /// its cgroupsPath), written with create's writers, the rest as they are. A container
    /// without a cgroup of its own, a limit this host's cgroup version cannot express, and
    /// one burrow-oci does not write at all are refused by name.
    static func update(_ o: OCIUpdateOptions) throws(OCIFailure) {
        var c = try Container.load(o.id, root: stateRoot)
        guard c.status != .stopped else { throw OCIFailure("update \(o.id): the container is not running") }
        guard !c.cgroups.isEmpty else {
            throw OCIFailure("update \(o.id): the container has no cgroup of its own (its config.json has neither linux.cgroupsPath nor limits in linux.resources, so create made none), and the cgroup it runs in is not its to change: give it a linux.cgroupsPath")
        }
        var changes = o.limits
        var warnings = o.warnings
        if let file = o.resourcesFile {
            let what = "update --resources \(file)"
            let text: String
            do throws(SysError) {
                let fd = file == "-" ? 0 : try Files.open(file, O_RDONLY)
                defer { if fd != 0 { Files.close(fd) } }
                text = String(decoding: try Files.readAll(fd, limit: 16 << 20), as: UTF8.self)
            } catch {
                throw OCIFailure(SysError(file == "-" ? "read" : "open", file == "-" ? "standard input" : file, errno: error.errno,
                                          hint: "update --resources: the linux.resources object").description)
            }
            do throws(UsageError) { (changes, warnings) = try OCIConfig.resources(text, file: what) } catch {
                throw OCIFailure(error.message)
            }
        }
        for warning in warnings { report(warning, level: "warning") }
        let placement: CgroupPlacement
        do { placement = try CgroupPlacement.recorded(c.cgroups) } catch { throw OCIFailure("update \(o.id): \(error)") }
        let (limits, changed) = c.limits.updated(with: changes)
        let writes: [CgroupWrite]
        do { writes = try limits.updateWrites(placement.version, changed: changed, memoryLimitNow: placement.memoryLimitNow) } catch {
            throw OCIFailure("update \(o.id): \(error.message) (this host's cgroups are \(placement.version == .v1 ? "v1" : "v2"))")
        }
        do { try placement.update(writes, asked: changes.names) } catch { throw OCIFailure("update \(o.id): \(error)") }
        c.limits = limits
        do { try c.save(in: stateRoot + "/" + o.id) } catch { throw OCIFailure(error) }
    }

    // MARK: kill, delete, list

    static func kill(_ id: String, signal: Int32, all: Bool) throws(OCIFailure) {
        let c = try Container.load(id, root: stateRoot)
        guard c.status != .stopped else { throw OCIFailure("kill \(id): the container is not running") }
        let forwarded = signal == SIGKILL || Signals.forwarded.contains(signal)
        if all {
            // Each process of the container once (the init would pass it on again); KILL
            // ends the init too.
            for pid in containerProcesses(of: c) { Proc.kill(pid, signal) }
            if signal == SIGKILL { Proc.kill(c.pid, signal) }
            return
        }
        guard forwarded else {
            throw OCIFailure("kill \(id) \(Signal.name(signal)): burrow-oci passes on HUP, INT, QUIT, TERM, USR1, USR2, PIPE, ALRM and WINCH to the container's command, and KILL ends the container; use --all to send other signals to every process of the container")
        }
        Proc.kill(c.pid, signal)
    }

    static func delete(_ id: String, force: Bool) throws(OCIFailure) {
        let dir = stateRoot + "/" + id
        let c: Container
        do throws(OCIFailure) { c = try Container.load(id, root: stateRoot) } catch {
            // As runc: --force removes what a create cut short left, and is content when
            // there is nothing.
            guard force else { throw error }
            if (try? OCICommandLine.checkedID(id)) != nil { removeState(dir) }
            return
        }
        if (c.status == .running || c.status == .paused) && !force {
            throw OCIFailure("delete \(id): the container is \(c.status.rawValue): stop it first, or use delete --force")
        }
        if c.status != .stopped {
            if c.isPaused { thaw(c) }
            // (Processes exec started are not the init's: without a PID namespace they
            // would outlive it.)
            kill(c)
        } else if let cleaner = c.cleaner, isAlive(cleaner, start: c.cleanerStart) {
            waitGone(cleaner)
        }
        // The state stays while the cgroup cannot be removed, so that delete can be tried again.
        do { try removeCgroup(of: c) } catch { throw OCIFailure("delete \(id): \(error)") }
        // Once the container is gone, before delete returns; a failure is a warning.
        if let failure = runHooks(.poststop, of: c, status: "stopped") { report("delete \(id): \(failure)", level: "warning") }
        removeState(dir)
    }

    /// The cgroup create made (also after a kill -9 of the supervisor, which leaves it
    /// empty), removed. What is still in it (what exec started without a PID namespace,
    /// after the command ended on its own) is the container's: ended first, as runc's delete
    /// ends what is left in its cgroup. (A cgroup that was there before may hold others'.)
    static func removeCgroup(of c: Container) throws(SysError) {
        let left = CgroupPlacement.processes(in: c.cgroups.filter { c.cgroupsCreated.contains($0) })
        for pid in left { Proc.kill(pid, SIGKILL) }
        for pid in left { waitGone(pid) }
        try CgroupPlacement.remove(c.cgroupsCreated)
    }

    static func list(json: Bool, quiet: Bool) {
        let root = stateRoot
        var containers: [Container] = []
        for name in Files.entries(root) where !name.hasPrefix(".") {
            if let c = try? Container.load(name, root: root) { containers.append(c) }
        }
        containers.sort { $0.id < $1.id }
        if quiet {
            for c in containers { print(c.id) }
        } else if json {
            print(JSON.array(containers.map {
                OCICommandLine.state(id: $0.id, status: $0.status.rawValue, pid: $0.pid, bundle: $0.bundle, annotations: $0.annotations)
            }).text)
        } else {
            let rows = [["ID", "PID", "STATUS", "BUNDLE"]] + containers.map { [$0.id, String($0.status == .stopped ? 0 : $0.pid), $0.status.rawValue, $0.bundle] }
            let widths = (0..<3).map { col in rows.map { $0[col].count }.max() ?? 0 }
            for row in rows {
                var line = ""
                for col in 0..<3 { line += row[col] + String(repeating: " ", count: widths[col] - row[col].count + 3) }
                print(line + row[3])
            }
        }
    }

    static func writeSpec(bundle: String, rootless: Bool) throws(OCIFailure) {
        let path = bundle + "/config.json"
        let fd: Int32
        do { fd = try Files.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644) } catch {
            throw OCIFailure(error.errno == .fileExists ? "spec: \(path) exists already: remove it first" : error.description)
        }
        defer { Files.close(fd) }
        do { try Files.writeAll(fd, Array((OCICommandLine.defaultConfig(rootless: rootless).indentedText + "\n").utf8), what: path) } catch {
            throw OCIFailure(error)
        }
    }

    // MARK: the bundle and the state directory

    static func readBundle(_ given: String) throws(OCIFailure) -> (OCIConfig, String) {
        var bundle = given
        if !bundle.hasPrefix("/") {
            guard let cwd = Files.workingDirectory() else { throw OCIFailure(SysError.last("getcwd")) }
            bundle = bundle == "." ? cwd : cwd + "/" + bundle
        }
        let path = bundle + "/config.json"
        let text: String
        do throws(SysError) {
            let fd = try Files.open(path, O_RDONLY | O_CLOEXEC)
            defer { Files.close(fd) }
            text = String(decoding: try Files.readAll(fd, limit: 16 << 20), as: UTF8.self)
        } catch {
            throw OCIFailure(error)
        }
        do throws(UsageError) {
            // Root without a user namespace in the config: as runc, none is made where burrow-oci
            // is root on the host (rootful podman, containerd, a Kubernetes node): the
            // container's root is root, its capabilities count over the namespaces it joins
            // (a pod's network). In another user namespace (rootless podman's) every id there
            // maps to itself, in a user namespace of Burrow's around the container.
            let ownUids = identityMap("/proc/self/uid_map")
            let hostRoot = getuid() == 0 && ownUids == [IDMap(inside: 0, outside: 0, count: UInt32.max)]
            var config = try OCIConfig.parse(text, bundle: bundle, callerIsHostRoot: hostRoot)
            if getuid() == 0, !hostRoot, !config.userNamespace, config.spec.identity.uidMap.isEmpty, config.spec.identity.gidMap.isEmpty {
                config.spec.identity.uidMap = ownUids
                config.spec.identity.gidMap = identityMap("/proc/self/gid_map")
            }
            return (config, bundle)
        } catch {
            throw OCIFailure("\(path): " + error.message.replacingPrefix("config.json: "))
        }
    }

    /// Every id of this user namespace mapped to itself, from its own map (`0 0 4294967295`
    /// in the initial one).
    static func identityMap(_ file: String) -> [IDMap] {
        guard let bytes = Files.readHead(file, count: 4096) else { return [IDMap(inside: 0, outside: 0, count: UInt32.max)] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count == 3, let inside = UInt32(f[0]), let count = UInt32(f[2]) else { return nil }
            return IDMap(inside: inside, outside: inside, count: count)
        }
    }

    /// `<root>/<id>`, new: an existing one means the ID is taken.
    static func makeStateDirectory(_ id: String) throws(OCIFailure) -> String {
        let root = stateRoot
        // As `mkdir -p`, as runc makes its --root.
        var path = ""
        for part in root.split(separator: "/", omittingEmptySubsequences: true) {
            path += "/" + part
            do { try Files.mkdir(path, at: AT_FDCWD, mode: 0o700) } catch where error.errno != .fileExists {
                throw OCIFailure(SysError("mkdir", path, errno: error.errno, hint: "the state directory (--root) must be creatable"))
            } catch {}
        }
        let dir = root + "/" + id
        do { try Files.mkdir(dir, at: AT_FDCWD, mode: 0o700) } catch {
            throw OCIFailure(error.errno == .fileExists ? "container \(id) exists already (burrow-oci delete \(id) removes it)" : error.description)
        }
        return dir
    }

    static func removeState(_ dir: String) {
        for name in ["exec.fifo", "state.json", "state.json.new"] { _ = try? Files.unlink(dir + "/" + name, at: AT_FDCWD, directory: false) }
        _ = try? Files.unlink(dir, at: AT_FDCWD, directory: true)
    }

    static func writePidFile(_ path: String, _ pid: pid_t) throws(OCIFailure) {
        let fd: Int32
        do { fd = try Files.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) } catch {
            throw OCIFailure(SysError("open", path, errno: error.errno, hint: "the --pid-file"))
        }
        defer { Files.close(fd) }
        do { try Files.writeAll(fd, Array("\(pid)".utf8), what: path) } catch { throw OCIFailure(error) }
    }

    // MARK: processes

    /// Field 22 of /proc/PID/stat: tells the supervisor from a later process with its pid.
    static func startTime(of pid: pid_t) -> UInt64? {
        statFields(pid).flatMap { $0.count > 19 ? UInt64($0[19]) : nil }
    }

    /// The fields of /proc/PID/stat after the command's name (the state is the first).
    static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let bytes = Files.readHead("/proc/\(pid)/stat", count: 1024) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Alive: neither a zombie nor exiting. A PID 1 that has exited stays in its exit until
    /// every process of its namespace is reaped, which for one that `exec` started (whose
    /// parent is outside) is up to whoever adopted it: the container has stopped then.
    static func isAlive(_ pid: pid_t, start: UInt64) -> Bool {
        guard let fields = statFields(pid), fields.first != "Z", fields.count > 19 else { return false }
        if let flags = UInt32(fields[6]), flags & exitingFlag != 0 { return false }
        return start == 0 || UInt64(fields[19]) == start
    }

    /// PF_EXITING in the flags of /proc/PID/stat (field 9).
    static let exitingFlag: UInt32 = 0x4

    /// Every process's parent, from /proc.
    static func processTable() -> (children: [pid_t: [pid_t]], all: [pid_t]) {
        var children: [pid_t: [pid_t]] = [:]
        var all: [pid_t] = []
        for name in Files.entries("/proc") {
            guard let pid = pid_t(name), let fields = statFields(pid), fields.count > 1, let parent = pid_t(fields[1]) else { continue }
            children[parent, default: []].append(pid)
            all.append(pid)
        }
        return (children, all)
    }

    /// The processes of container `c`: its init's living descendants, and the processes
    /// `exec` started, which are not, found by their mount namespace (one of the
    /// descendants', never this process's own; not where the container joined a mount
    /// namespace, whose other processes are not the container's). `includingInit`: Burrow's
    /// init too; left out for signals, which the init would pass on to the command a second
    /// time.
    static func containerProcesses(of c: Container, includingInit: Bool = false) -> [pid_t] {
        let initPid = c.pid
        let table = processTable()
        var out: [pid_t] = []
        var queue = table.children[initPid] ?? []
        while let pid = queue.popLast() {
            queue += table.children[pid] ?? []
            if statFields(pid)?.first != "Z" { out.append(pid) }
        }
        let ownMounts = try? Files.readlink("/proc/self/ns/mnt", at: AT_FDCWD)
        let mountNamespaces = Set(out.compactMap { try? Files.readlink("/proc/\($0)/ns/mnt", at: AT_FDCWD) }).subtracting([ownMounts].compactMap { $0 })
        if !mountNamespaces.isEmpty, !c.joinedMountNamespace {
            let found = Set(out)
            for pid in table.all where !found.contains(pid) && pid != initPid && statFields(pid)?.first != "Z" {
                if let ns = try? Files.readlink("/proc/\(pid)/ns/mnt", at: AT_FDCWD), mountNamespaces.contains(ns) { out.append(pid) }
            }
        }
        return includingInit && isAlive(initPid, start: 0) ? [initPid] + out : out
    }

    /// The command's name in /proc/PID/stat (for a process without arguments).
    static func statName(_ pid: pid_t) -> String? {
        guard let bytes = Files.readHead("/proc/\(pid)/stat", count: 1024) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    /// Waits (up to 10 s) until `pid` has gone (or is a zombie someone else will reap).
    static func waitGone(_ pid: pid_t) {
        for _ in 0..<1000 {
            guard let fields = statFields(pid), fields.first != "Z" else { return }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
        }
    }

    static func timestamp() -> String {
        var now = time(nil)
        var t = tm()
        gmtime_r(&now, &t)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
    }
}

/// One container's state file.
struct Container {
    enum Status: String { case created, running, paused, stopped }

    var id: String
    /// The container's init once its supervisor handed it over (the supervisor before).
    var pid: pid_t
    var pidStart: UInt64
    /// The cleaner of what the set-up made in host directories, if it needed one: it
    /// outlives the container a moment, and delete waits for it.
    var cleaner: pid_t?
    var cleanerStart: UInt64 = 0
    /// The container joined a mount namespace (others' processes are in it too).
    var joinedMountNamespace = false
    var bundle: String
    var annotations: [(String, String)]
    /// The cgroup (v2) directory `pause` froze, kept for `resume` and `state`.
    var cgroup: String?
    /// The container's own cgroup (linux.cgroupsPath, linux.resources): its directory in
    /// each hierarchy, and those create made (removed by delete).
    var cgroups: [String] = []
    var cgroupsCreated: [String] = []
    /// The limits in force there (linux.resources' pids, memory and cpu, as create wrote
    /// them and update changed them): an update of one of two settings that share a file
    /// (v2's cpu.max) writes the other as it is.
    var limits = CgroupLimits()
    /// config.json's hooks as `create` read them: `start` and `delete` run these, whatever
    /// config.json says by then (the runtime-spec: later changes must not affect the container).
    var hooks = OCIHooks()

    var status: Status {
        guard OCIRuntime.isAlive(pid, start: pidStart) else { return .stopped }
        if access(OCIRuntime.stateRoot + "/" + id + "/exec.fifo", F_OK) == 0 { return .created }
        return isPaused ? .paused : .running
    }

    /// Frozen, as the cgroup says (not as burrow-oci remembers).
    var isPaused: Bool {
        guard let cgroup else { return false }
        return OCIRuntime.Freezer(cgroup).isPaused
    }

    var json: JSON {
        var members: [(String, JSON)] = [("id", .string(id)), ("pid", .int(pid)), ("pidStart", .number(String(pidStart))),
                                         ("bundle", .string(bundle)), ("annotations", .object(annotations.map { ($0.0, .string($0.1)) }))]
        if let cleaner { members += [("cleaner", .int(cleaner)), ("cleanerStart", .number(String(cleanerStart)))] }
        if joinedMountNamespace { members.append(("joinedMountNamespace", .bool(true))) }
        if let cgroup { members.append(("cgroup", .string(cgroup))) }
        if !cgroups.isEmpty { members.append(("cgroups", .array(cgroups.map { .string($0) }))) }
        if !cgroupsCreated.isEmpty { members.append(("cgroupsCreated", .array(cgroupsCreated.map { .string($0) }))) }
        if !limits.isEmpty { members.append(("resources", OCIConfig.resourcesJSON(limits))) }
        if !hooks.isEmpty { members.append(("hooks", hooks.json)) }
        return .object(members)
    }

    /// Written whole to a new file, then renamed over the old one.
    func save(in dir: String) throws(SysError) {
        let new = dir + "/state.json.new"
        let fd = try Files.open(new, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600)
        defer { Files.close(fd) }
        try Files.writeAll(fd, Array(json.text.utf8), what: new)
        guard rename(new, dir + "/state.json") == 0 else { throw SysError.last("rename", new) }
    }

    static func load(_ id: String, root: String) throws(OCIRuntime.OCIFailure) -> Container {
        do throws(UsageError) { _ = try OCICommandLine.checkedID(id) } catch { throw OCIRuntime.OCIFailure(error.message) }
        let path = root + "/" + id + "/state.json"
        guard let bytes = try? { () throws(SysError) -> [UInt8] in
            let fd = try Files.open(path, O_RDONLY | O_CLOEXEC)
            defer { Files.close(fd) }
            return try Files.readAll(fd)
        }() else {
            throw OCIRuntime.OCIFailure("container \(id) does not exist (no \(path))")
        }
        guard let json = try? JSON.parse(String(decoding: bytes, as: UTF8.self)),
              case .string(let bundle)? = json["bundle"], let pid = json["pid"]?.integer, let start = json["pidStart"]?.integer
        else { throw OCIRuntime.OCIFailure("\(path): not a state file of burrow-oci's") }
        var annotations: [(String, String)] = []
        if case .object(let members)? = json["annotations"] {
            for (k, v) in members { if case .string(let s) = v { annotations.append((k, s)) } }
        }
        var c = Container(id: id, pid: pid_t(truncatingIfNeeded: pid), pidStart: UInt64(truncatingIfNeeded: start), bundle: bundle,
                          annotations: annotations)
        if case .bool(true)? = json["joinedMountNamespace"] { c.joinedMountNamespace = true }
        if let cleaner = json["cleaner"]?.integer {
            c.cleaner = pid_t(truncatingIfNeeded: cleaner)
            c.cleanerStart = UInt64(truncatingIfNeeded: json["cleanerStart"]?.integer ?? 0)
        }
        if case .string(let cgroup)? = json["cgroup"] { c.cgroup = cgroup }
        for (key, path) in [("cgroups", \Container.cgroups), ("cgroupsCreated", \Container.cgroupsCreated)] {
            if case .array(let items)? = json[key] {
                c[keyPath: path] = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            }
        }
        if let hooks = json["hooks"] {
            do throws(UsageError) { c.hooks = try OCIHooks.parse(hooks, file: path) } catch { throw OCIRuntime.OCIFailure(error.message) }
        }
        if let resources = json["resources"] {
            do throws(UsageError) { c.limits = try OCIConfig.resources(resources, file: path).limits } catch {
                throw OCIRuntime.OCIFailure(error.message)
            }
        }
        return c
    }
}

extension String {
    func replacingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
