namespace LipNet.ML.Audio;

/// <summary>
/// A whole clip of mono audio as 32-bit float PCM: what <see cref="AudioReader.Read(string, AudioReadOptions?)"/> returns
/// and what <see cref="SpeechFeatureExtractor"/> and <see cref="WavFile"/> take.
/// </summary>
/// <remarks>Samples are in [-1, 1] (full scale) as ffmpeg decodes them; nothing clips them, so a loud float source may exceed it.</remarks>
public sealed record AudioClip
{
    /// <summary>A clip of <paramref name="samples"/> at <paramref name="sampleRate"/> Hz from <paramref name="source"/>.</summary>
    /// <param name="samples">Mono samples, full scale [-1, 1]; kept, not copied.</param>
    /// <param name="sampleRate">Samples per second (Hz), more than 0.</param>
    /// <param name="source">The file (or a description such as <c>&lt;generated&gt;</c>) the samples came from.</param>
    /// <exception cref="ArgumentNullException"><paramref name="samples"/> or <paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleRate"/> is 0 or less.</exception>
    public AudioClip(float[] samples, int sampleRate, string source)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        Samples = samples;
        SampleRate = sampleRate;
        Source = source;
    }

    /// <summary>Mono samples, 32-bit float, full scale [-1, 1]; sample n is at time n / <see cref="SampleRate"/> seconds.</summary>
    public float[] Samples { get; }

    /// <summary>Samples per second (Hz).</summary>
    public int SampleRate { get; }

    /// <summary>The file the samples were read from, or a description of where they came from.</summary>
    public string Source { get; }

    /// <summary>Number of samples (<see cref="Samples"/>.Length).</summary>
    public int SampleCount => Samples.Length;

    /// <summary>Length in seconds: <see cref="SampleCount"/> / <see cref="SampleRate"/>.</summary>
    public double DurationSeconds => (double)Samples.Length / SampleRate;

    /// <summary>Writes the clip as a mono WAV file (see <see cref="WavFile.Write(string, AudioClip, WavSampleFormat)"/>).</summary>
    /// <param name="path">The WAV file to create or overwrite.</param>
    /// <param name="format">16-bit PCM (the default) or 32-bit float.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="NativeLibraryException">A float WAV is asked for and ffmpeg is not installed.</exception>
    /// <exception cref="AudioDecodeException">ffmpeg fails to write the float WAV.</exception>
    /// <exception cref="LipNetException">The file cannot be written (no such folder, no permission, disk full).</exception>
    public void WriteWav(string path, WavSampleFormat format = WavSampleFormat.Pcm16) => WavFile.Write(path, this, format);
}
