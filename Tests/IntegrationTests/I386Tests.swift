import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// i386 programs (32-bit, the compat ABI of an x86_64 kernel) on the ptrace engine: their
// calls are translated as x86_64 ones are, and none reaches the host untranslated.

/// The probes built with `gcc -m32 -static` (scripts/deps installs gcc-multilib).
enum I386Probes {
    static let abi = buildStaticHelper("abiprobe", flags: ["-m32"], output: "abiprobe32")
    static let escape = buildStaticHelper("escapeprobe", flags: ["-m32"], output: "escapeprobe32")

    static func abiProbe(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if abi.path == nil { Issue.record("cannot build abiprobe -m32: \(abi.error)", sourceLocation: sourceLocation) }
        return abi.path
    }

    static func escapeProbe(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if escape.path == nil { Issue.record("cannot build escapeprobe -m32: \(escape.error)", sourceLocation: sourceLocation) }
        return escape.path
    }
}

@Suite("Ptrace engine: i386 programs", .enabled(if: onX86_64, "the i386 ABI is x86_64's compat ABI"), .timeLimit(.minutes(2)))
struct I386Tests {
    /// How the engine runs: with its seccomp filter, or (scripts/no-userns --no-seccomp) on
    /// a kernel that takes none, where every call stops at the tracer.
    enum Filter: String, CaseIterable, Sendable { case filter, noSeccomp = "no seccomp" }

    func run(_ filter: Filter, _ args: [String]) async throws -> BurrowResult {
        switch filter {
        case .filter: return await burrow(["--engine", "ptrace"] + args)
        case .noSeccomp:
            try #require(Harness.runningAsRoot, "scripts/no-userns runs as root")
            return try await spawn([Harness.packageRoot + "/scripts/no-userns", "--no-seccomp"]
                                   + asTestUser([Harness.binary, "--engine", "ptrace"] + args)).wait()
        }
    }

    @Test("An i386 program reads, stats, binds a unix socket (socketcall), follows a bind, getcwd, readlink and exec", arguments: Filter.allCases)
    func filesInTheGuest(_ filter: Filter) async throws {
        let probe = try #require(I386Probes.abiProbe()), escape = try #require(I386Probes.escapeProbe())
        let root = await makePrivateRootfs()
        let src = makeTempDir(owner: testUser)
        defer { root.remove(); src.remove() }
        writeFile(root.at("/etc/greeting"), "guest\n")
        symlink("/etc/greeting", root.at("/etc/link"))
        writeFile(src.sub("f"), "bound\n")
        for f in [root.at("/etc/greeting"), root.at("/etc/link"), src.sub("f")] { giveToTestUser(f) }
        let binds = ["--ro-bind", probe, "/bin/p32", "--ro-bind", escape, "/bin/e32", "--bind", src.path, "/mnt", "--tmpfs", "/tmp"]
        let script = """
            /bin/p32 cat /etc/greeting; /bin/p32 stat64 /etc/greeting | cut -d' ' -f1; /bin/p32 cat /mnt/f
            /bin/p32 cwd /mnt; /bin/p32 readlink /etc/link; /bin/p32 exec /bin/p32 cat /etc/link; /bin/p32 exec /bin/cat /mnt/f
            /bin/e32 bind_socketcall:/tmp/sock; ls /tmp
            """
        let r = try await run(filter, binds + [root.path, "/bin/sh", "-c", script])
        expectSuccess(r)
        expectLines(r, ["guest", "size=6", "bound", "/mnt", "/etc/greeting", "guest", "bound",
                        "bind_socketcall:/tmp/sock=ok name=/tmp/sock", "sock"])
    }

    /// The host marker (a file only the host has, like /etc/shadow) stays out of reach of an
    /// i386 program's every way there, and of `int $0x80` and x32 calls from 64-bit code:
    /// a path call the engine could not translate is refused, never run as it is.
    @Test("An i386 program cannot reach a host file; nor can int $0x80 or x32 calls of a 64-bit one", arguments: Filter.allCases)
    func hostFileOutOfReach(_ filter: Filter) async throws {
        let probe = try #require(I386Probes.escapeProbe()), probe64 = try #require(EscapeProbe.path())
        let marker = EscapeProbe.hostMarker
        let binds = ["--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/e32", "--ro-bind", probe64, "/tmp/e64"]
        let script = """
            /tmp/e32 dotdot:\(marker) openat:\(marker) open:\(marker) open:/proc/self/root\(marker) chroot:/tmp:\(marker) \
                uring_open:\(marker) fds:\(marker)
            /tmp/e64 open_i386:\(marker) open_x32:\(marker) open:\(marker)
            """
        let r = try await run(filter, binds + [Harness.sharedRootfs, "/bin/sh", "-c", script])
        expectSuccess(r)
        let got = SysProbe.results(r)
        let want = [
            "dotdot": "inside", "openat": "ENOENT", "open:\(marker)": "ENOENT", "open:/proc/self/root\(marker)": "ENOENT",
            "chroot": "EPERM", "uring_open:\(marker)": "ENOSYS", "fds": "none",
            "open_x32:\(marker)": "ENOSYS",
        ]
        for (key, value) in want.sorted(by: { $0.key < $1.key }) {
            #expect(got[key] == value, "\(key): expected \(value), got \(got[key] ?? "nothing")\n\(r)")
        }
        // 64-bit code's stack is above the i386 ABI's pointers: a translated path cannot be
        // handed to the kernel, so the call fails (EFAULT) instead of running untranslated;
        // a path the guest does not have fails first, as in a chroot (ENOENT).
        let int80 = got["open_i386:\(marker)"]
        #expect(int80 == "EFAULT" || int80 == "ENOENT", "open_i386: got \(int80 ?? "nothing")\n\(r)")
        #expect(!r.stdout.contains("ESCAPED"), "an attempt reached the host:\n\(r)")
    }
}

extension I386Tests {
    /// --root and --uid on the ptrace engine: the ids of the 32-bit calls and of the 16-bit
    /// ones of old binaries (above 65535: 65534, as the kernel shows them), the owners
    /// stat64 and the old stat show, and the 16-bit chown (65535: unchanged) remembered.
    @Test("An i386 program sees faked ids through its 32-bit and 16-bit calls, stat64 and the old stat", arguments: Filter.allCases)
    func fakedIds(_ filter: Filter) async throws {
        let probe = try #require(I386Probes.abiProbe())
        let root = await makePrivateRootfs()
        defer { root.remove() }
        writeFile(root.at("/etc/greeting"), "guest\n", owner: testUser)
        let binds = ["--ro-bind", probe, "/bin/p32"]
        let asRoot = try await run(filter, ["--root"] + binds + [root.path, "/bin/sh", "-c", """
            /bin/p32 ids; /bin/p32 ids16; /bin/p32 stat64 /etc/greeting; /bin/p32 statold /etc/greeting
            /bin/p32 chown16 /etc/greeting 65535 42; /bin/p32 stat64 /etc/greeting; /bin/p32 chown16 /etc/greeting 7 65535
            /bin/p32 statold /etc/greeting; /bin/p32 exec /bin/p32 ids
            """])
        expectSuccess(asRoot)
        expectLines(asRoot, ["uid=0 euid=0 gid=0 egid=0", "uid=0 euid=0 gid=0 egid=0", "size=6 uid=0 gid=0 mode=644",
                             "size=6 uid=0 gid=0 mode=644", "size=6 uid=0 gid=42 mode=644", "size=6 uid=7 gid=42 mode=644",
                             "uid=0 euid=0 gid=0 egid=0"])
        let high = try await run(filter, ["--uid", "70000", "--gid", "70001"] + binds + [root.path, "/bin/sh", "-c", """
            /bin/p32 ids; /bin/p32 ids16; /bin/p32 stat64 /etc/greeting; /bin/p32 statold /etc/greeting
            """])
        expectSuccess(high)
        expectLines(high, ["uid=70000 euid=70000 gid=70001 egid=70001", "uid=65534 euid=65534 gid=65534 egid=65534",
                           "size=6 uid=70000 gid=70001 mode=644", "size=6 uid=65534 gid=65534 mode=644"])
    }
}

extension I386Tests {
    /// abiprobe built -m32 without -static: its PT_INTERP (/lib/ld-linux.so.2) and libc are
    /// the guest's (copied from the host's libc6-i386 into the rootfs), found through the
    /// engine as for 64-bit programs; /proc/self/exe names the program.
    static let dynamicProbe: (path: String?, error: String) = {
        let out = Harness.tempBase + "/abiprobe32-dynamic"
        let r = runHost(["/usr/bin/gcc", "-m32", "-O1", "-o", out, Harness.packageRoot + "/Tests/Helpers/abiprobe.c"])
        return r.status == 0 ? (out, "") : (nil, "gcc -m32 failed (\(r.status)): \(r.stderr)")
    }()

    @Test("A dynamically linked i386 program runs with the guest's loader and libc", arguments: Filter.allCases)
    func dynamicProgram(_ filter: Filter) async throws {
        let probe = try #require(Self.dynamicProbe.path, "\(Self.dynamicProbe.error) (scripts/deps installs gcc-multilib)")
        let root = await makePrivateRootfs()
        defer { root.remove() }
        for dir in ["/lib", "/lib32"] { mkdir(root.at(dir), 0o755) }
        for (host, guest) in [("/lib/ld-linux.so.2", "/lib/ld-linux.so.2"), ("/lib32/libc.so.6", "/lib32/libc.so.6"), (probe, "/bin/d32")] {
            #expect(runHost(["/bin/cp", "-L", host, root.at(guest)]).status == 0, "cp \(host)")
        }
        writeFile(root.at("/etc/greeting"), "guest\n", owner: testUser)
        let r = try await run(filter, ["--proc", "/proc", root.path, "/bin/sh", "-c", """
            /bin/d32 cat /etc/greeting; /bin/d32 readlink /proc/self/exe; /bin/d32 exec /bin/d32 cwd /etc
            """])
        expectSuccess(r)
        expectLines(r, ["guest", "/bin/d32", "/etc"])
    }
}

extension I386Tests {
    /// The host's (64-bit) strace in the guest follows an i386 program: the emulated ptrace
    /// hands it the real ABI of each call (PTRACE_GET_SYSCALL_INFO), and what it shows are
    /// the guest's paths.
    @Test("The host's strace shows an i386 program's execve and openat with guest paths")
    func strace() async throws {
        let probe = try #require(I386Probes.abiProbe())
        guard PtraceGuestTests.installed("/usr/bin/strace") else { return }
        let r = await burrow(engine: .ptrace, PtraceGuestTests.hostProgram("/usr/bin/strace") + [
            "--bind", "/dev/null", "/dev/null", "--tmpfs", "/tmp", "--ro-bind", probe, "/tmp/p32", Harness.sharedRootfs,
            "/usr/bin/strace", "-f", "-e", "trace=openat,execve", "/tmp/p32", "exec", "/tmp/p32", "cat", "/etc/hostname",
        ])
        expectSuccess(r)
        expectStdout(r, contains: "burrow-rootfs")
        expectStderr(r, contains: "runs in 32 bit mode")
        expectStderr(r, contains: "execve(\"/tmp/p32\", [\"/tmp/p32\", \"cat\", \"/etc/hostname\"]")
        expectStderr(r, contains: "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3")
        expectStderr(r, lacks: Harness.sharedRootfs)
    }
}
