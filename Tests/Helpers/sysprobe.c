// sysprobe: makes raw system calls, one per argument, and prints "NAME=RESULT" for each
// (RESULT is "ok" or the errno's name). Built static by the seccomp integration tests and
// run inside the sandbox, where busybox cannot make these calls.
//
// Each call is made with arguments that do nothing even where it is allowed, and that make
// the kernel itself answer something other than EPERM where it can (a bad flag, a NULL
// pointer, fd -1), so that an EPERM is the filter's. Names starting with "i386_" make the
// call through the i386 ABI (int $0x80) of an x86_64 kernel; "x32_" with the x32 bit set.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <elf.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#ifndef CLONE_NEWUSER
#define CLONE_NEWUSER 0x10000000
#endif

static const char *name_of(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ESRCH: return "ESRCH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EACCES: return "EACCES";
    case ENOTTY: return "ENOTTY";
    case EIO: return "EIO";
    case ENOENT: return "ENOENT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case ENOKEY: return "ENOKEY";
    case ENOEXEC: return "ENOEXEC";
    case ENODATA: return "ENODATA";
    case ERANGE: return "ERANGE";
    default: return NULL;
    }
}

static void report(const char *name, long r, int e) {
    if (r >= 0) {
        printf("%s=ok\n", name);
    } else {
        const char *n = name_of(e);
        if (n) printf("%s=%s\n", name, n); else printf("%s=errno%d\n", name, e);
    }
}

#if defined(__x86_64__)
// The i386 ABI from a 64-bit process: number in eax, arguments in ebx, ecx, edx, esi, edi.
static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
    return r;
}
#define I386(name, nr, a, b, c) else if (!strcmp(p, name)) { long r = int80(nr, a, b, c); report(p, r < 0 && r > -4096 ? -1 : r, (int)-r); continue; }
#define X32_BIT 0x40000000L
#endif

// A descriptor a process may hold, closed before the probes run.
#define CLOSED_FD 1000L

#define PROBE(name, call) else if (!strcmp(p, name)) { errno = 0; long r = (call); report(p, r, errno); continue; }

int main(int argc, char **argv) {
    char c = '\n';
    setvbuf(stdout, NULL, _IONBF, 0);
    close((int)CLOSED_FD);
    for (int i = 1; i < argc; i++) {
        const char *p = argv[i];
        if (0) {}
        // Values rather than results: "hwcap=HEX" (AT_HWCAP as the program got it),
        // "ids=R,E,S:R,E,S" (getresuid, getresgid, raw).
        else if (!strcmp(p, "hwcap")) {
            // From the auxiliary vector after envp (glibc's getauxval answers its own idea on x86).
            extern char **environ;
            char **e = environ;
            while (*e) e++;
            unsigned long *av = (unsigned long *)(e + 1), hw = 0;
            for (; av[0] != AT_NULL; av += 2) if (av[0] == AT_HWCAP) hw = av[1];
            printf("hwcap=%lx\n", hw);
            continue;
        }
        // "sock=PATH": a unix socket bound at PATH and one connected to it; prints what
        // getsockname of the first and getpeername of the second name.
        else if (!strncmp(p, "sock=", 5)) {
            struct sockaddr_un a = {.sun_family = AF_UNIX}, got;
            strncpy(a.sun_path, p + 5, sizeof a.sun_path - 1);
            int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
            unlink(a.sun_path);
            if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1) || connect(c, (struct sockaddr *)&a, sizeof a)) {
                printf("sock=%s\n", name_of(errno));
                continue;
            }
            socklen_t n = sizeof got;
            memset(&got, 0, sizeof got);
            getsockname(s, (struct sockaddr *)&got, &n);
            printf("sockname=%s len=%u\n", got.sun_path, (unsigned)n);
            n = sizeof got;
            memset(&got, 0, sizeof got);
            getpeername(c, (struct sockaddr *)&got, &n);
            printf("peername=%s len=%u\n", got.sun_path, (unsigned)n);
            unlink(a.sun_path);
            continue;
        }
        // "xattr=FILE:LINK": user.burrow set on FILE, then read back: its size, its value,
        // through the symlink LINK followed (getxattr) and not (lgetxattr: the link has
        // none), into too small a buffer, a name that is not there, and listxattr of LINK.
        else if (!strncmp(p, "xattr=", 6)) {
            char file[512], *link;
            snprintf(file, sizeof file, "%s", p + 6);
            if (!(link = strchr(file, ':'))) { printf("xattr=usage\n"); continue; }
            *link++ = 0;
            if (setxattr(file, "user.burrow", "v1", 2, 0)) { printf("xattr=set:%s\n", name_of(errno)); continue; }
            char value[64] = {0}, followed[64] = {0}, tiny[1], names[256] = {0}, e[4][64];
            long size = getxattr(file, "user.burrow", NULL, 0);
            long got = getxattr(file, "user.burrow", value, sizeof value - 1);
            long via = getxattr(link, "user.burrow", followed, sizeof followed - 1);
            snprintf(e[0], 64, "%s", via < 0 ? name_of(errno) : followed);
            long own = lgetxattr(link, "user.burrow", NULL, 0);
            snprintf(e[1], 64, "%s", own < 0 ? name_of(errno) : "ok");
            long small = getxattr(file, "user.burrow", tiny, sizeof tiny);
            snprintf(e[2], 64, "%s", small < 0 ? name_of(errno) : "ok");
            long missing = getxattr(file, "user.none", NULL, 0);
            snprintf(e[3], 64, "%s", missing < 0 ? name_of(errno) : "ok");
            long n = listxattr(link, names, sizeof names);
            int listed = 0;
            for (long i = 0; i < n; i += (long)strlen(names + i) + 1) listed |= !strcmp(names + i, "user.burrow");
            printf("xattr size=%ld value=%s(%ld) followed=%s own=%s small=%s missing=%s listed=%d\n",
                   size, value, got, e[0], e[1], e[2], e[3], listed);
            continue;
        }
        // "execve_text=PATH": execve of PATH with a bad envp (the kernel copies it only
        // once it has a format for the file).
        else if (!strncmp(p, "execve_text=", 12)) {
            char *args[] = {(char *)p + 12, NULL};
            errno = 0;
            long r = syscall(SYS_execve, p + 12, args, (char **)1);
            report("execve_text", r, errno);
            continue;
        }
        else if (!strcmp(p, "ids")) {
            unsigned u[3], g[3];
            syscall(SYS_getresuid, &u[0], &u[1], &u[2]);
            syscall(SYS_getresgid, &g[0], &g[1], &g[2]);
            printf("ids=%u,%u,%u:%u,%u,%u\n", u[0], u[1], u[2], g[0], g[1], g[2]);
            continue;
        }
        // default profile
        PROBE("reboot", syscall(SYS_reboot, 0, 0, 0, 0))                       // bad magic: EINVAL
        PROBE("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0))
        PROBE("init_module", syscall(SYS_init_module, 0, 0, ""))
        PROBE("finit_module", syscall(SYS_finit_module, -1, "", 0))
        PROBE("delete_module", syscall(SYS_delete_module, "burrow-none", 0))
        PROBE("swapoff", syscall(SYS_swapoff, 0))
        PROBE("clock_settime", syscall(SYS_clock_settime, 0, 0))               // NULL: EFAULT
        PROBE("settimeofday", syscall(SYS_settimeofday, 0, 0))
        PROBE("syslog", syscall(SYS_syslog, 10 /* SIZE_BUFFER */, 0, 0))
        PROBE("acct", syscall(SYS_acct, 0))
        PROBE("iopl", syscall(SYS_iopl, 4))                                    // > 3: EINVAL
        PROBE("ioperm", syscall(SYS_ioperm, 0, 0, 1))                          // empty range: EINVAL
        PROBE("bpf", syscall(SYS_bpf, -1, 0, 0))
        PROBE("perf_event_open", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0)) // NULL attr: EFAULT
        PROBE("userfaultfd", syscall(SYS_userfaultfd, 1 | 0x4000 /* user mode only, bad flag */))
        PROBE("keyctl", syscall(SYS_keyctl, -1, 0, 0, 0, 0))                   // bad operation
        PROBE("add_key", syscall(SYS_add_key, 0, 0, 0, 0, 0))                  // NULL type: EFAULT
        PROBE("request_key", syscall(SYS_request_key, 0, 0, 0, 0))
        PROBE("ptrace", syscall(SYS_ptrace, 16 /* ATTACH */, 0, 0, 0))         // pid 0: ESRCH
        PROBE("process_vm_readv", syscall(SYS_process_vm_readv, 0, 0, 0, 0, 0, 1)) // flags: EINVAL
        PROBE("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0))               // EBADF
        PROBE("clone_newuser", syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0)) // EINVAL
        PROBE("unshare_newuser", syscall(SYS_unshare, CLONE_NEWUSER | CLONE_IO)) // EINVAL
        PROBE("clone3", syscall(SYS_clone3, 0, 0))                             // size 0: EINVAL
        // A descriptor a process could hold, but this one does not: the kernel says EBADF.
        PROBE("tiocsti_badfd", syscall(SYS_ioctl, CLOSED_FD, TIOCSTI, &c))     // EBADF
        PROBE("tiocsti_high_bits", syscall(SYS_ioctl, CLOSED_FD, 0x100000000L | TIOCSTI, &c))
        PROBE("tiocsti_fd_high_bits", syscall(SYS_ioctl, 0x100000000L | CLOSED_FD, TIOCSTI, &c)) // fd CLOSED_FD to the kernel
        PROBE("tioclinux", syscall(SYS_ioctl, CLOSED_FD, TIOCLINUX, &c))
        // A descriptor no process can hold (negative as an int): always the kernel's EBADF.
        PROBE("tiocsti_negative_fd", syscall(SYS_ioctl, -1, TIOCSTI, &c))
        PROBE("tcgets_badfd", syscall(SYS_ioctl, -1, TCGETS, &c))              // allowed: EBADF
        // linux-user-chroot-0
        PROBE("personality", syscall(SYS_personality, 0xffffffffL))            // query
        PROBE("mount", syscall(SYS_mount, 0, 0, 0, 0, 0))
        PROBE("pivot_root", syscall(SYS_pivot_root, 0, 0))
        // Docker's default profile (scripts/restricted-host --docker)
        PROBE("clone_newuts", syscall(SYS_clone, CLONE_NEWUTS | CLONE_FS, 0, 0, 0, 0)) // EINVAL
        PROBE("kcmp", syscall(SYS_kcmp, 0, 0, 99, 0, 0))                       // bad type: EINVAL
        PROBE("personality_linux32", syscall(SYS_personality, 0x0008L))         // PER_LINUX32
        PROBE("personality_no_randomize", syscall(SYS_personality, 0x0040000L)) // ADDR_NO_RANDOMIZE
        PROBE("process_vm_writev", syscall(SYS_process_vm_writev, 0, 0, 0, 0, 0, 1)) // flags: EINVAL
        PROBE("process_madvise", syscall(SYS_process_madvise, -1, 0, 0, 0, 0))  // EBADF
        // NULL filter: EFAULT where a listener may be had, else EINVAL (or the filter's errno)
        PROBE("seccomp_listener", syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 8 /* NEW_LISTENER */, 0))
        PROBE("unshare_ipc", syscall(SYS_unshare, CLONE_NEWIPC | CLONE_IO))    // EINVAL
        PROBE("modify_ldt", syscall(SYS_modify_ldt, 99, 0, 0))                 // bad func: ENOSYS
        PROBE("mbind", syscall(SYS_mbind, 0, 0, 99, 0, 0, 0))                  // bad mode: EINVAL
        PROBE("socket_unix", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0))
        PROBE("socket_inet", syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0))
        PROBE("socket_inet6", syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0))
        PROBE("socket_netlink", syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0))
        PROBE("socket_packet", syscall(SYS_socket, AF_PACKET, SOCK_DGRAM, 0))
        PROBE("socket_alg", syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0))
        PROBE("socket_family_99", syscall(SYS_socket, 99, SOCK_DGRAM, 0))
        // anything
        PROBE("getpid", syscall(SYS_getpid))
        PROBE("uname_null", syscall(SYS_uname, 0))                             // EFAULT
        PROBE("getcwd_null", syscall(SYS_getcwd, 0, 0))                        // ERANGE/EINVAL...
#if defined(__x86_64__)
        I386("i386_getpid", 20, 0, 0, 0)
        I386("i386_reboot", 88, 0, 0, 0)                                       // EINVAL
        I386("i386_unshare_newuser", 310, CLONE_NEWUSER | CLONE_IO, 0, 0)      // EINVAL
        I386("i386_ioctl_tiocsti", 54, CLOSED_FD, TIOCSTI, 0)                  // EBADF
        I386("i386_clone3", 435, 0, 0, 0)                                      // EINVAL
        I386("i386_uname_null", 122, 0, 0, 0)                                  // EFAULT
        I386("i386_socket_packet", 359, AF_PACKET, SOCK_DGRAM, 0)
        PROBE("x32_getpid", syscall(X32_BIT | SYS_getpid))                     // ENOSYS without x32
        PROBE("x32_reboot", syscall(X32_BIT | SYS_reboot, 0, 0, 0, 0))
#endif
        else {
            fprintf(stderr, "sysprobe: unknown probe %s\n", p);
            return 2;
        }
    }
    return 0;
}
