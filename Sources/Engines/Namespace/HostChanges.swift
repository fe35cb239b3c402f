import BurrowKernel
import BurrowSandbox
import Glibc

/// Decides, before anything starts, whether the sandbox may have to create something in a
/// host directory (a missing mount point, a --dir, a --symlink). Only then is a cleaner
/// process started; the usual case, a rootfs that has its /proc, /dev and /tmp, needs none.
/// If the rootfs changes between this look and the setup, the init refuses to create on
/// the host without a cleaner rather than leave something behind.
enum HostChanges {
    static func possible(_ spec: SandboxSpec, rootfd: Int32) -> Bool {
        for (index, op) in spec.operations.enumerated() {
            if case .remountReadOnly = op { continue }
            if case .chmod = op { continue }
            switch spec.holder(of: op.destination, before: index) {
            case .memory: continue
            case .hostBind: return true
            case .root:
                var flags = O_PATH
                if case .symlink = op { flags |= O_NOFOLLOW }
                if case .bind(let b) = op, !b.followDestination { flags |= O_NOFOLLOW }
                guard let fd = try? Files.open2(op.destination.relative, at: rootfd, flags: flags,
                                                resolve: Resolve.inRoot | Resolve.noMagicLinks)
                else { return true }
                Files.close(fd)
            }
        }
        // Device nodes come after every operation; one missing in the rootfs is created there.
        for node in spec.devices {
            switch spec.holder(of: node.path, before: spec.operations.count) {
            case .memory: continue
            case .hostBind: return true
            case .root:
                guard let fd = try? Files.open2(node.path.relative, at: rootfd, flags: O_PATH | O_NOFOLLOW,
                                                resolve: Resolve.inRoot | Resolve.noMagicLinks)
                else { return true }
                Files.close(fd)
            }
        }
        return false
    }
}
