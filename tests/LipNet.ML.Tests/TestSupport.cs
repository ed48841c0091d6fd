using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Tests;

/// <summary>Where the real clips of ../shared/data are, if this checkout has them.</summary>
public static class RealData
{
    public static string? Root { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("LIPNET_SHARED_DATA") is { Length: > 0 } env)
            return Directory.Exists(env) ? env : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")))
            {
                var data = Path.Combine(dir.FullName, "..", "shared", "data");
                return Directory.Exists(data) ? Path.GetFullPath(data) : null;
            }
        }
        return null;
    }

    public static string Grid => Path.Combine(Root!, "grid");
    public static string Lombard => Path.Combine(Root!, "lombard");
    public static string[] GridVideos => Directory.GetFiles(Path.Combine(Grid, "video", "s26"), "*.mpg").Order().ToArray();
    public static string[] LombardVideos => Directory.GetFiles(Lombard, "*.mov").Order().ToArray();
}

/// <summary>A fact that runs only where ../shared/data exists, and says so when skipped.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (RealData.Root is null)
            Skip = "real GRID / Lombard clips not found: ../shared/data is absent (set LIPNET_SHARED_DATA to point at it)";
    }
}

/// <summary>A temporary folder removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lipnet-tests-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Videos the tests make themselves: a moving coloured rectangle on a gradient.</summary>
public static class TestVideos
{
    /// <summary>Writes a clip whose frame t has a bright box centred at <paramref name="center"/>(t).</summary>
    public static string Write(string path, int frames = 20, int width = 160, int height = 120, double fps = 25,
        string fourcc = "MJPG", Func<int, Point>? center = null, Size? boxSize = null)
    {
        var box = boxSize ?? new Size(30, 16);
        using var writer = new VideoWriter(path, FourCC.FromString(fourcc), fps, new Size(width, height));
        if (!writer.IsOpened())
            throw new InvalidOperationException($"VideoWriter could not open {path} with {fourcc}");
        using var frame = new Mat(height, width, MatType.CV_8UC3);
        for (int t = 0; t < frames; t++)
        {
            frame.SetTo(new Scalar(40, 60, 80));
            var c = center?.Invoke(t) ?? new Point(width / 2, height * 2 / 3);
            Cv2.Rectangle(frame, new Rect(c.X - box.Width / 2, c.Y - box.Height / 2, box.Width, box.Height), new Scalar(20, 200, 250), -1);
            writer.Write(frame);
        }
        return path;
    }

    /// <summary>An in-memory frame stack filled by <paramref name="pixel"/>(t, y, x, channel).</summary>
    public static VideoFrames Frames(int frames, int width, int height, Func<int, int, int, int, byte> pixel, PixelOrder order = PixelOrder.Bgr)
    {
        var data = new byte[frames * width * height * 3];
        int i = 0;
        for (int t = 0; t < frames; t++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    for (int c = 0; c < 3; c++)
                        data[i++] = pixel(t, y, x, c);
        return new VideoFrames(data, frames, width, height, 25, order, "<test>");
    }
}

/// <summary>An ILogger that keeps every formatted line (all levels), for tests of what the library logs.</summary>
internal sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    public List<string> Lines { get; } = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
        Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines)
            Lines.Add(formatter(state, exception));
    }
}
