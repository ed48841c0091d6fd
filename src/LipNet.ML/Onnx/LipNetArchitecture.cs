namespace LipNet.ML.Onnx;

/// <summary>The GRU equations of a network's recurrent layers (both gate z conventions: h = z·h' + (1 − z)·h~).</summary>
public enum GruConvention
{
    /// <summary>
    /// PyTorch's <c>nn.GRU</c>: sigmoid gates, reset applied after the recurrent product, n = tanh(W_n x + b_in + r·(U_n h + b_hn));
    /// two biases per gate (ONNX GRU <c>linear_before_reset = 1</c>).
    /// </summary>
    Torch,

    /// <summary>
    /// Keras 2.0's <c>GRU</c> with its defaults (<c>reset_after=False</c>): recurrent activation hard sigmoid
    /// (max(0, min(1, 0.2x + 0.5))), reset applied before the recurrent product, h~ = tanh(W_h x + U_h (r·h) + b_h); one bias
    /// per gate (ONNX GRU <c>linear_before_reset = 0</c>, activations HardSigmoid / Tanh). Inference only: the trainer builds
    /// <see cref="Torch"/> GRUs.
    /// </summary>
    Keras,
}

/// <summary>
/// A LipNet-family network: three Conv3d → ReLU → MaxPool3d blocks, two bidirectional GRUs and a linear
/// layer to the CTC vocabulary. Parameter names follow LipNet-PyTorch (<c>conv1.weight</c>,
/// <c>gru1.weight_ih_l0_reverse</c>, <c>FC.weight</c> ...).
/// </summary>
public sealed record LipNetArchitecture
{
    /// <summary>
    /// Label of the architecture ("Paper", "Small" for the presets; default "custom"): used in error messages, checkpoint
    /// metadata and the model card's name (<c>lipnet-{name}</c>, see <see cref="ModelCard.For"/>).
    /// </summary>
    public string Name { get; init; } = "custom";

    /// <summary>Input channels C: 3 for colour (RGB or BGR, as the model card says), 1 for grayscale. Default 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>
    /// Input frames T per clip (default 75: a 3 s GRID clip at 25 fps). The training graph and the default inference graph
    /// are built for exactly this many frames; shorter clips are zero-padded and longer ones trimmed by the normalizer.
    /// </summary>
    public int Frames { get; init; } = 75;

    /// <summary>Height H of the mouth crops the network reads, in pixels (default 50, as in the LipNet paper).</summary>
    public int Height { get; init; } = 50;

    /// <summary>Width W of the mouth crops the network reads, in pixels (default 100, as in the LipNet paper).</summary>
    public int Width { get; init; } = 100;

    /// <summary>
    /// Output channels of each Conv3d block; its length is the number of blocks, and <see cref="Kernels"/>,
    /// <see cref="Strides"/> and <see cref="Padding"/> need one entry per block. Default 32, 64, 96 (LipNet, Assael et al. 2016).
    /// </summary>
    public int[] ConvChannels { get; init; } = [32, 64, 96];

    /// <summary>Conv3d kernel of each block as [kt, kh, kw] (frames, pixels, pixels). Default 3x5x5, 3x5x5, 3x3x3 (the paper's).</summary>
    public int[][] Kernels { get; init; } = [[3, 5, 5], [3, 5, 5], [3, 3, 3]];

    /// <summary>Conv3d stride of each block as [st, sh, sw]. Default [1, 2, 2] for the first block, 1 elsewhere (the paper's).</summary>
    public int[][] Strides { get; init; } = [[1, 2, 2], [1, 1, 1], [1, 1, 1]];

    /// <summary>
    /// Conv3d zero padding of each block as [pt, ph, pw], applied on both sides of each axis. The defaults keep the frame
    /// count ("same" padding in time), which CTC needs: one output distribution per input frame.
    /// </summary>
    public int[][] Padding { get; init; } = [[1, 2, 2], [1, 2, 2], [1, 1, 1]];

    /// <summary>
    /// MaxPool3d kernel and stride [pt, ph, pw] after every block. Default [1, 2, 2]: halve height and width, keep time.
    /// </summary>
    public int[] Pool { get; init; } = [1, 2, 2];

    /// <summary>Hidden units per direction of each bidirectional GRU (default 256); a layer's output has 2 x this features.</summary>
    public int GruHidden { get; init; } = 256;

    /// <summary>Stacked bidirectional GRU layers (default 2), named <c>gru1</c>, <c>gru2</c> ... in the weights.</summary>
    public int GruLayers { get; init; } = 2;

    /// <summary>
    /// Output classes V of the linear layer, CTC blank included. Default 28: GRID's 26 letters, space and blank
    /// (<see cref="Decoding.CtcVocabulary.Grid"/>); <see cref="Training.LipNetTrainer"/> requires 28.
    /// </summary>
    public int VocabularySize { get; init; } = 28;

    /// <summary>
    /// Which GRU equations the recurrent layers follow: <see cref="GruConvention.Torch"/> (default; PyTorch's, what this
    /// library trains) or <see cref="GruConvention.Keras"/> (Keras 2.0's, for weights imported from rizkiarm/LipNet).
    /// </summary>
    public GruConvention Gru { get; init; } = GruConvention.Torch;

    /// <summary>The LipNet paper's network at 3x75x50x100 RGB input (4.57 M parameters, GRU input 96x3x6 = 1728).</summary>
    public static LipNetArchitecture Paper { get; } = new() { Name = "Paper" };

    /// <summary>
    /// A quarter-width network for fast CPU training on the same 3x75x50x100 input: convolutions
    /// 16/32/48, BiGRU 128 x 2 (<see cref="ParameterCount"/> and <see cref="MultiplyAccumulates"/> give
    /// its size).
    /// </summary>
    public static LipNetArchitecture Small { get; } = new() { Name = "Small", ConvChannels = [16, 32, 48], GruHidden = 128 };

    /// <summary>A preset by name, case-insensitively: "paper" (<see cref="Paper"/>) or "small" (<see cref="Small"/>).</summary>
    /// <param name="name">The preset's name, e.g. from a command line.</param>
    /// <returns>The shared preset instance (records are immutable; derive variants with <c>with</c>).</returns>
    /// <exception cref="LipNetException"><paramref name="name"/> is neither preset.</exception>
    public static LipNetArchitecture Preset(string name) => name.ToLowerInvariant() switch
    {
        "paper" => Paper,
        "small" => Small,
        _ => throw new LipNetException($"unknown architecture preset '{name}' (Paper or Small)"),
    };

    /// <summary>
    /// Output shape (C, T, H, W) of each conv + pool block for a clip of <paramref name="frames"/> frames at
    /// <see cref="Height"/> x <see cref="Width"/>: per axis, conv gives ⌊(n + 2p − k) / s⌋ + 1, then pooling divides (floor).
    /// </summary>
    /// <param name="frames">Input frames T (usually <see cref="Frames"/>).</param>
    /// <exception cref="TensorShapeException">An axis shrinks to zero or less after some block.</exception>
    public IReadOnlyList<(int C, int T, int H, int W)> BlockShapes(int frames)
    {
        var shapes = new List<(int, int, int, int)>();
        int t = frames, h = Height, w = Width;
        for (int b = 0; b < ConvChannels.Length; b++)
        {
            t = (t + 2 * Padding[b][0] - Kernels[b][0]) / Strides[b][0] + 1;
            h = (h + 2 * Padding[b][1] - Kernels[b][1]) / Strides[b][1] + 1;
            w = (w + 2 * Padding[b][2] - Kernels[b][2]) / Strides[b][2] + 1;
            t /= Pool[0];
            h /= Pool[1];
            w /= Pool[2];
            if (t <= 0 || h <= 0 || w <= 0)
                throw new TensorShapeException($"{Name}: input {Channels}x{frames}x{Height}x{Width} shrinks to nothing after block {b + 1}");
            shapes.Add((ConvChannels[b], t, h, w));
        }
        return shapes;
    }

    /// <summary>
    /// Whether the conv blocks can run as 2-D convolutions over stacked neighbouring frames (what the inference
    /// graph does when it can): temporal stride 1, "same" temporal padding (kernel = 2 x padding + 1), no temporal pooling.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ConvolvesFramewise => Pool[0] == 1 && Enumerable.Range(0, ConvChannels.Length).All(b => Strides[b][0] == 1 && Kernels[b][0] == 2 * Padding[b][0] + 1);

    /// <summary>Features per frame entering the first GRU (C x H x W of the last block).</summary>
    public int GruInput => BlockShapes(Frames)[^1] is var s ? s.C * s.H * s.W : 0;

    /// <summary>Every parameter: PyTorch name and shape.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> Parameters()
    {
        var list = new List<(string, long[])>();
        int inC = Channels;
        for (int b = 0; b < ConvChannels.Length; b++)
        {
            list.Add(($"conv{b + 1}.weight", [ConvChannels[b], inC, Kernels[b][0], Kernels[b][1], Kernels[b][2]]));
            list.Add(($"conv{b + 1}.bias", [ConvChannels[b]]));
            inC = ConvChannels[b];
        }
        int input = GruInput, h = GruHidden;
        for (int l = 0; l < GruLayers; l++)
        {
            foreach (var suffix in new[] { "", "_reverse" })
            {
                list.Add(($"gru{l + 1}.weight_ih_l0{suffix}", [3 * h, input]));
                list.Add(($"gru{l + 1}.weight_hh_l0{suffix}", [3 * h, h]));
                list.Add(($"gru{l + 1}.bias_ih_l0{suffix}", [3 * h]));
                list.Add(($"gru{l + 1}.bias_hh_l0{suffix}", [3 * h]));
            }
            input = 2 * h;
        }
        list.Add(("FC.weight", [VocabularySize, 2 * h]));
        list.Add(("FC.bias", [VocabularySize]));
        return list;
    }

    /// <summary>Trainable scalars of all <see cref="Parameters"/> (about 4.57 M for <see cref="Paper"/>).</summary>
    /// <exception cref="TensorShapeException">The input shrinks to nothing in the conv blocks (see <see cref="BlockShapes"/>).</exception>
    public long ParameterCount => Parameters().Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>Multiply-accumulates of one clip's forward pass.</summary>
    public long MultiplyAccumulates
    {
        get
        {
            long macs = 0;
            int inC = Channels, t = Frames, hh = Height, ww = Width;
            for (int b = 0; b < ConvChannels.Length; b++)
            {
                int ot = (t + 2 * Padding[b][0] - Kernels[b][0]) / Strides[b][0] + 1;
                int oh = (hh + 2 * Padding[b][1] - Kernels[b][1]) / Strides[b][1] + 1;
                int ow = (ww + 2 * Padding[b][2] - Kernels[b][2]) / Strides[b][2] + 1;
                macs += (long)ConvChannels[b] * ot * oh * ow * inC * Kernels[b][0] * Kernels[b][1] * Kernels[b][2];
                inC = ConvChannels[b];
                t = ot / Pool[0]; hh = oh / Pool[1]; ww = ow / Pool[2];
            }
            int input = GruInput, h = GruHidden, frames = BlockShapes(Frames)[^1].T;
            for (int l = 0; l < GruLayers; l++)
            {
                macs += 2L * frames * 3 * h * (input + h);
                input = 2 * h;
            }
            return macs + (long)frames * 2 * h * VocabularySize;
        }
    }

    /// <summary>
    /// Seeded initial weights as LipNet-PyTorch initializes them: Kaiming-normal convolutions (ReLU gain) and linear
    /// layer (gain 1), GRU input weights U(±√3·σ) with σ = √(2 / (input + hidden)) per gate block, orthogonal
    /// recurrent blocks, zero biases. PyTorch's default U(±1/√fan_in) shrinks the signal about 2.5x per conv
    /// layer, so the GRUs first see almost nothing of the video and learn a language model; training stalls.
    /// </summary>
    public Dictionary<string, NamedTensor> InitialWeights(int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var weights = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        int h = GruHidden;
        foreach (var (name, shape) in Parameters())
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var data = new float[count];
            long fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            if (name.Contains("bias", StringComparison.Ordinal))
            {
                // zeros
            }
            else if (name.StartsWith("conv", StringComparison.Ordinal))
                for (int i = 0; i < data.Length; i++)
                    data[i] = (float)(Normal() * Math.Sqrt(2.0 / fanIn));
            else if (name == "FC.weight")
                for (int i = 0; i < data.Length; i++)
                    data[i] = (float)(Normal() * Math.Sqrt(1.0 / fanIn));
            else if (name.Contains("weight_ih", StringComparison.Ordinal))
            {
                double bound = Math.Sqrt(3) * Math.Sqrt(2.0 / (fanIn + h));
                for (int i = 0; i < data.Length; i++)
                    data[i] = (float)((random.NextDouble() * 2 - 1) * bound);
            }
            else // weight_hh: each gate's H x H block orthogonal
                for (int gate = 0; gate < 3; gate++)
                    Orthogonal(h, Normal).CopyTo(data.AsSpan(gate * h * h, h * h));
            weights[name] = new NamedTensor(name, shape, data);
        }
        return weights;
    }

    /// <summary>A random n x n orthogonal matrix (row-major): Q of the QR decomposition of a Gaussian matrix, signs fixed by R's diagonal.</summary>
    private static float[] Orthogonal(int n, Func<double> normal)
    {
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (_, _) => normal());
        var qr = a.QR();
        var q = qr.Q;
        var result = new float[n * n];
        for (int j = 0; j < n; j++)
        {
            double sign = Math.Sign(qr.R[j, j]) is 0 ? 1 : Math.Sign(qr.R[j, j]);
            for (int i = 0; i < n; i++)
                result[i * n + j] = (float)(q[i, j] * sign);
        }
        return result;
    }

    /// <summary>Checks a weight set has every parameter with the right shape (extra tensors are ignored).</summary>
    /// <param name="weights">PyTorch-named weights, e.g. from <see cref="SafeTensors.Load(string)"/>.</param>
    /// <param name="source">Where the weights came from (a file path), named in the exception; null when unknown.</param>
    /// <exception cref="TensorShapeException">A parameter of <see cref="Parameters"/> is missing or has another shape.</exception>
    public void Validate(IReadOnlyDictionary<string, NamedTensor> weights, string? source = null)
    {
        foreach (var (name, shape) in Parameters())
        {
            if (!weights.TryGetValue(name, out var t))
                throw new TensorShapeException($"weights lack '{name}' needed by the {Name} architecture", source);
            if (!t.Shape.SequenceEqual(shape))
                throw new TensorShapeException($"'{name}' is [{string.Join(", ", t.Shape)}], the {Name} architecture needs [{string.Join(", ", shape)}]", source);
        }
    }
}
