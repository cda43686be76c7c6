/*
 * libFuzzer target for the Anime4K CNN JSON loader (lib/nn/load_anime4k.c)
 * through aie_nn_load_mem(), then the checks of nn_check.h (the model must
 * describe itself and run, tiled and untiled alike); a cnn-2x network must be
 * a 2x model and a cnn-restore one 1x.
 * Seed corpus: testdata/fuzz/anime4k/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>

#include "nn_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the loader contradicts itself */
static int anime4k_fuzz_one(const uint8_t *data, size_t size)
{
    /* the JSON formats are told apart by their first character: this one takes an object */
    size_t k = 0;
    while (k < size && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r'))
        k++;
    if (k == size || data[k] != '{')
        return 0;
    return nn_fuzz_check("fuzz/anime4k.json", "anime4k-json", -1, data, size, NULL, 0);
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (anime4k_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
