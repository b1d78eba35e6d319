import FreeraceRules

/// Rule documentation as text (`freerace explain`) and Markdown (`docs/rules/CODE.md`).
public enum RuleDocs {
    public static func markdown(_ r: any Rule) -> String {
        var s = "# \(r.code) \(r.name)\n\n"
        s += "*\(r.summary).*\n\n"
        s += "Maturity: \(r.maturity.rawValue). Languages: \(r.languages.map(\.rawValue).joined(separator: ", ")).\n\n"
        s += "## What it does\n\n\(r.doc.whatItDoes)\n\n"
        s += "## Why is this bad?\n\n\(r.doc.whyIsThisBad)\n\n"
        s += "## Example\n\n```\n\(r.doc.example)\n```\n\n"
        s += "## Use instead\n\n\(r.doc.useInstead)\n\n"
        s += "## Known limitations\n\n\(r.doc.knownLimitations)\n\n"
        s += "## References\n\n" + r.doc.references.map { "- \($0)\n" }.joined()
        return s
    }

    /// The generated documentation files: one per rule and an index (`docs/rules/`).
    public static func files(rules: [any Rule] = RuleRegistry.all) -> [(String, String)] {
        var index = "# freerace rules\n\nGenerated from the rules' documentation by `freerace generate-docs`; do not edit.\n\n"
        index += "| code | name | summary |\n|---|---|---|\n"
        var out: [(String, String)] = []
        for r in rules {
            index += "| [\(r.code)](\(r.code).md) | `\(r.name)` | \(r.summary) |\n"
            out.append(("\(r.code).md", markdown(r)))
        }
        out.append(("README.md", index))
        return out
    }

    public static func text(_ r: any Rule) -> String {
        var s = "\(r.code) \(r.name) (\(r.maturity.rawValue))\n\(r.summary).\n\n"
        s += "What it does\n\(indent(r.doc.whatItDoes))\n\n"
        s += "Why is this bad?\n\(indent(r.doc.whyIsThisBad))\n\n"
        s += "Example\n\(indent(r.doc.example))\n\n"
        s += "Use instead\n\(indent(r.doc.useInstead))\n\n"
        s += "Known limitations\n\(indent(r.doc.knownLimitations))\n\n"
        s += "References\n" + r.doc.references.map { "    - \($0)\n" }.joined()
        return s
    }

    static func indent(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }
}
