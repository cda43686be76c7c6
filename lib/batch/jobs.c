/* Job lists: job files, templates, declared inputs and outputs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "batch_internal.h"

int aie_batch_list_create(AieBatchList **out, int shell)
{
    AieBatchList *l = calloc(1, sizeof(*l));
    if (!l)
        return AIE_ENOMEM;
    l->shell = shell;
    *out = l;
    return 0;
}

void aie_job_free(AieBatchJob *j)
{
    aie_batch_words_free(&j->argv);
    aie_batch_words_free(&j->inputs);
    aie_batch_words_free(&j->outputs);
    free(j->cmd);
    free(j->cache_key);
    memset(j, 0, sizeof(*j));
}

void aie_batch_list_free(AieBatchList **lp)
{
    AieBatchList *l = *lp;
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        aie_job_free(&l->jobs[i]);
    for (int g = 0; g < l->ngroups; g++) {
        free(l->groups[g].output);
        free(l->groups[g].source);
    }
    free(l->jobs);
    free(l->groups);
    free(l);
    *lp = NULL;
}

const char *aie_job_tool_name(char *const *argv)
{
    if (!argv || !argv[0])
        return NULL;
    const char *b = strrchr(argv[0], '/');
    return b ? b + 1 : argv[0];
}

int aie_job_is_aie_tool(char *const *argv)
{
    const char *t = aie_job_tool_name(argv);
    return t && !strncmp(t, "aie-", 4) && strcmp(t, "aie-batch") != 0 && t[4];
}

static int add_str(char ***v, int *n, const char *s)
{
    char **p = realloc(*v, (size_t)(*n + 2) * sizeof(*p));
    if (!p)
        return AIE_ENOMEM;
    *v = p;
    if (!(p[*n] = strdup(s)))
        return AIE_ENOMEM;
    (*n)++;
    p[*n] = NULL;
    return 0;
}

/* Value of an option word at argv[*i]: "-o X", "-oX", "--output X",
 * "--output=X". Returns the value or NULL; advances *i past it. */
static const char *opt_value(char **argv, int *i, char s, const char *l)
{
    const char *w = argv[*i];
    size_t ll = strlen(l);
    if (w[0] == '-' && w[1] == s) {
        if (w[2])
            return w + 2;
        if (argv[*i + 1]) {
            (*i)++;
            return argv[*i];
        }
        return NULL;
    }
    if (w[0] == '-' && w[1] == '-' && !strncmp(w + 2, l, ll)) {
        if (w[2 + ll] == '=')
            return w + 3 + ll;
        if (!w[2 + ll] && argv[*i + 1]) {
            (*i)++;
            return argv[*i];
        }
    }
    return NULL;
}

int aie_job_declared(AieBatchJob *j)
{
    aie_batch_words_free(&j->inputs);
    aie_batch_words_free(&j->outputs);
    j->ninputs = j->noutputs = 0;
    j->has_frames = j->no_audio = j->threads = 0;
    if (!aie_job_is_aie_tool(j->argv) || !j->simple)
        return 0;
    for (int i = 1; i < j->argc; i++) {
        const char *w = j->argv[i], *v;
        if (!strcmp(w, "--"))
            break;
        if (!strcmp(w, "--no-audio") || !strcmp(w, "--audio=drop") ||
            (!strcmp(w, "--audio") && i + 1 < j->argc && !strcmp(j->argv[i + 1], "drop")))
            j->no_audio = 1; /* --audio drop is --no-audio */
        if (!strncmp(w, "--frames", 8) && (w[8] == 0 || w[8] == '='))
            j->has_frames = 1;
        if (w[0] != '-' || w[1] == 0)
            continue;
        int k = i;
        if ((v = opt_value(j->argv, &k, 'i', "input"))) {
            if (add_str(&j->inputs, &j->ninputs, v))
                return AIE_ENOMEM;
            i = k;
        } else if ((v = opt_value(j->argv, &k, 'o', "output"))) {
            if (add_str(&j->outputs, &j->noutputs, v))
                return AIE_ENOMEM;
            i = k;
        } else if ((v = opt_value(j->argv, &k, 'j', "threads"))) {
            char *end;
            long t = strtol(v, &end, 10);
            if (end != v && !*end && t > 0 && t <= 100000)
                j->threads = (int)t;
            i = k;
        }
    }
    return 0;
}

int aie_list_add(AieBatchList *l, char **words, int nwords, char *cmd, int line, int special)
{
    int e = 0;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        AieBatchJob *p = realloc(l->jobs, (size_t)nc * sizeof(*p));
        if (!p) {
            e = AIE_ENOMEM;
            goto fail;
        }
        l->jobs = p;
        l->cap = nc;
    }
    AieBatchJob *j = &l->jobs[l->n];
    memset(j, 0, sizeof(*j));
    j->argv = words;
    j->argc = nwords;
    j->cmd = cmd;
    j->line = line;
    j->simple = l->shell ? !special : 1;
    j->group = -1;
    j->seq = l->n + 1;
    l->n++;
    if ((e = aie_job_declared(j)))
        return e;
    return 0;
fail:
    aie_batch_words_free(&words);
    free(cmd);
    return e;
}

/* Trimmed copy of text[a..b) for a shell command. */
static char *trimmed(const char *t, size_t a, size_t b)
{
    while (a < b && strchr(" \t\r\n", t[a]))
        a++;
    while (b > a && strchr(" \t\r\n", t[b - 1]))
        b--;
    char *s = malloc(b - a + 1);
    if (s) {
        memcpy(s, t + a, b - a);
        s[b - a] = 0;
    }
    return s;
}

int aie_batch_parse(AieBatchList *l, const char *text, size_t len, const char *name, char *err,
                    size_t errlen)
{
    size_t pos = 0;
    int line = 1, e = 0;
    /* a NUL anywhere would silently cut a word short: refuse the file */
    const char *nul = len ? memchr(text, 0, len) : NULL;
    if (nul) {
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        aie_errf(err, errlen, "%s:%d: a NUL byte (not a text file?)", name, line);
        return AIE_EINVAL;
    }
    while (pos < len) {
        size_t start = pos;
        int first = line, n, special;
        char **w = NULL, *cmd = NULL;
        if ((e = aie_words_next(text, len, &pos, &line, &w, &n, &special, err, errlen, name)))
            return e;
        if (n == 0) {
            aie_batch_words_free(&w);
            continue;
        }
        if (l->n >= AIE_BATCH_MAX_JOBS) {
            aie_batch_words_free(&w);
            aie_errf(err, errlen, "%s:%d: more than %d jobs", name, first, AIE_BATCH_MAX_JOBS);
            return AIE_EINVAL;
        }
        if (l->shell) {
            /* the line as written (a trailing comment is the shell's business) */
            size_t end = pos;
            cmd = trimmed(text, start, end);
        } else {
            cmd = aie_words_join(w);
        }
        if (!cmd) {
            aie_batch_words_free(&w);
            return AIE_ENOMEM;
        }
        if ((e = aie_list_add(l, w, n, cmd, first, special)))
            return e;
    }
    return 0;
}

int aie_batch_add_command(AieBatchList *l, const char *cmd, int seq, char *err, size_t errlen)
{
    char **w = NULL, *c = NULL;
    int n, special, line = 0, e;
    size_t pos = 0, len = strlen(cmd);
    if (l->shell) {
        /* the log holds the shell line: words only for the declared I/O */
        if ((e = aie_words_next(cmd, len, &pos, &line, &w, &n, &special, err, errlen, "joblog")) &&
            e != AIE_EINVAL)
            return e;
        if (e) {
            special = 1;
            n = 0;
            if (!(w = calloc(1, sizeof(*w))))
                return AIE_ENOMEM;
        }
        special |= pos < len;
        c = strdup(cmd);
    } else {
        if ((e = aie_words_next(cmd, len, &pos, &line, &w, &n, &special, err, errlen, "joblog")))
            return e;
        if (n == 0) {
            aie_batch_words_free(&w);
            aie_errf(err, errlen, "joblog: job %d has an empty command", seq);
            return AIE_EINVAL;
        }
        c = aie_words_join(w);
    }
    if (!c) {
        aie_batch_words_free(&w);
        return AIE_ENOMEM;
    }
    if ((e = aie_list_add(l, w, n, c, 0, special)))
        return e;
    l->jobs[l->n - 1].seq = seq;
    return 0;
}

/* ---- templates ---- */

/* One replacement string: {}, {.}, {/}, {//}, {/.} (pos 0: all the job's
 * values), {N}, {N.}, {N/}, {N//}, {N/.} (pos N: the Nth input source), {#}. */
typedef struct Rep {
    size_t len;   /* characters of the template it spans, 0 when none */
    int pos;      /* 0 = every value, N >= 1 = source N */
    int seq;      /* {#} */
    char kind[4]; /* "", ".", "/", "//", "/." */
} Rep;

static Rep rep_at(const char *s)
{
    Rep r = {0};
    if (*s != '{')
        return r;
    const char *p = s + 1;
    if (!strncmp(p, "#}", 2)) {
        r.len = 3;
        r.seq = 1;
        return r;
    }
    if (*p >= '1' && *p <= '9') {
        long v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000)
            v = v * 10 + (*p++ - '0');
        r.pos = (int)v;
    }
    static const char *const kinds[] = {"/.", "//", ".", "/", ""};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        size_t n = strlen(kinds[k]);
        if (!strncmp(p, kinds[k], n) && p[n] == '}') {
            r.len = (size_t)(p + n + 1 - s);
            memcpy(r.kind, kinds[k], n + 1);
            return r;
        }
    }
    r.len = 0;
    return r;
}

/* The value of one argument under a replacement kind. */
static void rep_value(Buf *b, const char *kind, const char *arg)
{
    const char *slash = strrchr(arg, '/');
    const char *base = slash ? slash + 1 : arg;
    if (!*kind) {
        aie_buf_puts(b, arg);
    } else if (!strcmp(kind, "/")) {
        aie_buf_puts(b, base);
    } else if (!strcmp(kind, "//")) {
        if (!slash)
            aie_buf_puts(b, ".");
        else if (slash == arg)
            aie_buf_puts(b, "/");
        else
            aie_buf_add(b, arg, (size_t)(slash - arg));
    } else {
        /* . and /.: drop the extension of the last component (GNU: \.[^/.]*$) */
        const char *from = !strcmp(kind, "/.") ? base : arg;
        const char *dot = strrchr(base, '.');
        size_t n = dot ? (size_t)(dot - from) : strlen(from);
        aie_buf_add(b, from, n);
    }
}

/* Growing list of words. */
typedef struct Words {
    char **w;
    int n, cap, oom;
} Words;

static void words_push(Words *ws, Buf *cur)
{
    char *s = aie_buf_take(cur);
    if (!s || ws->oom) {
        free(s);
        ws->oom = 1;
        return;
    }
    if (ws->n + 2 > ws->cap) {
        int nc = ws->cap ? ws->cap * 2 : 16;
        char **p = realloc(ws->w, (size_t)nc * sizeof(*p));
        if (!p) {
            free(s);
            ws->oom = 1;
            return;
        }
        ws->w = p;
        ws->cap = nc;
    }
    ws->w[ws->n++] = s;
    ws->w[ws->n] = NULL;
}

/* Replace in one template word (words != NULL: a value list {} of several
 * sources makes one word per value, as the shell would split parallel's
 * line) or in the whole text (words == NULL: every value shell-quoted,
 * several joined by spaces). */
static void substitute(const char *s, const char *const *vals, int width, int seq, Words *words, Buf *text,
                       int *found)
{
    Buf cur = {0};
    Buf *out = words ? &cur : text;
    while (*s) {
        Rep r = rep_at(s);
        if (!r.len) {
            aie_buf_putc(out, *s++);
            continue;
        }
        *found = 1;
        s += r.len;
        if (r.seq) {
            aie_buf_printf(out, "%d", seq);
            continue;
        }
        int from = r.pos ? r.pos - 1 : 0, to = r.pos ? r.pos : width;
        for (int k = from; k < to; k++) {
            if (k > from) {
                if (words)
                    words_push(words, &cur);
                else
                    aie_buf_putc(out, ' ');
            }
            if (words) {
                rep_value(out, r.kind, vals[k]);
            } else {
                Buf v = {0};
                rep_value(&v, r.kind, vals[k]);
                char *val = aie_buf_take(&v), *q = val ? aie_words_shquote(val) : NULL;
                if (q)
                    aie_buf_puts(out, q);
                else
                    out->oom = 1;
                free(val);
                free(q);
            }
        }
    }
    if (words)
        words_push(words, &cur);
}

/* The highest {N} of a template, 0 when none. */
static int max_pos(const char *s)
{
    int m = 0;
    for (; *s; s++) {
        Rep r = rep_at(s);
        if (r.len && r.pos > m)
            m = r.pos;
    }
    return m;
}

int aie_batch_template_n(AieBatchList *l, const char *tmpl, const char *const *vals, int width, int njobs,
                         char *err, size_t errlen)
{
    char **tw = NULL;
    int ntw, e = 0, special;
    size_t pos = 0;
    int line = 0;
    if (width < 1) {
        aie_errf(err, errlen, "--cmd: no input source");
        return AIE_EINVAL;
    }
    if ((e = aie_words_next(tmpl, strlen(tmpl), &pos, &line, &tw, &ntw, &special, err, errlen, "--cmd")))
        return e;
    if (ntw == 0) {
        aie_errf(err, errlen, "--cmd: the template is empty");
        e = AIE_EINVAL;
        goto done;
    }
    int mp = max_pos(tmpl);
    if (mp > width) {
        aie_errf(err, errlen, "--cmd: the template names {%d}, but there %s only %d input source%s", mp,
                 width == 1 ? "is" : "are", width, width == 1 ? "" : "s");
        e = AIE_EINVAL;
        goto done;
    }
    for (int a = 0; a < njobs; a++) {
        const char *const *v = vals + (size_t)a * (size_t)width;
        int seq = l->n + 1, found = 0;
        Words w = {0};
        char *cmd = NULL;
        for (int k = 0; k < ntw; k++)
            substitute(tw[k], v, width, seq, &w, NULL, &found);
        if (!found) {
            /* no replacement string: the values are appended (GNU parallel) */
            for (int k = 0; k < width; k++) {
                Buf one = {0};
                aie_buf_puts(&one, v[k]);
                words_push(&w, &one);
            }
        }
        if (w.oom) {
            aie_batch_words_free(&w.w);
            e = AIE_ENOMEM;
            goto done;
        }
        if (l->shell) {
            Buf t = {0};
            int f2 = 0;
            substitute(tmpl, v, width, seq, NULL, &t, &f2);
            if (!f2) {
                for (int k = 0; k < width; k++) {
                    char *q = aie_words_shquote(v[k]);
                    aie_buf_putc(&t, ' ');
                    if (q)
                        aie_buf_puts(&t, q);
                    else
                        t.oom = 1;
                    free(q);
                }
            }
            cmd = aie_buf_take(&t);
        } else {
            cmd = aie_words_join(w.w);
        }
        if (!cmd) {
            aie_batch_words_free(&w.w);
            e = AIE_ENOMEM;
            goto done;
        }
        if ((e = aie_list_add(l, w.w, w.n, cmd, a + 1, special)))
            goto done;
    }
done:
    aie_batch_words_free(&tw);
    return e;
}

int aie_batch_template(AieBatchList *l, const char *tmpl, const char *const *args, int nargs,
                       char *err, size_t errlen)
{
    return aie_batch_template_n(l, tmpl, args, 1, nargs, err, errlen);
}

int aie_batch_combine(const AieBatchSource *src, int nsrc, const char ***vals, int *njobs, char *err,
                      size_t errlen)
{
    *vals = NULL;
    *njobs = 0;
    if (nsrc < 1) {
        aie_errf(err, errlen, "no input source");
        return AIE_EINVAL;
    }
    if (src[0].linked) {
        aie_errf(err, errlen, ":::+ needs an input source before it to link to");
        return AIE_EINVAL;
    }
    /* groups of linked sources: a group's length is its shortest member's */
    int glen[AIE_BATCH_MAX_SOURCES], gfirst[AIE_BATCH_MAX_SOURCES + 1], ng = 0;
    if (nsrc > AIE_BATCH_MAX_SOURCES) {
        aie_errf(err, errlen, "more than %d input sources", AIE_BATCH_MAX_SOURCES);
        return AIE_EINVAL;
    }
    for (int s = 0; s < nsrc; s++) {
        if (!src[s].linked) {
            gfirst[ng] = s;
            glen[ng++] = src[s].n;
        } else if (src[s].n < glen[ng - 1]) {
            glen[ng - 1] = src[s].n;
        }
    }
    gfirst[ng] = nsrc;
    double total = 1;
    for (int g = 0; g < ng; g++)
        total *= glen[g];
    if (total > AIE_BATCH_MAX_JOBS) {
        aie_errf(err, errlen, "the input sources make %.0f jobs, more than %d", total, AIE_BATCH_MAX_JOBS);
        return AIE_EINVAL;
    }
    int n = (int)total;
    const char **v = calloc((size_t)n * (size_t)nsrc + 1, sizeof(*v));
    if (!v)
        return AIE_ENOMEM;
    for (int j = 0; j < n; j++) {
        /* the last group changes fastest, as in parallel */
        int rest = j;
        for (int g = ng - 1; g >= 0; g--) {
            int i = rest % glen[g];
            rest /= glen[g];
            for (int s = gfirst[g]; s < gfirst[g + 1]; s++)
                v[(size_t)j * (size_t)nsrc + (size_t)s] = src[s].vals[i];
        }
    }
    *vals = v;
    *njobs = n;
    return 0;
}

int aie_batch_lines(char *text, size_t len, const char ***out, int *n)
{
    int cnt = 0;
    for (size_t i = 0; i < len; i++)
        cnt += text[i] == '\n';
    const char **v = calloc((size_t)cnt + 2, sizeof(*v));
    if (!v)
        return AIE_ENOMEM;
    cnt = 0;
    for (char *p = text, *nl; p < text + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl)
            nl = text + len;
        *nl = 0;
        if (nl > p && nl[-1] == '\r')
            nl[-1] = 0;
        if (*p)
            v[cnt++] = p;
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- paths ---- */

int aie_path_is_pattern(const char *p) { return aie_io_is_pattern(p); }

int aie_path_out_dir(const char *p, char *dir, size_t n)
{
    const char *slash = strrchr(p, '/');
    if (!slash || !strcmp(p, "-") || (size_t)(slash - p) + 1 > n)
        return 0;
    size_t len = (size_t)(slash - p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    if (len == 0)
        return 0; /* "/x": the root */
    memcpy(dir, p, len);
    dir[len] = 0;
    if (!strcmp(dir, ".") || !strcmp(dir, ".."))
        return 0;
    return 1;
}

int aie_path_mkdirs(const char *dir)
{
    char buf[PATH_MAX];
    struct stat st;
    if (strlen(dir) >= sizeof(buf))
        return ENAMETOOLONG;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    snprintf(buf, sizeof(buf), "%s", dir);
    for (char *q = buf + 1; *q; q++) {
        if (*q != '/' || q[-1] == '/')
            continue;
        *q = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            *q = '/';
            return errno;
        }
        *q = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return errno;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return ENOTDIR;
    return 0;
}

int aie_path_is_regular_output(const char *p)
{
    struct stat st;
    if (!strcmp(p, "-"))
        return 0;
    if (stat(p, &st) == 0 && !S_ISREG(st.st_mode))
        return 0;
    return 1;
}

void aie_path_normalise(const char *p, char *out, size_t outlen)
{
    char tmp[PATH_MAX * 2];
    out[0] = 0;
    if (p[0] == '/') {
        snprintf(tmp, sizeof(tmp), "%s", p);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            return;
        snprintf(tmp, sizeof(tmp), "%s/%s", cwd, p);
    }
    /* split off the last component, resolve the directory if it exists */
    char *slash = strrchr(tmp, '/');
    const char *base = slash + 1;
    *slash = 0;
    char dir[PATH_MAX];
    if (realpath(tmp[0] ? tmp : "/", dir)) {
        snprintf(out, outlen, "%s/%s", strcmp(dir, "/") ? dir : "", base);
        return;
    }
    *slash = '/';
    /* lexical: collapse //, /./ and /x/../ */
    char *parts[PATH_MAX / 2];
    int n = 0;
    for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            if (n)
                n--;
            continue;
        }
        if (n < (int)(sizeof(parts) / sizeof(parts[0])))
            parts[n++] = c;
    }
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "/%s", parts[i]);
    if (!n)
        snprintf(out, outlen, "/");
}

typedef struct OutRef {
    char *path;
    int job;
} OutRef;

static int cmp_out(const void *a, const void *b)
{
    const OutRef *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->job > y->job) - (x->job < y->job);
}

int aie_batch_check_outputs(const AieBatchList *l, char *err, size_t errlen)
{
    int n = 0, e = 0;
    for (int i = 0; i < l->n; i++)
        n += l->jobs[i].noutputs;
    if (!n)
        return 0;
    OutRef *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return AIE_ENOMEM;
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        for (int o = 0; o < j->noutputs; o++) {
            if (!aie_path_is_regular_output(j->outputs[o]))
                continue;
            char buf[PATH_MAX * 2];
            aie_path_normalise(j->outputs[o], buf, sizeof(buf));
            if (!(r[k].path = strdup(buf[0] ? buf : j->outputs[o]))) {
                e = AIE_ENOMEM;
                goto done;
            }
            r[k++].job = i;
        }
    }
    qsort(r, (size_t)k, sizeof(*r), cmp_out);
    for (int i = 1; i < k; i++) {
        if (strcmp(r[i].path, r[i - 1].path))
            continue;
        const AieBatchJob *a = &l->jobs[r[i - 1].job], *b = &l->jobs[r[i].job];
        if (a == b)
            aie_errf(err, errlen, "job %d%s writes %s twice", a->seq, "", r[i].path);
        else if (a->line && b->line)
            aie_errf(err, errlen, "jobs %d (line %d) and %d (line %d) both write %s", a->seq,
                     a->line, b->seq, b->line, r[i].path);
        else
            aie_errf(err, errlen, "jobs %d and %d both write %s", a->seq, b->seq, r[i].path);
        e = AIE_EINVAL;
        goto done;
    }
done:
    for (int i = 0; i < k; i++)
        free(r[i].path);
    free(r);
    return e;
}

void aie_batch_list_sum(const AieBatchList *l, char hex[65])
{
    Buf b = {0};
    for (int i = 0; i < l->n; i++) {
        aie_buf_puts(&b, l->jobs[i].cmd);
        aie_buf_putc(&b, '\n');
    }
    aie_sha256_hex(b.s ? b.s : "", b.len, hex);
    aie_buf_free(&b);
}

/* ---- make's decision ---- */

static int newer_or_same(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* All outputs exist and none is older than any existing input. */
static int up_to_date(char *const *outs, int nouts, char *const *ins, int nins)
{
    if (nouts == 0)
        return 0;
    for (int o = 0; o < nouts; o++) {
        struct stat so;
        if (aie_path_is_pattern(outs[o]) || !aie_path_is_regular_output(outs[o]) || stat(outs[o], &so) != 0)
            return 0;
        for (int i = 0; i < nins; i++) {
            struct stat si;
            if (!strcmp(ins[i], "-") || aie_path_is_pattern(ins[i]))
                return 0;
            if (stat(ins[i], &si) != 0)
                return 0; /* let the job report it */
            if (!newer_or_same(&so.st_mtim, &si.st_mtim))
                return 0;
        }
    }
    return 1;
}

int aie_batch_skip_existing(const AieBatchList *l, unsigned char *skip)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        int ok;
        if (j->group >= 0) {
            const AieBatchGroup *g = &l->groups[j->group];
            char *outs[2] = {g->output, NULL}, *ins[2] = {g->source, NULL};
            ok = up_to_date(outs, 1, ins, 1);
        } else {
            ok = up_to_date(j->outputs, j->noutputs, j->inputs, j->ninputs);
        }
        if (ok && !skip[i]) {
            skip[i] = 1;
            n++;
        }
    }
    return n;
}
