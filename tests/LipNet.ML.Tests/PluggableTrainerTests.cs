using Google.Protobuf;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Tests;

/// <summary>The generic trainer with a model that is not a LipNet, and the losses other models train with.</summary>
public class PluggableTrainerTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static readonly SequenceRegressionArchitecture Tiny = new("tiny-regressor", Frames: 6, InputFeatures: 3, GruHidden: 4, GruLayers: 2, OutputFeatures: 2);

    private static float[] Random(int count, int seed, float scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>d loss / d output of <paramref name="loss"/> against central differences of its own value.</summary>
    private static void AssertLossGradient(ITrainingLoss loss, float[] output, long[] shape, LossTargets targets, double tolerance = 2e-3)
    {
        var gradient = new float[output.Length];
        loss.Compute(output, shape, targets, gradient);
        const float h = 1e-3f;
        var scratch = new float[output.Length];
        for (int i = 0; i < output.Length; i++)
        {
            var plus = (float[])output.Clone();
            var minus = (float[])output.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (loss.Compute(plus, shape, targets, scratch) - (double)loss.Compute(minus, shape, targets, scratch)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) < tolerance, $"{loss.Name} d/dy[{i}]: numeric {numeric:F5}, analytic {gradient[i]:F5}");
        }
    }

    [Fact]
    public void RegressionLossesHaveTheirValuesAndGradientsAndIgnoreFramesPastALength()
    {
        long[] shape = [2, 3, 2];
        var output = Random(12, 1);
        var target = Random(12, 2);
        // Away from |d| = 0, where L1's gradient jumps.
        for (int i = 0; i < output.Length; i++)
            if (Math.Abs(output[i] - target[i]) < 0.01f)
                output[i] += 0.1f;
        var all = new RegressionTargets(target);
        var gradient = new float[12];
        Assert.Equal(output.Zip(target, (a, b) => Math.Abs(a - b)).Average(), new L1Loss().Compute(output, shape, all, gradient), 5);
        Assert.Equal(output.Zip(target, (a, b) => (a - b) * (a - b)).Average(), new MseLoss().Compute(output, shape, all, gradient), 5);
        AssertLossGradient(new L1Loss(), output, shape, all);
        AssertLossGradient(new MseLoss(), output, shape, all);

        // Item 0 counts 2 of its 3 frames, item 1 one: the rest neither adds to the loss nor gets a gradient.
        var masked = new RegressionTargets(target, [2, 1]);
        int[] counted = [0, 1, 2, 3, 6, 7];
        double expected = counted.Select(i => (double)(output[i] - target[i]) * (output[i] - target[i])).Average();
        Assert.Equal(expected, new MseLoss().Compute(output, shape, masked, gradient), 5);
        Assert.All(Enumerable.Range(0, 12).Except(counted), i => Assert.Equal(0f, gradient[i]));
        AssertLossGradient(new MseLoss(), output, shape, masked);
        AssertLossGradient(new L1Loss(), output, shape, masked);
    }

    [Fact]
    public void CrossEntropyWithLabelSmoothingMatchesItsDefinition()
    {
        long[] shape = [2, 2, 4];
        var uniform = new float[16];
        var classes = new ClassTargets([[1, 3], [0, -1]]); // the last frame is ignored
        var gradient = new float[16];
        // Uniform logits: −log(1/C) whatever the smoothing.
        Assert.Equal(Math.Log(4), new CrossEntropyLoss().Compute(uniform, shape, classes, gradient), 5);
        Assert.Equal(Math.Log(4), new CrossEntropyLoss(0.3f).Compute(uniform, shape, classes, gradient), 5);
        Assert.All(gradient[12..], g => Assert.Equal(0f, g));

        // One frame by hand: (1 − ε)·(−log p_c) + ε·mean_k(−log p_k), as PyTorch's label_smoothing.
        var logits = Random(16, 3, 2);
        float epsilon = 0.2f;
        double Manual(int offset, int c)
        {
            var row = logits.Skip(offset).Take(4).Select(v => (double)v).ToArray();
            double logSum = Math.Log(row.Sum(Math.Exp));
            var nll = row.Select(v => logSum - v).ToArray();
            return (1 - epsilon) * nll[c] + epsilon * nll.Average();
        }
        double expected = (Manual(0, 1) + Manual(4, 3) + Manual(8, 0)) / 3;
        Assert.Equal(expected, new CrossEntropyLoss(epsilon).Compute(logits, shape, classes, gradient), 5);
        AssertLossGradient(new CrossEntropyLoss(epsilon), logits, shape, classes);
        AssertLossGradient(new CrossEntropyLoss(), logits, shape, classes);
    }

    [Fact]
    public void LossesRefuseTargetsOfAnotherKindAndShape()
    {
        var output = new float[12];
        long[] shape = [2, 3, 2];
        Assert.Throws<ArgumentException>(() => new L1Loss().Compute(output, shape, new ClassTargets([[0, 0, 0], [0, 0, 0]]), new float[12]));
        Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Compute(output, shape, new RegressionTargets(new float[12]), new float[12]));
        Assert.Throws<ArgumentException>(() => new CtcTrainingLoss(0).Compute(output, shape, new RegressionTargets(new float[12]), new float[12]));
        Assert.Throws<TensorShapeException>(() => new MseLoss().Compute(output, shape, new RegressionTargets(new float[11]), new float[12]));
        Assert.Throws<TensorShapeException>(() => new CrossEntropyLoss().Compute(output, shape, new ClassTargets([[0, 0, 2], [0, 0, 0]]), new float[12]));
    }

    [Fact]
    public void CtcTrainingLossIsTheCtcOfTheBatch()
    {
        long[] shape = [2, 5, 4];
        var logits = Random(40, 4);
        var logProbs = new float[40];
        for (int r = 0; r < 10; r++)
        {
            var row = logits.AsSpan(r * 4, 4);
            float logSum = MathF.Log(row.ToArray().Sum(MathF.Exp));
            for (int k = 0; k < 4; k++)
                logProbs[r * 4 + k] = row[k] - logSum;
        }
        var targets = new CtcTargets([[1, 2], [3]], [5, 4]);
        var gradient = new float[40];
        float loss = new CtcTrainingLoss(0).Compute(logProbs, shape, targets, gradient);
        var expectedGradient = new float[40];
        CtcLoss.ComputeBatch(logProbs, Decoding.BatchLayout.BatchFirst, 2, 5, 4, targets.Labels, targets.Lengths, 0, expectedGradient, out float expected);
        Assert.Equal(expected, loss);
        Assert.Equal(expectedGradient, gradient);
    }

    [Fact]
    public void ARegressorsGradientsMatchFiniteDifferencesThroughTheTrainer()
    {
        var model = new SequenceRegressionModel(Tiny, new MseLoss());
        using var trainer = new Trainer(model, new TrainerOptions { BatchSize = 2, Seed = 3, Threads = 1 });
        var batch = new ModelBatch([Random(2 * 6 * 3, 5)], new RegressionTargets(Random(2 * 6 * 2, 6), [6, 4]));
        var (loss, gradients) = trainer.ComputeGradients(batch);
        Assert.Equal(loss, GradientCheck.TrainerLoss(trainer, batch), 5);
        GradientCheck.AssertTrainerGradients(trainer, batch, gradients, model.Parameters.Select(p => p.Name), 5e-3f, 2e-3, 2e-2);
    }

    [Fact]
    public void ARegressorLearnsAFrameSynchronousMappingAndItsInferenceGraphAgrees()
    {
        // Target per frame: the sum of this frame's and the previous frame's first feature, and the next frame's second
        // feature — learnable only by a recurrent model that looks both ways.
        var model = new SequenceRegressionModel(Tiny with { GruHidden = 8, GruLayers = 1 });
        using var trainer = new Trainer(model, new TrainerOptions { BatchSize = 4, Seed = 1, Threads = 1, LearningRate = 2e-2f, WarmupSteps = 5,
            TotalSteps = 150, WeightDecay = 0 });
        ModelBatch Batch(int seed)
        {
            var x = Random(4 * 6 * 3, seed);
            var y = new float[4 * 6 * 2];
            for (int n = 0; n < 4; n++)
                for (int t = 0; t < 6; t++)
                {
                    float Feature(int frame, int f) => frame is >= 0 and < 6 ? x[(n * 6 + frame) * 3 + f] : 0f;
                    y[(n * 6 + t) * 2] = Feature(t, 0) + Feature(t - 1, 0);
                    y[(n * 6 + t) * 2 + 1] = Feature(t + 1, 1);
                }
            return new ModelBatch([x], new RegressionTargets(y));
        }
        var test = Batch(999);
        float Evaluate() => model.Loss.Compute(trainer.Predict(test.Inputs), model.OutputShape(4), test.Targets, new float[48]);
        float before = Evaluate();
        for (int step = 0; step < 150; step++)
            trainer.TrainStep([Batch(step)]);
        float after = Evaluate();
        log.WriteLine($"held-out L1 before {before:F4}, after 150 steps {after:F4}");
        Assert.True(after < 0.4f * before, $"held-out L1 {before:F3} → {after:F3}");

        // The inference graph (fused GRUs, any N and T) reads like the training graph.
        var parameters = trainer.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        using var session = new InferenceSession(model.BuildInference(parameters, new Dictionary<string, string> { ["note"] = "test" }).ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(test.Inputs[0].ToArray(), [4, 6, 3]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [SequenceRegressionModel.InputName], [input], [SequenceRegressionModel.OutputName]);
        var fused = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var cells = trainer.Predict(test.Inputs);
        Assert.All(fused.Zip(cells), p => Assert.Equal(p.First, p.Second, 4));
        using var longer = OrtValue.CreateTensorValueFromMemory(Random(1 * 20 * 3, 7), [1, 20, 3]);
        using var longOutputs = session.Run(runOptions, [SequenceRegressionModel.InputName], [longer], [SequenceRegressionModel.OutputName]);
        Assert.Equal([1, 20, 2], longOutputs[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void TheTrainerRefusesParametersAndInputsOfOtherSizes()
    {
        var model = new SequenceRegressionModel(Tiny);
        var wrong = model.InitialParameters(0).ToDictionary(p => p.Key, p => p.Key == "head.bias" ? new float[3] : p.Value);
        Assert.Throws<TensorShapeException>(() => new Trainer(model, new TrainerOptions { BatchSize = 2 }, wrong));
        using var trainer = new Trainer(model, new TrainerOptions { BatchSize = 2, Threads = 1 });
        Assert.Throws<TensorShapeException>(() => trainer.Predict([new float[5]]));
        Assert.Throws<TensorShapeException>(() => trainer.Predict([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceRegressionModel(Tiny with { GruLayers = 0 }));
    }
}

/// <summary>The lip-to-speech model: video → mel through a LipNet's front end and a mel head, trained by the generic trainer.</summary>
public class LipToSpeechModelTests
{
    private static readonly LipToSpeech.LipToSpeechArchitecture Tiny =
        new(Onnx.LipNetArchitecture.Small with { Name = "tiny", ConvChannels = [4, 8, 8], GruHidden = 8, Frames = 8 }, MelBands: 6, MelPerFrame: 2);

    [Fact]
    public void ItsGradientsMatchFiniteDifferencesAndItsInferenceGraphReadsLikeTraining()
    {
        var model = new LipToSpeech.LipToSpeechModel(Tiny);
        using var trainer = new Trainer(model, new TrainerOptions { BatchSize = 2, Seed = 4, Threads = 1 });
        var random = new Random(3);
        var video = Enumerable.Range(0, 2 * 3 * 8 * 50 * 100).Select(_ => (float)random.NextDouble()).ToArray();
        var mel = Enumerable.Range(0, 2 * 16 * 6).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var batch = new ModelBatch([video], new RegressionTargets(mel, [16, 12]));
        Assert.Equal([2, 16, 6], model.OutputShape(2));
        var (loss, gradients) = trainer.ComputeGradients(batch);
        Assert.Equal(loss, GradientCheck.TrainerLoss(trainer, batch), 5);
        GradientCheck.AssertTrainerGradients(trainer, batch, gradients, ["conv1.weight", "gru2.R", "mel.weight", "mel.bias"], 1e-2f, 2e-3, 5e-2);
        var parameters = trainer.Parameters.ToDictionary(x => x.Key, x => x.Value.ToArray());
        using var session = new InferenceSession(model.BuildInference(parameters).ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(video, [2, 3, 8, 50, 100]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [LipToSpeech.LipToSpeechModel.InputName], [input], [LipToSpeech.LipToSpeechModel.OutputName]);
        Assert.Equal([2, 16, 6], outputs[0].GetTensorTypeAndShape().Shape);
        var fused = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.All(fused.Zip(trainer.Predict(batch.Inputs)), x => Assert.Equal(x.First, x.Second, 4));
    }

    [Fact]
    public void ItStartsFromALipreadingModelsWeights()
    {
        var model = new LipToSpeech.LipToSpeechModel(Tiny);
        var lipnet = Tiny.Visual.InitialWeights(9);
        var initial = model.InitialParametersFrom(lipnet, 1);
        var onnx = Onnx.LipNetGraph.ToOnnxLayout(Tiny.Visual, lipnet);
        Assert.Equal(onnx["gru1.W"].Data, initial["gru1.W"]);
        Assert.Equal(onnx["conv3.weight"].Data, initial["conv3.weight"]);
        Assert.DoesNotContain(initial.Keys, k => k.StartsWith("FC.", StringComparison.Ordinal));
        Assert.Equal(2 * 8 * 12, initial["mel.weight"].Length);
    }
}

/// <summary><see cref="LipToSpeech.LipToSpeechTraining"/> end to end on clips and mel targets the test makes.</summary>
public class LipToSpeechTrainingTests
{
    private static readonly Onnx.LipNetArchitecture Visual = Onnx.LipNetArchitecture.Small with { Name = "tiny", ConvChannels = [4, 8, 8], GruHidden = 8, Frames = 8 };

    /// <summary>Seeded random 100x50 clips of 8 frames (the sentence is not used by lip-to-speech).</summary>
    private sealed class RandomClips(int count, int seed) : ITrainingClips
    {
        public int Count => count;
        public (string Id, string Speaker, string Sentence) Describe(int index) => ($"clip{index}", "s1", "a");

        public TrainingClip Load(int index)
        {
            var pixels = new byte[8 * 50 * 100 * 3];
            new Random(seed * 1000 + index).NextBytes(pixels);
            return new TrainingClip($"clip{index}", "s1", "a", new Video.VideoFrames(pixels, 8, 100, 50, 25, Video.PixelOrder.Rgb, $"clip{index}"));
        }
    }

    private static (byte[] Lipreading, List<float[]> Mel) Setup(int clips)
    {
        var card = Onnx.ModelCard.For(Visual, "random weights for tests") with { Frames = 8 };
        byte[] lipreading = Onnx.LipNetGraph.Build(Visual, Visual.InitialWeights(9), card).ToByteArray();
        // [16, 6] log-mel per clip (2 per video frame, 6 bands): a smooth ramp per clip, so there is something to learn.
        var mel = Enumerable.Range(0, clips).Select(c => Enumerable.Range(0, 16 * 6).Select(i => (float)Math.Sin(0.3 * (i / 6) + c) - 2 + 0.1f * (i % 6)).ToArray()).ToList();
        return (lipreading, mel);
    }

    private static LipToSpeech.LipToSpeechTrainingOptions Options(Tensors.FrameAugmentOptions augment) => new()
    {
        Trainer = new TrainerOptions { BatchSize = 2, LearningRate = 5e-3f, WarmupSteps = 2, Seed = 3, Threads = 1 },
        Epochs = 3,
        Mel = new Audio.SpeechFeatureOptions { FeaturesPerVideoFrame = 2, MelBands = 6 },
        Augment = augment,
    };

    [Fact]
    public void SpatialAugmentationTrainsReproduciblyAndFrameJitterIsRefused()
    {
        var (lipreading, mel) = Setup(4);
        var augment = Tensors.FrameAugmentOptions.Full with { FrameJitterProbability = 0 };
        using var dir = new TempDir();
        var first = LipToSpeech.LipToSpeechTraining.Train(new RandomClips(4, 1), mel, new RandomClips(2, 2), mel[..2], lipreading, "tiny", dir.File("a"), Options(augment));
        var second = LipToSpeech.LipToSpeechTraining.Train(new RandomClips(4, 1), mel, new RandomClips(2, 2), mel[..2], lipreading, "tiny", dir.File("b"), Options(augment));
        Assert.Equal(3, first.Epochs.Count);
        Assert.True(first.Epochs[^1].TrainLoss < first.Epochs[0].TrainLoss, $"training loss {first.Epochs[0].TrainLoss} → {first.Epochs[^1].TrainLoss}");
        // The same seed, the same augmented batches: identical runs.
        Assert.Equal(first.Epochs.Select(e => e.TrainLoss), second.Epochs.Select(e => e.TrainLoss));
        Assert.True(File.Exists(Path.Combine(dir.File("a"), LipToSpeech.LipToSpeechTraining.ModelFile)));
        // Flips alone (the default) give other batches than the full set, so other losses.
        var flips = LipToSpeech.LipToSpeechTraining.Train(new RandomClips(4, 1), mel, new RandomClips(2, 2), mel[..2], lipreading, "tiny", dir.File("c"),
            Options(new LipToSpeech.LipToSpeechTrainingOptions().Augment));
        Assert.NotEqual(first.Epochs[0].TrainLoss, flips.Epochs[0].TrainLoss);

        var ex = Assert.Throws<ArgumentException>(() => LipToSpeech.LipToSpeechTraining.Train(new RandomClips(4, 1), mel, new RandomClips(2, 2), mel[..2],
            lipreading, "tiny", dir.File("d"), Options(Tensors.FrameAugmentOptions.Full)));
        Assert.Contains("misalign", ex.Message);
    }
}
