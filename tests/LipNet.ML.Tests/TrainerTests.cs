using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Training;

namespace LipNet.ML.Tests;

public class TrainerTests
{
    private static readonly LipNetArchitecture Tiny = LipNetArchitecture.Small with { Name = "tiny", ConvChannels = [4, 8, 8], GruHidden = 16, Frames = 8 };

    private static (float[] Video, List<int[]> Targets, List<string> Texts) Batch(LipNetTrainer trainer)
    {
        var random = new Random(2);
        var video = Enumerable.Range(0, 2 * 3 * 8 * 50 * 100).Select(_ => (float)random.NextDouble()).ToArray();
        List<string> texts = ["ab", "c"];
        return (video, texts.Select(trainer.Vocabulary.Encode).ToList(), texts);
    }

    [Fact]
    public void StepsReduceTheLossReproducibly()
    {
        var options = new TrainerOptions { BatchSize = 2, LearningRate = 1e-2f, WarmupSteps = 1, TotalSteps = 20, Seed = 3, Threads = 1 };
        float[] Run()
        {
            using var trainer = new LipNetTrainer(Tiny, options);
            var (video, targets, _) = Batch(trainer);
            return Enumerable.Range(0, 12).Select(_ => trainer.TrainStep(video, targets, [8, 8]).Loss).ToArray();
        }
        var a = Run();
        Assert.True(a[^1] < a[0] * 0.7f, $"loss {a[0]} → {a[^1]}");
        // Same seed, same data: the same loss curve, bit for bit (the trainer feeds ONNX Runtime aligned buffers only).
        var b = Run();
        Assert.Equal(a, b);
    }

    [Fact]
    public void NonFiniteInputStopsWithoutTouchingTheParameters()
    {
        using var trainer = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 1 });
        var (video, targets, _) = Batch(trainer);
        video[17] = float.NaN;
        var before = trainer.Parameters["conv1.weight"].ToArray();
        Assert.ThrowsAny<LipNetException>(() => trainer.TrainStep(video, targets, [8, 8]));
        Assert.Equal(before, trainer.Parameters["conv1.weight"].ToArray());
        Assert.Equal(0, trainer.Step);
    }

    [Fact]
    public void ExportedModelReproducesTheTrainersOutputs()
    {
        using var trainer = new LipNetTrainer(Tiny, new TrainerOptions { BatchSize = 2, Seed = 4 });
        var (video, targets, _) = Batch(trainer);
        trainer.TrainStep(video, targets, [8, 8]);
        var expected = trainer.Predict(video);
        using var model = LipNetModel.Load(trainer.Export("unit test").ToByteArray(), "exported.onnx");
        Assert.Equal(Onnx.ModelCard.For(Tiny, "x").Channels, model.Card.Channels);
        Assert.Equal(Decoding.BlankPosition.First, model.Card.Blank);
        var (actual, frames) = model.Run(video, 2);
        Assert.Equal(8, frames);
        Assert.True(expected.Zip(actual, (p, q) => MathF.Abs(p - q)).Max() < 1e-4f);

        // The same clips read in place from a slice of a larger buffer, and from an OrtValue: the same output.
        var larger = new float[video.Length + 7];
        video.CopyTo(larger, 7);
        Assert.Equal(actual, model.Run(larger.AsMemory(7), 2).LogProbs);
        var card = model.Card;
        using var value = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(video, [2, card.Channels, card.Frames, card.Height, card.Width]);
        Assert.Equal(actual, model.Run(value).LogProbs);
        Assert.Throws<TensorShapeException>(() => model.Run(larger.AsMemory(1), 2));
    }
}
