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
// benchmarks/peers/run.sh: the models shared with the PyTorch peer, a plain ONNX Runtime runner, fixed-crop texts.
if (args.Contains("--write-peer-models"))
{
    PeerModes.WriteModels(args[Array.IndexOf(args, "--write-peer-models") + 1], Console.Out);
    return;
}
if (args.Contains("--plain-runner"))
{
    PeerModes.PlainRunner(args, Console.Out);
    return;
}
if (args.Contains("--fixed-texts"))
{
    PeerModes.FixedTexts(args, Console.Out);
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
