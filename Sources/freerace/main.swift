import ArgumentParser
import Foundation
import FreeraceDriver
import FreeraceReport
import FreeraceRules
import FreeraceSyntax

struct Freerace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freerace",
        abstract: "Finds concurrency lifetime bugs in Python's native layer: memory freed by one thread while another still uses it.",
        version: "freerace \(Renderer.toolVersion)",
        subcommands: [Check.self, Rules.self, Explain.self, Repro.self, ParseStatsCommand.self, GenerateDocs.self,
                      DebugParseCommand.self, DebugModelCommand.self],
        defaultSubcommand: nil
    )
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Analyze files or directories (C, C++, Cython, Python).")

    @Argument(help: "Files or directories to analyze (default: the current folder); `-` reads a source from standard input.")
    var paths: [String] = []
    @Option(name: .customLong("stdin-filename"), help: "The path of the source read from standard input (`-`): its language and where findings are reported.")
    var stdinFilename: String?
    @Option(help: "Output format: text, json, sarif, github.") var format: String?
    @Option(name: [.short, .customLong("output")], help: "Write the report to a file.") var output: String?
    @Option(help: "Only these rule codes or prefixes (comma-separated, repeatable).") var select: [String] = []
    @Option(help: "Skip these rule codes or prefixes (comma-separated, repeatable).") var ignore: [String] = []
    @Option(help: "free-threaded, gil, or auto (follow each module's Py_mod_gil declaration).") var target: String?
    @Option(help: "Python version for #if conditions, e.g. 3.14.") var python: String?
    // compiler spellings: `-DNAME=V`, `-DNAME`, `-UNAME` as well as `-D NAME=V`, `-U NAME`
    @Option(name: .customShort("D", allowingJoined: true), help: "Define a macro for #if conditions: NAME or NAME=VALUE.")
    var define: [String] = []
    @Option(name: .customShort("U", allowingJoined: true), help: "Undefine a macro for #if conditions.") var undefine: [String] = []
    @Option(help: "Parallel jobs (default: number of cores).") var jobs: Int?
    @Option(help: "Ignore findings listed in this baseline file.") var baseline: String?
    @Option(name: .customLong("write-baseline"), help: "Write the current findings to a baseline file.") var writeBaseline: String?
    @Option(help: "Exclude paths matching a glob (repeatable).") var exclude: [String] = []
    @Option(help: "Configuration file (default: .freerace.toml or pyproject.toml [tool.freerace]).") var config: String?
    @Flag(name: .customLong("exit-zero"), help: "Exit 0 even when there are findings.") var exitZero = false
    @Flag(help: "Print only headlines and the summary.") var quiet = false
    @Flag(help: "Print counts per rule.") var statistics = false
    @Flag(help: "Print the time of each phase and peak memory to stderr.") var timings = false
    @Flag(name: .customLong("report-unused-suppressions"), help: "Warn about suppression comments that match nothing.")
    var reportUnusedSuppressions = false
    @Flag(inversion: .prefixedNo,
          help: "Show progress on stderr (default: when stderr is a terminal and the run takes over half a second, not with --quiet).")
    var progress: Bool?
    @Option(help: "Colour the text report: auto (on a terminal; NO_COLOR and FORCE_COLOR apply), always, never.")
    var color: String = "auto"

    func run() throws {
        var c = CheckCommand()
        c.paths = paths.isEmpty ? ["."] : paths
        c.format = format
        c.output = output
        c.select = select
        c.ignore = ignore
        c.target = target
        c.python = python
        c.defines = define
        c.undefines = undefine
        c.jobs = jobs
        c.baseline = baseline
        c.writeBaseline = writeBaseline
        c.exitZero = exitZero
        c.quiet = quiet
        c.statistics = statistics
        c.timings = timings
        c.config = config
        c.exclude = exclude
        c.reportUnusedSuppressions = reportUnusedSuppressions
        c.stdinFilename = stdinFilename
        c.progress = progress
        guard let choice = ColorChoice(rawValue: color) else {
            throw UsageError("--color must be one of auto, always, never (got `\(color)`)")
        }
        c.color = choice
        c.environment = ProcessInfo.processInfo.environment
        let status = try c.run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Write (and optionally build and run) a threaded stress test that tries to confirm a finding.",
        discussion: """
            --build copies the project to a throwaway folder and builds it there, in a venv: your \
            tree is only read. With --run the build is removed afterwards; without, it is kept and \
            the command to run the script with it is printed.

            Exit statuses: 0 the script was written (and built), or it ran and saw no failure; \
            1 it ran and the race reproduced (a crash, or an exception showing corrupted state); \
            2 usage error; 3 the build failed, or the script could not run its stress (module, \
            type or methods not found); 4 the Python interpreter (--python) was not found.
            """)
    @Argument(help: "The finding id (from the report), or a unique prefix.") var id: String
    @Argument(help: "Files or directories to re-analyze (default: .).") var paths: [String] = ["."]
    @Flag(help: "Build a throwaway copy of the project into a throwaway venv first.") var build = false
    @Flag(name: .customLong("run"), help: "Run the script and record the outcome in the finding.") var runScript = false
    @Option(help: "How long to stress, in seconds.") var seconds: Int = 30
    @Option(help: "Python interpreter to build and run with.") var python: String = "python3"
    // `.unconditional`: `--cpu -1` is a value, not an unknown option
    @Option(parsing: .unconditional, help: "Pin the run to this CPU with taskset (-1: do not pin).") var cpu: Int = 0
    @Option(name: [.short, .customLong("output")], help: "Where to write the script.") var output: String?
    @Option(help: "Python module to import (default: from the finding).") var module: String?
    @Option(name: .customLong("type"), help: "Python type to instantiate (default: from the finding).") var typeName: String?
    @Option(help: "free-threaded, gil or auto, as for check.") var target: String?
    @Option(help: "Output format for the finding with its outcome: text, json, sarif.") var format: String = "text"

    func run() throws {
        var c = ReproCommand()
        c.id = id
        c.paths = paths
        c.build = build
        c.run = runScript
        c.seconds = seconds
        c.python = python
        c.cpu = cpu < 0 ? nil : cpu
        c.output = output
        c.module = module
        c.typeName = typeName
        c.target = target
        c.format = format
        let status = try c.execute()
        if status != 0 { throw ExitCode(status) }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "List the rules.")
    @Flag var json = false
    func run() throws {
        if json {
            let list = RuleRegistry.all.map { ["code": $0.code, "name": $0.name, "summary": $0.summary, "maturity": $0.maturity.rawValue] }
            let data = try JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys])
            try Console.out(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        for r in RuleRegistry.all {
            try Console.out("\(r.code)  \(r.name.padding(toLength: 42, withPad: " ", startingAt: 0)) \(r.maturity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(r.summary)\n")
        }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Explain a rule: what, why, example, fix.")
    @Argument(help: "Rule code, e.g. FR301.") var code: String
    func run() throws {
        guard let r = RuleRegistry.rule(code) ?? RuleRegistry.all.first(where: { $0.name == code }) else {
            throw UsageError("unknown rule `\(code)` (see `freerace rules`)")
        }
        try Console.out(RuleDocs.text(r))
    }
}

struct GenerateDocs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-docs", abstract: "Write docs/rules/*.md from the rules' documentation.", shouldDisplay: false)
    @Argument(help: "Output directory.") var directory: String = "docs/rules"
    func run() throws {
        if !FileSystem.isDirectory(directory), mkdir(directory, 0o777) != 0 {
            throw UsageError("cannot create folder \(directory): \(String(cString: strerror(errno)))")
        }
        for (name, text) in RuleDocs.files() {
            try OutputFile.write(text, to: FileSystem.join(directory, name))
        }
    }
}

struct ParseStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse-stats", abstract: "Measure parse health on real code.")
    @Argument(help: "Files or directories.") var paths: [String]
    @Flag(help: "JSON output.") var json = false
    @Flag(name: .customLong("show-recovered"), help: "List functions whose body needed recovery.") var showRecovered = false
    @Option(help: "Parallel jobs.") var jobs: Int?

    func run() throws {
        if let j = jobs, j <= 0 { throw UsageError("--jobs must be positive") }
        let set = SourceSet(paths: paths)
        if !set.missing.isEmpty { throw UsageError("path not found: \(set.missing.joined(separator: ", "))") }
        let stats = ParseStats.measure(set: set, jobs: jobs ?? defaultJobs, showRecovered: showRecovered)
        if json {
            try Console.out(stats.jsonText() + "\n")
            return
        }
        for r in stats.recoveredFunctions.sorted() { try Console.out("recovered: \(r)\n") }
        try Console.out(stats.text())
    }
}

struct DebugParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debug-parse", abstract: "Print the syntax tree of a file.", shouldDisplay: false)
    @Argument var path: String
    func run() throws { try Console.out(debugParse(path: path) + "\n") }
}

struct DebugModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debug-model", abstract: "Print the program model.", shouldDisplay: false)
    @Argument var paths: [String]
    @Option var function: String?
    @Option var target: String = "auto"
    func run() throws {
        try Console.out(debugModel(paths: paths, target: AnalysisTarget(rawValue: target) ?? .auto, function: function) + "\n")
    }
}

// Exit statuses: 0 clean, 1 findings, 2 usage or configuration error (and any failed write to
// standard output or standard error).
Console.prepare()
// Arguments are bytes: a path that is not UTF-8 reaches the analyzer intact (see `PathText`);
// `CommandLine.arguments` would have replaced its bytes with U+FFFD.
let arguments = (1..<Int(CommandLine.argc)).map { i -> String in
    let arg = CommandLine.unsafeArgv[i]!
    let n = strlen(arg)
    return arg.withMemoryRebound(to: UInt8.self, capacity: n) { PathText.decode(UnsafeBufferPointer(start: $0, count: n)) }
}
/// Compiler spellings the argument parser cannot read: `-DNAME=VALUE` (it takes the `=` for the
/// start of a value of an option `-DNAME`) becomes `-D NAME=VALUE`. `-DNAME` and `-UNAME` are
/// read as they are (`allowingJoined`). Nothing after `--` is touched.
func splitJoinedDefines(_ args: [String]) -> [String] {
    var out: [String] = []
    var rest = args[...]
    while let a = rest.popFirst() {
        if a == "--" {
            out.append(a)
            out += rest
            break
        }
        if a.hasPrefix("-D"), a.count > 2, a.contains("="), !a.dropFirst(2).hasPrefix("=") {
            out += ["-D", String(a.dropFirst(2))]
        } else {
            out.append(a)
        }
    }
    return out
}

do {
    var command = try Freerace.parseAsRoot(splitJoinedDefines(arguments))
    try command.run()
} catch let e as UsageError {
    Console.err("freerace: error: \(e.description)\n")
    exit(2)
} catch let e as ExitCode {
    exit(e.rawValue)
} catch {
    let code = Freerace.exitCode(for: error)
    let message = Freerace.fullMessage(for: error)
    if code == .success {
        // --help, --version
        do { try Console.out(message + "\n") } catch let e as UsageError {
            Console.err("freerace: error: \(e.description)\n")
            exit(2)
        }
        exit(0)
    }
    Console.err(message + "\n")
    exit(2)
}
