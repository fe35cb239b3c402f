import BurrowKernel
import BurrowSandbox
import Glibc

/// The file descriptors and facts the processes of one sandbox share.
struct Channels {
    /// Setup and exec failures travel to the supervisor here; EOF means the command runs.
    var errorRead: Int32 = -1
    var errorWrite: Int32 = -1
    /// Held open by the supervisor only: the init sees it hang up if the supervisor died.
    var lifelineRead: Int32 = -1
    var lifelineWrite: Int32 = -1
    /// The supervisor tells the uid-map helper it has unshared.
    var mapHelperRead: Int32 = -1
    var mapHelperWrite: Int32 = -1
    /// The command announces itself here; the kernel attaches its host pid (for --pidfile,
    /// and the command's process group: JobControl).
    var pidSupervisor: Int32 = -1
    var pidCommand: Int32 = -1
    /// The init tells the supervisor the command stopped: one byte, the signal (non-blocking).
    var jobEventsRead: Int32 = -1
    var jobEventsWrite: Int32 = -1
    /// Paths Burrow creates on the host travel to the cleaner here, as fds of their parents.
    var cleanerSandbox: Int32 = -1
    var cleanerSide: Int32 = -1
    /// The supervisor's detached tmpfs of device nodes, for the set-up (DeviceNodes).
    var deviceNodes: Int32 = -1
    /// burrow-oci's create (`ExecHold`): the set-up writes a byte here once it is held; the
    /// supervisor then hands the container over and leaves.
    var heldRead: Int32 = -1
    var heldWrite: Int32 = -1
}

/// Where a failure of the set-up goes once nobody reads the error pipe: burrow-oci's
/// container, released by `start` after its supervisor has left, says it on its own
/// standard error (the container's, which conmon or the shim log), as runc's init does.
nonisolated(unsafe) var failuresOnStandardError = false

/// Sends a failure to the supervisor and exits: the tail of every failing child.
func fail(_ failure: Failure, on fd: Int32) -> Never {
    if failuresOnStandardError {
        if !failure.message.isEmpty { Diagnostics.say(failure.message) }
    } else {
        _ = try? Files.writeAll(fd, failure.encoded, what: "error pipe")
    }
    Proc.exit(failure.status)
}
