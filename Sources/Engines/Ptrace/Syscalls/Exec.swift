import BurrowKernel
import BurrowSandbox
import Glibc
import SystemPackage

// execve, execveat: the kernel would take a script's interpreter and an ELF program's
// interpreter (PT_INTERP) from the host, so Burrow does their work: a `#!` line is read
// here and the interpreter named in the guest; a dynamic ELF program is started through
// the guest's own ELF interpreter (`ld.so --argv0 ARGV0 PROGRAM ARGS`). argv[0] is kept;
// /proc/PID/exe names the guest program once the exec succeeded.

/// An argv entry: one the tracee already has (a pointer into its memory) or a new string.
enum ArgItem: Equatable {
    case existing(UInt64)
    case new(String)
}

enum ExecFormat {
    /// The `#!` line of a script: the interpreter and its optional single argument, parsed as
    /// the kernel does (fs/binfmt_script.c).
    static func shebang(_ head: [UInt8]) -> (interpreter: String, argument: String?)? {
        guard head.count > 2, head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") else { return nil }
        let line = head[2...].prefix { $0 != UInt8(ascii: "\n") }
        let text = String(decoding: line, as: UTF8.self)
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.isEmpty else { return nil }
        let interp = trimmed.prefix { $0 != " " && $0 != "\t" }
        var rest = trimmed.dropFirst(interp.count).drop { $0 == " " || $0 == "\t" }
        while let last = rest.last, last == " " || last == "\t" || last == "\r" { rest = rest.dropLast() }
        return (String(interp), rest.isEmpty ? nil : String(rest))
    }

    /// The PT_INTERP of an ELF file, given a reader of its bytes (offset, count).
    static func elfInterpreter(read: (Int, Int) -> [UInt8]?) -> String? {
        guard let h = read(0, 64), h.count >= 52, h[0] == 0x7f, h[1] == UInt8(ascii: "E"), h[2] == UInt8(ascii: "L"),
              h[3] == UInt8(ascii: "F"), h[5] == 1 /* little endian */
        else { return nil }
        func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }
        func u64(_ b: [UInt8], _ o: Int) -> Int { u32(b, o) | u32(b, o + 4) << 32 }
        let is64 = h[4] == 2
        guard is64 ? h.count >= 64 : true else { return nil }
        let phoff = is64 ? u64(h, 32) : u32(h, 28)
        let phentsize = is64 ? u16(h, 54) : u16(h, 42)
        let phnum = is64 ? u16(h, 56) : u16(h, 44)
        guard phnum > 0, phnum < 256, phentsize >= (is64 ? 56 : 32), phoff > 0,
              let ph = read(phoff, phentsize * phnum), ph.count == phentsize * phnum
        else { return nil }
        for i in 0..<phnum {
            let e = i * phentsize
            guard u32(ph, e) == 3 /* PT_INTERP */ else { continue }
            let off = is64 ? u64(ph, e + 8) : u32(ph, e + 4)
            let size = is64 ? u64(ph, e + 32) : u32(ph, e + 16)
            guard size > 1, size <= 4096, let s = read(off, size) else { return nil }
            return String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }
}

extension Tracer {
    func execEnter(_ t: Tracee, _ regs: Trace.Registers, _ a: PathArg, argv argvArg: Int) -> EnterResult {
        let pointer = regs.arg(a.path)
        guard pointer != 0 else { return .allow }
        var given: [UInt8]
        switch Trace.readString(t.pid, at: pointer) {
        case .success(let p): given = p
        case .failure(let e): return .fail(e)
        }
        let dirfd = a.dirfd.map { Int32(truncatingIfNeeded: regs.arg($0)) } ?? Tracer.atFDCWD
        // execveat(fd, "", AT_EMPTY_PATH): the kernel runs the file it has; /proc/PID/exe
        // will name it as the guest sees it.
        guard !given.isEmpty else {
            t.execTarget = Files.readlinkIfSymlink("/proc/\(t.pid)/fd/\(dirfd)", at: AT_FDCWD).flatMap { bindings.guestPath(ofHost: $0) }
            return .allow
        }
        var tr: Translation
        switch translate(t, given, dirfd: dirfd, follow: follows(a.follow, t, regs)) {
        case .success(let x): tr = x
        case .failure(let e): return .fail(e)
        }
        var items: [ArgItem]?  // nil: argv unchanged
        var environment: [ArgItem]?  // nil: envp unchanged
        var program = tr.guest
        var setIDFile: String?
        // While every file on the way (the program, a script's interpreter, its ELF
        // interpreter) is the one the kernel would find at the same path on the host (the
        // host as the rootfs), the kernel may run the call as it is: the process's name,
        // cmdline and exe stay what they are natively (PRoot's loader keeps them too).
        var kernelAlone = !tr.changed || sameOnHost(given, tr, t, dirfd: dirfd)
        for _ in 0..<5 {
            // A relative path the kernel may keep is relative to the tracee's directory, not ours.
            let readable = tr.host.hasPrefix("/") ? inTracee(tr.host, t)
                : (dirfd == Tracer.atFDCWD ? "/proc/\(t.pid)/cwd/" : "/proc/\(t.pid)/fd/\(dirfd)/") + tr.host
            // One read for the `#!` line (the kernel looks at 256 bytes) and, for an ELF
            // file, its program headers and interpreter, which are almost always in its
            // first page: not one open and read each.
            guard let page = Files.readHead(readable, count: 4096) else {
                // Not there (an execvp's search along PATH misses in most directories): the
                // kernel's ENOENT or ENOTDIR now, without the call, whose rewritten registers
                // would need an exit stop to be put back.
                if access(readable, F_OK) != 0, errno == ENOENT || errno == ENOTDIR { return .fail(Errno(rawValue: errno)) }
                break
            }
            let head = Array(page.prefix(256))
            // The file whose set-id bits count: the kernel's last one, a script's interpreter.
            setIDFile = readable
            if let (interp, arg) = ExecFormat.shebang(head) {
                let old = items ?? readArgv(t, regs.arg(argvArg), pointerSize: regs.pointerSize)
                guard let old else { return .fail(.badAddress) }
                items = [.new(interp)] + (arg.map { [.new($0)] } ?? []) + [.new(String(decoding: given, as: UTF8.self))] + old.dropFirst()
                given = Array(interp.utf8)
                switch translate(t, given, follow: true) {
                case .success(let x): tr = x
                case .failure(let e): return .fail(e)
                }
                program = tr.guest
                kernelAlone = kernelAlone && sameOnHost(given, tr, t)
                continue
            }
            if let q = qemuExec(t, regs, head: head, program: program, argv: items, argvArg: argvArg) {
                items = q.argv
                environment = q.environment
                tr = Translation(host: q.host, guest: program, changed: true)
                kernelAlone = false
                break
            }
            // Neither a script nor an ELF file that may be run: ENOEXEC, before the kernel
            // copies argv and envp (as PRoot, which reads the file first, answers). One that
            // may not be run is the kernel's (EACCES).
            if !head.starts(with: [0x7f, UInt8(ascii: "E"), UInt8(ascii: "L"), UInt8(ascii: "F")]) {
                if access(readable, X_OK) == 0 { return .fail(.execFormatError) }
                break
            }
            environment = hostProgramEnvironment(t, regs, head: head, argvArg: argvArg)
            if environment != nil { kernelAlone = false }
            let host = readable
            let fromPage = { (offset: Int, count: Int) -> [UInt8]? in
                if offset >= 0, count >= 0, offset + count <= page.count { return Array(page[offset..<(offset + count)]) }
                // Past what the file holds (the kernel refuses it), or past the first page.
                return page.count < 4096 ? nil : Files.readHead(host, count: count, offset: offset)
            }
            if let interp = ExecFormat.elfInterpreter(read: fromPage) {
                let loader: Translation
                switch translate(t, Array(interp.utf8), follow: true) {
                case .success(let x): loader = x
                case .failure(let e): return .fail(e)
                }
                if sameOnHost(Array(interp.utf8), loader, t) { break }
                kernelAlone = false
                let old = items ?? readArgv(t, regs.arg(argvArg), pointerSize: regs.pointerSize)
                guard let old else { return .fail(.badAddress) }
                items = [.new(interp), .new("--argv0"), old.first ?? .new(program.description), .new(program.description)] + old.dropFirst()
                tr = loader
            }
            break
        }
        if kernelAlone {
            t.execTarget = program
            t.execCredentials = setIDFile.flatMap { execCredentials(t, program: $0) }
            return .allow
        }
        var new = regs
        var scratch = Scratch(pid: t.pid, regs: regs)
        guard let pathAddress = scratch.push(string: tr.host) else { return .fail(.badAddress) }
        new.setArg(a.path, pathAddress)
        for (array, arg) in [(items, argvArg), (environment, argvArg + 1)] {
            guard let array else { continue }
            var pointers: [UInt8] = []
            for item in array {
                let p: UInt64
                switch item {
                case .existing(let x): p = x
                case .new(let s):
                    guard let x = scratch.push(string: s) else { return .fail(.argListTooLong) }
                    p = x
                }
                pointers += withUnsafeBytes(of: p.littleEndian, Array.init).prefix(regs.pointerSize)
            }
            pointers += [UInt8](repeating: 0, count: regs.pointerSize)
            guard let arrayAddress = scratch.push(pointers) else { return .fail(.argListTooLong) }
            new.setArg(arg, arrayAddress)
        }
        t.execTarget = program
        t.execCredentials = setIDFile.flatMap { execCredentials(t, program: $0) }
        return .rewrite(new, exit: .restore)
    }

    /// Would the kernel, given `path` as the tracee wrote it, reach the file `tr` names?
    /// (Its own path, or with the host as the rootfs the same file after the host's symlinks.)
    func sameOnHost(_ path: [UInt8], _ tr: Translation, _ t: Tracee, dirfd: Int32 = Tracer.atFDCWD) -> Bool {
        var text = String(decoding: path, as: UTF8.self)
        if tr.host == text { return true }
        guard bindings[0].host == "/" else { return false }
        if !text.hasPrefix("/") {
            guard let dir = directory(t, dirfd) else { return false }
            text = dir.host + "/" + text
        }
        return (try? Files.realPath(text)) == tr.host
    }

    /// The tracee's argv pointers (not the strings), up to the NULL; `pointerSize` 4 for
    /// an i386 caller's array.
    func readArgv(_ t: Tracee, _ address: UInt64, pointerSize: Int = 8) -> [ArgItem]? {
        guard address != 0 else { return [] }
        var out: [ArgItem] = []
        var at = address
        while out.count < 1 << 20 {
            // Up to 16 pointers a read, never past the page (the array may end before an
            // unmapped one); a pointer across two pages is read alone.
            let size = pointerSize
            let room = Int(4096 - (at & 4095))
            let chunk = room >= size ? min(16 * size, room / size * size) : size
            guard let b = Trace.read(t.pid, at: at, count: chunk) else { return nil }
            for i in stride(from: 0, to: chunk, by: size) {
                let p = size == 4 ? UInt64(b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: UInt32.self) })
                    : b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: UInt64.self) }
                if p == 0 { return out }
                out.append(.existing(p))
            }
            at += UInt64(chunk)
        }
        return nil
    }
}
