using LipNet.ML.Corpora;
using LipNet.ML.Metrics;
using LipNet.ML.Runtime;

namespace LipNet.Samples;

public static class TranscribeSample
{
    /// <summary>The clip bundled with the repository (made by `lipnet synth`, with its GRID align file).</summary>
    public static string BundledClip => Path.Combine(RepositoryRoot(), "samples", "data", "synthetic", "video", "s1", "sbwb8s.mp4");

    public static int Run(string[] args, TextWriter output)
    {
        var videos = args.Length > 0 ? args : [BundledClip];
        // Beam search constrained to the GRID grammar: the default model reads GRID-style sentences.
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        foreach (var video in videos)
        {
            var result = reader.Transcribe(video);
            output.WriteLine($"{Path.GetFileName(video)}: \"{result.Text}\" (confidence {result.Confidence:F2}, {result.Seconds * 1000:F0} ms)");
            if (GridAlign.FindFor(video) is { } align)
            {
                string truth = string.Join(' ', GridAlign.Load(align).Select(w => w.Word));
                output.WriteLine($"  truth: \"{truth}\", CER {ErrorRates.Score(truth, result.Text).Cer:P1}");
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
