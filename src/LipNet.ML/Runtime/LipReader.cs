using System.Collections.Concurrent;
using System.Diagnostics;
using LipNet.ML.Decoding;
using LipNet.ML.Mouth;
using LipNet.ML.Onnx;
using LipNet.ML.Tensors;

namespace LipNet.ML.Runtime;

/// <summary>How <see cref="LipReader"/> decodes.</summary>
public sealed record LipReaderOptions
{
    public LipNetSessionOptions Session { get; init; } = new();
    /// <summary>Beam width; 0 = greedy.</summary>
    public int BeamWidth { get; init; } = 100;
    public int NBest { get; init; } = 5;
    /// <summary>Constrain output to GRID sentences.</summary>
    public bool GridGrammar { get; init; }
    public NGramLanguageModel? LanguageModel { get; init; }
    public float Alpha { get; init; } = 0.5f;
    public float Beta { get; init; }
    /// <summary>
    /// Mouth locator; null = the one the model card's crop profile names (<see cref="CropProfile"/>: <c>haar</c> for
    /// cards without one), so the model sees mouths cropped as in its training.
    /// </summary>
    public IMouthLocator? Locator { get; init; }

    /// <summary>Settings of a landmark profile's locator (which face, thresholds, Face Mesh on every N-th frame).</summary>
    public LandmarkMouthLocatorOptions? Landmarks { get; init; }
    /// <summary>Clips per inference batch in <see cref="LipReader.TranscribeMany"/>.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>
    /// Also read each clip mirrored left-right and decode the average of both outputs' probabilities
    /// (test-time augmentation: the trainer mirrors half its clips). Doubles the model's work.
    /// </summary>
    public bool MirrorAverage { get; init; }
}

/// <summary>A transcription with what it is based on.</summary>
public sealed record Transcription(
    string Source, string Text, IReadOnlyList<CtcHypothesis> NBest, IReadOnlyList<WordSpan> Words, float Confidence,
    double Seconds, StageTimings Preprocess, double ModelMs, double DecodeMs);

/// <summary>A clip that could not be transcribed, and why (batch calls skip and report).</summary>
public sealed record TranscriptionFailure(string Source, string Reason);

/// <summary>
/// Reads lips: loads a LipNet ONNX model and its card once, then turns videos into text — decode, locate
/// and crop the mouth, normalize as the card says, run the model, CTC-decode. Thread-safe; dispose to
/// free the native session.
/// </summary>
public sealed class LipReader : IDisposable
{
    private readonly ClipPreprocessor _preprocessor;
    private readonly CtcDecoder _decoder;

    public LipReader(string modelPath, LipReaderOptions? options = null, ModelCard? card = null)
        : this(LipNetModel.Load(modelPath, (options ?? new()).Session, card), options) { }

    /// <summary>A reader over the embedded default model (<see cref="LipNetModel.LoadDefault"/>).</summary>
    public static LipReader Default(LipReaderOptions? options = null) => new(LipNetModel.LoadDefault((options ?? new()).Session), options);

    public LipReader(LipNetModel model, LipReaderOptions? options = null)
    {
        Model = model;
        Options = options ?? new LipReaderOptions();
        var card = model.Card;
        Vocabulary = card.CreateVocabulary();
        Profile = card.Profile();
        _preprocessor = new ClipPreprocessor(Options.Locator ?? Profile.CreateLocator(Options.Landmarks), new MouthCropOptions { Width = card.Width, Height = card.Height },
            card.NormalizeOptions(), new Video.VideoReadOptions { TargetFps = card.Fps > 0 ? card.Fps : null }, ownsLocator: Options.Locator is null);
        _decoder = Options.BeamWidth <= 0
            ? new GreedyCtcDecoder(Vocabulary, inputsAreLogProbs: card.OutputIsLogProbs)
            : new BeamSearchCtcDecoder(Vocabulary, new BeamSearchOptions
            {
                BeamWidth = Options.BeamWidth,
                NBest = Math.Max(1, Options.NBest),
                Constraint = Options.GridGrammar ? SpellingConstraint.Grid(Vocabulary) : null,
                LanguageModel = Options.LanguageModel,
                Alpha = Options.Alpha,
                Beta = Options.Beta,
            }, inputsAreLogProbs: card.OutputIsLogProbs);
    }

    public LipNetModel Model { get; }
    public LipReaderOptions Options { get; }

    /// <summary>The crop profile of the model's card (what the default locator reproduces).</summary>
    public CropProfile Profile { get; }
    public CtcVocabulary Vocabulary { get; }

    public Transcription Transcribe(string path) => Run(path, () => _preprocessor.Crop(path));

    public Transcription Transcribe(Stream stream, string? nameHint = null) => Run(nameHint ?? "<stream>", () => _preprocessor.Crop(stream, nameHint));

    private Transcription Run(string source, Func<CroppedClip> crop)
    {
        long start = Stopwatch.GetTimestamp();
        var clip = crop();
        var batch = new Batch(this, 1);
        batch.Add(clip);
        return Finish(source, clip, batch.Run()[0], start);
    }

    /// <summary>
    /// Clips normalized straight into one [N, C, T, H, W] buffer that the session reads in place
    /// (no per-clip tensor, no copy between tensor and session); reused across batches.
    /// </summary>
    private sealed class Batch(LipReader owner, int capacity)
    {
        private readonly long _perClip = (long)owner.Model.Card.Channels * owner.Model.Card.Frames * owner.Model.Card.Height * owner.Model.Card.Width;
        private readonly int _views = owner.Options.MirrorAverage ? 2 : 1;
        private readonly float[] _buffer = new float[(long)owner.Model.Card.Channels * owner.Model.Card.Frames * owner.Model.Card.Height * owner.Model.Card.Width * capacity * (owner.Options.MirrorAverage ? 2 : 1)];
        private readonly List<(int Length, double NormalizeMs)> _clips = [];

        public int Count => _clips.Count;

        public void Add(CroppedClip clip)
        {
            long t0 = Stopwatch.GetTimestamp();
            long slot = _perClip * _views * _clips.Count;
            int length = owner._preprocessor.Normalizer.Normalize(clip.Crop.Frames, _buffer.AsSpan((int)slot, (int)_perClip));
            if (_views == 2)
                owner._preprocessor.Normalizer.Normalize(FrameAugmenter.Mirror(clip.Crop.Frames), _buffer.AsSpan((int)(slot + _perClip), (int)_perClip));
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
        // Only real frames are decoded: padding past the clip's end is not speech.
        int frames = Math.Min(output.Frames, Math.Max(1, output.Length));
        var result = _decoder.Decode(output.LogProbs.AsSpan(0, frames * Model.OutputWidth));
        double decodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        return new Transcription(source, result.Text, result.NBest, result.Best.Words(Vocabulary, frames), result.Best.Confidence(frames),
            Stopwatch.GetElapsedTime(start).TotalSeconds, clip.Timings with { NormalizeMs = output.NormalizeMs }, output.ModelMs, decodeMs);
    }

    /// <summary>
    /// Transcribes many videos: clips are decoded and cropped in parallel ahead of the model, which runs on
    /// batches of <see cref="LipReaderOptions.BatchSize"/>; so preprocessing of the next clips overlaps
    /// inference of the current batch. Unreadable videos are reported in <paramref name="failures"/> and
    /// skipped; results keep input order.
    /// </summary>
    public IReadOnlyList<Transcription> TranscribeMany(IReadOnlyList<string> paths, List<TranscriptionFailure>? failures = null, Action<Transcription>? progress = null)
    {
        int batchSize = Math.Max(1, Options.BatchSize);
        var ready = new BlockingCollection<(int Index, CroppedClip? Clip, long Start, string? Error)>(boundedCapacity: 2 * batchSize);
        var producer = Task.Run(() =>
        {
            try
            {
                Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount - 1) }, i =>
                {
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        ready.Add((i, _preprocessor.Crop(paths[i]), start, null));
                    }
                    catch (LipNetException ex)
                    {
                        ready.Add((i, null, start, ex.Message));
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
        foreach (var item in ready.GetConsumingEnumerable())
        {
            if (item.Clip is null)
            {
                errors.Add(new TranscriptionFailure(paths[item.Index], item.Error!));
                continue;
            }
            batch.Add(item.Clip);
            pending.Add((item.Index, item.Clip, item.Start));
            if (pending.Count == batchSize)
                Flush();
        }
        Flush();
        producer.GetAwaiter().GetResult();
        failures?.AddRange(errors.OrderBy(e => e.Source, StringComparer.Ordinal));
        return results.Where(r => r is not null).Select(r => r!).ToList();
    }

    public void Dispose()
    {
        _preprocessor.Dispose();
        Model.Dispose();
    }
}
