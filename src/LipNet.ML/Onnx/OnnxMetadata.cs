namespace LipNet.ML.Onnx;

/// <summary>Edits of an ONNX file's <c>metadata_props</c> (model cards) in place.</summary>
internal static class OnnxMetadata
{
    /// <summary>Replaces the value of <paramref name="key"/> with <paramref name="edit"/>(old value) and rewrites the file atomically.</summary>
    /// <exception cref="Runtime.ModelLoadException">The file is missing, not an ONNX model, or has no such entry.</exception>
    public static void Rewrite(string modelPath, string key, Func<string, string> edit)
    {
        if (!File.Exists(modelPath))
            throw new Runtime.ModelLoadException("model file not found", modelPath);
        Proto.ModelProto model;
        try
        {
            model = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new Runtime.ModelLoadException($"not an ONNX model ({ex.Message})", modelPath);
        }
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == key)
            ?? throw new Runtime.ModelLoadException($"no '{key}' entry in the model's metadata", modelPath);
        entry.Value = edit(entry.Value);
        string temp = modelPath + ".tmp";
        using (var file = File.Create(temp))
            Google.Protobuf.MessageExtensions.WriteTo(model, file);
        File.Move(temp, modelPath, overwrite: true);
    }
}
