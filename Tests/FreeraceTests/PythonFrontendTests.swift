import Foundation
import Testing
@testable import FreeracePython

// MARK: - helpers

private func parsePy(_ s: String, cython: Bool = false) -> PyParsedFile {
    PythonFrontend.parse(path: cython ? "t.pyx" : "t.py", bytes: Array(s.utf8), isCython: cython)
}

private func allFunctions(_ body: [PyStmt]) -> [PyFunction] {
    var out: [PyFunction] = []
    func walk(_ b: [PyStmt]) {
        for s in b {
            switch s.kind {
            case .function(let f):
                out.append(f)
                walk(f.body)
            case .classDef(let c): walk(c.body)
            case .ifStmt(let br, let e), .compileTimeIf(let br, let e):
                for x in br { walk(x.body) }
                walk(e)
            case .whileStmt(_, let b, let e), .forStmt(_, _, let b, let e):
                walk(b)
                walk(e)
            case .with(_, let b): walk(b)
            case .tryStmt(let b, let h, let e, let f):
                walk(b)
                for x in h { walk(x.body) }
                walk(e)
                walk(f)
            default: break
            }
        }
    }
    walk(body)
    return out
}

// MARK: - corpus measurement (FREERACE_CORPUS=/path swift test --filter PythonFrontend)

@Test(.enabled(if: ProcessInfo.processInfo.environment["FREERACE_CORPUS"] != nil))
func pythonFrontendCorpusHealth() throws {
    let root = ProcessInfo.processInfo.environment["FREERACE_CORPUS"]!
    let showMax = Int(ProcessInfo.processInfo.environment["FREERACE_SHOW"] ?? "40") ?? 40
    var files: [(String, Bool)] = []
    let fm = FileManager.default
    if let e = fm.enumerator(atPath: root) {
        for case let rel as String in e {
            let full = root + "/" + rel
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            if rel.hasSuffix(".py") { files.append((full, false)) }
            if rel.hasSuffix(".pyx") || rel.hasSuffix(".pxd") || rel.hasSuffix(".pxi") { files.append((full, true)) }
        }
    }
    files.sort { $0.0 < $1.0 }
    var totals: [Bool: (files: Int, bytes: Int, fns: Int, rec: Int, fileRec: Int, secs: Double)] = [:]
    var shown = 0
    for (path, cy) in files {
        guard let data = fm.contents(atPath: path) else { continue }
        let bytes = [UInt8](data)
        let t0 = Date()
        let r = PythonFrontend.parse(path: path, bytes: bytes, isCython: cy)
        let dt = Date().timeIntervalSince(t0)
        var t = totals[cy] ?? (0, 0, 0, 0, 0, 0)
        t.files += 1
        t.bytes += bytes.count
        t.fns += r.functionCount
        t.rec += r.recoveredFunctionCount
        t.fileRec += r.fileScopeRecoveries
        t.secs += dt
        totals[cy] = t
        if let dump = ProcessInfo.processInfo.environment["FREERACE_DUMP"], cy == (dump == "cython") {
            for f in allFunctions(r.body) where !f.body.isEmpty { print("FN \(path):\(f.pos.line) \(f.name)") }
        }
        if (r.recoveredFunctionCount > 0 || r.fileScopeRecoveries > 0) && shown < showMax {
            shown += 1
            print("== \(path): \(r.recoveredFunctionCount)/\(r.functionCount) recovered, \(r.fileScopeRecoveries) file-scope")
            for d in r.diagnostics.prefix(4) { print("   \(d)") }
        }
    }
    for (cy, t) in totals.sorted(by: { !$0.key && $1.key }) {
        let pct = t.fns == 0 ? 100 : Double(t.fns - t.rec) * 100 / Double(t.fns)
        print("\(cy ? "cython" : "python"): \(t.files) files, \(t.bytes) bytes, \(t.fns) functions, \(t.fns - t.rec) clean "
              + "(\(String(format: "%.2f", pct))%), \(t.fileRec) file-scope recoveries, "
              + "\(String(format: "%.1f", Double(t.bytes) / 1e6 / max(t.secs, 1e-9))) MB/s")
    }
}

private func stmtKinds(_ body: [PyStmt]) -> [String] {
    body.map { s in
        switch s.kind {
        case .expr: "expr"
        case .assign: "assign"
        case .augAssign: "augAssign"
        case .declare: "declare"
        case .ret: "ret"
        case .ifStmt: "if"
        case .compileTimeIf: "IF"
        case .whileStmt: "while"
        case .forStmt: "for"
        case .with: "with"
        case .tryStmt: "try"
        case .function: "function"
        case .classDef: "class"
        case .importFrom: "importFrom"
        case .importModules: "import"
        case .externBlock: "extern"
        case .include: "include"
        case .global: "global"
        case .raise: "raise"
        case .delete: "delete"
        case .pass: "pass"
        case .breakStmt: "break"
        case .continueStmt: "continue"
        case .other: "other"
        case .unparsed: "unparsed"
        }
    }
}

/// A compact rendering of an expression for structural comparisons.
private func render(_ e: PyExpr) -> String {
    switch e {
    case .name(let n, _): return n
    case .attribute(let b, let n, _): return "\(render(b)).\(n)"
    case .call(let f, let args, _):
        let a = args.map { a -> String in
            let v = render(a.value)
            if let n = a.name { return "\(n)=\(v)" }
            return String(repeating: "*", count: a.star) + v
        }
        return "\(render(f))(\(a.joined(separator: ", ")))"
    case .subscript(let b, let i, _): return "\(render(b))[\(render(i))]"
    case .cast(let t, let x, _): return "<\(t)>\(render(x))"
    case .literal(let s, _): return s
    case .collection(let items, _): return "(" + items.map(render).joined(separator: ", ") + ")"
    case .comprehension(let el, let t, let it, _): return "[\(render(el)) for \(render(t)) in \(render(it))]"
    case .lambda(let ps, let b, _): return "lambda \(ps.joined(separator: ",")): \(render(b))"
    case .binary(let op, let l, let r, _): return "(\(render(l)) \(op) \(render(r)))"
    case .unary(let op, let x, _): return "\(op)(\(render(x)))"
    case .conditional(let t, let b, let o, _): return "(\(render(b)) if \(render(t)) else \(render(o)))"
    case .starred(let x, _): return "*\(render(x))"
    case .await(let x, _): return "await \(render(x))"
    case .unknown: return "?"
    }
}

private func function(_ s: PyStmt?) -> PyFunction? {
    guard let s, case .function(let f) = s.kind else { return nil }
    return f
}

private func classDef(_ s: PyStmt?) -> PyClass? {
    guard let s, case .classDef(let c) = s.kind else { return nil }
    return c
}

private func exprOf(_ s: PyStmt?) -> PyExpr? {
    guard let s, case .expr(let e) = s.kind else { return nil }
    return e
}

// MARK: - Python structure

@Test func pythonFrontendDecoratedFunctionWithNestedClass() {
    let src = """
    import threading
    from . import util as u, other

    @decorator
    @other.thing(1, key="v")
    def outer(a, b: int = 3, *args, c, **kw) -> list[int]:
        '''doc'''
        class Inner(Base, metaclass=Meta):
            x: int = 0
            def method(self):
                return self.x
        return Inner

    async def co(x, /, y=lambda q: q + 1):
        async with lock as held:
            await thing(x)
        async for item in stream:
            pass
    """
    let r = parsePy(src)
    #expect(r.functionCount == 3)
    #expect(r.recoveredFunctionCount == 0)
    #expect(r.fileScopeRecoveries == 0)
    #expect(stmtKinds(r.body) == ["import", "importFrom", "function", "function"])
    if case .importFrom(let m, let names, let ci) = r.body[1].kind {
        #expect(m == ".")
        #expect(names == [PyImportName(name: "util", alias: "u"), PyImportName(name: "other", alias: nil)])
        #expect(!ci)
    } else {
        Issue.record("expected from-import")
    }
    guard let f = function(r.body[2]) else { Issue.record("no function"); return }
    #expect(f.name == "outer")
    #expect(f.kind == .def)
    #expect(f.pos == PyPos(line: 6, column: 5))
    #expect(f.decorators.map(render) == ["decorator", "other.thing(1, key=\"v\")"])
    #expect(f.params.map(\.name) == ["a", "b", "args", "c", "kw"])
    #expect(f.params.map(\.star) == [0, 0, 1, 0, 2])
    #expect(f.params[1].type == "int")
    #expect(f.params[1].defaultValue.map(render) == "3")
    #expect(f.returnType == "list[int]")
    #expect(f.endLine == 12)
    #expect(stmtKinds(f.body) == ["expr", "class", "ret"])
    guard let inner = classDef(f.body[1]) else { Issue.record("no class"); return }
    #expect(inner.name == "Inner")
    #expect(inner.bases.map(render) == ["Base"])
    #expect(!inner.isCdef)
    #expect(stmtKinds(inner.body) == ["declare", "function"])
    if case .declare(let names, let type, let values) = inner.body[0].kind {
        #expect(names == ["x"])
        #expect(type == "int")
        #expect(values.map { $0.map(render) } == ["0"])
    }
    let method = function(inner.body[1])
    #expect(method?.name == "method")
    if case .ret(let v)? = method?.body.first?.kind { #expect(v.map(render) == "self.x") }

    guard let co = function(r.body[3]) else { Issue.record("no async function"); return }
    #expect(co.kind == .asyncDef)
    #expect(co.params.map(\.name) == ["x", "y"])
    #expect(co.params[1].defaultValue.map(render) == "lambda q: (q + 1)")
    #expect(stmtKinds(co.body) == ["with", "for"])
    if case .with(let items, let body) = co.body[0].kind {
        #expect(items.map { render($0.context) } == ["lock"])
        #expect(items.first?.target.map(render) == "held")
        #expect(exprOf(body.first).map(render) == "await thing(x)")
    }
}

@Test func pythonFrontendThreadCallShapes() {
    let src = """
    threading.Thread(target=worker, daemon=True).start()
    t = threading.Thread(target=self._run, args=(q,), kwargs={"a": 1, **extra})
    pool.submit(*args, **kw)
    """
    let r = parsePy(src)
    #expect(stmtKinds(r.body) == ["expr", "assign", "expr"])
    #expect(exprOf(r.body[0]).map(render) == "threading.Thread(target=worker, daemon=True).start()")
    guard case .call(let callee, let args, let p)? = exprOf(r.body[0]) else { Issue.record("no call"); return }
    #expect(args.isEmpty)
    #expect(p == PyPos(line: 1, column: 1))
    guard case .attribute(let inner, "start", let ap) = callee, case .call(let thread, let targs, _) = inner else {
        Issue.record("bad shape")
        return
    }
    #expect(ap == PyPos(line: 1, column: 46))
    #expect(render(thread) == "threading.Thread")
    #expect(targs.map(\.name) == ["target", "daemon"])
    #expect(render(targs[0].value) == "worker")
    if case .assign(let targets, let value) = r.body[1].kind {
        #expect(targets.map(render) == ["t"])
        #expect(render(value) == "threading.Thread(target=self._run, args=(q), kwargs=(\"a\", 1, **(extra), ?))")
    } else {
        Issue.record("expected assignment")
    }
    #expect(exprOf(r.body[2]).map(render) == "pool.submit(*args, **kw)")
}

@Test func pythonFrontendForOverCurrentFrames() {
    let src = """
    def dump():
        for tid, frame in sys._current_frames().items():
            while frame is not None:
                frame = frame.f_back
        else:
            done = True
    """
    let r = parsePy(src)
    guard let f = function(r.body.first), case .forStmt(let target, let iter, let body, let orelse)? = f.body.first?.kind else {
        Issue.record("no for loop")
        return
    }
    #expect(render(target) == "(tid, frame)")
    #expect(render(iter) == "sys._current_frames().items()")
    #expect(stmtKinds(body) == ["while"])
    if case .whileStmt(let test, let wbody, _)? = body.first?.kind {
        #expect(render(test) == "(frame is not None)")
        #expect(stmtKinds(wbody) == ["assign"])
    }
    #expect(stmtKinds(orelse) == ["assign"])
    #expect(r.recoveredFunctionCount == 0)
}

@Test func pythonFrontendExpressionForms() {
    let src = """
    a = b = [x * 2 for x in range(10) if x]
    d = {k: v for k, v in items.items()}
    if (n := len(a)) > 10: pass
    y = z if cond else -w ** 2
    s = f"{x!r:>{width}} and {'nested'} {d["k"]}" 'tail'
    r = (rf'(\\{{[{_dash}])(![^}}]*)(\\}}?)', bygroups(P))
    first, *rest = seq[1:2, ::3]
    lst[0] += 1; del lst[0], m.x
    g = (i for i in it)
    print(*a, sep="")
    k = not a and b or c in d and e not in f
    try:
        pass
    except (A, B) as exc:
        raise X from exc
    except:
        raise
    finally:
        cleanup()
    global counter
    with (open(a) as fa, open(b) as fb):
        pass
    """
    let r = parsePy(src)
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    #expect(stmtKinds(r.body) == ["assign", "assign", "if", "assign", "assign", "assign", "assign", "augAssign", "delete",
                                   "assign", "expr", "assign", "try", "global", "with"])
    if case .assign(let targets, let value) = r.body[0].kind {
        #expect(targets.map(render) == ["a", "b"])
        #expect(render(value) == "[(x * 2) for x in range(10)]")
    }
    if case .assign(_, let value) = r.body[1].kind {
        #expect(render(value) == "[(k, v) for (k, v) in items.items()]")
    }
    if case .ifStmt(let branches, _) = r.body[2].kind {
        #expect(render(branches[0].test) == "((n := len(a)) > 10)")
    }
    if case .assign(_, let value) = r.body[3].kind {
        #expect(render(value) == "(z if cond else -((w ** 2)))")
    }
    if case .assign(_, let value) = r.body[4].kind, case .literal(let s, _) = value {
        #expect(s.hasPrefix("f\"{x!r"))
    }
    if case .assign(_, let value) = r.body[5].kind, case .collection(let items, _) = value {
        #expect(items.count == 2)
        #expect(items.last.map(render) == "bygroups(P)")
    } else {
        Issue.record("raw f-string with escaped braces")
    }
    if case .assign(let targets, let value) = r.body[6].kind {
        #expect(targets.map(render) == ["(first, *rest)"])
        #expect(render(value) == "seq[((1 : 2), ((? : ?) : 3))]")
    }
    if case .delete(let items) = r.body[8].kind { #expect(items.map(render) == ["lst[0]", "m.x"]) }
    if case .assign(_, let value) = r.body[9].kind { #expect(render(value) == "[i for i in it]") }
    if case .assign(_, let value) = r.body[11].kind {
        #expect(render(value) == "((not(a) and b) or ((c in d) and (e not in f)))")
    }
    if case .tryStmt(_, let handlers, _, let fin) = r.body[12].kind {
        #expect(handlers.count == 2)
        #expect(handlers[0].type.map(render) == "(A, B)")
        #expect(handlers[0].name == "exc")
        #expect(handlers[1].type == nil)
        #expect(stmtKinds(fin) == ["expr"])
    }
    if case .with(let items, _) = r.body[14].kind {
        #expect(items.map { $0.target.map(render) ?? "" } == ["fa", "fb"])
    }
}

@Test func pythonFrontendMatchAndPython2() {
    let src = """
    match command.split():
        case [action]:
            go(action)
        case Point(x=0, y=yy) as p if yy > 0:
            pass
        case {"k": v, **rest} | [1, *_]:
            pass
        case _:
            fallback()
    match tok:
        case "ID" if peek(2) == "COLON":
            pass
        case ast.Expr(value=ast.Constant(value=str() as doc)) if (
            expect_docstring
        ):
            pass
    def variadic(*args: *Ts): pass
    match = re.match(p, s)
    print "hello", name
    print >>sys.stderr, "x"
    exec code in ns
    type Alias = list[int]
    """
    let r = parsePy(src)
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    #expect(stmtKinds(r.body) == ["if", "if", "function", "assign", "expr", "expr", "expr", "assign"])
    if case .ifStmt(let branches, _) = r.body[1].kind {
        #expect(branches.map { render($0.test) } == ["((tok match \"ID\") and (peek(2) == \"COLON\"))",
                                                     "((tok match ast.Expr(value=ast.Constant(value=(str() as doc)))) and expect_docstring)"])
    }
    #expect(function(r.body[2])?.params.first?.type == "*Ts")
    if case .ifStmt(let branches, _) = r.body[0].kind {
        #expect(branches.count == 4)
        #expect(render(branches[0].test) == "(command.split() match (action))")
        #expect(render(branches[1].test) == "((command.split() match (Point(x=0, y=yy) as p)) and (yy > 0))")
        #expect(stmtKinds(branches[3].body) == ["expr"])
    }
    #expect(exprOf(r.body[4]).map(render) == "print(\"hello\", name)")
}

@Test func pythonFrontendCommentsAndDirectives() {
    let src = """
    # cython: language_level=3, freethreading_compatible=True
    # distutils: language = c++
    x = 1  # trailing
        # indented own-line comment
    def f():
        return "# not a comment"
    """
    let r = parsePy(src, cython: true)
    #expect(r.directives == ["language_level": "3", "freethreading_compatible": "True"])
    #expect(r.comments.count == 4)
    #expect(r.comments[0] == PyComment(line: 1, text: "# cython: language_level=3, freethreading_compatible=True", ownLine: true))
    #expect(r.comments[2] == PyComment(line: 3, text: "# trailing", ownLine: false))
    #expect(r.comments[3].ownLine)
    #expect(r.comments[3].line == 4)
    #expect(r.functionCount == 1)
    // a directive after the first statement does not count
    let late = parsePy("x = 1\n# cython: boundscheck=False\n", cython: true)
    #expect(late.directives.isEmpty)
}

// MARK: - Cython structure

@Test func pythonFrontendCythonDeclarationsExternAndCasts() {
    let src = """
    # cython: freethreading_compatible=True
    from libc.stdlib cimport malloc, free
    cimport cython
    from cpython.object cimport PyObject as PO

    cdef extern from "Python.h" nogil:
        ctypedef struct PyObject:
            Py_ssize_t ob_refcnt
            int32_t min, as
        ctypedef int Py_intptr_t
        ctypedef void (*destructor)(PyObject *) noexcept
        PyObject* PyList_New(Py_ssize_t size) except NULL
        int PyList_Append(object lst, object item) except -1
        void free_it "real_free"(void *p, ...)
        enum:
            FLAG_A
            FLAG_B

    cdef struct Point:
        double x, y

    cdef class Counter(object):
        cdef public int count
        cdef readonly dict data
        cdef object __weakref__

        def __cinit__(self):
            self.count = 0

        cpdef int incr(self, int by=1) except -1:
            self.count += by
            return self.count

    @cython.boundscheck(False)
    cdef inline object f(int x, char *s, double[:, ::1] buf not None) except? -1 nogil:
        cdef int i = 0, j
        cdef PyObject* p = <PyObject*>x
        cdef int *a[3]
        p = <PyObject*>&x
        with gil:
            d = <dict?>obj
        for i from 0 <= i < 10 by 2:
            j += sizeof(PyObject*)
        return <object>p

    def g(self, list items not None, *, bint flag=False):
        with nogil:
            f(1, NULL, buf)
    """
    let r = parsePy(src, cython: true)
    #expect(r.isCython)
    #expect(r.directives["freethreading_compatible"] == "True")
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    #expect(r.functionCount == 4)
    #expect(r.recoveredFunctionCount == 0)
    #expect(stmtKinds(r.body) == ["importFrom", "import", "importFrom", "extern", "other", "class", "function", "function"])
    if case .importFrom(let m, let names, let ci) = r.body[0].kind {
        #expect(m == "libc.stdlib")
        #expect(names.map(\.name) == ["malloc", "free"])
        #expect(ci)
    }
    if case .importModules(let names, let ci) = r.body[1].kind {
        #expect(names == [PyImportName(name: "cython", alias: nil)])
        #expect(ci)
    }
    guard case .externBlock(let ext) = r.body[3].kind else { Issue.record("no extern block"); return }
    #expect(ext.header == "Python.h")
    #expect(ext.functions.map(\.name) == ["PyList_New", "PyList_Append", "free_it"])
    #expect(ext.functions.map(\.returnType) == ["PyObject*", "int", "void"])
    #expect(ext.functions[0].params == ["Py_ssize_t size"])
    #expect(ext.functions[1].params == ["object lst", "object item"])
    #expect(ext.functions[2].params == ["void *p", "..."])
    #expect(ext.functions[0].pos == PyPos(line: 12, column: 15))
    #expect(ext.structs.map(\.name) == ["PyObject"])
    #expect(ext.structs.first?.fields == [PyField(name: "ob_refcnt", type: "Py_ssize_t"), PyField(name: "min", type: "int32_t"),
                                         PyField(name: "as", type: "int32_t")])
    #expect(ext.typedefs["Py_intptr_t"] == "int")
    #expect(ext.typedefs["destructor"] == "void (*destructor)(PyObject *)")

    guard let counter = classDef(r.body[5]) else { Issue.record("no cdef class"); return }
    #expect(counter.isCdef)
    #expect(counter.name == "Counter")
    #expect(counter.bases.map(render) == ["object"])
    #expect(stmtKinds(counter.body) == ["declare", "declare", "declare", "function", "function"])
    if case .declare(let names, let type, _) = counter.body[1].kind {
        #expect(names == ["data"])
        #expect(type == "dict")
    }
    let incr = function(counter.body[4])
    #expect(incr?.kind == .cpdef)
    #expect(incr?.returnType == "int")
    #expect(incr?.params.map(\.name) == ["self", "by"])
    #expect(incr?.params[1].type == "int")

    guard let f = function(r.body[6]) else { Issue.record("no cdef function"); return }
    #expect(f.kind == .cdef)
    #expect(f.name == "f")
    #expect(f.nogil)
    #expect(f.returnType == "object")
    #expect(f.decorators.map(render) == ["cython.boundscheck(False)"])
    #expect(f.params.map(\.name) == ["x", "s", "buf"])
    #expect(f.params.map { $0.type ?? "" } == ["int", "char *", "double[:, ::1]"])
    #expect(stmtKinds(f.body) == ["declare", "declare", "declare", "assign", "with", "for", "ret"])
    if case .declare(let names, let type, let values) = f.body[0].kind {
        #expect(names == ["i", "j"])
        #expect(type == "int")
        #expect(values.map { $0.map(render) } == ["0", nil])
    }
    if case .declare(let names, let type, let values) = f.body[1].kind {
        #expect(names == ["p"])
        #expect(type == "PyObject*")
        #expect(values.first?.map(render) == "<PyObject*>x")
    }
    if case .declare(let names, let type, _) = f.body[2].kind {
        #expect(names == ["a"])
        #expect(type == "int *[3]")
    }
    if case .assign(_, let v) = f.body[3].kind { #expect(render(v) == "<PyObject*>&(x)") }
    if case .with(let items, let body) = f.body[4].kind {
        #expect(items.map { render($0.context) } == ["gil"])
        if case .assign(_, let v)? = body.first?.kind { #expect(render(v) == "<dict?>obj") }
    }
    if case .forStmt(let target, let iter, let body, _) = f.body[5].kind {
        #expect(render(target) == "i")
        #expect(render(iter) == "((0 <= i) < 10)")
        if case .augAssign(_, let op, let v)? = body.first?.kind {
            #expect(op == "+=")
            #expect(render(v) == "sizeof(PyObject*)")
        }
    }
    if case .ret(let v) = f.body[6].kind { #expect(v.map(render) == "<object>p") }

    guard let g = function(r.body[7]) else { Issue.record("no def"); return }
    #expect(g.kind == .def)
    #expect(g.params.map(\.name) == ["self", "items", "flag"])
    #expect(g.params.map(\.type) == [nil, "list", "bint"])
    if case .with(let items, let body)? = g.body.first?.kind {
        #expect(items.map { render($0.context) } == ["nogil"])
        #expect(exprOf(body.first).map(render) == "f(1, NULL, buf)")
    } else {
        Issue.record("no with nogil")
    }
}

@Test func pythonFrontendCythonCompileTimeIfAndBlocks() {
    let src = """
    DEF DEBUG = 1
    include "defs.pxi"
    IF UNAME_SYSNAME == "Windows":
        cdef int x = 1
    ELIF DEBUG:
        def dbg(): pass
    ELSE:
        include "other.pxi"

    ctypedef fused number:
        int
        double
    ctypedef unsigned long long u64
    cpdef enum Color:
        RED = 1
        GREEN
    cdef:
        int a = 1, b
        object (*callback)(object) noexcept
        double[::1] view

    cdef class Vec:
        cdef double x, y
        property norm:
            def __get__(self):
                return self.x

    cdef object method(self) nogil except *:
        cdef vector[int].iterator it = v.begin()
        cdef (int, double) pair
        p = new Foo(1)
    """
    let r = parsePy(src, cython: true)
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    #expect(r.recoveredFunctionCount == 0, "\(r.diagnostics)")
    #expect(stmtKinds(r.body) == ["other", "include", "IF", "other", "other", "other", "declare", "declare", "declare",
                                   "class", "function"])
    if case .include(let f) = r.body[1].kind { #expect(f == "defs.pxi") }
    guard case .compileTimeIf(let branches, let orelse) = r.body[2].kind else { Issue.record("no IF"); return }
    #expect(branches.count == 2)
    #expect(render(branches[0].test) == "(UNAME_SYSNAME == \"Windows\")")
    #expect(stmtKinds(branches[0].body) == ["declare"])
    #expect(stmtKinds(branches[1].body) == ["function"])
    #expect(stmtKinds(orelse) == ["include"])
    if case .declare(let names, _, _) = r.body[7].kind { #expect(names == ["callback"]) }
    if case .declare(let names, let type, _) = r.body[8].kind {
        #expect(names == ["view"])
        #expect(type == "double[::1]")
    }
    let vec = classDef(r.body[9])
    #expect(vec.map { stmtKinds($0.body) } == ["declare", "function"])
    let m = function(r.body[10])
    #expect(m?.nogil == true)
    #expect(m.map { stmtKinds($0.body) } == ["declare", "declare", "assign"])
    #expect(r.functionCount == 3)
}

@Test func pythonFrontendCythonPxdPrototypes() {
    let src = """
    cdef class Reader:
        cdef int fd
        cdef int read(self, char *buf, Py_ssize_t n) except -1
        cpdef object peek(self)
        cpdef object execute(self, query, params=?)

    cdef int helper(int x=*) nogil
    """
    let r = parsePy(src, cython: true)
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    // prototypes have no body and are not counted
    #expect(r.functionCount == 0)
    let reader = classDef(r.body.first)
    #expect(reader.map { stmtKinds($0.body) } == ["declare", "function", "function", "function"])
    #expect(function(reader?.body[3])?.params.last?.defaultValue.map(render) == "?")
    #expect(r.diagnostics.isEmpty, "\(r.diagnostics)")
    let read = function(reader?.body[1])
    #expect(read?.body.isEmpty == true)
    #expect(read?.params.map(\.name) == ["self", "buf", "n"])
    let helper = function(r.body.last)
    #expect(helper?.nogil == true)
    #expect(helper?.params.first?.defaultValue.map(render) == "*")
}

// MARK: - recovery and robustness

@Test func pythonFrontendRecoveryKeepsLaterFunctions() {
    let src = """
    def a():
        x = "unterminated
        return 1

    $$$ garbage line @@@ (((

    def b():
        return 2

    class C:
        def m(self):
            y = = 3
            return y
        def n(self):
            return 4
    """
    let r = parsePy(src)
    let fns = allFunctions(r.body)
    #expect(fns.map(\.name) == ["a", "b", "m", "n"])
    #expect(fns.map(\.recovered) == [true, false, true, false])
    #expect(r.functionCount == 4)
    #expect(r.recoveredFunctionCount == 2)
    #expect(r.fileScopeRecoveries == 1)
    #expect(stmtKinds(r.body) == ["function", "unparsed", "function", "class"])
    if case .unparsed(let text) = r.body[1].kind { #expect(text == "$$$ garbage line @@@ (((") }
    if let a = function(r.body[0]) { #expect(stmtKinds(a.body) == ["unparsed", "ret"]) }
    #expect(!r.diagnostics.isEmpty)

    // an unterminated triple-quoted string ends at its line
    let t = parsePy("x = '''abc\ndef later():\n    pass\n")
    #expect(allFunctions(t.body).map(\.name) == ["later"])

    // broken headers keep their bodies
    let h = parsePy("def f(x y):\n    return x\nif a b:\n    call()\nclass K(:\n    def m(self): pass\n")
    #expect(allFunctions(h.body).map(\.name) == ["f", "m"])
    #expect(stmtKinds(h.body) == ["function", "if", "class"])

    // unclosed bracket before a def
    let u = parsePy("x = foo(1,\n\ndef g():\n    return 1\n")
    #expect(allFunctions(u.body).map(\.name) == ["g"])
    #expect(u.recoveredFunctionCount == 0)

    // an unclosed bracket is closed by a line that starts a statement
    let v = parsePy("def f():\n    x = g(1,\n    return x\ndef h(): pass\n")
    #expect(allFunctions(v.body).map(\.name) == ["f", "h"])
    #expect(allFunctions(v.body).map(\.recovered) == [true, false])
    if let f = function(v.body.first) { #expect(stmtKinds(f.body) == ["unparsed", "ret"]) }

    // inconsistent indentation and tabs
    let ind = parsePy("if x:\n        a = 1\n    b = 2\nc = 3\nif y:\n\tz = 1\n        w = 2\n")
    #expect(stmtKinds(ind.body).filter { $0 != "unparsed" }.contains("if"))
}

/// Runs `body` on a thread with a stack of `kb` KB (the driver parses on 64 MB threads; test
/// threads are smaller and debug builds use far more stack per frame).
private func onThread(stackKB: Int, _ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let t = Thread {
        body()
        done.signal()
    }
    t.stackSize = stackKB << 10
    t.start()
    done.wait()
}

@Test func pythonFrontendPathologicalInputs() {
    final class Box: @unchecked Sendable { var failures: [String] = [] }
    let box = Box()
    onThread(stackKB: 64 << 10) { box.failures = pathologicalInputs() }
    #expect(box.failures.isEmpty, "\(box.failures)")
}

/// Returns the failed checks (run on a big-stack thread, outside the test's task).
private func pathologicalInputs() -> [String] {
    var failures: [String] = []
    func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { failures.append(what()) }
    }
    func timed(_ label: String, _ limit: Double, _ body: () -> PyParsedFile) -> PyParsedFile {
        let t0 = Date()
        let r = body()
        let dt = Date().timeIntervalSince(t0)
        check(dt < limit, "\(label) took \(dt)s")
        return r
    }
    let parens = timed("parens", 20) { parsePy(String(repeating: "(", count: 100_000) + "\ndef after():\n    pass\n") }
    check(allFunctions(parens.body).map(\.name) == ["after"], "parens: \(parens.diagnostics.prefix(3))")
    let closed = timed("balanced", 20) {
        parsePy("x = " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "\ny = 1\n")
    }
    check(stmtKinds(closed.body) == ["unparsed", "assign"], "balanced: \(stmtKinds(closed.body))")
    _ = timed("unary", 20) { parsePy("x = " + String(repeating: "-", count: 100_000) + "1\n") }
    _ = timed("not", 20) { parsePy("x = " + String(repeating: "not ", count: 50_000) + "1\n") }
    _ = timed("lambda", 20) { parsePy("x = " + String(repeating: "lambda: ", count: 50_000) + "1\n") }
    _ = timed("power", 20) { parsePy("x = " + String(repeating: "2 ** ", count: 50_000) + "1\n") }
    _ = timed("casts", 20) { parsePy("x = " + String(repeating: "<int>", count: 50_000) + "1\n", cython: true) }
    _ = timed("fstring", 20) { parsePy("x = f'" + String(repeating: "{f'", count: 20_000) + "\n", cython: false) }
    var deep = ""
    for d in 0..<3000 { deep += String(repeating: " ", count: d) + "if x:\n" }
    deep += String(repeating: " ", count: 3000) + "pass\ndef end():\n    pass\n"
    let deepR = timed("deep blocks", 20) { parsePy(deep) }
    check(allFunctions(deepR.body).map(\.name) == ["end"], "allFunctions(deepR.body).map(\\.name) == [\"end\"]")

    // binary junk, invalid UTF-8, NULs
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    var junk = [UInt8](repeating: 0, count: 1 << 20)
    for k in junk.indices {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        junk[k] = UInt8(truncatingIfNeeded: rng >> 33)
    }
    for cy in [false, true] {
        let j = timed("junk", 20) { PythonFrontend.parse(path: "junk", bytes: junk, isCython: cy) }
        check(j.fileScopeRecoveries > 0, "j.fileScopeRecoveries > 0")
    }
    let invalid: [UInt8] = [0xFF, 0xFE, 0x0A, 0x64, 0x65, 0x66, 0x20, 0xC3, 0x28, 0x28, 0x29, 0x3A, 0x0A, 0x20, 0x70, 0x61, 0x73, 0x73, 0x0A, 0x00, 0x22]
    _ = PythonFrontend.parse(path: "bad", bytes: invalid, isCython: false)
    _ = PythonFrontend.parse(path: "empty", bytes: [], isCython: true)
    _ = PythonFrontend.parse(path: "nl", bytes: [0x0A, 0x20, 0x5C], isCython: false)

    // a 20 MB generated file
    var unit = """
    class Worker{N}(Base):
        def run(self, items, *, timeout=None):
            for i, item in enumerate(items):
                if item is None or i % 3 == 0:
                    continue
                self.results[i] = [x ** 2 for x in item if x]  # comment
            return {"n": len(items), "ok": True}


    """
    unit = unit.replacingOccurrences(of: "{N}", with: "")
    let unitBytes = Array(unit.utf8)
    var big: [UInt8] = []
    big.reserveCapacity(20_000_000 + unitBytes.count)
    while big.count < 20_000_000 { big += unitBytes }
    let bigR = timed("20 MB", 120) { PythonFrontend.parse(path: "big.py", bytes: big, isCython: false) }
    check(bigR.functionCount == big.count / unitBytes.count, "bigR.functionCount == big.count / unitBytes.count")
    check(bigR.recoveredFunctionCount == 0, "bigR.recoveredFunctionCount == 0")
    return failures
}

@Test func pythonFrontendDeepNestingOnSmallStack() {
    // The depth bounds keep recursion within a modest stack even for 100k nested brackets and
    // 3000 nested blocks (unbounded, these would need gigabytes).
    final class Box: @unchecked Sendable { var counts: [Int] = [] }
    let box = Box()
    onThread(stackKB: 4 << 10) {
        let parens = String(repeating: "(", count: 100_000) + "\ndef f():\n    pass\n"
        box.counts.append(PythonFrontend.parse(path: "t.py", bytes: Array(parens.utf8), isCython: false).functionCount)
        let mixed = "x = " + String(repeating: "[-(not {f(<int>", count: 20_000) + "\ndef g():\n    pass\n"
        box.counts.append(PythonFrontend.parse(path: "t.pyx", bytes: Array(mixed.utf8), isCython: true).functionCount)
        var deep = ""
        for d in 0..<3000 { deep += String(repeating: " ", count: d) + "for x in (((y))):\n" }
        deep += "def h():\n    return [[[[[[[[1]]]]]]]]\n"
        box.counts.append(PythonFrontend.parse(path: "t.py", bytes: Array(deep.utf8), isCython: false).functionCount)
    }
    #expect(box.counts == [1, 1, 1])
}

@Test func pythonFrontendCythonExtensionTypesInExtern() {
    let src = """
    cdef extern from *:
        \"\"\"
        /* verbatim C */
        \"\"\"

    cdef extern from "numpy/arrayobject.h":
        ctypedef signed long npy_intp
        ctypedef class numpy.dtype [object PyArray_Descr, check_size ignore]:
            cdef char kind
            @property
            cdef inline npy_intp itemsize(self) noexcept nogil:
                return PyDataType_ELSIZE(self)
        int _import_array() except -1
        int __pyx_import_array "_import_array"() except -1
        cdef cppclass vector[T]:
            void push_back(T&) except +
    """
    let r = parsePy(src, cython: true)
    #expect(r.fileScopeRecoveries == 0, "\(r.diagnostics)")
    #expect(stmtKinds(r.body) == ["extern", "extern", "class"])
    if case .externBlock(let e) = r.body[0].kind { #expect(e.header == "*") }
    if case .externBlock(let e) = r.body[1].kind {
        #expect(e.typedefs["npy_intp"] == "signed long")
        #expect(e.functions.map(\.name) == ["_import_array", "__pyx_import_array"])
    }
    let dtype = classDef(r.body[2])
    #expect(dtype?.name == "dtype")
    #expect(dtype?.isCdef == true)
    let itemsize = function(dtype?.body.last)
    #expect(itemsize?.name == "itemsize")
    #expect(itemsize?.nogil == true)
    #expect(itemsize?.decorators.map(render) == ["property"])
    #expect(r.functionCount == 1)

    // a byte order mark does not stick to the first name
    let bom = PythonFrontend.parse(path: "b.py", bytes: [0xEF, 0xBB, 0xBF] + Array("import os\n".utf8), isCython: false)
    #expect(stmtKinds(bom.body) == ["import"])
}
