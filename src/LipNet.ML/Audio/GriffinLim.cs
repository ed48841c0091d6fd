using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using NWaves.Transforms;
using NWaves.Windows;

namespace LipNet.ML.Audio;

/// <summary>
/// Settings of <see cref="GriffinLim"/>: 32 iterations of fast Griffin-Lim (momentum 0.99) from a seeded random phase, after
/// 20 non-negative least-squares refinements of the mel-to-linear inversion.
/// </summary>
public sealed record GriffinLimOptions
{
    /// <summary>
    /// Griffin-Lim iterations (32 by default; 0 keeps the initial phase): each is one inverse and one forward STFT of every
    /// frame. The output's log-mel comes closer to the target with more (see the README for figures).
    /// </summary>
    public int Iterations { get; init; } = 32;

    /// <summary>
    /// Momentum alpha of the fast Griffin-Lim algorithm (Perraudin, Balazs and Sondergaard, "A fast Griffin-Lim algorithm",
    /// WASPAA 2013): the phase comes from c_n + alpha (c_n - c_(n-1)), c_n the consistent spectrogram of iteration n.
    /// 0.99 by default; 0 is the original algorithm of Griffin and Lim (1984). In [0, 1].
    /// </summary>
    public double Momentum { get; init; } = 0.99;

    /// <summary>
    /// Seed of the random initial phase (uniform in [0, 2 pi) per frame and bin, <see cref="Random(int)"/>); null starts
    /// from zero phase. 0 by default. Either way the output is the same on every run.
    /// </summary>
    public int? Seed { get; init; } = 0;

    /// <summary>
    /// Multiplicative non-negative least-squares updates (Lee and Seung 2001) that refine the clipped pseudo-inverse of the
    /// mel filterbank towards min ||M P - E||, P &gt;= 0 (20 by default; 0 keeps the clipped pseudo-inverse).
    /// </summary>
    public int MagnitudeIterations { get; init; } = 20;

    /// <summary>The defaults: 32 iterations, momentum 0.99, seed 0, 20 magnitude refinements.</summary>
    public static GriffinLimOptions Default { get; } = new();
}

/// <summary>
/// A vocoder without weights: a waveform back from a log-mel spectrogram made by
/// <see cref="SpeechFeatureExtractor.LogMel(AudioClip, int?)"/> (or predicted in its image), by Griffin and Lim's
/// iterative phase reconstruction ("Signal estimation from modified short-time Fourier transform", IEEE TASSP 32(2),
/// 1984) with the momentum of fast Griffin-Lim (Perraudin, Balazs and Sondergaard 2013).
/// </summary>
/// <remarks>
/// <para><b>Mel to linear.</b> E = exp(log-mel) is the mel filterbank M (<see cref="SpeechFeatureExtractor.MelFilterBank"/>,
/// [bands, FFT / 2 + 1]) times the power spectrum P of each frame; P starts as the Moore-Penrose pseudo-inverse of M
/// (MathNet.Numerics) times E clipped at 0, refined by <see cref="GriffinLimOptions.MagnitudeIterations"/> multiplicative
/// updates P := P (M^T E) / (M^T M P); the target magnitude is sqrt(P).</para>
/// <para><b>STFT.</b> The extractor's own analysis (NWaves' <c>RealFft</c>): feature frame t's window of W samples (25 ms,
/// symmetric Hamming) starts at round((t + 0.5) hop - W / 2), so it is centred on (t + 0.5) hop, zero-padded to the FFT
/// size, unnormalised. The signal is the pre-emphasised one and lives on [0, N) samples, N = video frames x rate / fps:
/// the extractor reads zeros outside the audio, so the reconstruction is held to zero there too.</para>
/// <para><b>Iterations.</b> From the initial phase, each iteration puts the target magnitude under the current phase,
/// takes the least-squares inverse STFT (the windowed inverse FFTs overlap-added and divided by the summed squared
/// window, Griffin and Lim's eq. 6) and its STFT again; the next phase is that spectrogram's plus the momentum times its
/// change. The last inverse STFT is de-emphasised, x[n] = y[n] + a x[n - 1] (a = <see cref="SpeechFeatureOptions.PreEmphasis"/>),
/// undoing the extractor's pre-emphasis.</para>
/// <para>Windows must overlap by at least half (hop &lt;= W / 2: <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/>
/// = 4 at 25 fps gives the usual 10 ms hop of a 25 ms window). An instance keeps only read-only tables: it is thread-safe.</para>
/// </remarks>
public sealed class GriffinLim
{
    private readonly SpeechFeatureExtractor _extractor;
    private readonly float[][] _bank;
    private readonly (int First, int End)[] _support;
    private readonly float[] _pseudoInverse;   // [FFT / 2 + 1, bands], row-major
    private readonly float[] _window;
    private readonly int _fft, _bins, _windowLength;

    /// <summary>A vocoder for log-mel spectrograms made with <paramref name="features"/>.</summary>
    /// <param name="features">The options the log-mel spectrograms were (or are predicted as if) made with; null: the
    /// defaults with <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/> = 4 (16 kHz, 25 fps, 10 ms hop, 80 mels).</param>
    /// <param name="options">Iterations, momentum, seed; <see cref="GriffinLimOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A feature option out of range (as for <see cref="SpeechFeatureExtractor"/>),
    /// windows that overlap by less than half (hop &gt; W / 2), negative iterations, or a momentum outside [0, 1].</exception>
    public GriffinLim(SpeechFeatureOptions? features = null, GriffinLimOptions? options = null)
    {
        FeatureOptions = features ?? new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 };
        Options = options ?? GriffinLimOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(Options.Iterations, "options.Iterations");
        ArgumentOutOfRangeException.ThrowIfNegative(Options.MagnitudeIterations, "options.MagnitudeIterations");
        if (!(Options.Momentum >= 0 && Options.Momentum <= 1))
            throw new ArgumentOutOfRangeException("options.Momentum", Options.Momentum, "must be in [0, 1]");
        _extractor = new SpeechFeatureExtractor(FeatureOptions);
        _windowLength = FeatureOptions.WindowSamples;
        if (FeatureOptions.HopSamples > _windowLength / 2.0)
            throw new ArgumentOutOfRangeException(nameof(features), FeatureOptions.HopSamples,
                $"Griffin-Lim needs windows that overlap by at least half: the hop is {FeatureOptions.HopSamples:0.##} samples " +
                $"for a {_windowLength}-sample window (raise FeaturesPerVideoFrame, e.g. to 4 for a 10 ms hop at 25 fps)");
        _fft = _extractor.FftSize;
        _bins = _fft / 2 + 1;
        _bank = _extractor.MelFilterBank;
        _support = _bank.Select(row => (Array.FindIndex(row, w => w != 0), Array.FindLastIndex(row, w => w != 0) + 1))
            .Select(r => r.Item1 < 0 ? (0, 0) : r).ToArray();
        var pinv = Matrix<double>.Build.DenseOfRowArrays(_bank.Select(r => r.Select(w => (double)w).ToArray())).PseudoInverse();
        _pseudoInverse = new float[_bins * _bank.Length];
        for (int k = 0; k < _bins; k++)
            for (int m = 0; m < _bank.Length; m++)
                _pseudoInverse[k * _bank.Length + m] = (float)pinv[k, m];
        _window = Window.OfType(WindowType.Hamming, _windowLength);
    }

    /// <summary>The options of the log-mel spectrograms this vocoder inverts.</summary>
    public SpeechFeatureOptions FeatureOptions { get; }

    /// <summary>The Griffin-Lim settings.</summary>
    public GriffinLimOptions Options { get; }

    /// <summary>
    /// The waveform of <paramref name="logMel"/>: a clip at <see cref="SpeechFeatureOptions.SampleRate"/> exactly as long
    /// as its video, round(video frames x rate / fps) samples (48000 for 75 frames at 25 fps and 16 kHz).
    /// </summary>
    /// <param name="logMel">A [T, <see cref="SpeechFeatureOptions.MelBands"/>] log-mel spectrogram (natural log of mel power)
    /// with <see cref="FeatureOptions"/>' frames per video frame, as the extractor makes or a model predicts it.</param>
    /// <param name="source">The name the clip's <see cref="AudioClip.Source"/> gets.</param>
    /// <returns>Mono float samples, de-emphasised, not clipped (full scale is [-1, 1]); write them with
    /// <see cref="AudioClip.WriteWav(string, WavSampleFormat)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logMel"/> or <paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException">A value is NaN or +infinity.</exception>
    /// <exception cref="TensorShapeException">The features are MFCCs, have another band count, frames per video frame or
    /// hop than <see cref="FeatureOptions"/>, or no frames.</exception>
    public AudioClip Synthesize(SpeechFeatures logMel, string source = "<griffin-lim>")
    {
        ArgumentNullException.ThrowIfNull(logMel);
        ArgumentNullException.ThrowIfNull(source);
        var o = FeatureOptions;
        if (logMel.Kind != SpeechFeatureKind.LogMel)
            throw new TensorShapeException($"Griffin-Lim inverts log-mel spectrograms, given {logMel.Kind}");
        if (logMel.FeatureCount != o.MelBands || logMel.FeaturesPerVideoFrame != o.FeaturesPerVideoFrame
            || Math.Abs(logMel.HopSeconds * o.SampleRate - o.HopSamples) > 1e-6 * o.HopSamples)
            throw new TensorShapeException($"a log-mel spectrogram of {logMel.FeatureCount} bands, {logMel.FeaturesPerVideoFrame} " +
                $"frames per video frame and a {logMel.HopSeconds * 1000:0.###} ms hop given to Griffin-Lim set for " +
                $"{o.MelBands} bands, {o.FeaturesPerVideoFrame} per video frame and {o.HopSamples * 1000 / o.SampleRate:0.###} ms");
        if (logMel.FrameCount == 0)
            throw new TensorShapeException("a log-mel spectrogram with no frames given to Griffin-Lim");
        for (int i = 0; i < logMel.Values.Length; i++)
            if (float.IsNaN(logMel.Values[i]) || float.IsPositiveInfinity(logMel.Values[i]))
                throw new ArgumentException($"log-mel value {i} (frame {i / logMel.FeatureCount}) is {logMel.Values[i]}", nameof(logMel));
        int frames = logMel.FrameCount;
        int samples = (int)Math.Round(logMel.VideoFrameCount * o.SampleRate / o.FrameRate, MidpointRounding.AwayFromZero);
        var magnitude = Magnitudes(logMel);
        var y = Reconstruct(magnitude, frames, samples);
        float a = (float)o.PreEmphasis;
        if (a > 0)
        {
            double previous = 0;
            for (int n = 0; n < y.Length; n++)
                y[n] = (float)(previous = y[n] + a * previous);
        }
        return new AudioClip(y, o.SampleRate, source);
    }

    /// <summary>
    /// The target magnitudes [T, FFT / 2 + 1], row-major: sqrt of the non-negative least-squares power spectrum whose mel
    /// energies are exp(log-mel).
    /// </summary>
    internal float[] Magnitudes(SpeechFeatures logMel)
    {
        int bands = _bank.Length, frames = logMel.FrameCount;
        var result = new float[frames * _bins];
        var energy = new float[bands];
        var numerator = new float[_bins];
        var mel = new float[bands];
        var denominator = new float[_bins];
        for (int t = 0; t < frames; t++)
        {
            var power = result.AsSpan(t * _bins, _bins);
            var row = logMel.Row(t);
            for (int m = 0; m < bands; m++)
                energy[m] = MathF.Exp(row[m]);
            for (int k = 0; k < _bins; k++)
                power[k] = Math.Max(TensorPrimitives.Dot(_pseudoInverse.AsSpan(k * bands, bands), energy), 0f);
            if (Options.MagnitudeIterations > 0)
            {
                // Lee-Seung multiplicative updates for min ||M P - E||^2, P >= 0; a floor lets clipped bins come back.
                float floor = 1e-6f * Math.Max(energy.Max(), 1e-30f);
                TransposeTimes(energy, numerator);
                for (int k = 0; k < _bins; k++)
                    power[k] = numerator[k] > 0 ? power[k] + floor : 0;
                for (int i = 0; i < Options.MagnitudeIterations; i++)
                {
                    Times(power, mel);
                    TransposeTimes(mel, denominator);
                    for (int k = 0; k < _bins; k++)
                        if (power[k] > 0)
                            power[k] *= numerator[k] / Math.Max(denominator[k], 1e-30f);
                }
            }
            for (int k = 0; k < _bins; k++)
                power[k] = MathF.Sqrt(power[k]);
        }
        return result;
    }

    private void Times(ReadOnlySpan<float> power, Span<float> mel)
    {
        for (int m = 0; m < _bank.Length; m++)
        {
            float sum = 0;
            for (int k = _support[m].First; k < _support[m].End; k++)
                sum += _bank[m][k] * power[k];
            mel[m] = sum;
        }
    }

    private void TransposeTimes(ReadOnlySpan<float> mel, Span<float> bins)
    {
        bins.Clear();
        for (int m = 0; m < _bank.Length; m++)
            for (int k = _support[m].First; k < _support[m].End; k++)
                bins[k] += _bank[m][k] * mel[m];
    }

    /// <summary>Fast Griffin-Lim on magnitudes [T, bins]: the pre-emphasised signal, <paramref name="samples"/> long.</summary>
    private float[] Reconstruct(float[] magnitude, int frames, int samples)
    {
        var starts = new int[frames];
        double hop = FeatureOptions.HopSamples;
        for (int t = 0; t < frames; t++)
            starts[t] = (int)Math.Floor((t + 0.5) * hop - _windowLength / 2.0 + 0.5);
        // Summed squared window over [0, samples): the least-squares ISTFT's denominator.
        var weight = new float[samples];
        foreach (int s in starts)
            for (int n = Math.Max(0, -s); n < _windowLength && s + n < samples; n++)
                weight[s + n] += _window[n] * _window[n];
        for (int n = 0; n < samples; n++)
            weight[n] = weight[n] > 1e-8f ? 1 / weight[n] : 0;

        int size = frames * _bins;
        float[] re = new float[size], im = new float[size], previousRe = new float[size], previousIm = new float[size];
        if (Options.Seed is { } seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < size; i++)
            {
                double phase = 2 * Math.PI * random.NextDouble();
                re[i] = magnitude[i] * (float)Math.Cos(phase);
                im[i] = magnitude[i] * (float)Math.Sin(phase);
            }
        }
        else
            magnitude.CopyTo(re, 0);

        var fft = new RealFft(_fft);
        var block = new float[_fft];
        var signal = new float[samples];
        float momentum = (float)Options.Momentum;
        for (int iteration = 0; iteration < Options.Iterations; iteration++)
        {
            Istft(re, im, starts, weight, fft, block, signal);
            // The consistent spectrogram c_n, then t_n = c_n + alpha (c_n - c_(n-1)); keep c_n for the next step.
            Stft(signal, starts, fft, block, previousRe, previousIm, re, im, momentum, first: iteration == 0);
            for (int i = 0; i < size; i++)
            {
                float r = re[i], j = im[i], norm = MathF.Sqrt(r * r + j * j);
                if (norm > 0)
                {
                    re[i] = magnitude[i] * r / norm;
                    im[i] = magnitude[i] * j / norm;
                }
                else
                {
                    re[i] = magnitude[i];
                    im[i] = 0;
                }
            }
        }
        Istft(re, im, starts, weight, fft, block, signal);
        return signal;
    }

    /// <summary>Least-squares inverse STFT: windowed inverse FFTs overlap-added on [0, samples), times 1 / sum w^2.</summary>
    private void Istft(float[] re, float[] im, int[] starts, float[] weight, RealFft fft, float[] block, float[] signal)
    {
        Array.Clear(signal);
        for (int t = 0; t < starts.Length; t++)
        {
            fft.InverseNorm(re.AsSpan(t * _bins, _bins), im.AsSpan(t * _bins, _bins), block);
            int s = starts[t];
            for (int n = Math.Max(0, -s); n < _windowLength && s + n < signal.Length; n++)
                signal[s + n] += block[n] * _window[n];
        }
        for (int n = 0; n < signal.Length; n++)
            signal[n] *= weight[n];
    }

    /// <summary>
    /// STFT of <paramref name="signal"/> (zero outside it) into <paramref name="previousRe"/>/<paramref name="previousIm"/>'s
    /// place: writes c_n + alpha (c_n - c_(n-1)) into re/im and c_n into previous.
    /// </summary>
    private void Stft(float[] signal, int[] starts, RealFft fft, float[] block, float[] previousRe, float[] previousIm,
        float[] re, float[] im, float momentum, bool first)
    {
        for (int t = 0; t < starts.Length; t++)
        {
            int s = starts[t];
            Array.Clear(block);
            for (int n = Math.Max(0, -s); n < _windowLength && s + n < signal.Length; n++)
                block[n] = signal[s + n] * _window[n];
            var outRe = re.AsSpan(t * _bins, _bins);
            var outIm = im.AsSpan(t * _bins, _bins);
            fft.Direct(block, outRe, outIm);
            var lastRe = previousRe.AsSpan(t * _bins, _bins);
            var lastIm = previousIm.AsSpan(t * _bins, _bins);
            for (int k = 0; k < _bins; k++)
            {
                float cr = outRe[k], ci = outIm[k];
                if (!first)
                {
                    outRe[k] = cr + momentum * (cr - lastRe[k]);
                    outIm[k] = ci + momentum * (ci - lastIm[k]);
                }
                lastRe[k] = cr;
                lastIm[k] = ci;
            }
        }
    }
}
