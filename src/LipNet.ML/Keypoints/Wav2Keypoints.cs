using System.Text.Json;
using System.Text.Json.Serialization;
using LipNet.ML.Audio;
using LipNet.ML.Runtime;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Keypoints;

/// <summary>A WAV2KP model's measured accuracy: normalised RMSE (mouth widths) on held-out clips against two baselines.</summary>
/// <param name="TestSet">What was measured (e.g. "GRID s1 (list:onnx/splits/s1-validation.txt)").</param>
/// <param name="Clips">Clips measured.</param>
/// <param name="Rmse">The model's RMSE over every frame and value (<see cref="LipKeypoints.Rmse"/>).</param>
/// <param name="BaselineRmse">RMSE of the mean pose of the training clips, predicted for every frame.</param>
/// <param name="NearestNeighbourRmse">RMSE of the training frame nearest by audio features (the same MFCC context windows).</param>
public sealed record KeypointAccuracy(string TestSet, int Clips, double Rmse, double BaselineRmse, double NearestNeighbourRmse);

/// <summary>
/// The card of an audio → mouth keypoints (WAV2KP) model, stored as JSON in its ONNX <c>metadata_props</c> under
/// <see cref="MetadataKey"/>: how features are made (MFCC per video frame, context, standardisation) and what comes out.
/// </summary>
public sealed record Wav2KeypointsCard
{
    /// <summary>The ONNX metadata key holding the card.</summary>
    public const string MetadataKey = "lipnet.wav2kp_card";

    /// <summary>Model name (e.g. "wav2kp").</summary>
    public string Name { get; init; } = "wav2kp";

    /// <summary>Video frames per second the keypoints are for (one feature frame and one keypoint frame per video frame).</summary>
    public double Fps { get; init; } = 25;

    /// <summary>How the MFCCs are computed (sample rate, window, mel bands, coefficients); its frame rate equals <see cref="Fps"/>.</summary>
    public SpeechFeatureOptions Features { get; init; } = new();

    /// <summary>Feature frames of context on each side of a frame (edge frames repeated): the model input is (2·C + 1)·MFCCs per frame.</summary>
    public int Context { get; init; } = 2;

    /// <summary>Per audio value of a frame (<see cref="FrameFeatures"/>), the training clips' mean subtracted before the context is stacked.</summary>
    public float[] FeatureMean { get; init; } = [];

    /// <summary>Per audio value of a frame, the training clips' standard deviation divided by (after the mean).</summary>
    public float[] FeatureStd { get; init; } = [];

    /// <summary>The training clips' mean pose: 80 normalised values (the baseline that predicts it for every frame).</summary>
    public float[] MeanPose { get; init; } = [];

    /// <summary>The network's sizes.</summary>
    public SequenceRegressionArchitecture Architecture { get; init; } = new("wav2kp", 75, 65, 128, 2, LipKeypoints.Values);

    /// <summary>How the model was made (data, command, epochs), free text.</summary>
    public string Provenance { get; init; } = "";

    /// <summary>Measured accuracy, one entry per test set.</summary>
    public IReadOnlyList<KeypointAccuracy> Accuracy { get; init; } = [];

    /// <summary>
    /// Audio values per video frame: MFCC count x feature frames per video frame (13 at one per frame; 52 at four — the four
    /// 10 ms frames of a video frame side by side).
    /// </summary>
    [JsonIgnore]
    public int FrameFeatures => Features.MfccCount * Features.FeaturesPerVideoFrame;

    /// <summary>Input features per frame: (2·<see cref="Context"/> + 1) x <see cref="FrameFeatures"/>.</summary>
    [JsonIgnore]
    public int InputFeatures => (2 * Context + 1) * FrameFeatures;

    /// <summary>The card as snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Onnx.OnnxMetadata.CardJson);

    /// <summary>A card from its JSON.</summary>
    /// <param name="json">JSON written by <see cref="ToJson"/>.</param>
    /// <param name="source">Names the model in errors.</param>
    /// <exception cref="ModelLoadException">The JSON is not a card.</exception>
    public static Wav2KeypointsCard FromJson(string json, string source) => Onnx.OnnxMetadata.ParseCard<Wav2KeypointsCard>(json, source, "WAV2KP card");
}

/// <summary>
/// Audio → mouth keypoints (the WAV2KP system): per video frame, MFCCs with a few frames of context → bidirectional GRUs →
/// the 40 lip points of <see cref="LipKeypoints"/>. Reads the audio of any video or audio file the library reads; the
/// embedded default model (<see cref="Default"/>) was trained on GRID speaker s1 (see onnx/README.md). Thread-safe.
/// </summary>
public sealed class Wav2Keypoints : IDisposable
{
    private const string DefaultResource = "LipNet.ML.wav2kp-default.onnx";
    private readonly InferenceSession _session;

    /// <summary>Loads a WAV2KP ONNX model with its card.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="session">Threads and device; null = defaults.</param>
    /// <exception cref="ModelLoadException">The file is missing, not an ONNX model, or has no WAV2KP card.</exception>
    public Wav2Keypoints(string modelPath, LipNetSessionOptions? session = null) : this(Onnx.OnnxMetadata.ReadModel(modelPath), modelPath, session)
    {
    }

    private Wav2Keypoints(byte[] model, string source, LipNetSessionOptions? session)
    {
        Source = source;
        (_session, var json) = Onnx.OnnxMetadata.OpenWithCard(model, source, session, Wav2KeypointsCard.MetadataKey, "WAV2KP card");
        try
        {
            Card = Wav2KeypointsCard.FromJson(json, source);
            _ = new SpeechFeatureExtractor(Card.Features); // checks the card's feature recipe now, not at the first prediction
        }
        catch (Exception ex) when (ex is LipNetException or ArgumentException)
        {
            _session.Dispose();
            throw ex as ModelLoadException ?? new ModelLoadException($"the WAV2KP card's features are not usable ({ex.Message})", source, ex);
        }
    }

    /// <summary>The embedded default model (trained by the project on GRID speaker s1).</summary>
    /// <param name="session">Threads and device; null = defaults.</param>
    /// <exception cref="ModelLoadException">This build of the library carries no default WAV2KP model.</exception>
    public static Wav2Keypoints Default(LipNetSessionOptions? session = null) =>
        new(Onnx.OnnxMetadata.Embedded(DefaultResource, "WAV2KP model"), "wav2kp-default (embedded)", session);

    /// <summary>The model's card.</summary>
    public Wav2KeypointsCard Card { get; }

    /// <summary>Where the model came from (a path or the embedded default's name).</summary>
    public string Source { get; }

    /// <summary>
    /// The keypoints of the audio track of <paramref name="path"/> (a video or an audio file): one frame per video frame at
    /// <see cref="Wav2KeypointsCard.Fps"/>, as many as the audio's duration holds.
    /// </summary>
    /// <param name="path">A video with audio, or an audio file.</param>
    /// <param name="videoFrames">Frames to predict (e.g. the video's frame count); null = from the audio's duration.</param>
    /// <returns>Normalised keypoints (no poses: they are the mouth's shape, not its place).</returns>
    /// <exception cref="AudioDecodeException">The file cannot be read or has no audio track (<see cref="NoAudioTrackException"/>).</exception>
    /// <exception cref="AudioTooShortException">The audio is shorter than one video frame.</exception>
    public KeypointSequence Predict(string path, int? videoFrames = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Predict(AudioReader.Read(path, new AudioReadOptions { SampleRate = Card.Features.SampleRate }), videoFrames);
    }

    /// <summary>The keypoints of a clip's audio (see <see cref="Predict(string, int?)"/>).</summary>
    /// <param name="clip">Mono audio at the card's sample rate.</param>
    /// <param name="videoFrames">Frames to predict; null = from the audio's duration.</param>
    /// <exception cref="AudioTooShortException">The audio is shorter than one video frame.</exception>
    /// <exception cref="SampleRateMismatchException">The audio is not at the card's sample rate.</exception>
    public KeypointSequence Predict(AudioClip clip, int? videoFrames = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var features = Features(clip, videoFrames);
        int frames = features.Length / Card.InputFeatures;
        return new KeypointSequence(PredictFeatures(features, frames), frames, [], 0);
    }

    /// <summary>The model on prepared input [T, <see cref="Wav2KeypointsCard.InputFeatures"/>]: [T, 80] normalised keypoints.</summary>
    internal float[] PredictFeatures(float[] features, int frames)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var input = OrtValue.CreateTensorValueFromMemory(features, [1, frames, Card.InputFeatures]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [SequenceRegressionModel.InputName], [input], [SequenceRegressionModel.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The model input of a clip: [T, (2·C + 1)·k·MFCCs] standardised MFCCs with context (the card's recipe).</summary>
    /// <param name="clip">Mono audio at the card's sample rate.</param>
    /// <param name="videoFrames">Frames T; null = from the audio's duration.</param>
    /// <exception cref="AudioTooShortException">The audio is shorter than one video frame.</exception>
    /// <exception cref="SampleRateMismatchException">The audio is not at the card's sample rate.</exception>
    public float[] Features(AudioClip clip, int? videoFrames = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        // An extractor per call: one is not thread-safe (NWaves' buffers), and it is cheap next to the model.
        var mfcc = new SpeechFeatureExtractor(Card.Features).Mfcc(clip, videoFrames);
        // [k·T, F] row-major is [T, k·F]: a video frame's k feature frames side by side.
        return KeypointFeatures.Stack(mfcc.Values, mfcc.VideoFrameCount, Card.FrameFeatures, Card.FeatureMean, Card.FeatureStd, Card.Context);
    }

    /// <summary>
    /// Records a measured accuracy in a model file's card (replacing an entry of the same test set), so the card states what
    /// <see cref="Wav2KeypointsTraining.Evaluate"/> measured.
    /// </summary>
    /// <param name="modelPath">A WAV2KP .onnx file, rewritten in place.</param>
    /// <param name="accuracy">The figures to record.</param>
    /// <exception cref="ModelLoadException">The file is missing, not an ONNX model, or has no WAV2KP card.</exception>
    public static void RecordAccuracy(string modelPath, KeypointAccuracy accuracy)
    {
        ArgumentNullException.ThrowIfNull(accuracy);
        Onnx.OnnxMetadata.Rewrite(modelPath, Wav2KeypointsCard.MetadataKey, json =>
        {
            var card = Wav2KeypointsCard.FromJson(json, modelPath);
            return (card with { Accuracy = [.. card.Accuracy.Where(a => a.TestSet != accuracy.TestSet), accuracy] }).ToJson();
        });
    }

    /// <summary>Releases the ONNX Runtime session; later predictions throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _session.Dispose();
    }

    private bool _disposed;
}

/// <summary>The WAV2KP input recipe: standardise each MFCC coefficient, then stack each frame with its neighbours.</summary>
public static class KeypointFeatures
{
    /// <summary>
    /// [T, F] features → [T, (2·<paramref name="context"/> + 1)·F]: frame t holds frames t − C … t + C (clamped at the edges),
    /// each standardised as (x − mean) / std.
    /// </summary>
    /// <param name="values">[T, F] row-major.</param>
    /// <param name="frames">T.</param>
    /// <param name="features">F.</param>
    /// <param name="mean">F means, or empty for none.</param>
    /// <param name="std">F standard deviations, or empty for none.</param>
    /// <param name="context">C ≥ 0.</param>
    /// <exception cref="TensorShapeException">The sizes do not agree.</exception>
    public static float[] Stack(ReadOnlySpan<float> values, int frames, int features, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, int context)
    {
        if (values.Length != (long)frames * features || context < 0 || (mean.Length != 0 && mean.Length != features) || (std.Length != 0 && std.Length != features))
            throw new TensorShapeException($"{values.Length} values, {mean.Length} means and {std.Length} deviations for {frames} frames of {features} features (context {context})");
        int width = (2 * context + 1) * features;
        var stacked = new float[frames * width];
        for (int t = 0; t < frames; t++)
            for (int c = -context; c <= context; c++)
            {
                int source = Math.Clamp(t + c, 0, frames - 1);
                int destination = t * width + (c + context) * features;
                for (int f = 0; f < features; f++)
                {
                    float v = values[source * features + f];
                    if (mean.Length != 0)
                        v -= mean[f];
                    if (std.Length != 0)
                        v /= std[f];
                    stacked[destination + f] = v;
                }
            }
        return stacked;
    }
}
