/* Output files: temp-then-rename with O_EXCL|O_NOFOLLOW temporaries, atomic
 * no-clobber, stale-temp cleanup (lib/aie/fs.h, DECISIONS.md "Outputs"). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"

struct AieFsOut {
    char path[PATH_MAX];
    char dir[PATH_MAX];
    char tmpname[NAME_MAX + 1]; /* in dir; "" when direct or gone */
    char tmp[PATH_MAX];         /* dir/tmpname, for messages and last-resort cleanup */
    const char *base;           /* in path */
    int fd, dirfd;
    int direct, is_stdout, seekable, no_clobber;
    dev_t dev;                  /* of the temporary file we created */
    ino_t ino;
};

int aie_fs_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int aie_fs_copy_fd(int to, int from, int64_t len)
{
    while (len > 0) {
        ssize_t n = sendfile(to, from, NULL, len > (1 << 30) ? (1 << 30) : (size_t)len);
        if (n > 0) {
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return 0; /* the source ended early */
        if (errno == EPIPE)
            return -EPIPE;
        break; /* sendfile cannot write there: copy */
    }
    char buf[65536];
    while (len > 0) {
        ssize_t n = read(from, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : 0;
        int e = aie_fs_write_all(to, buf, (size_t)n);
        if (e)
            return e;
        len -= n;
    }
    return 0;
}

void aie_fs_split_path(const char *path, char *dir, size_t dn, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dn, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dn, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dn, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

/* The process is gone, or a zombie not reaped yet (it writes no more): a
 * run resumed right after a kill must not take its temp for a live one's. */
static int pid_gone(long pid)
{
    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    char p[64], buf[512];
    snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')'); /* "PID (COMM) STATE ..." */
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Is name ".BASE.aie-PID.tmp" or ".BASE.aie-PID.XXXXXX.tmp"? *pid gets PID. */
static int temp_name_pid(const char *name, const char *prefix, size_t pl, long *pid)
{
    if (strncmp(name, prefix, pl))
        return 0;
    char *end;
    errno = 0;
    long v = strtol(name + pl, &end, 10);
    if (errno || v <= 0 || end == name + pl)
        return 0;
    if (strcmp(end, ".tmp")) {
        if (*end != '.' || strlen(end) != 1 + 6 + 4 || strcmp(end + 7, ".tmp"))
            return 0;
        for (int i = 1; i <= 6; i++)
            if (!((end[i] >= 'a' && end[i] <= 'z') || (end[i] >= 'A' && end[i] <= 'Z') ||
                  (end[i] >= '0' && end[i] <= '9')))
                return 0;
    }
    *pid = v;
    return 1;
}

static void remove_stale(int dfd, const char *base)
{
    int fd2 = dup(dfd); /* fdopendir takes its descriptor */
    if (fd2 < 0)
        return;
    /* an O_PATH descriptor cannot be read: open the directory itself */
    int rfd = openat(fd2, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd2);
    if (rfd < 0)
        return;
    DIR *d = fdopendir(rfd);
    if (!d) {
        close(rfd);
        return;
    }
    char prefix[NAME_MAX + 8];
    snprintf(prefix, sizeof(prefix), ".%s.aie-", base);
    size_t pl = strlen(prefix);
    uid_t me = geteuid();
    struct dirent *e;
    /* readdir_r is deprecated; a stream read by one thread is safe */
    while ((e = readdir(d))) { /* cppcheck-suppress readdirCalled */
        long pid;
        if (!temp_name_pid(e->d_name, prefix, pl, &pid))
            continue;
        if (pid == (long)getpid() || !pid_gone(pid))
            continue;
        struct stat st;
        /* only regular files of ours: never a link or someone else's file */
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_uid != me)
            continue;
        unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

void aie_fs_remove_stale_temps(const char *dir, const char *base)
{
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    remove_stale(dfd, base);
    close(dfd);
}

/* Create the temporary file in o->dirfd with O_EXCL|O_NOFOLLOW: the
 * predictable name first, then random ones. */
static int create_temp(AieFsOut *o, char *err, size_t errlen)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    long pid = (long)getpid();
    for (int attempt = 0; attempt < 100; attempt++) {
        int n;
        if (attempt == 0) {
            n = snprintf(o->tmpname, sizeof(o->tmpname), ".%s.aie-%ld.tmp", o->base, pid);
        } else {
            unsigned char r[6];
            if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
                for (int i = 0; i < 6; i++) /* no entropy: still unpredictable enough to retry */
                    r[i] = (unsigned char)(random() >> 3);
            }
            char x[7];
            for (int i = 0; i < 6; i++)
                x[i] = alnum[r[i] % (sizeof(alnum) - 1)];
            x[6] = 0;
            n = snprintf(o->tmpname, sizeof(o->tmpname), ".%s.aie-%ld.%s.tmp", o->base, pid, x);
        }
        if (n < 0 || n >= (int)sizeof(o->tmpname)) {
            aie_errf(err, errlen, "%s: name too long", o->path);
            o->tmpname[0] = 0;
            return AIE_EINVAL;
        }
        int fd = openat(o->dirfd, o->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EINTR) {
            attempt--;
            continue;
        }
        if (fd < 0 && errno == EEXIST)
            continue; /* planted, or our own earlier output in this process: another name */
        if (fd < 0) {
            int e = errno;
            aie_errf(err, errlen, "%s: cannot create a temporary file in %s: %s", o->path, o->dir, strerror(e));
            o->tmpname[0] = 0;
            return aie_error_from_errno(e);
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd);
            unlinkat(o->dirfd, o->tmpname, 0);
            o->tmpname[0] = 0;
            aie_errf(err, errlen, "%s: %s", o->path, strerror(e));
            return aie_error_from_errno(e);
        }
        o->fd = fd;
        o->dev = st.st_dev;
        o->ino = st.st_ino;
        if (snprintf(o->tmp, sizeof(o->tmp), "%s/%s", strcmp(o->dir, "/") ? o->dir : "", o->tmpname) >=
            (int)sizeof(o->tmp))
            o->tmp[0] = 0; /* the path is for messages only: the file is reached through dirfd */
        return 0;
    }
    aie_errf(err, errlen, "%s: cannot create a temporary file in %s: every name tried exists", o->path, o->dir);
    o->tmpname[0] = 0;
    return AIE_EEXIST;
}

/* Does the temporary name still refer to the file we created? */
static int temp_is_ours(const AieFsOut *o)
{
    struct stat st;
    return o->tmpname[0] && fstatat(o->dirfd, o->tmpname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           st.st_dev == o->dev && st.st_ino == o->ino;
}

int aie_fs_out_open(AieFsOut **out, const char *path, const AieFsOutOpts *opts, char *err, size_t errlen)
{
    *out = NULL;
    if (!path || !*path) {
        aie_errf(err, errlen, "no output file name");
        return AIE_EINVAL;
    }
    AieFsOutOpts none = {0};
    if (!opts)
        opts = &none;
    AieFsOut *o = calloc(1, sizeof(*o));
    if (!o)
        return AIE_ENOMEM;
    o->fd = o->dirfd = -1;
    o->no_clobber = opts->no_clobber;
    int rc = AIE_EINVAL;
    if (strlen(path) >= sizeof(o->path) - 32) {
        aie_errf(err, errlen, "%s: name too long", path);
        goto fail;
    }
    snprintf(o->path, sizeof(o->path), "%s", path);
    if (!strcmp(path, "-")) {
        o->is_stdout = o->direct = 1;
        o->fd = STDOUT_FILENO;
        o->seekable = lseek(STDOUT_FILENO, 0, SEEK_CUR) >= 0;
        goto done;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        aie_errf(err, errlen, "%s: is a directory", path);
        goto fail;
    }
    for (int i = 0; exists && i < opts->ninputs; i++) {
        struct stat is;
        const char *in = opts->inputs[i];
        if (in && strcmp(in, "-") && stat(in, &is) == 0 && is.st_dev == st.st_dev && is.st_ino == st.st_ino) {
            aie_errf(err, errlen, "%s: output is the same file as the input", path);
            rc = AIE_ESAME;
            goto fail;
        }
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* a device, FIFO or socket: written in place. A FIFO with no reader
         * would block the open forever: a run is then ended by a signal. */
        o->direct = 1;
        int dfd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (dfd < 0) {
            int e = errno;
            rc = aie_error_from_errno(e);
            aie_errf(err, errlen, "%s: %s", path, strerror(e));
            goto fail;
        }
        o->fd = dfd;
        o->seekable = S_ISBLK(st.st_mode) || (!S_ISFIFO(st.st_mode) && lseek(dfd, 0, SEEK_CUR) >= 0 &&
                                              !S_ISCHR(st.st_mode));
        goto done;
    }
    if (exists && opts->no_clobber) {
        aie_errf(err, errlen, "%s: exists (--no-clobber)", path);
        rc = AIE_EEXIST;
        goto fail;
    }
    aie_fs_split_path(o->path, o->dir, sizeof(o->dir), &o->base);
    if (!*o->base || !strcmp(o->base, ".") || !strcmp(o->base, "..")) {
        aie_errf(err, errlen, "%s: not a file name", path);
        goto fail;
    }
    struct stat ds;
    if (stat(o->dir, &ds) != 0 || !S_ISDIR(ds.st_mode)) {
        aie_errf(err, errlen, "%s: no such directory '%s'", path, o->dir);
        rc = AIE_ENOTDIR;
        goto fail;
    }
    if (access(o->dir, W_OK) != 0) {
        int e = errno;
        aie_errf(err, errlen, "%s: cannot write to directory '%s': %s", path, o->dir, strerror(e));
        rc = e == EROFS ? AIE_EACCES : aie_error_from_errno(e);
        if (rc == AIE_ENOENT)
            rc = AIE_EACCES;
        goto fail;
    }
    if ((o->dirfd = open(o->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int e = errno;
        aie_errf(err, errlen, "%s: %s: %s", path, o->dir, strerror(e));
        rc = aie_error_from_errno(e);
        goto fail;
    }
    remove_stale(o->dirfd, o->base);
    if ((rc = create_temp(o, err, errlen)))
        goto fail;
    if (exists)
        (void)fchmod(o->fd, st.st_mode & 07777); /* our descriptor: never a path someone else made */
    o->seekable = 1;
done:
    *out = o;
    return 0;
fail:
    aie_fs_out_abort(&o);
    return rc;
}

int aie_fs_out_fd(const AieFsOut *o) { return o ? o->fd : -1; }
int aie_fs_out_direct(const AieFsOut *o) { return o && o->direct; }
int aie_fs_out_seekable(const AieFsOut *o) { return o && o->seekable; }
const char *aie_fs_out_path(const AieFsOut *o) { return o ? o->path : ""; }
const char *aie_fs_out_temp(const AieFsOut *o) { return o && o->tmpname[0] ? o->tmp : ""; }

static int close_fd(AieFsOut *o)
{
    int fd = o->fd;
    o->fd = -1;
    if (fd < 0 || o->is_stdout)
        return 0;
    if (close(fd) != 0 && errno != EINTR)
        return -errno;
    return 0;
}

static int stream_err(int e)
{
    return e == EPIPE ? AIE_EPIPE : e == ENOSPC || e == EDQUOT ? AIE_ENOSPC : aie_error_from_errno(e);
}

/* Put the temporary file in place. With no_clobber the target must not exist
 * at that instant: RENAME_NOREPLACE, else (a file system without it) a hard
 * link, which fails with EEXIST the same way, then the temporary name goes. */
static int put_in_place(AieFsOut *o)
{
    if (!o->no_clobber)
        return renameat(o->dirfd, o->tmpname, o->dirfd, o->base) == 0 ? 0 : -errno;
    if (renameat2(o->dirfd, o->tmpname, o->dirfd, o->base, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -errno;
    if (linkat(o->dirfd, o->tmpname, o->dirfd, o->base, 0) != 0)
        return -errno;
    unlinkat(o->dirfd, o->tmpname, 0);
    return 0;
}

int aie_fs_out_commit(AieFsOut **po, char *err, size_t errlen)
{
    AieFsOut *o = po ? *po : NULL;
    if (!o)
        return 0;
    int rc = 0;
    if (o->direct) {
        int e = close_fd(o);
        if (e) {
            rc = stream_err(-e);
            aie_errf(err, errlen, "%s: %s", o->is_stdout ? "standard output" : o->path, strerror(-e));
        }
        goto out;
    }
    if (fsync(o->fd) != 0 && errno != EINVAL) {
        int e = errno;
        rc = stream_err(e);
        aie_errf(err, errlen, "%s: %s", o->path, strerror(e));
        goto out;
    }
    int e = close_fd(o);
    if (e) {
        rc = stream_err(-e);
        aie_errf(err, errlen, "%s: %s", o->path, strerror(-e));
        goto out;
    }
    if (!temp_is_ours(o)) {
        /* someone replaced or removed our temporary file: put nothing in place */
        aie_errf(err, errlen, "%s: the temporary file %s was replaced or removed by someone else; output not written",
                 o->path, o->tmp);
        o->tmpname[0] = 0; /* not ours: never remove it */
        rc = AIE_EIO;
        goto out;
    }
    if ((e = put_in_place(o))) {
        if (e == -EEXIST && o->no_clobber) {
            aie_errf(err, errlen, "%s: appeared meanwhile (--no-clobber); output not replaced", o->path);
            rc = AIE_EEXIST;
        } else {
            aie_errf(err, errlen, "%s: cannot rename into place: %s", o->path, strerror(-e));
            rc = aie_error_from_errno(-e);
        }
        goto out;
    }
    o->tmpname[0] = 0;
out:
    aie_fs_out_abort(po);
    return rc;
}

void aie_fs_out_abort(AieFsOut **po)
{
    AieFsOut *o = po ? *po : NULL;
    if (!o)
        return;
    *po = NULL;
    close_fd(o);
    if (o->tmpname[0] && temp_is_ours(o))
        unlinkat(o->dirfd, o->tmpname, 0);
    if (o->dirfd >= 0)
        close(o->dirfd);
    free(o);
}
