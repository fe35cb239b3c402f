// consolesock: the other end of an OCI runtime's --console-socket, as podman's conmon is.
// Listens on SOCKET, runs COMMAND (a runtime's `run --console-socket SOCKET ...`), takes the
// terminal master the container sends (SCM_RIGHTS), types BYTES into it once MARKER has
// appeared, and copies what the container writes there to stdout. Built static by the tests.
//
//   consolesock SOCKET [-s MARKER BYTES] -- COMMAND [ARG...]
//
// Exits with the command's status (128+N if a signal killed it); 125 if it cannot start;
// 124 if no terminal came. Prints "rows cols" of the master's size first when -w is given.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int receive_fd(int conn) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    if (recvmsg(conn, &msg, 0) <= 0) return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: consolesock SOCKET [-s MARKER BYTES] -- COMMAND...\n"); return 125; }
    const char *path = argv[1], *marker = NULL, *bytes = NULL;
    int i = 2;
    if (i + 2 < argc && !strcmp(argv[i], "-s")) { marker = argv[i + 1]; bytes = argv[i + 2]; i += 3; }
    if (i < argc && !strcmp(argv[i], "--")) i++;
    if (i >= argc) return 125;
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    unlink(path);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0) {
        perror("consolesock: listen");
        return 125;
    }
    pid_t child = fork();
    if (child < 0) return 125;
    if (child == 0) {
        close(listener);
        execvp(argv[i], argv + i);
        perror("consolesock: exec");
        _exit(125);
    }
    // The terminal, once the runtime connected and sent it (within 20 s).
    struct pollfd p = {.fd = listener, .events = POLLIN};
    int master = -1;
    if (poll(&p, 1, 20000) == 1) {
        int conn = accept(listener, NULL, NULL);
        if (conn >= 0) { master = receive_fd(conn); close(conn); }
    }
    close(listener);
    unlink(path);
    if (master >= 0) {
        struct winsize ws;
        if (ioctl(master, TIOCGWINSZ, &ws) == 0) printf("size %d %d\n", ws.ws_row, ws.ws_col);
        fflush(stdout);
        char seen[8192] = "";
        size_t have = 0;
        int typed = 0;
        for (;;) {
            struct pollfd m = {.fd = master, .events = POLLIN};
            if (poll(&m, 1, 20000) != 1) break;
            char buf[4096];
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: no process has the terminal open any more
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
            if (marker && !typed) {
                size_t room = sizeof seen - 1 - have;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(seen + have, buf, take);
                have += take;
                seen[have] = 0;
                if (strstr(seen, marker)) { (void)!write(master, bytes, strlen(bytes)); typed = 1; }
            }
        }
    }
    int status;
    if (waitpid(child, &status, 0) < 0) return 125;
    if (master < 0) return 124;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
