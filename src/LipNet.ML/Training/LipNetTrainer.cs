using Google.Protobuf;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;
using Microsoft.ML.OnnxRuntime;
using System.Numerics.Tensors;

namespace LipNet.ML.Training;

/// <summary>Optimization settings of <see cref="LipNetTrainer"/>.</summary>
public sealed record TrainerOptions
{
    /// <summary>Clips per forward/backward run (the training graph is built for this batch size).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches whose gradients are averaged into one optimizer step (effective batch = BatchSize x this).</summary>
    public int AccumulationSteps { get; init; } = 1;
    /// <summary>Dropout probability after each conv block (channel-wise) and each GRU layer; 0 builds a graph without masks.</summary>
    public float Dropout { get; init; }
    /// <summary>How clip losses combine (PyTorch's <c>F.ctc_loss</c> reductions; Mean divides each by its target length).</summary>
    public CtcReduction Reduction { get; init; } = CtcReduction.Mean;
    /// <summary>"cpu" or "cuda:N" (falls back to CPU with a warning when the native runtime has no CUDA provider).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Write ONNX Runtime profiles (JSON traces, one per session) with this file prefix; null = off.</summary>
    public string? ProfilePrefix { get; init; }
    /// <summary>Peak learning rate, reached at the end of the warm-up (default 2e-3; see <see cref="WarmupCosineSchedule"/>).</summary>
    public float LearningRate { get; init; } = 2e-3f;
    /// <summary>Optimizer steps of linear warm-up from 0 to <see cref="LearningRate"/> (default 20; 0 = none).</summary>
    public int WarmupSteps { get; init; } = 20;
    /// <summary>
    /// Optimizer step at which the cosine decay reaches <see cref="MinimumLearningRate"/>, where the rate then stays
    /// (default 1000). Set it to epochs x optimizer steps per epoch so the schedule ends with the run.
    /// </summary>
    public int TotalSteps { get; init; } = 1000;
    /// <summary>Learning rate at the end of the cosine decay (default 1e-5).</summary>
    public float MinimumLearningRate { get; init; } = 1e-5f;
    /// <summary>
    /// Largest global L2 norm of the gradients; larger ones are scaled down to it before the update
    /// (as <c>torch.nn.utils.clip_grad_norm_</c>). Default 5; must be positive.
    /// </summary>
    public float ClipNorm { get; init; } = 5f;
    /// <summary>
    /// AdamW's decoupled weight decay (Loshchilov and Hutter 2019): each step multiplies every parameter, biases included,
    /// by 1 − learning rate x this. Default 0.01 (PyTorch's default); 0 = plain Adam.
    /// </summary>
    public float WeightDecay { get; init; } = 1e-2f;
    /// <summary>
    /// Seeds the initial weights (when none are given), the dropout masks and, in a <see cref="TrainingRun"/>, the epoch
    /// shuffles and augmentation: equal seeds and data give equal runs. Default 0.
    /// </summary>
    public int Seed { get; init; }
    /// <summary>ONNX Runtime intra-op threads (0 = one per logical processor).</summary>
    public int Threads { get; init; }
}

/// <summary>A batch for <see cref="LipNetTrainer"/>: video [N, C, T, H, W], token ids per clip (no blanks) and real frame counts.</summary>
public sealed record TrainingBatch(Memory<float> Video, IReadOnlyList<int[]> Targets, IReadOnlyList<int> Lengths);

/// <summary>One optimization step's figures.</summary>
public sealed record StepResult(int Step, float Loss, float GradientNorm, float LearningRate, double ForwardMs, double CtcMs, double BackwardMs, double OptimizerMs);

/// <summary>
/// Trains a LipNet on ONNX Runtime: two sessions over the training graph (<see cref="LipNetGraph.BuildTraining"/> split by
/// <see cref="GradientGraph.Split"/>: forward, then backward from the saved activations) serve every step; parameters and AdamW moments live in managed buffers; CTC loss and its gradient are
/// computed in managed code between the forward and backward runs. Blank is id 0 (LipNet-PyTorch order).
/// </summary>
public sealed class LipNetTrainer : IDisposable
{
    private readonly InferenceSession _forward, _backward;
    private readonly TrainingGraphs _graphs;
    // Held for the trainer's lifetime: a RunOptions passed inline can be finalized by the GC while the
    // native run still uses it (a use-after-free seen as a crash after ~100 steps).
    private readonly RunOptions _runOptions = new();
    private readonly IReadOnlyList<(string Name, long[] Shape)> _parameters;
    // The parameter buffers pinned once as tensors: the optimizer updates them in place, so no step copies them.
    private readonly Dictionary<string, OrtValue> _parameterValues = [];
    private readonly string[] _forwardOutputs;
    private readonly AdamW _optimizer;
    private readonly WarmupCosineSchedule _schedule;
    private readonly string[] _gradientNames;
    private readonly Dictionary<string, (Memory<float> Data, OrtValue Value)> _trainingMasks = [], _evaluationMasks = [];
    // The CTC gradient's buffer, allocated and pinned once (see DropoutMasks for why buffers stay put).
    private readonly (Memory<float> Data, OrtValue Value) _gradLogProbs;
    private Memory<float> _staging;
    private float[] _scratch = [];

    /// <summary>
    /// Builds the training graph for <see cref="TrainerOptions.BatchSize"/> clips, opens its forward and backward
    /// ONNX Runtime sessions on <see cref="TrainerOptions.Device"/>, and loads the weights into pinned buffers with
    /// zeroed AdamW moments at <see cref="Step"/> 0.
    /// </summary>
    /// <param name="architecture">The network to train; its <see cref="LipNetArchitecture.VocabularySize"/> must be 28 (GRID).</param>
    /// <param name="options">Optimization settings; null = <see cref="TrainerOptions"/> defaults.</param>
    /// <param name="initialWeights">
    /// Weights to start from in PyTorch names and layout (e.g. <see cref="TrainingCheckpoint.LoadParameters"/>); null =
    /// <see cref="LipNetArchitecture.InitialWeights"/> with <see cref="TrainerOptions.Seed"/>.
    /// </param>
    /// <exception cref="TensorShapeException">
    /// The architecture's vocabulary size is not 28, or <paramref name="initialWeights"/> lacks a parameter or has one of another shape.
    /// </exception>
    /// <exception cref="Runtime.ModelLoadException"><see cref="TrainerOptions.Device"/> is neither "cpu" nor "cuda:N".</exception>
    public LipNetTrainer(LipNetArchitecture architecture, TrainerOptions? options = null, IReadOnlyDictionary<string, NamedTensor>? initialWeights = null)
    {
        Architecture = architecture;
        Options = options ?? new TrainerOptions();
        Vocabulary = CtcVocabulary.Grid(BlankPosition.First);
        if (architecture.VocabularySize != Vocabulary.Size)
            throw new TensorShapeException($"architecture outputs {architecture.VocabularySize} classes, the GRID vocabulary has {Vocabulary.Size}");
        _parameters = LipNetGraph.OnnxParameterShapes(architecture);
        Parameters = LipNetGraph.ToOnnxLayout(architecture, initialWeights ?? architecture.InitialWeights(Options.Seed)).ToDictionary(p => p.Key, p =>
        {
            var buffer = AlignedMemory.Allocate(p.Value.Data.Length);
            p.Value.Data.CopyTo(buffer);
            return buffer;
        });
        foreach (var (name, shape) in _parameters)
        {
            FirstMoments[name] = new float[Parameters[name].Length];
            SecondMoments[name] = new float[Parameters[name].Length];
            _parameterValues[name] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Parameters[name], shape);
        }
        var (so, device) = Runtime.LipNetModel.CreateOptions(new Runtime.LipNetSessionOptions
        {
            Device = Options.Device,
            IntraOpThreads = Options.Threads,
            FallbackToCpu = true,
            ProfilePrefix = Options.ProfilePrefix,
        }, "training graph");
        Device = device;
        _graphs = GradientGraph.Split(LipNetGraph.BuildTraining(architecture, Options.BatchSize, dropout: Options.Dropout > 0));
        _gradientNames = _parameters.Select(p => GradientGraph.GradientName(p.Name)).ToArray();
        var gradData = AlignedMemory.Allocate(Options.BatchSize * architecture.Frames * architecture.VocabularySize);
        _gradLogProbs = (gradData, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, gradData, [Options.BatchSize, architecture.Frames, architecture.VocabularySize]));
        _forwardOutputs = [LipNetGraph.OutputName, .. _graphs.Saved];
        _forward = new InferenceSession(_graphs.Forward.ToByteArray(), so);
        _backward = new InferenceSession(_graphs.Backward.ToByteArray(), so);
        so.Dispose();
        _optimizer = new AdamW(WeightDecay: Options.WeightDecay);
        _schedule = new WarmupCosineSchedule(Options.LearningRate, Options.WarmupSteps, Options.TotalSteps, Options.MinimumLearningRate);
    }

    /// <summary>The network being trained.</summary>
    public LipNetArchitecture Architecture { get; }

    /// <summary>The optimization settings in use (the defaults when none were passed).</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// The output vocabulary: GRID with the blank first (id 0 blank, 1 space, 2 … 27 a–z, LipNet-PyTorch order);
    /// use it to encode targets and decode predictions.
    /// </summary>
    public CtcVocabulary Vocabulary { get; }

    /// <summary>
    /// Optimizer steps taken: 0 for a fresh trainer, the checkpoint's after <see cref="Restore"/>; each <c>TrainStep</c> adds 1.
    /// </summary>
    public int Step { get; private set; }

    /// <summary>The device the sessions run on ("cpu" after a CUDA fallback).</summary>
    public string Device { get; }

    /// <summary>Current parameters in the graphs' (ONNX) layout, in aligned pinned buffers that ONNX Runtime reads directly; updated in place by each step.</summary>
    public Dictionary<string, Memory<float>> Parameters { get; }

    /// <summary>
    /// AdamW's first moment (running mean of gradients) of each parameter, same names and layout as
    /// <see cref="Parameters"/>; for checkpoints.
    /// </summary>
    public Dictionary<string, float[]> FirstMoments { get; } = [];

    /// <summary>AdamW's second moment (running mean of squared gradients) of each parameter, as <see cref="FirstMoments"/>.</summary>
    public Dictionary<string, float[]> SecondMoments { get; } = [];

    /// <summary>Restores a checkpoint's step, parameters and moments (same architecture), copying into the live buffers.</summary>
    public void Restore(int step, IReadOnlyDictionary<string, float[]> parameters, IReadOnlyDictionary<string, float[]> first, IReadOnlyDictionary<string, float[]> second, string source)
    {
        foreach (var (name, _) in _parameters)
            foreach (var (set, live) in new[] { (parameters, Parameters[name]), (first, FirstMoments[name].AsMemory()), (second, SecondMoments[name].AsMemory()) })
            {
                if (!set.TryGetValue(name, out var data) || data.Length != live.Length)
                    throw new TensorShapeException($"checkpoint lacks '{name}' or its size differs from the {Architecture.Name} architecture", source);
                data.CopyTo(live);
            }
        Step = step;
    }

    private int Frames => Architecture.Frames;
    private int Width => Architecture.VocabularySize;

    private long[] VideoShape => [Options.BatchSize, Architecture.Channels, Frames, Architecture.Height, Architecture.Width];

    private void CheckVideo(Memory<float> video)
    {
        long expected = VideoShape.Aggregate(1L, (a, b) => a * b);
        if (video.Length != expected)
            throw new TensorShapeException($"the trainer takes batches of [{string.Join(", ", VideoShape)}] = {expected} floats, got {video.Length}");
    }

    /// <summary>Log-probabilities [N, T, V] of a batch (N = the batch size the trainer was built for).</summary>
    public float[] Predict(Memory<float> video)
    {
        CheckVideo(video);
        using var input = AlignedInput(video);
        using var outputs = RunForward(input, [LipNetGraph.OutputName], DropoutMasks(null));
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The video as an OrtValue over aligned memory: the caller's buffer when it is aligned (no copy), else a copy in the trainer's staging buffer.</summary>
    private OrtValue AlignedInput(Memory<float> video)
    {
        if (!AlignedMemory.IsAligned(video))
        {
            if (_staging.Length != video.Length)
                _staging = AlignedMemory.Allocate(video.Length);
            video.CopyTo(_staging);
            video = _staging;
        }
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, video, VideoShape);
    }

    private IDisposableReadOnlyCollection<OrtValue> RunForward(OrtValue video, IReadOnlyCollection<string> outputs, Dictionary<string, OrtValue> masks)
    {
        var names = new List<string>(_parameters.Count + 1) { LipNetGraph.InputName };
        var values = new List<OrtValue>(_parameters.Count + 1) { video };
        foreach (var (name, _) in _parameters)
        {
            names.Add(name);
            values.Add(_parameterValues[name]);
        }
        foreach (var (name, mask) in masks)
        {
            names.Add(name);
            values.Add(mask);
        }
        return _forward.Run(_runOptions, names, values, outputs);
    }

    /// <summary>
    /// One optimization step on a batch: video [N, C, T, H, W], one target per clip (token ids, no blanks) and
    /// each clip's real frame count. A non-finite loss or gradient stops with a <see cref="LipNetException"/>
    /// before the parameters change.
    /// </summary>
    public StepResult TrainStep(float[] video, IReadOnlyList<int[]> targets, IReadOnlyList<int> lengths) =>
        TrainStep([new TrainingBatch(video, targets, lengths)]);

    /// <summary>
    /// One optimization step over <see cref="TrainerOptions.AccumulationSteps"/> micro-batches (any count works;
    /// gradients and losses are averaged over them).
    /// </summary>
    public StepResult TrainStep(IReadOnlyList<TrainingBatch> microBatches)
    {
        if (microBatches.Count == 0)
            throw new ArgumentException("no micro-batches", nameof(microBatches));
        var timings = new double[3];
        float loss = 0;
        List<float[]>? sum = null;
        for (int m = 0; m < microBatches.Count; m++)
        {
            var (l, gradients) = ComputeGradients(microBatches[m], StableSeed.Combine(Options.Seed, Step + 1, m), timings);
            loss += l / microBatches.Count;
            if (sum is null)
                sum = gradients;
            else
                for (int i = 0; i < sum.Count; i++)
                    TensorPrimitives.Add(sum[i], gradients[i], sum[i]);
        }
        if (microBatches.Count > 1)
            foreach (var g in sum!)
                TensorPrimitives.Multiply(g, 1f / microBatches.Count, g);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        float norm = GradientClipping.ClipGlobalNorm(sum!, Options.ClipNorm);
        int step = Step + 1;
        float rate = _schedule.RateAt(step);
        for (int i = 0; i < _parameters.Count; i++)
        {
            string name = _parameters[i].Name;
            var p = Parameters[name];
            if (_scratch.Length < p.Length)
                _scratch = new float[p.Length];
            _optimizer.Step(p.Span, sum![i], FirstMoments[name], SecondMoments[name], _scratch, step, rate);
        }
        Step = step;
        return new StepResult(Step, loss, norm, rate, timings[0], timings[1], timings[2], sw.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Loss and gradients (ONNX layout, <see cref="LipNetGraph.OnnxParameterShapes"/> order) of one batch without
    /// changing anything; <paramref name="dropoutSeed"/> draws the dropout masks.
    /// </summary>
    public (float Loss, List<float[]> Gradients) ComputeGradients(TrainingBatch batch, int dropoutSeed = 0) => ComputeGradients(batch, dropoutSeed, new double[3]);

    private (float Loss, List<float[]> Gradients) ComputeGradients(TrainingBatch batch, int dropoutSeed, double[] timings)
    {
        CheckVideo(batch.Video);
        if (batch.Targets.Count != Options.BatchSize || batch.Lengths.Count != Options.BatchSize)
            throw new TensorShapeException($"a batch needs {Options.BatchSize} targets and lengths, got {batch.Targets.Count} and {batch.Lengths.Count}");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var input = AlignedInput(batch.Video);
        var masks = DropoutMasks(dropoutSeed);
        using var forward = RunForward(input, _forwardOutputs, masks);
        timings[0] += sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var logProbs = forward[0].GetTensorDataAsSpan<float>().ToArray(); // small; the CTC runs parallel over clips
        var gradLogProbs = _gradLogProbs.Data;
        CtcLoss.ComputeBatch(logProbs, BatchLayout.BatchFirst, Options.BatchSize, Frames, Width, batch.Targets, batch.Lengths, Vocabulary.BlankId,
            gradLogProbs, out float loss, Options.Reduction, zeroInfinity: true);
        if (!float.IsFinite(loss))
            throw new LipNetException($"loss is {loss} at step {Step + 1}: training stopped, parameters unchanged");
        timings[1] += sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var gradInput = _gradLogProbs.Value;
        var names = new List<string>();
        var values = new List<OrtValue>();
        foreach (var name in _graphs.BackwardInputs)
        {
            names.Add(name);
            values.Add(name == LipNetGraph.InputName ? input
                : name == GradientGraph.GradientName(LipNetGraph.OutputName) ? gradInput
                : _parameterValues.TryGetValue(name, out var p) ? p
                : masks.TryGetValue(name, out var mask) ? mask
                : throw new InvalidOperationException($"the backward graph reads input '{name}' the trainer does not feed"));
        }
        for (int k = 0; k < _graphs.Saved.Count; k++)
        {
            names.Add(_graphs.Saved[k]);
            values.Add(forward[k + 1]);
        }
        var gradients = new List<float[]>(_parameters.Count);
        using (var outputs = _backward.Run(_runOptions, names, values, _gradientNames))
            foreach (var output in outputs)
                gradients.Add(output.GetTensorDataAsSpan<float>().ToArray());
        timings[2] += sw.Elapsed.TotalMilliseconds;
        return (loss, gradients);
    }

    /// <summary>
    /// Dropout masks (0 or 1/(1−p)) drawn from <paramref name="seed"/>; all ones for evaluation (seed null). The mask
    /// buffers are allocated and pinned once: ONNX Runtime's kernels can take different (equally valid) paths for
    /// differently aligned inputs, and fresh arrays on each step made gradients differ in the last bit between runs.
    /// </summary>
    private Dictionary<string, OrtValue> DropoutMasks(int? seed)
    {
        if (Options.Dropout <= 0)
            return [];
        var set = seed is null ? _evaluationMasks : _trainingMasks;
        if (set.Count == 0)
            foreach (var (name, shape) in LipNetGraph.DropoutMasks(Architecture, Options.BatchSize))
            {
                var data = AlignedMemory.Allocate((int)shape.Aggregate(1L, (a, b) => a * b));
                data.Span.Fill(1f);
                set[name] = (data, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, shape));
            }
        if (seed is { } s)
        {
            var random = new Random(s);
            float keep = 1 - Options.Dropout;
            foreach (var (name, _) in LipNetGraph.DropoutMasks(Architecture, Options.BatchSize))
            {
                var data = set[name].Data.Span;
                for (int i = 0; i < data.Length; i++)
                    data[i] = random.NextSingle() < keep ? 1f / keep : 0f;
            }
        }
        return set.ToDictionary(p => p.Key, p => p.Value.Value);
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
    public Onnx.Proto.ModelProto Export(string provenance, IReadOnlyList<MeasuredAccuracy>? accuracy = null, FrameNormalizeOptions? normalize = null, bool float16Weights = false) =>
        ExportModel(Architecture, LipNetGraph.ToPyTorchLayout(Architecture, Parameters.ToDictionary(p => p.Key, p => new NamedTensor(p.Key, _parameters.First(q => q.Name == p.Key).Shape, p.Value.ToArray()))),
            provenance, accuracy, normalize, float16Weights);

    /// <summary>An inference model with a card that records the vocabulary (blank first), normalization and accuracy.</summary>
    public static Onnx.Proto.ModelProto ExportModel(LipNetArchitecture architecture, IReadOnlyDictionary<string, NamedTensor> torchWeights, string provenance,
        IReadOnlyList<MeasuredAccuracy>? accuracy = null, FrameNormalizeOptions? normalize = null, bool float16Weights = false, Int8Convolutions? int8 = null,
        string? cropProfile = null)
    {
        var vocabulary = CtcVocabulary.Grid(BlankPosition.First);
        normalize ??= new FrameNormalizeOptions();
        var card = ModelCard.For(architecture, provenance) with
        {
            Vocabulary = vocabulary.Tokens.ToArray(),
            Blank = vocabulary.Blank,
            Accuracy = accuracy ?? [],
            Mean = normalize.Mean,
            Std = normalize.Std,
            ChannelOrder = normalize.ChannelOrder,
            CropProfile = cropProfile,
        };
        return LipNetGraph.Build(architecture, torchWeights, card, float16Weights, int8: int8);
    }

    /// <summary>
    /// Releases the ONNX Runtime sessions and the native tensors over the pinned buffers, first ending profiling (which
    /// writes the profile files) when <see cref="TrainerOptions.ProfilePrefix"/> is set. The trainer is unusable afterwards.
    /// </summary>
    public void Dispose()
    {
        if (Options.ProfilePrefix is not null)
        {
            _forward.EndProfiling();
            _backward.EndProfiling();
        }
        _forward.Dispose();
        _backward.Dispose();
        foreach (var v in _parameterValues.Values)
            v.Dispose();
        foreach (var m in _trainingMasks.Values.Concat(_evaluationMasks.Values))
            m.Value.Dispose();
        _gradLogProbs.Value.Dispose();
        _runOptions.Dispose();
    }
}
