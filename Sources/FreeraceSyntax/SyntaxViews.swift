/// Typed views over `SyntaxTree` nodes. The tree stores nodes compactly (kind, token indices,
/// two small integers, a child range); what those integers and child positions mean is known
/// here only. Every layer above reads names (`declarator.isFunctionPointer`,
/// `cast.operand`), never `flags`, `aux` or `child(n, 1)` (swift-syntax's typed node views).
extension SyntaxTree {
    /// `static const struct S *` — storage class, qualifiers, the named type and its struct body.
    public struct Specifiers {
        public let node: Node
        public let id: Int32
        fileprivate let tree: SyntaxTree

        func has(_ bit: Int16) -> Bool { node.aux & bit != 0 }
        public var isStatic: Bool { has(SpecifierBits.static) }
        public var isExtern: Bool { has(SpecifierBits.extern) }
        public var isTypedef: Bool { has(SpecifierBits.typedef) }
        public var isThreadLocal: Bool { has(SpecifierBits.threadLocal) }
        public var isAtomic: Bool { has(SpecifierBits.atomic) }
        public var isBuiltin: Bool { has(SpecifierBits.builtin) }
        public var isStructOrUnion: Bool { has(SpecifierBits.struct) || has(SpecifierBits.union) }
        public var isEnum: Bool { has(SpecifierBits.enum) }
        /// Pointer stars written among the specifiers (a macro type such as `PyObject_VAR *`).
        public var pointerDepth: Int { Int(node.flags) }
        /// The token naming the type (identifier or tag), or -1.
        public var typeToken: Int32 { node.mainTok }
        public var structSpec: StructSpec? {
            tree.child(id, kind: .structSpec).map { StructSpec(node: tree[$0], id: $0) }
        }
    }

    /// `struct tag { … }` or `union tag`.
    public struct StructSpec {
        public let node: Node
        public let id: Int32
        public var isUnion: Bool { node.flags & 1 != 0 }
        public var hasBody: Bool { node.flags & 2 != 0 }
        /// The tag token, or -1 for an anonymous struct.
        public var tagToken: Int32 { node.mainTok }
    }

    /// `*name[4]`, `(*fp)(int)`, `name(params)`.
    public struct Declarator {
        public let node: Node
        public let id: Int32
        fileprivate let tree: SyntaxTree

        /// The declared name's token, or -1 (abstract declarator).
        public var nameToken: Int32 { node.mainTok }
        public var pointerDepth: Int { Int(node.aux) }
        public var isFunction: Bool { node.flags & DeclaratorFlags.function != 0 }
        public var isFunctionPointer: Bool { node.flags & DeclaratorFlags.functionPointer != 0 }
        public var isArray: Bool { node.flags & DeclaratorFlags.array != 0 }
        public var isReference: Bool { node.flags & DeclaratorFlags.reference != 0 }
        /// The parenthesized inner declarator of `(*fp)(int)` or `(*get(int))(char)`.
        public var nested: Declarator? { tree.child(id, kind: .declarator).map { Declarator(node: tree[$0], id: $0, tree: tree) } }
        public var parameterList: Int32? { tree.child(id, kind: .paramList) }
    }

    /// A macro used as a statement: its role from the catalogue, the region it opens or closes.
    public struct MacroStatement {
        public let node: Node
        public let id: Int32
        fileprivate let tree: SyntaxTree

        /// Not in the macro catalogue (its arguments and body are plain code).
        public var isUnknown: Bool { node.aux == 255 }
        public var role: MacroRole { MacroRole(rawValue: UInt8(truncatingIfNeeded: node.aux)) ?? .statement }
        /// The region a block macro opens or closes (`Py_BEGIN_CRITICAL_SECTION` → critical section).
        public var region: RegionKind? { node.flags > 0 ? RegionKind(rawValue: node.flags - 1) : nil }
        /// The macro's arguments (empty without parentheses).
        public var arguments: [Int32] { tree.child(id, kind: .argList).map { Array(tree.children($0)) } ?? [] }
        public var nameToken: Int32 { node.mainTok }
    }

    public func specifiers(_ id: Int32) -> Specifiers? {
        self[id].kind == .specifiers ? Specifiers(node: self[id], id: id, tree: self) : nil
    }

    public func declarator(_ id: Int32) -> Declarator? {
        self[id].kind == .declarator ? Declarator(node: self[id], id: id, tree: self) : nil
    }

    public func macroStatement(_ id: Int32) -> MacroStatement? {
        self[id].kind == .macroStmt ? MacroStatement(node: self[id], id: id, tree: self) : nil
    }

    /// The specifiers of a declaration, field, parameter or type name (its first child).
    public func declarationSpecifiers(_ id: Int32) -> Specifiers? {
        child(id, 0).flatMap { specifiers($0) }
    }

    /// The declarator of a parameter or type name (its second child), if any.
    public func declarationDeclarator(_ id: Int32) -> Int32? { child(id, 1) }

    /// An init-declarator's parts: `name = value`.
    public func initDeclaratorParts(_ id: Int32) -> (declarator: Declarator?, initializer: Int32?) {
        (child(id, 0).flatMap { declarator($0) }, child(id, 1))
    }

    /// `base.field` or `base->field`: the base expression, and whether it is `->`.
    public func memberParts(_ id: Int32) -> (base: Int32?, isArrow: Bool) {
        (child(id, 0), self[id].flags == 1)
    }

    /// The operand of `(T)x`, `(x)`, `*x`, `&x`, `-x`, `x++`, `sizeof x`, `return x`, `x;`.
    public func operand(_ id: Int32) -> Int32? {
        switch self[id].kind {
        case .cast: child(id, 1)
        default: child(id, 0)
        }
    }

    /// The type name of a cast `(T)x`.
    public func castType(_ id: Int32) -> Int32? { self[id].kind == .cast ? child(id, 0) : nil }

    /// A member declaration that is a macro head (`PyObject_HEAD`): the struct is a Python object.
    public func isMacroHeadField(_ id: Int32) -> Bool { self[id].kind == .fieldDecl && self[id].flags == 1 }
}
