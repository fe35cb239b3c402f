/// Which engine `auto` picks, and why an engine cannot run: pure, so the order is testable.
/// The probes themselves (can this host create a user namespace? is the binary setuid
/// root? may it ptrace?) live in the kernel layer and are passed in.
public enum EngineSelection {
    /// `auto` tries these in order: native speed first, the ptrace engine last.
    public static let autoOrder: [EngineChoice] = [.namespace, .setuid, .ptrace]

    /// The engine to run: the one asked for, or for `auto` the first in `autoOrder` whose
    /// probe says nil (no reason against it), but the ptrace engine, where it can run, when
    /// the spec has reasons for it (`ptraceReasons`). With none available, the last one,
    /// whose own error then explains.
    public static func pick(_ requested: EngineChoice, ptraceFor reasons: [String] = [],
                            unavailable: (EngineChoice) -> String?) -> EngineChoice {
        guard requested == .auto else { return requested }
        if !reasons.isEmpty, unavailable(.ptrace) == nil { return .ptrace }
        return autoOrder.first { unavailable($0) == nil } ?? autoOrder.last ?? .namespace
    }

    /// What the namespace engine would find at a bind's destination.
    public enum DestinationState: Equatable, Sendable {
        case exists
        /// Missing, and the caller may make it (the namespace engine does, and removes it
        /// afterwards).
        case creatable
        /// Missing, and it cannot be made (a directory the caller cannot write, a symlink
        /// whose target is missing).
        case notCreatable
        /// There, but of another kind than the source: a directory cannot be mounted on a
        /// file, nor a file on a directory.
        case otherKind
    }

    /// Why `spec` wants the ptrace engine: the front-end's reasons (`ptraceOnly`), and each
    /// glued bind (`BindGlue`) whose destination the namespace engine would have to make in
    /// the rootfs and cannot, or must not, or could not mount on. `destination` says what is
    /// at a path below a host directory (the rootfs, or the source of the bind the
    /// destination lies in) for a bind.
    public static func ptraceReasons(_ spec: SandboxSpec,
                                     destination: (BindMount, HostPath, [String]) -> DestinationState) -> [String] {
        var reasons = spec.ptraceOnly
        let binds = spec.operations.compactMap { op -> BindMount? in
            if case .bind(let b) = op { return b } else { return nil }
        }
        for (k, b) in binds.enumerated() where b.glue != .none && !b.optionalDestination {
            var base = spec.root.path
            var below = b.destination.components
            var depth = -1
            for outer in binds[..<k] where outer.destination != b.destination && b.destination.isWithin(outer.destination)
                && outer.destination.components.count > depth {
                depth = outer.destination.components.count
                base = outer.source
                below = Array(b.destination.components.dropFirst(depth))
            }
            switch (destination(b, base, below), b.glue) {
            case (.exists, _), (.creatable, .whereNotCreatable): continue
            case (.otherKind, _):
                reasons.append("\(b.source) and \(b.destination) are not of one kind (a directory and a file): no mount can join them")
            case (.creatable, _):
                reasons.append("\(b.destination) is missing in the guest and must not be made in the rootfs")
            case (.notCreatable, _):
                reasons.append("\(b.destination) is missing in the guest and cannot be made in the rootfs")
            }
        }
        return reasons
    }

    /// One line per engine for `burrow --engines`: `namespace  yes` or `ptrace  no: why`.
    public static func report(unavailable: (EngineChoice) -> String?) -> String {
        var out = ""
        var chosen: EngineChoice?
        for e in autoOrder {
            let why = unavailable(e)
            if why == nil, chosen == nil { chosen = e }
            out += e.rawValue.padding(to: 10) + (why.map { "no: \($0)" } ?? "yes") + "\n"
        }
        out += "auto      -> \(chosen?.rawValue ?? autoOrder.last?.rawValue ?? "none")\n"
        return out
    }
}

extension String {
    fileprivate func padding(to n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}

/// How far a process got in making a user namespace and using it as the namespace engine
/// would (the probe runs in the kernel layer), and what the host says about why not.
public struct UserNamespaceProbe: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        case clone, setgroups, uidMap, gidMap, mount

        var operation: String {
            switch self {
            case .clone: return "clone (CLONE_NEWUSER, CLONE_NEWNS)"
            case .setgroups: return "write /proc/self/setgroups"
            case .uidMap: return "write /proc/self/uid_map"
            case .gidMap: return "write /proc/self/gid_map"
            case .mount: return "mount (make / private) in the new user namespace"
            }
        }
    }

    /// The step that failed, and the kernel's words for its errno ("Operation not permitted").
    public var step: Step
    public var error: String
    /// ENOSPC: a namespace limit was reached.
    public var limitReached: Bool

    public init(step: Step, error: String, limitReached: Bool = false) {
        self.step = step
        self.error = error
        self.limitReached = limitReached
    }
}

/// What the host tells about restrictions on user namespaces: the sysctls (nil where the
/// kernel has none) and whether a seccomp filter binds this process (a container's profile).
public struct HostRestrictions: Equatable, Sendable {
    public var unprivilegedUsernsClone: Int?
    public var maxUserNamespaces: Int?
    public var apparmorRestrictsUserns: Int?
    public var seccompFiltered: Bool

    public init(unprivilegedUsernsClone: Int? = nil, maxUserNamespaces: Int? = nil, apparmorRestrictsUserns: Int? = nil,
                seccompFiltered: Bool = false) {
        self.unprivilegedUsernsClone = unprivilegedUsernsClone
        self.maxUserNamespaces = maxUserNamespaces
        self.apparmorRestrictsUserns = apparmorRestrictsUserns
        self.seccompFiltered = seccompFiltered
    }
}

extension HostRestrictions {
    /// Nothing on this host is known to restrict user namespaces: the sysctls allow them, no
    /// AppArmor restriction, no seccomp filter. Where a user namespace can then still not be
    /// made (a limit reached, an LSM's refusal), the namespace engine's own unshare says so
    /// before anything of the sandbox exists, and `auto` goes on to the next engine: no probe
    /// is needed first.
    public var userNamespacesUnrestricted: Bool {
        unprivilegedUsernsClone != 0 && (maxUserNamespaces ?? 0) > 0 && apparmorRestrictsUserns != 1 && !seccompFiltered
    }
}

extension EngineSelection {
    /// Why the namespace engine cannot run, in the host's own terms: the sysctl that forbids
    /// it, AppArmor's restriction (a user namespace without capabilities), or a seccomp
    /// filter (a container's profile); else the step and its error.
    public static func namespaceCause(_ p: UserNamespaceProbe, host: HostRestrictions) -> String {
        let failed = "\(p.step.operation): \(p.error)"
        if host.apparmorRestrictsUserns == 1 {
            // The user namespace is made, and its capabilities are then denied: the mount
            // namespace in the same clone, an id map or a mount fails.
            return "restricted by AppArmor: kernel.apparmor_restrict_unprivileged_userns=1 (a new user namespace gets no capabilities: \(failed))"
        }
        if p.step == .clone {
            if host.unprivilegedUsernsClone == 0 {
                return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)"
            }
            if host.maxUserNamespaces == 0 { return "user namespaces are disabled (user.max_user_namespaces=0)" }
            if p.limitReached { return "the limit of user namespaces is reached (\(failed); see user.max_user_namespaces)" }
            if host.seccompFiltered { return "a seccomp filter denies unshare: inside a container? (\(failed))" }
            return failed
        }
        if host.seccompFiltered { return "a seccomp filter denies what a user namespace needs: inside a container? (\(failed))" }
        return "a user namespace can be made but not used (\(failed))"
    }
}
