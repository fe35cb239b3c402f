import BurrowSpec

/// One front-end: a command line that builds a spec. The binary picks one by the name it
/// was invoked under (`argv[0]`'s basename), so `ln -s burrow proot` makes a `proot`.
public struct FrontEnd: Sendable {
    /// The name it answers to, as installed next to `burrow`.
    public var name: String
    /// One line for `burrow --help`.
    public var summary: String
    public var parse: @Sendable ([String]) throws(UsageError) -> Invocation
    public var help: @Sendable () -> String
    /// What `--version` prints.
    public var version: String
    /// The exit status of a usage error and of Burrow's own failures, as the tool's manual
    /// gives it.
    public var failureStatus: Int32

    public init(name: String, summary: String, parse: @escaping @Sendable ([String]) throws(UsageError) -> Invocation,
                help: @escaping @Sendable () -> String, version: String, failureStatus: Int32) {
        self.name = name
        self.summary = summary
        self.parse = parse
        self.help = help
        self.version = version
        self.failureStatus = failureStatus
    }
}

public enum FrontEnds {
    /// Every front-end, `burrow` first. Each compatibility front-end lives in its own folder.
    public static let all: [FrontEnd] = [
        FrontEnd(name: "burrow", summary: "Burrow's own command line (this one)",
                 parse: BurrowCommandLine.parse, help: { BurrowCommandLine.help },
                 version: "burrow \(BurrowCommandLine.version)", failureStatus: 125),
    ]

    /// The front-end for an invoked name (`/usr/bin/jchroot` -> jchroot); `burrow` for any
    /// name it does not know, so a renamed binary still behaves as itself.
    public static func named(_ argv0: String) -> FrontEnd {
        let base = argv0.split(separator: "/").last.map(String.init) ?? argv0
        return all.first { $0.name == base } ?? all[0]
    }

    /// The names `scripts/install` links to the binary.
    public static var compatibilityNames: [String] { all.dropFirst().map(\.name) }
}
