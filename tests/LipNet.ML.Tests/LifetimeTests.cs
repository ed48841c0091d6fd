using LipNet.ML.Audio;
using LipNet.ML.Keypoints;
using LipNet.ML.LipToSpeech;
using LipNet.ML.Mouth;
using LipNet.ML.Runtime;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

/// <summary>Disposal and frames from callers: typed errors, never a native crash or a freed ONNX Runtime session.</summary>
public class LifetimeTests
{
    [Fact]
    public void FramesThatNativeCodeCannotReadSafelyAreTypedErrors()
    {
        using var reader = LipReader.Default();
        using var session = reader.OpenSession("caller");
        var updates = new List<TranscriptSegment>();
        // A buffer far shorter than its size: OpenCV read past its end (a segmentation fault at 4000x4000).
        foreach (var frame in new[]
        {
            new VideoFrame(new byte[1], 4000, 4000, PixelOrder.Bgr, 0, TimeSpan.Zero),
            new VideoFrame(new byte[30], 360, 288, PixelOrder.Bgr, 0, TimeSpan.Zero),
            new VideoFrame(null!, 360, 288, PixelOrder.Bgr, 0, TimeSpan.Zero),
            new VideoFrame(new byte[30], 0, 10, PixelOrder.Bgr, 0, TimeSpan.Zero),
        })
        {
            var ex = Assert.Throws<TensorShapeException>(() => session.Push(frame, updates));
            Assert.Equal("caller", ex.FilePath);
        }
        Assert.Throws<ArgumentNullException>(() => session.Push(new VideoFrame(new byte[360 * 288 * 3], 360, 288, PixelOrder.Bgr, 0, TimeSpan.Zero), null!));
        Assert.Throws<ArgumentNullException>(() => session.Complete(null!));
        // Times going back gave segments that end before they start.
        var pixels = new byte[360 * 288 * 3];
        session.Push(new VideoFrame(pixels, 360, 288, PixelOrder.Bgr, 0, TimeSpan.FromSeconds(1)), updates);
        Assert.Throws<TensorShapeException>(() => session.Push(new VideoFrame(pixels, 360, 288, PixelOrder.Bgr, 1, TimeSpan.Zero), updates));
        Assert.Throws<ArgumentException>(() => reader.TranscribeMany(["a.mp4", null!]));
        using var crops = new MouthCropper(new FixedRegionMouthLocator()).OpenStream("caller");
        Assert.Throws<TensorShapeException>(() => crops.Push(new VideoFrame(new byte[3], 100, 100, PixelOrder.Bgr, 0, TimeSpan.Zero), new List<MouthFrame>()));
    }

    [Fact]
    public void DisposedObjectsThrowObjectDisposedAndDisposeTwiceIsANoOp()
    {
        var frame = new VideoFrame(new byte[360 * 288 * 3], 360, 288, PixelOrder.Bgr, 0, TimeSpan.Zero);
        var reader = LipReader.Default();
        var session = reader.OpenSession();
        session.Dispose();
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Push(frame, new List<TranscriptSegment>()));
        Assert.Throws<ObjectDisposedException>(() => session.Complete(new List<TranscriptSegment>()));
        reader.Dispose();
        reader.Dispose();
        Assert.Equal(typeof(LipReader).FullName, Assert.Throws<ObjectDisposedException>(() => reader.Transcribe("x.mp4")).ObjectName);
        Assert.Throws<ObjectDisposedException>(() => reader.OpenSession());
        Assert.Throws<ObjectDisposedException>(() => reader.TranscribeMany(["x.mp4"]));

        var locator = new LandmarkMouthLocator();
        locator.Dispose();
        locator.Dispose();
        Assert.Throws<ObjectDisposedException>(() => locator.OpenTrackStream(100, 50, "x"));

        var keypoints = Wav2Keypoints.Default();
        keypoints.Dispose();
        keypoints.Dispose();
        var tone = new AudioClip(new float[16000], 16000, "<silence>");
        Assert.Throws<ObjectDisposedException>(() => keypoints.Predict(tone));

        var speech = LipToSpeechSynthesizer.Default();
        speech.Dispose();
        speech.Dispose();
        Assert.Throws<ObjectDisposedException>(() => speech.Mel(new VideoFrames(new byte[75 * 50 * 100 * 3], 75, 100, 50, 25, PixelOrder.Rgb, "x")));
    }

    [Fact]
    public void ReaderOptionsOutOfRangeFailWhenTheReaderIsMade()
    {
        // Before, a short clip read with bad streaming options gave "" and a NaN beta a one-space transcript.
        Assert.Throws<ArgumentOutOfRangeException>(() => LipReader.Default(new LipReaderOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LipReader.Default(new LipReaderOptions { BatchSize = 100_000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LipReader.Default(new LipReaderOptions { Beta = float.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LipReader.Default(new LipReaderOptions { BeamWidth = -1 }));
        Assert.Throws<ArgumentNullException>(() => LipReader.Default(new LipReaderOptions { Streaming = null! }));
        Assert.Throws<ArgumentNullException>(() => LipReader.Default(new LipReaderOptions { Session = new() { Device = null! } }));
        Assert.Throws<TensorShapeException>(() => LipReader.Default(new LipReaderOptions { Streaming = new() { ActivityRadiusFrames = 0 } }));
        Assert.Throws<TensorShapeException>(() => LipReader.Default(new LipReaderOptions { Streaming = new() { LipActivityThreshold = double.NaN } }));
        Assert.Throws<TensorShapeException>(() => LipReader.Default(new LipReaderOptions { Streaming = new() { Decoding = (SegmentDecoding)42 } }));
    }

    [Fact]
    public void FramesAtAnotherRateThanTheModelsAreATypedError()
    {
        using var reader = LipReader.Default();
        // Two sentences came out of one 3 s clip decoded at 50 fps: the model reads frames by position.
        var at50 = new VideoFrames(new byte[150 * 64 * 64 * 3], 150, 64, 64, 50, PixelOrder.Bgr, "clip at 50 fps");
        var ex = Assert.Throws<TensorShapeException>(() => reader.Transcribe(at50));
        Assert.Equal("clip at 50 fps", ex.FilePath);
        Assert.Contains("TargetFps = 25", ex.Message);
        Assert.Throws<VideoDecodeException>(() => reader.Transcribe(new VideoFrames([], 0, 64, 64, 25, PixelOrder.Bgr, "empty")));
    }

    [Fact]
    public void IndexesAndBuffersAreCheckedBeforeUse()
    {
        var points = new KeypointSequence(new float[2 * 80], 2, [], 0);
        Assert.Equal((0f, 0f), points.Point(1, 39));
        Assert.Throws<ArgumentOutOfRangeException>(() => points.Point(0, 40)); // read frame 1's point 0 before
        Assert.Throws<ArgumentOutOfRangeException>(() => points.Point(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => points.Point(-1, 0));

        // A buffer too small for a frame is refused before the frame is decoded: none is lost.
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 5);
        using var reader = VideoReader.Open(path);
        var frame = new byte[reader.FrameByteCount];
        Assert.True(reader.ReadFrame(frame));
        Assert.Throws<TensorShapeException>(() => reader.ReadFrame(new byte[10]));
        int rest = 0;
        while (reader.ReadFrame(frame))
            rest++;
        Assert.Equal(4, rest);
        Assert.Throws<TensorShapeException>(() => new VideoFrames(new byte[10], 0, 100_000, 100_000, 25, PixelOrder.Bgr, "huge"));
        Assert.Equal(path, Assert.Throws<TensorShapeException>(() => VideoReader.Open(path, new VideoReadOptions { TargetFps = 0 })).FilePath);
        Assert.Throws<ArgumentNullException>(() => LipNetModel.Load((string)null!));
        Assert.Contains("directory", Assert.Throws<Runtime.ModelLoadException>(() => LipNetModel.Load(dir.Path)).Message);
    }
}
