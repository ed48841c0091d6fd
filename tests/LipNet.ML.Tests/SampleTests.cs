using LipNet.Samples;

namespace LipNet.ML.Tests;

/// <summary>Smoke tests of the sample programs under samples/ (each also runs with one `dotnet run`).</summary>
public class SampleTests
{
    [Fact]
    public void TranscribeSampleReadsTheBundledClipWithTheEmbeddedModel()
    {
        var output = new StringWriter();
        Assert.Equal(0, TranscribeSample.Run([], output));
        Assert.Contains("sbwb8s.mp4: \"", output.ToString());
        Assert.Contains("truth: \"", output.ToString());
    }

    [Fact]
    public void EvaluateSampleScoresASmallUnseenSyntheticCorpus()
    {
        var output = new StringWriter();
        Assert.Equal(0, EvaluateSample.Run([], output, speakers: 1, clipsPerSpeaker: 2));
        Assert.Contains("2 sentences: CER ", output.ToString());
        Assert.Contains("s1: 2 sentences", output.ToString());
    }

    [Fact]
    public void TrainSampleRunsAndExportsAModel()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        string model = dir.File("m.onnx");
        double cer = TrainSample.Train(["2", "3", "0.006", "Small", model], output);
        Assert.InRange(cer, 0, 1);
        Assert.Contains("step    3: loss", output.ToString());
        using var loaded = Runtime.LipNetModel.Load(model);
        Assert.Contains("samples/TrainSynthetic", loaded.Card.Provenance);
    }
}
