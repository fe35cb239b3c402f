/// The container's cgroup (burrow-oci's linux.cgroupsPath and linux.resources): where it is
/// and the limits and device rules written there before the command runs. Pure: which file
/// of which controller gets which value is decided here, for cgroup v1 and v2 (runc's fs and
/// fs2 drivers name the same files); Sources/burrow/Cgroups.swift makes the directories,
/// writes the values and puts the container's processes in.
public struct CgroupSpec: Equatable, Sendable {
    /// As linux.cgroupsPath has it: absolute is under each hierarchy's root, relative under
    /// the cgroup the runtime runs in (runc's cgroupfs driver).
    public var path: String
    public var limits: CgroupLimits
    public init(path: String, limits: CgroupLimits = CgroupLimits()) {
        self.path = path
        self.limits = limits
    }

    /// Asked for by nothing but device rules that hold without a device cgroup (runc's
    /// deny-all and the like, with no cgroupsPath): made where a device cgroup can be had,
    /// as runc makes one for its rules, and else left out, the rules holding anyway.
    public var onlyForDevices: Bool { path.isEmpty && !limits.needsCgroup }
}

/// linux.resources' pids, memory and cpu, as numbers. nil is "not asked"; each is named in
/// the config's own terms (`memory.limit`) in messages.
public struct CgroupLimits: Equatable, Sendable {
    /// pids.limit: above 0 that many tasks, below 0 no limit; 0 is not a limit (as runc).
    public var pids: Int64?
    /// memory.limit, memory.reservation (the soft limit), memory.swap (memory and swap
    /// together, as v1's memsw counts it); -1 is no limit, 0 is not a limit (as runc).
    public var memory: Int64?
    public var memoryReservation: Int64?
    public var memorySwap: Int64?
    /// 0 to 100.
    public var swappiness: UInt64?
    public var kernelTCP: Int64?
    public var disableOOMKiller: Bool?
    public var cpuShares: UInt64?
    public var cpuQuota: Int64?
    public var cpuPeriod: UInt64?
    public var cpus: String?
    public var mems: String?
    /// linux.resources.devices, in order (`DeviceCgroupRule`). Not among `names`: rules that
    /// hold without a device cgroup ask for no cgroup of their own (`needsCgroup`).
    public var devices: [DeviceCgroupRule] = []
    public init() {}

    /// What was asked, by its name in linux.resources, for messages.
    public var names: [String] {
        var out: [String] = []
        func add(_ name: String, _ set: Bool) { if set { out.append(name) } }
        add("pids.limit", pids != nil)
        add("memory.limit", memory != nil)
        add("memory.reservation", memoryReservation != nil)
        add("memory.swap", memorySwap != nil)
        add("memory.swappiness", swappiness != nil)
        add("memory.kernelTCP", kernelTCP != nil)
        add("memory.disableOOMKiller", disableOOMKiller != nil)
        add("cpu.shares", cpuShares != nil)
        add("cpu.quota", cpuQuota != nil)
        add("cpu.period", cpuPeriod != nil)
        add("cpu.cpus", cpus != nil)
        add("cpu.mems", mems != nil)
        return out
    }
    public var isEmpty: Bool { names.isEmpty }

    /// Whether the container needs a cgroup of its own for these: a limit, or a device rule
    /// that only a device cgroup can make true.
    public var needsCgroup: Bool { !isEmpty || devices.contains { !$0.holdsWithoutCgroup } }
}

public enum CgroupVersion: Equatable, Sendable { case v1, v2 }

/// One rule of linux.resources.devices: allow or deny reading, writing or making (mknod)
/// devices of a type (`a`: character and block) by major and minor, nil being any. A device
/// cgroup takes them in the listed order (cgroup v1's devices.allow and devices.deny).
public struct DeviceCgroupRule: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable, CaseIterable {
        case all = "a"
        case block = "b"
        case character = "c"
    }
    public var allow: Bool
    public var kind: Kind
    public var major: Int64?
    public var minor: Int64?
    /// r, w and m, each at most once, at least one, in that order.
    public var access: String
    /// Whether the container has what the rule says without a device cgroup: a denial (the
    /// container's /dev has nothing more), mknod alone (no node can be made in its user
    /// namespace), or an allowing of devices its /dev has (`burrowDev`, or one linux.devices
    /// makes). Else only a device cgroup makes it true.
    public var holdsWithoutCgroup: Bool
    /// Its index in linux.resources.devices, for messages (nil: one of Burrow's own).
    public var index: Int?

    public init(allow: Bool, kind: Kind = .all, major: Int64? = nil, minor: Int64? = nil, access: String = "rwm",
                holdsWithoutCgroup: Bool = false, index: Int? = nil) {
        self.allow = allow
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
        self.holdsWithoutCgroup = holdsWithoutCgroup
        self.index = index
    }

    /// `c 10:229 rwm`, `a *:* rwm`: as cgroup v1's devices.list shows one.
    public var description: String {
        "\(kind.rawValue) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }

    /// The character devices of Burrow's /dev, by major and minor (nil: any minor): null,
    /// zero, full, random, urandom; tty, console, ptmx; the pts. What the runtime-spec's
    /// default devices are, which runc allows after the config's rules whatever they say.
    public static let burrowDev: [(major: Int64, minor: Int64?)] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, nil)]

    /// What a device cgroup allows after the config's rules, as runc appends its own: mknod
    /// of any device (Burrow's supervisor makes linux.devices in the cgroup; the container,
    /// in its user namespace, can make none), and Burrow's /dev.
    public static let appended: [DeviceCgroupRule] =
        [DeviceCgroupRule(allow: true, kind: .character, access: "m"), DeviceCgroupRule(allow: true, kind: .block, access: "m")]
        + burrowDev.map { DeviceCgroupRule(allow: true, kind: .character, major: $0.major, minor: $0.minor) }
}

/// Whether a device cgroup can be had for the container here, beside the cgroup version.
public enum DeviceCgroupSupport: Equatable, Sendable {
    /// cgroup v1's devices controller is mounted and the caller may write its rules (root
    /// on the host: devices.allow takes CAP_SYS_ADMIN in the initial user namespace).
    case writable
    /// The caller is not root on the host.
    case notRoot
    /// No cgroup v1 devices controller is mounted (cgroup v2's is a BPF program).
    case notMounted
}

/// One value written to one file of the container's cgroup. `controller` is the v1
/// hierarchy the file is in (`memory`), or under v2 the controller the parent must enable.
public struct CgroupWrite: Equatable, Sendable {
    public var controller: String
    public var file: String
    public var value: String
    /// The setting of linux.resources it comes from (`memory.swap`), for messages.
    public var setting: String
    public init(_ controller: String, _ file: String, _ value: String, setting: String) {
        self.controller = controller
        self.file = file
        self.value = value
        self.setting = setting
    }
}

/// A limit one cgroup version cannot express, or a value out of range.
public struct CgroupLimitError: Error, Equatable, Sendable {
    public var setting: String
    public var reason: String
    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }
    public var message: String { "linux.resources.\(setting): \(reason)" }
}

extension CgroupLimits {
    /// The controllers burrow-oci puts the container in under v1, whatever is asked (the
    /// validation suite reads the cgroup of each from /proc/PID/cgroup, as runc joins them all).
    public static let v1Controllers = ["cpu", "cpuset", "memory", "pids"]

    /// The files to write, in order (memory before memory+swap, the CFS period before the
    /// quota, as the kernel checks each against the other); the device rules last, where
    /// `devices` says a device cgroup can be had (`deviceWrites`).
    public func writes(_ version: CgroupVersion, devices: DeviceCgroupSupport = .notMounted) throws(CgroupLimitError) -> [CgroupWrite] {
        if let s = swappiness, s > 100 { throw CgroupLimitError("memory.swappiness", "\(s) is not from 0 to 100") }
        if let p = cpuPeriod, p != 0, p < 1000 || p > 1_000_000 {
            throw CgroupLimitError("cpu.period", "\(p) is not from 1000 to 1000000 microseconds")
        }
        if let q = cpuQuota, q > 0, q < 1000 { throw CgroupLimitError("cpu.quota", "\(q) is below 1000 microseconds") }
        return try (version == .v1 ? v1Writes() : v2Writes()) + deviceWrites(version, devices)
    }

    /// The device rules as cgroup v1 takes them: each to devices.allow or devices.deny in
    /// the listed order, then `DeviceCgroupRule.appended`. The kernel applies a rule that
    /// takes something away (a denial where the default allows, an allowing where it
    /// denies) to an entry for exactly the same devices only: one that would so be ignored in
    /// part, behind a wider or narrower entry an earlier rule made, is refused (runc's
    /// emulator refuses it as well). Without a device cgroup, the rules that hold anyway
    /// (`holdsWithoutCgroup`) are left as they are and any other is refused by name.
    func deviceWrites(_ version: CgroupVersion, _ support: DeviceCgroupSupport) throws(CgroupLimitError) -> [CgroupWrite] {
        guard !devices.isEmpty else { return [] }
        guard version == .v1, support == .writable else {
            guard let rule = devices.first(where: { !$0.holdsWithoutCgroup }) else { return [] }
            let why: String
            switch (version, support) {
            case (.v2, _):
                why = "which under cgroup v2 is a BPF program attached to the cgroup, and burrow-oci loads none yet"
            case (.v1, .notRoot):
                why = "which cgroup v1 lets only root on the host write (devices.allow takes CAP_SYS_ADMIN in the initial user namespace)"
            default:
                why = "and this host mounts no cgroup v1 devices controller"
            }
            throw CgroupLimitError("devices[\(rule.index ?? 0)]", """
                allowing \(rule) needs a device cgroup, \(why): without one only denials, mknod, and rules for the \
                devices of Burrow's /dev (null, zero, full, random, urandom, tty, console, ptmx, pts) or those linux.devices \
                makes are accepted
                """)
        }
        var table = V1DeviceTable()
        var out: [CgroupWrite] = []
        for rule in devices + DeviceCgroupRule.appended {
            let setting = rule.index.map { "devices[\($0)]" } ?? "devices (Burrow's /dev)"
            for line in table.lines(for: rule) {
                if let blocker = table.apply(line), rule.index != nil {
                    throw CgroupLimitError(setting, """
                        \(rule.allow ? "allowing" : "denying") \(line.text) after \(blocker.text) \(table.allowsAll ? "was denied" : "was allowed") \
                        would be ignored in part: cgroup v1 takes back only an entry for exactly the same devices
                        """)
                }
                out.append(CgroupWrite("devices", rule.allow ? "devices.allow" : "devices.deny", line.text, setting: setting))
            }
        }
        return out
    }

    private func v1Writes() -> [CgroupWrite] {
        var out: [CgroupWrite] = []
        if let n = pids, n != 0 { out.append(CgroupWrite("pids", "pids.max", n > 0 ? "\(n)" : "max", setting: "pids.limit")) }
        if let m = memory, m != 0 { out.append(CgroupWrite("memory", "memory.limit_in_bytes", "\(m)", setting: "memory.limit")) }
        if let s = memorySwap, s != 0 { out.append(CgroupWrite("memory", "memory.memsw.limit_in_bytes", "\(s)", setting: "memory.swap")) }
        if let r = memoryReservation, r != 0 {
            out.append(CgroupWrite("memory", "memory.soft_limit_in_bytes", "\(r)", setting: "memory.reservation"))
        }
        if let t = kernelTCP, t != 0 {
            out.append(CgroupWrite("memory", "memory.kmem.tcp.limit_in_bytes", "\(t)", setting: "memory.kernelTCP"))
        }
        if let s = swappiness { out.append(CgroupWrite("memory", "memory.swappiness", "\(s)", setting: "memory.swappiness")) }
        if disableOOMKiller == true { out.append(CgroupWrite("memory", "memory.oom_control", "1", setting: "memory.disableOOMKiller")) }
        if let s = cpuShares, s != 0 { out.append(CgroupWrite("cpu", "cpu.shares", "\(s)", setting: "cpu.shares")) }
        if let p = cpuPeriod, p != 0 { out.append(CgroupWrite("cpu", "cpu.cfs_period_us", "\(p)", setting: "cpu.period")) }
        if let q = cpuQuota, q != 0 { out.append(CgroupWrite("cpu", "cpu.cfs_quota_us", q > 0 ? "\(q)" : "-1", setting: "cpu.quota")) }
        if let c = cpus, !c.isEmpty { out.append(CgroupWrite("cpuset", "cpuset.cpus", c, setting: "cpu.cpus")) }
        if let m = mems, !m.isEmpty { out.append(CgroupWrite("cpuset", "cpuset.mems", m, setting: "cpu.mems")) }
        return out
    }

    private func v2Writes() throws(CgroupLimitError) -> [CgroupWrite] {
        var out: [CgroupWrite] = []
        func bytes(_ n: Int64) -> String { n < 0 ? "max" : "\(n)" }
        if let n = pids, n != 0 { out.append(CgroupWrite("pids", "pids.max", n > 0 ? "\(n)" : "max", setting: "pids.limit")) }
        if let m = memory, m != 0 { out.append(CgroupWrite("memory", "memory.max", bytes(m), setting: "memory.limit")) }
        if let s = memorySwap, s != 0 {
            // v2 limits swap alone (memory.swap.max); OCI's swap is memory and swap together.
            let value: String
            if s < 0 {
                value = "max"
            } else {
                guard let m = memory, m > 0 else {
                    throw CgroupLimitError("memory.swap", "under cgroup v2 a swap limit needs memory.limit too (memory.swap.max is the swap alone: swap - limit)")
                }
                guard s >= m else { throw CgroupLimitError("memory.swap", "\(s) is below memory.limit \(m) (it counts memory and swap together)") }
                value = "\(s - m)"
            }
            out.append(CgroupWrite("memory", "memory.swap.max", value, setting: "memory.swap"))
        }
        if let r = memoryReservation, r != 0 { out.append(CgroupWrite("memory", "memory.low", bytes(r), setting: "memory.reservation")) }
        if swappiness != nil { throw CgroupLimitError("memory.swappiness", "cgroup v2 has no per-cgroup swappiness") }
        if kernelTCP != nil { throw CgroupLimitError("memory.kernelTCP", "cgroup v2 has no separate TCP memory limit") }
        if disableOOMKiller == true { throw CgroupLimitError("memory.disableOOMKiller", "cgroup v2 cannot turn the OOM killer off") }
        if let s = cpuShares, s != 0 {
            // runc's mapping of v1 shares (2 to 262144) onto v2 weights (1 to 10000).
            let shares = min(max(s, 2), 262_144)
            out.append(CgroupWrite("cpu", "cpu.weight", "\(1 + ((shares - 2) * 9999) / 262_142)", setting: "cpu.shares"))
        }
        let quota = cpuQuota ?? 0, period = cpuPeriod ?? 0
        if quota != 0 || period != 0 {
            out.append(CgroupWrite("cpu", "cpu.max", "\(quota > 0 ? "\(quota)" : "max") \(period != 0 ? period : 100_000)",
                                   setting: cpuQuota != nil ? "cpu.quota" : "cpu.period"))
        }
        if let c = cpus, !c.isEmpty { out.append(CgroupWrite("cpuset", "cpuset.cpus", c, setting: "cpu.cpus")) }
        if let m = mems, !m.isEmpty { out.append(CgroupWrite("cpuset", "cpuset.mems", m, setting: "cpu.mems")) }
        return out
    }
}

/// The kernel's cgroup v1 device table as the rules change it (security/device_cgroup.c):
/// a default (allow or deny all) and entries that are exceptions to it. A new cgroup has
/// its parent's; until a rule of type `a` sets the default, it is taken to allow all (the
/// root cgroup's) and its entries unknown.
struct V1DeviceTable {
    struct Line: Equatable {
        var all = false
        var kind: DeviceCgroupRule.Kind = .all
        var major: Int64?
        var minor: Int64?
        var access: Set<Character> = []
        var allow = true
        var text: String {
            all ? "a" : "\(kind.rawValue) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(String("rwm".filter(access.contains)))"
        }
        func sameDevices(_ o: Line) -> Bool { kind == o.kind && major == o.major && minor == o.minor }
        func overlaps(_ o: Line) -> Bool {
            kind == o.kind && (major == nil || o.major == nil || major == o.major) && (minor == nil || o.minor == nil || minor == o.minor)
                && !access.isDisjoint(with: o.access)
        }
    }
    var allowsAll = true
    var known = false
    var entries: [Line] = []

    /// A rule as the lines written: `a` for every device with every access (the kernel reads
    /// only that letter of such a line), else one line per type.
    func lines(for r: DeviceCgroupRule) -> [Line] {
        let access = Set(r.access)
        if r.kind == .all, r.major == nil, r.minor == nil, access == Set("rwm") { return [Line(all: true, allow: r.allow)] }
        let kinds: [DeviceCgroupRule.Kind] = r.kind == .all ? [.character, .block] : [r.kind]
        return kinds.map { Line(kind: $0, major: r.major, minor: r.minor, access: access, allow: r.allow) }
    }

    /// Applies one line; returns the entry that keeps a taking-back line from its whole effect.
    mutating func apply(_ line: Line) -> Line? {
        if line.all {
            allowsAll = line.allow
            known = true
            entries = []
            return nil
        }
        if line.allow != allowsAll {
            // An exception: merged into the entry for the same devices, or added.
            if let i = entries.firstIndex(where: { $0.sameDevices(line) }) { entries[i].access.formUnion(line.access) } else { entries.append(line) }
            return nil
        }
        // Taking back: only the entry for exactly these devices loses the access.
        let blocker = known ? entries.first { !$0.sameDevices(line) && $0.overlaps(line) } : nil
        if let i = entries.firstIndex(where: { $0.sameDevices(line) }) {
            entries[i].access.subtract(line.access)
            if entries[i].access.isEmpty { entries.remove(at: i) }
        }
        return blocker
    }
}

extension CgroupLimits {
    /// burrow-oci's update: these limits (those in effect) with what `changes` asks, the rest
    /// kept, and the settings changed. A memory limit lifted (-1) lifts a swap limit set
    /// before too, as runc's update does (under v1 memory cannot exceed memory+swap).
    public func updated(with changes: CgroupLimits) -> (limits: CgroupLimits, changed: Set<String>) {
        var out = self
        var changed = Set(changes.names)
        func take<T>(_ path: WritableKeyPath<CgroupLimits, T?>) { if let v = changes[keyPath: path] { out[keyPath: path] = v } }
        take(\.pids)
        take(\.memory)
        take(\.memoryReservation)
        take(\.memorySwap)
        take(\.swappiness)
        take(\.kernelTCP)
        take(\.disableOOMKiller)
        take(\.cpuShares)
        take(\.cpuQuota)
        take(\.cpuPeriod)
        take(\.cpus)
        take(\.mems)
        if changes.memory == -1, changes.memorySwap == nil, let swap = memorySwap, swap > 0 {
            out.memorySwap = -1
            changed.insert("memory.swap")
        }
        return (out, changed)
    }

    /// What an update writes, with these limits once updated: the files of the settings
    /// `changed`, and under v2 those they share (cpu.max holds quota and period;
    /// memory.swap.max is swap less the memory limit). Under v1, where memory and
    /// memory+swap both change, memory+swap goes first when it grows past the memory limit
    /// in force now (`memoryLimitNow`), as runc orders them: the kernel keeps memory at most
    /// memory+swap after each write.
    public func updateWrites(_ version: CgroupVersion, changed: Set<String>, memoryLimitNow: Int64? = nil)
        throws(CgroupLimitError) -> [CgroupWrite]
    {
        var out = try writes(version).filter { w in
            changed.contains(w.setting) || (w.file == "cpu.max" && !changed.isDisjoint(with: ["cpu.quota", "cpu.period"]))
                || (w.file == "memory.swap.max" && changed.contains("memory.limit"))
        }
        if version == .v1, let m = out.firstIndex(where: { $0.setting == "memory.limit" }),
           let s = out.firstIndex(where: { $0.setting == "memory.swap" }), let swap = memorySwap,
           swap == -1 || memoryLimitNow.map({ $0 < swap }) == true {
            let w = out.remove(at: s)
            out.insert(w, at: m)
        }
        return out
    }
}
