namespace LipNet.ML.Metrics;

/// <summary>Edit operations of an alignment.</summary>
public enum EditOperation
{
    /// <summary>The reference element and the hypothesis element are equal (no cost).</summary>
    Match,
    /// <summary>A reference element replaced by a different hypothesis element (cost 1).</summary>
    Substitute,
    /// <summary>A reference element missing from the hypothesis (cost 1); the step's hypothesis index is -1.</summary>
    Delete,
    /// <summary>A hypothesis element with no reference counterpart (cost 1); the step's reference index is -1.</summary>
    Insert,
}

/// <summary>One step of an alignment: reference index and hypothesis index (-1 where the side has none).</summary>
public readonly record struct AlignmentStep(EditOperation Operation, int ReferenceIndex, int HypothesisIndex);

/// <summary>Substitutions, deletions and insertions turning a reference into a hypothesis.</summary>
public readonly record struct EditCounts(int Substitutions, int Deletions, int Insertions, int ReferenceLength)
{
    /// <summary>The Levenshtein distance: substitutions + deletions + insertions (matches cost nothing).</summary>
    public int Distance => Substitutions + Deletions + Insertions;

    /// <summary>Adds every field, reference lengths included: pools sentences for corpus rates (total edits / total length).</summary>
    public static EditCounts operator +(EditCounts a, EditCounts b) =>
        new(a.Substitutions + b.Substitutions, a.Deletions + b.Deletions, a.Insertions + b.Insertions, a.ReferenceLength + b.ReferenceLength);
}

/// <summary>
/// Levenshtein distance (unit costs). <see cref="Distance{T}"/> uses Myers' bit-parallel algorithm when the
/// shorter sequence has at most 64 elements (one machine word per column: O(n) words of work), else a
/// two-row dynamic programme. <see cref="Align{T}"/> gives the operation counts and an alignment.
/// </summary>
public static class Levenshtein
{
    /// <summary>
    /// Character edit distance between two strings: the fewest single-character insertions, deletions and substitutions
    /// turning <paramref name="reference"/> into <paramref name="hypothesis"/> (Levenshtein 1966). Compares UTF-16 code units
    /// ordinally, case-sensitive and without normalization (<see cref="ErrorRates"/> normalizes first); null counts as "".
    /// </summary>
    /// <returns>0..max(reference length, hypothesis length).</returns>
    public static int Distance(string reference, string hypothesis) => Distance(reference.AsSpan(), hypothesis.AsSpan());

    /// <summary>Character distance: common prefix and suffix stripped, then Myers with a direct mask table for ASCII.</summary>
    public static int Distance(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        int prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        int suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[^(suffix + 1)] == b[^(suffix + 1)])
            suffix++;
        a = a[..^suffix];
        b = b[..^suffix];
        if (a.Length < b.Length)
        {
            var tmp = a;
            a = b;
            b = tmp;
        }
        if (b.Length == 0)
            return a.Length;
        if (b.Length > 64 || !IsAscii(b))
            return Distance<char>(a, b);
        Span<ulong> masks = stackalloc ulong[128];
        masks.Clear();
        for (int i = 0; i < b.Length; i++)
            masks[b[i]] |= 1UL << i;
        int m = b.Length;
        ulong pv = m == 64 ? ulong.MaxValue : (1UL << m) - 1, mv = 0, last = 1UL << (m - 1);
        int score = m;
        foreach (char ch in a)
            MyersStep(ch < 128 ? masks[ch] : 0, last, ref pv, ref mv, ref score);
        return score;
    }

    private static bool IsAscii(ReadOnlySpan<char> s) => System.Text.Ascii.IsValid(s);

    /// <summary>Distance between any sequences (words as string arrays, token ids ...).</summary>
    public static int Distance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        if (a.Length < b.Length)
        {
            var tmp = a;
            a = b;
            b = tmp;
        }
        if (b.Length == 0)
            return a.Length;
        return b.Length <= 64 ? Myers(b, a) : TwoRow(a, b);
    }

    /// <summary>Myers (1999) / Hyyrö: the pattern (≤ 64 elements) is a bit vector; one pass over the text.</summary>
    private static int Myers<T>(ReadOnlySpan<T> pattern, ReadOnlySpan<T> text) where T : IEquatable<T>
    {
        int m = pattern.Length;
        // Match masks per distinct pattern element; patterns are short, so a linear table beats hashing.
        Span<ulong> masks = stackalloc ulong[m];
        Span<int> owner = stackalloc int[m]; // index of the first occurrence representing each element
        int distinct = 0;
        Span<int> slotOf = stackalloc int[m];
        for (int i = 0; i < m; i++)
        {
            int slot = -1;
            for (int s = 0; s < distinct; s++)
                if (pattern[owner[s]].Equals(pattern[i])) { slot = s; break; }
            if (slot < 0)
            {
                slot = distinct++;
                owner[slot] = i;
                masks[slot] = 0;
            }
            masks[slot] |= 1UL << i;
            slotOf[i] = slot;
        }
        ulong pv = m == 64 ? ulong.MaxValue : (1UL << m) - 1, mv = 0, last = 1UL << (m - 1);
        int score = m;
        foreach (var element in text)
        {
            ulong eq = 0;
            for (int s = 0; s < distinct; s++)
                if (pattern[owner[s]].Equals(element)) { eq = masks[s]; break; }
            MyersStep(eq, last, ref pv, ref mv, ref score);
        }
        return score;
    }

    /// <summary>One text symbol of Myers' algorithm: <paramref name="eq"/> is the pattern's match mask for it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void MyersStep(ulong eq, ulong last, ref ulong pv, ref ulong mv, ref int score)
    {
        ulong xv = eq | mv;
        ulong xh = (((eq & pv) + pv) ^ pv) | eq;
        ulong ph = mv | ~(xh | pv);
        ulong mh = pv & xh;
        if ((ph & last) != 0) score++;
        else if ((mh & last) != 0) score--;
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | ~(xv | ph);
        mv = ph & xv;
    }

    private static int TwoRow<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        Span<int> row = b.Length < 1024 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int next = Math.Min(Math.Min(row[j], row[j - 1]) + 1, diagonal + (a[i - 1].Equals(b[j - 1]) ? 0 : 1));
                diagonal = row[j];
                row[j] = next;
            }
        }
        return row[b.Length];
    }

    /// <summary>Operation counts and one optimal alignment (substitutions preferred over delete+insert pairs).</summary>
    public static (EditCounts Counts, AlignmentStep[] Alignment) Align<T>(ReadOnlySpan<T> reference, ReadOnlySpan<T> hypothesis) where T : IEquatable<T>
    {
        int n = reference.Length, m = hypothesis.Length;
        var d = new int[(n + 1) * (m + 1)];
        int W = m + 1;
        for (int i = 0; i <= n; i++) d[i * W] = i;
        for (int j = 0; j <= m; j++) d[j] = j;
        for (int i = 1; i <= n; i++)
            for (int j = 1; j <= m; j++)
                d[i * W + j] = Math.Min(Math.Min(d[(i - 1) * W + j], d[i * W + j - 1]) + 1, d[(i - 1) * W + j - 1] + (reference[i - 1].Equals(hypothesis[j - 1]) ? 0 : 1));
        var steps = new List<AlignmentStep>(Math.Max(n, m));
        int s = 0, del = 0, ins = 0;
        for (int i = n, j = m; i > 0 || j > 0;)
        {
            if (i > 0 && j > 0 && d[i * W + j] == d[(i - 1) * W + j - 1] + (reference[i - 1].Equals(hypothesis[j - 1]) ? 0 : 1))
            {
                bool match = reference[i - 1].Equals(hypothesis[j - 1]);
                steps.Add(new AlignmentStep(match ? EditOperation.Match : EditOperation.Substitute, i - 1, j - 1));
                if (!match) s++;
                i--; j--;
            }
            else if (i > 0 && d[i * W + j] == d[(i - 1) * W + j] + 1)
            {
                steps.Add(new AlignmentStep(EditOperation.Delete, i - 1, -1));
                del++;
                i--;
            }
            else
            {
                steps.Add(new AlignmentStep(EditOperation.Insert, -1, j - 1));
                ins++;
                j--;
            }
        }
        steps.Reverse();
        return (new EditCounts(s, del, ins, n), steps.ToArray());
    }

    /// <summary>
    /// <see cref="Align{T}"/> over the characters (UTF-16 code units) of two strings, as used for CER; no normalization.
    /// Builds the full (n+1)×(m+1) table, so memory grows with the product of the lengths.
    /// </summary>
    public static (EditCounts Counts, AlignmentStep[] Alignment) AlignCharacters(string reference, string hypothesis) =>
        Align(reference.AsSpan(), hypothesis.AsSpan());

    /// <summary>
    /// <see cref="Align{T}"/> over the words of two strings, as used for WER: words are split at single spaces (runs of
    /// spaces ignored; tabs and newlines are not separators), compared ordinally and case-sensitively. Indices in the
    /// alignment are word positions.
    /// </summary>
    public static (EditCounts Counts, AlignmentStep[] Alignment) AlignWords(string reference, string hypothesis) =>
        Align<string>(Words(reference), Words(hypothesis));

    internal static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
