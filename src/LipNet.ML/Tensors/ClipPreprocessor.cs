using System.Diagnostics;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.ML.Tensors;

/// <summary>Everything the data path makes of one clip.</summary>
/// <param name="Source">Decoded source video metadata (its pixels are not kept).</param>
public sealed record PreprocessedClip(VideoInfo Source, MouthCrop Crop, ClipTensor Tensor, StageTimings Timings);

/// <summary>Size and rate of a decoded video.</summary>
public sealed record VideoInfo(string Path, int FrameCount, int Width, int Height, double Fps);

/// <summary>Milliseconds spent in each stage.</summary>
public sealed record StageTimings(double DecodeMs, double CropMs, double NormalizeMs);

/// <summary>
/// The whole front half of the data path in one object: decode → locate and crop the mouth → normalize
/// to a tensor. Thread-safe when its locator is (the built-in ones are).
/// </summary>
public sealed class ClipPreprocessor : IDisposable
{
    private readonly bool _ownsLocator;

    public ClipPreprocessor(IMouthLocator? locator = null, MouthCropOptions? crop = null, FrameNormalizeOptions? normalize = null, VideoReadOptions? read = null)
    {
        _ownsLocator = locator is null;
        Cropper = new MouthCropper(locator ?? new HaarMouthLocator(), crop);
        Normalizer = new FrameNormalizer(normalize);
        ReadOptions = read ?? VideoReadOptions.Default;
    }

    public MouthCropper Cropper { get; }
    public FrameNormalizer Normalizer { get; }
    public VideoReadOptions ReadOptions { get; }

    public PreprocessedClip Process(string path) => Process(() => VideoLoader.Load(path, ReadOptions));

    public PreprocessedClip Process(Stream stream, string? nameHint = null) => Process(() => VideoLoader.Load(stream, nameHint, ReadOptions));

    /// <summary>Crops and normalizes frames already decoded.</summary>
    public PreprocessedClip Process(VideoFrames frames) => Process(() => frames);

    private PreprocessedClip Process(Func<VideoFrames> decode)
    {
        long t0 = Stopwatch.GetTimestamp();
        var frames = decode();
        long t1 = Stopwatch.GetTimestamp();
        var crop = Cropper.Crop(frames);
        long t2 = Stopwatch.GetTimestamp();
        var tensor = Normalizer.Normalize(crop.Frames);
        long t3 = Stopwatch.GetTimestamp();
        return new PreprocessedClip(
            new VideoInfo(frames.Source, frames.FrameCount, frames.Width, frames.Height, frames.Fps), crop, tensor,
            new StageTimings(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds));
    }

    public void Dispose()
    {
        if (_ownsLocator && Cropper.Locator is IDisposable d)
            d.Dispose();
    }
}
