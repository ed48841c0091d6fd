using BenchmarkDotNet.Attributes;
using LipNet.ML.Corpora;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// CTC decoding of one 75 x 28 clip output on one core. The input mimics a trained model on a GRID
/// sentence: each token for two frames, blanks between, and noise on every class.
/// </summary>
[MemoryDiagnoser]
public class DecodingBenchmarks
{
    private float[] _logits = [];
    private readonly CtcVocabulary _vocab = CtcVocabulary.Grid();
    private GreedyCtcDecoder _greedy = null!;
    private BeamSearchCtcDecoder _beam = null!;

    [Params(10, 50, 100, 200)]
    public int Beam { get; set; }

    [Params(false, true)]
    public bool Grammar { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _logits = ModelLikeLogits(_vocab, "place green with q six please", seed: 1);
        _greedy = new GreedyCtcDecoder(_vocab);
        _beam = new BeamSearchCtcDecoder(_vocab, new BeamSearchOptions
        {
            BeamWidth = Beam,
            TopK = 10,
            CutoffProbability = 0.9999f,
            Constraint = Grammar ? SpellingConstraint.Grid(_vocab) : null,
        });
    }

    internal static float[] ModelLikeLogits(CtcVocabulary vocab, string sentence, int seed)
    {
        var random = new Random(seed);
        var rows = new List<float[]>();
        float[] Row(int id)
        {
            var row = new float[vocab.Size];
            for (int v = 0; v < row.Length; v++)
                row[v] = (float)(random.NextDouble() * 3);
            row[id] += 5f;
            return row;
        }
        for (int i = 0; i < 6; i++)
            rows.Add(Row(vocab.BlankId));
        int previous = -1;
        foreach (int id in vocab.Encode(sentence))
        {
            if (id == previous)
                rows.Add(Row(vocab.BlankId));
            rows.Add(Row(id));
            rows.Add(Row(id));
            previous = id;
        }
        while (rows.Count < 75)
            rows.Add(Row(vocab.BlankId));
        return rows.Take(75).SelectMany(r => r).ToArray();
    }

    [Benchmark(Description = "greedy")]
    public string Greedy() => _greedy.Decode(_logits).Text;

    [Benchmark(Description = "beam (top-k 10)")]
    public string BeamSearch() => _beam.Decode(_logits).Text;
}

/// <summary>Corpus CER and WER over 10,000 GRID-like sentence pairs (about 2 character edits each).</summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private string[] _references = [];
    private string[] _hypotheses = [];

    [GlobalSetup]
    public void Setup() => (_references, _hypotheses) = SentencePairs(10_000, seed: 1);

    internal static (string[] References, string[] Hypotheses) SentencePairs(int count, int seed)
    {
        var random = new Random(seed);
        var references = new string[count];
        var hypotheses = new string[count];
        for (int i = 0; i < count; i++)
        {
            var words = GridGrammar.Slots.Select(s => s[random.Next(s.Count)]).ToArray();
            references[i] = string.Join(' ', words);
            var chars = references[i].ToCharArray();
            for (int k = 0; k < 2; k++)
                chars[random.Next(chars.Length)] = (char)('a' + random.Next(26));
            hypotheses[i] = new string(chars);
        }
        return (references, hypotheses);
    }

    [Benchmark(Description = "Levenshtein distance, 10k character pairs")]
    public long Distances()
    {
        long total = 0;
        for (int i = 0; i < _references.Length; i++)
            total += Levenshtein.Distance(_references[i], _hypotheses[i]);
        return total;
    }

    [Benchmark(Description = "corpus CER, 10k pairs (normalize + distance)")]
    public double CorpusCer() => ErrorRates.CorpusCer(_references, _hypotheses);

    [Benchmark(Description = "full report, 10k pairs (S/D/I, alignments, WER, BLEU; no bootstrap)")]
    public double Report() => ErrorRates.Report(_references, _hypotheses, resamples: 0).Overall.Bleu;
}
