/* Scratch files (aie/fs.h): unlinked, private, for spilled data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"

int aie_fs_scratch_open(const char *dir, int *fd, char *err, size_t errlen)
{
    *fd = -1;
    if (!dir || !*dir)
        dir = "/tmp";
#ifdef O_TMPFILE
    int f = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (f >= 0) {
        *fd = f;
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        int e = errno;
        snprintf(err, errlen, "scratch directory %.400s: %s", dir, strerror(e));
        return aie_error_from_errno(e);
    }
#endif
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)(size_t)&seed;
    for (int tries = 0; tries < 64; tries++) {
        char path[4096];
        seed = seed * 1103515245u + 12345u;
        snprintf(path, sizeof(path), "%s/.aie-scratch-%d-%08x.tmp", dir, (int)getpid(), seed);
        int g = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (g >= 0) {
            unlink(path);
            *fd = g;
            return 0;
        }
        if (errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "scratch directory %.400s: %s", dir, strerror(e));
            return aie_error_from_errno(e);
        }
    }
    snprintf(err, errlen, "scratch directory %.400s: no free name", dir);
    return AIE_EEXIST;
}

int aie_fs_pwrite_all(int fd, const void *buf, size_t n, int64_t off)
{
    const char *p = buf;
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

int aie_fs_pread_all(int fd, void *buf, size_t n, int64_t off)
{
    char *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EIO;
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}
