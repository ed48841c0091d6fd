namespace LipNet.ML.Mouth;

/// <summary>An axis-aligned box in source-frame pixels (x, y of the top-left corner, width, height).</summary>
public readonly record struct MouthBox(float X, float Y, float Width, float Height)
{
    public float CenterX => X + Width / 2;
    public float CenterY => Y + Height / 2;

    public static MouthBox FromCenter(float centerX, float centerY, float width, float height) =>
        new(centerX - width / 2, centerY - height / 2, width, height);

    /// <summary>[x, y, w, h] rounded to whole pixels, the form the CLI prints.</summary>
    public int[] ToPixelArray() => [(int)MathF.Round(X), (int)MathF.Round(Y), (int)MathF.Round(Width), (int)MathF.Round(Height)];
}
