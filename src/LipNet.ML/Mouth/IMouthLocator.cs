using LipNet.ML.Video;

namespace LipNet.ML.Mouth;

/// <summary>
/// Finds the mouth in every frame of a clip. Works on whole clips rather than single frames so an
/// implementation can detect sparsely, track and smooth over time.
/// </summary>
public interface IMouthLocator
{
    /// <summary>
    /// One box per frame, in source pixels, centred on the mouth, with the aspect ratio
    /// <paramref name="aspect"/> (width / height) of the crop that will be taken from it.
    /// </summary>
    MouthBox[] Locate(VideoFrames frames, float aspect);

    /// <summary>
    /// The mouth track of a clip for crops of <paramref name="cropWidth"/> x <paramref name="cropHeight"/> pixels:
    /// one box per frame and, from landmark locators, the face landmarks per frame and the frames where no face
    /// was found. The default wraps <see cref="Locate"/>.
    /// </summary>
    MouthTrack LocateTrack(VideoFrames frames, int cropWidth, int cropHeight) => new(Locate(frames, (float)cropWidth / cropHeight));

    /// <summary>
    /// The locator over a stream of frames (memory bounded, whatever the stream's length). The default runs
    /// <see cref="LocateTrack"/> on chunks of 75 frames (<see cref="ChunkedMouthTrackStream"/>); landmark locators track
    /// across the whole stream.
    /// </summary>
    /// <param name="cropWidth">Width in pixels of the crops the boxes are for (LipNet: 100).</param>
    /// <param name="cropHeight">Height in pixels of the crops the boxes are for (LipNet: 50).</param>
    /// <param name="source">Names the stream in errors.</param>
    /// <returns>A stream to push frames into; the caller disposes it.</returns>
    IMouthTrackStream OpenTrackStream(int cropWidth, int cropHeight, string source) => new ChunkedMouthTrackStream(this, cropWidth, cropHeight, source);
}

/// <summary>What a locator found in a clip.</summary>
/// <param name="Boxes">One mouth box per frame, source pixels.</param>
/// <param name="Landmarks">Face landmarks per frame (null from locators without landmarks); frames without a face hold
/// landmarks interpolated from their neighbours, marked <see cref="Face.FaceLandmarks.Interpolated"/>.</param>
/// <param name="MissingFrames">Frames (0-based) where no face was found and the box was interpolated.</param>
public sealed record MouthTrack(MouthBox[] Boxes, IReadOnlyList<Face.FaceLandmarks>? Landmarks = null, IReadOnlyList<int>? MissingFrames = null);

/// <summary>
/// A fixed mouth region, for corpora already aligned on the face or as a fallback. The region is
/// given as fractions of the frame so one setting serves every resolution.
/// </summary>
public sealed class FixedRegionMouthLocator : IMouthLocator
{
    /// <summary>A locator that returns the same box, placed relative to the frame size, for every frame.</summary>
    /// <param name="centerX">Mouth centre x as a fraction of frame width (0..1).</param>
    /// <param name="centerY">Mouth centre y as a fraction of frame height (0..1).</param>
    /// <param name="width">Box width as a fraction of frame width (0..1]; height follows from the crop aspect.</param>
    /// <exception cref="MouthLocatorException">A centre outside [0, 1] or a width outside (0, 1].</exception>
    public FixedRegionMouthLocator(float centerX = 0.5f, float centerY = 0.7f, float width = 0.3f)
    {
        if (centerX is < 0 or > 1 || centerY is < 0 or > 1 || width is <= 0 or > 1)
            throw new MouthLocatorException($"fixed region ({centerX}, {centerY}, width {width}) must lie in the frame: centre in 0..1, width in (0, 1]");
        CenterX = centerX;
        CenterY = centerY;
        Width = width;
    }

    /// <summary>Mouth centre x as a fraction of the frame width, in [0, 1] (default 0.5: the middle).</summary>
    public float CenterX { get; }

    /// <summary>Mouth centre y as a fraction of the frame height from the top, in [0, 1] (default 0.7).</summary>
    public float CenterY { get; }

    /// <summary>Box width as a fraction of the frame width, in (0, 1] (default 0.3); the height is width / aspect.</summary>
    public float Width { get; }

    /// <summary>
    /// The same axis-aligned box for every frame: centre (<see cref="CenterX"/> · frame width, <see cref="CenterY"/> · frame
    /// height), width <see cref="Width"/> · frame width, height that width / <paramref name="aspect"/>, in source pixels.
    /// The box may reach past the frame's edges (the cropper repeats border pixels there).
    /// </summary>
    /// <param name="frames">The clip; only its frame size and count are read.</param>
    /// <param name="aspect">Width / height of the crop the boxes are for (LipNet: 100 / 50 = 2).</param>
    /// <returns><see cref="VideoFrames.FrameCount"/> identical boxes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    public MouthBox[] Locate(VideoFrames frames, float aspect)
    {
        ArgumentNullException.ThrowIfNull(frames);
        float w = Width * frames.Width;
        var box = MouthBox.FromCenter(CenterX * frames.Width, CenterY * frames.Height, w, w / aspect);
        var boxes = new MouthBox[frames.FrameCount];
        Array.Fill(boxes, box);
        return boxes;
    }
}
