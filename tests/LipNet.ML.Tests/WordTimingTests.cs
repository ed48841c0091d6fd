using LipNet.ML.Decoding;
using LipNet.ML.Runtime;

namespace LipNet.ML.Tests;

/// <summary>CTC forced alignment (token frames of a hypothesis) and the word times of segments.</summary>
public class WordTimingTests
{
    private static readonly CtcVocabulary Vocabulary = CtcVocabulary.Grid(BlankPosition.Last);

    /// <summary>Log-probabilities [T, V] whose best path is the given per-frame labels (p = 0.9 on the label).</summary>
    private static float[] Peaked(params int[] path)
    {
        int v = Vocabulary.Size;
        var scores = new float[path.Length * v];
        for (int t = 0; t < path.Length; t++)
            for (int k = 0; k < v; k++)
                scores[t * v + k] = MathF.Log(k == path[t] ? 0.9f : 0.1f / (v - 1));
        return scores;
    }

    [Fact]
    public void AlignmentFindsTheFramesEachTokenWasEmittedAt()
    {
        int blank = Vocabulary.BlankId, a = Vocabulary.Encode("a")[0], b = Vocabulary.Encode("b")[0];
        // blank blank a a blank blank b blank a a: tokens a, b, a emitted at frames 2-3, 6, 8-9.
        var scores = Peaked(blank, blank, a, a, blank, blank, b, blank, a, a);
        var spans = CtcAlignment.Align(scores, 10, Vocabulary.Size, blank, [a, b, a]);
        Assert.Equal([(2, 3), (6, 6), (8, 9)], spans!);
        // A repeated token needs a blank between: "aa" fits 3 frames, not 2.
        Assert.Null(CtcAlignment.Align(scores, 2, Vocabulary.Size, blank, [a, a]));
        Assert.NotNull(CtcAlignment.Align(scores, 3, Vocabulary.Size, blank, [a, a]));
        Assert.Empty(CtcAlignment.Align(scores, 10, Vocabulary.Size, blank, [])!);
        Assert.Throws<ArgumentException>(() => CtcAlignment.Align(scores, 10, Vocabulary.Size, blank, [blank]));
        Assert.Throws<ArgumentException>(() => CtcAlignment.Align(scores, 11, Vocabulary.Size, blank, [a]));
    }

    [Fact]
    public void BeamSearchReportsTheAlignedFramesNotWhereAPrefixWasFirstExtended()
    {
        int blank = Vocabulary.BlankId, a = Vocabulary.Encode("a")[0], b = Vocabulary.Encode("b")[0];
        var scores = Peaked(blank, blank, blank, a, blank, blank, blank, b, b, blank);
        // Some mass on b early: the search extends "a" with "b" long before b's emission peaks.
        int v = Vocabulary.Size;
        scores[4 * v + b] = MathF.Log(0.3f);
        var best = new BeamSearchCtcDecoder(Vocabulary, new BeamSearchOptions { BeamWidth = 8 }, inputsAreLogProbs: true).Decode(scores).Best;
        Assert.Equal("ab", best.Text);
        Assert.Equal([3, 7], best.TokenFrames);
    }

    [Fact]
    public void WordsShareTheirStretchInOrderWithoutOverlapInProportionToTheirLength()
    {
        var tokens = Vocabulary.Encode("bin blue at f four please");
        var best = new CtcHypothesis("bin blue at f four please", tokens, new int[tokens.Length], 0, 0);
        var words = WordTimes.Spread(best, Vocabulary, 10, 50, _ => 0.5f);
        Assert.Equal(["bin", "blue", "at", "f", "four", "please"], words.Select(w => w.Word));
        Assert.Equal(10, words[0].Start);
        Assert.Equal(50, words[^1].End);
        for (int i = 0; i < words.Count; i++)
        {
            Assert.True(words[i].End > words[i].Start, $"{words[i].Word} has no time");
            if (i > 0)
                Assert.Equal(words[i - 1].End, words[i].Start);
        }
        // please (6 letters) gets three times what f (counted as 2: a spelled letter is a syllable) gets, within rounding.
        Assert.InRange((words[5].End - words[5].Start) / (double)(words[3].End - words[3].Start), 2.0, 4.0);
        Assert.All(words, w => Assert.Equal(0.5f, w.Confidence));
        // A stretch of fewer frames than words still gives every word its own time inside it, in order, without overlap.
        var squeezed = WordTimes.Spread(best, Vocabulary, 0, 3, _ => 1f);
        Assert.Equal(0, squeezed[0].Start);
        Assert.Equal(3, squeezed[^1].End);
        for (int i = 0; i < squeezed.Count; i++)
        {
            Assert.True(squeezed[i].End > squeezed[i].Start);
            if (i > 0)
                Assert.Equal(squeezed[i - 1].End, squeezed[i].Start);
        }
    }
}

/// <summary>Clips read in one window that hold no speech: a still face, a clip too short for a word.</summary>
public class NoSpeechTests
{
    private static readonly string Clip = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");

    [Fact]
    public async Task AStillFaceAndAOneFrameClipReadAsNoSpeechWhileTheClipItCameFromReadsAsBefore()
    {
        using var dir = new TempDir();
        string still = dir.File("still.mp4"), one = dir.File("one.mp4");
        // The clip's first frame held for 3 s (a photo of the speaker), and that frame alone.
        FrameRateTests.Ffmpeg("-i", Clip, "-vf", "select=eq(n\\,0),loop=loop=74:size=1:start=0,setpts=N/25/TB", "-r", "25", "-c:v", "libx264", "-an", still);
        FrameRateTests.Ffmpeg("-i", Clip, "-frames:v", "1", "-c:v", "libx264", "-an", one);
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        foreach (var path in new[] { still, one })
        {
            var t = reader.Transcribe(path);
            Assert.Equal("", t.Text);
            Assert.Empty(t.Segments);
            Assert.Equal(0, t.Confidence);
        }
        Assert.Equal(75, Video.VideoLoader.Load(still).FrameCount);
        // Streamed (a session reads a stream no longer than one window as a clip): no segment either.
        using (var video = Video.VideoReader.Open(still, new Video.VideoReadOptions { TargetFps = 25 }))
        {
            var segments = new List<TranscriptSegment>();
            await foreach (var segment in reader.TranscribeAsync(video.ReadFramesAsync()))
                segments.Add(segment);
            Assert.Empty(segments);
        }
        var read = reader.Transcribe(Clip);
        Assert.Equal(6, read.Text.Split(' ').Length);
        Assert.Single(read.Segments);
        // The transcript's word list is its segment's words, timed the same way (frames at 25 fps), in order.
        Assert.Equal(read.Segments[0].Words.Select(w => w.Word), read.Words.Select(w => w.Word));
        for (int i = 1; i < read.Words.Count; i++)
            Assert.True(read.Words[i].StartFrame >= read.Words[i - 1].StartFrame, $"{read.Words[i]} before {read.Words[i - 1]}");
        Assert.Equal((int)Math.Round(read.Segments[0].Words[1].Start.TotalSeconds * 25), read.Words[1].StartFrame);
    }

    [Fact]
    public async Task ANoisyOrMovingStillAndASilentStretchReadAsNoSpeech()
    {
        using var dir = new TempDir();
        string noisy = dir.File("noisy.mp4"), zoom = dir.File("zoom.mp4"), silence = dir.File("silence.mp4");
        // A photo as a camera films it (sensor grain changes every frame) and slowly zoomed: the crops change, the lips do not.
        FrameRateTests.Ffmpeg("-i", Clip, "-vf", "select=eq(n\\,0),loop=loop=49:size=1:start=0,setpts=N/25/TB,noise=alls=12:allf=t", "-r", "25",
            "-c:v", "libx264", "-an", noisy);
        FrameRateTests.Ffmpeg("-i", Clip, "-vf", "select=eq(n\\,0),loop=loop=49:size=1:start=0,setpts=N/25/TB,zoompan=z='1+0.002*on':d=1:s=360x288:fps=25",
            "-r", "25", "-c:v", "libx264", "-an", zoom);
        // The clip's last 20 frames: the speaker silent after the sentence.
        FrameRateTests.Ffmpeg("-i", Clip, "-vf", "trim=start_frame=55,setpts=PTS-STARTPTS", "-c:v", "libx264", "-an", silence);
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        foreach (var path in new[] { noisy, zoom, silence })
        {
            var t = reader.Transcribe(path);
            Assert.True(t.Text == "", $"{Path.GetFileName(path)} read as \"{t.Text}\"");
            Assert.Empty(t.Segments);
            using var video = Video.VideoReader.Open(path, new Video.VideoReadOptions { TargetFps = 25 });
            var segments = new List<TranscriptSegment>();
            await foreach (var segment in reader.TranscribeAsync(video.ReadFramesAsync()))
                segments.Add(segment);
            Assert.Empty(segments);
        }
        Assert.False(Video.VideoLoader.Load(noisy).Pixels.AsSpan(0, 1000).SequenceEqual(Video.VideoLoader.Load(noisy).Pixels.AsSpan(360 * 288 * 3, 1000)),
            "the grain changes the frames");
    }
}
