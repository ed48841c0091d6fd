using LipNet.ML.Face;
using LipNet.ML.Mouth;
using LipNet.ML.Training;
using LipNet.ML.Video;

namespace LipNet.ML.Keypoints;

/// <summary>
/// The true lip keypoints of a video: decoded at <see cref="Fps"/>, Face Mesh landmarks on every frame (the landmark front end,
/// <see cref="LandmarkMouthLocator"/>, gaps interpolated), normalised by <see cref="LipKeypoints.Normalize"/>. Results are cached
/// per video and settings (a second pass over a corpus reads them back instead of running Face Mesh again). Not thread-safe:
/// one extractor per thread.
/// </summary>
public sealed class KeypointExtractor : IDisposable
{
    private const uint Magic = 0x4C4E4B50; // "PKNL"
    private readonly LandmarkMouthLocator _locator;
    private readonly string? _cache;
    private readonly string _settings;

    /// <summary>An extractor over the embedded front-end models.</summary>
    /// <param name="fps">Video frames per second the keypoints are for (the model's rate; GRID: 25).</param>
    /// <param name="cacheDirectory">Where extracted keypoints are cached; null = no cache.</param>
    /// <param name="tracker">Face detector and tracker settings; null = defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fps"/> is not positive.</exception>
    public KeypointExtractor(double fps = 25, string? cacheDirectory = null, FaceTrackerOptions? tracker = null)
    {
        if (!(fps > 0))
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "the frame rate must be positive");
        Fps = fps;
        _cache = cacheDirectory;
        _locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Tracker = tracker ?? new FaceTrackerOptions(), LandmarkEvery = 1 });
        // Every setting that changes the keypoints is in the cache key (the tracker's settings as the record prints them).
        _settings = $"keypoints-v1|fps={Fps.ToString(System.Globalization.CultureInfo.InvariantCulture)}|every=1|{_locator.Options.Tracker}";
    }

    /// <summary>The default cache folder: <c>$XDG_CACHE_HOME/lipnet/keypoints</c> or <c>~/.cache/lipnet/keypoints</c>.</summary>
    public static string DefaultCacheDirectory => Path.Combine(Path.GetDirectoryName(CropCache.DefaultDirectory)!, "keypoints");

    /// <summary>Video frames per second the keypoints are for.</summary>
    public double Fps { get; }

    /// <summary>The normalised lip keypoints of every frame of <paramref name="videoPath"/> (at <see cref="Fps"/>).</summary>
    /// <param name="videoPath">A video the library reads.</param>
    /// <returns>The keypoints, one frame per video frame.</returns>
    /// <exception cref="VideoDecodeException">The video is missing, unreadable or has no frames.</exception>
    /// <exception cref="MouthLocatorException">No face is found in any frame.</exception>
    public KeypointSequence Extract(string videoPath)
    {
        ArgumentNullException.ThrowIfNull(videoPath);
        string? file = _cache is null || !File.Exists(videoPath) ? null : DerivedFileCache.PathFor(_cache, videoPath, _settings, ".keypoints");
        if (file is not null && DerivedFileCache.TryRead(file, Read) is { } cached)
            return cached;
        var frames = VideoLoader.Load(videoPath, new VideoReadOptions { TargetFps = Fps });
        var keypoints = LipKeypoints.Normalize(_locator.Landmarks(frames, out _));
        if (file is not null)
            DerivedFileCache.Write(file, writer => Write(writer, keypoints));
        return keypoints;
    }

    private static KeypointSequence? Read(BinaryReader reader)
    {
        if (reader.ReadUInt32() != Magic)
            return null;
        int frames = reader.ReadInt32();
        float scale = reader.ReadSingle();
        if (frames <= 0 || frames > 1_000_000)
            return null;
        var poses = new MouthPose[frames];
        for (int t = 0; t < frames; t++)
            poses[t] = new MouthPose(reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle());
        var points = new float[frames * LipKeypoints.Values];
        for (int i = 0; i < points.Length; i++)
            points[i] = reader.ReadSingle();
        return new KeypointSequence(points, frames, poses, scale);
    }

    private static void Write(BinaryWriter writer, KeypointSequence keypoints)
    {
        writer.Write(Magic);
        writer.Write(keypoints.Frames);
        writer.Write(keypoints.Scale);
        foreach (var p in keypoints.Poses)
        {
            writer.Write(p.CenterX);
            writer.Write(p.CenterY);
            writer.Write(p.Width);
            writer.Write(p.Angle);
        }
        foreach (float v in keypoints.Points)
            writer.Write(v);
    }

    /// <summary>Releases the front end's ONNX sessions.</summary>
    public void Dispose() => _locator.Dispose();
}
