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
        #expect(readme.contains("the shell is PID 2: with `--unshare-pid`\nburrow's init is PID 1"))

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
            echo '[1/9] Compiling BurrowSpec Validation.swift'
            echo '/src/Sources/Spec/Validation.swift:12:5: error: cannot find foo in scope'
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
}
