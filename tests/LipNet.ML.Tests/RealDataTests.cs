using System.Text.Json;
using LipNet.ML.Corpora;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

/// <summary>Tests on the real GRID (s26) and Lombard GRID clips of ../shared/data; skipped where absent.</summary>
public class RealDataTests
{
    [RealDataFact]
    public void GridAndLombardClipsDecode()
    {
        foreach (var path in RealData.GridVideos)
        {
            var v = VideoLoader.Load(path);
            Assert.Equal((75, 360, 288, 25.0), (v.FrameCount, v.Width, v.Height, Math.Round(v.Fps, 2)));
        }
        foreach (var path in RealData.LombardVideos)
        {
            var v = VideoLoader.Load(path);
            Assert.Equal((720, 480, 24.0), (v.Width, v.Height, Math.Round(v.Fps, 2)));
            Assert.InRange(v.FrameCount, 50, 80);
        }
    }

    [RealDataFact]
    public void GridCorpusSentencesAgreeWithTheFileNames()
    {
        var items = new GridCorpus(RealData.Grid).Read().ToList();
        Assert.Equal(10, items.Count(i => i.Speaker == "s26"));
        Assert.Equal(Directory.GetFiles(Path.Combine(RealData.Grid, "video", "s1"), "*.mp4").Length, items.Count(i => i.Speaker == "s1"));
        Assert.All(items, i =>
        {
            Assert.Equal(GridGrammar.SentenceFromId(i.Id), i.Sentence);
            Assert.Equal(6, i.Words.Count);
        });
    }

    [RealDataFact]
    public void LombardLabelsAgreeWithTheFileNames()
    {
        var items = new LombardCorpus(RealData.Lombard).Read().ToList();
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.Equal(GridGrammar.SentenceFromId(i.Id.Split('_')[^1]), i.Sentence));
    }

    /// <summary>
    /// Label-free check that the mouth is in the crop and centred: lips are the reddest part of the lower
    /// face, so per frame the redness-weighted centroid of the crop must lie in its central region.
    /// </summary>
    private static void AssertMouthCentred(MouthCrop crop, VideoFrames source)
    {
        var f = crop.Frames;
        for (int t = 0; t < f.FrameCount; t++)
        {
            var box = crop.Boxes[t];
            Assert.True(box.CenterX > 0 && box.CenterX < source.Width && box.CenterY > 0 && box.CenterY < source.Height, $"frame {t}: box {box} outside the frame");
            var px = f.Frame(t);
            double sum = 0, sx = 0, sy = 0;
            for (int y = 0; y < f.Height; y++)
                for (int x = 0; x < f.Width; x++)
                {
                    int i = (y * f.Width + x) * 3;
                    double redness = Math.Max(0, px[i + 2] - Math.Max(px[i + 1], px[i]) - 15); // BGR
                    sum += redness; sx += redness * x; sy += redness * y;
                }
            Assert.True(sum > 0, $"{f.Source} frame {t}: no lip-coloured pixels in the crop");
            double cx = sx / sum / f.Width, cy = sy / sum / f.Height;
            Assert.True(cx is > 0.3 and < 0.7 && cy is > 0.25 and < 0.75, $"{f.Source} frame {t}: lips centred at ({cx:0.00}, {cy:0.00}) of the crop");
        }
    }

    [RealDataFact]
    public void HaarLocatorCentresTheMouthOnEveryGridFrame()
    {
        using var locator = new HaarMouthLocator();
        var cropper = new MouthCropper(locator);
        foreach (var path in RealData.GridVideos)
        {
            var source = VideoLoader.Load(path);
            var crop = cropper.Crop(source);
            AssertMouthCentred(crop, source);
            // Smooth over time: no jumps of more than a few pixels between frames.
            for (int t = 1; t < crop.Boxes.Length; t++)
                Assert.InRange(Math.Abs(crop.Boxes[t].CenterX - crop.Boxes[t - 1].CenterX), 0, 4);
        }
    }

    [RealDataFact]
    public void TrackedFacesGiveTheMouthOfFullFrameSearchesOnGrid()
    {
        using var tracking = new HaarMouthLocator();
        using var searching = new HaarMouthLocator(new HaarMouthLocatorOptions { TrackFace = false });
        foreach (var path in RealData.GridVideos)
        {
            var frames = VideoLoader.Load(path);
            MouthTests.AssertSameBoxes(searching.Locate(frames, 2f), tracking.Locate(frames, 2f), path);
        }
    }

    [RealDataFact]
    public void HaarLocatorCentresTheMouthOnEveryLombardFrame()
    {
        using var locator = new HaarMouthLocator();
        var cropper = new MouthCropper(locator);
        foreach (var path in RealData.LombardVideos)
        {
            var source = VideoLoader.Load(path);
            AssertMouthCentred(cropper.Crop(source), source);
        }
    }

    [RealDataFact]
    public void CropCommandOnARealClip()
    {
        using var dir = new TempDir();
        var video = RealData.GridVideos[0];
        var (code, stdout, stderr) = CliTests.Run("crop", video, "--out", dir.Path, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(75, doc.RootElement.GetProperty("boxes").GetArrayLength());
        Assert.Equal(360, doc.RootElement.GetProperty("width").GetInt32());
    }
}
