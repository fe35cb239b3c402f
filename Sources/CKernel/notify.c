#define _GNU_SOURCE
#include "CKernelNotify.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)  // Linux 6.6; newer than these headers
#endif

int ck_notif_recv(int fd, struct seccomp_notif *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, r); }
int ck_notif_send(int fd, struct seccomp_notif_resp *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, r); }
int ck_notif_id_valid(int fd, uint64_t id) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id); }
int ck_notif_set_flags(int fd, uint64_t flags) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags); }

int ck_notif_addfd_send(int fd, uint64_t id, int srcfd, unsigned newfd_flags) {
    struct seccomp_notif_addfd a = {.id = id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)srcfd, .newfd = 0,
                                    .newfd_flags = newfd_flags};
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
}

static void on_tick(int sig) { (void)sig; }

// The child: opens `path` as the caller asked (it may block: a FIFO waiting for its other
// end), hands the descriptor to the caller or answers with open's errno, and exits. It
// dies with the supervisor, takes no signal but SIGKILL, and holds no descriptor of the
// supervisor's but the listener. (The caller's filter went in with
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a signal's handler does not restart the open
// while this one waits.)
pid_t ck_notif_open_detached(int fd, uint64_t id, const char *path, int flags, unsigned mode, unsigned umask_value,
                              unsigned newfd_flags) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    // Nothing of the supervisor's but the listener: a pipe's end held here would keep its
    // reader from seeing the end.
    if (fd > 3) syscall(SYS_close_range, 3, fd - 1, 0);
    syscall(SYS_close_range, fd + 1, ~0U, 0);
    umask(umask_value);
    // A caller killed meanwhile leaves its call: the open is interrupted twice a second to
    // ask whether it still waits, so that this child does not wait for ever in its place.
    struct sigaction tick = {.sa_handler = on_tick};  // no SA_RESTART
    sigaction(SIGALRM, &tick, NULL);
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
    struct itimerval every = {.it_interval = {0, 500000}, .it_value = {0, 500000}};
    setitimer(ITIMER_REAL, &every, NULL);
    int opened;
    while ((opened = open(path, flags | O_CLOEXEC | O_NOCTTY, mode)) < 0 && errno == EINTR) {
        if (ck_notif_id_valid(fd, id) != 0) _exit(0);
    }
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    if (opened >= 0) {
        if (ck_notif_addfd_send(fd, id, opened, newfd_flags) >= 0 || errno == ENOENT) _exit(0);
    }
    struct seccomp_notif_resp r = {.id = id, .val = 0, .error = -errno, .flags = 0};
    ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &r);
    _exit(0);
}
