#define _GNU_SOURCE
#include "CKernelNotify.h"
#include <sys/ioctl.h>
#include <sys/uio.h>

int ck_notif_recv(int fd, struct seccomp_notif *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, r); }
int ck_notif_send(int fd, struct seccomp_notif_resp *r) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, r); }
int ck_notif_id_valid(int fd, uint64_t id) { return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id); }
ssize_t ck_write_memory(pid_t pid, const void *bytes, size_t count, uint64_t address) {
    struct iovec local = { (void *)bytes, count }, remote = { (void *)(uintptr_t)address, count };
    return process_vm_writev(pid, &local, 1, &remote, 1, 0);
}
