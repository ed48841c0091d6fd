using LipNet.ML.Decoding;

namespace LipNet.ML.Tests;

public class DecodingTests
{
    /// <summary>Random log-probabilities, T x V; <paramref name="sharpness"/> scales logits (higher = more confident).</summary>
    internal static float[] RandomLogProbs(int frames, int width, int seed, float sharpness = 1f)
    {
        var random = new Random(seed);
        var logits = new float[frames * width];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = (float)(random.NextDouble() * 4 - 2) * sharpness;
        var logProbs = new float[logits.Length];
        CtcScores.LogSoftmax(logits, width, logProbs);
        return logProbs;
    }

    /// <summary>CTC-like output: each frame one dominant token (blank half the time) over mild noise.</summary>
    internal static float[] PeakedLogProbs(int frames, Decoding.CtcVocabulary vocab, int seed)
    {
        var random = new Random(seed);
        var logits = new float[frames * vocab.Size];
        for (int t = 0; t < frames; t++)
        {
            for (int v = 0; v < vocab.Size; v++)
                logits[t * vocab.Size + v] = (float)random.NextDouble();
            int winner = random.NextDouble() < 0.5 ? vocab.BlankId : random.Next(vocab.Size);
            logits[t * vocab.Size + winner] += 6f;
        }
        var logProbs = new float[logits.Length];
        CtcScores.LogSoftmax(logits, vocab.Size, logProbs);
        return logProbs;
    }

    /// <summary>P(text) summed over every alignment, by enumerating all V^T paths: the ground truth.</summary>
    private static Dictionary<string, double> Exhaustive(float[] logProbs, int frames, CtcVocabulary vocab)
    {
        int width = vocab.Size;
        var totals = new Dictionary<string, double>();
        var path = new int[frames];
        long count = (long)Math.Pow(width, frames);
        for (long code = 0; code < count; code++)
        {
            long c = code;
            double logP = 0;
            for (int t = 0; t < frames; t++)
            {
                path[t] = (int)(c % width);
                c /= width;
                logP += logProbs[t * width + path[t]];
            }
            var ids = new List<int>();
            int previous = -1;
            foreach (int p in path)
            {
                if (p != vocab.BlankId && p != previous)
                    ids.Add(p);
                previous = p;
            }
            string text = vocab.Decode(ids.ToArray());
            totals[text] = totals.GetValueOrDefault(text) + Math.Exp(logP);
        }
        return totals;
    }

    private static readonly CtcVocabulary Tiny = new(["a", "b", " "], BlankPosition.First);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void UnprunedBeamSearchFindsTheExhaustiveBest(int seed)
    {
        const int frames = 6;
        var lp = RandomLogProbs(frames, Tiny.Size, seed);
        var truth = Exhaustive(lp, frames, Tiny);
        var best = truth.MaxBy(kv => kv.Value);
        var result = new BeamSearchCtcDecoder(Tiny, new BeamSearchOptions { BeamWidth = 10_000, NBest = 3 }, inputsAreLogProbs: true).Decode(lp);
        Assert.Equal(best.Key, result.Text);
        Assert.Equal(Math.Log(best.Value), result.Best.AcousticScore, 3);
        // The n-best list is the exhaustive ranking's top 3 with their probabilities.
        var top = truth.OrderByDescending(kv => kv.Value).Take(3).ToList();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(top[i].Key, result.NBest[i].Text);
            Assert.Equal(Math.Log(top[i].Value), result.NBest[i].AcousticScore, 3);
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void LexiconBeamSearchFindsTheBestInVocabularyText(int seed)
    {
        const int frames = 7;
        var lp = RandomLogProbs(frames, Tiny.Size, seed);
        var lexicon = SpellingConstraint.Lexicon(["ab", "b", "ba"], Tiny);
        var truth = Exhaustive(lp, frames, Tiny).Where(kv => lexicon.Accepts(kv.Key, Tiny)).MaxBy(kv => kv.Value);
        var result = new BeamSearchCtcDecoder(Tiny, new BeamSearchOptions { BeamWidth = 10_000, Constraint = lexicon }, inputsAreLogProbs: true).Decode(lp);
        Assert.Equal(truth.Key, result.Text);
        Assert.True(result.Best.Complete);
        Assert.Equal(Math.Log(truth.Value), result.Best.AcousticScore, 3);
    }

    [Fact]
    public void GreedyEqualsBeamWidthOneOnConfidentOutputs()
    {
        var vocab = CtcVocabulary.Grid();
        var greedy = new GreedyCtcDecoder(vocab, inputsAreLogProbs: true);
        var beam1 = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 1 }, inputsAreLogProbs: true);
        for (int seed = 0; seed < 20; seed++)
        {
            var lp = PeakedLogProbs(75, vocab, seed);
            Assert.Equal(greedy.Decode(lp).Text, beam1.Decode(lp).Text);
        }
    }

    [Fact]
    public void GreedyCollapsesRepeatsAndDropsBlanks()
    {
        var vocab = CtcVocabulary.Grid(BlankPosition.Last); // a..z = 0..25, space 26, blank 27
        int[] path = [27, 1, 1, 27, 1, 0, 0, 26, 2, 27];       // b b _ b a a ␣ c _  → "bba c"
        var scores = new float[path.Length * vocab.Size];
        Array.Fill(scores, -10f);
        for (int t = 0; t < path.Length; t++)
            scores[t * vocab.Size + path[t]] = 5f;
        var result = new GreedyCtcDecoder(vocab).Decode(scores);
        Assert.Equal("bba c", result.Text);
        Assert.Equal([1, 4, 5, 7, 8], result.Best.TokenFrames);
        var words = result.Best.Words(vocab, path.Length);
        Assert.Equal(["bba", "c"], words.Select(w => w.Word));
        Assert.Equal((1, 7), (words[0].StartFrame, words[0].EndFrame));
    }

    [Fact]
    public void GridGrammarAlwaysGivesAValidGridSentence()
    {
        var vocab = CtcVocabulary.Grid();
        var grammar = SpellingConstraint.Grid(vocab);
        var decoder = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 50, Constraint = grammar });
        for (int seed = 0; seed < 5; seed++)
        {
            var logits = RandomLogProbs(75, vocab.Size, seed, sharpness: 2f);
            var text = decoder.Decode(logits).Text;
            Assert.True(Corpora.GridGrammar.IsValidSentence(text), text);
        }
    }

    [Fact]
    public void GrammarRecoversASentenceFromNoisyScores()
    {
        var vocab = CtcVocabulary.Grid();
        const string sentence = "bin blue at f two now";
        // Two frames per token, a blank between repeats, and heavy noise on every class.
        var logits = CtcDecodeTransformTests.Spell(vocab, sentence, 75, seed: 3, noise: 2.5f, boost: 3f);
        var decoder = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 100, Constraint = SpellingConstraint.Grid(vocab) });
        Assert.Equal(sentence, decoder.Decode(logits).Text);
    }

    [Fact]
    public void ZeroLanguageModelWeightReproducesThePlainBeam()
    {
        var vocab = CtcVocabulary.Grid();
        var lm = NGramLanguageModel.Estimate(["bin blue at a one now", "set red by b two soon", "lay green in c three please"], 3, LanguageModelUnit.Word);
        var charLm = NGramLanguageModel.Estimate(["bin blue at a one now", "set red by b two soon"], 3, LanguageModelUnit.Character);
        var plain = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 20, NBest = 5 });
        var zeroWord = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 20, NBest = 5, LanguageModel = lm, Alpha = 0, Beta = 0 });
        var zeroChar = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 20, NBest = 5, LanguageModel = charLm, Alpha = 0, Beta = 0 });
        for (int seed = 0; seed < 5; seed++)
        {
            var logits = RandomLogProbs(40, vocab.Size, seed, sharpness: 1.5f);
            var a = plain.Decode(logits);
            Assert.Equal(a.NBest.Select(h => h.Text), zeroWord.Decode(logits).NBest.Select(h => h.Text));
            Assert.Equal(a.NBest.Select(h => h.Text), zeroChar.Decode(logits).NBest.Select(h => h.Text));
        }
    }

    [Fact]
    public void LanguageModelPullsTowardsLikelyWords()
    {
        var vocab = new CtcVocabulary(["a", "b", " "]);
        var lm = NGramLanguageModel.Estimate(Enumerable.Repeat("ab", 50).Append("bb"), 2, LanguageModelUnit.Word);
        // Frames slightly favour "bb", but "ab" is far likelier under the LM.
        float[] Row(float a, float b) => [MathF.Log(a), MathF.Log(b), MathF.Log(0.01f), MathF.Log(1 - a - b - 0.01f)];
        var lp = Row(0.45f, 0.5f).Concat(Row(0.01f, 0.01f)).Concat(Row(0.1f, 0.85f)).ToArray();
        var plain = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 16 }, inputsAreLogProbs: true).Decode(lp);
        var withLm = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 16, LanguageModel = lm, Alpha = 1 }, inputsAreLogProbs: true).Decode(lp);
        Assert.Equal("bb", plain.Text);
        Assert.Equal("ab", withLm.Text);
    }

    [Fact]
    public void PruningKeepsTheResultOnConfidentOutputs()
    {
        var vocab = CtcVocabulary.Grid();
        var full = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 30 }, inputsAreLogProbs: true);
        var pruned = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 30, TopK = 8, CutoffProbability = 0.999f }, inputsAreLogProbs: true);
        for (int seed = 0; seed < 10; seed++)
        {
            var lp = PeakedLogProbs(75, vocab, seed);
            Assert.Equal(full.Decode(lp).Text, pruned.Decode(lp).Text);
        }
    }

    [Fact]
    public void BatchDecodingMatchesOneByOneInBothLayouts()
    {
        var vocab = CtcVocabulary.Grid();
        const int n = 6, frames = 30;
        var items = Enumerable.Range(0, n).Select(i => RandomLogProbs(frames, vocab.Size, 100 + i, 3f)).ToArray();
        int[] lengths = [30, 25, 30, 10, 1, 30];
        var batchFirst = items.SelectMany(x => x).ToArray();
        var timeFirst = new float[batchFirst.Length];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < frames; t++)
                Array.Copy(items[i], t * vocab.Size, timeFirst, (t * n + i) * vocab.Size, vocab.Size);
        var decoder = new BeamSearchCtcDecoder(vocab, new BeamSearchOptions { BeamWidth = 10 }, inputsAreLogProbs: true);
        var a = decoder.DecodeBatch(batchFirst, BatchLayout.BatchFirst, n, frames, lengths);
        var b = decoder.DecodeBatch(timeFirst, BatchLayout.TimeFirst, n, frames, lengths);
        for (int i = 0; i < n; i++)
        {
            var single = decoder.Decode(items[i].AsSpan(0, lengths[i] * vocab.Size));
            Assert.Equal(single.Text, a[i].Text);
            Assert.Equal(single.Text, b[i].Text);
        }
    }

    [Fact]
    public void ShapeAndVocabularyMismatchesAreTypedErrors()
    {
        var vocab = CtcVocabulary.Grid();
        var decoder = new GreedyCtcDecoder(vocab);
        Assert.Throws<TensorShapeException>(() => decoder.Decode(new float[75 * 30]));
        Assert.Throws<TensorShapeException>(() => decoder.Decode(new float[28 * 3 + 1]));
        Assert.Throws<TensorShapeException>(() => decoder.DecodeBatch(new float[10], BatchLayout.BatchFirst, 2, 3));
        Assert.Throws<TensorShapeException>(() => new GreedyCtcDecoder(vocab, inputsAreLogProbs: true).Decode(Enumerable.Repeat(0.5f, 28).ToArray()));
        Assert.Throws<TensorShapeException>(() => vocab.Encode("hello!"));
        Assert.Throws<TensorShapeException>(() => new CtcVocabulary(["a", "a"]));
    }

    [Fact]
    public void VocabularyOrdersAndTokenizer()
    {
        var first = CtcVocabulary.Grid(BlankPosition.First);
        var last = CtcVocabulary.Grid(BlankPosition.Last);
        Assert.Equal(28, first.Size);
        Assert.Equal((0, 1), (first.BlankId, first.SpaceId));
        Assert.Equal((27, 26), (last.BlankId, last.SpaceId));
        Assert.Equal("bin blue", last.Decode(last.Encode("bin blue")));
        var ids = last.Tokenizer.EncodeToIds("set red");
        Assert.Equal(last.Encode("set red"), ids);
        Assert.Equal("set red", last.Tokenizer.Decode(ids));
        Assert.Equal("bin blue at a", CtcVocabulary.NormalizeForScoring("  Bin   BLUE\tat a "));
    }

    [Fact]
    public void VocabularyLoadsCharacterListsAndTokenizerJson()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("chars.txt"), "你\n好\n<space>\n");
        var list = CtcVocabulary.Load(dir.File("chars.txt"));
        Assert.Equal(4, list.Size);
        Assert.Equal([0, 2, 1], list.Encode("你 好"));
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": {\"vocab\": {\"<blank>\": 0, \"b\": 2, \"a\": 1}}}");
        var json = CtcVocabulary.Load(dir.File("tokenizer.json"), BlankPosition.First);
        Assert.Equal([1, 2], json.Encode("ab"));
        File.WriteAllText(dir.File("bad.json"), "{\"model\": 3");
        Assert.Throws<CorpusFormatException>(() => CtcVocabulary.Load(dir.File("bad.json")));
        Assert.Throws<CorpusFormatException>(() => CtcVocabulary.Load(dir.File("none.txt")));
    }

    [Fact]
    public void ArpaRoundTripsAndBacksOff()
    {
        var lm = NGramLanguageModel.Estimate(["a b c", "a b d", "b c"], 3, LanguageModelUnit.Word);
        var writer = new StringWriter();
        lm.WriteArpa(writer);
        var again = NGramLanguageModel.ParseArpa(writer.ToString(), LanguageModelUnit.Word);
        foreach (var s in new[] { "a b c", "b c", "c a", "x y" })
            Assert.Equal(lm.SentenceLogProb(s), again.SentenceLogProb(s), 3);
        Assert.True(lm.SentenceLogProb("a b c") > lm.SentenceLogProb("c b a"));
        // Probabilities after a context sum to about one over the vocabulary.
        ulong h = lm.Push(lm.StartHistory, lm.Id("a"));
        double sum = new[] { "a", "b", "c", "d", "</s>", "<unk>" }.Sum(w => Math.Exp(lm.LogProb(h, lm.Id(w))));
        Assert.InRange(sum, 0.95, 1.05);
    }

    [Theory]
    [InlineData("no data section", "\\data\\")]
    [InlineData("\\data\\\nngram 1=x\n", "count")]
    [InlineData("\\data\\\nngram 1=1\n\n\\1-grams:\nabc a\n", "not a number")]
    [InlineData("\\data\\\nngram 1=1\n\n\\1-grams:\n-1\n", "needs")]
    public void MalformedArpaIsATypedError(string text, string reason)
    {
        var ex = Assert.Throws<CorpusFormatException>(() => NGramLanguageModel.ParseArpa(text, LanguageModelUnit.Word, "lm.arpa"));
        Assert.Contains(reason, ex.Message);
        Assert.Equal("lm.arpa", ex.FilePath);
    }
}
