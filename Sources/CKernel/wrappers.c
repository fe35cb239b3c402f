// One-line wrappers for what Swift cannot call itself: system calls glibc has no wrapper for
// or Swift's Glibc module hides (unshare, pivot_root, the fd mount API, openat2, statx,
// pipe2...), variadic ones (prctl, syscall), and the CMSG macros of descriptor passing.
// Each returns what the kernel returned (-1 and errno on failure); Sources/Kernel gives
// them names, types and errors. The programs that run between clone and exec are in the
// child_*.c files (README.md).
#define _GNU_SOURCE
#include <sys/vfs.h>
#include "CKernel.h"
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int ck_unshare(int flags) { return unshare(flags); }
int ck_setns(int fd, int nstype) { return setns(fd, nstype); }
int ck_ns_get_parent(int fd) { return ioctl(fd, NS_GET_PARENT); }
int ck_ns_get_nstype(int fd) { return ioctl(fd, NS_GET_NSTYPE); }
int ck_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }
int ck_sethostname(const char *name, size_t len) { return sethostname(name, len); }
int ck_seccomp(unsigned int op, unsigned int flags, void *args) { return (int)syscall(SYS_seccomp, op, flags, args); }


int ck_prctl(int o, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(o, a2, a3, a4, a5);
}

int ck_ofd_read_lock(int fd) {
    struct flock lock = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &lock);
}

int ck_pty_unlock(int master) { int unlock = 0; return ioctl(master, TIOCSPTLCK, &unlock); }
int ck_pty_peer(int master, int flags) { return ioctl(master, TIOCGPTPEER, flags); }
int ck_pty_number(int master) { unsigned int n = 0; return ioctl(master, TIOCGPTN, &n) < 0 ? -1 : (int)n; }
int ck_pty_set_size(int fd, unsigned short rows, unsigned short cols) {
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int ck_connect_unix(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    memcpy(addr.sun_path, path, len + 1);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) { int e = errno; close(sock); errno = e; return -1; }
    return sock;
}

int ck_open_tree(int d, const char *p, unsigned int f) { return (int)syscall(SYS_open_tree, d, p, f); }
int ck_move_mount(int fd, const char *fp, int td, const char *tp, unsigned int f) {
    return (int)syscall(SYS_move_mount, fd, fp, td, tp, f);
}
int ck_mount_setattr(int d, const char *p, unsigned int f, uint64_t set, uint64_t clr, uint64_t prop) {
    struct mount_attr a = {.attr_set = set, .attr_clr = clr, .propagation = prop};
    return (int)syscall(SYS_mount_setattr, d, p, f, &a, sizeof a);
}
int ck_fsopen(const char *n, unsigned int f) { return (int)syscall(SYS_fsopen, n, f); }
int ck_fsconfig(int fd, unsigned int c, const char *k, const void *v, int aux) {
    return (int)syscall(SYS_fsconfig, fd, c, k, v, aux);
}
int ck_fsmount(int fd, unsigned int f, unsigned int a) { return (int)syscall(SYS_fsmount, fd, f, a); }
int ck_openat2(int d, const char *p, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, d, p, &how, sizeof how);
}
long ck_statfs_bytes(const char *path, void *buffer, unsigned long size) {
    struct statfs fs;
    if (size < sizeof fs) { errno = EINVAL; return -1; }
    if (statfs(path, &fs) != 0) return -1;
    memcpy(buffer, &fs, sizeof fs);
    return (long)sizeof fs;
}

int ck_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int ck_fstatfs_type(int fd, long *type) {
    struct statfs fs;
    int r = fstatfs(fd, &fs);
    if (r == 0) *type = (long)fs.f_type;
    return r;
}

int ck_statx_mount(int d, const char *p, int flags, uint64_t *mnt_id, int *is_root, uint64_t *ino,
                   uint32_t *maj, uint32_t *min, uint32_t *mode) {
    struct statx sx;
    int r = statx(d, p, flags, STATX_MNT_ID | STATX_INO | STATX_TYPE | STATX_MODE, &sx);
    if (r != 0) return r;
    *mnt_id = sx.stx_mnt_id;
    *is_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ? !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) : -1;
    *ino = sx.stx_ino;
    *maj = sx.stx_dev_major;
    *min = sx.stx_dev_minor;
    *mode = sx.stx_mode;
    return 0;
}

int ck_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int ck_if_get_flags(int sock, const char *name, short *flags) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strncpy(r.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFFLAGS, &r) != 0) return -1;
    *flags = r.ifr_flags;
    return 0;
}
int ck_if_set_flags(int sock, const char *name, short flags) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strncpy(r.ifr_name, name, IFNAMSIZ - 1);
    r.ifr_flags = flags;
    return ioctl(sock, SIOCSIFFLAGS, &r);
}

static int set_handler(int sig, void (*h)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    return sigaction(sig, &sa, NULL);
}
int ck_signal_default(int sig) { return set_handler(sig, SIG_DFL); }
int ck_signal_ignore(int sig) { return set_handler(sig, SIG_IGN); }

ssize_t ck_send_fd(int sock, int fd, const void *buf, size_t len) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        m.msg_control = u.b;
        m.msg_controllen = sizeof u.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(sock, &m, MSG_NOSIGNAL);
}
ssize_t ck_recv_fd(int sock, void *buf, size_t len, int *fd) {
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    *fd = -1;
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
    return n;
}
static ssize_t recv_creds(int sock, void *buf, size_t len, int32_t *pid, int flags);
ssize_t ck_recv_creds_nonblocking(int sock, uint8_t *byte, int32_t *pid) { return recv_creds(sock, byte, 1, pid, MSG_DONTWAIT); }
static ssize_t recv_creds(int sock, void *buf, size_t len, int32_t *pid, int flags) {
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union { char b[CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags);
    *pid = 0;
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            *pid = cr.pid;
        }
    return n;
}

// ---- credentials (setuid mode) ----
int ck_setresuid(uint32_t r, uint32_t e, uint32_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
int ck_setresgid(uint32_t r, uint32_t e, uint32_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
int ck_getresuid(uint32_t *r, uint32_t *e, uint32_t *s) { return (int)syscall(SYS_getresuid, r, e, s); }
int ck_getresgid(uint32_t *r, uint32_t *e, uint32_t *s) { return (int)syscall(SYS_getresgid, r, e, s); }
int ck_setfsuid(uint32_t id) { return (int)syscall(SYS_setfsuid, id); }
int ck_setfsgid(uint32_t id) { return (int)syscall(SYS_setfsgid, id); }
int ck_setgroups(size_t n, const uint32_t *g) { return (int)syscall(SYS_setgroups, n, g); }
int ck_capget(uint64_t *permitted, uint64_t *effective, uint64_t *inheritable) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) return -1;
    *permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
    *effective = (uint64_t)d[1].effective << 32 | d[0].effective;
    *inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
    return 0;
}
int ck_capset(uint64_t permitted, uint64_t effective, uint64_t inheritable) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
        {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)}};
    return (int)syscall(SYS_capset, &h, d);
}
unsigned long ck_at_secure(void) { return getauxval(AT_SECURE); }
int ck_faccessat2(int d, const char *p, int mode, int flags) { return (int)syscall(SYS_faccessat2, d, p, mode, flags); }

int ck_close_range(unsigned int first, unsigned int last) { return (int)syscall(SYS_close_range, first, last, 0); }
int ck_statx(int d, const char *p, int flags, unsigned int mask, void *b) { return (int)syscall(SYS_statx, d, p, flags, mask, b); }
#include <sys/signalfd.h>
int ck_signalfd(const void *mask) { return signalfd(-1, (const sigset_t *)mask, SFD_NONBLOCK | SFD_CLOEXEC); }
