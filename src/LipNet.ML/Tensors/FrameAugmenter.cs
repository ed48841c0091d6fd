using LipNet.ML.Corpora;
using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Tensors;

/// <summary>Training-time augmentation probabilities.</summary>
public sealed record FrameAugmentOptions
{
    /// <summary>Chance of mirroring the whole clip left-right (LipNet: 0.5).</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Chance, per frame, that the frame is dropped or duplicated (half each); simulates speaking-rate jitter.</summary>
    public double FrameJitterProbability { get; init; } = 0.05;

    /// <summary>Largest shift of the whole clip, in crop pixels each way (0 = off); one integer shift per clip, borders repeated.</summary>
    public int MaxShift { get; init; }

    /// <summary>Largest relative zoom about the crop centre (0.08: 0.92x to 1.08x; 0 = off); one per clip.</summary>
    public double MaxScale { get; init; }

    /// <summary>Largest brightness offset in 8-bit levels (0 = off); one per clip.</summary>
    public double MaxBrightness { get; init; }

    /// <summary>Largest relative contrast change about mid-grey (0.15: 0.85x to 1.15x; 0 = off); one per clip.</summary>
    public double MaxContrast { get; init; }

    /// <summary>
    /// Largest length of one time mask, in frames (0 = off). One mask per 25 frames of the clip, each of a uniform length in
    /// 0..this, its frames replaced by the clip's mean frame — auto_avsr's adaptive time masking (Ma et al., 2023: up to
    /// 0.4 s per second of video), which keeps a model from leaning on any single moment.
    /// </summary>
    public int MaxTimeMaskFrames { get; init; }

    /// <summary>
    /// Chance that a training clip is replaced by a span of its words (one to all but one, from its word times, e.g. a GRID
    /// align file) placed at a random position in the model window with its first and last frames held around it (0 = off):
    /// the LipNet paper's individual words as extra training instances (Assael et al., 2016, §4.1), generalised to spans as
    /// rizkiarm/LipNet's curriculum does. The model learns words wherever they sit in the window, as a stream's segments and
    /// short clips place them. CTC training only (the label changes with the frames); clips without word times are left whole.
    /// </summary>
    public double WordSpanProbability { get; init; }

    /// <summary>
    /// Chance that one word of a training clip (its place in the sentence drawn at random) is replaced by the word in the
    /// same place of another clip of the same speaker with as many words, both cut by their word times (0 = off). One
    /// speaker's few hundred sentences let a model recall a whole sentence from a part of it; spliced clips pair each word
    /// with new neighbours. CTC training only; clips without word times are left whole.
    /// </summary>
    public double WordSpliceProbability { get; init; }

    /// <summary>Flip and frame jitter only (LipNet's training augmentation).</summary>
    public static FrameAugmentOptions Default { get; } = new();

    /// <summary>
    /// What real-video training needs on top: small shifts (±4 px) and zoom (±8%) against crop placement error, and
    /// brightness (±20 levels) and contrast (±15%) against lighting — as LipNet implementations' users add.
    /// </summary>
    public static FrameAugmentOptions Full { get; } = new() { MaxShift = 4, MaxScale = 0.08, MaxBrightness = 20, MaxContrast = 0.15 };

    /// <summary><see cref="Full"/> with ±6 px shift, ±12% zoom and time masks of up to 10 frames (0.4 s at 25 fps), against overfitting one speaker.</summary>
    public static FrameAugmentOptions Strong { get; } = Full with { MaxShift = 6, MaxScale = 0.12, MaxTimeMaskFrames = 10 };
}

/// <summary>
/// Seeded training augmentation of frame stacks (usually mouth crops): horizontal flip, frame drop/duplicate
/// jitter and, when enabled, a per-clip shift, zoom, brightness and contrast. Deterministic for a given
/// <see cref="Random"/> state; not thread-safe across a shared <see cref="Random"/>.
/// </summary>
public sealed class FrameAugmenter(FrameAugmentOptions? options = null)
{
    /// <summary>The probabilities and ranges in use (<see cref="FrameAugmentOptions.Default"/> when none were given).</summary>
    /// <exception cref="ArgumentOutOfRangeException">(At construction.) A probability outside 0..1 or not a number.</exception>
    public FrameAugmentOptions Options { get; } = Checked(options ?? FrameAugmentOptions.Default);

    private static FrameAugmentOptions Checked(FrameAugmentOptions o)
    {
        foreach (var (name, p) in new[] { ("FlipProbability", o.FlipProbability), ("FrameJitterProbability", o.FrameJitterProbability),
            ("WordSpanProbability", o.WordSpanProbability), ("WordSpliceProbability", o.WordSpliceProbability) })
            if (!(p >= 0 && p <= 1))
                throw new ArgumentOutOfRangeException(name, p, "a probability is between 0 and 1");
        return o;
    }

    /// <summary>
    /// An augmented copy of <paramref name="frames"/>: flipped with <see cref="FrameAugmentOptions.FlipProbability"/>, frames
    /// dropped or duplicated (<see cref="JitteredFrameOrder"/>), then, where enabled, one shift and zoom, one brightness and
    /// contrast change, and time masks per clip. The input is not modified.
    /// </summary>
    /// <param name="frames">A frame stack, usually mouth crops, [T, H, W, 3] bytes.</param>
    /// <param name="random">The random source; the same state gives the same augmentation.</param>
    /// <returns>
    /// A new stack of the same frame size, channel order and fps; its frame count may differ from T by the jitter (at least one
    /// frame when T &gt; 0).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> or <paramref name="random"/> is null.</exception>
    public VideoFrames Apply(VideoFrames frames, Random random)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(random);
        bool flip = random.NextDouble() < Options.FlipProbability;
        var order = JitteredFrameOrder(frames.FrameCount, random);
        var output = Reorder(frames, order, flip);
        // Drawn only when enabled, so the flip-and-jitter stream of earlier runs is unchanged.
        if (Options.MaxShift > 0 || Options.MaxScale > 0)
            Warp(output, random.Next(-Options.MaxShift, Options.MaxShift + 1), random.Next(-Options.MaxShift, Options.MaxShift + 1),
                1 + (random.NextDouble() * 2 - 1) * Options.MaxScale);
        if (Options.MaxBrightness > 0 || Options.MaxContrast > 0)
            Photometric(output.Pixels.AsSpan(0, output.FrameCount * output.FrameByteCount),
                (random.NextDouble() * 2 - 1) * Options.MaxBrightness, 1 + (random.NextDouble() * 2 - 1) * Options.MaxContrast);
        if (Options.MaxTimeMaskFrames > 0)
            TimeMask(output, Options.MaxTimeMaskFrames, random);
        return output;
    }

    /// <summary>
    /// Frames kept on each side of a word span beyond its words' times (80 ms at 25 fps): the lips move before the voice.
    /// </summary>
    public const int WordSpanMarginFrames = 2;

    /// <summary>
    /// With <see cref="FrameAugmentOptions.WordSpanProbability"/>, a span of the clip's words as an instance of its own: the
    /// span's frames (its words' times, <see cref="WordSpanMarginFrames"/> more on each side) at a random position in a window
    /// of <paramref name="window"/> frames, the span's first frame repeated before it and its last after it, labelled with
    /// the span's words. Otherwise, for a clip with fewer than two timed words, or where the drawn span would not fit the
    /// window or its word times lie past the clip's end, the clip and sentence as they are.
    /// </summary>
    /// <param name="frames">The clip's frames, [T, H, W, 3] bytes, at <see cref="VideoFrames.Fps"/>.</param>
    /// <param name="sentence">The clip's transcript.</param>
    /// <param name="words">The transcript's words with their times in seconds (empty: unknown).</param>
    /// <param name="window">Frames of the model window (e.g. 75).</param>
    /// <param name="random">The random source; the same state gives the same span.</param>
    /// <returns>The frames and sentence to train on.</returns>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="frames"/>, <paramref name="words"/> or <paramref name="random"/> is null.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is not positive.</exception>
    public (VideoFrames Frames, string Sentence) WordSpan(VideoFrames frames, string sentence, IReadOnlyList<WordTiming> words, int window,
        Random random)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        if (Options.WordSpanProbability <= 0 || words.Count < 2 || frames.FrameCount == 0 || !(frames.Fps > 0)
            || random.NextDouble() >= Options.WordSpanProbability)
            return (frames, sentence);
        int count = random.Next(1, words.Count), first = random.Next(0, words.Count - count + 1), last = first + count - 1;
        double start = words[first].Start * frames.Fps, end = words[last].End * frames.Fps;
        // Word times past the clip's end, or a span longer than the window, would label frames that are not there.
        if (end > frames.FrameCount + 0.5 || end - start + 2 * WordSpanMarginFrames > window)
            return (frames, sentence);
        int from = Math.Clamp((int)Math.Floor(start) - WordSpanMarginFrames, 0, frames.FrameCount - 1);
        int to = Math.Clamp((int)Math.Ceiling(end) + WordSpanMarginFrames, from + 1, frames.FrameCount);
        int length = Math.Min(to - from, window), offset = random.Next(0, window - length + 1);
        var order = Enumerable.Range(0, window).Select(t => from + Math.Clamp(t - offset, 0, length - 1)).ToList();
        return (Reorder(frames, order, flip: false), string.Join(' ', words.Skip(first).Take(count).Select(w => w.Word)));
    }

    /// <summary>
    /// Word <paramref name="place"/> of a clip replaced by the word in the same place of a donor clip (see
    /// <see cref="FrameAugmentOptions.WordSpliceProbability"/>): the clip's frames before that word, the donor word's frames,
    /// the clip's frames after it, cut at their word times (rounded to frames), in as many frames as the clip had (its last
    /// frame held when the donor's word is shorter); with the words' times moved to where they now are. Unchanged when the
    /// word lists differ in length, <paramref name="place"/> is outside them, the frame sizes or orders differ, a word time
    /// lies past its clip's end, or the clip's last word would no longer end inside it.
    /// </summary>
    /// <param name="frames">The clip's frames, [T, H, W, 3] bytes.</param>
    /// <param name="sentence">The clip's transcript (returned when nothing is spliced).</param>
    /// <param name="words">The clip's words with their times in seconds.</param>
    /// <param name="donor">The donor clip's frames, of the same frame size and channel order.</param>
    /// <param name="donorWords">The donor's words with their times in seconds.</param>
    /// <param name="place">Which word (0-based).</param>
    /// <returns>The spliced frames, sentence and word times (or the clip's own).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static (VideoFrames Frames, string Sentence, IReadOnlyList<WordTiming> Words) SpliceWord(VideoFrames frames, string sentence,
        IReadOnlyList<WordTiming> words, VideoFrames donor, IReadOnlyList<WordTiming> donorWords, int place)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(sentence);
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(donor);
        ArgumentNullException.ThrowIfNull(donorWords);
        var unchanged = (frames, sentence, words);
        if (words.Count != donorWords.Count || place < 0 || place >= words.Count
            || frames.Width != donor.Width || frames.Height != donor.Height || frames.Order != donor.Order
            || frames.FrameCount == 0 || donor.FrameCount == 0 || !(frames.Fps > 0) || !(donor.Fps > 0)
            || words[^1].End * frames.Fps > frames.FrameCount + 0.5 || donorWords[place].End * donor.Fps > donor.FrameCount + 0.5)
            return unchanged;
        int from = (int)Math.Round(words[place].Start * frames.Fps);
        int to = Math.Max(from + 1, (int)Math.Round(words[place].End * frames.Fps));
        int donorFrom = (int)Math.Round(donorWords[place].Start * donor.Fps);
        int donorTo = Math.Max(donorFrom + 1, (int)Math.Round(donorWords[place].End * donor.Fps));
        int shift = donorTo - donorFrom - (to - from);
        if (Math.Round(words[^1].End * frames.Fps) + shift > frames.FrameCount || to > frames.FrameCount || donorTo > donor.FrameCount)
            return unchanged; // the clip's last word would be cut off
        var order = new List<(VideoFrames Source, int Frame)>(frames.FrameCount + Math.Max(0, shift));
        for (int t = 0; t < from; t++)
            order.Add((frames, t));
        for (int t = donorFrom; t < donorTo; t++)
            order.Add((donor, t));
        for (int t = to; t < frames.FrameCount; t++)
            order.Add((frames, t));
        int bytes = frames.FrameByteCount;
        var pixels = GC.AllocateUninitializedArray<byte>(frames.FrameCount * bytes);
        for (int t = 0; t < frames.FrameCount; t++)
        {
            var (source, frame) = order[Math.Min(t, order.Count - 1)];
            source.Frame(frame).CopyTo(pixels.AsSpan(t * bytes, bytes));
        }
        double fps = frames.Fps;
        var spliced = words.Select((w, k) => k < place ? w
            : k == place ? new WordTiming(donorWords[k].Word, from / fps, (from + donorTo - donorFrom) / fps)
            : w with { Start = w.Start + shift / fps, End = w.End + shift / fps }).ToArray();
        return (new VideoFrames(pixels, frames.FrameCount, frames.Width, frames.Height, frames.Fps, frames.Order, frames.Source),
            string.Join(' ', spliced.Select(w => w.Word)), spliced);
    }

    private static VideoFrames Reorder(VideoFrames frames, List<int> order, bool flip)
    {
        int frameBytes = frames.FrameByteCount;
        var output = new byte[(long)order.Count * frameBytes];
        for (int i = 0; i < order.Count; i++)
        {
            var src = frames.Frame(order[i]);
            var dst = output.AsSpan(i * frameBytes, frameBytes);
            if (flip)
                MirrorRows(src, dst, frames.Width, frames.Height);
            else
                src.CopyTo(dst);
        }
        return new VideoFrames(output, order.Count, frames.Width, frames.Height, frames.Fps, frames.Order, frames.Source);
    }

    /// <summary>Shifts by (dx, dy) crop pixels and zooms by <paramref name="scale"/> about the centre, in place, borders repeated.</summary>
    private static unsafe void Warp(VideoFrames frames, int dx, int dy, double scale)
    {
        if (dx == 0 && dy == 0 && scale == 1)
            return;
        double cx = (frames.Width - 1) / 2.0, cy = (frames.Height - 1) / 2.0;
        using var m = Mat.FromArray(new double[,] { { scale, 0, (1 - scale) * cx + dx }, { 0, scale, (1 - scale) * cy + dy } });
        using var warped = new Mat();
        fixed (byte* p = frames.Pixels)
        {
            for (int t = 0; t < frames.FrameCount; t++)
            {
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                Cv2.WarpAffine(frame, warped, m, frame.Size(), InterpolationFlags.Linear, BorderTypes.Replicate);
                warped.CopyTo(frame);
            }
        }
    }

    /// <summary>Replaces one run of up to <paramref name="maxFrames"/> frames per 25 frames by the clip's mean frame, in place.</summary>
    private static void TimeMask(VideoFrames frames, int maxFrames, Random random)
    {
        int count = frames.FrameCount, frameBytes = frames.FrameByteCount;
        if (count == 0)
            return;
        var sum = new int[frameBytes];
        for (int t = 0; t < count; t++)
        {
            var frame = frames.Frame(t);
            for (int i = 0; i < frameBytes; i++)
                sum[i] += frame[i];
        }
        var mean = new byte[frameBytes];
        for (int i = 0; i < frameBytes; i++)
            mean[i] = (byte)((sum[i] + count / 2) / count);
        for (int m = 0, masks = Math.Max(1, count / 25); m < masks; m++)
        {
            int length = Math.Min(random.Next(0, maxFrames + 1), count);
            int start = random.Next(0, count - length + 1);
            for (int t = start; t < start + length; t++)
                mean.CopyTo(frames.Pixels.AsSpan(t * frameBytes, frameBytes));
        }
    }

    /// <summary>v ← (v − 128) · contrast + 128 + brightness, clamped to 0..255.</summary>
    private static void Photometric(Span<byte> pixels, double brightness, double contrast)
    {
        Span<byte> table = stackalloc byte[256];
        for (int v = 0; v < 256; v++)
            table[v] = (byte)Math.Clamp(Math.Round((v - 128) * contrast + 128 + brightness), 0, 255);
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = table[pixels[i]];
    }

    /// <summary>Source frame index of each output frame after drop/duplicate jitter.</summary>
    public List<int> JitteredFrameOrder(int frameCount, Random random)
    {
        var order = new List<int>(frameCount + 8);
        for (int t = 0; t < frameCount; t++)
        {
            if (random.NextDouble() < Options.FrameJitterProbability)
            {
                if (random.NextDouble() < 0.5)
                    continue; // drop
                order.Add(t); // duplicate
            }
            order.Add(t);
        }
        if (order.Count == 0 && frameCount > 0)
            order.Add(0); // never augment a clip into nothing
        return order;
    }

    /// <summary>The clip mirrored left-right (a new buffer).</summary>
    public static VideoFrames Mirror(VideoFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var output = GC.AllocateUninitializedArray<byte>(frames.FrameCount * frames.FrameByteCount);
        for (int t = 0; t < frames.FrameCount; t++)
            MirrorRows(frames.Frame(t), output.AsSpan(t * frames.FrameByteCount, frames.FrameByteCount), frames.Width, frames.Height);
        return new VideoFrames(output, frames.FrameCount, frames.Width, frames.Height, frames.Fps, frames.Order, frames.Source);
    }

    private static void MirrorRows(ReadOnlySpan<byte> src, Span<byte> dst, int width, int height)
    {
        int stride = width * VideoFrames.Channels;
        for (int y = 0; y < height; y++)
        {
            var s = src.Slice(y * stride, stride);
            var d = dst.Slice(y * stride, stride);
            for (int x = 0; x < width; x++)
                s.Slice(x * 3, 3).CopyTo(d.Slice((width - 1 - x) * 3, 3));
        }
    }
}
