using System.Numerics.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Tensors;

/// <summary>Order of the dimensions of a clip tensor.</summary>
public enum TensorLayout
{
    /// <summary>Channels, time, height, width (LipNet-PyTorch's Conv3d input).</summary>
    CTHW,
    /// <summary>Time, channels, height, width.</summary>
    TCHW,
    /// <summary>Time, height, width, channels (Keras LipNet's channels-last input).</summary>
    THWC,
}

/// <summary>How frames become a float tensor.</summary>
public sealed record FrameNormalizeOptions
{
    /// <summary>Frames in the tensor: shorter clips are padded with zeros, longer ones trimmed (LipNet: 75).</summary>
    public int FrameCount { get; init; } = 75;

    /// <summary>Dimension order of the tensor (default <see cref="TensorLayout.CTHW"/>, LipNet-PyTorch's Conv3d input).</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.CTHW;

    /// <summary>Channel order of the tensor (independent of the frames' byte order).</summary>
    public PixelOrder ChannelOrder { get; init; } = PixelOrder.Rgb;

    /// <summary>One luminance channel (ITU-R BT.601 weights) instead of three colour channels.</summary>
    public bool Grayscale { get; init; }

    /// <summary>Per-channel mean subtracted after scaling to [0,1], in <see cref="ChannelOrder"/>; null = none.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after the mean; null = none.</summary>
    public float[]? Std { get; init; }

    /// <summary>Channels of the tensor: 1 when <see cref="Grayscale"/>, else 3.</summary>
    public int Channels => Grayscale ? 1 : 3;

    /// <summary>LipNet's input: 75 frames, CTHW, RGB, scaled to [0, 1] with no mean or standard deviation applied.</summary>
    public static FrameNormalizeOptions Default { get; } = new();

    /// <summary>
    /// [0, 1] pixels standardized per RGB channel with the mean and standard deviation of mouth crops of the
    /// synthetic corpus (32 clips of 8 speakers): what <c>lipnet train</c> uses. Centring matters for training:
    /// the crops' large constant level otherwise swamps the mouth's motion in the first convolution.
    /// </summary>
    public static FrameNormalizeOptions Standardized { get; } = new() { Mean = [0.66f, 0.50f, 0.45f], Std = [0.19f, 0.19f, 0.19f] };

    /// <summary>The tensor shape for frames of <paramref name="height"/> x <paramref name="width"/>.</summary>
    /// <param name="height">Frame (crop) height in pixels (LipNet: 50).</param>
    /// <param name="width">Frame (crop) width in pixels (LipNet: 100).</param>
    /// <returns>Four dimensions in <see cref="Layout"/> order, e.g. [3, 75, 50, 100] for CTHW with the defaults.</returns>
    public int[] ShapeFor(int height, int width) => Layout switch
    {
        TensorLayout.CTHW => [Channels, FrameCount, height, width],
        TensorLayout.TCHW => [FrameCount, Channels, height, width],
        _ => [FrameCount, height, width, Channels],
    };

    internal void Validate()
    {
        if (FrameCount <= 0)
            throw new TensorShapeException($"frame count must be positive, got {FrameCount}");
        if (Mean is { } m && m.Length != Channels)
            throw new TensorShapeException($"mean has {m.Length} values, {Channels} channel(s) expected");
        if (Std is { } s && (s.Length != Channels || s.Any(v => !(v > 0))))
            throw new TensorShapeException($"std needs {Channels} positive value(s), got [{string.Join(", ", s)}]");
    }
}

/// <summary>A clip as a float tensor, with the number of real (unpadded) frames CTC needs.</summary>
/// <param name="Data">The values, row-major in <paramref name="Layout"/> order; padding frames are zeros.</param>
/// <param name="Shape">Four dimensions in <paramref name="Layout"/> order, e.g. [3, 75, 50, 100] (C, T, H, W).</param>
/// <param name="Length">Real frames before padding, 0..T (the input length CTC decoding and training need).</param>
/// <param name="Layout">Dimension order of <paramref name="Shape"/> and <paramref name="Data"/>.</param>
public sealed record ClipTensor(float[] Data, int[] Shape, int Length, TensorLayout Layout)
{
    /// <summary>Product of <see cref="Shape"/>: the number of floats the tensor holds.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Turns 8-bit frames into a float tensor: [0,1] scaling, optional grayscale and per-channel
/// standardization, zero padding or trimming to a fixed frame count, any of the common layouts.
/// </summary>
public sealed class FrameNormalizer
{
    /// <summary>A normalizer with the given options, checked here.</summary>
    /// <param name="options">Frame count, layout, channels and standardization; null = <see cref="FrameNormalizeOptions.Default"/>.</param>
    /// <exception cref="TensorShapeException">
    /// A frame count under 1, a mean without one value per channel, or a standard deviation without one positive value per channel.
    /// </exception>
    public FrameNormalizer(FrameNormalizeOptions? options = null)
    {
        Options = options ?? FrameNormalizeOptions.Default;
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public FrameNormalizeOptions Options { get; }

    [ThreadStatic] private static float[]? _scratch;

    /// <summary>
    /// The tensor of <paramref name="frames"/>: each byte scaled to [0, 1] (/ 255), optionally reduced to BT.601 luma, minus
    /// <see cref="FrameNormalizeOptions.Mean"/> and divided by <see cref="FrameNormalizeOptions.Std"/>, in
    /// <see cref="FrameNormalizeOptions.ChannelOrder"/> whatever the frames' byte order; zero-padded or trimmed to
    /// <see cref="FrameNormalizeOptions.FrameCount"/> frames.
    /// </summary>
    /// <param name="frames">A frame stack (usually mouth crops), [T, H, W, 3] bytes in either channel order.</param>
    /// <returns>A new tensor of <see cref="FrameNormalizeOptions.ShapeFor"/>(H, W) with Length = min(T, frame count).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    public ClipTensor Normalize(VideoFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var shape = Options.ShapeFor(frames.Height, frames.Width);
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        int length = Normalize(frames, data);
        return new ClipTensor(data, shape, length, Options.Layout);
    }

    /// <summary>
    /// Writes the tensor into <paramref name="destination"/> (e.g. a slice of a batch buffer or an OrtValue's
    /// memory) and returns the real frame count. Padding frames are written as zeros.
    /// </summary>
    /// <param name="frames">A frame stack, [T, H, W, 3] bytes in either channel order.</param>
    /// <param name="destination">Exactly the element count of <see cref="FrameNormalizeOptions.ShapeFor"/>(H, W) floats.</param>
    /// <returns>Real frames written, min(T, <see cref="FrameNormalizeOptions.FrameCount"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="TensorShapeException"><paramref name="destination"/> is not of the tensor's size.</exception>
    public int Normalize(VideoFrames frames, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(frames);
        int h = frames.Height, w = frames.Width, hw = h * w, c = Options.Channels, T = Options.FrameCount;
        long needed = (long)c * T * hw;
        if (destination.Length != needed)
            throw new TensorShapeException(
                $"destination holds {destination.Length} floats, [{string.Join(",", Options.ShapeFor(h, w))}] needs {needed}", frames.Source);
        int length = Math.Min(frames.FrameCount, T);
        destination.Clear();

        // Channel k of the tensor reads byte offset srcIndex[k] of each pixel.
        Span<int> srcIndex = stackalloc int[3];
        bool swap = frames.Order != Options.ChannelOrder;
        for (int k = 0; k < 3; k++)
            srcIndex[k] = swap ? 2 - k : k;
        // BT.601 luma weights indexed by the frames' own byte order.
        Span<float> luma = stackalloc float[3];
        if (frames.Order == PixelOrder.Rgb) { luma[0] = 0.299f; luma[1] = 0.587f; luma[2] = 0.114f; }
        else { luma[0] = 0.114f; luma[1] = 0.587f; luma[2] = 0.299f; }

        // Per-thread scratch: this runs once per clip in every batch, so nothing is allocated per call.
        var scratch = _scratch is { } buffer && buffer.Length >= hw * 4 ? buffer : (_scratch = new float[hw * 4]);
        Span<float> rgb = scratch.AsSpan(0, hw * 3);
        Span<float> plane = scratch.AsSpan(hw * 3, hw);
        for (int t = 0; t < length; t++)
        {
            ReadOnlySpan<byte> frame = frames.Frame(t);
            // One vectorized widening + scaling pass per frame, then a de-interleaving copy per channel.
            TensorPrimitives.ConvertChecked<byte, float>(frame, rgb);
            TensorPrimitives.Multiply(rgb, 1f / 255f, rgb);
            for (int k = 0; k < c; k++)
            {
                if (Options.Grayscale)
                {
                    for (int i = 0, j = 0; i < hw; i++, j += 3)
                        plane[i] = rgb[j] * luma[0] + rgb[j + 1] * luma[1] + rgb[j + 2] * luma[2];
                }
                else
                {
                    int offset = srcIndex[k];
                    for (int i = 0, j = offset; i < hw; i++, j += 3)
                        plane[i] = rgb[j];
                }
                if (Options.Mean is { } mean)
                    TensorPrimitives.Subtract(plane, mean[k], plane);
                if (Options.Std is { } std)
                    TensorPrimitives.Multiply(plane, 1f / std[k], plane);
                WritePlane(plane, destination, k, t, c, T, h, w);
            }
        }
        return length;
    }

    private void WritePlane(ReadOnlySpan<float> plane, Span<float> destination, int k, int t, int c, int T, int h, int w)
    {
        int hw = h * w;
        switch (Options.Layout)
        {
            case TensorLayout.CTHW:
                plane.CopyTo(destination.Slice((k * T + t) * hw, hw));
                break;
            case TensorLayout.TCHW:
                plane.CopyTo(destination.Slice((t * c + k) * hw, hw));
                break;
            default:
                var frame = destination.Slice(t * hw * c, hw * c);
                for (int i = 0, j = k; i < hw; i++, j += c)
                    frame[j] = plane[i];
                break;
        }
    }
}
