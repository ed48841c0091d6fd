using System.Text.Json;

namespace LipNet.ML.Corpora;

/// <summary>Which Lombard GRID videos have labels and which labels have videos.</summary>
public sealed record LombardMatch(
    IReadOnlyList<(string Video, string Label)> Pairs,
    IReadOnlyList<string> VideosWithoutLabels,
    IReadOnlyList<string> LabelsWithoutVideos);

/// <summary>
/// Lombard GRID: <c>sN_{l|p}_ID.mov</c> videos with phone-level <c>sN_{l|p}_ID.json</c> labels
/// (<c>{"sN_l_ID": [{"phone": "b_B", "offset": s, "duration": s}, ...]}</c>; suffixes _B/_I/_E/_S mark a
/// phone's place in its word, SIL is silence). Phones are grouped into words and each word is named by
/// the closest pronunciation among the GRID words of its slot.
/// </summary>
public sealed class LombardCorpus(string root, CorpusReadOptions? options = null) : CorpusReader(root, options)
{
    /// <inheritdoc/>
    /// <value><c>lombard</c></value>
    public override string Name => "lombard";

    /// <summary>Pairs videos and labels by file stem (the seed scripts' set intersection), listing the leftovers.</summary>
    /// <exception cref="CorpusFormatException">The root folder does not exist or cannot be listed.</exception>
    /// <exception cref="ArgumentException">Two videos, or two labels, have the same file stem.</exception>
    public LombardMatch Match()
    {
        CorpusReader.RequireDirectory(Root);
        var videos = CorpusFiles.Walk(Root, CorpusFiles.IsVideo).ToDictionary(Stem, StringComparer.Ordinal);
        var labels = CorpusFiles.Walk(Root, f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase)).ToDictionary(Stem, StringComparer.Ordinal);
        var pairs = videos.Keys.Intersect(labels.Keys).Order(StringComparer.Ordinal).Select(k => (videos[k], labels[k])).ToList();
        return new LombardMatch(
            pairs,
            videos.Keys.Except(labels.Keys).Order(StringComparer.Ordinal).Select(k => videos[k]).ToList(),
            labels.Keys.Except(videos.Keys).Order(StringComparer.Ordinal).Select(k => labels[k]).ToList());
    }

    private static string Stem(string path) => Path.GetFileNameWithoutExtension(path);

    /// <inheritdoc/>
    /// <remarks>
    /// Pairs videos and labels first (<see cref="Match"/>), then yields one item per pair in ordinal order: id and speaker
    /// come from the label's clip name (<c>s2_l_bbim3a</c>: speaker <c>s2</c>); <see cref="CorpusItem.Duration"/> is the
    /// end of the last phone. Lombard (<c>_l_</c>) and plain (<c>_p_</c>) clips are both read.
    /// </remarks>
    /// <exception cref="CorpusFormatException">(On enumeration) the root folder does not exist or cannot be listed; or, unless
    /// <see cref="CorpusReadOptions.SkipBad"/>, a video or label has no partner, or a label is malformed.</exception>
    /// <exception cref="ArgumentException">(On enumeration) two videos, or two labels, have the same file stem.</exception>
    public override IEnumerable<CorpusItem> Read()
    {
        var match = Match();
        foreach (var video in match.VideosWithoutLabels)
            MissingOrThrow(video, "video has no label file (.json with the same name)");
        foreach (var label in match.LabelsWithoutVideos)
            MissingOrThrow(label, "label file has no video with the same name");
        foreach (var (video, label) in match.Pairs)
        {
            var item = Guard(label, () =>
            {
                var words = ParseLabel(ReadText(label), label, out string key, out double seconds);
                string speaker = key.Split('_')[0].ToLowerInvariant();
                return new CorpusItem(key, speaker, video, label, string.Join(' ', words.Select(w => w.Word)), words, Name) { Duration = seconds };
            });
            if (item is not null)
                yield return item;
        }
    }

    /// <summary>Parses a Lombard GRID phone-level label into GRID words with timings.</summary>
    public static IReadOnlyList<WordTiming> ParseLabel(string json, string? path, out string key) => ParseLabel(json, path, out key, out _);

    /// <summary>As <see cref="ParseLabel(string, string?, out string)"/>; <paramref name="clipSeconds"/> is where the last phone ends.</summary>
    public static IReadOnlyList<WordTiming> ParseLabel(string json, string? path, out string key, out double clipSeconds)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new CorpusFormatException($"invalid JSON ({ex.Message})", path, (int?)(ex.LineNumber + 1), ex);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CorpusFormatException("expected an object mapping the clip name to its phones", path);
            var props = doc.RootElement.EnumerateObject().ToList();
            if (props.Count != 1 || props[0].Value.ValueKind != JsonValueKind.Array)
                throw new CorpusFormatException("expected exactly one clip name mapped to an array of phones", path);
            key = props[0].Name;

            var groups = new List<(List<string> Phones, double Start, double End)>();
            List<string>? current = null;
            double start = 0;
            int index = 0;
            clipSeconds = 0;
            foreach (var phone in props[0].Value.EnumerateArray())
            {
                index++;
                if (phone.ValueKind != JsonValueKind.Object ||
                    !phone.TryGetProperty("phone", out var p) || p.ValueKind != JsonValueKind.String ||
                    !phone.TryGetProperty("offset", out var o) || !o.TryGetDouble(out double offset) ||
                    !phone.TryGetProperty("duration", out var d) || !d.TryGetDouble(out double duration) ||
                    offset < 0 || duration < 0 || !double.IsFinite(offset) || !double.IsFinite(duration))
                    throw new CorpusFormatException($"phone #{index} needs a string 'phone' and non-negative 'offset' and 'duration'", path);
                string name = p.GetString()!;
                clipSeconds = Math.Max(clipSeconds, offset + duration);
                int underscore = name.LastIndexOf('_');
                string baseName = (underscore > 0 ? name[..underscore] : name).ToUpperInvariant();
                string position = underscore > 0 ? name[(underscore + 1)..].ToUpperInvariant() : "";
                if (baseName == "SIL" || baseName == "SP")
                    continue;
                if (baseName == "AX")
                    baseName = "AH"; // the aligner's schwa is CMUdict's AH
                if (position is "B" or "S" || current is null)
                {
                    current = [];
                    start = offset;
                }
                current.Add(baseName);
                if (position is "E" or "S")
                {
                    groups.Add((current, start, offset + duration));
                    current = null;
                }
                else if (position is not ("B" or "I"))
                {
                    throw new CorpusFormatException($"phone #{index} '{name}' lacks a word position suffix (_B, _I, _E or _S)", path);
                }
            }
            if (current is not null)
                throw new CorpusFormatException("the last word has no end phone (_E)", path);
            if (groups.Count != 6)
                throw new CorpusFormatException($"found {groups.Count} words, a GRID sentence has 6", path);
            return groups.Select((g, slot) => new WordTiming(ClosestWord(GridGrammar.Slots[slot], g.Phones), g.Start, g.End)).ToList();
        }
    }

    private static string ClosestWord(IReadOnlyList<string> candidates, List<string> phones) =>
        candidates.MinBy(w => Metrics.Levenshtein.Distance<string>(GridGrammar.Pronunciations[w], phones.ToArray()))!;
}
