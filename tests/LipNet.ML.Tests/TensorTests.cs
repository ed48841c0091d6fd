using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

public class TensorTests
{
    // 3 frames of 2x4, BGR bytes encode (t, y, x, c) so every value is traceable.
    private static readonly VideoFrames Stack = TestVideos.Frames(3, 4, 2, (t, y, x, c) => (byte)(t * 64 + y * 16 + x * 4 + c));

    private static float Expected(int t, int y, int x, int bgrChannel) => (t * 64 + y * 16 + x * 4 + bgrChannel) / 255f;

    [Fact]
    public void DefaultIsRgbCthwScaledToUnitRangeAndPadded()
    {
        var tensor = new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 5 }).Normalize(Stack);
        Assert.Equal([3, 5, 2, 4], tensor.Shape);
        Assert.Equal(3, tensor.Length);
        float At(int c, int t, int y, int x) => tensor.Data[((c * 5 + t) * 2 + y) * 4 + x];
        // Tensor channel 0 is red = BGR byte 2.
        Assert.Equal(Expected(2, 1, 3, 2), At(0, 2, 1, 3), 6);
        Assert.Equal(Expected(1, 0, 2, 0), At(2, 1, 0, 2), 6);
        Assert.Equal(0f, At(1, 4, 1, 1)); // padding
        Assert.All(tensor.Data, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void LayoutsPlaceTheSameValueConsistently()
    {
        foreach (var layout in Enum.GetValues<TensorLayout>())
        {
            var o = new FrameNormalizeOptions { FrameCount = 3, Layout = layout, ChannelOrder = PixelOrder.Bgr };
            var tensor = new FrameNormalizer(o).Normalize(Stack);
            int index = layout switch
            {
                TensorLayout.CTHW => ((1 * 3 + 2) * 2 + 1) * 4 + 3,
                TensorLayout.TCHW => ((2 * 3 + 1) * 2 + 1) * 4 + 3,
                _ => ((2 * 2 + 1) * 4 + 3) * 3 + 1,
            };
            Assert.Equal(Expected(2, 1, 3, 1), tensor.Data[index], 6);
        }
    }

    [Fact]
    public void TrimKeepsTheFirstFramesAndReportsTheLength()
    {
        var tensor = new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 2, ChannelOrder = PixelOrder.Bgr }).Normalize(Stack);
        Assert.Equal(2, tensor.Length);
        Assert.Equal(Expected(1, 0, 0, 0), tensor.Data[1 * 8], 6);
    }

    [Fact]
    public void GrayscaleUsesLumaWeights()
    {
        var tensor = new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 3, Grayscale = true }).Normalize(Stack);
        Assert.Equal([1, 3, 2, 4], tensor.Shape);
        float expected = 0.114f * Expected(1, 1, 1, 0) + 0.587f * Expected(1, 1, 1, 1) + 0.299f * Expected(1, 1, 1, 2);
        Assert.Equal(expected, tensor.Data[(1 * 2 + 1) * 4 + 1], 5);
    }

    [Fact]
    public void MeanAndStdStandardizePerChannel()
    {
        var o = new FrameNormalizeOptions { FrameCount = 3, Mean = [0.5f, 0.4f, 0.3f], Std = [0.2f, 0.25f, 0.5f] };
        var tensor = new FrameNormalizer(o).Normalize(Stack);
        float red = (Expected(0, 1, 2, 2) - 0.5f) / 0.2f;
        float blue = (Expected(0, 1, 2, 0) - 0.3f) / 0.5f;
        Assert.Equal(red, tensor.Data[(0 * 2 + 1) * 4 + 2], 5);
        Assert.Equal(blue, tensor.Data[((2 * 3 + 0) * 2 + 1) * 4 + 2], 5);
    }

    [Fact]
    public void BadOptionsAndDestinationsAreTypedErrors()
    {
        Assert.Throws<TensorShapeException>(() => new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 0 }));
        Assert.Throws<TensorShapeException>(() => new FrameNormalizer(new FrameNormalizeOptions { Mean = [0.5f] }));
        Assert.Throws<TensorShapeException>(() => new FrameNormalizer(new FrameNormalizeOptions { Std = [1, 0, 1] }));
        var normalizer = new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 3 });
        Assert.Throws<TensorShapeException>(() => normalizer.Normalize(Stack, new float[10]));
    }

    [Fact]
    public void NormalizeIntoACallerBufferMatchesTheAllocatingCall()
    {
        var normalizer = new FrameNormalizer(new FrameNormalizeOptions { FrameCount = 4 });
        var buffer = new float[3 * 4 * 2 * 4];
        Array.Fill(buffer, 9f);
        int length = normalizer.Normalize(Stack, buffer);
        Assert.Equal(3, length);
        Assert.Equal(normalizer.Normalize(Stack).Data, buffer);
    }

    [Fact]
    public void AugmentationIsSeededAndFlipMirrorsRows()
    {
        var frames = TestVideos.Frames(40, 4, 2, (t, y, x, c) => (byte)(t * 6 + x));
        var aug = new FrameAugmenter(new FrameAugmentOptions { FlipProbability = 1, FrameJitterProbability = 0 });
        var flipped = aug.Apply(frames, new Random(3));
        Assert.Equal(40, flipped.FrameCount);
        Assert.Equal(frames.Frame(7)[0], flipped.Frame(7)[3 * 3]); // x=0 moved to x=3

        var jitter = new FrameAugmenter(new FrameAugmentOptions { FlipProbability = 0.5, FrameJitterProbability = 0.3 });
        var a = jitter.Apply(frames, new Random(11));
        var b = jitter.Apply(frames, new Random(11));
        Assert.Equal(a.FrameCount, b.FrameCount);
        Assert.Equal(a.Pixels, b.Pixels);
        var order = jitter.JitteredFrameOrder(1000, new Random(5));
        Assert.NotEqual(1000, order.Count);
        Assert.True(order.SequenceEqual(order.Order()), "jitter keeps time order");
    }

    [Fact]
    public void TimeMasksReplaceRunsOfFramesByTheMeanFrame()
    {
        // Frame t holds the value t everywhere: the clip's mean frame is 37 (0..74 averaged, rounded).
        var frames = TestVideos.Frames(75, 4, 2, (t, y, x, c) => (byte)t);
        var masked = new FrameAugmenter(new FrameAugmentOptions { FlipProbability = 0, FrameJitterProbability = 0, MaxTimeMaskFrames = 10 })
            .Apply(frames, new Random(4));
        int changed = 0;
        for (int t = 0; t < 75; t++)
        {
            var frame = masked.Frame(t);
            Assert.True(frame[0] == t || frame.ToArray().All(v => v == 37), $"frame {t} is either itself or the mean frame");
            if (frame[0] != t)
                changed++;
        }
        Assert.InRange(changed, 1, 30); // three masks (75 / 25) of at most 10 frames each
    }

    [Fact]
    public void AProbabilityOutsideZeroToOneIsRefused()
    {
        foreach (double p in new[] { -0.1, 1.5, double.NaN })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new FrameAugmenter(new FrameAugmentOptions { WordSpanProbability = p }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FrameAugmenter(new FrameAugmentOptions { WordSpliceProbability = p }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FrameAugmenter(new FrameAugmentOptions { FlipProbability = p }));
        }
    }

    [Fact]
    public void NoAugmentationIsTheIdentity()
    {
        var frames = TestVideos.Frames(10, 4, 2, (t, y, x, c) => (byte)(t + y + x + c));
        var same = new FrameAugmenter(new FrameAugmentOptions { FlipProbability = 0, FrameJitterProbability = 0 }).Apply(frames, new Random(1));
        Assert.Equal(frames.Pixels, same.Pixels);
    }

    [Fact]
    public void WordSpansCutWordsByTheirTimesAndHoldTheEdgesStill()
    {
        // Frame t holds the value t; at 25 fps "bin" spans frames 10-19, "blue" 20-29, "at" 30-34.
        var frames = TestVideos.Frames(75, 4, 2, (t, y, x, c) => (byte)t);
        Assert.Equal(25, frames.Fps);
        IReadOnlyList<Corpora.WordTiming> words = [new("bin", 0.4, 0.8), new("blue", 0.8, 1.2), new("at", 1.2, 1.4)];
        var spans = new FrameAugmenter(new FrameAugmentOptions { WordSpanProbability = 1 });
        var seen = new HashSet<string>();
        var offsets = new HashSet<int>();
        for (int seed = 0; seed < 60; seed++)
        {
            var (cut, sentence) = spans.WordSpan(frames, "bin blue at", words, 75, new Random(seed));
            Assert.Equal(75, cut.FrameCount);
            seen.Add(sentence);
            var spoken = sentence.Split(' ');
            Assert.InRange(spoken.Length, 1, 2); // one to all but one word
            Assert.Contains(sentence, new[] { "bin", "blue", "at", "bin blue", "blue at" });
            var first = words.First(w => w.Word == spoken[0]);
            var last = words.First(w => w.Word == spoken[^1]);
            int from = (int)(first.Start * 25) - FrameAugmenter.WordSpanMarginFrames;
            int to = (int)Math.Ceiling(last.End * 25) + FrameAugmenter.WordSpanMarginFrames; // exclusive
            var values = Enumerable.Range(0, 75).Select(t => (int)cut.Frame(t)[0]).ToArray();
            int offset = Array.IndexOf(values, from + 1) - 1;
            offsets.Add(offset);
            for (int t = 0; t < 75; t++)
                Assert.Equal(Math.Clamp(from + t - offset, from, to - 1), values[t]); // the span in order, its edges held
            // The same random state, the same span.
            var (again, againSentence) = spans.WordSpan(frames, "bin blue at", words, 75, new Random(seed));
            Assert.Equal(cut.Pixels, again.Pixels);
            Assert.Equal(sentence, againSentence);
        }
        Assert.Equal(5, seen.Count);
        Assert.True(offsets.Count > 10, "spans land at many places in the window");

        // A span longer than the window, or word times past the clip's end: the clip as it is. In a window of 10 frames only
        // "at" fits (5 frames and 2 of margin on each side); "blue" said past the clip's 3 s is never cut.
        IReadOnlyList<Corpora.WordTiming> pastTheEnd = [new("bin", 0.4, 0.8), new("blue", 4.0, 4.4)];
        for (int seed = 0; seed < 30; seed++)
        {
            var small = spans.WordSpan(frames, "bin blue at", words, 10, new Random(seed));
            Assert.True(ReferenceEquals(frames, small.Frames) || small.Sentence == "at", small.Sentence);
            var late = spans.WordSpan(frames, "bin blue", pastTheEnd, 75, new Random(seed));
            Assert.True(ReferenceEquals(frames, late.Frames) || late.Sentence == "bin", late.Sentence);
        }

        // Off, or nothing to cut: the clip as it is.
        var off = new FrameAugmenter(new FrameAugmentOptions()).WordSpan(frames, "bin blue at", words, 75, new Random(1));
        Assert.Same(frames, off.Frames);
        var oneWord = spans.WordSpan(frames, "bin", [words[0]], 75, new Random(1));
        Assert.Same(frames, oneWord.Frames);
        Assert.Equal("bin", oneWord.Sentence);
    }

    [Fact]
    public void ASplicedWordComesFromTheDonorInItsPlaceAndTheClipKeepsItsLength()
    {
        // Clip frames hold t, donor frames 100 + t. "bin blue at": bin 10-19, blue 20-29, at 30-34 (25 fps); the donor's
        // second word "red" spans frames 22-25, so the clip becomes 0-19, 122-125, 30-74 and its last frame held.
        var clip = TestVideos.Frames(75, 4, 2, (t, y, x, c) => (byte)t);
        var donor = TestVideos.Frames(75, 4, 2, (t, y, x, c) => (byte)(100 + t));
        Corpora.WordTiming[] words = [new("bin", 0.4, 0.8), new("blue", 0.8, 1.2), new("at", 1.2, 1.4)];
        Corpora.WordTiming[] donorWords = [new("lay", 0.4, 0.88), new("red", 0.88, 1.04), new("by", 1.04, 1.4)];
        var (spliced, sentence, splicedWords) = FrameAugmenter.SpliceWord(clip, "bin blue at", words, donor, donorWords, 1);
        Assert.Equal("bin red at", sentence);
        // The word times move with the frames (what a word span cut after the splice goes by): "at" is 6 frames earlier.
        Assert.Equal([("bin", 0.4, 0.8), ("red", 0.8, 0.96), ("at", 0.96, 1.16)],
            splicedWords.Select(w => (w.Word, Math.Round(w.Start, 6), Math.Round(w.End, 6))));
        Assert.Equal(75, spliced.FrameCount);
        var expected = Enumerable.Range(0, 20).Concat(Enumerable.Range(122, 4)).Concat(Enumerable.Range(30, 45)).ToList();
        while (expected.Count < 75)
            expected.Add(74);
        Assert.Equal(expected, Enumerable.Range(0, 75).Select(t => (int)spliced.Frame(t)[0]));
        // Sentences of different lengths, another frame size, or a donor word so long that the clip's last word would be cut
        // off: unchanged.
        Assert.Same(clip, FrameAugmenter.SpliceWord(clip, "bin blue at", words, donor, donorWords[..2], 1).Frames);
        var turned = TestVideos.Frames(75, 2, 4, (t, y, x, c) => 0);
        Assert.Same(clip, FrameAugmenter.SpliceWord(clip, "bin blue at", words, turned, donorWords, 1).Frames);
        Corpora.WordTiming[] longWord = [new("lay", 0.0, 0.1), new("red", 0.1, 2.9), new("by", 2.9, 3.0)];
        var (kept, keptSentence, _) = FrameAugmenter.SpliceWord(clip, "bin blue at", words, donor, longWord, 1);
        Assert.Same(clip, kept);
        Assert.Equal("bin blue at", keptSentence);
    }
}
