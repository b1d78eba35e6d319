/// Kinds of C/C++ tokens. Trivia (whitespace, comments, directives) are tokens too, so that the
/// token list covers every byte of the file and round-trips.
public enum TokenKind: UInt8, Sendable {
    // trivia
    case whitespace, newline, lineComment, blockComment, directive, continuation
    // significant
    case identifier, number, string, char, unknown, eof

    // keywords (C and, for C++ files, C++)
    case kwAuto, kwBreak, kwCase, kwChar, kwConst, kwContinue, kwDefault, kwDo, kwDouble, kwElse
    case kwEnum, kwExtern, kwFloat, kwFor, kwGoto, kwIf, kwInline, kwInt, kwLong, kwRegister
    case kwRestrict, kwReturn, kwShort, kwSigned, kwSizeof, kwStatic, kwStruct, kwSwitch, kwTypedef
    case kwUnion, kwUnsigned, kwVoid, kwVolatile, kwWhile, kwBool, kwComplex, kwAtomic, kwAlignas
    case kwAlignof, kwNoreturn, kwStaticAssert, kwThreadLocal, kwGeneric, kwAttribute, kwDeclspec
    case kwAsm, kwExtension, kwTypeof, kwInt128
    // C++ only
    case kwClass, kwNamespace, kwTemplate, kwTypename, kwPublic, kwPrivate, kwProtected, kwVirtual
    case kwOperator, kwNew, kwDelete, kwThis, kwTry, kwCatch, kwThrow, kwUsing, kwFriend, kwConstexpr
    case kwNoexcept, kwCppCast, kwDecltype, kwExplicit, kwMutable

    // punctuators
    case lParen, rParen, lBracket, rBracket, lBrace, rBrace, semicolon, comma, colon, question
    case dot, ellipsis, arrow, plusPlus, minusMinus, amp, ampAmp, pipe, pipePipe, caret, tilde
    case bang, plus, minus, star, slash, percent, lt, gt, le, ge, eqEq, bangEq, shl, shr, assign
    case plusAssign, minusAssign, starAssign, slashAssign, percentAssign, ampAssign, pipeAssign
    case caretAssign, shlAssign, shrAssign, hash, hashHash, colonColon, arrowStar, dotStar, at

    public var isTrivia: Bool { rawValue <= TokenKind.continuation.rawValue }
    public var isKeyword: Bool { rawValue >= TokenKind.kwAuto.rawValue && rawValue <= TokenKind.kwMutable.rawValue }

    public var isAssignmentOperator: Bool {
        switch self {
        case .assign, .plusAssign, .minusAssign, .starAssign, .slashAssign, .percentAssign, .ampAssign,
             .pipeAssign, .caretAssign, .shlAssign, .shrAssign: true
        default: false
        }
    }

    /// Keywords that begin or continue a declaration's specifiers.
    public var isDeclSpecifierKeyword: Bool {
        switch self {
        case .kwAuto, .kwChar, .kwConst, .kwDouble, .kwEnum, .kwExtern, .kwFloat, .kwInline, .kwInt, .kwLong,
             .kwRegister, .kwRestrict, .kwShort, .kwSigned, .kwStatic, .kwStruct, .kwTypedef, .kwUnion,
             .kwUnsigned, .kwVoid, .kwVolatile, .kwBool, .kwComplex, .kwAtomic, .kwAlignas, .kwNoreturn,
             .kwThreadLocal, .kwAttribute, .kwDeclspec, .kwExtension, .kwTypeof, .kwInt128, .kwClass,
             .kwConstexpr, .kwVirtual, .kwExplicit, .kwMutable, .kwFriend, .kwTypename:
            true
        default: false
        }
    }

    /// Keywords that name or build a type (not storage classes or qualifiers).
    public var isTypeKeyword: Bool {
        switch self {
        case .kwChar, .kwDouble, .kwFloat, .kwInt, .kwLong, .kwShort, .kwSigned, .kwUnsigned, .kwVoid, .kwBool,
             .kwComplex, .kwStruct, .kwUnion, .kwEnum, .kwInt128, .kwTypeof, .kwClass:
            true
        default: false
        }
    }
}

/// A token: a kind and a byte range. Text is sliced from the file on demand.
public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    /// `Flags.lineStart`: first significant token of its line; `Flags.spaceBefore`: trivia precedes it.
    public var flags: UInt8
    public var start: UInt32
    public var length: UInt32

    public enum Flags {
        public static let lineStart: UInt8 = 1
        public static let spaceBefore: UInt8 = 2
    }

    public init(kind: TokenKind, flags: UInt8 = 0, start: Int, length: Int) {
        self.kind = kind
        self.flags = flags
        self.start = UInt32(truncatingIfNeeded: start)
        self.length = UInt32(truncatingIfNeeded: length)
    }

    public var end: Int { Int(start) + Int(length) }
    public var atLineStart: Bool { flags & Flags.lineStart != 0 }
}
