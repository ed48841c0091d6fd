using BenchmarkDotNet.Attributes;
using LipNet.ML.Mouth;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Benchmarks;

/// <summary>Per-clip cost of each front-end stage on a 75-frame 360x288 clip. frames/s = 75 / mean time.</summary>
[MemoryDiagnoser]
public class PreprocessBenchmarks
{
    private string _clip = "";
    private VideoFrames _frames = null!;
    private VideoFrames _crops = null!;
    private HaarMouthLocator _haar = null!;
    private MouthCropper _haarCropper = null!;
    private HaarMouthLocator _haarSearching = null!;
    private MouthCropper _haarSearchingCropper = null!;
    private MouthCropper _fixedCropper = null!;
    private VideoFrames _faceFrames = null!;
    private LandmarkMouthLocator _landmarks = null!, _landmarksEvery2 = null!;
    private MouthCropper _landmarkCropper = null!, _landmarkEvery2Cropper = null!, _haarFaceCropper = null!;
    private readonly FrameNormalizer _normalizer = new();
    private readonly float[] _tensor = new float[3 * 75 * 50 * 100];

    [GlobalSetup]
    public void Setup()
    {
        _clip = BenchClips.GridClip();
        _frames = VideoLoader.Load(_clip);
        _haar = new HaarMouthLocator(new HaarMouthLocatorOptions { Fallback = new FixedRegionMouthLocator() });
        _haarCropper = new MouthCropper(_haar);
        _haarSearching = new HaarMouthLocator(new HaarMouthLocatorOptions { Fallback = new FixedRegionMouthLocator(), TrackFace = false });
        _haarSearchingCropper = new MouthCropper(_haarSearching);
        _fixedCropper = new MouthCropper(new FixedRegionMouthLocator(0.45f, 0.68f, 0.25f));
        _crops = _haarCropper.Crop(_frames).Frames;
        Console.WriteLine($"// clip: {_clip} ({_frames.FrameCount} frames {_frames.Width}x{_frames.Height})");
        // The landmark locator needs a face: a real GRID clip, else the bundled synthetic one.
        var faceClip = BenchClips.FaceClip();
        _faceFrames = VideoLoader.Load(faceClip);
        _landmarks = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { LandmarkEvery = 1 });
        _landmarksEvery2 = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { LandmarkEvery = 2 });
        _landmarkCropper = new MouthCropper(_landmarks);
        _landmarkEvery2Cropper = new MouthCropper(_landmarksEvery2);
        _haarFaceCropper = new MouthCropper(_haar);
        Console.WriteLine($"// face clip: {faceClip} ({_faceFrames.FrameCount} frames {_faceFrames.Width}x{_faceFrames.Height})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _haar.Dispose();
        _haarSearching.Dispose();
        _landmarks.Dispose();
        _landmarksEvery2.Dispose();
    }

    [Benchmark(Description = "face clip: locate+crop (Haar, the haar profile)")]
    public int FaceClipHaar() => _haarFaceCropper.Crop(_faceFrames).Boxes.Length;

    [Benchmark(Description = "face clip: locate+crop (landmarks: UltraFace + Face Mesh every frame, mouth-centred)")]
    public int FaceClipLandmarks() => _landmarkCropper.Crop(_faceFrames).Boxes.Length;

    [Benchmark(Description = "face clip: locate+crop (landmarks, Face Mesh every 2nd frame: the default)")]
    public int FaceClipLandmarksEvery2() => _landmarkEvery2Cropper.Crop(_faceFrames).Boxes.Length;

    [Benchmark(Description = "decode")]
    public int Decode() => VideoLoader.Load(_clip).FrameCount;

    [Benchmark(Description = "locate+crop (Haar, every 10th frame, tracked)")]
    public int LocateAndCropHaar() => _haarCropper.Crop(_frames).Boxes.Length;

    [Benchmark(Description = "locate+crop (Haar, every 10th frame, full-frame searches)")]
    public int LocateAndCropHaarSearching() => _haarSearchingCropper.Crop(_frames).Boxes.Length;

    [Benchmark(Description = "crop (fixed region)")]
    public int CropFixed() => _fixedCropper.Crop(_frames).Boxes.Length;

    [Benchmark(Description = "normalize into a reused buffer")]
    public int Normalize() => _normalizer.Normalize(_crops, _tensor);

    [Benchmark(Description = "end to end (decode+Haar crop+normalize)")]
    public int EndToEnd() => _normalizer.Normalize(_haarCropper.Crop(VideoLoader.Load(_clip)).Frames, _tensor);
}
