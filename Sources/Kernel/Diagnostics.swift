import Glibc

/// Burrow's one voice on stderr. Every message, from any of its processes, is one line (or a
/// line and its hints) written in one `write`, beginning with the name burrow was called by
/// (`proot: ...`), which main sets once, before any process is forked, from the front-end.
public enum Diagnostics {
    /// The name messages begin with. (Set once at start; single-threaded.)
    nonisolated(unsafe) public static var tool = "burrow"
    /// Each message begins with its syslog level (`<3>` an error, `<4>` a warning), as
    /// bubblewrap's `--level-prefix` has it, for a caller that logs stderr to the journal.
    nonisolated(unsafe) public static var levelPrefix = false

    /// `TOOL: text` on stderr.
    public static func say(_ text: String) { write(text, level: 3) }

    /// `TOOL: text` on stderr, something that does not stop burrow.
    public static func warn(_ text: String) { write(text, level: 4) }

    private static func write(_ text: String, level: Int) {
        var line = (levelPrefix ? "<\(level)>" : "") + tool + ": " + text + "\n"
        line.withUTF8 { bytes in
            var at = 0
            while at < bytes.count {
                let n = Glibc.write(2, bytes.baseAddress! + at, bytes.count - at)
                if n < 0 && Glibc.errno == EINTR { continue }
                if n <= 0 { return }
                at += n
            }
        }
    }
}

/// `-v`: each step of the set-up as it happens, on stderr.
public struct Log {
    public let enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }
    public func step(_ text: @autoclosure () -> String) {
        if enabled { Diagnostics.say(text()) }
    }
}
