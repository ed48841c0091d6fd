using System.Collections.Concurrent;
using LipNet.ML.Corpora;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Training;

/// <summary>A labelled training clip: its mouth crops (8-bit frames, e.g. 100x50) and sentence.</summary>
public sealed record TrainingClip(string Id, string Speaker, string Sentence, VideoFrames Crops);

/// <summary>
/// An indexable set of labelled clips a training run draws from; clips are produced on demand (decoded and
/// cropped, or rendered), so a set may be far larger than memory. Implementations are thread-safe.
/// </summary>
public interface ITrainingClips
{
    int Count { get; }

    /// <summary>Id, speaker and sentence of clip <paramref name="index"/> without loading pixels.</summary>
    (string Id, string Speaker, string Sentence) Describe(int index);

    /// <summary>The clip with its mouth crops; a clip that cannot be read throws a <see cref="LipNetException"/> naming its file.</summary>
    TrainingClip Load(int index);
}

/// <summary>
/// Clips of a corpus (any <see cref="CorpusReader"/>), decoded, mouth-located and cropped by a
/// <see cref="ClipPreprocessor"/> exactly as inference does. Crops are kept in memory after the first load
/// when <paramref name="cache"/> is set (8-bit 100x50x75 crops: about 1.1 MB a clip), so later epochs skip decoding,
/// and on disk in <paramref name="diskCache"/> when given, so later runs skip it too. An item listed twice (a
/// corpus weighted up) shares its crops.
/// </summary>
public sealed class CorpusTrainingClips(IReadOnlyList<CorpusItem> items, Func<ClipPreprocessor> preprocessor, bool cache = true, CropCache? diskCache = null)
    : ITrainingClips, IDisposable
{
    private readonly ConcurrentDictionary<string, VideoFrames> _cache = new();
    // One preprocessor per loading thread (the Haar locator is not thread-safe); all disposed with this set.
    private readonly ThreadLocal<ClipPreprocessor> _preprocessor = new(preprocessor, trackAllValues: true);

    public IReadOnlyList<CorpusItem> Items { get; } = items;
    public int Count => Items.Count;

    public (string Id, string Speaker, string Sentence) Describe(int index) => (Items[index].Id, Items[index].Speaker, Items[index].Sentence);

    public TrainingClip Load(int index)
    {
        var item = Items[index];
        if (!_cache.TryGetValue(item.VideoPath, out var crops))
        {
            crops = diskCache?.TryLoad(item.VideoPath);
            if (crops is null)
            {
                crops = _preprocessor.Value!.Crop(item.VideoPath).Crop.Frames;
                diskCache?.Store(item.VideoPath, crops);
            }
            if (cache)
                _cache[item.VideoPath] = crops;
        }
        return new TrainingClip(item.Id, item.Speaker, item.Sentence, crops);
    }

    public void Dispose()
    {
        foreach (var p in _preprocessor.Values)
            p.Dispose();
        _preprocessor.Dispose();
    }
}

/// <summary>
/// The clips of another set with the unreadable ones left out: a clip whose <see cref="ITrainingClips.Load"/> throws a
/// <see cref="LipNetException"/> (corrupt video, no mouth found) is reported once and stood in for by the next
/// readable clip, the same one every time, so a resumed run sees the same batches. <see cref="Describe"/> of a
/// skipped clip describes its stand-in once the clip has been tried.
/// </summary>
public sealed class SkippingTrainingClips(ITrainingClips inner, Action<LipNetException>? skipped = null) : ITrainingClips, IDisposable
{
    private readonly ConcurrentDictionary<int, LipNetException> _unreadable = new();
    private readonly ConcurrentDictionary<int, int> _standIns = new();

    public int Count => inner.Count;

    /// <summary>The clips left out so far, with why.</summary>
    public IReadOnlyDictionary<int, LipNetException> Unreadable => _unreadable;

    public (string Id, string Speaker, string Sentence) Describe(int index) => inner.Describe(_standIns.GetValueOrDefault(index, index));

    public TrainingClip Load(int index)
    {
        for (int tried = 0, i = index; tried < inner.Count; tried++, i = (i + 1) % inner.Count)
        {
            if (_unreadable.ContainsKey(i))
                continue;
            try
            {
                var clip = inner.Load(i);
                if (i != index)
                    _standIns[index] = i;
                return clip;
            }
            catch (LipNetException ex)
            {
                if (_unreadable.TryAdd(i, ex))
                    skipped?.Invoke(ex);
            }
        }
        throw new LipNetException($"none of the {inner.Count} clips can be read (the first: {_unreadable.Values.FirstOrDefault()?.Message})");
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();
}

/// <summary>
/// Synthetic clips rendered in memory (<see cref="SyntheticCorpus.Render(SyntheticCorpusOptions, int, int)"/>) and
/// cropped at their true mouth boxes: no files, no codec. Speakers <paramref name="speakers"/> (indices) of a
/// corpus with <see cref="SyntheticCorpusOptions.ClipsPerSpeaker"/> clips each; crops cached after the first render.
/// </summary>
public sealed class SyntheticTrainingClips(SyntheticCorpusOptions options, IReadOnlyList<int> speakers) : ITrainingClips
{
    private readonly ConcurrentDictionary<int, VideoFrames> _cache = new();
    private readonly Dictionary<int, IReadOnlyList<string>> _sentences = speakers.Distinct().ToDictionary(s => s, s => SyntheticCorpus.Sentences(s, options.ClipsPerSpeaker, options.Seed));

    public SyntheticCorpusOptions Options { get; } = options;
    public IReadOnlyList<int> Speakers { get; } = speakers;
    public int Count => Speakers.Count * Options.ClipsPerSpeaker;

    private (int Speaker, int Clip) At(int index) => (Speakers[index / Options.ClipsPerSpeaker], index % Options.ClipsPerSpeaker);

    public (string Id, string Speaker, string Sentence) Describe(int index)
    {
        var (speaker, clip) = At(index);
        string sentence = _sentences[speaker][clip];
        return (GridGrammar.IdFromSentence(sentence), SyntheticCorpus.SpeakerName(speaker), sentence);
    }

    public TrainingClip Load(int index)
    {
        var (speaker, clip) = At(index);
        var crops = _cache.GetOrAdd(index, _ => SyntheticCorpus.MouthCrops(SyntheticCorpus.Render(Options, speaker, clip)));
        var (id, name, sentence) = Describe(index);
        return new TrainingClip(id, name, sentence, crops);
    }
}

/// <summary>
/// Fills a trainer's batch buffer: loads clips (in parallel), applies seeded augmentation, normalizes each into
/// its slice of one [N, C, T, H, W] buffer, and encodes the sentences. The augmentation of a clip depends only
/// on (seed, epoch, position in the epoch), so a resumed run sees exactly the same batches.
/// </summary>
public sealed class TrainingBatchAssembler(FrameNormalizeOptions normalize, FrameAugmentOptions? augment, Decoding.CtcVocabulary vocabulary)
{
    private readonly FrameNormalizer _normalizer = new(normalize);
    private readonly FrameAugmenter? _augmenter = augment is null ? null : new FrameAugmenter(augment);

    /// <param name="buffer">Where the batch goes (e.g. <see cref="AlignedMemory.Allocate"/>, reused every step); null allocates one.</param>
    public TrainingBatch Assemble(ITrainingClips clips, IReadOnlyList<int> indices, int seed, int epoch, int firstPosition, Memory<float>? buffer = null)
    {
        int n = indices.Count;
        var loaded = new TrainingClip[n];
        try
        {
            Parallel.For(0, n, i => loaded[i] = clips.Load(indices[i]));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.OfType<LipNetException>().FirstOrDefault() is { } unreadable)
        {
            // The clip's own typed error (it names the file), not the parallel loop's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(unreadable).Throw();
        }
        int perClip = loaded[0].Crops.Height * loaded[0].Crops.Width * _normalizer.Options.Channels * _normalizer.Options.FrameCount;
        var memory = buffer ?? AlignedMemory.Allocate(n * perClip);
        if (memory.Length != n * perClip)
            throw new TensorShapeException($"batch buffer holds {memory.Length} floats, {n} clips of {perClip} need {n * perClip}");
        var lengths = new int[n];
        var targets = new int[n][];
        Parallel.For(0, n, i =>
        {
            var frames = loaded[i].Crops;
            if (_augmenter is not null)
                frames = _augmenter.Apply(frames, new Random(StableSeed.Combine(seed, epoch, firstPosition + i, 0xa06)));
            lengths[i] = _normalizer.Normalize(frames, memory.Span.Slice(i * perClip, perClip));
            targets[i] = vocabulary.Encode(loaded[i].Sentence);
        });
        return new TrainingBatch(memory, targets, lengths);
    }
}
