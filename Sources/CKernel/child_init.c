// The sandbox's init (namespace engine, setuid mode): PID 1 of the sandbox's PID namespace
// (or its child subreaper), a small loop in C so that this fork of the supervisor touches
// few pages of the binary (README.md).
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
        // Once the command runs, a quiet init gives back the pages of the code it ran
        // (ck_poll_idle): it was forked from the supervisor, 20 MB of binary.
        if ((setup >= 0 ? poll(&p, 1, -1) : ck_poll_idle(&p, 1, in->idle_ms, &in->idle_pages)) < 0) continue;
        if (setup >= 0) {
            // The set-up is over (the command runs, or failed): everything made on the host
            // is with the cleaner, so PID 1 dies with the supervisor from now on, and does not
            // go on if the supervisor died during the set-up. (burrow-oci's container has
            // none by then: it was handed over at its hold, and its init lives on alone.)
            close(setup);
            setup = -1;
            if (in->is_pid1 && !in->outlives_supervisor) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (init_hung_up(in->lifeline)) _exit(125);
            }
        }
        struct signalfd_siginfo si;
        while (read(in->signals, &si, sizeof si) == (ssize_t)sizeof si) {
            int sig = (int)si.ssi_signo;
            if (!in->is_pid1 && !in->outlives_supervisor && getppid() != in->supervisor) {
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
