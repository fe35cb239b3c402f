import Testing
@testable import BurrowSandbox

/// The bytes of a binfmt_misc `\xNN` string.
private func bytes(_ escaped: Substring) -> [UInt8] {
    escaped.split(separator: "\\", omittingEmptySubsequences: true).compactMap { part in
        guard part.hasPrefix("x") else { return nil }
        return UInt8(part.dropFirst(), radix: 16)
    }
}

/// `:name:type:offset:magic:mask:interpreter:flags`
private func fields(_ line: String) -> [Substring] {
    line.split(separator: ":", omittingEmptySubsequences: false)
}

struct QemuTests {
    /// QEMU's own registrations, as Debian's qemu-user-static installs them in
    /// /usr/lib/binfmt.d (qemu's scripts/qemu-binfmt-conf.sh): magic and mask.
    static let qemuOwn: [(arch: String, magic: String, mask: String)] = [
        ("aarch64",
         #"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"#,
         #"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"#),
        ("s390x",
         #"\x7f\x45\x4c\x46\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x16"#,
         #"\xff\xff\xff\xff\xff\xff\xff\xfc\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff"#),
        ("ppc64",
         #"\x7f\x45\x4c\x46\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x15"#,
         #"\xff\xff\xff\xff\xff\xff\xff\xfc\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff"#),
        ("arm",
         #"\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00"#,
         #"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"#),
    ]

    @Test(arguments: qemuOwn.map(\.arch))
    func registrationMatchesQemusOwn(arch: String) throws {
        let own = try #require(Self.qemuOwn.first { $0.arch == arch })
        let target = try #require(Qemu.target(ofProgram: "qemu-\(arch)"))
        let line = Qemu.registration(name: "burrow-qemu-\(arch)", target: target, interpreter: "/usr/bin/qemu-\(arch)-static")
        let f = fields(line)
        #expect(f.count == 8, "\(line)")
        guard f.count == 8 else { return }
        #expect(f[0] == "" && f[1] == "burrow-qemu-\(arch)" && f[2] == "M" && f[3] == "")
        #expect(f[6] == "/usr/bin/qemu-\(arch)-static")
        // F: the interpreter is opened now (it need not exist in the new root); P: argv[0] kept.
        #expect(f[7] == "FP")
        let (magic, mask) = (bytes(f[4]), bytes(f[5]))
        let (qMagic, qMask) = (bytes(Substring(own.magic)), bytes(Substring(own.mask)))
        #expect(magic.count == 20 && mask.count == 20 && qMagic.count == 20 && qMask.count == 20)
        guard magic.count == 20, mask.count == 20 else { return }
        for i in 0..<20 {
            if i == 7 {
                // EI_OSABI: QEMU ignores it (0x00) or some of it (0xfc); Burrow ignores all of it.
                #expect(mask[i] == 0, "byte 7 (EI_OSABI) mask")
                #expect(mask[i] & ~qMask[i] == 0)
            } else {
                #expect(mask[i] == qMask[i], "mask byte \(i): \(mask[i]) vs QEMU's \(qMask[i])")
                #expect(magic[i] & mask[i] == qMagic[i] & qMask[i], "magic byte \(i): \(magic[i]) vs QEMU's \(qMagic[i])")
            }
        }
        if arch == "aarch64" || arch == "arm" {
            #expect(magic == qMagic && mask == qMask, "identical to QEMU's for \(arch)")
        }
    }

    @Test("The registration matches executables and shared objects of the target, nothing else")
    func maskAcceptsExecAndDyn() throws {
        let t = try #require(Qemu.target(ofProgram: "qemu-s390x"))
        let f = fields(Qemu.registration(name: "x", target: t, interpreter: "/q"))
        let (magic, mask) = (bytes(f[4]), bytes(f[5]))
        func matches(_ header: [UInt8]) -> Bool { (0..<20).allSatisfy { header[$0] & mask[$0] == magic[$0] & mask[$0] } }
        var header: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 2, 1, 3] + [UInt8](repeating: 0, count: 8) + [0, 2, 0, 22]
        #expect(matches(header))  // ET_EXEC, Linux ABI
        header[17] = 3
        #expect(matches(header))  // ET_DYN
        header[17] = 1
        #expect(!matches(header))  // ET_REL
        header[17] = 2
        header[19] = 21
        #expect(!matches(header))  // ppc64
        header[19] = 22
        header[5] = 1
        #expect(!matches(header))  // little-endian
    }

    @Test(arguments: [
        ("qemu-aarch64", "aarch64"), ("qemu-aarch64-static", "aarch64"), ("/usr/bin/qemu-aarch64-static", "aarch64"),
        ("./qemu-arm", "arm"), ("qemu-s390x", "s390x"), ("qemu-x86_64", "x86_64"), ("qemu-mips64el-static", "mips64el"),
        ("/opt/q/bin/qemu-riscv64", "riscv64"),
    ])
    func targetOfProgram(program: String, arch: String) {
        #expect(Qemu.target(ofProgram: program)?.arch == arch)
    }

    @Test(arguments: ["emacs", "qemu-", "qemu-z80", "qemu-system-aarch64", "/usr/bin/qemu-aarch64/x", "", "qemu-aarch64-static-static",
                      "qemu-aarch64.static"])
    func notAQemuProgram(program: String) {
        #expect(Qemu.target(ofProgram: program) == nil)
    }

    @Test func targetIdentity() throws {
        let a = try #require(Qemu.target(ofProgram: "qemu-aarch64"))
        #expect(a == Qemu.Target(arch: "aarch64", is64Bit: true, littleEndian: true, machine: 183))
        let s = try #require(Qemu.target(ofProgram: "qemu-s390x"))
        #expect(s == Qemu.Target(arch: "s390x", is64Bit: true, littleEndian: false, machine: 22))
    }

    @Test(arguments: [
        ([String](), [(String, String)]()),
        (["-g", "1234"], [("QEMU_GDB", "1234")]),
        (["--g", "1234"], [("QEMU_GDB", "1234")]),
        (["-strace"], [("QEMU_STRACE", "1")]),
        (["-L", "/usr/gnemul", "-cpu", "cortex-a53", "-strace"],
         [("QEMU_LD_PREFIX", "/usr/gnemul"), ("QEMU_CPU", "cortex-a53"), ("QEMU_STRACE", "1")]),
        (["-E", "A=1", "-E", "B=2", "-U", "C", "-U", "D"], [("QEMU_SET_ENV", "A=1,B=2"), ("QEMU_UNSET_ENV", "C,D")]),
        // Other options repeated: the last one counts, as on QEMU's command line.
        (["-cpu", "a", "-cpu", "b"], [("QEMU_CPU", "b")]),
        (["-E", "A=1", "-g", "1", "-E", "B=2"], [("QEMU_SET_ENV", "A=1,B=2"), ("QEMU_GDB", "1")]),
    ])
    func environment(options: [String], expected: [(String, String)]) throws {
        let env = try Qemu.environment(for: options)
        #expect(env.map(\.0) == expected.map(\.0))
        #expect(env.map(\.1) == expected.map(\.1))
    }

    @Test(arguments: [
        (["-bogus"], "'-bogus' has no environment equivalent"),
        (["-g"], "'-g' needs a value"),
        (["-strace", "-E"], "'-E' needs a value"),
        (["1234"], "'1234' has no environment equivalent"),
    ])
    func badOptions(options: [String], message: String) {
        #expect {
            try Qemu.environment(for: options)
        } throws: { error in
            (error as? Qemu.OptionError)?.message.contains(message) == true
        }
    }

    @Test func applyAddsHostRootfsAndNativeRuntime() throws {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/srv/arm")))
        try Qemu.apply(["qemu-aarch64", "-g", "1"], to: &spec, hostArch: "x86_64")
        #expect(spec.emulation.qemu == QemuEmulation(command: ["qemu-aarch64", "-g", "1"]))
        #expect(spec.process.environment == [.set("QEMU_GDB", "1")])
        let dests = spec.operations.map(\.destination.description)
        #expect(dests == ["/host-rootfs", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"])
        guard case .bind(let hostRoot) = spec.operations.first else { return }
        #expect(hostRoot.source == HostPath("/") && !hostRoot.readOnly && !hostRoot.optional && hostRoot.optionalDestination)
        for op in spec.operations.dropFirst() {
            guard case .bind(let b) = op else { continue }
            #expect(b.readOnly && b.optional && b.optionalDestination && b.source.string == b.destination.description)
        }
    }

    @Test func applyRejectsNonQemu() {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/r")))
        #expect(throws: Qemu.OptionError.self) { try Qemu.apply(["bash"], to: &spec, hostArch: "x86_64") }
        #expect(throws: Qemu.OptionError.self) { try Qemu.apply([], to: &spec, hostArch: "x86_64") }
        #expect(spec.emulation.qemu == nil && spec.operations.isEmpty)
    }

    @Test("PRoot's style: any program, its options kept as arguments (binfmt_misc's variables made only when asked)")
    func prootStyle() throws {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/r")))
        try Qemu.apply(["echo", "--"], to: &spec, hostArch: "x86_64", prootStyle: true, everythingForeign: true)
        #expect(spec.emulation.qemu?.prootStyle == true && spec.emulation.qemu?.everythingForeign == true)
        #expect(spec.process.environment.isEmpty)
        #expect(throws: Qemu.OptionError.self) { try Qemu.binfmtEnvironment(QemuEmulation(command: ["echo", "--"])) }
        #expect(try Qemu.binfmtEnvironment(QemuEmulation(command: ["qemu-arm", "-cpu", "max"])) == [.set("QEMU_CPU", "max")])
    }

    @Test("Host programs find the host's libraries below /host-rootfs, as PRoot's rebuild_host_ldso_paths (without RPATH)")
    func hostLibraryPath() {
        let path = Qemu.hostLibraryPath(hostArch: "x86_64", callerLibraryPath: nil, is32Bit: false)
        #expect(path.hasPrefix("/host-rootfs/:/host-rootfs/lib/x86_64-linux-gnu:/host-rootfs/usr/lib/x86_64-linux-gnu:"))
        #expect(path.hasSuffix(":/host-rootfs/lib:/host-rootfs/usr/lib:/host-rootfs/usr/local/lib"))
        #expect(Qemu.hostLibraryPath(hostArch: "x86_64", callerLibraryPath: "rel:/abs", is32Bit: true)
            .hasPrefix("rel:/host-rootfs/abs:/host-rootfs/lib/i386-linux-gnu:"))
        #expect(Qemu.hostMachines(hostArch: "x86_64") == [62, 3, 6])
    }
}
