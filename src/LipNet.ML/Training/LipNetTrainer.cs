using Google.Protobuf;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Training;

/// <summary>Optimization settings of <see cref="LipNetTrainer"/>.</summary>
public sealed record TrainerOptions
{
    public int BatchSize { get; init; } = 8;
    public float LearningRate { get; init; } = 2e-3f;
    public int WarmupSteps { get; init; } = 20;
    public int TotalSteps { get; init; } = 1000;
    public float MinimumLearningRate { get; init; } = 1e-5f;
    public float ClipNorm { get; init; } = 5f;
    public float WeightDecay { get; init; } = 1e-2f;
    public int Seed { get; init; }
    /// <summary>ONNX Runtime intra-op threads (0 = one per logical processor).</summary>
    public int Threads { get; init; }
}

/// <summary>One optimization step's figures.</summary>
public sealed record StepResult(int Step, float Loss, float GradientNorm, float LearningRate, double ForwardMs, double CtcMs, double BackwardMs, double OptimizerMs);

/// <summary>
/// Trains a LipNet on ONNX Runtime: one session over the training graph (<see cref="LipNetGraph.BuildTraining"/>)
/// serves every step; parameters and AdamW moments live in managed buffers; CTC loss and its gradient are
/// computed in managed code between the forward and backward runs. Blank is id 0 (LipNet-PyTorch order).
/// </summary>
public sealed class LipNetTrainer : IDisposable
{
    private readonly InferenceSession _session;
    // Held for the trainer's lifetime: a RunOptions passed inline can be finalized by the GC while the
    // native run still uses it (a use-after-free seen as a crash after ~100 steps).
    private readonly RunOptions _runOptions = new();
    private readonly IReadOnlyList<(string Name, long[] Shape)> _parameters;
    private readonly AdamW _optimizer;
    private readonly WarmupCosineSchedule _schedule;
    private readonly Dictionary<string, float[]> _first = [], _second = [];
    private float[] _scratch = [];

    public LipNetTrainer(LipNetArchitecture architecture, TrainerOptions? options = null, IReadOnlyDictionary<string, NamedTensor>? initialWeights = null)
    {
        Architecture = architecture;
        Options = options ?? new TrainerOptions();
        Vocabulary = CtcVocabulary.Grid(BlankPosition.First);
        if (architecture.VocabularySize != Vocabulary.Size)
            throw new TensorShapeException($"architecture outputs {architecture.VocabularySize} classes, the GRID vocabulary has {Vocabulary.Size}");
        _parameters = LipNetGraph.OnnxParameterShapes(architecture);
        Parameters = LipNetGraph.ToOnnxLayout(architecture, initialWeights ?? architecture.InitialWeights(Options.Seed)).ToDictionary(p => p.Key, p => p.Value.Data);
        foreach (var (name, _) in _parameters)
        {
            _first[name] = new float[Parameters[name].Length];
            _second[name] = new float[Parameters[name].Length];
        }
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Options.Threads > 0 ? Options.Threads : Environment.ProcessorCount,
        };
        _session = new InferenceSession(LipNetGraph.BuildTraining(architecture, Options.BatchSize).ToByteArray(), so);
        _optimizer = new AdamW(WeightDecay: Options.WeightDecay);
        _schedule = new WarmupCosineSchedule(Options.LearningRate, Options.WarmupSteps, Options.TotalSteps, Options.MinimumLearningRate);
    }

    public LipNetArchitecture Architecture { get; }
    public TrainerOptions Options { get; }
    public CtcVocabulary Vocabulary { get; }
    public int Step { get; private set; }

    /// <summary>Current parameters in the graphs' (ONNX) layout.</summary>
    public Dictionary<string, float[]> Parameters { get; }

    private int Frames => Architecture.Frames;
    private int Width => Architecture.VocabularySize;

    private (List<string> Names, List<OrtValue> Values) Feed(float[] video, float[] gradLogProbs)
    {
        var names = new List<string> { LipNetGraph.InputName };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(video, [Options.BatchSize, Architecture.Channels, Frames, Architecture.Height, Architecture.Width]) };
        foreach (var (name, shape) in _parameters)
        {
            names.Add(name);
            values.Add(OrtValue.CreateTensorValueFromMemory(Parameters[name], shape));
        }
        names.Add(GradientGraph.GradientName(LipNetGraph.OutputName));
        values.Add(OrtValue.CreateTensorValueFromMemory(gradLogProbs, [Options.BatchSize, Frames, Width]));
        return (names, values);
    }

    /// <summary>Log-probabilities [N, T, V] of a batch (N = the batch size the trainer was built for).</summary>
    public float[] Predict(float[] video)
    {
        var (names, values) = Feed(video, new float[Options.BatchSize * Frames * Width]);
        try
        {
            using var outputs = _session.Run(_runOptions, names, values, [LipNetGraph.OutputName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>
    /// One optimization step on a batch: video [N, C, T, H, W], one target per clip (token ids, no blanks) and
    /// each clip's real frame count. A non-finite loss or gradient stops with a <see cref="LipNetException"/>
    /// before the parameters change.
    /// </summary>
    public StepResult TrainStep(float[] video, IReadOnlyList<int[]> targets, IReadOnlyList<int> lengths)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var logProbs = Predict(video);
        double forwardMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var gradLogProbs = new float[logProbs.Length];
        CtcLoss.ComputeBatch(logProbs, BatchLayout.BatchFirst, Options.BatchSize, Frames, Width, targets, lengths, Vocabulary.BlankId, gradLogProbs, out float loss, CtcReduction.Mean, zeroInfinity: true);
        if (!float.IsFinite(loss))
            throw new LipNetException($"loss is {loss} at step {Step + 1}: training stopped, parameters unchanged");
        double ctcMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var (names, values) = Feed(video, gradLogProbs);
        var gradients = new List<float[]>(_parameters.Count);
        try
        {
            using var outputs = _session.Run(_runOptions, names, values, _parameters.Select(p => GradientGraph.GradientName(p.Name)).ToArray());
            foreach (var output in outputs)
                gradients.Add(output.GetTensorDataAsSpan<float>().ToArray());
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
        double backwardMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        float norm = GradientClipping.ClipGlobalNorm(gradients, Options.ClipNorm);
        Step++;
        float rate = _schedule.RateAt(Step);
        for (int i = 0; i < _parameters.Count; i++)
        {
            string name = _parameters[i].Name;
            var p = Parameters[name];
            if (_scratch.Length < p.Length)
                _scratch = new float[p.Length];
            _optimizer.Step(p, gradients[i], _first[name], _second[name], _scratch, Step, rate);
        }
        return new StepResult(Step, loss, norm, rate, forwardMs, ctcMs, backwardMs, sw.Elapsed.TotalMilliseconds);
    }

    /// <summary>Greedy transcriptions of a batch and their corpus CER against <paramref name="references"/>.</summary>
    public (string[] Texts, double Cer) Evaluate(float[] video, IReadOnlyList<string> references)
    {
        var logProbs = Predict(video);
        var decoder = new GreedyCtcDecoder(Vocabulary, inputsAreLogProbs: true);
        var texts = decoder.DecodeBatch(logProbs, BatchLayout.BatchFirst, Options.BatchSize, Frames).Select(r => r.Text).ToArray();
        return (texts, ErrorRates.CorpusCer(references.ToList(), texts.Take(references.Count).ToList()));
    }

    /// <summary>The inference model (fused GRUs, dynamic batch) of the current parameters, with its card.</summary>
    public Onnx.Proto.ModelProto Export(string provenance, IReadOnlyList<MeasuredAccuracy>? accuracy = null)
    {
        var onnx = Parameters.ToDictionary(p => p.Key, p => new NamedTensor(p.Key, _parameters.First(q => q.Name == p.Key).Shape, p.Value));
        var torch = LipNetGraph.ToPyTorchLayout(Architecture, onnx);
        var card = ModelCard.For(Architecture, provenance) with
        {
            Vocabulary = Vocabulary.Tokens.ToArray(),
            Blank = Vocabulary.Blank,
            Accuracy = accuracy ?? [],
        };
        return LipNetGraph.Build(Architecture, torch, card);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
