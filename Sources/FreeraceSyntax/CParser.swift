/// A function definition found by the parser, with whether its body needed recovery.
public struct ParsedFunction: Sendable {
    public var node: Int32
    public var recovered: Bool
}

/// Everything the C/C++ frontend produces for one file.
public struct ParsedFile: Sendable {
    public var source: SourceFile
    /// Active significant tokens (the parser's input), ending with `.eof`.
    public var tokens: [Token]
    public var tree: SyntaxTree
    public var root: Int32
    public var functions: [ParsedFunction]
    public var view: ConditionalViewSummary
    public var diagnostics: [SyntaxDiagnostic]
    /// Token index of each point where the parser had to recover.
    public var recoveryTokens: [Int32]
    /// Text of the tokens that project macro expansions added (`MacroExpander`): a token whose
    /// start is past the file's bytes reads its text here.
    public var synthetic: [UInt8] = []
    /// For each token, the file offset it is located at when it came from an expansion (the
    /// macro's use), -1 for the file's own; empty when nothing was expanded.
    public var sites: [Int32] = []
    /// The file's own statement macros that the expansion policy selected (for the project's
    /// other files, which use them without defining them).
    public var statementMacros: [String: ExpandableMacro] = [:]

    func isSynthetic(_ t: Token) -> Bool { Int(t.start) >= source.bytes.count }

    /// Text of a significant token.
    public func text(_ tok: Int32) -> String {
        guard tok >= 0, Int(tok) < tokens.count else { return "" }
        let t = tokens[Int(tok)]
        if isSynthetic(t) {
            let s = Int(t.start) - source.bytes.count
            return String(decoding: synthetic[s..<min(synthetic.count, s + Int(t.length))], as: UTF8.self)
        }
        return source.text(Int(t.start), t.end)
    }

    /// Source text spanned by a node (from its first to its last token); for a node that holds
    /// expanded tokens, the tokens' texts joined by spaces.
    public func text(node: Int32) -> String {
        let n = tree[node]
        guard n.firstTok >= 0, n.lastTok >= n.firstTok, Int(n.lastTok) < tokens.count else { return "" }
        if !sites.isEmpty, (n.firstTok...n.lastTok).contains(where: { sites[Int($0)] >= 0 }) {
            return (n.firstTok...n.lastTok).prefix(200).map { text($0) }.joined(separator: " ")
        }
        return source.text(Int(tokens[Int(n.firstTok)].start), tokens[Int(n.lastTok)].end)
    }

    /// Where a token is: its own offset, or for a token an expansion added, the macro's use.
    public func offset(of tok: Int32) -> Int {
        guard tok >= 0, Int(tok) < tokens.count else { return source.bytes.count }
        if !sites.isEmpty, sites[Int(tok)] >= 0 { return Int(sites[Int(tok)]) }
        return Int(tokens[Int(tok)].start)
    }

    public func location(of tok: Int32) -> Location { source.location(of: offset(of: tok)) }
}

/// What the conditional view kept of a file's preprocessor structure.
public struct ConditionalViewSummary: Sendable {
    public var macros: [MacroDefinition]
    public var comments: [Token]
    public var includes: [String]
    public var inactiveTokens: Int
    public var unbalancedDirectives: Int
}

/// The C/C++ frontend: lex, apply the conditional view, parse.
public enum CFrontend {
    /// Parses a file. `expansions` are the project's statement macros worth expanding (see
    /// `MacroExpander`); the file's own definitions that `policy` selects are added to them.
    public static func parse(_ source: SourceFile, env: MacroEnvironment, expansions: [String: ExpandableMacro] = [:],
                             policy: MacroExpansionPolicy? = nil) -> ParsedFile {
        let cpp = source.language == .cpp
        let lexed = CLexer(cpp: cpp).lex(source.bytes)
        let view = ConditionalView(all: lexed.tokens, bytes: source.bytes, language: source.language, env: env)
        var includes: [String] = []
        for d in view.directives where d.kind == .include && d.active {
            let t = lexed.tokens[d.tokenIndex]
            includes.append(source.text(Int(t.start), t.end))
        }
        // the file's own definitions win over the project's (a local one that is not worth
        // expanding hides a header's of the same name)
        var macros = expansions
        var own: [String: ExpandableMacro] = [:]
        if let policy {
            for m in view.macros where m.active {
                own[m.name] = policy.selects(m, cpp: cpp)
                macros[m.name] = own[m.name]
            }
        }
        let expanded = source.bytes.withUnsafeBufferPointer {
            MacroExpander.expand(tokens: view.tokens, bytes: $0, macros: macros, cpp: cpp)
        }
        let parseBytes = expanded.sites.isEmpty ? source.bytes : source.bytes + expanded.synthetic
        let result = parseBytes.withUnsafeBufferPointer { buf -> (SyntaxTree, Int32, [ParsedFunction], [Int32]) in
            var p = CParser(tokens: expanded.tokens, bytes: buf, cpp: cpp)
            for m in view.macros where m.parameters == nil && CParser.isThreadLocalBody(m.body) {
                p.threadLocalMacros.insert(fnv1a(m.name))
            }
            let root = p.parseTranslationUnit()
            return (p.tree, root, p.functions, p.recoveryTokens)
        }
        let summary = ConditionalViewSummary(macros: view.macros, comments: view.comments, includes: includes,
                                             inactiveTokens: view.inactiveTokens,
                                             unbalancedDirectives: view.unbalanced)
        var diags = lexed.diagnostics
        if view.unbalanced > 0 {
            diags.append(SyntaxDiagnostic(offset: 0, message: counted(view.unbalanced, "unbalanced conditional directive")))
        }
        var parsed = ParsedFile(source: source, tokens: expanded.tokens, tree: result.0, root: result.1, functions: result.2,
                                view: summary, diagnostics: diags, recoveryTokens: result.3)
        parsed.synthetic = expanded.synthetic
        parsed.sites = expanded.sites
        parsed.statementMacros = own
        return parsed
    }
}

/// 64-bit FNV-1a over a byte range; identifiers are compared by this hash in the parser's sets.
@inline(__always)
func fnv1a(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ n: Int) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    var i = s
    let e = s + n
    while i < e {
        h = (h ^ UInt64(b[i])) &* 0x0000_0100_0000_01B3
        i += 1
    }
    return h
}

func fnv1a(_ s: String) -> UInt64 {
    var a = Array(s.utf8)
    return a.withUnsafeMutableBufferPointer { fnv1a(UnsafeBufferPointer($0), 0, $0.count) }
}

enum ParserTables {
    static let knownTypes: Set<UInt64> = Set(MacroCatalogue.knownTypeNames.map(fnv1a))
    static let macros: [UInt64: MacroEntry] = {
        var d: [UInt64: MacroEntry] = [:]
        for e in MacroCatalogue.entries { d[fnv1a(e.name)] = e }
        return d
    }()
    static let fileThreadLocal = MacroEntry(name: "", role: .threadLocalStorage, region: nil, source: "this file")
    static let hDefined = fnv1a("defined")
    static let hOffsetof = fnv1a("offsetof")
    static let hVaArg = fnv1a("va_arg")
}

/// Tolerant recursive-descent parser for C (and enough C++ to find and read function bodies).
/// Unknown constructs become `unparsed` nodes; every loop has a progress guard; nesting is bounded.
struct CParser {
    let toks: [Token]
    let bytes: UnsafeBufferPointer<UInt8>
    let cpp: Bool
    var pos = 0
    var tree = SyntaxTree()
    var scratch: [Int32] = []
    var functions: [ParsedFunction] = []
    /// Token index of each recovery, in order.
    var recoveryTokens: [Int32] = []
    var recoveries: Int { recoveryTokens.count }
    var depth = 0
    var typedefNames: Set<UInt64> = []
    var localNames: Set<UInt64> = []
    /// Object-like macros of this file that stand for a thread-local keyword
    /// (`#define TLS _Thread_local`, `__thread`, `thread_local`, `__declspec(thread)`).
    var threadLocalMacros: Set<UInt64> = []
    /// How many function bodies enclose the current position.
    var bodyDepth = 0
    static let maxDepth = 400

    init(tokens: [Token], bytes: UnsafeBufferPointer<UInt8>, cpp: Bool) {
        self.toks = tokens
        self.bytes = bytes
        self.cpp = cpp
        tree.nodes.reserveCapacity(tokens.count)
        tree.childIndices.reserveCapacity(tokens.count)
    }

    // MARK: token access

    @inline(__always) var kind: TokenKind { toks[pos].kind }
    @inline(__always) func kind(_ ahead: Int) -> TokenKind {
        let i = pos + ahead
        return i >= 0 && i < toks.count ? toks[i].kind : .eof
    }
    @inline(__always) var atEOF: Bool { toks[pos].kind == .eof }
    @inline(__always) mutating func advance() { if pos < toks.count - 1 { pos += 1 } }
    @inline(__always) mutating func eat(_ k: TokenKind) -> Bool {
        if toks[pos].kind == k { advance(); return true }
        return false
    }

    @inline(__always) func hash(_ i: Int) -> UInt64 {
        let t = toks[i]
        return fnv1a(bytes, Int(t.start), Int(t.length))
    }

    func text(_ i: Int) -> String {
        let t = toks[i]
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(t.start)..<t.end]), as: UTF8.self)
    }

    func isText(_ i: Int, _ s: StaticString) -> Bool {
        guard i < toks.count else { return false }
        let t = toks[i]
        guard Int(t.length) == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for k in 0..<Int(t.length) where bytes[Int(t.start) + k] != p[k] { return false }
        return true
    }

    func macro(_ i: Int) -> MacroEntry? {
        guard toks[i].kind == .identifier else { return nil }
        let h = hash(i)
        if let e = ParserTables.macros[h] { return e }
        if !threadLocalMacros.isEmpty, threadLocalMacros.contains(h) { return ParserTables.fileThreadLocal }
        return nil
    }

    /// Whether an object-like macro body is a thread-local storage class.
    static func isThreadLocalBody(_ body: String) -> Bool {
        let b = body.filter { !$0.isWhitespace }
        return ["_Thread_local", "__thread", "thread_local", "__declspec(thread)"].contains(b)
    }

    /// Whether the identifier at `i` is a type name: declared by typedef in this file, known from
    /// CPython/libc, or shaped like one (`*_t`, `npy_*`).
    func isTypeName(_ i: Int) -> Bool {
        let t = toks[i]
        guard t.kind == .identifier else { return false }
        let h = fnv1a(bytes, Int(t.start), Int(t.length))
        if typedefNames.contains(h) || ParserTables.knownTypes.contains(h) { return true }
        if localNames.contains(h) { return false }
        return MacroCatalogue.looksLikeTypeName(bytes, Int(t.start), Int(t.length))
    }

    /// All-caps identifiers (with digits and underscores) are conventionally macros.
    func isAllCaps(_ i: Int) -> Bool {
        let t = toks[i]
        guard t.kind == .identifier, t.length >= 2 else { return false }
        var letters = 0
        for k in Int(t.start)..<t.end {
            let b = bytes[k]
            if b >= 0x61 && b <= 0x7A { return false }
            if b >= 0x41 && b <= 0x5A { letters += 1 }
        }
        return letters > 0
    }

    func atColumnZero(_ i: Int) -> Bool {
        let s = Int(toks[i].start)
        return s == 0 || bytes[s - 1] == 0x0A
    }

    /// Whether a function definition starts at token `i` in column 0: `static PyObject *\nname(...) {`.
    /// Used to end an unclosed `(`, `[`, parameter list or body before the next definition, so
    /// one broken line does not swallow the rest of the file. Real code never has such a line
    /// inside parentheses or a function body.
    func definitionStartsAt(_ i: Int) -> Bool {
        guard toks[i].atLineStart, atColumnZero(i) else { return false }
        var j = i
        let limit = min(toks.count - 1, i + 16)
        while j < limit {
            let k = toks[j].kind
            if k == .identifier, toks[j + 1].kind == .lParen {
                // the parameter list must close within a bounded window and be followed by `{`
                var level = 0
                var c = j + 1
                let end = min(toks.count - 1, c + 4096)
                while c < end {
                    let ck = toks[c].kind
                    if ck == .lParen { level += 1 } else if ck == .rParen {
                        level -= 1
                        if level == 0 { break }
                    } else if ck == .lBrace || ck == .rBrace || ck == .semicolon { return false }
                    c += 1
                }
                guard level == 0, c + 1 < toks.count else { return false }
                var n = c + 1
                while n < toks.count - 1, toks[n].kind == .kwConst { n += 1 }
                return toks[n].kind == .lBrace
            }
            guard k == .identifier || k == .star || k.isDeclSpecifierKeyword else { return false }
            j += 1
        }
        return false
    }

    mutating func noteRecovery() { recoveryTokens.append(Int32(pos)) }
    /// A construct left unclosed before the next definition: the recovery belongs to its last token.
    mutating func noteUnclosed() { recoveryTokens.append(Int32(max(0, pos - 1))) }

    // MARK: node building

    @inline(__always) mutating func push(_ n: Int32) { scratch.append(n) }

    @inline(__always)
    mutating func finish(_ kind: NodeKind, mark: Int, first: Int, main: Int = -1, flags: UInt8 = 0,
                         aux: Int16 = 0) -> Int32 {
        let start = Int32(tree.childIndices.count)
        let count = scratch.count - mark
        if count > 0 {
            tree.childIndices.append(contentsOf: scratch[mark...])
            scratch.removeLast(count)
        }
        let last = max(first, pos - 1)
        tree.nodes.append(Node(kind: kind, flags: flags, aux: aux, mainTok: Int32(main), firstTok: Int32(first),
                               lastTok: Int32(last), childStart: start, childCount: Int32(count)))
        return Int32(tree.nodes.count - 1)
    }

    /// A leaf node for a single token.
    @inline(__always)
    mutating func leaf(_ kind: NodeKind, _ tok: Int) -> Int32 {
        tree.nodes.append(Node(kind: kind, flags: 0, aux: 0, mainTok: Int32(tok), firstTok: Int32(tok),
                               lastTok: Int32(tok), childStart: 0, childCount: 0))
        return Int32(tree.nodes.count - 1)
    }

    struct Mark {
        var pos: Int
        var nodes: Int
        var children: Int
        var scratch: Int
        var recoveries: Int
    }

    func mark() -> Mark {
        Mark(pos: pos, nodes: tree.nodes.count, children: tree.childIndices.count, scratch: scratch.count,
             recoveries: recoveries)
    }

    mutating func reset(_ m: Mark) {
        pos = m.pos
        tree.nodes.removeLast(tree.nodes.count - m.nodes)
        tree.childIndices.removeLast(tree.childIndices.count - m.children)
        scratch.removeLast(scratch.count - m.scratch)
        recoveryTokens.removeLast(recoveryTokens.count - m.recoveries)
    }

    // MARK: skipping

    /// Skips a balanced group starting at an opening `(`, `[` or `{`, iteratively.
    mutating func skipBalanced() {
        let open = kind
        let close: TokenKind
        switch open {
        case .lParen: close = .rParen
        case .lBracket: close = .rBracket
        case .lBrace: close = .rBrace
        default: advance(); return
        }
        var level = 0
        let groupStart = pos
        while !atEOF {
            let k = kind
            // an unclosed `(` or `[` ends before a new definition in column 0, not at end of file
            if open != .lBrace, pos > groupStart, toks[pos].atLineStart, atColumnZero(pos),
               k == .rBrace || k == .kwStatic || k == .kwTypedef || k == .kwExtern || k == .kwStruct
                || definitionStartsAt(pos) {
                noteUnclosed()
                return
            }
            if k == .lParen || k == .lBracket || k == .lBrace { level += 1 }
            if k == .rParen || k == .rBracket || k == .rBrace {
                level -= 1
                if level <= 0 {
                    if k == close || level < 0 { advance() }
                    return
                }
            }
            advance()
        }
    }

    /// Skips C++ template arguments `<...>` starting at `<`; returns false if they do not close
    /// before a token that cannot be inside them.
    mutating func skipAngles() -> Bool {
        guard kind == .lt else { return false }
        let start = pos
        var level = 0
        while !atEOF {
            switch kind {
            case .lt: level += 1
            case .gt: level -= 1
            case .shr: level -= 2
            case .lParen, .lBracket: skipBalanced(); continue
            case .semicolon, .lBrace, .rBrace, .rParen, .rBracket, .ampAmp, .pipePipe:
                pos = start
                return false
            default: break
            }
            advance()
            if level <= 0 { return true }
        }
        pos = start
        return false
    }

    /// Skips GNU/MSVC attributes and similar decorations; returns whether anything was skipped.
    mutating func skipAttributes() -> Bool {
        var any = false
        while true {
            switch kind {
            case .kwAttribute, .kwDeclspec, .kwAlignas:
                advance()
                if kind == .lParen { skipBalanced() }
                any = true
            case .kwAsm:
                advance()
                while kind == .kwVolatile || kind == .kwGoto || kind == .kwInline { advance() }
                if kind == .lParen { skipBalanced() }
                any = true
            case .lBracket where cpp && kind(1) == .lBracket:
                skipBalanced()
                any = true
            case .identifier:
                if let m = macro(pos), m.role == .annotation {
                    advance()
                    if kind == .lParen { skipBalanced() }
                    any = true
                } else {
                    return any
                }
            default:
                return any
            }
        }
    }

    // MARK: recovery

    /// Skips to the end of a broken statement: past `;` at depth 0, or before a `}` that closes
    /// the enclosing block, or past a balanced `{...}`. Records an `unparsed` node.
    mutating func recoverStatement(from start: Int, mark: Int? = nil) -> Int32 {
        if definitionStartsAt(pos) { noteUnclosed() } else { noteRecovery() }
        if let mark, scratch.count > mark { scratch.removeLast(scratch.count - mark) }
        var moved = pos > start
        while !atEOF {
            let k = kind
            if k == .semicolon { advance(); break }
            if k == .rBrace {
                if !moved { advance() }
                break
            }
            if k == .lBrace {
                skipBalanced()
                break
            }
            if k == .lParen || k == .lBracket { skipBalanced(); moved = true; continue }
            if moved, toks[pos].atLineStart, atColumnZero(pos) { break }
            advance()
            moved = true
        }
        let m = scratch.count
        return finish(.unparsed, mark: m, first: start)
    }

    /// File-scope recovery: skip to `;` at depth 0, or past a balanced `{...}` block, or to a
    /// token in column 0 on a later line.
    mutating func recoverDeclaration(from start: Int) -> Int32 {
        if definitionStartsAt(pos) { noteUnclosed() } else { noteRecovery() }
        var moved = pos > start
        while !atEOF {
            let k = kind
            if k == .semicolon { advance(); break }
            if k == .lBrace {
                skipBalanced()
                if kind == .semicolon { advance() }
                break
            }
            if k == .rBrace {
                if !moved { advance() }
                break
            }
            if k == .lParen || k == .lBracket { skipBalanced(); moved = true; continue }
            if moved, toks[pos].atLineStart, atColumnZero(pos) { break }
            advance()
            moved = true
        }
        let m = scratch.count
        return finish(.unparsed, mark: m, first: start)
    }

    // MARK: translation unit

    mutating func parseTranslationUnit() -> Int32 {
        let m = scratch.count
        parseDeclarationList(until: .eof)
        let root = finish(.translationUnit, mark: m, first: 0)
        tree.nodes[Int(root)].lastTok = Int32(max(0, toks.count - 1))
        return root
    }

    /// Parses external declarations until `end` (`.eof` or `.rBrace`), pushing them on the scratch stack.
    mutating func parseDeclarationList(until end: TokenKind) {
        while !atEOF, kind != end {
            let before = pos
            if let n = parseExternalDeclaration() { push(n) }
            if pos == before {
                push(recoverDeclaration(from: pos))
            }
        }
    }

    /// C++ class members until `}`: declarations and member functions, and the object-head
    /// macros of C structs (`PyObject_HEAD`, which has no semicolon of its own).
    mutating func parseMemberList() {
        while !atEOF, kind != .rBrace {
            let before = pos
            if parseObjectHeadMacro() { continue }
            if let n = parseExternalDeclaration() { push(n) }
            if pos == before {
                push(recoverDeclaration(from: pos))
            }
        }
    }

    mutating func parseExternalDeclaration() -> Int32? {
        let start = pos
        switch kind {
        case .semicolon:
            advance()
            return nil
        case .rBrace:
            advance()
            noteRecovery()
            return nil
        case .kwExtern where kind(1) == .string:
            advance()
            advance()
            if kind == .lBrace {
                let m = scratch.count
                advance()
                parseDeclarationList(until: .rBrace)
                _ = eat(.rBrace)
                return finish(.linkageSpec, mark: m, first: start)
            }
            return parseExternalDeclaration()
        case .kwNamespace:
            let m = scratch.count
            advance()
            while kind == .identifier || kind == .colonColon || kind == .kwInline { advance() }
            _ = skipAttributes()
            if kind == .assign {
                while !atEOF, kind != .semicolon { advance() }
                _ = eat(.semicolon)
                return finish(.namespaceDecl, mark: m, first: start)
            }
            if kind == .lBrace {
                advance()
                parseDeclarationList(until: .rBrace)
                _ = eat(.rBrace)
            }
            return finish(.namespaceDecl, mark: m, first: start)
        case .kwTemplate:
            advance()
            if kind == .lt, !skipAngles() { return recoverDeclaration(from: start) }
            return parseExternalDeclaration()
        case .kwUsing, .kwFriend:
            if kind == .kwFriend { advance(); return parseExternalDeclaration() }
            while !atEOF, kind != .semicolon, kind != .lBrace { advance() }
            _ = eat(.semicolon)
            return nil
        case .kwStaticAssert:
            let m = scratch.count
            advance()
            if kind == .lParen { skipBalanced() }
            _ = eat(.semicolon)
            return finish(.staticAssert, mark: m, first: start)
        case .kwAsm:
            advance()
            if kind == .lParen { skipBalanced() }
            _ = eat(.semicolon)
            return nil
        case .kwPublic, .kwPrivate, .kwProtected:
            advance()
            _ = eat(.colon)
            return nil
        case .identifier:
            if let m = macro(pos), m.role == .declarationMacro, kind(1) == .lParen {
                let mk = scratch.count
                advance()
                parseMacroArguments()
                _ = eat(.semicolon)
                return finish(.macroDecl, mark: mk, first: start, main: start)
            }
            // An unknown macro invocation standing alone at file scope: `FOO(args)` then a new line
            // that does not continue a declaration (no `;`, `{`, `,`, `=`).
            if kind(1) == .lParen, isAllCaps(pos) || (toks[pos].atLineStart && !cpp), !isTypeName(pos) {
                let save = mark()
                advance()
                skipBalanced()
                if kind == .semicolon || (toks[pos].atLineStart && kind != .lBrace && kind != .comma && kind != .assign
                                          && kind != .kwAttribute && kind != .colon && kind != .kwConst) || kind == .eof {
                    let mk = scratch.count
                    _ = eat(.semicolon)
                    return finish(.macroDecl, mark: mk, first: start, main: start)
                }
                if toks[pos].atLineStart, kind == .identifier, kind(1) == .lParen, isAllCaps(pos) {
                    // a sequence of macro invocations, one per line
                    let mk = scratch.count
                    return finish(.macroDecl, mark: mk, first: start, main: start)
                }
                reset(save)
            }
        default:
            break
        }
        return parseDeclaration(topLevel: true)
    }

    /// Skips macro arguments `( ... )` recording each argument as an expression when it parses,
    /// or as an `unparsed` node otherwise (without counting a recovery).
    mutating func parseMacroArguments() {
        guard kind == .lParen else { return }
        let m = scratch.count
        let first = pos
        advance()
        while !atEOF, kind != .rParen {
            if definitionStartsAt(pos) { break }  // unclosed: the next definition begins
            let before = pos
            let save = mark()
            if depth < Self.maxDepth {
                let e = parseAssignment()
                if kind == .comma || kind == .rParen {
                    push(e)
                } else {
                    reset(save)
                    skipMacroArgument()
                    let um = scratch.count
                    push(finish(.unparsed, mark: um, first: before))
                }
            } else {
                skipMacroArgument()
            }
            if kind == .comma { advance() }
            if pos == before { advance() }
        }
        if !eat(.rParen) { noteUnclosed() }
        push(finish(.argList, mark: m, first: first))
    }

    /// Skips one macro argument: to the next `,` or `)` at depth 0.
    mutating func skipMacroArgument() {
        while !atEOF, kind != .comma, kind != .rParen {
            if kind == .lParen || kind == .lBracket || kind == .lBrace { skipBalanced() } else { advance() }
        }
    }

    // MARK: declarations

    /// Parses a declaration or function definition. At file scope (`topLevel`) a function body
    /// is parsed and recorded; inside functions only declarations are expected.
    mutating func parseDeclaration(topLevel: Bool, inClass: Bool = false) -> Int32 {
        let start = pos
        let m = scratch.count
        let specs = parseSpecifiers()
        push(specs)
        let isTypedef = tree[specs].aux & SpecifierBits.typedef != 0
        if kind == .semicolon {
            advance()
            return finish(.declaration, mark: m, first: start)
        }
        var first = true
        while !atEOF {
            let before = pos
            let idm = scratch.count
            let d = parseDeclarator(abstractOK: false)
            push(d)
            let dn = tree[d]
            if dn.mainTok >= 0 {
                let h = hash(Int(dn.mainTok))
                if isTypedef { typedefNames.insert(h) } else if !topLevel { localNames.insert(h) }
            }
            _ = skipAttributes()
            if cpp { skipCppFunctionTrailer() }
            // function definition
            if first, tree.declaresFunction(d), kind == .lBrace || (cpp && (kind == .colon || kind == .kwTry)) {
                scratch.removeLast(scratch.count - idm)
                push(d)
                return parseFunctionBody(mark: m, start: start, declarator: d)
            }
            // K&R-free C, but a common macro-built header: `FOO(name) {`
            if first, topLevel, kind == .lBrace, dn.flags & DeclaratorFlags.function == 0, pos > before, !cpp {
                scratch.removeLast(scratch.count - m)
                return recoverDeclaration(from: start)
            }
            if kind == .assign {
                advance()
                if cpp, kind == .kwDelete || (kind == .number && isText(pos, "0")) || isText(pos, "default") {
                    advance()
                } else {
                    push(parseInitializer())
                }
            } else if cpp, kind == .lBrace, dn.flags & DeclaratorFlags.function == 0 {
                push(parseInitializer())
            } else if kind == .colon, inClass || !topLevel {
                advance()
                push(parseConditional())
            } else if cpp, kind == .lParen, dn.flags & DeclaratorFlags.function == 0 {
                // direct initialization `T x(args);`
                skipBalanced()
            }
            _ = skipAttributes()
            let idn = finish(.initDeclarator, mark: idm, first: before)
            push(idn)
            first = false
            if kind == .comma { advance(); continue }
            if kind == .semicolon { advance(); break }
            // a declaration that does not end properly
            _ = finish(.declaration, mark: m, first: start)
            return topLevel ? recoverDeclaration(from: start) : recoverStatement(from: start)
        }
        return finish(.declaration, mark: m, first: start)
    }

    /// C++ function trailers: `const`, `noexcept(...)`, `override`, `final`, `-> T`, `&`.
    mutating func skipCppFunctionTrailer() {
        while true {
            switch kind {
            case .kwConst, .kwVolatile, .amp, .ampAmp: advance()
            case .kwNoexcept, .kwThrow:
                advance()
                if kind == .lParen { skipBalanced() }
            case .arrow:
                advance()
                _ = parseTypeName()
            case .identifier where isText(pos, "override") || isText(pos, "final"):
                advance()
            default:
                if !skipAttributes() { return }
            }
        }
    }

    mutating func parseFunctionBody(mark m: Int, start: Int, declarator d: Int32) -> Int32 {
        let savedLocals = localNames
        localNames = []
        // parameters are locals of the body
        if let pl = tree.functionParams(d) ?? nestedParamList(d) {
            for p in tree.children(pl) {
                if let pd = tree.child(p, kind: .declarator), tree[pd].mainTok >= 0 {
                    localNames.insert(hash(Int(tree[pd].mainTok)))
                }
            }
        }
        let before = recoveries
        if kind == .colon {  // constructor initializer list: `: a(x), b{y} {`
            advance()
            while !atEOF {
                if kind == .lParen { skipBalanced(); continue }
                if kind == .lBrace {
                    if isMemberBraceInit() { skipBalanced(); continue }
                    break
                }
                if kind == .semicolon { break }
                advance()
            }
        }
        if kind == .kwTry { advance() }
        bodyDepth += 1
        let body = parseCompound()
        bodyDepth -= 1
        push(body)
        while cpp, kind == .kwCatch {
            advance()
            if kind == .lParen { skipBalanced() }
            push(parseCompound())
        }
        let node = finish(.functionDef, mark: m, first: start)
        functions.append(ParsedFunction(node: node, recovered: recoveries > before))
        localNames = savedLocals
        return node
    }

    /// In a constructor initializer list, whether the `{` at `pos` initializes a member (followed
    /// by `,` or another `{` body) rather than opening the function body.
    func isMemberBraceInit() -> Bool {
        var i = pos
        var level = 0
        while i < toks.count {
            let k = toks[i].kind
            if k == .lBrace { level += 1 }
            if k == .rBrace {
                level -= 1
                if level == 0 { break }
            }
            if k == .semicolon, level == 1 { return false }
            i += 1
        }
        let next = i + 1 < toks.count ? toks[i + 1].kind : .eof
        return next == .comma || next == .lBrace
    }

    func nestedParamList(_ d: Int32) -> Int32? {
        guard let inner = tree.child(d, kind: .declarator) else { return nil }
        return tree.child(inner, kind: .paramList)
    }

    /// Declaration specifiers: storage classes, qualifiers, the type (keyword, typedef name,
    /// struct/union/enum), attributes and specifier-like macros.
    mutating func parseSpecifiers() -> Int32 {
        let start = pos
        let m = scratch.count
        var bits: Int16 = 0
        var typeTok = -1
        var sawType = false
        var extraPointers: UInt8 = 0
        loop: while !atEOF {
            switch kind {
            case .kwStatic: bits |= SpecifierBits.static; advance()
            case .kwExtern: bits |= SpecifierBits.extern; advance()
                if kind == .string { advance() }
            case .kwInline: bits |= SpecifierBits.inline; advance()
            case .kwTypedef: bits |= SpecifierBits.typedef; advance()
            case .kwConst, .kwConstexpr: bits |= SpecifierBits.const; advance()
            case .kwVolatile: bits |= SpecifierBits.volatile; advance()
            case .kwThreadLocal: bits |= SpecifierBits.threadLocal; advance()
            case .kwAuto where !cpp:
                advance()
            case .kwRegister, .kwRestrict, .kwNoreturn, .kwExtension, .kwVirtual, .kwExplicit,
                 .kwMutable, .kwFriend:
                advance()
            case .kwAuto:
                advance()
                sawType = true
            case .kwAtomic:
                bits |= SpecifierBits.atomic
                advance()
                if kind == .lParen {
                    advance()
                    let inner = parseTypeName()
                    push(inner)
                    _ = eat(.rParen)
                    sawType = true
                }
            case .kwChar, .kwDouble, .kwFloat, .kwInt, .kwLong, .kwShort, .kwSigned, .kwUnsigned, .kwVoid, .kwBool,
                 .kwComplex, .kwInt128:
                bits |= SpecifierBits.builtin
                if typeTok < 0 || kind == .kwVoid { typeTok = pos }
                sawType = true
                advance()
            case .kwStruct, .kwUnion, .kwClass:
                if sawType { break loop }
                bits |= kind == .kwUnion ? SpecifierBits.union : SpecifierBits.struct
                let s = parseStructSpec()
                push(s)
                typeTok = Int(tree[s].mainTok)
                sawType = true
            case .kwEnum:
                if sawType { break loop }
                bits |= SpecifierBits.enum
                let e = parseEnumSpec()
                push(e)
                typeTok = Int(tree[e].mainTok)
                sawType = true
            case .kwTypeof, .kwDecltype:
                advance()
                if kind == .lParen { skipBalanced() }
                sawType = true
            case .kwAttribute, .kwDeclspec, .kwAlignas, .kwAsm:
                _ = skipAttributes()
            case .kwTypename:
                advance()
            case .colonColon where cpp:
                if sawType { break loop }
                advance()
            case .identifier:
                if let mac = macro(pos) {
                    switch mac.role {
                    case .annotation:
                        advance()
                        if kind == .lParen { skipBalanced() }
                        continue loop
                    case .threadLocalStorage:
                        bits |= SpecifierBits.threadLocal
                        advance()
                        continue loop
                    case .typeWrapper:
                        advance()
                        if kind == .lParen {
                            advance()
                            let inner = parseTypeName()
                            if let spec = tree.child(inner, kind: .specifiers) {
                                typeTok = Int(tree[spec].mainTok)
                                bits |= tree[spec].aux
                            }
                            if let decl = tree.child(inner, kind: .declarator) {
                                extraPointers = UInt8(clamping: Int(tree[decl].aux))
                            }
                            while !atEOF, kind != .rParen { skipBalanced() }
                            _ = eat(.rParen)
                            sawType = true
                        }
                        continue loop
                    case .parameterName, .blockBegin, .blockEnd, .statement, .returnStatement, .declarator,
                         .declarationMacro:
                        break loop
                    }
                }
                if cpp, kind(1) == .colonColon || kind(1) == .lt {
                    // qualified or template type name
                    let afterAnnotation = typeTok >= 0 && toks[typeTok].kind == .identifier && isAllCaps(typeTok)
                        && bits & SpecifierBits.builtin == 0
                    if sawType, !afterAnnotation, !(kind(1) == .colonColon && isCppQualifiedTypeAhead()) { break loop }
                    let save = pos
                    if consumeCppTypeName() {
                        typeTok = pos - 1
                        sawType = true
                        continue loop
                    }
                    pos = save
                }
                let next = kind(1)
                // `MACRO(args) type name` or `type MACRO(args) name`: an attribute macro
                if next == .lParen, isAllCaps(pos), annotationMacroAhead() {
                    advance()
                    skipBalanced()
                    continue loop
                }
                if !sawType {
                    if next == .lParen, !(isTypeName(pos) && (kind(2) == .star || kind(2) == .caret)) {
                        // `name(params)`: the declarator
                        break loop
                    }
                    if next == .semicolon || next == .comma || next == .assign || next == .lBracket
                        || next == .rParen || next == .colon && !cpp {
                        // the identifier is the declarator itself
                        break loop
                    }
                    typeTok = pos
                    sawType = true
                    advance()
                } else {
                    // after a type: another identifier is an annotation if more specifiers follow it,
                    // or the start of the declarator
                    if next == .identifier || (next.isDeclSpecifierKeyword && next != .kwConst) {
                        if bits & SpecifierBits.builtin == 0 {
                            // `ANNOT Type name`: the earlier identifier was an annotation
                            typeTok = pos
                        }
                        advance()
                        continue loop
                    }
                    if next == .star || (cpp && (next == .amp || next == .ampAmp)), bits & SpecifierBits.builtin == 0,
                       typeTok >= 0, toks[typeTok].kind == .identifier, isAllCaps(typeTok), !isAllCaps(pos) {
                        // `NPY_NO_EXPORT PyObject *f`: the caps word was an annotation
                        typeTok = pos
                        advance()
                        continue loop
                    }
                    break loop
                }
            default:
                break loop
            }
        }
        return finish(.specifiers, mark: m, first: start, main: typeTok, flags: extraPointers, aux: bits)
    }

    /// In C++, whether the qualified name at `pos` names a type (`A::B c`) rather than a declarator (`A::f(`).
    func isCppQualifiedTypeAhead() -> Bool {
        var i = pos
        while i + 2 < toks.count, toks[i].kind == .identifier, toks[i + 1].kind == .colonColon { i += 2 }
        return i + 1 < toks.count && toks[i].kind == .identifier
            && (toks[i + 1].kind == .identifier || toks[i + 1].kind == .star || toks[i + 1].kind == .amp)
    }

    /// Consumes `A::B<...>::C` in C++; true if something type-like was consumed.
    mutating func consumeCppTypeName() -> Bool {
        let start = pos
        while !atEOF {
            if kind == .identifier || kind == .kwTypename || kind == .kwTemplate { advance() } else { break }
            if kind == .lt {
                if !skipAngles() { pos = start; return false }
            }
            if kind == .colonColon {
                advance()
                if kind == .star || kind == .tilde { pos = start; return false }
                continue
            }
            break
        }
        return pos > start
    }

    /// After `MACRO(args)` in specifier position: true if a type or declarator follows (so the
    /// macro was an attribute), false if the invocation itself is a declarator `name(params)`.
    func annotationMacroAhead() -> Bool {
        var i = pos + 1
        var level = 0
        while i < toks.count {
            let k = toks[i].kind
            if k == .lParen { level += 1 }
            if k == .rParen {
                level -= 1
                if level == 0 { break }
            }
            if k == .eof { return false }
            i += 1
        }
        guard i + 1 < toks.count else { return false }
        let next = toks[i + 1].kind
        if next == .kwConst || next == .kwVolatile || next == .kwNoexcept { return false }
        return next == .identifier || next.isDeclSpecifierKeyword || next == .star
    }

    /// `struct [tag] [{ members }]`, also C++ classes with bases and member functions.
    mutating func parseStructSpec() -> Int32 {
        let start = pos
        let m = scratch.count
        let isUnion = kind == .kwUnion
        advance()
        _ = skipAttributes()
        var tag = -1
        if kind == .identifier {
            if cpp {
                let s = pos
                _ = consumeCppTypeName()
                tag = max(s, pos - 1)
                if toks[tag].kind != .identifier { tag = s }
            } else {
                tag = pos
                advance()
            }
        }
        _ = skipAttributes()
        if cpp, isText(pos, "final") { advance() }
        if cpp, kind == .colon {  // base clause
            while !atEOF, kind != .lBrace, kind != .semicolon {
                if kind == .lt, skipAngles() { continue }
                advance()
            }
        }
        var flags: UInt8 = isUnion ? 1 : 0
        if kind == .lBrace, depth < Self.maxDepth {
            flags |= 2
            depth += 1
            advance()
            if cpp {
                parseMemberList()
            } else {
                parseFieldList()
            }
            _ = eat(.rBrace)
            depth -= 1
        } else if kind == .lBrace {
            skipBalanced()
        }
        _ = skipAttributes()
        return finish(.structSpec, mark: m, first: start, main: tag, flags: flags)
    }

    /// An object-head macro among members (`PyObject_HEAD`, `PyObject_VAR_HEAD(…)`, with or
    /// without a semicolon of its own), as a field declaration flagged 1.
    mutating func parseObjectHeadMacro() -> Bool {
        guard let mac = macro(pos), mac.role == .declarator else { return false }
        let start = pos
        let m = scratch.count
        advance()
        if kind == .lParen { skipBalanced() }
        _ = eat(.semicolon)
        push(finish(.fieldDecl, mark: m, first: start, main: start, flags: 1))
        return true
    }

    /// C struct members until `}`.
    mutating func parseFieldList() {
        while !atEOF, kind != .rBrace {
            let start = pos
            if kind == .semicolon { advance(); continue }
            if parseObjectHeadMacro() { continue }
            if kind == .kwStaticAssert {
                advance()
                if kind == .lParen { skipBalanced() }
                _ = eat(.semicolon)
                continue
            }
            // unknown macro member such as `FOO_FIELDS` or `FOO(x)` on its own line
            if kind == .identifier, isAllCaps(pos), !isTypeName(pos) {
                var i = pos + 1
                if i < toks.count, toks[i].kind == .lParen {
                    var level = 0
                    while i < toks.count {
                        if toks[i].kind == .lParen { level += 1 }
                        if toks[i].kind == .rParen { level -= 1; if level == 0 { break } }
                        i += 1
                    }
                    i += 1
                }
                if i < toks.count, toks[i].kind == .semicolon || toks[i].kind == .rBrace
                    || (toks[i].atLineStart && toks[i].kind != .star && toks[i].kind != .identifier) || toks[i].atLineStart && isAllCaps(i) {
                    let m = scratch.count
                    pos = i
                    _ = eat(.semicolon)
                    push(finish(.fieldDecl, mark: m, first: start, main: start, flags: 1))
                    continue
                }
            }
            let m = scratch.count
            push(parseSpecifiers())
            while !atEOF {
                let before = pos
                if kind == .colon {  // anonymous bit-field
                    advance()
                    push(parseConditional())
                } else {
                    let d = parseDeclarator(abstractOK: true)
                    push(d)
                    _ = skipAttributes()
                    if kind == .colon {
                        advance()
                        push(parseConditional())
                    }
                    _ = skipAttributes()
                }
                if kind == .comma { advance(); continue }
                if pos == before { break }
                break
            }
            if kind == .semicolon {
                advance()
                push(finish(.fieldDecl, mark: m, first: start))
            } else if kind == .rBrace {
                push(finish(.fieldDecl, mark: m, first: start))
            } else {
                _ = finish(.fieldDecl, mark: m, first: start)
                push(recoverStatement(from: start))
            }
        }
    }

    /// `enum [class] [tag] [: type] [{ enumerators }]`.
    mutating func parseEnumSpec() -> Int32 {
        let start = pos
        let m = scratch.count
        advance()
        if kind == .kwClass || kind == .kwStruct { advance() }
        _ = skipAttributes()
        var tag = -1
        if kind == .identifier {
            tag = pos
            advance()
        }
        if kind == .colon {
            advance()
            _ = parseTypeName()
        }
        var flags: UInt8 = 0
        if kind == .lBrace {
            flags = 2
            advance()
            while !atEOF, kind != .rBrace {
                let before = pos
                if kind == .identifier {
                    let em = scratch.count
                    let name = pos
                    advance()
                    _ = skipAttributes()
                    if kind == .lParen {  // macro-generated enumerators
                        skipBalanced()
                    }
                    if kind == .assign {
                        advance()
                        push(parseConditional())
                    }
                    push(finish(.enumerator, mark: em, first: name, main: name))
                }
                if kind == .comma { advance(); continue }
                if kind != .rBrace {
                    if pos == before || kind != .identifier || !toks[pos].atLineStart {
                        noteRecovery()
                        while !atEOF, kind != .comma, kind != .rBrace {
                            if kind == .lParen || kind == .lBrace { skipBalanced() } else { advance() }
                        }
                        _ = eat(.comma)
                    }
                }
            }
            _ = eat(.rBrace)
        }
        return finish(.enumSpec, mark: m, first: start, main: tag, flags: flags)
    }

    /// A declarator: pointers, a name (or none when `abstractOK`), array and function suffixes.
    /// `aux` counts pointer levels; a nested `(*name)(...)` sets `functionPointer`.
    mutating func parseDeclarator(abstractOK: Bool) -> Int32 {
        let start = pos
        let m = scratch.count
        var pointers: Int16 = 0
        var flags: UInt8 = 0
        var name = -1
        guard depth < Self.maxDepth else {
            noteRecovery()
            while !atEOF, kind != .semicolon, kind != .rBrace { advance() }
            return finish(.declarator, mark: m, first: start)
        }
        depth += 1
        defer { depth -= 1 }
        // pointer part
        while !atEOF {
            if kind == .star {
                if pointers < Int16.max { pointers += 1 }
                advance()
            } else if cpp, kind == .amp || kind == .ampAmp {
                flags |= DeclaratorFlags.reference
                advance()
            } else if kind == .kwConst || kind == .kwVolatile || kind == .kwRestrict || kind == .kwAtomic {
                advance()
            } else if kind == .kwAttribute || kind == .kwDeclspec {
                _ = skipAttributes()
            } else if kind == .identifier, pointers > 0, let mac = macro(pos), mac.role == .annotation {
                _ = skipAttributes()
            } else if kind == .identifier, pointers > 0, isAllCaps(pos), kind(1) == .identifier || kind(1) == .star {
                advance()  // pointer-qualifier macro such as NPY_RESTRICT
            } else if cpp, kind == .identifier, kind(1) == .colonColon, memberPointerAhead() {
                while kind != .star { advance() }
            } else {
                break
            }
        }
        // direct declarator
        var nested: Int32?
        if kind == .identifier, let mac = macro(pos), mac.role == .parameterName, kind(1) == .lParen {
            advance()
            advance()
            // `Py_UNUSED(name)` or NumPy's `NPY_UNUSED(name)`
            while !atEOF, kind != .rParen {
                if kind == .identifier { name = pos }
                if kind == .star, pointers < Int16.max { pointers += 1 }
                advance()
            }
            _ = eat(.rParen)
        } else if kind == .identifier, kind(1) == .lParen, macroBuiltNameAhead() {
            // `BLASNAME(cblas_sdot)(params)`: a name made by a macro; the inner identifier names it
            advance()
            let close = matchingClose(pos)
            var i = pos + 1
            while i < close {
                if toks[i].kind == .identifier { name = i }
                i += 1
            }
            if name < 0 { name = pos - 1 }
            pos = close
            advance()
        } else if kind == .identifier || (cpp && (kind == .tilde || kind == .kwOperator || kind == .colonColon)) {
            if cpp {
                name = consumeCppDeclaratorName()
            } else {
                name = pos
                advance()
            }
        } else if kind == .lParen, isNestedDeclaratorAhead(abstractOK: abstractOK) {
            advance()
            let inner = parseDeclarator(abstractOK: abstractOK)
            nested = inner
            name = Int(tree[inner].mainTok)
            _ = eat(.rParen)
        }
        _ = skipAttributes()
        // a trailing annotation macro after the name: `PyObject *self UNUSED`
        if name >= 0, kind == .identifier, isAllCaps(pos), !isTypeName(pos) {
            let n = kind(1)
            if n == .comma || n == .rParen || n == .semicolon || n == .assign || n == .lBracket { advance() }
        }
        // suffixes
        while !atEOF {
            if kind == .lBracket {
                flags |= DeclaratorFlags.array
                skipBalanced()
            } else if kind == .lParen {
                if cpp, bodyDepth > 0, nested == nil, name >= 0, flags & DeclaratorFlags.function == 0,
                   !parameterListAhead() {
                    // C++ direct initialization in a body: `LockGuard guard(*mutex);`
                    skipBalanced()
                    break
                }
                if nested != nil {
                    flags |= DeclaratorFlags.functionPointer
                } else if flags & DeclaratorFlags.function != 0 {
                    break
                } else {
                    flags |= DeclaratorFlags.function
                }
                push(parseParamList())
                if cpp { skipCppFunctionTrailer() }
            } else {
                break
            }
        }
        if let nested { push(nested) }
        return finish(.declarator, mark: m, first: start, main: name, flags: flags, aux: pointers)
    }

    /// At `(`: whether a parameter list follows rather than C++ constructor arguments.
    func parameterListAhead() -> Bool {
        let n = kind(1)
        if n == .rParen || n == .ellipsis || n.isDeclSpecifierKeyword { return true }
        guard n == .identifier else { return false }
        if isTypeName(pos + 1) { return true }
        let a = kind(2)
        if a == .identifier || a == .colonColon || a == .lt || a == .amp || a == .ampAmp { return true }
        if a == .star {
            var i = pos + 3
            while i < toks.count, toks[i].kind == .star || toks[i].kind == .kwConst { i += 1 }
            return i < toks.count && toks[i].kind == .identifier
                && (toks[i + 1].kind == .comma || toks[i + 1].kind == .rParen || toks[i + 1].kind == .lBracket)
        }
        return false
    }

    /// At `IDENT (`: whether `IDENT(args)(params)` follows, with IDENT in capitals (a macro making a name).
    func macroBuiltNameAhead() -> Bool {
        guard isAllCaps(pos) else { return false }
        let close = matchingClose(pos + 1)
        return close + 1 < toks.count && toks[close + 1].kind == .lParen
    }

    /// Index of the token closing the group opened at `i` (or the last token).
    func matchingClose(_ i: Int) -> Int {
        var level = 0
        var k = i
        while k < toks.count - 1 {
            switch toks[k].kind {
            case .lParen, .lBracket, .lBrace: level += 1
            case .rParen, .rBracket, .rBrace:
                level -= 1
                if level == 0 { return k }
            case .semicolon where level <= 1:
                return k
            default: break
            }
            k += 1
        }
        return toks.count - 1
    }

    func memberPointerAhead() -> Bool {
        var i = pos
        while i + 1 < toks.count, toks[i].kind == .identifier, toks[i + 1].kind == .colonColon { i += 2 }
        return i < toks.count && toks[i].kind == .star
    }

    /// Consumes a C++ declarator name (`ns::Class::method`, `~Class`, `operator==`); returns the
    /// index of the token that names it.
    mutating func consumeCppDeclaratorName() -> Int {
        var name = pos
        while !atEOF {
            if kind == .colonColon { advance(); continue }
            if kind == .tilde { advance(); continue }
            if kind == .kwOperator {
                name = pos
                advance()
                // operator symbol(s), `operator()`, `operator new[]`, conversion operators
                if kind == .lParen, kind(1) == .rParen { advance(); advance() } else if kind == .lBracket {
                    advance(); _ = eat(.rBracket)
                } else {
                    while !atEOF, kind != .lParen { advance() }
                }
                return name
            }
            if kind == .identifier {
                name = pos
                advance()
                if kind == .lt, kind(1) != .lt {
                    let save = pos
                    if !skipAngles() || (kind != .colonColon && kind != .lParen) { pos = save }
                }
                if kind == .colonColon { continue }
                return name
            }
            break
        }
        return name
    }

    /// At `(`: whether it opens a nested declarator like `(*name)` rather than a parameter list.
    func isNestedDeclaratorAhead(abstractOK: Bool) -> Bool {
        let n = kind(1)
        if n == .star || n == .caret || (cpp && (n == .amp || n == .ampAmp)) { return true }
        if n == .kwAttribute || n == .kwDeclspec { return true }
        if n == .lParen { return true }
        if n == .identifier, !abstractOK, kind(2) == .rParen {
            // `int (name)(...)`
            return true
        }
        if n == .identifier, let m = macro(pos + 1), m.role == .annotation { return true }
        if cpp, n == .identifier, kind(2) == .colonColon, memberPointerAhead(at: pos + 1) { return true }
        return false
    }

    func memberPointerAhead(at start: Int) -> Bool {
        var i = start
        while i + 1 < toks.count, toks[i].kind == .identifier, toks[i + 1].kind == .colonColon { i += 2 }
        return i < toks.count && toks[i].kind == .star
    }

    /// `( params )`: parameter declarations, `void`, `...`.
    mutating func parseParamList() -> Int32 {
        let start = pos
        let m = scratch.count
        advance()  // (
        var flags: UInt8 = 0
        while !atEOF, kind != .rParen {
            let before = pos
            if definitionStartsAt(pos) {  // an unclosed list: the next definition begins
                noteUnclosed()
                break
            }
            if kind == .ellipsis {
                flags |= 1
                advance()
            } else {
                let pm = scratch.count
                let pstart = pos
                push(parseSpecifiers())
                push(parseDeclarator(abstractOK: true))
                _ = skipAttributes()
                if kind == .assign {  // C++ default argument
                    advance()
                    push(parseAssignment())
                }
                push(finish(.paramDecl, mark: pm, first: pstart))
            }
            if kind == .comma {
                advance()
                continue
            }
            if kind != .rParen {
                noteRecovery()
                while !atEOF, kind != .rParen, kind != .comma {
                    if kind == .lParen || kind == .lBracket || kind == .lBrace { skipBalanced() } else { advance() }
                    if kind == .semicolon || kind == .rBrace { break }
                }
                if kind == .semicolon || kind == .rBrace { break }
                _ = eat(.comma)
            }
            if pos == before { advance() }
        }
        _ = eat(.rParen)
        return finish(.paramList, mark: m, first: start, flags: flags)
    }

    /// A type name as in a cast or `sizeof`: specifiers and an abstract declarator.
    mutating func parseTypeName() -> Int32 {
        let start = pos
        let m = scratch.count
        push(parseSpecifiers())
        push(parseDeclarator(abstractOK: true))
        return finish(.typeName, mark: m, first: start)
    }

    /// `= value` or `= { ... }`.
    mutating func parseInitializer() -> Int32 {
        if kind == .lBrace { return parseInitList() }
        return parseAssignment()
    }

    /// `{ [designators =] value, ... }`, nested, tolerant.
    mutating func parseInitList() -> Int32 {
        let start = pos
        let m = scratch.count
        guard depth < Self.maxDepth else {
            noteRecovery()
            skipBalanced()
            return finish(.initList, mark: m, first: start)
        }
        depth += 1
        defer { depth -= 1 }
        advance()  // {
        while !atEOF, kind != .rBrace {
            let before = pos
            if kind == .dot || kind == .lBracket {
                let dm = scratch.count
                while kind == .dot || kind == .lBracket {
                    if kind == .dot {
                        advance()
                        let fm = scratch.count
                        let name = pos
                        if kind == .identifier { advance() }
                        push(finish(.designatorField, mark: fm, first: name, main: name))
                    } else {
                        let im = scratch.count
                        let s = pos
                        advance()
                        push(parseConditional())
                        if kind == .ellipsis {  // GNU range designator
                            advance()
                            push(parseConditional())
                        }
                        _ = eat(.rBracket)
                        push(finish(.designatorIndex, mark: im, first: s))
                    }
                }
                _ = eat(.assign)
                push(parseInitializer())
                push(finish(.designatedInit, mark: dm, first: before))
            } else if kind == .identifier, kind(1) == .colon, !cpp {
                // old GNU designator `field: value`
                let dm = scratch.count
                let fm = scratch.count
                let name = pos
                advance()
                push(finish(.designatorField, mark: fm, first: name, main: name))
                advance()
                push(parseInitializer())
                push(finish(.designatedInit, mark: dm, first: before))
            } else if kind == .identifier, kind(1) == .lParen, text(pos).hasSuffix("_HEAD_INIT") {
                // `PyVarObject_HEAD_INIT(NULL, 0)` expands to elements with their own trailing
                // comma, so code may write `PyVarObject_HEAD_INIT(NULL, 0).tp_name = "x"`
                push(leaf(.ident, pos))
                advance()
                skipBalanced()
                if kind == .dot { continue }
            } else {
                push(parseInitializer())
            }
            if kind == .comma { advance(); continue }
            if kind == .rBrace { break }
            // `PyVarObject_HEAD_INIT(NULL, 0)` expands to elements with their own trailing comma
            if toks[pos].atLineStart, let last = scratch.last,
               tree[last].kind == .ident || (tree[last].kind == .call && tree.child(last, 0).map { tree[$0].kind == .ident } == true) {
                continue
            }
            // unknown content: skip to `,` or `}`
            noteRecovery()
            while !atEOF, kind != .comma, kind != .rBrace {
                if kind == .lParen || kind == .lBracket || kind == .lBrace { skipBalanced() } else { advance() }
                if kind == .semicolon { break }
            }
            if kind == .semicolon { break }
            _ = eat(.comma)
            if pos == before { advance() }
        }
        _ = eat(.rBrace)
        return finish(.initList, mark: m, first: start)
    }
}
