using LipNet.ML.Onnx;
using LipNet.ML.Tensors;
using LipNet.ML.Training;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

public class TrainingRunTests
{
    private static readonly LipNetArchitecture Tiny = LipNetArchitecture.Small with { Name = "tiny", ConvChannels = [4, 8, 8], GruHidden = 16, Frames = 8 };

    /// <summary>Seeded random 100x50 clips of 8 frames with short sentences: a corpus the tests make themselves.</summary>
    private sealed class RandomClips(int count, int seed) : ITrainingClips
    {
        private static readonly string[] Texts = ["ab", "c", "bad", "e f"];
        public int Count => count;
        public (string Id, string Speaker, string Sentence) Describe(int index) => ($"clip{index}", $"s{index % 2}", Texts[index % Texts.Length]);

        public TrainingClip Load(int index)
        {
            var pixels = new byte[8 * 50 * 100 * 3];
            new Random(seed * 1000 + index).NextBytes(pixels);
            var (id, speaker, sentence) = Describe(index);
            return new TrainingClip(id, speaker, sentence, new VideoFrames(pixels, 8, 100, 50, 25, PixelOrder.Rgb, id));
        }
    }

    /// <summary>Clips of <see cref="RandomClips"/> whose <paramref name="unreadable"/> ones fail as a video without a face does.</summary>
    private sealed class FaultyClips(ITrainingClips inner, params int[] unreadable) : ITrainingClips
    {
        public int Count => inner.Count;
        public (string Id, string Speaker, string Sentence) Describe(int index) => inner.Describe(index);
        public TrainingClip Load(int index) => unreadable.Contains(index)
            ? throw new MouthLocatorException("no face or mouth found in any of 3 sampled frames", $"clip{index}.mp4")
            : inner.Load(index);
    }

    private static TrainingRunOptions Options(int epochs) => new()
    {
        Trainer = new TrainerOptions { BatchSize = 2, LearningRate = 5e-3f, WarmupSteps = 2, TotalSteps = 12, Seed = 5, Threads = 1, Dropout = 0.2f },
        Epochs = epochs,
        Normalize = FrameNormalizeOptions.Standardized with { FrameCount = 8 },
        ValidationBeam = 4,
        KeepCheckpoints = 2,
    };

    private static float MaxRelativeDifference(Dictionary<string, float[]> a, Dictionary<string, float[]> b) =>
        a.Keys.Max(k => a[k].Zip(b[k], (x, y) => MathF.Abs(x - y)).Max() / Math.Max(1e-6f, a[k].Max(MathF.Abs)));

    [Fact]
    public void ResumingFromAMidEpochCheckpointReachesTheUninterruptedWeights()
    {
        var train = new RandomClips(7, 1);
        var validation = new RandomClips(3, 2);
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var full = TrainingRun.Run(Tiny, train, validation, dirA.Path, Options(3));
        Assert.Equal(12, full.State.Step); // 3 epochs of ceil(7 / 2) = 4 batches
        Assert.Equal(3, full.State.Epochs.Count);

        // Interrupted mid-epoch 2 (after step 6, checkpointed every 3 steps), then resumed from that checkpoint.
        var interrupted = TrainingRun.Run(Tiny, train, validation, dirB.Path, Options(3) with { CheckpointEverySteps = 3, MaxStepsThisRun = 6 });
        Assert.Equal(6, interrupted.State.Step);
        Assert.EndsWith("step-0000006", interrupted.LastCheckpoint);
        var resumed = TrainingRun.Run(Tiny, train, validation, dirB.Path, Options(3), resumeFrom: interrupted.LastCheckpoint);
        Assert.Equal(12, resumed.State.Step);

        var a = LoadOnnx(full.LastCheckpoint);
        var b = LoadOnnx(resumed.LastCheckpoint);
        // Bit for bit: every buffer ONNX Runtime reads is aligned (AlignedMemory), so runs repeat exactly on CPU.
        Assert.Equal(0f, MaxRelativeDifference(a, b));
        Assert.Equal(full.State.Epochs.Select(e => e.GreedyCer), resumed.State.Epochs.Select(e => e.GreedyCer));
        Assert.Equal(full.State.Epochs.Select(e => Math.Round(e.TrainLoss, 3)), resumed.State.Epochs.Select(e => Math.Round(e.TrainLoss, 3)));

        // The resumed run's step log reads as one run: steps 1..12 once each.
        var steps = File.ReadLines(Path.Combine(dirB.Path, TrainingRun.StepsCsv)).Skip(1).Select(l => int.Parse(l.Split(',')[0])).ToList();
        Assert.Equal(Enumerable.Range(1, 12), steps);
        Assert.Equal(3, File.ReadLines(Path.Combine(dirB.Path, TrainingRun.EpochsCsv)).Count() - 1);
        // Keep-last-2 plus the best checkpoint.
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(dirB.Path, TrainingRun.CheckpointsFolder)).Length);
        Assert.True(File.Exists(Path.Combine(dirB.Path, TrainingRun.BestFolder, TrainingCheckpoint.StateFile)));
    }

    [Fact]
    public void UnreadableClipsStopATypedErrorOrAreSkippedAlike()
    {
        var train = new FaultyClips(new RandomClips(7, 1), 2, 3);
        using var dir = new TempDir();
        var ex = Assert.Throws<LipNetException>(() => TrainingRun.Run(Tiny, train, null, dir.File("strict"), Options(1)));
        Assert.Matches("clip[23].mp4", ex.FilePath);
        Assert.Contains("no face or mouth found", ex.Message);
        Assert.Contains("--skip-bad", ex.Message);

        var reported = new List<string>();
        var skipping = new SkippingTrainingClips(train, e => { lock (reported) reported.Add(e.FilePath!); });
        var result = TrainingRun.Run(Tiny, skipping, new SkippingTrainingClips(new FaultyClips(new RandomClips(3, 2), 0)), dir.File("skipping"), Options(2));
        Assert.Equal(8, result.State.Step);
        Assert.Equal(["clip2.mp4", "clip3.mp4"], reported.Order());
        Assert.Equal([2, 3], skipping.Unreadable.Keys.Order());
        // Both stand in by the next readable clip, and are described as it, every time.
        Assert.Equal(train.Describe(4), skipping.Describe(2));
        Assert.Equal(train.Describe(4), skipping.Describe(3));
        Assert.Equal("clip4", skipping.Load(3).Id);
        Assert.Equal(2, reported.Count);
        Assert.Throws<LipNetException>(() => new SkippingTrainingClips(new FaultyClips(new RandomClips(2, 1), 0, 1)).Load(0));
    }

    [Fact]
    public void InitialWeightsStartAFreshScheduleFromThoseWeights()
    {
        var train = new RandomClips(4, 1);
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var first = TrainingRun.Run(Tiny, train, null, dirA.Path, Options(1) with { CheckpointEverySteps = 2, MaxStepsThisRun = 2 });
        var weights = TrainingCheckpoint.LoadParameters(first.LastCheckpoint);

        // A second stage at learning rate 0 keeps the given weights exactly, and counts its own steps from 1.
        var frozen = Options(1) with { Trainer = Options(1).Trainer with { LearningRate = 0, WeightDecay = 0 }, CheckpointEverySteps = 1, MaxStepsThisRun = 1, InitialWeights = weights };
        var second = TrainingRun.Run(Tiny, train, null, dirB.Path, frozen);
        Assert.Equal(1, second.State.Step);
        Assert.Equal(0f, MaxRelativeDifference(LoadOnnx(first.LastCheckpoint), LoadOnnx(second.LastCheckpoint)));

        // Weights of another architecture: a typed error before any step.
        var paper = LipNetArchitecture.Small.InitialWeights(1);
        using var dirC = new TempDir();
        var ex = Assert.Throws<TensorShapeException>(() => TrainingRun.Run(Tiny, train, null, dirC.Path, frozen with { InitialWeights = paper }));
        Assert.Contains("initial weights", ex.Message);
        Assert.False(File.Exists(Path.Combine(dirC.Path, TrainingRun.StepsCsv)) && File.ReadLines(Path.Combine(dirC.Path, TrainingRun.StepsCsv)).Count() > 1);
    }

    private static Dictionary<string, float[]> LoadOnnx(string checkpoint) =>
        LipNetGraph.ToOnnxLayout(Tiny, TrainingCheckpoint.LoadParameters(checkpoint)).ToDictionary(p => p.Key, p => p.Value.Data);

    [Fact]
    public void AccumulatedMicroBatchesGiveTheGradientOfTheWholeBatch()
    {
        var clips = new RandomClips(2, 3);
        var normalize = FrameNormalizeOptions.Standardized with { FrameCount = 8 };
        using var whole = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 1, Threads = 1 });
        using var half = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 1, Seed = 1, Threads = 1 });
        var assembler = new TrainingBatchAssembler(normalize, null, whole.Vocabulary);
        var (loss, gradients) = whole.ComputeGradients(assembler.Assemble(clips, [0, 1], 0, 0, 0));
        var (lossA, a) = half.ComputeGradients(assembler.Assemble(clips, [0], 0, 0, 0));
        var (lossB, b) = half.ComputeGradients(assembler.Assemble(clips, [1], 0, 0, 0));
        Assert.Equal(loss, (lossA + lossB) / 2, 4);
        for (int i = 0; i < gradients.Count; i++)
        {
            float scale = Math.Max(1e-6f, gradients[i].Max(MathF.Abs));
            float worst = gradients[i].Select((g, k) => MathF.Abs(g - (a[i][k] + b[i][k]) / 2)).Max() / scale;
            Assert.True(worst < 1e-4f, $"parameter {i}: {worst:E2}");
        }
    }

    [Fact]
    public void WordSpansChangeTheTargetsWithTheFramesAndLeaveOtherRunsAsTheyWere()
    {
        var words = new Corpora.WordTiming[] { new("a", 0.04, 0.12), new("b", 0.12, 0.2), new("c", 0.2, 0.28) };
        var clips = new TimedClips(new RandomClips(2, 6), words);
        var normalize = FrameNormalizeOptions.Standardized with { FrameCount = 8 };
        var vocabulary = Decoding.CtcVocabulary.Grid(Decoding.BlankPosition.First);
        var plain = new TrainingBatchAssembler(normalize, FrameAugmentOptions.Default, vocabulary).Assemble(clips, [0, 1], 3, 0, 0);
        var spans = new TrainingBatchAssembler(normalize, FrameAugmentOptions.Default with { WordSpanProbability = 1 }, vocabulary)
            .Assemble(clips, [0, 1], 3, 0, 0);
        var whole = vocabulary.Encode("a b c");
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(whole, plain.Targets[i]);
            var text = vocabulary.Decode(spans.Targets[i]);
            Assert.True(text is "a" or "b" or "c" or "a b" or "b c", text);
        }
        // On clips without word times the options change nothing: their draws come from streams of their own, so the flips and
        // jitter are those of a run without them.
        var untimed = new RandomClips(2, 6);
        var without = new TrainingBatchAssembler(normalize, FrameAugmentOptions.Default, vocabulary).Assemble(untimed, [0, 1], 3, 0, 0);
        var both = FrameAugmentOptions.Default with { WordSpanProbability = 1, WordSpliceProbability = 1 };
        var with = new TrainingBatchAssembler(normalize, both, vocabulary).Assemble(untimed, [0, 1], 3, 0, 0);
        Assert.Equal(without.Video.ToArray(), with.Video.ToArray());
    }

    [Fact]
    public void WordSplicesTakeAWordFromAnotherClipOfTheSameSpeaker()
    {
        // Speakers s0 and s1 alternate; every clip says "a b c" but clip 1 (speaker s1) says "d e f": a splice into an s1 clip
        // can only bring d, e or f into its place, and s0's clips never get them.
        var words = new Corpora.WordTiming[] { new("a", 0.04, 0.12), new("b", 0.12, 0.2), new("c", 0.2, 0.28) };
        var other = words.Select((w, k) => w with { Word = "def"[k].ToString() }).ToArray();
        var clips = new TimedClips(new RandomClips(6, 6), words, (1, other));
        var normalize = FrameNormalizeOptions.Standardized with { FrameCount = 8 };
        var vocabulary = Decoding.CtcVocabulary.Grid(Decoding.BlankPosition.First);
        var splicing = new TrainingBatchAssembler(normalize, FrameAugmentOptions.Default with { WordSpliceProbability = 1 }, vocabulary);
        var s1Texts = new HashSet<string>();
        for (int epoch = 0; epoch < 12; epoch++)
        {
            var batch = splicing.Assemble(clips, [0, 3, 2, 5], 1, epoch, 0);
            Assert.Equal("a b c", vocabulary.Decode(batch.Targets[0])); // s0's clips only have "a b c" donors
            Assert.Equal("a b c", vocabulary.Decode(batch.Targets[2]));
            s1Texts.Add(vocabulary.Decode(batch.Targets[1]));
            s1Texts.Add(vocabulary.Decode(batch.Targets[3]));
        }
        Assert.Contains("a b c", s1Texts); // from s1's other "a b c" clips
        Assert.True(s1Texts.Count > 1, "clip 1 lends its words to the other s1 clips");
        Assert.All(s1Texts, t => Assert.Matches("^[ad] [be] [cf]$", t));

        // A donor that cannot be read stops the batch with its own typed error (naming its file), as a batch clip does.
        var faulty = new FaultyClips(clips, 3);
        bool thrown = false;
        for (int epoch = 0; epoch < 40 && !thrown; epoch++)
        {
            try
            {
                splicing.Assemble(faulty, [1], 1, epoch, 0);
            }
            catch (MouthLocatorException ex)
            {
                Assert.Equal("clip3.mp4", ex.FilePath);
                thrown = true;
            }
        }
        Assert.True(thrown, "clip 3 is drawn as a donor within 40 epochs");
    }

    [Fact]
    public void ValidationReadsTheClipsAsTheyAreWhateverTheTrainingAugmentation()
    {
        // Word spans and splices change only clips with word times: here the validation clips alone have them, so both runs
        // train on the same batches, and validation must not see the augmentation (it once did: flips, shifts and spans).
        var train = new RandomClips(4, 1);
        var words = new Corpora.WordTiming[] { new("a", 0.04, 0.12), new("b", 0.12, 0.2), new("c", 0.2, 0.28) };
        var validation = new TimedClips(new RandomClips(3, 2), words);
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var plain = TrainingRun.Run(Tiny, train, validation, dirA.Path, Options(1) with { Augment = FrameAugmentOptions.Full });
        var spans = TrainingRun.Run(Tiny, train, validation, dirB.Path, Options(1) with
        {
            Augment = FrameAugmentOptions.Full with { WordSpanProbability = 1, WordSpliceProbability = 1 },
        });
        Assert.Equal(0f, MaxRelativeDifference(LoadOnnx(plain.LastCheckpoint), LoadOnnx(spans.LastCheckpoint)));
        Assert.Equal(plain.State.Epochs[0].ValidationLoss, spans.State.Epochs[0].ValidationLoss);
        Assert.Equal(plain.State.Epochs[0].GreedyCer, spans.State.Epochs[0].GreedyCer);

        // With a learning rate of zero the weights stay where they start, whatever the batches: validation is then the same
        // with no augmentation and with flips, jitter, shifts, zoom and lighting.
        using var dirC = new TempDir();
        using var dirD = new TempDir();
        var still = Options(1) with { Trainer = Options(1).Trainer with { LearningRate = 0, WeightDecay = 0 } };
        var none = TrainingRun.Run(Tiny, train, validation, dirC.Path, still with { Augment = null });
        var full = TrainingRun.Run(Tiny, train, validation, dirD.Path,
            still with { Augment = FrameAugmentOptions.Full with { FlipProbability = 1 } });
        Assert.Equal(none.State.Epochs[0].ValidationLoss, full.State.Epochs[0].ValidationLoss);
    }

    /// <summary>Clips of another set with the sentence "a b c" and its word times (one clip may say other words).</summary>
    private sealed class TimedClips(ITrainingClips inner, IReadOnlyList<Corpora.WordTiming> words,
        (int Index, Corpora.WordTiming[] Words)? exception = null) : ITrainingClips
    {
        public int Count => inner.Count;
        public (string Id, string Speaker, string Sentence) Describe(int index) =>
            (inner.Describe(index).Id, inner.Describe(index).Speaker, Sentence(index));
        public TrainingClip Load(int index) => inner.Load(index) with { Sentence = Sentence(index), Words = WordsOf(index) };
        private IReadOnlyList<Corpora.WordTiming> WordsOf(int index) => exception is { } e && e.Index == index ? e.Words : words;
        private string Sentence(int index) => string.Join(' ', WordsOf(index).Select(w => w.Word));
    }

    [Fact]
    public void DropoutMasksAreSeededAndEvaluationUsesNone()
    {
        var clips = new RandomClips(2, 4);
        var normalize = FrameNormalizeOptions.Standardized with { FrameCount = 8 };
        using var plain = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 1, Threads = 1 });
        using var dropped = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 1, Threads = 1, Dropout = 0.5f });
        var batch = new TrainingBatchAssembler(normalize, null, plain.Vocabulary).Assemble(clips, [0, 1], 0, 0, 0);
        // Same weights: evaluation ignores dropout.
        Assert.True(plain.Predict(batch.Video).Zip(dropped.Predict(batch.Video), (p, q) => MathF.Abs(p - q)).Max() < 1e-5f);
        var (l1, g1) = dropped.ComputeGradients(batch, dropoutSeed: 7);
        var (l2, g2) = dropped.ComputeGradients(batch, dropoutSeed: 7);
        var (l3, _) = dropped.ComputeGradients(batch, dropoutSeed: 8);
        var (l0, _) = plain.ComputeGradients(batch);
        Assert.Equal(l1, l2, 5);
        Assert.Equal(g1[0], g2[0]);
        Assert.NotEqual(l1, l3, 3);
        Assert.NotEqual(l0, l1, 3);
    }

    [Fact]
    public void WrongBatchShapesAreTypedErrors()
    {
        using var trainer = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 1, Threads = 1 });
        var targets = new List<int[]> { trainer.Vocabulary.Encode("ab"), trainer.Vocabulary.Encode("c") };
        var ex = Assert.Throws<TensorShapeException>(() => trainer.TrainStep(new float[100], targets, [8, 8]));
        Assert.Contains("[2, 3, 8, 50, 100]", ex.Message);
        Assert.Throws<TensorShapeException>(() => trainer.TrainStep(new float[2 * 3 * 8 * 50 * 100], targets.Take(1).ToList(), [8]));
        Assert.Throws<TensorShapeException>(() => trainer.Predict(new float[7]));
        Assert.Equal(0, trainer.Step);
    }

    [Fact]
    public void CheckpointsAreCompleteOrAbsent()
    {
        using var dir = new TempDir();
        using var trainer = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 1, Seed = 2, Threads = 1 });
        string path = Path.Combine(dir.Path, "ckpt");
        TrainingCheckpoint.Save(path, trainer, new TrainingState { Step = 3, Architecture = Tiny });
        Assert.False(Directory.Exists(path + ".tmp"));
        var state = TrainingCheckpoint.LoadState(path);
        Assert.Equal(3, state.Step);
        // A torn state file is a typed error naming the file.
        File.WriteAllText(Path.Combine(path, TrainingCheckpoint.StateFile), "{ \"step\": ");
        var ex = Assert.ThrowsAny<LipNetException>(() => TrainingCheckpoint.LoadState(path));
        Assert.Contains(TrainingCheckpoint.StateFile, ex.Message + ex.FilePath);
        Assert.ThrowsAny<LipNetException>(() => TrainingCheckpoint.LoadState(dir.Path));
    }

    [Fact]
    public async Task RunAsyncTrainsLikeRunAndStopsWhenCancelled()
    {
        var train = new RandomClips(4, 3);
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var sync = TrainingRun.Run(Tiny, train, null, dirA.Path, Options(1));
        var async = await TrainingRun.RunAsync(Tiny, train, null, dirB.Path, Options(1));
        Assert.Equal(sync.State.Step, async.State.Step);
        Assert.Equal(sync.State.Epochs[0].TrainLoss, async.State.Epochs[0].TrainLoss, 6);

        // Cancelled from the progress of its first step: the task ends cancelled, not faulted, and no further step runs.
        using var cancel = new CancellationTokenSource();
        int steps = 0;
        var progress = new SynchronousProgress<TrainingProgress>(_ => { steps++; cancel.Cancel(); });
        using var dirC = new TempDir();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TrainingRun.RunAsync(Tiny, train, null, dirC.Path, Options(2), progress: progress, cancellation: cancel.Token));
        Assert.Equal(1, steps);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
