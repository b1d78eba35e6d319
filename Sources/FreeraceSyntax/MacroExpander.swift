/// Expansion of a project's own statement macros, and only those that change what the analysis
/// sees: a macro whose body releases the GIL, takes or drops a lock, opens a critical section or
/// clears a pointer after destroying it (`#define UNLOCKED(out, e) Py_BEGIN_ALLOW_THREADS out = (e);
/// Py_END_ALLOW_THREADS`, `#define CLEARPGRES(r) do { PQclear(r); r = NULL; } while (0)`).
///
/// freerace does not preprocess: known macros are data in the catalogue and everything else is
/// parsed as written. A project that wraps `Py_BEGIN_ALLOW_THREADS` in its own macro would then
/// hide every region it opens, so such macros are expanded at their uses, in the token stream
/// the parser reads. Their body tokens are synthetic (their text is kept in a buffer after the
/// file's bytes) and located at the use; argument tokens stay the file's own.
public struct ExpandableMacro: Sendable, Equatable, Codable {
    public var name: String
    /// Parameter names; nil for an object-like macro. A trailing `...` is the variadic tail.
    public var parameters: [String]?
    public var body: String

    public init(name: String, parameters: [String]?, body: String) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }
}

/// Which macros are worth expanding: the Model layer names the C-API functions whose presence
/// in a body makes it so (lock, GIL, free calls), the catalogue gives the region macros.
public struct MacroExpansionPolicy: Sendable {
    public var triggers: Set<String>

    public init(triggers: Set<String> = []) { self.triggers = triggers }

    /// A statement-shaped body (`;`, a block, or a region macro) that uses a region macro, a
    /// trigger function, or assigns NULL (the clear half of a destroy-and-clear macro); or a
    /// method-table entry `{"name", f, flags, doc},`. Bodies with `#` or `##` are left alone, as
    /// are catalogue macros.
    public func selects(_ m: MacroDefinition, cpp: Bool) -> ExpandableMacro? {
        guard MacroCatalogue.lookup(m.name) == nil, m.body.utf8.count < 4096 else { return nil }
        let toks = MacroExpander.significantTokens(Array(m.body.utf8), cpp: cpp)
        guard !toks.isEmpty else { return nil }
        let bytes = Array(m.body.utf8)
        func text(_ t: Token) -> Substring { Substring(decoding: bytes[Int(t.start)..<t.end], as: UTF8.self) }
        // a project's object head (`#define LmdbObject_HEAD PyObject_HEAD int valid;`): the structs
        // that start with it are Python objects, and its fields are theirs
        if m.parameters == nil, toks[0].kind == .identifier,
           MacroCatalogue.lookup(String(text(toks[0])))?.role == .declarator,
           !toks.contains(where: { $0.kind == .hash || $0.kind == .hashHash }) {
            return ExpandableMacro(name: m.name, parameters: nil, body: m.body)
        }
        // a method-table entry (Argument Clinic's `#define X_METHODDEF {"name", (PyCFunction)f,
        // METH_O, doc},`): the table that lists it names an entry point
        if m.parameters == nil, toks.count >= 5, toks[0].kind == .lBrace, toks[1].kind == .string,
           toks[2].kind == .comma, toks.last!.kind == .comma || toks.last!.kind == .rBrace,
           !toks.contains(where: { $0.kind == .hash || $0.kind == .hashHash || $0.kind == .semicolon }) {
            return ExpandableMacro(name: m.name, parameters: nil, body: m.body)
        }
        var statementShaped = false
        var interesting = false
        for (i, t) in toks.enumerated() {
            switch t.kind {
            case .hash, .hashHash: return nil
            case .semicolon, .lBrace, .kwDo: statementShaped = true
            case .identifier:
                let name = String(text(t))
                if name == m.name { return nil }  // self-reference
                if let e = MacroCatalogue.lookup(name), e.role == .blockBegin || e.role == .blockEnd {
                    statementShaped = true
                    interesting = true
                } else if triggers.contains(name) {
                    interesting = true
                } else if name == "NULL", i >= 1, toks[i - 1].kind == .assign {
                    interesting = true
                }
            default: break
            }
        }
        guard statementShaped, interesting else { return nil }
        return ExpandableMacro(name: m.name, parameters: m.parameters, body: m.body)
    }
}

public enum MacroExpander {
    /// The result: the token stream with expansions, the bytes synthetic tokens point into (after
    /// the file's own), and for each token the file offset it is located at (the use of the
    /// macro) or -1 for the file's own tokens. Empty `sites` when nothing was expanded.
    public struct Result: Sendable {
        public var tokens: [Token]
        public var synthetic: [UInt8]
        public var sites: [Int32]
    }

    /// The significant tokens of a text (no trivia, no end marker).
    static func significantTokens(_ bytes: [UInt8], cpp: Bool) -> [Token] {
        CLexer(cpp: cpp).lex(bytes).tokens.filter { !$0.kind.isTrivia && $0.kind != .eof }
    }

    /// Bounds: expansions inside expansions go this deep, and the stream grows at most this much.
    static let maxDepth = 4
    static let maxGrowth = 200_000

    public static func expand(tokens: [Token], bytes: UnsafeBufferPointer<UInt8>, macros: [String: ExpandableMacro],
                              cpp: Bool) -> Result {
        guard !macros.isEmpty else { return Result(tokens: tokens, synthetic: [], sites: []) }
        let base = bytes.count
        var synthetic: [UInt8] = []
        // each body once: its tokens, shifted into the synthetic buffer
        // `slots[i]`: which parameter body token i stands for (`params.count` for `__VA_ARGS__`),
        // found once per macro rather than at every use
        struct Body { var tokens: [Token]; var slots: [Int?]; var params: [String]; var variadic: Bool; var functionLike: Bool }
        var bodies: [String: Body] = [:]
        var hashes: [UInt64: String] = [:]
        for (name, m) in macros {
            let b = Array(m.body.utf8)
            var toks = significantTokens(b, cpp: cpp)
            let shift = UInt32(base + synthetic.count)
            for k in toks.indices {
                toks[k].start += shift
                toks[k].flags = Token.Flags.spaceBefore
            }
            synthetic.append(contentsOf: b)
            synthetic.append(0x0A)
            var params = m.parameters ?? []
            var variadic = false
            if let last = params.last, last == "..." || last.hasSuffix("...") {
                variadic = true
                params.removeLast()
                if last != "..." { params.append(String(last.dropLast(3))) }  // GNU named variadic
            }
            let slots: [Int?] = toks.map { t in
                guard t.kind == .identifier else { return nil }
                let word = String(decoding: b[(Int(t.start - shift))..<(Int(t.start - shift) + Int(t.length))], as: UTF8.self)
                if let k = params.firstIndex(of: word) { return k }
                return word == "__VA_ARGS__" && variadic ? params.count : nil
            }
            bodies[name] = Body(tokens: toks, slots: slots, params: params, variadic: variadic, functionLike: m.parameters != nil)
            hashes[fnv1a(name)] = name
        }
        // a token's text, read where it lies (the file's bytes or the synthetic ones), not copied
        func withText<T>(_ t: Token, _ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> T) -> T {
            let s = Int(t.start)
            if s >= base { return synthetic.withUnsafeBufferPointer { body($0, s - base, Int(t.length)) } }
            return body(bytes, s, Int(t.length))
        }
        func names(_ t: Token, _ name: String) -> Bool {
            withText(t) { buf, s, n in buf[s..<(s + n)].elementsEqual(name.utf8) }
        }
        var current = tokens
        var sites = [Int32](repeating: -1, count: tokens.count)
        // which macro produced a synthetic token (no expansion of a macro inside its own body)
        var producer = [String?](repeating: nil, count: tokens.count)
        var expandedAny = false
        for _ in 0..<maxDepth {
            var out: [Token] = []
            var outSites: [Int32] = []
            var outProducer: [String?] = []
            out.reserveCapacity(current.count)
            var changed = false
            var i = 0
            while i < current.count {
                let t = current[i]
                guard t.kind == .identifier, out.count < tokens.count + maxGrowth,
                      let name = hashes[withText(t, fnv1a)], let body = bodies[name], producer[i] != name,
                      names(t, name) else {
                    out.append(t)
                    outSites.append(sites[i])
                    outProducer.append(producer[i])
                    i += 1
                    continue
                }
                // arguments of a function-like use: token ranges split on top-level commas
                var args: [Range<Int>] = []
                var end = i + 1
                if body.functionLike {
                    guard i + 1 < current.count, current[i + 1].kind == .lParen else {
                        out.append(t)
                        outSites.append(sites[i])
                        outProducer.append(producer[i])
                        i += 1
                        continue
                    }
                    var depth = 0
                    var start = i + 2
                    var j = i + 1
                    var closed = false
                    while j < current.count, current[j].kind != .eof {
                        switch current[j].kind {
                        case .lParen, .lBracket, .lBrace: depth += 1
                        case .rParen, .rBracket, .rBrace:
                            depth -= 1
                            if depth == 0 {
                                if j > start || !args.isEmpty { args.append(start..<j) }
                                closed = true
                            }
                        case .comma where depth == 1:
                            args.append(start..<j)
                            start = j + 1
                        default: break
                        }
                        if closed { break }
                        j += 1
                    }
                    guard closed else {
                        out.append(t)
                        outSites.append(sites[i])
                        outProducer.append(producer[i])
                        i += 1
                        continue
                    }
                    end = j + 1
                }
                // body tokens before the first argument are located at the macro's name, those after
                // an argument at its closing parenthesis: a region the body opens and closes then
                // spans the argument's own tokens
                let site = sites[i] >= 0 ? sites[i] : Int32(truncatingIfNeeded: t.start)
                let close = end - 1
                let closeSite = body.functionLike
                    ? (sites[close] >= 0 ? sites[close] : Int32(truncatingIfNeeded: current[close].start)) : site
                var afterArgument = false
                var first = true
                for (bi, bt) in body.tokens.enumerated() {
                    var replacement: [Int]?
                    if let k = body.slots[bi] {
                        if k == body.params.count {  // __VA_ARGS__
                            replacement = k < args.count ? Array(args[k].lowerBound..<args[args.count - 1].upperBound) : []
                        } else {
                            replacement = k < args.count ? Array(args[k]) : []
                            if body.variadic, k == body.params.count - 1, args.count > body.params.count {
                                replacement = Array(args[k].lowerBound..<args[args.count - 1].upperBound)
                            }
                        }
                    }
                    if let r = replacement {
                        afterArgument = true
                        for k in r {
                            var a = current[k]
                            if first { a.flags = t.flags; first = false }
                            out.append(a)
                            outSites.append(sites[k])
                            outProducer.append(producer[k])
                        }
                    } else {
                        var s = bt
                        if first { s.flags = t.flags; first = false }
                        out.append(s)
                        outSites.append(afterArgument ? closeSite : site)
                        outProducer.append(name)
                    }
                }
                changed = true
                i = end
            }
            current = out
            sites = outSites
            producer = outProducer
            if !changed { break }
            expandedAny = true
        }
        guard expandedAny else { return Result(tokens: tokens, synthetic: [], sites: []) }
        return Result(tokens: current, synthetic: synthetic, sites: sites)
    }
}
