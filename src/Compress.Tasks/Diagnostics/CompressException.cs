namespace Compress.Tasks.Diagnostics;

/// <summary>
/// A user-facing failure with a <c>CMP0xx</c> code (see <see cref="ErrorCodes"/>). The MSBuild task turns it into
/// an error on the offending <c>CompressModel</c> item; <see cref="File"/> overrides that item's file when the
/// problem lies in another file (a data file, external tensor data).
/// </summary>
public sealed class CompressException(string code, string message, string? file = null, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;

    public string? File { get; } = file;

    public override string ToString() => $"{Code}: {Message}";
}
