import BurrowKernel
import BurrowSandbox
import Glibc

/// The device nodes of `spec.devices` (burrow-oci's linux.devices), where they come from.
///
/// mknod of a device needs CAP_MKNOD in the host's user namespace, and a filesystem mounted
/// in a user namespace never opens device nodes (SB_I_NODEV): nodes made inside the sandbox
/// would be refused or useless. So the supervisor, before it enters the sandbox's user
/// namespace, makes them in a tmpfs of its own, detached (`make`), where it has that
/// privilege (burrow-oci run by root); the set-up attaches that tmpfs for a moment and binds
/// each node to its place, as it binds the host's /dev/null. Without the privilege it binds
/// the host's node of the same type and numbers (`hostNode`), as runc does rootless, with
/// that node's owner and mode; where the host has none it fails. A FIFO needs no privilege:
/// the set-up makes it in place.
enum DeviceNodes {
    /// Where the supervisor made node `index` of `spec.devices` in its tmpfs.
    static func name(_ index: Int) -> String { "\(index)" }

    /// The supervisor's tmpfs with the device nodes (not the FIFOs), owned by the host ids
    /// the sandbox's maps give the ids asked; -1 without the privilege to make them.
    static func make(_ nodes: [DeviceNode], maps: IDMaps, log: Log) throws(Failure) -> Int32 {
        guard nodes.contains(where: { $0.kind != .fifo }) else { return -1 }
        let tree: Int32
        do throws(SysError) {
            let fs = try Mounts.FilesystemContext("tmpfs", what: "device nodes")
            try fs.set("mode", "0755")
            tree = try fs.mount([.noSuid, .noExec])
        } catch where error.errno == .notPermitted {
            log.step("device nodes: no privilege to mount a tmpfs here; the host's nodes will be bound")
            return -1
        } catch {
            throw Failure(error)
        }
        do throws(SysError) {
            for (index, node) in nodes.enumerated() where node.kind != .fifo {
                let what = "\(node.path) (\(node.typeAndNumbers))"
                guard let uid = maps.outsideUid(of: node.uid), let gid = maps.outsideGid(of: node.gid) else {
                    throw SysError("chown \(node.uid):\(node.gid)", what, errno: .invalidArgument,
                                   hint: "the device's owner is not mapped to a host id by the sandbox's uid and gid maps")
                }
                do {
                    try Files.makeNode(name(index), at: tree, mode: mode_t(node.kind.typeBits | node.mode),
                                       major: node.major, minor: node.minor, what: what)
                } catch where error.errno == .notPermitted && index == nodes.firstIndex(where: { $0.kind != .fifo }) {
                    // Root of a user namespace (rootless podman): a tmpfs, but no mknod.
                    Files.close(tree)
                    log.step("device nodes: no privilege to create them (mknod); the host's nodes will be bound")
                    return -1
                }
                let fd = try Files.open(name(index), O_PATH | O_NOFOLLOW, at: tree)
                defer { Files.close(fd) }
                // The mode exactly, whatever the umask; then the owner (which keeps it).
                try Files.chmod(opened: fd, mode: mode_t(node.mode), what: what)
                try Files.chown(opened: fd, uid: uid, gid: gid, what: what)
                log.step("device \(what): made (mknod), mode 0\(String(node.mode, radix: 8)), owner \(node.uid):\(node.gid)")
            }
        } catch {
            Files.close(tree)
            throw Failure(error)
        }
        return tree
    }

    /// The same node is there already: same type, and for a device the same numbers.
    static func matches(_ st: stat, _ node: DeviceNode) -> Bool {
        guard UInt32(st.st_mode) & 0o170000 == node.kind.typeBits else { return false }
        return node.kind == .fifo || st.st_rdev == Files.deviceNumber(major: node.major, minor: node.minor)
    }

    /// An `O_PATH` fd of a host device node of the same type and numbers, looked for where
    /// runc binds it from (the same path on the host), then in /dev and one directory below
    /// it (/dev/input, /dev/snd, ...); nil when the host has none. Checked again on the fd.
    static func hostNode(for node: DeviceNode) -> Int32? {
        var candidates = [node.path.description]
        for name in Files.entries("/dev").sorted() {
            let path = "/dev/" + name
            guard let st = try? Files.stat(path, at: Files.cwd) else { continue }
            if UInt32(st.st_mode) & 0o170000 == 0o040000 {
                candidates += Files.entries(path).sorted().map { path + "/" + $0 }
            } else {
                candidates.append(path)
            }
        }
        for path in candidates {
            guard let st = try? Files.stat(path, at: Files.cwd), matches(st, node),
                  let fd = try? Files.open(path, O_PATH | O_NOFOLLOW)
            else { continue }
            if let again = try? Files.stat("", at: fd), matches(again, node) { return fd }
            Files.close(fd)
        }
        return nil
    }
}

extension IDMaps {
    /// The host id the sandbox's uid `inside` is, nil when its maps leave it out.
    func outsideUid(of inside: UInt32) -> UInt32? {
        Self.outside(of: inside, in: identity.uidMap, own: (insideUid, hostUid))
    }

    func outsideGid(of inside: UInt32) -> UInt32? {
        Self.outside(of: inside, in: identity.gidMap, own: (insideGid, hostGid))
    }

    /// Without ranges only the caller's own id is mapped.
    static func outside(of inside: UInt32, in map: [IDMap], own: (inside: UInt32, host: UInt32)) -> UInt32? {
        if map.isEmpty { return inside == own.inside ? own.host : nil }
        guard let line = map.first(where: { $0.contains(inside: inside) }) else { return nil }
        return line.outside + (inside - line.inside)
    }
}
