import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

/// A guest path as the kernel must see it.
struct Translation {
    var host: String
    /// False when the tracee's own (relative) path already names the right host file.
    var changed: Bool
    /// Set by the fast paths for a path whose last component is not followed: the whole
    /// path as the symlink-free cache would know it, once a stat shows that last component
    /// is no symlink (the directories before it are known to be plain).
    var wholePath: PlainKey?
    /// Set by the fast paths when the path, followed to its end, was just found to have a
    /// component missing: an open without O_CREAT can fail with ENOENT at once.
    var missing = false
    private var known: GuestPath?
    /// The fast path's guest path, made only if asked for: its directory and components.
    private var relative: (base: GuestPath, components: [ArraySlice<UInt8>])?

    init(host: String, guest: GuestPath, changed: Bool) {
        self.host = host
        self.changed = changed
        known = guest
    }

    init(unchanged host: String, base: GuestPath, components: [ArraySlice<UInt8>]) {
        self.host = host
        changed = false
        relative = (base, components)
    }

    /// A bare name the kernel resolves from the tracee's directory as the guest would
    /// (Tracer.kernelResolvesAlone): left as it is, its guest path not known here.
    init(unchangedName name: [UInt8]) {
        host = String(decoding: name, as: UTF8.self)
        changed = false
    }

    /// A host path found without canonicalising: the guest path is `components` below
    /// `base`, made only if asked for.
    init(host: String, base: GuestPath, components: [ArraySlice<UInt8>]) {
        self.host = host
        changed = true
        relative = (base, components)
    }

    var guest: GuestPath {
        if let known { return known }
        guard let relative else { return .root }
        return GuestPath(components: relative.base.components + relative.components.map { String(decoding: $0, as: UTF8.self) })
    }
}

extension Tracer {
    static let atFDCWD: Int32 = -100

    /// Translates `path` (the tracee's bytes) relative to `dirfd` (AT_FDCWD: its cwd).
    /// A path that lands in --dev's directory while the host's /dev stands in for it
    /// (Setup.DevStandIn) has the directory made first, and is translated again.
    func translate(_ t: Tracee, _ path: [UInt8], dirfd: Int32 = Tracer.atFDCWD, follow: Bool,
                   scope: ResolutionScope = .guest) -> Result<Translation, Errno> {
        let result = translateOnce(t, path, dirfd: dirfd, follow: follow, scope: scope)
        guard let standIn = devStandIn, case .success(let tr) = result, landsIn(standIn, tr) else { return result }
        do throws(PtraceEngine.Failure) {
            try makeDevDirectoryNow()
        } catch {
            // Never the host's /dev in its place.
            PtraceEngine.report(error.description)
            return .failure(.ioError)
        }
        return translateOnce(t, path, dirfd: dirfd, follow: follow, scope: scope)
    }

    /// Whether `tr` names something in binding `standIn` itself (not in a device node's
    /// binding on top of it). Only host paths below the stand-in can: the string test
    /// first, the guest path (made only then) after. A relative path the kernel resolves
    /// alone cannot: the tracee's directories there were all translated, so made it.
    private func landsIn(_ standIn: Int, _ tr: Translation) -> Bool {
        let host = Setup.DevStandIn.host
        guard tr.host.hasPrefix(host), tr.host.utf8.count == host.utf8.count || tr.host.utf8.dropFirst(host.utf8.count).first == UInt8(ascii: "/")
        else { return false }
        return bindings.locate(tr.guest).binding == standIn
    }

    private func translateOnce(_ t: Tracee, _ path: [UInt8], dirfd: Int32, follow: Bool,
                               scope: ResolutionScope) -> Result<Translation, Errno> {
        // Most paths are ASCII: valid UTF-8 with no String made to find out; the absolute
        // fast path needs none.
        let ascii = path.allSatisfy { $0 < 0x80 }
        if ascii, scope == .guest, let fast = absoluteTranslation(t, path, follow: follow) {
            if emulator?.appliesModes == true { openUp(t, fast.host) }
            return .success(fast)
        }
        guard let text = ascii ? String(decoding: path, as: UTF8.self) : String(validating: path, as: UTF8.self) else {
            // Not UTF-8: only the lexical prefix can be applied.
            let host = path.first == UInt8(ascii: "/") ? bindings[0].host + String(decoding: path, as: UTF8.self) : String(decoding: path, as: UTF8.self)
            return .success(Translation(host: host, guest: .root, changed: path.first == UInt8(ascii: "/")))
        }
        if scope == .guest, let fast = fastTranslation(t, path, text: text, dirfd: dirfd, follow: follow) {
            if emulator?.appliesModes == true, let dir = directory(t, dirfd) { openUp(t, dir.host + "/" + fast.host) }
            return .success(fast)
        }
        if !ascii, scope == .guest, let fast = absoluteTranslation(t, path, follow: follow) {
            if emulator?.appliesModes == true { openUp(t, fast.host) }
            return .success(fast)
        }
        var base = GuestPath.root
        var baseHost: String?
        if !text.hasPrefix("/") {
            guard let dir = directory(t, dirfd) else {
                // A deleted or unknown directory: the kernel resolves the path there itself.
                return .success(Translation(host: text, guest: .root, changed: false))
            }
            base = dir.guest
            baseHost = dir.host
        }
        var guest: GuestPath
        let trailer: Canonicalizer.Trailer
        do throws(PathFailure) {
            (guest, trailer) = try canonicalizer.resolve(text, base: base, followLast: follow,
                                                         lookup: TraceeLookup(tracer: self, tracee: t), scope: scope)
        } catch {
            switch error {
            case .tooManyLinks: return .failure(.tooManySymbolicLinkLevels)
            case .tooLong: return .failure(.fileNameTooLong)
            case .escapes: return .failure(.improperLink)
            case .errno(let e): return .failure(Errno(rawValue: e))
            }
        }
        if follow, trailer == .none, let exe = procExe(t, guest) {
            guest = exe
        }
        let host = bindings.host(guest)
        if host.utf8.count >= 4096 { return .failure(.fileNameTooLong) }
        if let baseHost, !text.split(separator: "/").contains(".."),
           host == (baseHost == "/" ? "" : baseHost) + "/" + text.split(separator: "/").filter({ $0 != "." }).joined(separator: "/") {
            if emulator?.appliesModes == true { openUp(t, host) }
            return .success(Translation(host: text, guest: guest, changed: false))
        }
        if emulator?.appliesModes == true { openUp(t, host) }
        // The tail the kernel must still see (`dir/`, `dir/.`), except on `/` itself.
        let tail = host == "/" && trailer == .slash ? "" : trailer.rawValue
        return .success(Translation(host: host + tail, guest: guest, changed: true))
    }

    /// The guest and host path of the directory `dirfd` (or the cwd) of the tracee; nil when
    /// it is deleted or outside the guest's tree.
    func directory(_ t: Tracee, _ dirfd: Int32) -> (guest: GuestPath, host: String)? {
        if dirfd == Tracer.atFDCWD { return workingDirectory(t).map { ($0.guest, $0.host) } }
        let link = dirfd == Tracer.atFDCWD ? "/proc/\(t.pid)/cwd" : "/proc/\(t.pid)/fd/\(dirfd)"
        guard let host = Files.readlinkIfSymlink(link, at: Tracer.atFDCWD), host.hasPrefix("/"), !host.hasSuffix(" (deleted)"),
              let guest = bindings.guestPath(ofHost: host)
        else { return nil }
        return (guest, host)
    }

    /// `/proc/PID/exe` (or self) names the guest program the tracee runs, where known.
    func procExe(_ t: Tracee, _ g: GuestPath) -> GuestPath? {
        guard let proc = procDestination, g.isWithin(proc), g.components.count == proc.components.count + 2,
              g.lastComponent == "exe"
        else { return nil }
        let who = g.components[proc.components.count]
        if who == "self" || who == "thread-self" { return t.exe ?? kernelExe(t.pid) }
        if let n = pid_t(who), let other = tracees[n] { return other.exe ?? kernelExe(n) }
        return nil
    }

    /// What the kernel says tracee `pid` runs, as a guest path: for a process whose program
    /// Burrow has not seen yet (its fork event not taken when it first asks).
    func kernelExe(_ pid: pid_t) -> GuestPath? {
        guard var host = Files.readlinkIfSymlink("/proc/\(pid)/exe", at: Tracer.atFDCWD) else { return nil }
        if host.hasSuffix(" (deleted)") { host.removeLast(10) }
        return bindings.guestPath(ofHost: host)
    }

    /// A host path as the supervisor must use it to mean what it means to tracee `t`:
    /// /proc/self (and thread-self) name the tracee, not the supervisor.
    /// `followLast: false` (lstat, readlink): /proc/self itself is then the symlink, which
    /// looks the same from every process.
    func inTracee(_ host: String, _ t: Tracee, followLast: Bool = true) -> String {
        // Most paths are not below /proc: no work for them (this runs for every answered call).
        guard host.utf8.starts(with: "/proc/s".utf8) || host.utf8.starts(with: "/proc/t".utf8) else { return host }
        for (name, replacement) in [("/proc/self", "/proc/\(t.pid)"), ("/proc/thread-self", "/proc/\(t.pid)/task/\(t.pid)")]
        where (host == name && followLast) || host.hasPrefix(name + "/") {
            return replacement + host.dropFirst(name.count)
        }
        return host
    }

    /// The text of the guest's /proc/self or /proc/thread-self link for tracee `t` (its
    /// thread group's id, and its own); nil for any other path.
    func ownProcLink(_ t: Tracee, _ g: GuestPath) -> String? {
        guard let proc = procDestination, g.isWithin(proc), g.components.count == proc.components.count + 1 else { return nil }
        switch g.lastComponent {
        case "self": return "\(Proc.threadGroup(of: t.pid))"
        case "thread-self": return "\(Proc.threadGroup(of: t.pid))/task/\(t.pid)"
        default: return nil
        }
    }

    /// Follow rule of one argument, read from the registers.
    func follows(_ f: Follow, _ t: Tracee, _ regs: Trace.Registers) -> Bool {
        switch f {
        case .always: return true
        case .never: return false
        case .unlessFlag(let arg, let bit): return regs.arg(arg) & bit == 0
        case .ifFlag(let arg, let bit): return regs.arg(arg) & bit != 0
        case .openFlags(let arg): return Self.openFollows(regs.arg(arg))
        case .openHow(let arg): return Self.openFollows(openHowFlags(t, regs.arg(arg)))
        }
    }

    static func openFollows(_ flags: UInt64) -> Bool {
        let creatExcl: UInt64 = 0o100 | 0o200
        return flags & SyscallTable.oNoFollow == 0 && flags & creatExcl != creatExcl
    }

    func openHowFlags(_ t: Tracee, _ address: UInt64) -> UInt64 {
        guard let b = Trace.read(t.pid, at: address, count: 8) else { return 0 }
        return b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    func writes(_ w: Writes, _ t: Tracee, _ regs: Trace.Registers) -> Bool {
        let openWrite: UInt64 = 0o1 | 0o2 | 0o100 | 0o1000  // O_WRONLY O_RDWR O_CREAT O_TRUNC
        switch w {
        case .no: return false
        case .yes: return true
        case .openFlags(let arg): return regs.arg(arg) & openWrite != 0
        case .openHow(let arg): return openHowFlags(t, regs.arg(arg)) & openWrite != 0
        case .accessMode(let arg): return regs.arg(arg) & 2 != 0
        }
    }
}

/// Room below the tracee's stack pointer (past the red zone) for the strings and arrays
/// Burrow hands to the kernel in its place, as PRoot does.
struct Scratch {
    let pid: pid_t
    var cursor: UInt64
    /// The highest address the call's pointers can hold (i386: 32 bits; `int $0x80` from
    /// 64-bit code may have its stack above them).
    let limit: UInt64

    init(pid: pid_t, regs: Trace.Registers) {
        self.pid = pid
        cursor = regs.stackPointer &- Trace.Registers.redZone
        limit = regs.addressLimit
    }

    /// Writes `bytes` and returns their address in the tracee, or nil.
    mutating func push(_ bytes: [UInt8]) -> UInt64? {
        cursor = (cursor &- UInt64(bytes.count)) & ~15
        guard cursor <= limit, limit - cursor >= UInt64(bytes.count) else { return nil }
        return Trace.write(pid, at: cursor, bytes) ? cursor : nil
    }

    mutating func push(string: String) -> UInt64? { push(Array(string.utf8) + [0]) }
}
