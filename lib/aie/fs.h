/*
 * The file-safety layer (lib/fs): output files written under a temporary name
 * and renamed into place, no-clobber, stale-temp cleanup, and SHA-256. It sits
 * beneath every other part of the library but lib/core's error codes and uses
 * libc only, so algorithms, stats and batch code can write files safely
 * without going through the media layer (lib/io wraps the descriptor in an
 * AVIOContext).
 *
 * Outputs (DECISIONS.md "Outputs"):
 * - A regular file is written to ".NAME.aie-PID.tmp" in its directory, created
 *   with O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or link at that name is
 *   never opened: then ".NAME.aie-PID.XXXXXX.tmp", random, is tried). Commit
 *   fsyncs and renames it over NAME; with no_clobber the rename refuses to
 *   replace a file that appeared meanwhile (renameat2 RENAME_NOREPLACE, else
 *   link + unlink). Abort removes the temporary file, and only when the name
 *   still refers to the file this process created.
 * - "-" (standard output), devices, FIFOs and sockets are written in place.
 * - Temporary files of dead processes for the same NAME are removed when an
 *   output is opened: regular files only (never links), owned by this user.
 */
#ifndef AIE_FS_H
#define AIE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct AieFsOut AieFsOut;

typedef struct AieFsOutOpts {
    const char *const *inputs; /* files the output must not be (NULL entries and "-" skipped) */
    int ninputs;
    int no_clobber;            /* refuse an existing regular file, at open and at commit */
} AieFsOutOpts;

/* Open path for writing as described above. opts may be NULL. err gets one
 * line naming the file. Returns 0, AIE_ESAME, AIE_EEXIST (no_clobber),
 * AIE_ENOTDIR (missing directory), AIE_EACCES, AIE_EINVAL (a directory, not a
 * file name, a name too long) or another code from errno. */
int aie_fs_out_open(AieFsOut **out, const char *path, const AieFsOutOpts *opts, char *err,
                    size_t errlen);

/* The descriptor to write: the temporary file, the device, or 1 for "-". The
 * AieFsOut owns it (stdout's is never closed). */
int aie_fs_out_fd(const AieFsOut *o);

/* 1 when the output is written in place (stdout, a device, a FIFO). */
int aie_fs_out_direct(const AieFsOut *o);

/* 1 when the descriptor can seek (a regular temporary file or a seekable device). */
int aie_fs_out_seekable(const AieFsOut *o);

/* The path given at open, and the temporary name ("" when direct or done). */
const char *aie_fs_out_path(const AieFsOut *o);
const char *aie_fs_out_temp(const AieFsOut *o);

/* Flush to disk and rename into place (the commit point), then free. In place
 * outputs are only closed. On failure the temporary file is removed; err names
 * the file. AIE_EEXIST when no_clobber and the output appeared meanwhile.
 * Accepts *o == NULL (returns 0). */
int aie_fs_out_commit(AieFsOut **o, char *err, size_t errlen);

/* Remove the temporary file (if this process's) and free. Accepts NULL. */
void aie_fs_out_abort(AieFsOut **o);

/* write(2) all of buf to fd, retrying short writes and EINTR. Returns 0 or
 * -errno of the failure. */
int aie_fs_write_all(int fd, const void *buf, size_t n);

/* Copy len bytes from the current offset of from to to (sendfile where it
 * can, else read/write). Returns 0, or -errno of the failure (EPIPE: the
 * reader went away). */
int aie_fs_copy_fd(int to, int from, int64_t len);

/* Open a file that is read whole (a model, a filter bank, a LUT) for
 * reading. A named FIFO, socket, device or directory is refused at once with
 * AIE_EINVAL and "PATH: a FIFO, not a regular file" in err (open(2) never
 * waits for a FIFO's writer); an anonymous pipe (/dev/stdin of a shell
 * pipeline) is read as a stream. The caller fcloses *out. */
int aie_fs_open_regular(const char *path, FILE **out, char *err, size_t errlen);

/* Directory and base name of path ("." for a bare name, "/" at the root). */
void aie_fs_split_path(const char *path, char *dir, size_t dn, const char **base);

/* Remove ".BASE.aie-PID.tmp" and ".BASE.aie-PID.XXXXXX.tmp" in dir left by
 * processes that are gone: regular files owned by this user only. */
void aie_fs_remove_stale_temps(const char *dir, const char *base);

/* A file written through stdio, on top of AieFsOut: reports, plots, cache
 * entries, filter banks. inputs/no_clobber as in AieFsOutOpts. Commit flushes,
 * fsyncs and renames; abort (or a failed commit) removes the temporary file.
 * Writes retry EINTR and short writes, and the first write error's errno is
 * kept for the message. */
typedef struct AieOutFile AieOutFile;
int aie_outfile_open(AieOutFile **out, const char *path, const char *const *inputs, int ninputs,
                     int no_clobber, FILE **fp, char *err, size_t errlen);
int aie_outfile_commit(AieOutFile **f, char *err, size_t errlen);
void aie_outfile_abort(AieOutFile **f);

/* A scratch file for data that does not fit in memory (spilled frames):
 * created in dir with O_TMPFILE, or under a random name removed at once, mode
 * 0600, so it disappears when *fd is closed, whatever stops the process.
 * Returns 0 or an errno code; err names the directory. */
int aie_fs_scratch_open(const char *dir, int *fd, char *err, size_t errlen);

/* pread(2)/pwrite(2) all of n bytes at off, retrying EINTR and short
 * transfers. Return 0 or -errno (AIE_EIO semantics: a short read is -EIO). */
int aie_fs_pwrite_all(int fd, const void *buf, size_t n, int64_t off);
int aie_fs_pread_all(int fd, void *buf, size_t n, int64_t off);

/* ---- lists of input files ---- */

/* Paths in order; files[i] malloc'ed. Start from {0}. */
typedef struct AieFileList {
    char **files;
    int n, cap;
} AieFileList;

/* Add path: a file as it is, a directory as the files under it whose
 * extension is one of exts (case-insensitive, NULL-ended list), in name order
 * (so runs are repeatable), skipping hidden names, at most 32 levels deep.
 * Returns 0, or an AIE_E* code with "PATH: reason" in err ("" when out of
 * memory): AIE_ENOENT for a missing path, AIE_EIO for an unreadable
 * directory, AIE_EEMPTY for a directory with no such file. */
int aie_file_list_add(AieFileList *l, const char *path, const char *const *exts, char *err, size_t errlen);
void aie_file_list_free(AieFileList *l);

/* ---- SHA-256 (FIPS 180-4) ---- */
typedef struct AieSha256 {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
} AieSha256;

void aie_sha256_init(AieSha256 *s);
void aie_sha256_update(AieSha256 *s, const void *data, size_t len);
void aie_sha256_final(AieSha256 *s, uint8_t digest[32]);
/* 64 lowercase hex digits and a NUL. */
void aie_sha256_to_hex(const uint8_t digest[32], char hex[65]);
/* One call: the hex digest of a buffer. */
void aie_sha256_hex(const void *data, size_t len, char hex[65]);
/* The hex digest of a file's contents; err names the file. */
int aie_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif /* AIE_FS_H */
