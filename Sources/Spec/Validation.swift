/// Checks that need no kernel: a spec that fails here never reaches an engine.
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = OneLine.escaping(message) }
    public var description: String { message }
}

/// Error messages quote what the user typed, and are printed on one line after the tool's
/// name. A newline, escape sequence or other control character in a quoted argument (or
/// file) is shown as an escape (`\n`, `\t`, `\r`, `\u{1B}`) so the message stays one line
/// and cannot rewrite the terminal.
public enum OneLine {
    public static func escaping(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: breaks) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where breaks(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    public static func breaks(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

/// The kernel's limits on a path, checked before any engine runs, so that every engine
/// refuses the same paths in the same words: the namespace engine would meet ENAMETOOLONG
/// in `openat` (naming neither the option nor the path as given), the ptrace engine only
/// when the guest used the path, or never.
public enum PathLimit {
    /// PATH_MAX (4096) counts the terminating NUL: a path has at most 4095 bytes.
    public static let maxPathBytes = 4095
    /// NAME_MAX: one component (between slashes) has at most 255 bytes.
    public static let maxNameBytes = 255
    /// How much of a path a message quotes before `…`.
    static let quoted = 40

    /// Why the kernel would refuse `path` with ENAMETOOLONG (`a path of 5005 bytes, more
    /// than 4095: File name too long`); nil when it would not.
    public static func problem(_ path: String) -> String? {
        let bytes = path.utf8.count
        if bytes > maxPathBytes {
            return "a path of \(bytes) bytes, more than \(maxPathBytes): File name too long"
        }
        for component in path.utf8.split(separator: UInt8(ascii: "/")) where component.count > maxNameBytes {
            let name = shortened(String(decoding: component, as: UTF8.self))
            return "a name of \(component.count) bytes in it (\(name)), more than \(maxNameBytes): File name too long"
        }
        return nil
    }

    /// `what PATH…: problem` for a path over a limit (`--tmpfs /tmp/xxx…: a path of ...`);
    /// nil when it is within them. `what` is an option name or the spec's word for the path.
    public static func message(_ path: String, what: String) -> String? {
        problem(path).map { "\(what) \(shortened(path)): \($0)" }
    }

    /// The first characters of a long path, then `…`.
    static func shortened(_ text: String) -> String {
        text.count > quoted ? String(text.prefix(quoted)) + "…" : text
    }
}

extension SandboxSpec {
    /// Every path the spec holds with the spec's word for it, for the checks that apply to
    /// all of them alike (`PathLimit`).
    public var namedPaths: [(what: String, path: String)] {
        var out: [(String, String)] = [("rootfs", root.path.string)]
        if case .keep(let dir) = root.overlay { out.append(("overlay directory", dir.string)) }
        for op in operations {
            switch op {
            case .bind(let b):
                out.append(("bind source", b.source.string))
                out.append(("bind destination", b.destination.description))
            case .tmpfs(let d, _, _): out.append(("tmpfs destination", d.description))
            case .proc(let d): out.append(("proc destination", d.description))
            case .dev(let d): out.append(("dev destination", d.description))
            case .mqueue(let d): out.append(("mqueue destination", d.description))
            case .dir(let d, _): out.append(("directory", d.description))
            case .symlink(let target, let d):
                out.append(("symlink target", target))
                out.append(("symlink", d.description))
            case .remountReadOnly(let d): out.append(("read-only remount of", d.description))
            case .filesystem(let f): out.append(("\(f.type) destination", f.destination.description))
            }
        }
        if let d = process.chdir { out.append(("working directory", d.description)) }
        if let f = process.pidFile { out.append(("pid file", f.string)) }
        if let f = identity.fakeDatabase { out.append(("fake database", f.string)) }
        return out
    }

    /// Returns the first problem found, in the order a user would want to hear about them.
    public func validate() throws(SpecError) {
        if process.argv.isEmpty || process.argv[0].isEmpty {
            throw SpecError("the command is empty")
        }
        for (what, path) in namedPaths {
            if let message = PathLimit.message(path, what: what) { throw SpecError(message) }
        }
        if let name = process.hostname {
            if !namespaces.uts { throw SpecError("--hostname needs --unshare-uts (or --unshare-all)") }
            if name.isEmpty || name.utf8.count > 64 {
                throw SpecError("hostname '\(name)' must be 1 to 64 bytes long")
            }
        }
        if root.readOnly, root.overlay != nil {
            throw SpecError("--ro-root and an overlay contradict each other: the overlay makes the root writable")
        }
        for op in operations {
            switch op {
            case .mqueue where !namespaces.ipc:
                throw SpecError("--mqueue needs --unshare-ipc (or --unshare-all)")
            case .symlink(let target, _) where target.isEmpty:
                throw SpecError("--symlink needs a non-empty target")
            case .bind(let b) where b.source.string.isEmpty:
                throw SpecError("bind source for \(b.destination) is empty")
            case .filesystem(let f) where f.type.isEmpty:
                throw SpecError("the mount at \(f.destination) names no filesystem type")
            case .filesystem(let f) where f.type == "mqueue" && !namespaces.ipc:
                throw SpecError("an mqueue mount needs a new IPC namespace")
            default: break
            }
        }
        if emulation.qemu != nil, !identity.uidMap.isEmpty || !identity.gidMap.isEmpty {
            throw SpecError("QEMU emulation cannot be combined with --uid-map/--gid-map ranges (yet)")
        }
        try Self.validate(map: identity.uidMap, kind: "uid", chosen: identity.uid)
        try Self.validate(map: identity.gidMap, kind: "gid", chosen: identity.gid)
    }

    private static func validate(map: [IDMap], kind: String, chosen: UInt32?) throws(SpecError) {
        guard !map.isEmpty else { return }
        for (i, line) in map.enumerated() {
            if line.count == 0 { throw SpecError("--\(kind)-map \(line): the count must be at least 1") }
            if UInt64(line.inside) + UInt64(line.count) > UInt64(UInt32.max)
                || UInt64(line.outside) + UInt64(line.count) > UInt64(UInt32.max)
            {
                throw SpecError("--\(kind)-map \(line): the range runs past the largest id")
            }
            for other in map[..<i] {
                if ranges(line.inside, line.count, overlap: other.inside, other.count) {
                    throw SpecError("--\(kind)-map \(line) overlaps \(other) inside the sandbox")
                }
                if ranges(line.outside, line.count, overlap: other.outside, other.count) {
                    throw SpecError("--\(kind)-map \(line) overlaps \(other) on the host")
                }
            }
        }
        if map.count > 340 { throw SpecError("--\(kind)-map: the kernel accepts at most 340 lines") }
        if let id = chosen, !map.contains(where: { $0.contains(inside: id) }) {
            throw SpecError("--\(kind) \(id) is not mapped by the --\(kind)-map ranges given")
        }
    }

    private static func ranges(_ a: UInt32, _ n: UInt32, overlap b: UInt32, _ m: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(m) && UInt64(b) < UInt64(a) + UInt64(n)
    }
}
