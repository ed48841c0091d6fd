using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;

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
/// <param name="Video">The clips, normalized, [N, C, T, H, W] row-major (N = the trainer's batch size).</param>
/// <param name="Targets">Token ids per clip without blanks (<see cref="LipNetTrainer.Vocabulary"/>).</param>
/// <param name="Lengths">Real frame count per clip (frames past it are padding).</param>
public sealed record TrainingBatch(Memory<float> Video, IReadOnlyList<int[]> Targets, IReadOnlyList<int> Lengths)
{
    /// <summary>The same batch as the generic <see cref="Trainer"/> takes it: the video input and CTC targets.</summary>
    public ModelBatch ToModelBatch() => new([Video], new CtcTargets(Targets, Lengths));
}

/// <summary>
/// A LipNet as a <see cref="ITrainableModel"/>: video [N, C, T, H, W] → log-probabilities [N, T, V] through
/// <see cref="LipNetGraph.BuildTraining"/> (GRUs in cell ops, channel-wise dropout after each conv block and element-wise after
/// each GRU layer), trained with the CTC loss over the GRID vocabulary with the blank first (LipNet-PyTorch order).
/// </summary>
public sealed class LipNetTrainingModel : ITrainableModel
{
    /// <summary>A LipNet of <paramref name="architecture"/> trained with CTC reduced by <paramref name="reduction"/>.</summary>
    /// <param name="architecture">The network; its <see cref="LipNetArchitecture.VocabularySize"/> must be 28 (GRID).</param>
    /// <param name="reduction">How clip losses combine (PyTorch's <c>F.ctc_loss</c> reductions).</param>
    /// <exception cref="TensorShapeException">The architecture's vocabulary size is not 28.</exception>
    public LipNetTrainingModel(LipNetArchitecture architecture, CtcReduction reduction = CtcReduction.Mean)
    {
        Architecture = architecture;
        Vocabulary = CtcVocabulary.Grid(BlankPosition.First);
        if (architecture.VocabularySize != Vocabulary.Size)
            throw new TensorShapeException($"architecture outputs {architecture.VocabularySize} classes, the GRID vocabulary has {Vocabulary.Size}");
        Parameters = LipNetGraph.OnnxParameterShapes(architecture);
        Loss = new CtcTrainingLoss(Vocabulary.BlankId, reduction);
    }

    /// <summary>The network.</summary>
    public LipNetArchitecture Architecture { get; }

    /// <summary>GRID with the blank first (id 0 blank, 1 space, 2 … 27 a–z): encodes targets, decodes outputs.</summary>
    public CtcVocabulary Vocabulary { get; }

    /// <inheritdoc/>
    public string Name => Architecture.Name;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Parameters { get; }

    /// <inheritdoc/>
    public string Output => LipNetGraph.OutputName;

    /// <inheritdoc/>
    public ITrainingLoss Loss { get; }

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> Inputs(int batchSize) =>
        [(LipNetGraph.InputName, [batchSize, Architecture.Channels, Architecture.Frames, Architecture.Height, Architecture.Width])];

    /// <inheritdoc/>
    public long[] OutputShape(int batchSize) => [batchSize, Architecture.Frames, Architecture.VocabularySize];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, long[] Shape)> DropoutMasks(int batchSize) => LipNetGraph.DropoutMasks(Architecture, batchSize);

    /// <inheritdoc/>
    public Onnx.Proto.ModelProto BuildTrainingGraph(int batchSize, bool dropout) => LipNetGraph.BuildTraining(Architecture, batchSize, dropout);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, float[]> InitialParameters(int seed) => OnnxLayout(Architecture, Architecture.InitialWeights(seed));

    /// <summary>PyTorch-named weights (LipNet-PyTorch layout) in the training graph's ONNX layout.</summary>
    internal static Dictionary<string, float[]> OnnxLayout(LipNetArchitecture architecture, IReadOnlyDictionary<string, NamedTensor> torchWeights) =>
        LipNetGraph.ToOnnxLayout(architecture, torchWeights).ToDictionary(p => p.Key, p => p.Value.Data);
}

/// <summary>
/// Trains a LipNet on ONNX Runtime: the generic <see cref="Trainer"/> over a <see cref="LipNetTrainingModel"/> (video in,
/// CTC loss computed in managed code between the forward and backward runs), with LipNet's conveniences: video batches,
/// greedy evaluation, export of the inference model with its card. Blank is id 0 (LipNet-PyTorch order).
/// </summary>
public sealed class LipNetTrainer : Trainer
{
    /// <summary>
    /// Builds the training graph for <see cref="TrainerOptions.BatchSize"/> clips, opens its forward and backward
    /// ONNX Runtime sessions on <see cref="TrainerOptions.Device"/>, and loads the weights into pinned buffers with
    /// zeroed AdamW moments at step 0.
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
        : this(new LipNetTrainingModel(architecture, (options ?? new TrainerOptions()).Reduction), options, initialWeights)
    {
    }

    private LipNetTrainer(LipNetTrainingModel model, TrainerOptions? options, IReadOnlyDictionary<string, NamedTensor>? initialWeights)
        : base(model, options, initialWeights is null ? null : LipNetTrainingModel.OnnxLayout(model.Architecture, initialWeights))
    {
        Architecture = model.Architecture;
        Vocabulary = model.Vocabulary;
    }

    /// <summary>The network being trained.</summary>
    public LipNetArchitecture Architecture { get; }

    /// <summary>
    /// The output vocabulary: GRID with the blank first (id 0 blank, 1 space, 2 … 27 a–z, LipNet-PyTorch order);
    /// use it to encode targets and decode predictions.
    /// </summary>
    public CtcVocabulary Vocabulary { get; }

    private int Frames => Architecture.Frames;

    /// <summary>Log-probabilities [N, T, V] of a batch (N = the batch size the trainer was built for).</summary>
    /// <param name="video">Normalized clips [N, C, T, H, W].</param>
    /// <exception cref="TensorShapeException">The video is not [N, C, T, H, W] of the architecture and batch size.</exception>
    public float[] Predict(Memory<float> video) => Predict([video]);

    /// <summary>
    /// One optimization step on a batch: video [N, C, T, H, W], one target per clip (token ids, no blanks) and
    /// each clip's real frame count. A non-finite loss or gradient stops with a <see cref="LipNetException"/>
    /// before the parameters change.
    /// </summary>
    /// <param name="video">Normalized clips [N, C, T, H, W].</param>
    /// <param name="targets">Token ids per clip, no blanks.</param>
    /// <param name="lengths">Real frame count per clip.</param>
    /// <exception cref="TensorShapeException">The video, targets or lengths do not fit the batch.</exception>
    /// <exception cref="LipNetException">The loss is not finite (the parameters are unchanged).</exception>
    public StepResult TrainStep(float[] video, IReadOnlyList<int[]> targets, IReadOnlyList<int> lengths) =>
        TrainStep([new TrainingBatch(video, targets, lengths)]);

    /// <summary>
    /// One optimization step over <see cref="TrainerOptions.AccumulationSteps"/> micro-batches (any count works;
    /// gradients and losses are averaged over them).
    /// </summary>
    /// <param name="microBatches">At least one batch.</param>
    /// <exception cref="ArgumentException"><paramref name="microBatches"/> is empty.</exception>
    /// <exception cref="TensorShapeException">A batch does not fit the architecture and batch size.</exception>
    /// <exception cref="LipNetException">The loss is not finite (the parameters are unchanged).</exception>
    public StepResult TrainStep(IReadOnlyList<TrainingBatch> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        return TrainStep(microBatches.Select(ToModelBatch).ToList());
    }

    /// <summary>
    /// Loss and gradients (ONNX layout, <see cref="LipNetGraph.OnnxParameterShapes"/> order) of one batch without
    /// changing anything; <paramref name="dropoutSeed"/> draws the dropout masks.
    /// </summary>
    /// <param name="batch">A batch of the trainer's batch size.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks (ignored without dropout).</param>
    /// <exception cref="TensorShapeException">The batch does not fit the architecture and batch size.</exception>
    /// <exception cref="LipNetException">The loss is not finite.</exception>
    public (float Loss, List<float[]> Gradients) ComputeGradients(TrainingBatch batch, int dropoutSeed = 0) =>
        ComputeGradients(ToModelBatch(batch), dropoutSeed);

    private ModelBatch ToModelBatch(TrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Targets.Count != Options.BatchSize || batch.Lengths.Count != Options.BatchSize)
            throw new TensorShapeException($"a batch needs {Options.BatchSize} targets and lengths, got {batch.Targets.Count} and {batch.Lengths.Count}");
        return batch.ToModelBatch();
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
        ExportModel(Architecture, LipNetGraph.ToPyTorchLayout(Architecture, Parameters.ToDictionary(p => p.Key, p => new NamedTensor(p.Key, Model.Parameters.First(q => q.Name == p.Key).Shape, p.Value.ToArray()))),
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
}
