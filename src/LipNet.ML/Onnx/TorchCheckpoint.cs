using System.Collections;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;

namespace LipNet.ML.Onnx;

/// <summary>
/// Reads a PyTorch <c>state_dict</c> saved by <c>torch.save</c> — the zip format (PyTorch ≥ 1.6: <c>archive/data.pkl</c> +
/// <c>archive/data/{key}</c>) and the legacy format before it (magic number, protocol and system pickles, the object
/// pickle, the storage key list, then each storage as an int64 element count and its bytes) — into float tensors.
/// The pickles are read with Razorvine.Pickle, which builds only the objects a state_dict holds (dicts, OrderedDict,
/// tuples, the tensor-rebuild functions and storage types registered here, in Razorvine's process-wide constructor table);
/// any other global (a class, a function such as <c>os.system</c>) becomes an inert placeholder, is never called, and makes
/// the import fail with a <see cref="ModelImportException"/> wherever a tensor was expected or arguments were passed to it.
/// Float32, float64, float16 and bfloat16 tensors become float32.
/// </summary>
public static class TorchCheckpoint
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    private const int LegacyProtocol = 1001;

    static TorchCheckpoint()
    {
        // Razorvine's constructor table is process-wide: these names are what torch.save pickles for a state_dict.
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new TensorRebuild());
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor", new TensorRebuild());
        Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new ParameterRebuild());
        Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
        foreach (var type in StorageType.All)
            Unpickler.registerConstructor("torch", type.Name, type);
    }

    /// <summary>Loads the float tensors of a state_dict checkpoint (a <c>module.</c> prefix, as DataParallel writes it, is dropped).</summary>
    /// <param name="path">A <c>.pt</c> / <c>.pth</c> file written by <c>torch.save(model.state_dict(), path)</c>, in either format;
    /// a dict holding the state_dict under <c>state_dict</c> or <c>model</c> is accepted too.</param>
    /// <returns>Tensors by state_dict name, row-major (C order), as float32.</returns>
    /// <exception cref="ModelImportException">The file is missing, unreadable, truncated, not a torch.save file, big-endian, holds
    /// something other than tensors, or pickles an object a state_dict never holds.</exception>
    public static Dictionary<string, NamedTensor> Load(string path)
    {
        if (Directory.Exists(path))
            throw new ModelImportException("is a directory, not a PyTorch checkpoint", path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelImportException(ex is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read the file ({ex.Message})",
                path, inner: ex);
        }
        return Read(bytes, path);
    }

    /// <summary>The tensors of a checkpoint already in memory (see <see cref="Load"/>).</summary>
    /// <param name="bytes">The file's bytes.</param>
    /// <param name="path">Where the bytes came from, named in exceptions; null when unknown.</param>
    /// <exception cref="ModelImportException">As for <see cref="Load"/>.</exception>
    public static Dictionary<string, NamedTensor> Read(byte[] bytes, string? path)
    {
        try
        {
            object root;
            if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
                root = ReadZip(bytes, path);
            else if (bytes.Length >= 2 && bytes[0] == 0x80)
                root = ReadLegacy(bytes, path);
            else if (bytes.Length > 262 && System.Text.Encoding.ASCII.GetString(bytes, 257, 5) == "ustar")
                throw new ModelImportException("a tar checkpoint (torch.save before PyTorch 0.4) is not supported; re-save it with a newer PyTorch", path);
            else
                throw new ModelImportException("not a torch.save checkpoint (neither the zip format nor the legacy pickle format)", path);
            return Tensors(root, path);
        }
        catch (Exception ex) when (ex is ArithmeticException or IndexOutOfRangeException or ArgumentException or InvalidCastException or FormatException)
        {
            // Offsets, sizes and strides come from the file: whatever slipped past the checks is still a malformed file.
            throw new ModelImportException($"malformed checkpoint ({ex.Message})", path, inner: ex);
        }
    }

    private static object ReadZip(byte[] bytes, string? path)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            var pickle = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickle.Count != 1)
                throw new ModelImportException(pickle.Count == 0 ? "zip file without archive/data.pkl: not a torch.save checkpoint" : "zip file with several data.pkl", path);
            string prefix = pickle[0].FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order && ReadAll(order) is var o && System.Text.Encoding.ASCII.GetString(o).Trim() == "big")
                throw new ModelImportException("big-endian checkpoint (byteorder 'big') is not supported", path);
            var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
            object root;
            using (var unpickler = new StateDictUnpickler(storages, legacy: false, path))
                root = Unpickle(() => unpickler.loads(ReadAll(pickle[0])), "state_dict", path);
            foreach (var (key, storage) in storages)
            {
                var entry = zip.GetEntry($"{prefix}data/{key}")
                    ?? throw new ModelImportException($"storage '{key}' is missing from the archive (truncated file?)", path);
                storage.Fill(ReadAll(entry), path);
            }
            return root;
        }
        catch (InvalidDataException ex)
        {
            throw new ModelImportException($"not a readable zip archive, truncated or corrupt ({ex.Message})", path, inner: ex);
        }
    }

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static object ReadLegacy(byte[] bytes, string? path)
    {
        var stream = new MemoryStream(bytes, writable: false);
        var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        using var unpickler = new StateDictUnpickler(storages, legacy: true, path);
        object Next(string what) => Unpickle(() => unpickler.load(stream), what, path);
        var magic = Next("magic number");
        if (magic is not BigInteger m || m != LegacyMagic)
            throw new ModelImportException("not a torch.save checkpoint (wrong magic number)", path);
        if (Convert.ToInt64(Next("protocol version")) != LegacyProtocol)
            throw new ModelImportException($"unknown legacy protocol version (PyTorch writes {LegacyProtocol})", path);
        if (Next("system info") is IDictionary info && info["little_endian"] is false)
            throw new ModelImportException("big-endian checkpoint is not supported", path);
        var root = Next("state_dict");
        if (Next("storage key list") is not IList keys)
            throw new ModelImportException("the storage key list is not a list", path);
        var reader = new BinaryReader(stream);
        foreach (var k in keys)
        {
            string key = Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (!storages.TryGetValue(key, out var storage))
                throw new ModelImportException($"storage '{key}' is listed but no tensor uses it", path);
            try
            {
                long count = reader.ReadInt64();
                if (count != storage.Count)
                    throw new ModelImportException($"storage '{key}' holds {count} elements, its tensors say {storage.Count}", path);
                if (count < 0 || count > (stream.Length - stream.Position) / storage.Type.ElementSize)
                    throw new ModelImportException($"storage '{key}' of {count} elements does not fit in the rest of the file (truncated?)", path);
                storage.Fill(reader.ReadBytes((int)(count * storage.Type.ElementSize)), path);
            }
            catch (EndOfStreamException ex)
            {
                throw new ModelImportException($"the file ends inside storage '{key}' (truncated)", path, inner: ex);
            }
        }
        return root;
    }

    /// <summary>Runs the unpickler; its errors become <see cref="ModelImportException"/>s, a refused global named.</summary>
    private static object Unpickle(Func<object> load, string what, string? path)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is PickleException or EndOfStreamException or IOException or InvalidCastException or ArgumentException
            or IndexOutOfRangeException or InvalidOperationException)
        {
            // Razorvine builds unknown globals as ClassDicts and refuses to call them with arguments: that is where a pickle naming
            // code (os.system, builtins.eval ...) stops, before anything runs.
            var refused = System.Text.RegularExpressions.Regex.Match(ex.Message, @"\(for ([\w.]+)\)");
            if (refused.Success)
                throw new ModelImportException($"refused: the {what} pickle calls '{refused.Groups[1].Value}', which a state_dict never holds; " +
                    "nothing in it was run", path, refused.Groups[1].Value, ex);
            throw new ModelImportException($"cannot read the {what} pickle, truncated or not a torch.save file ({ex.Message})", path, inner: ex);
        }
    }

    /// <summary>The state_dict's float tensors: the root dict, or the dict under <c>state_dict</c> / <c>model</c>.</summary>
    private static Dictionary<string, NamedTensor> Tensors(object root, string? path)
    {
        if (root is ClassDict module)
            throw new ModelImportException($"the checkpoint pickles a whole object ({module.ClassName}), not a state_dict: save model.state_dict() instead", path);
        if (root is not IDictionary dict)
            throw new ModelImportException($"the checkpoint holds {Describe(root)}, not a state_dict", path);
        // Training scripts wrap the state_dict with the epoch, the loss, the optimizer: take it from the usual keys.
        foreach (var inner in new[] { "state_dict", "model_state_dict", "model", "net" })
            if (dict.Contains(inner) && dict[inner] is IDictionary nested && nested.Values.OfType<TensorReference>().Any())
            {
                dict = nested;
                break;
            }
        var result = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in dict)
        {
            if (entry.Key is not string name)
                throw new ModelImportException($"a state_dict key is a {entry.Key?.GetType().Name}, not a name", path);
            if (entry.Value is not TensorReference tensor)
                throw new ModelImportException($"'{name}' holds {Describe(entry.Value)}, not a tensor (a state_dict holds only tensors)", path, name);
            result[name] = tensor.Materialize(name, path);
        }
        if (result.Count > 0 && result.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)))
            result = result.ToDictionary(p => p.Key["module.".Length..], p => p.Value with { Name = p.Key["module.".Length..] }, StringComparer.Ordinal);
        return result;
    }

    /// <summary>Turns persistent ids into storages; refuses any other persistent object.</summary>
    private sealed class StateDictUnpickler(Dictionary<string, TorchStorage> storages, bool legacy, string? path) : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            // zip: ('storage', type, key, location, numel); legacy: ('storage', type, root_key, location, numel, view_metadata)
            if (pid is object[] { Length: > 1 } module && module[0] as string == "module")
                throw new ModelImportException($"the checkpoint pickles a whole module ({Describe(module[1])}), not a state_dict: save model.state_dict() instead", path);
            if (pid is object[] { Length: >= 5 } other && other[0] as string == "storage" && other[1] is not StorageType)
                throw new ModelImportException($"tensors of {Describe(other[1])} are not supported (float32, float64, float16 and bfloat16 are)", path);
            if (pid is not object[] { Length: >= 5 } id || id[0] as string != "storage" || id[1] is not StorageType type)
                throw new ModelImportException($"unsupported persistent object {Describe(pid)} (a state_dict holds only tensor storages)", path);
            string key = Convert.ToString(id[2], System.Globalization.CultureInfo.InvariantCulture) ?? "";
            long count = Convert.ToInt64(id[4], System.Globalization.CultureInfo.InvariantCulture);
            if (count < 0)
                throw new ModelImportException($"storage '{key}' has a negative size", path);
            if (!storages.TryGetValue(key, out var storage))
                storages[key] = storage = new TorchStorage(key, type, count);
            if (legacy && id.Length >= 6 && id[5] is object[] { Length: 3 } view)
                return new TorchStorageView(storage, Convert.ToInt64(view[1], System.Globalization.CultureInfo.InvariantCulture),
                    Convert.ToInt64(view[2], System.Globalization.CultureInfo.InvariantCulture));
            return new TorchStorageView(storage, 0, count);
        }

    }

    /// <summary>A pickled value in Python's terms, on one short line (for messages).</summary>
    private static string Describe(object? o) => o switch
    {
        null => "None",
        TensorReference => "a tensor",
        StorageType t => $"torch.{t.Name}",
        ClassDictConstructor c => $"{c.module}.{c.name}",
        ClassDict d => $"a {d.ClassName} object",
        IDictionary => "a dict",
        string text => text.Length <= 40 ? $"'{text}'" : $"'{text[..37]}...'",
        object[] tuple => tuple.Length <= 6 ? $"({string.Join(", ", tuple.Select(Describe))})" : $"a tuple of {tuple.Length}",
        IList list => $"a list of {list.Count}",
        int or long or double or bool or BigInteger => $"the {o.GetType().Name.ToLowerInvariant()} {o}",
        _ => $"a {o.GetType().Name}",
    };

    /// <summary>A torch storage class (<c>torch.FloatStorage</c> ...): the element type of the bytes.</summary>
    private sealed class StorageType(string name, int elementSize) : IObjectConstructor
    {
        public static readonly StorageType[] All =
        [
            new("FloatStorage", 4), new("DoubleStorage", 8), new("HalfStorage", 2), new("BFloat16Storage", 2),
            new("LongStorage", 8), new("IntStorage", 4), new("ShortStorage", 2), new("CharStorage", 1), new("ByteStorage", 1), new("BoolStorage", 1),
        ];

        public string Name { get; } = name;
        public int ElementSize { get; } = elementSize;
        public bool IsFloat => Name is "FloatStorage" or "DoubleStorage" or "HalfStorage" or "BFloat16Storage";

        public object construct(object[] args) => throw new PickleException($"torch.{Name} is never called in a state_dict");
    }

    private sealed class TorchStorage(string key, StorageType type, long count)
    {
        public string Key { get; } = key;
        public StorageType Type { get; } = type;
        public long Count { get; } = count;
        public byte[]? Bytes { get; private set; }

        public void Fill(byte[] bytes, string? path)
        {
            if (bytes.LongLength < Count * Type.ElementSize)
                throw new ModelImportException($"storage '{Key}' has {bytes.LongLength} bytes, {Count} x {Type.Name} need {Count * Type.ElementSize} (truncated file?)", path);
            Bytes = bytes;
        }

        private float[]? _values;

        /// <summary>The storage as float32, decoded once (every tensor viewing it reads the same array).</summary>
        public float[] Values()
        {
            if (_values is not null)
                return _values;
            var bytes = Bytes.AsSpan(0, (int)(Count * Type.ElementSize));
            var values = new float[Count];
            switch (Type.Name)
            {
                case "FloatStorage":
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                    break;
                case "DoubleStorage":
                    System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<double, float>(MemoryMarshal.Cast<byte, double>(bytes), values);
                    break;
                case "HalfStorage":
                    System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), values);
                    break;
                default: // bfloat16: the high half of a float32
                    var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                    for (int i = 0; i < values.Length; i++)
                        values[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                    break;
            }
            return _values = values;
        }
    }

    private sealed record TorchStorageView(TorchStorage Storage, long Offset, long Count);

    /// <summary>A tensor as <c>_rebuild_tensor_v2(storage, offset, size, stride, ...)</c> describes it; read once storages are filled.</summary>
    private sealed class TensorReference(TorchStorageView storage, long offset, long[] size, long[] stride)
    {
        public NamedTensor Materialize(string name, string? path)
        {
            var s = storage.Storage;
            if (!s.Type.IsFloat)
                throw new ModelImportException($"'{name}' is a {s.Type.Name} tensor; the importer reads float tensors only", path, name);
            if (s.Bytes is null)
                throw new ModelImportException($"'{name}': its storage '{s.Key}' has no data (truncated file?)", path, name);
            if (offset < 0 || size.Length != stride.Length || size.Any(d => d < 0) || stride.Any(d => d < 0) || storage.Offset < 0)
                throw new ModelImportException($"'{name}' has a negative offset, size or stride, or as many strides as sizes", path, name);
            long count, last;
            try
            {
                count = size.Aggregate(1L, (a, b) => checked(a * b));
                last = checked(storage.Offset + offset + size.Select((d, i) => d == 0 ? 0 : checked((d - 1) * stride[i])).Sum());
            }
            catch (OverflowException)
            {
                throw new ModelImportException($"'{name}' of shape [{string.Join(", ", size)}] is too large", path, name);
            }
            if (count > Array.MaxLength)
                throw new ModelImportException($"'{name}' of shape [{string.Join(", ", size)}] is too large", path, name);
            if ((count > 0 && last >= storage.Offset + storage.Count) || storage.Offset + storage.Count > s.Count)
                throw new ModelImportException($"'{name}' of shape [{string.Join(", ", size)}] reaches past its storage of {storage.Count} elements", path, name);
            var values = s.Values();
            var data = new float[count];
            long first = storage.Offset + offset;
            if (IsContiguous(size, stride))
            {
                values.AsSpan((int)first, (int)count).CopyTo(data);
                return new NamedTensor(name, size, data);
            }
            var index = new long[size.Length];
            for (long i = 0; i < count; i++)
            {
                long at = first;
                for (int d = 0; d < size.Length; d++)
                    at += index[d] * stride[d];
                data[i] = values[at];
                for (int d = size.Length - 1; d >= 0 && ++index[d] == size[d]; d--)
                    index[d] = 0;
            }
            return new NamedTensor(name, size, data);
        }
    }

    /// <summary>Row-major strides (a state_dict's usual tensors): the data is one run of the storage.</summary>
    private static bool IsContiguous(long[] size, long[] stride)
    {
        long expected = 1;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            if (size[d] != 1 && stride[d] != expected)
                return false;
            expected *= size[d];
        }
        return true;
    }

    private sealed class TensorRebuild : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not TorchStorageView storage || args[2] is not object[] size || args[3] is not object[] stride)
                throw new PickleException("_rebuild_tensor with unexpected arguments");
            static long[] Longs(object[] values) => values.Select(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return new TensorReference(storage, Convert.ToInt64(args[1], System.Globalization.CultureInfo.InvariantCulture), Longs(size), Longs(stride));
        }
    }

    private sealed class ParameterRebuild : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is TensorReference t ? t : throw new PickleException("_rebuild_parameter without a tensor");
    }

    /// <summary>collections.OrderedDict: a dict whose instance state (<c>_metadata</c>) is kept aside.</summary>
    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0 ? new PickledOrderedDict() : throw new PickleException("OrderedDict with arguments");
    }

    /// <summary>What an OrderedDict unpickles to; <c>__setstate__</c> (found by reflection) takes the instance dict the pickle's BUILD gives it.</summary>
    private sealed class PickledOrderedDict : Hashtable
    {
        /// <summary>Called by the unpickler with the dict's instance attributes (a state_dict's <c>_metadata</c>), which are not needed.</summary>
        public void __setstate__(Hashtable state)
        {
        }
    }
}
