/* GNU parallel's joblog: written as each job ends, read back for resuming. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "batch_internal.h"

struct AieBatchJoblog {
    int fd;
    char *path;
    int last_errno;
};

static const char header[] = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

static int write_all(int fd, const char *s, size_t n, int *err_no)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            *err_no = errno;
            return aie_error_from_errno(errno);
        }
        if (w == 0) {
            *err_no = EIO;
            return AIE_EIO;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int aie_batch_joblog_open(AieBatchJoblog **out, const char *path, int append, char *err,
                          size_t errlen)
{
    AieBatchJoblog *j = calloc(1, sizeof(*j));
    int e = 0;
    if (!j)
        return AIE_ENOMEM;
    j->fd = -1;
    if (!(j->path = strdup(path))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
    if (j->fd < 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "joblog %s: %s", path, strerror(errno));
        goto fail;
    }
    /* the header once, even with several appenders starting together */
    struct stat st;
    while (flock(j->fd, LOCK_EX) < 0 && errno == EINTR)
        ;
    if (fstat(j->fd, &st) == 0 && (st.st_size == 0 || !S_ISREG(st.st_mode)))
        e = write_all(j->fd, header, sizeof(header) - 1, &j->last_errno);
    flock(j->fd, LOCK_UN);
    if (e) {
        aie_errf(err, errlen, "joblog %s: %s", path, strerror(j->last_errno));
        goto fail;
    }
    *out = j;
    return 0;
fail:
    aie_batch_joblog_close(&j);
    return e;
}

int aie_batch_joblog_write(AieBatchJoblog *j, int seq, double start, double runtime, int exitval,
                           int signal, const char *cmd)
{
    Buf b = {0};
    int e;
    aie_buf_printf(&b, "%d\t:\t%.3f\t%10.3f\t0\t0\t%d\t%d\t", seq, start, runtime, exitval, signal);
    /* newlines would break the line format: GNU writes them as NUL bytes */
    size_t at = b.len;
    aie_buf_puts(&b, cmd);
    for (size_t i = at; i < b.len; i++)
        if (b.s[i] == '\n')
            b.s[i] = 0;
    aie_buf_putc(&b, '\n');
    if (b.oom) {
        aie_buf_free(&b);
        return AIE_ENOMEM;
    }
    /* one write() on an O_APPEND descriptor: lines of concurrent writers stay whole */
    e = write_all(j->fd, b.s, b.len, &j->last_errno);
    aie_buf_free(&b);
    return e;
}

const char *aie_batch_joblog_error(const AieBatchJoblog *j)
{
    return j->last_errno ? strerror(j->last_errno) : "no error";
}

void aie_batch_joblog_close(AieBatchJoblog **jp)
{
    AieBatchJoblog *j = *jp;
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
    *jp = NULL;
}

void aie_batch_joblog_clear(AieBatchLog *log)
{
    for (int i = 0; i < log->n; i++)
        free(log->e[i].cmd);
    free(log->e);
    log->e = NULL;
    log->n = 0;
}

/* Parse a decimal integer field; returns the end or NULL. */
static const char *int_field(const char *s, const char *end, int *v)
{
    char *e;
    errno = 0;
    long x = strtol(s, &e, 10);
    if (e == s || e > end || errno || x < -2147483647L || x > 2147483647L)
        return NULL;
    *v = (int)x;
    return e;
}

int aie_batch_joblog_read(const char *path, AieBatchLog *log, char *err, size_t errlen)
{
    int e = 0, cap = 0, fd = -1, lineno = 0;
    char *text = NULL;
    size_t len = 0, tcap = 0;
    log->e = NULL;
    log->n = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        aie_errf(err, errlen, "joblog %s: %s", path, strerror(errno));
        return aie_error_from_errno(errno);
    }
    for (;;) {
        if (len + 65536 > tcap) {
            tcap = tcap ? tcap * 2 : 65536 * 2;
            char *p = realloc(text, tcap);
            if (!p) {
                e = AIE_ENOMEM;
                goto fail;
            }
            text = p;
        }
        ssize_t n = read(fd, text + len, tcap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            aie_errf(err, errlen, "joblog %s: %s", path, strerror(errno));
            e = aie_error_from_errno(errno);
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    size_t pos = 0;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos, *lim = text + end;
        lineno++;
        if (!nl) /* a line cut by a crash mid-write: the job did not finish */
            break;
        pos = end + 1;
        if (lineno == 1 && !strncmp(s, "Seq\t", 4))
            continue;
        if (end == (size_t)(s - text))
            continue;
        /* Seq Host Starttime JobRuntime Send Receive Exitval Signal Command */
        const char *f[9];
        int nf = 0;
        f[nf++] = s;
        for (const char *p = s; p < lim && nf < 9; p++)
            if (*p == '\t')
                f[nf++] = p + 1;
        AieBatchLogEntry en = {0};
        if (nf < 9 || !int_field(f[0], lim, &en.seq) || !int_field(f[6], lim, &en.exitval) ||
            !int_field(f[7], lim, &en.signal) || en.seq < 1) {
            aie_errf(err, errlen, "joblog %s:%d: not a joblog line (Seq Host Starttime JobRuntime "
                     "Send Receive Exitval Signal Command)", path, lineno);
            e = AIE_EFORMAT;
            goto fail;
        }
        size_t cl = (size_t)(lim - f[8]);
        if (!(en.cmd = malloc(cl + 1))) {
            e = AIE_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < cl; i++)
            en.cmd[i] = f[8][i] ? f[8][i] : '\n';
        en.cmd[cl] = 0;
        if (log->n == cap) {
            cap = cap ? cap * 2 : 256;
            AieBatchLogEntry *q = realloc(log->e, (size_t)cap * sizeof(*q));
            if (!q) {
                free(en.cmd);
                e = AIE_ENOMEM;
                goto fail;
            }
            log->e = q;
        }
        log->e[log->n++] = en;
    }
    free(text);
    close(fd);
    return 0;
fail:
    free(text);
    close(fd);
    aie_batch_joblog_clear(log);
    return e;
}

/* ---- matching jobs by command text ---- */

typedef struct Count {
    const char *cmd;
    int n;
} Count;

static int cmp_count(const void *a, const void *b)
{
    return strcmp(((const Count *)a)->cmd, ((const Count *)b)->cmd);
}

int aie_batch_resume(const AieBatchList *l, const AieBatchLog *log, int mode, unsigned char *skip)
{
    Count *c = calloc((size_t)log->n + 1, sizeof(*c));
    int n = 0, marked = 0;
    if (!c)
        return AIE_ENOMEM;
    for (int i = 0; i < log->n; i++) {
        const AieBatchLogEntry *e = &log->e[i];
        if (mode == AIE_BATCH_RESUME_FAILED && (e->exitval != 0 || e->signal != 0))
            continue;
        c[n++] = (Count){e->cmd, 1};
    }
    qsort(c, (size_t)n, sizeof(*c), cmp_count);
    int m = 0; /* merge duplicates into counts */
    for (int i = 0; i < n; i++) {
        if (m && !strcmp(c[m - 1].cmd, c[i].cmd))
            c[m - 1].n++;
        else
            c[m++] = c[i];
    }
    for (int i = 0; i < l->n; i++) {
        Count key = {l->jobs[i].cmd, 0};
        Count *hit = m ? bsearch(&key, c, (size_t)m, sizeof(*c), cmp_count) : NULL;
        if (hit && hit->n > 0) {
            hit->n--;
            if (!skip[i]) {
                skip[i] = 1;
                marked++;
            }
        }
    }
    free(c);
    return marked;
}

int aie_batch_retry_list(AieBatchList *l, const AieBatchLog *log, char *err, size_t errlen)
{
    int maxseq = 0, e = 0;
    for (int i = 0; i < log->n; i++)
        if (log->e[i].seq > maxseq)
            maxseq = log->e[i].seq;
    int *last = calloc((size_t)maxseq + 1, sizeof(*last));
    if (!last)
        return AIE_ENOMEM;
    for (int i = 0; i < log->n; i++)
        last[log->e[i].seq] = i + 1;
    for (int s = 1; s <= maxseq; s++) {
        if (!last[s])
            continue;
        const AieBatchLogEntry *en = &log->e[last[s] - 1];
        if (en->exitval == 0 && en->signal == 0)
            continue;
        if ((e = aie_batch_add_command(l, en->cmd, s, err, errlen)))
            break;
    }
    free(last);
    return e;
}
