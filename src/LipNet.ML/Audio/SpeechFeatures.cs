using System.Numerics.Tensors;

namespace LipNet.ML.Audio;

/// <summary>Which features a <see cref="SpeechFeatures"/> holds.</summary>
public enum SpeechFeatureKind
{
    /// <summary>Mel-frequency cepstral coefficients (<see cref="SpeechFeatureOptions.MfccCount"/> per feature frame).</summary>
    Mfcc,

    /// <summary>Natural-log mel filterbank energies (<see cref="SpeechFeatureOptions.MelBands"/> per feature frame).</summary>
    LogMel,
}

/// <summary>
/// A [T, F] matrix of speech features aligned to a video: T = <see cref="FrameCount"/> feature frames
/// (<see cref="VideoFrameCount"/> x <see cref="FeaturesPerVideoFrame"/>), F = <see cref="FeatureCount"/> values each,
/// stored row-major in <see cref="Values"/>. Feature frame t belongs to video frame t / <see cref="FeaturesPerVideoFrame"/>
/// and its analysis window is centred at (t + 0.5) x <see cref="HopSeconds"/> seconds (see <see cref="SpeechFeatureExtractor"/>).
/// </summary>
public sealed record SpeechFeatures
{
    /// <summary>Features of <paramref name="frameCount"/> frames of <paramref name="featureCount"/> values, row-major.</summary>
    /// <param name="values">T x F values, row-major (frame t's values at [t * F, (t + 1) * F)); kept, not copied.</param>
    /// <param name="frameCount">T, the number of feature frames.</param>
    /// <param name="featureCount">F, the values per feature frame.</param>
    /// <param name="featuresPerVideoFrame">Feature frames per video frame (1 or 4 usually); T must be a multiple of it.</param>
    /// <param name="hopSeconds">Seconds between the centres of consecutive feature frames.</param>
    /// <param name="windowSeconds">Length of each analysis window in seconds.</param>
    /// <param name="kind">MFCC or log-mel.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="TensorShapeException">The values are not T x F, or T is not a multiple of the features per video frame.</exception>
    public SpeechFeatures(float[] values, int frameCount, int featureCount, int featuresPerVideoFrame, double hopSeconds,
        double windowSeconds, SpeechFeatureKind kind)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (frameCount < 0 || featureCount <= 0 || featuresPerVideoFrame <= 0 || frameCount % featuresPerVideoFrame != 0
            || values.Length != (long)frameCount * featureCount)
            throw new TensorShapeException($"{values.Length} values for {frameCount} frames of {featureCount} features " +
                $"({featuresPerVideoFrame} per video frame)");
        Values = values;
        FrameCount = frameCount;
        FeatureCount = featureCount;
        FeaturesPerVideoFrame = featuresPerVideoFrame;
        HopSeconds = hopSeconds;
        WindowSeconds = windowSeconds;
        Kind = kind;
    }

    /// <summary>The T x F values, row-major: value f of feature frame t is <c>Values[t * FeatureCount + f]</c>.</summary>
    public float[] Values { get; }

    /// <summary>T, the number of feature frames: <see cref="VideoFrameCount"/> x <see cref="FeaturesPerVideoFrame"/>.</summary>
    public int FrameCount { get; }

    /// <summary>F, the values per feature frame (MFCC count or mel band count).</summary>
    public int FeatureCount { get; }

    /// <summary>Feature frames per video frame: 1 (hop = one video frame, 40 ms at 25 fps) or 4 (10 ms at 25 fps).</summary>
    public int FeaturesPerVideoFrame { get; }

    /// <summary>The number of video frames the features cover: <see cref="FrameCount"/> / <see cref="FeaturesPerVideoFrame"/>.</summary>
    public int VideoFrameCount => FrameCount / FeaturesPerVideoFrame;

    /// <summary>Seconds between consecutive feature frames: 1 / (fps x <see cref="FeaturesPerVideoFrame"/>).</summary>
    public double HopSeconds { get; }

    /// <summary>Length of each analysis window in seconds (the FFT zero-pads it to a power of two).</summary>
    public double WindowSeconds { get; }

    /// <summary>MFCC or log-mel.</summary>
    public SpeechFeatureKind Kind { get; }

    /// <summary>Feature <paramref name="feature"/> of feature frame <paramref name="frame"/>.</summary>
    /// <param name="frame">0 to <see cref="FrameCount"/> - 1.</param>
    /// <param name="feature">0 to <see cref="FeatureCount"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index out of range.</exception>
    public float this[int frame, int feature]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(frame);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, FrameCount);
            ArgumentOutOfRangeException.ThrowIfNegative(feature);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(feature, FeatureCount);
            return Values[frame * FeatureCount + feature];
        }
    }

    /// <summary>The <see cref="FeatureCount"/> values of feature frame <paramref name="frame"/>.</summary>
    /// <param name="frame">0 to <see cref="FrameCount"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frame"/> out of range.</exception>
    public ReadOnlySpan<float> Row(int frame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, FrameCount);
        return Values.AsSpan(frame * FeatureCount, FeatureCount);
    }

    /// <summary>The values as a rank-2 [T, F] tensor span over <see cref="Values"/> (no copy).</summary>
    public ReadOnlyTensorSpan<float> AsTensorSpan() => new(Values, [FrameCount, FeatureCount]);

    /// <summary>A [T, F] copy as a two-dimensional array.</summary>
    public float[,] ToArray2D()
    {
        var result = new float[FrameCount, FeatureCount];
        Buffer.BlockCopy(Values, 0, result, 0, Values.Length * sizeof(float));
        return result;
    }
}
