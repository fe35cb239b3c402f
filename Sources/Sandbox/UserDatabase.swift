/// Lookups in the guest's `/etc/passwd` and `/etc/group` text: pure, so an engine reads the
/// files (inside the rootfs) and this decides. Malformed lines are skipped, as glibc's
/// files backend skips them.
public enum UserDatabase {
    public struct User: Equatable, Sendable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
    }

    /// The first `/etc/passwd` entry named `name`.
    public static func user(named name: String, inPasswd text: String) -> User? {
        for fields in entries(text, minimumFields: 4) where fields[0] == name {
            guard let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            return User(name: name, uid: uid, gid: gid)
        }
        return nil
    }

    /// The first `/etc/passwd` entry numbered `uid`.
    public static func user(withUid uid: UInt32, inPasswd text: String) -> User? {
        for fields in entries(text, minimumFields: 4) where UInt32(fields[2]) == uid {
            guard let gid = UInt32(fields[3]) else { continue }
            return User(name: String(fields[0]), uid: uid, gid: gid)
        }
        return nil
    }

    /// The gid of the first `/etc/group` entry named `name`.
    public static func group(named name: String, inGroup text: String) -> UInt32? {
        for fields in entries(text, minimumFields: 3) where fields[0] == name {
            if let gid = UInt32(fields[2]) { return gid }
        }
        return nil
    }

    private static func entries(_ text: String, minimumFields: Int) -> [[Substring]] {
        text.split(separator: "\n").compactMap { line in
            if line.hasPrefix("#") { return nil }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            return fields.count >= minimumFields ? fields : nil
        }
    }
}

/// How an identity named by the caller becomes numbers, given the guest's databases.
extension Identity {
    public enum LookupError: Error, Equatable, Sendable, CustomStringConvertible {
        case noSuchUser(String)
        case noSuchGroup(String)
        public var description: String {
            switch self {
            case .noSuchUser(let n): return "user '\(n)' is not in the rootfs's /etc/passwd"
            case .noSuchGroup(let n): return "group '\(n)' is not in the rootfs's /etc/group"
            }
        }
    }

    /// Replaces `userName`/`groupName` by ids. `passwd`/`group` are the files' text (nil
    /// when the file is missing).
    public func resolvingNames(passwd: String?, group: String?) throws(LookupError) -> Identity {
        var resolved = self
        if let name = userName {
            guard let user = UserDatabase.user(named: name, inPasswd: passwd ?? "") else {
                throw .noSuchUser(name)
            }
            resolved.uid = user.uid
            if gid == nil && groupName == nil { resolved.gid = user.gid }
            resolved.userName = nil
        }
        if let name = groupName {
            guard let gid = UserDatabase.group(named: name, inGroup: group ?? "") else { throw .noSuchGroup(name) }
            resolved.gid = gid
            resolved.groupName = nil
        }
        return resolved
    }
}
