import Foundation
import Testing

// `freerace check a.c` as pre-commit and editors run it: the named file is analyzed with the rest
// of its project as context, and only findings that involve it are reported. And each file is
// governed by its nearest configuration file. Every test builds its own tree and runs the binary.

/// A project split the way real extensions are: the object struct in a header, a method that
/// reads the buffer in `a.c`, the method that frees it and the type's method table in `b.c`, and
/// an unrelated helper in `c.c`. Only `b.c` knows that `box_get` is an entry point, and only
/// `box.h` what a `BoxObject` is: `a.c` alone has no finding.
enum SplitProject {
    static let header = """
        #include <Python.h>

        typedef struct { PyObject *key; PyObject *value; } box_entry_t;

        typedef struct {
            PyObject_HEAD
            Py_ssize_t size;
            Py_ssize_t used;
            box_entry_t *entries;
        } BoxObject;

        PyObject *box_get(BoxObject *self, PyObject *key);

        """

    static let reader = """
        #include "box.h"

        PyObject *
        box_get(BoxObject *self, PyObject *key)
        {
            PyObject *result = Py_None;
            for (Py_ssize_t i = 0; i < self->used; i++) {
                if (self->entries[i].key == key) {
                    result = self->entries[i].value;
                    break;
                }
            }
            Py_INCREF(result);
            return result;
        }

        """

    static func freer(freeLine: String = "    PyMem_Free(old);") -> String {
        """
        #include "box.h"

        static int
        box_resize(BoxObject *self)
        {
            box_entry_t *old = self->entries;
            box_entry_t *fresh = PyMem_Calloc((size_t)self->size * 2, sizeof(box_entry_t));
            if (fresh == NULL) {
                return -1;
            }
            memcpy(fresh, old, (size_t)self->size * sizeof(box_entry_t));
            self->entries = fresh;
            self->size *= 2;
        \(freeLine)
            return 0;
        }

        static PyObject *
        box_grow(BoxObject *self, PyObject *unused)
        {
            if (box_resize(self) < 0) {
                return NULL;
            }
            Py_RETURN_NONE;
        }

        static PyMethodDef box_methods[] = {
            {"grow", (PyCFunction)box_grow, METH_NOARGS, NULL},
            {"get", (PyCFunction)box_get, METH_O, NULL},
            {NULL}
        };

        static PyType_Slot box_type_slots[] = {
            {Py_tp_methods, box_methods},
            {0, 0},
        };

        static PyType_Spec box_spec = {"boxmod.Box", sizeof(BoxObject), 0, Py_TPFLAGS_DEFAULT, box_type_slots};

        static PyModuleDef_Slot boxmod_slots[] = {
            {Py_mod_gil, Py_MOD_GIL_NOT_USED},
            {0, NULL},
        };

        static struct PyModuleDef boxmod_def = {PyModuleDef_HEAD_INIT, "boxmod", NULL, 0, NULL, boxmod_slots};

        """
    }

    static let unrelated = """
        #include "box.h"

        int
        box_helper(int x)
        {
            return x + 1;
        }

        """

    /// Writes the project under `dir/sub` (`sub` may be empty); `marker` makes it a project.
    static func write(into dir: CLIScratch, sub: String = "", marker: Bool = true, readerIn: String = "a.c",
                      freeLine: String = "    PyMem_Free(old);") throws {
        let p = sub.isEmpty ? "" : sub + "/"
        if marker { try dir.write(p + "setup.py", "from setuptools import setup\nsetup(name='boxmod')\n") }
        try dir.write(p + "box.h", header)
        try dir.write(p + readerIn, reader)
        try dir.write(p + "b.c", freer(freeLine: freeLine))
        try dir.write(p + "c.c", unrelated)
    }

    /// The line of `a.c` where the reader uses the buffer first.
    static var readLine: Int { CSample.line(of: "self->entries[i].key", in: reader)! }
}

@Suite("Named files with their project as context")
struct ContextTests {
    /// A finding's location and the paths of its two threads' steps.
    static func parties(_ f: [String: Any]) -> Set<String> {
        var s: Set<String> = []
        if let l = jsonLocation(f) { s.insert(l.path) }
        for n in f["notes"] as? [[String: Any]] ?? [] where n["thread"] != nil {
            if let l = n["location"] as? [String: Any], let p = l["path"] as? String { s.insert(p) }
        }
        return s
    }

    @Test func bugWhoseFreerIsInAnotherFileIsFoundByCheckingTheReader() throws {
        let dir = try CLIScratch("ctx-reader")
        defer { dir.remove() }
        try SplitProject.write(into: dir)
        let r = try FreeraceCLI.run(["check", "a.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        // shown in the named file, at the reader's step, with the free in b.c as a party
        #expect(r.stdout.hasPrefix("a.c:\(SplitProject.readLine):13: warning: `box_resize` frees `BoxObject.entries`"), "\(r)")
        #expect(r.stdout.contains("thread B  b.c:"), "\(r)")
        #expect(r.stdout.contains("note      b.c:"), "the note naming where a whole check reports it: \(r)")
        #expect(r.stdout.contains("Found 1 finding (FR301: 1) in 1 file (4 more read as context)."), "\(r)")
        // the same file outside any project is analyzed alone, as before: nothing to see
        let lone = try CLIScratch("ctx-lone")
        defer { lone.remove() }
        try SplitProject.write(into: lone, marker: false)
        let alone = try FreeraceCLI.run(["check", "a.c"], in: lone.url)
        #expect(alone.status == 0 && alone.stdout.contains("No findings in 1 file."), "\(alone)")
    }

    @Test func unrelatedFileOfTheSameProjectReportsNothing() throws {
        let dir = try CLIScratch("ctx-unrelated")
        defer { dir.remove() }
        try SplitProject.write(into: dir)
        let r = try FreeraceCLI.run(["check", "c.c", "--format", "json"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        let doc = try r.json()
        #expect(jsonFindings(doc).isEmpty, "\(r)")
        #expect(jsonSummary(doc)["files"] as? Int == 1)
        #expect(jsonSummary(doc)["contextFiles"] as? Int == 4)
        // the module lines and warnings of context files are not c.c's business
        #expect(!(try FreeraceCLI.run(["check", "c.c"], in: dir.url)).stdout.contains("module `boxmod`"))
    }

    /// `check a.c` reports exactly the findings of `check .` that involve a.c (same ids), never more.
    @Test(arguments: ["a.c", "b.c", "c.c", "box.h"])
    func namedFileReportsNoMoreThanTheWholeCheck(_ name: String) throws {
        let dir = try CLIScratch("ctx-subset")
        defer { dir.remove() }
        try SplitProject.write(into: dir)
        let whole = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.url)
        #expect(whole.status == 1, "\(whole)")
        let expected = jsonFindings(try whole.json()).filter { Self.parties($0).contains(name) }.compactMap { $0["id"] as? String }
        let one = try FreeraceCLI.run(["check", name, "--format", "json"], in: dir.url)
        let doc = try one.json()
        #expect(jsonIDs(doc).count <= expected.count, "\(one)")
        #expect(jsonIDs(doc).sorted() == expected.sorted(), "\(one)")
        for f in jsonFindings(doc) { #expect(jsonLocation(f)?.path == name, "shown in the named file: \(one)") }
        #expect(one.status == (expected.isEmpty ? 0 : 1), "\(one)")
    }

    @Test func namedFileFromASubfolderNamesItsContextFromThere() throws {
        let dir = try CLIScratch("ctx-subfolder")
        defer { dir.remove() }
        try SplitProject.write(into: dir, readerIn: "src/a.c")
        let r = try FreeraceCLI.run(["check", "a.c", "--quiet"], in: dir.file("src"))
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.hasPrefix("a.c:\(SplitProject.readLine):13: warning:"), "\(r)")
        let full = try FreeraceCLI.run(["check", "a.c"], in: dir.file("src"))
        #expect(full.stdout.contains("thread B  ../b.c:"), "\(full)")
        // named from above, spelled from there
        let above = try FreeraceCLI.run(["check", "src/a.c", "--quiet"], in: dir.url)
        #expect(above.stdout.hasPrefix("src/a.c:\(SplitProject.readLine):13: warning:"), "\(above)")
    }

    @Test func baselinesAndSuppressionsTreatTheFindingAsTheSame() throws {
        let dir = try CLIScratch("ctx-baseline")
        defer { dir.remove() }
        try SplitProject.write(into: dir)
        let w = try FreeraceCLI.run(["check", ".", "--write-baseline", "base.json"], in: dir.url)
        #expect(w.status == 0, "\(w)")
        let b = try FreeraceCLI.run(["check", "a.c", "--baseline", "base.json"], in: dir.url)
        #expect(b.status == 0 && b.stdout.contains("1 in baseline"), "\(b)")

        // a suppression where a whole check reports it (the free, in b.c) holds for `check a.c`
        let sup = try CLIScratch("ctx-suppress")
        defer { sup.remove() }
        try SplitProject.write(into: sup, freeLine: "    PyMem_Free(old);  // freerace: ignore[FR301] callers hold the lock")
        let s = try FreeraceCLI.run(["check", "a.c"], in: sup.url)
        #expect(s.status == 0 && s.stdout.contains("1 suppressed"), "\(s)")
        // and an unused suppression in a context file is not reported for a.c
        let u = try FreeraceCLI.run(["check", "c.c", "--report-unused-suppressions"], in: sup.url)
        #expect(!u.stdout.contains("unused suppression"), "\(u)")
    }

    @Test func reproFindsTheIdsThatCheckOfANamedFilePrints() throws {
        let dir = try CLIScratch("ctx-repro")
        defer { dir.remove() }
        try SplitProject.write(into: dir)
        let id = try #require(jsonIDs(try FreeraceCLI.run(["check", "a.c", "--format", "json"], in: dir.url).json()).first)
        let r = try FreeraceCLI.run(["repro", id, "a.c", "-o", "s.py"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(try dir.read("s.py").contains("TYPE = \"Box\""))
    }

    // MARK: configuration per file

    /// p1: `[tool.freerace] select = ["FR1"]` (its FR301 is not selected); p2: `.freerace.toml`
    /// with `target = "free-threaded"` and a module without a Py_mod_gil slot (reported only for
    /// that target); p3: a `pyproject.toml` without the table, so the top folder's
    /// `.freerace.toml` (`ignore = ["FR301"]`) governs it.
    static func subprojects(_ label: String) throws -> CLIScratch {
        let dir = try CLIScratch(label)
        try dir.write(".freerace.toml", "ignore = [\"FR301\"]\n")
        try dir.write("p1/pyproject.toml", "[project]\nname = \"p1\"\n\n[tool.freerace]\nselect = [\"FR1\"]\n")
        try dir.write("p1/box.c", CSample.buggy())
        try dir.write("p2/setup.py", "")
        try dir.write("p2/.freerace.toml", "target = \"free-threaded\"\n")
        try dir.write("p2/box.c", CSample.buggy { $0.gilFree = false })
        try dir.write("p3/pyproject.toml", "[project]\nname = \"p3\"\n")
        try dir.write("p3/box.c", CSample.buggy())
        return dir
    }

    @Test(arguments: [["p1", "p2", "p3"], ["p3", "p2", "p1"], ["."]])
    func eachFileIsGovernedByItsNearestConfiguration(_ paths: [String]) throws {
        let dir = try Self.subprojects("cfg-nearest")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check"] + paths + ["--format", "json"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let doc = try r.json()
        #expect(jsonFindings(doc).compactMap { jsonLocation($0)?.path } == ["p2/box.c"], "\(r)")
        #expect(jsonSummary(doc)["target"] as? String == "mixed", "\(r)")
        // a named file gets its own configuration too
        let one = try FreeraceCLI.run(["check", "p2/box.c"], in: dir.url)
        #expect(one.status == 1, "\(one)")
        #expect(try FreeraceCLI.run(["check", "p1/box.c", "p3/box.c"], in: dir.url).status == 0)
    }

    @Test func explicitConfigGovernsEveryFile() throws {
        let dir = try Self.subprojects("cfg-override")
        defer { dir.remove() }
        let all = try FreeraceCLI.run(["check", "p1", "p2", "p3", "--config", "p2/.freerace.toml", "--format", "json"], in: dir.url)
        let paths = jsonFindings(try all.json()).compactMap { jsonLocation($0)?.path }
        #expect(paths == ["p1/box.c", "p2/box.c", "p3/box.c"], "\(all)")
        let none = try FreeraceCLI.run(["check", "p1", "p2", "p3", "--config", ".freerace.toml"], in: dir.url)
        #expect(none.status == 0, "\(none)")
    }

    /// A configuration's `exclude` holds in the folders it governs, not only the first path's.
    @Test func excludeOfANearerConfigurationApplies() throws {
        let dir = try Self.subprojects("cfg-exclude")
        defer { dir.remove() }
        try dir.write("p2/.freerace.toml", "target = \"free-threaded\"\nexclude = [\"box.c\"]\n")
        let r = try FreeraceCLI.run(["check", "p1", "p2", "p3", "--format", "json"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        let summary = jsonSummary(try r.json())
        let modules = (summary["modules"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        #expect(modules.sorted() == ["p1/box.c", "p3/box.c"], "p2/box.c is not analyzed: \(r)")
        #expect(summary["files"] as? Int == 3, "p1/box.c, p2/setup.py, p3/box.c: \(r)")
    }

    @Test func invalidNearerConfigurationStopsTheRun() throws {
        let dir = try Self.subprojects("cfg-invalid-nearer")
        defer { dir.remove() }
        try dir.write("p3/.freerace.toml", "select = [\"FR999\"]\n")
        let r = try FreeraceCLI.run(["check", "p1", "p3"], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("FR999") && r.stderr.contains("p3/.freerace.toml"), "\(r)")
    }
}
