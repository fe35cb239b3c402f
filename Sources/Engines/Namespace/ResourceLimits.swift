import BurrowKernel
import BurrowSandbox
import Glibc

/// Settings of the command's process that it inherits from the process that launches it:
/// burrow-oci's process.rlimits, process.user.umask and process.oomScoreAdj. Set by the
/// set-up just before the launch, and by burrow-oci's exec before it launches its process.
enum InheritedSettings {
    /// Raising a hard limit needs CAP_SYS_RESOURCE of the host's user namespace, which the
    /// sandbox never has: that fails with the limit named.
    static func applyLimits(_ process: ProcessSpec, log: Log) throws(SysError) {
        for limit in process.resourceLimits {
            guard let number = ResourceLimit.numbers[limit.resource] else { continue }
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            if setrlimit(__rlimit_resource_t(UInt32(number)), &value) != 0 {
                throw SysError.last("setrlimit", "\(limit.resource) \(limit.soft) \(limit.hard)",
                                    hint: Glibc.errno == EPERM ? "a hard limit cannot be raised above the caller's own" : nil)
            }
            log.step("setrlimit \(limit.resource) soft \(limit.soft) hard \(limit.hard)")
        }
        if let mask = process.umask {
            Glibc.umask(mode_t(mask & 0o777))
            log.step("umask \(String(mask, radix: 8))")
        }
    }

    /// process.oomScoreAdj, through the host's /proc (so before the new root is entered).
    /// Lowering it needs CAP_SYS_RESOURCE of the host's user namespace, which the sandbox
    /// never has.
    static func adjustOOMScore(_ adjustment: Int32, log: Log) throws(SysError) {
        do throws(SysError) { try Files.writeFile("/proc/self/oom_score_adj", String(adjustment)) } catch {
            throw SysError("write oom_score_adj \(adjustment):", "/proc/self/oom_score_adj", errno: error.errno,
                           hint: error.errno == .permissionDenied ? "lowering it below the caller's own needs privilege Burrow does not have" : nil)
        }
        log.step("oom_score_adj \(adjustment)")
    }
}

extension Sandbox {
    /// In the set-up just before the launch: the command inherits them over exec.
    func applyResourceLimits() throws(SysError) { try InheritedSettings.applyLimits(spec.process, log: log) }
}
