/* What aie-batch's command line needs from the library: --halt, bounded and
 * interruptible reading of job files and :::: sources, GNU parallel's input
 * source separators, and the --dry-run --json job list. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "batch_internal.h"

int aie_batch_parse_halt(const char *arg, int *halt, int *halt_fail)
{
    static const char *const names[][2] = {{"never", "0"}, {"soon", "1"}, {"now", "2"}};
    size_t n = strcspn(arg, ",");
    *halt_fail = 1;
    *halt = -1;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++)
            if (strlen(names[i][k]) == n && !strncmp(arg, names[i][k], n))
                *halt = i; /* AIE_BATCH_HALT_NEVER, _SOON, _NOW */
    if (*halt < 0)
        return AIE_EINVAL;
    if (arg[n]) {
        char *end;
        if (strncmp(arg + n + 1, "fail=", 5))
            return AIE_EINVAL;
        long v = strtol(arg + n + 6, &end, 10);
        if (end == arg + n + 6 || *end || v < 1 || v > 1000000000)
            return AIE_EINVAL;
        *halt_fail = (int)v;
    }
    return 0;
}

/* Count the text's job lines as it arrives: a line of at most
 * AIE_BATCH_MAX_LINE bytes, at most AIE_BATCH_MAX_JOBS lines that start a
 * command (not blank, not a comment, not a continuation). */
typedef struct Lines {
    size_t start, lines, jobs;
    int has, cont;
} Lines;

static int lines_scan(Lines *s, const char *buf, size_t from, size_t to, const char *name, char *err,
                      size_t errlen)
{
    for (size_t i = from; i < to; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            s->lines++;
            if (s->has > 0 && !s->cont)
                s->jobs++;
            s->cont = i > s->start && buf[i - 1] == '\\';
            s->start = i + 1;
            s->has = 0;
            if (s->jobs > AIE_BATCH_MAX_JOBS) {
                aie_errf(err, errlen, "%s: more than %d jobs", name, AIE_BATCH_MAX_JOBS);
                return AIE_ETOOBIG;
            }
        } else if (!s->has && ch != ' ' && ch != '\t' && ch != '\r') {
            s->has = ch == '#' && !s->cont ? -1 : 1; /* -1: a comment line */
        }
        if (ch != '\n' && i - s->start >= AIE_BATCH_MAX_LINE) {
            aie_errf(err, errlen, "%s:%zu: a line over %d MiB", name, s->lines + 1, AIE_BATCH_MAX_LINE >> 20);
            return AIE_ETOOBIG;
        }
    }
    return 0;
}

static int read_fd(int fd, const char *name, const AieCancel *cancel, int wake_fd, char **out, size_t *len,
                   char *err, size_t errlen)
{
    size_t cap = 65536, n = 0;
    Lines ls = {0};
    char *buf = malloc(cap);
    int e = 0;
    if (!buf)
        return AIE_ENOMEM;
    for (;;) {
        if (cancel && aie_cancel_requested(cancel)) {
            e = AIE_ECANCELLED;
            break;
        }
        if (n + 65536 + 1 > cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                e = AIE_ENOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
        if (poll(pfd, wake_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) {
            e = aie_error_from_errno(errno);
            aie_errf(err, errlen, "%s: %s", name, strerror(errno));
            break;
        }
        if (cancel && aie_cancel_requested(cancel)) {
            e = AIE_ECANCELLED;
            break;
        }
        if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t r = read(fd, buf + n, 65536);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            e = aie_error_from_errno(errno);
            aie_errf(err, errlen, "%s: %s", name, strerror(errno));
            break;
        }
        if (r == 0) {
            buf[n] = 0;
            *out = buf;
            *len = n;
            return 0;
        }
        if ((e = lines_scan(&ls, buf, n, n + (size_t)r, name, err, errlen)))
            break;
        n += (size_t)r;
    }
    free(buf);
    return e;
}

int aie_batch_read_input(const char *name, const AieCancel *cancel, int wake_fd, char **text, size_t *len,
                         char *err, size_t errlen)
{
    int std = !strcmp(name, "-");
    const char *shown = std ? "standard input" : name;
    int fd = std ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int e = 0;
    *text = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "%s: %s", shown, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        e = AIE_EINVAL;
        aie_errf(err, errlen, "%s: %s", shown, strerror(EISDIR));
    } else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        e = AIE_EINVAL;
        aie_errf(err, errlen, "%s: not a regular file or a pipe", shown);
    } else {
        e = read_fd(fd, shown, cancel, wake_fd, text, len, err, errlen);
    }
    if (fd > STDIN_FILENO)
        close(fd);
    return e;
}

int aie_batch_separator(const char *a)
{
    if (strncmp(a, ":::", 3))
        return 0;
    a += 3;
    int files = *a == ':';
    a += files;
    int linked = *a == '+';
    a += linked;
    return *a ? 0 : 1 + files + 2 * linked;
}

void aie_batch_sources_free(AieBatchSources *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->lines[i]);
        free(s->text[i]);
        s->lines[i] = NULL;
        s->text[i] = NULL;
    }
    s->n = 0;
}

int aie_batch_sources_read(AieBatchSources *s, char *const *tok, int ntok, const AieCancel *cancel,
                           int wake_fd, char *err, size_t errlen)
{
    int kind = 0;
    for (int i = 0; i < ntok; i++) {
        int k = aie_batch_separator(tok[i]);
        if (k) {
            kind = k;
            if (i + 1 == ntok || aie_batch_separator(tok[i + 1])) {
                aie_errf(err, errlen, "'%s' is followed by no %s", tok[i], k == 2 || k == 4 ? "file" : "value");
                return AIE_EINVAL;
            }
            if (k == 1 || k == 3) {
                if (s->n == AIE_BATCH_MAX_SOURCES)
                    goto too_many;
                s->src[s->n++] = (AieBatchSource){(const char *const *)tok + i + 1, 0, k == 3};
            }
            continue;
        }
        if (kind == 1 || kind == 3) {
            s->src[s->n - 1].n++;
            continue;
        }
        /* a :::: file: its lines are one source */
        if (s->n == AIE_BATCH_MAX_SOURCES)
            goto too_many;
        size_t len;
        int at = s->n, n = 0, e;
        if ((e = aie_batch_read_input(tok[i], cancel, wake_fd, &s->text[at], &len, err, errlen)))
            return e == AIE_EINVAL ? AIE_EIO : e; /* a file that cannot be read is not bad usage */
        s->n++;
        if (aie_batch_lines(s->text[at], len, &s->lines[at], &n))
            return AIE_ENOMEM;
        if (n == 0) {
            aie_errf(err, errlen, "%s: no arguments in it (an input source after ::::)", tok[i]);
            return AIE_EEMPTY;
        }
        s->src[at] = (AieBatchSource){s->lines[at], n, kind == 4};
    }
    return 0;
too_many:
    aie_errf(err, errlen, "more than %d input sources", AIE_BATCH_MAX_SOURCES);
    return AIE_EINVAL;
}

static json_object *strings(char *const *v, int n)
{
    json_object *a = json_object_new_array();
    for (int k = 0; k < n; k++)
        json_object_array_add(a, json_object_new_string(v[k]));
    return a;
}

char *aie_batch_list_json(const AieBatchList *l, const unsigned char *skip)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        if (skip && skip[i])
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "seq", json_object_new_int(j->seq));
        json_object_object_add(o, "line", json_object_new_int(j->line));
        json_object_object_add(o, "cmd", json_object_new_string(j->cmd));
        json_object_object_add(o, "argv", strings(j->argv, j->argc));
        json_object_object_add(o, "inputs", strings(j->inputs, j->ninputs));
        json_object_object_add(o, "outputs", strings(j->outputs, j->noutputs));
        if (j->nchunks) {
            json_object_object_add(o, "chunk", json_object_new_int(j->chunk));
            json_object_object_add(o, "chunks", json_object_new_int(j->nchunks));
            json_object_object_add(o, "frames_first", json_object_new_int64(j->first));
            json_object_object_add(o, "frames_last", json_object_new_int64(j->last));
        }
        if (j->group >= 0)
            json_object_object_add(o, "join_output", json_object_new_string(l->groups[j->group].output));
        if (j->cache_key)
            json_object_object_add(o, "cache_key", json_object_new_string(j->cache_key));
        json_object_array_add(a, o);
    }
    const char *t = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    char *s = t ? strdup(t) : NULL;
    json_object_put(a);
    return s;
}
