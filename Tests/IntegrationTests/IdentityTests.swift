// Identity: the caller's own ids by default, --uid/--gid, --root/-0, the single-line id
// maps, and full maps through newuidmap/newgidmap from /etc/subuid and /etc/subgid.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Identity", .timeLimit(.minutes(1)))
struct IdentityTests {
    let rootfs = Harness.sharedRootfs

    /// Numbers of one line of /proc/self/uid_map (`inside outside count`).
    static func mapLine(_ line: String) -> [UInt32] {
        line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt32($0) }
    }

    struct IDCase: Sendable, CustomTestStringConvertible {
        let args: [String]
        let uid: UInt32?  // nil: the test user's own
        let gid: UInt32?
        var testDescription: String { args.isEmpty ? "default" : args.joined(separator: " ") }
    }

    @Test("--cap-add and --cap-drop: root inside keeps exactly the capabilities chosen, from none, in order; another uid is refused")
    func chosenCapabilities() async {
        let r = await burrow(["--engine", "namespace", "--uid", "0", "--gid", "0", "--proc", "/proc", "--cap-add", "ALL",
                              "--cap-drop", "CAP_SYS_ADMIN", "--cap-drop", "ALL", "--cap-add", "net_raw", "--cap-add", "CAP_CHOWN",
                              Harness.sharedRootfs, "/bin/sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"])
        expectSuccess(r)
        // CAP_CHOWN (0) and CAP_NET_RAW (13): 0x2001.
        expectLines(r, ["CapEff:\t0000000000002001", "CapBnd:\t0000000000002001"])
        let other = await burrow(["--engine", "namespace", "--cap-add", "CAP_NET_RAW", Harness.sharedRootfs, "true"])
        #expect(other.status != 0)
        expectStderr(other, contains: "only uid 0 inside can keep them")
    }

    @Test("The command runs as the requested ids, mapped to the caller's own (root with the caller's subordinate ranges from 1)", arguments: [
        IDCase(args: [], uid: nil, gid: nil),
        IDCase(args: ["--uid", "1000", "--gid", "1001"], uid: 1000, gid: 1001),
        IDCase(args: ["--root"], uid: 0, gid: 0),
        IDCase(args: ["-0"], uid: 0, gid: 0),
        IDCase(args: ["--uid", "0", "--gid", "0"], uid: 0, gid: 0),
    ])
    func ids(_ c: IDCase) async {
        let uid = c.uid ?? testUser.uid
        let gid = c.gid ?? testUser.gid
        let r = await burrow(
            c.args + ["--proc", "/proc", rootfs]
                + sh("id -u; id -g; echo uidmap; cat /proc/self/uid_map; echo gidmap; cat /proc/self/gid_map"))
        expectSuccess(r)
        // Root inside gets the caller's ranges after its own id, as podman maps them
        // (SubordinateIDs); any other id is the caller's alone.
        var uidMap: [[UInt32]] = [[uid, testUser.uid, 1]], gidMap: [[UInt32]] = [[gid, testUser.gid, 1]]
        if uid == 0, gid == 0, let (u, g) = subIDRanges {
            uidMap.append([1, u.start, u.count])
            gidMap.append([1, g.start, g.count])
        }
        let lines = r.lines
        #expect(lines.count == 4 + uidMap.count + gidMap.count, "unexpected output:\n\(r)")
        guard lines.count == 4 + uidMap.count + gidMap.count else { return }
        #expect(lines[0] == "\(uid)", "id -u:\n\(r)")
        #expect(lines[1] == "\(gid)", "id -g:\n\(r)")
        #expect(lines[2] == "uidmap" && lines[3 + uidMap.count] == "gidmap", "maps:\n\(r)")
        #expect(lines[3..<(3 + uidMap.count)].map(Self.mapLine) == uidMap, "uid_map:\n\(r)")
        #expect(lines[(4 + uidMap.count)...].map(Self.mapLine) == gidMap, "gid_map:\n\(r)")
    }

    @Test("--root is root by name too (the rootfs's passwd)")
    func rootByName() async {
        let r = await burrow(["--root", rootfs] + sh("id -un; id -gn"))
        expectSuccess(r)
        expectLines(r, ["root", "root"])
    }

    @Test(
        "Root inside has no power over files of unmapped host users",
        .enabled(if: Harness.runningAsRoot, "needs root, to make a rootfs owned by a host user the sandbox does not map"))
    func rootInsideIsNotHostRoot() async {
        // A rootfs that belongs to host root, which is not mapped: it shows as the overflow
        // id and cannot be written even by uid 0 inside.
        let root = await makePrivateRootfs(owner: nil)
        defer { root.remove() }
        let before = readFile(root.at("/etc/passwd"))
        let r = await burrow(
            ["--root", root.path]
                + sh("stat -c %u /etc/passwd; echo x >> /etc/passwd && echo write-ok || echo write-failed"))
        expectSuccess(r)
        #expect(r.lines.first == "65534", "host root should appear as the overflow uid 65534:\n\(r)")
        expectStdout(r, contains: "write-failed")
        expectStderr(r, contains: "Permission denied")
        #expect(readFile(root.at("/etc/passwd")) == before, "the root-owned file was changed")
    }

    @Test(
        "--uid-map/--gid-map: full maps through newuidmap and newgidmap",
        .enabled(if: subIDRanges != nil, "needs root, a test user with /etc/subuid and /etc/subgid ranges, and newuidmap"))
    func subordinateMaps() async throws {
        let (u, g) = try #require(subIDRanges)
        let nu = min(u.count, 65536), ng = min(g.count, 65536)
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(
            [
                "--uid-map", "0:\(testUser.uid):1", "--uid-map", "1:\(u.start):\(nu)",
                "--gid-map", "0:\(testUser.gid):1", "--gid-map", "1:\(g.start):\(ng)",
                "--root", "--proc", "/proc", root.path,
            ]
                + sh(
                    "id -u; cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; touch /tmp/f && chown 5:5 /tmp/f && stat -c %u:%g /tmp/f"
                ))
        expectSuccess(r)
        let parts = r.stdout.components(separatedBy: "--\n")
        #expect(parts.count == 3, "unexpected output:\n\(r)")
        guard parts.count == 3 else { return }
        let head = parts[0].split(separator: "\n").map(String.init)
        #expect(head.first == "0", "id -u:\n\(r)")
        let uidMap = Set(head.dropFirst().map(Self.mapLine))
        let gidMap = Set(parts[1].split(separator: "\n").map { Self.mapLine(String($0)) })
        #expect(uidMap == [[0, testUser.uid, 1], [1, u.start, nu]], "uid_map:\n\(r)")
        #expect(gidMap == [[0, testUser.gid, 1], [1, g.start, ng]], "gid_map:\n\(r)")
        #expect(parts[2].trimmingCharacters(in: .whitespacesAndNewlines) == "5:5", "chown inside:\n\(r)")
        // On the host, inside id 5 is the fifth id of the subordinate range.
        var st = stat()
        #expect(lstat(root.at("/tmp/f"), &st) == 0)
        #expect(st.st_uid == u.start + 4 && st.st_gid == g.start + 4, "host owner \(st.st_uid):\(st.st_gid)")
    }

    @Test(
        "--uid-map with a range the user was not given fails cleanly",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/newuidmap") && testUser.uid != 0,
                 "needs newuidmap and a non-root test user"))
    func undelegatedRangeIsRefused() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(
            ["--uid-map", "0:\(testUser.uid):1", "--uid-map", "1:1:10", "--root", root.path]
                + sh("echo RAN-COMMAND; touch /ran-marker"))
        expectStatus(r, 125)
        // newuidmap may speak first; burrow's own message follows.
        #expect(
            r.stderr.split(separator: "\n").contains { $0.hasPrefix("burrow: ") },
            "stderr should have a line starting with 'burrow: ':\n\(r)")
        expectStdout(r, lacks: "RAN-COMMAND")
        #expect(!pathExists(root.at("/ran-marker")), "the command ran")
    }
}
