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
/// <param name="Path">The video's path or name.</param>
/// <param name="FrameCount">Frames after resampling to <paramref name="Fps"/>.</param>
/// <param name="Width">Frame width in pixels (upright).</param>
/// <param name="Height">Frame height in pixels (upright).</param>
/// <param name="Fps">Frame rate of the frames used (the model's, when resampled).</param>
/// <param name="SourceFps">The source's stated frame rate.</param>
/// <param name="SourceFrameCount">Frames decoded from the source.</param>
/// <param name="DurationSeconds">The source's duration from its timestamps, seconds.</param>
public sealed record VideoInfo(string Path, int FrameCount, int Width, int Height, double Fps, double SourceFps = 0, int SourceFrameCount = 0, double DurationSeconds = 0)
{
    /// <summary>The video info of a decoded frame stack.</summary>
    public static VideoInfo Of(VideoFrames frames) => new(frames.Source, frames.FrameCount, frames.Width, frames.Height, frames.Fps,
        frames.SourceFps, frames.SourceFrameCount, frames.SourceDurationSeconds);
}

/// <summary>Milliseconds spent in each stage.</summary>
public sealed record StageTimings(double DecodeMs, double CropMs, double NormalizeMs);

/// <summary>
/// The whole front half of the data path in one object: decode → locate and crop the mouth → normalize
/// to a tensor. Thread-safe when its locator is (the built-in ones are).
/// </summary>
public sealed class ClipPreprocessor : IDisposable
{
    private readonly bool _ownsLocator;

    /// <param name="locator">Mouth locator; null = a <see cref="LandmarkMouthLocator"/> (mouth-centred profile), owned and disposed here.</param>
    /// <param name="crop">Crop size (default 100x50).</param>
    /// <param name="normalize">Tensor layout and normalization.</param>
    /// <param name="read">Decoding options, e.g. <see cref="VideoReadOptions.TargetFps"/> to resample to a model's rate.</param>
    /// <param name="ownsLocator">Dispose <paramref name="locator"/> with this preprocessor (a locator created for it).</param>
    public ClipPreprocessor(IMouthLocator? locator = null, MouthCropOptions? crop = null, FrameNormalizeOptions? normalize = null, VideoReadOptions? read = null,
        bool ownsLocator = false)
    {
        _ownsLocator = locator is null || ownsLocator;
        Cropper = new MouthCropper(locator ?? new LandmarkMouthLocator(), crop);
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

    /// <summary>
    /// Up to <paramref name="limit"/> frames decoded into this thread's reused buffer (valid until this thread decodes
    /// again): the one-copy decoding of clips, which a caller that finds more frames than it wants can still stream on from.
    /// </summary>
    internal VideoFrames DecodeHead(VideoReader reader, int limit)
    {
        var frames = reader.ReadAll(_decodeBuffer.Value, limit);
        _decodeBuffer.Value = frames.Pixels;
        return frames;
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

    /// <summary>Crops frames already decoded.</summary>
    public CroppedClip Crop(VideoFrames frames) => Crop(() => frames);

    private CroppedClip Crop(Func<VideoFrames> decode)
    {
        long t0 = Stopwatch.GetTimestamp();
        var frames = decode();
        long t1 = Stopwatch.GetTimestamp();
        var crop = Cropper.Crop(frames);
        long t2 = Stopwatch.GetTimestamp();
        return new CroppedClip(VideoInfo.Of(frames), crop,
            new StageTimings(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, 0));
    }

    public void Dispose()
    {
        _decodeBuffer.Dispose();
        if (_ownsLocator && Cropper.Locator is IDisposable d)
            d.Dispose();
    }
}
