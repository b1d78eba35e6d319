/// Node kinds of the C/C++ syntax tree.
public enum NodeKind: UInt8, Sendable {
    // top level and declarations
    case translationUnit
    case functionDef          // children: specifiers, declarator, [ctorInit], body(compound)
    case declaration          // children: specifiers, initDeclarator*
    case initDeclarator       // children: declarator, [initializer expr | initList]
    case specifiers           // mainTok: type-name token (identifier or tag) or -1; aux: SpecifierBits; children: structSpec/enumSpec/typeof expr
    case structSpec           // mainTok: tag or -1; flags: 1 = union, 2 = has body; children: fieldDecl / declarations / functionDef (C++)
    case enumSpec             // mainTok: tag or -1; children: enumerator*
    case enumerator           // mainTok: name; children: [value]
    case fieldDecl            // children: specifiers, declarator* (flags: 1 = macro head like PyObject_HEAD)
    case declarator           // mainTok: name or -1; aux: pointer depth; flags: DeclaratorFlags; children: [paramList] [nested declarator]
    case paramList            // children: paramDecl*; flags: 1 = variadic
    case paramDecl            // children: specifiers, declarator
    case typeName             // children: specifiers, declarator (abstract)
    case initList             // children: exprs / designatedInit
    case designatedInit       // children: designator*, value
    case designatorField      // mainTok: field name
    case designatorIndex      // children: index expr
    case namespaceDecl        // C++: children: declarations
    case linkageSpec          // extern "C" { ... }
    case macroDecl            // file-scope macro invocation (PyDoc_STRVAR(...)); mainTok: macro name
    case staticAssert
    // statements
    case compound, ifStmt, whileStmt, doStmt, forStmt, switchStmt, caseStmt, defaultStmt, labelStmt
    case gotoStmt, returnStmt, breakStmt, continueStmt, exprStmt, declStmt, emptyStmt, asmStmt
    case macroStmt            // mainTok: macro name; aux: MacroRole raw value or 255 (unknown); children: args, [body]
    case tryStmt              // C++
    case unparsed             // tokens the parser skipped to recover
    // expressions
    case ident, number, string, char, paren, call, index, member, postfix, prefix, cast, sizeofExpr
    case binary, assign, conditional, comma, compoundLiteral, stmtExpr, generic, lambda, newExpr, cppCast
    case argList              // grouping node for unknown-macro arguments
}

public enum SpecifierBits {
    public static let `static`: Int16 = 1
    public static let `extern`: Int16 = 2
    public static let `inline`: Int16 = 4
    public static let `typedef`: Int16 = 8
    public static let const: Int16 = 16
    public static let `struct`: Int16 = 32
    public static let union: Int16 = 64
    public static let `enum`: Int16 = 128
    public static let builtin: Int16 = 256
    public static let threadLocal: Int16 = 512
    public static let volatile: Int16 = 1024
    public static let atomic: Int16 = 2048
}

public enum DeclaratorFlags {
    public static let function: UInt8 = 1       // `name(params)`
    public static let functionPointer: UInt8 = 2 // `(*name)(params)`
    public static let array: UInt8 = 4
    public static let reference: UInt8 = 8       // C++ `&`
}

/// A node of the tree: kind, tokens it spans, and a slice of the child list.
public struct Node: Sendable {
    public var kind: NodeKind
    public var flags: UInt8
    public var aux: Int16
    /// The token that names or operates: the identifier, the operator, the macro name; -1 if none.
    public var mainTok: Int32
    public var firstTok: Int32
    /// Inclusive.
    public var lastTok: Int32
    public var childStart: Int32
    public var childCount: Int32
}

/// The syntax tree of one file: nodes in one array, children as index ranges into another.
/// Node 0 is the translation unit.
public struct SyntaxTree: Sendable {
    public var nodes: [Node] = []
    public var childIndices: [Int32] = []

    public init() {}

    @inlinable public subscript(_ i: Int32) -> Node { nodes[Int(i)] }

    @inlinable
    public func children(_ i: Int32) -> ArraySlice<Int32> {
        let n = nodes[Int(i)]
        return childIndices[Int(n.childStart)..<Int(n.childStart + n.childCount)]
    }

    @inlinable
    public func child(_ i: Int32, _ k: Int) -> Int32? {
        let n = nodes[Int(i)]
        return k < n.childCount ? childIndices[Int(n.childStart) + k] : nil
    }

    /// The first child of a given kind.
    public func child(_ i: Int32, kind: NodeKind) -> Int32? {
        children(i).first { nodes[Int($0)].kind == kind }
    }

    /// The parameter list of the function a declarator declares: its own, or for a function that
    /// returns a function pointer, `(*get(int))(char)`, the nested declarator's.
    public func functionParams(_ declarator: Int32) -> Int32? {
        if let inner = child(declarator, kind: .declarator), nodes[Int(inner)].flags & DeclaratorFlags.function != 0 {
            return child(inner, kind: .paramList)
        }
        return child(declarator, kind: .paramList)
    }

    /// Whether a declarator declares a function (possibly one returning a function pointer).
    public func declaresFunction(_ declarator: Int32) -> Bool {
        if nodes[Int(declarator)].flags & DeclaratorFlags.function != 0 { return true }
        if let inner = child(declarator, kind: .declarator) { return nodes[Int(inner)].flags & DeclaratorFlags.function != 0 }
        return false
    }

    /// Visits a subtree in pre-order without recursion (deep trees are safe).
    public func walk(_ root: Int32, _ visit: (Int32) -> Bool) {
        var stack: [Int32] = [root]
        while let n = stack.popLast() {
            guard visit(n) else { continue }
            let c = children(n)
            var k = c.endIndex
            while k > c.startIndex {
                k -= 1
                stack.append(c[k])
            }
        }
    }
}
