using LipNet.ML.Mouth;
using OpenCvSharp;

namespace LipNet.ML.Synthesis;

/// <summary>Per-clip recording conditions: head motion, lighting, sensor noise.</summary>
/// <param name="DriftX">Peak horizontal head drift in pixels; the offset follows sin(π·progress) over the clip.</param>
/// <param name="DriftY">Peak vertical head sway in pixels; the offset follows sin(2π·progress).</param>
/// <param name="Rotation">Peak head rotation in degrees about the face centre.</param>
/// <param name="Gain">Brightness multiplier (1 = as drawn), with a 1% per-frame flicker on top.</param>
/// <param name="Noise">Standard deviation of the added Gaussian sensor noise, in grey levels of 0..255.</param>
/// <param name="NoiseSeed">Seed of the per-frame noise (combined with the frame index).</param>
public sealed record ClipConditions(float DriftX, float DriftY, float Rotation, float Gain, float Noise, int NoiseSeed)
{
    /// <summary>
    /// Draws one clip's conditions: drift up to ±4 px horizontally and ±3 px vertically, rotation up to ±2.5°, gain
    /// 0.85..1.15, Gaussian noise σ 1.5..4.5 grey levels (of 255), and a seed for the noise. Consumes six draws of
    /// <paramref name="r"/>, so a seeded generator gives the same conditions every time.
    /// </summary>
    public static ClipConditions Draw(Random r) => new(
        (float)(r.NextDouble() * 2 - 1) * 4, (float)(r.NextDouble() * 2 - 1) * 3, (float)(r.NextDouble() * 2 - 1) * 2.5f,
        0.85f + 0.3f * (float)r.NextDouble(), 1.5f + 3f * (float)r.NextDouble(), r.Next());
}

/// <summary>
/// Draws a speaker's face with a mouth in a given shape. The still parts of the face are drawn once per
/// clip; each frame adds the mouth, moves the head slightly, applies the lighting and adds sensor noise.
/// Also knows where the mouth is in every frame (the ground-truth box for in-memory crops).
/// </summary>
public sealed class FaceRenderer : IDisposable
{
    private readonly Mat _still;
    private readonly Mat _canvas;
    private readonly Mat _noise;
    private readonly Mat _warped;

    /// <summary>Lays out the speaker's face in a frame of the given size and draws its still parts once.</summary>
    /// <remarks>An instance reuses its frame buffers: render from one thread at a time. Dispose it to free the OpenCV buffers.</remarks>
    /// <param name="speaker">Whose face to draw; its fractions and colours are turned into pixels here.</param>
    /// <param name="width">Frame width in pixels, 64..4096 (default 360, GRID's).</param>
    /// <param name="height">Frame height in pixels, 64..4096 (default 288, GRID's).</param>
    /// <exception cref="TensorShapeException"><paramref name="width"/> or <paramref name="height"/> is outside 64..4096.</exception>
    public FaceRenderer(SpeakerIdentity speaker, int width = 360, int height = 288)
    {
        if (width < 64 || height < 64 || width > 4096 || height > 4096)
            throw new TensorShapeException($"synthetic frame size {width}x{height} outside 64..4096");
        Speaker = speaker;
        Width = width;
        Height = height;
        FaceCenter = new Point2f(speaker.CenterX * width, speaker.CenterY * height);
        FaceHalfHeight = speaker.FaceScale * height / 2;
        FaceHalfWidth = FaceHalfHeight * speaker.FaceAspect;
        MouthCenter = new Point2f(FaceCenter.X, FaceCenter.Y + 0.45f * FaceHalfHeight); // where OpenCV's face box puts real mouths
        MouthHalfWidth = speaker.MouthWidth * FaceHalfWidth;
        _still = DrawStill();
        _canvas = new Mat(height, width, MatType.CV_8UC3);
        _noise = new Mat(height, width, MatType.CV_16SC3);
        _warped = new Mat(height, width, MatType.CV_8UC3);
    }

    /// <summary>The speaker drawn.</summary>
    public SpeakerIdentity Speaker { get; }

    /// <summary>Frame width in pixels.</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; }

    /// <summary>Centre of the face ellipse in pixels, before the per-frame head motion.</summary>
    public Point2f FaceCenter { get; }

    /// <summary>Horizontal semi-axis of the face ellipse in pixels: <see cref="FaceHalfHeight"/> × the speaker's FaceAspect.</summary>
    public float FaceHalfWidth { get; }

    /// <summary>Vertical semi-axis of the face ellipse in pixels: the speaker's FaceScale × <see cref="Height"/> / 2.</summary>
    public float FaceHalfHeight { get; }

    /// <summary>
    /// Centre of the mouth in pixels, 0.45 <see cref="FaceHalfHeight"/> below <see cref="FaceCenter"/> (where OpenCV's face
    /// detector box puts real mouths), before the per-frame head motion; <see cref="Render"/> returns the moved box.
    /// </summary>
    public Point2f MouthCenter { get; }

    /// <summary>
    /// Half the neutral mouth width in pixels: <see cref="SpeakerIdentity.MouthWidth"/> × <see cref="FaceHalfWidth"/>. The drawn
    /// width varies with the shape (0.82 + 0.30 spread − 0.38 round times this).
    /// </summary>
    public float MouthHalfWidth { get; }

    private static Scalar C((byte B, byte G, byte R) c, double k = 1) => new(c.B * k, c.G * k, c.R * k);

    private Mat DrawStill()
    {
        var s = Speaker;
        var img = new Mat(Height, Width, MatType.CV_8UC3);
        // Background: vertical gradient.
        for (int y = 0; y < Height; y++)
        {
            double k = 0.8 + 0.35 * y / Height;
            Cv2.Line(img, new Point(0, y), new Point(Width - 1, y), C(s.Background, k));
        }
        var c = FaceCenter;
        float fw = FaceHalfWidth, fh = FaceHalfHeight;
        // Shoulders and neck.
        Cv2.Ellipse(img, new Point(c.X, c.Y + fh * 2.05), new Size(fw * 2.3, fh * 0.9), 0, 0, 360, C(s.Shirt), -1, LineTypes.AntiAlias);
        Cv2.Rectangle(img, new Rect((int)(c.X - fw * 0.45), (int)(c.Y + fh * 0.5), (int)(fw * 0.9), (int)(fh * 0.9)), C(s.Skin, 0.8), -1);
        // Hair behind the head, ears, then the face.
        Cv2.Ellipse(img, new Point(c.X, c.Y - fh * 0.12), new Size(fw * 1.1, fh * 1.0), 0, 0, 360, C(s.Hair), -1, LineTypes.AntiAlias);
        foreach (int side in new[] { -1, 1 })
            Cv2.Ellipse(img, new Point(c.X + side * fw * 0.98, c.Y + fh * 0.02), new Size(fw * 0.13, fh * 0.2), 0, 0, 360, C(s.Skin, 0.85), -1, LineTypes.AntiAlias);
        // Face with shading: darker rim blended into the lit centre.
        using (var face = new Mat(Height, Width, MatType.CV_8UC3, Scalar.All(0)))
        using (var mask = new Mat(Height, Width, MatType.CV_8UC1, Scalar.All(0)))
        {
            Cv2.Ellipse(face, new Point(c.X, c.Y), new Size(fw, fh), 0, 0, 360, C(s.Skin, 0.72), -1, LineTypes.AntiAlias);
            Cv2.Ellipse(face, new Point(c.X - fw * 0.08, c.Y - fh * 0.05), new Size(fw * 0.78, fh * 0.8), 0, 0, 360, C(s.Skin), -1, LineTypes.AntiAlias);
            int k = ((int)(fw * 0.35) | 1);
            Cv2.GaussianBlur(face, face, new Size(k, k), 0);
            Cv2.Ellipse(mask, new Point(c.X, c.Y), new Size(fw, fh), 0, 0, 360, Scalar.All(255), -1, LineTypes.AntiAlias);
            face.CopyTo(img, mask);
        }
        // Hairline over the forehead.
        Cv2.Ellipse(img, new Point(c.X, c.Y - fh * 0.78), new Size(fw * 0.98, fh * 0.33), 0, 180, 360, C(s.Hair), -1, LineTypes.AntiAlias);
        // Brows and eyes.
        foreach (int side in new[] { -1, 1 })
        {
            var eye = new Point(c.X + side * fw * 0.38, c.Y - fh * 0.16);
            Cv2.Ellipse(img, new Point(eye.X, eye.Y - fh * 0.13), new Size(fw * 0.24, fh * 0.06), 0, 200, 340, C(s.Hair, 0.8), Math.Max(2, (int)(fh * 0.045)), LineTypes.AntiAlias);
            Cv2.Ellipse(img, eye, new Size(fw * 0.17, fh * 0.065), 0, 0, 360, C(s.Skin, 0.55), -1, LineTypes.AntiAlias); // socket shadow
            Cv2.Ellipse(img, eye, new Size(fw * 0.13, fh * 0.045), 0, 0, 360, new Scalar(215, 220, 225), -1, LineTypes.AntiAlias);
            Cv2.Circle(img, eye, (int)Math.Max(2, fh * 0.04), new Scalar(40, 50, 70), -1, LineTypes.AntiAlias);
            Cv2.Circle(img, eye, (int)Math.Max(1, fh * 0.018), new Scalar(10, 10, 10), -1, LineTypes.AntiAlias);
            Cv2.Ellipse(img, eye, new Size(fw * 0.14, fh * 0.05), 0, 190, 350, C(s.Skin, 0.35), Math.Max(1, (int)(fh * 0.015)), LineTypes.AntiAlias);
        }
        // Nose: a shaded ridge, the tip and two nostrils.
        Cv2.Line(img, new Point(c.X + fw * 0.05, c.Y - fh * 0.1), new Point(c.X + fw * 0.07, c.Y + fh * 0.15), C(s.Skin, 0.82), Math.Max(2, (int)(fw * 0.06)), LineTypes.AntiAlias);
        Cv2.Ellipse(img, new Point(c.X, c.Y + fh * 0.19), new Size(fw * 0.17, fh * 0.07), 0, 0, 180, C(s.Skin, 0.7), -1, LineTypes.AntiAlias);
        foreach (int side in new[] { -1, 1 })
            Cv2.Ellipse(img, new Point(c.X + side * fw * 0.08, c.Y + fh * 0.21), new Size(fw * 0.045, fh * 0.022), 0, 0, 360, C(s.Skin, 0.3), -1, LineTypes.AntiAlias);
        // Chin shadow.
        Cv2.Ellipse(img, new Point(c.X, c.Y + fh * 0.84), new Size(fw * 0.25, fh * 0.05), 0, 0, 180, C(s.Skin, 0.8), 2, LineTypes.AntiAlias);
        return img;
    }

    /// <summary>Draws frame <paramref name="frame"/> with the given mouth shape into <paramref name="destination"/> (8UC3, BGR).</summary>
    public MouthBox Render(MouthShape shape, int frame, int frameCount, ClipConditions conditions, Mat destination)
    {
        _still.CopyTo(_canvas);
        DrawMouth(_canvas, shape);
        // Head motion: a slow drift and sway over the clip.
        double phase = frameCount > 1 ? (double)frame / (frameCount - 1) : 0;
        float dx = (float)(conditions.DriftX * Math.Sin(Math.PI * phase)), dy = (float)(conditions.DriftY * Math.Sin(2 * Math.PI * phase));
        float angle = (float)(conditions.Rotation * Math.Sin(Math.PI * phase + 0.5));
        using var m = Cv2.GetRotationMatrix2D(FaceCenter, angle, 1.0);
        m.Set(0, 2, m.At<double>(0, 2) + dx);
        m.Set(1, 2, m.At<double>(1, 2) + dy);
        Cv2.WarpAffine(_canvas, _warped, m, new Size(Width, Height), InterpolationFlags.Linear, BorderTypes.Replicate);
        // Lighting and sensor noise.
        float flicker = 1 + 0.01f * (float)Math.Sin(frame * 0.7 + conditions.NoiseSeed % 7);
        _warped.ConvertTo(destination, MatType.CV_8UC3, conditions.Gain * flicker);
        var rng = new RNG((ulong)(uint)conditions.NoiseSeed * 7919UL + (ulong)frame + 1);
        rng.Fill(_noise, DistributionType.Normal, Scalar.All(0), Scalar.All(conditions.Noise));
        using var wide = new Mat();
        destination.ConvertTo(wide, MatType.CV_16SC3);
        Cv2.Add(wide, _noise, wide);
        wide.ConvertTo(destination, MatType.CV_8UC3); // saturates at 0 and 255
        // The mouth centre after the same motion: the ground-truth crop box.
        double mx = m.At<double>(0, 0) * MouthCenter.X + m.At<double>(0, 1) * MouthCenter.Y + m.At<double>(0, 2);
        double my = m.At<double>(1, 0) * MouthCenter.X + m.At<double>(1, 1) * MouthCenter.Y + m.At<double>(1, 2);
        float boxWidth = FaceHalfWidth * 2 * 0.6f; // the same proportion HaarMouthLocator uses
        return MouthBox.FromCenter((float)mx, (float)my, boxWidth, boxWidth / 2);
    }

    private void DrawMouth(Mat img, MouthShape s)
    {
        var sp = Speaker;
        float mw = MouthHalfWidth * (0.82f + 0.30f * s.Spread - 0.38f * s.Round);
        float open = MouthHalfWidth * 0.85f * s.Open;
        float lip = MouthHalfWidth * 2 * sp.LipThickness * (1 + 0.35f * s.Round);
        var c = MouthCenter;
        const int n = 24;
        Point Pt(double x, double y) => new((int)Math.Round(x), (int)Math.Round(y));
        // Lip outline: upper contour (with a cupid's bow) left→right, lower contour right→left.
        var outer = new List<Point>();
        var inner = new List<Point>();
        for (int i = 0; i <= n; i++)
        {
            double u = -1 + 2.0 * i / n;               // -1..1 across the mouth
            double bulge = Math.Sqrt(Math.Max(0, 1 - u * u));
            double bow = 0.25 * Math.Exp(-Math.Pow(u * 5, 2));  // dip at the centre of the upper lip
            outer.Add(Pt(c.X + u * mw, c.Y - open / 2 * bulge - lip * (bulge - bow) * 0.9));
            inner.Add(Pt(c.X + u * mw * 0.92, c.Y - open / 2 * bulge));
        }
        for (int i = n; i >= 0; i--)
        {
            double u = -1 + 2.0 * i / n;
            double bulge = Math.Sqrt(Math.Max(0, 1 - u * u));
            outer.Add(Pt(c.X + u * mw, c.Y + open / 2 * bulge + lip * bulge * 1.15));
            inner.Add(Pt(c.X + u * mw * 0.92, c.Y + open / 2 * bulge));
        }
        if (sp.Moustache)
            Cv2.Ellipse(img, Pt(c.X, c.Y - lip * 1.6 - open / 2), new Size(mw * 1.15, lip * 0.9), 0, 180, 360, C(sp.Hair, 0.9), -1, LineTypes.AntiAlias);
        Cv2.FillPoly(img, [outer], C(sp.Lips), LineTypes.AntiAlias);
        if (open >= 1.0f)
        {
            Cv2.FillPoly(img, [inner], new Scalar(35, 25, 45), LineTypes.AntiAlias);
            using var mask = new Mat(img.Size(), MatType.CV_8UC1, Scalar.All(0));
            Cv2.FillPoly(mask, [inner], Scalar.All(255), LineTypes.Link8);
            var box = Cv2.BoundingRect(inner);
            if (s.Tongue > 0.05f)
                DrawClipped(img, mask, m => Cv2.Ellipse(m, Pt(c.X, c.Y + open / 2), new Size(mw * 0.55, open * 0.45 * s.Tongue + 1), 0, 180, 360, new Scalar(110, 110, 200), -1, LineTypes.AntiAlias), box);
            if (s.Teeth > 0.05f)
            {
                double teeth = Math.Min(open * 0.45, MouthHalfWidth * 0.22) * s.Teeth;
                DrawClipped(img, mask, m => Cv2.Rectangle(m, Pt(c.X - mw * 0.7, c.Y - open / 2 - 1), Pt(c.X + mw * 0.7, c.Y - open / 2 + teeth), new Scalar(215, 225, 230), -1), box);
                DrawClipped(img, mask, m => Cv2.Rectangle(m, Pt(c.X - mw * 0.55, c.Y + open / 2 - teeth * 0.5), Pt(c.X + mw * 0.55, c.Y + open / 2 + 1), new Scalar(200, 210, 215), -1), box);
            }
        }
        else
        {
            // Closed: the line where the lips meet; upper teeth resting on the lower lip for f/v.
            Cv2.Line(img, Pt(c.X - mw * 0.9, c.Y), Pt(c.X + mw * 0.9, c.Y), C(sp.Lips, 0.45), Math.Max(1, (int)(lip * 0.12)), LineTypes.AntiAlias);
        }
        if (s.Teeth > 0.5f && s.Open < 0.15f && s.Round < 0.3f)
            Cv2.Rectangle(img, Pt(c.X - mw * 0.45, c.Y - 1), Pt(c.X + mw * 0.45, c.Y + lip * 0.35), new Scalar(215, 225, 230), -1, LineTypes.AntiAlias);
    }

    private static void DrawClipped(Mat img, Mat mask, Action<Mat> draw, Rect box)
    {
        box = box.Intersect(new Rect(0, 0, img.Width, img.Height));
        if (box.Width <= 0 || box.Height <= 0)
            return;
        using var layer = img.Clone();
        draw(layer);
        using var roiLayer = layer[box];
        using var roiImg = img[box];
        using var roiMask = mask[box];
        roiLayer.CopyTo(roiImg, roiMask);
    }

    /// <summary>Frees the still image and the frame buffers (native OpenCV memory). The renderer cannot be used afterwards.</summary>
    public void Dispose()
    {
        _still.Dispose();
        _canvas.Dispose();
        _noise.Dispose();
        _warped.Dispose();
    }
}
