import Testing
@testable import BurrowSandbox

private func dest(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

struct ValidationTests {
    static func spec(_ edit: (inout SandboxSpec) -> Void) -> SandboxSpec {
        var s = SandboxSpec(root: RootFS(path: HostPath("/r")))
        edit(&s)
        return s
    }

    @Test func defaultSpecIsValid() throws {
        try Self.spec { _ in }.validate()
    }

    /// A hostname and an mqueue mount are at home in a joined UTS and IPC namespace too.
    @Test func joinedNamespacesServeAsNew() throws {
        try Self.spec {
            $0.namespaces.joined = [NamespaceJoin(.uts, path: HostPath("/u")), NamespaceJoin(.ipc, path: HostPath("/i"))]
            $0.process.hostname = "box"
            $0.operations = [.mqueue(dest: dest("/m"))]
        }.validate()
    }

    @Test(arguments: [
        (spec { $0.process.argv = [] }, "the command is empty"),
        (spec { $0.process.hostname = "box" }, "a hostname needs a new UTS namespace"),
        (spec { $0.namespaces.uts = true; $0.process.hostname = String(repeating: "x", count: 65) }, "1 to 64 bytes"),
        (spec { $0.root.readOnly = true; $0.root.overlay = .discard }, "contradict"),
        (spec { $0.operations = [.mqueue(dest: dest("/m"))] }, "an mqueue mount needs a new IPC namespace"),
        (spec { $0.operations = [.symlink(target: "", dest: dest("/l"))] }, "non-empty target"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 0)] }, "at least 1"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 2), IDMap(inside: 1, outside: 5000, count: 1)] }, "overlaps 0:1000:2 inside"),
        (spec { $0.identity.gidMap = [IDMap(inside: 0, outside: 1000, count: 1), IDMap(inside: 1, outside: 1000, count: 1)] }, "overlaps 0:1000:1 on the host"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)]; $0.identity.uid = 5 }, "uid 5 is not mapped by the uid map ranges given"),
        (spec { $0.identity.uidMap = [IDMap(inside: UInt32.max - 1, outside: 1, count: 5)] }, "runs past the largest id"),
        (spec { $0.operations = [.overlay(OverlayMount(layers: [], changes: .discarded, destination: dest("/o")))] },
         "an overlay at /o needs at least one overlay layer"),
        (spec { $0.operations = [.overlay(OverlayMount(layers: [HostPath("/l")], changes: .refused, destination: dest("/o")))] },
         "a read-only overlay at /o needs at least two overlay layers"),
        (spec { $0.operations = [.overlay(OverlayMount(layers: [HostPath("/" + String(repeating: "l", count: 256))], changes: .discarded, destination: dest("/o")))] },
         "overlay layer /lll"),
        (spec { $0.namespaces.joined = [NamespaceJoin(.mnt, path: HostPath("/proc/1/ns/mnt"))] },
         "a joined mount namespace needs a joined user namespace too"),
        (spec { $0.namespaces.joined = [NamespaceJoin(.net, path: HostPath("/a")), NamespaceJoin(.net, path: HostPath("/b"))] },
         "the net namespace to join is given twice"),
        (spec { $0.namespaces.ipc = true; $0.namespaces.joined = [NamespaceJoin(.ipc, path: HostPath("/a"))] },
         "the ipc namespace is both joined and made new"),
        (spec { $0.namespaces.pidToJoin = 3; $0.namespaces.joined = [NamespaceJoin(.pid, path: HostPath("/a"))] },
         "the pid namespace to join is given twice"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)]; $0.namespaces.joined = [NamespaceJoin(.user, path: HostPath("/a"))] },
         "uid map/gid map cannot apply to a joined user namespace: it has its maps already"),
    ])
    func rejects(spec: SandboxSpec, fragment: String) {
        #expect {
            try spec.validate()
        } throws: { error in
            (error as? SpecError)?.message.contains(fragment) == true
        }
    }
}

/// PATH_MAX and NAME_MAX, the same for every engine: checked in the spec.
struct PathLimitTests {
    static func x(_ n: Int) -> String { String(repeating: "x", count: n) }
    /// "/" and components of 255 bytes up to `total` bytes.
    static func deep(_ total: Int) -> String {
        var path = ""
        while path.utf8.count < total { path += "/" + x(min(255, total - path.utf8.count - 1)) }
        return path
    }

    @Test(arguments: [
        ("/tmp", nil),
        ("/" + x(255), nil),
        (deep(4095), nil),
        (deep(4096), "a path of 4096 bytes, more than 4095: File name too long"),
        ("/tmp/" + x(5000), "a path of 5005 bytes, more than 4095: File name too long"),
        ("/tmp/" + x(256) + "/y", "a name of 256 bytes in it (\(x(40))…), more than 255: File name too long"),
        // Bytes, not Characters: 128 two-byte characters are 256 bytes.
        ("/" + String(repeating: "é", count: 128), "a name of 256 bytes in it (\(String(repeating: "é", count: 40))…), more than 255: File name too long"),
    ] as [(String, String?)])
    func problem(_ path: String, _ expected: String?) {
        #expect(PathLimit.problem(path) == expected)
    }

    @Test func messageNamesWhatAndQuotesTheStart() {
        #expect(PathLimit.message("/tmp/" + Self.x(5000), what: "--tmpfs")
                == "--tmpfs /tmp/\(Self.x(35))…: a path of 5005 bytes, more than 4095: File name too long")
        #expect(PathLimit.message("/tmp", what: "--tmpfs") == nil)
    }

    /// Every path of the spec, whichever front-end built it (an fstab line too).
    @Test(arguments: [
        (ValidationTests.spec { $0.root.path = HostPath("/" + x(256)) }, "rootfs /"),
        (ValidationTests.spec { $0.root.overlay = .keep(changes: HostPath(deep(4096))) }, "overlay directory /"),
        (ValidationTests.spec { $0.operations = [.bind(BindMount(source: HostPath("/" + x(300)), destination: dest("/b")))] }, "bind source /"),
        (ValidationTests.spec { $0.operations = [.bind(BindMount(source: HostPath("/s"), destination: dest(deep(4100))))] }, "bind destination /"),
        (ValidationTests.spec { $0.operations = [.tmpfs(dest: dest("/tmp/" + x(5000)), sizeBytes: nil, mode: nil)] }, "tmpfs destination /tmp/"),
        (ValidationTests.spec { $0.operations = [.symlink(target: x(4096), dest: dest("/l"))] }, "symlink target xxx"),
        (ValidationTests.spec { $0.operations = [.filesystem(FilesystemMount(type: "sysfs", source: "sysfs", destination: dest("/" + x(256))))] }, "sysfs destination /"),
        (ValidationTests.spec { $0.process.chdir = dest("/" + x(256)) }, "working directory /"),
        (ValidationTests.spec { $0.process.pidFile = HostPath("/" + x(256)) }, "pid file /"),
        (ValidationTests.spec { $0.identity.fakeDatabase = HostPath("/" + x(256)) }, "fake database /"),
    ])
    func everyPathOfTheSpec(spec: SandboxSpec, fragment: String) {
        #expect {
            try spec.validate()
        } throws: { error in
            guard let message = (error as? SpecError)?.message else { return false }
            return message.hasPrefix(fragment) && message.hasSuffix("File name too long")
        }
    }
}

struct HolderTests {
    static let ops: [SetupOp] = [
        .tmpfs(dest: dest("/tmp"), sizeBytes: nil, mode: nil),                            // 0
        .bind(BindMount(source: HostPath("/src"), destination: dest("/tmp/src"))),         // 1
        .proc(dest: dest("/proc")),                                                       // 2
        .dir(dest: dest("/tmp/src/build"), mode: nil),                                    // 3
        .bind(BindMount(source: HostPath("/other"), destination: dest("/tmp"))),           // 4
        .dir(dest: dest("/tmp/x"), mode: nil),                                            // 5
    ]

    @Test(arguments: [
        ("/tmp", 0, Holder.root),
        ("/tmp/a", 1, .memory),
        ("/tmp/src/build", 3, .hostBind(HostPath("/src"))),
        ("/proc/x", 3, .memory),
        ("/tmpfoo", 3, .root),
        ("/tmp/x", 5, .hostBind(HostPath("/other"))),
        ("/tmp/src/x", 5, .hostBind(HostPath("/src"))),
    ])
    func holder(path: String, index: Int, expected: Holder) {
        let spec = SandboxSpec(root: RootFS(path: HostPath("/r")), operations: Self.ops)
        #expect(spec.holder(of: dest(path), before: index) == expected)
    }

    @Test func overlaysHoldWhereTheirChangesGo() {
        func holder(_ changes: OverlayMount.Changes) -> Holder {
            let o = OverlayMount(layers: [HostPath("/l1"), HostPath("/l2")], changes: changes, destination: dest("/o"))
            return SandboxSpec(root: RootFS(path: HostPath("/r")), operations: [.overlay(o)]).holder(of: dest("/o/new"), before: 1)
        }
        #expect(holder(.kept(upper: HostPath("/u"), work: HostPath("/w"))) == .hostBind(HostPath("/u")))
        #expect(holder(.discarded) == .memory)
        #expect(holder(.refused) == .hostBind(HostPath("/l2")))
    }

    @Test func discardedOverlayHoldsInMemory() {
        let spec = SandboxSpec(root: RootFS(path: HostPath("/r"), overlay: .discard))
        #expect(spec.holder(of: dest("/new"), before: 0) == .memory)
        let kept = SandboxSpec(root: RootFS(path: HostPath("/r"), overlay: .keep(changes: HostPath("/c"))))
        #expect(kept.holder(of: dest("/new"), before: 0) == .root)
    }
}
