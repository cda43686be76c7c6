#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "aie/error.h"

const char *aie_strerror(int err)
{
    switch (err) {
#define AIE_X_CASE(name, value, msg) \
    case value:                      \
        return msg;
        AIE_ERROR_LIST(AIE_X_CASE)
#undef AIE_X_CASE
    }
    return "unknown error";
}

int aie_error_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return AIE_OK;
    case ENOMEM: return AIE_ENOMEM;
    case ENOENT: return AIE_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS: return AIE_EACCES;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return AIE_ENOSPC;
    case EPIPE: return AIE_EPIPE;
    case EEXIST: return AIE_EEXIST;
    case ENOTDIR: return AIE_ENOTDIR;
    case EINVAL: return AIE_EINVAL;
    case ETIMEDOUT: return AIE_ETIMEOUT;
    default: return AIE_EIO;
    }
}

void aie_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void aie_warnf(AieWarnFn warn, void *opaque, const char *fmt, ...)
{
    if (!warn)
        return;
    char m[AIE_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    warn(opaque, m);
}
