using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LipNet.ML.Mouth;
using LipNet.ML.Tensors;
using LipNet.ML.Video;
using Microsoft.ML.Transforms;

namespace LipNet.ML.MLNet;

/// <summary>Options of <c>LoadVideo</c>. Video columns in ML.NET pipelines are always RGB.</summary>
public sealed record LoadVideoOptions
{
    /// <summary>Stop after this many frames (0 = all).</summary>
    public int MaxFrames { get; init; }

    /// <summary>Resample to this frame rate by timestamp (frames per second; null = every decoded frame), as a model expects.</summary>
    public double? TargetFps { get; init; }

    /// <summary>Decoding as <paramref name="card"/>'s model expects: its frame rate (and no more frames than it reads).</summary>
    /// <param name="card">The model card (frame rate, frames per input).</param>
    /// <returns>Options resampling to the card's fps (none when it states none) and stopping at its frame count.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="card"/> is null.</exception>
    public static LoadVideoOptions For(Onnx.ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        return new() { TargetFps = card.Fps > 0 ? card.Fps : null, MaxFrames = card.Frames };
    }
}

/// <summary>Which mouth locator <c>CropMouth</c> uses.</summary>
public enum MouthLocatorKind
{
    /// <summary><see cref="HaarMouthLocator"/>.</summary>
    Haar,
    /// <summary><see cref="FixedRegionMouthLocator"/>.</summary>
    FixedRegion,
    /// <summary><see cref="LandmarkMouthLocator"/> (face detection + Face Mesh) with the geometry of <see cref="CropMouthOptions.Profile"/>.</summary>
    Landmarks,
}

/// <summary>Options of <c>CropMouth</c>: the locator and the crop size.</summary>
public sealed record CropMouthOptions
{
    /// <summary>Which locator places the boxes (default <see cref="MouthLocatorKind.Haar"/>, OpenCV's Haar cascades).</summary>
    public MouthLocatorKind Locator { get; init; } = MouthLocatorKind.Haar;

    /// <summary>Haar settings (used when <see cref="Locator"/> is Haar).</summary>
    public HaarMouthLocatorOptions Haar { get; init; } = new();
    /// <summary>Fixed region: centre x, centre y, width, as fractions of the frame (used when <see cref="Locator"/> is FixedRegion).</summary>
    public float[] Region { get; init; } = [0.5f, 0.7f, 0.3f];
    /// <summary>Crop profile name for the landmark locator: <c>mouth-centred</c>, <c>mean-face</c> or <c>face-aligned</c>.</summary>
    public string Profile { get; init; } = CropProfile.MouthCentred.Name;

    /// <summary>Crop width in pixels, 4..4096 (default 100, the LipNet paper's 100 x 50 mouth crop).</summary>
    public int Width { get; init; } = 100;

    /// <summary>Crop height in pixels, 4..4096 (default 50).</summary>
    public int Height { get; init; } = 50;

    /// <summary>
    /// The model window in frames (0, the default: crops as found). A clip shorter than it, cropped by the landmark locator,
    /// whose lips move becomes a window of this many crops with its speech starting at <see cref="SpeechStartFrame"/> and its
    /// first and last frames held around it — as <see cref="Runtime.LipReader"/> reads short clips (LipNet models read words
    /// by their place in the window; zeros after a short clip read worse: README, Long videos) with its default
    /// <see cref="Runtime.StreamingOptions"/>' lip-activity settings. 0 to 4096; <see cref="For"/> sets the card's frame count.
    /// </summary>
    public int Window { get; init; }

    /// <summary>
    /// The window frame a short clip's speech is moved to (default 7, <see cref="Runtime.StreamingOptions.SpeechStartFrame"/>'s;
    /// null: zero-padded as found).
    /// </summary>
    public int? SpeechStartFrame { get; init; } = new Runtime.StreamingOptions().SpeechStartFrame;

    /// <summary>The crops <paramref name="card"/>'s model was trained on: its crop profile's locator and its input size.</summary>
    /// <param name="card">The model card (crop profile, input width and height).</param>
    /// <returns>
    /// Haar for the <c>haar</c> profile, else the landmark locator with the card's profile; the card's crop size; the card's
    /// frame count as <see cref="Window"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="card"/> is null.</exception>
    /// <exception cref="MouthLocatorException">The card names an unknown crop profile.</exception>
    public static CropMouthOptions For(Onnx.ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var profile = card.Profile();
        return new()
        {
            Locator = profile.UsesLandmarks ? MouthLocatorKind.Landmarks : MouthLocatorKind.Haar,
            Profile = profile.Name,
            Width = card.Width,
            Height = card.Height,
            Window = card.Frames,
        };
    }
}

/// <summary>
/// Options travel through a pipeline as a constant text column, so a saved model carries them. This
/// turns options into that text and back (JSON, base64url so it fits an ML.NET expression literal).
/// </summary>
internal static class OptionsCodec
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    public static string Encode<T>(T options) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(options, Json))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static T Decode<T>(string text)
    {
        string b64 = text.Replace('-', '+').Replace('_', '/');
        b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
        try
        {
            return JsonSerializer.Deserialize<T>(Convert.FromBase64String(b64), Json) ?? throw new LipNetException($"empty {typeof(T).Name}");
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new LipNetException($"pipeline options column is not a valid {typeof(T).Name} ({ex.Message})", inner: ex);
        }
    }
}

/// <summary>Built objects (cascades, croppers) shared by every row with the same options.</summary>
internal static class MappingCache
{
    private static readonly ConcurrentDictionary<string, Lazy<MouthCropper>> Croppers = new();
    private static readonly ConcurrentDictionary<string, Lazy<FrameNormalizer>> Normalizers = new();

    private static readonly ConcurrentDictionary<string, CropMouthOptions> CropOptions = new();

    public static CropMouthOptions Crop(string encoded) => CropOptions.GetOrAdd(encoded, OptionsCodec.Decode<CropMouthOptions>);

    public static MouthCropper Cropper(string encoded) => Croppers.GetOrAdd(encoded, key => new Lazy<MouthCropper>(() =>
    {
        var o = Crop(key);
        if (o.Window is < 0 or > 4096)
            throw new TensorShapeException($"the model window of CropMouth is {o.Window} frames; 0 (off) to 4096");
        IMouthLocator locator = o.Locator switch
        {
            MouthLocatorKind.Haar => new HaarMouthLocator(o.Haar),
            MouthLocatorKind.Landmarks => CropProfile.Get(o.Profile).CreateLocator(),
            _ => new FixedRegionMouthLocator(o.Region[0], o.Region[1], o.Region[2]),
        };
        return new MouthCropper(locator, new MouthCropOptions { Width = o.Width, Height = o.Height });
    })).Value;

    public static FrameNormalizer Normalizer(string encoded) => Normalizers.GetOrAdd(encoded,
        key => new Lazy<FrameNormalizer>(() => new FrameNormalizer(OptionsCodec.Decode<FrameNormalizeOptions>(key)))).Value;
}

internal static class FrameColumns
{
    public static VideoFrames ToFrames(FramesInput input)
    {
        if (input.Shape is not { Length: 4 } s || s[3] != VideoFrames.Channels || (long)s[0] * s[1] * s[2] * s[3] != input.Pixels.LongLength)
            throw new TensorShapeException($"frame column shape [{string.Join(",", input.Shape ?? [])}] does not fit {input.Pixels.Length} bytes of T x H x W x 3 pixels");
        return new VideoFrames(input.Pixels, s[0], s[2], s[1], input.Fps, PixelOrder.Rgb, "<pipeline column>");
    }

    public static byte[] ExactPixels(VideoFrames frames)
    {
        long n = (long)frames.FrameCount * frames.FrameByteCount;
        return frames.Pixels.LongLength == n ? frames.Pixels : frames.Pixels.AsSpan(0, (int)n).ToArray();
    }
}

// The mapping factories are internal: loading a saved model finds them by contract name among the
// assembly's types (the model records the assembly; RegisterLipNet registers it too), public or not.

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class LoadVideoMappingFactory : CustomMappingFactory<VideoPathInput, FramesOutput>
{
    public const string ContractName = "LipNet.LoadVideo.v1";

    public override Action<VideoPathInput, FramesOutput> GetMapping() => Map;

    public static void Map(VideoPathInput input, FramesOutput output)
    {
        var options = OptionsCodec.Decode<LoadVideoOptions>(input.Options);
        var frames = VideoLoader.Load(input.Path, new VideoReadOptions { Order = PixelOrder.Rgb, MaxFrames = options.MaxFrames, TargetFps = options.TargetFps });
        output.Pixels = FrameColumns.ExactPixels(frames);
        output.Shape = [frames.FrameCount, frames.Height, frames.Width, VideoFrames.Channels];
        output.Fps = (float)frames.Fps;
    }
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class CropMouthMappingFactory : CustomMappingFactory<FramesInput, MouthOutput>
{
    public const string ContractName = "LipNet.CropMouth.v1";

    public override Action<FramesInput, MouthOutput> GetMapping() => Map;

    public static void Map(FramesInput input, MouthOutput output)
    {
        var crop = MappingCache.Cropper(input.Options).Crop(FrameColumns.ToFrames(input));
        var frames = crop.Frames;
        var options = MappingCache.Crop(input.Options);
        if (options.Window > 0 && crop.Landmarks is { Count: > 0 } landmarks)
            frames = Runtime.LipActivity.WindowInput(frames, options.Window, options.SpeechStartFrame,
                Runtime.LipActivity.SpeechSpan(landmarks, new Runtime.StreamingOptions()));
        output.Pixels = FrameColumns.ExactPixels(frames);
        output.Shape = [frames.FrameCount, frames.Height, frames.Width, VideoFrames.Channels];
        output.Fps = input.Fps;
        var boxes = new float[crop.Boxes.Length * 4];
        for (int i = 0; i < crop.Boxes.Length; i++)
        {
            var b = crop.Boxes[i];
            boxes[4 * i] = b.X; boxes[4 * i + 1] = b.Y; boxes[4 * i + 2] = b.Width; boxes[4 * i + 3] = b.Height;
        }
        output.Boxes = boxes;
    }
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NormalizeFramesMappingFactory : CustomMappingFactory<FramesInput, TensorOutput>
{
    public const string ContractName = "LipNet.NormalizeFrames.v1";

    public override Action<FramesInput, TensorOutput> GetMapping() => Map;

    public static void Map(FramesInput input, TensorOutput output)
    {
        var tensor = MappingCache.Normalizer(input.Options).Normalize(FrameColumns.ToFrames(input));
        output.Tensor = tensor.Data;
        output.Shape = tensor.Shape;
        output.Length = tensor.Length;
    }

    /// <summary>Normalizes into a fixed-size column, refusing frames of another size.</summary>
    internal static int MapFixed(FramesInput input, float[] destination, int[] expectedShape, out int[] shape)
    {
        var frames = FrameColumns.ToFrames(input);
        var normalizer = MappingCache.Normalizer(input.Options);
        shape = normalizer.Options.ShapeFor(frames.Height, frames.Width);
        if (!shape.SequenceEqual(expectedShape))
            throw new TensorShapeException($"frames normalize to [{string.Join(",", shape)}], this column is [{string.Join(",", expectedShape)}]");
        return normalizer.Normalize(frames, destination);
    }
}

/// <summary>Normalizes into a known-size column of one shape (ML.NET's ONNX transformer needs known sizes); other sizes are refused.</summary>
internal abstract class FixedClipMappingFactory<TOut> : CustomMappingFactory<FramesInput, TOut> where TOut : class, IClipTensorOutput, new()
{
    protected abstract int[] ClipShape { get; }

    public override Action<FramesInput, TOut> GetMapping() => (input, output) =>
    {
        output.Tensor = new float[ClipShape.Aggregate(1, (a, b) => a * b)];
        output.Length = NormalizeFramesMappingFactory.MapFixed(input, output.Tensor, ClipShape, out var shape);
        output.Shape = shape;
    };
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NormalizeRgbClipMappingFactory : FixedClipMappingFactory<RgbClipTensorOutput>
{
    public const string ContractName = "LipNet.NormalizeFrames.3x75x50x100.v1";
    public static readonly int[] Shape = [3, 75, 50, 100];
    protected override int[] ClipShape => Shape;
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NormalizeRgbClip128MappingFactory : FixedClipMappingFactory<RgbClip128TensorOutput>
{
    public const string ContractName = "LipNet.NormalizeFrames.3x75x64x128.v1";
    public static readonly int[] Shape = [3, 75, 64, 128];
    protected override int[] ClipShape => Shape;
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NormalizeGrayClipMappingFactory : FixedClipMappingFactory<GrayClipTensorOutput>
{
    public const string ContractName = "LipNet.NormalizeFrames.1x75x50x100.v1";
    public static readonly int[] Shape = [1, 75, 50, 100];
    protected override int[] ClipShape => Shape;
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NormalizeGrayClip88MappingFactory : FixedClipMappingFactory<GrayClip88TensorOutput>
{
    public const string ContractName = "LipNet.NormalizeFrames.1x75x88x88.v1";
    public static readonly int[] Shape = [1, 75, 88, 88];
    protected override int[] ClipShape => Shape;
}
