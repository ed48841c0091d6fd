using System.Text.Json;
using LipNet.ML.Face;
using LipNet.ML.Mouth;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;
using LipNet.ML.Video;
using OpenCvSharp;
using Xunit.Abstractions;

namespace LipNet.ML.Tests;

/// <summary>The landmark front end: face detection, Face Mesh tracking, crop profiles, typed errors.</summary>
public class FrontEndTests(ITestOutputHelper output)
{
    [Fact]
    public void LandmarkMouthCentresMatchTheSyntheticTruth()
    {
        using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { LandmarkEvery = 1 });
        var errors = new List<double>();
        for (int speaker = 0; speaker < 6; speaker++)
        {
            var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 21, ClipsPerSpeaker = 1 }, speaker, 0);
            var landmarks = locator.Landmarks(clip.Frames, out var missing);
            Assert.Empty(missing);
            for (int t = 0; t < landmarks.Length; t++)
            {
                var pose = landmarks[t].Mouth();
                var truth = clip.MouthBoxes[t];
                errors.Add(Math.Sqrt(Math.Pow(pose.CenterX - truth.CenterX, 2) + Math.Pow(pose.CenterY - truth.CenterY, 2)));
            }
        }
        output.WriteLine($"mouth centre error over {errors.Count} frames: mean {errors.Average():0.00} px, max {errors.Max():0.00} px");
        Assert.True(errors.Average() < 2, $"mean error {errors.Average():0.00} px");
        Assert.True(errors.Max() < 5, $"max error {errors.Max():0.00} px");
    }

    [Fact]
    public void MouthCentredBoxesMatchAnIndependentScriptOfTheFormula()
    {
        // tests/fixtures/make_mouth_centred_fixture.py: rizkiarm/LipNet's formula in numpy on Face Mesh landmarks of real GRID s1 bbaf4p.
        using var doc = JsonDocument.Parse(File.ReadAllText(OnnxGraphTests.Fixture("mouth_centred_bbaf4p.json")));
        var root = doc.RootElement;
        var frames = root.GetProperty("frames").EnumerateArray().ToList();
        var landmarks = frames.Select(f =>
        {
            var points = new float[FaceLandmarks.Count * 3];
            var mouth = f.GetProperty("points").EnumerateArray().ToList();
            for (int k = 0; k < FaceLandmarks.DlibMouth.Length; k++)
            {
                points[3 * FaceLandmarks.DlibMouth[k]] = mouth[k][0].GetSingle();
                points[3 * FaceLandmarks.DlibMouth[k] + 1] = mouth[k][1].GetSingle();
            }
            return new FaceLandmarks(points, 1);
        }).ToList();
        var boxes = LandmarkMouthLocator.MouthCentredBoxes(landmarks, root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32(), 100, 50);
        double worst = 0;
        for (int t = 0; t < boxes.Length; t++)
        {
            // Where the crop's middle pixel (49.5, 24.5) samples the source in MouthCropper's convention.
            float cx = boxes[t].X + 49.5f * boxes[t].Width / 100, cy = boxes[t].Y + 24.5f * boxes[t].Height / 50;
            var centre = frames[t].GetProperty("centre");
            worst = Math.Max(worst, Math.Max(Math.Abs(cx - centre[0].GetDouble()), Math.Abs(cy - centre[1].GetDouble())));
        }
        output.WriteLine($"largest centre difference: {worst:0.0000} px");
        Assert.True(worst < 1, $"centres differ by {worst} px");
    }

    [Fact]
    public void FramesWithoutAFaceAreInterpolatedAndReported()
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 22, ClipsPerSpeaker = 1 }, 0, 0);
        var frames = clip.Frames;
        for (int t = 30; t < 34; t++)
            frames.Frame(t).Fill(90); // a grey frame: no face
        using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { LandmarkEvery = 1 });
        var track = locator.LocateTrack(frames, 100, 50);
        Assert.Equal([30, 31, 32, 33], track.MissingFrames!);
        Assert.All(Enumerable.Range(30, 4), t => Assert.True(track.Landmarks![t].Interpolated));
        Assert.False(track.Landmarks![29].Interpolated);
        // Interpolated boxes lie between their neighbours.
        float lo = MathF.Min(track.Boxes[29].CenterX, track.Boxes[34].CenterX) - 1, hi = MathF.Max(track.Boxes[29].CenterX, track.Boxes[34].CenterX) + 1;
        Assert.All(Enumerable.Range(30, 4), t => Assert.InRange(track.Boxes[t].CenterX, lo, hi));
    }

    [Theory]
    [InlineData(MouthGeometry.MouthCentred, 2)]
    [InlineData(MouthGeometry.MeanFace, 1)]
    [InlineData(MouthGeometry.MouthCentred, 3)]
    public void AStreamOfFramesCropsExactlyAsTheWholeClip(MouthGeometry geometry, int landmarkEvery)
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 23, ClipsPerSpeaker = 1 }, 1, 0);
        var frames = clip.Frames;
        for (int t = 0; t < 3; t++)
            frames.Frame(t).Fill(90); // no face at the start (held at the first face)
        for (int t = 40; t < 47; t++)
            frames.Frame(t).Fill(90); // a gap in the middle (interpolated)
        using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Geometry = geometry, LandmarkEvery = landmarkEvery });
        var cropper = new MouthCropper(locator, new MouthCropOptions { Width = geometry == MouthGeometry.MeanFace ? 88 : 100, Height = geometry == MouthGeometry.MeanFace ? 88 : 50 });
        var whole = cropper.Crop(frames);
        var crops = new List<MouthFrame>();
        using (var stream = cropper.OpenStream("stream"))
        {
            for (int t = 0; t < frames.FrameCount; t++)
            {
                stream.Push(VideoFrame.Of(frames, t), crops);
                Assert.True(t + 1 - crops.Count <= 8 + 2 * landmarkEvery, $"look-ahead stays short (frame {t}: {crops.Count} out)");
            }
            stream.Complete(crops);
        }
        Assert.Equal(frames.FrameCount, crops.Count);
        for (int t = 0; t < frames.FrameCount; t++)
        {
            Assert.Equal(t, crops[t].Index);
            Assert.Equal(whole.Boxes[t], crops[t].Box);
            Assert.True(whole.Frames.Frame(t).SequenceEqual(crops[t].Crop), $"crop {t} equals the whole clip's");
            bool missing = whole.MissingFrames!.Contains(t);
            if (missing)
                Assert.False(crops[t].FaceFound);
        }
        Assert.All(Enumerable.Range(41, 5), t => Assert.False(crops[t].FaceFound));
    }

    [Fact]
    public void AStreamHoldsLongGapsAtTheLastFaceAndFailsTypedWithoutAnyFace()
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 23, ClipsPerSpeaker = 1 }, 1, 0);
        var frames = clip.Frames;
        for (int t = 20; t < 75; t++)
            frames.Frame(t).Fill(90);
        using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { MaxGapFrames = 10 });
        var cropper = new MouthCropper(locator);
        var crops = new List<MouthFrame>();
        using (var stream = cropper.OpenStream("stream"))
        {
            for (int t = 0; t < frames.FrameCount; t++)
                stream.Push(VideoFrame.Of(frames, t), crops);
            Assert.True(crops.Count >= 60, $"a long gap does not hold frames back ({crops.Count} of 75 out)");
            stream.Complete(crops);
        }
        Assert.All(crops.Skip(22), c => Assert.Equal(crops[19].Box, c.Box)); // held where the face was last seen (smoothed)

        using var blank = cropper.OpenStream("blank camera");
        var none = new List<MouthFrame>();
        for (int t = 20; t < 75; t++)
            blank.Push(VideoFrame.Of(frames, t), none);
        Assert.All(none, c => Assert.Null(c.Box));
        var ex = Assert.Throws<MouthLocatorException>(() => blank.Complete(none));
        Assert.Equal("blank camera", ex.FilePath);
    }

    [Fact]
    public void NoFaceInAnyFrameIsATypedErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var video = TestVideos.Write(dir.File("noface.avi"), frames: 6);
        using var preprocessor = new Tensors.ClipPreprocessor(new LandmarkMouthLocator());
        var ex = Assert.Throws<MouthLocatorException>(() => preprocessor.Process(video));
        Assert.Equal(video, ex.FilePath);
        Assert.Contains("no face", ex.Message);
    }

    [Fact]
    public void MissingOrCorruptFrontEndModelsAreTypedErrors()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<ModelLoadException>(() => new UltraFaceDetector(new UltraFaceOptions { ModelPath = dir.File("none.onnx") }));
        Assert.Equal(dir.File("none.onnx"), missing.FilePath);
        var garbage = dir.File("garbage.onnx");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(garbage, Assert.Throws<ModelLoadException>(() => new FaceMeshLandmarker(garbage)).FilePath);
        // A valid ONNX file that is not the expected graph: Face Mesh where the detector belongs.
        var mesh = dir.File("mesh.onnx");
        File.WriteAllBytes(mesh, FaceModels.Embedded(FaceModels.LandmarkerName));
        Assert.Contains("no output 'scores'", Assert.Throws<ModelLoadException>(() => new UltraFaceDetector(new UltraFaceOptions { ModelPath = mesh })).Message);
        Assert.Throws<ModelLoadException>(() => new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Tracker = new FaceTrackerOptions { LandmarkModelPath = garbage } }));
    }

    [Fact]
    public void MeanFaceBoxesTurnWithTheHeadAndMouthCentredOnesDoNot()
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 23, ClipsPerSpeaker = 1 }, 1, 0);
        var frames = clip.Frames;
        // Turn every frame 12 degrees clockwise on screen about the mouth.
        var centre = new Point2f(clip.MouthBoxes[0].CenterX, clip.MouthBoxes[0].CenterY);
        using var rotation = Cv2.GetRotationMatrix2D(centre, -12, 1);
        for (int t = 0; t < frames.FrameCount; t++)
            unsafe
            {
                fixed (byte* p = frames.Pixels)
                {
                    using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                    using var turned = new Mat();
                    Cv2.WarpAffine(frame, turned, rotation, frame.Size(), InterpolationFlags.Linear, BorderTypes.Replicate);
                    turned.CopyTo(frame);
                }
            }
        using var meanFace = (LandmarkMouthLocator)CropProfile.MeanFace.CreateLocator();
        using var centred = (LandmarkMouthLocator)CropProfile.MouthCentred.CreateLocator();
        var turnedBoxes = meanFace.LocateTrack(frames, 88, 88).Boxes;
        double degrees = turnedBoxes.Average(b => b.Angle) * 180 / Math.PI;
        output.WriteLine($"mean-face box angle {degrees:0.0} degrees");
        Assert.InRange(degrees, 8, 16);
        Assert.All(centred.LocateTrack(frames, 100, 50).Boxes, b => Assert.Equal(0, b.Angle));
    }

    [Fact]
    public void TheLargestFaceIsTrackedByDefaultAndAnotherCanBeChosen()
    {
        // Two speakers side by side: the right one full size, the left one at 70%.
        var big = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 24, ClipsPerSpeaker = 1 }, 0, 0);
        var small = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 24, ClipsPerSpeaker = 1 }, 1, 0);
        const int frames = 10, width = 720, height = 288;
        var pixels = new byte[frames * width * height * 3];
        unsafe
        {
            fixed (byte* dst = pixels)
            fixed (byte* a = big.Frames.Pixels)
            fixed (byte* b = small.Frames.Pixels)
            {
                for (int t = 0; t < frames; t++)
                {
                    using var target = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)(dst + (long)t * width * height * 3));
                    target.SetTo(new Scalar(120, 60, 30));
                    using var right = Mat.FromPixelData(288, 360, MatType.CV_8UC3, (IntPtr)(a + (long)t * big.Frames.FrameByteCount));
                    using var left = Mat.FromPixelData(288, 360, MatType.CV_8UC3, (IntPtr)(b + (long)t * small.Frames.FrameByteCount));
                    using (var view = target[new Rect(360, 0, 360, 288)])
                        right.CopyTo(view);
                    using var shrunk = new Mat();
                    Cv2.Resize(left, shrunk, new Size(252, 202));
                    using (var view = target[new Rect(54, 43, 252, 202)])
                        shrunk.CopyTo(view);
                }
            }
        }
        var both = new VideoFrames(pixels, frames, width, height, 25, PixelOrder.Bgr, "two faces");
        using var largest = new LandmarkMouthLocator();
        Assert.All(largest.Landmarks(both, out _), l => Assert.True(l.Mouth().CenterX > 360, "tracks the larger, right-hand face"));
        using var leftmost = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Tracker = new FaceTrackerOptions { Selection = FaceSelection.Leftmost } });
        Assert.All(leftmost.Landmarks(both, out _), l => Assert.True(l.Mouth().CenterX < 360, "tracks the left-hand face when asked"));
    }

    [Fact]
    public void ModelCardsSelectTheirCropProfile()
    {
        Assert.Same(CropProfile.Haar, new ModelCard().Profile()); // cards written before profiles: the Haar crops they were trained on
        Assert.Same(CropProfile.MouthCentred, new ModelCard { CropProfile = "mouth-centred" }.Profile());
        var card = ModelCard.FromJson(new ModelCard { CropProfile = "mean-face" }.ToJson());
        Assert.Equal("mean-face", card.CropProfile);
        Assert.Throws<MouthLocatorException>(() => new ModelCard { CropProfile = "dlib-someday" }.Profile());
        using var reader = LipReader.Default();
        Assert.Same(CropProfile.MouthCentred, reader.Profile); // the embedded model was trained on mouth-centred landmark crops
        Assert.Equal(25, reader.Model.Card.Fps);
    }

    [Fact]
    public void FaceMeshRunsWithSubPixelOutputAndAConfidence()
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 25, ClipsPerSpeaker = 1 }, 2, 0);
        using var detector = new UltraFaceDetector();
        using var mesh = new FaceMeshLandmarker();
        unsafe
        {
            fixed (byte* p = clip.Frames.Pixels)
            {
                using var frame = Mat.FromPixelData(288, 360, MatType.CV_8UC3, (IntPtr)p);
                var faces = detector.Detect(frame, PixelOrder.Bgr);
                Assert.Single(faces);
                var l = mesh.Estimate(frame, PixelOrder.Bgr, FaceRoi.FromDetection(faces[0]));
                Assert.InRange(l.Confidence, 0.9f, 1f);
                Assert.Contains(l.Points, v => MathF.Abs(v - MathF.Round(v)) > 0.01f); // not whole pixels
                using var grey = new Mat(288, 360, MatType.CV_8UC3, Scalar.All(128));
                Assert.Empty(detector.Detect(grey, PixelOrder.Bgr));
                Assert.True(mesh.Estimate(grey, PixelOrder.Bgr, new FaceRoi(180, 144, 150, 0)).Confidence < 0.5f);
            }
        }
    }
}
