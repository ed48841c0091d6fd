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

    public TensorLayout Layout { get; init; } = TensorLayout.CTHW;

    /// <summary>Channel order of the tensor (independent of the frames' byte order).</summary>
    public PixelOrder ChannelOrder { get; init; } = PixelOrder.Rgb;

    /// <summary>One luminance channel (ITU-R BT.601 weights) instead of three colour channels.</summary>
    public bool Grayscale { get; init; }

    /// <summary>Per-channel mean subtracted after scaling to [0,1], in <see cref="ChannelOrder"/>; null = none.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after the mean; null = none.</summary>
    public float[]? Std { get; init; }

    public int Channels => Grayscale ? 1 : 3;

    public static FrameNormalizeOptions Default { get; } = new();

    /// <summary>
    /// [0, 1] pixels standardized per RGB channel with the mean and standard deviation of mouth crops of the
    /// synthetic corpus (32 clips of 8 speakers): what <c>lipnet train</c> uses. Centring matters for training:
    /// the crops' large constant level otherwise swamps the mouth's motion in the first convolution.
    /// </summary>
    public static FrameNormalizeOptions Standardized { get; } = new() { Mean = [0.66f, 0.50f, 0.45f], Std = [0.19f, 0.19f, 0.19f] };

    /// <summary>The tensor shape for frames of <paramref name="height"/> x <paramref name="width"/>.</summary>
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
public sealed record ClipTensor(float[] Data, int[] Shape, int Length, TensorLayout Layout)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Turns 8-bit frames into a float tensor: [0,1] scaling, optional grayscale and per-channel
/// standardization, zero padding or trimming to a fixed frame count, any of the common layouts.
/// </summary>
public sealed class FrameNormalizer
{
    public FrameNormalizer(FrameNormalizeOptions? options = null)
    {
        Options = options ?? FrameNormalizeOptions.Default;
        Options.Validate();
    }

    public FrameNormalizeOptions Options { get; }

    [ThreadStatic] private static float[]? _scratch;

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
