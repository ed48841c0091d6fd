using LipNet.ML.Corpora;
using LipNet.ML.Metrics;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;

namespace LipNet.Samples;

public static class EvaluateSample
{
    public static int Run(string[] args, TextWriter output, int speakers = 2, int clipsPerSpeaker = 3)
    {
        string root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), $"lipnet-eval-sample-{speakers}x{clipsPerSpeaker}");
        if (args.Length == 0)
        {
            // Seed 7: speakers the default model never saw (it trained on seed 0's speakers). Resumable: kept clips are reused.
            var report = SyntheticCorpus.Write(root, new SyntheticCorpusOptions { Speakers = speakers, ClipsPerSpeaker = clipsPerSpeaker, Seed = 7, Format = SyntheticVideoFormat.Mp4 });
            output.WriteLine($"{root}: {report.Written} clips rendered, {report.Skipped} already there");
        }
        var reader = CorpusReader.Open(root, new CorpusReadOptions { SkipBad = true });
        var items = reader.Read().ToList();
        using var lipReader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        var (results, failures) = lipReader.TranscribeMany(items.Select(i => i.VideoPath).ToList());
        var bySource = items.ToDictionary(i => i.VideoPath);
        var scored = ErrorRates.Report(
            results.Select(r => bySource[r.Source].Sentence).ToList(), results.Select(r => r.Text).ToList(),
            results.Select(r => (string?)bySource[r.Source].Speaker).ToList());
        output.WriteLine($"{scored.Overall.Sentences} sentences: CER {scored.Overall.Cer:P2}, WER {scored.Overall.Wer:P2} " +
                         $"(95% interval of CER {scored.CerInterval.Lower:P2}..{scored.CerInterval.Upper:P2})");
        foreach (var (speaker, s) in scored.PerSpeaker)
            output.WriteLine($"  {speaker}: {s.Sentences} sentences, CER {s.Cer:P2}, WER {s.Wer:P2}");
        foreach (var problem in reader.Problems.Select(p => (p.Path, p.Reason)).Concat(failures.Select(f => (f.Source, f.Reason))))
            output.WriteLine($"  skipped {problem.Item1}: {problem.Item2}");
        return 0;
    }
}
