using Compress.Tasks.Calibration;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Calibration.CalibrationTestFiles;

namespace Compress.Tasks.Tests.Calibration;

public class CalibrationDataTests
{
    static PlanTensor Input(string name, params long[] shape) =>
        new(name, name, shape, (int)shape.Aggregate(1L, (a, d) => a * d));

    static readonly PlanTensor[] OneInput = [Input("x", 1, 2, 3)];
    static readonly PlanTensor[] TwoInputs = [Input("a", 1, 3), Input("b:0", 1, 2)];

    static float[] Seq(int n, float start = 0) => Enumerable.Range(0, n).Select(i => start + i).ToArray();

    static List<float[][]> ReadAll(CalibrationData data) =>
        data.Samples().Select(s => s.Select(a => a.ToArray()).ToArray()).ToList();

    [Fact]
    public void Npy_file_for_a_single_input_streams_its_rows()
    {
        using var t = TestFiles.TempFolder();
        string path = WriteNpy(t.File("calib.npy"), Seq(24), [4, 2, 3]);
        using var data = CalibrationData.Open(path, OneInput);
        Assert.Equal(4, data.Count);
        Assert.Equal(new[] { path }, data.Files);
        var samples = ReadAll(data);
        Assert.Equal(4, samples.Count);
        Assert.Equal(Seq(6, 18), samples[3][0]);
        var buffers = data.CreateBuffers();
        data.Read(1, buffers);
        Assert.Equal(Seq(6, 6), buffers[0]);
    }

    [Fact]
    public void Reading_a_sample_allocates_nothing()
    {
        var data = CalibrationData.Open(CalibrationNpy, [Input("input", 1, 64)]);
        using (data)
        {
            var buffers = data.CreateBuffers();
            data.Read(0, buffers);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int s = 0; s < data.Count; s++) data.Read(s, buffers);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(256, data.Count);
        }
    }

    [Fact]
    public void Single_file_formats_pb_and_f32_read_the_same_rows()
    {
        using var t = TestFiles.TempFolder();
        var values = Seq(12, 0.5f);
        using var npy = CalibrationData.Open(WriteNpy(t.File("x.npy"), values, [2, 6]), OneInput);
        using var pbRaw = CalibrationData.Open(WritePb(t.File("raw.pb"), values, [2, 1, 2, 3]), OneInput);
        using var pbFloats = CalibrationData.Open(WritePb(t.File("floats.pb"), values, [2, 6], raw: false), OneInput);
        File.WriteAllBytes(t.File("x.f32"), values.SelectMany(BitConverter.GetBytes).ToArray());
        using var f32 = CalibrationData.Open(t.File("x.f32"), OneInput);
        var expected = ReadAll(npy);
        foreach (var d in new[] { pbRaw, pbFloats, f32 })
        {
            Assert.Equal(2, d.Count);
            var got = ReadAll(d);
            for (int s = 0; s < 2; s++) Assert.Equal(expected[s][0], got[s][0]);
        }
    }

    [Fact]
    public void Folder_of_npy_files_named_after_the_inputs()
    {
        using var t = TestFiles.TempFolder();
        WriteNpy(t.File("a.npy"), Seq(15), [5, 3]);
        WriteNpy(t.File("b_0.npy"), Seq(10, 100), [5, 2]); // "b:0" with ':' written as '_'
        File.WriteAllText(t.File("notes.txt"), "ignored");
        using var data = CalibrationData.Open(t.Path, TwoInputs);
        Assert.Equal(5, data.Count);
        Assert.Equal(new[] { t.File("a.npy"), t.File("b_0.npy") }, data.Files);
        var s4 = ReadAll(data)[4];
        Assert.Equal(Seq(3, 12), s4[0]);
        Assert.Equal(Seq(2, 108), s4[1]);
    }

    [Fact]
    public void Folder_of_pb_files_by_position_or_by_tensor_name()
    {
        using var t = TestFiles.TempFolder();
        WritePb(t.File("input_0.pb"), Seq(9), [3, 1, 3]);
        WritePb(t.File("second.pb"), Seq(6, 50), [3, 2], name: "b:0");
        using var data = CalibrationData.Open(t.Path, TwoInputs);
        Assert.Equal(new[] { t.File("input_0.pb"), t.File("second.pb") }, data.Files);
        var s2 = ReadAll(data)[2];
        Assert.Equal(Seq(3, 6), s2[0]);
        Assert.Equal(Seq(2, 54), s2[1]);
    }

    [Fact]
    public void Sample_model_data_loads()
    {
        using var data = CalibrationData.Open(CalibrationNpy, Lower("digits_cnn").Plan);
        Assert.Equal(256, data.Count);
        Assert.All(ReadAll(data).Take(8), s => Assert.Contains(s[0], v => v != 0));
    }

    // ─────────────── bad data: CMP008 naming the file, with expected and actual ───────────────

    static CompressException Bad(Action open)
    {
        var e = Assert.Throws<CompressException>(open);
        Assert.Equal(ErrorCodes.BadData, e.Code);
        return e;
    }

    [Fact]
    public void Wrong_shape_is_reported_with_expected_and_actual()
    {
        using var t = TestFiles.TempFolder();
        string path = WriteNpy(t.File("calib.npy"), Seq(20), [4, 5]);
        var e = Bad(() => CalibrationData.Open(path, OneInput).Dispose());
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        Assert.Contains("(4, 5)", e.Message);
        Assert.Contains("5 values per sample", e.Message);
        Assert.Contains("expects 6", e.Message);

        string pb = WritePb(t.File("calib.pb"), Seq(20), [4, 5]);
        Assert.Equal(pb, Bad(() => CalibrationData.Open(pb, OneInput).Dispose()).File);
    }

    [Theory]
    [InlineData("<f8")]
    [InlineData("<i4")]
    [InlineData(">f4")]
    public void Wrong_npy_dtype_is_reported(string descr)
    {
        using var t = TestFiles.TempFolder();
        string path = WriteNpy(t.File("calib.npy"), Seq(12), [2, 6], descr);
        var e = Bad(() => CalibrationData.Open(path, OneInput).Dispose());
        Assert.Equal(path, e.File);
        Assert.Contains(descr, e.Message);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void Wrong_pb_data_type_is_reported()
    {
        using var t = TestFiles.TempFolder();
        string path = WritePb(t.File("input_0.pb"), Seq(12), [2, 6], type: TensorProto.Types.DataType.Double);
        var e = Bad(() => CalibrationData.Open(path, OneInput).Dispose());
        Assert.Equal(path, e.File);
        Assert.Contains("DOUBLE", e.Message);
        Assert.Contains("FLOAT", e.Message);
    }

    [Fact]
    public void NaN_is_reported_with_file_sample_and_element()
    {
        using var t = TestFiles.TempFolder();
        var values = Seq(18);
        values[6 + 4] = float.NaN;
        string path = WriteNpy(t.File("calib.npy"), values, [3, 6]);
        using var data = CalibrationData.Open(path, OneInput);
        var buffers = data.CreateBuffers();
        data.Read(0, buffers);
        var e = Bad(() => data.Read(1, buffers));
        Assert.Equal(path, e.File);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("element 4 of sample 1", e.Message);
    }

    [Fact]
    public void Missing_folder_entry_names_the_expected_files_and_what_is_there()
    {
        using var t = TestFiles.TempFolder();
        WriteNpy(t.File("a.npy"), Seq(15), [5, 3]);
        WriteNpy(t.File("c.npy"), Seq(10), [5, 2]);
        var e = Bad(() => CalibrationData.Open(t.Path, TwoInputs).Dispose());
        Assert.Contains("'b:0'", e.Message);
        Assert.Contains("'b_0.npy'", e.Message);
        Assert.Contains("'input_1.pb'", e.Message);
        Assert.Contains("'c.npy'", e.Message);
        Assert.Contains(t.Path, e.File);
    }

    [Fact]
    public void Inputs_with_different_sample_counts_are_reported()
    {
        using var t = TestFiles.TempFolder();
        WriteNpy(t.File("a.npy"), Seq(15), [5, 3]);
        WriteNpy(t.File("b_0.npy"), Seq(8), [4, 2]);
        var e = Bad(() => CalibrationData.Open(t.Path, TwoInputs).Dispose());
        Assert.Contains("'a.npy' (a) 5", e.Message);
        Assert.Contains("'b_0.npy' (b:0) 4", e.Message);
        Assert.Equal(t.File("b_0.npy"), e.File);
    }

    [Fact]
    public void Two_files_for_one_input_are_ambiguous()
    {
        using var t = TestFiles.TempFolder();
        WriteNpy(t.File("x.npy"), Seq(12), [2, 6]);
        WritePb(t.File("input_0.pb"), Seq(12), [2, 6]);
        Assert.Contains("several files", Bad(() => CalibrationData.Open(t.Path, OneInput).Dispose()).Message);
    }

    [Fact]
    public void One_file_for_a_multi_input_model_or_a_missing_path_is_reported()
    {
        using var t = TestFiles.TempFolder();
        string path = WriteNpy(t.File("calib.npy"), Seq(15), [5, 3]);
        var e = Bad(() => CalibrationData.Open(path, TwoInputs).Dispose());
        Assert.Contains("2 inputs", e.Message);
        Assert.Contains("'a.npy' or 'input_0.pb'", e.Message);
        Assert.Equal(t.File("nothing.npy"), Bad(() => CalibrationData.Open(t.File("nothing.npy"), OneInput).Dispose()).File);
    }

    [Fact]
    public void Truncated_or_unreadable_files_are_reported()
    {
        using var t = TestFiles.TempFolder();
        string path = WriteNpy(t.File("calib.npy"), Seq(12), [2, 6]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        Assert.Contains("truncated", Bad(() => CalibrationData.Open(path, OneInput).Dispose()).Message);
        File.WriteAllText(t.File("junk.npy"), "not numpy");
        Assert.Contains("magic", Bad(() => CalibrationData.Open(t.File("junk.npy"), OneInput).Dispose()).Message);
        File.WriteAllBytes(t.File("junk.pb"), [0xFF, 0xFF, 0xFF]);
        Assert.Equal(t.File("junk.pb"), Bad(() => CalibrationData.Open(t.File("junk.pb"), OneInput).Dispose()).File);
        WriteNpy(t.File("empty.npy"), [], [0, 6]);
        Assert.Contains("no samples", Bad(() => CalibrationData.Open(t.File("empty.npy"), OneInput).Dispose()).Message);
    }
}
