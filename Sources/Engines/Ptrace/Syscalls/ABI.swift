// Pure: no Glibc. The system-call ABIs the engine translates: the host's own, and on x86_64
// the i386 one (32-bit programs, and `int $0x80` from any code). The engine's tables
// (SyscallTable, EmulatedTable) speak the host ABI's numbers; a call of another ABI is
// turned into the host's number of the call of the same name (`engineNumber`), its
// arguments read from that ABI's registers (Trace.Registers.compat), 32 bits wide. Where
// the same name lays its data out otherwise, the ABI says how: i386's `stat` writes a
// `struct stat` of 16-bit owners (`statLayouts`), `getuid` and `chown` take and give 16-bit
// ids (`narrowIds`). What means another call there (`fanotify_mark` with its 64-bit mask in
// two registers, `socketcall`, the `oldstat` family) is not mapped: it has a group of its
// own (`ownGroups`), or none when it takes no path and fakes nothing. x32 stays refused by
// the filter (ENOSYS): it has no table here.

import BurrowSeccomp

struct TracedABI: Sendable {
    let architecture: Architecture
    /// This ABI's number -> the engine's number, for the calls that mean the same: indexed
    /// by this ABI's number, -1 for none (an array: built at every start).
    let engineNumbers: [Int32]
    /// Calls of this ABI the engine handles by their own number (not the engine's tables).
    let ownGroups: [Int64: SyscallGroup]
    /// The layout of the `struct stat` this ABI's calls mapped to the engine's stat, lstat,
    /// fstat and newfstatat write (i386: stat64, fstatat64...: `struct stat64`), but for
    /// the calls of `statLayouts` (i386's own stat, lstat, fstat: its `struct stat`).
    let statLayout: StatLayout
    let statLayouts: [Int64: StatLayout]
    /// Calls whose ids (arguments, results, arrays) are 16 bits wide: i386's getuid,
    /// setresuid, getgroups, chown... (the `32` ones are x86_64's).
    let narrowIds: Set<Int64>
    /// Arguments and pointers are 32 bits wide.
    let compat: Bool

    /// The engine's number of this ABI's call `nr`; nil for a call the engine's tables do
    /// not describe.
    func engineNumber(_ nr: Int64) -> Int64? {
        guard compat else { return nr }
        guard nr >= 0, nr < Int64(engineNumbers.count), engineNumbers[Int(nr)] >= 0 else { return nil }
        return Int64(engineNumbers[Int(nr)])
    }

    /// The layout this ABI's call `nr` writes where the engine's table says `layout`.
    func layout(_ layout: StatLayout, call nr: Int64) -> StatLayout { layout == .stat ? statLayouts[nr] ?? statLayout : layout }

    /// This ABI's numbers of the engine's calls `engine` (those it has), with its own groups.
    func numbers(ofEngine engine: [Int64], own: Bool = true) -> [Int64] {
        guard compat else { return engine }
        // A flag per engine number (they are small): no Set to hash them into at every start.
        var wanted = [Bool](repeating: false, count: Int(engine.max() ?? 0) + 1)
        for nr in engine where nr >= 0 { wanted[Int(nr)] = true }
        var out: [Int64] = []
        for (nr, to) in engineNumbers.enumerated() where to >= 0 && to < wanted.count && wanted[Int(to)] { out.append(Int64(nr)) }
        // (No call with a group of its own is in `engineNumbers`.)
        if own { out += ownGroups.keys }
        return out.sorted()
    }

    /// The host's own ABI: the engine's numbers.
    static let host = TracedABI(architecture: Architecture.native ?? .x86_64, engineNumbers: [], ownGroups: [:], statLayout: .stat,
                                statLayouts: [:], narrowIds: [], compat: false)

    #if arch(x86_64)
    /// i386 calls whose name the engine's table (x86_64) has with another meaning. Not
    /// mapped; those that take a path are in `i386OwnGroups`.
    static let i386Differs: [String] = [
        "fanotify_mark",  // its 64-bit mask takes two registers: dirfd and path come later
        "ptrace", "wait4", "waitid",  // the guest-tracer emulation knows x86_64's layouts only
        "mmap", "select",  // other arguments (no path)
    ]

    /// i386's name -> x86_64's name of the same call.
    static let i386Aliases: [(name: String, to: String)] = [
        ("stat64", "stat"), ("lstat64", "lstat"), ("fstat64", "fstat"), ("fstatat64", "newfstatat"),
        ("chown32", "chown"), ("lchown32", "lchown"), ("fchown32", "fchown"),
        ("getuid32", "getuid"), ("geteuid32", "geteuid"), ("getgid32", "getgid"), ("getegid32", "getegid"),
        ("getresuid32", "getresuid"), ("getresgid32", "getresgid"), ("getgroups32", "getgroups"),
        ("setuid32", "setuid"), ("setgid32", "setgid"), ("setreuid32", "setreuid"), ("setregid32", "setregid"),
        ("setresuid32", "setresuid"), ("setresgid32", "setresgid"), ("setfsuid32", "setfsuid"), ("setfsgid32", "setfsgid"),
        ("setgroups32", "setgroups"),
        ("truncate64", "truncate"), ("statfs64", "statfs"), ("utimensat_time64", "utimensat"),
        ("umount", "umount2"),  // refused as umount2 is
    ]

    /// The i386 calls of 16-bit ids (uid16), by name: x86_64's calls of that name, narrowed.
    static let i386NarrowIds: Set<String> = [
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
        "chown", "lchown", "fchown",
    ]

    /// i386 calls that take a path, handled by their own number: the path translated (the
    /// owners and modes they show are not faked).
    static let i386OwnGroups: [(name: String, group: SyscallGroup)] = {
        let f = Follow.always, nf = Follow.never
        return [
            // __old_kernel_stat (16-bit inode numbers): owners not faked.
            ("oldstat", .paths([PathArg(path: 0, follow: f)])), ("oldlstat", .paths([PathArg(path: 0, follow: nf)])),
            ("fanotify_mark", .paths([PathArg(dirfd: 4, path: 5, follow: f)])),
            ("socketcall", .socketCall),
            // Its registers and memory layouts are i386's: refused rather than misread.
            ("ptrace", .refused),
        ]
    }()

    static let i386: TracedABI = {
        let x = Architecture.x86_64, i = Architecture.i386
        // Built at every start: the calls of the same name found by one walk over the two
        // tables (both sorted by name), then the aliases and exceptions by their few names,
        // with no hashing of four hundred names.
        let mine = i.syscalls, theirs = x.syscalls
        var map = [Int32](repeating: -1, count: Int(mine.map(\.number).max() ?? -1) + 1)
        var k = 0
        for (name, nr) in mine where nr >= 0 {
            while k < theirs.count, theirs[k].name < name { k += 1 }
            if k < theirs.count, theirs[k].name == name { map[Int(nr)] = theirs[k].number }
        }
        for (name, to) in i386Aliases {
            if let nr = i.number(of: name) { map[Int(nr)] = x.number(of: to) ?? -1 }
        }
        for name in i386Differs {
            if let nr = i.number(of: name) { map[Int(nr)] = -1 }
        }
        var own: [Int64: SyscallGroup] = [:]
        for (name, group) in i386OwnGroups {
            if let nr = i.number(of: name) { own[Int64(nr)] = group; map[Int(nr)] = -1 }
        }
        func numbers(_ names: [String]) -> [Int64] { names.compactMap { i.number(of: $0).map(Int64.init) } }
        let oldStat = Dictionary(uniqueKeysWithValues: numbers(["stat", "lstat", "fstat"]).map { ($0, StatLayout.compatStat) })
        return TracedABI(architecture: i, engineNumbers: map, ownGroups: own, statLayout: .stat64, statLayouts: oldStat,
                         narrowIds: Set(numbers(Array(i386NarrowIds))), compat: true)
    }()

    /// The ABIs the filter covers and the tracer decodes.
    static let all: [TracedABI] = [host, i386]
    static func of(compat: Bool) -> TracedABI { compat ? i386 : host }
    #else
    static let all: [TracedABI] = [host]
    static func of(compat: Bool) -> TracedABI { host }
    #endif

    /// The ABI of a call whose AUDIT_ARCH_* is `arch`; nil for one the engine does not translate.
    static func of(arch: UInt32) -> TracedABI? { all.first { $0.architecture.auditArch == arch } }
}
