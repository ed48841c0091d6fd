using LipNet.ML.Onnx;
using LipNet.ML.Training;

namespace LipNet.ML.LipToSpeech;

/// <summary>
/// Sizes of a <see cref="LipToSpeechModel"/>: a LipNet's visual front end and recurrent layers (<see cref="Visual"/>; its
/// classifier is not used) and a mel head giving <see cref="MelPerFrame"/> frames of <see cref="MelBands"/> log-mel values per
/// video frame (4 x 80 at 25 fps: 10 ms hop, 16 kHz, as VCA-GAN's GRID setting).
/// </summary>
/// <param name="Visual">The LipNet whose conv blocks and GRUs read the mouth crops [N, C, T, H, W].</param>
/// <param name="MelBands">Mel bands per spectrogram frame (default 80).</param>
/// <param name="MelPerFrame">Spectrogram frames per video frame (default 4).</param>
public sealed record LipToSpeechArchitecture(LipNetArchitecture Visual, int MelBands = 80, int MelPerFrame = 4)
{
    /// <summary>Values the head writes per video frame: <see cref="MelPerFrame"/> x <see cref="MelBands"/>.</summary>
    public int HeadWidth => MelPerFrame * MelBands;

    /// <summary>Trained parameters: the visual LipNet's conv and GRU entries (graph layout), then <c>mel.weight</c> [2H, 4·80] and <c>mel.bias</c> [4·80].</summary>
    public IReadOnlyList<(string Name, long[] Shape)> ParameterShapes() =>
        [.. LipNetGraph.OnnxParameterShapes(Visual).Where(p => !p.Name.StartsWith("FC.", StringComparison.Ordinal)),
            ("mel.weight", [2 * Visual.GruHidden, HeadWidth]), ("mel.bias", [HeadWidth])];
}

/// <summary>
/// Silent video → log-mel spectrogram (the first half of a VCA-GAN-style lip-to-speech system; a vocoder makes the waveform):
/// mouth crops [N, C, T, H, W] → a LipNet's 3-D conv blocks and bidirectional GRUs → a linear head per video frame → reshaped to
/// [N, 4T, 80] standardised log-mel frames, trained with L1 against the clip's own audio. Its conv and GRU weights can start
/// from a lipreading model's (<see cref="InitialParametersFrom"/>): the mouth features are the same.
/// </summary>
public sealed class LipToSpeechModel : ITrainableModel
{
    /// <summary>The graph input: mouth crops [N, C, T, H, W], normalised as the visual model's card says.</summary>
    public const string InputName = LipNetGraph.InputName;

    /// <summary>The graph output: standardised log-mel [N, 4T, 80].</summary>
    public const string OutputName = "mel";

    /// <summary>A lip-to-speech model of <paramref name="architecture"/>, trained with L1 on the mel (frames past a clip's length ignored).</summary>
    /// <param name="architecture">The sizes.</param>
    public LipToSpeechModel(LipToSpeechArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Architecture = architecture;
        Parameters = architecture.ParameterShapes();
    }

    /// <summary>The sizes.</summary>
    public LipToSpeechArchitecture Architecture { get; }

    /// <inheritdoc/>
    public string Name => $"lip2speech-{Architecture.Visual.Name}";

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Parameters { get; }

    /// <inheritdoc/>
    public string Output => OutputName;

    /// <inheritdoc/>
    public ITrainingLoss Loss { get; } = new L1Loss();

    private LipNetArchitecture Visual => Architecture.Visual;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Inputs(int batchSize) =>
        [(InputName, [batchSize, Visual.Channels, Visual.Frames, Visual.Height, Visual.Width])];

    /// <inheritdoc/>
    public long[] OutputShape(int batchSize) => [batchSize, Visual.Frames * Architecture.MelPerFrame, Architecture.MelBands];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> DropoutMasks(int batchSize) => LipNetGraph.DropoutMasks(Visual, batchSize);

    /// <summary>
    /// Random initial values: the visual LipNet's initialisation (<see cref="LipNetArchitecture.InitialWeights"/>) and a head
    /// uniform in ±1/√(2H) (PyTorch's <c>nn.Linear</c> default).
    /// </summary>
    /// <param name="seed">Equal seeds give equal values.</param>
    public IReadOnlyDictionary<string, float[]> InitialParameters(int seed) =>
        InitialParametersFrom(Visual.InitialWeights(seed), seed);

    /// <summary>Initial values whose conv and GRU weights are a lipreading LipNet's (PyTorch names, e.g. <see cref="LipNetGraph.ReadWeights(LipNetArchitecture, byte[], string?)"/>), with a random head.</summary>
    /// <param name="visualWeights">Weights of a LipNet of <see cref="LipToSpeechArchitecture.Visual"/>'s architecture.</param>
    /// <param name="seed">Seeds the head.</param>
    /// <exception cref="TensorShapeException">The weights do not fit the architecture.</exception>
    public IReadOnlyDictionary<string, float[]> InitialParametersFrom(IReadOnlyDictionary<string, NamedTensor> visualWeights, int seed)
    {
        var onnx = LipNetGraph.ToOnnxLayout(Visual, visualWeights);
        var values = Parameters.Where(p => onnx.ContainsKey(p.Name)).ToDictionary(p => p.Name, p => onnx[p.Name].Data);
        var random = new Random(seed);
        double bound = 1 / Math.Sqrt(2 * Visual.GruHidden);
        foreach (var (name, shape) in Parameters.Where(p => !values.ContainsKey(p.Name)))
            values[name] = SequenceRegressionModel.Uniform(shape.Aggregate(1L, (a, b) => a * b), bound, random);
        return values;
    }

    /// <inheritdoc/>
    public Onnx.Proto.ModelProto BuildTrainingGraph(int batchSize, bool dropout) =>
        LipNetGraph.BuildTrainingWithHead(Visual, batchSize, dropout, $"{Name}-training", Parameters, OutputName, OutputShape(batchSize),
            (g, sequence, P, ranks) => Head(g, sequence, P, batchSize, ranks));

    /// <summary>[T, N, 2H] → linear → [T, N, 4·80] → [N, T, 4·80] → [N, 4T, 80].</summary>
    private OnnxValue Head(OnnxGraphBuilder g, OnnxValue sequence, Func<string, OnnxValue> P, int? batch, Dictionary<string, int>? ranks)
    {
        OnnxValue Rank(OnnxValue v, int rank) { if (ranks is not null) ranks[v.Name] = rank; return v; }
        var y = Rank(g.Add(Rank(g.MatMul(sequence, P("mel.weight")), 3), P("mel.bias")), 3);
        y = Rank(g.Transpose(y, 1, 0, 2), 3);
        return Rank(batch is { } n ? g.Reshape(y, n, -1, Architecture.MelBands) : g.Reshape(y, 0, -1, Architecture.MelBands), 3);
    }

    /// <summary>
    /// The inference graph of trained parameters: crops [N, C, T, H, W] → standardised log-mel [N, 4T, 80], N and T dynamic,
    /// fused GRUs.
    /// </summary>
    /// <param name="parameters">Values in the graph layout (e.g. <see cref="Trainer.Parameters"/>).</param>
    /// <param name="metadata">ONNX <c>metadata_props</c> entries (e.g. the card); null = none.</param>
    /// <returns>The model.</returns>
    /// <exception cref="TensorShapeException">A parameter is missing or has another size.</exception>
    public Onnx.Proto.ModelProto BuildInference(IReadOnlyDictionary<string, float[]> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var g = new OnnxGraphBuilder(Name, opset: 17);
        var shapes = Parameters.ToDictionary(p => p.Name, p => p.Shape);
        foreach (var (name, shape) in Parameters)
        {
            long size = shape.Aggregate(1L, (a, b) => a * b);
            if (!parameters.TryGetValue(name, out var data) || data.Length != size)
                throw new TensorShapeException($"the parameters of {Name} lack '{name}' or its size is not {size}");
        }
        var initialized = new Dictionary<string, OnnxValue>();
        OnnxValue Param(string name, long[] shape) =>
            initialized.TryGetValue(name, out var v) ? v : initialized[name] = g.Initializer(name, parameters[name], shape);
        var x = g.Input(InputName, OnnxElementType.Float, "batch", Visual.Channels, "frames", Visual.Height, Visual.Width);
        var sequence = LipNetGraph.VisualSequence(g, Visual, x, Param, cells: false, null, null, null);
        var mel = Head(g, sequence, name => Param(name, shapes[name]), null, null);
        var named = g.Node("Identity", [mel], outputNames: [OutputName])[0];
        g.Output(named with { Shape = ["batch", "mel_frames", Architecture.MelBands] });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            g.Metadata(key, value);
        return g.Build();
    }
}
