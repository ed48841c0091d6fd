namespace LipNet.ML.Video;

/// <summary>
/// One decoded frame of a stream: H x W x 3 interleaved 8-bit pixels with its presentation time. The streaming stages
/// (<see cref="VideoReader.ReadFrames()"/>, <see cref="Mouth.MouthCropStream"/>, <c>LipReadingSession</c>) pass
/// frames one at a time, so nothing holds a whole video.
/// </summary>
/// <param name="Pixels">H x W x 3 bytes in <paramref name="Order"/>; the frame owns them (not a decoder's reused buffer).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Order">Channel order of <paramref name="Pixels"/>.</param>
/// <param name="Index">0-based index in its stream (after any resampling).</param>
/// <param name="Time">Presentation time from the stream's first frame; never reset within a stream.</param>
public sealed record VideoFrame(byte[] Pixels, int Width, int Height, PixelOrder Order, int Index, TimeSpan Time)
{
    /// <summary>
    /// Set on frames whose buffer the library lent from a pool (its own long-video path, where frames never reach a
    /// caller): called once the frame has been cropped, to reuse the buffer — a 10-minute video then churns no large
    /// arrays. Frames a caller receives never have it.
    /// </summary>
    internal Action<byte[]>? Recycle { get; init; }

    /// <summary>Bytes of the frame (H x W x 3).</summary>
    public int ByteCount => Width * Height * VideoFrames.Channels;

    /// <summary>A frame over a copy of <paramref name="pixels"/> (H x W x 3 bytes).</summary>
    /// <exception cref="TensorShapeException">The pixels do not hold H x W x 3 bytes, or the size is not positive.</exception>
    public static VideoFrame Copy(ReadOnlySpan<byte> pixels, int width, int height, PixelOrder order, int index, TimeSpan time)
    {
        if (width <= 0 || height <= 0 || pixels.Length < width * height * VideoFrames.Channels)
            throw new TensorShapeException($"frame {index}: {pixels.Length} bytes for {width}x{height}x3");
        return new VideoFrame(pixels[..(width * height * VideoFrames.Channels)].ToArray(), width, height, order, index, time);
    }

    /// <summary>
    /// Checks a frame before native code reads it: pixels present, a positive size of at most
    /// <see cref="VideoReadOptions.MaxDimension"/>'s default a side, and at least H x W x 3 bytes. The stages that take frames
    /// from callers (crop and track streams, sessions) call it: a short buffer would be read past its end by OpenCV.
    /// </summary>
    /// <param name="frame">The frame.</param>
    /// <param name="source">Names the stream in the error.</param>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    /// <exception cref="TensorShapeException">No pixels, a size out of range, or too few bytes for the size.</exception>
    internal static void EnsureValid(VideoFrame frame, string source)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int max = VideoReadOptions.Default.MaxDimension;
        if (frame.Pixels is null || frame.Width <= 0 || frame.Height <= 0 || frame.Width > max || frame.Height > max
            || frame.Pixels.LongLength < (long)frame.Width * frame.Height * VideoFrames.Channels)
            throw new TensorShapeException(
                $"frame {frame.Index}: {(frame.Pixels is null ? "no pixels" : $"{frame.Pixels.LongLength} bytes")} for {frame.Width}x{frame.Height}x3 " +
                $"(each side 1..{max} pixels, H x W x 3 bytes)", source);
    }

    /// <summary>Frame <paramref name="index"/> of a frame stack, timed at the stack's rate.</summary>
    public static VideoFrame Of(VideoFrames frames, int index) =>
        Copy(frames.Frame(index), frames.Width, frames.Height, frames.Order, index, frames.Fps > 0 ? TimeSpan.FromSeconds(index / frames.Fps) : TimeSpan.Zero);
}
