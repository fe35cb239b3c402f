/// A small, strict JSON reader and writer for burrow-oci's files (config.json, its own
/// state, process.json): RFC 8259 only (no comments, no trailing commas, no NaN, no
/// duplicate keys), with a depth limit; every error says where (line and column) and what.
/// Written here so that no other name pays for Foundation at start-up (one binary).
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number as written, checked against JSON's grammar; read with `int`/`uint32`.
    case number(String)
    case string(String)
    case array([JSON])
    /// Members in their order (duplicates are refused when parsing).
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A member of an object (nil for any other value or a missing key).
    public subscript(_ key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The JSON type's name, for messages ("expected a string, found an array").
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// An integer without fraction or exponent, within Int64.
    public var integer: Int64? {
        guard case .number(let text) = self, !text.contains("."), !text.contains("e"), !text.contains("E") else { return nil }
        return Int64(text)
    }
}

public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSON {
    /// Nesting deeper than this is refused (a config is a few levels deep).
    public static let maximumDepth = 64

    public static func parse(_ text: String) throws(JSONError) -> JSON {
        var parser = JSONParser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw parser.error("unexpected text after the value") }
        return value
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var at = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> JSONError {
        var line = 1, column = 1
        for b in bytes[..<min(at, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return JSONError(line: line, column: column, message: message)
    }

    var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    /// A byte as a message shows it: `'x'` when printable ASCII, else `byte 0x00` (a
    /// message is one clean line).
    func shown(_ b: UInt8) -> String {
        b > 0x20 && b < 0x7F ? "'\(Unicode.Scalar(b))'" : "byte 0x" + (b < 0x10 ? "0" : "") + String(b, radix: 16)
    }

    mutating func skipSpace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { at += 1 }
    }

    mutating func expect(_ word: String) throws(JSONError) {
        for b in word.utf8 {
            guard peek == b else { throw error("expected '\(word)'") }
            at += 1
        }
    }

    mutating func value(depth: Int) throws(JSONError) -> JSON {
        guard depth < JSON.maximumDepth else { throw error("nested deeper than \(JSON.maximumDepth) levels") }
        guard let b = peek else { throw error("unexpected end of the text: a value is missing") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character \(shown(b))")
        }
    }

    mutating func object(depth: Int) throws(JSONError) -> JSON {
        at += 1
        var members: [(String, JSON)] = []
        var keys = Set<String>()
        skipSpace()
        if peek == UInt8(ascii: "}") { at += 1; return .object([]) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let start = at
            let key = try string()
            guard keys.insert(key).inserted else {
                at = start
                throw error("duplicate member \"\(key)\"")
            }
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after the member name") }
            at += 1
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): at += 1
            case UInt8(ascii: "}"): at += 1; return .object(members)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONError) -> JSON {
        at += 1
        var items: [JSON] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { at += 1; return .array([]) }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): at += 1
            case UInt8(ascii: "]"): at += 1; return .array(items)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    mutating func number() throws(JSONError) -> JSON {
        let start = at
        func digits(_ p: inout JSONParser) -> Int {
            var n = 0
            while let b = p.peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { p.at += 1; n += 1 }
            return n
        }
        if peek == UInt8(ascii: "-") { at += 1 }
        if peek == UInt8(ascii: "0") {
            at += 1
            if let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { throw error("a number may not start with 0") }
        } else if digits(&self) == 0 {
            throw error("expected digits in a number")
        }
        if peek == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw error("expected digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            at += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw error("expected digits in the exponent") }
        }
        return .number(String(decoding: bytes[start..<at], as: UTF8.self))
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let b = peek, let d = hexDigit(b) else { throw error("expected four hex digits after \\u") }
            v = v << 4 | d
            at += 1
        }
        return v
    }

    func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    mutating func string() throws(JSONError) -> String {
        at += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw error("unterminated string") }
            switch b {
            case UInt8(ascii: "\""):
                at += 1
                // Invalid UTF-8 is refused, not repaired.
                guard let s = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                return s
            case 0..<0x20:
                throw error("a control character in a string (write it as an escape)")
            case UInt8(ascii: "\\"):
                at += 1
                guard let e = peek else { throw error("unterminated string") }
                at += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard peek == UInt8(ascii: "\\") else { throw error("a lone high surrogate in \\u escapes") }
                        at += 1
                        guard peek == UInt8(ascii: "u") else { throw error("a lone high surrogate in \\u escapes") }
                        at += 1
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("a high surrogate without its low one") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("a lone low surrogate in \\u escapes")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("not a Unicode scalar") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    at -= 2
                    throw error(e > 0x20 && e < 0x7F ? "unknown escape '\\\(Unicode.Scalar(e))'" : "unknown escape: \\ then \(shown(e))")
                }
            default:
                out.append(b)
                at += 1
            }
        }
    }
}

extension JSON {
    /// Compact JSON text (members in their order), as runc prints `state`.
    public var text: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Indented by two spaces per level, as runc writes `config.json`.
    public var indentedText: String {
        var out = ""
        write(to: &out, indent: "  ", level: 0)
        return out
    }

    private func write(to out: inout String, indent: String?, level: Int) {
        func newline(_ l: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: indent, count: l)
        }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += JSON.quoted(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                out += JSON.quoted(key) + (indent == nil ? ":" : ": ")
                value.write(to: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out += "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7F:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Shorthands for building values.
    public static func int(_ v: some BinaryInteger) -> JSON { .number(String(v)) }
}
