import Foundation
import Testing
import FreeraceDriver
@testable import FreeraceSyntax


// MARK: - shared helpers (file-private)

/// The package root, found from this file's path (Tests/FreeraceTests/SyntaxTests.swift).
private let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path


private func parse(_ text: String, _ language: Language = .c, target: AnalysisTarget = .auto,
                   python: (major: Int, minor: Int)? = nil, defines: [String: String] = [:],
                   undefines: [String] = []) -> ParsedFile {
    let path = language == .cpp ? "t.cpp" : "t.c"
    let src = SourceFile(path: path, language: language, text: text)
    let env = MacroEnvironment.forAnalysis(language: language, target: target, pythonVersion: python,
                                           defines: defines, undefines: undefines)
    return CFrontend.parse(src, env: env)
}

extension ParsedFile {
    /// All nodes of a kind under `root` (default: the whole tree), in pre-order.
    fileprivate func nodes(_ kind: NodeKind, under root: Int32? = nil) -> [Int32] {
        var out: [Int32] = []
        tree.walk(root ?? self.root) { n in
            if tree[n].kind == kind { out.append(n) }
            return true
        }
        return out
    }

    fileprivate func children(_ n: Int32) -> [Int32] { Array(tree.children(n)) }

    fileprivate func kinds(of n: Int32) -> [NodeKind] { children(n).map { tree[$0].kind } }

    /// Name of a parsed function (its declarator's name token).
    fileprivate func name(of f: ParsedFunction) -> String {
        guard let d = tree.child(f.node, kind: .declarator) else { return "?" }
        return text(tree[d].mainTok)
    }

    fileprivate var functionNames: [String] { functions.map { name(of: $0) } }

    fileprivate func function(_ name: String) -> ParsedFunction? { functions.first { self.name(of: $0) == name } }

    fileprivate func body(of f: ParsedFunction) -> Int32? { tree.child(f.node, kind: .compound) }

    /// A compact S-expression of a subtree: `(binary + (ident a) (ident b))`.
    fileprivate func sx(_ n: Int32) -> String {
        let node = tree[n]
        var parts = ["\(node.kind)"]
        switch node.kind {
        case .ident, .binary, .assign, .prefix, .postfix, .member, .gotoStmt, .labelStmt, .macroStmt, .macroDecl,
             .designatorField, .enumerator:
            if node.mainTok >= 0 { parts.append(text(node.mainTok)) }
        case .number, .string, .char, .typeName, .unparsed:
            parts.append(text(node: n))
            return "(" + parts.joined(separator: " ") + ")"
        default:
            break
        }
        for c in tree.children(n) { parts.append(sx(c)) }
        return "(" + parts.joined(separator: " ") + ")"
    }
}

// MARK: - 1. Round trip

/// One input for the round-trip check.
struct LexInput: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var cpp: Bool
    var description: String { name }

    init(_ name: String, _ text: String, cpp: Bool = false) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.cpp = cpp
    }

    init(_ name: String, bytes: [UInt8], cpp: Bool = false) {
        self.name = name
        self.bytes = bytes
        self.cpp = cpp
    }
}

enum RoundTrip {
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A || b == 0x0C || b == 0x0B
    }

    /// Problems with the token list of `bytes`: empty when the tokens (trivia included) plus the
    /// whitespace gaps between them reproduce the file exactly.
    static func problems(_ bytes: [UInt8], cpp: Bool) -> [String] {
        problems(bytes, tokens: CLexer(cpp: cpp).lex(bytes).tokens)
    }

    static func problems(_ bytes: [UInt8], tokens toks: [Token]) -> [String] {
        var out: [String] = []
        guard let last = toks.last, last.kind == .eof, last.start == UInt32(bytes.count), last.length == 0 else {
            return ["the token list does not end with an empty .eof at offset \(bytes.count)"]
        }
        if toks.dropLast().contains(where: { $0.kind == .eof }) { out.append(".eof before the end") }
        var rebuilt: [UInt8] = []
        rebuilt.reserveCapacity(bytes.count)
        var pos = 0
        for t in toks {
            let s = Int(t.start)
            let e = t.end
            guard s >= pos, e <= bytes.count, e >= s else {
                out.append("token \(t.kind) at \(s)..<\(e) overlaps or leaves the file (previous end \(pos))")
                return out
            }
            if t.kind != .eof, t.length == 0 { out.append("empty \(t.kind) token at \(s)") }
            // the gap: whitespace, or a backslash-newline continuation
            var i = pos
            while i < s {
                let b = bytes[i]
                if isSpace(b) {
                    i += 1
                } else if b == 0x5C {
                    var k = i + 1
                    while k < s, bytes[k] == 0x20 || bytes[k] == 0x09 || bytes[k] == 0x0D || bytes[k] == 0x0C
                        || bytes[k] == 0x0B { k += 1 }
                    if k < s, bytes[k] == 0x0A {
                        i = k + 1
                    } else {
                        out.append("gap \(pos)..<\(s) holds a backslash at \(i) not followed by a newline")
                        i = s
                    }
                } else {
                    out.append("gap \(pos)..<\(s) holds non-whitespace byte 0x\(String(b, radix: 16)) at \(i)")
                    i = s
                }
            }
            rebuilt.append(contentsOf: bytes[pos..<e])
            // trivia tokens start as they should
            let text = bytes[s..<e]
            switch t.kind {
            case .lineComment where !text.starts(with: [0x2F, 0x2F]):
                out.append("line comment at \(s) does not start with //")
            case .blockComment where !text.starts(with: [0x2F, 0x2A]):
                out.append("block comment at \(s) does not start with /*")
            case .directive where text.first != 0x23:
                out.append("directive at \(s) does not start with #")
            default: break
            }
            pos = e
        }
        if rebuilt != bytes { out.append("tokens and gaps do not reproduce the file") }
        return out
    }

    static func sourceFiles(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            if let l = Language.of(path: rel), l == .c || l == .cpp { out.append(dir + "/" + rel) }
        }
        return out.sorted()
    }

    static var repositoryFiles: [String] {
        (sourceFiles(under: packageRoot + "/Tests/Fixtures") + sourceFiles(under: packageRoot + "/Examples"))
            .map { String($0.dropFirst(packageRoot.count + 1)) }
    }

    static let edgeCases: [LexInput] = [
        LexInput("empty file", ""),
        LexInput("only whitespace", " \t\r\n\u{0C}\u{0B}\n"),
        LexInput("string and char prefixes",
                 "const char *a = u8\"x\"; int b = L'a'; char32_t *c = U\"a\\\"b\"; char16_t *d = u\"q\"; wchar_t *e = L\"w\";\n"),
        LexInput("raw string in C++", "auto s = R\"delim(a )\" b \"\n )delim\"; auto t = R\"(x)\"; auto u = u8R\"(y)\";\n",
                 cpp: true),
        LexInput("raw string shape in C", "char *s = R\"delim(a )\" b )delim\";\n"),
        LexInput("numbers", "double x = 0x1p-3f + 1'000'000 + .5e+10L + 1e+5 + 0xE-1 + 08 + 1.2.3 + 0b1010u;\n", cpp: true),
        LexInput("punctuators", "a->*b; a<<=1; a>>=2; f(...); a.*b; a::b; a+++b; x?y:z; a!=b; a%=b; a^=b; a|=b; a&&b||c;\n",
                 cpp: true),
        LexInput("punctuators in C", "a->*b; a::b; a.*b; x # y ## z; @ $d;\n"),
        LexInput("token paste in a directive", "#define A(x) x##y\n#define S(x) #x\nint z;\n"),
        LexInput("continuation inside a directive", "#define B \\\n  continued \\\n  more\nint z;\n"),
        LexInput("continuation with trailing spaces", "#define B 1 + \\   \n  2\nint z = 1 + \\  \n 2;\n"),
        LexInput("continuation inside a line comment", "// comment \\\n still comment\nint a;\n"),
        LexInput("continuation outside directives", "int a \\\n = 1;\n"),
        LexInput("block comment in a directive", "#define X /* multi\nline */ 1\nint y = X;\n"),
        LexInput("line comment after a directive", "#include <a.h> // why\n#include \"b.h\" /* c */\n"),
        LexInput("quote in a directive", "#error don't do \"this\n#warning it's\nint a;\n"),
        LexInput("directive at EOF without newline", "#if X\nint a;\n#endif"),
        LexInput("hash not at line start", "a # b;\n  #  define Y 2\n"),
        LexInput("unterminated block comment at EOF", "int a; /* never closed\n int b;"),
        LexInput("unterminated string at EOF", "char *s = \"abc"),
        LexInput("unterminated string before newline", "char *s = \"abc\nint b;\n"),
        LexInput("unterminated char", "char c = 'a\nint d;\n"),
        LexInput("escaped backslash at end of string", "char *s = \"a\\\\\"; char c = '\\\\';\n"),
        LexInput("string escape at EOF", "char *s = \"abc\\"),
        LexInput("invalid UTF-8", bytes: Array("int ".utf8) + [0xFF, 0xFE, 0x80] + Array(" = \"".utf8) + [0xC3, 0x28]
                 + Array("\"; // ".utf8) + [0xE2, 0x82] + Array("\n/* ".utf8) + [0xF0, 0x9F] + Array(" */ x".utf8) + [0xC3]),
        LexInput("NUL byte", bytes: Array("int a".utf8) + [0x00] + Array(";\n".utf8)),
        LexInput("lone backslash at EOF", "int a;\n\\"),
        LexInput("backslash and spaces at EOF", "int a;\n\\  "),
        LexInput("stray backslash mid-line", "int a = 1 \\ 2;\n"),
        LexInput("CRLF line endings", "int a;\r\n#define X 1 \\\r\n  + 2\r\n// c\r\nint b; /* d\r\n */\r\n"),
        LexInput("form feed and vertical tab", "int\u{0C}a;\u{0B}int b;\n"),
        LexInput("digit separator at end", "int a = 1';\nint b = 2;\n", cpp: true),
        LexInput("ellipsis and dots", "f(...); a..b; .5; x.y;\n"),
    ]
}

@Suite struct ByteSearchTests {
    @Test("byte search finds needles at both ends and never reads past the hay")
    func byteSearch() {
        let hay = Array("Py_mod_gil, Py_MOD_GIL_NOT_USED".utf8)
        #expect(ByteCursor.containsAny(hay, ["Py_MOD_GIL_NOT_USED"]))           // at the end
        #expect(ByteCursor.containsAny(hay, ["Py_mod"]))                        // at the start
        #expect(!ByteCursor.containsAny(hay, ["Py_MOD_GIL_NOT_USED_"]))         // one byte longer
        #expect(!ByteCursor.containsAny(hay, ["py_mod_gil"]))                   // bytes, not case-folded
        #expect(!ByteCursor.containsAny(hay, [""]))
        #expect(!ByteCursor.containsAny([], ["x"]))
        #expect(ByteCursor.containsAny([0xFF, 0xFE, 0x41], ["A"]))              // invalid UTF-8 around it
    }
}

@Suite struct MacroCatalogueTests {
    @Test("each catalogue macro is listed once (a second row would silently override the first)")
    func uniqueNames() {
        var seen: [String: Int] = [:]
        for e in MacroCatalogue.entries { seen[e.name, default: 0] += 1 }
        #expect(seen.filter { $0.value > 1 }.keys.sorted() == [])
    }
}

@Suite struct SyntaxRoundTripTests {
    @Test("lexer round-trips repository C/C++ files", arguments: RoundTrip.repositoryFiles)
    func repositoryFile(_ rel: String) throws {
        let path = packageRoot + "/" + rel
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let cpp = Language.of(path: path) == .cpp
        let problems = RoundTrip.problems(bytes, cpp: cpp)
        #expect(problems.isEmpty, "\(rel): \(problems)")
    }

    @Test("the repository has C files to round-trip")
    func repositoryHasFiles() {
        #expect(RoundTrip.repositoryFiles.count >= 20)
        #expect(RoundTrip.repositoryFiles.contains("Examples/raceext/table.c"))
    }

    @Test("lexer round-trips edge cases", arguments: RoundTrip.edgeCases)
    func edgeCase(_ input: LexInput) {
        let problems = RoundTrip.problems(input.bytes, cpp: input.cpp)
        #expect(problems.isEmpty, "\(problems)")
        // the same bytes in the other language must round-trip too
        let other = RoundTrip.problems(input.bytes, cpp: !input.cpp)
        #expect(other.isEmpty, "as \(input.cpp ? "C" : "C++"): \(other)")
    }

    @Test("the round-trip check itself detects bad token lists")
    func checkerDetectsProblems() {
        let bytes = Array("int a; // c\n".utf8)
        let toks = CLexer(cpp: false).lex(bytes).tokens
        #expect(toks.map(\.kind) == [.kwInt, .identifier, .semicolon, .lineComment, .eof])
        #expect(RoundTrip.problems(bytes, tokens: toks).isEmpty)
        // a dropped token leaves a non-whitespace gap
        var dropped = toks
        dropped.remove(at: 1)
        #expect(RoundTrip.problems(bytes, tokens: dropped).contains { $0.contains("non-whitespace byte 0x61") })
        // a dropped comment leaves `//` in a gap
        var noComment = toks
        noComment.remove(at: 3)
        #expect(!RoundTrip.problems(bytes, tokens: noComment).isEmpty)
        // overlapping tokens
        var overlap = toks
        overlap[2].start -= 1
        #expect(RoundTrip.problems(bytes, tokens: overlap).contains { $0.contains("overlaps") })
        // a missing .eof
        #expect(!RoundTrip.problems(bytes, tokens: Array(toks.dropLast())).isEmpty)
        // a backslash gap without a newline
        let bs = Array("a \\ b".utf8)
        let bsToks = [Token(kind: .identifier, start: 0, length: 1), Token(kind: .identifier, start: 4, length: 1),
                      Token(kind: .eof, start: 5, length: 0)]
        #expect(RoundTrip.problems(bs, tokens: bsToks).contains { $0.contains("backslash") })
    }

    @Test("lexer round-trips every C/C++ file of $FREERACE_CORPUS",
          .enabled(if: ProcessInfo.processInfo.environment["FREERACE_CORPUS"] != nil))
    func corpus() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["FREERACE_CORPUS"])
        let files = RoundTrip.sourceFiles(under: dir)
        #expect(!files.isEmpty, "no C/C++ files under \(dir)")
        var failures = 0
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let problems = RoundTrip.problems([UInt8](data), cpp: Language.of(path: path) == .cpp)
            if !problems.isEmpty {
                failures += 1
                if failures <= 50 { Issue.record("\(path): \(problems.prefix(3))") }
            }
        }
        #expect(failures == 0, "\(failures) of \(files.count) files do not round-trip")
    }
}

// MARK: - 2. Token kinds

private func sig(_ text: String, cpp: Bool = false) -> [(kind: TokenKind, text: String)] {
    let bytes = Array(text.utf8)
    return CLexer(cpp: cpp).lex(bytes).tokens.filter { !$0.kind.isTrivia && $0.kind != .eof }.map {
        ($0.kind, String(decoding: bytes[Int($0.start)..<$0.end], as: UTF8.self))
    }
}

private func kindsOf(_ text: String, cpp: Bool = false) -> [TokenKind] { sig(text, cpp: cpp).map(\.kind) }

@Suite struct SyntaxTokenKindTests {
    @Test("C++ keywords are identifiers in C")
    func cppKeywordsInC() {
        let src = "class new this namespace template delete bool operator try"
        #expect(kindsOf(src) == Array(repeating: .identifier, count: 9))
        #expect(kindsOf(src, cpp: true) == [.kwClass, .kwNew, .kwThis, .kwNamespace, .kwTemplate, .kwDelete, .kwBool,
                                            .kwOperator, .kwTry])
    }

    @Test("C keywords and their GNU spellings are keywords in both languages")
    func cKeywords() {
        let src = "int static __inline__ __attribute__ _Bool sizeof __restrict typeof static_assert"
        let expected: [TokenKind] = [.kwInt, .kwStatic, .kwInline, .kwAttribute, .kwBool, .kwSizeof, .kwRestrict,
                                     .kwTypeof, .kwStaticAssert]
        #expect(kindsOf(src) == expected)
        #expect(kindsOf(src, cpp: true) == expected)
        // near-misses stay identifiers
        #expect(kindsOf("Int integer i _Boolean static_ sizeof_t __attribute__x") == Array(repeating: .identifier, count: 7))
    }

    @Test("string and character prefixes make one literal token")
    func prefixes() {
        let s = sig("u8\"x\" L'a' U\"abc\" u\"q\" L\"w\" u'c' U'd' '\\'' \"a\\\"b\"")
        #expect(s.map(\.kind) == [.string, .char, .string, .string, .string, .char, .char, .char, .string])
        #expect(s.map(\.text) == ["u8\"x\"", "L'a'", "U\"abc\"", "u\"q\"", "L\"w\"", "u'c'", "U'd'", "'\\''", "\"a\\\"b\""])
        // an identifier that merely ends like a prefix is not one
        let t = sig("xL\"s\" u8x'c'")
        #expect(t.map(\.kind) == [.identifier, .string, .identifier, .char])
    }

    @Test("raw strings only in C++")
    func rawStrings() {
        let src = "R\"d(a)\" b)d\" x"
        let cpp = sig(src, cpp: true)
        #expect(cpp.map(\.kind) == [.string, .identifier])
        #expect(cpp.first?.text == "R\"d(a)\" b)d\"")
        let multi = sig("LR\"(line1\nline2)\" y", cpp: true)
        #expect(multi.map(\.kind) == [.string, .identifier])
        // in C, `R"d(a)"` is an ordinary string and the rest is lexed normally
        let c = sig(src)
        #expect(c.first?.text == "R\"d(a)\"")
        #expect(c.first?.kind == .string)
        #expect(c.map(\.kind).contains(.identifier))
    }

    @Test("preprocessing numbers are one token", arguments: [
        "0x1p-3f", "1'000'000", ".5e+10L", "1e+5", "0xE-1", "0x1P+4", "08", "1.2.3", "0b1010u", "123ULL", "1.f",
    ])
    func numbers(_ n: String) {
        let s = sig(n + " ;", cpp: true)
        #expect(s.map(\.kind) == [.number, .semicolon])
        #expect(s.first?.text == n)
    }

    @Test("a minus that does not follow an exponent ends a number")
    func numberMinus() {
        #expect(sig("1-2").map(\.text) == ["1", "-", "2"])
        #expect(sig("a-1").map(\.kind) == [.identifier, .minus, .number])
        #expect(sig("0x1f-1").map(\.text) == ["0x1f", "-", "1"])
        #expect(sig("1'a").map(\.text) == ["1'a"])  // separator followed by an ident char continues
        #expect(sig("x = 1'; ").map(\.kind) == [.identifier, .assign, .number, .char])
    }

    @Test("punctuators use the longest match")
    func longestMatch() {
        #expect(kindsOf("<<= >>= << >> <= >= < >") == [.shlAssign, .shrAssign, .shl, .shr, .le, .ge, .lt, .gt])
        #expect(kindsOf("a+++b") == [.identifier, .plusPlus, .plus, .identifier])
        #expect(kindsOf("a---b") == [.identifier, .minusMinus, .minus, .identifier])
        #expect(kindsOf("... .. .") == [.ellipsis, .dot, .dot, .dot])
        #expect(kindsOf("-> ->* .* ::", cpp: true) == [.arrow, .arrowStar, .dotStar, .colonColon])
        #expect(kindsOf("-> ->* .* ::") == [.arrow, .arrow, .star, .dot, .star, .colon, .colon])
        #expect(kindsOf("&& & &= || | |= ^= ! != == = %= /= *= -= += ~ ? ,")
                == [.ampAmp, .amp, .ampAssign, .pipePipe, .pipe, .pipeAssign, .caretAssign, .bang, .bangEq, .eqEq,
                    .assign, .percentAssign, .slashAssign, .starAssign, .minusAssign, .plusAssign, .tilde, .question,
                    .comma])
        #expect(kindsOf("x ## y # z") == [.identifier, .hashHash, .identifier, .hash, .identifier])
        #expect(kindsOf("@ \\ x") == [.at, .unknown, .identifier])  // a backslash not before a newline
    }

    @Test("trivia: comments, directives and line-start flags")
    func trivia() {
        let bytes = Array("#define A 1\nint a; // c\n  /* b */ x\n".utf8)
        let toks = CLexer(cpp: false).lex(bytes).tokens
        #expect(toks.map(\.kind) == [.directive, .kwInt, .identifier, .semicolon, .lineComment, .blockComment,
                                     .identifier, .eof])
        #expect(toks[0].length == 11)
        #expect(toks[1].atLineStart)
        #expect(!toks[2].atLineStart)
        #expect(toks[6].flags & Token.Flags.spaceBefore != 0)
        // the first significant token of a line after a block comment still starts the line
        #expect(toks[6].atLineStart)
    }

    @Test("a directive extends over continuations and multi-line comments")
    func directiveExtent() {
        let text = "#define A 1 \\\n + 2 /* x\n y */ + 3\nint z;\n"
        let bytes = Array(text.utf8)
        let toks = CLexer(cpp: false).lex(bytes).tokens
        #expect(toks.first?.kind == .directive)
        let dir = String(decoding: bytes[Int(toks[0].start)..<toks[0].end], as: UTF8.self)
        #expect(dir == "#define A 1 \\\n + 2 /* x\n y */ + 3")
        #expect(toks.dropFirst().map(\.kind) == [.kwInt, .identifier, .semicolon, .eof])
    }

    @Test("a backslash-newline continues a line comment and joins lines outside directives")
    func continuations() {
        let s = sig("// a \\\n still comment\nx = 1 \\\n + 2;")
        #expect(s.map(\.text) == ["x", "=", "1", "+", "2", ";"])
        let bytes = Array("// a \\\n b\nx".utf8)
        let toks = CLexer(cpp: false).lex(bytes).tokens
        #expect(toks.map(\.kind) == [.lineComment, .identifier, .eof])
        #expect(toks[0].end == bytes.count - 2)  // the comment ends before the second newline
    }

    @Test("a backslash before CRLF continues a string, a directive and a line (Windows line endings)")
    func crlfContinuations() {
        let text = "static const char *s = \"abc\\\r\ndef\";\r\n#define X(a) \\\r\n  foo(a)\r\nint y \\\r\n = 1;\r\n"
        let result = CLexer(cpp: false).lex(Array(text.utf8))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        #expect(result.tokens.filter { $0.kind == .directive }.count == 1)
        #expect(result.tokens.filter { $0.kind == .string }.count == 1)
    }

    @Test("unterminated literals and comments are reported")
    func diagnostics() {
        func diags(_ s: String, cpp: Bool = false) -> [String] {
            CLexer(cpp: cpp).lex(Array(s.utf8)).diagnostics.map(\.message)
        }
        #expect(diags("/* open") == ["unterminated comment"])
        #expect(diags("\"abc") == ["unterminated string"])
        #expect(diags("'a\n") == ["unterminated character literal"])
        #expect(diags("R\"x(abc", cpp: true) == ["unterminated raw string"])
        #expect(diags("int a; /* ok */ \"ok\" 'k'").isEmpty)
    }
}

// MARK: - 3. Conditional view

/// Identifier texts of the branches kept.
private func live(_ text: String, _ language: Language = .c, target: AnalysisTarget = .auto,
                  python: (major: Int, minor: Int)? = nil, defines: [String: String] = [:],
                  undefines: [String] = []) -> [String] {
    view(text, language, target: target, python: python, defines: defines, undefines: undefines).live
}

private func view(_ text: String, _ language: Language = .c, target: AnalysisTarget = .auto,
                  python: (major: Int, minor: Int)? = nil, defines: [String: String] = [:],
                  undefines: [String] = []) -> (live: [String], view: ConditionalView) {
    let bytes = Array(text.utf8)
    let lexed = CLexer(cpp: language == .cpp).lex(bytes)
    let env = MacroEnvironment.forAnalysis(language: language, target: target, pythonVersion: python,
                                           defines: defines, undefines: undefines)
    let v = ConditionalView(all: lexed.tokens, bytes: bytes, language: language, env: env)
    #expect(v.tokens.last?.kind == .eof)
    let names = v.tokens.filter { $0.kind == .identifier }.map {
        String(decoding: bytes[Int($0.start)..<$0.end], as: UTF8.self)
    }
    return (names, v)
}

@Suite struct SyntaxConditionalViewTests {
    @Test("#if 0 is dead and its #else live")
    func ifZero() {
        let r = view("#if 0\ndead1 dead2\n#else\nlive\n#endif\nafter\n")
        #expect(r.live == ["live", "after"])
        #expect(r.view.inactiveTokens == 2)
        #expect(r.view.unbalanced == 0)
        #expect(live("#if 1\nyes\n#else\nno\n#endif\n") == ["yes"])
    }

    @Test("an unknown condition keeps the first branch only")
    func unknownKeepsFirst() {
        let src = "#if SOME_UNKNOWN_MACRO\na\n#elif OTHER_UNKNOWN\nb\n#else\nc\n#endif\n"
        let r = view(src)
        #expect(r.live == ["a"])
        let ifDirective = r.view.directives.first { $0.kind == .if }
        #expect(ifDirective?.evaluated == false)
        // a known-false first branch moves on to the first unknown #elif
        #expect(live("#if 0\na\n#elif UNKNOWN\nb\n#else\nc\n#endif\n") == ["b"])
        #expect(live("#ifdef UNKNOWN\na\n#else\nb\n#endif\n") == ["a"])
        #expect(live("#ifndef UNKNOWN\na\n#else\nb\n#endif\n") == ["a"])
    }

    @Test("Py_GIL_DISABLED follows the target", arguments: [
        (AnalysisTarget.freeThreaded, ["ft", "ft2"]),
        (AnalysisTarget.gil, ["gil", "gil2"]),
        (AnalysisTarget.auto, ["ft", "gil2"]),  // unknown: first branch of each
    ])
    func gilDisabled(_ target: AnalysisTarget, _ expected: [String]) {
        let src = "#ifdef Py_GIL_DISABLED\nft\n#else\ngil\n#endif\n#ifndef Py_GIL_DISABLED\ngil2\n#else\nft2\n#endif\n"
        #expect(live(src, target: target) == expected)
    }

    @Test("a file cannot #define or #undef a pinned name")
    func pinnedTarget() {
        let src = "#undef Py_GIL_DISABLED\n#ifdef Py_GIL_DISABLED\nft\n#else\ngil\n#endif\n"
        #expect(live(src, target: .freeThreaded) == ["ft"])
        let src2 = "#define Py_GIL_DISABLED 1\n#ifdef Py_GIL_DISABLED\nft\n#else\ngil\n#endif\n"
        #expect(live(src2, target: .gil) == ["gil"])
        #expect(live(src2, target: .auto) == ["ft"])  // not pinned: the file's #define applies
    }

    @Test("--python sets PY_VERSION_HEX")
    func pythonVersion() {
        let src = "#if PY_VERSION_HEX >= 0x030D0000\nnew_api\n#else\nold_api\n#endif\n"
            + "#if PY_VERSION_HEX < 0x030D0000\nbelow\n#else\nabove\n#endif\n"
            + "#if PY_MINOR_VERSION == 14 && PY_MAJOR_VERSION == 3\nexact\n#endif\n"
        #expect(live(src, python: (3, 14)) == ["new_api", "above", "exact"])
        #expect(live(src, python: (3, 12)) == ["old_api", "below"])
        #expect(live(src, python: (3, 13)) == ["new_api", "above"])
        // no version: unknown, first branches
        #expect(live(src) == ["new_api", "below", "exact"])
        let env = MacroEnvironment.forAnalysis(language: .c, target: .auto, pythonVersion: (3, 14))
        #expect(env.defined["PY_VERSION_HEX"] == "0x030E00F0")
    }

    @Test("-D and -U")
    func defines() {
        let src = "#if FOO > 1\nbig\n#else\nsmall\n#endif\n"
        #expect(live(src, defines: ["FOO": "2"]) == ["big"])
        #expect(live(src, defines: ["FOO": "1"]) == ["small"])
        #expect(live(src, undefines: ["FOO"]) == ["small"])  // undefined names are 0
        #expect(live(src) == ["big"])  // unknown
        // -U wins over -D and over platform facts
        #expect(live("#ifdef FOO\nyes\n#else\nno\n#endif\n", defines: ["FOO": "1"], undefines: ["FOO"]) == ["no"])
        #expect(live("#ifdef __linux__\nlinux\n#else\nother\n#endif\n") == ["linux"])
        #expect(live("#ifdef __linux__\nlinux\n#else\nother\n#endif\n", undefines: ["__linux__"]) == ["other"])
        #expect(live("#ifdef _WIN32\nwin\n#else\nposix\n#endif\n", defines: ["_WIN32": "1"]) == ["win"])
        // -D wins over a file-level #define
        #expect(live("#define FOO 5\n#if FOO > 1\nbig\n#else\nsmall\n#endif\n", defines: ["FOO": "0"]) == ["small"])
    }

    @Test("three-valued logic and short-circuits")
    func threeValued() {
        #expect(live("#if defined(X) && X > 2\nfirst\n#else\nsecond\n#endif\n") == ["first"])
        let r = view("#if defined(X) && X > 2\nfirst\n#else\nsecond\n#endif\n")
        #expect(r.view.directives.first?.evaluated == false)
        #expect(live("#if 0 && UNKNOWN\nfirst\n#else\nsecond\n#endif\n") == ["second"])
        #expect(view("#if 0 && UNKNOWN\nfirst\n#else\nsecond\n#endif\n").view.directives.first?.evaluated == true)
        #expect(live("#if UNKNOWN && 0\nfirst\n#else\nsecond\n#endif\n") == ["second"])
        #expect(live("#if 1 || UNKNOWN\nfirst\n#else\nsecond\n#endif\n") == ["first"])
        #expect(live("#if !defined(_WIN32) && !UNKNOWN_FN(3)\nfirst\n#else\nsecond\n#endif\n") == ["first"])
        #expect(live("#if defined _WIN32 || defined(__APPLE__)\nfirst\n#else\nsecond\n#endif\n") == ["second"])
        #expect(live("#if (2 + 3) * 4 == 20 && 7 % 4 == 3 && (1 << 4) == 16 && -1 < 0 && ~0 == -1\nyes\n#endif\n")
                == ["yes"])
        #expect(live("#if 1 ? 0 : 1\nyes\n#else\nno\n#endif\n") == ["no"])
        #expect(live("#if 'A' == 65\nyes\n#endif\n") == ["yes"])
        #expect(live("#if 10 / 0\nfirst\n#else\nsecond\n#endif\n") == ["first"])  // unknown, not a crash
    }

    @Test("file-local #define and #undef")
    func fileLocal() {
        #expect(live("#define X 1\n#if X\nyes\n#else\nno\n#endif\n") == ["yes"])
        #expect(live("#define X 0\n#if X\nyes\n#else\nno\n#endif\n") == ["no"])
        #expect(live("#define X 1\n#undef X\n#ifdef X\nyes\n#else\nno\n#endif\n") == ["no"])
        #expect(live("#define X 1\n#undef X\n#if X\nyes\n#else\nno\n#endif\n") == ["no"])
        // macro values are expressions of other macros
        #expect(live("#define B 2\n#define A (B + 1)\n#if A == 3\nyes\n#else\nno\n#endif\n") == ["yes"])
        // a #define or #undef in a dead branch does not apply
        #expect(live("#define Y 0\n#if 0\n#undef Y\n#define Y 1\n#endif\n#if Y\nbad\n#else\ngood\n#endif\n") == ["good"])
        // function-like macros are not values
        #expect(live("#define F(x) 0\n#if F\nfirst\n#else\nsecond\n#endif\n") == ["first"])
        let r = view("#define A 1\n#define F(x, y) ((x) + (y))\n#if 0\n#define DEAD 1\n#endif\n")
        #expect(r.view.macros.map(\.name) == ["A", "F", "DEAD"])
        #expect(r.view.macros.map(\.active) == [true, true, false])
        #expect(r.view.macros[1].parameters == ["x", "y"])
        #expect(r.view.macros[1].body == "((x) + (y))")
        #expect(r.view.macros[0].parameters == nil)
    }

    @Test("#elifdef and #elifndef")
    func elifdef() {
        #expect(live("#define K 1\n#if 0\na\n#elifdef K\nb\n#else\nc\n#endif\n") == ["b"])
        #expect(live("#define K 1\n#if 0\na\n#elifndef K\nb\n#else\nc\n#endif\n") == ["c"])
    }

    @Test("nested conditionals")
    func nested() {
        let src = """
        #if 1
        a
        # if 0
        b
        # elif 1
        c
        # else
        d
        # endif
        e
        #else
        f
        # if 1
        g
        # endif
        #endif
        #if 0
        # if 1
        h
        # else
        i
        # endif
        #endif
        j

        """
        let r = view(src)
        #expect(r.live == ["a", "c", "e", "j"])
        #expect(r.view.unbalanced == 0)
        #expect(r.view.inactiveTokens == 6)  // b d f g h i
        // an #if inside a dead branch is recorded as inactive
        #expect(r.view.directives.filter { $0.kind == .if }.map(\.active) == [true, true, false, true, false])
    }

    @Test("unbalanced directives are tolerated and counted")
    func unbalanced() {
        let extra = view("a\n#endif\nb\n#else\nc\n#elif 1\nd\n")
        #expect(extra.live == ["a", "b", "c", "d"])
        #expect(extra.view.unbalanced == 3)
        let missing = view("#if 1\na\n#if 0\nb\n")
        #expect(missing.live == ["a"])
        #expect(missing.view.unbalanced == 2)
        let p = parse("#if 1\nint f(void) { return 0; }\n")
        #expect(p.view.unbalancedDirectives == 1)
        #expect(p.diagnostics.contains { $0.message.contains("1 unbalanced conditional directive") })
        #expect(p.functionNames == ["f"])
    }

    @Test("the frontend parses only the live branch and records includes")
    func frontendUsesView() {
        let src = """
        #include "mod.h"
        #if 0
        #include "dead.h"
        int dead(void) { return 0; }
        #else
        int alive(void) { return 1; }
        #endif
        #ifdef Py_GIL_DISABLED
        int ft(void) { return 2; }
        #endif
        """
        let p = parse(src, target: .gil)
        #expect(p.functionNames == ["alive"])
        #expect(p.view.includes == ["#include \"mod.h\""])
        #expect(parse(src, target: .freeThreaded).functionNames == ["alive", "ft"])
        #expect(parse(src, target: .auto).functionNames == ["alive", "ft"])
    }

    @Test("__cplusplus follows the language")
    func cplusplus() {
        let src = "#ifdef __cplusplus\ncpp\n#else\nc\n#endif\n"
        #expect(live(src, .c) == ["c"])
        #expect(live(src, .cpp) == ["cpp"])
    }
}

// MARK: - 4. Parser

/// Parses `expr;` as the only statement of a function and returns the expression's S-expression.
private func exprTree(_ expr: String, prelude: String = "", _ language: Language = .c) -> String {
    let p = parse(prelude + "\nvoid __t(void) {\n" + expr + ";\n}\n", language)
    guard let f = p.function("__t"), let body = p.body(of: f), let stmt = p.children(body).first else {
        return "no function"
    }
    if f.recovered || p.tree[stmt].kind != .exprStmt { return "recovered: " + p.sx(stmt) }
    return p.sx(p.children(stmt)[0])
}

/// Kinds of the statements of the body of `name`.
private func statementKinds(_ p: ParsedFile, _ name: String) -> [NodeKind] {
    guard let f = p.function(name), let b = p.body(of: f) else { return [] }
    return p.kinds(of: b)
}

@Suite struct SyntaxParserTests {
    // MARK: declarations

    @Test("function definitions with storage classes, attributes and macros")
    func functions() throws {
        let src = """
        static inline int add(int a, int b) { return a + b; }
        __attribute__((unused)) static int g(void) { return 0; }
        int h(void) __attribute__((noinline));
        PyAPI_FUNC(PyObject *) api_f(void);
        PyMODINIT_FUNC PyInit_x(void) { return NULL; }
        NPY_NO_EXPORT PyObject *npy_f(void) { return NULL; }
        static PyObject *
        multi_line(PyObject *self, PyObject *Py_UNUSED(ignored))
        {
            Py_RETURN_NONE;
        }
        int variadic(const char *fmt, ...) { return 0; }
        """
        let p = parse(src)
        #expect(p.functionNames == ["add", "g", "PyInit_x", "npy_f", "multi_line", "variadic"])
        #expect(p.functions.allSatisfy { !$0.recovered })
        #expect(p.recoveryTokens.isEmpty)

        let add = try #require(p.function("add"))
        let spec = try #require(p.tree.child(add.node, kind: .specifiers))
        let bits = p.tree[spec].aux
        #expect(bits & SpecifierBits.static != 0)
        #expect(bits & SpecifierBits.inline != 0)
        #expect(bits & SpecifierBits.builtin != 0)
        let decl = try #require(p.tree.child(add.node, kind: .declarator))
        #expect(p.tree[decl].flags & DeclaratorFlags.function != 0)
        let params = try #require(p.tree.child(decl, kind: .paramList))
        #expect(p.children(params).count == 2)

        // PyAPI_FUNC(PyObject *) f(void); is a prototype returning PyObject *
        let decls = p.nodes(.declaration).filter { p.tree[$0].firstTok >= 0 && p.text(node: $0).hasPrefix("PyAPI_FUNC") }
        let apiDecl = try #require(decls.first)
        let apiSpec = try #require(p.tree.child(apiDecl, kind: .specifiers))
        #expect(p.text(p.tree[apiSpec].mainTok) == "PyObject")
        #expect(p.tree[apiSpec].flags == 1)  // one pointer level from the wrapper
        let apiInit = try #require(p.tree.child(apiDecl, kind: .initDeclarator))
        let apiD = try #require(p.tree.child(apiInit, 0))
        #expect(p.text(p.tree[apiD].mainTok) == "api_f")
        #expect(p.tree[apiD].flags & DeclaratorFlags.function != 0)

        // NPY_NO_EXPORT PyObject *npy_f(void): return type PyObject, one pointer
        let npy = try #require(p.function("npy_f"))
        let npySpec = try #require(p.tree.child(npy.node, kind: .specifiers))
        #expect(p.text(p.tree[npySpec].mainTok) == "PyObject")
        let npyDecl = try #require(p.tree.child(npy.node, kind: .declarator))
        #expect(p.tree[npyDecl].aux == 1)

        // Py_UNUSED(ignored) names the parameter
        let ml = try #require(p.function("multi_line"))
        let mlDecl = try #require(p.tree.child(ml.node, kind: .declarator))
        let mlParams = try #require(p.tree.child(mlDecl, kind: .paramList))
        let names = p.children(mlParams).compactMap { p.tree.child($0, kind: .declarator) }.map { p.text(p.tree[$0].mainTok) }
        #expect(names == ["self", "ignored"])

        let v = try #require(p.function("variadic"))
        let vDecl = try #require(p.tree.child(v.node, kind: .declarator))
        let vParams = try #require(p.tree.child(vDecl, kind: .paramList))
        #expect(p.tree[vParams].flags & 1 == 1)
    }

    @Test("an unknown annotation macro before the return type")
    func unknownAnnotation() throws {
        let p = parse("MY_EXPORT PyObject *g(void) { return NULL; }\nMY_API static void h(int x) { (void)x; }\n")
        #expect(p.functionNames == ["g", "h"])
        #expect(p.functions.allSatisfy { !$0.recovered })
        let g = try #require(p.function("g"))
        let spec = try #require(p.tree.child(g.node, kind: .specifiers))
        #expect(p.text(p.tree[spec].mainTok) == "PyObject")
    }

    @Test("struct, union, enum and typedef")
    func aggregates() throws {
        let src = """
        struct point { int x, y; struct point *next; };
        union num { int i; double d; };
        enum color { RED, GREEN = 2, BLUE };
        typedef struct { int a; unsigned flags : 3; } T;
        typedef struct node Node;
        typedef int (*compare_fn)(const void *, const void *);
        struct with_anon { union { int u1; float u2; }; int tail; };
        T *make_t(void) { return (T *)0; }
        """
        let p = parse(src)
        #expect(p.recoveryTokens.isEmpty)
        // struct specifiers of the top-level declarations (not the `struct point *next` inside)
        let structs = p.children(p.root).compactMap { d -> Int32? in
            guard let spec = p.tree.child(d, kind: .specifiers) else { return nil }
            return p.tree.child(spec, kind: .structSpec)
        }
        let tags = structs.map { p.tree[$0].mainTok >= 0 ? p.text(p.tree[$0].mainTok) : "<anon>" }
        #expect(tags == ["point", "num", "<anon>", "node", "with_anon"])
        #expect(p.tree[structs[3]].flags == 0)   // `struct node` without a body
        #expect(p.tree[structs[0]].flags == 2)   // has body
        #expect(p.tree[structs[1]].flags == 3)   // union with body
        let pointFields = p.children(structs[0]).filter { p.tree[$0].kind == .fieldDecl }
        #expect(pointFields.count == 2)
        // `int x, y;` is one field declaration with two declarators
        #expect(p.children(pointFields[0]).filter { p.tree[$0].kind == .declarator }.count == 2)

        let enums = p.nodes(.enumSpec)
        #expect(enums.count == 1)
        #expect(p.text(p.tree[enums[0]].mainTok) == "color")
        let enumerators = p.children(enums[0]).map { p.sx($0) }
        #expect(enumerators == ["(enumerator RED)", "(enumerator GREEN (number 2))", "(enumerator BLUE)"])

        // typedef names become type names: `(T *)0` is a cast
        let mk = try #require(p.function("make_t"))
        let ret = try #require(p.nodes(.returnStmt, under: mk.node).first)
        #expect(p.tree[p.children(ret)[0]].kind == .cast)

        // function pointer typedef
        let fpDecls = p.nodes(.declarator).filter { p.tree[$0].flags & DeclaratorFlags.functionPointer != 0 }
        let names = fpDecls.map { p.text(p.tree[$0].mainTok) }
        #expect(names.contains("compare_fn"))
    }

    @Test("function pointers as variables, fields and parameters")
    func functionPointers() throws {
        let src = """
        int (*cb)(int);
        struct ops { void (*handler)(PyObject *, int); int (*table[4])(void); };
        void reg(int (*fn)(void *), void *arg);
        """
        let p = parse(src)
        #expect(p.recoveryTokens.isEmpty)
        let fp = p.nodes(.declarator).filter { p.tree[$0].flags & DeclaratorFlags.functionPointer != 0 }
            .map { p.text(p.tree[$0].mainTok) }
        #expect(Set(fp).isSuperset(of: ["cb", "handler", "table", "fn"]))
        // the inner declarator carries the pointer
        let cb = try #require(p.nodes(.declarator).first { p.text(p.tree[$0].mainTok) == "cb"
            && p.tree[$0].flags & DeclaratorFlags.functionPointer != 0 })
        let inner = try #require(p.tree.child(cb, kind: .declarator))
        #expect(p.tree[inner].aux == 1)
        #expect(p.tree.child(cb, kind: .paramList) != nil)
    }

    @Test("a function returning a function pointer is a definition")
    func functionReturningFunctionPointer() throws {
        let p = parse("static void (*get_handler(void))(int) { return handler; }\nint after(void) { return 0; }\n")
        #expect(p.functionNames == ["get_handler", "after"])
        #expect(p.recoveryTokens.isEmpty)
    }

    @Test("designated and positional initializers")
    func initializers() throws {
        let src = """
        struct point p = { .x = 1, .y = 2 };
        int a[4] = { [0] = 1, [2 ... 3] = 3 };
        static PyMethodDef methods[] = {
            {"get", (PyCFunction)get_impl, METH_O, NULL},
            {NULL, NULL, 0, NULL}
        };
        struct nested n = { .inner = { .a = 1 }, .arr = { 1, 2 } };
        """
        let p = parse(src)
        #expect(p.recoveryTokens.isEmpty)
        let inits = p.nodes(.initDeclarator)
        #expect(inits.count == 4)
        let pInit = try #require(p.tree.child(inits[0], 1))
        #expect(p.sx(pInit) == "(initList (designatedInit (designatorField x) (number 1)) (designatedInit (designatorField y) (number 2)))")
        let aInit = try #require(p.tree.child(inits[1], 1))
        #expect(p.sx(aInit)
                == "(initList (designatedInit (designatorIndex (number 0)) (number 1)) (designatedInit (designatorIndex (number 2) (number 3)) (number 3)))")
        let mInit = try #require(p.tree.child(inits[2], 1))
        let rows = p.children(mInit)
        #expect(rows.count == 2)
        #expect(p.sx(rows[0]) == "(initList (string \"get\") (cast (typeName PyCFunction) (ident get_impl)) (ident METH_O) (ident NULL))")
        let nInit = try #require(p.tree.child(inits[3], 1))
        #expect(p.sx(nInit) == "(initList (designatedInit (designatorField inner) (initList (designatedInit (designatorField a) (number 1)))) (designatedInit (designatorField arr) (initList (number 1) (number 2))))")
    }

    @Test("a static type object initialized after PyVarObject_HEAD_INIT")
    func typeObjectInit() throws {
        let src = """
        static PyTypeObject T_Type = {
            PyVarObject_HEAD_INIT(NULL, 0)
            .tp_name = "m.T",
            .tp_basicsize = sizeof(TObject),
        };
        static PyTypeObject P_Type = {
            PyVarObject_HEAD_INIT(NULL, 0)
            "m.P",
            sizeof(PObject),
        };
        static PyTypeObject Q_Type = {
            PyVarObject_HEAD_INIT(NULL, 0).tp_name = "m.Q",
        };
        """
        let p = parse(src)
        #expect(p.recoveryTokens.isEmpty)
        let inits = p.nodes(.initDeclarator).compactMap { p.tree.child($0, 1) }
        #expect(inits.count == 3)
        #expect(p.kinds(of: inits[0]) == [.ident, .designatedInit, .designatedInit])
        #expect(p.kinds(of: inits[1]) == [.ident, .string, .sizeofExpr])
        // No comma after the head macro (Pillow writes it so): still a designator, not a member access.
        #expect(p.kinds(of: inits[2]) == [.ident, .designatedInit])
    }

    @Test("PyObject_HEAD structs")
    func pyObjectHead() throws {
        let src = """
        typedef struct {
            PyObject_HEAD
            PyObject *dict;
            Py_ssize_t n;
            PyMutex lock;
        } FooObject;
        """
        let p = parse(src)
        #expect(p.recoveryTokens.isEmpty)
        let st = try #require(p.nodes(.structSpec).first)
        let fields = p.children(st)
        #expect(fields.count == 4)
        #expect(p.tree[fields[0]].kind == .fieldDecl)
        #expect(p.tree[fields[0]].flags == 1)
        #expect(p.text(p.tree[fields[0]].mainTok) == "PyObject_HEAD")
        let names = fields.dropFirst().compactMap { p.tree.child($0, kind: .declarator) }.map { p.text(p.tree[$0].mainTok) }
        #expect(names == ["dict", "n", "lock"])
    }

    // MARK: statements

    @Test("all statement kinds parse without recovery")
    func statements() {
        let src = """
        int f(int n, int *out) {
            int i, total = 0;
            ;
            for (int k = 0; k < n; k++) total += k;
            for (;;) { break; }
            while (n > 0) { n--; continue; }
            do { n++; } while (n < 10);
            switch (n) {
            case 1:
            case 2 ... 4:
                total = 1;
                break;
            default:
                goto done;
            }
            if (total) total = 2; else if (n) total = 3; else { total = 4; }
            { int inner = 5; (void)inner; }
        done:
            *out = total;
            __asm__ volatile ("nop");
            return total;
        }
        """
        let p = parse(src)
        #expect(p.functionNames == ["f"])
        #expect(p.functions.first?.recovered == false)
        #expect(p.recoveryTokens.isEmpty)
        #expect(statementKinds(p, "f") == [.declStmt, .emptyStmt, .forStmt, .forStmt, .whileStmt, .doStmt, .switchStmt,
                                           .ifStmt, .compound, .labelStmt, .exprStmt, .asmStmt, .returnStmt])
        let f = p.functions[0]
        let sw = p.nodes(.switchStmt, under: f.node)[0]
        let swBody = p.children(sw)[1]
        #expect(p.kinds(of: swBody) == [.caseStmt, .caseStmt, .exprStmt, .breakStmt, .defaultStmt, .gotoStmt])
        #expect(p.sx(p.nodes(.gotoStmt, under: f.node)[0]) == "(gotoStmt done)")
        #expect(p.sx(p.nodes(.labelStmt, under: f.node)[0]) == "(labelStmt done)")
        // for with a declaration: init declaration, condition, step, body
        let for1 = p.nodes(.forStmt, under: f.node)[0]
        #expect(p.kinds(of: for1) == [.declaration, .binary, .postfix, .exprStmt])
        // `for (;;)` has only its body
        let for2 = p.nodes(.forStmt, under: f.node)[1]
        #expect(p.kinds(of: for2) == [.compound])
        // else-if chain
        let ifs = p.nodes(.ifStmt, under: f.node)
        #expect(ifs.count == 2)
        #expect(p.kinds(of: ifs[0]) == [.ident, .exprStmt, .ifStmt])
        let doS = p.nodes(.doStmt, under: f.node)[0]
        #expect(p.kinds(of: doS) == [.compound, .binary])
    }

    @Test("local declarations versus expressions")
    func localDeclarations() {
        let src = """
        typedef struct S S;
        void f(PyObject *self, int n) {
            PyObject *x = NULL;
            S *s;
            S value;
            n * x;
            self->count = n;
            int (*fp)(int) = 0;
            size_t len = sizeof(PyObject *);
        }
        """
        let p = parse(src)
        #expect(p.functions.first?.recovered == false)
        #expect(statementKinds(p, "f") == [.declStmt, .declStmt, .declStmt, .exprStmt, .exprStmt, .declStmt, .declStmt])
    }

    // MARK: expressions

    @Test("binary precedence and associativity", arguments: [
        ("a + b * c", "(binary + (ident a) (binary * (ident b) (ident c)))"),
        ("a * b + c", "(binary + (binary * (ident a) (ident b)) (ident c))"),
        ("a - b - c", "(binary - (binary - (ident a) (ident b)) (ident c))"),
        ("a || b && c", "(binary || (ident a) (binary && (ident b) (ident c)))"),
        ("a | b ^ c & d", "(binary | (ident a) (binary ^ (ident b) (binary & (ident c) (ident d))))"),
        ("a == b < c", "(binary == (ident a) (binary < (ident b) (ident c)))"),
        ("x << 1 + 2", "(binary << (ident x) (binary + (number 1) (number 2)))"),
        ("!a == b", "(binary == (prefix ! (ident a)) (ident b))"),
        ("a = b = c", "(assign = (ident a) (assign = (ident b) (ident c)))"),
        ("a += b * 2", "(assign += (ident a) (binary * (ident b) (number 2)))"),
        ("a ? b : c ? d : e", "(conditional (ident a) (ident b) (conditional (ident c) (ident d) (ident e)))"),
        ("a, b = c", "(comma (ident a) (assign = (ident b) (ident c)))"),
        ("-a * b", "(binary * (prefix - (ident a)) (ident b))"),
        ("*p++", "(prefix * (postfix ++ (ident p)))"),
        ("&s->f[1]", "(prefix & (index (member f (ident s)) (number 1)))"),
        ("p->a.b[i](x, y)", "(call (index (member b (member a (ident p))) (ident i)) (ident x) (ident y))"),
        ("f(a, b)(c)", "(call (call (ident f) (ident a) (ident b)) (ident c))"),
        ("sizeof x + 1", "(binary + (sizeofExpr (ident x)) (number 1))"),
        ("sizeof(int) * n", "(binary * (sizeofExpr (typeName int)) (ident n))"),
        ("sizeof(PyObject *)", "(sizeofExpr (typeName PyObject *))"),
        ("\"a\" \"b\"", "(string \"a\" \"b\")"),
        ("'c'", "(char 'c')"),
    ])
    func precedence(_ expr: String, _ expected: String) {
        #expect(exprTree(expr) == expected)
    }

    @Test("casts versus parenthesized expressions", arguments: [
        ("(PyObject *)x", "(cast (typeName PyObject *) (ident x))"),
        ("(x)(y)", "(call (paren (ident x)) (ident y))"),
        ("(size_t)-1", "(cast (typeName size_t) (prefix - (number 1)))"),
        ("(MyType)-1", "(cast (typeName MyType) (prefix - (number 1)))"),       // typedef in the prelude
        ("(a)-1", "(binary - (paren (ident a)) (number 1))"),                  // unknown name: not a cast
        ("(a) * b", "(binary * (paren (ident a)) (ident b))"),
        ("(Unknown *)p", "(cast (typeName Unknown *) (ident p))"),              // starred shape
        ("(Unknown)p", "(cast (typeName Unknown) (ident p))"),                  // an operand follows
        ("(int)(x + 1)", "(cast (typeName int) (paren (binary + (ident x) (number 1))))"),
        ("(struct point){ .x = 1 }", "(compoundLiteral (typeName struct point) (initList (designatedInit (designatorField x) (number 1))))"),
        ("(void (*)(int))fp", "(cast (typeName void (*)(int)) (ident fp))"),
        ("(const char *)s", "(cast (typeName const char *) (ident s))"),
    ])
    func casts(_ expr: String, _ expected: String) {
        #expect(exprTree(expr, prelude: "typedef int MyType;") == expected)
    }

    @Test("GNU statement expressions")
    func statementExpression() {
        let t = exprTree("y = ({ int t = x; t * 2; })")
        #expect(t == "(assign = (ident y) (stmtExpr (compound (declStmt (declaration (specifiers) (initDeclarator (declarator) (ident x)))) (exprStmt (binary * (ident t) (number 2))))))")
    }

    @Test("GNU extensions: label addresses and ?:")
    func gnuExtensions() {
        #expect(exprTree("p = &&label") == "(assign = (ident p) (prefix && (ident label)))")
        #expect(exprTree("a ?: b") == "(conditional (ident a) (ident b))")
    }

    // MARK: macros

    @Test("catalogued macros become macro statements with their region")
    func catalogueMacros() throws {
        let src = """
        static PyObject *f(PyObject *self) {
            Py_BEGIN_CRITICAL_SECTION(self);
            x = 1;
            Py_END_CRITICAL_SECTION();
            Py_BEGIN_ALLOW_THREADS
            sleep(1);
            Py_END_ALLOW_THREADS
            Py_BEGIN_CRITICAL_SECTION2(a, b);
            Py_END_CRITICAL_SECTION2();
            Py_RETURN_NONE;
        }
        """
        let p = parse(src)
        let f = try #require(p.function("f"))
        #expect(!f.recovered)
        #expect(statementKinds(p, "f") == [.macroStmt, .exprStmt, .macroStmt, .macroStmt, .exprStmt, .macroStmt,
                                           .macroStmt, .macroStmt, .macroStmt])
        let macros = p.nodes(.macroStmt, under: f.node).map { p.tree[$0] }
        func region(_ n: Node) -> RegionKind? { n.flags == 0 ? nil : RegionKind(rawValue: n.flags - 1) }
        #expect(macros.map { p.text($0.mainTok) } == ["Py_BEGIN_CRITICAL_SECTION", "Py_END_CRITICAL_SECTION",
                                                      "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS",
                                                      "Py_BEGIN_CRITICAL_SECTION2", "Py_END_CRITICAL_SECTION2",
                                                      "Py_RETURN_NONE"])
        #expect(macros.map { region($0) } == [.criticalSection, .criticalSection, .gilReleased, .gilReleased,
                                              .criticalSection2, .criticalSection2, nil])
        #expect(macros.map { MacroRole(rawValue: UInt8($0.aux)) } == [.blockBegin, .blockEnd, .blockBegin, .blockEnd,
                                                                     .blockBegin, .blockEnd, .returnStatement])
        // the argument of the critical section is parsed
        let cs = p.nodes(.macroStmt, under: f.node)[0]
        #expect(p.sx(cs) == "(macroStmt Py_BEGIN_CRITICAL_SECTION (argList (ident self)))")
    }

    @Test("unknown macros by shape")
    func unknownMacros() throws {
        let src = """
        DEFINE_THING(a, b)
        PyDoc_STRVAR(doc, "text");

        static int f(PyObject *self) {
            DO_SOMETHING(self)
            y = 1;
            FOREACH(x) {
                use(x);
            }
            RELEASE_ALL
            return 0;
        }
        """
        let p = parse(src)
        #expect(p.functionNames == ["f"])
        let f = try #require(p.function("f"))
        #expect(!f.recovered)
        #expect(p.recoveryTokens.isEmpty)
        // file scope
        let top = p.children(p.root)
        #expect(p.kinds(of: p.root) == [.macroDecl, .macroDecl, .functionDef])
        #expect(p.text(p.tree[top[0]].mainTok) == "DEFINE_THING")
        #expect(p.text(p.tree[top[1]].mainTok) == "PyDoc_STRVAR")
        // statements
        #expect(statementKinds(p, "f") == [.macroStmt, .exprStmt, .macroStmt, .macroStmt, .returnStmt])
        let ms = p.nodes(.macroStmt, under: f.node)
        #expect(ms.map { p.tree[$0].aux } == [255, 255, 255])
        #expect(ms.map { p.text(p.tree[$0].mainTok) } == ["DO_SOMETHING", "FOREACH", "RELEASE_ALL"])
        // FOREACH(x) { ... } keeps its block
        #expect(p.kinds(of: ms[1]) == [.call, .compound])
        #expect(p.nodes(.call, under: ms[1]).count == 2)  // FOREACH(x) and use(x)
    }

    @Test("a file-scope macro line does not swallow the next declaration")
    func fileScopeMacroSequence() {
        let src = """
        MODULE_LICENSE(x)
        MODULE_AUTHOR(y)
        static int g = 1;
        int f(void) { return g; }
        """
        let p = parse(src)
        #expect(p.kinds(of: p.root) == [.macroDecl, .macroDecl, .declaration, .functionDef])
        #expect(p.functionNames == ["f"])
        #expect(p.recoveryTokens.isEmpty)
    }

    // MARK: C++

    @Test("C++: namespaces, classes, constructors, templates, lambdas")
    func cpp() throws {
        let src = """
        #include <vector>
        namespace outer { namespace inner {
        class Counter : public Base<int> {
        public:
            Counter(int start) : value_(start), extra_{2} { init(); }
            ~Counter() { value_ = 0; }
            int get() const noexcept { return value_; }
            static Counter *make() { return create(1); }
            bool operator==(const Counter &o) const { return value_ == o.value_; }
        private:
            int value_;
            int extra_;
        };
        } }

        template <typename T>
        T maxv(T a, T b) { return a > b ? a : b; }

        int outer::inner::Counter::twice() { return 2 * value_; }

        void use_lambda(std::vector<int> &v) {
            auto twice = [&](int x) -> int { return x * 2; };
            for (auto &e : v) { e = twice(e); }
            std::sort(v.begin(), v.end(), [](int a, int b) { return a < b; });
            try { throw 1; } catch (...) { }
        }
        """
        let p = parse(src, .cpp)
        #expect(p.functionNames == ["Counter", "Counter", "get", "make", "operator", "maxv", "twice", "use_lambda"])
        for f in p.functions { #expect(!f.recovered, "\(p.name(of: f)) recovered") }
        #expect(p.recoveryTokens.isEmpty)
        #expect(p.nodes(.namespaceDecl).count == 2)
        let lambdas = p.nodes(.lambda)
        #expect(lambdas.count == 2)
        for l in lambdas { #expect(p.tree.child(l, kind: .compound) != nil) }
        let ul = try #require(p.function("use_lambda"))
        #expect(statementKinds(p, "use_lambda") == [.declStmt, .forStmt, .exprStmt, .tryStmt])
        _ = ul
        // the constructor's initializer list is skipped and its body found
        let ctor = p.functions[0]
        #expect(p.nodes(.call, under: ctor.node).map { p.sx($0) } == ["(call (ident init))"])
    }

    @Test("C++: new-expressions of user types", arguments: [
        "Foo *make() { return new Foo(1); }",
        "Foo *make() { Foo *f = new Foo; return f; }",
        "Foo *make() { return new Foo{1, 2}; }",
        "Foo *make() { return new (buf) Foo(1); }",
        "int *make() { return new int[4]; }",
        "std::string *make() { return new std::string(\"x\"); }",
        "Foo **make() { return new Foo *[4]; }",
    ])
    func cppNew(_ body: String) throws {
        let p = parse("struct Foo { Foo(int); };\n" + body + "\n", .cpp)
        let f = try #require(p.function("make"))
        #expect(!f.recovered, "\(p.dump())")
        #expect(p.nodes(.newExpr, under: f.node).count == 1)
        #expect(p.nodes(.unparsed, under: f.node).isEmpty)
    }

    @Test("C++: extern \"C\" blocks")
    func linkage() {
        let p = parse("extern \"C\" {\nint a(void) { return 0; }\n}\nextern \"C\" int b(void);\n", .cpp)
        #expect(p.functionNames == ["a"])
        #expect(p.nodes(.linkageSpec).count == 1)
        #expect(p.recoveryTokens.isEmpty)
        let c = parse("#ifdef __cplusplus\nextern \"C\" {\n#endif\nint a(void) { return 0; }\n#ifdef __cplusplus\n}\n#endif\n")
        #expect(c.functionNames == ["a"])
        #expect(c.recoveryTokens.isEmpty)
    }
}

// MARK: - 5. Recovery

/// A deeply nested input, named so that test output stays short.
struct DeepInput: CustomStringConvertible, Sendable {
    var description: String
    var unclosed = false
    var make: @Sendable () -> String
    var source: String { make() }

    static let n = 100_000
    static func rep(_ s: String, _ k: Int = n) -> String { String(repeating: s, count: k) }
    static let tail = "\nint g(void) { return 1; }\n"

    static let parens: [DeepInput] = [
        DeepInput(description: "parentheses in a return") { "int f(void) { return " + rep("(") + "x" + rep(")") + "; }" + tail },
        DeepInput(description: "parentheses in a file-scope initializer") { "int v = " + rep("(") + "1" + rep(")") + ";" + tail },
        DeepInput(description: "unclosed parentheses") { "int f(void) { return " + rep("(") + "; }" + tail },
        DeepInput(description: "unary minus chain") { "int f(void) { x = " + rep("- ") + "1; }" + tail },
        DeepInput(description: "nested calls") { "int f(void) { return " + rep("f(") + "x" + rep(")") + "; }" + tail },
        DeepInput(description: "nested casts") { "int f(void) { return " + rep("(int)") + "x; }" + tail },
        DeepInput(description: "nested brackets") { "int f(void) { return a" + rep("[") + "0" + rep("]") + "; }" + tail },
    ]

    static let braces: [DeepInput] = [
        DeepInput(description: "blocks") { "void f(void) " + rep("{") + rep("}") + tail },
        DeepInput(description: "initializer lists") { "int a[] = " + rep("{") + "1" + rep("}") + ";" + tail },
        DeepInput(description: "nested structs") { "struct s " + rep("{ struct t ", n / 10) + "int x;" + rep("};", n / 10) + "};" + tail },
        DeepInput(description: "if blocks") { "void f(void) { " + rep("if (x) {") + rep("}") + " }" + tail },
        DeepInput(description: "statement expressions") { "void f(void) { x = " + rep("({") + rep("})") + "; }" + tail },
        DeepInput(description: "unclosed blocks", unclosed: true) { "void f(void) " + rep("{") + tail },
    ]
}

@Suite struct SyntaxRecoveryTests {
    @Test("garbage in one body marks only that function recovered")
    func garbageInBody() {
        let src = """
        int before(void) { return 0; }
        void broken(void) {
            int ok = 1;
            @@@ $$$;
            ok = 2;
        }
        int after(int x) { return x + 1; }
        """
        let p = parse(src)
        #expect(p.functionNames == ["before", "broken", "after"])
        #expect(p.functions.map(\.recovered) == [false, true, false])
        #expect(!p.recoveryTokens.isEmpty)
        // statements after the garbage in the same body are still parsed
        #expect(statementKinds(p, "broken").last == .exprStmt)
        #expect(statementKinds(p, "broken").contains(.unparsed))
    }

    @Test("garbage at file scope is recovered and the next function found", arguments: [
        "@@@ $$$;\n",
        "@@@ $$$ ;;\n) ] } garbage ;\n",
        "int x = @@@;\n",
        "struct { int a; @@@ } s;\n",
        "static int broken(\n",          // unclosed parameter list
        "garbage ( ;\n",                  // unclosed parenthesis in junk
    ])
    func garbageAtFileScope(_ junk: String) throws {
        let p = parse(junk + "int after(void) { return 1; }\nint last(void) { return 2; }\n")
        #expect(p.functionNames == ["after", "last"], "\(p.dump())")
        #expect(p.functions.map(\.recovered) == [false, false])
        #expect(!p.recoveryTokens.isEmpty)
        // all recoveries are before the functions: they are file-scope recoveries
        let f = try #require(p.function("after"))
        let fnFirst = p.tree[f.node].firstTok
        #expect(p.recoveryTokens.allSatisfy { $0 < fnFirst })
    }

    @Test("an unclosed body recovers at end of file")
    func unclosedBody() {
        let p = parse("int a(void) { return 0; }\nint b(void) {\n  if (x) {\n    y();\n")
        #expect(p.functionNames == ["a", "b"])
        #expect(p.functions.map(\.recovered) == [false, true])
    }

    @Test("100k nested parentheses finish quickly", arguments: DeepInput.parens)
    func deepParens(_ input: DeepInput) {
        // an 8 MiB stack, like the main thread's
        let src = input.source
        let start = ContinuousClock.now
        let (names, recovered) = onLargeStack(stackBytes: 8 << 20) { () -> ([String], [Bool]) in
            let p = parse(src)
            return (p.functionNames, p.functions.map(\.recovered))
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(20), "took \(elapsed)")
        #expect(names.last == "g", "functions: \(names)")
        #expect(recovered.last == false)
        if names.first == "f" { #expect(recovered.first == true) }  // beyond the depth limit: recovered
    }

    @Test("100k nested braces finish quickly", arguments: DeepInput.braces)
    func deepBraces(_ input: DeepInput) {
        let src = input.source
        let start = ContinuousClock.now
        let (names, recovered) = onLargeStack(stackBytes: 8 << 20) { () -> ([String], [Bool]) in
            let p = parse(src)
            return (p.functionNames, p.functions.map(\.recovered))
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(20), "took \(elapsed)")
        if input.unclosed {
            // everything after the unclosed brace is inside f
            #expect(names == ["f"], "functions: \(names)")
            #expect(recovered == [true])
        } else {
            #expect(names.last == "g", "functions: \(names)")
            #expect(recovered.last == false)
        }
    }

    @Test("the tree of a nested expression within the depth limit is complete")
    func withinLimit() {
        let n = 100
        let t = exprTree(String(repeating: "(", count: n) + "x" + String(repeating: ")", count: n))
        #expect(t == String(repeating: "(paren ", count: n) + "(ident x)" + String(repeating: ")", count: n))
    }
}

// MARK: - fixtures parse cleanly

@Suite struct SyntaxFixtureParseTests {
    @Test("repository C files parse with no recovered function", arguments: RoundTrip.repositoryFiles)
    func parsesClean(_ rel: String) throws {
        let path = packageRoot + "/" + rel
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let lang = Language.of(path: path) ?? .c
        let src = SourceFile(path: rel, language: lang, bytes: bytes)
        let p = CFrontend.parse(src, env: .forAnalysis(language: lang, target: .auto))
        let recovered = p.functions.filter(\.recovered).map { p.name(of: $0) }
        #expect(recovered.isEmpty, "recovered functions: \(recovered)")
        #expect(p.view.unbalancedDirectives == 0)
    }
}

@Suite struct MacroExpanderTests {
    static func parse(_ text: String) -> ParsedFile {
        let src = SourceFile(path: "m.c", language: .c, bytes: Array(text.utf8))
        let policy = MacroExpansionPolicy(triggers: ["PyMutex_Lock", "lib_free"])
        return CFrontend.parse(src, env: .forAnalysis(language: .c, target: .auto), policy: policy)
    }

    @Test("a GIL-releasing statement macro is expanded at its use, located there; arguments keep their own places")
    func expandsAtUse() {
        let text = """
            #define UNLOCKED(out, e) Py_BEGIN_ALLOW_THREADS out = (e); Py_END_ALLOW_THREADS
            int f(int *p) {
                int rc;
                UNLOCKED(rc, g(p));
                return rc;
            }
            """
        let p = Self.parse(text)
        let texts = p.tokens.indices.map { p.text(Int32($0)) }
        #expect(texts.contains("Py_BEGIN_ALLOW_THREADS") && texts.contains("Py_END_ALLOW_THREADS"))
        #expect(!texts.contains("UNLOCKED"))
        let begin = Int32(texts.firstIndex(of: "Py_BEGIN_ALLOW_THREADS")!)
        let end = Int32(texts.firstIndex(of: "Py_END_ALLOW_THREADS")!)
        let g = Int32(texts.firstIndex(of: "g")!)
        // the body opens at the macro's name and closes at its closing parenthesis
        #expect(p.location(of: begin).line == 4 && p.location(of: begin).column == 5)
        #expect(p.location(of: end).line == 4 && p.location(of: end).column == 22)
        // `g(p)` is the file's own text, at its own column
        #expect(p.location(of: g).column == 18)
        #expect(p.functions.count == 1 && !p.functions[0].recovered)
    }

    @Test("macros that do nothing the analysis tracks, stringize or paste, or name themselves are left alone")
    func leftAlone() {
        let text = """
            #define LOG(m) fprintf(stderr, "%s;", m)
            #define STR(x) do { PyMutex_Lock(#x); } while (0)
            #define SELF(x) do { SELF(x); lib_free(x); } while (0)
            #define CLEAR(h) do { lib_free(h); h = NULL; } while (0)
            void f(void *h) { LOG("a"); STR(z); SELF(h); CLEAR(h); }
            """
        let p = Self.parse(text)
        let texts = p.tokens.indices.map { p.text(Int32($0)) }
        #expect(texts.contains("LOG") && texts.contains("STR") && texts.contains("SELF"))
        #expect(!texts.contains("CLEAR") && texts.contains("lib_free"))
    }

    @Test("expansion is bounded: a macro used inside its own expansion is not expanded again")
    func bounded() {
        let text = """
            #define A(x) do { lib_free(x); B(x); } while (0)
            #define B(x) do { lib_free(x); A(x); } while (0)
            void f(void *h) { A(h); }
            """
        let p = Self.parse(text)
        #expect(p.tokens.count < 400)
        #expect(p.functions.count == 1)
    }
}
