import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// Faked ids: the get/set id family answered from each process's `Credentials` (the kernel
// is not asked); stat results rewritten at exit with the faked owners and modes (or the
// call answered whole by the supervisor at its entry, `statEnter`); chown
// remembered; chmod applied with a mode the caller can still use and the asked one
// remembered; device nodes made as regular files; removed files forgotten.

/// Work an emulated call leaves for its exit stop.
enum EmulatedExit: Equatable {
    case stat(buffer: UInt64, layout: StatLayout)
    case uname(buffer: UInt64)
    /// mkdir, mknod: record the faked mode (and device) of what was made at `path`.
    case made(path: String, permissions: UInt32?, device: (type: UInt32, rdev: UInt64)?)
    /// open with O_CREAT of a new file: its faked mode, found through the new descriptor.
    case created(permissions: UInt32)
    case forget(FileKey)
    /// What only root may do: EPERM is success.
    case rootMay

    static func == (a: EmulatedExit, b: EmulatedExit) -> Bool {
        switch (a, b) {
        case let (.stat(x, l), .stat(y, m)): return x == y && l == m
        case let (.uname(x), .uname(y)): return x == y
        case let (.made(p, q, d), .made(r, s, e)): return p == r && q == s && d?.type == e?.type && d?.rdev == e?.rdev
        case let (.created(x), .created(y)): return x == y
        case let (.forget(x), .forget(y)): return x == y
        case (.rootMay, .rootMay): return true
        default: return false
        }
    }
}

extension Tracer {
    /// The faked ids of `t`: its own once known, else its parent's (a new process may stop
    /// before the event that names its parent), else the session's.
    func credentials(_ t: Tracee) -> Credentials {
        if let c = t.credentials { return c }
        let initial = emulator?.initialCredentials ?? Credentials(uid: getuid(), gid: getgid())
        var found: Credentials?
        if let fd = try? Files.open("/proc/\(t.pid)/status", O_RDONLY | O_CLOEXEC) {
            let text = String(decoding: (try? Files.readAll(fd, limit: 1 << 16)) ?? [], as: UTF8.self)
            Files.close(fd)
            func field(_ name: String) -> pid_t? {
                guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
                return pid_t(line.dropFirst(name.count + 1).trimmingPrefix { $0 == " " || $0 == "\t" })
            }
            if let tgid = field("Tgid"), tgid != t.pid { found = tracees[tgid]?.credentials }
            if found == nil, let ppid = field("PPid") { found = tracees[ppid]?.credentials }
        }
        let c = found ?? initial
        t.credentials = c
        return c
    }

    func emulatedEnter(_ call: EmulatedCall, _ t: Tracee, _ regs: Trace.Registers) -> EnterResult {
        switch call {
        case .ids(let c): return idsEnter(c, t, regs, narrow: abi(regs).narrowIds.contains(regs.syscall))
        case .stat(let buffer, let layout):
            if layout == .stat, !regs.compat, let answered = statEnter(t, regs, buffer: regs.arg(buffer)) { return answered }
            return translated(t, regs, exit: .stat(buffer: regs.arg(buffer), layout: abi(regs).layout(layout, call: regs.syscall)))
        case .uname:
            return .rewrite(regs, exit: .emulated(.uname(buffer: regs.arg(0))))
        case .setUname(let field): return setUnameEnter(t, regs, field: field)
        case .capset: return credentials(t).privileged ? .succeed(0) : .allow
        case .setxattr:
            guard credentials(t).privileged else { return translated(t, regs, exit: nil) }
            return translated(t, regs, exit: .rootMay)
        case .chown(let file, let uid, let gid):
            // i386's 16-bit chown: 0xffff keeps the id, as -1 does.
            let narrow = abi(regs).narrowIds.contains(regs.syscall)
            func id(_ i: Int) -> UInt64 { narrow ? UInt64(Self.widened(UInt32(truncatingIfNeeded: regs.arg(i)))) : regs.arg(i) }
            return chownEnter(t, regs, file, uid: id(uid), gid: id(gid))
        case .chmod(let file, let mode): return chmodEnter(t, regs, file, mode: UInt32(truncatingIfNeeded: regs.arg(mode)))
        case .mknod(let a, let mode, let dev): return mknodEnter(t, regs, a, modeArg: mode, devArg: dev)
        case .mkdir(let a, let mode): return mkdirEnter(t, regs, a, modeArg: mode)
        case .create(let a, let flags, let mode): return createEnter(t, regs, a, flagsArg: flags, modeArg: mode)
        case .remove(let a): return removeEnter(t, regs, a)
        }
    }

    /// sethostname, setdomainname under a faked uname: as PRoot's -k, the name is what uname
    /// says from now on; a faked root may set it (the kernel is not asked), anyone else
    /// gets the kernel's answer.
    func setUnameEnter(_ t: Tracee, _ regs: Trace.Registers, field: Int) -> EnterResult {
        guard let c = t.credentials ?? emulator?.initialCredentials, c.privileged else { return .allow }
        let length = Int(truncatingIfNeeded: regs.arg(1))
        guard length >= 0, length < FakeUname.fieldLength else { return .fail(.invalidArgument) }
        guard let bytes = Trace.read(t.pid, at: regs.arg(0), count: length) else { return .fail(.badAddress) }
        emulator?.uname?.fields[field] = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return .succeed(0)
    }

    func emulatedExit(_ e: EmulatedExit, _ t: Tracee, result: Int64) -> Int64 {
        guard let emulator else { return result }
        switch e {
        case .stat(let buffer, let layout):
            guard result == 0, var bytes = Trace.read(t.pid, at: buffer, count: layout.size),
                  let real = layout.read(bytes) else { return result }
            let shown = emulator.table.shown(real)
            if shown != real {
                layout.write(shown, into: &bytes)
                _ = Trace.write(t.pid, at: buffer, bytes)
            }
        case .uname(let buffer):
            let size = 6 * FakeUname.fieldLength
            guard result == 0, let fake = emulator.uname, var bytes = Trace.read(t.pid, at: buffer, count: size) else { return result }
            fake.apply(toUtsname: &bytes)
            _ = Trace.write(t.pid, at: buffer, bytes)
        case .made(let path, let permissions, let device):
            guard result == 0, let st = try? Files.stat(path, at: AT_FDCWD, follow: false) else { return result }
            let key = FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            emulator.table.update(key) { a in
                if let permissions { a.permissions = (permissions & 0o7700) | (UInt32(st.st_mode) & 0o077) }
                if let device { a.type = device.type; a.rdev = device.rdev }
            }
            recordCreator(t, key)
        case .created(let permissions):
            guard result >= 0, let st = try? Files.stat("/proc/\(t.pid)/fd/\(result)", at: AT_FDCWD, follow: true) else { return result }
            created(t, st, permissions: permissions)
        case .forget(let key):
            if result == 0 { emulator.table.forget(key) }
        case .rootMay:
            if result == -Int64(EPERM) { return 0 }
        }
        return result
    }

    /// A file made by a process whose faked fs ids are not the session's own gets them.
    private func recordCreator(_ t: Tracee, _ key: FileKey) {
        guard let emulator, emulator.initialCredentials != nil else { return }
        let c = credentials(t)
        let shownUid = emulator.table.shownUid, shownGid = emulator.table.shownGid
        emulator.table.update(key) { a in
            if c.fsuid != shownUid { a.uid = c.fsuid }
            if c.fsgid != shownGid { a.gid = c.fsgid }
        }
    }

    /// Path arguments translated as for any path call, with `exit` asked for.
    private func translated(_ t: Tracee, _ regs: Trace.Registers, exit: EmulatedExit?, change: ((inout Trace.Registers) -> Void)? = nil) -> EnterResult {
        var r: EnterResult = .allow
        if case .paths(let args)? = SyscallTable.group(engineCall(regs)) { r = pathsEnter(t, regs, args) }
        var new: Trace.Registers
        switch r {
        case .allow: new = regs
        case .rewrite(let x, _): new = x
        case .fail, .succeed, .hold: return r
        }
        change?(&new)
        if let exit { return .rewrite(new, exit: .emulated(exit)) }
        if case .allow = r, change == nil { return .allow }
        return .rewrite(new, exit: .restore)
    }

    // MARK: ids

    /// A 16-bit id as the kernel widens it (low2highuid): 0xffff is -1, "unchanged".
    static func widened(_ id: UInt32) -> UInt32 { id & 0xFFFF == 0xFFFF ? Credentials.keep : id & 0xFFFF }

    /// `narrow`: i386's 16-bit calls (getuid, setresuid, getgroups...): ids in and out are
    /// 16 bits wide, those above shown as 65534 (the kernel's overflowuid).
    private func idsEnter(_ call: IdCall, _ t: Tracee, _ regs: Trace.Registers, narrow: Bool = false) -> EnterResult {
        var c = credentials(t)
        func id(_ i: Int) -> UInt32 {
            let v = UInt32(truncatingIfNeeded: regs.arg(i))
            return narrow ? Self.widened(v) : v
        }
        func shown(_ v: UInt32) -> UInt32 { narrow ? StatLayout.narrowId(v) : v }
        func bytes(_ v: UInt32) -> [UInt8] { Array(withUnsafeBytes(of: shown(v).littleEndian, Array.init).prefix(narrow ? 2 : 4)) }
        func store(_ e: Errno?) -> EnterResult {
            if let e { return .fail(e) }
            t.credentials = c
            return .succeed(0)
        }
        switch call {
        case .get(let which, let effective):
            let x = c.triple(which)
            return .succeed(Int64(shown(effective ? x.e : x.r)))
        case .getRES(let which):
            let x = c.triple(which)
            for (i, v) in [x.r, x.e, x.s].enumerated() {
                guard Trace.write(t.pid, at: regs.arg(i), bytes(v)) else { return .fail(.badAddress) }
            }
            return .succeed(0)
        case .getGroups:
            let size = Int(Int32(truncatingIfNeeded: regs.arg(0)))
            guard size >= 0 else { return .fail(.invalidArgument) }
            if size == 0 { return .succeed(Int64(c.groups.count)) }
            guard size >= c.groups.count else { return .fail(.invalidArgument) }
            guard Trace.write(t.pid, at: regs.arg(1), c.groups.flatMap(bytes)) else { return .fail(.badAddress) }
            return .succeed(Int64(c.groups.count))
        case .set(let which): return store(c.set(which, id(0)))
        case .setRE(let which): return store(c.setRE(which, real: id(0), effective: id(1)))
        case .setRES(let which): return store(c.setRES(which, real: id(0), effective: id(1), saved: id(2)))
        case .setFS(let which):
            let old = c.setFS(which, id(0))
            t.credentials = c
            return .succeed(Int64(shown(old)))
        case .setGroups:
            let count = Int(Int32(truncatingIfNeeded: regs.arg(0)))
            guard count >= 0, count <= Credentials.maxGroups else { return .fail(.invalidArgument) }
            var list: [UInt32] = []
            if count > 0 {
                let size = narrow ? 2 : 4
                guard let b = Trace.read(t.pid, at: regs.arg(1), count: size * count) else { return .fail(.badAddress) }
                list = (0..<count).map { narrow ? Self.widened(StatLayout.u16(b, 2 * $0)) : StatLayout.u32(b, 4 * $0) }
            }
            return store(c.setGroups(list))
        }
    }

    // MARK: files

    /// The host file an argument names, as the supervisor can reach it, and its guest path.
    private func hostFile(_ t: Tracee, _ regs: Trace.Registers, _ file: FileArg) -> Result<(path: String, follow: Bool, guest: GuestPath?), Errno> {
        switch file {
        case .fd(let i):
            return .success(("/proc/\(t.pid)/fd/\(Int32(truncatingIfNeeded: regs.arg(i)))", true, nil))
        case .path(let a):
            let bytes: [UInt8]
            switch Trace.readString(t.pid, at: regs.arg(a.path)) {
            case .success(let b): bytes = b
            case .failure(let e): return .failure(e)
            }
            let dirfd = a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
            if bytes.isEmpty {
                guard let flag = a.emptyPathFlag, regs.arg(flag) & SyscallTable.atEmptyPath != 0, dirfd != Tracer.atFDCWD else {
                    return .failure(.noSuchFileOrDirectory)
                }
                return .success(("/proc/\(t.pid)/fd/\(dirfd)", true, nil))
            }
            let follow = follows(a.follow, t, regs)
            switch translate(t, bytes, dirfd: dirfd, follow: follow) {
            case .failure(let e): return .failure(e)
            case .success(let tr):
                if tr.changed || tr.host.hasPrefix("/") { return .success((tr.host, follow, tr.guest)) }
                let base = dirfd == Tracer.atFDCWD ? "/proc/\(t.pid)/cwd" : "/proc/\(t.pid)/fd/\(dirfd)"
                return .success((base + "/" + tr.host, follow, tr.guest))
            }
        }
    }

    /// stat, lstat, newfstatat, fstat answered by the supervisor (no exit stop): the file
    /// it names stat'ed on the host, shown as faked, written to the tracee. nil where the
    /// kernel must answer in the tracee's own context (paths in /proc: `self` is the
    /// tracee there), or for anything unusual.
    private func statEnter(_ t: Tracee, _ regs: Trace.Registers, buffer: UInt64) -> EnterResult? {
        guard let emulator else { return nil }
        let file: FileArg
        switch engineCall(regs) {
        case Syscall.fstat: file = .fd(0)
        case Syscall.stat: file = .path(PathArg(path: 0, follow: .always))
        case Syscall.lstat: file = .path(PathArg(path: 0, follow: .never))
        case Syscall.newfstatat:
            // Only the flags this knows; AT_EMPTY_PATH with AT_FDCWD names the cwd.
            let flags = regs.arg(3)
            guard flags & ~(SyscallTable.atNoFollow | SyscallTable.atEmptyPath | 0x800 /* AT_NO_AUTOMOUNT */) == 0 else { return nil }
            if flags & SyscallTable.atEmptyPath != 0, Int32(truncatingIfNeeded: regs.arg(0)) == Tracer.atFDCWD { return nil }
            file = .path(PathArg(dirfd: 0, path: 1, follow: .unlessFlag(arg: 3, bit: SyscallTable.atNoFollow), emptyPathFlag: 3))
        default: return nil
        }
        let target: (path: String, follow: Bool, guest: GuestPath?)
        switch hostFile(t, regs, file) {
        case .success(let x): target = x
        case .failure: return nil  // the kernel says why
        }
        if let g = target.guest, procDestination.map({ g.isWithin($0) }) == true || bindings.host(g).hasPrefix("/proc/") { return nil }
        var st = stat()
        guard fstatat(Tracer.atFDCWD, target.path, &st, target.follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else {
            let e = errno
            if case .fd = file, e == ENOENT { return .fail(.badFileDescriptor) }
            return .fail(Errno(rawValue: e))
        }
        var bytes = withUnsafeBytes(of: &st) { Array($0) }
        guard bytes.count == StatLayout.stat.size else { return nil }
        let shown = emulator.table.shown(realFields(st))
        StatLayout.stat.write(shown, into: &bytes)
        guard Trace.write(t.pid, at: buffer, bytes) else { return .fail(.badAddress) }
        return .succeed(0)
    }

    /// For execEnter, with faked ids: the ids `t` runs `program` (a host path) with, as the
    /// kernel would (Credentials.exec), the file's faked owner and mode deciding. A nosuid
    /// mount ignores set-id bits (mnt_may_suid). nil when ids are not faked or on error.
    func execCredentials(_ t: Tracee, program: String) -> Credentials? {
        guard let emulator, emulator.initialCredentials != nil else { return nil }
        var st = stat()
        guard stat(program, &st) == 0 else { return nil }
        var shown = emulator.table.shown(realFields(st))
        if shown.mode & 0o6000 != 0 {
            var fs = statvfs()
            if statvfs(program, &fs) == 0, fs.f_flag & UInt(ST_NOSUID) != 0 { shown.mode &= ~0o6000 }
        }
        var c = credentials(t)
        c.exec(mode: shown.mode, uid: shown.uid, gid: shown.gid)
        return c
    }

    private func key(_ st: stat) -> FileKey { FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) }

    private func realFields(_ st: stat) -> StatFields {
        StatFields(key: key(st), mode: UInt32(st.st_mode), uid: st.st_uid, gid: st.st_gid, rdev: UInt64(st.st_rdev))
    }

    private func chownEnter(_ t: Tracee, _ regs: Trace.Registers, _ file: FileArg, uid: UInt64, gid: UInt64) -> EnterResult {
        guard let emulator else { return .allow }
        let target: (path: String, follow: Bool, guest: GuestPath?)
        switch hostFile(t, regs, file) {
        case .success(let x): target = x
        case .failure(let e): return .fail(e)
        }
        if let g = target.guest, bindings.isReadOnly(g) { return .fail(.readOnlyFileSystem) }
        let st: stat
        do { st = try Files.stat(target.path, at: AT_FDCWD, follow: target.follow) } catch { return .fail(error.errno) }
        let newUid = UInt32(truncatingIfNeeded: uid), newGid = UInt32(truncatingIfNeeded: gid)
        let real = realFields(st)
        let shown = emulator.table.shown(real)
        guard ChownRule.allowed(credentials(t), currentUid: shown.uid, newUid: newUid, newGid: newGid) else { return .fail(.notPermitted) }
        let t = emulator.table
        // Nothing recorded where the default shows the same.
        let defaultUid = real.uid == t.hostUid ? t.shownUid : real.uid, defaultGid = real.gid == t.hostGid ? t.shownGid : real.gid
        emulator.table.update(real.key) { a in
            if newUid != Credentials.keep { a.uid = newUid == defaultUid ? nil : newUid }
            if newGid != Credentials.keep { a.gid = newGid == defaultGid ? nil : newGid }
            // As the kernel does: a changed owner of a non-directory loses its set-id bits.
            let p = a.permissions ?? (real.mode & FileMode.permissionMask)
            if newUid != Credentials.keep || newGid != Credentials.keep, real.mode & FileMode.typeMask != FileMode.directory, p & 0o6000 != 0 {
                a.permissions = p & ~(0o4000 | (p & 0o010 != 0 ? 0o2000 : 0))
            }
        }
        return .succeed(0)
    }

    private func chmodEnter(_ t: Tracee, _ regs: Trace.Registers, _ file: FileArg, mode: UInt32) -> EnterResult {
        guard let emulator else { return .allow }
        let target: (path: String, follow: Bool, guest: GuestPath?)
        switch hostFile(t, regs, file) {
        case .success(let x): target = x
        case .failure(let e): return .fail(e)
        }
        if let g = target.guest, bindings.isReadOnly(g) { return .fail(.readOnlyFileSystem) }
        let st: stat
        do { st = try Files.stat(target.path, at: AT_FDCWD, follow: target.follow) } catch { return .fail(error.errno) }
        let real = realFields(st)
        if real.mode & FileMode.typeMask == FileMode.symlink { return .fail(.notSupported) }
        guard ChownRule.chmodAllowed(credentials(t), currentUid: emulator.table.shown(real).uid) else { return .fail(.notPermitted) }
        let wanted = mode & FileMode.permissionMask
        let isDirectory = real.mode & FileMode.typeMask == FileMode.directory
        // PRoot's rule (Identity.appliesModes): the permission bits as asked, set-id bits faked.
        let applied = emulator.appliesModes ? wanted & 0o1777 : FileMode.usable(wanted, directory: isDirectory)
        if real.uid == emulator.table.hostUid {
            if Glibc.chmod(target.path, mode_t(applied)) != 0 { return .fail(Errno(rawValue: errno)) }
            // The mode asked for is the one to keep once the call's opened modes go back.
            t.openedModes.removeAll { $0.path == target.path }
        }
        // Remembered when the host file cannot show it (not the caller's, or kept usable).
        let remember = real.uid != emulator.table.hostUid || (emulator.appliesModes ? wanted != applied : FileMode.needsFaking(wanted, directory: isDirectory))
        emulator.table.update(real.key) { $0.permissions = remember ? wanted : nil }
        return .succeed(0)
    }

    private func mknodEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, modeArg: Int, devArg: Int) -> EnterResult {
        let mode = UInt32(truncatingIfNeeded: regs.arg(modeArg))
        let type = mode & FileMode.typeMask
        guard type == FileMode.characterDevice || type == FileMode.blockDevice, credentials(t).fsuid == 0 else {
            return translated(t, regs, exit: nil)
        }
        let path: String
        switch hostFile(t, regs, .path(a)) {
        case .success(let x): path = x.path
        case .failure(let e): return .fail(e)
        }
        let wanted = mode & FileMode.permissionMask
        let dev = regs.arg(devArg)
        return translated(t, regs, exit: .made(path: path, permissions: wanted, device: (type, dev))) { r in
            r.setArg(modeArg, UInt64(FileMode.regular | FileMode.usable(wanted, directory: false)))
            r.setArg(devArg, 0)
        }
    }

    private func mkdirEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, modeArg: Int) -> EnterResult {
        let wanted = UInt32(truncatingIfNeeded: regs.arg(modeArg)) & FileMode.permissionMask
        guard let faked = mkdirFakes(t, wanted: wanted) else { return translated(t, regs, exit: nil) }
        let path: String
        switch hostFile(t, regs, .path(a)) {
        case .success(let x): path = x.path
        case .failure(let e): return .fail(e)
        }
        return translated(t, regs, exit: .made(path: path, permissions: faked.permissions, device: nil)) { r in
            r.setArg(modeArg, UInt64(FileMode.usable(wanted, directory: true)))
        }
    }

    /// A directory a faked root makes: recorded with the mode asked (`permissions`, nil when
    /// the host's shows it) and its creator's faked ids.
    struct FakedDirectory {
        let permissions: UInt32?
    }

    /// A directory `t` makes with mode `wanted`: nil when nothing of it is faked; else it is
    /// made with a mode its owner can use, and recorded as the result says.
    func mkdirFakes(_ t: Tracee, wanted: UInt32) -> FakedDirectory? {
        guard let emulator else { return nil }
        let c = credentials(t)
        let foreignOwner = c.fsuid != emulator.table.shownUid || c.fsgid != emulator.table.shownGid
        let faking = FileMode.needsFaking(wanted, directory: true)
        guard faking || foreignOwner else { return nil }
        return FakedDirectory(permissions: faking ? wanted : nil)
    }

    private func createEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, flagsArg: Int?, modeArg: Int) -> EnterResult {
        let oCreat: UInt64 = 0o100
        let flags = flagsArg.map { regs.arg($0) } ?? (oCreat | 0o1 | 0o1000)
        // Most opens create nothing: nothing more to do for them.
        guard flags & oCreat != 0 else { return translated(t, regs, exit: nil) }
        let wanted = UInt32(truncatingIfNeeded: regs.arg(modeArg)) & FileMode.permissionMask
        let fakes: Bool
        switch createFakes(t, flags: flags, wanted: wanted, existing: {
            switch hostFile(t, regs, .path(a)) {
            case .success(let x): return .success((try? Files.stat(x.path, at: AT_FDCWD, follow: x.follow)) != nil)
            case .failure(let e): return .failure(e)
            }
        }) {
        case .success(let f): fakes = f
        case .failure(let e): return .fail(e)
        }
        guard fakes else { return translated(t, regs, exit: nil) }
        return translated(t, regs, exit: .created(permissions: wanted)) { r in
            r.setArg(modeArg, UInt64(FileMode.usable(wanted, directory: false)))
        }
    }

    /// Whether an open with O_CREAT (`flags`) of mode `wanted` by `t` makes a file whose
    /// mode or owner must be faked: then it is created with a mode the caller can use
    /// (`FileMode.usable`), and `created` records what was asked. Only a file the call
    /// makes: `existing` says whether the path names one already (not asked with O_EXCL).
    func createFakes(_ t: Tracee, flags: UInt64, wanted: UInt32, existing: () -> Result<Bool, Errno>) -> Result<Bool, Errno> {
        guard let emulator, emulator.initialCredentials != nil else { return .success(false) }
        let c = credentials(t)
        let foreignOwner = c.fsuid != emulator.table.shownUid || c.fsgid != emulator.table.shownGid
        guard FileMode.needsFaking(wanted, directory: false) || foreignOwner else { return .success(false) }
        if flags & 0o200 /* O_EXCL */ == 0 {
            switch existing() {
            case .success(true): return .success(false)
            case .success(false): break
            case .failure(let e): return .failure(e)
            }
        }
        return .success(true)
    }

    /// A file an open made with a usable mode (`createFakes`) and `st` its stat now:
    /// recorded with the mode asked, and its creator's faked ids.
    func created(_ t: Tracee, _ st: stat, permissions: UInt32) {
        guard let emulator else { return }
        let key = FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        emulator.table.update(key) { $0.permissions = (permissions & 0o7700) | (UInt32(st.st_mode) & 0o077) }
        recordCreator(t, key)
    }

    private func removeEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg) -> EnterResult {
        guard let emulator, !emulator.table.entries.isEmpty else { return translated(t, regs, exit: nil) }
        // renameat2 with RENAME_EXCHANGE keeps both files.
        if engineCall(regs) == Syscall.renameat2, regs.arg(4) & 2 /* RENAME_EXCHANGE */ != 0 { return translated(t, regs, exit: nil) }
        guard case .success(let target) = hostFile(t, regs, .path(a)), let record = recordGoing(removing: target.path)
        else { return translated(t, regs, exit: nil) }
        return translated(t, regs, exit: .forget(record))
    }

    /// The faked record that removing `host` (not following its last symlink) ends: the
    /// file's, if it has one and this is its last name (a directory has one name).
    func recordGoing(removing host: String) -> FileKey? {
        guard let emulator, !emulator.table.entries.isEmpty,
              let st = try? Files.stat(host, at: AT_FDCWD, follow: false), emulator.table[key(st)] != nil,
              st.st_nlink <= 1 || UInt32(st.st_mode) & FileMode.typeMask == FileMode.directory
        else { return nil }
        return key(st)
    }
}
