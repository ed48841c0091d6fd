using System.Globalization;

namespace LipNet.ML.Corpora;

/// <summary>
/// LRS2 / LRS3: <c>&lt;speaker-or-video-id&gt;/NNNNN.mp4</c> with <c>NNNNN.txt</c> beside it, holding a
/// <c>Text:</c> line and, after a blank line, a <c>WORD START END [SCORE]</c> table in seconds.
/// The folder holding the clip names the speaker.
/// </summary>
public sealed class LrsCorpus(string root, CorpusReadOptions? options = null) : CorpusReader(root, options)
{
    /// <inheritdoc/>
    /// <value><c>lrs</c></value>
    public override string Name => "lrs";

    /// <inheritdoc/>
    /// <remarks>
    /// Every video below <see cref="CorpusReader.Root"/> with a <c>.txt</c> of the same name becomes an item with id
    /// <c>folder/NNNNN</c>; the folder name is the speaker (in LRS2 and LRS3 it identifies the source video, which may show
    /// several people). Word timings are in seconds from the clip's start.
    /// </remarks>
    /// <exception cref="CorpusFormatException">(On enumeration) the root folder does not exist or cannot be listed; or, unless
    /// <see cref="CorpusReadOptions.SkipBad"/>, a video has no transcript or a transcript is malformed.</exception>
    public override IEnumerable<CorpusItem> Read()
    {
        CorpusReader.RequireDirectory(Root);
        foreach (var video in CorpusFiles.Walk(Root, CorpusFiles.IsVideo))
        {
            string txt = Path.ChangeExtension(video, ".txt");
            if (!File.Exists(txt))
            {
                MissingOrThrow(video, "video has no transcript (.txt with the same name)");
                continue;
            }
            var item = Guard(txt, () =>
            {
                var (sentence, words) = ParseTranscript(ReadText(txt), txt);
                string folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(video)))!;
                return new CorpusItem($"{folder}/{Path.GetFileNameWithoutExtension(video)}", folder, video, txt, sentence, words, Name);
            });
            if (item is not null)
                yield return item;
        }
    }

    /// <summary>Parses an LRS transcript: the sentence (lower case) and word timings when present.</summary>
    public static (string Sentence, IReadOnlyList<WordTiming> Words) ParseTranscript(string text, string? path = null)
    {
        var lines = text.Replace("\r", "").Split('\n');
        string? sentence = null;
        var words = new List<WordTiming>();
        bool inTable = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith("Text:", StringComparison.OrdinalIgnoreCase))
            {
                sentence = string.Join(' ', line[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
                continue;
            }
            if (line.StartsWith("WORD ", StringComparison.OrdinalIgnoreCase) && line.Contains("START", StringComparison.OrdinalIgnoreCase))
            {
                inTable = true;
                continue;
            }
            if (!inTable || line.Length == 0)
                continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 ||
                !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double start) ||
                !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double end) ||
                !double.IsFinite(start) || !double.IsFinite(end) || start < 0 || end < start)
                throw new CorpusFormatException($"word timing line must be 'WORD START END', found '{line}'", path, i + 1);
            words.Add(new WordTiming(parts[0].ToLowerInvariant(), start, end));
        }
        if (sentence is null)
            throw new CorpusFormatException("transcript has no 'Text:' line", path);
        if (sentence.Length == 0)
            throw new CorpusFormatException("transcript's 'Text:' line is empty", path);
        return (sentence, words);
    }
}
