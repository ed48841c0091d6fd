using LipNet.ML.Decoding;

namespace LipNet.ML.Training;

/// <summary>How per-sequence CTC losses are combined (PyTorch's meanings).</summary>
public enum CtcReduction
{
    /// <summary>One loss per sequence.</summary>
    None,
    /// <summary>The sum over the batch.</summary>
    Sum,
    /// <summary>Each loss divided by its target length (at least 1), then the batch mean.</summary>
    Mean,
}

/// <summary>
/// Connectionist temporal classification loss, −ln P(target | frames) summed over every alignment, and
/// its gradient with respect to the log-probabilities, in managed code: log-space forward (α) and
/// backward (β) recursions in double precision, parallel over the batch. Impossible alignments (a target
/// too long for its frames) give +∞, or 0 with a zero gradient under <c>zeroInfinity</c>, as in PyTorch.
/// </summary>
public static class CtcLoss
{
    /// <summary>
    /// Loss of one sequence. <paramref name="logProbs"/> is T x V (log-softmax rows, the first
    /// <paramref name="frames"/> used); <paramref name="gradient"/> (same size) receives d loss / d logProbs
    /// (−posterior occupancy of each token at each frame; zero past <paramref name="frames"/>).
    /// </summary>
    public static float Compute(ReadOnlySpan<float> logProbs, int frames, int width, ReadOnlySpan<int> target, int blank,
        Span<float> gradient, bool zeroInfinity = false)
    {
        if (width < 2 || logProbs.Length % width != 0 || frames < 0 || frames * width > logProbs.Length)
            throw new TensorShapeException($"CTC input of {logProbs.Length} values does not hold {frames} frames of width {width}");
        if (gradient.Length != logProbs.Length)
            throw new TensorShapeException($"gradient holds {gradient.Length} values, the input {logProbs.Length}");
        if ((uint)blank >= (uint)width)
            throw new TensorShapeException($"blank id {blank} outside 0..{width - 1}");
        foreach (int label in target)
            if ((uint)label >= (uint)width || label == blank)
                throw new TensorShapeException($"target label {label} is the blank or outside 0..{width - 1}");
        gradient.Clear();
        int L = target.Length, S = 2 * L + 1;
        if (frames == 0)
            return Impossible(zeroInfinity);
        // l'_s: blank, target[0], blank, target[1], ..., blank
        var labels = new int[S];
        for (int s = 0; s < S; s++)
            labels[s] = (s & 1) == 0 ? blank : target[s >> 1];
        var alpha = new double[frames * S];
        var beta = new double[frames * S];
        Array.Fill(alpha, double.NegativeInfinity);
        Array.Fill(beta, double.NegativeInfinity);

        alpha[0] = (double)logProbs[blank];
        if (S > 1)
            alpha[1] = (double)logProbs[target[0]];
        for (int t = 1; t < frames; t++)
        {
            // Only states from which the end is still reachable and that are reachable from the start matter,
            // but the full band is cheap for LipNet's sizes and keeps the code plain.
            for (int s = 0; s < S; s++)
            {
                double a = alpha[(t - 1) * S + s];
                if (s > 0) a = LogAdd(a, alpha[(t - 1) * S + s - 1]);
                if (s > 1 && labels[s] != blank && labels[s] != labels[s - 2]) a = LogAdd(a, alpha[(t - 1) * S + s - 2]);
                alpha[t * S + s] = a + (double)logProbs[t * width + labels[s]];
            }
        }
        int last = (frames - 1) * S;
        double logP = S > 1 ? LogAdd(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];
        if (double.IsNegativeInfinity(logP))
            return Impossible(zeroInfinity);

        beta[last + S - 1] = (double)logProbs[(frames - 1) * width + labels[S - 1]];
        if (S > 1)
            beta[last + S - 2] = (double)logProbs[(frames - 1) * width + labels[S - 2]];
        for (int t = frames - 2; t >= 0; t--)
        {
            for (int s = 0; s < S; s++)
            {
                double b = beta[(t + 1) * S + s];
                if (s + 1 < S) b = LogAdd(b, beta[(t + 1) * S + s + 1]);
                if (s + 2 < S && labels[s] != blank && labels[s] != labels[s + 2]) b = LogAdd(b, beta[(t + 1) * S + s + 2]);
                beta[t * S + s] = b + (double)logProbs[t * width + labels[s]];
            }
        }

        // d(−ln p)/d ln y_t(k) = −Σ_{s: l'_s = k} α_t(s) β_t(s) / (y_t(k) p)
        Span<double> occupancy = width <= 512 ? stackalloc double[width] : new double[width];
        for (int t = 0; t < frames; t++)
        {
            occupancy.Fill(double.NegativeInfinity);
            for (int s = 0; s < S; s++)
            {
                int k = labels[s];
                occupancy[k] = LogAdd(occupancy[k], alpha[t * S + s] + beta[t * S + s] - (double)logProbs[t * width + k]);
            }
            for (int k = 0; k < width; k++)
                gradient[t * width + k] = double.IsNegativeInfinity(occupancy[k]) ? 0f : (float)-Math.Exp(occupancy[k] - logP);
        }
        return (float)-logP;

        static float Impossible(bool zero) => zero ? 0f : float.PositiveInfinity;
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    /// <summary>
    /// Losses of a batch of log-probabilities ([N, T, V] or [T, N, V]) in parallel. <paramref name="gradient"/>
    /// (same layout) receives d(reduced loss)/d logProbs. Returns the per-sequence losses; the reduced loss
    /// is <paramref name="reduced"/>.
    /// </summary>
    public static float[] ComputeBatch(ReadOnlyMemory<float> logProbs, BatchLayout layout, int batch, int maxFrames, int width,
        IReadOnlyList<int[]> targets, IReadOnlyList<int> inputLengths, int blank, Memory<float> gradient, out float reduced,
        CtcReduction reduction = CtcReduction.Mean, bool zeroInfinity = true)
    {
        if (targets.Count != batch || inputLengths.Count != batch)
            throw new TensorShapeException($"{targets.Count} targets and {inputLengths.Count} lengths for a batch of {batch}");
        if (logProbs.Length != (long)batch * maxFrames * width || gradient.Length != logProbs.Length)
            throw new TensorShapeException($"log-probabilities ({logProbs.Length}) and gradient ({gradient.Length}) must both hold {batch} x {maxFrames} x {width} values");
        gradient.Span.Clear(); // frames past each clip's length get zero gradient
        var losses = new float[batch];
        var scales = new float[batch];
        for (int i = 0; i < batch; i++)
            scales[i] = reduction switch
            {
                CtcReduction.Mean => 1f / Math.Max(1, targets[i].Length) / batch,
                _ => 1f,
            };
        Parallel.For(0, batch, i =>
        {
            int frames = inputLengths[i];
            var item = new float[maxFrames * width];
            CtcScores.Slice(logProbs.Span, layout, batch, maxFrames, width, i, frames, item);
            var grad = new float[maxFrames * width];
            losses[i] = Compute(item, frames, width, targets[i], blank, grad, zeroInfinity);
            var destination = gradient.Span;
            for (int t = 0; t < frames; t++)
            {
                int offset = layout == BatchLayout.BatchFirst ? (i * maxFrames + t) * width : (t * batch + i) * width;
                for (int k = 0; k < width; k++)
                    destination[offset + k] = grad[t * width + k] * scales[i];
            }
        });
        reduced = reduction switch
        {
            CtcReduction.Sum => losses.Sum(),
            CtcReduction.Mean => losses.Select((l, i) => l * scales[i]).Sum(),
            _ => float.NaN,
        };
        return losses;
    }

    /// <summary>Chains a gradient through log-softmax: d/d logits = g − softmax · Σg, row by row.</summary>
    public static void LogSoftmaxBackward(ReadOnlySpan<float> logProbs, ReadOnlySpan<float> gradLogProbs, int width, Span<float> gradLogits)
    {
        for (int offset = 0; offset < logProbs.Length; offset += width)
        {
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum(gradLogProbs.Slice(offset, width));
            for (int k = 0; k < width; k++)
                gradLogits[offset + k] = gradLogProbs[offset + k] - MathF.Exp(logProbs[offset + k]) * sum;
        }
    }
}
