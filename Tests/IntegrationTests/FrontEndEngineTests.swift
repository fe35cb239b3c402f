// Engine choice under every compatibility name: BURROW_ENGINE overrides the default for
// linux-user-chroot, jchroot and proot as it does for burrow, a bad value or an engine the
// host lacks is a clear error with the tool's own failure status (1), and without user
// namespaces `auto` falls back to an engine that works.

import Foundation
import Testing

@Suite("Engine choice for the compatibility names", .timeLimit(.minutes(2)))
struct FrontEndEngineTests {
    let rootfs = Harness.sharedRootfs

    /// The tool `name` as the test user with `environment`, optionally on a host without
    /// user namespaces (scripts/no-userns, installed by root).
    func tool(_ name: String, _ args: [String], environment: [String: String] = [:], noUserNamespaces: Bool = false) async -> (status: Int32, stdout: String, stderr: String) {
        var argv = asTestUser(["/usr/bin/env"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                              + [FrontEndLinks.path(name)] + args)
        if noUserNamespaces { argv = ["\(Harness.packageRoot)/scripts/no-userns"] + argv }
        return await runHostAsync(argv)
    }

    static let invocations: [(String, [String])] = [
        ("linux-user-chroot", [Harness.sharedRootfs, "/bin/sh", "-c", "echo RAN"]),
        ("jchroot", [Harness.sharedRootfs, "/bin/sh", "-c", "echo RAN"]),
        ("proot", ["-r", Harness.sharedRootfs, "/bin/sh", "-c", "echo RAN"]),
    ]

    @Test("BURROW_ENGINE=namespace and auto run each tool", arguments: invocations)
    func namespaceEngine(name: String, args: [String]) async {
        for value in ["namespace", "auto"] {
            let r = await tool(name, args, environment: ["BURROW_ENGINE": value])
            #expect(r.status == 0 && r.stdout == "RAN\n", "\(name) with \(value): status \(r.status), stderr: \(r.stderr)")
        }
    }

    @Test("A value that is not an engine: the tool's failure status and its own name in the message", arguments: invocations)
    func bogusEngine(name: String, args: [String]) async {
        let r = await tool(name, args, environment: ["BURROW_ENGINE": "bogus"])
        #expect(r.status == 1, "\(name): status \(r.status)")
        #expect(r.stderr.hasPrefix("\(name): BURROW_ENGINE='bogus' is not an engine"), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("RAN"))
    }

    /// Every line burrow writes, on every engine and from every one of its processes, begins
    /// with the name it was called by (the ptrace engine's -v once said `burrow:` under any).
    @Test("Messages begin with the invoked name, on every engine", arguments: ["namespace", "ptrace"])
    func messagesNameTheTool(engine: String) async {
        let verbose = await tool("linux-user-chroot", [rootfs, "/bin/true"], environment: ["BURROW_ENGINE": engine])
        #expect(verbose.status == 0, "\(verbose)")
        let r = await tool("proot", ["-v", "1", "-r", rootfs, "/nonexistent"], environment: ["BURROW_ENGINE": engine])
        #expect(r.status == 1, "\(r)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("  ") }
        #expect(lines.count >= 2 && lines.allSatisfy { $0.hasPrefix("proot: ") }, "\(r.stderr)")
        #expect(r.stderr.contains("proot: exec /nonexistent: No such file or directory"), "\(r.stderr)")
    }

    @Test("BURROW_ENGINE=namespace where user namespaces are disabled: status 1, the reason and what would work",
          arguments: invocations)
    func namespaceUnavailable(name: String, args: [String]) async {
        guard Harness.runningAsRoot else { return }  // scripts/no-userns needs root
        let r = await tool(name, args, environment: ["BURROW_ENGINE": "namespace"], noUserNamespaces: true)
        #expect(r.status == 1, "\(name): status \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("\(name): the namespace engine cannot run here: "), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("BURROW_ENGINE=ptrace"), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("RAN"))
    }

    @Test("Without user namespaces, auto runs proot and linux-user-chroot on the ptrace engine")
    func autoFallsBack() async {
        guard Harness.runningAsRoot else { return }
        for (name, args) in Self.invocations where name != "jchroot" {
            let r = await tool(name, args, noUserNamespaces: true)
            #expect(r.status == 0 && r.stdout == "RAN\n", "\(name): status \(r.status), stderr: \(r.stderr)")
        }
        let v = await tool("proot", ["-v", "1", "-r", rootfs, "true"], noUserNamespaces: true)
        #expect(v.stderr.contains("engine ptrace (auto)"), "stderr: \(v.stderr)")
    }

    @Test("jchroot always asks for a PID namespace: without user namespaces, a clear refusal naming the engine")
    func jchrootNeedsNamespaces() async {
        guard Harness.runningAsRoot else { return }
        let r = await tool("jchroot", [rootfs, "/bin/sh", "-c", "echo RAN"], noUserNamespaces: true)
        #expect(r.status == 1, "status \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("jchroot: "), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("namespace engine"), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("RAN"))
    }

    @Test("BURROW_ENGINE=ptrace runs proot's invocation with PRoot's exit rule (the last process's status)")
    func prootOnPtrace() async {
        let r = await tool("proot", ["-r", rootfs, "-b", "/dev", "/bin/sh", "-c", "(sleep 0.2; exit 4) & exit 1"],
                           environment: ["BURROW_ENGINE": "ptrace"])
        #expect(r.status == 4, "status \(r.status), stderr: \(r.stderr)")
    }
}
