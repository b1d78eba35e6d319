import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// End-to-end tests of the `freerace` executable: exit statuses, output formats, stable ids,
// suppressions, baselines, configuration and the informational subcommands. Every test writes
// its own small inputs into a fresh temporary directory and runs the real binary.

// MARK: - Running the binary

/// What one run of the binary produced.
struct CLIResult: Sendable, CustomStringConvertible {
    var stdout: String
    var stderr: String
    var status: Int32
    /// The process ended by a signal (a crash), not by `exit`.
    var signaled: Bool
    /// The process was still running when the timeout expired and was killed.
    var timedOut: Bool
    var seconds: Double

    /// Clean end: not killed, not crashed.
    var exitedNormally: Bool { !signaled && !timedOut }

    var description: String {
        "status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : "") after "
            + String(format: "%.1fs", seconds) + "\n--- stdout ---\n\(stdout.prefix(4000))\n--- stderr ---\n\(stderr.prefix(4000))"
    }

    /// Warnings about this path on stderr (text format): `PATH: warning: MESSAGE` or
    /// `PATH:LINE:COL: warning: MESSAGE`.
    func fileWarnings(_ path: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { l in
            guard l.hasPrefix(path + ":") else { return false }
            let rest = l.dropFirst(path.count)
            return rest.hasPrefix(": warning: ")
                || rest.range(of: #"^:\d+(:\d+)?: warning: "#, options: .regularExpression) != nil
        }
    }

    /// Parses stdout as a JSON object.
    func json() throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        guard let d = obj as? [String: Any] else { throw CLIError("stdout is not a JSON object:\n\(stdout.prefix(500))") }
        return d
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum FreeraceCLI {
    /// The package root (…/Tests/FreeraceTests/CLITests.swift → …).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `freerace` executable built alongside the test bundle.
    static let binary: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        // The test runner (`…/debug/freeracePackageTests.xctest`) lives next to the product.
        if let argv0 = CommandLine.arguments.first {
            let runner = URL(fileURLWithPath: argv0).resolvingSymlinksInPath()
            candidates.append(runner.deletingLastPathComponent().appendingPathComponent("freerace"))
            // On macOS the runner is inside `X.xctest/Contents/MacOS`.
            var dir = runner.deletingLastPathComponent()
            for _ in 0..<4 {
                dir = dir.deletingLastPathComponent()
                candidates.append(dir.appendingPathComponent("freerace"))
            }
        }
        for b in [Bundle.main] + Bundle.allBundles {
            candidates.append(b.bundleURL.appendingPathComponent("freerace"))
            candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("freerace"))
        }
        // Fallback: the newest `.build*/debug/freerace` under the package root.
        if let names = try? fm.contentsOfDirectory(atPath: packageRoot.path) {
            let builds = names.filter { $0.hasPrefix(".build") }.map { packageRoot.appendingPathComponent($0) }
            var found: [(URL, Date)] = []
            for b in builds {
                for sub in ["debug/freerace", "release/freerace"] {
                    let u = b.appendingPathComponent(sub)
                    if fm.isExecutableFile(atPath: u.path),
                       let d = (try? fm.attributesOfItem(atPath: u.path))?[.modificationDate] as? Date {
                        found.append((u, d))
                    }
                }
            }
            candidates += found.sorted { $0.1 > $1.1 }.map(\.0)
        }
        return candidates.first { u in
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: u.path, isDirectory: &isDir) && !isDir.boolValue
                && fm.isExecutableFile(atPath: u.path)
        }
    }()

    /// Runs `freerace ARGS` in `cwd`, capturing stdout, stderr and the exit status. The process
    /// is killed after `timeout` seconds (the result then has `timedOut`).
    static func run(_ args: [String], in cwd: URL? = nil, timeout: Double = 60) throws -> CLIResult {
        guard let binary else { throw CLIError("cannot find the freerace executable next to the test bundle") }
        return try runProgram(binary, args, in: cwd, timeout: timeout)
    }

    /// Runs any program the way `run` runs freerace (`NO_COLOR`, stdin from /dev/null, output
    /// captured through files), with `environment` added to the test's own.
    static func runProgram(_ program: URL, _ args: [String], in cwd: URL? = nil, environment: [String: String] = [:],
                           timeout: Double = 60) throws -> CLIResult {
        let fm = FileManager.default
        let capture = fm.temporaryDirectory.appendingPathComponent("freerace-cli-io-\(UUID().uuidString)")
        try fm.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: capture) }
        let outURL = capture.appendingPathComponent("stdout")
        let errURL = capture.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)

        let p = Process()
        p.executableURL = program
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(environment) { $1 }
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = outHandle
        p.standardError = errHandle
        let start = Date()
        try p.run()
        var timedOut = false
        while p.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                // SIGKILL straight away: the child may inherit a blocked SIGTERM from the test runner.
                kill(p.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        try? outHandle.close()
        try? errHandle.close()
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        return CLIResult(stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                         status: p.terminationStatus, signaled: !timedOut && p.terminationReason == .uncaughtSignal,
                         timedOut: timedOut, seconds: seconds)
    }
}

/// A temporary directory for one test's inputs; call `remove()` when done.
struct CLIScratch {
    let url: URL
    var path: String { url.path }

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("freerace-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ rel: String) -> URL { url.appendingPathComponent(rel) }

    @discardableResult
    func write(_ rel: String, _ text: String) throws -> URL {
        try writeBytes(rel, Array(text.utf8))
    }

    @discardableResult
    func writeBytes(_ rel: String, _ bytes: [UInt8]) throws -> URL {
        let u = file(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: u)
        return u
    }

    func read(_ rel: String) throws -> String {
        try String(contentsOf: file(rel), encoding: .utf8)
    }

    func remove() {
        // Restore permissions a test may have taken away so the tree can be deleted.
        if let e = FileManager.default.enumerator(atPath: path) {
            while let rel = e.nextObject() as? String { chmod(url.appendingPathComponent(rel).path, 0o755) }
        }
        try? FileManager.default.removeItem(at: url)
    }
}

// MARK: - Inputs

/// Small C extensions in the shape of multidict's resize bug (and its fix).
enum CSample {
    struct Shape {
        /// Module name in `PyModuleDef`.
        var module = "boxmod"
        /// Prefix of the C functions and the entry type.
        var prefix = "box"
        /// Python-visible type name; the C struct is `<typeName>Object`.
        var typeName = "Box"
        /// Name of the function that frees the buffer (default `<prefix>_resize`).
        var resizeName: String?
        /// Declare `{Py_mod_gil, Py_MOD_GIL_NOT_USED}`.
        var gilFree = true
        /// Take `Py_BEGIN_CRITICAL_SECTION` in every entry point (the fixed form: no finding).
        var locked = false
        /// Text placed right above the freeing function (blank lines, comments, other code).
        var header = ""
        /// The line that frees the buffer.
        var freeLine = "    PyMem_Free(old);"
        /// An optional line placed right above `freeLine`.
        var aboveFree: String?
        /// Text appended at the end of the file.
        var footer = ""
    }

    static let freeMarker = "PyMem_Free(old);"

    static func module(_ s: Shape = Shape()) -> String {
        let p = s.prefix
        let obj = "\(s.typeName)Object"
        let resize = s.resizeName ?? "\(p)_resize"
        let begin = s.locked ? "    Py_BEGIN_CRITICAL_SECTION(self);\n" : ""
        let end = s.locked ? "    Py_END_CRITICAL_SECTION();\n" : ""
        let gilSlot = s.gilFree ? "    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n" : ""
        return """
            /* Generated by freerace's CLI tests. */
            #include <Python.h>

            typedef struct { PyObject *key; PyObject *value; } \(p)_entry_t;

            typedef struct {
                PyObject_HEAD
                Py_ssize_t size;
                Py_ssize_t used;
                \(p)_entry_t *entries;
            } \(obj);
            \(s.header)
            static int
            \(resize)(\(obj) *self)
            {
                \(p)_entry_t *old = self->entries;
                \(p)_entry_t *fresh = PyMem_Calloc((size_t)self->size * 2, sizeof(\(p)_entry_t));
                if (fresh == NULL) {
                    return -1;
                }
                memcpy(fresh, old, (size_t)self->size * sizeof(\(p)_entry_t));
                self->entries = fresh;
                self->size *= 2;
            \(s.aboveFree.map { $0 + "\n" } ?? "")\(s.freeLine)
                return 0;
            }

            static PyObject *
            \(p)_add(\(obj) *self, PyObject *args)
            {
                PyObject *key, *value, *result = NULL;
                if (!PyArg_ParseTuple(args, "OO", &key, &value)) {
                    return NULL;
                }
            \(begin)    if (self->used < self->size || \(resize)(self) == 0) {
                    self->entries[self->used].key = Py_NewRef(key);
                    self->entries[self->used].value = Py_NewRef(value);
                    self->used++;
                    result = Py_None;
                }
            \(end)    return Py_XNewRef(result);
            }

            static PyObject *
            \(p)_get(\(obj) *self, PyObject *key)
            {
                PyObject *result = Py_None;
            \(begin)    for (Py_ssize_t i = 0; i < self->used; i++) {
                    if (self->entries[i].key == key) {
                        result = self->entries[i].value;
                        break;
                    }
                }
                Py_INCREF(result);
            \(end)    return result;
            }

            static PyMethodDef \(p)_methods[] = {
                {"add", (PyCFunction)\(p)_add, METH_VARARGS, NULL},
                {"get", (PyCFunction)\(p)_get, METH_O, NULL},
                {NULL}
            };

            static PyType_Slot \(p)_type_slots[] = {
                {Py_tp_methods, \(p)_methods},
                {0, 0},
            };

            static PyType_Spec \(p)_spec = {"\(s.module).\(s.typeName)", sizeof(\(obj)), 0, Py_TPFLAGS_DEFAULT, \(p)_type_slots};

            static PyModuleDef_Slot \(s.module)_slots[] = {
            \(gilSlot)    {0, NULL},
            };

            static struct PyModuleDef \(s.module)_def = {PyModuleDef_HEAD_INIT, "\(s.module)", NULL, 0, NULL, \(s.module)_slots};
            \(s.footer)
            """
    }

    static func buggy(_ configure: (inout Shape) -> Void = { _ in }) -> String {
        var s = Shape()
        configure(&s)
        return module(s)
    }

    /// 1-based number of the first line containing `needle`.
    static func line(of needle: String, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }
}

// MARK: - JSON helpers

func jsonFindings(_ doc: [String: Any]) -> [[String: Any]] { doc["findings"] as? [[String: Any]] ?? [] }
func jsonSummary(_ doc: [String: Any]) -> [String: Any] { doc["summary"] as? [String: Any] ?? [:] }
func jsonIDs(_ doc: [String: Any]) -> [String] { jsonFindings(doc).compactMap { $0["id"] as? String } }
func jsonLocation(_ f: [String: Any]) -> (path: String, line: Int, column: Int)? {
    guard let l = f["location"] as? [String: Any], let p = l["path"] as? String, let line = l["line"] as? Int,
          let c = l["column"] as? Int else { return nil }
    return (p, line, c)
}

/// Removes any timing field (elapsed, seconds, duration, time…) anywhere in a JSON value.
func withoutTiming(_ v: Any) -> Any {
    if let d = v as? [String: Any] {
        var out: [String: Any] = [:]
        for (k, x) in d {
            let lk = k.lowercased()
            if ["elapsed", "seconds", "duration", "time", "timing"].contains(where: { lk.contains($0) }) { continue }
            out[k] = withoutTiming(x)
        }
        return out
    }
    if let a = v as? [Any] { return a.map(withoutTiming) }
    return v
}

func canonicalJSON(_ v: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]), as: UTF8.self)
}

// MARK: - Tests

@Suite("CLI")
struct CLITests {
    /// A scratch directory holding `box.c` (the buggy module) and the free line's number.
    static func buggyProject(_ label: String, _ configure: (inout CSample.Shape) -> Void = { _ in }) throws
        -> (CLIScratch, freeLine: Int) {
        let dir = try CLIScratch(label)
        let text = CSample.buggy(configure)
        try dir.write("box.c", text)
        return (dir, CSample.line(of: CSample.freeMarker, in: text) ?? -1)
    }

    // MARK: exit statuses

    @Test func cleanInputExitsZero() throws {
        let dir = try CLIScratch("clean")
        defer { dir.remove() }
        try dir.write("box.c", CSample.buggy { $0.locked = true })
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("No findings in 1 file"), "\(r)")
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
    }

    @Test func findingsExitOne() throws {
        let (dir, line) = try Self.buggyProject("findings")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("box.c:\(line):5: warning: `box_resize` frees `BoxObject.entries`"), "\(r)")
        #expect(r.stdout.contains("[FR301]"), "\(r)")
        #expect(r.stderr.isEmpty, "\(r)")
    }

    @Test func exitZeroStillReports() throws {
        let (dir, _) = try Self.buggyProject("exitzero")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--exit-zero"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("Found 1 finding"), "\(r)")
        #expect(r.stdout.contains("[FR301]"), "\(r)")
    }

    struct UsageCase: Sendable, CustomTestStringConvertible {
        var args: [String]
        /// Substrings stderr must contain.
        var stderr: [String]
        var testDescription: String { args.joined(separator: " ") }
    }

    static let usageCases: [UsageCase] = [
        .init(args: ["check", "box.c", "--bogus-option"], stderr: ["--bogus-option"]),
        .init(args: ["check", "box.c", "--target", "bogus"], stderr: ["--target", "bogus"]),
        .init(args: ["check", "box.c", "--format", "xml"], stderr: ["--format", "xml"]),
        .init(args: ["check", "box.c", "does-not-exist.c"], stderr: ["does-not-exist.c"]),
        .init(args: ["check", "missing-dir/"], stderr: ["missing-dir"]),
        .init(args: ["check", "box.c", "--select", "FR999"], stderr: ["FR999"]),
        .init(args: ["check", "box.c", "--ignore", "FR999"], stderr: ["FR999"]),
        .init(args: ["check", "box.c", "--python", "4"], stderr: ["--python", "4"]),
        .init(args: ["check", "box.c", "--python", "3.x"], stderr: ["--python"]),
        .init(args: ["check", "box.c", "--jobs", "0"], stderr: ["--jobs"]),
        .init(args: ["check", "box.c", "-D", "BAD NAME"], stderr: ["-D"]),
        .init(args: ["check", "box.c", "--baseline", "no-such-baseline.json"], stderr: ["no-such-baseline.json"]),
        .init(args: ["frobnicate"], stderr: ["frobnicate"]),
    ]

    @Test(arguments: usageCases)
    func usageErrorsExitTwo(_ c: UsageCase) throws {
        let (dir, _) = try Self.buggyProject("usage")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(c.args, in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.exitedNormally, "\(r)")
        for s in c.stderr { #expect(r.stderr.contains(s), "stderr should mention \(s): \(r)") }
        // A usage error reports no findings and analyzes nothing.
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
    }

    @Test func acceptedPythonVersion() throws {
        let (dir, _) = try Self.buggyProject("python")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--python", "3.14", "-D", "MY_FEATURE=1", "-U", "OTHER"], in: dir.url)
        #expect(r.status == 1, "\(r)")
    }

    // MARK: formats

    @Test func jsonFormatSchema() throws {
        let (dir, line) = try Self.buggyProject("json")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let doc = try r.json()
        #expect(doc["version"] as? Int == 1)
        #expect((doc["tool"] as? [String: Any])?["name"] as? String == "freerace")
        let findings = try #require(doc["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        for f in findings {
            for key in ["id", "code", "name", "severity", "message", "function", "why", "help"] {
                #expect((f[key] as? String).map { !$0.isEmpty } == true, "finding.\(key) must be a non-empty string")
            }
            #expect(f["code"] as? String == "FR301")
            #expect((f["id"] as? String)?.hasPrefix("FR301-") == true)
            #expect(f["name"] as? String == "object-buffer-freed-during-unlocked-read")
            #expect(["warning", "error"].contains(f["severity"] as? String ?? ""))
            #expect(f["function"] as? String == "box_resize")
            #expect((f["message"] as? String)?.contains("`BoxObject.entries`") == true)
            #expect((f["why"] as? String)?.contains("Py_MOD_GIL_NOT_USED") == true)
            #expect((f["help"] as? String)?.contains("Py_BEGIN_CRITICAL_SECTION") == true)
            let loc = try #require(jsonLocation(f))
            #expect(loc.path == "box.c")
            #expect(loc.line == line)
            #expect(loc.column == 5)
            let notes = try #require(f["notes"] as? [[String: Any]])
            #expect(notes.count >= 2)
            var threads = Set<String>()
            for n in notes {
                let nl = try #require(jsonLocation(n), "note without a location: \(n)")
                #expect(nl.path == "box.c" && nl.line >= 1 && nl.column >= 1)
                #expect((n["message"] as? String).map { !$0.isEmpty } == true)
                if let t = n["thread"] {
                    let ts = try #require(t as? String, "thread must be a string")
                    threads.insert(ts)
                }
            }
            #expect(threads == ["A", "B"], "an interleaving of two threads")
            // The reading side names the method and the field it reads (wording of the verb may vary).
            #expect(notes.contains { n in
                let m = n["message"] as? String ?? ""
                return n["thread"] as? String == "A" && m.contains("`Box.get()`") && m.contains("`self->entries`")
                    && m.contains("`box_get`")
            }, "\(notes)")
        }
        let summary = try #require(doc["summary"] as? [String: Any])
        #expect(summary["files"] as? Int == 1)
        #expect(summary["findings"] as? Int == 1)
        #expect((summary["byCode"] as? [String: Int]) == ["FR301": 1])
        #expect(summary["suppressed"] as? Int == 0)
        #expect(summary["baselined"] as? Int == 0)
        #expect(summary["target"] as? String == "auto")
        let bytes = try Data(contentsOf: dir.file("box.c")).count
        #expect(summary["bytes"] as? Int == bytes)
        let modules = try #require(summary["modules"] as? [[String: Any]])
        #expect(modules.contains { $0["module"] as? String == "boxmod" && $0["freeThreadingRules"] as? Bool == true })
        #expect((summary["warnings"] as? [Any])?.isEmpty == true)
    }

    @Test(arguments: [["-D", "=1"], ["-D", "1X=2"], ["-U", "1"], ["-U", ""]])
    func macroNamesMustBeIdentifiers(_ args: [String]) throws {
        let (dir, _) = try Self.buggyProject("macro-names")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"] + args, in: dir.url)
        #expect(r.status == 2, "\(args): \(r)")
        #expect(r.stderr.contains(args[0]), "the message names the option: \(r)")
    }

    @Test func sourceControlCharactersAreNotSentToTheTerminal() throws {
        let dir = try CLIScratch("escapes")
        defer { dir.remove() }
        let text = CSample.buggy().replacingOccurrences(of: CSample.freeMarker, with: CSample.freeMarker + " /* \u{1B}[2J\u{07} */")
        try dir.write("box.c", text)
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(!r.stdout.contains("\u{1B}") && !r.stdout.contains("\u{07}"), "\(r.stdout)")
    }

    @Test func sarifNamesFilesUnderTheRunDirectoryRelatively() throws {
        let (dir, _) = try Self.buggyProject("sarif-abs")
        defer { dir.remove() }
        // spelled absolute, and with `./` and `..`: the same relative uri under %SRCROOT%
        for spelling in [dir.file("box.c").path, "./box.c", "../" + dir.url.lastPathComponent + "/box.c"] {
            let r = try FreeraceCLI.run(["check", spelling, "--format", "sarif"], in: dir.url)
            let runs = try #require(try r.json()["runs"] as? [[String: Any]])
            let res = try #require((runs[0]["results"] as? [[String: Any]])?.first)
            let phys = try #require((res["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let artifact = try #require(phys["artifactLocation"] as? [String: Any])
            #expect(artifact["uri"] as? String == "box.c", "\(spelling): \(artifact)")
            #expect(artifact["uriBaseId"] as? String == "%SRCROOT%", "\(spelling)")
        }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        let runs = try #require(try r.json()["runs"] as? [[String: Any]])
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let levels = Dictionary(uniqueKeysWithValues: (driver["rules"] as? [[String: Any]] ?? []).compactMap { rule in
            (rule["id"] as? String).map { ($0, (rule["defaultConfiguration"] as? [String: Any])?["level"] as? String) }
        })
        #expect(levels["FR101"] == "error")
        #expect(levels["FR301"] == "warning")
    }

    @Test func overlappingPathsAnalyzeEachFileOnce() throws {
        let (dir, _) = try Self.buggyProject("overlap")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", ".", "./box.c", dir.file("box.c").path, "--format", "json"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let ids = jsonIDs(try r.json())
        #expect(ids.count == 1, "one finding, not one per spelling: \(ids)")
        #expect(jsonSummary(try r.json())["files"] as? Int == 1)
    }

    @Test func textReportIsByteIdenticalAcrossRuns() throws {
        let (dir, _) = try Self.buggyProject("text-stable")
        defer { dir.remove() }
        let a = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        let b = try FreeraceCLI.run(["check", "box.c", "--jobs", "1"], in: dir.url)
        #expect(a.stdout == b.stdout)
        #expect(a.stdout.hasSuffix("in 1 file.\n"), "\(a.stdout)")
    }

    @Test func directoryWithoutSourcesWarns() throws {
        let dir = try CLIScratch("empty")
        defer { dir.remove() }
        try dir.write("docs/readme.txt", "nothing to analyze")
        let r = try FreeraceCLI.run(["check", "docs"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect((r.stdout + r.stderr).contains("docs: warning: no C, C++, Cython or Python files found"), "\(r)")
    }

    @Test func outputIntoMissingDirectoryNamesTheDirectory() throws {
        let (dir, _) = try Self.buggyProject("output-missing")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "nowhere/report.txt"], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("nowhere") && r.stderr.contains("does not exist"), "\(r)")
    }

    @Test func sarifFormat() throws {
        let (dir, line) = try Self.buggyProject("sarif")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let doc = try r.json()
        #expect(doc["version"] as? String == "2.1.0")
        let runs = try #require(doc["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "freerace")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ruleIDs = rules.compactMap { $0["id"] as? String }
        #expect(ruleIDs.contains("FR301"))
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.count == 1)
        let res = results[0]
        #expect(res["ruleId"] as? String == "FR301")
        if let idx = res["ruleIndex"] as? Int {
            #expect(idx >= 0 && idx < ruleIDs.count && ruleIDs[idx] == "FR301", "ruleIndex must point at FR301")
        }
        let locs = try #require(res["locations"] as? [[String: Any]])
        let phys = try #require(locs.first?["physicalLocation"] as? [String: Any])
        let region = try #require(phys["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == line)
        #expect(((phys["artifactLocation"] as? [String: Any])?["uri"] as? String)?.hasSuffix("box.c") == true)
        // the relative uri resolves against the directory freerace ran in
        let base = try #require(((runs[0]["originalUriBaseIds"] as? [String: Any])?["%SRCROOT%"] as? [String: Any])?["uri"] as? String)
        #expect(base.hasPrefix("file:///") && base.hasSuffix(dir.url.lastPathComponent + "/"), "\(base)")
        #expect(r.stdout.hasSuffix("}\n"), "output ends with a newline")
        let related = try #require(res["relatedLocations"] as? [[String: Any]])
        #expect(related.count >= 2)
        let fingerprints = try #require(res["partialFingerprints"] as? [String: String])
        // The fingerprint is the finding's stable id, as in the JSON report.
        let j = try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url)
        #expect(fingerprints["freerace/v1"] == jsonIDs(try j.json()).first)
    }

    @Test func githubFormat() throws {
        let (dir, line) = try Self.buggyProject("github")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "github"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 1, "one annotation per finding, messages escaped onto one line: \(r)")
        for l in lines {
            #expect(l.hasPrefix("::warning file=") || l.hasPrefix("::error file="), "\(l)")
        }
        #expect(lines.first?.hasPrefix("::warning file=box.c,line=\(line),col=5,") == true, "\(r)")
        #expect(lines.first?.contains("FR301") == true)
        #expect(lines.first?.contains("%0Awhy: ") == true, "newlines are escaped as %0A: \(r)")
    }

    @Test func textFormat() throws {
        let (dir, line) = try Self.buggyProject("text")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let out = r.stdout
        #expect(out.contains("box.c:\(line):5: warning:"), "\(r)")
        #expect(out.contains("  \(line) |     PyMem_Free(old);"), "code excerpt: \(r)")
        #expect(out.contains("  thread A  box.c:"), "\(r)")
        #expect(out.contains("  thread B  box.c:\(line):5:"), "\(r)")
        #expect(out.contains("  why: "), "\(r)")
        #expect(out.contains("  help: "), "\(r)")
        #expect(out.contains("  id: FR301-"), "\(r)")
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("Found 1 finding (FR301: 1) in 1 file"), "summary line: \(last)")
        // no colour when stdout is not a terminal
        #expect(!out.contains("\u{1B}["), "no ANSI escapes in piped output")
    }

    @Test func quietAndStatistics() throws {
        let (dir, _) = try Self.buggyProject("quiet")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--quiet", "--statistics"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("[FR301]"), "\(r)")
        #expect(!r.stdout.contains("why:"), "--quiet prints headlines only: \(r)")
        #expect(r.stdout.contains("1\tFR301"), "--statistics counts per rule: \(r)")
    }

    @Test(arguments: ["json", "text", "sarif"])
    func outputFileWritesReport(_ format: String) throws {
        let (dir, _) = try Self.buggyProject("output")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", format, "-o", "report.out"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.isEmpty, "nothing on stdout with -o: \(r)")
        let written = try dir.read("report.out")
        switch format {
        case "json":
            let doc = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any]
            #expect(jsonFindings(doc ?? [:]).count == 1)
        case "sarif":
            let doc = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any]
            #expect(doc?["version"] as? String == "2.1.0")
        default:
            #expect(written.contains("Found 1 finding"))
            #expect(!written.contains("\u{1B}["))
        }
        // The long spelling too.
        let r2 = try FreeraceCLI.run(["check", "box.c", "--format", format, "--output", "report2.out"], in: dir.url)
        #expect(r2.stdout.isEmpty && r2.status == 1, "\(r2)")
        #expect(FileManager.default.fileExists(atPath: dir.file("report2.out").path))
    }

    @Test func outputToUnwritablePathIsUsageError() throws {
        let (dir, _) = try Self.buggyProject("output-bad")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "no/such/dir/report.txt"], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("no/such/dir/report.txt"), "\(r)")
    }

    // MARK: stable ids

    static func ids(_ dir: CLIScratch, _ args: [String] = ["check", "box.c"]) throws -> (ids: [String], lines: [Int]) {
        let r = try FreeraceCLI.run(args + ["--format", "json"], in: dir.url)
        let doc = try r.json()
        return (jsonIDs(doc), jsonFindings(doc).compactMap { jsonLocation($0)?.line })
    }

    @Test func idsStableAcrossRuns() throws {
        let (dir, _) = try Self.buggyProject("ids-runs")
        defer { dir.remove() }
        let a = try Self.ids(dir)
        let b = try Self.ids(dir)
        #expect(a.ids.count == 1)
        #expect(a.ids == b.ids)
    }

    @Test func idsSurviveUnrelatedEditsAbove() throws {
        let (dir, _) = try Self.buggyProject("ids-edit")
        defer { dir.remove() }
        let before = try Self.ids(dir)
        let header = "\n\n/* An unrelated comment\n * spanning lines. */\n// another one\nstatic int unrelated_helper(int x) { return x + 1; }\n\n"
        try dir.write("box.c", CSample.buggy { $0.header = header })
        let after = try Self.ids(dir)
        #expect(before.ids.count == 1 && after.ids.count == 1)
        #expect(before.lines != after.lines, "the edit must move the finding for this test to mean anything")
        #expect(before.ids == after.ids, "ids must not depend on line numbers")
    }

    @Test func idsChangeWhenTheFreeingFunctionIsRenamed() throws {
        let (dir, _) = try Self.buggyProject("ids-rename")
        defer { dir.remove() }
        let before = try Self.ids(dir)
        try dir.write("box.c", CSample.buggy { $0.resizeName = "box_grow_storage" })
        let after = try Self.ids(dir)
        #expect(before.ids.count == 1 && after.ids.count == 1)
        #expect(before.ids != after.ids, "a different root cause gets a different id")
    }

    @Test func idsDoNotDependOnPathSpelling() throws {
        let dir = try CLIScratch("ids-spelling")
        defer { dir.remove() }
        try dir.write("src/box.c", CSample.buggy())
        let rel = try Self.ids(dir, ["check", "src"])
        let dot = try Self.ids(dir, ["check", "./src/box.c"])
        let abs = try Self.ids(dir, ["check", dir.file("src").path])
        let inner = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.file("src"))
        #expect(rel.ids.count == 1)
        #expect(dot.ids == rel.ids)
        #expect(abs.ids == rel.ids)
        #expect(jsonIDs(try inner.json()) == rel.ids)
    }

    @Test func idsDoNotDependOnCheckoutLocation() throws {
        // Two checkouts of the same project (marked by setup.py) in different directories.
        let a = try CLIScratch("ids-checkout-a")
        let b = try CLIScratch("ids-checkout-b")
        defer { a.remove(); b.remove() }
        for d in [a, b] {
            try d.write("setup.py", "from setuptools import setup\nsetup()\n")
            try d.write("src/box.c", CSample.buggy())
        }
        let ia = try Self.ids(a, ["check", "src"])
        let ib = try Self.ids(b, ["check", "src"])
        #expect(ia.ids.count == 1)
        #expect(ia.ids == ib.ids)
    }

    // MARK: determinism

    static func multiProject(_ label: String) throws -> CLIScratch {
        let dir = try CLIScratch(label)
        // Written in non-sorted order, in nested directories, several per file.
        try dir.write("zeta.c", CSample.buggy { $0.module = "zetamod"; $0.prefix = "zeta"; $0.typeName = "Zeta" })
        try dir.write("alpha.c", CSample.buggy { $0.module = "alphamod"; $0.prefix = "alpha"; $0.typeName = "Alpha" })
        try dir.write("sub/mid.c", CSample.buggy { $0.module = "midmod"; $0.prefix = "mid"; $0.typeName = "Mid" })
        try dir.write("two.c", CSample.buggy {
            $0.module = "twomod"; $0.prefix = "two"; $0.typeName = "Two"
            $0.footer = CSample.buggy { $0.module = "twomodb"; $0.prefix = "twob"; $0.typeName = "TwoB" }
                .replacingOccurrences(of: "#include <Python.h>", with: "")
        })
        return dir
    }

    @Test func jsonIsByteIdenticalAcrossRuns() throws {
        let dir = try Self.multiProject("determinism")
        defer { dir.remove() }
        let runs = try [["--jobs", "1"], ["--jobs", "4"], []].map {
            try FreeraceCLI.run(["check", ".", "--format", "json"] + $0, in: dir.url)
        }
        for r in runs { #expect(r.status == 1, "\(r)") }
        let docs = try runs.map { try $0.json() }
        #expect(jsonFindings(docs[0]).count == 5, "\(runs[0])")
        let summaryKeys = Set(jsonSummary(docs[0]).keys)
        let timing = summaryKeys.filter { $0.lowercased().contains("elapsed") || $0.lowercased().contains("time") }
        if timing.isEmpty {
            // Nothing time-dependent in the document: the bytes must match exactly.
            #expect(runs[0].stdout == runs[1].stdout)
            #expect(runs[0].stdout == runs[2].stdout)
        }
        let canon = try docs.map { try canonicalJSON(withoutTiming($0)) }
        #expect(canon[0] == canon[1])
        #expect(canon[0] == canon[2])
        // Text output is identical apart from the elapsed time in the summary line.
        func stripTime(_ s: String) -> String {
            s.replacingOccurrences(of: #"\(\d+\.\d+s\)"#, with: "(T)", options: .regularExpression)
        }
        let t1 = try FreeraceCLI.run(["check", ".", "--jobs", "1"], in: dir.url)
        let t2 = try FreeraceCLI.run(["check", ".", "--jobs", "3"], in: dir.url)
        #expect(stripTime(t1.stdout) == stripTime(t2.stdout))
    }

    @Test func findingsAreSortedByPathAndLine() throws {
        let dir = try Self.multiProject("sorted")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.url)
        let locs = jsonFindings(try r.json()).compactMap(jsonLocation)
        #expect(locs.count == 5, "\(r)")
        let keys = locs.map { ($0.path, $0.line, $0.column) }
        let sorted = keys.sorted { $0 < $1 }
        #expect(keys.map { "\($0.0):\($0.1)" } == sorted.map { "\($0.0):\($0.1)" })
        #expect(Set(locs.map(\.path)) == ["alpha.c", "sub/mid.c", "two.c", "zeta.c"])
        // two findings in two.c, in line order
        let two = locs.filter { $0.path == "two.c" }.map(\.line)
        #expect(two.count == 2 && two[0] < two[1])
    }

    // MARK: select / ignore

    struct SelectCase: Sendable, CustomTestStringConvertible {
        var args: [String]
        var expected: Int32
        var testDescription: String { args.joined(separator: " ") + " → \(expected)" }
    }

    static let selectCases: [SelectCase] = [
        SelectCase(args: ["--ignore", "FR301"], expected: 0),
        SelectCase(args: ["--ignore", "FR3"], expected: 0),
        SelectCase(args: ["--ignore", "fr301"], expected: 0),
        SelectCase(args: ["--select", "FR3"], expected: 1),
        SelectCase(args: ["--select", "FR301"], expected: 1),
        SelectCase(args: ["--select", "ALL"], expected: 1),
        SelectCase(args: ["--select", "FR1"], expected: 0),
        SelectCase(args: ["--select", "FR1,FR2"], expected: 0),
        SelectCase(args: ["--select", "FR1,FR3"], expected: 1),
        SelectCase(args: ["--select", "FR1", "--select", "FR3"], expected: 1),
        SelectCase(args: ["--select", "FR3", "--ignore", "FR301"], expected: 0),
        SelectCase(args: ["--select", "object-buffer-freed-during-unlocked-read"], expected: 1),
        SelectCase(args: ["--ignore", "object-buffer-freed-during-unlocked-read"], expected: 0),
        SelectCase(args: ["--select", "foreign-frame-walk"], expected: 0),
        SelectCase(args: ["--select", ""], expected: 2),
    ]

    @Test(arguments: selectCases)
    func selectAndIgnore(_ c: SelectCase) throws {
        let (dir, _) = try Self.buggyProject("select")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"] + c.args, in: dir.url)
        #expect(r.status == c.expected, "\(r)")
        #expect(r.stdout.contains("[FR301]") == (c.expected == 1), "\(r)")
    }

    // MARK: suppressions

    @Test func suppressionOnTheFindingLine() throws {
        let (dir, _) = try Self.buggyProject("sup-same") {
            $0.freeLine = "    PyMem_Free(old);  // freerace: ignore[FR301] callers hold the table lock"
        }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        let doc = try r.json()
        #expect(jsonFindings(doc).isEmpty)
        #expect(jsonSummary(doc)["suppressed"] as? Int == 1)
        let t = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(t.stdout.contains("1 suppressed"), "\(t)")
    }

    @Test func suppressionOnTheLineAbove() throws {
        let (dir, _) = try Self.buggyProject("sup-above") {
            $0.aboveFree = "    // freerace: ignore[FR301] callers hold the table lock"
        }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
    }

    @Test func suppressionTwoLinesAboveDoesNotApply() throws {
        let (dir, _) = try Self.buggyProject("sup-far") {
            $0.aboveFree = "    // freerace: ignore[FR301] too far away\n    (void)0;"
        }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
    }

    @Test(arguments: ["/* freerace: ignore-file[FR301] reviewed, see issue 12 */", "// freerace: ignore-file[FR3] whole family"])
    func fileLevelSuppression(_ comment: String) throws {
        // At the very end of the file, far from the finding.
        let (dir, _) = try Self.buggyProject("sup-file") { $0.footer = "\n" + comment + "\n" }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("1 suppressed"), "\(r)")
    }

    @Test func suppressionForAnotherCodeDoesNotApply() throws {
        let (dir, _) = try Self.buggyProject("sup-other") {
            $0.freeLine = "    PyMem_Free(old);  // freerace: ignore[FR302] wrong rule"
            $0.footer = "\n// freerace: ignore-file[FR101] wrong rule too\n"
        }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("[FR301]"), "\(r)")
        #expect(!r.stdout.contains("suppressed"), "\(r)")
    }

    @Test func unusedSuppressionsAreReportedOnRequest() throws {
        let text = CSample.buggy {
            $0.footer = "\nstatic int unrelated(void)\n{\n    return 0;  // freerace: ignore[FR301] stale\n}\n"
        }
        let dir = try CLIScratch("sup-unused")
        defer { dir.remove() }
        try dir.write("box.c", text)
        let staleLine = try #require(CSample.line(of: "stale", in: text))
        let with = try FreeraceCLI.run(["check", "box.c", "--report-unused-suppressions"], in: dir.url)
        #expect(with.status == 1, "\(with)")
        #expect(with.stdout.contains("box.c:\(staleLine): warning: unused suppression"), "\(with)")
        let without = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(!without.stdout.contains("unused suppression"), "\(without)")
        // A used suppression is not reported as unused.
        let used = try CLIScratch("sup-used")
        defer { used.remove() }
        try used.write("box.c", CSample.buggy { $0.freeLine = "    PyMem_Free(old);  // freerace: ignore[FR301] ok" })
        let u = try FreeraceCLI.run(["check", "box.c", "--report-unused-suppressions"], in: used.url)
        #expect(u.status == 0 && !u.stdout.contains("unused suppression"), "\(u)")
    }

    // MARK: baseline

    @Test func baselineRoundTrip() throws {
        let dir = try CLIScratch("baseline")
        defer { dir.remove() }
        try dir.write("src/box.c", CSample.buggy())
        let first = try FreeraceCLI.run(["check", "src", "--format", "json", "--write-baseline", "b.json"], in: dir.url)
        #expect(first.status == 0, "recording a baseline succeeds: \(first)")
        let ids = jsonIDs(try first.json())
        #expect(ids.count == 1)
        let baseline = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.file("b.json"))) as? [String: Any]
        let entries = try #require(baseline?["findings"] as? [[String: Any]], "baseline lists findings")
        #expect(entries.compactMap { $0["id"] as? String } == ids)

        let second = try FreeraceCLI.run(["check", "src", "--baseline", "b.json"], in: dir.url)
        #expect(second.status == 0, "\(second)")
        #expect(!second.stdout.contains("[FR301]"), "\(second)")
        #expect(second.stdout.contains("1 in baseline"), "\(second)")
        let secondJSON = try FreeraceCLI.run(["check", "src", "--baseline", "b.json", "--format", "json"], in: dir.url)
        #expect(jsonSummary(try secondJSON.json())["baselined"] as? Int == 1)

        // A new finding is still reported; the old one stays baselined.
        try dir.write("src/crate.c", CSample.buggy { $0.module = "cratemod"; $0.prefix = "crate"; $0.typeName = "Crate" })
        let third = try FreeraceCLI.run(["check", "src", "--baseline", "b.json", "--format", "json"], in: dir.url)
        #expect(third.status == 1, "\(third)")
        let doc = try third.json()
        #expect(jsonFindings(doc).compactMap { jsonLocation($0)?.path } == ["src/crate.c"])
        #expect(jsonSummary(doc)["baselined"] as? Int == 1)

        // An unrelated edit above the baselined finding keeps it baselined.
        try dir.write("src/box.c", CSample.buggy { $0.header = "\n\n// moved down\n\n" })
        let fourth = try FreeraceCLI.run(["check", "src/box.c", "--baseline", "b.json"], in: dir.url)
        #expect(fourth.status == 0, "\(fourth)")
    }

    @Test func malformedBaselineIsUsageError() throws {
        let (dir, _) = try Self.buggyProject("baseline-bad")
        defer { dir.remove() }
        try dir.write("b.json", "{ not json")
        let r = try FreeraceCLI.run(["check", "box.c", "--baseline", "b.json"], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("b.json"), "\(r)")
    }

    // MARK: configuration

    @Test func dotFreeraceTomlIgnore() throws {
        let (dir, _) = try Self.buggyProject("cfg-ignore")
        defer { dir.remove() }
        #expect(try FreeraceCLI.run(["check", "."], in: dir.url).status == 1)
        try dir.write(".freerace.toml", "ignore = [\"FR301\"]\n")
        let r = try FreeraceCLI.run(["check", "."], in: dir.url)
        #expect(r.status == 0, "\(r)")
        // Also when the file itself is named, and from a parent directory.
        #expect(try FreeraceCLI.run(["check", "box.c"], in: dir.url).status == 0)
        try dir.write("src/box.c", CSample.buggy())
        #expect(try FreeraceCLI.run(["check", "src"], in: dir.url).status == 0, "config in a parent directory")
    }

    @Test func pyprojectSelect() throws {
        let (dir, _) = try Self.buggyProject("cfg-pyproject")
        defer { dir.remove() }
        try dir.write("pyproject.toml", "[project]\nname = \"boxmod\"\n\n[tool.freerace]\nselect = [\"FR1\"]\n")
        let r = try FreeraceCLI.run(["check", "."], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
        // A pyproject.toml without [tool.freerace] is not configuration.
        try dir.write("pyproject.toml", "[project]\nname = \"boxmod\"\n")
        #expect(try FreeraceCLI.run(["check", "."], in: dir.url).status == 1)
    }

    struct ConfigCase: Sendable, CustomTestStringConvertible {
        var file: String
        var text: String
        /// What stderr must name.
        var named: String
        var testDescription: String { "\(file): \(text.replacingOccurrences(of: "\n", with: " "))" }
    }

    static let badConfigs: [ConfigCase] = [
        ConfigCase(file: ".freerace.toml", text: "colour = true\n", named: "colour"),
        ConfigCase(file: "pyproject.toml", text: "[tool.freerace]\ncolour = true\n", named: "tool.freerace.colour"),
        ConfigCase(file: ".freerace.toml", text: "select = 3\n", named: "select"),
        ConfigCase(file: ".freerace.toml", text: "target = [\"gil\"]\n", named: "target"),
        ConfigCase(file: ".freerace.toml", text: "jobs = -1\n", named: "jobs"),
        ConfigCase(file: ".freerace.toml", text: "ignore = [\"FR999\"]\n", named: "FR999"),
        ConfigCase(file: ".freerace.toml", text: "target = \"bogus\"\n", named: "bogus"),
        ConfigCase(file: ".freerace.toml", text: "select = [\n", named: ".freerace.toml"),
        ConfigCase(file: "pyproject.toml", text: "[tool]\nfreerace = 5\n", named: "tool.freerace"),
    ]

    @Test(arguments: badConfigs)
    func badConfigurationExitsTwo(_ c: ConfigCase) throws {
        let (dir, _) = try Self.buggyProject("cfg-bad")
        defer { dir.remove() }
        let (named, file, text) = (c.named, c.file, c.text)
        try dir.write(file, text)
        let r = try FreeraceCLI.run(["check", "."], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains(named), "stderr should name `\(named)`: \(r)")
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
    }

    @Test func explicitConfigOption() throws {
        let (dir, _) = try Self.buggyProject("cfg-explicit")
        defer { dir.remove() }
        try dir.write("conf/custom.toml", "ignore = [\"FR3\"]\n")
        #expect(try FreeraceCLI.run(["check", ".", "--config", "conf/custom.toml"], in: dir.url).status == 0)
        let missing = try FreeraceCLI.run(["check", ".", "--config", "conf/none.toml"], in: dir.url)
        #expect(missing.status == 2 && missing.stderr.contains("conf/none.toml"), "\(missing)")
    }

    @Test func commandLineSelectReplacesConfigSelect() throws {
        let (dir, _) = try Self.buggyProject("cfg-cli-select")
        defer { dir.remove() }
        try dir.write(".freerace.toml", "select = [\"FR1\"]\n")
        #expect(try FreeraceCLI.run(["check", "."], in: dir.url).status == 0)
        let r = try FreeraceCLI.run(["check", ".", "--select", "FR3"], in: dir.url)
        #expect(r.status == 1, "--select on the command line wins over config select: \(r)")
    }

    @Test func commandLineTargetWinsOverConfigTarget() throws {
        let (dir, _) = try Self.buggyProject("cfg-cli-target")
        defer { dir.remove() }
        try dir.write(".freerace.toml", "target = \"gil\"\n")
        let cfgOnly = try FreeraceCLI.run(["check", "."], in: dir.url)
        #expect(cfgOnly.status == 0, "\(cfgOnly)")
        #expect(cfgOnly.stdout.contains("free-threading rules not applied: --target gil"), "\(cfgOnly)")
        let cli = try FreeraceCLI.run(["check", ".", "--target", "auto"], in: dir.url)
        #expect(cli.status == 1, "\(cli)")
    }

    /// Check.swift merges command-line `--ignore` with the configuration's `ignore` (both apply),
    /// while a command-line `--select` replaces the configuration's `select`. So `--select FR301`
    /// does NOT bring back a rule the configuration ignores, even though the README says
    /// "command-line options win". This pins the current behaviour.
    @Test func commandLineSelectBeatsConfigIgnore() throws {
        let (dir, _) = try Self.buggyProject("cfg-ignore-select")
        defer { dir.remove() }
        try dir.write(".freerace.toml", "ignore = [\"FR3\"]\n")
        #expect(try FreeraceCLI.run(["check", "."], in: dir.url).status == 0)
        let r = try FreeraceCLI.run(["check", ".", "--select", "FR301"], in: dir.url)
        #expect(r.status == 1, "an explicit --select FR301 beats the configuration's ignore FR3: \(r)")
        // a less specific --select leaves a more specific configuration ignore in force
        try dir.write(".freerace.toml", "ignore = [\"FR301\"]\n")
        #expect(try FreeraceCLI.run(["check", ".", "--select", "FR3"], in: dir.url).status == 0)
        #expect(try FreeraceCLI.run(["check", ".", "--select", "FR301"], in: dir.url).status == 1)
        // and --ignore on the command line adds to the configuration's list
        try dir.write(".freerace.toml", "ignore = [\"FR1\"]\n")
        #expect(try FreeraceCLI.run(["check", ".", "--ignore", "FR3"], in: dir.url).status == 0)
        #expect(try FreeraceCLI.run(["check", "."], in: dir.url).status == 1)
    }

    // MARK: --target

    @Test func moduleWithoutGilSlotNeedsFreeThreadedTarget() throws {
        let (dir, line) = try Self.buggyProject("target-gil-module") { $0.gilFree = false }
        defer { dir.remove() }
        let auto = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(auto.status == 0, "\(auto)")
        #expect(auto.stdout.contains(
            "module `boxmod` (box.c): free-threading rules not applied: no Py_MOD_GIL_NOT_USED declaration"), "\(auto)")
        let ft = try FreeraceCLI.run(["check", "box.c", "--target", "free-threaded"], in: dir.url)
        #expect(ft.status == 1, "\(ft)")
        #expect(ft.stdout.contains("box.c:\(line):5: warning:"), "\(ft)")
        #expect(ft.stdout.contains("module `boxmod` (box.c): free-threading rules applied: --target free-threaded"), "\(ft)")
        let json = try FreeraceCLI.run(["check", "box.c", "--target", "free-threaded", "--format", "json"], in: dir.url)
        let summary = jsonSummary(try json.json())
        #expect(summary["target"] as? String == "free-threaded")
    }

    @Test func gilFreeModuleIsQuietForGilTarget() throws {
        let (dir, _) = try Self.buggyProject("target-gil")
        defer { dir.remove() }
        let auto = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(auto.status == 1)
        #expect(auto.stdout.contains(
            "module `boxmod` (box.c): free-threading rules applied: module `boxmod` declares {Py_mod_gil, Py_MOD_GIL_NOT_USED}"),
            "\(auto)")
        let gil = try FreeraceCLI.run(["check", "box.c", "--target", "gil", "--format", "json"], in: dir.url)
        #expect(gil.status == 0, "\(gil)")
        let doc = try gil.json()
        #expect(jsonFindings(doc).isEmpty)
        let modules = jsonSummary(doc)["modules"] as? [[String: Any]] ?? []
        #expect(modules.count == 1)
        #expect(modules.first?["freeThreadingRules"] as? Bool == false)
        #expect(modules.first?["reason"] as? String == "--target gil")
    }

    // MARK: rules, explain, version

    static let allCodes = ["FR101", "FR102", "FR201", "FR301", "FR302", "FR303", "FR401"]

    @Test func rulesListsEveryRule() throws {
        let r = try FreeraceCLI.run(["rules"])
        #expect(r.status == 0, "\(r)")
        let codes = r.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        for c in Self.allCodes { #expect(codes.contains(c), "`freerace rules` lists \(c): \(r)") }
        #expect(r.stdout.contains("object-buffer-freed-during-unlocked-read"))
        let j = try FreeraceCLI.run(["rules", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["code"] as? String }).isSuperset(of: Self.allCodes))
    }

    @Test func explainHasAllSections() throws {
        let r = try FreeraceCLI.run(["explain", "FR301"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("FR301"), "\(r)")
        let sections = ["What it does", "Why is this bad?", "Example", "Use instead", "Known limitations", "References"]
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "#: "))
        }
        var last = -1
        for s in sections {
            let i = lines.firstIndex(of: s)
            #expect(i != nil, "section heading `\(s)` on a line of its own: \(r)")
            if let i {
                #expect(i > last, "`\(s)` in order")
                last = i
            }
        }
        #expect(r.stdout.contains("Py_BEGIN_CRITICAL_SECTION"), "the fix is shown")
    }

    @Test(arguments: ["FR101", "FR102", "FR201", "FR302", "FR303", "FR401"])
    func explainEveryRule(_ code: String) throws {
        let r = try FreeraceCLI.run(["explain", code])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix(code))
        #expect(r.stdout.contains("Why is this bad?"))
    }

    @Test func explainUnknownRuleExitsTwo() throws {
        let r = try FreeraceCLI.run(["explain", "FR999"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("FR999"), "\(r)")
        #expect(r.stdout.isEmpty)
    }

    @Test func version() throws {
        let r = try FreeraceCLI.run(["--version"])
        #expect(r.status == 0, "\(r)")
        let v = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(v.range(of: #"^freerace \d+\.\d+\.\d+$"#, options: .regularExpression) != nil, "\(r)")
    }

    @Test func checkWithoutPathsChecksTheCurrentFolder() throws {
        let (dir, _) = try Self.buggyProject("no-path")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check"], in: dir.url)
        #expect(r.status == 1 && r.stdout.contains("box.c:"), "\(r)")
    }

    // MARK: parse-stats

    @Test func parseStatsJSON() throws {
        let dir = try CLIScratch("parse-stats")
        defer { dir.remove() }
        try dir.write("box.c", CSample.buggy())
        try dir.write("shape.cpp", "namespace geo {\nclass Shape {\n public:\n  int area() const { return w * h; }\n  int w = 0, h = 0;\n};\n}\n")
        try dir.write("mod.py", "def double(x):\n    return 2 * x\n\n\nclass K:\n    def m(self):\n        return 1\n")
        try dir.write("fast.pyx", "cdef int triple(int x):\n    return 3 * x\n")
        let r = try FreeraceCLI.run(["parse-stats", ".", "--json"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        let doc = try r.json()
        let langs = try #require(doc["languages"] as? [String: [String: Any]])
        #expect(Set(langs.keys) == ["c", "cpp", "cython", "python"], "\(r)")
        for (name, l) in langs {
            for k in ["files", "bytes", "functions", "clean", "recovered"] {
                #expect(l[k] is Int, "\(name).\(k) is an integer")
            }
            let pct = try #require(l["percentClean"] as? Double, "\(name).percentClean")
            #expect(pct >= 0 && pct <= 100)
            #expect(l["files"] as? Int == 1)
            if let f = l["functions"] as? Int, let c = l["clean"] as? Int, let rec = l["recovered"] as? Int {
                #expect(c + rec == f, "\(name): clean + recovered = functions")
            }
        }
        let c = langs["c"] ?? [:]
        #expect(c["bytes"] as? Int == (try Data(contentsOf: dir.file("box.c")).count))
        #expect(c["functions"] as? Int == 3, "box_resize, box_add, box_get")
        #expect(langs["python"]?["functions"] as? Int == 2)
        // Text form and a missing path.
        let t = try FreeraceCLI.run(["parse-stats", "."], in: dir.url)
        #expect(t.status == 0 && t.stdout.contains("c: 1 file, "), "\(t)")
        let missing = try FreeraceCLI.run(["parse-stats", "nope"], in: dir.url)
        #expect(missing.status == 2 && missing.stderr.contains("nope"), "\(missing)")
    }

    // MARK: the README's first command

    @Test func checkExamples() throws {
        let r = try FreeraceCLI.run(["check", "Examples"], in: FreeraceCLI.packageRoot)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.range(of: #"Found \d+ findings? "#, options: .regularExpression) != nil, "\(r)")
        #expect(r.stdout.contains("Examples/raceext/table.c:"), "\(r)")
        #expect(r.stdout.contains("`table_resize` frees `TableObject.entries`"), "\(r)")
        // The fixed half stays quiet.
        #expect(!r.stdout.contains("`safetable_"), "\(r)")
        // An unlocked assignment is pointed at by the name assigned, not by its `=`.
        let registry = try String(contentsOf: FreeraceCLI.packageRoot.appendingPathComponent("Examples/raceext/registry.c"), encoding: .utf8)
        let line = try #require(CSample.line(of: "json_module = PyImport_ImportModule", in: registry))
        let text = registry.split(separator: "\n", omittingEmptySubsequences: false)[line - 1]
        let col = text.distance(from: text.startIndex, to: try #require(text.firstIndex(of: "j"))) + 1
        #expect(r.stdout.contains("Examples/raceext/registry.c:\(line):\(col): warning:"), "\(r)")
        // A use through a cast is pointed at by the field, not by the cast.
        let buffer = try String(contentsOf: FreeraceCLI.packageRoot.appendingPathComponent("Examples/raceext/buffer.c"), encoding: .utf8)
        let useLine = try #require(CSample.line(of: "(const unsigned char *)self->buf", in: buffer))
        let use = buffer.split(separator: "\n", omittingEmptySubsequences: false)[useLine - 1]
        let useCol = use.distance(from: use.startIndex, to: try #require(use.range(of: "self->buf")).lowerBound) + 1
        #expect(r.stdout.contains("Examples/raceext/buffer.c:\(useLine):\(useCol): warning:"), "\(r)")
    }
}
