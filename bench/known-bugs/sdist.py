#!/usr/bin/env python3
"""Fetch PyPI source distributions through the simple index (PEP 691 JSON), with a cache.

No pip, no metadata build: the sdist file is downloaded as it is, so a meson-python project
(numpy, scipy) costs its download and nothing else.

  sdist.py versions NAME              list NAME's sdists: version, upload date, file
  sdist.py fetch NAME==VERSION DIR    download into DIR/sdists (cached), unpack into DIR/src,
                                      print the unpacked folder
"""
import io, json, os, re, shutil, sys, tarfile, tempfile, urllib.request, zipfile

INDEX = os.environ.get("FREERACE_PYPI_SIMPLE", "https://pypi.org/simple")
ACCEPT = "application/vnd.pypi.simple.v1+json"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _files(name):
    req = urllib.request.Request(f"{INDEX}/{normalize(name)}/", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)["files"]


def _sdist_version(name, filename):
    stem = None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
    if stem is None:
        return None
    # The file is NAME-VERSION.ext with NAME spelled any normalized way.
    want = normalize(name)
    for i in range(len(stem) - 1, 0, -1):
        if stem[i] == "-" and normalize(stem[:i]) == want:
            return stem[i + 1:]
    return None


def sdists(name):
    out = []
    for f in _files(name):
        v = _sdist_version(name, f["filename"])
        if v is not None:
            out.append((v, f.get("upload-time", ""), f["filename"], f["url"], f.get("yanked", False)))
    return out


def fetch(spec, root):
    name, _, version = spec.partition("==")
    if not version:
        sys.exit(f"sdist.py: expected NAME==VERSION, got {spec!r}")
    sd = os.path.join(root, "sdists")
    src = os.path.join(root, "src")
    os.makedirs(sd, exist_ok=True)
    os.makedirs(src, exist_ok=True)
    dest = os.path.join(src, f"{normalize(name)}-{version}")
    if os.path.isdir(dest):
        return dest
    cached = [f for f in os.listdir(sd) if _sdist_version(name, f) == version]
    if cached:
        archive = os.path.join(sd, cached[0])
    else:
        match = [s for s in sdists(name) if s[0] == version]
        if not match:
            sys.exit(f"sdist.py: no sdist of {spec} on the index")
        _, _, filename, url, _ = match[0]
        archive = os.path.join(sd, filename)
        tmp = archive + ".part"
        with urllib.request.urlopen(url, timeout=600) as r, open(tmp, "wb") as w:
            shutil.copyfileobj(r, w)
        os.replace(tmp, archive)
    work = tempfile.mkdtemp(dir=src, prefix=".unpack-")
    try:
        if archive.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                z.extractall(work)
        else:
            with tarfile.open(archive) as t:
                try:
                    t.extractall(work, filter="data")
                except TypeError:
                    t.extractall(work)
        entries = os.listdir(work)
        top = os.path.join(work, entries[0]) if len(entries) == 1 and os.path.isdir(os.path.join(work, entries[0])) else work
        os.replace(top, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def main(argv):
    if len(argv) >= 2 and argv[0] == "versions":
        for v, t, f, _, y in sdists(argv[1]):
            print(f"{v}\t{t[:10]}\t{f}{'  (yanked)' if y else ''}")
    elif len(argv) == 3 and argv[0] == "fetch":
        print(fetch(argv[1], argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
