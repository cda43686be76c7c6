/* Artistic abstraction filters on float R'G'B' planes (private to lib/look). */
#ifndef AIE_LOOK_ABSTRACT_H
#define AIE_LOOK_ABSTRACT_H

#include "aie/look.h"
#include "aie/thread.h"

/* Filter planes rgb[0..2] (w x h floats, 0..1, row stride w) in place.
 * scratch: 6 * w * h floats the caller owns (it reuses them across frames, so
 * a frame does not fault in fresh pages). Deterministic: the same bytes for any
 * pool size. Returns 0 or AIE_ENOMEM. */
int aie_look_abstract(const AieLookParams *p, float *const rgb[3], int w, int h, float *scratch,
                      AiePool *pool);

#endif
