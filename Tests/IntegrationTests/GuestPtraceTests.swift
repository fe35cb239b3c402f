// ptrace inside the guest on the ptrace engine (Burrow already traces every guest process;
// the guest's own ptrace is emulated): a small tracer (Tests/Helpers/ptraceprobe.c, built
// static once per test process and bound into the sandbox) stepping, attaching, following
// forks and exiting under its tracees; the host's strace and gdb, bound in with their
// libraries; and a guest tracer or tracee killed without anything hanging.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum PtraceProbe {
    static let built = buildStaticHelper("ptraceprobe")

    /// burrow arguments that run `script` with the probe at /probe, on the shared rootfs.
    static func args(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String]? {
        guard let probe = built.path else {
            Issue.record("cannot build ptraceprobe: \(built.error)", sourceLocation: sourceLocation)
            return nil
        }
        return ["--ro-bind", probe, "/probe", "--bind", "/dev/null", "/dev/null", Harness.sharedRootfs] + sh(script)
    }
}

@Suite("Ptrace engine: ptrace inside the guest", .timeLimit(.minutes(1)))
struct PtraceGuestTests {
    @Test("PTRACE_TRACEME + SIGSTOP + exec, stepped with PTRACE_SYSCALL: the guest's paths and registers, the exit status")
    func stepping() async throws {
        let args = try #require(PtraceProbe.args("/probe step /etc/hostname"))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        expectLines(r, [
            "stopped SIGSTOP", "execve /bin/cat", "openat /etc/hostname", "openat returned a descriptor",
            // At the exit stop the path argument is the guest's own (the supervisor's
            // translated copy is gone), and its memory says the guest path.
            "openat at exit: same registers", "burrow-rootfs", "child exit 0", "sysgood yes",
            // No PTRACE_O_TRACEEXEC: the kernel's SIGTRAP after execve.
            "sigtrap after exec 1",
        ])
    }

    @Test("PTRACE_ATTACH of a running process (SIGSTOP stop, registers, EPERM twice, DETACH), then PTRACE_SEIZE and PTRACE_INTERRUPT")
    func attachAndSeize() async throws {
        let args = try #require(PtraceProbe.args("/probe attach"))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        expectLines(r, [
            "attached: stopped SIGSTOP", "getregs: ok", "second attach: EPERM", "detached", "after detach: ESRCH",
            "seized", "interrupted: event stop", "seized syscall stop: sysgood", "sleeper killed 15",
        ])
    }

    @Test("PTRACE_O_TRACEFORK: the fork event with the new pid, the grandchild's first stop and both exits")
    func forkEvent() async throws {
        let args = try #require(PtraceProbe.args("/probe fork"))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        // The fork event and the new process's first stop come in either order, as from the kernel.
        #expect(Set(r.lines.prefix(2)) == ["event fork: new pid", "grandchild first stop SIGSTOP"], "\(r)")
        #expect(r.lines.dropFirst(2) == ["grandchild exit 3", "child exit 5"], "\(r)")
    }

    @Test("waitid: CLD_TRAPPED with SIGSTOP, WNOHANG while the tracee runs, CLD_EXITED with its status (as natively)")
    func waitid() async throws {
        let args = try #require(PtraceProbe.args("/probe waitid"))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        expectLines(r, ["waitid: CLD_TRAPPED SIGSTOP", "waitid WNOHANG: nothing yet", "waitid: CLD_EXITED 7"])
    }

    @Test("A guest tracer's untraced child: wait(-1) gets its exit and the tracee's, then ECHILD")
    func untracedChild() async throws {
        let args = try #require(PtraceProbe.args("/probe untraced"))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        #expect(Set(r.lines.prefix(2)) == ["untraced exit 9", "traced exit 4"], "\(r)")
        #expect(r.lines.dropFirst(2) == ["then: ECHILD"], "\(r)")
    }

    struct TracerEnd: Sendable, CustomTestStringConvertible {
        let script: String
        let lines: [String]
        var testDescription: String { script }
    }

    @Test("The guest tracer ends while its tracee is stopped: detached (goes on), or killed with PTRACE_O_EXITKILL; killing either side hangs nothing",
          arguments: [
            TracerEnd(script: "/probe orphan; sleep 0.5", lines: ["tracer exits", "tracee went on"]),
            TracerEnd(script: "/probe orphan kill; sleep 0.5", lines: ["tracer exits"]),
            TracerEnd(script: "/probe orphan sleep & sleep 0.3; kill -9 $!; sleep 0.5", lines: ["tracer waits", "tracee went on"]),
            TracerEnd(script: "f=/tmp/victim.$$; /probe victim $f & while [ ! -s $f ]; do sleep 0.05; done; sleep 0.2; kill -9 $(cat $f); rm $f; wait",
                      lines: ["victim killed 9"]),
          ])
    func tracerEnds(_ c: TracerEnd) async throws {
        let args = try #require(PtraceProbe.args(c.script))
        let r = await burrow(engine: .ptrace, args)
        expectSuccess(r)
        expectLines(r, c.lines)
    }

    /// Whether the host has `program`; records a failure when not (scripts/deps installs it).
    static func installed(_ program: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if FileManager.default.isExecutableFile(atPath: program) { return true }
        Issue.record("\(program) is not installed (scripts/deps installs it)", sourceLocation: sourceLocation)
        return false
    }

    /// Binds of the host's `program` and the directories its libraries are in.
    static func hostProgram(_ program: String, extra: [String] = []) -> [String] {
        var args = ["--ro-bind", program, program]
        for dir in ["/usr/lib", "/lib64"] + extra where FileManager.default.fileExists(atPath: dir) {
            args += ["--ro-bind", dir, dir]
        }
        // Debian's /lib is a symlink to usr/lib; the busybox rootfs has none.
        args += ["--ro-bind", "/usr/lib", "/lib"]
        return args
    }

    @Test("The host's strace -f shows the guest's execve and openat with guest paths")
    func strace() async throws {
        guard Self.installed("/usr/bin/strace") else { return }
        let r = await burrow(engine: .ptrace, Self.hostProgram("/usr/bin/strace") + ["--bind", "/dev/null", "/dev/null", Harness.sharedRootfs,
            "/usr/bin/strace", "-f", "-e", "trace=openat,execve", "/bin/sh", "-c", "cat /etc/hostname; /bin/true"])
        expectSuccess(r)
        expectStdout(r, contains: "burrow-rootfs")
        expectStderr(r, contains: "execve(\"/bin/sh\", [\"/bin/sh\", \"-c\",")
        // The forked process is followed (-f), with its pid; the shell goes on to exec true.
        #expect(r.stderr.contains(#/Process \d+ attached/#), "\(r.stderr)")
        #expect(r.stderr.contains(#/\[pid +\d+\] execve\("\/bin\/cat", \["cat", "\/etc\/hostname"\]/#), "\(r.stderr)")
        #expect(r.stderr.contains(#/\[pid +\d+\] openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY\) = 3/#), "\(r.stderr)")
        expectStderr(r, contains: "execve(\"/bin/true\", [\"/bin/true\"]")
        expectStderr(r, contains: "+++ exited with 0 +++")
        expectStderr(r, lacks: "Stray")
        // No host path leaks into what strace shows.
        expectStderr(r, lacks: Harness.sharedRootfs)
    }

    @Test("strace -p of a running process (PTRACE_SEIZE, PTRACE_O_TRACEEXIT of a process it did not start); its real parent still reaps it")
    func straceAttach() async throws {
        guard Self.installed("/usr/bin/strace") else { return }
        let r = await burrow(engine: .ptrace, Self.hostProgram("/usr/bin/strace") + ["--bind", "/dev/null", "/dev/null", Harness.sharedRootfs]
            + sh("sleep 1 & pid=$!; /usr/bin/strace -p $pid; echo strace-done; wait $pid; echo \"sleep status $?\""))
        expectSuccess(r)
        expectLines(r, ["strace-done", "sleep status 0"])
        #expect(r.stderr.contains(#/Process \d+ attached/#), "\(r.stderr)")
        // The exit event was delivered: the call is closed with "= ?", not left unfinished.
        #expect(r.stderr.contains(#/exit_group\(0\) += \?/#), "\(r.stderr)")
        expectStderr(r, contains: "+++ exited with 0 +++")
    }

    @Test("SIGTERM to strace -p while its tracee sleeps: strace's held wait is interrupted, it detaches and dies of it (as natively); the tracee runs on")
    func straceTerminated() async throws {
        guard Self.installed("/usr/bin/strace") else { return }
        let r = await burrow(engine: .ptrace, Self.hostProgram("/usr/bin/strace") + ["--bind", "/dev/null", "/dev/null", Harness.sharedRootfs]
            + sh("sleep 10 & pid=$!; /usr/bin/strace -p $pid & st=$!; sleep 0.5; kill -TERM $st; wait $st; echo \"strace status $?\"; kill -0 $pid && echo tracee-runs; kill $pid"))
        expectSuccess(r)
        expectLines(r, ["strace status 143", "tracee-runs"])
        // No timing: had strace waited for its tracee's next stop (the sleep's exit), the
        // tracee would be gone by then and "tracee-runs" missing.
        #expect(r.stderr.contains(#/Process \d+ detached/#), "\(r.stderr)")
    }

    @Test("strace -f of a threaded program: each thread attached, its openat and exit")
    func straceThreads() async throws {
        guard Self.installed("/usr/bin/strace") else { return }
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("threads.c"), """
            #include <fcntl.h>
            #include <pthread.h>
            #include <stdio.h>
            #include <unistd.h>
            static void *run(void *path) { int fd = open(path, O_RDONLY); if (fd >= 0) close(fd); return NULL; }
            int main(void) {
                pthread_t t[3];
                for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, run, "/etc/hostname");
                for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
                puts("threads done");
                return 0;
            }
            """)
        let cc = runHost(["/usr/bin/gcc", "-O1", "-static", "-pthread", "-o", w.sub("threads"), w.sub("threads.c")])
        try #require(cc.status == 0, "gcc: \(cc.stderr)")
        chmod(w.sub("threads"), 0o755)
        let r = await burrow(engine: .ptrace, Self.hostProgram("/usr/bin/strace") + ["--bind", "/dev/null", "/dev/null",
            "--ro-bind", w.sub("threads"), "/threads", Harness.sharedRootfs, "/usr/bin/strace", "-f", "-e", "trace=openat,exit", "/threads"])
        expectSuccess(r)
        expectLines(r, ["threads done"])
        let attached = r.stderr.matches(of: #/Process \d+ attached/#).count
        // Threads running at once: a call may be shown "<unfinished ...>", then "resumed".
        let opened = r.stderr.matches(of: #/\[pid +\d+\] openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY/#).count
        let exited = r.stderr.matches(of: #/\[pid +\d+\] \+\+\+ exited with 0 \+\+\+/#).count
        #expect(attached == 3 && opened == 3 && exited == 3, "\(r.stderr)")
        expectStderr(r, contains: "\n+++ exited with 0 +++")
    }

    @Test("The host's gdb runs a crashing program: SIGSEGV and the backtrace")
    func gdb() async throws {
        guard Self.installed("/usr/bin/gdb") else { return }
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("crash.c"), "void crash_here(int *p) { *p = 42; }\nint main(void) { crash_here(0); return 0; }\n")
        let cc = runHost(["/usr/bin/gcc", "-g", "-O0", "-static", "-o", w.sub("crash"), w.sub("crash.c")])
        try #require(cc.status == 0, "gcc: \(cc.stderr)")
        chmod(w.sub("crash"), 0o755)
        let r = await burrow(engine: .ptrace, Self.hostProgram("/usr/bin/gdb", extra: ["/usr/share/gdb"])
            + ["--ro-bind", w.sub("crash"), "/crash", "--proc", "/proc", "--bind", "/dev/null", "/dev/null", "--setenv", "SHELL", "/bin/sh",
               Harness.sharedRootfs, "/usr/bin/gdb", "-nx", "-batch", "-ex", "break crash_here", "-ex", "run", "-ex", "print p",
               "-ex", "stepi", "-ex", "continue", "-ex", "bt", "/crash"], timeout: 50)
        expectSuccess(r)
        // A breakpoint (POKETEXT, SIGTRAP), a read variable, a single step, then the crash.
        #expect(r.stdout.contains(#/Breakpoint 1, crash_here \(p=0x0\) at .*crash.c:1/#), "\(r.stdout)")
        expectStdout(r, contains: "$1 = (int *) 0x0")
        expectStdout(r, contains: "Program received signal SIGSEGV")
        #expect(r.stdout.contains(#/#0 .* crash_here \(p=0x0\)/#), "\(r.stdout)")
        #expect(r.stdout.contains(#/#1 .* main \(\)/#), "\(r.stdout)")
    }
}
