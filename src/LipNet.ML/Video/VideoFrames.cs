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
    public VideoFrames(byte[] pixels, int frameCount, int width, int height, double fps, PixelOrder order, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (frameCount < 0 || width <= 0 || height <= 0)
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

    public int FrameCount { get; }
    public int Width { get; }
    public int Height { get; }
    public double Fps { get; }
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

    public Span<byte> Frame(int index)
    {
        if ((uint)index >= (uint)FrameCount)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"frame index outside 0..{FrameCount - 1}");
        return Pixels.AsSpan(index * FrameByteCount, FrameByteCount);
    }
}
