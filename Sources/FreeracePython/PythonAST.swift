// The result types of the Python / Cython frontend. Plain values, all `Sendable`.

import FreeraceSyntax

/// A 1-based line and byte column.
public struct PyPos: Sendable, Hashable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// An expression. Positions: names and literals at their token, attributes at the attribute
/// name, calls / subscripts / binaries / conditionals at the start of the whole expression,
/// unary / cast / starred / await / lambda at their operator or keyword, collections and
/// comprehensions at their opening bracket (a bare tuple `a, b` at its first element).
///
/// Encodings worth knowing: a slice `a:b:c` is `.binary(":", .binary(":", a, b), c)` (missing parts
/// are `.unknown`); `yield x` is `.unary("yield", x)` (`"yield from"` likewise, a bare `yield`
/// yields `.literal("None")`); a walrus is `.binary(":=", target, value)`; Cython `sizeof(T)`
/// is `.call(.name("sizeof"), [T as .literal(typeText)])`; C++ `new T(...)` is `.unary("new", ...)`.
public indirect enum PyExpr: Sendable, Hashable {
    case name(String, PyPos)
    case attribute(PyExpr, String, PyPos)
    case call(PyExpr, [PyArg], PyPos)
    case `subscript`(PyExpr, PyExpr, PyPos)
    case cast(String, PyExpr, PyPos)
    case literal(String, PyPos)
    case collection([PyExpr], PyPos)
    case comprehension(element: PyExpr, target: PyExpr, iter: PyExpr, PyPos)
    case lambda([String], PyExpr, PyPos)
    case binary(String, PyExpr, PyExpr, PyPos)
    case unary(String, PyExpr, PyPos)
    case conditional(PyExpr, PyExpr, PyExpr, PyPos)
    case starred(PyExpr, PyPos)
    case await(PyExpr, PyPos)
    case unknown(PyPos)

    public var pos: PyPos {
        switch self {
        case .name(_, let p), .attribute(_, _, let p), .call(_, _, let p), .subscript(_, _, let p),
             .cast(_, _, let p), .literal(_, let p), .collection(_, let p), .comprehension(_, _, _, let p),
             .lambda(_, _, let p), .binary(_, _, _, let p), .unary(_, _, let p), .conditional(_, _, _, let p),
             .starred(_, let p), .await(_, let p), .unknown(let p):
            return p
        }
    }
}

public struct PyArg: Sendable, Hashable {
    public var name: String?
    public var value: PyExpr
    /// 0 plain, 1 `*value`, 2 `**value`.
    public var star: Int
    public init(name: String?, value: PyExpr, star: Int) {
        self.name = name
        self.value = value
        self.star = star
    }
}

public struct PyParam: Sendable, Hashable {
    public var name: String
    /// Python annotation text or Cython C type text (`char *`, `double[:, ::1]`).
    public var type: String?
    public var defaultValue: PyExpr?
    /// 0 plain, 1 `*args`, 2 `**kwargs`. The bare `*` and `/` markers are not listed.
    public var star: Int
    public init(name: String, type: String?, defaultValue: PyExpr?, star: Int) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.star = star
    }
}

public struct PyFunction: Sendable {
    public enum Kind: String, Sendable { case def, asyncDef, cdef, cpdef }
    public var name: String
    public var kind: Kind
    public var params: [PyParam]
    /// Python return annotation or Cython return type text.
    public var returnType: String?
    public var decorators: [PyExpr]
    /// Empty for a Cython prototype (`cdef int f(int x)` in a `.pxd`), which is not counted.
    public var body: [PyStmt]
    /// Position of the name.
    public var pos: PyPos
    public var endLine: Int
    /// Cython `nogil` in the signature.
    public var nogil: Bool
    /// The header or body (nested functions included) needed error recovery.
    public var recovered: Bool
    public init(name: String, kind: Kind, params: [PyParam], returnType: String?, decorators: [PyExpr],
                body: [PyStmt], pos: PyPos, endLine: Int, nogil: Bool, recovered: Bool) {
        self.name = name
        self.kind = kind
        self.params = params
        self.returnType = returnType
        self.decorators = decorators
        self.body = body
        self.pos = pos
        self.endLine = endLine
        self.nogil = nogil
        self.recovered = recovered
    }
}

public struct PyClass: Sendable {
    public var name: String
    /// Positional bases (keywords such as `metaclass=` are left out).
    public var bases: [PyExpr]
    public var body: [PyStmt]
    public var pos: PyPos
    /// `cdef class` (extension type).
    public var isCdef: Bool
    public init(name: String, bases: [PyExpr], body: [PyStmt], pos: PyPos, isCdef: Bool) {
        self.name = name
        self.bases = bases
        self.body = body
        self.pos = pos
        self.isCdef = isCdef
    }
}

/// Cython `cdef extern from "header.h":` (or `from *`) block.
public struct PyExternDecl: Sendable {
    public var header: String
    public var functions: [PyExternFunction]
    public var structs: [PyExternStruct]
    public var typedefs: [String: String]
    public var pos: PyPos
    public init(header: String, functions: [PyExternFunction], structs: [PyExternStruct],
                typedefs: [String: String], pos: PyPos) {
        self.header = header
        self.functions = functions
        self.structs = structs
        self.typedefs = typedefs
        self.pos = pos
    }
}

public struct PyExternFunction: Sendable, Hashable {
    public var name: String
    public var returnType: String
    /// Parameter declarations as written (`char *s`, `int`, `...`).
    public var params: [String]
    public var pos: PyPos
    public init(name: String, returnType: String, params: [String], pos: PyPos) {
        self.name = name
        self.returnType = returnType
        self.params = params
        self.pos = pos
    }
}

public struct PyExternStruct: Sendable, Hashable {
    public var name: String
    public var fields: [PyField]
    public var pos: PyPos
    public init(name: String, fields: [PyField], pos: PyPos) {
        self.name = name
        self.fields = fields
        self.pos = pos
    }
}

public struct PyField: Sendable, Hashable {
    public var name: String
    public var type: String
    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}

public struct PyWithItem: Sendable {
    public var context: PyExpr
    public var target: PyExpr?
    public init(context: PyExpr, target: PyExpr?) {
        self.context = context
        self.target = target
    }
}

public struct PyBranch: Sendable {
    public var test: PyExpr
    public var body: [PyStmt]
    public init(test: PyExpr, body: [PyStmt]) {
        self.test = test
        self.body = body
    }
}

public struct PyHandler: Sendable {
    public var type: PyExpr?
    public var name: String?
    public var body: [PyStmt]
    public init(type: PyExpr?, name: String?, body: [PyStmt]) {
        self.type = type
        self.name = name
        self.body = body
    }
}

public struct PyImportName: Sendable, Hashable {
    public var name: String
    public var alias: String?
    public init(name: String, alias: String?) {
        self.name = name
        self.alias = alias
    }
}

/// A statement. A `match` statement is given as `.ifStmt` with one branch per `case`, whose test is
/// `.binary("match", subject, pattern)` (with a guard: `.binary("and", thatMatch, guard)`).
/// `type X = T` is `.assign([X], T)`. Python 2 `print x` / `exec x` are `.expr(.call(print, [x]))`.
public indirect enum PyStmtKind: Sendable {
    case expr(PyExpr)
    case assign(targets: [PyExpr], value: PyExpr)
    case augAssign(target: PyExpr, op: String, value: PyExpr)
    case declare(names: [String], type: String, values: [PyExpr?])
    case ret(PyExpr?)
    case ifStmt(branches: [PyBranch], orelse: [PyStmt])
    case compileTimeIf(branches: [PyBranch], orelse: [PyStmt])
    case whileStmt(test: PyExpr, body: [PyStmt], orelse: [PyStmt])
    case forStmt(target: PyExpr, iter: PyExpr, body: [PyStmt], orelse: [PyStmt])
    case with(items: [PyWithItem], body: [PyStmt])
    case tryStmt(body: [PyStmt], handlers: [PyHandler], orelse: [PyStmt], finally: [PyStmt])
    case function(PyFunction)
    case classDef(PyClass)
    case importFrom(module: String, names: [PyImportName], cimport: Bool)
    case importModules([PyImportName], cimport: Bool)
    case externBlock(PyExternDecl)
    case include(String)
    case global([String])
    case raise(PyExpr?)
    case delete([PyExpr])
    case pass, breakStmt, continueStmt
    case other
    case unparsed(String)
}

public struct PyStmt: Sendable {
    public var kind: PyStmtKind
    public var pos: PyPos
    public init(kind: PyStmtKind, pos: PyPos) {
        self.kind = kind
        self.pos = pos
    }
}

/// A comment; `text` includes the leading `#`. `ownLine`: only whitespace before it on its line.
public struct PyComment: Sendable, Hashable {
    public var line: Int
    public var text: String
    public var ownLine: Bool
    public init(line: Int, text: String, ownLine: Bool) {
        self.line = line
        self.text = text
        self.ownLine = ownLine
    }
}

public struct PyParsedFile: Sendable {
    public var path: String
    public var isCython: Bool
    public var body: [PyStmt]
    public var comments: [PyComment]
    /// Cython header directives from `# cython: key=value, key2=value2` comment lines before the
    /// first statement (e.g. "freethreading_compatible": "True").
    public var directives: [String: String]
    /// Every function with a body (def/cdef/cpdef/async, nested and methods included), and how many
    /// needed recovery. Cython prototypes without a body are not counted.
    public var functionCount: Int
    public var recoveredFunctionCount: Int
    /// Recoveries outside any function.
    public var fileScopeRecoveries: Int
    public var diagnostics: [LineDiagnostic]
    public init(path: String, isCython: Bool, body: [PyStmt], comments: [PyComment], directives: [String: String],
                functionCount: Int, recoveredFunctionCount: Int, fileScopeRecoveries: Int, diagnostics: [LineDiagnostic]) {
        self.path = path
        self.isCython = isCython
        self.body = body
        self.comments = comments
        self.directives = directives
        self.functionCount = functionCount
        self.recoveredFunctionCount = recoveredFunctionCount
        self.fileScopeRecoveries = fileScopeRecoveries
        self.diagnostics = diagnostics
    }
}
