/*
 * Looks: colour LUTs (.cube), applied to frames in RGB.
 *
 * LUT files are parsed from memory (the caller reads the file; the library
 * touches no files). A parsed AieLut is immutable and may be shared by
 * threads. An AieStyle applies a LUT to frames of one format; it converts
 * YUV to RGB itself, in float, with the frame's matrix (H.273: 1 BT.709,
 * 5/6 BT.601, 9/10 BT.2020; unspecified: BT.709 above 576 lines, else
 * BT.601) and range (limited unless full is tagged). Chroma is upsampled by
 * replication and downsampled by averaging, in the R'G'B' -> Y'CbCr domain.
 * RGB input is used as is. Interpolation runs at 16-bit precision whatever
 * the input depth (see lib/dsp/lut3d.h for the fixed-point rules).
 */
#ifndef AIE_LOOK_H
#define AIE_LOOK_H

#include <stddef.h>

#include <stdint.h>

#include "aie/frame.h"
#include "aie/stage.h"
#include "aie/thread.h"

/* Sizes accepted in .cube files. */
#define AIE_LUT3D_MIN 2
#define AIE_LUT3D_MAX 65
#define AIE_LUT1D_MAX 65536

typedef struct AieLut AieLut;

typedef struct AieLutInfo {
    int dims;              /* 1 or 3 */
    int size;              /* points per axis */
    double domain_min[3], domain_max[3];
    const char *title;     /* "" when the file has none; owned by the LUT */
} AieLutInfo;

/* Parse a .cube file held in text[0 .. len - 1]: TITLE, LUT_1D_SIZE or
 * LUT_3D_SIZE, DOMAIN_MIN, DOMAIN_MAX (LUT_1D/3D_INPUT_RANGE lo hi are read as
 * a domain too), '#' comments and blank lines, then the entries, red fastest.
 * Every entry must lie within [DOMAIN_MIN, DOMAIN_MAX] of its channel; the
 * bounds must lie within +-1e9 and be at least 1e-9 apart.
 * Returns 0, AIE_EFORMAT (with "line N: reason" in err) for a malformed file,
 * AIE_EINVAL for bad arguments or AIE_ENOMEM. Free with aie_lut_free(). */
int aie_lut_parse(AieLut **out, const char *text, size_t len, char *err, size_t errlen);
/* Read path whole (a regular file or an anonymous pipe, at most 64 MiB; see
 * aie_fs_open_regular()) and parse it; err gets "FILE: line N: reason" or
 * "FILE: reason". */
int aie_lut_load(AieLut **out, const char *path, char *err, size_t errlen);
void aie_lut_info(const AieLut *lut, AieLutInfo *info);
void aie_lut_free(AieLut **lut);

/* Value of the LUT at rgb (in its domain), by the same interpolation the
 * frames get but in double precision; used by tests and exporters. */
void aie_lut_eval(const AieLut *lut, int tetrahedral, const double in[3], double out[3]);

typedef enum AieLutInterp {
    AIE_INTERP_TETRAHEDRAL = 0,
    AIE_INTERP_TRILINEAR,
} AieLutInterp;

/* "tetrahedral"/"trilinear" <-> enum; parse returns -1 when unknown. */
int aie_lut_interp_parse(const char *name, AieLutInterp *out);
const char *aie_lut_interp_name(AieLutInterp interp);

/* Colour transfer from a reference picture. */
typedef enum AieTransfer {
    AIE_TRANSFER_MKL = 0, /* Monge-Kantorovich linear map (Pitie & Kokaram 2007), on R'G'B' */
    AIE_TRANSFER_REINHARD /* mean and deviation in l-alpha-beta (Reinhard et al. 2001) */
} AieTransfer;

int aie_transfer_parse(const char *name, AieTransfer *out); /* "mkl", "reinhard"; -1 when unknown */
const char *aie_transfer_name(AieTransfer t);

/* Artistic abstraction (after the transfer and the LUT). */
typedef enum AieLook {
    AIE_LOOK_NONE = 0,
    AIE_LOOK_TOON,   /* separable bilateral x iterations, DoG edges, soft luminance quantisation (Winnemoller 2006) */
    AIE_LOOK_SKETCH, /* XDoG lines (Winnemoller 2012) */
    AIE_LOOK_OIL,    /* anisotropic Kuwahara, polynomial sector weights (Kyprianidis 2009/2011) */
} AieLook;

int aie_look_parse(const char *name, AieLook *out); /* "toon", "sketch", "oil"; -1 when unknown */
const char *aie_look_name(AieLook look);

typedef struct AieLookParams {
    AieLook look;
    int levels;       /* toon: luminance levels (2..32) [8] */
    int iterations;   /* toon: bilateral iterations (1..8) [2] */
    double sigma_s;   /* toon: bilateral spatial sigma in px [2]; oil: radius in px [4] */
    double sigma_r;   /* toon: bilateral range sigma (luma 0..1) [0.1] */
    double edge;      /* toon/sketch: line strength 0..1 [1] */
    double damping;   /* temporal damping 0..1 [0.6]: weight of the previous frames in still areas */
} AieLookParams;

/* Fill the defaults above (look unchanged). */
void aie_look_defaults(AieLookParams *p);

typedef struct AieStyleParams {
    const AieLut *lut;      /* NULL = no LUT; the style keeps its own copy */
    AieLutInterp interp;
    /* Colour transfer: the reference picture (NULL = none; only read during
     * aie_style_create), the method and the strength 0..1 (0 = identity). */
    const AieFrame *reference;
    AieTransfer transfer;
    double strength;
    double cut_threshold;   /* scene cuts (aie/motion.h); 0 = AIE_SCENE_THRESHOLD_DEFAULT */
    AieLookParams look;     /* look.look = AIE_LOOK_NONE for none */
} AieStyleParams;

/* Frames a job needs to see before its own for aie_style_process() (the
 * pipeline's history): 4 with a reference or a look, else 0. */
#define AIE_STYLE_HISTORY 4

typedef struct AieStyle AieStyle;

/* A style for frames of width x height, layout and depth (any AieLayout;
 * RGBA keeps alpha). Returns 0, AIE_EINVAL or AIE_ENOMEM. */
int aie_style_create(AieStyle **out, const AieStyleParams *p, int width, int height,
                     AieLayout layout, int depth, unsigned cpu_flags);
/* Apply the LUT to in, writing out (same geometry and format; out != in).
 * Thread-safe: several frames may be processed at once. pool may be NULL.
 * A style with a reference or a look needs aie_style_process() (AIE_EINVAL). */
int aie_style_apply(AieStyle *s, const AieFrame *in, AieFrame *out, AiePool *pool);
void aie_style_free(AieStyle **s);

/* Process frame `seq` of a clip (0-based, every frame once, any order, any
 * thread), given the frames before it: prev[0] is frame seq - 1, and so on,
 * nprev of them (fewer at the start). With a reference, the source statistics
 * are those of this frame and of the frames before it in the same shot, up to
 * AIE_STYLE_HISTORY of them (a cut is detected with aie_scene_cut()), so the
 * transform moves smoothly within a shot and restarts at a cut. The colour
 * transfer comes first, then the LUT, folded into one 33-point 3D LUT per
 * frame, then the look (aie_look_*) on a temporally damped picture (the frame
 * mixed with up to 2 frames before it in still areas, within the shot).
 * Without a reference or a look it is aie_style_apply(). The result depends on
 * the frames only, not on the order or threads. */
int aie_style_process(AieStyle *s, int64_t seq, const AieFrame *in, AieFrame *const *prev, int nprev,
                      AieFrame *out, AiePool *pool);

/* Shots seen so far (1 or more once a frame was processed; 0 before). Call
 * after the last aie_style_process(). */
int aie_style_shots(const AieStyle *s);

/* The colour transfer of shot `shot` (1-based), from the statistics of all
 * its frames, as a .cube text with a size-`size` 3D LUT (2..65) in *text
 * (malloc'd; the caller frees). The LUT given with --lut is not included.
 * Returns 0, AIE_EINVAL (no reference, or no such shot) or AIE_ENOMEM. */
int aie_style_export_cube(const AieStyle *s, int shot, int size, char **text);

/* Temporal flicker of one frame pair: the mean absolute difference between
 * out_prev and out divided by that between in_prev and in, over the first
 * plane (luma, or red for RGB). 1 means the look adds no flicker. Returns
 * NAN when the inputs are identical or the frames do not match in format. */
double aie_style_flicker(const AieFrame *in_prev, const AieFrame *in, const AieFrame *out_prev,
                         const AieFrame *out);

/* The style as a stage (aie/stage.h) for frames of `in`: output frames of the
 * same format, the history it needs, and the flicker figure of the frames
 * aie_quality_every(quality_every, fps) picks (0: none) for the metrics log
 * ("flicker_index").
 * method is the name for the run record ("lut", "transfer+lut", ...),
 * describe the -v text. The stage owns a new AieStyle. */
int aie_style_stage_open(AieStage **out, const AieStyleParams *p, const AieVideoInfo *in, int quality_every,
                         unsigned cpu_flags, const char *method, const char *describe);
/* The AieStyle inside a stage made by aie_style_stage_open (shots, export);
 * NULL for another kind of stage. */
AieStyle *aie_style_stage_style(const AieStage *s);

#endif /* AIE_LOOK_H */
