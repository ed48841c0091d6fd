using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using LipNet.ML.Corpora;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// One epoch of the lazy batch generator, each item "loaded" as a full 3x75x50x100 tensor. Memory must
/// not grow with the corpus: peak managed memory for 1k and 10k items should match.
/// </summary>
[MemoryDiagnoser]
public class BatcherMemory
{
    [Params(1_000, 10_000)]
    public int Items { get; set; }

    private CorpusItem[] _items = [];

    [GlobalSetup]
    public void Setup() => _items = MakeItems(Items);

    private static CorpusItem[] MakeItems(int n) =>
        Enumerable.Range(0, n).Select(i => new CorpusItem($"c{i}", $"s{i % 33}", $"/corpus/s{i % 33}/c{i}.mpg", null, "bin blue at a zero now", [], "grid")).ToArray();

    private static float[] Load(CorpusItem item)
    {
        var tensor = new float[3 * 75 * 50 * 100];
        tensor[item.Id.Length] = 1;
        return tensor;
    }

    [Benchmark(Description = "one epoch, batch 32, lazy tensors")]
    public long Epoch() => RunEpoch(_items, measureEvery: 0, out _);

    /// <param name="measureEvery">Every N-th batch, collect and record live managed memory (0 = never).</param>
    private static long RunEpoch(CorpusItem[] items, int measureEvery, out long peakLiveBytes)
    {
        var batcher = new EpochBatcher<CorpusItem>(items, 32, seed: 1);
        long checksum = 0;
        int index = 0;
        peakLiveBytes = 0;
        foreach (var batch in batcher.Epoch(0, Load))
        {
            checksum += batch.Length;
            if (measureEvery > 0 && index++ % measureEvery == 0)
                peakLiveBytes = Math.Max(peakLiveBytes, GC.GetTotalMemory(forceFullCollection: true));
        }
        return checksum;
    }

    public static void Report(TextWriter output)
    {
        foreach (int n in new[] { 1_000, 10_000 })
        {
            var items = MakeItems(n);
            GC.Collect();
            long before = GC.GetTotalMemory(true);
            var sw = Stopwatch.StartNew();
            RunEpoch(items, measureEvery: 10, out long peak);
            output.WriteLine($"{n,6} items: {sw.Elapsed.TotalSeconds,6:0.00} s, item list {before / 1048576.0,6:0.0} MiB, peak live managed memory during the epoch {peak / 1048576.0,7:0.0} MiB (one batch of 32 tensors = {32 * 3 * 75 * 50 * 100 * 4 / 1048576.0:0.0} MiB)");
        }
    }
}
