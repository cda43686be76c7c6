/* Pixel-format mapping and conversion between AVFrame and AieFrame. All
 * conversions go through libswscale; matching formats are referenced or copied. */
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>

#include "io_internal.h"

static const struct {
    AieLayout layout;
    int depth;
    enum AVPixelFormat fmt;
} fmt_table[] = {
    {AIE_LAYOUT_YUV420, 8, AV_PIX_FMT_YUV420P},    {AIE_LAYOUT_YUV420, 10, AV_PIX_FMT_YUV420P10LE},
    {AIE_LAYOUT_YUV420, 12, AV_PIX_FMT_YUV420P12LE}, {AIE_LAYOUT_YUV420, 16, AV_PIX_FMT_YUV420P16LE},
    {AIE_LAYOUT_YUV422, 8, AV_PIX_FMT_YUV422P},    {AIE_LAYOUT_YUV422, 10, AV_PIX_FMT_YUV422P10LE},
    {AIE_LAYOUT_YUV422, 12, AV_PIX_FMT_YUV422P12LE}, {AIE_LAYOUT_YUV422, 16, AV_PIX_FMT_YUV422P16LE},
    {AIE_LAYOUT_YUV444, 8, AV_PIX_FMT_YUV444P},    {AIE_LAYOUT_YUV444, 10, AV_PIX_FMT_YUV444P10LE},
    {AIE_LAYOUT_YUV444, 12, AV_PIX_FMT_YUV444P12LE}, {AIE_LAYOUT_YUV444, 16, AV_PIX_FMT_YUV444P16LE},
    {AIE_LAYOUT_GRAY, 8, AV_PIX_FMT_GRAY8},        {AIE_LAYOUT_GRAY, 10, AV_PIX_FMT_GRAY10LE},
    {AIE_LAYOUT_GRAY, 12, AV_PIX_FMT_GRAY12LE},    {AIE_LAYOUT_GRAY, 16, AV_PIX_FMT_GRAY16LE},
    {AIE_LAYOUT_RGB, 8, AV_PIX_FMT_GBRP},          {AIE_LAYOUT_RGB, 10, AV_PIX_FMT_GBRP10LE},
    {AIE_LAYOUT_RGB, 12, AV_PIX_FMT_GBRP12LE},     {AIE_LAYOUT_RGB, 16, AV_PIX_FMT_GBRP16LE},
    {AIE_LAYOUT_RGBA, 8, AV_PIX_FMT_GBRAP},        {AIE_LAYOUT_RGBA, 10, AV_PIX_FMT_GBRAP10LE},
    {AIE_LAYOUT_RGBA, 12, AV_PIX_FMT_GBRAP12LE},   {AIE_LAYOUT_RGBA, 16, AV_PIX_FMT_GBRAP16LE},
};

enum AVPixelFormat aie_pixfmt_from_aie(AieLayout layout, int depth)
{
    int d = depth <= 8 ? 8 : depth <= 10 ? 10 : depth <= 12 ? 12 : 16;
    for (size_t i = 0; i < sizeof(fmt_table) / sizeof(fmt_table[0]); i++)
        if (fmt_table[i].layout == layout && fmt_table[i].depth == d)
            return fmt_table[i].fmt;
    return AV_PIX_FMT_NONE;
}

int aie_pixfmt_to_aie(enum AVPixelFormat fmt, AieLayout *layout, int *depth)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)))
        return AIE_EUNSUP;
    int bits = d->comp[0].depth;
    for (int i = 1; i < d->nb_components; i++)
        if (d->comp[i].depth > bits)
            bits = d->comp[i].depth;
    *depth = bits <= 8 ? 8 : bits <= 10 ? 10 : bits <= 12 ? 12 : 16;
    int alpha = (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
    int rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) || (d->flags & AV_PIX_FMT_FLAG_PAL);
    if (d->flags & AV_PIX_FMT_FLAG_FLOAT)
        *depth = 16;
    if (rgb || alpha) {
        /* RGB(A), palette, YUVA and gray+alpha all become RGB or RGBA */
        *layout = alpha || (d->flags & AV_PIX_FMT_FLAG_PAL) ? AIE_LAYOUT_RGBA : AIE_LAYOUT_RGB;
        return 0;
    }
    if (d->nb_components == 1) {
        *layout = AIE_LAYOUT_GRAY;
        return 0;
    }
    if (d->log2_chroma_w == 1 && d->log2_chroma_h == 1)
        *layout = AIE_LAYOUT_YUV420;
    else if (d->log2_chroma_w == 1 && d->log2_chroma_h == 0)
        *layout = AIE_LAYOUT_YUV422;
    else if (d->log2_chroma_w == 0 && d->log2_chroma_h == 0)
        *layout = AIE_LAYOUT_YUV444;
    else
        *layout = AIE_LAYOUT_YUV444; /* 4:1:0, 4:1:1, 4:4:0: keep all chroma detail */
    return 0;
}

/* Plane i of an aie frame is plane map[i] of the planar AV format (GBR order). */
static int av_plane(AieLayout layout, int i)
{
    static const int gbr[4] = {2, 0, 1, 3};
    return layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA ? gbr[i] : i;
}

static int is_yuv(enum AVPixelFormat f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f);
    return d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) && d->nb_components >= 3;
}

static int sws_colorspace(int matrix, int h)
{
    switch (matrix) {
    case 1: return SWS_CS_ITU709;
    case 4: return SWS_CS_FCC;
    case 5:
    case 6: return SWS_CS_ITU601;
    case 7: return SWS_CS_SMPTE240M;
    case 9:
    case 10: return SWS_CS_BT2020;
    default: return h >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

static int get_sws(Converter *c, int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                   enum AVPixelFormat df, int matrix, int rin, int rout)
{
    if (c->sws && c->sw == sw && c->sh == sh && c->sfmt == sf && c->dw == dw && c->dh == dh &&
        c->dfmt == df && c->matrix == matrix && c->range_in == rin && c->range_out == rout)
        return 0;
    sws_freeContext(c->sws);
    /* accurate rounding and full chroma interpolation: conversions only, no scaling */
    c->sws = sws_getContext(sw, sh, sf, dw, dh, df,
                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP,
                            NULL, NULL, NULL);
    if (!c->sws) /* with both formats supported, only memory can be short */
        return sws_isSupportedInput(sf) && sws_isSupportedOutput(df) ? AIE_ENOMEM : AIE_EUNSUP;
    int cs = sws_colorspace(matrix, sh);
    const int *coef = sws_getCoefficients(cs);
    /* range: 1 = full (JPEG) for swscale; unspecified YUV means limited, RGB full */
    int src_full = rin == 2 || (rin == 0 && !is_yuv(sf));
    int dst_full = rout == 2 || (rout == 0 && !is_yuv(df));
    sws_setColorspaceDetails(c->sws, coef, src_full, coef, dst_full, 0, 1 << 16, 1 << 16);
    c->sw = sw;
    c->sh = sh;
    c->sfmt = sf;
    c->dw = dw;
    c->dh = dh;
    c->dfmt = df;
    c->matrix = matrix;
    c->range_in = rin;
    c->range_out = rout;
    return 0;
}

void aie_converter_free(Converter *c)
{
    sws_freeContext(c->sws);
    c->sws = NULL;
}

static void free_avframe(void *opaque)
{
    AVFrame *f = opaque;
    av_frame_free(&f);
}

int aie_convert_from_av(Converter *c, const AVFrame *src, AieLayout layout, int depth, AieFrame **out)
{
    *out = NULL;
    enum AVPixelFormat want = aie_pixfmt_from_aie(layout, depth);
    int range = src->color_range;
    if (src->format == AV_PIX_FMT_YUVJ420P || src->format == AV_PIX_FMT_YUVJ422P ||
        src->format == AV_PIX_FMT_YUVJ444P || src->format == AV_PIX_FMT_YUVJ440P ||
        src->format == AV_PIX_FMT_YUVJ411P)
        range = AVCOL_RANGE_JPEG;
    if (src->format == want) {
        AVFrame *ref = av_frame_clone(src);
        if (!ref)
            return AIE_ENOMEM;
        uint8_t *data[4] = {0};
        ptrdiff_t stride[4] = {0};
        for (int i = 0; i < aie_layout_planes(layout); i++) {
            data[i] = ref->data[av_plane(layout, i)];
            stride[i] = ref->linesize[av_plane(layout, i)];
        }
        int err = aie_frame_wrap(out, src->width, src->height, layout, depth, data, stride,
                                 free_avframe, ref);
        if (err)
            av_frame_free(&ref);
        if (!err)
            (*out)->color.range = range;
        return err;
    }
    /* convert: YUV sources keep their range; RGB results are full range */
    int rout = (layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA) ? 2 : range;
    enum AVPixelFormat sfmt = src->format;
    switch (sfmt) { /* swscale wants the non-J formats plus an explicit range */
    case AV_PIX_FMT_YUVJ420P: sfmt = AV_PIX_FMT_YUV420P; break;
    case AV_PIX_FMT_YUVJ422P: sfmt = AV_PIX_FMT_YUV422P; break;
    case AV_PIX_FMT_YUVJ444P: sfmt = AV_PIX_FMT_YUV444P; break;
    case AV_PIX_FMT_YUVJ440P: sfmt = AV_PIX_FMT_YUV440P; break;
    case AV_PIX_FMT_YUVJ411P: sfmt = AV_PIX_FMT_YUV411P; break;
    default: break;
    }
    int err = get_sws(c, src->width, src->height, sfmt, src->width, src->height, want,
                      src->colorspace, range, rout);
    if (err)
        return err;
    AieFrame *f;
    if ((err = aie_frame_alloc(&f, src->width, src->height, layout, depth)))
        return err;
    uint8_t *dd[4] = {0};
    int dl[4] = {0};
    for (int i = 0; i < f->nplanes; i++) {
        dd[av_plane(layout, i)] = f->data[i];
        dl[av_plane(layout, i)] = (int)f->stride[i];
    }
    sws_scale(c->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dd, dl);
    f->color.range = rout;
    *out = f;
    return 0;
}

int aie_convert_to_av(Converter *c, const AieFrame *src, AVFrame *dst, int dst_range, int dst_matrix)
{
    enum AVPixelFormat sfmt = aie_pixfmt_from_aie(src->layout, src->depth);
    const uint8_t *sd[4] = {0};
    int sl[4] = {0};
    for (int i = 0; i < src->nplanes; i++) {
        sd[av_plane(src->layout, i)] = src->data[i];
        sl[av_plane(src->layout, i)] = (int)src->stride[i];
    }
    if (sfmt == dst->format && src->width == dst->width && src->height == dst->height) {
        av_image_copy(dst->data, dst->linesize, sd, sl, sfmt, src->width, src->height);
        return 0;
    }
    /* RGB -> YUV uses the output's matrix; YUV -> RGB the source's */
    int matrix = is_yuv(sfmt) ? src->color.matrix : dst_matrix;
    int err = get_sws(c, src->width, src->height, sfmt, dst->width, dst->height, dst->format,
                      matrix, src->color.range, dst_range);
    if (err)
        return err;
    sws_scale(c->sws, sd, sl, 0, src->height, dst->data, dst->linesize);
    return 0;
}

int aie_convert_aie(Converter *c, const AieFrame *src, AieLayout layout, int depth, int dst_range,
                    AieFrame **out)
{
    *out = NULL;
    AieFrame *f;
    int err = aie_frame_alloc(&f, src->width, src->height, layout, depth);
    if (err)
        return err;
    enum AVPixelFormat sfmt = aie_pixfmt_from_aie(src->layout, src->depth);
    enum AVPixelFormat dfmt = aie_pixfmt_from_aie(layout, depth);
    const uint8_t *sd[4] = {0};
    int sl[4] = {0};
    uint8_t *dd[4] = {0};
    int dl[4] = {0};
    for (int i = 0; i < src->nplanes; i++) {
        sd[av_plane(src->layout, i)] = src->data[i];
        sl[av_plane(src->layout, i)] = (int)src->stride[i];
    }
    for (int i = 0; i < f->nplanes; i++) {
        dd[av_plane(layout, i)] = f->data[i];
        dl[av_plane(layout, i)] = (int)f->stride[i];
    }
    err = get_sws(c, src->width, src->height, sfmt, src->width, src->height, dfmt,
                  src->color.matrix, src->color.range, dst_range);
    if (err) {
        aie_frame_unref(&f);
        return err;
    }
    sws_scale(c->sws, sd, sl, 0, src->height, dd, dl);
    f->color = src->color;
    f->color.range = dst_range;
    if (layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA)
        f->color.matrix = 0;
    *out = f;
    return 0;
}
