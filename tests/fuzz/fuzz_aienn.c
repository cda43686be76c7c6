/*
 * libFuzzer target for aie's own network files (lib/nn/train_io.c, "AIENET"
 * weights and checkpoints of aie-train --net) through aie_nn_load_mem(),
 * then the checks of nn_check.h (the model must describe itself and run,
 * tiled and untiled alike); the parse of aie_nnt_file_info() must agree
 * with the loader, and a file that loads must have the scale it records.
 * Seed corpus: testdata/fuzz/aienn/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>

#include "aie/nn_train.h"
#include "nn_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the loader contradicts itself */
static int aienn_fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 6 || memcmp(data, "AIENET", 6))
        return 0;
    AieNntFileInfo fi;
    char err[512] = "";
    const int parsed = aie_nnt_file_info(data, size, &fi, err, sizeof(err)) == 0;
    if (!parsed && !err[0])
        return 1;
    AieNnModel *m = NULL;
    const int loaded = aie_nn_load_mem(&m, "fuzz/net.aienn", data, size, NULL, 0, err, sizeof(err)) == 0;
    int bad = loaded != parsed;
    if (loaded) {
        AieNnInfo info;
        aie_nn_info(m, &info);
        bad |= info.scale_num != fi.arch.scale || info.scale_den != 1;
    }
    aie_nn_free(&m);
    if (!bad && loaded)
        bad = nn_fuzz_check("fuzz/net.aienn", "aie-net", fi.arch.scale, data, size, NULL, 0);
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (aienn_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
