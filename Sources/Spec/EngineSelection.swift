/// Which engine `auto` picks, and why an engine cannot run: pure, so the order is testable.
/// The probes themselves (can this host create a user namespace? is the binary setuid
/// root? may it ptrace?) live in the kernel layer and are passed in.
public enum EngineSelection {
    /// `auto` tries these in order: native speed first, the ptrace engine last.
    public static let autoOrder: [EngineChoice] = [.namespace, .setuid, .ptrace]

    /// The engine to run: the one asked for, or for `auto` the first in `autoOrder` whose
    /// probe says nil (no reason against it). With none available, the last one, whose own
    /// error then explains.
    public static func pick(_ requested: EngineChoice, unavailable: (EngineChoice) -> String?) -> EngineChoice {
        guard requested == .auto else { return requested }
        return autoOrder.first { unavailable($0) == nil } ?? autoOrder.last ?? .namespace
    }

    /// One line per engine for `burrow --engines`: `namespace  yes` or `ptrace  no: why`.
    public static func report(unavailable: (EngineChoice) -> String?) -> String {
        var out = ""
        var chosen: EngineChoice?
        for e in autoOrder {
            let why = unavailable(e)
            if why == nil, chosen == nil { chosen = e }
            out += e.rawValue.padding(to: 10) + (why.map { "no: \($0)" } ?? "yes") + "\n"
        }
        out += "auto      -> \(chosen?.rawValue ?? autoOrder.last?.rawValue ?? "none")\n"
        return out
    }
}

extension String {
    fileprivate func padding(to n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
