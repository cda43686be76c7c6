/*
 * libFuzzer target for the waifu2x vgg_7 JSON loader (lib/nn/load_waifu2x.c)
 * through aie_nn_load_mem(), then the checks of nn_check.h (the model must
 * describe itself and run, tiled and untiled alike). The name the bytes get
 * decides the scale: an odd-sized input is "scale2.0x_model.json" (a 2x
 * model), an even-sized one "noise1_model.json" (1x).
 * Seed corpus: testdata/fuzz/waifu2x/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>

#include "nn_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the loader contradicts itself */
static int waifu2x_fuzz_one(const uint8_t *data, size_t size)
{
    /* the JSON formats are told apart by their first character: this one takes an array */
    size_t k = 0;
    while (k < size && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r'))
        k++;
    if (k == size || data[k] != '[')
        return 0;
    if (size & 1)
        return nn_fuzz_check("fuzz/scale2.0x_model.json", "waifu2x-json", 2, data, size, NULL, 0);
    return nn_fuzz_check("fuzz/noise1_model.json", "waifu2x-json", 1, data, size, NULL, 0);
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (waifu2x_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
