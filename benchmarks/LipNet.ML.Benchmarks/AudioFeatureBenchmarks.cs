using BenchmarkDotNet.Attributes;
using LipNet.ML.Audio;
using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Options;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// Speech features of a 3 s clip at 16 kHz (75 video frames at 25 fps): MFCC and log-mel aligned to the video, one or four
/// feature frames per video frame. The peer is NWaves' own MFCC loop over the same clip with its own framing (25 ms
/// windows every 10 ms from sample 0, 298 frames, same filterbank size, FFT and DCT): the cost of NWaves itself, against
/// which the centred per-frame windows of <see cref="SpeechFeatureExtractor"/> are measured.
/// </summary>
[MemoryDiagnoser]
public class AudioFeatureBenchmarks
{
    private float[] _samples = [];
    private SpeechFeatureExtractor _one = null!, _four = null!;
    private MfccExtractor _nwaves = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Tones and seeded noise: the cost does not depend on the content.
        var random = new Random(19);
        _samples = Enumerable.Range(0, 48000).Select(n => (float)(0.3 * Math.Sin(2 * Math.PI * 150 * n / 16000.0)
            + 0.2 * Math.Sin(2 * Math.PI * 1000 * n / 16000.0) + 0.02 * (random.NextDouble() - 0.5))).ToArray();
        _one = new SpeechFeatureExtractor();
        _four = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 });
        _nwaves = new MfccExtractor(new MfccOptions
        {
            SamplingRate = 16000, FeatureCount = 13, FilterBankSize = 80, FrameDuration = 0.025, HopDuration = 0.010,
            PreEmphasis = 0.97, NonLinearity = NonLinearityType.LogE, LogFloor = 1e-10f,
        });
    }

    [Benchmark(Baseline = true, Description = "peer: NWaves MfccExtractor.ComputeFrom, 10 ms hop from sample 0 (298 x 13)")]
    public int NWavesMfcc10ms() => _nwaves.ComputeFrom(_samples).Count;

    [Benchmark(Description = "MFCC, 1 per video frame (75 x 13)")]
    public int Mfcc1() => _one.Mfcc(_samples, 16000).FrameCount;

    [Benchmark(Description = "log-mel, 1 per video frame (75 x 80)")]
    public int LogMel1() => _one.LogMel(_samples, 16000).FrameCount;

    [Benchmark(Description = "MFCC, 4 per video frame (300 x 13)")]
    public int Mfcc4() => _four.Mfcc(_samples, 16000).FrameCount;

    [Benchmark(Description = "log-mel, 4 per video frame (300 x 80)")]
    public int LogMel4() => _four.LogMel(_samples, 16000).FrameCount;

    [Benchmark(Description = "MFCC, 1 per video frame, extractor built per call")]
    public int Mfcc1NewExtractor() => new SpeechFeatureExtractor().Mfcc(_samples, 16000).FrameCount;
}
