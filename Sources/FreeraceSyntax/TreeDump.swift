extension ParsedFile {
    /// An indented outline of the tree, for debugging the parser (`freerace debug-parse`).
    public func dump(maxDepth: Int = 64) -> String {
        var out = ""
        func visit(_ n: Int32, _ indent: Int) {
            guard indent < maxDepth else { return }
            let node = tree[n]
            var line = String(repeating: "  ", count: indent) + "\(node.kind)"
            if node.mainTok >= 0 { line += " `\(text(node.mainTok))`" }
            if node.flags != 0 { line += " flags=\(node.flags)" }
            if node.aux != 0 { line += " aux=\(node.aux)" }
            let loc = location(of: node.firstTok)
            line += " @\(loc.line):\(loc.column)"
            if node.kind == .unparsed { line += " «\(text(node: n).prefix(60))»" }
            out += line + "\n"
            for c in tree.children(n) { visit(c, indent + 1) }
        }
        visit(root, 0)
        return out
    }
}
