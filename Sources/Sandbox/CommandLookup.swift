/// How the command named by `argv[0]` is found and started. Pure: the engines pass in how a
/// directory is made canonical in the guest.
public enum CommandLookup: Equatable, Sendable {
    /// As execvp(3): a name with a `/` as it is, else each entry of PATH (a default when
    /// PATH is unset).
    case execvp
    /// As PRoot (its `which`): a name with a `/` is taken in its canonical directory (so a
    /// script's interpreter gets its absolute path), else each entry of PATH, none at all
    /// when PATH is unset or empty; a file the kernel has no format for (ENOEXEC) is run by
    /// /bin/sh, as PRoot's execvp does.
    case proot

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The paths execve will try for `name`, in order. `directory` makes a directory
    /// (absolute, or relative to the working directory) canonical; nil when it cannot.
    public func candidates(for name: String, environment: [(String, String)], directory: (String) -> String?) -> [String] {
        let path = environment.first { $0.0 == "PATH" }?.1
        switch self {
        case .execvp:
            if name.contains("/") { return [name] }
            return entries(path ?? Self.defaultPath).map { $0 + "/" + name }
        case .proot:
            if name.contains("/") { return [Self.inCanonicalDirectory(name, directory)] }
            guard let path, !path.isEmpty else { return [] }
            return entries(path).map { Self.inCanonicalDirectory($0 + "/" + name, directory) }
        }
    }

    /// A file ENOEXEC refuses is run as `/bin/sh FILE ARGS...`.
    public var shellFallback: Bool { self == .proot }

    private func entries(_ path: String) -> [String] {
        path.split(separator: ":", omittingEmptySubsequences: false).map { $0.isEmpty ? "." : String($0) }
    }

    /// `dir/name` with `dir` canonical; the name itself is kept (a symlink to a script stays
    /// the name the script is run by).
    static func inCanonicalDirectory(_ path: String, _ directory: (String) -> String?) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        let dir = path[..<slash].isEmpty ? "/" : String(path[..<slash])
        guard let canonical = directory(dir) else { return path }
        return (canonical.hasSuffix("/") ? canonical : canonical + "/") + path[path.index(after: slash)...]
    }
}
