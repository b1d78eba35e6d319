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
    public var color = false

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
        let formatName = format ?? "text"
        guard let fmt = OutputFormat(rawValue: formatName) else {
            throw UsageError("--format must be one of text, json, sarif, github (got `\(formatName)`)")
        }
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
        let firstIndex = resolver.index(ofPath: paths[0])
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
        var set = SourceSet(paths: paths, exclude: exclude, excludeFor: excludeFor)
        try stopOnConfigError()
        if !set.missing.isEmpty {
            throw UsageError("path not found: \(set.missing.joined(separator: ", "))")
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

        let result = Analyzer.run(opts, files: set)
        if timings {
            let mb = Double(result.bytesAnalyzed) / 1e6
            let line = String(format: "timings: %.2f MB in %d files; read+parse+facts %.2f s (peak RSS %d MB), programs+rules %.2f s (%d projects), total %.2f s; peak RSS %d MB\n",
                              mb, result.filesAnalyzed, result.phaseSeconds.facts, result.peakAfterFactsMB,
                              result.phaseSeconds.rules, result.projectCount, result.elapsed, peakRSSMegabytes())
            Console.err(line)
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
        for i in Set(findingsOf.keys).union(suppressionsOf.keys).sorted() {
            let outcome = governance[i]!.filter.apply(findingsOf[i] ?? [], suppressions: suppressionsOf[i] ?? [:])
            kept += outcome.kept
            baselinedFindings += outcome.baselinedFindings
            suppressed += outcome.suppressed
            unused += outcome.unusedSuppressions.filter { scope.isChecked($0.0) }
        }
        unused.sort { ($0.0, $0.1.line) < ($1.0, $1.1.line) }
        if let w = writeBaseline {
            // the current findings (those the baseline hid included) plus what the file held
            let current = (kept + baselinedFindings).map(Baseline.Entry.init)
            try OutputFile.write(Baseline.encode(previousEntries + current), to: w)
        }
        let targets = Set(governance.values.map(\.settings.target))
        var report = Report(
            findings: Analyzer.sortFindings(kept.map(scope.relocated)),
            filesAnalyzed: result.filesAnalyzed - result.contextFilesAnalyzed, bytesAnalyzed: result.bytesAnalyzed,
            elapsedSeconds: result.elapsed, warnings: result.warnings.filter { scope.isChecked($0.path) },
            modules: result.modules.filter { scope.isChecked($0.file) },
            target: targets.count == 1 ? targets.first!.rawValue : "mixed", suppressed: suppressed,
            baselined: baselinedFindings.count,
            unusedSuppressions: reportUnusedSuppressions ? unused.map { "\($0.0):\($0.1.line)" } : [])
        report.contextFiles = result.contextFilesAnalyzed
        var cache: [String: [Substring]] = [:]
        let text = Renderer.render(report, format: fmt, rules: RuleRegistry.all, color: color && (output == nil || output == "-"),
                                   statistics: statistics, quiet: quiet) { path, line in
            if cache[path] == nil {
                let s = FileSystem.text(path) ?? ""
                cache[path] = s.split(separator: "\n", omittingEmptySubsequences: false)
            }
            guard let lines = cache[path], line >= 1, line <= lines.count else { return nil }
            return String(lines[line - 1]).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
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
