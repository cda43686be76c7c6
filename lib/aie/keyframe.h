/*
 * Keyframe style: a painted frame (or a style exemplar) carried through a
 * shot by guided patch-based synthesis (after Jamriska et al., "Stylizing
 * Video by Example", 2019).
 *
 * Every output pixel is voted from patches of the painted keyframe, matched
 * with a nearest-neighbour field (PatchMatch: jump-flood propagation and
 * random search, coarse to fine) under these guides: the source frame's
 * colours against the keyframe's source frame, edges (Sobel magnitude of
 * luma), and the previous stylised frame advected along aie's dense flow (the
 * temporal guide, with the previous field advected as the starting field).
 * Where the flow fails its forward-backward check the temporal guide's weight
 * falls to zero and the spatial guides decide. The painted keyframe may be
 * any size with the video's aspect (it is scaled, bicubic), RGB or RGBA: the
 * alpha is carried like a colour and the source frame shows through where it
 * is below 255.
 *
 * Several keyframes: a frame takes the forward pass of the nearest keyframe
 * before it and the backward pass of the nearest after it in the same shot,
 * blended linearly by the distance in frames; with one of them only, that
 * one. Shots (aie_scene_cut) stop propagation: a shot with no keyframe is
 * passed through unchanged (or dropped with shot_only).
 *
 * With an exemplar instead of keyframes, every shot is synthesised from the
 * exemplar (guides: luminance matched in mean and deviation, and edges), and
 * kept stable by the same temporal guide.
 *
 * Streaming: frames are pushed in order and come out in order. Held in
 * memory: every painted keyframe at the video size (4 bytes a pixel), the
 * guide pyramids of two keyframes (about 11 bytes a pixel each), and per
 * pass one previous frame, its stylised picture and its field (about 30
 * bytes a pixel with the flow), whatever the length of the shot. Frames that
 * wait for a keyframe later in the shot (the backward pass) are spilled to
 * an unlinked file in the scratch directory, with their forward result, and
 * read back frame by frame; their side packets (audio) stay in memory.
 *
 * Synthesis works on 8-bit RGB; the output has the input's format. Results
 * are bit-identical for any pool size.
 */
#ifndef AIE_KEYFRAME_H
#define AIE_KEYFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "aie/frame.h"
#include "aie/stage.h"
#include "aie/thread.h"

typedef enum AieKeyframeMethod {
    AIE_KEYFRAME_SYNTH = 0, /* guided patch synthesis (the default) */
    AIE_KEYFRAME_WARP,      /* the baseline: the previous output warped along the flow */
} AieKeyframeMethod;

typedef struct AieKeyframeParams {
    AieKeyframeMethod method;
    int patch;            /* odd patch size 3..7 [5] */
    int iterations;       /* PatchMatch rounds per level [2] */
    int w_source, w_edge, w_temporal; /* guide weights 0..64 [8, 4, 1] */
    int shot_only;        /* drop the shots without a keyframe */
    double cut_threshold; /* 0 = AIE_SCENE_THRESHOLD_DEFAULT */
    const char *scratch_dir; /* directory of the spill file; NULL = "/tmp" */
    void (*note)(void *opaque, const char *msg); /* one line per passed-through shot; may be NULL */
    void *note_opaque;
} AieKeyframeParams;

void aie_keyframe_params_default(AieKeyframeParams *p);

typedef struct AieKeyframe AieKeyframe;

/* An engine for frames of width x height, layout and depth. */
int aie_keyframe_create(AieKeyframe **out, const AieKeyframeParams *p, int width, int height,
                        AieLayout layout, int depth, unsigned cpu_flags);
void aie_keyframe_free(AieKeyframe **kf);

/* Add the painting of input frame `index` (0-based): GRAY, RGB or RGBA, depth
 * 8 or 16, of the video's aspect within a pixel. err gets one line. Returns
 * 0, AIE_EEXIST (the index has a keyframe), AIE_EINVAL (aspect, format, or an
 * exemplar was set) or AIE_ENOMEM. */
int aie_keyframe_add(AieKeyframe *kf, int64_t index, const AieFrame *painted, char *err, size_t errlen);

/* Use a style exemplar (any size up to 4 times the video's pixels) instead
 * of keyframes. Same formats and codes as aie_keyframe_add. */
int aie_keyframe_set_exemplar(AieKeyframe *kf, const AieFrame *exemplar, char *err, size_t errlen);

/* Receives an output frame (takes the reference). Returns 0 or an error. */
typedef int (*AieKeyframeEmitFn)(void *opaque, AieFrame *f);

/* Push the next input frame (in order; the engine takes no reference it does
 * not keep), or NULL at the end. Outputs are handed to emit in order, with
 * the input's timing and side packets. At the end, a keyframe past the last
 * frame is AIE_EINVAL. Returns 0 or an error; aie_keyframe_error() has a
 * line about it. Not thread-safe: one push at a time. */
int aie_keyframe_push(AieKeyframe *kf, AieFrame *in, AieKeyframeEmitFn emit, void *opaque, AiePool *pool);

/* A line about the last error ("" when none). */
const char *aie_keyframe_error(const AieKeyframe *kf);

/* Frames pushed so far, and shots seen. */
int64_t aie_keyframe_frames(const AieKeyframe *kf);
int aie_keyframe_shots(const AieKeyframe *kf);

/* The engine as a stage (aie/stage.h): one frame in flight, in order, and a
 * flush job at the end. Takes *kf (set to NULL on success). method names the
 * run ("keyframe", "keyframe-warp", "exemplar"). */
int aie_keyframe_stage_open(AieStage **out, AieKeyframe **kf, const AieVideoInfo *in, const char *method);
/* The engine's own error text for a stage made above ("" or NULL otherwise). */
const char *aie_keyframe_stage_error(const AieStage *s);

#endif /* AIE_KEYFRAME_H */
