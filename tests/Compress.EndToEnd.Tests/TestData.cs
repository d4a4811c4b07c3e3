using System.Runtime.InteropServices;

namespace Compress.EndToEnd.Tests;

/// <summary>The digits test set (copied next to the test assembly from samples/Digits/data).</summary>
public static class TestData
{
    static readonly Lazy<float[]> s_images = new(() => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "digits_test_x.f32"))).ToArray());
    static readonly Lazy<byte[]> s_labels = new(() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "digits_test_y.u8")));

    public static float[] Images => s_images.Value;

    public static byte[] Labels => s_labels.Value;

    public static int Count => Labels.Length;

    public static ReadOnlySpan<float> Image(int i) => Images.AsSpan(i * 64, 64);

    public static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name + ".onnx");

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
