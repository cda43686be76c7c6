/* Opening input files that are read whole (models, filter banks, LUTs):
 * never wait in open(2) for the writer of a FIFO, refuse what is not a
 * regular file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"

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
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
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
