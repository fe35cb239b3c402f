// One-line wrappers for what Swift's Glibc module cannot call: variadic functions, calls
// without a glibc wrapper or hidden behind _GNU_SOURCE, and control-message macros (no
// logic: the Swift kernel layer, Sources/Kernel, gives these typed errors); and the entry
// points of the child programs that run between clone and exec (child_*.c, README.md).
#ifndef BURROW_CKERNEL_H
#define BURROW_CKERNEL_H
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include <sys/xattr.h>  // getxattr and the like, which Glibc does not export

// Namespaces and root
int ck_unshare(int flags);
int ck_setns(int fd, int nstype);
// ioctl NS_GET_PARENT on a user namespace's descriptor: its parent's (close-on-exec), or -1
int ck_ns_get_parent(int fd);
// ioctl NS_GET_NSTYPE on a namespace's descriptor: its CLONE_NEW* flag, or -1
int ck_ns_get_nstype(int fd);
int ck_pivot_root(const char *new_root, const char *put_old);
int ck_sethostname(const char *name, size_t len);


// seccomp(2) has no glibc wrapper: SECCOMP_SET_MODE_FILTER with a struct sock_fprog, say.
int ck_seccomp(unsigned int operation, unsigned int flags, void *args);

// prctl is variadic
int ck_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

// fcntl is variadic: F_OFD_SETLK with a read lock on the whole file
int ck_ofd_read_lock(int fd);

// Terminals (ioctl is variadic): unlock a pseudo-terminal master (TIOCSPTLCK 0) and open its
// peer (TIOCGPTPEER, no path looked up); its number (TIOCGPTN); its size (TIOCSWINSZ)
int ck_pty_unlock(int master);
int ck_pty_peer(int master, int flags);
int ck_pty_number(int master);
int ck_pty_set_size(int fd, unsigned short rows, unsigned short cols);
// connect(2) to the unix stream socket at `path` (sockaddr_un)
int ck_connect_unix(const char *path);

// The new mount API (no glibc wrappers in Debian 12)
int ck_open_tree(int dirfd, const char *path, unsigned int flags);
int ck_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);
int ck_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t set, uint64_t clr, uint64_t propagation);
int ck_fsopen(const char *fsname, unsigned int flags);
int ck_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux);
int ck_fsmount(int fd, unsigned int flags, unsigned int attr_flags);
int ck_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
// statx into a raw 256-byte struct statx
int ck_statx(int dirfd, const char *path, int flags, unsigned int mask, void *buffer);
// statx: mount id and the "is a mount root" attribute
int ck_statx_mount(int dirfd, const char *path, int flags, uint64_t *mnt_id, int *is_mount_root,
                   uint64_t *ino, uint32_t *dev_major, uint32_t *dev_minor, uint32_t *mode);

// fstatfs: the filesystem's magic number (f_type); Swift's Glibc module lacks statfs
int ck_fstatfs_type(int fd, long *type);
// statfs: the host's struct statfs of `path`, as bytes, into `buffer` (at least `size`);
// its size, or -1 and errno.
long ck_statfs_bytes(const char *path, void *buffer, unsigned long size);
// renameat2(2) (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT): Swift's Glibc module lacks it.
int ck_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

int ck_pipe2(int fds[2], int flags);

// ---- Waiting (idle.c) ----
// What a waiting process can unmap and fault in again from the page cache
// (Sources/Kernel/ResidentMemory.swift), as whole pages: the program's read-only segments
// (code, constants), and the file-backed part of its writable ones, of which only the pages
// never written are given back (the process's /proc/self/pagemap tells which).
#define CK_PAGES_MAX 4
struct ck_pages {
    int count;
    uintptr_t start[CK_PAGES_MAX];
    size_t length[CK_PAGES_MAX];
    int writable_count;
    uintptr_t writable_start[CK_PAGES_MAX];
    size_t writable_length[CK_PAGES_MAX];
};
struct pollfd;
// poll(2) for idle_ms; if nothing came by then, give `pages` back (signals blocked meanwhile)
// and poll without a time limit. Returns what the last poll returned. pages NULL or empty:
// one poll, no limit.
int ck_poll_idle(struct pollfd *fds, unsigned long count, int idle_ms, const struct ck_pages *pages);
// Opens this process's pagemap now, while it can (before PR_SET_DUMPABLE 0 makes /proc/self
// root's, while /proc is the host's); -1 if it cannot. Without it, only the read-only
// segments are given back.
int ck_idle_prepare(void);
// getauxval(3): Swift's Glibc module hides <sys/auxv.h> (AT_PHDR, AT_PHNUM).
unsigned long ck_getauxval(unsigned long type);
// SIOCGIFFLAGS / SIOCSIFFLAGS on one interface: ifreq is a union Swift cannot build
int ck_if_get_flags(int sock, const char *name, short *flags);
int ck_if_set_flags(int sock, const char *name, short flags);

int ck_signal_default(int sig);
int ck_signal_ignore(int sig);

// Unix socket control messages (CMSG_* are macros)
ssize_t ck_send_fd(int sock, int fd, const void *buf, size_t len);
ssize_t ck_recv_fd(int sock, void *buf, size_t len, int *fd);
ssize_t ck_recv_creds_nonblocking(int sock, uint8_t *byte, int32_t *pid);

// Starting the command. The child shares the init's memory (CLONE_VM | CLONE_VFORK, as
// posix_spawn does) and runs only the raw system calls below, in this order, then execve:
// no Swift, no locks, no allocation after the clone. A failure is written back into the
// struct (the init is suspended until the child execs or exits) for Swift to report.
enum ck_launch_step {
    CK_STEP_NONE = 0, CK_STEP_SIGMASK, CK_STEP_SETSID, CK_STEP_SETPGID, CK_STEP_PDEATHSIG, CK_STEP_ANNOUNCE,
    CK_STEP_BOUNDING, CK_STEP_SETGROUPS, CK_STEP_SETRESGID, CK_STEP_SETRESUID, CK_STEP_CAPSET,
    CK_STEP_NO_NEW_PRIVS, CK_STEP_CHDIR, CK_STEP_CLOSE_RANGE, CK_STEP_SECCOMP, CK_STEP_EXEC,
    CK_STEP_AMBIENT, CK_STEP_USERNS, CK_STEP_TERMINAL, CK_STEP_PRESERVE_FDS,
};
struct ck_launch {
    // in
    const char *const *candidates;  // paths to try with execve, in order (PATH search)
    int candidate_count;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const void *sigmask;            // a sigset_t to restore
    int new_session;                // setsid; else setpgid(0, 0): a process group of its own
    int foreground_fd;              // >= 0: the controlling terminal, handed to that group
                                    // (TIOCSPGRP; SIGTTOU must be blocked; a failure is
                                    // tolerated: the command then starts in the background)
    int announce_fd;                // >= 0: send one byte here (the kernel adds our pid)
    int outlive_parent;             // 1: no PR_SET_PDEATHSIG (burrow-oci's exec --detach: the
                                    // process goes on after the exec call has returned)
    int clear_groups;               // setgroups(0, NULL): only where setgroups is allowed
    const uint32_t *groups;         // with clear_groups: these supplementary groups instead
    int group_count;                // (burrow-oci's additionalGids); 0: none
    uint32_t uid, gid;
    uint32_t keep_caps_low, keep_caps_high;
    int drop_bounding;              // drop every capability but keep_* from the bounding set
    int own_bounding;               // 1: the bounding set keeps bounding_* instead of keep_*
    uint32_t bounding_caps_low, bounding_caps_high;
    uint32_t inheritable_caps_low, inheritable_caps_high;  // the inheritable set (0: none)
    uint32_t ambient_caps_low, ambient_caps_high;          // raised after capset (0: none)
    int keep_new_privs;             // 1: no PR_SET_NO_NEW_PRIVS (burrow-oci's noNewPrivileges
                                    // false); the filter then goes in before the ids change,
                                    // while the user namespace's CAP_SYS_ADMIN allows it
    int last_cap;
    const struct sock_fprog *seccomp; // NULL: no filter; else installed last, before execve
    unsigned int seccomp_flags;       // SECCOMP_FILTER_FLAG_*
    const struct sock_fprog *caller_seccomp; // the caller's own programs (bwrap's --seccomp FD),
    int caller_seccomp_count;                // installed after it, in order
    char **shell_argv;              // NULL, or {"/bin/sh", (set here), argv[1].., NULL}:
                                    // a candidate refused with ENOEXEC runs as a shell script
    int has_terminal;               // 1: terminal_fd becomes fds 0, 1, 2 and the controlling
    int terminal_fd;                // terminal (TIOCSCTTY) of the new session (burrow-oci)
    int enter_userns;               // 1: setns into the user namespace of enter_userns_fd
    int enter_userns_fd;            // first, before the ids change (bwrap's --userns2)
    int preserved_fds;              // N: the caller's fds 3 to 3+N-1 reach the command at
                                    // their numbers, not close-on-exec (burrow-oci's
                                    // --preserve-fds); the rest above 2 are closed at exec
    // out
    int failed_step;
    int failed_errno;
    int failed_candidate;           // for CK_STEP_EXEC: the candidate the error is about
};
// Returns the child's pid once it has exec'd or exited, or -1 with errno.
int ck_launch(struct ck_launch *l);
// The same steps in this process, which becomes the command: returns only when a step or
// every execve failed (recorded in `l`), with the status to end with (125, 126 or 127).
int ck_launch_here(struct ck_launch *l);
// close_range(2) (no glibc wrapper before 2.34): closes first..last.
int ck_close_range(unsigned int first, unsigned int last);

// The sandbox's init once the set-up is under way: reaps, forwards signals to the command,
// tells the supervisor when the command stops, and ends the sandbox with the command. In C
// so that PID 1, a fork of the supervisor, touches only these few pages of the binary.
struct ck_init {
    int signals;          // signalfd of the handled signals (blocked)
    int setup_done;       // read end held open by the set-up until its exec or exit; -1: none
    int lifeline;         // read end: hangs up when the supervisor is gone
    int children;         // /proc/.../children of this process, or -1
    int job_events;       // the command stopped: one byte, the signal
    pid_t command;        // the set-up process, the command after its exec
    pid_t responder;      // the uname responder, or 0
    pid_t supervisor;     // the parent to expect without a PID namespace
    int is_pid1;          // PID 1 of a PID namespace; else a child subreaper
    int keep_children;    // the command's end does not end the sandbox
    int last_to_exit;     // the status is the last process's to exit (PRoot), not the command's
    int announce_exit;    // leftovers left running: the command's end is told on job_events
    int outlives_supervisor; // burrow-oci's container: the supervisor leaves once it is held,
                             // the init is the container's process (no lifeline, no parent check)
    struct ck_pages idle_pages; // given back after idle_ms of nothing (ck_poll_idle)
    int idle_ms;
};
// What the init writes on job_events when the command ends (announce_exit), then a byte of
// its status; any other byte is a signal the command was stopped by.
#define CK_JOB_EVENT_COMMAND_EXITED 0xFF
void ck_init_watch(const struct ck_init *in) __attribute__((noreturn));

// Credentials (setuid mode): raw system calls, no glibc setxid broadcast (one thread only)
int ck_setresuid(uint32_t r, uint32_t e, uint32_t s);
int ck_setresgid(uint32_t r, uint32_t e, uint32_t s);
int ck_getresuid(uint32_t *r, uint32_t *e, uint32_t *s);
int ck_getresgid(uint32_t *r, uint32_t *e, uint32_t *s);
int ck_setfsuid(uint32_t id);  // returns the previous fsuid; (uint32_t)-1 only queries
int ck_setfsgid(uint32_t id);
int ck_setgroups(size_t n, const uint32_t *groups);
int ck_capget(uint64_t *permitted, uint64_t *effective, uint64_t *inheritable);  // this process's sets
int ck_capset(uint64_t permitted, uint64_t effective, uint64_t inheritable);
unsigned long ck_at_secure(void);                               // getauxval(AT_SECURE)
int ck_faccessat2(int dirfd, const char *path, int mode, int flags);

// ---- The ptrace engine (ptrace.c) ----
// ptrace is variadic in glibc.
long ck_ptrace(long request, pid_t pid, unsigned long addr, unsigned long data);
ssize_t ck_vm_read(pid_t pid, void *local, size_t len, uint64_t remote);
// Two remote ranges, one after the other, into `local` (len1 + len2 bytes), in one call.
ssize_t ck_vm_read2(pid_t pid, void *local, size_t len1, uint64_t remote1, size_t len2, uint64_t remote2);
ssize_t ck_vm_write(pid_t pid, const void *local, size_t len, uint64_t remote);
// The registers of a stopped tracee, as the architecture lays them out (opaque to Swift);
// the accessors below are the only place that knows which register holds what.
struct ck_regs { uint64_t raw[68]; };
int ck_regs_get(pid_t pid, struct ck_regs *r);
int ck_regs_set(pid_t pid, const struct ck_regs *r);
int64_t ck_reg_sysnum(const struct ck_regs *r);
void ck_reg_set_sysnum(struct ck_regs *r, int64_t nr);
uint64_t ck_reg_arg(const struct ck_regs *r, int i);
void ck_reg_set_arg(struct ck_regs *r, int i, uint64_t v);
int64_t ck_reg_result(const struct ck_regs *r);
void ck_reg_set_result(struct ck_regs *r, int64_t v);
uint64_t ck_reg_sp(const struct ck_regs *r);
void ck_reg_set_sp(struct ck_regs *r, uint64_t v);
// Bytes below the stack pointer the ABI lets leaf code use (x86_64: 128).
int ck_red_zone(void);
// The i386 compat ABI of an x86_64 tracee (int $0x80, 32-bit programs): its arguments in
// ebx, ecx, edx, esi, edi, ebp (the low halves of user_regs_struct's rbx...rbp), read and
// written 32 bits wide as the kernel reads them; elsewhere these fall back to ck_reg_arg.
uint64_t ck_reg_compat_arg(const struct ck_regs *r, int i);
void ck_reg_set_compat_arg(struct ck_regs *r, int i, uint64_t v);
// The code segment selector (x86_64: 0x23 while 32-bit code runs, 0x33 for 64-bit); 0 elsewhere.
uint64_t ck_reg_code_segment(const struct ck_regs *r);
// Forward burrow's signals to `pid` from a handler (async-signal-safe: kill only). The
// command is never in burrow's process group, so a terminal's signals burrow got (Ctrl-C
// while burrow is in the foreground) did not reach it: they are forwarded too.
int ck_forward_signals_to(pid_t pid, const int *signals, int count);

// The traced command's child: everything between fork and exec, raw system calls only.
// It stops itself with SIGSTOP for the tracer, installs the seccomp filter (if any; a
// failure is tolerated, the tracer then sees every system call) and tries the candidates.
enum ck_trace_step {
    CK_TSTEP_NONE = 0, CK_TSTEP_TRACEME, CK_TSTEP_SIGMASK, CK_TSTEP_SETSID, CK_TSTEP_SETPGID, CK_TSTEP_PDEATHSIG,
    CK_TSTEP_CHDIR, CK_TSTEP_NO_NEW_PRIVS, CK_TSTEP_CLOSE_RANGE, CK_TSTEP_STOP, CK_TSTEP_EXEC,
    CK_TSTEP_SEND_LISTENER,
};
struct ck_trace_launch {
    const char *const *candidates;
    int candidate_count;
    char *const *argv;
    char *const *envp;
    const char *host_cwd;
    const void *sigmask;
    int new_session;                // setsid; else setpgid(0, 0), as ck_launch
    int foreground_fd;              // >= 0: hand the terminal to the new group (as ck_launch)
    const void *filter;             // struct sock_filter[], or NULL
    unsigned short filter_len;
    // Tried first, with SECCOMP_FILTER_FLAG_NEW_LISTENER; `filter` is the fallback when the
    // kernel (or a container's profile) refuses it. The listener goes to the tracer over
    // `listener_socket` (SCM_RIGHTS), right after the call: pidfd_getfd is not needed (Docker's
    // profile denies it, and it came only in Linux 5.6).
    const void *notify_filter;
    unsigned short notify_filter_len;
    // With SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV too (Linux 5.19): once the tracer has taken
    // a call, only a fatal signal ends the wait, so a call the tracer completed with a side
    // effect (a file made, a FIFO opened) is not restarted by a signal's handler.
    int notify_killable;
    int listener_socket;            // a unix socket to the tracer, or -1
    int report_fd;                  // failures: {step, errno, candidate} as three ints
    pid_t parent;                   // the tracer: if it is gone already, the child ends
    char **shell_argv;              // as ck_launch's
};
void ck_trace_child(const struct ck_trace_launch *l) __attribute__((noreturn));
// 0 if a child can be cloned into a new user namespace, else the errno.
// Can this process make a user namespace and do in it what the namespace engine does
// first? 0 when yes; else -1 with the step that failed and its errno in *p. The caller
// fills in the one-line maps ("0 UID 1\n").
enum { CK_PROBE_OK, CK_PROBE_CLONE, CK_PROBE_SETGROUPS, CK_PROBE_UID_MAP, CK_PROBE_GID_MAP,
       CK_PROBE_MOUNT };
struct ck_userns_probe {
    char uid_map[32], gid_map[32];
    int step, err;
};
int ck_probe_userns(struct ck_userns_probe *p);
// tgkill; a ptrace request with its errno (0: none) kept (PEEK* may return -1).
int ck_tgkill(pid_t tgid, pid_t tid, int sig);
long ck_ptrace_raw(long req, pid_t pid, unsigned long addr, unsigned long data, int *err);
// signalfd4 for `mask` (a sigset_t), non-blocking and close-on-exec.
int ck_signalfd(const void *mask);

extern char **environ;
#include "CKernelNotify.h"
#endif
