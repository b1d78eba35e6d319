import Foundation
import FreeraceModel
import FreeraceReport
import FreeraceRepro
import FreeraceRules
import FreeraceSyntax

/// `freerace repro ID`: re-analyzes, writes a stress script for the finding, and optionally builds
/// the extension and runs the script.
public struct ReproCommand: Sendable {
    public var id: String = ""
    public var paths: [String] = ["."]
    public var build = false
    public var run = false
    public var seconds = 30
    public var python = "python3"
    public var cpu: Int? = 0
    public var output: String?
    public var module: String?
    public var typeName: String?
    public var target: String?
    public var format = "text"

    public init() {}

    public struct Result: Sendable {
        public var scriptPath: String
        public var finding: Finding
        public var outcome: ReproRunner.Outcome?
        /// The analysis that found the finding, for the report's summary line.
        public var filesAnalyzed = 0
        public var bytesAnalyzed = 0
        public var elapsed = 0.0
    }

    /// Runs the command; returns the exit status (0 no failure seen, 1 the race reproduced).
    public func execute(log: @escaping (String) -> Void = { Console.err($0 + "\n") },
                        stdout: (String) throws -> Void = Console.out) throws -> Int32 {
        let r = try prepare(log: log)
        var finding = r.finding
        if let o = r.outcome {
            finding.reproOutcome = o.verdict
            log("repro: \(o.verdict)")
        }
        guard let fmt = OutputFormat(rawValue: format) else { throw UsageError("--format must be text, json or sarif") }
        let report = Report(findings: [finding], filesAnalyzed: r.filesAnalyzed, bytesAnalyzed: r.bytesAnalyzed,
                            elapsedSeconds: r.elapsed, warnings: [],
                            modules: [], target: target ?? "auto", suppressed: 0, baselined: 0, unusedSuppressions: [])
        if r.outcome != nil || format != "text" {
            let options = Renderer.Options(sourceRoot: fmt == .sarif ? ReportSupport.sarifSourceRoot() : nil)
            try stdout(Renderer.render(report, format: fmt, rules: RuleRegistry.all, options: options,
                                       lines: ReportSupport.lineReader()))
        }
        return (r.outcome?.failed ?? false) ? 1 : 0
    }

    public func prepare(log: @escaping (String) -> Void) throws -> Result {
        guard !id.isEmpty else { throw UsageError("repro needs a finding id (from --format json or the text report)") }
        var opts = AnalysisOptions(paths: paths)
        if let t = target {
            guard let tt = AnalysisTarget(rawValue: t) else { throw UsageError("--target must be free-threaded, gil or auto") }
            opts.target = tt
        }
        let set = SourceSet(paths: paths)
        if !set.missing.isEmpty { throw UsageError("path not found: \(set.missing.joined(separator: ", "))") }
        let result = Analyzer.run(opts, files: set)
        let matches = result.findings.filter { $0.id == id || $0.id.hasPrefix(id) }
        guard let finding = matches.first else {
            throw UsageError("no finding with id \(id) under \(paths.joined(separator: " ")) (ids are printed by `freerace check`)")
        }
        guard matches.count == 1 else { throw UsageError("id prefix \(id) is ambiguous: \(matches.map(\.id).joined(separator: ", "))") }
        let t = try scriptTarget(for: finding)
        let script = ReproScript.generate(finding: finding, target: t, seconds: seconds)
        let path = output ?? "freerace-repro-\(finding.id).py"
        try OutputFile.write(script, to: path)
        log("wrote \(path)")
        var py = python
        var env: [String: String] = [:]
        if build {
            guard let root = ReproRunner.projectRoot(for: finding.location.path) else {
                throw UsageError("--build: no setup.py or pyproject.toml above \(finding.location.path)")
            }
            do {
                (py, env) = try ReproRunner.build(projectRoot: root, python: python, log: log)
            } catch let e as ReproRunner.Failure {
                throw UsageError("--build failed: \(e.description)")
            }
        }
        var outcome: ReproRunner.Outcome?
        if run {
            log("running \(path) for up to \(seconds) s\(cpu.map { " pinned to CPU \($0)" } ?? "")")
            outcome = ReproRunner.run(script: path, python: py, seconds: seconds, cpu: cpu, env: env)
        }
        if build {  // the venv was throwaway
            let venv = URL(fileURLWithPath: py).deletingLastPathComponent().deletingLastPathComponent()
            if venv.lastPathComponent.hasPrefix("freerace-venv-") { try? FileManager.default.removeItem(at: venv) }
        }
        return Result(scriptPath: path, finding: finding, outcome: outcome, filesAnalyzed: result.filesAnalyzed,
                      bytesAnalyzed: result.bytesAnalyzed, elapsed: result.elapsed)
    }

    /// What the script imports and calls, from the finding's hint and the overrides.
    func scriptTarget(for f: Finding) throws -> ReproScript.Target {
        let hint = f.repro ?? ReproHint(module: nil, typeName: nil, mutators: [], readers: [], scenario: .objectMutateVsRead)
        // CPython's own perf trampoline: toggle it from Python while other threads run code
        if hint.scenario == .trampolineToggle, module == nil, hint.module == nil {
            return ReproScript.Target(module: "sys", typeName: nil,
                                      mutators: ["call:sys.activate_stack_trampoline('perf')",
                                                 "call:sys.deactivate_stack_trampoline()"],
                                      readers: [], scenario: hint.scenario)
        }
        guard let m = module ?? hint.module else {
            throw UsageError("cannot tell which module to import for \(f.id); pass --module NAME")
        }
        return ReproScript.Target(module: m, typeName: typeName ?? hint.typeName, mutators: hint.mutators,
                                  readers: hint.readers, scenario: hint.scenario)
    }
}
