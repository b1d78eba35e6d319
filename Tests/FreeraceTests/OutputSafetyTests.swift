import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Never damage a user's files: `-o`, `--write-baseline`, failed writes to the standard streams
// and paths whose names are not UTF-8. Every test works on files it made in a fresh temporary
// folder (a FIFO, a symbolic link, a device node of its own); `/dev/full` is used only as a
// redirect target.

extension FreeraceCLI {
    /// Runs a `/bin/sh` script in `cwd` with `$FREERACE` naming the binary: for redirections,
    /// closed descriptors and arguments that are not UTF-8, which `Process` cannot express.
    static func shell(_ script: String, in cwd: URL, timeout: Double = 60) throws -> CLIResult {
        guard let binary else { throw CLIError("cannot find the freerace executable next to the test bundle") }
        return try runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", script], in: cwd,
                              environment: ["FREERACE": binary.path], timeout: timeout)
    }
}

/// `lstat` of a path in a scratch folder.
private func lstatOf(_ url: URL) -> stat? {
    var st = stat()
    return lstat(url.path, &st) == 0 ? st : nil
}

private func statOf(_ url: URL) -> stat? {
    var st = stat()
    return stat(url.path, &st) == 0 ? st : nil
}

/// Leftover temporary files of an atomic write (`.NAME.freerace-XXXXXX`).
private func temporaryLeftovers(_ dir: CLIScratch) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".freerace-") }
}

@Suite("Never damage a user's files")
struct OutputSafetyTests {
    static func project(_ label: String) throws -> CLIScratch {
        let dir = try CLIScratch(label)
        try dir.write("box.c", CSample.buggy())
        return dir
    }

    // MARK: -o

    @Test func outputThroughASymlinkWritesItsTarget() throws {
        let dir = try Self.project("out-symlink")
        defer { dir.remove() }
        try dir.write("reports/target.txt", "old\n")
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.txt").path, withDestinationPath: "reports/target.txt")
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "link.txt"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let link = try #require(lstatOf(dir.file("link.txt")))
        #expect(link.st_mode & S_IFMT == S_IFLNK, "the link is still a link")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file("link.txt").path) == "reports/target.txt")
        #expect(try dir.read("reports/target.txt").contains("[FR301]"), "the target holds the report")
        #expect(temporaryLeftovers(dir).isEmpty)
    }

    @Test func outputThroughADanglingSymlinkCreatesItsTarget() throws {
        let dir = try Self.project("out-dangling")
        defer { dir.remove() }
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.txt").path, withDestinationPath: "fresh.txt")
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "link.txt"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(lstatOf(dir.file("link.txt")).map { $0.st_mode & S_IFMT == S_IFLNK } == true)
        #expect(try dir.read("fresh.txt").contains("[FR301]"))
    }

    @Test func outputToAFifoWritesIntoIt() throws {
        let dir = try Self.project("out-fifo")
        defer { dir.remove() }
        #expect(mkfifo(dir.file("pipe").path, 0o644) == 0)
        // a reader drains the FIFO while freerace writes into it
        let r = try FreeraceCLI.shell("cat pipe > drained.txt & \"$FREERACE\" check box.c -o pipe; s=$?; wait; exit $s", in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(lstatOf(dir.file("pipe")).map { $0.st_mode & S_IFMT == S_IFIFO } == true, "still a FIFO")
        #expect(try dir.read("drained.txt").contains("[FR301]"), "the report went through the FIFO")
    }

    @Test func outputToACharacterDeviceWritesIntoIt() throws {
        // a device node of our own (the null device's numbers) in the scratch folder: root only
        guard geteuid() == 0 else { return }
        let dir = try Self.project("out-chardev")
        defer { dir.remove() }
        guard mknod(dir.file("null").path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 else { return }
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "null"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(lstatOf(dir.file("null")).map { $0.st_mode & S_IFMT == S_IFCHR } == true, "still a character device")
        #expect(temporaryLeftovers(dir).isEmpty)
    }

    @Test func outputReplacesARegularFileAtomicallyKeepingItsMode() throws {
        let dir = try Self.project("out-mode")
        defer { dir.remove() }
        try dir.write("report.txt", "old\n")
        #expect(chmod(dir.file("report.txt").path, 0o640) == 0)
        let before = try #require(statOf(dir.file("report.txt")))
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "report.txt"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let after = try #require(statOf(dir.file("report.txt")))
        #expect(after.st_mode & 0o7777 == 0o640, "mode kept")
        #expect(after.st_uid == before.st_uid && after.st_gid == before.st_gid, "owner kept")
        #expect(after.st_ino != before.st_ino, "replaced by rename, not rewritten in place")
        #expect(try dir.read("report.txt").contains("[FR301]"))
        #expect(temporaryLeftovers(dir).isEmpty)
    }

    @Test func outputToAnotherUsersReadOnlyFile() throws {
        let dir = try Self.project("out-readonly")
        defer { dir.remove() }
        try dir.write("theirs.txt", "keep me\n")
        #expect(chmod(dir.file("theirs.txt").path, 0o444) == 0)
        if geteuid() == 0 {
            // root may write it, but the file keeps its owner and mode
            let nobody: uid_t = 65534
            #expect(chown(dir.file("theirs.txt").path, nobody, gid_t(65534)) == 0)
            let r = try FreeraceCLI.run(["check", "box.c", "-o", "theirs.txt"], in: dir.url)
            #expect(r.status == 1, "\(r)")
            let st = try #require(statOf(dir.file("theirs.txt")))
            #expect(st.st_uid == nobody && st.st_mode & 0o7777 == 0o444, "owner and mode kept")
        } else {
            let r = try FreeraceCLI.run(["check", "box.c", "-o", "theirs.txt"], in: dir.url)
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.contains("theirs.txt") && r.stderr.contains("not writable"), "\(r)")
            #expect(try dir.read("theirs.txt") == "keep me\n", "untouched")
        }
        #expect(temporaryLeftovers(dir).isEmpty)
    }

    @Test func outputToAFolderIsRefused() throws {
        let dir = try Self.project("out-folder")
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.file("reports"), withIntermediateDirectories: true)
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "reports"], in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("reports") && r.stderr.contains("folder"), "\(r)")
    }

    @Test func outputDashIsStandardOutput() throws {
        let dir = try Self.project("out-dash")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "-o", "-"], in: dir.url)
        #expect(r.status == 1 && r.stdout.contains("[FR301]"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("-").path), "no file named -")
    }

    // MARK: standard streams

    @Test(arguments: [
        ("stdout to /dev/full", "\"$FREERACE\" check box.c >/dev/full"),
        ("stdout closed", "\"$FREERACE\" check box.c >&-"),
        ("stderr to /dev/full", "\"$FREERACE\" check box.c --timings 2>/dev/full >/dev/null"),
        ("stderr closed", "\"$FREERACE\" check box.c --timings 2>&- >/dev/null"),
        ("usage error with stderr closed", "\"$FREERACE\" check --no-such-flag 2>&-"),
    ])
    func failedWritesToStandardStreamsExitTwo(_ c: (String, String)) throws {
        let dir = try Self.project("streams")
        defer { dir.remove() }
        let r = try FreeraceCLI.shell(c.1, in: dir.url)
        #expect(r.status == 2, "\(c.0): \(r)")
        #expect(!r.signaled, "\(c.0): no trap")
    }

    @Test func failedStandardOutputIsExplained() throws {
        let dir = try Self.project("stdout-full")
        defer { dir.remove() }
        let r = try FreeraceCLI.shell("\"$FREERACE\" check box.c >/dev/full", in: dir.url)
        #expect(r.status == 2 && r.stderr.contains("cannot write to standard output"), "\(r)")
    }

    @Test func failedStandardErrorLeavesNoPartialOutputFile() throws {
        let dir = try Self.project("stderr-output")
        defer { dir.remove() }
        let r = try FreeraceCLI.shell("\"$FREERACE\" check box.c --timings -o report.txt 2>/dev/full", in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("report.txt").path), "no report written after the failure")
        #expect(temporaryLeftovers(dir).isEmpty)
    }

    @Test func closedStandardErrorIsNotReusedForTheOutputFile() throws {
        // with descriptor 2 closed, the first file freerace opens would get number 2
        let dir = try Self.project("stderr-reuse")
        defer { dir.remove() }
        let r = try FreeraceCLI.shell("\"$FREERACE\" check box.c -o report.txt 2>&-", in: dir.url)
        #expect(r.status == 1, "\(r)")
        let report = try dir.read("report.txt")
        #expect(report.contains("[FR301]") && !report.contains("timings:"), "\(report)")
    }

    @Test func brokenPipeEndsBySignalOrTwo() throws {
        let dir = try CLIScratch("sigpipe")
        defer { dir.remove() }
        // enough findings that the report is larger than a pipe's buffer
        for i in 0..<60 {
            try dir.write("m\(i).c", CSample.buggy { $0.module = "mod\(i)"; $0.prefix = "p\(i)"; $0.typeName = "T\(i)" })
        }
        // the reader is gone before freerace writes: its status is recorded beside the pipe
        let r = try FreeraceCLI.shell(
            "{ \"$FREERACE\" check .; echo $? > status.txt; } | head -c 1 >/dev/null", in: dir.url)
        #expect(r.status == 0, "\(r)")
        let status = Int(try dir.read("status.txt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        // 141 = killed by SIGPIPE (as any Unix tool); 2 = the write error, reported; 1 = the whole
        // report fit in the pipe before the reader left; never a trap (132, 133, 134)
        #expect([141, 2, 1].contains(status), "status \(status)")
    }

    // MARK: baselines

    static func baselineIDs(_ dir: CLIScratch, _ name: String) throws -> [String] {
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.file(name))) as? [String: Any]
        return (doc?["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    /// Two modules: a free-threaded buffer race (FR301) and a lazily cached static that is also
    /// reset (FR303, one finding per writing function).
    static func twoFindingProject(_ label: String) throws -> CLIScratch {
        let dir = try CLIScratch(label)
        try dir.write("src/box.c", CSample.buggy())
        try dir.write("src/cache.c", """
            #include <Python.h>
            static PyObject *cached = NULL;
            static PyObject *
            cache_get(PyObject *m, PyObject *unused)
            {
                if (cached == NULL) {
                    cached = PyImport_ImportModule("json");
                }
                return Py_XNewRef(cached);
            }
            static PyObject *
            cache_reset(PyObject *m, PyObject *unused)
            {
                Py_CLEAR(cached);
                Py_RETURN_NONE;
            }
            static PyMethodDef cache_methods[] = {{"get", cache_get, METH_NOARGS, NULL},
                                                  {"reset", cache_reset, METH_NOARGS, NULL}, {NULL}};
            static PyModuleDef_Slot cache_slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
            static struct PyModuleDef cache_def = {PyModuleDef_HEAD_INIT, "cache", NULL, 0, cache_methods, cache_slots};
            PyMODINIT_FUNC PyInit_cache(void) { return PyModuleDef_Init(&cache_def); }
            """)
        return dir
    }

    @Test func baselineUpdatedInPlaceKeepsItsEntries() throws {
        let dir = try Self.twoFindingProject("baseline-inplace")
        defer { dir.remove() }
        let all = try FreeraceCLI.run(["check", "src", "--format", "json"], in: dir.url)
        let allIDs = jsonIDs(try all.json())
        #expect(allIDs.count >= 2, "\(all)")

        // read and write the same file: the baselined findings are still current findings
        #expect(try FreeraceCLI.run(["check", "src", "--write-baseline", "b.json"], in: dir.url).status == 0)
        let again = try FreeraceCLI.run(["check", "src", "--baseline", "b.json", "--write-baseline", "b.json"], in: dir.url)
        #expect(again.status == 0, "\(again)")
        #expect(Set(try Self.baselineIDs(dir, "b.json")) == Set(allIDs), "no entry lost")

        // a narrower run adds to the file and drops nothing
        try FileManager.default.removeItem(at: dir.file("b.json"))
        #expect(try FreeraceCLI.run(["check", "src", "--select", "FR301", "--write-baseline", "b.json"], in: dir.url).status == 0)
        #expect(try Self.baselineIDs(dir, "b.json").count == 1)
        #expect(try FreeraceCLI.run(["check", "src", "--select", "FR303", "--write-baseline", "b.json"], in: dir.url).status == 0)
        #expect(Set(try Self.baselineIDs(dir, "b.json")) == Set(allIDs), "the FR301 entry is kept beside the FR303 one")
        let quiet = try FreeraceCLI.run(["check", "src", "--baseline", "b.json"], in: dir.url)
        #expect(quiet.status == 0 && quiet.stdout.contains("\(allIDs.count) in baseline"), "\(quiet)")
    }

    @Test func configuredBaselineIsRelativeToTheConfigurationFile() throws {
        let dir = try Self.twoFindingProject("baseline-config")
        defer { dir.remove() }
        try dir.write("pyproject.toml", "[tool.freerace]\nbaseline = \"freerace-baseline.json\"\n")
        try FileManager.default.createDirectory(at: dir.file("src/sub"), withIntermediateDirectories: true)
        // the configured baseline does not exist yet: writing it is not an error
        let w = try FreeraceCLI.run(["check", "..", "--write-baseline", "../../freerace-baseline.json"], in: dir.file("src/sub"))
        #expect(w.status == 0, "\(w)")
        let recorded = try Self.baselineIDs(dir, "freerace-baseline.json").count
        #expect(recorded >= 2)
        // read from a subfolder, the configured path still names the file beside pyproject.toml
        let r = try FreeraceCLI.run(["check", ".."], in: dir.file("src/sub"))
        #expect(r.status == 0 && r.stdout.contains("\(recorded) in baseline"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("src/sub/freerace-baseline.json").path))
    }

    @Test func missingConfiguredBaselineWithoutWriteIsAnError() throws {
        let dir = try Self.twoFindingProject("baseline-config-missing")
        defer { dir.remove() }
        try dir.write("pyproject.toml", "[tool.freerace]\nbaseline = \"nothing-here.json\"\n")
        let r = try FreeraceCLI.run(["check", "src"], in: dir.url)
        #expect(r.status == 2 && r.stderr.contains("nothing-here.json"), "\(r)")
    }

    @Test func writingOverAFileThatIsNotABaselineIsRefused() throws {
        let dir = try Self.twoFindingProject("baseline-foreign")
        defer { dir.remove() }
        try dir.write("notes.json", "{\"mine\": true}\n")
        let r = try FreeraceCLI.run(["check", "src", "--write-baseline", "notes.json"], in: dir.url)
        #expect(r.status == 2 && r.stderr.contains("not a freerace baseline"), "\(r)")
        #expect(try dir.read("notes.json") == "{\"mine\": true}\n", "untouched")
    }

    // MARK: paths that are not UTF-8

    @Test func pathsThatAreNotUTF8AreAnalyzedAndShownEscaped() throws {
        let dir = try CLIScratch("non-utf8")
        defer { dir.remove() }
        // folder `caf\xe9`, file `b\xff.c`: made by the shell, which passes bytes as they are
        try dir.write("seed.c", CSample.buggy())
        let made = try FreeraceCLI.shell(
            "d=$(printf 'caf\\351'); f=$(printf 'b\\377.c'); mkdir \"$d\" && mv seed.c \"$d/$f\"", in: dir.url)
        #expect(made.status == 0, "\(made)")

        let text = try FreeraceCLI.run(["check", "."], in: dir.url)
        #expect(text.status == 1, "the file is analyzed: \(text)")
        #expect(text.stdout.contains("caf\\xe9/b\\xff.c:"), "\(text)")
        #expect(text.stdout.contains("PyMem_Free(old);"), "the excerpt is read from the file: \(text)")

        let json = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.url)
        let path = jsonFindings(try json.json()).compactMap { jsonLocation($0)?.path }.first
        #expect(path == "caf\\xe9/b\\xff.c", "\(json)")

        let sarif = try FreeraceCLI.run(["check", ".", "--format", "sarif"], in: dir.url)
        #expect(sarif.stdout.contains("\"caf%E9/b%FF.c\""), "\(sarif)")

        // named on the command line, by its bytes
        let named = try FreeraceCLI.shell("\"$FREERACE\" check \"$(printf 'caf\\351/b\\377.c')\" --quiet", in: dir.url)
        #expect(named.status == 1 && named.stdout.contains("caf\\xe9/b\\xff.c:"), "\(named)")
        let missing = try FreeraceCLI.shell("\"$FREERACE\" check \"$(printf 'no\\351')\"", in: dir.url)
        #expect(missing.status == 2 && missing.stderr.contains("no\\xe9"), "\(missing)")
    }
}
