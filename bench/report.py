#!/usr/bin/env python3
"""Summarize a bench/run.sh run: print the tables and write OUT/latest.json.

    report.py OUT

Reads OUT/corpus.json (from corpus.py), OUT/runs.jsonl (one line per timed run or skipped
measurement, written by run.sh), and, when present, OUT/parse-stats.json and OUT/check-report.json
(the untimed warm-up runs). Settings come from BENCH_* environment variables set by run.sh.
Python 3 standard library only.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

MB = 1e6
GOAL_MBPS_PER_CORE = 30.0
GOAL_RSS_RATIO = 10.0
GOAL_LINEAR = 1.25  # time per MB at the largest scale / at x1


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


def load_runs(path):
    measurements = {}  # name -> {"label", "group", "jobs", "bytes", "runs": [...], "skipped": str}
    order = []
    if not os.path.exists(path):
        return measurements, order
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            m = measurements.get(r["name"])
            if m is None:
                m = measurements[r["name"]] = {k: r.get(k) for k in ("name", "label", "group", "jobs", "bytes", "timeout")}
                m["runs"] = []
                order.append(r["name"])
            if "skipped" in r:
                m["skipped"] = r["skipped"]
            else:
                m["runs"].append({k: r[k] for k in ("run", "wall", "user", "sys", "maxrss_kb", "status")})
    return measurements, order


def describe_status(m):
    """'ok', or why the numbers are not a completed run."""
    if m.get("skipped"):
        return "skipped: " + m["skipped"]
    bad = [r for r in m["runs"] if r["status"] != 0]
    if not bad:
        return "ok"
    r = bad[0]
    s = r["status"]
    to = m.get("timeout")
    if to and (s == 124 or (s == 137 and r["wall"] >= to)):
        return ">%d s (timed out)" % to
    if s > 128:
        names = {4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}
        return "crashed (signal %d %s) after %.1f s" % (s - 128, names.get(s - 128, ""), r["wall"])
    return "failed (exit %d) after %.1f s" % (s, r["wall"])


def summarize(m):
    """Best-of-N by wall time (its CPU time with it); peak RSS is the maximum over runs."""
    out = {k: m.get(k) for k in ("name", "label", "group", "jobs", "bytes")}
    out["status"] = describe_status(m)
    out["runs"] = m["runs"]
    ok = [r for r in m["runs"] if r["status"] == 0]
    out["completedRuns"] = len(ok)
    if not ok:
        return out
    best = min(ok, key=lambda r: r["wall"])
    b = m["bytes"] or 0
    cpu = best["user"] + best["sys"]
    rss = max(r["maxrss_kb"] for r in ok) * 1024
    out.update({
        "wall": best["wall"],
        "user": best["user"],
        "sys": best["sys"],
        "cpu": round(cpu, 3),
        "mbPerSecWall": round(b / MB / best["wall"], 2) if best["wall"] > 0 else None,
        "mbPerSecCore": round(b / MB / cpu, 2) if cpu > 0 else None,
        "secPerMBWall": best["wall"] / (b / MB) if b else None,
        "secPerMBCpu": cpu / (b / MB) if b else None,
        "peakRssBytes": rss,
        "rssPerCorpusByte": round(rss / b, 2) if b else None,
        "wallMin": best["wall"],
        "wallMax": max(r["wall"] for r in ok),
        "spreadPct": (max(r["wall"] for r in ok) / best["wall"] - 1) * 100 if best["wall"] > 0 else None,
    })
    return out


def fmt(v, spec="%.2f", none="-"):
    return none if v is None else spec % v


def table(headers, rows, aligns=None):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    aligns = aligns or ["<"] + [">"] * (len(headers) - 1)
    def line(cells):
        return "  ".join(("{:%s%d}" % (a, w)).format(str(c)) for c, w, a in zip(cells, widths, aligns)).rstrip()
    lines = [line(headers), line(["-" * w for w in widths])]
    lines += [line(r) for r in rows]
    return "\n".join(lines)


def ratio(a, b):
    """Cost per MB of a relative to b (both summaries); None if either is missing."""
    if not a or not b or a.get("secPerMBWall") is None or b.get("secPerMBWall") in (None, 0):
        return None
    return a["secPerMBWall"] / b["secPerMBWall"]


def group_table(S, order, group, cat, title):
    """One throughput table: the measurements of a group, with MB/s per core and ratios to cat."""
    rows = []
    for name in order:
        s = S[name]
        if s.get("group") != group:
            continue
        done = s.get("wall") is not None and s["status"] == "ok"
        rows.append([
            s["label"], s["jobs"], fmt((s["bytes"] or 0) / MB),
            fmt(s.get("wall")) if done else "-",
            fmt(s.get("cpu")) if done else "-",
            fmt(s.get("mbPerSecWall"), "%.1f") if done else "-",
            fmt(s.get("mbPerSecCore"), "%.1f") if done else "-",
            fmt(s["peakRssBytes"] / MB, "%.0f") if done else "-",
            fmt(s.get("rssPerCorpusByte"), "%.2fx") if done else "-",
            fmt(ratio(s, cat), "%.1fx") if done and s is not cat else "-",
            "%d/%d" % (s["completedRuns"], len(s["runs"])) if s["runs"] else "0",
            fmt(s.get("spreadPct"), "%.0f%%") if done else "-",
            s.get("status") or s.get("skipped", ""),
        ])
    print()
    print(title)
    print(table(["measurement", "jobs", "MB", "wall s", "cpu s", "MB/s", "MB/s/core", "peak RSS MB", "RSS/bytes", "x cat",
                 "runs", "spread", "status"], rows, ["<"] + [">"] * 11 + ["<"]))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    env = os.environ
    corpus = json.load(open(os.path.join(out, "corpus.json")))
    ms, order = load_runs(os.path.join(out, "runs.jsonl"))
    S = {name: summarize(ms[name]) for name in order}
    jobs = int(env.get("BENCH_JOBS", "0") or 0) or os.cpu_count()
    repo = env.get("BENCH_REPO", ".")

    parse_stats = None
    p = os.path.join(out, "parse-stats.json")
    if os.path.exists(p):
        try:
            parse_stats = json.load(open(p))
        except ValueError:
            pass
    check_report = None
    p = os.path.join(out, "check-report.json")
    if os.path.exists(p):
        try:
            check_report = json.load(open(p)).get("summary")
        except (ValueError, AttributeError):
            pass

    commit = sh("git", "-C", repo, "rev-parse", "--short", "HEAD")
    dirty = bool(sh("git", "-C", repo, "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift"))
    started = float(env.get("BENCH_START", "0") or 0)
    elapsed = (datetime.datetime.now().timestamp() - started) if started else None
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": platform.node(),
        "cores": os.cpu_count(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
        if os.path.exists("/proc/cpuinfo") else platform.processor(),
        "jobs": jobs,
        "runs": int(env.get("BENCH_RUNS", "3")),
        "freerace": env.get("BENCH_FREERACE", ""),
        "commit": commit + ("+dirty" if dirty else ""),
        "swift": sh("swift", "--version").splitlines()[0] if sh("swift", "--version") else "",
        "cppcheck": sh("cppcheck", "--version"),
        "cppcheckMaxConfigs": env.get("BENCH_CPPCHECK_MAX_CONFIGS", ""),
        "cppcheckTimeout": env.get("BENCH_CPPCHECK_TIMEOUT", ""),
        "timer": env.get("BENCH_TIMER", ""),
        "exclude": corpus.get("exclude", []),
        "elapsedSeconds": round(elapsed, 1) if elapsed else None,
        "loadAvgStart": env.get("BENCH_LOAD_START", ""),
        "checkInput": env.get("BENCH_CHECK_INPUT", "directory"),
        "loadAvgEnd": open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "",
    }

    # ---- header -------------------------------------------------------------------------
    print()
    print("=" * 100)
    print("freerace benchmark  %s  host %s  (%s, %d cores)" % (meta["date"], meta["host"], meta["cpu"], meta["cores"]))
    print("freerace %s (%s)   %s   %s   timer: %s" % (meta["commit"], meta["freerace"], meta["swift"], meta["cppcheck"] or "cppcheck: n/a", meta["timer"]))
    langs = corpus["languages"]
    print("corpus %s: %d files, %.2f MB (%s)" % (corpus["root"], corpus["files"], corpus["bytes"] / MB,
          ", ".join("%s %d files %.2f MB" % (k, v["files"], v["bytes"] / MB) for k, v in sorted(langs.items()))))
    gen = corpus["cythonGenerated"]
    if gen["files"]:
        print("  of which %d Cython-generated C files (%.2f MB) are read but not analyzed by freerace"
              % (gen["files"], gen["bytes"] / MB))
    if corpus.get("exclude"):
        print("  EXCLUDE (freerace check, cppcheck and scale runs): %s -> %d files, %.2f MB left out"
              % (" ".join(corpus["exclude"]), corpus["excluded"]["files"], corpus["excluded"]["bytes"] / MB))
    print("MB = 10^6 bytes. Best of %d by wall time (peak RSS: max over runs). MB counts the bytes each"
          " tool processes (column MB)." % meta["runs"])
    if parse_stats:
        ps_bytes = sum(l["bytes"] for l in parse_stats.get("languages", {}).values())
        ps_files = sum(l["files"] for l in parse_stats.get("languages", {}).values())
        cl = {k: v for k, v in parse_stats.get("languages", {}).items() if k in ("c", "cpp")}
        print("freerace parse-stats says: %d files, %.2f MB; C %.2f%% / C++ %.2f%% of function bodies parsed clean"
              % (ps_files, ps_bytes / MB, cl.get("c", {}).get("percentClean", 0), cl.get("cpp", {}).get("percentClean", 0)))
    if check_report:
        print("freerace check says: %s files, %.2f MB analyzed, %s findings %s"
              % (check_report.get("files"), (check_report.get("bytes") or 0) / MB, check_report.get("findings"),
                 json.dumps(check_report.get("byCode", {}), sort_keys=True)))

    # ---- main table ---------------------------------------------------------------------
    cat = S.get("cat")
    cpp = S.get("cppcheck")
    group_table(S, order, "main", cat,
                "Throughput (wall = elapsed; cpu = user+sys; MB/s/core = MB / cpu s; x cat = wall s per MB relative to cat)")
    if any(S[n].get("group") == "cpython" for n in order):
        group_table(S, order, "cpython", S.get("cpython-cat"),
                    "CPython snapshot (Include, Objects, Python, Parser, Modules, PC, Programs) as one project")

    # ---- scale table --------------------------------------------------------------------
    scale = [S[n] for n in order if S[n].get("group") == "scale"]
    lin = None
    if scale:
        base = next((s for s in scale if s.get("secPerMBCpu")), None)
        rows = []
        for s in scale:
            done = s.get("wall") is not None and s["status"] == "ok"
            rel = (s["secPerMBCpu"] / base["secPerMBCpu"]) if done and base else None
            rows.append([
                s["label"], fmt((s["bytes"] or 0) / MB),
                fmt(s.get("wall")) if done else "-",
                fmt(s.get("cpu")) if done else "-",
                fmt(s["secPerMBWall"] * 1000, "%.1f") if done else "-",
                fmt(s["secPerMBCpu"] * 1000, "%.1f") if done else "-",
                fmt(rel, "%.2f") if done else "-",
                fmt(s["peakRssBytes"] / MB, "%.0f") if done else "-",
                fmt(s.get("rssPerCorpusByte"), "%.2fx") if done else "-",
                "%d/%d" % (s["completedRuns"], len(s["runs"])) if s["runs"] else "0",
                s["status"],
            ])
        done = [s for s in scale if s.get("secPerMBCpu")]
        if len(done) >= 2 and base:
            lin = done[-1]["secPerMBCpu"] / base["secPerMBCpu"]
        print()
        print("Linearity: freerace check --jobs 1 on N copies of the corpus (ms/MB: lower is better; 'vs x1' = 1.00 means linear)")
        print(table(["scale", "MB", "wall s", "cpu s", "wall ms/MB", "cpu ms/MB", "vs x1", "peak RSS MB", "RSS/bytes", "runs",
                     "status"], rows, ["<"] + [">"] * 9 + ["<"]))

    # ---- ratios and goals ---------------------------------------------------------------
    ps1, psn = S.get("parse-stats-j1"), S.get("parse-stats-jN")
    ck1, ckn, ckc = S.get("check-j1"), S.get("check-jN"), S.get("check-cfamily-jN")
    ratios = {
        "parseStatsJ1_vs_cat": ratio(ps1, cat),
        "checkJ1_vs_cat": ratio(ck1, cat),
        "checkJN_vs_cat": ratio(ckn, cat),
        "checkCfamilyJN_vs_cppcheckJN": ratio(ckc, cpp),
        "parallelSpeedupParseStats": (ps1["wall"] / psn["wall"]) if ps1 and psn and ps1.get("wall") and psn.get("wall") else None,
        "parallelSpeedupCheck": (ck1["wall"] / ckn["wall"]) if ck1 and ckn and ck1.get("wall") and ckn.get("wall") else None,
        "linearity": lin,
    }
    print()
    print("Ratios (per MB, wall time)")
    rr = [
        ["freerace parse-stats --jobs 1 / cat", fmt(ratios["parseStatsJ1_vs_cat"], "%.1fx")],
        ["freerace check --jobs 1 / cat", fmt(ratios["checkJ1_vs_cat"], "%.1fx")],
        ["freerace check --jobs %d / cat" % jobs, fmt(ratios["checkJN_vs_cat"], "%.1fx")],
        ["freerace check C/C++ --jobs %d / cppcheck -j%d" % (jobs, jobs),
         fmt(ratios["checkCfamilyJN_vs_cppcheckJN"], "%.3fx") if ratios["checkCfamilyJN_vs_cppcheckJN"] is not None
         else ("cppcheck " + cpp["status"] if cpp and cpp["status"] != "ok" else "-")],
        ["parallel speedup parse-stats (j1 wall / j%d wall)" % jobs, fmt(ratios["parallelSpeedupParseStats"], "%.2fx")],
        ["parallel speedup check (j1 wall / j%d wall)" % jobs, fmt(ratios["parallelSpeedupCheck"], "%.2fx")],
    ]
    if cpp and cpp["status"].startswith(">") and ckc and ckc.get("wall"):
        rr[3][1] = "< %.3fx (cppcheck timed out)" % (ckc["wall"] / float(meta["cppcheckTimeout"] or 1))
    print(table(["ratio", "value"], rr, ["<", ">"]))

    def verdict(ok):
        return "n/a" if ok is None else ("PASS" if ok else "FAIL")
    rss_src = ckn if ckn and ckn.get("rssPerCorpusByte") else ck1
    goals = [
        ("lex+parse MB/s per core (parse-stats --jobs 1)", ps1.get("mbPerSecCore") if ps1 else None, ">= %g" % GOAL_MBPS_PER_CORE,
         lambda v: v >= GOAL_MBPS_PER_CORE, "%.1f"),
        ("full check MB/s per core (check --jobs 1)", ck1.get("mbPerSecCore") if ck1 else None, ">= %g" % GOAL_MBPS_PER_CORE,
         lambda v: v >= GOAL_MBPS_PER_CORE, "%.1f"),
        ("peak RSS / corpus bytes (check --jobs %s)" % (rss_src["jobs"] if rss_src else "-"),
         rss_src.get("rssPerCorpusByte") if rss_src else None, "<= %gx" % GOAL_RSS_RATIO, lambda v: v <= GOAL_RSS_RATIO, "%.2fx"),
        ("linear growth: cpu s/MB at largest scale / x1", lin, "<= %.2f" % GOAL_LINEAR, lambda v: v <= GOAL_LINEAR, "%.2f"),
    ]
    cpyn = S.get("cpython-check-jN")
    if cpyn and cpyn.get("wall") is not None:
        goals += [
            ("CPython snapshot wall s (check --jobs %s)" % cpyn["jobs"], cpyn.get("wall"), "<= 20", lambda v: v <= 20, "%.1f"),
            ("CPython peak RSS / its bytes", cpyn.get("rssPerCorpusByte"), "<= %gx" % GOAL_RSS_RATIO,
             lambda v: v <= GOAL_RSS_RATIO, "%.2fx"),
        ]
    ctg = S.get("ctags")
    if ctg and ctg.get("wall") and ckn and ckn.get("wall"):
        goals.append(("check --jobs %s faster than universal-ctags (wall per MB ratio)" % ckn["jobs"],
                      ratio(ckn, ctg), "<= 1x", lambda v: v <= 1, "%.1fx"))
    print()
    print("Goals")
    grows = []
    goals_json = []
    for name, v, target, test, spec in goals:
        ok = None if v is None else bool(test(v))
        grows.append([name, fmt(v, spec), target, verdict(ok)])
        goals_json.append({"goal": name, "value": v, "target": target, "pass": ok})
    print(table(["goal", "measured", "target", "verdict"], grows, ["<", ">", ">", "<"]))
    notes = []
    if cpp:
        notes.append("cppcheck: %s -j%d --quiet --max-configs=%s on the %d C/C++ files freerace analyzes (%.2f MB); "
                     "it preprocesses and includes headers (resolved relative to each file), freerace does not; "
                     "its peak RSS is the largest single process, not the sum of its -j workers."
                     % (meta["cppcheck"] or "cppcheck", jobs, meta["cppcheckMaxConfigs"], corpus["checkCfamily"]["files"],
                        corpus["checkCfamily"]["bytes"] / MB))
    if corpus.get("exclude"):
        notes.append("with EXCLUDE, the 1x freerace check rows get %s; the scale copies hold only the remaining files."
                     % meta["checkInput"])
    notes.append("Python files are read and scanned by freerace but carry little analysis; C/C++-only rows compare like with like.")
    if ck1 and ckn and ck1.get("wall") and ckn.get("wall") and ratios["parallelSpeedupCheck"] < 1.2:
        notes.append("check gains little from more jobs (speedup %.2fx): a serial phase (program model, rules) or CPU contention."
                     % ratios["parallelSpeedupCheck"])
    try:
        load = max(float(meta["loadAvgStart"] or 0), float(meta["loadAvgEnd"] or 0))
    except ValueError:
        load = 0
    if load > 0.5:
        notes.append("the machine was not idle (1-min load average %s at start, %s at end, %d cores): other processes "
                     "competed for CPU, so wall times and parallel speedups are noisy; cpu s is the more stable figure."
                     % (meta["loadAvgStart"], meta["loadAvgEnd"], meta["cores"]))
    for n in notes:
        print("note: " + n)
    if meta["elapsedSeconds"]:
        print("whole bench run: %.0f s" % meta["elapsedSeconds"])
    print("=" * 100)

    result = {
        "meta": meta,
        "corpus": corpus,
        "parseStats": parse_stats,
        "checkSummary": check_report,
        "measurements": S,
        "ratios": ratios,
        "goals": goals_json,
        "notes": notes,
    }
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print("wrote %s" % os.path.join(out, "latest.json"))


if __name__ == "__main__":
    main()
