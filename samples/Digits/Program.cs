using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Digits;

// Compress's main sample: every compiled variant of the digits models, judged on the same 500 test digits
// and timed side by side with ONNX Runtime on the original model (batch 1, one thread).
//   dotnet run -c Release --project samples/Digits             a table
//   dotnet run -c Release --project samples/Digits -- --json   one JSON object per row (stable keys)

bool json = args.Contains("--json");
string[] unknown = args.Where(a => a != "--json").ToArray();
if (unknown.Length > 0)
{
    Console.Error.WriteLine($"Unknown argument(s): {string.Join(" ", unknown)}. Usage: Digits [--json]");
    return 2;
}

string baseDir = AppContext.BaseDirectory;
float[] images = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(baseDir, "data", "digits_test_x.f32"))).ToArray();
byte[] labels = File.ReadAllBytes(Path.Combine(baseDir, "data", "digits_test_y.u8"));
int count = labels.Length;

var rows = new List<Row>();
var fp32Predictions = new Dictionary<string, int[]>();
foreach (var variant in Variant.All)
{
    var model = variant.Create();
    using var ort = new OrtBaseline(Path.Combine(baseDir, "models", variant.OnnxFile));
    using var ortInt8 = variant.HasQdqExport ? new OrtBaseline(Path.Combine(baseDir, "compressed", variant.ClassName + ".onnx")) : null;
    var logits = new float[10];

    int correct = 0;
    var predictions = new int[count];
    for (int i = 0; i < count; i++)
    {
        model.Run(images.AsSpan(i * 64, 64), logits);
        predictions[i] = ArgMax(logits);
        if (predictions[i] == labels[i]) correct++;
    }
    // Top-1 agreement with the model's fp32 variant (the first row of each model).
    if (variant.Name == "fp32") fp32Predictions[variant.Model] = predictions;
    int[] reference = fp32Predictions[variant.Model];
    int agreeing = predictions.Where((p, i) => p == reference[i]).Count();

    // Allocation per Run, measured on this thread after warm-up: the least of three batches, so a one-off allocation by
    // the runtime itself (tiered JIT bookkeeping lands on this thread now and then) is not charged to every Run, while
    // anything Run allocates shows in every batch.
    model.Run(images.AsSpan(0, 64), logits);
    const int allocationRuns = 1000;
    long allocated = long.MaxValue;
    for (int batch = 0; batch < 3 && allocated > 0; batch++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < allocationRuns; i++) model.Run(images.AsSpan((i % count) * 64, 64), logits);
        allocated = Math.Min(allocated, (GC.GetAllocatedBytesForCurrentThread() - before) / allocationRuns);
    }

    int next = 0, nextOrt = 0, nextOrtInt8 = 0;
    var contenders = new List<Action>
    {
        () => { model.Run(images.AsSpan(next * 64, 64), logits); next = next + 1 == count ? 0 : next + 1; },
        () => { ort.Run(images.AsSpan(nextOrt * 64, 64)); nextOrt = nextOrt + 1 == count ? 0 : nextOrt + 1; },
    };
    if (ortInt8 is not null)
        contenders.Add(() => { ortInt8.Run(images.AsSpan(nextOrtInt8 * 64, 64)); nextOrtInt8 = nextOrtInt8 + 1 == count ? 0 : nextOrtInt8 + 1; });
    double[] medians = LatencyTimer.MedianMicroseconds(contenders);

    var row = new Row(variant.Model, variant.Name, Math.Round(100.0 * correct / count, 2), variant.WeightsBytes,
        Math.Round(medians[0], 3), Math.Round(medians[1], 3), allocated,
        ortInt8 is null ? null : Math.Round(medians[2], 3), Math.Round(100.0 * agreeing / count, 2),
        Math.Round(variant.Sparsity, 4), variant.Macs);
    rows.Add(row);
    if (json) Console.WriteLine(JsonSerializer.Serialize(row, RowJson.Default.Row));
}

if (!json)
{
    Console.WriteLine($"{"model",-14}{"variant",-14}{"accuracy %",11}{"agree %",9}{"weights B",12}{"latency µs",12}{"ORT fp32 µs",13}{"ratio",7}{"ORT int8 µs",13}{"alloc B/run",13}{"sparsity",10}{"MACs",10}");
    foreach (var r in rows)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Model,-14}{r.Variant,-14}{r.Accuracy,11:0.0}{r.Agreement,9:0.0}{r.WeightsBytes,12:N0}{r.LatencyUs,12:0.00}{r.OrtFp32LatencyUs,13:0.00}{r.LatencyUs / r.OrtFp32LatencyUs,7:0.00}{(r.OrtInt8LatencyUs is double q ? q.ToString("0.00", CultureInfo.InvariantCulture) : "—"),13}{r.AllocBytesPerRun,13}{r.Sparsity,10:0.00}{r.Macs,10:N0}"));
    Console.WriteLine($"{count} test digits; latency = median per batch-1 call, side by side in this process; ratio = latency / ORT fp32;");
    Console.WriteLine("agree = top-1 agreement with the model's fp32 variant; ORT int8 = ONNX Runtime on the build's QDQ export;");
    Console.WriteLine("sparsity = fraction of zero weights; MACs = multiply-accumulates per sample counting non-zero weights only.");
}
return 0;

static int ArgMax(ReadOnlySpan<float> v)
{
    int best = 0;
    for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
    return best;
}
