using System.Text.Json;
using System.Text.Json.Serialization;
using LipNet.ML.Decoding;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Onnx;

/// <summary>Accuracy measured for a model on a named test set.</summary>
public sealed record MeasuredAccuracy(string TestSet, int Sentences, double Cer, double Wer, double CerMean, double WerMean, string Decoder);

/// <summary>
/// Everything needed to use a model correctly, stored as JSON in the ONNX file's metadata
/// (<see cref="MetadataKey"/>) or beside it: input layout and size, channel order and normalization,
/// frame count and rate, vocabulary and blank, architecture, training provenance and measured accuracy.
/// </summary>
public sealed record ModelCard
{
    /// <summary>Key of the ONNX <c>metadata_props</c> entry that holds the card's JSON (<see cref="ToJson"/>).</summary>
    public const string MetadataKey = "lipnet.model_card";

    /// <summary>Short name of the model (e.g. <c>lipnet-paper</c>); informational, shown in listings and logs.</summary>
    public string Name { get; init; } = "lipnet";

    /// <summary>
    /// Name of the graph input the runtime feeds the video to (default <see cref="LipNetGraph.InputName"/>); loading checks it exists.
    /// </summary>
    public string InputName { get; init; } = LipNetGraph.InputName;

    /// <summary>
    /// Name of the graph output the runtime decodes (default <see cref="LipNetGraph.OutputName"/>); loading checks it exists.
    /// </summary>
    public string OutputName { get; init; } = LipNetGraph.OutputName;

    /// <summary>Input layout; the graph's input is [N, C, T, H, W].</summary>
    public string InputLayout { get; init; } = "NCTHW";
    /// <summary>Output layout: [N, T, V] log-probabilities.</summary>
    public string OutputLayout { get; init; } = "NTV";

    /// <summary>
    /// True (default) when the output is log-softmax, as <see cref="LipNetGraph"/> writes it; false when it is raw logits,
    /// which the CTC decoders then normalize themselves.
    /// </summary>
    public bool OutputIsLogProbs { get; init; } = true;

    /// <summary>Input channels C: 3 for colour in <see cref="ChannelOrder"/>, 1 for grayscale (BT.601 luminance). Default 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>
    /// Frames T per clip the model was trained on (default 75, 3 s at 25 fps): clips are zero-padded or trimmed to this
    /// many frames before inference.
    /// </summary>
    public int Frames { get; init; } = 75;

    /// <summary>Height H of the mouth crop the model reads, in pixels (default 50); must match the graph input.</summary>
    public int Height { get; init; } = 50;

    /// <summary>Width W of the mouth crop the model reads, in pixels (default 100); must match the graph input.</summary>
    public int Width { get; init; } = 100;

    /// <summary>
    /// Frame rate in Hz the model was trained at (default 25, GRID's): videos at other rates are resampled to it when
    /// read; 0 or less keeps the source rate.
    /// </summary>
    public double Fps { get; init; } = 25;

    /// <summary>Order of the input tensor's colour channels (default <see cref="PixelOrder.Rgb"/>; ignored for one channel).</summary>
    public PixelOrder ChannelOrder { get; init; } = PixelOrder.Rgb;

    /// <summary>
    /// Per-channel mean subtracted after scaling pixels to [0, 1], in <see cref="ChannelOrder"/>, one value per channel;
    /// null = none (see <see cref="FrameNormalizeOptions.Mean"/>).
    /// </summary>
    public float[]? Mean { get; init; }

    /// <summary>
    /// Per-channel standard deviation divided by after the mean, one positive value per channel; null = none
    /// (see <see cref="FrameNormalizeOptions.Std"/>).
    /// </summary>
    public float[]? Std { get; init; }

    /// <summary>Non-blank output tokens in id order.</summary>
    public string[] Vocabulary { get; init; } = [.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString()), " "];

    /// <summary>
    /// Where the CTC blank sits among the output ids: <see cref="BlankPosition.Last"/> (default, Keras LipNet) or
    /// <see cref="BlankPosition.First"/> (id 0, LipNet-PyTorch and models this library trains). V = vocabulary + 1.
    /// </summary>
    public BlankPosition Blank { get; init; } = BlankPosition.Last;

    /// <summary>
    /// The network the weights belong to (lets a model be re-exported or fine-tuned); null when unknown
    /// (a card written for a model trained elsewhere).
    /// </summary>
    public LipNetArchitecture? Architecture { get; init; }

    /// <summary>
    /// How the training crops were made: a <see cref="Mouth.CropProfile"/> name (<c>mouth-centred</c>, <c>mean-face</c>,
    /// <c>face-aligned</c>, <c>haar</c>). Null in cards written before profiles existed, which means <c>haar</c>.
    /// </summary>
    public string? CropProfile { get; init; }
    /// <summary>How the weights were made: data, command, seed, wall time, or the import source.</summary>
    public string Provenance { get; init; } = "";

    /// <summary>Accuracy measured on named test sets, one entry per test set and decoder; empty when none was measured.</summary>
    public IReadOnlyList<MeasuredAccuracy> Accuracy { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// The card as indented JSON with snake_case names and enum values (<c>"channel_order": "rgb"</c>), what is stored
    /// under <see cref="MetadataKey"/>; NaN and infinities are written as named literals.
    /// </summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a card written by <see cref="ToJson"/> (or by hand in the same form); missing fields keep their defaults.</summary>
    /// <param name="json">The card's JSON text.</param>
    /// <param name="source">Where the JSON came from (a file path), named in the exception; null when unknown.</param>
    /// <exception cref="LipNetException">The text is not valid JSON for a card, or is <c>null</c>.</exception>
    public static ModelCard FromJson(string json, string? source = null)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(json, Json) ?? throw new LipNetException("model card is empty", source);
        }
        catch (JsonException ex)
        {
            throw new LipNetException($"model card is not valid JSON ({ex.Message})", source, ex);
        }
    }

    /// <summary>The CTC vocabulary of the model's output: <see cref="Vocabulary"/> with the blank at <see cref="Blank"/>.</summary>
    /// <exception cref="TensorShapeException"><see cref="Vocabulary"/> is empty, or has an empty or duplicate token.</exception>
    public CtcVocabulary CreateVocabulary() => new(Vocabulary, Blank);

    /// <summary>The crop profile this card names (<see cref="Mouth.CropProfile.Legacy"/> when it names none).</summary>
    /// <exception cref="MouthLocatorException">The card names an unknown profile.</exception>
    public Mouth.CropProfile Profile() => Mouth.CropProfile.Named(CropProfile);

    /// <summary>The frame normalization this model was trained with.</summary>
    public FrameNormalizeOptions NormalizeOptions() => new()
    {
        FrameCount = Frames,
        Layout = TensorLayout.CTHW,
        ChannelOrder = ChannelOrder,
        Grayscale = Channels == 1,
        Mean = Mean,
        Std = Std,
    };

    /// <summary>
    /// A card for a model of <paramref name="arch"/>: its name (<c>lipnet-{name}</c>), input size and architecture, with
    /// defaults for the rest (GRID vocabulary with blank last, RGB, 25 fps, no mean/std). Set the others with <c>with</c>,
    /// as <see cref="Training.LipNetTrainer.ExportModel"/> does.
    /// </summary>
    /// <param name="arch">The network the card describes.</param>
    /// <param name="provenance">How the weights were made (see <see cref="Provenance"/>).</param>
    public static ModelCard For(LipNetArchitecture arch, string provenance) => new()
    {
        Name = $"lipnet-{arch.Name.ToLowerInvariant()}",
        Channels = arch.Channels,
        Frames = arch.Frames,
        Height = arch.Height,
        Width = arch.Width,
        Architecture = arch,
        Provenance = provenance,
    };
}
