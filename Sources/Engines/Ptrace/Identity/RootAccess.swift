import BurrowKernel
import BurrowSandbox
import Glibc

// PRoot's -0 on the caller's own files (Identity.appliesModes): its chmod changes the host
// file's permission bits as asked, so a faked root must still reach files and directories
// whose modes keep their owner out, as root would (CAP_DAC_OVERRIDE). As PRoot's
// override_permissions does, each directory of the caller's on the way to a path the call
// uses, and the path itself unless the call only looks at it (the stat family), gets the
// owner's read and write (and search, for a directory) for the time of that one call; the
// modes are put back when it ends (at its exit stop, or once the supervisor has answered
// it). Other processes see the wider mode meanwhile, as under PRoot.

extension Tracer {
    /// Calls that only look at their path's last component: it keeps its mode.
    static let lookOnlyCalls: Set<Int64> = [Syscall.stat, Syscall.fstat, Syscall.lstat, Syscall.newfstatat, Syscall.statx, Syscall.statfs]

    /// Opens the way to `host` (absolute) for `t` when it is a faked root under PRoot's
    /// rule; what was changed is kept in `t.openedModes` until `restoreModes`.
    func openUp(_ t: Tracee, _ host: String) {
        guard let emulator, emulator.appliesModes, host.hasPrefix("/"), !host.hasPrefix("/proc/"),
              (t.credentials ?? emulator.initialCredentials)?.privileged == true else { return }
        // Nothing of the host's /dev while it stands in for --dev's directory: a path that
        // lands there is translated again once the directory is made.
        if devStandIn != nil, host == Setup.DevStandIn.host || host.hasPrefix(Setup.DevStandIn.host + "/") { return }
        let untouched = Self.lookOnlyCalls.contains(t.call)
        let parts = host.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { return }
        let parent = "/" + parts.dropLast().joined(separator: "/")
        // Most paths are open already: two access(2) calls say so.
        if access(parent, W_OK | X_OK) == 0, untouched || access(host, F_OK) != 0 || access(host, R_OK | W_OK) == 0 { return }
        let me = getuid()
        var path = ""
        for (i, part) in parts.enumerated() {
            path += "/" + String(part)
            let last = i == parts.count - 1
            if last && untouched { break }
            var st = stat()
            guard lstat(path, &st) == 0 else { break }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK { break }
            guard st.st_uid == me else { continue }
            let mode = st.st_mode & 0o7777
            let wanted = mode | S_IRUSR | S_IWUSR | (type == S_IFDIR ? S_IXUSR : 0)
            if wanted != mode, Glibc.chmod(path, wanted) == 0 { t.openedModes.append((path, mode)) }
        }
    }

    /// Puts back the modes `openUp` changed for `t` (newest first).
    func restoreModes(_ t: Tracee) {
        guard !t.openedModes.isEmpty else { return }
        for (path, mode) in t.openedModes.reversed() { _ = Glibc.chmod(path, mode) }
        t.openedModes = []
    }
}
