import Testing
@testable import BurrowSpec

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

    @Test(arguments: [
        (spec { $0.process.argv = [] }, "the command is empty"),
        (spec { $0.process.hostname = "box" }, "--hostname needs --unshare-uts"),
        (spec { $0.namespaces.uts = true; $0.process.hostname = String(repeating: "x", count: 65) }, "1 to 64 bytes"),
        (spec { $0.root.readOnly = true; $0.root.overlay = .discard }, "contradict"),
        (spec { $0.operations = [.mqueue(dest: dest("/m"))] }, "--mqueue needs --unshare-ipc"),
        (spec { $0.operations = [.symlink(target: "", dest: dest("/l"))] }, "non-empty target"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 0)] }, "at least 1"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 2), IDMap(inside: 1, outside: 5000, count: 1)] }, "overlaps 0:1000:2 inside"),
        (spec { $0.identity.gidMap = [IDMap(inside: 0, outside: 1000, count: 1), IDMap(inside: 1, outside: 1000, count: 1)] }, "overlaps 0:1000:1 on the host"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)]; $0.identity.uid = 5 }, "--uid 5 is not mapped"),
        (spec { $0.identity.uidMap = [IDMap(inside: UInt32.max - 1, outside: 1, count: 5)] }, "runs past the largest id"),
    ])
    func rejects(spec: SandboxSpec, fragment: String) {
        #expect {
            try spec.validate()
        } throws: { error in
            (error as? SpecError)?.message.contains(fragment) == true
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

    @Test func discardedOverlayHoldsInMemory() {
        let spec = SandboxSpec(root: RootFS(path: HostPath("/r"), overlay: .discard))
        #expect(spec.holder(of: dest("/new"), before: 0) == .memory)
        let kept = SandboxSpec(root: RootFS(path: HostPath("/r"), overlay: .keep(changes: HostPath("/c"))))
        #expect(kept.holder(of: dest("/new"), before: 0) == .root)
    }
}
