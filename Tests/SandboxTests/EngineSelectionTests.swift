import BurrowSandbox
import Testing

@Suite("Engine selection") struct EngineSelectionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let requested: EngineChoice
        let available: Set<EngineChoice>
        let picked: EngineChoice
        var testDescription: String { "\(requested) with \(available.map(\.rawValue).sorted()) -> \(picked)" }
    }

    @Test(arguments: [
        Case(requested: .auto, available: [.namespace, .setuid, .ptrace], picked: .namespace),
        Case(requested: .auto, available: [.setuid, .ptrace], picked: .setuid),
        Case(requested: .auto, available: [.ptrace], picked: .ptrace),
        Case(requested: .auto, available: [], picked: .ptrace),
        Case(requested: .namespace, available: [.ptrace], picked: .namespace),
        Case(requested: .ptrace, available: [.namespace], picked: .ptrace),
    ])
    func pick(_ c: Case) {
        #expect(EngineSelection.pick(c.requested) { c.available.contains($0) ? nil : "no" } == c.picked)
    }

    @Test func probesAreLazy() {
        var asked: [EngineChoice] = []
        _ = EngineSelection.pick(.auto) { asked.append($0); return nil }
        #expect(asked == [.namespace])
    }

    @Test func report() {
        let text = EngineSelection.report { $0 == .namespace ? "user namespaces are disabled" : nil }
        #expect(text.contains("namespace no: user namespaces are disabled"))
        #expect(text.contains("ptrace    yes"))
        #expect(text.contains("auto      -> setuid"))
    }

    struct CauseCase: Sendable, CustomTestStringConvertible {
        let probe: UserNamespaceProbe
        let host: HostRestrictions
        let says: String
        var testDescription: String { says }
    }

    static let eperm = "Operation not permitted"

    @Test("Why the namespace engine cannot run, in the host's terms", arguments: [
        CauseCase(probe: .init(step: .clone, error: eperm), host: .init(unprivilegedUsernsClone: 0),
                  says: "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)"),
        CauseCase(probe: .init(step: .clone, error: "No space left on device", limitReached: true), host: .init(maxUserNamespaces: 0),
                  says: "user namespaces are disabled (user.max_user_namespaces=0)"),
        CauseCase(probe: .init(step: .clone, error: "No space left on device", limitReached: true), host: .init(maxUserNamespaces: 10),
                  says: "the limit of user namespaces is reached"),
        CauseCase(probe: .init(step: .clone, error: eperm), host: .init(unprivilegedUsernsClone: 1, seccompFiltered: true),
                  says: "a seccomp filter denies unshare: inside a container? (clone (CLONE_NEWUSER, CLONE_NEWNS): Operation not permitted)"),
        CauseCase(probe: .init(step: .mount, error: eperm), host: .init(apparmorRestrictsUserns: 1, seccompFiltered: true),
                  says: "restricted by AppArmor: kernel.apparmor_restrict_unprivileged_userns=1"),
        CauseCase(probe: .init(step: .uidMap, error: eperm), host: .init(apparmorRestrictsUserns: 1),
                  says: "(a new user namespace gets no capabilities: write /proc/self/uid_map: Operation not permitted)"),
        CauseCase(probe: .init(step: .mount, error: eperm), host: .init(apparmorRestrictsUserns: 0, seccompFiltered: true),
                  says: "a seccomp filter denies what a user namespace needs: inside a container? (mount (make / private)"),
        CauseCase(probe: .init(step: .gidMap, error: "Invalid argument"), host: .init(),
                  says: "a user namespace can be made but not used (write /proc/self/gid_map: Invalid argument)"),
    ])
    func namespaceCause(_ c: CauseCase) {
        let text = EngineSelection.namespaceCause(c.probe, host: c.host)
        #expect(text.contains(c.says), "\(text)")
    }

    @Test("auto skips its user-namespace probe only where nothing on the host restricts user namespaces", arguments: [
        (HostRestrictions(unprivilegedUsernsClone: nil, maxUserNamespaces: 63000), true),
        (HostRestrictions(unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictsUserns: 0), true),
        (HostRestrictions(unprivilegedUsernsClone: 0, maxUserNamespaces: 63000), false),
        (HostRestrictions(maxUserNamespaces: 0), false),
        (HostRestrictions(maxUserNamespaces: nil), false),
        (HostRestrictions(maxUserNamespaces: 63000, apparmorRestrictsUserns: 1), false),
        (HostRestrictions(maxUserNamespaces: 63000, seccompFiltered: true), false),
    ])
    func probeSkipped(_ host: HostRestrictions, _ unrestricted: Bool) {
        #expect(host.userNamespacesUnrestricted == unrestricted)
    }

    @Test("A spec's reasons make auto pick the ptrace engine where it runs; a named engine stays")
    func ptracePreferred() {
        let all: (EngineChoice) -> String? = { _ in nil }
        #expect(EngineSelection.pick(.auto, ptraceFor: ["-0"], unavailable: all) == .ptrace)
        #expect(EngineSelection.pick(.namespace, ptraceFor: ["-0"], unavailable: all) == .namespace)
        #expect(EngineSelection.pick(.auto, ptraceFor: ["-0"]) { $0 == .ptrace ? "no" : nil } == .namespace)
        #expect(EngineSelection.pick(.auto, ptraceFor: [], unavailable: all) == .namespace)
    }

    @Test("Glued binds whose destination the namespace engine cannot (or must not) make are reasons")
    func glueReasons() throws {
        func bind(_ s: String, _ d: String, _ glue: BindGlue) throws -> SetupOp {
            var b = BindMount(source: HostPath(s), destination: try GuestPath(parsing: d))
            b.glue = glue
            return .bind(b)
        }
        var spec = SandboxSpec(root: RootFS(path: HostPath("/r")))
        spec.ptraceOnly = ["-q"]
        spec.operations = [try bind("/a", "/exists", .whereNotCreatable), try bind("/b", "/new", .whereNotCreatable),
                           try bind("/c", "/ro/x", .whereNotCreatable), try bind("/d", "/new2", .always),
                           try bind("/e", "/plain", .none), try bind("/f", "/exists/in/a", .whereNotCreatable)]
        var asked: [String] = []
        let reasons = EngineSelection.ptraceReasons(spec) { _, base, below in
            asked.append(base.string + ":" + below.joined(separator: "/"))
            switch below.first {
            case "exists": return .exists
            case "ro": return .notCreatable
            case "in": return .notCreatable
            default: return .creatable
            }
        }
        // Binds without glue are not asked about; a destination inside another bind is asked
        // about below that bind's source.
        #expect(asked == ["/r:exists", "/r:new", "/r:ro/x", "/r:new2", "/a:in/a"])
        #expect(reasons == ["-q", "/ro/x is missing in the guest and cannot be made in the rootfs",
                            "/new2 is missing in the guest and must not be made in the rootfs",
                            "/exists/in/a is missing in the guest and cannot be made in the rootfs"])
    }
}
