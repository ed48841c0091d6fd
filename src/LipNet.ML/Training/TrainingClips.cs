using System.Collections.Concurrent;
using LipNet.ML.Corpora;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Training;

/// <summary>A labelled training clip: its mouth crops (8-bit frames, e.g. 100x50) and sentence.</summary>
/// <param name="Id">Clip id.</param>
/// <param name="Speaker">Speaker id.</param>
/// <param name="Sentence">Transcript, words separated by single spaces.</param>
/// <param name="Crops">The mouth crops, [T, H, W, 3] bytes.</param>
public sealed record TrainingClip(string Id, string Speaker, string Sentence, VideoFrames Crops)
{
    /// <summary>
    /// The sentence's words with their times in the clip (seconds; a GRID align file's), or empty when unknown; what
    /// <see cref="FrameAugmentOptions.WordSpanProbability"/> cuts spans of words by.
    /// </summary>
    public IReadOnlyList<WordTiming> Words { get; init; } = [];
}

/// <summary>
/// An indexable set of labelled clips a training run draws from; clips are produced on demand (decoded and
/// cropped, or rendered), so a set may be far larger than memory. Implementations are thread-safe.
/// </summary>
public interface ITrainingClips
{
    /// <summary>Clips in the set; valid indices are 0 … Count − 1.</summary>
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

    /// <summary>The corpus items in index order (an item may appear more than once, to weight it up).</summary>
    public IReadOnlyList<CorpusItem> Items { get; } = items;

    /// <inheritdoc/>
    public int Count => Items.Count;

    /// <inheritdoc/>
    public (string Id, string Speaker, string Sentence) Describe(int index) => (Items[index].Id, Items[index].Speaker, Items[index].Sentence);

    /// <summary>
    /// The clip with its mouth crops: from memory, else from the disk cache, else decoded and cropped by this thread's
    /// preprocessor (and then stored in the caches that are enabled).
    /// </summary>
    /// <exception cref="LipNetException">The video cannot be decoded or no mouth is found (the exception names the file).</exception>
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
        return new TrainingClip(item.Id, item.Speaker, item.Sentence, crops) { Words = item.Words };
    }

    /// <summary>Disposes the per-thread preprocessors (the disk cache, owned by the caller, is left alone).</summary>
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
    /// <summary>The set whose unreadable clips this one leaves out.</summary>
    public ITrainingClips Inner => inner;

    private readonly ConcurrentDictionary<int, LipNetException> _unreadable = new();
    private readonly ConcurrentDictionary<int, int> _standIns = new();

    /// <summary>The inner set's count: a skipped clip is stood in for, not removed, so indices stay stable.</summary>
    public int Count => inner.Count;

    /// <summary>The clips left out so far, with why.</summary>
    public IReadOnlyDictionary<int, LipNetException> Unreadable => _unreadable;

    /// <summary>
    /// The inner set's description of clip <paramref name="index"/>, or of its stand-in once the clip was found unreadable.
    /// </summary>
    public (string Id, string Speaker, string Sentence) Describe(int index) => inner.Describe(StandIn(index));

    /// <summary>
    /// The inner index whose clip <see cref="Load"/> returns for <paramref name="index"/>: itself, or its stand-in once it was
    /// found unreadable. Data kept beside the clips (e.g. lip-to-speech's audio targets) must follow it.
    /// </summary>
    /// <param name="index">0 … <see cref="Count"/> − 1.</param>
    public int StandIn(int index) => _standIns.GetValueOrDefault(index, index);

    /// <summary>
    /// Clip <paramref name="index"/>, or when it cannot be read the next readable clip (wrapping around); each unreadable
    /// clip is reported once to the <c>skipped</c> callback and never tried again.
    /// </summary>
    /// <exception cref="LipNetException">No clip of the inner set can be read.</exception>
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

    /// <summary>Disposes the inner set when it is disposable: this set owns it.</summary>
    public void Dispose() => (inner as IDisposable)?.Dispose();
}

/// <summary>
/// Synthetic clips rendered in memory (<see cref="SyntheticCorpus.Render(SyntheticCorpusOptions, int, int)"/>) and
/// cropped at their true mouth boxes: no files, no codec. Speakers <paramref name="speakers"/> (indices) of a
/// corpus with <see cref="SyntheticCorpusOptions.ClipsPerSpeaker"/> clips each; crops cached after the first render.
/// </summary>
public sealed class SyntheticTrainingClips(SyntheticCorpusOptions options, IReadOnlyList<int> speakers) : ITrainingClips
{
    private readonly ConcurrentDictionary<int, (VideoFrames Crops, IReadOnlyList<WordTiming> Words)> _cache = new();
    private readonly Dictionary<int, IReadOnlyList<string>> _sentences = speakers.Distinct().ToDictionary(s => s, s => SyntheticCorpus.Sentences(s, options.ClipsPerSpeaker, options.Seed));

    /// <summary>The synthetic corpus the clips are rendered from (seed, size, frame count and rate, clips per speaker).</summary>
    public SyntheticCorpusOptions Options { get; } = options;

    /// <summary>
    /// Speaker indices in set order; clip <c>i</c> is clip <c>i % ClipsPerSpeaker</c> of speaker <c>Speakers[i / ClipsPerSpeaker]</c>.
    /// </summary>
    public IReadOnlyList<int> Speakers { get; } = speakers;

    /// <summary><see cref="Speakers"/> count x <see cref="SyntheticCorpusOptions.ClipsPerSpeaker"/>.</summary>
    public int Count => Speakers.Count * Options.ClipsPerSpeaker;

    private (int Speaker, int Clip) At(int index) => (Speakers[index / Options.ClipsPerSpeaker], index % Options.ClipsPerSpeaker);

    /// <summary>The clip's GRID-style id, speaker name and sentence, without rendering.</summary>
    public (string Id, string Speaker, string Sentence) Describe(int index)
    {
        var (speaker, clip) = At(index);
        string sentence = _sentences[speaker][clip];
        return (GridGrammar.IdFromSentence(sentence), SyntheticCorpus.SpeakerName(speaker), sentence);
    }

    /// <summary>
    /// The clip rendered (first time; deterministic from the corpus seed) and cropped at its true mouth boxes, with its
    /// word times. Crops stay cached in memory for the set's lifetime.
    /// </summary>
    public TrainingClip Load(int index)
    {
        var (speaker, clip) = At(index);
        var (crops, words) = _cache.GetOrAdd(index, _ =>
        {
            var rendered = SyntheticCorpus.Render(Options, speaker, clip);
            return (SyntheticCorpus.MouthCrops(rendered), rendered.Timeline.Words);
        });
        var (id, name, sentence) = Describe(index);
        return new TrainingClip(id, name, sentence, crops) { Words = words };
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

    /// <summary>
    /// Loads, augments, normalizes and encodes the clips at <paramref name="indices"/> into one batch. Every clip must
    /// have the crop size of the first.
    /// </summary>
    /// <param name="clips">The set to load from.</param>
    /// <param name="indices">Clip indices in batch order (N = their count; repeats allowed). A trainer needs N = its batch size.</param>
    /// <param name="seed">The run's seed; with <paramref name="epoch"/> and the position it seeds each clip's augmentation.</param>
    /// <param name="epoch">The epoch (from 0) the batch belongs to.</param>
    /// <param name="firstPosition">
    /// Position of <c>indices[0]</c> in the epoch's order; clip i of the batch is at position firstPosition + i.
    /// </param>
    /// <param name="buffer">Where the batch goes (e.g. <see cref="AlignedMemory.Allocate"/>, reused every step); null allocates one.</param>
    /// <returns>
    /// Video [N, C, T, H, W] (with the normalizer's CTHW layout) in <paramref name="buffer"/>, token ids and real frame counts.
    /// </returns>
    /// <exception cref="LipNetException">A clip cannot be loaded (the clip's own exception, naming its file).</exception>
    /// <exception cref="TensorShapeException"><paramref name="buffer"/> does not hold exactly N clips of the normalizer's size.</exception>
    public TrainingBatch Assemble(ITrainingClips clips, IReadOnlyList<int> indices, int seed, int epoch, int firstPosition, Memory<float>? buffer = null)
    {
        int n = indices.Count;
        var loaded = new TrainingClip[n];
        ForEachClip(n, i => loaded[i] = clips.Load(indices[i]));
        int perClip = loaded[0].Crops.Height * loaded[0].Crops.Width * _normalizer.Options.Channels * _normalizer.Options.FrameCount;
        var memory = buffer ?? AlignedMemory.Allocate(n * perClip);
        if (memory.Length != n * perClip)
            throw new TensorShapeException($"batch buffer holds {memory.Length} floats, {n} clips of {perClip} need {n * perClip}");
        var lengths = new int[n];
        var targets = new int[n][];
        ForEachClip(n, i =>
        {
            var (frames, sentence, words) = (loaded[i].Crops, loaded[i].Sentence, loaded[i].Words);
            if (_augmenter is not null)
            {
                // Splices and word spans draw from their own streams, so runs without them see the same augmentation as before.
                (frames, sentence, words) = Splice(clips, loaded[i], new Random(StableSeed.Combine(seed, epoch, firstPosition + i, 0x5e1)));
                (frames, sentence) = _augmenter.WordSpan(frames, sentence, words, _normalizer.Options.FrameCount,
                    new Random(StableSeed.Combine(seed, epoch, firstPosition + i, 0x5b5)));
                frames = _augmenter.Apply(frames, new Random(StableSeed.Combine(seed, epoch, firstPosition + i, 0xa06)));
            }
            lengths[i] = _normalizer.Normalize(frames, memory.Span.Slice(i * perClip, perClip));
            targets[i] = vocabulary.Encode(sentence);
        });
        return new TrainingBatch(memory, targets, lengths);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for clips 0 … n − 1 in parallel; a clip's own typed error (it names the file) comes out as
    /// itself, not in the parallel loop's wrapper.
    /// </summary>
    private static void ForEachClip(int n, Action<int> body)
    {
        try
        {
            Parallel.For(0, n, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.OfType<LipNetException>().FirstOrDefault() is { } unreadable)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(unreadable).Throw();
        }
    }

    // Per clip set: the indices of each speaker's clips, from the set's own descriptions (stable: not its stand-ins).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<ITrainingClips, Dictionary<string, int[]>> _speakers = new();

    /// <summary>
    /// With <see cref="FrameAugmentOptions.WordSpliceProbability"/>, one word of the clip replaced by the same place's word of a
    /// donor: a clip of the same speaker id (speaker ids are folder names: keep them distinct across corpus roots), another
    /// sentence, with as many timed words. Returns the clip's frames, sentence and word times, spliced or not.
    /// </summary>
    private (VideoFrames Frames, string Sentence, IReadOnlyList<WordTiming> Words) Splice(ITrainingClips clips, TrainingClip clip,
        Random random)
    {
        var unchanged = (clip.Crops, clip.Sentence, clip.Words);
        double chance = _augmenter!.Options.WordSpliceProbability;
        if (chance <= 0 || clip.Words.Count == 0 || random.NextDouble() >= chance)
            return unchanged;
        var speakers = _speakers.GetValue(clips, set =>
        {
            var described = set is SkippingTrainingClips skipping ? skipping.Inner : set;
            return Enumerable.Range(0, described.Count).GroupBy(i => described.Describe(i).Speaker)
                .ToDictionary(g => g.Key, g => g.ToArray());
        });
        if (!speakers.TryGetValue(clip.Speaker, out var same))
            return unchanged;
        // The donor as loaded (a stand-in where the drawn clip is unreadable) must still be the same speaker's.
        var donor = clips.Load(same[random.Next(same.Length)]);
        if (donor.Speaker != clip.Speaker || donor.Id == clip.Id || donor.Words.Count != clip.Words.Count)
            return unchanged;
        return FrameAugmenter.SpliceWord(clip.Crops, clip.Sentence, clip.Words, donor.Crops, donor.Words, random.Next(clip.Words.Count));
    }
}
