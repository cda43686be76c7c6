/* lib/preview: the recommendation, preview.json (man/aie-preview.5) and
 * index.html (one self-contained page: inline CSS and script, the pictures
 * as files beside it, nothing from the network). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "preview_internal.h"

const char *aie_preview_file_name(const char *name)
{
    static __thread char buf[128];
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t i = 0;
    for (; base[i] && i + 1 < sizeof(buf); i++) {
        char c = base[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.';
        buf[i] = ok ? c : '_';
    }
    buf[i] = 0;
    if (!i || buf[0] == '.')
        buf[0] = '_';
    if (!i)
        buf[1] = 0;
    return buf;
}

/* ---- JSON text ---- */

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '<' || *p == '>' || *p == '&' || *p < 0x20) /* safe inside a <script> too */
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double v, int decimals)
{
    if (!isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.*f", decimals, v);
}

/* ', "key": number' (null when not finite) */
static void jkv(FILE *f, const char *key, double v, int decimals)
{
    fprintf(f, ", \"%s\": ", key);
    jnum(f, v, decimals);
}

typedef struct Est {
    int64_t frames_in, frames_out;
    double process_ms, decode_ms, encode_ms, fps, wall_s, serial_s, quality, cpu_ms;
    double bytes;
    double peak_mib;
    int nq;
} Est;

static const char *measure_name(AiePreviewMeasure m)
{
    return m == AIE_PREVIEW_ROUNDTRIP ? "roundtrip_psnr_db" : m == AIE_PREVIEW_MOTION ? "motion_reliability"
                                                                                     : "flicker_index";
}

static void estimate(const PvRun *r, int mi, Est *e)
{
    const PvMethod *m = &r->m[mi];
    memset(e, 0, sizeof(*e));
    e->process_ms = m->frames_done ? m->ms_done / m->frames_done : NAN;
    e->fps = e->process_ms > 0 ? 1000.0 / e->process_ms : NAN;
    e->decode_ms = r->decode_ms;
    e->encode_ms = m->est_frames && m->encode_us > 0 ? m->encode_us / 1000.0 / (double)m->est_frames : 0;
    e->frames_in = r->job_frames;
    double ratio = m->frames_done ? (double)m->out_done / m->frames_done : 1;
    if (m->stage && m->stage->count_output && m->stage->out_total > 0 && r->job_frames == r->total)
        e->frames_out = m->stage->out_total;
    else
        e->frames_out = e->frames_in >= 0 ? (int64_t)llround((double)e->frames_in * ratio) : -1;
    double per_in = e->process_ms, dec = e->decode_ms, enc = e->encode_ms * ratio;
    double slowest = per_in > dec ? per_in : dec;
    slowest = enc > slowest ? enc : slowest;
    /* the stages overlap, but share the cores: the CPU time of a frame over
     * the cores bounds it too */
    e->cpu_ms = r->decode_cpu_ms + (m->frames_done ? (double)m->process_cpu_us / 1000.0 / m->frames_done : 0) +
                (m->est_frames ? (double)m->encode_cpu_us / 1000.0 / (double)m->est_frames * ratio : 0);
    double cores = aie_cpu_count() > 0 ? aie_cpu_count() : 1;
    slowest = e->cpu_ms / cores > slowest ? e->cpu_ms / cores : slowest;
    e->wall_s = e->frames_in >= 0 ? (double)e->frames_in * slowest / 1000.0 : NAN;
    e->serial_s = e->frames_in >= 0 ? (double)e->frames_in * (per_in + dec + enc) / 1000.0 : NAN;
    e->bytes = m->est_frames > 0 && e->frames_out >= 0 ? (double)m->est_bytes / (double)m->est_frames * (double)e->frames_out
                                                       : NAN;
    int threads = r->p->threads > 0 ? r->p->threads : aie_cpu_count();
    double in_b = (double)r->vi.width * r->vi.height * 1.5 * (r->vi.depth > 8 ? 2 : 1);
    double out_b = m->stage ? (double)m->stage->out.width * m->stage->out.height * 3 * (m->stage->out.depth > 8 ? 2 : 1)
                            : in_b;
    e->peak_mib = ((double)r->peak_rss + (2.0 * threads + 4) * (in_b + out_b)) / 1048576.0;
    double sum = 0;
    for (int i = 0; i < r->ns; i++)
        if (isfinite(r->s[i].res[mi].value)) {
            sum += r->s[i].res[mi].value;
            e->nq++;
        }
    e->quality = e->nq ? sum / e->nq : NAN;
}

/* The best method measured that reaches the budget: the highest round-trip
 * PSNR, the lowest flicker; for a frame-rate change, motion compensation
 * where the motion is reliable (>= 0.7), else the blend. */
static void recommend(PvRun *r)
{
    const AiePreviewParams *p = r->p;
    Est e[AIE_PREVIEW_MAX_METHODS];
    for (int i = 0; i < r->nm; i++)
        estimate(r, i, &e[i]);
    int best = -1, fastest = 0;
    for (int i = 0; i < r->nm; i++)
        if (e[i].fps > e[fastest].fps)
            fastest = i;
    const double budget = p->budget_fps;
    for (int i = 0; i < r->nm; i++) {
        if (budget > 0 && !(e[i].fps >= budget))
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        double a = e[i].quality, b = e[best].quality;
        if (p->measure == AIE_PREVIEW_ROUNDTRIP && (isfinite(a) && (!isfinite(b) || a > b)))
            best = i;
        else if (p->measure == AIE_PREVIEW_FLICKER && (isfinite(a) && (!isfinite(b) || a < b)))
            best = i;
        else if (p->measure == AIE_PREVIEW_MOTION) {
            int reliable = isfinite(a) && a >= 0.7;
            if (!strcmp(r->m[i].name, reliable ? "mc" : "blend"))
                best = i;
        }
    }
    char bud[64] = "";
    if (budget > 0)
        snprintf(bud, sizeof(bud), "; fits --budget-fps %g", budget);
    r->best = best;
    if (best < 0) {
        r->best = fastest;
        snprintf(r->recommend, sizeof(r->recommend),
                 "no method reaches --budget-fps %g here: the fastest is %s at %.1f fps (-j %d)", budget,
                 r->m[fastest].name, e[fastest].fps, p->threads > 0 ? p->threads : aie_cpu_count());
        return;
    }
    char q[96] = "";
    if (isfinite(e[best].quality))
        snprintf(q, sizeof(q), ", %s %.*f", p->measure == AIE_PREVIEW_ROUNDTRIP ? "round-trip PSNR"
                                           : p->measure == AIE_PREVIEW_MOTION ? "motion reliability" : "flicker",
                 p->measure == AIE_PREVIEW_ROUNDTRIP ? 2 : 3, e[best].quality);
    if (p->measure == AIE_PREVIEW_ROUNDTRIP && isfinite(e[best].quality))
        strcat(q, " dB");
    snprintf(r->recommend, sizeof(r->recommend), "%s: %s (%.1f fps at -j %d%s%s)",
             r->nm > 1 ? "recommended" : "method", r->m[best].name, e[best].fps,
             p->threads > 0 ? p->threads : aie_cpu_count(), q, bud);
}

static void write_json_body(const PvRun *r, FILE *f)
{
    const AiePreviewParams *p = r->p;
    const AieVideoInfo *vi = &r->vi;
    const double fps = vi->fps.num > 0 && vi->fps.den > 0 ? (double)vi->fps.num / vi->fps.den : 25;
    fprintf(f, "{\n  \"format\": \"aie-preview\",\n  \"version\": 1,\n  \"tool\": ");
    jstr(f, p->tool);
    fprintf(f, ",\n  \"input\": ");
    jstr(f, p->input);
    fprintf(f, ",\n  \"output\": ");
    if (p->output)
        jstr(f, p->output);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"input_info\": {\"width\": %d, \"height\": %d, \"fps\": ", vi->width, vi->height);
    jnum(f, fps, 3);
    jkv(f, "frames", r->total >= 0 ? (double)r->total : NAN, 0);
    jkv(f, "duration_s", r->total > 0 ? r->total / fps : NAN, 3);
    fprintf(f, ", \"pix_fmt\": ");
    jstr(f, vi->pix_fmt);
    fprintf(f, "},\n  \"threads\": %d,\n", p->threads > 0 ? p->threads : aie_cpu_count());
    fprintf(f, "  \"sampling\": {\"mode\": ");
    jstr(f, r->mode);
    fprintf(f, ", \"requested\": %d, \"samples\": %d, \"shots_found\": %d, \"note\": ", r->want, r->ns, r->shots);
    if (r->sampling_note[0])
        jstr(f, r->sampling_note);
    else
        fputs("null", f);
    fprintf(f, "},\n  \"measure\": {\"name\": ");
    jstr(f, measure_name(p->measure));
    fprintf(f, ", \"better\": \"%s\"},\n", p->measure == AIE_PREVIEW_FLICKER ? "lower" : "higher");
    fprintf(f, "  \"methods\": [");
    for (int mi = 0; mi < r->nm; mi++) {
        const PvMethod *m = &r->m[mi];
        Est e;
        estimate(r, mi, &e);
        fprintf(f, "%s\n    {\"name\": ", mi ? "," : "");
        jstr(f, m->name);
        fprintf(f, ", \"file\": ");
        jstr(f, aie_preview_file_name(m->name));
        AieRational ofps = m->stage ? m->stage->out.fps : vi->fps;
        fprintf(f, ", \"output_width\": %d, \"output_height\": %d, \"output_fps\": ", m->stage ? m->stage->out.width : 0,
                m->stage ? m->stage->out.height : 0);
        jnum(f, ofps.den > 0 ? (double)ofps.num / ofps.den : NAN, 3);
        fprintf(f, ",\n     \"ms_per_frame\": ");
        jnum(f, e.process_ms, 2);
        jkv(f, "fps", e.fps, 2);
        jkv(f, "quality", e.quality, 4);
        fprintf(f, ", \"quality_samples\": %d, \"frames_processed\": %d,\n     \"estimate\": {\"frames_in\": ", e.nq,
                m->frames_done);
        jnum(f, e.frames_in >= 0 ? (double)e.frames_in : NAN, 0);
        jkv(f, "frames_out", e.frames_out >= 0 ? (double)e.frames_out : NAN, 0);
        jkv(f, "wall_s", e.wall_s, 1);
        jkv(f, "serial_wall_s", e.serial_s, 1);
        jkv(f, "decode_ms_per_frame", e.decode_ms, 2);
        jkv(f, "process_ms_per_frame", e.process_ms, 2);
        jkv(f, "encode_ms_per_frame", e.encode_ms, 2);
        jkv(f, "cpu_ms_per_frame", e.cpu_ms, 2);
        jkv(f, "output_bytes", e.bytes, 0);
        fprintf(f, ", \"size_frames_encoded\": %lld, \"peak_memory_mib\": ", (long long)m->est_frames);
        jnum(f, e.peak_mib, 0);
        fprintf(f, "}}");
    }
    fprintf(f, "\n  ],\n  \"size_estimate_note\": ");
    if (r->est_error[0])
        jstr(f, r->est_error);
    else if (r->est_note[0])
        jstr(f, r->est_note);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"samples\": [");
    for (int i = 0; i < r->ns; i++) {
        const PvSample *s = &r->s[i];
        fprintf(f, "%s\n    {\"n\": %d, \"time_s\": ", i ? "," : "", i + 1);
        jnum(f, s->t, 3);
        fprintf(f, ", \"frame\": %lld, \"shot\": %d, \"cut_in_window\": %s, \"input\": \"s%02d-input.png\", "
                   "\"width\": %d, \"height\": %d,\n     \"methods\": {",
                (long long)s->index, s->shot, s->cut_in_window ? "true" : "false", i + 1,
                s->nwin ? s->win[0]->width : 0, s->nwin ? s->win[0]->height : 0);
        for (int mi = 0; mi < r->nm; mi++) {
            const PvResult *res = &s->res[mi];
            fprintf(f, "%s", mi ? ", " : "");
            jstr(f, r->m[mi].name);
            fprintf(f, ": {\"image\": ");
            if (res->shown)
                fprintf(f, "\"s%02d-%s.png\"", i + 1, aie_preview_file_name(r->m[mi].name));
            else
                fputs("null", f);
            jkv(f, "value", res->value, 4);
            jkv(f, "ms_per_frame", res->frames_in ? res->ms / res->frames_in : NAN, 2);
            fprintf(f, ", \"frames\": %d, \"outputs\": %d}", res->frames_in, res->nout);
        }
        fprintf(f, "}}");
    }
    fprintf(f, "\n  ],\n  \"recommendation\": {\"method\": ");
    if (r->best >= 0)
        jstr(f, r->m[r->best].name);
    else
        fputs("null", f);
    fprintf(f, ", \"budget_fps\": ");
    if (p->budget_fps > 0)
        jnum(f, p->budget_fps, 3);
    else
        fputs("null", f);
    fprintf(f, ", \"text\": ");
    jstr(f, r->recommend);
    fprintf(f, "},\n  \"preview_s\": ");
    jnum(f, r->elapsed_s, 2);
    fprintf(f, ",\n  \"peak_rss_mib\": ");
    jnum(f, (double)r->peak_rss / 1048576.0, 0);
    fprintf(f, "\n}\n");
}

static int write_file(const PvRun *r, const char *name, void (*body)(const PvRun *, FILE *), char *err,
                      size_t errlen)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", r->tmp, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        aie_errf(err, errlen, "--preview %s: %s", r->p->dir, strerror(e));
        return aie_error_from_errno(e);
    }
    body(r, f);
    int bad = ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        aie_errf(err, errlen, "--preview %s: cannot write %s: %s", r->p->dir, name, strerror(e));
        return aie_error_from_errno(e);
    }
    return 0;
}

int aie_preview_write_json(PvRun *r, char *err, size_t errlen)
{
    recommend(r);
    return write_file(r, "preview.json", write_json_body, err, errlen);
}

/* ---- index.html ---- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>aie preview</title>\n<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:16px 24px;background:#16181c;color:#e6e6e6}\n"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:0 0 6px}\n"
    "table{border-collapse:collapse;margin:6px 0 12px}td,th{padding:3px 10px;border-bottom:1px solid #333;"
    "text-align:right}th{color:#9aa;white-space:nowrap}td:first-child,th:first-child{text-align:left}\n"
    ".rec{background:#223a2a;border-left:4px solid #4c9;padding:8px 12px;margin:10px 0}\n"
    ".note{color:#db8}.dim{color:#9aa}\n"
    ".sample{margin:22px 0;padding-top:12px;border-top:1px solid #333}\n"
    ".ctl{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin:6px 0}\n"
    ".ctl input[type=range]{width:260px}\n"
    ".scroll{overflow:auto;max-width:100%;max-height:85vh;border:1px solid #444;background:#000}\n"
    ".view{position:relative;cursor:ew-resize;user-select:none}\n"
    ".view img{position:absolute;left:0;top:0;width:100%;height:100%;image-rendering:pixelated;"
    "-webkit-user-drag:none}\n"
    ".view .line{position:absolute;top:0;bottom:0;width:2px;background:#fff;box-shadow:0 0 3px #000;"
    "pointer-events:none}\n"
    ".lab{position:absolute;top:6px;padding:1px 6px;background:rgba(0,0,0,.6);font-size:12px;pointer-events:none}\n"
    "</style>\n</head>\n<body>\n"
    "<h1>Preview</h1>\n<div id=\"head\"></div>\n<div id=\"samples\"></div>\n"
    "<pre id=\"status\" class=\"dim\">loading</pre>\n"
    "<script>\n\"use strict\";\nconst DATA = ";

/* The page's script: builds the tables and one wipe viewer per sample.
 * The hash (#wipe=30&left=input&right=raisr&zoom=2&sample=3) sets every
 * viewer (and scrolls to a sample), so a
 * test (or a link) can show a given state; #status tells whether every
 * picture loaded. */
static const char page_script[] =
    ";\n"
    "const errors = [];\n"
    "window.addEventListener('error', e => { errors.push(e.message || ('cannot load ' + (e.target && e.target.src)));"
    " }, true);\n"
    "function el(tag, attrs, text) { const e = document.createElement(tag);"
    " for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text;"
    " return e; }\n"
    "function fmt(v, d) { return v === null || v === undefined ? '\\u2013' : Number(v).toFixed(d); }\n"
    "function bytes(b) { if (b === null) return '\\u2013'; const u = ['B','KB','MB','GB','TB']; let i = 0;"
    " while (b >= 1000 && i < 4) { b /= 1000; i++; } return b.toFixed(i ? 1 : 0) + ' ' + u[i]; }\n"
    "function hms(s) { if (s === null) return '\\u2013'; s = Math.round(s); const h = Math.floor(s / 3600),"
    " m = Math.floor(s / 60) % 60, x = s % 60; return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' +"
    " String(x).padStart(2, '0'); }\n"
    "const params = new URLSearchParams(location.hash.slice(1));\n"
    "const mname = {roundtrip_psnr_db: 'round-trip PSNR (dB)', motion_reliability: 'motion reliability',"
    " flicker_index: 'flicker index'}[DATA.measure.name];\n"
    "const qd = DATA.measure.name === 'roundtrip_psnr_db' ? 2 : 3;\n"
    "function head() {\n"
    " const h = document.getElementById('head'), ii = DATA.input_info;\n"
    " h.appendChild(el('div', {}, DATA.tool + ' \\u2014 ' + DATA.input + ': ' + ii.width + 'x' + ii.height + ' ' +"
    " ii.pix_fmt + ', ' + fmt(ii.fps, 3) + ' fps, ' + (ii.frames !== null ? ii.frames + ' frames (' + hms(ii.duration_s) +"
    " ')' : 'length unknown') + '; ' + DATA.sampling.samples + ' samples (' + DATA.sampling.mode + '), ' +"
    " DATA.sampling.shots_found + ' shots found; -j ' + DATA.threads));\n"
    " if (DATA.sampling.note) h.appendChild(el('div', {class: 'note'}, DATA.sampling.note));\n"
    " const t = el('table'), hr = el('tr');\n"
    " ['method', 'output', 'ms/frame', 'fps', mname + (DATA.measure.better === 'higher' ? ' \\u2191' : ' \\u2193'), 'frames',"
    " 'predicted time', 'predicted size', 'peak memory'].forEach(x => hr.appendChild(el('th', {}, x)));\n"
    " t.appendChild(hr);\n"
    " for (const m of DATA.methods) { const r = el('tr'), e = m.estimate;\n"
    "  [m.name, m.output_width + 'x' + m.output_height + ' @ ' + fmt(m.output_fps, 2), fmt(m.ms_per_frame, 1),"
    " fmt(m.fps, 1), fmt(m.quality, qd), fmt(e.frames_in, 0) + ' \\u2192 ' + fmt(e.frames_out, 0), hms(e.wall_s), bytes(e.output_bytes),"
    " fmt(e.peak_memory_mib, 0) + ' MiB'].forEach(x => r.appendChild(el('td', {}, x)));\n"
    "  t.appendChild(r); }\n"
    " h.appendChild(t);\n"
    " if (DATA.size_estimate_note) h.appendChild(el('div', {class: 'note'}, 'size: ' + DATA.size_estimate_note));\n"
    " h.appendChild(el('div', {class: 'rec', id: 'recommendation'}, DATA.recommendation.text));\n"
    "}\n"
    "function viewer(s, i) {\n"
    " const box = el('div', {class: 'sample', id: 'sample' + s.n});\n"
    " box.appendChild(el('h2', {}, 'Sample ' + s.n + ': ' + fmt(s.time_s, 2) + ' s (frame ' + s.frame + '), shot ' +"
    " s.shot));\n"
    " const t = el('table'), hr = el('tr');\n"
    " ['method', mname, 'ms/frame', 'frames run'].forEach(x => hr.appendChild(el('th', {}, x)));\n"
    " t.appendChild(hr);\n"
    " const names = DATA.methods.map(m => m.name);\n"
    " for (const n of names) { const r = el('tr'), v = s.methods[n];\n"
    "  [n, fmt(v.value, qd), fmt(v.ms_per_frame, 1), v.frames].forEach(x => r.appendChild(el('td', {}, x)));"
    " t.appendChild(r); }\n"
    " box.appendChild(t);\n"
    " const src = n => n === 'input' ? s.input : s.methods[n].image;\n"
    " const out = DATA.methods[0];\n"
    " const W = out.output_width || s.width, H = out.output_height || s.height;\n"
    " const ctl = el('div', {class: 'ctl'});\n"
    " const left = el('select', {'aria-label': 'left'}), right = el('select', {'aria-label': 'right'});\n"
    " for (const n of ['input'].concat(names)) { left.appendChild(el('option', {value: n}, n));"
    " right.appendChild(el('option', {value: n}, n)); }\n"
    " left.value = params.get('left') && src(params.get('left')) ? params.get('left') : 'input';\n"
    " const dr = DATA.recommendation.method && names.includes(DATA.recommendation.method) ?"
    " DATA.recommendation.method : names[0];\n"
    " right.value = params.get('right') && src(params.get('right')) ? params.get('right') : dr;\n"
    " const wipe = el('input', {type: 'range', min: 0, max: 100, step: 0.1, value: params.get('wipe') || 50,"
    " 'aria-label': 'wipe'});\n"
    " const zoom = el('select', {'aria-label': 'zoom'});\n"
    " for (const z of [0.25, 0.5, 1, 2, 4, 8]) zoom.appendChild(el('option', {value: z}, z * 100 + '%'));\n"
    " zoom.value = params.get('zoom') || 1;\n"
    " ctl.append('left', left, 'right', right, 'wipe', wipe, 'zoom', zoom);\n"
    " box.appendChild(ctl);\n"
    " const sc = el('div', {class: 'scroll'}), v = el('div', {class: 'view'});\n"
    " const ir = el('img', {alt: 'right', class: 'right'}), il = el('img', {alt: 'left', class: 'left'});\n"
    " const line = el('div', {class: 'line'}), ll = el('div', {class: 'lab'}), rl = el('div', {class: 'lab'});\n"
    " v.append(ir, il, line, ll, rl); sc.appendChild(v); box.appendChild(sc);\n"
    " function draw() { const z = Number(zoom.value), w = Number(wipe.value);\n"
    "  v.style.width = W * z + 'px'; v.style.height = H * z + 'px';\n"
    "  if (il.getAttribute('src') !== src(left.value)) il.src = src(left.value);\n"
    "  if (ir.getAttribute('src') !== src(right.value)) ir.src = src(right.value);\n"
    "  il.style.clipPath = 'inset(0 ' + (100 - w) + '% 0 0)'; line.style.left = 'calc(' + w + '% - 1px)';\n"
    "  ll.textContent = left.value; ll.style.left = '6px'; rl.textContent = right.value; rl.style.right = '6px'; }\n"
    " [left, right, wipe, zoom].forEach(c => c.addEventListener('input', draw));\n"
    " let drag = false;\n"
    " const move = e => { const b = v.getBoundingClientRect(); wipe.value = Math.max(0, Math.min(100,"
    " 100 * (e.clientX - b.left) / b.width)); draw(); };\n"
    " v.addEventListener('pointerdown', e => { drag = true; move(e); });\n"
    " window.addEventListener('pointerup', () => { drag = false; });\n"
    " v.addEventListener('pointermove', e => { if (drag) move(e); });\n"
    " draw();\n"
    " document.getElementById('samples').appendChild(box);\n"
    "}\n"
    "try { head(); DATA.samples.forEach(viewer); } catch (e) { errors.push(String(e)); }\n"
    "if (params.get('sample') && document.getElementById('sample' + params.get('sample')))"
    " document.getElementById('sample' + params.get('sample')).scrollIntoView();\n"
    "window.addEventListener('load', () => {\n"
    " const imgs = Array.from(document.images), bad = imgs.filter(i => !i.complete || !i.naturalWidth);\n"
    " document.getElementById('status').textContent = (errors.length || bad.length ? 'status: failed' :"
    " 'status: ok') + ' images=' + imgs.length + ' loaded=' + (imgs.length - bad.length) + ' errors=' +"
    " errors.length + (errors.length ? ' ' + errors.join('; ') : '');\n"
    "});\n"
    "</script>\n</body>\n</html>\n";

static void write_html_body(const PvRun *r, FILE *f)
{
    fputs(page_head, f);
    write_json_body(r, f);
    fputs(page_script, f);
}

int aie_preview_write_html(PvRun *r, char *err, size_t errlen)
{
    return write_file(r, "index.html", write_html_body, err, errlen);
}
