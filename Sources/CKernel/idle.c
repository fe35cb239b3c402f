// Waiting with the program's pages given back (Sources/Kernel/ResidentMemory.swift). The
// release and the wait are one C call because any Swift code run between them (the runtime's
// allocator, a closure, the caller's loop) would fault pages back in at once.
#define _GNU_SOURCE
#include "CKernel.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_FILE (1ULL << 61)  // still the page cache's page: never written here

// This process's own /proc/self/pagemap, opened by ck_idle_prepare, or -1. A fork inherits
// the descriptor, which reads its parent's pages: the opener's pid is checked, and nothing is
// opened here at idle time, when /proc may be the guest's.
static int pagemap = -1;
static pid_t pagemap_owner;

static int own_pagemap(void) { return pagemap >= 0 && pagemap_owner == getpid() ? pagemap : -1; }

int ck_idle_prepare(void) {
    if (own_pagemap() >= 0) return pagemap;
    if (pagemap >= 0) close(pagemap);
    pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    pagemap_owner = getpid();
    struct statfs fs;
    if (pagemap >= 0 && (fstatfs(pagemap, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)) { close(pagemap); pagemap = -1; }
    return pagemap;
}

// The pages of a writable file mapping that were only read: the kernel reads them again from
// the file. A page written to (copied on write) is this process's data and stays.
static void release_unwritten(uintptr_t start, size_t length) {
    int fd = own_pagemap();
    if (fd < 0) return;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t entries[512];
    uintptr_t run = 0;  // start of the current run of droppable pages, 0: none
    for (uintptr_t at = start; at < start + length; ) {
        size_t n = (start + length - at) / (size_t)page;
        if (n > 512) n = 512;
        ssize_t got = pread(fd, entries, n * sizeof entries[0], (off_t)(at / (size_t)page * sizeof entries[0]));
        if (got <= 0) break;
        n = (size_t)got / sizeof entries[0];
        for (size_t i = 0; i < n; i++, at += (uintptr_t)page) {
            int droppable = (entries[i] & PAGEMAP_PRESENT) && (entries[i] & PAGEMAP_FILE);
            if (droppable && !run) run = at;
            if (!droppable && run) { madvise((void *)run, at - run, MADV_DONTNEED); run = 0; }
        }
    }
    if (run) madvise((void *)run, start + length - run, MADV_DONTNEED);
}

int ck_poll_idle(struct pollfd *fds, unsigned long count, int idle_ms, const struct ck_pages *pages) {
    int ready = poll(fds, count, pages && (pages->count > 0 || pages->writable_count > 0) ? idle_ms : -1);
    if (ready != 0) return ready;
    // No signal handler may write a page between its pagemap entry and the madvise.
    sigset_t all, before;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &before);
    for (int i = 0; i < pages->writable_count && i < CK_PAGES_MAX; i++) release_unwritten(pages->writable_start[i], pages->writable_length[i]);
    sigprocmask(SIG_SETMASK, &before, NULL);
    // The code last, right before the wait: what runs after it is faulted in again.
    for (int i = 0; i < pages->count && i < CK_PAGES_MAX; i++) madvise((void *)pages->start[i], pages->length[i], MADV_DONTNEED);
    return poll(fds, count, -1);
}

unsigned long ck_getauxval(unsigned long type) { return getauxval(type); }
