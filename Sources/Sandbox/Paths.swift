/// Paths as the sandbox sees them and as the host sees them are different types, so a guest
/// path can never be opened on the host by mistake (and the other way round).

/// An absolute, lexically normalised path inside the new root: no `.`, no `..`, no empty
/// components. Symlinks are *not* resolved here: an engine resolves them inside the root.
public struct GuestPath: Hashable, Sendable, CustomStringConvertible {
    /// The components below `/`; empty for the root itself.
    public let components: [String]

    public init(components: [String]) { self.components = components }

    /// Parses an absolute guest path. `..` may not climb above `/`.
    ///
    /// Byte by byte, as the kernel reads a path: Swift's `Character` would take `/` and a
    /// combining mark after it (or U+0600 and the `/` after it) as one character, hiding a
    /// separator inside a component.
    public init(parsing text: String) throws(PathError) {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard let first = text.utf8.first else { throw .empty }
        guard first == slash else { throw .relative(text) }
        var parts: [String] = []
        for part in text.utf8.split(separator: slash, omittingEmptySubsequences: true) {
            if part.elementsEqual([dot]) { continue }
            if part.elementsEqual([dot, dot]) {
                guard !parts.isEmpty else { throw .escapesRoot(text) }
                parts.removeLast()
                continue
            }
            // Split at an ASCII byte, valid UTF-8 stays valid: nothing is replaced.
            parts.append(String(decoding: part, as: UTF8.self))
        }
        self.components = parts
    }

    public static let root = GuestPath(components: [])

    public var isRoot: Bool { components.isEmpty }
    /// `a/b/c` for `/a/b/c`, `.` for the root: what `openat` relative to the root wants.
    public var relative: String { components.isEmpty ? "." : components.joined(separator: "/") }
    public var description: String { "/" + components.joined(separator: "/") }
    public var parent: GuestPath { GuestPath(components: Array(components.dropLast())) }
    public var lastComponent: String? { components.last }

    public func appending(_ name: String) -> GuestPath { GuestPath(components: components + [name]) }
}

/// A path on the host, as the caller gave it (relative paths are relative to the caller's
/// working directory). Only engines open these, with the caller's rights.
public struct HostPath: Hashable, Sendable, CustomStringConvertible {
    public let string: String
    public init(_ string: String) { self.string = string }
    public var description: String { string }
}

public enum PathError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case relative(String)
    case escapesRoot(String)

    public var description: String {
        switch self {
        case .empty: return "empty path"
        case .relative(let p): return "'\(p)' is not an absolute path inside the new root"
        case .escapesRoot(let p): return "'\(p)' climbs above the new root with '..'"
        }
    }
}

extension GuestPath {
    /// True when `self` is `other` or lies below it.
    public func isWithin(_ other: GuestPath) -> Bool {
        components.count >= other.components.count && Array(components.prefix(other.components.count)) == other.components
    }
}
