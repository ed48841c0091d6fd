using LipNet.ML.Onnx;

namespace LipNet.ML.Training;

/// <summary>
/// A bidirectional GRU written out in cell ops (MatMul, Add, Sigmoid, Tanh, Mul, Sub, Split, Squeeze,
/// Unsqueeze, Concat), unrolled over a fixed number of frames, so <see cref="GradientGraph"/> can
/// differentiate it. Same weights and semantics as ONNX's fused <c>GRU</c> with <c>linear_before_reset=1</c>
/// (PyTorch's GRU): W [2, 3H, I], R [2, 3H, H], B [2, 6H], gate blocks z, r, h.
/// </summary>
public static class GruCells
{
    /// <summary>
    /// Y [T, N, 2H] (forward then backward direction on the last axis, as PyTorch concatenates) for X [T, N, I].
    /// Every value it creates gets its rank recorded in <paramref name="ranks"/> for the gradient builder.
    /// </summary>
    public static OnnxValue Bidirectional(OnnxGraphBuilder g, OnnxValue x, OnnxValue w, OnnxValue r, OnnxValue b, int hidden, int frames, IDictionary<string, int> ranks)
    {
        OnnxValue Rank(OnnxValue v, int rank) { ranks[v.Name] = rank; return v; }
        var zeroAxis = g.Int64s("axes", 0);
        OnnxValue[] SplitSqueeze(OnnxValue v, int parts, int rank)
        {
            var pieces = g.Node("Split", [v], outputs: parts, attributes: [OnnxAttribute.Int("axis", 0)]);
            return pieces.Select(p => Rank(g.Op("Squeeze", p, zeroAxis), rank - 1)).ToArray();
        }
        var ws = SplitSqueeze(w, 2, 3);
        var rs = SplitSqueeze(r, 2, 3);
        var bs = SplitSqueeze(b, 2, 2);
        var one = Rank(g.Float32s("one", [1f]), 0);
        // h0 = zeros [N, H], N read from X at run time.
        var batch = g.Op("Slice", g.Op("Shape", x), g.Int64s("start", 1), g.Int64s("end", 2));
        var h0 = Rank(g.Op("ConstantOfShape", g.Op("Concat", [batch, g.Int64s("hidden", hidden)], OnnxAttribute.Int("axis", 0))), 2);

        var directions = new OnnxValue[2];
        for (int d = 0; d < 2; d++)
        {
            var biases = g.Node("Split", [bs[d]], outputs: 2, attributes: [OnnxAttribute.Int("axis", 0)]);
            var (wb, rb) = (Rank(biases[0], 1), Rank(biases[1], 1));
            var xw = Rank(g.MatMul(x, Rank(g.Transpose(ws[d], 1, 0), 2)), 3);
            xw = Rank(g.Add(xw, wb), 3);
            var steps = SplitSqueeze(xw, frames, 3);
            var rT = Rank(g.Transpose(rs[d], 1, 0), 2);
            var h = h0;
            var outputs = new OnnxValue[frames];
            for (int k = 0; k < frames; k++)
            {
                int t = d == 0 ? k : frames - 1 - k;
                var hr = Rank(g.Add(Rank(g.MatMul(h, rT), 2), rb), 2);
                var xg = g.Node("Split", [steps[t]], outputs: 3, attributes: [OnnxAttribute.Int("axis", 1)]).Select(v => Rank(v, 2)).ToArray();
                var hg = g.Node("Split", [hr], outputs: 3, attributes: [OnnxAttribute.Int("axis", 1)]).Select(v => Rank(v, 2)).ToArray();
                var z = Rank(g.Elementwise("Sigmoid", Rank(g.Add(xg[0], hg[0]), 2)), 2);
                var reset = Rank(g.Elementwise("Sigmoid", Rank(g.Add(xg[1], hg[1]), 2)), 2);
                var n = Rank(g.Elementwise("Tanh", Rank(g.Add(xg[2], Rank(g.Op("Mul", reset, hg[2]), 2)), 2)), 2);
                var keep = Rank(g.Op("Sub", one, z), 2);
                h = Rank(g.Add(Rank(g.Op("Mul", keep, n), 2), Rank(g.Op("Mul", z, h), 2)), 2);
                outputs[t] = Rank(g.Op("Unsqueeze", h, zeroAxis), 3);
            }
            directions[d] = Rank(g.Op("Concat", outputs, OnnxAttribute.Int("axis", 0)), 3);
        }
        return Rank(g.Op("Concat", directions, OnnxAttribute.Int("axis", 2)), 3);
    }
}
