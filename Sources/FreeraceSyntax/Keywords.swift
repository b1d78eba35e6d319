/// Keyword lookup without allocating: identifiers of at most 16 bytes are packed into two words
/// and looked up in a small open-addressed table built once.
enum Keywords {
    private static let c: [(String, TokenKind)] = [
        ("auto", .kwAuto), ("break", .kwBreak), ("case", .kwCase), ("char", .kwChar), ("const", .kwConst),
        ("continue", .kwContinue), ("default", .kwDefault), ("do", .kwDo), ("double", .kwDouble),
        ("else", .kwElse), ("enum", .kwEnum), ("extern", .kwExtern), ("float", .kwFloat), ("for", .kwFor),
        ("goto", .kwGoto), ("if", .kwIf), ("inline", .kwInline), ("int", .kwInt), ("long", .kwLong),
        ("register", .kwRegister), ("restrict", .kwRestrict), ("return", .kwReturn), ("short", .kwShort),
        ("signed", .kwSigned), ("sizeof", .kwSizeof), ("static", .kwStatic), ("struct", .kwStruct),
        ("switch", .kwSwitch), ("typedef", .kwTypedef), ("union", .kwUnion), ("unsigned", .kwUnsigned),
        ("void", .kwVoid), ("volatile", .kwVolatile), ("while", .kwWhile), ("_Bool", .kwBool),
        ("_Complex", .kwComplex), ("__complex__", .kwComplex), ("_Atomic", .kwAtomic),
        ("_Alignas", .kwAlignas), ("_Alignof", .kwAlignof), ("__alignof__", .kwAlignof),
        ("__alignof", .kwAlignof), ("_Noreturn", .kwNoreturn), ("_Static_assert", .kwStaticAssert),
        ("_Thread_local", .kwThreadLocal), ("__thread", .kwThreadLocal), ("_Generic", .kwGeneric),
        ("__attribute__", .kwAttribute), ("__attribute", .kwAttribute), ("__declspec", .kwDeclspec),
        ("asm", .kwAsm), ("__asm__", .kwAsm), ("__asm", .kwAsm), ("__extension__", .kwExtension),
        ("typeof", .kwTypeof), ("__typeof__", .kwTypeof), ("__typeof", .kwTypeof),
        ("__int128", .kwInt128), ("__inline", .kwInline), ("__inline__", .kwInline),
        ("__forceinline", .kwInline), ("__restrict", .kwRestrict), ("__restrict__", .kwRestrict),
        ("__const", .kwConst), ("__volatile__", .kwVolatile), ("__volatile", .kwVolatile),
        ("__signed__", .kwSigned), ("__signed", .kwSigned), ("static_assert", .kwStaticAssert),
    ]
    private static let cpp: [(String, TokenKind)] = [
        ("class", .kwClass), ("namespace", .kwNamespace), ("template", .kwTemplate),
        ("typename", .kwTypename), ("public", .kwPublic), ("private", .kwPrivate),
        ("protected", .kwProtected), ("virtual", .kwVirtual), ("operator", .kwOperator), ("new", .kwNew),
        ("delete", .kwDelete), ("this", .kwThis), ("try", .kwTry), ("catch", .kwCatch), ("throw", .kwThrow),
        ("using", .kwUsing), ("friend", .kwFriend), ("constexpr", .kwConstexpr), ("noexcept", .kwNoexcept),
        ("static_cast", .kwCppCast), ("dynamic_cast", .kwCppCast), ("const_cast", .kwCppCast),
        ("reinterpret_cast", .kwCppCast), ("decltype", .kwDecltype), ("explicit", .kwExplicit),
        ("mutable", .kwMutable), ("bool", .kwBool), ("alignas", .kwAlignas), ("alignof", .kwAlignof),
        ("thread_local", .kwThreadLocal), ("consteval", .kwConstexpr), ("constinit", .kwConstexpr),
    ]

    private struct Entry { var lo: UInt64; var hi: UInt64; var len: UInt8; var kind: TokenKind; var cppOnly: Bool }
    private static let mask = 511
    private static let table: [Entry?] = {
        var t = [Entry?](repeating: nil, count: mask + 1)
        func add(_ word: String, _ kind: TokenKind, _ cppOnly: Bool) {
            let bytes = Array(word.utf8)
            let (lo, hi) = pack(bytes, 0, bytes.count)
            var h = hash(lo, hi, bytes.count) & mask
            while t[h] != nil { h = (h + 1) & mask }
            t[h] = Entry(lo: lo, hi: hi, len: UInt8(bytes.count), kind: kind, cppOnly: cppOnly)
        }
        for (w, k) in c { add(w, k, false) }
        for (w, k) in cpp { add(w, k, true) }
        return t
    }()

    @inline(__always)
    static func pack(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ n: Int) -> (UInt64, UInt64) {
        var lo: UInt64 = 0
        var hi: UInt64 = 0
        for k in 0..<n {
            let v = UInt64(b[s + k])
            if k < 8 { lo |= v << (8 * UInt64(k)) } else { hi |= v << (8 * UInt64(k - 8)) }
        }
        return (lo, hi)
    }

    static func pack(_ b: [UInt8], _ s: Int, _ n: Int) -> (UInt64, UInt64) {
        b.withUnsafeBufferPointer { pack($0, s, n) }
    }

    @inline(__always)
    static func hash(_ lo: UInt64, _ hi: UInt64, _ n: Int) -> Int {
        var h = lo &* 0x9E37_79B9_7F4A_7C15
        h ^= hi &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(n)
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// The keyword kind of the identifier at `s..<s+n`, or `.identifier`.
    @inline(__always)
    static func lookup(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ n: Int, cpp: Bool) -> TokenKind {
        guard n >= 2, n <= 16 else { return .identifier }
        let first = b[s]
        // every keyword starts with a lowercase letter or an underscore
        guard (first >= 0x61 && first <= 0x7A) || first == 0x5F else { return .identifier }
        let (lo, hi) = pack(b, s, n)
        var h = hash(lo, hi, n) & mask
        while let e = table[h] {
            if e.lo == lo, e.hi == hi, Int(e.len) == n { return e.cppOnly && !cpp ? .identifier : e.kind }
            h = (h + 1) & mask
        }
        return .identifier
    }
}
