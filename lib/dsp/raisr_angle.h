/* The angle sector of the RAISR hash (private to lib/dsp/raisr*.c): the
 * 15-degree sector of atan2(b, a), 0 .. 23 counted from -180 degrees, by
 * comparisons against the sector edges of the first quadrant (no atan2, so
 * every SIMD version can do exactly the same float operations). */
#ifndef AIE_DSP_RAISR_ANGLE_H
#define AIE_DSP_RAISR_ANGLE_H

/* cos and sin of 15, 30, 45, 60 and 75 degrees */
static const float aie_raisr_cos15[5] = {0.96592583f, 0.8660254f, 0.70710678f, 0.5f, 0.25881905f};
static const float aie_raisr_sin15[5] = {0.25881905f, 0.5f, 0.70710678f, 0.8660254f, 0.96592583f};

static inline int aie_raisr_angle_bin(float a, float b)
{
    float ax = a < 0.0f ? -a : a, ay = b < 0.0f ? -b : b;
    int sub = 0;
    for (int k = 0; k < 5; k++)
        sub += ay * aie_raisr_cos15[k] >= ax * aie_raisr_sin15[k];
    if (a >= 0.0f)
        return b >= 0.0f ? 12 + sub : 11 - sub;
    return b >= 0.0f ? 23 - sub : sub;
}

#endif
