import BurrowSandbox

// Pure: no Glibc. What the ptrace engine cannot do, said before anything starts, naming the
// option and the engine that can.

enum Refusals {
    /// The first option this engine cannot honour, as a message; nil when it can run `spec`.
    static func check(_ spec: SandboxSpec, hostUid: UInt32, hostGid: UInt32) -> String? {
        let ns = spec.namespaces
        if spec.process.hold != nil { return "holding the command until released (burrow-oci create) needs the namespace engine" }
        if spec.process.preservedDescriptors > 0 { return "passing descriptors on to the command (burrow-oci's --preserve-fds) needs the namespace engine" }
        if !spec.security.noNewPrivileges { return "running without no_new_privs needs the namespace engine" }
        if !spec.restrictedPaths.isEmpty { return "masked and read-only paths (burrow-oci) need the namespace engine" }
        if !spec.devices.isEmpty { return "device nodes (burrow-oci's linux.devices) need the namespace engine" }
        if spec.root.propagation != nil || spec.operations.contains(where: \.hasPropagation) {
            return "mount propagation (burrow-oci) needs the namespace engine: the ptrace engine makes no mounts"
        }
        if !spec.process.resourceLimits.isEmpty || spec.process.umask != nil || spec.security.capabilities != nil
            || !spec.process.sysctls.isEmpty || !spec.identity.supplementaryGroups.isEmpty || spec.process.oomScoreAdjustment != nil {
            return "resource limits, a umask and chosen capabilities (burrow-oci) need the namespace engine"
        }
        for (on, option) in [(ns.pid, "--unshare-pid"), (ns.ipc, "--unshare-ipc"), (ns.net, "--unshare-net"),
                             (ns.uts, "--unshare-uts"), (ns.cgroup && !ns.cgroupIsOptional, "--unshare-cgroup")] where on {
            return "\(option) needs the namespace engine: the ptrace engine creates no namespaces"
        }
        if spec.namespaces.userRequired {
            return "--unshare-user needs the namespace engine: the ptrace engine creates no namespaces"
        }
        if spec.security.deniesUserNamespaces {
            return "--disable-userns needs the namespace engine (a seccomp filter of its own)"
        }
        if let caps = spec.identity.capabilities, caps != 0 {
            return "capabilities (--cap-add) need the namespace engine: the ptrace engine's ids are faked"
        }
        if spec.namespaces.userToJoin != nil || spec.namespaces.pidToJoin != nil || spec.namespaces.userAfterSetup != nil {
            return "joining namespaces (bwrap's --userns, --userns2, --pidns) needs the namespace engine"
        }
        if spec.process.hostname != nil {
            return "--hostname needs the namespace engine (a new UTS namespace)"
        }
        // --uid, --gid, --root, names, --kernel-release and --qemu are emulated (Emulator.swift).
        if !spec.security.callerPrograms.isEmpty {
            return "a seccomp program from a descriptor (bwrap's --seccomp FD, --add-seccomp-fd) needs the namespace engine for now"
        }
        if spec.security.seccomp != .none {
            return "--seccomp needs the namespace engine for now (the ptrace engine installs its own tracing filter; combining both is planned)"
        }
        if !spec.identity.uidMap.isEmpty || !spec.identity.gidMap.isEmpty {
            return "--uid-map/--gid-map need the namespace engine"
        }
        if spec.root.fresh {
            return "a root assembled in an empty tmpfs (bwrap without a bind onto /) needs the namespace engine: the ptrace engine translates paths into a tree; start with --ro-bind / / (or --bind SRC /)"
        }
        if !spec.process.lockFiles.isEmpty {
            return "--lock-file needs the namespace engine for now"
        }
        if !spec.process.reports.isEmpty {
            return "--info-fd and --json-status-fd need the namespace engine for now"
        }
        if spec.root.overlay != nil {
            return "--root-overlay and --root-tmp-overlay need the namespace engine (overlayfs in a user namespace)"
        }
        for op in spec.operations {
            switch op {
            case .tmpfs(let dest, let size, _) where size != nil:
                return "--size (for --tmpfs \(dest)) needs the namespace engine: the ptrace engine emulates a tmpfs with a temporary directory, which has no size limit"
            case .mqueue(let dest):
                return "--mqueue \(dest) needs the namespace engine"
            case .file(let f):
                return "a file from descriptor \(f.descriptor) at \(f.destination) (--file, --bind-data) needs the namespace engine for now"
            case .chmod(let dest, _):
                return "--chmod of \(dest) needs the namespace engine for now"
            case .overlay(let o):
                return "an overlay at \(o.destination) (--overlay, --tmp-overlay, --ro-overlay) needs the namespace engine (overlayfs in a user namespace)"
            case .filesystem(let f) where !["proc", "tmpfs", "sysfs", "devpts"].contains(f.type):
                return "a \(f.type) filesystem at \(f.destination) needs the namespace engine (the ptrace engine binds proc, sysfs and devpts from the host and emulates tmpfs)"
            case .filesystem(let f) where f.type == "tmpfs" && f.data.contains(where: { $0.hasPrefix("size=") || $0.hasPrefix("nr_") }):
                return "a size limit for the tmpfs at \(f.destination) needs the namespace engine"
            default: continue
            }
        }
        return nil
    }
}

extension SetupOp {
    /// A propagation type is asked for the mount this makes.
    var hasPropagation: Bool {
        switch self {
        case .bind(let b): return !b.propagation.isEmpty
        case .filesystem(let f): return !f.propagation.isEmpty
        default: return false
        }
    }
}
