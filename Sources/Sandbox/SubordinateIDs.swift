/// Root inside for package managers. apt, dpkg, useradd and su switch to other ids
/// (`_apt` is 42) and call `setgroups`; with the caller's own id alone mapped, the kernel
/// refuses both (`seteuid 42 failed: Invalid argument`, `setgroups 0 failed: Operation not
/// permitted`). When root inside is asked for and no map is given, the namespace engine maps
/// the caller's subordinate ranges instead, as podman does: the caller to 0, the ranges
/// /etc/subuid and /etc/subgid give them to 1, 2, ... through newuidmap/newgidmap (the
/// host's setuid helpers, which check the ranges). Pure: the engine reads the files.
public enum SubordinateIDs {
    /// One line of /etc/subuid or /etc/subgid: `count` host ids from `start`.
    public struct Range: Equatable, Sendable {
        public var start: UInt32
        public var count: UInt32
        public init(start: UInt32, count: UInt32) {
            self.start = start
            self.count = count
        }
    }

    /// The kernel takes at most 340 lines in a map (linux/user_namespace.h,
    /// UID_GID_MAP_MAX_EXTENTS); one is the caller's own id.
    public static let maximumRanges = 339

    /// The ranges of the owner named `name` or numbered `id` in shadow's `owner:start:count`
    /// format, in file order, as newuidmap reads them. Malformed and empty lines are skipped.
    public static func ranges(in text: String, owner name: String?, id: UInt32) -> [Range] {
        var out: [Range] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == String(id) || (name.map { f[0] == $0 } ?? false),
                  let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0,
                  UInt64(start) + UInt64(count) <= UInt64(UInt32.max) else { continue }
            out.append(Range(start: start, count: count))
            if out.count == maximumRanges { break }
        }
        return out
    }

    /// podman's map for root inside: the caller's id at 0, the ranges one after another from
    /// 1. Empty when there is no range (then only the caller's own id could be mapped).
    public static func rootMap(caller: UInt32, ranges: [Range]) -> [IDMap] {
        guard !ranges.isEmpty else { return [] }
        var map = [IDMap(inside: 0, outside: caller, count: 1)]
        var next: UInt64 = 1
        for r in ranges {
            // Inside ids end at 2^32-2 (4294967295 is "no id"): cut what goes beyond.
            let room = UInt64(UInt32.max) - next
            guard room > 0 else { break }
            let count = UInt32(min(UInt64(r.count), room))
            map.append(IDMap(inside: UInt32(next), outside: r.start, count: count))
            next += UInt64(count)
        }
        return map
    }

    /// `0-65536` for a map that covers 0 to 65536 without a gap, as -v says it.
    public static func span(_ map: [IDMap]) -> String {
        let last = map.map { UInt64($0.inside) + UInt64($0.count) - 1 }.max() ?? 0
        return "0-\(last)"
    }
}

extension Identity {
    /// Root inside is asked for (`--root`, `-0`, proot's `-0`, `--uid 0 --gid 0`) and no map
    /// is given: the namespace engine then maps the caller's subordinate ranges when there
    /// are some (`SubordinateIDs`). Names (jchroot's `-u root`) resolve in the rootfs, after
    /// the engine is chosen, and are not counted.
    public var asksForRootWithoutMaps: Bool {
        uid == 0 && gid == 0 && uidMap.isEmpty && gidMap.isEmpty && userName == nil && groupName == nil
    }
}

extension EngineSelection {
    /// Why `auto` takes the ptrace engine for root inside, or nil. Root that package
    /// managers can use is real on the namespace engine with the caller's subordinate ranges
    /// (`subordinate` nil: there are some, and newuidmap/newgidmap). Without them the choice
    /// is the ptrace engine, whose faked ids switch and setgroups as the kernel would, rather
    /// than faking ids on the namespace engine too: that would need a tracer or a seccomp
    /// notifier for every id call and every owner, which is the ptrace engine. Setuid mode
    /// never makes root inside (no user namespace: ids are real host ids), so it gives way
    /// too. Only where `auto` would otherwise pick one of those two (`plain`) and the ptrace
    /// engine can express the rest of the spec (`ptraceExpresses`): else the run stays as it
    /// was, root mapped to the caller alone, and -v says what fails.
    public static func rootReason(_ identity: Identity, subordinate: String?, plain: EngineChoice,
                                  ptraceExpresses: () -> Bool) -> String? {
        guard identity.asksForRootWithoutMaps else { return nil }
        switch plain {
        case .namespace:
            guard let subordinate, ptraceExpresses() else { return nil }
            return "root inside: \(subordinate), so the namespace engine maps only your own ids and ids other than 0 and setgroups (apt's _apt, su) fail; the ptrace engine fakes them"
        case .setuid:
            guard ptraceExpresses() else { return nil }
            return "root inside: setuid mode runs the command as you (no user namespace: ids are real host ids); the ptrace engine fakes them"
        case .auto, .ptrace:
            return nil
        }
    }
}
