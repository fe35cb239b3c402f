import BurrowSandbox

/// What a front-end may know about the caller's world. Front-ends stay pure: `main` fills
/// this in and tests pass made-up values.
public struct HostFacts: Sendable {
    /// The caller's environment (`$HOME` for proot's -R, ...).
    public var environment: [String: String]
    /// The caller's working directory, when it has one.
    public var workingDirectory: String?
    /// The name burrow was invoked by, as given (bwrap's `--help` prints it).
    public var invokedName: String
    /// Reads what is left to read on a descriptor the caller passed (bwrap's `--args FD`);
    /// when it cannot be read, the reason.
    public var readDescriptor: @Sendable (Int32) -> Result<[UInt8], UsageError>
    /// The host path an open descriptor of the caller's names (bwrap's `--bind-fd FD`: a
    /// bind is made from a path, in the sandbox's mount namespace); nil when it is not open.
    public var descriptorPath: @Sendable (Int32) -> String?
    /// Reads a host file the user named (jchroot's fstab), with the caller's rights; when it
    /// cannot be read, the reason (strerror's wording), for the front-end to put in context.
    public var readFile: @Sendable (String) -> Result<String, UsageError>
    /// Whether SELinux is on here (selinuxfs mounted with a policy's `enforce` file): bwrap's
    /// labels mean something only then.
    public var selinuxEnabled: @Sendable () -> Bool = { false }

    public init(environment: [String: String] = [:], workingDirectory: String? = nil,
                readFile: @escaping @Sendable (String) -> Result<String, UsageError> = { .failure(UsageError("\($0): cannot be read")) },
                invokedName: String = "",
                readDescriptor: @escaping @Sendable (Int32) -> Result<[UInt8], UsageError> = { _ in .failure(UsageError("cannot be read")) },
                descriptorPath: @escaping @Sendable (Int32) -> String? = { _ in nil }) {
        self.descriptorPath = descriptorPath
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.readFile = readFile
        self.invokedName = invokedName
        self.readDescriptor = readDescriptor
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
                 parse: { args, facts throws(UsageError) in try BurrowCommandLine.parse(args, facts) }, help: { BurrowCommandLine.help },
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
        FrontEnd(name: "bwrap", summary: "bubblewrap 0.11's command line (bwrap(1)), for Flatpak and its peers",
                 parse: BwrapCommandLine.parse, help: { BwrapCommandLine.help(invokedAs: "bwrap") },
                 version: BwrapCommandLine.version, failureStatus: 1, terms: BwrapCommandLine.terms),
        FrontEnd(name: OCICommandLine.name, summary: "runc's command line: an OCI runtime for podman, containerd and CRI-O",
                 parse: { args, _ throws(UsageError) in try OCICommandLine.invocation(args) }, help: { OCICommandLine.help },
                 version: OCICommandLine.version, failureStatus: 1, terms: OCIConfig.terms),
    ]

    /// The front-end for an invoked name (`/usr/bin/jchroot` -> jchroot); `burrow` for any
    /// name it does not know, so a renamed binary still behaves as itself.
    /// The front-end `argv0`'s basename names. Run as `/proc/self/exe` (a sandboxed command
    /// running the tool it was started by, as bubblewrap's tests do), argv[0] names none: the
    /// name of the executable file itself is asked (`executable`, called only then), which is
    /// the compatibility name where it is a hard link (`scripts/bwrap-suite`), else `burrow`.
    public static func named(_ argv0: String, executable: () -> String? = { nil }) -> FrontEnd {
        func base(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
        if let named = all.first(where: { $0.name == base(argv0) }) { return named }
        if let path = executable(), let named = all.first(where: { $0.name == base(path) }) { return named }
        return all[0]
    }

    /// The names `scripts/install` links to the binary.
    public static var compatibilityNames: [String] { all.dropFirst().map(\.name) }
}
