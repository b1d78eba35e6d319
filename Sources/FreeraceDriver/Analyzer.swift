import Foundation
import FreeraceModel
import FreeraceReport
import FreeracePython
import FreeraceRules
import FreeraceSyntax

/// What a configuration decides about how the files it governs are read.
public struct FileSettings: Sendable {
    public var target: AnalysisTarget = .auto
    public var pythonVersion: (major: Int, minor: Int)?
    public var defines: [String: String] = [:]
    public var undefines: [String] = []
    public var includeGenerated = false

    public init() {}
}

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
    /// Files governed by other settings than the ones above (another configuration file is
    /// nearer to them), by path as spelled in the `SourceSet`.
    public var fileSettings: [String: FileSettings] = [:]

    public init(paths: [String]) { self.paths = paths }

    /// The options that apply to one file.
    public func forFile(_ path: String) -> AnalysisOptions {
        guard let s = fileSettings[path] else { return self }
        var o = self
        o.target = s.target
        o.pythonVersion = s.pythonVersion
        o.defines = s.defines
        o.undefines = s.undefines
        o.includeGenerated = s.includeGenerated
        return o
    }
}

/// Everything a run produced before filtering and rendering.
public struct AnalysisResult: Sendable {
    public var findings: [Finding]
    public var warnings: [FileWarning]
    /// The Python modules found, with whether the free-threading rules applied and why.
    /// (Programs themselves are dropped as soon as their rules have run: they hold most of a
    /// run's memory.)
    public var modules: [Report.ModuleStatus]
    /// How many programs (projects) were analyzed.
    public var projectCount: Int
    /// Files analyzed, context files included.
    public var filesAnalyzed: Int
    /// Of those, files read only as context (`SourceSet.contextFiles`).
    public var contextFilesAnalyzed = 0
    public var bytesAnalyzed: Int
    public var suppressions: [String: [Suppression]]
    public var elapsed: Double
    /// Wall seconds of the phases: reading + parsing + facts, then programs + rules.
    public var phaseSeconds: (facts: Double, rules: Double) = (0, 0)
    /// Peak resident memory (MB) when the facts phase ended; 0 where unknown.
    public var peakAfterFactsMB = 0
    /// Thread CPU seconds per step of the programs phase, summed over projects: `program` (building
    /// each program), `lifetimes` (the lifetime summaries the groups of rules share), then each
    /// rule by code. Other summaries are counted to the rule that asks for them first.
    public var stepSeconds: [(step: String, seconds: Double)] = []
}

public enum Analyzer {
    /// Reads, parses and extracts facts for every file, in parallel.
    ///
    /// Under `--target auto`, a project that declares free-threading support anywhere
    /// (`Py_MOD_GIL_NOT_USED`, `PyUnstable_Module_SetGIL`, Cython's `freethreading_compatible`)
    /// is read with `Py_GIL_DISABLED` defined: the free-threading rules judge the code a
    /// free-threaded build compiles, not a `#ifndef Py_GIL_DISABLED` branch it never runs.
    public static func facts(_ options: AnalysisOptions, set: SourceSet, progress: Progress = .off)
        -> (facts: [FileFacts], warnings: [FileWarning], bytes: Int) {
        let files = set.files
        let roots = projectRoots(files.map(\.path))
        // Files are read twice rather than all held at once: a first byte scan for free-threading
        // declarations (auto target), then each file is read again right before it is parsed, so
        // the run never keeps the whole corpus in memory next to its facts.
        @Sendable func load(_ i: Int) -> SourceLoader.Outcome { set.load(files[i].path, language: files[i].language) }
        var freeThreadedProjects = Set<String>()
        if files.contains(where: { options.forFile($0.path).target == .auto }) {
            let declares = parallelMap(count: files.count, jobs: options.jobs) { i -> Bool in
                guard options.forFile(files[i].path).target == .auto else { return false }
                if case .success(let bytes) = set.readBytes(files[i].path) { return declaresFreeThreading(bytes) }
                return false
            }
            for i in files.indices where declares[i] { freeThreadedProjects.insert(roots[i]) }
        }
        // Headers first: their macros (lock wrappers, places) serve the sources of their project.
        let isHeader = files.map { f in
            (f.language == .c || f.language == .cpp) && [".h", ".hh", ".hpp", ".hxx"].contains { f.path.lowercased().hasSuffix($0) }
        }
        // largest first: the last file a worker takes is a small one, so no core waits for a
        // 2 MB amalgamation started at the end (results go back in file order)
        let sizes = files.map { set.givenSize($0.path) ?? FileSystem.status($0.path)?.size ?? 0 }
        func largestFirst(_ a: Int, _ b: Int) -> Bool { (sizes[a], b) > (sizes[b], a) }
        let headerIndices = files.indices.filter { isHeader[$0] }.sorted(by: largestFirst)
        let otherIndices = files.indices.filter { !isHeader[$0] }.sorted(by: largestFirst)
        let ft = freeThreadedProjects
        progress.phase("parsing", total: files.count, noun: "file", plural: "files")
        let headerResults = parallelMap(count: headerIndices.count, jobs: options.jobs) { k -> (FileFacts?, FileWarning?, Int) in
            let i = headerIndices[k]
            defer { progress.step() }
            return extractLoaded(load(i), options: options, freeThreaded: ft.contains(roots[i]), macros: ProjectMacros())
        }
        var macros: [String: ProjectMacros] = [:]
        for (k, r) in headerResults.enumerated() {
            if let f = r.0 { macros[roots[headerIndices[k]], default: ProjectMacros()].add(f) }
        }
        let projectMacros = macros
        let otherResults = parallelMap(count: otherIndices.count, jobs: options.jobs) { k -> (FileFacts?, FileWarning?, Int) in
            let i = otherIndices[k]
            defer { progress.step() }
            return extractLoaded(load(i), options: options, freeThreaded: ft.contains(roots[i]),
                                 macros: projectMacros[roots[i]] ?? ProjectMacros())
        }
        // back in file order
        var results = Array(repeating: (FileFacts?.none, FileWarning?.none, 0), count: files.count)
        for (k, r) in headerResults.enumerated() { results[headerIndices[k]] = r }
        for (k, r) in otherResults.enumerated() { results[otherIndices[k]] = r }
        return collect(results, set: set)
    }

    static func extractLoaded(_ o: SourceLoader.Outcome, options: AnalysisOptions, freeThreaded: Bool,
                              macros: ProjectMacros) -> (FileFacts?, FileWarning?, Int) {
        switch o {
        case .skipped(let w):
            return (nil, w, 0)
        case .source(let src):
            var opts = options.forFile(src.path)
            if !opts.includeGenerated, SourceLoader.isGeneratedByCython(src) { return (nil, nil, 0) }
            if SourceLoader.isReproScript(src) { return (nil, nil, 0) }
            if freeThreaded { opts.defines["Py_GIL_DISABLED"] = opts.defines["Py_GIL_DISABLED"] ?? "1" }
            return (extract(src, options: opts, macros: macros), nil, src.bytes.count)
        }
    }

    static func collect(_ results: [(FileFacts?, FileWarning?, Int)], set: SourceSet)
        -> (facts: [FileFacts], warnings: [FileWarning], bytes: Int) {
        var facts: [FileFacts] = []
        var warnings = set.warnings
        var bytes = 0
        for (f, w, b) in results {
            if let f {
                facts.append(f)
                for m in f.warnings { warnings.append(FileWarning(path: f.path, line: m.line, column: m.column, message: m.message)) }
            }
            if let w { warnings.append(w) }
            bytes += b
        }
        return (facts, warnings, bytes)
    }

    static func extract(_ src: SourceFile, options: AnalysisOptions, macros: ProjectMacros = ProjectMacros()) -> FileFacts {
        switch src.language {
        case .c, .cpp:
            let env = MacroEnvironment.forAnalysis(language: src.language, target: options.target,
                                                   pythonVersion: options.pythonVersion, defines: options.defines,
                                                   undefines: options.undefines)
            return CFactExtractor.parseAndExtract(src, env: env, projectMacros: macros)
        case .cython, .python:
            let parsed = PythonFrontend.parse(path: src.path, bytes: src.bytes, isCython: src.language == .cython)
            return PyFactExtractor.extract(parsed, language: src.language)
        }
    }

    /// Whether a source declares that its module runs without the GIL (a byte scan).
    static func declaresFreeThreading(_ bytes: [UInt8]) -> Bool {
        ByteCursor.containsAny(bytes, ["Py_MOD_GIL_NOT_USED", "PyUnstable_Module_SetGIL", "freethreading_compatible"])
    }

    /// The whole pipeline: files → facts → one program per project → rules → sorted findings.
    /// `progress` hears of each file parsed and each project analyzed.
    public static func run(_ options: AnalysisOptions, rules: [any Rule] = RuleRegistry.all,
                           files: SourceSet? = nil, progress: Progress = .off) -> AnalysisResult {
        let start = Date()
        // the caller may have walked the paths already (to report missing ones): once is enough
        let set = files ?? SourceSet(paths: options.paths, exclude: options.exclude)
        // the facts are handed to their programs one project at a time and go with them
        let (pending, roots, sizes, sups, filesAnalyzed, contextFiles, warnings, bytes) = { () -> (Handoff<[FileFacts]>, [String], [Int], [String: [Suppression]], Int, Int, [FileWarning], Int) in
            let (facts, warnings, bytes) = Self.facts(options, set: set, progress: progress)
            let contextFiles = set.contextFiles.isEmpty ? 0 : facts.count(where: { set.contextFiles.contains($0.path) })
            var sups: [String: [Suppression]] = [:]
            for f in facts where !f.suppressions.isEmpty { sups[f.path] = f.suppressions }
            let groups = projects(facts)
            let sizes = groups.map { g in g.files.reduce(0) { $0 + $1.functions.count } }
            return (Handoff(groups.map(\.files)), groups.map(\.root), sizes, sups, facts.count, contextFiles, warnings, bytes)
        }()
        let factsDone = Date()
        let peakAfterFacts = peakRSSMegabytes()
        // Each program's rules run on worker threads with large stacks (summaries recurse along
        // call chains), one per group of rules; projects run in parallel, largest first: the
        // serial parts of the largest program (its build, a group of rules longer than the other)
        // then overlap with the small projects instead of running alone at the end.
        let order = sizes.indices.sorted { (sizes[$0], $1) > (sizes[$1], $0) }
        progress.phase("analyzing", total: order.count, noun: "project", plural: "projects")
        let perProject = parallelMap(count: order.count, jobs: options.jobs) { k -> (Int, [Report.ModuleStatus], [Finding], [Double]) in
            let i = order[k]
            defer { progress.step() }
            var clock = threadCPUSeconds()
            var steps: [Double] = []
            func lap() { let now = threadCPUSeconds(); steps.append(now - clock); clock = now }
            var program = Program(files: pending.take(i), target: options.target)
            if !options.fileSettings.isEmpty {
                for f in program.files {
                    let t = options.forFile(f.path).target
                    if t != options.target { program.fileTargets[f.path] = t }
                }
            }
            lap()
            // one context per group of rules, the groups on threads of their own (see `RuleGroup`)
            let groups = Dictionary(grouping: rules.indices, by: { rules[$0].group }).sorted { $0.key < $1.key }.map(\.value)
            let shared = program
            // the lifetime summaries every group starts from, computed once
            let runner = ThreadRunner(jobs: options.jobs)
            let lifetimes = groups.count > 1 ? RuleContext(program: program, runner: runner).lifetimeSummaries() : nil
            lap()
            let byGroup = parallelMap(count: groups.count, jobs: options.jobs) { g -> [(Int, [Finding], Double)] in
                let ctx = RuleContext(program: shared, lifetimes: lifetimes, runner: runner)
                var clock = threadCPUSeconds()
                return groups[g].map { r in
                    let found = rules[r].check(ctx)
                    let now = threadCPUSeconds()
                    defer { clock = now }
                    return (r, found, now - clock)
                }
            }.flatMap { $0 }.sorted { $0.0 < $1.0 }
            var all = byGroup.flatMap(\.1)
            steps += byGroup.map(\.2)
            // ids name the file relative to its project root, which this run already knows
            for j in all.indices {
                all[j].assignID(projectRelativePath: ProjectRoots.relativePath(FileSystem.absolute(all[j].location.path), root: roots[i]))
            }
            let modules = program.modules.map { m in
                let ft = program.freeThreading(file: m.file)
                return Report.ModuleStatus(module: m.name, file: m.file, freeThreadingRules: ft.applies, reason: ft.reason)
            }
            return (i, modules, all, steps)
        }.sorted { $0.0 < $1.0 }
        var result = AnalysisResult(findings: sortFindings(perProject.flatMap(\.2)), warnings: warnings,
                              modules: perProject.flatMap(\.1), projectCount: order.count,
                              filesAnalyzed: filesAnalyzed, bytesAnalyzed: bytes, suppressions: sups,
                              elapsed: Date().timeIntervalSince(start))
        result.peakAfterFactsMB = peakAfterFacts
        result.contextFilesAnalyzed = contextFiles
        let names = ["program", "lifetimes"] + rules.map(\.code)
        result.stepSeconds = names.indices.map { s in (names[s], perProject.reduce(0) { $0 + $1.3[s] }) }
        result.phaseSeconds = (factsDone.timeIntervalSince(start), Date().timeIntervalSince(factsDone))
        return result
    }

    /// Files grouped by project: the nearest ancestor directory holding `pyproject.toml`,
    /// `setup.py`, `setup.cfg` or `.git`. Each project is its own program, so two packages
    /// analyzed in one run never resolve each other's functions, structs or globals by name.
    /// Groups keep the order of `facts`; files under no marker form one group.
    public static func projects(_ facts: [FileFacts]) -> [(root: String, files: [FileFacts])] {
        let roots = projectRoots(facts.map(\.path))
        var order: [String] = []
        var groups: [String: [FileFacts]] = [:]
        for (i, f) in facts.enumerated() {
            let r = roots[i]
            if groups[r] == nil { order.append(r) }
            groups[r, default: []].append(f)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// The project root of each path (see `projects`), as absolute directory paths; "" for none.
    public static func projectRoots(_ paths: [String]) -> [String] {
        var finder = ProjectRoots()
        return paths.map { finder.root(ofFile: $0) }
    }

    /// Deterministic order: path, line, column, code, id.
    public static func sortFindings(_ f: [Finding]) -> [Finding] {
        f.sorted {
            ($0.location.path, $0.location.line, $0.location.column, $0.code, $0.id)
                < ($1.location.path, $1.location.line, $1.location.column, $1.code, $1.id)
        }
    }
}
