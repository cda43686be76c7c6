/* Regular output files through stdio, temp-then-rename (DECISIONS.md
 * "Outputs"): reports, plots, cache entries. "-" is stdout; devices, FIFOs and
 * sockets are written in place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

struct AieOutFile {
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    FILE *f;
    int fd;   /* the descriptor under f */
    int werr; /* errno of the first failed write */
    int direct, is_stdout;
};

/* stdio over our own write(): a signal (EINTR) or a short write is retried,
 * where glibc's stdio gives up and sets the error flag, and the errno of a
 * real failure is kept for the message (stdio forgets it). */
static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    AieOutFile *o = c;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(o->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!o->werr)
                o->werr = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int cookie_close(void *c)
{
    AieOutFile *o = c;
    int fd = o->fd;
    o->fd = -1;
    if (o->is_stdout || fd < 0)
        return 0;
    if (close(fd) != 0 && errno != EINTR) {
        if (!o->werr)
            o->werr = errno;
        return -1;
    }
    return 0;
}

static FILE *cookie_open(AieOutFile *o, int fd)
{
    o->fd = fd;
    cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
    return fopencookie(o, "w", io);
}

static void errf(char *err, size_t errlen, const char *path, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, why);
}

int aie_outfile_open(AieOutFile **out, const char *path, const char *const *inputs, int ninputs,
                     int no_clobber, FILE **fp, char *err, size_t errlen)
{
    *out = NULL;
    *fp = NULL;
    if (!path || !*path)
        return AIE_EINVAL;
    AieOutFile *o = calloc(1, sizeof(*o));
    if (!o)
        return AIE_ENOMEM;
    int rc = AIE_EINVAL;
    o->fd = -1;
    if (!strcmp(path, "-")) {
        o->is_stdout = o->direct = 1;
        fflush(stdout);
        if (!(o->f = cookie_open(o, STDOUT_FILENO))) {
            rc = AIE_ENOMEM;
            goto fail;
        }
        goto done;
    }
    if (strlen(path) >= sizeof(o->path) - 32) {
        errf(err, errlen, path, "name too long");
        goto fail;
    }
    snprintf(o->path, sizeof(o->path), "%s", path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        errf(err, errlen, path, "is a directory");
        rc = AIE_EINVAL;
        goto fail;
    }
    for (int i = 0; exists && i < ninputs; i++) {
        struct stat is;
        if (inputs[i] && strcmp(inputs[i], "-") && stat(inputs[i], &is) == 0 && is.st_dev == st.st_dev &&
            is.st_ino == st.st_ino) {
            errf(err, errlen, path, "output is the same file as an input");
            rc = AIE_ESAME;
            goto fail;
        }
    }
    if (exists && S_ISREG(st.st_mode) && no_clobber) {
        errf(err, errlen, path, "exists (--no-clobber)");
        rc = AIE_EEXIST;
        goto fail;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* a device, FIFO or socket: written in place */
        o->direct = 1;
        int dfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (dfd < 0) {
            rc = aie_error_from_errno(errno);
            errf(err, errlen, path, strerror(errno));
            goto fail;
        }
        if (!(o->f = cookie_open(o, dfd))) {
            rc = AIE_ENOMEM;
            close(dfd);
            goto fail;
        }
        goto done;
    }
    char dir[PATH_MAX];
    const char *base;
    io_split_path(path, dir, sizeof(dir), &base);
    struct stat ds;
    if (!*base || stat(dir, &ds) != 0 || !S_ISDIR(ds.st_mode)) {
        errf(err, errlen, path, *base ? "no such directory" : "not a file name");
        rc = *base ? AIE_ENOTDIR : AIE_EINVAL;
        goto fail;
    }
    io_remove_stale_temps(dir, base);
    if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.aie-%ld.tmp", dir, base, (long)getpid()) >= (int)sizeof(o->tmp)) {
        errf(err, errlen, path, "name too long");
        o->tmp[0] = 0;
        goto fail;
    }
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = aie_error_from_errno(errno);
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
        o->tmp[0] = 0;
        goto fail;
    }
    if (exists)
        (void)fchmod(fd, st.st_mode & 07777);
    if (!(o->f = cookie_open(o, fd))) {
        rc = AIE_ENOMEM;
        close(fd);
        goto fail;
    }
done:
    *out = o;
    *fp = o->f;
    return 0;
fail:
    aie_outfile_abort(&o);
    return rc;
}

static int stream_err(int e)
{
    return e == EPIPE ? AIE_EPIPE : e == ENOSPC ? AIE_ENOSPC : AIE_EIO;
}

int aie_outfile_commit(AieOutFile **po, char *err, size_t errlen)
{
    AieOutFile *o = *po;
    if (!o)
        return 0;
    int rc = 0;
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        int e = o->werr ? o->werr : errno;
        rc = stream_err(e);
        errf(err, errlen, o->is_stdout ? "standard output" : o->path, e ? strerror(e) : "write error");
        goto out;
    }
    if (!o->direct && fsync(o->fd) != 0 && errno != EINVAL) {
        rc = stream_err(errno);
        errf(err, errlen, o->path, strerror(errno));
        goto out;
    }
    FILE *f = o->f;
    o->f = NULL;
    if (fclose(f) != 0) {
        int e = o->werr ? o->werr : errno;
        rc = stream_err(e);
        errf(err, errlen, o->is_stdout ? "standard output" : o->path, strerror(e));
        goto out;
    }
    if (!o->direct) {
        if (rename(o->tmp, o->path) != 0) {
            rc = aie_error_from_errno(errno);
            errf(err, errlen, o->path, strerror(errno));
            goto out;
        }
        o->tmp[0] = 0;
    }
out:
    aie_outfile_abort(po);
    return rc;
}

void aie_outfile_abort(AieOutFile **po)
{
    AieOutFile *o = po ? *po : NULL;
    if (!o)
        return;
    *po = NULL;
    if (o->f)
        fclose(o->f); /* the cookie leaves stdout's descriptor open */
    if (o->tmp[0])
        unlink(o->tmp);
    free(o);
}

