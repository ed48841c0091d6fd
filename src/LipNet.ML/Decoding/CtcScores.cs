namespace LipNet.ML.Decoding;

/// <summary>How a batch of per-frame scores is laid out.</summary>
public enum BatchLayout
{
    /// <summary>[N, T, V]: batch, time, vocabulary.</summary>
    BatchFirst,
    /// <summary>[T, N, V]: time, batch, vocabulary (PyTorch's CTC layout).</summary>
    TimeFirst,
}

/// <summary>Shape checks and log-softmax for decoder inputs.</summary>
public static class CtcScores
{
    /// <summary>Validates a T x V matrix against a vocabulary.</summary>
    public static int Frames(int length, int width, CtcVocabulary vocabulary)
    {
        if (width != vocabulary.Size)
            throw new TensorShapeException($"model output width {width} does not match the vocabulary's {vocabulary.Size} tokens (blank included)");
        if (length % width != 0)
            throw new TensorShapeException($"{length} scores are not a whole number of frames of width {width}");
        return length / width;
    }

    /// <summary>Writes log-softmax of each row of <paramref name="scores"/> (T x V) into <paramref name="destination"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> scores, int width, Span<float> destination)
    {
        if (destination.Length < scores.Length)
            throw new TensorShapeException($"destination holds {destination.Length} floats, {scores.Length} needed");
        for (int offset = 0; offset < scores.Length; offset += width)
        {
            var row = scores.Slice(offset, width);
            var dst = destination.Slice(offset, width);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            if (!float.IsFinite(max))
                throw new TensorShapeException($"frame {offset / width} has a non-finite score");
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, dst);
            System.Numerics.Tensors.TensorPrimitives.Exp(dst, dst);
            float logSum = MathF.Log(System.Numerics.Tensors.TensorPrimitives.Sum<float>(dst));
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, max + logSum, dst);
        }
    }

    /// <summary>Copies item <paramref name="item"/> (T x V, first <paramref name="frames"/> frames) out of a batch.</summary>
    public static void Slice(ReadOnlySpan<float> batch, BatchLayout layout, int batchSize, int maxFrames, int width, int item, int frames, Span<float> destination)
    {
        if (batch.Length != (long)batchSize * maxFrames * width)
            throw new TensorShapeException($"batch holds {batch.Length} scores, [{(layout == BatchLayout.BatchFirst ? $"{batchSize},{maxFrames}" : $"{maxFrames},{batchSize}")},{width}] needs {(long)batchSize * maxFrames * width}");
        if (frames < 0 || frames > maxFrames)
            throw new TensorShapeException($"item {item} length {frames} outside 0..{maxFrames}");
        for (int t = 0; t < frames; t++)
        {
            int offset = layout == BatchLayout.BatchFirst ? (item * maxFrames + t) * width : (t * batchSize + item) * width;
            batch.Slice(offset, width).CopyTo(destination.Slice(t * width, width));
        }
    }
}
