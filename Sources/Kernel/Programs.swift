import Glibc

/// fcntl's command that sets a pipe's capacity (linux/fcntl.h; Glibc's module lacks it).
private let F_SETPIPE_SZ: Int32 = 1031

extension Proc {
    /// How a program run to its end (`runProgram`) ended.
    public enum ProgramEnd: Equatable, Sendable {
        case exited(Exit)
        /// Still running after this many seconds: killed (SIGKILL) and reaped.
        case timedOut(Int)

        /// What went wrong, in words naming the program as `what`; nil for a status of 0.
        public func failure(of what: String) -> String? {
            switch self {
            case .exited(.exited(0)): return nil
            case .exited(.exited(let code)): return "\(what) failed with status \(code)"
            case .exited(.signaled(let sig)): return "\(what) was killed by signal \(sig)"
            case .timedOut(let seconds): return "\(what) was still running after its timeout of \(seconds) s: killed"
            }
        }
    }

    /// Runs the host program `path` (argv and environment as given, nothing inherited but
    /// standard output and error) with `input` on its standard input, and waits for it:
    /// burrow-oci's hooks. The input is put into the pipe before the program starts (the
    /// pipe is grown to hold it), so that a program that does not read it cannot block or
    /// kill (SIGPIPE) the caller. `timeout`: seconds until it is killed.
    public static func runProgram(_ path: String, argv: [String], environment: [String], input: [UInt8],
                                  timeout: Int?) throws(SysError) -> ProgramEnd {
        let (read, write) = try Files.pipe()
        defer { Files.close(read) }
        if input.count > 65_536 { _ = fcntl(write, F_SETPIPE_SZ, Int32(clamping: input.count)) }
        do { try Files.writeAll(write, input, what: "the standard input of \(path)") } catch {
            Files.close(write)
            throw error
        }
        Files.close(write)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, read, 0)
        let cArgs = (argv.isEmpty ? [path] : argv).map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        // The caller's blocked signals (Burrow's processes block those they take) are the
        // program's own business: none blocked, each at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = Signals.set(Signals.handled)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv)
        if rc != 0 { throw SysError("run", path, errno: .init(rawValue: rc)) }
        guard let timeout else {
            return .exited(wait(pid, noHang: false) ?? .exited(255))
        }
        // Polled: a hook is short, and this keeps the runtime single-threaded without a
        // signal handler.
        var waited = 0
        while waited < timeout * 100 {
            if let exit = wait(pid, noHang: true) { return .exited(exit) }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
            waited += 1
        }
        kill(pid, SIGKILL)
        _ = wait(pid, noHang: false)
        return .timedOut(timeout)
    }
}
