import FreeraceModel
import FreeraceSyntax

extension RuleContext {

    /// The innermost function along `chain` whose own summary already speaks of `origin`
    /// (where a free of a parameter becomes a free of a field): the function to blame.
    public func blamedStep(_ chain: Chain, kind: EffectKind, origin: Origin, engine: SummaryEngine) -> Int {
        for i in stride(from: chain.count - 1, through: 0, by: -1) {
            let f = chain[i].function
            if engine.entryEffects(f).contains(where: { $0.kind == kind && $0.origin == origin }) { return i }
        }
        return 0
    }

    /// `getall()` → `md_get_all` → `md_find_next`: a chain as text, starting at the entry.
    public func chainText(entry: EntryPoint, _ chain: Chain, upTo end: Int? = nil) -> String {
        let last = min(end ?? chain.count - 1, chain.count - 1)
        var parts = [entryText(entry)]
        if last >= 1 {
            for i in 1...last { parts.append("`\(functionName(chain[i]))`") }
        }
        return parts.joined(separator: " → ")
    }

    /// An entry point as code text for messages: `` `MultiDict.getall()` ``, or for an exported
    /// function, `` `PyArray_DescrHash` (exported, callable from other files) ``.
    public func entryText(_ e: EntryPoint) -> String {
        if e.kind == .exported, let open = e.label.firstIndex(of: "(") {
            let name = e.label[..<open].trimmingCharacters(in: .whitespaces)
            return "`\(name)` \(e.label[open...])"
        }
        let name = entryName(e)
        // a description that quotes code itself (`the eval-frame hook installed by … in `f``)
        // reads as prose; wrapping it again would nest backticks
        return name.contains("`") ? name : "`\(name)`"
    }

    /// How a user calls an entry point: `MultiDict.getall()`, `tp_iternext of _itemsiter`.
    public func entryName(_ e: EntryPoint) -> String {
        if let t = e.pyType, let s = e.pythonSpelling {
            if e.kind == .method { return "\(t).\(s)()" }
            if e.kind == .getter { return "\(t).\(s)" }
            if e.kind == .setter { return "\(t).\(s) = …" }
            if s.hasPrefix("__") { return "\(t).\(s)" }
        }
        return e.label
    }

    /// Free-threading status for the file of a function.
    public func freeThreading(_ function: Int) -> (applies: Bool, reason: String) {
        program.freeThreading(file: program.functions[function].file)
    }

    /// Whether the free-threading rules apply to a function (rules ask in loops: no reason text).
    public func freeThreadingApplies(_ function: Int) -> Bool {
        program.freeThreadingApplies(file: program.functions[function].file)
    }

    /// The Python module name of a function's file, when known: the module a C file defines, or
    /// for Python and Cython the dotted path through the package directories (those with an
    /// `__init__.py`, `.pyx` or `.pxd` among the analyzed files).
    public func moduleName(_ function: Int) -> String? {
        let f = program.functions[function]
        if let m = program.moduleOfFile[f.file] { return program.modules[m].name }
        guard f.language == .python || f.language == .cython else { return nil }
        func split(_ path: Substring) -> (dir: Substring, base: Substring) {
            guard let slash = path.lastIndex(of: "/") else { return ("", path) }
            return (path[..<slash], path[path.index(after: slash)...])
        }
        var packages = Set<Substring>()
        for file in program.files {
            let (dir, base) = split(Substring(file.path))
            if base.hasPrefix("__init__.") { packages.insert(dir) }
        }
        var (dir, base) = split(Substring(f.file))
        guard let dot = base.lastIndex(of: ".") else { return nil }
        var name = base[..<dot] == "__init__" ? [] : [String(base[..<dot])]
        while !dir.isEmpty, packages.contains(dir) {
            let (parent, last) = split(dir)
            name.insert(String(last), at: 0)
            dir = parent
        }
        return name.isEmpty ? nil : name.joined(separator: ".")
    }

    /// The first `max` distinct items and how many more there are: of `items`, or of `total`
    /// when the caller passes only the first few of a longer list.
    public func shortList(_ items: [String], max: Int = 4, total: Int? = nil) -> String {
        let u = uniqued(items)
        let shown = u.prefix(max)
        let rest = (total ?? u.count) - shown.count
        return shown.joined(separator: ", ") + (rest > 0 ? " and \(rest) more" : "")
    }
}

func uniqued(_ xs: [String]) -> [String] {
    var seen = Set<String>()
    return xs.filter { seen.insert($0).inserted }
}
