using BenchmarkDotNet.Running;
using LipNet.ML.Benchmarks;

// `-- --batcher-memory` prints peak managed memory of a lazy epoch over 1k and 10k items
// (a bench command: it measures, it asserts nothing). Anything else goes to BenchmarkDotNet.
if (args.Contains("--batcher-memory"))
{
    BatcherMemory.Report(Console.Out);
    return;
}
if (args.Contains("--model-loop"))
{
    ModelLoop.Report(Console.Out);
    return;
}
if (args.Contains("--write-pairs"))
{
    // Sentence pairs for the C reference: dotnet run ... -- --write-pairs | levenshtein_c/levenshtein
    var (refs, hyps) = MetricsBenchmarks.SentencePairs(10_000, seed: 1);
    for (int i = 0; i < refs.Length; i++)
        Console.WriteLine($"{refs[i]}\t{hyps[i]}");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(PreprocessBenchmarks).Assembly).Run(args);
