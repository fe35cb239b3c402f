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
int ck_ns_get_parent(int fd) { return ioctl(fd, NS_GET_PARENT); }
int ck_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }
int ck_sethostname(const char *name, size_t len) { return sethostname(name, len); }
int ck_seccomp(unsigned int op, unsigned int flags, void *args) { return (int)syscall(SYS_seccomp, op, flags, args); }


int ck_prctl(int o, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(o, a2, a3, a4, a5);
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

// ---- starting the command (see CKernel.h) ----
// The steps, in the process that becomes the command: returns only on a failure (recorded
// in `l`), with the status the process should end with (125: set-up; 126, 127: exec).
static int launch_steps(struct ck_launch *l) {
#define STEP(n, call) do { if ((call) < 0) { l->failed_step = (n); l->failed_errno = errno; return 125; } } while (0)
    // A group (or session) of its own: a kill(0, ...) of the command reaches the sandbox
    // only. The init is suspended until the exec (CLONE_VFORK): the group exists before
    // the command runs, so the init need not set it from its side too.
    if (l->new_session) STEP(CK_STEP_SETSID, syscall(SYS_setsid));
    else STEP(CK_STEP_SETPGID, syscall(SYS_setpgid, 0, 0));
    if (l->foreground_fd >= 0) {
        pid_t group = (pid_t)syscall(SYS_getpid);
        (void)syscall(SYS_ioctl, l->foreground_fd, TIOCSPGRP, &group);
    }
    // After the terminal: the init's mask blocks SIGTTOU, which TIOCSPGRP from a background
    // group needs.
    STEP(CK_STEP_SIGMASK, syscall(SYS_rt_sigprocmask, SIG_SETMASK, l->sigmask, NULL, 8));
    STEP(CK_STEP_PDEATHSIG, syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    if (l->announce_fd >= 0) {
        char one = 1;
        STEP(CK_STEP_ANNOUNCE, syscall(SYS_sendto, l->announce_fd, &one, 1, MSG_NOSIGNAL, NULL, 0));
    }
    // The bounding set needs CAP_SETPCAP, so it goes before the ids change.
    if (l->drop_bounding)
        for (int cap = 0; cap <= l->last_cap; cap++) {
            uint32_t kept = cap < 32 ? (l->keep_caps_low >> cap) & 1 : (l->keep_caps_high >> (cap - 32)) & 1;
            if (!kept && syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                STEP(CK_STEP_BOUNDING, -1);
        }
    // setgroups before setresgid before setresuid: each removes the right to the one before.
    if (l->clear_groups) STEP(CK_STEP_SETGROUPS, syscall(SYS_setgroups, 0, NULL));
    STEP(CK_STEP_SETRESGID, syscall(SYS_setresgid, l->gid, l->gid, l->gid));
    STEP(CK_STEP_SETRESUID, syscall(SYS_setresuid, l->uid, l->uid, l->uid));
    syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {{l->keep_caps_low, l->keep_caps_low, 0},
                                          {l->keep_caps_high, l->keep_caps_high, 0}};
    STEP(CK_STEP_CAPSET, syscall(SYS_capset, &h, d));
    // no_new_privs before the first exec in the new root: setuid files stay inert.
    STEP(CK_STEP_NO_NEW_PRIVS, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    STEP(CK_STEP_CHDIR, syscall(SYS_chdir, l->cwd));
    // Only 0, 1 and 2 reach the command.
    STEP(CK_STEP_CLOSE_RANGE, syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */));
    // Seccomp last: after no_new_privs (which an unprivileged filter needs) and everything
    // else the launch does, so the filter only ever sees the command's own calls.
    if (l->seccomp) STEP(CK_STEP_SECCOMP, syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, l->seccomp_flags, l->seccomp));
#undef STEP
    // As env(1) searches PATH: a missing file moves on, a file that cannot run is remembered.
    l->failed_candidate = -1;
    l->failed_errno = ENOENT;  // no candidate at all: nothing was found
    for (int i = 0; i < l->candidate_count; i++) {
        syscall(SYS_execve, l->candidates[i], l->argv, l->envp);
        int e = errno;
        // As execvp: a file without a format is a shell script.
        if (e == ENOEXEC && l->shell_argv) {
            l->shell_argv[1] = (char *)l->candidates[i];
            syscall(SYS_execve, l->shell_argv[0], l->shell_argv, l->envp);
        }
        if (l->failed_candidate < 0 || ((l->failed_errno == ENOENT || l->failed_errno == ENOTDIR) && e != ENOENT && e != ENOTDIR)) {
            l->failed_candidate = i;
            l->failed_errno = e;
        }
    }
    l->failed_step = CK_STEP_EXEC;
    return l->failed_errno == ENOENT || l->failed_errno == ENOTDIR ? 127 : 126;
}

static int launch_child(void *arg) { _exit(launch_steps(arg)); }

int ck_close_range(unsigned int first, unsigned int last) { return (int)syscall(SYS_close_range, first, last, 0); }

int ck_launch_here(struct ck_launch *l) {
    l->failed_step = CK_STEP_NONE;
    l->failed_errno = 0;
    return launch_steps(l);
}

int ck_launch(struct ck_launch *l) {
    const size_t size = 64 * 1024;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    l->failed_step = CK_STEP_NONE;
    l->failed_errno = 0;
    int pid = clone(launch_child, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, l);
    int e = errno;
    munmap(stack, size);
    errno = e;
    return pid;
}
int ck_statx(int d, const char *p, int flags, unsigned int mask, void *b) { return (int)syscall(SYS_statx, d, p, flags, mask, b); }

// ---- the sandbox's init (see CKernel.h) ----
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

// The pids listed in a /proc/.../children file (read from its start); at most `max`.
static int init_children(int fd, pid_t *pids, int max) {
    static char buf[65536];
    if (fd < 0) return 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    int count = 0;
    long v = -1;
    for (ssize_t i = 0; i < (n > 0 ? n : 0) + 1; i++) {
        char c = i < n ? buf[i] : ' ';
        if (c >= '0' && c <= '9') v = (v < 0 ? 0 : v * 10) + (c - '0');
        else if (v >= 0) { if (count < max) pids[count++] = (pid_t)v; v = -1; }
    }
    return count;
}

static void init_kill_all(const struct ck_init *in) {
    int status;
    if (in->is_pid1) {
        // kill(-1) from a PID 1 reaches every process of its namespace and nothing else.
        kill(-1, SIGKILL);
        while (waitpid(-1, &status, 0) >= 0 || errno == EINTR) {}
        return;
    }
    // Our children; their orphans come back to us (child subreaper), killed next round.
    static pid_t pids[4096];
    for (;;) {
        int n = init_children(in->children, pids, 4096);
        if (n == 0) return;
        for (int i = 0; i < n; i++) kill(pids[i], SIGKILL);
        for (int i = 0; i < n; i++) while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {}
    }
}

static int init_hung_up(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static int exit_status(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

void ck_init_watch(const struct ck_init *in) {
    int setup = in->setup_done;
    int responder_alive = in->responder > 0;
    int command_status = -1;    // a wait status once the command has ended
    int last_status = -1;       // PRoot's status of the last process to exit (see LastExit)
    for (;;) {
        // During the set-up the signals wait: as when the init built the sandbox itself, a
        // supervisor gone or a signal to pass on is seen to once the set-up is over, never
        // in the middle of a step the cleaner must hear about.
        struct pollfd p = {.fd = setup >= 0 ? setup : in->signals, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) continue;
        if (setup >= 0) {
            // The set-up is over (the command runs, or failed): everything made on the host
            // is with the cleaner, so PID 1 dies with the supervisor from now on, and does not
            // go on if the supervisor died during the set-up.
            close(setup);
            setup = -1;
            if (in->is_pid1) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (init_hung_up(in->lifeline)) _exit(125);
            }
        }
        struct signalfd_siginfo si;
        while (read(in->signals, &si, sizeof si) == (ssize_t)sizeof si) {
            int sig = (int)si.ssi_signo;
            if (!in->is_pid1 && getppid() != in->supervisor) {
                init_kill_all(in);
                _exit(command_status >= 0 ? exit_status(command_status) : 128 + SIGKILL);
            }
            // SIGCONT: the supervisor continues the command's group itself.
            if (sig == SIGCONT) continue;
            if (sig != SIGCHLD) {
                // The terminal's signals reach the init only in the moment before it left the
                // caller's group: the supervisor got them too, and passes them on.
                if (si.ssi_code == SI_KERNEL) continue;
                if (command_status < 0) kill(in->command, sig);
                else if (in->is_pid1) kill(-1, sig);
                continue;
            }
            int any_left = 1, status;
            for (;;) {
                pid_t pid = waitpid(-1, &status, WNOHANG | WUNTRACED);
                if (pid < 0 && errno == EINTR) continue;
                if (pid < 0) { any_left = 0; break; }
                if (pid == 0) break;
                if (WIFSTOPPED(status)) {
                    // The supervisor follows it (JobControl); a full pipe drops the news.
                    unsigned char byte = (unsigned char)WSTOPSIG(status);
                    if (pid == in->command) (void)!write(in->job_events, &byte, 1);
                    continue;
                }
                if (pid == in->responder) { responder_alive = 0; continue; }
                if (!WIFSIGNALED(status) || last_status < 0 || WIFSIGNALED(last_status)) last_status = status;
                if (pid == in->command) {
                    command_status = status;
                    // Its status goes to the caller now; the rest runs on (the supervisor
                    // announces it only if the command ran: its error pipe tells).
                    if (in->announce_exit) {
                        unsigned char event[2] = {CK_JOB_EVENT_COMMAND_EXITED, (unsigned char)exit_status(status)};
                        (void)!write(in->job_events, event, 2);
                    }
                }
            }
            if (command_status < 0) continue;
            if (!in->keep_children && !in->last_to_exit) {
                init_kill_all(in);
                _exit(exit_status(command_status));
            }
            // Only the uname responder left: it serves no one any more.
            pid_t two[2];
            if (any_left && responder_alive && init_children(in->children, two, 2) == 1) {
                kill(in->responder, SIGKILL);
                continue;
            }
            if (!any_left) _exit(exit_status(in->last_to_exit && last_status >= 0 ? last_status : command_status));
        }
    }
}
