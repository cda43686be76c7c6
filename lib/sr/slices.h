/* Splitting planes into row slices for the pool (private to lib/sr). */
#ifndef AIE_SR_SLICES_H
#define AIE_SR_SLICES_H

#include <stdint.h>

/* Append the slices of plane pl (h rows) to the task arrays at index ntasks:
 * slices of at least min_rows rows, at most per_plane and at most max of
 * them, at least one. Returns the new task count. */
static inline int sr_add_slices(unsigned char *plane, int *y0, int *y1, int ntasks, int pl, int h, int min_rows,
                                int per_plane, int max)
{
    int n = h / min_rows;
    n = n < 1 ? 1 : n > per_plane ? per_plane : n;
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++, ntasks++) {
        plane[ntasks] = (unsigned char)pl;
        y0[ntasks] = (int)((int64_t)h * i / n);
        y1[ntasks] = (int)((int64_t)h * (i + 1) / n);
    }
    return ntasks;
}

#endif
