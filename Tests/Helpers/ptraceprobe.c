// ptraceprobe: a small guest tracer, built static by the ptrace-emulation tests and run
// inside the sandbox (where Burrow is already the real tracer of every process). Each mode
// prints what the tracer saw, one fact a line, for the test to compare.
//
//   step PATH     child: PTRACE_TRACEME, raise(SIGSTOP), exec /bin/cat PATH; the tracer
//                 steps it with PTRACE_SYSCALL and prints its execve and openat calls (the
//                 path read with PEEKDATA, at entry and again at exit) and its exit status
//   attach        PTRACE_ATTACH of a running child, registers, a second ATTACH (EPERM),
//                 DETACH; then PTRACE_SEIZE, PTRACE_INTERRUPT, a syscall stop, DETACH
//   fork          PTRACE_O_TRACEFORK: the fork event, the grandchild's first stop and exit
//   untraced      a traced and an untraced child: wait(-1) gets both exits
//   orphan [kill|sleep]  the tracer exits while its tracee is stopped: the tracee goes
//                 on (with "kill": PTRACE_O_EXITKILL, it is killed; with "sleep" the
//                 tracer waits to be killed instead of exiting)
//   waitid        the same child stopped and exited, seen through waitid (CLD_TRAPPED,
//                 CLD_EXITED) and WNOHANG while it runs
//   victim FILE   a traced child, its pid written to FILE, runs until killed; the tracer
//                 waits for it and prints how it ended
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static void die(const char *what) {
    printf("FAILED %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static void nap(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

// The NUL-terminated string at `addr` in `pid`, word by word with PTRACE_PEEKDATA.
static void peek_string(pid_t pid, unsigned long addr, char *out, size_t size) {
    size_t n = 0;
    while (n + 1 < size) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + n), 0);
        if (word == -1 && errno) break;
        for (size_t i = 0; i < sizeof word && n + 1 < size; i++, n++) {
            out[n] = ((char *)&word)[i];
            if (!out[n]) return;
        }
    }
    out[n] = 0;
}

static void print_exit(const char *who, int status) {
    if (WIFEXITED(status)) printf("%s exit %d\n", who, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("%s killed %d\n", who, WTERMSIG(status));
    else printf("%s status 0x%x\n", who, status);
}

static int step(const char *path) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) { printf("FAILED PTRACE_TRACEME: %s\n", strerror(errno)); fflush(stdout); _exit(99); }
        raise(SIGSTOP);
        execl("/bin/cat", "cat", path, (char *)NULL);
        _exit(98);
    }
    int status;
    if (waitpid(child, &status, 0) != child) die("waitpid");
    if (WIFSTOPPED(status)) printf("stopped %s\n", WSTOPSIG(status) == SIGSTOP ? "SIGSTOP" : "other");
    else { print_exit("child", status); return 1; }
    if (ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD) < 0) die("PTRACE_SETOPTIONS");
    int entering = 1, sysgood = 1, sigtraps = 0;
    unsigned long open_path = 0;
    char at_entry[512] = "";
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, child, 0, 0) < 0) die("PTRACE_SYSCALL");
        if (waitpid(child, &status, 0) != child) die("waitpid");
        if (WIFEXITED(status) || WIFSIGNALED(status)) { print_exit("child", status); break; }
        if (!WIFSTOPPED(status)) continue;
        if (WSTOPSIG(status) == SIGTRAP) {
            // The SIGTRAP after execve (no PTRACE_O_TRACEEXEC): not a system call stop.
            sigtraps++;
            continue;
        }
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) { sysgood = 0; continue; }
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, child, 0, &regs) < 0) die("PTRACE_GETREGS");
        long nr = (long)regs.orig_rax;
        if (nr == SYS_execve && entering) {
            char p[512];
            peek_string(child, regs.rdi, p, sizeof p);
            printf("execve %s\n", p);
        }
        if (nr == SYS_openat) {
            if (entering) {
                open_path = regs.rsi;
                peek_string(child, regs.rsi, at_entry, sizeof at_entry);
                if (strcmp(at_entry, path) == 0) printf("openat %s\n", at_entry);
            } else if (strcmp(at_entry, path) == 0) {
                char p[512];
                peek_string(child, regs.rsi, p, sizeof p);
                printf("openat returned %s\n", (long)regs.rax >= 0 ? "a descriptor" : strerror((int)-(long)regs.rax));
                printf("openat at exit: %s\n", regs.rsi == open_path && strcmp(p, at_entry) == 0 ? "same registers" : p);
            }
        }
        // A syscall stop toggles between entry and exit (a skipped one still has both).
        entering = !entering;
    }
    printf("sysgood %s\n", sysgood ? "yes" : "no");
    printf("sigtrap after exec %d\n", sigtraps);
    return 0;
}

static pid_t sleeper(void) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        for (int i = 0; i < 2000; i++) nap(5);
        _exit(0);
    }
    return child;
}

static int attach(void) {
    pid_t child = sleeper();
    int status;
    if (ptrace(PTRACE_ATTACH, child, 0, 0) < 0) die("PTRACE_ATTACH");
    if (waitpid(child, &status, __WALL) != child) die("waitpid");
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP) printf("attached: stopped SIGSTOP\n");
    else printf("attached: other 0x%x\n", status);
    struct user_regs_struct regs;
    printf("getregs: %s\n", ptrace(PTRACE_GETREGS, child, 0, &regs) == 0 && regs.rsp != 0 ? "ok" : strerror(errno));
    printf("second attach: %s\n", ptrace(PTRACE_ATTACH, child, 0, 0) < 0 && errno == EPERM ? "EPERM" : "other");
    if (ptrace(PTRACE_DETACH, child, 0, 0) < 0) die("PTRACE_DETACH");
    printf("detached\n");
    nap(20);
    // Not traced any more: a running process gives ESRCH.
    printf("after detach: %s\n", ptrace(PTRACE_GETREGS, child, 0, &regs) < 0 && errno == ESRCH ? "ESRCH" : "other");

    if (ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACESYSGOOD) < 0) die("PTRACE_SEIZE");
    printf("seized\n");
    if (ptrace(PTRACE_INTERRUPT, child, 0, 0) < 0) die("PTRACE_INTERRUPT");
    if (waitpid(child, &status, __WALL) != child) die("waitpid");
    printf("interrupted: %s\n", WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP ? "event stop" : "other");
    if (ptrace(PTRACE_SYSCALL, child, 0, 0) < 0) die("PTRACE_SYSCALL");
    if (waitpid(child, &status, __WALL) != child) die("waitpid");
    printf("seized syscall stop: %s\n", WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80) ? "sysgood" : "other");
    if (ptrace(PTRACE_DETACH, child, 0, 0) < 0) die("PTRACE_DETACH");
    kill(child, SIGTERM);
    if (waitpid(child, &status, 0) != child) die("waitpid");
    print_exit("sleeper", status);
    return 0;
}

static int forks(void) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) _exit(99);
        raise(SIGSTOP);
        pid_t g = fork();
        if (g == 0) _exit(3);
        int s;
        while (waitpid(g, &s, 0) < 0 && errno == EINTR) {}
        _exit(WIFEXITED(s) && WEXITSTATUS(s) == 3 ? 5 : 6);
    }
    int status;
    if (waitpid(child, &status, 0) != child) die("waitpid");
    if (ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACEFORK) < 0) die("PTRACE_SETOPTIONS");
    if (ptrace(PTRACE_CONT, child, 0, 0) < 0) die("PTRACE_CONT");
    pid_t grandchild = 0;
    int left = 2;
    while (left > 0) {
        pid_t p = waitpid(-1, &status, __WALL);
        if (p < 0) die("waitpid");
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            print_exit(p == child ? "child" : p == grandchild ? "grandchild" : "unknown", status);
            left--;
            continue;
        }
        if (p == child && (status >> 16) == PTRACE_EVENT_FORK) {
            unsigned long msg = 0;
            if (ptrace(PTRACE_GETEVENTMSG, child, 0, &msg) < 0) die("PTRACE_GETEVENTMSG");
            grandchild = (pid_t)msg;
            printf("event fork: %s\n", grandchild > 0 ? "new pid" : "none");
        } else if (p == grandchild || grandchild == 0) {
            if (grandchild == 0) grandchild = p;
            if (WSTOPSIG(status) == SIGSTOP) printf("grandchild first stop SIGSTOP\n");
        }
        if (ptrace(PTRACE_CONT, p, 0, 0) < 0) die("PTRACE_CONT");
    }
    return 0;
}

static int untraced(void) {
    pid_t a = fork();
    if (a < 0) die("fork");
    if (a == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) _exit(99);
        raise(SIGSTOP);
        nap(200);
        _exit(4);
    }
    int status;
    if (waitpid(a, &status, 0) != a) die("waitpid");
    pid_t b = fork();
    if (b < 0) die("fork");
    if (b == 0) _exit(9);
    if (ptrace(PTRACE_CONT, a, 0, 0) < 0) die("PTRACE_CONT");
    for (int i = 0; i < 2; i++) {
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) die("waitpid");
        print_exit(p == a ? "traced" : p == b ? "untraced" : "unknown", status);
    }
    printf("then: %s\n", waitpid(-1, &status, 0) < 0 && errno == ECHILD ? "ECHILD" : "other");
    return 0;
}

static int waitid_mode(void) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) _exit(99);
        raise(SIGSTOP);
        nap(200);
        _exit(7);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, child, &si, WEXITED | WSTOPPED) < 0) die("waitid");
    printf("waitid: %s %s\n", si.si_code == CLD_TRAPPED ? "CLD_TRAPPED" : "other",
           si.si_status == SIGSTOP && si.si_pid == child ? "SIGSTOP" : "other");
    if (ptrace(PTRACE_CONT, child, 0, 0) < 0) die("PTRACE_CONT");
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0) die("waitid");
    printf("waitid WNOHANG: %s\n", si.si_pid == 0 ? "nothing yet" : "other");
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED) < 0) die("waitid");
    printf("waitid: %s %d\n", si.si_code == CLD_EXITED && si.si_pid == child ? "CLD_EXITED" : "other", si.si_status);
    return 0;
}

static int victim(const char *file) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) _exit(99);
        raise(SIGSTOP);
        for (;;) nap(10);
    }
    int status;
    if (waitpid(child, &status, 0) != child) die("waitpid");
    FILE *f = fopen(file, "w");
    if (!f) die(file);
    fprintf(f, "%d\n", child);
    fclose(f);
    if (ptrace(PTRACE_SYSCALL, child, 0, 0) < 0) die("PTRACE_SYSCALL");
    for (;;) {
        if (waitpid(child, &status, 0) != child) die("waitpid");
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        // ESRCH: killed since it stopped (as with the kernel's ptrace); its exit follows.
        if (ptrace(PTRACE_SYSCALL, child, 0, 0) < 0 && errno != ESRCH) die("PTRACE_SYSCALL");
    }
    print_exit("victim", status);
    return 0;
}

static int orphan(int exitkill, int stay) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) _exit(99);
        raise(SIGSTOP);
        nap(100);
        printf("tracee went on\n");
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child) die("waitpid");
    if (exitkill && ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_EXITKILL) < 0) die("PTRACE_SETOPTIONS");
    printf("tracer %s\n", stay ? "waits" : "exits");
    fflush(stdout);
    while (stay) pause();
    _exit(0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && !strcmp(argv[1], "step")) return step(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "attach")) return attach();
    if (argc >= 2 && !strcmp(argv[1], "fork")) return forks();
    if (argc >= 2 && !strcmp(argv[1], "untraced")) return untraced();
    if (argc >= 2 && !strcmp(argv[1], "orphan")) return orphan(argc >= 3 && !strcmp(argv[2], "kill"), argc >= 3 && !strcmp(argv[2], "sleep"));
    if (argc >= 3 && !strcmp(argv[1], "victim")) return victim(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "waitid")) return waitid_mode();
    fprintf(stderr, "usage: ptraceprobe step PATH | attach | fork | untraced | orphan [kill|sleep] | waitid | victim FILE\n");
    return 2;
}
