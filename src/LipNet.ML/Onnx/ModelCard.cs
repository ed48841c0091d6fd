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
    public const string MetadataKey = "lipnet.model_card";

    public string Name { get; init; } = "lipnet";
    public string InputName { get; init; } = LipNetGraph.InputName;
    public string OutputName { get; init; } = LipNetGraph.OutputName;
    /// <summary>Input layout; the graph's input is [N, C, T, H, W].</summary>
    public string InputLayout { get; init; } = "NCTHW";
    /// <summary>Output layout: [N, T, V] log-probabilities.</summary>
    public string OutputLayout { get; init; } = "NTV";
    public bool OutputIsLogProbs { get; init; } = true;
    public int Channels { get; init; } = 3;
    public int Frames { get; init; } = 75;
    public int Height { get; init; } = 50;
    public int Width { get; init; } = 100;
    public double Fps { get; init; } = 25;
    public PixelOrder ChannelOrder { get; init; } = PixelOrder.Rgb;
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }
    /// <summary>Non-blank output tokens in id order.</summary>
    public string[] Vocabulary { get; init; } = [.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString()), " "];
    public BlankPosition Blank { get; init; } = BlankPosition.Last;
    public LipNetArchitecture? Architecture { get; init; }

    /// <summary>
    /// How the training crops were made: a <see cref="Mouth.CropProfile"/> name (<c>mouth-centred</c>, <c>mean-face</c>,
    /// <c>haar</c>). Null in cards written before profiles existed, which means <c>haar</c>.
    /// </summary>
    public string? CropProfile { get; init; }
    /// <summary>How the weights were made: data, command, seed, wall time, or the import source.</summary>
    public string Provenance { get; init; } = "";
    public IReadOnlyList<MeasuredAccuracy> Accuracy { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

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
