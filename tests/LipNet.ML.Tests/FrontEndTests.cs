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
    [InlineData(MouthGeometry.FaceAligned, 2)]
    public void AStreamOfFramesCropsExactlyAsTheWholeClip(MouthGeometry geometry, int landmarkEvery)
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 23, ClipsPerSpeaker = 1 }, 1, 0);
        var frames = clip.Frames;
        for (int t = 0; t < 3; t++)
            frames.Frame(t).Fill(90); // no face at the start (held at the first face)
        for (int t = 40; t < 47; t++)
            frames.Frame(t).Fill(90); // a gap in the middle (interpolated)
        using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Geometry = geometry, LandmarkEvery = landmarkEvery });
        var (width, height) = geometry switch { MouthGeometry.MeanFace => (88, 88), MouthGeometry.FaceAligned => (128, 64), _ => (100, 50) };
        var cropper = new MouthCropper(locator, new MouthCropOptions { Width = width, Height = height });
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

    /// <summary>A synthetic clip with every frame turned 12 degrees clockwise on screen about the mouth.</summary>
    private static (SyntheticClip Clip, VideoFrames Frames) TurnedClip()
    {
        var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 23, ClipsPerSpeaker = 1 }, 1, 0);
        var frames = clip.Frames;
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
        return (clip, frames);
    }

    [Fact]
    public void MeanFaceBoxesTurnWithTheHeadAndMouthCentredOnesDoNot()
    {
        var (clip, frames) = TurnedClip();
        using var meanFace = (LandmarkMouthLocator)CropProfile.MeanFace.CreateLocator();
        using var centred = (LandmarkMouthLocator)CropProfile.MouthCentred.CreateLocator();
        var turnedBoxes = meanFace.LocateTrack(frames, 88, 88).Boxes;
        double degrees = turnedBoxes.Average(b => b.Angle) * 180 / Math.PI;
        output.WriteLine($"mean-face box angle {degrees:0.0} degrees");
        Assert.InRange(degrees, 8, 16);
        Assert.All(centred.LocateTrack(frames, 100, 50).Boxes, b => Assert.Equal(0, b.Angle));
    }

    [Fact]
    public void FaceAlignedFitRecoversAKnownSimilarityOfTheTemplate()
    {
        // The template moved by a known similarity (scale 1.7, -0.3 rad, shift (12, 34)); fitting it back onto the
        // template must give the inverse and put every point back.
        var template = FaceAligned.Template;
        var known = new Similarity(1.7, -0.3, 12, 34);
        var moved = new double[template.Length];
        for (int i = 0; i < template.Length; i += 2)
            (moved[i], moved[i + 1]) = known.Apply(template[i], template[i + 1]);
        var fit = FaceAligned.Fit(moved, template);
        Assert.Equal(1 / 1.7, fit.Scale, 1e-9);
        Assert.Equal(0.3, fit.Angle, 1e-9);
        for (int i = 0; i < template.Length; i += 2)
        {
            var (x, y) = fit.Apply(moved[i], moved[i + 1]);
            Assert.Equal(template[i], x, 1e-4);
            Assert.Equal(template[i + 1], y, 1e-4);
        }
        Assert.Equal((126, 179), FaceAligned.MouthCentre); // numpy: get_position(256)[-20:].mean(0).astype(int32)
        Assert.Equal(51, FaceAligned.Landmarks.Length);
        Assert.Equal(FaceLandmarks.DlibMouth, FaceAligned.Landmarks[^20..]);
        Assert.Equal(MeanFace.StableLandmarks[..2], new[] { FaceAligned.Landmarks[28 - 17], FaceAligned.Landmarks[33 - 17] }); // the same mapping

        // By hand: a cross of arms 1 stretched to arms 2 (x) and 1 (y), turned 90 degrees, moved. Centred, H = Σ p·qᵀ =
        // [[0, 4], [-2, 0]], so R turns by atan2(4 + 2, 0) = 90 degrees; std(from) = √(4/8), std(to) = √(10/8), so
        // scale = √2.5 ≈ 1.5811 (a least-squares similarity would give 1.5); t = (10, 20) − scale·R·(5, 7).
        double[] from = [4, 7, 6, 7, 5, 6, 5, 8];
        double[] to = [10, 18, 10, 22, 11, 20, 9, 20];
        var cross = FaceAligned.Fit(from, to);
        Assert.Equal(Math.Sqrt(2.5), cross.Scale, 1e-12);
        Assert.Equal(Math.PI / 2, cross.Angle, 1e-12);
        Assert.Equal(10 + 7 * Math.Sqrt(2.5), cross.TranslationX, 1e-9);
        Assert.Equal(20 - 5 * Math.Sqrt(2.5), cross.TranslationY, 1e-9);
        var (cx, cy) = cross.Invert(10, 20);
        Assert.Equal(5, cx, 1e-9);
        Assert.Equal(7, cy, 1e-9);

        // Mirrored points (numpy's R would be a reflection) and degenerate ones are typed errors.
        Assert.Contains("mirrored", Assert.Throws<MouthLocatorException>(() => FaceAligned.Fit([0, 0, 1, 0, 0, 1], [0, 0, -1, 0, 0, 1])).Message);
        Assert.Throws<MouthLocatorException>(() => FaceAligned.Fit([3, 3, 3, 3, 3, 3], [0, 0, 1, 0, 0, 1]));
    }

    [Fact]
    public void FaceAlignedBoxesMatchAnIndependentScriptOfTheFormula()
    {
        // tests/fixtures/make_face_aligned_fixture.py: LipNet-PyTorch's transformation_from_points, warp, window and
        // resize in numpy on Face Mesh landmarks of real GRID s1 bbaf4p: the transform and where a 128x64 crop's corner
        // pixels sample the frame.
        using var doc = JsonDocument.Parse(File.ReadAllText(OnnxGraphTests.Fixture("face_aligned_bbaf4p.json")));
        var root = doc.RootElement;
        Assert.Equal(FaceAligned.MouthCentre.X, root.GetProperty("mouth_centre")[0].GetInt32());
        Assert.Equal(FaceAligned.MouthCentre.Y, root.GetProperty("mouth_centre")[1].GetInt32());
        const int w = 128, h = 64;
        double worstTransform = 0, worstCorner = 0;
        foreach (var frame in root.GetProperty("frames").EnumerateArray())
        {
            var points = new float[FaceLandmarks.Count * 3];
            var given = frame.GetProperty("points").EnumerateArray().ToList();
            var xy = new double[2 * given.Count];
            for (int k = 0; k < given.Count; k++)
            {
                points[3 * FaceAligned.Landmarks[k]] = given[k][0].GetSingle();
                points[3 * FaceAligned.Landmarks[k] + 1] = given[k][1].GetSingle();
                (xy[2 * k], xy[2 * k + 1]) = (given[k][0].GetDouble(), given[k][1].GetDouble()); // the script's float64 points
            }
            var fit = FaceAligned.Fit(xy, FaceAligned.Template);
            var m = frame.GetProperty("m");
            double a = fit.Scale * Math.Cos(fit.Angle), b = fit.Scale * Math.Sin(fit.Angle);
            double[] ours = [a, -b, fit.TranslationX, b, a, fit.TranslationY];
            for (int k = 0; k < 6; k++)
                worstTransform = Math.Max(worstTransform, Math.Abs(ours[k] - m[k / 3][k % 3].GetDouble()) / (k % 3 == 2 ? 100 : 1));

            // Where MouthCropper samples crop pixel (u, v) of a rotated box: centre + R(angle)·((u, v) − crop centre)·scale.
            var box = FaceAligned.Box(new FaceLandmarks(points, 1));
            double sx = box.Width / w, sy = box.Height / h, cos = Math.Cos(box.Angle), sin = Math.Sin(box.Angle);
            var corners = frame.GetProperty("corners").EnumerateArray().ToList();
            int c = 0;
            foreach (var (u, v) in new[] { (0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1) })
            {
                double du = (u - (w - 1) / 2.0) * sx, dv = (v - (h - 1) / 2.0) * sy;
                double x = box.CenterX + cos * du - sin * dv, y = box.CenterY + sin * du + cos * dv;
                worstCorner = Math.Max(worstCorner, Math.Max(Math.Abs(x - corners[c][0].GetDouble()), Math.Abs(y - corners[c][1].GetDouble())));
                c++;
            }
        }
        output.WriteLine($"largest transform difference {worstTransform:E2} (translation per 100 px), largest corner difference {worstCorner:0.00000} px");
        Assert.True(worstTransform < 1e-9, $"transforms differ by {worstTransform}");
        Assert.True(worstCorner < 1e-3, $"crop corners differ by {worstCorner} px");
    }

    [Fact]
    public void FaceAlignedBoxesTurnWithTheHeadAndCropAsOpenCvWarpsAndResizes()
    {
        var (clip, frames) = TurnedClip();
        var profile = CropProfile.Get("Face-Aligned");
        Assert.Same(CropProfile.FaceAligned, profile);
        Assert.True(profile.UsesLandmarks);
        using var locator = Assert.IsType<LandmarkMouthLocator>(profile.CreateLocator(new LandmarkMouthLocatorOptions { LandmarkEvery = 1 }));
        Assert.Equal(MouthGeometry.FaceAligned, locator.Options.Geometry);
        var track = locator.LocateTrack(frames, profile.Width, profile.Height);
        double degrees = track.Boxes.Average(b => b.Angle) * 180 / Math.PI;
        output.WriteLine($"face-aligned box angle {degrees:0.0} degrees");
        Assert.InRange(degrees, 8, 16);

        // The crop against LipNet-PyTorch's steps done with OpenCV: warp to 256x256, cut the 160x80 window, resize to 128x64.
        var cropper = new MouthCropper(locator, new MouthCropOptions { Width = profile.Width, Height = profile.Height });
        var crops = cropper.CropBoxes(frames, track.Boxes);
        var (x, y) = FaceAligned.MouthCentre;
        var differences = new List<double>();
        for (int t = 0; t < frames.FrameCount; t += 15)
        {
            var l = track.Landmarks![t];
            var xy = FaceAligned.Landmarks.SelectMany(i => new double[] { l.X(i), l.Y(i) }).ToArray();
            var fit = FaceAligned.Fit(xy, FaceAligned.Template);
            double a = fit.Scale * Math.Cos(fit.Angle), b = fit.Scale * Math.Sin(fit.Angle);
            unsafe
            {
                fixed (byte* p = frames.Pixels)
                fixed (byte* q = crops.Pixels)
                {
                    using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                    using var ours = Mat.FromPixelData(profile.Height, profile.Width, MatType.CV_8UC3, (IntPtr)(q + (long)t * crops.FrameByteCount));
                    using var m = Mat.FromArray(new double[,] { { a, -b, fit.TranslationX }, { b, a, fit.TranslationY } });
                    using var aligned = new Mat();
                    Cv2.WarpAffine(frame, aligned, m, new Size(FaceAligned.CanvasSize, FaceAligned.CanvasSize));
                    using var window = aligned[new Rect(x - 80, y - 40, 160, 80)];
                    using var reference = new Mat();
                    Cv2.Resize(window, reference, new Size(profile.Width, profile.Height));
                    using var diff = new Mat();
                    Cv2.Absdiff(ours, reference, diff);
                    var mean = Cv2.Mean(diff);
                    differences.Add((mean.Val0 + mean.Val1 + mean.Val2) / 3);
                }
            }
        }
        output.WriteLine($"mean absolute difference from warp + cut + resize: {string.Join(", ", differences.Select(d => d.ToString("0.00")))} grey levels");
        Assert.All(differences, d => Assert.InRange(d, 0, 1)); // half a canvas pixel off gives 1.7-2.7
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
        Assert.Same(CropProfile.FaceAligned, new ModelCard { CropProfile = "face-aligned" }.Profile());
        Assert.Equal((128, 64, 3), (CropProfile.FaceAligned.Width, CropProfile.FaceAligned.Height, CropProfile.FaceAligned.Channels));
        Assert.Null(CropProfile.FaceAligned.Mean);
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
