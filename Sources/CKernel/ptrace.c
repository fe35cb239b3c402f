// The ptrace engine's C side: variadic ptrace, process_vm_*, per-architecture register
// access and a signal-forwarding handler (the traced child's steps before exec are in
// child_trace.c).
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


// The guest's ptrace (the ptrace engine's emulation): a signal to one thread, and a raw
// request whose result and errno both matter (PEEK* return the word).
int ck_tgkill(pid_t tgid, pid_t tid, int sig) { return (int)syscall(SYS_tgkill, tgid, tid, sig); }
long ck_ptrace_raw(long req, pid_t pid, unsigned long addr, unsigned long data, int *err) {
    errno = 0;
    long r = ptrace((enum __ptrace_request)req, pid, (void *)addr, (void *)data);
    *err = errno;
    return r;
}
