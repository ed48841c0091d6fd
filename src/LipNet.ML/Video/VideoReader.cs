using System.Diagnostics;
using System.Runtime.CompilerServices;
using OpenCvSharp;

namespace LipNet.ML.Video;

/// <summary>Limits and choices for decoding a video.</summary>
public sealed record VideoReadOptions
{
    /// <summary>Channel order of the decoded bytes.</summary>
    public PixelOrder Order { get; init; } = PixelOrder.Bgr;

    /// <summary>Stop after this many frames (0 = all).</summary>
    public int MaxFrames { get; init; }

    /// <summary>Frames wider or taller than this are refused as absurd.</summary>
    public int MaxDimension { get; init; } = 8192;

    /// <summary>A whole clip larger than this many decoded bytes is refused instead of exhausting memory.</summary>
    public long MaxDecodedBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Resample to this frame rate (frames per second) by presentation timestamp: output frame k is the source frame
    /// whose timestamp is nearest to k / rate after the first frame's, so 30 or 60 fps copies, variable frame rates
    /// and dropped frames all give the frames a model trained at this rate expects. Null = every decoded frame as it comes.
    /// </summary>
    public double? TargetFps { get; init; }

    /// <summary>Apply the rotation stored in the container's metadata (phone videos), so frames come upright.</summary>
    public bool ApplyRotation { get; init; } = true;

    /// <summary>How long a camera or stream URL may take to open (OpenCV's open timeout).</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a camera or stream URL may take to deliver a frame (OpenCV's read timeout).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The defaults: BGR, every frame at the source's rate, upright, 8192-pixel and 2 GiB limits, 10 s timeouts.</summary>
    public static VideoReadOptions Default { get; } = new();
}

/// <summary>
/// Streams frames out of a video file with OpenCV's FFmpeg backend (mpg, mp4, mov, avi ...). One native
/// frame buffer is reused, so the read loop allocates nothing managed per frame.
/// </summary>
/// <remarks>
/// <see cref="Open(Stream, string?, VideoReadOptions?)"/> copies the stream to a temporary file, because
/// OpenCV's decoders read from paths only; the file is deleted on <see cref="Dispose"/>.
/// </remarks>
public sealed class VideoReader : IDisposable
{
    private readonly VideoCapture _capture;
    private readonly Mat _frame = new();
    private readonly Mat _converted = new();
    private readonly string? _tempFile;
    private readonly VideoReadOptions _options;
    private readonly bool _isFile; // a file or a copied stream: its container's frame count is checked at the end
    private int _framesRead;

    private VideoReader(VideoCapture capture, string source, string? tempFile, VideoReadOptions options, bool isFile)
    {
        _isFile = isFile;
        _capture = capture;
        _tempFile = tempFile;
        _options = options;
        Source = source;
        SourceFps = capture.Fps;
        Width = capture.FrameWidth;
        Height = capture.FrameHeight;
        ReportedFrameCount = Math.Max(0, capture.FrameCount);
        Rotation = (int)capture.Get(VideoCaptureProperties.OrientationMeta);
        capture.Set(VideoCaptureProperties.OrientationAuto, options.ApplyRotation ? 1 : 0);
        if (options.TargetFps is { } fps)
            _resampler = new FrameRateResampler(fps, SourceFps);
    }

    private readonly FrameRateResampler? _resampler;
    private Mat _held = new(), _next = new();
    private bool _heldValid, _haveNext, _sourceEnded;
    private int _repeat;
    private double? _firstTimestamp;

    /// <summary>
    /// Names the video in errors: the path or URL as given, <c>camera N</c>, or for a stream its name hint (<c>&lt;stream&gt;</c>
    /// without one).
    /// </summary>
    public string Source { get; }

    /// <summary>Frame width in pixels (after any rotation from the metadata).</summary>
    public int Width { get; private set; }

    /// <summary>Frame height in pixels (after any rotation from the metadata).</summary>
    public int Height { get; private set; }

    /// <summary>Rate of the frames this reader yields: <see cref="VideoReadOptions.TargetFps"/> when set, else the source's.</summary>
    public double Fps => _options.TargetFps ?? SourceFps;

    /// <summary>The frame rate the container states (frames per second; 0 when unknown).</summary>
    public double SourceFps { get; }

    /// <summary>Rotation in degrees stored in the container's metadata (0, 90, 180, 270), applied unless <see cref="VideoReadOptions.ApplyRotation"/> is off.</summary>
    public int Rotation { get; }

    /// <summary>Frame count the container claims; decoding may yield a few more or fewer.</summary>
    public int ReportedFrameCount { get; }

    /// <summary>
    /// True once a file (or a copied stream) has ended at least 20% and 10 frames short of <see cref="ReportedFrameCount"/>: it is
    /// cut short, e.g. a partial download. <see cref="ReadAll()"/> then throws; frame-by-frame reads end normally and leave the
    /// decision to the caller (a long video's transcription reads up to the cut). Never set for URLs and cameras.
    /// </summary>
    public bool EndedShort { get; private set; }

    /// <summary>Source frames decoded so far.</summary>
    public int SourceFramesRead => _framesRead;

    /// <summary>Presentation time of the last source frame decoded, in seconds from the first (monotonic; see <see cref="FrameRateResampler"/>).</summary>
    public double LastTimestamp { get; private set; }

    /// <summary>Duration of the source read so far: last timestamp plus one source frame's duration, in seconds.</summary>
    public double DurationSeconds => _resampler?.Duration ?? (_framesRead == 0 ? 0 : LastTimestamp + (SourceFps > 0 ? 1 / SourceFps : 0));

    /// <summary>Channel order of the decoded bytes (<see cref="VideoReadOptions.Order"/>; BGR by default).</summary>
    public PixelOrder Order => _options.Order;

    /// <summary>Bytes of one decoded frame, H x W x 3.</summary>
    public int FrameByteCount => Width * Height * VideoFrames.Channels;

    /// <summary>Opens a video file, or a stream URL (any <c>scheme://</c> address FFmpeg reads: rtsp, http, udp ...).</summary>
    /// <exception cref="VideoDecodeException">Missing, empty, unreadable or absurd file; a URL that does not answer within
    /// <see cref="VideoReadOptions.OpenTimeout"/>.</exception>
    /// <param name="path">A file path or a <c>scheme://</c> URL.</param>
    /// <param name="options">Channel order, frame limits, resampling, timeouts; null = <see cref="VideoReadOptions.Default"/>.</param>
    /// <returns>An open reader positioned before the first frame; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="TensorShapeException"><see cref="VideoReadOptions.TargetFps"/> outside (0, 1000], naming the file.</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public static VideoReader Open(string path, VideoReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (IsUrl(path))
            return OpenCapture(path, path, null, options ?? VideoReadOptions.Default);
        if (Directory.Exists(path))
            throw new VideoDecodeException("is a directory, not a video file", path);
        if (!File.Exists(path))
            throw new VideoDecodeException("video file not found", path);
        if (new FileInfo(path).Length == 0)
            throw new VideoDecodeException("video file is empty", path);
        return OpenCapture(path, path, null, options ?? VideoReadOptions.Default);
    }

    /// <summary>Opens a video held in a stream (copied to a temporary file first).</summary>
    /// <param name="stream">The encoded video, read from its current position to its end.</param>
    /// <param name="nameHint">Original file name; its extension helps the demuxer and it names the source in errors.</param>
    /// <param name="options">Channel order, frame limits, resampling; null = <see cref="VideoReadOptions.Default"/>.</param>
    /// <returns>An open reader; disposing it deletes the temporary file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="VideoDecodeException">An empty stream, or content no decoder can open, or an absurd frame size.</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public static VideoReader Open(Stream stream, string? nameHint = null, VideoReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string source = nameHint ?? "<stream>";
        string ext = Path.GetExtension(nameHint ?? "") is { Length: > 0 } e ? e : ".bin";
        string temp = Path.Combine(Path.GetTempPath(), $"lipnet-{Guid.NewGuid():N}{ext}");
        try
        {
            using (var file = File.Create(temp))
                stream.CopyTo(file);
            if (new FileInfo(temp).Length == 0)
                throw new VideoDecodeException("video stream is empty", source);
            return OpenCapture(temp, source, temp, options ?? VideoReadOptions.Default);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>True for a stream address (<c>scheme://...</c>) rather than a file path.</summary>
    public static bool IsUrl(string path) => Uri.TryCreate(path, UriKind.Absolute, out var uri) && !uri.IsFile && path.Contains("://", StringComparison.Ordinal);

    /// <summary>Opens camera <paramref name="index"/> (0 = the first) through OpenCV's default capture backend (V4L2 on Linux).</summary>
    /// <exception cref="VideoDecodeException">The camera does not exist, cannot be opened, or yields no frame within
    /// <see cref="VideoReadOptions.OpenTimeout"/>; the message names <c>camera N</c>.</exception>
    public static VideoReader OpenCamera(int index, VideoReadOptions? options = null)
    {
        options ??= VideoReadOptions.Default;
        string source = $"camera {index}";
        CheckOptions(options, source);
        if (index < 0)
            throw new VideoDecodeException("camera index must be 0 or more", source);
        var capture = Capture(() => new VideoCapture(index, VideoCaptureAPIs.ANY, Timeouts(options)), source, "camera");
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new VideoDecodeException("cannot be opened (no such device, no permission, or held by another program)", source);
        }
        return Checked(new VideoReader(capture, source, null, options, isFile: false), options);
    }

    // CAP_PROP_OPEN_TIMEOUT_MSEC (53) and CAP_PROP_READ_TIMEOUT_MSEC (54): OpenCvSharp's enum lacks them. Without them an
    // unreachable stream takes FFmpeg's own timeout (minutes; OpenCvSharp #1701).
    private static int[] Timeouts(VideoReadOptions options) =>
        [53, (int)options.OpenTimeout.TotalMilliseconds, 54, (int)options.ReadTimeout.TotalMilliseconds];

    /// <summary>Options that cannot work fail before anything is opened, naming the source.</summary>
    private static void CheckOptions(VideoReadOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TargetFps is { } fps && !(fps > 0 && double.IsFinite(fps) && fps <= 1000))
            throw new TensorShapeException($"target frame rate {fps} must lie in (0, 1000] frames per second", source);
    }

    private static VideoReader OpenCapture(string path, string source, string? tempFile, VideoReadOptions options)
    {
        CheckOptions(options, source);
        var capture = Capture(() => IsUrl(path) ? new VideoCapture(path, VideoCaptureAPIs.FFMPEG, Timeouts(options)) : new VideoCapture(path, VideoCaptureAPIs.FFMPEG),
            source, "video");
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new VideoDecodeException(IsUrl(path) ? $"the stream did not answer within {options.OpenTimeout.TotalSeconds:0.#} s or is not a video"
                : "not a readable video: no video stream (an audio-only file?), or corrupt, or a codec OpenCV's FFmpeg cannot decode", source);
        }
        return Checked(new VideoReader(capture, source, tempFile, options, isFile: !IsUrl(path)), options);
    }

    /// <summary>Creates a capture, turning a missing OpenCV library or an OpenCV error into the library's typed errors.</summary>
    private static VideoCapture Capture(Func<VideoCapture> open, string source, string what)
    {
        try
        {
            return open();
        }
        catch (Exception ex) when (NativeLibraryException.IsMissingNative(ex))
        {
            throw NativeLibraryException.OpenCv(ex, source);
        }
        catch (Exception ex) when (ex is OpenCVException or OpenCvSharpException)
        {
            throw new VideoDecodeException($"OpenCV could not open the {what} ({ex.Message})", source, ex);
        }
    }

    private static VideoReader Checked(VideoReader reader, VideoReadOptions options)
    {
        string source = reader.Source;
        if (reader.Width > options.MaxDimension || reader.Height > options.MaxDimension || reader.Width < 0 || reader.Height < 0)
        {
            reader.Dispose();
            throw new VideoDecodeException($"absurd frame size {reader.Width}x{reader.Height} (limit {options.MaxDimension})", source);
        }
        return reader;
    }

    /// <summary>
    /// Decodes the next frame into <paramref name="destination"/> (H x W x 3 bytes in <see cref="Order"/>).
    /// Returns false at the end of the video.
    /// </summary>
    public unsafe bool ReadFrame(Span<byte> destination)
    {
        // Checked before decoding too, so a short buffer loses no frame; the size is known once the first frame is decoded.
        if (_framesRead > 0 && destination.Length < FrameByteCount)
            throw new TensorShapeException($"destination holds {destination.Length} bytes, a frame needs {FrameByteCount}", Source);
        if (!ReadNative(out Mat? frame))
            return false;
        if (destination.Length < FrameByteCount)
            throw new TensorShapeException($"destination holds {destination.Length} bytes, a frame needs {FrameByteCount}", Source);
        new ReadOnlySpan<byte>((void*)frame!.Data, FrameByteCount).CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Decodes the next frame (resampled to <see cref="VideoReadOptions.TargetFps"/> when set) and returns the
    /// reader's own continuous 8UC3 Mat (valid until the next read).
    /// </summary>
    public bool ReadNative(out Mat? frame)
    {
        frame = null;
        if (_options.MaxFrames > 0 && FramesYielded >= _options.MaxFrames)
            return false;
        if (_resampler is null)
        {
            if (!ReadSource(out frame))
                return false;
            FramesYielded++;
            return true;
        }
        while (true)
        {
            if (_repeat > 0)
            {
                _repeat--;
                FramesYielded++;
                frame = _held;
                return true;
            }
            if (_haveNext)
            {
                (_held, _next) = (_next, _held);
                _haveNext = false;
            }
            if (_sourceEnded)
                return false;
            if (!ReadSource(out var source))
            {
                _sourceEnded = true;
                _repeat = _heldValid ? _resampler.RemainingAtEnd() : 0;
                continue;
            }
            double time = _resampler.Push(CurrentTimestamp(), out int emitPrevious);
            LastTimestamp = time;
            if (!_heldValid)
            {
                source!.CopyTo(_held);
                _heldValid = true;
                continue;
            }
            source!.CopyTo(_next);
            _haveNext = true;
            _repeat = emitPrevious;
        }
    }

    /// <summary>Frames this reader has yielded (after resampling).</summary>
    public int FramesYielded { get; private set; }

    /// <summary>
    /// The remaining frames one at a time, each in its own buffer with its time: at <see cref="VideoReadOptions.TargetFps"/>
    /// frame k is at k / rate; otherwise at the source's presentation time. Memory stays at one frame however long the video.
    /// </summary>
    /// <exception cref="VideoDecodeException">Decoding fails mid-stream (the frames before it have been yielded).</exception>
    public IEnumerable<VideoFrame> ReadFrames() => ReadFrames(pooled: false);

    /// <summary>
    /// As <see cref="ReadFrames()"/>; <paramref name="pooled"/>: buffers come from a small pool and go back to it through
    /// <see cref="VideoFrame.Recycle"/> (for the library's own pipelines, whose frames never reach a caller).
    /// </summary>
    internal IEnumerable<VideoFrame> ReadFrames(bool pooled)
    {
        var pool = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        void Recycle(byte[] buffer)
        {
            if (buffer.Length == FrameByteCount && pool.Count < 256)
                pool.Add(buffer);
        }
        while (ReadNative(out Mat? frame))
        {
            int index = FramesYielded - 1;
            var time = _options.TargetFps is { } fps ? TimeSpan.FromSeconds(index / fps) : TimeSpan.FromSeconds(LastTimestamp);
            var pixels = pooled && pool.TryTake(out var reused) && reused.Length == FrameByteCount ? reused : GC.AllocateUninitializedArray<byte>(FrameByteCount);
            unsafe
            {
                new ReadOnlySpan<byte>((void*)frame!.Data, pixels.Length).CopyTo(pixels);
            }
            yield return new VideoFrame(pixels, Width, Height, Order, index, time) { Recycle = pooled ? Recycle : null };
        }
    }

    /// <summary>The decoder's presentation time of the frame just read, in seconds (NaN when it has none).</summary>
    private double CurrentTimestamp()
    {
        double ms = _capture.Get(VideoCaptureProperties.PosMsec);
        return double.IsFinite(ms) && ms >= 0 ? ms / 1000 : double.NaN;
    }

    private bool ReadSource(out Mat? frame)
    {
        frame = null;
        bool ok;
        try
        {
            ok = _capture.Read(_frame);
        }
        catch (Exception ex) when (ex is OpenCVException or OpenCvSharpException)
        {
            throw new VideoDecodeException($"decoding failed at frame {_framesRead} ({ex.Message})", Source, ex);
        }
        if (!ok || _frame.Empty())
        {
            // Containers round their frame count, and some only estimate it, but a file that ends 20% and 10 frames short of it is
            // cut short (e.g. a partial download).
            EndedShort = _isFile && _framesRead > 0 && 5L * _framesRead < 4L * ReportedFrameCount && ReportedFrameCount - _framesRead >= 10;
            return false;
        }
        if (_frame.Type() != MatType.CV_8UC3)
            throw new VideoDecodeException($"unsupported decoded pixel format {_frame.Type()} at frame {_framesRead}", Source);
        if (_framesRead == 0)
        {
            // The container header may lie (or be 0); the first decoded frame is the truth.
            Width = _frame.Width;
            Height = _frame.Height;
            if (Width > _options.MaxDimension || Height > _options.MaxDimension)
                throw new VideoDecodeException($"absurd frame size {Width}x{Height} (limit {_options.MaxDimension})", Source);
        }
        else if (_frame.Width != Width || _frame.Height != Height)
        {
            throw new VideoDecodeException($"frame {_framesRead} is {_frame.Width}x{_frame.Height}, earlier frames {Width}x{Height}", Source);
        }
        Mat result = _frame;
        if (_options.Order == PixelOrder.Rgb)
        {
            Cv2.CvtColor(_frame, _converted, ColorConversionCodes.BGR2RGB);
            result = _converted;
        }
        if (!result.IsContinuous())
            throw new VideoDecodeException("decoder returned a non-continuous frame", Source);
        _framesRead++;
        if (_resampler is null && CurrentTimestamp() is var t && double.IsFinite(t))
        {
            _firstTimestamp ??= t;
            LastTimestamp = t - _firstTimestamp.Value;
        }
        frame = result;
        return true;
    }

    /// <summary>
    /// <see cref="ReadFrames()"/> as an async stream for <c>LipReader.TranscribeAsync</c>: each frame is decoded on the
    /// thread pool (a camera's read blocks until its next frame). <paramref name="paced"/>: a file is delivered at its
    /// frame rate, each frame no earlier than its time after the first — a recorded file standing in for a camera.
    /// </summary>
    /// <exception cref="VideoDecodeException">Decoding fails mid-stream.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async IAsyncEnumerable<VideoFrame> ReadFramesAsync(bool paced = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var frames = ReadFrames().GetEnumerator();
        while (await Task.Run(frames.MoveNext, cancellationToken).ConfigureAwait(false))
        {
            var frame = frames.Current;
            if (paced && frame.Time - clock.Elapsed is { } wait && wait > TimeSpan.Zero)
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            yield return frame;
        }
    }

    /// <summary>Decodes every remaining frame into one contiguous <see cref="VideoFrames"/>.</summary>
    /// <exception cref="VideoDecodeException">
    /// No frame decodes, a frame is malformed, the size limit is passed, or the file is cut short (<see cref="EndedShort"/>).
    /// </exception>
    public VideoFrames ReadAll() => ReadAll(null);

    /// <summary>
    /// As <see cref="ReadAll()"/>, decoding into <paramref name="reuse"/> when it is large enough (the
    /// result then shares it: valid until the caller reuses the buffer). Saves a fresh multi-megabyte
    /// allocation per clip in loops that only need the frames briefly.
    /// </summary>
    public VideoFrames ReadAll(byte[]? reuse) => ReadAll(reuse, int.MaxValue);

    /// <summary>As <see cref="ReadAll(byte[])"/>, stopping after <paramref name="limit"/> frames (the rest stay to be read).</summary>
    internal VideoFrames ReadAll(byte[]? reuse, int limit)
    {
        byte[] pixels = reuse ?? Array.Empty<byte>();
        int count = 0;
        while (count < limit && ReadNative(out Mat? frame))
        {
            int frameBytes = FrameByteCount;
            long needed = (long)(count + 1) * frameBytes;
            if (needed > _options.MaxDecodedBytes || needed > Array.MaxLength)
                throw new VideoDecodeException($"decoded size of {count + 1} frames of {Width}x{Height} exceeds the {_options.MaxDecodedBytes} byte limit", Source);
            if (needed > pixels.LongLength)
            {
                // Size for the container's frame count up front; grow by half when it under-reports.
                long target = Math.Max(needed, count == 0 ? (long)Math.Clamp(ReportedFrameCount, 1, limit) * frameBytes : pixels.LongLength * 3 / 2);
                target = Math.Min(target, (long)Math.Min(limit, int.MaxValue / Math.Max(1, frameBytes)) * frameBytes);
                target = Math.Min(target, Math.Min(_options.MaxDecodedBytes, Array.MaxLength));
                var grown = GC.AllocateUninitializedArray<byte>((int)target); // every byte is overwritten by a frame before it is read
                pixels.AsSpan(0, count * frameBytes).CopyTo(grown);
                pixels = grown;
            }
            unsafe
            {
                new ReadOnlySpan<byte>((void*)frame!.Data, frameBytes).CopyTo(pixels.AsSpan(count * frameBytes, frameBytes));
            }
            count++;
        }
        if (count == 0)
            throw new VideoDecodeException("video has no decodable frames", Source);
        if (count < limit && EndedShort)
            throw new VideoDecodeException(
                $"ends after {SourceFramesRead} of the {ReportedFrameCount} frames its container declares: the file is truncated or corrupt", Source);
        return new VideoFrames(pixels, count, Width, Height, Fps, _options.Order, Source)
        {
            SourceFps = SourceFps,
            SourceFrameCount = SourceFramesRead,
            SourceDurationSeconds = DurationSeconds,
        };
    }

    /// <summary>Closes the capture, frees the native frame buffers and deletes the temporary file of a stream, if any.</summary>
    public void Dispose()
    {
        _held.Dispose();
        _next.Dispose();
        _frame.Dispose();
        _converted.Dispose();
        _capture.Dispose();
        if (_tempFile is not null)
        {
            try { File.Delete(_tempFile); } catch (IOException) { /* best effort: a temp file left behind is harmless */ }
        }
    }
}

/// <summary>One-call decoding of a whole clip.</summary>
public static class VideoLoader
{
    /// <summary>Decodes every frame of a video file or stream URL into one contiguous stack.</summary>
    /// <param name="path">A file path or a <c>scheme://</c> URL (a live stream is read until it ends).</param>
    /// <param name="options">Channel order (BGR by default), frame limit, resampling; null = the defaults.</param>
    /// <returns>The frames, [T, H, W, 3] bytes, with their rate and the source's rate, frame count and duration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="VideoDecodeException">
    /// Missing, empty, unreadable or corrupt file; no decodable frame; frames over <see cref="VideoReadOptions.MaxDimension"/>
    /// or a clip over <see cref="VideoReadOptions.MaxDecodedBytes"/>; decoding failing mid-clip.
    /// </exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public static VideoFrames Load(string path, VideoReadOptions? options = null)
    {
        using var reader = VideoReader.Open(path, options);
        return reader.ReadAll();
    }

    /// <summary>Decodes every frame of a video held in a stream (copied to a temporary file, deleted afterwards).</summary>
    /// <param name="stream">The encoded video, read from its current position to its end.</param>
    /// <param name="nameHint">Original file name; its extension helps the demuxer and it names the source in errors.</param>
    /// <param name="options">Channel order (BGR by default), frame limit, resampling; null = the defaults.</param>
    /// <returns>The frames, [T, H, W, 3] bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="VideoDecodeException">An empty or undecodable stream, or limits exceeded (as for a file).</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public static VideoFrames Load(Stream stream, string? nameHint = null, VideoReadOptions? options = null)
    {
        using var reader = VideoReader.Open(stream, nameHint, options);
        return reader.ReadAll();
    }
}
