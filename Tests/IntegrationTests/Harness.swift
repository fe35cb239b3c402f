// The integration-test harness: runs the real `burrow` binary as an unprivileged user on a
// busybox rootfs and looks at what the sandboxed command saw.
//
// Processes are started with posix_spawn (never fork) rather than Foundation's Process:
// Process passes on the signal mask of the thread that starts it, and Swift concurrency's
// worker threads block SIGTERM, SIGINT, SIGHUP... A child started like that would ignore
// the very signals the signal-forwarding tests send. posix_spawn lets us reset the mask and
// the dispositions, close every inherited descriptor, and pick the working directory.
//
// Output goes to temporary files, not pipes: nothing can deadlock on a full pipe, and a
// process that inherits a descriptor by mistake cannot hold another test's read open.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: - Configuration

enum Harness {
    /// The package root, found from this file's path: Tests/IntegrationTests/Harness.swift.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `BURROW_BIN` (scripts/test points it at the static release build), else the release
    /// build in this package.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["BURROW_BIN"], !path.isEmpty { return path }
        return packageRoot + "/.build/release/burrow"
    }()

    static let runningAsRoot: Bool = getuid() == 0

    /// One directory per test process, mode 0755 so the test user can traverse it. Every
    /// temporary directory of the suite lives below it; it is removed when the process exits.
    static let tempBase: String = {
        var template = Array("/tmp/burrow-it.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(String(cString: strerror(errno)))")
        let path = String(cString: made!)
        chmod(path, 0o755)
        atexit { Harness.removeTempBase() }
        return path
    }()

    /// The shared rootfs, built once per process with scripts/make-rootfs. Owned by whoever
    /// runs the tests (root, normally), so the test user can read but not change it, except
    /// in its tmp/ and var/tmp/ (mode 1777). Tests that write into a rootfs use
    /// `makePrivateRootfs(owner:)`.
    static let sharedRootfs: String = {
        let dir = tempBase + "/shared-rootfs"
        let r = runHost([packageRoot + "/scripts/make-rootfs", dir])
        precondition(r.status == 0, "scripts/make-rootfs failed (\(r.status)):\n\(r.stdout)\n\(r.stderr)")
        chmod(dir, 0o755)
        return dir
    }()

    fileprivate static func removeTempBase() {
        safeRemove(tempBase)
    }
}

/// The user burrow runs as: `BURROW_TEST_UID`/`BURROW_TEST_GID` (default 65534) when the
/// tests run as root, else whoever runs the tests.
struct TestUser: Sendable, CustomStringConvertible {
    let uid: uid_t
    let gid: gid_t

    static let current: TestUser = {
        guard Harness.runningAsRoot else { return TestUser(uid: getuid(), gid: getgid()) }
        let env = ProcessInfo.processInfo.environment
        let uid = env["BURROW_TEST_UID"].flatMap { uid_t($0) } ?? 65534
        let gid = env["BURROW_TEST_GID"].flatMap { gid_t($0) } ?? 65534
        return TestUser(uid: uid, gid: gid)
    }()

    /// The login name, from the host's passwd database (newuidmap looks ranges up by it).
    var name: String? {
        guard let pw = getpwuid(uid) else { return nil }
        return String(cString: pw.pointee.pw_name)
    }

    var description: String { "uid \(uid) gid \(gid)" }

    /// A second user without /etc/subuid and /etc/subgid ranges, made by scripts/test as it
    /// makes the test user (`useradd --system` gives none): nil when not root or not there.
    static let withoutRanges: TestUser? = {
        guard Harness.runningAsRoot, let pw = getpwnam(withoutRangesName) else { return nil }
        return TestUser(uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }()
    static let withoutRangesName = "burrowtest-nosub"
}

let testUser = TestUser.current

// MARK: - Temporary directories and rootfs copies

struct TempDir: Sendable, CustomStringConvertible {
    let path: String
    func sub(_ name: String) -> String { path + "/" + name }
    /// Removes the directory, unless something is still mounted below it (a mount that
    /// leaked out of a sandbox must never lead `rm -rf` into a host directory).
    func remove() { safeRemove(path) }
    var description: String { path }
}

/// A fresh directory below `Harness.tempBase`, mode 0755 by default, owned by `owner`
/// (when the tests run as root) so the test user can write into it.
func makeTempDir(owner: TestUser? = nil, mode: mode_t = 0o755) -> TempDir {
    var template = Array((Harness.tempBase + "/t.XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed: \(String(cString: strerror(errno)))")
    let path = String(cString: made!)
    chmod(path, mode)
    if let owner, Harness.runningAsRoot { chown(path, owner.uid, owner.gid) }
    return TempDir(path: path)
}

/// A private copy of the shared rootfs: `path` is the rootfs, `base` the temporary
/// directory around it (mode 0755, owned by root), removed by `remove()`.
struct PrivateRootfs: Sendable, CustomStringConvertible {
    let base: TempDir
    var path: String { base.sub("rootfs") }
    func at(_ guestPath: String) -> String { path + guestPath }
    func remove() { base.remove() }
    var description: String { path }
}

/// A fresh rootfs this test alone uses (a copy of the shared one), chowned to `owner` when
/// running as root: the test user can write to it, and burrow can make mount points in it.
/// `owner: nil` keeps it owned by root.
func makePrivateRootfs(owner: TestUser? = testUser) async -> PrivateRootfs {
    let base = makeTempDir()
    let rootfs = PrivateRootfs(base: base)
    let copy = await runHostAsync(["/bin/cp", "-a", Harness.sharedRootfs, rootfs.path])
    // Other tests write below the shared tmp/ and var/tmp/ (mode 1777) meanwhile: what
    // vanished there during the copy is no failure, and nothing of theirs belongs here.
    let scratch = ["/tmp/", "/var/tmp/"].map { Harness.sharedRootfs + $0 }
    let complaints = copy.stderr.split(separator: "\n").filter { line in !scratch.contains { line.contains($0) } }
    precondition(copy.status == 0 || complaints.isEmpty, "cp -a of the rootfs failed: \(copy.stderr)")
    let emptied = await runHostAsync(["/usr/bin/find", rootfs.at("/tmp"), rootfs.at("/var/tmp"), "-mindepth", "1", "-delete"])
    precondition(emptied.status == 0, "emptying the copy's tmp/ failed: \(emptied.stderr)")
    if let owner, Harness.runningAsRoot {
        let own = await runHostAsync(["/bin/chown", "-R", "-h", "\(owner.uid):\(owner.gid)", rootfs.path])
        precondition(own.status == 0, "chown of the private rootfs failed: \(own.stderr)")
    }
    return rootfs
}

/// Gives `path` to the test user (when running as root).
func giveToTestUser(_ path: String) {
    if Harness.runningAsRoot { lchown(path, testUser.uid, testUser.gid) }
}

/// Writes a file as the test process (root), then hands it to the test user.
func writeFile(_ path: String, _ text: String, owner: TestUser? = nil) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    if let owner, Harness.runningAsRoot { lchown(path, owner.uid, owner.gid) }
}

func readFile(_ path: String) -> String? {
    guard let bytes = readBytes(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// True if anything (even a dangling symlink) exists at `path`.
func pathExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

func directoryEntries(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Every path below `root`, relative to it, sorted (symlinks are not followed).
func treeListing(_ root: String) -> [String] {
    var out: [String] = []
    func walk(_ rel: String) {
        for name in directoryEntries(root + rel) {
            let child = rel + "/" + name
            out.append(child)
            var st = stat()
            if lstat(root + child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { walk(child) }
        }
    }
    walk("")
    return out
}

/// `rm -rf`, but only when nothing is mounted at or below `path` in the test process's
/// mount namespace. In-process (no child to wait for), so it is cheap in a `defer`.
func safeRemove(_ path: String) {
    guard path.hasPrefix("/tmp/") else { return }
    let mounts = hostMountinfo()
    if mounts.contains(where: { $0.mountPoint == path || $0.mountPoint.hasPrefix(path + "/") }) {
        FileHandle.standardError.write(Data("burrow tests: not removing \(path): something is mounted below it\n".utf8))
        return
    }
    if (try? FileManager.default.removeItem(atPath: path)) == nil {
        // Not root: an overlay's work/work directory (mode 000) cannot be listed. Open up
        // every directory, then try again.
        func openUp(_ dir: String) {
            chmod(dir, 0o700)
            for name in directoryEntries(dir) {
                var st = stat()
                if lstat(dir + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { openUp(dir + "/" + name) }
            }
        }
        openUp(path)
        try? FileManager.default.removeItem(atPath: path)
    }
}

// MARK: - Spawning processes

/// What a finished process did.
struct BurrowResult: Sendable, CustomStringConvertible {
    let argv: [String]
    /// The exit status; 128+N when the process itself was killed by signal N.
    let status: Int32
    /// Set when the process itself (burrow, not its command) was killed by a signal.
    let signal: Int32?
    let stdout: String
    let stderr: String
    let timedOut: Bool

    /// The non-empty lines of stdout.
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }

    var description: String {
        let how = signal.map { "killed by signal \($0)" } ?? "status \(status)"
        return """
            \(argv.map(shellQuote).joined(separator: " "))
            → \(how)\(timedOut ? " (TIMED OUT)" : "")
            --- stdout ---
            \(stdout)
            --- stderr ---
            \(stderr)
            --------------
            """
    }
}

func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,@%+".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}

/// A process started in the background. Its stdout and stderr go to files, readable at any
/// time while it runs.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    let argv: [String]
    let stdoutPath: String
    let stderrPath: String
    private let lock = NSLock()
    private var exitStatus: Int32?  // raw wait status, once reaped

    fileprivate init(pid: pid_t, argv: [String], stdoutPath: String, stderrPath: String) {
        self.pid = pid
        self.argv = argv
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    var stdoutSoFar: String { readFile(stdoutPath) ?? "" }
    var stderrSoFar: String { readFile(stderrPath) ?? "" }

    /// Sends `sig` to the process (not to its process group).
    func send(_ sig: Int32) { _ = kill(pid, sig) }

    /// Reaps the process if it has exited; returns its raw wait status.
    func poll(blocking: Bool = false) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if r == pid { exitStatus = status; return status }
            if r == -1, errno == EINTR { continue }
            return nil
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Waits until stdout contains `fragment`; false if the process exited or time ran out.
    /// (Polls look once more after the deadline: a busy test process may oversleep.)
    func waitForStdout(_ fragment: String, timeout: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if stdoutSoFar.contains(fragment) { return true }
            if !isRunning || Date() >= deadline { return stdoutSoFar.contains(fragment) }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Waits for the process to exit. After `timeout` seconds it is killed with SIGKILL
    /// and the test records a failure.
    func wait(timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var raw: Int32? = poll()
        while raw == nil {
            if Date() >= deadline {
                timedOut = true
                send(SIGKILL)
                raw = poll(blocking: true)
                break
            }
            try? await Task.sleep(nanoseconds: 10_000_000)
            raw = poll()
        }
        let status = raw ?? 0
        let termsig = status & 0x7f
        let killed: Int32? = termsig != 0 ? termsig : nil
        let code: Int32 = killed.map { 128 + $0 } ?? ((status >> 8) & 0xff)
        let result = BurrowResult(
            argv: argv, status: code, signal: killed, stdout: stdoutSoFar, stderr: stderrSoFar, timedOut: timedOut)
        if timedOut {
            Issue.record("timed out after \(timeout) s and was killed:\n\(result)", sourceLocation: sourceLocation)
        }
        return result
    }
}

/// Starts `argv` with a clean signal state, stdin from `stdin` (or /dev/null), stdout and
/// stderr to fresh files, cwd `/`, and only descriptors 0, 1 and 2.
/// `leakingDescriptor`: also pass on an open descriptor (on /dev/null or the stdin file)
/// under that number, as a careless caller would; burrow must not hand it to the command.
func spawn(
    _ argv: [String], stdin: String? = nil, environment extra: [String: String] = [:],
    leakingDescriptor: Int32? = nil
) throws -> SpawnedProcess {
    let io = Harness.tempBase + "/io"
    mkdir(io, 0o700)
    let id = UUID().uuidString
    let outPath = "\(io)/\(id).out", errPath = "\(io)/\(id).err", inPath = "\(io)/\(id).in"

    let outFD = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    defer { close(outFD); close(errFD) }
    let inFD: Int32
    if let stdin {
        let w = open(inPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        _ = stdin.utf8CString.withUnsafeBufferPointer { write(w, $0.baseAddress!, $0.count - 1) }
        close(w)
        inFD = open(inPath, O_RDONLY | O_CLOEXEC)
    } else {
        inFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }
    defer { close(inFD) }
    guard outFD >= 0, errFD >= 0, inFD >= 0 else { throw SpawnError(message: "cannot open the I/O files in \(io)") }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inFD, 0)
    posix_spawn_file_actions_adddup2(&actions, outFD, 1)
    posix_spawn_file_actions_adddup2(&actions, errFD, 2)
    var firstToClose: Int32 = 3
    if let leak = leakingDescriptor, leak > 2 {
        posix_spawn_file_actions_adddup2(&actions, inFD, leak)
        for fd in 3..<leak { posix_spawn_file_actions_addclose(&actions, fd) }
        firstToClose = leak + 1
    }
    // glibc has these since 2.34 and 2.29, but Swift's Glibc module does not import them.
    if let closeFrom = GlibcExtras.addCloseFrom { _ = closeFrom(&actions, firstToClose) }
    if let chdirTo = GlibcExtras.addChdir { _ = chdirTo(&actions, "/") }

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    var noMask = sigset_t()
    sigemptyset(&noMask)
    posix_spawnattr_setsigmask(&attr, &noMask)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var env = ProcessInfo.processInfo.environment
    for (k, v) in extra { env[k] = v }
    let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in cArgs { free(p) }
        for p in cEnv { free(p) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv)
    guard rc == 0 else { throw SpawnError(message: "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
    return SpawnedProcess(pid: pid, argv: argv, stdoutPath: outPath, stderrPath: errPath)
}

private enum GlibcExtras {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    static let addCloseFrom: AddCloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    static let addChdir: AddChdir? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
}

struct SpawnError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs a short host command as the test process itself, blocking the calling thread: only
/// for the one-time shared rootfs (tests use `runHostAsync`, which leaves the few threads
/// of Swift concurrency free for the other tests' polling).
@discardableResult
/// Builds the static C helper Tests/Helpers/NAME.c into the test run's temporary folder (as
/// `output`, by default NAME): its path, or nil with the compiler's complaint. Each helper
/// calls it once (a `static let`).
func buildStaticHelper(_ name: String, flags: [String] = [], output: String? = nil) -> (path: String?, error: String) {
    let source = Harness.packageRoot + "/Tests/Helpers/\(name).c"
    let out = Harness.tempBase + "/\(output ?? name)"
    let compilers = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        .split(separator: ":").map { $0 + "/clang" }
    guard let cc = compilers.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        return (nil, "no C compiler (scripts/deps installs gcc)")
    }
    let r = runHost([cc, "-static", "-O1"] + flags + ["-o", out, source])
    guard r.status == 0 else { return (nil, "\(cc) -static failed (\(r.status)): \(r.stderr)") }
    chmod(out, 0o755)
    return (out, "")
}

func runHost(_ argv: [String]) -> (status: Int32, stdout: String, stderr: String) {
    guard let p = try? spawn(argv) else { return (-1, "", "cannot start \(argv[0])") }
    let raw = p.poll(blocking: true) ?? 0
    let status: Int32 = (raw & 0x7f) != 0 ? 128 + (raw & 0x7f) : (raw >> 8) & 0xff
    return (status, p.stdoutSoFar, p.stderrSoFar)
}

/// Runs a short host command as the test process itself.
@discardableResult
func runHostAsync(_ argv: [String], sourceLocation: SourceLocation = #_sourceLocation) async -> (
    status: Int32, stdout: String, stderr: String
) {
    guard let p = try? spawn(argv) else { return (-1, "", "cannot start \(argv[0])") }
    let r = await p.wait(timeout: 60, sourceLocation: sourceLocation)
    return (r.status, r.stdout, r.stderr)
}

/// `argv` run as the test user: through setpriv when the tests run as root.
func asTestUser(_ argv: [String]) -> [String] { asUser(testUser, argv) }

/// `argv` run as `user` (through setpriv when the tests run as root, else as whoever runs them).
func asUser(_ user: TestUser, _ argv: [String]) -> [String] {
    guard Harness.runningAsRoot else { return argv }
    return [
        "/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--",
    ] + argv
}

/// Starts burrow in the background as the test user. setpriv execs burrow, so `pid` is
/// burrow's own pid once it runs.
func startBurrow(_ args: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> SpawnedProcess {
    try spawn(asTestUser([Harness.binary] + args), stdin: stdin, environment: environment)
}

/// Runs burrow as the test user and waits for it (at most `timeout` seconds).
func burrow(
    _ args: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Double = 20,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    do {
        let p = try startBurrow(args, stdin: stdin, environment: environment)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start burrow (\(Harness.binary)): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: args, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// `["/bin/sh", "-c", script]`: a command line for busybox sh inside the sandbox.
func sh(_ script: String) -> [String] { ["/bin/sh", "-c", script] }

/// Shell snippet, to follow `sleep MARKER &`: waits (up to ~10 s) until that background
/// sleep really runs, then prints its argv, so a test can tell "killed" from "never ran".
/// (The whole argv must be `sleep MARKER`: until the forked shell execs, /proc/$!/cmdline is
/// the shell's own, whose script has a line that starts with the same words.)
/// Needs /proc and /dev (busybox sh opens /dev/null for background jobs anyway).
func waitUntilRunning(sleep marker: String) -> String {
    #"i=0; until [ "$(tr '\0' ' ' < /proc/$!/cmdline 2>/dev/null)" = "sleep \#(marker) " ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; tr '\0' ' ' < /proc/$!/cmdline; echo"#
}

// MARK: - Mounts

struct MountEntry: Sendable, CustomStringConvertible {
    let id: Int
    let parentID: Int
    /// The directory of the mounted filesystem that appears at the mount point ("/" unless
    /// it is a bind of a subdirectory).
    let root: String
    let mountPoint: String
    /// Per-mount options (field 6): rw/ro, nosuid, nodev, noexec, relatime...
    let options: [String]
    let fsType: String
    let source: String
    /// Per-superblock options (after the fs type and source): size=, mode=...
    let superOptions: [String]
    let line: String

    var description: String { line }
    func has(_ option: String) -> Bool { options.contains(option) }
    var isReadOnly: Bool { options.contains("ro") }
}

/// Parses /proc/PID/mountinfo. Lines that do not parse are skipped.
func parseMountinfo(_ text: String) -> [MountEntry] {
    text.split(separator: "\n").compactMap { raw -> MountEntry? in
        let line = String(raw)
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 3 else {
            return nil
        }
        return MountEntry(
            id: Int(fields[0]) ?? -1,
            parentID: Int(fields[1]) ?? -1,
            root: unescapeMountField(fields[3]),
            mountPoint: unescapeMountField(fields[4]),
            options: fields[5].split(separator: ",").map(String.init),
            fsType: fields[dash + 1],
            source: unescapeMountField(fields[dash + 2]),
            superOptions: fields.count > dash + 3 ? fields[dash + 3].split(separator: ",").map(String.init) : [],
            line: line)
    }
}

/// mountinfo writes space, tab, newline and backslash as \ooo.
private func unescapeMountField(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var out = [UInt8]()
    let b = Array(s.utf8)
    var i = 0
    while i < b.count {
        if b[i] == UInt8(ascii: "\\"), i + 4 <= b.count,
            let v = UInt8(String(decoding: b[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8)
        {
            out.append(v)
            i += 4
        } else {
            out.append(b[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

extension Array where Element == MountEntry {
    /// The mount that is visible at `path`: of the mounts there, the one no other mount
    /// there is stacked on (mountinfo's order is not always the mount order).
    func top(at path: String) -> MountEntry? {
        let here = all(at: path)
        return here.last { m in !here.contains { $0.parentID == m.id && $0.id != m.id } }
    }
    func all(at path: String) -> [MountEntry] { filter { $0.mountPoint == path } }
}

/// Marks where a test script starts printing its mountinfo.
let mountinfoMarker = "@@@MOUNTINFO@@@"
/// Shell snippet that prints the marker and then the sandbox's mount table.
let printMounts = "echo \(mountinfoMarker); cat /proc/self/mountinfo"

extension BurrowResult {
    /// The mount table the script printed after `printMounts`.
    var mounts: [MountEntry] {
        guard let r = stdout.range(of: mountinfoMarker + "\n") else { return [] }
        return parseMountinfo(String(stdout[r.upperBound...]))
    }
    /// What the script printed before `printMounts`.
    var beforeMounts: String {
        guard let r = stdout.range(of: mountinfoMarker) else { return stdout }
        return String(stdout[..<r.lowerBound])
    }
}

/// The test process's own mount table (the host's view).
func hostMountinfo() -> [MountEntry] { parseMountinfo(readFile("/proc/self/mountinfo") ?? "") }

/// Host mountinfo lines that mention `path`.
func hostMounts(mentioning path: String) -> [String] {
    (readFile("/proc/self/mountinfo") ?? "").split(separator: "\n").map(String.init).filter { $0.contains(path) }
}

// MARK: - Host processes and namespaces

func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

/// The argv of a host process, or nil if it is gone (or a zombie).
func hostCmdline(_ pid: pid_t) -> [String]? {
    guard let bytes = readBytes("/proc/\(pid)/cmdline"), !bytes.isEmpty else { return nil }
    return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        .filter { !$0.isEmpty }
}

/// Live host processes that have `argument` as one of their arguments (e.g. a unique
/// `sleep 2718281` duration).
func hostProcesses(withArgument argument: String) -> [pid_t] {
    directoryEntries("/proc").compactMap { pid_t($0) }.filter { pid in
        guard pid != getpid(), let argv = hostCmdline(pid) else { return false }
        return argv.dropFirst().contains(argument)
    }
}

/// Polls until no process has `argument` left; returns the survivors (empty: all gone).
func waitUntilGone(argument: String, timeout: Double = 2) async -> [pid_t] {
    let deadline = Date().addingTimeInterval(timeout)
    var left = hostProcesses(withArgument: argument)
    while !left.isEmpty, Date() < deadline {
        try? await Task.sleep(nanoseconds: 50_000_000)
        left = hostProcesses(withArgument: argument)
    }
    return left
}

/// Polls until a process with `argument` shows up.
func waitForProcess(argument: String, timeout: Double = 10) async -> pid_t? {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if let pid = hostProcesses(withArgument: argument).first { return pid }
        if Date() >= deadline { return nil }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns its last value.
func eventually(timeout: Double = 2, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return true
}

/// Kills leftovers a failed test may have left, so they don't outlive the suite.
func killProcesses(withArgument argument: String) {
    for pid in hostProcesses(withArgument: argument) { kill(pid, SIGKILL) }
}

/// A unique, long sleep duration: `sleep <marker>` is recognisable in /proc.
func sleepMarker() -> String { String(Int.random(in: 3_000_000...9_999_999)) }

/// `readlink /proc/self/ns/NAME` of the test process, e.g. `net:[4026531840]`.
func hostNamespace(_ name: String) -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(name)")) ?? "?"
}

/// Network interfaces of the host (the test process's network namespace).
func hostInterfaces() -> Set<String> { Set(directoryEntries("/sys/class/net")) }

/// Interface names from busybox `ip link` / `ip addr` output (`2: eth0@if5: <...>`).
func interfaceNames(inIPOutput text: String) -> [String] {
    text.split(separator: "\n").compactMap { line -> String? in
        guard let first = line.first, first.isNumber else { return nil }
        let parts = line.split(separator: ":", maxSplits: 2)
        guard parts.count >= 2 else { return nil }
        let name = parts[1].trimmingCharacters(in: .whitespaces)
        return String(name.split(separator: "@").first ?? Substring(name))
    }
}

// MARK: - Subordinate id ranges

struct SubIDRange: Sendable {
    let start: UInt32
    let count: UInt32
}

/// The test user's range in /etc/subuid or /etc/subgid (by name or by number).
func subIDRange(file: String, user: TestUser, id: UInt32) -> SubIDRange? {
    guard let text = readFile(file) else { return nil }
    let keys = Set([user.name, String(id)].compactMap { $0 })
    for line in text.split(separator: "\n") {
        let f = line.split(separator: ":").map(String.init)
        guard f.count == 3, keys.contains(f[0]), let s = UInt32(f[1]), let c = UInt32(f[2]), c > 0 else { continue }
        return SubIDRange(start: s, count: c)
    }
    return nil
}

/// Both ranges, when the tests run as root with a test user that has them and newuidmap
/// and newgidmap are installed.
let subIDRanges: (uid: SubIDRange, gid: SubIDRange)? = {
    guard Harness.runningAsRoot, testUser.uid != 0,
        FileManager.default.isExecutableFile(atPath: "/usr/bin/newuidmap"),
        FileManager.default.isExecutableFile(atPath: "/usr/bin/newgidmap"),
        let u = subIDRange(file: "/etc/subuid", user: testUser, id: testUser.uid),
        let g = subIDRange(file: "/etc/subgid", user: testUser, id: testUser.gid)
    else { return nil }
    return (u, g)
}()

// MARK: - Expectations with useful failure messages

func expectStatus(_ r: BurrowResult, _ expected: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == expected, "expected status \(expected), got \(r.status):\n\(r)", sourceLocation: sourceLocation)
}

func expectSuccess(_ r: BurrowResult, sourceLocation: SourceLocation = #_sourceLocation) {
    expectStatus(r, 0, sourceLocation: sourceLocation)
}

func expectStdout(_ r: BurrowResult, contains fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.stdout.contains(fragment), "stdout should contain \(fragment.debugDescription):\n\(r)", sourceLocation: sourceLocation)
}

func expectStdout(_ r: BurrowResult, lacks fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.stdout.contains(fragment), "stdout should not contain \(fragment.debugDescription):\n\(r)", sourceLocation: sourceLocation)
}

func expectStderr(_ r: BurrowResult, contains fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.stderr.contains(fragment), "stderr should contain \(fragment.debugDescription):\n\(r)", sourceLocation: sourceLocation)
}

func expectStderr(_ r: BurrowResult, lacks fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.stderr.contains(fragment), "stderr should not contain \(fragment.debugDescription):\n\(r)", sourceLocation: sourceLocation)
}

/// stdout, as lines, is exactly `expected`.
func expectLines(_ r: BurrowResult, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.lines == expected, "expected stdout lines \(expected), got \(r.lines):\n\(r)", sourceLocation: sourceLocation)
}

/// The mount at `path` (the top one) in the table the script printed; records a failure
/// naming the whole table when there is none.
func expectMount(_ r: BurrowResult, at path: String, sourceLocation: SourceLocation = #_sourceLocation) -> MountEntry? {
    let m = r.mounts.top(at: path)
    #expect(m != nil, "no mount at \(path) in the sandbox's mountinfo:\n\(r)", sourceLocation: sourceLocation)
    return m
}

func expectOption(
    _ m: MountEntry?, _ option: String, present: Bool = true, context r: BurrowResult,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let m else { return }
    #expect(
        m.has(option) == present,
        "mount at \(m.mountPoint) should \(present ? "have" : "not have") \(option) in its options: \(m.line)\n\(r)",
        sourceLocation: sourceLocation)
}

// MARK: - Engines

/// The engines a test can be run with (`--engine NAME`); features both claim are tested on
/// both, as bubblewrap's tests loop over their variants.
enum Engine: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case namespace, ptrace
    var testDescription: String { rawValue }
}

/// Runs burrow with `--engine` first.
func burrow(
    engine: Engine, _ args: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Double = 20,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    await burrow(["--engine", engine.rawValue] + args, stdin: stdin, environment: environment, timeout: timeout,
                 sourceLocation: sourceLocation)
}
