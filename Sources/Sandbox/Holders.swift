/// Which filesystem a destination lands on when its operation runs: the rootfs, a
/// filesystem Burrow mounted in memory, or a host directory bound in. Engines use it to know
/// whether creating a missing mount point would change a host directory.
public enum Holder: Equatable, Sendable {
    /// The rootfs (or, with an overlay, its writable layer).
    case root
    /// tmpfs, proc, dev, mqueue: gone with the sandbox.
    case memory
    /// A bind of this host path.
    case hostBind(HostPath)
}

extension SandboxSpec {
    /// The filesystem holding `dest` just before `operations[index]` runs: the deepest
    /// earlier mount whose destination contains `dest` (a later one at the same place wins).
    /// Lexical only: a symlink inside the root can still lead elsewhere.
    public func holder(of dest: GuestPath, before index: Int) -> Holder {
        var best: (depth: Int, holder: Holder)?
        for op in operations[..<min(index, operations.count)] {
            let holder: Holder
            switch op {
            case .bind(let b): holder = .hostBind(b.source)
            case .tmpfs, .proc, .dev, .mqueue, .filesystem: holder = .memory
            case .overlay(let o):
                switch o.changes {
                case .kept(let upper, _): holder = .hostBind(upper)
                case .discarded: holder = .memory
                // Read-only: nothing is created in it; what is there is the top layer's.
                case .refused: holder = o.layers.last.map { .hostBind($0) } ?? .memory
                }
            case .dir, .symlink, .remountReadOnly, .file, .chmod: continue
            }
            let d = op.destination
            guard dest.isWithin(d) else { continue }
            if best == nil || d.components.count >= best!.depth { best = (d.components.count, holder) }
        }
        if let best { return best.holder }
        return root.fresh || root.overlay == .discard ? .memory : .root
    }
}
