using LipNet.ML.Audio;
using NWaves.Transforms;

namespace LipNet.ML.Metrics;

/// <summary>
/// Objective intelligibility of processed (enhanced, vocoded, predicted) speech against the clean original: STOI
/// (Taal, Hendriks, Heusdens and Jensen, "An Algorithm for Intelligibility Prediction of Time-Frequency Weighted Noisy
/// Speech", IEEE TASLP 19(7), 2011) and extended STOI, ESTOI (Jensen and Taal, "An Algorithm for Predicting the
/// Intelligibility of Speech Masked by Modulated Noise Maskers", IEEE TASLP 24(11), 2016), plus the mel L1 distance of two
/// log-mel spectrograms. Lip-to-speech systems (VCA-GAN and others) report these three.
/// </summary>
/// <remarks>
/// <para>The constants and conventions are those of the authors' MATLAB code as the pystoi package reproduces it, so the
/// figures compare with published ones: both signals are resampled to 10 kHz (Octave's <c>resample</c>: a Kaiser-windowed
/// sinc low-pass of 60 dB rejection, applied polyphase with zero phase; written here because NWaves' <c>Resampler</c>
/// filters causally in float with a 101-tap low-pass: imitated in numpy, that moved ESTOI by up to 5e-3 on the fixture);
/// frames of 256 samples every 128 (Hann window, MATLAB's <c>hanning</c>) whose clean energy is 40 dB or more below the
/// loudest clean frame are dropped from both signals, which are overlap-added again; a 512-point STFT (NWaves'
/// <c>RealFft64</c>) of the same frames is grouped into 15 one-third-octave bands from 150 Hz (edges at FFT bins nearest
/// 150 x 2^((2j -+ 1) / 6) Hz); the band envelopes are cut into segments of 30 frames (384 ms) ending at every frame.</para>
/// <para><b>STOI</b>: in each band and segment the processed envelope is scaled to the clean one's energy and clipped at
/// the clean envelope x (1 + 10^(-beta / 20)), beta = -15 dB (the lower bound on the signal-to-distortion ratio); the
/// score is the correlation coefficient of the clean and clipped envelopes, averaged over bands and segments.
/// <b>ESTOI</b>: each segment's 15 x 30 matrix of envelopes is normalised to zero mean and unit norm along time (rows), then
/// across bands (columns); the score is the mean inner product of the clean and processed columns, averaged over
/// segments. Both are 1 for speech identical to the clean one and lower the less intelligible it is; a score is only
/// meaningful between versions of the same utterance, time-aligned.</para>
/// <para>tests/fixtures/make_stoi_fixture.py computes both independently in numpy/scipy (scipy's <c>resample_poly</c>,
/// numpy's FFT); the library agrees with it to about 1e-15 (the test allows 1e-3).</para>
/// </remarks>
public static class Intelligibility
{
    /// <summary>The rate (Hz) both signals are resampled to before analysis: 10 kHz.</summary>
    public const int AnalysisSampleRate = 10000;

    /// <summary>Analysis frame length in samples at <see cref="AnalysisSampleRate"/> (25.6 ms); the hop is half of it.</summary>
    public const int FrameLength = 256;

    /// <summary>FFT length of the analysis (frames are zero-padded to it).</summary>
    public const int FftSize = 512;

    /// <summary>Number of one-third-octave bands.</summary>
    public const int BandCount = 15;

    /// <summary>Centre frequency of the lowest band in Hz; band j is centred on 150 x 2^(j / 3) Hz (up to 3810 Hz).</summary>
    public const double LowestBandHz = 150;

    /// <summary>Frames per short-time segment: 30 frames of 12.8 ms hop, 384 ms.</summary>
    public const int SegmentFrames = 30;

    /// <summary>STOI's lower bound on the signal-to-distortion ratio, beta, in dB (clipping at 1 + 10^(15 / 20)).</summary>
    public const double ClippingDb = -15;

    /// <summary>Frames whose clean energy is this many dB or more below the loudest clean frame are dropped as silent.</summary>
    public const double DynamicRangeDb = 40;

    private const double Eps = 2.220446049250313e-16;   // numpy's float64 eps, guarding the divisions as the reference does
    private static readonly (int Low, int High)[] Bands = BandBins();
    private static readonly double[] Hann = HannWindow();

    /// <summary>STOI of <paramref name="processed"/> against <paramref name="clean"/>, both at <paramref name="sampleRate"/>.</summary>
    /// <param name="clean">The clean reference speech, mono, full scale; it decides which frames are silent.</param>
    /// <param name="processed">The speech to judge, time-aligned with <paramref name="clean"/> and of the same length.</param>
    /// <param name="sampleRate">The rate of both signals in Hz (16000 for the library's audio); resampled to 10 kHz.</param>
    /// <returns>The mean correlation of the clipped band envelopes, in [-1, 1]: 1 for identical signals, lower for degraded
    /// speech; 0 for an all-zero reference. Unrelated noise does not score 0: the clipping at 1 + 10^(15 / 20) times the
    /// clean envelope makes it follow the clean envelope's dips (0.40 for white noise against the test's syllabic signal,
    /// whose ESTOI is 0.01).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleRate"/> is 0 or less.</exception>
    /// <exception cref="ArgumentException">A sample is NaN or infinite.</exception>
    /// <exception cref="TensorShapeException">The two signals differ in length.</exception>
    /// <exception cref="AudioTooShortException">Fewer than 30 frames (about 0.4 s) remain after the silent ones are dropped:
    /// the signals are too short (<see cref="MinimumSamples"/>) or nearly all silent.</exception>
    public static double Stoi(ReadOnlySpan<float> clean, ReadOnlySpan<float> processed, int sampleRate) =>
        Score(clean, processed, sampleRate, extended: false, source: null);

    /// <summary>ESTOI of <paramref name="processed"/> against <paramref name="clean"/>, both at <paramref name="sampleRate"/>.</summary>
    /// <param name="clean">The clean reference speech, mono, full scale; it decides which frames are silent.</param>
    /// <param name="processed">The speech to judge, time-aligned with <paramref name="clean"/> and of the same length.</param>
    /// <param name="sampleRate">The rate of both signals in Hz; resampled to 10 kHz.</param>
    /// <returns>The mean spectro-temporal correlation, in [-1, 1]: 1 for identical signals, lower than STOI for the same
    /// degradation (modulated maskers are penalised), near 0 for unrelated noise.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleRate"/> is 0 or less.</exception>
    /// <exception cref="ArgumentException">A sample is NaN or infinite.</exception>
    /// <exception cref="TensorShapeException">The two signals differ in length.</exception>
    /// <exception cref="AudioTooShortException">Fewer than 30 frames remain after the silent ones are dropped.</exception>
    public static double Estoi(ReadOnlySpan<float> clean, ReadOnlySpan<float> processed, int sampleRate) =>
        Score(clean, processed, sampleRate, extended: true, source: null);

    /// <summary>STOI of <paramref name="processed"/> against <paramref name="clean"/> (see the span overload).</summary>
    /// <param name="clean">The clean reference clip.</param>
    /// <param name="processed">The clip to judge, at the clean clip's rate and of its length.</param>
    /// <returns>STOI in [-1, 1], 1 for identical clips.</returns>
    /// <exception cref="ArgumentNullException">A clip is null.</exception>
    /// <exception cref="SampleRateMismatchException">The clips have different sample rates.</exception>
    /// <exception cref="ArgumentException">A sample is NaN or infinite.</exception>
    /// <exception cref="TensorShapeException">The clips differ in length.</exception>
    /// <exception cref="AudioTooShortException">Fewer than 30 frames remain after the silent ones are dropped.</exception>
    public static double Stoi(AudioClip clean, AudioClip processed) => Score(clean, processed, extended: false);

    /// <summary>ESTOI of <paramref name="processed"/> against <paramref name="clean"/> (see the span overload).</summary>
    /// <param name="clean">The clean reference clip.</param>
    /// <param name="processed">The clip to judge, at the clean clip's rate and of its length.</param>
    /// <returns>ESTOI in [-1, 1], 1 for identical clips.</returns>
    /// <exception cref="ArgumentNullException">A clip is null.</exception>
    /// <exception cref="SampleRateMismatchException">The clips have different sample rates.</exception>
    /// <exception cref="ArgumentException">A sample is NaN or infinite.</exception>
    /// <exception cref="TensorShapeException">The clips differ in length.</exception>
    /// <exception cref="AudioTooShortException">Fewer than 30 frames remain after the silent ones are dropped.</exception>
    public static double Estoi(AudioClip clean, AudioClip processed) => Score(clean, processed, extended: true);

    /// <summary>
    /// The fewest samples at <paramref name="sampleRate"/> that give one 30-frame segment when no frame is silent: 4097
    /// samples at 10 kHz (about 410 ms: 31 frames, as the overlap-added signal loses its last frame), 6554 at 16 kHz.
    /// </summary>
    /// <param name="sampleRate">The signals' rate in Hz.</param>
    /// <returns>The minimum length in samples; silent frames, dropped first, make the real need larger.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleRate"/> is 0 or less.</exception>
    public static int MinimumSamples(int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        // Frames start while start < n - 256; the silent-frame stage must keep 31 frames for its output to give 30.
        const int needed = FrameLength + SegmentFrames * FrameLength / 2 + 1;
        var (p, q) = Ratio(sampleRate);
        return (int)((long)(needed - 1) * q / p) + 1;   // the least n with ceil(n p / q) >= needed
    }

    /// <summary>
    /// Mean absolute difference of two log-mel spectrograms of the same shape (natural-log units), the "mel L1" that
    /// lip-to-speech papers report: (1 / (T F)) sum |a - b|.
    /// </summary>
    /// <param name="reference">The log-mel spectrogram of the real audio, [T, F]
    /// (<see cref="SpeechFeatureExtractor.LogMel(AudioClip, int?)"/>).</param>
    /// <param name="estimate">The predicted or resynthesised one, [T, F].</param>
    /// <returns>The mean absolute difference, 0 or more; 0 for equal spectrograms.</returns>
    /// <exception cref="ArgumentNullException">A spectrogram is null.</exception>
    /// <exception cref="TensorShapeException">Either is not log-mel, their shapes differ, or they are empty.</exception>
    public static double MelL1(SpeechFeatures reference, SpeechFeatures estimate)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(estimate);
        if (reference.Kind != SpeechFeatureKind.LogMel || estimate.Kind != SpeechFeatureKind.LogMel)
            throw new TensorShapeException($"mel L1 compares log-mel spectrograms, given {reference.Kind} and {estimate.Kind}");
        if (reference.FrameCount != estimate.FrameCount || reference.FeatureCount != estimate.FeatureCount)
            throw new TensorShapeException($"mel L1 of spectrograms of different shapes: [{reference.FrameCount}, " +
                $"{reference.FeatureCount}] and [{estimate.FrameCount}, {estimate.FeatureCount}]");
        return MelL1(reference.Values, estimate.Values);
    }

    /// <summary>Mean absolute difference of two equally long spans of log-mel values (any layout, the same in both).</summary>
    /// <param name="reference">Log-mel values of the real audio.</param>
    /// <param name="estimate">Log-mel values of the estimate, as many.</param>
    /// <returns>(1 / n) sum |reference - estimate|, accumulated in double.</returns>
    /// <exception cref="TensorShapeException">The spans differ in length or are empty.</exception>
    public static double MelL1(ReadOnlySpan<float> reference, ReadOnlySpan<float> estimate)
    {
        if (reference.Length != estimate.Length || reference.Length == 0)
            throw new TensorShapeException($"mel L1 needs two non-empty spans of equal length, given {reference.Length} " +
                $"and {estimate.Length} values");
        double sum = 0;
        for (int i = 0; i < reference.Length; i++)
            sum += Math.Abs((double)reference[i] - estimate[i]);
        return sum / reference.Length;
    }

    private static double Score(AudioClip clean, AudioClip processed, bool extended)
    {
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(processed);
        if (clean.SampleRate != processed.SampleRate)
            throw new SampleRateMismatchException($"the processed clip is at {processed.SampleRate} Hz and the clean one " +
                $"({clean.Source}) at {clean.SampleRate} Hz: intelligibility compares clips at one rate",
                clean.SampleRate, processed.SampleRate, processed.Source);
        return Score(clean.Samples, processed.Samples, clean.SampleRate, extended, processed.Source);
    }

    private static double Score(ReadOnlySpan<float> clean, ReadOnlySpan<float> processed, int sampleRate, bool extended,
        string? source)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        if (clean.Length != processed.Length)
            throw new TensorShapeException($"the clean signal has {clean.Length} samples and the processed one " +
                $"{processed.Length}: intelligibility compares time-aligned signals of equal length", source);
        int minimum = MinimumSamples(sampleRate);
        if (clean.Length < minimum)
            throw new AudioTooShortException($"{clean.Length} samples ({clean.Length * 1000.0 / sampleRate:0.#} ms) are " +
                $"fewer than one {SegmentFrames}-frame STOI segment needs ({minimum} samples at {sampleRate} Hz)",
                clean.Length, minimum, source);
        var x = To10k(clean, sampleRate, nameof(clean));
        var y = To10k(processed, sampleRate, nameof(processed));
        (x, y) = DropSilentFrames(x, y);
        var fft = new RealFft64(FftSize);
        var cleanBands = BandEnvelopes(x, fft);
        var processedBands = BandEnvelopes(y, fft);
        int frames = cleanBands.GetLength(1);
        if (frames < SegmentFrames)
        {
            var (p, q) = Ratio(sampleRate);
            int kept = (int)Math.Round((double)x.Length * q / p);
            throw new AudioTooShortException($"after dropping the frames more than {DynamicRangeDb} dB below the loudest, " +
                $"{frames} frames ({kept * 1000.0 / sampleRate:0.#} ms) are left of {clean.Length * 1000.0 / sampleRate:0.#} ms," +
                $" fewer than one {SegmentFrames}-frame STOI segment: the clean signal is too short or nearly all silent",
                kept, minimum, source);
        }
        return extended ? EstoiOf(cleanBands, processedBands) : StoiOf(cleanBands, processedBands);
    }

    /// <summary>STOI of [bands, frames] envelopes: mean over segments and bands of the clipped envelopes' correlation.</summary>
    private static double StoiOf(double[,] x, double[,] y)
    {
        int segments = x.GetLength(1) - SegmentFrames + 1;
        double clip = 1 + Math.Pow(10, -ClippingDb / 20);
        Span<double> a = stackalloc double[SegmentFrames], b = stackalloc double[SegmentFrames];
        double total = 0;
        for (int m = 0; m < segments; m++)
        {
            for (int j = 0; j < BandCount; j++)
            {
                double xx = 0, yy = 0;
                for (int n = 0; n < SegmentFrames; n++)
                {
                    a[n] = x[j, m + n];
                    b[n] = y[j, m + n];
                    xx += a[n] * a[n];
                    yy += b[n] * b[n];
                }
                double scale = Math.Sqrt(xx) / (Math.Sqrt(yy) + Eps);
                for (int n = 0; n < SegmentFrames; n++)
                    b[n] = Math.Min(b[n] * scale, a[n] * clip);
                Normalise(a);
                Normalise(b);
                double r = 0;
                for (int n = 0; n < SegmentFrames; n++)
                    r += a[n] * b[n];
                total += r;
            }
        }
        return total / ((double)segments * BandCount);
    }

    /// <summary>ESTOI of [bands, frames] envelopes: row- then column-normalised segments, mean column inner product.</summary>
    private static double EstoiOf(double[,] x, double[,] y)
    {
        int segments = x.GetLength(1) - SegmentFrames + 1;
        var sx = new double[BandCount, SegmentFrames];
        var sy = new double[BandCount, SegmentFrames];
        Span<double> column = stackalloc double[BandCount];
        double total = 0;
        for (int m = 0; m < segments; m++)
        {
            Normalised(x, m, sx, column);
            Normalised(y, m, sy, column);
            double sum = 0;
            for (int j = 0; j < BandCount; j++)
                for (int n = 0; n < SegmentFrames; n++)
                    sum += sx[j, n] * sy[j, n];
            total += sum / SegmentFrames;
        }
        return total / segments;
    }

    /// <summary>Segment <paramref name="m"/> of <paramref name="bands"/>, rows then columns to zero mean and unit norm.</summary>
    private static void Normalised(double[,] bands, int m, double[,] segment, Span<double> column)
    {
        Span<double> row = stackalloc double[SegmentFrames];
        for (int j = 0; j < BandCount; j++)
        {
            for (int n = 0; n < SegmentFrames; n++)
                row[n] = bands[j, m + n];
            Normalise(row);
            for (int n = 0; n < SegmentFrames; n++)
                segment[j, n] = row[n];
        }
        for (int n = 0; n < SegmentFrames; n++)
        {
            for (int j = 0; j < BandCount; j++)
                column[j] = segment[j, n];
            Normalise(column);
            for (int j = 0; j < BandCount; j++)
                segment[j, n] = column[j];
        }
    }

    /// <summary>v := (v - mean) / (||v - mean|| + eps).</summary>
    private static void Normalise(Span<double> v)
    {
        double mean = 0;
        foreach (double e in v)
            mean += e;
        mean /= v.Length;
        double norm = 0;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] -= mean;
            norm += v[i] * v[i];
        }
        double scale = 1 / (Math.Sqrt(norm) + Eps);
        for (int i = 0; i < v.Length; i++)
            v[i] *= scale;
    }

    /// <summary>One-third-octave band envelopes of <paramref name="signal"/>: [15 bands, frames], sqrt of the band power.</summary>
    private static double[,] BandEnvelopes(double[] signal, RealFft64 fft)
    {
        int frames = FrameCount(signal.Length);
        var result = new double[BandCount, frames];
        var block = new double[FftSize];
        var re = new double[FftSize / 2 + 1];
        var im = new double[FftSize / 2 + 1];
        for (int f = 0; f < frames; f++)
        {
            int start = f * (FrameLength / 2);
            for (int n = 0; n < FrameLength; n++)
                block[n] = signal[start + n] * Hann[n];
            Array.Clear(block, FrameLength, FftSize - FrameLength);
            fft.Direct(block, re, im);
            for (int j = 0; j < BandCount; j++)
            {
                double power = 0;
                for (int k = Bands[j].Low; k < Bands[j].High; k++)
                    power += re[k] * re[k] + im[k] * im[k];
                result[j, f] = Math.Sqrt(power);
            }
        }
        return result;
    }

    /// <summary>
    /// Drops the frames of both signals whose clean energy is <see cref="DynamicRangeDb"/> or more below the loudest clean
    /// frame, and overlap-adds the kept (Hann-windowed) frames again at the half-frame hop.
    /// </summary>
    private static (double[] Clean, double[] Processed) DropSilentFrames(double[] x, double[] y)
    {
        int frames = FrameCount(x.Length), hop = FrameLength / 2;
        var energy = new double[frames];
        double loudest = double.NegativeInfinity;
        for (int f = 0; f < frames; f++)
        {
            double sum = 0;
            for (int n = 0; n < FrameLength; n++)
            {
                double v = x[f * hop + n] * Hann[n];
                sum += v * v;
            }
            energy[f] = 20 * Math.Log10(Math.Sqrt(sum) + Eps);
            loudest = Math.Max(loudest, energy[f]);
        }
        int kept = energy.Count(e => e > loudest - DynamicRangeDb);
        int length = kept == 0 ? 0 : (kept - 1) * hop + FrameLength;
        double[] cx = new double[length], cy = new double[length];
        for (int f = 0, k = 0; f < frames; f++)
        {
            if (!(energy[f] > loudest - DynamicRangeDb))
                continue;
            for (int n = 0; n < FrameLength; n++)
            {
                cx[k * hop + n] += x[f * hop + n] * Hann[n];
                cy[k * hop + n] += y[f * hop + n] * Hann[n];
            }
            k++;
        }
        return (cx, cy);
    }

    /// <summary>Frames start at 0, 128, ... while start &lt; length - 256 (the MATLAB code's 1:K:(length - N)).</summary>
    private static int FrameCount(int length) => length > FrameLength ? (length - FrameLength - 1) / (FrameLength / 2) + 1 : 0;

    /// <summary>
    /// <paramref name="signal"/> at 10 kHz in double, as Octave's <c>resample(x, 10000, rate)</c> (pystoi's
    /// <c>resample_oct</c>): with p / q = 10000 / rate in lowest terms, a Kaiser-windowed ideal low-pass
    /// h[i] = kaiser(beta)[i] 2 p fc sinc(2 fc (i - L)), fc = 1 / (2 max(p, q)), 60 dB rejection (beta = 0.1102 (60 - 8.7),
    /// L = ceil(52 / (28.714 fc / 10))), normalised to sum 1, scaled by p and applied zero-phase:
    /// y[k] = sum_n x[n] p h[k q + L - n p], k = 0 .. ceil(n p / q) - 1 (scipy's <c>resample_poly</c> with that window).
    /// </summary>
    private static double[] To10k(ReadOnlySpan<float> signal, int sampleRate, string name)
    {
        for (int i = 0; i < signal.Length; i++)
            if (!float.IsFinite(signal[i]))
                throw new ArgumentException($"sample {i} of the {name} signal is {signal[i]}", name);
        var (p, q) = Ratio(sampleRate);
        if (p == 1 && q == 1)
        {
            var copy = new double[signal.Length];
            for (int i = 0; i < copy.Length; i++)
                copy[i] = signal[i];
            return copy;
        }
        var h = ResamplingFilter(p, q);
        int half = (h.Length - 1) / 2;
        int outLength = (int)(((long)signal.Length * p + q - 1) / q);
        var result = new double[outLength];
        for (int k = 0; k < outLength; k++)
        {
            long centre = (long)k * q + half;                       // output k sits on upsampled index centre - half
            long first = Math.Max(0, (centre - 2 * half + p - 1) / p), last = Math.Min(signal.Length - 1, centre / p);
            double sum = 0;
            for (long n = first; n <= last; n++)
                sum += signal[(int)n] * h[centre - n * p];
            result[k] = sum;
        }
        return result;
    }

    private static (int P, int Q) Ratio(int sampleRate)
    {
        int g = (int)System.Numerics.BigInteger.GreatestCommonDivisor(AnalysisSampleRate, sampleRate);
        return (AnalysisSampleRate / g, sampleRate / g);
    }

    /// <summary>Octave's resample filter for p / q (see <see cref="To10k"/>), times p.</summary>
    private static double[] ResamplingFilter(int p, int q)
    {
        const double rejectionDb = 60;
        double cutoff = 1.0 / (2 * Math.Max(p, q)), rollOff = cutoff / 10;
        int half = (int)Math.Ceiling((rejectionDb - 8) / (28.714 * rollOff));
        double beta = 0.1102 * (rejectionDb - 8.7);
        var h = new double[2 * half + 1];
        double sum = 0, i0Beta = BesselI0(beta);
        for (int i = 0; i < h.Length; i++)
        {
            double t = i - half, r = t / half;
            double kaiser = BesselI0(beta * Math.Sqrt(Math.Max(0, 1 - r * r))) / i0Beta;
            double arg = 2 * cutoff * t;
            double sinc = t == 0 ? 1 : Math.Sin(Math.PI * arg) / (Math.PI * arg);
            h[i] = kaiser * 2 * p * cutoff * sinc;
            sum += h[i];
        }
        for (int i = 0; i < h.Length; i++)
            h[i] *= p / sum;
        return h;
    }

    /// <summary>The modified Bessel function of the first kind, order 0 (power series; converges fast for beta &lt; 20).</summary>
    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, quarter = x * x / 4;
        for (int k = 1; k < 200 && term > 1e-17 * sum; k++)
        {
            term *= quarter / ((double)k * k);
            sum += term;
        }
        return sum;
    }

    /// <summary>MATLAB's hanning(256): 0.5 (1 - cos(2 pi k / 257)), k = 1 .. 256 (no zero end points).</summary>
    private static double[] HannWindow()
    {
        var w = new double[FrameLength];
        for (int n = 0; n < FrameLength; n++)
            w[n] = 0.5 * (1 - Math.Cos(2 * Math.PI * (n + 1) / (FrameLength + 1)));
        return w;
    }

    /// <summary>FFT bins [low, high) of each band: edges 150 x 2^((2j -+ 1) / 6) Hz moved to the nearest bin (lower on a tie).</summary>
    private static (int Low, int High)[] BandBins()
    {
        var bands = new (int, int)[BandCount];
        for (int j = 0; j < BandCount; j++)
            bands[j] = (NearestBin(LowestBandHz * Math.Pow(2, (2 * j - 1) / 6.0)),
                NearestBin(LowestBandHz * Math.Pow(2, (2 * j + 1) / 6.0)));
        return bands;
    }

    private static int NearestBin(double hz)
    {
        int best = 0;
        for (int k = 1; k <= FftSize / 2; k++)
            if (Math.Abs(k * (double)AnalysisSampleRate / FftSize - hz) < Math.Abs(best * (double)AnalysisSampleRate / FftSize - hz))
                best = k;
        return best;
    }
}
