import Testing

@testable import BurrowSandbox

/// The files and values of the container's cgroup (burrow-oci), per cgroup version.
@Suite("Cgroup limits as files") struct CgroupTests {
    static func limits(_ set: (inout CgroupLimits) -> Void) -> CgroupLimits {
        var l = CgroupLimits()
        set(&l)
        return l
    }

    /// (limits, v1's writes as controller/file=value, v2's, or the v2 refusal)
    static let table: [(CgroupLimits, [String], [String])] = [
        (limits { $0.pids = 1000 }, ["pids/pids.max=1000"], ["pids/pids.max=1000"]),
        (limits { $0.pids = -1 }, ["pids/pids.max=max"], ["pids/pids.max=max"]),
        (limits { $0.pids = 0 }, [], []),
        (limits { $0.memory = 50_593_792; $0.memorySwap = 60_593_792; $0.memoryReservation = 40_000_000 },
         ["memory/memory.limit_in_bytes=50593792", "memory/memory.memsw.limit_in_bytes=60593792", "memory/memory.soft_limit_in_bytes=40000000"],
         ["memory/memory.max=50593792", "memory/memory.swap.max=10000000", "memory/memory.low=40000000"]),
        (limits { $0.memory = -1; $0.memorySwap = -1 },
         ["memory/memory.limit_in_bytes=-1", "memory/memory.memsw.limit_in_bytes=-1"], ["memory/memory.max=max", "memory/memory.swap.max=max"]),
        (limits { $0.cpuShares = 1024; $0.cpuPeriod = 500_000; $0.cpuQuota = 200_000; $0.cpus = "0-1"; $0.mems = "0" },
         ["cpu/cpu.shares=1024", "cpu/cpu.cfs_period_us=500000", "cpu/cpu.cfs_quota_us=200000", "cpuset/cpuset.cpus=0-1", "cpuset/cpuset.mems=0"],
         ["cpu/cpu.weight=39", "cpu/cpu.max=200000 500000", "cpuset/cpuset.cpus=0-1", "cpuset/cpuset.mems=0"]),
        (limits { $0.cpuQuota = -1 }, ["cpu/cpu.cfs_quota_us=-1"], ["cpu/cpu.max=max 100000"]),
        (limits { $0.cpuShares = 2 }, ["cpu/cpu.shares=2"], ["cpu/cpu.weight=1"]),
        (limits { $0.cpuShares = 262_144 }, ["cpu/cpu.shares=262144"], ["cpu/cpu.weight=10000"]),
    ]

    @Test("v1 and v2 files for each limit, in the order the kernel accepts them", arguments: table.indices)
    func files(_ i: Int) throws {
        let (limits, v1, v2) = Self.table[i]
        #expect(try limits.writes(.v1).map { "\($0.controller)/\($0.file)=\($0.value)" } == v1)
        #expect(try limits.writes(.v2).map { "\($0.controller)/\($0.file)=\($0.value)" } == v2)
    }

    static let v1Only: [(CgroupLimits, String, String)] = [
        (limits { $0.swappiness = 10 }, "memory/memory.swappiness=10", "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness"),
        (limits { $0.disableOOMKiller = true }, "memory/memory.oom_control=1", "linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off"),
        (limits { $0.kernelTCP = 1_000_000 }, "memory/memory.kmem.tcp.limit_in_bytes=1000000", "linux.resources.memory.kernelTCP: cgroup v2 has no separate TCP memory limit"),
        (limits { $0.memorySwap = 1000 }, "memory/memory.memsw.limit_in_bytes=1000", "linux.resources.memory.swap: under cgroup v2 a swap limit needs memory.limit too (memory.swap.max is the swap alone: swap - limit)"),
        (limits { $0.memory = 2000; $0.memorySwap = 1000 }, "memory/memory.memsw.limit_in_bytes=1000", "linux.resources.memory.swap: 1000 is below memory.limit 2000 (it counts memory and swap together)"),
    ]

    @Test("What v2 cannot express is an error naming it, never dropped", arguments: v1Only.indices)
    func v2Refusals(_ i: Int) {
        let (limits, v1, message) = Self.v1Only[i]
        #expect((try? limits.writes(.v1))?.contains { "\($0.controller)/\($0.file)=\($0.value)" == v1 } == true)
        #expect(throws: CgroupLimitError.self) { try limits.writes(.v2) }
        do { _ = try limits.writes(.v2) } catch { #expect(error.message == message) }
    }

    @Test("Values the kernel would refuse are named before any cgroup is made")
    func ranges() {
        for (l, message) in [(Self.limits { $0.cpuPeriod = 999 }, "linux.resources.cpu.period: 999 is not from 1000 to 1000000 microseconds"),
                             (Self.limits { $0.cpuQuota = 10 }, "linux.resources.cpu.quota: 10 is below 1000 microseconds"),
                             (Self.limits { $0.swappiness = 200 }, "linux.resources.memory.swappiness: 200 is not from 0 to 100")] {
            for version in [CgroupVersion.v1, .v2] {
                do { _ = try l.writes(version); Issue.record("accepted \(l)") } catch { #expect(error.message == message) }
            }
        }
    }

    /// (limits in force, the update, v1's writes, v2's writes, the limits afterwards)
    static let updates: [(CgroupLimits, CgroupLimits, [String], [String], CgroupLimits)] = [
        // What the update does not name stays, and is not written again.
        (limits { $0.pids = 50; $0.memory = 67_108_864 }, limits { $0.pids = 20 }, ["pids/pids.max=20"], ["pids/pids.max=20"],
         limits { $0.pids = 20; $0.memory = 67_108_864 }),
        // v2's cpu.max holds quota and period: a new quota keeps the period in force.
        (limits { $0.cpuQuota = 50000; $0.cpuPeriod = 200_000 }, limits { $0.cpuQuota = 20000 }, ["cpu/cpu.cfs_quota_us=20000"],
         ["cpu/cpu.max=20000 200000"], limits { $0.cpuQuota = 20000; $0.cpuPeriod = 200_000 }),
        (limits { $0.cpuQuota = 50000 }, limits { $0.cpuPeriod = 250_000 }, ["cpu/cpu.cfs_period_us=250000"],
         ["cpu/cpu.max=50000 250000"], limits { $0.cpuQuota = 50000; $0.cpuPeriod = 250_000 }),
        // v2's memory.swap.max is swap less the memory limit: a new memory limit changes it.
        (limits { $0.memory = 100; $0.memorySwap = 300 }, limits { $0.memory = 200 }, ["memory/memory.limit_in_bytes=200"],
         ["memory/memory.max=200", "memory/memory.swap.max=100"], limits { $0.memory = 200; $0.memorySwap = 300 }),
        // Memory without a limit lifts the swap limit too (runc's update).
        (limits { $0.memory = 100; $0.memorySwap = 300 }, limits { $0.memory = -1 },
         ["memory/memory.memsw.limit_in_bytes=-1", "memory/memory.limit_in_bytes=-1"], ["memory/memory.max=max", "memory/memory.swap.max=max"],
         limits { $0.memory = -1; $0.memorySwap = -1 }),
        // 0 is no change, as in runc.
        (limits { $0.pids = 50 }, limits { $0.pids = 0; $0.cpus = "1" }, ["cpuset/cpuset.cpus=1"], ["cpuset/cpuset.cpus=1"],
         limits { $0.pids = 0; $0.cpus = "1" }),
        (CgroupLimits(), limits { $0.cpuShares = 512 }, ["cpu/cpu.shares=512"], ["cpu/cpu.weight=20"], limits { $0.cpuShares = 512 }),
    ]

    @Test("update: the limits in force with the new ones, and only the files they change written", arguments: updates.indices)
    func update(_ i: Int) throws {
        let (now, changes, v1, v2, after) = Self.updates[i]
        let (limits, changed) = now.updated(with: changes)
        #expect(limits == after)
        #expect(try limits.updateWrites(.v1, changed: changed, memoryLimitNow: 100).map { "\($0.controller)/\($0.file)=\($0.value)" } == v1)
        #expect(try limits.updateWrites(.v2, changed: changed).map { "\($0.controller)/\($0.file)=\($0.value)" } == v2)
    }

    @Test("update under v1: memory+swap first when it grows past the memory limit in force, else after the memory limit")
    func updateOrder() throws {
        let (grown, changed) = Self.limits { $0.memory = 100; $0.memorySwap = 200 }.updated(with: Self.limits { $0.memory = 300; $0.memorySwap = 400 })
        #expect(try grown.updateWrites(.v1, changed: changed, memoryLimitNow: 100).map(\.file)
                == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"])
        let (shrunk, less) = Self.limits { $0.memory = 300; $0.memorySwap = 400 }.updated(with: Self.limits { $0.memory = 100; $0.memorySwap = 200 })
        #expect(try shrunk.updateWrites(.v1, changed: less, memoryLimitNow: 300).map(\.file)
                == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        // What the version cannot express is named, as at create.
        let (v2, swapOnly) = CgroupLimits().updated(with: Self.limits { $0.memorySwap = 1000 })
        do { _ = try v2.updateWrites(.v2, changed: swapOnly); Issue.record("accepted") } catch {
            #expect(error.message == "linux.resources.memory.swap: under cgroup v2 a swap limit needs memory.limit too (memory.swap.max is the swap alone: swap - limit)")
        }
    }

    @Test("The names of what was asked, for messages")
    func names() {
        #expect(Self.limits { $0.pids = 5; $0.cpus = "0" }.names == ["pids.limit", "cpu.cpus"])
        #expect(CgroupLimits().isEmpty)
    }

    // MARK: device rules

    static func rule(_ allow: Bool, _ kind: DeviceCgroupRule.Kind = .all, _ major: Int64? = nil, _ minor: Int64? = nil,
                     _ access: String = "rwm", holds: Bool = false, index: Int) -> DeviceCgroupRule {
        DeviceCgroupRule(allow: allow, kind: kind, major: major, minor: minor, access: access, holdsWithoutCgroup: holds, index: index)
    }

    static func devices(_ rules: [DeviceCgroupRule]) -> CgroupLimits { limits { $0.devices = rules } }

    /// What follows the config's rules in every device cgroup: mknod of any, Burrow's /dev.
    static let appended = ["devices.allow=c *:* m", "devices.allow=b *:* m"]
        + ["1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "5:1", "5:2", "136:*"].map { "devices.allow=c \($0) rwm" }

    /// (rules, the lines written to the v1 devices controller before `appended`)
    static let deviceTable: [([DeviceCgroupRule], [String])] = [
        // The validation suite's: deny all, then three devices, each line as devices.list shows it.
        ([rule(false, index: 0), rule(true, .character, 10, 229, index: 1), rule(true, .block, 8, 20, "rw", index: 2),
          rule(true, .block, 10, 200, "r", index: 3)],
         ["devices.deny=a", "devices.allow=c 10:229 rwm", "devices.allow=b 8:20 rw", "devices.allow=b 10:200 r"]),
        // Type a with numbers or less than rwm: a line per type (the kernel reads a line
        // starting with `a` as every device, whatever follows).
        ([rule(false, index: 0), rule(true, .all, 10, nil, "rw", index: 1), rule(true, .all, nil, nil, "m", index: 2)],
         ["devices.deny=a", "devices.allow=c 10:* rw", "devices.allow=b 10:* rw", "devices.allow=c *:* m", "devices.allow=b *:* m"]),
        // Allow all, then deny some: exceptions to the default.
        ([rule(true, index: 0), rule(false, .block, 8, nil, index: 1), rule(false, .character, 4, 1, "w", index: 2)],
         ["devices.allow=a", "devices.deny=b 8:* rwm", "devices.deny=c 4:1 w"]),
        // Taking back exactly what an earlier rule gave is fine.
        ([rule(false, index: 0), rule(true, .character, 10, 229, index: 1), rule(false, .character, 10, 229, "w", index: 2)],
         ["devices.deny=a", "devices.allow=c 10:229 rwm", "devices.deny=c 10:229 w"]),
    ]

    @Test("Device rules go to cgroup v1's devices.allow and devices.deny in the listed order, Burrow's own after them",
          arguments: deviceTable.indices)
    func deviceRules(_ i: Int) throws {
        let (rules, lines) = Self.deviceTable[i]
        let writes = try Self.devices(rules).writes(.v1, devices: .writable)
        #expect(writes.allSatisfy { $0.controller == "devices" })
        #expect(writes.map { "\($0.file)=\($0.value)" } == lines + Self.appended)
        #expect(writes.first?.setting == "devices[0]")
        #expect(writes.last?.setting == "devices (Burrow's /dev)")
    }

    /// The kernel takes a denial (where it allows by default) or an allowing (where it
    /// denies) off the entry for exactly those devices only: one it would ignore in part is
    /// refused, naming the rule.
    static let ignoredInPart: [([DeviceCgroupRule], String)] = [
        ([rule(false, index: 0), rule(true, .character, index: 1), rule(false, .character, 10, 229, "rw", index: 2)],
         "linux.resources.devices[2]: denying c 10:229 rw after c *:* rwm was allowed would be ignored in part: cgroup v1 takes back only an entry for exactly the same devices"),
        ([rule(false, index: 0), rule(true, .character, 1, 3, index: 1), rule(false, .character, 1, nil, "r", index: 2)],
         "linux.resources.devices[2]: denying c 1:* r after c 1:3 rwm was allowed would be ignored in part: cgroup v1 takes back only an entry for exactly the same devices"),
        ([rule(true, index: 0), rule(false, .block, index: 1), rule(true, .block, 8, 0, "r", index: 2)],
         "linux.resources.devices[2]: allowing b 8:0 r after b *:* rwm was denied would be ignored in part: cgroup v1 takes back only an entry for exactly the same devices"),
    ]

    @Test("A rule cgroup v1 would ignore in part is refused", arguments: ignoredInPart.indices)
    func deviceRulesIgnoredInPart(_ i: Int) {
        let (rules, message) = Self.ignoredInPart[i]
        do { _ = try Self.devices(rules).writes(.v1, devices: .writable); Issue.record("accepted \(rules)") } catch { #expect(error.message == message) }
    }

    @Test("Without a device cgroup, rules that hold anyway are left as they are, any other is refused by name")
    func deviceRulesWithoutACgroup() throws {
        let holding = Self.devices([Self.rule(false, holds: true, index: 0), Self.rule(true, .character, 1, 3, holds: true, index: 1),
                                    Self.rule(true, .character, nil, nil, "m", holds: true, index: 2)])
        #expect(!holding.needsCgroup)
        #expect(CgroupSpec(path: "", limits: holding).onlyForDevices)
        #expect(!CgroupSpec(path: "/c", limits: holding).onlyForDevices)
        for (version, support) in [(CgroupVersion.v1, DeviceCgroupSupport.notRoot), (.v1, .notMounted), (.v2, .writable), (.v2, .notRoot)] {
            #expect(try holding.writes(version, devices: support).isEmpty)
        }
        var fuse = holding
        fuse.devices.append(Self.rule(true, .character, 10, 229, index: 3))
        fuse.pids = 10
        #expect(fuse.needsCgroup)
        #expect(try fuse.writes(.v1, devices: .writable).filter { $0.controller == "devices" }.count == 3 + 1 + Self.appended.count)
        let start = "linux.resources.devices[3]: allowing c 10:229 rwm needs a device cgroup"
        let end = "without one only denials, mknod, and rules for the devices of Burrow's /dev (null, zero, full, random, urandom, tty, console, ptmx, pts) or those linux.devices makes are accepted"
        for (version, support, why) in [
            (CgroupVersion.v1, DeviceCgroupSupport.notRoot, "which cgroup v1 lets only root on the host write (devices.allow takes CAP_SYS_ADMIN in the initial user namespace)"),
            (.v1, .notMounted, "and this host mounts no cgroup v1 devices controller"),
            (.v2, .writable, "which under cgroup v2 is a BPF program attached to the cgroup, and burrow-oci loads none yet"),
        ] {
            do { _ = try fuse.writes(version, devices: support); Issue.record("accepted under \(version), \(support)") } catch {
                #expect(error.message == "\(start), \(why): \(end)")
            }
        }
    }
}
