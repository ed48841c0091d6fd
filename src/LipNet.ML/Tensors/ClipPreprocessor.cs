using System.Diagnostics;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.ML.Tensors;

/// <summary>Everything the data path makes of one clip.</summary>
/// <param name="Source">Decoded source video metadata (its pixels are not kept).</param>
/// <param name="Crop">The mouth crops, [T, crop height, crop width, 3] bytes, with the box of each frame in source pixels.</param>
/// <param name="Tensor">The normalized crops, the model's input (e.g. [3, 75, 50, 100] CTHW) and their real frame count.</param>
/// <param name="Timings">Time spent decoding, cropping and normalizing this clip.</param>
public sealed record PreprocessedClip(VideoInfo Source, MouthCrop Crop, ClipTensor Tensor, StageTimings Timings);

/// <summary>A decoded and cropped clip, not yet normalized.</summary>
/// <param name="Source">Decoded source video metadata (its pixels are not kept).</param>
/// <param name="Crop">The mouth crops, [T, crop height, crop width, 3] bytes, with the box of each frame in source pixels.</param>
/// <param name="Timings">Time spent decoding and cropping (<see cref="StageTimings.NormalizeMs"/> is 0).</param>
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
/// <param name="DecodeMs">Opening and decoding the video, milliseconds (≈ 0 when the frames were passed in decoded).</param>
/// <param name="CropMs">Locating the mouth and cutting the crops, milliseconds.</param>
/// <param name="NormalizeMs">Turning the crops into the float tensor, milliseconds.</param>
public sealed record StageTimings(double DecodeMs, double CropMs, double NormalizeMs);

/// <summary>
/// The whole front half of the data path in one object: decode → locate and crop the mouth → normalize
/// to a tensor. Thread-safe when its locator is (the built-in ones are).
/// </summary>
public sealed class ClipPreprocessor : IDisposable
{
    private readonly bool _ownsLocator;

    /// <summary>A preprocessor from a locator and the crop, tensor and decoding settings.</summary>
    /// <param name="locator">Mouth locator; null = a <see cref="LandmarkMouthLocator"/> (mouth-centred profile), owned and disposed here.</param>
    /// <param name="crop">Crop size (default 100x50).</param>
    /// <param name="normalize">Tensor layout and normalization.</param>
    /// <param name="read">Decoding options, e.g. <see cref="VideoReadOptions.TargetFps"/> to resample to a model's rate.</param>
    /// <param name="ownsLocator">Dispose <paramref name="locator"/> with this preprocessor (a locator created for it).</param>
    /// <exception cref="TensorShapeException">A crop size outside 4..4096 pixels, or normalization options out of range.</exception>
    /// <exception cref="Runtime.ModelLoadException">No locator given and the landmark locator's models fail to load.</exception>
    public ClipPreprocessor(IMouthLocator? locator = null, MouthCropOptions? crop = null, FrameNormalizeOptions? normalize = null, VideoReadOptions? read = null,
        bool ownsLocator = false)
    {
        _ownsLocator = locator is null || ownsLocator;
        Cropper = new MouthCropper(locator ?? new LandmarkMouthLocator(), crop);
        Normalizer = new FrameNormalizer(normalize);
        ReadOptions = read ?? VideoReadOptions.Default;
    }

    /// <summary>Locates and crops the mouth (its <see cref="MouthCropper.Locator"/> and crop size).</summary>
    public MouthCropper Cropper { get; }

    /// <summary>Turns crops into the model's tensor.</summary>
    public FrameNormalizer Normalizer { get; }

    /// <summary>How videos are decoded: channel order, frame limit, resampling to a model's frame rate.</summary>
    public VideoReadOptions ReadOptions { get; }

    // Full frames live only until they are cropped, so each thread decodes into one reused buffer.
    private readonly ThreadLocal<byte[]?> _decodeBuffer = new();
    private bool _disposed;

    /// <summary>Decodes the video file at <paramref name="path"/>, crops the mouth and normalizes the crops to a tensor.</summary>
    /// <param name="path">A video file (or stream URL) that OpenCV's FFmpeg backend reads.</param>
    /// <returns>The source's metadata, the crops with their boxes, the tensor and the time of each stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="VideoDecodeException">The video is missing, empty, corrupt, absurdly large or has no decodable frame.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public PreprocessedClip Process(string path) => Process(() => Decode(VideoReader.Open(path, ReadOptions)));

    /// <summary>As <see cref="Process(string)"/> for a video held in a stream (copied to a temporary file to decode).</summary>
    /// <param name="stream">The encoded video, read from its current position.</param>
    /// <param name="nameHint">Original file name: its extension helps the demuxer and it names the clip in errors.</param>
    /// <returns>The source's metadata, the crops with their boxes, the tensor and the time of each stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="VideoDecodeException">The video is missing, empty, corrupt, absurdly large or has no decodable frame.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public PreprocessedClip Process(Stream stream, string? nameHint = null) => Process(() => Decode(VideoReader.Open(stream, nameHint, ReadOptions)));

    private VideoFrames Decode(VideoReader reader)
    {
        using (reader)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        var frames = reader.ReadAll(_decodeBuffer.Value, limit);
        _decodeBuffer.Value = frames.Pixels;
        return frames;
    }

    /// <summary>Crops and normalizes frames already decoded.</summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <returns>The clip's metadata, the crops with their boxes, the tensor and the time of each stage (decoding ≈ 0 ms).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
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
    /// <param name="path">A video file (or stream URL).</param>
    /// <returns>The source's metadata, the crops with their boxes and the decode and crop times.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="VideoDecodeException">The video is missing, empty, corrupt, absurdly large or has no decodable frame.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public CroppedClip Crop(string path) => Crop(() => Decode(VideoReader.Open(path, ReadOptions)));

    /// <summary>As <see cref="Crop(string)"/> for a video held in a stream (copied to a temporary file to decode).</summary>
    /// <param name="stream">The encoded video, read from its current position.</param>
    /// <param name="nameHint">Original file name: its extension helps the demuxer and it names the clip in errors.</param>
    /// <returns>The source's metadata, the crops with their boxes and the decode and crop times.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="VideoDecodeException">The video is missing, empty, corrupt, absurdly large or has no decodable frame.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public CroppedClip Crop(Stream stream, string? nameHint = null) => Crop(() => Decode(VideoReader.Open(stream, nameHint, ReadOptions)));

    /// <summary>Crops frames already decoded.</summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <returns>The clip's metadata, the crops with their boxes and the crop time (decoding ≈ 0 ms).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">The locator finds no mouth (e.g. no face in any frame).</exception>
    public CroppedClip Crop(VideoFrames frames) => Crop(() => frames);

    private CroppedClip Crop(Func<VideoFrames> decode)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long t0 = Stopwatch.GetTimestamp();
        var frames = decode();
        long t1 = Stopwatch.GetTimestamp();
        var crop = Cropper.Crop(frames);
        long t2 = Stopwatch.GetTimestamp();
        return new CroppedClip(VideoInfo.Of(frames), crop,
            new StageTimings(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, 0));
    }

    /// <summary>Frees the per-thread decode buffers and disposes the locator when this preprocessor owns it.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _decodeBuffer.Dispose();
        if (_ownsLocator && Cropper.Locator is IDisposable d)
            d.Dispose();
    }
}
