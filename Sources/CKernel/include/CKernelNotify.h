// Seccomp user notification (SECCOMP_RET_USER_NOTIF): the supervisor's side. One-liners:
// ioctl is variadic. (The caller's memory is written with ck_vm_write.)
#ifndef BURROW_CKERNEL_NOTIFY_H
#define BURROW_CKERNEL_NOTIFY_H
#include <stdint.h>
#include <sys/types.h>
#include <linux/seccomp.h>

int ck_notif_recv(int listener, struct seccomp_notif *request);
int ck_notif_send(int listener, struct seccomp_notif_resp *response);
int ck_notif_id_valid(int listener, uint64_t id);
// SECCOMP_IOCTL_NOTIF_SET_FLAGS (Linux 6.6): SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1.
int ck_notif_set_flags(int listener, uint64_t flags);
// SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (Linux 5.14): `srcfd` becomes a
// descriptor of the caller (with `newfd_flags`: O_CLOEXEC or 0) and its call returns that
// number. The new number, or -1 and errno.
int ck_notif_addfd_send(int listener, uint64_t id, int srcfd, unsigned newfd_flags);
// For an open that may block (a FIFO, a device): a child of the supervisor opens `path`
// with `flags` (and `mode` under `umask_value`, for O_CREAT) and completes call `id` (the
// descriptor sent, or open's errno). The child's pid, or -1 and errno if fork failed.
pid_t ck_notif_open_detached(int listener, uint64_t id, const char *path, int flags, unsigned mode, unsigned umask_value,
                             unsigned newfd_flags);
#endif
