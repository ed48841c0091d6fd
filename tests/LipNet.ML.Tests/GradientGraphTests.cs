using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Tests;

public class GradientGraphTests
{
    private static readonly Dictionary<string, long[]> Shapes = new()
    {
        ["x"] = [3, 2, 4], ["W1"] = [4, 5], ["b1"] = [5], ["W2"] = [5, 6], ["b2"] = [6], ["s"] = [6],
    };

    /// <summary>x → MatMul → Add → Relu → Tanh → MatMul → Sigmoid → Sub → Mul → LogSoftmax → Transpose → Reshape → Identity.</summary>
    private static (Onnx.Proto.ModelProto Model, Dictionary<string, int> Ranks) Forward()
    {
        var g = new OnnxGraphBuilder("head");
        var v = Shapes.ToDictionary(kv => kv.Key, kv => g.Input(kv.Key, OnnxElementType.Float, kv.Value.Select(d => (Dim)d).ToArray()));
        var ranks = Shapes.ToDictionary(kv => kv.Key, kv => kv.Value.Length);
        OnnxValue Track(OnnxValue value, int rank) { ranks[value.Name] = rank; return value; }
        var a = Track(g.MatMul(v["x"], v["W1"]), 3);
        a = Track(g.Add(a, v["b1"]), 3);
        a = Track(g.Relu(a), 3);
        a = Track(g.Elementwise("Tanh", a), 3);
        var c = Track(g.MatMul(a, v["W2"]), 3);
        c = Track(g.Elementwise("Sigmoid", c), 3);
        c = Track(g.Op("Sub", c, v["b2"]), 3);
        c = Track(g.Op("Mul", c, v["s"]), 3);
        var lp = Track(g.LogSoftmax(c, 2), 3);
        var t = g.Reshape(g.Transpose(lp, 1, 0, 2), 2, -1);
        var output = g.Node("Identity", [t], outputNames: ["out"])[0];
        g.Output(output with { Shape = [2, 18] });
        return (g.Build(), ranks);
    }

    private static Dictionary<string, float[]> Run(InferenceSession session, Dictionary<string, float[]> inputs, Dictionary<string, long[]> shapes, string[] outputs)
    {
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(inputs[n], shapes[n])).ToArray();
        try
        {
            using var results = session.Run(new RunOptions(), names, values, outputs);
            return outputs.Select((o, i) => (o, results[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.o, p => p.Item2);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    [Fact]
    public void HeadGradientsMatchCentralFiniteDifferences()
    {
        var (forward, ranks) = Forward();
        string[] wrt = ["x", "W1", "b1", "W2", "b2", "s"];
        var training = GradientGraph.Build(forward, ["out"], wrt, ranks);
        using var session = new InferenceSession(training.ToByteArray());
        using var forwardSession = new InferenceSession(forward.ToByteArray());

        var random = new Random(11);
        var inputs = Shapes.ToDictionary(kv => kv.Key, kv => Enumerable.Range(0, (int)kv.Value.Aggregate(1L, (p, q) => p * q)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        var upstream = Enumerable.Range(0, 36).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var shapes = new Dictionary<string, long[]>(Shapes) { [GradientGraph.GradientName("out")] = [2, 18] };
        var withGrad = new Dictionary<string, float[]>(inputs) { [GradientGraph.GradientName("out")] = upstream };
        var analytic = Run(session, withGrad, shapes, wrt.Select(GradientGraph.GradientName).ToArray());

        double Objective(Dictionary<string, float[]> x)
        {
            var y = Run(forwardSession, x, Shapes, ["out"])["out"];
            return y.Zip(upstream, (a, b) => (double)a * b).Sum();
        }
        const float h = 1e-2f;
        foreach (var name in wrt)
        {
            var grad = analytic[GradientGraph.GradientName(name)];
            Assert.Equal(inputs[name].Length, grad.Length);
            for (int i = 0; i < inputs[name].Length; i++)
            {
                var plus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                var minus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                plus[name][i] += h;
                minus[name][i] -= h;
                double numeric = (Objective(plus) - Objective(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) < 5e-3 + 1e-2 * Math.Abs(numeric), $"d/d{name}[{i}]: numeric {numeric:F5}, graph {grad[i]:F5}");
            }
        }
    }

    [Fact]
    public void ConvReluMaxPoolGradientsMatchCentralFiniteDifferences()
    {
        var shapes = new Dictionary<string, long[]> { ["x"] = [2, 3, 5, 10, 12], ["W"] = [4, 3, 3, 5, 5], ["b"] = [4] };
        var g = new OnnxGraphBuilder("block");
        var x = g.Input("x", OnnxElementType.Float, 2, 3, 5, 10, 12);
        var w = g.Input("W", OnnxElementType.Float, 4, 3, 3, 5, 5);
        var b = g.Input("b", OnnxElementType.Float, 4);
        var y = g.Conv(x, w, b, [3, 5, 5], [1, 2, 2], [1, 2, 2]);          // LipNet's first block: [2, 4, 5, 5, 6]
        y = g.MaxPool(g.Relu(y), [1, 2, 2], [1, 2, 2]);                     // [2, 4, 5, 2, 3]
        var output = g.Node("Identity", [g.Reshape(y, 2, -1)], outputNames: ["out"])[0];
        g.Output(output with { Shape = [2, 120] });
        var forward = g.Build();
        string[] wrt = ["x", "W", "b"];
        var training = GradientGraph.Build(forward, ["out"], wrt, new Dictionary<string, int>(), shapes);
        using var session = new InferenceSession(training.ToByteArray());
        using var forwardSession = new InferenceSession(forward.ToByteArray());

        var random = new Random(5);
        var inputs = shapes.ToDictionary(kv => kv.Key, kv => Enumerable.Range(0, (int)kv.Value.Aggregate(1L, (p, q) => p * q)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        var upstream = Enumerable.Range(0, 240).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var runShapes = new Dictionary<string, long[]>(shapes) { [GradientGraph.GradientName("out")] = [2, 120] };
        var analytic = Run(session, new Dictionary<string, float[]>(inputs) { [GradientGraph.GradientName("out")] = upstream }, runShapes,
            wrt.Select(GradientGraph.GradientName).ToArray());
        double Objective(Dictionary<string, float[]> v) => Run(forwardSession, v, shapes, ["out"])["out"].Zip(upstream, (a, c) => (double)a * c).Sum();

        const float h = 1e-3f;
        foreach (var name in wrt)
        {
            var grad = analytic[GradientGraph.GradientName(name)];
            Assert.Equal(inputs[name].Length, grad.Length);
            var indices = name == "b" ? Enumerable.Range(0, 4) : Enumerable.Range(0, 40).Select(_ => random.Next(inputs[name].Length)).Distinct();
            foreach (int i in indices)
            {
                var plus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                var minus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                plus[name][i] += h;
                minus[name][i] -= h;
                double numeric = (Objective(plus) - Objective(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) < 5e-3 + 1e-2 * Math.Abs(numeric), $"d/d{name}[{i}]: numeric {numeric:F5}, graph {grad[i]:F5}");
            }
        }
    }

    [Fact]
    public void UnsupportedOpsAndMissingRanksAreNamed()
    {
        var g = new OnnxGraphBuilder("pool");
        var x = g.Input("x", OnnxElementType.Float, 1, 1, 4, 4);
        var y = g.Node("AveragePool", [x], outputNames: ["y"], attributes: [OnnxAttribute.Ints("kernel_shape", 2, 2)])[0];
        g.Output(y with { Shape = [1, 1, 3, 3] });
        var ex = Assert.Throws<TensorShapeException>(() => GradientGraph.Build(g.Build(), ["y"], ["x"], new Dictionary<string, int>()));
        Assert.Contains("AveragePool", ex.Message);

        var (forward, _) = Forward();
        Assert.Throws<TensorShapeException>(() => GradientGraph.Build(forward, ["out"], ["b1"], new Dictionary<string, int>()));
    }
}
