import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// QEMU at execve (a foreign ELF program runs as `qemu-ARCH -0 ARGV0 PROGRAM ARGS`; QEMU's
// own path calls are translated like any other, so it finds the guest's program and
// loader), and AT_HWCAP of PRoot's full `-k` form and the faked ids (AT_UID, AT_EUID,
// AT_GID, AT_EGID, as PRoot's -0 and -i write them) in each new program's auxiliary vector
// at the exec event.

/// What an execve becomes under QEMU: the host program to run, its argv and (PRoot's
/// style) its environment.
struct QemuExec {
    var host: String
    var argv: [ArgItem]
    var environment: [ArgItem]?
}

extension Tracer {
    /// For execEnter: when `head` is a program QEMU runs, how to run it through QEMU; nil for
    /// any other file. The environment is argument `argvArg + 1`.
    func qemuExec(_ t: Tracee, _ regs: Trace.Registers, head: [UInt8], program: GuestPath,
                  argv: [ArgItem]?, argvArg: Int) -> QemuExec? {
        guard let emulator, let q = emulator.qemu else { return nil }
        if q.prootStyle {
            guard q.everythingForeign || !emulator.isHostELF(head) else { return nil }
        } else {
            guard q.target?.matches(elfHeader: head) == true else { return nil }
        }
        guard let old = argv ?? readArgv(t, regs.arg(argvArg), pointerSize: regs.pointerSize) else { return nil }
        var items: [ArgItem] = [.new(q.program)]
        var environment: [ArgItem]?
        if q.prootStyle {
            guard let env = readEnvironment(t, regs.arg(argvArg + 1), pointerSize: regs.pointerSize) else { return nil }
            let (passed, kept) = emulator.passLoaderVariables(env)
            // QEMU itself is a host program: the host's libraries, not the guest's variables.
            environment = kept.map { .existing($0.pointer) } + [.new(emulator.hostLibraryVariable(is32Bit: false))]
            items += q.options.map { .new($0) } + passed.map { .new($0) }
        }
        items += [.new("-0"), old.first ?? .new(program.description), .new(program.description)] + old.dropFirst()
        return QemuExec(host: q.program, argv: items, environment: environment)
    }

    /// For execEnter, PRoot's style: the environment of a host program, whose LD_LIBRARY_PATH
    /// names the host's libraries below /host-rootfs (the guest's own is remembered, and
    /// given back to a guest program it starts); nil when nothing changes.
    func hostProgramEnvironment(_ t: Tracee, _ regs: Trace.Registers, head: [UInt8], argvArg: Int) -> [ArgItem]? {
        guard let emulator, let q = emulator.qemu, q.prootStyle, head.count > 4,
              let env = readEnvironment(t, regs.arg(argvArg + 1), pointerSize: regs.pointerSize) else { return nil }
        let variable = emulator.hostLibraryVariable(is32Bit: head[4] == 1)
        var out: [ArgItem] = []
        var found = false
        for e in env {
            guard e.text.hasPrefix("LD_LIBRARY_PATH=") else { out.append(.existing(e.pointer)); continue }
            if e.text != variable, emulator.guestLibraryVariable == nil { emulator.guestLibraryVariable = e.text }
            if !found { out.append(.new(variable)) }
            found = true
        }
        if !found { out.append(.new(variable)) }
        return out
    }

    /// The tracee's environment array: each entry's pointer and text.
    func readEnvironment(_ t: Tracee, _ address: UInt64, pointerSize: Int = 8) -> [(pointer: UInt64, text: String)]? {
        guard let pointers = readArgv(t, address, pointerSize: pointerSize) else { return nil }
        var out: [(UInt64, String)] = []
        for p in pointers {
            guard case .existing(let at) = p, let bytes = try? Trace.readString(t.pid, at: at, limit: 1 << 17).get() else { return nil }
            out.append((at, String(decoding: bytes, as: UTF8.self)))
        }
        return out
    }
}

extension Emulator {
    /// PRoot's is_host_elf: an ELF file of one of the host's machines runs natively.
    func isHostELF(_ head: [UInt8]) -> Bool {
        guard head.count >= 20, head.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else { return false }
        let machine = head[5] == 1 ? UInt16(head[18]) | UInt16(head[19]) << 8 : UInt16(head[18]) << 8 | UInt16(head[19])
        return Qemu.hostMachines(hostArch: Qemu.hostArchitecture).contains(machine)
    }

    /// `LD_LIBRARY_PATH=...` as PRoot's style gives it to host programs.
    func hostLibraryVariable(is32Bit: Bool) -> String {
        "LD_LIBRARY_PATH=" + Qemu.hostLibraryPath(hostArch: Qemu.hostArchitecture, callerLibraryPath: callerLibraryPath, is32Bit: is32Bit)
    }

    /// The loader's variables of a guest program's environment, as QEMU arguments (`-E
    /// NAME=VALUE`, in PRoot's order; `-U LD_LIBRARY_PATH` without one, as QEMU itself
    /// runs with the host's), and the rest of the environment. LD_LIBRARY_PATH set for a
    /// host program is the guest's own again.
    func passLoaderVariables(_ env: [(pointer: UInt64, text: String)]) -> (arguments: [String], rest: [(pointer: UInt64, text: String)]) {
        var arguments: [String] = []
        var rest: [(pointer: UInt64, text: String)] = []
        var libraryPath = false
        for e in env {
            let name = e.text.prefix { $0 != "=" }
            guard Self.loaderVariables.contains(String(name)) else { rest.append(e); continue }
            var text = e.text
            if name == "LD_LIBRARY_PATH" {
                libraryPath = true
                let injected = [hostLibraryVariable(is32Bit: false), hostLibraryVariable(is32Bit: true)]
                if injected.contains(text), let guest = guestLibraryVariable { text = guest }
            }
            // PRoot inserts each at the same place: the last one first.
            arguments = ["-E", text] + arguments
        }
        if !libraryPath { arguments = ["-U", "LD_LIBRARY_PATH"] + arguments }
        return (arguments, rest)
    }

    /// The variables of the dynamic loader PRoot hands to QEMU (its ldso_env_passthru).
    static let loaderVariables: Set<String> = [
        "LD_LIBRARY_PATH", "LD_PRELOAD", "LD_BIND_NOW", "LD_TRACE_LOADED_OBJECTS", "LD_AOUT_LIBRARY_PATH",
        "LD_AOUT_PRELOAD", "LD_AUDIT", "LD_BIND_NOT", "LD_DEBUG", "LD_DEBUG_OUTPUT", "LD_DYNAMIC_WEAK",
        "LD_HWCAP_MASK", "LD_KEEPDIR", "LD_NOWARN", "LD_ORIGIN_PATH", "LD_POINTER_GUARD", "LD_PROFILE",
        "LD_PROFILE_OUTPUT", "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS", "LD_VERBOSE", "LD_WARN",
    ]
}

extension Emulator {
    static let atHWCAP: UInt64 = 16
    static let atUID: UInt64 = 11, atEUID: UInt64 = 12, atGID: UInt64 = 13, atEGID: UInt64 = 14
    static let atIgnore: UInt64 = 1, atSysinfoEHDR: UInt64 = 33, atRandom: UInt64 = 25

    /// After a successful execve: the ids of a set-id program (`execCredentials`), and the
    /// auxiliary vector's AT_HWCAP as the full `-k` form asks and ids as faked; under a faked
    /// uname the vDSO is not announced (AT_SYSINFO_EHDR becomes AT_IGNORE, as PRoot's -k
    /// has it: its ELF note names the real kernel release). The new program's stack holds
    /// argc, argv, NULL, envp, NULL, then the auxv pairs.
    func execDone(_ t: Tracee) {
        if let c = t.execCredentials { t.credentials = c }
        t.execCredentials = nil
        var values: [UInt64: UInt64] = [:]
        if let hwcap = uname?.hwcap { values[Self.atHWCAP] = hwcap }
        if let c = t.credentials ?? initialCredentials {
            values[Self.atUID] = UInt64(c.ruid)
            values[Self.atEUID] = UInt64(c.euid)
            values[Self.atGID] = UInt64(c.rgid)
            values[Self.atEGID] = UInt64(c.egid)
        }
        let hideVDSO = uname != nil
        guard !values.isEmpty || hideVDSO || appendsRandomVector, var regs = Trace.registers(t.pid) else { return }
        // An i386 program's stack holds 4-byte words.
        let size = regs.runs32BitCode ? 4 : 8
        let w = UInt64(size)
        var at = regs.stackPointer
        func word(_ address: UInt64) -> UInt64? {
            guard let b = Trace.read(t.pid, at: address, count: size) else { return nil }
            return size == 4 ? UInt64(b.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) : b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
        func bytes(_ v: UInt64) -> [UInt8] { Array(withUnsafeBytes(of: v.littleEndian, Array.init).prefix(size)) }
        guard let argc = word(at), argc < 1 << 20 else { return }
        at += w * (argc + 2)  // argc, argv[], NULL
        var n = 0
        while let v = word(at), v != 0, n < 1 << 20 { at += w; n += 1 }
        at += w  // envp's NULL
        var random: UInt64?
        for _ in 0..<64 {
            guard let type = word(at), type != 0 else { break }
            if let v = values[type] { _ = Trace.write(t.pid, at: at + w, bytes(v)) }
            if hideVDSO, type == Self.atSysinfoEHDR {
                _ = Trace.write(t.pid, at: at, bytes(Self.atIgnore) + bytes(0))
            }
            if type == Self.atRandom { random = word(at + w) }
            at += 2 * w
        }
        // PROOT_FORCE_KOMPAT: one more AT_RANDOM before AT_NULL. Everything from argc to
        // there moves down one pair (the stack pointer with it; 16 bytes keep the ABI's
        // alignment); the strings above stay where argv and envp point.
        guard appendsRandomVector, size == 8, let random, word(at) == 0 else { return }
        let start = regs.stackPointer
        guard let block = Trace.read(t.pid, at: start, count: Int(at - start)) else { return }
        let pair = bytes(Self.atRandom) + bytes(random)
        let end = [UInt8](repeating: 0, count: 16)  // AT_NULL
        guard Trace.write(t.pid, at: start - 16, block + pair + end) else { return }
        regs.stackPointer = start - 16
        Trace.setRegisters(t.pid, regs)
    }
}
