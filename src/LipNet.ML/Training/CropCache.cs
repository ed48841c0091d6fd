using LipNet.ML.Video;

namespace LipNet.ML.Training;

/// <summary>
/// Mouth crops kept on disk between runs, so a second training run (or a resumed one) does not decode videos and
/// detect faces again. One file per clip under <see cref="Directory"/>, named by a hash of the video's full path,
/// size and modification time and of the crop settings (<paramref name="settings"/>: profile, crop size, frame rate),
/// so a changed video or another profile never reads stale crops. Files are written to a temporary name and renamed.
/// Thread-safe.
/// </summary>
/// <param name="directory">Folder for the cache files (created on demand).</param>
/// <param name="settings">What the crops depend on besides the video, e.g. "mouth-centred 100x50 25fps".</param>
public sealed class CropCache(string directory, string settings)
{
    private const uint Magic = 0x4C4E4352; // "RCNL"

    /// <summary>The cache folder.</summary>
    public string Directory { get; } = directory;

    /// <summary>The crop settings the cache is keyed on.</summary>
    public string Settings { get; } = settings;

    /// <summary>The default folder: $XDG_CACHE_HOME/lipnet/crops, else ~/.cache/lipnet/crops.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "lipnet", "crops");

    private string FileFor(string videoPath) => DerivedFileCache.PathFor(Directory, videoPath, Settings, ".crops");

    /// <summary>The cached crops of <paramref name="videoPath"/>, or null (absent, or unreadable and then ignored).</summary>
    public VideoFrames? TryLoad(string videoPath)
    {
        if (!File.Exists(videoPath))
            return null;
        return DerivedFileCache.TryRead(FileFor(videoPath), reader =>
        {
            if (reader.ReadUInt32() != Magic)
                return null;
            int frames = reader.ReadInt32(), width = reader.ReadInt32(), height = reader.ReadInt32();
            double fps = reader.ReadDouble();
            var order = (PixelOrder)reader.ReadInt32();
            long bytes = (long)frames * width * height * VideoFrames.Channels;
            if (frames <= 0 || width <= 0 || height <= 0 || bytes > Array.MaxLength)
                return null;
            var pixels = reader.ReadBytes((int)bytes);
            return pixels.Length == bytes ? new VideoFrames(pixels, frames, width, height, fps, order, videoPath) : null;
        });
    }

    /// <summary>Stores the crops of <paramref name="videoPath"/> (best effort: a full disk only costs the cache).</summary>
    public void Store(string videoPath, VideoFrames crops)
    {
        DerivedFileCache.Write(FileFor(videoPath), writer =>
        {
            writer.Write(Magic);
            writer.Write(crops.FrameCount);
            writer.Write(crops.Width);
            writer.Write(crops.Height);
            writer.Write(crops.Fps);
            writer.Write((int)crops.Order);
            writer.Write(crops.Pixels, 0, crops.FrameCount * crops.FrameByteCount);
        });
    }
}
