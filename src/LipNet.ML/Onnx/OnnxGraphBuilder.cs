using System.Runtime.InteropServices;
using Google.Protobuf;
using LipNet.ML.Onnx.Proto;

namespace LipNet.ML.Onnx;

/// <summary>Element types the builder writes (values of ONNX's TensorProto.DataType).</summary>
public enum OnnxElementType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
}

/// <summary>A dimension: a fixed size or a named symbolic one ("batch").</summary>
public readonly record struct Dim(long Value, string? Symbol = null)
{
    public bool IsSymbolic => Symbol is not null;
    public static implicit operator Dim(long value) => new(value);
    public static implicit operator Dim(int value) => new(value);
    public static implicit operator Dim(string symbol) => new(-1, symbol);
    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A named value in a graph under construction; its shape is known where it was cheap to infer.</summary>
public sealed record OnnxValue(string Name, OnnxElementType Type, Dim[]? Shape)
{
    public override string ToString() => $"{Name}: {Type}[{(Shape is null ? "?" : string.Join(", ", Shape))}]";
}

/// <summary>A node attribute, built with the typed factories.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    internal AttributeProto Proto { get; }

    public static OnnxAttribute Int(string name, long value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
    public static OnnxAttribute Float(string name, float value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
    public static OnnxAttribute String(string name, string value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return new(a);
    }

    public static OnnxAttribute Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return new(a);
    }

    public static OnnxAttribute Strings(string name, params string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return new(a);
    }

    public static OnnxAttribute Graph(string name, GraphProto graph) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = graph });
}

/// <summary>
/// Builds ONNX models from code: graph inputs, initializers (or parameters as graph inputs, for
/// training), nodes with typed attributes, outputs, opset imports and metadata. Every value has a name,
/// generated ones are unique, and shapes are carried where cheap (inputs, initializers, elementwise ops,
/// Transpose). The training issue emits its gradient graphs with the same builder.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph;
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(string graphName, long opset = 17)
    {
        _graph = new GraphProto { Name = graphName };
        _opsets[""] = opset;
    }

    public long Opset => _opsets[""];

    /// <summary>Imports another operator-set domain (e.g. "com.microsoft").</summary>
    public void ImportOpset(string domain, long version) => _opsets[domain] = version;

    public void Metadata(string key, string value) => _metadata[key] = value;

    /// <summary>A fresh, reserved name with this prefix.</summary>
    public string UniqueName(string prefix) => Claim(FreshName(prefix));

    /// <summary>A name not used yet (not reserved: the caller claims it).</summary>
    private string FreshName(string prefix)
    {
        string name;
        do name = $"{prefix}_{_counter++}"; while (_names.Contains(name));
        return name;
    }

    private string Claim(string name)
    {
        if (!_names.Add(name))
            throw new TensorShapeException($"value name '{name}' is used twice in graph '{_graph.Name}'");
        return name;
    }

    public OnnxValue Input(string name, OnnxElementType type, params Dim[] shape)
    {
        var value = new OnnxValue(Claim(name), type, shape);
        _graph.Input.Add(ValueInfo(value));
        return value;
    }

    public void Output(OnnxValue value, params Dim[] shape)
    {
        var declared = shape.Length > 0 ? value with { Shape = shape } : value;
        _graph.Output.Add(ValueInfo(declared));
    }

    /// <summary>A float initializer (a constant stored in the model).</summary>
    public OnnxValue Initializer(string name, ReadOnlySpan<float> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Float, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>A float initializer stored as IEEE half precision (halves the file; ops then need Float16 inputs or a Cast).</summary>
    public OnnxValue InitializerFloat16(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var halves = new Half[data.Length];
        for (int i = 0; i < data.Length; i++)
            halves[i] = (Half)data[i];
        return AddInitializer(name, OnnxElementType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()), data.Length, dims);
    }

    public OnnxValue Initializer(string name, ReadOnlySpan<long> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int64, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>Integer initializers of quantized models: int32 biases, int8 weights, uint8 zero points.</summary>
    public OnnxValue Initializer(string name, ReadOnlySpan<int> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int32, MemoryMarshal.AsBytes(data), data.Length, dims);

    public OnnxValue Initializer(string name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int8, MemoryMarshal.AsBytes(data), data.Length, dims);

    public OnnxValue Initializer(string name, ReadOnlySpan<byte> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.UInt8, data, data.Length, dims);

    private OnnxValue AddInitializer(string name, OnnxElementType type, ReadOnlySpan<byte> raw, int count, long[] dims)
    {
        CheckCount(name, count, dims);
        var tensor = new TensorProto { Name = Claim(name), DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return new OnnxValue(name, type, dims.Select(d => (Dim)d).ToArray());
    }

    /// <summary>A float constant with a generated name (<paramref name="dims"/> empty: a scalar).</summary>
    public OnnxValue Float32s(string prefix, float[] values, params long[] dims) => Initializer(FreshName(prefix), values, dims);

    /// <summary>A 1-D int64 constant (shapes, axes, permutations), with a generated name.</summary>
    public OnnxValue Int64s(string prefix, params long[] values) => Initializer(FreshName(prefix), values, values.Length);

    private static void CheckCount(string name, int count, long[] dims)
    {
        long expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != count)
            throw new TensorShapeException($"initializer '{name}' has {count} values, its shape [{string.Join(", ", dims)}] needs {expected}");
    }

    /// <summary>Adds a node; null inputs become "" (an omitted optional input). Returns its outputs.</summary>
    public OnnxValue[] Node(string opType, IReadOnlyList<OnnxValue?> inputs, int outputs = 1, string? name = null, string domain = "",
        IEnumerable<OnnxAttribute>? attributes = null, IReadOnlyList<string>? outputNames = null, OnnxElementType? outputType = null)
    {
        var node = new NodeProto { OpType = opType, Name = name ?? UniqueName(opType), Domain = domain };
        node.Input.AddRange(inputs.Select(i => i?.Name ?? ""));
        var results = new OnnxValue[outputs];
        var type = outputType ?? inputs.FirstOrDefault(i => i is not null)?.Type ?? OnnxElementType.Float;
        for (int k = 0; k < outputs; k++)
        {
            string outName = outputNames is not null ? Claim(outputNames[k]) : UniqueName(opType.ToLowerInvariant());
            node.Output.Add(outName);
            results[k] = new OnnxValue(outName, type, null);
        }
        if (attributes is not null)
            node.Attribute.AddRange(attributes.Select(a => a.Proto));
        _graph.Node.Add(node);
        return results;
    }

    public OnnxValue Op(string opType, params OnnxValue?[] inputs) => Node(opType, inputs)[0];

    public OnnxValue Op(string opType, OnnxValue?[] inputs, params OnnxAttribute[] attributes) => Node(opType, inputs, attributes: attributes)[0];

    /// <summary>Same-shape elementwise op (Relu, Sigmoid, Tanh, Add/Mul/Sub of equal shapes ...).</summary>
    public OnnxValue Elementwise(string opType, params OnnxValue[] inputs) => Op(opType, inputs) with { Shape = inputs[0].Shape };

    public OnnxValue Relu(OnnxValue x) => Elementwise("Relu", x);

    public OnnxValue Transpose(OnnxValue x, params long[] perm)
    {
        var y = Op("Transpose", [x], OnnxAttribute.Ints("perm", perm));
        return x.Shape is { } s && s.Length == perm.Length ? y with { Shape = perm.Select(p => s[p]).ToArray() } : y;
    }

    public OnnxValue Reshape(OnnxValue x, params long[] shape) => Op("Reshape", x, Int64s("shape", shape));

    public OnnxValue MatMul(OnnxValue a, OnnxValue b) => Op("MatMul", a, b);

    public OnnxValue Add(OnnxValue a, OnnxValue b) => Op("Add", a, b);

    public OnnxValue LogSoftmax(OnnxValue x, long axis) => Op("LogSoftmax", [x], OnnxAttribute.Int("axis", axis)) with { Shape = x.Shape };

    public OnnxValue Conv(OnnxValue x, OnnxValue weight, OnnxValue? bias, long[] kernel, long[] strides, long[] pads) =>
        Op("Conv", [x, weight, bias], OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", strides),
            OnnxAttribute.Ints("pads", [.. pads, .. pads]));

    public OnnxValue MaxPool(OnnxValue x, long[] kernel, long[] strides) =>
        Op("MaxPool", [x], OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", strides));

    /// <summary>ONNX GRU; returns Y [T, directions, N, H] (and Y_h).</summary>
    public OnnxValue[] Gru(OnnxValue x, OnnxValue w, OnnxValue r, OnnxValue? b, long hidden, bool bidirectional, bool linearBeforeReset) =>
        Node("GRU", [x, w, r, b], outputs: 2, attributes:
        [
            OnnxAttribute.Int("hidden_size", hidden),
            OnnxAttribute.String("direction", bidirectional ? "bidirectional" : "forward"),
            OnnxAttribute.Int("linear_before_reset", linearBeforeReset ? 1 : 0),
        ]);

    private static ValueInfoProto ValueInfo(OnnxValue value)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)value.Type };
        if (value.Shape is { } shape)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (var d in shape)
                tensorType.Shape.Dim.Add(d.IsSymbolic ? new TensorShapeProto.Types.Dimension { DimParam = d.Symbol } : new TensorShapeProto.Types.Dimension { DimValue = d.Value });
        }
        return new ValueInfoProto { Name = value.Name, Type = new TypeProto { TensorType = tensorType } };
    }

    /// <summary>The finished model (IR version 8, this builder's opsets and metadata).</summary>
    public ModelProto Build(string producer = "LipNet.ML")
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = producer,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = _graph.Clone(),
        };
        foreach (var (domain, version) in _opsets)
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var (key, value) in _metadata)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }
}
