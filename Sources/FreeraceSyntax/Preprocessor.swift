/// Which build of CPython the analysis assumes.
public enum AnalysisTarget: String, Sendable, CaseIterable, Codable {
    /// Free-threaded build (`Py_GIL_DISABLED` defined); free-threading rules always apply.
    case freeThreaded = "free-threaded"
    /// Default build with a GIL; free-threading rules are off.
    case gil
    /// Follow what each module declares (`Py_mod_gil`, `PyUnstable_Module_SetGIL`, Cython directive).
    case auto
}

/// What the analysis knows about macros when it evaluates `#if`: each name is known defined
/// (with a value, possibly empty), known undefined, or unknown.
public struct MacroEnvironment: Sendable, Equatable {
    public var defined: [String: String]
    public var undefined: Set<String>
    /// Names fixed by the command line or target: file-level `#define`/`#undef` do not change them.
    public var pinned: Set<String>

    public init(defined: [String: String] = [:], undefined: Set<String> = [], pinned: Set<String> = []) {
        self.defined = defined
        self.undefined = undefined
        self.pinned = pinned
    }

    /// The environment for one file: platform facts, the target build, the Python version and the
    /// user's `-D`/`-U` (which win over everything else).
    public static func forAnalysis(
        language: Language,
        target: AnalysisTarget,
        pythonVersion: (major: Int, minor: Int)? = nil,
        defines: [String: String] = [:],
        undefines: [String] = []
    ) -> MacroEnvironment {
        var env = MacroEnvironment()
        // The platform freerace assumes when a branch depends on it: a 64-bit Linux with GCC.
        for (k, v) in ["__linux__": "1", "__unix__": "1", "__GNUC__": "12", "__STDC__": "1",
                       "__x86_64__": "1", "__LP64__": "1", "NDEBUG": "1"] {
            env.defined[k] = v
        }
        for k in ["_WIN32", "_WIN64", "MS_WINDOWS", "_MSC_VER", "__APPLE__", "__CYGWIN__", "__MINGW32__",
                  "__EMSCRIPTEN__", "__wasi__", "Py_DEBUG", "Py_TRACE_REFS", "PYPY_VERSION", "Py_BUILD_CORE_BUILTIN"] {
            env.undefined.insert(k)
        }
        if language == .cpp {
            env.defined["__cplusplus"] = "201703L"
        } else {
            env.undefined.insert("__cplusplus")
        }
        switch target {
        case .freeThreaded:
            env.defined["Py_GIL_DISABLED"] = "1"
            env.pinned.insert("Py_GIL_DISABLED")
        case .gil:
            env.undefined.insert("Py_GIL_DISABLED")
            env.pinned.insert("Py_GIL_DISABLED")
        case .auto:
            break
        }
        if let v = pythonVersion {
            let hex = "0x" + Self.hex2(v.major) + Self.hex2(v.minor) + "00F0"
            env.defined["PY_VERSION_HEX"] = hex
            env.defined["PY_MAJOR_VERSION"] = String(v.major)
            env.defined["PY_MINOR_VERSION"] = String(v.minor)
            env.pinned.formUnion(["PY_VERSION_HEX", "PY_MAJOR_VERSION", "PY_MINOR_VERSION"])
        }
        for (k, v) in defines {
            env.undefined.remove(k)
            env.defined[k] = v
            env.pinned.insert(k)
        }
        for k in undefines {
            env.defined[k] = nil
            env.undefined.insert(k)
            env.pinned.insert(k)
        }
        return env
    }

    private static func hex2(_ n: Int) -> String {
        let s = String(n, radix: 16, uppercase: true)
        return s.count < 2 ? "0" + s : s
    }

    public func isDefined(_ name: String) -> Bool? {
        if defined[name] != nil { return true }
        if undefined.contains(name) { return false }
        return nil
    }

    mutating func define(_ name: String, _ value: String) {
        guard !pinned.contains(name) else { return }
        defined[name] = value
        undefined.remove(name)
    }

    mutating func undefine(_ name: String) {
        guard !pinned.contains(name) else { return }
        defined[name] = nil
        undefined.insert(name)
    }
}

/// A `#define` seen in a file.
public struct MacroDefinition: Sendable, Equatable {
    public var name: String
    /// Parameter names of a function-like macro, nil for an object-like one.
    public var parameters: [String]?
    public var body: String
    public var offset: Int
    public var active: Bool
}

/// One preprocessor line.
public struct Directive: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case `if`, ifdef, ifndef, elif, elifdef, elifndef, `else`, endif, define, undef, include, pragma, other
    }
    public var kind: Kind
    public var tokenIndex: Int
    /// For `#if`-family directives: whether the condition was known.
    public var evaluated: Bool?
    public var active: Bool
}

/// The result of walking a file's directives: the significant tokens of the branches kept,
/// and what the directives said.
public struct ConditionalView: Sendable {
    /// Active significant tokens, in order, ending with `.eof`.
    public var tokens: [Token]
    public var directives: [Directive]
    public var macros: [MacroDefinition]
    /// Indices (into the lexer's token list) of comments, for suppressions.
    public var comments: [Token]
    /// Number of significant tokens dropped as inactive.
    public var inactiveTokens: Int
    public var unbalanced: Int

    /// Walks `all` (the lexer's output) keeping branches per `env`; unknown conditions keep the first branch.
    public init(all: [Token], bytes: [UInt8], language: Language, env initial: MacroEnvironment) {
        var env = initial
        var toks: [Token] = []
        toks.reserveCapacity(all.count)
        var directives: [Directive] = []
        var macros: [MacroDefinition] = []
        var comments: [Token] = []
        struct Frame { var parentActive: Bool; var taken: Bool; var active: Bool }
        var stack: [Frame] = []
        var active = true
        var inactive = 0
        var unbalanced = 0
        let cpp = language == .cpp

        bytes.withUnsafeBufferPointer { buf in
            for (index, t) in all.enumerated() {
                switch t.kind {
                case .lineComment, .blockComment:
                    if active { comments.append(t) }
                case .directive:
                    let d = DirectiveLine(buf, t, cpp: cpp)
                    var dir = Directive(kind: d.kind, tokenIndex: index, evaluated: nil, active: active)
                    switch d.kind {
                    case .if, .ifdef, .ifndef:
                        var v: Bool?
                        if d.kind == .if { v = d.evaluate(env) } else {
                            let def = d.name.flatMap { env.isDefined($0) }
                            v = d.kind == .ifdef ? def : def.map { !$0 }
                        }
                        dir.evaluated = v != nil
                        let take = v ?? true
                        stack.append(Frame(parentActive: active, taken: take, active: active && take))
                        active = active && take
                    case .elif, .elifdef, .elifndef:
                        if var f = stack.popLast() {
                            if f.taken {
                                f.active = false
                            } else {
                                var v: Bool?
                                if d.kind == .elif { v = d.evaluate(env) } else {
                                    let def = d.name.flatMap { env.isDefined($0) }
                                    v = d.kind == .elifdef ? def : def.map { !$0 }
                                }
                                dir.evaluated = v != nil
                                let take = v ?? true
                                f.taken = take
                                f.active = f.parentActive && take
                            }
                            stack.append(f)
                            active = f.active
                        } else {
                            unbalanced += 1
                        }
                    case .else:
                        if var f = stack.popLast() {
                            f.active = f.parentActive && !f.taken
                            f.taken = true
                            stack.append(f)
                            active = f.active
                        } else {
                            unbalanced += 1
                        }
                    case .endif:
                        if let f = stack.popLast() { active = f.parentActive } else { unbalanced += 1 }
                    case .define:
                        if let name = d.name {
                            let body = d.bodyText()
                            macros.append(MacroDefinition(name: name, parameters: d.parameters, body: body,
                                                          offset: Int(t.start), active: active))
                            if active, d.parameters == nil { env.define(name, body) }
                        }
                    case .undef:
                        if active, let name = d.name { env.undefine(name) }
                    default:
                        break
                    }
                    directives.append(dir)
                case .eof:
                    toks.append(t)
                default:
                    if active { toks.append(t) } else { inactive += 1 }
                }
            }
        }
        unbalanced += stack.count
        self.tokens = toks
        self.directives = directives
        self.macros = macros
        self.comments = comments
        self.inactiveTokens = inactive
        self.unbalanced = unbalanced
    }
}

/// One directive line, lexed on demand.
struct DirectiveLine {
    var kind: Directive.Kind = .other
    var name: String?
    var parameters: [String]?
    /// Tokens after the directive name (offsets relative to the file).
    var rest: [Token] = []
    let buf: UnsafeBufferPointer<UInt8>
    var bodyStart = 0
    var end = 0

    init(_ buf: UnsafeBufferPointer<UInt8>, _ t: Token, cpp: Bool) {
        self.buf = buf
        let s = Int(t.start) + 1
        end = t.end
        let sub = UnsafeBufferPointer(rebasing: buf[s..<end])
        var toks = CLexer(cpp: cpp).lex(sub).tokens.filter { !$0.kind.isTrivia && $0.kind != .eof }
        for i in toks.indices { toks[i].start += UInt32(s) }
        guard let first = toks.first else { return }
        let word = text(first)
        switch word {
        case "if": kind = .if
        case "ifdef": kind = .ifdef
        case "ifndef": kind = .ifndef
        case "elif": kind = .elif
        case "elifdef": kind = .elifdef
        case "elifndef": kind = .elifndef
        case "else": kind = .else
        case "endif": kind = .endif
        case "define": kind = .define
        case "undef": kind = .undef
        case "include", "include_next", "import": kind = .include
        case "pragma": kind = .pragma
        default: kind = .other
        }
        rest = Array(toks.dropFirst())
        if kind == .ifdef || kind == .ifndef || kind == .elifdef || kind == .elifndef || kind == .undef
            || kind == .define, let n = rest.first, n.kind == .identifier || n.kind.isKeyword {
            name = text(n)
            bodyStart = n.end
            if kind == .define, rest.count > 1, rest[1].kind == .lParen, rest[1].start == n.end {
                var params: [String] = []
                var i = 2
                while i < rest.count, rest[i].kind != .rParen {
                    if rest[i].kind == .identifier || rest[i].kind == .ellipsis { params.append(text(rest[i])) }
                    i += 1
                }
                parameters = params
                bodyStart = i < rest.count ? rest[i].end : end
            }
        }
    }

    func text(_ t: Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buf[Int(t.start)..<t.end]), as: UTF8.self)
    }

    /// The replacement text of a `#define`, with continuations and comments folded to spaces.
    func bodyText() -> String {
        var out: [UInt8] = []
        var i = bodyStart
        while i < end {
            let b = buf[i]
            if b == 0x5C, i + 1 < end, buf[i + 1] == 0x0A || buf[i + 1] == 0x0D {
                out.append(0x20)
                i += 1
                while i < end, buf[i] == 0x0A || buf[i] == 0x0D { i += 1 }
                continue
            }
            if b == 0x2F, i + 1 < end, buf[i + 1] == 0x2A {
                i += 2
                while i + 1 < end, !(buf[i] == 0x2A && buf[i + 1] == 0x2F) { i += 1 }
                i += 2
                out.append(0x20)
                continue
            }
            if b == 0x2F, i + 1 < end, buf[i + 1] == 0x2F { break }
            out.append(b == 0x0A || b == 0x09 ? 0x20 : b)
            i += 1
        }
        var s = String(decoding: out, as: UTF8.self)
        while s.hasPrefix(" ") { s.removeFirst() }
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }

    /// Evaluates an `#if`/`#elif` condition; nil when it depends on something unknown.
    func evaluate(_ env: MacroEnvironment) -> Bool? {
        var ev = ConditionEvaluator(tokens: rest, line: self, env: env, depth: 0)
        guard let parsed = ev.parseTernary(), ev.pos >= rest.count, let v = parsed else { return nil }
        return v != 0
    }
}

/// Three-valued evaluation of preprocessor conditions (nil = unknown), with short-circuiting
/// so that `0 && UNKNOWN` is known false.
struct ConditionEvaluator {
    var tokens: [Token]
    let line: DirectiveLine
    let env: MacroEnvironment
    var depth: Int
    var pos = 0
    var failed = false

    init(tokens: [Token], line: DirectiveLine, env: MacroEnvironment, depth: Int) {
        self.tokens = tokens
        self.line = line
        self.env = env
        self.depth = depth
    }

    var peek: TokenKind { pos < tokens.count ? tokens[pos].kind : .eof }

    mutating func parseTernary() -> Int64?? {
        guard let c = parseBinary(0) else { return nil }
        if peek == .question {
            pos += 1
            guard let a = parseTernary() else { return nil }
            guard peek == .colon else { return nil }
            pos += 1
            guard let b = parseTernary() else { return nil }
            guard let cv = c else { return a == b ? a : .some(nil) }
            return cv != 0 ? a : b
        }
        return c
    }

    /// Binary operators of `#if` share C's precedence (the parser's table; `.*`/`->*` never occur here).
    static func precedence(_ k: TokenKind) -> Int? {
        let p = CParser.precedence(k)
        return p == 0 ? nil : p
    }

    /// Returns nil on a syntax error, `.some(nil)` for unknown, `.some(v)` for a value.
    mutating func parseBinary(_ minPrec: Int) -> Int64?? {
        guard var lhs = parseUnary() else { return nil }
        while let p = Self.precedence(peek), p > minPrec {
            let op = peek
            pos += 1
            guard let rhs = parseBinary(p) else { return nil }
            lhs = Self.apply(op, lhs, rhs)
        }
        return lhs
    }

    static func apply(_ op: TokenKind, _ a: Int64?, _ b: Int64?) -> Int64? {
        switch op {
        case .ampAmp:
            if a == 0 || b == 0 { return 0 }
            guard a != nil, b != nil else { return nil }
            return 1
        case .pipePipe:
            if let a, a != 0 { return 1 }
            if let b, b != 0 { return 1 }
            guard a != nil, b != nil else { return nil }
            return 0
        default:
            guard let x = a, let y = b else { return nil }
            switch op {
            case .pipe: return x | y
            case .caret: return x ^ y
            case .amp: return x & y
            case .eqEq: return x == y ? 1 : 0
            case .bangEq: return x != y ? 1 : 0
            case .lt: return x < y ? 1 : 0
            case .gt: return x > y ? 1 : 0
            case .le: return x <= y ? 1 : 0
            case .ge: return x >= y ? 1 : 0
            case .shl: return y >= 0 && y < 64 ? x << y : nil
            case .shr: return y >= 0 && y < 64 ? x >> y : nil
            case .plus: return x &+ y
            case .minus: return x &- y
            case .star: return x &* y
            // Int64.min / -1 overflows: unknown, like a division by zero
            case .slash: return y == 0 || (x == .min && y == -1) ? nil : x / y
            case .percent: return y == 0 || (x == .min && y == -1) ? nil : x % y
            default: return nil
            }
        }
    }

    mutating func parseUnary() -> Int64?? {
        switch peek {
        case .bang:
            pos += 1
            guard let v = parseUnary() else { return nil }
            return .some(v.map { $0 == 0 ? 1 : 0 })
        case .minus:
            pos += 1
            guard let v = parseUnary() else { return nil }
            return .some(v.map { 0 &- $0 })
        case .plus:
            pos += 1
            return parseUnary()
        case .tilde:
            pos += 1
            guard let v = parseUnary() else { return nil }
            return .some(v.map { ~$0 })
        default:
            return parsePrimary()
        }
    }

    mutating func parsePrimary() -> Int64?? {
        guard pos < tokens.count else { return nil }
        let t = tokens[pos]
        switch t.kind {
        case .lParen:
            pos += 1
            guard let v = parseTernary(), peek == .rParen else { return nil }
            pos += 1
            return v
        case .number:
            pos += 1
            return .some(Self.parseInteger(line.text(t)))
        case .char:
            pos += 1
            let s = Array(line.text(t).utf8)
            if s.count == 3 { return .some(Int64(s[1])) }
            return .some(nil)
        case _ where t.kind == .identifier || t.kind.isKeyword:
            pos += 1
            let name = line.text(t)
            if name == "defined" {
                var paren = false
                if peek == .lParen { paren = true; pos += 1 }
                guard pos < tokens.count else { return nil }
                let n = line.text(tokens[pos])
                pos += 1
                if paren {
                    guard peek == .rParen else { return nil }
                    pos += 1
                }
                return .some(env.isDefined(n).map { $0 ? 1 : 0 })
            }
            if peek == .lParen {  // function-like macro or __has_include(...): unknown
                var level = 0
                while pos < tokens.count {
                    if tokens[pos].kind == .lParen { level += 1 }
                    if tokens[pos].kind == .rParen {
                        level -= 1
                        if level == 0 { pos += 1; break }
                    }
                    pos += 1
                }
                return .some(nil)
            }
            if name == "true" { return .some(1) }
            if name == "false" { return .some(0) }
            if let value = env.defined[name] {
                return .some(evaluateMacroValue(value))
            }
            if env.undefined.contains(name) { return .some(0) }
            return .some(nil)
        default:
            return nil
        }
    }

    /// Value of a known macro: a number, or a nested expression (bounded depth).
    func evaluateMacroValue(_ value: String) -> Int64? {
        if value.isEmpty { return nil }
        if let n = Self.parseInteger(value) { return n }
        guard depth < 8 else { return nil }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBufferPointer { b -> Int64? in
            let toks = CLexer(cpp: false).lex(b).tokens.filter { !$0.kind.isTrivia && $0.kind != .eof }
            let l = DirectiveLine(evaluating: b)
            var ev = ConditionEvaluator(tokens: toks, line: l, env: env, depth: depth + 1)
            guard let v = ev.parseTernary(), ev.pos >= toks.count else { return nil }
            return v
        }
    }

    /// Parses a C integer literal with optional suffixes; nil if it is not one.
    static func parseInteger(_ s: String) -> Int64? {
        var t = Substring(s)
        while let last = t.last, "uUlL".contains(last) { t.removeLast() }
        if t.isEmpty { return nil }
        let radix: Int
        if t.hasPrefix("0x") || t.hasPrefix("0X") {
            radix = 16
            t = t.dropFirst(2)
        } else if t.hasPrefix("0b") || t.hasPrefix("0B") {
            radix = 2
            t = t.dropFirst(2)
        } else if t.count > 1, t.hasPrefix("0") {
            radix = 8
            t = t.dropFirst()
        } else {
            radix = 10
        }
        let cleaned = t.filter { $0 != "'" }
        if let v = UInt64(cleaned, radix: radix) { return Int64(bitPattern: v) }
        return nil
    }
}

extension DirectiveLine {
    /// A line used only to slice text from a standalone buffer (macro values).
    init(evaluating buf: UnsafeBufferPointer<UInt8>) {
        self.buf = buf
        self.end = buf.count
    }
}
