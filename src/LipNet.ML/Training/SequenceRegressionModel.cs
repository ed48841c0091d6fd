using LipNet.ML.Onnx;

namespace LipNet.ML.Training;

/// <summary>
/// Sizes of a <see cref="SequenceRegressionModel"/>: per frame, <see cref="InputFeatures"/> in, bidirectional GRU layers,
/// a linear head, <see cref="OutputFeatures"/> out.
/// </summary>
/// <param name="Name">Short name for logs, checkpoints and cards (e.g. "wav2kp").</param>
/// <param name="Frames">Frames T per training sequence (the training graph unrolls the GRUs over exactly this many).</param>
/// <param name="InputFeatures">Features F per input frame (e.g. 13 MFCCs x 5 frames of context = 65).</param>
/// <param name="GruHidden">Hidden units H per direction of each GRU layer.</param>
/// <param name="GruLayers">Bidirectional GRU layers, at least 1.</param>
/// <param name="OutputFeatures">Values O predicted per frame (e.g. 40 lip points x 2 = 80).</param>
public sealed record SequenceRegressionArchitecture(string Name, int Frames, int InputFeatures, int GruHidden, int GruLayers, int OutputFeatures)
{
    /// <summary>Trained parameters: each layer's <c>gru{l}.W</c> [2, 3H, I], <c>gru{l}.R</c> [2, 3H, H], <c>gru{l}.B</c> [2, 6H], then <c>head.weight</c> [2H, O] and <c>head.bias</c> [O].</summary>
    public IReadOnlyList<(string Name, long[] Shape)> ParameterShapes()
    {
        var shapes = new List<(string, long[])>();
        for (int l = 0; l < GruLayers; l++)
        {
            long input = l == 0 ? InputFeatures : 2 * GruHidden;
            shapes.Add(($"gru{l + 1}.W", [2, 3 * GruHidden, input]));
            shapes.Add(($"gru{l + 1}.R", [2, 3 * GruHidden, GruHidden]));
            shapes.Add(($"gru{l + 1}.B", [2, 6 * GruHidden]));
        }
        shapes.Add(("head.weight", [2 * GruHidden, OutputFeatures]));
        shapes.Add(("head.bias", [OutputFeatures]));
        return shapes;
    }

    /// <summary>Number of trained values.</summary>
    public long ParameterCount => ParameterShapes().Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>Checks the sizes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public void Validate()
    {
        foreach (var (name, value) in new[] { (nameof(Frames), Frames), (nameof(InputFeatures), InputFeatures), (nameof(GruHidden), GruHidden),
                     (nameof(GruLayers), GruLayers), (nameof(OutputFeatures), OutputFeatures) })
            if (value < 1)
                throw new ArgumentOutOfRangeException(name, value, $"{name} of {Name} must be at least 1");
    }
}

/// <summary>
/// A sequence regressor as a <see cref="ITrainableModel"/>: features [N, T, F] → bidirectional GRU layers (PyTorch's GRU, ONNX
/// <c>linear_before_reset=1</c>; element-wise dropout after each) → a linear head → predictions [N, T, O], trained with L1 or
/// MSE against per-frame targets. The backbone of the WAV2KP system (audio features → mouth keypoints) and of other
/// frame-synchronous regressions; <see cref="BuildInference"/> writes the inference graph with fused GRUs and any T and N.
/// </summary>
public sealed class SequenceRegressionModel : ITrainableModel
{
    /// <summary>The graph input: features [N, T, F].</summary>
    public const string InputName = "features";

    /// <summary>The graph output: predictions [N, T, O].</summary>
    public const string OutputName = "predictions";

    /// <summary>A regressor of <paramref name="architecture"/> trained with <paramref name="loss"/>.</summary>
    /// <param name="architecture">The sizes.</param>
    /// <param name="loss">The loss on the predictions; null = <see cref="L1Loss"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size of <paramref name="architecture"/> is not positive.</exception>
    public SequenceRegressionModel(SequenceRegressionArchitecture architecture, ITrainingLoss? loss = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        Architecture = architecture;
        Parameters = architecture.ParameterShapes();
        Loss = loss ?? new L1Loss();
    }

    /// <summary>The sizes.</summary>
    public SequenceRegressionArchitecture Architecture { get; }

    /// <inheritdoc/>
    public string Name => Architecture.Name;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Parameters { get; }

    /// <inheritdoc/>
    public string Output => OutputName;

    /// <inheritdoc/>
    public ITrainingLoss Loss { get; }

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Inputs(int batchSize) => [(InputName, [batchSize, Architecture.Frames, Architecture.InputFeatures])];

    /// <inheritdoc/>
    public long[] OutputShape(int batchSize) => [batchSize, Architecture.Frames, Architecture.OutputFeatures];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> DropoutMasks(int batchSize) =>
        Enumerable.Range(1, Architecture.GruLayers).Select(l => ($"dropout.gru{l}", new long[] { Architecture.Frames, batchSize, 2 * Architecture.GruHidden })).ToList();

    /// <summary>
    /// Initial values as PyTorch initialises these layers: GRU weights and biases uniform in ±1/√H, the head's weight and bias
    /// uniform in ±1/√(2H) (<c>nn.Linear</c>'s default), drawn in parameter order from <paramref name="seed"/>.
    /// </summary>
    /// <param name="seed">Equal seeds give equal values.</param>
    public IReadOnlyDictionary<string, float[]> InitialParameters(int seed)
    {
        var random = new Random(seed);
        var values = new Dictionary<string, float[]>();
        foreach (var (name, shape) in Parameters)
        {
            double bound = name.StartsWith("gru", StringComparison.Ordinal) ? 1 / Math.Sqrt(Architecture.GruHidden) : 1 / Math.Sqrt(2 * Architecture.GruHidden);
            values[name] = Uniform(shape.Aggregate(1L, (a, b) => a * b), bound, random);
        }
        return values;
    }

    /// <summary><paramref name="count"/> values uniform in ±<paramref name="bound"/> (PyTorch's default for GRU and linear layers).</summary>
    internal static float[] Uniform(long count, double bound, Random random)
    {
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return data;
    }

    /// <inheritdoc/>
    public Onnx.Proto.ModelProto BuildTrainingGraph(int batchSize, bool dropout)
    {
        var arch = Architecture;
        var g = new OnnxGraphBuilder($"{arch.Name}-training", opset: 17);
        var ranks = new Dictionary<string, int>();
        var shapes = new Dictionary<string, long[]>();
        var x = g.Input(InputName, OnnxElementType.Float, batchSize, arch.Frames, arch.InputFeatures);
        shapes[x.Name] = [batchSize, arch.Frames, arch.InputFeatures];
        var parameters = new Dictionary<string, OnnxValue>();
        foreach (var (name, shape) in Parameters)
        {
            parameters[name] = g.Input(name, OnnxElementType.Float, shape.Select(d => (Dim)d).ToArray());
            ranks[name] = shape.Length;
            shapes[name] = shape;
        }
        OnnxValue Rank(OnnxValue v, int rank) { ranks[v.Name] = rank; return v; }
        ranks[x.Name] = 3;
        x = Rank(g.Transpose(x, 1, 0, 2), 3); // [T, N, F]
        var masks = dropout ? DropoutMasks(batchSize).ToDictionary(m => m.Name, m => m.Shape) : null;
        for (int l = 1; l <= arch.GruLayers; l++)
        {
            x = GruCells.Bidirectional(g, x, parameters[$"gru{l}.W"], parameters[$"gru{l}.R"], parameters[$"gru{l}.B"], arch.GruHidden, arch.Frames, ranks);
            if (masks is not null)
            {
                var mask = g.Input($"dropout.gru{l}", OnnxElementType.Float, masks[$"dropout.gru{l}"].Select(d => (Dim)d).ToArray());
                ranks[mask.Name] = 3;
                x = Rank(g.Op("Mul", x, mask), 3);
            }
        }
        var y = Rank(g.Add(Rank(g.MatMul(x, parameters["head.weight"]), 3), parameters["head.bias"]), 3);
        y = Rank(g.Transpose(y, 1, 0, 2), 3); // [N, T, O]
        var named = g.Node("Identity", [y], outputNames: [OutputName])[0];
        g.Output(named with { Shape = [batchSize, arch.Frames, arch.OutputFeatures] });
        return GradientGraph.Build(g.Build(), [OutputName], Parameters.Select(p => p.Name).ToList(), ranks, shapes);
    }

    /// <summary>
    /// The inference graph of trained parameters: features [N, T, F] → predictions [N, T, O] with N and T dynamic, GRUs as
    /// ONNX's fused <c>GRU</c> (same arithmetic as the training graph's cells).
    /// </summary>
    /// <param name="parameters">Values in the graph layout (e.g. <see cref="Trainer.Parameters"/>), one per parameter.</param>
    /// <param name="metadata">ONNX <c>metadata_props</c> entries to write (e.g. a model card); null = none.</param>
    /// <returns>The model.</returns>
    /// <exception cref="TensorShapeException">A parameter is missing or has another size.</exception>
    public Onnx.Proto.ModelProto BuildInference(IReadOnlyDictionary<string, float[]> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var arch = Architecture;
        var g = new OnnxGraphBuilder(arch.Name, opset: 17);
        var p = new Dictionary<string, OnnxValue>();
        foreach (var (name, shape) in Parameters)
        {
            long size = shape.Aggregate(1L, (a, b) => a * b);
            if (!parameters.TryGetValue(name, out var data) || data.Length != size)
                throw new TensorShapeException($"the parameters of {arch.Name} lack '{name}' or its size is not {size}");
            p[name] = g.Initializer(name, data, shape);
        }
        var x = g.Transpose(g.Input(InputName, OnnxElementType.Float, "batch", "frames", arch.InputFeatures), 1, 0, 2);
        for (int l = 1; l <= arch.GruLayers; l++)
        {
            // Y [T, 2, N, H] → [T, N, 2, H] → [T, N, 2H] (forward then backward, as PyTorch concatenates)
            var y = g.Gru(x, p[$"gru{l}.W"], p[$"gru{l}.R"], p[$"gru{l}.B"], arch.GruHidden, bidirectional: true, linearBeforeReset: true)[0];
            x = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, -1);
        }
        var output = g.Transpose(g.Add(g.MatMul(x, p["head.weight"]), p["head.bias"]), 1, 0, 2);
        var named = g.Node("Identity", [output], outputNames: [OutputName])[0];
        g.Output(named with { Shape = ["batch", "frames", arch.OutputFeatures] });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            g.Metadata(key, value);
        return g.Build();
    }
}
