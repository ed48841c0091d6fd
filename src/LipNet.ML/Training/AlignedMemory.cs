namespace LipNet.ML.Training;

/// <summary>
/// Float buffers at 64-byte aligned addresses that never move (pinned object heap). ONNX Runtime's CPU kernels
/// can take different, equally valid, summation paths for differently aligned inputs, so training inputs at
/// arbitrary managed addresses made two runs with the same seed differ in the last bits (which AdamW then
/// amplifies). Every buffer the trainer feeds to ONNX Runtime lives in one of these.
/// </summary>
public static class AlignedMemory
{
    /// <summary>Alignment of every buffer, in bytes: a cache line, and one AVX-512 vector.</summary>
    public const int Alignment = 64;

    /// <summary>
    /// A zeroed buffer of <paramref name="length"/> floats whose first element sits at a multiple of <see cref="Alignment"/>
    /// bytes. It lives on the pinned object heap (never moved, freed by the GC once unreachable), so it stays aligned.
    /// Allocate once and reuse: pinned buffers are for long-lived data such as batches and parameters.
    /// </summary>
    /// <param name="length">Floats in the buffer, 0 or more.</param>
    public static unsafe Memory<float> Allocate(int length)
    {
        var array = GC.AllocateArray<float>(length + Alignment / sizeof(float), pinned: true);
        fixed (float* p = array)
        {
            int offset = (int)((Alignment - (nint)p % Alignment) % Alignment) / sizeof(float);
            return array.AsMemory(offset, length);
        }
    }

    /// <summary>
    /// Whether <paramref name="memory"/> starts at a multiple of <see cref="Alignment"/> bytes (pins it for the check).
    /// The trainer copies a batch that is not into an aligned staging buffer before running it.
    /// </summary>
    /// <param name="memory">Any float buffer.</param>
    public static unsafe bool IsAligned(Memory<float> memory)
    {
        using var handle = memory.Pin();
        return (nint)handle.Pointer % Alignment == 0;
    }
}
