import BurrowSandbox

/// What a front-end may know about the caller's world. Front-ends stay pure: `main` fills
/// this in and tests pass made-up values.
public struct HostFacts: Sendable {
    /// The caller's environment (`$HOME` for proot's -R, ...).
    public var environment: [String: String]
    /// The caller's working directory, when it has one.
    public var workingDirectory: String?
    /// Reads a host file the user named (jchroot's fstab), with the caller's rights; when it
    /// cannot be read, the reason (strerror's wording), for the front-end to put in context.
    public var readFile: @Sendable (String) -> Result<String, UsageError>

    public init(environment: [String: String] = [:], workingDirectory: String? = nil,
                readFile: @escaping @Sendable (String) -> Result<String, UsageError> = { .failure(UsageError("\($0): cannot be read")) }) {
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.readFile = readFile
    }
}

/// One front-end: a command line that builds a spec. The binary picks one by the name it
/// was invoked under (`argv[0]`'s basename), so `ln -s burrow proot` makes a `proot`.
public struct FrontEnd: Sendable {
    /// The name it answers to, as installed next to `burrow`.
    public var name: String
    /// One line for `burrow --help`.
    public var summary: String
    public var parse: @Sendable ([String], HostFacts) throws(UsageError) -> Invocation
    public var help: @Sendable () -> String
    /// What `--version` prints.
    public var version: String
    /// The exit status of a usage error and of Burrow's own failures, as the tool's manual
    /// gives it.
    public var failureStatus: Int32
    /// Its words for the spec's ideas: a `SpecError` is said in them.
    public var terms: SpecTerms

    public init(name: String, summary: String, parse: @escaping @Sendable ([String], HostFacts) throws(UsageError) -> Invocation,
                help: @escaping @Sendable () -> String, version: String, failureStatus: Int32, terms: SpecTerms) {
        self.name = name
        self.summary = summary
        self.parse = parse
        self.help = help
        self.version = version
        self.failureStatus = failureStatus
        self.terms = terms
    }
}

public enum FrontEnds {
    /// Every front-end, `burrow` first. Each compatibility front-end lives in its own folder.
    public static let all: [FrontEnd] = [
        FrontEnd(name: "burrow", summary: "Burrow's own command line (this one)",
                 parse: { args, _ throws(UsageError) in try BurrowCommandLine.parse(args) }, help: { BurrowCommandLine.help },
                 version: "burrow \(BurrowCommandLine.version)", failureStatus: 125,
                 terms: BurrowCommandLine.terms),
        FrontEnd(name: "proot", summary: "PRoot's command line (proot(1)): -r, -b host:guest[!], -w, -0, -i, -R, -S, -k, -q",
                 parse: PRootCommandLine.parse, help: { PRootCommandLine.help },
                 version: PRootCommandLine.version, failureStatus: 1, terms: PRootCommandLine.terms),
        FrontEnd(name: "linux-user-chroot", summary: "linux-user-chroot(8)'s command line, for build systems",
                 parse: { args, _ throws(UsageError) in try LinuxUserChrootCommandLine.parse(args) },
                 help: { LinuxUserChrootCommandLine.help },
                 version: "linux-user-chroot (burrow \(BurrowCommandLine.version))", failureStatus: 1,
                 terms: LinuxUserChrootCommandLine.terms),
        FrontEnd(name: "jchroot", summary: "jchroot(8)'s command line: a chroot with more isolation",
                 parse: JChrootCommandLine.parse, help: { JChrootCommandLine.help },
                 version: "jchroot (burrow \(BurrowCommandLine.version))", failureStatus: 1,
                 terms: JChrootCommandLine.terms),
        FrontEnd(name: OCICommandLine.name, summary: "runc's command line: an OCI runtime for podman, containerd and CRI-O",
                 parse: { args, _ throws(UsageError) in try OCICommandLine.invocation(args) }, help: { OCICommandLine.help },
                 version: OCICommandLine.version, failureStatus: 1, terms: OCIConfig.terms),
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
