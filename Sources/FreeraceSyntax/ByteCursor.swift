#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one type in freerace that touches raw memory: a read position over a file's bytes.
/// Every read is bounds-checked against `end`, so reading past the end yields 0 and never traps.
public struct ByteCursor {
    @usableFromInline let base: UnsafeBufferPointer<UInt8>
    public var pos: Int
    public let end: Int

    @inlinable
    public init(_ base: UnsafeBufferPointer<UInt8>, start: Int = 0) {
        self.base = base
        self.pos = start
        self.end = base.count
    }

    @inlinable public var atEnd: Bool { pos >= end }

    /// The byte at `pos + ahead`, or 0 past the end.
    @inlinable
    public func peek(_ ahead: Int = 0) -> UInt8 {
        let i = pos + ahead
        return i < end && i >= 0 ? base[i] : 0
    }

    @inlinable
    public func byte(at i: Int) -> UInt8 { i < end && i >= 0 ? base[i] : 0 }

    @inlinable public mutating func advance(_ n: Int = 1) { pos = min(end, pos + n) }

    /// Advances while `pred` holds; returns the number of bytes skipped.
    @inlinable
    @discardableResult
    public mutating func skip(while pred: (UInt8) -> Bool) -> Int {
        let s = pos
        while pos < end, pred(base[pos]) { pos += 1 }
        return pos - s
    }

    /// Whether the bytes at `pos` equal `lit` (ASCII).
    @inlinable
    public func matches(_ lit: StaticString) -> Bool {
        let n = lit.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        let p = lit.utf8Start
        for k in 0..<n where base[pos + k] != p[k] { return false }
        return true
    }

    /// Whether bytes in `start..<start+len` equal `lit`.
    @inlinable
    public func equals(_ start: Int, _ len: Int, _ lit: StaticString) -> Bool {
        guard len == lit.utf8CodeUnitCount, start >= 0, start + len <= end else { return false }
        let p = lit.utf8Start
        for k in 0..<len where base[start + k] != p[k] { return false }
        return true
    }

    /// Finds the next `byte` at or after `pos`, or `end`.
    @inlinable
    public func find(_ byte: UInt8, from: Int) -> Int {
        var i = from
        while i < end, base[i] != byte { i += 1 }
        return i
    }
}

public enum ASCII {
    @inlinable public static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b == 0x24 || b >= 0x80
    }
    @inlinable public static func isIdentContinue(_ b: UInt8) -> Bool {
        isIdentStart(b) || (b >= 0x30 && b <= 0x39)
    }
    @inlinable public static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inlinable public static func isHorizontalSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0C || b == 0x0B || b == 0x0D
    }
}

extension ByteCursor {
    /// Whether `hay` contains the bytes of `needle` (plain byte comparison: no locale, no Unicode
    /// rules). The quick pre-filter used before any parsing: suppression comments, free-threading
    /// declarations, C++ markers.
    public static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = needle.count
        guard n > 0, hay.count >= n, let h = hay.baseAddress, let nb = needle.baseAddress else { return false }
        // candidates for the first byte by memchr, confirmed by memcmp
        let last = hay.count - n
        var i = 0
        while let at = firstIndex(of: nb[0], in: UnsafeBufferPointer(rebasing: hay[..<(last + 1)]), from: i) {
            if memcmp(h + at, nb, n) == 0 { return true }
            i = at + 1
        }
        return false
    }

    /// The first index at or after `from` holding `byte` (libc's memchr, vectorized), or nil.
    public static func firstIndex(of byte: UInt8, in hay: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int? {
        guard from < hay.count, let base = hay.baseAddress,
              let hit = memchr(base + from, Int32(byte), hay.count - from) else { return nil }
        return UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
    }

    /// Whether `bytes` contains any of `needles`.
    public static func containsAny(_ bytes: [UInt8], _ needles: [String]) -> Bool {
        bytes.withUnsafeBufferPointer { hay in
            needles.contains { needle in
                var needle = needle
                return needle.withUTF8 { contains(hay, $0) }
            }
        }
    }
}
