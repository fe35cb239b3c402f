/* The gcc workload of bench/real.py: a small program using the usual headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

struct entry {
    const char *name;
    long size;
};

static int by_size(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return (x->size > y->size) - (x->size < y->size);
}

int main(int argc, char **argv)
{
    struct entry entries[16];
    int n = 0;
    for (int i = 1; i < argc && n < 16; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "hello: %s: %s\n", argv[i], strerror(errno));
            continue;
        }
        entries[n].name = argv[i];
        entries[n].size = (long)st.st_size;
        n++;
    }
    qsort(entries, n, sizeof entries[0], by_size);
    for (int i = 0; i < n; i++)
        printf("%8ld %s\n", entries[i].size, entries[i].name);
    printf("hello from pid %ld\n", (long)getpid());
    return 0;
}
