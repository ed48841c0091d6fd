using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using LipNet.ML.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Onnx;

/// <summary>
/// Models that carry a JSON card in their ONNX <c>metadata_props</c> (WAV2KP, lip-to-speech): opening a session with its card,
/// the embedded defaults, writing and editing model files. One implementation for every such model.
/// </summary>
internal static class OnnxMetadata
{
    /// <summary>snake_case JSON with enums as strings and NaN/∞ allowed: how every card is written.</summary>
    public static readonly JsonSerializerOptions CardJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A card from its JSON.</summary>
    /// <exception cref="ModelLoadException">The JSON is not a <paramref name="what"/>.</exception>
    public static T ParseCard<T>(string json, string source, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, CardJson) ?? throw new ModelLoadException($"empty {what}", source);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"the {what} is not valid JSON ({ex.Message})", source);
        }
    }

    /// <summary>The bytes of a model file.</summary>
    /// <exception cref="ModelLoadException">The file does not exist.</exception>
    public static byte[] ReadModel(string path) =>
        File.Exists(path) ? File.ReadAllBytes(path) : throw new ModelLoadException(Directory.Exists(path) ? "is a directory, not a model file" : "model file not found", path);

    /// <summary>An embedded model's bytes.</summary>
    /// <exception cref="ModelLoadException">This build carries no such resource.</exception>
    public static byte[] Embedded(string resource, string what)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new ModelLoadException($"this build carries no default {what}", resource);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>An ONNX Runtime session over <paramref name="model"/> and the JSON under <paramref name="key"/> in its metadata.</summary>
    /// <exception cref="ModelLoadException">Not a loadable ONNX model, or no such metadata entry (names the card).</exception>
    public static (InferenceSession Session, string Card) OpenWithCard(byte[] model, string source, LipNetSessionOptions? session, string key, string what)
    {
        var (options, _) = LipNetModel.CreateOptions(session ?? new LipNetSessionOptions(), source);
        InferenceSession opened;
        try
        {
            opened = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException($"not a loadable ONNX model ({ex.Message})", source);
        }
        finally
        {
            options.Dispose();
        }
        if (opened.ModelMetadata.CustomMetadataMap.TryGetValue(key, out var json))
            return (opened, json);
        opened.Dispose();
        throw new ModelLoadException($"no {what} ({key}) in the model's metadata", source);
    }

    /// <summary>Writes a model atomically (a temporary file moved into place).</summary>
    public static void WriteModel(Proto.ModelProto model, string path)
    {
        string temp = path + ".tmp";
        using (var file = File.Create(temp))
            Google.Protobuf.MessageExtensions.WriteTo(model, file);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Replaces the value of <paramref name="key"/> with <paramref name="edit"/>(old value) and rewrites the file atomically.</summary>
    /// <exception cref="ModelLoadException">The file is missing, not an ONNX model, or has no such entry.</exception>
    public static void Rewrite(string modelPath, string key, Func<string, string> edit)
    {
        Proto.ModelProto model;
        try
        {
            model = Proto.ModelProto.Parser.ParseFrom(ReadModel(modelPath));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new ModelLoadException($"not an ONNX model ({ex.Message})", modelPath);
        }
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == key)
            ?? throw new ModelLoadException($"no '{key}' entry in the model's metadata", modelPath);
        entry.Value = edit(entry.Value);
        WriteModel(model, modelPath);
    }
}
