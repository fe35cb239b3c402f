// A real distribution on the ptrace engine: a Debian bookworm rootfs (scripts/make-debian-rootfs,
// debootstrap minbase with gcc and libc6-dev), run as the unprivileged test user on a host
// without user namespaces (scripts/no-userns), where `auto` picks the ptrace engine. Its
// bash, dpkg-query, apt-cache and gcc run; apt-get and dpkg install local packages under
// faked root (`--root`, and proot's `-0`), and the owners their postinst set hold on the
// next run through `--fake-db`.
//
// scripts/test (as root) makes the fixture and exports BURROW_TEST_DEBIAN_ROOTFS: then a
// missing fixture fails these tests. Without it (not root, or plain `swift test`) they are
// skipped when .build/fixtures/debian-rootfs is not there.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum DebianFixture {
    static let environmentPath = ProcessInfo.processInfo.environment["BURROW_TEST_DEBIAN_ROOTFS"].flatMap { $0.isEmpty ? nil : $0 }
    /// The pristine tree (owned by root; never changed by a test).
    static let path = environmentPath ?? Harness.packageRoot + "/.build/fixtures/debian-rootfs"
    /// scripts/test made it: its absence is a failure, not a skip.
    static let required = environmentPath != nil
    /// scripts/make-debian-rootfs writes this file last.
    static var complete: Bool { pathExists(path + "/.burrow-debian-rootfs") }
    /// Run (and fail when something is missing) if required; else only as root (copies
    /// of the tree keep its owners, and some of its files only root can read) with the tree.
    static var runnable: Bool { required || (Harness.runningAsRoot && complete) }
    static let skipReason: Comment = "no Debian rootfs fixture (as root: scripts/make-debian-rootfs, or run scripts/test)"

    /// Checks what a runnable test needs; records why when it is missing.
    static func check() throws {
        try #require(Harness.runningAsRoot, "the Debian rootfs tests copy a root-owned tree: run them as root")
        try #require(complete, "the Debian rootfs fixture is missing or incomplete: \(path) (scripts/make-debian-rootfs)")
    }

    /// A fresh copy of the tree, owned by the test user, as one the user unpacked (tar -xp)
    /// would be: the set-id bits chown clears are put back, and /dev is empty (no device
    /// nodes; `--dev` gives the host's).
    static func makeCopy(owner: TestUser = testUser) async throws -> PrivateRootfs {
        try check()
        let rootfs = PrivateRootfs(base: makeTempDir())
        let copy = await runHostAsync(["/bin/cp", "-a", path, rootfs.path])
        try #require(copy.status == 0, "cp -a of the Debian rootfs failed: \(copy.stderr)")
        let own = await runHostAsync(["/bin/chown", "-R", "-h", "\(owner.uid):\(owner.gid)", rootfs.path])
        try #require(own.status == 0, "chown of the Debian rootfs copy failed: \(own.stderr)")
        let setID = await runHostAsync(["/usr/bin/find", path, "-xdev", "-perm", "/6000", "!", "-type", "l", "-printf", "%m %P\\n"])
        try #require(setID.status == 0, "find: \(setID.stderr)")
        for line in setID.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let mode = mode_t(parts[0], radix: 8) else { continue }
            #expect(chmod(rootfs.path + "/" + parts[1], mode) == 0, "chmod \(line)")
        }
        let dev = await runHostAsync(["/usr/bin/find", rootfs.at("/dev"), "-mindepth", "1", "-delete"])
        try #require(dev.status == 0, "emptying /dev: \(dev.stderr)")
        return rootfs
    }

    /// One copy for the tests that only read it (and write below /tmp, each its own names).
    private static let sharedCopy = Task { () -> Result<PrivateRootfs, any Error> in
        do { return .success(try await makeCopy()) } catch { return .failure(error) }
    }
    static func shared() async throws -> PrivateRootfs {
        try check()  // each test says what is missing
        return try await sharedCopy.value.get()
    }

    /// An installed package's version, read from the fixture's dpkg status file on the host.
    static func installedVersion(of package: String) throws -> String {
        let status = try #require(readFile(path + "/var/lib/dpkg/status"), "cannot read the fixture's dpkg status")
        let stanza = try #require(status.components(separatedBy: "\n\n").first { $0.hasPrefix("Package: \(package)\n") },
                                  "\(package) is not in the fixture's dpkg status")
        let line = try #require(stanza.split(separator: "\n").first { $0.hasPrefix("Version: ") }, "\(package) has no Version")
        return String(line.dropFirst("Version: ".count))
    }

    /// How many packages the fixture's dpkg status lists as installed.
    static func installedCount() throws -> Int {
        let status = try #require(readFile(path + "/var/lib/dpkg/status"), "cannot read the fixture's dpkg status")
        return status.components(separatedBy: "\n").filter { $0 == "Status: install ok installed" }.count
    }

    /// Builds a local package on the host with dpkg-deb: `files` (guest path: contents) and a
    /// postinst script; copies it to /tmp/NAME.deb of `root`, owned by the test user.
    static func makePackage(_ name: String, files: [String: String], postinst: String, into root: PrivateRootfs) async throws {
        let work = makeTempDir()
        defer { work.remove() }
        let pkg = work.sub("pkg")
        let made = await runHostAsync(["/bin/mkdir", "-p", pkg + "/DEBIAN"] + files.keys.map { pkg + ($0 as NSString).deletingLastPathComponent })
        try #require(made.status == 0, "mkdir: \(made.stderr)")
        writeFile(pkg + "/DEBIAN/control", "Package: \(name)\nVersion: 1.0\nArchitecture: all\nMaintainer: Burrow <burrow@example.org>\nDescription: test package\n")
        writeFile(pkg + "/DEBIAN/postinst", "#!/bin/sh\nset -e\n" + postinst)
        chmod(pkg + "/DEBIAN/postinst", 0o755)
        for (guest, text) in files { writeFile(pkg + guest, text) }
        let built = await runHostAsync(["/usr/bin/dpkg-deb", "-b", pkg, root.at("/tmp/\(name).deb")])
        try #require(built.status == 0, "dpkg-deb: \(built.stderr)")
        giveToTestUser(root.at("/tmp/\(name).deb"))
    }
}

@Suite("Ptrace engine: a Debian rootfs", .timeLimit(.minutes(5)),
       .enabled(if: DebianFixture.runnable, DebianFixture.skipReason))
struct DebianRootfsTests {
    /// `burrow ROOT ARGV...` without user namespaces: no --engine, so `auto` chooses.
    func run(_ options: [String], _ root: PrivateRootfs, _ argv: [String], timeout: Double = 120,
             sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        await withoutUserNamespaces(options + ["--clearenv", "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin", root.path] + argv,
                                    timeout: timeout, sourceLocation: sourceLocation)
    }

    @Test("Debian's bash runs, and auto picks the ptrace engine for it")
    func bash() async throws {
        let root = try await DebianFixture.shared()
        let version = try DebianFixture.installedVersion(of: "bash")
        let upstream = String(version.prefix { $0 != "-" })  // 5.2.15-2+b7 -> 5.2.15
        let r = await run(["-v"], root, ["/bin/bash", "-c", "echo $BASH_VERSION; echo ${BASH_VERSINFO[0]}; cat /etc/debian_version; readlink /bin"])
        expectSuccess(r)
        #expect(r.lines.first?.hasPrefix(upstream + "(") == true, "bash \(upstream) expected:\n\(r)")
        #expect(r.lines.dropFirst().first == upstream.split(separator: ".").first.map(String.init), "\(r)")
        #expect(r.lines.dropFirst(2).first?.hasPrefix("12.") == true, "bookworm is Debian 12:\n\(r)")
        #expect(r.lines.last == "usr/bin", "merged /usr: /bin -> usr/bin:\n\(r)")
        expectStderr(r, contains: "engine ptrace (auto)")
    }

    @Test("Package queries: dpkg-query, dpkg -l and apt-cache see the installed packages")
    func packageQueries() async throws {
        let root = try await DebianFixture.shared()
        let version = try DebianFixture.installedVersion(of: "bash")
        let count = try DebianFixture.installedCount()
        let r = await run([], root, sh("""
            dpkg-query -W -f '${Package} ${Version} ${Status}\\n' bash
            dpkg -l bash | tail -n 1 | tr -s ' ' | cut -d ' ' -f 1-3
            apt-cache policy bash | sed -n 's/^ *Installed: //p'
            apt-cache show bash | sed -n 's/^Package: //p'
            dpkg-query -W -f '${Status}\\n' | grep -c 'install ok installed'
            dpkg -S /usr/bin/gcc-12
            """))
        expectSuccess(r)
        expectLines(r, ["bash \(version) install ok installed", "ii bash \(version)", version, "bash", "\(count)",
                        "gcc-12: /usr/bin/gcc-12"])
        #expect(count > 50, "a minbase system with gcc has more packages than \(count)")
    }

    @Test("strace -f inside: Debian's sh and cat, their execve and openat with guest paths (ptrace emulated)")
    func strace() async throws {
        let root = try await DebianFixture.shared()
        // The fixture's own strace (scripts/make-debian-rootfs includes it), else the
        // host's (the same bookworm) with the libraries the fixture lacks.
        var binds: [String] = []
        if !FileManager.default.isExecutableFile(atPath: root.at("/usr/bin/strace")) {
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "no strace in the fixture nor on the host")
            binds = ["--ro-bind", "/usr/bin/strace", "/usr/bin/strace"]
            let ldd = await runHostAsync(["/usr/bin/ldd", "/usr/bin/strace"])
            for line in ldd.stdout.split(separator: "\n") {
                guard let arrow = line.range(of: "=> /") else { continue }
                let lib = String(line[line.index(before: arrow.upperBound)...].prefix { $0 != " " })
                if !pathExists(root.at(lib)) {
                    binds += ["--ro-bind", URL(fileURLWithPath: lib).resolvingSymlinksInPath().path, lib]
                }
            }
        }
        let r = await run(binds, root, ["strace", "-f", "-e", "trace=openat,execve", "sh", "-c", "cat /etc/hostname"])
        expectSuccess(r)
        expectStdout(r, contains: "burrow-debian")
        expectStderr(r, contains: "execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"cat /etc/hostname\"]")
        #expect(r.stderr.contains(#/execve\("\/usr\/bin\/cat", \["cat", "\/etc\/hostname"\]/#), "\(r.stderr)")
        #expect(r.stderr.contains(#/openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY\) = 3/#), "\(r.stderr)")
        #expect(r.stderr.contains(#/openat\(AT_FDCWD, "\/etc\/ld.so.cache", O_RDONLY\|O_CLOEXEC\) = 3/#), "\(r.stderr)")
        expectStderr(r, lacks: root.path)
    }

    @Test("gcc compiles a C program in the rootfs and it runs there")
    func compiler() async throws {
        let root = try await DebianFixture.shared()
        let program = #"""
            #include <stdio.h>
            #include <sys/utsname.h>
            int main(void) {
                struct utsname u;
                if (uname(&u) != 0) return 1;
                printf("compiled by gcc %d: %d\n", __GNUC__, 6 * 7);
                return 0;
            }
            """#
        writeFile(root.at("/tmp/compiler-test.c"), program + "\n", owner: testUser)
        let r = await run([], root, sh("""
            cd /tmp && gcc -Wall -O2 -o compiler-test compiler-test.c && ./compiler-test
            gcc -dumpversion
            """))
        expectSuccess(r)
        let major = try DebianFixture.installedVersion(of: "gcc").split(separator: ":").last?.split(separator: ".").first
        let gccMajor = try #require(major.map(String.init), "gcc's version")
        expectLines(r, ["compiled by gcc \(gccMajor): 42", gccMajor])
        // The binary is a real ELF file on the host, owned by the caller.
        #expect(readFile(root.at("/tmp/compiler-test"))?.hasPrefix("\u{7F}ELF") == true)
        #expect(hostStat(root.at("/tmp/compiler-test"))?.uid == testUser.uid)
    }

    @Test("The distribution's set-id programs show as such; one run by a faked user gets its owner's effective uid")
    func setID() async throws {
        let root = try await DebianFixture.makeCopy()
        defer { root.remove() }
        let r = await run(["--root"], root, sh("""
            stat -c '%n %U %a' /usr/bin/su /usr/bin/passwd /usr/bin/chage
            useradd -m -s /bin/sh alice && cp /usr/bin/id /tmp/id-setuid && chmod 4755 /tmp/id-setuid
            su alice -c '/tmp/id-setuid -u; /tmp/id-setuid -ru; id -u'
            """))
        // On a nosuid mount the kernel ignores set-id bits, and so does the emulation.
        var fs = statvfs()
        let nosuid = statvfs(root.path, &fs) == 0 && fs.f_flag & UInt(ST_NOSUID) != 0
        expectSuccess(r)
        expectLines(r, ["/usr/bin/su root 4755", "/usr/bin/passwd root 4755", "/usr/bin/chage root 2755", nosuid ? "1000" : "0", "1000", "1000"])
    }

    @Test("apt-get install of a local package in a Debian rootfs under faked root; the owners hold on the next run")
    func aptInstall() async throws {
        let root = try await DebianFixture.makeCopy()
        defer { root.remove() }
        try await DebianFixture.makePackage("burrow-owned", files: ["/opt/owned/file": "owned\n"],
                                            postinst: "chown 7:8 /opt/owned/file\n", into: root)
        let db = makeTempDir(owner: testUser)
        defer { db.remove() }
        let options = ["--root", "--fake-db", db.sub("owners"), "--dev", "/dev", "--proc", "/proc"]
        let install = await run(options, root, sh("apt-get install -y /tmp/burrow-owned.deb >/tmp/apt.log 2>&1; echo apt=$?; stat -c '%u %g' /opt/owned/file; id -u"))
        expectSuccess(install)
        expectLines(install, ["apt=0", "7 8", "0"])
        if install.lines.first != "apt=0" { Issue.record("apt-get said:\n\(readFile(root.at("/tmp/apt.log")) ?? "")") }
        let next = await run(options, root, sh("stat -c '%u %g' /opt/owned/file; dpkg-query -W -f '${Status}\\n' burrow-owned; cat /opt/owned/file"))
        expectSuccess(next)
        expectLines(next, ["7 8", "install ok installed", "owned"])
        // On the host the file stays the caller's.
        #expect(hostStat(root.at("/opt/owned/file"))?.uid == testUser.uid)
    }

    @Test("proot -0: dpkg -i and apt-get install local packages; BURROW_FAKE_DB keeps the owners for the next run")
    func prootFakeRoot() async throws {
        let root = try await DebianFixture.makeCopy()
        defer { root.remove() }
        try await DebianFixture.makePackage("burrow-dpkg", files: ["/opt/dpkg/tool": "#!/bin/sh\necho tool-ran\n"],
                                            postinst: "chown 9:10 /opt/dpkg/tool\nchmod 4755 /opt/dpkg/tool\n", into: root)
        try await DebianFixture.makePackage("burrow-apt", files: ["/opt/apt/data": "data\n"],
                                            postinst: "chown -R 11:12 /opt/apt\nchmod 640 /opt/apt/data\n", into: root)
        let db = makeTempDir(owner: testUser)
        defer { db.remove() }
        let env = ["BURROW_FAKE_DB": db.sub("owners")]
        let check = "stat -c '%n %u %g %a' /opt/dpkg/tool /opt/apt /opt/apt/data; /opt/dpkg/tool"
        let expected = ["/opt/dpkg/tool 9 10 4755", "/opt/apt 11 12 755", "/opt/apt/data 11 12 640", "tool-ran"]
        let install = await withoutUserNamespaces(["-0", "-r", root.path, "-b", "/dev", "-b", "/proc"] + sh("""
            dpkg -i /tmp/burrow-dpkg.deb >/tmp/dpkg.log 2>&1; echo dpkg=$?
            apt-get install -y /tmp/burrow-apt.deb >/tmp/apt.log 2>&1; echo apt=$?
            id -u; \(check)
            """), program: PRootFixtures.burrowProot, environment: env, timeout: 120)
        expectSuccess(install)
        expectLines(install, ["dpkg=0", "apt=0", "0"] + expected)
        let next = await withoutUserNamespaces(["-0", "-r", root.path] + sh("\(check); dpkg-query -W -f '${Package} ${Status}\\n' 'burrow-*'"),
                                               program: PRootFixtures.burrowProot, environment: env)
        expectSuccess(next)
        expectLines(next, expected + ["burrow-apt install ok installed", "burrow-dpkg install ok installed"])
    }
}
