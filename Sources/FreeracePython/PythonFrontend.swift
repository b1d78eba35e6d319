// Entry point of the Python / Cython frontend.

public enum PythonFrontend {
    /// Parses Python (isCython: false) or Cython (isCython: true) source bytes. Never fails: broken
    /// regions are recovered and counted.
    public static func parse(path: String, bytes: [UInt8], isCython: Bool) -> PyParsedFile {
        let lexed = PyLexer.lex(bytes, isCython: isCython)
        var p = PyParser(toks: lexed.toks, bytes: bytes, isCython: isCython)
        let body = p.parseModule()
        let firstLine = body.first?.pos.line ?? Int.max
        var directives: [String: String] = [:]
        for c in lexed.comments where c.line < firstLine {
            parseDirective(c.text, into: &directives)
        }
        var diagnostics = lexed.diagnostics
        diagnostics.append(contentsOf: p.diagnostics)
        return PyParsedFile(path: path, isCython: isCython, body: body, comments: lexed.comments,
                            directives: directives, functionCount: p.functionCount,
                            recoveredFunctionCount: p.recoveredFunctionCount,
                            fileScopeRecoveries: p.fileScopeRecoveries, diagnostics: diagnostics)
    }

    /// `# cython: key=value, key2=value2`
    static func parseDirective(_ text: String, into out: inout [String: String]) {
        var s = Substring(text)
        guard s.hasPrefix("#") else { return }
        s = s.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard s.hasPrefix("cython:") else { return }
        s = s.dropFirst("cython:".count)
        for part in s.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let k = kv[0].trimmingSpaces
            let v = kv[1].trimmingSpaces
            if !k.isEmpty { out[k] = v }
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
