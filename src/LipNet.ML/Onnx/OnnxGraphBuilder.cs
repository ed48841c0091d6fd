using System.Runtime.InteropServices;
using Google.Protobuf;
using LipNet.ML.Onnx.Proto;

namespace LipNet.ML.Onnx;

/// <summary>Element types the builder writes (values of ONNX's TensorProto.DataType).</summary>
public enum OnnxElementType
{
    /// <summary>32-bit IEEE float (<c>FLOAT</c>): activations and weights.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer (<c>UINT8</c>): quantized activations and their zero points.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer (<c>INT8</c>): quantized weights.</summary>
    Int8 = 3,
    /// <summary>Signed 32-bit integer (<c>INT32</c>): quantized biases.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer (<c>INT64</c>): shapes, axes, indices, permutations.</summary>
    Int64 = 7,
    /// <summary>Boolean (<c>BOOL</c>): comparison results.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE half (<c>FLOAT16</c>): weights stored at half size.</summary>
    Float16 = 10,
}

/// <summary>A dimension: a fixed size or a named symbolic one ("batch").</summary>
public readonly record struct Dim(long Value, string? Symbol = null)
{
    /// <summary>True for a named dimension (written as ONNX <c>dim_param</c>; <see cref="Value"/> is then -1 and unused).</summary>
    public bool IsSymbolic => Symbol is not null;

    /// <summary>A fixed size (written as ONNX <c>dim_value</c>).</summary>
    /// <param name="value">The size, 0 or more.</param>
    public static implicit operator Dim(long value) => new(value);

    /// <summary>A fixed size (written as ONNX <c>dim_value</c>).</summary>
    /// <param name="value">The size, 0 or more.</param>
    public static implicit operator Dim(int value) => new(value);

    /// <summary>A symbolic dimension: the same name on several values means the same runtime size.</summary>
    /// <param name="symbol">The dimension's name, e.g. "batch" or "frames".</param>
    public static implicit operator Dim(string symbol) => new(-1, symbol);

    /// <summary>The symbol, or the size in invariant culture.</summary>
    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A named value in a graph under construction; its shape is known where it was cheap to infer.</summary>
public sealed record OnnxValue(string Name, OnnxElementType Type, Dim[]? Shape)
{
    /// <summary>
    /// The name, element type and shape, e.g. <c>video: Float[batch, 3, 75, 50, 100]</c> (<c>?</c> when the shape is unknown).
    /// </summary>
    public override string ToString() => $"{Name}: {Type}[{(Shape is null ? "?" : string.Join(", ", Shape))}]";
}

/// <summary>A node attribute, built with the typed factories.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    internal AttributeProto Proto { get; }

    /// <summary>An integer attribute (ONNX <c>INT</c>), e.g. <c>axis</c> or <c>hidden_size</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="value">The value.</param>
    public static OnnxAttribute Int(string name, long value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
    /// <summary>A float attribute (ONNX <c>FLOAT</c>), e.g. <c>epsilon</c> or <c>alpha</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="value">The value.</param>
    public static OnnxAttribute Float(string name, float value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
    /// <summary>A string attribute (ONNX <c>STRING</c>, stored as UTF-8), e.g. <c>direction</c> or <c>mode</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="value">The value.</param>
    public static OnnxAttribute String(string name, string value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    /// <summary>An integer-list attribute (ONNX <c>INTS</c>), e.g. <c>perm</c>, <c>kernel_shape</c>, <c>pads</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="values">The values, in order.</param>
    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return new(a);
    }

    /// <summary>A float-list attribute (ONNX <c>FLOATS</c>), e.g. <c>activation_alpha</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="values">The values, in order.</param>
    public static OnnxAttribute Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return new(a);
    }

    /// <summary>A string-list attribute (ONNX <c>STRINGS</c>, each stored as UTF-8), e.g. a GRU's <c>activations</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec.</param>
    /// <param name="values">The values, in order.</param>
    public static OnnxAttribute Strings(string name, params string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return new(a);
    }

    /// <summary>A subgraph attribute (ONNX <c>GRAPH</c>): the body of <c>If</c>, <c>Loop</c> or <c>Scan</c>.</summary>
    /// <param name="name">The attribute's name in the operator's spec (e.g. <c>body</c>, <c>then_branch</c>).</param>
    /// <param name="graph">The subgraph, e.g. from another builder's <see cref="OnnxGraphBuilder.Build"/>.</param>
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

    /// <summary>Starts an empty graph that imports the default ONNX domain at <paramref name="opset"/>.</summary>
    /// <param name="graphName">The graph's name (ONNX <c>GraphProto.name</c>), named in errors about duplicate values.</param>
    /// <param name="opset">
    /// Version of the default (<c>ai.onnx</c>) operator set, 17 by default; ONNX Runtime and ML.NET's OnnxTransformer
    /// accept it, and it fixes each operator's semantics (see the ONNX operator spec, Operators.md).
    /// </param>
    public OnnxGraphBuilder(string graphName, long opset = 17)
    {
        _graph = new GraphProto { Name = graphName };
        _opsets[""] = opset;
    }

    /// <summary>Version of the default (<c>ai.onnx</c>) operator set the model imports.</summary>
    public long Opset => _opsets[""];

    /// <summary>Imports another operator-set domain (e.g. "com.microsoft").</summary>
    public void ImportOpset(string domain, long version) => _opsets[domain] = version;

    /// <summary>Sets a model metadata entry (ONNX <c>metadata_props</c>), replacing one with the same key; e.g. the model card.</summary>
    /// <param name="key">The entry's key, e.g. <see cref="ModelCard.MetadataKey"/>.</param>
    /// <param name="value">The entry's value.</param>
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

    /// <summary>Declares a graph input (fed at run time, e.g. the video or, in training graphs, a parameter).</summary>
    /// <param name="name">The input's name, which callers feed by.</param>
    /// <param name="type">Its element type.</param>
    /// <param name="shape">Its shape, fixed or symbolic per axis (e.g. <c>"batch", 3, 75, 50, 100</c>); empty = a scalar.</param>
    /// <returns>The input as a value with that shape, to pass to ops.</returns>
    /// <exception cref="TensorShapeException"><paramref name="name"/> already names a value of this graph.</exception>
    public OnnxValue Input(string name, OnnxElementType type, params Dim[] shape)
    {
        var value = new OnnxValue(Claim(name), type, shape);
        _graph.Input.Add(ValueInfo(value));
        return value;
    }

    /// <summary>Declares <paramref name="value"/> a graph output (callers fetch it by its name).</summary>
    /// <param name="value">A value of this graph; to give the output a fixed name, produce it with <see cref="Node"/>'s
    /// <c>outputNames</c>.</param>
    /// <param name="shape">The declared shape; empty keeps the value's own (unknown when it has none).</param>
    public void Output(OnnxValue value, params Dim[] shape)
    {
        var declared = shape.Length > 0 ? value with { Shape = shape } : value;
        _graph.Output.Add(ValueInfo(declared));
    }

    /// <summary>A float initializer (a constant stored in the model).</summary>
    /// <param name="name">The constant's name (weights keep their parameter names).</param>
    /// <param name="data">The values, row-major; as many as <paramref name="dims"/> needs.</param>
    /// <param name="dims">The shape; empty = a scalar.</param>
    /// <exception cref="TensorShapeException"><paramref name="name"/> is used, or the value count does not fit
    /// <paramref name="dims"/>.</exception>
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

    /// <summary>An int64 initializer: shapes, axes, indices (what ONNX ops such as Reshape and Slice read as inputs).</summary>
    /// <param name="name">The constant's name.</param>
    /// <param name="data">The values, row-major; as many as <paramref name="dims"/> needs.</param>
    /// <param name="dims">The shape; empty = a scalar.</param>
    /// <exception cref="TensorShapeException"><paramref name="name"/> is used, or the value count does not fit
    /// <paramref name="dims"/>.</exception>
    public OnnxValue Initializer(string name, ReadOnlySpan<long> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int64, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>Integer initializers of quantized models: int32 biases, int8 weights, uint8 zero points.</summary>
    public OnnxValue Initializer(string name, ReadOnlySpan<int> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int32, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>An int8 initializer: quantized weights and their zero points (e.g. for <c>QLinearConv</c>).</summary>
    /// <param name="name">The constant's name.</param>
    /// <param name="data">The values, row-major; as many as <paramref name="dims"/> needs.</param>
    /// <param name="dims">The shape; empty = a scalar.</param>
    /// <exception cref="TensorShapeException"><paramref name="name"/> is used, or the value count does not fit
    /// <paramref name="dims"/>.</exception>
    public OnnxValue Initializer(string name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        AddInitializer(name, OnnxElementType.Int8, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>A uint8 initializer: zero points of uint8 activations (e.g. for <c>QuantizeLinear</c>, <c>QLinearConv</c>).</summary>
    /// <param name="name">The constant's name.</param>
    /// <param name="data">The values, row-major; as many as <paramref name="dims"/> needs.</param>
    /// <param name="dims">The shape; empty = a scalar.</param>
    /// <exception cref="TensorShapeException"><paramref name="name"/> is used, or the value count does not fit
    /// <paramref name="dims"/>.</exception>
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

    /// <summary>
    /// Adds a single-output node of the default domain with no attributes. The output has a generated name, the first
    /// non-null input's element type and no known shape.
    /// </summary>
    /// <param name="opType">The ONNX operator, e.g. "Mul" or "Shape" (see the ONNX operator spec).</param>
    /// <param name="inputs">The operator's inputs in spec order; null for an omitted optional input.</param>
    /// <returns>The node's output.</returns>
    public OnnxValue Op(string opType, params OnnxValue?[] inputs) => Node(opType, inputs)[0];

    /// <summary>
    /// Adds a single-output node of the default domain with attributes (output as in <see cref="Op(string, OnnxValue?[])"/>).
    /// </summary>
    /// <param name="opType">The ONNX operator, e.g. "Gather" or "Concat".</param>
    /// <param name="inputs">The operator's inputs in spec order; null for an omitted optional input.</param>
    /// <param name="attributes">The node's attributes, e.g. <c>OnnxAttribute.Int("axis", 0)</c>.</param>
    /// <returns>The node's output.</returns>
    public OnnxValue Op(string opType, OnnxValue?[] inputs, params OnnxAttribute[] attributes) => Node(opType, inputs, attributes: attributes)[0];

    /// <summary>Same-shape elementwise op (Relu, Sigmoid, Tanh, Add/Mul/Sub of equal shapes ...).</summary>
    public OnnxValue Elementwise(string opType, params OnnxValue[] inputs) => Op(opType, inputs) with { Shape = inputs[0].Shape };

    /// <summary>ReLU, max(x, 0), elementwise; the output keeps <paramref name="x"/>'s shape.</summary>
    /// <param name="x">Any float tensor.</param>
    public OnnxValue Relu(OnnxValue x) => Elementwise("Relu", x);

    /// <summary>
    /// ONNX Transpose: output axis i is input axis <c>perm[i]</c>; the shape is permuted when <paramref name="x"/>'s is known.
    /// </summary>
    /// <param name="x">The tensor to transpose.</param>
    /// <param name="perm">A permutation of 0 … rank − 1, e.g. <c>2, 0, 1, 3, 4</c> turns [N, C, T, H, W] into [T, N, C, H, W].</param>
    public OnnxValue Transpose(OnnxValue x, params long[] perm)
    {
        var y = Op("Transpose", [x], OnnxAttribute.Ints("perm", perm));
        return x.Shape is { } s && s.Length == perm.Length ? y with { Shape = perm.Select(p => s[p]).ToArray() } : y;
    }

    /// <summary>ONNX Reshape to a constant shape; the output's shape is left unknown.</summary>
    /// <param name="x">The tensor to reshape.</param>
    /// <param name="shape">The new shape: 0 copies the input's size on that axis, -1 (at most once) takes what is left.</param>
    public OnnxValue Reshape(OnnxValue x, params long[] shape) => Op("Reshape", x, Int64s("shape", shape));

    /// <summary>
    /// ONNX MatMul: matrix product over the last two axes with numpy-style broadcasting of the others
    /// ([T, N, K] x [K, M] → [T, N, M]).
    /// </summary>
    /// <param name="a">The left operand, [..., n, k].</param>
    /// <param name="b">The right operand, [..., k, m].</param>
    public OnnxValue MatMul(OnnxValue a, OnnxValue b) => Op("MatMul", a, b);

    /// <summary>
    /// ONNX Add: elementwise sum with numpy-style broadcasting (e.g. a bias [V] onto [T, N, V]); the output's shape is left unknown.
    /// </summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand, broadcastable against <paramref name="a"/>.</param>
    public OnnxValue Add(OnnxValue a, OnnxValue b) => Op("Add", a, b);

    /// <summary>ONNX LogSoftmax: x − log Σ exp(x) along <paramref name="axis"/>; the output keeps <paramref name="x"/>'s shape.</summary>
    /// <param name="x">Scores (logits).</param>
    /// <param name="axis">The axis normalized over (negative counts from the end), e.g. 2 for V in [T, N, V].</param>
    public OnnxValue LogSoftmax(OnnxValue x, long axis) => Op("LogSoftmax", [x], OnnxAttribute.Int("axis", axis)) with { Shape = x.Shape };

    /// <summary>
    /// ONNX Conv with group 1 and dilation 1, for any number k of spatial axes (Conv3d on [N, C, T, H, W] with k = 3).
    /// The output's shape is left unknown; per axis it is ⌊(n + 2p − kernel) / stride⌋ + 1.
    /// </summary>
    /// <param name="x">The input, [N, C, D1 … Dk].</param>
    /// <param name="weight">The kernels, [M, C, K1 … Kk].</param>
    /// <param name="bias">One bias per output channel, [M]; null for none.</param>
    /// <param name="kernel">The kernel size per spatial axis (K1 … Kk).</param>
    /// <param name="strides">The stride per spatial axis.</param>
    /// <param name="pads">Zero padding per spatial axis, applied at both ends (written as ONNX's begin and end pads).</param>
    public OnnxValue Conv(OnnxValue x, OnnxValue weight, OnnxValue? bias, long[] kernel, long[] strides, long[] pads) =>
        Op("Conv", [x, weight, bias], OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", strides),
            OnnxAttribute.Ints("pads", [.. pads, .. pads]));

    /// <summary>
    /// ONNX MaxPool without padding (floor mode: a partial window at the end is dropped); the output's shape is left unknown.
    /// </summary>
    /// <param name="x">The input, [N, C, D1 … Dk].</param>
    /// <param name="kernel">The window per spatial axis, e.g. <c>1, 2, 2</c> halves H and W and keeps T.</param>
    /// <param name="strides">The step per spatial axis (LipNet uses the window size).</param>
    public OnnxValue MaxPool(OnnxValue x, long[] kernel, long[] strides) =>
        Op("MaxPool", [x], OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", strides));

    /// <summary>ONNX GRU; returns Y [T, directions, N, H] (and Y_h).</summary>
    /// <param name="x">The sequence, [T, N, F].</param>
    /// <param name="w">Input weights [directions, 3H, F], gate blocks z, r, h.</param>
    /// <param name="r">Recurrent weights [directions, 3H, H].</param>
    /// <param name="b">Biases [directions, 6H] (input then recurrent), or null for none.</param>
    /// <param name="hidden">H, the hidden size.</param>
    /// <param name="bidirectional">Both directions (else forward only).</param>
    /// <param name="linearBeforeReset">Reset applied after the recurrent product (PyTorch's GRU) rather than before (Keras 2.0's, ONNX's default).</param>
    /// <param name="activations">The <c>activations</c> attribute (f, g per direction), e.g. Keras's HardSigmoid, Tanh; null = ONNX's
    /// default (Sigmoid, Tanh). Alpha and beta keep the operators' defaults (HardSigmoid: 0.2, 0.5).</param>
    public OnnxValue[] Gru(OnnxValue x, OnnxValue w, OnnxValue r, OnnxValue? b, long hidden, bool bidirectional, bool linearBeforeReset,
        IReadOnlyList<string>? activations = null) =>
        Node("GRU", [x, w, r, b], outputs: 2, attributes:
        [
            OnnxAttribute.Int("hidden_size", hidden),
            OnnxAttribute.String("direction", bidirectional ? "bidirectional" : "forward"),
            OnnxAttribute.Int("linear_before_reset", linearBeforeReset ? 1 : 0),
            .. activations is null ? Array.Empty<OnnxAttribute>() : [OnnxAttribute.Strings("activations", [.. activations])],
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
