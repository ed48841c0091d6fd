using LipNet.ML.Decoding;
using LipNet.ML.Onnx;
using LipNet.ML.Training;

namespace LipNet.ML.Tests;

public class TrainingMathTests
{
    private static Dictionary<string, NamedTensor> Fixture() => SafeTensors.Load(OnnxGraphTests.Fixture("training_parity.safetensors"));

    [Fact]
    public void CtcLossAndGradientMatchPyTorch()
    {
        var f = Fixture();
        var logits = f["ctc_logits"];
        int T = (int)logits.Shape[0], N = (int)logits.Shape[1], V = (int)logits.Shape[2];
        var logProbs = new float[logits.Data.Length];
        CtcScores.LogSoftmax(logits.Data, V, logProbs);
        var padded = f["ctc_targets"];
        var targetLengths = f["ctc_target_lengths"].Data.Select(v => (int)v).ToArray();
        var targets = Enumerable.Range(0, N).Select(i => padded.Data.Skip(i * (int)padded.Shape[1]).Take(targetLengths[i]).Select(v => (int)v).ToArray()).ToArray();
        var inputLengths = f["ctc_input_lengths"].Data.Select(v => (int)v).ToArray();
        var gradLogProbs = new float[logProbs.Length];
        var losses = CtcLoss.ComputeBatch(logProbs, BatchLayout.TimeFirst, N, T, V, targets, inputLengths, blank: 0, gradLogProbs, out float sum, CtcReduction.Sum, zeroInfinity: true);

        var expectedLoss = f["ctc_loss"].Data;
        for (int i = 0; i < N; i++)
            Assert.True(Math.Abs(losses[i] - expectedLoss[i]) <= 1e-4 * Math.Max(1, Math.Abs(expectedLoss[i])), $"item {i}: {losses[i]} vs PyTorch {expectedLoss[i]}");
        Assert.Equal(0f, losses[2]); // impossible alignment, zero_infinity
        Assert.Equal(expectedLoss.Sum(), sum, 3);

        var gradLogits = new float[logProbs.Length];
        CtcLoss.LogSoftmaxBackward(logProbs, gradLogProbs, V, gradLogits);
        float maxError = gradLogits.Zip(f["ctc_grad_logits"].Data, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(maxError < 1e-5f, $"max gradient error {maxError:E2}");
    }

    [Fact]
    public void CtcGradientMatchesCentralFiniteDifferences()
    {
        const int T = 7, V = 4;
        var random = new Random(3);
        var logits = Enumerable.Range(0, T * V).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        int[] target = [1, 2, 2];
        double Loss(float[] z)
        {
            var lp = new float[z.Length];
            CtcScores.LogSoftmax(z, V, lp);
            return CtcLoss.Compute(lp, T, V, target, 0, new float[z.Length]);
        }
        var logProbs = new float[logits.Length];
        CtcScores.LogSoftmax(logits, V, logProbs);
        var grad = new float[logits.Length];
        CtcLoss.Compute(logProbs, T, V, target, 0, grad);
        var analytic = new float[logits.Length];
        CtcLoss.LogSoftmaxBackward(logProbs, grad, V, analytic);
        const float h = 1e-2f;
        for (int i = 0; i < logits.Length; i++)
        {
            var plus = (float[])logits.Clone(); plus[i] += h;
            var minus = (float[])logits.Clone(); minus[i] -= h;
            double numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) < 2e-3, $"logit {i}: numeric {numeric:F5}, analytic {analytic[i]:F5}");
        }
    }

    [Fact]
    public void CtcRejectsBadInputAndReportsImpossibleAlignments()
    {
        var lp = new float[3 * 4];
        Array.Fill(lp, MathF.Log(0.25f));
        var grad = new float[lp.Length];
        Assert.Equal(float.PositiveInfinity, CtcLoss.Compute(lp, 3, 4, [1, 1, 1], 0, grad)); // needs 5 frames
        Assert.Equal(0f, CtcLoss.Compute(lp, 3, 4, [1, 1, 1], 0, grad, zeroInfinity: true));
        Assert.All(grad, g => Assert.Equal(0f, g));
        Assert.Throws<TensorShapeException>(() => CtcLoss.Compute(lp, 3, 4, [0], 0, grad));   // blank in the target
        Assert.Throws<TensorShapeException>(() => CtcLoss.Compute(lp, 3, 4, [7], 0, grad));   // outside the vocabulary
        Assert.Throws<TensorShapeException>(() => CtcLoss.Compute(lp, 4, 4, [1], 0, grad));   // more frames than given
        // An empty target is all blanks: loss −Σ ln y(blank).
        Assert.Equal(-3 * Math.Log(0.25), CtcLoss.Compute(lp, 3, 4, [], 0, grad), 4);
    }

    [Fact]
    public void AdamWMatchesPyTorch()
    {
        var f = Fixture();
        var p = (float[])f["adamw_param0"].Data.Clone();
        var m = new float[p.Length];
        var v = new float[p.Length];
        var scratch = new float[p.Length];
        var adamw = new AdamW(0.9f, 0.999f, 1e-8f, WeightDecay: 0.1f);
        adamw.Step(p, f["adamw_grad1"].Data, m, v, scratch, 1, 0.01f);
        adamw.Step(p, f["adamw_grad2"].Data, m, v, scratch, 2, 0.01f);
        float maxError = p.Zip(f["adamw_param2"].Data, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(maxError < 1e-6f, $"max error {maxError:E2}");
    }

    [Fact]
    public void ClippingAndScheduleFollowTheirDefinitions()
    {
        var grads = new List<float[]> { new float[] { 3, 0 }, new float[] { 0, 4 } };
        Assert.Equal(5f, GradientClipping.ClipGlobalNorm(grads, 1f), 5);
        Assert.Equal(0.6f, grads[0][0], 4);
        Assert.Equal(0.8f, grads[1][1], 4);
        Assert.Equal(1f, GradientClipping.ClipGlobalNorm(grads, 10f), 3); // under the limit: untouched
        Assert.Throws<LipNetException>(() => GradientClipping.ClipGlobalNorm([new[] { float.NaN }], 1f));

        var schedule = new WarmupCosineSchedule(1e-3f, WarmupSteps: 10, TotalSteps: 110, MinimumRate: 1e-5f);
        Assert.Equal(1e-4f, schedule.RateAt(1), 7);
        Assert.Equal(1e-3f, schedule.RateAt(10), 7);
        Assert.Equal((1e-3f + 1e-5f) / 2, schedule.RateAt(60), 6);
        Assert.Equal(1e-5f, schedule.RateAt(110), 7);
        Assert.True(schedule.RateAt(30) > schedule.RateAt(80));
    }
}
