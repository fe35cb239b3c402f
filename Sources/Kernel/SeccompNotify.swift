import CKernel
import Glibc
import SystemPackage

/// The supervisor's side of seccomp user notification: a process whose filter returned
/// SECCOMP_RET_USER_NOTIF waits in the kernel until the holder of the listener fd answers.
public enum SeccompNotify {
    public struct Request: Sendable {
        public var id: UInt64
        public var pid: pid_t
        public var nr: Int32
        public var arch: UInt32
        public var args: [UInt64]
    }

    /// Waits for the next call. nil when no process uses the filter any more.
    public static func receive(_ listener: Int32) throws(SysError) -> Request? {
        while true {
            var poll = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poll, 1, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SysError.last("poll", "seccomp listener")
            }
            if poll.revents & Int16(POLLIN) == 0 { return nil }  // POLLHUP: nobody left
            var request = seccomp_notif()
            if ck_notif_recv(listener, &request) < 0 {
                // The caller died or was interrupted before we took its call: wait again.
                if errno == ENOENT || errno == EINTR { continue }
                throw SysError.last("receive (SECCOMP_IOCTL_NOTIF_RECV)", "seccomp listener")
            }
            let a = request.data.args
            return Request(id: request.id, pid: pid_t(request.pid), nr: request.data.nr, arch: request.data.arch,
                           args: [a.0, a.1, a.2, a.3, a.4, a.5])
        }
    }

    /// The next call, once `poll` said the listener is readable; nil if its caller went
    /// away meanwhile (ENOENT) or the receive was interrupted.
    public static func receiveReady(_ listener: Int32) -> Request? {
        var request = seccomp_notif()
        guard ck_notif_recv(listener, &request) == 0 else { return nil }
        let a = request.data.args
        return Request(id: request.id, pid: pid_t(request.pid), nr: request.data.nr, arch: request.data.arch,
                       args: [a.0, a.1, a.2, a.3, a.4, a.5])
    }

    /// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): the supervisor is woken on the
    /// caller's CPU, and the caller on the supervisor's, so the two tend to share one CPU.
    /// False where the kernel lacks it (nothing else changes).
    @discardableResult
    public static func wakeUpSynchronously(_ listener: Int32) -> Bool { ck_notif_set_flags(listener, 1) == 0 }

    /// Completes the call: it returns `value`, or fails with `error` (an errno) when not 0.
    /// `continue` lets the kernel run the call as if no filter had stopped it.
    public static func respond(_ listener: Int32, id: UInt64, value: Int64 = 0, error: Int32 = 0,
                               continue proceed: Bool = false) {
        var response = seccomp_notif_resp()
        response.id = id
        response.val = value
        response.error = error == 0 ? 0 : -error
        response.flags = proceed ? UInt32(SECCOMP_USER_NOTIF_FLAG_CONTINUE) : 0
        // ENOENT: the caller is gone (killed meanwhile); nothing to answer.
        _ = ck_notif_send(listener, &response)
    }

    /// Completes call `id` with a descriptor of the caller's own: `fd` (the supervisor's)
    /// is installed in the caller, which gets its number as the call's result
    /// (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND, Linux 5.14). On failure
    /// (the caller's descriptor table full, say) the call still waits for an answer;
    /// ENOENT: the caller is gone.
    public static func sendDescriptor(_ listener: Int32, id: UInt64, _ fd: Int32, closeOnExec: Bool) -> Result<Int32, Errno> {
        let n = ck_notif_addfd_send(listener, id, fd, closeOnExec ? UInt32(O_CLOEXEC) : 0)
        return n >= 0 ? .success(n) : .failure(Errno(rawValue: errno))
    }

    /// Completes call `id`, an open that may block (a FIFO, a device), from a child of
    /// the supervisor's: it opens `path` with `flags` (and `mode` under `umask`, for
    /// O_CREAT) and sends the descriptor, or open's errno. The supervisor goes on
    /// meanwhile; the child is reaped as any other.
    public static func openDetached(_ listener: Int32, id: UInt64, path: String, flags: Int32, mode: mode_t, umask: mode_t,
                                    closeOnExec: Bool) -> Result<pid_t, Errno> {
        let pid = ck_notif_open_detached(listener, id, path, flags, mode, umask, closeOnExec ? UInt32(O_CLOEXEC) : 0)
        return pid > 0 ? .success(pid) : .failure(Errno(rawValue: errno))
    }

    /// Whether this kernel completes a call with a descriptor (SECCOMP_ADDFD_FLAG_SEND,
    /// Linux 5.14) and keeps a taken call from being restarted by a signal's handler
    /// (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 5.19), from its release: 5.19 and later.
    public static var sendsDescriptors: Bool {
        var u = utsname()
        guard uname(&u) == 0 else { return false }
        // "6.1.0-18-amd64": the first two numbers, read as bytes.
        var numbers = [0, 0], k = 0
        withUnsafeBytes(of: &u.release) { bytes in
            for b in bytes {
                if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                    numbers[k] = numbers[k] * 10 + Int(b - UInt8(ascii: "0"))
                } else if b == UInt8(ascii: ".") && k == 0 {
                    k = 1
                } else {
                    break
                }
            }
        }
        return numbers[0] > 5 || (numbers[0] == 5 && numbers[1] >= 19)
    }

    /// Whether the call `id` still waits: a pid read from a request may have been reused
    /// once its caller died, so check before touching that pid's memory.
    public static func isWaiting(_ listener: Int32, id: UInt64) -> Bool { ck_notif_id_valid(listener, id) == 0 }

    /// Writes `bytes` into process `pid` at `address` (process_vm_writev).
    public static func writeMemory(pid: pid_t, address: UInt64, _ bytes: [UInt8]) throws(SysError) {
        let n = bytes.withUnsafeBytes { ck_vm_write(pid, $0.baseAddress, $0.count, address) }
        if n < 0 { throw SysError.last("process_vm_writev", "pid \(pid) at 0x\(String(address, radix: 16))") }
        if n != bytes.count { throw SysError("process_vm_writev", "pid \(pid) (short write)", errno: .badAddress) }
    }
}
