using System.Globalization;
using System.Text.Json;
using ImageFeatures;

// ResNet-18 from ML.NET's DnnImageFeaturizer package, compiled by Compress (fp32 and int8), against ONNX Runtime on
// the original model: feature agreement on 16 synthetic images, size, and latency (batch 1, one thread).
//   dotnet run -c Release --project samples/ImageFeatures             a table
//   dotnet run -c Release --project samples/ImageFeatures -- --json   one JSON object per row (stable keys)

bool json = args.Contains("--json");
string[] unknown = args.Where(a => a != "--json").ToArray();
if (unknown.Length > 0)
{
    Console.Error.WriteLine($"Unknown argument(s): {string.Join(" ", unknown)}. Usage: ImageFeatures [--json]");
    return 2;
}

string baseDir = AppContext.BaseDirectory;
float[] images = Images.ReadNpy(Path.Combine(baseDir, "images", "eval_x.npy"), out int count);
// The package's build props copy its models next to the executable; ONNX Runtime runs the original from there.
using var ort = new OrtBaseline(Path.Combine(baseDir, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));

// ONNX Runtime's fp32 features of the original model: the reference every row is compared with.
var reference = new float[count][];
for (int i = 0; i < count; i++)
{
    ort.Run(Image(i));
    reference[i] = ort.Features.ToArray();
}

var rows = new List<Row>();
foreach (var variant in Variant.All)
{
    var model = variant.Create();
    using var ortInt8 = variant.HasQdqExport ? new OrtBaseline(Path.Combine(baseDir, "compressed", variant.ClassName + ".onnx")) : null;
    var features = new float[Features.Length];

    double cosineSum = 0, cosineMin = double.MaxValue, ortInt8CosineSum = 0;
    int agreeing = 0;
    for (int i = 0; i < count; i++)
    {
        model.Run(Image(i), features);
        double cosine = Features.Cosine(features, reference[i]);
        cosineSum += cosine;
        cosineMin = Math.Min(cosineMin, cosine);
        if (Features.ArgMax(features) == Features.ArgMax(reference[i])) agreeing++;
        if (ortInt8 is not null)
        {
            ortInt8.Run(Image(i));
            ortInt8CosineSum += Features.Cosine(ortInt8.Features, reference[i]);
        }
    }

    // Allocation per Run, measured on this thread after warm-up: the least of three batches, so a one-off allocation by
    // the runtime itself is not charged to every Run, while anything Run allocates shows in every batch.
    const int allocationRuns = 20;
    long allocated = long.MaxValue;
    for (int batch = 0; batch < 3 && allocated > 0; batch++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < allocationRuns; i++) model.Run(Image(i % count), features);
        allocated = Math.Min(allocated, (GC.GetAllocatedBytesForCurrentThread() - before) / allocationRuns);
    }

    int next = 0, nextOrt = 0, nextOrtInt8 = 0;
    var contenders = new List<Action>
    {
        () => { model.Run(Image(next), features); next = next + 1 == count ? 0 : next + 1; },
        () => { ort.Run(Image(nextOrt)); nextOrt = nextOrt + 1 == count ? 0 : nextOrt + 1; },
    };
    if (ortInt8 is not null)
        contenders.Add(() => { ortInt8.Run(Image(nextOrtInt8)); nextOrtInt8 = nextOrtInt8 + 1 == count ? 0 : nextOrtInt8 + 1; });
    // Thread CPU time must see all of ONNX Runtime's work: with one intra-op thread it computes on the caller's thread.
    if (ThreadClock.IsCpuTime && LatencyTimer.CallerThreadShare(contenders[1], 4) < 0.8)
        Console.Error.WriteLine("Warning: ONNX Runtime used CPU time outside the calling thread; its thread-CPU latency is understated.");
    // A ResNet-18 call takes tens of milliseconds: each round is one call, after a longer warm-up (tiered JIT).
    double[] medians = LatencyTimer.MedianMicroseconds(contenders, rounds: 31, roundMs: 1, warmupMs: 3000);

    var row = new Row(Variant.Model, variant.Name, Math.Round(cosineSum / count, 6), variant.WeightsBytes,
        Math.Round(medians[0], 1), Math.Round(medians[1], 1), allocated,
        ortInt8 is null ? null : Math.Round(medians[2], 1), Math.Round(100.0 * agreeing / count, 2),
        Math.Round(variant.Sparsity, 4), variant.Macs, Math.Round(cosineMin, 6),
        ortInt8 is null ? null : Math.Round(ortInt8CosineSum / count, 6), ThreadClock.IsCpuTime ? "thread_cpu" : "wall");
    rows.Add(row);
    if (json) Console.WriteLine(JsonSerializer.Serialize(row, RowJson.Default.Row));
}

if (!json)
{
    Console.WriteLine($"{"model",-10}{"variant",-9}{"cosine",10}{"min",10}{"agree %",9}{"weights B",14}{"latency µs",12}{"ORT fp32 µs",13}{"ratio",7}{"ORT int8 µs",13}{"ORT int8 cos",14}{"alloc B/run",13}{"MACs",15}");
    foreach (var r in rows)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Model,-10}{r.Variant,-9}{r.Cosine,10:0.000000}{r.CosineMin,10:0.000000}{r.Agreement,9:0.0}{r.WeightsBytes,14:N0}{r.LatencyUs,12:0}{r.OrtFp32LatencyUs,13:0}{r.LatencyUs / r.OrtFp32LatencyUs,7:0.00}{(r.OrtInt8LatencyUs is double q ? q.ToString("0", CultureInfo.InvariantCulture) : "—"),13}{(r.OrtInt8Cosine is double c ? c.ToString("0.000000", CultureInfo.InvariantCulture) : "—"),14}{r.AllocBytesPerRun,13}{r.Macs,15:N0}"));
    Console.WriteLine($"{count} synthetic images (preprocessed as ML.NET's ResNetPreprocess.onnx does); cosine = mean cosine similarity of the");
    Console.WriteLine("512 features to ONNX Runtime fp32's on the original model (min = the least); agree = same largest feature channel;");
    Console.WriteLine($"latency = median per batch-1 call, side by side in this process, 1 thread, {(ThreadClock.IsCpuTime ? "thread CPU time" : "wall time")};");
    Console.WriteLine("ratio = latency / ORT fp32; agree and cosine of ORT int8 are against ORT fp32 too;");
    Console.WriteLine("ORT int8 = ONNX Runtime on the build's QDQ export; MACs = multiply-accumulates per image.");
}
return 0;

ReadOnlySpan<float> Image(int i) => images.AsSpan(i * Images.Length, Images.Length);
