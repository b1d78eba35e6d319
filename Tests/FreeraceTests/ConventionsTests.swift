import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// End-to-end tests of the conventions users expect from a command-line analyzer: SARIF as GitHub
// code scanning reads it, columns in characters, standard input, compiler-style options, colour,
// warnings on standard error, progress. Helpers (`FreeraceCLI`, `CLIScratch`, `CSample`) are in
// CLITests.swift.

/// The first run of a SARIF document.
func sarifRun(_ r: CLIResult) throws -> [String: Any] {
    let runs = try #require(try r.json()["runs"] as? [[String: Any]], "\(r)")
    return try #require(runs.first)
}

func sarifResults(_ run: [String: Any]) -> [[String: Any]] { run["results"] as? [[String: Any]] ?? [] }

/// The artifact location and region of the first result of a SARIF run.
func sarifFirstPlace(_ r: CLIResult) throws -> (artifact: [String: Any], region: [String: Any]) {
    let run = try sarifRun(r)
    guard let result = sarifResults(run).first, let phys = sarifPhysical(result),
          let artifact = phys["artifactLocation"] as? [String: Any], let region = phys["region"] as? [String: Any]
    else { throw CLIError("no result with a physical location: \(r)") }
    return (artifact, region)
}

/// The physical location of a SARIF result.
func sarifPhysical(_ result: [String: Any]) -> [String: Any]? {
    (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
}

/// Runs `freerace ARGS` with `input` on its standard input (through `sh`, so the shared runner
/// stays as it is).
func runWithStdin(_ args: [String], input: String, in cwd: URL, environment: [String: String] = [:]) throws -> CLIResult {
    guard let binary = FreeraceCLI.binary else { throw CLIError("cannot find the freerace executable") }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("freerace-stdin-\(UUID().uuidString)")
    try Data(input.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    var env = environment
    env["FREERACE_TEST_STDIN"] = file.path
    return try FreeraceCLI.runProgram(URL(fileURLWithPath: "/bin/sh"),
                                      ["-c", "exec \"$0\" \"$@\" < \"$FREERACE_TEST_STDIN\"", binary.path] + args,
                                      in: cwd, environment: env)
}

@Suite("Conventions")
struct ConventionsTests {
    // MARK: SARIF for code scanning

    @Test func sarifCarriesWhatCodeScanningReads() throws {
        let (dir, line) = try CLITests.buggyProject("sarif-fields")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        let run = try sarifRun(r)
        #expect(run["columnKind"] as? String == "unicodeCodePoints")
        #expect((run["automationDetails"] as? [String: Any])?["id"] as? String == "freerace/auto/")
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let info = try #require(driver["informationUri"] as? String)
        #expect(info.hasPrefix("https://"), "\(info)")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.count >= 7)
        for rule in rules {
            let id = rule["id"] as? String ?? "?"
            let props = try #require(rule["properties"] as? [String: Any], "\(id)")
            #expect(props["precision"] as? String == "medium", "\(id): preview rules are medium precision")
            let sev = try #require(props["security-severity"] as? String, "\(id): a string, as GitHub reads it")
            let value = try #require(Double(sev), "\(id): numeric: \(sev)")
            #expect(value >= 7.0 && value < 9.0, "\(id): use-after-free in native code is high: \(sev)")
            #expect((props["tags"] as? [String])?.contains("security") == true, "\(id)")
            let help = try #require(rule["helpUri"] as? String)
            #expect(help.hasPrefix("https://") && help.hasSuffix("/docs/rules/\(id).md"), "\(help)")
        }
        let severityOf = Dictionary(uniqueKeysWithValues: rules.map {
            ($0["id"] as? String ?? "", ($0["properties"] as? [String: Any])?["security-severity"] as? String ?? "")
        })
        #expect(severityOf["FR301"] == "7.5", "warning rules: 7.5")
        #expect(severityOf["FR101"] == "8.1", "error rules: 8.1")
        let result = try #require(sarifResults(run).first)
        let region = try #require(sarifPhysical(result)?["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == line)
        #expect(region["startColumn"] as? Int == 5)
        #expect(region["endLine"] as? Int == line)
        #expect(region["endColumn"] as? Int == 5 + "PyMem_Free(old)".count, "the end of the call pointed at: \(region)")
        // related locations carry regions with ends too
        for rel in result["relatedLocations"] as? [[String: Any]] ?? [] {
            let reg = try #require((rel["physicalLocation"] as? [String: Any])?["region"] as? [String: Any])
            let start = try #require(reg["startColumn"] as? Int)
            let end = try #require(reg["endColumn"] as? Int, "\(rel)")
            #expect(end > start, "\(reg)")
        }
    }

    @Test func sarifURIsAreRelativeToTheRepositoryRoot() throws {
        let dir = try CLIScratch("sarif-repo")
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.file("repo/.git"), withIntermediateDirectories: true)
        try dir.write("repo/pkg/src/box.c", CSample.buggy())
        let r = try FreeraceCLI.run(["check", "src/box.c", "--format", "sarif"], in: dir.file("repo/pkg"))
        #expect(r.status == 1, "\(r)")
        let run = try sarifRun(r)
        let artifact = try sarifFirstPlace(r).artifact
        #expect(artifact["uri"] as? String == "pkg/src/box.c", "relative to the repository, not the current folder: \(artifact)")
        #expect(artifact["uriBaseId"] as? String == "%SRCROOT%")
        let base = try #require(((run["originalUriBaseIds"] as? [String: Any])?["%SRCROOT%"] as? [String: Any])?["uri"] as? String)
        #expect(base.hasPrefix("file:///") && base.hasSuffix("/repo/"), "\(base)")
        // `.git` as a file (a worktree or a submodule) marks a repository too
        try FileManager.default.removeItem(at: dir.file("repo/.git"))
        try dir.write("repo/.git", "gitdir: elsewhere\n")
        let w = try FreeraceCLI.run(["check", "src/box.c", "--format", "sarif"], in: dir.file("repo/pkg"))
        let wa = try sarifFirstPlace(w).artifact
        #expect(wa["uri"] as? String == "pkg/src/box.c", "\(wa)")
    }

    // MARK: columns

    @Test func columnsCountCharactersNotBytes() throws {
        let prefix = "    /* café → ok */ "
        let (dir, line) = try CLITests.buggyProject("columns") { $0.freeLine = prefix + "PyMem_Free(old);" }
        defer { dir.remove() }
        let column = prefix.unicodeScalars.count + 1
        #expect(column < prefix.utf8.count + 1, "the test needs multi-byte characters")
        let text = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(text.stdout.contains("box.c:\(line):\(column): warning:"), "\(text)")
        // the caret sits under the call: as many padding characters as characters before it
        #expect(text.stdout.contains("| " + String(repeating: " ", count: column - 1) + "^\n"), "\(text)")
        let json = try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url)
        #expect(jsonFindings(try json.json()).first.flatMap(jsonLocation)?.column == column, "\(json)")
        let sarif = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        let region = try sarifFirstPlace(sarif).region
        #expect(region["startColumn"] as? Int == column, "\(region)")
        #expect(region["endColumn"] as? Int == column + "PyMem_Free(old)".count, "\(region)")
        let github = try FreeraceCLI.run(["check", "box.c", "--format", "github"], in: dir.url)
        #expect(github.stdout.contains("line=\(line),col=\(column),endColumn=\(column + 15),"), "\(github)")
    }

    // MARK: warnings

    @Test func parseWarningsGoToStandardErrorLikeACompilers() throws {
        let dir = try CLIScratch("parse-warnings")
        defer { dir.remove() }
        try dir.write("a.c", "/* é */ int x = \"abc;\n")
        let column = "/* é */ int x = ".unicodeScalars.count + 1
        let r = try FreeraceCLI.run(["check", "a.c"], in: dir.url)
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("a.c:1:\(column): warning: unterminated string\n"), "\(r)")
        #expect(!r.stdout.contains("warning"), "the report itself holds findings only: \(r)")
        let json = try FreeraceCLI.run(["check", "a.c", "--format", "json"], in: dir.url)
        #expect(json.stderr.isEmpty, "\(json)")
        let warnings = jsonSummary(try json.json())["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.contains { $0["path"] as? String == "a.c" && $0["line"] as? Int == 1 && $0["column"] as? Int == column },
                "\(warnings)")
        let github = try FreeraceCLI.run(["check", "a.c", "--format", "github"], in: dir.url)
        #expect(github.stdout.contains("::warning file=a.c,line=1,col=\(column)::unterminated string"), "\(github)")
    }

    // MARK: suppression comments

    /// `box.c` with a stale FR301 suppression and one naming an unknown code; their lines.
    static func suppressionProject(_ label: String) throws -> (CLIScratch, stale: Int, unknown: Int) {
        let text = CSample.buggy {
            $0.footer = "\nstatic int unrelated(void)\n{\n    return 0;  // freerace: ignore[FR301] stale\n}\n"
                + "// freerace: ignore[FR999] no such rule\nstatic int other(void) { return 1; }\n"
        }
        let dir = try CLIScratch(label)
        try dir.write("box.c", text)
        return (dir, CSample.line(of: "stale", in: text) ?? -1, CSample.line(of: "FR999", in: text) ?? -1)
    }

    @Test func unknownCodesInSuppressionsAreReportedInEveryFormat() throws {
        let (dir, _, unknown) = try Self.suppressionProject("sup-unknown")
        defer { dir.remove() }
        let text = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(text.status == 1, "\(text)")
        #expect(text.stderr.contains("box.c:\(unknown): warning: suppression names unknown rule code `FR999`"), "\(text)")
        let json = try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url)
        let warnings = jsonSummary(try json.json())["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.contains { $0["line"] as? Int == unknown && ($0["message"] as? String)?.contains("FR999") == true },
                "\(warnings)")
        let sarif = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        let notes = ((try sarifRun(sarif)["invocations"] as? [[String: Any]])?.first?["toolExecutionNotifications"]
            as? [[String: Any]]) ?? []
        #expect(notes.contains { (($0["message"] as? [String: Any])?["text"] as? String)?.contains("FR999") == true }, "\(notes)")
        let github = try FreeraceCLI.run(["check", "box.c", "--format", "github"], in: dir.url)
        #expect(github.stdout.contains("::warning file=box.c,line=\(unknown)::suppression names unknown rule code `FR999`"),
                "\(github)")
        // a family prefix is a known code
        try dir.write("fam.c", "int f(void) { return 0; }  // freerace: ignore[FR3] family\n")
        let fam = try FreeraceCLI.run(["check", "fam.c"], in: dir.url)
        #expect(!fam.stderr.contains("unknown rule code"), "\(fam)")
    }

    @Test func unusedSuppressionsNameTheirCodeInSarifAndGitHub() throws {
        let (dir, stale, _) = try Self.suppressionProject("sup-unused-formats")
        defer { dir.remove() }
        let text = try FreeraceCLI.run(["check", "box.c", "--report-unused-suppressions"], in: dir.url)
        #expect(text.stdout.contains("box.c:\(stale): warning: unused suppression of FR301"), "\(text)")
        let sarif = try FreeraceCLI.run(["check", "box.c", "--format", "sarif", "--report-unused-suppressions"], in: dir.url)
        let run = try sarifRun(sarif)
        let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
        let index = try #require(rules.firstIndex { $0["id"] as? String == "FR000" }, "a rule for unused suppressions")
        #expect(rules[index]["name"] as? String == "unused-suppression")
        let unused = sarifResults(run).filter { $0["ruleId"] as? String == "FR000" }
        #expect(unused.count == 1, "only the stale FR301 comment (FR999 is reported as unknown): \(unused)")
        let u = try #require(unused.first)
        #expect(u["ruleIndex"] as? Int == index)
        #expect(((u["message"] as? [String: Any])?["text"] as? String)?.contains("FR301") == true, "\(u)")
        #expect((sarifPhysical(u)?["region"] as? [String: Any])?["startLine"] as? Int == stale, "\(u)")
        #expect((sarifPhysical(u)?["artifactLocation"] as? [String: Any])?["uri"] as? String == "box.c")
        // without the option, no FR000 anywhere
        let plain = try FreeraceCLI.run(["check", "box.c", "--format", "sarif"], in: dir.url)
        #expect(!plain.stdout.contains("FR000"), "\(plain.stdout.prefix(300))")
        let github = try FreeraceCLI.run(["check", "box.c", "--format", "github", "--report-unused-suppressions"], in: dir.url)
        #expect(github.stdout.contains("::warning file=box.c,line=\(stale),title=FR000 unused-suppression::unused suppression of FR301"),
                "\(github)")
    }

    // MARK: compiler-style options

    struct DefineCase: Sendable, CustomTestStringConvertible {
        var args: [String]
        var status: Int32
        var testDescription: String { args.isEmpty ? "(none)" : args.joined(separator: " ") }
    }

    /// The free is under `#if MY_FLAG`: a finding when the flag is true (or unknown: the first
    /// branch is kept), none when it is false or undefined.
    static let defineCases: [DefineCase] = [
        .init(args: [], status: 1),
        .init(args: ["-DMY_FLAG=1"], status: 1),
        .init(args: ["-DMY_FLAG=0"], status: 0),
        .init(args: ["-D", "MY_FLAG=0"], status: 0),
        .init(args: ["-DMY_FLAG"], status: 1),
        .init(args: ["-UMY_FLAG"], status: 0),
        .init(args: ["-U", "MY_FLAG"], status: 0),
        .init(args: ["-DOTHER=2", "-UMY_FLAG", "-DTHIRD"], status: 0),
    ]

    @Test(arguments: defineCases)
    func joinedAndSeparateDefines(_ c: DefineCase) throws {
        let (dir, _) = try CLITests.buggyProject("defines") {
            $0.aboveFree = "#if MY_FLAG"
            $0.freeLine = "    PyMem_Free(old);\n#else\n    /* kept */\n#endif"
        }
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"] + c.args, in: dir.url)
        #expect(r.status == c.status, "\(c.args): \(r)")
    }

    @Test func reproAcceptsANegativeCPU() throws {
        let (dir, _) = try CLITests.buggyProject("repro-cpu")
        defer { dir.remove() }
        let id = try #require(jsonIDs(try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url).json()).first)
        for args in [["--cpu", "-1"], ["--cpu=-1"]] {
            let r = try FreeraceCLI.run(["repro", id, "box.c", "-o", "script.py"] + args, in: dir.url)
            #expect(r.status == 0, "\(args): \(r)")
            #expect(r.stderr.contains("wrote script.py"), "\(args): \(r)")
        }
    }

    // MARK: colour

    struct ColorCase: Sendable, CustomTestStringConvertible {
        var args: [String]
        var environment: [String: String]
        var colored: Bool
        var testDescription: String {
            (args + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    /// Standard output is a file in these runs (not a terminal).
    static let colorCases: [ColorCase] = [
        .init(args: [], environment: ["NO_COLOR": "", "FORCE_COLOR": ""], colored: false),
        .init(args: ["--color", "auto"], environment: ["NO_COLOR": "", "FORCE_COLOR": ""], colored: false),
        .init(args: ["--color", "always"], environment: ["NO_COLOR": "1", "FORCE_COLOR": ""], colored: true),
        .init(args: ["--color=always"], environment: ["NO_COLOR": "", "FORCE_COLOR": ""], colored: true),
        .init(args: ["--color", "never"], environment: ["NO_COLOR": "", "FORCE_COLOR": "1"], colored: false),
        .init(args: [], environment: ["NO_COLOR": "", "FORCE_COLOR": "1"], colored: true),
        .init(args: [], environment: ["NO_COLOR": "1", "FORCE_COLOR": ""], colored: false),
        .init(args: [], environment: ["NO_COLOR": "1", "FORCE_COLOR": "1"], colored: false),
        .init(args: ["--format", "json", "--color", "always"], environment: [:], colored: false),
    ]

    @Test(arguments: colorCases)
    func colorFollowsTheOptionAndTheEnvironment(_ c: ColorCase) throws {
        let (dir, _) = try CLITests.buggyProject("color")
        defer { dir.remove() }
        let binary = try #require(FreeraceCLI.binary)
        let r = try FreeraceCLI.runProgram(binary, ["check", "box.c"] + c.args, in: dir.url, environment: c.environment)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("\u{1B}[") == c.colored, "\(r)")
        if c.colored {
            #expect(r.stdout.contains("\u{1B}[1;33mwarning\u{1B}[0m"), "the severity is coloured: \(r)")
            #expect(r.stdout.contains("[\u{1B}[35mFR301\u{1B}[0m]"), "the code is coloured: \(r)")
        }
    }

    @Test func unknownColorChoiceIsAUsageError() throws {
        let (dir, _) = try CLITests.buggyProject("color-bad")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c", "--color", "sometimes"], in: dir.url)
        #expect(r.status == 2 && r.stderr.contains("--color"), "\(r)")
    }

    // MARK: standard input

    @Test func checkReadsStandardInputAtTheGivenName() throws {
        let dir = try CLIScratch("stdin")
        defer { dir.remove() }
        let text = CSample.buggy()
        let line = try #require(CSample.line(of: CSample.freeMarker, in: text))
        let r = try runWithStdin(["check", "-", "--stdin-filename", "src/box.c"], input: text, in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("src/box.c:\(line):5: warning: `box_resize` frees `BoxObject.entries`"), "\(r)")
        #expect(r.stdout.contains("  \(line) |     PyMem_Free(old);"), "the excerpt comes from standard input: \(r)")
        #expect(r.stdout.contains("in 1 file."), "\(r)")
        // the language follows the name: the same text named .py is Python (and finds nothing)
        let py = try runWithStdin(["check", "-", "--stdin-filename", "box.py"], input: "def f():\n    return 1\n", in: dir.url)
        #expect(py.status == 0 && py.stdout.contains("No findings in 1 file."), "\(py)")
    }

    @Test func standardInputReplacesTheFileItNames() throws {
        let dir = try CLIScratch("stdin-replace")
        defer { dir.remove() }
        // on disk the fixed module; in the editor's buffer the buggy one
        try dir.write("box.c", CSample.buggy { $0.locked = true })
        let r = try runWithStdin(["check", "-", ".", "--stdin-filename", "box.c", "--format", "json"], input: CSample.buggy(),
                                 in: dir.url)
        #expect(r.status == 1, "\(r)")
        let doc = try r.json()
        #expect(jsonSummary(doc)["files"] as? Int == 1, "the buffer stands for the file, not beside it: \(r)")
        #expect(jsonFindings(doc).compactMap(jsonLocation).map(\.path) == ["box.c"], "\(r)")
    }

    @Test(arguments: [
        (["check", "-"], "--stdin-filename"),
        (["check", "-", "--stdin-filename", "notes.txt"], "notes.txt"),
        (["check", "box.c", "--stdin-filename", "box.c"], "`-`"),
    ])
    func standardInputNeedsASourceName(_ c: ([String], String)) throws {
        let dir = try CLIScratch("stdin-usage")
        defer { dir.remove() }
        try dir.write("box.c", CSample.buggy())
        let r = try runWithStdin(c.0, input: CSample.buggy(), in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains(c.1), "\(r)")
        #expect(!r.stdout.contains("[FR301]"), "\(r)")
    }

    // MARK: messages

    @Test func countsAgreeWithTheirNouns() throws {
        let (dir, _) = try CLITests.buggyProject("plurals")
        defer { dir.remove() }
        let one = try FreeraceCLI.run(["check", "box.c", "--timings"], in: dir.url)
        #expect(one.stdout.contains("Found 1 finding (FR301: 1) in 1 file."), "\(one)")
        #expect(one.stderr.contains(" in 1 file;") && one.stderr.contains("(1 project)"), "\(one)")
        try dir.write("other/box.c", CSample.buggy())
        try dir.write("other/pyproject.toml", "")
        let two = try FreeraceCLI.run(["check", ".", "--timings"], in: dir.url)
        #expect(two.stdout.contains("Found 2 findings (FR301: 2) in 2 files."), "\(two)")
        #expect(two.stderr.contains(" in 2 files;") && two.stderr.contains("(2 projects)"), "\(two)")
        let stats = try FreeraceCLI.run(["parse-stats", "box.c"], in: dir.url)
        #expect(stats.stdout.contains("c: 1 file, ") && stats.stdout.contains(" 0 file-scope recoveries"), "\(stats)")
    }

    @Test func errorsAreInOurWordsWithTheSystemsReason() throws {
        let (dir, _) = try CLITests.buggyProject("messages")
        defer { dir.remove() }
        let missing = try FreeraceCLI.run(["check", "box.c", "--config", "nope.toml"], in: dir.url)
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("cannot read configuration file nope.toml: No such file or directory"), "\(missing)")
        try dir.write(".freerace.toml", "select = [\n")
        let bad = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.stderr.range(of: #"\.freerace\.toml:1:\d+: invalid TOML: error while parsing array"#,
                                 options: .regularExpression) != nil, "compiler-style place, our capitalization: \(bad)")
        let docs = try FreeraceCLI.run(["generate-docs", "no/such/place"], in: dir.url)
        #expect(docs.status == 2 && docs.stderr.contains("cannot create folder no/such/place: No such file or directory"),
                "\(docs)")
        for r in [missing, bad, docs] {
            for foundation in ["couldn’t", "Error Domain", "The file", "The data", "NSCocoaErrorDomain"] {
                #expect(!r.stderr.contains(foundation), "\(r)")
            }
        }
    }

    // MARK: --quiet and --statistics per format

    @Test(arguments: [
        (["--format", "json", "--quiet"], "--quiet"),
        (["--format", "json", "--statistics"], "--statistics"),
        (["--format", "sarif", "--quiet"], "--quiet"),
        (["--format", "sarif", "--statistics"], "--statistics"),
        (["--format", "github", "--statistics"], "--statistics"),
    ])
    func quietAndStatisticsAreRefusedWhereTheyCannotApply(_ c: ([String], String)) throws {
        let (dir, _) = try CLITests.buggyProject("quiet-refused")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"] + c.0, in: dir.url)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains(c.1) && r.stderr.contains("applies to the text"), "\(r)")
        #expect(r.stdout.isEmpty, "\(r)")
    }

    @Test func quietGitHubAnnotationsHoldTheHeadlineOnly() throws {
        let (dir, line) = try CLITests.buggyProject("quiet-github")
        defer { dir.remove() }
        let full = try FreeraceCLI.run(["check", "box.c", "--format", "github"], in: dir.url)
        let quiet = try FreeraceCLI.run(["check", "box.c", "--format", "github", "--quiet"], in: dir.url)
        #expect(quiet.status == 1, "\(quiet)")
        #expect(full.stdout.contains("%0Awhy: "), "\(full)")
        #expect(quiet.stdout.hasPrefix("::warning file=box.c,line=\(line),col=5,"), "\(quiet)")
        #expect(!quiet.stdout.contains("%0A"), "no trace, why or help: \(quiet)")
        #expect(quiet.stdout.contains("frees `BoxObject.entries`"), "\(quiet)")
    }

    // MARK: what check leaves out

    @Test func reproScriptsAreNotAnalyzed() throws {
        let (dir, _) = try CLITests.buggyProject("repro-skip")
        defer { dir.remove() }
        let id = try #require(jsonIDs(try FreeraceCLI.run(["check", "box.c", "--format", "json"], in: dir.url).json()).first)
        let w = try FreeraceCLI.run(["repro", id, "box.c", "-o", "stress_box.py"], in: dir.url)
        #expect(w.status == 0, "\(w)")
        let script = try dir.read("stress_box.py")
        #expect(script.split(separator: "\n").dropFirst().first == "# Generated by freerace repro: not analysed by freerace check.",
                "the marker is the second line: \(script.prefix(200))")
        // a script written before the marker existed is recognized by its docstring
        try dir.write("old_repro.py", script.replacingOccurrences(of: "# Generated by freerace repro: not analysed by freerace check.\n", with: ""))
        try dir.write("real.py", "def f():\n    return 1\n")
        let r = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.url)
        #expect(jsonSummary(try r.json())["files"] as? Int == 2, "box.c and real.py, not the scripts: \(r)")
        #expect(!r.stdout.contains("stress_box.py") && !r.stdout.contains("old_repro.py"), "\(r)")
    }

    // MARK: progress

    @Test func noProgressWhenStandardErrorIsNotATerminal() throws {
        let (dir, _) = try CLITests.buggyProject("progress-off")
        defer { dir.remove() }
        let r = try FreeraceCLI.run(["check", "box.c"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.isEmpty, "\(r)")
        let t = try FreeraceCLI.run(["check", "box.c", "--timings"], in: dir.url)
        #expect(!t.stderr.contains("\r") && t.stderr.hasPrefix("timings: "), "\(t)")
    }

    @Test func onlyTheRulesThatCanReportRun() throws {
        let (dir, _) = try CLITests.buggyProject("selected-rules")
        defer { dir.remove() }
        // --timings lists the CPU seconds of each rule that ran
        let all = try FreeraceCLI.run(["check", "box.c", "--timings"], in: dir.url)
        let line = try #require(all.stderr.split(separator: "\n").first { $0.contains("CPU seconds") }, "\(all)")
        for code in ["FR101", "FR102", "FR201", "FR301", "FR302", "FR303", "FR401"] {
            #expect(line.contains(" \(code) "), "\(code) runs by default: \(line)")
        }
        let one = try FreeraceCLI.run(["check", "box.c", "--timings", "--select", "FR3", "--ignore", "FR302"], in: dir.url)
        let selected = try #require(one.stderr.split(separator: "\n").first { $0.contains("CPU seconds") }, "\(one)")
        #expect(selected.contains(" FR301 ") && selected.contains(" FR303 "), "\(selected)")
        for code in ["FR101", "FR102", "FR201", "FR302", "FR401"] {
            #expect(!selected.contains(code), "\(code) is not selected and does not run: \(selected)")
        }
        // and the findings are the ones of the selected rules of a full run
        #expect(one.stdout.contains("FR301") == all.stdout.contains("FR301"), "\(one)\n\(all)")
    }

    @Test func forcedProgressIsDrawnInPlaceAndCleared() throws {
        let (dir, _) = try CLITests.buggyProject("progress-on")
        defer { dir.remove() }
        try dir.write("other/box.c", CSample.buggy())
        try dir.write("other/pyproject.toml", "")
        let r = try FreeraceCLI.run(["check", ".", "--progress", "--timings"], in: dir.url)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.hasPrefix("\rfreerace: parsing 0/2 files"), "\(r)")
        #expect(r.stderr.contains("\rfreerace: parsing 2/2 files"), "the end of a phase is drawn: \(r)")
        #expect(r.stderr.contains("\rfreerace: analyzing 2/2 projects"), "\(r)")
        // the line is blanked before anything else is written, and --timings keeps its summary
        let blank = try #require(r.stderr.range(of: #"\r +\rtimings: "#, options: .regularExpression), "\(r)")
        #expect(r.stderr[blank.upperBound...].contains(" in 2 files;"), "\(r)")
        #expect(!r.stdout.contains("\r"), "progress never reaches the report: \(r)")
        let off = try FreeraceCLI.run(["check", ".", "--no-progress"], in: dir.url)
        #expect(off.stderr.isEmpty, "\(off)")
    }
}
