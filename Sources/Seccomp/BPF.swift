/// Classic BPF as seccomp runs it: the instruction format, an assembler with labels (jumps
/// are resolved, and far conditional jumps get a trampoline, when the program is finished),
/// and an interpreter that runs a program on a `SeccompData` exactly as the kernel would.
/// The interpreter is what proves the compiler: tests run the real program, not a model of it.

/// One `struct sock_filter` of <linux/filter.h>, as plain values.
public struct BPFInstruction: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }

    public var description: String {
        let hex = "0x" + String(k, radix: 16)
        switch code {
        case BPF.ldAbsW: return "ld [\(k)]"
        case BPF.andK: return "and #\(hex)"
        case BPF.ja: return "ja +\(k)"
        case BPF.retK: return "ret #\(hex)"
        case BPF.jeqK: return "jeq #\(hex) +\(jt) +\(jf)"
        case BPF.jgtK: return "jgt #\(hex) +\(jt) +\(jf)"
        case BPF.jgeK: return "jge #\(hex) +\(jt) +\(jf)"
        case BPF.jsetK: return "jset #\(hex) +\(jt) +\(jf)"
        default: return "op 0x\(String(code, radix: 16)) \(jt) \(jf) \(hex)"
        }
    }
}

/// The opcodes the compiler emits (BPF_CLASS | BPF_SIZE | BPF_MODE / BPF_OP | BPF_SRC).
public enum BPF {
    public static let ldAbsW: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    public static let andK: UInt16 = 0x54    // BPF_ALU | BPF_AND | BPF_K
    public static let ja: UInt16 = 0x05      // BPF_JMP | BPF_JA
    public static let jeqK: UInt16 = 0x15    // BPF_JMP | BPF_JEQ | BPF_K
    public static let jgtK: UInt16 = 0x25    // BPF_JMP | BPF_JGT | BPF_K
    public static let jgeK: UInt16 = 0x35    // BPF_JMP | BPF_JGE | BPF_K
    public static let jsetK: UInt16 = 0x45   // BPF_JMP | BPF_JSET | BPF_K
    public static let retK: UInt16 = 0x06    // BPF_RET | BPF_K
    /// BPF_MAXINSNS: the kernel refuses longer programs.
    public static let maxInstructions = 4096
}

/// What the kernel hands a seccomp filter (`struct seccomp_data`, 64 bytes, little-endian on
/// every architecture Burrow supports).
public struct SeccompData: Equatable, Sendable {
    public var nr: Int32
    public var arch: UInt32
    public var instructionPointer: UInt64
    public var args: [UInt64]

    public init(nr: Int32, arch: UInt32, instructionPointer: UInt64 = 0, args: [UInt64] = []) {
        self.nr = nr
        self.arch = arch
        self.instructionPointer = instructionPointer
        self.args = Array((args + Array(repeating: 0, count: 6)).prefix(6))
    }

    public static let size: UInt32 = 64
    public static let nrOffset: UInt32 = 0
    public static let archOffset: UInt32 = 4
    /// Low and high 32-bit words of argument `i`.
    public static func argLow(_ i: Int) -> UInt32 { 16 + 8 * UInt32(i) }
    public static func argHigh(_ i: Int) -> UInt32 { 20 + 8 * UInt32(i) }

    /// The aligned 32-bit word at `offset`, as `BPF_LD | BPF_W | BPF_ABS` reads it.
    func word(at offset: UInt32) -> UInt32? {
        guard offset % 4 == 0, offset < Self.size else { return nil }
        switch offset {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        default:
            let i = Int((offset - 16) / 8)
            return offset % 8 == 0 ? UInt32(truncatingIfNeeded: args[i]) : UInt32(truncatingIfNeeded: args[i] >> 32)
        }
    }
}

public enum BPFRunError: Error, Equatable, Sendable {
    case badLoad(pc: Int, offset: UInt32)
    case badJump(pc: Int)
    case unknownOpcode(pc: Int, code: UInt16)
    case ranOffTheEnd
    case empty
    case tooLong(Int)
}

/// Runs a program the way the kernel's seccomp does, after the same checks it makes when the
/// filter is installed (forward jumps in range, aligned loads inside `seccomp_data`, a
/// return at the end of every path). Only the opcodes the compiler emits are known.
public enum BPFInterpreter {
    public static func run(_ program: [BPFInstruction], on data: SeccompData) throws(BPFRunError) -> UInt32 {
        var steps = 0
        return try run(program, on: data, steps: &steps)
    }

    /// As `run`, counting in `steps` the instructions the verdict took: what every system
    /// call under the filter pays.
    public static func run(_ program: [BPFInstruction], on data: SeccompData, steps: inout Int) throws(BPFRunError) -> UInt32 {
        guard !program.isEmpty else { throw .empty }
        guard program.count <= BPF.maxInstructions else { throw .tooLong(program.count) }
        var a: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let i = program[pc]
            steps += 1
            switch i.code {
            case BPF.ldAbsW:
                guard let w = data.word(at: i.k) else { throw .badLoad(pc: pc, offset: i.k) }
                a = w
                pc += 1
            case BPF.andK:
                a &= i.k
                pc += 1
            case BPF.retK:
                return i.k
            case BPF.ja:
                let target = pc + 1 + Int(i.k)
                guard target < program.count else { throw .badJump(pc: pc) }
                pc = target
            case BPF.jeqK, BPF.jgtK, BPF.jgeK, BPF.jsetK:
                let taken: Bool
                switch i.code {
                case BPF.jeqK: taken = a == i.k
                case BPF.jgtK: taken = a > i.k
                case BPF.jgeK: taken = a >= i.k
                default: taken = a & i.k != 0
                }
                guard pc + 1 + Int(max(i.jt, i.jf)) < program.count else { throw .badJump(pc: pc) }
                pc += 1 + Int(taken ? i.jt : i.jf)
            default:
                throw .unknownOpcode(pc: pc, code: i.code)
            }
        }
        throw .ranOffTheEnd
    }
}

/// Builds a program from instructions and symbolic forward jumps. `finish()` lays it out:
/// a conditional jump holds an 8-bit offset, so one whose target is farther than 255
/// instructions is sent to an unconditional `ja` (32-bit offset) placed right after it.
struct Assembler {
    struct Label: Equatable { fileprivate let id: Int }

    private enum Item {
        case instruction(BPFInstruction)
        case jump(code: UInt16, k: UInt32, jt: Label, jf: Label)
        case always(Label)
        case place(Label)
    }

    private var items: [Item] = []
    private var labelCount = 0

    mutating func label() -> Label {
        labelCount += 1
        return Label(id: labelCount)
    }

    mutating func place(_ l: Label) { items.append(.place(l)) }
    mutating func load(_ offset: UInt32) { items.append(.instruction(BPFInstruction(code: BPF.ldAbsW, k: offset))) }
    mutating func and(_ k: UInt32) { items.append(.instruction(BPFInstruction(code: BPF.andK, k: k))) }
    mutating func ret(_ k: UInt32) { items.append(.instruction(BPFInstruction(code: BPF.retK, k: k))) }
    mutating func jump(_ code: UInt16, _ k: UInt32, then jt: Label, else jf: Label) {
        items.append(.jump(code: code, k: k, jt: jt, jf: jf))
    }
    mutating func goto(_ l: Label) { items.append(.always(l)) }

    enum LayoutError: Error { case backwardJump, unplacedLabel }

    /// Lays the program out; every label must be placed after the jumps that use it.
    mutating func finish() throws(LayoutError) -> [BPFInstruction] {
        while true {
            let (address, labels) = layout()
            var fixes: [(index: Int, far: (jt: Bool, jf: Bool))] = []
            for (index, item) in items.enumerated() {
                guard case .jump(_, _, let jt, let jf) = item else { continue }
                let here = address[index]
                func isFar(_ l: Label) throws(LayoutError) -> Bool {
                    guard let to = labels[l] else { throw .unplacedLabel }
                    guard to > here else { throw .backwardJump }
                    return to - here - 1 > 255
                }
                let far = (jt: try isFar(jt), jf: try isFar(jf))
                if far.jt || far.jf { fixes.append((index, far)) }
            }
            if fixes.isEmpty { break }
            // From the end, so that earlier indices stay valid. A conditional jump never
            // falls through, so its trampolines can sit right behind it.
            for fix in fixes.reversed() {
                guard case .jump(let code, let k, var jt, var jf) = items[fix.index] else { continue }
                var trampolines: [Item] = []
                if fix.far.jt {
                    let near = label()
                    trampolines += [.place(near), .always(jt)]
                    jt = near
                }
                if fix.far.jf {
                    let near = label()
                    trampolines += [.place(near), .always(jf)]
                    jf = near
                }
                items[fix.index] = .jump(code: code, k: k, jt: jt, jf: jf)
                items.insert(contentsOf: trampolines, at: fix.index + 1)
            }
        }
        let (address, labels) = layout()
        var out: [BPFInstruction] = []
        for (index, item) in items.enumerated() {
            let here = address[index]
            switch item {
            case .instruction(let i): out.append(i)
            case .place: break
            case .always(let l):
                guard let to = labels[l] else { throw .unplacedLabel }
                guard to > here else { throw .backwardJump }
                out.append(BPFInstruction(code: BPF.ja, k: UInt32(to - here - 1)))
            case .jump(let code, let k, let jt, let jf):
                guard let t = labels[jt], let f = labels[jf] else { throw .unplacedLabel }
                out.append(BPFInstruction(code: code, jt: UInt8(t - here - 1), jf: UInt8(f - here - 1), k: k))
            }
        }
        return out
    }

    /// Where each label was placed, by its id (labels are numbered from 1 as they are made).
    private struct Placements {
        var pc: [Int]
        subscript(_ l: Label) -> Int? {
            l.id < pc.count && pc[l.id] >= 0 ? pc[l.id] : nil
        }
    }

    /// The address of each item (a label: of the instruction after it), and of each label.
    private func layout() -> ([Int], Placements) {
        var address: [Int] = []
        address.reserveCapacity(items.count)
        var labels = Placements(pc: Array(repeating: -1, count: labelCount + 1))
        var pc = 0
        for item in items {
            address.append(pc)
            if case .place(let l) = item { labels.pc[l.id] = pc } else { pc += 1 }
        }
        return (address, labels)
    }
}
