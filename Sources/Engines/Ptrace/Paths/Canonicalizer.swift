import BurrowSandbox

// Pure: no Glibc. Resolves a guest path the way the kernel would if the guest tree were
// mounted at `/`: `..` stops at `/`, symlinks (absolute and relative) resolve inside the
// guest, binds substitute with the deepest one winning.

/// What the host says about a run of path components below one binding.
enum Probe: Equatable, Sendable {
    /// None of them is a symlink (some may not exist: the kernel will say so).
    case plain
    /// Component `index` is a symlink with this target.
    case symlink(index: Int, target: String)
}

/// Looks at the host tree. The engine implements it with openat2(RESOLVE_NO_SYMLINKS) and
/// readlinkat; tests with a dictionary.
protocol HostLookup {
    /// Walks `components` from `below` inside binding `binding`, stopping at the first symlink.
    func probe(binding: Int, below: [String], components: [String]) -> Probe
    /// Why `below` in binding `binding` cannot be walked through as a directory: the errno
    /// (ENOTDIR, ENOENT, EACCES...) the kernel would give for a component after it; nil when
    /// it is a directory. Asked where the path goes on lexically (`.`, `..`), where the
    /// kernel would have looked.
    func notDirectory(binding: Int, below: [String]) -> Int32?
    /// A magic link of the guest's /proc (`/proc/PID/fd/N`, `cwd`, `root`, `exe`) as the
    /// guest path it names for the tracee asking; nil when it names none (a pipe, a socket,
    /// a path outside the guest): the kernel resolves it.
    func procLink(_ link: GuestPath) -> GuestPath?
}

extension HostLookup {
    func notDirectory(binding: Int, below: [String]) -> Int32? { nil }
    func procLink(_ link: GuestPath) -> GuestPath? { nil }
}

/// Errors the kernel would give for the path itself.
enum PathFailure: Error, Equatable, Sendable {
    case tooManyLinks  // ELOOP
    case tooLong  // ENAMETOOLONG
    /// RESOLVE_BENEATH: the path would leave its directory (EXDEV).
    case escapes
    /// What the kernel would say about a component that must be a directory (ENOTDIR, ENOENT).
    case errno(Int32)
}

/// Where resolution may go: the guest's whole tree, or (openat2's RESOLVE_IN_ROOT and
/// RESOLVE_BENEATH) one directory of it, which `/` and `..` cannot leave.
enum ResolutionScope: Equatable, Sendable {
    case guest
    /// `/`, absolute symlinks and `..` at the top stay at this directory.
    case inRoot(GuestPath)
    /// Any of those fails with EXDEV instead.
    case beneath(GuestPath)

    var top: [String] {
        switch self {
        case .guest: return []
        case .inRoot(let g), .beneath(let g): return g.components
        }
    }

    var isBeneath: Bool { if case .beneath = self { return true } else { return false } }
}

struct Canonicalizer {
    var bindings: Bindings
    static let maxLinks = 40

    /// Resolves `path` (absolute, or relative to `base`). `followLast`: whether a symlink in
    /// the last component is followed (stat vs lstat). A trailing `/` or `/.` always follows.
    func canonical(_ path: String, base: GuestPath, followLast: Bool, lookup: some HostLookup,
                   scope: ResolutionScope = .guest) throws(PathFailure) -> GuestPath {
        try resolve(path, base: base, followLast: followLast, lookup: lookup, scope: scope).path
    }

    /// What the kernel must still see after the canonical path, so that the call keeps the
    /// meaning the tail of the guest's path gave it (as PRoot's canonicalize does): `/` after
    /// a trailing slash or `..` (the result must be a directory), `/.` after a trailing `.`
    /// (rmdir and mkdir refuse it, open takes the directory).
    enum Trailer: String, Equatable, Sendable {
        case none = ""
        case slash = "/"
        case dot = "/."

        /// The trailer a path's own text ends with. (Over its bytes: this runs for each path
        /// a traced call names.)
        init(of path: Substring) {
            let bytes = path.utf8
            let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
            // The last component: what precedes the trailing slashes, back to the slash before.
            var end = bytes.endIndex
            while end > bytes.startIndex, bytes[bytes.index(before: end)] == slash { end = bytes.index(before: end) }
            var start = end
            while start > bytes.startIndex, bytes[bytes.index(before: start)] != slash { start = bytes.index(before: start) }
            let length = bytes.distance(from: start, to: end)
            let isDot = length == 1 && bytes[start] == dot
            let isDotDot = length == 2 && bytes[start] == dot && bytes[bytes.index(after: start)] == dot
            if isDot { self = .dot } else if isDotDot || (end > bytes.startIndex && end < bytes.endIndex) { self = .slash } else { self = .none }
        }
    }

    /// `canonical`, with the trailer the host path needs. The kernel's rules, as PRoot
    /// follows them: a component followed by anything (`/`, `.`, `..`) is looked up as a
    /// directory, symlinks in it followed; where `.` or `..` would drop components the
    /// kernel still had to walk, the directory is checked here (`file/..` is ENOTDIR,
    /// `missing/..` ENOENT).
    func resolve(_ path: String, base: GuestPath, followLast: Bool, lookup: some HostLookup,
                 scope: ResolutionScope = .guest) throws(PathFailure) -> (path: GuestPath, trailer: Trailer) {
        let top = scope.top
        if path.hasPrefix("/") && scope.isBeneath { throw .escapes }
        var done: [String] = path.hasPrefix("/") ? top : base.components
        // Pending components, last one first (a stack).
        var todo: [String] = path.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
        var trailer = Trailer(of: Substring(path))
        // Is `done` known to be a directory (where `.` and `..` may be applied lexically)?
        var verified = true
        var links = 0
        func checkDirectory() throws(PathFailure) {
            guard !verified else { return }
            let loc = bindings.locate(GuestPath(components: done))
            if let e = lookup.notDirectory(binding: loc.binding, below: loc.below) { throw .errno(e) }
            verified = true
        }
        while !todo.isEmpty {
            let c = todo.removeLast()
            if c == "." {
                try checkDirectory()
                continue
            }
            if c == ".." {
                try checkDirectory()
                if done.count > top.count {
                    done.removeLast()
                } else if scope.isBeneath {
                    throw .escapes
                }
                continue
            }
            let isLast = todo.isEmpty
            let here = GuestPath(components: done)
            let loc = bindings.locate(here)
            // Entering a bind: its source stands in for whatever the guest has there.
            let next = GuestPath(components: done + [c])
            if bindings.locate(next).binding != loc.binding {
                done.append(c)
                verified = false
                continue
            }
            if bindings[loc.binding].kind == .proc {
                // /proc/PID/root is the guest's root; a magic link with more after it
                // (fd/N/.., cwd/x) is the guest path it names; the rest the kernel resolves
                // in the tracee's own context.
                let inProc = Array(next.components.dropFirst(bindings[loc.binding].guest.components.count))
                if inProc.count == 2, inProc[1] == "root", isProcessName(inProc[0]) {
                    done = []
                    verified = true
                } else if !isLast || trailer != .none, isMagicLink(inProc), let target = lookup.procLink(next) {
                    links += 1
                    if links > Self.maxLinks { throw .tooManyLinks }
                    done = target.components
                    verified = false
                } else {
                    done.append(c)
                    verified = false
                }
                continue
            }
            // The longest run of plain components that stays in this binding.
            var seg = [c]
            while let n = todo.last, n != ".", n != "..",
                  bindings.locate(GuestPath(components: done + seg + [n])).binding == loc.binding {
                seg.append(todo.removeLast())
            }
            // The very last component is not looked at when it is not followed.
            var unprobed: String?
            if todo.isEmpty && !(followLast || trailer != .none) {
                unprobed = seg.removeLast()
            }
            if !seg.isEmpty {
                switch lookup.probe(binding: loc.binding, below: loc.below, components: seg) {
                case .plain:
                    done += seg
                    verified = false
                case .symlink(let i, var target):
                    // A link of a bind pointing into that bind means the bind's guest path.
                    let link = bindings.host(Location(binding: loc.binding, below: loc.below + seg[...i]))
                    if let t = bindings.guestText(ofLink: target, at: link) { target = t }
                    links += 1
                    if links > Self.maxLinks { throw .tooManyLinks }
                    done += seg[..<i]
                    // The components before the link were walked through as directories.
                    verified = true
                    if let u = unprobed { todo.append(u) }
                    let endsPath = todo.isEmpty && i == seg.count - 1
                    todo += seg[(i + 1)...].reversed()
                    if target.hasPrefix("/") {
                        if scope.isBeneath { throw .escapes }
                        done = top
                    }
                    // The target's own tail counts where it ends the path (`link -> dir/`).
                    if endsPath && trailer == .none { trailer = Trailer(of: Substring(target)) }
                    todo += target.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
                    continue
                }
            }
            if let u = unprobed {
                done.append(u)
                verified = false
            }
        }
        return (GuestPath(components: done), trailer)
    }

    private func isProcessName(_ s: String) -> Bool {
        s == "self" || s == "thread-self" || (!s.isEmpty && s.allSatisfy(\.isNumber))
    }

    /// `PID/cwd`, `PID/root`, `PID/exe`, `PID/fd/N` and the same under `PID/task/TID/`.
    private func isMagicLink(_ inProc: [String]) -> Bool {
        var rest = inProc[...]
        guard let pid = rest.first, isProcessName(pid) else { return false }
        rest = rest.dropFirst()
        if rest.count >= 2, rest.first == "task", let tid = rest.dropFirst().first, isProcessName(tid) { rest = rest.dropFirst(2) }
        if rest.count == 1 { return ["cwd", "root", "exe"].contains(rest[rest.startIndex]) }
        if rest.count == 2, rest.first == "fd" { return rest.last.map { !$0.isEmpty && $0.allSatisfy(\.isNumber) } ?? false }
        return false
    }
}
