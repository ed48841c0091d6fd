using LipNet.ML.Decoding;
using MathNet.Numerics.Statistics;

namespace LipNet.ML.Metrics;

/// <summary>A reference/hypothesis pair (after <see cref="CtcVocabulary.NormalizeForScoring"/>) with its edits.</summary>
public sealed record ScoredSentence(string Reference, string Hypothesis, string? Speaker, EditCounts Characters, EditCounts Words)
{
    /// <summary>This sentence's CER; see <see cref="ErrorRates.Rate"/> for the empty-reference rule.</summary>
    public double Cer => ErrorRates.Rate(Characters);
    /// <summary>This sentence's WER: word edits / reference words, with the same empty-reference rule as <see cref="Cer"/>.</summary>
    public double Wer => ErrorRates.Rate(Words);
}

/// <summary>A two-sided bootstrap confidence interval.</summary>
public sealed record ConfidenceInterval(double Lower, double Upper, double Level, int Resamples);

/// <summary>Error rates of a set of sentences, both ways they are reported.</summary>
/// <param name="Sentences">Number of sentences summarized; 0 for an empty set, when every figure is 0 too.</param>
/// <param name="Cer">Corpus-level CER: total character edits / total reference characters (jiwer, torchmetrics).</param>
/// <param name="Wer">Corpus-level WER: total word edits / total reference words.</param>
/// <param name="CerMean">Mean of per-sentence CERs (the LipNet repositories' figure).</param>
/// <param name="WerMean">Mean of per-sentence WERs.</param>
/// <param name="Bleu">Mean per-sentence character BLEU-4 as rizkiarm/LipNet reports it (NLTK sentence_bleu on strings).</param>
/// <param name="WordBleu">Corpus word BLEU-4 (Papineni et al.).</param>
public sealed record ScoreSummary(int Sentences, double Cer, double Wer, double CerMean, double WerMean, double Bleu, double WordBleu);

/// <summary>A full scoring report: overall figures, per speaker, and bootstrap intervals.</summary>
public sealed record ScoreReport(ScoreSummary Overall, IReadOnlyDictionary<string, ScoreSummary> PerSpeaker,
    ConfidenceInterval CerInterval, ConfidenceInterval WerInterval, IReadOnlyList<ScoredSentence> Sentences);

/// <summary>CER, WER and their conventions.</summary>
public static class ErrorRates
{
    /// <summary>
    /// Edits / reference length. Empty reference: 0 when the hypothesis is empty too, else 1 (every
    /// inserted token is wrong, capped at one sentence's worth) — never a division by zero.
    /// </summary>
    public static double Rate(EditCounts counts) =>
        counts.ReferenceLength > 0 ? (double)counts.Distance / counts.ReferenceLength : counts.Distance == 0 ? 0 : 1;

    /// <summary>
    /// Scores one sentence: both texts are normalized (<see cref="CtcVocabulary.NormalizeForScoring"/>), then aligned by
    /// characters (for CER) and by words (for WER) with <see cref="Levenshtein"/>.
    /// </summary>
    /// <param name="reference">The true transcript; null counts as empty.</param>
    /// <param name="hypothesis">The recognized text; null counts as empty.</param>
    /// <param name="speaker">Speaker id kept with the result for per-speaker summaries; null = none.</param>
    /// <returns>The normalized pair with its character and word edit counts.</returns>
    public static ScoredSentence Score(string reference, string hypothesis, string? speaker = null)
    {
        string r = CtcVocabulary.NormalizeForScoring(reference), h = CtcVocabulary.NormalizeForScoring(hypothesis);
        return new ScoredSentence(r, h, speaker, Levenshtein.AlignCharacters(r, h).Counts, Levenshtein.AlignWords(r, h).Counts);
    }

    /// <summary>Corpus CER: total character edits over total reference characters (distances only: the fast path).</summary>
    public static double CorpusCer(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses) =>
        CorpusRate(references, hypotheses, words: false);

    /// <summary>Corpus WER: total word edits over total reference words.</summary>
    public static double CorpusWer(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses) =>
        CorpusRate(references, hypotheses, words: true);

    private static double CorpusRate(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, bool words)
    {
        if (references.Count != hypotheses.Count)
            throw new TensorShapeException($"{references.Count} references but {hypotheses.Count} hypotheses");
        long edits = 0, length = 0;
        for (int i = 0; i < references.Count; i++)
        {
            string r = CtcVocabulary.NormalizeForScoring(references[i]), h = CtcVocabulary.NormalizeForScoring(hypotheses[i]);
            if (words)
            {
                var rw = Levenshtein.Words(r);
                edits += Levenshtein.Distance<string>(rw, Levenshtein.Words(h));
                length += rw.Length;
            }
            else
            {
                edits += Levenshtein.Distance(r.AsSpan(), h.AsSpan());
                length += r.Length;
            }
        }
        return Rate(new EditCounts((int)Math.Min(edits, int.MaxValue), 0, 0, (int)Math.Min(length, int.MaxValue)));
    }

    internal static List<ScoredSentence> Pair(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, IReadOnlyList<string?>? speakers)
    {
        if (references.Count != hypotheses.Count)
            throw new TensorShapeException($"{references.Count} references but {hypotheses.Count} hypotheses");
        if (speakers is not null && speakers.Count != references.Count)
            throw new TensorShapeException($"{speakers.Count} speakers for {references.Count} sentences");
        var scored = new ScoredSentence[references.Count];
        Parallel.For(0, references.Count, i => scored[i] = Score(references[i], hypotheses[i], speakers?[i]));
        return scored.ToList();
    }

    /// <summary>
    /// Summarizes scored sentences: corpus CER and WER (edits pooled over sentences, divided by pooled reference length),
    /// the means of the per-sentence rates, mean character BLEU-4 and corpus word BLEU-4 (Papineni et al. 2002).
    /// </summary>
    /// <returns>All zeros for an empty list.</returns>
    public static ScoreSummary Summarize(IReadOnlyList<ScoredSentence> sentences)
    {
        if (sentences.Count == 0)
            return new ScoreSummary(0, 0, 0, 0, 0, 0, 0);
        var chars = sentences.Aggregate(default(EditCounts), (a, s) => a + s.Characters);
        var words = sentences.Aggregate(default(EditCounts), (a, s) => a + s.Words);
        return new ScoreSummary(
            sentences.Count, Rate(chars), Rate(words),
            sentences.Average(s => s.Cer), sentences.Average(s => s.Wer),
            sentences.Average(s => Bleu.Sentence(s.Reference.AsSpan(), s.Hypothesis.AsSpan())),
            Bleu.Corpus(sentences.Select(s => Levenshtein.Words(s.Reference)).ToList(), sentences.Select(s => Levenshtein.Words(s.Hypothesis)).ToList()));
    }

    /// <summary>Scores a corpus: overall, per speaker (when given) and 95% bootstrap intervals of corpus CER and WER.</summary>
    public static ScoreReport Report(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, IReadOnlyList<string?>? speakers = null,
        int resamples = 1000, int seed = 0, double level = 0.95)
    {
        var sentences = Pair(references, hypotheses, speakers);
        var perSpeaker = sentences.Where(s => s.Speaker is not null).GroupBy(s => s.Speaker!)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => Summarize(g.ToList()));
        var (cer, wer) = Bootstrap(sentences, resamples, seed, level);
        return new ScoreReport(Summarize(sentences), perSpeaker, cer, wer, sentences);
    }

    /// <summary>Percentile bootstrap over sentences of corpus CER and WER.</summary>
    public static (ConfidenceInterval Cer, ConfidenceInterval Wer) Bootstrap(IReadOnlyList<ScoredSentence> sentences, int resamples = 1000, int seed = 0, double level = 0.95)
    {
        if (sentences.Count == 0 || resamples < 1)
            return (new(0, 0, level, 0), new(0, 0, level, 0));
        var random = new Random(seed);
        var cers = new double[resamples];
        var wers = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            EditCounts c = default, w = default;
            for (int i = 0; i < sentences.Count; i++)
            {
                var s = sentences[random.Next(sentences.Count)];
                c += s.Characters;
                w += s.Words;
            }
            cers[r] = Rate(c);
            wers[r] = Rate(w);
        }
        double lo = (1 - level) / 2, hi = 1 - lo;
        return (new(cers.Quantile(lo), cers.Quantile(hi), level, resamples), new(wers.Quantile(lo), wers.Quantile(hi), level, resamples));
    }
}

/// <summary>BLEU (Papineni et al. 2002), uniform weights up to 4-grams, brevity penalty, no smoothing (NLTK's defaults).</summary>
public static class Bleu
{
    /// <summary>Sentence BLEU over any tokens (characters of strings, as rizkiarm/LipNet passes them). 0 when some order has no match.</summary>
    public static double Sentence<T>(ReadOnlySpan<T> reference, ReadOnlySpan<T> hypothesis, int maxOrder = 4) where T : IEquatable<T>
    {
        var (matches, totals) = Counts(reference.ToArray(), hypothesis.ToArray(), maxOrder);
        return Combine(matches, totals, reference.Length, hypothesis.Length, maxOrder);
    }

    /// <summary>Corpus BLEU: n-gram matches and lengths summed over sentences before combining.</summary>
    public static double Corpus<T>(IReadOnlyList<T[]> references, IReadOnlyList<T[]> hypotheses, int maxOrder = 4) where T : IEquatable<T>
    {
        var matches = new long[maxOrder];
        var totals = new long[maxOrder];
        long refLength = 0, hypLength = 0;
        for (int i = 0; i < references.Count; i++)
        {
            var (m, t) = Counts(references[i], hypotheses[i], maxOrder);
            for (int n = 0; n < maxOrder; n++) { matches[n] += m[n]; totals[n] += t[n]; }
            refLength += references[i].Length;
            hypLength += hypotheses[i].Length;
        }
        return Combine(matches, totals, refLength, hypLength, maxOrder);
    }

    private static (long[] Matches, long[] Totals) Counts<T>(T[] reference, T[] hypothesis, int maxOrder) where T : IEquatable<T>
    {
        if (maxOrder is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(maxOrder), maxOrder, "BLEU orders 1..4 are supported");
        // Intern tokens to small ids so an n-gram is one 64-bit key (16 bits per token).
        var ids = new Dictionary<T, int>();
        int[] Intern(T[] tokens) => Array.ConvertAll(tokens, t => ids.TryGetValue(t, out int id) ? id : ids[t] = ids.Count + 1);
        int[] r = Intern(reference), h = Intern(hypothesis);
        var matches = new long[maxOrder];
        var totals = new long[maxOrder];
        var refCounts = new Dictionary<ulong, int>();
        var hypCounts = new Dictionary<ulong, int>();
        for (int n = 1; n <= maxOrder; n++)
        {
            Count(r, n, refCounts);
            Count(h, n, hypCounts);
            foreach (var (gram, count) in hypCounts)
            {
                totals[n - 1] += count;
                matches[n - 1] += Math.Min(count, refCounts.GetValueOrDefault(gram));
            }
        }
        return (matches, totals);
    }

    private static void Count(int[] tokens, int n, Dictionary<ulong, int> counts)
    {
        counts.Clear();
        for (int i = 0; i + n <= tokens.Length; i++)
        {
            ulong key = 0;
            for (int k = 0; k < n; k++)
                key = key << 16 | (uint)(tokens[i + k] & 0xFFFF);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }

    private static double Combine(long[] matches, long[] totals, long refLength, long hypLength, int maxOrder)
    {
        if (hypLength == 0 || matches.Any(m => m == 0))
            return 0;
        double logPrecision = 0;
        for (int n = 0; n < maxOrder; n++)
            logPrecision += Math.Log((double)matches[n] / totals[n]) / maxOrder;
        double brevity = hypLength >= refLength ? 1 : Math.Exp(1 - (double)refLength / hypLength);
        return brevity * Math.Exp(logPrecision);
    }
}
