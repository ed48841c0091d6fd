using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LipNet.ML.Onnx;

/// <summary>A named float tensor (row-major) with its shape.</summary>
public sealed record NamedTensor(string Name, long[] Shape, float[] Data)
{
    /// <summary>
    /// Product of <see cref="Shape"/> (1 for a scalar, empty shape); a well-formed tensor has this many <see cref="Data"/> values.
    /// </summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The safetensors format (what PyTorch users save with the <c>safetensors</c> package): an 8-byte
/// little-endian header length, a JSON header mapping names to dtype, shape and byte offsets, then the
/// raw little-endian data. F32, F16, BF16 and F64 read into floats; writing uses F32.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100L * 1024 * 1024;

    /// <summary>
    /// Reads a safetensors file (format by Hugging Face, <c>safetensors</c> package) into float tensors by name, with its
    /// <c>__metadata__</c>. The whole file is read into memory.
    /// </summary>
    /// <param name="path">The <c>.safetensors</c> file.</param>
    /// <param name="metadata">The header's <c>__metadata__</c> string map; empty when it has none.</param>
    /// <returns>Tensors by name (ordinal), converted to float from F32, F16, BF16 or F64.</returns>
    /// <exception cref="TensorShapeException">
    /// The file does not exist, is truncated, has a malformed header (over 100 MiB, not a JSON object, offsets outside the
    /// data, sizes that do not match the shape) or a tensor of another dtype.
    /// </exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Dictionary<string, NamedTensor> Load(string path, out Dictionary<string, string> metadata)
    {
        if (!File.Exists(path))
            throw new TensorShapeException("safetensors file not found", path);
        return Read(File.ReadAllBytes(path), path, out metadata);
    }

    /// <summary>
    /// Reads a safetensors file's tensors, discarding its metadata (see <see cref="Load(string, out Dictionary{string, string})"/>).
    /// </summary>
    /// <param name="path">The <c>.safetensors</c> file.</param>
    /// <returns>Tensors by name (ordinal), converted to float.</returns>
    /// <exception cref="TensorShapeException">The file does not exist or is not valid safetensors with supported dtypes.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Dictionary<string, NamedTensor> Load(string path) => Load(path, out _);

    /// <summary>Parses safetensors content already in memory (e.g. an embedded resource or a download).</summary>
    /// <param name="bytes">The whole file: 8-byte header length, JSON header, data.</param>
    /// <param name="path">Where the bytes came from, named in exceptions; null when unknown.</param>
    /// <param name="metadata">The header's <c>__metadata__</c> string map; empty when it has none.</param>
    /// <returns>Tensors by name (ordinal), converted to float from F32, F16, BF16 or F64.</returns>
    /// <exception cref="TensorShapeException">
    /// The bytes are too short, the header is malformed (over 100 MiB, not a JSON object, offsets outside the data, sizes
    /// that do not match the shape) or a tensor has another dtype.
    /// </exception>
    public static Dictionary<string, NamedTensor> Read(byte[] bytes, string? path, out Dictionary<string, string> metadata)
    {
        metadata = [];
        if (bytes.Length < 8)
            throw new TensorShapeException($"file is {bytes.Length} bytes, too short for a safetensors header", path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)Math.Min(MaxHeader, bytes.Length - 8))
            throw new TensorShapeException($"header length {headerLength} exceeds the file ({bytes.Length} bytes): truncated or not safetensors", path);
        var data = bytes.AsMemory(8 + (int)headerLength);
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new TensorShapeException("safetensors header is not a JSON object", path);
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    foreach (var m in entry.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var e = entry.Value;
                string dtype = e.GetProperty("dtype").GetString() ?? "";
                long[] shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > data.Length)
                    throw new TensorShapeException($"tensor '{entry.Name}' data offsets [{string.Join(", ", offsets)}] fall outside the {data.Length} data bytes", path);
                if (shape.Any(d => d < 0))
                    throw new TensorShapeException($"tensor '{entry.Name}' has a negative dimension", path);
                long count = shape.Aggregate(1L, (a, b) => a * b);
                int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, "F64" => 8, _ => throw new TensorShapeException($"tensor '{entry.Name}' has unsupported dtype {dtype} (F32, F16, BF16, F64 are read)", path) };
                if (count * size != offsets[1] - offsets[0])
                    throw new TensorShapeException($"tensor '{entry.Name}' {dtype}[{string.Join(", ", shape)}] needs {count * size} bytes, its offsets span {offsets[1] - offsets[0]}", path);
                var raw = data.Span.Slice((int)offsets[0], (int)(offsets[1] - offsets[0]));
                var values = new float[count];
                switch (dtype)
                {
                    case "F32":
                        MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                        break;
                    case "F16":
                        var halves = MemoryMarshal.Cast<byte, Half>(raw);
                        for (int i = 0; i < values.Length; i++) values[i] = (float)halves[i];
                        break;
                    case "BF16":
                        var bf = MemoryMarshal.Cast<byte, ushort>(raw);
                        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                        break;
                    default:
                        var doubles = MemoryMarshal.Cast<byte, double>(raw);
                        for (int i = 0; i < values.Length; i++) values[i] = (float)doubles[i];
                        break;
                }
                tensors[entry.Name] = new NamedTensor(entry.Name, shape, values);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new TensorShapeException($"malformed safetensors header ({ex.Message})", path, ex);
        }
        return tensors;
    }

    /// <summary>
    /// Writes F32 tensors (sorted by name, as the Python package does) and optional metadata, through a <c>.tmp</c> file
    /// renamed into place so a crash never leaves a half-written file under <c>path</c>.
    /// </summary>
    /// <exception cref="TensorShapeException">A tensor's value count differs from its shape's
    /// <see cref="NamedTensor.ElementCount"/>.</exception>
    public static void Save(string path, IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var t in list)
        {
            if (t.ElementCount != t.Data.Length)
                throw new TensorShapeException($"tensor '{t.Name}' has {t.Data.Length} values for shape [{string.Join(", ", t.Shape)}]");
            header[t.Name] = new { dtype = "F32", shape = t.Shape, data_offsets = new[] { offset, offset + t.Data.Length * 4L } };
            offset += t.Data.Length * 4L;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int pad = (8 - json.Length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        using (var file = File.Create(temp))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + pad));
            file.Write(length);
            file.Write(json);
            for (int i = 0; i < pad; i++) file.WriteByte((byte)' ');
            foreach (var t in list)
                file.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
        }
        File.Move(temp, path, overwrite: true);
    }
}
