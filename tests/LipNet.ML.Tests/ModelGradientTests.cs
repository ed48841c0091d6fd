using Google.Protobuf;
using LipNet.ML.Decoding;
using LipNet.ML.Onnx;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Tests;

public class ModelGradientTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The whole network's training graph against PyTorch: a tiny LipNet (conv 4/8/8, BiGRU 16 x2; the Small
    /// preset's gradients would make a 5 MB fixture) on 2 clips of 6 frames, CTC loss with blank 0, reduction sum.
    /// </summary>
    [Fact]
    public void TrainingGraphLossAndEveryGradientMatchPyTorch()
    {
        var f = SafeTensors.Load(OnnxGraphTests.Fixture("gradient_parity.safetensors"));
        var arch = LipNetArchitecture.Small with { Name = "tiny", ConvChannels = [4, 8, 8], GruHidden = 16, Frames = 6 };
        var torchWeights = arch.Parameters().ToDictionary(p => p.Name, p => f[p.Name]);
        var onnxWeights = LipNetGraph.ToOnnxLayout(arch, torchWeights);
        const int batch = 2;
        var training = LipNetGraph.BuildTraining(arch, batch);
        using var session = new InferenceSession(training.ToByteArray());

        var parameters = LipNetGraph.OnnxParameterShapes(arch);
        var names = new List<string> { LipNetGraph.InputName };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(f["input"].Data, [batch, 3, 6, 50, 100]) };
        foreach (var (name, shape) in parameters)
        {
            names.Add(name);
            values.Add(OrtValue.CreateTensorValueFromMemory(onnxWeights[name].Data, shape));
        }
        // Forward only: the backward inputs are not needed for log_probs.
        var zeros = new float[batch * 6 * 28];
        names.Add(GradientGraph.GradientName(LipNetGraph.OutputName));
        values.Add(OrtValue.CreateTensorValueFromMemory(zeros, [batch, 6, 28]));
        float[] logProbs;
        using var runOptions = new RunOptions();
        using (var forward = session.Run(runOptions, names, values, [LipNetGraph.OutputName]))
            logProbs = forward[0].GetTensorDataAsSpan<float>().ToArray();

        int[][] targets = [[1, 2, 3], [4, 4]];
        var gradLogProbs = new float[logProbs.Length];
        CtcLoss.ComputeBatch(logProbs, BatchLayout.BatchFirst, batch, 6, 28, targets, [6, 6], 0, gradLogProbs, out float loss, CtcReduction.Sum, zeroInfinity: false);
        float expectedLoss = f["loss"].Data[0];
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-4 * Math.Abs(expectedLoss), $"loss {loss} vs PyTorch {expectedLoss}");

        values[^1].Dispose();
        values[^1] = OrtValue.CreateTensorValueFromMemory(gradLogProbs, [batch, 6, 28]);
        var gradNames = parameters.Select(p => GradientGraph.GradientName(p.Name)).ToArray();
        var onnxGrads = new Dictionary<string, NamedTensor>();
        using (var backward = session.Run(runOptions, names, values, gradNames))
            for (int i = 0; i < parameters.Count; i++)
                onnxGrads[parameters[i].Name] = new NamedTensor(parameters[i].Name, parameters[i].Shape, backward[i].GetTensorDataAsSpan<float>().ToArray());
        foreach (var v in values)
            v.Dispose();

        var grads = LipNetGraph.ToPyTorchLayout(arch, onnxGrads);
        var report = new List<string>();
        foreach (var (name, _) in arch.Parameters())
        {
            var expected = f["grad." + name].Data;
            var actual = grads[name].Data;
            float scale = Math.Max(1e-6f, expected.Max(MathF.Abs));
            float relative = expected.Zip(actual, (a, b) => MathF.Abs(a - b)).Max() / scale;
            report.Add($"{name} {relative:E1}");
            output.WriteLine($"{name}: max |Δ| / max |grad| = {relative:E2}; loss {loss} vs {expectedLoss}");
            Assert.True(relative < 1e-3f, $"{name}: max |Δ| / max |grad| = {relative:E2}");
        }
    }
}
