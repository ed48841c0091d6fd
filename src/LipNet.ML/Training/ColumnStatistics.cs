namespace LipNet.ML.Training;

/// <summary>Per-column statistics of row-major [rows, columns] data (features per frame), for standardising model inputs and targets.</summary>
internal static class ColumnStatistics
{
    /// <summary>Per-feature mean and standard deviation (floored at 1e-6) over every frame of every clip.</summary>
    public static (float[] Mean, float[] Std) MeanAndStd(IReadOnlyList<float[]> clips, int features)
    {
        var sum = new double[features];
        var squares = new double[features];
        long frames = 0;
        foreach (var values in clips)
            for (int i = 0; i < values.Length; i++)
            {
                sum[i % features] += values[i];
                squares[i % features] += (double)values[i] * values[i];
                if (i % features == 0)
                    frames++;
            }
        var mean = sum.Select(s => (float)(s / Math.Max(1, frames))).ToArray();
        var std = squares.Select((q, f) => (float)Math.Max(1e-6, Math.Sqrt(Math.Max(0, q / Math.Max(1, frames) - (double)mean[f] * mean[f])))).ToArray();
        return (mean, std);
    }

    /// <summary>(x − mean) / std per column of row-major data (the column is the index modulo the means' length).</summary>
    public static float[] Standardise(float[] values, float[] mean, float[] std)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = (values[i] - mean[i % mean.Length]) / std[i % std.Length];
        return result;
    }
}
