import Foundation
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

    @discardableResult
    static func run(_ args: [String], cwd: URL?, timeout: Double = 240) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        if let cwd { p.currentDirectoryURL = cwd }
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
}
