using LipNet.ML.Corpora;
using LipNet.ML.Metrics;
using LipNet.ML.Runtime;

namespace LipNet.Samples;

public static class TranscribeSample
{
    /// <summary>
    /// The clips bundled with the repository, each with its GRID align file: two real GRID s1 clips from the held-out list
    /// (CC BY 4.0; samples/data/README.md) and a synthetic one made by `lipnet synth`.
    /// </summary>
    public static IReadOnlyList<string> BundledClips =>
    [
        Path.Combine(RepositoryRoot(), "samples", "data", "grid", "video", "s1", "bwwbzp.mp4"),
        Path.Combine(RepositoryRoot(), "samples", "data", "grid", "video", "s1", "bbaf4p.mp4"),
        Path.Combine(RepositoryRoot(), "samples", "data", "synthetic", "video", "s1", "sbwb8s.mp4"),
    ];

    public static int Run(string[] args, TextWriter output)
    {
        var videos = args.Length > 0 ? args : BundledClips;
        // Beam search constrained to the GRID grammar: the default model reads GRID-style sentences.
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        foreach (var video in videos)
        {
            var result = reader.Transcribe(video);
            output.WriteLine($"{Path.GetFileName(video)}: \"{result.Text}\" (confidence {result.Confidence:F2}, {result.Seconds * 1000:F0} ms)");
            if (GridAlign.FindFor(video) is { } align)
            {
                string truth = string.Join(' ', GridAlign.Load(align).Select(w => w.Word));
                output.WriteLine($"  truth: \"{truth}\", CER {100 * ErrorRates.Score(truth, result.Text).Cer:F1} %");
            }
        }
        return 0;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")))
                return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
