/// Which seccomp filter the command runs under. The filters themselves are built by the
/// BurrowSeccomp module; the spec only names them.
public enum SeccompProfile: Equatable, Sendable {
    /// No filter.
    case none
    /// EPERM for what a build or a shell never needs (kernel-changing calls, module loading,
    /// bpf, perf, userfaultfd, keyrings, new user namespaces...). TIOCSTI and TIOCLINUX are
    /// refused under every profile (`Security.allowTerminalInjection`).
    case `default`
    /// linux-user-chroot's seccomp profile version 0.
    case linuxUserChroot0
    /// A file listing system calls to deny with EPERM, one name per line, `#` comments.
    case denyFile(HostPath)
    /// Rules given as data (burrow-oci's linux.seccomp).
    case rules(SeccompRuleSet)

    /// The names accepted on the command line, in the order help lists them.
    public static let named: [(name: String, profile: SeccompProfile)] = [
        ("none", .none), ("default", .default), ("linux-user-chroot-0", .linuxUserChroot0),
    ]

    /// A profile name, or a file when the value contains a `/`.
    public init?(argument: String) {
        if argument.contains("/") {
            self = .denyFile(HostPath(argument))
        } else if let p = Self.named.first(where: { $0.name == argument }) {
            self = p.profile
        } else {
            return nil
        }
    }
}
