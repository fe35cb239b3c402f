import BurrowSandbox

/// `proot [option] ... [command]`, as PRoot's manual (proot(1)) describes it, realised by
/// any of Burrow's engines. The command starts at the first word that is not an option and
/// defaults to /bin/sh; the rootfs defaults to `/`.
///
/// Where Burrow differs from PRoot (README "Compatibility"): binds follow the same rules
/// but are real mounts on the namespace engine; a guest killed by a signal gives 128+N
/// where PRoot says 255.
public enum PRootCommandLine {
    /// The PRoot release whose command line this follows.
    public static let compatibleWith = "5.1.0"

    struct State {
        var rootfs = "/"
        /// Binds in command-line order; sorted by depth at the end (the deepest wins, as in
        /// PRoot, whatever the order they were given in).
        var binds: [BindMount] = []
        /// As given: relative paths are resolved against the default working directory.
        var cwd: String?
        var verbosity = 0
        var identity: (uid: UInt32, gid: UInt32?)?
        var uname: FakeUname?
        var qemu: [String]?
        var ports: [UInt16: UInt16] = [:]
        var killOnExit = false
        var stop: Invocation?
    }

    struct Option: Sendable {
        var names: [String]
        var metavar: String?
        var help: String
        var apply: @Sendable (inout State, String, String, HostFacts) throws(UsageError) -> Void
    }

    static let table: [Option] = [
        Option(names: ["-r", "--rootfs"], metavar: "path",
               help: "Use *path* as the new guest root file-system, default is /.") { s, v, o, host throws(UsageError) in
            s.rootfs = try absolute(v, option: o, host: host)
        },
        Option(names: ["-b", "--bind", "-m", "--mount"], metavar: "path",
               help: "Make the content of *path* accessible in the guest rootfs: *host_path*[:*guest_location*][!] (a final ! binds over a guest symlink instead of its target).") { s, v, o, host throws(UsageError) in
            let b = try bind(v, option: o, host: host)
            // PRoot's rootfs is the binding of `/`: the later of -r and -b X:/ wins.
            if b.destination.isRoot { s.rootfs = b.source.string } else { s.binds.append(b) }
        },
        Option(names: ["-q", "--qemu"], metavar: "command",
               help: "Execute guest programs through QEMU as specified by *command*; the host rootfs appears at /host-rootfs.") { s, v, o, _ throws(UsageError) in
            let words = v.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !words.isEmpty else { throw UsageError("\(o): the QEMU command is empty") }
            s.qemu = words
        },
        Option(names: ["-w", "--pwd", "--cwd"], metavar: "path",
               help: "Set the initial working directory to *path*, relative to the default one: the current directory (/ when the guest lacks it, as for *path*).") { s, v, o, _ throws(UsageError) in
            guard !v.isEmpty else { throw UsageError("\(o): the path is empty") }
            s.cwd = v
        },
        Option(names: ["--kill-on-exit"], metavar: nil,
               help: "Kill all processes on command exit (else proot waits for every process of the guest).") { s, _, _, _ in
            s.killOnExit = true
        },
        Option(names: ["-v", "--verbose"], metavar: "value",
               help: "Set the level of debug information to *value* (1 or more: each setup step on stderr).") { s, v, o, _ throws(UsageError) in
            guard let level = Int(v) else { throw UsageError("\(o): '\(v)' is not an integer") }
            s.verbosity = level
        },
        Option(names: ["-V", "--version", "--about"], metavar: nil,
               help: "Print version, then exit.") { s, _, _, _ in s.stop = .version },
        Option(names: ["-h", "--help", "--usage"], metavar: nil,
               help: "Print the version and the command-line usage, then exit.") { s, _, _, _ in s.stop = .help },
        Option(names: ["-k", "--kernel-release"], metavar: "string",
               help: "Make current kernel appear as kernel release *string* (uname and /proc/sys/kernel/osrelease); \\sysname\\nodename\\release\\version\\machine\\domainname\\hwcap\\ sets every field.") { s, v, o, _ throws(UsageError) in
            // A release longer than uname's 64 bytes is cut, as PRoot cuts it.
            var release = v
            if !v.hasPrefix("\\") {
                release = String(decoding: Array(v.utf8.prefix(FakeUname.fieldLength - 1)), as: UTF8.self)
                while release.utf8.count > FakeUname.fieldLength - 1 { release.removeLast() }
            }
            do throws(FakeUname.ParseError) { s.uname = try FakeUname(parsing: release) } catch { throw UsageError("\(o): \(error.message)") }
        },
        Option(names: ["-0", "--root-id"], metavar: nil,
               help: "Make current user appear as \"root\".") { s, _, _, _ in s.identity = (0, 0) },
        Option(names: ["-i", "--change-id"], metavar: "string",
               help: "Make current user and group appear as *string* \"uid:gid\" (a lone uid keeps the current group).") { s, v, o, _ throws(UsageError) in
            let parts = v.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw UsageError("\(o): '\(v)' is not uid:gid") }
            s.identity = (try Numbers.id(String(parts[0]), option: o),
                          parts.count == 2 ? try Numbers.id(String(parts[1]), option: o) : nil)
        },
        Option(names: ["-p", "--port"], metavar: "string",
               help: "Map ports to others with the syntax as *string* \"port_in:port_out\": a bind or connect to port_in uses port_out (repeatable).") { s, v, o, _ throws(UsageError) in
            let parts = v.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let from = UInt16(parts[0]), let to = UInt16(parts[1]) else {
                throw UsageError("\(o): '\(v)' is not port_in:port_out")
            }
            s.ports[from] = to
        },
        Option(names: ["-R"], metavar: "path",
               help: "Alias: -r *path* + a couple of recommended -b (host users, network setup, /dev, /sys, /proc, /tmp, /run, $HOME).") { s, v, o, host throws(UsageError) in
            s.rootfs = try absolute(v, option: o, host: host)
            s.binds += recommended(recommendedForR, rootfs: s.rootfs, host: host)
        },
        Option(names: ["-S"], metavar: "path",
               help: "Alias: -0 -r *path* + a minimal set of -b, for installing packages into the guest.") { s, v, o, host throws(UsageError) in
            s.rootfs = try absolute(v, option: o, host: host)
            s.identity = (0, 0)
            s.binds += recommended(recommendedForS, rootfs: s.rootfs, host: host)
        },
    ]

    /// The paths -R binds, from PRoot's manual; "$HOME" and the rootfs itself are added.
    static let recommendedForR = [
        "/etc/host.conf", "/etc/hosts", "/etc/hosts.equiv", "/etc/mtab", "/etc/netgroup", "/etc/networks",
        "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/resolv.conf", "/etc/localtime", "/dev/", "/sys/",
        "/proc/", "/tmp/", "/run/", "/var/run/dbus/system_bus_socket",
    ]
    /// The minimal set -S binds: nothing a package would update.
    static let recommendedForS = [
        "/etc/host.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf", "/dev/", "/sys/", "/proc/", "/tmp/",
        "/run/shm",
    ]

    public static func parse(_ args: [String], host: HostFacts) throws(UsageError) -> Invocation {
        var state = State()
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { i += 1; break }
            guard arg.hasPrefix("-"), arg != "-" else { break }
            // --name=value, or the name alone with the value in the next word.
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            guard let option = table.first(where: { $0.names.contains(name) }) else {
                if !arg.hasPrefix("--"), arg.count > 2, let short = table.first(where: { $0.names.contains(String(arg.prefix(2))) }),
                   short.metavar != nil
                {
                    throw UsageError("option '\(arg.prefix(2))' and its value must be separated by ' '")
                }
                throw UsageError("unknown option '\(arg)' (Burrow's proot supports the options of PRoot's manual: see --help)")
            }
            var value = ""
            if option.metavar != nil {
                if let inline {
                    value = inline
                } else {
                    guard i + 1 < args.count else { throw UsageError("option '\(name)' expects a value (\(option.metavar!))") }
                    i += 1
                    value = args[i]
                }
            } else if inline != nil {
                throw UsageError("option '\(name)' takes no value")
            }
            try option.apply(&state, value, name, host)
            if let stop = state.stop { return stop }
            i += 1
        }
        return .run(try spec(from: state, command: Array(args[i...]), host: host))
    }

    static func spec(from state: State, command: [String], host: HostFacts) throws(UsageError) -> SandboxSpec {
        var spec = SandboxSpec(root: RootFS(path: HostPath(state.rootfs)))
        spec.operations = state.binds.map { .bind($0) }
        if !command.isEmpty { spec.process.argv = command }
        spec.process.commandLookup = .proot
        spec.process.exportsWorkingDirectory = true
        // The default is the caller's own directory; -w is relative to it. Either way PRoot
        // falls back to / when the guest lacks it.
        let here = host.workingDirectory.flatMap { try? GuestPath(parsing: $0) }
        if let cwd = state.cwd {
            let text = cwd.startsWithSlash ? cwd : (here ?? .root).description + "/" + cwd
            spec.process.chdir = try GuestPath.destination(text, option: "-w")
            spec.process.chdirIsOptional = true
        } else if let here {
            spec.process.chdir = here
            spec.process.chdirIsOptional = true
        }
        if let id = state.identity {
            spec.identity.uid = id.uid
            spec.identity.gid = id.gid
            spec.identity.keepsCallerGroups = true
            spec.identity.appliesModes = true
            // Burrow's addition: where the ptrace engine keeps faked owners between runs.
            if let db = host.environment["BURROW_FAKE_DB"], !db.isEmpty {
                spec.identity.fakeDatabase = HostPath(try absolute(db, option: "BURROW_FAKE_DB", host: host))
            }
        }
        spec.verbose = state.verbosity >= 1
        spec.emulation.uname = state.uname
        spec.emulation.forceOldKernelEmulation = state.uname != nil && host.environment["PROOT_FORCE_KOMPAT"] != nil
        spec.emulation.portMap = state.ports
        if let qemu = state.qemu {
            do throws(Qemu.OptionError) {
                try Qemu.apply(qemu, to: &spec, hostArch: Qemu.hostArchitecture, prootStyle: true,
                               everythingForeign: host.environment["PROOT_FORCE_FOREIGN_BINARY"] != nil)
            } catch {
                throw UsageError("-q: \(error.message)")
            }
        }
        // Shallower binds first: a deeper one is mounted on top and wins, as in PRoot, whatever
        // the order they were given in (QEMU's too). At the same depth the later one wins.
        spec.operations = spec.operations.enumerated().sorted {
            ($0.element.destination.components.count, $0.offset) < ($1.element.destination.components.count, $1.offset)
        }.map(\.element)
        spec.ptraceOnly = ptraceOnly(state)
        if let dir = host.environment["PROOT_TMP_DIR"], !dir.isEmpty {
            spec.temporaryDirectory = HostPath(try absolute(dir, option: "PROOT_TMP_DIR", host: host))
        }
        // PRoot waits for every process of the guest and returns the status of the last one;
        // --kill-on-exit ends them all with the command, whose status it is.
        spec.process.leftovers = state.killOnExit ? .killed : .waitedFor
        spec.process.status = state.killOnExit ? .command : .lastToExit
        do { try spec.validate() } catch { throw UsageError(error.message(in: terms)) }
        return spec
    }

    /// The spec's ideas by PRoot's options, for its errors (`SpecError`).
    public static let terms = SpecTerms([
        .rootfs: "-r", .bindSource: "-b's host path", .bindDestination: "-b's guest path", .workingDirectory: "-w",
        .uid: "-i's uid", .gid: "-i's gid", .rootInside: "-0", .qemu: "-q",
    ])

    /// What of PRoot's own behaviour only the ptrace engine has: `auto` picks it for these
    /// (the namespace engine's mounts, user namespace ids and binfmt_misc differ).
    static func ptraceOnly(_ state: State) -> [String] {
        var reasons: [String] = []
        if let id = state.identity {
            reasons.append("\(id.uid == 0 && id.gid == 0 ? "-0" : "-i"): PRoot fakes the ids (what only root may do succeeds, set-id programs)")
        }
        if state.uname != nil { reasons.append("-k: PRoot fakes uname, hides the vDSO and sets AT_HWCAP") }
        if state.qemu != nil { reasons.append("-q: PRoot starts QEMU at each execve, with its own options") }
        if !state.ports.isEmpty { reasons.append("-p: PRoot changes ports at bind and connect") }
        if state.rootfs != "/", let b = state.binds.first(where: { $0.source.string != $0.destination.description }) {
            reasons.append("-b \(b.source):\(b.destination): PRoot shows the bind's symlinks to itself by their guest paths")
        }
        return reasons
    }

    /// A host path made absolute against the caller's working directory.
    static func absolute(_ path: String, option: String, host: HostFacts) throws(UsageError) -> String {
        guard !path.isEmpty else { throw UsageError("\(option): the path is empty") }
        var made = path
        if !path.startsWithSlash {
            guard let cwd = host.workingDirectory else {
                throw UsageError("\(option): '\(path)' is relative and the current directory is unknown")
            }
            made = cwd == "/" ? "/" + path : cwd + "/" + path
        }
        return try HostPath.argument(made, option: option).string
    }

    /// `host[:guest][!]`. The guest location is the host path when not given; a final `!`
    /// binds over a guest symlink itself. A missing host path is skipped, as PRoot does
    /// (it warns; Burrow says so with -v).
    static func bind(_ text: String, option: String, host: HostFacts) throws(UsageError) -> BindMount {
        // By scalars, as PRoot reads bytes: by Character, U+0600 before '!' or ':', or a
        // combining mark after ':' or '/', would hide them.
        var spec = Substring(text).unicodeScalars
        var follow = true
        if spec.last == "!" {
            follow = false
            spec = spec.dropLast()
        }
        var hostPart = Substring(spec)
        var guestPart: Substring?
        // The guest location is what follows the last ':' if it starts an absolute path.
        if let colon = spec.lastIndex(of: ":"), spec[spec.index(after: colon)...].first == "/" {
            hostPart = Substring(spec[..<colon])
            guestPart = Substring(spec[spec.index(after: colon)...])
        }
        let source = try absolute(String(hostPart), option: option, host: host)
        let guestText = guestPart.map(String.init) ?? source
        let destination = try GuestPath.destination(guestText, option: option)
        var b = BindMount(source: HostPath(normalised(source)), destination: destination, allowDevices: true, optional: true,
                          followDestination: follow)
        b.glue = glue(host)
        return b
    }

    /// PRoot shows a missing destination (and the directories on the way) in the guest,
    /// making it in the rootfs where it can unless PROOT_DONT_POLLUTE_ROOTFS is set.
    static func glue(_ host: HostFacts) -> BindGlue {
        host.environment["PROOT_DONT_POLLUTE_ROOTFS"] != nil ? .always : .whereNotCreatable
    }

    static func recommended(_ list: [String], rootfs: String, host: HostFacts) -> [BindMount] {
        var paths = list
        if let home = host.environment["HOME"], home.startsWithSlash { paths.append(home) }
        if rootfs != "/" { paths.append(rootfs) }
        return paths.compactMap { path in
            let clean = normalised(path)
            guard let guest = try? GuestPath(parsing: clean) else { return nil }
            var bind = BindMount(source: HostPath(clean), destination: guest, allowDevices: true, optional: true)
            // A guest without /etc/netgroup (or $HOME) in a rootfs the caller cannot write to
            // still runs: PRoot fakes such paths, and so does the ptrace engine; the namespace
            // engine leaves them out (-v says so).
            bind.optionalDestination = true
            bind.glue = glue(host)
            return bind
        }
    }

    /// Without trailing slashes (`/dev/` names the directory `/dev`).
    static func normalised(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }

    public static var help: String {
        var text = """
            Usage: proot [option] ... [command]

            Burrow's PRoot-compatible command line (PRoot \(compatibleWith), with
            PRoot 5.4's -p and --kill-on-exit): a chroot, mount --bind and binfmt_misc
            without privilege. The command defaults to /bin/sh, the rootfs to /.
            Engine: auto by default, the first of namespace, setuid and ptrace this
            host allows (burrow --engines says which), and the ptrace engine for what
            only it does as PRoot does (-0, -i, -k, -q, -p, a bind renamed in another
            rootfs, a bind destination the rootfs lacks and cannot get; -v 1 says
            why); BURROW_ENGINE=namespace|ptrace|auto overrides. PROOT_TMP_DIR,
            PROOT_DONT_POLLUTE_ROOTFS, PROOT_FORCE_FOREIGN_BINARY and
            PROOT_FORCE_KOMPAT mean what they mean to PRoot.


            """
        for option in table {
            let names = option.names.map { name in
                guard let m = option.metavar else { return name }
                return name.hasPrefix("--") ? "\(name)=*\(m)*" : "\(name) *\(m)*"
            }
            // PRoot's layout: the names, then the help after a tab (8 columns), wrapped.
            text += "  " + names.joined(separator: ", ") + "\n\t"
                + HelpText.wrap(option.help, columns: HelpText.width - 8).joined(separator: "\n\t") + "\n\n"
        }
        text += """
            Exit status: the status of the last program of the guest to terminate (128+N
            when a signal killed it), or 1 when Burrow itself fails.

            """
        return text
    }

    public static var version: String {
        "proot \(compatibleWith) (command line of) burrow \(BurrowCommandLine.version)"
    }
}
