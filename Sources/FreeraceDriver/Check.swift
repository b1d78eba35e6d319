import Foundation
import FreeraceModel
import FreeraceReport
import FreeraceRules
import FreeraceSyntax

/// A usage or configuration problem: the message names it; the exit status is 2.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The `check` command, independent of the argument parser so tests can call it.
public struct CheckCommand: Sendable {
    public var paths: [String] = []
    public var format: String?
    public var output: String?
    public var select: [String] = []
    public var ignore: [String] = []
    public var target: String?
    public var python: String?
    public var defines: [String] = []
    public var undefines: [String] = []
    public var jobs: Int?
    public var baseline: String?
    public var writeBaseline: String?
    public var exitZero = false
    public var quiet = false
    public var statistics = false
    /// Print the time of each phase and the peak memory to stderr (for benchmarks and bug reports).
    public var timings = false
    public var config: String?
    public var exclude: [String] = []
    public var reportUnusedSuppressions = false
    /// The path a source read from standard input (`check -`) is analyzed and reported at; its
    /// extension gives its language.
    public var stdinFilename: String?
    /// Progress on standard error: nil shows it when standard error is a terminal (after half a
    /// second, unless `quiet`); true always and from the start; false never.
    public var progress: Bool?
    /// `--color`: resolved against the environment and the output when the report is written.
    public var color: ColorChoice = .auto
    /// The environment colour choices read (`NO_COLOR`, `FORCE_COLOR`).
    public var environment: [String: String] = [:]

    public init() {}

    /// Parses `3.14` into (3, 14).
    public static func parsePython(_ s: String) throws -> (Int, Int) {
        let parts = s.split(separator: ".")
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a == 3, b >= 6, b < 100 else {
            throw UsageError("--python expects a version like 3.14, got `\(s)`")
        }
        return (a, b)
    }

    public static func parseDefines(_ ds: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for d in ds {
            let eq = d.firstIndex(of: "=")
            let name = String(d[..<(eq ?? d.endIndex)])
            guard isMacroName(name) else {
                throw UsageError("-D expects NAME or NAME=VALUE with NAME a C identifier, got `\(d)`")
            }
            out[name] = eq.map { String(d[d.index(after: $0)...]) } ?? "1"
        }
        return out
    }

    /// A C identifier: a letter or `_`, then letters, digits or `_` (ASCII).
    static func isMacroName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        return s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Splits `FR301,FR302` lists.
    /// Rule names are accepted too (`foreign-frame-walk` for FR201), as `explain` accepts them.
    static func codes(_ xs: [String]) -> [String] {
        xs.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            .map { c in RuleRegistry.all.first { $0.name == c.lowercased() }?.code ?? c }
    }

    /// The entries of a baseline file; an absent file is empty when `mayBeAbsent`.
    /// `forWriting`: the file is about to be updated, and is refused unless it is a baseline.
    static func readBaseline(_ path: String, mayBeAbsent: Bool, forWriting: Bool = false) throws -> [Baseline.Entry] {
        let st = FileSystem.status(path)
        if st == nil, mayBeAbsent { return [] }
        // a device or FIFO named as the output holds no entries to keep
        if forWriting, let k = st?.kind, k == .characterDevice || k == .fifo { return [] }
        guard let bytes = FileSystem.contents(path) else {
            throw UsageError("cannot read baseline \(path): \(String(cString: strerror(errno)))")
        }
        if forWriting, bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [] }
        do { return try Baseline.parse(bytes) } catch {
            throw UsageError(forWriting
                ? "--write-baseline \(path): the file exists and is not a freerace baseline; not overwriting it"
                : "cannot read baseline \(path): \(error)")
        }
    }

    /// `--quiet` and `--statistics` shape what people read: the text report (both) and GitHub
    /// annotations (`--quiet`: headlines without the trace). A JSON or SARIF report is read by
    /// programs and is always whole (JSON has the counts per rule in `summary.byCode`), so
    /// asking to trim it is refused rather than ignored.
    static func checkOutputOptions(format: OutputFormat, quiet: Bool, statistics: Bool) throws {
        switch format {
        case .text:
            return
        case .github:
            if statistics {
                throw UsageError("--statistics applies to the text format only (GitHub annotations are one per finding)")
            }
        case .json, .sarif:
            let counts = format == .json ? "summary.byCode has the counts per rule" : "results carry their ruleId"
            if statistics { throw UsageError("--statistics applies to the text format only (in \(format.rawValue), \(counts))") }
            if quiet { throw UsageError("--quiet applies to the text and github formats only (a \(format.rawValue) report is always whole)") }
        }
    }

    /// For `check -`: the path standard input is analyzed at, and its language. `-` without
    /// `--stdin-filename` is refused: the name gives the language and the place of the findings,
    /// and no default fits C, C++, Cython and Python alike.
    func stdinName() throws -> (path: String, language: Language)? {
        let dashes = paths.filter { $0 == "-" }.count
        guard dashes > 0 else {
            if let n = stdinFilename {
                throw UsageError("--stdin-filename \(n) names the source read from standard input: add `-` to the paths")
            }
            return nil
        }
        guard dashes == 1 else { throw UsageError("standard input (`-`) can be checked once per run") }
        guard let name = stdinFilename, !name.isEmpty else {
            throw UsageError("check -: name the source read from standard input with --stdin-filename PATH (its extension gives the language: .c, .h, .cpp, .pyx, .py, …)")
        }
        guard let language = Language.of(path: name) else {
            throw UsageError("--stdin-filename \(name): not a C, C++, Cython or Python file name (.c, .h, .cc, .cpp, .hpp, .pyx, .pxd, .py, …)")
        }
        return (name, language)
    }

    /// What one configuration file decides for the files it governs, with the command line
    /// merged in (the command line wins).
    struct Governance {
        var settings: FileSettings
        var filter: FindingFilter
    }

    /// The governance of a configuration; `baselines` caches the ids of each baseline file read.
    func govern(_ cfg: Config, baselines: inout [String: Set<String>]) throws -> Governance {
        // a value from a configuration file is named with its file
        func origin(_ fromConfig: Bool) -> String { fromConfig ? "\(cfg.source ?? "configuration"): " : "" }
        let targetName = target ?? cfg.target ?? "auto"
        guard let t = AnalysisTarget(rawValue: targetName) else {
            throw UsageError("\(origin(target == nil))--target must be one of free-threaded, gil, auto (got `\(targetName)`)")
        }
        let selectCodes = Self.codes(select.isEmpty ? (cfg.select ?? []) : select)
        // The command line wins: a configuration `ignore` entry gives way to a command-line
        // `--select` that is as specific or more (`--select FR301` beats `ignore = ["FR3"]`, but
        // `--select FR3` leaves `ignore = ["FR301"]` in force).
        let cliSelect = Self.codes(select).map { $0.uppercased() }
        let cfgIgnore = Self.codes(cfg.ignore ?? []).filter { p in
            !cliSelect.contains { $0 != "ALL" && $0.hasPrefix(p.uppercased()) }
        }
        let ignoreCodes = Self.codes(ignore) + cfgIgnore
        for (c, fromConfig) in selectCodes.map({ ($0, select.isEmpty) }) + Self.codes(ignore).map({ ($0, false) })
            + cfgIgnore.map({ ($0, true) }) where c.uppercased() != "ALL" {
            guard RuleRegistry.all.contains(where: { $0.code.hasPrefix(c.uppercased()) }) else {
                throw UsageError("\(origin(fromConfig))unknown rule code `\(c)` (see `freerace rules`)")
            }
        }
        var s = FileSettings()
        s.target = t
        if let p = python ?? cfg.python { s.pythonVersion = try Self.parsePython(p) }
        s.defines = try Self.parseDefines((cfg.define ?? []) + defines)
        s.undefines = (cfg.undefine ?? []) + undefines
        if let bad = s.undefines.first(where: { !Self.isMacroName($0) }) {
            throw UsageError("-U expects a macro NAME (a C identifier), got `\(bad)`")
        }
        for d in s.undefines { s.defines[d] = nil }
        s.includeGenerated = cfg.includeGenerated ?? false
        var baselineIDs = Set<String>()
        if let path = baseline ?? cfg.baseline {
            if let ids = baselines[path] {
                baselineIDs = ids
            } else {
                // a baseline that does not exist yet is fine when this run writes it
                baselineIDs = Set(try Self.readBaseline(path, mayBeAbsent: writeBaseline != nil).map(\.id))
                baselines[path] = baselineIDs
            }
        }
        return Governance(settings: s, filter: FindingFilter(select: selectCodes, ignore: ignoreCodes, baselineIDs: baselineIDs))
    }

    /// Runs the check; returns the exit status (0 clean, 1 findings). Throws `UsageError` for status 2.
    ///
    /// Each file is governed by its nearest configuration file (`ConfigResolver`), or by
    /// `--config` for all. Files named one by one are analyzed with the rest of their project as
    /// context, and only findings that involve them are reported (`CheckedScope`).
    public func run(stdout: (String) throws -> Void = Console.out) throws -> Int32 {
        guard !paths.isEmpty else { throw UsageError("no paths given: freerace check PATH...") }
        let stdinSource = try stdinName()
        // standard input stands for the file it names, for the configuration as for the rest
        let namedPaths = paths.map { $0 == "-" ? stdinSource?.path ?? $0 : $0 }
        let formatName = format ?? "text"
        guard let fmt = OutputFormat(rawValue: formatName) else {
            throw UsageError("--format must be one of text, json, sarif, github (got `\(formatName)`)")
        }
        try Self.checkOutputOptions(format: fmt, quiet: quiet, statistics: statistics)
        if !select.isEmpty, Self.codes(select).isEmpty {
            throw UsageError("--select needs at least one rule code or name (or ALL)")
        }
        let resolver: ConfigResolver
        do {
            resolver = try config.map { ConfigResolver(fixed: try Config.load(path: $0)) } ?? ConfigResolver()
        } catch let e as Config.Error {
            throw UsageError(e.description)
        }
        func stopOnConfigError() throws {
            if let e = resolver.error { throw UsageError(e.description) }
        }
        // the first path's configuration is the default, and the one that sets `jobs`
        let firstIndex = resolver.index(ofPath: namedPaths[0])
        try stopOnConfigError()
        var baselines: [String: Set<String>] = [:]
        var governance: [Int: Governance] = [firstIndex: try govern(resolver.configs[firstIndex], baselines: &baselines)]
        var opts = AnalysisOptions(paths: paths)
        if let j = jobs ?? resolver.configs[firstIndex].jobs {
            guard j > 0 else { throw UsageError("--jobs must be positive") }
            opts.jobs = j
        }
        let excludeFor = { (dir: String) -> [String] in
            let i = resolver.index(ofFolder: dir)  // may discover a configuration: before reading `configs`
            return resolver.configs[i].exclude ?? []
        }
        var set = SourceSet(paths: paths.filter { $0 != "-" }, exclude: exclude, excludeFor: excludeFor)
        try stopOnConfigError()
        if !set.missing.isEmpty {
            throw UsageError("path not found: \(set.missing.joined(separator: ", "))")
        }
        if let (name, language) = stdinSource {
            guard let bytes = FileSystem.readAll(0, limit: SourceLoader.maxBytes) else {
                throw UsageError("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            set.addGiven(path: name, language: language, bytes: bytes)
        }
        set.addProjectContext(exclude: exclude, excludeFor: excludeFor)
        try stopOnConfigError()
        var configOfFile: [String: Int] = [:]
        for f in set.files {
            let i = resolver.index(ofFile: f.path)
            configOfFile[f.path] = i
            if governance[i] == nil { governance[i] = try govern(resolver.configs[i], baselines: &baselines) }
        }
        try stopOnConfigError()
        let defaults = governance[firstIndex]!.settings
        opts.target = defaults.target
        opts.pythonVersion = defaults.pythonVersion
        opts.defines = defaults.defines
        opts.undefines = defaults.undefines
        opts.includeGenerated = defaults.includeGenerated
        opts.exclude = exclude
        for (path, i) in configOfFile where i != firstIndex { opts.fileSettings[path] = governance[i]!.settings }
        // the entries already in the file a run updates: kept, whatever this run finds
        let previousEntries = try writeBaseline.map { try Self.readBaseline($0, mayBeAbsent: true, forWriting: true) } ?? []

        let shown = progress ?? (Terminal.isTerminal(2) && !quiet)
        let meter = Progress(enabled: shown, delay: progress == true ? 0 : 0.5)
        // rules no configuration keeps a finding of do not run (their findings would be dropped)
        let enabled = RuleRegistry.all.filter { r in governance.values.contains { $0.filter.isSelected(r.code) } }
        let result = Analyzer.run(opts, rules: enabled, files: set, progress: meter)
        meter.finish()
        if timings {
            let mb = Double(result.bytesAnalyzed) / 1e6
            func f2(_ x: Double) -> String { String(format: "%.2f", x) }
            let line = "timings: \(f2(mb)) MB in \(counted(result.filesAnalyzed, "file")); read+parse+facts "
                + "\(f2(result.phaseSeconds.facts)) s (peak RSS \(result.peakAfterFactsMB) MB), programs+rules "
                + "\(f2(result.phaseSeconds.rules)) s (\(counted(result.projectCount, "project"))), total \(f2(result.elapsed)) s; "
                + "peak RSS \(peakRSSMegabytes()) MB\n"
            Console.err(line)
            let steps = result.stepSeconds.map { "\($0.step) \(f2($0.seconds))" }.joined(separator: ", ")
            Console.err("timings: programs+rules CPU seconds: \(steps)\n")
        }
        // Findings that involve a checked file, filtered by the configuration of the file they are
        // located in, exactly as a check of the whole project filters them.
        let scope = CheckedScope(context: set.contextFiles)
        var findingsOf: [Int: [Finding]] = [:]
        for f in result.findings where scope.involves(f) {
            findingsOf[configOfFile[f.location.path] ?? firstIndex, default: []].append(f)
        }
        var suppressionsOf: [Int: [String: [Suppression]]] = [:]
        for (path, s) in result.suppressions { suppressionsOf[configOfFile[path] ?? firstIndex, default: [:]][path] = s }
        var kept: [Finding] = []
        var baselinedFindings: [Finding] = []
        var suppressed = 0
        var unused: [(String, Suppression)] = []
        var unknown: [(path: String, suppression: Suppression, code: String)] = []
        for i in Set(findingsOf.keys).union(suppressionsOf.keys).sorted() {
            let outcome = governance[i]!.filter.apply(findingsOf[i] ?? [], suppressions: suppressionsOf[i] ?? [:])
            kept += outcome.kept
            baselinedFindings += outcome.baselinedFindings
            suppressed += outcome.suppressed
            unused += outcome.unusedSuppressions.filter { scope.isChecked($0.0) }
            unknown += outcome.unknownCodes.filter { scope.isChecked($0.path) }
        }
        unused.sort { ($0.0, $0.1.line) < ($1.0, $1.1.line) }
        if let w = writeBaseline {
            // the current findings (those the baseline hid included) plus what the file held
            let current = (kept + baselinedFindings).map(Baseline.Entry.init)
            try OutputFile.write(Baseline.encode(previousEntries + current), to: w)
        }
        // a suppression that names no rule suppresses nothing: always worth a warning
        let unknownCodes = unknown.map { u in
            FileWarning(path: u.path, line: u.suppression.line,
                        message: "suppression names unknown rule code `\(u.code)`; it suppresses nothing (see `freerace rules`)")
        }
        let targets = Set(governance.values.map(\.settings.target))
        var report = Report(
            findings: Analyzer.sortFindings(kept.map(scope.relocated)),
            filesAnalyzed: result.filesAnalyzed - result.contextFilesAnalyzed, bytesAnalyzed: result.bytesAnalyzed,
            elapsedSeconds: result.elapsed, warnings: result.warnings.filter { scope.isChecked($0.path) } + unknownCodes,
            modules: result.modules.filter { scope.isChecked($0.file) },
            target: targets.count == 1 ? targets.first!.rawValue : "mixed", suppressed: suppressed,
            baselined: baselinedFindings.count,
            unusedSuppressions: reportUnusedSuppressions
                ? unused.map { UnusedSuppression(path: $0.0, line: $0.1.line, codes: $0.1.codes, fileLevel: $0.1.fileLevel) }
                : [])
        report.contextFiles = result.contextFilesAnalyzed
        let toStdout = output == nil || output == "-"
        let useColor = fmt == .text && color.enabled(isTerminal: toStdout && Terminal.isTerminal(1), environment: environment)
        let options = Renderer.Options(color: useColor, statistics: statistics, quiet: quiet,
                                       sourceRoot: fmt == .sarif ? ReportSupport.sarifSourceRoot() : nil)
        let lines = ReportSupport.lineReader(overrides: set.given)
        let text = Renderer.render(report, format: fmt, rules: RuleRegistry.all, options: options, lines: lines)
        // beside a text report, warnings about the inputs go to standard error, as a compiler's do
        // (the other formats carry them inside)
        if fmt == .text { Console.err(Renderer.warningText(report, lines: lines)) }
        if let o = output, o != "-" {
            try OutputFile.write(text, to: o)
        } else {
            try stdout(text)
        }
        // writing a baseline records the findings: that run succeeded
        return kept.isEmpty || exitZero || writeBaseline != nil ? 0 : 1
    }
}

/// Peak resident set size of this process (VmHWM), in MB; 0 where /proc is missing.
func peakRSSMegabytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}
