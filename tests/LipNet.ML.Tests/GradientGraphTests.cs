using LipNet.ML.Onnx;
using LipNet.ML.Training;

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

    [Fact]
    public void HeadGradientsMatchCentralFiniteDifferences()
    {
        var (forward, ranks) = Forward();
        string[] wrt = ["x", "W1", "b1", "W2", "b2", "s"];
        GradientCheck.AssertMatchesFiniteDifferences(forward, GradientGraph.Build(forward, ["out"], wrt, ranks), "out", [2, 18],
            Shapes, GradientCheck.RandomInputs(Shapes, 11), wrt, h: 1e-2f, tolerance: 5e-3);
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
        var sample = new Random(5);
        GradientCheck.AssertMatchesFiniteDifferences(forward, GradientGraph.Build(forward, ["out"], wrt, new Dictionary<string, int>(), shapes), "out", [2, 120],
            shapes, GradientCheck.RandomInputs(shapes, 5), wrt, h: 1e-3f, tolerance: 5e-3,
            indices: (name, count) => name == "b" ? Enumerable.Range(0, count) : Enumerable.Range(0, 40).Select(_ => sample.Next(count)).Distinct().ToList());
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
