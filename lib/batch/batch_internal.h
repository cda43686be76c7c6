/* Private helpers of lib/batch. */
#ifndef AIE_BATCH_INTERNAL_H
#define AIE_BATCH_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "aie/batch.h"
#include "aie/error.h"

/* A growable string. */
typedef struct Buf {
    char *s;
    size_t len, cap;
    int oom;
} Buf;

void aie_buf_add(Buf *b, const char *s, size_t n);
void aie_buf_puts(Buf *b, const char *s);
void aie_buf_putc(Buf *b, char c);
void aie_buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the string (NUL-terminated; NULL on allocation failure) and reset. */
char *aie_buf_take(Buf *b);
void aie_buf_free(Buf *b);


/* Tokenizer: words of the command starting at text[*pos], up to an unquoted
 * newline (consumed) or the end. *line counts newlines (continuations too).
 * *special is set when an unquoted shell operator or expansion appears.
 * Returns 0 or AIE_EINVAL/AIE_ENOMEM. */
int aie_words_next(const char *text, size_t len, size_t *pos, int *line, char ***words, int *nwords,
                   int *special, char *err, size_t errlen, const char *name);

/* Canonical command text of argv. */
char *aie_words_join(char *const *argv);

/* Quote for /bin/sh (single quotes; never $'...'). */
char *aie_words_shquote(const char *w);

/* Append a job (takes ownership of words and cmd). Fills seq = n + 1 and the
 * declared inputs/outputs of aie tools. */
int aie_list_add(AieBatchList *l, char **words, int nwords, char *cmd, int line, int special);

/* aie tool detection and -i/-o scanning */
int aie_job_is_aie_tool(char *const *argv);
const char *aie_job_tool_name(char *const *argv);
int aie_job_declared(AieBatchJob *j);
void aie_job_free(AieBatchJob *j);

/* Absolute, lexically normalised path ("" on failure); existing directories are
 * resolved with realpath. */
void aie_path_normalise(const char *p, char *out, size_t outlen);
int aie_path_is_pattern(const char *p);     /* a printf %d pattern */
int aie_path_is_regular_output(const char *p); /* not "-" nor an existing device/FIFO */
/* The directory part of an output path into dir (1), or 0 when there is none
 * to create ("-", no slash, ".", "/"). */
int aie_path_out_dir(const char *p, char *dir, size_t n);
/* mkdir -p (mode 0777 less the umask). Returns 0 or an errno value. */
int aie_path_mkdirs(const char *dir);

/* Resolve a command name over PATH (names with a slash are returned as they
 * are). Returns a malloc'd path, or NULL with *why = ENOENT/EACCES. */
char *aie_exec_resolve(const char *name, const char *path, int *why);

/* Run argv to completion, capturing stdout (up to cap bytes) and the first
 * line of stderr. Returns the exit status, 128+signal, or a negative AIE_E*. */
int aie_exec_capture(const AieBatchExec *ex, char *const *argv, char **out, size_t cap, char *errline,
                     size_t errlen);

/* Scene-cut snapping of chunk edges (chunk.c). */
void aie_chunk_snap_edges(const char *source, int64_t *firsts, int64_t *lasts, int n, int overlap,
                          double fps);

/* Wall clock in seconds since the epoch. */
double aie_batch_now(void);

#endif
