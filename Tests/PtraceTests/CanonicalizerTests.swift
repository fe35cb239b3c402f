import BurrowSandbox
import Testing

@testable import PtraceEngine

/// A host tree as data: symlinks by binding and path below it.
struct FakeTree: HostLookup {
    /// "binding:path" -> target
    var links: [String: String]
    /// "binding:path" of regular files and of missing paths: not directories.
    var files: Set<String> = []
    var missing: Set<String> = []

    func notDirectory(binding: Int, below: [String]) -> Int32? {
        let key = "\(binding):" + below.joined(separator: "/")
        if files.contains(key) { return 20 }  // ENOTDIR
        return missing.contains(key) ? 2 : nil  // ENOENT
    }

    func probe(binding: Int, below: [String], components: [String]) -> Probe {
        for i in components.indices {
            let key = "\(binding):" + (below + components[...i]).joined(separator: "/")
            if let t = links[key] { return .symlink(index: i, target: t) }
        }
        return .plain
    }
}

func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

let bindings: Bindings = {
    var b = Bindings(root: "/srv/root")
    b.add(Binding(guest: g("/mnt"), host: "/home/u/mnt"))  // 1
    b.add(Binding(guest: g("/mnt/deep/er"), host: "/data/deeper"))  // 2
    b.add(Binding(guest: g("/proc"), host: "/proc", kind: .proc))  // 3
    b.add(Binding(guest: g("/etc/hostname"), host: "/home/u/hostname", readOnly: true))  // 4
    return b
}()

let tree = FakeTree(links: [
    "0:lib": "usr/lib",  // relative, merged /usr
    "0:bin": "/usr/bin",  // absolute
    "0:usr/lib/loop": "loop",  // a loop
    "0:tmp/up": "../../../etc",  // climbs above /: stops at /
    "0:tmp/tomnt": "/mnt/deep",  // into a bind
    "0:tmp/dangling": "/nonexistent/x",
    "1:deep/back": "../../etc",  // in a bind, out again
    "1:hostabs": "/home/u/mnt/deep",  // in a bind, to itself by its host path
    "0:etc/alias": "hostname",  // to a file bind
    "0:etc/toslash": "passwd/",  // a file named as a directory
], files: ["0:etc/passwd"], missing: ["0:nonexistent"])

struct Case: Sendable, CustomTestStringConvertible {
    let path: String
    let base: String
    let follow: Bool
    let guest: String?  // nil: ELOOP
    let host: String?
    var testDescription: String { "\(path) from \(base)\(follow ? "" : " (nofollow)") -> \(guest ?? "ELOOP")" }
    init(_ path: String, base: String = "/", follow: Bool = true, _ guest: String?, _ host: String? = nil) {
        self.path = path
        self.base = base
        self.follow = follow
        self.guest = guest
        self.host = host
    }
}

@Suite("Canonicalizer") struct CanonicalizerTests {
    static let cases: [Case] = [
        Case("/", "/", "/srv/root"),
        Case("/etc/passwd", "/etc/passwd", "/srv/root/etc/passwd"),
        Case("/../../etc/./passwd", "/etc/passwd", "/srv/root/etc/passwd"),
        Case("..", base: "/", "/", "/srv/root"),
        Case("passwd", base: "/etc", "/etc/passwd", "/srv/root/etc/passwd"),
        Case("../bin/sh", base: "/etc", "/usr/bin/sh", "/srv/root/usr/bin/sh"),
        Case("/lib/libc.so", "/usr/lib/libc.so", "/srv/root/usr/lib/libc.so"),
        Case("/bin", follow: false, "/bin", "/srv/root/bin"),
        Case("/bin/", follow: false, "/usr/bin", "/srv/root/usr/bin"),
        Case("/bin", follow: true, "/usr/bin"),
        Case("/lib/loop", nil),
        Case("/lib/loop", follow: false, "/usr/lib/loop"),
        Case("/tmp/up/hostname", "/etc/hostname", "/home/u/hostname"),
        Case("/tmp/tomnt/er/x", "/mnt/deep/er/x", "/data/deeper/x"),
        Case("/mnt/deep", "/mnt/deep", "/home/u/mnt/deep"),
        Case("/mnt/deep/er", "/mnt/deep/er", "/data/deeper"),
        Case("/mnt/deep/back/passwd", "/etc/passwd", "/srv/root/etc/passwd"),
        Case("/mnt/../etc", "/etc", "/srv/root/etc"),
        Case("/mnt/deep/er/../../..", "/", "/srv/root"),
        Case("/tmp/dangling", "/nonexistent/x", "/srv/root/nonexistent/x"),
        Case("/tmp/dangling", follow: false, "/tmp/dangling"),
        Case("/etc/alias", "/etc/hostname", "/home/u/hostname"),
        Case("/mnt/hostabs/x", "/mnt/deep/x", "/home/u/mnt/deep/x"),
        Case("/proc/self/fd/3", "/proc/self/fd/3", "/proc/self/fd/3"),
        Case("/proc/self/root/etc", "/etc", "/srv/root/etc"),
        Case("/proc/1234/root", "/", "/srv/root"),
        Case("/proc/self/cwd", "/proc/self/cwd", "/proc/self/cwd"),
    ]

    @Test("The trailer a path ends with: a slash after a name or .., the dot of /., nothing after / alone",
          arguments: [("", Canonicalizer.Trailer.none), ("/", .none), ("//", .none), ("a", .none), ("a/", .slash),
                      ("a//", .slash), ("/a/b/", .slash), ("a/.", .dot), ("a/./", .dot), (".", .dot), ("a/..", .slash),
                      ("..", .slash), ("../", .slash), ("a/.b", .none), ("...", .none), ("a/b..", .none), ("/.", .dot)])
    func trailerOfPath(_ c: (String, Canonicalizer.Trailer)) {
        #expect(Canonicalizer.Trailer(of: Substring(c.0)) == c.1, "\(c.0)")
    }

    @Test(arguments: cases)
    func canonical(_ c: Case) {
        let canon = Canonicalizer(bindings: bindings)
        do {
            let r = try canon.canonical(c.path, base: g(c.base), followLast: c.follow, lookup: tree)
            #expect(r.description == c.guest)
            if let host = c.host { #expect(bindings.host(r) == host) }
        } catch {
            #expect(c.guest == nil, "unexpected \(error)")
            #expect(error == .tooManyLinks)
        }
    }

    struct Tail: Sendable, CustomTestStringConvertible {
        let path: String
        let follow: Bool
        let guest: String?
        let trailer: Canonicalizer.Trailer
        let errno: Int32?
        var testDescription: String { "\(path) -> \(guest ?? "errno \(errno ?? 0)")\(trailer.rawValue)" }
        init(_ path: String, follow: Bool = true, _ guest: String?, _ trailer: Canonicalizer.Trailer = .none, errno: Int32? = nil) {
            self.path = path
            self.follow = follow
            self.guest = guest
            self.trailer = trailer
            self.errno = errno
        }
    }

    // The kernel's rules for what follows a component, as PRoot keeps them: `file/..` and
    // `missing/.` fail where the kernel would have walked; a trailing `/`, `/.` or `..`
    // follows the last symlink and is kept for the kernel.
    @Test(arguments: [
        Tail("/etc/passwd/..", nil, errno: 20),
        Tail("/etc/passwd/.", nil, errno: 20),
        Tail("/nonexistent/..", nil, errno: 2),
        Tail("/etc/..", "/", .slash),
        Tail("/etc/", "/etc", .slash),
        Tail("/etc/.", "/etc", .dot),
        Tail("/etc/./", "/etc", .dot),
        Tail("/etc/hostname/..", "/etc", .slash),
        Tail("/bin/.", follow: false, "/usr/bin", .dot),
        Tail("/bin", follow: false, "/bin"),
        Tail("/etc/toslash", "/etc/passwd", .slash),
        Tail("/etc/toslash", follow: false, "/etc/toslash"),
        Tail("/", "/"),
    ])
    func tail(_ c: Tail) {
        let canon = Canonicalizer(bindings: bindings)
        do {
            let r = try canon.resolve(c.path, base: .root, followLast: c.follow, lookup: tree)
            #expect(r.path.description == c.guest)
            #expect(r.trailer == c.trailer)
        } catch {
            #expect(error == .errno(c.errno ?? -1))
        }
    }

    struct Scoped: Sendable, CustomTestStringConvertible {
        let path: String
        let scope: ResolutionScope
        let guest: String?  // nil: EXDEV
        var testDescription: String { "\(path) in \(scope) -> \(guest ?? "EXDEV")" }
    }

    // openat2's RESOLVE_IN_ROOT and RESOLVE_BENEATH, from the directory /mnt (a bind with a
    // deeper one below it).
    @Test(arguments: [
        Scoped(path: "deep/er/x", scope: .inRoot(g("/mnt")), guest: "/mnt/deep/er/x"),
        Scoped(path: "/deep/er", scope: .inRoot(g("/mnt")), guest: "/mnt/deep/er"),
        Scoped(path: "../../etc", scope: .inRoot(g("/mnt")), guest: "/mnt/etc"),
        Scoped(path: "deep/back/passwd", scope: .inRoot(g("/mnt")), guest: "/mnt/etc/passwd"),  // ../../etc stops at /mnt
        Scoped(path: "deep/er/x", scope: .beneath(g("/mnt")), guest: "/mnt/deep/er/x"),
        Scoped(path: "deep/../deep", scope: .beneath(g("/mnt")), guest: "/mnt/deep"),
        Scoped(path: "/deep", scope: .beneath(g("/mnt")), guest: nil),
        Scoped(path: "..", scope: .beneath(g("/mnt")), guest: nil),
        Scoped(path: "deep/back", scope: .beneath(g("/mnt")), guest: nil),
        Scoped(path: "../etc", scope: .guest, guest: "/etc"),
    ])
    func scoped(_ c: Scoped) {
        let canon = Canonicalizer(bindings: bindings)
        do {
            let r = try canon.canonical(c.path, base: g("/mnt"), followLast: true, lookup: tree, scope: c.scope)
            #expect(r.description == c.guest)
        } catch {
            #expect(c.guest == nil, "unexpected \(error)")
            #expect(error == .escapes)
        }
    }

    struct Reverse: Sendable, CustomTestStringConvertible {
        let host: String
        let guest: String?
        var testDescription: String { "\(host) -> \(guest ?? "outside")" }
    }

    @Test(arguments: [
        Reverse(host: "/srv/root", guest: "/"),
        Reverse(host: "/srv/root/etc/passwd", guest: "/etc/passwd"),
        Reverse(host: "/home/u/mnt/a", guest: "/mnt/a"),
        Reverse(host: "/data/deeper/x", guest: "/mnt/deep/er/x"),
        Reverse(host: "/home/u/hostname", guest: "/etc/hostname"),
        Reverse(host: "/srv/root/mnt/hidden", guest: nil),  // shadowed by the bind at /mnt
        Reverse(host: "/usr/bin", guest: nil),
        Reverse(host: "/proc/1/status", guest: "/proc/1/status"),
    ])
    func reverse(_ c: Reverse) {
        #expect(bindings.guestPath(ofHost: c.host)?.description == c.guest)
    }

    // PRoot's rule for symlinks in a bind: a text that is a host path in the same bind
    // (by host path, the deepest) names the bind's guest path.
    @Test func symlinkTextsInBinds() {
        #expect(bindings.guestText(ofLink: "/home/u/mnt/x/y", at: "/home/u/mnt/link") == "/mnt/x/y")
        #expect(bindings.guestText(ofLink: "/home/u/mnt", at: "/home/u/mnt/link") == "/mnt")
        #expect(bindings.guestText(ofLink: "/etc/passwd", at: "/home/u/mnt/link") == nil)
        #expect(bindings.guestText(ofLink: "/data/deeper/x", at: "/home/u/mnt/link") == nil)  // another bind
        #expect(bindings.guestText(ofLink: "/srv/root/etc", at: "/srv/root/etc/link") == nil)  // the rootfs's own
        #expect(bindings.guestText(ofLink: "relative", at: "/home/u/mnt/link") == nil)
        var hostRoot = Bindings(root: "/")
        hostRoot.add(Binding(guest: g("/mnt"), host: "/home/u/mnt"))
        #expect(hostRoot.guestText(ofLink: "/home/u/mnt/x", at: "/home/u/mnt/link") == nil)  // all is the rootfs's
    }

    @Test func readOnly() {
        var b = bindings
        b.readOnlyTrees = [g("/usr")]
        #expect(b.isReadOnly(g("/etc/hostname")))
        #expect(!b.isReadOnly(g("/etc/passwd")))
        #expect(b.isReadOnly(g("/usr/bin/x")))
        #expect(!b.isReadOnly(g("/usrx")))
    }

    @Test func laterBindAtTheSamePlaceWins() {
        var b = Bindings(root: "/r")
        b.add(Binding(guest: g("/x"), host: "/one"))
        b.add(Binding(guest: g("/x"), host: "/two"))
        #expect(b.host(g("/x/f")) == "/two/f")
    }
}
