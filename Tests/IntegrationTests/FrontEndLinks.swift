// Runs the burrow binary under another name (a symlink named `jchroot`, ...), as a user of
// that tool would install it, as the test user.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum FrontEndLinks {
    /// A directory the test user can reach holding one symlink per compatibility name.
    static let directory: String = {
        let dir = Harness.tempBase + "/bin"
        mkdir(dir, 0o755)
        chmod(dir, 0o755)
        for name in ["linux-user-chroot", "jchroot", "proot", "bwrap", "burrow-oci"] {
            let ok = symlink(Harness.binary, dir + "/" + name) == 0 || errno == EEXIST
            precondition(ok, "symlink \(name): \(String(cString: strerror(errno)))")
        }
        return dir
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}

/// Runs the tool `name` (burrow under that name) as the test user and waits for it.
func runTool(
    _ name: String, _ args: [String], stdin: String? = nil, timeout: Double = 20,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> BurrowResult {
    do {
        let p = try startTool(name, args, stdin: stdin)
        return await p.wait(timeout: timeout, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start \(name): \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: args, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

/// Starts the tool `name` in the background as the test user.
func startTool(_ name: String, _ args: [String], stdin: String? = nil) throws -> SpawnedProcess {
    try spawn(asTestUser([FrontEndLinks.path(name)] + args), stdin: stdin)
}

/// A directory the test user owns, with `files` (name: text) in it, owned by the test user.
func makeUserDir(_ files: [String: String] = [:]) -> TempDir {
    let dir = makeTempDir(owner: testUser)
    for (name, text) in files { writeFile(dir.sub(name), text, owner: testUser) }
    return dir
}

/// Lines the busybox `ip link` of the sandbox listed as interfaces.
func interfaces(_ r: BurrowResult) -> [String] { interfaceNames(inIPOutput: r.stdout) }
