import BurrowKernel
import BurrowSandbox
import Glibc

extension Sandbox {
    /// burrow-oci's process.rlimits, set in the set-up just before the launch: the command
    /// inherits them over exec. Raising a hard limit needs CAP_SYS_RESOURCE of the host's
    /// user namespace, which the sandbox never has: that fails with the limit named.
    func applyResourceLimits() throws(SysError) {
        for limit in spec.process.resourceLimits {
            guard let number = ResourceLimit.numbers[limit.resource] else { continue }
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            if setrlimit(__rlimit_resource_t(UInt32(number)), &value) != 0 {
                throw SysError.last("setrlimit", "\(limit.resource) \(limit.soft) \(limit.hard)",
                                    hint: Glibc.errno == EPERM ? "a hard limit cannot be raised above the caller's own" : nil)
            }
            log.step("setrlimit \(limit.resource) soft \(limit.soft) hard \(limit.hard)")
        }
        if let mask = spec.process.umask {
            Glibc.umask(mode_t(mask & 0o777))
            log.step("umask \(String(mask, radix: 8))")
        }
    }
}
