/*
 * Motion: dense optical flow both ways between two frames, a scene-cut
 * detector, and frame synthesis at any time t in (0, 1).
 *
 * Flow (AieFlow) is a field of displacements sampled on a grid that is the
 * frame's luma size divided by 2^scale_log2 (rounded up). u, v are in pixels
 * of the full-resolution luma plane: the point at full-resolution position
 * (X, Y) of frame A is at (X + u, Y + v) in frame B. The field sample (i, j)
 * stands for the full-resolution position ((i + 0.5) * 2^s - 0.5,
 * (j + 0.5) * 2^s - 0.5).
 *
 * Estimation is a coarse-to-fine pyramid of inverse-search patch flow (DIS,
 * Kroeger et al. 2016) with mean-normalised patches and damped Gauss-Newton
 * steps, densification by photometric weights, and a variational refinement
 * at every level (brightness and gradient constancy, robust smoothness).
 *
 * Everything here works on the luma plane of YUV and GRAY frames, and on G
 * of RGB(A) frames; synthesis writes every plane, chroma with the luma
 * motion scaled to the plane's subsampling. 8- to 16-bit samples.
 *
 * Thread safety: an AieMotion may be used from several threads at once (each
 * call takes its own scratch). Calls split their work over the pool given
 * with aie_pool_parallel_for (NULL runs on the calling thread); the results
 * do not depend on the pool or on the number of threads.
 */
#ifndef AIE_MOTION_H
#define AIE_MOTION_H

#include <stddef.h>

#include "aie/frame.h"
#include "aie/thread.h"

typedef struct AieFlow {
    int width, height;   /* field samples */
    int scale_log2;      /* one sample per 2^s x 2^s luma pixels */
    ptrdiff_t stride;    /* floats between rows of u and of v */
    float *u, *v;        /* owned by the field */
} AieFlow;

/* A zeroed field for a frame of frame_w x frame_h luma pixels. */
int aie_flow_alloc(AieFlow **out, int frame_w, int frame_h, int scale_log2);
void aie_flow_free(AieFlow **f);

/* Estimator settings; aie_motion_params_default() fills good ones. */
typedef struct AieMotionParams {
    int finest_level;   /* pyramid level of the output field (0 = full size), -1 for
                         * automatic: the first level at most 480 samples wide [-1] */
    int patch_stride;   /* DIS patch grid step, 2..8 (patches are 8x8) [4] */
    int iterations;     /* inverse-search iterations per patch [12] */
    int var_iterations; /* variational refinement iterations per level, 0 = none [5] */
} AieMotionParams;

void aie_motion_params_default(AieMotionParams *p);

typedef struct AieMotion AieMotion;

/* An estimator for frames of width x height luma pixels. cpu_flags picks the
 * kernels (aie_cpu_flags(), possibly masked). */
int aie_motion_create(AieMotion **out, int width, int height, const AieMotionParams *p,
                      unsigned cpu_flags);
void aie_motion_free(AieMotion **m);

/* The grid of the fields this estimator produces. */
void aie_motion_field_size(const AieMotion *m, int *w, int *h, int *scale_log2);

/* Dense flow from a to b (ab) and from b to a (ba); either may be NULL (ba
 * skips the variational refinement at the finest level). The
 * fields must come from aie_flow_alloc() with the estimator's grid. Frames
 * must have the estimator's size and one layout and depth between them.
 * Returns 0, AIE_EINVAL or AIE_ENOMEM. */
int aie_motion_estimate(AieMotion *m, const AieFrame *a, const AieFrame *b, AieFlow *ab,
                        AieFlow *ba, AiePool *pool);

/* Share of field samples (0..1) failing the forward-backward check: a sample
 * x fails when |ab(x) + ba(x + ab(x))| > 1 px + 5% of |ab(x)|, or when
 * x + ab(x) leaves the frame. */
double aie_flow_unreliable(const AieFlow *ab, const AieFlow *ba);

/* Mean end-point error in full-resolution pixels of f against a reference
 * field of the same grid, over samples at least `border` samples from the
 * edges. */
double aie_flow_epe(const AieFlow *f, const AieFlow *ref, int border);

/* Paint a field as a colour wheel into an RGB frame of the field's size
 * (depth 8): hue is the direction (right red, down yellow-green, left cyan,
 * up blue-violet, the Middlebury wheel), saturation the speed, full at
 * max_px pixels (max_px <= 0: the 98th percentile of the speeds in the field, at least
 * 1 px); faster samples are drawn darker. Still pixels are white. */
int aie_flow_paint(const AieFlow *f, AieFrame *rgb, double max_px);

/* ---- scene cuts ---- */

/* Features of one frame for the cut detector: a 64x36 luma thumbnail made
 * zero-mean and unit-variance (so fades and uniform flashes leave it alone),
 * its mean and its contrast. */
#define AIE_SCENE_TW 64
#define AIE_SCENE_TH 36
typedef struct AieSceneFeat {
    float thumb[AIE_SCENE_TW * AIE_SCENE_TH];
    float mean;     /* 0..1 */
    float contrast; /* standard deviation, 0..1 */
} AieSceneFeat;

void aie_scene_features(const AieFrame *f, AieSceneFeat *out);

/* Difference of two frames in [0, 2]: 1 - the best normalised correlation of
 * the thumbnails over shifts of up to 3 thumbnail pixels (so pans and shakes
 * count little). Two flat frames (contrast < 2%) differ by 0; one flat frame
 * against a textured one by 0.5 (a fade through black is no cut). */
double aie_scene_diff(const AieSceneFeat *a, const AieSceneFeat *b);

#define AIE_SCENE_WINDOW 5
#define AIE_SCENE_THRESHOLD_DEFAULT 0.45

/* Is there a cut between win[2] and win[3]? win[0], win[1] are the two frames
 * before win[2] and win[4] the frame after win[3]; any of those three may be
 * NULL at the ends of a clip. A cut needs diff(win[2], win[3]) above
 * `threshold` (down to half of it when the frames around are still) and well
 * above the differences of the pairs around it (adaptive: high-motion shots
 * do not fire), and no flash: when win[4] (or win[1]) matches the frame
 * across the jump, the odd frame is a flash. */
int aie_scene_cut(const AieSceneFeat *const win[AIE_SCENE_WINDOW], double threshold);

/* ---- frame synthesis ---- */

/* Motion of one pair of frames, estimated once and used for every t. */
typedef struct AiePairMotion {
    AieFlow *ab, *ba;
    double unreliable; /* aie_flow_unreliable(ab, ba) once aie_pair_motion_unreliable()
                        * has run, -1 before (it costs a pass over the fields) */
} AiePairMotion;

typedef struct AieInterp AieInterp;

/* A synthesiser for frames of width x height, layout and depth. */
int aie_interp_create(AieInterp **out, int width, int height, AieLayout layout, int depth,
                      const AieMotionParams *p, unsigned cpu_flags);
void aie_interp_free(AieInterp **ip);

/* Estimate the motion of the pair (a, b). Free with aie_pair_motion_free(),
 * before the synthesiser (freed pairs are kept for reuse by the synthesiser,
 * so a stream of pairs allocates no memory). */
int aie_interp_analyse(AieInterp *ip, const AieFrame *a, const AieFrame *b,
                       AiePairMotion **out, AiePool *pool);
void aie_pair_motion_free(AiePairMotion **pm);

/* pm->unreliable, computed on the first call (rows split over the pool). */
double aie_pair_motion_unreliable(AiePairMotion *pm, AiePool *pool);

/* Write the frame at time t in (0, 1) between a (t = 0) and b (t = 1) into
 * dst (allocated by the caller with the synthesiser's geometry): both frames
 * are warped toward t along the motion at t, each pixel weighted by its
 * visibility in each frame (forward-backward consistency) and by the distance
 * in time; where the motion is unreliable the result fades softly into the
 * plain blend. pm NULL gives the plain blend (1 - t) a + t b. t in (1, 2)
 * extrapolates: b alone, moved on along its motion (needs pm). When flow_t is
 * not NULL (a field of the estimator's grid), it receives the motion at t
 * (a -> b displacement of the point at each sample). Only pixels are
 * written: the caller sets dst's timing and metadata. */
int aie_interp_synth(AieInterp *ip, const AiePairMotion *pm, const AieFrame *a,
                     const AieFrame *b, double t, AieFrame *dst, AieFlow *flow_t, AiePool *pool);

/* The estimator the synthesiser uses (for its field grid). */
const AieMotion *aie_interp_motion(const AieInterp *ip);

#endif /* AIE_MOTION_H */
