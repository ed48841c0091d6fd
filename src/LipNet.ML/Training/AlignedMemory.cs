namespace LipNet.ML.Training;

/// <summary>
/// Float buffers at 64-byte aligned addresses that never move (pinned object heap). ONNX Runtime's CPU kernels
/// can take different, equally valid, summation paths for differently aligned inputs, so training inputs at
/// arbitrary managed addresses made two runs with the same seed differ in the last bits (which AdamW then
/// amplifies). Every buffer the trainer feeds to ONNX Runtime lives in one of these.
/// </summary>
public static class AlignedMemory
{
    public const int Alignment = 64;

    public static unsafe Memory<float> Allocate(int length)
    {
        var array = GC.AllocateArray<float>(length + Alignment / sizeof(float), pinned: true);
        fixed (float* p = array)
        {
            int offset = (int)((Alignment - (nint)p % Alignment) % Alignment) / sizeof(float);
            return array.AsMemory(offset, length);
        }
    }

    public static unsafe bool IsAligned(Memory<float> memory)
    {
        using var handle = memory.Pin();
        return (nint)handle.Pointer % Alignment == 0;
    }
}
