using LipNet.ML.Audio;
using NWaves.Transforms;
using Xunit.Abstractions;

namespace LipNet.ML.Tests;

/// <summary>Clips made once for <see cref="AudioTests"/> with the system ffmpeg: a 1 kHz tone in each container the library reads.</summary>
public sealed class AudioTestClips : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>3 s of 64x48 test pattern at 25 fps with a 1 kHz stereo tone (44.1 kHz; 48 kHz for Opus), by container.</summary>
    public Dictionary<string, string> Tones { get; } = [];

    /// <summary>The same video muxed without audio (<c>-an</c>).</summary>
    public string Silent { get; }

    public AudioTestClips()
    {
        string Make(string name, string[] video, string[] audio, int rate = 44100)
        {
            var path = _dir.File(name);
            FrameRateTests.Ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=3",
                "-f", "lavfi", "-i", $"sine=frequency=1000:sample_rate={rate}:duration=3",
                .. video, .. audio, "-ac", "2", "-shortest", path]);
            return path;
        }
        string[] h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
        Tones["mp4/aac"] = Make("tone.mp4", h264, ["-c:a", "aac"]);
        Tones["mpg/mp2"] = Make("tone.mpg", ["-c:v", "mpeg1video"], ["-c:a", "mp2"]);
        Tones["mov/aac"] = Make("tone.mov", h264, ["-c:a", "aac"]);
        Tones["mkv/vorbis"] = Make("tone.mkv", h264, ["-c:a", "libvorbis"]);
        Tones["webm/opus"] = Make("tone.webm", ["-c:v", "libvpx", "-b:v", "200k"], ["-c:a", "libopus"], rate: 48000);
        Silent = _dir.File("silent.mp4");
        FrameRateTests.Ffmpeg("-i", Tones["mp4/aac"], "-c:v", "copy", "-an", Silent);
    }

    public string File(string name) => _dir.File(name);

    public void Dispose() => _dir.Dispose();
}

/// <summary>Audio I/O: ffmpeg through FFMpegCore, WAV through NWaves.</summary>
public class AudioTests(AudioTestClips clips, ITestOutputHelper output) : IClassFixture<AudioTestClips>
{
    public static TheoryData<string> Containers => ["mp4/aac", "mpg/mp2", "mov/aac", "mkv/vorbis", "webm/opus"];

    /// <summary>The frequency (Hz) of the largest bin of an n-point spectrum of the samples from 0.5 s on (32768: bins of 0.49 Hz at 16 kHz).</summary>
    private static double DominantFrequency(AudioClip clip, int n = 32768)
    {
        var block = clip.Samples.AsSpan(clip.SampleRate / 2, n).ToArray();
        var magnitude = new float[n / 2 + 1];
        new RealFft(n).MagnitudeSpectrum(block, magnitude);
        int peak = 1;
        for (int k = 1; k < magnitude.Length; k++)
            if (magnitude[k] > magnitude[peak])
                peak = k;
        return peak * (double)clip.SampleRate / n;
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void ReadsTheToneOfEachContainerAsMono16kHz(string container)
    {
        var path = clips.Tones[container];
        var reader = AudioReader.Open(path);
        Assert.True(reader.HasVideo);
        Assert.Equal(2, reader.SourceChannels);
        Assert.Equal(container == "webm/opus" ? 48000 : 44100, reader.SourceSampleRate);
        Assert.Equal(25, reader.VideoFrameRate!.Value, 3);
        Assert.InRange(reader.DurationSeconds, 2.95, 3.06);

        var clip = reader.ReadAll();
        Assert.Equal(16000, clip.SampleRate);
        Assert.Equal(path, clip.Source);
        Assert.InRange(clip.DurationSeconds, 2.95, 3.06);
        Assert.InRange(Math.Abs(DominantFrequency(clip) - 1000), 0, 1);
        // lavfi's sine has amplitude 1/8; the downmix of two equal channels keeps it.
        float peak = clip.Samples.AsSpan(8000, 16000).ToArray().Max(Math.Abs);
        Assert.InRange(peak, 0.10f, 0.15f);
        output.WriteLine($"{container}: {reader.SourceCodec}, {clip.SampleCount} samples, {clip.DurationSeconds:0.000} s");
    }

    [Fact]
    public void StreamedChunksAreTheWholeRead()
    {
        var reader = AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { ChunkSamples = 4000 });
        var whole = reader.ReadAll().Samples;
        var chunks = reader.ReadChunks().ToList();
        Assert.True(chunks.Count >= 12, $"{chunks.Count} chunks");
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(4000, c.Length));
        Assert.InRange(chunks[^1].Length, 1, 4000);
        Assert.Equal(whole, chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public async Task AsyncChunksAreTheWholeReadAndCancellationStopsThem()
    {
        var reader = AudioReader.Open(clips.Tones["mpg/mp2"], new AudioReadOptions { ChunkSamples = 3000, SampleRate = 8000 });
        var whole = (await AudioReader.ReadAsync(clips.Tones["mpg/mp2"], reader.Options)).Samples;
        var streamed = new List<float>();
        await foreach (var chunk in reader.ReadChunksAsync())
            streamed.AddRange(chunk);
        Assert.Equal(whole, streamed);
        Assert.InRange(whole.Length, 8000 * 2.95, 8000 * 3.06);

        // Leaving the loop early stops ffmpeg and returns; a cancelled token throws.
        await foreach (var chunk in reader.ReadChunksAsync())
        {
            Assert.Equal(3000, chunk.Length);
            break;
        }
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadAllAsync(cancelled.Token));
    }

    [Fact]
    public void MaxSecondsAndAnotherRateAreHonoured()
    {
        var clip = AudioReader.Read(clips.Tones["mkv/vorbis"], new AudioReadOptions { SampleRate = 22050, MaxSeconds = 1.5 });
        Assert.Equal(22050, clip.SampleRate);
        Assert.InRange(clip.SampleCount, 22050 * 1.495, 22050 * 1.505); // -t cuts at the decoder's frame granularity
        Assert.InRange(Math.Abs(DominantFrequency(clip, 16384) - 1000), 0, 1.5);
    }

    [Fact]
    public void WavRoundTripsIn16BitPcmAndFloat()
    {
        var random = new Random(7);
        var samples = Enumerable.Range(0, 16000).Select(i => (float)(0.5 * Math.Sin(i * 0.05) + 0.1 * (random.NextDouble() - 0.5))).ToArray();
        samples[10] = 1.5f;   // clipped in 16-bit, kept in float
        samples[11] = -1.0f;
        var clip = new AudioClip(samples, 16000, "<generated>");

        var pcm = clips.File("roundtrip16.wav");
        clip.WriteWav(pcm);
        var header = File.ReadAllBytes(pcm).AsSpan(0, 44).ToArray();
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(header, 0, 4));
        Assert.Equal(1, BitConverter.ToInt16(header, 20));   // PCM
        Assert.Equal(16, BitConverter.ToInt16(header, 34));  // bits
        Assert.Equal(44 + 2 * 16000, new FileInfo(pcm).Length);
        var back = AudioReader.Read(pcm, new AudioReadOptions { Resample = false });
        Assert.Equal(16000, back.SampleCount);
        for (int i = 0; i < samples.Length; i++)
            Assert.True(Math.Abs(Math.Clamp(samples[i], -1f, 32767f / 32768) - back.Samples[i]) <= 1.0 / 32768, $"sample {i}: {samples[i]} read back as {back.Samples[i]}");

        var wavFloat = clips.File("roundtrip32.wav");
        WavFile.Write(wavFloat, clip, WavSampleFormat.Float32);
        var floatHeader = File.ReadAllBytes(wavFloat);
        // ffmpeg writes samples wider than 16 bits as WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose sub-format is IEEE float (3).
        Assert.Equal(0xFFFE, BitConverter.ToUInt16(floatHeader, 20));
        Assert.Equal(32, BitConverter.ToInt16(floatHeader, 34));
        Assert.Equal(3, BitConverter.ToInt16(floatHeader, 44));
        Assert.Equal(samples, AudioReader.Read(wavFloat, new AudioReadOptions { Resample = false }).Samples);
    }

    [Fact]
    public void AVideoWithoutAudioIsATypedErrorNamingTheFile()
    {
        var ex = Assert.Throws<NoAudioTrackException>(() => AudioReader.Open(clips.Silent));
        Assert.Equal(clips.Silent, ex.FilePath);
        Assert.Contains(clips.Silent, ex.Message);
        Assert.Contains("no audio track", ex.Message);
        Assert.IsAssignableFrom<AudioDecodeException>(ex);
        Assert.IsAssignableFrom<LipNetException>(ex);
    }

    [Fact]
    public void MissingEmptyCorruptFilesAndMissingTracksAreTypedErrors()
    {
        var missing = clips.File("nowhere.mp4");
        var ex = Assert.Throws<AudioDecodeException>(() => AudioReader.Read(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains("not found", ex.Message);

        var empty = clips.File("empty.wav");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<AudioDecodeException>(() => AudioReader.Open(empty)).Message);

        var corrupt = clips.File("corrupt.mp4");
        var bytes = new byte[50_000];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(corrupt, bytes);
        ex = Assert.ThrowsAny<AudioDecodeException>(() => AudioReader.Read(corrupt));
        Assert.Equal(corrupt, ex.FilePath);
        output.WriteLine(ex.Message);

        ex = Assert.Throws<AudioDecodeException>(() => AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { AudioTrack = 1 }));
        Assert.Contains("1 audio track(s)", ex.Message);
    }

    [Fact]
    public void SampleRateMismatchesAreTypedErrors()
    {
        // The caller requires 16 kHz and turns resampling off: a 44.1 kHz source is refused.
        var ex = Assert.Throws<SampleRateMismatchException>(() => AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { Resample = false }));
        Assert.Equal((16000, 44100), (ex.ExpectedHz, ex.ActualHz));
        Assert.Contains(clips.Tones["mp4/aac"], ex.Message);

    }

    [Fact]
    public void MissingFfmpegIsATypedErrorSayingToInstallIt()
    {
        var folder = clips.File("no-ffmpeg-here");
        Directory.CreateDirectory(folder);
        var ex = Assert.Throws<NativeLibraryException>(() => AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { FfmpegFolder = folder }));
        Assert.Contains("apt-get install ffmpeg", ex.Message);
        Assert.Contains(folder, ex.Message);
    }
}
