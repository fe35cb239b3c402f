/// How a run ended, as an engine tells it. Engines print nothing of their own failure: the
/// one place that speaks for the front-end (main) prints it, with the name burrow was called
/// by, and maps the status to the front-end's (`status(failureStatus:)`).
public enum Outcome: Equatable, Sendable {
    /// The sandbox ran; burrow's status is this one (the command's: its exit status, 128+N
    /// for a signal, or the last to exit for PRoot's rule).
    case exited(Int32)
    /// Burrow failed, and why (a line, maybe followed by hints). `status`: 125 when the
    /// sandbox could not be made, 126 when the command was found but could not be run, 127
    /// when it was not found.
    case failed(String, status: Int32)

    public static let setupStatus: Int32 = 125

    /// Burrow's exit status under a front-end whose own failures exit with `failureStatus`
    /// (125 for burrow, which keeps 126 and 127 apart; 1 for linux-user-chroot, jchroot and
    /// proot, as their manuals say).
    public func status(failureStatus: Int32) -> Int32 {
        switch self {
        case .exited(let status): return status
        case .failed(_, let status): return failureStatus == Self.setupStatus ? status : failureStatus
        }
    }
}
