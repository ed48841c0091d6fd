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

    private static float[] Run(InferenceSession session, Dictionary<string, float[]> inputs) => GradientCheck.Run(session, inputs, Shapes, ["y"])["y"];

    [Fact]
    public void CellFormAgreesWithTheFusedGru()
    {
        using var fused = new InferenceSession(Graph(cells: false).Model.ToByteArray());
        using var cells = new InferenceSession(Graph(cells: true).Model.ToByteArray());
        var inputs = GradientCheck.RandomInputs(Shapes, 1);
        var a = Run(fused, inputs);
        var b = Run(cells, inputs);
        Assert.Equal(T * N * 2 * H, a.Length);
        Assert.True(a.Zip(b, (p, q) => MathF.Abs(p - q)).Max() < 1e-5f);
    }

    [Fact]
    public void CellFormGradientsMatchCentralFiniteDifferences()
    {
        var (forward, ranks) = Graph(cells: true);
        string[] wrt = ["x", "W", "R", "B"];
        GradientCheck.AssertMatchesFiniteDifferences(forward, GradientGraph.Build(forward, ["y"], wrt, ranks), "y", [T, N, 2 * H],
            Shapes, GradientCheck.RandomInputs(Shapes, 2), wrt, h: 1e-2f, tolerance: 2e-3);
    }
}
