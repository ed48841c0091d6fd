namespace LipNet.ML.Corpora;

/// <summary>A train/test division of corpus items.</summary>
public sealed record CorpusSplit(IReadOnlyList<CorpusItem> Train, IReadOnlyList<CorpusItem> Test);

/// <summary>
/// The two protocols of the LipNet paper, seeded: <b>overlapped</b> speakers (every speaker in both
/// sets, a number of clips per speaker held out) and <b>unseen</b> speakers (whole speakers held out).
/// </summary>
public static class CorpusSplits
{
    /// <summary>Holds out <paramref name="heldOutPerSpeaker"/> random clips of every speaker for testing.</summary>
    public static CorpusSplit Overlapped(IEnumerable<CorpusItem> items, int heldOutPerSpeaker, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heldOutPerSpeaker);
        var random = new Random(seed);
        var train = new List<CorpusItem>();
        var test = new List<CorpusItem>();
        foreach (var group in items.GroupBy(i => i.Speaker).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var clips = group.OrderBy(i => i.Id, StringComparer.Ordinal).ToArray();
            random.Shuffle(clips);
            int n = Math.Min(heldOutPerSpeaker, clips.Length);
            test.AddRange(clips.Take(n));
            train.AddRange(clips.Skip(n));
        }
        return new CorpusSplit(train, test);
    }

    /// <summary>Holds out the named speakers entirely.</summary>
    public static CorpusSplit Unseen(IEnumerable<CorpusItem> items, IReadOnlyCollection<string> testSpeakers)
    {
        var set = testSpeakers.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var all = items.ToList();
        return new CorpusSplit(all.Where(i => !set.Contains(i.Speaker)).ToList(), all.Where(i => set.Contains(i.Speaker)).ToList());
    }

    /// <summary>Holds out <paramref name="testSpeakerCount"/> speakers picked at random.</summary>
    public static CorpusSplit Unseen(IEnumerable<CorpusItem> items, int testSpeakerCount, int seed)
    {
        var all = items.ToList();
        var speakers = all.Select(i => i.Speaker).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (testSpeakerCount < 0 || testSpeakerCount >= speakers.Length)
            throw new ArgumentOutOfRangeException(nameof(testSpeakerCount), testSpeakerCount, $"the corpus has {speakers.Length} speaker(s); at least one must stay for training");
        new Random(seed).Shuffle(speakers);
        return Unseen(all, speakers.Take(testSpeakerCount).ToArray());
    }
}

/// <summary>
/// The batch generator of the classic LipNet training scripts: the item list is shuffled at the start of
/// each epoch (seeded by seed and epoch), cut into batches of a fixed size, and the last batch is filled
/// up by wrapping around to the start of the list (their <c>get_list_safe</c>), so every batch is full.
/// Items are loaded only when their batch is reached, so memory holds one batch, not the corpus.
/// </summary>
public sealed class EpochBatcher<T>
{
    private readonly IReadOnlyList<T> _items;

    /// <summary>A batcher over <paramref name="items"/>, kept by reference (not copied): do not change the list while batching.</summary>
    /// <param name="items">The items of one epoch, e.g. the training <see cref="CorpusItem"/>s; at least one.</param>
    /// <param name="batchSize">Items per batch, at least 1; may exceed the item count (the list then wraps within a batch).</param>
    /// <param name="seed">Seed of the per-epoch shuffles.</param>
    /// <param name="shuffle">False keeps the list order every epoch (for evaluation).</param>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="items"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public EpochBatcher(IReadOnlyList<T> items, int batchSize, int seed, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
            throw new ArgumentException("cannot batch an empty list", nameof(items));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _items = items;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
    }

    /// <summary>Items per batch; every batch has exactly this many.</summary>
    public int BatchSize { get; }

    /// <summary>Seed of the shuffles; epoch e uses the seed combined with e, so any epoch can be replayed on its own.</summary>
    public int Seed { get; }

    /// <summary>Whether each epoch's order is shuffled; false = the list order.</summary>
    public bool Shuffle { get; }

    /// <summary>Batches in one epoch: ceil(items / batch size).</summary>
    public int BatchesPerEpoch => (_items.Count + BatchSize - 1) / BatchSize;

    /// <summary>The item order of an epoch (a permutation of indices, deterministic in seed and epoch).</summary>
    public int[] EpochOrder(int epoch)
    {
        var order = Enumerable.Range(0, _items.Count).ToArray();
        if (Shuffle)
            new Random(StableSeed.Combine(Seed, epoch)).Shuffle(order);
        return order;
    }

    /// <summary>The batches of one epoch, each exactly <see cref="BatchSize"/> items.</summary>
    public IEnumerable<T[]> Epoch(int epoch)
    {
        var order = EpochOrder(epoch);
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            var batch = new T[BatchSize];
            for (int i = 0; i < BatchSize; i++)
                batch[i] = _items[order[(start + i) % order.Length]];
            yield return batch;
        }
    }

    /// <summary>Batches of one epoch with each item loaded (e.g. decoded to a tensor) only when its batch is reached.</summary>
    public IEnumerable<TLoaded[]> Epoch<TLoaded>(int epoch, Func<T, TLoaded> load)
    {
        foreach (var batch in Epoch(epoch))
            yield return Array.ConvertAll(batch, item => load(item));
    }
}
