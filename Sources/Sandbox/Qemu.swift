/// QEMU user mode as data: which ELF files a `qemu-ARCH` runs (a binfmt_misc entry), how
/// its command-line options travel (binfmt_misc cannot pass arguments, so they become the
/// QEMU_* environment variables QEMU reads instead), and what the guest needs to run host
/// programs natively beside emulated ones.
public enum Qemu {
    /// An ELF target: class, byte order and machine, as `e_ident`/`e_machine` encode them.
    public struct Target: Equatable, Sendable {
        public var arch: String
        public var is64Bit: Bool
        public var littleEndian: Bool
        public var machine: UInt16
    }

    /// QEMU's architecture names (the `ARCH` of `qemu-ARCH`) with their ELF identity.
    static let targets: [Target] = [
        Target(arch: "aarch64", is64Bit: true, littleEndian: true, machine: 183),
        Target(arch: "aarch64_be", is64Bit: true, littleEndian: false, machine: 183),
        Target(arch: "arm", is64Bit: false, littleEndian: true, machine: 40),
        Target(arch: "armeb", is64Bit: false, littleEndian: false, machine: 40),
        Target(arch: "i386", is64Bit: false, littleEndian: true, machine: 3),
        Target(arch: "x86_64", is64Bit: true, littleEndian: true, machine: 62),
        Target(arch: "riscv32", is64Bit: false, littleEndian: true, machine: 243),
        Target(arch: "riscv64", is64Bit: true, littleEndian: true, machine: 243),
        Target(arch: "ppc", is64Bit: false, littleEndian: false, machine: 20),
        Target(arch: "ppc64", is64Bit: true, littleEndian: false, machine: 21),
        Target(arch: "ppc64le", is64Bit: true, littleEndian: true, machine: 21),
        Target(arch: "s390x", is64Bit: true, littleEndian: false, machine: 22),
        Target(arch: "mips", is64Bit: false, littleEndian: false, machine: 8),
        Target(arch: "mipsel", is64Bit: false, littleEndian: true, machine: 8),
        Target(arch: "mips64", is64Bit: true, littleEndian: false, machine: 8),
        Target(arch: "mips64el", is64Bit: true, littleEndian: true, machine: 8),
        Target(arch: "loongarch64", is64Bit: true, littleEndian: true, machine: 258),
        Target(arch: "sparc64", is64Bit: true, littleEndian: false, machine: 43),
        Target(arch: "m68k", is64Bit: false, littleEndian: false, machine: 4),
        Target(arch: "sh4", is64Bit: false, littleEndian: true, machine: 42),
        Target(arch: "hppa", is64Bit: false, littleEndian: false, machine: 15),
        Target(arch: "alpha", is64Bit: true, littleEndian: true, machine: 0x9026),
    ]

    /// The target a QEMU program emulates, from its name: `qemu-arm`, `/usr/bin/qemu-aarch64-static`.
    public static func target(ofProgram program: String) -> Target? {
        var name = Substring(program.split(separator: "/").last ?? "")
        guard name.hasPrefix("qemu-") else { return nil }
        name = name.dropFirst(5)
        if name.hasSuffix("-static") { name = name.dropLast(7) }
        return targets.first { $0.arch == name }
    }

    /// The binfmt_misc registration line for `target` run by the file at `interpreter`:
    /// match the ELF header (executables and shared objects, any OS ABI), `F` (open the
    /// interpreter now: it need not exist inside the new root) and `P` (keep argv[0]).
    public static func registration(name: String, target: Target, interpreter: String) -> String {
        let le = target.littleEndian
        var magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, target.is64Bit ? 2 : 1, le ? 1 : 2, 1]
        magic += [UInt8](repeating: 0, count: 9)
        let type: [UInt8] = le ? [2, 0] : [0, 2]
        let machine: [UInt8] = le ? [UInt8(target.machine & 0xff), UInt8(target.machine >> 8)]
            : [UInt8(target.machine >> 8), UInt8(target.machine & 0xff)]
        magic += type + machine
        var mask = [UInt8](repeating: 0xff, count: 20)
        mask[7] = 0  // EI_OSABI: any
        mask[le ? 16 : 17] = 0xfe  // ET_EXEC (2) and ET_DYN (3)
        func hex(_ bytes: [UInt8]) -> String {
            bytes.map { b in
                let digits = String(b, radix: 16)
                return "\\x" + (digits.count == 1 ? "0" + digits : digits)
            }.joined()
        }
        return ":\(name):M::\(hex(magic)):\(hex(mask)):\(interpreter):FP"
    }

    /// QEMU's options and the environment variables that mean the same (qemu-user reads
    /// these when it is started by binfmt_misc, which passes no arguments).
    static let optionVariables: [(option: String, variable: String, takesValue: Bool)] = [
        ("-g", "QEMU_GDB", true), ("-L", "QEMU_LD_PREFIX", true), ("-s", "QEMU_STACK_SIZE", true),
        ("-cpu", "QEMU_CPU", true), ("-E", "QEMU_SET_ENV", true), ("-U", "QEMU_UNSET_ENV", true),
        ("-B", "QEMU_GUEST_BASE", true), ("-R", "QEMU_RESERVED_VA", true), ("-d", "QEMU_LOG", true),
        ("-D", "QEMU_LOG_FILENAME", true), ("-p", "QEMU_PAGESIZE", true), ("-seed", "QEMU_RAND_SEED", true),
        ("-plugin", "QEMU_PLUGIN", true), ("-dfilter", "QEMU_DFILTER", true),
        ("-strace", "QEMU_STRACE", false), ("-one-insn-per-tb", "QEMU_ONE_INSN_PER_TB", false),
        ("-singlestep", "QEMU_SINGLESTEP", false),
    ]

    public struct OptionError: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The environment that carries `options` (the words after the QEMU program). `-E`
    /// and `-U` may repeat: their values are joined with commas, as QEMU expects.
    public static func environment(for options: [String]) throws(OptionError) -> [(String, String)] {
        var result: [(String, String)] = []
        var i = 0
        while i < options.count {
            let word = options[i].hasPrefix("--") ? String(options[i].dropFirst()) : options[i]
            guard let entry = optionVariables.first(where: { $0.option == word }) else {
                throw OptionError(message: "QEMU option '\(options[i])' has no environment equivalent, and binfmt_misc passes no arguments")
            }
            var value = "1"
            if entry.takesValue {
                guard i + 1 < options.count else { throw OptionError(message: "QEMU option '\(options[i])' needs a value") }
                value = options[i + 1]
                i += 1
            }
            if let at = result.firstIndex(where: { $0.0 == entry.variable }), ["-E", "-U"].contains(word) {
                result[at].1 += "," + value
            } else {
                result.removeAll { $0.0 == entry.variable }
                result.append((entry.variable, value))
            }
            i += 1
        }
        return result
    }

    /// What binfmt_misc needs of `qemu`: a qemu-ARCH program, and its options as the QEMU_*
    /// variables of the guest's environment.
    public static func binfmtEnvironment(_ qemu: QemuEmulation) throws(OptionError) -> [EnvOp] {
        let program = qemu.command.first ?? ""
        guard target(ofProgram: program) != nil else {
            let known = targets.map(\.arch).joined(separator: ", ")
            throw OptionError(message: "'\(program)' is not a QEMU user-mode program (qemu-ARCH with ARCH one of \(known))")
        }
        return try environment(for: Array(qemu.command.dropFirst())).map { EnvOp.set($0.0, $0.1) }
    }

    /// PRoot's host machines for this host (`is_host_elf`): an ELF file of one of these runs
    /// natively, anything else through QEMU.
    public static func hostMachines(hostArch: String) -> [UInt16] {
        switch hostArch {
        case "x86_64": return [62, 3, 6]  // x86-64, i386, i486/IAMCU
        case "aarch64": return [183]
        default: return []
        }
    }

    /// The host library directories a host program finds below /host-rootfs in PRoot's
    /// style (PRoot's rebuild_host_ldso_paths, without RPATH and RUNPATH): the caller's
    /// LD_LIBRARY_PATH (or `/`) and the usual ones, each below /host-rootfs.
    public static func hostLibraryPath(hostArch: String, callerLibraryPath: String?, is32Bit: Bool) -> String {
        var paths = (callerLibraryPath ?? "/").split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (hostArch, is32Bit) {
        case ("x86_64", true): paths += ["/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib32", "/usr/lib32", "/usr/local/lib32"]
        case ("x86_64", false): paths += ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/usr/local/lib64"]
        case ("aarch64", _): paths += ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/usr/local/lib64"]
        default: break
        }
        paths += ["/lib", "/usr/lib", "/usr/local/lib"]
        return paths.map { $0.hasPrefix("/") ? hostRootfs.description + $0 : $0 }.joined(separator: ":")
    }

    /// The architecture Burrow was built for (QEMU's name for it).
    public static var hostArchitecture: String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "aarch64"
        #else
        return "unknown"
        #endif
    }

    /// Where the host's root appears in the guest, as PRoot has it.
    public static let hostRootfs = GuestPath(components: ["host-rootfs"])

    /// Host programs run natively in the guest (from /host-rootfs or bound in): their
    /// dynamic loader and libraries must be found at the host's paths. These are named after
    /// the host's own architecture, so a foreign guest has nothing at those paths; they are
    /// bound only when present on the host.
    public static func nativeRuntimePaths(hostArch: String) -> [String] {
        switch hostArch {
        case "x86_64":
            return ["/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]
        case "aarch64":
            return ["/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]
        default:
            return []
        }
    }

    /// The setup QEMU emulation adds to a spec: the host root at /host-rootfs, the host's
    /// native runtime, and QEMU's options as environment (but in PRoot's style, where they
    /// stay arguments: `QemuEmulation.prootStyle`). Shared by every front-end.
    public static func apply(_ command: [String], to spec: inout SandboxSpec, hostArch: String,
                             prootStyle: Bool = false, everythingForeign: Bool = false) throws(OptionError) {
        guard let program = command.first, !program.isEmpty else {
            throw OptionError(message: "the QEMU command is empty")
        }
        var qemu = QemuEmulation(command: command)
        qemu.prootStyle = prootStyle
        qemu.everythingForeign = everythingForeign
        if !prootStyle { spec.process.environment += try binfmtEnvironment(qemu) }
        spec.emulation.qemu = qemu
        // A rootfs the caller cannot write to (and that lacks these mount points) still runs
        // its own programs: only mixed execution is lost then (-v says so).
        var hostRoot = BindMount(source: HostPath("/"), destination: hostRootfs, allowDevices: true)
        hostRoot.optionalDestination = true
        spec.operations.append(.bind(hostRoot))
        for path in nativeRuntimePaths(hostArch: hostArch) {
            guard let guest = try? GuestPath(parsing: path) else { continue }
            var runtime = BindMount(source: HostPath(path), destination: guest, readOnly: true, optional: true)
            runtime.optionalDestination = true
            spec.operations.append(.bind(runtime))
        }
    }
}

extension Qemu.Target {
    /// Whether an ELF header (at least 20 bytes) is a program of this target: class, byte
    /// order and machine match.
    public func matches(elfHeader h: [UInt8]) -> Bool {
        guard h.count >= 20, h[0] == 0x7f, h[1] == 0x45, h[2] == 0x4c, h[3] == 0x46 else { return false }
        guard h[4] == (is64Bit ? 2 : 1), h[5] == (littleEndian ? 1 : 2) else { return false }
        let m = littleEndian ? UInt16(h[18]) | UInt16(h[19]) << 8 : UInt16(h[18]) << 8 | UInt16(h[19])
        return m == machine
    }
}
