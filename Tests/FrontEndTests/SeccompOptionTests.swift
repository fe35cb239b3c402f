import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

/// The spec a front-end's command line builds; nil (and an issue) when it builds none.
private func spec(_ args: [String], frontEnd: String = "burrow") throws -> SandboxSpec? {
    guard case .run(let s) = try FrontEnds.named(frontEnd).parse(args, HostFacts()) else {
        Issue.record("not a run: \(args)")
        return nil
    }
    return s
}

struct SeccompOptionTests {
    @Test(arguments: [
        ([], SeccompProfile.none),
        (["--seccomp", "none"], .none),
        (["--seccomp", "default"], .default),
        (["--seccomp", "linux-user-chroot-0"], .linuxUserChroot0),
        (["--seccomp", "./deny.txt"], .denyFile(HostPath("./deny.txt"))),
        (["--seccomp", "/etc/burrow/deny"], .denyFile(HostPath("/etc/burrow/deny"))),
    ])
    func profiles(args: [String], expected: SeccompProfile) throws {
        guard let s = try spec(args + ["root"]) else { return }
        #expect(s.security.seccomp == expected)
    }

    @Test(arguments: [
        (["--seccomp", "strict", "root"], "--seccomp: unknown profile 'strict' (choose none, default, linux-user-chroot-0, or a file path with a '/' such as ./deny.txt)"),
        (["--seccomp", "deny.txt", "root"], "unknown profile 'deny.txt'"),
        (["--seccomp", "10", "root"], "for bwrap's --seccomp FD use --add-seccomp-fd FD"),
        (["--seccomp", "", "root"], "unknown profile ''"),
        (["--seccomp", "default", "--seccomp", "./x", "root"], "--seccomp given twice"),
        (["--seccomp"], "--seccomp needs an argument: PROFILE"),
        (["--add-seccomp-fd", "x", "root"], "--add-seccomp-fd: 'x' is not a descriptor number"),
    ])
    func rejects(args: [String], fragment: String) {
        #expect {
            try BurrowCommandLine.parse(args)
        } throws: { error in
            guard let e = error as? UsageError else { return false }
            if !e.message.contains(fragment) { Issue.record("message '\(e.message)' lacks '\(fragment)'") }
            return true
        }
    }

    /// Terminal injection (TIOCSTI) is refused unless `--allow-terminal-injection` says
    /// otherwise, whatever the profile; the compatibility front-ends have no such option.
    @Test(arguments: [
        ([String](), false), (["--allow-terminal-injection"], true),
        (["--seccomp", "default", "--allow-terminal-injection"], true), (["--seccomp", "default"], false),
        (["--new-session"], false),
    ])
    func terminalInjection(args: [String], allowed: Bool) throws {
        guard let s = try spec(args + ["root"]) else { return }
        #expect(s.security.allowTerminalInjection == allowed)
    }

    @Test(arguments: [
        ("proot", ["-r", "/srv/root", "true"]), ("linux-user-chroot", ["--seccomp-profile-version", "0", "/srv/root", "true"]),
        ("linux-user-chroot", ["/srv/root", "true"]), ("jchroot", ["/srv/root", "true"]),
    ])
    func compatibilityFrontEndsRefuseTerminalInjection(name: String, args: [String]) throws {
        guard let s = try spec(args, frontEnd: name) else { return }
        #expect(!s.security.allowTerminalInjection)
    }

    @Test func helpLineOfTheOptionFitsEightyColumns() {
        let lines = BurrowCommandLine.help.split(separator: "\n").filter { $0.contains("--allow-terminal-injection") }
        #expect(lines.count == 1)
        for line in lines { #expect(line.count <= 80, "\(line)") }
    }

    @Test func helpShowsTheProfiles() {
        #expect(BurrowCommandLine.help.contains("--seccomp PROFILE"))
        #expect(BurrowCommandLine.help.contains("linux-user-chroot-0"))
    }
}
