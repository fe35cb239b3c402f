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

    @Test("The names of what was asked, for messages")
    func names() {
        #expect(Self.limits { $0.pids = 5; $0.cpus = "0" }.names == ["pids.limit", "cpu.cpus"])
        #expect(CgroupLimits().isEmpty)
    }
}
