/* preview: --preview DIR of aie-upscale, aie-interp and aie-style run as
 * programs on generated clips: the pictures, preview.json and index.html,
 * --compare, the refusals (a non-empty DIR, --force, a read-only or full
 * file system, an unknown method), a pipe and a short input, no temporary
 * leftovers, and the page in a real browser (Debian's chromium, headless)
 * when it is installed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/io.h"
#include "tests.h"

static char out[65536];
static int have_media;

#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)

static int suite_init(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("preview", "the ffmpeg and ffprobe programs are not installed (scripts/deps.sh installs them)");
        return 0;
    }
    int rc = tests_run(out, sizeof(out),
        "cd %s && mkdir -p pv && cd pv && "
        /* two shots of 6 s (a moving test pattern, then a fractal zoom), a
         * keyframe every 12 frames */
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=160x90:r=25:d=6 -f lavfi -i mandelbrot=s=160x90:r=25 "
        "-filter_complex \"[1]trim=end_frame=150,setpts=PTS-STARTPTS[b];[0][b]concat=n=2,format=yuv420p\" "
        "-c:v libx264 -preset ultrafast -g 12 two.mp4 && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=25:d=0.12 -f yuv4mpegpipe three.y4m && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=25:d=16 -f yuv4mpegpipe long.y4m && "
        "printf 'LUT_3D_SIZE 2\\n0 0 0\\n1 0 0\\n0 1 0\\n1 1 0\\n0 0 1\\n1 0 1\\n0 1 1\\n1 1 1\\n' > id.cube && "
        "printf 'LUT_3D_SIZE 2\\n0 0 0\\n.5 0 0\\n0 .5 0\\n.5 .5 0\\n0 0 .5\\n.5 0 .5\\n0 .5 .5\\n.5 .5 .5\\n' > dark.cube",
        tests_tmp_dir());
    if (rc != 0) {
        fprintf(stderr, "preview suite: could not generate test media: %s\n", out);
        return 1;
    }
    have_media = 1;
    return 0;
}

#define NEED_MEDIA() TESTS_NEED_MEDIA(have_media)

#define P(name) T("pv/" name)

static json_object *load_json(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/preview.json", dir);
    return json_object_from_file(path);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Entries of the directory holding the previews whose name starts with a
 * dot (the temporary directories of a run). */
static int temp_leftovers(void)
{
    DIR *d = opendir(T("pv"));
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void test_upscale_page(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -m lanczos -i %s -o %s --preview %s", BIN, P("two.mp4"),
                       P("never.mp4"), P("up"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(strstr(out, "preview of 6 samples") != NULL);
    CU_ASSERT(!tests_exists(P("never.mp4"))); /* -o names the container of the estimate only */
    json_object *j = load_json(P("up"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(j, "format")), "aie-preview");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(get(j, "sampling"), "mode")), "seek");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(get(j, "measure"), "name")), "roundtrip_psnr_db");
    json_object *samples = get(j, "samples"), *methods = get(j, "methods");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(samples), 6);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(methods), 1);
    json_object *m = json_object_array_get_idx(methods, 0), *est = get(m, "estimate");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(m, "name")), "lanczos");
    CU_ASSERT_EQUAL(json_object_get_int(get(m, "output_width")), 320);
    CU_ASSERT_EQUAL(json_object_get_int64(get(est, "frames_in")), 300);
    CU_ASSERT_EQUAL(json_object_get_int64(get(est, "frames_out")), 300);
    CU_ASSERT(json_object_get_double(get(est, "wall_s")) > 0);
    CU_ASSERT(json_object_get_double(get(est, "output_bytes")) > 1000);
    CU_ASSERT(json_object_get_double(get(est, "peak_memory_mib")) > 1);
    /* round trip of a Lanczos doubling: well above 30 dB on a test pattern */
    CU_ASSERT(json_object_get_double(get(m, "quality")) > 30);
    int first_shot = 0, second_shot = 0;
    double last_t = -1;
    for (int i = 0; i < 6; i++) {
        json_object *s = json_object_array_get_idx(samples, i);
        double t = json_object_get_double(get(s, "time_s"));
        CU_ASSERT(t > last_t); /* in time order, all different */
        last_t = t;
        first_shot += t < 6;
        second_shot += t >= 6;
        CU_ASSERT(json_object_get_int(get(s, "shot")) >= 1);
        json_object *r = get(get(s, "methods"), "lanczos");
        CU_ASSERT(json_object_get_double(get(r, "value")) > 30);
        CU_ASSERT(json_object_get_double(get(r, "ms_per_frame")) > 0);
        char in[1024], pic[1024];
        snprintf(in, sizeof(in), "%s/%s", P("up"), json_object_get_string(get(s, "input")));
        snprintf(pic, sizeof(pic), "%s/%s", P("up"), json_object_get_string(get(r, "image")));
        AieFrame *a = NULL, *b = NULL;
        char e[256];
        CU_ASSERT_EQUAL(aie_image_read_png(in, &a, e, sizeof(e)), 0);
        CU_ASSERT_EQUAL(aie_image_read_png(pic, &b, e, sizeof(e)), 0);
        if (a && b) {
            CU_ASSERT_EQUAL(a->width, 160);
            CU_ASSERT_EQUAL(b->width, 320);
            CU_ASSERT_EQUAL(b->height, 180);
        }
        aie_frame_unref(&a);
        aie_frame_unref(&b);
    }
    /* each shot is represented */
    CU_ASSERT(first_shot >= 1);
    CU_ASSERT(second_shot >= 1);
    json_object_put(j);
    /* the page: the data, the slider, nothing from the network */
    const char *page = tests_output("cat %s/index.html", P("up"));
    CU_ASSERT(strstr(page, "const DATA = {") != NULL);
    CU_ASSERT(strstr(page, "type: 'range'") != NULL);
    CU_ASSERT(strstr(page, "s01-input.png") != NULL);
    CU_ASSERT(strstr(page, "http:") == NULL);
    CU_ASSERT(strstr(page, "https:") == NULL);
    CU_ASSERT(strstr(page, "<link") == NULL);
    CU_ASSERT(strstr(page, "@import") == NULL);
    CU_ASSERT_EQUAL(temp_leftovers(), 0);
}

static void test_compare(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 3 "
                       "--compare nearest,lanczos,bicubic --budget-fps 1", BIN, P("two.mp4"), P("cmp"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    json_object *j = load_json(P("cmp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_object_array_length(get(j, "samples")), 3);
    json_object *methods = get(j, "methods");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(methods), 3);
    double best_q = -1;
    const char *best = NULL;
    for (int i = 0; i < 3; i++) {
        json_object *m = json_object_array_get_idx(methods, i);
        CU_ASSERT(json_object_get_double(get(m, "fps")) > 1);
        if (json_object_get_double(get(m, "quality")) > best_q) {
            best_q = json_object_get_double(get(m, "quality"));
            best = json_object_get_string(get(m, "name"));
        }
        char pic[1024];
        snprintf(pic, sizeof(pic), "%s/s02-%s.png", P("cmp"), json_object_get_string(get(m, "name")));
        CU_ASSERT(tests_exists(pic));
    }
    /* every method fits 1 fps: the best round trip wins */
    json_object *rec = get(j, "recommendation");
    CU_ASSERT_PTR_NOT_NULL_FATAL(best);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(rec, "method")), best);
    CU_ASSERT(strstr(json_object_get_string(get(rec, "text")), "recommended: ") != NULL);
    CU_ASSERT(strstr(out, "recommended: ") != NULL);
    json_object_put(j);
    /* an impossible budget: the fastest, said so */
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 2 "
                   "--compare nearest,lanczos --budget-fps 99999", BIN, P("two.mp4"), P("cmp2"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strstr(out, "no method reaches --budget-fps 99999") != NULL);

    /* interp: blend and mc on the pairs around the samples */
    rc = tests_run(out, sizeof(out), "%s/aie-interp -x 2 -i %s -o x.mkv --preview %s --preview-frames 2 "
                   "--compare blend,mc", BIN, P("two.mp4"), P("int"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    j = load_json(P("int"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(get(j, "measure"), "name")), "motion_reliability");
    json_object *m = json_object_array_get_idx(get(j, "methods"), 1);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(m, "name")), "mc");
    double rel = json_object_get_double(get(m, "quality"));
    CU_ASSERT(rel > 0 && rel <= 1);
    CU_ASSERT_EQUAL(json_object_get_int64(get(get(m, "estimate"), "frames_out")), 600);
    CU_ASSERT_PTR_NOT_NULL(get(get(j, "recommendation"), "method"));
    json_object_put(j);
    /* the shown mc frame lies between the pair: it is neither input */
    rc = tests_run(out, sizeof(out), "cmp -s %s/s01-input.png %s/s01-mc.png", P("int"), P("int"));
    CU_ASSERT_NOT_EQUAL(rc, 0);

    /* style: LUTs and a look; the identity LUT adds no flicker */
    rc = tests_run(out, sizeof(out), "cd %s && %s/aie-style --lut id.cube -i two.mp4 -o x.mkv --preview st "
                   "--preview-frames 2 --compare id.cube,dark.cube,toon", T("pv"), BIN);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    j = load_json(P("st"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(get(j, "measure"), "name")), "flicker_index");
    m = json_object_array_get_idx(get(j, "methods"), 0);
    double fl = json_object_get_double(get(m, "quality"));
    CU_ASSERT(fl > 0.95 && fl < 1.05);
    CU_ASSERT(tests_exists(P("st/s02-toon.png")));
    CU_ASSERT(tests_exists(P("st/s01-dark.cube.png")));
    json_object_put(j);
    CU_ASSERT_EQUAL(temp_leftovers(), 0);
}

static void test_refusals(void)
{
    NEED_MEDIA();
    /* unknown method: exit 2 with the list, before any work */
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --compare lanczos,magic", BIN,
                       P("two.mp4"), P("bad"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(strstr(out, "unknown method 'magic' (nearest, bilinear, bicubic, lanczos, spline36, raisr, cnn)") != NULL);
    CU_ASSERT(!tests_exists(P("bad")));
    rc = tests_run(out, sizeof(out), "%s/aie-interp -x 2 -i %s -o x.mkv --preview %s --compare warp", BIN,
                   P("two.mp4"), P("bad"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(strstr(out, "(blend, mc)") != NULL);
    rc = tests_run(out, sizeof(out), "%s/aie-style --look toon -i %s -o x.mkv --preview %s --compare toon,glow", BIN,
                   P("two.mp4"), P("bad"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(strstr(out, "toon, sketch, oil") != NULL);
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --compare lanczos", BIN, P("two.mp4"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(strstr(out, "go with --preview DIR") != NULL);

    /* a directory that is not empty: refused, untouched */
    tests_run(out, sizeof(out), "mkdir -p %s && echo mine > %s/notes.txt", P("full"), P("full"));
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 1", BIN,
                   P("two.mp4"), P("full"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(strstr(out, "exists and is not empty") != NULL);
    CU_ASSERT(strstr(out, "--force") != NULL);
    /* --force replaces only an earlier preview */
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 1 --force", BIN,
                   P("two.mp4"), P("full"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(strstr(out, "holds no preview.json") != NULL);
    CU_ASSERT_STRING_EQUAL(tests_output("cat %s/notes.txt", P("full")), "mine");
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 2", BIN,
                   P("two.mp4"), P("again"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    tests_run(out, sizeof(out), "touch %s/stale.png", P("again"));
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 1", BIN,
                   P("two.mp4"), P("again"));
    CU_ASSERT_EQUAL(rc, 1);
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 1 --force", BIN,
                   P("two.mp4"), P("again"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(!tests_exists(P("again/stale.png")));
    CU_ASSERT(!tests_exists(P("again/s02-input.png")));
    CU_ASSERT(tests_exists(P("again/s01-input.png")));
    /* an empty directory is filled */
    tests_run(out, sizeof(out), "mkdir -p %s", P("empty"));
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 1", BIN,
                   P("two.mp4"), P("empty"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(tests_exists(P("empty/index.html")));
    CU_ASSERT_EQUAL(temp_leftovers(), 0);

    /* read-only and full file systems: one line, exit 1, nothing left */
    if (geteuid() != 0) {
        tests_skip("preview/refusals (read-only, full)", "needs root to mount a tmpfs");
        return;
    }
    rc = tests_run(out, sizeof(out), "mkdir -p %s %s && mount -t tmpfs -o ro,size=1m tmpfs %s && "
                   "mount -t tmpfs -o size=256k tmpfs %s", P("ro"), P("tiny"), P("ro"), P("tiny"));
    if (rc != 0) {
        tests_skip("preview/refusals (read-only, full)", "cannot mount a tmpfs here");
        return;
    }
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s/pv", BIN, P("two.mp4"), P("ro"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(strstr(out, "Read-only file system") != NULL);
    CU_ASSERT(strchr(out, '\n') == strrchr(out, '\n')); /* one line */
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -s 4 -i %s -o x.mkv --preview %s/pv", BIN, P("two.mp4"),
                   P("tiny"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(strstr(out, "No space left on device") != NULL);
    CU_ASSERT(strchr(out, '\n') == strrchr(out, '\n'));
    CU_ASSERT_STRING_EQUAL(tests_output("ls -A %s | wc -l", P("tiny")), "0");
    tests_run(out, sizeof(out), "umount %s; umount %s", P("ro"), P("tiny"));
}

static void test_pipe_and_short(void)
{
    NEED_MEDIA();
    /* a pipe: the first 10 seconds, said so */
    int rc = tests_run(out, sizeof(out), "cat %s | %s/aie-style --look toon -i - -o x.mkv --preview %s", P("long.y4m"),
                       BIN, P("pipe"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(strstr(out, "cannot seek") != NULL);
    CU_ASSERT(strstr(out, "first 10.0 s") != NULL);
    json_object *j = load_json(P("pipe"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(get(j, "sampling"), "mode")), "first-seconds");
    json_object *samples = get(j, "samples");
    CU_ASSERT_EQUAL(json_object_array_length(samples), 6);
    for (size_t i = 0; i < json_object_array_length(samples); i++)
        CU_ASSERT(json_object_get_double(get(json_object_array_get_idx(samples, i), "time_s")) < 10);
    json_object_put(j);
    /* three frames for six samples: all of them, said so */
    rc = tests_run(out, sizeof(out), "%s/aie-interp -x 2 -i %s -o x.mkv --preview %s", BIN, P("three.y4m"),
                   P("short"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT(strstr(out, "has 3 frames, fewer than the 6 samples asked: all 3 used") != NULL);
    j = load_json(P("short"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_object_array_length(get(j, "samples")), 3);
    json_object_put(j);
}

/* A preview run is logged with "mode": "preview" (run_start and run_end),
 * and aie-stats leaves it out of its figures next to a real run. */
static void test_metrics(void)
{
    NEED_MEDIA();
    tests_run(out, sizeof(out), "rm -f %s %s", P("pv.jsonl"), P("real.y4m"));
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -m lanczos -q --metrics %s -i %s -o x.mkv --preview %s "
                       "--preview-frames 2", BIN, P("pv.jsonl"), P("three.y4m"), P("pvm"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("grep -c '\"mode\":\"preview\"' %s", P("pv.jsonl")), "2");
    CU_ASSERT_STRING_EQUAL(tests_output("grep -o '\"event\":\"run_[a-z]*\"' %s | tr '\n' ' '", P("pv.jsonl")),
                           "\"event\":\"run_start\" \"event\":\"run_end\"");
    CU_ASSERT_STRING_EQUAL(tests_output("grep run_end %s | grep -o '\"status\":\"[a-z]*\"'", P("pv.jsonl")),
                           "\"status\":\"ok\"");
    /* aie-stats: only the real run counts */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-upscale -m lanczos -q --metrics %s -i %s -o %s", BIN,
                              P("pv.jsonl"), P("three.y4m"), P("real.y4m")), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-stats --json %s", BIN, P("pv.jsonl")), 0);
    json_object *j = json_tokener_parse(out), *g = NULL, *runs = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_object *groups = get(j, "groups");
    if (groups && json_object_array_length(groups) == 1)
        g = json_object_array_get_idx(groups, 0);
    CU_ASSERT_PTR_NOT_NULL(g);
    if (g)
        runs = get(g, "runs");
    CU_ASSERT_EQUAL(runs ? json_object_get_int(get(runs, "finished")) : -1, 1);
    CU_ASSERT_EQUAL(json_object_get_int(get(get(j, "input"), "filtered")), 2);
    CU_ASSERT_EQUAL(json_object_get_int(get(g, "frames")), 3);
    if (!runs)
        fprintf(stderr, "\n  aie-stats: %.600s\n", out);
    json_object_put(j);
}

/* The page in Debian's chromium: no console errors, every picture loads,
 * and moving the slider (the #wipe= state the page honours) changes the
 * picture. */
static void test_browser(void)
{
    NEED_MEDIA();
    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        tests_skip("preview/browser", "chromium is not installed (scripts/deps.sh --browser installs it)");
        return;
    }
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -i %s -o x.mkv --preview %s --preview-frames 2 "
                       "--compare nearest,lanczos", BIN, P("two.mp4"), P("web"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
             "--disable-extensions --hide-scrollbars --user-data-dir=%s", T("pv/chrome-profile"));
    rc = tests_run(out, sizeof(out), "%s --enable-logging=stderr --v=0 --dump-dom 'file://%s/index.html' 2>%s", cmd,
                   P("web"), P("chrome.log"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* 2 samples x (left + right picture) */
    CU_ASSERT(strstr(out, ">status: ok images=4 loaded=4 errors=0<") != NULL);
    if (!strstr(out, "status: ok images=4"))
        fprintf(stderr, "\npage status: %s\n", strstr(out, "status:") ? strstr(out, "status:") : "(none)");
    CU_ASSERT_STRING_EQUAL(tests_output("grep -c ':CONSOLE' %s", P("chrome.log")), "0");
    /* two slider states, compared by pixels */
    AieFrame *shot[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        char png[512], e[256];
        snprintf(png, sizeof(png), "%s/wipe%d.png", T("pv"), k);
        rc = tests_run(out, sizeof(out), "%s --window-size=700,900 --screenshot=%s "
                       "'file://%s/index.html#wipe=%d&left=input&right=lanczos' 2>/dev/null", cmd, png, P("web"),
                       k ? 100 : 0);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(aie_image_read_png(png, &shot[k], e, sizeof(e)), 0);
    }
    if (shot[0] && shot[1]) {
        CU_ASSERT_EQUAL_FATAL(shot[0]->width, shot[1]->width);
        CU_ASSERT_EQUAL_FATAL(shot[0]->height, shot[1]->height);
        long differ = 0;
        int bpp = shot[0]->layout == AIE_LAYOUT_RGBA ? 4 : 3;
        for (int y = 0; y < shot[0]->height; y++)
            for (int x = 0; x < shot[0]->width * bpp; x++)
                differ += shot[0]->data[0][y * shot[0]->stride[0] + x] != shot[1]->data[0][y * shot[1]->stride[0] + x];
        /* the input (nearest-enlarged) against the Lanczos output: the
         * viewer's pixels change, the rest of the page stays */
        CU_ASSERT(differ > 1000);
        CU_ASSERT(differ < (long)shot[0]->width * shot[0]->height * bpp / 2);
    }
    aie_frame_unref(&shot[0]);
    aie_frame_unref(&shot[1]);
}

/* aie-batch --preview: a section per job, the totals, the refusals */
static void test_batch(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "cd %s && %s/aie-batch --preview bp --preview-jobs 3 --preview-frames 2 "
                       "%s/aie-upscale -m lanczos -i {} -o out/{/.}.mkv ::: two.mp4 three.y4m missing.mp4 long.y4m",
                       T("pv"), BIN, BIN);
    CU_ASSERT_EQUAL_FATAL(rc, 1); /* one job's preview failed: the missing input */
    CU_ASSERT(strstr(out, "job 3: no preview") != NULL);
    CU_ASSERT(strstr(out, "preview of 3 of 4 jobs") != NULL);
    json_object *j = load_json(P("bp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(get(j, "format")), "aie-preview-batch");
    CU_ASSERT_EQUAL(json_object_get_int(get(j, "jobs_total")), 4);
    json_object *jobs = get(j, "jobs"), *tot = get(j, "totals");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(jobs), 3);
    CU_ASSERT(json_object_get_boolean(get(json_object_array_get_idx(jobs, 0), "ok")));
    CU_ASSERT(!json_object_get_boolean(get(json_object_array_get_idx(jobs, 2), "ok")));
    CU_ASSERT_EQUAL(json_object_get_int(get(tot, "jobs_estimated")), 2);
    double w = json_object_get_double(get(tot, "previewed_wall_s")), bw = json_object_get_double(get(tot, "batch_wall_s"));
    CU_ASSERT(w > 0 && fabs(bw - w * 2) < 1e-6 * bw + 1e-9); /* 4 jobs at the mean of 2 */
    json_object_put(j);
    CU_ASSERT(tests_exists(P("bp/job01/index.html")));
    CU_ASSERT(tests_exists(P("bp/job02/preview.json")));
    CU_ASSERT(!tests_exists(P("bp/job03")));
    const char *page = tests_output("cat %s/index.html", P("bp"));
    CU_ASSERT(strstr(page, "id=\"job1\"") && strstr(page, "id=\"job2\"") && strstr(page, "id=\"job3\""));
    CU_ASSERT(strstr(page, "missing.mp4") != NULL);
    CU_ASSERT(strstr(page, "http:") == NULL);
    CU_ASSERT(!tests_exists(P("out"))); /* nothing of the jobs' outputs */
    /* a directory that is not empty: aie-batch's refusal */
    rc = tests_run(out, sizeof(out), "cd %s && %s/aie-batch --preview bp %s/aie-upscale -i {} -o {/.}.mkv ::: two.mp4",
                   T("pv"), BIN, BIN);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT(strstr(out, "not empty") != NULL);
    rc = tests_run(out, sizeof(out), "cd %s && %s/aie-batch --preview-jobs 2 %s/aie-upscale -i {} -o {/.}.mkv ::: "
                   "two.mp4", T("pv"), BIN, BIN);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_EQUAL(temp_leftovers(), 0);
}

int test_preview_register(void)
{
    CU_pSuite s = CU_add_suite("preview", suite_init, NULL);
    if (!s || !CU_add_test(s, "upscale_page", test_upscale_page) || !CU_add_test(s, "compare", test_compare) ||
        !CU_add_test(s, "refusals", test_refusals) || !CU_add_test(s, "pipe_and_short", test_pipe_and_short) ||
        !CU_add_test(s, "browser", test_browser) || !CU_add_test(s, "batch", test_batch) || !CU_add_test(s, "metrics", test_metrics))
        return -1;
    return 0;
}
