import Foundation
import FreeraceRules
import FreeraceSyntax
#if canImport(Glibc)
import Glibc
#endif

/// Builds the user's extension into a throwaway virtual environment and runs a stress script.
public enum ReproRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Outcome: Sendable {
        /// `crashed (SIGSEGV)`, `exception: ...`, `no failure in N s (not proof of absence)`, ...
        public var verdict: String
        public var exitStatus: Int32
        public var signal: Int32?
        public var output: String
        public var failed: Bool { signal != nil || exitStatus == ReproScript.exitException }
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

    /// Creates a venv (with the system site packages, so setuptools is there offline), builds the
    /// project into it (`pip install -e . --no-build-isolation`, else `setup.py build_ext --inplace`),
    /// and returns the venv's python and the extra environment to use.
    public static func build(projectRoot root: String, python: String, log: (String) -> Void)
        throws -> (python: String, env: [String: String]) {
        let venv = FileManager.default.temporaryDirectory.appendingPathComponent("freerace-venv-\(UUID().uuidString.prefix(8))").path
        log("creating virtual environment \(venv)")
        let mk = shell([python, "-m", "venv", "--system-site-packages", venv], timeout: 300)
        guard mk.status == 0 else { throw Failure(description: "python -m venv failed:\n\(mk.output)") }
        let vpy = venv + "/bin/python"
        log("building \(root)")
        let pip = shell([vpy, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "-e", root],
                        cwd: root, timeout: 900)
        if pip.status == 0 { return (vpy, [:]) }
        log("pip install -e failed; trying setup.py build_ext --inplace")
        guard FileManager.default.fileExists(atPath: root + "/setup.py") else {
            throw Failure(description: "pip install -e failed and there is no setup.py:\n\(pip.output)")
        }
        let be = shell([vpy, "setup.py", "build_ext", "--inplace"], cwd: root, timeout: 900)
        guard be.status == 0 else { throw Failure(description: "setup.py build_ext --inplace failed:\n\(be.output)") }
        return (vpy, ["PYTHONPATH": root])
    }

    /// Runs the script pinned to `cpu` when `taskset` exists, with a timeout, and reads the verdict.
    public static func run(script: String, python: String, seconds: Int, cpu: Int?, env: [String: String]) -> Outcome {
        var args = [python, "-X", "faulthandler", script]
        if let cpu, shell(["taskset", "-c", String(cpu), "true"], timeout: 10).status == 0 {
            args = ["taskset", "-c", String(cpu)] + args
        }
        var environment = env
        environment["FREERACE_REPRO_SECONDS"] = String(seconds)
        // freed memory is filled with 0xDD by the debug allocator hooks: use-after-free reads show
        environment["PYTHONMALLOC"] = environment["PYTHONMALLOC"] ?? "debug"
        let r = shell(args, env: environment, timeout: Double(seconds) + 60)
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
