/// How mount and unmount events spread between mounts (mount_namespaces(7)): the
/// propagation type a mount is given, on it alone or on it and every mount below it
/// (`recursive`: mount(8)'s `rshared`, `rslave`...). burrow-oci's per-mount options and
/// linux.rootfsPropagation.
///
/// Whatever is asked, nothing reaches the host: the namespace engine makes every mount of the
/// sandbox's namespace a slave of the host's (private in setuid mode) before it mounts
/// anything, and that namespace belongs to a user namespace of the sandbox's own, which the
/// kernel lets receive from the host and never send to it. Peer groups made here hold only
/// mounts of the sandbox (docs/security.md).
public struct MountPropagation: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable, CaseIterable {
        /// Mounts and unmounts below it spread to its peers, and theirs to it.
        case shared
        /// It receives from its master's peer group and sends nothing back.
        case slave
        /// It neither sends nor receives.
        case `private`
        /// Private, and it cannot be the source of a bind mount.
        case unbindable
    }
    public var kind: Kind
    public var recursive: Bool

    public init(_ kind: Kind, recursive: Bool = false) {
        self.kind = kind
        self.recursive = recursive
    }

    /// mount(8)'s word: `shared`, `rshared`, ... `runbindable`.
    public var description: String { (recursive ? "r" : "") + kind.rawValue }

    /// The propagation mount(8) and OCI's mount options name (`rslave`); nil for any other word.
    public init?(word: String) {
        let recursive = word.hasPrefix("r") && Kind(rawValue: String(word.dropFirst())) != nil
        guard let kind = Kind(rawValue: recursive ? String(word.dropFirst()) : word) else { return nil }
        self.init(kind, recursive: recursive)
    }
}
