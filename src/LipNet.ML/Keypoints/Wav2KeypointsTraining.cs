using System.Numerics;
using LipNet.ML.Audio;
using LipNet.ML.Runtime;
using LipNet.ML.Tensors;
using LipNet.ML.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LipNet.ML.Keypoints;

/// <summary>One clip's WAV2KP data: its audio features and its true keypoints, frame for frame.</summary>
/// <param name="Video">The clip's path.</param>
/// <param name="Mfcc">[T, <paramref name="MfccCount"/>] MFCCs, one row per video frame (its k feature frames side by side; not standardised).</param>
/// <param name="MfccCount">Audio values per video frame: MFCC coefficients x feature frames per video frame.</param>
/// <param name="Targets">[T, 80] normalised lip keypoints (<see cref="LipKeypoints"/>).</param>
/// <param name="Frames">T, the clip's video frames.</param>
public sealed record KeypointClip(string Video, float[] Mfcc, int MfccCount, float[] Targets, int Frames);

/// <summary>Settings of <see cref="Wav2KeypointsTraining.Train"/>.</summary>
public sealed record Wav2KeypointsTrainingOptions
{
    /// <summary>Batch size, optimizer, schedule (its <see cref="TrainerOptions.TotalSteps"/> is set from the epochs), dropout, seed.</summary>
    public TrainerOptions Trainer { get; init; } = new() { BatchSize = 8, LearningRate = 2e-3f, WarmupSteps = 50, Dropout = 0.1f };

    /// <summary>Passes over the training clips (default 30).</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Frames per training window (default 75: a whole GRID clip); longer clips give a random window each epoch.</summary>
    public int Frames { get; init; } = 75;

    /// <summary>Frames of audio context on each side (default 2: 5 frames, 0.2 s at 25 fps).</summary>
    public int Context { get; init; } = 2;

    /// <summary>GRU hidden units per direction (default 128).</summary>
    public int GruHidden { get; init; } = 128;

    /// <summary>Bidirectional GRU layers (default 2).</summary>
    public int GruLayers { get; init; } = 2;

    /// <summary>How MFCCs are made (sample rate 16 kHz, one frame per video frame at 25 fps, 13 coefficients by default).</summary>
    public SpeechFeatureOptions Features { get; init; } = new();

    /// <summary>Epoch checkpoints kept (the newest; the best is kept apart). Default 2.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>
    /// The training loss: <see cref="L1Loss"/> (default, what the shipped model used) or <see cref="MseLoss"/> (the square of
    /// the RMSE the model is judged by).
    /// </summary>
    public ITrainingLoss Loss { get; init; } = new L1Loss();

    /// <summary>
    /// Standard deviation of Gaussian noise added to the standardised audio features of each training window (0 = none):
    /// an augmentation against overfitting one speaker's clips. Validation and inference see clean features.
    /// </summary>
    public float FeatureNoise { get; init; }

    /// <summary>Text recorded in the exported card's provenance (e.g. the command line).</summary>
    public string Provenance { get; init; } = "";
}

/// <summary>
/// Trains and evaluates WAV2KP models (audio → mouth keypoints) with the generic <see cref="Trainer"/> over a
/// <see cref="SequenceRegressionModel"/>: L1 loss on the normalised lip keypoints, MFCC standardisation and mean pose from the
/// training clips, a checkpoint per epoch (resumable: a run continued from its newest checkpoint ends with the weights of an
/// uninterrupted run), the best epoch by validation RMSE exported as an ONNX model with its <see cref="Wav2KeypointsCard"/>.
/// </summary>
public static class Wav2KeypointsTraining
{
    /// <summary>The exported best model: <c>{output}/model.onnx</c>.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>
    /// A clip's data: its audio's MFCCs and its video's keypoints, frame for frame (the keypoints decide T; the audio is read
    /// at the features' sample rate and cut or padded to T frames).
    /// </summary>
    /// <param name="video">A video with a face and an audio track.</param>
    /// <param name="features">The MFCC extractor.</param>
    /// <param name="keypoints">The keypoint extractor (cached).</param>
    /// <exception cref="AudioDecodeException">The audio cannot be read or is missing.</exception>
    /// <exception cref="VideoDecodeException">The video cannot be read.</exception>
    /// <exception cref="MouthLocatorException">No face is found.</exception>
    public static KeypointClip Prepare(string video, SpeechFeatureExtractor features, KeypointExtractor keypoints)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(keypoints);
        var targets = keypoints.Extract(video);
        var audio = AudioReader.Read(video, new AudioReadOptions { SampleRate = features.Options.SampleRate });
        var mfcc = features.Mfcc(audio, targets.Frames);
        return new KeypointClip(video, mfcc.Values, mfcc.FeatureCount * mfcc.FeaturesPerVideoFrame, targets.Points, targets.Frames);
    }

    /// <summary>
    /// Trains a WAV2KP model (<see cref="EpochLoop"/>: a checkpoint per epoch, the best by validation RMSE exported as
    /// <see cref="ModelFile"/>); with <paramref name="resume"/> it continues from the newest checkpoint in
    /// <paramref name="outputDirectory"/> (same clips and options).
    /// </summary>
    /// <param name="train">Training clips, at least one.</param>
    /// <param name="validation">Validation clips for model selection (never trained on); empty = the last epoch is the best.</param>
    /// <param name="outputDirectory">Checkpoints, <see cref="EpochLoop.EpochsCsv"/> and <see cref="ModelFile"/> go here.</param>
    /// <param name="options">The run's settings; null = defaults.</param>
    /// <param name="resume">Continue from the newest checkpoint when there is one.</param>
    /// <param name="logger">Epoch summaries; null = none.</param>
    /// <param name="progress">Told after every step; null = none.</param>
    /// <param name="cancellationToken">Checked before each step; the newest checkpoint stays usable.</param>
    /// <returns>The final state (epochs with their validation RMSE, the best epoch, the card as JSON).</returns>
    /// <exception cref="ArgumentException"><paramref name="train"/> is empty or a clip's audio values per frame differ from the options'.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static EpochLoopState Train(IReadOnlyList<KeypointClip> train, IReadOnlyList<KeypointClip> validation, string outputDirectory,
        Wav2KeypointsTrainingOptions? options = null, bool resume = false, ILogger? logger = null, IProgress<StepResult>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        options ??= new Wav2KeypointsTrainingOptions();
        logger ??= NullLogger.Instance;
        if (train.Count == 0)
            throw new ArgumentException("no training clips", nameof(train));
        int mfccCount = options.Features.MfccCount * options.Features.FeaturesPerVideoFrame;
        if (train.Concat(validation).Any(c => c.MfccCount != mfccCount))
            throw new ArgumentException($"the clips do not all have {mfccCount} audio values per frame (the options' MFCCs x feature frames per video frame)", nameof(train));
        Directory.CreateDirectory(outputDirectory);
        int batch = Math.Max(1, options.Trainer.BatchSize);
        int stepsPerEpoch = (train.Count + batch - 1) / batch;
        var architecture = new SequenceRegressionArchitecture("wav2kp", options.Frames, (2 * options.Context + 1) * mfccCount, options.GruHidden,
            options.GruLayers, LipKeypoints.Values);
        var model = new SequenceRegressionModel(architecture, options.Loss);
        using var trainer = new Trainer(model, options.Trainer with { TotalSteps = Math.Max(1, options.Epochs * stepsPerEpoch) });
        var state = resume ? EpochLoop.Resume(outputDirectory, trainer) : null;
        if (state is not null)
            logger.LogInformation("Resumed after epoch {Epoch} (step {Step})", state.Epoch, state.Step);
        var (mean, std) = ColumnStatistics.MeanAndStd(train.Select(c => c.Mfcc).ToList(), mfccCount);
        var card = state is not null ? Wav2KeypointsCard.FromJson(state.Card, outputDirectory) : new Wav2KeypointsCard
        {
            Fps = options.Features.FrameRate,
            Features = options.Features,
            Context = options.Context,
            FeatureMean = mean,
            FeatureStd = std,
            MeanPose = MeanPose(train),
            Architecture = architecture,
            Provenance = $"{options.Provenance} ({train.Count} training clips; {validation.Count} held-out validation clips, never trained on, select the best epoch)".Trim(),
        };
        state ??= new EpochLoopState { Card = card.ToJson() };
        var trainInputs = train.Select(c => Inputs(c, card)).ToList();
        var validationInputs = validation.Select(c => Inputs(c, card)).ToList();
        int width = architecture.InputFeatures, frames = options.Frames;
        var features = AlignedMemory.Allocate(batch * frames * width);
        var targets = new float[batch * frames * LipKeypoints.Values];
        int[] order = [];
        var random = new Random(0);
        ModelBatch Batch(int epoch, int step)
        {
            if (step == 0)
            {
                random = new Random(StableSeed.Combine(options.Trainer.Seed, epoch + 1));
                order = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).ToArray();
            }
            var lengths = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                int index = order[(step * batch + b) % order.Length];
                int start = train[index].Frames > frames ? random.Next(train[index].Frames - frames + 1) : 0;
                var window = features.Span.Slice(b * frames * width, frames * width);
                lengths[b] = Window(trainInputs[index], train[index], start, frames, width, window,
                    targets.AsSpan(b * frames * LipKeypoints.Values, frames * LipKeypoints.Values));
                if (options.FeatureNoise > 0)
                    foreach (ref float v in window[..(lengths[b] * width)])
                        v += options.FeatureNoise * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            }
            return new ModelBatch([features], new RegressionTargets(targets, lengths));
        }
        return EpochLoop.Run(trainer, state, outputDirectory, options.Epochs, stepsPerEpoch, Batch,
            validation.Count == 0 ? null : () => ValidationRmse(trainer, validation, validationInputs, frames, width, batch),
            _ => Export(model, trainer, card, Path.Combine(outputDirectory, ModelFile)), options.KeepCheckpoints, logger, progress, cancellationToken);
    }

    private static void Export(SequenceRegressionModel model, Trainer trainer, Wav2KeypointsCard card, string path) =>
        Onnx.OnnxMetadata.WriteModel(model.BuildInference(trainer.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray()),
            new Dictionary<string, string> { [Wav2KeypointsCard.MetadataKey] = card.ToJson() }), path);

    /// <summary>A clip's model input (standardised MFCCs with context, [T, width]).</summary>
    private static float[] Inputs(KeypointClip clip, Wav2KeypointsCard card) =>
        KeypointFeatures.Stack(clip.Mfcc, clip.Frames, clip.MfccCount, card.FeatureMean, card.FeatureStd, card.Context);

    /// <summary>Copies frames [start, start + frames) of a clip into a window (zeros past its end); returns the real frame count.</summary>
    private static int Window(float[] inputs, KeypointClip clip, int start, int frames, int width, Span<float> features, Span<float> targets)
    {
        int length = Math.Min(frames, clip.Frames - start);
        features.Clear();
        targets.Clear();
        inputs.AsSpan(start * width, length * width).CopyTo(features);
        clip.Targets.AsSpan(start * LipKeypoints.Values, length * LipKeypoints.Values).CopyTo(targets);
        return length;
    }

    private static double ValidationRmse(Trainer trainer, IReadOnlyList<KeypointClip> clips, List<float[]> inputs, int frames, int width, int batch)
    {
        var features = AlignedMemory.Allocate(batch * frames * width);
        var targets = new float[batch * frames * LipKeypoints.Values];
        double sum = 0;
        long count = 0;
        for (int first = 0; first < clips.Count; first += batch)
        {
            var lengths = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                int index = Math.Min(first + b, clips.Count - 1);
                lengths[b] = Window(inputs[index], clips[index], 0, frames, width, features.Span.Slice(b * frames * width, frames * width),
                    targets.AsSpan(b * frames * LipKeypoints.Values, frames * LipKeypoints.Values));
            }
            var predicted = trainer.Predict([features]);
            for (int b = 0; b < batch && first + b < clips.Count; b++)
            {
                int n = lengths[b] * LipKeypoints.Values, offset = b * frames * LipKeypoints.Values;
                var (s, c) = LipKeypoints.SquaredError(predicted.AsSpan(offset, n), targets.AsSpan(offset, n));
                sum += s;
                count += c;
            }
        }
        return count == 0 ? double.NaN : Math.Sqrt(sum / count);
    }

    /// <summary>The mean of every training frame's 80 keypoint values.</summary>
    internal static float[] MeanPose(IReadOnlyList<KeypointClip> clips)
    {
        var (mean, _) = ColumnStatistics.MeanAndStd(clips.Select(c => c.Targets).ToList(), LipKeypoints.Values);
        return mean;
    }

    /// <summary>
    /// RMSE of <paramref name="model"/> on <paramref name="test"/> clips (whole clips, any length), with the two baselines: the
    /// card's mean pose for every frame, and the keypoints of the <paramref name="reference"/> frame nearest by the model's
    /// input features (standardised MFCCs with context; squared Euclidean distance). Pooled over every frame and value.
    /// </summary>
    /// <param name="model">The model to measure.</param>
    /// <param name="test">Held-out clips.</param>
    /// <param name="reference">Clips the nearest-neighbour baseline searches (the training clips); empty = each test clip searches the others.</param>
    /// <param name="testSet">Names the test set in the result.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentException"><paramref name="test"/> is empty.</exception>
    public static KeypointAccuracy Evaluate(Wav2Keypoints model, IReadOnlyList<KeypointClip> test, IReadOnlyList<KeypointClip> reference, string testSet)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(reference);
        if (test.Count == 0)
            throw new ArgumentException("no test clips", nameof(test));
        var card = model.Card;
        int width = card.InputFeatures;
        var testInputs = test.Select(c => Inputs(c, card)).ToList();
        bool leaveOneOut = reference.Count == 0;
        var references = leaveOneOut ? test : reference;
        var referenceInputs = leaveOneOut ? testInputs : references.Select(c => Inputs(c, card)).ToList();
        double modelSum = 0, meanSum = 0, nnSum = 0;
        long count = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var clip = test[i];
            var predicted = model.PredictFeatures(testInputs[i], clip.Frames);
            modelSum += LipKeypoints.SquaredError(predicted, clip.Targets).Sum;
            var meanPrediction = new float[clip.Targets.Length];
            for (int t = 0; t < clip.Frames; t++)
                card.MeanPose.CopyTo(meanPrediction, t * LipKeypoints.Values);
            meanSum += LipKeypoints.SquaredError(meanPrediction, clip.Targets).Sum;
            var nearest = new float[clip.Targets.Length];
            Parallel.For(0, clip.Frames, t =>
            {
                var query = testInputs[i].AsSpan(t * width, width);
                float bestDistance = float.PositiveInfinity;
                (int Clip, int Frame) best = (0, 0);
                for (int r = 0; r < references.Count; r++)
                {
                    if (leaveOneOut && r == i)
                        continue;
                    var frames = referenceInputs[r];
                    for (int u = 0; u < references[r].Frames; u++)
                    {
                        float d = SquaredDistance(query, frames.AsSpan(u * width, width));
                        if (d < bestDistance)
                            (bestDistance, best) = (d, (r, u));
                    }
                }
                references[best.Clip].Targets.AsSpan(best.Frame * LipKeypoints.Values, LipKeypoints.Values)
                    .CopyTo(nearest.AsSpan(t * LipKeypoints.Values, LipKeypoints.Values));
            });
            nnSum += LipKeypoints.SquaredError(nearest, clip.Targets).Sum;
            count += clip.Targets.Length;
        }
        return new KeypointAccuracy(testSet, test.Count, Math.Sqrt(modelSum / count), Math.Sqrt(meanSum / count), Math.Sqrt(nnSum / count));
    }

    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = Vector<float>.Zero;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var d = new Vector<float>(a.Slice(i)) - new Vector<float>(b.Slice(i));
                acc += d * d;
            }
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }
}
