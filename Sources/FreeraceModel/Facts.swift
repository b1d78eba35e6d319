import FreeraceSyntax

/// A C type as far as the analysis needs it: the base name (typedef name or struct tag or
/// builtin), pointer levels, and a few flags.
public struct TypeRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var pointers: Int
    public var isFunctionPointer: Bool
    public var isArray: Bool
    public var isAtomic: Bool

    public init(name: String, pointers: Int = 0, isFunctionPointer: Bool = false, isArray: Bool = false,
                isAtomic: Bool = false) {
        self.name = name
        self.pointers = pointers
        self.isFunctionPointer = isFunctionPointer
        self.isArray = isArray
        self.isAtomic = isAtomic
    }

    public var description: String { name + String(repeating: "*", count: pointers) }
    public var isPyObjectPointer: Bool { name == "PyObject" && pointers == 1 }
}

/// A place in memory named by an expression: a root variable and a chain of fields, as in
/// `self->keys->indices` (root `self`, fields `keys`, `indices`). Indexing and dereference keep
/// the same path (the analysis does not distinguish elements).
public struct AccessPath: Sendable, Hashable, Codable {
    public enum Root: Sendable, Hashable, Codable {
        case param(Int)
        case local
        case global
        case unknown
    }
    public var root: Root
    public var name: String
    /// Declared type of the root, or the type it was cast to (`((T *)op)->f`).
    public var rootType: TypeRef?
    public var fields: [String]
    /// Source text, for messages.
    public var text: String

    public init(root: Root, name: String, rootType: TypeRef?, fields: [String] = [], text: String) {
        self.root = root
        self.name = name
        self.rootType = rootType
        self.fields = fields
        self.text = text
    }

    /// `name.f1.f2`: identity of the place, independent of spelling.
    public var key: String {
        if fields.isEmpty { return name }
        var k = name
        for f in fields {
            k += "."
            k += f
        }
        return k
    }

    public func appending(_ field: String, text: String) -> AccessPath {
        var p = self
        p.fields.append(field)
        p.text = text
        return p
    }

    public static func == (a: AccessPath, b: AccessPath) -> Bool {
        a.root == b.root && a.name == b.name && a.fields == b.fields
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(fields)
    }
}

/// The abstract value of an expression, enough to follow where pointers come from.
public indirect enum Value: Sendable, Hashable, Codable {
    /// The current content of a place (a variable or a field).
    case path(AccessPath)
    case addressOf(AccessPath)
    /// The result of `calls[i]` of the enclosing function.
    case call(Int)
    case cast(TypeRef, Value)
    /// Pointer arithmetic or indexing: the value points into the same memory as its base.
    case offset(Value)
    case choice([Value])
    case null
    case literal(String)
    case string
    case unknown

    /// The value with casts and offsets removed.
    public var stripped: Value {
        switch self {
        case .cast(_, let v), .offset(let v): return v.stripped
        default: return self
        }
    }

    /// The place whose content this value is, if it is one (through casts).
    public var path: AccessPath? {
        if case .path(let p) = stripped { return p }
        return nil
    }
}

/// Where in the code a fact was seen.
public struct Pos: Sendable, Hashable, Codable, Comparable {
    public var line: Int32
    public var column: Int32
    public init(line: Int, column: Int) {
        self.line = Int32(truncatingIfNeeded: line)
        self.column = Int32(truncatingIfNeeded: column)
    }
    public static func < (a: Pos, b: Pos) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// A lock, critical section, GIL state or stop-the-world in force over a span of a function.
public struct RegionFact: Sendable, Hashable, Codable {
    public var kind: RegionKind
    /// What it protects: the object of a critical section, the mutex of a lock (nil for GIL and stop-the-world).
    public var subject: AccessPath?
    public var subjects2: AccessPath?
    public var begin: Pos
    public var end: Pos
    /// The macro or function that opened it (`Py_BEGIN_CRITICAL_SECTION`, `PyMutex_Lock`).
    public var opener: String
}

/// A call site.
public struct CallFact: Sendable, Codable {
    /// The function called by name, or nil for a call through a pointer.
    public var callee: String?
    /// For a call through a pointer: the pointer's value.
    public var target: Value?
    public var args: [Value]
    public var argTexts: [String]
    public var pos: Pos
    /// Indices into the function's `regions` active at the call.
    public var regions: [Int]
    /// Field paths read by the conditions of the `if`/`while` statements around the call.
    public var guards: [AccessPath]
    /// Whether the call's result is discarded, assigned, or used in an expression.
    public var resultUse: ResultUse
    /// Bit i: argument i is pointer arithmetic (`self->xy + i * 2`), a pointer into the middle of
    /// its base's memory. Such a pointer is never the one to free, so a callee that frees its
    /// parameter does not free the base's memory through it (it frees something it made itself).
    public var interiorArgs: UInt64 = 0

    public enum ResultUse: UInt8, Sendable, Codable { case discarded, assigned, used }

    /// A C++ member call (`obj->m(a)`, `obj.m(a)`, `m(a)` inside a member of the same class):
    /// the method's name, with `callee` nil (a method is not a C-API function of that name).
    public var method: String? = nil
    /// The object a C++ member call runs on: the value of `obj` for `obj->m()`, `&obj` for
    /// `obj.m()`, the caller's `this` for an unqualified call of a sibling method. `Program` moves
    /// it to the callee's `this` parameter once the call is resolved.
    public var receiver: Value? = nil

    /// `lib_query(&self->conn, …)`: the ops that stand for the callee's use of a place whose
    /// address an argument passes (`ops[op]`, a read, and `ops[op + 1]`, a use). They count when
    /// the callee is a library function. A helper of the project that takes the place as `T **`
    /// loads it itself (`*field`): its own summary has that use, under the locks it holds there.
    public var addressArgumentUses: [AddressArgumentUse] = []

    public struct AddressArgumentUse: Sendable, Codable, Hashable {
        public var arg: Int32
        public var op: Int32
    }

    /// A call in a block that ends by leaving the function (`{ PyBuffer_Release(&view); return
    /// NULL; }`, `… goto error; }`): the op index where that block ends. The ops from there on
    /// are not reached after this call — an error path's cleanup does not end anything for the
    /// code that follows the block.
    public var exitBlockEnd: Int32? = nil

    /// Whether op `op` can run after this call (it is not past the end of a leaving block).
    public func mayPrecede(op: Int) -> Bool { exitBlockEnd.map { op < Int($0) } ?? true }

    public func isInterior(_ i: Int) -> Bool { i < 64 && interiorArgs & (1 << UInt64(i)) != 0 }
}

/// One step of a function body, in source order.
public enum Op: Sendable, Codable {
    /// `target = value` (compound assignments too).
    case assign(target: AccessPath, value: Value, pos: Pos, regions: [Int])
    /// A read of a field or a global.
    case read(AccessPath, pos: Pos, regions: [Int])
    /// The memory a field or global points to is used: indexed, dereferenced, followed with `->`,
    /// passed to a call, or copied into a local pointer. (A NULL check or a comparison is a read
    /// of the pointer, not a use of what it points to.)
    case deref(AccessPath, pos: Pos, regions: [Int])
    /// `calls[i]` happens here.
    case call(Int)
    case ret(Value, pos: Pos)
}

public struct ParamFact: Sendable, Codable {
    public var name: String
    public var type: TypeRef
}

/// Everything the rules need about one function body.
public struct FunctionFacts: Sendable, Codable {
    public var name: String
    public var file: String
    public var pos: Pos
    public var isStatic: Bool
    public var returnType: TypeRef
    public var params: [ParamFact]
    public var locals: [String: TypeRef]
    public var regions: [RegionFact]
    public var calls: [CallFact]
    public var ops: [Op]
    /// Names of functions whose address is taken in this body (stored or passed, not called).
    public var functionRefs: [FunctionRef]
    /// End of the body.
    public var endPos: Pos
    /// For assignments under `if`/`while` conditions: op index → keys of the places the conditions read.
    public var guardedAssignments: [Int: [String]] = [:]
    /// Early exits on a flag of an object: `if self.running: raise …`, `if (self->closed) return NULL;`
    /// (a state guard: what follows runs only while the flag is not set).
    public var exitGuards: [ExitGuard] = []
    public var language: Language
    /// For Cython `with nogil` / Python functions etc.: extra facts from the other frontends.
    public var attributes: [String] = []
    /// A method of a Cython extension type (`cdef class Packer`): the type's name. Its C
    /// attributes are the fields of the object struct of that name, as `self->f` in C.
    public var extensionType: String? = nil
    /// A C++ member function (defined in its class's body, or out of line as `T::f`): the class.
    public var memberOf: String? = nil
    /// The index of the implicit `this` parameter (appended after the declared ones) of a
    /// non-static member function whose class is known: `this->f` and a bare member `f` are
    /// fields of that parameter, and callers pass the object they call the method on there.
    public var thisIndex: Int? = nil
    /// Structs defined inside the body (`struct trans_put { MDB_val key; … } arg;`), by tag: the
    /// member types of a local of such a type.
    public var localStructs: [String: [FieldFact]] = [:]
    /// Assignments (op indices) that store through a pointer local or parameter (`*p = v`,
    /// `p[i] = v`): recorded on `p`'s own path, but they do not change what `p` points to.
    public var storesThrough: Set<Int> = []

    public var location: Location { Location(path: file, line: Int(pos.line), column: Int(pos.column)) }

    /// The name a report shows: `Class::method` for a C++ member function, else the name.
    public var displayName: String { memberOf.map { "\($0)::\(name)" } ?? name }

    /// Gives back the spare capacity the extractor's appends left in the large arrays (up to half
    /// of them): facts of every file stay in memory for the whole run.
    public mutating func compact() {
        func fit<T>(_ a: inout [T]) { if a.capacity > a.count { a = a.map { $0 } } }
        fit(&ops)
        fit(&calls)
        fit(&regions)
        fit(&functionRefs)
    }
    public func location(_ p: Pos) -> Location { Location(path: file, line: Int(p.line), column: Int(p.column)) }
}

/// An early exit taken when a field holds a value: `if self._running == 1: raise …` (value `1`),
/// `if (self->closed) { …; return NULL; }` (value nil: any non-zero value).
public struct ExitGuard: Sendable, Codable, Hashable {
    public var place: AccessPath
    /// The literal the field is compared with (`==`), or nil for a truth test.
    public var value: String?
    public var pos: Pos
    public init(place: AccessPath, value: String?, pos: Pos) {
        self.place = place
        self.value = value
        self.pos = pos
    }

    /// Whether storing `literal` into the field makes the guard leave: the same literal, or any
    /// non-zero one for a truth test.
    public func leaves(on literal: String) -> Bool {
        let v = Self.normalized(literal)
        if let want = value { return Self.normalized(want) == v }
        return !["0", "NULL", "None", "0.0", "nullptr", "\"\""].contains(v)
    }

    static func normalized(_ s: String) -> String {
        switch s {
        case "True", "true": "1"
        case "False", "false": "0"
        default: s
        }
    }
}

/// A function named without being called: stored in a field or global, or passed as an argument.
public struct FunctionRef: Sendable, Codable, Hashable {
    public var name: String
    /// Where it went: `interp->eval_frame`, or `arg 1 of _PyInterpreterState_SetEvalFrameFunc`.
    public var destination: Destination
    public var pos: Pos

    public enum Destination: Sendable, Codable, Hashable {
        case store(AccessPath)
        case argument(callee: String, index: Int)
        case other
    }
}

public struct FieldFact: Sendable, Codable {
    public var name: String
    public var type: TypeRef
}

public struct StructFacts: Sendable, Codable {
    /// Struct tag, or the typedef name for an anonymous struct.
    public var name: String
    public var typedefNames: [String]
    public var fields: [FieldFact]
    /// Starts with `PyObject_HEAD`, `PyObject_VAR_HEAD` or a `PyObject ob_base` member (a Python object).
    public var isPythonObject: Bool
    public var file: String
    public var pos: Pos
    /// C++: names of the member functions the class declares or defines.
    public var methods: [String] = []
    /// C++: static data members and static member functions (no `this`).
    public var staticMembers: [String] = []
    /// C++: the base classes named in the class head (`class B : public A`).
    public var bases: [String] = []
    /// C++: a scoped lock guard, whose constructor takes a lock (its destructor releases it).
    public var isLockGuard = false
}

/// An initializer, kept as a tree so tables can be read by their declared type.
public indirect enum InitValue: Sendable, Codable {
    case list([InitEntry])
    case value(Value, text: String)

    public var entries: [InitEntry] {
        if case .list(let e) = self { return e }
        return []
    }
    public var text: String? {
        if case .value(_, let t) = self { return t }
        return nil
    }
}

public struct InitEntry: Sendable, Codable {
    public var designator: String?
    public var value: InitValue
    public var pos: Pos
}

public struct GlobalFacts: Sendable, Codable {
    public var name: String
    public var type: TypeRef
    public var isStatic: Bool
    public var isExtern: Bool
    public var isThreadLocal: Bool
    public var initializer: InitValue?
    public var file: String
    public var pos: Pos
}

/// Facts about one file from any frontend.
public struct FileFacts: Sendable, Codable {
    public var path: String
    public var language: Language
    public var functions: [FunctionFacts] = []
    public var structs: [StructFacts] = []
    /// typedef name → type it names.
    public var typedefs: [String: TypeRef] = [:]
    public var globals: [GlobalFacts] = []
    /// Object-like `#define NAME body` whose body is a place (`_PyRuntime.ceval.perf.code_arena`).
    public var placeMacros: [String: String] = [:]
    /// Function-like macros whose body is one call to a C-API function with lock, critical-section,
    /// GIL or memory effects: `#define LOCK() PyMutex_Lock(&mutex)` → (parameters, callee, argument texts).
    public var callMacros: [String: CallMacro] = [:]
    /// Function-like macros whose value is a new Python object (`#define MyAlloc(s, t) (s *)
    /// t.tp_alloc(&t, 0)`, `#define NEW(T) PyObject_New(T, &T##_Type)`): a call to one allocates.
    public var allocMacros: [String] = []
    /// Function-like macros that forward their arguments, in order, to a function
    /// (`#define pack_append(user, buf, len) return pack_write(user, (const char *)buf, len)`):
    /// macro name → the function. A call to one is a call to that function, in every file of the
    /// project (a template header uses the macro its includer defines).
    public var forwardingMacros: [String: String] = [:]
    /// Statement macros worth expanding where they are used (`MacroExpander`), for the project's
    /// other files.
    public var statementMacros: [String: ExpandableMacro] = [:]
    public var includes: [String] = []
    public var suppressions: [Suppression] = []
    /// Calls of `PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)` and Cython's directive.
    public var declaresGILFree: [Pos] = []
    /// Parse warnings, at their line and byte column.
    public var warnings: [LineDiagnostic] = []
    /// Parse health of this file.
    public var functionCount = 0
    public var recoveredFunctions = 0
    /// Python/Cython: thread entry points (`threading.Thread(target=f)`).
    public var threadTargets: [ThreadTarget] = []

    public init(path: String, language: Language) {
        self.path = path
        self.language = language
    }
}

public struct CallMacro: Sendable, Codable {
    public var parameters: [String]
    public var callee: String
    public var arguments: [String]
}

public struct ThreadTarget: Sendable, Codable {
    public var function: String
    public var how: String
    public var pos: Pos
}

/// `freerace: ignore[FR301, FR302] reason` on a line (or the line before), or `ignore-file[...]`.
public struct Suppression: Sendable, Codable, Hashable {
    public var line: Int
    public var codes: [String]
    public var fileLevel: Bool
    public var reason: String
    /// The line the suppression applies to (its own line if code precedes it, else the next).
    public var appliesTo: Int
    /// Another tool's audit marker that freerace honours (never reported as unused).
    public var foreign = false
}

/// Call-like and place-like macros collected from a project's headers, for the files that use
/// them without defining them.
public struct ProjectMacros: Sendable {
    public var call: [String: CallMacro] = [:]
    public var place: [String: String] = [:]
    public var statement: [String: ExpandableMacro] = [:]
    /// C++ classes of the headers, by name: the members an out-of-line definition `T::f` in a
    /// source file reaches through its implicit `this`.
    public var classes: [String: StructFacts] = [:]
    public init() {}

    /// Adds a header's macros; the first definition of a name wins (headers in path order).
    public mutating func add(_ f: FileFacts) {
        if f.language == .cpp {
            for s in f.structs where !s.name.isEmpty && (!s.methods.isEmpty || !s.bases.isEmpty || s.isLockGuard) {
                if classes[s.name] == nil { classes[s.name] = s }
            }
        }
        for (k, v) in f.callMacros where call[k] == nil { call[k] = v }
        for (k, v) in f.placeMacros where place[k] == nil { place[k] = v }
        for (k, v) in f.statementMacros where statement[k] == nil { statement[k] = v }
    }
}
