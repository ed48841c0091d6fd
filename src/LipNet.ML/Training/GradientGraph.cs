using Google.Protobuf;
using LipNet.ML.Onnx.Proto;

namespace LipNet.ML.Training;

/// <summary>
/// Reverse-mode differentiation of an ONNX graph, emitted as standard ONNX ops. Takes a forward model,
/// the names of its outputs that receive an upstream gradient and the values to differentiate with respect
/// to (parameters should be graph inputs, not initializers, so one session serves every step), and returns
/// a model that computes the forward outputs and, given <c>grad.{output}</c> inputs, the gradients
/// <c>grad.{value}</c>. Gradient rules exist for the ops in <see cref="SupportedOps"/>; a graph with any
/// other op on the path to a requested value is refused with the op's name.
/// </summary>
public static class GradientGraph
{
    /// <summary>
    /// The ops with a gradient rule. Shape, ConstantOfShape, comparisons, Size and Cast pass no gradient and may appear
    /// anywhere; any other op on a differentiated path makes <see cref="Build"/> throw.
    /// </summary>
    public static IReadOnlyCollection<string> SupportedOps { get; } =
        ["Add", "Sub", "Mul", "MatMul", "Gemm", "Relu", "Tanh", "Sigmoid", "Transpose", "Reshape", "LogSoftmax", "Identity", "Conv", "MaxPool",
         "Split", "Concat", "Slice", "Squeeze", "Unsqueeze", "Dropout"];

    /// <summary>Ops whose outputs carry no gradient (shapes, constants, comparisons).</summary>
    private static readonly HashSet<string> NonDifferentiable = ["Shape", "ConstantOfShape", "Greater", "Less", "Equal", "Size", "Cast"];

    /// <summary>
    /// The gradient's name for a value: <c>grad.{value}</c>. Names both the upstream-gradient inputs (for the
    /// differentiated outputs) and the gradient outputs (for the values in <c>wrt</c>) of <see cref="Build"/>'s model.
    /// </summary>
    /// <param name="value">A value name of the forward graph, e.g. <c>log_probs</c> or <c>conv1.weight</c>.</param>
    public static string GradientName(string value) => "grad." + value;

    /// <summary>
    /// Appends the backward pass (reverse-mode, node by node in reverse order, contributions to a value summed) to a copy
    /// of <paramref name="forward"/>. The result takes the forward inputs and a <c>grad.{output}</c> input of each output's
    /// type, and returns the forward outputs and a <c>grad.{value}</c> output of each <paramref name="wrt"/> value (float
    /// unless the value is a typed graph input). Backward nodes are named <c>bw.*</c>, which <see cref="Split"/> relies on.
    /// </summary>
    /// <param name="forward">The forward model; not modified. Values to differentiate should be graph inputs.</param>
    /// <param name="outputs">Graph outputs that receive an upstream gradient (e.g. <c>log_probs</c> from the CTC loss).</param>
    /// <param name="wrt">Values to return gradients for, usually every parameter.</param>
    /// <param name="ranks">Rank of every value a rule needs it for (Add/Sub/Mul broadcasting, MatMul): inputs,
    /// parameters and intermediate values; take them from the builder's shapes.</param>
    /// <param name="shapes">Static shapes where a rule needs sizes (a Conv's input: its spatial sizes fix the
    /// transposed convolution's output padding).</param>
    /// <returns>The combined forward and backward model; <see cref="Split"/> makes the two models a training step runs.</returns>
    /// <exception cref="TensorShapeException">
    /// An output is not a graph output, a value in <paramref name="wrt"/> does not influence the outputs, an op on the path
    /// has no rule (not in <see cref="SupportedOps"/>) or an unsupported form (e.g. grouped Conv), or a rule lacks a rank
    /// or static shape it needs.
    /// </exception>
    public static ModelProto Build(ModelProto forward, IReadOnlyList<string> outputs, IReadOnlyList<string> wrt, IReadOnlyDictionary<string, int> ranks,
        IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        var model = forward.Clone();
        var graph = model.Graph;
        var producers = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node)
            foreach (var o in node.Output)
                producers[o] = node;
        // Values whose gradient is needed: on some path from a requested value to a differentiated output.
        var needed = new HashSet<string>(wrt);
        foreach (var node in graph.Node)
            if (!NonDifferentiable.Contains(node.OpType) && node.Input.Any(needed.Contains))
                foreach (var o in node.Output)
                    needed.Add(o);

        var contributions = new Dictionary<string, List<string>>();
        int counter = 0;
        string Fresh(string prefix) => $"{prefix}.{counter++}";
        var backward = new List<NodeProto>();
        var constants = new List<TensorProto>();
        NodeProto Emit(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = Fresh("bw." + op) };
            n.Input.AddRange(inputs);
            n.Output.Add(output ?? Fresh("bw"));
            n.Attribute.AddRange(attributes);
            backward.Add(n);
            return n;
        }
        string Out(NodeProto n) => n.Output[0];
        string Ints(long[] values)
        {
            var t = new TensorProto { Name = Fresh("bw.const"), DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            constants.Add(t);
            return t.Name;
        }
        string Scalar(float value)
        {
            var t = new TensorProto { Name = Fresh("bw.const"), DataType = (int)TensorProto.Types.DataType.Float };
            t.FloatData.Add(value);
            constants.Add(t);
            return t.Name;
        }
        long[] Constant(string name)
        {
            var t = graph.Initializer.FirstOrDefault(i => i.Name == name) ?? throw new TensorShapeException($"gradient rule needs '{name}' to be a constant initializer");
            if (t.Int64Data.Count > 0)
                return t.Int64Data.ToArray();
            var raw = t.RawData.Span;
            return t.DataType == (int)TensorProto.Types.DataType.Int32
                ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (long)v).ToArray()
                : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw).ToArray();
        }
        AttributeProto IntAttr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
        AttributeProto IntsAttr(string name, long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
        void Contribute(string value, string gradient)
        {
            if (!needed.Contains(value))
                return;
            if (!contributions.TryGetValue(value, out var list))
                contributions[value] = list = [];
            list.Add(gradient);
        }
        int Rank(string value) => ranks.TryGetValue(value, out int r) ? r
            : throw new TensorShapeException($"gradient rule needs the rank of '{value}'; pass it in ranks");
        // Sums a gradient of a broadcast result down to an operand's rank (leading axes only, as for biases).
        string Unbroadcast(string gradient, string resultValue, string operand)
        {
            int extra = Rank(resultValue) - Rank(operand);
            if (extra <= 0)
                return gradient;
            return Out(Emit("ReduceSum", [gradient, Ints(Enumerable.Range(0, extra).Select(i => (long)i).ToArray())], null, IntAttr("keepdims", 0)));
        }

        foreach (var output in outputs)
        {
            var info = graph.Output.FirstOrDefault(o => o.Name == output) ?? throw new TensorShapeException($"'{output}' is not a graph output");
            var gradInput = new ValueInfoProto { Name = GradientName(output), Type = info.Type };
            graph.Input.Add(gradInput);
            Contribute(output, gradInput.Name);
        }

        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            var y = node.Output[0];
            if (node.OpType == "Split")
            {
                // Concatenate the outputs' gradients; an output nobody differentiated contributes zeros of its shape.
                if (!node.Output.Any(contributions.ContainsKey) || !needed.Contains(node.Input[0]))
                    continue;
                long splitAxis = node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;
                var pieces = node.Output.Select(o => contributions.TryGetValue(o, out var ps)
                    ? (ps.Count == 1 ? ps[0] : Out(Emit("Sum", [.. ps])))
                    : Out(Emit("ConstantOfShape", [Out(Emit("Shape", [o]))]))).ToArray();
                Contribute(node.Input[0], Out(Emit("Concat", pieces, null, IntAttr("axis", splitAxis))));
                continue;
            }
            if (!contributions.TryGetValue(y, out var parts) || !node.Input.Any(needed.Contains))
                continue;
            string dy = parts.Count == 1 ? parts[0] : Out(Emit("Sum", [.. parts]));
            string x0 = node.Input[0], x1 = node.Input.Count > 1 ? node.Input[1] : "";
            switch (node.OpType)
            {
                case "Identity":
                    Contribute(x0, dy);
                    break;
                case "Add":
                    if (needed.Contains(x0))
                        Contribute(x0, Unbroadcast(dy, y, x0));
                    if (needed.Contains(x1))
                        Contribute(x1, Unbroadcast(dy, y, x1));
                    break;
                // Each operand's rule is emitted only when that operand needs a gradient (ONNX Runtime runs unused nodes too).
                case "Sub":
                    if (needed.Contains(x0))
                        Contribute(x0, Unbroadcast(dy, y, x0));
                    if (needed.Contains(x1))
                        Contribute(x1, Unbroadcast(Out(Emit("Neg", [dy])), y, x1));
                    break;
                case "Mul":
                    if (needed.Contains(x0))
                        Contribute(x0, Unbroadcast(Out(Emit("Mul", [dy, x1])), y, x0));
                    if (needed.Contains(x1))
                        Contribute(x1, Unbroadcast(Out(Emit("Mul", [dy, x0])), y, x1));
                    break;
                case "Relu":
                {
                    var positive = Out(Emit("Greater", [x0, Scalar(0)]));
                    Contribute(x0, Out(Emit("Where", [positive, dy, Scalar(0)])));
                    break;
                }
                case "Tanh":
                {
                    var square = Out(Emit("Mul", [y, y]));
                    Contribute(x0, Out(Emit("Mul", [dy, Out(Emit("Sub", [Scalar(1), square]))])));
                    break;
                }
                case "Sigmoid":
                {
                    var oneMinus = Out(Emit("Sub", [Scalar(1), y]));
                    Contribute(x0, Out(Emit("Mul", [dy, Out(Emit("Mul", [y, oneMinus]))])));
                    break;
                }
                case "Transpose":
                {
                    var perm = node.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints.ToArray()
                        ?? Enumerable.Range(0, Rank(x0)).Reverse().Select(v => (long)v).ToArray();
                    var inverse = new long[perm.Length];
                    for (int k = 0; k < perm.Length; k++)
                        inverse[perm[k]] = k;
                    Contribute(x0, Out(Emit("Transpose", [dy], null, IntsAttr("perm", inverse))));
                    break;
                }
                case "Reshape":
                    Contribute(x0, Out(Emit("Reshape", [dy, Out(Emit("Shape", [x0]))])));
                    break;
                case "LogSoftmax":
                {
                    long axis = node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? -1;
                    var sum = Out(Emit("ReduceSum", [dy, Ints([axis])], null, IntAttr("keepdims", 1)));
                    var softmax = Out(Emit("Exp", [y]));
                    Contribute(x0, Out(Emit("Sub", [dy, Out(Emit("Mul", [softmax, sum]))])));
                    break;
                }
                case "MatMul":
                {
                    // Y = A·B with A [..., M, K] and B [K, N] (a weight matrix): dA = dY·Bᵀ, dB = Σ over leading axes of Aᵀ·dY.
                    if (Rank(x1) != 2)
                        throw new TensorShapeException($"MatMul gradient supports a rank-2 right operand; '{x1}' has rank {Rank(x1)}");
                    if (needed.Contains(x0))
                        Contribute(x0, Out(Emit("MatMul", [dy, Out(Emit("Transpose", [x1], null, IntsAttr("perm", [1, 0])))])));
                    if (needed.Contains(x1))
                    {
                        // Flatten [..., K] to [rows, K]: -1 for the rows, K sliced from the runtime shape.
                        var a2 = Out(Emit("Reshape", [x0, Out(Emit("Concat", [Ints([-1]), Out(Emit("Slice", [Out(Emit("Shape", [x0])), Ints([-1]), Ints([long.MaxValue])]))], null, IntAttr("axis", 0)))]));
                        var dy2 = Out(Emit("Reshape", [dy, Out(Emit("Concat", [Ints([-1]), Out(Emit("Slice", [Out(Emit("Shape", [dy])), Ints([-1]), Ints([long.MaxValue])]))], null, IntAttr("axis", 0)))]));
                        Contribute(x1, Out(Emit("MatMul", [Out(Emit("Transpose", [a2], null, IntsAttr("perm", [1, 0]))), dy2])));
                    }
                    break;
                }
                case "Conv":
                    ConvGradient(node, dy);
                    break;
                case "Gemm":
                {
                    // Y = alpha·op(A)·op(B) + beta·C, C of rank 1 ([N]) or the full [M, N].
                    float alpha = node.Attribute.FirstOrDefault(a => a.Name == "alpha")?.F ?? 1f, beta = node.Attribute.FirstOrDefault(a => a.Name == "beta")?.F ?? 1f;
                    long transA = node.Attribute.FirstOrDefault(a => a.Name == "transA")?.I ?? 0, transB = node.Attribute.FirstOrDefault(a => a.Name == "transB")?.I ?? 0;
                    var alphaAttr = new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = alpha };
                    if (needed.Contains(x0))
                        Contribute(x0, transA == 0
                            ? Out(Emit("Gemm", [dy, x1], null, alphaAttr, IntAttr("transB", 1 - transB)))
                            : Out(Emit("Gemm", [x1, dy], null, alphaAttr, IntAttr("transA", transB), IntAttr("transB", 1))));
                    if (needed.Contains(x1))
                        Contribute(x1, transB == 0
                            ? Out(Emit("Gemm", [x0, dy], null, alphaAttr, IntAttr("transA", 1 - transA)))
                            : Out(Emit("Gemm", [dy, x0], null, alphaAttr, IntAttr("transA", 1), IntAttr("transB", transA))));
                    if (node.Input.Count > 2 && needed.Contains(node.Input[2]))
                    {
                        string c = node.Input[2];
                        string scaled = beta == 1f ? dy : Out(Emit("Mul", [dy, Scalar(beta)]));
                        Contribute(c, Rank(c) == 1 ? Out(Emit("ReduceSum", [scaled, Ints([0])], null, IntAttr("keepdims", 0))) : scaled);
                    }
                    break;
                }
                case "Slice":
                {
                    // Unit steps over constant starts/ends/axes: dX is dY zero-padded back to the input's static shape.
                    long[] inputShape = shapes?.GetValueOrDefault(x0) ?? throw new TensorShapeException($"Slice gradient needs the static shape of '{x0}'; pass it in shapes");
                    long[] starts = Constant(node.Input[1]), ends = Constant(node.Input[2]);
                    long[] axes = node.Input.Count > 3 && node.Input[3].Length > 0 ? Constant(node.Input[3]) : Enumerable.Range(0, starts.Length).Select(v => (long)v).ToArray();
                    if (node.Input.Count > 4 && node.Input[4].Length > 0 && Constant(node.Input[4]).Any(step => step != 1))
                        throw new TensorShapeException($"Slice gradient supports unit steps only (node '{node.Name}')");
                    int rank = inputShape.Length;
                    var pads = new long[2 * rank];
                    for (int k = 0; k < axes.Length; k++)
                    {
                        int axis = (int)(axes[k] < 0 ? axes[k] + rank : axes[k]);
                        long dim = inputShape[axis];
                        long begin = Math.Clamp(starts[k] < 0 ? starts[k] + dim : starts[k], 0, dim);
                        long end = Math.Clamp(ends[k] < 0 ? ends[k] + dim : ends[k], begin, dim);
                        pads[axis] = begin;
                        pads[rank + axis] = dim - end;
                    }
                    Contribute(x0, Out(Emit("Pad", [dy, Ints(pads)])));
                    break;
                }
                case "Dropout":
                {
                    // Training mode: dX = dY·mask / (1 − ratio) with the mask the forward pass drew; inference mode is the identity.
                    bool training = node.Input.Count > 2 && node.Input[2].Length > 0 &&
                        (graph.Initializer.FirstOrDefault(t => t.Name == node.Input[2]) is not { } flag || flag.Int32Data.Concat(flag.RawData.Select(b => (int)b)).Any(v => v != 0));
                    if (!training)
                    {
                        Contribute(x0, dy);
                        break;
                    }
                    float ratio = node.Input.Count > 1 && node.Input[1].Length > 0
                        ? graph.Initializer.FirstOrDefault(t => t.Name == node.Input[1]) is { } r ? (r.FloatData.Count > 0 ? r.FloatData[0] : BitConverter.ToSingle(r.RawData.Span))
                          : throw new TensorShapeException($"Dropout gradient needs a constant ratio (node '{node.Name}')")
                        : 0.5f;
                    if (node.Output.Count < 2)
                        node.Output.Add(y + ".mask");
                    Contribute(x0, Out(Emit("Where", [node.Output[1], Out(Emit("Mul", [dy, Scalar(1f / (1f - ratio))])), Scalar(0)])));
                    break;
                }
                case "Squeeze":
                    Contribute(x0, Out(Emit("Unsqueeze", [dy, x1])));
                    break;
                case "Unsqueeze":
                    Contribute(x0, Out(Emit("Squeeze", [dy, x1])));
                    break;
                case "Concat":
                {
                    // Split dY back into the inputs' extents along the axis (read from their runtime shapes).
                    long axis = node.Attribute.First(a => a.Name == "axis").I;
                    if (axis < 0)
                        throw new TensorShapeException($"Concat gradient needs a non-negative axis (node '{node.Name}')");
                    var sizes = node.Input.Select(input => Out(Emit("Slice", [Out(Emit("Shape", [input])), Ints([axis]), Ints([axis + 1])]))).ToArray();
                    var split = Emit("Split", [dy, Out(Emit("Concat", sizes, null, IntAttr("axis", 0)))], null, IntAttr("axis", axis));
                    split.Output.Clear();
                    for (int k = 0; k < node.Input.Count; k++)
                        split.Output.Add(Fresh("bw.split"));
                    for (int k = 0; k < node.Input.Count; k++)
                        Contribute(node.Input[k], split.Output[k]);
                    break;
                }
                case "MaxPool":
                {
                    if (node.Output.Count < 2)
                        node.Output.Add(y + ".indices");
                    var shape = Out(Emit("Shape", [x0]));
                    long[] kernel = node.Attribute.First(a => a.Name == "kernel_shape").Ints.ToArray();
                    long[] strides = node.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints.ToArray() ?? Enumerable.Repeat(1L, kernel.Length).ToArray();
                    // Only kernel_shape and strides (plus zero pads) may be set for the windows to tile the input exactly.
                    bool plainWindows = node.Attribute.All(a => a.Name is "kernel_shape" or "strides" || (a.Name == "pads" && a.Ints.All(v => v == 0)));
                    if (kernel.SequenceEqual(strides) && plainWindows)
                    {
                        // Non-overlapping windows: every input element wins at most one window, so MaxUnpool (which places each
                        // output gradient at its window's argmax) is the exact gradient, and far cheaper than a scatter-add.
                        Contribute(x0, Out(Emit("MaxUnpool", [dy, node.Output[1], shape], null, IntsAttr("kernel_shape", kernel), IntsAttr("strides", strides))));
                        break;
                    }
                    // Overlapping windows: add each output gradient into the input element that won the max (indices are flat over the whole tensor).
                    var zeros = Out(Emit("Reshape", [Out(Emit("ConstantOfShape", [shape])), Ints([-1])]));
                    var flat = Out(Emit("ScatterElements", [zeros, Out(Emit("Reshape", [node.Output[1], Ints([-1])])), Out(Emit("Reshape", [dy, Ints([-1])]))],
                        null, IntAttr("axis", 0), new AttributeProto { Name = "reduction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("add") }));
                    Contribute(x0, Out(Emit("Reshape", [flat, shape])));
                    break;
                }
                default:
                    throw new TensorShapeException($"no gradient rule for op '{node.OpType}' (node '{node.Name}'); supported: {string.Join(", ", SupportedOps)}");
            }
        }

        void ConvGradient(NodeProto node, string dy)
        {
            string x = node.Input[0], w = node.Input[1], b = node.Input.Count > 2 ? node.Input[2] : "";
            long[] Attr(string name, long fill, int count) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? Enumerable.Repeat(fill, count).ToArray();
            if (node.Attribute.Any(a => a.Name == "group" && a.I != 1) || Attr("dilations", 1, 8).Any(d => d != 1))
                throw new TensorShapeException($"Conv gradient supports group 1 and dilation 1 (node '{node.Name}')");
            long[] xShape = shapes?.GetValueOrDefault(x) ?? throw new TensorShapeException($"Conv gradient needs the static shape of '{x}'; pass it in shapes");
            int spatial = xShape.Length - 2;
            long[] kernel = Attr("kernel_shape", 0, spatial), strides = Attr("strides", 1, spatial), pads = Attr("pads", 0, 2 * spatial);
            if (kernel.Any(k => k <= 0))
                throw new TensorShapeException($"Conv gradient needs kernel_shape on node '{node.Name}'");
            var outSize = new long[spatial];
            var outputPadding = new long[spatial];
            for (int d = 0; d < spatial; d++)
            {
                outSize[d] = (xShape[d + 2] + pads[d] + pads[d + spatial] - kernel[d]) / strides[d] + 1;
                outputPadding[d] = xShape[d + 2] - (strides[d] * (outSize[d] - 1) + kernel[d] - pads[d] - pads[d + spatial]);
            }
            // dX: the transposed convolution of dY with the same weights (skipped for the input video: ONNX Runtime
            // runs every node of a graph, used or not, and this one is the costliest of the first layer).
            if (needed.Contains(x))
            {
                if (strides.All(v => v == 1))
                {
                    // Stride 1: dX is a plain convolution of dY with the weights flipped in space and their channel axes
                    // swapped, padded by k − 1 − p (ONNX Runtime's Conv is markedly faster than its ConvTranspose).
                    long[] swapAxes = [1, 0, .. Enumerable.Range(2, spatial).Select(v => (long)v)];
                    var axesFlip = Enumerable.Range(2, spatial).Select(v => (long)v).ToArray();
                    var flipped = Out(Emit("Slice", [Out(Emit("Transpose", [w], null, IntsAttr("perm", swapAxes))),
                        Ints(Enumerable.Repeat(-1L, spatial).ToArray()), Ints(Enumerable.Repeat(long.MinValue, spatial).ToArray()), Ints(axesFlip), Ints(Enumerable.Repeat(-1L, spatial).ToArray())]));
                    var fullPads = new long[2 * spatial];
                    for (int d = 0; d < spatial; d++)
                    {
                        fullPads[d] = kernel[d] - 1 - pads[d];
                        fullPads[d + spatial] = kernel[d] - 1 - pads[d + spatial];
                    }
                    if (fullPads.All(v => v >= 0))
                    {
                        Contribute(x, Out(Emit("Conv", [dy, flipped], null, IntsAttr("kernel_shape", kernel), IntsAttr("pads", fullPads))));
                        goto weights;
                    }
                }
                Contribute(x, Out(Emit("ConvTranspose", [dy, w], null, IntsAttr("kernel_shape", kernel), IntsAttr("strides", strides), IntsAttr("pads", pads), IntsAttr("output_padding", outputPadding))));
            }
            weights:
            if (needed.Contains(w))
            {
                // dW[co, ci, k] = Σ_n,p dY[n, co, p] · X[n, ci, p·s + k]: a convolution of X (channels as batch, batch as
                // channels) with dY as the kernel, dilated by the stride; crop to the kernel, swap the first two axes.
                long[] swap = [1, 0, .. Enumerable.Range(2, spatial).Select(v => (long)v)];
                var xT = Out(Emit("Transpose", [x], null, IntsAttr("perm", swap)));
                var dyT = Out(Emit("Transpose", [dy], null, IntsAttr("perm", swap)));
                var full = Out(Emit("Conv", [xT, dyT], null, IntsAttr("pads", pads), IntsAttr("dilations", strides)));
                var axes = Enumerable.Range(2, spatial).Select(v => (long)v).ToArray();
                var cropped = Out(Emit("Slice", [full, Ints(new long[spatial]), Ints(kernel), Ints(axes)]));
                Contribute(w, Out(Emit("Transpose", [cropped], null, IntsAttr("perm", swap))));
            }
            if (b.Length > 0 && needed.Contains(b))
                Contribute(b, Out(Emit("ReduceSum", [dy, Ints([0, .. Enumerable.Range(2, spatial).Select(v => (long)v)])], null, IntAttr("keepdims", 0))));
        }

        foreach (var value in wrt)
        {
            if (!contributions.TryGetValue(value, out var parts))
                throw new TensorShapeException($"'{value}' does not influence the differentiated outputs");
            string name = GradientName(value);
            Emit(parts.Count == 1 ? "Identity" : "Sum", [.. parts], name);
            var type = graph.Input.FirstOrDefault(v => v.Name == value)?.Type;
            graph.Output.Add(new ValueInfoProto { Name = name, Type = type ?? new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        }
        graph.Initializer.AddRange(constants);
        graph.Node.AddRange(backward);
        return model;
    }

    /// <summary>
    /// Splits a model from <see cref="Build"/> into a forward model (outputs: the original outputs, then every
    /// forward value the backward pass reads, <see cref="TrainingGraphs.Saved"/>) and a backward model that takes
    /// those saved values, the <c>grad.*</c> inputs and whatever graph inputs it reads, and returns the
    /// gradients. One training step then runs the forward pass once: ONNX Runtime executes every node of a
    /// session whatever outputs are fetched, so a combined model run twice would compute the forward pass twice.
    /// </summary>
    public static TrainingGraphs Split(ModelProto combined)
    {
        var graph = combined.Graph;
        static bool IsBackward(NodeProto n) => n.Name.StartsWith("bw.", StringComparison.Ordinal);
        var forwardNodes = graph.Node.Where(n => !IsBackward(n)).ToList();
        var backwardNodes = graph.Node.Where(IsBackward).ToList();
        var gradientOutputs = new HashSet<string>(backwardNodes.SelectMany(n => n.Output));
        var producedForward = new HashSet<string>(forwardNodes.SelectMany(n => n.Output));
        var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name));
        var types = ElementTypes(graph);

        var saved = new List<string>();
        var readInputs = new List<string>();
        var seen = new HashSet<string>();
        foreach (var name in backwardNodes.SelectMany(n => n.Input))
        {
            if (name.Length == 0 || gradientOutputs.Contains(name) || initializers.Contains(name) || !seen.Add(name))
                continue;
            if (producedForward.Contains(name))
                saved.Add(name);
            else
                readInputs.Add(name);
        }
        var outputsOfForward = graph.Output.Where(o => !o.Name.StartsWith("grad.", StringComparison.Ordinal)).ToList();
        foreach (var o in outputsOfForward)
            saved.Remove(o.Name);
        ValueInfoProto Info(string name) => new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = types.GetValueOrDefault(name, 1) } } };

        var forward = combined.Clone();
        forward.Graph.Node.Clear();
        forward.Graph.Node.AddRange(forwardNodes.Select(n => n.Clone()));
        forward.Graph.Output.Clear();
        forward.Graph.Output.AddRange(outputsOfForward.Select(o => o.Clone()));
        forward.Graph.Output.AddRange(saved.Select(Info));
        var usedByForward = new HashSet<string>(forwardNodes.SelectMany(n => n.Input));
        var gradInputs = graph.Input.Where(i => i.Name.StartsWith("grad.", StringComparison.Ordinal)).Select(i => i.Name).ToHashSet();
        KeepInitializers(forward.Graph, usedByForward);
        var forwardInputs = forward.Graph.Input.Where(i => !gradInputs.Contains(i.Name)).ToList();
        forward.Graph.Input.Clear();
        forward.Graph.Input.AddRange(forwardInputs);

        var backward = combined.Clone();
        backward.Graph.Node.Clear();
        backward.Graph.Node.AddRange(backwardNodes.Select(n => n.Clone()));
        var keptInputs = graph.Input.Where(i => readInputs.Contains(i.Name)).Select(i => i.Clone()).ToList();
        backward.Graph.Input.Clear();
        backward.Graph.Input.AddRange(keptInputs);
        backward.Graph.Input.AddRange(saved.Concat(outputsOfForward.Select(o => o.Name).Where(seen.Contains)).Select(Info));
        backward.Graph.Output.Clear();
        backward.Graph.Output.AddRange(graph.Output.Where(o => o.Name.StartsWith("grad.", StringComparison.Ordinal)).Select(o => o.Clone()));
        KeepInitializers(backward.Graph, new HashSet<string>(backwardNodes.SelectMany(n => n.Input)));
        return new TrainingGraphs(forward, backward,
            [.. saved, .. outputsOfForward.Select(o => o.Name).Where(seen.Contains)],
            keptInputs.Select(i => i.Name).ToList());

        static void KeepInitializers(GraphProto g, HashSet<string> used)
        {
            var kept = g.Initializer.Where(t => used.Contains(t.Name)).ToList();
            g.Initializer.Clear();
            g.Initializer.AddRange(kept);
        }
    }

    /// <summary>ONNX element type of every value, where it is not float: integer shapes and indices, booleans.</summary>
    private static Dictionary<string, int> ElementTypes(GraphProto graph)
    {
        const int Float = 1, Int64 = 7, Bool = 9;
        var types = new Dictionary<string, int>();
        foreach (var i in graph.Input)
            types[i.Name] = i.Type.TensorType.ElemType;
        foreach (var t in graph.Initializer)
            types[t.Name] = t.DataType;
        foreach (var node in graph.Node)
        {
            int type = node.OpType switch
            {
                "Shape" or "Size" => Int64,
                "Greater" or "Less" or "Equal" => Bool,
                "Cast" => (int)node.Attribute.First(a => a.Name == "to").I,
                "ConstantOfShape" => Float,
                "Where" => types.GetValueOrDefault(node.Input[1], Float),
                _ => node.Input.Count > 0 ? types.GetValueOrDefault(node.Input[0], Float) : Float,
            };
            for (int k = 0; k < node.Output.Count; k++)
                types[node.Output[k]] = k == 1 && node.OpType == "MaxPool" ? Int64 : k == 1 && node.OpType == "Dropout" ? Bool : type;
        }
        return types;
    }
}

/// <summary>
/// A training step's two models from <see cref="GradientGraph.Split"/>: <see cref="Forward"/> returns the outputs
/// and <see cref="Saved"/>; <see cref="Backward"/> takes <see cref="Saved"/>, the <c>grad.*</c> inputs and
/// <see cref="BackwardInputs"/> (graph inputs such as parameters that the gradient rules read) and returns the gradients.
/// </summary>
public sealed record TrainingGraphs(ModelProto Forward, ModelProto Backward, IReadOnlyList<string> Saved, IReadOnlyList<string> BackwardInputs);
