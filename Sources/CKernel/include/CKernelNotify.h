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
#endif
