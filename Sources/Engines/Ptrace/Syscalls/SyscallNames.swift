// Pure: no Glibc. The engine's system calls by name. Its tables speak x86_64's numbers (the
// other ABIs are mapped to them by name, ABI.swift); each name is looked up once, in the
// table generated from the kernel's headers (Sources/Seccomp/SyscallTables.swift), into the
// dictionaries and static lets the tracer uses, so that the code reads names and the hot
// path compares numbers.

import BurrowSeccomp

enum Syscall {
    #if arch(x86_64)
    /// The engine's number of the call `name`, nil if x86_64's table has no such call.
    static func lookUp(_ name: String) -> Int64? { Architecture.x86_64.number(of: name).map(Int64.init) }

    /// The engine's number of the call `name`. A name the table lacks is a mistake in the
    /// engine: it stops the supervisor when the engine starts (PtraceEngine resolves every
    /// name before the command runs), and fails the unit tests before that.
    static func number(_ name: String) -> Int64 {
        guard let nr = lookUp(name) else { fatalError("ptrace engine: no system call \"\(name)\" in x86_64's table") }
        return nr
    }

    /// A table keyed by call names, keyed by the engine's numbers.
    static func numbered<Value>(_ byName: [String: Value]) -> [Int64: Value] {
        Dictionary(uniqueKeysWithValues: byName.map { (number($0.key), $0.value) })
    }

    static let seccomp = number("seccomp")
    static let getpid = number("getpid")
    static let chdir = number("chdir"), fchdir = number("fchdir")
    static let unlinkat = number("unlinkat"), renameat2 = number("renameat2"), rmdir = number("rmdir")
    static let stat = number("stat"), lstat = number("lstat"), fstat = number("fstat")
    static let newfstatat = number("newfstatat"), statx = number("statx"), statfs = number("statfs")
    #else
    static func lookUp(_ name: String) -> Int64? { nil }
    static func numbered<Value>(_ byName: [String: Value]) -> [Int64: Value] { [:] }
    static let seccomp: Int64 = -1, getpid: Int64 = -1, chdir: Int64 = -1, fchdir: Int64 = -1
    static let unlinkat: Int64 = -1, renameat2: Int64 = -1, rmdir: Int64 = -1
    static let stat: Int64 = -1, lstat: Int64 = -1, fstat: Int64 = -1
    static let newfstatat: Int64 = -1, statx: Int64 = -1, statfs: Int64 = -1
    #endif

    /// A table keyed by the engine's numbers, kept as an array indexed by number (they are
    /// small): no hashing when it is built at every start, nor at each look-up. A name
    /// given twice: the later entry wins.
    struct Table<Value: Sendable>: Sendable {
        private let entries: [(name: String, group: Value)]
        /// By number: the position of its entry, -1 for none.
        private var position: [Int16] = []
        /// The numbers that have an entry, in order.
        private(set) var numbers: [Int64] = []

        init(_ byName: [(name: String, group: Value)]) {
            entries = byName
            var byNumber: [Int64] = []
            byNumber.reserveCapacity(byName.count)
            #if arch(x86_64)
            for entry in byName { byNumber.append(Syscall.number(entry.name)) }
            #endif
            position = Array(repeating: -1, count: Int(byNumber.max() ?? -1) + 1)
            for (k, nr) in byNumber.enumerated() where nr >= 0 { position[Int(nr)] = Int16(k) }
            numbers = position.indices.filter { position[$0] >= 0 }.map(Int64.init)
        }

        subscript(nr: Int64) -> Value? {
            guard nr >= 0, nr < Int64(position.count) else { return nil }
            let k = position[Int(nr)]
            return k >= 0 ? entries[Int(k)].group : nil
        }
        var count: Int { numbers.count }
    }

    /// The calls named one by one above, resolved at the engine's start (a name missing from
    /// the table stops it there rather than in the middle of a trace).
    static var named: [Int64] {
        [seccomp, getpid, chdir, fchdir, unlinkat, renameat2, rmdir, stat, lstat, fstat, newfstatat, statx, statfs]
    }
}
