using System.Text.Json;
using LipNet.ML.Audio;
using LipNet.ML.Corpora;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Tensors;
using LipNet.ML.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LipNet.ML.LipToSpeech;

/// <summary>A lip-to-speech model's measured accuracy on held-out clips against each clip's own audio.</summary>
/// <param name="TestSet">What was measured (e.g. "GRID s1 (list:onnx/splits/s1-validation.txt)").</param>
/// <param name="Clips">Clips measured.</param>
/// <param name="Stoi">Mean STOI (Taal et al. 2011) of the vocoded speech, in [0, 1] (1 = the original's intelligibility).</param>
/// <param name="Estoi">Mean extended STOI (Jensen and Taal 2016).</param>
/// <param name="MelL1">Mean absolute difference of predicted and true log-mel values (natural log of power).</param>
public sealed record SpeechAccuracy(string TestSet, int Clips, double Stoi, double Estoi, double MelL1);

/// <summary>
/// The card of a lip-to-speech model, JSON in its ONNX <c>metadata_props</c> under <see cref="MetadataKey"/>: how the mouth is
/// cropped and normalised (as the lipreading model it started from), how the mel is made and standardised, the vocoder's
/// settings, and the measured accuracy.
/// </summary>
public sealed record LipToSpeechCard
{
    /// <summary>The ONNX metadata key holding the card.</summary>
    public const string MetadataKey = "lipnet.lip2speech_card";

    /// <summary>Model name.</summary>
    public string Name { get; init; } = "lip2speech";

    /// <summary>Video frames per second the model reads (videos are resampled to it).</summary>
    public double Fps { get; init; } = 25;

    /// <summary>The crop profile of the mouth crops (<see cref="Mouth.CropProfile"/> name).</summary>
    public string CropProfile { get; init; } = Mouth.CropProfile.MouthCentred.Name;

    /// <summary>How crops are normalised into the input tensor (channel order, mean, standard deviation; frames = the visual model's).</summary>
    public FrameNormalizeOptions Normalize { get; init; } = new();

    /// <summary>How the log-mel targets are made from audio (16 kHz, 4 frames per video frame, 80 bands by default).</summary>
    public SpeechFeatureOptions Mel { get; init; } = new() { FeaturesPerVideoFrame = 4 };

    /// <summary>Per mel band, the training clips' mean log-mel (the output is standardised: multiply by <see cref="MelStd"/>, add this).</summary>
    public float[] MelMean { get; init; } = [];

    /// <summary>Per mel band, the training clips' standard deviation of the log-mel.</summary>
    public float[] MelStd { get; init; } = [];

    /// <summary>The network's sizes.</summary>
    public LipToSpeechArchitecture? Architecture { get; init; }

    /// <summary>How the model was made, free text.</summary>
    public string Provenance { get; init; } = "";

    /// <summary>Measured accuracy, one entry per test set.</summary>
    public IReadOnlyList<SpeechAccuracy> Accuracy { get; init; } = [];

    /// <summary>The card as snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, OnnxMetadata.CardJson);

    /// <summary>A card from its JSON.</summary>
    /// <param name="json">JSON written by <see cref="ToJson"/>.</param>
    /// <param name="source">Names the model in errors.</param>
    /// <exception cref="ModelLoadException">The JSON is not a card.</exception>
    public static LipToSpeechCard FromJson(string json, string source) => OnnxMetadata.ParseCard<LipToSpeechCard>(json, source, "lip-to-speech card");
}

/// <summary>Settings of <see cref="LipToSpeechTraining.Train"/>.</summary>
public sealed record LipToSpeechTrainingOptions
{
    /// <summary>Batch size, optimizer, schedule (its total steps are set from the epochs), dropout, seed.</summary>
    public TrainerOptions Trainer { get; init; } = new() { BatchSize = 8, LearningRate = 1e-3f, WarmupSteps = 50, Dropout = 0.1f };

    /// <summary>Passes over the training clips (default 20).</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>How the log-mel targets are made (80 bands, 4 frames per video frame at 25 fps, 16 kHz by default).</summary>
    public SpeechFeatureOptions Mel { get; init; } = new() { FeaturesPerVideoFrame = 4 };

    /// <summary>
    /// Augmentation of the training crops. Default: horizontal flips only (speech does not change with a mirror);
    /// <see cref="FrameAugmentOptions.Full"/>'s shifts, zoom, brightness and contrast and <see cref="FrameAugmentOptions.Strong"/>'s
    /// time masks (the audio target stays: the model fills the gap from context) may be added. Frame drop/duplicate, word spans
    /// and word splices must stay 0: they would misalign the video with its audio.
    /// </summary>
    public FrameAugmentOptions Augment { get; init; } = new() { FrameJitterProbability = 0 };

    /// <summary>Epoch checkpoints kept. Default 2.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Text recorded in the exported card's provenance.</summary>
    public string Provenance { get; init; } = "";
}

/// <summary>
/// Trains lip-to-speech models: <see cref="LipToSpeechModel"/> on a corpus's mouth crops (the lipreading front end, cached) and
/// each clip's own audio as standardised log-mel targets, L1 loss, the <see cref="EpochLoop"/> (a checkpoint per epoch, exact
/// resume), the best epoch by validation mel L1 exported with its <see cref="LipToSpeechCard"/>.
/// </summary>
public static class LipToSpeechTraining
{
    /// <summary>The exported best model: <c>{output}/model.onnx</c>.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>
    /// The clips' log-mel targets, [4T, 80] each with T the crops' frame count (the audio is read at the mel's sample rate).
    /// Clips whose audio cannot be read are returned as failures (named with the reason).
    /// </summary>
    /// <param name="items">The clips.</param>
    /// <param name="frames">Video frames per clip (the model's window; the mel is padded or cut to it).</param>
    /// <param name="mel">How the log-mel is made.</param>
    /// <returns>One target per readable clip (null for the others) and the failures.</returns>
    public static (float[]?[] Targets, List<TranscriptionFailure> Failures) MelTargets(IReadOnlyList<CorpusItem> items, int frames, SpeechFeatureOptions mel)
    {
        ArgumentNullException.ThrowIfNull(items);
        var targets = new float[]?[items.Count];
        var failures = new System.Collections.Concurrent.ConcurrentBag<TranscriptionFailure>();
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, () => new SpeechFeatureExtractor(mel), (i, _, extractor) =>
        {
            try
            {
                var audio = AudioReader.Read(items[i].VideoPath, new AudioReadOptions { SampleRate = mel.SampleRate });
                targets[i] = extractor.LogMel(audio, frames).Values;
            }
            catch (LipNetException ex)
            {
                failures.Add(new TranscriptionFailure(items[i].VideoPath, ex.Message));
            }
            return extractor;
        }, _ => { });
        return (targets, failures.OrderBy(f => f.Source, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Trains a lip-to-speech model; with <paramref name="resume"/> it continues from the newest checkpoint in
    /// <paramref name="outputDirectory"/>.
    /// </summary>
    /// <param name="train">Training clips (crops) with their mel targets in <paramref name="trainMel"/> (same order).</param>
    /// <param name="trainMel">[4T, 80] log-mel per training clip.</param>
    /// <param name="validation">Validation clips (never trained on); may be empty.</param>
    /// <param name="validationMel">[4T, 80] log-mel per validation clip.</param>
    /// <param name="lipreadingModel">The lipreading ONNX model (bytes; e.g. <see cref="LipNetModel.DefaultModelBytes"/>) whose front end, crop
    /// profile and normalisation the model starts from.</param>
    /// <param name="lipreadingSource">Names that model in errors and the card's provenance.</param>
    /// <param name="outputDirectory">Checkpoints, <see cref="EpochLoop.EpochsCsv"/> and <see cref="ModelFile"/> go here.</param>
    /// <param name="options">Settings; null = defaults.</param>
    /// <param name="resume">Continue from the newest checkpoint when there is one.</param>
    /// <param name="logger">Epoch summaries; null = none.</param>
    /// <param name="progress">Told after every step; null = none.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    /// <returns>The final state.</returns>
    /// <exception cref="ArgumentException">The clip and target counts differ, there are no training clips, or the augmentation drops or
    /// duplicates frames.</exception>
    /// <exception cref="TensorShapeException">The lipreading model's card has no architecture, or its weights do not fit it.</exception>
    /// <exception cref="ModelLoadException">The lipreading model cannot be loaded.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static EpochLoopState Train(ITrainingClips train, IReadOnlyList<float[]> trainMel, ITrainingClips validation, IReadOnlyList<float[]> validationMel,
        byte[] lipreadingModel, string lipreadingSource, string outputDirectory, LipToSpeechTrainingOptions? options = null, bool resume = false, ILogger? logger = null,
        IProgress<StepResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(lipreadingModel);
        options ??= new LipToSpeechTrainingOptions();
        logger ??= NullLogger.Instance;
        if (train.Count == 0 || train.Count != trainMel.Count || validation.Count != validationMel.Count)
            throw new ArgumentException($"{train.Count} training clips with {trainMel.Count} targets, {validation.Count} validation clips with {validationMel.Count}");
        if (options.Augment.FrameJitterProbability > 0)
            throw new ArgumentException("frame drop/duplicate would misalign the video with its audio targets: set FrameJitterProbability to 0", nameof(options));
        if (options.Augment.WordSpanProbability > 0 || options.Augment.WordSpliceProbability > 0)
            throw new ArgumentException("word spans and splices would cut the video away from its audio targets: set both to 0",
                nameof(options));
        ModelCard lipCard;
        using (var lipreading = LipNetModel.Load(lipreadingModel, lipreadingSource))
            lipCard = lipreading.Card;
        var visual = lipCard.Architecture ?? throw new TensorShapeException("the lipreading model's card names no architecture", lipreadingSource);
        var architecture = new LipToSpeechArchitecture(visual, options.Mel.MelBands, options.Mel.FeaturesPerVideoFrame);
        var model = new LipToSpeechModel(architecture);
        int batch = Math.Max(1, options.Trainer.BatchSize), stepsPerEpoch = (train.Count + batch - 1) / batch;
        var weights = LipNetGraph.ReadWeights(visual, lipreadingModel, lipreadingSource);
        using var trainer = new Trainer(model, options.Trainer with { TotalSteps = Math.Max(1, options.Epochs * stepsPerEpoch) },
            model.InitialParametersFrom(weights, options.Trainer.Seed));
        var state = resume ? EpochLoop.Resume(outputDirectory, trainer) : null;
        if (state is not null)
            logger.LogInformation("Resumed after epoch {Epoch} (step {Step})", state.Epoch, state.Step);
        var (mean, std) = ColumnStatistics.MeanAndStd(trainMel, options.Mel.MelBands);
        var card = state is not null ? LipToSpeechCard.FromJson(state.Card, outputDirectory) : new LipToSpeechCard
        {
            Fps = lipCard.Fps,
            CropProfile = lipCard.Profile().Name,
            Normalize = lipCard.NormalizeOptions() with { FrameCount = visual.Frames, Layout = TensorLayout.CTHW },
            Mel = options.Mel,
            MelMean = mean,
            MelStd = std,
            Architecture = architecture,
            Provenance = $"{options.Provenance} (front end from {lipreadingSource}; {train.Count} training clips; {validation.Count} held-out validation clips, never trained on, select the best epoch)".Trim(),
        };
        state ??= new EpochLoopState { Card = card.ToJson() };
        var standardise = (float[] m) => ColumnStatistics.Standardise(m, card.MelMean, card.MelStd);
        var trainTargets = trainMel.Select(standardise).ToList();
        var validationTargets = validationMel.Select(standardise).ToList();
        var assembler = new TrainingBatchAssembler(card.Normalize, options.Augment,
            Decoding.CtcVocabulary.Grid(Decoding.BlankPosition.First));
        var evaluation = new TrainingBatchAssembler(card.Normalize, null, Decoding.CtcVocabulary.Grid(Decoding.BlankPosition.First));
        int melFrames = visual.Frames * architecture.MelPerFrame, melValues = melFrames * architecture.MelBands;
        var video = AlignedMemory.Allocate(batch * visual.Channels * visual.Frames * visual.Height * visual.Width);
        var targets = new float[batch * melValues];
        int[] order = [];
        ModelBatch Batch(int epoch, int step)
        {
            if (step == 0)
            {
                var random = new Random(StableSeed.Combine(options.Trainer.Seed, epoch + 1));
                order = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).ToArray();
            }
            var indices = Enumerable.Range(0, batch).Select(b => order[(step * batch + b) % order.Length]).ToArray();
            var assembled = assembler.Assemble(train, indices, options.Trainer.Seed, epoch, step * batch, video);
            var lengths = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                var target = trainTargets[Source(train, indices[b])];
                target.AsSpan(0, Math.Min(melValues, target.Length)).CopyTo(targets.AsSpan(b * melValues, melValues));
                lengths[b] = Math.Min(assembled.Lengths[b] * architecture.MelPerFrame, target.Length / architecture.MelBands);
            }
            return new ModelBatch([video], new RegressionTargets(targets, lengths));
        }
        double Validate()
        {
            double sum = 0;
            long count = 0;
            for (int first = 0; first < validation.Count; first += batch)
            {
                var indices = Enumerable.Range(first, batch).Select(i => Math.Min(i, validation.Count - 1)).ToArray();
                var assembled = evaluation.Assemble(validation, indices, 0, 0, 0, video);
                var predicted = trainer.Predict([video]);
                for (int b = 0; b < batch && first + b < validation.Count; b++)
                {
                    var truth = validationTargets[Source(validation, indices[b])];
                    int n = Math.Min(assembled.Lengths[b] * architecture.MelPerFrame * architecture.MelBands, truth.Length);
                    for (int i = 0; i < n; i++)
                    {
                        // In log-mel units (the card's deviation undoes the standardisation), as the evaluation reports it.
                        sum += Math.Abs(predicted[b * melValues + i] - truth[i]) * card.MelStd[i % architecture.MelBands];
                        count++;
                    }
                }
            }
            return count == 0 ? double.NaN : sum / count;
        }
        return EpochLoop.Run(trainer, state, outputDirectory, options.Epochs, stepsPerEpoch, Batch, validation.Count == 0 ? null : Validate,
            _ => Export(model, trainer, card, Path.Combine(outputDirectory, ModelFile)), options.KeepCheckpoints, logger, progress, cancellationToken);
    }

    /// <summary>The clip whose crops a set returns for an index: a skipped clip's stand-in brings its own audio target.</summary>
    private static int Source(ITrainingClips clips, int index) => clips is SkippingTrainingClips skipping ? skipping.StandIn(index) : index;

    private static void Export(LipToSpeechModel model, Trainer trainer, LipToSpeechCard card, string path) =>
        OnnxMetadata.WriteModel(model.BuildInference(trainer.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray()),
            new Dictionary<string, string> { [LipToSpeechCard.MetadataKey] = card.ToJson() }), path);
}
