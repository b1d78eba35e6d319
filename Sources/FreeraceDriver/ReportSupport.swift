import Foundation
import FreeraceReport
import FreeraceSyntax

/// What the renderers need from the file system: the lines findings point at, and the folder
/// SARIF names files relative to.
public enum ReportSupport {
    /// Reads the lines of analyzed files, each file once. `overrides` are files whose contents
    /// did not come from disk (standard input), by the path they are reported at.
    public static func lineReader(overrides: [String: [UInt8]] = [:]) -> SourceLines {
        let cache = LineCache(overrides: overrides)
        return { path, line in cache.line(path, line) }
    }

    final class LineCache: @unchecked Sendable {
        private var files: [String: [ArraySlice<UInt8>]] = [:]
        private let overrides: [String: [UInt8]]
        private let lock = NSLock()

        init(overrides: [String: [UInt8]]) { self.overrides = overrides }

        func line(_ path: String, _ line: Int) -> [UInt8]? {
            lock.lock()
            defer { lock.unlock() }
            if files[path] == nil {
                guard var bytes = overrides[path] ?? FileSystem.contents(path) else { return nil }
                // as the analyzer read it: a lone CR ends a line
                SourceLoader.normalizeLoneCarriageReturns(&bytes)
                files[path] = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            }
            guard let lines = files[path], line >= 1, line <= lines.count else { return nil }
            var l = lines[line - 1]
            if l.last == 0x0D { l = l.dropLast() }
            return Array(l)
        }
    }

    /// The folder SARIF artifact URIs are relative to: the repository root (the nearest folder,
    /// from the current one upwards, that holds `.git`), so that code scanning finds the files
    /// however deep in the repository freerace ran; the current folder when there is none.
    public static func sarifSourceRoot() -> String {
        let cwd = FileSystem.currentDirectory()
        var finder = ProjectRoots(markers: [".git"])
        let root = finder.root(ofDirectory: FileSystem.normalize(cwd))
        return root.isEmpty ? cwd : root
    }
}
