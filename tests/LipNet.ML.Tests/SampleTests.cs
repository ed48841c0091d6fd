using LipNet.Samples;

namespace LipNet.ML.Tests;

/// <summary>Smoke tests of the sample programs under samples/ (each also runs with one `dotnet run`).</summary>
public class SampleTests
{
    [Fact]
    public void TranscribeSampleReadsTheBundledClipWithTheEmbeddedModel()
    {
        var output = new StringWriter();
        Assert.Equal(0, TranscribeSample.Run([], output));
        // The real held-out clip the README shows read right, then the two others with their truths.
        Assert.Contains("bwwbzp.mp4: \"bin white with b zero please\"", output.ToString());
        Assert.Contains("truth: \"bin white with b zero please\", CER 0.0 %", output.ToString());
        Assert.Contains("bbaf4p.mp4: \"", output.ToString());
        Assert.Contains("sbwb8s.mp4: \"", output.ToString());
    }

    [Fact]
    public async Task LiveSubtitlesSampleStreamsAMonologueAndWritesItsSubtitles()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        Assert.Equal(0, await LiveSubtitlesSample.RunAsync([dir.File("out.srt")], output));
        Assert.Contains("10 segments, subtitles in", output.ToString());
        Assert.Equal(10, File.ReadAllText(dir.File("out.srt")).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void EvaluateSampleScoresASmallUnseenSyntheticCorpus()
    {
        var output = new StringWriter();
        Assert.Equal(0, EvaluateSample.Run([], output, speakers: 1, clipsPerSpeaker: 2));
        Assert.Contains("2 sentences: CER ", output.ToString());
        Assert.Contains("s1: 2 sentences", output.ToString());
    }

    [Fact]
    public void TrainSampleRunsAndExportsAModel()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        string model = dir.File("m.onnx");
        double cer = TrainSample.Train(["2", "3", "0.006", "Small", model], output);
        Assert.InRange(cer, 0, 1);
        Assert.Contains("step    3: loss", output.ToString());
        using var loaded = Runtime.LipNetModel.Load(model);
        Assert.Contains("samples/TrainSynthetic", loaded.Card.Provenance);
    }
}

/// <summary>The embedded default model's card against a fresh `lipnet evaluate` of its test set.</summary>
public class DefaultModelTests
{
    [Fact]
    public void CardAccuracyEqualsEvaluateOnTheRegeneratedTestSet()
    {
        using var model = Runtime.LipNetModel.LoadDefault();
        var entry = Assert.Single(model.Card.Accuracy, a => a.Decoder == "beam 50 + GRID grammar" && a.TestSet.Contains("synth-test"));
        // The test set is reproducible: `lipnet synth --speakers 4 --clips-per-speaker 25 --seed 7 --format mp4` (see onnx/README.md).
        using var dir = new TempDir();
        string corpus = Path.Combine(dir.Path, "synth-test");
        var (code, _, stderr) = CliTests.Run("synth", "--out", corpus, "--speakers", "4", "--clips-per-speaker", "25", "--seed", "7", "--format", "mp4");
        Assert.True(code == 0, stderr);
        AssertEvaluateGives(entry, corpus, "all", dir.File("report"));
    }

    /// <summary>The card's real-speaker figures (held-out GRID s1 clips, unseen speaker s26) are what evaluate prints for those lists.</summary>
    [RealDataFact]
    public void CardAccuracyEqualsEvaluateOnTheRealHeldOutLists()
    {
        using var model = Runtime.LipNetModel.LoadDefault();
        using var dir = new TempDir();
        foreach (var list in new[] { "s1-validation.txt", "s26-test.txt" })
        {
            var entry = Assert.Single(model.Card.Accuracy, a => a.Decoder == "beam 50 + GRID grammar" && a.TestSet.Contains(list));
            string path = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "onnx", "splits", list);
            AssertEvaluateGives(entry, RealData.Grid, "list:" + Path.GetFullPath(path), dir.File(list));
        }
    }

    private static void AssertEvaluateGives(Onnx.MeasuredAccuracy entry, string corpus, string split, string reportDir)
    {
        var (code, stdout, stderr) = CliTests.Run("evaluate", corpus, "--split", split, "--out", reportDir, "--beam", "50", "--grammar", "grid", "--json", "--skip-bad");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(entry.Sentences, doc.RootElement.GetProperty("sentences").GetInt32());
        // Equal on the machine that measured them; another CPU's float rounding may flip a rare close call.
        Assert.Equal(entry.Cer, doc.RootElement.GetProperty("cer").GetDouble(), 0.005);
        Assert.Equal(entry.Wer, doc.RootElement.GetProperty("wer").GetDouble(), 0.01);
    }
}
