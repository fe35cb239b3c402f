import BurrowSandbox

/// The filters behind `SeccompProfile`. Every profile covers all ABIs of the machine: on
/// x86_64 the same rules apply to i386 programs (and `int $0x80`) under i386's numbers, and
/// x32 is refused as a whole (see `SeccompFilter.x32Action`).
public enum SeccompProfiles {
    /// What a profile depends on besides its name.
    public struct Context: Equatable, Sendable {
        /// The command is in a new PID namespace: no process outside can be named.
        public var pidNamespace: Bool
        /// The system calls of a deny file, already read and checked (`DenyList.parse`).
        public var denied: [String]
        public var architectures: [Architecture]
        /// The spec allows TIOCSTI and TIOCLINUX (`Security.allowTerminalInjection`).
        public var allowTerminalInjection: Bool
        /// New user namespaces are refused whatever the profile (`Security.deniesUserNamespaces`).
        public var deniesUserNamespaces = false

        public init(pidNamespace: Bool, denied: [String] = [], architectures: [Architecture] = Architecture.native?.abis ?? [],
                    allowTerminalInjection: Bool = false) {
            self.pidNamespace = pidNamespace
            self.denied = denied
            self.architectures = architectures
            self.allowTerminalInjection = allowTerminalInjection
        }
    }

    /// The command's filter: the profile's rules and, unless the spec allows it, the rule
    /// against terminal injection (`TerminalInjection`). nil when there is nothing to filter.
    ///
    /// With a profile, the terminal rule is merged into the profile's program rather than
    /// installed as a second filter (the kernel would apply both alike): one program runs on
    /// each system call instead of two, and the ABIs stay the profile's (x32 refused, other
    /// ABIs killed). It goes first, so no rule of a deny file can decide otherwise for it.
    public static func filter(_ profile: SeccompProfile, _ context: Context) -> SeccompFilter? {
        let rules: [SeccompRule]
        switch profile {
        case .none where context.deniesUserNamespaces:
            rules = []
        case .none:
            return context.allowTerminalInjection ? nil : TerminalInjection.filter(architectures: context.architectures)
        case .default: rules = defaultRules(pidNamespace: context.pidNamespace)
        case .linuxUserChroot0: rules = linuxUserChroot0
        case .denyFile: rules = context.denied.map { SeccompRule($0, eperm) }
        case .rules(let set): return ruleSetFilter(set, context)
        }
        let terminal = context.allowTerminalInjection ? [] : [TerminalInjection.rule]
        // (The default profile has these rules already.)
        let userNamespaces = context.deniesUserNamespaces && profile != .default ? userNamespaceRules : []
        return SeccompFilter(defaultAction: .allow, rules: terminal + userNamespaces + rules, architectures: context.architectures)
    }

    static let eperm = SeccompAction.errno(SeccompErrno.EPERM)

    // Constants from the kernel's UAPI headers (the same on x86 and arm).
    static let CLONE_NEWUSER: UInt64 = 0x1000_0000
    static let AF_UNSPEC: UInt64 = 0, AF_UNIX: UInt64 = 1, AF_INET: UInt64 = 2, AF_INET6: UInt64 = 10, AF_NETLINK: UInt64 = 16

    /// Changes to the kernel or the machine a build or a shell has no business making. The
    /// kernel refuses most of them anyway (they need capabilities of the initial namespace);
    /// the filter makes that hold whatever the kernel's configuration and bugs.
    /// adjtimex and clock_adjtime stay allowed: with `modes == 0` they only read the clock's
    /// state (glibc's ntp_gettime), the mode sits in a struct a filter cannot see, and setting
    /// the clock needs CAP_SYS_TIME of the initial namespace, which nothing inside has.
    static let kernelChanging = [
        "reboot", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
        "swapon", "swapoff",
        "settimeofday", "stime", "clock_settime", "clock_settime64",
        "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "nfsservctl", "uselib", "_sysctl",
        "iopl", "ioperm", "vm86", "vm86old",
        // Opens any file of a filesystem by handle, bypassing the path (the "shocker" escape).
        "open_by_handle_at",
    ]

    /// Calls that reach into another process's memory or files. Without a PID namespace
    /// the command can name every process of the caller's uid on the host, and the kernel
    /// lets it attach to them when Yama allows (kernel.yama.ptrace_scope = 0): denied. With
    /// `--unshare-pid` nothing outside the sandbox has a pid inside, so they stay allowed
    /// for debuggers, strace and sanitizers (LeakSanitizer stops the world with ptrace).
    static let otherProcesses = ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"]

    static func defaultRules(pidNamespace: Bool) -> [SeccompRule] {
        var rules = kernelChanging.map { SeccompRule($0, eperm) }
        rules += ["bpf", "perf_event_open", "userfaultfd"].map { SeccompRule($0, eperm) }
        rules += ["keyctl", "add_key", "request_key"].map { SeccompRule($0, eperm) }
        if !pidNamespace { rules += otherProcesses.map { SeccompRule($0, eperm) } }
        rules += userNamespaceRules
        // TIOCSTI and TIOCLINUX: refused under every profile unless the spec allows them
        // (`filter` adds `TerminalInjection.rule`).
        return rules
    }

    /// No new user namespace: inside one, a process gets every capability again. clone3
    /// passes its flags in a struct a filter cannot read, so it says ENOSYS and libc falls
    /// back to clone, whose flags are an argument (bubblewrap and Flatpak do the same).
    static let userNamespaceRules = [
        SeccompRule("clone", where: [.arg(0, .anyBitsSet(CLONE_NEWUSER))], eperm),
        SeccompRule("unshare", where: [.arg(0, .anyBitsSet(CLONE_NEWUSER))], eperm),
        SeccompRule("clone3", .errno(SeccompErrno.ENOSYS)),
    ]

    /// linux-user-chroot's "v0" filter (src/setup-seccomp.c, from xdg-app and Sandstorm): its
    /// deny list with EPERM, and sockets of any family but unspec, unix, inet, inet6 and
    /// netlink with EAFNOSUPPORT. Calls the kernel added since, that do what the original
    /// denies by other means, are denied too: clone3 (ENOSYS, so that the CLONE_NEWUSER rule
    /// on clone cannot be sidestepped), the file-descriptor mount API next to `mount`, and
    /// quotactl_fd next to `quotactl`. It has no TIOCSTI rule of its own (the original has
    /// none either): the terminal rule every filter gets unless allowed covers it.
    ///
    /// On i386, `socket` is covered but the older `socketcall(SYS_SOCKET, args)` is not: its
    /// family sits in memory a filter cannot read (the original skipped socket rules on x86
    /// for the same reason). Refusing socketcall would break every socket of 32-bit programs
    /// built against a glibc that still uses it.
    static let linuxUserChroot0: [SeccompRule] = {
        let denied = [
            "syslog",  // dmesg
            "uselib",  // useless old call
            "personality",  // no BSD emulation and the like
            "acct",  // do not disable accounting
            "modify_ldt",  // 16-bit code; a historic source of information leaks
            "quotactl", "quotactl_fd",  // reading quota use
            "move_pages", "mbind", "get_mempolicy", "set_mempolicy", "migrate_pages",  // VM/NUMA
            "unshare", "mount", "pivot_root",  // no sub-namespace setups
            "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
            "perf_event_open",  // profiling
        ]
        var rules = denied.map { SeccompRule($0, eperm) }
        rules.append(SeccompRule("clone", where: [.arg(0, .anyBitsSet(CLONE_NEWUSER))], eperm))
        rules.append(SeccompRule("clone3", .errno(SeccompErrno.ENOSYS)))
        rules.append(SeccompRule(
            "socket", where: [.arg(0, .notIn([AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK]))],
            .errno(SeccompErrno.EAFNOSUPPORT)))
        return rules
    }()
}

/// A user's deny file: one system call name per line; `#` starts a comment; blank lines and
/// surrounding spaces are ignored. Every name must be a system call of some known ABI.
public enum DenyList {
    public static func parse(_ text: String, file: String) throws(SeccompError) -> [String] {
        var names: [String] = []
        var number = 0
        // "\r\n" is one Character: a file from Windows still has one name per line.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let name = line.trimmingSpaces
            if name.isEmpty { continue }
            guard Architecture.isKnown(name) else {
                let shown = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } ? name : name.debugDescription
                throw SeccompError(
                    "\(file):\(number): unknown system call '\(shown)' (one name per line, as in syscalls(2); '#' starts a comment)")
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

extension SeccompProfiles {
    /// OCI's linux.seccomp: its default action and rules, in order (the first that holds
    /// decides), after the terminal rule. A name no table knows is skipped, as runc skips
    /// what libseccomp does not know: no program can make that call here. i386 is covered
    /// only when the set says so; calls of an ABI not covered are killed.
    static func ruleSetFilter(_ set: SeccompRuleSet, _ context: Context) -> SeccompFilter {
        func action(_ a: SeccompRuleSet.Action) -> SeccompAction {
            switch a {
            case .allow: return .allow
            case .log: return .log
            case .killThread: return .killThread
            case .killProcess: return .killProcess
            case .errno(let e): return .errno(e)
            case .trap(let d): return .trap(d)
            case .trace(let d): return .trace(d)
            }
        }
        var rules = context.allowTerminalInjection ? [] : [TerminalInjection.rule]
        for rule in set.rules {
            var conditions: [ArgumentCondition] = []
            var never = false
            for c in rule.comparisons {
                let test: ArgumentCondition.Test?
                switch c.op {
                case .equal: test = .equals(c.value)
                case .notEqual: test = .notEquals(c.value)
                case .maskedEqual: test = .maskedEquals(mask: c.value, value: c.valueTwo)
                case .atLeast: test = c.value == 0 ? nil : .atLeast(c.value)
                case .below:
                    if c.value == 0 { never = true }
                    test = .below(c.value)
                case .atMost: test = c.value == .max ? nil : .below(c.value + 1)
                case .above:
                    if c.value == .max { never = true }
                    test = c.value == .max ? nil : .atLeast(c.value + 1)
                }
                if let test { conditions.append(.arg(c.index, test, width: .full64)) }
            }
            if never { continue }
            for name in rule.names where Architecture.isKnown(name) {
                rules.append(SeccompRule(name, where: conditions, action(rule.action)))
            }
        }
        let abis = context.architectures.filter { $0 != .i386 || set.coversI386 }
        return SeccompFilter(defaultAction: action(set.defaultAction), rules: rules, architectures: abis)
    }
}
