using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Tests;

/// <summary>Runs small ONNX graphs and checks emitted gradients against central finite differences.</summary>
internal static class GradientCheck
{
    public static Dictionary<string, float[]> Run(InferenceSession session, Dictionary<string, float[]> inputs, IReadOnlyDictionary<string, long[]> shapes, string[] outputs)
    {
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(inputs[n], shapes[n])).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputs);
            return outputs.Select((o, i) => (o, results[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.o, p => p.Item2);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    public static Dictionary<string, float[]> RandomInputs(IReadOnlyDictionary<string, long[]> shapes, int seed)
    {
        var random = new Random(seed);
        return shapes.ToDictionary(kv => kv.Key, kv => Enumerable.Range(0, (int)kv.Value.Aggregate(1L, (p, q) => p * q)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
    }

    /// <summary>
    /// Differentiates sum(upstream ⊙ output) of <paramref name="forward"/> with the training graph and by central differences
    /// (step <paramref name="h"/>) at <paramref name="indices"/>(name) of each input in <paramref name="wrt"/>.
    /// </summary>
    public static void AssertMatchesFiniteDifferences(Onnx.Proto.ModelProto forward, Onnx.Proto.ModelProto training, string output, long[] outputShape,
        IReadOnlyDictionary<string, long[]> shapes, Dictionary<string, float[]> inputs, string[] wrt, float h, double tolerance,
        Func<string, int, IEnumerable<int>>? indices = null, int seed = 3)
    {
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(training));
        using var forwardSession = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(forward));
        var random = new Random(seed);
        var upstream = Enumerable.Range(0, (int)outputShape.Aggregate(1L, (p, q) => p * q)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var feedShapes = new Dictionary<string, long[]>(shapes) { [GradientGraph.GradientName(output)] = outputShape };
        var feed = new Dictionary<string, float[]>(inputs) { [GradientGraph.GradientName(output)] = upstream };
        var analytic = Run(session, feed, feedShapes, wrt.Select(GradientGraph.GradientName).ToArray());
        double Objective(Dictionary<string, float[]> v) => Run(forwardSession, v, shapes, [output])[output].Zip(upstream, (a, c) => (double)a * c).Sum();
        foreach (var name in wrt)
        {
            var grad = analytic[GradientGraph.GradientName(name)];
            Assert.Equal(inputs[name].Length, grad.Length);
            foreach (int i in indices?.Invoke(name, grad.Length) ?? Enumerable.Range(0, grad.Length))
            {
                var plus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                var minus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                plus[name][i] += h;
                minus[name][i] -= h;
                double numeric = (Objective(plus) - Objective(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) < tolerance + 1e-2 * Math.Abs(numeric), $"d/d{name}[{i}]: numeric {numeric:F5}, graph {grad[i]:F5}");
            }
        }
    }

    /// <summary>The model's loss on a batch through the trainer's forward pass (dropout off).</summary>
    public static float TrainerLoss(Trainer trainer, ModelBatch batch)
    {
        var output = trainer.Predict(batch.Inputs);
        return trainer.Model.Loss.Compute(output, trainer.Model.OutputShape(trainer.Options.BatchSize), batch.Targets, new float[output.Length]);
    }

    /// <summary>
    /// A trainer's gradients of <paramref name="names"/> (at their first, middle and last element) against central
    /// differences of the model's loss on <paramref name="batch"/>, perturbing the trainer's live parameter buffers.
    /// </summary>
    public static void AssertTrainerGradients(Trainer trainer, ModelBatch batch, List<float[]> gradients, IEnumerable<string> names, float h,
        double absolute, double relative)
    {
        double Loss() => TrainerLoss(trainer, batch);
        var order = trainer.Model.Parameters.Select(p => p.Name).ToList();
        foreach (var name in names)
        {
            var values = trainer.Parameters[name];
            var gradient = gradients[order.IndexOf(name)];
            foreach (int i in new[] { 0, values.Length / 2, values.Length - 1 })
            {
                float original = values.Span[i];
                values.Span[i] = original + h;
                double plus = Loss();
                values.Span[i] = original - h;
                double minus = Loss();
                values.Span[i] = original;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[i]) < absolute + relative * Math.Abs(numeric), $"d/d{name}[{i}]: numeric {numeric:F5}, graph {gradient[i]:F5}");
            }
        }
    }
}
