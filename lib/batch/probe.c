/* What the tools say about a job (--dry-run --json), and cache keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "batch_internal.h"

void aie_batch_probe_clear(AieBatchProbe *p)
{
    free(p->options);
    aie_batch_words_free(&p->inputs);
    aie_batch_words_free(&p->outputs);
    memset(p, 0, sizeof(*p));
    p->frames = -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* JSON with object keys sorted, no spaces: the same options always hash the
 * same whatever order a tool prints them in. */
static void canonical(Buf *b, json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        int n = json_object_object_length(o), k = 0;
        char **keys = calloc((size_t)n + 1, sizeof(*keys));
        if (!keys) {
            b->oom = 1;
            return;
        }
        json_object_object_foreach(o, key, val)
        {
            (void)val;
            keys[k++] = key;
        }
        qsort(keys, (size_t)k, sizeof(*keys), cmp_str);
        aie_buf_putc(b, '{');
        for (int i = 0; i < k; i++) {
            json_object *ks = json_object_new_string(keys[i]);
            aie_buf_puts(b, json_object_to_json_string_ext(ks, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
            json_object_put(ks);
            aie_buf_putc(b, ':');
            canonical(b, json_object_object_get(o, keys[i]));
            if (i + 1 < k)
                aie_buf_putc(b, ',');
        }
        aie_buf_putc(b, '}');
        free(keys);
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        aie_buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            canonical(b, json_object_array_get_idx(o, i));
            if (i + 1 < n)
                aie_buf_putc(b, ',');
        }
        aie_buf_putc(b, ']');
    } else if (!o) {
        aie_buf_puts(b, "null");
    } else {
        aie_buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
}

static int str_array(json_object *a, char ***out, int *n)
{
    *n = 0;
    if (!(*out = calloc(1, sizeof(**out))))
        return AIE_ENOMEM;
    if (!a || !json_object_is_type(a, json_type_array))
        return 0;
    size_t len = json_object_array_length(a);
    char **v = realloc(*out, (len + 1) * sizeof(*v));
    if (!v)
        return AIE_ENOMEM;
    *out = v;
    for (size_t i = 0; i < len; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(a, i));
        v[*n] = NULL;
        if (!(v[*n] = strdup(s ? s : "")))
            return AIE_ENOMEM;
        (*n)++;
    }
    v[*n] = NULL;
    return 0;
}

int aie_batch_probe(const AieBatchExec *ex, char *const *argv, AieBatchProbe *p)
{
    int argc = 0, e = 0;
    char *out = NULL, **av = NULL;
    json_object *j = NULL;
    memset(p, 0, sizeof(*p));
    p->frames = -1;
    while (argv[argc])
        argc++;
    if (!(av = calloc((size_t)argc + 3, sizeof(*av)))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    av[0] = argv[0];
    av[1] = "--dry-run";
    av[2] = "--json";
    for (int i = 1; i < argc; i++)
        av[i + 2] = argv[i];
    int rc = aie_exec_capture(ex, av, &out, 1 << 20, p->error, sizeof(p->error));
    if (rc < 0) {
        e = rc;
        goto fail;
    }
    if (rc != 0) {
        if (!p->error[0])
            snprintf(p->error, sizeof(p->error), "%s --dry-run exited with %d", argv[0], rc);
        goto fail;
    }
    j = out ? json_tokener_parse(out) : NULL;
    if (!j || !json_object_is_type(j, json_type_object)) {
        snprintf(p->error, sizeof(p->error), "%s --dry-run --json printed no JSON object", argv[0]);
        goto fail;
    }
    json_object *v, *in = NULL;
    if (json_object_object_get_ex(j, "version", &v))
        snprintf(p->version, sizeof(p->version), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(j, "input", &in) && json_object_is_type(in, json_type_object)) {
        if (json_object_object_get_ex(in, "frames", &v))
            p->frames = json_object_get_int64(v);
        if (json_object_object_get_ex(in, "fps", &v))
            p->fps = json_object_get_double(v);
        /* no frame count in the container (Matroska): estimate it from the
         * duration, rounding down; the last chunk runs to the end anyway */
        double d;
        if (p->frames < 0 && p->fps > 0 && json_object_object_get_ex(in, "duration_s", &v) &&
            (d = json_object_get_double(v)) > 0) {
            p->frames = (int64_t)(d * p->fps + 1e-6);
            p->frames_estimated = 1;
        }
    }
    Buf b = {0};
    json_object *opts = NULL;
    json_object_object_get_ex(j, "options", &opts);
    canonical(&b, opts);
    if (!(p->options = aie_buf_take(&b))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    if ((e = str_array(json_object_object_get_ex(j, "inputs", &v) ? v : NULL, &p->inputs, &p->ninputs)))
        goto fail;
    if ((e = str_array(json_object_object_get_ex(j, "outputs", &v) ? v : NULL, &p->outputs, &p->noutputs)))
        goto fail;
    p->ok = 1;
    json_object_put(j);
    free(out);
    free(av);
    return 0;
fail:
    json_object_put(j);
    free(out);
    free(av);
    return e;
}

int aie_batch_exec(const AieBatchExec *ex, char *const *argv, char *errline, size_t errlen)
{
    char *out = NULL;
    int rc = aie_exec_capture(ex, argv, &out, 1 << 16, errline, errlen);
    free(out);
    return rc;
}

/* ---- cache keys ---- */

typedef struct KeyCtx {
    AieBatchList *l;
    const unsigned char *skip;
    const AieBatchExec *ex;
    int *todo;
    int err;
} KeyCtx;

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot ? dot : "";
}

static void key_one(void *ctx, int index, int worker)
{
    (void)worker;
    KeyCtx *k = ctx;
    AieBatchJob *j = &k->l->jobs[k->todo[index]];
    AieBatchProbe p;
    Buf b = {0};
    if (aie_batch_probe(k->ex, j->argv, &p) != 0 || !p.ok || p.ninputs == 0)
        goto done;
    aie_buf_printf(&b, "aie-batch cache v1\ntool %s\nversion %s\noptions %s\noutput %s\n",
                   aie_job_tool_name(j->argv), p.version, p.options, extension(j->outputs[0]));
    for (int i = 0; i < p.ninputs; i++) {
        char hex[65], e2[AIE_ERRBUF_SIZE];
        if (!strcmp(p.inputs[i], "-") || aie_path_is_pattern(p.inputs[i]) ||
            aie_sha256_file(p.inputs[i], hex, e2, sizeof(e2)) != 0)
            goto done; /* not a plain file: not cacheable */
        aie_buf_printf(&b, "input %s\n", hex);
    }
    if (b.oom)
        goto done;
    char hex[65];
    aie_sha256_hex(b.s, b.len, hex);
    j->cache_key = strdup(hex);
done:
    aie_buf_free(&b);
    aie_batch_probe_clear(&p);
}

int aie_batch_cache_keys(AieBatchList *l, const unsigned char *skip, const AieBatchExec *ex,
                         int threads, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    int n = 0, e = 0;
    AiePool *pool = NULL;
    int *todo = calloc((size_t)l->n + 1, sizeof(*todo));
    if (!todo)
        return AIE_ENOMEM;
    for (int i = 0; i < l->n; i++) {
        AieBatchJob *j = &l->jobs[i];
        if ((skip && skip[i]) || j->cache_key || !j->simple || j->noutputs != 1 ||
            !aie_job_is_aie_tool(j->argv) || aie_path_is_pattern(j->outputs[0]) ||
            !aie_path_is_regular_output(j->outputs[0]))
            continue;
        todo[n++] = i;
    }
    if (n > 1 && threads > 1 && (e = aie_pool_create(&pool, threads < n ? threads : n)))
        goto done;
    KeyCtx k = {.l = l, .skip = skip, .ex = ex, .todo = todo};
    aie_pool_parallel_for(pool, n, key_one, &k);
done:
    aie_pool_destroy(&pool);
    free(todo);
    return e;
}
