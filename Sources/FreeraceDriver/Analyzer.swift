import Foundation
import FreeraceModel
import FreeracePython
import FreeraceRules
import FreeraceSyntax

/// Options of one analysis run (from the command line and configuration).
public struct AnalysisOptions: Sendable {
    public var paths: [String]
    public var target: AnalysisTarget = .auto
    public var pythonVersion: (major: Int, minor: Int)?
    public var defines: [String: String] = [:]
    public var undefines: [String] = []
    public var jobs: Int = defaultJobs
    public var exclude: [String] = []
    public var includeGenerated = false

    public init(paths: [String]) { self.paths = paths }
}

/// Everything a run produced before filtering and rendering.
public struct AnalysisResult: Sendable {
    public var findings: [Finding]
    public var warnings: [FileWarning]
    public var program: Program
    public var filesAnalyzed: Int
    public var bytesAnalyzed: Int
    public var suppressions: [String: [Suppression]]
    public var elapsed: Double
}

public enum Analyzer {
    /// Reads, parses and extracts facts for every file, in parallel.
    public static func facts(_ options: AnalysisOptions, set: SourceSet)
        -> (facts: [FileFacts], warnings: [FileWarning], bytes: Int) {
        let files = set.files
        let results = parallelMap(count: files.count, jobs: options.jobs) { i -> (FileFacts?, FileWarning?, Int) in
            let (path, lang) = files[i]
            switch SourceLoader.load(path: path, language: lang) {
            case .skipped(let w):
                return (nil, w, 0)
            case .source(let src):
                if !options.includeGenerated, SourceLoader.isGeneratedByCython(src) { return (nil, nil, 0) }
                return (extract(src, options: options), nil, src.bytes.count)
            }
        }
        var facts: [FileFacts] = []
        var warnings = set.warnings
        var bytes = 0
        for (f, w, b) in results {
            if let f {
                facts.append(f)
                for m in f.warnings { warnings.append(FileWarning(path: f.path, message: m)) }
            }
            if let w { warnings.append(w) }
            bytes += b
        }
        return (facts, warnings, bytes)
    }

    static func extract(_ src: SourceFile, options: AnalysisOptions) -> FileFacts {
        switch src.language {
        case .c, .cpp:
            let env = MacroEnvironment.forAnalysis(language: src.language, target: options.target,
                                                   pythonVersion: options.pythonVersion, defines: options.defines,
                                                   undefines: options.undefines)
            return CFactExtractor.extract(CFrontend.parse(src, env: env))
        case .cython, .python:
            let parsed = PythonFrontend.parse(path: src.path, bytes: src.bytes, isCython: src.language == .cython)
            return PyFactExtractor.extract(parsed, language: src.language)
        }
    }

    /// The whole pipeline: files → facts → program → rules → sorted findings.
    public static func run(_ options: AnalysisOptions, rules: [any Rule] = RuleRegistry.all) -> AnalysisResult {
        let start = Date()
        let set = SourceSet(paths: options.paths, exclude: options.exclude)
        let (facts, warnings, bytes) = Self.facts(options, set: set)
        let program = Program(files: facts, target: options.target)
        // Rules run on one thread with a large stack: summaries recurse along call chains.
        let findings = parallelMap(count: 1, jobs: 1) { _ -> [Finding] in
            let ctx = RuleContext(program: program)
            var all: [Finding] = []
            for r in rules { all.append(contentsOf: r.check(ctx)) }
            return all
        }[0]
        var sups: [String: [Suppression]] = [:]
        for f in facts where !f.suppressions.isEmpty { sups[f.path] = f.suppressions }
        return AnalysisResult(findings: sortFindings(findings), warnings: warnings, program: program,
                              filesAnalyzed: facts.count, bytesAnalyzed: bytes, suppressions: sups,
                              elapsed: Date().timeIntervalSince(start))
    }

    /// Deterministic order: path, line, column, code, id.
    public static func sortFindings(_ f: [Finding]) -> [Finding] {
        f.sorted {
            ($0.location.path, $0.location.line, $0.location.column, $0.code, $0.id)
                < ($1.location.path, $1.location.line, $1.location.column, $1.code, $1.id)
        }
    }
}
