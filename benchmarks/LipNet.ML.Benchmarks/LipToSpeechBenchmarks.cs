using BenchmarkDotNet.Attributes;
using LipNet.ML.LipToSpeech;
using LipNet.ML.Runtime;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// <c>lipnet speak</c>'s work on one 3 s real GRID clip (the bundled s1 clip: 75 frames at 25 fps) with the embedded default
/// lip-to-speech model: end to end (decode, landmark front end, model, Griffin-Lim), and the model and vocoder on crops made
/// once. The peer is the lipreading default model reading the same clip (the same front end, a model of the same body):
/// the ratio says what speaking costs next to reading. Issue #20's goal: speak a 3 s clip in under 1 s on 2 cores.
/// </summary>
[MemoryDiagnoser]
public class LipToSpeechBenchmarks
{
    private LipToSpeechSynthesizer _synthesizer = null!;
    private LipReader _reader = null!;
    private Video.VideoFrames _crops = null!;
    private string _clip = "";

    [GlobalSetup]
    public void Setup()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && _clip.Length == 0; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")))
                _clip = Path.Combine(dir.FullName, "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        _synthesizer = LipToSpeechSynthesizer.Default();
        _reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        using var preprocessor = new Tensors.ClipPreprocessor(Mouth.CropProfile.MouthCentred.CreateLocator(), new Mouth.MouthCropOptions(),
            read: new Video.VideoReadOptions { TargetFps = 25 }, ownsLocator: true);
        _crops = preprocessor.Crop(_clip).Crop.Frames;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _synthesizer.Dispose();
        _reader.Dispose();
    }

    [Benchmark(Baseline = true, Description = "peer: lipreading the clip (LipReader.Default, beam 50 + grammar)")]
    public int Read() => _reader.Transcribe(_clip).Text.Length;

    [Benchmark(Description = "speak: video → speech (front end, model, Griffin-Lim)")]
    public int Speak() => _synthesizer.Speak(_clip).SampleCount;

    [Benchmark(Description = "model only: crops → log-mel")]
    public int Mel() => _synthesizer.Mel(_crops).FrameCount;

    [Benchmark(Description = "model + vocoder: crops → speech")]
    public int MelAndVocoder() => _synthesizer.Vocode(_synthesizer.Mel(_crops)).SampleCount;
}
