// abiprobe: file operations as a program of the ABI it is built for makes them, one command
// per run (built with -m32 by the i386 tests: every call goes through the i386 ABI).
//   cat PATH            its contents
//   stat PATH           libc's stat (i386 glibc: fstatat64 or statx): size, owner, mode
//   stat64 PATH         the stat64 system call itself (struct stat64)
//   cwd [DIR]           getcwd, after chdir DIR
//   readlink PATH       the link's text
//   ids                 getuid32, geteuid32, getgid32, getegid32 (the ids the program runs as)
//   ids16               getuid, geteuid, getgid, getegid: the 16-bit calls of old binaries
//   statold PATH        the stat system call of i386 (its struct stat: 16-bit owners)
//   chown16 PATH U G    the 16-bit chown of old binaries (65535: unchanged)
//   exec PROGRAM ARGS   execv
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "cat")) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { perror(argv[2]); return 1; }
        char buf[4096]; ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
        return 0;
    }
    if (!strcmp(cmd, "stat")) {
        struct stat st;
        if (stat(argv[2], &st) != 0) { perror(argv[2]); return 1; }
        printf("size=%lld uid=%u gid=%u mode=%o\n", (long long)st.st_size, st.st_uid, st.st_gid, st.st_mode & 07777);
        return 0;
    }
    if (!strcmp(cmd, "stat64")) {  /* the stat64 system call itself */
        struct { unsigned long long dev; unsigned char pad0[4]; unsigned long ino32; unsigned int mode, nlink; unsigned long uid, gid;
                 unsigned long long rdev; unsigned char pad3[4]; long long size; unsigned long blksize; unsigned long long blocks;
                 unsigned long t[6]; unsigned long long ino; } __attribute__((packed)) st;
        if (syscall(SYS_stat64, argv[2], &st) != 0) { perror(argv[2]); return 1; }
        printf("size=%lld uid=%lu gid=%lu mode=%o\n", st.size, st.uid, st.gid, st.mode & 07777);
        return 0;
    }
    if (!strcmp(cmd, "cwd")) {
        if (argc > 2 && chdir(argv[2]) != 0) { perror(argv[2]); return 1; }
        char buf[4096];
        if (!getcwd(buf, sizeof buf)) { perror("getcwd"); return 1; }
        puts(buf);
        return 0;
    }
    if (!strcmp(cmd, "readlink")) {
        char buf[4096]; ssize_t n = readlink(argv[2], buf, sizeof buf - 1);
        if (n < 0) { perror(argv[2]); return 1; }
        buf[n] = 0; puts(buf);
        return 0;
    }
    if (!strcmp(cmd, "ids")) {
        printf("uid=%ld euid=%ld gid=%ld egid=%ld\n", syscall(SYS_getuid32), syscall(SYS_geteuid32), syscall(SYS_getgid32), syscall(SYS_getegid32));
        return 0;
    }
    if (!strcmp(cmd, "ids16")) {
        printf("uid=%ld euid=%ld gid=%ld egid=%ld\n", syscall(SYS_getuid), syscall(SYS_geteuid), syscall(SYS_getgid), syscall(SYS_getegid));
        return 0;
    }
    if (!strcmp(cmd, "statold")) {
        struct { unsigned long dev, ino; unsigned short mode, nlink, uid, gid; unsigned long rdev, size, rest[10]; } st;
        if (syscall(SYS_stat, argv[2], &st) != 0) { perror(argv[2]); return 1; }
        printf("size=%lu uid=%u gid=%u mode=%o\n", st.size, st.uid, st.gid, st.mode & 07777);
        return 0;
    }
    if (!strcmp(cmd, "chown16")) {
        if (syscall(SYS_chown, argv[2], atoi(argv[3]), atoi(argv[4])) != 0) { perror(argv[2]); return 1; }
        return 0;
    }
    if (!strcmp(cmd, "exec")) {
        execv(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
    }
    return 2;
}
