namespace LipNet.ML.Corpora;

/// <summary>
/// The GRID audiovisual corpus. Finds videos anywhere below the root and their align files in the
/// layouts people use: <c>video/sNN/ID.mpg</c> + <c>align/sNN/ID.align</c> (or <c>alignments/</c>), the
/// official <c>sNN/video/mpg_6000/</c> tree, an align beside the video, or <c>align/ID.align</c> flat.
/// A video with no align still gets its sentence from its 6-character GRID id (without word timings).
/// </summary>
public sealed class GridCorpus(string root, CorpusReadOptions? options = null) : CorpusReader(root, options)
{
    /// <inheritdoc/>
    /// <value><c>grid</c></value>
    public override string Name => "grid";

    /// <inheritdoc/>
    /// <remarks>
    /// Every video file below <see cref="CorpusReader.Root"/> (.mpg, .mp4, .mov, .avi ...) becomes an item, in ordinal path
    /// order. The speaker is the nearest enclosing folder named like <c>s1</c> or <c>s26</c> (else <c>unknown</c>); the
    /// sentence and word timings come from the align file, whose last segment's end sets <see cref="CorpusItem.Duration"/>.
    /// </remarks>
    /// <exception cref="CorpusFormatException">(On enumeration) the root folder does not exist or cannot be listed; or, unless
    /// <see cref="CorpusReadOptions.SkipBad"/>, an align file is malformed or a video has neither an align file nor a GRID id
    /// as its name.</exception>
    public override IEnumerable<CorpusItem> Read()
    {
        CorpusReader.RequireDirectory(Root);
        foreach (var video in CorpusFiles.Walk(Root, CorpusFiles.IsVideo))
        {
            var item = Guard(video, () => ReadItem(video));
            if (item is not null)
                yield return item;
        }
    }

    private CorpusItem ReadItem(string video)
    {
        string id = Path.GetFileNameWithoutExtension(video);
        string speaker = CorpusFiles.GridSpeaker(video, Root) ?? "unknown";
        string? align = FindAlign(video, id, speaker);
        if (align is not null)
        {
            var words = GridAlign.Load(align, out double seconds);
            return new CorpusItem(id, speaker, video, align, string.Join(' ', words.Select(w => w.Word)), words, Name) { Duration = seconds };
        }
        if (GridGrammar.TryParseId(id, out var sentence))
            return new CorpusItem(id, speaker, video, null, sentence, [], Name);
        throw new CorpusFormatException("no align file found and the file name is not a GRID sentence id", video);
    }

    /// <summary>The align file of a video, looked for in every known layout; null when there is none.</summary>
    public string? FindAlign(string video, string id, string speaker)
    {
        if (GridAlign.FindFor(video) is { } found)
            return found;
        string file = id + ".align";
        // Layouts that only make sense relative to the corpus root.
        var candidates = new[] { "align", "alignments" }.SelectMany(alignName => new[]
        {
            Path.Combine(Root, alignName, speaker, file),
            Path.Combine(Root, speaker, alignName, file),
            Path.Combine(Root, alignName, file),
        });
        return candidates.FirstOrDefault(File.Exists);
    }
}
