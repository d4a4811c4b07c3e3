namespace SyntheticImages;

/// <summary>
/// Seeded synthetic photographs: planar RGB, 0–255, with the statistics that matter to a CNN's activations — a smooth
/// two-colour gradient background, a low-frequency texture, a few soft-edged shapes (discs, rectangles, ellipses) in
/// their own colours, and pixel noise. Deterministic: the same seed gives the same image on every machine
/// (<see cref="Random"/> with a seed uses a fixed algorithm).
/// </summary>
public static class ImageGenerator
{
    public const int Channels = 3;
    public const int Height = 224;
    public const int Width = 224;
    public const int Length = Channels * Height * Width;

    /// <summary>Writes image <paramref name="index"/> of the set <paramref name="seed"/> into <paramref name="rgb"/> ([3, 224, 224], RGB, 0–255).</summary>
    public static void Generate(int seed, int index, Span<float> rgb)
    {
        if (rgb.Length != Length) throw new ArgumentException($"Expected {Length} floats, got {rgb.Length}.", nameof(rgb));
        var random = new Random(unchecked(seed * 7919 + index * 104729 + 17));
        int plane = Height * Width;

        // Background: a linear gradient between two colours along a random direction.
        Span<float> from = stackalloc float[3], to = stackalloc float[3];
        for (int c = 0; c < 3; c++) { from[c] = Uniform(random, 20, 235); to[c] = Uniform(random, 20, 235); }
        double angle = Uniform(random, 0, 2 * Math.PI);
        float dx = (float)Math.Cos(angle), dy = (float)Math.Sin(angle);
        // Texture: two low-frequency sinusoids per image (wood grain, clouds) of small amplitude.
        float f1 = Uniform(random, 0.01f, 0.06f), f2 = Uniform(random, 0.01f, 0.06f), p1 = Uniform(random, 0, 6.3f), p2 = Uniform(random, 0, 6.3f);
        float amplitude = Uniform(random, 4, 20);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                float t = 0.5f + ((x - Width / 2f) * dx + (y - Height / 2f) * dy) / (Width * 1.42f);
                float texture = amplitude * (MathF.Sin(f1 * x + p1) * MathF.Cos(f2 * y + p2));
                for (int c = 0; c < 3; c++) rgb[c * plane + y * Width + x] = from[c] + (to[c] - from[c]) * t + texture;
            }
        }

        // Shapes: 2–6 discs, rectangles or ellipses with a soft (anti-aliased, 2-pixel) edge and a slight shading.
        int shapes = random.Next(2, 7);
        Span<float> colour = stackalloc float[3];
        for (int s = 0; s < shapes; s++)
        {
            int kind = random.Next(3);
            float cx = Uniform(random, 0, Width), cy = Uniform(random, 0, Height);
            float rx = Uniform(random, 12, 70), ry = kind == 0 ? rx : Uniform(random, 12, 70);
            for (int c = 0; c < 3; c++) colour[c] = Uniform(random, 0, 255);
            float shade = Uniform(random, -0.4f, 0.4f);
            int y0 = Math.Max(0, (int)(cy - ry - 2)), y1 = Math.Min(Height - 1, (int)(cy + ry + 2));
            int x0 = Math.Max(0, (int)(cx - rx - 2)), x1 = Math.Min(Width - 1, (int)(cx + rx + 2));
            for (int y = y0; y <= y1; y++)
            {
                for (int x = x0; x <= x1; x++)
                {
                    float u = (x - cx) / rx, v = (y - cy) / ry;
                    // Signed distance to the edge in pixels (approximate for ellipses), negative inside.
                    float distance = kind == 1
                        ? Math.Max(Math.Abs(x - cx) - rx, Math.Abs(y - cy) - ry)
                        : (MathF.Sqrt(u * u + v * v) - 1) * Math.Min(rx, ry);
                    float coverage = Math.Clamp(0.5f - distance / 2, 0, 1);
                    if (coverage == 0) continue;
                    float light = 1 + shade * v;
                    for (int c = 0; c < 3; c++)
                    {
                        ref float p = ref rgb[c * plane + y * Width + x];
                        p += coverage * (colour[c] * light - p);
                    }
                }
            }
        }

        // Sensor noise (Gaussian, σ 2–10), then the 8-bit range.
        float sigma = Uniform(random, 2, 10);
        for (int i = 0; i < Length; i++) rgb[i] = Math.Clamp(rgb[i] + sigma * Gaussian(random), 0, 255);
    }

    static float Uniform(Random random, double low, double high) => (float)(low + (high - low) * random.NextDouble());

    static float Gaussian(Random random)
    {
        // Box–Muller.
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
