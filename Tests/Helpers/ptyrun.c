// ptyrun: runs a command in a new session whose controlling terminal is a new
// pseudo-terminal, with the command's group in its foreground (as a terminal emulator or
// script(1) does), so tests can see what burrow does with a terminal. Built static by the
// tests.
//
//   ptyrun [-s MARKER BYTES] -- COMMAND [ARG...]
//
// What the command writes to the terminal is copied to stdout (with the terminal's CR LF).
// -s: once MARKER has appeared in that output, BYTES are typed into the terminal once (a
// Ctrl-C is "\003": the line discipline turns it into SIGINT for the foreground group).
// Exits with the command's status (128+N if a signal killed it); 125 if it cannot start.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *marker = NULL, *bytes = NULL;
    int i = 1;
    if (i + 2 < argc && !strcmp(argv[i], "-s")) {
        marker = argv[i + 1];
        bytes = argv[i + 2];
        i += 3;
    }
    if (i < argc && !strcmp(argv[i], "--")) i++;
    if (i >= argc) {
        fprintf(stderr, "usage: ptyrun [-s MARKER BYTES] -- COMMAND [ARG...]\n");
        return 125;
    }
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) { perror("ptyrun: posix_openpt"); return 125; }
    const char *name = ptsname(master);
    if (!name) { perror("ptyrun: ptsname"); return 125; }
    pid_t child = fork();
    if (child < 0) { perror("ptyrun: fork"); return 125; }
    if (child == 0) {
        // Session leader; the first terminal it opens becomes its controlling terminal, and
        // its group (its own) the foreground.
        setsid();
        int slave = open(name, O_RDWR);
        if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) { perror("ptyrun: open the terminal"); _exit(125); }
        for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
        if (slave > 2) close(slave);
        execvp(argv[i], argv + i);
        perror("ptyrun: exec");
        _exit(127);
    }
    char seen[8192] = "";
    size_t seenLength = 0;
    int sent = marker == NULL, status = 0, exited = 0;
    while (1) {
        struct pollfd p = {master, POLLIN, 0};
        int ready = poll(&p, 1, exited ? 0 : 100);
        if (ready > 0) {
            char buf[4096];
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) {
                (void)!write(1, buf, (size_t)n);
                if (!sent) {
                    // Keep the tail of the output to look for the marker in.
                    for (ssize_t k = 0; k < n; k++) {
                        if (seenLength + 1 >= sizeof seen) {
                            memmove(seen, seen + sizeof seen / 2, sizeof seen / 2);
                            seenLength -= sizeof seen / 2;
                        }
                        seen[seenLength++] = buf[k];
                    }
                    seen[seenLength] = 0;
                    if (strstr(seen, marker)) {
                        (void)!write(master, bytes, strlen(bytes));
                        sent = 1;
                    }
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // EIO: no process has the terminal open any more.
            if (exited) break;
        } else if (exited) {
            break;
        }
        if (!exited) {
            pid_t r = waitpid(child, &status, WNOHANG);
            if (r == child) exited = 1;
            else if (ready != 0 && r == 0) usleep(20000);  // the terminal hung up first
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
