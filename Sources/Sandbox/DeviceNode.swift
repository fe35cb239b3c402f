/// A device node or FIFO the sandbox gets at `path` (burrow-oci's linux.devices), made after
/// every operation, as runc makes them after the mounts. The namespace engine creates it
/// with mknod where burrow has the privilege (root on the host); in a user namespace, which
/// may not create device nodes, it binds the host's node of the same type and number
/// instead, and fails when the host has none (a FIFO needs no privilege: always made).
public struct DeviceNode: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable, CaseIterable {
        case character = "c"
        case block = "b"
        case fifo = "p"

        /// S_IFCHR, S_IFBLK, S_IFIFO.
        public var typeBits: UInt32 {
            switch self {
            case .character: return 0o020000
            case .block: return 0o060000
            case .fifo: return 0o010000
            }
        }
    }
    public var path: GuestPath
    public var kind: Kind
    /// The device's numbers (none for a FIFO).
    public var major: UInt32
    public var minor: UInt32
    /// Permission bits.
    public var mode: UInt32
    /// Its owner inside the sandbox.
    public var uid: UInt32
    public var gid: UInt32

    public init(path: GuestPath, kind: Kind, major: UInt32 = 0, minor: UInt32 = 0, mode: UInt32 = 0o666,
                uid: UInt32 = 0, gid: UInt32 = 0) {
        self.path = path
        self.kind = kind
        self.major = major
        self.minor = minor
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }

    /// The kernel's limits on the numbers (a dev_t holds a 12-bit major, a 20-bit minor).
    public static let largestMajor: UInt32 = 0xfff
    public static let largestMinor: UInt32 = 0xf_ffff

    /// `c 10:200`, `p`.
    public var typeAndNumbers: String { kind == .fifo ? "p" : "\(kind.rawValue) \(major):\(minor)" }

    /// What can be wrong with one, in the spec's terms (`SpecError`).
    public enum Defect: Equatable, Sendable {
        case atRoot
        case majorTooLarge(UInt32)
        case minorTooLarge(UInt32)
        case notPermissionBits(UInt32)
        case listedTwice
        case idNotMapped(SpecError.IDKind, UInt32)
    }

    /// One small check with its name, as runc's validator has them: each looks at one node of
    /// `spec.devices` (its index given) and says what is wrong with it, or nil.
    public struct Check: Sendable {
        public let name: String
        let defect: @Sendable (_ node: DeviceNode, _ index: Int, _ spec: SandboxSpec) -> Defect?
        public func callAsFunction(_ node: DeviceNode, _ index: Int, in spec: SandboxSpec) -> Defect? { defect(node, index, spec) }
    }

    /// Every check, in the order a user would want to hear about them.
    public static let checks: [Check] = [
        Check(name: "path") { node, _, _ in node.path.isRoot ? .atRoot : nil },
        Check(name: "major") { node, _, _ in node.kind != .fifo && node.major > largestMajor ? .majorTooLarge(node.major) : nil },
        Check(name: "minor") { node, _, _ in node.kind != .fifo && node.minor > largestMinor ? .minorTooLarge(node.minor) : nil },
        Check(name: "mode") { node, _, _ in node.mode > 0o777 ? .notPermissionBits(node.mode) : nil },
        Check(name: "unique") { node, index, spec in
            spec.devices[..<index].contains { $0.path == node.path } ? .listedTwice : nil
        },
        // Its owner must exist inside: the engine gives it to the id the maps make of it.
        Check(name: "owner") { node, _, spec in
            if !spec.identity.uidMap.isEmpty, !spec.identity.uidMap.contains(where: { $0.contains(inside: node.uid) }) {
                return .idNotMapped(.uid, node.uid)
            }
            if !spec.identity.gidMap.isEmpty, !spec.identity.gidMap.contains(where: { $0.contains(inside: node.gid) }) {
                return .idNotMapped(.gid, node.gid)
            }
            return nil
        },
    ]
}
