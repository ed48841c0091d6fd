using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Onnx;

/// <summary>
/// 8-bit convolutions for a LipNet inference graph (<see cref="LipNetGraph.Build"/>): every conv block after the
/// first reads uint8 activations and int8 per-output-channel weights (ONNX <c>QLinearConv</c>, u8s8) and writes
/// uint8; the first block (3 input channels, where 8 bits gain nothing) stays float and its output is quantized.
/// <see cref="BlockScales"/>[b] is the scale of block b's uint8 output (zero point 0: outputs follow a ReLU),
/// calibrated on sample clips with <see cref="Calibrate"/>. The GRUs and the linear layer stay float.
/// </summary>
public sealed record Int8Convolutions(float[] BlockScales, int CalibrationClips = 0)
{
    /// <summary>
    /// Runs the float model on <paramref name="clips"/> (each normalized as the model card says, [C, T, H, W]) and
    /// sets each block's scale so that the largest activation seen maps to 255.
    /// </summary>
    public static Int8Convolutions Calibrate(LipNetArchitecture arch, IReadOnlyDictionary<string, NamedTensor> weights, IEnumerable<float[]> clips)
    {
        var model = LipNetGraph.BuildCalibration(arch, weights);
        using var options = new SessionOptions();
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        var outputs = Enumerable.Range(1, arch.ConvChannels.Length).Select(b => $"block{b}").ToArray();
        var max = new float[outputs.Length];
        long expected = (long)arch.Channels * arch.Frames * arch.Height * arch.Width;
        int count = 0;
        foreach (var clip in clips)
        {
            if (clip.Length != expected)
                throw new TensorShapeException($"calibration clip {count} has {clip.Length} values, the {arch.Name} architecture reads {expected} ({arch.Channels}x{arch.Frames}x{arch.Height}x{arch.Width})");
            using var input = OrtValue.CreateTensorValueFromMemory(clip, [1, arch.Channels, arch.Frames, arch.Height, arch.Width]);
            using var results = session.Run(new RunOptions(), [LipNetGraph.InputName], [input], outputs);
            for (int b = 0; b < outputs.Length; b++)
                max[b] = Math.Max(max[b], System.Numerics.Tensors.TensorPrimitives.Max(results[b].GetTensorDataAsSpan<float>()));
            count++;
        }
        if (count == 0)
            throw new LipNetException("int8 calibration needs at least one clip");
        return new Int8Convolutions(max.Select(m => m > 0 ? m / 255f : 1f).ToArray(), count);
    }

    /// <summary>
    /// A conv weight [M, C, kt, kh, kw] laid out for the frame-stacked 2-D convolution [M, kt*C, kh, kw], quantized
    /// symmetrically per output channel; the bias in int32 at scale inputScale x weight scale.
    /// </summary>
    internal (sbyte[] Weight, float[] Scales, int[] Bias) QuantizeWeights(NamedTensor weight, NamedTensor bias, float inputScale)
    {
        int m = (int)weight.Shape[0], c = (int)weight.Shape[1], kt = (int)weight.Shape[2], area = (int)(weight.Shape[3] * weight.Shape[4]);
        int per = c * kt * area;
        var q = new sbyte[weight.Data.Length];
        var scales = new float[m];
        var b32 = new int[m];
        for (int o = 0; o < m; o++)
        {
            var row = weight.Data.AsSpan(o * per, per);
            float maxAbs = MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
            scales[o] = maxAbs > 0 ? maxAbs / 127f : 1f;
            for (int ci = 0; ci < c; ci++)
                for (int t = 0; t < kt; t++)
                    for (int a = 0; a < area; a++)
                        q[o * per + (t * c + ci) * area + a] = (sbyte)Math.Clamp(MathF.Round(row[(ci * kt + t) * area + a] / scales[o]), -127, 127);
            b32[o] = (int)Math.Round(bias.Data[o] / ((double)inputScale * scales[o]));
        }
        return (q, scales, b32);
    }
}
