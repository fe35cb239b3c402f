// ttyrun: runs a command as an interactive shell would, with a terminal of its own, and
// afterwards reads what is waiting in that terminal's input, as the shell would once the
// command has exited. Built static by the terminal-injection tests (EscapeTests).
//
//   ttyrun COMMAND [ARG...]
//
// A child of ttyrun (the "shell") starts a new session, makes a new pseudo-terminal its
// controlling terminal and the command's stdin, and runs the command in the terminal's
// foreground process group; stdout and stderr stay as they were. The terminal is in raw
// mode, so a character pushed into its input (TIOCSTI) can be read at once, without a
// newline. When the command has exited, the shell reads the terminal without waiting and
// prints "typed=CHARACTERS" (or "typed=none"). Exit status: the command's, 128+N if it
// was killed by signal N, 125 if ttyrun itself failed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int fail(const char *what) {
    fprintf(stderr, "ttyrun: %s: %s\n", what, strerror(errno));
    return 125;
}

static int status_of(int raw) { return WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : WEXITSTATUS(raw); }

static int wait_for(pid_t pid) {
    int raw = 0;
    while (waitpid(pid, &raw, 0) < 0)
        if (errno != EINTR) return -1;
    return status_of(raw);
}

static int shell(const char *terminal, char **command) {
    if (setsid() < 0) return fail("setsid");
    int tty = open(terminal, O_RDWR);
    if (tty < 0) return fail(terminal);
    if (ioctl(tty, TIOCSCTTY, 0) < 0) return fail("TIOCSCTTY");
    struct termios t;
    if (tcgetattr(tty, &t) < 0) return fail("tcgetattr");
    cfmakeraw(&t);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(tty, TCSANOW, &t) < 0) return fail("tcsetattr");
    if (dup2(tty, 0) < 0) return fail("dup2");
    if (tty != 0) close(tty);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return fail("fork");
    if (pid == 0) {
        execvp(command[0], command);
        fprintf(stderr, "ttyrun: exec %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    int status = wait_for(pid);
    if (status < 0) return fail("waitpid");
    // What the shell reads next, once the command is gone.
    char typed[256];
    int flags = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, flags | O_NONBLOCK);
    ssize_t n = read(0, typed, sizeof typed - 1);
    typed[n > 0 ? n : 0] = 0;
    printf("typed=%s\n", n > 0 ? typed : "none");
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ttyrun COMMAND [ARG...]\n");
        return 125;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return fail("posix_openpt");
    if (grantpt(master) < 0 || unlockpt(master) < 0) return fail("grantpt/unlockpt");
    const char *name = ptsname(master);
    if (!name) return fail("ptsname");
    char terminal[128];
    snprintf(terminal, sizeof terminal, "%s", name);
    // The shell is a child: a process-group leader could not start a session. The master
    // stays open here until it is done, or the terminal would hang up.
    pid_t pid = fork();
    if (pid < 0) return fail("fork");
    if (pid == 0) _exit(shell(terminal, argv + 1));
    int status = wait_for(pid);
    return status < 0 ? fail("waitpid") : status;
}
