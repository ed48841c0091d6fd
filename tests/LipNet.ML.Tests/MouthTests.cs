using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

public class MouthTests
{
    [Fact]
    public void FixedRegionGivesOneBoxPerFrameWithTheCropAspect()
    {
        var frames = TestVideos.Frames(4, 200, 100, (_, _, _, _) => 0);
        var boxes = new FixedRegionMouthLocator(0.5f, 0.6f, 0.4f).Locate(frames, 2f);
        Assert.Equal(4, boxes.Length);
        Assert.All(boxes, b =>
        {
            Assert.Equal(100, b.CenterX, 3);
            Assert.Equal(60, b.CenterY, 3);
            Assert.Equal(80, b.Width, 3);
            Assert.Equal(40, b.Height, 3);
        });
    }

    [Fact]
    public void FixedRegionOutsideTheFrameIsRefused()
    {
        Assert.Throws<MouthLocatorException>(() => new FixedRegionMouthLocator(1.5f, 0.5f, 0.3f));
        Assert.Throws<MouthLocatorException>(() => new FixedRegionMouthLocator(0.5f, 0.5f, 0f));
    }

    [Fact]
    public void CropperCutsTheBoxAndResamplesToTheCropSize()
    {
        // Left half of the box region red, right half blue (BGR); everything else black.
        var frames = TestVideos.Frames(2, 200, 100, (t, y, x, c) =>
            y is >= 40 and < 80 && x is >= 60 and < 140
                ? (byte)(x < 100 ? (c == 2 ? 255 : 0) : (c == 0 ? 255 : 0))
                : (byte)0);
        var cropper = new MouthCropper(new FixedRegionMouthLocator(0.5f, 0.6f, 0.4f), new MouthCropOptions { Width = 40, Height = 20 });
        var crop = cropper.Crop(frames);
        Assert.Equal(40, crop.Frames.Width);
        Assert.Equal(20, crop.Frames.Height);
        Assert.Equal(2, crop.Frames.FrameCount);
        var f = crop.Frames.Frame(1).ToArray();
        int Px(int y, int x, int c) => f[(y * 40 + x) * 3 + c];
        Assert.True(Px(10, 5, 2) > 200 && Px(10, 5, 0) < 50, "left of the crop is the red half");
        Assert.True(Px(10, 35, 0) > 200 && Px(10, 35, 2) < 50, "right of the crop is the blue half");
    }

    [Fact]
    public void BoxesPastTheBorderRepeatEdgePixels()
    {
        var frames = TestVideos.Frames(1, 100, 50, (_, _, _, _) => 77);
        var cropper = new MouthCropper(new FixedRegionMouthLocator(0.98f, 0.98f, 0.5f), new MouthCropOptions { Width = 20, Height = 10 });
        var crop = cropper.Crop(frames);
        Assert.All(crop.Frames.Frame(0).ToArray(), v => Assert.Equal(77, v));
    }

    [Fact]
    public void InvalidCropSizeIsATypedError()
    {
        Assert.Throws<TensorShapeException>(() => new MouthCropper(new FixedRegionMouthLocator(), new MouthCropOptions { Width = 0 }));
    }

    [Fact]
    public void MissingCascadeIsATypedErrorNamingTheFile()
    {
        var ex = Assert.Throws<MouthLocatorException>(() => new HaarMouthLocator(new HaarMouthLocatorOptions { FaceCascadePath = "/no/cascade.xml" }));
        Assert.Equal("/no/cascade.xml", ex.FilePath);
        Assert.Contains("opencv-data", ex.Reason);
    }

    [Fact]
    public void CorruptCascadeIsATypedError()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.xml");
        File.WriteAllText(path, "<opencv_storage><cascade>not a cascade");
        Assert.Throws<MouthLocatorException>(() => new HaarMouthLocator(new HaarMouthLocatorOptions { FaceCascadePath = path, MouthCascadePath = null }));
    }

    [Fact]
    public void NoFaceAnywhereIsATypedErrorOrTheFallback()
    {
        var blank = TestVideos.Frames(6, 120, 90, (_, _, _, _) => 128);
        using var strict = new HaarMouthLocator();
        var ex = Assert.Throws<MouthLocatorException>(() => strict.Locate(blank, 2f));
        Assert.Contains("no face", ex.Reason);

        using var lenient = new HaarMouthLocator(new HaarMouthLocatorOptions { Fallback = new FixedRegionMouthLocator() });
        Assert.Equal(6, lenient.Locate(blank, 2f).Length);
    }

    [Fact]
    public void InvalidHaarOptionsAreATypedError()
    {
        Assert.Throws<MouthLocatorException>(() => new HaarMouthLocator(new HaarMouthLocatorOptions { TrackingMargin = -0.1f }));
        Assert.Throws<MouthLocatorException>(() => new HaarMouthLocator(new HaarMouthLocatorOptions { DetectEvery = 0 }));
    }

    /// <summary>Two locators' boxes agree to a tenth of the mouth width, frame by frame.</summary>
    internal static void AssertSameBoxes(MouthBox[] expected, MouthBox[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            float tolerance = 0.1f * expected[t].Width;
            Assert.True(Math.Abs(expected[t].CenterX - actual[t].CenterX) < tolerance && Math.Abs(expected[t].CenterY - actual[t].CenterY) < tolerance
                && Math.Abs(expected[t].Width - actual[t].Width) < tolerance, $"{what} frame {t}: {actual[t]}, expected {expected[t]}");
        }
    }

    /// <summary>Mean distance in pixels between the boxes' centres.</summary>
    internal static double MeanCentreError(MouthBox[] found, IReadOnlyList<MouthBox> truth) =>
        found.Select((b, t) => Math.Sqrt(Math.Pow(b.CenterX - truth[t].CenterX, 2) + Math.Pow(b.CenterY - truth[t].CenterY, 2))).Average();

    [Fact]
    public void MedianFilterRejectsASingleOutlier()
    {
        var smoothed = HaarMouthLocator.MedianFilter([10, 10, 50, 10, 10], 3);
        Assert.All(smoothed, v => Assert.Equal(10, v));
    }
}
