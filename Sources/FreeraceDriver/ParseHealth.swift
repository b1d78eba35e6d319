import Foundation
import FreeraceModel
import FreeracePython
import FreeraceSyntax

extension ParseStats {
    /// Parses every file under `paths` and measures parse health. Cython-generated C is left out
    /// (it is analyzed through its `.pyx`).
    public static func measure(paths: [String], jobs: Int, showRecovered: Bool = false) -> ParseStats {
        measure(set: SourceSet(paths: paths), jobs: jobs, showRecovered: showRecovered)
    }

    /// The same over files already found (the command line finds them once, to report missing paths).
    public static func measure(set: SourceSet, jobs: Int, showRecovered: Bool = false) -> ParseStats {
        let files = set.files
        struct One: Sendable {
            var language: FreeraceSyntax.Language?
            var stats = ParseStats.Language()
            var warning: FileWarning?
            var generated = false
            var recovered: [String] = []
        }
        let results = parallelMap(count: files.count, jobs: jobs) { i -> One in
            let (path, lang) = files[i]
            var one = One()
            switch SourceLoader.load(path: path, language: lang) {
            case .skipped(let w):
                one.warning = w
                return one
            case .source(let src):
                if SourceLoader.isGeneratedByCython(src) {
                    one.generated = true
                    return one
                }
                one.language = src.language
                one.stats.files = 1
                one.stats.bytes = src.bytes.count
                let health = FileParseHealth.measure(src)
                one.stats.functions = health.functions
                one.stats.clean = health.clean
                one.stats.recovered = health.functions - health.clean
                one.stats.recoveredRegions = health.fileScopeRecoveries
                if showRecovered { one.recovered = health.recoveredAt }
                return one
            }
        }
        var stats = ParseStats()
        for r in results {
            if let w = r.warning { stats.skipped.append(w) }
            if r.generated { stats.generatedSkipped += 1 }
            if let l = r.language { stats.languages[l.rawValue, default: .init()].add(r.stats) }
            stats.recoveredFunctions.append(contentsOf: r.recovered)
        }
        stats.skipped.append(contentsOf: set.warnings)
        return stats
    }
}

/// Parse health of one file, for any language.
public struct FileParseHealth: Sendable {
    public var functions = 0
    public var clean = 0
    public var fileScopeRecoveries = 0
    /// `path:line: function` for each function that needed recovery.
    public var recoveredAt: [String] = []

    public static func measure(_ src: SourceFile) -> FileParseHealth {
        var h = FileParseHealth()
        switch src.language {
        case .c, .cpp:
            let env = MacroEnvironment.forAnalysis(language: src.language, target: .auto)
            let parsed = CFrontend.parse(src, env: env, policy: CAPI.macroExpansionPolicy)
            h.functions = parsed.functions.count
            // recoveries sorted once; a function's recoveries are one contiguous run of them
            // (linear in functions + recoveries: a file of 100k stray brackets has 100k recoveries)
            let recoveries = parsed.recoveryTokens.sorted()
            var inFunction = [Bool](repeating: false, count: recoveries.count)
            func excerpt(_ line: Int) -> String {
                let text = src.lineText(line)
                let short = text.utf8.count > 160 ? String(text.prefix(160)) + "…" : text
                return short.trimmingCharacters(in: .whitespaces)
            }
            for f in parsed.functions {
                let n = parsed.tree[f.node]
                var lo = 0, hi = recoveries.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if recoveries[mid] < n.firstTok { lo = mid + 1 } else { hi = mid }
                }
                var k = lo
                while k < recoveries.count, recoveries[k] <= n.lastTok {
                    inFunction[k] = true
                    k += 1
                }
                if k > lo {
                    let loc = parsed.location(of: recoveries[lo])
                    h.recoveredAt.append("\(loc.path):\(loc.line):\(loc.column): \(excerpt(loc.line))")
                } else {
                    h.clean += 1
                }
            }
            for (k, r) in recoveries.enumerated() where !inFunction[k] {
                h.fileScopeRecoveries += 1
                if h.recoveredAt.count < 1000 {
                    let loc = parsed.location(of: r)
                    h.recoveredAt.append("file-scope \(loc.path):\(loc.line):\(loc.column): \(excerpt(loc.line))")
                }
            }
        case .cython, .python:
            let parsed = PythonFrontend.parse(path: src.path, bytes: src.bytes, isCython: src.language == .cython)
            h.functions = parsed.functionCount
            h.clean = parsed.functionCount - parsed.recoveredFunctionCount
            h.fileScopeRecoveries = parsed.fileScopeRecoveries
        }
        return h
    }
}

/// The syntax tree of one file as text, for `freerace debug-parse`.
public func debugParse(path: String) -> String {
    guard let lang = FreeraceSyntax.Language.of(path: path) else { return "unknown language" }
    switch SourceLoader.load(path: path, language: lang) {
    case .skipped(let w): return w.message
    case .source(let src):
        let parsed = CFrontend.parse(src, env: .forAnalysis(language: lang, target: .auto))
        return parsed.dump()
    }
}
