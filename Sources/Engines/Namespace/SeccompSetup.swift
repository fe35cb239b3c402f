import BurrowKernel
import BurrowSeccomp
import BurrowSandbox
import Glibc

/// The command's seccomp filter, compiled by the supervisor before anything is forked: a
/// deny file that cannot be read or parsed stops burrow (status 125) before any process or
/// namespace exists. The init hands the program to `Proc.launch`, which installs it last.
/// Without `--seccomp` there is a filter all the same, refusing TIOCSTI and TIOCLINUX,
/// unless the spec allows terminal injection (`SeccompProfiles.filter` says how the two
/// are merged). The uname responder's filter (`KernelRelease`) is a second one, on the init.
enum SeccompSetup {
    /// A deny file larger than this is not a list of system-call names.
    static let fileLimit = 1 << 20

    /// The caller's programs read from their descriptors (each then closed, as bubblewrap
    /// does: the same descriptor twice has nothing more to give), in bubblewrap's words.
    static func readCallerPrograms(_ spec: inout SandboxSpec, log: Log) throws(Failure) {
        for i in spec.security.callerPrograms.indices {
            let fd = spec.security.callerPrograms[i].descriptor
            let bytes: [UInt8]
            do throws(SysError) { bytes = try Files.readAll(fd, limit: 4096 * 8 + 8) } catch {
                throw Failure("Can't read seccomp data: \(SysError.message(for: error.errno)) (descriptor \(fd))")
            }
            Files.close(fd)
            if bytes.count % 8 != 0 { throw Failure("Invalid seccomp data, must be multiple of 8") }
            spec.security.callerPrograms[i].instructions = bytes
            log.step("seccomp: the caller's program from descriptor \(fd), \(bytes.count / 8) BPF instructions")
        }
        // (Once all are read, as bubblewrap finds a later one unreadable before an empty one.)
        for p in spec.security.callerPrograms {
            if let problem = CallerSeccompProgram.problem(p.instructions ?? []) {
                throw Failure("\(problem) (descriptor \(p.descriptor))")
            }
        }
    }

    /// `setuid`: the file is read by a setuid burrow, as the caller (see SetuidMode), but a
    /// file on procfs is refused: /proc/self there is burrow's own process, and a parse error
    /// would quote what the caller cannot read from outside.
    static func program(for spec: SandboxSpec, setuid: Bool = false, log: Log) throws(Failure) -> [BPFCode]? {
        let profile = spec.security.seccomp
        var denied: [String] = []
        if case .denyFile(let path) = profile {
            let text: [UInt8]
            do throws(SysError) {
                let fd = try Files.open(path.string, O_RDONLY | O_NOCTTY)
                defer { Files.close(fd) }
                if setuid, try Files.isOnProcfs(fd) {
                    throw SysError("read", errno: .permissionDenied,
                                   hint: "a file on procfs is not read in setuid mode: /proc/self would be burrow's own process")
                }
                text = try Files.readAll(fd, limit: fileLimit + 1)
            } catch {
                throw Failure(SysError("\(error.operation) seccomp deny file", path.string, errno: error.errno, hint: error.hint))
            }
            guard text.count <= fileLimit else {
                throw Failure("seccomp deny file \(path): larger than \(fileLimit) bytes; it should list system-call names")
            }
            do { denied = try DenyList.parse(String(decoding: text, as: UTF8.self), file: path.string) } catch {
                throw Failure("seccomp deny file " + error.message)
            }
        }
        var context = SeccompProfiles.Context(
            pidNamespace: spec.namespaces.pid, denied: denied, allowTerminalInjection: spec.security.allowTerminalInjection)
        context.deniesUserNamespaces = spec.security.deniesUserNamespaces
        guard let filter = SeccompProfiles.filter(profile, context) else { return nil }
        guard !filter.architectures.isEmpty else {
            guard profile == .none else {
                throw Failure("--seccomp: Burrow has no system-call table for this machine's architecture")
            }
            throw Failure("""
                cannot refuse terminal injection (TIOCSTI): Burrow has no system-call table for this machine's architecture
                  hint: --new-session keeps the command off your terminal; --allow-terminal-injection runs without the filter
                """)
        }
        let program: [BPFInstruction]
        do { program = try filter.compile() } catch { throw Failure(error.message) }
        log.step("seccomp: \(filter.rules.count) rules for \(filter.architectures.map(\.rawValue).joined(separator: ", ")), \(program.count) BPF instructions")
        return program.map { (code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
    }
}
