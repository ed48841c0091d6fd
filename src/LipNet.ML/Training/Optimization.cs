using System.Numerics.Tensors;

namespace LipNet.ML.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter): Adam with decoupled weight decay and bias correction, exactly as
/// <c>torch.optim.AdamW</c> (decay applied to the parameters before the Adam step). Works on contiguous
/// parameter buffers with SIMD (System.Numerics.Tensors).
/// </summary>
public sealed record AdamW(float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f, float WeightDecay = 0.01f)
{
    /// <summary>
    /// One step on one buffer. <paramref name="step"/> counts from 1; <paramref name="firstMoment"/> and
    /// <paramref name="secondMoment"/> start as zeros and persist between steps; <paramref name="scratch"/>
    /// is any buffer of the same length.
    /// </summary>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment,
        Span<float> scratch, int step, float learningRate)
    {
        int n = parameters.Length;
        if (gradients.Length != n || firstMoment.Length != n || secondMoment.Length != n || scratch.Length < n)
            throw new TensorShapeException($"AdamW buffers differ in length: parameters {n}, gradients {gradients.Length}, moments {firstMoment.Length}/{secondMoment.Length}, scratch {scratch.Length}");
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        scratch = scratch[..n];
        TensorPrimitives.Multiply(parameters, 1 - learningRate * WeightDecay, parameters);
        TensorPrimitives.Multiply(firstMoment, Beta1, firstMoment);
        TensorPrimitives.MultiplyAdd(gradients, 1 - Beta1, firstMoment, firstMoment);
        TensorPrimitives.Multiply(gradients, gradients, scratch);
        TensorPrimitives.Multiply(secondMoment, Beta2, secondMoment);
        TensorPrimitives.MultiplyAdd(scratch, 1 - Beta2, secondMoment, secondMoment);
        double correction1 = 1 - Math.Pow(Beta1, step), correction2 = 1 - Math.Pow(Beta2, step);
        TensorPrimitives.Sqrt(secondMoment, scratch);
        TensorPrimitives.Multiply(scratch, (float)(1 / Math.Sqrt(correction2)), scratch);
        TensorPrimitives.Add(scratch, Epsilon, scratch);
        TensorPrimitives.Divide(firstMoment, scratch, scratch);
        TensorPrimitives.MultiplyAdd(scratch, (float)(-learningRate / correction1), parameters, parameters);
    }
}

/// <summary>Gradient clipping by the global L2 norm over all buffers (as <c>torch.nn.utils.clip_grad_norm_</c>).</summary>
public static class GradientClipping
{
    /// <summary>Scales every gradient by maxNorm / (norm + 1e-6) when the global norm exceeds maxNorm; returns the norm before clipping.</summary>
    public static float ClipGlobalNorm(IReadOnlyList<float[]> gradients, float maxNorm)
    {
        double squares = 0;
        foreach (var g in gradients)
        {
            float norm = TensorPrimitives.Norm<float>(g);
            squares += (double)norm * norm;
        }
        float total = (float)Math.Sqrt(squares);
        if (!float.IsFinite(total))
            throw new LipNetException($"gradient norm is {total}: the loss or a gradient is not finite");
        float coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1)
            foreach (var g in gradients)
                TensorPrimitives.Multiply(g, coefficient, g);
        return total;
    }
}

/// <summary>Learning rate: linear warm-up from 0, then cosine annealing to <paramref name="MinimumRate"/>.</summary>
public sealed record WarmupCosineSchedule(float BaseRate, int WarmupSteps, int TotalSteps, float MinimumRate = 0)
{
    /// <summary>The rate for step <paramref name="step"/> (counting from 1).</summary>
    public float RateAt(int step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps)
            return BaseRate * step / WarmupSteps;
        int span = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / span, 0, 1);
        return (float)(MinimumRate + 0.5 * (BaseRate - MinimumRate) * (1 + Math.Cos(Math.PI * progress)));
    }
}
