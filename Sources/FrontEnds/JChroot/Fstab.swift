import BurrowSandbox

/// The fstab(5) format as jchroot's `-f` reads it: one mount per line, `SPEC FILE VFSTYPE
/// [MNTOPTS [FREQ [PASSNO]]]`, mount points relative to the target. Pure: the caller reads
/// the file. Every line becomes one `SetupOp`, in file order:
///   - `bind` (or `rbind`, or type `bind`): a bind of the host path SPEC, recursive as all
///     of Burrow's binds; device nodes stay usable unless `nodev`, as in jchroot;
///   - anything else: a new instance of VFSTYPE (proc, sysfs, tmpfs, devpts, mqueue, ...)
///     with the mount flags mapped and the remaining options passed to it, in order.
public enum Fstab {
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public static func parse(_ text: String, file: String) throws(ParseError) -> [SetupOp] {
        var ops: [SetupOp] = []
        // Lines end at LF bytes: split by Character, a CR LF would be one character and no "\n".
        for (index, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do throws(UsageError) {
                if let op = try operation(line: String(String.UnicodeScalarView(raw))) { ops.append(op) }
            } catch {
                throw ParseError(file: file, line: index + 1, message: error.message)
            }
        }
        return ops
    }

    /// One line: nil for a blank line or a comment.
    static func operation(line: String) throws(UsageError) -> SetupOp? {
        let raw = rawFields(line)
        guard let first = raw.first, first.unicodeScalars.first != "#" else { return nil }
        let fields = try raw.map { (field) throws(UsageError) in try unescape(field) }
        guard fields.count >= 3 else {
            throw UsageError("missing fields: expected SPEC MOUNTPOINT TYPE [OPTIONS [FREQ [PASSNO]]], got \(fields.count)")
        }
        guard fields.count <= 6 else {
            throw UsageError("\(fields.count) fields, at most 6 (write a space inside a field as \\040)")
        }
        for (name, value) in zip(["FREQ", "PASSNO"], fields.dropFirst(4)) where Int(value) == nil {
            throw UsageError("\(name) '\(value)' is not a number")
        }
        let (spec, file, type) = (fields[0], fields[1], fields[2])
        if type == "swap" { throw UsageError("swap has no place in a chroot") }
        guard file.startsWithSlash else {
            throw UsageError("mount point '\(file)' is not absolute (it is a path inside the target, starting with /)")
        }
        let destination: GuestPath
        do { destination = try GuestPath(parsing: file) } catch { throw UsageError("mount point \(error)") }
        let options = try MountOptions(fields.count > 3 ? fields[3] : "defaults")
        let isBind = options.bind || type == "bind" || type == "rbind"
        if type == "none" && !isBind { throw UsageError("type 'none' needs the bind option (none SRC DEST bind,...)") }
        if isBind {
            guard options.data.isEmpty else {
                throw UsageError("'\(options.data.joined(separator: ","))' has no meaning for a bind mount")
            }
            return .bind(BindMount(
                source: HostPath(spec), destination: destination, readOnly: options.flags.contains(.readOnly),
                allowDevices: !options.flags.contains(.noDev), optional: options.noFail,
                flags: options.flags.subtracting([.readOnly, .noDev])))
        }
        if options.noFail { throw UsageError("nofail is only supported on bind mounts") }
        return .filesystem(FilesystemMount(type: type, source: spec, destination: destination,
                                           flags: options.flags, data: options.data))
    }

    /// Splits on blanks, as getmntent does (`unescape` then decodes `\ooo` octal escapes,
    /// `\040` is a space). Blanks are bytes: by Character, a blank followed by a combining
    /// mark would not split.
    static func rawFields(_ line: String) -> [String] {
        line.unicodeScalars.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map {
            String(String.UnicodeScalarView($0))
        }
    }

    static func unescape(_ field: String) throws(UsageError) -> String {
        // The kernel takes paths and options as C strings: a NUL would silently cut them.
        guard !field.utf8.contains(0) else { throw UsageError("'\(field)': a NUL byte cannot be part of a field") }
        guard field.utf8.contains(UInt8(ascii: "\\")) else { return field }
        guard let out = OctalEscapes.decode(field) else {
            throw UsageError("'\(field)': a backslash must start a 3-digit octal escape such as \\040")
        }
        guard !out.contains(0) else { throw UsageError("'\(field)': \\000 would put a NUL byte in the field") }
        return String(decoding: out, as: UTF8.self)
    }
}

/// An fstab options field, `rw,nosuid,mode=755`: mount(8)'s flag words become `MountFlags`,
/// the rest stays as the filesystem's own data, in order.
struct MountOptions: Equatable {
    var flags: MountFlags = []
    var bind = false
    var noFail = false
    var data: [String] = []

    /// What each flag word sets and clears. Later words win, as with mount(8).
    static let table: [String: (set: MountFlags, clear: MountFlags)] = {
        let atimes: MountFlags = [.noAtime, .relAtime, .strictAtime]
        return [
            "defaults": ([], []), "async": ([], []),
            "ro": (.readOnly, []), "rw": ([], .readOnly),
            // Every mount Burrow makes is nosuid, and no_new_privs is set anyway: `suid`
            // is accepted and cannot make setuid programs work.
            "nosuid": (.noSuid, []), "suid": ([], .noSuid),
            "nodev": (.noDev, []), "dev": ([], .noDev),
            "noexec": (.noExec, []), "exec": ([], .noExec),
            "noatime": (.noAtime, atimes), "relatime": (.relAtime, atimes), "strictatime": (.strictAtime, atimes),
            "atime": ([], .noAtime), "norelatime": ([], .relAtime), "nostrictatime": ([], .strictAtime),
            "nodiratime": (.noDirAtime, []), "diratime": ([], .noDirAtime),
            "nosymfollow": (.noSymFollow, []), "symfollow": ([], .noSymFollow),
        ]
    }()

    /// mount(8)'s own words that never reach the kernel: nothing to do in a chroot.
    static let userspaceOnly: Set<String> = ["auto", "nouser", "_netdev"]

    /// Words Burrow cannot honour, and why.
    static let unsupported: [String: String] = [
        "noauto": "every line of a jchroot fstab is mounted; remove the line instead",
        "sync": "synchronous mounts are not supported", "dirsync": "synchronous mounts are not supported",
        "mand": "mandatory locks are gone from Linux", "user": "user mounts are a mount(8) feature",
        "users": "user mounts are a mount(8) feature", "owner": "user mounts are a mount(8) feature",
        "group": "user mounts are a mount(8) feature", "remount": "a chroot's fstab mounts, it does not remount",
        "move": "moving mounts is not supported",
        "shared": "propagation cannot reach the host", "rshared": "propagation cannot reach the host",
        "slave": "mounts are private to the sandbox already", "rslave": "mounts are private to the sandbox already",
        "private": "mounts are private to the sandbox already", "rprivate": "mounts are private to the sandbox already",
        "unbindable": "propagation flags are not supported", "runbindable": "propagation flags are not supported",
    ]

    init(_ text: String) throws(UsageError) {
        for word in text.split(separator: ",", omittingEmptySubsequences: true).map(String.init) {
            if let (set, clear) = Self.table[word] {
                flags.subtract(clear)
                flags.formUnion(set)
            } else if word == "bind" || word == "rbind" {
                bind = true
            } else if word == "nofail" {
                noFail = true
            } else if Self.userspaceOnly.contains(word) || word.hasPrefix("x-") || word.hasPrefix("comment=") {
                continue
            } else if let why = Self.unsupported[word] {
                throw UsageError("option '\(word)': \(why)")
            } else {
                data.append(word)
            }
        }
    }
}
