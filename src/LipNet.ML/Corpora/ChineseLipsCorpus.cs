using CsvHelper;

namespace LipNet.ML.Corpora;

/// <summary>
/// Chinese-LiPS: <c>meta_train.csv</c>, <c>meta_valid.csv</c>, <c>meta_test.csv</c> with columns
/// file_id, category, wav_path, ppt_path, face_path, text. Paths are relative to the root. The speaker
/// is the part of file_id before its first underscore (the whole id when it has none).
/// </summary>
public sealed class ChineseLipsCorpus(string root, CorpusReadOptions? options = null) : CorpusReader(root, options)
{
    private static readonly string[] Columns = ["file_id", "category", "wav_path", "ppt_path", "face_path", "text"];

    /// <inheritdoc/>
    /// <value><c>chinese-lips</c></value>
    public override string Name => "chinese-lips";

    /// <summary>Split names to read (train, valid, test); all that exist when empty.</summary>
    public IReadOnlyList<string> Splits { get; init; } = [];

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the rows of <c>meta_{split}.csv</c> for each split of <see cref="Splits"/> (train, valid, test when empty, skipping
    /// files that do not exist). Each row becomes an item whose video is <c>face_path</c> under the root and whose
    /// <see cref="CorpusItem.Extra"/> holds split, category, wav_path and ppt_path; there are no word timings.
    /// </remarks>
    /// <exception cref="CorpusFormatException">(On enumeration) the root folder does not exist; a CSV header is unreadable or
    /// lacks a column, or a row cannot be parsed as CSV (these throw even under <see cref="CorpusReadOptions.SkipBad"/>); or,
    /// unless SkipBad, a named split's file is missing or a row has the wrong field count or an empty id, face path or text.
    /// </exception>
    public override IEnumerable<CorpusItem> Read()
    {
        CorpusReader.RequireDirectory(Root);
        var splits = Splits.Count > 0 ? Splits : ["train", "valid", "test"];
        foreach (var split in splits)
        {
            string path = Path.Combine(Root, $"meta_{split}.csv");
            if (!File.Exists(path))
            {
                if (Splits.Count > 0)
                    MissingOrThrow(path, "split file not found");
                continue;
            }
            foreach (var item in ReadCsv(path, split))
                yield return item;
        }
    }

    private IEnumerable<CorpusItem> ReadCsv(string path, string split)
    {
        var options = new CsvReaderOptions { HasHeader = true, TrackLineNumbers = true, MalformedData = CsvMalformedDataHandling.Throw };
        using var csv = CsvReader.Create(new StreamReader(path), options, false);
        try
        {
            csv.ReadHeader();
        }
        catch (FormatException ex)
        {
            throw new CorpusFormatException($"invalid CSV header ({ex.Message})", path, 1, ex);
        }
        var header = csv.Headers?.Select(h => h.Trim()).ToArray() ?? [];
        if (header.Length == 0)
            throw new CorpusFormatException("CSV file is empty", path, 1);
        var missing = Columns.Where(c => !header.Contains(c, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missing.Count > 0)
            throw new CorpusFormatException($"CSV lacks column(s) {string.Join(", ", missing)}", path, 1);
        var index = Columns.ToDictionary(c => c, c => Array.FindIndex(header, h => h.Equals(c, StringComparison.OrdinalIgnoreCase)));
        while (true)
        {
            bool more;
            try
            {
                more = csv.Read();
            }
            catch (FormatException ex)
            {
                throw new CorpusFormatException($"unreadable CSV row ({ex.Message})", path, (int)csv.LineNumber, ex);
            }
            if (!more)
                yield break;
            int line = (int)csv.LineNumber;
            var item = Guard(path, () => ParseRow(csv, index, header.Length, path, line, split));
            if (item is not null)
                yield return item;
        }
    }

    private CorpusItem ParseRow(CsvReader csv, Dictionary<string, int> index, int width, string path, int line, string split)
    {
        if (csv.FieldCount != width)
            throw new CorpusFormatException($"row has {csv.FieldCount} fields, the header has {width}", path, line);
        string Field(string name) => csv.GetString(index[name])?.Trim() ?? "";
        string id = Field("file_id"), face = Field("face_path"), text = Field("text");
        if (id.Length == 0 || face.Length == 0)
            throw new CorpusFormatException("file_id and face_path must not be empty", path, line);
        if (text.Length == 0)
            throw new CorpusFormatException("text is empty", path, line);
        string speaker = id.Contains('_') ? id[..id.IndexOf('_')] : id;
        return new CorpusItem(id, speaker, Path.Combine(Root, face), path, text, [], Name)
        {
            Extra = new Dictionary<string, string>
            {
                ["split"] = split,
                ["category"] = Field("category"),
                ["wav_path"] = Path.Combine(Root, Field("wav_path")),
                ["ppt_path"] = Path.Combine(Root, Field("ppt_path")),
            },
        };
    }
}
