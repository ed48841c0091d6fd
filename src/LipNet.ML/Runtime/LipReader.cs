using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using LipNet.ML.Decoding;
using LipNet.ML.Mouth;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;

namespace LipNet.ML.Runtime;

/// <summary>How <see cref="LipReader"/> decodes.</summary>
public sealed record LipReaderOptions
{
    /// <summary>How the model's ONNX Runtime session is made: device (<c>cpu</c>, <c>cuda:N</c>), threads, optimization.</summary>
    public LipNetSessionOptions Session { get; init; } = new();

    /// <summary>
    /// Where the reader reports (Microsoft.Extensions.Logging): each video a batch skips, with the reason (warning); each
    /// transcription of a batch (debug); the session's warnings, e.g. a CUDA request running on CPU (warning) when
    /// <see cref="LipNetSessionOptions.Log"/> is not set. Null = nowhere (session warnings to stderr).
    /// </summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }

    /// <summary>The session options with their warnings routed to <see cref="Logger"/> when they have no log of their own.</summary>
    internal LipNetSessionOptions SessionWithLog() =>
        Logger is { } logger && Session.Log is null ? Session with { Log = m => Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "{Message}", m) } : Session;

    /// <summary>Beam width: prefixes kept per frame (default 100); 0 or less = greedy (best path) decoding.</summary>
    public int BeamWidth { get; init; } = 100;

    /// <summary>Hypotheses kept in <see cref="Transcription.NBest"/>, best first (default 5, at least 1; greedy gives one).</summary>
    public int NBest { get; init; } = 5;

    /// <summary>Constrain output to GRID sentences (beam search only).</summary>
    public bool GridGrammar { get; init; }

    /// <summary>An n-gram model (e.g. <see cref="NGramLanguageModel.LoadArpa"/>) scored during beam search; null = none.</summary>
    public NGramLanguageModel? LanguageModel { get; init; }

    /// <summary>Weight of the language model's natural-log probability in a beam's score (default 0.5; finite).</summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>Score added per word, natural-log units (default 0; positive favours more words; finite). Beam search only.</summary>
    public float Beta { get; init; }

    /// <summary>
    /// Mouth locator; null = the one the model card's crop profile names (<see cref="CropProfile"/>: <c>haar</c> for
    /// cards without one), so the model sees mouths cropped as in its training.
    /// </summary>
    public IMouthLocator? Locator { get; init; }

    /// <summary>Settings of a landmark profile's locator (which face, thresholds, Face Mesh on every N-th frame).</summary>
    public LandmarkMouthLocatorOptions? Landmarks { get; init; }
    /// <summary>Clips per inference batch in <see cref="LipReader.TranscribeMany"/>: 1..1024 (at most the clips given are buffered).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// Batches <see cref="LipReader.TranscribeMany"/> runs through the model at once, each from its own thread. 0 (default) = one
    /// per logical processor when <see cref="LipNetSessionOptions.IntraOpThreads"/> is 1, else 1 (concurrent runs share the
    /// session's intra-op thread pool, so several workers pay only with one intra-op thread each); never more than there are
    /// batches. With one intra-op thread per worker the cores each run a clip while the next clips are decoded and cropped on
    /// every core, instead of one core running the model while the other waits on it: measured on 2 cores, end to end
    /// 0.95x → 1.3–1.44x the PyTorch + OpenCV peer (<c>benchmarks/peers</c>). <c>lipnet bench</c> uses it by default.
    /// </summary>
    public int ModelWorkers { get; init; }
    /// <summary>
    /// Also read each clip mirrored left-right and decode the average of both outputs' probabilities
    /// (test-time augmentation: the trainer mirrors half its clips). Doubles the model's work.
    /// </summary>
    public bool MirrorAverage { get; init; }

    /// <summary>How input longer than the model's window is read: window hop, pause length, segment decoding.</summary>
    public StreamingOptions Streaming { get; init; } = new();
}

/// <summary>A transcription with what it is based on.</summary>
/// <param name="Source">The video's path or name.</param>
/// <param name="Text">The whole transcript (segments joined by spaces).</param>
/// <param name="NBest">
/// The decoder's best hypotheses of a clip read in one window (up to <see cref="LipReaderOptions.NBest"/>); empty for long input
/// read as a stream (see <paramref name="Segments"/>).
/// </param>
/// <param name="Words">Words with their frame spans (frames at the model's rate from the video's start).</param>
/// <param name="Confidence">
/// exp(ln P(text | frames) / frames): the per-frame geometric mean of the decoder's acoustic probability of the best text over
/// the clip's real frames, in [0, 1]. Near 1 when the model's output left little doubt; lower as other readings compete;
/// comparable across clip lengths but not calibrated as a probability of being right. Of long input, the mean over its
/// segments (0 when none).
/// </param>
/// <param name="Seconds">Wall time of the whole transcription, seconds.</param>
/// <param name="Preprocess">
/// Milliseconds decoding, cropping and normalizing; of long input, decoding and the rest of the streaming session outside the
/// model (cropping, pauses, CTC decoding) as crop time.
/// </param>
/// <param name="ModelMs">Milliseconds in the ONNX model (this clip's share of its batch).</param>
/// <param name="DecodeMs">Milliseconds of CTC decoding; 0 for long input, where it counts in <paramref name="Preprocess"/>.</param>
/// <param name="Segments">Stretches of speech between pauses with start/end times and words (one per clip read in one window).</param>
public sealed record Transcription(
    string Source, string Text, IReadOnlyList<CtcHypothesis> NBest, IReadOnlyList<WordSpan> Words, float Confidence,
    double Seconds, StageTimings Preprocess, double ModelMs, double DecodeMs, IReadOnlyList<TranscriptSegment>? Segments = null)
{
    /// <summary>Segments (never null).</summary>
    public IReadOnlyList<TranscriptSegment> Segments { get; init; } = Segments ?? [];
}

/// <summary>A clip that could not be transcribed, and why (batch calls skip and report).</summary>
/// <param name="Source">The video's path as given.</param>
/// <param name="Reason">The message of the <see cref="LipNetException"/> that stopped it.</param>
public sealed record TranscriptionFailure(string Source, string Reason);

/// <summary>What <see cref="LipReader.TranscribeManyAsync"/> made of a list of videos.</summary>
/// <param name="Transcriptions">One per readable video, in input order.</param>
/// <param name="Failures">The videos that could not be read, with the reason, ordered by path.</param>
public sealed record TranscriptionBatch(IReadOnlyList<Transcription> Transcriptions, IReadOnlyList<TranscriptionFailure> Failures);

/// <summary>
/// Reads lips: loads a LipNet ONNX model and its card once, then turns videos into text — decode, locate
/// and crop the mouth, normalize as the card says, run the model, CTC-decode. Thread-safe; dispose to
/// free the native session.
/// </summary>
public sealed class LipReader : IDisposable
{
    private readonly ClipPreprocessor _preprocessor;
    private readonly CtcDecoder _decoder;
    private bool _disposed;

    /// <summary>Loads the model at <paramref name="modelPath"/> and builds the reader around it (which then owns the model).</summary>
    /// <param name="modelPath">An ONNX LipNet model; its embedded card (or <paramref name="card"/>) says how to read with it.</param>
    /// <param name="options">Decoder, locator, batching and session settings; null = the defaults (beam 100, the card's locator).</param>
    /// <param name="card">Overrides (or supplies) the model's embedded card; null = the embedded one.</param>
    /// <exception cref="ModelLoadException">
    /// The model or its card cannot be loaded or do not match, or the landmark locator's front-end models cannot be loaded.
    /// </exception>
    /// <exception cref="MouthLocatorException">An unknown crop profile on the card, or a Haar cascade file missing.</exception>
    /// <exception cref="TensorShapeException">The card's vocabulary, crop size or normalization is invalid.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public LipReader(string modelPath, LipReaderOptions? options = null, ModelCard? card = null)
        : this(LipNetModel.Load(modelPath, (options ?? new()).SessionWithLog(), card), options) { }

    /// <summary>A reader over the embedded default model (<see cref="LipNetModel.LoadDefault"/>).</summary>
    /// <param name="options">Decoder, locator, batching and session settings; null = the defaults.</param>
    /// <returns>A reader that owns the model; the caller disposes it.</returns>
    /// <exception cref="ModelLoadException">This build has no embedded model, or a front-end model cannot be loaded.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    /// <exception cref="ArgumentException">An option out of range or null (see the constructor).</exception>
    /// <exception cref="TensorShapeException">Streaming options out of range.</exception>
    public static LipReader Default(LipReaderOptions? options = null)
    {
        var model = LipNetModel.LoadDefault((options ?? new()).SessionWithLog());
        try
        {
            return new(model, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A reader over a loaded model: the card's crop profile, input size, normalization and vocabulary; the options' decoder.
    /// </summary>
    /// <param name="model">The model; the reader disposes it with itself.</param>
    /// <param name="options">Decoder, locator, batching and session settings; null = the defaults.</param>
    /// <exception cref="ModelLoadException">The landmark locator's front-end models cannot be loaded.</exception>
    /// <exception cref="MouthLocatorException">An unknown crop profile on the card, or a Haar cascade file missing.</exception>
    /// <exception cref="TensorShapeException">The card's vocabulary, crop size or normalization is invalid, or streaming options out of range.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="model"/>, <see cref="LipReaderOptions.Streaming"/> or <see cref="LipReaderOptions.Session"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A negative beam width or model worker count, a batch size outside 1..1024, or a non-finite <see cref="LipReaderOptions.Alpha"/> or
    /// <see cref="LipReaderOptions.Beta"/>.
    /// </exception>
    public LipReader(LipNetModel model, LipReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new LipReaderOptions();
        Validate(Options, model.Card.Frames);
        var card = model.Card;
        Vocabulary = card.CreateVocabulary();
        Profile = card.Profile();
        _preprocessor = new ClipPreprocessor(Options.Locator ?? Profile.CreateLocator(Options.Landmarks), new MouthCropOptions { Width = card.Width, Height = card.Height },
            card.NormalizeOptions(), new Video.VideoReadOptions { TargetFps = card.Fps > 0 ? card.Fps : null }, ownsLocator: Options.Locator is null);
        _decoder = CreateDecoder(card.OutputIsLogProbs);
        StreamDecoder = CreateDecoder(logProbs: true);
        StreamGreedy = new GreedyCtcDecoder(Vocabulary, inputsAreLogProbs: true);
    }

    /// <summary>Options out of range fail here, before any clip is read (a short clip would otherwise ignore bad streaming options).</summary>
    private static void Validate(LipReaderOptions options, int window)
    {
        ArgumentNullException.ThrowIfNull(options.Streaming, "options.Streaming");
        ArgumentNullException.ThrowIfNull(options.Session, "options.Session");
        ArgumentOutOfRangeException.ThrowIfNegative(options.BeamWidth, "options.BeamWidth");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, "options.BatchSize");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, 1024, "options.BatchSize");
        ArgumentOutOfRangeException.ThrowIfNegative(options.ModelWorkers, "options.ModelWorkers");
        if (!float.IsFinite(options.Alpha) || !float.IsFinite(options.Beta))
            throw new ArgumentOutOfRangeException("options.Alpha", $"Alpha ({options.Alpha}) and Beta ({options.Beta}) must be finite");
        options.Streaming.Validate(window, "options.Streaming");
    }

    private CtcDecoder CreateDecoder(bool logProbs) => Options.BeamWidth <= 0
        ? new GreedyCtcDecoder(Vocabulary, inputsAreLogProbs: logProbs)
        : new BeamSearchCtcDecoder(Vocabulary, new BeamSearchOptions
        {
            BeamWidth = Options.BeamWidth,
            NBest = Math.Max(1, Options.NBest),
            Constraint = Options.GridGrammar ? SpellingConstraint.Grid(Vocabulary) : null,
            LanguageModel = Options.LanguageModel,
            Alpha = Options.Alpha,
            Beta = Options.Beta,
        }, inputsAreLogProbs: logProbs);

    /// <summary>The configured decoder over log-probabilities (what streams decode).</summary>
    internal CtcDecoder StreamDecoder { get; }

    /// <summary>Greedy decoding of log-probabilities (partial segments).</summary>
    internal CtcDecoder StreamGreedy { get; }

    internal ClipPreprocessor Preprocessor => _preprocessor;

    private readonly Lazy<LandmarkMouthLocator> _activityLocator = new(() => new LandmarkMouthLocator());

    /// <summary>Landmarks for finding pauses in streams when the crop locator gives none (created on first use).</summary>
    internal LandmarkMouthLocator ActivityLocator => _activityLocator.Value;

    /// <summary>The model and its card.</summary>
    public LipNetModel Model { get; }

    /// <summary>The options the reader was made with.</summary>
    public LipReaderOptions Options { get; }

    /// <summary>The crop profile of the model's card (what the default locator reproduces).</summary>
    public CropProfile Profile { get; }

    /// <summary>The card's output alphabet: V = tokens + blank outputs per frame, in the model's order.</summary>
    public CtcVocabulary Vocabulary { get; }

    /// <summary>
    /// Reads a video of any length. Up to the model's frame count (3 s for GRID models) it is read as one clip, in one window;
    /// longer videos stream through a <see cref="LipReadingSession"/> (windows with overlap, segments between pauses) with
    /// memory bounded whatever the length. Frames are resampled to the card's rate first.
    /// </summary>
    /// <param name="path">A video file or a stream URL.</param>
    /// <returns>The text, its words and segments with times, the n best hypotheses, a confidence and stage timings.</returns>
    /// <exception cref="VideoDecodeException">Missing, unreadable or corrupt video.</exception>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public Transcription Transcribe(string path) => Transcribe(path, CancellationToken.None);

    /// <inheritdoc cref="Transcribe(string)"/>
    /// <param name="path">A video file or a stream URL.</param>
    /// <param name="cancellationToken">Stops a long video between frames.</param>
    /// <exception cref="OperationCanceledException">Cancelled (checked between frames of a long video).</exception>
    public Transcription Transcribe(string path, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var reader = Video.VideoReader.Open(path, _preprocessor.ReadOptions);
        return Transcribe(reader, cancellationToken);
    }

    /// <summary><see cref="Transcribe(string, CancellationToken)"/> on the thread pool.</summary>
    /// <param name="path">A video file or a stream URL.</param>
    /// <param name="cancellationToken">Cancels before the work starts, or between frames of a long video.</param>
    /// <returns>The transcription; the task faults with the exceptions of <see cref="Transcribe(string)"/>.</returns>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task<Transcription> TranscribeAsync(string path, CancellationToken cancellationToken = default) =>
        Task.Run(() => Transcribe(path, cancellationToken), cancellationToken);

    /// <inheritdoc cref="Transcribe(string)"/>
    /// <param name="stream">The encoded video, read from its current position (copied to a temporary file to decode).</param>
    /// <param name="nameHint">Original file name: its extension helps the demuxer and it names the clip in errors and results.</param>
    public Transcription Transcribe(Stream stream, string? nameHint = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var reader = Video.VideoReader.Open(stream, nameHint, _preprocessor.ReadOptions);
        return Transcribe(reader, CancellationToken.None);
    }

    /// <summary>
    /// Reads frames already in memory (decoded at the model's frame rate, e.g. <see cref="Video.VideoLoader"/> with
    /// <see cref="Video.VideoReadOptions.TargetFps"/>): one clip up to the model's frame count, streamed beyond.
    /// </summary>
    /// <param name="frames">The video, [T, H, W, 3] bytes in either channel order, at the card's frame rate.</param>
    /// <returns>The text, its words and segments with times, the n best hypotheses, a confidence and stage timings.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    /// <exception cref="TensorShapeException">The frames' rate (when known, <see cref="Video.VideoFrames.Fps"/> &gt; 0) is not the card's.</exception>
    /// <exception cref="VideoDecodeException">No frames.</exception>
    public Transcription Transcribe(Video.VideoFrames frames)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(frames);
        double fps = Model.Card.Fps;
        // LipNet models read frames by position: 150 frames at 50 fps read as 6 s of speech, two wrong sentences.
        if (!frames.IsAtRate(fps))
            throw new TensorShapeException(
                $"frames are at {frames.Fps:0.##} fps, the model reads {fps:0.##} fps: decode with VideoReadOptions.TargetFps = {fps:0.##}", frames.Source);
        if (frames.FrameCount == 0)
            throw new VideoDecodeException("has no frames", frames.Source);
        long start = Stopwatch.GetTimestamp();
        if (frames.FrameCount <= Model.Card.Frames)
            return RunClip(frames.Source, _preprocessor.Crop(frames), start);
        return TranscribeLong(frames.Source, Enumerable.Range(0, frames.FrameCount).Select(t => Video.VideoFrame.Of(frames, t)), start, 0, CancellationToken.None);
    }

    private Transcription Transcribe(Video.VideoReader reader, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        var (clip, done) = Prepare(reader, start, cancellationToken);
        return done ?? RunClip(reader.Source, clip!, start);
    }

    /// <summary>A clip cropped for a model window, or — for a video longer than one window — its finished streamed transcription.</summary>
    private (CroppedClip? Clip, Transcription? Done) Prepare(Video.VideoReader reader, long start, CancellationToken cancellationToken)
    {
        int window = Model.Card.Frames;
        // One window and a frame more, decoded as a clip always was (one copy into a reused buffer): a clip ends there.
        var head = _preprocessor.DecodeHead(reader, window + 1);
        double decodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (head.FrameCount <= window)
        {
            var clip = _preprocessor.Crop(head);
            return (clip with { Timings = clip.Timings with { DecodeMs = decodeMs } }, null);
        }
        // Longer: the head's frames (copied out of the reused buffer) and then the rest, streamed.
        var first = Enumerable.Range(0, head.FrameCount).Select(t => Video.VideoFrame.Of(head, t)).ToList();
        // The rest in pooled buffers: these frames never leave the session, which hands each buffer back once cropped.
        var transcription = TranscribeLong(reader.Source, first.Concat(reader.ReadFrames(pooled: true)), start, decodeMs, cancellationToken);
        // Cut short (a partial download): what arrived is read, as a player would play it; a clip of one window throws instead.
        if (reader.EndedShort && Options.Logger is { } logger)
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger,
                "{Video} ends after {Read} of the {Declared} frames its container declares (truncated?): read up to where it ends",
                reader.Source, reader.SourceFramesRead, reader.ReportedFrameCount);
        return (null, transcription);
    }

    private Transcription RunClip(string source, CroppedClip clip, long start)
    {
        var batch = new Batch(this, 1);
        batch.Add(WindowInput(clip.Crop.Frames, ClipSpeech(clip)));
        return Finish(source, clip, batch.Run()[0], start);
    }

    /// <summary>Where the lips move in a clip (its landmarks' lip activity), or null without landmarks or movement.</summary>
    private (int From, int To)? ClipSpeech(CroppedClip clip) =>
        clip.Crop.Landmarks is { Count: > 0 } landmarks ? LipActivity.SpeechSpan(landmarks, Options.Streaming) : null;

    /// <summary>
    /// <see cref="LipActivity.WindowShift"/> for this reader's model window and <see cref="StreamingOptions.SpeechStartFrame"/>.
    /// </summary>
    internal int? WindowShift(int count, (int From, int To)? speech) =>
        LipActivity.WindowShift(count, Model.Card.Frames, Options.Streaming.SpeechStartFrame, speech);

    /// <summary>
    /// <see cref="LipActivity.WindowInput"/> for this reader's model window and <see cref="StreamingOptions.SpeechStartFrame"/>.
    /// </summary>
    internal Video.VideoFrames WindowInput(Video.VideoFrames crops, (int From, int To)? speech) =>
        LipActivity.WindowInput(crops, Model.Card.Frames, Options.Streaming.SpeechStartFrame, speech);

    /// <summary>Streams frames through a session and gathers its final segments into one transcription.</summary>
    private Transcription TranscribeLong(string source, IEnumerable<Video.VideoFrame> frames, long start, double decodeMs, CancellationToken cancellationToken)
    {
        using var session = OpenSession(source);
        var updates = new List<TranscriptSegment>();
        var segments = new List<TranscriptSegment>();
        using var e = frames.GetEnumerator();
        double pushMs = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            if (!e.MoveNext())
                break;
            long t1 = Stopwatch.GetTimestamp();
            session.Push(e.Current, updates);
            pushMs += Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
            decodeMs += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            segments.AddRange(updates.Where(u => u.IsFinal));
            updates.Clear();
        }
        long t2 = Stopwatch.GetTimestamp();
        session.Complete(updates);
        pushMs += Stopwatch.GetElapsedTime(t2).TotalMilliseconds;
        segments.AddRange(updates.Where(u => u.IsFinal));
        return FromSegments(source, segments, Stopwatch.GetElapsedTime(start).TotalSeconds,
            new StageTimings(decodeMs, Math.Max(0, pushMs - session.ModelMs), 0), session.ModelMs);
    }

    /// <summary>The segments' words in frames at the model's rate: the transcript's word list, timed as its segments are.</summary>
    private List<WordSpan> WordSpans(IEnumerable<TranscriptSegment> segments)
    {
        double fps = Model.Card.Fps > 0 ? Model.Card.Fps : 25;
        return segments.SelectMany(s => s.Words).Select(w =>
            new WordSpan(w.Word, (int)Math.Round(w.Start.TotalSeconds * fps), (int)Math.Round(w.End.TotalSeconds * fps))).ToList();
    }

    private Transcription FromSegments(string source, List<TranscriptSegment> segments, double seconds, StageTimings timings, double modelMs)
    {
        return new Transcription(source, string.Join(' ', segments.Select(s => s.Text)), [], WordSpans(segments),
            segments.Count == 0 ? 0 : segments.Average(s => s.Confidence), seconds, timings, modelMs, 0, segments);
    }

    /// <summary>
    /// A session for one stream of frames at the model's frame rate (<see cref="ModelCard.Fps"/>): push frames, get partial
    /// and final segments. Dispose it (it owns a face tracker).
    /// </summary>
    /// <param name="source">Names the stream in errors and results.</param>
    /// <returns>A new session; the caller disposes it before the reader.</returns>
    /// <exception cref="TensorShapeException">Invalid <see cref="LipReaderOptions.Streaming"/> options.</exception>
    public LipReadingSession OpenSession(string source = "<stream>")
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new(this, source);
    }

    /// <summary>
    /// Reads a live or recorded stream of frames at the model's frame rate, yielding partial segments while a segment is
    /// open and a final one after each pause, and always a final one after the input ends. Segment times are taken from
    /// the frames' <see cref="Video.VideoFrame.Time"/>. Work runs on the thread pool, so a caller's loop is never blocked
    /// by the model.
    /// </summary>
    /// <param name="frames">The frames, at the card's frame rate, with their times.</param>
    /// <param name="source">Names the stream in errors and results.</param>
    /// <param name="cancellationToken">Stops reading the frames.</param>
    /// <returns>Partial and final segments as they become known.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <exception cref="MouthLocatorException">No face in any frame of the stream.</exception>
    public async IAsyncEnumerable<TranscriptSegment> TranscribeAsync(IAsyncEnumerable<Video.VideoFrame> frames, string source = "<stream>",
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var session = OpenSession(source);
        var updates = new List<TranscriptSegment>();
        await foreach (var frame in frames.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await Task.Run(() => session.Push(frame, updates), cancellationToken).ConfigureAwait(false);
            foreach (var u in updates)
                yield return u;
            updates.Clear();
        }
        cancellationToken.ThrowIfCancellationRequested();
        await Task.Run(() => session.Complete(updates), cancellationToken).ConfigureAwait(false);
        foreach (var u in updates)
            yield return u;
    }

    /// <summary>
    /// Log-probabilities [card frames x vocabulary] of the model on one stack of mouth crops (padded as a clip is when
    /// shorter), mirror-averaged when configured.
    /// </summary>
    internal float[] RunWindow(Video.VideoFrames crops, Batch? reuse = null)
    {
        var batch = reuse ?? new Batch(this, 1);
        batch.Add(crops);
        var output = batch.Run()[0];
        if (!Model.Card.OutputIsLogProbs)
        {
            var logProbs = new float[output.LogProbs.Length];
            CtcScores.LogSoftmax(output.LogProbs, Model.OutputWidth, logProbs);
            return logProbs;
        }
        return output.LogProbs;
    }

    /// <summary>
    /// Clips normalized straight into one [N, C, T, H, W] buffer that the session reads in place
    /// (no per-clip tensor, no copy between tensor and session); reused across batches.
    /// </summary>
    internal sealed class Batch(LipReader owner, int capacity)
    {
        private readonly long _perClip = (long)owner.Model.Card.Channels * owner.Model.Card.Frames * owner.Model.Card.Height * owner.Model.Card.Width;
        private readonly int _views = owner.Options.MirrorAverage ? 2 : 1;
        private readonly float[] _buffer = new float[(long)owner.Model.Card.Channels * owner.Model.Card.Frames * owner.Model.Card.Height * owner.Model.Card.Width * capacity * (owner.Options.MirrorAverage ? 2 : 1)];
        private readonly List<(int Length, double NormalizeMs)> _clips = [];

        public int Count => _clips.Count;

        public void Add(Video.VideoFrames crops)
        {
            long t0 = Stopwatch.GetTimestamp();
            long slot = _perClip * _views * _clips.Count;
            int length = owner._preprocessor.Normalizer.Normalize(crops, _buffer.AsSpan((int)slot, (int)_perClip));
            if (_views == 2)
                owner._preprocessor.Normalizer.Normalize(FrameAugmenter.Mirror(crops), _buffer.AsSpan((int)(slot + _perClip), (int)_perClip));
            _clips.Add((length, Stopwatch.GetElapsedTime(t0).TotalMilliseconds));
        }

        public (float[] LogProbs, int Frames, int Length, double ModelMs, double NormalizeMs)[] Run()
        {
            long used = _clips.Count * _views * _perClip;
            var input = used == _buffer.LongLength ? _buffer : _buffer.AsSpan(0, (int)used).ToArray();
            long t0 = Stopwatch.GetTimestamp();
            var (logProbs, frames) = owner.Model.Run(input, _clips.Count * _views);
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / _clips.Count;
            int width = owner.Model.OutputWidth, size = frames * width;
            var results = _clips.Select((c, i) =>
            {
                var output = logProbs.AsSpan(i * _views * size, size).ToArray();
                if (_views == 2)
                    AverageProbabilities(output, logProbs.AsSpan((i * 2 + 1) * size, size), owner.Model.Card.OutputIsLogProbs);
                return (output, frames, c.Length, ms, c.NormalizeMs);
            }).ToArray();
            _clips.Clear();
            return results;
        }
    }

    /// <summary>
    /// <paramref name="into"/> = the mean of both outputs' probabilities, in the outputs' own form
    /// (log-probabilities: log((e^a + e^b) / 2), computed stably; probabilities: (a + b) / 2).
    /// </summary>
    internal static void AverageProbabilities(Span<float> into, ReadOnlySpan<float> other, bool logProbs)
    {
        for (int i = 0; i < into.Length; i++)
        {
            float a = into[i], b = other[i];
            if (!logProbs)
                into[i] = 0.5f * (a + b);
            else
            {
                float max = MathF.Max(a, b);
                into[i] = float.IsNegativeInfinity(max) ? max : max + MathF.Log(0.5f * (MathF.Exp(a - max) + MathF.Exp(b - max)));
            }
        }
    }

    private Transcription Finish(string source, CroppedClip clip, (float[] LogProbs, int Frames, int Length, double ModelMs, double NormalizeMs) output, long start)
    {
        long t0 = Stopwatch.GetTimestamp();
        var speech = ClipSpeech(clip);
        int clipFrames = Math.Min(clip.Crop.Frames.FrameCount, output.Frames);
        // Only real frames are decoded: zero padding past a clip's end is not speech. A short clip moved into the window
        // (WindowShift) is decoded whole: the model may emit its words anywhere in the window.
        int frames = WindowShift(clip.Crop.Frames.FrameCount, speech) is null ? Math.Min(output.Frames, Math.Max(1, clipFrames)) : output.Frames;
        bool faceOnEveryFrame = clip.Crop.Landmarks is { Count: > 0 } && clip.Crop.MissingFrames is not { Count: > 0 };
        if (LipActivity.HoldsNoSpeech(clipFrames, speech, clip.Crop.Frames, faceOnEveryFrame, Options.Streaming))
        {
            // No speech (a photo, a still face, a frame or two), as a stream reads such a stretch, rather than the sentence a
            // GRID model makes of any input.
            return new Transcription(source, "", [], [], 0, Stopwatch.GetElapsedTime(start).TotalSeconds,
                clip.Timings with { NormalizeMs = output.NormalizeMs }, output.ModelMs, 0);
        }
        var result = _decoder.Decode(output.LogProbs.AsSpan(0, frames * Model.OutputWidth));
        double decodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var segment = ClipSegment(result, output.LogProbs, frames, clipFrames, clip.Source.Fps > 0 ? clip.Source.Fps : Model.Card.Fps, speech);
        return new Transcription(source, result.Text, result.NBest, WordSpans([segment]), result.Best.Confidence(frames),
            Stopwatch.GetElapsedTime(start).TotalSeconds, clip.Timings with { NormalizeMs = output.NormalizeMs }, output.ModelMs, decodeMs, [segment]);
    }

    /// <summary>
    /// The one segment of a clip read in one window, timed at the clip's rate: with landmarks it spans where the lips moved
    /// (<paramref name="speech"/>), else the clip; its words share that span (<see cref="WordTimes"/>), as in streamed segments.
    /// </summary>
    /// <param name="result">The decoded output.</param>
    /// <param name="scores">The model's output rows the result was decoded from.</param>
    /// <param name="decoded">Rows decoded (the confidence is per decoded row).</param>
    /// <param name="frames">The clip's frames (times).</param>
    /// <param name="fps">The clip's frame rate.</param>
    /// <param name="speech">Where the lips moved, in the clip's frames.</param>
    private TranscriptSegment ClipSegment(CtcDecodeResult result, float[] scores, int decoded, int frames, double fps, (int From, int To)? speech)
    {
        fps = fps > 0 ? fps : 25;
        TimeSpan At(double frame) => TimeSpan.FromSeconds(frame / fps);
        var best = result.Best;
        frames = Math.Max(1, frames);
        int lo = speech?.From ?? 0, hi = Math.Max(lo + 1, Math.Min(frames, speech?.To ?? frames));
        var words = WordTimes.Spread(best, Vocabulary, lo, hi, k => TokenProbability(scores, best.TokenFrames[k], best.Tokens[k]))
            .Select(w => new TranscriptWord(w.Word, At(w.Start), At(w.End), w.Confidence)).ToList();
        var start = speech is { } s ? At(s.From) : words.Count > 0 ? words[0].Start : TimeSpan.Zero;
        var end = speech is { } e ? At(Math.Min(frames, e.To)) : words.Count > 0 ? words[^1].End : At(frames);
        return new TranscriptSegment(start, end, best.Text, words, best.Confidence(decoded), true, At(frames - 1));
    }

    /// <summary>Probability of <paramref name="token"/> at <paramref name="frame"/> from the model's output row (log-probabilities or logits).</summary>
    private float TokenProbability(float[] scores, int frame, int token)
    {
        int width = Model.OutputWidth;
        var row = scores.AsSpan(frame * width, width);
        if (Model.Card.OutputIsLogProbs)
            return MathF.Exp(row[token]);
        float max = System.Numerics.Tensors.TensorPrimitives.Max(row), sum = 0;
        foreach (float v in row)
            sum += MathF.Exp(v - max);
        return MathF.Exp(row[token] - max) / sum;
    }

    /// <summary>
    /// Transcribes many videos: clips are decoded and cropped in parallel ahead of the model, which runs on
    /// batches of <see cref="LipReaderOptions.BatchSize"/>; so preprocessing of the next clips overlaps
    /// inference of the current batch. Videos longer than one window are streamed where they are decoded. Unreadable videos
    /// are skipped and returned in <see cref="TranscriptionBatch.Failures"/> with the reason; results keep input order.
    /// </summary>
    /// <param name="paths">Video files.</param>
    /// <param name="progress">Told of each transcription as it is done (on a worker thread of the batch; with several
    /// <see cref="LipReaderOptions.ModelWorkers"/>, from more than one thread at once); null = none.</param>
    /// <param name="cancellationToken">Stops the batch between clips and between frames of a long video.</param>
    /// <returns>The transcriptions in input order and the failures ordered by path.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="paths"/> is null.</exception>
    /// <exception cref="ArgumentException">A path in <paramref name="paths"/> is null.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between clips, and between frames of a long video).</exception>
    public TranscriptionBatch TranscribeMany(IReadOnlyList<string> paths, IProgress<Transcription>? progress = null,
        CancellationToken cancellationToken = default)
    {
        CheckPaths(paths);
        return TranscribeBatch(paths, progress is null ? null : progress.Report, cancellationToken);
    }

    /// <summary>
    /// <see cref="TranscribeMany"/> on the thread pool, for callers that must not block.
    /// </summary>
    /// <param name="paths">Video files.</param>
    /// <param name="progress">Receives each transcription as it is done; null = none.</param>
    /// <param name="cancellationToken">Stops the batch between clips and between frames of a long video.</param>
    /// <returns>The transcriptions in input order and the failures ordered by path.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="paths"/> is null.</exception>
    /// <exception cref="ArgumentException">A path in <paramref name="paths"/> is null.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between clips, and between frames of a long video).</exception>
    public Task<TranscriptionBatch> TranscribeManyAsync(IReadOnlyList<string> paths, IProgress<Transcription>? progress = null,
        CancellationToken cancellationToken = default)
    {
        CheckPaths(paths);
        return Task.Run(() => TranscribeBatch(paths, progress is null ? null : progress.Report, cancellationToken), cancellationToken);
    }

    private static void CheckPaths(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        for (int i = 0; i < paths.Count; i++)
            if (paths[i] is null)
                throw new ArgumentException($"paths[{i}] is null", nameof(paths));
    }

    private TranscriptionBatch TranscribeBatch(IReadOnlyList<string> paths, Action<Transcription>? progress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Options.Logger is { } logger)
        {
            var report = progress;
            progress = t =>
            {
                Microsoft.Extensions.Logging.LoggerExtensions.LogDebug(logger, "Read {Video}: \"{Text}\" ({Confidence:P0})", t.Source, t.Text, t.Confidence);
                report?.Invoke(t);
            };
        }
        // No bigger than the work: a batch buffer is [BatchSize, C, T, H, W] floats.
        int batchSize = Math.Clamp(Options.BatchSize, 1, Math.Max(1, paths.Count));
        int intraOp = Options.Session.IntraOpThreads > 0 ? Options.Session.IntraOpThreads : Environment.ProcessorCount;
        // Workers share the session's intra-op thread pool, so several pay only with one intra-op thread each; no more of
        // them than there are batches to run.
        int workers = Options.ModelWorkers > 0 ? Options.ModelWorkers : intraOp == 1 ? Environment.ProcessorCount : 1;
        workers = Math.Max(1, Math.Min(workers, (paths.Count + batchSize - 1) / batchSize));
        // A model on every core leaves one core less for decoding and cropping; model workers of one thread each share the cores
        // with as many preprocessing threads (the front end is then as fast as the model: Face Mesh crops cost as much as it).
        int preprocessors = Math.Max(1, Environment.ProcessorCount - (workers == 1 ? 1 : 0));
        // Stops the producer (and the other workers) when a worker fails or the caller cancels, so no thread stays blocked on a
        // full collection with a video open.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var ready = new BlockingCollection<(int Index, CroppedClip? Clip, Transcription? Done, long Start, string? Error)>(boundedCapacity: 2 * batchSize);
        var producer = Task.Run(() =>
        {
            try
            {
                Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = preprocessors, CancellationToken = stop.Token }, i =>
                {
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        using var reader = Video.VideoReader.Open(paths[i], _preprocessor.ReadOptions);
                        var (clip, done) = Prepare(reader, start, stop.Token);
                        ready.Add((i, clip, done, start, null), stop.Token);
                    }
                    catch (LipNetException ex)
                    {
                        ready.Add((i, null, null, start, ex.Message), stop.Token);
                    }
                });
            }
            finally
            {
                ready.CompleteAdding();
            }
        });
        var results = new Transcription?[paths.Count];
        var errors = new List<TranscriptionFailure>();
        // Each worker takes prepared clips as they come and runs its own batches; ONNX Runtime sessions run concurrently.
        void Consume()
        {
            try
            {
                var batch = new Batch(this, batchSize);
                var pending = new List<(int Index, CroppedClip Clip, long Start)>();
                void Flush()
                {
                    if (pending.Count == 0)
                        return;
                    var outputs = batch.Run();
                    for (int k = 0; k < pending.Count; k++)
                    {
                        var t = Finish(paths[pending[k].Index], pending[k].Clip, outputs[k], pending[k].Start);
                        results[pending[k].Index] = t;
                        progress?.Invoke(t);
                    }
                    pending.Clear();
                }
                foreach (var item in ready.GetConsumingEnumerable(stop.Token))
                {
                    if (item.Done is not null)
                    {
                        results[item.Index] = item.Done;
                        progress?.Invoke(item.Done);
                        continue;
                    }
                    if (item.Clip is null)
                    {
                        lock (errors)
                            errors.Add(new TranscriptionFailure(paths[item.Index], item.Error!));
                        if (Options.Logger is { } warn)
                            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(warn, "Skipped {Video}: {Reason}", paths[item.Index], item.Error);
                        continue;
                    }
                    batch.Add(WindowInput(item.Clip.Crop.Frames, ClipSpeech(item.Clip)));
                    pending.Add((item.Index, item.Clip, item.Start));
                    if (pending.Count == batchSize)
                        Flush();
                }
                Flush();
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }
        Exception? failure = null;
        try
        {
            if (workers == 1)
                Consume();
            else
                Task.WaitAll([.. Enumerable.Range(0, workers).Select(_ => Task.Factory.StartNew(Consume, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))]);
        }
        catch (AggregateException ex)
        {
            // As with one worker: the first real failure (or the caller's cancellation) itself, not a wrapper; the other workers'
            // cancellations follow from it.
            failure = ex.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? ex.InnerExceptions[0];
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        try
        {
            producer.GetAwaiter().GetResult(); // every video reader is closed once it returns
        }
        catch (Exception ex) when (failure is null)
        {
            // A preprocessing bug (not a LipNetException, which is reported per clip): the exception itself, as one worker saw it.
            failure = ex is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0] : ex;
        }
        catch (Exception)
        {
            // The producer stopped because a worker failed or the caller cancelled: that is what is reported.
        }
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return new TranscriptionBatch(results.Where(r => r is not null).Select(r => r!).ToList(),
            errors.OrderBy(e => e.Source, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Disposes the model's session, the preprocessor (and the locator it created; a locator passed in options stays the
    /// caller's) and the pause-finding landmark locator if one was made. Open sessions must be disposed first.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_activityLocator.IsValueCreated)
            _activityLocator.Value.Dispose();
        _preprocessor.Dispose();
        Model.Dispose();
    }
}
