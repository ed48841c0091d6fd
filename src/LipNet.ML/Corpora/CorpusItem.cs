namespace LipNet.ML.Corpora;

/// <summary>A spoken word and where it lies in the clip, in seconds.</summary>
public sealed record WordTiming(string Word, double Start, double End);

/// <summary>One labelled clip of a corpus. Holds paths and labels only; pixels are loaded on demand.</summary>
/// <param name="Id">Clip id, unique within the corpus (e.g. GRID's 6-character id, prefixed by speaker where needed).</param>
/// <param name="Speaker">Speaker id (for speaker-wise splits and reports).</param>
/// <param name="VideoPath">Path of the video file.</param>
/// <param name="LabelPath">Path of the label file, when labels come from one.</param>
/// <param name="Sentence">Transcript: words separated by single spaces, lower case for GRID.</param>
/// <param name="Words">Word timings, when the corpus has them (empty otherwise).</param>
/// <param name="Corpus">Corpus name: grid, lombard, lrs, chinese-lips.</param>
public sealed record CorpusItem(
    string Id, string Speaker, string VideoPath, string? LabelPath, string Sentence,
    IReadOnlyList<WordTiming> Words, string Corpus)
{
    /// <summary>Clip length in seconds when the labels tell it (GRID align, Lombard phones); null otherwise.</summary>
    public double? Duration { get; init; }

    /// <summary>Extra per-corpus fields (Chinese-LiPS category, wav and ppt paths ...).</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = EmptyExtra;

    private static readonly IReadOnlyDictionary<string, string> EmptyExtra = new Dictionary<string, string>();
}

/// <summary>A file a corpus reader skipped, and why.</summary>
public sealed record CorpusProblem(string Path, string Reason);

/// <summary>How a corpus reader treats bad files.</summary>
public sealed record CorpusReadOptions
{
    /// <summary>Skip malformed or unmatched files and record them in <see cref="CorpusReader.Problems"/> instead of throwing.</summary>
    public bool SkipBad { get; init; }

    /// <summary>The defaults: strict, the first bad file throws. One shared immutable instance.</summary>
    public static CorpusReadOptions Default { get; } = new();
}

/// <summary>
/// Streams the items of a corpus lazily: files are listed and parsed as the enumeration advances, so
/// memory does not grow with the corpus. Problems skipped under <see cref="CorpusReadOptions.SkipBad"/>
/// are collected in <see cref="Problems"/>.
/// </summary>
public abstract class CorpusReader(string root, CorpusReadOptions? options)
{
    /// <summary>The corpus folder as given to the constructor (not made absolute); item paths are built below it.</summary>
    public string Root { get; } = root;

    /// <summary>How bad files are treated; <see cref="CorpusReadOptions.Default"/> (strict) when null was given.</summary>
    public CorpusReadOptions Options { get; } = options ?? CorpusReadOptions.Default;

    /// <summary>Short corpus name (grid, lombard, lrs, chinese-lips).</summary>
    public abstract string Name { get; }

    private readonly List<CorpusProblem> _problems = [];

    /// <summary>Files skipped so far, in the order met.</summary>
    public IReadOnlyList<CorpusProblem> Problems
    {
        get { lock (_problems) return _problems.ToArray(); }
    }

    /// <summary>Enumerates the corpus. Each enumeration walks the files again.</summary>
    public abstract IEnumerable<CorpusItem> Read();

    /// <summary>Runs a parse; under SkipBad a typed error becomes a recorded problem and null.</summary>
    protected T? Guard<T>(string path, Func<T> parse) where T : class
    {
        try
        {
            return parse();
        }
        catch (LipNetException ex) when (Options.SkipBad)
        {
            Report(ex.FilePath ?? path, ex.Reason);
            return null;
        }
    }

    /// <summary>Records a skipped file in <see cref="Problems"/> without throwing, whatever the options say (thread-safe).</summary>
    /// <param name="path">The file skipped.</param>
    /// <param name="reason">Why, without the file name.</param>
    protected void Report(string path, string reason)
    {
        lock (_problems) _problems.Add(new CorpusProblem(path, reason));
    }

    /// <summary>
    /// For a file that is missing or has no partner (a video without labels, a named split that does not exist): throws
    /// in strict mode, records a problem under <see cref="CorpusReadOptions.SkipBad"/>.
    /// </summary>
    /// <param name="path">The file concerned.</param>
    /// <param name="reason">Why it cannot be used, without the file name.</param>
    /// <exception cref="CorpusFormatException"><see cref="CorpusReadOptions.SkipBad"/> is off.</exception>
    protected void MissingOrThrow(string path, string reason)
    {
        if (!Options.SkipBad)
            throw new CorpusFormatException(reason, path);
        Report(path, reason);
    }

    /// <summary>Reads a whole label file (UTF-8 unless it has another byte-order mark), turning I/O failures into typed errors.</summary>
    /// <exception cref="CorpusFormatException">Missing, locked or not permitted to read; the inner exception says why.</exception>
    protected static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CorpusFormatException($"cannot read file ({ex.Message})", path, inner: ex);
        }
    }

    /// <summary>The corpus root's check before reading: a typed error that says whether it is missing or a file.</summary>
    /// <exception cref="CorpusFormatException">The root is not an existing directory.</exception>
    internal static void RequireDirectory(string root)
    {
        if (!Directory.Exists(root))
            throw new CorpusFormatException(File.Exists(root) ? "is a file, not a corpus directory" : "corpus directory not found", root);
    }

    /// <summary>Opens the reader that fits the folder's layout: Chinese-LiPS (meta_*.csv), Lombard GRID (.json + .mov), LRS (.txt + .mp4) or GRID.</summary>
    public static CorpusReader Open(string root, CorpusReadOptions? options = null)
    {
        RequireDirectory(root);
        if (Directory.EnumerateFiles(root, "meta_*.csv").Any())
            return new ChineseLipsCorpus(root, options);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Take(2000).Select(Path.GetExtension).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (files.Contains(".align") || files.Contains(".mpg"))
            return new GridCorpus(root, options);
        if (files.Contains(".json") && files.Contains(".mov"))
            return new LombardCorpus(root, options);
        if (files.Contains(".txt") && files.Contains(".mp4"))
            return new LrsCorpus(root, options);
        return new GridCorpus(root, options);
    }
}
