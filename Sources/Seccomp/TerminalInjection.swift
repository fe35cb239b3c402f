/// Typing into the caller's terminal from inside the sandbox. Unless the command runs in a
/// session of its own, its stdin is often the terminal of the shell that started burrow:
/// `ioctl(0, TIOCSTI, &c)` pushes `c` into that terminal's input queue, and the shell reads
/// and runs it once burrow has exited (CVE-2017-5226 is bubblewrap's record of it).
/// TIOCLINUX does the same on a virtual console (TIOCL_PASTESEL pastes the selection).
///
/// Both are refused with EPERM on every engine unless the spec allows them
/// (`Security.allowTerminalInjection`): the namespace engine and setuid mode add `rule` to
/// the command's filter (`SeccompProfiles.filter`), the ptrace engine to its trace filter.
public enum TerminalInjection {
    // From the kernel's UAPI headers (asm-generic/ioctls.h; the same on x86 and arm).
    public static let TIOCSTI: UInt64 = 0x5412
    public static let TIOCLINUX: UInt64 = 0x541C

    /// `ioctl(fd, TIOCSTI or TIOCLINUX, ...)` fails with EPERM. Only the low 32 bits of the
    /// request are compared: the kernel takes it as `unsigned int cmd`, so `TIOCSTI | 1 << 32`
    /// is TIOCSTI to the kernel, and a 64-bit compare would let it through (bubblewrap's
    /// second fix for CVE-2017-5226).
    ///
    /// A descriptor whose low 32 bits are negative as an int is let through: the kernel takes
    /// it as `unsigned int fd`, no process can hold one that large (fs.nr_open stops below
    /// 2^31), so the kernel answers EBADF before it looks at the request, and no terminal is
    /// reached. A program that probes with `ioctl(-1, TIOCSTI, ...)` sees the kernel's own
    /// error, as it would outside (bubblewrap's test-seccomp.py does exactly that).
    public static let rule = SeccompRule(
        "ioctl", where: [.arg(0, .below(noDescriptor), width: .low32),
                         .arg(1, .in([TIOCSTI, TIOCLINUX]), width: .low32)],
        .errno(SeccompErrno.EPERM))

    /// The first `unsigned int fd` no process can have: 2^31.
    public static let noDescriptor: UInt64 = 0x8000_0000

    /// The command's filter when no profile is asked for: the rule alone, on every ABI the
    /// machine runs natively (on x86_64 the i386 ABI too, under its own ioctl number).
    ///
    /// x32 has its own ioctl number and no table here: refused as a whole, as every profile
    /// does. Kernels that run x32 programs at all are rare (no major distribution enables
    /// it by default), and letting x32 through would let TIOCSTI through on those that do.
    /// 32-bit arm programs on an arm64 host have no table either; they are allowed, since
    /// refusing them would break every armhf rootfs: there `--new-session` is what keeps
    /// them off the caller's terminal.
    public static func filter(architectures: [Architecture]) -> SeccompFilter {
        SeccompFilter(
            defaultAction: .allow, rules: [rule], architectures: architectures,
            x32Action: .errno(SeccompErrno.EPERM), otherArchitectureAction: .allow)
    }
}
