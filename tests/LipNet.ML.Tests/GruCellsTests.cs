using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Tests;

public class GruCellsTests
{
    private const int T = 4, N = 2, I = 5, H = 3;

    private static readonly Dictionary<string, long[]> Shapes = new()
    {
        ["x"] = [T, N, I], ["W"] = [2, 3 * H, I], ["R"] = [2, 3 * H, H], ["B"] = [2, 6 * H],
    };

    private static (Onnx.Proto.ModelProto Model, Dictionary<string, int> Ranks) Graph(bool cells)
    {
        var g = new OnnxGraphBuilder(cells ? "cells" : "fused");
        var v = Shapes.ToDictionary(kv => kv.Key, kv => g.Input(kv.Key, OnnxElementType.Float, kv.Value.Select(d => (Dim)d).ToArray()));
        var ranks = Shapes.ToDictionary(kv => kv.Key, kv => kv.Value.Length);
        OnnxValue y = cells
            ? GruCells.Bidirectional(g, v["x"], v["W"], v["R"], v["B"], H, T, ranks)
            : g.Reshape(g.Transpose(g.Gru(v["x"], v["W"], v["R"], v["B"], H, bidirectional: true, linearBeforeReset: true)[0], 0, 2, 1, 3), 0, 0, -1);
        var output = g.Node("Identity", [y], outputNames: ["y"])[0];
        g.Output(output with { Shape = [T, N, 2 * H] });
        return (g.Build(), ranks);
    }

    private static Dictionary<string, float[]> Inputs(int seed)
    {
        var random = new Random(seed);
        return Shapes.ToDictionary(kv => kv.Key, kv => Enumerable.Range(0, (int)kv.Value.Aggregate(1L, (p, q) => p * q)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
    }

    private static float[] Run(InferenceSession session, Dictionary<string, float[]> inputs, Dictionary<string, long[]> shapes, string output)
    {
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(inputs[n], shapes[n])).ToArray();
        try
        {
            using var results = session.Run(new RunOptions(), names, values, [output]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    [Fact]
    public void CellFormAgreesWithTheFusedGru()
    {
        using var fused = new InferenceSession(Graph(cells: false).Model.ToByteArray());
        using var cells = new InferenceSession(Graph(cells: true).Model.ToByteArray());
        var inputs = Inputs(1);
        var a = Run(fused, inputs, Shapes, "y");
        var b = Run(cells, inputs, Shapes, "y");
        Assert.Equal(T * N * 2 * H, a.Length);
        Assert.True(a.Zip(b, (p, q) => MathF.Abs(p - q)).Max() < 1e-5f);
    }

    [Fact]
    public void CellFormGradientsMatchCentralFiniteDifferences()
    {
        var (forward, ranks) = Graph(cells: true);
        string[] wrt = ["x", "W", "R", "B"];
        var training = GradientGraph.Build(forward, ["y"], wrt, ranks);
        using var session = new InferenceSession(training.ToByteArray());
        using var forwardSession = new InferenceSession(forward.ToByteArray());
        var inputs = Inputs(2);
        var random = new Random(3);
        var upstream = Enumerable.Range(0, T * N * 2 * H).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var shapes = new Dictionary<string, long[]>(Shapes) { [GradientGraph.GradientName("y")] = [T, N, 2 * H] };
        var feed = new Dictionary<string, float[]>(inputs) { [GradientGraph.GradientName("y")] = upstream };
        double Objective(Dictionary<string, float[]> v) => Run(forwardSession, v, Shapes, "y").Zip(upstream, (a, c) => (double)a * c).Sum();
        const float h = 1e-2f;
        foreach (var name in wrt)
        {
            var grad = Run(session, feed, shapes, GradientGraph.GradientName(name));
            Assert.Equal(inputs[name].Length, grad.Length);
            for (int i = 0; i < inputs[name].Length; i++)
            {
                var plus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                var minus = inputs.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone());
                plus[name][i] += h;
                minus[name][i] -= h;
                double numeric = (Objective(plus) - Objective(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) < 2e-3 + 1e-2 * Math.Abs(numeric), $"d/d{name}[{i}]: numeric {numeric:F5}, graph {grad[i]:F5}");
            }
        }
    }
}
