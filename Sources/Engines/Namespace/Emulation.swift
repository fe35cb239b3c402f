import BurrowKernel
import BurrowSandbox
import Glibc

/// QEMU user mode through the user namespace's own binfmt_misc instance: the kernel then
/// runs foreign ELF files through QEMU by itself, with no tracing. Runs in the init, before
/// the pivot, while the host's QEMU can still be found and opened (flag F).
enum QemuSetup {
    /// Registers QEMU for its target and returns the binfmt_misc mount, which must stay
    /// open while the sandbox runs: the entries live as long as that instance.
    static func register(_ qemu: QemuEmulation, log: Log) throws(SysError) -> Int32 {
        let program = qemu.command[0]
        guard let target = Qemu.target(ofProgram: program) else {
            throw SysError("qemu", program, errno: .invalidArgument, hint: "name a qemu-ARCH user-mode program")
        }
        let path = try locate(program)
        let fs: Mounts.FilesystemContext
        do {
            fs = try Mounts.FilesystemContext("binfmt_misc", what: "binfmt_misc")
        } catch {
            var e = error
            e.hint = "running foreign programs needs a binfmt_misc instance of the sandbox's own (Linux 6.7 or later)"
            throw e
        }
        let mount = try fs.mount([.noSuid, .noDev, .noExec])
        let register = try Files.open("register", O_WRONLY, at: mount)
        defer { Files.close(register) }
        let line = Qemu.registration(name: "burrow-qemu-\(target.arch)", target: target, interpreter: path)
        do {
            try Files.writeAll(register, Array(line.utf8), what: "binfmt_misc register")
        } catch {
            throw SysError("register \(path) for \(target.arch) programs", "binfmt_misc", errno: error.errno,
                           hint: error.errno == .fileExists ? nil : "the QEMU program must be executable by you")
        }
        log.step("binfmt_misc: \(target.arch) ELF files run through \(path) (flags FP)")
        return mount
    }

    /// The QEMU program on the host: as given when it has a `/`, else in the caller's PATH;
    /// `qemu-ARCH-static` (Debian's qemu-user-static) stands in for a missing `qemu-ARCH`.
    static func locate(_ program: String) throws(SysError) -> String {
        if program.contains("/") { return program }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for name in [program, program + "-static"] {
            for dir in path.split(separator: ":") where dir.hasPrefix("/") {
                let candidate = "\(dir)/\(name)"
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        throw SysError("find QEMU", program, errno: .noSuchFileOrDirectory,
                       hint: "install it (Debian: apt-get install qemu-user-static) or give its full path")
    }
}
