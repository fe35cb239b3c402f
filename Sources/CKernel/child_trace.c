// The ptrace engine's traced child: from its fork to the command's exec, raw system calls
// only (README.md).
#define _GNU_SOURCE
#include "CKernel.h"
#include "child_exec.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>

#define CK_SECCOMP_WAIT_KILLABLE_RECV (1UL << 5)  // Linux 5.19; newer than these headers

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
        unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | (l->notify_killable ? CK_SECCOMP_WAIT_KILLABLE_RECV : 0);
        listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
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
    failure[1] = child_exec_candidates(l->candidates, l->candidate_count, l->argv, l->envp, l->shell_argv, &failure[2]);
    failure[0] = CK_TSTEP_EXEC;
fail:
    syscall(SYS_write, l->report_fd, failure, sizeof failure);
    syscall(SYS_exit_group, failure[0] == CK_TSTEP_EXEC ? child_exec_status(failure[1]) : 125);
    __builtin_unreachable();
}
