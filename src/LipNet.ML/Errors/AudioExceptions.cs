namespace LipNet.ML;

/// <summary>
/// An audio source that cannot be decoded: a missing, empty or corrupt file, a stream index that does not exist, or
/// ffmpeg failing mid-stream. <see cref="NoAudioTrackException"/> is the case of a video that has no audio track.
/// </summary>
public class AudioDecodeException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>A video (or other container) that ffprobe can read but that holds no audio track, e.g. one muxed with <c>-an</c>.</summary>
public sealed class NoAudioTrackException(string message, string? path = null, Exception? inner = null)
    : AudioDecodeException(message, path, inner);

/// <summary>Audio too short for the operation, e.g. fewer samples than one video frame spans when features are asked for.</summary>
public sealed class AudioTooShortException : LipNetException
{
    /// <summary>An error about audio of <paramref name="samples"/> samples where <paramref name="minimumSamples"/> are needed.</summary>
    /// <param name="message">The reason, without the file name.</param>
    /// <param name="samples">The samples there are, kept as <see cref="Samples"/>.</param>
    /// <param name="minimumSamples">The fewest samples the operation needs, kept as <see cref="MinimumSamples"/>.</param>
    /// <param name="path">The file the audio came from; null when none.</param>
    public AudioTooShortException(string message, int samples, int minimumSamples, string? path = null)
        : base(message, path)
    {
        Samples = samples;
        MinimumSamples = minimumSamples;
    }

    /// <summary>The number of samples the audio has.</summary>
    public int Samples { get; }

    /// <summary>The fewest samples the operation needs (for features: one video frame, sample rate / fps).</summary>
    public int MinimumSamples { get; }
}

/// <summary>
/// Audio at another sample rate than a caller requires: a clip given to features configured for another rate, or a source
/// read with resampling turned off (<c>AudioReadOptions.Resample = false</c>) whose rate is not the requested one.
/// </summary>
public sealed class SampleRateMismatchException : LipNetException
{
    /// <summary>An error about audio at <paramref name="actualHz"/> where <paramref name="expectedHz"/> is required.</summary>
    /// <param name="message">The reason, without the file name.</param>
    /// <param name="expectedHz">The rate required, in Hz, kept as <see cref="ExpectedHz"/>.</param>
    /// <param name="actualHz">The rate found, in Hz, kept as <see cref="ActualHz"/>.</param>
    /// <param name="path">The file the audio came from; null when none.</param>
    public SampleRateMismatchException(string message, int expectedHz, int actualHz, string? path = null)
        : base(message, path)
    {
        ExpectedHz = expectedHz;
        ActualHz = actualHz;
    }

    /// <summary>The sample rate the caller requires, in Hz.</summary>
    public int ExpectedHz { get; }

    /// <summary>The sample rate of the audio, in Hz.</summary>
    public int ActualHz { get; }
}
