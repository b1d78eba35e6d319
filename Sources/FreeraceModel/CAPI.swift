import FreeraceSyntax

/// What a C-API (or libc) function does that matters to lifetime and locking. One row per function,
/// each with where the fact is documented. `freerace` reads code through this table; the rules
/// never hard-code API names.
public struct CAPIEntry: Sendable {
    public enum Reference: UInt8, Sendable { case none, borrowed, new }

    public struct Effects: OptionSet, Sendable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        /// May drop the last reference to an object (and so run arbitrary code or free memory).
        public static let mayFreeObject = Effects(rawValue: 1 << 0)
        /// May call back into Python code.
        public static let mayCallPython = Effects(rawValue: 1 << 1)
        /// Releases the GIL / detaches the thread state.
        public static let releasesGIL = Effects(rawValue: 1 << 2)
        /// Re-acquires the GIL / attaches the thread state.
        public static let acquiresGIL = Effects(rawValue: 1 << 3)
        /// Frees the raw memory passed as `argument`.
        public static let freesMemory = Effects(rawValue: 1 << 4)
        /// Returns freshly allocated raw memory.
        public static let allocatesMemory = Effects(rawValue: 1 << 5)
        /// Maps memory; `protArgument` holds the protection.
        public static let mapsMemory = Effects(rawValue: 1 << 6)
        /// Unmaps the memory passed as `argument`.
        public static let unmapsMemory = Effects(rawValue: 1 << 7)
        /// Changes the protection of the memory passed as `argument`.
        public static let protectsMemory = Effects(rawValue: 1 << 8)
        /// Acquires the lock passed as `argument`.
        public static let locks = Effects(rawValue: 1 << 9)
        /// Releases the lock passed as `argument`.
        public static let unlocks = Effects(rawValue: 1 << 10)
        /// Begins a critical section on `argument` (and `argument2`).
        public static let beginsCriticalSection = Effects(rawValue: 1 << 11)
        public static let endsCriticalSection = Effects(rawValue: 1 << 12)
        public static let stopsTheWorld = Effects(rawValue: 1 << 13)
        public static let startsTheWorld = Effects(rawValue: 1 << 14)
        /// Returns frames or thread states of other threads (`_PyThread_CurrentFrames`).
        public static let foreignThreadSource = Effects(rawValue: 1 << 15)
        /// Reads a frame or thread state passed as `argument` (`PyFrame_GetBack`).
        public static let readsFrame = Effects(rawValue: 1 << 16)
        /// Registers `argument` as a callback run on arbitrary threads (eval-frame hook, profiler).
        public static let installsAnyThreadCallback = Effects(rawValue: 1 << 17)
        /// Registers `argument` as a callback run when an object is destroyed (code watcher): deferred reclamation.
        public static let installsDestroyCallback = Effects(rawValue: 1 << 18)
        /// Starts a thread running `argument`.
        public static let startsThread = Effects(rawValue: 1 << 19)
        /// Registers `argument` to run at interpreter exit.
        public static let installsExitCallback = Effects(rawValue: 1 << 20)
        /// Mutates the container passed as `argument`.
        public static let mutatesContainer = Effects(rawValue: 1 << 21)
        /// Returns a new, unshared container.
        public static let createsContainer = Effects(rawValue: 1 << 22)
        /// Returns a borrowed reference out of the container passed as `argument` (unsafe when shared).
        public static let borrowsFromContainer = Effects(rawValue: 1 << 23)
        /// Declares the module free-threading compatible when `argument` is `Py_MOD_GIL_NOT_USED`.
        public static let setsModuleGIL = Effects(rawValue: 1 << 24)
        /// Copies memory of another process or thread safely (`process_vm_readv`).
        public static let safeCopy = Effects(rawValue: 1 << 25)
        /// Reallocates: frees `argument` and returns new memory.
        public static let reallocates = Effects(rawValue: 1 << 26)
        /// Pins a buffer (`PyObject_GetBuffer`) so its memory stays valid until released.
        public static let pinsBuffer = Effects(rawValue: 1 << 27)
        /// Atomic load/store/exchange on the place passed as `argument`.
        public static let atomicAccess = Effects(rawValue: 1 << 28)
        /// Stores a strong reference into the place passed as `argument` (`Py_SETREF`, `Py_CLEAR`).
        public static let replacesReference = Effects(rawValue: 1 << 29)
        /// Runs a function once, thread-safely (`PyOnceFlag`, `pthread_once`).
        public static let onceInit = Effects(rawValue: 1 << 30)
        /// Returns a new Python object no other thread can see yet.
        public static let allocatesObject = Effects(rawValue: 1 << 31)
        /// The container it borrows from is always reachable by other threads, whatever the
        /// caller holds: a weak reference's referent (any thread may drop the last strong
        /// reference) or the interpreter's module registry.
        public static let borrowsFromAlwaysShared = Effects(rawValue: 1 << 32)
        /// Drops one reference to the object passed as `argument` (`Py_DECREF`): the object may be freed.
        public static let releasesReference = Effects(rawValue: 1 << 33)
        /// Stores the caller's argument objects (borrowed from the argument tuple or vector)
        /// through its pointer arguments (`PyArg_ParseTuple(args, "O", &obj)`).
        public static let unpacksArguments = Effects(rawValue: 1 << 34)
        /// The callback it installs runs on the calling thread only, with the object passed as
        /// `argument2` (`PyEval_SetTrace(func, obj)`): that object is confined to the thread.
        public static let installsThreadCallback = Effects(rawValue: 1 << 35)
        /// Waits until a thread has ended (`pthread_join`) or has signaled a condition
        /// (`pthread_cond_wait`): the memory handed to the thread is no longer in use after it.
        public static let joinsThread = Effects(rawValue: 1 << 36)
        /// Imports the module named by `argument` and returns a strong reference to it
        /// (`PyImport_ImportModule`): once it returns, the module is in `sys.modules`, kept alive
        /// by the reference, and a submodule it imported is bound as one of its attributes.
        public static let importsModule = Effects(rawValue: 1 << 37)
        /// Stores through `argument` a pointer into an object's buffer without keeping a view of
        /// it (`PyObject_AsReadBuffer` releases its view before it returns): nothing pins the
        /// memory, and the exporter may resize or free it once another thread runs.
        public static let exposesUnpinnedBuffer = Effects(rawValue: 1 << 38)
        /// Ends the view (`Py_buffer`) passed as `argument`: the exporter's memory is no longer
        /// pinned by it (`PyBuffer_Release`).
        public static let releasesBuffer = Effects(rawValue: 1 << 39)
    }

    public var name: String
    public var returns: Reference
    public var effects: Effects
    /// The argument the effect applies to (lock, pointer, container, callback), if any.
    public var argument: Int?
    /// A second argument: the other object of a two-object critical section, the object a
    /// thread-confined callback is installed with, the pointer a thread start passes to its routine.
    public var argument2: Int?
    /// For `mapsMemory`/`protectsMemory`: which argument holds the protection flags.
    public var protArgument: Int?
    /// The strong-reference replacement for borrowed APIs.
    public var replacement: String?
    public var source: String
}

public enum CAPI {
    private static func e(_ name: String, _ effects: CAPIEntry.Effects, arg: Int? = nil, arg2: Int? = nil,
                          prot: Int? = nil, replacement: String? = nil, _ source: String) -> CAPIEntry {
        r(name, .none, effects, arg: arg, arg2: arg2, prot: prot, replacement: replacement, source)
    }

    private static func r(_ name: String, _ returns: CAPIEntry.Reference, _ effects: CAPIEntry.Effects,
                          arg: Int? = nil, arg2: Int? = nil, prot: Int? = nil, replacement: String? = nil,
                          _ source: String) -> CAPIEntry {
        CAPIEntry(name: name, returns: returns, effects: effects, argument: arg, argument2: arg2, protArgument: prot,
                  replacement: replacement, source: source)
    }

    public static let entries: [CAPIEntry] = [
        // Raw memory (C standard, c-api/memory)
        e("free", [.freesMemory], arg: 0, "C standard library"),
        e("PyMem_Free", [.freesMemory], arg: 0, "c-api/memory: PyMem_Free"),
        e("PyMem_RawFree", [.freesMemory], arg: 0, "c-api/memory: PyMem_RawFree"),
        e("PyObject_Free", [.freesMemory], arg: 0, "c-api/memory: PyObject_Free"),
        e("PyMem_Del", [.freesMemory], arg: 0, "c-api/memory (deprecated alias of PyMem_Free)"),
        e("PyMem_DEL", [.freesMemory], arg: 0, "c-api/memory (deprecated alias)"),
        e("PyMem_FREE", [.freesMemory], arg: 0, "c-api/memory (deprecated alias)"),
        e("PyObject_Del", [.freesMemory], arg: 0, "c-api/allocation (alias of PyObject_Free)"),
        e("PyObject_GC_Del", [.freesMemory], arg: 0, "c-api/gcsupport: PyObject_GC_Del"),
        e("realloc", [.freesMemory, .allocatesMemory, .reallocates], arg: 0, "C standard library"),
        // C++ delete expressions (the walker records `delete p` / `delete[] p` as these calls)
        e("operator delete", [.freesMemory], arg: 0, "C++ [expr.delete]"),
        e("operator delete[]", [.freesMemory], arg: 0, "C++ [expr.delete]"),
        e("PyMem_Realloc", [.freesMemory, .allocatesMemory, .reallocates], arg: 0, "c-api/memory"),
        e("PyMem_RawRealloc", [.freesMemory, .allocatesMemory, .reallocates], arg: 0, "c-api/memory"),
        e("PyObject_Realloc", [.freesMemory, .allocatesMemory, .reallocates], arg: 0, "c-api/memory"),
        e("PyMem_Resize", [.freesMemory, .reallocates], arg: 0, "c-api/memory: macro, reassigns its first argument"),
        e("PyMem_RESIZE", [.freesMemory, .reallocates], arg: 0, "c-api/memory (deprecated alias)"),
        e("malloc", [.allocatesMemory], "C standard library"),
        e("calloc", [.allocatesMemory], "C standard library"),
        e("PyMem_Malloc", [.allocatesMemory], "c-api/memory"),
        e("PyMem_Calloc", [.allocatesMemory], "c-api/memory"),
        e("PyMem_RawMalloc", [.allocatesMemory], "c-api/memory"),
        e("PyMem_RawCalloc", [.allocatesMemory], "c-api/memory"),
        e("PyObject_Malloc", [.allocatesMemory], "c-api/memory"),
        e("PyObject_Calloc", [.allocatesMemory], "c-api/memory"),
        e("PyMem_New", [.allocatesMemory], "c-api/memory (macro)"),
        r("PyObject_New", .new, [.allocatesObject], "c-api/allocation: PyObject_New"),
        r("PyObject_NEW", .new, [.allocatesObject], "c-api/allocation (alias)"),
        r("PyObject_NewVar", .new, [.allocatesObject], "c-api/allocation: PyObject_NewVar"),
        r("PyObject_NEW_VAR", .new, [.allocatesObject], "c-api/allocation (alias)"),
        r("PyObject_GC_New", .new, [.allocatesObject], "c-api/gcsupport: PyObject_GC_New"),
        r("PyObject_GC_NewVar", .new, [.allocatesObject], "c-api/gcsupport: PyObject_GC_NewVar"),
        r("PyType_GenericAlloc", .new, [.allocatesObject], "c-api/type: PyType_GenericAlloc"),
        r("PyType_GenericNew", .new, [.allocatesObject], "c-api/type: PyType_GenericNew"),
        r("_PyObject_New", .new, [.allocatesObject], "internal"),
        r("_PyObject_GC_New", .new, [.allocatesObject], "internal"),
        // Mapped memory (POSIX mmap(2)/mprotect(2)/munmap(2); Win32 VirtualAlloc/VirtualProtect/VirtualFree)
        e("mmap", [.mapsMemory, .allocatesMemory], prot: 2, "POSIX mmap(2)"),
        e("mmap64", [.mapsMemory, .allocatesMemory], prot: 2, "POSIX mmap(2)"),
        e("munmap", [.unmapsMemory, .freesMemory], arg: 0, "POSIX munmap(2)"),
        e("mprotect", [.protectsMemory], arg: 0, prot: 2, "POSIX mprotect(2)"),
        e("VirtualAlloc", [.mapsMemory, .allocatesMemory], prot: 3, "Win32 VirtualAlloc"),
        e("VirtualProtect", [.protectsMemory], arg: 0, prot: 2, "Win32 VirtualProtect"),
        e("VirtualFree", [.unmapsMemory, .freesMemory], arg: 0, "Win32 VirtualFree"),
        // Locks (c-api/synchronization "PyMutex", POSIX threads, PyThread, Win32)
        e("PyMutex_Lock", [.locks], arg: 0, "c-api/synchronization: PyMutex_Lock (3.13)"),
        e("PyMutex_Unlock", [.unlocks], arg: 0, "c-api/synchronization: PyMutex_Unlock (3.13)"),
        e("_PyMutex_Lock", [.locks], arg: 0, "internal/pycore_lock.h"),
        e("_PyMutex_Unlock", [.unlocks], arg: 0, "internal/pycore_lock.h"),
        e("PyMutex_LockFlags", [.locks], arg: 0, "internal/pycore_lock.h"),
        e("pthread_mutex_lock", [.locks], arg: 0, "POSIX pthread_mutex_lock(3)"),
        e("pthread_mutex_unlock", [.unlocks], arg: 0, "POSIX pthread_mutex_unlock(3)"),
        e("pthread_rwlock_wrlock", [.locks], arg: 0, "POSIX"),
        e("pthread_rwlock_rdlock", [.locks], arg: 0, "POSIX"),
        e("pthread_rwlock_unlock", [.unlocks], arg: 0, "POSIX"),
        e("PyThread_acquire_lock", [.locks], arg: 0, "pythread.h"),
        e("PyThread_acquire_lock_timed", [.locks], arg: 0, "pythread.h"),
        e("PyThread_release_lock", [.unlocks], arg: 0, "pythread.h"),
        e("EnterCriticalSection", [.locks], arg: 0, "Win32"),
        e("LeaveCriticalSection", [.unlocks], arg: 0, "Win32"),
        e("AcquireSRWLockExclusive", [.locks], arg: 0, "Win32"),
        e("ReleaseSRWLockExclusive", [.unlocks], arg: 0, "Win32"),
        e("AcquireSRWLockShared", [.locks], arg: 0, "Win32"),
        e("ReleaseSRWLockShared", [.unlocks], arg: 0, "Win32"),
        e("pthread_once", [.onceInit], arg: 1, "POSIX pthread_once(3)"),
        e("PyUnstable_Object_EnableDeferredRefcount", [], "c-api/object (3.14)"),
        // Critical sections as functions (c-api/init "Python Critical Section API")
        e("PyCriticalSection_Begin", [.beginsCriticalSection], arg: 1, "c-api/init: PyCriticalSection_Begin (3.13)"),
        // Argument parsing (c-api/arg): the objects stored through `O`, `O!`, `O&`… are the caller's
        e("PyArg_ParseTuple", [.unpacksArguments], "c-api/arg: PyArg_ParseTuple"),
        e("PyArg_ParseTupleAndKeywords", [.unpacksArguments], "c-api/arg: PyArg_ParseTupleAndKeywords"),
        e("PyArg_Parse", [.unpacksArguments], "c-api/arg: PyArg_Parse"),
        e("PyArg_UnpackTuple", [.unpacksArguments], "c-api/arg: PyArg_UnpackTuple"),
        e("PyArg_VaParse", [.unpacksArguments], "c-api/arg: PyArg_VaParse"),
        e("PyArg_VaParseTupleAndKeywords", [.unpacksArguments], "c-api/arg: PyArg_VaParseTupleAndKeywords"),
        e("_PyArg_ParseTupleAndKeywordsFast", [.unpacksArguments], "internal: Argument Clinic"),
        e("_PyArg_ParseStack", [.unpacksArguments], "internal: Argument Clinic"),
        e("_PyArg_ParseStackAndKeywords", [.unpacksArguments], "internal: Argument Clinic"),
        e("PyCriticalSection_End", [.endsCriticalSection], "c-api/init: PyCriticalSection_End (3.13)"),
        e("PyCriticalSection2_Begin", [.beginsCriticalSection], arg: 1, arg2: 2, "c-api/init: PyCriticalSection2_Begin"),
        e("PyCriticalSection2_End", [.endsCriticalSection], "c-api/init: PyCriticalSection2_End"),
        // Thread state (c-api/init "Thread State and the Global Interpreter Lock")
        e("PyEval_SaveThread", [.releasesGIL], "c-api/init: PyEval_SaveThread"),
        e("PyEval_RestoreThread", [.acquiresGIL], "c-api/init: PyEval_RestoreThread"),
        e("PyGILState_Ensure", [.acquiresGIL], "c-api/init: PyGILState_Ensure"),
        e("PyGILState_Release", [.releasesGIL], "c-api/init: PyGILState_Release"),
        e("_PyEval_StopTheWorld", [.stopsTheWorld], "internal/pycore_pystate.h"),
        e("_PyEval_StopTheWorldAll", [.stopsTheWorld], "internal/pycore_pystate.h"),
        e("_PyEval_StartTheWorld", [.startsTheWorld], "internal/pycore_pystate.h"),
        e("_PyEval_StartTheWorldAll", [.startsTheWorld], "internal/pycore_pystate.h"),
        // Other threads' frames (sys module docs; c-api/init)
        r("_PyThread_CurrentFrames", .new, [.foreignThreadSource], "sys._current_frames / Python/pystate.c"),
        r("_PyThread_CurrentExceptions", .new, [.foreignThreadSource], "sys._current_exceptions / Python/pystate.c"),
        r("PyInterpreterState_ThreadHead", .borrowed, [.foreignThreadSource], "c-api/init: PyInterpreterState_ThreadHead"),
        r("PyThreadState_Next", .borrowed, [.foreignThreadSource], "c-api/init: PyThreadState_Next"),
        r("PyThreadState_GetFrame", .new, [.readsFrame], arg: 0, "c-api/init: PyThreadState_GetFrame"),
        r("PyFrame_GetBack", .new, [.readsFrame], arg: 0, "c-api/frame: PyFrame_GetBack"),
        r("PyFrame_GetCode", .new, [.readsFrame], arg: 0, "c-api/frame: PyFrame_GetCode"),
        r("PyFrame_GetLocals", .new, [.readsFrame, .mayCallPython], arg: 0, "c-api/frame: PyFrame_GetLocals"),
        r("PyFrame_GetGlobals", .new, [.readsFrame], arg: 0, "c-api/frame"),
        r("PyFrame_GetBuiltins", .new, [.readsFrame], arg: 0, "c-api/frame"),
        e("PyFrame_GetLineNumber", [.readsFrame], arg: 0, "c-api/frame: PyFrame_GetLineNumber"),
        e("PyFrame_GetLasti", [.readsFrame], arg: 0, "c-api/frame"),
        e("PyCode_Addr2Line", [], "c-api/code"),
        r("_PyErr_GetTopmostException", .borrowed, [.readsFrame], arg: 0, "internal: reads tstate->exc_info of the given thread state"),
        e("traceback.extract_stack", [.readsFrame], arg: 0, "Python traceback module: walks f_back from the given frame"),
        e("traceback.format_stack", [.readsFrame], arg: 0, "Python traceback module"),
        e("traceback.print_stack", [.readsFrame], arg: 0, "Python traceback module"),
        e("traceback.walk_stack", [.readsFrame], arg: 0, "Python traceback module"),
        e("traceback.StackSummary.extract", [.readsFrame], arg: 0, "Python traceback module"),
        e("inspect.getframeinfo", [.readsFrame], arg: 0, "Python inspect module"),
        e("inspect.getouterframes", [.readsFrame], arg: 0, "Python inspect module"),
        e("inspect.getargvalues", [.readsFrame], arg: 0, "Python inspect module"),
        e("process_vm_readv", [.safeCopy], "Linux process_vm_readv(2)"),
        e("process_vm_writev", [.safeCopy], "Linux process_vm_readv(2)"),
        // Callbacks run on other threads or at other times
        e("_PyInterpreterState_SetEvalFrameFunc", [.installsAnyThreadCallback], arg: 1, "internal: PEP 523 eval-frame hook"),
        // PyEval_SetProfile/SetTrace set the *calling* thread's hook (c-api/init: "for the current
        // thread"); the AllThreads forms (3.12) set every thread's
        e("PyEval_SetProfile", [.installsAnyThreadCallback, .installsThreadCallback], arg: 0, arg2: 1, "c-api/init: profiling and tracing"),
        e("PyEval_SetTrace", [.installsAnyThreadCallback, .installsThreadCallback], arg: 0, arg2: 1, "c-api/init"),
        e("PyEval_SetProfileAllThreads", [.installsAnyThreadCallback], arg: 0, "c-api/init (3.12)"),
        e("PyEval_SetTraceAllThreads", [.installsAnyThreadCallback], arg: 0, "c-api/init (3.12)"),
        e("PyCode_AddWatcher", [.installsDestroyCallback], arg: 0, "c-api/code: PyCode_AddWatcher"),
        e("PyDict_AddWatcher", [.installsAnyThreadCallback], arg: 0, "c-api/dict"),
        e("PyType_AddWatcher", [.installsAnyThreadCallback], arg: 0, "c-api/type"),
        e("PyFunction_AddWatcher", [.installsAnyThreadCallback], arg: 0, "c-api/function"),
        e("PyRefTracer_SetTracer", [.installsAnyThreadCallback], arg: 0, "c-api/init (3.13)"),
        e("Py_AtExit", [.installsExitCallback], arg: 0, "c-api/sys: Py_AtExit"),
        e("atexit", [.installsExitCallback], arg: 0, "C standard library"),
        // a thread start: `arg` is the start routine, `arg2` the pointer the routine is given
        e("PyThread_start_new_thread", [.startsThread], arg: 0, arg2: 1, "pythread.h"),
        e("pthread_create", [.startsThread], arg: 2, arg2: 3, "POSIX pthread_create(3)"),
        e("_beginthreadex", [.startsThread], arg: 2, arg2: 3, "Win32"),
        e("CreateThread", [.startsThread], arg: 2, arg2: 3, "Win32"),
        // waiting for a thread to end: what it was given is no longer in use after these return
        e("pthread_join", [.joinsThread], arg: 0, "POSIX pthread_join(3)"),
        e("thrd_join", [.joinsThread], arg: 0, "C11 <threads.h>"),
        e("WaitForSingleObject", [.joinsThread], arg: 0, "Win32 (a thread handle is signaled when the thread ends)"),
        e("WaitForMultipleObjects", [.joinsThread], arg: 1, "Win32"),
        // a wait on a condition: how a thread that is not joined reports that it is done
        e("pthread_cond_wait", [.joinsThread], arg: 0, "POSIX pthread_cond_wait(3)"),
        e("pthread_cond_timedwait", [.joinsThread], arg: 0, "POSIX pthread_cond_timedwait(3)"),
        e("PyUnstable_Module_SetGIL", [.setsModuleGIL], arg: 1, "c-api/module: PyUnstable_Module_SetGIL (3.13)"),
        // Borrowed references from containers (howto/free-threading-extensions "Borrowed References")
        r("PyList_GetItem", .borrowed, [.borrowsFromContainer], arg: 0, replacement: "PyList_GetItemRef", "howto/free-threading-extensions"),
        r("PyList_GET_ITEM", .borrowed, [.borrowsFromContainer], arg: 0, replacement: "PyList_GetItemRef", "howto/free-threading-extensions"),
        // PySequence_Fast on a list returns the list itself: its items (and its item array) are
        // borrowed from a list other threads can mutate (c-api/sequence; howto/free-threading-extensions)
        r("PySequence_Fast_GET_ITEM", .borrowed, [.borrowsFromContainer], arg: 0, "c-api/sequence: PySequence_Fast_GET_ITEM"),
        r("PySequence_Fast_ITEMS", .borrowed, [.borrowsFromContainer], arg: 0, "c-api/sequence: PySequence_Fast_ITEMS"),
        r("PyDict_GetItem", .borrowed, [.borrowsFromContainer, .mayCallPython], arg: 0, replacement: "PyDict_GetItemRef", "howto/free-threading-extensions"),
        r("PyDict_GetItemWithError", .borrowed, [.borrowsFromContainer, .mayCallPython], arg: 0, replacement: "PyDict_GetItemRef", "howto/free-threading-extensions"),
        r("PyDict_GetItemString", .borrowed, [.borrowsFromContainer], arg: 0, replacement: "PyDict_GetItemStringRef", "howto/free-threading-extensions"),
        r("_PyDict_GetItemStringWithError", .borrowed, [.borrowsFromContainer], arg: 0, replacement: "PyDict_GetItemStringRef", "internal"),
        r("PyDict_SetDefault", .borrowed, [.borrowsFromContainer, .mutatesContainer], arg: 0, replacement: "PyDict_SetDefaultRef", "howto/free-threading-extensions"),
        e("PyDict_Next", [.borrowsFromContainer], arg: 0, "howto/free-threading-extensions: needs Py_BEGIN_CRITICAL_SECTION(dict)"),
        r("PyWeakref_GetObject", .borrowed, [.borrowsFromContainer, .borrowsFromAlwaysShared], arg: 0, replacement: "PyWeakref_GetRef", "howto/free-threading-extensions"),
        r("PyWeakref_GET_OBJECT", .borrowed, [.borrowsFromContainer, .borrowsFromAlwaysShared], arg: 0, replacement: "PyWeakref_GetRef", "howto/free-threading-extensions"),
        r("PyImport_AddModule", .borrowed, [.borrowsFromContainer, .borrowsFromAlwaysShared], replacement: "PyImport_AddModuleRef", "howto/free-threading-extensions"),
        r("PyImport_AddModuleObject", .borrowed, [.borrowsFromContainer, .borrowsFromAlwaysShared], replacement: "PyImport_AddModuleRef", "howto/free-threading-extensions"),
        r("PyCell_GET", .borrowed, [.borrowsFromContainer], arg: 0, replacement: "PyCell_Get", "howto/free-threading-extensions"),
        // Strong-reference replacements (safe)
        r("PyList_GetItemRef", .new, [], "c-api/list (3.13)"),
        r("PyDict_GetItemRef", .new, [.mayCallPython], "c-api/dict (3.13)"),
        r("PyDict_GetItemStringRef", .new, [], "c-api/dict (3.13)"),
        r("PyDict_SetDefaultRef", .new, [.mutatesContainer], arg: 0, "c-api/dict (3.13)"),
        r("PyWeakref_GetRef", .new, [], "c-api/weakref (3.13)"),
        r("PyImport_AddModuleRef", .new, [], "c-api/import (3.13)"),
        // importing returns a strong reference to the module (c-api/import)
        r("PyImport_ImportModule", .new, [.importsModule], arg: 0, "c-api/import: PyImport_ImportModule"),
        r("PyImport_ImportModuleNoBlock", .new, [.importsModule], arg: 0, "c-api/import: PyImport_ImportModuleNoBlock"),
        r("PyImport_ImportModuleLevel", .new, [.importsModule], arg: 0, "c-api/import: PyImport_ImportModuleLevel"),
        r("PyCell_Get", .new, [], "c-api/cell"),
        // Tuples are immutable: borrowing from them is fine
        r("PyTuple_GetItem", .borrowed, [], "c-api/tuple"),
        r("PyTuple_GET_ITEM", .borrowed, [], "c-api/tuple"),
        // Containers created fresh (unshared until published)
        r("PyList_New", .new, [.createsContainer], "c-api/list"),
        r("PyDict_New", .new, [.createsContainer], "c-api/dict"),
        r("PyDict_Copy", .new, [.createsContainer], "c-api/dict"),
        r("PySequence_List", .new, [.createsContainer, .mayCallPython], "c-api/sequence"),
        r("PyList_GetSlice", .new, [.createsContainer], "c-api/list"),
        r("PyDict_Keys", .new, [.createsContainer], "c-api/dict"),
        r("PyDict_Values", .new, [.createsContainer], "c-api/dict"),
        r("PyDict_Items", .new, [.createsContainer], "c-api/dict"),
        r("PyMapping_Keys", .new, [.createsContainer, .mayCallPython], "c-api/mapping"),
        r("PyMapping_Values", .new, [.createsContainer, .mayCallPython], "c-api/mapping"),
        r("PyMapping_Items", .new, [.createsContainer, .mayCallPython], "c-api/mapping"),
        r("PySequence_Tuple", .new, [.createsContainer, .mayCallPython], "c-api/sequence"),
        r("PyList_AsTuple", .new, [.createsContainer], "c-api/list"),
        r("PyTuple_New", .new, [.createsContainer], "c-api/tuple"),
        r("PySet_New", .new, [.createsContainer], "c-api/set"),
        r("PyFrozenSet_New", .new, [.createsContainer], "c-api/set"),
        r("PyObject_Dir", .new, [.createsContainer, .mayCallPython], "c-api/object"),
        e("PyObject_GetBuffer", [.pinsBuffer, .mayCallPython], arg: 1, "c-api/buffer: PyObject_GetBuffer"),
        e("PyBuffer_Release", [.releasesBuffer], arg: 0, "c-api/buffer: PyBuffer_Release"),
        e("PyObject_AsReadBuffer", [.exposesUnpinnedBuffer, .mayCallPython], arg: 1,
          "c-api/objbuffer: PyObject_AsReadBuffer (the view is released before it returns)"),
        e("PyObject_AsCharBuffer", [.exposesUnpinnedBuffer, .mayCallPython], arg: 1,
          "c-api/objbuffer: PyObject_AsCharBuffer (the view is released before it returns)"),
        e("PyObject_AsWriteBuffer", [.exposesUnpinnedBuffer, .mayCallPython], arg: 1,
          "c-api/objbuffer: PyObject_AsWriteBuffer (the view is released before it returns)"),
        // Container mutation (may drop the last reference to an element)
        e("PyList_SetItem", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/list"),
        e("PyList_SET_ITEM", [.mutatesContainer], arg: 0, "c-api/list"),
        e("PyList_Append", [.mutatesContainer], arg: 0, "c-api/list"),
        e("PyList_Insert", [.mutatesContainer], arg: 0, "c-api/list"),
        e("PyList_SetSlice", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/list"),
        e("PyList_Clear", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/list (3.13)"),
        e("PyList_Sort", [.mutatesContainer, .mayCallPython], arg: 0, "c-api/list"),
        e("PyList_Reverse", [.mutatesContainer], arg: 0, "c-api/list"),
        e("PyDict_SetItem", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict"),
        e("PyDict_SetItemString", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict"),
        e("PyDict_DelItem", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict"),
        e("PyDict_DelItemString", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict"),
        e("PyDict_Pop", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict (3.13)"),
        e("PyDict_PopString", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict (3.13)"),
        e("PyDict_Clear", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/dict"),
        e("PyDict_Update", [.mutatesContainer, .mayFreeObject, .mayCallPython], arg: 0, "c-api/dict"),
        e("PyDict_Merge", [.mutatesContainer, .mayFreeObject, .mayCallPython], arg: 0, "c-api/dict"),
        e("PyObject_SetItem", [.mutatesContainer, .mayFreeObject, .mayCallPython], arg: 0, "c-api/object"),
        e("PyObject_DelItem", [.mutatesContainer, .mayFreeObject, .mayCallPython], arg: 0, "c-api/object"),
        e("PySet_Add", [.mutatesContainer], arg: 0, "c-api/set"),
        e("PySet_Discard", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/set"),
        e("PySet_Clear", [.mutatesContainer, .mayFreeObject], arg: 0, "c-api/set"),
        // Reference counting (c-api/refcounting)
        e("Py_DECREF", [.mayFreeObject, .releasesReference], arg: 0, "c-api/refcounting"),
        e("Py_XDECREF", [.mayFreeObject, .releasesReference], arg: 0, "c-api/refcounting"),
        e("Py_DecRef", [.mayFreeObject, .releasesReference], arg: 0, "c-api/refcounting: Py_DecRef"),
        e("Py_XDecRef", [.mayFreeObject, .releasesReference], arg: 0, "c-api/refcounting: Py_XDecRef"),
        e("Py_CLEAR", [.mayFreeObject, .replacesReference], arg: 0, "c-api/refcounting: Py_CLEAR"),
        e("Py_SETREF", [.mayFreeObject, .replacesReference], arg: 0, "c-api/refcounting: Py_SETREF (3.12 public)"),
        e("Py_XSETREF", [.mayFreeObject, .replacesReference], arg: 0, "c-api/refcounting: Py_XSETREF"),
        e("Py_INCREF", [], "c-api/refcounting"),
        e("Py_XINCREF", [], "c-api/refcounting"),
        r("Py_NewRef", .new, [], "c-api/refcounting"),
        r("Py_XNewRef", .new, [], "c-api/refcounting"),
        // Atomics (cpython/pyatomic.h, C11 stdatomic.h)
        e("_Py_atomic_load_ptr", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_store_ptr", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_exchange_ptr", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_compare_exchange_ptr", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_load_ptr_acquire", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_store_ptr_release", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_load_ptr_relaxed", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("_Py_atomic_store_ptr_relaxed", [.atomicAccess], arg: 0, "cpython/pyatomic.h"),
        e("FT_ATOMIC_LOAD_PTR", [.atomicAccess], arg: 0, "internal/pycore_pyatomic_ft_wrappers.h"),
        e("FT_ATOMIC_STORE_PTR", [.atomicAccess], arg: 0, "internal/pycore_pyatomic_ft_wrappers.h"),
        e("FT_ATOMIC_LOAD_PTR_ACQUIRE", [.atomicAccess], arg: 0, "internal/pycore_pyatomic_ft_wrappers.h"),
        e("FT_ATOMIC_STORE_PTR_RELEASE", [.atomicAccess], arg: 0, "internal/pycore_pyatomic_ft_wrappers.h"),
        e("atomic_load", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("atomic_store", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("atomic_exchange", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("atomic_compare_exchange_strong", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("atomic_load_explicit", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("atomic_store_explicit", [.atomicAccess], arg: 0, "C11 stdatomic.h"),
        e("__atomic_load_n", [.atomicAccess], arg: 0, "GCC builtins"),
        e("__atomic_store_n", [.atomicAccess], arg: 0, "GCC builtins"),
        e("__sync_val_compare_and_swap", [.atomicAccess], arg: 0, "GCC builtins"),
        e("__sync_bool_compare_and_swap", [.atomicAccess], arg: 0, "GCC builtins"),
        e("_PyOnceFlag_CallOnce", [.onceInit], arg: 0, "internal/pycore_lock.h"),
        e("PyOnceFlag_CallOnce", [.onceInit], arg: 0, "internal"),
    ]

    /// CPython-internal functions exported to other files of the interpreter, with the Python-level
    /// operations that reach them (for explaining who calls an exported entry point).
    /// Sources: Python/sysmodule.c, Python/pylifecycle.c, Modules/posixmodule.c; gh-143228.
    public static let pythonRoutes: [String: String] = [
        "_PyPerfTrampoline_FreeArenas": "reached from sys.deactivate_stack_trampoline() (gh-143228) and from Py_FinalizeEx() while daemon threads still run",
        "_PyPerfTrampoline_Fini": "reached from sys.deactivate_stack_trampoline() and interpreter finalization",
        "_PyPerfTrampoline_Init": "reached from sys.activate_stack_trampoline() and sys.deactivate_stack_trampoline()",
        "_PyPerfTrampoline_AfterFork_Child": "reached from os.fork() in the child process",
        "PyUnstable_PerfTrampoline_CompileCode": "public C API, callable from any thread",
    ]

    public static let byName: [String: CAPIEntry] = {
        var d: [String: CAPIEntry] = [:]
        for x in entries { d[x.name] = x }
        return d
    }()

    public static func lookup(_ name: String) -> CAPIEntry? { byName[name] }

    /// The functions whose use makes a project's statement macro worth expanding: they take or
    /// drop a lock, release or take back the GIL, open or close a critical section, stop the
    /// world, or free memory.
    public static let macroExpansionTriggers: Set<String> = {
        let fx: CAPIEntry.Effects = [.locks, .unlocks, .releasesGIL, .acquiresGIL, .beginsCriticalSection,
                                     .endsCriticalSection, .stopsTheWorld, .startsTheWorld, .freesMemory]
        return Set(entries.filter { !$0.effects.isDisjoint(with: fx) }.map(\.name))
    }()

    public static let macroExpansionPolicy = MacroExpansionPolicy(triggers: macroExpansionTriggers)

    /// Functions of the C API (or libc) that never free memory reachable from their arguments and
    /// need no summary. Used to keep unknown-callee handling conservative only where it matters.
    public static func isKnown(_ name: String) -> Bool { byName[name] != nil }
}


/// What a member function of the C++ standard library does to the memory its object owns: a
/// container's element buffer, or the object a smart pointer owns. The walker records member
/// calls by name; when a call resolves to no member function of the project, this table says
/// what it does (`v.push_back(x)` may reallocate `v`'s buffer, `p.reset()` deletes `*p`).
public enum CPPLibrary {
    public enum MemberEffect: Sendable {
        /// Frees the owned memory, or may reallocate it (a reader's pointer into the old buffer dangles).
        case endsOwnedMemory
        /// Reads the owned memory (elements, the owned object).
        case usesOwnedMemory
    }

    public static func memberEffect(_ method: String) -> MemberEffect? { members[method] }

    static let members: [String: MemberEffect] = {
        var m: [String: MemberEffect] = [:]
        // [vector.modifiers], [deque.modifiers], [string.modifiers], [unord.req] (rehash on insert),
        // [unique.ptr.single.modifiers] / [util.smartptr.shared.mod] (reset)
        for n in ["push_back", "emplace_back", "push_front", "emplace_front", "insert", "emplace", "try_emplace",
                  "insert_or_assign", "resize", "reserve", "clear", "erase", "shrink_to_fit", "assign", "rehash",
                  "append", "reset"] {
            m[n] = .endsOwnedMemory
        }
        // element access, lookup and iteration ([sequence.reqmts], [associative.reqmts])
        for n in ["at", "front", "back", "data", "begin", "end", "rbegin", "rend", "cbegin", "cend", "find",
                  "equal_range", "lower_bound", "upper_bound", "c_str"] {
            m[n] = .usesOwnedMemory
        }
        return m
    }()

    /// Class templates of the standard library whose constructor takes a lock that their
    /// destructor releases ([thread.lock.guard], [thread.lock.unique], [thread.lock.scoped],
    /// [thread.lock.shared]).
    public static let lockGuards: Set<String> = ["lock_guard", "unique_lock", "scoped_lock", "shared_lock"]
}
