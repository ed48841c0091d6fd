using System.Diagnostics;
using LipNet.ML.Decoding;
using LipNet.ML.Mouth;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Runtime;

/// <summary>A word of a transcript with its time span.</summary>
/// <param name="Word">The word.</param>
/// <param name="Start">When it starts, from the stream's first frame.</param>
/// <param name="End">When it ends.</param>
/// <param name="Confidence">Mean probability of its letters at the frames the decoder emitted them (0..1).</param>
public sealed record TranscriptWord(string Word, TimeSpan Start, TimeSpan End, float Confidence);

/// <summary>
/// A stretch of speech between pauses: one subtitle cue. Partial segments (<see cref="IsFinal"/> false) are what has been
/// read so far of a segment still open; the final one replaces them.
/// </summary>
/// <param name="Start">Start of its first word (or of the speech), from the stream's first frame; never reset within a stream.</param>
/// <param name="End">End of its last word.</param>
/// <param name="Text">The words, space-separated.</param>
/// <param name="Words">Each word with its times and confidence.</param>
/// <param name="Confidence">
/// exp(ln P(text | frames) / frames), the per-frame geometric mean of the decoder's acoustic probability of the text, in
/// [0, 1]: near 1 when the model's output left little doubt, lower as other readings compete. Not calibrated as a
/// probability of being right.
/// </param>
/// <param name="IsFinal">True once the segment will not change.</param>
/// <param name="LastFrameTime">Time of the last frame the segment's result depends on (for latency: output time minus this).</param>
public sealed record TranscriptSegment(TimeSpan Start, TimeSpan End, string Text, IReadOnlyList<TranscriptWord> Words, float Confidence, bool IsFinal,
    TimeSpan LastFrameTime);

/// <summary>How a segment found between pauses is read.</summary>
public enum SegmentDecoding
{
    /// <summary>
    /// The segment's own crops (plus a margin of pause) placed in one model window where the model's training clips hold their
    /// speech (<see cref="StreamingOptions.SpeechStartFrame"/>), the rest of the window filled by repeating its first and last
    /// frames (a still mouth), then decoded whole — as the model was trained: one utterance framed by silence. Segments longer
    /// than a window are read in pieces cut where the lips open least.
    /// </summary>
    Recentred,

    /// <summary>
    /// The segment's frames of the merged sliding-window output (each frame taken from the window it is most central in),
    /// decoded. Measured worse with LipNet models trained on centred GRID clips: they place their CTC emissions by the
    /// window, not by the frame (see the README), so central frames of a window often hold nothing.
    /// </summary>
    Merged,
}

/// <summary>How <see cref="LipReader"/> reads input longer than the model's window.</summary>
public sealed record StreamingOptions
{
    /// <summary>Frames between the starts of consecutive model windows (default 25: 1 s at 25 fps; windows of 75 overlap by 50).</summary>
    public int HopFrames { get; init; } = 25;

    /// <summary>A run of at least this many frames with the lips at rest ends a segment. Default 8 (0.32 s at 25 fps).</summary>
    public int MinPauseFrames { get; init; } = 8;

    /// <summary>
    /// Lips count as moving at a frame when their opening (inner-lip gap over mouth width, in percent) varies by at least
    /// this much within ±<see cref="ActivityRadiusFrames"/> frames. Default 1.5: on real GRID s1 clips speech stays above
    /// it but for dips shorter than a pause, and the lips settle below it within a few frames of the last word. The
    /// landmarks come from the crop locator, or for locators without them (Haar, fixed) from a landmark track run
    /// beside it for this alone.
    /// </summary>
    public double LipActivityThreshold { get; init; } = 1.5;

    /// <summary>Half-width of the window over which lip activity is measured, in frames (default 4).</summary>
    public int ActivityRadiusFrames { get; init; } = 4;

    /// <summary>Stretches of lip movement shorter than this many frames are not read (default 10: 0.4 s at 25 fps).</summary>
    public int MinSpeechFrames { get; init; } = 10;

    /// <summary>Frames of pause kept on each side of a segment when it is read (default 4).</summary>
    public int MarginFrames { get; init; } = 4;

    /// <summary>
    /// A segment longer than this many frames is closed where it stands (default 250: 10 s at 25 fps), so memory stays
    /// bounded; segments longer than a model window are read in pieces cut where the lips move least.
    /// </summary>
    public int MaxSegmentFrames { get; init; } = 250;

    /// <summary>How segments are read (default <see cref="SegmentDecoding.Recentred"/>; measured in the README).</summary>
    public SegmentDecoding Decoding { get; init; } = SegmentDecoding.Recentred;

    /// <summary>
    /// The frame of the model window at which the speech (as the lip activity finds it) of a segment
    /// (<see cref="SegmentDecoding.Recentred"/>) or of a clip shorter than the window starts; null centres a segment in the
    /// window and zero-pads a short clip instead; values outside the window are clamped to it. Default 7: LipNet models emit
    /// words by their position in the window, so speech reads best where the model's training clips hold theirs. In real
    /// GRID s1 clips the lip activity starts at frame 8.2 on average (60 held-out clips; the align files' first word at 13.8:
    /// the lips move before the voice); frames 6–8 read best (README: Long videos). Segments too long for the window start
    /// earlier so that they fit.
    /// </summary>
    public int? SpeechStartFrame { get; init; } = 7;

    /// <summary>Emit partial segments (greedy reading of the open segment) after each window.</summary>
    public bool Partials { get; init; } = true;

    /// <summary>Checks the options against a model window of <paramref name="window"/> frames.</summary>
    /// <exception cref="TensorShapeException">An option out of range, naming <paramref name="source"/>.</exception>
    internal void Validate(int window, string source)
    {
        if (MinPauseFrames < 1 || MarginFrames < 0 || ActivityRadiusFrames < 1 || MinSpeechFrames < 0 || HopFrames < 1
            || MaxSegmentFrames < Math.Max(MinPauseFrames, window) || !double.IsFinite(LipActivityThreshold) || LipActivityThreshold < 0
            || !Enum.IsDefined(Decoding))
            throw new TensorShapeException($"invalid streaming options {this} (a segment must be allowed a whole window, {window} frames; " +
                "pauses, radius and hop at least 1 frame; a finite threshold of 0 or more)", source);
    }
}

/// <summary>
/// One input stream being read by a <see cref="LipReader"/> (from <see cref="LipReader.OpenSession"/>): push frames at the
/// model's frame rate as they come, get segments back — partial ones while a segment is open, a final one after each pause
/// and at <see cref="Complete"/>. Frames are cropped as they arrive and the full frames dropped. Pauses are found where the
/// lips rest (visual voice activity: the variation of the lip opening from the landmarks); each stretch of speech between
/// pauses is read by the model in one window of its card's frame count, placed as in its training clips, the rest of the
/// window a still mouth (<see cref="SegmentDecoding.Recentred"/>) — as the model was trained: one utterance framed by
/// silence. Memory is bounded by the longest segment (<see cref="StreamingOptions.MaxSegmentFrames"/>), not by the stream.
/// Not thread-safe (one session per stream); the reader behind it is shared.
/// </summary>
public sealed class LipReadingSession : IDisposable
{
    private readonly LipReader _reader;
    private readonly StreamingOptions _options;
    private readonly MouthCropStream _crops;
    private readonly int _window, _hop, _width;
    private readonly List<MouthFrame> _frames = []; // crops from _base on
    private readonly List<double> _opening = []; // lip opening per frame from _base on (may run ahead of or behind _frames)
    private readonly IMouthTrackStream? _activity; // landmarks for pauses when the crop locator has none (Haar, fixed)
    private readonly List<LocatedFrame> _activityReady = [];
    private readonly List<float[]> _merged = []; // Merged decoding only: merged log-probabilities from _base on
    private readonly List<MouthFrame> _ready = [];
    private byte[]? _windowPixels;
    private LipReader.Batch? _batch;
    private int _base, _received, _nextWindow, _mergedEnd, _scan, _segmentStart = -1, _lastSpeech = -1, _lastPartial;
    private bool _completed, _disposed;
    private TimeSpan _lastTime;

    internal LipReadingSession(LipReader reader, string source)
    {
        _reader = reader;
        _options = reader.Options.Streaming;
        Source = source;
        _window = reader.Model.Card.Frames;
        _hop = Math.Clamp(_options.HopFrames, 1, _window);
        _width = reader.Model.OutputWidth;
        _options.Validate(_window, source);
        _crops = reader.Preprocessor.Cropper.OpenStream(source);
        // Pauses are found from lip landmarks; a locator without them gets a landmark track beside it for that alone
        // (the change of Haar or fixed crops between frames is mostly codec noise and box jumps).
        if (reader.Preprocessor.Cropper.Locator is not LandmarkMouthLocator)
            _activity = reader.ActivityLocator.OpenTrackStream(_crops.Width, _crops.Height, source);
        else
            _crops.Cropped = frame => frame.Recycle?.Invoke(frame.Pixels); // the crop stream was the frame's last reader
    }

    /// <summary>Names the stream in errors.</summary>
    public string Source { get; }

    /// <summary>Frames received so far.</summary>
    public int FramesReceived => _received;

    /// <summary>Mouth crops held now (bounded by the longest segment plus margins, whatever the stream's length).</summary>
    internal int BufferedFrames => _frames.Count;

    /// <summary>Milliseconds spent in the model so far.</summary>
    public double ModelMs { get; private set; }

    /// <summary>Takes the next frame (at the model's frame rate); adds the segments that became ready to <paramref name="updates"/>.</summary>
    /// <exception cref="MouthLocatorException">A frame of another size than the first.</exception>
    /// <exception cref="TensorShapeException">
    /// A frame without pixels, of a size out of range, or with too few bytes for its size; a frame timed before the one before it.
    /// </exception>
    /// <exception cref="InvalidOperationException">The session was completed.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Push(VideoFrame frame, ICollection<TranscriptSegment> updates)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        VideoFrame.EnsureValid(frame, Source);
        ArgumentNullException.ThrowIfNull(updates);
        if (_completed)
            throw new InvalidOperationException($"{Source}: the session is complete");
        // Segment and word times come from the frames' times: going back would give segments that end before they start.
        if (_received > 0 && frame.Time < _lastTime)
            throw new TensorShapeException($"frame {frame.Index} at {frame.Time.TotalSeconds:0.###} s comes after one at {_lastTime.TotalSeconds:0.###} s: " +
                "frame times must not go back", Source);
        _lastTime = frame.Time;
        _received++;
        _crops.Push(frame, _ready);
        _activity?.Push(frame, _activityReady);
        Accept(updates, final: false);
    }

    /// <summary>Ends the stream: reads what is left and adds the last final segment(s).</summary>
    /// <exception cref="MouthLocatorException">No face in any frame of the stream.</exception>
    /// <exception cref="VideoDecodeException">The stream ended before its first frame.</exception>
    public void Complete(ICollection<TranscriptSegment> updates)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(updates);
        if (_completed)
            return;
        _completed = true;
        if (_received == 0)
            throw new VideoDecodeException("the stream ended before its first frame", Source);
        _crops.Complete(_ready);
        try
        {
            _activity?.Complete(_activityReady);
        }
        catch (MouthLocatorException) when (_activity is not null)
        {
            // No face for the landmark model: the lips never count as moving; the crops are still read.
        }
        Accept(updates, final: true);
    }

    private int Available => _base + _frames.Count;

    private void Accept(ICollection<TranscriptSegment> updates, bool final)
    {
        foreach (var crop in _ready)
        {
            if (_activity is null)
                _opening.Add(crop.Landmarks is { } l ? LipActivity.Opening(l) : 0);
            _frames.Add(crop);
        }
        _ready.Clear();
        foreach (var located in _activityReady)
            _opening.Add(located.Landmarks is { } l ? LipActivity.Opening(l) : 0);
        _activityReady.Clear();
        if (Available <= _window)
        {
            // A stream no longer than one window is read whole at its end, exactly as a clip (padding is not decoded);
            // so nothing is read before a stream has proved longer.
            if (final && ReadWhole(Available) is { } whole)
                updates.Add(whole);
            return;
        }
        if (_options.Decoding == SegmentDecoding.Merged)
            Slide(final);
        int measured = Math.Min(Available, _base + _opening.Count);
        int known = final ? measured : measured - _options.ActivityRadiusFrames;
        if (_options.Decoding == SegmentDecoding.Merged)
            known = Math.Min(known, _mergedEnd);
        Segment(known, updates, final);
        if (!final && _options.Partials && _segmentStart >= 0 && _lastSpeech >= _segmentStart && _scan - _lastPartial >= _hop)
        {
            _lastPartial = _scan;
            var pieces = Read(_segmentStart, _lastSpeech + 1, partial: true);
            updates.Add(pieces.Count == 1 ? pieces[0] : pieces[0] with
            {
                End = pieces[^1].End,
                Text = string.Join(' ', pieces.Select(p => p.Text).Where(t => t.Length > 0)),
                Words = [.. pieces.SelectMany(p => p.Words)],
                Confidence = pieces.Average(p => p.Confidence),
            });
        }
        Prune();
    }

    /// <summary>True where the lips move: the opening's range over ±radius frames reaches the threshold.</summary>
    private bool IsSpeech(int t)
    {
        var frame = Frame(t);
        if (frame.Box is null)
            return false;
        return LipActivity.IsSpeech(k => _opening[k - _base], t, _base, Math.Min(Available, _base + _opening.Count) - 1, _options);
    }

    private void Segment(int known, ICollection<TranscriptSegment> updates, bool final)
    {
        for (; _scan < known; _scan++)
        {
            if (IsSpeech(_scan))
            {
                if (_segmentStart < 0)
                    _segmentStart = _lastPartial = _scan;
                _lastSpeech = _scan;
            }
            if (_segmentStart < 0)
                continue;
            if (_scan - _lastSpeech >= _options.MinPauseFrames || _scan + 1 - _segmentStart >= _options.MaxSegmentFrames)
                Close(updates);
        }
        if (final && _segmentStart >= 0)
            Close(updates);
    }

    private void Close(ICollection<TranscriptSegment> updates)
    {
        if (_lastSpeech + 1 - _segmentStart < _options.MinSpeechFrames)
        {
            // A twitch, not speech: a grammar would still force a whole sentence out of it.
            _segmentStart = _lastSpeech = -1;
            return;
        }
        foreach (var segment in Read(_segmentStart, _lastSpeech + 1, partial: false))
            if (segment.Text.Length > 0)
                updates.Add(segment);
        _segmentStart = _lastSpeech = -1;
    }

    /// <summary>Reads speech frames [<paramref name="from"/>, <paramref name="to"/>): one segment, or pieces of one longer than a window.</summary>
    private List<TranscriptSegment> Read(int from, int to, bool partial)
    {
        // Activity at t looks ±radius frames around it, so detected speech starts and ends that much beyond the motion:
        // the times reported come back by it (the crops read keep it, as margin).
        int trim = Math.Min(_options.ActivityRadiusFrames, (to - from - 1) / 2);
        return Read(from, to, from + trim, to - trim, partial);
    }

    private List<TranscriptSegment> Read(int from, int to, int speechFrom, int speechTo, bool partial)
    {
        int margin = _options.MarginFrames;
        int a = Math.Max(_base, from - margin), b = Math.Min(Available, to + margin);
        if (_options.Decoding == SegmentDecoding.Merged)
        {
            b = Math.Min(b, _mergedEnd);
            var merged = new float[(b - a) * _width];
            for (int t = a; t < b; t++)
                _merged[t - _base].CopyTo(merged, (t - a) * _width);
            var decoded = (partial ? _reader.StreamGreedy : _reader.StreamDecoder).Decode(merged);
            return [ToSegment(decoded.Best, merged, a, b, b - a, partial, (speechFrom, Math.Min(speechTo, b)))];
        }
        if (to - from <= _window && b - a > _window)
        {
            // The speech fits one window: trim the margins to fit rather than cut it.
            int spare = _window - (to - from);
            a = Math.Max(_base, from - spare / 2);
            b = Math.Min(Available, a + _window);
        }
        var pieces = new List<TranscriptSegment>();
        while (a < b)
        {
            int end = b - a <= _window ? b : Quietest(a + _window / 2, Math.Min(a + _window, b - _window / 4));
            int start = WindowStart(a, end, Math.Clamp(speechFrom, a, end - 1));
            var logProbs = RunModel(start, start + _window, a, end);
            var result = (partial ? _reader.StreamGreedy : _reader.StreamDecoder).Decode(logProbs);
            int pieceFrom = Math.Clamp(speechFrom, a, end - 1);
            pieces.Add(ToSegment(result.Best, logProbs, a, end, _window, partial, (pieceFrom, Math.Clamp(Math.Min(end, speechTo), pieceFrom + 1, end))));
            a = end;
        }
        return pieces;
    }

    /// <summary>
    /// The first frame of the model window that reads frames [<paramref name="from"/>, <paramref name="to"/>) (at most a window):
    /// the speech start <paramref name="speech"/> at <see cref="StreamingOptions.SpeechStartFrame"/> of the window, or the frames
    /// centred where that is null; never so early that the window ends before <paramref name="to"/>.
    /// </summary>
    private int WindowStart(int from, int to, int speech) => _options.SpeechStartFrame is { } lead
        ? Math.Max(to - _window, speech - Math.Clamp(lead, 0, _window - 1))
        : (from + to) / 2 - _window / 2;

    /// <summary>The frame in [<paramref name="from"/>, <paramref name="to"/>) where the lips open least: where a long segment is cut.</summary>
    private int Quietest(int from, int to)
    {
        int best = from;
        to = Math.Min(to, _base + _opening.Count); // openings may lag the crops by the landmark look-ahead
        for (int t = from; t < to; t++)
            if (_opening[t - _base] < _opening[best - _base])
                best = t;
        return Math.Max(best, from + 1);
    }

    /// <summary>Merged decoding only: runs the sliding windows now due and keeps each frame from the window it is most central in.</summary>
    private void Slide(bool final)
    {
        while (Available > _window && _nextWindow + _window <= Available)
        {
            RunWindow(_nextWindow, _nextWindow + (_window + _hop) / 2);
            _nextWindow += _hop;
        }
        if (final && Available > _window && _mergedEnd < Available)
            RunWindow(Available - _window, Available);
    }

    private void RunWindow(int start, int ownedEnd)
    {
        var logProbs = RunModel(start, start + _window, start, start + _window);
        for (int t = _mergedEnd; t < ownedEnd; t++)
            _merged.Add(logProbs.AsSpan((t - start) * _width, _width).ToArray());
        _mergedEnd = Math.Max(_mergedEnd, ownedEnd);
    }
    /// <summary>
    /// Log-probabilities [window frames x width] of the model on frames [<paramref name="start"/>, +window), each frame
    /// taken from [<paramref name="from"/>, <paramref name="to"/>) (frames outside repeat its first or last one).
    /// </summary>
    private float[] RunModel(int start, int end, int from, int to)
    {
        var card = _reader.Model.Card;
        int w = _crops.Width, h = _crops.Height, bytes = w * h * VideoFrames.Channels, count = end - start;
        // One window's pixels and input tensor (1 MB and 4.5 MB for GRID models) reused by every window of the stream: a
        // fresh pair per window churned the large-object heap and left the peak memory of long streams to the GC.
        if (_windowPixels?.Length != count * bytes)
            _windowPixels = GC.AllocateUninitializedArray<byte>(count * bytes);
        var pixels = _windowPixels;
        for (int i = 0; i < count; i++)
            Frame(Math.Clamp(start + i, from, to - 1)).Crop.CopyTo(pixels, i * bytes);
        var stack = new VideoFrames(pixels, count, w, h, card.Fps, _frames[0].Order, Source);
        long t0 = Stopwatch.GetTimestamp();
        var output = _reader.RunWindow(stack, _batch ??= new LipReader.Batch(_reader, 1));
        ModelMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        return output;
    }

    private MouthFrame Frame(int index) => _frames[index - _base];

    /// <summary>
    /// A segment from a hypothesis decoded over <paramref name="frames"/> frames; times come from the crops' timestamps, inside
    /// [<paramref name="from"/>, <paramref name="to"/>).
    /// </summary>
    /// <param name="best">The decoded hypothesis; its token frames count from the first decoded frame.</param>
    /// <param name="logProbs">The log-probabilities it was decoded from, [frames x vocabulary width] (word confidences).</param>
    /// <param name="from">First global frame the segment may span.</param>
    /// <param name="to">Global frame after the last one the segment may span.</param>
    /// <param name="frames">Frames decoded (the segment's confidence is per frame of these).</param>
    /// <param name="partial">True for a partial segment of a segment still open.</param>
    /// <param name="speech">Where the lips moved: the segment's times, shared by its words (<see cref="WordTimes"/>); null: the
    /// frames from <paramref name="from"/> to <paramref name="to"/>.</param>
    private TranscriptSegment ToSegment(CtcHypothesis best, float[] logProbs, int from, int to, int frames, bool partial,
        (int From, int To)? speech = null)
    {
        if (speech is { } s)
            (from, to) = (s.From, s.To);
        var words = WordTimes.Spread(best, _reader.Vocabulary, from, Math.Max(from + 1, to),
                k => MathF.Exp(logProbs[best.TokenFrames[k] * _width + best.Tokens[k]]))
            .Select(w => new TranscriptWord(w.Word, TimeAt(w.Start, to), TimeAt(w.End, to), w.Confidence)).ToList();
        var segmentStart = speech is not null || words.Count == 0 ? Frame(from).Time : words[0].Start;
        var segmentEnd = speech is not null || words.Count == 0 ? EndTime(to) : words[^1].End;
        return new TranscriptSegment(segmentStart, segmentEnd, string.Join(' ', words.Select(w => w.Word)), words, best.Confidence(frames), !partial,
            Frame(_base + _frames.Count - 1).Time);
    }

    /// <summary>The time at fractional frame <paramref name="frame"/> of a stretch ending at frame <paramref name="to"/>: between the
    /// timestamps of the frames around it (frame <paramref name="to"/> begins when frame to − 1 ends).</summary>
    private TimeSpan TimeAt(double frame, int to)
    {
        int i = Math.Clamp((int)Math.Floor(frame), _base, to - 1);
        var at = Frame(i).Time;
        var next = i + 1 < to ? Frame(i + 1).Time : EndTime(to);
        return at + (next - at) * Math.Clamp(frame - i, 0, 1);
    }

    /// <summary>The time at which frame <paramref name="end"/> − 1 ends.</summary>
    private TimeSpan EndTime(int end)
    {
        var last = Frame(end - 1).Time;
        double fps = _reader.Model.Card.Fps > 0 ? _reader.Model.Card.Fps : 25;
        return last + TimeSpan.FromSeconds(1 / fps);
    }

    /// <summary>
    /// A stream no longer than one window, read as a whole clip is (<see cref="LipReader.WindowInput"/>: a shorter one moved into
    /// the window with its speech placed as in training clips); null when it holds no speech, as for a clip.
    /// </summary>
    private TranscriptSegment? ReadWhole(int count)
    {
        // As LipReader reads a clip (nothing is pruned yet: frames 0..count − 1 are all here).
        var crops = Stack(count);
        var speech = LipActivity.SpeechSpan(k => _opening[k], Math.Min(count, _opening.Count), _options);
        // Landmarks of every frame from the crop locator itself (a Haar or fixed locator's landmark track is not trusted so).
        bool faceOnEveryFrame = _activity is null && _frames.Take(count).All(f => f.FaceFound && f.Landmarks is not null);
        if (LipActivity.HoldsNoSpeech(count, speech, crops, faceOnEveryFrame, _options))
            return null;
        long t0 = Stopwatch.GetTimestamp();
        var clip = _reader.RunWindow(_reader.WindowInput(crops, speech));
        ModelMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        // Zero padding past the end is not decoded; a window filled by moved crops is, all of it.
        int decoded = _reader.WindowShift(count, speech) is null ? count : _window;
        var result = _reader.StreamDecoder.Decode(clip.AsSpan(0, decoded * _width));
        return ToSegment(result.Best, clip, 0, count, decoded, partial: false, speech);
    }

    private VideoFrames Stack(int count)
    {
        int bytes = _crops.Width * _crops.Height * VideoFrames.Channels;
        var pixels = GC.AllocateUninitializedArray<byte>(count * bytes);
        for (int i = 0; i < count; i++)
            Frame(i).Crop.CopyTo(pixels, i * bytes);
        return new VideoFrames(pixels, count, _crops.Width, _crops.Height, _reader.Model.Card.Fps, _frames[0].Order, Source);
    }

    /// <summary>Drops crops nothing will read again.</summary>
    private void Prune()
    {
        int keep = (_segmentStart >= 0 ? _segmentStart : _scan - _options.MinPauseFrames - _options.ActivityRadiusFrames) - _options.MarginFrames;
        if (_options.Decoding == SegmentDecoding.Merged)
            keep = Math.Min(keep, _nextWindow - _hop); // the last window may start up to a hop before the next one due
        int drop = Math.Min(keep - _base, _frames.Count - 1);
        if (_options.Decoding == SegmentDecoding.Merged)
            drop = Math.Min(drop, _merged.Count - 1);
        if (drop <= 0)
            return;
        _frames.RemoveRange(0, drop);
        _opening.RemoveRange(0, Math.Min(drop, _opening.Count));
        if (_options.Decoding == SegmentDecoding.Merged)
            _merged.RemoveRange(0, drop);
        _base += drop;
    }

    /// <summary>Releases the session's crop stream and its landmark track (face tracker); the reader stays usable.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _crops.Dispose();
        _activity?.Dispose();
    }
}

/// <summary>Visual voice activity: where the lips move, from the lip opening (landmarks).</summary>
internal static class LipActivity
{
    /// <summary>
    /// True when the mouth crops do not change: in 90% of consecutive frame pairs the mean absolute difference is under half
    /// an 8-bit level (a photo or still face encoded as video: 0; real speech, GRID s1/s26 and synthetic clips: 4 or more).
    /// </summary>
    public static bool IsStill(Video.VideoFrames crops)
    {
        if (crops.FrameCount < 2)
            return true;
        var differences = new double[crops.FrameCount - 1];
        for (int t = 1; t < crops.FrameCount; t++)
        {
            ReadOnlySpan<byte> a = crops.Frame(t - 1), b = crops.Frame(t);
            long sum = 0;
            for (int i = 0; i < a.Length; i++)
                sum += Math.Abs(a[i] - b[i]);
            differences[t - 1] = sum / (double)a.Length;
        }
        Array.Sort(differences);
        return differences[(int)(0.9 * (differences.Length - 1))] < 0.5;
    }

    /// <summary>
    /// How many frames (negative: to the left) crops shorter than the model window are moved in it so that their speech
    /// starts at <paramref name="speechStartFrame"/>, as in the model's training clips (and as a stream's segments are
    /// read); null where they are read as they are: a clip of the window's length (a GRID clip reads as before), no speech
    /// found, or no <paramref name="speechStartFrame"/>.
    /// </summary>
    /// <param name="count">The clip's frames.</param>
    /// <param name="window">Frames of the model window (its card's frame count).</param>
    /// <param name="speechStartFrame">The window frame speech should start at (<see cref="StreamingOptions.SpeechStartFrame"/>).</param>
    /// <param name="speech">
    /// Where the lips move in the clip (<see cref="SpeechSpan(IReadOnlyList{Face.FaceLandmarks}, StreamingOptions)"/>).
    /// </param>
    /// <returns>The shift in frames, or null.</returns>
    public static int? WindowShift(int count, int window, int? speechStartFrame, (int From, int To)? speech)
    {
        if (count >= window || count == 0 || speechStartFrame is not { } lead || speech is not { } s)
            return null;
        // Later speech moves left (the stillness before it drops out of the window); the clip's end stays in the window.
        return Math.Min(Math.Clamp(lead, 0, window - 1) - s.From, window - count);
    }

    /// <summary>
    /// The crops a model reads for a clip: as they are, or for a clip shorter than the window a whole window of them, moved
    /// by <see cref="WindowShift"/> with the first and last frames repeated around them (a still mouth, as a stream's segment
    /// is filled) — zeros past a short clip's end are not what LipNet models were trained on. The one placement of
    /// <see cref="LipReader"/>, its sessions and the ML.NET <c>CropMouth</c> transform.
    /// </summary>
    /// <param name="crops">The clip's crops, [T, H, W, 3] bytes.</param>
    /// <param name="window">Frames of the model window.</param>
    /// <param name="speechStartFrame">The window frame speech should start at.</param>
    /// <param name="speech">Where the lips move in the clip.</param>
    /// <returns><paramref name="crops"/> itself, or a new [window, H, W, 3] stack.</returns>
    public static Video.VideoFrames WindowInput(Video.VideoFrames crops, int window, int? speechStartFrame, (int From, int To)? speech)
    {
        if (WindowShift(crops.FrameCount, window, speechStartFrame, speech) is not { } shift)
            return crops;
        int bytes = crops.FrameByteCount;
        var pixels = GC.AllocateUninitializedArray<byte>(window * bytes);
        for (int t = 0; t < window; t++)
            crops.Pixels.AsSpan(Math.Clamp(t - shift, 0, crops.FrameCount - 1) * bytes, bytes).CopyTo(pixels.AsSpan(t * bytes));
        return new Video.VideoFrames(pixels, window, crops.Width, crops.Height, crops.Fps, crops.Order, crops.Source);
    }

    /// <summary>Inner-lip gap on the mid-line over the corner-to-corner mouth width, in percent (Face Mesh points 13/14, 61/291).</summary>
    public static double Opening(Face.FaceLandmarks l)
    {
        static double Distance(Face.FaceLandmarks l, int a, int b) => Math.Sqrt(Math.Pow(l.X(a) - l.X(b), 2) + Math.Pow(l.Y(a) - l.Y(b), 2));
        double width = Distance(l, 61, 291);
        return width > 0 ? 100 * Distance(l, 13, 14) / width : 0;
    }

    /// <summary>
    /// Speech at frame <paramref name="t"/>: the opening (averaged over 3 frames: Face Mesh jitters by a pixel or so) ranges
    /// over at least <see cref="StreamingOptions.LipActivityThreshold"/> within ±radius frames. Frames [first, last] exist.
    /// </summary>
    public static bool IsSpeech(Func<int, double> opening, int t, int first, int last, StreamingOptions options)
    {
        int r = options.ActivityRadiusFrames, lo = Math.Max(first, t - r), hi = Math.Min(last, t + r);
        double min = double.MaxValue, max = double.MinValue;
        for (int k = lo; k <= hi; k++)
        {
            int k0 = Math.Max(first, k - 1), k1 = Math.Min(last, k + 1);
            double mean = 0;
            for (int j = k0; j <= k1; j++)
                mean += opening(j);
            mean /= k1 - k0 + 1;
            min = Math.Min(min, mean);
            max = Math.Max(max, mean);
        }
        return max - min >= options.LipActivityThreshold;
    }

    /// <summary>
    /// The first and last frame of speech in a clip's landmarks, each brought in by the activity radius (the window widens
    /// what it detects by that much); null when the lips never move, or move for fewer than
    /// <see cref="StreamingOptions.MinSpeechFrames"/> frames from first to last (a twitch, as a stream skips it).
    /// </summary>
    public static (int From, int To)? SpeechSpan(IReadOnlyList<Face.FaceLandmarks> landmarks, StreamingOptions options)
    {
        var opening = landmarks.Select(Opening).ToArray();
        return SpeechSpan(k => opening[k], opening.Length, options);
    }

    /// <summary><see cref="SpeechSpan(IReadOnlyList{Face.FaceLandmarks}, StreamingOptions)"/> of frames 0..count − 1's lip openings.</summary>
    public static (int From, int To)? SpeechSpan(Func<int, double> opening, int count, StreamingOptions options)
    {
        int from = -1, to = -1;
        for (int t = 0; t < count; t++)
        {
            if (!IsSpeech(opening, t, 0, count - 1, options))
                continue;
            if (from < 0)
                from = t;
            to = t + 1;
        }
        if (from < 0 || to - from < options.MinSpeechFrames)
            return null;
        int trim = Math.Min(options.ActivityRadiusFrames, (to - from - 1) / 2);
        return (from + trim, to - trim);
    }

    /// <summary>
    /// A stretch read in one window holds no speech: too short for a word, or the lips never move (<paramref name="speech"/>
    /// null) while either the face was found on every frame (a photo, a still face, a camera on a silent person: codec noise
    /// and camera motion change the crops, not the landmarks' lip opening) or the crops are still (<see cref="IsStill"/>).
    /// Where the face was lost on some frames the landmarks cannot say: Face Mesh can lose a real speaker's lips (GRID s1
    /// pbio7a, whose first 36 frames are grey smears), and then only still crops mean no speech.
    /// </summary>
    public static bool HoldsNoSpeech(int frames, (int From, int To)? speech, Video.VideoFrames crops, bool faceOnEveryFrame,
        StreamingOptions options) =>
        frames < options.MinSpeechFrames || (speech is null && (faceOnEveryFrame || IsStill(crops)));
}
