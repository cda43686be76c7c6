/*
 * The resampling filter shapes of lib/dsp's separable resampler, shared by the
 * scaler (aie/scale.h), the upscalers and the tools that parse -m.
 */
#ifndef AIE_FILTER_H
#define AIE_FILTER_H

typedef enum AieFilter {
    AIE_FILTER_NEAREST = 0,
    AIE_FILTER_BILINEAR,
    AIE_FILTER_BICUBIC,  /* Catmull-Rom-like cubic, B=0 C=0.6 as swscale's default */
    AIE_FILTER_LANCZOS,  /* Lanczos, a = 3 */
    AIE_FILTER_SPLINE36,
    AIE_FILTER_COUNT
} AieFilter;

/* "nearest", "bilinear", "bicubic", "lanczos", "spline36". Returns 0 or AIE_EINVAL. */
int aie_filter_parse(const char *name, AieFilter *out);
const char *aie_filter_name(AieFilter f);

#endif /* AIE_FILTER_H */
