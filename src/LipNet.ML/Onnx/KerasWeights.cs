using PureHDF;
using PureHDF.VOL.Native;

namespace LipNet.ML.Onnx;

/// <summary>One weight of a Keras HDF5 file: its layer, its name as <c>weight_names</c> lists it, shape and values.</summary>
/// <param name="Layer">The layer group's name (<c>conv1</c>, <c>bidirectional_1</c>).</param>
/// <param name="Name">The weight's name in the layer (<c>conv1/kernel:0</c>, <c>bidirectional_1/forward_gru1/kernel:0</c>).</param>
/// <param name="Shape">Dimensions, Keras layout (e.g. a Conv3D kernel is (kt, k1, k2, in, out)).</param>
/// <param name="Data">Values, row-major, as float32.</param>
public sealed record KerasWeight(string Layer, string Name, long[] Shape, float[] Data)
{
    /// <summary>The dataset's path in the file (<c>layer/name</c>), as errors name it.</summary>
    public string Path => $"{Layer}/{Name}";

    /// <summary>The name's last two parts, which identify a weight across Keras versions' scope prefixes (<c>forward_gru1/kernel:0</c>).</summary>
    public string TrailingName => string.Join('/', Name.Split('/')[^Math.Min(2, Name.Split('/').Length)..]);
}

/// <summary>
/// Reads the weights of a Keras 2 HDF5 file with PureHDF: the layout <c>model.save_weights</c> writes (root attribute
/// <c>layer_names</c>; a group per layer with attribute <c>weight_names</c>; a dataset per weight under the layer's group,
/// e.g. <c>conv1/conv1/kernel:0</c>), and the full-model file <c>model.save</c> writes (the same under <c>model_weights</c>,
/// beside <c>model_config</c>). Keras 2's layout is described in keras/engine/topology.py (<c>save_weights_to_hdf5_group</c>).
/// </summary>
public static class KerasWeights
{
    /// <summary>Every weight the file's layers list, in layer order.</summary>
    /// <param name="path">A Keras 2 <c>.h5</c> / <c>.hdf5</c> weights or full-model file.</param>
    /// <exception cref="ModelImportException">The file is missing, not HDF5, truncated, has no <c>layer_names</c> (not a Keras file),
    /// or a listed weight is missing or not a float dataset; the message names the dataset.</exception>
    public static IReadOnlyList<KerasWeight> Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelImportException(Directory.Exists(path) ? "is a directory, not a Keras weights file" : "file not found", path);
        NativeFile file;
        try
        {
            file = H5File.OpenRead(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ModelImportException($"not a readable HDF5 file, truncated or of another format ({ex.Message})", path, inner: ex);
        }
        using (file)
        {
            string? current = null;
            try
            {
                IH5Group root = file;
                if (!root.AttributeExists("layer_names"))
                {
                    if (!root.LinkExists("model_weights"))
                        throw new ModelImportException("no 'layer_names' attribute and no 'model_weights' group: not a Keras weights or model file", path);
                    root = root.Group("model_weights");
                    if (!root.AttributeExists("layer_names"))
                        throw new ModelImportException("'model_weights' has no 'layer_names' attribute: not a Keras model file", path);
                }
                var weights = new List<KerasWeight>();
                foreach (var layer in Strings(root.Attribute("layer_names")))
                {
                    current = layer;
                    if (!root.LinkExists(layer))
                        throw new ModelImportException($"layer '{layer}' is listed but has no group (truncated file?)", path, layer);
                    var group = root.Group(layer);
                    if (!group.AttributeExists("weight_names"))
                        continue;
                    foreach (var name in Strings(group.Attribute("weight_names")))
                    {
                        current = $"{layer}/{name}";
                        if (!group.LinkExists(name))
                            throw new ModelImportException($"weight '{current}' is listed but missing (truncated file?)", path, current);
                        var dataset = group.Dataset(name);
                        var shape = dataset.Space.Dimensions.Select(d => (long)d).ToArray();
                        if (dataset.Type.Class != H5DataTypeClass.FloatingPoint)
                            throw new ModelImportException($"weight '{current}' is not floating point ({dataset.Type.Class})", path, current);
                        float[] data = dataset.Type.Size switch
                        {
                            4 => dataset.Read<float[]>(),
                            8 => dataset.Read<double[]>().Select(v => (float)v).ToArray(),
                            2 => dataset.Read<Half[]>().Select(v => (float)v).ToArray(),
                            _ => throw new ModelImportException($"weight '{current}' has {dataset.Type.Size}-byte floats", path, current),
                        };
                        weights.Add(new KerasWeight(layer, name, shape, data));
                    }
                }
                return weights;
            }
            catch (Exception ex) when (ex is not ModelImportException and not OutOfMemoryException)
            {
                throw new ModelImportException($"cannot read {(current is null ? "the file" : $"'{current}'")}, truncated or corrupt ({ex.Message})", path, current, ex);
            }
        }
    }

    /// <summary>A string-array attribute (h5py writes fixed-length byte strings).</summary>
    private static string[] Strings(IH5Attribute attribute) =>
        attribute.Space.Dimensions.Aggregate(1UL, (a, b) => a * b) == 0 ? [] : attribute.Read<string[]>();
}
