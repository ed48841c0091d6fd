namespace LipNet.ML.Onnx;

/// <summary>Builds the ONNX inference graph of a <see cref="LipNetArchitecture"/> from PyTorch-named weights.</summary>
public static class LipNetGraph
{
    public const string InputName = "video";
    public const string OutputName = "log_probs";

    /// <summary>
    /// Input <c>video</c> [N, C, T, H, W] (N symbolic; T fixed to the architecture's frames, or symbolic with
    /// <paramref name="dynamicFrames"/>: ML.NET's OnnxTransformer needs it fixed); output <c>log_probs</c>
    /// [N, T, V], log-softmax over the vocabulary (the presets' convolutions keep time). GRUs are ONNX's fused
    /// bidirectional GRU with PyTorch semantics (<c>linear_before_reset=1</c>, gates reordered r,z,n → z,r,h).
    /// </summary>
    public static Proto.ModelProto Build(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> weights, ModelCard? card = null,
        bool float16Weights = false, bool dynamicFrames = false)
    {
        arch.Validate(weights);
        var g = new OnnxGraphBuilder("lipnet", opset: 17);
        Dim frames = dynamicFrames ? "frames" : arch.Frames;
        var x = g.Input(InputName, OnnxElementType.Float, "batch", arch.Channels, frames, arch.Height, arch.Width);
        OnnxValue Param(string name, float[] data, long[] shape)
        {
            if (!float16Weights)
                return g.Initializer(name, data, shape);
            var half = g.InitializerFloat16(name + "_fp16", data, shape);
            return g.Op("Cast", [half], OnnxAttribute.Int("to", (long)OnnxElementType.Float)) with { Type = OnnxElementType.Float };
        }
        OnnxValue W(string name) => Param(name, weights[name].Data, weights[name].Shape);

        for (int b = 0; b < arch.ConvChannels.Length; b++)
        {
            var k = arch.Kernels[b].Select(v => (long)v).ToArray();
            var s = arch.Strides[b].Select(v => (long)v).ToArray();
            var p = arch.Padding[b].Select(v => (long)v).ToArray();
            x = g.Conv(x, W($"conv{b + 1}.weight"), W($"conv{b + 1}.bias"), k, s, p);
            x = g.Relu(x);
            x = g.MaxPool(x, arch.Pool.Select(v => (long)v).ToArray(), arch.Pool.Select(v => (long)v).ToArray());
        }
        // [N, C, T, H, W] → [T, N, C, H, W] → [T, N, C*H*W]
        x = g.Transpose(x, 2, 0, 1, 3, 4);
        x = g.Reshape(x, 0, 0, -1);
        int h = arch.GruHidden, input = arch.GruInput;
        for (int l = 0; l < arch.GruLayers; l++)
        {
            var (wData, rData, bData) = GruWeights(weights, $"gru{l + 1}", h, input);
            var y = g.Gru(x, Param($"gru{l + 1}.W", wData, [2, 3 * h, input]), Param($"gru{l + 1}.R", rData, [2, 3 * h, h]),
                Param($"gru{l + 1}.B", bData, [2, 6 * h]), h, bidirectional: true, linearBeforeReset: true)[0];
            // Y [T, 2, N, H] → [T, N, 2, H] → [T, N, 2H] (forward then backward, as PyTorch concatenates)
            x = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, -1);
            input = 2 * h;
        }
        var fc = weights["FC.weight"];
        var fcT = Transpose2D(fc.Data, (int)fc.Shape[0], (int)fc.Shape[1]);
        x = g.Add(g.MatMul(x, Param("FC.weight_t", fcT, [fc.Shape[1], fc.Shape[0]])), W("FC.bias"));
        x = g.LogSoftmax(x, 2);
        var output = g.Transpose(x, 1, 0, 2);
        var named = g.Node("Identity", [output], outputNames: [OutputName])[0];
        g.Output(named with { Shape = ["batch", frames, arch.VocabularySize] });
        if (card is not null)
            g.Metadata(ModelCard.MetadataKey, card.ToJson());
        return g.Build();
    }

    /// <summary>PyTorch GRU tensors (r, z, n gate blocks) → ONNX W, R, B (z, r, h blocks), forward then reverse.</summary>
    internal static (float[] W, float[] R, float[] B) GruWeights(IReadOnlyDictionary<string, NamedTensor> weights, string prefix, int h, int input)
    {
        var w = new float[2 * 3 * h * input];
        var r = new float[2 * 3 * h * h];
        var b = new float[2 * 6 * h];
        string[] suffixes = ["", "_reverse"];
        for (int d = 0; d < 2; d++)
        {
            var wih = weights[$"{prefix}.weight_ih_l0{suffixes[d]}"].Data;
            var whh = weights[$"{prefix}.weight_hh_l0{suffixes[d]}"].Data;
            var bih = weights[$"{prefix}.bias_ih_l0{suffixes[d]}"].Data;
            var bhh = weights[$"{prefix}.bias_hh_l0{suffixes[d]}"].Data;
            // ONNX gate g (z=0, r=1, h=2) comes from PyTorch block (1, 0, 2).
            int[] from = [1, 0, 2];
            for (int gate = 0; gate < 3; gate++)
            {
                int src = from[gate];
                wih.AsSpan(src * h * input, h * input).CopyTo(w.AsSpan((d * 3 + gate) * h * input, h * input));
                whh.AsSpan(src * h * h, h * h).CopyTo(r.AsSpan((d * 3 + gate) * h * h, h * h));
                bih.AsSpan(src * h, h).CopyTo(b.AsSpan(d * 6 * h + gate * h, h));
                bhh.AsSpan(src * h, h).CopyTo(b.AsSpan(d * 6 * h + 3 * h + gate * h, h));
            }
        }
        return (w, r, b);
    }

    internal static float[] Transpose2D(float[] data, int rows, int cols)
    {
        var t = new float[data.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                t[j * rows + i] = data[i * cols + j];
        return t;
    }
}
