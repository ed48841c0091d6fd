namespace LipNet.ML.Mouth;

/// <summary>
/// A box in source-frame pixels: x, y of the top-left corner and width, height of the box before rotation;
/// <paramref name="Angle"/> turns it about its centre (radians, image coordinates: positive is clockwise on
/// screen), so the crop's x axis runs along that angle. Axis-aligned boxes have angle 0.
/// </summary>
public readonly record struct MouthBox(float X, float Y, float Width, float Height, float Angle = 0)
{
    public float CenterX => X + Width / 2;
    public float CenterY => Y + Height / 2;

    public static MouthBox FromCenter(float centerX, float centerY, float width, float height, float angle = 0) =>
        new(centerX - width / 2, centerY - height / 2, width, height, angle);

    /// <summary>[x, y, w, h] rounded to whole pixels, the form the CLI prints.</summary>
    public int[] ToPixelArray() => [(int)MathF.Round(X), (int)MathF.Round(Y), (int)MathF.Round(Width), (int)MathF.Round(Height)];
}
