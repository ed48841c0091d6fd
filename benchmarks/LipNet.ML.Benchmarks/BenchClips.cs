using OpenCvSharp;

namespace LipNet.ML.Benchmarks;

/// <summary>The clip benchmarks run on: a real GRID clip when ../shared/data is there, else one generated here.</summary>
internal static class BenchClips
{
    public static string GridClip()
    {
        if (Environment.GetEnvironmentVariable("LIPNET_BENCH_CLIP") is { Length: > 0 } clip && File.Exists(clip))
            return clip;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var grid = Path.Combine(dir.FullName, "..", "shared", "data", "grid", "video", "s26");
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")) && Directory.Exists(grid))
                return Directory.GetFiles(grid, "*.mpg").Order().First();
        }
        return Generated();
    }

    /// <summary>A clip with a real (or, without ../shared, the bundled synthetic) face, for the landmark locator.</summary>
    public static string FaceClip()
    {
        var clip = GridClip();
        if (!clip.EndsWith("lipnet-bench-clip.avi", StringComparison.Ordinal))
            return clip;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")))
                return Path.Combine(dir.FullName, "samples", "data", "synthetic", "video", "s1", "sbwb8s.mp4");
        throw new FileNotFoundException("no clip with a face for the landmark benchmarks");
    }

    /// <summary>75 frames of 360x288 at 25 fps (GRID's format), MJPG.</summary>
    private static string Generated()
    {
        var path = Path.Combine(Path.GetTempPath(), "lipnet-bench-clip.avi");
        if (File.Exists(path))
            return path;
        using var writer = new VideoWriter(path, FourCC.MJPG, 25, new Size(360, 288));
        using var frame = new Mat(288, 360, MatType.CV_8UC3);
        for (int t = 0; t < 75; t++)
        {
            frame.SetTo(new Scalar(200, 160, 40));
            Cv2.Ellipse(frame, new Point(180, 150), new Size(60, 80), 0, 0, 360, new Scalar(120, 150, 200), -1);
            Cv2.Ellipse(frame, new Point(180, 195), new Size(22, 4 + t % 10), 0, 0, 360, new Scalar(60, 60, 170), -1);
            writer.Write(frame);
        }
        return path;
    }
}
