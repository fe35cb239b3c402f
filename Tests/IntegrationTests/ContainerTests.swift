// Burrow where users run it: inside a container, as an unprivileged user (Container.swift).
// Under Docker's default seccomp profile user namespaces are refused, so `auto` has to pick
// the ptrace engine, and that engine has to work with what the profile allows (ptrace and
// process_vm_readv, but no pidfd_getfd, no clone3). Under podman's own default profile user
// namespaces work, and `auto` picks the namespace engine.
//
// Each test starts a few `podman exec`s (about half a second each) and checks several things
// per exec; the suite is serialized, so "nothing left in /tmp" means this run's leftovers.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The lines of `burrow --engines` that start with `name` (`namespace no: ...`).
private func engineLine(_ r: BurrowResult, _ name: String) -> String? {
    r.lines.first { $0.hasPrefix(name + " ") }
}

@Suite("In a container: Docker's default seccomp profile", .serialized, .timeLimit(.minutes(3)),
       .enabled(if: Container.runnable, Container.skipReason))
struct DockerProfileContainerTests {
    let r = Container.rootfs

    @Test("--engines tells the truth: no user namespaces, no setuid, auto -> ptrace; -v says ptrace ran the command")
    func engines() async throws {
        let c = try await Container.session(.docker)
        let e = await c.burrow(["--engines"])
        expectSuccess(e)
        let namespace = engineLine(e, "namespace"), setuid = engineLine(e, "setuid")
        #expect(namespace?.contains(" no") == true, "the namespace engine should be unavailable, with why:\n\(e)")
        #expect(setuid?.contains(" no") == true, "the setuid engine should be unavailable, with why:\n\(e)")
        #expect(engineLine(e, "ptrace") == "ptrace    yes", "\(e)")
        #expect(engineLine(e, "auto") == "auto      -> ptrace", "\(e)")

        let v = await c.burrow(["-v", r] + sh("echo ran; cat /etc/hostname"))
        expectSuccess(v)
        expectLines(v, ["ran", "burrow-rootfs"])
        expectStderr(v, contains: "engine ptrace (auto)")
    }

    @Test("burrow exits with the command's status: its own, 128+N for a signal, 127 not found, 126 not executable")
    func exitStatus() async throws {
        let c = try await Container.session(.docker)
        let cases: [(String, [String], Int32)] = [
            ("true", ["/bin/true"], 0),
            ("exit-7", sh("exit 7"), 7),
            ("term", sh("kill -TERM $$"), 143),
            ("kill", sh("kill -KILL $$"), 137),
            ("child-exit-3", sh("sh -c 'exit 3'"), 3),
            ("not-found", ["/no-such-command"], 127),
            ("not-executable", ["/etc/hostname"], 126),
        ]
        let s = await c.script(cases.map { "burrow \(shellLine([r] + $0.1)) >/dev/null; echo \($0.0)=$?" }.joined(separator: "\n"))
        expectSuccess(s)
        expectLines(s, cases.map { "\($0.0)=\($0.2)" })
    }

    @Test("--bind: the container's directory is seen and written through; --ro-bind refuses writes")
    func binds() async throws {
        let c = try await Container.session(.docker)
        // The rootfs is read-only: binds go on directories it has.
        let s = await c.script("""
            mkdir "$work/rw" "$work/ro"; echo from-container > "$work/rw/f"
            burrow --bind "$work/rw" /home --ro-bind "$work/ro" /run \(r) /bin/sh -c '
                cat /home/f; echo from-sandbox > /home/g; ls /home; touch /run/x 2>/dev/null || echo ro-refused'
            echo "status=$?"; cat "$work/rw/g"; ls "$work/ro"
            """)
        expectSuccess(s)
        expectLines(s, ["from-container", "f", "g", "ro-refused", "status=0", "from-sandbox"])
    }

    @Test("--root: uid 0 inside; chown and stat agree; the file stays uid 1000's in the container")
    func fakeRoot() async throws {
        let c = try await Container.session(.docker)
        let s = await c.script("""
            burrow --root --bind "$work" /home \(r) /bin/sh -c '
                id -u; id -g; touch /home/f && chown 12:34 /home/f && stat -c "%u %g" /home/f'
            echo "status=$?"; stat -c "%u %g" "$work/f"
            """)
        expectSuccess(s)
        expectLines(s, ["0", "0", "12 34", "status=0", "1000 1000"])
    }

    @Test("100 processes at once are all followed")
    func hundredProcesses() async throws {
        let c = try await Container.session(.docker)
        let s = await c.script("""
            burrow --dev /dev \(r) /bin/sh -c '
                i=0; while [ $i -lt 100 ]; do (sleep 1; echo done) & i=$((i+1)); done; wait' > "$work/out"
            echo "status=$?"; grep -c '^done$' "$work/out"
            """, timeout: 90)
        expectSuccess(s)
        expectLines(s, ["status=0", "100"])
    }

    @Test("A background process is killed when the command exits")
    func backgroundKilled() async throws {
        let c = try await Container.session(.docker)
        let marker = sleepMarker()
        // /proc/PID/cmdline of a zombie is empty: only a live `sleep MARKER` counts.
        let s = await c.script("""
            burrow --proc /proc --dev /dev \(r) /bin/sh -c \(shellQuote("sleep \(marker) & \(waitUntilRunning(sleep: marker))"))
            echo "status=$?"
            alive() { for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^sleep \(marker)' && echo "${p#/proc/}"; done; }
            i=0; while [ -n "$(alive)" ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
            echo "left=$(alive)"
            """)
        expectSuccess(s)
        expectLines(s, ["sleep \(marker) ", "status=0", "left="])
    }

    /// The container's /dev/ptmx is a symlink (pts/ptmx); the host's /dev stands in for
    /// --dev's directory until the command needs it, and /dev/ptmx must still be the node.
    @Test("--dev: /dev/ptmx is the node though the container's is a symlink, before and after the directory is made")
    func devPtmx() async throws {
        let c = try await Container.session(.docker)
        let s = await c.script("""
            test -L /dev/ptmx && echo container-link
            burrow --dev /dev \(r) /bin/sh -c 'test -c /dev/ptmx && ! test -L /dev/ptmx && echo node; ls /dev | wc -l; test -c /dev/ptmx && echo node'
            """)
        expectSuccess(s)
        expectLines(s, ["container-link", "node", "13", "node"])
    }

    @Test("Nothing is left behind: no burrow-* in the container's /tmp, no burrow process")
    func nothingLeft() async throws {
        let c = try await Container.session(.docker)
        let s = await c.script("""
            burrow --tmpfs /tmp --dev /dev --proc /proc \(r) /bin/sh -c 'echo x > /tmp/x && cat /tmp/x'
            echo "normal=$?"
            burrow --tmpfs /tmp \(r) /bin/sh -c 'echo x > /tmp/x; kill -KILL $$'
            echo "killed=$?"
            burrow --tmpfs /tmp --bind /no/such/dir /home \(r) /bin/true 2>/dev/null
            echo "failed=$?"
            sleep 0.2
            echo "tmp=$(ls -A /tmp | grep burrow- | tr '\\n' ' ')"
            for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^/b/burrow' && echo "process=${p#/proc/}"; done
            true
            """)
        expectSuccess(s)
        expectLines(s, ["x", "normal=0", "killed=137", "failed=125", "tmp="])
    }

    @Test("The proot front-end: a `proot` symlink runs -r, -b, -w and -0 on the ptrace engine")
    func proot() async throws {
        let c = try await Container.session(.docker)
        let s = await c.script("""
            ln -s \(Container.binary) "$work/proot"
            echo from-container > "$work/f"
            "$work/proot" -r \(r) -b "$work:/home" -w /home /bin/sh -c 'pwd; cat f; exit 5'
            echo "status=$?"
            "$work/proot" -0 -r \(r) /bin/sh -c 'id -u'
            "$work/proot" -v 1 -r \(r) /bin/true 2>&1 | grep -o 'engine ptrace (auto)'
            """)
        expectSuccess(s)
        expectLines(s, ["/home", "from-container", "status=5", "0", "engine ptrace (auto)"])
    }

    @Test("The Debian rootfs (read-only): gcc builds and runs a program; perl and python3 (if installed) run",
          .enabled(if: DebianFixture.runnable, DebianFixture.skipReason))
    func debian() async throws {
        try DebianFixture.check()
        let c = try await Container.session(.docker)
        let python = pathExists(DebianFixture.path + "/usr/bin/python3")
        let guest = """
            printf '#include <stdio.h>\\nint main(void) { puts("hello from gcc"); return 0; }\\n' > /tmp/h.c
            gcc -o /tmp/h /tmp/h.c && /tmp/h
            perl -e 'print "perl ", 6 * 7, "\\n"'
            \(python ? "python3 -c 'print(\"python\", 6 * 7)'" : "")
            """
        let s = await c.script("""
            burrow --clearenv --setenv PATH /usr/bin:/bin --bind "$work" /tmp \(Container.debianRootfs) /bin/sh -c \(shellQuote(guest))
            echo "status=$?"
            """, timeout: 120)
        expectSuccess(s)
        expectLines(s, ["hello from gcc", "perl 42"] + (python ? ["python 42"] : []) + ["status=0"])
    }
}

@Suite("In a container: podman's default seccomp profile", .serialized, .timeLimit(.minutes(2)),
       .enabled(if: Container.runnable, Container.skipReason))
struct PodmanProfileContainerTests {
    let r = Container.rootfs

    @Test("User namespaces work: auto picks the namespace engine, and commands run with their status")
    func namespaceEngine() async throws {
        let c = try await Container.session(.podman)
        let e = await c.burrow(["--engines"])
        expectSuccess(e)
        #expect(engineLine(e, "namespace") == "namespace yes", "\(e)")
        #expect(engineLine(e, "auto") == "auto      -> namespace", "\(e)")

        let v = await c.burrow(["-v", r] + sh("cat /etc/hostname; id -u; exit 3"))
        expectStatus(v, 3)
        expectLines(v, ["burrow-rootfs", "1000"])
        expectStderr(v, contains: "engine namespace (auto)")
    }

    @Test("--root, a bind and a signal's status on the namespace engine (named: no subordinate ranges in the container, so auto would fake root on the ptrace engine); the ptrace engine runs too")
    func moreRuns() async throws {
        let c = try await Container.session(.podman)
        let s = await c.script("""
            echo from-container > "$work/f"
            burrow --engine namespace --root --bind "$work" /home \(r) /bin/sh -c 'id -u; cat /home/f'
            burrow \(r) /bin/sh -c 'kill -TERM $$'; echo "term=$?"
            burrow --engine ptrace \(r) /bin/sh -c 'cat /etc/hostname; exit 4'; echo "ptrace=$?"
            """)
        expectSuccess(s)
        expectLines(s, ["0", "from-container", "term=143", "burrow-rootfs", "ptrace=4"])
    }

    @Test("A new procfs where the container masks parts of /proc: the kernel's reason and what to do; without --unshare-pid, the host's /proc works")
    func maskedProc() async throws {
        let c = try await Container.session(.podman)
        let fresh = await c.burrow(["--unshare-pid", "--proc", "/proc", r] + sh("echo RAN"))
        expectStatus(fresh, 125)
        expectStderr(fresh, contains: "fsmount proc")
        expectStderr(fresh, contains: "VFS: Mount too revealing")
        expectStderr(fresh, contains: "--security-opt unmask=/proc/*")
        expectStdout(fresh, lacks: "RAN")
        let host = await c.burrow(["--proc", "/proc", r] + sh("test -r /proc/self/status && echo proc-ok"))
        expectSuccess(host)
        expectLines(host, ["proc-ok"])
    }
}
