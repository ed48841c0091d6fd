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

/// <summary>The audio-visual commands as a user runs them: keypoints predict/evaluate and speak/speak evaluate.</summary>
public class AudioVisualCliTests
{
    private static string Repository => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", ".."));

    [Fact]
    public void SpeakWritesTheVideosSpeechAndEvaluatePrintsOneObject()
    {
        using var dir = new TempDir();
        string model = LipToSpeechTests.RandomModel(dir);
        string clip = Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        var (code, stdout, stderr) = CliTests.Run("speak", clip, "--model", model, "--out", dir.File("speech.wav"), "--spectrogram", dir.File("spec.png"));
        Assert.True(code == 0, stderr);
        Assert.Contains("3.00 s of speech", stdout);
        Assert.Equal(48000, AudioReader.Read(dir.File("speech.wav")).SampleCount);
        Assert.True(new FileInfo(dir.File("spec.png")).Length > 1000);
        (code, stdout, stderr) = CliTests.Run("speak", "evaluate", Path.Combine(Repository, "samples", "data", "grid"), "--model", model, "--json");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("clips").GetInt32());
        foreach (var key in new[] { "stoi", "estoi", "mel_l1" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        (code, _, stderr) = CliTests.Run("speak", dir.File("absent.mp4"), "--model", model, "--out", dir.File("x.wav"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, code);
        Assert.Contains("absent.mp4", stderr);
        // --out is required and must be a .wav; its folder must exist.
        (code, _, stderr) = CliTests.Run("speak", clip, "--model", model);
        Assert.Equal(1, code);
        Assert.Contains("--out", stderr);
        (code, _, stderr) = CliTests.Run("speak", clip, "--model", model, "--out", dir.File("speech.mp3"));
        Assert.Equal(1, code);
        Assert.Contains(".wav", stderr);
        (code, _, stderr) = CliTests.Run("speak", clip, "--model", model, "--out", Path.Combine(dir.Path, "absent", "speech.wav"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, code);
        Assert.Contains("does not exist", stderr);
    }

    [Fact]
    public void KeypointsPredictAndEvaluateOnABundledClip()
    {
        using var dir = new TempDir();
        // A tiny model trained on made-up clips: the commands are under test, not the model.
        var clips = Enumerable.Range(0, 4).Select(c => new LipNet.ML.Keypoints.KeypointClip($"c{c}", Enumerable.Range(0, 20 * 13).Select(i => (float)Math.Sin(i + c)).ToArray(),
            13, Enumerable.Range(0, 20 * 80).Select(i => (float)Math.Cos(i * 0.1 + c) * 0.3f).ToArray(), 20)).ToList();
        LipNet.ML.Keypoints.Wav2KeypointsTraining.Train(clips, [], dir.File("run"), new LipNet.ML.Keypoints.Wav2KeypointsTrainingOptions
        {
            Trainer = new LipNet.ML.Training.TrainerOptions { BatchSize = 2, Threads = 1 }, Epochs = 1, Frames = 20, GruHidden = 8, GruLayers = 1,
        });
        string model = dir.File("run/model.onnx");
        string clip = Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        var (code, stdout, stderr) = CliTests.Run("keypoints", "predict", clip, "--model", model, "--out", dir.File("lips.json"), "--cache", "none");
        Assert.True(code == 0, stderr);
        Assert.Contains("RMSE against the video's own keypoints", stdout);
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("lips.json"))))
        {
            Assert.Equal(75, doc.RootElement.GetProperty("points").GetArrayLength());
            Assert.Equal(80, doc.RootElement.GetProperty("points")[0].GetArrayLength());
        }
        (code, _, stderr) = CliTests.Run("keypoints", "predict", clip, "--model", model, "--out", dir.File("lips.png"), "--cache", "none");
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = CliTests.Run("keypoints", "evaluate", Path.Combine(Repository, "samples", "data", "grid"), "--model", model, "--json", "--cache", "none");
        Assert.True(code == 0, stderr);
        using (var doc = System.Text.Json.JsonDocument.Parse(stdout))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("clips").GetInt32());
            Assert.True(doc.RootElement.GetProperty("baseline_rmse").GetDouble() > 0);
        }
        // A wrong extension is a usage error before any work; a folder that does not exist, bad input naming it.
        (code, _, stderr) = CliTests.Run("keypoints", "predict", clip, "--model", model, "--out", dir.File("lips.txt"), "--cache", "none");
        Assert.Equal(1, code);
        Assert.Contains(".json, .mp4, .png", stderr);
        (code, _, stderr) = CliTests.Run("keypoints", "predict", clip, "--model", model, "--out", Path.Combine(dir.Path, "absent", "lips.json"), "--cache", "none");
        Assert.Equal(LipNet.Cli.CliApp.BadInput, code);
        Assert.Contains("does not exist", stderr);
    }
}
