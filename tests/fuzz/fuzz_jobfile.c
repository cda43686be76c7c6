/*
 * libFuzzer target for aie-batch's job lists (lib/batch/jobs.c, words.c).
 * The first byte picks the mode (bit 0: shell mode); the rest is
 *   - a job file for aie_batch_parse: every job must be well formed, its
 *     command text must split back into its words (argv mode), every word
 *     must survive aie_batch_quote + aie_batch_split, the commands must load
 *     again through aie_batch_add_command (--retry-failed), and the make and
 *     Slurm emitters must take the list;
 *   - and also a template and its arguments for aie_batch_template ({1} is
 *     the argument, a higher {N} is refused): the first
 *     line is the --cmd template, each further line one argument. One job per
 *     argument; a template word "{}" becomes the argument, a word without
 *     replacement strings stays as it is, a template without any gets the
 *     argument appended.
 * Seed corpus: testdata/fuzz/jobfile/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign. Nothing is run: no job is spawned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/batch.h"
#include "aie/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOBFILE_MAX_ARGS 64

/* 1 when the words differ */
static int words_differ(char *const *a, int na, char *const *b, int nb)
{
    if (na != nb || !a || !b || a[na] || b[nb])
        return 1;
    for (int i = 0; i < na; i++)
        if (!a[i] || !b[i] || strcmp(a[i], b[i]))
            return 1;
    return 0;
}

/* cmd splits into exactly argv */
static int split_differs(const char *cmd, char *const *argv, int argc)
{
    char **w = NULL, err[256];
    int n = 0;
    if (aie_batch_split(cmd, strlen(cmd), &w, &n, err, sizeof(err)))
        return 1;
    int d = words_differ(w, n, argv, argc);
    aie_batch_words_free(&w);
    return d;
}

/* every job well formed; 1 when not */
static int jobfile_check_list(const AieBatchList *l, int shell)
{
    if (l->n < 0 || l->n > l->cap || (l->n && !l->jobs) || l->shell != shell)
        return 1;
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        if (j->seq != i + 1 || !j->argv || j->argc < 0 || j->argv[j->argc] || !j->cmd || j->group != -1 ||
            j->ninputs < 0 || j->noutputs < 0 || (j->ninputs && (!j->inputs || j->inputs[j->ninputs])) ||
            (j->noutputs && (!j->outputs || j->outputs[j->noutputs])))
            return 1;
        for (int k = 0; k < j->argc; k++)
            if (!j->argv[k])
                return 1;
        if (!shell && (j->argc < 1 || !j->simple || split_differs(j->cmd, j->argv, j->argc)))
            return 1;
        for (int k = 0; k < j->argc; k++) {
            char *q = aie_batch_quote(j->argv[k]);
            if (!q)
                continue; /* out of memory */
            char *const one[2] = {j->argv[k], NULL};
            int d = split_differs(q, one, 1);
            free(q);
            if (d)
                return 1;
        }
    }
    return 0;
}

/* The commands again, as a joblog gives them back (--retry-failed). */
static int jobfile_reload(const AieBatchList *l, int shell)
{
    AieBatchList *r = NULL;
    char err[256];
    int bad = 0;
    if (aie_batch_list_create(&r, shell))
        return 0;
    for (int i = 0; i < l->n && !bad; i++) {
        int e = aie_batch_add_command(r, l->jobs[i].cmd, l->jobs[i].seq, err, sizeof(err));
        if (e == AIE_ENOMEM)
            break;
        if (e || r->n != i + 1 || r->jobs[i].seq != l->jobs[i].seq || strcmp(r->jobs[i].cmd, l->jobs[i].cmd) ||
            (!shell && words_differ(r->jobs[i].argv, r->jobs[i].argc, l->jobs[i].argv, l->jobs[i].argc)))
            bad = 1;
    }
    aie_batch_list_free(&r);
    return bad;
}

static void jobfile_emit(const AieBatchList *l)
{
    static const char *const tags[] = {"k=v w"};
    AieBatchFlags f = {.shell = 1, .chunks = 3, .timeout_s = 2.5, .grace_s = 5, .retries = 2,
                       .retry_delay_s = 1, .cache_dir = "/nonexistent/c", .metrics = "m.jsonl",
                       .joblog = "j", .tags = tags, .ntags = 1, .batch_id = "fuzz"};
    AieBatchEmit em = {.argv0 = "/usr/bin/aie-batch", .jobfile = "/nonexistent/jobs.txt",
                       .emit_dir = ".aie-stamps", .flags = &f, .jobs = 2, .job_name = "fuzz"};
    char err[256];
    for (int kind = AIE_BATCH_EMIT_MAKE; kind <= AIE_BATCH_EMIT_SLURM; kind++) {
        char *out = NULL;
        aie_batch_emit(l, kind, &em, &out, err, sizeof(err));
        free(out);
    }
    char hex[65];
    aie_batch_list_sum(l, hex);
}

/* Template (first line) and arguments (the other lines). */
static int jobfile_template(const char *text, size_t len, int shell)
{
    char *copy = malloc(len + 1);
    const char *args[JOBFILE_MAX_ARGS];
    int nargs = 0, bad = 0;
    if (!copy)
        return 0;
    memcpy(copy, text, len);
    copy[len] = 0;
    char *nl = memchr(copy, '\n', len);
    const char *tmpl = copy;
    if (nl) {
        *nl = 0;
        char *p = nl + 1, *end = copy + len;
        while (p <= end && nargs < JOBFILE_MAX_ARGS) {
            char *q = memchr(p, '\n', (size_t)(end - p));
            if (!q)
                q = end;
            *q = 0;
            args[nargs++] = p; /* a NUL inside ends the argument early */
            p = q + 1;
        }
    }
    /* the template's own words, for the checks; the highest {N} */
    int maxn = 0;
    for (const char *s = tmpl; *s; s++) {
        const char *q = s + 1;
        long v = 0;
        if (*s != '{' || *q < '1' || *q > '9')
            continue;
        while (*q >= '0' && *q <= '9' && v < 100000)
            v = v * 10 + (*q++ - '0');
        if (!strncmp(q, "}", 1) || !strncmp(q, ".}", 2) || !strncmp(q, "/}", 2) || !strncmp(q, "//}", 3) ||
            !strncmp(q, "/.}", 3))
            maxn = v > maxn ? (int)v : maxn;
    }
    char **tw = NULL, err[256];
    int ntw = 0;
    int te = aie_batch_split(tmpl, strlen(tmpl), &tw, &ntw, err, sizeof(err));
    AieBatchList *l = NULL;
    if (aie_batch_list_create(&l, shell))
        goto done;
    int e = aie_batch_template(l, tmpl, args, nargs, err, sizeof(err));
    if (e == AIE_ENOMEM)
        goto done;
    if ((e == 0) != (te == 0 && ntw > 0 && maxn <= 1)) { /* the template splits the same way */
        bad = 1;
        goto done;
    }
    if (e)
        goto done;
    if (l->n != nargs || jobfile_check_list(l, shell)) {
        bad = 1;
        goto done;
    }
    int any = 0;
    for (int k = 0; k < ntw; k++)
        for (const char *s = tw[k]; *s; s++)
            any |= !strncmp(s, "{}", 2) || !strncmp(s, "{.}", 3) || !strncmp(s, "{/}", 3) ||
                   !strncmp(s, "{//}", 4) || !strncmp(s, "{/.}", 4) || !strncmp(s, "{#}", 3) ||
                   !strncmp(s, "{1}", 3) || !strncmp(s, "{1.}", 4) || !strncmp(s, "{1/}", 4) ||
                   !strncmp(s, "{1//}", 5) || !strncmp(s, "{1/.}", 5);
    for (int a = 0; a < nargs && !bad; a++) {
        const AieBatchJob *j = &l->jobs[a];
        if (j->line != a + 1 || j->argc != ntw + !any)
            bad = 1;
        for (int k = 0; k < ntw && !bad; k++) {
            if (!strcmp(tw[k], "{}") || !strcmp(tw[k], "{1}"))
                bad = strcmp(j->argv[k], args[a]) != 0;
            else if (!strchr(tw[k], '{'))
                bad = strcmp(j->argv[k], tw[k]) != 0;
        }
        if (!any && !bad)
            bad = strcmp(j->argv[ntw], args[a]) != 0;
    }
    if (!bad)
        bad = jobfile_reload(l, shell);
done:
    aie_batch_list_free(&l);
    aie_batch_words_free(&tw);
    free(copy);
    return bad;
}

/* 0, or 1 when the parser contradicts itself */
static int jobfile_fuzz_one(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const int shell = data[0] & 1;
    const char *text = (const char *)data + 1;
    const size_t len = size - 1;
    int bad = 0;
    AieBatchList *l = NULL;
    char err[256] = "";
    if (aie_batch_list_create(&l, shell))
        return 0;
    int e = aie_batch_parse(l, text, len, "fuzz", err, sizeof(err));
    if (e > 0 || (e && e != AIE_EINVAL && e != AIE_ENOMEM) || (e == AIE_EINVAL && strncmp(err, "fuzz:", 5)))
        bad = 1;
    else if (e == 0 && (memchr(text, 0, len) || jobfile_check_list(l, shell) || jobfile_reload(l, shell)))
        bad = 1; /* a NUL byte anywhere makes it no text file */
    if (e == 0 && !bad) {
        aie_batch_check_outputs(l, err, sizeof(err)); /* stat()s only */
        jobfile_emit(l);
    }
    aie_batch_list_free(&l);
    if (!bad)
        bad = jobfile_template(text, len, shell);
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (jobfile_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
