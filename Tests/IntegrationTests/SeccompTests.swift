// --seccomp: each denied call fails inside the sandbox with the documented errno, the same
// call without a filter gets another answer from the kernel (so the errno is the filter's),
// normal programs still run, 32-bit (int $0x80) and x32 calls are covered, and bad deny
// files stop burrow before anything runs. Without --seccomp the command still has a filter
// (TIOCSTI and TIOCLINUX refused); only --allow-terminal-injection leaves it without any.
// Typing into a real terminal is EscapeTests.terminalInjection.
//
// Raw system calls come from Tests/Helpers/sysprobe.c, built static once per test process
// and bound into the sandbox: busybox cannot make them.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum SysProbe {
    /// The static probe binary, or nil (with the compiler's complaint) if it cannot be built.
    static let built = buildStaticHelper("sysprobe")

    /// The probe's path, recording a failure when it could not be built.
    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build sysprobe: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }

    /// burrow arguments that run the probe with `probes` under `profile` (nil: no --seccomp),
    /// as root inside a new PID and network namespace unless `extra` says otherwise.
    static func args(_ profile: String?, _ probes: [String], extra: [String] = ["--root", "--unshare-pid", "--unshare-net"]) -> [String]? {
        guard let probe = path() else { return nil }
        return extra + (profile.map { ["--seccomp", $0] } ?? []) + [
            "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/sysprobe", Harness.sharedRootfs, "/tmp/sysprobe",
        ] + probes
    }

    /// `name=RESULT` lines of the probe's output.
    static func results(_ r: BurrowResult) -> [String: String] {
        var out: [String: String] = [:]
        for line in r.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { out[String(parts[0])] = String(parts[1]) }
        }
        return out
    }
}

#if arch(x86_64)
let onX86_64 = true
#else
let onX86_64 = false
#endif

@Suite("Seccomp", .timeLimit(.minutes(2)))
struct SeccompTests {
    /// A probe, what the filter makes of it under `default` and `linux-user-chroot-0`, and
    /// what the kernel answers without a filter (`--allow-terminal-injection` and no
    /// profile). "*" means "anything but EPERM" where the kernel's own answer depends on its
    /// configuration; nil: not checked. Without `--seccomp` the answer is the kernel's too,
    /// but for what the terminal filter refuses (`noProfile`).
    struct Row: Sendable {
        let probe: String
        let none: String?
        let noProfile: String?
        let defaultProfile: String
        let lucr0: String
        init(_ probe: String, none: String?, noProfile: String? = nil, _ d: String, _ l: String) {
            self.probe = probe
            self.none = none
            self.noProfile = noProfile ?? none
            self.defaultProfile = d
            self.lucr0 = l
        }
    }

    static let rows: [Row] = [
        // The default profile's denials.
        Row("reboot", none: "EINVAL", "EPERM", "EINVAL"),
        Row("kexec_load", none: "*", "EPERM", "*"),
        Row("init_module", none: "*", "EPERM", "*"),
        Row("finit_module", none: "*", "EPERM", "*"),
        Row("delete_module", none: "*", "EPERM", "*"),
        Row("swapoff", none: nil, "EPERM", "EPERM"),
        Row("clock_settime", none: "EFAULT", "EPERM", "EFAULT"),
        Row("settimeofday", none: nil, "EPERM", "EPERM"),
        Row("syslog", none: nil, "EPERM", "EPERM"),
        Row("acct", none: nil, "EPERM", "EPERM"),
        Row("iopl", none: "*", "EPERM", "*"),
        Row("ioperm", none: "*", "EPERM", "*"),
        Row("bpf", none: "*", "EPERM", "*"),
        Row("perf_event_open", none: "EFAULT", "EPERM", "EPERM"),
        Row("userfaultfd", none: "*", "EPERM", "*"),
        Row("keyctl", none: "EOPNOTSUPP", "EPERM", "EOPNOTSUPP"),
        Row("add_key", none: "EFAULT", "EPERM", "EFAULT"),
        Row("request_key", none: "EFAULT", "EPERM", "EFAULT"),
        Row("clone_newuser", none: "EINVAL", "EPERM", "EPERM"),
        Row("unshare_newuser", none: "EINVAL", "EPERM", "EPERM"),
        Row("clone3", none: "EINVAL", "ENOSYS", "ENOSYS"),
        // Terminal injection: refused under every profile, and without one.
        Row("tiocsti_badfd", none: "EBADF", noProfile: "EPERM", "EPERM", "EPERM"),
        Row("tiocsti_high_bits", none: "EBADF", noProfile: "EPERM", "EPERM", "EPERM"),
        Row("tiocsti_fd_high_bits", none: "EBADF", noProfile: "EPERM", "EPERM", "EPERM"),
        Row("tioclinux", none: "EBADF", noProfile: "EPERM", "EPERM", "EPERM"),
        // ... but not on a descriptor no process can hold: the kernel's own answer.
        Row("tiocsti_negative_fd", none: "EBADF", noProfile: "EBADF", "EBADF", "EBADF"),
        // With --unshare-pid, ptrace and its relatives stay allowed under default.
        Row("ptrace", none: "ESRCH", "ESRCH", "ESRCH"),
        Row("process_vm_readv", none: "EINVAL", "EINVAL", "EINVAL"),
        // linux-user-chroot-0's denials.
        Row("personality", none: "ok", "ok", "EPERM"),
        Row("mount", none: "EFAULT", "EFAULT", "EPERM"),
        Row("unshare_ipc", none: "EINVAL", "EINVAL", "EPERM"),
        Row("modify_ldt", none: "*", "*", "EPERM"),
        Row("mbind", none: "EINVAL", "EINVAL", "EPERM"),
        Row("socket_packet", none: "ok", "ok", "EAFNOSUPPORT"),
        Row("socket_unix", none: "ok", "ok", "ok"),
        Row("socket_inet", none: "ok", "ok", "ok"),
        Row("socket_inet6", none: "ok", "ok", "ok"),
        Row("socket_netlink", none: "ok", "ok", "ok"),
        // Allowed everywhere.
        Row("tcgets_badfd", none: "EBADF", "EBADF", "EBADF"),
        Row("getpid", none: "ok", "ok", "ok"),
        Row("uname_null", none: "EFAULT", "EFAULT", "EFAULT"),
    ]

    /// The i386 ABI (int $0x80) gets the same rules under its own numbers; x32 is refused.
    static let foreignABIRows: [Row] = [
        Row("i386_getpid", none: "ok", "ok", "ok"),
        Row("i386_reboot", none: "EINVAL", "EPERM", "EINVAL"),
        Row("i386_unshare_newuser", none: "EINVAL", "EPERM", "EPERM"),
        Row("i386_ioctl_tiocsti", none: "EBADF", noProfile: "EPERM", "EPERM", "EPERM"),
        Row("i386_clone3", none: "EINVAL", "ENOSYS", "ENOSYS"),
        Row("i386_uname_null", none: "EFAULT", "EFAULT", "EFAULT"),
        Row("i386_socket_packet", none: "ok", "ok", "EAFNOSUPPORT"),
        // x32 has its own numbers (its ioctl is 514): refused as a whole by every filter.
        Row("x32_getpid", none: "*", noProfile: "EPERM", "EPERM", "EPERM"),
        Row("x32_reboot", none: "*", noProfile: "EPERM", "EPERM", "EPERM"),
    ]

    static func check(_ rows: [Row], sourceLocation: SourceLocation = #_sourceLocation) async {
        let probes = rows.map(\.probe)
        let noFilter = ["--allow-terminal-injection", "--root", "--unshare-pid", "--unshare-net"]
        let columns: [(String?, [String]?, @Sendable (Row) -> String?)] = [
            (nil, noFilter, { $0.none }), (nil, nil, { $0.noProfile }),
            ("default", nil, { $0.defaultProfile }), ("linux-user-chroot-0", nil, { $0.lucr0 }),
        ]
        for (profile, extra, column) in columns {
            guard let args = extra.map({ SysProbe.args(profile, probes, extra: $0) }) ?? SysProbe.args(profile, probes) else { return }
            let r = await burrow(args)
            expectSuccess(r, sourceLocation: sourceLocation)
            let got = SysProbe.results(r)
            for row in rows {
                guard let want = column(row) else { continue }
                let seen = got[row.probe]
                let ok = want == "*" ? (seen != nil && seen != "EPERM") : seen == want
                let under = profile.map { "--seccomp \($0)" } ?? (extra == nil ? "no --seccomp" : "no filter")
                #expect(ok, "\(row.probe) under \(under): expected \(want), got \(seen ?? "nothing")\n\(r)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    @Test func deniedCallsFailWithTheDocumentedErrno() async {
        await Self.check(Self.rows)
    }

    @Test(.enabled(if: onX86_64, "int $0x80 and x32 exist on x86_64 only"))
    func i386AndX32CallsAreCovered() async {
        await Self.check(Self.foreignABIRows)
    }

    @Test func ptraceIsDeniedWithoutAPIDNamespace() async {
        let probes = ["ptrace", "process_vm_readv", "pidfd_getfd", "getpid"]
        guard let without = SysProbe.args("default", probes, extra: []),
            let with = SysProbe.args("default", probes, extra: ["--unshare-pid"]),
            let none = SysProbe.args(nil, probes, extra: [])
        else { return }
        let r1 = await burrow(without)
        expectSuccess(r1)
        #expect(SysProbe.results(r1) == ["ptrace": "EPERM", "process_vm_readv": "EPERM", "pidfd_getfd": "EPERM", "getpid": "ok"], "\(r1)")
        let r2 = await burrow(with)
        expectSuccess(r2)
        #expect(SysProbe.results(r2) == ["ptrace": "ESRCH", "process_vm_readv": "EINVAL", "pidfd_getfd": "EBADF", "getpid": "ok"], "\(r2)")
        let r3 = await burrow(none)
        expectSuccess(r3)
        #expect(SysProbe.results(r3) == ["ptrace": "ESRCH", "process_vm_readv": "EINVAL", "pidfd_getfd": "EBADF", "getpid": "ok"], "\(r3)")
    }

    /// A shell and the usual tools work under every profile, as the test user and as root.
    @Test(arguments: ["none", "default", "linux-user-chroot-0", "FILE"], [false, true])
    func normalProgramsRun(profile: String, asRoot: Bool) async {
        let dir = makeTempDir()
        defer { dir.remove() }
        writeFile(dir.sub("deny"), "# nothing a shell needs\nreboot\nkexec_load\n")
        let value = profile == "FILE" ? dir.sub("deny") : profile
        let script = """
            set -e
            mkdir -p /tmp/a/b && echo data > /tmp/a/b/f && wc -c < /tmp/a/b/f
            ls /bin | grep -c '^sh$'
            (sleep 0.1; echo background) & wait
            echo pipe | tr a-z A-Z | sed 's/P/p/'
            id -u
            test -n "$(date +%s)" && echo date
            cd /tmp/a && pwd && rm -r /tmp/a && echo removed
            ps -o pid= | wc -l | grep -q '[1-9]' && echo ps
            echo end
            """
        let r = await burrow((asRoot ? ["--root"] : []) + [
            "--seccomp", value, "--unshare-pid", "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
            Harness.sharedRootfs,
        ] + sh(script))
        expectSuccess(r)
        expectLines(r, ["5", "1", "background", "pIPE", asRoot ? "0" : "\(testUser.uid)", "date", "/tmp/a", "removed", "ps", "end"])
    }

    @Test func denyFileDeniesItsCalls() async {
        let dir = makeTempDir()
        defer { dir.remove() }
        writeFile(dir.sub("deny"), "# calls this build must not make\n\n  uname   # trailing comment\r\ngetcwd\n")
        let probes = ["uname_null", "getcwd_null", "getpid", "reboot"] + (onX86_64 ? ["i386_uname_null", "x32_getpid"] : [])
        guard let args = SysProbe.args(dir.sub("deny"), probes), let control = SysProbe.args(nil, probes) else { return }
        let r = await burrow(args)
        expectSuccess(r)
        var want = ["uname_null": "EPERM", "getcwd_null": "EPERM", "getpid": "ok", "reboot": "EINVAL"]
        if onX86_64 { want["i386_uname_null"] = "EPERM"; want["x32_getpid"] = "EPERM" }
        #expect(SysProbe.results(r) == want, "\(r)")
        let c = await burrow(control)
        expectSuccess(c)
        #expect(SysProbe.results(c)["uname_null"] == "EFAULT", "\(c)")
        #expect(SysProbe.results(c)["getcwd_null"] != "EPERM", "\(c)")
    }

    struct BadFile: Sendable, CustomTestStringConvertible {
        let name: String
        /// Written as the deny file (nil: none; "<dir>": a directory; "<secret>": mode 0600, root's).
        let content: String?
        let mentions: [String]
        var testDescription: String { name }
    }

    static let badFiles: [BadFile] = [
        BadFile(name: "unknown name", content: "uname\n# fine\nrebooot\n", mentions: [":3: unknown system call 'rebooot'"]),
        BadFile(name: "two names on a line", content: "uname getcwd\n", mentions: [":1: unknown system call 'uname getcwd'"]),
        BadFile(name: "missing file", content: nil, mentions: ["seccomp deny file", "No such file or directory"]),
        BadFile(name: "a directory", content: "<dir>", mentions: ["seccomp deny file", "Is a directory"]),
        BadFile(name: "unreadable file", content: "<secret>", mentions: ["seccomp deny file", "Permission denied"]),
    ]

    @Test(arguments: badFiles)
    func badDenyFileStopsBurrowBeforeAnythingRuns(_ bad: BadFile) async throws {
        if bad.content == "<secret>", !Harness.runningAsRoot { return }  // needs a file the test user cannot read
        let dir = makeTempDir()
        defer { dir.remove() }
        let file = dir.sub("deny")
        switch bad.content {
        case nil: break
        case "<dir>": mkdir(file, 0o755)
        case "<secret>":
            writeFile(file, "uname\n")
            chmod(file, 0o600)
        case let text?: writeFile(file, text)
        }
        let r = await burrow(["--seccomp", file, Harness.sharedRootfs] + sh("echo RAN-COMMAND"))
        expectStatus(r, 125)
        expectStdout(r, lacks: "RAN-COMMAND")
        #expect(r.stderr.hasPrefix("burrow: "), "\(r)")
        expectStderr(r, contains: file)
        for m in bad.mentions { expectStderr(r, contains: m) }
    }

    @Test func unknownProfileIsAUsageError() async {
        let r = await burrow(["--seccomp", "strict", Harness.sharedRootfs] + sh("echo RAN-COMMAND"))
        expectStatus(r, 125)
        expectStdout(r, lacks: "RAN-COMMAND")
        expectStderr(r, contains: "unknown profile 'strict'")
    }

    @Test func verboseSaysWhatIsInstalled() async {
        let r = await burrow(["-v", "--seccomp", "default", Harness.sharedRootfs, "/bin/true"])
        expectSuccess(r)
        expectStderr(r, contains: "seccomp: ")
        expectStderr(r, contains: "BPF instructions")
    }
}
