using System.Globalization;
using LipNet.ML.Corpora;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LipNet.ML.Training;

/// <summary>Settings of a whole training run (epochs, validation, checkpoints) around <see cref="TrainerOptions"/>.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Batch size, optimizer, schedule, dropout, device and seed of the trainer (see <see cref="TrainerOptions"/>).</summary>
    public TrainerOptions Trainer { get; init; } = new();
    /// <summary>Epochs to train in all, counting those done before a resume (default 10).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Input normalization; recorded in the checkpoint and the exported model card.</summary>
    public FrameNormalizeOptions Normalize { get; init; } = FrameNormalizeOptions.Standardized;
    /// <summary>Training augmentation (null = none).</summary>
    public FrameAugmentOptions? Augment { get; init; } = FrameAugmentOptions.Default;
    /// <summary>Beam width of the validation beam search (with the GRID grammar); 0 = greedy only.</summary>
    public int ValidationBeam { get; init; } = 10;
    /// <summary>Stop after this many epochs without a better validation CER (0 = never).</summary>
    public int Patience { get; init; }
    /// <summary>Also checkpoint every this many steps (0 = at epoch ends only).</summary>
    public int CheckpointEverySteps { get; init; }
    /// <summary>Step checkpoints kept (oldest deleted first); the best one is kept apart.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Stop after this many optimizer steps in this process (0 = no limit; for tests and time-boxed runs).</summary>
    public int MaxStepsThisRun { get; init; }
    /// <summary>What the run trains on, in words (kept in the checkpoint and the model card).</summary>
    public string Data { get; init; } = "";
    /// <summary>The crop profile of the training crops (<see cref="Mouth.CropProfile"/> name), written into the exported card; null = haar.</summary>
    public string? CropProfile { get; init; }
    /// <summary>
    /// Weights (PyTorch names and layout) to start from instead of the seeded initialization: fine-tuning, or a
    /// second stage with a fresh optimizer and schedule. Ignored on resume, where the checkpoint's weights win.
    /// </summary>
    public IReadOnlyDictionary<string, NamedTensor>? InitialWeights { get; init; }
}

/// <summary>Figures of one epoch: training loss and validation loss, greedy and beam CER/WER (corpus and mean).</summary>
public sealed record EpochMetrics(int Epoch, int Step, double TrainLoss, double ValidationLoss, double GreedyCer, double GreedyWer,
    double GreedyCerMean, double GreedyWerMean, double BeamCer, double BeamWer, double BeamCerMean, double BeamWerMean, double Seconds, int ValidationClips = 0);

/// <summary>Progress of a run, reported after each step.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, int Step, float Loss, float LearningRate);

/// <summary>How a run ended.</summary>
public sealed record TrainingResult(TrainingState State, string LastCheckpoint, string? BestCheckpoint, bool StoppedEarly);

/// <summary>
/// A training run over a clip set: epochs of shuffled batches (<see cref="EpochBatcher{T}"/>: reshuffled each
/// epoch, wrap-around to full batches), seeded augmentation, gradient accumulation, validation each epoch, the
/// best model by validation CER, early stopping, atomic checkpoints with resume, and a CSV of metrics per step
/// (<c>steps.csv</c>) and per epoch (<c>epochs.csv</c>) in the output directory.
/// </summary>
public static class TrainingRun
{
    /// <summary>
    /// Folder under the output directory for step checkpoints, <c>step-{step:D7}</c> (the newest
    /// <see cref="TrainingRunOptions.KeepCheckpoints"/> kept).
    /// </summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>Folder under the output directory for the checkpoint of the best epoch by validation CER.</summary>
    public const string BestFolder = "best";

    /// <summary>CSV in the output directory with one row per optimizer step: loss, gradient norm, learning rate, timings in ms.</summary>
    public const string StepsCsv = "steps.csv";

    /// <summary>CSV in the output directory with one row per epoch (<see cref="EpochMetrics"/>).</summary>
    public const string EpochsCsv = "epochs.csv";

    /// <summary>
    /// Trains <paramref name="architecture"/> on <paramref name="train"/> for <see cref="TrainingRunOptions.Epochs"/> epochs,
    /// or continues a run from a checkpoint (with the same batches and augmentation as an uninterrupted run). After each
    /// epoch it validates, writes a step checkpoint and, when the validation CER improved, the <see cref="BestFolder"/> checkpoint.
    /// </summary>
    /// <param name="architecture">The network to train; on resume it must have the checkpoint's parameter count.</param>
    /// <param name="train">
    /// The training clips; each epoch draws every clip at least once (the last batch wraps around) in a new seeded order.
    /// </param>
    /// <param name="validation">
    /// Clips to evaluate after each epoch (loss, greedy and beam CER/WER); null = none, in which case every epoch counts as
    /// an improvement (<see cref="BestFolder"/> follows the last epoch) and <see cref="TrainingRunOptions.Patience"/> never stops.
    /// </param>
    /// <param name="outputDirectory">Where checkpoints and CSVs go; created when missing.</param>
    /// <param name="options">The run's settings.</param>
    /// <param name="resumeFrom">
    /// A checkpoint directory to continue from (e.g. <see cref="LatestCheckpoint"/>); null = a fresh start. The checkpoint's
    /// weights and normalization win over <paramref name="options"/>; its batch size must match.
    /// </param>
    /// <param name="logger">Receives resume, epoch and early-stop summaries and errors; null = none.</param>
    /// <param name="progress">Told after every optimizer step; null = none.</param>
    /// <param name="cancellation">Checked before each step; the last checkpoint written stays usable for a resume.</param>
    /// <param name="epochEnded">Called with the new state after each epoch's checkpoints are written; null = none.</param>
    /// <returns>The final state, the last and best checkpoint paths, and whether early stopping ended the run.</returns>
    /// <exception cref="LipNetException">
    /// The checkpoint is for another architecture or batch size; <see cref="TrainerOptions.Device"/> is not "cpu" or "cuda:N";
    /// a clip cannot be read; or the loss or a gradient is not finite (for these two the message names the last good checkpoint).
    /// </exception>
    /// <exception cref="CorpusFormatException">
    /// <paramref name="resumeFrom"/> is not a checkpoint (no readable <see cref="TrainingCheckpoint.StateFile"/>).
    /// </exception>
    /// <exception cref="TensorShapeException">
    /// <see cref="TrainingRunOptions.InitialWeights"/> or the checkpoint's weights do not fit the architecture.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static TrainingResult Run(LipNetArchitecture architecture, ITrainingClips train, ITrainingClips? validation, string outputDirectory,
        TrainingRunOptions options, string? resumeFrom = null, ILogger? logger = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default, Action<TrainingState>? epochEnded = null)
    {
        logger ??= NullLogger.Instance;
        Directory.CreateDirectory(outputDirectory);
        var state = new TrainingState { Architecture = architecture, Trainer = options.Trainer, Normalize = options.Normalize, Data = options.Data, CropProfile = options.CropProfile };
        if (resumeFrom is not null)
        {
            var saved = TrainingCheckpoint.LoadState(resumeFrom);
            if (saved.Architecture.ParameterCount != architecture.ParameterCount || saved.Trainer.BatchSize != options.Trainer.BatchSize)
                throw new LipNetException($"checkpoint is for {saved.Architecture.Name} at batch {saved.Trainer.BatchSize}, this run is {architecture.Name} at batch {options.Trainer.BatchSize}", resumeFrom);
            state = saved with { Trainer = options.Trainer, Normalize = saved.Normalize };
            options = options with { Normalize = saved.Normalize };
        }
        if (resumeFrom is null && options.InitialWeights is not null)
            architecture.Validate(options.InitialWeights, "initial weights");
        using var trainer = new LipNetTrainer(architecture, options.Trainer, resumeFrom is null ? options.InitialWeights : null);
        if (resumeFrom is not null)
        {
            TrainingCheckpoint.Restore(resumeFrom, trainer, state);
            logger.LogInformation("Resumed from {Checkpoint} at step {Step} (epoch {Epoch}, batch {Batch})", resumeFrom, state.Step, state.Epoch + 1, state.BatchInEpoch);
        }
        var stepsCsv = new MetricsCsv(Path.Combine(outputDirectory, StepsCsv), "step,epoch,loss,grad_norm,lr,forward_ms,ctc_ms,backward_ms,optimizer_ms", stepColumn: 0, state.Step);
        var epochsCsv = new MetricsCsv(Path.Combine(outputDirectory, EpochsCsv),
            "epoch,step,train_loss,val_loss,greedy_cer,greedy_wer,greedy_cer_mean,greedy_wer_mean,beam_cer,beam_wer,beam_cer_mean,beam_wer_mean,seconds", stepColumn: 1,
            state.Epochs.Count == 0 ? 0 : state.Epochs[^1].Step);

        int batch = options.Trainer.BatchSize, accumulate = Math.Max(1, options.Trainer.AccumulationSteps);
        var batcher = new EpochBatcher<int>(Enumerable.Range(0, train.Count).ToArray(), batch, options.Trainer.Seed);
        int batchesPerEpoch = batcher.BatchesPerEpoch;
        var assembler = new TrainingBatchAssembler(options.Normalize with { Layout = TensorLayout.CTHW }, options.Augment, trainer.Vocabulary);
        // Validation reads the clips as they are, as `lipnet evaluate` does: no flip, jitter, shift or word spans.
        var validationAssembler = new TrainingBatchAssembler(options.Normalize with { Layout = TensorLayout.CTHW }, augment: null,
            trainer.Vocabulary);
        var buffers = Enumerable.Range(0, accumulate).Select(_ => AlignedMemory.Allocate(batch * architecture.Channels * architecture.Frames * architecture.Height * architecture.Width)).ToArray();
        var validationBuffer = AlignedMemory.Allocate(buffers[0].Length);
        string checkpoints = Path.Combine(outputDirectory, CheckpointsFolder);
        string lastCheckpoint = resumeFrom ?? "";
        string? best = Directory.Exists(Path.Combine(outputDirectory, BestFolder)) ? Path.Combine(outputDirectory, BestFolder) : null;
        int stepsThisRun = 0;
        bool stoppedEarly = false;

        // A clip that cannot be read (corrupt video, no mouth found) stops the run naming its file and the way on.
        T StopOnUnreadableClip<T>(Func<T> load)
        {
            try
            {
                return load();
            }
            catch (LipNetException ex) when (ex is VideoDecodeException or MouthLocatorException)
            {
                string last = lastCheckpoint.Length > 0 ? lastCheckpoint : "(none yet)";
                logger.LogError("Training stopped at step {Step}: {Reason}. The last good checkpoint is {Checkpoint}", trainer.Step + 1, ex.Message, last);
                throw new LipNetException($"{ex.Reason}; the last good checkpoint is {last} (leave unreadable clips out with --skip-bad, i.e. {nameof(SkippingTrainingClips)})", ex.FilePath, ex);
            }
        }

        for (int epoch = state.Epoch; epoch < options.Epochs; epoch++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var order = batcher.EpochOrder(epoch);
            bool resuming = epoch == state.Epoch && state.BatchInEpoch > 0;
            double lossSum = resuming ? state.EpochLossSum : 0;
            int lossCount = resuming ? state.EpochLossCount : 0;
            for (int b = epoch == state.Epoch ? state.BatchInEpoch : 0; b < batchesPerEpoch; b += accumulate)
            {
                cancellation.ThrowIfCancellationRequested();
                var micro = new List<TrainingBatch>();
                for (int m = 0; m < accumulate && b + m < batchesPerEpoch; m++)
                {
                    int first = (b + m) * batch;
                    var indices = Enumerable.Range(first, batch).Select(i => order[i % order.Length]).ToArray();
                    micro.Add(StopOnUnreadableClip(() => assembler.Assemble(train, indices, options.Trainer.Seed, epoch, first, buffers[m])));
                }
                StepResult step;
                try
                {
                    step = trainer.TrainStep(micro);
                }
                catch (LipNetException ex)
                {
                    logger.LogError("Training stopped at step {Step}: {Reason}. The last good checkpoint is {Checkpoint}", trainer.Step + 1, ex.Message,
                        lastCheckpoint.Length > 0 ? lastCheckpoint : "(none yet)");
                    throw new LipNetException($"{ex.Message}; the last good checkpoint is {(lastCheckpoint.Length > 0 ? lastCheckpoint : "(none yet)")}", lastCheckpoint, ex);
                }
                lossSum += step.Loss;
                lossCount++;
                stepsThisRun++;
                stepsCsv.Append(string.Join(',', Fields(step.Step, epoch + 1, step.Loss, step.GradientNorm, step.LearningRate, step.ForwardMs, step.LossMs, step.BackwardMs, step.OptimizerMs)));
                state = state with { Step = step.Step, Epoch = epoch, BatchInEpoch = b + micro.Count, EpochLossSum = lossSum, EpochLossCount = lossCount };
                progress?.Report(new TrainingProgress(epoch, options.Epochs, b + micro.Count, batchesPerEpoch, step.Step, step.Loss, step.LearningRate));
                if (options.CheckpointEverySteps > 0 && step.Step % options.CheckpointEverySteps == 0)
                    lastCheckpoint = SaveStepCheckpoint(checkpoints, trainer, state, options.KeepCheckpoints);
                if (options.MaxStepsThisRun > 0 && stepsThisRun >= options.MaxStepsThisRun)
                    return new TrainingResult(state, lastCheckpoint, best, StoppedEarly: false);
            }

            var metrics = validation is null
                ? new EpochMetrics(epoch + 1, trainer.Step, lossSum / Math.Max(1, lossCount), double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, clock.Elapsed.TotalSeconds)
                : StopOnUnreadableClip(() => Validate(trainer, validation, validationAssembler, options, epoch + 1,
                    lossSum / Math.Max(1, lossCount), clock, validationBuffer));
            bool improved = validation is null || metrics.GreedyCer < state.BestValidationCer;
            state = state with
            {
                Epoch = epoch + 1,
                BatchInEpoch = 0,
                EpochLossSum = 0,
                EpochLossCount = 0,
                Epochs = [.. state.Epochs, metrics],
                BestValidationCer = improved && validation is not null ? metrics.GreedyCer : state.BestValidationCer,
                BestEpoch = improved ? epoch + 1 : state.BestEpoch,
                EpochsWithoutImprovement = improved ? 0 : state.EpochsWithoutImprovement + 1,
            };
            epochsCsv.Append(string.Join(',', Fields(metrics.Epoch, metrics.Step, metrics.TrainLoss, metrics.ValidationLoss, metrics.GreedyCer,
                metrics.GreedyWer, metrics.GreedyCerMean, metrics.GreedyWerMean, metrics.BeamCer, metrics.BeamWer, metrics.BeamCerMean, metrics.BeamWerMean, metrics.Seconds)));
            if (validation is null)
                logger.LogInformation("Epoch {Epoch}: train_loss={TrainLoss:F4} ({Seconds:F0} s)", metrics.Epoch, metrics.TrainLoss, metrics.Seconds);
            else
                logger.LogInformation("Epoch {Epoch}: train_loss={TrainLoss:F4} val_loss={ValLoss:F4} val_cer={Cer:F4} val_wer={Wer:F4} beam_cer={BeamCer:F4} beam_wer={BeamWer:F4} ({Seconds:F0} s)",
                    metrics.Epoch, metrics.TrainLoss, metrics.ValidationLoss, metrics.GreedyCer, metrics.GreedyWer, metrics.BeamCer, metrics.BeamWer, metrics.Seconds);
            lastCheckpoint = SaveStepCheckpoint(checkpoints, trainer, state, options.KeepCheckpoints);
            if (improved)
            {
                best = Path.Combine(outputDirectory, BestFolder);
                TrainingCheckpoint.Save(best, trainer, state);
            }
            epochEnded?.Invoke(state);
            if (options.Patience > 0 && state.EpochsWithoutImprovement >= options.Patience)
            {
                logger.LogInformation("Early stop: no better validation CER for {Patience} epochs (best {Best:F4} at epoch {Epoch})", options.Patience, state.BestValidationCer, state.BestEpoch);
                stoppedEarly = true;
                break;
            }
        }
        return new TrainingResult(state, lastCheckpoint, best, stoppedEarly);
    }

    private static string SaveStepCheckpoint(string root, LipNetTrainer trainer, TrainingState state, int keep)
    {
        string path = Path.Combine(root, $"step-{state.Step:D7}");
        TrainingCheckpoint.Save(path, trainer, state);
        var old = Directory.GetDirectories(root, "step-*").Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && !d.EndsWith(".old", StringComparison.Ordinal))
            .OrderBy(d => d, StringComparer.Ordinal).ToList();
        foreach (var dir in old.Take(Math.Max(0, old.Count - Math.Max(1, keep))))
            Directory.Delete(dir, recursive: true);
        return path;
    }

    /// <summary>
    /// <see cref="Run"/> on a worker thread, for callers that must not block (a UI, a hosted service): the same run, the same
    /// checkpoints, the same exceptions (through the task). Cancelling stops before the next step; resume from
    /// <see cref="LatestCheckpoint"/>.
    /// </summary>
    /// <inheritdoc cref="Run" path="/param"/>
    /// <returns>A task with the final state, the last and best checkpoint paths, and whether early stopping ended the run.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled (through the task).</exception>
    public static Task<TrainingResult> RunAsync(LipNetArchitecture architecture, ITrainingClips train, ITrainingClips? validation, string outputDirectory,
        TrainingRunOptions options, string? resumeFrom = null, ILogger? logger = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default, Action<TrainingState>? epochEnded = null) =>
        Task.Run(() => Run(architecture, train, validation, outputDirectory, options, resumeFrom, logger, progress, cancellation, epochEnded), cancellation);

    /// <summary>The newest complete step checkpoint under a run's output directory, or null.</summary>
    public static string? LatestCheckpoint(string outputDirectory)
    {
        string root = Path.Combine(outputDirectory, CheckpointsFolder);
        return Directory.Exists(root)
            ? Directory.GetDirectories(root, "step-*").Where(d => File.Exists(Path.Combine(d, TrainingCheckpoint.StateFile)) && !d.EndsWith(".tmp", StringComparison.Ordinal))
                .OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
    }

    private static EpochMetrics Validate(LipNetTrainer trainer, ITrainingClips validation, TrainingBatchAssembler assembler, TrainingRunOptions options,
        int epoch, double trainLoss, System.Diagnostics.Stopwatch clock, Memory<float> buffer)
    {
        var (references, greedy, beam, loss) = Transcribe(trainer, validation, assembler, options.ValidationBeam, buffer);
        var g = ErrorRates.Summarize(ErrorRates.Pair(references, greedy, null));
        var bm = beam is null ? null : ErrorRates.Summarize(ErrorRates.Pair(references, beam, null));
        return new EpochMetrics(epoch, trainer.Step, trainLoss, loss, g.Cer, g.Wer, g.CerMean, g.WerMean, bm?.Cer ?? double.NaN, bm?.Wer ?? double.NaN,
            bm?.CerMean ?? double.NaN, bm?.WerMean ?? double.NaN, clock.Elapsed.TotalSeconds, references.Count);
    }

    /// <summary>Greedy (and beam + GRID grammar when <paramref name="beamWidth"/> &gt; 0) transcriptions of every clip, and the mean CTC loss.</summary>
    public static (List<string> References, List<string> Greedy, List<string>? Beam, double Loss) Transcribe(LipNetTrainer trainer, ITrainingClips clips,
        TrainingBatchAssembler assembler, int beamWidth, Memory<float>? buffer = null)
    {
        int batch = trainer.Options.BatchSize, frames = trainer.Architecture.Frames, width = trainer.Architecture.VocabularySize;
        var greedyDecoder = new GreedyCtcDecoder(trainer.Vocabulary, inputsAreLogProbs: true);
        var beamDecoder = beamWidth > 0
            ? new BeamSearchCtcDecoder(trainer.Vocabulary, new BeamSearchOptions { BeamWidth = beamWidth, Constraint = SpellingConstraint.Grid(trainer.Vocabulary) }, inputsAreLogProbs: true)
            : null;
        List<string> references = [], greedy = [];
        var beam = beamDecoder is null ? null : new List<string>();
        double loss = 0;
        // Pass one buffer for every call: a buffer at a fixed address keeps ONNX Runtime's results bit-identical between runs.
        buffer ??= AlignedMemory.Allocate(batch * trainer.Architecture.Channels * frames * trainer.Architecture.Height * trainer.Architecture.Width);
        for (int start = 0; start < clips.Count; start += batch)
        {
            int real = Math.Min(batch, clips.Count - start);
            var indices = Enumerable.Range(start, batch).Select(i => Math.Min(i, clips.Count - 1)).ToArray();
            var data = assembler.Assemble(clips, indices, 0, 0, 0, buffer);
            var logProbs = trainer.Predict(data.Video);
            var losses = CtcLoss.ComputeBatch(logProbs, BatchLayout.BatchFirst, batch, frames, width, data.Targets, data.Lengths, trainer.Vocabulary.BlankId,
                new float[logProbs.Length], out _, CtcReduction.Mean, zeroInfinity: true);
            var lengths = data.Lengths.ToArray();
            var g = greedyDecoder.DecodeBatch(logProbs, BatchLayout.BatchFirst, batch, frames, lengths);
            var bm = beamDecoder?.DecodeBatch(logProbs, BatchLayout.BatchFirst, batch, frames, lengths);
            for (int i = 0; i < real; i++)
            {
                references.Add(clips.Describe(indices[i]).Sentence);
                greedy.Add(g[i].Text);
                beam?.Add(bm![i].Text);
                loss += losses[i] / Math.Max(1, data.Targets[i].Length); // per character, as the training loss (reduction Mean)
            }
        }
        return (references, greedy, beam, loss / Math.Max(1, clips.Count));
    }

    private static IEnumerable<string> Fields(params double[] values) => values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture));

    /// <summary>
    /// A metrics CSV that survives resume: rows keyed by step; opening it drops rows past <c>keepThroughStep</c>
    /// (logged after the checkpoint being resumed), so a resumed run's file reads as one uninterrupted run.
    /// </summary>
    private sealed class MetricsCsv
    {
        private readonly string _path;

        public MetricsCsv(string path, string header, int stepColumn, int keepThroughStep)
        {
            _path = path;
            var kept = new List<string> { header };
            if (keepThroughStep > 0 && File.Exists(path))
                kept.AddRange(File.ReadLines(path).Skip(1).Where(line =>
                    double.TryParse(line.Split(',')[stepColumn], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s <= keepThroughStep));
            File.WriteAllLines(path, kept);
        }

        public void Append(string row) => File.AppendAllLines(_path, [row]);
    }
}
