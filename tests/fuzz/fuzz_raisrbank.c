/*
 * libFuzzer target for the RAISR filter-bank reader (lib/sr/raisr_bank.c):
 * any bytes through aie_raisr_bank_parse, once as they are and once with the
 * checksum trailer recomputed (so mutations reach the field checks behind
 * it). A bank that parses must serialise to a canonical form that reads back
 * to itself, and run on a small frame without overflow (UBSan). Seed corpus:
 * testdata/fuzz/raisrbank/; tests/test_raisr.c replays it in make check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aie/fs.h"
#include "aie/raisr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the reader contradicts itself */
static int check_bank(const uint8_t *data, size_t size)
{
    AieRaisrBank *b = NULL;
    char err[256];
    int e = aie_raisr_bank_parse(&b, data, size, err, sizeof(err));
    if (e)
        return b != NULL || e > 0 || !err[0];
    /* The serialised form is canonical (unused thresholds and the bytes after
     * the description's end are zero, control characters in it are spaces),
     * so it need not equal the input, but it must read back to itself. */
    int bad = 0;
    uint8_t *again = NULL, *third = NULL;
    size_t n = 0, n3 = 0;
    if (aie_raisr_bank_serialize(b, &again, &n) == 0) {
        AieRaisrBank *b2 = NULL;
        if (aie_raisr_bank_parse(&b2, again, n, err, sizeof(err)) != 0)
            bad = 1;
        else if (aie_raisr_bank_serialize(b2, &third, &n3) == 0)
            bad |= n3 != n || memcmp(third, again, n) != 0;
        aie_raisr_bank_free(&b2);
        free(again);
        free(third);
    }
    AieRaisrBankInfo bi;
    aie_raisr_bank_info(b, &bi);
    AieFrame *src = NULL, *dst = NULL;
    AieRaisrParams p = {.src_w = 13, .src_h = 11, .dst_w = 13 * bi.scale, .dst_h = 11 * bi.scale,
                        .layout = AIE_LAYOUT_GRAY, .depth = 8};
    AieRaisrUpscaler *u = NULL;
    if (aie_frame_alloc(&src, 13, 11, AIE_LAYOUT_GRAY, 8) == 0 &&
        aie_frame_alloc(&dst, p.dst_w, p.dst_h, AIE_LAYOUT_GRAY, 8) == 0 && aie_raisr_create(&u, b, &p, 0) == 0) {
        for (int y = 0; y < 11; y++)
            for (int x = 0; x < 13; x++)
                src->data[0][y * src->stride[0] + x] = (uint8_t)((x * 37 + y * 91) & 255);
        bad |= aie_raisr_upscale(u, src, dst, NULL) != 0;
    }
    aie_raisr_free(&u);
    aie_frame_unref(&src);
    aie_frame_unref(&dst);
    aie_raisr_bank_free(&b);
    return bad;
}

static int raisrbank_fuzz_one(const uint8_t *data, size_t size)
{
    int bad = check_bank(data, size);
    if (size > 64 && size < (8u << 20)) {
        uint8_t *c = malloc(size);
        if (c) {
            memcpy(c, data, size);
            char hex[65];
            aie_sha256_hex(c, size - 64, hex);
            memcpy(c + size - 64, hex, 64);
            bad |= check_bank(c, size);
            free(c);
        }
    }
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (raisrbank_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
