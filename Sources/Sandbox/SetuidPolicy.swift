/// What setuid mode accepts, as pure rules: the environment the privileged process keeps,
/// and the options it refuses. Without a user namespace, root's privilege builds the
/// sandbox; everything here keeps that privilege from reaching anything the caller could
/// not reach before (linux-user-chroot's model).
public enum SetuidPolicy {
    /// Variables a setuid burrow keeps from its caller; every other one is dropped before
    /// anything else runs (LD_*, GCONV_PATH, TMPDIR, MALLOC_*, GLIBC_TUNABLES, SWIFT_*, ...).
    /// The command gets these, plus what --setenv adds.
    public static let keptVariables: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ",
        "BURROW_ENGINE",
        // proot's --fake-db (`-0` on the ptrace engine keeps owners between runs): a path
        // like any on the command line, opened only by the ptrace engine, after root is
        // given up for good.
        "BURROW_FAKE_DB",
    ]

    /// True when `name` survives: the list above and the locale's LC_* categories.
    public static func keeps(_ name: String, value: String) -> Bool {
        guard keptVariables.contains(name) || (name.hasPrefix("LC_") && name.count > 3) else { return false }
        // Sane values only: no control characters, not absurdly long.
        return value.utf8.count <= 4096 && !value.utf8.contains { $0 < 0x20 || $0 == 0x7f }
    }

    public static func safeEnvironment(_ env: [(String, String)]) -> [(String, String)] {
        var seen: Set<String> = []
        return env.filter { keeps($0.0, value: $0.1) && seen.insert($0.0).inserted }
    }
}

extension SandboxSpec {
    /// Filesystems a setuid burrow mounts: each is new, lives in memory, and shows only what
    /// the caller may already see (proc of the sandbox's own PID namespace, sysfs of its own
    /// network namespace, or the host's instance of either, which the caller sees anyway).
    public static let setuidFilesystemTypes: Set<String> = ["proc", "sysfs", "tmpfs", "devpts", "mqueue"]

    /// PRoot's -R and -S bind the host's /proc among their recommended paths (binds skipped
    /// where the guest cannot have them: `optionalDestination`). Setuid mode refuses a procfs
    /// as a bind source, for it would be the host's; for these convenience binds it mounts
    /// the sandbox's own procfs instead (setuid mode always has a PID namespace), which is
    /// what the guest wants from them. A /proc bind asked for by name stays, and is refused.
    public func withOwnProcfsForRecommendedBinds() -> SandboxSpec {
        var spec = self
        spec.operations = operations.map { op in
            if case .bind(let b) = op, b.optionalDestination, b.source.string == "/proc" { return .proc(dest: b.destination) }
            return op
        }
        return spec
    }

    /// The first reason this spec cannot run with a setuid-root burrow, for a caller with
    /// these real ids; nil when it can. Each message says why the option would be unsafe.
    public func setuidRefusal(callerUid: UInt32, callerGid: UInt32) -> SpecError? {
        if let uid = identity.uid, uid != callerUid {
            return SpecError(.setuidForeignID(.uid, asked: uid, caller: callerUid))
        }
        if let gid = identity.gid, gid != callerGid {
            return SpecError(.setuidForeignID(.gid, asked: gid, caller: callerGid))
        }
        if !identity.uidMap.isEmpty || !identity.gidMap.isEmpty {
            return SpecError(.setuidIDMaps)
        }
        if let overlay = root.overlay {
            return SpecError(.setuidOverlay(discarded: overlay == .discard))
        }
        if emulation.qemu != nil {
            return SpecError(.setuidQemu)
        }
        if let node = devices.first { return SpecError(.setuidDevices(node.path)) }
        // Every kind of operation is decided here: a new kind does not compile until it is.
        for op in operations {
            switch op {
            case .bind, .tmpfs, .proc, .dev, .dir, .symlink, .remountReadOnly, .file, .chmod:
                continue
            case .mqueue:
                continue  // validate() already requires a new IPC namespace
            case .overlay(let o):
                return SpecError(.setuidFilesystem(type: "overlay", o.destination))
            case .filesystem(let f):
                guard Self.setuidFilesystemTypes.contains(f.type) else {
                    return SpecError(.setuidFilesystem(type: f.type, f.destination))
                }
                if f.type == "mqueue" && !namespaces.ipc {
                    return SpecError(.setuidMqueueWithoutIPCNamespace(f.destination))
                }
            }
        }
        return nil
    }
}
