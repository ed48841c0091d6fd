using System.Diagnostics;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.ML.Tensors;

/// <summary>Everything the data path makes of one clip.</summary>
/// <param name="Source">Decoded source video metadata (its pixels are not kept).</param>
public sealed record PreprocessedClip(VideoInfo Source, MouthCrop Crop, ClipTensor Tensor, StageTimings Timings);

/// <summary>A decoded and cropped clip, not yet normalized.</summary>
public sealed record CroppedClip(VideoInfo Source, MouthCrop Crop, StageTimings Timings);

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

    // Full frames live only until they are cropped, so each thread decodes into one reused buffer.
    private readonly ThreadLocal<byte[]?> _decodeBuffer = new();

    public PreprocessedClip Process(string path) => Process(() => Decode(VideoReader.Open(path, ReadOptions)));

    public PreprocessedClip Process(Stream stream, string? nameHint = null) => Process(() => Decode(VideoReader.Open(stream, nameHint, ReadOptions)));

    private VideoFrames Decode(VideoReader reader)
    {
        using (reader)
        {
            var frames = reader.ReadAll(_decodeBuffer.Value);
            _decodeBuffer.Value = frames.Pixels;
            return frames;
        }
    }

    /// <summary>Crops and normalizes frames already decoded.</summary>
    public PreprocessedClip Process(VideoFrames frames) => Process(() => frames);

    private PreprocessedClip Process(Func<VideoFrames> decode)
    {
        var cropped = Crop(decode);
        long t0 = Stopwatch.GetTimestamp();
        var tensor = Normalizer.Normalize(cropped.Crop.Frames);
        return new PreprocessedClip(cropped.Source, cropped.Crop, tensor,
            cropped.Timings with { NormalizeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds });
    }

    /// <summary>Decodes and crops only; normalize later with <see cref="Normalizer"/> into a buffer of the caller's (a batch).</summary>
    public CroppedClip Crop(string path) => Crop(() => Decode(VideoReader.Open(path, ReadOptions)));

    public CroppedClip Crop(Stream stream, string? nameHint = null) => Crop(() => Decode(VideoReader.Open(stream, nameHint, ReadOptions)));

    private CroppedClip Crop(Func<VideoFrames> decode)
    {
        long t0 = Stopwatch.GetTimestamp();
        var frames = decode();
        long t1 = Stopwatch.GetTimestamp();
        var crop = Cropper.Crop(frames);
        long t2 = Stopwatch.GetTimestamp();
        return new CroppedClip(new VideoInfo(frames.Source, frames.FrameCount, frames.Width, frames.Height, frames.Fps), crop,
            new StageTimings(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, 0));
    }

    public void Dispose()
    {
        _decodeBuffer.Dispose();
        if (_ownsLocator && Cropper.Locator is IDisposable d)
            d.Dispose();
    }
}
