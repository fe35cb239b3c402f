/// Linux constants that Swift's Glibc module does not import (they sit behind _GNU_SOURCE
/// or in <linux/*.h>). Values from the kernel's UAPI headers.
let AT_EMPTY_PATH: Int32 = 0x1000
let PR_SET_PDEATHSIG: Int32 = 1
let PR_SET_DUMPABLE: Int32 = 4
let PR_SET_CHILD_SUBREAPER: Int32 = 36
let PR_SET_NO_NEW_PRIVS: Int32 = 38

public enum Namespace {
    public static let mount: Int32 = 0x0002_0000  // CLONE_NEWNS
    public static let cgroup: Int32 = 0x0200_0000
    public static let uts: Int32 = 0x0400_0000
    public static let ipc: Int32 = 0x0800_0000
    public static let user: Int32 = 0x1000_0000
    public static let pid: Int32 = 0x2000_0000
    public static let net: Int32 = 0x4000_0000
}

public let O_PATH: Int32 = 0o10000000
