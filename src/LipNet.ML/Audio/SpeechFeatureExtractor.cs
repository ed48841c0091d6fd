using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Options;
using NWaves.Filters.Fda;
using NWaves.Utils;
using NWaves.Windows;

namespace LipNet.ML.Audio;

/// <summary>
/// Settings of <see cref="SpeechFeatureExtractor"/>. The defaults give, for 16 kHz audio and 25 fps video, one feature frame
/// per video frame (hop 640 samples), a 25 ms Hamming window (400 samples, FFT 512), 80 mel bands over 0-8000 Hz,
/// 13 MFCCs, pre-emphasis 0.97 and a log floor of 1e-10.
/// </summary>
public sealed record SpeechFeatureOptions
{
    /// <summary>The sample rate (Hz) the audio must have; another rate is a <see cref="SampleRateMismatchException"/>.</summary>
    public int SampleRate { get; init; } = 16000;

    /// <summary>The video's frame rate (frames per second) the features are aligned to; 25 (GRID) by default.</summary>
    public double FrameRate { get; init; } = 25;

    /// <summary>
    /// Feature frames per video frame: 1 (the default; hop = one video frame, 640 samples at 16 kHz and 25 fps) or 4
    /// (hop = a quarter frame, the usual 10 ms at 25 fps). Any positive count works.
    /// </summary>
    public int FeaturesPerVideoFrame { get; init; } = 1;

    /// <summary>Analysis window length in seconds (25 ms by default: 400 samples at 16 kHz), rounded to whole samples.</summary>
    public double WindowSeconds { get; init; } = 0.025;

    /// <summary>FFT length in samples, a power of two at least the window length; 0 picks the next power of two (512 for 400).</summary>
    public int FftSize { get; init; }

    /// <summary>Number of triangular mel filters (80 by default): the F of log-mel features, the input of the MFCC's DCT.</summary>
    public int MelBands { get; init; } = 80;

    /// <summary>Number of MFCCs kept, c0 included (13 by default); at most <see cref="MelBands"/>.</summary>
    public int MfccCount { get; init; } = 13;

    /// <summary>Lower edge of the first mel filter in Hz (0 by default).</summary>
    public double MinFrequency { get; init; }

    /// <summary>Upper edge of the last mel filter in Hz; null (the default) is the Nyquist frequency, <see cref="SampleRate"/> / 2.</summary>
    public double? MaxFrequency { get; init; }

    /// <summary>Pre-emphasis coefficient a of y[n] = x[n] - a x[n-1] (0.97 by default, as in HTK and Kaldi; 0 turns it off).</summary>
    public double PreEmphasis { get; init; } = 0.97;

    /// <summary>Floor of the mel energies before the natural log: ln(max(E, floor)); 1e-10 by default (librosa's amin).</summary>
    public float LogFloor { get; init; } = 1e-10f;

    /// <summary>
    /// Cepstral lifter L: MFCC n is scaled by 1 + (L / 2) sin(pi n / L) (HTK's CEPLIFTER, 22 there); 0 (the default) leaves
    /// the cepstrum unliftered.
    /// </summary>
    public int Lifter { get; init; }

    /// <summary>The defaults (16 kHz, 25 fps, one feature frame per video frame, 25 ms window, 80 mels, 13 MFCCs).</summary>
    public static SpeechFeatureOptions Default { get; } = new();

    /// <summary>The window length in samples: <see cref="WindowSeconds"/> x <see cref="SampleRate"/>, rounded.</summary>
    public int WindowSamples => (int)Math.Round(WindowSeconds * SampleRate, MidpointRounding.AwayFromZero);

    /// <summary>Samples between consecutive feature frame centres: <see cref="SampleRate"/> / (fps x per-frame); may be fractional.</summary>
    public double HopSamples => SampleRate / (FrameRate * FeaturesPerVideoFrame);
}

/// <summary>
/// MFCC and log-mel spectrograms with NWaves, one feature vector per video frame (or 4, or any count), for audio-visual
/// models: feature frame t covers the audio around the middle of its share of video frame t / k
/// (k = <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/>).
/// </summary>
/// <remarks>
/// <para><b>Alignment.</b> Sample n covers [n, n + 1) / rate seconds, as video frame i covers [i, i + 1) / fps. With
/// k = <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/> and hop h = rate / (fps k) samples, feature frame t's window
/// of W samples starts at round((t + 0.5) h - W / 2): it is centred on (t + 0.5) / (fps k) seconds, so for k = 1 on video
/// frame t's centre (t + 0.5) / fps, and for k = 4 the four windows of a video frame are centred on its quarters. At 16 kHz and
/// 25 fps that is samples [640 t + 120, 640 t + 520) for k = 1 and [160 t - 120, 160 t + 80) for k = 4. Samples before 0
/// and after the end of the audio are zeros, so the feature count is exactly (video frame count) x k: the video frame
/// count is the caller's (the video's, when known) or else round(duration x fps).</para>
/// <para><b>Per window</b> (NWaves 0.9.6: its Hamming window, real FFT power spectrum, mel filterbank, DCT-II and lifter,
/// through subclasses of its <c>MfccExtractor</c> and <c>FilterbankExtractor</c> whose frame step skips the filterbank's
/// zero weights, giving NWaves' own results bit for bit with about 1/40 of the multiplications for 80 bands; the formulas are reproduced
/// independently in tests/fixtures/make_audio_features_fixture.py):
/// pre-emphasis y[n] = x[n] - a x[n-1] over the zero-padded signal (x[-1] = 0);
/// a symmetric Hamming window 0.54 - 0.46 cos(2 pi n / (W - 1));
/// the power spectrum |X(k)|^2 of an unnormalised FFT of the window zero-padded to the FFT size;
/// M triangular filters with centres equally spaced on the HTK mel scale mel(f) = 1127 ln(1 + f / 700) (HTK Book) between
/// the min and max frequency, each rising from 0 at its left neighbour's centre to 1 at its own and back to 0 at its right
/// neighbour's, linear in mel, not area-normalised (HTK/Kaldi-style);
/// log-mel = ln(max(E_m, floor)).
/// MFCC (Davis and Mermelstein 1980): the orthonormal DCT-II of the M log-mel values,
/// c_i = sqrt(2 / M) sum_m L_m cos(pi i (2m + 1) / (2M)), with c_0 scaled by 1 / sqrt(2), keeping c_0 .. c_{N-1};
/// then, if <see cref="SpeechFeatureOptions.Lifter"/> L &gt; 0, c_i x= 1 + (L / 2) sin(pi i / L).</para>
/// <para>An instance reuses NWaves' buffers: it is not thread-safe (use one per thread; it is cheap to build).</para>
/// </remarks>
public sealed class SpeechFeatureExtractor
{
    private readonly AlignedMfcc _mfcc;
    private readonly AlignedLogMel _logMel;
    private readonly int _window;
    private readonly float[] _hamming;
    private readonly float _preEmphasis;
    private readonly float[] _block;

    /// <summary>Builds the mel filterbank, the DCT and NWaves' extractors for <paramref name="options"/>.</summary>
    /// <param name="options">Rates, window, bands and coefficients; <see cref="SpeechFeatureOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range: a rate or count not positive, an FFT size that
    /// is not a power of two at least the window, more MFCCs than mel bands, frequencies outside [0, rate / 2], a pre-emphasis
    /// outside [0, 1), a floor that is not positive.</exception>
    public SpeechFeatureExtractor(SpeechFeatureOptions? options = null)
    {
        Options = options ??= SpeechFeatureOptions.Default;
        Validate(options);
        _window = options.WindowSamples;
        int fft = options.FftSize > 0 ? options.FftSize : MathUtils.NextPowerOfTwo(_window);
        double maxFrequency = options.MaxFrequency ?? options.SampleRate / 2.0;
        var bands = FilterBanks.MelBands(options.MelBands, options.SampleRate, options.MinFrequency, maxFrequency);
        MelFilterBank = FilterBanks.Triangular(fft, options.SampleRate, bands, null, Scale.HerzToMel);
        FftSize = fft;
        var support = SparseFilterBank.Of(MelFilterBank);
        _mfcc = new AlignedMfcc(new MfccOptions
        {
            SamplingRate = options.SampleRate,
            FeatureCount = options.MfccCount,
            FrameSize = _window,
            HopSize = _window,
            FilterBank = MelFilterBank,
            Window = WindowType.Hamming,
            SpectrumType = SpectrumType.Power,
            NonLinearity = NonLinearityType.LogE,
            LogFloor = options.LogFloor,
            DctType = "2N",
            LifterSize = options.Lifter,
        }, support);
        _logMel = new AlignedLogMel(new FilterbankOptions
        {
            SamplingRate = options.SampleRate,
            FrameSize = _window,
            HopSize = _window,
            FilterBank = MelFilterBank,
            Window = WindowType.Hamming,
            SpectrumType = SpectrumType.Power,
            NonLinearity = NonLinearityType.LogE,
            LogFloor = options.LogFloor,
        }, support);
        _hamming = Window.OfType(WindowType.Hamming, _window);
        _preEmphasis = (float)options.PreEmphasis;
        _block = new float[fft];
    }

    /// <summary>The options it was built with.</summary>
    public SpeechFeatureOptions Options { get; }

    /// <summary>The FFT length in samples (a power of two, at least the window).</summary>
    public int FftSize { get; }

    /// <summary>
    /// The mel filterbank, [<see cref="SpeechFeatureOptions.MelBands"/>][<see cref="FftSize"/> / 2 + 1]: weight of FFT bin k
    /// (k x rate / FFT size Hz) in band m. Shared, not copied: do not change it.
    /// </summary>
    public float[][] MelFilterBank { get; }

    /// <summary>MFCCs of <paramref name="clip"/>, [T, <see cref="SpeechFeatureOptions.MfccCount"/>], aligned to its video.</summary>
    /// <param name="clip">Mono audio at <see cref="SpeechFeatureOptions.SampleRate"/>.</param>
    /// <param name="videoFrameCount">The video's frame count, so that T = it x features per video frame exactly (audio
    /// missing at the end counts as silence, audio past the end is ignored); null: round(duration x fps).</param>
    /// <returns>T = video frames x <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/> rows of MFCCs c_0 .. c_{N-1}.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clip"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="videoFrameCount"/> is 0 or less.</exception>
    /// <exception cref="SampleRateMismatchException">The clip is not at <see cref="SpeechFeatureOptions.SampleRate"/>.</exception>
    /// <exception cref="AudioTooShortException">The clip is shorter than one video frame (rate / fps samples).</exception>
    public SpeechFeatures Mfcc(AudioClip clip, int? videoFrameCount = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        return Mfcc(clip.Samples, clip.SampleRate, videoFrameCount, clip.Source);
    }

    /// <summary>MFCCs of <paramref name="samples"/>, [T, <see cref="SpeechFeatureOptions.MfccCount"/>], aligned to a video.</summary>
    /// <param name="samples">Mono samples at <paramref name="sampleRate"/>, full scale [-1, 1].</param>
    /// <param name="sampleRate">Their rate in Hz; it must be <see cref="SpeechFeatureOptions.SampleRate"/>.</param>
    /// <param name="videoFrameCount">The video's frame count (T = it x features per video frame); null: round(duration x fps).</param>
    /// <param name="source">A name for the samples in error messages (a file path); null when none.</param>
    /// <returns>T = video frames x <see cref="SpeechFeatureOptions.FeaturesPerVideoFrame"/> rows of MFCCs c_0 .. c_{N-1}.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="videoFrameCount"/> is 0 or less.</exception>
    /// <exception cref="SampleRateMismatchException"><paramref name="sampleRate"/> is not the options' rate.</exception>
    /// <exception cref="AudioTooShortException">Fewer samples than one video frame spans.</exception>
    public SpeechFeatures Mfcc(ReadOnlySpan<float> samples, int sampleRate, int? videoFrameCount = null, string? source = null) =>
        Compute(samples, sampleRate, videoFrameCount, source, SpeechFeatureKind.Mfcc);

    /// <summary>Log-mel spectrogram of <paramref name="clip"/>, [T, <see cref="SpeechFeatureOptions.MelBands"/>], aligned to its video.</summary>
    /// <param name="clip">Mono audio at <see cref="SpeechFeatureOptions.SampleRate"/>.</param>
    /// <param name="videoFrameCount">The video's frame count (T = it x features per video frame); null: round(duration x fps).</param>
    /// <returns>T rows of ln(max(mel energy, floor)), bands from low to high frequency.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clip"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="videoFrameCount"/> is 0 or less.</exception>
    /// <exception cref="SampleRateMismatchException">The clip is not at <see cref="SpeechFeatureOptions.SampleRate"/>.</exception>
    /// <exception cref="AudioTooShortException">The clip is shorter than one video frame.</exception>
    public SpeechFeatures LogMel(AudioClip clip, int? videoFrameCount = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        return LogMel(clip.Samples, clip.SampleRate, videoFrameCount, clip.Source);
    }

    /// <summary>Log-mel spectrogram of <paramref name="samples"/>, [T, <see cref="SpeechFeatureOptions.MelBands"/>].</summary>
    /// <param name="samples">Mono samples at <paramref name="sampleRate"/>, full scale [-1, 1].</param>
    /// <param name="sampleRate">Their rate in Hz; it must be <see cref="SpeechFeatureOptions.SampleRate"/>.</param>
    /// <param name="videoFrameCount">The video's frame count (T = it x features per video frame); null: round(duration x fps).</param>
    /// <param name="source">A name for the samples in error messages (a file path); null when none.</param>
    /// <returns>T rows of ln(max(mel energy, floor)), bands from low to high frequency.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="videoFrameCount"/> is 0 or less.</exception>
    /// <exception cref="SampleRateMismatchException"><paramref name="sampleRate"/> is not the options' rate.</exception>
    /// <exception cref="AudioTooShortException">Fewer samples than one video frame spans.</exception>
    public SpeechFeatures LogMel(ReadOnlySpan<float> samples, int sampleRate, int? videoFrameCount = null, string? source = null) =>
        Compute(samples, sampleRate, videoFrameCount, source, SpeechFeatureKind.LogMel);

    /// <summary>
    /// The number of video frames <paramref name="sampleCount"/> samples span at the options' rate and fps:
    /// round(sampleCount x fps / rate), the T / k used when no video frame count is given.
    /// </summary>
    /// <param name="sampleCount">Number of audio samples.</param>
    /// <returns>The video frame count, 0 for audio shorter than half a frame.</returns>
    public int VideoFrameCountOf(int sampleCount) =>
        (int)Math.Round(sampleCount * Options.FrameRate / Options.SampleRate, MidpointRounding.AwayFromZero);

    private SpeechFeatures Compute(ReadOnlySpan<float> samples, int sampleRate, int? videoFrameCount, string? source, SpeechFeatureKind kind)
    {
        var o = Options;
        if (sampleRate != o.SampleRate)
            throw new SampleRateMismatchException($"audio at {sampleRate} Hz given to speech features configured for {o.SampleRate} Hz " +
                "(read it with AudioReadOptions.SampleRate, or set SpeechFeatureOptions.SampleRate)", o.SampleRate, sampleRate, source);
        int perVideoFrame = (int)Math.Ceiling(o.SampleRate / o.FrameRate);
        if (samples.Length * o.FrameRate < o.SampleRate)
            throw new AudioTooShortException($"{samples.Length} samples ({samples.Length * 1000.0 / o.SampleRate:0.#} ms) are " +
                $"shorter than one video frame ({perVideoFrame} samples, {1000 / o.FrameRate:0.#} ms at {o.FrameRate:0.###} fps)",
                samples.Length, perVideoFrame, source);
        if (videoFrameCount is <= 0)
            throw new ArgumentOutOfRangeException(nameof(videoFrameCount), videoFrameCount,
                "must be positive (or null: from the audio's duration)");
        int videoFrames = videoFrameCount ?? Math.Max(1, VideoFrameCountOf(samples.Length));
        // Rows past the audio are zeros; a count no array can hold is a mistake, not a request for padding.
        if ((long)videoFrames * o.FeaturesPerVideoFrame * Math.Max(o.MelBands, o.MfccCount) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(videoFrameCount), videoFrameCount, "too many frames to hold in one array");
        int frames = checked(videoFrames * o.FeaturesPerVideoFrame);
        double hop = o.HopSamples;
        NWaves.FeatureExtractors.Base.FeatureExtractor extractor = kind == SpeechFeatureKind.Mfcc ? _mfcc : _logMel;
        int width = kind == SpeechFeatureKind.Mfcc ? o.MfccCount : o.MelBands;
        var values = new float[frames * width];
        var row = new float[width];
        for (int t = 0; t < frames; t++)
        {
            // Window t starts at round((t + 0.5) hop - W / 2); samples outside the audio are zeros.
            int start = (int)Math.Floor((t + 0.5) * hop - _window / 2.0 + 0.5);
            Frame(samples, start);
            extractor.ProcessFrame(_block, row);
            row.CopyTo(values, t * width);
        }
        return new SpeechFeatures(values, frames, width, o.FeaturesPerVideoFrame, hop / o.SampleRate, (double)_window / o.SampleRate, kind);
    }

    /// <summary>
    /// Fills the FFT block with window <paramref name="start"/> .. start + W - 1 of the zero-extended signal, pre-emphasised
    /// and Hamming-windowed, then zero-padded: NWaves' <c>FeatureExtractor.ComputeFrom</c> step for one frame, in the same
    /// float arithmetic (so the same bits), without its copy of the whole signal or its per-call block.
    /// </summary>
    private void Frame(ReadOnlySpan<float> samples, int start)
    {
        var block = _block;
        int lo = Math.Clamp(-start, 0, _window), hi = Math.Clamp(samples.Length - start, lo, _window);
        block.AsSpan(0, lo).Clear();
        if (hi > lo)
            samples.Slice(start + lo, hi - lo).CopyTo(block.AsSpan(lo));
        block.AsSpan(hi).Clear();
        if (_preEmphasis > 1e-10f)
        {
            float previous = start >= 1 && start - 1 < samples.Length ? samples[start - 1] : 0f;
            for (int n = 0; n < _window; n++)
            {
                float x = block[n];
                block[n] = x - previous * _preEmphasis;
                previous = x;
            }
        }
        block.ApplyWindow(_hamming);
    }

    /// <summary>For each mel filter, the FFT bins [first, end) where its weight is not zero.</summary>
    private sealed class SparseFilterBank(int[] first, int[] end)
    {
        public static SparseFilterBank Of(float[][] bank)
        {
            var first = new int[bank.Length];
            var end = new int[bank.Length];
            for (int m = 0; m < bank.Length; m++)
            {
                int lo = Array.FindIndex(bank[m], w => w != 0), hi = Array.FindLastIndex(bank[m], w => w != 0);
                (first[m], end[m]) = lo < 0 ? (0, 0) : (lo, hi + 1);
            }
            return new SparseFilterBank(first, end);
        }

        /// <summary>
        /// NWaves' <c>FilterBanks.ApplyAndLog</c> (ln(max(sum_k w[m][k] P[k], floor)), summed in float in bin order) over
        /// the non-zero weights only: the terms skipped add +0, so the sums are NWaves' to the bit.
        /// </summary>
        public void ApplyAndLog(float[][] bank, float[] spectrum, Span<float> output, float floor)
        {
            for (int m = 0; m < bank.Length; m++)
            {
                var weights = bank[m];
                float sum = 0f;
                for (int k = first[m]; k < end[m]; k++)
                    sum += weights[k] * spectrum[k];
                output[m] = (float)Math.Log(Math.Max(sum, floor));
            }
        }
    }

    /// <summary>NWaves' MFCC frame step (power spectrum, mel log, DCT-II "2N", lifter) with the sparse filterbank product.</summary>
    private sealed class AlignedMfcc(MfccOptions options, SparseFilterBank support) : MfccExtractor(options)
    {
        public override void ProcessFrame(float[] block, float[] features)
        {
            _getSpectrum(block);
            support.ApplyAndLog(FilterBank, _spectrum, _melSpectrum, _logFloor);
            _applyDct(features);
            if (_lifterCoeffs is not null)
                features.ApplyWindow(_lifterCoeffs);
        }
    }

    /// <summary>NWaves' filterbank frame step (power spectrum, mel log) with the sparse filterbank product.</summary>
    private sealed class AlignedLogMel(FilterbankOptions options, SparseFilterBank support) : FilterbankExtractor(options)
    {
        public override void ProcessFrame(float[] block, float[] features)
        {
            _getSpectrum(block);
            support.ApplyAndLog(FilterBank, _spectrum, features, _logFloor);
        }
    }


    private static void Validate(SpeechFeatureOptions o)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.SampleRate, "options.SampleRate");
        if (!(o.FrameRate > 0 && double.IsFinite(o.FrameRate)))
            throw new ArgumentOutOfRangeException("options.FrameRate", o.FrameRate, "must be a positive number of frames per second");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.FeaturesPerVideoFrame, "options.FeaturesPerVideoFrame");
        if (o.WindowSamples < 2)
            throw new ArgumentOutOfRangeException("options.WindowSeconds", o.WindowSeconds, "must span at least 2 samples");
        if (o.FftSize != 0 && (o.FftSize < o.WindowSamples || (o.FftSize & (o.FftSize - 1)) != 0))
            throw new ArgumentOutOfRangeException("options.FftSize", o.FftSize,
                $"must be 0 or a power of two of at least the window ({o.WindowSamples} samples)");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.MelBands, "options.MelBands");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.MfccCount, "options.MfccCount");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(o.MfccCount, o.MelBands, "options.MfccCount");
        double nyquist = o.SampleRate / 2.0;
        double max = o.MaxFrequency ?? nyquist;
        if (!(o.MinFrequency >= 0 && o.MinFrequency < max))
            throw new ArgumentOutOfRangeException("options.MinFrequency", o.MinFrequency, $"must be in [0, max frequency {max} Hz)");
        if (!(max <= nyquist))
            throw new ArgumentOutOfRangeException("options.MaxFrequency", max, $"must be at most the Nyquist frequency {nyquist} Hz");
        if (!(o.PreEmphasis >= 0 && o.PreEmphasis < 1))
            throw new ArgumentOutOfRangeException("options.PreEmphasis", o.PreEmphasis, "must be in [0, 1)");
        if (!(o.LogFloor > 0 && float.IsFinite(o.LogFloor)))
            throw new ArgumentOutOfRangeException("options.LogFloor", o.LogFloor, "must be a positive number");
        ArgumentOutOfRangeException.ThrowIfNegative(o.Lifter, "options.Lifter");
    }
}
