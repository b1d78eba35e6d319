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

    /// Exit statuses of `freerace repro` (README, `freerace repro --help`).
    public enum Status {
        /// The script was written (and built, if asked); or it ran and saw no failure.
        public static let noFailure: Int32 = 0
        /// The script ran and the race reproduced: a crash, or an exception showing corrupted state.
        public static let reproduced: Int32 = 1
        /// A usage error (as for every command).
        public static let usage: Int32 = 2
        /// The build failed, or the script could not run its stress (module, type or methods
        /// missing, or the interpreter failed before the script's verdict).
        public static let couldNotRun: Int32 = 3
        /// The interpreter (`--python`) is not there.
        public static let interpreterMissing: Int32 = 4
    }

    /// A `repro` that could not do what it was asked, with its exit status.
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int32
        public var description: String
    }

    public struct Result: Sendable {
        public var scriptPath: String
        public var finding: Finding
        public var outcome: ReproRunner.Outcome?
        /// The analysis that found the finding, for the report's summary line.
        public var filesAnalyzed = 0
        public var bytesAnalyzed = 0
        public var elapsed = 0.0
    }

    /// Runs the command; returns the exit status (see `Status`).
    public func execute(log: @escaping (String) -> Void = { Console.err($0 + "\n") },
                        stdout: (String) throws -> Void = Console.out) throws -> Int32 {
        guard let fmt = OutputFormat(rawValue: format) else { throw UsageError("--format must be text, json or sarif") }
        let r: Result
        do { r = try prepare(log: log) } catch let e as Failure {
            log("freerace: repro: \(e.description)")
            return e.status
        }
        var finding = r.finding
        if let o = r.outcome {
            finding.reproOutcome = o.verdict
            finding.reproTraceback = o.traceback
            log("repro: \(o.verdict)")
            if o.result == .didNotRun {
                log("the script did not run its stress; its output:\n" + o.output.split(separator: "\n").suffix(40).joined(separator: "\n"))
            }
        }
        let report = Report(findings: [finding], filesAnalyzed: r.filesAnalyzed, bytesAnalyzed: r.bytesAnalyzed,
                            elapsedSeconds: r.elapsed, warnings: [],
                            modules: [], target: target ?? "auto", suppressed: 0, baselined: 0, unusedSuppressions: [])
        if r.outcome != nil || format != "text" {
            let options = Renderer.Options(sourceRoot: fmt == .sarif ? ReportSupport.sarifSourceRoot() : nil)
            try stdout(Renderer.render(report, format: fmt, rules: RuleRegistry.all, options: options,
                                       lines: ReportSupport.lineReader()))
        }
        switch r.outcome?.result {
        case .reproduced?: return Status.reproduced
        case .didNotRun?: return Status.couldNotRun
        case .noFailure?, nil: return Status.noFailure
        }
    }

    public func prepare(log: @escaping (String) -> Void) throws -> Result {
        guard !id.isEmpty else { throw UsageError("repro needs a finding id (from --format json or the text report)") }
        var opts = AnalysisOptions(paths: paths)
        if let t = target {
            guard let tt = AnalysisTarget(rawValue: t) else { throw UsageError("--target must be free-threaded, gil or auto") }
            opts.target = tt
        }
        var set = SourceSet(paths: paths)
        if !set.missing.isEmpty { throw UsageError("path not found: \(set.missing.joined(separator: ", "))") }
        // as `check a.c` does: a named file is analyzed with its project, so its ids are found
        set.addProjectContext()
        // the interpreter is needed only to build or run; its absence is not a usage error
        var py = python
        if build || run {
            guard let found = ReproRunner.locate(python) else {
                throw Failure(status: Status.interpreterMissing,
                              description: "Python interpreter `\(python)` not found (pass --python PATH)")
            }
            py = found
        }
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
        guard build else {
            var outcome: ReproRunner.Outcome?
            if run {
                log("running \(path) for up to \(seconds) s\(cpu.map { " pinned to CPU \($0)" } ?? "")")
                outcome = ReproRunner.run(script: path, python: py, seconds: seconds, cpu: cpu, env: [:])
            }
            return Result(scriptPath: path, finding: finding, outcome: outcome, filesAnalyzed: result.filesAnalyzed,
                          bytesAnalyzed: result.bytesAnalyzed, elapsed: result.elapsed)
        }
        guard let root = ReproRunner.projectRoot(for: finding.location.path) else {
            throw UsageError("--build: no setup.py or pyproject.toml above \(finding.location.path)")
        }
        // Everything a build makes goes to one throwaway folder, removed unless the build is kept
        // for the user to run (--build without --run).
        let ws: ReproRunner.Workspace
        do { ws = try ReproRunner.Workspace.create() } catch let e as ReproRunner.Failure {
            throw Failure(status: Status.couldNotRun, description: "--build: \(e.description)")
        }
        var keep = false
        defer { if !keep { ws.remove() } }
        let built: ReproRunner.Build
        do {
            built = try ReproRunner.build(projectRoot: root, python: py, workspace: ws, log: log)
        } catch let e as ReproRunner.Failure {
            throw Failure(status: Status.couldNotRun, description: "--build failed: \(e.description)")
        }
        // The script runs from the workspace: a source package next to the user's copy of the
        // script (or in the folder it runs from) would hide the built extension.
        let runCopy = ws.run + "/" + FileSystem.baseName(path)
        try OutputFile.write(script, to: runCopy)
        var outcome: ReproRunner.Outcome?
        if run {
            log("running \(path) for up to \(seconds) s\(cpu.map { " pinned to CPU \($0)" } ?? "")")
            outcome = ReproRunner.run(script: runCopy, python: built.python, seconds: seconds, cpu: cpu, env: built.env,
                                      cwd: ws.run)
        } else {
            keep = true
            let env = built.env.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.shellQuoted($0.value)) " }.joined()
            let pin = cpu.map { "taskset -c \($0) " } ?? ""
            log("""
                built \(root): \(built.location); your tree was not written to.
                The build is kept in \(ws.path) (a copy of \(path) is in \(ws.run)). Run the script with:
                  cd \(Self.shellQuoted(ws.run)) && \(env)PYTHONMALLOC=debug \(pin)\(Self.shellQuoted(built.python)) -X faulthandler \(Self.shellQuoted(FileSystem.baseName(path)))
                or let freerace run it: add --run (the build is then removed afterwards). Remove \(ws.path) when done.
                """)
        }
        return Result(scriptPath: path, finding: finding, outcome: outcome, filesAnalyzed: result.filesAnalyzed,
                      bytesAnalyzed: result.bytesAnalyzed, elapsed: result.elapsed)
    }

    /// A word for a POSIX shell: quoted when it holds anything but safe characters.
    static func shellQuoted(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:+,@%")
        if !s.isEmpty, s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
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
