using LipNet.ML.Decoding;

namespace LipNet.ML.Training;

/// <summary>What a <see cref="ITrainingLoss"/> compares a model's output with; one subtype per kind of loss.</summary>
public abstract record LossTargets;

/// <summary>CTC targets (<see cref="CtcTrainingLoss"/>): per item a label sequence without blanks and its real frame count.</summary>
/// <param name="Labels">Token ids per item (no blanks), e.g. from <see cref="CtcVocabulary.Encode"/>.</param>
/// <param name="Lengths">Real frame count per item (frames past it are padding and get zero gradient).</param>
public sealed record CtcTargets(IReadOnlyList<int[]> Labels, IReadOnlyList<int> Lengths) : LossTargets;

/// <summary>
/// Regression targets (<see cref="L1Loss"/>, <see cref="MseLoss"/>): values in the output's layout, [N, T, F...] row-major,
/// with optional real frame counts — elements of frames at or past an item's length are ignored (no loss, zero gradient).
/// </summary>
/// <param name="Values">Target values, exactly the output's element count.</param>
/// <param name="Lengths">Real frame count per item (axis 1 of the output); null = every frame counts.</param>
public sealed record RegressionTargets(ReadOnlyMemory<float> Values, IReadOnlyList<int>? Lengths = null) : LossTargets;

/// <summary>
/// Class targets (<see cref="CrossEntropyLoss"/>) for an output of logits [N, T, C] (or [N, C] with T = 1): per item one class
/// id per frame in [0, C); a negative id ignores that frame (PyTorch's <c>ignore_index</c>).
/// </summary>
/// <param name="Classes">Class ids per item, T each.</param>
public sealed record ClassTargets(IReadOnlyList<int[]> Classes) : LossTargets;

/// <summary>A training loss: its value on a batch's output and the gradient with respect to that output.</summary>
public interface ITrainingLoss
{
    /// <summary>Short name for logs and cards (e.g. "ctc", "l1").</summary>
    string Name { get; }

    /// <summary>
    /// The loss of a batch, writing d loss / d output into <paramref name="gradient"/> (every element: zero where the output
    /// does not count).
    /// </summary>
    /// <param name="output">The model's output, row-major in <paramref name="shape"/>; the first axis is the batch.</param>
    /// <param name="shape">The output's shape.</param>
    /// <param name="targets">The batch's targets, of the loss's kind.</param>
    /// <param name="gradient">Receives the gradient, same size and layout as <paramref name="output"/>.</param>
    /// <returns>The reduced loss (a batch mean unless the loss says otherwise).</returns>
    /// <exception cref="ArgumentException"><paramref name="targets"/> are of another kind than the loss takes.</exception>
    /// <exception cref="TensorShapeException">Targets, shape and buffers do not agree.</exception>
    float Compute(ReadOnlyMemory<float> output, ReadOnlySpan<long> shape, LossTargets targets, Memory<float> gradient);
}

/// <summary>
/// Connectionist temporal classification (Graves et al. 2006) on log-probabilities [N, T, V] (batch first), as PyTorch's
/// <c>F.ctc_loss</c> with <c>zero_infinity=True</c>: impossible alignments give 0 loss and 0 gradient.
/// </summary>
/// <param name="Blank">The blank's token id.</param>
/// <param name="Reduction">How item losses combine (Mean: each divided by its target length, then the batch mean).</param>
public sealed record CtcTrainingLoss(int Blank, CtcReduction Reduction = CtcReduction.Mean) : ITrainingLoss
{
    /// <inheritdoc/>
    public string Name => "ctc";

    /// <inheritdoc/>
    public float Compute(ReadOnlyMemory<float> output, ReadOnlySpan<long> shape, LossTargets targets, Memory<float> gradient)
    {
        if (targets is not CtcTargets ctc)
            throw new ArgumentException($"the CTC loss takes {nameof(CtcTargets)}, got {targets?.GetType().Name ?? "null"}", nameof(targets));
        if (shape.Length != 3)
            throw new TensorShapeException($"the CTC loss takes log-probabilities [N, T, V], got rank {shape.Length}");
        CtcLoss.ComputeBatch(output, BatchLayout.BatchFirst, (int)shape[0], (int)shape[1], (int)shape[2], ctc.Labels, ctc.Lengths, Blank, gradient,
            out float loss, Reduction, zeroInfinity: true);
        return loss;
    }
}

/// <summary>Mean absolute error over the elements that count (PyTorch's <c>L1Loss</c>, mean reduction; d|x|/dx at 0 is 0).</summary>
public sealed record L1Loss : ITrainingLoss
{
    /// <inheritdoc/>
    public string Name => "l1";

    /// <inheritdoc/>
    public float Compute(ReadOnlyMemory<float> output, ReadOnlySpan<long> shape, LossTargets targets, Memory<float> gradient) =>
        RegressionLoss.Compute(output.Span, shape, targets, gradient.Span, squared: false);
}

/// <summary>Mean squared error over the elements that count (PyTorch's <c>MSELoss</c>, mean reduction).</summary>
public sealed record MseLoss : ITrainingLoss
{
    /// <inheritdoc/>
    public string Name => "mse";

    /// <inheritdoc/>
    public float Compute(ReadOnlyMemory<float> output, ReadOnlySpan<long> shape, LossTargets targets, Memory<float> gradient) =>
        RegressionLoss.Compute(output.Span, shape, targets, gradient.Span, squared: true);
}

/// <summary>
/// Softmax cross-entropy on logits [N, T, C] (or [N, C]) with label smoothing, as PyTorch's <c>F.cross_entropy(label_smoothing=ε)</c>:
/// the target distribution is (1 − ε) on the class plus ε / C on every class (Szegedy et al. 2016); the loss is the mean over
/// frames that count of −Σ q log softmax(x), and its gradient (softmax(x) − q) / count.
/// </summary>
/// <param name="LabelSmoothing">ε in [0, 1); 0 = plain cross-entropy.</param>
public sealed record CrossEntropyLoss(float LabelSmoothing = 0f) : ITrainingLoss
{
    /// <inheritdoc/>
    public string Name => "cross-entropy";

    /// <inheritdoc/>
    public float Compute(ReadOnlyMemory<float> output, ReadOnlySpan<long> shape, LossTargets targets, Memory<float> gradient)
    {
        if (targets is not ClassTargets classes)
            throw new ArgumentException($"cross-entropy takes {nameof(ClassTargets)}, got {targets?.GetType().Name ?? "null"}", nameof(targets));
        if (LabelSmoothing is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(targets), LabelSmoothing, "label smoothing must be in [0, 1)");
        if (shape.Length is not (2 or 3))
            throw new TensorShapeException($"cross-entropy takes logits [N, T, C] or [N, C], got rank {shape.Length}");
        int batch = (int)shape[0], frames = shape.Length == 3 ? (int)shape[1] : 1, width = (int)shape[^1];
        var x = output.Span;
        var g = gradient.Span;
        if (x.Length != (long)batch * frames * width || g.Length != x.Length)
            throw new TensorShapeException($"logits ({x.Length}) and gradient ({g.Length}) must both hold {batch} x {frames} x {width} values");
        if (classes.Classes.Count != batch)
            throw new TensorShapeException($"{classes.Classes.Count} class lists for a batch of {batch}");
        g.Clear();
        int count = 0;
        for (int n = 0; n < batch; n++)
        {
            if (classes.Classes[n].Length != frames)
                throw new TensorShapeException($"item {n} has {classes.Classes[n].Length} class ids for {frames} frames");
            foreach (int c in classes.Classes[n])
            {
                if (c >= width)
                    throw new TensorShapeException($"class id {c} is not below the {width} classes");
                if (c >= 0)
                    count++;
            }
        }
        if (count == 0)
            return 0f;
        double loss = 0;
        float onTarget = 1 - LabelSmoothing, spread = LabelSmoothing / width, scale = 1f / count;
        for (int n = 0; n < batch; n++)
            for (int t = 0; t < frames; t++)
            {
                int c = classes.Classes[n][t];
                if (c < 0)
                    continue;
                int offset = (n * frames + t) * width;
                var row = x.Slice(offset, width);
                float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
                double sum = 0;
                for (int k = 0; k < width; k++)
                    sum += Math.Exp(row[k] - max);
                double logSum = max + Math.Log(sum);
                for (int k = 0; k < width; k++)
                {
                    double logP = row[k] - logSum;
                    float q = spread + (k == c ? onTarget : 0f);
                    loss -= q * logP;
                    g[offset + k] = ((float)Math.Exp(logP) - q) * scale;
                }
            }
        return (float)(loss / count);
    }
}

/// <summary>L1 and squared error with optional per-item frame counts: one implementation for both.</summary>
internal static class RegressionLoss
{
    public static float Compute(ReadOnlySpan<float> output, ReadOnlySpan<long> shape, LossTargets targets, Span<float> gradient, bool squared)
    {
        if (targets is not RegressionTargets regression)
            throw new ArgumentException($"{(squared ? "MSE" : "L1")} takes {nameof(RegressionTargets)}, got {targets?.GetType().Name ?? "null"}", nameof(targets));
        var y = regression.Values.Span;
        if (y.Length != output.Length || gradient.Length != output.Length)
            throw new TensorShapeException($"output ({output.Length}), targets ({y.Length}) and gradient ({gradient.Length}) must hold as many values");
        int batch = shape.Length > 0 ? (int)shape[0] : 1;
        int frames = shape.Length > 1 ? (int)shape[1] : 1;
        int perFrame = batch * frames == 0 ? 0 : output.Length / (batch * frames);
        var lengths = regression.Lengths;
        if (lengths is not null && lengths.Count != batch)
            throw new TensorShapeException($"{lengths.Count} lengths for a batch of {batch}");
        gradient.Clear();
        long count = 0;
        for (int n = 0; n < batch; n++)
            count += (long)Math.Clamp(lengths?[n] ?? frames, 0, frames) * perFrame;
        if (count == 0)
            return 0f;
        double loss = 0;
        float scale = (squared ? 2f : 1f) / count;
        for (int n = 0; n < batch; n++)
        {
            int valid = Math.Clamp(lengths?[n] ?? frames, 0, frames);
            int start = n * frames * perFrame, end = start + valid * perFrame;
            for (int i = start; i < end; i++)
            {
                float d = output[i] - y[i];
                loss += squared ? (double)d * d : Math.Abs(d);
                gradient[i] = squared ? d * scale : MathF.Sign(d) * scale;
            }
        }
        return (float)(loss / count);
    }
}
