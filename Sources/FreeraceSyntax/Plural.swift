/// `1 file`, `2 files`, `0 files`: a count with its noun in the right number. `plural` is the
/// plural form when it is not the singular plus `s` (`1 recovery`, `2 recoveries`).
public func counted(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
}
