/// Settings of the command's process that OCI configs carry (burrow-oci's config.json):
/// kept as names and numbers, pure; the namespace engine applies them at the launch.

/// One `setrlimit`: the resource as the kernel's headers name it (`RLIMIT_NOFILE`).
public struct ResourceLimit: Equatable, Sendable {
    public var resource: String
    public var soft: UInt64
    public var hard: UInt64
    public init(resource: String, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }

    /// The resources Linux knows, by their numbers (the same on x86 and arm).
    public static let numbers: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4, "RLIMIT_RSS": 5,
        "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10,
        "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13, "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]
}

/// The command's capability sets by name (`CAP_KILL`), as OCI's process.capabilities has them.
public struct CapabilitySets: Equatable, Sendable {
    public var bounding: [String] = []
    public var effective: [String] = []
    public var permitted: [String] = []
    public var inheritable: [String] = []
    public var ambient: [String] = []
    public init() {}

    /// The kernel's names, by number (include/uapi/linux/capability.h): one list in this module.
    public static var names: [String] { CapabilityNames.all }

    /// A set as the kernel's 64-bit mask; nil and the first unknown name when one is not a capability.
    public static func mask(_ list: [String]) -> (mask: UInt64, unknown: String?) {
        var m: UInt64 = 0
        for name in list {
            guard let n = names.firstIndex(of: name) else { return (m, name) }
            m |= 1 << UInt64(n)
        }
        return (m, nil)
    }
}

/// A seccomp filter given as rules (OCI's linux.seccomp), compiled by BurrowSeccomp.
public struct SeccompRuleSet: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case allow, log, killThread, killProcess
        case errno(UInt16)
        case trap(UInt16)
        case trace(UInt16)
    }
    /// A condition on an argument, as libseccomp's SCMP_CMP_*: `maskedEquals` is
    /// `arg & value == valueTwo`. Compared on all 64 bits.
    public struct Comparison: Equatable, Sendable {
        public enum Operator: String, Equatable, Sendable, CaseIterable {
            case notEqual = "SCMP_CMP_NE", below = "SCMP_CMP_LT", atMost = "SCMP_CMP_LE", equal = "SCMP_CMP_EQ"
            case atLeast = "SCMP_CMP_GE", above = "SCMP_CMP_GT", maskedEqual = "SCMP_CMP_MASKED_EQ"
        }
        public var index: Int
        public var op: Operator
        public var value: UInt64
        public var valueTwo: UInt64
        public init(index: Int, op: Operator, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }
    public struct Rule: Equatable, Sendable {
        public var names: [String]
        public var action: Action
        /// All must hold.
        public var comparisons: [Comparison]
        public init(names: [String], action: Action, comparisons: [Comparison] = []) {
            self.names = names
            self.action = action
            self.comparisons = comparisons
        }
    }
    public var defaultAction: Action
    /// The i386 ABI is covered too (on x86_64: OCI's SCMP_ARCH_X86).
    public var coversI386: Bool
    public var rules: [Rule]
    public init(defaultAction: Action, coversI386: Bool = true, rules: [Rule] = []) {
        self.defaultAction = defaultAction
        self.coversI386 = coversI386
        self.rules = rules
    }
}

/// OCI's linux.maskedPaths and linux.readonlyPaths (burrow-oci): applied after every
/// operation, and, as runc does, a path the new root lacks is skipped.
public struct PathRestrictions: Equatable, Sendable {
    /// Hidden: an empty read-only tmpfs over a directory, /dev/null over anything else.
    public var masked: [GuestPath] = []
    /// Bound onto themselves read-only.
    public var readOnly: [GuestPath] = []
    public init() {}
    public var isEmpty: Bool { masked.isEmpty && readOnly.isEmpty }
}

/// A sysctl of the container's own namespaces (burrow-oci's linux.sysctl), written to
/// /proc/sys in the new root before the command runs.
public struct Sysctl: Equatable, Sendable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Why `name` cannot be set in these namespaces (nil: it can), as runc's validator has
    /// it: only sysctls that belong to a namespace the container has of its own.
    public static func refusal(_ name: String, namespaces: Namespaces) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == ".." }), !name.contains("/") else {
            return "'\(name)' is not a sysctl name"
        }
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
                   "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(name) || name.hasPrefix("fs.mqueue.") {
            return namespaces.ipc ? nil : "needs an \"ipc\" namespace of the container's own"
        }
        if name.hasPrefix("net.") { return namespaces.net ? nil : "needs a \"network\" namespace of the container's own" }
        if name == "kernel.hostname" || name == "kernel.domainname" {
            return namespaces.uts ? nil : "needs a \"uts\" namespace of the container's own"
        }
        return "not a sysctl of the container's own namespaces: it would change the host"
    }
}
