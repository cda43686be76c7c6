/* The installed-models list (aie/sr_cnn.h): CNN models and RAISR banks. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/nn.h"
#include "aie/raisr.h"
#include "aie/sr_cnn.h"

static AieModelEntry *add(AieModelEntry **v, int *n, int *cap)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 16;
        AieModelEntry *nv = realloc(*v, (size_t)c * sizeof(*nv));
        if (!nv)
            return NULL;
        *v = nv;
        *cap = c;
    }
    AieModelEntry *e = &(*v)[(*n)++];
    *e = (AieModelEntry){0};
    return e;
}

int aie_models_list(const char *const *dirs, int ndirs, AieModelEntry **out, int *count)
{
    AieModelEntry *v = NULL, *e;
    int n = 0, cap = 0, ncat;
    const AieCnnModelDesc *cat = aie_cnn_catalogue(&ncat);
    for (int i = 0; i < ncat; i++) {
        char path[4096];
        if (aie_cnn_model_find(dirs, ndirs, &cat[i], path, sizeof(path)))
            continue;
        if (!(e = add(&v, &n, &cap)))
            goto nomem;
        snprintf(e->name, sizeof(e->name), "%s", cat[i].name);
        snprintf(e->file, sizeof(e->file), "%s", path);
        e->scale = cat[i].scale;
        e->content = cat[i].content;
        e->licence = cat[i].licence;
        AieNnModel *m = NULL;
        if (aie_nn_load(&m, path, e->error, sizeof(e->error))) {
            e->damaged = 1;
            continue;
        }
        AieNnInfo info;
        aie_nn_info(m, &info);
        e->gflop_per_mpixel = info.flops_per_pixel * 1e6 / 1e9;
        aie_nn_free(&m);
    }
    for (int i = -1; i < ndirs; i++)
        for (int s = 2; s <= 4; s++) {
            char path[4096] = "", why[AIE_ERRBUF_SIZE] = "";
            AieRaisrBank *b = NULL;
            int damaged = 0;
            if (i < 0) {
                if (aie_raisr_bank_builtin(&b, s))
                    continue;
                snprintf(path, sizeof(path), "(built-in)");
            } else if (snprintf(path, sizeof(path), "%s/raisr-x%d.bank", dirs[i], s) >= (int)sizeof(path) ||
                       access(path, F_OK)) {
                continue;
            } else if (aie_raisr_bank_load(&b, path, why, sizeof(why))) {
                damaged = 1;
            }
            if (!(e = add(&v, &n, &cap))) {
                aie_raisr_bank_free(&b);
                goto nomem;
            }
            e->bank = 1;
            e->damaged = damaged;
            snprintf(e->name, sizeof(e->name), "raisr-x%d", s);
            snprintf(e->file, sizeof(e->file), "%s", path);
            snprintf(e->error, sizeof(e->error), "%s", why);
            e->scale = s;
            e->content = "filters";
            e->licence = i < 0 ? "as aie" : "-";
            if (b) {
                AieRaisrBankInfo bi;
                aie_raisr_bank_info(b, &bi);
                /* per output pixel: k*k multiply-adds, plus the hash per input pixel */
                e->gflop_per_mpixel = 2.0 * bi.k * bi.k / 1e3;
            }
            aie_raisr_bank_free(&b);
        }
    *out = v;
    *count = n;
    return 0;
nomem:
    free(v);
    *out = NULL;
    *count = 0;
    return AIE_ENOMEM;
}

void aie_model_path_init(AieModelPath *mp)
{
    mp->n = 0;
    const char *e = getenv("AIE_MODEL_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    const size_t n = sizeof(mp->buf[0]);
    if (e && *e)
        snprintf(mp->buf[mp->n++], n, "%s", e);
    if (x && *x)
        snprintf(mp->buf[mp->n++], n, "%s/aie/models", x);
    if (h && *h)
        snprintf(mp->buf[mp->n++], n, "%s/.cache/aie/models", h);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = len > 0 ? (exe[len] = 0, strrchr(exe, '/')) : NULL;
    if (slash) { /* BINDIR/aie-upscale -> BINDIR/.. */
        *slash = 0;
        if ((slash = strrchr(exe, '/')))
            *slash = 0;
        else
            strcpy(exe, ".");
        if (snprintf(mp->buf[mp->n], n, "%s/share/aie", exe) < (int)n)
            mp->n++;
    }
    mp->text[0] = 0;
    for (int i = 0; i < mp->n; i++) {
        mp->dirs[i] = mp->buf[i];
        size_t l = strlen(mp->text);
        snprintf(mp->text + l, sizeof(mp->text) - l, "%s%s", i ? ":" : "", mp->dirs[i]);
    }
}
