/* Sum of squared differences of rows (PSNR, motion cost checks). Private to
 * libaie. Integer results: every SIMD version equals the C reference. */
#ifndef AIE_DSP_SSD_H
#define AIE_DSP_SSD_H

#include <stdint.h>

/* sum over x < w of (a[x] - b[x])^2 */
#define AIE_SSD8_FN(name) uint64_t name(const uint8_t *a, const uint8_t *b, int w)
#define AIE_SSD16_FN(name) uint64_t name(const uint16_t *a, const uint16_t *b, int w)

typedef AIE_SSD8_FN((*AieSsd8Fn));
typedef AIE_SSD16_FN((*AieSsd16Fn));

typedef struct AieSsdDSP {
    AieSsd8Fn ssd8;
    AieSsd16Fn ssd16;
} AieSsdDSP;

void aie_ssd_dsp_init(AieSsdDSP *dsp, unsigned cpu_flags);
void aie_ssd_dsp_init_avx2(AieSsdDSP *dsp);

#endif
