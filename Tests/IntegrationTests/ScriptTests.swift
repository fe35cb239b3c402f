// What a newcomer runs first on a fresh clone: scripts/demo, scripts/install, the man
// pages. Each runs the real binary (the demo's sandbox as an unprivileged user: 'nobody'
// when the tests run as root, else whoever runs them).

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Scripts a newcomer runs", .serialized, .timeLimit(.minutes(2)))
struct ScriptTests {
    static let demo = Harness.packageRoot + "/scripts/demo"

    @Test("scripts/demo shows what the README says it shows, and keeps its rootfs for the next run")
    func demoShowsWhatTheReadmeSays() async throws {
        let dir = makeTempDir()
        defer { dir.remove() }
        let env = ["BURROW_BIN": Harness.binary, "BURROW_DEMO_DIR": dir.sub("demo")]
        guard let p = try? spawn(["/bin/bash", Self.demo], environment: env) else {
            Issue.record("cannot start scripts/demo")
            return
        }
        let first = await p.wait(timeout: 60)
        expectSuccess(first)
        expectStdout(first, contains: "hello from burrow-demo: uid=0(root)")
        // The shell is PID 2: burrow's init is PID 1 (--unshare-pid, in --unshare-all).
        expectStdout(first, contains: "pid 2, in a PID namespace of its own: pid 1 is its init, burrow;")
        expectStdout(first, contains: "network interfaces: lo")
        expectStdout(first, contains: "Read-only file system")
        expectStdout(first, contains: "made by scripts/make-rootfs \(dir.sub("demo/rootfs"))")
        #expect(pathExists(dir.sub("demo/rootfs/bin/busybox")), "the demo's rootfs is kept")
        #expect(directoryEntries(dir.sub("demo/rootfs/tmp")).isEmpty, "nothing of the sandbox left in the rootfs")
        // The README says the same: the shell is PID 2, burrow's init PID 1.
        let readme = readFile(Harness.packageRoot + "/README.md") ?? ""
        let text = readme.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("the shell is PID 2: burrow's init is PID 1"))

        guard let again = try? spawn(["/bin/bash", Self.demo], environment: env) else { return }
        let second = await again.wait(timeout: 60)
        expectSuccess(second)
        expectStdout(second, contains: "rootfs: \(dir.sub("demo/rootfs")) (kept from an earlier run")
        expectStdout(second, contains: "hello from burrow-demo")
    }

    @Test("scripts/demo on a failed build shows the compiler's errors and where the log is")
    func demoShowsBuildErrors() async throws {
        let dir = makeTempDir()
        defer { dir.remove() }
        // A `swift` first on PATH that fails the way a compile error does.
        let fake = dir.sub("bin")
        mkdir(fake, 0o755)
        writeFile(fake + "/swift", """
            #!/bin/sh
            echo '[1/9] Compiling BurrowSandbox Validation.swift'
            echo '/src/Sources/Sandbox/Validation.swift:12:5: error: cannot find foo in scope'
            echo '    foo()'
            i=0; while [ $i -lt 40 ]; do echo "[$i/9] noise"; i=$((i+1)); done
            exit 1

            """)
        chmod(fake + "/swift", 0o755)
        let path = fake + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        guard let p = try? spawn(["/bin/bash", Self.demo], environment: ["PATH": path, "BURROW_BIN": "", "BURROW_DEMO_DIR": dir.sub("demo")])
        else {
            Issue.record("cannot start scripts/demo")
            return
        }
        let r = await p.wait(timeout: 60)
        expectStatus(r, 1)
        expectStderr(r, contains: "demo: the build failed")
        expectStderr(r, contains: "Validation.swift:12:5: error: cannot find foo in scope")
        expectStderr(r, contains: dir.sub("demo/build.log"))
        expectStdout(r, lacks: "hello from")
        #expect(readFile(dir.sub("demo/build.log"))?.contains("error: cannot find foo") == true, "the log is kept")
    }

    static let manPages: [String] = directoryEntries(Harness.packageRoot + "/docs").filter { $0.hasSuffix(".1") }

    @Test("Every man page renders without a warning: groff -ww, man -l, and mandoc -T lint where installed")
    func manPagesRenderCleanly() async {
        #expect(Set(Self.manPages).isSuperset(of: ["burrow.1", "proot.1", "jchroot.1", "linux-user-chroot.1", "bwrap.1"]), "\(Self.manPages)")
        let mandoc = ["/usr/bin/mandoc", "/usr/local/bin/mandoc"].first { FileManager.default.isExecutableFile(atPath: $0) }
        for page in Self.manPages {
            let path = Harness.packageRoot + "/docs/" + page
            let groff = await runHostAsync(["/usr/bin/groff", "-man", "-ww", "-z", path])
            #expect(groff.status == 0 && groff.stderr.isEmpty, "groff -man -ww -z \(page) (\(groff.status)):\n\(groff.stderr)")
            guard let p = try? spawn(["/usr/bin/man", "--warnings", "-l", path], environment: ["MANWIDTH": "200", "MAN_KEEP_FORMATTING": ""])
            else {
                Issue.record("cannot start man (scripts/deps installs man-db)")
                continue
            }
            let man = await p.wait(timeout: 30)
            #expect(man.status == 0 && man.stderr.isEmpty, "man --warnings -l \(page):\n\(man)")
            if page == "burrow.1" {
                // The line troff garbled while its backslashes were not escaped.
                expectStdout(man, contains: "\\sysname\\nodename\\release\\version\\machine\\domainname\\hwcap\\")
            }
            if let mandoc {
                let lint = await runHostAsync([mandoc, "-T", "lint", "-W", "warning", path])
                #expect(lint.status == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty, "mandoc -T lint \(page):\n\(lint.stdout)\(lint.stderr)")
            }
        }
    }

    /// Each name's man page documents every option its --help lists (the binary run under
    /// that name as the test user).
    @Test("docs/NAME.1 documents every option NAME --help lists", arguments: ["burrow", "proot", "jchroot", "linux-user-chroot", "bwrap"])
    func manPageMatchesHelp(_ name: String) async throws {
        let r = name == "burrow" ? await burrow(["--help"]) : await runTool(name, ["--help"])
        expectSuccess(r)
        let man = (readFile(Harness.packageRoot + "/docs/\(name).1") ?? "").replacingOccurrences(of: "\\-", with: "-")
        // Option rows start with two spaces and a dash, their help after two spaces more:
        // "  -b *path*, --bind=*path*", "  --tmpfs DEST                  Mount a new tmpfs...".
        let options = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  -") }.flatMap { row in
            let names = row.dropFirst(2).components(separatedBy: "  ")[0]
            return names.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "=" }).filter { $0.hasPrefix("-") && $0.count > 1 }
        }.map(String.init)
        #expect(options.count > 5, "no options found in \(name) --help:\n\(r)")
        for option in options { #expect(man.contains(option), "docs/\(name).1 lacks \(option), which \(name) --help lists") }
    }

    // MARK: scripts/install, as the test user into a prefix of its own

    static let install = Harness.packageRoot + "/scripts/install"

    /// A prefix the test user owns, and a directory with a `proot` of someone else's (as
    /// Debian's is) for PATH.
    struct InstallScene {
        let base: TempDir
        var prefix: String { base.sub("prefix") }
        var other: String { base.sub("other-bin") }

        static func make() -> InstallScene {
            let base = makeTempDir(owner: testUser)
            let scene = InstallScene(base: base)
            mkdir(scene.other, 0o755)
            writeFile(scene.other + "/proot", "#!/bin/sh\necho the other proot\n")
            chmod(scene.other + "/proot", 0o755)
            return scene
        }

        func run(_ args: [String], path: String) async -> BurrowResult {
            let argv = asTestUser(["/bin/bash", ScriptTests.install, "--prefix", prefix, "--bin", Harness.binary] + args)
            guard let p = try? spawn(argv, environment: ["PATH": path]) else {
                Issue.record("cannot start scripts/install")
                return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "", timedOut: false)
            }
            return await p.wait(timeout: 60)
        }
    }

    @Test("scripts/install leaves out a name that is already a command on PATH, and says what it would shadow")
    func installNeverShadowsSilently() async {
        let scene = InstallScene.make()
        defer { scene.base.remove() }
        let bin = scene.prefix + "/bin"
        let r = await scene.run([], path: "\(bin):\(scene.other):/usr/bin:/bin")
        expectSuccess(r)
        expectStdout(r, contains: "not installing \(bin)/proot: it would come first on PATH and hide \(scene.other)/proot")
        expectStdout(r, contains: "--compat-over-existing")
        expectStdout(r, contains: "--compat-dir DIR")
        #expect(!pathExists(bin + "/proot"), "no proot link")
        #expect(!pathExists(scene.prefix + "/share/man/man1/proot.1"), "no proot page over the other proot's")
        for name in ["burrow", "jchroot", "linux-user-chroot"] { #expect(pathExists(bin + "/" + name), "\(name) installed") }
        // Debian's bubblewrap, where installed, is kept the same way.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") {
            expectStdout(r, contains: "not installing \(bin)/bwrap: it would come first on PATH and hide /usr/bin/bwrap")
            #expect(!pathExists(bin + "/bwrap"), "no bwrap link")
        }
        // The installed names work, run as the test user.
        let jchroot = await runHostAsync(asTestUser([bin + "/jchroot", "--version"]))
        #expect(jchroot.status == 0 && jchroot.stdout.contains("jchroot (burrow"), "\(jchroot)")

        // Behind the other proot on PATH, Burrow's would never run: said too.
        let behind = await scene.run([], path: "\(scene.other):\(bin):/usr/bin:/bin")
        expectStdout(behind, contains: "not installing \(bin)/proot: \(scene.other)/proot comes first on PATH: Burrow's would never run as 'proot'")
    }

    @Test("scripts/install --compat-over-existing installs the name and says what it shadows")
    func installOverExisting() async {
        let scene = InstallScene.make()
        defer { scene.base.remove() }
        let bin = scene.prefix + "/bin"
        let r = await scene.run(["--compat-over-existing"], path: "\(bin):\(scene.other):/usr/bin:/bin")
        expectSuccess(r)
        expectStdout(r, contains: "installing \(bin)/proot over an existing command (--compat-over-existing): it would come first on PATH and hide \(scene.other)/proot")
        #expect(pathExists(scene.prefix + "/share/man/man1/proot.1"))
        let proot = await runHostAsync(asTestUser([bin + "/proot", "--version"]))
        #expect(proot.status == 0 && proot.stdout.contains("(command line of) burrow"), "\(proot)")
    }

    @Test("scripts/install --compat-dir keeps the names apart and says how to use them")
    func installCompatDir() async {
        let scene = InstallScene.make()
        defer { scene.base.remove() }
        let bin = scene.prefix + "/bin", apart = scene.prefix + "/lib/burrow/bin"
        let r = await scene.run(["--compat-dir", apart], path: "\(bin):\(scene.other):/usr/bin:/bin")
        expectSuccess(r)
        expectStdout(r, contains: "PATH=\(apart):$PATH")
        expectStdout(r, contains: "man -M \(scene.prefix)/share/burrow/man NAME")
        #expect(!pathExists(bin + "/proot") && !pathExists(bin + "/jchroot"), "nothing but burrow in \(bin)")
        #expect(pathExists(scene.prefix + "/share/burrow/man/man1/proot.1"))
        let proot = await runHostAsync(asTestUser([apart + "/proot", "--version"]))
        #expect(proot.status == 0 && proot.stdout.contains("(command line of) burrow"), "\(proot)")
    }

    @Test("scripts/install --help says how the compatibility names are installed")
    func installHelp() async {
        let r = await runHostAsync(["/bin/bash", Self.install, "--help"])
        #expect(r.status == 0)
        for fragment in ["--compat-over-existing", "--compat-dir CDIR", "--no-compat-names", "already on", "shadow"] {
            #expect(r.stdout.contains(fragment), "scripts/install --help lacks \(fragment):\n\(r.stdout)")
        }
    }
}
