/*
 * libFuzzer target for the ncnn .param + .bin loader (lib/nn/load_ncnn.c)
 * through aie_nn_load_mem(), then the checks of nn_check.h (the model must
 * describe itself and run, tiled and untiled alike). Input: the .param text,
 * a NUL byte, then the .bin bytes (no NUL: an empty .bin).
 * Seed corpus: testdata/fuzz/ncnn/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nn_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the loader contradicts itself */
static int ncnn_fuzz_one(const uint8_t *data, size_t size)
{
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t plen = nul ? (size_t)(nul - data) : size;
    const uint8_t *bin = nul ? nul + 1 : NULL;
    size_t binlen = nul ? size - plen - 1 : 0;
    return nn_fuzz_check("fuzz/model.param", "ncnn", 0, data, plen, bin, binlen);
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ncnn_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
