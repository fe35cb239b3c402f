// burrow's own failures: status 125, a message on stderr starting with "burrow: ", and the
// command never runs. Also --help, --version and -v.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Errors", .timeLimit(.minutes(1)))
struct ErrorTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        /// Placeholders: "$ROOTFS" a private rootfs, "$FILE" a regular host file, "$CMD" a
        /// command that would print RAN-COMMAND and create /ran-marker in the rootfs.
        let args: [String]
        /// All must appear on stderr (placeholders allowed).
        let mentions: [String]
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "no arguments at all", args: [], mentions: ["ROOTFS"]),
        BadInput(name: "options but no ROOTFS", args: ["--unshare-pid"], mentions: ["ROOTFS"]),
        BadInput(
            name: "ROOTFS does not exist", args: ["/nonexistent-burrow-rootfs", "$CMD"],
            mentions: ["/nonexistent-burrow-rootfs", "No such file or directory"]),
        BadInput(name: "ROOTFS is a file", args: ["$FILE", "$CMD"], mentions: ["Not a directory"]),
        BadInput(
            name: "relative destination", args: ["--bind", "/tmp", "rel", "$ROOTFS", "$CMD"],
            mentions: ["not an absolute path"]),
        BadInput(
            name: "destination climbing above /", args: ["--tmpfs", "/../x", "$ROOTFS", "$CMD"],
            mentions: ["climbs above"]),
        BadInput(name: "unknown option", args: ["--frobnicate", "$ROOTFS", "$CMD"], mentions: ["--frobnicate"]),
        BadInput(name: "--bind missing its arguments", args: ["--bind", "/tmp"], mentions: ["needs 2 arguments"]),
        BadInput(name: "--tmpfs missing its argument", args: ["--tmpfs"], mentions: ["--tmpfs"]),
        BadInput(
            name: "missing bind source", args: ["--bind", "/nonexistent-burrow-src", "/run", "$ROOTFS", "$CMD"],
            mentions: ["/nonexistent-burrow-src"]),
        BadInput(
            name: "--hostname without --unshare-uts", args: ["--hostname", "x", "$ROOTFS", "$CMD"],
            mentions: ["--unshare-uts"]),
        BadInput(
            name: "--mqueue without --unshare-ipc", args: ["--mqueue", "/dev/mqueue", "$ROOTFS", "$CMD"],
            mentions: ["--unshare-ipc"]),
        BadInput(name: "--engine setuid (not available yet)", args: ["--engine", "setuid", "$ROOTFS", "$CMD"], mentions: ["setuid"]),
        BadInput(name: "--engine bogus", args: ["--engine", "bogus", "$ROOTFS", "$CMD"], mentions: ["bogus"]),
        BadInput(name: "--uid not a number", args: ["--uid", "abc", "$ROOTFS", "$CMD"], mentions: ["abc"]),
        BadInput(
            name: "--size not a size", args: ["--size", "lots", "--tmpfs", "/run", "$ROOTFS", "$CMD"],
            mentions: ["lots"]),
        BadInput(name: "--perms not octal", args: ["--perms", "999", "--tmpfs", "/run", "$ROOTFS", "$CMD"], mentions: ["999"]),
        BadInput(name: "--size with no --tmpfs after it", args: ["--size", "1M", "$ROOTFS", "$CMD"], mentions: ["--size"]),
        BadInput(
            name: "--ro-root with an overlay", args: ["--ro-root", "--root-tmp-overlay", "$ROOTFS", "$CMD"],
            mentions: ["--ro-root"]),
        BadInput(name: "--uid-map not IN:HOST:COUNT", args: ["--uid-map", "1:2", "$ROOTFS", "$CMD"], mentions: ["1:2"]),
        BadInput(
            name: "--uid outside the --uid-map", args: ["--uid-map", "0:1000:1", "--uid", "5", "$ROOTFS", "$CMD"],
            mentions: ["not mapped"]),
    ]

    @Test("Bad input: status 125, a message, and the command never runs", arguments: badInputs)
    func badInput(_ c: BadInput) async {
        let root = await makePrivateRootfs()
        let scratch = makeTempDir()
        defer {
            root.remove()
            scratch.remove()
        }
        let file = scratch.sub("a-file")
        writeFile(file, "not a directory\n")
        let before = treeListing(root.path)
        let command = sh("echo RAN-COMMAND; touch /ran-marker")
        func expand(_ s: String) -> [String] {
            switch s {
            case "$ROOTFS": return [root.path]
            case "$FILE": return [file]
            case "$CMD": return command
            default: return [s]
            }
        }
        let r = await burrow(c.args.flatMap(expand))
        expectStatus(r, 125)
        #expect(r.stderr.hasPrefix("burrow: "), "stderr should start with 'burrow: ':\n\(r)")
        for mention in c.mentions.flatMap(expand) { expectStderr(r, contains: mention) }
        expectStdout(r, lacks: "RAN-COMMAND")
        #expect(!pathExists(root.at("/ran-marker")), "the command ran")
        #expect(treeListing(root.path) == before, "a failed setup changed the rootfs")
        #expect(hostMounts(mentioning: root.path).isEmpty)
    }

    /// `burrow --bind /etc ROOTFS id`: --bind took ROOTFS as its DEST and `id` became the
    /// rootfs. The message says which option took which argument, on every engine and under
    /// linux-user-chroot's name too.
    @Test("An option that took the rootfs meant is named with what it took", arguments: Engine.allCases)
    func optionTookTheRootfs(_ engine: Engine) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let before = treeListing(root.path)
        let r = await burrow(engine: engine, ["--bind", "/etc", root.path, "id"])
        expectStatus(r, 125)
        expectStderr(r, contains: "--bind takes SRC DEST: here SRC=/etc DEST=\(root.path), so 'id' was taken as the rootfs: No such file or directory")
        #expect(treeListing(root.path) == before)

        let tool = await runTool("linux-user-chroot", ["--mount-bind", "/etc", root.path, "id"])
        expectStatus(tool, 1)
        expectStderr(tool, contains: "missing PROGRAM after ROOTDIR 'id' (--mount-bind takes SOURCE DEST: here SOURCE=/etc DEST=\(root.path))")
    }

    /// An empty directory as rootfs: the kernel says only "No such file or directory"; the
    /// message says the command was looked for inside the rootfs, and that a rootfs without
    /// /bin is no root file system. A command missing from a real rootfs gets the first part.
    @Test("A command not found says it was looked for inside the rootfs", arguments: Engine.allCases)
    func commandNotFoundInTheRootfs(_ engine: Engine) async {
        let empty = makeTempDir(owner: testUser)
        defer { empty.remove() }
        let shell = await burrow(engine: engine, [empty.path])
        expectStatus(shell, 127)
        expectStderr(shell, contains: "exec /bin/sh: No such file or directory\n  hint: /bin/sh is looked for inside the rootfs \(empty.path), not on the host")
        expectStderr(shell, contains: "\(empty.path) has no /bin: is it a root file system? scripts/make-rootfs DIR")
        #expect(directoryEntries(empty.path).isEmpty)

        let missing = await burrow(engine: engine, [Harness.sharedRootfs, "no-such-command-burrow"])
        expectStatus(missing, 127)
        expectStderr(missing, contains: "no-such-command-burrow is looked for along PATH inside the rootfs \(Harness.sharedRootfs)")
        expectStderr(missing, lacks: "is it a root file system?")
    }

    /// PATH_MAX (4095 bytes and the NUL) and NAME_MAX (255) are the spec's: both engines
    /// refuse the same paths before anything starts, in the same words, naming the option.
    @Test("Paths over PATH_MAX or NAME_MAX: refused alike on every engine, the option named", arguments: Engine.allCases)
    func pathLimits(_ engine: Engine) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let before = treeListing(root.path)
        let long = "/tmp/" + String(repeating: "x", count: 5000)
        let tmpfs = await burrow(engine: engine, ["--tmpfs", long, root.path] + sh("echo RAN-COMMAND"))
        expectStatus(tmpfs, 125)
        expectStderr(tmpfs, contains: "burrow: --tmpfs /tmp/\(String(repeating: "x", count: 35))…: a path of 5005 bytes, more than 4095: File name too long")
        expectStdout(tmpfs, lacks: "RAN-COMMAND")

        let name = "/" + String(repeating: "n", count: 256)
        let bind = await burrow(engine: engine, ["--bind", name, "/mnt", root.path] + sh("echo RAN-COMMAND"))
        expectStatus(bind, 125)
        expectStderr(bind, contains: "--bind /nnn")
        expectStderr(bind, contains: "a name of 256 bytes in it")
        expectStderr(bind, contains: "more than 255: File name too long")
        #expect(treeListing(root.path) == before)

        let prootBind = await runTool("proot", ["-r", root.path, "-b", "/etc:" + long, "/bin/true"])
        expectStatus(prootBind, 1)
        expectStderr(prootBind, contains: "proot: -b /tmp/xxx")
        expectStderr(prootBind, contains: "a path of 5005 bytes, more than 4095: File name too long")

        // At the limit of a name: accepted, on both engines.
        let fits = "/tmp/" + String(repeating: "f", count: 255)
        let ok = await burrow(engine: engine, ["--tmpfs", "/tmp", "--tmpfs", fits, root.path] + sh("test -d \(fits) && echo fits"))
        expectSuccess(ok)
        expectLines(ok, ["fits"])
    }

    @Test("--help exits 0 and lists the options", arguments: ["--help", "-h"])
    func help(_ flag: String) async {
        let r = await burrow([flag])
        expectSuccess(r)
        expectStdout(r, contains: "Usage")
        for option in [
            "--bind", "--ro-bind", "--dev-bind", "--tmpfs", "--proc", "--dev", "--root-overlay", "--unshare-pid",
            "--unshare-all", "--uid-map", "--chdir", "--setenv", "--keep-children", "--engine", "--version",
        ] {
            expectStdout(r, contains: option)
        }
    }

    @Test("--help fits an 80-column terminal under every name", arguments: ["burrow", "proot", "jchroot", "linux-user-chroot"])
    func helpFitsEightyColumns(_ name: String) async {
        let r = name == "burrow" ? await burrow(["--help"]) : await runTool(name, ["--help"])
        expectSuccess(r)
        #expect(r.stdout.contains("Usage"))
        // A tab moves to the next multiple of 8, as on a terminal.
        let wide = r.stdout.split(separator: "\n").filter { line in
            line.reduce(0) { at, c in c == "\t" ? (at / 8 + 1) * 8 : at + 1 } > 80
        }
        #expect(wide.isEmpty, "\(name) --help has lines wider than 80 columns:\n\(wide.joined(separator: "\n"))")
    }

    @Test("--help wins over a rootfs and command after it")
    func helpStops() async {
        let r = await burrow(["--help", Harness.sharedRootfs] + sh("echo RAN-COMMAND"))
        expectSuccess(r)
        expectStdout(r, contains: "Usage")
        expectStdout(r, lacks: "RAN-COMMAND")
    }

    @Test("--version exits 0 and prints the version")
    func version() async {
        let r = await burrow(["--version"])
        expectSuccess(r)
        expectStdout(r, contains: "burrow 0.1.0")
    }

    @Test("-v and --verbose print the setup steps on stderr, not stdout", arguments: ["-v", "--verbose"])
    func verbose(_ flag: String) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let r = await burrow([flag, "--bind", w.path, "/run", Harness.sharedRootfs] + sh("echo ran"))
        expectSuccess(r)
        expectLines(r, ["ran"])
        expectStderr(r, contains: "bind")
        expectStderr(r, contains: "/run")
    }

    @Test("Without -v a successful run prints no setup steps")
    func quietByDefault() async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let r = await burrow(["--bind", w.path, "/run", Harness.sharedRootfs] + sh("echo ran"))
        expectSuccess(r)
        expectLines(r, ["ran"])
        expectStderr(r, lacks: "bind")
    }

    /// A host without unprivileged user namespaces, emulated as the brief describes: root
    /// installs a seccomp filter refusing CLONE_NEWUSER (scripts/no-userns), then drops to
    /// the test user. burrow must say why it cannot work, and what would, and run nothing.
    @Test("Without user namespaces, --engine namespace: status 125 and a hint naming the sysctls", .enabled(if: Harness.runningAsRoot))
    func userNamespacesDisabled() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let argv = ["\(Harness.packageRoot)/scripts/no-userns"] + asTestUser([Harness.binary, "--engine", "namespace", root.path] + sh("touch /ran-marker; echo RAN-COMMAND"))
        let r = await runHostAsync(argv)
        #expect(r.status == 125, "status \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("burrow: the namespace engine cannot run here: a seccomp filter denies unshare"), "stderr: \(r.stderr)")
        for fragment in ["kernel.unprivileged_userns_clone", "user.max_user_namespaces",
                         "kernel.apparmor_restrict_unprivileged_userns", "ptrace"] {
            #expect(r.stderr.contains(fragment), "stderr lacks \(fragment): \(r.stderr)")
        }
        #expect(!r.stdout.contains("RAN-COMMAND"))
        #expect(!pathExists(root.at("/ran-marker")))
    }

    @Test("BURROW_ENGINE chooses the engine when --engine is not given", arguments: [
        ("namespace", Int32(0), "RAN-COMMAND"), ("auto", 0, "RAN-COMMAND"),
        ("ptrace", 0, "RAN-COMMAND"), ("setuid", 125, "the setuid engine needs burrow installed setuid root"), ("bogus", 125, "BURROW_ENGINE='bogus'"),
    ])
    func engineFromEnvironment(value: String, status: Int32, fragment: String) async {
        let r = await burrow([Harness.sharedRootfs] + sh("echo RAN-COMMAND"), environment: ["BURROW_ENGINE": value])
        expectStatus(r, status)
        #expect((r.stdout + r.stderr).contains(fragment), "stdout: \(r.stdout) stderr: \(r.stderr)")
        if status != 0 { #expect(!r.stdout.contains("RAN-COMMAND")) }
    }
}
