/*
 * aie error codes. Every library function returns 0 on success or one of the
 * negative AIE_E* codes below. The list is written once, as an X-macro, and
 * produces both the enum and aie_strerror(). Released values never change:
 * append new codes at the end.
 */
#ifndef AIE_ERROR_H
#define AIE_ERROR_H

#include <stddef.h>

/* X(name, value, message) */
#define AIE_ERROR_LIST(X)                                              \
    X(AIE_OK, 0, "success")                                            \
    X(AIE_ENOMEM, -1, "out of memory")                                 \
    X(AIE_EINVAL, -2, "invalid argument")                              \
    X(AIE_EIO, -3, "input/output error")                               \
    X(AIE_ENOENT, -4, "no such file or directory")                     \
    X(AIE_EACCES, -5, "permission denied")                             \
    X(AIE_EFORMAT, -6, "not a supported media file")                   \
    X(AIE_EDECODE, -7, "decoding failed")                              \
    X(AIE_EENCODE, -8, "encoding failed")                              \
    X(AIE_ETOOBIG, -9, "dimensions too large")                         \
    X(AIE_ECANCELLED, -10, "cancelled")                                \
    X(AIE_EOF, -11, "end of stream")                                   \
    X(AIE_ENOSPC, -12, "no space left on device")                      \
    X(AIE_EPIPE, -13, "broken pipe")                                   \
    X(AIE_EEXIST, -14, "output exists")                                \
    X(AIE_ESAME, -15, "output is the same file as the input")          \
    X(AIE_ETRUNC, -16, "input is truncated or damaged")                \
    X(AIE_EUNSUP, -17, "unsupported")                                  \
    X(AIE_EEMPTY, -18, "input has no frames")                          \
    X(AIE_ENOTDIR, -19, "no such directory")                           \
    X(AIE_EMODEL, -20, "invalid model file")                           \
    X(AIE_ETIMEOUT, -21, "timed out")                                  \
    X(AIE_ENONFINITE, -22, "the model produced NaN or infinite values")

enum AieError {
#define AIE_X_ENUM(name, value, msg) name = (value),
    AIE_ERROR_LIST(AIE_X_ENUM)
#undef AIE_X_ENUM
};

/* Size of the error-detail buffers the caller passes to functions that can
 * fail with more to say than the code (a file name, an FFmpeg message). */
#define AIE_ERRBUF_SIZE 512

/* Static description of an AIE_E* code; never NULL. */
const char *aie_strerror(int err);

/* Map an errno value to the closest AIE_E* code. */
int aie_error_from_errno(int errnum);

/* Format an error detail into err (errlen bytes, cut if longer); does nothing
 * when err is NULL or errlen is 0. */
void aie_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Called for non-fatal notes (an interlaced input, a stream the container
 * cannot hold). The library never prints: the tool decides. */
typedef void (*AieWarnFn)(void *opaque, const char *msg);

/* Format a note (cut at AIE_ERRBUF_SIZE) and hand it to warn; nothing when
 * warn is NULL. */
void aie_warnf(AieWarnFn warn, void *opaque, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* AIE_ERROR_H */
