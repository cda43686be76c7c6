/* The result cache: DIR/KK/KEY.EXT, where KEY is the job's SHA-256 key and KK
 * its first two digits. Entries and outputs are materialised by reflink, else
 * hard link, else copy, into a temporary name that is renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "aie/error.h"
#include "batch_internal.h"

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot && strlen(dot) < 16 ? dot : "";
}

static void entry_path(char *buf, size_t n, const char *dir, const char *key, const char *output)
{
    snprintf(buf, n, "%s/%.2s/%s%s", dir, key, key, ext_of(output));
}

/* The temporary name DECISIONS.md gives outputs: DIR/.NAME.aie-PID.tmp */
static void temp_path(char *buf, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(buf, n, "%.*s/.%s.aie-%d.tmp", (int)(slash - path), path, slash + 1, (int)getpid());
    else
        snprintf(buf, n, ".%s.aie-%d.tmp", path, (int)getpid());
}

static int copy_fd(int in, int out)
{
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return aie_error_from_errno(errno);
        break;
    }
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return aie_error_from_errno(errno);
        if (n == 0)
            return 0;
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(out, buf + o, (size_t)(n - o));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return w < 0 ? aie_error_from_errno(errno) : AIE_EIO;
            o += w;
        }
    }
}

/* from -> to, atomically: reflink, hard link or copy into a temp, rename. */
static int place(const char *from, const char *to, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 64];
    int e = 0, in = -1, out = -1;
    temp_path(tmp, sizeof(tmp), to);
    unlink(tmp);
    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "%s: %s", from, strerror(errno));
        goto fail;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (ioctl(out, FICLONE, in) != 0) {
        /* no reflink here: a hard link, else a copy */
        close(out);
        out = -1;
        unlink(tmp);
        if (link(from, tmp) != 0) {
            out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (out < 0 || (e = copy_fd(in, out)) != 0) {
                if (!e)
                    e = aie_error_from_errno(errno);
                aie_errf(err, errlen, "%s: %s", tmp, aie_strerror(e));
                goto fail;
            }
        }
    }
    if (out >= 0 && close(out) != 0) {
        out = -1;
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    out = -1;
    /* a fresh timestamp, so make and --skip-existing see a new output */
    utimensat(AT_FDCWD, tmp, NULL, 0);
    if (rename(tmp, to) != 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "%s: %s", to, strerror(errno));
        goto fail;
    }
    close(in);
    return 0;
fail:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    unlink(tmp);
    return e;
}

int aie_batch_cache_fetch(const char *dir, const char *key, const char *output, int *hit,
                          char *err, size_t errlen)
{
    char entry[PATH_MAX + 128];
    struct stat st;
    *hit = 0;
    entry_path(entry, sizeof(entry), dir, key, output);
    if (stat(entry, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    int e = place(entry, output, err, errlen);
    if (!e)
        *hit = 1;
    return e;
}

int aie_batch_cache_store(const char *dir, const char *key, const char *output, char *err,
                          size_t errlen)
{
    char entry[PATH_MAX + 128], sub[PATH_MAX + 8];
    snprintf(sub, sizeof(sub), "%s/%.2s", dir, key);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        aie_errf(err, errlen, "cache %s: %s", dir, strerror(errno));
        return aie_error_from_errno(errno);
    }
    if (mkdir(sub, 0755) != 0 && errno != EEXIST) {
        aie_errf(err, errlen, "cache %s: %s", sub, strerror(errno));
        return aie_error_from_errno(errno);
    }
    entry_path(entry, sizeof(entry), dir, key, output);
    return place(output, entry, err, errlen);
}
