// escapeprobe: tries to get out of the sandbox it runs in, one attempt per argument, and
// prints "NAME=RESULT" for each. Built static by the escape tests and bound into the
// sandbox. RESULT is "ESCAPED" when an attempt reached the host (the host-only marker file
// given on the command line could be opened), "inside" when it plainly stayed inside, "ok"
// when a call that should have been refused succeeded, or the errno's name.
//
// Arguments are run in order, in one process, so state carries over: "newns" first makes
// the later attempts run in a user and mount namespace of their own.
//
//   dotdot:MARKER          chdir("..") 64 times from /, then open MARKER relative to cwd
//   openat:MARKER          openat(fd of /, "../../..(x32)/MARKER")
//   chroot:DIR:MARKER      the classic: mkdir DIR/x, chroot DIR/x with cwd DIR (outside the
//                          new root), chdir("..") 64 times, chroot("."), open MARKER:
//                          "inside" if that says ENOENT, else the errno of the step refused
//   fdchroot:DIR:MARKER    the same, coming back through an fd of / kept from before
//   open:PATH              open(PATH) (e.g. /proc/self/root/MARKER)
//   fds:MARKER             every open fd above 2; through each, try to open MARKER
//   mknod:PATH             mknod(PATH, char 1:3); removed again if it worked
//   mount_tmpfs:PATH       mount a tmpfs on PATH
//   remount_rw:PATH        mount(NULL, PATH, MS_REMOUNT|MS_BIND) without MS_RDONLY
//   remount_sb_rw:PATH     mount(NULL, PATH, MS_REMOUNT) without MS_RDONLY (the superblock)
//   setattr_rw:PATH        mount_setattr(PATH, attr_clr = MOUNT_ATTR_RDONLY)
//   umount:PATH            umount2(PATH, MNT_DETACH)
//   write:PATH             create PATH and write to it; removed again if it worked
//   newns                  unshare(CLONE_NEWUSER | CLONE_NEWNS)
//   ancestors:MARKER       for each ancestor process (via /proc/PID/stat): open
//                          /proc/PID/root/MARKER (NAME ancN_root) and PTRACE_ATTACH (ancN_ptrace)
//   ptrace:PID             PTRACE_ATTACH to PID (detached again if it worked)
//   kill0:PID              kill(PID, 0)
//   prlimit:PID            prlimit(PID, RLIMIT_CORE, unlimited): another process's limits
//   killpg:SIG             kill(0, SIG): the probe's process group (SIG: KILL, STOP, TSTP, TERM
//                          or a number); reported only if the probe is still there after it
//   killpgrp:SIG           kill(-getpgrp(), SIG): the same group, named by number
//   killppid:SIG           kill(getppid(), SIG): the parent (burrow's init)
//   daemon:ARG             fork a child into a session of its own that runs /bin/sleep ARG;
//                          prints daemon=PID once it runs
//   untraced:ARG           clone(CLONE_UNTRACED | SIGCHLD) a child into a session of its own
//                          that sleeps for ARG seconds, making no path call (its argv, the
//                          probe's, holds "untraced:ARG"); prints untraced=PID once it
//                          runs, or the errno of clone
//   uring_open:MARKER      openat(MARKER) as an io_uring operation, made by the kernel
//                          without a system call of the probe's: ESCAPED if it opened it
//   fg                     fg=yes if stdin is a terminal whose foreground group is the probe's
//                          (it may read from it), fg=no if not, or the errno
//   pgleader               pgleader=yes if the probe leads its process group, else no
//   tag:ANY                nothing: a mark in the argv to find the probe by
//   ids                    real, effective and saved uid, and the effective capabilities
//   tiocsti:FD             ioctl(FD, TIOCSTI, "A"): types A into that terminal
//   tiocsti_high:FD        the same with bits set above the request's 32 ("B")
//   tiocsti_i386:FD        the same through the i386 ABI, int $0x80 ("C"; x86_64 only)
//   tioclinux:FD           ioctl(FD, TIOCLINUX, TIOCL_GETSHIFTSTATE): only reads, and on
//                          a pseudo-terminal the kernel says ENOTTY
//   open_i386:PATH         open(PATH) through the i386 ABI (int $0x80) from 64-bit code,
//                          whose stack is above the 32-bit pointers (x86_64 only)
//   open_x32:PATH          open(PATH) through the x32 ABI (x86_64 only)
//   bind_socketcall:PATH   i386's socketcall(SYS_BIND) of a unix socket at PATH, then
//                          getsockname through it: prints bind_socketcall=ok name=NAME or the
//                          errno (built with -m32 only)
// Built with -m32 (escapeprobe32), every attempt is an i386 program's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct burrow_mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };

static const char *name_of(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case ENODEV: return "ENODEV";
    case ENOTTY: return "ENOTTY";
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

/// MARKER relative to the current directory: without its leading slashes.
static const char *relative(const char *marker) {
    while (*marker == '/') marker++;
    return marker;
}

/// ESCAPED if `path` (relative to `dirfd`) opens, else the errno.
static void try_marker(const char *name, int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        printf("%s=ESCAPED\n", name);
        close(fd);
    } else {
        report(name, -1, errno);
    }
}

/// After moving around: ESCAPED if the marker is reachable from cwd, "inside" if cwd is
/// still this process's root, "moved" if it is elsewhere without the marker (suspicious).
static void judge_cwd(const char *name, const char *marker) {
    int fd = open(relative(marker), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        printf("%s=ESCAPED\n", name);
        return;
    }
    struct stat cwd, root;
    if (stat(".", &cwd) == 0 && stat("/", &root) == 0 && cwd.st_dev == root.st_dev && cwd.st_ino == root.st_ino) {
        printf("%s=inside\n", name);
    } else {
        printf("%s=moved\n", name);
    }
}

static void climb(void) {
    for (int i = 0; i < 64; i++) (void)chdir("..");
}

/// The classic chroot escape. `keep_fd`: come back through an fd of / opened before.
static void chroot_escape(const char *name, const char *dir, const char *marker, int keep_fd) {
    int old = keep_fd ? open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (chdir(dir) != 0) { report(name, -1, errno); return; }
    if (mkdir("x", 0755) != 0 && errno != EEXIST) { report(name, -1, errno); return; }
    if (chroot("x") != 0) { report(name, -1, errno); if (old >= 0) close(old); return; }
    if (old >= 0) { (void)fchdir(old); close(old); }
    climb();
    if (chroot(".") != 0) { report(name, -1, errno); return; }
    (void)chdir("/");
    int fd = open(marker, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) { close(fd); printf("%s=ESCAPED\n", name); }
    else if (errno == ENOENT) printf("%s=inside\n", name);
    else report(name, -1, errno);
}

static pid_t parent_of(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *end = strrchr(buf, ')');  // the command name may hold spaces and parentheses
    if (!end) return 0;
    char state;
    int ppid = 0;
    if (sscanf(end + 1, " %c %d", &state, &ppid) != 2) return 0;
    return ppid;
}

static void try_ptrace(const char *name, pid_t pid) {
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
        int st;
        (void)waitpid(pid, &st, __WALL);
        (void)ptrace(PTRACE_DETACH, pid, 0, 0);
        printf("%s=ok\n", name);
    } else {
        report(name, -1, errno);
    }
}

static int signal_arg(const char *s) {
    static const struct { const char *name; int sig; } names[] = {
        {"KILL", SIGKILL}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) return names[i].sig;
    return atoi(s);
}

/// Makes the call, then reads errno (an argument list may be evaluated in any order).
#define CALL(name, call) do { errno = 0; long r_ = (call); report(name, r_, errno); } while (0)

static pid_t pid_arg(const char *s) {
    if (!strcmp(s, "ppid")) return getppid();
    return (pid_t)atoi(s);
}

// What the terminal attempts type: a global, so that its address fits the i386 ABI's
// 32-bit pointers in this static, non-PIE program.
static char typed[] = "ABC";
// The path of open_i386, for the same reason.
static char low_path[4096];

#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
    return r;
}
#endif

/// openat(AT_FDCWD, path) through a one-entry io_uring: the fd, or -errno.
static long uring_open(const char *path) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int)syscall(SYS_io_uring_setup, 1, &p);
    if (ring < 0) return -errno;
    char *sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return -ENOMEM;
    memset(&sqes[0], 0, sizeof sqes[0]);
    sqes[0].opcode = IORING_OP_OPENAT;
    sqes[0].fd = AT_FDCWD;
    sqes[0].addr = (unsigned long)path;
    sqes[0].open_flags = O_RDONLY | O_CLOEXEC;
    ((unsigned *)(sq + p.sq_off.array))[0] = 0;
    __atomic_store_n((unsigned *)(sq + p.sq_off.tail), 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return -errno;
    return ((struct io_uring_cqe *)(cq + p.cq_off.cqes))[0].res;
}

/// The untraced child: out of reach of PTRACE_O_TRACECLONE and PTRACE_O_EXITKILL.
static int untraced_seconds, untraced_pipe;
static int untraced_child(void) {
    setsid();
    char one = 1;
    (void)!write(untraced_pipe, &one, 1);
    struct timespec t = {untraced_seconds, 0};
    syscall(SYS_nanosleep, &t, NULL);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 1; i < argc; i++) {
        char arg[4096];
        snprintf(arg, sizeof arg, "%s", argv[i]);
        char *a = strchr(arg, ':');
        char *b = a ? strchr(a + 1, ':') : NULL;
        if (a) *a++ = 0;
        if (b) *b++ = 0;
        const char *name = argv[i];
        const char *op = arg;

        if (!strcmp(op, "dotdot") && a) {
            (void)chdir("/");
            climb();
            judge_cwd("dotdot", a);
            (void)chdir("/");
        } else if (!strcmp(op, "openat") && a) {
            int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            char path[4096] = "";
            for (int k = 0; k < 32; k++) strcat(path, "../");
            strncat(path, relative(a), sizeof path - strlen(path) - 1);
            try_marker("openat", root, path);
            close(root);
        } else if (!strcmp(op, "chroot") && a && b) {
            chroot_escape("chroot", a, b, 0);
        } else if (!strcmp(op, "fdchroot") && a && b) {
            chroot_escape("fdchroot", a, b, 1);
        } else if (!strcmp(op, "open") && a) {
            int fd = open(a, O_RDONLY | O_CLOEXEC);
            int e = errno;
            report(name, fd, e);
            if (fd >= 0) close(fd);
        } else if (!strcmp(op, "fds") && a) {
            int any = 0;
            for (int fd = 3; fd < 4096; fd++) {
                if (fcntl(fd, F_GETFD) < 0) continue;
                any = 1;
                char path[64], target[4096];
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(path, target, sizeof target - 1);
                target[n > 0 ? n : 0] = 0;
                printf("fd%d=%s\n", fd, target);
                char which[32];
                snprintf(which, sizeof which, "fd%d_marker", fd);
                try_marker(which, fd, relative(a));
            }
            if (!any) printf("fds=none\n");
        } else if (!strcmp(op, "mknod") && a) {
            long r = mknod(a, S_IFCHR | 0600, makedev(1, 3));
            int e = errno;
            report(name, r, e);
            if (r == 0) unlink(a);
        } else if (!strcmp(op, "mount_tmpfs") && a) {
            CALL(name, mount("burrow-escape", a, "tmpfs", 0, ""));
        } else if (!strcmp(op, "remount_rw") && a) {
            CALL(name, mount(NULL, a, NULL, MS_REMOUNT | MS_BIND, NULL));
        } else if (!strcmp(op, "remount_sb_rw") && a) {
            CALL(name, mount(NULL, a, NULL, MS_REMOUNT, NULL));
        } else if (!strcmp(op, "setattr_rw") && a) {
            struct burrow_mount_attr attr = {0, MOUNT_ATTR_RDONLY, 0, 0};
            CALL(name, syscall(SYS_mount_setattr, AT_FDCWD, a, AT_RECURSIVE, &attr, sizeof attr));
        } else if (!strcmp(op, "umount") && a) {
            CALL(name, umount2(a, MNT_DETACH));
        } else if (!strcmp(op, "write") && a) {
            int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                long r = write(fd, "x", 1);
                int e = errno;
                report(name, r, e);
                close(fd);
                unlink(a);
            } else {
                report(name, -1, errno);
            }
        } else if (!strcmp(op, "newns")) {
            CALL(name, unshare(CLONE_NEWUSER | CLONE_NEWNS));
        } else if (!strcmp(op, "ancestors") && a) {
            pid_t pid = getppid();
            for (int n = 1; pid > 0 && n < 16; n++) {
                char which[32], path[4200];
                snprintf(which, sizeof which, "anc%d_root", n);
                snprintf(path, sizeof path, "/proc/%d/root/%s", (int)pid, relative(a));
                try_marker(which, AT_FDCWD, path);
                snprintf(which, sizeof which, "anc%d_ptrace", n);
                try_ptrace(which, pid);
                pid = parent_of(pid);
            }
        } else if (!strcmp(op, "ptrace") && a) {
            try_ptrace(name, pid_arg(a));
        } else if (!strcmp(op, "prlimit") && a) {
            struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
            report(name, prlimit(pid_arg(a), RLIMIT_CORE, &unlimited, NULL), errno);
        } else if (!strcmp(op, "kill0") && a) {
            CALL(name, kill(pid_arg(a), 0));
        } else if (!strcmp(op, "killpg") && a) {
            CALL(name, kill(0, signal_arg(a)));
        } else if (!strcmp(op, "killpgrp") && a) {
            CALL(name, kill(-getpgrp(), signal_arg(a)));
        } else if (!strcmp(op, "killppid") && a) {
            CALL(name, kill(getppid(), signal_arg(a)));
        } else if (!strcmp(op, "daemon") && a) {
            // The pipe closes on exec: its EOF says the sleep runs.
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) { report(name, -1, errno); continue; }
            pid_t child = fork();
            if (child == 0) {
                close(p[0]);
                setsid();
                execl("/bin/sleep", "sleep", a, (char *)NULL);
                _exit(127);
            }
            close(p[1]);
            char c;
            while (read(p[0], &c, 1) > 0) {}
            close(p[0]);
            if (child < 0) report(name, -1, errno); else printf("daemon=%d\n", (int)child);
        } else if (!strcmp(op, "untraced") && a) {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) { report(name, -1, errno); continue; }
            untraced_seconds = atoi(a);
            untraced_pipe = p[1];
            // A fork, made by clone(2) with the flag no tracer can override.
            long child = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, NULL, NULL, 0);
            if (child == 0) _exit(untraced_child());
            int e = errno;
            close(p[1]);
            if (child < 0) { close(p[0]); report(name, -1, e); continue; }
            char c;
            (void)!read(p[0], &c, 1);
            close(p[0]);
            printf("untraced=%ld\n", child);
        } else if (!strcmp(op, "uring_open") && a) {
            long fd = uring_open(a);
            if (fd >= 0) printf("%s=ESCAPED\n", name); else report(name, -1, (int)-fd);
        } else if (!strcmp(op, "fg")) {
            pid_t fg = tcgetpgrp(0);
            if (fg < 0) report("fg", -1, errno); else printf("fg=%s\n", fg == getpgrp() ? "yes" : "no");
        } else if (!strcmp(op, "pgleader")) {
            printf("pgleader=%s\n", getpgrp() == getpid() ? "yes" : "no");
        } else if (!strcmp(op, "tag")) {
        } else if (!strcmp(op, "ids")) {
            uid_t r, e, s;
            getresuid(&r, &e, &s);
            struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
            struct __user_cap_data_struct d[2] = {{0}};
            syscall(SYS_capget, &h, d);
            printf("ids=%u %u %u\ncapeff=%08x%08x\n", r, e, s, d[1].effective, d[0].effective);
        } else if (!strcmp(op, "tiocsti") && a) {
            CALL(name, syscall(SYS_ioctl, atoi(a), TIOCSTI, &typed[0]));
        } else if (!strcmp(op, "tiocsti_high") && a) {
            CALL(name, syscall(SYS_ioctl, atoi(a), 0xFFFFFFFF00000000UL | TIOCSTI, &typed[1]));
#if defined(__x86_64__)
        } else if (!strcmp(op, "tiocsti_i386") && a) {
            long r = int80(54 /* ioctl */, atoi(a), TIOCSTI, (long)&typed[2]);
            report(name, r < 0 && r > -4096 ? -1 : r, (int)-r);
        } else if (!strcmp(op, "open_i386") && a) {
            snprintf(low_path, sizeof low_path, "%s", a);
            long r = int80(5 /* open */, (long)low_path, O_RDONLY, 0);
            report(name, r < 0 && r > -4096 ? -1 : r, (int)-r);
            if (r >= 0) close((int)r);
        } else if (!strcmp(op, "open_x32") && a) {
            CALL(name, syscall(0x40000000L | SYS_open, a, O_RDONLY | O_CLOEXEC));
#endif
#if defined(__i386__)
        } else if (!strcmp(op, "bind_socketcall") && a) {
            struct sockaddr_un sa = {.sun_family = AF_UNIX}, got = {0};
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s", a);
            unsigned long made[3] = {AF_UNIX, SOCK_STREAM, 0};
            long s = syscall(SYS_socketcall, 1 /* SYS_SOCKET */, made);
            socklen_t n = sizeof got;
            unsigned long bound[3] = {(unsigned long)s, (unsigned long)&sa, sizeof sa};
            unsigned long named[3] = {(unsigned long)s, (unsigned long)&got, (unsigned long)&n};
            if (s < 0 || syscall(SYS_socketcall, 2 /* SYS_BIND */, bound) != 0) { report(name, -1, errno); continue; }
            if (syscall(SYS_socketcall, 6 /* SYS_GETSOCKNAME */, named) != 0) { report(name, -1, errno); continue; }
            printf("%s=ok name=%s\n", name, got.sun_path);
            close((int)s);
#endif
        } else if (!strcmp(op, "tioclinux") && a) {
            char subcode = 6;  // TIOCL_GETSHIFTSTATE
            CALL(name, syscall(SYS_ioctl, atoi(a), TIOCLINUX, &subcode));
        } else {
            printf("%s=unknown-probe\n", name);
        }
    }
    return 0;
}
