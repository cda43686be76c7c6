/*
 * Build identity: the release version (VERSION in the Makefile) and the git
 * commit the library was built from. Both are compiled into one generated
 * source ($(O)/version.c), so a new commit relinks instead of rebuilding.
 */
#ifndef AIE_VERSION_H
#define AIE_VERSION_H

/* Release version, e.g. "0.1.0". */
const char *aie_version_string(void);

/* `git describe --always --dirty` at build time (a commit id, "-dirty" when the
 * tree had changes), or "unknown" outside a git tree. */
const char *aie_version_commit(void);

#endif /* AIE_VERSION_H */
