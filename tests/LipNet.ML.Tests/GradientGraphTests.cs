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

    /// <summary>x → Conv → Relu → MaxPool → flatten, gradients of x, W and b against central finite differences (40 sampled elements of x and W).</summary>
    private static void AssertConvBlockGradients(long[] xShape, long[] wShape, long[] strides, long[] pads, long[] pool, long[] poolStrides, long outputWidth, int seed)
    {
        var shapes = new Dictionary<string, long[]> { ["x"] = xShape, ["W"] = wShape, ["b"] = [wShape[0]] };
        var g = new OnnxGraphBuilder("block");
        var x = g.Input("x", OnnxElementType.Float, xShape.Select(d => (Dim)d).ToArray());
        var w = g.Input("W", OnnxElementType.Float, wShape.Select(d => (Dim)d).ToArray());
        var b = g.Input("b", OnnxElementType.Float, wShape[0]);
        var y = g.Conv(x, w, b, wShape[2..], strides, pads);
        y = g.MaxPool(g.Relu(y), pool, poolStrides);
        var output = g.Node("Identity", [g.Reshape(y, xShape[0], -1)], outputNames: ["out"])[0];
        g.Output(output with { Shape = [xShape[0], outputWidth] });
        var forward = g.Build();
        string[] wrt = ["x", "W", "b"];
        var sample = new Random(seed);
        GradientCheck.AssertMatchesFiniteDifferences(forward, GradientGraph.Build(forward, ["out"], wrt, new Dictionary<string, int>(), shapes), "out", [xShape[0], outputWidth],
            shapes, GradientCheck.RandomInputs(shapes, seed), wrt, h: 1e-3f, tolerance: 5e-3,
            indices: (name, count) => name == "b" ? Enumerable.Range(0, count) : Enumerable.Range(0, 40).Select(_ => sample.Next(count)).Distinct().ToList());
    }

    /// <summary>LipNet's first block: strided Conv (ConvTranspose for dX) and non-overlapping pooling (MaxUnpool); [2, 4, 5, 2, 3].</summary>
    [Fact]
    public void ConvReluMaxPoolGradientsMatchCentralFiniteDifferences() =>
        AssertConvBlockGradients([2, 3, 5, 10, 12], [4, 3, 3, 5, 5], [1, 2, 2], [1, 2, 2], [1, 2, 2], [1, 2, 2], 120, seed: 5);

    /// <summary>Stride 1 takes the flipped-kernel Conv path for dX; overlapping windows take the scatter-add path; [2, 4, 4, 5, 4].</summary>
    [Fact]
    public void StrideOneConvAndOverlappingMaxPoolGradientsMatchCentralFiniteDifferences() =>
        AssertConvBlockGradients([2, 3, 4, 6, 7], [4, 3, 3, 3, 3], [1, 1, 1], [1, 1, 0], [1, 2, 2], [1, 1, 1], 320, seed: 6);

    [Fact]
    public void GemmAndSliceGradientsMatchCentralFiniteDifferences()
    {
        var shapes = new Dictionary<string, long[]> { ["A"] = [3, 4], ["B"] = [5, 4], ["C"] = [5], ["D"] = [3, 2], ["E"] = [5, 2] };
        var g = new OnnxGraphBuilder("gemm");
        var v = shapes.ToDictionary(kv => kv.Key, kv => g.Input(kv.Key, OnnxElementType.Float, kv.Value.Select(d => (Dim)d).ToArray()));
        var ranks = shapes.ToDictionary(kv => kv.Key, kv => kv.Value.Length);
        // Y = 0.7·A·Bᵀ + 1.3·C  [3, 5];  Z = Yᵀ·D + E  [5, 2];  out = Z[1:-1] flattened  [6]
        var y = g.Op("Gemm", [v["A"], v["B"], v["C"]], OnnxAttribute.Float("alpha", 0.7f), OnnxAttribute.Float("beta", 1.3f), OnnxAttribute.Int("transB", 1));
        var z = g.Op("Gemm", [y, v["D"], v["E"]], OnnxAttribute.Int("transA", 1));
        var sliced = g.Op("Slice", z, g.Int64s("starts", 1), g.Int64s("ends", -1), g.Int64s("axes", 0));
        var output = g.Node("Identity", [g.Reshape(sliced, -1)], outputNames: ["out"])[0];
        g.Output(output with { Shape = [6] });
        var forward = g.Build();
        ranks[y.Name] = 2;
        ranks[z.Name] = 2;
        var staticShapes = new Dictionary<string, long[]>(shapes) { [z.Name] = [5, 2] };
        string[] wrt = ["A", "B", "C", "D", "E"];
        GradientCheck.AssertMatchesFiniteDifferences(forward, GradientGraph.Build(forward, ["out"], wrt, ranks, staticShapes), "out", [6],
            shapes, GradientCheck.RandomInputs(shapes, 9), wrt, h: 1e-2f, tolerance: 5e-3);
    }

    [Fact]
    public void DropoutGradientUsesTheForwardMask()
    {
        // A random mask cannot be finite-differenced; instead: with upstream ones, dX = mask / (1 − p) = out / x elementwise.
        var g = new OnnxGraphBuilder("dropout");
        var x = g.Input("x", OnnxElementType.Float, 4, 50);
        var ratio = g.Float32s("ratio", [0.3f]);
        var training = g.Initializer("training", new long[] { 1 }) ;
        var y = g.Op("Dropout", x, ratio, g.Op("Cast", [training], OnnxAttribute.Int("to", 9)));
        var output = g.Node("Identity", [y], outputNames: ["out"])[0];
        g.Output(output with { Shape = [4, 50] });
        var model = GradientGraph.Build(g.Build(), ["out"], ["x"], new Dictionary<string, int> { ["x"] = 2 });
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        var input = Enumerable.Range(0, 200).Select(i => 1f + i).ToArray();
        var result = GradientCheck.Run(session, new() { ["x"] = input, ["grad.out"] = Enumerable.Repeat(1f, 200).ToArray() },
            new Dictionary<string, long[]> { ["x"] = [4, 50], ["grad.out"] = [4, 50] }, ["out", "grad.x"]);
        int dropped = 0;
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(result["out"][i] / input[i], result["grad.x"][i], 4);
            dropped += result["grad.x"][i] == 0 ? 1 : 0;
        }
        Assert.InRange(dropped, 30, 90); // about 30% of 200
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
