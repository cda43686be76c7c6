/* Lists of input files (aie/fs.h): a file, or the matching files of a tree. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aie/error.h"
#include "aie/fs.h"

static int known_ext(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (int i = 0; exts[i]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return 1;
    return 0;
}

static int add_file(AieFileList *l, const char *path)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **f = realloc(l->files, sizeof(*f) * (size_t)cap);
        if (!f)
            return AIE_ENOMEM;
        l->files = f;
        l->cap = cap;
    }
    if (!(l->files[l->n] = strdup(path)))
        return AIE_ENOMEM;
    l->n++;
    return 0;
}

static int walk(AieFileList *l, const char *dir, int depth, const char *const *exts, char *err, size_t errlen)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return AIE_EIO;
    }
    int e = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        char path[PATH_MAX];
        if (!e && nm[0] != '.' && snprintf(path, sizeof(path), "%s/%s", dir, nm) < (int)sizeof(path)) {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (depth < 32)
                    e = walk(l, path, depth + 1, exts, err, errlen);
            } else if (known_ext(nm, exts)) {
                e = add_file(l, path);
            }
        }
        free(ents[i]);
    }
    free(ents);
    return e;
}

int aie_file_list_add(AieFileList *l, const char *path, const char *const *exts, char *err, size_t errlen)
{
    struct stat st;
    if (errlen)
        err[0] = 0;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AIE_ENOENT;
    }
    if (S_ISDIR(st.st_mode)) {
        int before = l->n, e = walk(l, path, 0, exts, err, errlen);
        if (!e && l->n == before) {
            snprintf(err, errlen, "%s: no images or videos found (looked for .png .jpg .y4m .mkv .mp4 ...)", path);
            return AIE_EEMPTY;
        }
        return e;
    }
    return add_file(l, path);
}

void aie_file_list_free(AieFileList *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->files[i]);
    free(l->files);
    *l = (AieFileList){0};
}
