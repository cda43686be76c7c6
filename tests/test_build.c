/*
 * The build and the tools' identity (issue 14): every --version names the
 * release, the git commit of the build and the SIMD level this CPU gets; a
 * build with a package missing stops with one line before compiling anything.
 * (The fresh-machine runs themselves are make check-fresh, in check-long.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests.h"

static char out[16384];

static const char *tools[] = {"aie-upscale", "aie-interp", "aie-batch", "aie-stats", "aie-style", "aie-train"};

static void test_version_lines(void)
{
    /* the commit the tree is at, when it is a git tree (else "unknown") */
    char head[64] = "";
    const char *h = tests_output("git -C '%s' rev-parse HEAD 2>/dev/null", tests_src_dir());
    if (strlen(h) == 40)
        snprintf(head, sizeof(head), "%s", h);
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
        int rc = tests_run(out, sizeof(out), "AIE_CPU=c %s/%s --version", tests_bin_dir(), tools[i]);
        CU_ASSERT_EQUAL(rc, 0);
        char l1[256] = "", l2[256] = "", l3[256] = "";
        int n = sscanf(out, "%255[^\n]\n%255[^\n]\n%255[^\n]", l1, l2, l3);
        CU_ASSERT_EQUAL_FATAL(n, 3);
        size_t tl = strlen(tools[i]);
        CU_ASSERT(strncmp(l1, tools[i], tl) == 0 && l1[tl] == ' ' && l1[tl + 1] >= '0' && l1[tl + 1] <= '9');
        CU_ASSERT(strncmp(l2, "commit ", 7) == 0);
        if (head[0]) {
            /* built from this tree: an abbreviated HEAD, maybe "-dirty" */
            CU_ASSERT(strlen(l2) >= 7 + 12 && strncmp(l2 + 7, head, 12) == 0);
        } else {
            CU_ASSERT(strlen(l2) > 7);
        }
        /* AIE_CPU=c is what the run would use; the detected level follows */
        CU_ASSERT(strncmp(l3, "simd c (this CPU: ", 18) == 0);
    }
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale --cpu c --version", tests_bin_dir());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nsimd c (this CPU: "));
}

/* A package missing (pkg-config finds nothing): one line naming the modules and
 * `make deps`, no compiler run, no object written. */
static void test_missing_package_stops(void)
{
    const char *o = tests_tmp_path("nobuild");
    int rc = tests_run(out, sizeof(out), "make --no-print-directory -C '%s' O='%s' PKG_CONFIG=false all 2>&1",
                       tests_src_dir(), o);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "aie: missing pkg-config modules: libavformat"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "json-c"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "'make deps'"));
    CU_ASSERT_PTR_NULL(strstr(out, "error:"));
    CU_ASSERT_PTR_NULL(strstr(out, "undefined reference"));
    int aie_lines = 0;
    for (const char *p = out; (p = strstr(p, "aie: ")) != NULL; p++)
        aie_lines++;
    CU_ASSERT_EQUAL(aie_lines, 1);
    const char *objs = tests_output("find '%s' -name '*.o' 2>/dev/null | wc -l", o);
    CU_ASSERT_STRING_EQUAL(objs, "0");
}

int test_build_register(void)
{
    CU_pSuite s = CU_add_suite("build", NULL, NULL);
    if (!s || !CU_add_test(s, "version_lines", test_version_lines) ||
        !CU_add_test(s, "missing_package_stops", test_missing_package_stops))
        return -1;
    return 0;
}
