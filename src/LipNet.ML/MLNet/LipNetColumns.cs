using Microsoft.ML.Data;

namespace LipNet.ML.MLNet;

// Row classes of the custom mappings. Their column names are fixed (ML.NET rebuilds a loaded
// CustomMapping from its factory alone), so the catalog methods copy user-named columns to and from
// these temporary names around each mapping.
// The classes are internal: ML.NET builds their getters and setters by reflection over the public
// properties, which works for internal types (MLNetTests and FullPipelineTests fit, save, load and run them).

internal static class TempColumns
{
    public const string Options = "__lipnet_options";
    public const string In = "__lipnet_in";
    public const string InShape = "__lipnet_in.Shape";
    public const string InFps = "__lipnet_in.Fps";
    public const string Out = "__lipnet_out";
    public const string OutShape = "__lipnet_out.Shape";
    public const string OutFps = "__lipnet_out.Fps";
    public const string OutBoxes = "__lipnet_out.Boxes";
    public const string OutLength = "__lipnet_out.Length";
}

internal sealed class VideoPathInput
{
    [ColumnName(TempColumns.In)] public string Path { get; set; } = "";
    [ColumnName(TempColumns.Options)] public string Options { get; set; } = "";
}

internal sealed class FramesInput
{
    [ColumnName(TempColumns.In), VectorType] public byte[] Pixels { get; set; } = [];
    [ColumnName(TempColumns.InShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.InFps)] public float Fps { get; set; }
    [ColumnName(TempColumns.Options)] public string Options { get; set; } = "";
}

internal sealed class FramesOutput
{
    [ColumnName(TempColumns.Out), VectorType] public byte[] Pixels { get; set; } = [];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutFps)] public float Fps { get; set; }
}

internal sealed class MouthOutput
{
    [ColumnName(TempColumns.Out), VectorType] public byte[] Pixels { get; set; } = [];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutFps)] public float Fps { get; set; }
    [ColumnName(TempColumns.OutBoxes), VectorType] public float[] Boxes { get; set; } = [];
}

internal sealed class TensorOutput
{
    [ColumnName(TempColumns.Out), VectorType] public float[] Tensor { get; set; } = [];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutLength)] public int Length { get; set; }
}

/// <summary>A clip tensor column of known size (what ApplyOnnxModel needs), with its shape and real frame count.</summary>
internal interface IClipTensorOutput
{
    float[] Tensor { get; set; }
    int[] Shape { get; set; }
    int Length { get; set; }
}

/// <summary>The standard LipNet RGB tensor, [3, 75, 50, 100], as a known-size column.</summary>
internal sealed class RgbClipTensorOutput : IClipTensorOutput
{
    [ColumnName(TempColumns.Out), VectorType(3, 75, 50, 100)] public float[] Tensor { get; set; } = new float[3 * 75 * 50 * 100];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutLength)] public int Length { get; set; }
}

/// <summary>The RGB tensor at 128x64 (LipNet-PyTorch's input, <c>face-aligned</c> crops), [3, 75, 64, 128], as a known-size column.</summary>
internal sealed class RgbClip128TensorOutput : IClipTensorOutput
{
    [ColumnName(TempColumns.Out), VectorType(3, 75, 64, 128)] public float[] Tensor { get; set; } = new float[3 * 75 * 64 * 128];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutLength)] public int Length { get; set; }
}

/// <summary>The grayscale LipNet tensor, [1, 75, 50, 100], as a known-size column.</summary>
internal sealed class GrayClipTensorOutput : IClipTensorOutput
{
    [ColumnName(TempColumns.Out), VectorType(1, 75, 50, 100)] public float[] Tensor { get; set; } = new float[75 * 50 * 100];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutLength)] public int Length { get; set; }
}

/// <summary>The grayscale tensor at 88x88 (<c>mean-face</c> crops), [1, 75, 88, 88], as a known-size column.</summary>
internal sealed class GrayClip88TensorOutput : IClipTensorOutput
{
    [ColumnName(TempColumns.Out), VectorType(1, 75, 88, 88)] public float[] Tensor { get; set; } = new float[75 * 88 * 88];
    [ColumnName(TempColumns.OutShape), VectorType(4)] public int[] Shape { get; set; } = new int[4];
    [ColumnName(TempColumns.OutLength)] public int Length { get; set; }
}
