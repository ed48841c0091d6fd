using System.Collections.Concurrent;
using LipNet.ML.Corpora;
using LipNet.ML.Mouth;
using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Synthesis;

/// <summary>One rendered synthetic clip: frames, labels and the ground truth behind them.</summary>
public sealed record SyntheticClip(
    string Id, string Speaker, string Sentence, VideoFrames Frames, IReadOnlyList<WordTiming> Words,
    SpeechTimeline Timeline, MouthShape[] Mouth, MouthBox[] MouthBoxes);

/// <summary>Container formats <c>lipnet synth</c> writes.</summary>
/// <remarks>Which encoders exist depends on the OpenCV build; a missing one is a <see cref="VideoDecodeException"/> when writing.</remarks>
public enum SyntheticVideoFormat
{
    /// <summary>Motion JPEG (fourcc MJPG, quality 90) in an <c>.avi</c> file: every frame coded on its own; the default.</summary>
    Avi,
    /// <summary>MPEG-4 Part 2 (fourcc mp4v) in an <c>.mp4</c> file.</summary>
    Mp4,
    /// <summary>MPEG-1 video (fourcc PIM1) in an <c>.mpg</c> file, like GRID's own videos.</summary>
    Mpg,
}

/// <summary>Settings of a synthetic corpus. Everything is deterministic in <see cref="Seed"/>.</summary>
public sealed record SyntheticCorpusOptions
{
    /// <summary>Number of speakers, named s1, s2 ... (<see cref="SyntheticCorpus.SpeakerName"/>); at least 1 (default 2).</summary>
    public int Speakers { get; init; } = 2;

    /// <summary>Clips per speaker, each a distinct GRID sentence; at least 1 (default 5).</summary>
    public int ClipsPerSpeaker { get; init; } = 5;

    /// <summary>Seed of everything random: speaker looks, sentences, timing jitter, head motion, lighting, noise (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>Frame width in pixels, 64..4096 (default 360, GRID's).</summary>
    public int Width { get; init; } = 360;

    /// <summary>Frame height in pixels, 64..4096 (default 288, GRID's).</summary>
    public int Height { get; init; } = 288;

    /// <summary>Frames per clip, or per sentence of a monologue (default 75: GRID's 3 s at 25 fps).</summary>
    public int FrameCount { get; init; } = 75;

    /// <summary>Frame rate in Hz (default 25, GRID's); the speech is planned in <see cref="FrameCount"/> / Fps seconds.</summary>
    public double Fps { get; init; } = 25;

    /// <summary>Container and codec of the written videos (default <see cref="SyntheticVideoFormat.Avi"/>).</summary>
    public SyntheticVideoFormat Format { get; init; } = SyntheticVideoFormat.Avi;
    /// <summary>
    /// GRID sentences per clip (default 1). More makes long clips — monologues: one speaker saying the sentences one after
    /// another, each in its own 3 s span (silence of 0.65–1.3 s between them), with word-level align files — so long input
    /// has exact truth. Frames are rendered and encoded one at a time, so any length fits in memory.
    /// </summary>
    public int SentencesPerClip { get; init; } = 1;

    /// <summary>
    /// Seconds before each sentence's first phoneme at which the mouth leaves its rest pose; null (the default) keeps the
    /// renderer's two conventions: a single clip's mouth moves from rest from the clip's first frame towards the first
    /// phoneme (every synthetic corpus and model of this project so far), a monologue's mouth rests until 0.15 s before each
    /// sentence (lips lead the voice by about that much). A value applies to both; it must be positive. One longer than a
    /// sentence's lead silence (e.g. 3 s) moves the mouth from the sentence's first frame: a monologue rendered as single clips are.
    /// </summary>
    public double? MouthOnsetSeconds { get; init; }

    /// <summary>Clips rendered at once (default: one per core).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>What a corpus write did.</summary>
public sealed record SyntheticCorpusReport(int Written, int Skipped, IReadOnlyList<CorpusProblem> Failed);

/// <summary>
/// GRID-style synthetic talking-mouth clips: GRID sentences spoken by seeded synthetic speakers, written
/// in GRID's layout (<c>video/sNN/ID.ext</c> + <c>align/sNN/ID.align</c>) or rendered straight to frames.
/// </summary>
public static class SyntheticCorpus
{
    /// <summary>Most clips one corpus may hold (speakers x clips per speaker): a million 3 s clips.</summary>
    public const int MaxClips = 1_000_000;

    /// <summary>Most sentences one monologue may hold: 12,000, ten hours at 3 s a sentence.</summary>
    public const int MaxSentencesPerClip = 12_000;

    /// <summary>Speaker folder name of speaker index i (s1, s2 ...), as in GRID.</summary>
    public static string SpeakerName(int index) => $"s{index + 1}";

    /// <summary>The sentences speaker <paramref name="speaker"/> says in clips 0..count-1 (distinct GRID ids).</summary>
    public static IReadOnlyList<string> Sentences(int speaker, int count, int seed)
    {
        var random = new Random(StableSeed.Combine(seed, speaker, 0x5e7));
        var used = new HashSet<string>();
        var sentences = new List<string>(count);
        int tries = 0;
        while (sentences.Count < count)
        {
            var words = GridGrammar.Slots.Select(slot => slot[random.Next(slot.Count)]).ToArray();
            var sentence = string.Join(' ', words);
            if (used.Add(GridGrammar.IdFromSentence(sentence)) || ++tries > 100_000)
                sentences.Add(sentence);
        }
        return sentences;
    }

    /// <summary>Renders one clip in memory (no codec): BGR frames plus timings and the true mouth boxes.</summary>
    /// <param name="speaker">Who speaks (looks, rate, articulation).</param>
    /// <param name="sentence">A GRID sentence.</param>
    /// <param name="clipSeed">Seed of the clip's timing jitter, head motion, lighting and noise.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="frameCount">Frames of the clip.</param>
    /// <param name="fps">Frame rate in Hz.</param>
    /// <param name="mouthOnsetSeconds">
    /// Null: the mouth moves from rest from the first frame; else it rests until this long before the first phoneme
    /// (<see cref="SyntheticCorpusOptions.MouthOnsetSeconds"/>).
    /// </param>
    public static SyntheticClip Render(SpeakerIdentity speaker, string sentence, int clipSeed, int width = 360, int height = 288, int frameCount = 75,
        double fps = 25, double? mouthOnsetSeconds = null)
    {
        var random = new Random(clipSeed);
        var timeline = SpeechTimeline.Plan(sentence, speaker, random, frameCount / fps);
        var mouth = timeline.MouthTrack(frameCount, fps, speaker.Articulation, mouthOnsetSeconds);
        var conditions = ClipConditions.Draw(random);
        using var renderer = new FaceRenderer(speaker, width, height);
        int frameBytes = width * height * 3;
        var pixels = new byte[(long)frameBytes * frameCount];
        var boxes = new MouthBox[frameCount];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                for (int t = 0; t < frameCount; t++)
                {
                    using var frame = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frameBytes));
                    boxes[t] = renderer.Render(mouth[t], t, frameCount, conditions, frame);
                }
            }
        }
        string id = GridGrammar.IdFromSentence(sentence);
        var frames = new VideoFrames(pixels, frameCount, width, height, fps, PixelOrder.Bgr, $"synthetic {speaker.Name}/{id}");
        return new SyntheticClip(id, speaker.Name, sentence, frames, timeline.Words, timeline, mouth, boxes);
    }

    /// <summary>Renders clip <paramref name="clip"/> of speaker index <paramref name="speaker"/> exactly as <see cref="Write"/> would.</summary>
    public static SyntheticClip Render(SyntheticCorpusOptions options, int speaker, int clip)
    {
        var identity = SpeakerIdentity.Create(SpeakerName(speaker), options.Seed);
        var sentence = Sentences(speaker, Math.Max(options.ClipsPerSpeaker, clip + 1), options.Seed)[clip];
        return Render(identity, sentence, StableSeed.Combine(options.Seed, speaker, clip), options.Width, options.Height, options.FrameCount, options.Fps,
            options.MouthOnsetSeconds);
    }

    /// <summary>Mouth crops of a rendered clip taken at the true mouth boxes (the fast in-memory training path).</summary>
    public static VideoFrames MouthCrops(SyntheticClip clip, MouthCropOptions? crop = null) =>
        new MouthCropper(new FixedRegionMouthLocator(), crop).CropBoxes(clip.Frames, clip.MouthBoxes);

    /// <summary>
    /// Writes the corpus in GRID layout under <paramref name="root"/>, clips in parallel. Resumable: a clip
    /// whose video opens and whose align parses is skipped; files are written under a temporary name and
    /// renamed, so an interrupted run leaves no half-written clip behind.
    /// </summary>
    /// <param name="root">The corpus root (created if missing).</param>
    /// <param name="options">Speakers, clips, seed, size, format, sentences per clip, mouth onset.</param>
    /// <param name="clipDone">Called after each clip (written, skipped or failed), from the rendering threads.</param>
    /// <returns>Clips written, skipped as complete, and failed with the reason.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// No speaker or clip, more than <see cref="MaxClips"/> clips or <see cref="MaxSentencesPerClip"/> sentences a clip, a frame
    /// side outside 64..4096 pixels, or a mouth onset that is not a positive number of seconds.
    /// </exception>
    public static SyntheticCorpusReport Write(string root, SyntheticCorpusOptions options, Action? clipDone = null)
    {
        if (options.Speakers < 1 || options.ClipsPerSpeaker < 1 || (long)options.Speakers * options.ClipsPerSpeaker > MaxClips)
            throw new ArgumentOutOfRangeException(nameof(options), $"need 1 to {MaxClips:N0} clips: at least one speaker and one clip per speaker");
        if (options.SentencesPerClip > MaxSentencesPerClip)
            throw new ArgumentOutOfRangeException(nameof(options), options.SentencesPerClip, $"SentencesPerClip must be at most {MaxSentencesPerClip:N0}");
        if (options.Width is < 64 or > 4096 || options.Height is < 64 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(options), $"frame size {options.Width}x{options.Height} outside 64..4096 pixels a side");
        if (options.MouthOnsetSeconds is { } onset && !(onset > 0 && double.IsFinite(onset)))
            throw new ArgumentOutOfRangeException(nameof(options), onset, "MouthOnsetSeconds must be a positive number of seconds, or null");
        Directory.CreateDirectory(root);
        var jobs = Enumerable.Range(0, options.Speakers).SelectMany(s => Enumerable.Range(0, options.ClipsPerSpeaker).Select(c => (Speaker: s, Clip: c))).ToList();
        int perClip = Math.Max(1, options.SentencesPerClip);
        var sentences = Enumerable.Range(0, options.Speakers).Select(s => Sentences(s, options.ClipsPerSpeaker * perClip, options.Seed)).ToArray();
        int written = 0, skipped = 0;
        var failed = new ConcurrentBag<CorpusProblem>();
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism) }, job =>
        {
            string speaker = SpeakerName(job.Speaker);
            string id = perClip == 1 ? GridGrammar.IdFromSentence(sentences[job.Speaker][job.Clip]) : $"monologue{job.Clip:D3}";
            string ext = options.Format switch { SyntheticVideoFormat.Mp4 => ".mp4", SyntheticVideoFormat.Mpg => ".mpg", _ => ".avi" };
            string video = Path.Combine(root, "video", speaker, id + ext);
            string align = Path.Combine(root, "align", speaker, id + ".align");
            try
            {
                if (IsComplete(video, align))
                {
                    Interlocked.Increment(ref skipped);
                }
                else if (perClip > 1)
                {
                    var identity = SpeakerIdentity.Create(speaker, options.Seed);
                    var said = sentences[job.Speaker].Skip(job.Clip * perClip).Take(perClip).ToList();
                    var words = WriteMonologue(video, identity, said, StableSeed.Combine(options.Seed, job.Speaker, job.Clip), options);
                    Directory.CreateDirectory(Path.GetDirectoryName(align)!);
                    string tmp = align + ".tmp";
                    File.WriteAllText(tmp, GridAlign.Format(words, said.Count * options.FrameCount / options.Fps));
                    File.Move(tmp, align, overwrite: true);
                    Interlocked.Increment(ref written);
                }
                else
                {
                    var clip = Render(options, job.Speaker, job.Clip);
                    WriteVideo(clip.Frames, video, options.Format);
                    Directory.CreateDirectory(Path.GetDirectoryName(align)!);
                    string tmp = align + ".tmp";
                    File.WriteAllText(tmp, GridAlign.Format(clip.Words, clip.Timeline.Seconds));
                    File.Move(tmp, align, overwrite: true);
                    Interlocked.Increment(ref written);
                }
            }
            catch (LipNetException ex)
            {
                failed.Add(new CorpusProblem(ex.FilePath ?? video, ex.Reason));
            }
            clipDone?.Invoke();
        });
        return new SyntheticCorpusReport(written, skipped, failed.OrderBy(p => p.Path, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Renders and encodes a monologue: <paramref name="sentences"/> said one after another by one speaker under one set of
    /// conditions (the head drifts slowly over the whole clip), each sentence planned in its own
    /// <see cref="SyntheticCorpusOptions.FrameCount"/>-frame span; frames are encoded as they are drawn.
    /// </summary>
    /// <returns>Every word with its start and end in seconds from the clip's start.</returns>
    /// <exception cref="VideoDecodeException">No encoder for the format.</exception>
    public static IReadOnlyList<WordTiming> WriteMonologue(string path, SpeakerIdentity speaker, IReadOnlyList<string> sentences, int seed, SyntheticCorpusOptions options)
    {
        var random = new Random(seed);
        var conditions = ClipConditions.Draw(random);
        int span = options.FrameCount, total = span * sentences.Count;
        double seconds = span / options.Fps;
        var words = new List<WordTiming>();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ".tmp-" + Path.GetFileName(path));
        using (var writer = OpenWriter(tmp, path, options.Format, options.Fps, options.Width, options.Height))
        using (var renderer = new FaceRenderer(speaker, options.Width, options.Height))
        using (var frame = new Mat(options.Height, options.Width, MatType.CV_8UC3))
        {
            for (int k = 0; k < sentences.Count; k++)
            {
                var timeline = SpeechTimeline.Plan(sentences[k], speaker, random, seconds);
                words.AddRange(timeline.Words.Select(w => new WordTiming(w.Word, Math.Round(w.Start + k * seconds, 4), Math.Round(w.End + k * seconds, 4))));
                // Between sentences the mouth rests until just before the next one (0.15 s: lips lead the voice).
                var mouth = timeline.MouthTrack(span, options.Fps, speaker.Articulation, onsetSeconds: options.MouthOnsetSeconds ?? 0.15);
                for (int t = 0; t < span; t++)
                {
                    renderer.Render(mouth[t], k * span + t, total, conditions, frame);
                    writer.Write(frame);
                }
            }
        }
        File.Move(tmp, path, overwrite: true);
        return words;
    }

    private static VideoWriter OpenWriter(string tmp, string path, SyntheticVideoFormat format, double fps, int width, int height)
    {
        FourCC fourcc = format switch { SyntheticVideoFormat.Mp4 => FourCC.FromString("mp4v"), SyntheticVideoFormat.Mpg => FourCC.FromString("PIM1"), _ => FourCC.FromString("MJPG") };
        var writer = new VideoWriter(tmp, fourcc, fps, new Size(width, height));
        if (!writer.IsOpened())
        {
            writer.Dispose();
            throw new VideoDecodeException($"no encoder for {format} in this OpenCV build", path);
        }
        if (format == SyntheticVideoFormat.Avi)
            writer.Set(VideoWriterProperties.Quality, 90);
        return writer;
    }

    private static bool IsComplete(string video, string align)
    {
        if (!File.Exists(video) || !File.Exists(align))
            return false;
        try
        {
            GridAlign.Load(align);
            using var reader = VideoReader.Open(video);
            return reader.ReportedFrameCount > 0 || reader.ReadFrame(new byte[reader.FrameByteCount]);
        }
        catch (LipNetException)
        {
            return false;
        }
    }

    /// <summary>Encodes frames as MJPG .avi, mp4v .mp4 or MPEG-1 .mpg, via a temporary file renamed when complete.</summary>
    public static unsafe void WriteVideo(VideoFrames frames, string path, SyntheticVideoFormat format)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ".tmp-" + Path.GetFileName(path));
        using (var writer = OpenWriter(tmp, path, format, frames.Fps, frames.Width, frames.Height))
        {
            using var bgr = new Mat();
            fixed (byte* p = frames.Pixels)
            {
                for (int t = 0; t < frames.FrameCount; t++)
                {
                    using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                    if (frames.Order == PixelOrder.Rgb)
                    {
                        Cv2.CvtColor(frame, bgr, ColorConversionCodes.RGB2BGR);
                        writer.Write(bgr);
                    }
                    else
                    {
                        writer.Write(frame);
                    }
                }
            }
        }
        File.Move(tmp, path, overwrite: true);
    }
}
