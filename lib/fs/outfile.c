/* Regular output files through stdio on top of AieFsOut (temp-then-rename):
 * reports, plots, cache entries, filter banks. "-" is stdout; devices, FIFOs
 * and sockets are written in place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"

struct AieOutFile {
    AieFsOut *out;
    FILE *f;
    int werr; /* errno of the first failed write */
};

/* stdio over our own write(): a signal (EINTR) or a short write is retried,
 * where glibc's stdio gives up and sets the error flag, and the errno of a
 * real failure is kept for the message (stdio forgets it). */
static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    AieOutFile *o = c;
    int e = aie_fs_write_all(aie_fs_out_fd(o->out), buf, n);
    if (e) {
        if (!o->werr)
            o->werr = -e;
        return -1;
    }
    return (ssize_t)n;
}

static FILE *cookie_open(AieOutFile *o)
{
    cookie_io_functions_t io = {.write = cookie_write};
    return fopencookie(o, "w", io); /* closing it leaves the descriptor to AieFsOut */
}

int aie_outfile_open(AieOutFile **out, const char *path, const char *const *inputs, int ninputs,
                     int no_clobber, FILE **fp, char *err, size_t errlen)
{
    *out = NULL;
    *fp = NULL;
    AieOutFile *o = calloc(1, sizeof(*o));
    if (!o)
        return AIE_ENOMEM;
    AieFsOutOpts fo = {.inputs = inputs, .ninputs = ninputs, .no_clobber = no_clobber};
    int rc = aie_fs_out_open(&o->out, path, &fo, err, errlen);
    if (rc) {
        free(o);
        return rc;
    }
    if (!strcmp(path, "-"))
        fflush(stdout);
    if (!(o->f = cookie_open(o))) {
        aie_outfile_abort(&o);
        return AIE_ENOMEM;
    }
    *out = o;
    *fp = o->f;
    return 0;
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
    const char *name = strcmp(aie_fs_out_path(o->out), "-") ? aie_fs_out_path(o->out) : "standard output";
    int rc = 0;
    errno = 0;
    int ferr = fflush(o->f) != 0 || ferror(o->f);
    FILE *f = o->f;
    o->f = NULL;
    if (fclose(f) != 0)
        ferr = 1;
    if (ferr) {
        int e = o->werr ? o->werr : errno;
        rc = stream_err(e);
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", name, e ? strerror(e) : "write error");
        aie_outfile_abort(po);
        return rc;
    }
    rc = aie_fs_out_commit(&o->out, err, errlen);
    free(o);
    *po = NULL;
    return rc;
}

void aie_outfile_abort(AieOutFile **po)
{
    AieOutFile *o = po ? *po : NULL;
    if (!o)
        return;
    *po = NULL;
    if (o->f)
        fclose(o->f);
    aie_fs_out_abort(&o->out);
    free(o);
}
