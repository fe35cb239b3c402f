import BurrowFrontEnds
import BurrowKernel
import Glibc

/// The reader front-ends get for files named on their command line (jchroot's `-f FSTAB`):
/// a host path, opened with the caller's own rights.
@Sendable func readHostFile(_ path: String) -> Result<String, UsageError> {
    // Read with the caller's rights only, since a parse error quotes the file: a setuid burrow
    // is the caller by now, with no capability effective (SetuidMode.begin). Anything else
    // with raised privilege is refused rather than risk a leak.
    guard Credentials.hasOnlyRealIDsRights else {
        return .failure(UsageError("not read while burrow runs with raised privileges"))
    }
    do throws(SysError) {
        let fd = try Files.open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        defer { Files.close(fd) }
        // In a setuid burrow /proc/self is burrow's own process, which the caller cannot read.
        if Credentials.isSecureExec, try Files.isOnProcfs(fd) {
            return .failure(UsageError("a file on procfs is not read by a setuid burrow (/proc/self would be burrow's own)"))
        }
        let limit = 1 << 20
        let bytes = try Files.readAll(fd, limit: limit)
        if bytes.count >= limit { return .failure(UsageError("larger than 1 MiB: not a configuration file")) }
        return .success(String(decoding: bytes, as: UTF8.self))
    } catch {
        return .failure(UsageError(SysError.message(for: error.errno)))
    }
}

/// What is left to read on a descriptor the caller passed (bwrap's `--args FD`), then closed,
/// as bubblewrap closes it. With the caller's rights only, as `readHostFile`.
@Sendable func readHostDescriptor(_ fd: Int32) -> Result<[UInt8], UsageError> {
    guard Credentials.hasOnlyRealIDsRights else {
        return .failure(UsageError("not read while burrow runs with raised privileges"))
    }
    defer { Files.close(fd) }
    do throws(SysError) {
        let limit = 1 << 24
        let bytes = try Files.readAll(fd, limit: limit + 1)
        guard bytes.count <= limit else { return .failure(UsageError("more than \(limit) bytes")) }
        return .success(bytes)
    } catch {
        return .failure(UsageError(SysError.message(for: error.errno)))
    }
}
