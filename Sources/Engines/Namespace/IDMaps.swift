import BurrowKernel
import BurrowSandbox
import Glibc

/// Writes the sandbox's uid and gid maps from the supervisor, outside the new namespace.
/// With no ranges given, the caller's own ids are mapped (the kernel allows that much to
/// anyone); with ranges, the setuid helpers newuidmap/newgidmap check them against
/// /etc/subuid and /etc/subgid.
struct IDMaps {
    let identity: Identity
    let hostUid: UInt32
    let hostGid: UInt32

    /// The ids the command runs as, inside.
    var insideUid: UInt32 { identity.uid ?? Self.inside(of: hostUid, in: identity.uidMap) }
    var insideGid: UInt32 { identity.gid ?? Self.inside(of: hostGid, in: identity.gidMap) }
    /// Whether the sandbox may still call setgroups: never after a direct write; after
    /// newgidmap only when a range came from /etc/subgid (shadow writes `deny` for a map of
    /// the caller's own gid alone). Asked of the kernel once the maps are written.
    var setgroupsAllowed = false

    /// Reads /proc/self/setgroups (the caller's user namespace's).
    static func setgroupsAllowedNow() -> Bool {
        guard let fd = try? Files.open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC) else { return false }
        defer { Files.close(fd) }
        return (try? Files.readAll(fd, limit: 16))?.starts(with: Array("allow".utf8)) ?? false
    }

    static func inside(of host: UInt32, in map: [IDMap]) -> UInt32 {
        if map.isEmpty { return host }
        for line in map where host >= line.outside && UInt64(host) < UInt64(line.outside) + UInt64(line.count) {
            return line.inside + (host - line.outside)
        }
        return 0
    }

    /// The same ids, for a namespace nested in one where the caller is root (0).
    func nested() -> IDMaps {
        var inner = identity
        inner.uid = insideUid
        inner.gid = insideGid
        return IDMaps(identity: inner, hostUid: 0, hostGid: 0)
    }

    /// With ranges that leave the supervisor's own ids out, the ids it takes inside once they
    /// are written: 0 where mapped (the namespace's root), else the lowest mapped one; nil
    /// where its own are mapped (or nothing is given).
    var setupIDs: (uid: UInt32, gid: UInt32)? {
        func unmapped(_ host: UInt32, _ map: [IDMap]) -> Bool {
            !map.isEmpty && !map.contains { host >= $0.outside && UInt64(host) < UInt64($0.outside) + UInt64($0.count) }
        }
        guard unmapped(hostUid, identity.uidMap) || unmapped(hostGid, identity.gidMap) else { return nil }
        func pick(_ host: UInt32, _ map: [IDMap]) -> UInt32 {
            guard unmapped(host, map) else { return Self.inside(of: host, in: map) }
            return map.contains { $0.inside == 0 } ? 0 : map.map(\.inside).min() ?? 0
        }
        return (pick(hostUid, identity.uidMap), pick(hostGid, identity.gidMap))
    }

    /// Ranges need the setuid helpers, run from outside the new namespace.
    var needsHelper: Bool { !identity.uidMap.isEmpty || !identity.gidMap.isEmpty }

    /// Run by the supervisor right after it unshared: maps its own ids (the kernel allows a
    /// process that much for itself). Ranges are left to `writeRanges`.
    func writeOwn(log: Log) throws(Failure) {
        do throws(SysError) {
            if identity.uidMap.isEmpty {
                let line = "\(insideUid) \(hostUid) 1\n"
                try Files.writeFile("/proc/self/uid_map", line)
                log.step("uid_map: \(line.dropLast())")
            }
            if identity.gidMap.isEmpty {
                // Unprivileged gid maps need setgroups disabled first (CVE-2014-8989).
                try Files.writeFile("/proc/self/setgroups", "deny\n")
                let line = "\(insideGid) \(hostGid) 1\n"
                try Files.writeFile("/proc/self/gid_map", line)
                log.step("gid_map: \(line.dropLast())")
            }
        } catch {
            throw Failure(error)
        }
    }

    /// Run by the map helper, a child the supervisor left outside: newuidmap/newgidmap for
    /// the supervisor's pid.
    func writeRanges(for pid: pid_t, log: Log) throws(Failure) {
        do throws(SysError) {
            if !identity.uidMap.isEmpty { try helper("newuidmap", pid: pid, map: identity.uidMap, log: log) }
            if !identity.gidMap.isEmpty { try helper("newgidmap", pid: pid, map: identity.gidMap, log: log) }
        } catch {
            throw Failure(error)
        }
    }

    /// newuidmap or newgidmap where shadow's uidmap package installs it, if it is there.
    static func helperPath(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)", "/usr/sbin/\(name)"].first { access($0, X_OK) == 0 }
    }

    private func helper(_ name: String, pid: pid_t, map: [IDMap], log: Log) throws(SysError) {
        // Root (really, not a setuid burrow) may write any map itself: newuidmap would
        // check the ranges against /etc/subuid, where root has none.
        if getuid() == 0, geteuid() == 0 {
            let file = "/proc/\(pid)/\(name == "newuidmap" ? "uid_map" : "gid_map")"
            let text = map.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined()
            try Files.writeFile(file, text)
            log.step("\(file): \(text.split(separator: "\n").joined(separator: ", "))")
            return
        }
        guard let path = Self.helperPath(name) else {
            throw SysError("exec", name, errno: .noSuchFileOrDirectory,
                           hint: "--uid-map/--gid-map need \(name) from the uidmap package (apt-get install uidmap)")
        }
        let args = [path, String(pid)] + map.flatMap { [String($0.inside), String($0.outside), String($0.count)] }
        log.step(args.joined(separator: " "))
        var child: pid_t = 0
        let cArgs = args.map { strdup($0) } + [nil]
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        let r = posix_spawn(&child, path, nil, nil, cArgs, env)
        if r != 0 { throw SysError("posix_spawn", path, errno: .init(rawValue: r)) }
        if Proc.wait(child, noHang: false) != .exited(0) {
            throw SysError(name, args.dropFirst().joined(separator: " "), errno: .permissionDenied,
                           hint: "\(name) refused these ranges: the host ids must be your own or lie in your range in /etc/sub\(name == "newuidmap" ? "uid" : "gid")")
        }
    }
}


extension NamespaceEngine {
    /// Root inside with the caller's subordinate ranges (`SubordinateIDs`): the maps, or why
    /// there are none, in the host's terms.
    public enum SubordinateRoot: Equatable, Sendable {
        case maps(uid: [IDMap], gid: [IDMap])
        case unavailable(String)
    }

    /// Reads /etc/subuid and /etc/subgid for the caller (keyed, as newuidmap and newgidmap
    /// key both, by the user's name in the host's /etc/passwd or by the uid) and checks that
    /// the helpers that write such maps are installed. A setuid burrow reads them as the
    /// caller (SetuidMode.begin), and newuidmap checks the ranges again when it runs.
    public static func subordinateRoot(uid: UInt32, gid: UInt32) -> SubordinateRoot {
        func read(_ path: String) -> String? {
            guard let fd = try? Files.open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) else { return nil }
            defer { Files.close(fd) }
            return (try? Files.readAll(fd, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
        }
        let name = read("/etc/passwd").flatMap { UserDatabase.user(withUid: uid, inPasswd: $0)?.name }
        let who = name ?? "uid \(uid)"
        let uidRanges = read("/etc/subuid").map { SubordinateIDs.ranges(in: $0, owner: name, id: uid) } ?? []
        let gidRanges = read("/etc/subgid").map { SubordinateIDs.ranges(in: $0, owner: name, id: uid) } ?? []
        switch (uidRanges.isEmpty, gidRanges.isEmpty) {
        case (true, true): return .unavailable("\(who) has no range in /etc/subuid and /etc/subgid")
        case (true, false): return .unavailable("\(who) has no range in /etc/subuid")
        case (false, true): return .unavailable("\(who) has no range in /etc/subgid")
        case (false, false): break
        }
        for helper in ["newuidmap", "newgidmap"] {
            guard let path = IDMaps.helperPath(helper) else { return .unavailable("\(helper) is not installed (the uidmap package)") }
            // Checked here, not learnt from a failed run: a helper that cannot gain its
            // privilege would fail the sandbox where the caller's own ids alone would do.
            if HostProbes.onNosuidMount(path) {
                return .unavailable("\(path) is on a nosuid mount and cannot gain its privilege")
            }
        }
        if HostProbes.noNewPrivileges {
            return .unavailable("burrow runs with no_new_privs, so newuidmap cannot gain its privilege")
        }
        return .maps(uid: SubordinateIDs.rootMap(caller: uid, ranges: uidRanges),
                     gid: SubordinateIDs.rootMap(caller: gid, ranges: gidRanges))
    }
}
