using LipNet.ML.Audio;
using LipNet.ML.Onnx;
using LipNet.ML.Video;
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

/// <summary>Audio I/O (ffmpeg through FFMpegCore, WAV through NWaves) and speech features (NWaves) aligned to video frames.</summary>
public class AudioTests(AudioTestClips clips, ITestOutputHelper output) : IClassFixture<AudioTestClips>
{
    public static TheoryData<string> Containers => ["mp4/aac", "mpg/mp2", "mov/aac", "mkv/vorbis", "webm/opus"];

    /// <summary>The frequency (Hz) of the largest bin of an n-point spectrum of the samples from 0.5 s on (bins of 0.49 Hz for 32768 at 16 kHz).</summary>
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
            Assert.True(Math.Abs(Math.Clamp(samples[i], -1f, 32767f / 32768) - back.Samples[i]) <= 1.0 / 32768,
                $"sample {i}: {samples[i]} read back as {back.Samples[i]}");

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
        var ex = Assert.Throws<SampleRateMismatchException>(() =>
            AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { Resample = false }));
        Assert.Equal((16000, 44100), (ex.ExpectedHz, ex.ActualHz));
        Assert.Contains(clips.Tones["mp4/aac"], ex.Message);

        // Features configured for 16 kHz refuse an 8 kHz clip.
        var clip = new AudioClip(new float[8000], 8000, "eight.wav");
        var features = Assert.Throws<SampleRateMismatchException>(() => new SpeechFeatureExtractor().Mfcc(clip));
        Assert.Equal((16000, 8000), (features.ExpectedHz, features.ActualHz));
        Assert.Contains("eight.wav", features.Message);
    }

    [Fact]
    public void AudioShorterThanOneVideoFrameIsATypedError()
    {
        // 20 ms of tone, written and read back: half a 25 fps frame.
        var path = clips.File("short.wav");
        new AudioClip(Enumerable.Range(0, 320).Select(i => (float)Math.Sin(i * 0.3)).ToArray(), 16000, "<generated>").WriteWav(path);
        var clip = AudioReader.Read(path);
        Assert.Equal(320, clip.SampleCount);
        var extractor = new SpeechFeatureExtractor();
        var ex = Assert.Throws<AudioTooShortException>(() => extractor.LogMel(clip));
        Assert.Equal((320, 640), (ex.Samples, ex.MinimumSamples));
        Assert.Contains(path, ex.Message);
        Assert.Contains("shorter than one video frame", ex.Message);
        Assert.Throws<AudioTooShortException>(() => extractor.Mfcc(clip, videoFrameCount: 75));
        // One whole frame is enough.
        Assert.Equal(1, extractor.Mfcc(new float[640], 16000).FrameCount);
    }

    [Fact]
    public void ShortTracksReadWholeWhenManyReadsRunAtOnce()
    {
        // ffmpeg decodes a 20 ms track and exits at once. Through FFMpegCore's pipe sink such a track was lost whole whenever
        // ffmpeg finished before the sink had connected (9 of 60 reads here failed so); stdout read to its end loses nothing.
        var path = clips.File("short-many.wav");
        var samples = Enumerable.Range(0, 320).Select(i => (float)Math.Sin(i * 0.3)).ToArray();
        new AudioClip(samples, 16000, "<generated>").WriteWav(path);
        var counts = new int[48];
        Parallel.For(0, counts.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => counts[i] = AudioReader.Read(path).SampleCount);
        Assert.All(counts, n => Assert.Equal(320, n));
    }

    [Fact]
    public void MissingFfmpegIsATypedErrorSayingToInstallIt()
    {
        var folder = clips.File("no-ffmpeg-here");
        Directory.CreateDirectory(folder);
        var ex = Assert.Throws<NativeLibraryException>(() =>
            AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { FfmpegFolder = folder }));
        Assert.Contains("apt-get install ffmpeg", ex.Message);
        Assert.Contains(folder, ex.Message);
    }

    [Fact]
    public void OneFeatureVectorPerVideoFrameOrFour()
    {
        var reader = AudioReader.Open(clips.Tones["mp4/aac"]);
        Assert.Equal(75, reader.VideoFrameCount);
        var clip = reader.ReadAll();
        var mfcc = new SpeechFeatureExtractor().Mfcc(clip, reader.VideoFrameCount);
        Assert.Equal((75, 13, 75, 1), (mfcc.FrameCount, mfcc.FeatureCount, mfcc.VideoFrameCount, mfcc.FeaturesPerVideoFrame));
        Assert.Equal(0.04, mfcc.HopSeconds, 12);
        Assert.Equal(0.025, mfcc.WindowSeconds, 12);
        var logMel = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 }).LogMel(clip, 75);
        Assert.Equal((300, 80, 75), (logMel.FrameCount, logMel.FeatureCount, logMel.VideoFrameCount));
        Assert.Equal(0.01, logMel.HopSeconds, 12);
        Assert.Equal(new[] { 300, 80 }, logMel.AsTensorSpan().Lengths.ToArray().Select(l => (int)l));
        Assert.Equal(logMel[17, 5], logMel.ToArray2D()[17, 5]);
        Assert.Equal(logMel[17, 5], logMel.Row(17)[5]);
        // The 1 kHz band carries the tone: its mel band is the loudest of a frame in the middle.
        var row = logMel.Row(150).ToArray();
        int loudest = Array.IndexOf(row, row.Max());
        var extractor = new SpeechFeatureExtractor();
        int bin1k = (int)Math.Round(1000.0 * extractor.FftSize / 16000);
        Assert.True(extractor.MelFilterBank[loudest][bin1k] > 0.3f, $"loudest band {loudest} does not cover 1 kHz");
        // A frame count longer than the audio pads it with silence; a shorter one trims it.
        Assert.Equal(80, new SpeechFeatureExtractor().Mfcc(clip, 80).FrameCount);
        Assert.Equal(10, new SpeechFeatureExtractor().Mfcc(clip, 10).FrameCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void FeatureFrameTIsCentredOnItsShareOfTheVideoFrame(int perFrame)
    {
        // Silence with a 5 ms burst at the centre of feature frame 121 (k = 4: the second quarter of video frame 30;
        // k = 1: inside video frame 30): the loudest feature frame is the one whose window is centred on the burst.
        var samples = new float[48000];
        int target = perFrame == 1 ? 30 : 121;
        double hop = 16000.0 / (25 * perFrame);
        int centre = (int)((target + 0.5) * hop);
        for (int i = -40; i < 40; i++)
            samples[centre + i] = (float)(0.5 * Math.Sin(2 * Math.PI * 2000 * i / 16000.0));
        var features = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = perFrame, PreEmphasis = 0 })
            .LogMel(samples, 16000);
        Assert.Equal(75 * perFrame, features.FrameCount);
        var energy = Enumerable.Range(0, features.FrameCount).Select(t => features.Row(t).ToArray().Sum()).ToArray();
        Assert.Equal(target, Array.IndexOf(energy, energy.Max()));
        // For one feature per video frame the burst (at 1.22 s) falls only in frame 30's window [1.2075, 1.2325) s.
        if (perFrame == 1)
            Assert.All(energy.Where((_, t) => t != 30), e => Assert.InRange(e, 80 * Math.Log(1e-10) - 0.01, 80 * Math.Log(1e-10) + 0.01));
    }

    /// <remarks>
    /// tests/fixtures/make_audio_features_fixture.py computes the same features in numpy (float64) from the formulas NWaves
    /// uses; NWaves computes in float32. Tolerance: |ours - numpy| &lt;= 2e-3 + 1e-3 |numpy| on every value (log-mel values
    /// span -23 .. 6, MFCCs about -200 .. 60).
    /// </remarks>
    [Theory]
    [InlineData("k1")]
    [InlineData("k4")]
    public void FeaturesMatchTheNumpyReference(string name)
    {
        var tensors = SafeTensors.Load(OnnxGraphTests.Fixture("audio_features_parity.safetensors"), out var metadata);
        var signal = tensors["signal"].Data;
        Assert.Equal(48000, signal.Length);
        var c = System.Text.Json.JsonDocument.Parse(metadata["options_" + name]).RootElement;
        var options = new SpeechFeatureOptions
        {
            SampleRate = 16000,
            FrameRate = 25,
            FeaturesPerVideoFrame = c.GetProperty("per_frame").GetInt32(),
            WindowSeconds = c.GetProperty("window_seconds").GetDouble(),
            MelBands = c.GetProperty("n_mels").GetInt32(),
            MfccCount = c.GetProperty("n_mfcc").GetInt32(),
            MinFrequency = c.GetProperty("fmin").GetDouble(),
            MaxFrequency = c.GetProperty("fmax").GetDouble(),
            PreEmphasis = c.GetProperty("pre_emphasis").GetDouble(),
            LogFloor = (float)c.GetProperty("log_floor").GetDouble(),
            Lifter = c.GetProperty("lifter").GetInt32(),
        };
        var extractor = new SpeechFeatureExtractor(options);
        foreach (var (kind, ours) in new[] { ("mfcc", extractor.Mfcc(signal, 16000)), ("logmel", extractor.LogMel(signal, 16000)) })
        {
            var expected = tensors[$"{kind}_{name}"];
            Assert.Equal(expected.Shape, new long[] { ours.FrameCount, ours.FeatureCount });
            double maxAbs = 0, maxRel = 0;
            for (int i = 0; i < expected.Data.Length; i++)
            {
                double e = expected.Data[i], a = ours.Values[i], diff = Math.Abs(a - e);
                maxAbs = Math.Max(maxAbs, diff);
                if (Math.Abs(e) > 1)
                    maxRel = Math.Max(maxRel, diff / Math.Abs(e));
                Assert.True(diff <= 2e-3 + 1e-3 * Math.Abs(e), $"{kind}_{name}[{i / ours.FeatureCount}, {i % ours.FeatureCount}]: {a} vs {e}");
            }
            output.WriteLine($"{kind}_{name}: max |diff| {maxAbs:e2}, max relative (|ref| > 1) {maxRel:e2}");
        }
    }

    /// <summary>
    /// Away from the clip's edges the windows are NWaves' own frames (from sample 120 every 640 for one feature per video
    /// frame; from 40 every 160 for four): NWaves' MfccExtractor and FilterbankExtractor, run on the signal with the same
    /// filterbank, give the same features to the bit (the sparse filterbank product skips only zero terms).
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(4, 22)]
    public void FramesInsideTheAudioAreNWavesOwnToTheBit(int perFrame, int lifter)
    {
        var random = new Random(5);
        var signal = Enumerable.Range(0, 48000).Select(n => (float)(0.4 * Math.Sin(n * 0.07) + 0.05 * (random.NextDouble() - 0.5))).ToArray();
        var extractor = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = perFrame, Lifter = lifter, MelBands = 40 });
        int hop = 640 / perFrame, first = perFrame == 1 ? 0 : 1, start = (int)((first + 0.5) * hop - 200);
        var nwavesMfcc = new NWaves.FeatureExtractors.MfccExtractor(new NWaves.FeatureExtractors.Options.MfccOptions
        {
            SamplingRate = 16000, FeatureCount = 13, FrameSize = 400, HopSize = hop, FilterBank = extractor.MelFilterBank,
            PreEmphasis = 0.97, LogFloor = 1e-10f, LifterSize = lifter, DctType = "2N",
            NonLinearity = NWaves.FeatureExtractors.Options.NonLinearityType.LogE,
        });
        var nwavesLogMel = new NWaves.FeatureExtractors.FilterbankExtractor(new NWaves.FeatureExtractors.Options.FilterbankOptions
        {
            SamplingRate = 16000, FrameSize = 400, HopSize = hop, FilterBank = extractor.MelFilterBank, PreEmphasis = 0.97,
            LogFloor = 1e-10f, NonLinearity = NWaves.FeatureExtractors.Options.NonLinearityType.LogE,
        });
        // NWaves reads the sample before the next frame after each one: stop a hop short of the end.
        int end = signal.Length - hop;
        foreach (var (ours, theirs) in new[] { (extractor.Mfcc(signal, 16000), nwavesMfcc.ComputeFrom(signal, start, end)),
                     (extractor.LogMel(signal, 16000), nwavesLogMel.ComputeFrom(signal, start, end)) })
        {
            Assert.True(theirs.Count > 70 * perFrame, $"{theirs.Count} NWaves frames");
            for (int t = 0; t < theirs.Count; t++)
                Assert.True(theirs[t].AsSpan().SequenceEqual(ours.Row(first + t)), $"{ours.Kind} frame {first + t} differs from NWaves'");
        }
    }

    [Fact]
    public void OptionsOutOfRangeAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeechFeatureExtractor(new SpeechFeatureOptions { MfccCount = 81 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeechFeatureExtractor(new SpeechFeatureOptions { MaxFrequency = 9000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeechFeatureExtractor(new SpeechFeatureOptions { FftSize = 256 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeechFeatureExtractor().Mfcc(new float[16000], 16000, videoFrameCount: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AudioReader.Open(clips.Tones["mp4/aac"], new AudioReadOptions { ChunkSamples = 0 }));
    }

    [RealDataFact]
    public void GridClipAudioLastsAsLongAsItsVideoAndGivesOneFeatureVectorPerFrame()
    {
        var path = Directory.GetFiles(Path.Combine(RealData.Grid, "video", "s1"), "*.mp4").Order().First();
        var reader = AudioReader.Open(path, new AudioReadOptions { Resample = false });
        Assert.Equal((16000, 1, "aac"), (reader.SourceSampleRate, reader.SourceChannels, reader.SourceCodec));
        var clip = reader.ReadAll();
        int videoFrames = VideoLoader.Load(path).FrameCount;
        Assert.Equal(75, videoFrames);
        Assert.Equal(videoFrames, reader.VideoFrameCount);
        Assert.InRange(clip.DurationSeconds, 2.95, 3.05);
        var mfcc = new SpeechFeatureExtractor().Mfcc(clip, videoFrames);
        Assert.Equal(videoFrames, mfcc.FrameCount);
        Assert.All(mfcc.Values, v => Assert.True(float.IsFinite(v)));
        var logMel = new SpeechFeatureExtractor(new SpeechFeatureOptions { FeaturesPerVideoFrame = 4 }).LogMel(clip, videoFrames);
        Assert.Equal(4 * videoFrames, logMel.FrameCount);
        output.WriteLine($"{Path.GetFileName(path)}: {clip.SampleCount} samples ({clip.DurationSeconds:0.000} s), {videoFrames} video frames");
    }
}
