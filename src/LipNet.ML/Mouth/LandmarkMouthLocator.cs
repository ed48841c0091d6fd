using LipNet.ML.Face;
using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>How a landmark locator turns the lip landmarks into crop boxes (the geometry of a <see cref="CropProfile"/>).</summary>
public enum MouthGeometry
{
    /// <summary>
    /// rizkiarm/LipNet's <c>get_frames_mouth</c> (lipnet/lipreading/videos.py), quirks included: from the 20 mouth
    /// points of the first frame, ratio = crop width / (max x · 1.19 − min x · 0.81) (absolute x coordinates);
    /// every frame is scaled by that ratio and a crop-size window is cut at the mean of that frame's 20 mouth points
    /// times the ratio, truncated to whole pixels; no rotation.
    /// </summary>
    MouthCentred,

    /// <summary>
    /// auto_avsr / VSR's mean-face alignment: a similarity transform of stable landmarks (nose, eye corners, mouth
    /// corners) onto a reference face in a 256x256 frame; a 96x96 patch centred on the mouth, its centre
    /// <c>crop width</c> x <c>crop height</c> (88x88) kept. Rotates with the face.
    /// </summary>
    MeanFace,

    /// <summary>
    /// VIPL LipNet-PyTorch's alignment (<c>scripts/extract_lip.py</c>): an orthogonal-Procrustes similarity transform of
    /// 51 landmarks (dlib 17-67) onto a frontal template on a 256x256 canvas; the canvas's 160x80 window at the
    /// template's mouth, resized to the crop size. Rotates with the face. See <see cref="Mouth.FaceAligned"/>.
    /// </summary>
    FaceAligned,
}

/// <summary>Settings of <see cref="LandmarkMouthLocator"/>.</summary>
public sealed record LandmarkMouthLocatorOptions
{
    /// <summary>Face detector, landmark model, tracking and face selection.</summary>
    public FaceTrackerOptions Tracker { get; init; } = new();

    /// <summary>How landmarks become crop boxes.</summary>
    public MouthGeometry Geometry { get; init; } = MouthGeometry.MouthCentred;

    /// <summary>
    /// Run Face Mesh on every N-th frame and interpolate the landmarks between (1 = every frame). Default 2: measured on
    /// the 60 held-out GRID s1 clips with the stage-R1 model, the same accuracy as every frame (CER 15.5% vs 16.3%, within
    /// noise) for about 60% of the locator's time; use 1 where every frame's own landmarks matter (lip shapes, WAV2KP).
    /// </summary>
    public int LandmarkEvery { get; init; } = 2;

    /// <summary>
    /// Temporal smoothing of the landmarks: a centred binomial window of this radius in frames (1: weights 1-2-1;
    /// 0: off). Face Mesh jitters by about a pixel from frame to frame; MediaPipe smooths its landmarks too.
    /// </summary>
    public int SmoothingRadius { get; init; } = 1;

    /// <summary>
    /// Streams only (<see cref="LandmarkMouthLocator.OpenTrackStream"/>): the longest run of frames without a face, in
    /// frames, that is interpolated towards the face after it; longer gaps are held at the last face as they pass, so
    /// the look-ahead (and memory) stays bounded. Default 50 (2 s at 25 fps). Whole clips interpolate gaps of any length.
    /// </summary>
    public int MaxGapFrames { get; init; } = 50;
}

/// <summary>
/// Locates the mouth from face landmarks (MediaPipe's graph as separate stages: UltraFace detection →
/// Face Mesh landmarks with tracking → temporal smoothing → crop geometry). Frames without a face get
/// landmarks interpolated from their neighbours and are reported in <see cref="MouthTrack.MissingFrames"/>;
/// a clip without any face is a <see cref="MouthLocatorException"/> naming the file.
/// </summary>
/// <remarks>Thread-safe: each thread gets its own tracker (ONNX sessions and buffers).</remarks>
public sealed class LandmarkMouthLocator : IMouthLocator, IDisposable
{
    private readonly ThreadLocal<FaceLandmarkTracker> _tracker;
    private bool _disposed;

    /// <summary>Opens a face tracker (UltraFace detector and Face Mesh) now, so a bad model fails here; more per thread as used.</summary>
    /// <param name="options">Tracker, geometry, landmark stride and smoothing; null = defaults (mouth-centred geometry).</param>
    /// <exception cref="Runtime.ModelLoadException">A front-end model file is missing or corrupt.</exception>
    /// <exception cref="MouthLocatorException">Options out of range.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public LandmarkMouthLocator(LandmarkMouthLocatorOptions? options = null)
    {
        Options = options ?? new LandmarkMouthLocatorOptions();
        if (Options.LandmarkEvery < 1 || Options.SmoothingRadius is < 0 or > 12 || Options.MaxGapFrames < 1)
            throw new MouthLocatorException($"invalid landmark locator options {Options}");
        _tracker = new ThreadLocal<FaceLandmarkTracker>(() => new FaceLandmarkTracker(Options.Tracker), trackAllValues: true);
        // Load once here so a missing or corrupt model fails now, on the caller's thread.
        try
        {
            _ = _tracker.Value;
        }
        catch
        {
            _tracker.Dispose();
            throw;
        }
    }

    /// <summary>The settings the locator was made with.</summary>
    public LandmarkMouthLocatorOptions Options { get; }

    /// <summary>Boxes for crops of aspect <paramref name="aspect"/> at 100 pixels wide (the profile's truncations assume a crop size).</summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <param name="aspect">Width / height of the crop (LipNet: 2, i.e. 100 x 50).</param>
    /// <returns>One box per frame, source pixels (rotated with the face for <see cref="MouthGeometry.MeanFace"/> and
    /// <see cref="MouthGeometry.FaceAligned"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public MouthBox[] Locate(VideoFrames frames, float aspect) =>
        LocateTrack(frames, 100, Math.Max(1, (int)MathF.Round(100 / aspect))).Boxes;

    /// <inheritdoc/>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public MouthTrack LocateTrack(VideoFrames frames, int cropWidth, int cropHeight)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var landmarks = Landmarks(frames, out var missing);
        return new MouthTrack(Boxes(Options.Geometry, landmarks, frames.Width, frames.Height, cropWidth, cropHeight), landmarks, missing);
    }

    /// <summary>
    /// Face landmarks for every frame (tracked, interpolated where missing, smoothed), and the frames without a face.
    /// </summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <param name="missingFrames">Sampled frames (0-based, ascending) where Face Mesh found no face (landmarks interpolated).</param>
    /// <returns>T landmark sets (MediaPipe Face Mesh, 468 points each), source pixels.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public FaceLandmarks[] Landmarks(VideoFrames frames, out int[] missingFrames)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(frames);
        int count = frames.FrameCount;
        var result = new FaceLandmarks[count];
        var ready = new List<(int Payload, FaceLandmarks? Landmarks, bool Found)>(count);
        var track = new IncrementalLandmarkTrack<int>(_tracker.Value!, Options.LandmarkEvery, Options.SmoothingRadius, int.MaxValue);
        var pin = System.Runtime.InteropServices.GCHandle.Alloc(frames.Pixels, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            IntPtr pixels = pin.AddrOfPinnedObject();
            Func<Mat> Frame(int t) => () => Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, pixels + (nint)((long)t * frames.FrameByteCount));
            for (int t = 0; t < count; t++)
                track.Push(Frame(t), frames.Order, t, ready);
            track.Complete(count > 0 ? Frame(count - 1) : null, frames.Order, ready);
        }
        finally
        {
            pin.Free();
        }
        if (!track.AnyFace)
            throw new MouthLocatorException($"no face found in any of {count} frames", frames.Source);
        foreach (var (t, landmarks, _) in ready)
            result[t] = landmarks!;
        missingFrames = [.. track.MissingFrames];
        return result;
    }

    /// <summary>
    /// A stream of frames → their mouth boxes and landmarks, tracked and smoothed over a bounded look-ahead (the smoothing
    /// radius, the landmark stride, and gaps up to <see cref="LandmarkMouthLocatorOptions.MaxGapFrames"/>). It owns its
    /// own tracker (ONNX sessions), so streams run side by side; dispose it. On a whole clip it gives exactly
    /// <see cref="LocateTrack"/>'s boxes.
    /// </summary>
    /// <param name="cropWidth">Width in pixels of the crops the boxes are for.</param>
    /// <param name="cropHeight">Height in pixels of the crops the boxes are for.</param>
    /// <param name="source">Names the stream in errors.</param>
    /// <returns>A stream to push frames into; the caller disposes it.</returns>
    /// <exception cref="Runtime.ModelLoadException">A front-end model file is missing or corrupt.</exception>
    public IMouthTrackStream OpenTrackStream(int cropWidth, int cropHeight, string source)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new LandmarkMouthTrackStream(this, cropWidth, cropHeight, source);
    }

    private sealed class LandmarkMouthTrackStream(LandmarkMouthLocator owner, int cropWidth, int cropHeight, string source) : IMouthTrackStream
    {
        private readonly FaceLandmarkTracker _tracker = new(owner.Options.Tracker);
        private IncrementalLandmarkTrack<VideoFrame>? _track;
        private readonly List<(VideoFrame Payload, FaceLandmarks? Landmarks, bool Found)> _ready = [];
        private Func<FaceLandmarks, MouthBox>? _box;
        private VideoFrame? _last;

        public void Push(VideoFrame frame, ICollection<LocatedFrame> located)
        {
            VideoFrame.EnsureValid(frame, source);
            ArgumentNullException.ThrowIfNull(located);
            if (_last is not null && (frame.Width != _last.Width || frame.Height != _last.Height))
                throw new MouthLocatorException($"frame {frame.Index} is {frame.Width}x{frame.Height}, earlier frames {_last.Width}x{_last.Height}", source);
            _track ??= new IncrementalLandmarkTrack<VideoFrame>(_tracker, owner.Options.LandmarkEvery, owner.Options.SmoothingRadius, owner.Options.MaxGapFrames);
            _last = frame;
            using (var pinned = new PinnedFrame(frame))
                _track.Push(pinned.Mat, frame.Order, frame, _ready);
            Drain(located);
        }

        public void Complete(ICollection<LocatedFrame> located)
        {
            if (_track is null || _last is null)
                throw new MouthLocatorException("the stream ended before its first frame", source);
            using (var pinned = new PinnedFrame(_last))
                _track.Complete(pinned.Mat, _last.Order, _ready);
            Drain(located);
            if (!_track.AnyFace)
                throw new MouthLocatorException($"no face found in any of {_track.FrameCount} frames", source);
        }

        /// <summary>The frame's pixels pinned while Face Mesh may read them through a borrowed Mat.</summary>
        private readonly struct PinnedFrame(VideoFrame frame) : IDisposable
        {
            private readonly System.Runtime.InteropServices.GCHandle _pin =
                System.Runtime.InteropServices.GCHandle.Alloc(frame.Pixels, System.Runtime.InteropServices.GCHandleType.Pinned);

            public Mat Mat() => OpenCvSharp.Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, _pin.AddrOfPinnedObject());

            public void Dispose() => _pin.Free();
        }

        private void Drain(ICollection<LocatedFrame> located)
        {
            foreach (var (frame, landmarks, found) in _ready)
            {
                MouthBox? box = null;
                if (landmarks is not null)
                {
                    _box ??= BoxMaker(owner.Options.Geometry, landmarks, frame.Width, frame.Height, cropWidth, cropHeight);
                    box = _box(landmarks);
                }
                located.Add(new LocatedFrame(frame, box, landmarks, found));
            }
            _ready.Clear();
        }

        public void Dispose() => _tracker.Dispose();
    }

    /// <summary>
    /// The box of each frame of a clip in <paramref name="geometry"/>, made by <see cref="BoxMaker"/> from the clip's first
    /// landmarks.
    /// </summary>
    internal static MouthBox[] Boxes(MouthGeometry geometry, IReadOnlyList<FaceLandmarks> landmarks, int frameWidth, int frameHeight, int cropWidth, int cropHeight)
    {
        var boxes = new MouthBox[landmarks.Count];
        if (boxes.Length == 0)
            return boxes;
        var box = BoxMaker(geometry, landmarks[0], frameWidth, frameHeight, cropWidth, cropHeight);
        for (int t = 0; t < boxes.Length; t++)
            boxes[t] = box(landmarks[t]);
        return boxes;
    }

    /// <summary>
    /// The one place a geometry becomes boxes, for whole clips and streams alike: landmarks of a frame → its box, given the
    /// clip's first landmarks (which fix the mouth-centred scale; the other geometries look at each frame alone).
    /// </summary>
    private static Func<FaceLandmarks, MouthBox> BoxMaker(MouthGeometry geometry, FaceLandmarks first, int frameWidth, int frameHeight, int cropWidth, int cropHeight) =>
        geometry switch
        {
            MouthGeometry.MeanFace => landmarks => MeanFace.Box(landmarks, cropWidth, cropHeight),
            MouthGeometry.FaceAligned => FaceAligned.Box,
            _ => new MouthCentredGeometry(first, frameWidth, frameHeight, cropWidth, cropHeight).Box,
        };

    /// <summary>
    /// <see cref="MouthGeometry.MouthCentred"/> boxes, expressed in <see cref="MouthCropper"/>'s convention (crop pixel u
    /// samples source x = box.X + u · box.Width / crop width) so that cropping equals resizing the frame to
    /// (int(W · ratio), int(H · ratio)) bilinearly and cutting the window at whole pixels, as the reference does.
    /// </summary>
    internal static MouthBox[] MouthCentredBoxes(IReadOnlyList<FaceLandmarks> landmarks, int frameWidth, int frameHeight, int cropWidth, int cropHeight) =>
        Boxes(MouthGeometry.MouthCentred, landmarks, frameWidth, frameHeight, cropWidth, cropHeight);

    /// <summary>The mouth-centred crop of a clip: its scale fixed by the first frame's mouth, its window at each frame's mouth.</summary>
    private sealed class MouthCentredGeometry
    {
        private readonly double _ratio, _sx, _sy;
        private readonly int _cropWidth, _cropHeight;

        public MouthCentredGeometry(FaceLandmarks first, int frameWidth, int frameHeight, int cropWidth, int cropHeight)
        {
            const double horizontalPad = 0.19;
            double min = double.MaxValue, max = double.MinValue;
            foreach (int i in FaceLandmarks.DlibMouth)
            {
                min = Math.Min(min, first.X(i));
                max = Math.Max(max, first.X(i));
            }
            double span = max * (1 + horizontalPad) - min * (1 - horizontalPad);
            if (!(span > 0))
                throw new MouthLocatorException($"mouth-centred profile: degenerate mouth width in the first frame (x {min:0.#}..{max:0.#})");
            _ratio = cropWidth / span;
            // The frame is resized to whole pixels, so each axis really scales by its own slightly smaller factor.
            _sx = (int)(frameWidth * _ratio) / (double)frameWidth;
            _sy = (int)(frameHeight * _ratio) / (double)frameHeight;
            if (!(_sx > 0 && _sy > 0))
                throw new MouthLocatorException($"mouth-centred profile: scale {_ratio:0.####} shrinks the {frameWidth}x{frameHeight} frame to nothing");
            (_cropWidth, _cropHeight) = (cropWidth, cropHeight);
        }

        public MouthBox Box(FaceLandmarks landmarks)
        {
            double cx = 0, cy = 0;
            foreach (int i in FaceLandmarks.DlibMouth)
            {
                cx += landmarks.X(i);
                cy += landmarks.Y(i);
            }
            cx /= FaceLandmarks.DlibMouth.Length;
            cy /= FaceLandmarks.DlibMouth.Length;
            // Python's int() truncates toward zero.
            int left = (int)Math.Truncate(cx * _ratio - _cropWidth / 2.0), top = (int)Math.Truncate(cy * _ratio - _cropHeight / 2.0);
            // cv2.resize / PIL sample resized pixel j at source (j + 0.5) / s − 0.5.
            return new MouthBox((float)((left + 0.5) / _sx - 0.5), (float)((top + 0.5) / _sy - 0.5), (float)(_cropWidth / _sx), (float)(_cropHeight / _sy));
        }
    }

    /// <summary>Releases the face tracker (ONNX Runtime sessions) of every thread that used the locator.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var t in _tracker.Values)
            t.Dispose();
        _tracker.Dispose();
    }
}
