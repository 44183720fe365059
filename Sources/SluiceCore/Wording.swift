/// The wording of counts and suggestions in messages, so every command says "1 input" and
/// "2 inputs" (never "1 inputs" or "input(s)") and suggests a name the same way.
public enum Wording {
    /// `count` and the noun in the number it needs: `counted(1, "input")` is `1 input`,
    /// `counted(2, "input")` is `2 inputs`, `counted(0, "library", plural: "libraries")` is
    /// `0 libraries`.
    public static func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
        "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
    }

    /// The candidate `name` was most likely meant to be: the closest by edit distance (a swap of
    /// two neighbouring letters counts as one edit, so `tets` is one edit from `test`), when it is
    /// one edit away — two for names of seven letters or more — and the edits are fewer than half
    /// the letters; ties go to the earlier candidate. Nil when nothing is that close (`deploy` is
    /// not taken for `replay`). Letter case is ignored.
    public static func closest(to name: String, among candidates: [String]) -> String? {
        let typed = Array(name.lowercased())
        guard !typed.isEmpty else { return nil }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(typed, Array(candidate.lowercased()))
            let longest = max(typed.count, candidate.count)
            if distance <= (longest >= 7 ? 2 : 1), distance * 2 < longest, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Insertions, deletions, substitutions and swaps of two neighbouring characters needed to
    /// turn `a` into `b` (the optimal string alignment distance), by character.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        editDistance(Array(a), Array(b))
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Three rows: two rows back (for swaps), the previous one and the current one.
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
