/// Words engines add to a failure the kernel describes too briefly, in the spec's terms:
/// the kernel says "No such file or directory", the spec knows which argument was taken as
/// what and where a command is looked for.

/// An option and the arguments it took, as the front-end read them (`--bind takes SRC DEST:
/// here SRC=/etc DEST=/srv/root`).
public struct OptionArguments: Equatable, Sendable, CustomStringConvertible {
    public var option: String
    public var metavars: [String]
    public var values: [String]

    public init(option: String, metavars: [String], values: [String]) {
        self.option = option
        self.metavars = metavars
        self.values = values
    }

    public var description: String {
        let pairs = zip(metavars, values).map { "\($0)=\($1)" }
        return "\(option) takes \(metavars.joined(separator: " ")): here \(pairs.joined(separator: " "))"
    }
}

extension RootFS {
    /// A failure to open the rootfs, as engines word it: `rootfs PATH`, or, when the option
    /// just before it on the command line took arguments (one may have been meant as the
    /// rootfs), what that option took: `--bind takes SRC DEST: here SRC=/etc DEST=/srv/root,
    /// so 'id' was taken as the rootfs`.
    public var openFailure: (operation: String, subject: String) {
        guard let before = takenAfter else { return ("rootfs", path.string) }
        return ("\(before), so '\(path.string)' was taken as the rootfs", "")
    }
}

extension SandboxSpec {
    /// The hint for a command the kernel did not find (exec's ENOENT): it was looked for
    /// inside the rootfs, not on the host, and so were a script's `#!` interpreter and a
    /// program's ELF loader. `rootHasBin`: whether the rootfs has a `bin` entry at all; a
    /// rootfs without one is not a root file system (an empty directory, a wrong path).
    public func commandNotFoundHint(rootHasBin: Bool) -> String {
        let command = process.argv.first ?? ""
        let how = command.utf8.contains(UInt8(ascii: "/")) ? "" : " along PATH"
        var hint = "\(command) is looked for\(how) inside the rootfs \(root.path), not on the host"
            + " (and so are a script's #! interpreter and a program's ELF loader)"
        if !rootHasBin {
            hint += "\n\(root.path) has no /bin: is it a root file system? scripts/make-rootfs DIR, in Burrow's"
                + " source, makes a busybox one"
        }
        return hint
    }
}
