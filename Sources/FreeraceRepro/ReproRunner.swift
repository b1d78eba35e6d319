import Foundation
import FreeraceRules
import FreeraceSyntax
#if canImport(Glibc)
import Glibc
#endif

/// Builds the user's extension into a throwaway virtual environment (from a throwaway copy of the
/// project) and runs a stress script.
public enum ReproRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a run of the script showed.
    public enum Result: String, Sendable {
        /// It ran for its time and saw nothing wrong (not proof of absence).
        case noFailure
        /// It crashed, or an exception showed corrupted state: the race reproduced.
        case reproduced
        /// It did not get to stress anything: the module, type or methods could not be set up,
        /// or the interpreter failed before the script's own verdict.
        case didNotRun
    }

    public struct Outcome: Sendable {
        /// `crashed (SIGSEGV)`, `exception: ...`, `no failure in N s (not proof of absence)`, ...
        public var verdict: String
        public var exitStatus: Int32
        public var signal: Int32?
        public var output: String
        public var result: Result {
            if signal != nil || exitStatus == ReproScript.exitException { return .reproduced }
            return exitStatus == ReproScript.exitNoFailure ? .noFailure : .didNotRun
        }
        public var failed: Bool { result == .reproduced }
        /// What the script printed before its verdict when the race reproduced: faulthandler's
        /// traceback of every thread for a crash (with the debug allocator's report, if any), the
        /// Python traceback for an exception. At most its last 200 lines.
        public var traceback: String? {
            guard result == .reproduced else { return nil }
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
            if signal == nil, let last = lines.last, last == verdict { lines.removeLast() }
            let text = lines.suffix(200).joined(separator: "\n")
            return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : text
        }
    }

    /// Finds the project root of a source file: the nearest directory with setup.py or pyproject.toml.
    public static func projectRoot(for path: String) -> String? {
        var finder = ProjectRoots(markers: ["setup.py", "pyproject.toml"])
        let root = finder.root(ofFile: path)
        return root.isEmpty ? nil : root
    }

    /// Runs a command, capturing its output; kills it after `timeout` seconds.
    @discardableResult
    public static func shell(_ args: [String], cwd: String? = nil, env: [String: String] = [:], timeout: Double = 600)
        -> (status: Int32, signal: Int32?, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let data = DataBox()
        pipe.fileHandleForReading.readabilityHandler = { h in data.append(h.availableData) }
        do { try p.run() } catch {
            // in our words, with the system's reason (Foundation's message names neither)
            let reason: String
            if let cwd, !FileSystem.isDirectory(cwd) {
                reason = "folder \(cwd) does not exist"
            } else if access("/usr/bin/env", X_OK) != 0 {
                reason = "/usr/bin/env: \(String(cString: strerror(errno)))"
            } else {
                reason = "the process could not be started"
            }
            return (127, nil, "cannot run \(args.joined(separator: " ")): \(reason)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning {
            if Date() > deadline {
                p.terminate()
                Thread.sleep(forTimeInterval: 1)
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        data.append(pipe.fileHandleForReading.readDataToEndOfFile())
        let out = data.string
        if p.terminationReason == .uncaughtSignal { return (p.terminationStatus, p.terminationStatus, out) }
        return (p.terminationStatus, nil, out)
    }

    /// The executable a command name runs (a path, or a name looked up on `PATH`), if there is one.
    public static func locate(_ program: String) -> String? {
        func runnable(_ p: String) -> Bool {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: p, isDirectory: &isDir) && !isDir.boolValue
                && FileManager.default.isExecutableFile(atPath: p)
        }
        if program.contains("/") { return runnable(program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let p = (dir.isEmpty ? "." : String(dir)) + "/" + program
            if runnable(p) { return p }
        }
        return nil
    }

    /// The throwaway folder of one `repro --build`: the virtual environment, the copy of the
    /// project that is built, and the folder the script runs in. Nothing of a build is written
    /// anywhere else.
    public struct Workspace: Sendable {
        public let path: String
        public var venv: String { path + "/venv" }
        public var project: String { path + "/project" }
        public var run: String { path + "/run" }
        public var python: String { venv + "/bin/python" }

        /// A new folder `freerace-repro-XXXXXX` in the temporary folder (`TMPDIR`).
        public static func create() throws -> Workspace {
            var template = Array((FileManager.default.temporaryDirectory.path + "/freerace-repro-XXXXXX").utf8CString)
            guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw Failure(description: "cannot create a temporary folder: \(String(cString: strerror(errno)))")
            }
            let ws = Workspace(path: String(cString: p))
            try FileManager.default.createDirectory(atPath: ws.run, withIntermediateDirectories: true)
            return ws
        }

        public func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A built project: the interpreter to run with and the environment it needs.
    public struct Build: Sendable {
        public var python: String
        public var env: [String: String]
        /// Where the extension went, for people.
        public var location: String
    }

    /// Folders a build copy leaves out: version control and other hidden folders, build outputs,
    /// caches; virtual environments (folders holding `pyvenv.cfg`) too.
    static let notCopied: Set<String> = ["build", "dist", "__pycache__", "node_modules", "site-packages"]

    /// Copies a project's sources for a build (see `notCopied`). Symbolic links are copied as what
    /// they point to, so a build of the copy can never write through them into the original.
    public static func copyProject(_ source: String, to destination: String, depth: Int = 0) throws {
        let fm = FileManager.default
        guard depth < 40 else { return }
        try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source).sorted() {
            if name.hasPrefix(".") || notCopied.contains(name) || name.hasSuffix(".egg-info") { continue }
            let from = source + "/" + name
            let to = destination + "/" + name
            let resolved = (try? fm.destinationOfSymbolicLink(atPath: from)).map {
                $0.hasPrefix("/") ? $0 : source + "/" + $0
            } ?? from
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: resolved, isDirectory: &isDir) else { continue }  // a broken link
            if isDir.boolValue {
                if fm.fileExists(atPath: resolved + "/pyvenv.cfg") { continue }
                try copyProject(resolved, to: to, depth: depth + 1)
            } else if (try? fm.attributesOfItem(atPath: resolved)[.type] as? FileAttributeType) == .typeRegular {
                try fm.copyItem(atPath: resolved, toPath: to)
            }
        }
    }

    /// Builds the project in `workspace`: copies it there (the user's tree is only read), creates
    /// a venv with the system site packages (so setuptools is there offline), installs the copy
    /// into it (`pip install --no-build-isolation`), else builds the copy in place
    /// (`setup.py build_ext --inplace`, found through `PYTHONPATH`). The caller removes the
    /// workspace, built or not.
    public static func build(projectRoot root: String, python: String, workspace ws: Workspace, log: (String) -> Void)
        throws -> Build {
        log("copying \(root) to \(ws.project) (the build never writes into your tree)")
        do { try copyProject(root, to: ws.project) } catch {
            throw Failure(description: "cannot copy \(root): \(error.localizedDescription)")
        }
        log("creating virtual environment \(ws.venv)")
        let mk = shell([python, "-m", "venv", "--system-site-packages", ws.venv], timeout: 300)
        guard mk.status == 0 else { throw Failure(description: "\(python) -m venv failed:\n\(mk.output)") }
        // a copy has no .git: projects versioned by setuptools-scm still build
        var env: [String: String] = [:]
        if ProcessInfo.processInfo.environment["SETUPTOOLS_SCM_PRETEND_VERSION"] == nil {
            env["SETUPTOOLS_SCM_PRETEND_VERSION"] = "0.0.0"
        }
        log("building \(ws.project)")
        let pip = shell([ws.python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", ws.project],
                        cwd: ws.project, env: env, timeout: 900)
        if pip.status == 0 { return Build(python: ws.python, env: [:], location: "installed into \(ws.venv)") }
        log("pip install failed; trying setup.py build_ext --inplace in the copy")
        guard FileManager.default.fileExists(atPath: ws.project + "/setup.py") else {
            throw Failure(description: "pip install failed and there is no setup.py:\n\(pip.output)")
        }
        let be = shell([ws.python, "setup.py", "build_ext", "--inplace"], cwd: ws.project, env: env, timeout: 900)
        guard be.status == 0 else { throw Failure(description: "setup.py build_ext --inplace failed:\n\(be.output)") }
        return Build(python: ws.python, env: ["PYTHONPATH": ws.project], location: "built in place in \(ws.project)")
    }

    /// Runs the script pinned to `cpu` when `taskset` exists, with a timeout, and reads the verdict.
    /// `cwd`: where it runs (the script puts that folder first on `sys.path`).
    public static func run(script: String, python: String, seconds: Int, cpu: Int?, env: [String: String],
                           cwd: String? = nil) -> Outcome {
        var args = [python, "-X", "faulthandler", script]
        if let cpu, shell(["taskset", "-c", String(cpu), "true"], timeout: 10).status == 0 {
            args = ["taskset", "-c", String(cpu)] + args
        }
        var environment = env
        environment["FREERACE_REPRO_SECONDS"] = String(seconds)
        // freed memory is filled with 0xDD by the debug allocator hooks: use-after-free reads show
        environment["PYTHONMALLOC"] = environment["PYTHONMALLOC"] ?? "debug"
        let r = shell(args, cwd: cwd, env: environment, timeout: Double(seconds) + 60)
        let lastLine = r.output.split(separator: "\n").last.map(String.init) ?? ""
        let verdict: String
        if let sig = r.signal {
            let name = [Int32(SIGSEGV): "SIGSEGV", Int32(SIGABRT): "SIGABRT", Int32(SIGBUS): "SIGBUS", Int32(SIGILL): "SIGILL",
                        Int32(SIGKILL): "SIGKILL", Int32(SIGTERM): "SIGTERM (timeout)"][sig] ?? "signal \(sig)"
            verdict = "crashed (\(name))"
        } else if r.status == ReproScript.exitException || r.status == ReproScript.exitNoFailure {
            verdict = lastLine
        } else {
            verdict = "did not run (exit \(r.status)): \(lastLine)"
        }
        return Outcome(verdict: verdict, exitStatus: r.status, signal: r.signal, output: r.output)
    }
}

private final class DataBox: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func append(_ d: Data) {
        lock.lock()
        data.append(d)
        lock.unlock()
    }
    var string: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
