using System.Text.Json;
using Google.Protobuf;
using LipNet.ML.Corpora;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Mouth;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;

namespace LipNet.ML.Tests;

public class LipReaderTests
{
    /// <summary>
    /// A random-weight Small model (the pipeline is under test here, not accuracy). The linear layer is scaled
    /// down so the outputs are near uniform: a grammar-constrained beam then always completes a sentence.
    /// </summary>
    internal static string RandomModel(TempDir dir, int frames = 75)
    {
        var arch = LipNetArchitecture.Small with { Frames = frames };
        var weights = arch.InitialWeights(7);
        foreach (ref float w in weights["FC.weight"].Data.AsSpan())
            w *= 0.1f;
        var path = dir.File("small.onnx");
        File.WriteAllBytes(path, LipNetGraph.Build(arch, weights, ModelCard.For(arch, "random weights for tests") with { Frames = frames }).ToByteArray());
        return path;
    }

    [Fact]
    public void TranscribesAVideoWithNBestWordsAndTimings()
    {
        using var dir = new TempDir();
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 2 }, 0, 0);
        var video = dir.File("video/s1/clip.avi");
        SyntheticCorpus.WriteVideo(clip.Frames, video, SyntheticVideoFormat.Avi);
        using var reader = new LipReader(RandomModel(dir), new LipReaderOptions { BeamWidth = 10, NBest = 3, GridGrammar = true });
        var t = reader.Transcribe(video);
        Assert.True(Corpora.GridGrammar.IsValidSentence(t.Text), t.Text);
        Assert.Equal(3, t.NBest.Count);
        Assert.Equal(6, t.Words.Count);
        Assert.All(t.Words, w => Assert.InRange(w.StartFrame, 0, 75));
        Assert.InRange(t.Confidence, 0f, 1f);
        Assert.True(t.ModelMs > 0 && t.Preprocess.DecodeMs > 0);
        using var stream = File.OpenRead(video);
        Assert.Equal(t.Text, reader.Transcribe(stream, "clip.avi").Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)] // several model workers take batches concurrently: same results, same order
    public void TranscribeManyKeepsOrderBatchesAndReportsBadVideos(int workers)
    {
        using var dir = new TempDir();
        var paths = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 3, ClipsPerSpeaker = 5 }, i % 2, i);
            var path = dir.File($"c{i}.avi");
            SyntheticCorpus.WriteVideo(clip.Frames, path, SyntheticVideoFormat.Avi);
            paths.Add(path);
        }
        File.WriteAllBytes(dir.File("broken.avi"), [1, 2, 3]);
        paths.Insert(2, dir.File("broken.avi"));
        var log = new ListLogger();
        using var reader = new LipReader(RandomModel(dir), new LipReaderOptions { BeamWidth = 5, BatchSize = 2, ModelWorkers = workers, Locator = new FixedRegionMouthLocator(0.5f, 0.72f, 0.3f), Logger = log });
        var (results, failures) = reader.TranscribeMany(paths);
        // The logger hears of the skipped video and of each transcription.
        Assert.Contains(log.Lines, l => l.StartsWith("Skipped ", StringComparison.Ordinal) && l.Contains("broken.avi"));
        Assert.Equal(results.Count, log.Lines.Count(l => l.StartsWith("Read ", StringComparison.Ordinal)));
        Assert.Equal(paths.Where(p => !p.EndsWith("broken.avi")), results.Select(r => r.Source));
        Assert.EndsWith("broken.avi", Assert.Single(failures).Source);
        foreach (var r in results)
            Assert.Equal(reader.Transcribe(r.Source).Text, r.Text); // batching does not change results
        // Cancelled: the cancellation itself, not a wrapper of the workers' exceptions.
        Assert.ThrowsAny<OperationCanceledException>(() => reader.TranscribeMany(paths, cancellationToken: new CancellationToken(true)));
        // A failing progress handler (a worker's exception) and a failing locator (the preprocessor's) come out as themselves.
        var bug = new InvalidOperationException("progress handler bug");
        Assert.Same(bug, Assert.Throws<InvalidOperationException>(() => reader.TranscribeMany(paths, new ThrowingProgress(bug))));
        using var broken = new LipReader(RandomModel(dir), new LipReaderOptions { BeamWidth = 5, BatchSize = 2, ModelWorkers = workers, Locator = new ThrowingLocator() });
        Assert.Equal("locator bug", Assert.Throws<InvalidOperationException>(() => broken.TranscribeMany(paths)).Message);
    }

    private sealed class ThrowingProgress(Exception exception) : IProgress<Transcription>
    {
        public void Report(Transcription value) => throw exception;
    }

    private sealed class ThrowingLocator : IMouthLocator
    {
        public MouthBox[] Locate(Video.VideoFrames frames, float aspect) => throw new InvalidOperationException("locator bug");
    }

    [Fact]
    public void MirrorAverageReadsBothViewsAlikeInBatches()
    {
        using var dir = new TempDir();
        var paths = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var path = dir.File($"m{i}.avi");
            SyntheticCorpus.WriteVideo(SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 4 }, 0, i).Frames, path, SyntheticVideoFormat.Avi);
            paths.Add(path);
        }
        string model = RandomModel(dir);
        var locator = new FixedRegionMouthLocator(0.5f, 0.72f, 0.3f);
        using var plain = new LipReader(model, new LipReaderOptions { BeamWidth = 0, Locator = locator });
        using var mirrored = new LipReader(model, new LipReaderOptions { BeamWidth = 0, Locator = locator, MirrorAverage = true, BatchSize = 2 });
        var batched = mirrored.TranscribeMany(paths).Transcriptions;
        for (int i = 0; i < paths.Count; i++)
        {
            var single = mirrored.Transcribe(paths[i]);
            Assert.Equal(single.Text, batched[i].Text);
            Assert.Equal(single.Confidence, batched[i].Confidence, 1e-4f);
        }
        // The mirrored view is really read: the averaged scores are not the plain ones.
        Assert.Contains(paths, p => Math.Abs(plain.Transcribe(p).Confidence - mirrored.Transcribe(p).Confidence) > 1e-4f);
    }

    [Fact]
    public void AveragingProbabilitiesKeepsTheOutputsForm()
    {
        float[] logs = [MathF.Log(0.2f), float.NegativeInfinity, MathF.Log(0.5f)];
        LipReader.AverageProbabilities(logs, [MathF.Log(0.6f), float.NegativeInfinity, float.NegativeInfinity], logProbs: true);
        Assert.Equal(MathF.Log(0.4f), logs[0], 1e-5f);
        Assert.Equal(float.NegativeInfinity, logs[1]);
        Assert.Equal(MathF.Log(0.25f), logs[2], 1e-5f);
        float[] probs = [0.2f, 0.5f];
        LipReader.AverageProbabilities(probs, [0.6f, 0.1f], logProbs: false);
        Assert.Equal([0.4f, 0.3f], probs);
    }

    [Fact]
    public void ImportTranscribeAndBenchCommands()
    {
        using var dir = new TempDir();
        var weights = LipNetArchitecture.Small.InitialWeights(5);
        SafeTensors.Save(dir.File("w.safetensors"), weights.Values);
        var import = CliTests.Run("import", "--safetensors", dir.File("w.safetensors"), "--arch", "Small", "--out", dir.File("m.onnx"));
        Assert.True(import.Code == 0, import.Err);

        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 4 }, 0, 0);
        var video = dir.File($"video/s1/{clip.Id}.avi");
        SyntheticCorpus.WriteVideo(clip.Frames, video, SyntheticVideoFormat.Avi);
        var (code, stdout, stderr) = CliTests.Run("transcribe", video, "--model", dir.File("m.onnx"), "--beam", "5", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var item = Assert.Single(doc.RootElement.EnumerateArray().ToList());
            Assert.Equal(["video", "text", "truth", "cer", "wer", "seconds", "segments", "confidence", "error"], item.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.Array, item.GetProperty("segments").ValueKind); // the contract gains segments (#18)
            Assert.Equal(clip.Sentence, item.GetProperty("truth").GetString()); // from the GRID file name
            Assert.True(item.GetProperty("cer").GetDouble() >= 0);
        }

        var bench = CliTests.Run("bench", video, "--model", dir.File("m.onnx"), "--repeat", "1");
        Assert.True(bench.Code == 0, bench.Err);
        using (var doc = JsonDocument.Parse(bench.Out))
        {
            Assert.Equal(["clips", "clips_per_s", "model_clips_per_s", "stages_ms"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["decode", "crop", "normalize", "model", "ctc"], doc.RootElement.GetProperty("stages_ms").EnumerateObject().Select(p => p.Name));
        }
        var fixedCrop = CliTests.Run("bench", video, "--model", dir.File("m.onnx"), "--repeat", "2", "--locator", "fixed", "--beam", "0", "--threads", "1");
        Assert.True(fixedCrop.Code == 0, fixedCrop.Err);
        Assert.Equal(2, JsonDocument.Parse(fixedCrop.Out).RootElement.GetProperty("clips").GetInt32());

        var missing = CliTests.Run("transcribe", video, "--model", dir.File("absent.onnx"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, missing.Code);
        Assert.Contains("absent.onnx", missing.Err);
        weights.Remove("gru2.bias_hh_l0");
        SafeTensors.Save(dir.File("bad.safetensors"), weights.Values);
        var bad = CliTests.Run("import", "--safetensors", dir.File("bad.safetensors"), "--arch", "Small", "--out", dir.File("x.onnx"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, bad.Code);
        Assert.Contains("gru2.bias_hh_l0", bad.Err);
    }
}

public class EvaluateCommandTests
{
    [Fact]
    public async Task EvaluateScoresEveryClipAndReportsTheUnreadableOnes()
    {
        using var dir = new TempDir();
        SyntheticCorpus.Write(dir.File("corpus"), new SyntheticCorpusOptions { Speakers = 2, ClipsPerSpeaker = 2, Seed = 8 });
        var items = CorpusReader.Open(dir.File("corpus")).Read().ToList();
        File.WriteAllBytes(dir.File("bad.mp4"), [0, 1, 2]);
        items.Add(items[0] with { VideoPath = dir.File("bad.mp4") });
        using var reader = new LipReader(LipReaderTests.RandomModel(dir), new LipReaderOptions { BeamWidth = 0 });
        var logged = new ListLogger();
        var report = await reader.EvaluateAsync(items, new EvaluationOptions { Corpus = "synthetic", Seed = 3, Logger = logged });

        Assert.Equal(4, report.Sentences);
        Assert.Equal(4, report.Clips!.Count);
        var failure = Assert.Single(report.Failed);
        Assert.Equal(dir.File("bad.mp4"), failure.Source);
        // The figures are ErrorRates' over the texts read, and each clip's text is what Transcribe reads.
        var texts = report.Clips.Select(c => c.Text).ToList();
        Assert.Equal(ErrorRates.CorpusCer(report.Clips.Select(c => c.Truth).ToList(), texts), report.Cer, 9);
        Assert.Equal(CtcVocabulary.NormalizeForScoring(reader.Transcribe(items[1].VideoPath).Text), report.Clips[1].Text);
        Assert.InRange(report.Cer, report.CerInterval[0], report.CerInterval[1]);
        Assert.Equal(2, report.PerSpeaker.Count);
        Assert.Equal("greedy", report.Decoder);
        Assert.Contains(logged.Lines, l => l.Contains("Skipped") && l.Contains("bad.mp4"));
        Assert.Contains(logged.Lines, l => l.StartsWith("Evaluated 4 sentences", StringComparison.Ordinal));
        // The same seed, the same intervals; a cancelled evaluation throws.
        Assert.Equal(report.CerInterval, reader.Evaluate(items, new EvaluationOptions { Seed = 3 }).CerInterval);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.EvaluateAsync(items, cancellationToken: new CancellationToken(true)));
    }

    [Fact]
    public void EvaluateWritesReportsPlotsAndOneJsonObject()
    {
        using var dir = new TempDir();
        var model = LipReaderTests.RandomModel(dir);
        SyntheticCorpus.Write(dir.File("corpus"), new SyntheticCorpusOptions { Speakers = 3, ClipsPerSpeaker = 2, Seed = 6 });
        File.WriteAllBytes(dir.File("corpus/video/s2/bbaa1a.avi"), [0, 1, 2]); // unreadable, with a GRID name
        var (code, stdout, stderr) = CliTests.Run("evaluate", dir.File("corpus"), "--model", model, "--out", dir.File("report"),
            "--split", "unseen:2", "--seed", "1", "--beam", "5", "--grammar", "grid", "--skip-bad", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        foreach (var key in new[] { "sentences", "cer", "wer", "cer_interval", "wer_interval", "cer_mean", "wer_mean", "bleu", "per_speaker" })
            Assert.True(root.TryGetProperty(key, out _), key);
        Assert.Equal(2, root.GetProperty("per_speaker").EnumerateObject().Count());
        // One naming for intervals: [low, high] arrays, overall and per speaker.
        Assert.Equal(2, root.GetProperty("cer_interval").GetArrayLength());
        Assert.All(root.GetProperty("per_speaker").EnumerateObject(), s => Assert.Equal(2, s.Value.GetProperty("cer_interval").GetArrayLength()));
        foreach (var file in new[] { "report.json", "report.md", "per_speaker_cer.png", "cer_histogram.png" })
            Assert.True(File.Exists(dir.File($"report/{file}")), file);

        var strict = CliTests.Run("evaluate", dir.File("corpus"), "--model", model, "--out", dir.File("report2"), "--beam", "0");
        Assert.Equal(LipNet.Cli.CliApp.BadInput, strict.Code);
        Assert.Contains("--skip-bad", strict.Err);
    }
}
