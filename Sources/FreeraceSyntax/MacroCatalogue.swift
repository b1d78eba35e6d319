/// What a known macro does to the shape of the code around it. The parser reads macros as facts
/// (`Py_BEGIN_CRITICAL_SECTION(self)` is a region opening, not a `{`), so each known macro has a role.
public enum MacroRole: UInt8, Sendable {
    /// Opens a region that a matching `blockEnd` closes; see `RegionKind` for which.
    case blockBegin
    case blockEnd
    /// A statement on its own (`Py_RETURN_NONE`, `Py_CLEAR(x)`); `returns` says if it leaves the function.
    case statement
    /// A statement that leaves the function (`Py_RETURN_NONE`).
    case returnStatement
    /// A struct member that stands for several fields (`PyObject_HEAD`).
    case declarator
    /// An attribute-like word among declaration specifiers (`PyMODINIT_FUNC`, `NPY_INLINE`), with or without arguments.
    case annotation
    /// A wrapper whose argument is the declared type (`PyAPI_FUNC(PyObject *)`).
    case typeWrapper
    /// A wrapper around a parameter's name (`Py_UNUSED(arg)`).
    case parameterName
    /// A file-scope declaration macro (`PyDoc_STRVAR(name, "doc")`).
    case declarationMacro
    /// A storage-class word meaning thread-local (`NPY_TLS`, `_Py_thread_local`): each thread has
    /// its own copy of the variable, so it is never shared state.
    case threadLocalStorage
}

/// The regions freerace tracks: where a lock, critical section, GIL state or stop-the-world holds.
public enum RegionKind: UInt8, Sendable, Codable, Hashable {
    case criticalSection        // Py_BEGIN_CRITICAL_SECTION(op)
    case criticalSection2       // Py_BEGIN_CRITICAL_SECTION2(a, b)
    case criticalSectionMutex   // Py_BEGIN_CRITICAL_SECTION_MUTEX(m)
    case gilReleased            // Py_BEGIN_ALLOW_THREADS / PyEval_SaveThread
    case gilHeldAgain           // Py_BLOCK_THREADS inside a released region
    case mutex                  // PyMutex_Lock, pthread_mutex_lock, ...
    case stopTheWorld           // _PyEval_StopTheWorld(All)
}

public struct MacroEntry: Sendable {
    public var name: String
    public var role: MacroRole
    public var region: RegionKind?
    /// Where the macro comes from, for readers of the catalogue.
    public var source: String
}

/// CPython's macros (and a few from NumPy and Cython-generated code) that change the shape of code.
/// Sources: CPython `Include/` headers (`pyport.h`, `ceval.h`, `object.h`, `cpython/critical_section.h`,
/// `pymacro.h`, `modsupport.h`), NumPy `npy_common.h`/`ndarraytypes.h`.
public enum MacroCatalogue {
    public static let entries: [MacroEntry] = [
        // Critical sections (Include/cpython/critical_section.h, 3.13+)
        .init(name: "Py_BEGIN_CRITICAL_SECTION", role: .blockBegin, region: .criticalSection, source: "cpython/critical_section.h"),
        .init(name: "Py_END_CRITICAL_SECTION", role: .blockEnd, region: .criticalSection, source: "cpython/critical_section.h"),
        .init(name: "Py_BEGIN_CRITICAL_SECTION2", role: .blockBegin, region: .criticalSection2, source: "cpython/critical_section.h"),
        .init(name: "Py_END_CRITICAL_SECTION2", role: .blockEnd, region: .criticalSection2, source: "cpython/critical_section.h"),
        .init(name: "Py_BEGIN_CRITICAL_SECTION_MUTEX", role: .blockBegin, region: .criticalSectionMutex, source: "cpython/critical_section.h (3.14)"),
        .init(name: "Py_BEGIN_CRITICAL_SECTION2_MUTEX", role: .blockBegin, region: .criticalSection2, source: "cpython/critical_section.h (3.14)"),
        .init(name: "Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST", role: .blockBegin, region: .criticalSection, source: "internal/pycore_critical_section.h"),
        .init(name: "Py_END_CRITICAL_SECTION_SEQUENCE_FAST", role: .blockEnd, region: .criticalSection, source: "internal/pycore_critical_section.h"),
        .init(name: "Py_BEGIN_CRITICAL_SECTION_MUT", role: .blockBegin, region: .criticalSectionMutex, source: "internal/pycore_critical_section.h"),
        // GIL release (Include/ceval.h)
        .init(name: "Py_BEGIN_ALLOW_THREADS", role: .blockBegin, region: .gilReleased, source: "ceval.h"),
        .init(name: "Py_END_ALLOW_THREADS", role: .blockEnd, region: .gilReleased, source: "ceval.h"),
        .init(name: "Py_BLOCK_THREADS", role: .blockBegin, region: .gilHeldAgain, source: "ceval.h"),
        .init(name: "Py_UNBLOCK_THREADS", role: .blockEnd, region: .gilHeldAgain, source: "ceval.h"),
        .init(name: "NPY_BEGIN_ALLOW_THREADS", role: .blockBegin, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_END_ALLOW_THREADS", role: .blockEnd, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_BEGIN_THREADS", role: .blockBegin, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_END_THREADS", role: .blockEnd, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_BEGIN_THREADS_THRESHOLDED", role: .blockBegin, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_BEGIN_THREADS_DESCR", role: .blockBegin, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_END_THREADS_DESCR", role: .blockEnd, region: .gilReleased, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_ALLOW_C_API", role: .blockBegin, region: .gilHeldAgain, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_DISABLE_C_API", role: .blockEnd, region: .gilHeldAgain, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_BEGIN_THREADS_DEF", role: .statement, region: nil, source: "numpy/ndarraytypes.h"),
        .init(name: "NPY_ALLOW_C_API_DEF", role: .statement, region: nil, source: "numpy/ndarraytypes.h"),
        // Statements (Include/object.h, boolobject.h, pymacro.h)
        .init(name: "Py_RETURN_NONE", role: .returnStatement, region: nil, source: "object.h"),
        .init(name: "Py_RETURN_TRUE", role: .returnStatement, region: nil, source: "boolobject.h"),
        .init(name: "Py_RETURN_FALSE", role: .returnStatement, region: nil, source: "boolobject.h"),
        .init(name: "Py_RETURN_NOTIMPLEMENTED", role: .returnStatement, region: nil, source: "object.h"),
        .init(name: "Py_RETURN_RICHCOMPARE", role: .returnStatement, region: nil, source: "object.h"),
        .init(name: "Py_UNREACHABLE", role: .statement, region: nil, source: "pymacro.h"),
        .init(name: "Py_VISIT", role: .statement, region: nil, source: "objimpl.h"),
        .init(name: "_Py_COMP_DIAG_PUSH", role: .statement, region: nil, source: "pyport.h"),
        .init(name: "_Py_COMP_DIAG_POP", role: .statement, region: nil, source: "pyport.h"),
        .init(name: "_Py_COMP_DIAG_IGNORE_DEPR_DECLS", role: .statement, region: nil, source: "pyport.h"),
        .init(name: "CYTHON_MAYBE_UNUSED_VAR", role: .statement, region: nil, source: "Cython-generated C"),
        .init(name: "CYTHON_UNUSED_VAR", role: .statement, region: nil, source: "Cython-generated C"),
        // Struct heads (Include/object.h)
        .init(name: "PyObject_HEAD", role: .declarator, region: nil, source: "object.h"),
        .init(name: "PyObject_VAR_HEAD", role: .declarator, region: nil, source: "object.h"),
        .init(name: "PyException_HEAD", role: .declarator, region: nil, source: "cpython/pyerrors.h"),
        .init(name: "_PyObject_HEAD_EXTRA", role: .declarator, region: nil, source: "object.h (< 3.13)"),
        .init(name: "PyDescr_COMMON", role: .declarator, region: nil, source: "descrobject.h"),
        .init(name: "_PyGenObject_HEAD", role: .declarator, region: nil, source: "internal/pycore_genobject.h"),
        // Declaration specifiers (Include/pyport.h, exports.h, modsupport.h)
        .init(name: "PyAPI_FUNC", role: .typeWrapper, region: nil, source: "pyport.h"),
        .init(name: "PyAPI_DATA", role: .typeWrapper, region: nil, source: "pyport.h"),
        .init(name: "Py_LOCAL", role: .typeWrapper, region: nil, source: "pyport.h"),
        .init(name: "Py_LOCAL_INLINE", role: .typeWrapper, region: nil, source: "pyport.h"),
        .init(name: "PyMODINIT_FUNC", role: .annotation, region: nil, source: "exports.h"),
        .init(name: "Py_ALWAYS_INLINE", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_NO_INLINE", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_NO_RETURN", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "_Py_NO_RETURN", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_EXPORTED_SYMBOL", role: .annotation, region: nil, source: "exports.h"),
        .init(name: "Py_IMPORTED_SYMBOL", role: .annotation, region: nil, source: "exports.h"),
        .init(name: "Py_LOCAL_SYMBOL", role: .annotation, region: nil, source: "exports.h"),
        .init(name: "Py_GCC_ATTRIBUTE", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_DEPRECATED", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_ALIGNED", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "_Py_HOT_FUNCTION", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_NO_SANITIZE_THREAD", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_NO_SANITIZE_ADDRESS", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_NO_SANITIZE_MEMORY", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "_Py_NO_SANITIZE_THREAD", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "_Py_NO_SANITIZE_ADDRESS", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "_Py_NO_SANITIZE_UNDEFINED", role: .annotation, region: nil, source: "pyport.h"),
        .init(name: "Py_UNUSED", role: .parameterName, region: nil, source: "pymacro.h"),
        .init(name: "NPY_UNUSED", role: .parameterName, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_INLINE", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_TLS", role: .threadLocalStorage, region: nil, source: "numpy/npy_common.h"),
        .init(name: "_Py_thread_local", role: .threadLocalStorage, region: nil, source: "pyport.h"),
        .init(name: "_Py_THREAD_LOCAL", role: .threadLocalStorage, region: nil, source: "internal/pycore_tls.h"),
        .init(name: "NPY_FINLINE", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_NOINLINE", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_NO_EXPORT", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_VISIBILITY_HIDDEN", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_GCC_OPT_3", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_GCC_UNROLL_LOOPS", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_GCC_NONNULL", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_RETURNS_BORROWED_REF", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_STEALS_REF_TO_ARG", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "NPY_NO_DEPRECATED_API", role: .annotation, region: nil, source: "numpy/npy_common.h"),
        .init(name: "CYTHON_INLINE", role: .annotation, region: nil, source: "Cython-generated C"),
        .init(name: "CYTHON_UNUSED", role: .annotation, region: nil, source: "Cython-generated C"),
        .init(name: "CYTHON_NCP_UNUSED", role: .annotation, region: nil, source: "Cython-generated C"),
        .init(name: "CYTHON_SMALL_CODE", role: .annotation, region: nil, source: "Cython-generated C"),
        .init(name: "CYTHON_FALLTHROUGH", role: .statement, region: nil, source: "Cython-generated C"),
        // File-scope declaration macros (Include/pymacro.h)
        .init(name: "PyDoc_STRVAR", role: .declarationMacro, region: nil, source: "pymacro.h"),
        .init(name: "PyDoc_STRVAR_shared", role: .declarationMacro, region: nil, source: "pymacro.h"),
    ]

    private static let byName: [String: MacroEntry] = {
        var d: [String: MacroEntry] = [:]
        for e in entries { d[e.name] = e }
        return d
    }()

    public static func lookup(_ name: String) -> MacroEntry? { byName[name] }

    /// Type names from CPython and the C library that a file uses without declaring them
    /// (they come from headers freerace does not read).
    public static let knownTypeNames: Set<String> = [
        "PyObject", "PyVarObject", "PyTypeObject", "PyHeapTypeObject", "Py_ssize_t", "Py_hash_t", "Py_uhash_t",
        "Py_UCS1", "Py_UCS2", "Py_UCS4", "Py_UNICODE", "Py_buffer", "PyMethodDef", "PyGetSetDef", "PyMemberDef",
        "PyType_Slot", "PyType_Spec", "PyModuleDef", "PyModuleDef_Slot", "PyModuleDef_Base", "PyCFunction",
        "PyCFunctionWithKeywords", "_PyCFunctionFast", "_PyCFunctionFastWithKeywords", "PyCFunctionFast",
        "PyCFunctionFastWithKeywords", "PyCMethod", "vectorcallfunc", "getter", "setter", "destructor", "reprfunc",
        "hashfunc", "richcmpfunc", "getiterfunc", "iternextfunc", "descrgetfunc", "descrsetfunc", "initproc",
        "newfunc", "allocfunc", "freefunc", "lenfunc", "binaryfunc", "ternaryfunc", "unaryfunc", "inquiry",
        "ssizeargfunc", "ssizessizeargfunc", "ssizeobjargproc", "objobjargproc", "objobjproc", "visitproc",
        "traverseproc", "getattrfunc", "setattrfunc", "getattrofunc", "setattrofunc", "getbufferproc",
        "releasebufferproc", "sendfunc", "PyThreadState", "PyInterpreterState", "PyFrameObject", "PyCodeObject",
        "PyMutex", "PyCriticalSection", "PyCriticalSection2", "PyGILState_STATE", "PyMappingMethods",
        "PySequenceMethods", "PyNumberMethods", "PyBufferProcs", "PyAsyncMethods", "PyLongObject", "PyListObject",
        "PyTupleObject", "PyDictObject", "PyBytesObject", "PyUnicodeObject", "PyFloatObject", "PySetObject",
        "PyThread_type_lock", "PyThread_type_sema", "PyStructSequence_Desc", "PyStructSequence_Field",
        "_PyInterpreterFrame", "PyCompilerFlags", "Py_complex", "PyGenObject", "PyWeakReference",
        "PyByteArrayObject", "PyModuleObject", "PyCFunctionObject", "PyMethodObject", "PySliceObject",
        "PyCapsule", "PyCapsule_Destructor", "PyOS_sighandler_t", "Py_tss_t", "PyThread_ident_t",
        "PyRefTracer", "PyTime_t", "_PyTime_t", "PyConfig", "PyStatus", "PyWideStringList", "PyPreConfig",
        "PyTraceMalloc_DomainId", "Py_intptr_t", "Py_uintptr_t", "PyLongExport", "PyUnicodeWriter",
        "PyBytesWriter", "PyFrameEvalFunction", "_PyFrameEvalFunction", "PyCode_WatchCallback",
        "PyCodeEvent", "PyDict_WatchCallback", "PyType_WatchCallback", "Py_tracefunc", "PyMemAllocatorEx",
        "PyObjectArenaAllocator", "PyCellObject", "PyInstanceMethodObject", "PyStructSequence",
        // C library
        "size_t", "ssize_t", "ptrdiff_t", "wchar_t", "FILE", "va_list", "bool", "off_t", "pid_t", "time_t",
        "pthread_t", "pthread_mutex_t", "pthread_cond_t", "pthread_key_t", "pthread_attr_t", "pthread_once_t",
        "pthread_rwlock_t", "sig_atomic_t", "jmp_buf", "sigjmp_buf", "fd_set", "socklen_t", "mode_t", "uid_t",
        "gid_t", "dev_t", "ino_t", "clock_t", "div_t", "ldiv_t", "fpos_t", "mbstate_t", "locale_t", "DIR",
        "HANDLE", "DWORD", "BOOL", "WORD", "BYTE", "LPVOID", "SRWLOCK", "CRITICAL_SECTION", "HMODULE",
        "__m128", "__m128i", "__m128d", "__m256", "__m256i", "__m256d", "__m512", "__m512i", "__m512d",
        "float32x4_t", "npy_intp", "npy_uintp", "npy_bool", "PyArrayObject", "PyArray_Descr",
        "PyArrayMultiIterObject", "PyArrayIterObject", "PyArray_Dims", "PyArray_Chunk", "PyUFuncObject",
    ]

    /// Whether an identifier looks like a type by naming convention alone (`uint8_t`, `npy_double`).
    public static func looksLikeTypeName(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ len: Int) -> Bool {
        if len > 2, bytes[start + len - 2] == 0x5F, bytes[start + len - 1] == 0x74 { return true }  // *_t
        if len > 4, bytes[start] == 0x6E, bytes[start + 1] == 0x70, bytes[start + 2] == 0x79,
           bytes[start + 3] == 0x5F { return true }  // npy_*
        return false
    }
}
