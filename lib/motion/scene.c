/* Scene-cut detection: normalised luma thumbnails compared by their best
 * correlation over small shifts, an adaptive threshold against the pairs
 * around, and a flash check against the frames on both sides. */
#include <math.h>
#include <string.h>

#include "aie/motion.h"

#define TW AIE_SCENE_TW
#define TH AIE_SCENE_TH
#define SHIFT 3
#define FLAT 0.02f   /* contrast under which a frame counts as flat */
#define LOWC 0.08f   /* contrast under which differences are discounted */

void aie_scene_features(const AieFrame *f, AieSceneFeat *o)
{
    int pl = f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA ? 1 : 0;
    int W = f->plane_w[pl], H = f->plane_h[pl];
    double peak = (double)((1 << f->depth) - 1);
    double sum = 0;
    for (int ty = 0; ty < TH; ty++) {
        int y0 = (int)((long)ty * H / TH), y1 = (int)((long)(ty + 1) * H / TH);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int tx = 0; tx < TW; tx++) {
            int x0 = (int)((long)tx * W / TW), x1 = (int)((long)(tx + 1) * W / TW);
            if (x1 <= x0)
                x1 = x0 + 1;
            /* at most 8x8 samples per cell: enough for a thumbnail */
            int sy = (y1 - y0 + 7) / 8, sx = (x1 - x0 + 7) / 8;
            double acc = 0;
            int n = 0;
            for (int y = y0; y < y1 && y < H; y += sy) {
                const uint8_t *row = f->data[pl] + (ptrdiff_t)y * f->stride[pl];
                for (int x = x0; x < x1 && x < W; x += sx) {
                    acc += f->depth > 8 ? ((const uint16_t *)(const void *)row)[x] : row[x];
                    n++;
                }
            }
            float v = n ? (float)(acc / n / peak) : 0;
            o->thumb[ty * TW + tx] = v;
            sum += v;
        }
    }
    double mean = sum / (TW * TH), var = 0;
    for (int i = 0; i < TW * TH; i++)
        var += (o->thumb[i] - mean) * (o->thumb[i] - mean);
    double sd = sqrt(var / (TW * TH));
    o->mean = (float)mean;
    o->contrast = (float)sd;
    float inv = (float)(1.0 / (sd > 1e-4 ? sd : 1e-4));
    for (int i = 0; i < TW * TH; i++)
        o->thumb[i] = (o->thumb[i] - (float)mean) * inv;
}

double aie_scene_diff(const AieSceneFeat *a, const AieSceneFeat *b)
{
    if (a->contrast < FLAT && b->contrast < FLAT)
        return 0;
    if (a->contrast < FLAT || b->contrast < FLAT)
        return 0.3;
    double best = -1;
    for (int dy = -SHIFT; dy <= SHIFT; dy++)
        for (int dx = -SHIFT; dx <= SHIFT; dx++) {
            int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? TW - dx : TW;
            int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? TH - dy : TH;
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            int n = 0;
            for (int y = y0; y < y1; y++) {
                const float *ra = a->thumb + y * TW, *rb = b->thumb + (y + dy) * TW + dx;
                for (int x = x0; x < x1; x++) {
                    double p = ra[x], q = rb[x];
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
                n += x1 - x0;
            }
            double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
            double c = va > 1e-9 && vb > 1e-9 ? (sab - sa * sb / n) / sqrt(va * vb) : 0;
            if (c > best)
                best = c;
        }
    double d = 1 - best;
    float lc = a->contrast < b->contrast ? a->contrast : b->contrast;
    if (lc < LOWC)
        d *= lc / LOWC;
    return d < 0 ? 0 : d > 2 ? 2 : d;
}

int aie_scene_cut(const AieSceneFeat *const win[AIE_SCENE_WINDOW], double threshold)
{
    if (!win[2] || !win[3])
        return 0;
    double d = aie_scene_diff(win[2], win[3]);
    if (d < 0.5 * threshold)
        return 0;
    /* adaptive: the jump must stand out from the motion around it */
    double ref = 0;
    if (win[0] && win[1])
        ref = fmax(ref, aie_scene_diff(win[0], win[1]));
    if (win[1])
        ref = fmax(ref, aie_scene_diff(win[1], win[2]));
    if (win[4])
        ref = fmax(ref, aie_scene_diff(win[3], win[4]));
    if (d < 2.0 * ref + 0.05)
        return 0;
    /* below the threshold, only a jump out of stillness counts (down to half
     * the threshold when the frames around do not move at all) */
    if (d < threshold * fmin(1.0, 0.5 + 4.0 * ref))
        return 0;
    /* a flash: the frame after the jump (or before it) matches the other side */
    if (win[4] && aie_scene_diff(win[2], win[4]) < 0.5 * threshold)
        return 0;
    if (win[1] && aie_scene_diff(win[1], win[3]) < 0.5 * threshold)
        return 0;
    return 1;
}
