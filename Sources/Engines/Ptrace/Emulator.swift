import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

/// What the ptrace engine fakes beyond the change of root, for one session: the ids
/// (`--uid`/`--gid`/`--root`, proot's `-0`/`-i`) with the files' faked owners and modes,
/// uname (`--kernel-release`, proot's `-k`), and QEMU for foreign programs (`--qemu`).
final class Emulator {
    /// The calls traced for these features, beyond path translation.
    let calls: [Int64: EmulatedCall]
    /// The ids every process starts with; nil: ids are not faked.
    let initialCredentials: Credentials?
    var table: OwnershipTable
    let database: String?
    /// The faked uname; sethostname and setdomainname change its fields.
    var uname: FakeUname?
    let qemu: QemuRunner?
    /// Ports changed at bind and connect (the guest's -> the host's).
    let portMap: [UInt16: UInt16]
    /// PROOT_FORCE_KOMPAT: an AT_RANDOM appended to each program's auxiliary vector.
    let appendsRandomVector: Bool
    /// PRoot's rule for a faked root's modes (Identity.appliesModes).
    let appliesModes: Bool
    /// PRoot's style of QEMU: the caller's LD_LIBRARY_PATH (host programs get it below
    /// /host-rootfs), and the guest's own, met where a host program was given the host's.
    let callerLibraryPath = getenv("LD_LIBRARY_PATH").map { String(cString: $0) }
    var guestLibraryVariable: String?

    init(spec: SandboxSpec, hostUid: UInt32, hostGid: UInt32, qemu: QemuRunner?) {
        let uid = spec.identity.uid ?? hostUid, gid = spec.identity.gid ?? hostGid
        // Your own ids need no faking: the command simply runs as you.
        let fakeIds = uid != hostUid || gid != hostGid
        let groups = spec.identity.keepsCallerGroups ? Self.callerGroups() : nil
        initialCredentials = fakeIds ? Credentials(uid: uid, gid: gid, groups: groups) : nil
        table = OwnershipTable(hostUid: hostUid, hostGid: hostGid, shownUid: uid, shownGid: gid)
        database = fakeIds ? spec.identity.fakeDatabase?.string : nil
        uname = spec.emulation.uname
        portMap = spec.emulation.portMap
        appliesModes = spec.identity.appliesModes && fakeIds
        // The release asked for has AT_RANDOM (2.6.29 and later), which PRoot's kompat adds.
        appendsRandomVector = spec.emulation.forceOldKernelEmulation
            && (spec.emulation.uname.flatMap { FakeUname.versionCode($0.release) } ?? 0) >= 2 << 16 + 6 << 8 + 29
        self.qemu = qemu
        calls = EmulatedTable.calls(fakeIds: fakeIds, fakeUname: uname != nil)
    }

    var isNeeded: Bool { !calls.isEmpty || qemu != nil || !portMap.isEmpty }

    static func callerGroups() -> [UInt32] {
        let n = getgroups(0, nil)
        guard n > 0 else { return [] }
        var groups = [gid_t](repeating: 0, count: Int(n))
        let got = getgroups(n, &groups)
        return got > 0 ? Array(groups.prefix(Int(got))) : []
    }

    /// The calls the seccomp filter must send to the tracer for these features.
    var traced: [Int64] { calls.keys.sorted() }

    // MARK: --fake-db

    /// Loads the database (a missing file is an empty one).
    func load() throws(PtraceEngine.Failure) {
        guard let database else { return }
        let fd: Int32
        do { fd = try Files.open(database, O_RDONLY | O_CLOEXEC) } catch {
            if error.errno == .noSuchFileOrDirectory { return }
            throw PtraceEngine.Failure(SysError("open the fake database", database, errno: error.errno))
        }
        defer { Files.close(fd) }
        let bytes: [UInt8]
        do { bytes = try Files.readAll(fd, limit: 1 << 30) } catch {
            throw PtraceEngine.Failure(SysError("read the fake database", database, errno: error.errno))
        }
        do throws(OwnershipTable.FormatError) { try table.load(String(decoding: bytes, as: UTF8.self)) } catch {
            throw PtraceEngine.Failure("fake database \(database): \(error)")
        }
    }

    /// Saves the database: written beside it, then renamed over it.
    func save() throws(PtraceEngine.Failure) {
        guard let database else { return }
        let temporary = database + ".burrow-new"
        do {
            let fd = try Files.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode: 0o644)
            defer { Files.close(fd) }
            try Files.writeAll(fd, Array(table.serialized().utf8), what: temporary)
        } catch {
            _ = unlink(temporary)
            throw PtraceEngine.Failure(SysError("save the fake database", temporary, errno: error.errno))
        }
        if rename(temporary, database) != 0 {
            let e = SysError.last("save the fake database", database)
            _ = unlink(temporary)
            throw PtraceEngine.Failure(e)
        }
    }
}

/// How a foreign program is run: the host's QEMU program, its target, and its options.
struct QemuRunner {
    var program: String
    /// The ELF files it runs: its target's, or (PRoot's style, `target` nil) all but the host's.
    var target: Qemu.Target?
    /// PRoot's style (`QemuEmulation.prootStyle`): its options, given as arguments.
    var options: [String] = []
    var prootStyle = false
    var everythingForeign = false

    /// The QEMU program on the host: as given when it has a `/` (relative to the caller's
    /// directory), else in the caller's PATH; `qemu-ARCH-static` (Debian's qemu-user-static)
    /// stands in for a missing `qemu-ARCH`. In PRoot's style any program will do.
    static func locate(_ qemu: QemuEmulation) throws(PtraceEngine.Failure) -> QemuRunner {
        let program = qemu.command[0]
        let target = Qemu.target(ofProgram: program)
        guard target != nil || qemu.prootStyle else {
            throw PtraceEngine.Failure("qemu \(program): name a qemu-ARCH user-mode program")
        }
        func runner(_ path: String) -> QemuRunner {
            var r = QemuRunner(program: path, target: qemu.prootStyle ? nil : target)
            r.prootStyle = qemu.prootStyle
            r.everythingForeign = qemu.everythingForeign
            if qemu.prootStyle { r.options = Array(qemu.command.dropFirst()) }
            return r
        }
        if program.contains("/") {
            var path = program
            if !path.hasPrefix("/"), let cwd = try? Files.realPath(".") { path = cwd + "/" + path }
            // Found now, not at the first foreign program (as PRoot and the namespace engine do).
            guard access(path, X_OK) == 0 else {
                throw PtraceEngine.Failure(SysError("find QEMU", program, errno: Errno(rawValue: errno)).description)
            }
            return runner(path)
        }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for name in [program, program + "-static"] {
            for dir in path.split(separator: ":") where dir.hasPrefix("/") {
                let candidate = "\(dir)/\(name)"
                if access(candidate, X_OK) == 0 { return runner(candidate) }
            }
        }
        throw PtraceEngine.Failure(SysError("find QEMU", program, errno: .noSuchFileOrDirectory,
                                            hint: "install it (Debian: apt-get install qemu-user-static) or give its full path").description)
    }
}

extension PtraceEngine {
    /// The session's emulator, or nil when nothing beyond paths is faked. Adds the file
    /// /proc/sys/kernel/osrelease shows (under each proc binding) for a faked release.
    static func makeEmulator(_ spec: SandboxSpec, setup: inout Setup, bindings: inout Bindings, log: Log) throws(Failure) -> Emulator? {
        var spec = spec
        if spec.identity.userName != nil || spec.identity.groupName != nil {
            func read(_ path: String) -> String? {
                guard let fd = try? Files.open(bindings.host(GuestPath(components: ["etc", path])), O_RDONLY | O_CLOEXEC) else { return nil }
                defer { Files.close(fd) }
                return (try? Files.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
            }
            do throws(Identity.LookupError) {
                spec.identity = try spec.identity.resolvingNames(passwd: read("passwd"), group: read("group"))
            } catch { throw Failure("\(error)") }
        }
        if let uname = spec.emulation.uname {
            try setup.fakeOSRelease(uname.release)
            bindings = setup.bindings
            log.step("uname: \(uname.fields.enumerated().compactMap { i, f in f.map { "\(FakeUname.fieldNames[i]) \($0)" } }.joined(separator: ", "))"
                     + (uname.hwcap.map { ", AT_HWCAP 0x\(String($0, radix: 16))" } ?? ""))
        }
        let qemu = try spec.emulation.qemu.map { q throws(Failure) in try QemuRunner.locate(q) }
        if let qemu { log.step("qemu: \(qemu.target.map { "\($0.arch) programs" } ?? "programs but the host's") run through \(qemu.program)") }
        let emulator = Emulator(spec: spec, hostUid: getuid(), hostGid: getgid(), qemu: qemu)
        guard emulator.isNeeded else { return nil }
        if let c = emulator.initialCredentials {
            try emulator.load()
            log.step("faked ids: uid \(c.ruid), gid \(c.rgid); your files appear as theirs"
                     + (emulator.database.map { " (remembered in \($0): \(emulator.table.entries.count) files)" } ?? ""))
        }
        return emulator
    }
}

extension Setup {
    /// /proc/sys/kernel/osrelease under each proc binding: a file of the supervisor's.
    mutating func fakeOSRelease(_ release: String) throws(PtraceEngine.Failure) {
        let procs = bindings.entries.filter { $0.kind == .proc || $0.host == "/proc" }.map(\.guest)
        guard !procs.isEmpty else { return }
        let dir = try temporaryDirectory(mode: 0o755, for: "the kernel release")
        let file = dir + "/osrelease"
        do {
            let fd = try Files.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o444)
            defer { Files.close(fd) }
            try Files.writeAll(fd, Array((release + "\n").utf8), what: file)
        } catch { throw PtraceEngine.Failure(error) }
        for proc in procs {
            try addBinding(source: file, dest: GuestPath(components: proc.components + ["sys", "kernel", "osrelease"]),
                           kind: .bind, readOnly: true)
        }
    }
}
