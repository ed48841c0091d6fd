using BenchmarkDotNet.Running;
using LipNet.ML.Benchmarks;

// `-- --batcher-memory` prints peak managed memory of a lazy epoch over 1k and 10k items
// (a bench command: it measures, it asserts nothing). Anything else goes to BenchmarkDotNet.
if (args.Contains("--batcher-memory"))
{
    BatcherMemory.Report(Console.Out);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(PreprocessBenchmarks).Assembly).Run(args);
