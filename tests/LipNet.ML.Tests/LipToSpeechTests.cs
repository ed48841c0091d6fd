using LipNet.ML.Audio;
using LipNet.ML.LipToSpeech;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;

namespace LipNet.ML.Tests;

/// <summary>The lip-to-speech runtime: video → mel → Griffin-Lim → speech, its evaluation, and bad input.</summary>
public class LipToSpeechTests
{
    private static string Repository => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", ".."));

    /// <summary>A random-weight lip-to-speech model over the Small LipNet with a card (the pipeline is under test, not accuracy).</summary>
    internal static string RandomModel(TempDir dir)
    {
        var architecture = new LipToSpeechArchitecture(LipNetArchitecture.Small);
        var model = new LipToSpeechModel(architecture);
        var card = new LipToSpeechCard
        {
            Architecture = architecture,
            MelMean = Enumerable.Repeat(-6f, 80).ToArray(),
            MelStd = Enumerable.Repeat(2f, 80).ToArray(),
            Normalize = new LipNet.ML.Tensors.FrameNormalizeOptions { Mean = [0.4f, 0.3f, 0.3f], Std = [0.2f, 0.2f, 0.2f] },
        };
        var onnx = model.BuildInference(model.InitialParameters(3), new Dictionary<string, string> { [LipToSpeechCard.MetadataKey] = card.ToJson() });
        string path = dir.File("lip2speech.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(onnx));
        return path;
    }

    [Fact]
    public void AVideoBecomesSpeechOfItsLengthAndIsScoredAgainstItsOwnAudio()
    {
        using var dir = new TempDir();
        string clip = Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        using var synthesizer = new LipToSpeechSynthesizer(RandomModel(dir));
        var mel = synthesizer.Mel(clip);
        Assert.Equal(300, mel.FrameCount);
        Assert.Equal(80, mel.FeatureCount);
        var speech = synthesizer.Vocode(mel, clip);
        Assert.Equal(16000, speech.SampleRate);
        Assert.Equal(48000, speech.SampleCount); // 75 frames at 25 fps
        Assert.All(speech.Samples, s => Assert.True(float.IsFinite(s)));

        var failures = new List<TranscriptionFailure>();
        string silent = dir.File("silent.avi");
        SyntheticCorpus.WriteVideo(SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 1 }, 0, 0).Frames, silent, SyntheticVideoFormat.Avi);
        var accuracy = synthesizer.Evaluate([clip, silent], "test", failures);
        Assert.Equal(1, accuracy.Clips);
        Assert.InRange(accuracy.Stoi, -1, 1);
        Assert.True(accuracy.MelL1 > 0);
        Assert.EndsWith("silent.avi", Assert.Single(failures).Source);
        Assert.ThrowsAny<LipNetException>(() => synthesizer.Evaluate([silent], "test"));

        // The card records what evaluate measured.
        LipToSpeechSynthesizer.RecordAccuracy(dir.File("lip2speech.onnx"), accuracy);
        using var recorded = new LipToSpeechSynthesizer(dir.File("lip2speech.onnx"));
        Assert.Equal(accuracy, Assert.Single(recorded.Card.Accuracy));
    }

    [Fact]
    public void BadInputIsTyped()
    {
        using var dir = new TempDir();
        Assert.Throws<ModelLoadException>(() => new LipToSpeechSynthesizer(dir.File("absent.onnx")));
        Assert.Throws<ModelLoadException>(() => new LipToSpeechSynthesizer(LipReaderTests.RandomModel(dir)));
        using var synthesizer = new LipToSpeechSynthesizer(RandomModel(dir));
        File.WriteAllBytes(dir.File("broken.mp4"), [1, 2, 3]);
        Assert.ThrowsAny<LipNetException>(() => synthesizer.Speak(dir.File("broken.mp4")));
        Assert.Throws<TensorShapeException>(() => synthesizer.Mel(new LipNet.ML.Video.VideoFrames(new byte[10 * 10 * 3], 1, 10, 10, 25, LipNet.ML.Video.PixelOrder.Rgb, "tiny")));
    }
}
