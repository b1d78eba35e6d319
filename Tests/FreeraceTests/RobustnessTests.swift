import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Hostile inputs: each run must end quickly, must not crash (exit 0 or 1, never a signal), must
// still analyze the ordinary buggy file next to the bad one, and, where it applies, must print a
// warning naming the bad file. Helpers (`FreeraceCLI`, `CLIScratch`, `CSample`) are in CLITests.swift.

@Suite("Robustness")
struct RobustnessTests {
    /// The ordinary neighbour every directory gets: one FR301 finding in `neighbour.c`.
    static let neighbour = "neighbour.c"
    static let neighbourText = CSample.buggy { $0.module = "nbmod"; $0.prefix = "nb"; $0.typeName = "Neighbour" }
    static var neighbourLine: Int { CSample.line(of: CSample.freeMarker, in: neighbourText) ?? -1 }

    static func project(_ label: String) throws -> CLIScratch {
        let dir = try CLIScratch("robust-\(label)")
        try dir.write(Self.neighbour, neighbourText)
        return dir
    }

    /// Runs `freerace check ARGS` (default: the whole directory) and checks the common contract.
    @discardableResult
    static func checkSurvives(_ dir: CLIScratch, _ args: [String] = ["."], timeout: Double = 60,
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let r = try FreeraceCLI.run(["check"] + args, in: dir.url, timeout: timeout)
        #expect(!r.timedOut, "must finish within \(Int(timeout))s: \(r)", sourceLocation: sourceLocation)
        #expect(!r.signaled, "must not crash: \(r)", sourceLocation: sourceLocation)
        guard r.exitedNormally else { return r }  // one issue is enough for a hang or a crash
        #expect(r.status == 0 || r.status == 1, "exit 0 or 1: \(r)", sourceLocation: sourceLocation)
        #expect(r.stdout.contains("\(Self.neighbour):\(neighbourLine):5: warning: `nb_resize` frees `NeighbourObject.entries`"),
                "the neighbouring file is still analyzed: \(r)", sourceLocation: sourceLocation)
        #expect(r.status == 1, "the neighbour's finding sets the exit status: \(r)", sourceLocation: sourceLocation)
        return r
    }

    /// Expects at least one `FILE: warning: …` line whose message contains one of `words`.
    static func expectWarning(_ r: CLIResult, file: String, mentioning words: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let ws = r.fileWarnings(file)
        let ok = ws.contains { w in words.contains { w.lowercased().contains($0.lowercased()) } }
        #expect(ok, "expected a warning naming \(file) mentioning \(words); got \(ws): \(r)", sourceLocation: sourceLocation)
    }

    // MARK: binary and encoding

    @Test func binaryFileWithNulBytes() throws {
        let dir = try Self.project("binary")
        defer { dir.remove() }
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00]
        for i in 0..<20_000 { bytes.append(UInt8(truncatingIfNeeded: i &* 31 &+ 7)) }
        try dir.writeBytes("blob.c", bytes)
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "blob.c", mentioning: ["binary"])
    }

    @Test func invalidUTF8InCommentAndStringLiteral() throws {
        let dir = try Self.project("utf8")
        defer { dir.remove() }
        // The bad file is itself a buggy module: invalid bytes in a block comment at the top, in a
        // string literal, and in a trailing comment on the very line of the finding.
        let text = CSample.buggy {
            $0.header = "\n/* caf\u{1}\u{2} */\nstatic const char *banner = \"\u{3}\u{4} bytes\";\n"
            $0.freeLine = "    PyMem_Free(old);  /* \u{5} */"
        }
        var bytes = Array(text.utf8)
        // Replace the placeholders by invalid UTF-8: a bad continuation, lone continuation bytes,
        // an overlong encoding and bytes that never occur in UTF-8.
        let replacements: [UInt8: [UInt8]] = [1: [0xC3, 0x28], 2: [0xFF, 0xFE], 3: [0x80, 0xBF], 4: [0xC0, 0xAF], 5: [0xF8, 0x88, 0xE2]]
        bytes = bytes.flatMap { replacements[$0] ?? [$0] }
        try dir.writeBytes("latin.c", bytes)
        let line = try #require(CSample.line(of: CSample.freeMarker, in: text))
        let r = try Self.checkSurvives(dir)
        #expect(r.stdout.contains("latin.c:\(line):5: warning: `box_resize` frees `BoxObject.entries`"),
                "the lexer keeps going past invalid bytes: \(r)")
        // JSON output stays valid even though the excerpt source line is not UTF-8.
        let j = try FreeraceCLI.run(["check", ".", "--format", "json"], in: dir.url)
        let doc = try j.json()
        #expect(jsonFindings(doc).count == 2)
        let sarif = try FreeraceCLI.run(["check", ".", "--format", "sarif"], in: dir.url)
        #expect((try? sarif.json()) != nil, "SARIF stays valid JSON: \(sarif)")
    }

    @Test func crlfLineEndingsAndByteOrderMark() throws {
        let dir = try Self.project("crlf")
        defer { dir.remove() }
        let text = CSample.buggy()
        let crlf = Array("\u{FEFF}".utf8) + Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        try dir.writeBytes("windows.c", crlf)
        let line = try #require(CSample.line(of: CSample.freeMarker, in: text))
        let r = try Self.checkSurvives(dir)
        #expect(r.stdout.contains("windows.c:\(line):5: warning:"), "same line numbers with CRLF and a BOM: \(r)")
    }

    @Test func classicMacLineEndings() throws {
        let dir = try Self.project("cr")
        defer { dir.remove() }
        let text = "#include <Python.h>\n" + CSample.buggy()
        try dir.writeBytes("mac.c", Array(text.replacingOccurrences(of: "\n", with: "\r").utf8))
        let line = try #require(CSample.line(of: CSample.freeMarker, in: text))
        let r = try Self.checkSurvives(dir)
        #expect(r.stdout.contains("mac.c:\(line):5: warning:"), "a CR-only file is read line by line: \(r)")
    }

    /// A type whose thousands of methods all free and read one field: one finding per freeing
    /// function, each with thousands of readers, in seconds rather than minutes.
    @Test func thousandsOfReadersAndFreersOfOneField() throws {
        let dir = try Self.project("many-methods")
        defer { dir.remove() }
        let n = 1500
        var text = "#include <Python.h>\ntypedef struct { PyObject_HEAD int *buf; } ManyObject;\n"
        for i in 0..<n {
            text += "static PyObject *m_\(i)(ManyObject *self, PyObject *a) { PyMem_Free(self->buf); return PyLong_FromLong(self->buf[0]); }\n"
        }
        text += "static PyMethodDef many_methods[] = {\n"
        for i in 0..<n { text += "    {\"m_\(i)\", (PyCFunction)m_\(i), METH_O, NULL},\n" }
        text += "    {NULL}\n};\nstatic PyTypeObject Many_Type = {\n    PyVarObject_HEAD_INIT(NULL, 0)\n"
        text += "    .tp_name = \"m.Many\", .tp_basicsize = sizeof(ManyObject), .tp_methods = many_methods,\n};\n"
        try dir.write("many.c", text)
        // the timeout only guards against a hang; growth is measured by ModelTests.linearGrowth
        let r = try Self.checkSurvives(dir, [".", "--target", "free-threaded"], timeout: 900)
        #expect(r.stdout.contains("[FR301]"), "\(r.stdout.prefix(400))")
    }

    // MARK: unterminated constructs

    @Test func unterminatedBlockComment() throws {
        let dir = try Self.project("comment")
        defer { dir.remove() }
        try dir.write("open_comment.c", "int before(void) { return 1; }\n/* this comment never ends\nint after(void) { return 2; }\n")
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "open_comment.c", mentioning: ["unterminated comment"])
    }

    @Test func unterminatedStringLiteral() throws {
        let dir = try Self.project("string")
        defer { dir.remove() }
        try dir.write("open_string.c", "static const char *s = \"never closed;\nint after(void) { return 2; }\n")
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "open_string.c", mentioning: ["unterminated string"])
    }

    @Test func unterminatedConditional() throws {
        let dir = try Self.project("if")
        defer { dir.remove() }
        try dir.write("open_if.c", "#if defined(FOO)\nint d(void) { return 4; }\n#ifdef BAR\nint e(void) { return 5; }\n#else\n")
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "open_if.c", mentioning: ["conditional", "#if", "#endif"])
    }

    @Test func strayEndifAndElse() throws {
        let dir = try Self.project("endif")
        defer { dir.remove() }
        try dir.write("stray.c", "#endif\n#else\nint f(void) { return 0; }\n#elif X\n#endif\n}}}\n)))\n")
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "stray.c", mentioning: ["conditional", "#endif", "#else", "unbalanced", "unexpected"])
    }

    // MARK: deep nesting

    @Test func hundredThousandNestedParentheses() throws {
        let dir = try Self.project("parens")
        defer { dir.remove() }
        let n = 100_000
        let text = "int deep(void)\n{\n    return " + String(repeating: "(", count: n) + "1"
            + String(repeating: ")", count: n) + ";\n}\n\nint after(void) { return 2; }\n"
        try dir.write("parens.c", text)
        try Self.checkSurvives(dir)
        // parse-stats walks the same trees.
        let p = try FreeraceCLI.run(["parse-stats", "parens.c", "--json"], in: dir.url)
        #expect(p.exitedNormally && p.status == 0, "\(p)")
    }

    /// Shapes found by an adversarial pass: each crashed (trap or stack overflow) or hung before.
    static let longChains: [(String, String)] = [
        ("stars.c", "void f(int " + String(repeating: "*", count: 40_000) + " p);\n"
            + "int n = sizeof(char " + String(repeating: "*", count: 40_000) + ");\n"),
        ("comments.c", String(repeating: "/*", count: 50_000) + String(repeating: "*/", count: 50_000) + "\nint f(void) { return 0; }\n"),
        ("overflow.c", "#if (-9223372036854775807 - 1) / -1\nint a;\n#endif\n#if (-9223372036854775807 - 1) % -1\nint b;\n#endif\n"),
        ("closers.c", String(repeating: ")]}", count: 40_000)),
        ("binop.py", "def f(a):\n    return a" + String(repeating: " + a", count: 300_000) + "\n"),
        ("trailers.py", "x = a" + String(repeating: ".b", count: 100_000) + "\ny = a" + String(repeating: "[0]", count: 100_000) + "\n"),
        ("continued.py", "x = 1 \\\n" + String(repeating: "+ 1 \\\n", count: 200_000) + "\n"),
        ("binop.pyx", "cdef int f(int a) nogil:\n    return a" + String(repeating: " | a", count: 300_000) + "\n"),
    ]

    @Test(arguments: longChains.map(\.0))
    func longChainsAndRuns(_ name: String) throws {
        let dir = try Self.project("chain-" + name.replacingOccurrences(of: ".", with: "-"))
        defer { dir.remove() }
        try dir.write(name, Self.longChains.first { $0.0 == name }!.1)
        try Self.checkSurvives(dir, timeout: 60)
        let p = try FreeraceCLI.run(["parse-stats", name], in: dir.url, timeout: 60)
        #expect(!p.timedOut && p.exitedNormally && p.status == 0, "\(p)")
    }

    @Test func hundredThousandNestedBlocks() throws {
        let dir = try Self.project("braces")
        defer { dir.remove() }
        let n = 100_000
        let text = "void deep(void)\n{\n" + String(repeating: "{", count: n) + "x++;" + String(repeating: "}", count: n)
            + "\n}\n\nint after(void) { return 2; }\n"
        try dir.write("braces.c", text)
        try Self.checkSurvives(dir)
        // Unbalanced: only opening braces.
        try dir.write("braces.c", "void deep(void)\n{\n" + String(repeating: "{ if (x) ", count: n) + "\n")
        try Self.checkSurvives(dir)
        let p = try FreeraceCLI.run(["parse-stats", ".", "--json"], in: dir.url)
        #expect(p.exitedNormally && p.status == 0, "\(p)")
    }

    @Test func deeplyNestedInitializerAndDeclarators() throws {
        let dir = try Self.project("initializer")
        defer { dir.remove() }
        let n = 50_000
        try dir.write("init.c", "static int t[] = " + String(repeating: "{", count: n) + "1" + String(repeating: "}", count: n)
            + ";\nint " + String(repeating: "(*", count: n) + "p" + String(repeating: ")", count: n) + ";\n")
        try Self.checkSurvives(dir)
    }

    // MARK: size

    @Test func twentyMegabyteGeneratedFile() throws {
        let dir = try Self.project("large")
        defer { dir.remove() }
        // A huge initializer table (the shape of generated Unicode or opcode tables) followed by a
        // few ordinary functions.
        var bytes: [UInt8] = []
        let target = 20 << 20
        bytes.reserveCapacity(target + 1024)
        bytes += Array("static const struct { const char *name; int code; } names[] = {\n".utf8)
        // One 1 MB chunk of distinct rows, repeated (building 20 MB row by row is slow in debug builds).
        let pad = String(repeating: "x", count: 48)
        var chunk = ""
        var i = 0
        while chunk.utf8.count < 1 << 20 {
            chunk += "    {\"name_\(i)_\(pad)\", \(i)},\n"
            i += 1
        }
        let chunkBytes = Array(chunk.utf8)
        while bytes.count < target { bytes += chunkBytes }
        bytes += Array("};\n\nint lookup(int i) { return names[i].code; }\n".utf8)
        try dir.writeBytes("table.c", bytes)
        let r = try Self.checkSurvives(dir, ["--format", "text", "."], timeout: 60)
        #expect(r.stdout.contains("in 2 files"), "both files analyzed: \(r)")
        #expect(r.fileWarnings("table.c").isEmpty, "a 20 MB file is under the size limit: \(r)")
    }

    @Test func fileOverTheSizeLimitIsSkippedWithAWarning() throws {
        let dir = try Self.project("oversize")
        defer { dir.remove() }
        // 64 MB is the documented limit in SourceLoader; stay just above it. Mostly spaces: quick to write.
        var data = Data("/* generated */\n".utf8)
        data.append(Data(repeating: 0x20, count: (64 << 20) + 4096))
        data.append(Data("\nint f(void) { return 0; }\n".utf8))
        try data.write(to: dir.file("huge.c"))
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "huge.c", mentioning: ["larger than", "too large", "size"])
    }

    // MARK: unreadable objects

    @Test(.enabled(if: geteuid() != 0, "root can read files whatever their mode"))
    func unreadableFile() throws {
        let dir = try Self.project("chmod")
        defer { dir.remove() }
        let u = try dir.write("locked.c", "int f(void) { return 0; }\n")
        chmod(u.path, 0)
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "locked.c", mentioning: ["cannot", "permission", "unreadable"])
    }

    @Test(.enabled(if: geteuid() != 0, "root can read directories whatever their mode"))
    func unreadableDirectory() throws {
        let dir = try Self.project("chmod-dir")
        defer { dir.remove() }
        try dir.write("private/inner.c", "int f(void) { return 0; }\n")
        chmod(dir.file("private").path, 0)
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "private", mentioning: ["cannot read directory"])
    }

    @Test func fifoInsideADirectoryDoesNotHang() throws {
        let dir = try Self.project("fifo-dir")
        defer { dir.remove() }
        #expect(mkfifo(dir.file("x.c").path, 0o644) == 0)
        // Skipped (not a regular file), not opened: opening a FIFO with no writer blocks forever.
        try Self.checkSurvives(dir, ["."], timeout: 20)
    }

    /// BUG: a FIFO named on the command line is opened for reading and blocks forever
    /// (SourceLoader.load → FileHandle(forReadingAtPath:) on a FIFO without a writer).
    @Test func fifoNamedOnTheCommandLineDoesNotHang() throws {
        let dir = try Self.project("fifo-arg")
        defer { dir.remove() }
        #expect(mkfifo(dir.file("x.c").path, 0o644) == 0)
        let r = try Self.checkSurvives(dir, ["x.c", Self.neighbour], timeout: 10)
        if !r.timedOut {
            Self.expectWarning(r, file: "x.c", mentioning: ["fifo", "not a regular file", "skipped", "cannot"])
        }
    }

    @Test func danglingSymlinks() throws {
        let dir = try Self.project("dangling")
        defer { dir.remove() }
        try FileManager.default.createSymbolicLink(atPath: dir.file("gone.c").path, withDestinationPath: dir.file("nowhere.c").path)
        // In a directory walk: skipped cleanly.
        try Self.checkSurvives(dir)
        // Named on the command line: a missing path, which is a usage error naming it.
        let r = try FreeraceCLI.run(["check", "gone.c", Self.neighbour], in: dir.url, timeout: 20)
        #expect(r.exitedNormally, "\(r)")
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("gone.c"), "\(r)")
    }

    #if os(Linux)
    /// An object even root cannot read: `/proc/self/mem` fails with EIO at offset 0.
    @Test func unreadableEvenForRoot() throws {
        let dir = try Self.project("procmem")
        defer { dir.remove() }
        try FileManager.default.createSymbolicLink(atPath: dir.file("mem.c").path, withDestinationPath: "/proc/self/mem")
        let r = try Self.checkSurvives(dir, ["mem.c", Self.neighbour], timeout: 30)
        Self.expectWarning(r, file: "mem.c", mentioning: ["cannot read", "cannot open", "unreadable"])
    }
    #endif

    /// BUG: symbolic links to source files inside an analyzed directory are silently dropped
    /// (SourceSet.walk uses attributesOfItem, which reports `.typeSymbolicLink`, and only keeps
    /// `.typeRegular`). The doc comment only promises not to follow links to directories.
    @Test func symlinkedSourceFileInADirectoryIsAnalyzedOrReported() throws {
        let dir = try Self.project("symlink")
        let other = try CLIScratch("robust-symlink-target")
        defer { dir.remove(); other.remove() }
        let target = try other.write("real.c", CSample.buggy { $0.module = "linkmod"; $0.prefix = "lnk"; $0.typeName = "Link" })
        try FileManager.default.createSymbolicLink(atPath: dir.file("linked.c").path, withDestinationPath: target.path)
        let r = try Self.checkSurvives(dir)
        let analyzed = r.stdout.contains("linked.c:") && r.stdout.contains("`lnk_resize` frees")
        let warned = !r.fileWarnings("linked.c").isEmpty
        #expect(analyzed || warned, "a symlinked source file must be analyzed or at least reported, not silently dropped: \(r)")
    }

    @Test func missingPathAmongValidPaths() throws {
        let dir = try Self.project("missing")
        defer { dir.remove() }
        try dir.write("other.c", "int f(void) { return 0; }\n")
        let r = try FreeraceCLI.run(["check", Self.neighbour, "no_such_file.c", "other.c", "no_such_dir"], in: dir.url, timeout: 20)
        #expect(r.exitedNormally, "\(r)")
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("no_such_file.c"), "\(r)")
        #expect(r.stderr.contains("no_such_dir"), "\(r)")
        #expect(!r.stdout.contains("[FR301]"), "a usage error analyzes nothing: \(r)")
    }

    @Test func nonSourceFileNamedExplicitly() throws {
        let dir = try Self.project("non-source")
        defer { dir.remove() }
        try dir.write("notes.txt", "hello\n")
        let r = try Self.checkSurvives(dir, [Self.neighbour, "notes.txt"])
        Self.expectWarning(r, file: "notes.txt", mentioning: ["skipped", "not a C"])
    }

    @Test func emptyAndWhitespaceOnlyFiles() throws {
        let dir = try Self.project("empty")
        defer { dir.remove() }
        try dir.write("empty.c", "")
        try dir.write("blank.h", "\n\n   \t\n")
        try dir.write("empty.py", "")
        try dir.write("empty.pyx", "")
        let r = try Self.checkSurvives(dir)
        #expect(r.stdout.contains("in 5 files"), "\(r)")
    }

    // MARK: Python and Cython

    @Test func pythonWithInvalidSyntax() throws {
        let dir = try Self.project("py-syntax")
        defer { dir.remove() }
        try dir.write("broken.py", "def f(:\n    return )(\nclass :\n  x = [1, 2\n\tif True:\n  else\nlambda: yield from\n")
        let r = try Self.checkSurvives(dir)
        #expect(!r.fileWarnings("broken.py").isEmpty, "syntax errors are reported per file: \(r)")
    }

    @Test func pythonWithDeepNesting() throws {
        let dir = try Self.project("py-deep")
        defer { dir.remove() }
        let n = 100_000
        try dir.write("parens.py", "x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + "\n")
        try dir.write("lists.py", "y = " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n")
        try dir.write("calls.py", "z = " + String(repeating: "f(", count: n) + String(repeating: ")", count: n) + "\n")
        var blocks = ""
        for i in 0..<5_000 { blocks += String(repeating: " ", count: i) + "if x:\n" }
        blocks += String(repeating: " ", count: 5_000) + "pass\n"
        try dir.write("blocks.py", blocks)
        try dir.write("unclosed.py", "w = " + String(repeating: "(", count: n) + "\n")
        let r = try Self.checkSurvives(dir)
        for f in ["parens.py", "lists.py", "calls.py", "blocks.py"] {
            Self.expectWarning(r, file: f, mentioning: ["nested too deeply", "too deep"])
        }
        #expect(!r.fileWarnings("unclosed.py").isEmpty, "\(r)")
    }

    @Test func pythonWithInvalidUTF8() throws {
        let dir = try Self.project("py-utf8")
        defer { dir.remove() }
        try dir.writeBytes("latin.py", Array("# ".utf8) + [0xFF, 0xFE] + Array(" comment\ns = \"".utf8) + [0xC3, 0x28, 0x80]
            + Array("\"\ndef g():\n    return s\n".utf8))
        try Self.checkSurvives(dir)
    }

    @Test func cythonWithBinaryJunk() throws {
        let dir = try Self.project("pyx-junk")
        defer { dir.remove() }
        let head = Array("cdef int f(int x):\n    return x\n".utf8)
        try dir.writeBytes("junk.pyx", head + (0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 131) })
        // Junk without NUL bytes reaches the Cython lexer and parser.
        try dir.writeBytes("noise.pyx", head + (0..<20_000).map { UInt8(1 + ($0 &* 37) % 255) })
        try dir.writeBytes("noise.pxd", (0..<20_000).map { UInt8(1 + ($0 &* 91) % 255) })
        let r = try Self.checkSurvives(dir)
        Self.expectWarning(r, file: "junk.pyx", mentioning: ["binary"])
        #expect(r.exitedNormally)
    }

    @Test func cythonDeepNestingAndUnterminatedConstructs() throws {
        let dir = try Self.project("pyx-deep")
        defer { dir.remove() }
        let n = 100_000
        try dir.write("deep.pyx", "cdef int x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n)
            + "\ncdef extern from \"foo.h\":\n    ctypedef struct S:\n        int a\ncdef class C:\n    cdef S *s\n")
        try dir.write("open.pyx", "cdef class D:\n    def f(self):\n        return \"\"\"never closed\n")
        let r = try Self.checkSurvives(dir)
        #expect(!r.fileWarnings("deep.pyx").isEmpty, "\(r)")
        #expect(!r.fileWarnings("open.pyx").isEmpty, "\(r)")
    }
}
