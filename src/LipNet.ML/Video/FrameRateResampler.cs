namespace LipNet.ML.Video;

/// <summary>
/// Decides, from presentation timestamps, which source frame each output frame at a fixed rate takes: output
/// frame k (time k / rate after the first source frame) is the source frame with the nearest timestamp. Works on a
/// stream: each pushed timestamp says how many more output frames the previous source frame fills. Timestamps that
/// are missing or do not increase (broken containers) are replaced by the previous one plus one nominal frame
/// duration, so the output never runs backwards.
/// </summary>
public sealed class FrameRateResampler
{
    private readonly double _fps;
    private double? _origin;
    private double _previous, _lastDelta;
    private long _emitted;

    /// <param name="fps">Output frames per second (&gt; 0).</param>
    /// <param name="sourceFps">The container's stated rate, for the nominal frame duration (0 or NaN when unknown).</param>
    /// <exception cref="TensorShapeException"><paramref name="fps"/> is not a positive finite rate.</exception>
    public FrameRateResampler(double fps, double sourceFps)
    {
        if (!(fps > 0) || !double.IsFinite(fps) || fps > 1000)
            throw new TensorShapeException($"target frame rate {fps} must lie in (0, 1000] frames per second");
        _fps = fps;
        FrameDuration = sourceFps > 0 && double.IsFinite(sourceFps) && sourceFps < 1000 ? 1 / sourceFps : 1 / fps;
    }

    /// <summary>Nominal duration of one source frame in seconds (from the stated source rate, else the output rate).</summary>
    public double FrameDuration { get; }

    /// <summary>Timestamps that were missing or not increasing and were replaced.</summary>
    public int RepairedTimestamps { get; private set; }

    /// <summary>
    /// Takes the next source frame's timestamp (seconds; NaN when unknown) and returns it relative to the first
    /// frame, repaired if needed. <paramref name="emitPrevious"/> is how many output frames the previous source
    /// frame takes now (those whose time lies nearer to it than to this one).
    /// </summary>
    public double Push(double timestamp, out int emitPrevious)
    {
        emitPrevious = 0;
        if (_origin is null)
        {
            _origin = double.IsFinite(timestamp) ? timestamp : 0;
            _previous = 0;
            return 0;
        }
        double t = timestamp - _origin.Value;
        if (!double.IsFinite(t) || t <= _previous)
        {
            RepairedTimestamps++;
            t = _previous + FrameDuration;
        }
        emitPrevious = Take((_previous + t) / 2);
        _lastDelta = t - _previous;
        _previous = t;
        return t;
    }

    /// <summary>
    /// After the last source frame: how many output frames it takes, up to the source's end (its timestamp plus the
    /// last frame interval seen, which a variable-frame-rate stream's stated average rate would misstate).
    /// </summary>
    public int RemainingAtEnd() => _origin is null ? 0 : Take(_previous + (_lastDelta > 0 ? _lastDelta : FrameDuration));

    /// <summary>Duration of the stream pushed so far, seconds: the last timestamp plus the last frame interval.</summary>
    public double Duration => _origin is null ? 0 : _previous + (_lastDelta > 0 ? _lastDelta : FrameDuration);

    /// <summary>Output frames whose time lies before <paramref name="until"/> and have not been given out yet.</summary>
    private int Take(double until)
    {
        // Output frame k sits at k / fps; a tiny tolerance keeps exact halves (ties) on the earlier frame's side consistently.
        long end = (long)Math.Ceiling(until * _fps - 1e-6);
        int n = (int)Math.Max(0, end - _emitted);
        _emitted += n;
        return n;
    }
}
