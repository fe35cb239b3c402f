/// The container's cgroup (burrow-oci's linux.cgroupsPath and linux.resources): where it is
/// and the limits written there before the command runs. Pure: which file of which
/// controller gets which value is decided here, for cgroup v1 and v2 (runc's fs and fs2
/// drivers name the same files); Sources/burrow/Cgroups.swift makes the directories, writes
/// the values and puts the container's processes in.
public struct CgroupSpec: Equatable, Sendable {
    /// As linux.cgroupsPath has it: absolute is under each hierarchy's root, relative under
    /// the cgroup the runtime runs in (runc's cgroupfs driver).
    public var path: String
    public var limits: CgroupLimits
    public init(path: String, limits: CgroupLimits = CgroupLimits()) {
        self.path = path
        self.limits = limits
    }
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
}

public enum CgroupVersion: Equatable, Sendable { case v1, v2 }

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
    /// quota, as the kernel checks each against the other).
    public func writes(_ version: CgroupVersion) throws(CgroupLimitError) -> [CgroupWrite] {
        if let s = swappiness, s > 100 { throw CgroupLimitError("memory.swappiness", "\(s) is not from 0 to 100") }
        if let p = cpuPeriod, p != 0, p < 1000 || p > 1_000_000 {
            throw CgroupLimitError("cpu.period", "\(p) is not from 1000 to 1000000 microseconds")
        }
        if let q = cpuQuota, q > 0, q < 1000 { throw CgroupLimitError("cpu.quota", "\(q) is below 1000 microseconds") }
        return version == .v1 ? v1Writes() : try v2Writes()
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
