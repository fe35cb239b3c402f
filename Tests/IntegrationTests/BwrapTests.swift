// bubblewrap's command line with Burrow in its place: the binary run as the unprivileged
// test user through a symlink named `bwrap`, as Flatpak and its peers call it. Descriptors
// (--args, --info-fd, --json-status-fd) are passed by a host shell, as a caller would: the
// test process itself never forks.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

private func bwrap(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    await runTool("bwrap", args, sourceLocation: sourceLocation)
}

/// `script` run by the host's /bin/sh as the test user, with `$BWRAP` naming Burrow's bwrap.
private func hostShell(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    do {
        let p = try spawn(asTestUser(["/bin/sh", "-c", "BWRAP=" + shellQuote(FrontEndLinks.path("bwrap")) + "; " + script]))
        return await p.wait(timeout: 20, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start /bin/sh: \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: [script], status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// The engine a test pins (BURROW_ENGINE works under every name).
private let namespaceEngine = "BURROW_ENGINE=namespace "

@Suite("bwrap", .timeLimit(.minutes(1)))
struct BwrapTests {
    let rootfs = Harness.sharedRootfs

    /// bubblewrap's tests run bwrap again inside the sandbox as /proc/self/exe, where argv[0]
    /// names no tool: through a hard link named bwrap the executable's own name says bwrap
    /// (a nested sandbox is made from bwrap's options); through a symlink it is burrow.
    @Test("Run again as /proc/self/exe: bwrap through a hard link (a nested sandbox from bwrap's options), burrow through a symlink")
    func procSelfExe() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let linked = dir.sub("bwrap")
        if link(Harness.binary, linked) != 0 {
            #expect(runHost(["/bin/cp", Harness.binary, linked]).status == 0, "neither a hard link nor a copy of the binary")
        }
        let outer = ["--ro-bind", "/", "/", "--proc", "/proc", "--"]
        let hard = await hostShell(namespaceEngine + shellQuote(linked) + " " + outer.joined(separator: " ")
            + " /proc/self/exe --version; " + namespaceEngine + shellQuote(linked) + " " + outer.joined(separator: " ")
            + " /proc/self/exe --ro-bind / / -- /bin/sh -c 'echo nested'")
        expectSuccess(hard)
        #expect(hard.lines.count == 2 && hard.lines[0].hasPrefix("bubblewrap 0.11.1 ") && hard.lines[1] == "nested", "\(hard)")
        let symlinked = await hostShell(namespaceEngine + "$BWRAP " + outer.joined(separator: " ") + " /proc/self/exe --version")
        expectSuccess(symlinked)
        #expect(symlinked.stdout.hasPrefix("burrow "), "\(symlinked)")
    }

    /// Flatpak's way: the options on a descriptor (`--args`), / assembled from binds of the
    /// runtime into an empty tmpfs, the status on two descriptors. What the command saw, and
    /// what the descriptors got.
    @Test("A Flatpak-like call: --args FD, binds into an empty /, --dev, --proc, --tmpfs, --setenv, --chdir, --info-fd, --json-status-fd")
    func flatpakLike() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let options = [
            "--ro-bind", rootfs + "/bin", "/bin", "--ro-bind", rootfs + "/etc", "/etc",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/run/user/1000",
            "--symlink", "../tmp", "/var/tmp", "--unshare-pid", "--unshare-ipc", "--unshare-net",
            "--setenv", "FLATPAK_ID", "org.example.App", "--unsetenv", "HOME", "--chdir", "/tmp", "--die-with-parent",
            "--new-session", "--info-fd", "4", "--json-status-fd", "5",
        ]
        writeFile(dir.sub("args"), options.map { $0 + "\0" }.joined(), owner: testUser)
        // (It lives a second: the ids are read once it has started.)
        let script = #"sleep 1; echo id=$FLATPAK_ID home=${HOME-unset}; pwd; ls /; test -c /dev/null && echo dev-ok; echo pid=$$; ls /var/tmp/ >/dev/null && echo var-tmp-ok; exit 7"#
        let r = await hostShell(namespaceEngine + "cd " + shellQuote(dir.path)
            + " && $BWRAP --args 3 -- /bin/sh -c " + shellQuote(script) + " 3<args 4>info.json 5>status.json")
        expectStatus(r, 7)
        expectStdout(r, contains: "id=org.example.App home=unset")
        #expect(r.lines.dropFirst().first == "/tmp", "--chdir:\n\(r)")
        #expect(Array(r.lines.dropFirst(2).prefix(7)) == ["bin", "dev", "etc", "proc", "run", "tmp", "var"],
                "/ holds what the options made, nothing else:\n\(r)")
        expectStdout(r, contains: "dev-ok")
        expectStdout(r, contains: "var-tmp-ok")
        #expect(!r.lines.contains("pid=1"), "burrow's init is PID 1, the command its child:\n\(r)")
        let info = readFile(dir.sub("info.json")) ?? ""
        let status = readFile(dir.sub("status.json")) ?? ""
        #expect(info.hasPrefix("{\n    \"child-pid\": "), "info: \(info)")
        for ns in ["ipc", "mnt", "net", "pid"] {
            #expect(info.contains("\"\(ns)-namespace\": "), "\(ns) in info: \(info)")
        }
        #expect(!info.contains("uts-namespace"), "only the namespaces made are reported: \(info)")
        let lines = status.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("{ \"child-pid\": ") && lines[1] == "{ \"exit-code\": 7 }",
                "json-status: \(status)")
    }

    @Test("--ro-bind / / --dev /dev --proc /proc: the host's tree, read-only, with a new /dev")
    func hostRoot() async {
        let r = await bwrap(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
                             "/bin/sh", "-c", "touch /etc/x 2>/dev/null || echo ro; ls /dev | wc -l; test -e /dev/sda || echo no-disks; echo ok"])
        expectSuccess(r)
        expectStdout(r, contains: "ro")
        expectStdout(r, contains: "no-disks")
        expectStdout(r, contains: "ok")
    }

    @Test("The command's status is passed through; bwrap's own failures exit 1")
    func statuses() async {
        let exit3 = await bwrap(["--ro-bind", "/", "/", "/bin/sh", "-c", "exit 3"])
        expectStatus(exit3, 3)
        let killed = await bwrap(["--ro-bind", "/", "/", "/bin/sh", "-c", "kill -9 $$"])
        expectStatus(killed, 128 + 9)
        let missing = await bwrap(["--ro-bind", "/", "/", "/no/such/command"])
        expectStatus(missing, 1)
        expectStderr(missing, contains: "bwrap: ")
        let noCommand = await bwrap(["--ro-bind", "/", "/"])
        expectStatus(noCommand, 1)
        expectStderr(noCommand, contains: "bwrap: No command specified")
        let unknown = await bwrap(["--frobnicate", "true"])
        expectStatus(unknown, 1)
        #expect(unknown.stderr.hasPrefix("bwrap: Unknown option --frobnicate"), "\(unknown)")
    }

    @Test("Options used as bubblewrap refuses them fail with its words, status 1, before anything runs", arguments: [
        (["--userns-block-fd", "0", "--info-fd", "1"], "bwrap: --userns-block-fd requires --unshare-user"),
        (["--overlay-src", "/usr"], "bwrap: --overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay"),
        (["--overlay-src", "/usr", "--ro-overlay", "/usr"], "bwrap: --ro-overlay requires at least two --overlay-src"),
    ])
    func refused(option: [String], message: String) async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let marker = dir.sub("ran")
        let r = await bwrap(option + ["--ro-bind", "/", "/", "--bind", dir.path, dir.path, "touch", marker])
        expectStatus(r, 1)
        #expect(r.stderr.hasPrefix(message), "\(r)")
        #expect(!pathExists(marker), "the command never ran:\n\(r)")
    }

    @Test("--help begins with usage: and the name as invoked; --version is bubblewrap's")
    func helpAndVersion() async {
        let help = await bwrap(["--help"])
        expectSuccess(help)
        #expect(help.stdout.hasPrefix("usage: \(FrontEndLinks.path("bwrap")) [OPTIONS...] [--] COMMAND [ARGS...]"), "\(help)")
        for option in ["--args FD", "--ro-bind SRC DEST", "--info-fd FD", "--as-pid-1"] {
            expectStdout(help, contains: option)
        }
        let version = await bwrap(["--version"])
        expectSuccess(version)
        #expect(version.stdout.hasPrefix("bubblewrap 0.11.1"), "\(version)")
    }

    @Test("What bwrap creates on the host stays, as bubblewrap leaves it; an existing other --symlink is refused in its words")
    func createdEntriesStay() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let link = dir.sub("link")
        let made = await bwrap(["--ro-bind", "/", "/", "--bind", dir.path, dir.path, "--symlink", "/dev/null", link, "true"])
        expectSuccess(made)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "/dev/null", "\(made)")
        let again = await bwrap(["--ro-bind", "/", "/", "--bind", dir.path, dir.path, "--symlink", "/dev/null", link, "true"])
        expectSuccess(again)
        let other = await bwrap(["--ro-bind", "/", "/", "--bind", dir.path, dir.path, "--symlink", "/dev/full", link, "true"])
        expectStatus(other, 1)
        expectStderr(other, contains: "bwrap: Can't make symlink \(link) -> /dev/full: existing destination is /dev/null")
    }

    @Test("--file, --bind-data, --ro-bind-data from descriptors, --chmod, --lock-file held while the command runs")
    func dataFilesAndLocks() async {
        let dir = makeUserDir(["a": "written\n", "b": "bound\n", "c": "read-only\n", "lock": ""])
        defer { dir.remove() }
        let d = shellQuote(dir.path)
        // Burrow takes the lock once the command has started (bubblewrap just before its
        // exec): on a loaded machine the command may look before it is there, so it waits
        // for it (up to 5 s) and then counts.
        let script = #"ls -l /mnt/a | cut -c1-10; cat /mnt/a /mnt/b /mnt/c; echo more >> /mnt/b && cat /mnt/b; (echo x > /mnt/c) 2>/dev/null || echo c-read-only; stat -c %a /mnt; i=0; until grep -q OFDLCK /proc/locks || [ $i -ge 100 ]; do sleep 0.05; i=$((i+1)); done; grep -c OFDLCK /proc/locks"#
        let r = await hostShell(namespaceEngine + "cd \(d) && $BWRAP --ro-bind / / --tmpfs /mnt --perms 0640 --file 3 /mnt/a"
            + " --bind-data 4 /mnt/b --ro-bind-data 5 /mnt/c --chmod 0700 /mnt --lock-file \(d)/lock --unshare-pid --proc /proc"
            + " -- /bin/sh -c " + shellQuote(script) + " 3<a 4<b 5<c")
        expectSuccess(r)
        expectLines(r, ["-rw-r-----", "written", "bound", "read-only", "bound", "more", "c-read-only", "700", "1"])
        #expect(readFile(dir.sub("b")) == "bound\n", "the host file the data came from is not written:\n\(r)")
        // A descriptor the caller did not open is refused before burrow opens any of its own.
        let closed = await bwrap(["--ro-bind", "/", "/", "--file", "7", "/tmp/x", "true"])
        expectStatus(closed, 1)
        expectStderr(closed, contains: "bwrap: --file DEST /tmp/x: descriptor 7 is not open")
    }

    #if arch(x86_64)
    /// A program as libseccomp exports one: chmod and fchmodat fail with ECONNREFUSED.
    static let denyChmod: [UInt8] = {
        func insn(_ code: UInt16, _ jt: UInt8, _ jf: UInt8, _ k: UInt32) -> [UInt8] {
            [UInt8(code & 0xff), UInt8(code >> 8), jt, jf] + (0..<4).map { UInt8((k >> (8 * $0)) & 0xff) }
        }
        return insn(0x20, 0, 0, 0)                 // A = nr
            + insn(0x15, 2, 0, 268)                   // fchmodat: errno
            + insn(0x15, 1, 0, 90)                    // chmod: errno
            + insn(0x06, 0, 0, 0x7fff_0000)           // allow
            + insn(0x06, 0, 0, 0x0005_0000 | 111)     // errno ECONNREFUSED
    }()

    @Test("--seccomp FD and --add-seccomp-fd FD install the caller's compiled programs; bad data is refused in bubblewrap's words")
    func callerSeccomp() async {
        let dir = makeUserDir(["empty": "", "odd": "x"])
        defer { dir.remove() }
        FileManager.default.createFile(atPath: dir.sub("deny"), contents: Data(Self.denyChmod))
        let d = shellQuote(dir.path)
        for option in ["--seccomp", "--add-seccomp-fd"] {
            let r = await hostShell(namespaceEngine + "cd \(d) && $BWRAP --ro-bind / / --tmpfs /tmp \(option) 3"
                + #" -- /bin/sh -c 'touch /tmp/x; chmod 600 /tmp/x 2>&1; echo status=$?' 3<deny"#)
            expectStdout(r, contains: "Connection refused")
            expectStdout(r, contains: "status=1")
        }
        let odd = await hostShell(namespaceEngine + "cd \(d) && $BWRAP --ro-bind / / --add-seccomp-fd 3 true 3<odd")
        expectStatus(odd, 1)
        expectStderr(odd, contains: "bwrap: Invalid seccomp data, must be multiple of 8")
        let twice = await hostShell(namespaceEngine + "cd \(d) && $BWRAP --ro-bind / / --add-seccomp-fd 3 --add-seccomp-fd 3 true 3<deny")
        expectStatus(twice, 1)
        expectStderr(twice, contains: "bwrap: Can't read seccomp data: Bad file descriptor")
    }
    #endif

    @Test("--as-pid-1: the command is PID 1 (no init of Burrow's), its status passed through; it needs --unshare-pid")
    func asPID1() async {
        let r = await bwrap(["--ro-bind", "/", "/", "--unshare-pid", "--as-pid-1", "--proc", "/proc",
                             "/bin/sh", "-c", "echo pid=$$; ls /proc | grep -c '^[0-9]'; exit 4"])
        expectStatus(r, 4)
        #expect(r.lines.first == "pid=1", "\(r)")
        let without = await bwrap(["--ro-bind", "/", "/", "--as-pid-1", "true"])
        expectStatus(without, 1)
        expectStderr(without, contains: "bwrap: Specifying --as-pid-1 needs --unshare-pid")
    }

    @Test("--userns FD and --pidns FD: a second sandbox joins the first one's namespaces")
    func joinNamespaces() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let d = shellQuote(dir.path)
        // The first sandbox says its namespaces and waits on a fifo; the second joins them.
        // (Burrow writes --info-fd once the command has started, bubblewrap just before: the
        // loop waits for both the command's words and the info's pid.)
        let script = "cd \(d) && mkfifo wait && ($BWRAP --bind / / --unshare-pid --info-fd 3 -- /bin/sh -c"
            + #" 'readlink /proc/self/ns/user /proc/self/ns/pid > first; cat wait' 3>info.json &)"#
            + #" && i=0; while { [ ! -s first ] || ! grep -q child-pid info.json; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done;"#
            + #" pid=$(sed -n 's/.*"child-pid": \([0-9]*\).*/\1/p' info.json);"#
            + #" $BWRAP --ro-bind / / --userns 8 --pidns 9 -- readlink /proc/self/ns/user /proc/self/ns/pid"#
            + #" 8</proc/$pid/ns/user 9</proc/$pid/ns/pid > second; timeout 5 sh -c "echo done > wait"; cat first second"#
        let r = await hostShell(namespaceEngine + script)
        expectSuccess(r)
        let ids = r.lines.filter { $0.contains(":[") }  // (the first sandbox's cat says "done" too)
        #expect(ids.count == 4 && Array(ids.prefix(2)) == Array(ids.suffix(2)), "the same user and PID namespaces:\n\(r)")
        let both = await bwrap(["--ro-bind", "/", "/", "--unshare-user", "--userns", "0", "true"])
        expectStatus(both, 1)
        expectStderr(both, contains: "bwrap: --userns not compatible --unshare-user")
    }

    @Test("--userns2 FD: after the set-up the command is in that user namespace (one made inside the --userns one), with its ids")
    func switchUserNamespace() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let d = shellQuote(dir.path)
        // The first sandbox makes a user namespace inside its own (unshare -U -r) and waits
        // there; the second joins the first's (--userns) and ends in the inner one (--userns2).
        let script = "cd \(d) && mkfifo wait && ($BWRAP --unshare-user --bind / / -- /bin/sh -c"
            + #" 'echo $$ > outer; unshare -U -r /bin/sh -c "readlink /proc/self/ns/user > inner.ns; echo \$\$ > inner; cat wait"' &)"#
            + #" && i=0; while [ ! -s inner ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done;"#
            + #" $BWRAP --userns 8 --userns2 9 --uid 0 --gid 0 --ro-bind / / -- /bin/sh -c 'readlink /proc/self/ns/user; id -u'"#
            + #" 8</proc/$(cat outer)/ns/user 9</proc/$(cat inner)/ns/user > second; timeout 5 sh -c "echo done > wait"; cat inner.ns second"#
        let r = await hostShell(namespaceEngine + script)
        expectSuccess(r)
        let ids = r.lines.filter { $0.contains(":[") }
        #expect(ids.count == 2 && ids[0] == ids[1], "the inner user namespace:\n\(r)")
        expectStdout(r, contains: "\n0\n")
    }

    @Test("--userns-block-fd: --info-fd says whose maps to write, the caller writes them, a byte lets the sandbox go on with them")
    func callerWritesTheMaps() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        let d = shellQuote(dir.path)
        let script = "export BURROW_ENGINE=namespace; cd \(d) && mkfifo fifo || exit 1; ($BWRAP --unshare-user --uid 0 --gid 0 --ro-bind / / --info-fd 3 --userns-block-fd 4 --"
            + #" /bin/sh -c 'cat /proc/self/uid_map; id -u' 3>info 4<fifo > out 2>&1; echo status $? >> out) &"#
            + #" exec 5>fifo; i=0; while ! grep -q child-pid info 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done;"#
            + #" pid=$(sed -n 's/.*"child-pid": \([0-9]*\).*/\1/p' info);"#
            + #" echo deny > /proc/$pid/setgroups; echo "0 $(id -u) 1" > /proc/$pid/uid_map; echo "0 $(id -g) 1" > /proc/$pid/gid_map;"#
            + #" echo go >&5; exec 5>&-; wait; cat out"#
        let r = await hostShell(script)
        expectSuccess(r)
        let lines = r.lines.map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["0 \(testUser.uid) 1", "0", "status 0"], "\(r)")
    }

    /// Where bubblewrap cannot run at all (no user namespaces, AppArmor's restriction, a
    /// container), the ptrace engine runs what it can express and refuses the rest by name.
    @Test("On the ptrace engine: --ro-bind / / --dev --proc --tmpfs runs; an empty root or --unshare-net is refused by name; -try forms degrade")
    func ptraceEngine() async {
        let ok = await hostShell("BURROW_ENGINE=ptrace $BWRAP --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp"
            + " --setenv X 1 --chdir /tmp --die-with-parent --unshare-user-try --unshare-cgroup-try"
            + #" /bin/sh -c 'echo X=$X $(pwd); test -c /dev/null && echo dev-ok; touch /etc/x 2>/dev/null || echo ro'"#)
        expectSuccess(ok)
        expectLines(ok, ["X=1 /tmp", "dev-ok", "ro"])
        let empty = await hostShell("BURROW_ENGINE=ptrace $BWRAP --ro-bind /usr /usr --proc /proc true")
        expectStatus(empty, 1)
        expectStderr(empty, contains: "bwrap: a root assembled in an empty tmpfs (bwrap without a bind onto /) needs the namespace engine")
        let net = await hostShell("BURROW_ENGINE=ptrace $BWRAP --ro-bind / / --unshare-net true")
        expectStatus(net, 1)
        expectStderr(net, contains: "bwrap: --unshare-net needs the namespace engine")
        let overlay = await hostShell("BURROW_ENGINE=ptrace $BWRAP --ro-bind / / --overlay-src /usr --tmp-overlay /usr true")
        expectStatus(overlay, 1)
        expectStderr(overlay, contains: "bwrap: an overlay at /usr (--overlay, --tmp-overlay, --ro-overlay) needs the namespace engine")
    }

    /// bubblewrap's wording where its callers' scripts look for it, and its exact modes.
    @Test("A missing bind source is bwrap's 'Can't find source path'; --chdir twice warns (at level 4 with --level-prefix); --file is 0666 whatever the umask")
    func bubblewrapsWords() async {
        let missing = await bwrap(["--ro-bind", "/", "/", "--bind", "/no-such-source", "/mnt", "true"])
        expectStatus(missing, 1)
        #expect(missing.stderr.hasPrefix("bwrap: Can't find source path /no-such-source: No such file or directory"), "\(missing)")
        let twice = await bwrap(["--ro-bind", "/", "/", "--chdir", "/", "--chdir", "/tmp", "/bin/sh", "-c", "pwd"])
        expectSuccess(twice)
        expectLines(twice, ["/tmp"])
        #expect(twice.stderr == "bwrap: Only the last --chdir option will take effect\n", "\(twice)")
        let prefixed = await bwrap(["--level-prefix", "--ro-bind", "/", "/", "--chdir", "/", "--chdir", "/", "--bind", "/no-such", "/mnt", "true"])
        expectStatus(prefixed, 1)
        #expect(prefixed.stderr.hasPrefix("<4>bwrap: Only the last --chdir option will take effect\n<3>bwrap: Can't find source path /no-such"), "\(prefixed)")
        let file = await hostShell("umask 077; $BWRAP --ro-bind / / --tmpfs /tmp --file 0 /tmp/f --perms 0640 --file 0 /tmp/g stat -c %a /tmp/f /tmp/g </dev/null")
        expectSuccess(file)
        expectLines(file, ["666", "640"])
    }

    @Test("--disable-userns: the command cannot make user namespaces; --assert-userns-disabled fails where they can be made")
    func disableUserNamespaces() async {
        let r = await bwrap(["--unshare-user", "--disable-userns", "--ro-bind", "/", "/",
                             "/bin/sh", "-c", "unshare -U true 2>/dev/null && echo made || echo refused"])
        expectSuccess(r)
        expectLines(r, ["refused"])
        let free = await bwrap(["--ro-bind", "/", "/", "/bin/sh", "-c", "unshare -U true 2>/dev/null && echo made || echo refused"])
        expectLines(free, ["made"])
        let asserted = await bwrap(["--assert-userns-disabled", "--ro-bind", "/", "/", "true"])
        expectStatus(asserted, 1)
        expectStderr(asserted, contains: "bwrap: creating new user namespaces works here, but --assert-userns-disabled asks that it does not")
    }

    @Test("--argv0, --bind-fd, --level-prefix, --size and --perms")
    func smallerOptions() async {
        let dir = makeUserDir(["file": "through the descriptor\n"])
        defer { dir.remove() }
        let r = await hostShell(namespaceEngine + "exec 3<" + shellQuote(dir.path) + #"; $BWRAP --ro-bind / / --bind-fd 3 /mnt --size 1048576 --perms 0700 --tmpfs /tmp --argv0 renamed -- /bin/sh -c 'echo "$0"; cat /mnt/file; stat -c %a /tmp; df -k /tmp | tail -1' "#)
        expectSuccess(r)
        #expect(Array(r.lines.prefix(3)) == ["renamed", "through the descriptor", "700"], "\(r)")
        #expect(r.lines.last?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "1024", "--size 1 MiB:\n\(r)")
        let prefixed = await bwrap(["--level-prefix", "--ro-bind", "/", "/", "/no/such/command"])
        #expect(prefixed.stderr.hasPrefix("<3>bwrap: "), "\(prefixed)")
    }
}
