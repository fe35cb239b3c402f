#define _GNU_SOURCE
#include "CKernelNotify.h"
#include <sys/ioctl.h>
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)  // Linux 6.6; newer than these headers
#endif

int ck_notif_recv(int fd, struct seccomp_notif *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, r); }
int ck_notif_send(int fd, struct seccomp_notif_resp *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, r); }
int ck_notif_id_valid(int fd, uint64_t id) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id); }
int ck_notif_set_flags(int fd, uint64_t flags) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags); }
