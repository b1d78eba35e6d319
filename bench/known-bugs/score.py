#!/usr/bin/env python3
"""Score freerace on the known-bugs manifest: recall before the fix, quiet after it.

  score.py --freerace BIN [--cache DIR] [--cases cases.toml] [--only ID,...] [--json FILE]
           [--jobs N] [--timeout S]

For each case the BEFORE and AFTER sdists are fetched (sdist.py: cached in CACHE/sdists,
unpacked in CACHE/src) and `freerace check` runs on each whole unpacked sdist, as a user would:
default target, or `--target free-threaded` where the manifest says so. A case is *found* when
a finding of its expected rule points into one of its functions: the finding's enclosing
function, or a function named in its headline or notes, in one of the case's files (or, when
no location of the finding is in those files, by function name alone); and, when the case names
the places its bug is about (`places`), the headline or notes name one of them. It is *quiet after the
fix* when no such finding exists in the AFTER sdist.

Prints a table and the totals (recall, post-fix quiet, findings per KLOC), overall, per family
and per rule; `--json FILE` writes the same for tracking.
"""
import argparse, json, os, re, subprocess, sys, time, tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sdist  # noqa: E402

SOURCE_EXT = (".c", ".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".inl", ".ipp",
              ".pyx", ".pxd", ".pxi", ".py")
SKIPPED_DIRS = {"build", "dist", "node_modules", "__pycache__", "site-packages", "venv", "env", "_build", "CMakeFiles"}
TOKEN = re.compile(r"`([^`]+)`")
PLACE_SPLIT = re.compile(r"->|[.\s()\[\],*&]+")


def kloc(root):
    """Thousands of source lines freerace would read under root (its own skips mirrored)."""
    lines = 0
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".") and x not in SKIPPED_DIRS]
        for f in files:
            if f.lower().endswith(SOURCE_EXT):
                try:
                    with open(os.path.join(d, f), "rb") as h:
                        lines += h.read().count(b"\n")
                except OSError:
                    pass
    return lines / 1000.0


def run_freerace(binary, root, target, jobs, timeout):
    args = [binary, "check", root, "--format", "json", "--exit-zero"]
    if target == "free-threaded":
        args += ["--target", "free-threaded"]
    if jobs:
        args += ["--jobs", str(jobs)]
    start = time.time()
    try:
        p = subprocess.run(args, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "findings": [], "seconds": timeout}
    seconds = time.time() - start
    if p.returncode not in (0, 1):
        return {"error": f"exit {p.returncode}: {p.stderr.decode(errors='replace')[-400:]}", "findings": [],
                "seconds": seconds}
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        return {"error": f"bad JSON: {e}", "findings": [], "seconds": seconds}
    doc["seconds"] = seconds
    return doc


def names_match(token, fn):
    """`token` (as freerace prints a function) names `fn` (as the manifest spells it)."""
    t = token.strip().rstrip("()").split("(")[0]
    if t == fn:
        return True
    # C++ `Class::method`, Python/Cython `Class.method`, nested `a.b.c`: compare by last part
    # when the manifest gives only the last part, or fully when it gives the qualified name.
    for sep in ("::", "."):
        if sep in fn and t.replace("::", ".").endswith(fn.replace("::", ".")):
            return True
        if sep not in fn and (t.endswith(sep + fn)):
            return True
    return False


def in_files(path, files, root):
    rel = os.path.relpath(path, root) if os.path.isabs(path) and root else path
    return any(rel == f or rel.endswith("/" + f) or f.endswith("/" + rel) for f in files)


def finding_matches(f, case, root):
    if f.get("code") != case["rule"]:
        return False
    fns = case["functions"]
    files = case["files"]
    locs = [f["location"]] + [n["location"] for n in f.get("notes", [])]
    file_hit = any(in_files(l["path"], files, root) for l in locs)
    tokens = [f.get("function", "")]
    for text in [f.get("message", "")] + [n.get("message", "") for n in f.get("notes", [])]:
        tokens += TOKEN.findall(text)
    fn_hit = any(names_match(t, fn) for t in tokens if t for fn in fns)
    # the memory the bug is about, when the manifest names it: `ReaderObject.buf`, `s->memo`
    places = case.get("places", [])
    place_hit = not places or any(p in PLACE_SPLIT.split(t) for t in tokens if t for p in places)
    return fn_hit and place_hit and (file_hit or not files)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--freerace", required=True)
    ap.add_argument("--cache", default=os.path.join(HERE, "..", "..", ".corpus", "known-bugs"))
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.toml"))
    ap.add_argument("--only", default="", help="comma-separated case ids or projects")
    ap.add_argument("--json", dest="json_out", default="")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()

    with open(a.cases, "rb") as h:
        cases = tomllib.load(h)["case"]
    if a.only:
        keep = set(a.only.split(","))
        cases = [c for c in cases if c["id"] in keep or c["project"] in keep]
    cache = os.path.abspath(a.cache)

    runs = {}  # (spec, target) -> result

    def analyze(spec, target):
        key = (spec, target)
        if key not in runs:
            t0 = time.time()
            try:
                root = sdist.fetch(spec, cache)
            except SystemExit as e:
                runs[key] = {"error": str(e), "findings": [], "root": "", "kloc": 0.0}
                return runs[key]
            except Exception as e:  # network, archive
                runs[key] = {"error": f"fetch failed: {e}", "findings": [], "root": "", "kloc": 0.0}
                return runs[key]
            fetched = time.time() - t0
            doc = run_freerace(a.freerace, root, target, a.jobs, a.timeout)
            doc["root"] = root
            doc["kloc"] = kloc(root)
            doc["fetchSeconds"] = fetched
            runs[key] = doc
            status = doc.get("error") or f"{len(doc['findings'])} findings, {doc['seconds']:.1f} s"
            print(f"  {spec:45s} {target:13s} {status}", file=sys.stderr)
        return runs[key]

    rows = []
    for c in cases:
        before = analyze(c["before"], c["target"])
        after = analyze(c["after"], c["target"])
        expected = c["rule"] != "none-yet"
        hits_before = [f for f in before["findings"] if expected and finding_matches(f, c, before["root"])]
        hits_after = [f for f in after["findings"] if expected and finding_matches(f, c, after["root"])]
        rows.append({
            "id": c["id"], "project": c["project"], "family": c["family"], "rule": c["rule"],
            "language": c["language"], "target": c["target"],
            "found": bool(hits_before), "quietAfter": not hits_after, "residual": c.get("residual", ""),
            "findingIDs": [f["id"] for f in hits_before], "afterFindingIDs": [f["id"] for f in hits_after],
            "packageFindings": len(before["findings"]), "kloc": round(before.get("kloc", 0.0), 1),
            "error": before.get("error") or after.get("error") or "",
        })

    def totals(rs):
        n = len(rs)
        found = [r for r in rs if r["found"]]
        # a case whose fix left the reported hazard in place (manifest: residual) is not expected quiet
        judged = [r for r in found if not r["residual"]]
        quiet = [r for r in judged if r["quietAfter"]]
        return {"cases": n, "found": len(found), "recall": len(found) / n if n else 0.0,
                "residual": len(found) - len(judged),
                "quietAfterFix": len(quiet), "quietJudged": len(judged),
                "quietAfterFixRate": len(quiet) / len(judged) if judged else 0.0}

    # findings per KLOC over the distinct BEFORE packages
    pk = {}
    for (spec, target), d in runs.items():
        if spec in {c["before"] for c in cases}:
            pk[spec] = (len(d["findings"]), d.get("kloc", 0.0))
    total_findings = sum(v[0] for v in pk.values())
    total_kloc = sum(v[1] for v in pk.values())

    summary = {
        "all": totals(rows),
        "byFamily": {f: totals([r for r in rows if r["family"] == f]) for f in sorted({r["family"] for r in rows})},
        "byRule": {k: totals([r for r in rows if r["rule"] == k]) for k in sorted({r["rule"] for r in rows})},
        "findingsPerKLOC": total_findings / total_kloc if total_kloc else 0.0,
        "packages": len(pk), "packageFindings": total_findings, "packageKLOC": round(total_kloc, 1),
        "errors": [r["id"] + ": " + r["error"] for r in rows if r["error"]],
    }

    w = max([len(r["id"]) for r in rows] + [4])
    print(f"{'case':{w}s}  {'rule':8s} {'found before':12s} {'quiet after':11s} {'findings':>8s} {'KLOC':>7s}")
    for r in rows:
        print(f"{r['id']:{w}s}  {r['rule']:8s} {'yes' if r['found'] else 'no':12s} "
              f"{(('yes' if r['quietAfter'] else ('no*' if r['residual'] else 'NO')) if r['found'] else '-'):11s} {r['packageFindings']:8d} {r['kloc']:7.1f}"
              + (f"  ({r['error']})" if r["error"] else ""))

    def line(name, t):
        return (f"{name:14s} recall {t['found']:2d}/{t['cases']:<2d} = {100 * t['recall']:5.1f}%   "
                f"quiet after fix {t['quietAfterFix']:2d}/{t['quietJudged']:<2d} = {100 * t['quietAfterFixRate']:5.1f}%"
                + (f"   ({t['residual']} found with a residual hazard after the fix)" if t['residual'] else ""))
    print()
    print(line("all", summary["all"]))
    for f, t in summary["byFamily"].items():
        print(line(f"family {f}", t))
    for k, t in summary["byRule"].items():
        print(line(f"rule {k}", t))
    print(f"findings per KLOC: {summary['findingsPerKLOC']:.3f} ({total_findings} findings in "
          f"{summary['packages']} pre-fix packages, {total_kloc:.0f} KLOC)")
    print("no* = not quiet after the fix, and the manifest says why the hazard remains (residual)")
    for e in summary["errors"]:
        print(f"error: {e}")

    if a.json_out:
        with open(a.json_out, "w") as h:
            json.dump({"summary": summary, "cases": rows}, h, indent=2, sort_keys=True)
            h.write("\n")


if __name__ == "__main__":
    main()
