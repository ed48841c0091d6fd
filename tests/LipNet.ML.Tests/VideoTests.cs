using LipNet.ML.Video;

namespace LipNet.ML.Tests;

public class VideoTests
{
    [Theory]
    [InlineData("clip.avi", "MJPG")]
    [InlineData("clip.mp4", "mp4v")]
    [InlineData("clip.mkv", "FFV1")]
    public void WrittenVideoReadsBackWithItsSizeRateAndFrames(string name, string fourcc)
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File(name), frames: 12, width: 96, height: 64, fps: 25, fourcc: fourcc);
        var frames = VideoLoader.Load(path);
        Assert.Equal(12, frames.FrameCount);
        Assert.Equal(96, frames.Width);
        Assert.Equal(64, frames.Height);
        Assert.Equal(25, frames.Fps, 3);
        Assert.Equal(PixelOrder.Bgr, frames.Order);
        // Background colour (B=40, G=60, R=80) survives the codec within a few levels.
        var first = frames.Frame(0);
        Assert.InRange(first[0], 30, 50);
        Assert.InRange(first[2], 70, 90);
    }

    [Fact]
    public void RgbOrderSwapsChannels()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 3);
        var bgr = VideoLoader.Load(path);
        var rgb = VideoLoader.Load(path, new VideoReadOptions { Order = PixelOrder.Rgb });
        Assert.Equal(bgr.Frame(1)[0], rgb.Frame(1)[2]);
        Assert.Equal(bgr.Frame(1)[2], rgb.Frame(1)[0]);
    }

    [Fact]
    public void StreamGivesTheSameFramesAsThePath()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 5);
        var fromPath = VideoLoader.Load(path);
        using var stream = File.OpenRead(path);
        var fromStream = VideoLoader.Load(stream, "c.avi");
        Assert.Equal(fromPath.FrameCount, fromStream.FrameCount);
        Assert.True(fromPath.Frame(4).SequenceEqual(fromStream.Frame(4)));
        Assert.Equal("c.avi", fromStream.Source);
    }

    [Fact]
    public void StreamingReaderFillsCallerBufferAndStopsAtMaxFrames()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 10, width: 64, height: 48);
        using var reader = VideoReader.Open(path, new VideoReadOptions { MaxFrames = 4 });
        var buffer = new byte[reader.FrameByteCount];
        int n = 0;
        while (reader.ReadFrame(buffer))
            n++;
        Assert.Equal(4, n);
    }

    [Fact]
    public void ReadingTheHeadOfALongVideoHoldsOnlyTheHeadAndTheRestStreamsOnWithTimes()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("long.avi"), frames: 40, width: 96, height: 64, fps: 25, fourcc: "MJPG");
        using var reader = VideoReader.Open(path, new VideoReadOptions { TargetFps = 25 });
        var head = reader.ReadAll(null, 10);
        Assert.Equal(10, head.FrameCount);
        Assert.True(head.Pixels.Length <= 10 * head.FrameByteCount, $"{head.Pixels.Length} bytes for 10 frames: sized by the limit, not the video");
        var rest = reader.ReadFrames().ToList();
        Assert.Equal(30, rest.Count);
        Assert.Equal(10, rest[0].Index);
        Assert.Equal(TimeSpan.FromSeconds(39 / 25.0), rest[^1].Time);
        Assert.All(rest, f => Assert.Equal(96 * 64 * 3, f.Pixels.Length));
    }

    [Fact]
    public void ADirectoryIsNotAVideoFile()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<VideoDecodeException>(() => VideoReader.Open(dir.Path));
        Assert.Contains("directory", ex.Message);
    }

    [Fact]
    public void MissingFileIsATypedErrorNamingTheFile()
    {
        var ex = Assert.Throws<VideoDecodeException>(() => VideoLoader.Load("/no/such/clip.mpg"));
        Assert.Equal("/no/such/clip.mpg", ex.FilePath);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void EmptyFileIsATypedError()
    {
        using var dir = new TempDir();
        var path = dir.File("empty.mp4");
        File.WriteAllBytes(path, []);
        var ex = Assert.Throws<VideoDecodeException>(() => VideoLoader.Load(path));
        Assert.Contains("empty", ex.Reason);
    }

    [Fact]
    public void AnAudioOnlyFileIsATypedErrorThatSaysItHasNoVideoStream()
    {
        using var dir = new TempDir();
        string clip = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        var path = dir.File("audio-only.mp4");
        FrameRateTests.Ffmpeg("-i", clip, "-vn", "-c:a", "copy", path);
        var ex = Assert.Throws<VideoDecodeException>(() => VideoLoader.Load(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("no video stream", ex.Reason);
    }

    [Fact]
    public void GarbageFileIsATypedError()
    {
        using var dir = new TempDir();
        var path = dir.File("garbage.mp4");
        var bytes = new byte[50_000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.ThrowsAny<LipNetException>(() => VideoLoader.Load(path));
        Assert.Equal(path, ex.FilePath);
    }

    [Fact]
    public void AbsurdSizeIsRefused()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 2, width: 160, height: 120);
        var ex = Assert.Throws<VideoDecodeException>(() => VideoLoader.Load(path, new VideoReadOptions { MaxDimension = 100 }));
        Assert.Contains("absurd", ex.Reason);
        Assert.Throws<VideoDecodeException>(() => VideoLoader.Load(path, new VideoReadOptions { MaxDecodedBytes = 1000 }));
    }

    [Fact]
    public void AFileCutShortOfTheFramesItsContainerDeclaresIsATypedError()
    {
        // The bundled real GRID clip keeps its index up front: cut, it still declares 75 frames but decodes 2 or 37. Read on, it
        // gave a confident wrong sentence with exit code 0.
        string clip = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..",
            "samples", "data", "grid", "video", "s1", "bbaf4p.mp4"));
        var bytes = File.ReadAllBytes(clip);
        using var dir = new TempDir();
        foreach (var keep in new[] { 20_000, 80_000 })
        {
            var cut = dir.File($"cut{keep}.mp4");
            File.WriteAllBytes(cut, bytes[..keep]);
            var ex = Assert.Throws<VideoDecodeException>(() => VideoLoader.Load(cut));
            Assert.Equal(cut, ex.FilePath);
            Assert.Contains("of the 75 frames its container declares", ex.Reason);
            // Frame by frame the reader ends normally and says so: a long video's transcription reads up to the cut.
            using var reader = VideoReader.Open(cut);
            var buffer = new byte[reader.FrameByteCount];
            while (reader.ReadFrame(buffer)) { }
            Assert.True(reader.EndedShort);
        }
        Assert.Equal(75, VideoLoader.Load(clip).FrameCount);
        using (var whole = VideoReader.Open(clip))
        {
            var buffer = new byte[whole.FrameByteCount];
            while (whole.ReadFrame(buffer)) { }
            Assert.False(whole.EndedShort);
        }
    }

    [Fact]
    public void TruncatedVideoDecodesWhatIsThereOrFailsTyped()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("c.avi"), frames: 20);
        var bytes = File.ReadAllBytes(path);
        foreach (var keep in new[] { 16, 200, bytes.Length / 3, bytes.Length / 2 })
        {
            var cut = dir.File($"cut{keep}.avi");
            File.WriteAllBytes(cut, bytes[..keep]);
            try
            {
                var frames = VideoLoader.Load(cut);
                Assert.InRange(frames.FrameCount, 1, 20);
            }
            catch (LipNetException ex)
            {
                Assert.Equal(cut, ex.FilePath);
            }
        }
    }
}
