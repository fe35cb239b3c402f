// The ptrace engine's C side: variadic ptrace, process_vm_*, per-architecture register
// access, a signal-forwarding handler and the traced child's steps before exec.
#define _GNU_SOURCE
#include "CKernel.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

long ck_ptrace(long req, pid_t pid, unsigned long addr, unsigned long data) {
    return ptrace((enum __ptrace_request)req, pid, (void *)addr, (void *)data);
}

ssize_t ck_vm_read(pid_t pid, void *local, size_t len, uint64_t remote) {
    struct iovec l = {local, len}, r = {(void *)(uintptr_t)remote, len};
    return process_vm_readv(pid, &l, 1, &r, 1, 0);
}
ssize_t ck_vm_read2(pid_t pid, void *local, size_t len1, uint64_t remote1, size_t len2, uint64_t remote2) {
    struct iovec l = {local, len1 + len2};
    struct iovec r[2] = {{(void *)(uintptr_t)remote1, len1}, {(void *)(uintptr_t)remote2, len2}};
    return process_vm_readv(pid, &l, 1, r, 2, 0);
}
ssize_t ck_vm_write(pid_t pid, const void *local, size_t len, uint64_t remote) {
    struct iovec l = {(void *)local, len}, r = {(void *)(uintptr_t)remote, len};
    return process_vm_writev(pid, &l, 1, &r, 1, 0);
}

#if defined(__x86_64__)
_Static_assert(sizeof(struct user_regs_struct) <= sizeof(struct ck_regs), "ck_regs too small");
#define R(r) ((struct user_regs_struct *)(r)->raw)
#define CR(r) ((const struct user_regs_struct *)(r)->raw)
int ck_regs_get(pid_t pid, struct ck_regs *r) { return (int)ptrace(PTRACE_GETREGS, pid, 0, r->raw); }
int ck_regs_set(pid_t pid, const struct ck_regs *r) { return (int)ptrace(PTRACE_SETREGS, pid, 0, (void *)r->raw); }
int64_t ck_reg_sysnum(const struct ck_regs *r) { return (int64_t)CR(r)->orig_rax; }
void ck_reg_set_sysnum(struct ck_regs *r, int64_t nr) { R(r)->orig_rax = (uint64_t)nr; }
uint64_t ck_reg_arg(const struct ck_regs *r, int i) {
    const struct user_regs_struct *u = CR(r);
    switch (i) { case 0: return u->rdi; case 1: return u->rsi; case 2: return u->rdx;
                 case 3: return u->r10; case 4: return u->r8; default: return u->r9; }
}
void ck_reg_set_arg(struct ck_regs *r, int i, uint64_t v) {
    struct user_regs_struct *u = R(r);
    switch (i) { case 0: u->rdi = v; break; case 1: u->rsi = v; break; case 2: u->rdx = v; break;
                 case 3: u->r10 = v; break; case 4: u->r8 = v; break; default: u->r9 = v; }
}
int64_t ck_reg_result(const struct ck_regs *r) { return (int64_t)CR(r)->rax; }
void ck_reg_set_result(struct ck_regs *r, int64_t v) { R(r)->rax = (uint64_t)v; }
uint64_t ck_reg_sp(const struct ck_regs *r) { return CR(r)->rsp; }
void ck_reg_set_sp(struct ck_regs *r, uint64_t v) { R(r)->rsp = v; }
int ck_red_zone(void) { return 128; }
uint64_t ck_reg_compat_arg(const struct ck_regs *r, int i) {
    const struct user_regs_struct *u = CR(r);
    uint64_t v;
    switch (i) { case 0: v = u->rbx; break; case 1: v = u->rcx; break; case 2: v = u->rdx; break;
                 case 3: v = u->rsi; break; case 4: v = u->rdi; break; default: v = u->rbp; }
    return v & 0xffffffffu;
}
void ck_reg_set_compat_arg(struct ck_regs *r, int i, uint64_t v) {
    struct user_regs_struct *u = R(r);
    v &= 0xffffffffu;
    switch (i) { case 0: u->rbx = v; break; case 1: u->rcx = v; break; case 2: u->rdx = v; break;
                 case 3: u->rsi = v; break; case 4: u->rdi = v; break; default: u->rbp = v; }
}
uint64_t ck_reg_code_segment(const struct ck_regs *r) { return CR(r)->cs; }
#else
// Other architectures: not supported yet; the engine refuses to start.
int ck_regs_get(pid_t pid, struct ck_regs *r) { (void)pid; (void)r; errno = ENOSYS; return -1; }
int ck_regs_set(pid_t pid, const struct ck_regs *r) { (void)pid; (void)r; errno = ENOSYS; return -1; }
int64_t ck_reg_sysnum(const struct ck_regs *r) { (void)r; return -1; }
void ck_reg_set_sysnum(struct ck_regs *r, int64_t nr) { (void)r; (void)nr; }
uint64_t ck_reg_arg(const struct ck_regs *r, int i) { (void)r; (void)i; return 0; }
void ck_reg_set_arg(struct ck_regs *r, int i, uint64_t v) { (void)r; (void)i; (void)v; }
int64_t ck_reg_result(const struct ck_regs *r) { (void)r; return 0; }
void ck_reg_set_result(struct ck_regs *r, int64_t v) { (void)r; (void)v; }
uint64_t ck_reg_sp(const struct ck_regs *r) { (void)r; return 0; }
void ck_reg_set_sp(struct ck_regs *r, uint64_t v) { (void)r; (void)v; }
int ck_red_zone(void) { return 0; }
uint64_t ck_reg_compat_arg(const struct ck_regs *r, int i) { return ck_reg_arg(r, i); }
void ck_reg_set_compat_arg(struct ck_regs *r, int i, uint64_t v) { ck_reg_set_arg(r, i, v); }
uint64_t ck_reg_code_segment(const struct ck_regs *r) { (void)r; return 0; }
#endif

static volatile pid_t forward_target;
// Is `pid` traced by this process? (Its /proc/PID/status TracerPid; async-signal-safe.)
static int traced_by_me(pid_t pid) {
    char path[32] = "/proc/", digits[12];
    int n = 0, at = 6;
    if (pid <= 0) return 0;
    for (pid_t p = pid; p > 0 && n < 11; p /= 10) digits[n++] = (char)('0' + p % 10);
    while (n > 0) path[at++] = digits[--n];
    memcpy(path + at, "/status", 8);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[2048];
    long len = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, fd);
    if (len <= 0) return 0;
    buf[len] = 0;
    const char *key = "TracerPid:";
    for (char *s = buf; *s; s++) {
        if (strncmp(s, key, 10) != 0) continue;
        long tracer = 0;
        for (s += 10; *s == ' ' || *s == '\t'; s++) {}
        for (; *s >= '0' && *s <= '9'; s++) tracer = tracer * 10 + (*s - '0');
        return tracer == (long)syscall(SYS_getpid);
    }
    return 0;
}
static void forward_handler(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    // A process of the sandbox signalling its tracer (kill $TracerPid) does not end the
    // sandbox: PRoot ignores such signals.
    if (info && (info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL) && traced_by_me(info->si_pid)) return;
    if (forward_target > 0) kill(forward_target, sig);
}
int ck_forward_signals_to(pid_t pid, const int *signals, int count) {
    forward_target = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < count; i++)
        if (sigaction(signals[i], &sa, NULL) != 0) return -1;
    return 0;
}

// sendmsg with one descriptor (SCM_RIGHTS), as a raw system call.
static long send_descriptor(int sock, int fd) {
    char byte = 1;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return syscall(SYS_sendmsg, sock, &m, MSG_NOSIGNAL);
}

void ck_trace_child(const struct ck_trace_launch *l) {
    int failure[3] = {0, 0, -1};
#define STEP(n, call) do { if ((call) < 0) { failure[0] = (n); failure[1] = errno; goto fail; } } while (0)
    STEP(CK_TSTEP_PDEATHSIG, syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    // Killed before the line above: no signal will come, and TRACEME would make whoever
    // adopted us the tracer, so the command would run untraced or stay stopped.
    if (syscall(SYS_getppid) != l->parent) syscall(SYS_exit_group, 125);
    STEP(CK_TSTEP_TRACEME, syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
    // A group (or session) of its own, as ck_launch; the tracer sets the group from its
    // side too (this is a fork: either may run first).
    if (l->new_session) STEP(CK_TSTEP_SETSID, syscall(SYS_setsid));
    else STEP(CK_TSTEP_SETPGID, syscall(SYS_setpgid, 0, 0));
    if (l->foreground_fd >= 0) {
        // TIOCSPGRP from a background group needs SIGTTOU blocked; the mask is set below.
        uint64_t ttou = 1ULL << (SIGTTOU - 1);
        pid_t group = (pid_t)syscall(SYS_getpid);
        (void)syscall(SYS_rt_sigprocmask, SIG_BLOCK, &ttou, NULL, 8);
        (void)syscall(SYS_ioctl, l->foreground_fd, TIOCSPGRP, &group);
    }
    STEP(CK_TSTEP_CHDIR, syscall(SYS_chdir, l->host_cwd));
    STEP(CK_TSTEP_NO_NEW_PRIVS, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    // Wait for the tracer to set its options (TRACESECCOMP among them) before the filter.
    STEP(CK_TSTEP_STOP, syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP));
    long listener = -1;
    if (l->notify_filter && l->listener_socket >= 0) {
        struct sock_fprog prog = {.len = l->notify_filter_len, .filter = (struct sock_filter *)l->notify_filter};
        // Its listener is close-on-exec: the command never sees it.
        listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        // To the tracer, before any call the filter sends to the listener (execve is traced:
        // by its stop, the tracer has it). Unsent, those calls would wait for ever: end here.
        if (listener >= 0) STEP(CK_TSTEP_SEND_LISTENER, send_descriptor(l->listener_socket, (int)listener));
    }
    if (listener < 0 && l->filter) {
        struct sock_fprog prog = {.len = l->filter_len, .filter = (struct sock_filter *)l->filter};
        // May fail (no seccomp in this kernel): the tracer then traps every system call.
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    }
    STEP(CK_TSTEP_SIGMASK, syscall(SYS_rt_sigprocmask, SIG_SETMASK, l->sigmask, NULL, 8));
    // Only 0, 1 and 2 reach the command (the report pipe is close-on-exec already).
    if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0) {
        // Before Linux 5.11, or refused (Docker before 20.10.10 did not list it): one by one.
        int e = errno;
        if (e != ENOSYS && e != EPERM && e != EINVAL) STEP(CK_TSTEP_CLOSE_RANGE, (errno = e, -1));
        struct rlimit lim;
        STEP(CK_TSTEP_CLOSE_RANGE, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim));
        for (unsigned long fd = 3; fd < lim.rlim_cur && fd < (1UL << 20); fd++) syscall(SYS_fcntl, (int)fd, F_SETFD, FD_CLOEXEC);
    }
#undef STEP
    failure[1] = ENOENT;  // no candidate at all: nothing was found
    for (int i = 0; i < l->candidate_count; i++) {
        syscall(SYS_execve, l->candidates[i], l->argv, l->envp);
        int e = errno;
        // As execvp: a file without a format is a shell script.
        if (e == ENOEXEC && l->shell_argv) {
            l->shell_argv[1] = (char *)l->candidates[i];
            syscall(SYS_execve, l->shell_argv[0], l->shell_argv, l->envp);
        }
        if (failure[2] < 0 || ((failure[1] == ENOENT || failure[1] == ENOTDIR) && e != ENOENT && e != ENOTDIR)) {
            failure[2] = i;
            failure[1] = e;
        }
    }
    failure[0] = CK_TSTEP_EXEC;
fail:
    syscall(SYS_write, l->report_fd, failure, sizeof failure);
    syscall(SYS_exit_group, failure[0] == CK_TSTEP_EXEC ? (failure[1] == ENOENT || failure[1] == ENOTDIR ? 127 : 126) : 125);
    __builtin_unreachable();
}

#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
// The user-namespace probe's child, cloned into a new user and mount namespace sharing our
// memory: what the namespace engine does first (its own id maps, / made private),
// raw system calls only. The first step that fails and its errno are left in `p`.
static int probe_write(const char *path, const char *text) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long n = syscall(SYS_write, fd, text, strlen(text));
    syscall(SYS_close, fd);
    return n < 0 ? -1 : 0;
}
static int probe_child(void *arg) {
    struct ck_userns_probe *p = arg;
#define PSTEP(s, call) do { if ((call) < 0) { p->step = (s); p->err = errno; _exit(1); } } while (0)
    PSTEP(CK_PROBE_SETGROUPS, probe_write("/proc/self/setgroups", "deny"));
    PSTEP(CK_PROBE_UID_MAP, probe_write("/proc/self/uid_map", p->uid_map));
    PSTEP(CK_PROBE_GID_MAP, probe_write("/proc/self/gid_map", p->gid_map));
    PSTEP(CK_PROBE_MOUNT, syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
#undef PSTEP
    _exit(0);
}
int ck_probe_userns(struct ck_userns_probe *p) {
    static char stack[16384] __attribute__((aligned(16)));
    p->step = CK_PROBE_OK;
    p->err = 0;
    int pid = clone(probe_child, stack + sizeof stack, CLONE_NEWUSER | CLONE_NEWNS | CLONE_VM | CLONE_VFORK | SIGCHLD, p);
    if (pid < 0) {
        p->step = CK_PROBE_CLONE;
        p->err = errno;
        return -1;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return p->step == CK_PROBE_OK ? 0 : -1;
}

#include <sys/signalfd.h>
int ck_signalfd(const void *mask) { return signalfd(-1, (const sigset_t *)mask, SFD_NONBLOCK | SFD_CLOEXEC); }

// The guest's ptrace (the ptrace engine's emulation): a signal to one thread, and a raw
// request whose result and errno both matter (PEEK* return the word).
int ck_tgkill(pid_t tgid, pid_t tid, int sig) { return (int)syscall(SYS_tgkill, tgid, tid, sig); }
long ck_ptrace_raw(long req, pid_t pid, unsigned long addr, unsigned long data, int *err) {
    errno = 0;
    long r = ptrace((enum __ptrace_request)req, pid, (void *)addr, (void *)data);
    *err = errno;
    return r;
}
