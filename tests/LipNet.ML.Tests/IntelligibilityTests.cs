using System.Globalization;
using System.Text.Json;
using LipNet.ML.Audio;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using Xunit.Abstractions;

namespace LipNet.ML.Tests;

/// <summary>STOI, ESTOI and mel L1 (<see cref="Intelligibility"/>) against an independent numpy/scipy reference.</summary>
public class IntelligibilityTests(ITestOutputHelper output)
{
    /// <summary>The fixture's clean speech-like signal, its noise and its processed signals by case name (16 kHz, 3 s).</summary>
    private sealed record Fixture(float[] Clean, float[] Noise, Dictionary<string, float[]> Processed,
        Dictionary<string, (double Stoi, double Estoi)> Expected);

    private static readonly Lazy<Fixture> Data = new(() =>
    {
        var tensors = SafeTensors.Load(OnnxGraphTests.Fixture("stoi_parity.safetensors"), out var metadata);
        float[] clean = tensors["clean"].Data, noise = tensors["noise"].Data;
        var cases = JsonSerializer.Deserialize<string[]>(metadata["cases"])!;
        var stoi = JsonSerializer.Deserialize<double[]>(metadata["stoi"])!;
        var estoi = JsonSerializer.Deserialize<double[]>(metadata["estoi"])!;
        var processed = new Dictionary<string, float[]>();
        var expected = new Dictionary<string, (double, double)>();
        for (int c = 0; c < cases.Length; c++)
        {
            // As the script forms them, in float32: clean + gain * noise (the gain sets the SNR over the whole clip).
            float gain = metadata.TryGetValue("gain_" + cases[c], out var g) ? (float)double.Parse(g, CultureInfo.InvariantCulture) : 0f;
            processed[cases[c]] = clean.Select((v, i) => v + gain * noise[i]).ToArray();
            expected[cases[c]] = (stoi[c], estoi[c]);
        }
        return new Fixture(clean, noise, processed, expected);
    });

    /// <remarks>
    /// tests/fixtures/make_stoi_fixture.py computes STOI and ESTOI in numpy/scipy (float64) from the papers with the MATLAB
    /// code's constants (pystoi's structure); the library computes them in double with NWaves' FFT and its own Octave-style
    /// resampler. Acceptance (#20): |ours - reference| &lt;= 1e-3 for every case.
    /// </remarks>
    [Fact]
    public void StoiAndEstoiMatchTheNumpyReference()
    {
        var data = Data.Value;
        double worstStoi = 0, worstEstoi = 0;
        foreach (var (name, processed) in data.Processed)
        {
            double stoi = Intelligibility.Stoi(data.Clean, processed, 16000);
            double estoi = Intelligibility.Estoi(data.Clean, processed, 16000);
            var (refStoi, refEstoi) = data.Expected[name];
            output.WriteLine($"{name,-8} STOI {stoi:F6} (numpy {refStoi:F6}, |diff| {Math.Abs(stoi - refStoi):E1})  " +
                $"ESTOI {estoi:F6} (numpy {refEstoi:F6}, |diff| {Math.Abs(estoi - refEstoi):E1})");
            worstStoi = Math.Max(worstStoi, Math.Abs(stoi - refStoi));
            worstEstoi = Math.Max(worstEstoi, Math.Abs(estoi - refEstoi));
        }
        output.WriteLine($"max |diff|: STOI {worstStoi:E2}, ESTOI {worstEstoi:E2}");
        Assert.True(worstStoi <= 1e-3, $"STOI differs from the reference by {worstStoi:E2}");
        Assert.True(worstEstoi <= 1e-3, $"ESTOI differs from the reference by {worstEstoi:E2}");
    }

    [Fact]
    public void ASignalAgainstItselfScoresOne()
    {
        var clean = Data.Value.Clean;
        Assert.Equal(1.0, Intelligibility.Stoi(clean, clean, 16000), 1e-6);
        Assert.Equal(1.0, Intelligibility.Estoi(clean, clean, 16000), 1e-6);
        // Other rates go through the resampler (or none at 10 kHz) and still give 1.
        foreach (int rate in new[] { 8000, 10000, 22050, 44100 })
        {
            var tone = Speechlike(rate, 2.0);
            Assert.Equal(1.0, Intelligibility.Stoi(tone, tone, rate), 1e-6);
            Assert.Equal(1.0, Intelligibility.Estoi(tone, tone, rate), 1e-6);
        }
    }

    [Fact]
    public void NoiseScoresFarLowerAndScoresFallWithTheSnr()
    {
        var data = Data.Value;
        double noiseStoi = Intelligibility.Stoi(data.Clean, data.Noise, 16000);
        double noiseEstoi = Intelligibility.Estoi(data.Clean, data.Noise, 16000);
        output.WriteLine($"noise alone: STOI {noiseStoi:F4}, ESTOI {noiseEstoi:F4}");
        // STOI's clipping (at 5.6 x the clean envelope) makes noise follow the clean envelope's dips: well above 0 for a
        // signal with deep syllabic dips (the reference gives 0.398 too), but far from 1. ESTOI has no clipping.
        Assert.InRange(noiseStoi, -0.5, 0.5);
        Assert.InRange(noiseEstoi, -0.1, 0.1);
        string[] bySnr = ["clean", "snr_5", "snr_0", "snr_-5"];
        var stoi = bySnr.Select(c => Intelligibility.Stoi(data.Clean, data.Processed[c], 16000)).ToArray();
        var estoi = bySnr.Select(c => Intelligibility.Estoi(data.Clean, data.Processed[c], 16000)).ToArray();
        output.WriteLine($"STOI {string.Join(" > ", stoi.Select(s => s.ToString("F3")))}; " +
            $"ESTOI {string.Join(" > ", estoi.Select(s => s.ToString("F3")))}");
        for (int i = 1; i < bySnr.Length; i++)
        {
            Assert.True(stoi[i] < stoi[i - 1], $"STOI at {bySnr[i]} is not below {bySnr[i - 1]}");
            Assert.True(estoi[i] < estoi[i - 1], $"ESTOI at {bySnr[i]} is not below {bySnr[i - 1]}");
            Assert.True(stoi[i] > noiseStoi && estoi[i] > noiseEstoi);
        }
    }

    [Fact]
    public void TheClipOverloadsAgreeWithTheSpanOnes()
    {
        var data = Data.Value;
        var clean = new AudioClip(data.Clean, 16000, "clean");
        var noisy = new AudioClip(data.Processed["snr_0"], 16000, "noisy");
        Assert.Equal(Intelligibility.Stoi(data.Clean, noisy.Samples, 16000), Intelligibility.Stoi(clean, noisy));
        Assert.Equal(Intelligibility.Estoi(data.Clean, noisy.Samples, 16000), Intelligibility.Estoi(clean, noisy));
    }

    [Fact]
    public void BadInputIsATypedError()
    {
        var clean = Data.Value.Clean;
        var shape = Assert.Throws<TensorShapeException>(() => Intelligibility.Stoi(clean, clean.AsSpan(0, 40000), 16000));
        Assert.Contains("48000", shape.Message);
        var rate = Assert.Throws<SampleRateMismatchException>(() =>
            Intelligibility.Estoi(new AudioClip(clean, 16000, "a.wav"), new AudioClip(clean, 22050, "b.wav")));
        Assert.Equal((16000, 22050, "b.wav"), (rate.ExpectedHz, rate.ActualHz, rate.FilePath));
        Assert.Throws<ArgumentOutOfRangeException>(() => Intelligibility.Stoi(clean, clean, 0));
        var nan = (float[])clean.Clone();
        nan[100] = float.NaN;
        Assert.Throws<ArgumentException>(() => Intelligibility.Stoi(clean, nan, 16000));

        // Too short: fewer samples than one 30-frame segment needs, or too little left after dropping silent frames.
        Assert.Equal(6554, Intelligibility.MinimumSamples(16000));
        Assert.Equal(4097, Intelligibility.MinimumSamples(10000));
        var enough = Speechlike(16000, 6554.0 / 16000);
        Assert.InRange(Intelligibility.Stoi(enough, enough, 16000), 1 - 1e-6, 1 + 1e-6);
        var tooShort = enough[..6553];
        var shortError = Assert.Throws<AudioTooShortException>(() => Intelligibility.Stoi(tooShort, tooShort, 16000));
        Assert.Equal((6553, 6554), (shortError.Samples, shortError.MinimumSamples));
        var tenK = Speechlike(10000, 0.4097);
        Assert.InRange(Intelligibility.Estoi(tenK, tenK, 10000), 1 - 1e-6, 1 + 1e-6);
        Assert.Throws<AudioTooShortException>(() => Intelligibility.Estoi(tenK[..4096], tenK[..4096], 10000));
        var mostlySilent = new float[48000];
        Speechlike(16000, 0.1).CopyTo(mostlySilent, 20000);
        var silent = Assert.Throws<AudioTooShortException>(() => Intelligibility.Estoi(mostlySilent, mostlySilent, 16000));
        Assert.Contains("silent", silent.Message);
    }

    [Fact]
    public void MelL1IsTheMeanAbsoluteDifference()
    {
        var extractor = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 });
        var data = Data.Value;
        var a = extractor.LogMel(data.Clean, 16000);
        var b = extractor.LogMel(data.Processed["snr_0"], 16000);
        Assert.Equal(0, Intelligibility.MelL1(a, a));
        double expected = a.Values.Zip(b.Values, (x, y) => Math.Abs((double)x - y)).Average();
        Assert.Equal(expected, Intelligibility.MelL1(a, b), 1e-9);
        Assert.Equal(0.5, Intelligibility.MelL1([1f, 2f], [1.5f, 1.5f]), 1e-12);
        var shorter = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 }).LogMel(data.Clean, 16000, 70);
        Assert.Throws<TensorShapeException>(() => Intelligibility.MelL1(a, shorter));
        Assert.Throws<TensorShapeException>(() => Intelligibility.MelL1(a, extractor.Mfcc(data.Clean, 16000)));
        Assert.Throws<TensorShapeException>(() => Intelligibility.MelL1([], []));
    }

    /// <summary>A harmonic series with a 4 Hz syllable envelope, <paramref name="seconds"/> long at <paramref name="rate"/>.</summary>
    internal static float[] Speechlike(int rate, double seconds)
    {
        int n = (int)Math.Round(rate * seconds);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double t = (double)i / rate, v = 0;
            for (int k = 1; k * 130 < Math.Min(rate / 2.0, 4000); k++)
                v += Math.Sin(2 * Math.PI * k * 130 * t + k) / k;
            x[i] = (float)(0.2 * v * (0.3 + Math.Pow(Math.Sin(Math.PI * 4 * t), 2)));
        }
        return x;
    }
}
