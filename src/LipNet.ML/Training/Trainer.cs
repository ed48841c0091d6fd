using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;
using Microsoft.ML.OnnxRuntime;
using System.Numerics.Tensors;

namespace LipNet.ML.Training;

/// <summary>
/// A network that <see cref="Trainer"/> can train: a training-graph builder, its parameters with their initialisation, the
/// inputs a batch feeds, the dropout masks it draws, and the loss on its output. <see cref="LipNetTrainingModel"/> (video →
/// CTC log-probabilities) and <see cref="SequenceRegressionModel"/> (features → a value vector per frame) are the two built in.
/// </summary>
public interface ITrainableModel
{
    /// <summary>Short name for logs, checkpoints and errors (e.g. "Small", "wav2kp").</summary>
    string Name { get; }

    /// <summary>The trained parameters in the graph's layout, in a fixed order (the order of gradients and checkpoints).</summary>
    IReadOnlyList<(string Name, long[] Shape)> Parameters { get; }

    /// <summary>The data inputs a batch feeds, with their shapes for <paramref name="batchSize"/> items, in a fixed order.</summary>
    /// <param name="batchSize">Items per batch, at least 1.</param>
    IReadOnlyList<(string Name, long[] Shape)> Inputs(int batchSize);

    /// <summary>The graph output the loss reads (e.g. log-probabilities [N, T, V], or predictions [N, T, F]).</summary>
    string Output { get; }

    /// <summary>Shape of <see cref="Output"/> for <paramref name="batchSize"/> items.</summary>
    /// <param name="batchSize">Items per batch, at least 1.</param>
    long[] OutputShape(int batchSize);

    /// <summary>
    /// Dropout masks the training graph multiplies activations by (inputs of the graph built with dropout), in a fixed order;
    /// the trainer fills them with 0 or 1/(1 − p) from its seeded generator (all ones to evaluate). Empty for none.
    /// </summary>
    /// <param name="batchSize">Items per batch, at least 1.</param>
    IReadOnlyList<(string Name, long[] Shape)> DropoutMasks(int batchSize);

    /// <summary>
    /// The combined forward and backward graph (<see cref="GradientGraph.Build"/>) for a fixed batch size: inputs are
    /// <see cref="Inputs"/>, <see cref="Parameters"/>, the dropout masks when <paramref name="dropout"/>, and
    /// <c>grad.{Output}</c>; outputs are <see cref="Output"/> and <c>grad.{parameter}</c> for every parameter.
    /// </summary>
    /// <param name="batchSize">Items per batch, at least 1.</param>
    /// <param name="dropout">Whether the graph takes dropout masks.</param>
    Onnx.Proto.ModelProto BuildTrainingGraph(int batchSize, bool dropout);

    /// <summary>Initial parameter values (graph layout, one array per <see cref="Parameters"/> entry) drawn from <paramref name="seed"/>.</summary>
    /// <param name="seed">Equal seeds give equal values.</param>
    IReadOnlyDictionary<string, float[]> InitialParameters(int seed);

    /// <summary>The loss on <see cref="Output"/> that training minimises.</summary>
    ITrainingLoss Loss { get; }
}

/// <summary>One batch for <see cref="Trainer"/>: one buffer per <see cref="ITrainableModel.Inputs"/> entry and the loss's targets.</summary>
/// <param name="Inputs">The data inputs in the model's order, each exactly its shape's element count (row-major).</param>
/// <param name="Targets">What the model's <see cref="ITrainableModel.Loss"/> compares the output with.</param>
public sealed record ModelBatch(IReadOnlyList<Memory<float>> Inputs, LossTargets Targets);

/// <summary>One optimization step's figures.</summary>
/// <param name="Step">The optimizer step just taken (1 for the first).</param>
/// <param name="Loss">The batch loss, averaged over micro-batches.</param>
/// <param name="GradientNorm">The global L2 norm of the gradients before clipping.</param>
/// <param name="LearningRate">The learning rate of this step (<see cref="WarmupCosineSchedule"/>).</param>
/// <param name="ForwardMs">Milliseconds in the forward graph.</param>
/// <param name="LossMs">Milliseconds computing the loss and its gradient in managed code (the CTC for LipNet).</param>
/// <param name="BackwardMs">Milliseconds in the backward graph.</param>
/// <param name="OptimizerMs">Milliseconds clipping and updating parameters (AdamW).</param>
public sealed record StepResult(int Step, float Loss, float GradientNorm, float LearningRate, double ForwardMs, double LossMs, double BackwardMs,
    double OptimizerMs);

/// <summary>
/// Trains any <see cref="ITrainableModel"/> on ONNX Runtime: its training graph split by <see cref="GradientGraph.Split"/> runs as
/// two sessions (forward, then backward from the saved activations); the loss and its gradient with respect to the output are
/// computed in managed code between them (<see cref="ITrainableModel.Loss"/>); parameters and AdamW moments live in managed,
/// aligned and pinned buffers updated in place; gradients are clipped by global norm; the learning rate follows
/// <see cref="WarmupCosineSchedule"/>. Steps are reproducible: equal seeds, data and options give equal weights.
/// </summary>
public class Trainer : IDisposable
{
    private readonly InferenceSession _forward, _backward;
    private readonly TrainingGraphs _graphs;
    // Held for the trainer's lifetime: a RunOptions passed inline can be finalized by the GC while the
    // native run still uses it (a use-after-free seen as a crash after ~100 steps).
    private readonly RunOptions _runOptions = new();
    private readonly IReadOnlyList<(string Name, long[] Shape)> _parameters, _inputs, _masks;
    // The parameter buffers pinned once as tensors: the optimizer updates them in place, so no step copies them.
    private readonly Dictionary<string, OrtValue> _parameterValues = [];
    private readonly string[] _forwardOutputs;
    private readonly AdamW _optimizer;
    private readonly WarmupCosineSchedule _schedule;
    private readonly string[] _gradientNames;
    private readonly Dictionary<string, (Memory<float> Data, OrtValue Value)> _trainingMasks = [], _evaluationMasks = [];
    // The loss gradient's buffer, allocated and pinned once (see DropoutMasks for why buffers stay put).
    private readonly (Memory<float> Data, OrtValue Value) _gradOutput;
    private readonly long[] _outputShape;
    // Made once: every step feeds the backward graph by these names.
    private readonly Dictionary<string, int> _inputIndex;
    private readonly string _gradOutputName;
    private readonly Memory<float>[] _staging;
    private float[] _scratch = [];

    /// <summary>
    /// Builds <paramref name="model"/>'s training graph for <see cref="TrainerOptions.BatchSize"/> items, opens its forward and
    /// backward ONNX Runtime sessions on <see cref="TrainerOptions.Device"/>, and loads the parameters into pinned buffers with
    /// zeroed AdamW moments at <see cref="Step"/> 0.
    /// </summary>
    /// <param name="model">The network and its loss.</param>
    /// <param name="options">Optimization settings; null = <see cref="TrainerOptions"/> defaults.</param>
    /// <param name="initialParameters">
    /// Starting values in the graph's layout (every <see cref="ITrainableModel.Parameters"/> entry, exact sizes); null =
    /// <see cref="ITrainableModel.InitialParameters"/> with <see cref="TrainerOptions.Seed"/>.
    /// </param>
    /// <exception cref="TensorShapeException"><paramref name="initialParameters"/> lacks a parameter or has one of another size.</exception>
    /// <exception cref="Runtime.ModelLoadException"><see cref="TrainerOptions.Device"/> is neither "cpu" nor "cuda:N".</exception>
    public Trainer(ITrainableModel model, TrainerOptions? options = null, IReadOnlyDictionary<string, float[]>? initialParameters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new TrainerOptions();
        _parameters = model.Parameters;
        _inputs = model.Inputs(Options.BatchSize);
        _masks = Options.Dropout > 0 ? model.DropoutMasks(Options.BatchSize) : [];
        var initial = initialParameters ?? model.InitialParameters(Options.Seed);
        Parameters = [];
        foreach (var (name, shape) in _parameters)
        {
            long size = shape.Aggregate(1L, (a, b) => a * b);
            if (!initial.TryGetValue(name, out var values) || values.Length != size)
                throw new TensorShapeException($"the initial parameters of {model.Name} lack '{name}' or its size is not {size}");
            var buffer = AlignedMemory.Allocate(values.Length);
            values.CopyTo(buffer);
            Parameters[name] = buffer;
            FirstMoments[name] = new float[size];
            SecondMoments[name] = new float[size];
            _parameterValues[name] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer, shape);
        }
        var (so, device) = Runtime.LipNetModel.CreateOptions(new Runtime.LipNetSessionOptions
        {
            Device = Options.Device,
            IntraOpThreads = Options.Threads,
            FallbackToCpu = true,
            ProfilePrefix = Options.ProfilePrefix,
        }, "training graph");
        Device = device;
        _graphs = GradientGraph.Split(model.BuildTrainingGraph(Options.BatchSize, dropout: Options.Dropout > 0));
        _gradientNames = _parameters.Select(p => GradientGraph.GradientName(p.Name)).ToArray();
        _outputShape = model.OutputShape(Options.BatchSize);
        var gradData = AlignedMemory.Allocate((int)_outputShape.Aggregate(1L, (a, b) => a * b));
        _gradOutput = (gradData, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, gradData, _outputShape));
        _forwardOutputs = [model.Output, .. _graphs.Saved];
        _staging = new Memory<float>[_inputs.Count];
        _inputIndex = _inputs.Select((x, i) => (x.Name, i)).ToDictionary(p => p.Name, p => p.i);
        _gradOutputName = GradientGraph.GradientName(model.Output);
        _forward = new InferenceSession(_graphs.Forward.ToByteArray(), so);
        _backward = new InferenceSession(_graphs.Backward.ToByteArray(), so);
        so.Dispose();
        _optimizer = new AdamW(WeightDecay: Options.WeightDecay);
        _schedule = new WarmupCosineSchedule(Options.LearningRate, Options.WarmupSteps, Options.TotalSteps, Options.MinimumLearningRate);
    }

    /// <summary>The network being trained.</summary>
    public ITrainableModel Model { get; }

    /// <summary>The optimization settings in use (the defaults when none were passed).</summary>
    public TrainerOptions Options { get; }

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

    /// <summary>Restores a checkpoint's step, parameters and moments (same model), copying into the live buffers.</summary>
    /// <param name="step">The checkpoint's optimizer step.</param>
    /// <param name="parameters">Parameters in the graph's layout, one per <see cref="ITrainableModel.Parameters"/> entry.</param>
    /// <param name="first">AdamW first moments, same names and sizes.</param>
    /// <param name="second">AdamW second moments, same names and sizes.</param>
    /// <param name="source">The checkpoint's path, for errors.</param>
    /// <exception cref="TensorShapeException">A parameter or moment is missing or has another size.</exception>
    public void Restore(int step, IReadOnlyDictionary<string, float[]> parameters, IReadOnlyDictionary<string, float[]> first,
        IReadOnlyDictionary<string, float[]> second, string source)
    {
        foreach (var (name, _) in _parameters)
            foreach (var (set, live) in new[] { (parameters, Parameters[name]), (first, FirstMoments[name].AsMemory()), (second, SecondMoments[name].AsMemory()) })
            {
                if (!set.TryGetValue(name, out var data) || data.Length != live.Length)
                    throw new TensorShapeException($"checkpoint lacks '{name}' or its size differs from the {Model.Name} model", source);
                data.CopyTo(live);
            }
        Step = step;
    }

    private void CheckInputs(IReadOnlyList<Memory<float>> inputs)
    {
        if (inputs.Count != _inputs.Count)
            throw new TensorShapeException($"{Model.Name} takes {_inputs.Count} input(s) ({string.Join(", ", _inputs.Select(i => i.Name))}), got {inputs.Count}");
        for (int i = 0; i < inputs.Count; i++)
        {
            long expected = _inputs[i].Shape.Aggregate(1L, (a, b) => a * b);
            if (inputs[i].Length != expected)
                throw new TensorShapeException($"the trainer takes batches of [{string.Join(", ", _inputs[i].Shape)}] = {expected} floats, got {inputs[i].Length}");
        }
    }

    /// <summary>The model's output for a batch (dropout off), e.g. log-probabilities [N, T, V] of a LipNet.</summary>
    /// <param name="inputs">One buffer per <see cref="ITrainableModel.Inputs"/> entry, for the batch size the trainer was built for.</param>
    /// <returns>The output, row-major in <see cref="ITrainableModel.OutputShape"/>.</returns>
    /// <exception cref="TensorShapeException">An input count or size does not match the model.</exception>
    public float[] Predict(IReadOnlyList<Memory<float>> inputs)
    {
        CheckInputs(inputs);
        var values = AlignedInputs(inputs);
        try
        {
            using var outputs = RunForward(values, [Model.Output], DropoutMasks(null));
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (var v in values)
                v.Dispose();
        }
    }

    /// <summary>Each input as an OrtValue over aligned memory: the caller's buffer when it is aligned (no copy), else a copy in a staging buffer.</summary>
    private OrtValue[] AlignedInputs(IReadOnlyList<Memory<float>> inputs)
    {
        var values = new OrtValue[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var data = inputs[i];
            if (!AlignedMemory.IsAligned(data))
            {
                if (_staging[i].Length != data.Length)
                    _staging[i] = AlignedMemory.Allocate(data.Length);
                data.CopyTo(_staging[i]);
                data = _staging[i];
            }
            values[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, _inputs[i].Shape);
        }
        return values;
    }

    private IDisposableReadOnlyCollection<OrtValue> RunForward(OrtValue[] inputs, IReadOnlyCollection<string> outputs, Dictionary<string, OrtValue> masks)
    {
        var names = new List<string>(_parameters.Count + inputs.Length + masks.Count);
        var values = new List<OrtValue>(names.Capacity);
        for (int i = 0; i < inputs.Length; i++)
        {
            names.Add(_inputs[i].Name);
            values.Add(inputs[i]);
        }
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
    /// One optimization step over micro-batches (<see cref="TrainerOptions.AccumulationSteps"/> of them in a training run; any
    /// count works): gradients and losses are averaged over them, clipped by global norm, and AdamW updates the parameters.
    /// A non-finite loss or gradient stops with a <see cref="LipNetException"/> before the parameters change.
    /// </summary>
    /// <param name="microBatches">At least one batch of the trainer's batch size.</param>
    /// <returns>The step's loss, gradient norm, learning rate and timings.</returns>
    /// <exception cref="ArgumentException"><paramref name="microBatches"/> is empty.</exception>
    /// <exception cref="TensorShapeException">A batch's inputs or targets do not fit the model and batch size.</exception>
    /// <exception cref="LipNetException">The loss is not finite (the parameters are unchanged).</exception>
    public StepResult TrainStep(IReadOnlyList<ModelBatch> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
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
    /// Loss and gradients (graph layout, <see cref="ITrainableModel.Parameters"/> order) of one batch without changing
    /// anything; <paramref name="dropoutSeed"/> draws the dropout masks.
    /// </summary>
    /// <param name="batch">A batch of the trainer's batch size.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks (ignored without dropout).</param>
    /// <returns>The loss and one gradient array per parameter.</returns>
    /// <exception cref="TensorShapeException">The batch's inputs or targets do not fit the model and batch size.</exception>
    /// <exception cref="LipNetException">The loss is not finite.</exception>
    public (float Loss, List<float[]> Gradients) ComputeGradients(ModelBatch batch, int dropoutSeed = 0) => ComputeGradients(batch, dropoutSeed, new double[3]);

    private (float Loss, List<float[]> Gradients) ComputeGradients(ModelBatch batch, int dropoutSeed, double[] timings)
    {
        ArgumentNullException.ThrowIfNull(batch);
        CheckInputs(batch.Inputs);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var inputs = AlignedInputs(batch.Inputs);
        try
        {
            var masks = DropoutMasks(dropoutSeed);
            using var forward = RunForward(inputs, _forwardOutputs, masks);
            timings[0] += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var output = forward[0].GetTensorDataAsSpan<float>().ToArray(); // small next to the activations; losses may run parallel over items
            float loss = Model.Loss.Compute(output, _outputShape, batch.Targets, _gradOutput.Data);
            if (!float.IsFinite(loss))
                throw new LipNetException($"loss is {loss} at step {Step + 1}: training stopped, parameters unchanged");
            timings[1] += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var names = new List<string>();
            var values = new List<OrtValue>();
            foreach (var name in _graphs.BackwardInputs)
            {
                names.Add(name);
                values.Add(_inputIndex.TryGetValue(name, out int k) ? inputs[k]
                    : name == _gradOutputName ? _gradOutput.Value
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
                foreach (var o in outputs)
                    gradients.Add(o.GetTensorDataAsSpan<float>().ToArray());
            timings[2] += sw.Elapsed.TotalMilliseconds;
            return (loss, gradients);
        }
        finally
        {
            foreach (var v in inputs)
                v.Dispose();
        }
    }

    /// <summary>
    /// Dropout masks (0 or 1/(1−p)) drawn from <paramref name="seed"/>; all ones for evaluation (seed null). The mask
    /// buffers are allocated and pinned once: ONNX Runtime's kernels can take different (equally valid) paths for
    /// differently aligned inputs, and fresh arrays on each step made gradients differ in the last bit between runs.
    /// </summary>
    private Dictionary<string, OrtValue> DropoutMasks(int? seed)
    {
        if (_masks.Count == 0)
            return [];
        var set = seed is null ? _evaluationMasks : _trainingMasks;
        if (set.Count == 0)
            foreach (var (name, shape) in _masks)
            {
                var data = AlignedMemory.Allocate((int)shape.Aggregate(1L, (a, b) => a * b));
                data.Span.Fill(1f);
                set[name] = (data, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, shape));
            }
        if (seed is { } s)
        {
            var random = new Random(s);
            float keep = 1 - Options.Dropout;
            foreach (var (name, _) in _masks)
            {
                var data = set[name].Data.Span;
                for (int i = 0; i < data.Length; i++)
                    data[i] = random.NextSingle() < keep ? 1f / keep : 0f;
            }
        }
        return set.ToDictionary(p => p.Key, p => p.Value.Value);
    }

    /// <summary>
    /// Releases the ONNX Runtime sessions and the native tensors over the pinned buffers, first ending profiling (which
    /// writes the profile files) when <see cref="TrainerOptions.ProfilePrefix"/> is set. The trainer is unusable afterwards.
    /// </summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the native resources (see <see cref="Dispose()"/>); derived trainers release theirs and call this.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
            return;
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
        _gradOutput.Value.Dispose();
        _runOptions.Dispose();
    }
}
