namespace LipNet.ML.Video;

/// <summary>Byte order of the three colour channels of a pixel.</summary>
public enum PixelOrder
{
    /// <summary>Blue, green, red: OpenCV's native order.</summary>
    Bgr,
    /// <summary>Red, green, blue: what PyTorch/PIL-trained models usually expect.</summary>
    Rgb,
}

/// <summary>
/// A stack of equally sized 8-bit frames in one contiguous buffer, laid out T x H x W x C
/// (C = 3 interleaved colour channels). Decoded videos and mouth crops are both frame stacks, so
/// every stage reads and writes one representation without per-frame objects.
/// </summary>
public sealed class VideoFrames
{
    /// <summary>
    /// Wraps <paramref name="pixels"/> (not copied) as <paramref name="frameCount"/> frames of <paramref name="width"/> x
    /// <paramref name="height"/> pixels.
    /// </summary>
    /// <param name="pixels">Frames laid out T x H x W x 3, interleaved; may be longer than needed (the rest is ignored).</param>
    /// <param name="frameCount">T, the number of frames (0 allowed).</param>
    /// <param name="width">Frame width in pixels, positive.</param>
    /// <param name="height">Frame height in pixels, positive.</param>
    /// <param name="fps">Frame rate in frames per second (0 = unknown).</param>
    /// <param name="order">Channel order of the bytes.</param>
    /// <param name="source">Where the frames came from (a path or a description), named in errors.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pixels"/> is null.</exception>
    /// <exception cref="TensorShapeException">
    /// A negative frame count, a non-positive size, or a buffer shorter than frameCount x height x width x 3 bytes.
    /// </exception>
    public VideoFrames(byte[] pixels, int frameCount, int width, int height, double fps, PixelOrder order, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (frameCount < 0 || width <= 0 || height <= 0 || (long)width * height * Channels > Array.MaxLength)
            throw new TensorShapeException($"invalid frame stack size {frameCount}x{height}x{width}", source);
        long needed = (long)frameCount * height * width * Channels;
        if (pixels.LongLength < needed)
            throw new TensorShapeException($"pixel buffer holds {pixels.LongLength} bytes, {needed} needed for {frameCount} frames of {width}x{height}", source);
        Pixels = pixels;
        FrameCount = frameCount;
        Width = width;
        Height = height;
        Fps = fps;
        Order = order;
        Source = source;
    }

    /// <summary>Colour channels per pixel; always 3.</summary>
    public const int Channels = 3;

    /// <summary>All frames, T x H x W x 3. May be longer than <see cref="FrameCount"/> frames (pooled capacity).</summary>
    public byte[] Pixels { get; }

    /// <summary>T, the number of frames in the stack (0 or more).</summary>
    public int FrameCount { get; }

    /// <summary>Frame width in pixels (W).</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels (H).</summary>
    public int Height { get; }

    /// <summary>Frame rate in frames per second: the target rate after resampling, else the source's; 0 = unknown.</summary>
    public double Fps { get; }

    /// <summary>
    /// False only when both rates are known (&gt; 0) and differ by more than 1%: the check before a model that reads frames by
    /// position (a LipNet or lip-to-speech window) is given frames at another rate.
    /// </summary>
    internal bool IsAtRate(double fps) => !(Fps > 0 && fps > 0 && Math.Abs(Fps - fps) > 0.01 * fps);

    /// <summary>Channel order of the bytes in <see cref="Pixels"/> (BGR from OpenCV by default; RGB in ML.NET columns).</summary>
    public PixelOrder Order { get; }

    /// <summary>Where the frames came from (a file path or a description), used in error messages.</summary>
    public string Source { get; }

    /// <summary>Bytes of one frame (H x W x 3).</summary>
    public int FrameByteCount => Width * Height * Channels;

    /// <summary>The source's stated frame rate before any resampling (0 = unknown or not a decoded video).</summary>
    public double SourceFps { get; init; }

    /// <summary>Frames decoded from the source before any resampling (0 = not a decoded video).</summary>
    public int SourceFrameCount { get; init; }

    /// <summary>Duration of the decoded source in seconds, from its timestamps (0 = not a decoded video).</summary>
    public double SourceDurationSeconds { get; init; }

    /// <summary>Duration in seconds at the stack's frame rate (0 when the rate is unknown).</summary>
    public double DurationSeconds => Fps > 0 ? FrameCount / Fps : 0;

    /// <summary>Frame <paramref name="index"/> as a writable view into <see cref="Pixels"/>, H x W x 3 bytes (no copy).</summary>
    /// <param name="index">0-based frame index, below <see cref="FrameCount"/>.</param>
    /// <returns><see cref="FrameByteCount"/> bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0..FrameCount - 1.</exception>
    public Span<byte> Frame(int index)
    {
        if ((uint)index >= (uint)FrameCount)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"frame index outside 0..{FrameCount - 1}");
        return Pixels.AsSpan(index * FrameByteCount, FrameByteCount);
    }
}
