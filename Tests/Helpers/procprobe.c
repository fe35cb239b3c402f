// procprobe: the ways a program makes processes, threads and execs, each followed by an
// open of a guest path, so a test can tell that the new process or thread is translated
// (traced) too. Built static by the integration tests and run inside the sandbox.
//
//   procprobe threads           8 pthreads (clone3 with CLONE_THREAD in glibc 2.34+) each
//                               read /etc/hostname and create /tmp/thread-N
//   procprobe threadexec        a second thread (not the leader) execs /bin/sh
//   procprobe clonethread       a raw clone(CLONE_THREAD|CLONE_VM...) thread reads /etc/hostname
//   procprobe fork              fork; the child reads /etc/hostname
//   procprobe vfork             vfork + execve /bin/sh, which reads /etc/hostname
//   procprobe clone3            clone3 (fork-like); the child reads /etc/hostname
//   procprobe clone3exec        clone3 + execve /bin/sh
//   procprobe seccomp           installs its own filter (mkdir, mkdirat: EPERM), reads a
//                               guest path, tries mkdir, then execs /bin/sh, which tries again
//   procprobe selfexe           re-execs itself through /proc/self/exe
//   procprobe execveat          execveat(fd of /bin, "sh") and execveat(fd of /bin/sh, "", AT_EMPTY_PATH)
//   procprobe openat2 DIR PATH [inroot]   openat2(open(DIR), PATH, RESOLVE_IN_ROOT if asked)
//   procprobe open PATH FLAGS   open(PATH) with FLAGS (letters: r w a n c d N for O_RDONLY,
//                               O_WRONLY, O_APPEND, O_NONBLOCK, O_CLOEXEC, O_DIRECTORY,
//                               O_NOFOLLOW), twice: the second descriptor's number, its
//                               close-on-exec flag, status flags and type, and the first line
//   procprobe create PATH MODE UMASK [excl]   umask(UMASK), open(PATH, O_CREAT|O_WRONLY
//                               [|O_EXCL], MODE): the mode the new file has
//   procprobe statfs PATH       statfs(PATH): its f_type in hex, or the errno
//   procprobe rmcwd DIR         mkdir DIR, chdir there, getcwd, rmdir DIR, getcwd again (ENOENT
//                               natively: the working directory is gone)
//   procprobe remove CALL PATH [DIR]   CALL (rmdir, unlink, unlinkat, unlinkat-dir: with
//                               AT_REMOVEDIR) of PATH, unlinkat's relative to DIR if given:
//                               CALL=ok or the errno
//   procprobe rename OLD NEW [exchange|noreplace]   renameat2(OLD, NEW, flags): rename=ok
//                               or the errno
//   procprobe link OLD NEW [follow]   linkat(OLD, NEW, AT_SYMLINK_FOLLOW if asked): link=ok
//                               and what NEW is (file, symlink), or the errno
//   procprobe exec PATH         execv(PATH): exec=the errno (it returns only on failure)
//   procprobe mkdir PATH MODE UMASK   umask(UMASK), mkdir(PATH, MODE): the mode it has
//   procprobe utimes PATH SECONDS [nofollow]   utimensat(AT_FDCWD, PATH, {SECONDS, SECONDS},
//                               AT_SYMLINK_NOFOLLOW if asked): the mtime lstat then shows
//   procprobe fifo PATH         mkfifo PATH; a child opens it for writing 0.3 s later and
//                               writes; the parent's open for reading waits for it
//
// Each prints NAME=RESULT lines: the first line of the file read, or the errno's name.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/// The first line of what `fd` reads (closed afterwards), or the errno's name.
static const char *first_line_of(int fd, char *buf, size_t size) {
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0) return strerrorname_np(e);
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return buf;
}

/// The first line of `path` opened at `dir` (openat), or the errno's name.
static const char *first_line(int dir, const char *path, char *buf, size_t size) {
    int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return strerrorname_np(errno);
    return first_line_of(fd, buf, size);
}

static void report_file(const char *name, int dir, const char *path) {
    char buf[256];
    printf("%s=%s\n", name, first_line(dir, path, buf, sizeof buf));
}

static int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
    return status;
}

static void *thread_main(void *arg) {
    long i = (long)arg;
    char buf[256], path[64];
    const char *line = first_line(AT_FDCWD, "/etc/hostname", buf, sizeof buf);
    snprintf(path, sizeof path, "/tmp/thread-%ld", i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void)!write(fd, line, strlen(line));
        close(fd);
    }
    return strcmp(line, buf) == 0 && fd >= 0 ? (void *)1 : NULL;
}

static int threads(void) {
    pthread_t t[8];
    int ok = 0;
    for (long i = 0; i < 8; i++) if (pthread_create(&t[i], NULL, thread_main, (void *)i) != 0) return 1;
    for (int i = 0; i < 8; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        if (r) ok++;
    }
    // Each thread's file, as the main thread sees it.
    int same = 0;
    for (int i = 0; i < 8; i++) {
        char path[64], buf[256];
        snprintf(path, sizeof path, "/tmp/thread-%d", i);
        if (strcmp(first_line(AT_FDCWD, path, buf, sizeof buf), "burrow-rootfs") == 0) same++;
    }
    printf("threads=%d/8 read, %d/8 wrote\n", ok, same);
    return 0;
}

static void *exec_thread_main(void *arg) {
    (void)arg;
    char *argv[] = {"sh", "-c", "echo threadexec=$(cat /etc/hostname)", NULL};
    execve("/bin/sh", argv, environ);
    printf("threadexec=%s\n", strerrorname_np(errno));
    return NULL;
}

static int thread_exec(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, exec_thread_main, NULL) != 0) return 1;
    pthread_join(t, NULL);  // the exec ends this thread too
    return 1;
}

static char clone_result[256];
static int clone_thread_main(void *arg) {
    (void)arg;
    char buf[256];
    snprintf(clone_result, sizeof clone_result, "%s", first_line(AT_FDCWD, "/etc/hostname", buf, sizeof buf));
    return 0;  // glibc's clone: exit(2) of this thread only
}

static int clone_thread(void) {
    size_t size = 1 << 16;
    char *stack = malloc(size);
    if (!stack) return 1;
    static volatile pid_t tid = 1;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    pid_t t = clone(clone_thread_main, stack + size, flags, NULL, &tid, NULL, &tid);
    if (t < 0) {
        printf("clonethread=%s\n", strerrorname_np(errno));
        return 0;
    }
    // The kernel clears tid and wakes us when the thread has exited.
    while (tid != 0) syscall(SYS_futex, &tid, FUTEX_WAIT, tid, NULL, NULL, 0);
    printf("clonethread=%s\n", clone_result);
    return 0;
}

static int do_fork(void) {
    pid_t pid = fork();
    if (pid == 0) {
        report_file("fork", AT_FDCWD, "/etc/hostname");
        _exit(0);
    }
    if (pid < 0) { printf("fork=%s\n", strerrorname_np(errno)); return 0; }
    wait_child(pid);
    return 0;
}

static void exec_sh(const char *script) {
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    execve("/bin/sh", argv, environ);
    printf("execve=%s\n", strerrorname_np(errno));
    _exit(127);
}

static int do_vfork(void) {
    pid_t pid = vfork();
    if (pid == 0) {
        char *argv[] = {"sh", "-c", "echo vfork=$(cat /etc/hostname)", NULL};
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    if (pid < 0) { printf("vfork=%s\n", strerrorname_np(errno)); return 0; }
    int status = wait_child(pid);
    printf("vfork-status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static int do_clone3(int exec) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    fflush(stdout);
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        if (exec) exec_sh("echo clone3exec=$(cat /etc/hostname)");
        report_file("clone3", AT_FDCWD, "/etc/hostname");
        _exit(0);
    }
    if (pid < 0) { printf("clone3=%s\n", strerrorname_np(errno)); return 0; }
    int status = wait_child((pid_t)pid);
    printf("clone3-status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static int own_seccomp(void) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdirat, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        printf("seccomp=%s\n", strerrorname_np(errno));
        return 0;
    }
    printf("seccomp=ok\n");
    report_file("after-filter", AT_FDCWD, "/etc/hostname");
    printf("mkdir=%s\n", mkdir("/tmp/by-probe", 0755) == 0 ? "ok" : strerrorname_np(errno));
    fflush(stdout);
    exec_sh("mkdir /tmp/by-sh 2>/dev/null && echo sh-mkdir=ok || echo sh-mkdir=denied; echo sh=$(cat /etc/hostname); "
            "ls -d /tmp/by-probe /tmp/by-sh 2>/dev/null | wc -l");
    return 1;
}

static int self_exe(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[2], "again") == 0) {
        report_file("selfexe", AT_FDCWD, "/etc/hostname");
        char link[4096];
        ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
        link[n < 0 ? 0 : n] = 0;
        printf("exe=%s\n", n < 0 ? strerrorname_np(errno) : link);
        return 0;
    }
    char *again[] = {argv[0], "selfexe", "again", NULL};
    fflush(stdout);
    execve("/proc/self/exe", again, environ);
    printf("selfexe=%s\n", strerrorname_np(errno));
    return 0;
}

static int do_execveat(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[2], "empty") == 0) {
        int fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
        if (fd < 0) { printf("execveat-empty=open:%s\n", strerrorname_np(errno)); return 0; }
        char *sh[] = {"sh", "-c", "echo execveat-empty=$(cat /etc/hostname)", NULL};
        syscall(SYS_execveat, fd, "", sh, environ, AT_EMPTY_PATH);
        printf("execveat-empty=%s\n", strerrorname_np(errno));
        return 0;
    }
    int dir = open("/bin", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) { printf("execveat=open:%s\n", strerrorname_np(errno)); return 0; }
    char *sh[] = {"sh", "-c", "echo execveat=$(cat /etc/hostname); exec /tmp/procprobe execveat empty", NULL};
    syscall(SYS_execveat, dir, "sh", sh, environ, 0);
    printf("execveat=%s\n", strerrorname_np(errno));
    return 0;
}

static int do_openat2(int argc, char **argv) {
    if (argc < 4) return 2;
    int dir = strcmp(argv[2], ".") == 0 ? AT_FDCWD : open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 && dir != AT_FDCWD) { printf("openat2=open:%s\n", strerrorname_np(errno)); return 0; }
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_CLOEXEC;
    if (argc > 4 && strcmp(argv[4], "inroot") == 0) how.resolve = RESOLVE_IN_ROOT;
    long fd = syscall(SYS_openat2, dir, argv[3], &how, sizeof how);
    if (fd < 0) { printf("openat2=%s\n", strerrorname_np(errno)); return 0; }
    char buf[256];
    printf("openat2=%s\n", first_line_of((int)fd, buf, sizeof buf));
    return 0;
}

static int do_open(int argc, char **argv) {
    if (argc < 4) return 2;
    int flags = 0;
    for (const char *f = argv[3]; *f; f++) {
        switch (*f) {
        case 'r': break;
        case 'w': flags |= O_WRONLY; break;
        case 'a': flags |= O_APPEND; break;
        case 'n': flags |= O_NONBLOCK; break;
        case 'c': flags |= O_CLOEXEC; break;
        case 'd': flags |= O_DIRECTORY; break;
        case 'N': flags |= O_NOFOLLOW; break;
        default: return 2;
        }
    }
    int first = open(argv[2], flags);
    if (first < 0) { printf("open=%s\n", strerrorname_np(errno)); return 0; }
    int fd = open(argv[2], flags);
    if (fd < 0) { printf("open=second:%s\n", strerrorname_np(errno)); return 0; }
    int fdflags = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    struct stat st;
    fstat(fd, &st);
    printf("open=fd %s, %s, %s%s, %s\n", fd == first + 1 ? "next" : "elsewhere", fdflags & FD_CLOEXEC ? "cloexec" : "inherited",
           fl & O_NONBLOCK ? "nonblock" : "blocking", fl & O_APPEND ? " append" : "", S_ISDIR(st.st_mode) ? "directory" : "file");
    if (!S_ISDIR(st.st_mode) && (fl & O_ACCMODE) == O_RDONLY) {
        char buf[256];
        printf("line=%s\n", first_line_of(fd, buf, sizeof buf));
    }
    return 0;
}

static int do_create(int argc, char **argv) {
    if (argc < 5) return 2;
    umask((mode_t)strtol(argv[4], NULL, 8));
    int flags = O_CREAT | O_WRONLY | (argc > 5 && strcmp(argv[5], "excl") == 0 ? O_EXCL : 0);
    int fd = open(argv[2], flags, (mode_t)strtol(argv[3], NULL, 8));
    if (fd < 0) { printf("create=%s\n", strerrorname_np(errno)); return 0; }
    struct stat st;
    fstat(fd, &st);
    struct stat named;
    int same = stat(argv[2], &named) == 0 && named.st_ino == st.st_ino;
    printf("create=%04o%s\n", st.st_mode & 07777, same ? "" : " (not the named file)");
    return 0;
}

static int do_statfs(int argc, char **argv) {
    if (argc < 3) return 2;
    struct statfs fs;
    if (statfs(argv[2], &fs) != 0) { printf("statfs=%s\n", strerrorname_np(errno)); return 0; }
    printf("statfs=%lx\n", (unsigned long)fs.f_type);
    return 0;
}

static int do_rmcwd(int argc, char **argv) {
    if (argc < 3) return 2;
    char buf[4096];
    if (mkdir(argv[2], 0755) != 0 || chdir(argv[2]) != 0) { printf("rmcwd=%s\n", strerrorname_np(errno)); return 0; }
    printf("cwd=%s\n", getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno));
    if (rmdir(argv[2]) != 0) { printf("rmdir=%s\n", strerrorname_np(errno)); return 0; }
    printf("cwd=%s\n", getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno));
    return 0;
}

static int do_fifo(int argc, char **argv) {
    if (argc < 3) return 2;
    if (mkfifo(argv[2], 0600) != 0) { printf("fifo=mkfifo:%s\n", strerrorname_np(errno)); return 0; }
    pid_t child = fork();
    if (child == 0) {
        usleep(300000);
        int w = open(argv[2], O_WRONLY);
        if (w < 0) { fprintf(stderr, "procprobe: fifo writer: open: %s\n", strerrorname_np(errno)); _exit(1); }
        write(w, "through the fifo\n", 17);
        _exit(0);
    }
    int r = open(argv[2], O_RDONLY);
    if (r < 0) { printf("fifo=open:%s\n", strerrorname_np(errno)); return 0; }
    char buf[256];
    printf("fifo=%s\n", first_line_of(r, buf, sizeof buf));
    int status = 0;
    waitpid(child, &status, 0);
    printf("writer=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static int do_remove(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *call = argv[2], *path = argv[3];
    int dir = AT_FDCWD;
    if (argc > 4 && (dir = open(argv[4], O_RDONLY | O_DIRECTORY)) < 0) {
        printf("dir=%s\n", strerrorname_np(errno));
        return 0;
    }
    int r;
    if (!strcmp(call, "rmdir")) r = rmdir(path);
    else if (!strcmp(call, "unlink")) r = unlink(path);
    else if (!strcmp(call, "unlinkat")) r = unlinkat(dir, path, 0);
    else if (!strcmp(call, "unlinkat-dir")) r = unlinkat(dir, path, AT_REMOVEDIR);
    else return 2;
    printf("%s=%s\n", call, r == 0 ? "ok" : strerrorname_np(errno));
    return 0;
}

static int do_rename(int argc, char **argv) {
    if (argc < 4) return 2;
    unsigned flags = 0;
    if (argc > 4) flags = !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE : RENAME_NOREPLACE;
    int r = (int)syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags);
    printf("rename=%s\n", r == 0 ? "ok" : strerrorname_np(errno));
    return 0;
}

static int do_link(int argc, char **argv) {
    if (argc < 4) return 2;
    struct stat st;
    if (linkat(AT_FDCWD, argv[2], AT_FDCWD, argv[3], argc > 4 ? AT_SYMLINK_FOLLOW : 0) != 0)
        printf("link=%s\n", strerrorname_np(errno));
    else if (lstat(argv[3], &st) != 0) printf("lstat=%s\n", strerrorname_np(errno));
    else printf("link=ok %s\n", S_ISLNK(st.st_mode) ? "symlink" : S_ISREG(st.st_mode) ? "file" : "other");
    return 0;
}

static int do_exec(int argc, char **argv) {
    if (argc < 3) return 2;
    char *args[] = {argv[2], NULL};
    execv(argv[2], args);
    printf("exec=%s\n", strerrorname_np(errno));
    return 0;
}

static int do_mkdir(int argc, char **argv) {
    if (argc < 5) return 2;
    umask((mode_t)strtol(argv[4], NULL, 8));
    struct stat st;
    if (mkdir(argv[2], (mode_t)strtol(argv[3], NULL, 8)) != 0) printf("mkdir=%s\n", strerrorname_np(errno));
    else if (stat(argv[2], &st) != 0) printf("stat=%s\n", strerrorname_np(errno));
    else printf("mkdir=%04o\n", st.st_mode & 07777);
    return 0;
}

static int do_utimes(int argc, char **argv) {
    if (argc < 4) return 2;
    struct timespec ts[2] = {{atol(argv[3]), 0}, {atol(argv[3]), 0}};
    struct stat st;
    if (utimensat(AT_FDCWD, argv[2], ts, argc > 4 ? AT_SYMLINK_NOFOLLOW : 0) != 0) printf("utimes=%s\n", strerrorname_np(errno));
    else if (lstat(argv[2], &st) != 0) printf("lstat=%s\n", strerrorname_np(errno));
    else printf("utimes=%ld\n", (long)st.st_mtime);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return 2;
    const char *m = argv[1];
    if (!strcmp(m, "threads")) return threads();
    if (!strcmp(m, "threadexec")) return thread_exec();
    if (!strcmp(m, "clonethread")) return clone_thread();
    if (!strcmp(m, "fork")) return do_fork();
    if (!strcmp(m, "vfork")) return do_vfork();
    if (!strcmp(m, "clone3")) return do_clone3(0);
    if (!strcmp(m, "clone3exec")) return do_clone3(1);
    if (!strcmp(m, "seccomp")) return own_seccomp();
    if (!strcmp(m, "selfexe")) return self_exe(argc, argv);
    if (!strcmp(m, "execveat")) return do_execveat(argc, argv);
    if (!strcmp(m, "openat2")) return do_openat2(argc, argv);
    if (!strcmp(m, "open")) return do_open(argc, argv);
    if (!strcmp(m, "fifo")) return do_fifo(argc, argv);
    if (!strcmp(m, "create")) return do_create(argc, argv);
    if (!strcmp(m, "statfs")) return do_statfs(argc, argv);
    if (!strcmp(m, "rmcwd")) return do_rmcwd(argc, argv);
    if (!strcmp(m, "remove")) return do_remove(argc, argv);
    if (!strcmp(m, "rename")) return do_rename(argc, argv);
    if (!strcmp(m, "mkdir")) return do_mkdir(argc, argv);
    if (!strcmp(m, "link")) return do_link(argc, argv);
    if (!strcmp(m, "exec")) return do_exec(argc, argv);
    if (!strcmp(m, "utimes")) return do_utimes(argc, argv);
    fprintf(stderr, "procprobe: unknown probe %s\n", m);
    return 2;
}
