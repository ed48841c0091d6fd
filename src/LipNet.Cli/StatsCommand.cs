using System.CommandLine;
using LipNet.ML.Corpora;

namespace LipNet.Cli;

/// <summary><c>lipnet stats &lt;corpus-dir&gt; [--json]</c>: counts, durations, vocabulary, sentence lengths.</summary>
internal static class StatsCommand
{
    public static Command Create(CliIO io)
    {
        var corpus = new Argument<DirectoryInfo>("corpus-dir") { Description = "Corpus root (GRID, Lombard GRID, LRS2/3 or Chinese-LiPS layout)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip malformed or unmatched files and report them instead of stopping." };
        var split = new Option<string?>("--split") { Description = "Also count a split: overlapped:N (N clips per speaker held out) or unseen:N (N speakers held out)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the split.", DefaultValueFactory = _ => 0 };
        var command = new Command("stats", "Corpus statistics: clips per speaker and split, durations, vocabulary, sentence lengths.") { corpus, json, skipBad, split, seed };
        command.SetAction(parse =>
        {
            var reader = CorpusReader.Open(parse.GetValue(corpus)!.FullName, new CorpusReadOptions { SkipBad = parse.GetValue(skipBad) });
            var items = new List<CorpusItem>();
            io.WithProgress($"reading {reader.Name} corpus", 0, tick =>
            {
                foreach (var item in reader.Read())
                {
                    items.Add(item);
                    tick();
                }
            });
            if (items.Count == 0 && reader.Problems.Count == 0)
                throw new LipNet.ML.CorpusFormatException($"no clips found: not a {reader.Name} corpus (e.g. GRID's video/sNN/*.mpg with align/sNN/*.align)", reader.Root);
            var stats = CorpusStats.Compute(reader, items, parse.GetValue(split), parse.GetValue(seed));
            if (parse.GetValue(json))
                io.WriteJson(stats);
            else
                stats.WriteText(io.Out);
            return 0;
        });
        return command;
    }
}

internal sealed record DurationStats(double Total, double Mean, double Min, double Max, int Known);

internal sealed record SplitStats(string Protocol, int Train, int Test, Dictionary<string, int> TrainPerSpeaker, Dictionary<string, int> TestPerSpeaker);

internal sealed record CorpusStats(
    string Corpus, string Root, int Items, int Speakers, SortedDictionary<string, int> PerSpeaker, DurationStats? DurationSeconds,
    int VocabularySize, string Characters, Dictionary<string, int> TopWords, SortedDictionary<int, int> SentenceLengthHistogram,
    SplitStats? Split, IReadOnlyList<CorpusProblem> Problems)
{
    public static CorpusStats Compute(CorpusReader reader, IReadOnlyList<CorpusItem> items, string? split, int seed)
    {
        var perSpeaker = new SortedDictionary<string, int>(items.GroupBy(i => i.Speaker).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);
        var durations = items.Where(i => i.Duration is not null).Select(i => i.Duration!.Value).ToList();
        var words = items.SelectMany(i => i.Sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var wordCounts = words.GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var chars = new string(items.SelectMany(i => i.Sentence).Distinct().Order().ToArray());
        var histogram = new SortedDictionary<int, int>(items.GroupBy(i => i.Sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length).ToDictionary(g => g.Key, g => g.Count()));
        return new CorpusStats(
            reader.Name, reader.Root, items.Count, perSpeaker.Count, perSpeaker,
            durations.Count == 0 ? null : new DurationStats(Math.Round(durations.Sum(), 3), Math.Round(durations.Average(), 3), Math.Round(durations.Min(), 3), Math.Round(durations.Max(), 3), durations.Count),
            wordCounts.Count, chars,
            wordCounts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(20).ToDictionary(p => p.Key, p => p.Value),
            histogram, split is null ? null : ComputeSplit(items, split, seed), reader.Problems);
    }

    private static SplitStats ComputeSplit(IReadOnlyList<CorpusItem> items, string spec, int seed)
    {
        var split = TrainCommands.Split(spec, items, seed);
        static Dictionary<string, int> Count(IEnumerable<CorpusItem> s) => s.GroupBy(i => i.Speaker).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        return new SplitStats(spec, split.Train.Count, split.Test.Count, Count(split.Train), Count(split.Test));
    }

    public void WriteText(TextWriter w)
    {
        w.WriteLine($"{Corpus} corpus at {Root}: {Items} clips, {Speakers} speakers");
        foreach (var (speaker, count) in PerSpeaker)
            w.WriteLine($"  {speaker,-12} {count,6}");
        if (DurationSeconds is { } d)
            w.WriteLine($"duration: {d.Total:0.0} s in all, mean {d.Mean:0.00} s, min {d.Min:0.00} s, max {d.Max:0.00} s ({d.Known} clips with known length)");
        w.WriteLine($"vocabulary: {VocabularySize} words, characters [{Characters}]");
        w.WriteLine("top words: " + string.Join(", ", TopWords.Select(p => $"{p.Key} {p.Value}")));
        w.WriteLine("sentence length (words): " + string.Join(", ", SentenceLengthHistogram.Select(p => $"{p.Key}: {p.Value}")));
        if (Split is { } s)
            w.WriteLine($"split {s.Protocol}: train {s.Train}, test {s.Test} (test speakers: {string.Join(", ", s.TestPerSpeaker.Keys)})");
        if (Problems.Count > 0)
        {
            w.WriteLine($"skipped {Problems.Count} file(s):");
            foreach (var p in Problems)
                w.WriteLine($"  {p.Path}: {p.Reason}");
        }
    }
}
