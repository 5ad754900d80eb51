/*
 * mem_trim.c - malloc arenas, thread stacks, and giving idle pages back
 * (mem_trim.h).
 *
 * /proc/self/smaps lists each mapping, then its figures, ending with a
 * "VmFlags:" line; a mapping qualifies when it is backed by a file, not
 * writable, not shared, and has no Private_Dirty or Anonymous pages.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mem_trim.h"

/* mem_lean_start - see mem_trim.h */
void mem_lean_start(void)
{
    pthread_attr_t attr;

    mallopt(M_ARENA_MAX, 2);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setstacksize(&attr, MEM_THREAD_STACK);
        pthread_setattr_default_np(&attr);
        pthread_attr_destroy(&attr);
    }
}

/* One mapping of smaps, while its figures are read. */
struct mapping {
    unsigned long start, end;
    int     candidate;          /* file-backed, read-only, private */
    unsigned long dirty_kb;     /* Private_Dirty + Anonymous */
};

/* header - "start-end perms offset dev inode [path]"; 1 when it is one */
static int header(const char *line, struct mapping *m)
{
    char    perms[8], path[16] = "";
    unsigned long long off, inode;
    char    dev[16];
    int     n = sscanf(line, "%lx-%lx %7s %llx %15s %llu %15s", &m->start, &m->end,
                       perms, &off, dev, &inode, path);

    if (n < 6)
        return 0;
    m->candidate = n == 7 && path[0] == '/' && inode != 0 && perms[1] == '-'
        && perms[3] == 'p';
    m->dirty_kb = 0;
    return 1;
}

/* mem_trim - see mem_trim.h */
void mem_trim(void)
{
    FILE   *f;
    char    line[512];
    struct mapping m = {0};
    unsigned long kb;

    malloc_trim(0);
    if ((f = fopen("/proc/self/smaps", "re")) == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmFlags:", 8) == 0) {
            if (m.candidate && m.dirty_kb == 0 && m.end > m.start)
                madvise((void *) m.start, m.end - m.start, MADV_DONTNEED);
            m.candidate = 0;
        } else if ((sscanf(line, "Private_Dirty: %lu kB", &kb) == 1
                    || sscanf(line, "Anonymous: %lu kB", &kb) == 1)) {
            m.dirty_kb += kb;
        } else if (line[0] != ' ' && strchr(line, '-') != NULL && strchr(line, ':') != NULL
                   && (line[0] < 'A' || line[0] > 'Z')) {
            header(line, &m);
        }
    }
    fclose(f);
}
