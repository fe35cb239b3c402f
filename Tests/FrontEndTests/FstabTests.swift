import Testing
@testable import BurrowFrontEnds
@testable import BurrowSandbox

private func g(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }
private func fs(_ type: String, _ source: String, _ dest: String, _ flags: MountFlags = [], _ data: [String] = []) -> SetupOp {
    .filesystem(FilesystemMount(type: type, source: source, destination: g(dest), flags: flags, data: data))
}
private func bind(_ source: String, _ dest: String, ro: Bool = false, dev: Bool = true, optional: Bool = false,
                  _ flags: MountFlags = []) -> SetupOp {
    .bind(BindMount(source: HostPath(source), destination: g(dest), readOnly: ro, allowDevices: dev, optional: optional, flags: flags))
}

struct FstabTests {
    /// jchroot(8)'s example file, its first entry on one line as in the real file.
    @Test func manualExample() throws {
        let text = """
            proc /proc proc defaults 0 0
            sys /sys sysfs defaults 0 0
            /home /home none bind,rw 0 0
            /dev/pts /dev/pts none bind,rw 0 0
            /var/run /var/run tmpfs rw,nosuid,noexec,mode=755 0 0
            /etc/resolv.conf /etc/resolv.conf none bind,ro 0 0

            """
        #expect(try Fstab.parse(text, file: "f") == [
            fs("proc", "proc", "/proc"),
            fs("sysfs", "sys", "/sys"),
            bind("/home", "/home"),
            bind("/dev/pts", "/dev/pts"),
            fs("tmpfs", "/var/run", "/var/run", [.noSuid, .noExec], ["mode=755"]),
            bind("/etc/resolv.conf", "/etc/resolv.conf", ro: true),
        ])
    }

    @Test(arguments: [
        ("", nil), ("   ", nil), ("# comment", nil), ("   # indented comment", nil), ("\t", nil),
        ("proc /proc proc", fs("proc", "proc", "/proc")),
        ("proc\t/proc\tproc\tdefaults\t0\t0", fs("proc", "proc", "/proc")),
        ("proc /proc proc defaults 0 0\r", fs("proc", "proc", "/proc")),
        ("tmpfs /tmp tmpfs size=64m,mode=1777,nodev", fs("tmpfs", "tmpfs", "/tmp", [.noDev], ["size=64m", "mode=1777"])),
        ("tmpfs /t tmpfs ro,noexec,nosuid,nodev", fs("tmpfs", "tmpfs", "/t", [.readOnly, .noExec, .noSuid, .noDev])),
        ("tmpfs /t tmpfs ro,rw", fs("tmpfs", "tmpfs", "/t")),
        ("tmpfs /t tmpfs noexec,exec,nodev,dev,suid", fs("tmpfs", "tmpfs", "/t")),
        ("tmpfs /t tmpfs noatime,nodiratime", fs("tmpfs", "tmpfs", "/t", [.noAtime, .noDirAtime])),
        ("tmpfs /t tmpfs noatime,strictatime", fs("tmpfs", "tmpfs", "/t", [.strictAtime])),
        ("tmpfs /t tmpfs relatime", fs("tmpfs", "tmpfs", "/t", [.relAtime])),
        ("tmpfs /t tmpfs nosymfollow,auto,nouser,_netdev,x-systemd.foo,comment=hi,async,defaults",
         fs("tmpfs", "tmpfs", "/t", [.noSymFollow])),
        ("devpts /dev/pts devpts newinstance,ptmxmode=0666,mode=620", fs("devpts", "devpts", "/dev/pts", [], ["newinstance", "ptmxmode=0666", "mode=620"])),
        ("mqueue /dev/mqueue mqueue defaults", fs("mqueue", "mqueue", "/dev/mqueue")),
        ("/srv /srv none bind", bind("/srv", "/srv")),
        ("/srv /srv none rbind,ro,nosuid", bind("/srv", "/srv", ro: true, [.noSuid])),
        ("/srv /srv none bind,nodev,noexec,noatime", bind("/srv", "/srv", dev: false, [.noExec, .noAtime])),
        ("/srv /srv bind defaults", bind("/srv", "/srv")),
        ("/srv /srv auto bind,nofail", bind("/srv", "/srv", optional: true)),
        ("/srv/a\\040b /mnt/x\\011y none bind", bind("/srv/a b", "/mnt/x\ty")),
        ("/a\\134b /c none bind", bind("/a\\b", "/c")),
        ("proc /x/../proc proc", fs("proc", "proc", "/proc")),
    ] as [(String, SetupOp?)])
    func line(text: String, expected: SetupOp?) throws {
        #expect(try Fstab.operation(line: text) == expected)
    }

    @Test(arguments: [
        ("proc /proc", 1, "missing fields: expected SPEC MOUNTPOINT TYPE"),
        ("proc", 1, "missing fields"),
        ("a b c d 0 0 e", 1, "7 fields, at most 6 (write a space inside a field as \\040)"),
        ("proc /proc proc defaults x", 1, "FREQ 'x' is not a number"),
        ("proc /proc proc defaults 0 y", 1, "PASSNO 'y' is not a number"),
        ("proc proc proc", 1, "mount point 'proc' is not absolute"),
        ("/dev/sda2 none swap sw 0 0", 1, "swap has no place in a chroot"),
        ("proc /../proc proc", 1, "climbs above the new root"),
        ("/a /b none defaults", 1, "type 'none' needs the bind option"),
        ("/a /b none bind,mode=755", 1, "'mode=755' has no meaning for a bind mount"),
        ("tmpfs /t tmpfs nofail", 1, "nofail is only supported on bind mounts"),
        ("tmpfs /t tmpfs noauto", 1, "option 'noauto': every line of a jchroot fstab is mounted"),
        ("tmpfs /t tmpfs sync", 1, "option 'sync'"),
        ("/a /b none bind,shared", 1, "option 'shared': propagation cannot reach the host"),
        ("/a\\04 /b none bind", 1, "a backslash must start a 3-digit octal escape"),
        ("/a\\xyz /b none bind", 1, "3-digit octal escape"),
        ("# ok\n\nproc /proc proc\ntmpfs /t", 4, "missing fields"),
        // Found by scripts/fuzz: NUL bytes, literal or escaped, went into paths and mount data.
        ("tmpfs /t tmpfs siz\0e=64m", 1, "a NUL byte cannot be part of a field"),
        ("/a\\000 /b none bind", 1, "\\000 would put a NUL byte in the field"),
        // A CR LF is one Character: lines are split at LF bytes, so this is line 2.
        ("proc /proc proc\r\nproc proc proc", 2, "mount point 'proc' is not absolute"),
        ("/a /b\\012c none bind,\u{1B}", 1, "'\\u{1B}' has no meaning for a bind mount"),
        ("proc /proc proc defaults 0 0\nproc /proc proc\ndefaults 0 0", 3, "mount point '0' is not absolute"),
    ])
    func rejects(text: String, line: Int, fragment: String) {
        #expect {
            try Fstab.parse(text, file: "/etc/j.fstab")
        } throws: { error in
            guard let e = error as? Fstab.ParseError else { return false }
            #expect(e.file == "/etc/j.fstab" && e.line == line, "\(e)")
            #expect(e.description.hasPrefix("/etc/j.fstab:\(line): "))
            if !e.message.contains(fragment) { Issue.record("message '\(e.message)' lacks '\(fragment)'") }
            return true
        }
    }
}

/// Each compatibility front-end's man page documents every option of its table.
struct CompatibilityManPageTests {
    static func read(_ page: String) throws -> String {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)  // Tests/FrontEndTests/<file>
        let text = try String(contentsOfFile: "/" + parts.joined(separator: "/") + "/docs/" + page, encoding: .utf8)
        return text.replacingOccurrences(of: "\\-", with: "-")  // roff writes "-" in options as "\-"
    }

    @Test func linuxUserChroot() throws {
        let man = try Self.read("linux-user-chroot.1")
        for o in LinuxUserChrootCommandLine.options { #expect(man.contains(o.name), "linux-user-chroot.1 lacks \(o.name)") }
        #expect(man.contains("DIFFERENCES FROM THE ORIGINAL"))
    }

    @Test func jchroot() throws {
        let man = try Self.read("jchroot.1")
        for o in JChrootCommandLine.options {
            #expect(man.contains("--\(o.long)"), "jchroot.1 lacks --\(o.long)")
            if o.short != "\0" { #expect(man.contains("-\(o.short)"), "jchroot.1 lacks -\(o.short)") }
        }
        #expect(man.contains("DIFFERENCES FROM THE ORIGINAL"))
    }
}
