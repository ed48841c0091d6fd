using LipNet.ML.Face;
using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>A frame of a stream whose mouth box is known.</summary>
/// <param name="Frame">The full frame (the crop stream drops it once cropped).</param>
/// <param name="Box">The mouth box in source pixels; null when no face has been seen yet in the stream.</param>
/// <param name="Landmarks">Face landmarks (landmark locators only; interpolated where the face was lost).</param>
/// <param name="FaceFound">False where no face was found in this frame and its box was interpolated or held.</param>
public sealed record LocatedFrame(VideoFrame Frame, MouthBox? Box, FaceLandmarks? Landmarks, bool FaceFound);

/// <summary>
/// A mouth locator over a stream of frames: frames go in one at a time and come out, in order and a few frames later
/// (the look-ahead its tracking and smoothing need), with their mouth boxes. Memory is bounded by that look-ahead,
/// never by the stream's length. Not thread-safe: one stream per input.
/// </summary>
public interface IMouthTrackStream : IDisposable
{
    /// <summary>Takes the next frame; adds the frames whose boxes became known to <paramref name="located"/>.</summary>
    /// <exception cref="MouthLocatorException">The frame's size differs from the stream's first frame.</exception>
    void Push(VideoFrame frame, ICollection<LocatedFrame> located);

    /// <summary>Ends the stream; adds every frame still held to <paramref name="located"/>.</summary>
    /// <exception cref="MouthLocatorException">No face in any frame of the stream.</exception>
    void Complete(ICollection<LocatedFrame> located);
}

/// <summary>
/// Streams any whole-clip <see cref="IMouthLocator"/> by running it on consecutive chunks of frames (Haar, fixed region,
/// a user's locator): memory is one chunk of full frames; tracking and smoothing restart at each chunk.
/// </summary>
public sealed class ChunkedMouthTrackStream : IMouthTrackStream
{
    private readonly IMouthLocator _locator;
    private readonly int _cropWidth, _cropHeight, _chunkFrames;
    private readonly string _source;
    private readonly List<VideoFrame> _chunk = [];
    private bool _anyFace;

    /// <summary>A stream that buffers <paramref name="chunkFrames"/> frames, then locates the mouth in them as one clip.</summary>
    /// <param name="locator">The whole-clip locator run on each chunk; the stream does not dispose it.</param>
    /// <param name="cropWidth">Width in pixels of the crops the boxes are for.</param>
    /// <param name="cropHeight">Height in pixels of the crops the boxes are for.</param>
    /// <param name="source">Names the stream in errors.</param>
    /// <param name="chunkFrames">Frames per chunk (default 75: 3 s at 25 fps, what the locators were tuned on).</param>
    /// <exception cref="ArgumentNullException"><paramref name="locator"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkFrames"/> is less than 1.</exception>
    public ChunkedMouthTrackStream(IMouthLocator locator, int cropWidth, int cropHeight, string source, int chunkFrames = 75)
    {
        _locator = locator ?? throw new ArgumentNullException(nameof(locator));
        if (chunkFrames < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkFrames), chunkFrames, "at least one frame per chunk");
        (_cropWidth, _cropHeight, _chunkFrames, _source) = (cropWidth, cropHeight, chunkFrames, source);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Frames come out a whole chunk at a time, when the chunk fills. A chunk in which the locator finds no mouth comes out
    /// with null boxes (<see cref="LocatedFrame.FaceFound"/> false) rather than failing the stream.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    public void Push(VideoFrame frame, ICollection<LocatedFrame> located)
    {
        VideoFrame.EnsureValid(frame, _source);
        ArgumentNullException.ThrowIfNull(located);
        if (_chunk.Count > 0 && (frame.Width != _chunk[0].Width || frame.Height != _chunk[0].Height))
            throw new MouthLocatorException($"frame {frame.Index} is {frame.Width}x{frame.Height}, earlier frames {_chunk[0].Width}x{_chunk[0].Height}", _source);
        _chunk.Add(frame);
        if (_chunk.Count == _chunkFrames)
            Flush(located, final: false);
    }

    /// <inheritdoc/>
    /// <remarks>Locates the last, partial chunk; when no chunk of the stream had a face, that is the error.</remarks>
    public void Complete(ICollection<LocatedFrame> located) => Flush(located, final: true);

    private void Flush(ICollection<LocatedFrame> located, bool final)
    {
        if (_chunk.Count > 0)
        {
            var first = _chunk[0];
            var pixels = GC.AllocateUninitializedArray<byte>(_chunk.Count * first.ByteCount);
            for (int i = 0; i < _chunk.Count; i++)
                _chunk[i].Pixels.AsSpan(0, first.ByteCount).CopyTo(pixels.AsSpan(i * first.ByteCount));
            var stack = new VideoFrames(pixels, _chunk.Count, first.Width, first.Height, 0, first.Order, _source);
            MouthTrack track;
            try
            {
                track = _locator.LocateTrack(stack, _cropWidth, _cropHeight);
            }
            catch (MouthLocatorException) when (!final || _anyFace)
            {
                // A chunk without a face inside a stream that has (or may yet have) one: no boxes here.
                foreach (var f in _chunk)
                    located.Add(new LocatedFrame(f, null, null, false));
                _chunk.Clear();
                return;
            }
            _anyFace = true;
            var missing = track.MissingFrames is { Count: > 0 } m ? new HashSet<int>(m) : null;
            for (int i = 0; i < _chunk.Count; i++)
                located.Add(new LocatedFrame(_chunk[i], track.Boxes[i], track.Landmarks?[i], missing?.Contains(i) != true));
            _chunk.Clear();
        }
        if (final && !_anyFace)
            throw new MouthLocatorException("no face found in any frame of the stream", _source);
    }

    /// <summary>Drops the frames of the unfinished chunk.</summary>
    public void Dispose() => _chunk.Clear();
}

/// <summary>
/// The landmark track of a stream, computed incrementally: Face Mesh on every N-th frame (and the last), gaps interpolated
/// between the faces around them (held at the ends; a gap longer than the look-ahead limit is held at the last face),
/// a centred binomial smoothing. Given a whole clip and no look-ahead limit it yields exactly what the whole-clip
/// computation did. Frames come out in order once their smoothing window is known.
/// </summary>
internal sealed class IncrementalLandmarkTrack<T>
{
    private sealed class Entry(int index, T payload, bool sampled)
    {
        public int Index = index;
        public T Payload = payload;
        public bool Sampled = sampled;
        public FaceLandmarks? Found;
        public FaceLandmarks? Resolved;
        public bool IsResolved;
    }

    private readonly FaceLandmarkTracker _tracker;
    private readonly int _every, _radius, _maxGap;
    private readonly List<Entry> _entries = []; // from the oldest still needed for smoothing to the newest
    private int _next, _firstUnresolved, _firstUnemitted;
    private Entry? _lastFound;
    private readonly float[] _weights;

    public IncrementalLandmarkTrack(FaceLandmarkTracker tracker, int landmarkEvery, int smoothingRadius, int maxGapFrames)
    {
        _tracker = tracker;
        (_every, _radius, _maxGap) = (landmarkEvery, smoothingRadius, maxGapFrames);
        _weights = new float[2 * _radius + 1];
        for (int k = 0; k <= 2 * _radius; k++)
            _weights[k] = (float)Binomial(2 * _radius, k);
        tracker.Reset();
    }

    /// <summary>Sampled frames (0-based) where no face was found.</summary>
    public List<int> MissingFrames { get; } = [];

    public bool AnyFace => _lastFound is not null;
    public int FrameCount => _next;
    public bool LastSampled => _entries.Count == 0 || _entries[^1].Sampled;

    /// <summary>Takes the next frame (<paramref name="frame"/> is read now, only if this frame is sampled).</summary>
    public void Push(Func<Mat> frame, PixelOrder order, T payload, List<(T Payload, FaceLandmarks? Landmarks, bool Found)> ready)
    {
        int index = _next++;
        var entry = new Entry(index, payload, index % _every == 0);
        _entries.Add(entry);
        if (entry.Sampled)
            Sample(entry, frame, order);
        else if (index - _firstUnresolved >= _maxGap)
            HoldOldest();
        Emit(ready, final: false);
    }

    /// <summary>Runs Face Mesh on the last frame when it was not sampled (the whole-clip rule), then emits everything.</summary>
    public void Complete(Func<Mat>? lastFrame, PixelOrder order, List<(T Payload, FaceLandmarks? Landmarks, bool Found)> ready)
    {
        if (_entries.Count > 0 && !_entries[^1].Sampled && lastFrame is not null)
        {
            _entries[^1].Sampled = true;
            Sample(_entries[^1], lastFrame, order);
        }
        foreach (var e in Unresolved())
            Resolve(e, _lastFound is null ? null : Mark(_lastFound.Found!));
        _firstUnresolved = _next;
        Emit(ready, final: true);
    }

    private IEnumerable<Entry> Unresolved() => _entries.Where(e => !e.IsResolved).ToList();

    private void Sample(Entry entry, Func<Mat> frame, PixelOrder order)
    {
        using var mat = frame();
        entry.Found = _tracker.Next(mat, order);
        if (entry.Found is null)
        {
            MissingFrames.Add(entry.Index);
            if (entry.Index - _firstUnresolved >= _maxGap)
                HoldOldest();
            return;
        }
        foreach (var g in Unresolved())
        {
            if (g == entry)
                break;
            Resolve(g, _lastFound is null ? Mark(entry.Found) : FaceLandmarks.Lerp(_lastFound.Found!, entry.Found,
                (float)(g.Index - _lastFound.Index) / (entry.Index - _lastFound.Index)));
        }
        Resolve(entry, entry.Found);
        _lastFound = entry;
        _firstUnresolved = entry.Index + 1;
    }

    /// <summary>A gap past the look-ahead limit: its oldest frame is held at the last face (or has none yet).</summary>
    private void HoldOldest()
    {
        var oldest = _entries.First(e => !e.IsResolved);
        Resolve(oldest, _lastFound is null ? null : Mark(_lastFound.Found!));
        _firstUnresolved = oldest.Index + 1;
    }

    private static void Resolve(Entry e, FaceLandmarks? landmarks)
    {
        e.Resolved = landmarks;
        e.IsResolved = true;
    }

    private static FaceLandmarks Mark(FaceLandmarks l) => new(l.Points, l.Confidence, interpolated: true);

    private void Emit(List<(T Payload, FaceLandmarks? Landmarks, bool Found)> ready, bool final)
    {
        int first = _entries.Count == 0 ? 0 : _entries[0].Index;
        while (_firstUnemitted < _next && (final || _firstUnemitted + _radius < _firstUnresolved))
        {
            var e = _entries[_firstUnemitted - first];
            ready.Add((e.Payload, SmoothAt(_firstUnemitted - first), e.Sampled ? e.Found is not null : e.Resolved is not null && !MissingNear(e.Index)));
            e.Payload = default!; // the frame is no longer needed here
            _firstUnemitted++;
        }
        // Keep the smoothing radius behind the next frame to emit.
        int drop = Math.Min(_entries.Count, Math.Max(0, _firstUnemitted - _radius - first));
        if (drop > 0)
            _entries.RemoveRange(0, drop);
    }

    /// <summary>An unsampled frame counts as found when the sampled frames around it both found the face.</summary>
    private bool MissingNear(int index)
    {
        int at = MissingFrames.BinarySearch(index - _every + 1);
        if (at < 0)
            at = ~at;
        return at < MissingFrames.Count && MissingFrames[at] < index + _every;
    }

    private FaceLandmarks? SmoothAt(int at)
    {
        var centre = _entries[at].Resolved;
        if (centre is null || _radius <= 0)
            return centre;
        var points = new float[FaceLandmarks.Count * 3];
        float total = 0;
        for (int k = -_radius; k <= _radius; k++)
        {
            int s = at + k;
            if (s < 0 || s >= _entries.Count || !_entries[s].IsResolved || _entries[s].Resolved is not { } l)
                continue;
            float w = _weights[k + _radius];
            total += w;
            var src = l.Points;
            for (int i = 0; i < points.Length; i++)
                points[i] += w * src[i];
        }
        for (int i = 0; i < points.Length; i++)
            points[i] /= total;
        return new FaceLandmarks(points, centre.Confidence, centre.Interpolated);
    }

    private static double Binomial(int n, int k)
    {
        double r = 1;
        for (int i = 1; i <= k; i++)
            r = r * (n - k + i) / i;
        return r;
    }
}
