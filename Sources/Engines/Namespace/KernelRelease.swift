import BurrowKernel
import BurrowSeccomp
import BurrowSandbox
import Glibc

/// A fake kernel release (`--kernel-release`, PRoot's `-k`) on the namespace engine: the
/// init installs a filter that hands every `uname` of the sandbox to a responder process
/// through seccomp user notification; the responder fills in the caller's `struct utsname`
/// with the real fields but those `FakeUname` sets (the release, or with PRoot's full form
/// every field; AT_HWCAP is not changed on this engine). /proc/sys/kernel/osrelease is covered by a bind
/// (see `Filesystem`).
enum KernelRelease {
    /// `uname` on every ABI this machine runs natively (x86_64: also i386's `newuname` and
    /// x32's); their `struct new_utsname` is the same six 65-byte fields.
    static var filter: SeccompFilter {
        var f = SeccompFilter(defaultAction: .allow, rules: [SeccompRule("uname", .userNotify)], flags: [.newListener])
        f.x32Action = .allow
        f.otherArchitectureAction = .allow
        return f
    }

    static let fieldLength = 65

    /// Installs the filter on the init itself before the command is started, so the command
    /// and everything it starts inherit it. Returns the listener. The init sets no_new_privs
    /// first: in setuid mode it has no capability left by now, and the command gets
    /// no_new_privs anyway (the init itself never execs).
    static func install() throws(SysError) -> Int32 {
        let program: [BPFInstruction]
        do { program = try filter.compile() } catch {
            throw SysError("compile the uname filter", errno: .invalidArgument, hint: error.message)
        }
        try Proc.setNoNewPrivileges()
        return try Proc.installSeccomp(program.map { ($0.code, $0.jt, $0.jf, $0.k) },
                                       flags: SeccompInstallFlags.newListener.rawValue)
    }

    /// The responder: a child of the init, in the sandbox's PID namespace (so the pids in
    /// requests are its own). Answers until no process uses the filter any more, or it is
    /// killed with the rest of the sandbox.
    static func serve(listener: Int32, uname fake: FakeUname) -> Never {
        while true {
            guard let request = try? SeccompNotify.receive(listener) else { Proc.exit(0) }
            var names = utsname()
            guard uname(&names) == 0 else {
                SeccompNotify.respond(listener, id: request.id, error: errno)
                continue
            }
            var bytes = withUnsafeBytes(of: &names) { Array($0) }
            // struct utsname: sysname, nodename, release, version, machine, domainname.
            fake.apply(toUtsname: &bytes)
            let size = min(bytes.count, 6 * fieldLength)
            // The pid may be reused if the caller died meanwhile: check, then write.
            guard SeccompNotify.isWaiting(listener, id: request.id) else { continue }
            do {
                try SeccompNotify.writeMemory(pid: request.pid, address: request.args[0], Array(bytes[..<size]))
                SeccompNotify.respond(listener, id: request.id, value: 0)
            } catch {
                SeccompNotify.respond(listener, id: request.id, error: error.errno.rawValue)
            }
        }
    }
}
