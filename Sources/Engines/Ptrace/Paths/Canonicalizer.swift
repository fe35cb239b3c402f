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
}

struct Canonicalizer {
    var bindings: Bindings
    static let maxLinks = 40

    /// Resolves `path` (absolute, or relative to `base`). `followLast`: whether a symlink in
    /// the last component is followed (stat vs lstat). A trailing `/` always follows.
    func canonical(_ path: String, base: GuestPath, followLast: Bool, lookup: some HostLookup) throws(PathFailure) -> GuestPath {
        var done: [String] = path.hasPrefix("/") ? [] : base.components
        // Pending components, last one first (a stack).
        var todo: [String] = path.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
        var follow = followLast || path.hasSuffix("/")
        var links = 0
        while !todo.isEmpty {
            let c = todo.removeLast()
            if c == "." { continue }
            if c == ".." {
                if !done.isEmpty { done.removeLast() }
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
                    if target.hasPrefix("/") { done = [] }
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
