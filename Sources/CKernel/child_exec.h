// The exec both launch children end with (child_launch.c, child_trace.c): internal to this
// target, raw system calls only, safe between clone and exec.
#ifndef BURROW_CHILD_EXEC_H
#define BURROW_CHILD_EXEC_H
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

// Tries each candidate path in order, as env(1) searches PATH: a missing file moves on, a
// file that cannot run is remembered (a later missing one does not hide it); a file without
// a format runs as a shell script (execvp's rule) when `shell_argv` is given
// ({"/bin/sh", (set here), argv[1].., NULL}). Returns only when every one failed: the errno
// to report, with `*failed_candidate` the candidate it is about (-1: there was none, ENOENT).
static inline int child_exec_candidates(const char *const *candidates, int count, char *const *argv, char *const *envp,
                                        char **shell_argv, int *failed_candidate) {
    int failed_errno = ENOENT;  // no candidate at all: nothing was found
    *failed_candidate = -1;
    for (int i = 0; i < count; i++) {
        syscall(SYS_execve, candidates[i], argv, envp);
        int e = errno;
        if (e == ENOEXEC && shell_argv) {
            shell_argv[1] = (char *)candidates[i];
            syscall(SYS_execve, shell_argv[0], shell_argv, envp);
        }
        if (*failed_candidate < 0 || ((failed_errno == ENOENT || failed_errno == ENOTDIR) && e != ENOENT && e != ENOTDIR)) {
            *failed_candidate = i;
            failed_errno = e;
        }
    }
    return failed_errno;
}

// The status a process that could not exec ends with: 127 not found, 126 found but not run.
static inline int child_exec_status(int failed_errno) {
    return failed_errno == ENOENT || failed_errno == ENOTDIR ? 127 : 126;
}
#endif
