import BurrowSandbox
import Testing

@Suite("Root inside: subordinate ranges and the engine for it") struct SubordinateIDsTests {
    typealias Range = SubordinateIDs.Range

    struct ParseCase: Sendable, CustomTestStringConvertible {
        let text: String
        let name: String?
        let id: UInt32
        let ranges: [Range]
        var testDescription: String { "\(name ?? "-")/\(id): \(text.debugDescription)" }
    }

    @Test(arguments: [
        ParseCase(text: "burrowtest:200000:65536\n", name: "burrowtest", id: 999, ranges: [Range(start: 200000, count: 65536)]),
        // By number, as newuidmap also accepts; both forms, in file order.
        ParseCase(text: "999:100000:10\nalice:1:1\nburrowtest:300000:5\n", name: "burrowtest", id: 999,
                  ranges: [Range(start: 100000, count: 10), Range(start: 300000, count: 5)]),
        ParseCase(text: "alice:100000:65536\n", name: "burrowtest", id: 999, ranges: []),
        // No name in the host's passwd: only the number counts.
        ParseCase(text: "burrowtest:200000:65536\n999:5:5\n", name: nil, id: 999, ranges: [Range(start: 5, count: 5)]),
        // Comments, empty counts, malformed lines, a prefix of the name, past 2^32: skipped.
        ParseCase(text: "# burrowtest:1:1\nburrowtest:2:0\nburrowtest:x:5\nburrowtest:1\nburrowtes:7:7\nburrowtest:4294967295:2\n",
                  name: "burrowtest", id: 999, ranges: []),
        ParseCase(text: "", name: "burrowtest", id: 999, ranges: []),
    ])
    func ranges(_ c: ParseCase) {
        #expect(SubordinateIDs.ranges(in: c.text, owner: c.name, id: c.id) == c.ranges)
    }

    @Test func atMostWhatTheKernelTakes() {
        let text = (0..<400).map { "u:\($0 * 10 + 1000):10" }.joined(separator: "\n")
        #expect(SubordinateIDs.ranges(in: text, owner: "u", id: 1).count == SubordinateIDs.maximumRanges)
    }

    @Test func rootMapIsPodmans() {
        let map = SubordinateIDs.rootMap(caller: 999, ranges: [Range(start: 200000, count: 65536), Range(start: 400000, count: 10)])
        #expect(map == [IDMap(inside: 0, outside: 999, count: 1), IDMap(inside: 1, outside: 200000, count: 65536),
                        IDMap(inside: 65537, outside: 400000, count: 10)])
        #expect(SubordinateIDs.span(map) == "0-65546")
        #expect(SubordinateIDs.rootMap(caller: 999, ranges: []) == [])
        // Inside ids stop before 4294967295 ("no id").
        let huge = SubordinateIDs.rootMap(caller: 1, ranges: [Range(start: 10, count: UInt32.max - 20), Range(start: 5, count: 100)])
        #expect(huge.last.map { UInt64($0.inside) + UInt64($0.count) } == UInt64(UInt32.max))
    }

    @Test func whatCountsAsRoot() {
        var id = Identity(uid: 0, gid: 0)
        #expect(id.asksForRootWithoutMaps)
        id.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)]
        #expect(!id.asksForRootWithoutMaps, "maps given are used as given")
        #expect(!Identity(uid: 0).asksForRootWithoutMaps, "--uid 0 alone keeps the caller's gid")
        #expect(!Identity(uid: 1000, gid: 1000).asksForRootWithoutMaps)
        #expect(!Identity().asksForRootWithoutMaps)
    }

    struct ReasonCase: Sendable, CustomTestStringConvertible {
        let identity: Identity
        let subordinate: String?
        let plain: EngineChoice
        let expresses: Bool
        let says: String?
        var testDescription: String { "\(plain) ranges:\(subordinate == nil) ptrace:\(expresses) -> \(says ?? "nil")" }
    }

    static let root = Identity(uid: 0, gid: 0)

    @Test(arguments: [
        // Ranges and the namespace engine: real root there.
        ReasonCase(identity: root, subordinate: nil, plain: .namespace, expresses: true, says: nil),
        // No ranges: the ptrace engine's faked ids, saying why.
        ReasonCase(identity: root, subordinate: "u has no range in /etc/subuid", plain: .namespace, expresses: true,
                   says: "root inside: u has no range in /etc/subuid, so the namespace engine maps only your own ids"),
        // ... unless the ptrace engine cannot run the rest (--unshare-net, say): as before.
        ReasonCase(identity: root, subordinate: "u has no range in /etc/subuid", plain: .namespace, expresses: false, says: nil),
        // Setuid mode never makes root: the ptrace engine, ranges or not.
        ReasonCase(identity: root, subordinate: nil, plain: .setuid, expresses: true, says: "setuid mode runs the command as you"),
        // Already the ptrace engine: nothing to add.
        ReasonCase(identity: root, subordinate: "none", plain: .ptrace, expresses: true, says: nil),
        // Not root: no reason.
        ReasonCase(identity: Identity(uid: 1000, gid: 1000), subordinate: "none", plain: .namespace, expresses: true, says: nil),
    ])
    func rootReason(_ c: ReasonCase) {
        let reason = EngineSelection.rootReason(c.identity, subordinate: c.subordinate, plain: c.plain, ptraceExpresses: { c.expresses })
        if let says = c.says {
            #expect(reason?.contains(says) == true, "\(reason ?? "nil")")
        } else {
            #expect(reason == nil)
        }
    }
}
