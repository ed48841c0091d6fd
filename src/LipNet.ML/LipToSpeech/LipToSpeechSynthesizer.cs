using LipNet.ML.Audio;
using LipNet.ML.Runtime;
using LipNet.ML.Tensors;
using LipNet.ML.Video;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.LipToSpeech;

/// <summary>
/// Silent video → speech: the mouth is cropped as the model's card says (the lipreading front end), a
/// <see cref="LipToSpeechModel"/> predicts the log-mel spectrogram (4 frames of 80 bands per video frame), and
/// <see cref="GriffinLim"/> turns it into a 16 kHz waveform of the video's length. Videos longer than the model's window are read
/// window by window. The embedded default model (<see cref="Default"/>) was trained on GRID speaker s1 (onnx/README.md).
/// Not thread-safe (the front end keeps tracking state): one per thread.
/// </summary>
public sealed class LipToSpeechSynthesizer : IDisposable
{
    private const string DefaultResource = "LipNet.ML.lip2speech-default.onnx";
    private readonly InferenceSession _session;
    private readonly ClipPreprocessor _preprocessor;
    private readonly GriffinLim _vocoder;

    /// <summary>Loads a lip-to-speech ONNX model with its card.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="session">Threads and device; null = defaults.</param>
    /// <param name="vocoder">Griffin-Lim settings; null = defaults.</param>
    /// <exception cref="ModelLoadException">The file is missing, not an ONNX model, or has no lip-to-speech card.</exception>
    public LipToSpeechSynthesizer(string modelPath, LipNetSessionOptions? session = null, GriffinLimOptions? vocoder = null)
        : this(Onnx.OnnxMetadata.ReadModel(modelPath), modelPath, session, vocoder)
    {
    }

    private LipToSpeechSynthesizer(byte[] model, string source, LipNetSessionOptions? session, GriffinLimOptions? vocoder)
    {
        Source = source;
        (_session, var json) = Onnx.OnnxMetadata.OpenWithCard(model, source, session, LipToSpeechCard.MetadataKey, "lip-to-speech card");
        try
        {
            Card = LipToSpeechCard.FromJson(json, source);
            var visual = Card.Architecture?.Visual ?? throw new ModelLoadException("the lip-to-speech card has no architecture", source);
            _vocoder = new GriffinLim(Card.Mel, vocoder);
            _preprocessor = new ClipPreprocessor(Mouth.CropProfile.Named(Card.CropProfile).CreateLocator(),
                new Mouth.MouthCropOptions { Width = visual.Width, Height = visual.Height }, Card.Normalize, new VideoReadOptions { TargetFps = Card.Fps },
                ownsLocator: true);
        }
        catch (Exception ex) when (ex is LipNetException or ArgumentException or KeyNotFoundException)
        {
            _session.Dispose();
            if (ex is NativeLibraryException)
                throw;
            throw ex as ModelLoadException ?? new ModelLoadException($"the lip-to-speech card is not usable ({ex.Message})", source, ex);
        }
    }

    /// <summary>The embedded default model (trained by the project on GRID speaker s1).</summary>
    /// <param name="session">Threads and device; null = defaults.</param>
    /// <exception cref="ModelLoadException">This build carries no default lip-to-speech model.</exception>
    public static LipToSpeechSynthesizer Default(LipNetSessionOptions? session = null) =>
        new(Onnx.OnnxMetadata.Embedded(DefaultResource, "lip-to-speech model"), "lip2speech-default (embedded)", session, null);

    /// <summary>The model's card.</summary>
    public LipToSpeechCard Card { get; }

    /// <summary>Where the model came from.</summary>
    public string Source { get; }

    /// <summary>
    /// The predicted log-mel spectrogram of a video: [4T, 80] (natural log of mel power, the card's recipe), T the video's frames
    /// at the card's rate.
    /// </summary>
    /// <param name="videoPath">A video with a face.</param>
    /// <exception cref="VideoDecodeException">The video cannot be read.</exception>
    /// <exception cref="MouthLocatorException">No face or mouth is found.</exception>
    public SpeechFeatures Mel(string videoPath)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Mel(_preprocessor.Crop(videoPath).Crop.Frames);
    }

    /// <summary>The predicted log-mel spectrogram of mouth crops (<see cref="Mel(string)"/>), read in windows of the model's frame count.</summary>
    /// <param name="crops">Mouth crops at the card's size and rate.</param>
    /// <exception cref="TensorShapeException">The crops are not of the card's size, or (when known) not at its frame rate.</exception>
    public SpeechFeatures Mel(VideoFrames crops)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(crops);
        var arch = Card.Architecture!;
        var visual = arch.Visual;
        if (crops.Width != visual.Width || crops.Height != visual.Height)
            throw new TensorShapeException($"crops are {crops.Width}x{crops.Height}, the model reads {visual.Width}x{visual.Height}", crops.Source);
        if (!crops.IsAtRate(Card.Fps))
            throw new TensorShapeException($"crops are at {crops.Fps:0.##} fps, the model reads {Card.Fps:0.##} fps", crops.Source);
        int window = visual.Frames, bands = arch.MelBands, k = arch.MelPerFrame;
        var mel = new float[crops.FrameCount * k * bands];
        var tensor = new float[visual.Channels * window * visual.Height * visual.Width];
        using var runOptions = new RunOptions();
        for (int start = 0; start < crops.FrameCount; start += window)
        {
            int count = Math.Min(window, crops.FrameCount - start);
            var pixels = crops.Pixels.AsSpan(start * crops.FrameByteCount, count * crops.FrameByteCount).ToArray();
            _preprocessor.Normalizer.Normalize(new VideoFrames(pixels, count, crops.Width, crops.Height, crops.Fps, crops.Order, crops.Source), tensor);
            using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, visual.Channels, window, visual.Height, visual.Width]);
            using var outputs = _session.Run(runOptions, [LipToSpeechModel.InputName], [input], [LipToSpeechModel.OutputName]);
            var predicted = outputs[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < count * k * bands; i++)
                mel[start * k * bands + i] = predicted[i] * Card.MelStd[i % bands] + Card.MelMean[i % bands];
        }
        double hop = 1 / (Card.Fps * k);
        return new SpeechFeatures(mel, crops.FrameCount * k, bands, k, hop, Card.Mel.WindowSeconds, SpeechFeatureKind.LogMel);
    }

    /// <summary>Speech for a silent video: <see cref="Mel(string)"/> through Griffin-Lim, a mono clip of the video's duration at the card's rate.</summary>
    /// <param name="videoPath">A video with a face.</param>
    /// <exception cref="VideoDecodeException">The video cannot be read.</exception>
    /// <exception cref="MouthLocatorException">No face or mouth is found.</exception>
    public AudioClip Speak(string videoPath) => _vocoder.Synthesize(Mel(videoPath), videoPath);

    /// <summary>Speech from a predicted (or any) log-mel spectrogram of the card's recipe.</summary>
    /// <param name="mel">[4T, 80] log-mel.</param>
    /// <param name="source">Names the result.</param>
    /// <exception cref="TensorShapeException">The spectrogram is not of the card's recipe.</exception>
    public AudioClip Vocode(SpeechFeatures mel, string source = "<lip2speech>") => _vocoder.Synthesize(mel, source);

    /// <summary>Records a measured accuracy in a model file's card (replacing an entry of the same test set).</summary>
    /// <param name="modelPath">A lip-to-speech .onnx file, rewritten in place.</param>
    /// <param name="accuracy">The figures to record.</param>
    /// <exception cref="ModelLoadException">The file is missing, not an ONNX model, or has no lip-to-speech card.</exception>
    public static void RecordAccuracy(string modelPath, SpeechAccuracy accuracy)
    {
        ArgumentNullException.ThrowIfNull(accuracy);
        Onnx.OnnxMetadata.Rewrite(modelPath, LipToSpeechCard.MetadataKey, json =>
        {
            var card = LipToSpeechCard.FromJson(json, modelPath);
            return (card with { Accuracy = [.. card.Accuracy.Where(a => a.TestSet != accuracy.TestSet), accuracy] }).ToJson();
        });
    }

    /// <summary>
    /// STOI, ESTOI and mel L1 of the speech made from each clip's video against the clip's own audio (both cut to the shorter
    /// length), averaged over clips (<see cref="Metrics.Intelligibility"/>).
    /// </summary>
    /// <param name="videos">Videos with a face and an audio track.</param>
    /// <param name="testSet">Names the test set in the result.</param>
    /// <param name="failures">Receives the clips that could not be read, with the reason; null = throw instead.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="LipNetException">A clip cannot be read and <paramref name="failures"/> is null, or no clip can be read.</exception>
    public SpeechAccuracy Evaluate(IReadOnlyList<string> videos, string testSet, ICollection<Runtime.TranscriptionFailure>? failures = null)
    {
        ArgumentNullException.ThrowIfNull(videos);
        var features = new SpeechFeatureExtractor(Card.Mel);
        double stoi = 0, estoi = 0, melL1 = 0;
        int clips = 0;
        LipNetException? first = null;
        foreach (var video in videos)
        {
            try
            {
                var truth = AudioReader.Read(video, new AudioReadOptions { SampleRate = Card.Mel.SampleRate });
                var mel = Mel(video);
                var speech = Vocode(mel, video);
                int n = Math.Min(truth.SampleCount, speech.SampleCount);
                stoi += Metrics.Intelligibility.Stoi(truth.Samples.AsSpan(0, n), speech.Samples.AsSpan(0, n), truth.SampleRate);
                estoi += Metrics.Intelligibility.Estoi(truth.Samples.AsSpan(0, n), speech.Samples.AsSpan(0, n), truth.SampleRate);
                var trueMel = features.LogMel(truth, mel.VideoFrameCount);
                melL1 += Metrics.Intelligibility.MelL1(trueMel.Values, mel.Values);
                clips++;
            }
            catch (LipNetException ex) when (failures is not null)
            {
                first ??= ex;
                failures.Add(new Runtime.TranscriptionFailure(video, ex.Message));
            }
        }
        if (clips == 0)
            throw first is null
                ? new LipNetException($"none of the {videos.Count} clips could be read")
                : new LipNetException($"none of the {videos.Count} clips could be read; the first: {first.Reason}", first.FilePath, first);
        return new SpeechAccuracy(testSet, clips, stoi / clips, estoi / clips, melL1 / clips);
    }

    /// <summary>Releases the ONNX Runtime session and the front end.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _session.Dispose();
        _preprocessor.Dispose();
    }

    private bool _disposed;
}
