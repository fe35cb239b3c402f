import BurrowSandbox
import Testing

@Suite("Command lookup") struct CommandLookupTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let lookup: CommandLookup
        let name: String
        let path: String?
        let candidates: [String]
        var testDescription: String { "\(lookup) \(name) PATH=\(path ?? "(unset)") -> \(candidates)" }
    }

    /// Directories as the guest resolves them: /bin is a symlink to usr/bin, the working
    /// directory is /work; anything else is canonical already.
    static func directory(_ dir: String) -> String? {
        var d = dir.hasPrefix("/") ? dir : "/work/" + dir
        if d == "/bin" || d.hasPrefix("/bin/") { d = "/usr" + d }
        if d.hasSuffix("/.") { d.removeLast(2) }
        return d == "/missing" ? nil : d
    }

    @Test(arguments: [
        Case(lookup: .execvp, name: "true", path: nil, candidates: CommandLookup.defaultPath.split(separator: ":").map { $0 + "/true" }),
        Case(lookup: .execvp, name: "true", path: "", candidates: ["./true"]),
        Case(lookup: .execvp, name: "true", path: "/bin::/x", candidates: ["/bin/true", "./true", "/x/true"]),
        Case(lookup: .execvp, name: "./true", path: nil, candidates: ["./true"]),
        // PRoot: no PATH, no search; directories canonical, the name itself kept.
        Case(lookup: .proot, name: "true", path: nil, candidates: []),
        Case(lookup: .proot, name: "true", path: "", candidates: []),
        Case(lookup: .proot, name: "true", path: "/bin::/x", candidates: ["/usr/bin/true", "/work/true", "/x/true"]),
        Case(lookup: .proot, name: "./true", path: nil, candidates: ["/work/true"]),
        Case(lookup: .proot, name: "/bin/link-to-script", path: nil, candidates: ["/usr/bin/link-to-script"]),
        Case(lookup: .proot, name: "/true", path: nil, candidates: ["/true"]),
        Case(lookup: .proot, name: "/missing/true", path: nil, candidates: ["/missing/true"]),
    ])
    func candidates(_ c: Case) {
        let env = c.path.map { [("PATH", $0)] } ?? []
        #expect(c.lookup.candidates(for: c.name, environment: env, directory: Self.directory) == c.candidates)
    }

    @Test func shellFallbackIsPRoots() {
        #expect(CommandLookup.proot.shellFallback)
        #expect(!CommandLookup.execvp.shellFallback)
    }
}
