import BurrowSpec
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
}
