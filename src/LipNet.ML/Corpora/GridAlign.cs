using System.Globalization;

namespace LipNet.ML.Corpora;

/// <summary>
/// GRID <c>.align</c> files: one <c>start end word</c> line per segment, times in 1/25000 s ticks;
/// <c>sil</c> (silence) and <c>sp</c> (short pause) are not words.
/// </summary>
public static class GridAlign
{
    /// <summary>Ticks per second of GRID align times.</summary>
    public const double TicksPerSecond = 25000;

    /// <summary>
    /// Parses the text of an align file into its words with start and end in seconds (ticks / 25000), lower case,
    /// <c>sil</c> and <c>sp</c> segments dropped.
    /// </summary>
    /// <param name="text">The file's text: <c>start end word</c> lines, blank lines ignored.</param>
    /// <param name="path">File name for error messages only; null when the text did not come from a file.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="CorpusFormatException">A line is not three fields, times are not numbers or are negative, reversed or
    /// overlapping, a word has characters other than letters, digits and apostrophes, or there are no words.</exception>
    public static IReadOnlyList<WordTiming> Parse(string text, string? path = null) => Parse(text, path, out _);

    /// <summary>Parses an align file; <paramref name="clipSeconds"/> is the end of its last segment (the clip length).</summary>
    public static IReadOnlyList<WordTiming> Parse(string text, string? path, out double clipSeconds)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<WordTiming>();
        int lineNumber = 0, segments = 0;
        double lastEnd = double.NegativeInfinity;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0)
                continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3)
                throw new CorpusFormatException($"expected 'start end word', found {parts.Length} field(s)", path, lineNumber);
            if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double start) ||
                !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double end) ||
                !double.IsFinite(start) || !double.IsFinite(end))
                throw new CorpusFormatException($"start and end must be numbers, found '{parts[0]}' '{parts[1]}'", path, lineNumber);
            if (start < 0 || end < start)
                throw new CorpusFormatException($"segment times {start}..{end} are negative or reversed", path, lineNumber);
            if (start < lastEnd - 1e-6)
                throw new CorpusFormatException($"segment starts at {start}, before the previous one ends ({lastEnd})", path, lineNumber);
            lastEnd = end;
            segments++;
            string word = parts[2].ToLowerInvariant();
            if (word is "sil" or "sp")
                continue;
            if (!word.All(c => char.IsLetterOrDigit(c) || c == '\''))
                throw new CorpusFormatException($"word '{parts[2]}' has characters a transcript cannot have", path, lineNumber);
            words.Add(new WordTiming(word, start / TicksPerSecond, end / TicksPerSecond));
        }
        if (segments == 0)
            throw new CorpusFormatException("align file has no segments", path);
        if (words.Count == 0)
            throw new CorpusFormatException("align file has only silence", path);
        clipSeconds = lastEnd / TicksPerSecond;
        return words;
    }

    /// <summary>Reads and parses an align file (see <see cref="Parse(string, string?)"/>).</summary>
    /// <exception cref="CorpusFormatException">The file is missing, unreadable or malformed.</exception>
    public static IReadOnlyList<WordTiming> Load(string path) => Load(path, out _);

    /// <summary>Reads and parses an align file, also giving the clip length.</summary>
    /// <param name="path">The <c>.align</c> file.</param>
    /// <param name="clipSeconds">End of the last segment (silence included) in seconds, about 3 for GRID's clips.</param>
    /// <exception cref="CorpusFormatException">The file is missing, unreadable or malformed.</exception>
    public static IReadOnlyList<WordTiming> Load(string path, out double clipSeconds)
    {
        if (!File.Exists(path))
            throw new CorpusFormatException("align file not found", path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CorpusFormatException($"cannot read align file ({ex.Message})", path, inner: ex);
        }
        return Parse(text, path, out clipSeconds);
    }

    /// <summary>
    /// The align file of a GRID video without knowing the corpus root: beside the video, or mirrored
    /// (the nearest ancestor folder named video/videos replaced by align/alignments, mpg_6000 skipped).
    /// Null when there is none.
    /// </summary>
    public static string? FindFor(string videoPath)
    {
        string full = Path.GetFullPath(videoPath);
        string file = Path.GetFileNameWithoutExtension(full) + ".align";
        string dir = Path.GetDirectoryName(full)!;
        string beside = Path.Combine(dir, file);
        if (File.Exists(beside))
            return beside;
        var parts = dir.Split(Path.DirectorySeparatorChar);
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            if (!parts[i].Equals("video", StringComparison.OrdinalIgnoreCase) && !parts[i].Equals("videos", StringComparison.OrdinalIgnoreCase))
                continue;
            foreach (var alignName in new[] { "align", "alignments" })
            {
                var mirrored = parts.Select((p, k) => k == i ? alignName : p).Where(p => !p.StartsWith("mpg_", StringComparison.OrdinalIgnoreCase));
                string candidate = Path.Combine(string.Join(Path.DirectorySeparatorChar, mirrored), file);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    /// <summary>Writes words as a GRID align file, with <c>sil</c> before the first and after the last word.</summary>
    public static string Format(IReadOnlyList<WordTiming> words, double clipSeconds)
    {
        var sb = new System.Text.StringBuilder();
        long Ticks(double s) => (long)Math.Round(s * TicksPerSecond);
        long previous = 0;
        foreach (var w in words)
        {
            if (Ticks(w.Start) > previous)
                sb.Append(CultureInfo.InvariantCulture, $"{previous} {Ticks(w.Start)} sil\n");
            sb.Append(CultureInfo.InvariantCulture, $"{Ticks(w.Start)} {Ticks(w.End)} {w.Word}\n");
            previous = Ticks(w.End);
        }
        if (Ticks(clipSeconds) > previous)
            sb.Append(CultureInfo.InvariantCulture, $"{previous} {Ticks(clipSeconds)} sil\n");
        return sb.ToString();
    }
}
