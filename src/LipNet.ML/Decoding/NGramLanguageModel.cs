using System.Globalization;
using System.Text;

namespace LipNet.ML.Decoding;

/// <summary>Whether an n-gram model's tokens are words or characters.</summary>
public enum LanguageModelUnit
{
    /// <summary>Tokens are words (text split at spaces); the beam search scores a word once the space or end after it comes.</summary>
    Word,
    /// <summary>Tokens are single characters, the space written <see cref="NGramLanguageModel.Space"/>; every token is scored.</summary>
    Character,
}

/// <summary>
/// A back-off n-gram language model in the ARPA text format (KenLM's, SRILM's), orders 1–4. Word models
/// score whole words; character models score every character, with the space written <c>&lt;space&gt;</c>.
/// Probabilities are held as natural logs; ARPA files hold log10 and are converted on load and save.
/// Lookups use integer keys (16 bits per token), so scoring inside a beam search does not allocate.
/// </summary>
public sealed class NGramLanguageModel
{
    /// <summary>The sentence-start marker <c>&lt;s&gt;</c> (ARPA convention): a context only, never predicted.</summary>
    public const string SentenceStart = "<s>";

    /// <summary>The sentence-end marker <c>&lt;/s&gt;</c> (ARPA convention), predicted after the last token.</summary>
    public const string SentenceEnd = "</s>";

    /// <summary>The unknown-token entry <c>&lt;unk&gt;</c>; its unigram probability, if any, is <see cref="UnknownLogProb"/>.</summary>
    public const string Unknown = "<unk>";

    /// <summary>How a character model writes the space character, <c>&lt;space&gt;</c>.</summary>
    public const string Space = "<space>";

    private const int MaxOrder = 4;
    private static readonly float Ln10 = MathF.Log(10);

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _words = [""]; // id 0 = "no token"
    private readonly Dictionary<ulong, float>[] _logProb;
    private readonly Dictionary<ulong, float>[] _backoff;

    private NGramLanguageModel(int order, LanguageModelUnit unit)
    {
        if (order is < 1 or > MaxOrder)
            throw new TensorShapeException($"n-gram order {order} outside 1..{MaxOrder}");
        Order = order;
        Unit = unit;
        _logProb = Enumerable.Range(0, order + 1).Select(_ => new Dictionary<ulong, float>()).ToArray();
        _backoff = Enumerable.Range(0, order + 1).Select(_ => new Dictionary<ulong, float>()).ToArray();
    }

    /// <summary>The n of the model, 1..4: the longest n-gram it holds (a token is predicted from up to Order − 1 before it).</summary>
    public int Order { get; }

    /// <summary>Whether tokens are words or characters; it decides how <see cref="Tokens"/> splits text.</summary>
    public LanguageModelUnit Unit { get; }

    /// <summary>Log probability of a token never seen (natural log); <c>&lt;unk&gt;</c>'s when the model has it.</summary>
    public float UnknownLogProb { get; private set; } = -10 * MathF.Log(10);

    /// <summary>Every token the model knows (words, or characters), markers included.</summary>
    public IEnumerable<string> Vocabulary => _words.Skip(1);

    /// <summary>Id of a token (0 when the model does not know it).</summary>
    public int Id(string token) => _ids.TryGetValue(token, out int id) ? id : 0;

    /// <summary>Id of <see cref="SentenceStart"/>; 0 when the model lacks it (then <see cref="StartHistory"/> is empty).</summary>
    public int StartId => Id(SentenceStart);

    /// <summary>Id of <see cref="SentenceEnd"/>, scored to close a sentence; 0 when the model lacks it (then scored as unknown).</summary>
    public int EndId => Id(SentenceEnd);

    private int Intern(string token)
    {
        if (!_ids.TryGetValue(token, out int id))
        {
            id = _words.Count;
            if (id >= 1 << 16)
                throw new TensorShapeException("n-gram vocabulary exceeds 65535 tokens");
            _ids[token] = id;
            _words.Add(token);
        }
        return id;
    }

    private static ulong Pack(ReadOnlySpan<int> ids)
    {
        ulong key = 0;
        foreach (int id in ids)
            key = key << 16 | (uint)id;
        return key;
    }

    /// <summary>A history: the last (order-1) token ids packed, most recent in the low bits.</summary>
    public ulong Push(ulong history, int token) =>
        Order == 1 ? 0 : ((history << 16) | (uint)token) & ((1UL << (16 * (Order - 1))) - 1);

    /// <summary>The history at the start of a sentence.</summary>
    public ulong StartHistory => Push(0, StartId);

    /// <summary>ln P(token | history) with back-off; unknown tokens get <see cref="UnknownLogProb"/>.</summary>
    public float LogProb(ulong history, int token)
    {
        if (token == 0)
            return UnknownLogProb;
        float backoff = 0;
        for (int n = Order; n >= 1; n--)
        {
            ulong context = n == 1 ? 0 : history & ((1UL << (16 * (n - 1))) - 1);
            if (n > 1 && (context >> (16 * (n - 2))) == 0)
                continue; // history shorter than n-1 tokens
            if (_logProb[n].TryGetValue(context << 16 | (uint)token, out float p))
                return p + backoff;
            if (n > 1 && _backoff[n - 1].TryGetValue(context, out float b))
                backoff += b;
        }
        return UnknownLogProb + backoff;
    }

    /// <summary>ln P of a whole sentence, &lt;s&gt; … &lt;/s&gt; (tokens are words, or characters for a character model).</summary>
    public float SentenceLogProb(string sentence)
    {
        ulong h = StartHistory;
        float total = 0;
        foreach (var token in Tokens(sentence))
        {
            int id = Id(token);
            total += LogProb(h, id);
            h = Push(h, id);
        }
        return total + LogProb(h, EndId);
    }

    /// <summary>Splits a sentence into this model's tokens.</summary>
    public IEnumerable<string> Tokens(string sentence) => Unit == LanguageModelUnit.Word
        ? sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries)
        : sentence.Select(c => c == ' ' ? Space : c.ToString());

    /// <summary>Loads an ARPA file (KenLM's lmplz, SRILM's ngram-count, <see cref="WriteArpa"/>); see <see cref="ParseArpa"/>.</summary>
    /// <param name="path">The <c>.arpa</c> text file (not a KenLM binary).</param>
    /// <param name="unit">Whether the file's tokens are words or characters; the file does not say.</param>
    /// <exception cref="CorpusFormatException">The file is missing or is not a well-formed ARPA file.</exception>
    /// <exception cref="TensorShapeException">The model's order is above 4 or it has more than 65535 tokens.</exception>
    public static NGramLanguageModel LoadArpa(string path, LanguageModelUnit unit)
    {
        if (!File.Exists(path))
            throw new CorpusFormatException("language model file not found", path);
        return ParseArpa(File.ReadAllText(path), unit, path);
    }

    /// <summary>
    /// Parses ARPA text: the <c>\data\</c> counts, then <c>\N-grams:</c> sections of <c>log10-prob tokens [log10-back-off]</c>
    /// lines, up to <c>\end\</c>. Probabilities and back-off weights are converted to natural logs; the order is the highest
    /// N in <c>\data\</c>. Smoothing is whatever the file's estimator used (e.g. KenLM's modified Kneser-Ney); scoring
    /// applies the standard back-off.
    /// </summary>
    /// <param name="text">The whole file's text.</param>
    /// <param name="unit">Whether the tokens are words or characters.</param>
    /// <param name="path">File name for error messages only; null when the text did not come from a file.</param>
    /// <exception cref="CorpusFormatException">No <c>\data\</c> section or counts, a malformed count, section or n-gram line, a
    /// number that does not parse, or no unigrams; the line number is given where known.</exception>
    /// <exception cref="TensorShapeException">The order is above 4 or the model has more than 65535 tokens.</exception>
    public static NGramLanguageModel ParseArpa(string text, LanguageModelUnit unit, string? path = null)
    {
        var lines = text.Replace("\r", "").Split('\n');
        int i = 0;
        while (i < lines.Length && lines[i].Trim() != "\\data\\")
            i++;
        if (i == lines.Length)
            throw new CorpusFormatException("no \\data\\ section: not an ARPA file", path);
        var counts = new Dictionary<int, int>();
        for (i++; i < lines.Length && lines[i].Trim().StartsWith("ngram ", StringComparison.Ordinal); i++)
        {
            var kv = lines[i].Trim()[6..].Split('=');
            if (kv.Length != 2 || !int.TryParse(kv[0], out int n) || !int.TryParse(kv[1], out int c) || n < 1 || c < 0)
                throw new CorpusFormatException($"bad count line '{lines[i].Trim()}'", path, i + 1);
            counts[n] = c;
        }
        if (counts.Count == 0)
            throw new CorpusFormatException("\\data\\ section lists no n-gram counts", path, i + 1);
        var lm = new NGramLanguageModel(counts.Keys.Max(), unit);
        Span<int> ids = stackalloc int[MaxOrder];
        int order = 0;
        for (; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
                continue;
            if (line == "\\end\\")
                break;
            if (line.StartsWith('\\'))
            {
                if (!line.EndsWith("-grams:", StringComparison.Ordinal) || !int.TryParse(line[1..line.IndexOf('-')], out order) || order < 1 || order > lm.Order)
                    throw new CorpusFormatException($"unexpected section '{line}'", path, i + 1);
                continue;
            }
            if (order == 0)
                throw new CorpusFormatException("n-gram line before any \\N-grams: section", path, i + 1);
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != order + 1 && parts.Length != order + 2)
                throw new CorpusFormatException($"a {order}-gram line needs a log10 probability, {order} token(s) and an optional back-off", path, i + 1);
            if (!float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float logProb) || float.IsNaN(logProb))
                throw new CorpusFormatException($"probability '{parts[0]}' is not a number", path, i + 1);
            for (int k = 0; k < order; k++)
                ids[k] = lm.Intern(parts[1 + k]);
            ulong key = Pack(ids[..order]);
            lm._logProb[order][key] = logProb * Ln10;
            if (parts.Length == order + 2)
            {
                if (!float.TryParse(parts[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out float backoff) || float.IsNaN(backoff))
                    throw new CorpusFormatException($"back-off '{parts[^1]}' is not a number", path, i + 1);
                lm._backoff[order][key] = backoff * Ln10;
            }
        }
        if (lm._logProb[1].Count == 0)
            throw new CorpusFormatException("ARPA file has no unigrams", path);
        if (lm._ids.TryGetValue(Unknown, out int unk) && lm._logProb[1].TryGetValue((ulong)unk, out float unkProb))
            lm.UnknownLogProb = unkProb;
        return lm;
    }

    /// <summary>
    /// Writes the model as ARPA text, readable by <see cref="LoadArpa"/>, KenLM and SRILM: log10 values to 6 decimals (so a
    /// round trip is exact to that precision), n-grams of each order sorted ordinally, back-off weights on all but the
    /// highest order.
    /// </summary>
    /// <param name="writer">Where to write; it is not flushed or closed.</param>
    public void WriteArpa(TextWriter writer)
    {
        writer.Write("\n\\data\\\n");
        for (int n = 1; n <= Order; n++)
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"ngram {n}={_logProb[n].Count}\n"));
        for (int n = 1; n <= Order; n++)
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"\n\\{n}-grams:\n"));
            foreach (var (key, p) in _logProb[n].OrderBy(k => Words(k.Key, n), StringComparer.Ordinal))
            {
                var sb = new StringBuilder();
                sb.Append((p / Ln10).ToString("0.######", CultureInfo.InvariantCulture)).Append('\t').Append(Words(key, n));
                if (n < Order && _backoff[n].TryGetValue(key, out float b))
                    sb.Append('\t').Append((b / Ln10).ToString("0.######", CultureInfo.InvariantCulture));
                writer.Write(sb.Append('\n').ToString());
            }
        }
        writer.Write("\n\\end\\\n");
    }

    private string Words(ulong key, int n)
    {
        var parts = new string[n];
        for (int k = n - 1; k >= 0; k--, key >>= 16)
            parts[k] = _words[(int)(key & 0xFFFF)];
        return string.Join(' ', parts);
    }

    /// <summary>
    /// Estimates a back-off model from sentences (one per item) with absolute discounting (D =
    /// <paramref name="discount"/>): seen n-grams keep (count − D) / context count, the freed mass goes
    /// to the lower order through normalized back-off weights. Unigrams are add-one smoothed over the
    /// vocabulary plus &lt;unk&gt;.
    /// </summary>
    public static NGramLanguageModel Estimate(IEnumerable<string> sentences, int order, LanguageModelUnit unit, double discount = 0.5)
    {
        if (discount is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(discount), discount, "discount must be in (0, 1)");
        var lm = new NGramLanguageModel(order, unit);
        var counts = Enumerable.Range(0, order + 1).Select(_ => new Dictionary<ulong, int>()).ToArray();
        int start = lm.Intern(SentenceStart), end = lm.Intern(SentenceEnd), unk = lm.Intern(Unknown);
        int sentencesSeen = 0;
        foreach (var sentence in sentences)
        {
            var ids = new List<int> { start };
            ids.AddRange(lm.Tokens(sentence).Select(lm.Intern));
            ids.Add(end);
            sentencesSeen++;
            for (int n = 1; n <= order; n++)
                for (int k = n == 1 ? 1 : 0; k + n <= ids.Count; k++) // <s> is a context, never predicted
                {
                    if (n > 1 && k + n - 1 == 0)
                        continue;
                    ulong key = Pack(ids.GetRange(k, n).ToArray());
                    counts[n][key] = counts[n].GetValueOrDefault(key) + 1;
                }
        }
        if (sentencesSeen == 0)
            throw new TensorShapeException("cannot estimate a language model from no sentences");
        // Unigrams: add-one over every token but <s>.
        var vocabulary = Enumerable.Range(1, lm._words.Count - 1).Where(id => id != start).ToList();
        double total = counts[1].Values.Sum() + vocabulary.Count;
        foreach (int id in vocabulary)
            lm._logProb[1][(ulong)id] = (float)Math.Log((counts[1].GetValueOrDefault((ulong)id) + 1) / total);
        lm._logProb[1][(ulong)start] = -99 * Ln10; // conventional: <s> is never predicted
        lm.UnknownLogProb = lm._logProb[1][(ulong)unk];
        for (int n = 2; n <= order; n++)
        {
            foreach (var group in counts[n].GroupBy(kv => kv.Key >> 16))
            {
                ulong context = group.Key;
                double contextCount = group.Sum(kv => kv.Value);
                double seenLower = 0;
                foreach (var (key, c) in group)
                {
                    lm._logProb[n][key] = (float)Math.Log((c - discount) / contextCount);
                    ulong lowerContext = n == 2 ? 0 : context & ((1UL << (16 * (n - 2))) - 1);
                    seenLower += Math.Exp(lm.LogProbOrder(n - 1, lowerContext, (int)(key & 0xFFFF)));
                }
                double freed = discount * group.Count() / contextCount;
                lm._backoff[n - 1][context] = (float)Math.Log(freed / Math.Max(1e-9, 1 - seenLower));
            }
        }
        return lm;
    }

    /// <summary>Estimates a model from a text file, one sentence per line (normalized for scoring first; blank lines skipped).</summary>
    public static NGramLanguageModel EstimateFromFile(string path, int order, LanguageModelUnit unit, double discount = 0.5)
    {
        if (!File.Exists(path))
            throw new CorpusFormatException("text file not found", path);
        var sentences = File.ReadLines(path).Select(CtcVocabulary.NormalizeForScoring).Where(l => l.Length > 0).ToList();
        if (sentences.Count == 0)
            throw new CorpusFormatException("text file has no sentences", path);
        return Estimate(sentences, order, unit, discount);
    }

    /// <summary>ln P(token | context) using orders up to <paramref name="n"/> only (for estimation).</summary>
    private float LogProbOrder(int n, ulong context, int token)
    {
        float backoff = 0;
        for (int m = n; m >= 1; m--)
        {
            ulong c = m == 1 ? 0 : context & ((1UL << (16 * (m - 1))) - 1);
            if (_logProb[m].TryGetValue(c << 16 | (uint)token, out float p))
                return p + backoff;
            if (m > 1 && _backoff[m - 1].TryGetValue(c, out float b))
                backoff += b;
        }
        return UnknownLogProb + backoff;
    }
}
