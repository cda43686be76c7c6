/* Opening input files that are read whole (models, filter banks, LUTs):
 * never wait in open(2) for the writer of a FIFO, refuse what is not a
 * regular file or a shell pipeline's pipe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"

/* A shell pipeline's pipe (`... | aie-style --lut /dev/stdin`): its writer
 * is connected already, so reading it whole is a stream that ends. A named
 * FIFO may have no writer at all and is refused. */
static int anonymous_pipe(int fd, const struct stat *st)
{
    if (!S_ISFIFO(st->st_mode))
        return 0;
    char link[64], target[32];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return 0;
    target[n] = 0;
    return !strncmp(target, "pipe:[", 6);
}

static const char *kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a regular file";
}

int aie_fs_open_regular(const char *path, FILE **out, char *err, size_t errlen)
{
    *out = NULL;
    /* O_NONBLOCK: open(2) of a FIFO without a writer returns at once */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return aie_error_from_errno(e);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || anonymous_pipe(fd, &st))) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s, not a regular file", path, kind(st.st_mode));
        close(fd);
        return AIE_EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        close(fd);
        return aie_error_from_errno(e);
    }
    *out = f;
    return 0;
}
