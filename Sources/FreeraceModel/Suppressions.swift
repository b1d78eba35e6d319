import Foundation
import FreeraceSyntax
/// Reads `freerace: ignore[CODES] reason` and `freerace: ignore-file[CODES] reason` comments.
public enum Suppressions {
    /// Whether `text` contains the ASCII `needle`.
    static func mentions(_ text: String, _ needle: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { hay in needle.withUTF8Buffer { ByteCursor.contains(hay, $0) } }
    }

    /// `comments`: (line, comment text, whether the comment is the first thing on its line).
    public static func parse(comments: [(Int, String, Bool)], commentPrefix: String) -> [Suppression] {
        var out: [Suppression] = []
        for (line, text, ownLine) in comments {
            // most comments are neither: a byte scan before any Foundation string search
            guard mentions(text, "freerace:") || mentions(text, "borrowed-ref") else { continue }
            // NumPy's borrowed-reference audit (tools/ci/check_c_api_usage.py): `OK` means the
            // maintainers reviewed the borrow as safe; `- manual fix needed` is still reported.
            if text.contains("noqa: borrowed-ref OK") {
                out.append(Suppression(line: line, codes: ["FR302"], fileLevel: false,
                                       reason: "audited by the project: noqa: borrowed-ref OK",
                                       appliesTo: ownLine ? line + countLines(text) : line, foreign: true))
                continue
            }
            guard let r = text.range(of: "freerace:") else { continue }
            var rest = text[r.upperBound...].drop { $0 == " " }
            var fileLevel = false
            if rest.hasPrefix("ignore-file") {
                fileLevel = true
                rest = rest.dropFirst("ignore-file".count)
            } else if rest.hasPrefix("ignore") {
                rest = rest.dropFirst("ignore".count)
            } else {
                continue
            }
            var codes: [String] = []
            if rest.hasPrefix("[") {
                if let close = rest.firstIndex(of: "]") {
                    codes = rest[rest.index(after: rest.startIndex)..<close]
                        .split(whereSeparator: { $0 == "," || $0 == " " }).map { String($0).uppercased() }
                    rest = rest[rest.index(after: close)...]
                }
            }
            var reason = String(rest).trimmingCharacters(in: " \t*/")
            if reason.hasPrefix("-") || reason.hasPrefix(":") { reason = String(reason.dropFirst()).trimmingCharacters(in: " ") }
            // a comment on a line of its own applies to the next line; a trailing one to its own line
            let applies = ownLine ? line + countLines(text) : line
            out.append(Suppression(line: line, codes: codes, fileLevel: fileLevel, reason: reason, appliesTo: applies))
        }
        return out
    }

    private static func countLines(_ s: String) -> Int {
        1 + s.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        trimmingCharacters(in: CharacterSet(charactersIn: set))
    }
}
