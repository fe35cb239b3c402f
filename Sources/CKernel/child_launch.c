// The command's launch (namespace engine, setuid mode): the steps from the init's clone to
// the command's exec, in raw system calls only (README.md).
#define _GNU_SOURCE
#include <sys/vfs.h>
#include "CKernel.h"
#include "child_exec.h"
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

// The steps, in the process that becomes the command: returns only on a failure (recorded
// in `l`), with the status the process should end with (125: set-up; 126, 127: exec).
static int launch_steps(struct ck_launch *l) {
#define STEP(n, call) do { if ((call) < 0) { l->failed_step = (n); l->failed_errno = errno; return 125; } } while (0)
    // A group (or session) of its own: a kill(0, ...) of the command reaches the sandbox
    // only. The init is suspended until the exec (CLONE_VFORK): the group exists before
    // the command runs, so the init need not set it from its side too.
    if (l->new_session || l->has_terminal) STEP(CK_STEP_SETSID, syscall(SYS_setsid));
    else STEP(CK_STEP_SETPGID, syscall(SYS_setpgid, 0, 0));
    // A terminal of its own: its standard streams, and the controlling terminal of the
    // session just made.
    if (l->has_terminal) {
        // (dup3: arm64 has no dup2; it refuses a descriptor onto itself, hence the check.)
        for (int fd = 0; fd <= 2; fd++)
            if (l->terminal_fd != fd) STEP(CK_STEP_TERMINAL, syscall(SYS_dup3, l->terminal_fd, fd, 0));
        STEP(CK_STEP_TERMINAL, syscall(SYS_ioctl, 0, TIOCSCTTY, 0));
    }
    if (l->foreground_fd >= 0) {
        pid_t group = (pid_t)syscall(SYS_getpid);
        (void)syscall(SYS_ioctl, l->foreground_fd, TIOCSPGRP, &group);
    }
    // After the terminal: the init's mask blocks SIGTTOU, which TIOCSPGRP from a background
    // group needs.
    STEP(CK_STEP_SIGMASK, syscall(SYS_rt_sigprocmask, SIG_SETMASK, l->sigmask, NULL, 8));
    if (!l->outlive_parent) STEP(CK_STEP_PDEATHSIG, syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    // Another user namespace for the command (bwrap's --userns2): the ids below are then as it
    // maps them, and the capabilities the steps need are the ones entering it gives.
    if (l->enter_userns) STEP(CK_STEP_USERNS, syscall(SYS_setns, l->enter_userns_fd, CLONE_NEWUSER));
    if (l->announce_fd >= 0) {
        char one = 1;
        STEP(CK_STEP_ANNOUNCE, syscall(SYS_sendto, l->announce_fd, &one, 1, MSG_NOSIGNAL, NULL, 0));
    }
    // The bounding set needs CAP_SETPCAP, so it goes before the ids change.
    if (l->drop_bounding)
        for (int cap = 0; cap <= l->last_cap; cap++) {
            uint32_t lo = l->own_bounding ? l->bounding_caps_low : l->keep_caps_low;
            uint32_t hi = l->own_bounding ? l->bounding_caps_high : l->keep_caps_high;
            uint32_t kept = cap < 32 ? (lo >> cap) & 1 : (hi >> (cap - 32)) & 1;
            if (!kept && syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                STEP(CK_STEP_BOUNDING, -1);
        }
    // Only 0, 1 and 2 reach the command, and the descriptors the caller passes on after
    // them, as runc passes its --preserve-fds on. (Before an early filter, which a profile
    // written for runc may not let close_range or fcntl through.)
    STEP(CK_STEP_CLOSE_RANGE, syscall(SYS_close_range, 3U + (unsigned)l->preserved_fds, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */));
    for (int fd = 3; fd < 3 + l->preserved_fds; fd++) STEP(CK_STEP_PRESERVE_FDS, syscall(SYS_fcntl, fd, F_SETFD, 0));
    // Without no_new_privs a filter needs CAP_SYS_ADMIN, which goes with the ids: then it
    // goes in here and sees the rest of the launch too (runc does the same).
    if (l->keep_new_privs && l->seccomp)
        STEP(CK_STEP_SECCOMP, syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, l->seccomp_flags, l->seccomp));
    // setgroups before setresgid before setresuid: each removes the right to the one before.
    if (l->clear_groups) STEP(CK_STEP_SETGROUPS, syscall(SYS_setgroups, l->group_count, l->group_count ? l->groups : NULL));
    STEP(CK_STEP_SETRESGID, syscall(SYS_setresgid, l->gid, l->gid, l->gid));
    // Capabilities kept for a uid other than 0 (burrow-oci's process.capabilities): the
    // permitted set must survive setresuid; capset below makes them effective.
    if (l->uid != 0 && (l->keep_caps_low || l->keep_caps_high))
        STEP(CK_STEP_SETRESUID, syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0));
    STEP(CK_STEP_SETRESUID, syscall(SYS_setresuid, l->uid, l->uid, l->uid));
    syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {{l->keep_caps_low, l->keep_caps_low, l->inheritable_caps_low},
                                          {l->keep_caps_high, l->keep_caps_high, l->inheritable_caps_high}};
    STEP(CK_STEP_CAPSET, syscall(SYS_capset, &h, d));
    // Ambient after capset: each must be permitted and inheritable by now.
    for (int cap = 0; cap <= l->last_cap; cap++) {
        uint32_t raise = cap < 32 ? (l->ambient_caps_low >> cap) & 1 : (l->ambient_caps_high >> (cap - 32)) & 1;
        if (raise) STEP(CK_STEP_AMBIENT, syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0));
    }
    // no_new_privs before the first exec in the new root: setuid files stay inert.
    if (!l->keep_new_privs) STEP(CK_STEP_NO_NEW_PRIVS, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    STEP(CK_STEP_CHDIR, syscall(SYS_chdir, l->cwd));
    // Seccomp last: after no_new_privs (which an unprivileged filter needs) and everything
    // else the launch does, so the filter only ever sees the command's own calls.
    if (l->seccomp && !l->keep_new_privs)
        STEP(CK_STEP_SECCOMP, syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, l->seccomp_flags, l->seccomp));
    // The caller's programs through prctl, as bubblewrap installs them: an allowlist of
    // theirs that allows prctl but not seccomp must not stop the next one.
    for (int i = 0; i < l->caller_seccomp_count; i++)
        STEP(CK_STEP_SECCOMP, syscall(SYS_prctl, PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &l->caller_seccomp[i], 0, 0));
#undef STEP
    l->failed_errno = child_exec_candidates(l->candidates, l->candidate_count, l->argv, l->envp, l->shell_argv,
                                            &l->failed_candidate);
    l->failed_step = CK_STEP_EXEC;
    return child_exec_status(l->failed_errno);
}

static int launch_child(void *arg) { _exit(launch_steps(arg)); }


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

