// Filesystem options: binds, tmpfs, proc, dev, mqueue, dir, symlink, remount-ro, the root
// itself (read-only, overlays), the order of operations, and mount points that must be
// created inside the new root (never outside) and removed again afterwards.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Filesystem", .timeLimit(.minutes(1)))
struct FilesystemTests {
    let rootfs = Harness.sharedRootfs

    // MARK: Binds

    @Test("--bind is writable, nosuid and nodev")
    func bindIsWritable() async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "from-host\n", owner: testUser)
        let r = await burrow(
            ["--proc", "/proc", "--bind", w.path, "/run", rootfs]
                + sh("cat /run/hello && echo from-guest > /run/written && echo write-ok; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "from-host")
        expectStdout(r, contains: "write-ok")
        #expect(readFile(w.sub("written")) == "from-guest\n", "the write did not land in the host directory:\n\(r)")
        let m = expectMount(r, at: "/run")
        expectOption(m, "rw", context: r)
        expectOption(m, "nosuid", context: r)
        expectOption(m, "nodev", context: r)
    }

    @Test("--ro-bind is read-only (EROFS), nosuid and nodev")
    func roBindIsReadOnly() async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "from-host\n", owner: testUser)
        let r = await burrow(
            ["--proc", "/proc", "--ro-bind", w.path, "/run", rootfs]
                + sh("cat /run/hello; echo x > /run/written && echo write-ok || echo write-failed; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "from-host")
        expectStdout(r, contains: "write-failed")
        expectStderr(r, contains: "Read-only file system")
        #expect(!pathExists(w.sub("written")), "a file appeared under the read-only bind:\n\(r)")
        let m = expectMount(r, at: "/run")
        expectOption(m, "ro", context: r)
        expectOption(m, "nosuid", context: r)
        expectOption(m, "nodev", context: r)
    }

    @Test("--dev-bind /dev/null /x: a usable device on a mount without nodev")
    func devBindKeepsDevices() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(
            ["--proc", "/proc", "--dev-bind", "/dev/null", "/x", root.path]
                + sh("echo hi > /x && echo write-ok; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "write-ok")
        let m = expectMount(r, at: "/x")
        expectOption(m, "nosuid", context: r)
        expectOption(m, "nodev", present: false, context: r)
        #expect(!pathExists(root.at("/x")), "the mount point /x burrow created is still in the rootfs")
    }

    struct DeviceCase: Sendable, CustomTestStringConvertible {
        let option: String
        let devicesUsable: Bool
        var testDescription: String { "\(option) /dev → devices \(devicesUsable ? "usable" : "blocked")" }
    }

    @Test("Device nodes under a bind are blocked by nodev, usable with --dev-bind", arguments: [
        DeviceCase(option: "--bind", devicesUsable: false),
        DeviceCase(option: "--ro-bind", devicesUsable: false),
        DeviceCase(option: "--dev-bind", devicesUsable: true),
    ])
    func devicesUnderBind(_ c: DeviceCase) async {
        let r = await burrow(
            [c.option, "/dev", "/run", rootfs]
                + sh("if echo x > /run/null; then echo device-usable; else echo device-blocked; fi"))
        expectSuccess(r)
        expectStdout(r, contains: c.devicesUsable ? "device-usable" : "device-blocked")
    }

    struct TryCase: Sendable, CustomTestStringConvertible {
        let option: String
        let sourceExists: Bool
        var testDescription: String { "\(option) with \(sourceExists ? "an existing" : "a missing") source" }
    }

    @Test("--*-bind-try skips a missing source and binds an existing one", arguments: [
        "--bind-try", "--ro-bind-try", "--dev-bind-try",
    ].flatMap { [TryCase(option: $0, sourceExists: false), TryCase(option: $0, sourceExists: true)] })
    func tryBinds(_ c: TryCase) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "from-host\n", owner: testUser)
        let source = c.sourceExists ? w.path : w.sub("does-not-exist")
        let r = await burrow(
            ["--proc", "/proc", c.option, source, "/run", rootfs] + sh("echo ran; cat /run/hello; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "ran")
        if c.sourceExists {
            expectStdout(r, contains: "from-host")
            let m = expectMount(r, at: "/run")
            expectOption(m, "ro", present: c.option == "--ro-bind-try", context: r)
            expectOption(m, "nodev", present: c.option != "--dev-bind-try", context: r)
        } else {
            expectStdout(r, lacks: "from-host")
            #expect(r.mounts.all(at: "/run").isEmpty, "a missing source was mounted anyway:\n\(r)")
            #expect(!r.mounts.isEmpty, "the script printed no mount table:\n\(r)")
        }
    }

    @Test("A file can be bound over a file")
    func bindFileOverFile() async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("name"), "bound-hostname\n", owner: testUser)
        let r = await burrow(["--ro-bind", w.sub("name"), "/etc/hostname", rootfs] + sh("cat /etc/hostname"))
        expectSuccess(r)
        expectLines(r, ["bound-hostname"])
        #expect(readFile(rootfs + "/etc/hostname") == "burrow-rootfs\n", "the rootfs's own file changed")
    }

    // MARK: tmpfs

    struct TmpfsCase: Sendable, CustomTestStringConvertible {
        let size: String?
        let perms: String?
        let sizeOption: String?  // expected in the super options
        let mode: String  // `stat -c %a`
        var testDescription: String { "--size \(size ?? "-") --perms \(perms ?? "-") → \(sizeOption ?? "no size"), mode \(mode)" }
    }

    @Test("--tmpfs with --size and --perms", arguments: [
        TmpfsCase(size: nil, perms: nil, sizeOption: nil, mode: "755"),
        TmpfsCase(size: "1M", perms: nil, sizeOption: "size=1024k", mode: "755"),
        TmpfsCase(size: "64k", perms: "0700", sizeOption: "size=64k", mode: "700"),
        TmpfsCase(size: "2m", perms: "1777", sizeOption: "size=2048k", mode: "1777"),
        TmpfsCase(size: "1048576", perms: "750", sizeOption: "size=1024k", mode: "750"),
        TmpfsCase(size: "1G", perms: nil, sizeOption: "size=1048576k", mode: "755"),
    ])
    func tmpfs(_ c: TmpfsCase) async {
        var args = ["--proc", "/proc"]
        if let size = c.size { args += ["--size", size] }
        if let perms = c.perms { args += ["--perms", perms] }
        args += ["--tmpfs", "/run", rootfs]
        let r = await burrow(
            args + sh("stat -c %a /run; ls -A /run | wc -l; touch /run/probe && echo writable; \(printMounts)"))
        expectSuccess(r)
        let before = r.beforeMounts.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(before.first == c.mode, "mode of the tmpfs root:\n\(r)")
        #expect(before.count > 1 && before[1] == "0", "a fresh tmpfs should be empty:\n\(r)")
        expectStdout(r, contains: "writable")
        let m = expectMount(r, at: "/run")
        #expect(m?.fsType == "tmpfs", "fs type at /run: \(m?.line ?? "none")")
        expectOption(m, "nosuid", context: r)
        expectOption(m, "nodev", context: r)
        if let sizeOption = c.sizeOption {
            #expect(m?.superOptions.contains(sizeOption) == true, "expected \(sizeOption) in \(m?.line ?? "none")")
        }
    }

    @Test("--size is enforced: writing past it gives ENOSPC")
    func tmpfsSizeIsEnforced() async {
        let r = await burrow(
            ["--size", "64k", "--tmpfs", "/run", rootfs]
                + sh("yes > /run/big; echo \"size=$(( $(wc -c < /run/big) ))\""))
        expectSuccess(r)
        expectStderr(r, contains: "No space left on device")
        let written = r.lines.first { $0.hasPrefix("size=") }.flatMap { Int($0.dropFirst(5)) }
        #expect(written != nil && written! <= 65536, "more than 64k landed in a 64k tmpfs:\n\(r)")
    }

    @Test("Destinations are normalised: /run/../home/. is /home")
    func destinationIsNormalised() async {
        let r = await burrow(["--proc", "/proc", "--tmpfs", "/run/../home/./", rootfs] + sh(printMounts))
        expectSuccess(r)
        let m = expectMount(r, at: "/home")
        #expect(m?.fsType == "tmpfs")
        #expect(r.mounts.all(at: "/run").isEmpty, "nothing should be mounted at /run:\n\(r)")
    }

    // MARK: proc, dev, mqueue

    struct ProcCase: Sendable, CustomTestStringConvertible {
        let unsharePID: Bool
        var testDescription: String { unsharePID ? "with --unshare-pid: a fresh proc" : "without: the host's proc" }
    }

    @Test("--proc: fresh with --unshare-pid, the host's without", arguments: [
        ProcCase(unsharePID: true), ProcCase(unsharePID: false),
    ])
    func proc(_ c: ProcCase) async {
        let me = getpid()
        let r = await burrow(
            (c.unsharePID ? ["--unshare-pid"] : []) + ["--proc", "/proc", rootfs]
                + sh("test -d /proc/\(me) && echo sees-test-process; ls /proc | grep -c '^[0-9]*$'; \(printMounts)"))
        expectSuccess(r)
        let m = expectMount(r, at: "/proc")
        #expect(m?.fsType == "proc", "fs type at /proc: \(m?.line ?? "none")")
        expectOption(m, "nosuid", context: r)
        let count = r.beforeMounts.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last
        if c.unsharePID {
            if me > 10 { expectStdout(r, lacks: "sees-test-process") }
            #expect(count != nil && count! <= 8, "a new PID namespace should hold only a few processes:\n\(r)")
        } else {
            expectStdout(r, contains: "sees-test-process")
        }
    }

    @Test("--dev: a minimal, working /dev with devpts and shm")
    func dev() async {
        let r = await burrow(
            ["--dev", "/dev", "--proc", "/proc", rootfs]
                + sh(
                    """
                    ls -A /dev
                    echo x > /dev/null && echo null-ok
                    echo "urandom=$(( $(head -c 4 /dev/urandom | wc -c) ))"
                    echo "zero=$(( $(head -c 3 /dev/zero | wc -c) ))"
                    echo x > /dev/full || echo full-fails
                    echo shm-data > /dev/shm/f && cat /dev/shm/f
                    \(printMounts)
                    """))
        expectSuccess(r)
        let entries = Set(r.beforeMounts.split(separator: "\n").map(String.init))
        for name in ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin", "stdout", "stderr"] {
            #expect(entries.contains(name), "/dev lacks \(name):\n\(r)")
        }
        expectStdout(r, contains: "null-ok")
        expectStdout(r, contains: "urandom=4")
        expectStdout(r, contains: "zero=3")
        expectStdout(r, contains: "full-fails")
        expectStdout(r, contains: "shm-data")
        #expect(r.mounts.top(at: "/dev/pts")?.fsType == "devpts", "/dev/pts should be a devpts:\n\(r)")
        #expect(r.mounts.top(at: "/dev/shm")?.fsType == "tmpfs", "/dev/shm should be a tmpfs:\n\(r)")
    }

    @Test("--dev: the caller's terminal is /dev/console, and no terminal means no console")
    func devConsole() async {
        // script(1), run as the test user, gives burrow a pseudo-terminal the user owns.
        let inner = ([Harness.binary, "--dev", "/dev", rootfs]
            + sh("tty; echo to-console > /dev/console && echo console-ok")).map(shellQuote).joined(separator: " ")
        let r = await runHostAsync(asTestUser(["/usr/bin/script", "-qec", inner, "/dev/null"]))
        #expect(r.status == 0, "status \(r.status): \(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("/dev/console"), "tty inside should name /dev/console: \(r.stdout)")
        #expect(r.stdout.contains("to-console") && r.stdout.contains("console-ok"), "\(r.stdout)")

        let plain = await burrow(["--dev", "/dev", rootfs] + sh("tty; test -e /dev/console && echo has-console || echo no-console"))
        expectStdout(plain, contains: "no-console")
    }

    @Test("--mqueue with --unshare-ipc mounts an mqueue filesystem")
    func mqueue() async {
        let r = await burrow(
            ["--unshare-ipc", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--proc", "/proc", rootfs] + sh(printMounts))
        expectSuccess(r)
        let m = expectMount(r, at: "/dev/mqueue")
        #expect(m?.fsType == "mqueue", "fs type at /dev/mqueue: \(m?.line ?? "none")")
    }

    // MARK: dir, symlink, remount-ro

    struct DirCase: Sendable, CustomTestStringConvertible {
        let perms: String?
        let mode: String
        var testDescription: String { "--perms \(perms ?? "-") --dir → \(mode)" }
    }

    @Test("--dir creates the directory with --perms, and it is removed at exit", arguments: [
        DirCase(perms: nil, mode: "755"), DirCase(perms: "0700", mode: "700"), DirCase(perms: "1777", mode: "1777"),
    ])
    func dirIsMadeAndRemoved(_ c: DirCase) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(
            (c.perms.map { ["--perms", $0] } ?? []) + ["--dir", "/newdir", root.path] + sh("stat -c %a /newdir"))
        expectSuccess(r)
        expectLines(r, [c.mode])
        #expect(!pathExists(root.at("/newdir")), "/newdir, made by burrow, is still in the rootfs after exit")
    }

    @Test("--dir inside a --tmpfs, nested")
    func dirInTmpfs() async {
        let r = await burrow(
            ["--tmpfs", "/run", "--perms", "0700", "--dir", "/run/a/b", rootfs] + sh("stat -c %a /run/a/b"))
        expectSuccess(r)
        expectLines(r, ["700"])
    }

    @Test("--symlink creates the link, removed at exit")
    func symlinkIsMadeAndRemoved() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(["--symlink", "/etc/os-release", "/lnk", root.path] + sh("readlink /lnk; cat /lnk"))
        expectSuccess(r)
        #expect(r.lines.first == "/etc/os-release", "readlink /lnk:\n\(r)")
        expectStdout(r, contains: "Burrow busybox rootfs")
        #expect(!pathExists(root.at("/lnk")), "/lnk, made by burrow, is still in the rootfs after exit")
    }

    @Test("--symlink with a relative target inside a --tmpfs")
    func relativeSymlinkInTmpfs() async {
        let r = await burrow(["--tmpfs", "/run", "--symlink", "../etc/hostname", "/run/h", rootfs] + sh("cat /run/h"))
        expectSuccess(r)
        expectLines(r, ["burrow-rootfs"])
    }

    struct RemountCase: Sendable, CustomTestStringConvertible {
        let name: String
        let setup: [String]  // "$W" is a writable host directory
        let probe: String  // the file the script tries to write
        var testDescription: String { name }
    }

    @Test("--remount-ro makes DEST and what is below it read-only", arguments: [
        RemountCase(name: "a bind", setup: ["--bind", "$W", "/run", "--remount-ro", "/run"], probe: "/run/f"),
        RemountCase(name: "a tmpfs", setup: ["--tmpfs", "/run", "--remount-ro", "/run"], probe: "/run/f"),
        RemountCase(
            name: "a tmpfs below it", setup: ["--tmpfs", "/run", "--tmpfs", "/run/sub", "--remount-ro", "/run"],
            probe: "/run/sub/f"),
    ])
    func remountReadOnly(_ c: RemountCase) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let setup = c.setup.map { $0 == "$W" ? w.path : $0 }
        let r = await burrow(
            ["--proc", "/proc"] + setup + [rootfs]
                + sh("echo x > \(c.probe) && echo write-ok || echo write-failed; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "write-failed")
        expectStderr(r, contains: "Read-only file system")
        let m = expectMount(r, at: (c.probe as NSString).deletingLastPathComponent)
        expectOption(m, "ro", context: r)
        #expect(!pathExists(w.sub("f")), "the write went through to the host directory")
    }

    // MARK: The root

    struct RootCase: Sendable, CustomTestStringConvertible {
        let readOnly: Bool
        var testDescription: String { readOnly ? "--ro-root" : "default (writable)" }
    }

    @Test("--ro-root makes the root read-only; by default a writable rootfs stays writable", arguments: [
        RootCase(readOnly: true), RootCase(readOnly: false),
    ])
    func readOnlyRoot(_ c: RootCase) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let r = await burrow(
            (c.readOnly ? ["--ro-root"] : []) + ["--proc", "/proc", root.path]
                + sh("touch /rootwrite && echo write-ok || echo write-failed; \(printMounts)"))
        expectSuccess(r)
        let m = expectMount(r, at: "/")
        if c.readOnly {
            expectStdout(r, contains: "write-failed")
            expectStderr(r, contains: "Read-only file system")
            expectOption(m, "ro", context: r)
            #expect(!pathExists(root.at("/rootwrite")))
        } else {
            expectStdout(r, contains: "write-ok")
            expectOption(m, "rw", context: r)
            #expect(pathExists(root.at("/rootwrite")), "the write did not land in the rootfs")
        }
    }

    @Test("The root is always nosuid", arguments: [
        [String](), ["--ro-root"], ["--root-tmp-overlay"], ["--unshare-all"],
    ])
    func rootIsNosuid(_ extra: [String]) async {
        let r = await burrow(extra + ["--proc", "/proc", rootfs] + sh(printMounts))
        expectSuccess(r)
        let m = expectMount(r, at: "/")
        expectOption(m, "nosuid", context: r)
    }

    @Test("--root-overlay DIR: changes land in DIR/upper, the rootfs is untouched, a second run sees them")
    func overlayKeepsChanges() async {
        let root = await makePrivateRootfs()
        let changes = makeTempDir(owner: testUser)
        defer {
            root.remove()
            changes.remove()
        }
        let first = await burrow(
            ["--root-overlay", changes.path, "--proc", "/proc", root.path]
                + sh(
                    "echo layered > /etc/newfile && echo changed > /etc/hostname && rm /etc/os-release && echo done; \(printMounts)"
                ))
        expectSuccess(first)
        expectStdout(first, contains: "done")
        #expect(expectMount(first, at: "/")?.fsType == "overlay", "the root should be an overlay:\n\(first)")
        #expect(!pathExists(root.at("/etc/newfile")), "the rootfs itself was written")
        #expect(readFile(root.at("/etc/hostname")) == "burrow-rootfs\n", "the rootfs itself was changed")
        #expect(pathExists(root.at("/etc/os-release")), "a file was removed from the rootfs itself")
        #expect(readFile(changes.sub("upper/etc/newfile")) == "layered\n", "the change is not in DIR/upper")

        let second = await burrow(
            ["--root-overlay", changes.path, root.path]
                + sh("cat /etc/newfile /etc/hostname; test -e /etc/os-release || echo os-release-gone"))
        expectSuccess(second)
        expectLines(second, ["layered", "changed", "os-release-gone"])
        #expect(hostMounts(mentioning: root.path).isEmpty)
    }

    @Test("--overlay-src with --overlay, --tmp-overlay, --ro-overlay: the last layer on top; writes go to UPPER, to memory, or nowhere; the layers are never written")
    func overlaysOnAPath() async {
        let dir = makeUserDir()
        defer { dir.remove() }
        for d in ["l1", "l2", "upper", "work"] {
            mkdir(dir.sub(d), 0o755)
            giveToTestUser(dir.sub(d))
        }
        writeFile(dir.sub("l1/a"), "1", owner: testUser)
        writeFile(dir.sub("l1/b"), "2", owner: testUser)
        writeFile(dir.sub("l2/b"), "3", owner: testUser)
        let layers = ["--overlay-src", dir.sub("l1"), "--overlay-src", dir.sub("l2")]
        let r = await burrow(
            ["--proc", "/proc", "--tmpfs", "/tmp"] + layers + ["--overlay", dir.sub("upper"), dir.sub("work"), "/tmp/kept"]
                + layers + ["--tmp-overlay", "/tmp/gone"] + layers + ["--ro-overlay", "/tmp/ro", rootfs]
                + sh("cat /tmp/kept/a /tmp/kept/b; echo; echo 4 > /tmp/kept/b; rm /tmp/kept/a; echo 5 > /tmp/gone/b; cat /tmp/gone/b;"
                     + " (echo 6 > /tmp/ro/b) 2>/dev/null || echo ro-refused; cat /tmp/ro/b; \(printMounts)"))
        expectSuccess(r)
        expectStdout(r, contains: "13\n5\nro-refused\n3")
        #expect(expectMount(r, at: "/tmp/kept")?.fsType == "overlay", "\(r)")
        expectOption(expectMount(r, at: "/tmp/ro"), "ro", context: r)
        #expect(readFile(dir.sub("upper/b")) == "4\n", "the change is not in UPPER")
        #expect(readFile(dir.sub("l1/b")) == "2" && readFile(dir.sub("l2/b")) == "3", "a layer was written")
        #expect(readFile(dir.sub("l1/a")) == "1", "a removal reached a layer")
        #expect(hostMounts(mentioning: dir.path).isEmpty)

        let refused = await burrow(["--engine", "ptrace"] + layers + ["--tmp-overlay", "/mnt", rootfs, "true"])
        #expect(refused.status != 0, "\(refused)")
        expectStderr(refused, contains: "an overlay at /mnt (--overlay, --tmp-overlay, --ro-overlay) needs the namespace engine")
    }

    @Test("--bind-fd and --ro-bind-fd: what the caller's descriptor names is bound, writable or not; a descriptor that is not open is refused")
    func bindFromDescriptor() async throws {
        let dir = makeUserDir(["f": "from the descriptor\n"])
        defer { dir.remove() }
        let b = shellQuote(Harness.binary), d = shellQuote(dir.path), r = shellQuote(rootfs)
        let p = try spawn(asTestUser(["/bin/sh", "-c",
            "exec 7<\(d) 8<\(d); \(b) --tmpfs /tmp --bind-fd 7 /tmp/m --ro-bind-fd 8 /tmp/o \(r) /bin/sh -c 'cat /tmp/m/f; echo w > /tmp/m/g && echo mnt-written; echo w > /tmp/o/h 2>/dev/null || echo opt-read-only'"]))
        let r1 = await p.wait()
        expectSuccess(r1)
        expectLines(r1, ["from the descriptor", "mnt-written", "opt-read-only"])
        #expect(readFile(dir.sub("g")) == "w\n" && !pathExists(dir.sub("h")))
        let closed = await burrow(["--bind-fd", "9", "/tmp/m", rootfs, "true"])
        #expect(closed.status != 0)
        expectStderr(closed, contains: "--bind-fd 9: not an open descriptor of a file or directory")
    }

    @Test("--root-tmp-overlay: writes succeed inside and leave no trace")
    func tmpOverlayDiscardsChanges() async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let before = treeListing(root.path)
        let first = await burrow(
            ["--root-tmp-overlay", root.path]
                + sh(
                    "echo x > /tmpov && mkdir /newdir2 && rm /etc/os-release && echo changed > /etc/hostname && cat /tmpov && echo done"
                ))
        expectSuccess(first)
        expectLines(first, ["x", "done"])
        #expect(treeListing(root.path) == before, "the rootfs changed under --root-tmp-overlay")
        #expect(readFile(root.at("/etc/hostname")) == "burrow-rootfs\n")
        #expect(hostMounts(mentioning: root.path).isEmpty)

        let second = await burrow(["--root-tmp-overlay", root.path] + sh("test -e /tmpov && echo still-there || echo gone"))
        expectSuccess(second)
        expectLines(second, ["gone"])
    }

    // MARK: Order and mount points

    struct OrderCase: Sendable, CustomTestStringConvertible {
        let bindFirst: Bool
        var testDescription: String { bindFirst ? "--bind then --tmpfs: the tmpfs wins" : "--tmpfs then --bind: the bind wins" }
    }

    @Test("Operations apply in the order given", arguments: [OrderCase(bindFirst: true), OrderCase(bindFirst: false)])
    func order(_ c: OrderCase) async {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        writeFile(w.sub("hello"), "from-host\n", owner: testUser)
        let bind = ["--bind", w.path, "/run"], tmpfs = ["--tmpfs", "/run"]
        let r = await burrow(
            ["--proc", "/proc"] + (c.bindFirst ? bind + tmpfs : tmpfs + bind) + [rootfs] + sh("ls /run; \(printMounts)"))
        expectSuccess(r)
        let top = expectMount(r, at: "/run")
        #expect(r.mounts.all(at: "/run").count == 2, "both mounts should be at /run:\n\(r)")
        let bindRoot = (w.path as NSString).lastPathComponent
        if c.bindFirst {
            #expect(!r.beforeMounts.contains("hello"), "the later tmpfs should hide the bind:\n\(r)")
            #expect(top?.fsType == "tmpfs" && top?.root == "/", "the tmpfs should be on top:\n\(r)")
        } else {
            #expect(r.beforeMounts.contains("hello"), "the later bind should hide the tmpfs:\n\(r)")
            #expect(top?.root.hasSuffix("/" + bindRoot) == true, "the bind should be on top:\n\(r)")
        }
    }

    struct MountPointCase: Sendable, CustomTestStringConvertible {
        let name: String
        let args: [String]  // "$W" a host directory, "$F" a host file
        let check: String  // guest path that must exist inside
        let topLevel: String  // what must be gone from (or still be in) the rootfs afterwards
        let existedBefore: Bool
        var testDescription: String { name }
    }

    @Test("Mount points burrow creates are removed at exit; existing ones stay", arguments: [
        MountPointCase(
            name: "--tmpfs /newdir/sub", args: ["--tmpfs", "/newdir/sub"], check: "/newdir/sub", topLevel: "newdir",
            existedBefore: false),
        MountPointCase(
            name: "--bind DIR /newbind", args: ["--bind", "$W", "/newbind"], check: "/newbind", topLevel: "newbind",
            existedBefore: false),
        MountPointCase(
            name: "--ro-bind FILE /newfile", args: ["--ro-bind", "$F", "/newfile"], check: "/newfile",
            topLevel: "newfile", existedBefore: false),
        MountPointCase(
            name: "--dev /newdev", args: ["--dev", "/newdev"], check: "/newdev/null", topLevel: "newdev",
            existedBefore: false),
        MountPointCase(
            name: "--tmpfs /home (exists)", args: ["--tmpfs", "/home"], check: "/home", topLevel: "home",
            existedBefore: true),
    ])
    func createdMountPointsAreRemoved(_ c: MountPointCase) async {
        let root = await makePrivateRootfs()
        let w = makeTempDir(owner: testUser)
        defer {
            root.remove()
            w.remove()
        }
        writeFile(w.sub("file"), "file-content\n", owner: testUser)
        let args = c.args.map { $0 == "$W" ? w.path : $0 == "$F" ? w.sub("file") : $0 }
        let r = await burrow(args + [root.path] + sh("test -e \(c.check) && echo present"))
        expectSuccess(r)
        expectLines(r, ["present"])
        #expect(
            pathExists(root.path + "/" + c.topLevel) == c.existedBefore,
            "after exit, \(c.topLevel) should \(c.existedBefore ? "still" : "no longer") be in the rootfs")
        #expect(hostMounts(mentioning: root.path).isEmpty)
    }

    enum EscapeKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case absolute, relative
        var testDescription: String {
            self == .absolute ? "symlink /escape -> an absolute host directory" : "symlink /esc2 -> ../../.."
        }
    }

    @Test("A symlink in the rootfs never leads a mount point outside it", arguments: EscapeKind.allCases)
    func symlinksCannotEscape(_ kind: EscapeKind) async throws {
        let root = await makePrivateRootfs()
        let hostSide = makeTempDir(owner: testUser)  // writable by the test user: an escape would succeed
        defer {
            root.remove()
            hostSide.remove()
        }
        let unique = "burrow-escape-\(UUID().uuidString)"
        let dest: String
        let hostVictim: String  // where an escaping mount point would appear on the host
        switch kind {
        case .absolute:
            #expect(symlink(hostSide.path, root.at("/escape")) == 0)
            dest = "/escape/\(unique)"
            hostVictim = hostSide.sub(unique)
        case .relative:
            #expect(symlink("../../..", root.at("/esc2")) == 0)
            dest = "/esc2/\(unique)"
            // What ../../.. means on the host, seen from the rootfs directory.
            hostVictim = URL(fileURLWithPath: root.path + "/../../..").standardized.path + "/" + unique
        }
        giveToTestUser(root.at(kind == .absolute ? "/escape" : "/esc2"))

        let p = try startBurrow(["--proc", "/proc", "--tmpfs", dest, root.path] + sh("\(printMounts); echo ready; sleep 1"))
        _ = await p.waitForStdout("ready", timeout: 10)
        #expect(!pathExists(hostVictim), "while the sandbox runs, \(hostVictim) exists on the host")
        let r = await p.wait()
        #expect(!pathExists(hostVictim), "after the run, \(hostVictim) exists on the host")
        #expect(directoryEntries(hostSide.path).isEmpty, "the host directory changed: \(directoryEntries(hostSide.path))")
        #expect(r.status == 0 || r.status == 125, "expected success (mount inside the root) or a clean error:\n\(r)")
        if r.status == 0 {
            let tmpfsLeaf = r.mounts.last { $0.fsType == "tmpfs" && $0.mountPoint.hasSuffix("/" + unique) }
            #expect(tmpfsLeaf != nil, "the tmpfs should be mounted inside the new root:\n\(r)")
        } else {
            #expect(r.stderr.hasPrefix("burrow: "), "a refusal needs a message:\n\(r)")
        }
        #expect(hostMounts(mentioning: root.path).isEmpty)
    }
}
