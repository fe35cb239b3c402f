import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// stat, lstat, newfstatat, statx, access, faccessat(2), readlink(at), (l)getxattr,
// (l)listxattr, statfs — and fstat when ids are faked — reach the supervisor through seccomp
// user notification, not ptrace: the tracee waits in the kernel while the supervisor answers,
// with no stop, no register access and no second stop at the exit. These are the calls metadata-heavy work (find,
// ls -l, git status, a shell's PATH search, a compiler's include search) makes most.
//
// When the tracee's own path already names the right host file (a relative path inside
// one binding, no symlink on the way) the kernel runs the call as it is (CONTINUE). Else
// the supervisor runs the call itself on the translated host path and writes the result
// into the tracee's memory.
//
// open and openat are answered likewise (all but those with O_TMPFILE or O_PATH), where the
// kernel can send a descriptor (SECCOMP_ADDFD_FLAG_SEND): the supervisor opens the translated host
// path and the descriptor becomes the tracee's, in one notification instead of two ptrace
// stops (entry, and exit to restore the registers). The supervisor runs as the tracee's
// user (a privileged one has its opens traced: SyscallTable.hostNotified), so the
// kernel's permission checks are the tracee's; a file it makes gets the tracee's umask
// (read from its /proc status), and a faked root's new file its faked mode. What could
// block (a FIFO, a device) is opened by a child of the supervisor's, which sends the
// descriptor when the open returns.
//
// The calls that change a path (unlink, unlinkat, rmdir, rename, renameat, renameat2, link,
// linkat, mkdir, mkdirat, utimensat with a path) are made here too, as the tracee's user on
// the translated host path (mkdir with the tracee's umask): the result is known at once, so
// a directory removed or moved drops the path caches without an exit stop. With faked ids
// the chown and chmod family and the id calls come here as well: the emulator answers them
// without the kernel. getcwd is answered from the guest's working directory.

/// The supervisor's answer to one notified call.
enum NotifyAnswer: Equatable {
    /// Let the kernel run the call as the tracee made it.
    case proceed
    case value(Int64)
    case error(Errno)
    /// Completed already: a descriptor was sent (or will be, by a child: an open that may
    /// block).
    case answered
}

extension Tracer {
    /// Answers one call that arrived on the listener.
    func notified(_ call: NotifiedCall, _ t: Tracee, _ regs: Trace.Registers, id: UInt64) -> NotifyAnswer {
        switch call {
        case .open(let a, let flags, let mode):
            return openNotified(t, regs, a, flags: regs.arg(flags), mode: regs.arg(mode), id: id)
        case .statfs(let a, let buffer):
            return statfsNotified(t, regs, a, buffer: regs.arg(buffer))
        case .wait(let waitid):
            return guestWaitNotified(t, regs, waitid: waitid, id: id)
        case .kill(let target, let signal, let thread):
            _ = guestKillEnter(t, regs, target: target, signal: signal, thread: thread)
            return .proceed
        case .stat(let a, let buffer, let layout, let flags, let mask):
            return statNotified(t, regs, a, buffer: regs.arg(buffer), layout: abi(regs).layout(layout, call: regs.syscall),
                                flags: flags.map { regs.arg($0) } ?? 0, mask: mask.map { UInt32(truncatingIfNeeded: regs.arg($0)) })
        case .fstat(let fd, let buffer):
            let n = Int32(truncatingIfNeeded: regs.arg(fd))
            return statHost(t, "/proc/\(t.pid)/fd/\(n)", follow: true, buffer: regs.arg(buffer), layout: abi(regs).layout(.stat, call: regs.syscall), flags: 0,
                            mask: nil, missing: .badFileDescriptor)
        case .access(let a, let mode, let flags):
            return accessNotified(t, regs, a, mode: Int32(truncatingIfNeeded: regs.arg(mode)),
                                  flags: Int32(truncatingIfNeeded: flags.map { regs.arg($0) } ?? 0))
        case .readlink(let a, let buffer, let size):
            return readlinkNotified(t, regs, a, buffer: regs.arg(buffer), size: Int(truncatingIfNeeded: regs.arg(size)))
        case .getxattr(let a, let name, let value, let size):
            return xattrNotified(t, regs, a, name: regs.arg(name), buffer: regs.arg(value), size: regs.arg(size))
        case .listxattr(let a, let list, let size):
            return xattrNotified(t, regs, a, name: nil, buffer: regs.arg(list), size: regs.arg(size))
        case .remove(let a, let flags, let directory):
            let f = flags.map { regs.arg($0) }
            return removeNotified(t, regs, a, flags: f, directory: directory || (f ?? 0) & SyscallTable.atRemoveDir != 0)
        case .rename(let from, let to, let flags):
            return renameNotified(t, regs, from: from, to: to, flags: flags.map { regs.arg($0) } ?? 0)
        case .link(let from, let to, let flags):
            return linkNotified(t, regs, from: from, to: to, flags: flags.map { regs.arg($0) } ?? 0)
        case .mkdir(let a, let mode):
            return mkdirNotified(t, regs, a, mode: regs.arg(mode))
        case .utimes(let a, let times, let flags):
            return utimesNotified(t, regs, a, times: regs.arg(times), flags: regs.arg(flags))
        case .getcwd:
            return Self.answeredWhole(getcwdEnter(t, regs))
        case .faked:
            // Only notified when ids are faked: the emulator answers these at their entry.
            guard let call = emulator?.calls[t.call] else { return .error(.noFunction) }
            return Self.answeredWhole(emulatedEnter(call, t, regs))
        }
    }

    /// The answer of a call its entry completes whole (getcwd, a faked chown, chmod or id
    /// call): its value or errno. One that would run the tracee's own call is refused,
    /// never let through untranslated (none does).
    private static func answeredWhole(_ r: EnterResult) -> NotifyAnswer {
        switch r {
        case .succeed(let v): return .value(v)
        case .fail(let e): return .error(e)
        case .allow, .rewrite, .hold: return .error(.notSupported)
        }
    }

    private var fakesIds: Bool { emulator?.initialCredentials != nil }

    /// The tracee's path argument, translated; nil path: an empty one.
    /// `read`: the path, if it was read already. `bareNames`: the caller only needs to
    /// know whether the path is `changed` (a bare name the kernel resolves alone is not).
    private func argument(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, follow: Bool, read: [UInt8]? = nil,
                          bareNames: Bool = false) -> Result<Translation?, Errno> {
        let path: [UInt8]
        if let read {
            path = read
        } else {
            switch pathBytes(t, regs, a) {
            case .success(let p): path = p
            case .failure(let e): return .failure(e)
            }
        }
        if path.isEmpty { return .success(nil) }
        if bareNames, kernelResolvesAlone(path, follow: follow, t) { return .success(Translation(unchangedName: path)) }
        return translate(t, path, dirfd: dirfd(a, regs), follow: follow).map(Optional.some)
    }

    private func dirfd(_ a: PathArg, _ regs: Trace.Registers) -> Int32 {
        a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
    }

    /// The host path the supervisor can use for `tr` in its own context: a relative path
    /// left as it is goes through the tracee's cwd or dirfd, and /proc/self names the tracee.
    func hostPath(_ t: Tracee, _ tr: Translation, dirfd: Int32, follow: Bool) -> String {
        var host = tr.host
        if !host.hasPrefix("/") {
            if let proc = procDestination, tr.guest.isWithin(proc) {
                // Relative to a directory in /proc: `self` must still name the tracee.
                host = bindings.host(tr.guest)
            } else {
                host = (dirfd == Tracer.atFDCWD ? "/proc/\(t.pid)/cwd" : "/proc/\(t.pid)/fd/\(dirfd)") + "/" + host
            }
        }
        return inTracee(host, t, followLast: follow)
    }

    private func statNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, buffer: UInt64, layout: StatLayout,
                              flags: UInt64, mask: UInt32?) -> NotifyAnswer {
        // statx(2) takes a NULL path with AT_EMPTY_PATH (Linux 6.11); the kernel knows best.
        guard regs.arg(a.path) != 0 else { return .proceed }
        let follow = follows(a.follow, t, regs)
        let host: String
        var learned: PlainKey?
        switch argument(t, regs, a, follow: follow, bareNames: true) {
        case .failure(let e): return .error(e)
        case .success(nil):
            // An empty path names the dirfd itself with AT_EMPTY_PATH (else ENOENT): the
            // kernel answers, unless the owner shown must be faked.
            guard fakesIds, let flag = a.emptyPathFlag, regs.arg(flag) & SyscallTable.atEmptyPath != 0 else { return .proceed }
            let fd = dirfd(a, regs)
            host = fd == Tracer.atFDCWD ? "/proc/\(t.pid)/cwd" : "/proc/\(t.pid)/fd/\(fd)"
            return statHost(t, host, follow: true, buffer: buffer, layout: layout, flags: flags, mask: mask, missing: .badFileDescriptor)
        case .success(let tr?):
            if !tr.changed && !fakesIds { return .proceed }
            // Found missing on the way here (a search along a path list): no second look.
            if tr.missing { return .error(.noSuchFileOrDirectory) }
            host = hostPath(t, tr, dirfd: dirfd(a, regs), follow: follow)
            learned = tr.wholePath
        }
        return statHost(t, host, follow: follow, buffer: buffer, layout: layout, flags: flags, mask: mask, missing: nil,
                        learning: learned)
    }

    /// Stats `host` here and writes the result (with faked owners) to the tracee.
    /// `missing`: the errno to give instead of ENOENT (a descriptor that is not open).
    /// `learning`: the path's key in the symlink-free cache, remembered there when the
    /// stat (not following) shows no symlink.
    private func statHost(_ t: Tracee, _ host: String, follow: Bool, buffer: UInt64, layout: StatLayout, flags: UInt64,
                          mask: UInt32?, missing: Errno?, learning: PlainKey? = nil) -> NotifyAnswer {
        let noFollow = follow ? 0 : AT_SYMLINK_NOFOLLOW
        // AT_NO_AUTOMOUNT (and statx's AT_STATX_* sync bits) pass through.
        let kept = Int32(truncatingIfNeeded: flags) & (layout == .statx ? 0x800 | 0x6000 : 0x800)
        var bytes: [UInt8]
        switch layout {
        case .stat, .stat64, .compatStat:
            var st = stat()
            guard fstatat(Tracer.atFDCWD, host, &st, noFollow | kept) == 0 else { return failure(errno, missing) }
            // An i386 caller's struct stat64 or struct stat, from the host's.
            guard let b = layout.converted(fromStat: withUnsafeBytes(of: &st) { Array($0) }) else { return .error(Errno(rawValue: EOVERFLOW)) }
            bytes = b
        case .statx:
            switch Files.statxBytes(host, flags: noFollow | kept, mask: mask ?? 0) {
            case .success(let b): bytes = b
            case .failure(let e): return failure(e.rawValue, missing)
            }
        }
        guard bytes.count == layout.size else { return .error(.invalidArgument) }
        if let learning, !follow, layout.isPlainFile(bytes) { rememberPlain(learning) }
        if fakesIds, let emulator, let real = layout.read(bytes) {
            let shown = emulator.table.shown(real)
            if shown != real { layout.write(shown, into: &bytes) }
        }
        guard Trace.write(t.pid, at: buffer, bytes) else { return .error(.badAddress) }
        return .value(0)
    }

    private func failure(_ e: Int32, _ missing: Errno?) -> NotifyAnswer {
        if e == ENOENT, let missing { return .error(missing) }
        return .error(Errno(rawValue: e))
    }

    private func accessNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, mode: Int32, flags: Int32) -> NotifyAnswer {
        switch argument(t, regs, a, follow: follows(a.follow, t, regs)) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed
        case .success(let tr?):
            if writes(a.writes, t, regs), bindings.isReadOnly(tr.guest) { return .error(.readOnlyFileSystem) }
            if !tr.changed && t.openedModes.isEmpty { return .proceed }
            if tr.missing { return .error(.noSuchFileOrDirectory) }
            let host = hostPath(t, tr, dirfd: dirfd(a, regs), follow: Int32(flags) & AT_SYMLINK_NOFOLLOW == 0)
            // AT_EACCESS and AT_SYMLINK_NOFOLLOW; anything else the kernel refuses alike.
            return faccessat(Tracer.atFDCWD, host, mode, flags) == 0 ? .value(0) : .error(Errno(rawValue: errno))
        }
    }

    private func readlinkNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, buffer: UInt64, size: Int) -> NotifyAnswer {
        guard size > 0 else { return .error(.invalidArgument) }
        let tr: Translation
        switch argument(t, regs, a, follow: false) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed
        case .success(let x?): tr = x
        }
        // realpath(3) reads every component of every path it is given (gcc's include
        // search): the guest path is made once here.
        let guest = tr.guest
        if let exe = procExe(t, guest) {
            let bytes = Array(exe.description.utf8.prefix(size))
            return Trace.write(t.pid, at: buffer, bytes) ? .value(Int64(bytes.count)) : .error(.badAddress)
        }
        let underProc = procDestination.map { guest.isWithin($0) } ?? false
        if underProc, let own = ownProcLink(t, guest) {
            // /proc/self itself: its text is the tracee's pid, which only the tracee's own
            // readlink (or this) gives.
            let bytes = Array(own.utf8.prefix(size))
            return Trace.write(t.pid, at: buffer, bytes) ? .value(Int64(bytes.count)) : .error(.badAddress)
        }
        if let text = bindLinkText(t, tr, dirfd: dirfd(a, regs), guest: guest) {
            switch text {
            case .success(let b):
                let bytes = Array(b.prefix(size))
                return Trace.write(t.pid, at: buffer, bytes) ? .value(Int64(bytes.count)) : .error(.badAddress)
            case .failure(let e): return .error(e)
            }
        }
        if !tr.changed && !underProc && t.openedModes.isEmpty { return .proceed }
        let host = hostPath(t, tr, dirfd: dirfd(a, regs), follow: false)
        var out: [UInt8]
        // Under /proc the host's text is translated first, then cut to the tracee's size.
        switch Files.readlinkBytes(host, size: underProc ? 4096 : min(size, 1 << 16)) {
        case .success(let b): out = b
        case .failure(let e): return .error(e)
        }
        if underProc, let guest = guestLinkText(out) { out = Array(guest.prefix(size)) }
        return Trace.write(t.pid, at: buffer, out) ? .value(Int64(out.count)) : .error(.badAddress)
    }

    /// getxattr and lgetxattr (`name`: the attribute's address), listxattr and llistxattr
    /// (`name` nil): run here on the translated host path, the value written to the tracee.
    private func xattrNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, name: UInt64?, buffer: UInt64,
                               size: UInt64) -> NotifyAnswer {
        let follow = follows(a.follow, t, regs)
        // The path and the name in one read where they are short (this is what ls -l does
        // for every file, twice).
        var path: [UInt8]?
        var key: [UInt8] = []
        if let name, regs.arg(a.path) != 0 {
            switch Trace.readStrings(t.pid, at: regs.arg(a.path), name, limits: (4096, 255)) {
            case .success(let (p, k)): (path, key) = (p, k)
            case .failure: break  // each read again below, for its own error
            }
        }
        let tr: Translation
        switch argument(t, regs, a, follow: follow, read: path, bareNames: true) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed  // ENOENT from the kernel
        case .success(let x?): tr = x
        }
        if !tr.changed && t.openedModes.isEmpty { return .proceed }
        if tr.missing { return .error(.noSuchFileOrDirectory) }
        let host = hostPath(t, tr, dirfd: Tracer.atFDCWD, follow: follow)
        // As the kernel does: a larger buffer is cut to XATTR_SIZE_MAX.
        let room = Int(min(size, 65536))
        let got: Result<(Int, [UInt8]), Errno>
        if let name {
            // XATTR_NAME_MAX: a longer (or empty) name is ERANGE.
            if path == nil {
                switch Trace.readString(t.pid, at: name, limit: 255) {
                case .success(let k): key = k
                case .failure(.fileNameTooLong): return .error(.outOfRange)
                case .failure(let e): return .error(e)
                }
            }
            if key.isEmpty { return .error(.outOfRange) }
            got = Files.extendedAttribute(host, name: key, size: room, follow: follow)
        } else {
            got = Files.extendedAttributeNames(host, size: room, follow: follow)
        }
        switch got {
        case .failure(let e): return .error(e)
        case .success(let (n, bytes)):
            guard Trace.write(t.pid, at: buffer, bytes) else { return .error(.badAddress) }
            return .value(Int64(n))
        }
    }

    /// statfs (libselinux asks it of /sys/fs/selinux in every program that links it: sed,
    /// grep, mv, ls...): the host's answer for the translated path.
    private func statfsNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, buffer: UInt64) -> NotifyAnswer {
        let path: [UInt8]
        switch pathBytes(t, regs, a) {
        case .success(let p): path = p
        case .failure(let e): return .error(e)
        }
        switch argument(t, regs, a, follow: true, read: path) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed  // ENOENT from the kernel
        case .success(let tr?):
            if Self.resolvesAlike(tr, path) && t.openedModes.isEmpty { return .proceed }
            if tr.missing { return .error(.noSuchFileOrDirectory) }
            switch Files.statfsBytes(hostPath(t, tr, dirfd: Tracer.atFDCWD, follow: true)) {
            case .success(let bytes): return Trace.write(t.pid, at: buffer, bytes) ? .value(0) : .error(.badAddress)
            case .failure(let e): return .error(e)
            }
        }
    }

    /// The path argument `a` of a call that changes it, read and translated (`follow`: its
    /// last symlink followed): nil for an empty path (the kernel's ENOENT, or AT_EMPTY_PATH's
    /// descriptor); the errno where it cannot be read or translated, or where the call would
    /// write on a read-only bind.
    private func changedPath(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, follow: Bool)
        -> Result<(given: [UInt8], tr: Translation)?, Errno> {
        let path: [UInt8]
        switch pathBytes(t, regs, a) {
        case .success(let p): path = p
        case .failure(let e): return .failure(e)
        }
        guard !path.isEmpty else { return .success(nil) }
        switch translate(t, path, dirfd: dirfd(a, regs), follow: follow) {
        case .failure(let e): return .failure(e)
        case .success(let tr):
            if writes(a.writes, t, regs), bindings.isReadOnly(tr.guest) { return .failure(.readOnlyFileSystem) }
            return .success((path, tr))
        }
    }

    /// unlink, rmdir, unlinkat (`flags` nil: unlink or rmdir, whose `directory` says which):
    /// removed here, on the translated host path, as the tracee's own call would remove it.
    /// Traced, a removal cost two stops (the exit, to restore the registers and, for a
    /// directory, to learn whether it went); here the answer is known at once: a directory
    /// that went may have been a working directory, so the path caches go. A faked root's
    /// record of a file goes with its last name (FakeIdentity's removal).
    private func removeNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, flags: UInt64?,
                                directory: Bool) -> NotifyAnswer {
        let (path, tr): ([UInt8], Translation)
        switch changedPath(t, regs, a, follow: false) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed  // empty: ENOENT from the kernel
        case .success(let x?): (path, tr) = x
        }
        if tr.missing { return .error(.noSuchFileOrDirectory) }
        let host = hostPath(t, tr, dirfd: dirfd(a, regs), follow: false)
        let record = recordGoing(removing: host)
        // A file the kernel finds alike from the caller, with nothing to forget: its own call.
        if !directory, record == nil, Self.resolvesAlike(tr, path), t.openedModes.isEmpty { return .proceed }
        // unlinkat's flags as given (the kernel refuses unknown ones); rmdir's is AT_REMOVEDIR.
        let how = flags.map { Int32(truncatingIfNeeded: $0) } ?? (directory ? Int32(SyscallTable.atRemoveDir) : 0)
        guard Glibc.unlinkat(Tracer.atFDCWD, host, how) == 0 else { return .error(Errno(rawValue: errno)) }
        if directory { cacheGeneration &+= 1 }
        if let record { emulator?.table.forget(record) }
        return .value(0)
    }

    /// rename, renameat, renameat2: renamed here on the two translated host paths. A
    /// directory or a symlink that moved (or, with RENAME_EXCHANGE, anything swapped) may
    /// change what the path caches hold: they go once it has. A faked root's record of a
    /// file the rename replaces goes with it.
    private func renameNotified(_ t: Tracee, _ regs: Trace.Registers, from a: PathArg, to b: PathArg, flags: UInt64) -> NotifyAnswer {
        var given: [[UInt8]] = []
        var tr: [Translation] = []
        for arg in [a, b] {
            switch changedPath(t, regs, arg, follow: false) {
            case .failure(let e): return .error(e)
            case .success(nil): return .proceed  // empty: ENOENT from the kernel
            case .success(let x?): given.append(x.given); tr.append(x.tr)
            }
        }
        if tr[0].missing { return .error(.noSuchFileOrDirectory) }
        let from = hostPath(t, tr[0], dirfd: dirfd(a, regs), follow: false)
        let to = hostPath(t, tr[1], dirfd: dirfd(b, regs), follow: false)
        let exchange = flags & 2 /* RENAME_EXCHANGE */ != 0
        let movesAFile = !exchange && Self.namesOnlyAFile(from)
        let record = exchange ? nil : recordGoing(removing: to)
        if movesAFile, record == nil, Self.resolvesAlike(tr[0], given[0]), Self.resolvesAlike(tr[1], given[1]), t.openedModes.isEmpty {
            return .proceed
        }
        if case .failure(let e) = Files.rename(from, to: to, flags: UInt32(truncatingIfNeeded: flags)) { return .error(e) }
        if !movesAFile { cacheGeneration &+= 1 }
        if let record { emulator?.table.forget(record) }
        return .value(0)
    }

    /// link, linkat (without AT_EMPTY_PATH: the filter traces that one): linked here on the
    /// two translated host paths. A new name for a symlink (linkat without AT_SYMLINK_FOLLOW
    /// links the symlink itself) may stand where the path caches knew a file: they go once
    /// it is made.
    private func linkNotified(_ t: Tracee, _ regs: Trace.Registers, from a: PathArg, to b: PathArg, flags: UInt64) -> NotifyAnswer {
        let follow = follows(a.follow, t, regs)
        var given: [[UInt8]] = []
        var tr: [Translation] = []
        for (arg, follow) in [(a, follow), (b, false)] {
            switch changedPath(t, regs, arg, follow: follow) {
            case .failure(let e): return .error(e)
            case .success(nil): return .proceed  // empty (without AT_EMPTY_PATH): ENOENT from the kernel
            case .success(let x?): given.append(x.given); tr.append(x.tr)
            }
        }
        if tr[0].missing { return .error(.noSuchFileOrDirectory) }
        let from = hostPath(t, tr[0], dirfd: dirfd(a, regs), follow: follow)
        let to = hostPath(t, tr[1], dirfd: dirfd(b, regs), follow: false)
        let linksAFile = Self.namesOnlyAFile(from, follow: follow)
        if linksAFile, Self.resolvesAlike(tr[0], given[0]), Self.resolvesAlike(tr[1], given[1]), t.openedModes.isEmpty {
            return .proceed
        }
        guard Glibc.linkat(Tracer.atFDCWD, from, Tracer.atFDCWD, to, Int32(truncatingIfNeeded: flags)) == 0 else {
            return .error(Errno(rawValue: errno))
        }
        if !linksAFile { cacheGeneration &+= 1 }
        return .value(0)
    }

    /// mkdir, mkdirat: made here with the caller's umask; a faked root's directory with a
    /// mode its owner can use, the asked one and its faked owner remembered (FakeIdentity).
    private func mkdirNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, mode: UInt64) -> NotifyAnswer {
        let (path, tr): ([UInt8], Translation)
        switch changedPath(t, regs, a, follow: false) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed  // empty: ENOENT from the kernel
        case .success(let x?): (path, tr) = x
        }
        let fd = dirfd(a, regs)
        let wanted = UInt32(truncatingIfNeeded: mode) & FileMode.permissionMask
        let faked = mkdirFakes(t, wanted: wanted)
        if faked == nil, Self.resolvesAlike(tr, path), t.openedModes.isEmpty { return .proceed }
        let host = hostPath(t, tr, dirfd: fd, follow: false)
        let asked = faked != nil ? mode_t(FileMode.usable(wanted, directory: true)) : mode_t(truncatingIfNeeded: mode) & 0o7777
        guard Proc.withUmask(Proc.umask(of: t.pid) ?? 0o022, { Glibc.mkdir(host, asked) }) == 0 else {
            return .error(Errno(rawValue: errno))
        }
        if let faked { _ = emulatedExit(.made(path: host, permissions: faked.permissions, device: nil), t, result: 0) }
        return .value(0)
    }

    /// utimensat with a path: the times set here on the translated host path (`times`: the
    /// caller's two timespecs, read first; NULL: now).
    private func utimesNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, times: UInt64, flags: UInt64) -> NotifyAnswer {
        // NULL: futimens, the descriptor itself (the filter lets it through).
        guard regs.arg(a.path) != 0 else { return .proceed }
        let follow = follows(a.follow, t, regs)
        let fd = dirfd(a, regs)
        let (path, tr): ([UInt8], Translation)
        switch changedPath(t, regs, a, follow: follow) {
        case .failure(let e): return .error(e)
        case .success(nil): return .proceed  // empty: the dirfd itself with AT_EMPTY_PATH, else ENOENT: the kernel's
        case .success(let x?): (path, tr) = x
        }
        if Self.resolvesAlike(tr, path), t.openedModes.isEmpty { return .proceed }
        if tr.missing { return .error(.noSuchFileOrDirectory) }
        var spec: [timespec]?
        if times != 0 {
            guard let b = Trace.read(t.pid, at: times, count: 2 * MemoryLayout<timespec>.size) else { return .error(.badAddress) }
            spec = b.withUnsafeBytes { raw in (0..<2).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<timespec>.size, as: timespec.self) } }
        }
        let host = hostPath(t, tr, dirfd: fd, follow: follow)
        let r = spec.map { Glibc.utimensat(Tracer.atFDCWD, host, $0, Int32(truncatingIfNeeded: flags)) }
            ?? Glibc.utimensat(Tracer.atFDCWD, host, nil, Int32(truncatingIfNeeded: flags))
        return r == 0 ? .value(0) : .error(Errno(rawValue: errno))
    }

    /// The tracee's path argument as it wrote it (EFAULT for NULL).
    private func pathBytes(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg) -> Result<[UInt8], Errno> {
        let pointer = regs.arg(a.path)
        guard pointer != 0 else { return .failure(.badAddress) }
        return Trace.readString(t.pid, at: pointer)
    }

    /// The kernel resolves the tracee's own `path` to the file `tr` names: a relative path
    /// left as it is, or an absolute one the translation leaves alone (/proc, /dev under
    /// binds of their own), which then names what the tracee's own call would (its
    /// /proc/self, its terminal).
    static func resolvesAlike(_ tr: Translation, _ path: [UInt8]) -> Bool {
        !tr.changed || (tr.host.utf8.first == UInt8(ascii: "/") && tr.host.utf8.elementsEqual(path))
    }

    /// open, openat, but not with O_TMPFILE or O_PATH (the filter traces those:
    /// SyscallTable.tracedOpenBits).
    private func openNotified(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, flags: UInt64, mode: UInt64,
                              id: UInt64) -> NotifyAnswer {
        // Never here from the filter; the kernel's answer would be the host's.
        guard flags & SyscallTable.tracedOpenBits == 0 else { return .error(.notSupported) }
        let path: [UInt8]
        switch pathBytes(t, regs, a) {
        case .success(let p): path = p
        case .failure(let e): return .error(e)
        }
        // Empty: ENOENT from the kernel.
        guard !path.isEmpty else { return .proceed }
        let follow = Self.openFollows(flags)
        let writing = writes(a.writes, t, regs)
        let creating = flags & UInt64(Self.oCreat) != 0
        let fd = dirfd(a, regs)
        // An fts walk's openat(dirfd, name, O_NOFOLLOW): the kernel resolves it as the guest would.
        if !writing, kernelResolvesAlone(path, follow: follow, t) { return .proceed }
        let tr: Translation
        switch translate(t, path, dirfd: fd, follow: follow) {
        case .success(let x): tr = x
        case .failure(let e): return .error(e)
        }
        if writing, bindings.isReadOnly(tr.guest) { return .error(.readOnlyFileSystem) }
        // A library search opens many paths that are not there.
        if tr.missing && !creating { return .error(.noSuchFileOrDirectory) }
        var host: String?
        // A faked root's new file: made with a mode its owner can use, the asked one kept.
        var fakedMode: UInt32?
        if creating {
            let wanted = UInt32(truncatingIfNeeded: mode) & FileMode.permissionMask
            let fakes = createFakes(t, flags: flags, wanted: wanted, existing: {
                var st = stat()
                host = host ?? hostPath(t, tr, dirfd: fd, follow: follow)
                return .success(fstatat(Tracer.atFDCWD, host!, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0)
            })
            if case .success(true) = fakes { fakedMode = wanted }
        }
        // The kernel resolves the tracee's own path alike: it opens it (a file it makes gets
        // its umask).
        if Self.resolvesAlike(tr, path) && t.openedModes.isEmpty && fakedMode == nil { return .proceed }
        var request = OpenRequest(flags: Int32(truncatingIfNeeded: flags), mode: mode_t(truncatingIfNeeded: mode) & 0o7777, umask: 0, id: id)
        if let fakedMode { request.mode = mode_t(FileMode.usable(fakedMode, directory: false)) }
        // A file made here gets the tracee's umask, not the supervisor's.
        if creating { request.umask = Proc.umask(of: t.pid) ?? 0o022 }
        let answer = openHere(host ?? hostPath(t, tr, dirfd: fd, follow: follow), request, follow: follow) { st in
            if let fakedMode { self.created(t, st, permissions: fakedMode) }
        }
        return answer
    }

    /// An open as the tracee asked it: `mode` and `umask` for a file it makes.
    struct OpenRequest {
        var flags: Int32
        var mode: mode_t
        var umask: mode_t
        var id: UInt64
        var closeOnExec: Bool { flags & O_CLOEXEC != 0 }
        var creating: Bool { flags & Tracer.oCreat != 0 }
    }

    /// Opens `host` as the tracee asked and sends it the descriptor. O_NONBLOCK and O_NOCTTY
    /// keep the supervisor from waiting or taking a terminal: a file that turns out to be
    /// neither regular nor a directory goes to a child that opens it as asked
    /// (SeccompNotify.openDetached); a regular file looked at first, so that a FIFO is
    /// never opened twice. `opened`: the file's stat, once open (and before it is sent).
    private func openHere(_ host: String, _ r: OpenRequest, follow: Bool, opened: (stat) -> Void) -> NotifyAnswer {
        var st = stat()
        // Missing, or no access: open's own errno below says which.
        if fstatat(Tracer.atFDCWD, host, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0, !Self.opensAtOnce(st.st_mode) {
            return openDetached(host, r)
        }
        let flags = (r.flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) & ~Self.oAsync
        let mine: Int32
        if r.creating {
            mine = Proc.withUmask(r.umask) { Glibc.open(host, flags, r.mode) }
        } else {
            mine = Glibc.open(host, flags)
        }
        guard mine >= 0 else { return .error(Errno(rawValue: errno)) }
        defer { Files.close(mine) }
        // Swapped for a FIFO or a device since it was looked at.
        if fstat(mine, &st) != 0 || !Self.opensAtOnce(st.st_mode) {
            return openDetached(host, r)
        }
        // The status flags as asked (O_NONBLOCK only if asked).
        if r.flags & O_NONBLOCK == 0 { _ = fcntl(mine, F_SETFL, r.flags & ~(O_NONBLOCK | Self.oAsync)) }
        opened(st)
        switch SeccompNotify.sendDescriptor(listener, id: r.id, mine, closeOnExec: r.closeOnExec) {
        case .success: return .answered
        // The tracee is gone: nothing to answer.
        case .failure(.noSuchFileOrDirectory): return .answered
        case .failure(let e): return .error(e)
        }
    }

    private func openDetached(_ host: String, _ r: OpenRequest) -> NotifyAnswer {
        switch SeccompNotify.openDetached(listener, id: r.id, path: host, flags: r.flags, mode: r.mode, umask: r.umask,
                                          closeOnExec: r.closeOnExec) {
        case .success: return .answered
        case .failure(let e): return .error(e)
        }
    }

    /// Regular files, directories and symlinks (which an open not following them fails
    /// on) open without waiting and without side effects.
    private static func opensAtOnce(_ mode: mode_t) -> Bool {
        let type = mode & S_IFMT
        return type == S_IFREG || type == S_IFDIR || type == S_IFLNK
    }

    static let oAsync: Int32 = 0o20000, oCreat: Int32 = 0o100
}
