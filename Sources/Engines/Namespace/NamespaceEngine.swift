import BurrowKernel
import BurrowSpec
import Glibc

/// Realises a `SandboxSpec` with unprivileged user namespaces: native speed, no privilege.
/// This file is the supervisor, the process the user started: it checks what it can
/// before anything is created, starts the cleaner and the sandbox, writes the id maps,
/// reports failures, forwards signals and returns the command's status.
public enum NamespaceEngine {
    /// Runs the sandbox and returns burrow's exit status. Errors are printed to stderr.
    public static func run(_ spec: SandboxSpec) -> Int32 {
        do {
            return try supervise(spec)
        } catch {
            report(error.message)
            return error.status
        }
    }

    static func report(_ message: String) {
        _ = try? Files.writeAll(2, Array("burrow: \(message)\n".utf8), what: "stderr")
    }

    private static func supervise(_ spec: SandboxSpec) throws(Failure) -> Int32 {
        let log = Log(enabled: spec.verbose)
        let me = getpid()
        // Fail early, before any process or namespace exists, on what the host can tell.
        do throws(SysError) {
            let st = try Files.stat(spec.root.path.string, at: Files.cwd, follow: true)
            if st.st_mode & S_IFMT != S_IFDIR { throw SysError("rootfs", spec.root.path.string, errno: .notDirectory) }
        } catch {
            throw Failure(SysError("rootfs", spec.root.path.string, errno: error.errno))
        }
        if spec.process.dieWithParent {
            let parent = getppid()
            guard (try? Proc.dieWithParent(SIGKILL, expectedParent: parent)) == true else { return 128 + SIGKILL }
        }

        // Signals are taken over before the first fork, so none is lost in between.
        let callerMask = Signals.takeOver()
        var ch = Channels()
        var cleanerEntries: [Cleaner.Entry] = []
        var pidFile: Int32 = -1
        do throws(SysError) {
            (ch.errorRead, ch.errorWrite) = try Files.pipe()
            (ch.readyRead, ch.readyWrite) = try Files.pipe()
            (ch.goRead, ch.goWrite) = try Files.pipe()
            if let path = spec.process.pidFile {
                (ch.pidSupervisor, ch.pidCommand) = try Files.socketPair(Int32(SOCK_DGRAM.rawValue))
                var on: Int32 = 1
                if setsockopt(ch.pidSupervisor, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    throw SysError.last("setsockopt", "SO_PASSCRED")
                }
                let (dir, name) = split(path.string)
                let dirfd: Int32
                do {
                    dirfd = try Files.open(dir, O_PATH | O_DIRECTORY)
                    pidFile = try Files.open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644, at: dirfd)
                } catch {
                    throw SysError("open pid file", path.string, errno: error.errno)
                }
                let st = try Files.stat(name, at: dirfd)
                cleanerEntries.append(Cleaner.Entry(parent: dirfd, name: name, kind: .pidFile,
                                                    inode: UInt64(st.st_ino), device: UInt64(st.st_dev)))
            }
            if needsCleaner(spec) {
                (ch.cleanerSide, ch.cleanerSandbox) = try Files.socketPair(Int32(SOCK_SEQPACKET.rawValue))
            }
        } catch {
            throw Failure(error)
        }

        var cleaner: pid_t = -1
        if ch.cleanerSide >= 0 {
            do { cleaner = try Proc.fork("cleaner") } catch { throw Failure(error) }
            if cleaner == 0 {
                for fd in [ch.errorRead, ch.errorWrite, ch.readyRead, ch.readyWrite, ch.goRead, ch.goWrite,
                           ch.pidSupervisor, ch.pidCommand, ch.cleanerSandbox, pidFile] { Files.close(fd) }
                Cleaner.run(ch.cleanerSide, initial: cleanerEntries)
            }
            Files.close(ch.cleanerSide)
        }
        for e in cleanerEntries { Files.close(e.parent) }

        let maps = IDMaps(identity: spec.identity, hostUid: getuid(), hostGid: getgid())
        let leader: pid_t
        do { leader = try Proc.fork("sandbox") } catch { throw Failure(error) }
        if leader == 0 {
            for fd in [ch.errorRead, ch.readyRead, ch.goWrite, ch.pidSupervisor, pidFile] { Files.close(fd) }
            Sandbox(spec: spec, maps: maps, channels: ch, callerMask: callerMask, supervisor: me, log: log).lead()
        }
        for fd in [ch.errorWrite, ch.readyWrite, ch.goRead, ch.pidCommand, ch.cleanerSandbox] { Files.close(fd) }

        // The leader has unshared: write its maps, then let it go on.
        let ready = (try? Files.readAll(ch.readyRead, limit: 1)) ?? []
        Files.close(ch.readyRead)
        var failure: Failure?
        if ready == [1] {
            do {
                try maps.write(for: leader, log: log)
                _ = try? Files.writeAll(ch.goWrite, [1], what: "go pipe")
            } catch {
                failure = error
                Proc.kill(leader, SIGKILL)
            }
        }
        Files.close(ch.goWrite)

        // EOF: the command is running. A message: setup or exec failed, and why.
        let message = (try? Files.readAll(ch.errorRead)) ?? []
        Files.close(ch.errorRead)
        if failure == nil, let f = Failure(decoding: message) { failure = f }
        if let f = failure { report(f.message) }

        if failure == nil, pidFile >= 0 {
            if let pid = Files.receiveSenderPid(ch.pidSupervisor) {
                _ = try? Files.writeAll(pidFile, Array("\(pid)\n".utf8), what: spec.process.pidFile?.string ?? "")
            }
        }
        Files.close(pidFile)
        Files.close(ch.pidSupervisor)

        var status = forward(to: leader, newSession: spec.process.newSession)
        if let f = failure, f.status != 0 { status = f.status }
        if cleaner > 0 { _ = Proc.wait(cleaner, noHang: false) }
        return status
    }

    /// Forwards signals to the leader until it exits; returns its status.
    private static func forward(to leader: pid_t, newSession: Bool) -> Int32 {
        if let (_, e) = Proc.wait(leader, noHang: true) { return e.status }
        while true {
            let r = Signals.wait()
            if r.signal == SIGCHLD {
                if let (_, e) = Proc.wait(leader, noHang: true) { return e.status }
                continue
            }
            if !Signals.isFromTerminal(r) || newSession { Proc.kill(leader, r.signal) }
        }
    }

    /// Only a spec that can create something on the host needs the cleaner process.
    static func needsCleaner(_ spec: SandboxSpec) -> Bool {
        spec.process.pidFile != nil || !spec.operations.isEmpty
    }

    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
}
