using Google.Protobuf;
using LipNet.ML.Decoding;
using LipNet.ML.Video;

namespace LipNet.ML.Onnx;

/// <summary>
/// A LipNet network whose weights were trained elsewhere, ready to become an ONNX model with its card
/// (<see cref="ToOnnx"/>, <see cref="Save"/>): the architecture as read from the file, the weights in this library's
/// PyTorch names and layout, and the card (vocabulary order, crop profile, channel order, input size).
/// </summary>
/// <param name="Architecture">The network, its widths read from the file's tensor shapes.</param>
/// <param name="Weights">PyTorch-named weights (<c>conv1.weight</c>, <c>gru1.weight_ih_l0</c>, <c>FC.weight</c> ...) for <see cref="LipNetGraph.Build"/>.</param>
/// <param name="Card">The model card the ONNX file carries.</param>
public sealed record ImportedLipNet(LipNetArchitecture Architecture, IReadOnlyDictionary<string, NamedTensor> Weights, ModelCard Card)
{
    /// <summary>The inference graph (<see cref="LipNetGraph.Build"/>) with the card in its metadata.</summary>
    /// <param name="float16Weights">Store weights as float16 (half the file; outputs differ by about 1e-3).</param>
    public Proto.ModelProto ToOnnx(bool float16Weights = false) => LipNetGraph.Build(Architecture, Weights, Card, float16Weights);

    /// <summary>Writes the ONNX model to <paramref name="path"/> (its folder is created).</summary>
    /// <param name="path">The <c>.onnx</c> file to write.</param>
    /// <param name="float16Weights">Store weights as float16.</param>
    /// <exception cref="LipNetException">The file cannot be written (a directory, no permission, no space), naming it.</exception>
    public void Save(string path, bool float16Weights = false)
    {
        var bytes = ToOnnx(float16Weights).ToByteArray();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllBytes(path, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LipNetException(Directory.Exists(path) ? "is a directory: give the .onnx file to write" : $"cannot write the model ({ex.Message})", path, ex);
        }
    }
}

/// <summary>
/// Imports the public LipNet weights users already have, as their projects saved them:
/// <list type="bullet">
/// <item><see cref="FromKeras"/>: rizkiarm/LipNet's Keras 2 HDF5 weights (<c>lipnet/model2.py</c>'s network);</item>
/// <item><see cref="FromTorch"/>: Fengdalu/LipNet-PyTorch (VIPL) <c>torch.save</c> state_dicts, zip or legacy format;</item>
/// <item><see cref="FromSafeTensors"/>: safetensors with LipNet-PyTorch names at a preset's input.</item>
/// </list>
/// Layer widths (channels, GRU size) are read from the file's shapes, so narrower trainings of the same networks load too;
/// kernels, strides, padding, pooling and the 28-class output are checked against the network's definition.
/// </summary>
public static class LipNetImport
{
    /// <summary>The <c>--arch</c> name of rizkiarm/LipNet's Keras network (<see cref="FromKeras"/>).</summary>
    public const string Rizkiarm = "rizkiarm";

    /// <summary>The <c>--arch</c> name of LipNet-PyTorch's network (<see cref="FromTorch"/>).</summary>
    public const string Vipl = "vipl";

    /// <summary>Vocabulary size both networks have: 26 letters, space and the CTC blank.</summary>
    private const int Classes = 28;

    /// <summary>
    /// rizkiarm/LipNet's Keras 2 weights (<c>model.save_weights</c> or a full <c>model.save</c> file) of <c>lipnet/model2.py</c>:
    /// ZeroPadding3D + Conv3D (3,5,5)/2 → BatchNormalization → ReLU → MaxPooling3D (1,2,2); the same with (3,5,5)/1 and (3,3,3)/1;
    /// TimeDistributed(Flatten) in W, H, C order; two Bidirectional GRU (Keras 2.0: hard-sigmoid gates, reset before the
    /// recurrent product, one bias); Dense 28. Its input is channels-last T x W x H x C (width before height); here the
    /// convolution kernels and the first GRU's input columns are permuted so the model takes this library's [N, 3, 75, 50, 100]
    /// RGB input, and BatchNormalization (inference mode, epsilon 1e-3) is folded into the convolutions. Card: vocabulary a–z,
    /// space, blank last; crop profile <c>mouth-centred</c> (rizkiarm's crop); pixels / 255.
    /// Weights are found by the last two parts of their names (<c>conv1/kernel:0</c>, <c>forward_gru1/recurrent_kernel:0</c>),
    /// since Keras 2 versions differ in scope prefixes (TF2-style names such as <c>forward_gru1/gru_cell/kernel:0</c> are not read).
    /// Non-finite values and empty dimensions are refused.
    /// </summary>
    /// <param name="path">The <c>.h5</c> file (e.g. rizkiarm's <c>overlapped-weights368.h5</c>, <c>unseen-weights178.h5</c>).</param>
    /// <exception cref="ModelImportException">Not a readable Keras HDF5 file, a weight of another layer (<c>conv4/kernel:0</c>), a missing
    /// weight, or a shape that does not fit the network; the message names the dataset.</exception>
    public static ImportedLipNet FromKeras(string path)
    {
        var weights = new Dictionary<string, KerasWeight>(StringComparer.Ordinal);
        var expected = KerasNames().ToHashSet(StringComparer.Ordinal);
        foreach (var w in KerasWeights.Load(path))
        {
            if (!expected.Contains(w.TrailingName))
                throw new ModelImportException($"unknown weight '{w.Path}': rizkiarm/LipNet's model2 has no such layer or variable", path, w.Path);
            if (!weights.TryAdd(w.TrailingName, w))
                throw new ModelImportException(weights[w.TrailingName].Path == w.Path
                    ? $"weight '{w.Path}' is listed twice (layer '{w.Layer}' twice in layer_names?)"
                    : $"weight '{w.Path}' appears twice (also as '{weights[w.TrailingName].Path}')", path, w.Path);
            CheckValues(w.Path, w.Shape, w.Data, path);
        }
        foreach (var name in KerasNames())
            if (!weights.ContainsKey(name))
                throw new ModelImportException($"no weight '{name}' of rizkiarm/LipNet's model2 (a weights file of another network?)", path, name);
        if (weights["forward_gru1/bias:0"].Shape.Length == 2)
            throw new ModelImportException("the GRUs have two bias rows (Keras reset_after=True, a later Keras's GRU), not model2's Keras 2.0 GRU",
                path, weights["forward_gru1/bias:0"].Path);

        var paper = LipNetArchitecture.Paper;
        int[] channels = [.. Enumerable.Range(1, 3).Select(b => (int)Dim(weights[$"conv{b}/kernel:0"], 4, path))];
        int hidden = (int)Dim(weights["forward_gru1/recurrent_kernel:0"], 0, path);
        var arch = paper with { Name = Rizkiarm, ConvChannels = channels, GruHidden = hidden, Gru = GruConvention.Keras };
        int input = paper.Channels;
        for (int b = 0; b < 3; b++)
        {
            var k = arch.Kernels[b];
            // Keras's kernel axes follow its input's: (kt, kW, kH, in, out).
            Expect(weights[$"conv{b + 1}/kernel:0"], [k[0], k[2], k[1], input, channels[b]], path);
            foreach (var v in new[] { $"conv{b + 1}/bias:0", $"batc{b + 1}/gamma:0", $"batc{b + 1}/beta:0", $"batc{b + 1}/moving_mean:0", $"batc{b + 1}/moving_variance:0" })
                Expect(weights[v], [channels[b]], path);
            input = channels[b];
        }
        int features = arch.GruInput;
        for (int l = 1; l <= 2; l++)
            foreach (var d in new[] { "forward", "backward" })
            {
                Expect(weights[$"{d}_gru{l}/kernel:0"], [l == 1 ? features : 2 * hidden, 3 * hidden], path);
                Expect(weights[$"{d}_gru{l}/recurrent_kernel:0"], [hidden, 3 * hidden], path);
                Expect(weights[$"{d}_gru{l}/bias:0"], [3 * hidden], path);
            }
        Expect(weights["dense1/kernel:0"], [2 * hidden, Classes], path);
        Expect(weights["dense1/bias:0"], [Classes], path);

        var torch = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        input = paper.Channels;
        for (int b = 0; b < 3; b++)
        {
            var (w, bias) = FoldBatchNorm(weights, b + 1, input, channels[b], arch.Kernels[b]);
            torch[w.Name] = w;
            torch[bias.Name] = bias;
            input = channels[b];
        }
        var last = arch.BlockShapes(arch.Frames)[^1];
        // Our flatten is (C, H, W), Keras's TimeDistributed(Flatten) of T x W x H x C is (W, H, C): column of ours → row of Keras's.
        var firstInput = new int[features];
        for (int c = 0; c < last.C; c++)
            for (int y = 0; y < last.H; y++)
                for (int x = 0; x < last.W; x++)
                    firstInput[(c * last.H + y) * last.W + x] = (x * last.H + y) * last.C + c;
        for (int l = 1; l <= 2; l++)
            foreach (var (d, suffix) in new[] { ("forward", ""), ("backward", "_reverse") })
                foreach (var t in KerasGru(weights, $"{d}_gru{l}", $"gru{l}", suffix, hidden, l == 1 ? firstInput : null))
                    torch[t.Name] = t;
        var dense = weights["dense1/kernel:0"];
        torch["FC.weight"] = new NamedTensor("FC.weight", [Classes, 2 * hidden], LipNetGraph.Transpose2D(dense.Data, 2 * hidden, Classes));
        torch["FC.bias"] = new NamedTensor("FC.bias", [Classes], weights["dense1/bias:0"].Data);
        arch.Validate(torch, path);
        return new ImportedLipNet(arch, torch, Card(arch, $"imported from rizkiarm/LipNet Keras weights {Path.GetFileName(path)}",
            BlankPosition.Last, Mouth.CropProfile.MouthCentred, PixelOrder.Rgb));
    }

    /// <summary>
    /// A Fengdalu/LipNet-PyTorch (VIPL) checkpoint: <c>torch.save(model.state_dict())</c> in the zip format (PyTorch ≥ 1.6) or the
    /// legacy format its 2019 releases used (<see cref="TorchCheckpoint"/>; nothing in the pickle is run). The network is the paper's
    /// LipNet with PyTorch GRUs; its input size is read from the first GRU's width — 128x64 (GRU input 96·4·8 = 3,072, the
    /// project's published results) or 100x50 (96·3·6 = 1,728, its current code). Card: blank first, then space, then a–z; BGR
    /// channels (it reads frames with cv2.imread) / 255; crop profile <c>face-aligned</c> (its scripts/extract_lip.py).
    /// </summary>
    /// <param name="path">The <c>.pt</c> file (e.g. <c>LipNet_unseen_loss_0.44562849402427673_wer_0.1332580699113564_cer_0.06796452465503355.pt</c>).</param>
    /// <exception cref="ModelImportException">Not a readable torch.save file, a tensor of another network, a missing tensor, a shape that does
    /// not fit, or a pickle naming code to run; the message names the tensor.</exception>
    public static ImportedLipNet FromTorch(string path)
    {
        var weights = TorchCheckpoint.Load(path);
        var paper = LipNetArchitecture.Paper;
        foreach (var name in new[] { "conv1.weight", "conv2.weight", "conv3.weight", "gru1.weight_hh_l0", "gru1.weight_ih_l0" })
            if (!weights.ContainsKey(name))
                throw new ModelImportException($"no tensor '{name}' of LipNet-PyTorch's network (a checkpoint of another network?)", path, name);
        int[] channels = [.. Enumerable.Range(1, 3).Select(b => (int)Dim(weights[$"conv{b}.weight"], 0, path))];
        int hidden = (int)Dim(weights["gru1.weight_hh_l0"], 1, path);
        long features = Dim(weights["gru1.weight_ih_l0"], 1, path);
        var sizes = new[] { (Height: 64, Width: 128), (Height: 50, Width: 100) }
            .Select(s => paper with { Name = Vipl, ConvChannels = channels, GruHidden = hidden, Height = s.Height, Width = s.Width }).ToList();
        var arch = sizes.FirstOrDefault(a => a.GruInput == features)
            ?? throw new ModelImportException($"'gru1.weight_ih_l0' takes {features} features per frame; LipNet-PyTorch's network takes " +
                string.Join(" or ", sizes.Select(a => $"{a.GruInput} (at {a.Width}x{a.Height})")), path, "gru1.weight_ih_l0");
        var parameters = arch.Parameters().ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        foreach (var (name, tensor) in weights)
        {
            CheckValues(name, tensor.Shape, tensor.Data, path);
            if (!parameters.TryGetValue(name, out var shape))
                throw new ModelImportException($"unknown tensor '{name}': LipNet-PyTorch's network has no such parameter", path, name);
            if (!tensor.Shape.SequenceEqual(shape))
                throw new ModelImportException($"'{name}' is [{string.Join(", ", tensor.Shape)}], LipNet-PyTorch's network needs [{string.Join(", ", shape)}]", path, name);
        }
        foreach (var name in parameters.Keys)
            if (!weights.ContainsKey(name))
                throw new ModelImportException($"no tensor '{name}' of LipNet-PyTorch's network (truncated or another network?)", path, name);
        return new ImportedLipNet(arch, weights, Card(arch, $"imported from LipNet-PyTorch checkpoint {Path.GetFileName(path)}",
            BlankPosition.First, Mouth.CropProfile.FaceAligned, PixelOrder.Bgr));
    }

    /// <summary>
    /// Safetensors weights with LipNet-PyTorch names (<c>conv1.weight</c>, <c>gru1.weight_ih_l0</c>, <c>FC.weight</c> ...) for a
    /// preset's network and input (RGB, crop profile <c>haar</c> as before crop profiles existed).
    /// </summary>
    /// <param name="path">The <c>.safetensors</c> file.</param>
    /// <param name="arch">The network the weights belong to (e.g. <see cref="LipNetArchitecture.Paper"/>).</param>
    /// <param name="blank">Where the CTC blank sits: first (LipNet-PyTorch: blank, space, a–z) or last (Keras: a–z, space, blank).</param>
    /// <exception cref="LipNetException">The file is not safetensors.</exception>
    /// <exception cref="TensorShapeException">A parameter is missing or has another shape.</exception>
    public static ImportedLipNet FromSafeTensors(string path, LipNetArchitecture arch, BlankPosition blank)
    {
        var weights = SafeTensors.Load(path);
        arch.Validate(weights, path);
        var vocab = CtcVocabulary.Grid(blank);
        var card = ModelCard.For(arch, $"imported from {Path.GetFileName(path)}") with { Vocabulary = [.. vocab.Tokens], Blank = vocab.Blank };
        return new ImportedLipNet(arch, weights, card);
    }

    /// <summary>An imported network's card: GRID's vocabulary with the blank where the project put it, its crop profile and channel order.</summary>
    private static ModelCard Card(LipNetArchitecture arch, string provenance, BlankPosition blank, Mouth.CropProfile profile, PixelOrder order) =>
        ModelCard.For(arch, provenance) with
        {
            Vocabulary = [.. CtcVocabulary.Grid(blank).Tokens],
            Blank = blank,
            CropProfile = profile.Name,
            ChannelOrder = order,
        };

    /// <summary>The trailing names of model2's weights.</summary>
    private static IEnumerable<string> KerasNames()
    {
        for (int b = 1; b <= 3; b++)
        {
            yield return $"conv{b}/kernel:0";
            yield return $"conv{b}/bias:0";
            foreach (var v in new[] { "gamma", "beta", "moving_mean", "moving_variance" })
                yield return $"batc{b}/{v}:0";
        }
        for (int l = 1; l <= 2; l++)
            foreach (var d in new[] { "forward", "backward" })
                foreach (var v in new[] { "kernel", "recurrent_kernel", "bias" })
                    yield return $"{d}_gru{l}/{v}:0";
        yield return "dense1/kernel:0";
        yield return "dense1/bias:0";
    }

    private static long Dim(KerasWeight w, int axis, string path) =>
        axis < w.Shape.Length ? w.Shape[axis] : throw new ModelImportException($"'{w.Path}' has rank {w.Shape.Length}, too few dimensions", path, w.Path);

    private static long Dim(NamedTensor t, int axis, string path) =>
        axis < t.Shape.Length ? t.Shape[axis] : throw new ModelImportException($"'{t.Name}' has rank {t.Shape.Length}, too few dimensions", path, t.Name);

    /// <summary>Refuses empty dimensions and non-finite values: either would only fail (or read silently wrong) at inference.</summary>
    private static void CheckValues(string name, long[] shape, float[] data, string path)
    {
        if (shape.Any(d => d <= 0))
            throw new ModelImportException($"'{name}' has an empty dimension [{string.Join(", ", shape)}]", path, name);
        int bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new ModelImportException($"'{name}' holds a non-finite value ({data[bad]} at element {bad}): the weights are broken", path, name);
    }

    private static void Expect(KerasWeight w, long[] shape, string path)
    {
        if (!w.Shape.SequenceEqual(shape))
            throw new ModelImportException($"'{w.Path}' is ({string.Join(", ", w.Shape)}), rizkiarm/LipNet's model2 needs ({string.Join(", ", shape)})", path, w.Path);
    }

    /// <summary>
    /// Conv3D (kernel (kt, kW, kH, in, out)) + BatchNormalization in inference mode → one convolution in PyTorch layout
    /// [out, in, kt, kH, kW]: w' = w·γ/√(σ² + ε), b' = (b − μ)·γ/√(σ² + ε) + β, ε = 1e-3 (Keras's default).
    /// </summary>
    private static (NamedTensor Weight, NamedTensor Bias) FoldBatchNorm(Dictionary<string, KerasWeight> w, int block, int input, int output, int[] k)
    {
        const double epsilon = 1e-3;
        var kernel = w[$"conv{block}/kernel:0"].Data;
        var bias = w[$"conv{block}/bias:0"].Data;
        var (gamma, beta) = (w[$"batc{block}/gamma:0"].Data, w[$"batc{block}/beta:0"].Data);
        var (mean, variance) = (w[$"batc{block}/moving_mean:0"].Data, w[$"batc{block}/moving_variance:0"].Data);
        int kt = k[0], kh = k[1], kw = k[2];
        var weight = new float[output * input * kt * kh * kw];
        var folded = new float[output];
        for (int o = 0; o < output; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + epsilon);
            folded[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
            for (int i = 0; i < input; i++)
                for (int t = 0; t < kt; t++)
                    for (int y = 0; y < kh; y++)
                        for (int x = 0; x < kw; x++)
                            weight[(((o * input + i) * kt + t) * kh + y) * kw + x] = (float)(kernel[(((t * kw + x) * kh + y) * input + i) * output + o] * scale);
        }
        return (new NamedTensor($"conv{block}.weight", [output, input, kt, kh, kw], weight), new NamedTensor($"conv{block}.bias", [output], folded));
    }

    /// <summary>
    /// A Keras GRU direction (kernel [in, 3H], recurrent_kernel [H, 3H], gate columns z | r | h, one bias) → PyTorch-named tensors
    /// (gate rows r, z, n; <c>bias_hh</c> zero, as Keras has none). <paramref name="inputRows"/> maps each of our input columns to
    /// the Keras kernel row it comes from (null: the same).
    /// </summary>
    private static IEnumerable<NamedTensor> KerasGru(Dictionary<string, KerasWeight> w, string keras, string layer, string suffix, int h, int[]? inputRows)
    {
        var kernel = w[$"{keras}/kernel:0"].Data;
        var recurrent = w[$"{keras}/recurrent_kernel:0"].Data;
        var bias = w[$"{keras}/bias:0"].Data;
        int input = kernel.Length / (3 * h);
        int[] kerasGate = [1, 0, 2]; // PyTorch block r, z, n ← Keras block r (1), z (0), h (2)
        var wih = new float[3 * h * input];
        var whh = new float[3 * h * h];
        var bih = new float[3 * h];
        for (int g = 0; g < 3; g++)
            for (int j = 0; j < h; j++)
            {
                int column = kerasGate[g] * h + j, row = g * h + j;
                for (int i = 0; i < input; i++)
                    wih[row * input + i] = kernel[(inputRows?[i] ?? i) * 3 * h + column];
                for (int m = 0; m < h; m++)
                    whh[row * h + m] = recurrent[m * 3 * h + column];
                bih[row] = bias[column];
            }
        yield return new NamedTensor($"{layer}.weight_ih_l0{suffix}", [3 * h, input], wih);
        yield return new NamedTensor($"{layer}.weight_hh_l0{suffix}", [3 * h, h], whh);
        yield return new NamedTensor($"{layer}.bias_ih_l0{suffix}", [3 * h], bih);
        yield return new NamedTensor($"{layer}.bias_hh_l0{suffix}", [3 * h], new float[3 * h]);
    }
}
