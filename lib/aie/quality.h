/*
 * Quality figures for the metrics log: frame comparison and a per-run
 * accumulator with a sparse histogram (man/aie-metrics.5, "quality").
 */
#ifndef AIE_QUALITY_H
#define AIE_QUALITY_H

#include "aie/frame.h"

/* PSNR in dB of b against a: luma for YUV and gray, the mean of R, G and B
 * for RGB(A). Same size, layout and depth required (NAN otherwise);
 * INFINITY when identical. */
double aie_frame_psnr(const AieFrame *a, const AieFrame *b, unsigned cpu_flags);

/* The sampling step of a quality score: every Nth frame for every > 0, once
 * per second of video at fps for every < 0 (25 fps when unknown), 0 (never)
 * for every == 0. */
int aie_quality_every(int every, AieRational fps);

/* A thread-safe accumulator of one per-frame figure: count, mean, min, max and
 * a sparse histogram with bins of `bin` units (bin i holds values in
 * [i * bin, (i + 1) * bin)). */
typedef struct AieQualityAcc AieQualityAcc;

int aie_quality_create(AieQualityAcc **out, const char *name, double bin);
void aie_quality_add(AieQualityAcc *q, double value);
long aie_quality_count(const AieQualityAcc *q);
/* The time spent computing the scores so far, in ms (summed over threads);
 * reported as "<name>_cost_ms" once set. */
void aie_quality_set_cost(AieQualityAcc *q, double ms);
double aie_quality_mean(const AieQualityAcc *q);
/* Add "<name>" (the mean), "<name>_min", "<name>_max", "<name>_frames",
 * "<name>_identical" and "<name>_hist" [[i, count], ...] (with
 * "<name>_hist_bin") members to the JSON object text in *json (or start one
 * when *json is NULL). A +inf value (an identical frame's PSNR) counts in
 * _frames and _identical only: the mean, min, max and histogram are of the
 * finite values (null when there are none). NaN and -inf are ignored.
 * Returns 0 or AIE_ENOMEM; the caller frees *json. */
int aie_quality_json(const AieQualityAcc *q, char **json);
void aie_quality_free(AieQualityAcc **q);

#endif /* AIE_QUALITY_H */
