#!/usr/bin/env python3
"""stats-oracle: the expected answers for aie-stats' golden logs.

An independent implementation of the report that man/aie-stats.1 describes,
written from the page and not from lib/stats: Python's json module instead of
the scanner, exact nearest-rank percentiles over every value instead of
log-bucket histograms, plain lists instead of bounded summaries. It is run by
hand when a golden log or a rule changes, never by make check:

    scripts/stats-oracle.py testdata/stats/*.jsonl     # writes NAME.expect.json

The golden logs come from tests/gen/gen_stats_log.c (scripts/gen-stats-log.sh
golden). Python 3 standard library only.
"""
import json
import math
import os
import re
import sys

# --by per golden log (default: tool)
BY = {"damaged": ["tool"], "capacity": ["tool"]}

QUANTILES = [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)]
DAY_MS = 86400000

# thresholds, as aie-stats(1) documents them
MIN_WALL_MS = 1000
MIN_RUNS = 3
BOUND_OCC = 0.85
BOUND_RATIO = 1.5
BOUND_SHARE = 0.30
IDLE_UTIL = 0.50
ERR_RATE, ERR_RATE_CRIT, ERR_MIN = 0.05, 0.25, 2
QUEUE_SHARE, QUEUE_MIN_JOBS, QUEUE_LONG_S, QUEUE_CRIT_S = 0.50, 5, 600.0, 3600.0
SLOW_RATIO, SLOW_MIN_RUNS, SLOW_MIN_FRAMES = 3.0, 5, 1000
MEM, MEM_CRIT = 0.80, 0.95
CACHE_RATE, CACHE_MIN = 0.30, 10
REG_SLOWER, REG_CRIT, REG_MIN_RUNS, REG_MIN_SPAN_MS = 0.15, 0.40, 5, 3600000
CAP_DAYS = 30
STALE_MS = 120000
Q_SIGMA, Q_MIN_RUNS, Q_REL = 3.0, 5, 0.05

FINDING_ORDER = ["capacity", "error_rate", "memory", "incomplete_runs", "regression", "decode_bound",
                 "encode_bound", "process_bound", "threads_idle", "queue_congestion", "queue_wait",
                 "slow_runs", "slow_frames", "cache_low", "metrics_dropped", "quality_outliers"]

TOP_KEYS = {"v", "ts", "tool", "version", "event", "run_id", "host", "pid", "tags", "batch_id", "job_id",
            "status", "error", "method", "model", "threads", "cores", "mem_total_kb", "input", "output",
            "frames_in", "frames_out", "wall_ms", "cpu_user_ms", "cpu_sys_ms", "maxrss_kb", "stages_ms",
            "frame_ms_hist", "quality", "dropped_records", "frames_done", "frames_total", "fps",
            "in_flight", "rss_kb", "attempt", "exit", "signal", "queue_wait_ms", "runtime_ms", "cache",
            "options", "metrics_queued", "metrics_dropped", "start", "end", "timed_out", "interrupted"}
STREAM_KEYS = {"name", "width", "height", "fps", "pix_fmt"}
STAGE_KEYS = ["read", "process", "write", "wait", "finish"]
# threads that spend each stage's time: the reader, the workers, the writer,
# the reader and the writer (wait), the writer (finish)
STAGE_THREADS = {"read": 1, "process": None, "write": 1, "wait": 2, "finish": 1}
JUDGED_STAGES = STAGE_KEYS[:4]

TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                   r"(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?)?$")


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_ts(s):
    m = TS_RE.match(s)
    if not m:
        return None
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    dim = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not 1 <= mo <= 12 or not 1 <= d <= dim[mo - 1]:
        return None
    h = int(m[4] or 0)
    mi = int(m[5] or 0)
    sec = int(m[6] or 0)
    frac = int((m[7] or "0")[:3].ljust(3, "0"))
    if h > 23 or mi > 59 or sec > 60:
        return None
    off = 0
    if m[9]:
        oh, om = int(m[10]), int(m[11] or 0)
        if oh > 23 or om > 59:
            return None
        off = (oh * 60 + om) * (-1 if m[9] == "-" else 1)
    return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off * 60) * 1000 + frac


def day_str(ms):
    days = ms // DAY_MS
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    return "%04d-%02d-%02d" % (y, m, d)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x):
    return (isinstance(x, (int, float))) and not isinstance(x, bool)


def nearest_rank(xs, q):
    xs = sorted(xs)
    if not xs:
        return 0.0
    rank = max(1, math.ceil(q * len(xs)))
    return xs[min(rank, len(xs)) - 1]


def bucket_value(i):
    return 2.0 ** ((i + 0.5) / 64)


def hist_quantile(h, q):
    total = sum(h.values())
    if not total:
        return 0.0
    rank = max(1, math.ceil(q * total))
    seen = 0
    for i in sorted(h):
        seen += h[i]
        if seen >= rank:
            return bucket_value(i)
    return bucket_value(max(h))


class Group:
    def __init__(self, key):
        self.key = key
        self.runs = self.ok = self.failed = self.cancelled = self.other = 0
        self.incomplete = self.stale = 0
        self.frames = 0
        self.mpix = 0.0
        self.jobs = self.retries = self.jobs_failed = 0
        self.cache = {"hit": 0, "miss": 0, "off": 0}
        self.queue = []
        self.runtime_s = 0.0
        self.fps = []
        self.sp_frames = self.sp_wall = self.sp_mpix = 0.0
        self.hist = {}
        self.stage_runs = 0
        self.st_wall = 0.0
        self.st = [0.0] * 5
        self.st_fin_wall = 0.0
        self.bound = [0, 0, 0]
        self.bound_wall = [0.0] * 3
        self.bound_new = [0.0] * 3
        self.bound_occ = [0.0] * 3
        self.bound_next = [0.0] * 3
        self.cpu_runs = 0
        self.cpu_ms = self.wall_thr = self.wall_cores = 0.0
        self.fewer = 0
        self.max_threads = self.max_cores = 0
        self.peak_rss = self.peak_total = 0
        self.peak_ratio = 0.0
        self.peak_input = "-"
        self.quality = {}
        self.dropped = 0
        self.errors = {}
        self.incomplete_inputs = []


class Klass:
    def __init__(self, tool, method, model, res):
        self.tool, self.method, self.model, self.res = tool, method, model, res
        self.label = f"{tool} {method} {model} {res}" if model != "-" else f"{tool} {method} {res}"
        self.runs = 0
        self.frames = 0
        self.spf = []          # (seconds per frame, input)
        self.tail = []         # (own p99 ms, input)
        self.hist = {}
        self.reg = []          # (ts, fps)
        self.first_version = self.last_version = None
        self.first_version_ts = self.last_version_ts = None
        self.quality = {}      # name -> [(value, input)]


class Oracle:
    def __init__(self, by):
        self.by = by
        self.c = dict(lines=0, records=0, used=0, torn=0, garbage=0, unknown_version=0, unknown_event=0,
                      invalid=0, unknown_fields=0, filtered=0)
        self.groups = {}
        self.classes = {}
        self.class_order = []
        self.open = {}
        self.first_ts = self.last_ts = None
        self.first_run = self.last_run = None
        self.days = {}         # day index -> [mp, frames, runs, machine_s]
        self.hosts = set()

    # ---- reading ----
    def feed(self, data):
        parts = data.split(b"\n")
        for p in parts:
            self.line(p)

    def line(self, raw):
        raw = raw.strip(b" \t\r\n")
        if not raw:
            return
        self.c["lines"] += 1
        while True:
            rec = None
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                rec = None
            if isinstance(rec, dict):
                self.c["records"] += 1
                self.record(rec)
                return
            nxt = raw.find(b'{"v":', 1)
            self.c["torn" if raw[:1] == b"{" else "garbage"] += 1
            if nxt < 0:
                return
            raw = raw[nxt:]

    def key_value(self, r, key):
        def s(name):
            v = r.get(name)
            return v if isinstance(v, str) and v else "-"
        if key == "tool":
            return s("tool")
        if key == "method":
            return s("method")
        if key == "model":
            return s("model")
        if key == "host":
            return s("host")
        if key == "batch":
            return s("batch_id")
        if key == "res":
            inp = r.get("input")
            if isinstance(inp, dict) and is_int(inp.get("width")) and is_int(inp.get("height")) \
                    and inp["width"] > 0 and inp["height"] > 0:
                return "%dx%d" % (inp["width"], inp["height"])
            return "-"
        if key == "day":
            return day_str(r["_ts"])
        if key.startswith("tag:"):
            tags = r.get("tags")
            v = tags.get(key[4:]) if isinstance(tags, dict) else None
            return v if isinstance(v, str) and v else "-"
        raise ValueError(key)

    def group(self, r):
        key = tuple(self.key_value(r, k) for k in self.by)
        if key not in self.groups:
            self.groups[key] = Group(key)
        return self.groups[key]

    def klass(self, r):
        def s(name):
            v = r.get(name)
            return v if isinstance(v, str) and v else "-"
        inp = r.get("input")
        res = "-"
        if isinstance(inp, dict) and is_int(inp.get("width")) and is_int(inp.get("height")):
            res = "%dx%d" % (inp["width"], inp["height"])
        key = (s("tool"), s("method"), s("model"), res)
        if key not in self.classes:
            self.classes[key] = Klass(*key)
            self.class_order.append(key)
        return self.classes[key]

    def used(self, ts):
        self.c["used"] += 1
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)

    def record(self, r):
        if not is_int(r.get("v")) or r["v"] != 1:
            self.c["unknown_version"] += 1
            return
        ts = parse_ts(r["ts"]) if isinstance(r.get("ts"), str) else None
        ev = r.get("event")
        if ts is None or not isinstance(ev, str):
            self.c["invalid"] += 1
            return
        if ev not in ("run_start", "snapshot", "run_end", "job_end"):
            self.c["unknown_event"] += 1
            return
        r["_ts"] = ts
        unknown = sum(1 for k in r if k not in TOP_KEYS and k != "_ts")
        for k in ("input", "output"):
            if isinstance(r.get(k), dict):
                unknown += sum(1 for x in r[k] if x not in STREAM_KEYS)
        if isinstance(r.get("stages_ms"), dict):
            unknown += sum(1 for x in r["stages_ms"] if x not in STAGE_KEYS)
        self.c["unknown_fields"] += unknown
        rid = r.get("run_id") if isinstance(r.get("run_id"), str) and r.get("run_id") else None
        if ev == "snapshot" and rid in self.open:
            self.note(self.open[rid], r)
            self.used(ts)
            return
        g = self.group(r)
        self.used(ts)
        if ev in ("run_start", "snapshot"):
            if rid is None:
                return
            o = self.open.get(rid)
            if o is None:
                o = dict(group=g, start=ts, last=ts, done=0, total=-1, pid=0, host="", input="", started=False)
                self.open[rid] = o
            if ev == "run_start":
                o["started"] = True
                o["group"] = g
                o["start"] = min(o["start"], ts)
            self.note(o, r)
        elif ev == "run_end":
            self.open.pop(rid, None)
            self.run_end(g, r)
        else:
            self.job_end(g, r)

    def note(self, o, r):
        o["last"] = max(o["last"], r["_ts"])
        if is_int(r.get("pid")):
            o["pid"] = r["pid"]
        if isinstance(r.get("host"), str) and not o["host"]:
            o["host"] = r["host"]
        inp = r.get("input")
        if isinstance(inp, dict) and isinstance(inp.get("name"), str) and not o["input"]:
            o["input"] = inp["name"]
        if is_int(r.get("frames_done")):
            o["done"] = r["frames_done"]
        if is_int(r.get("frames_total")):
            o["total"] = r["frames_total"]

    @staticmethod
    def geti(r, k):
        v = r.get(k)
        return v if is_int(v) else None

    def run_end(self, g, r):
        g.runs += 1
        st = r.get("status") if isinstance(r.get("status"), str) else None
        inp = r.get("input") if isinstance(r.get("input"), dict) else {}
        out = r.get("output") if isinstance(r.get("output"), dict) else {}
        in_name = inp.get("name") if isinstance(inp.get("name"), str) else "-"
        dropped = self.geti(r, "dropped_records")
        if dropped and dropped > 0:
            g.dropped += dropped
        rss = self.geti(r, "maxrss_kb")
        total = self.geti(r, "mem_total_kb")
        if rss and rss > 0:
            if rss > g.peak_rss:
                g.peak_rss = rss
                g.peak_total = total if total is not None else 0
                g.peak_input = in_name or "-"
            if total and total > 0:
                g.peak_ratio = max(g.peak_ratio, rss / total)
        if st != "ok":
            if st == "failed":
                g.failed += 1
                msg = self.normalise(r, inp, out)
                g.errors[msg] = g.errors.get(msg, 0) + 1
            elif st == "cancelled":
                g.cancelled += 1
            else:
                g.other += 1
            return
        g.ok += 1
        fi = self.geti(r, "frames_in")
        fi = fi if fi and fi > 0 else 0
        g.frames += fi
        mp = 0.0
        fo = self.geti(r, "frames_out")
        ow, oh = out.get("width"), out.get("height")
        if is_int(ow) and is_int(oh) and ow > 0 and oh > 0 and fo and fo > 0:
            mp = fo * ow * oh / 1e6
        g.mpix += mp
        wall = self.geti(r, "wall_ms") or 0
        thr = self.geti(r, "threads")
        thr = thr if thr and thr > 0 else 1
        cores = self.geti(r, "cores")
        cores = cores if cores and cores > 0 else 0
        hist = {}
        fh = r.get("frame_ms_hist")
        if isinstance(fh, list) and all(isinstance(p, list) and len(p) == 2 and is_int(p[0]) and is_int(p[1])
                                        for p in fh):
            pairs = [(i, n) for i, n in fh if 0 <= i < 2048 and n >= 0][:4096]
            for i, n in pairs:
                hist[i] = hist.get(i, 0) + n
            own = pairs
        else:
            own = []
        if wall > 0 and fi > 0:
            fps = fi * 1000.0 / wall
            g.fps.append(fps)
            g.sp_frames += fi
            g.sp_wall += wall
            g.sp_mpix += mp
            for i, n in hist.items():
                g.hist[i] = g.hist.get(i, 0) + n
            machine_s = wall / 1000.0
            if cores:
                machine_s *= min(thr, cores) / cores
            d = self.days.setdefault(r["_ts"] // DAY_MS, [0.0, 0.0, 0.0, 0.0])
            d[0] += mp
            d[1] += fi
            d[2] += 1
            d[3] += machine_s
            self.first_run = r["_ts"] if self.first_run is None else min(self.first_run, r["_ts"])
            self.last_run = r["_ts"] if self.last_run is None else max(self.last_run, r["_ts"])
            if isinstance(r.get("host"), str):
                self.hosts.add(r["host"])
            k = self.klass(r)
            k.runs += 1
            k.frames += fi
            k.spf.append((wall / 1000.0 / fi, in_name))
            p99 = self.own_p99(own)
            if p99 > 0:
                k.tail.append((p99, in_name))
            k.reg.append((r["_ts"], fps))
            for i, n in hist.items():
                k.hist[i] = k.hist.get(i, 0) + n
            ver = r.get("version")
            if isinstance(ver, str):
                if k.first_version is None or r["_ts"] < k.first_version_ts:
                    k.first_version, k.first_version_ts = ver, r["_ts"]
                if k.last_version is None or r["_ts"] >= k.last_version_ts:
                    k.last_version, k.last_version_ts = ver, r["_ts"]
        stages = r.get("stages_ms")
        if wall >= MIN_WALL_MS and isinstance(stages, dict) and all(is_int(stages.get(x)) for x in JUDGED_STAGES):
            w = float(wall)
            share = {}
            for name in STAGE_KEYS:
                if is_int(stages.get(name)):
                    share[name] = min(1.0, max(0.0, stages[name] / (w * (STAGE_THREADS[name] or thr))))
            occ = [share["read"], share["process"], share["write"]]
            g.stage_runs += 1
            g.st_wall += w
            for i, name in enumerate(JUDGED_STAGES):
                g.st[i] += share[name] * w
            if "finish" in share:
                g.st[4] += share["finish"] * w
                g.st_fin_wall += w
            m = 0 if occ[0] >= occ[1] and occ[0] >= occ[2] else (1 if occ[1] >= occ[2] else 2)
            second = max([occ[k] for k in range(3) if k != m] + [0])
            if occ[m] >= BOUND_OCC and occ[m] >= BOUND_RATIO * second:
                factor = second / occ[m]
                if m == 1 and cores > thr and thr / cores > factor:
                    factor = thr / cores
                factor = max(factor, 0.1)
                g.bound[m] += 1
                g.bound_wall[m] += w
                g.bound_new[m] += w * factor
                g.bound_occ[m] += occ[m]
                g.bound_next[m] += second
        cu, cs = self.geti(r, "cpu_user_ms"), self.geti(r, "cpu_sys_ms")
        if wall >= MIN_WALL_MS and cores and cu is not None and cs is not None:
            g.cpu_runs += 1
            g.cpu_ms += cu + cs
            g.wall_thr += wall * thr
            g.wall_cores += wall * cores
            g.fewer += thr < cores
            g.max_threads = max(g.max_threads, thr)
            g.max_cores = max(g.max_cores, cores)
        q = r.get("quality")
        if isinstance(q, dict):
            vals = [(name, float(v)) for name, v in q.items() if is_num(v)][:16]
            vals = [(n, v) for n, v in vals if math.isfinite(v) and n]
            if vals:
                k = self.klass(r)
                for name, v in vals:
                    g.quality.setdefault(name, []).append(v)
                    k.quality.setdefault(name, []).append((v, in_name))

    @staticmethod
    def own_p99(pairs):
        if not pairs:
            return -1
        if any(pairs[i][0] <= pairs[i - 1][0] for i in range(1, len(pairs))):
            return -1
        total = sum(n for _, n in pairs)
        if not total:
            return -1
        rank = max(1, math.ceil(0.99 * total))
        seen = 0
        for i, n in pairs:
            seen += n
            if seen >= rank:
                return bucket_value(i) / 1000.0
        return -1

    @staticmethod
    def normalise(r, inp, out):
        err = r.get("error")
        raw = err[:399] if isinstance(err, str) else "(no message)"
        o = ""
        p = raw
        for st, tag in ((inp, "INPUT"), (out, "OUTPUT")):
            name = st.get("name") if isinstance(st.get("name"), str) else ""
            if name and len(p) > len(name) and p.startswith(name) and p[len(name)] == ":":
                o = tag
                p = p[len(name):]
                break
        o += re.sub(r"[0-9]+", "N", p.replace("\n", " ").replace("\t", " "))
        return o[:159]

    def job_end(self, g, r):
        g.jobs += 1
        a = self.geti(r, "attempt")
        if a is not None and a > 1:
            g.retries += 1
        e, s = self.geti(r, "exit"), self.geti(r, "signal")
        if (e is not None and e != 0) or (s is not None and s != 0):
            g.jobs_failed += 1
        qw, rt = self.geti(r, "queue_wait_ms"), self.geti(r, "runtime_ms")
        if qw is not None and qw >= 0 and rt is not None and rt >= 0:
            g.queue.append(qw / 1000.0)
            g.runtime_s += rt / 1000.0
        c = r.get("cache")
        if c in g.cache:
            g.cache[c] += 1

    # ---- the report ----
    def finish(self):
        now = self.last_ts or 0
        for o in self.open.values():
            g = o["group"]
            g.incomplete += 1
            if o["last"] < now - STALE_MS:
                g.stale += 1
                g.incomplete_inputs.append(o["input"] or "-")
        groups = [self.groups[k] for k in sorted(self.groups, key=lambda k: "\x1f".join(k).encode())]
        findings = []
        out_groups = []
        for g in groups:
            subject = " ".join(f"{k}={v}" for k, v in zip(self.by, g.key)) if self.by else "all"
            out_groups.append(self.group_json(g))
            findings += self.group_findings(g, subject)
        classes = []
        for key in self.class_order:
            k = self.classes[key]
            findings += self.class_findings(k)
            classes.append(self.class_json(k))
        cap = self.capacity()
        findings += self.capacity_finding(cap)
        sev = {"critical": 0, "warning": 1, "info": 2}
        findings.sort(key=lambda f: (sev[f["severity"]], FINDING_ORDER.index(f["id"]), f["subject"].encode()))
        return {"input": dict(self.c), "groups": out_groups, "classes": classes, "capacity": cap,
                "findings": findings}

    def group_json(self, g):
        pct = lambda xs: {n: nearest_rank(xs, q) for n, q in QUANTILES}
        fin = g.ok + g.failed
        j = {
            "key": dict(zip(self.by, g.key)),
            "runs": {"finished": g.runs, "ok": g.ok, "failed": g.failed, "cancelled": g.cancelled,
                     "other": g.other, "incomplete": g.incomplete, "incomplete_stale": g.stale},
            "error_rate": g.failed / fin if fin else None,
            "frames": g.frames,
            "megapixels": g.mpix,
            "jobs": {"count": g.jobs, "retries": g.retries, "failed": g.jobs_failed,
                     "queue_wait_s": ({"jobs": len(g.queue), "mean": sum(g.queue) / len(g.queue),
                                       "p50": nearest_rank(g.queue, 0.5), "p95": nearest_rank(g.queue, 0.95)}
                                      if g.queue else None),
                     "queue_share": (sum(g.queue) / (sum(g.queue) + g.runtime_s)
                                     if g.queue and sum(g.queue) + g.runtime_s > 0 else None),
                     "cache": {"hit": g.cache["hit"], "miss": g.cache["miss"], "off": g.cache["off"],
                               "hit_rate": (g.cache["hit"] / (g.cache["hit"] + g.cache["miss"])
                                            if g.cache["hit"] + g.cache["miss"] else None)}},
            "throughput": {"runs": len(g.fps),
                           "fps": g.sp_frames * 1000 / g.sp_wall if g.fps else None,
                           "megapixels_per_s": g.sp_mpix * 1000 / g.sp_wall if g.fps else None,
                           "fps_mean": sum(g.fps) / len(g.fps) if g.fps else None,
                           "run_fps": pct(g.fps) if g.fps else None,
                           "frame_ms": (dict({n: hist_quantile(g.hist, q) / 1000 for n, q in QUANTILES},
                                             frames=sum(g.hist.values())) if g.hist else None)},
            "stages": {"runs": g.stage_runs,
                       **{STAGE_KEYS[i]: (g.st[i] / g.st_wall if g.st_wall > 0 else None) for i in range(4)},
                       "finish": g.st[4] / g.st_fin_wall if g.st_fin_wall > 0 else None,
                       "bound": {"read": g.bound[0], "process": g.bound[1], "write": g.bound[2]}},
            "cpu": {"runs": g.cpu_runs,
                    "utilisation": g.cpu_ms / g.wall_thr if g.wall_thr > 0 else None,
                    "machine_utilisation": g.cpu_ms / g.wall_cores if g.wall_cores > 0 else None,
                    "max_threads": g.max_threads, "cores": g.max_cores},
            "memory": {"peak_rss_kb": g.peak_rss, "mem_total_kb": g.peak_total,
                       "peak_ratio": g.peak_ratio if g.peak_ratio > 0 else None},
            "quality": {n: {"runs": len(v), "p50": nearest_rank(v, 0.5), "p90": nearest_rank(v, 0.9)}
                        for n, v in g.quality.items()},
            "dropped_records": g.dropped,
            "top_errors": [{"message": m, "count": c}
                           for m, c in sorted(g.errors.items(), key=lambda mc: (-mc[1], mc[0].encode()))],
        }
        return j

    def quality_outliers(self, vals):
        xs = [v for v, _ in vals]
        if len(xs) < Q_MIN_RUNS:
            return []
        p50 = nearest_rank(xs, 0.5)
        mad = nearest_rank([abs(x - p50) for x in xs], 0.5)
        thr = max(Q_SIGMA * 1.4826 * mad, Q_REL * abs(p50))
        return [(v, name) for v, name in vals if abs(v - p50) > thr]

    def class_json(self, k):
        return {"label": k.label, "runs": k.runs, "frames": k.frames,
                "quality": {n: {"runs": len(v), "outliers": sorted(name for _, name in self.quality_outliers(v))}
                            for n, v in k.quality.items()}}

    def group_findings(self, g, subject):
        out = []

        def f(fid, sev, inputs=()):
            out.append({"id": fid, "severity": sev, "subject": subject, "inputs": sorted(set(inputs))})
        if g.stage_runs >= MIN_RUNS:
            few = g.cpu_runs and g.fewer * 2 >= g.cpu_runs and g.max_cores > 1
            for m, fid in enumerate(["decode_bound", "process_bound", "encode_bound"]):
                nb = g.bound[m]
                if nb < 2 or nb / g.stage_runs < BOUND_SHARE:
                    continue
                f(fid, "info" if m == 1 and not few else "warning")
        if g.cpu_runs >= MIN_RUNS and g.wall_cores > 0 and g.cpu_ms / g.wall_cores < IDLE_UTIL:
            f("threads_idle", "warning")
        fin = g.ok + g.failed
        if g.failed >= ERR_MIN and fin and g.failed / fin > ERR_RATE:
            f("error_rate", "critical" if g.failed / fin > ERR_RATE_CRIT else "warning")
        if len(g.queue) >= QUEUE_MIN_JOBS:
            qs = sum(g.queue)
            if qs + g.runtime_s > 0 and qs / (qs + g.runtime_s) > QUEUE_SHARE:
                f("queue_congestion", "warning")
            p95 = nearest_rank(g.queue, 0.95)
            if p95 > QUEUE_LONG_S:
                f("queue_wait", "critical" if p95 > QUEUE_CRIT_S else "warning")
        if g.peak_ratio >= MEM:
            f("memory", "critical" if g.peak_ratio >= MEM_CRIT else "warning", [g.peak_input])
        used = g.cache["hit"] + g.cache["miss"]
        if used >= CACHE_MIN and g.cache["hit"] / used < CACHE_RATE:
            f("cache_low", "warning")
        if g.dropped > 0:
            f("metrics_dropped", "warning")
        if g.stale > 0:
            f("incomplete_runs", "warning", g.incomplete_inputs)
        return out

    def class_findings(self, k):
        out = []

        def f(fid, sev, inputs=()):
            out.append({"id": fid, "severity": sev, "subject": k.label, "inputs": sorted(set(inputs))})
        if len(k.spf) >= SLOW_MIN_RUNS:
            xs = [x for x, _ in k.spf]
            p50, p99 = nearest_rank(xs, 0.5), nearest_rank(xs, 0.99)
            if p50 > 0 and p99 > SLOW_RATIO * p50:
                f("slow_runs", "warning", [n for x, n in k.spf if x > SLOW_RATIO * p50])
        if sum(k.hist.values()) >= SLOW_MIN_FRAMES:
            p50, p99 = hist_quantile(k.hist, 0.5) / 1000, hist_quantile(k.hist, 0.99) / 1000
            if p50 > 0 and p99 > SLOW_RATIO * p50:
                f("slow_frames", "warning", [n for x, n in k.tail if x > SLOW_RATIO * p50])
        if self.first_run is not None and self.last_run - self.first_run >= REG_MIN_SPAN_MS:
            mid = self.first_run + (self.last_run - self.first_run) // 2
            old = [math.log(fps) for ts, fps in k.reg if ts < mid]
            new = [math.log(fps) for ts, fps in k.reg if ts >= mid]
            if len(old) >= REG_MIN_RUNS and len(new) >= REG_MIN_RUNS:
                ratio = math.exp(sum(new) / len(new)) / math.exp(sum(old) / len(old))
                if ratio < 1 - REG_SLOWER:
                    f("regression", "critical" if ratio < 1 - REG_CRIT else "warning")
        for name, vals in k.quality.items():
            outl = self.quality_outliers(vals)
            if outl:
                f("quality_outliers", "info", [n for _, n in outl])
        return out

    def capacity(self):
        cap = {"enough_data": False, "days": None, "days_with_data": 0, "hosts": len(self.hosts)}
        if self.first_run is None:
            return cap
        d0, d1 = self.first_run // DAY_MS, self.last_run // DAY_MS
        days = d1 - d0 + 1
        tot = [sum(v[i] for v in self.days.values()) for i in range(4)]
        cap["days"] = days
        cap["days_with_data"] = sum(1 for v in self.days.values() if v[2] > 0)
        cap["daily_megapixels"] = tot[0] / days
        cap["daily_frames"] = tot[1] / days
        cap["daily_runs"] = tot[2] / days
        mps = tot[0] / tot[3] if tot[3] > 0 else 0
        cap["machine_megapixels_per_s"] = mps if mps > 0 else None
        cap["enough_data"] = cap["days_with_data"] >= 2
        if not cap["enough_data"]:
            return cap
        xs = [d + 0.5 for d in range(d0, d1 + 1)]
        ys = [self.days.get(d, [0.0])[0] for d in range(d0, d1 + 1)]
        n = len(xs)
        sx, sy = sum(xs), sum(ys)
        sxx, sxy = sum(x * x for x in xs), sum(x * y for x, y in zip(xs, ys))
        den = n * sxx - sx * sx
        slope = (n * sxy - sx * sy) / den if n >= 2 and den > 0 else 0.0
        icpt = (sy - slope * sx) / n
        level = max(0.0, icpt + slope * xs[-1])
        cap["demand_megapixels_per_day"] = level
        cap["trend_megapixels_per_day"] = slope
        one = mps * 86400.0
        res = []
        for c in (one, one * max(1, len(self.hosts))):
            res.append(0.0 if level >= c else ((c - level) / slope if slope > 0 else None))
        cap["days_until_one_machine_full"], cap["days_until_hosts_full"] = res
        return cap

    def capacity_finding(self, cap):
        d = cap.get("days_until_hosts_full")
        if not cap["enough_data"] or not cap.get("machine_megapixels_per_s") or d is None or d > CAP_DAYS:
            return []
        return [{"id": "capacity", "severity": "critical" if d == 0 else "warning", "subject": "all",
                 "inputs": []}]


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv[1:]:
        name = os.path.basename(path)[:-len(".jsonl")] if path.endswith(".jsonl") else os.path.basename(path)
        by = BY.get(name, ["tool"])
        o = Oracle(by)
        with open(path, "rb") as f:
            o.feed(f.read())
        res = o.finish()
        res = {"log": os.path.basename(path), "by": by, **res}
        out = os.path.splitext(path)[0] + ".expect.json"
        with open(out, "w") as f:
            json.dump(res, f, indent=1, sort_keys=False)
            f.write("\n")
        ids = [x["id"] + "(" + x["severity"] + ")" for x in res["findings"]]
        print(f"{out}: {len(res['groups'])} groups, findings {ids}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
