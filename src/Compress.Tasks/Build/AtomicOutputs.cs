namespace Compress.Tasks.Build;

/// <summary>
/// Writes a set of output files all-or-nothing: each is first written beside its target under a temporary name,
/// and only when every one is complete are they moved into place. On failure the temporaries are deleted and the
/// previous outputs (if any) are left untouched, so a failed build never leaves half-written files.
/// </summary>
public sealed class AtomicOutputs : IDisposable
{
    readonly List<(string Temp, string Final)> _pending = [];
    bool _committed;

    public void WriteAllBytes(string path, byte[] bytes) => Stage(path, temp => File.WriteAllBytes(temp, bytes));

    public void WriteAllText(string path, string text) => Stage(path, temp => File.WriteAllText(temp, text, new System.Text.UTF8Encoding(false)));

    /// <summary>Lets <paramref name="write"/> produce the file at the temporary path it is given.</summary>
    public void Stage(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        _pending.Add((temp, full));
        write(temp);
    }

    public void Commit()
    {
        foreach (var (temp, final) in _pending) File.Move(temp, final, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        foreach (var (temp, _) in _pending)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
