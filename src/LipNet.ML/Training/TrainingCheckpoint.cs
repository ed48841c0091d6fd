using System.Text.Json;
using System.Text.Json.Serialization;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;

namespace LipNet.ML.Training;

/// <summary>Where a run stands: enough, with the parameters and moments, to continue it exactly.</summary>
public sealed record TrainingState
{
    /// <summary>Optimizer steps completed (<see cref="Trainer.Step"/> when the checkpoint was written).</summary>
    public int Step { get; init; }
    /// <summary>The epoch in progress (from 0) and how many of its batches are done.</summary>
    public int Epoch { get; init; }
    /// <summary>
    /// Batches of <see cref="Epoch"/> already trained (micro-batches of <see cref="TrainerOptions.BatchSize"/> clips;
    /// 0 at an epoch's start).
    /// </summary>
    public int BatchInEpoch { get; init; }
    /// <summary>Sum and count of the step losses of the epoch in progress (its mean training loss survives a resume).</summary>
    public double EpochLossSum { get; init; }
    /// <summary>Number of step losses in <see cref="EpochLossSum"/>.</summary>
    public int EpochLossCount { get; init; }
    /// <summary>
    /// Lowest greedy validation CER (corpus CER as a fraction; it can exceed 1) at an epoch end so far;
    /// +∞ until a validated epoch ends.
    /// </summary>
    public double BestValidationCer { get; init; } = double.PositiveInfinity;
    /// <summary>The epoch (from 1) whose weights are in the run's <c>best</c> checkpoint; -1 before any epoch ends.</summary>
    public int BestEpoch { get; init; } = -1;
    /// <summary>
    /// Consecutive finished epochs without a better validation CER (early stopping compares it with
    /// <see cref="TrainingRunOptions.Patience"/>).
    /// </summary>
    public int EpochsWithoutImprovement { get; init; }
    /// <summary>The network trained; a resumed run must use one of the same size.</summary>
    public LipNetArchitecture Architecture { get; init; } = LipNetArchitecture.Small;
    /// <summary>The optimization settings of the run (a resumed run records its own).</summary>
    public TrainerOptions Trainer { get; init; } = new();
    /// <summary>The input normalization trained with; a resumed run keeps it whatever its options say.</summary>
    public FrameNormalizeOptions Normalize { get; init; } = new();
    /// <summary>What the run trained on (for the exported model card).</summary>
    public string Data { get; init; } = "";
    /// <summary>The crop profile of the training crops (for the exported model card); null = haar (runs before profiles).</summary>
    public string? CropProfile { get; init; }
    /// <summary>Metrics of every finished epoch, in order (what <c>epochs.csv</c> lists).</summary>
    public IReadOnlyList<EpochMetrics> Epochs { get; init; } = [];
}

/// <summary>
/// A checkpoint directory: <c>parameters.safetensors</c> (PyTorch names and layout, loadable by
/// <c>lipnet import</c> and PyTorch), <c>optimizer.safetensors</c> (AdamW moments <c>m.*</c>/<c>v.*</c> in the
/// graphs' layout) and <c>state.json</c> (<see cref="TrainingState"/>). Written to a temporary directory and
/// renamed into place, so a crash never leaves a half-written checkpoint under the final name.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>File of the parameters, PyTorch names and layout (safetensors, F32).</summary>
    public const string ParametersFile = "parameters.safetensors";

    /// <summary>File of the AdamW moments, <c>m.{name}</c> and <c>v.{name}</c> in the graphs' layout (safetensors, F32).</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>File of the <see cref="TrainingState"/>, snake_case JSON.</summary>
    public const string StateFile = "state.json";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes a checkpoint of <paramref name="trainer"/>'s parameters and moments and <paramref name="state"/> to
    /// <paramref name="directory"/>: built in <c>{directory}.tmp</c>, then swapped in (a previous checkpoint there is
    /// replaced). The safetensors metadata records the architecture's name and the step. A LipNet's parameters are
    /// written in LipNet-PyTorch names and layout (loadable by <c>lipnet import</c> and PyTorch).
    /// </summary>
    /// <param name="directory">The checkpoint directory, created with its parents as needed.</param>
    /// <param name="trainer">The trainer whose parameters and AdamW moments are saved.</param>
    /// <param name="state">Where the run stands (its <see cref="TrainingState.Step"/> goes into the metadata).</param>
    /// <exception cref="IOException">A file or directory cannot be written, moved or deleted.</exception>
    public static void Save(string directory, LipNetTrainer trainer, TrainingState state) => Save(directory, (Trainer)trainer, state);

    /// <summary>
    /// Writes a checkpoint of any <see cref="Trainer"/>: its parameters (the graph's layout, or LipNet-PyTorch's for a
    /// <see cref="LipNetTrainer"/>), its AdamW moments and <paramref name="state"/> as snake_case JSON, atomically as
    /// <see cref="Save(string, LipNetTrainer, TrainingState)"/> does.
    /// </summary>
    /// <typeparam name="TState">The run's state record (e.g. <see cref="TrainingState"/>); read back with <see cref="LoadState{TState}"/>.</typeparam>
    /// <param name="directory">The checkpoint directory, created with its parents as needed.</param>
    /// <param name="trainer">The trainer whose parameters and AdamW moments are saved.</param>
    /// <param name="state">Where the run stands; its <c>Step</c> should equal <see cref="Trainer.Step"/>.</param>
    /// <exception cref="IOException">A file or directory cannot be written, moved or deleted.</exception>
    public static void Save<TState>(string directory, Trainer trainer, TState state)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        string full = Path.GetFullPath(directory);
        string temp = full + ".tmp";
        if (Directory.Exists(temp))
            Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        var shapes = trainer.Model.Parameters.ToDictionary(p => p.Name, p => p.Shape);
        var onnx = trainer.Parameters.ToDictionary(p => p.Key, p => new NamedTensor(p.Key, shapes[p.Key], p.Value.ToArray()));
        var meta = new Dictionary<string, string>
        {
            ["architecture"] = trainer.Model.Name,
            ["step"] = trainer.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(Path.Combine(temp, ParametersFile),
            trainer is LipNetTrainer lipNet ? LipNetGraph.ToPyTorchLayout(lipNet.Architecture, onnx).Values : onnx.Values, meta);
        SafeTensors.Save(Path.Combine(temp, OptimizerFile),
            trainer.FirstMoments.Select(p => new NamedTensor("m." + p.Key, shapes[p.Key], p.Value))
                .Concat(trainer.SecondMoments.Select(p => new NamedTensor("v." + p.Key, shapes[p.Key], p.Value))), meta);
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        string old = full + ".old";
        if (Directory.Exists(old))
            Directory.Delete(old, recursive: true);
        if (Directory.Exists(full))
            Directory.Move(full, old);
        Directory.Move(temp, full);
        if (Directory.Exists(old))
            Directory.Delete(old, recursive: true);
    }

    /// <summary>Reads a checkpoint's state record written by <see cref="Save{TState}"/>.</summary>
    /// <typeparam name="TState">The record type the checkpoint was written with.</typeparam>
    /// <param name="directory">The checkpoint directory.</param>
    /// <returns>The state.</returns>
    /// <exception cref="CorpusFormatException">The directory has no readable, valid <see cref="StateFile"/>.</exception>
    public static TState LoadState<TState>(string directory) where TState : class
    {
        string path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
            throw new CorpusFormatException($"not a checkpoint: {StateFile} missing", directory);
        try
        {
            return JsonSerializer.Deserialize<TState>(File.ReadAllText(path), Json) ?? throw new CorpusFormatException("empty training state", path);
        }
        catch (JsonException ex)
        {
            throw new CorpusFormatException($"training state is not valid JSON ({ex.Message})", path);
        }
    }

    /// <summary>Restores a checkpoint's parameters and AdamW moments into any <see cref="Trainer"/> of the same model, at <paramref name="step"/>.</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <param name="trainer">A trainer of the checkpoint's model (a LipNet trainer reads the PyTorch layout back).</param>
    /// <param name="step">The step to continue from (the state's).</param>
    /// <exception cref="CorpusFormatException">A checkpoint file is missing or malformed.</exception>
    /// <exception cref="TensorShapeException">A parameter or moment is missing or has another size.</exception>
    public static void Restore(string directory, Trainer trainer, int step)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var saved = LoadParameters(directory);
        Dictionary<string, float[]> parameters;
        if (trainer is LipNetTrainer lipNet)
        {
            lipNet.Architecture.Validate(saved, Path.Combine(directory, ParametersFile));
            parameters = LipNetGraph.ToOnnxLayout(lipNet.Architecture, saved).ToDictionary(p => p.Key, p => p.Value.Data);
        }
        else
        {
            parameters = saved.ToDictionary(p => p.Key, p => p.Value.Data);
        }
        var moments = SafeTensors.Load(Path.Combine(directory, OptimizerFile));
        trainer.Restore(step, parameters,
            moments.Where(p => p.Key.StartsWith("m.", StringComparison.Ordinal)).ToDictionary(p => p.Key[2..], p => p.Value.Data),
            moments.Where(p => p.Key.StartsWith("v.", StringComparison.Ordinal)).ToDictionary(p => p.Key[2..], p => p.Value.Data),
            directory);
    }

    /// <summary>Reads a checkpoint's <see cref="StateFile"/>, e.g. to resume a run or to see its metrics.</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <exception cref="CorpusFormatException">The directory has no <see cref="StateFile"/>, or it is empty or not valid JSON.</exception>
    public static TrainingState LoadState(string directory) => LoadState<TrainingState>(directory);

    /// <summary>The parameters of a checkpoint as saved: LipNet-PyTorch names for a LipNet, the graph's names otherwise.</summary>
    public static Dictionary<string, NamedTensor> LoadParameters(string directory) => SafeTensors.Load(Path.Combine(directory, ParametersFile));

    /// <summary>Restores parameters, moments and step into a trainer built for the checkpoint's architecture.</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <param name="trainer">A trainer of the checkpoint's architecture.</param>
    /// <param name="state">The checkpoint's state (its step is restored).</param>
    /// <exception cref="CorpusFormatException">A checkpoint file is missing or malformed.</exception>
    /// <exception cref="TensorShapeException">A parameter or moment is missing or has another size.</exception>
    public static void Restore(string directory, LipNetTrainer trainer, TrainingState state) => Restore(directory, (Trainer)trainer, state.Step);
}
