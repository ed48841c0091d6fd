using BenchmarkDotNet.Attributes;
using LipNet.ML.Audio;
using LipNet.ML.Metrics;
using NWaves.Operations;
using NWaves.Transforms;
using NWaves.Windows;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// The Griffin-Lim vocoder and the intelligibility metrics on a 3 s clip at 16 kHz (75 video frames at 25 fps, a log-mel
/// of 300 x 80 at 10 ms). The peer is NWaves' own <c>GriffinLimReconstructor</c> with the same iteration count on the
/// same-sized power spectrogram (its framing: 25 ms Hamming windows every 10 ms from sample 0, FFT 512, random phase,
/// no mel inversion, no momentum).
/// </summary>
[MemoryDiagnoser]
public class SpeechSynthesisBenchmarks
{
    private float[] _clean = [], _noisy = [];
    private SpeechFeatures _logMel = null!;
    private GriffinLim _vocoder = null!, _vocoder60 = null!;
    private Stft _stft = null!;
    private List<float[]> _power = [];

    [GlobalSetup]
    public void Setup()
    {
        // A harmonic series with a 4 Hz syllable envelope and seeded noise: the cost does not depend on the content.
        var random = new Random(20);
        _clean = new float[48000];
        _noisy = new float[48000];
        for (int n = 0; n < _clean.Length; n++)
        {
            double t = n / 16000.0, v = 0;
            for (int k = 1; k < 30; k++)
                v += Math.Sin(2 * Math.PI * k * 125 * t + k) / k;
            _clean[n] = (float)(0.2 * v * Math.Pow(Math.Sin(Math.PI * 4 * t), 2));
            _noisy[n] = _clean[n] + (float)(0.05 * (random.NextDouble() - 0.5));
        }
        var options = new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 };
        _logMel = new SpeechFeatureExtractor(options).LogMel(_clean, 16000, 75);
        _vocoder = new GriffinLim(options);
        _vocoder60 = new GriffinLim(options, new GriffinLimOptions { Iterations = 60 });
        _stft = new Stft(400, 160, WindowType.Hamming, 512);
        _power = _stft.Spectrogram(_clean);
    }

    [Benchmark(Baseline = true, Description = "peer: NWaves GriffinLimReconstructor, 32 iterations (298 x 257)")]
    public int NWavesGriffinLim32() =>
        new GriffinLimReconstructor(_power.Select(f => (float[])f.Clone()).ToList(), _stft).Reconstruct(32).Length;

    [Benchmark(Description = "Griffin-Lim from log-mel, 32 iterations (the default)")]
    public int GriffinLim32() => _vocoder.Synthesize(_logMel).SampleCount;

    [Benchmark(Description = "Griffin-Lim from log-mel, 60 iterations")]
    public int GriffinLim60() => _vocoder60.Synthesize(_logMel).SampleCount;

    [Benchmark(Description = "STOI, 3 s at 16 kHz")]
    public double Stoi() => Intelligibility.Stoi(_clean, _noisy, 16000);

    [Benchmark(Description = "ESTOI, 3 s at 16 kHz")]
    public double Estoi() => Intelligibility.Estoi(_clean, _noisy, 16000);
}
