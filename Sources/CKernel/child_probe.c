// The user-namespace probe's child (README.md).
#define _GNU_SOURCE
#include "CKernel.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

