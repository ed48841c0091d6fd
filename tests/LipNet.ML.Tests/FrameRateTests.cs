using System.Diagnostics;
using LipNet.ML.Runtime;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

/// <summary>Decoding by timestamps: other frame rates, variable frame rates, rotation metadata.</summary>
public class FrameRateTests
{
    private static readonly string Original = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "samples", "data", "synthetic", "video", "s1", "sbwb8s.mp4");

    /// <summary>Runs the system ffmpeg (scripts/setup.sh installs it) to make a test copy.</summary>
    internal static void Ffmpeg(params string[] args)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-v", "error", "-y" }.Concat(args))
            start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("ffmpeg is not installed: run scripts/setup.sh (it installs Debian's ffmpeg)", ex);
        }
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ffmpeg {string.Join(' ', args)}: {errors}");
    }

    /// <remarks>
    /// Copies are encoded losslessly (x264 qp 0, the original's yuv420p), so their frames are the original's and only
    /// timing and rotation are under test: with lossy re-encoding (CRF 12) this clip's marginal "b" reads as "p" in some
    /// copies, and in a plain 25 fps re-encode too at other settings — codec noise, not frame choice. The variable-rate
    /// copy has lost every other frame of its first half, so its frames there are neighbours of the original's.
    /// </remarks>
    [Fact]
    public void OtherRatesVariableRatesAndRotatedCopiesReadAsTheOriginal()
    {
        using var dir = new TempDir();
        string Copy(string name, params string[] args)
        {
            var path = dir.File(name);
            Ffmpeg(["-i", Original, .. args, "-c:v", "libx264", "-qp", "0", "-an", path]);
            return path;
        }
        var copies = new Dictionary<string, string>
        {
            ["30 fps"] = Copy("o30.mp4", "-vf", "fps=30"),
            ["60 fps"] = Copy("o60.mp4", "-vf", "fps=60"),
            // Every other frame dropped in the first half, the rest kept: timestamps say where each frame belongs.
            ["variable"] = Copy("vfr.mp4", "-vf", @"select='gte(n\,38)+not(mod(n\,2))'", "-vsync", "vfr"),
        };
        // Pixels turned a quarter clockwise; the display matrix (ffmpeg's rotate=90 tag) turns them back.
        var turned = Copy("turned.mp4", "-vf", "transpose=clock");
        copies["rotated"] = dir.File("rotated.mp4");
        Ffmpeg("-i", turned, "-c", "copy", "-metadata:s:v:0", "rotate=90", copies["rotated"]);

        var originalFrames = VideoLoader.Load(Original);
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        var original = reader.Transcribe(Original);
        Assert.True(ErrorRatesDistance("set blue with b eight soon", original.Text) <= 1, original.Text); // the b/p of this clip is a close call
        foreach (var (name, path) in copies)
        {
            using (var video = VideoReader.Open(path, new VideoReadOptions { TargetFps = 25 }))
            {
                var frames = video.ReadAll();
                Assert.True((75, 360, 288) == (frames.FrameCount, frames.Width, frames.Height), $"{name}: {frames.FrameCount} frames of {frames.Width}x{frames.Height}");
                Assert.InRange(frames.SourceDurationSeconds, 2.95, 3.05);
                // Frame k is the original's frame k (upright), or where the copy dropped it, a neighbour of it.
                bool dropped = name == "variable";
                int exact = 0;
                for (int k = 0; k < 75; k++)
                {
                    double best = double.MaxValue;
                    foreach (int j in dropped ? new[] { k, k - 1, k + 1 } : [k])
                        if (j is >= 0 and < 75)
                            best = Math.Min(best, MeanDifference(frames.Frame(k), originalFrames.Frame(j)));
                    Assert.True(best < 1, $"{name}: frame {k} matches no original frame near it (mean difference {best:0.00})");
                    exact += MeanDifference(frames.Frame(k), originalFrames.Frame(k)) < 1 ? 1 : 0;
                }
                Assert.True(exact >= (dropped ? 55 : 75), $"{name}: {exact} of 75 frames are the original's own");
            }
            var copy = reader.Transcribe(path);
            if (name == "variable")
            {
                // A copy that lost every other frame of its first half may flip a marginal letter (this clip's b/p), no more.
                Assert.True(ErrorRatesDistance(original.Text, copy.Text) <= 1, $"{name} copy read \"{copy.Text}\", the original \"{original.Text}\"");
                continue;
            }
            Assert.True(original.Text == copy.Text, $"{name} copy read \"{copy.Text}\", the original \"{original.Text}\"");
        }
    }

    private static double MeanDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        long sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += Math.Abs(a[i] - b[i]);
        return (double)sum / a.Length;
    }

    private static int ErrorRatesDistance(string a, string b) => Metrics.Levenshtein.Distance(a.AsSpan(), b.AsSpan());

    [Fact]
    public void ReadingWithoutATargetRateKeepsEveryFrame()
    {
        using var dir = new TempDir();
        var path = dir.File("o60.mp4");
        Ffmpeg("-i", Original, "-vf", "fps=60", "-c:v", "libx264", "-crf", "20", "-an", path);
        var frames = VideoLoader.Load(path);
        Assert.Equal(180, frames.FrameCount);
        Assert.Equal(60, frames.Fps, 3);
        Assert.Equal((60.0, 180), (Math.Round(frames.SourceFps, 3), frames.SourceFrameCount));
    }

    [Fact]
    public void ResamplingTakesTheNearestFrameByTimestamp()
    {
        // 60 fps → 25 fps: output k at k·40 ms takes source frame round(k·2.4).
        var r = new FrameRateResampler(25, 60);
        var taken = new List<int>();
        for (int i = 0; i < 180; i++)
        {
            r.Push(i / 60.0, out int n);
            taken.AddRange(Enumerable.Repeat(i - 1, n));
        }
        taken.AddRange(Enumerable.Repeat(179, r.RemainingAtEnd()));
        Assert.Equal(75, taken.Count);
        Assert.All(taken.Select((source, k) => (source, k)), p => Assert.True(Math.Abs(p.source / 60.0 - p.k / 25.0) <= 1 / 120.0 + 1e-9, $"output {p.k} took source {p.source}"));
    }

    [Fact]
    public void TimestampsThatGoBackwardsOrAreMissingAreRepaired()
    {
        var r = new FrameRateResampler(25, 25);
        double[] stamps = [10.00, 10.04, 10.08, 10.02, double.NaN, 10.20];
        var times = stamps.Select(s => r.Push(s, out _)).ToArray();
        Assert.Equal([0, 0.04, 0.08, 0.12, 0.16, 0.20], times.Select(t => Math.Round(t, 6)));
        Assert.Equal(2, r.RepairedTimestamps);
        int total = 0;
        var again = new FrameRateResampler(25, 25);
        foreach (var s in stamps)
        {
            again.Push(s, out int n);
            total += n;
        }
        Assert.Equal(6, total + again.RemainingAtEnd()); // one output frame per source frame, none lost or doubled
    }

    [Fact]
    public void AbsurdTargetRatesAreRefused()
    {
        Assert.Throws<TensorShapeException>(() => new FrameRateResampler(0, 25));
        Assert.Throws<TensorShapeException>(() => new FrameRateResampler(double.NaN, 25));
    }
}
