using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LipNet.ML.Training;

/// <summary>One epoch of an <see cref="EpochLoop"/> run.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">Optimizer steps after it.</param>
/// <param name="TrainLoss">Mean loss of its steps.</param>
/// <param name="Validation">The validation figure (lower is better; e.g. an RMSE or a mel L1); NaN without validation.</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public sealed record EpochRecord(int Epoch, int Step, double TrainLoss, double Validation, double Seconds);

/// <summary>Where an <see cref="EpochLoop"/> run stands (the checkpoint's state.json).</summary>
public sealed record EpochLoopState
{
    /// <summary>Optimizer steps taken.</summary>
    public int Step { get; init; }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; init; }

    /// <summary>Lowest validation figure so far (∞ before the first).</summary>
    public double Best { get; init; } = double.PositiveInfinity;

    /// <summary>Epoch of <see cref="Best"/> (0 = none).</summary>
    public int BestEpoch { get; init; }

    /// <summary>The model's card as JSON (what the exported model carries: features, normalisation, sizes), kept for resuming.</summary>
    public string Card { get; init; } = "";

    /// <summary>Every completed epoch.</summary>
    public IReadOnlyList<EpochRecord> Epochs { get; init; } = [];
}

/// <summary>
/// The epoch loop of models trained on whole clips with a <see cref="Trainer"/> (WAV2KP, lip-to-speech): steps whose batches the
/// caller makes (seeded per epoch, so a resumed run draws what an uninterrupted one would), a validation figure after each
/// epoch, a checkpoint per epoch (<see cref="TrainingCheckpoint.Save{TState}"/>, the newest kept), the best epoch saved apart
/// and exported by the caller, and a CSV of the epochs. A run stopped at any point and resumed from its newest checkpoint ends
/// with the weights of an uninterrupted run. (LipNet's <see cref="TrainingRun"/> adds mid-epoch checkpoints and CTC metrics.)
/// </summary>
public static class EpochLoop
{
    /// <summary>The epochs' figures: <c>{output}/epochs.csv</c>.</summary>
    public const string EpochsCsv = "epochs.csv";

    /// <summary>The newest epoch checkpoint of a run, or null: <c>{output}/checkpoints/epoch-NNNN</c>.</summary>
    /// <param name="outputDirectory">The run's folder.</param>
    public static string? LatestCheckpoint(string outputDirectory)
    {
        string checkpoints = Path.Combine(outputDirectory, "checkpoints");
        return Directory.Exists(checkpoints)
            ? EpochCheckpoints(checkpoints).Where(d => File.Exists(Path.Combine(d, TrainingCheckpoint.StateFile))).LastOrDefault()
            : null;
    }

    /// <summary>
    /// The complete epoch checkpoints of a folder, oldest first: <c>epoch-NNNN</c> only, not the <c>.tmp</c> / <c>.old</c>
    /// folders a save interrupted by a crash leaves (a half-written one must not be resumed from, nor counted as kept).
    /// </summary>
    private static IEnumerable<string> EpochCheckpoints(string checkpoints) =>
        Directory.GetDirectories(checkpoints, "epoch-*").Where(d => !Path.GetFileName(d).Contains('.', StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>Reads a run's newest checkpoint into <paramref name="trainer"/> and returns its state, or null when there is none.</summary>
    /// <param name="outputDirectory">The run's folder.</param>
    /// <param name="trainer">A trainer of the run's model.</param>
    /// <exception cref="CorpusFormatException">The checkpoint is malformed.</exception>
    /// <exception cref="TensorShapeException">The checkpoint is of another model.</exception>
    public static EpochLoopState? Resume(string outputDirectory, Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        string? latest = LatestCheckpoint(outputDirectory);
        if (latest is null)
            return null;
        var state = TrainingCheckpoint.LoadState<EpochLoopState>(latest);
        TrainingCheckpoint.Restore(latest, trainer, state.Step);
        return state;
    }

    /// <summary>Runs epochs <c>state.Epoch + 1</c> … <paramref name="epochs"/>.</summary>
    /// <param name="trainer">The trainer (restored by <see cref="Resume"/> when continuing).</param>
    /// <param name="state">Where the run stands (a fresh state, or <see cref="Resume"/>'s).</param>
    /// <param name="outputDirectory">Checkpoints and <see cref="EpochsCsv"/> go here.</param>
    /// <param name="epochs">The epoch to end after.</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch, at least 1.</param>
    /// <param name="batch">The batch of (0-based epoch, step in epoch); it must depend on those and the seed only.</param>
    /// <param name="validate">The validation figure of the current weights (lower is better); null = none (every epoch is the best).</param>
    /// <param name="bestEpoch">Called when an epoch is the best so far (e.g. to export the model); null = none.</param>
    /// <param name="keepCheckpoints">Epoch checkpoints kept (the newest), at least 1.</param>
    /// <param name="logger">Epoch summaries; null = none.</param>
    /// <param name="progress">Told after every step; null = none.</param>
    /// <param name="cancellationToken">Checked before each step; the newest checkpoint stays usable.</param>
    /// <returns>The final state.</returns>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static EpochLoopState Run(Trainer trainer, EpochLoopState state, string outputDirectory, int epochs, int stepsPerEpoch,
        Func<int, int, ModelBatch> batch, Func<double>? validate, Action<EpochLoopState>? bestEpoch = null, int keepCheckpoints = 2,
        ILogger? logger = null, IProgress<StepResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(batch);
        logger ??= NullLogger.Instance;
        string checkpoints = Path.Combine(outputDirectory, "checkpoints"), best = Path.Combine(outputDirectory, "best");
        Directory.CreateDirectory(checkpoints);
        for (int epoch = state.Epoch; epoch < epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            for (int s = 0; s < Math.Max(1, stepsPerEpoch); s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = trainer.TrainStep([batch(epoch, s)]);
                lossSum += result.Loss;
                progress?.Report(result);
            }
            double figure = validate?.Invoke() ?? double.NaN;
            var record = new EpochRecord(epoch + 1, trainer.Step, lossSum / Math.Max(1, stepsPerEpoch), figure, clock.Elapsed.TotalSeconds);
            bool improved = validate is null || figure < state.Best;
            state = state with
            {
                Step = trainer.Step,
                Epoch = epoch + 1,
                Epochs = [.. state.Epochs, record],
                Best = improved && !double.IsNaN(figure) ? figure : state.Best,
                BestEpoch = improved ? epoch + 1 : state.BestEpoch,
            };
            logger.LogInformation("Epoch {Epoch}: train loss {Loss:F4}, validation {Figure:F4} ({Seconds:F0} s)", record.Epoch, record.TrainLoss, figure,
                record.Seconds);
            if (improved)
            {
                TrainingCheckpoint.Save(best, trainer, state);
                bestEpoch?.Invoke(state);
            }
            TrainingCheckpoint.Save(Path.Combine(checkpoints, $"epoch-{epoch + 1:D4}"), trainer, state);
            foreach (var old in EpochCheckpoints(checkpoints).SkipLast(Math.Max(1, keepCheckpoints)).ToList())
                Directory.Delete(old, recursive: true);
            File.WriteAllLines(Path.Combine(outputDirectory, EpochsCsv), ["epoch,step,train_loss,validation,seconds",
                .. state.Epochs.Select(e => string.Join(',', e.Epoch, e.Step, e.TrainLoss.ToString("R", CultureInfo.InvariantCulture),
                    e.Validation.ToString("R", CultureInfo.InvariantCulture), e.Seconds.ToString("F1", CultureInfo.InvariantCulture)))]);
        }
        return state;
    }
}
