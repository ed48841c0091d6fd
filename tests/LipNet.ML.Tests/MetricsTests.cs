using LipNet.ML.Metrics;

namespace LipNet.ML.Tests;

public class MetricsTests
{
    private static int Naive(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    private static string RandomText(Random r, int maxLength, string alphabet = "abc d") =>
        new(Enumerable.Range(0, r.Next(maxLength + 1)).Select(_ => alphabet[r.Next(alphabet.Length)]).ToArray());

    [Fact]
    public void LevenshteinMatchesTheNaiveProgrammeAndItsProperties()
    {
        var r = new Random(42);
        for (int i = 0; i < 3000; i++)
        {
            int max = i % 3 == 0 ? 150 : 70; // past 64 exercises the two-row path
            string a = RandomText(r, max), b = RandomText(r, max), c = RandomText(r, max);
            int ab = Levenshtein.Distance(a, b);
            Assert.Equal(Naive(a, b), ab);
            Assert.Equal(ab, Levenshtein.Distance(b, a));                                       // symmetry
            Assert.True(ab <= Levenshtein.Distance(a, c) + Levenshtein.Distance(c, b));        // triangle inequality
            Assert.InRange(ab, Math.Abs(a.Length - b.Length), Math.Max(a.Length, b.Length));   // bounds
            Assert.Equal(ab == 0, a == b);
            Assert.Equal(ab, Levenshtein.AlignCharacters(a, b).Counts.Distance);
        }
    }

    [Fact]
    public void AlignmentCountsAndStepsAgree()
    {
        var (counts, steps) = Levenshtein.AlignWords("bin blue at a one now", "bin red at one now please");
        Assert.Equal(1, counts.Substitutions);
        Assert.Equal(1, counts.Deletions);
        Assert.Equal(1, counts.Insertions);
        Assert.Equal(6, counts.ReferenceLength);
        Assert.Equal(counts.Substitutions, steps.Count(s => s.Operation == EditOperation.Substitute));
        Assert.Equal(3, steps.Count(s => s.Operation == EditOperation.Match) - 1); // bin, at, one, now = 4 matches
    }

    [Fact]
    public void TorchmetricsTestVector()
    {
        string[] preds = ["this is the prediction", "there is an other sample"];
        string[] targets = ["this is the reference", "there is another one"];
        Assert.Equal(0.3415, ErrorRates.CorpusCer(targets, preds), 4);
        Assert.Equal(0.5, ErrorRates.CorpusWer(targets, preds), 4);
        var report = ErrorRates.Report(targets, preds, resamples: 200, seed: 1);
        Assert.NotEqual(report.Overall.Cer, report.Overall.CerMean); // the two conventions differ
        Assert.InRange(report.Overall.Cer, report.CerInterval.Lower, report.CerInterval.Upper);
    }

    [Fact]
    public void EmptyReferencesFollowTheDocumentedRule()
    {
        Assert.Equal(0, ErrorRates.Score("", "").Cer);
        Assert.Equal(1, ErrorRates.Score("", "something").Cer);
        Assert.Equal(1, ErrorRates.Score("abc", "").Cer);
        var summary = ErrorRates.Summarize([ErrorRates.Score("", ""), ErrorRates.Score("", "x")]);
        Assert.Equal(1, summary.Cer); // 1 edit over 0 reference characters: capped, not infinite
        Assert.True(double.IsFinite(summary.WerMean));
        Assert.Throws<TensorShapeException>(() => ErrorRates.CorpusCer(["a"], ["a", "b"]));
    }

    [Fact]
    public void BleuMatchesHandWorkedValues()
    {
        Assert.Equal(1.0, Bleu.Sentence("the cat sat".AsSpan(), "the cat sat".AsSpan()), 9);
        Assert.Equal(0.0, Bleu.Sentence("abcdef".AsSpan(), "xyz".AsSpan()), 9);
        // Words: hyp "the cat sat on" vs ref "the cat sat on the mat": precisions 1, brevity exp(1 - 6/4).
        string[] reference = ["the", "cat", "sat", "on", "the", "mat"], hypothesis = ["the", "cat", "sat", "on"];
        Assert.Equal(Math.Exp(1 - 6.0 / 4), Bleu.Sentence<string>(reference, hypothesis), 9);
        Assert.Equal(Math.Exp(1 - 6.0 / 4), Bleu.Corpus<string>([reference], [hypothesis]), 9);
    }

    [Fact]
    public void PerSpeakerBreakdown()
    {
        var report = ErrorRates.Report(["bin blue", "set red", "lay green"], ["bin blue", "set bed", "lay green"], ["s1", "s2", "s1"], resamples: 50);
        Assert.Equal(0, report.PerSpeaker["s1"].Cer);
        Assert.True(report.PerSpeaker["s2"].Cer > 0);
        Assert.Equal(3, report.Overall.Sentences);
    }

    [Fact]
    public void ScoreCommandJson()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("ref.txt"), "this is the reference\nthere is another one\n");
        File.WriteAllText(dir.File("hyp.txt"), "this is the prediction\nthere is an other sample\n");
        var (code, stdout, stderr) = CliTests.Run("score", "--ref", dir.File("ref.txt"), "--hyp", dir.File("hyp.txt"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(["sentences", "cer", "wer", "cer_mean", "wer_mean", "bleu"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.3415, doc.RootElement.GetProperty("cer").GetDouble(), 4);
        File.WriteAllText(dir.File("short.txt"), "one line\n");
        var bad = CliTests.Run("score", "--ref", dir.File("ref.txt"), "--hyp", dir.File("short.txt"), "--json");
        Assert.Equal(LipNet.Cli.CliApp.BadInput, bad.Code);
        Assert.Contains("2 reference lines but 1 hypothesis lines", bad.Err);
    }
}

public class LanguageModelCommandTests
{
    [Fact]
    public void LmCommandEstimatesAnArpaModelTheDecoderLoads()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.txt"), "bin blue at a one now\nset red by b two soon\n\nBin Blue  at c three please\n");
        var (code, stdout, stderr) = CliTests.Run("lm", "--text", dir.File("text.txt"), "--order", "3", "--unit", "word", "--out", dir.File("lm.arpa"));
        Assert.True(code == 0, stderr);
        Assert.Contains("3-gram", stdout);
        var lm = Decoding.NGramLanguageModel.LoadArpa(dir.File("lm.arpa"), Decoding.LanguageModelUnit.Word);
        Assert.True(lm.SentenceLogProb("bin blue at a one now") > lm.SentenceLogProb("now one a at blue bin"));
        var missing = CliTests.Run("lm", "--text", dir.File("none.txt"), "--out", dir.File("x.arpa"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, missing.Code);
    }
}
