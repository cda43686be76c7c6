/*
 * Replays the fuzz corpora of the targets in tests/fuzz/ (the seeds and the
 * regression inputs of testdata/fuzz/<target>/) through each target's body,
 * <target>_fuzz_one(), which must return 0 for every file. The png and
 * aie_stats_line corpora are replayed by tests/test_png.c and tests/test_stats.c.
 * No fuzzing happens here: the campaign is `make fuzz` (scripts/fuzz.sh).
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

#define AIE_FUZZ_NO_MAIN
#include "fuzz/fuzz_aienn.c"
#include "fuzz/fuzz_anime4k.c"
#include "fuzz/fuzz_cube.c"
#include "fuzz/fuzz_jobfile.c"
#include "fuzz/fuzz_ncnn.c"
#include "fuzz/fuzz_waifu2x.c"
#include "fuzz/fuzz_y4m.c"

typedef int (*FuzzOne)(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of testdata/fuzz/<target>/ through one(); at least min files. */
static void replay(const char *target, FuzzOne one, int min)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/testdata/fuzz/%s", tests_src_dir(), target);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **p = realloc(names, (size_t)cap * sizeof(*p));
            CU_ASSERT_PTR_NOT_NULL_FATAL(p);
            names = p;
        }
        names[n] = strdup(de->d_name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(names[n]);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof(*names), name_cmp);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 256];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL(f);
        if (!f)
            continue;
        size_t len = 0, cap2 = 4096;
        uint8_t *data = malloc(cap2);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        for (size_t k; (k = fread(data + len, 1, cap2 - len, f)) > 0;) {
            len += k;
            if (len == cap2) {
                uint8_t *p = realloc(data, cap2 *= 2);
                CU_ASSERT_PTR_NOT_NULL_FATAL(p);
                data = p;
            }
        }
        fclose(f);
        /* an exact-size copy, so an overread shows under the sanitizers */
        uint8_t *exact = malloc(len ? len : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
        memcpy(exact, data, len);
        free(data);
        if (one(exact, len)) {
            fprintf(stderr, "\n  fuzz %s: %s: the target reports a contradiction\n", target, names[i]);
            bad++;
        }
        free(exact);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    CU_ASSERT(n >= min);
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_cube(void) { replay("cube", cube_fuzz_one, 10); }
static void test_jobfile(void) { replay("jobfile", jobfile_fuzz_one, 10); }
static void test_waifu2x(void) { replay("waifu2x", waifu2x_fuzz_one, 8); }
static void test_anime4k(void) { replay("anime4k", anime4k_fuzz_one, 6); }
static void test_ncnn(void) { replay("ncnn", ncnn_fuzz_one, 8); }
static void test_y4m(void) { replay("y4m", y4m_fuzz_one, 10); }
static void test_aienn(void) { replay("aienn", aienn_fuzz_one, 7); }

int test_fuzz_register(void)
{
    CU_pSuite s = CU_add_suite("fuzz", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "cube_corpus", test_cube) || !CU_add_test(s, "jobfile_corpus", test_jobfile) ||
        !CU_add_test(s, "waifu2x_corpus", test_waifu2x) || !CU_add_test(s, "anime4k_corpus", test_anime4k) ||
        !CU_add_test(s, "ncnn_corpus", test_ncnn) || !CU_add_test(s, "y4m_corpus", test_y4m) ||
        !CU_add_test(s, "aienn_corpus", test_aienn))
        return -1;
    return 0;
}
