import Foundation
import FreeraceReport
import FreeraceRules
import FreeraceSyntax
import Testing

/// The whole loop on our own tiny extension (Tests/ReproExtension/bufrace): the analyzer flags
/// FR401, `freerace repro --build --run` builds it with this machine's Python and confirms the race
/// (a crash or detected corruption), and the fixed type runs clean.
@Suite("Repro end to end", .serialized)
struct ReproTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: URL? {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("freerace"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("freerace"),
            repoRoot.appendingPathComponent(".build/debug/freerace"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// python3 with headers and setuptools: what `--build` needs.
    static var pythonCanBuild: Bool {
        let r = run(["/usr/bin/env", "python3", "-c",
                     "import sysconfig, os, setuptools; print(os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))"],
                    cwd: nil)
        return r.status == 0 && r.output.contains("True")
    }

    static var hasPython: Bool { run(["/usr/bin/env", "python3", "-c", "pass"], cwd: nil).status == 0 }

    @discardableResult
    static func run(_ args: [String], cwd: URL?, environment: [String: String] = [:], timeout: Double = 240)
        -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        if let cwd { p.currentDirectoryURL = cwd }
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("repro-test-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        guard let h = try? FileHandle(forWritingTo: out) else { return (127, "") }
        p.standardOutput = h
        p.standardError = h
        do { try p.run() } catch { return (127, "\(error)") }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        try? h.close()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: out)
        return (p.terminationStatus, text)
    }

    func copyExtension() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bufrace-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: Self.repoRoot.appendingPathComponent("Tests/ReproExtension/bufrace"), to: dir)
        return dir
    }

    func outcome(_ json: String) -> String? {
        guard let start = json.firstIndex(of: "{"),
              let obj = try? JSONSerialization.jsonObject(with: Data(json[start...].utf8)) as? [String: Any],
              let findings = obj["findings"] as? [[String: Any]], let f = findings.first else { return nil }
        return f["reproOutcome"] as? String
    }

    /// Every finding on Examples/ gets a script that names the module, type and methods to drive,
    /// as the README's repro section promises.
    @Test(.enabled(if: ReproTests.binary != nil))
    func everyExampleFindingGetsAScript() throws {
        let bin = try #require(Self.binary).path
        let examples = Self.repoRoot.appendingPathComponent("Examples")
        let check = Self.run([bin, "check", ".", "--format", "json"], cwd: examples)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        let findings = try #require(doc["findings"] as? [[String: Any]])
        #expect(findings.count == 11)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("repro-examples-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        var modules: [String: String] = [:]
        for f in findings {
            let id = try #require(f["id"] as? String)
            let script = out.appendingPathComponent("\(id).py").path
            let r = Self.run([bin, "repro", id, ".", "-o", script], cwd: examples)
            #expect(r.status == 0, "\(id): \(r.output)")
            let text = try String(contentsOfFile: script, encoding: .utf8)
            let module = text.split(separator: "\n").first { $0.hasPrefix("MODULE = ") }.map { String($0.dropFirst(9)) }
            modules[id] = module
            #expect(text.contains("faulthandler.enable()"))
        }
        #expect(Set(modules.values) == ["\"raceext.buffer\"", "\"raceext.jit\"", "\"raceext.registry\"",
                                        "\"raceext.sampler\"", "\"raceext.table\"", "\"profiler.collector\"",
                                        "\"profiler.sampler\""])
    }

    @Test(.enabled(if: ReproTests.pythonCanBuild && ReproTests.binary != nil, "needs python3 with headers and setuptools"),
          .timeLimit(.minutes(3)))
    func analyzerFlagsAndReproConfirms() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }

        let check = Self.run([bin, "check", ".", "--format", "json"], cwd: dir)
        #expect(check.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        let findings = try #require(doc["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding["code"] as? String == "FR401")
        let id = try #require(finding["id"] as? String)

        // the buggy type: a crash or detected corruption (retried once: it is a race)
        var verdict = ""
        for _ in 0..<2 {
            let r = Self.run([bin, "repro", id, ".", "--build", "--run", "--seconds", "25", "--format", "json"], cwd: dir)
            verdict = outcome(r.output) ?? r.output
            if verdict.hasPrefix("crashed") || verdict.hasPrefix("exception") {
                #expect(r.status == 1)
                break
            }
        }
        #expect(verdict.hasPrefix("crashed") || verdict.hasPrefix("exception"), "race not confirmed: \(verdict)")

        // the fixed type: no failure
        let fixed = Self.run([bin, "repro", id, ".", "--build", "--run", "--seconds", "8", "--type", "SafeBuffer",
                              "--format", "json"], cwd: dir)
        let fixedVerdict = outcome(fixed.output) ?? fixed.output
        #expect(fixedVerdict.hasPrefix("no failure"), "fixed variant: \(fixedVerdict)")
        #expect(fixed.status == 0)

        // the script is written next to where repro ran, readable and self-contained
        let script = try String(contentsOf: dir.appendingPathComponent("freerace-repro-\(id).py"), encoding: .utf8)
        #expect(script.contains("faulthandler.enable()"))
        #expect(script.contains("MODULE = \"bufrace\""))
        #expect(script.contains("not proof of absence"))
    }

    /// The exit statuses the code returns (tested above and below) are the ones `--help` and the
    /// README promise.
    @Test(.enabled(if: ReproTests.binary != nil))
    func exitStatusesAgreeInHelpAndReadme() throws {
        let bin = try #require(Self.binary).path
        let help = Self.run([bin, "repro", "--help"], cwd: nil).output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let readme = try String(contentsOf: Self.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for (status, help_, table) in [
            (0, "0 the script was written (and built), or it ran and saw no failure", "| 0 | the script was written"),
            (1, "1 it ran and the race reproduced", "| 1 | it ran and the race reproduced"),
            (2, "2 usage error", "| 2 | usage error"),
            (3, "3 the build failed, or the script could not run its stress", "| 3 | the build failed, or the script could not run its stress"),
            (4, "4 the Python interpreter (--python) was not found", "| 4 | the Python interpreter (`--python`) was not found"),
        ] {
            #expect(help.contains(help_), "--help on status \(status): \(help)")
            #expect(readme.contains(table), "README on status \(status)")
        }
    }

    // MARK: the FR303 scenario calls what it names

    /// Runs a generated script against stand-in Python modules in `stubs` that count the calls
    /// they get; returns the counts the script made, by name.
    func callsMade(script: String, stubs: URL) throws -> [String: Int] {
        let log = stubs.appendingPathComponent("calls.txt")
        let r = Self.run(["/usr/bin/env", "python3", script], cwd: stubs,
                         environment: ["FREERACE_REPRO_SECONDS": "1", "STUB_LOG": log.path], timeout: 60)
        #expect(r.status == 0, "the script ran its stress and saw nothing: \(r.output)")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let n = Int(parts[1]) { counts[String(parts[0])] = n }
        }
        return counts
    }

    static let stubRecorder = """
        import atexit, collections, os
        calls = collections.Counter()
        def _write():
            with open(os.environ["STUB_LOG"], "w") as f:
                for k, v in sorted(calls.items()):
                    f.write("%s %d\\n" % (k, v))
        atexit.register(_write)

        """

    /// Registry.to_json() lazily imports json into a static that Registry.reset_json() clears:
    /// the script must build a Registry and call both on it (it used to call them on the module,
    /// where they do not exist, and spin on nothing).
    @Test(.enabled(if: ReproTests.binary != nil && ReproTests.hasPython))
    func fr303ScriptInstantiatesTheTypeThatOwnsTheMethods() throws {
        let bin = try #require(Self.binary).path
        let examples = Self.repoRoot.appendingPathComponent("Examples")
        let check = Self.run([bin, "check", ".", "--select", "FR303", "--format", "json"], cwd: examples)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        let findings = try #require(doc["findings"] as? [[String: Any]])
        let lazy = try #require(findings.first { ($0["message"] as? String ?? "").contains("to_json") })
        let id = try #require(lazy["id"] as? String)
        let hint = try #require(lazy["repro"] as? [String: Any])
        #expect(hint["typeName"] as? String == "Registry")
        #expect(hint["mutators"] as? [String] == ["to_json"])
        #expect(hint["readers"] as? [String] == ["reset_json"])

        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("fr303-stubs-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: stubs) }
        try FileManager.default.createDirectory(at: stubs.appendingPathComponent("raceext"), withIntermediateDirectories: true)
        try "".write(to: stubs.appendingPathComponent("raceext/__init__.py"), atomically: true, encoding: .utf8)
        try (Self.stubRecorder + """
            class Registry:
                def to_json(self):
                    calls["Registry.to_json"] += 1
                    return "{}"
                def reset_json(self):
                    calls["Registry.reset_json"] += 1
            def to_json():
                calls["module.to_json"] += 1

            """).write(to: stubs.appendingPathComponent("raceext/registry.py"), atomically: true, encoding: .utf8)
        let script = stubs.appendingPathComponent("repro.py").path
        let r = Self.run([bin, "repro", id, ".", "-o", script], cwd: examples)
        #expect(r.status == 0, "\(r.output)")
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.contains("TYPE = \"Registry\""), "\(text.prefix(2000))")
        let calls = try callsMade(script: script, stubs: stubs)
        #expect((calls["Registry.to_json"] ?? 0) > 0 && (calls["Registry.reset_json"] ?? 0) > 0, "\(calls)")
        #expect(calls["module.to_json"] == nil, "\(calls)")
    }

    /// In Tests/Fixtures/FR303/lazy_cache_bad.c the lazy init and the reset are module functions:
    /// the script calls them on the module, with no type to instantiate.
    @Test(.enabled(if: ReproTests.binary != nil && ReproTests.hasPython))
    func fr303ScriptCallsModuleFunctionsOnTheModule() throws {
        let bin = try #require(Self.binary).path
        let fixture = "Tests/Fixtures/FR303/lazy_cache_bad.c"
        let check = Self.run([bin, "check", fixture, "--format", "json"], cwd: Self.repoRoot)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        let findings = try #require(doc["findings"] as? [[String: Any]])
        let lazy = try #require(findings.first { ($0["function"] as? String) == "dumps_bad" })
        let hint = try #require(lazy["repro"] as? [String: Any])
        #expect(hint["typeName"] == nil)
        #expect(hint["mutators"] as? [String] == ["dumps"])
        #expect(hint["readers"] as? [String] == ["reset"])

        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("fr303-module-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: stubs) }
        try FileManager.default.createDirectory(at: stubs, withIntermediateDirectories: true)
        try (Self.stubRecorder + """
            def dumps(obj):
                calls["dumps"] += 1
                return "{}"
            def reset():
                calls["reset"] += 1

            """).write(to: stubs.appendingPathComponent("lazy.py"), atomically: true, encoding: .utf8)
        let script = stubs.appendingPathComponent("repro.py").path
        let id = try #require(lazy["id"] as? String)
        let r = Self.run([bin, "repro", id, fixture, "-o", script], cwd: Self.repoRoot)
        #expect(r.status == 0, "\(r.output)")
        #expect(try String(contentsOfFile: script, encoding: .utf8).contains("TYPE = None"))
        let calls = try callsMade(script: script, stubs: stubs)
        #expect((calls["dumps"] ?? 0) > 0 && (calls["reset"] ?? 0) > 0, "\(calls)")
    }

    // MARK: exit statuses

    static func bufraceID(_ bin: String, _ dir: URL) throws -> String {
        let check = run([bin, "check", ".", "--format", "json"], cwd: dir)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        return try #require((doc["findings"] as? [[String: Any]])?.first?["id"] as? String)
    }

    @Test(.enabled(if: ReproTests.binary != nil))
    func missingInterpreterExitsFour() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try Self.bufraceID(bin, dir)
        for mode in [["--run"], ["--build"], ["--build", "--run"]] {
            let r = Self.run([bin, "repro", id, ".", "--python", "/nonexistent/python3.99"] + mode, cwd: dir)
            #expect(r.status == 4, "\(mode): \(r.output)")
            #expect(r.output.contains("/nonexistent/python3.99") && r.output.contains("not found"), "\(r.output)")
        }
        // writing the script alone needs no interpreter
        #expect(Self.run([bin, "repro", id, ".", "--python", "/nonexistent/python3.99"], cwd: dir).status == 0)
    }

    /// Run without building, the script cannot import the module: it did not run (3), which is
    /// neither "no failure" (0) nor "reproduced" (1).
    @Test(.enabled(if: ReproTests.binary != nil && ReproTests.hasPython))
    func scriptThatCannotImportTheModuleExitsThree() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try Self.bufraceID(bin, dir)
        let r = Self.run([bin, "repro", id, ".", "--run", "--seconds", "2", "--format", "json"], cwd: dir)
        #expect(r.status == 3, "\(r.output)")
        #expect(outcome(r.output)?.hasPrefix("did not run (exit 4)") == true, "\(r.output)")
    }

    /// Every path under `root` with its bytes (folders as nil): a tree's whole content.
    static func snapshot(_ root: URL) -> [String: Data?] {
        var out: [String: Data?] = [:]
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return out }
        while let rel = e.nextObject() as? String {
            let url = root.appendingPathComponent(rel)
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            out[rel] = isDir.boolValue ? nil : (try? Data(contentsOf: url))
        }
        return out
    }

    /// A scratch `TMPDIR` for one run, so that what a build leaves behind can be seen.
    func scratchTemp(_ label: String) throws -> URL {
        let t = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: t, withIntermediateDirectories: true)
        return t
    }

    @Test(.enabled(if: ReproTests.pythonCanBuild && ReproTests.binary != nil, "needs python3 with headers and setuptools"),
          .timeLimit(.minutes(3)))
    func failedBuildExitsThreeAndLeavesNothingBehind() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try Self.bufraceID(bin, dir)
        let source = dir.appendingPathComponent("bufrace.c")
        try (try String(contentsOf: source, encoding: .utf8) + "\n#error deliberately broken\n")
            .write(to: source, atomically: true, encoding: .utf8)
        let tmp = try scratchTemp("repro-failed-build")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let before = Self.snapshot(dir)
        let r = Self.run([bin, "repro", id, dir.path, "--build", "--run", "-o", tmp.appendingPathComponent("s.py").path],
                         cwd: tmp, environment: ["TMPDIR": tmp.path])
        #expect(r.status == 3, "\(r.output)")
        #expect(r.output.contains("--build failed"), "\(r.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["s.py"], "the venv and the copy are gone")
        #expect(Self.snapshot(dir) == before, "the user's tree is untouched")
    }

    /// `repro --build` builds a copy: the user's tree is byte for byte what it was (no .so, no
    /// build/, no egg-info), and with --run nothing is left in the temporary folder.
    @Test(.enabled(if: ReproTests.pythonCanBuild && ReproTests.binary != nil, "needs python3 with headers and setuptools"),
          .timeLimit(.minutes(3)))
    func buildNeverWritesIntoTheUsersTree() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try Self.bufraceID(bin, dir)
        let tmp = try scratchTemp("repro-inplace")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let script = tmp.appendingPathComponent("s.py").path
        let before = Self.snapshot(dir)
        let ran = Self.run([bin, "repro", id, dir.path, "--build", "--run", "--seconds", "3", "-o", script, "--format", "json"],
                           cwd: tmp, environment: ["TMPDIR": tmp.path])
        #expect([0, 1].contains(ran.status), "\(ran.output)")
        let verdict = outcome(ran.output) ?? ""
        #expect(verdict.hasPrefix("no failure") || verdict.hasPrefix("crashed") || verdict.hasPrefix("exception"), "\(ran.output)")
        #expect(Self.snapshot(dir) == before, "the user's tree is untouched: \(Set(Self.snapshot(dir).keys).subtracting(before.keys))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["s.py"], "nothing left behind")

        // --build alone keeps the build and says how to run the script with it
        let built = Self.run([bin, "repro", id, dir.path, "--build", "-o", script], cwd: tmp, environment: ["TMPDIR": tmp.path])
        #expect(built.status == 0, "\(built.output)")
        #expect(built.output.contains("your tree was not written to"), "\(built.output)")
        #expect(Self.snapshot(dir) == before)
        let command = try #require(built.output.split(separator: "\n").first { $0.hasPrefix("  cd ") }, "\(built.output)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix("freerace-repro-") }
        #expect(kept.count == 1)
        let r = Self.run(["/bin/sh", "-c", String(command)], cwd: tmp, environment: ["FREERACE_REPRO_SECONDS": "2"], timeout: 60)
        // it runs the stress: no failure (0), an exception (3), or the race reproduced — the
        // example's race is real and may crash the interpreter within 2 s (killed by a signal)
        #expect([0, 3].contains(r.status) || r.status > 128, "the printed command runs the stress: \(r.output)")
        #expect(!r.output.contains("cannot import"), "\(r.output)")
    }

    /// A crash's faulthandler traceback stays with the finding (here the reading method aborts
    /// outright, so the crash is certain).
    @Test(.enabled(if: ReproTests.pythonCanBuild && ReproTests.binary != nil, "needs python3 with headers and setuptools"),
          .timeLimit(.minutes(3)))
    func crashTracebackIsKeptInTheReport() throws {
        let bin = try #require(Self.binary).path
        let dir = try copyExtension()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("bufrace.c")
        let text = try String(contentsOf: source, encoding: .utf8)
        let marker = "    unsigned long sum = 0;\n    Py_ssize_t bad = -1;\n"
        #expect(text.contains(marker))
        try text.replacingOccurrences(of: marker, with: "    abort();\n" + marker).write(to: source, atomically: true, encoding: .utf8)
        let id = try Self.bufraceID(bin, dir)
        let r = Self.run([bin, "repro", id, ".", "--build", "--run", "--seconds", "10", "--format", "json", "-o", "s.py"], cwd: dir)
        #expect(r.status == 1, "\(r.output)")
        let start = try #require(r.output.firstIndex(of: "{"))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.output[start...].utf8)) as? [String: Any])
        let f = try #require((doc["findings"] as? [[String: Any]])?.first)
        #expect(f["reproOutcome"] as? String == "crashed (SIGABRT)", "\(r.output)")
        let tb = try #require(f["reproTraceback"] as? String, "\(r.output)")
        #expect(tb.contains("Fatal Python error: Aborted"), "\(tb)")
        #expect(tb.contains("most recent call first") && tb.contains("  File \""), "\(tb)")
    }

    /// Text, JSON and SARIF all carry the traceback of a reproduced finding.
    @Test func tracebackIsRenderedInEveryFormat() throws {
        var f = Finding(code: "FR401", name: "object-state-used-without-gil", message: "m", function: "fn",
                        location: Location(path: "a.c", line: 3, column: 1), notes: [], why: "w", help: "h", key: "k")
        f.reproOutcome = "crashed (SIGSEGV)"
        f.reproTraceback = "Fatal Python error: Segmentation fault\n\nThread 0x1 (most recent call first):\n  File \"s.py\", line 9 in worker"
        let report = Report(findings: [f], filesAnalyzed: 1, bytesAnalyzed: 1, elapsedSeconds: 0, warnings: [], modules: [],
                            target: "auto", suppressed: 0, baselined: 0, unusedSuppressions: [])
        let text = Renderer.render(report, format: .text, rules: RuleRegistry.all)
        #expect(text.contains("  repro: crashed (SIGSEGV)\n    | Fatal Python error: Segmentation fault\n"), "\(text)")
        #expect(text.contains("    |   File \"s.py\", line 9 in worker\n"), "\(text)")
        for format in [OutputFormat.json, .sarif] {
            let out = Renderer.render(report, format: format, rules: RuleRegistry.all)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let result: [String: Any]? = format == .json
                ? (doc["findings"] as? [[String: Any]])?.first
                : (((doc["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first?["properties"] as? [String: Any])
            #expect(result?["reproTraceback"] as? String == f.reproTraceback, "\(format): \(out)")
        }
    }
}
