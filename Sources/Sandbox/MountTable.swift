/// The `\ooo` escapes of fstab(5) and /proc/PID/mountinfo: a space in a path is `\040`.
public enum OctalEscapes {
    /// The bytes of `text`, each backslash and the three octal digits after it (at most
    /// `\377`) turned into that byte; nil when a backslash starts anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "\\") else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let digits = bytes[(i + 1)...].prefix(3)
            guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else { return nil }
            let value = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 0xff else { return nil }
            out.append(UInt8(value))
            i += 4
        }
        return out
    }
}

/// One line of /proc/PID/mountinfo (proc(5)): the mount's id (statx's STATX_MNT_ID), its
/// parent's, where it is mounted (as the reading process's root sees it) and its type.
public struct MountTableEntry: Equatable, Sendable {
    public var id: UInt64
    public var parent: UInt64
    public var mountPoint: String
    public var type: String
    /// The directory of its filesystem it shows (a bind's, a cgroup's place in its hierarchy).
    public var root = "/"
    /// The filesystem's own options (a v1 cgroup's controllers among them).
    public var superOptions: [String] = []

    public init(id: UInt64, parent: UInt64, mountPoint: String, type: String) {
        self.id = id
        self.parent = parent
        self.mountPoint = mountPoint
        self.type = type
    }
}

public enum MountTable {
    /// The entries of a mountinfo text; lines that do not parse are left out.
    public static func parse(_ text: String) -> [MountTableEntry] {
        text.split(separator: "\n").compactMap { line in
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > 6, let id = UInt64(fields[0]), let parent = UInt64(fields[1]),
                  let dash = fields[6...].firstIndex(of: "-"), dash + 1 < fields.count,
                  let point = OctalEscapes.decode(fields[4]), let type = OctalEscapes.decode(fields[dash + 1])
            else { return nil }
            var entry = MountTableEntry(id: id, parent: parent, mountPoint: String(decoding: point, as: UTF8.self),
                                        type: String(decoding: type, as: UTF8.self))
            if let root = OctalEscapes.decode(fields[3]) { entry.root = String(decoding: root, as: UTF8.self) }
            if dash + 3 < fields.count { entry.superOptions = fields[dash + 3].split(separator: ",").map(String.init) }
            return entry
        }
    }

    /// The ids of every mount below mount `top`: its children, theirs, and so on.
    public static func ids(below top: UInt64, in table: [MountTableEntry]) -> Set<UInt64> {
        var children: [UInt64: [UInt64]] = [:]
        for e in table where e.id != e.parent { children[e.parent, default: []].append(e.id) }
        var found: Set<UInt64> = []
        var next = children[top] ?? []
        while let id = next.popLast() {
            guard found.insert(id).inserted else { continue }
            next += children[id] ?? []
        }
        return found
    }
}
