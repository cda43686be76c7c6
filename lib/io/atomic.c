/* Temp-then-rename output files (DECISIONS.md "Outputs"). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

void io_split_path(const char *path, char *dir, size_t dn, const char **base)
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

/* Remove ".BASE.aie-PID.tmp" files left by runs that died. */
void io_remove_stale_temps(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char prefix[NAME_MAX + 8];
    snprintf(prefix, sizeof(prefix), ".%s.aie-", base);
    size_t pl = strlen(prefix);
    struct dirent *e;
    /* readdir_r is deprecated; a stream read by one thread is safe */
    while ((e = readdir(d))) { /* cppcheck-suppress readdirCalled */
        if (strncmp(e->d_name, prefix, pl))
            continue;
        char *end;
        long pid = strtol(e->d_name + pl, &end, 10);
        if (pid <= 0 || strcmp(end, ".tmp"))
            continue;
        if (pid == (long)getpid() || !pid_gone(pid))
            continue;
        char full[PATH_MAX];
        if (snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) < (int)sizeof(full))
            unlink(full);
    }
    closedir(d);
}

int atomic_prepare(AtomicOut *a, const char *path, const char *in_path, int no_clobber, char *err,
                   size_t errlen)
{
    memset(a, 0, sizeof(*a));
    if (strlen(path) >= sizeof(a->path) - 32) {
        io_errf(err, errlen, "%s: name too long", path);
        return AIE_EINVAL;
    }
    snprintf(a->path, sizeof(a->path), "%s", path);
    if (!strcmp(path, "-") || !strncmp(path, "pipe:", 5)) {
        a->direct = 1;
        return 0;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && in_path && strcmp(in_path, "-")) {
        struct stat ist;
        if (stat(in_path, &ist) == 0 && ist.st_dev == st.st_dev && ist.st_ino == st.st_ino) {
            io_errf(err, errlen, "%s: output is the same file as the input", path);
            return AIE_ESAME;
        }
    }
    if (exists && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            io_errf(err, errlen, "%s: is a directory", path);
            return AIE_EINVAL;
        }
        a->direct = 1; /* device, FIFO, socket: write in place */
        return 0;
    }
    if (exists && no_clobber) {
        io_errf(err, errlen, "%s: exists (--no-clobber)", path);
        return AIE_EEXIST;
    }
    char dir[PATH_MAX];
    const char *base;
    io_split_path(path, dir, sizeof(dir), &base);
    if (!*base) {
        io_errf(err, errlen, "%s: not a file name", path);
        return AIE_EINVAL;
    }
    struct stat dst;
    if (stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
        io_errf(err, errlen, "%s: no such directory '%s'", path, dir);
        return AIE_ENOTDIR;
    }
    if (access(dir, W_OK) != 0) {
        io_errf(err, errlen, "%s: cannot write to directory '%s': %s", path, dir, strerror(errno));
        return AIE_EACCES;
    }
    if (exists && access(path, W_OK) != 0 && errno == EROFS) {
        io_errf(err, errlen, "%s: read-only file system", path);
        return AIE_EACCES;
    }
    io_remove_stale_temps(dir, base);
    int n = snprintf(a->tmp, sizeof(a->tmp), "%s/.%s.aie-%ld.tmp", strcmp(dir, "/") ? dir : "",
                     base, (long)getpid());
    if (n < 0 || n >= (int)sizeof(a->tmp)) {
        io_errf(err, errlen, "%s: name too long", path);
        return AIE_EINVAL;
    }
    return 0;
}

const char *atomic_target(AtomicOut *a)
{
    if (a->direct)
        return a->path;
    a->active = 1;
    return a->tmp;
}

int atomic_commit(AtomicOut *a, char *err, size_t errlen)
{
    if (a->direct || !a->active)
        return 0;
    if (rename(a->tmp, a->path) != 0) {
        int e = errno;
        io_errf(err, errlen, "%s: cannot rename into place: %s", a->path, strerror(e));
        atomic_abort(a);
        return aie_error_from_errno(e);
    }
    a->active = 0;
    return 0;
}

void atomic_abort(AtomicOut *a)
{
    if (a->active) {
        unlink(a->tmp);
        a->active = 0;
    }
}
