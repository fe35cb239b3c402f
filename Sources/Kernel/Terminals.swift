import CKernel
import Glibc

/// Pseudo-terminals, for a command that gets a terminal of its own (burrow-oci's
/// process.terminal): the pair is made from the devpts instance of the new root, so the
/// command's terminal is one of its own /dev/pts.
public enum Terminals {
    /// A new pseudo-terminal of the devpts at `ptmx` (resolved inside the root `root`, no
    /// symlink leading out): the master, and the command's end (the peer, opened from the
    /// master: no path is looked up for it).
    public static func openPair(in root: Int32, ptmx: String) throws(SysError) -> (master: Int32, peer: Int32) {
        let master = try Files.open2(ptmx, at: root, flags: O_RDWR | O_NOCTTY | O_CLOEXEC, resolve: Resolve.inRoot | Resolve.noMagicLinks)
        if ck_pty_unlock(master) != 0 {
            let e = SysError.last("ioctl TIOCSPTLCK", ptmx)
            Files.close(master)
            throw e
        }
        let peer = ck_pty_peer(master, O_RDWR | O_NOCTTY | O_CLOEXEC)
        if peer < 0 {
            let e = SysError.last("ioctl TIOCGPTPEER", ptmx)
            Files.close(master)
            throw e
        }
        return (master, peer)
    }

    /// The terminal's size, as a terminal emulator would set it.
    public static func setSize(_ fd: Int32, rows: UInt16, columns: UInt16) throws(SysError) {
        if ck_pty_set_size(fd, rows, columns) != 0 { throw SysError.last("ioctl TIOCSWINSZ", "\(rows)x\(columns)") }
    }

    /// /dev/pts/N inside the sandbox: the number of the master's pair.
    public static func number(of master: Int32) -> Int? {
        let n = ck_pty_number(master)
        return n < 0 ? nil : Int(n)
    }

    /// A connection to the unix stream socket at `path` (a console socket, which receives
    /// the master).
    public static func connect(_ path: String) throws(SysError) -> Int32 {
        let fd = ck_connect_unix(path)
        if fd < 0 { throw SysError.last("connect", path) }
        return fd
    }
}
