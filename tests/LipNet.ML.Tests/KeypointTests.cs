using LipNet.ML.Face;
using LipNet.ML.Keypoints;

namespace LipNet.ML.Tests;

public class KeypointTests
{
    /// <summary>Landmarks whose lips are an ellipse of the given opening, placed at (cx, cy), rolled by angle, scaled by width.</summary>
    internal static FaceLandmarks Lips(float cx, float cy, float width, float angle, float opening)
    {
        var points = new float[FaceLandmarks.Count * 3];
        void Set(int index, float x, float y)
        {
            float c = MathF.Cos(angle), s = MathF.Sin(angle);
            points[3 * index] = cx + (c * x - s * y) * width;
            points[3 * index + 1] = cy + (s * x + c * y) * width;
        }
        for (int i = 0; i < 20; i++)
        {
            float a = MathF.PI * 2 * i / 20;
            Set(FaceLandmarks.OuterLip[i], -0.5f * MathF.Cos(a), 0.3f * MathF.Sin(a));
            Set(FaceLandmarks.InnerLip[i], -0.4f * MathF.Cos(a), opening * MathF.Sin(a));
        }
        return new FaceLandmarks(points, 1);
    }

    [Fact]
    public void NormalisedPointsDoNotDependOnWhereTheMouthIsOrHowTheHeadRollsButKeepItsShape()
    {
        var a = LipKeypoints.Normalize([Lips(100, 80, 40, 0, 0.05f), Lips(100, 80, 40, 0, 0.2f)]);
        var b = LipKeypoints.Normalize([Lips(220, 150, 80, 0.3f, 0.05f), Lips(230, 140, 80, 0.3f, 0.2f)]);
        Assert.Equal(2, a.Frames);
        Assert.Equal(2 * LipKeypoints.Values, a.Points.Length);
        Assert.All(a.Points.Zip(b.Points), p => Assert.Equal(p.First, p.Second, 4));
        // The mouth corners (OuterLip 0 and 10 = points 61 and 291) lie ±0.5 mouth widths apart on the x axis.
        Assert.Equal(-0.5f, a.Point(0, 0).X, 4);
        Assert.Equal(0.5f, a.Point(0, 10).X, 4);
        Assert.Equal(0f, a.Point(0, 10).Y, 4);
        // An opening mouth moves the inner lips, measured in mouth widths.
        Assert.Equal(0.2f, a.Point(1, 25).Y, 3); // inner lip point 5: sin(π/2) = 1
        Assert.Equal(0.05f, a.Point(0, 25).Y, 3);
        Assert.Equal(0.15 * Math.Sqrt(10.0 / 80), LipKeypoints.Rmse(a.Points.AsSpan(0, 80), a.Points.AsSpan(80, 80)), 4); // Σ sin² = 10 of 80 values
    }

    [Fact]
    public void PixelsRoundTripThroughTheNormalisation()
    {
        var frames = new[] { Lips(150, 90, 60, -0.2f, 0.1f) };
        var k = LipKeypoints.Normalize(frames);
        var pixels = LipKeypoints.ToPixels(k.Points.AsSpan(0, 80), k.Poses[0], k.Scale);
        var lips = frames[0].LipPoints();
        Assert.All(pixels.Zip(lips), p => Assert.Equal(p.Second, p.First, 3));
        Assert.Throws<ArgumentException>(() => LipKeypoints.ToPixels(new float[79], k.Poses[0], k.Scale));
        Assert.Throws<ArgumentException>(() => LipKeypoints.Normalize([]));
        Assert.Throws<ArgumentException>(() => LipKeypoints.Rmse(new float[80], new float[160]));
    }
}
