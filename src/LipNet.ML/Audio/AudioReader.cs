using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using FFMpegCore;
using FFMpegCore.Exceptions;
using Instances.Exceptions;

namespace LipNet.ML.Audio;

/// <summary>How an audio track is decoded: output rate, chunking, which track, limits, where ffmpeg is.</summary>
public sealed record AudioReadOptions
{
    /// <summary>Output sample rate in Hz (16 kHz by default, the rate of GRID's audio and of most speech models).</summary>
    public int SampleRate { get; init; } = 16000;

    /// <summary>
    /// Resample a source at another rate to <see cref="SampleRate"/> (ffmpeg's swresample; the default). False: the caller
    /// requires the source to be at <see cref="SampleRate"/> already, and any other rate is a
    /// <see cref="SampleRateMismatchException"/>.
    /// </summary>
    public bool Resample { get; init; } = true;

    /// <summary>
    /// Samples per chunk of <see cref="AudioReader.ReadChunks"/> (the last one may be shorter): 16000 by default, one second
    /// at 16 kHz. Streaming holds at most a few chunks in memory whatever the length of the source.
    /// </summary>
    public int ChunkSamples { get; init; } = 16000;

    /// <summary>Which audio track to read, 0-based among the audio tracks only (ffmpeg's <c>0:a:N</c>); 0 by default.</summary>
    public int AudioTrack { get; init; }

    /// <summary>Stop after this many seconds of audio (ffmpeg's <c>-t</c>); null (the default) reads to the end.</summary>
    public double? MaxSeconds { get; init; }

    /// <summary>
    /// The folder holding the ffmpeg and ffprobe programs; null (the default) finds them on PATH (apt's ffmpeg puts them in
    /// /usr/bin). A folder without them is a <see cref="NativeLibraryException"/>, never a silent fall back to PATH.
    /// </summary>
    public string? FfmpegFolder { get; init; }

    /// <summary>The defaults: 16 kHz mono, resampled, 1 s chunks, the first audio track, to the end, ffmpeg from PATH.</summary>
    public static AudioReadOptions Default { get; } = new();
}

/// <summary>
/// Reads the audio track of a video (mpg/MP2, mp4/AAC, mov, mkv, webm ...) or an audio file (WAV, ...) as mono 32-bit float
/// PCM at a requested rate, as a stream of chunks or as a whole <see cref="AudioClip"/>. Decoding is ffmpeg's, run through
/// FFMpegCore: ffprobe describes the file when it is opened, and each read runs one ffmpeg that downmixes (<c>-ac 1</c>),
/// resamples (<c>-ar</c>) and pipes raw <c>f32le</c> samples back.
/// </summary>
/// <remarks>
/// Needs the ffmpeg and ffprobe programs (Debian/Ubuntu: <c>apt-get install ffmpeg</c>; scripts/setup.sh installs it).
/// An instance is immutable and each call of <see cref="ReadChunks"/>, <see cref="ReadChunksAsync"/> or
/// <see cref="ReadAll"/> decodes afresh, so it may be read more than once and from several threads.
/// </remarks>
public sealed class AudioReader
{
    private readonly FFOptions _ffmpeg;
    private readonly int _track;

    private AudioReader(string source, AudioReadOptions options, FFOptions ffmpeg, IMediaAnalysis analysis, int track)
    {
        Source = source;
        Options = options;
        _ffmpeg = ffmpeg;
        _track = track;
        var audio = analysis.AudioStreams[track];
        SourceSampleRate = audio.SampleRateHz ?? 0;
        SourceChannels = audio.Channels ?? 0;
        SourceCodec = audio.CodecName ?? "";
        AudioTrackCount = analysis.AudioStreams.Count;
        HasVideo = analysis.VideoStreams.Count > 0;
        var duration = audio.Duration > TimeSpan.Zero ? audio.Duration : analysis.Duration;
        DurationSeconds = duration.TotalSeconds;
        if (analysis.PrimaryVideoStream is { } video)
        {
            double rate = video.AverageFrameRate > 0 ? video.AverageFrameRate : video.RealFrameRate;
            var videoDuration = video.Duration > TimeSpan.Zero ? video.Duration : analysis.Duration;
            if (rate > 0 && double.IsFinite(rate))
            {
                VideoFrameRate = rate;
                if (videoDuration > TimeSpan.Zero)
                    VideoFrameCount = (int)Math.Round(videoDuration.TotalSeconds * rate, MidpointRounding.AwayFromZero);
            }
        }
    }

    /// <summary>The file read.</summary>
    public string Source { get; }

    /// <summary>The options it was opened with.</summary>
    public AudioReadOptions Options { get; }

    /// <summary>Rate of the samples read, in Hz (<see cref="AudioReadOptions.SampleRate"/>).</summary>
    public int SampleRate => Options.SampleRate;

    /// <summary>The source track's own sample rate in Hz, as ffprobe reports it (0 when it reports none).</summary>
    public int SourceSampleRate { get; }

    /// <summary>The source track's channel count, as ffprobe reports it (0 when it reports none); reads are mono whatever it is.</summary>
    public int SourceChannels { get; }

    /// <summary>The source track's codec, ffmpeg's short name (<c>aac</c>, <c>mp2</c>, <c>opus</c>, <c>pcm_s16le</c> ...).</summary>
    public string SourceCodec { get; }

    /// <summary>How many audio tracks the file has (at least 1: a file with none cannot be opened).</summary>
    public int AudioTrackCount { get; }

    /// <summary>True when the file also has a video track.</summary>
    public bool HasVideo { get; }

    /// <summary>
    /// The track's duration in seconds as the container reports it (the format's duration where the track has none, as in
    /// mkv/webm). The decoded length may differ by a few milliseconds (codec priming and padding).
    /// </summary>
    public double DurationSeconds { get; }

    /// <summary>The video track's average frame rate (frames per second) as ffprobe reports it; null without video.</summary>
    public double? VideoFrameRate { get; }

    /// <summary>
    /// The video track's frame count from the container: round(video duration x <see cref="VideoFrameRate"/>); null without
    /// video or when the container gives no duration. Pass it to <see cref="SpeechFeatureExtractor.Mfcc(AudioClip, int?)"/>
    /// so there is one feature frame per video frame even where the audio track is a few milliseconds shorter (GRID's AAC
    /// tracks are 2.978 s for 3 s of video). <c>VideoReader</c>'s count of decoded frames is the exact one.
    /// </summary>
    public int? VideoFrameCount { get; }

    /// <summary>Describes <paramref name="path"/> with ffprobe and checks that it has the audio track asked for.</summary>
    /// <param name="path">A video or audio file.</param>
    /// <param name="options">Rate, track, chunking and limits; <see cref="AudioReadOptions.Default"/> when null.</param>
    /// <returns>A reader whose reads decode the track.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A rate, chunk size, track index or duration limit out of range.</exception>
    /// <exception cref="AudioDecodeException">The file is missing, empty, a directory, or not a media file ffprobe can read; or
    /// it has fewer audio tracks than <see cref="AudioReadOptions.AudioTrack"/> needs.</exception>
    /// <exception cref="NoAudioTrackException">The file has no audio track at all (a video muxed without sound).</exception>
    /// <exception cref="SampleRateMismatchException"><see cref="AudioReadOptions.Resample"/> is false and the source's rate
    /// is not <see cref="AudioReadOptions.SampleRate"/>.</exception>
    /// <exception cref="NativeLibraryException">ffmpeg or ffprobe is not installed (the message says to install apt's ffmpeg).</exception>
    public static AudioReader Open(string path, AudioReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= AudioReadOptions.Default;
        Validate(options);
        if (Directory.Exists(path))
            throw new AudioDecodeException("is a directory, not an audio or video file", path);
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new AudioDecodeException("file not found", path);
        if (file.Length == 0)
            throw new AudioDecodeException("file is empty", path);

        var ffmpeg = FfmpegOptions(options.FfmpegFolder, path);
        IMediaAnalysis analysis;
        try
        {
            analysis = FFProbe.Analyse(path, ffmpeg);
        }
        catch (FFProbeProcessException ex)
        {
            throw new AudioDecodeException($"ffprobe cannot read it ({FirstError(ex.StandardError, ex.Message)})", path, ex);
        }
        catch (Exception ex) when (ex is FFMpegException or System.Text.Json.JsonException)
        {
            throw ex.InnerException is InstanceFileNotFoundException
                ? NativeLibraryException.Ffmpeg("ffprobe", ex.InnerException.Message, path, ex)
                : new AudioDecodeException($"ffprobe cannot read it ({ex.Message})", path, ex);
        }
        if (analysis.AudioStreams.Count == 0)
        {
            string what = analysis.VideoStreams.Count > 0
                ? $"a video ({analysis.VideoStreams[0].CodecName}) without sound"
                : "a file without audio";
            throw new NoAudioTrackException($"has no audio track: ffprobe finds {what}", path);
        }
        if (options.AudioTrack >= analysis.AudioStreams.Count)
            throw new AudioDecodeException(
                $"has {analysis.AudioStreams.Count} audio track(s), no track {options.AudioTrack} " +
                "(AudioReadOptions.AudioTrack is 0-based)", path);
        var reader = new AudioReader(path, options, ffmpeg, analysis, options.AudioTrack);
        if (!options.Resample && reader.SourceSampleRate != options.SampleRate)
            throw new SampleRateMismatchException(
                $"audio track {options.AudioTrack} is at {reader.SourceSampleRate} Hz, {options.SampleRate} Hz is required " +
                "(AudioReadOptions.Resample is false)", options.SampleRate, reader.SourceSampleRate, path);
        return reader;
    }

    /// <summary>Reads the whole audio track of <paramref name="path"/>: <c>Open(path, options).ReadAll()</c>.</summary>
    /// <param name="path">A video or audio file.</param>
    /// <param name="options">Rate, track and limits; <see cref="AudioReadOptions.Default"/> (16 kHz mono) when null.</param>
    /// <returns>The clip: mono float samples at <see cref="AudioReadOptions.SampleRate"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    /// <exception cref="AudioDecodeException">Missing, empty or corrupt file, no such track, or a track with no samples.</exception>
    /// <exception cref="NoAudioTrackException">The file has no audio track.</exception>
    /// <exception cref="SampleRateMismatchException">Resampling is off and the source's rate differs.</exception>
    /// <exception cref="NativeLibraryException">ffmpeg or ffprobe is not installed.</exception>
    public static AudioClip Read(string path, AudioReadOptions? options = null) => Open(path, options).ReadAll();

    /// <summary>Reads the whole audio track of <paramref name="path"/> without blocking a thread while ffmpeg decodes.</summary>
    /// <param name="path">A video or audio file.</param>
    /// <param name="options">Rate, track and limits; <see cref="AudioReadOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops ffmpeg and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The clip: mono float samples at <see cref="AudioReadOptions.SampleRate"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    /// <exception cref="AudioDecodeException">Missing, empty or corrupt file, no such track, or a track with no samples.</exception>
    /// <exception cref="NoAudioTrackException">The file has no audio track.</exception>
    /// <exception cref="SampleRateMismatchException">Resampling is off and the source's rate differs.</exception>
    /// <exception cref="NativeLibraryException">ffmpeg or ffprobe is not installed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static Task<AudioClip> ReadAsync(string path, AudioReadOptions? options = null, CancellationToken cancellationToken = default) =>
        Open(path, options).ReadAllAsync(cancellationToken);

    /// <summary>
    /// Decodes the track as consecutive chunks of <see cref="AudioReadOptions.ChunkSamples"/> mono samples at
    /// <see cref="SampleRate"/> (the last chunk may be shorter); concatenated they are <see cref="ReadAll"/>'s samples.
    /// ffmpeg runs while the chunks are enumerated and waits when the consumer falls two chunks behind, so memory stays
    /// bounded however long the source is; leaving the loop early stops ffmpeg.
    /// </summary>
    /// <returns>The chunks, each a new array the caller may keep.</returns>
    /// <exception cref="AudioDecodeException">ffmpeg fails (the chunks before the failure have been yielded).</exception>
    /// <exception cref="NativeLibraryException">ffmpeg is not installed.</exception>
    public IEnumerable<float[]> ReadChunks() => ReadChunksAsync().ToBlockingEnumerable();

    /// <summary>
    /// <see cref="ReadChunks"/> as an async stream: chunks of <see cref="AudioReadOptions.ChunkSamples"/> mono samples at
    /// <see cref="SampleRate"/>, with back-pressure (ffmpeg waits while two chunks are unread).
    /// </summary>
    /// <param name="cancellationToken">Stops ffmpeg and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The chunks, each a new array the caller may keep.</returns>
    /// <exception cref="AudioDecodeException">ffmpeg fails (the chunks before the failure have been yielded).</exception>
    /// <exception cref="NativeLibraryException">ffmpeg is not installed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async IAsyncEnumerable<float[]> ReadChunksAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<float[]>(new BoundedChannelOptions(2)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var run = RunFfmpegAsync(channel.Writer, stop.Token);
        _ = run.ContinueWith(_ => channel.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        bool finished = false;
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var chunk))
                    yield return chunk;
            }
            await run.ConfigureAwait(false); // ffmpeg's own failure, if any, once every chunk before it has been yielded
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or LipNetException or IOException)
                {
                    // Stopped on purpose (the consumer left, or was cancelled), or its failure is already on its way out.
                }
            }
        }
    }

    /// <summary>Decodes the whole track into one clip.</summary>
    /// <returns>Mono float samples at <see cref="SampleRate"/>, with <see cref="Source"/> as the clip's source.</returns>
    /// <exception cref="AudioDecodeException">ffmpeg fails, or the track decodes to no samples at all.</exception>
    /// <exception cref="NativeLibraryException">ffmpeg is not installed.</exception>
    public AudioClip ReadAll() => ReadAllAsync().GetAwaiter().GetResult();

    /// <summary><see cref="ReadAll"/> without blocking a thread while ffmpeg decodes.</summary>
    /// <param name="cancellationToken">Stops ffmpeg and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>Mono float samples at <see cref="SampleRate"/>, with <see cref="Source"/> as the clip's source.</returns>
    /// <exception cref="AudioDecodeException">ffmpeg fails, or the track decodes to no samples at all.</exception>
    /// <exception cref="NativeLibraryException">ffmpeg is not installed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<AudioClip> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        double seconds = Math.Min(DurationSeconds, Options.MaxSeconds ?? double.MaxValue);
        long expected = (long)Math.Ceiling(Math.Max(0, seconds) * SampleRate) + Options.ChunkSamples;
        var samples = new float[(int)Math.Min(expected, Array.MaxLength)];
        int count = 0;
        await foreach (var chunk in ReadChunksAsync(cancellationToken).ConfigureAwait(false))
        {
            if (count + chunk.Length > samples.Length)
            {
                if ((long)count + chunk.Length > Array.MaxLength)
                    throw new AudioDecodeException($"decodes to more than {Array.MaxLength} samples: read it with ReadChunks instead", Source);
                Array.Resize(ref samples, (int)Math.Min(Array.MaxLength, Math.Max(2L * samples.Length, (long)count + chunk.Length)));
            }
            chunk.CopyTo(samples, count);
            count += chunk.Length;
        }
        if (count == 0)
            throw new AudioDecodeException($"audio track {_track} ({SourceCodec}) decodes to no samples", Source);
        Array.Resize(ref samples, count);
        return new AudioClip(samples, SampleRate, Source);
    }

    private static async Task Pump(Stream pipe, ChannelWriter<float[]> writer, int chunkSamples, CancellationToken token)
    {
        var bytes = new byte[checked(chunkSamples * sizeof(float))];
        int filled = 0;
        while (true)
        {
            int n = await pipe.ReadAsync(bytes.AsMemory(filled), token).ConfigureAwait(false);
            if (n == 0)
                break;
            filled += n;
            if (filled == bytes.Length)
            {
                await writer.WriteAsync(ToSamples(bytes, filled), token).ConfigureAwait(false);
                filled = 0;
            }
        }
        if (filled >= sizeof(float))
            await writer.WriteAsync(ToSamples(bytes, filled - filled % sizeof(float)), token).ConfigureAwait(false);
    }

    // f32le: little-endian IEEE floats, as every platform .NET runs on stores them.
    private static float[] ToSamples(byte[] bytes, int count) => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(0, count)).ToArray();

    // ffmpeg writes f32le to its stdout, which is read here to its end. FFMpegCore's pipe sinks are not used: FFMpegCore
    // cancels the wait for ffmpeg's connection as soon as ffmpeg exits, so a short track that fits in the socket's buffer was
    // lost whole whenever ffmpeg finished before the wait began (26 of 300 reads of a 20 ms WAV under load).
    private async Task RunFfmpegAsync(ChannelWriter<float[]> writer, CancellationToken stop)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var start = new ProcessStartInfo(Path.Combine(_ffmpeg.BinaryFolder, OperatingSystem.IsWindows() ? "ffmpeg.exe" : "ffmpeg"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A full path never starts with '-', so ffmpeg cannot take the input for an option.
        string[] arguments = ["-nostdin", "-hide_banner", "-loglevel", "error", "-i", Path.GetFullPath(Source),
            "-map", string.Create(culture, $"0:a:{_track}"), "-vn", "-sn", "-dn", "-ac", "1",
            "-ar", SampleRate.ToString(culture), "-c:a", "pcm_f32le"];
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        if (Options.MaxSeconds is { } max)
        {
            start.ArgumentList.Add("-t");
            start.ArgumentList.Add(max.ToString("0.######", culture));
        }
        foreach (var argument in new[] { "-f", "f32le", "pipe:1" })
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw NativeLibraryException.Ffmpeg("ffmpeg", $"{start.FileName} cannot be started: {ex.Message}", Source, ex);
        }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await Pump(process.StandardOutput.BaseStream, writer, Options.ChunkSamples, stop).ConfigureAwait(false);
                await process.WaitForExitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It had exited already.
                }
                throw;
            }
            string stderr = await errors.ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new AudioDecodeException(
                    $"ffmpeg could not decode audio track {_track} ({SourceCodec}): " +
                    FirstError(stderr.Split('\n'), $"exit code {process.ExitCode}"), Source);
        }
    }

    private static string FirstError(IReadOnlyList<string> errors, string fallback) =>
        errors.Select(e => e.Trim()).FirstOrDefault(e => e.Length > 0) ?? fallback;

    private static void Validate(AudioReadOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SampleRate, "options.SampleRate");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ChunkSamples, "options.ChunkSamples");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.ChunkSamples, 1 << 26, "options.ChunkSamples");
        ArgumentOutOfRangeException.ThrowIfNegative(options.AudioTrack, "options.AudioTrack");
        if (options.MaxSeconds is { } max && !(max > 0 && double.IsFinite(max)))
            throw new ArgumentOutOfRangeException("options.MaxSeconds", max, "must be a positive number of seconds, or null for all");
    }

    /// <summary>
    /// FFMpegCore's options for the folder holding ffmpeg and ffprobe: <paramref name="folder"/>, else the PATH folder where
    /// both are. FFMpegCore itself would fall back to a bare program name and fail later with a less useful error.
    /// </summary>
    internal static FFOptions FfmpegOptions(string? folder, string? path)
    {
        string exe = OperatingSystem.IsWindows() ? ".exe" : "";
        if (folder is not null)
        {
            foreach (var program in new[] { "ffprobe", "ffmpeg" })
                if (!File.Exists(Path.Combine(folder, program + exe)))
                    throw NativeLibraryException.Ffmpeg(program, $"not in AudioReadOptions.FfmpegFolder {folder}", path);
            return new FFOptions { BinaryFolder = folder };
        }
        string? Find(string program) => (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, program + exe)));
        string? probeDir = Find("ffprobe"), ffmpegDir = Find("ffmpeg");
        if (probeDir is null || ffmpegDir is null)
            throw NativeLibraryException.Ffmpeg(probeDir is null ? "ffprobe" : "ffmpeg", "not on PATH", path);
        // Both are found in the first folder FFMpegCore looks in when they share one, as apt's do (/usr/bin).
        return new FFOptions { BinaryFolder = probeDir == ffmpegDir ? probeDir : ffmpegDir };
    }
}
