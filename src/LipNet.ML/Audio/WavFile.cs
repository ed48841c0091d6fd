using FFMpegCore;
using FFMpegCore.Enums;
using FFMpegCore.Exceptions;
using FFMpegCore.Pipes;
using NWaves.Audio;
using NWaves.Signals;

namespace LipNet.ML.Audio;

/// <summary>How <see cref="WavFile"/> stores samples.</summary>
public enum WavSampleFormat
{
    /// <summary>16-bit signed integer PCM (WAVE format 1): samples clipped to [-1, 1) and scaled by 32768, truncated.</summary>
    Pcm16,

    /// <summary>
    /// 32-bit IEEE float, samples stored exactly as they are: written by ffmpeg as WAVE_FORMAT_EXTENSIBLE (0xFFFE) with the
    /// IEEE float sub-format (3), as ffmpeg does for samples wider than 16 bits.
    /// </summary>
    Float32,
}

/// <summary>
/// Writes mono WAV files. 16-bit PCM is written by NWaves' <c>WaveFile</c> (managed, no process); 32-bit float by ffmpeg's
/// <c>pcm_f32le</c> encoder through FFMpegCore (NWaves writes integer PCM only). Read a WAV back with
/// <see cref="AudioReader.Read(string, AudioReadOptions?)"/>.
/// </summary>
public static class WavFile
{
    /// <summary>Writes <paramref name="clip"/> to <paramref name="path"/> as a mono WAV file at the clip's sample rate.</summary>
    /// <param name="path">The WAV file to create or overwrite.</param>
    /// <param name="clip">The samples, full scale [-1, 1].</param>
    /// <param name="format">16-bit PCM (the default: a 16-bit round trip is exact to 1/32768) or 32-bit float (exact).</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="clip"/> is null.</exception>
    /// <exception cref="NativeLibraryException">A float WAV is asked for and ffmpeg is not installed.</exception>
    /// <exception cref="AudioDecodeException">ffmpeg fails to write the float WAV.</exception>
    /// <exception cref="LipNetException">The file cannot be written (no such folder, no permission, disk full): names it and why.</exception>
    public static void Write(string path, AudioClip clip, WavSampleFormat format = WavSampleFormat.Pcm16)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(clip);
        if (format == WavSampleFormat.Float32)
        {
            WriteFloat(path, clip);
            return;
        }
        try
        {
            using var file = File.Create(path);
            Write(file, clip);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LipNetException($"cannot be written: {ex.Message}", path, ex);
        }
    }

    /// <summary>Writes <paramref name="clip"/> to <paramref name="stream"/> as a mono 16-bit PCM WAV (NWaves' writer).</summary>
    /// <param name="stream">A writable stream, left open.</param>
    /// <param name="clip">The samples, full scale [-1, 1]; values outside are clipped.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="clip"/> is null.</exception>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public static void Write(Stream stream, AudioClip clip)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(clip);
        // NWaves scales by 32768 and casts without clipping: keep every sample inside the 16-bit range first.
        const float max = 32767f / 32768f;
        var clipped = new float[clip.SampleCount];
        for (int i = 0; i < clipped.Length; i++)
            clipped[i] = Math.Clamp(clip.Samples[i], -1f, max);
        new WaveFile(new DiscreteSignal(clip.SampleRate, clipped), bitsPerSample: 16).SaveTo(stream, normalized: true);
    }

    private static void WriteFloat(string path, AudioClip clip)
    {
        var ffmpeg = AudioReader.FfmpegOptions(null, path);
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(clip.Samples.AsSpan()).ToArray();
        using var input = new MemoryStream(bytes, writable: false);
        string rate = clip.SampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            FFMpegArguments.FromPipeInput(new StreamPipeSource(input) { Format = "f32le" }, o => o.WithCustomArgument($"-ar {rate} -ac 1"))
                .OutputToFile(path, overwrite: true, o => o.WithCustomArgument("-c:a pcm_f32le -fflags +bitexact -f wav"))
                .WithLogLevel(FFMpegLogLevel.Error)
                .ProcessSynchronously(throwOnError: true, ffmpeg);
        }
        catch (FFMpegProcessException ex)
        {
            throw new AudioDecodeException($"ffmpeg could not write a float WAV: {string.Join(" ", ex.Result.StandardError)}", path, ex);
        }
    }
}
