import BurrowSpec

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
}

/// Errors the kernel would give for the path itself.
enum PathFailure: Error, Equatable, Sendable {
    case tooManyLinks  // ELOOP
    case tooLong  // ENAMETOOLONG
    /// RESOLVE_BENEATH: the path would leave its directory (EXDEV).
    case escapes
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
    /// the last component is followed (stat vs lstat). A trailing `/` always follows.
    func canonical(_ path: String, base: GuestPath, followLast: Bool, lookup: some HostLookup,
                   scope: ResolutionScope = .guest) throws(PathFailure) -> GuestPath {
        let top = scope.top
        if path.hasPrefix("/") && scope.isBeneath { throw .escapes }
        var done: [String] = path.hasPrefix("/") ? top : base.components
        // Pending components, last one first (a stack).
        var todo: [String] = path.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
        var follow = followLast || path.hasSuffix("/")
        var links = 0
        while !todo.isEmpty {
            let c = todo.removeLast()
            if c == "." { continue }
            if c == ".." {
                if done.count > top.count {
                    done.removeLast()
                } else if scope.isBeneath {
                    throw .escapes
                }
                continue
            }
            let here = GuestPath(components: done)
            let loc = bindings.locate(here)
            // Entering a bind: its source stands in for whatever the guest has there.
            let next = GuestPath(components: done + [c])
            if bindings.locate(next).binding != loc.binding {
                done.append(c)
                continue
            }
            if bindings[loc.binding].kind == .proc {
                // /proc/PID/root is the guest's root; everything else the kernel resolves
                // in the tracee's own context.
                let inProc = Array(next.components.dropFirst(bindings[loc.binding].guest.components.count))
                if inProc.count == 2, inProc[1] == "root", isProcessName(inProc[0]) {
                    done = []
                } else {
                    done.append(c)
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
            if todo.allSatisfy({ $0 == "." }) && !follow {
                unprobed = seg.removeLast()
            }
            if !seg.isEmpty {
                switch lookup.probe(binding: loc.binding, below: loc.below, components: seg) {
                case .plain:
                    done += seg
                case .symlink(let i, let target):
                    links += 1
                    if links > Self.maxLinks { throw .tooManyLinks }
                    done += seg[..<i]
                    if let u = unprobed { todo.append(u) }
                    todo += seg[(i + 1)...].reversed()
                    if target.hasPrefix("/") {
                        if scope.isBeneath { throw .escapes }
                        done = top
                    }
                    if target.hasSuffix("/") && todo.isEmpty { follow = true }
                    todo += target.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
                    continue
                }
            }
            if let u = unprobed { done.append(u) }
        }
        return GuestPath(components: done)
    }

    private func isProcessName(_ s: String) -> Bool {
        s == "self" || s == "thread-self" || (!s.isEmpty && s.allSatisfy(\.isNumber))
    }
}
