namespace LipNet.ML.Onnx;

/// <summary>Builds the ONNX inference graph of a <see cref="LipNetArchitecture"/> from PyTorch-named weights.</summary>
public static class LipNetGraph
{
    /// <summary>Name of the graphs' float video input, [N, C, T, H, W] (also <see cref="ModelCard.InputName"/>'s default).</summary>
    public const string InputName = "video";

    /// <summary>Name of the graphs' output, log-probabilities [N, T, V] (also <see cref="ModelCard.OutputName"/>'s default).</summary>
    public const string OutputName = "log_probs";

    /// <summary>
    /// Input <c>video</c> [N, C, T, H, W] (N symbolic; T fixed to the architecture's frames, or symbolic with
    /// <paramref name="dynamicFrames"/>: ML.NET's OnnxTransformer needs it fixed); output <c>log_probs</c>
    /// [N, T, V], log-softmax over the vocabulary (the presets' convolutions keep time). GRUs are ONNX's fused
    /// bidirectional GRU with PyTorch semantics (<c>linear_before_reset=1</c>, gates reordered r,z,n → z,r,h).
    /// The 3-D convolutions run as 2-D convolutions over stacked neighbouring frames where the architecture
    /// allows (<see cref="LipNetArchitecture.ConvolvesFramewise"/>): the same arithmetic, faster kernels.
    /// With <paramref name="int8"/> the convolutions after the first run in 8 bits (see <see cref="Int8Convolutions"/>).
    /// </summary>
    public static Proto.ModelProto Build(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> weights, ModelCard? card = null,
        bool float16Weights = false, bool dynamicFrames = false, Int8Convolutions? int8 = null) =>
        BuildInference(arch, weights, card, float16Weights, dynamicFrames, int8, exposeBlocks: false, arch.ConvolvesFramewise);

    /// <summary>The float inference graph that also outputs each conv block's activations (<c>block1</c>…), for int8 calibration.</summary>
    internal static Proto.ModelProto BuildCalibration(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> weights) =>
        BuildInference(arch, weights, null, float16Weights: false, dynamicFrames: false, int8: null, exposeBlocks: true, arch.ConvolvesFramewise);

    /// <summary>The inference graph behind <see cref="Build"/> and <see cref="BuildCalibration"/>.</summary>
    /// <param name="arch">The network to build.</param>
    /// <param name="weights">PyTorch-named weights; checked with <see cref="LipNetArchitecture.Validate"/>.</param>
    /// <param name="card">Stored as JSON in the model's metadata under <see cref="ModelCard.MetadataKey"/>; null stores none.</param>
    /// <param name="float16Weights">Store weights as float16 initializers, each Cast to float at load (about half the file size).</param>
    /// <param name="dynamicFrames">Symbolic frame axis ("frames") instead of <see cref="LipNetArchitecture.Frames"/>.</param>
    /// <param name="int8">8-bit convolutions after the first block; needs <paramref name="framewise"/> and one scale per block.</param>
    /// <param name="exposeBlocks">Also output each conv block's activations as <c>block1</c>, <c>block2</c> ...</param>
    /// <param name="framewise">2-D convolutions over stacked frames (false: 3-D convolutions; tests compare the two).</param>
    /// <exception cref="TensorShapeException">
    /// The weights do not fit <paramref name="arch"/>, or <paramref name="int8"/> does not fit it.
    /// </exception>
    internal static Proto.ModelProto BuildInference(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> weights, ModelCard? card,
        bool float16Weights, bool dynamicFrames, Int8Convolutions? int8, bool exposeBlocks, bool framewise)
    {
        arch.Validate(weights);
        framewise &= arch.ConvolvesFramewise;
        if (int8 is not null && (!framewise || int8.BlockScales.Length != arch.ConvChannels.Length))
            throw new TensorShapeException(!arch.ConvolvesFramewise
                ? $"int8 convolutions need frame-wise convolutions, which the {arch.Name} architecture's temporal kernels do not allow"
                : $"int8 convolutions have {int8.BlockScales.Length} block scales, the {arch.Name} architecture has {arch.ConvChannels.Length} conv blocks");
        var onnx = ToOnnxLayout(arch, weights);
        var g = new OnnxGraphBuilder("lipnet", opset: 17);
        Dim frames = dynamicFrames ? "frames" : arch.Frames;
        var x = g.Input(InputName, OnnxElementType.Float, "batch", arch.Channels, frames, arch.Height, arch.Width);
        OnnxValue Param(string name, long[] shape)
        {
            var data = onnx[name].Data;
            if (!float16Weights)
                return g.Initializer(name, data, shape);
            var half = g.InitializerFloat16(name + "_fp16", data, shape);
            return g.Op("Cast", [half], OnnxAttribute.Int("to", (long)OnnxElementType.Float)) with { Type = OnnxElementType.Float };
        }
        var parameterShapes = OnnxParameterShapes(arch).ToDictionary(p => p.Name, p => p.Shape);
        OnnxValue P(string name) => Param(name, parameterShapes[name]);
        var blockOutputs = new List<OnnxValue>();
        OnnxValue sequence;
        if (framewise)
        {
            // [N, T, C, H, W] → [T, N, C, H, W] → [T, N, C*H*W]
            var convs = FramewiseConvBlocks(g, arch, x, P, onnx, int8, blockOutputs);
            sequence = g.Reshape(g.Transpose(convs, 1, 0, 2, 3, 4), 0, 0, -1);
        }
        else
        {
            sequence = g.Reshape(g.Transpose(ConvBlocks(g, arch, x, P, null, null, null, blockOutputs), 2, 0, 1, 3, 4), 0, 0, -1);
        }
        var output = Head(g, arch, Recurrent(g, arch, sequence, P, cells: false, null, null), P, null);
        var named = g.Node("Identity", [output], outputNames: [OutputName])[0];
        g.Output(named with { Shape = ["batch", frames, arch.VocabularySize] });
        if (exposeBlocks)
            for (int b = 0; b < blockOutputs.Count; b++)
                g.Output(g.Node("Identity", [blockOutputs[b]], outputNames: [$"block{b + 1}"])[0] with { Type = blockOutputs[b].Type });
        if (card is not null)
            g.Metadata(ModelCard.MetadataKey, card.ToJson());
        return g.Build();
    }

    /// <summary>
    /// The training graph: parameters are graph inputs (ONNX layout, names from <see cref="OnnxParameterShapes"/>),
    /// the GRUs are written in cell ops, batch and frames are fixed, and the backward pass (standard ONNX ops)
    /// takes <c>grad.log_probs</c> and returns <c>grad.{parameter}</c> for every parameter.
    /// Throws <see cref="LipNetException"/> for an architecture with <see cref="GruConvention.Keras"/> GRUs (inference only).
    /// With <paramref name="dropout"/> the graph multiplies activations by mask inputs (<see cref="DropoutMasks"/>):
    /// channel-wise after each conv block (as LipNet's Dropout3d) and element-wise after each GRU layer. The
    /// trainer draws the masks from its seeded generator, so a step is reproducible and resumable.
    /// </summary>
    public static Proto.ModelProto BuildTraining(LipNetArchitecture arch, int batch, bool dropout = false) =>
        BuildTrainingWithHead(arch, batch, dropout, "lipnet-training", OnnxParameterShapes(arch), OutputName, [batch, arch.Frames, arch.VocabularySize],
            (g, sequence, P, ranks) => Head(g, arch, sequence, P, ranks));

    /// <summary>
    /// A training graph of a LipNet's visual front end and GRUs (<see cref="VisualSequence"/>, cell ops, dropout masks) with
    /// any head on its [T, N, 2H] output: the LipNet classifier, or another model's (lip-to-speech's mel head). Parameters
    /// are graph inputs; the backward pass returns <c>grad.{parameter}</c> for each of <paramref name="parameters"/>.
    /// </summary>
    internal static Proto.ModelProto BuildTrainingWithHead(LipNetArchitecture arch, int batch, bool dropout, string graphName,
        IReadOnlyList<(string Name, long[] Shape)> parameters, string outputName, long[] outputShape,
        Func<OnnxGraphBuilder, OnnxValue, Func<string, OnnxValue>, Dictionary<string, int>, OnnxValue> head)
    {
        if (arch.Gru != GruConvention.Torch)
            throw new LipNetException($"the {arch.Name} architecture's GRUs follow Keras's equations, which only inference builds; " +
                "training (and fine-tuning imported Keras weights) needs PyTorch-convention GRUs");
        var g = new OnnxGraphBuilder(graphName, opset: 17);
        var ranks = new Dictionary<string, int>();
        var shapes = new Dictionary<string, long[]>();
        var x = g.Input(InputName, OnnxElementType.Float, batch, arch.Channels, arch.Frames, arch.Height, arch.Width);
        shapes[x.Name] = [batch, arch.Channels, arch.Frames, arch.Height, arch.Width];
        OnnxValue Param(string name, long[] shape)
        {
            var value = g.Input(name, OnnxElementType.Float, shape.Select(d => (Dim)d).ToArray());
            ranks[name] = shape.Length;
            shapes[name] = shape;
            return value;
        }
        Func<string, OnnxValue>? mask = null;
        if (dropout)
        {
            var maskShapes = DropoutMasks(arch, batch).ToDictionary(m => m.Name, m => m.Shape);
            mask = name =>
            {
                var value = g.Input(name, OnnxElementType.Float, maskShapes[name].Select(d => (Dim)d).ToArray());
                ranks[name] = maskShapes[name].Length;
                return value;
            };
        }
        var parameterShapes = parameters.ToDictionary(p => p.Name, p => p.Shape);
        var sequence = VisualSequence(g, arch, x, Param, cells: true, batch, ranks, shapes, mask);
        var output = head(g, sequence, name => Param(name, parameterShapes[name]), ranks);
        var named = g.Node("Identity", [output], outputNames: [outputName])[0];
        g.Output(named with { Shape = outputShape.Select(d => (Dim)d).ToArray() });
        return Training.GradientGraph.Build(g.Build(), [outputName], parameters.Select(p => p.Name).ToList(), ranks, shapes);
    }

    /// <summary>
    /// A LipNet's visual front end and recurrent layers without its classifier: video [N, C, T, H, W] → [T', N, 2H] (T' the frames
    /// after the conv blocks). With <paramref name="cells"/> the GRUs are cell ops and dropout masks apply (the training form);
    /// otherwise fused GRUs. Other heads (e.g. lip-to-speech's mel head) are built on it; the parameters it reads are
    /// <see cref="OnnxParameterShapes"/>' conv and GRU entries.
    /// </summary>
    internal static OnnxValue VisualSequence(OnnxGraphBuilder g, LipNetArchitecture arch, OnnxValue x, Func<string, long[], OnnxValue> param, bool cells,
        int? batch, Dictionary<string, int>? ranks, Dictionary<string, long[]>? shapes, Func<string, OnnxValue>? mask = null)
    {
        var parameterShapes = OnnxParameterShapes(arch).ToDictionary(p => p.Name, p => p.Shape);
        OnnxValue P(string name) => param(name, parameterShapes[name]);
        x = ConvBlocks(g, arch, x, P, batch, shapes, ranks, blockOutputs: null, mask);
        // [N, C, T, H, W] → [T, N, C, H, W] → [T, N, C*H*W]
        x = g.Reshape(g.Transpose(x, 2, 0, 1, 3, 4), 0, 0, -1);
        return Recurrent(g, arch, x, P, cells, ranks, mask);
    }

    /// <summary>Conv3d → ReLU → MaxPool3d blocks on [N, C, T, H, W] (the training graph's and the fallback inference path).</summary>
    private static OnnxValue ConvBlocks(OnnxGraphBuilder g, LipNetArchitecture arch, OnnxValue x, Func<string, OnnxValue> P, int? batch,
        Dictionary<string, long[]>? shapes, Dictionary<string, int>? ranks, List<OnnxValue>? blockOutputs, Func<string, OnnxValue>? mask = null)
    {
        var blocks = arch.BlockShapes(arch.Frames);
        for (int b = 0; b < arch.ConvChannels.Length; b++)
        {
            var k = arch.Kernels[b].Select(v => (long)v).ToArray();
            var s = arch.Strides[b].Select(v => (long)v).ToArray();
            var p = arch.Padding[b].Select(v => (long)v).ToArray();
            if (b > 0 && shapes is not null && batch is { } n)
                shapes[x.Name] = [n, blocks[b - 1].C, blocks[b - 1].T, blocks[b - 1].H, blocks[b - 1].W];
            x = g.Conv(x, P($"conv{b + 1}.weight"), P($"conv{b + 1}.bias"), k, s, p);
            x = g.Relu(x);
            x = g.MaxPool(x, arch.Pool.Select(v => (long)v).ToArray(), arch.Pool.Select(v => (long)v).ToArray());
            blockOutputs?.Add(x);
            if (mask is not null)
            {
                ranks![x.Name] = 5;
                x = g.Op("Mul", x, mask($"dropout.conv{b + 1}"));
                ranks[x.Name] = 5;
            }
        }
        return x;
    }

    /// <summary>
    /// The conv blocks as 2-D convolutions: a Conv3d with temporal kernel kt (stride 1, padding (kt-1)/2) is a
    /// Conv2d over the kt neighbouring frames stacked on the channel axis, with the weight [M, C, kt, kh, kw] laid
    /// out as [M, kt*C, kh, kw]. ONNX Runtime's CPU provider runs 2-D convolutions in its blocked (NCHWc) and
    /// u8s8 kernels but 3-D ones through im2col: on the Paper preset about 13% faster in float and 2-3x in int8.
    /// Takes the video [N, C, T, H, W]; returns [N, T, C', H', W'].
    /// </summary>
    private static OnnxValue FramewiseConvBlocks(OnnxGraphBuilder g, LipNetArchitecture arch, OnnxValue video, Func<string, OnnxValue> P,
        IReadOnlyDictionary<string, NamedTensor> onnx, Int8Convolutions? int8, List<OnnxValue> blockOutputs)
    {
        var blocks = arch.BlockShapes(arch.Frames);
        var x = g.Transpose(video, 0, 2, 1, 3, 4);
        // [N, T] of this batch, for reshaping the frames back into clips after each block.
        var batchAndFrames = g.Op("Gather", [g.Op("Shape", video), g.Int64s("nt", 0, 2)], OnnxAttribute.Int("axis", 0));
        OnnxValue? scaleIn = null, zero = int8 is null ? null : g.Initializer("zero_u8", [(byte)0]);
        int channels = arch.Channels;
        for (int b = 0; b < arch.ConvChannels.Length; b++)
        {
            int kt = arch.Kernels[b][0], pt = arch.Padding[b][0], m = arch.ConvChannels[b];
            long[] k = [arch.Kernels[b][1], arch.Kernels[b][2]], s = [arch.Strides[b][1], arch.Strides[b][2]], p = [arch.Padding[b][1], arch.Padding[b][2]];
            int h = b == 0 ? arch.Height : blocks[b - 1].H, w = b == 0 ? arch.Width : blocks[b - 1].W;
            // Pad time (with zeros, which are also the uint8 zero point), take kt shifted views, stack them on channels.
            var padded = g.Op("Pad", x, g.Int64s("pads", 0, pt, 0, 0, 0, 0, pt, 0, 0, 0));
            var views = Enumerable.Range(0, kt).Select(j => g.Op("Slice", padded, g.Int64s("start", j),
                g.Int64s("end", j == kt - 1 ? long.MaxValue : j - (kt - 1)), g.Int64s("axis", 1))).ToArray();
            var stacked = g.Reshape(kt == 1 ? views[0] : g.Op("Concat", views, OnnxAttribute.Int("axis", 2)), -1, kt * channels, h, w);
            string name = $"conv{b + 1}";
            OnnxValue y;
            if (int8 is null || b == 0)
            {
                var weight = g.Reshape(g.Transpose(P($"{name}.weight"), 0, 2, 1, 3, 4), m, kt * channels, k[0], k[1]);
                y = g.Relu(g.Conv(stacked, weight, P($"{name}.bias"), k, s, p));
            }
            else
            {
                var (wq, wScale, bias) = int8.QuantizeWeights(onnx[$"{name}.weight"], onnx[$"{name}.bias"], int8.BlockScales[b - 1]);
                var scaleOut = g.Float32s($"{name}.y_scale", [int8.BlockScales[b]]);
                // Output zero point 0: the uint8 result saturates at 0, which is the ReLU.
                y = g.Op("QLinearConv", [stacked, scaleIn!, zero!, g.Initializer($"{name}.weight_i8", wq, m, kt * channels, k[0], k[1]),
                    g.Float32s($"{name}.w_scale", wScale, m), g.Initializer($"{name}.w_zero", new sbyte[m], m), scaleOut, zero!, g.Initializer($"{name}.bias_i32", bias, m)],
                    OnnxAttribute.Ints("kernel_shape", k), OnnxAttribute.Ints("strides", s), OnnxAttribute.Ints("pads", [.. p, .. p]));
                scaleIn = scaleOut;
            }
            y = g.MaxPool(y, [arch.Pool[1], arch.Pool[2]], [arch.Pool[1], arch.Pool[2]]);
            if (int8 is not null && b == 0)
            {
                scaleIn = g.Float32s($"{name}.y_scale", [int8.BlockScales[0]]);
                y = g.Op("QuantizeLinear", y, scaleIn, zero);
            }
            var type = int8 is null ? OnnxElementType.Float : OnnxElementType.UInt8;
            x = g.Op("Reshape", y, g.Op("Concat", [batchAndFrames, g.Int64s("chw", m, blocks[b].H, blocks[b].W)], OnnxAttribute.Int("axis", 0))) with { Type = type };
            channels = m;
            blockOutputs.Add(x);
        }
        return int8 is null ? x : g.Op("DequantizeLinear", x, scaleIn!, zero) with { Type = OnnxElementType.Float };
    }

    /// <summary>The bidirectional GRUs on [T, N, F]; returns [T, N, 2H] (cell ops with dropout masks in the training form).</summary>
    private static OnnxValue Recurrent(OnnxGraphBuilder g, LipNetArchitecture arch, OnnxValue x, Func<string, OnnxValue> P, bool cells,
        Dictionary<string, int>? ranks, Func<string, OnnxValue>? mask)
    {
        var blocks = arch.BlockShapes(arch.Frames);
        int h = arch.GruHidden;
        for (int l = 0; l < arch.GruLayers; l++)
        {
            var (w, r, bias) = (P($"gru{l + 1}.W"), P($"gru{l + 1}.R"), P($"gru{l + 1}.B"));
            if (cells)
            {
                ranks![x.Name] = 3;
                x = Training.GruCells.Bidirectional(g, x, w, r, bias, h, blocks[^1].T, ranks);
                if (mask is not null)
                {
                    x = g.Op("Mul", x, mask($"dropout.gru{l + 1}"));
                    ranks[x.Name] = 3;
                }
            }
            else
            {
                // Y [T, 2, N, H] → [T, N, 2, H] → [T, N, 2H] (forward then backward, as PyTorch concatenates)
                var y = arch.Gru == GruConvention.Keras
                    ? g.Gru(x, w, r, bias, h, bidirectional: true, linearBeforeReset: false, activations: ["HardSigmoid", "Tanh", "HardSigmoid", "Tanh"])[0]
                    : g.Gru(x, w, r, bias, h, bidirectional: true, linearBeforeReset: true)[0];
                x = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, -1);
            }
        }
        if (ranks is not null)
            ranks[x.Name] = 3;
        return x;
    }

    /// <summary>The linear layer and the log-softmax on the recurrent output [T, N, 2H]; returns [N, T, V].</summary>
    private static OnnxValue Head(OnnxGraphBuilder g, LipNetArchitecture arch, OnnxValue x, Func<string, OnnxValue> P, Dictionary<string, int>? ranks)
    {
        var logits = g.MatMul(x, P("FC.weight_t"));
        if (ranks is not null)
            ranks[logits.Name] = 3;
        x = g.Add(logits, P("FC.bias"));
        if (ranks is not null)
            ranks[x.Name] = 3;
        x = g.LogSoftmax(x, 2);
        return g.Transpose(x, 1, 0, 2);
    }

    /// <summary>The dropout mask inputs of a training graph built with dropout: name and shape (conv blocks [N, C, 1, 1, 1], GRU layers [T, N, 2H]).</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> DropoutMasks(LipNetArchitecture arch, int batch)
    {
        var list = new List<(string, long[])>();
        var blocks = arch.BlockShapes(arch.Frames);
        for (int b = 0; b < arch.ConvChannels.Length; b++)
            list.Add(($"dropout.conv{b + 1}", [batch, arch.ConvChannels[b], 1, 1, 1]));
        for (int l = 0; l < arch.GruLayers; l++)
            list.Add(($"dropout.gru{l + 1}", [blocks[^1].T, batch, 2 * arch.GruHidden]));
        return list;
    }

    /// <summary>Parameters in the graphs' (ONNX) layout: conv weights as PyTorch's, GRU W/R/B stacked per direction with gates z, r, h, the linear weight transposed.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> OnnxParameterShapes(LipNetArchitecture arch)
    {
        var list = new List<(string, long[])>();
        var torch = arch.Parameters().ToDictionary(p => p.Name, p => p.Shape);
        for (int b = 0; b < arch.ConvChannels.Length; b++)
        {
            list.Add(($"conv{b + 1}.weight", torch[$"conv{b + 1}.weight"]));
            list.Add(($"conv{b + 1}.bias", torch[$"conv{b + 1}.bias"]));
        }
        int h = arch.GruHidden, input = arch.GruInput;
        for (int l = 0; l < arch.GruLayers; l++)
        {
            list.Add(($"gru{l + 1}.W", [2, 3 * h, input]));
            list.Add(($"gru{l + 1}.R", [2, 3 * h, h]));
            list.Add(($"gru{l + 1}.B", [2, 6 * h]));
            input = 2 * h;
        }
        list.Add(("FC.weight_t", [2 * h, arch.VocabularySize]));
        list.Add(("FC.bias", [arch.VocabularySize]));
        return list;
    }

    /// <summary>PyTorch-named weights → the graphs' parameters (see <see cref="OnnxParameterShapes"/>).</summary>
    public static Dictionary<string, NamedTensor> ToOnnxLayout(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> torch)
    {
        arch.Validate(torch);
        var result = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var shapes = OnnxParameterShapes(arch).ToDictionary(p => p.Name, p => p.Shape);
        for (int b = 0; b < arch.ConvChannels.Length; b++)
            foreach (var n in new[] { $"conv{b + 1}.weight", $"conv{b + 1}.bias" })
                result[n] = torch[n] with { Name = n };
        int h = arch.GruHidden, input = arch.GruInput;
        for (int l = 0; l < arch.GruLayers; l++)
        {
            var (w, r, bias) = GruWeights(torch, $"gru{l + 1}", h, input);
            result[$"gru{l + 1}.W"] = new NamedTensor($"gru{l + 1}.W", shapes[$"gru{l + 1}.W"], w);
            result[$"gru{l + 1}.R"] = new NamedTensor($"gru{l + 1}.R", shapes[$"gru{l + 1}.R"], r);
            result[$"gru{l + 1}.B"] = new NamedTensor($"gru{l + 1}.B", shapes[$"gru{l + 1}.B"], bias);
            input = 2 * h;
        }
        var fc = torch["FC.weight"];
        result["FC.weight_t"] = new NamedTensor("FC.weight_t", shapes["FC.weight_t"], Transpose2D(fc.Data, (int)fc.Shape[0], (int)fc.Shape[1]));
        result["FC.bias"] = torch["FC.bias"] with { Name = "FC.bias" };
        return result;
    }

    /// <summary>The inverse of <see cref="ToOnnxLayout"/> (for gradients and checkpoints in PyTorch's names and layout).</summary>
    public static Dictionary<string, NamedTensor> ToPyTorchLayout(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> onnx)
    {
        var result = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var torchShapes = arch.Parameters().ToDictionary(p => p.Name, p => p.Shape);
        for (int b = 0; b < arch.ConvChannels.Length; b++)
            foreach (var n in new[] { $"conv{b + 1}.weight", $"conv{b + 1}.bias" })
                result[n] = onnx[n] with { Name = n };
        int h = arch.GruHidden, input = arch.GruInput;
        int[] from = [1, 0, 2]; // ONNX gate g holds PyTorch block from[g]; the permutation is its own inverse
        for (int l = 0; l < arch.GruLayers; l++)
        {
            var w = onnx[$"gru{l + 1}.W"].Data;
            var r = onnx[$"gru{l + 1}.R"].Data;
            var bias = onnx[$"gru{l + 1}.B"].Data;
            string[] suffixes = ["", "_reverse"];
            for (int d = 0; d < 2; d++)
            {
                var wih = new float[3 * h * input];
                var whh = new float[3 * h * h];
                var bih = new float[3 * h];
                var bhh = new float[3 * h];
                for (int gate = 0; gate < 3; gate++)
                {
                    int dst = from[gate];
                    w.AsSpan((d * 3 + gate) * h * input, h * input).CopyTo(wih.AsSpan(dst * h * input));
                    r.AsSpan((d * 3 + gate) * h * h, h * h).CopyTo(whh.AsSpan(dst * h * h));
                    bias.AsSpan(d * 6 * h + gate * h, h).CopyTo(bih.AsSpan(dst * h));
                    bias.AsSpan(d * 6 * h + 3 * h + gate * h, h).CopyTo(bhh.AsSpan(dst * h));
                }
                foreach (var (name, data) in new[] { ($"gru{l + 1}.weight_ih_l0{suffixes[d]}", wih), ($"gru{l + 1}.weight_hh_l0{suffixes[d]}", whh),
                    ($"gru{l + 1}.bias_ih_l0{suffixes[d]}", bih), ($"gru{l + 1}.bias_hh_l0{suffixes[d]}", bhh) })
                    result[name] = new NamedTensor(name, torchShapes[name], data);
            }
            input = 2 * h;
        }
        var fcT = onnx["FC.weight_t"];
        result["FC.weight"] = new NamedTensor("FC.weight", torchShapes["FC.weight"], Transpose2D(fcT.Data, (int)fcT.Shape[0], (int)fcT.Shape[1]));
        result["FC.bias"] = onnx["FC.bias"] with { Name = "FC.bias" };
        return result;
    }

    /// <summary>
    /// The PyTorch-named weights of a float inference graph that <see cref="Build"/> wrote (float32 or float16
    /// initializers): the way back from an exported model, the embedded default too, to training
    /// (<c>lipnet train --init model.onnx</c> fine-tunes it). An int8 graph has lost its float weights and is refused.
    /// </summary>
    public static Dictionary<string, NamedTensor> ReadWeights(LipNetArchitecture arch, byte[] model, string? source = null) =>
        ReadWeights(arch, Runtime.LipNetModel.Parse(model, source), source);

    /// <inheritdoc cref="ReadWeights(LipNetArchitecture, byte[], string?)"/>
    public static Dictionary<string, NamedTensor> ReadWeights(LipNetArchitecture arch, Proto.ModelProto model, string? source = null)
    {
        var initializers = new Dictionary<string, Proto.TensorProto>(StringComparer.Ordinal);
        foreach (var t in model.Graph?.Initializer ?? [])
            initializers.TryAdd(t.Name, t);
        var onnx = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in OnnxParameterShapes(arch))
        {
            if (!initializers.TryGetValue(name, out var tensor) && !initializers.TryGetValue(name + "_fp16", out tensor))
                throw new Runtime.ModelLoadException(initializers.Keys.Any(k => k.EndsWith("_i8", StringComparison.Ordinal))
                    ? "an int8 model keeps no float convolution weights to train from; use its float export"
                    : $"model has no initializer '{name}' of the {arch.Name} architecture (not a LipNet graph of this preset?)", source);
            if (!tensor.Dims.SequenceEqual(shape))
                throw new TensorShapeException($"initializer '{tensor.Name}' is [{string.Join(", ", tensor.Dims)}], the {arch.Name} architecture needs [{string.Join(", ", shape)}]", source);
            onnx[name] = new NamedTensor(name, shape, FloatValues(tensor, shape.Aggregate(1L, (a, b) => a * b), source));
        }
        return ToPyTorchLayout(arch, onnx);
    }

    /// <summary>A float32 or float16 initializer's values, from raw_data or the typed fields.</summary>
    private static float[] FloatValues(Proto.TensorProto tensor, long count, string? source)
    {
        var values = new float[count];
        var raw = tensor.RawData.Span;
        switch ((OnnxElementType)tensor.DataType)
        {
            case OnnxElementType.Float when raw.Length == count * sizeof(float):
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                break;
            case OnnxElementType.Float when raw.Length == 0 && tensor.FloatData.Count == count:
                tensor.FloatData.CopyTo(values, 0);
                break;
            case OnnxElementType.Float16 when raw.Length == count * 2:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(raw), values);
                break;
            case OnnxElementType.Float16 when raw.Length == 0 && tensor.Int32Data.Count == count:
                // ONNX keeps float16 in int32_data as the 16 bits of each value.
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)BitConverter.UInt16BitsToHalf((ushort)tensor.Int32Data[i]);
                break;
            default:
                throw new Runtime.ModelLoadException($"initializer '{tensor.Name}' is not {count} float32 or float16 values (data type {tensor.DataType})", source);
        }
        return values;
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
