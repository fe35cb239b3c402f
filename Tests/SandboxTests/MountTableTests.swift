import Testing
@testable import BurrowSandbox

/// /proc/PID/mountinfo as setuid mode reads it to find the host's procfs below a bind.
struct MountTableTests {
    static let text = """
        27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        56 27 0:65 / /tmp/a\\040b/x rw,relatime shared:30 master:2 - proc proc rw
        57 56 0:66 / /tmp/a\\040b/x/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
        58 27 0:67 / /srv rw - tmpfs tmpfs rw
        59 58 0:68 / /srv rw - proc proc rw
        not a mount line
        60 1 0:69 / /elsewhere rw - proc

        """

    @Test("Each line: id, parent, unescaped mount point, type; optional fields skipped; junk left out")
    func parses() {
        func core(_ e: MountTableEntry) -> MountTableEntry { MountTableEntry(id: e.id, parent: e.parent, mountPoint: e.mountPoint, type: e.type) }
        #expect(MountTable.parse(Self.text).map(core) == [
            MountTableEntry(id: 27, parent: 1, mountPoint: "/", type: "ext4"),
            MountTableEntry(id: 56, parent: 27, mountPoint: "/tmp/a b/x", type: "proc"),
            MountTableEntry(id: 57, parent: 56, mountPoint: "/tmp/a b/x/sys/fs/binfmt_misc", type: "binfmt_misc"),
            MountTableEntry(id: 58, parent: 27, mountPoint: "/srv", type: "tmpfs"),
            MountTableEntry(id: 59, parent: 58, mountPoint: "/srv", type: "proc"),
            MountTableEntry(id: 60, parent: 1, mountPoint: "/elsewhere", type: "proc"),
        ])
    }

    @Test("The root and the super options: a v1 cgroup's place in its hierarchy and its controllers")
    func rootAndSuperOptions() throws {
        let line = "35 25 0:30 /process_api/a\\040b /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct"
        let e = try #require(MountTable.parse(line).first)
        #expect(e.root == "/process_api/a b")
        #expect(e.mountPoint == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(e.superOptions == ["rw", "cpu", "cpuacct"])
    }

    @Test("Mounts below a mount: children, theirs, and so on; none outside it", arguments: [
        (27, [56, 57, 58, 59]), (56, [57]), (58, [59]), (57, []), (99, []),
    ] as [(UInt64, Set<UInt64>)])
    func below(top: UInt64, expected: Set<UInt64>) {
        #expect(MountTable.ids(below: top, in: MountTable.parse(Self.text)) == expected)
    }

    @Test("Octal escapes: \\ooo up to \\377 is that byte; anything else after a backslash is refused", arguments: [
        ("plain", Array("plain".utf8)), ("a\\040b", Array("a b".utf8)), ("\\134", [0x5c]), ("\\011\\012", [9, 10]),
        ("\\377", [0xff]),
    ] as [(String, [UInt8]?)] + [("\\400", nil), ("\\04", nil), ("a\\", nil), ("\\+12", nil), ("\\x41", nil), ("\\08a", nil)])
    func octal(text: String, expected: [UInt8]?) {
        #expect(OctalEscapes.decode(text) == expected)
    }
}
