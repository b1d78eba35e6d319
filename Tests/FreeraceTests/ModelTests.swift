import Foundation
import Testing
import FreeraceDriver
@testable import FreeraceRules
@testable import FreeraceModel
@testable import FreeraceSyntax


// MARK: - helpers

private func extract(_ text: String, path: String = "m.c", target: AnalysisTarget = .auto) -> FileFacts {
    let lang = Language.of(path: path) ?? .c
    let src = SourceFile(path: path, language: lang, text: text)
    let env = MacroEnvironment.forAnalysis(language: lang, target: target)
    return CFactExtractor.extract(CFrontend.parse(src, env: env))
}

private func program(_ files: [(path: String, text: String)], target: AnalysisTarget = .auto) -> Program {
    Program(files: files.map { extract($0.text, path: $0.path, target: target) }, target: target)
}

private func program(_ text: String, path: String = "m.c", target: AnalysisTarget = .auto) -> Program {
    program([(path, text)], target: target)
}

/// 1-based line of the first occurrence of `marker` in `text`.
private func line(of marker: String, in text: String) -> Int {
    guard let r = text.range(of: marker) else { return -1 }
    return text[..<r.lowerBound].filter { $0 == "\n" }.count + 1
}


extension Program {
    fileprivate func index(_ name: String) -> Int? { functionsByName[name]?.first }

    fileprivate func fn(_ name: String) -> FunctionFacts? { index(name).map { functions[$0] } }

    /// Entry points of the function called `name`.
    fileprivate func entries(_ name: String) -> [EntryPoint] {
        guard let i = index(name) else { return [] }
        return entries(of: i)
    }
}

extension FunctionFacts {
    /// Read ops of a place (by key, `self.keys`), with their op index and regions.
    fileprivate func reads(_ key: String) -> [(op: Int, path: AccessPath, regions: [Int])] {
        ops.enumerated().compactMap { i, op in
            if case .read(let p, _, let r) = op, p.key == key { return (i, p, r) }
            return nil
        }
    }

    fileprivate func writes(_ key: String) -> [(op: Int, path: AccessPath, value: Value)] {
        ops.enumerated().compactMap { i, op in
            if case .assign(let p, let v, _, _) = op, p.key == key { return (i, p, v) }
            return nil
        }
    }

    fileprivate func calls(to name: String) -> [CallFact] { calls.filter { $0.callee == name } }

    /// Kinds of the regions active at the first call of `name`.
    fileprivate func regionKinds(atCall name: String) -> [RegionKind]? {
        calls(to: name).first.map { $0.regions.map { regions[$0].kind } }
    }
}

private let multiDictPrelude = """
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject **keys;
    Py_ssize_t used;
    PyMutex lock;
} MultiDictObject;

"""

// MARK: - 1. Tables → entry points

@Suite struct ModelEntryPointTests {
    static let designated = multiDictPrelude + """
    static PyObject *md_getall(MultiDictObject *self, PyObject *args) { return NULL; }
    static PyObject *md_iternext(MultiDictObject *self) { return NULL; }
    static void md_dealloc(MultiDictObject *self) { Py_TYPE(self)->tp_free((PyObject *)self); }
    static PyObject *md_getitem(MultiDictObject *self, PyObject *key) { return NULL; }
    static PyObject *md_get_size(MultiDictObject *self, void *closure) { return NULL; }
    static int md_set_size(MultiDictObject *self, PyObject *v, void *closure) { return 0; }
    static PyObject *md_repr(PyObject *op) { return NULL; }
    static int md_helper(MultiDictObject *self) { return 0; }

    static PyMethodDef md_methods[] = {
        {"getall", (PyCFunction)md_getall, METH_VARARGS, NULL},  /* row:getall */
        {NULL, NULL, 0, NULL}
    };

    static PyGetSetDef md_getset[] = {
        {"size", (getter)md_get_size, (setter)md_set_size, NULL, NULL},
        {NULL}
    };

    static PyMappingMethods md_as_mapping = {
        0,
        (binaryfunc)md_getitem,
        0,
    };

    static PyTypeObject MultiDict_Type = {  /* row:type */
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "multidict._multidict.MultiDict",
        .tp_basicsize = sizeof(MultiDictObject),
        .tp_dealloc = (destructor)md_dealloc,
        .tp_repr = md_repr,
        .tp_as_mapping = &md_as_mapping,
        .tp_iternext = (iternextfunc)md_iternext,
        .tp_methods = md_methods,
        .tp_getset = md_getset,
    };
    """

    @Test("a static PyTypeObject with designated initializers")
    func designatedTypeObject() throws {
        let p = program(Self.designated)
        let getall = try #require(p.entries("md_getall").first)
        #expect(p.entries("md_getall").count == 1)
        #expect(getall.kind == .method)
        #expect(getall.context == .anyThread)
        #expect(getall.selfType == "MultiDictObject")
        #expect(getall.pyType == "MultiDict")
        #expect(getall.pythonSpelling == "getall")
        #expect(getall.label == "MultiDict.getall()")
        #expect(getall.origin?.line == line(of: "row:getall", in: Self.designated))
        #expect(getall.origin?.path == "m.c")

        let next = try #require(p.entries("md_iternext").first)
        #expect(next.kind == .slot)
        #expect(next.context == .anyThread)
        #expect(next.pythonSpelling == "__next__")
        #expect(next.label == "tp_iternext of MultiDict")
        #expect(next.selfType == "MultiDictObject")
        #expect(next.pyType == "MultiDict")
        #expect(next.origin?.line == line(of: "row:type", in: Self.designated))

        // the self type comes from tp_basicsize, not from the parameter's declared type
        let repr = try #require(p.entries("md_repr").first)
        #expect(repr.kind == .slot)
        #expect(repr.pythonSpelling == "__repr__")
        #expect(repr.selfType == "MultiDictObject")

        let dealloc = try #require(p.entries("md_dealloc").first)
        #expect(dealloc.kind == .dealloc)
        #expect(dealloc.context == .teardown)
        #expect(dealloc.selfType == "MultiDictObject")

        let getitem = try #require(p.entries("md_getitem").first)
        #expect(getitem.kind == .slot)
        #expect(getitem.context == .anyThread)
        #expect(getitem.pythonSpelling == "__getitem__")
        #expect(getitem.label == "mp_subscript of MultiDict")
        #expect(getitem.selfType == "MultiDictObject")
        #expect(getitem.pyType == "MultiDict")

        let getter = try #require(p.entries("md_get_size").first)
        #expect(getter.kind == .getter)
        #expect(getter.label == "MultiDict.size (getter)")
        #expect(getter.pythonSpelling == "size")
        #expect(getter.selfType == "MultiDictObject")
        let setter = try #require(p.entries("md_set_size").first)
        #expect(setter.kind == .setter)
        #expect(setter.label == "MultiDict.size (setter)")

        // a helper nobody registers is not an entry point; everything else is, once
        #expect(p.entries("md_helper").isEmpty)
        #expect(p.entryPoints.count == 7)
    }

    static let positional = """
    typedef struct { PyObject_HEAD Py_ssize_t n; } PosObject;
    static void pos_dealloc(PosObject *self) { }
    static PyObject *pos_repr(PosObject *self) { return NULL; }
    static PyObject *pos_next(PosObject *self) { return NULL; }
    static PyObject *pos_item(PosObject *self, Py_ssize_t i) { return NULL; }
    static PyObject *pos_len_method(PosObject *self, PyObject *unused) { return NULL; }
    static PyObject *pos_get_n(PosObject *self, void *c) { return NULL; }
    static PySequenceMethods pos_as_sequence = {
        0,                              /* sq_length */
        0,                              /* sq_concat */
        0,                              /* sq_repeat */
        (ssizeargfunc)pos_item,         /* sq_item */
    };
    static PyMethodDef pos_methods[] = {
        {"length", (PyCFunction)pos_len_method, METH_NOARGS, NULL},
        {NULL}
    };
    static PyGetSetDef pos_getset[] = {
        {"n", (getter)pos_get_n, NULL, NULL, NULL},
        {NULL}
    };
    static PyTypeObject Pos_Type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        "mod.Pos",                      /* tp_name */
        sizeof(PosObject),              /* tp_basicsize */
        0,                              /* tp_itemsize */
        (destructor)pos_dealloc,        /* tp_dealloc */
        0,                              /* tp_vectorcall_offset */
        0,                              /* tp_getattr */
        0,                              /* tp_setattr */
        0,                              /* tp_as_async */
        (reprfunc)pos_repr,             /* tp_repr */
        0,                              /* tp_as_number */
        &pos_as_sequence,               /* tp_as_sequence */
        0,                              /* tp_as_mapping */
        0,                              /* tp_hash */
        0,                              /* tp_call */
        0,                              /* tp_str */
        0,                              /* tp_getattro */
        0,                              /* tp_setattro */
        0,                              /* tp_as_buffer */
        Py_TPFLAGS_DEFAULT,             /* tp_flags */
        0,                              /* tp_doc */
        0,                              /* tp_traverse */
        0,                              /* tp_clear */
        0,                              /* tp_richcompare */
        0,                              /* tp_weaklistoffset */
        0,                              /* tp_iter */
        (iternextfunc)pos_next,         /* tp_iternext */
        pos_methods,                    /* tp_methods */
        0,                              /* tp_members */
        pos_getset,                     /* tp_getset */
    };
    """

    @Test("a table of constants is not kept entry by entry; a method table beside it is")
    func constantTablesAreNotKept() throws {
        let rows = (0..<40).map { "  {\($0).5e-3, \"\($0)\", -\($0)}," }.joined(separator: "\n")
        let methods = (0..<20).map { "  {\"m\($0)\", (PyCFunction)m\($0), METH_NOARGS, NULL}," }.joined(separator: "\n")
        let functions = (0..<20).map { "static PyObject *m\($0)(PyObject *self, PyObject *unused) { return NULL; }" }
            .joined(separator: "\n")
        let text = """
            #include <Python.h>
            typedef struct { double v; const char *digits; int exponent; } Row;
            static const Row rows[] = {
            \(rows)
            };
            static const int small[] = {1, 2, 3};
            \(functions)
            static PyMethodDef methods[] = {
            \(methods)
              {NULL, NULL, 0, NULL}
            };
            static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "m", NULL, -1, methods};
            PyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&mod); }
            """
        let f = extract(text, path: "m.c", target: .auto)
        let table = try #require(f.globals.first { $0.name == "rows" })
        #expect(table.initializer?.entries.isEmpty == true)
        let small = try #require(f.globals.first { $0.name == "small" })
        #expect(small.initializer?.entries.count == 3, "a short list is kept")
        let p = program(text)
        #expect(p.entries("m7").first?.kind == .moduleMethod, "the method table is read")
    }

    @Test("a static PyTypeObject with positional initializers")
    func positionalTypeObject() throws {
        let p = program(Self.positional)
        let dealloc = try #require(p.entries("pos_dealloc").first)
        #expect(dealloc.kind == .dealloc)
        #expect(dealloc.context == .teardown)
        #expect(dealloc.label == "tp_dealloc of Pos")
        let repr = try #require(p.entries("pos_repr").first)
        #expect(repr.pythonSpelling == "__repr__")
        #expect(repr.selfType == "PosObject")
        let next = try #require(p.entries("pos_next").first)
        #expect(next.kind == .slot)
        #expect(next.pythonSpelling == "__next__")
        #expect(next.pyType == "Pos")
        #expect(next.selfType == "PosObject")
        let item = try #require(p.entries("pos_item").first)
        #expect(item.kind == .slot)
        #expect(item.pythonSpelling == "__getitem__")
        #expect(item.label == "sq_item of Pos")
        #expect(item.selfType == "PosObject")
        let method = try #require(p.entries("pos_len_method").first)
        #expect(method.kind == .method)
        #expect(method.label == "Pos.length()")
        #expect(method.selfType == "PosObject")
        let getter = try #require(p.entries("pos_get_n").first)
        #expect(getter.kind == .getter)
        #expect(getter.label == "Pos.n (getter)")
        #expect(p.entryPoints.count == 6)
    }

    static let spec = """
    typedef struct { PyObject_HEAD Py_ssize_t pos; PyObject *seq; } IterObject;
    typedef struct { PyObject_HEAD int x; } Iter2Object;
    static PyObject *iter_next(IterObject *it) { return NULL; }
    static PyObject *iter_reset(IterObject *it, PyObject *unused) { Py_RETURN_NONE; }
    static void iter_dealloc(IterObject *it) { }
    static PyObject *iter_getitem(PyObject *op, PyObject *key) { return NULL; }
    static PyObject *iter_get_pos(IterObject *it, void *c) { return NULL; }
    static PyObject *iter2_call(Iter2Object *self, PyObject *args, PyObject *kw) { return NULL; }
    static PyMethodDef iter_methods[] = {
        {"reset", (PyCFunction)iter_reset, METH_NOARGS, NULL},
        {NULL}
    };
    static PyGetSetDef iter_getset[] = {
        {"pos", (getter)iter_get_pos, NULL, NULL, NULL},
        {NULL}
    };
    static PyType_Slot iter_slots[] = {
        {Py_tp_iternext, iter_next},  /* row:iternext */
        {Py_tp_methods, iter_methods},
        {Py_tp_getset, iter_getset},
        {Py_tp_dealloc, iter_dealloc},
        {Py_mp_subscript, iter_getitem},
        {0, NULL},
    };
    static PyType_Spec iter_spec = {
        .name = "mod.Iter",
        .basicsize = sizeof(IterObject),
        .flags = Py_TPFLAGS_DEFAULT,
        .slots = iter_slots,
    };
    static PyType_Slot iter2_slots[] = {
        {Py_tp_call, (ternaryfunc)iter2_call},
        {0, 0},
    };
    static PyType_Spec iter2_spec = {"mod.Iter2", sizeof(Iter2Object), 0, Py_TPFLAGS_DEFAULT, iter2_slots};
    """

    @Test("PyType_Slot tables linked from a PyType_Spec")
    func typeSpec() throws {
        let p = program(Self.spec)
        let next = try #require(p.entries("iter_next").first)
        #expect(next.kind == .slot)
        #expect(next.pythonSpelling == "__next__")
        #expect(next.label == "tp_iternext of Iter")
        #expect(next.selfType == "IterObject")
        #expect(next.pyType == "Iter")
        #expect(next.origin?.line == line(of: "row:iternext", in: Self.spec))
        let reset = try #require(p.entries("iter_reset").first)
        #expect(reset.kind == .method)
        #expect(reset.label == "Iter.reset()")
        #expect(reset.selfType == "IterObject")
        #expect(reset.pyType == "Iter")
        #expect(reset.pythonSpelling == "reset")
        let getpos = try #require(p.entries("iter_get_pos").first)
        #expect(getpos.kind == .getter)
        #expect(getpos.label == "Iter.pos (getter)")
        let dealloc = try #require(p.entries("iter_dealloc").first)
        #expect(dealloc.kind == .dealloc)
        #expect(dealloc.context == .teardown)
        let getitem = try #require(p.entries("iter_getitem").first)
        #expect(getitem.kind == .slot)
        #expect(getitem.pythonSpelling == "__getitem__")
        #expect(getitem.selfType == "IterObject")  // from basicsize, although the parameter is PyObject *
        // positional PyType_Spec, cast slot function
        let call = try #require(p.entries("iter2_call").first)
        #expect(call.kind == .slot)
        #expect(call.pythonSpelling == "__call__")
        #expect(call.selfType == "Iter2Object")
        #expect(call.pyType == "Iter2")
        #expect(p.entryPoints.count == 6)
    }

    static let module = """
    static PyObject *hello(PyObject *mod, PyObject *unused) { Py_RETURN_NONE; }
    static int mod_exec(PyObject *m) { return 0; }
    static int mod_traverse(PyObject *m, visitproc visit, void *arg) { return 0; }
    static int mod_clear(PyObject *m) { return 0; }
    static void mod_free(void *m) { }
    static PyMethodDef funcs[] = {
        {"hello", hello, METH_NOARGS, NULL},
        {NULL, NULL, 0, NULL}
    };
    static PyModuleDef_Slot mod_slots[] = {
        {Py_mod_exec, mod_exec},  /* row:exec */
        {Py_mod_gil, Py_MOD_GIL_NOT_USED},
        {0, NULL}
    };
    static struct PyModuleDef moddef = {
        PyModuleDef_HEAD_INIT,
        .m_name = "demo",
        .m_methods = funcs,
        .m_slots = mod_slots,
        .m_traverse = mod_traverse,
        .m_clear = mod_clear,
        .m_free = mod_free,
    };
    PyMODINIT_FUNC PyInit_demo(void) { return PyModuleDef_Init(&moddef); }
    """

    @Test("module methods, exec slot, GC/free hooks and PyInit")
    func moduleDefinition() throws {
        let p = program(Self.module)
        let hello = try #require(p.entries("hello").first)
        #expect(hello.kind == .moduleMethod)
        #expect(hello.context == .anyThread)
        #expect(hello.selfType == nil)
        #expect(hello.pyType == nil)
        #expect(hello.label == "hello()")
        #expect(hello.pythonSpelling == "hello")
        let exec = try #require(p.entries("mod_exec").first)
        #expect(exec.kind == .moduleExec)
        #expect(exec.context == .moduleInit)
        #expect(exec.origin?.line == line(of: "row:exec", in: Self.module))
        let trav = try #require(p.entries("mod_traverse").first)
        #expect(trav.kind == .gc)
        #expect(trav.context == .teardown)
        let clear = try #require(p.entries("mod_clear").first)
        #expect(clear.kind == .dealloc)
        #expect(clear.context == .teardown)
        let free = try #require(p.entries("mod_free").first)
        #expect(free.kind == .dealloc)
        #expect(free.context == .teardown)
        let initp = try #require(p.entries("PyInit_demo").first)
        #expect(initp.kind == .moduleInit)
        #expect(initp.context == .moduleInit)
        #expect(initp.label == "module initialization (PyInit_demo)")
        #expect(p.entryPoints.count == 6)
    }

    @Test("positional PyModuleDef fields")
    func positionalModuleDef() throws {
        let src = """
        static PyObject *ping(PyObject *m, PyObject *a) { Py_RETURN_NONE; }
        static void bye(void *m) { }
        static PyMethodDef tbl[] = {{"ping", ping, METH_NOARGS, NULL}, {NULL}};
        static struct PyModuleDef pm = {PyModuleDef_HEAD_INIT, "pm", NULL, 0, tbl, NULL, NULL, NULL, bye};
        """
        let p = program(src)
        #expect(p.entries("ping").first?.kind == .moduleMethod)
        #expect(p.entries("bye").first?.kind == .dealloc)
        #expect(p.modules.map(\.name) == ["pm"])
    }

    static let callbacks = """
    static PyObject *my_eval(PyThreadState *ts, _PyInterpreterFrame *f, int exc) { return NULL; }
    static void *worker(void *arg) { return NULL; }
    static void *worker2(void *arg) { return NULL; }
    static int not_registered(void) { return 0; }
    static void install(PyInterpreterState *interp) {
        _PyInterpreterState_SetEvalFrameFunc(interp, my_eval);
        pthread_t t;
        pthread_create(&t, NULL, worker, NULL);
        pthread_create(&t, NULL, &worker2, (void *)not_registered);
    }
    """

    @Test("callbacks installed at run time")
    func callbacks() throws {
        let p = program(Self.callbacks)
        let eval = try #require(p.entries("my_eval").first)
        #expect(eval.kind == .callback)
        #expect(eval.context == .anyThread)
        #expect(eval.label.contains("eval-frame hook"))
        #expect(eval.label.contains("_PyInterpreterState_SetEvalFrameFunc"))
        #expect(eval.origin?.line == line(of: "_PyInterpreterState_SetEvalFrameFunc(", in: Self.callbacks))
        let w = try #require(p.entries("worker").first)
        #expect(w.kind == .threadBody)
        #expect(w.context == .anyThread)
        #expect(w.label == "the thread `worker` (started by pthread_create() in `install`)")
        #expect(p.entries("worker2").first?.kind == .threadBody)
        // the thread argument is not the thread body
        #expect(p.entries("not_registered").isEmpty)
        #expect(p.entries("install").isEmpty)  // static and never called
    }

    @Test("an exported function nobody calls is an entry point; a called one is not")
    func exported() throws {
        let p = program("""
        void api_entry(void) { helper(); }
        void helper(void) { }
        static void hidden(void) { }
        int main(void) { return 0; }
        """)
        let e = try #require(p.entries("api_entry").first)
        #expect(e.kind == .exported)
        #expect(e.context == .anyThread)
        #expect(p.entries("helper").isEmpty)
        #expect(p.entries("hidden").isEmpty)
        #expect(p.entries("main").isEmpty)
    }

    @Test("EntryPoint.dunder maps slots to Python spellings")
    func dunder() {
        #expect(EntryPoint.dunder("tp_iternext") == "__next__")
        #expect(EntryPoint.dunder("mp_subscript") == "__getitem__")
        #expect(EntryPoint.dunder("sq_contains") == "__contains__")
        #expect(EntryPoint.dunder("tp_methods") == nil)
    }
}

// MARK: - 2. Modules and the GIL declaration

@Suite struct ModelModuleTests {
    @Test("{Py_mod_gil, Py_MOD_GIL_NOT_USED} in the module's slots")
    func modGilSlot() throws {
        let p = program(ModelEntryPointTests.module)
        #expect(p.modules.count == 1)
        let m = try #require(p.modules.first)
        #expect(m.name == "demo")
        #expect(m.gilFree)
        #expect(m.declaration?.contains("`mod_slots`") == true)
        let ft = p.freeThreading(file: "m.c")
        #expect(ft.applies)
        #expect(ft.reason.contains("`demo`"))
        #expect(ft.reason.contains("{Py_mod_gil, Py_MOD_GIL_NOT_USED} in `mod_slots`"))
        #expect(ft.reason.contains("m.c:\(line(of: "{Py_mod_gil", in: ModelEntryPointTests.module))"))
    }

    static let ifdefSlot = """
    static int mod_exec(PyObject *m) { return 0; }
    static PyModuleDef_Slot the_slots[] = {
        {Py_mod_exec, mod_exec},
    #ifdef Py_GIL_DISABLED
        {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    #endif
        {0, NULL}
    };
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "guarded", NULL, 0, NULL, the_slots};
    """

    @Test("the declaration under #ifdef Py_GIL_DISABLED counts under auto")
    func modGilUnderIfdef() {
        let p = program(Self.ifdefSlot)
        let ft = p.freeThreading(file: "m.c")
        #expect(ft.applies)
        #expect(ft.reason.contains("`the_slots`"))
        #expect(ft.reason.contains("`guarded`"))
    }

    @Test("--target gil turns free-threading rules off, --target free-threaded on")
    func targets() {
        let gil = program(Self.ifdefSlot, target: .gil)
        #expect(gil.freeThreading(file: "m.c").applies == false)
        #expect(gil.freeThreading(file: "m.c").reason == "--target gil")
        let undeclared = """
        static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "plain", NULL, 0, NULL, NULL};
        """
        let auto = program(undeclared)
        #expect(auto.modules.map(\.name) == ["plain"])
        #expect(auto.modules.first?.gilFree == false)
        #expect(auto.freeThreading(file: "m.c").applies == false)
        #expect(auto.freeThreading(file: "m.c").reason == "no Py_MOD_GIL_NOT_USED declaration")
        let ft = program(undeclared, target: .freeThreaded)
        #expect(ft.freeThreading(file: "m.c").applies)
        #expect(ft.freeThreading(file: "m.c").reason == "--target free-threaded")
    }

    @Test("Py_MOD_GIL_USED is not a declaration")
    func gilUsed() {
        let p = program("""
        static PyModuleDef_Slot s[] = {{Py_mod_gil, Py_MOD_GIL_USED}, {0, NULL}};
        static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "used", NULL, 0, NULL, s};
        """)
        #expect(p.freeThreading(file: "m.c").applies == false)
    }

    static let singlePhase = """
    static struct PyModuleDef sp = {PyModuleDef_HEAD_INIT, "single", NULL, -1, NULL};
    PyMODINIT_FUNC
    PyInit_single(void)
    {
        PyObject *m = PyModule_Create(&sp);
        if (m == NULL) {
            return NULL;
        }
    #ifdef Py_GIL_DISABLED
        PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
    #endif
        return m;
    }
    """

    @Test("PyUnstable_Module_SetGIL in single-phase init")
    func setGIL() throws {
        let facts = extract(Self.singlePhase)
        let setLine = line(of: "PyUnstable_Module_SetGIL", in: Self.singlePhase)
        #expect(facts.declaresGILFree.map { Int($0.line) } == [setLine])
        let p = program(Self.singlePhase)
        let m = try #require(p.modules.first)
        #expect(p.modules.count == 1)
        #expect(m.name == "single")
        #expect(m.gilFree)
        let ft = p.freeThreading(file: "m.c")
        #expect(ft.applies)
        #expect(ft.reason.contains("PyUnstable_Module_SetGIL"))
        #expect(ft.reason.contains("m.c:\(setLine)"))
        #expect(program(Self.singlePhase, target: .gil).freeThreading(file: "m.c").applies == false)
        // a module without PyModuleDef: PyInit_ names it
        let bare = program("PyMODINIT_FUNC PyInit_bare(void) { PyObject *m = make(); PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED); return m; }")
        #expect(bare.modules.map(\.name) == ["bare"])
        #expect(bare.freeThreading(file: "m.c").applies)
        let used = program("PyMODINIT_FUNC PyInit_used(void) { PyObject *m = make(); PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED); return m; }")
        #expect(used.freeThreading(file: "m.c").applies == false)
    }

    @Test("a header belongs to the module whose .c file includes it")
    func headerMembership() throws {
        let modA = """
        #include "shared_a.h"
        static PyModuleDef_Slot a_slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
        static struct PyModuleDef a_def = {PyModuleDef_HEAD_INIT, "mod_a", NULL, 0, NULL, a_slots};
        """
        let modB = """
        #include "shared_b.h"
        static struct PyModuleDef b_def = {PyModuleDef_HEAD_INIT, "mod_b", NULL, 0, NULL, NULL};
        """
        let p = program([
            ("a/mod_a.c", modA),
            ("b/mod_b.c", modB),
            ("inc/shared_a.h", "static inline int helper_a(void) { return 1; }\n"),
            ("inc/shared_b.h", "static inline int helper_b(void) { return 2; }\n"),
            ("inc/orphan.h", "static inline int helper_c(void) { return 3; }\n"),
        ])
        #expect(p.modules.map(\.name) == ["mod_a", "mod_b"])
        #expect(p.includesOf["a/mod_a.c"] == ["inc/shared_a.h"])
        let a = try #require(p.modules.firstIndex { $0.name == "mod_a" })
        let b = try #require(p.modules.firstIndex { $0.name == "mod_b" })
        #expect(p.moduleOfFile["inc/shared_a.h"] == a)
        #expect(p.moduleOfFile["inc/shared_b.h"] == b)
        #expect(p.moduleOfFile["inc/orphan.h"] == nil)
        let ftA = p.freeThreading(file: "inc/shared_a.h")
        #expect(ftA.applies)
        #expect(ftA.reason.contains("`mod_a`"))
        #expect(p.freeThreading(file: "inc/shared_b.h").applies == false)
        #expect(p.freeThreading(file: "inc/orphan.h").applies == false)
    }

    @Test("a file in the module's directory belongs to it")
    func directoryMembership() {
        let p = program([
            ("pkg/mod.c", "static PyModuleDef_Slot s[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};\nstatic struct PyModuleDef d = {PyModuleDef_HEAD_INIT, \"pkg\", NULL, 0, NULL, s};\n"),
            ("pkg/impl/extra.c", "int extra(void) { return 0; }\n"),
        ])
        #expect(p.freeThreading(file: "pkg/impl/extra.c").applies)
    }
}

// MARK: - 3. Regions

@Suite struct ModelRegionTests {
    @Test("Py_BEGIN_CRITICAL_SECTION(self) ... Py_END_CRITICAL_SECTION()")
    func criticalSection() throws {
        let src = multiDictPrelude + """
        static PyObject *f(MultiDictObject *self) {
            PyObject **before = self->keys;
            Py_BEGIN_CRITICAL_SECTION(self);
            PyObject **inside = self->keys;
            touch(self);
            Py_END_CRITICAL_SECTION();
            PyObject **after = self->keys;
            after_call(self);
            return NULL;
        }
        """
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.count == 1)
        let r = try #require(f.regions.first)
        #expect(r.kind == .criticalSection)
        #expect(r.opener == "Py_BEGIN_CRITICAL_SECTION")
        #expect(r.subject?.name == "self")
        #expect(r.subject?.root == .param(0))
        #expect(r.subject?.fields == [])
        #expect(Int(r.begin.line) == line(of: "Py_BEGIN_CRITICAL_SECTION", in: src))
        #expect(Int(r.end.line) == line(of: "Py_END_CRITICAL_SECTION", in: src))
        #expect(f.reads("self.keys").map(\.regions) == [[], [0], []])
        #expect(f.regionKinds(atCall: "touch") == [.criticalSection])
        #expect(f.regionKinds(atCall: "after_call") == [])
    }

    @Test("Py_BEGIN_CRITICAL_SECTION2 has two subjects")
    func criticalSection2() throws {
        let src = multiDictPrelude + """
        static PyObject *f(MultiDictObject *self, MultiDictObject *other) {
            Py_BEGIN_CRITICAL_SECTION2(self, other);
            touch(self);
            Py_END_CRITICAL_SECTION2();
            return NULL;
        }
        """
        let f = try #require(program(src).fn("f"))
        let r = try #require(f.regions.first)
        #expect(r.kind == .criticalSection2)
        #expect(r.subject?.name == "self")
        #expect(r.subjects2?.name == "other")
        #expect(f.regionKinds(atCall: "touch") == [.criticalSection2])
    }

    @Test("Py_BEGIN_ALLOW_THREADS with Py_BLOCK_THREADS inside")
    func gilReleased() throws {
        let src = multiDictPrelude + """
        static PyObject *f(MultiDictObject *self) {
            before_io();
            Py_BEGIN_ALLOW_THREADS
            do_io();
            Py_BLOCK_THREADS
            touch(self);
            Py_UNBLOCK_THREADS
            do_io2();
            Py_END_ALLOW_THREADS
            after_io();
            return NULL;
        }
        """
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.map(\.kind) == [.gilReleased, .gilHeldAgain])
        #expect(f.regions.map(\.opener) == ["Py_BEGIN_ALLOW_THREADS", "Py_BLOCK_THREADS"])
        #expect(f.regionKinds(atCall: "before_io") == [])
        #expect(f.regionKinds(atCall: "do_io") == [.gilReleased])
        #expect(f.regionKinds(atCall: "touch") == [.gilReleased, .gilHeldAgain])
        #expect(f.regionKinds(atCall: "do_io2") == [.gilReleased])
        #expect(f.regionKinds(atCall: "after_io") == [])
        #expect(Int(f.regions[0].end.line) == line(of: "Py_END_ALLOW_THREADS", in: src))
        #expect(Int(f.regions[1].end.line) == line(of: "Py_UNBLOCK_THREADS", in: src))
    }

    @Test("PyEval_SaveThread / PyEval_RestoreThread release the GIL")
    func saveRestore() throws {
        let src = """
        static void f(void) {
            PyThreadState *ts = PyEval_SaveThread();
            io();
            PyEval_RestoreThread(ts);
            after();
        }
        """
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.map(\.kind) == [.gilReleased])
        #expect(f.regionKinds(atCall: "io") == [.gilReleased])
        #expect(f.regionKinds(atCall: "after") == [])
    }

    static let mutex = multiDictPrelude + """
    static PyObject *m(MultiDictObject *self) {
        PyMutex_Lock(&self->lock);
        if (self->keys == NULL) {
            PyMutex_Unlock(&self->lock);
            early_exit(self);
            return NULL;
        }
        use(self->keys);
        PyMutex_Unlock(&self->lock);
        after(self);
        Py_RETURN_NONE;
    }
    """

    @Test("PyMutex_Lock(&self->lock); an unlock on an early-return path does not end the region")
    func mutexRegion() throws {
        let f = try #require(program(Self.mutex).fn("m"))
        #expect(f.regions.count == 1)
        let r = try #require(f.regions.first)
        #expect(r.kind == .mutex)
        #expect(r.opener == "PyMutex_Lock")
        #expect(r.subject?.key == "self.lock")
        #expect(r.subject?.text == "self->lock")
        #expect(r.subject?.root == .param(0))
        #expect(Int(r.begin.line) == line(of: "PyMutex_Lock", in: Self.mutex))
        #expect(Int(r.end.line) == line(of: "    PyMutex_Unlock(&self->lock);\n    after", in: Self.mutex))
        #expect(f.regionKinds(atCall: "use") == [.mutex])
        #expect(f.regionKinds(atCall: "after") == [])
        // both reads of self->keys are under the lock
        #expect(f.reads("self.keys").map(\.regions) == [[0], [0]])
    }

    @Test("pthread mutexes and stop-the-world")
    func otherLocks() throws {
        let src = """
        static pthread_mutex_t mu;
        static void f(PyInterpreterState *interp) {
            pthread_mutex_lock(&mu);
            locked();
            pthread_mutex_unlock(&mu);
            _PyEval_StopTheWorld(interp);
            stopped();
            _PyEval_StartTheWorld(interp);
            running();
        }
        """
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.map(\.kind) == [.mutex, .stopTheWorld])
        #expect(f.regions[0].subject?.key == "mu")
        #expect(f.regions[0].subject?.root == .global)
        #expect(f.regions[1].subject == nil)
        #expect(f.regions[1].opener == "_PyEval_StopTheWorld")
        #expect(f.regionKinds(atCall: "locked") == [.mutex])
        #expect(f.regionKinds(atCall: "stopped") == [.stopTheWorld])
        #expect(f.regionKinds(atCall: "running") == [])
        #expect(Int(f.regions[1].end.line) == line(of: "_PyEval_StartTheWorld", in: src))
    }

    @Test("lock macros open mutex regions")
    func lockMacros() throws {
        let src = multiDictPrelude + """
        static PyMutex g_lock;
        #define LOCK() PyMutex_Lock(&g_lock)
        #define UNLOCK() PyMutex_Unlock(&g_lock)
        #define LOCK_OBJ(o) do { PyMutex_Lock(&(o)->lock); } while (0)
        #define UNLOCK_OBJ(o) do { PyMutex_Unlock(&(o)->lock); } while (0)
        static void f(MultiDictObject *self) {
            LOCK();
            work();
            UNLOCK();
            between();
            LOCK_OBJ(self);
            work2();
            UNLOCK_OBJ(self);
            after();
        }
        """
        let facts = extract(src)
        #expect(facts.callMacros["LOCK"]?.callee == "PyMutex_Lock")
        #expect(facts.callMacros["LOCK"]?.arguments == ["&g_lock"])
        #expect(facts.callMacros["LOCK_OBJ"]?.parameters == ["o"])
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.map(\.kind) == [.mutex, .mutex])
        #expect(f.regions.first?.subject?.key == "g_lock")
        #expect(f.regions.first?.subject?.root == .global)
        #expect(f.regionKinds(atCall: "work") == [.mutex])
        #expect(f.regionKinds(atCall: "between") == [])
        #expect(f.regions.last?.subject?.key == "self.lock")
        #expect(f.regionKinds(atCall: "work2") == [.mutex])
        #expect(f.regionKinds(atCall: "after") == [])
    }

    @Test("lock macros defined in a project header open regions in the sources that include it")
    func headerLockMacros() throws {
        let header = """
        typedef struct { int locked; } Lock;
        #define MUTEX_LOCK(m) PyMutex_Lock(m)
        #define MUTEX_UNLOCK(m) PyMutex_Unlock(m)
        """
        let src = """
        static PyMutex arena_lock;
        static void f(void) {
            MUTEX_LOCK(&arena_lock);
            work();
            MUTEX_UNLOCK(&arena_lock);
            after();
        }
        """
        var macros = ProjectMacros()
        macros.add(extract(header, path: "lib/Imaging.h"))
        #expect(macros.call["MUTEX_LOCK"]?.callee == "PyMutex_Lock")
        let lang = Language.c
        let file = SourceFile(path: "lib/Storage.c", language: lang, text: src)
        let env = MacroEnvironment.forAnalysis(language: lang, target: .auto)
        let facts = CFactExtractor.extract(CFrontend.parse(file, env: env), projectMacros: macros)
        let f = try #require(Program(files: [facts], target: .auto).fn("f"))
        #expect(f.regions.map(\.kind) == [.mutex])
        #expect(f.regions.first?.subject?.key == "arena_lock")
        #expect(f.regionKinds(atCall: "work") == [.mutex])
        #expect(f.regionKinds(atCall: "after") == [])

        // without the header's macros the same source has no region
        let bare = try #require(program(src, path: "lib/Storage.c").fn("f"))
        #expect(bare.regions.isEmpty)
    }

    @Test("static tables of the same name in two files name their own types")
    func fileScopedTables() throws {
        func module(_ type: String, _ fn: String) -> String {
            """
            typedef struct { PyObject_HEAD int n; } \(type)Object;
            static PyObject *\(fn)(\(type)Object *self, PyObject *unused) { Py_RETURN_NONE; }
            static PyMethodDef methods[] = {
                {"\(fn)", (PyCFunction)\(fn), METH_NOARGS, NULL},
                {NULL}
            };
            static PyTypeObject \(type)_Type = {
                PyVarObject_HEAD_INIT(NULL, 0).tp_name = "m.\(type)",
                .tp_basicsize = sizeof(\(type)Object),
                .tp_methods = methods,
            };
            """
        }
        let p = program([("a.c", module("Core", "core_size")), ("b.c", module("Path", "path_compact"))])
        let core = try #require(p.entries("core_size").first)
        let path = try #require(p.entries("path_compact").first)
        #expect(p.entries("path_compact").count == 1)
        #expect(core.label == "Core.core_size()")
        #expect(path.label == "Path.path_compact()")
        #expect(path.selfType == "PathObject")
    }

    @Test("a region still open at the end of the body ends there")
    func unclosed() throws {
        let src = "static void f(PyObject *o) {\n    Py_BEGIN_CRITICAL_SECTION(o);\n    g();\n}\n"
        let f = try #require(program(src).fn("f"))
        #expect(f.regions.count == 1)
        #expect(f.regions[0].end == f.endPos)
        #expect(Int(f.endPos.line) == 4)
    }
}

// MARK: - 4. Field accesses and aliases

@Suite struct ModelAliasTests {
    static let src = multiDictPrelude + """
    static void free_wrapper(void *p) { PyMem_Free(p); }

    static Py_ssize_t md_len(MultiDictObject *self, PyObject *unused) {
        return self->keys[0] != NULL ? self->used : 0;
    }

    static PyObject *md_get(PyObject *op, PyObject *key) {
        MultiDictObject *md = (MultiDictObject *)op;
        PyObject **k = md->keys;
        return k[0];
    }

    static int md_resize(MultiDictObject *md) {
        PyObject **old = md->keys;
        md->keys = PyMem_Malloc(16);
        free_wrapper(old);
        return 0;
    }

    static PyObject *md_add(MultiDictObject *self, PyObject *arg) {
        if (md_resize(self) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }

    static PyMethodDef md_methods[] = {
        {"len", (PyCFunction)md_len, METH_NOARGS, NULL},
        {"get", (PyCFunction)md_get, METH_O, NULL},
        {"add", (PyCFunction)md_add, METH_O, NULL},
        {NULL}
    };
    static PyType_Slot md_slots[] = {{Py_tp_methods, md_methods}, {0, NULL}};
    static PyType_Spec md_spec = {"m.MultiDict", sizeof(MultiDictObject), 0, 0, md_slots};
    """

    @Test("self->keys with self: MultiDictObject * is MultiDictObject.keys")
    func directField() throws {
        let p = program(Self.src)
        let fi = try #require(p.index("md_len"))
        let read = try #require(p.functions[fi].reads("self.keys").first)
        #expect(read.path.root == .param(0))
        #expect(p.lastOwner(read.path) == "MultiDictObject")
        let engine = SummaryEngine(program: p, kinds: [.read])
        #expect(engine.origins(fi, path: read.path, at: read.op) == [.param(0, ["keys"])])
        #expect(engine.resolveAtEntry(.param(0, ["keys"]), function: fi) == .field("MultiDictObject", "keys"))
        // `self->keys[0]` uses the buffer: a read effect of MultiDictObject.keys at the entry point
        let reads = engine.entryEffects(fi).filter { $0.kind == .read }.map(\.origin)
        #expect(reads.contains(.field("MultiDictObject", "keys")), "\(reads)")
    }

    @Test("md = (MultiDictObject *)op; md->keys is MultiDictObject.keys")
    func castAlias() throws {
        let p = program(Self.src)
        let fi = try #require(p.index("md_get"))
        let read = try #require(p.functions[fi].reads("md.keys").first)
        #expect(read.path.root == .local)
        #expect(p.lastOwner(read.path) == "MultiDictObject")
        let engine = SummaryEngine(program: p, kinds: [.read])
        // seen at the entry point `md_get(PyObject *op, ...)`, the read is of MultiDictObject.keys
        let reads = engine.entryEffects(fi).filter { $0.kind == .read }.map(\.origin)
        #expect(reads.contains(.field("MultiDictObject", "keys")), "entry effects: \(reads)")
        #expect(p.entries("md_get").first?.selfType == "MultiDictObject")
    }

    @Test("a wrapper passing (MultiDictObject *)self to its _impl function")
    func castArgumentToImpl() throws {
        let src = multiDictPrelude + """
        static PyObject *md_pop_impl(MultiDictObject *self, PyObject *key) {
            PyMem_Free(self->keys);
            return NULL;
        }
        static PyObject *md_pop(PyObject *self, PyObject *key) {
            return md_pop_impl((MultiDictObject *)self, key);
        }
        static PyMethodDef md_methods[] = {{"pop", md_pop, METH_O, NULL}, {NULL}};
        static PyType_Slot md_slots[] = {{Py_tp_methods, md_methods}, {0, NULL}};
        static PyType_Spec md_spec = {"m.MultiDict", sizeof(MultiDictObject), 0, 0, md_slots};
        """
        let p = program(src)
        let pop = try #require(p.index("md_pop"))
        #expect(p.entries(of: pop).first?.selfType == "MultiDictObject")
        let engine = SummaryEngine(program: p, kinds: [.free])
        let frees = engine.entryEffects(pop).map(\.origin)
        #expect(frees == [.field("MultiDictObject", "keys")], "entry effects: \(frees)")
    }

    @Test("old = md->keys; free_wrapper(old) frees MultiDictObject.keys at the entry point")
    func freeThroughHelper() throws {
        let p = program(Self.src)
        let add = try #require(p.index("md_add"))
        let entry = try #require(p.entries(of: add).first)
        #expect(entry.kind == .method)
        #expect(entry.selfType == "MultiDictObject")
        let engine = SummaryEngine(program: p, kinds: [.free])
        let frees = engine.entryEffects(add).filter { $0.kind == .free }
        #expect(frees.map(\.origin) == [.field("MultiDictObject", "keys")])
        let e = try #require(frees.first)
        #expect(e.source == .api("PyMem_Free"))
        #expect(e.chain.map { p.functions[$0.function].name } == ["md_add", "md_resize", "free_wrapper"])
        #expect(e.chain.last?.what == "PyMem_Free(p)")
        #expect(e.locks.isEmpty)
        // inside free_wrapper the free is of its parameter
        let fw = try #require(p.index("free_wrapper"))
        #expect(engine.summary(fw).effects.map(\.origin) == [.param(0, [])])
        // md_resize frees its parameter's field
        let rs = try #require(p.index("md_resize"))
        #expect(engine.summary(rs).effects.map(\.origin) == [.param(0, ["keys"])])
    }

    @Test("a place macro names a global path")
    func placeMacro() throws {
        let src = """
        #define arena _PyRuntime.x.arena
        #define CODE_ARENA (_PyRuntime.ceval.perf.code_arena)
        void drop(void) {
            PyMem_Free(arena);
            use(CODE_ARENA->size);
        }
        """
        let facts = extract(src)
        #expect(facts.placeMacros["arena"] == "_PyRuntime.x.arena")
        #expect(facts.placeMacros["CODE_ARENA"] == "_PyRuntime.ceval.perf.code_arena")
        let p = program(src)
        let fi = try #require(p.index("drop"))
        let f = p.functions[fi]
        let read = try #require(f.reads("_PyRuntime.x.arena").first)
        #expect(read.path.root == .global)
        #expect(read.path.name == "_PyRuntime")
        #expect(read.path.fields == ["x", "arena"])
        #expect(read.path.text == "arena")
        #expect(!f.reads("_PyRuntime.ceval.perf.code_arena.size").isEmpty)
        let engine = SummaryEngine(program: p, kinds: [.free])
        #expect(engine.summary(fi).effects.map(\.origin) == [.global("_PyRuntime.x.arena")])
    }

    static let byValue = """
    typedef struct { PyObject *p; } Holder;
    static Holder g_default;
    static Holder g_other;
    static void copy_then_write(PyObject *x) {
        Holder s = g_default;
        s.p = x;
        PyMem_Free(s.p);
    }
    static void write_global(PyObject *x) {
        g_other.p = x;
    }
    static void write_through_pointer(PyObject *x) {
        Holder *h = &g_default;
        h->p = x;
    }
    """

    @Test("a struct copied from a global is not an alias of it")
    func structByValue() throws {
        let p = program(Self.byValue)
        let engine = SummaryEngine(program: p, kinds: [.write, .free])
        let copy = try #require(p.index("copy_then_write"))
        let origins = engine.summary(copy).effects.map(\.origin)
        #expect(!origins.contains { if case .global(let g) = $0 { return g.hasPrefix("g_default") }; return false },
                "\(origins)")
        // control: writing the global itself is a global write
        let wg = try #require(p.index("write_global"))
        #expect(engine.summary(wg).effects.map(\.origin).contains(.global("g_other.p")))
    }

    @Test("a pointer to a global is an alias of it")
    func pointerToGlobal() throws {
        let p = program(Self.byValue)
        let engine = SummaryEngine(program: p, kinds: [.write])
        let wp = try #require(p.index("write_through_pointer"))
        let origins = engine.summary(wp).effects.map(\.origin)
        #expect(origins.contains(.global("g_default.p")), "\(origins)")
    }

    @Test("fields of an object allocated in the function are not shared")
    func freshObject() throws {
        let src = """
        typedef struct { PyObject_HEAD PyObject *items; } Obj;
        static PyTypeObject Obj_Type;
        static PyObject *make(PyObject *unused) {
            Obj *o = PyObject_New(Obj, &Obj_Type);
            o->items = NULL;
            PyMem_Free(o->items);
            return (PyObject *)o;
        }
        static PyObject *reuse(PyObject *self) {
            Obj *o = (Obj *)self;
            o->items = NULL;
            PyMem_Free(o->items);
            return NULL;
        }
        """
        let p = program(src)
        let engine = SummaryEngine(program: p, kinds: [.write, .free, .read])
        let make = try #require(p.index("make"))
        let fresh = engine.entryEffects(make).map(\.origin)
        #expect(!fresh.contains(.field("Obj", "items")), "\(fresh)")
        #expect(engine.summary(make).returns.contains(.freshObject))
        // control: the same code on an object that came in is shared
        let reuse = try #require(p.index("reuse"))
        let shared = engine.entryEffects(reuse).filter { $0.kind == .free }.map(\.origin)
        #expect(shared.contains(.field("Obj", "items")), "\(shared)")
    }

    @Test("it = self->md; it->keys is self->md->keys")
    func nestedAlias() throws {
        let src = multiDictPrelude + """
        typedef struct { PyObject_HEAD MultiDictObject *md; Py_ssize_t pos; } IterObject;
        static PyObject *iter_next(IterObject *self) {
            MultiDictObject *md = self->md;
            PyObject **k = md->keys;
            return k[self->pos];
        }
        """
        let p = program(src)
        let fi = try #require(p.index("iter_next"))
        let engine = SummaryEngine(program: p, kinds: [.read])
        let read = try #require(p.functions[fi].reads("md.keys").first)
        #expect(engine.origins(fi, path: read.path, at: read.op) == [.param(0, ["md", "keys"])])
        #expect(engine.entryEffects(fi).map(\.origin).contains(.field("MultiDictObject", "keys")))
    }
}

// MARK: - 5. Summaries and the call graph

@Suite struct ModelSummaryTests {
    @Test("mutual recursion terminates and both functions see the free")
    func recursion() throws {
        let src = """
        static void *g_buf;
        void a(int n) { if (n) b(n - 1); PyMem_Free(g_buf); }
        void b(int n) { a(n); }
        void c(int n) { c(n - 1); }
        """
        let p = program(src)
        let a = try #require(p.index("a"))
        let b = try #require(p.index("b"))
        let c = try #require(p.index("c"))
        #expect(p.callTargets[a] == [[b], []])
        #expect(p.callTargets[b] == [[a]])
        #expect(p.callTargets[c] == [[c]])
        let engine = SummaryEngine(program: p, kinds: [.free])
        #expect(engine.summary(a).effects.map(\.origin) == [.global("g_buf")])
        #expect(engine.summary(c).effects.isEmpty)
        // b calls a, which frees g_buf, whichever of the two was summarized first
        #expect(engine.summary(b).effects.map(\.origin) == [.global("g_buf")])
        let fresh = SummaryEngine(program: p, kinds: [.free])
        #expect(fresh.summary(b).effects.map(\.origin) == [.global("g_buf")])
    }

    @Test("a call chain 5,000 functions deep")
    func deepChain() throws {
        let n = 5000
        var src = "static void *g_buf;\n"
        for i in 0..<(n - 1) { src += "void f\(i)(void) { f\(i + 1)(); }\n" }
        src += "void f\(n - 1)(void) { PyMem_Free(g_buf); }\n"
        let text = src
        // an 8 MiB stack, like the main thread's: the summary walk must not recurse per call level
        let (top, near, chainLast, chainCount, entries) = onLargeStack(stackBytes: 8 << 20) {
            () -> ([Origin], [Origin], String?, Int, Int) in
            let p = program(text)
            let engine = SummaryEngine(program: p, kinds: [.free])
            // effects are lifted a bounded number of calls: far above the free, nothing is left
            let s = engine.summary(p.index("f0")!)
            let close = engine.summary(p.index("f\(n - 5)")!)
            return (s.effects.map(\.origin), close.effects.map(\.origin), close.effects.first?.chain.last?.what,
                    close.effects.first?.chain.count ?? 0, p.entries("f0").count)
        }
        #expect(top.isEmpty)
        #expect(near == [.global("g_buf")])
        #expect(chainLast == "PyMem_Free(g_buf)")
        #expect(chainCount == 5)
        #expect(entries == 1)  // f0 is exported and uncalled
    }

    static let pointers = """
    typedef struct { PyObject_HEAD int (*cb)(int); } Handler;
    static int handler(int x) { return x; }
    static int other(int x) { return -x; }
    static int (*g_hook)(int);
    static void setup(Handler *obj) { obj->cb = handler; }
    static void setup2(Handler *obj) { obj->cb = &other; }
    static int run(Handler *obj, int x) { return obj->cb(x); }
    static void set_hook(void) { g_hook = handler; }
    static int run_hook(int x) { return g_hook(x); }
    """

    @Test("function pointers stored into a field are call targets")
    func fieldPointers() throws {
        let p = program(Self.pointers)
        let run = try #require(p.index("run"))
        let handler = try #require(p.index("handler"))
        let other = try #require(p.index("other"))
        let call = try #require(p.functions[run].calls.first)
        #expect(call.callee == nil)
        #expect(call.target?.path?.key == "obj.cb")
        #expect(Set(p.callTargets[run][0]) == [handler, other])
        #expect(p.storedFunctions["Handler.cb"]?.map(\.function).sorted() == [handler, other].sorted())
        #expect(p.callers[handler].contains { $0.function == run })
    }

    @Test("function pointers stored into a global are call targets")
    func globalPointers() throws {
        let p = program(Self.pointers)
        let runHook = try #require(p.index("run_hook"))
        let handler = try #require(p.index("handler"))
        #expect(p.storedFunctions["g_hook"]?.map(\.function) == [handler])
        #expect(p.callTargets[runHook].first == [handler])
    }

    @Test("effects are lifted through calls with the caller's locks")
    func liftedLocks() throws {
        let src = multiDictPrelude + """
        static void drop(MultiDictObject *md) { PyMem_Free(md->keys); }
        static PyObject *locked(MultiDictObject *self, PyObject *a) {
            Py_BEGIN_CRITICAL_SECTION(self);
            drop(self);
            Py_END_CRITICAL_SECTION();
            Py_RETURN_NONE;
        }
        static PyObject *unlocked(MultiDictObject *self, PyObject *a) {
            drop(self);
            Py_RETURN_NONE;
        }
        """
        let p = program(src)
        let engine = SummaryEngine(program: p, kinds: [.free])
        let l = try #require(p.index("locked"))
        let u = try #require(p.index("unlocked"))
        #expect(engine.entryEffects(l).map(\.locks) == [LockSet([.criticalSection(type: "MultiDictObject")])])
        #expect(engine.entryEffects(u).map(\.locks) == [LockSet.none])
        #expect(engine.entryEffects(l).map(\.origin) == [.field("MultiDictObject", "keys")])
        #expect(LockSet.orders(LockSet([.criticalSection(type: "MultiDictObject")]), LockSet([.criticalSection(type: nil)])))
        #expect(!LockSet.orders(LockSet([.criticalSection(type: "MultiDictObject")]), LockSet([.mutex(place: "g")])))
        #expect(!LockSet.orders(LockSet([.criticalSection(type: "A")]), LockSet([.criticalSection(type: "B")])))
        #expect(LockSet.orders(LockSet([.stopTheWorld]), .none))
    }
}

// MARK: - 6. C-API table

@Suite struct ModelCAPITests {
    @Test("every entry has a source and names are unique")
    func sourcesAndNames() {
        let entries = CAPI.entries
        #expect(entries.count > 100)
        let missing = entries.filter { $0.source.trimmingCharacters(in: .whitespaces).isEmpty }.map(\.name)
        #expect(missing.isEmpty, "entries without a source: \(missing)")
        var seen = Set<String>()
        let duplicates = entries.map(\.name).filter { !seen.insert($0).inserted }
        #expect(duplicates.isEmpty, "duplicate names: \(duplicates)")
        #expect(CAPI.byName.count == entries.count)
    }

    @Test("borrowed APIs of the rule catalogue borrow from their container and name a replacement", arguments: [
        ("PyList_GetItem", "PyList_GetItemRef"),
        ("PyList_GET_ITEM", "PyList_GetItemRef"),
        ("PyDict_GetItem", "PyDict_GetItemRef"),
        ("PyDict_GetItemWithError", "PyDict_GetItemRef"),
        ("PyDict_GetItemString", "PyDict_GetItemStringRef"),
        ("PyDict_SetDefault", "PyDict_SetDefaultRef"),
        ("PyWeakref_GetObject", "PyWeakref_GetRef"),
        ("PyWeakref_GET_OBJECT", "PyWeakref_GetRef"),
        ("PyImport_AddModule", "PyImport_AddModuleRef"),
        ("PyCell_GET", "PyCell_Get"),
    ])
    func borrowed(_ name: String, _ replacement: String) throws {
        let e = try #require(CAPI.lookup(name))
        #expect(e.effects.contains(.borrowsFromContainer))
        #expect(e.replacement == replacement)
        #expect(e.returns == .borrowed)
        // the replacement exists and is safe
        let r = try #require(CAPI.lookup(replacement))
        #expect(!r.effects.contains(.borrowsFromContainer))
        #expect(r.returns == .new)
    }

    @Test("PyDict_Next borrows without a replacement")
    func dictNext() throws {
        let e = try #require(CAPI.lookup("PyDict_Next"))
        #expect(e.effects.contains(.borrowsFromContainer))
        #expect(e.replacement == nil)
        #expect(e.argument == 0)
    }

    @Test("every replacement names an entry of the table")
    func replacementsExist() {
        let dangling = CAPI.entries.compactMap { $0.replacement }.filter { CAPI.lookup($0) == nil }
        #expect(dangling.isEmpty, "\(dangling)")
    }

    @Test("effects that act on an argument say which")
    func arguments() {
        let needArg: CAPIEntry.Effects = [.freesMemory, .unmapsMemory, .locks, .unlocks, .startsThread,
                                          .installsAnyThreadCallback, .setsModuleGIL, .readsFrame]
        let missing = CAPI.entries.filter { !$0.effects.isDisjoint(with: needArg) && $0.argument == nil }.map(\.name)
        #expect(missing.isEmpty, "\(missing)")
        #expect(CAPI.lookup("pthread_create")?.argument == 2)
        #expect(CAPI.lookup("_PyInterpreterState_SetEvalFrameFunc")?.argument == 1)
        #expect(CAPI.lookup("PyUnstable_Module_SetGIL")?.argument == 1)
    }
}

@Suite struct ModelGrowthTests {
    /// A project of `n` methods on one type, each calling a chain of helpers that read and free
    /// shared state, all in one call graph (the shape that made summaries grow with the graph).
    static func source(_ n: Int) -> String {
        var s = """
            #include <Python.h>
            typedef struct { PyObject_HEAD char *buf; PyObject *ref; } BigObject;
            static char *g_cache;
            static PyObject *g_obj;

            """
        for i in 0..<n {
            let next = i + 1 < n ? "h\(i + 1)(self, k - 1);" : ""
            s += """
                static int h\(i)(BigObject *self, int k) {
                    if (k <= 0) { return self->buf[0]; }
                    if (k % 7 == 0) { PyMem_Free(g_cache); g_cache = NULL; }
                    if (k % 5 == 0) { Py_XSETREF(self->ref, Py_NewRef(g_obj)); }
                    \(next)
                    return g_cache != NULL ? g_cache[0] + self->buf[k] : 0;
                }
                static PyObject *m\(i)(BigObject *self, PyObject *a) { return PyLong_FromLong(h\(i)(self, \(i % 13))); }

                """
        }
        s += "static PyMethodDef big_methods[] = {\n"
        for i in 0..<n { s += "    {\"m\(i)\", (PyCFunction)m\(i), METH_O, NULL},\n" }
        s += "    {NULL}\n};\nstatic PyTypeObject Big_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = \"g.Big\", "
        s += ".tp_basicsize = sizeof(BigObject), .tp_methods = big_methods};\n"
        s += "static PyModuleDef_Slot big_slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};\n"
        s += "static struct PyModuleDef big_module = {PyModuleDef_HEAD_INIT, \"big\", NULL, 0, NULL, big_slots};\n"
        return s
    }

    /// Best of three: facts, program, and every rule.
    static func seconds(_ n: Int) -> Double {
        let text = source(n)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = threadCPUSeconds()
            let p = program(text)
            let ctx = RuleContext(program: p)
            var count = 0
            for r in RuleRegistry.all { count += r.check(ctx).count }
            best = min(best, threadCPUSeconds() - start)
            #expect(count > 0)
        }
        return best
    }

    @Test("analysis time grows linearly with one project's call graph: 4N functions take less than 6x N")
    func linearGrowth() {
        let small = Self.seconds(300)
        let large = Self.seconds(1200)
        #expect(large < 6 * small, "N=300: \(small) s, 4N=1200: \(large) s")
    }
}
