/*
 * The catalogue of pretrained models (what scripts/fetch-models.sh installs)
 * and the choice of a model for a scale factor. Ranks come from the quality
 * benchmark on natural photos (scripts/bench-cnn.sh): among the installed
 * models of one native scale, the best-scoring one is picked.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aie/error.h"
#include "aie/sr_cnn.h"

#define W2X "waifu2x 1.6.5 (npm): waifu2x-converter-cpp models_rgb, vgg_7 (nagadomi)"
#define ESR "waifu2x 1.6.5 (npm): Real-ESRGAN realesr-animevideov3 (Xintao Wang)"
#define A4K "@websr/websr 0.0.15 (npm): Anime4K CNN (bloc97)"
#define A4KRL "@websr/websr 0.0.15 (npm): Anime4K CNN retrained by websr"
#define AIENN_SRC "aie-train --net (make net): plasma-workspace-wallpapers"

/* Ranks: mean Y-PSNR over the 12 benchmark photos at x2 (1024x768 centre
 * crops, scripts/bench-cnn.sh): waifu2x-scale2x 47.03 dB (lanczos 46.48),
 * anime4k s-an 46.43, l-an 46.32, s-rl 46.25, l-rl 46.23, m-rl 46.21, m-3d
 * 46.07, l-3d 46.02, s-3d 45.83, m-an 45.31, realesr x2 35.95 (it lifts the
 * brightness of photos); at 1x (then lanczos): noise0 45.48, noise1 45.05,
 * noise2 44.43, then noise3 and the Anime4K restore networks. */
static const AieCnnModelDesc catalogue[] = {
    {"waifu2x-scale2x", "waifu2x/scale2.0x_model.json", 2, "animation", W2X, "MIT", 0},
    {"anime4k-2x-s-an", "anime4k/cnn-2x-s-an.json", 2, "animation", A4K, "MIT", 1},
    {"anime4k-2x-l-an", "anime4k/cnn-2x-l-an.json", 2, "animation", A4K, "MIT", 2},
    {"anime4k-2x-s-rl", "anime4k/cnn-2x-s-rl.json", 2, "photo", A4KRL, "MIT", 3},
    {"anime4k-2x-l-rl", "anime4k/cnn-2x-l-rl.json", 2, "photo", A4KRL, "MIT", 4},
    {"anime4k-2x-m-rl", "anime4k/cnn-2x-m-rl.json", 2, "photo", A4KRL, "MIT", 5},
    {"anime4k-2x-m-3d", "anime4k/cnn-2x-m-3d.json", 2, "animation", A4KRL, "MIT", 6},
    {"anime4k-2x-l-3d", "anime4k/cnn-2x-l-3d.json", 2, "animation", A4KRL, "MIT", 7},
    {"anime4k-2x-s-3d", "anime4k/cnn-2x-s-3d.json", 2, "animation", A4KRL, "MIT", 8},
    {"anime4k-2x-m-an", "anime4k/cnn-2x-m-an.json", 2, "animation", A4K, "MIT", 9},
    {"realesr-animevideov3-x2", "realesrgan/realesr-animevideov3-x2.param", 2, "animation", ESR, "BSD-3-Clause", 10},
    /* aie's own networks (aie-train --net), installed as <dir>/aie/ARCH-xN.aienn */
    {"aie-net-x2", "aie/net-x2.aienn", 2, "photo", AIENN_SRC, "as aie", 11},
    {"aie-net-small-x2", "aie/net-small-x2.aienn", 2, "photo", AIENN_SRC, "as aie", 12},
    {"realesr-animevideov3-x3", "realesrgan/realesr-animevideov3-x3.param", 3, "animation", ESR, "BSD-3-Clause", 0},
    {"realesr-animevideov3-x4", "realesrgan/realesr-animevideov3-x4.param", 4, "animation", ESR, "BSD-3-Clause", 0},
    {"waifu2x-noise0", "waifu2x/noise0_model.json", 1, "animation", W2X, "MIT", 0},
    {"waifu2x-noise1", "waifu2x/noise1_model.json", 1, "animation", W2X, "MIT", 1},
    {"waifu2x-noise2", "waifu2x/noise2_model.json", 1, "animation", W2X, "MIT", 2},
    {"waifu2x-noise3", "waifu2x/noise3_model.json", 1, "animation", W2X, "MIT", 3},
    {"anime4k-restore-s", "anime4k/cnn-restore-s-an.json", 1, "animation", A4K, "MIT", 4},
    {"anime4k-restore-m", "anime4k/cnn-restore-m-an.json", 1, "animation", A4K, "MIT", 5},
    {"anime4k-restore-l", "anime4k/cnn-restore-l-an.json", 1, "animation", A4K, "MIT", 6},
};

const AieCnnModelDesc *aie_cnn_catalogue(int *count)
{
    *count = (int)(sizeof(catalogue) / sizeof(catalogue[0]));
    return catalogue;
}

const AieCnnModelDesc *aie_cnn_model_desc(const char *name)
{
    for (size_t i = 0; name && i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        if (!strcmp(catalogue[i].name, name))
            return &catalogue[i];
    return NULL;
}

int aie_cnn_model_find(const char *const *dirs, int ndirs, const AieCnnModelDesc *d, char *path,
                       size_t pathlen)
{
    for (int i = 0; i < ndirs; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        char p[4096];
        struct stat st;
        if (snprintf(p, sizeof(p), "%s/%s", dirs[i], d->file) >= (int)sizeof(p))
            continue;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            if (snprintf(path, pathlen, "%s", p) >= (int)pathlen)
                return AIE_EINVAL;
            return 0;
        }
    }
    return AIE_ENOENT;
}

int aie_cnn_model_pick(const char *const *dirs, int ndirs, double scale, const AieCnnModelDesc **desc,
                       char *path, size_t pathlen)
{
    const AieCnnModelDesc *best = NULL;
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
        const AieCnnModelDesc *d = &catalogue[i];
        char p[4096];
        if (aie_cnn_model_find(dirs, ndirs, d, p, sizeof(p)))
            continue;
        if (!best) {
            best = d;
            continue;
        }
        int ok = d->scale >= scale - 1e-9, bok = best->scale >= scale - 1e-9;
        if (ok != bok) {
            if (ok)
                best = d;
            continue;
        }
        /* both reach the scale: the smaller; neither: the larger */
        if (d->scale != best->scale) {
            if (ok ? d->scale < best->scale : d->scale > best->scale)
                best = d;
            continue;
        }
        if (d->rank < best->rank)
            best = d;
    }
    if (!best)
        return AIE_ENOENT;
    *desc = best;
    return aie_cnn_model_find(dirs, ndirs, best, path, pathlen);
}
