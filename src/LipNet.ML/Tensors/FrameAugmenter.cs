using LipNet.ML.Video;

namespace LipNet.ML.Tensors;

/// <summary>Training-time augmentation probabilities.</summary>
public sealed record FrameAugmentOptions
{
    /// <summary>Chance of mirroring the whole clip left-right (LipNet: 0.5).</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Chance, per frame, that the frame is dropped or duplicated (half each); simulates speaking-rate jitter.</summary>
    public double FrameJitterProbability { get; init; } = 0.05;

    public static FrameAugmentOptions Default { get; } = new();
}

/// <summary>
/// Seeded training augmentation of frame stacks (usually mouth crops): horizontal flip and frame
/// drop/duplicate jitter. Deterministic for a given <see cref="Random"/> state; not thread-safe across a
/// shared <see cref="Random"/>.
/// </summary>
public sealed class FrameAugmenter(FrameAugmentOptions? options = null)
{
    public FrameAugmentOptions Options { get; } = options ?? FrameAugmentOptions.Default;

    public VideoFrames Apply(VideoFrames frames, Random random)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(random);
        bool flip = random.NextDouble() < Options.FlipProbability;
        var order = JitteredFrameOrder(frames.FrameCount, random);
        int frameBytes = frames.FrameByteCount;
        var output = new byte[(long)order.Count * frameBytes];
        for (int i = 0; i < order.Count; i++)
        {
            var src = frames.Frame(order[i]);
            var dst = output.AsSpan(i * frameBytes, frameBytes);
            if (flip)
                MirrorRows(src, dst, frames.Width, frames.Height);
            else
                src.CopyTo(dst);
        }
        return new VideoFrames(output, order.Count, frames.Width, frames.Height, frames.Fps, frames.Order, frames.Source);
    }

    /// <summary>Source frame index of each output frame after drop/duplicate jitter.</summary>
    public List<int> JitteredFrameOrder(int frameCount, Random random)
    {
        var order = new List<int>(frameCount + 8);
        for (int t = 0; t < frameCount; t++)
        {
            if (random.NextDouble() < Options.FrameJitterProbability)
            {
                if (random.NextDouble() < 0.5)
                    continue; // drop
                order.Add(t); // duplicate
            }
            order.Add(t);
        }
        if (order.Count == 0 && frameCount > 0)
            order.Add(0); // never augment a clip into nothing
        return order;
    }

    /// <summary>The clip mirrored left-right (a new buffer).</summary>
    public static VideoFrames Mirror(VideoFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var output = GC.AllocateUninitializedArray<byte>(frames.FrameCount * frames.FrameByteCount);
        for (int t = 0; t < frames.FrameCount; t++)
            MirrorRows(frames.Frame(t), output.AsSpan(t * frames.FrameByteCount, frames.FrameByteCount), frames.Width, frames.Height);
        return new VideoFrames(output, frames.FrameCount, frames.Width, frames.Height, frames.Fps, frames.Order, frames.Source);
    }

    private static void MirrorRows(ReadOnlySpan<byte> src, Span<byte> dst, int width, int height)
    {
        int stride = width * VideoFrames.Channels;
        for (int y = 0; y < height; y++)
        {
            var s = src.Slice(y * stride, stride);
            var d = dst.Slice(y * stride, stride);
            for (int x = 0; x < width; x++)
                s.Slice(x * 3, 3).CopyTo(d.Slice((width - 1 - x) * 3, 3));
        }
    }
}
