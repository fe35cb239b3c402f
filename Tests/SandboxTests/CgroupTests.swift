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
}
