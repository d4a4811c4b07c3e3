using System.Numerics.Tensors;

namespace Compress.Tasks.Pruning;

/// <summary>
/// The small dense linear algebra the pruning needs, in double precision on row-major n×n arrays: Cholesky
/// factorisation (Golub &amp; Van Loan, "Matrix Computations", §4.2), triangular solves and the inverse of a symmetric
/// positive-definite matrix. Inner loops are dot products and axpys over contiguous rows (<see cref="TensorPrimitives"/>).
/// </summary>
internal static class DenseLinearAlgebra
{
    /// <summary>
    /// Overwrites the lower triangle of <paramref name="a"/> (n×n, symmetric positive definite) with L, A = L·Lᵀ; the
    /// strict upper triangle is zeroed. False when a pivot is not positive (A is not positive definite).
    /// </summary>
    public static bool Cholesky(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = a.AsSpan(j * n, j);
            double d = a[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double ljj = Math.Sqrt(d);
            a[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j] - TensorPrimitives.Dot<double>(a.AsSpan(i * n, j), rowJ);
                a[i * n + j] = s / ljj;
            }
            a.AsSpan(j * n + j + 1, n - j - 1).Clear();
        }
        return true;
    }

    /// <summary>Cholesky with growing diagonal damping until it succeeds; returns the damping added (0 when none was needed).</summary>
    public static double CholeskyDamped(double[] a, int n)
    {
        var copy = (double[])a.Clone();
        if (Cholesky(a, n)) return 0;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += Math.Abs(copy[i * n + i]);
        mean = Math.Max(mean / Math.Max(n, 1), 1e-12);
        for (double extra = mean * 1e-6; ; extra *= 10)
        {
            Array.Copy(copy, a, copy.Length);
            for (int i = 0; i < n; i++) a[i * n + i] += extra;
            if (Cholesky(a, n)) return extra;
            if (extra > mean * 1e6) throw new InvalidOperationException("The matrix is not positive definite even with heavy damping.");
        }
    }

    /// <summary>Solves L·Lᵀ·x = b in place (<paramref name="l"/> from <see cref="Cholesky"/>).</summary>
    public static void CholeskySolve(double[] l, int n, Span<double> b)
    {
        for (int i = 0; i < n; i++)
            b[i] = (b[i] - TensorPrimitives.Dot<double>(l.AsSpan(i * n, i), b[..i])) / l[i * n + i];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
            b[i] = s / l[i * n + i];
        }
    }

    /// <summary>The inverse of a symmetric positive-definite matrix (full, symmetric). <paramref name="a"/> is left unchanged.</summary>
    public static double[] InverseSpd(double[] a, int n)
    {
        var l = (double[])a.Clone();
        CholeskyDamped(l, n);
        return InverseFromCholesky(l, n);
    }

    /// <summary>A⁻¹ = L⁻ᵀ·L⁻¹ from the Cholesky factor L.</summary>
    public static double[] InverseFromCholesky(double[] l, int n)
    {
        // T = (L⁻¹)ᵀ stored row-major: row j of T is column j of L⁻¹, non-zero from j on.
        var t = new double[n * n];
        var x = new double[n];
        for (int j = 0; j < n; j++)
        {
            Array.Clear(x);
            for (int i = j; i < n; i++)
            {
                double s = (i == j ? 1.0 : 0.0) - TensorPrimitives.Dot<double>(l.AsSpan(i * n + j, i - j), x.AsSpan(j, i - j));
                x[i] = s / l[i * n + i];
            }
            x.AsSpan(j).CopyTo(t.AsSpan(j * n + j, n - j));
        }
        // A⁻¹[i, j] = Σ_k L⁻¹[k, i]·L⁻¹[k, j] = Σ_{k ≥ max(i, j)} T[i, k]·T[j, k].
        var inv = new double[n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = i; j < n; j++)
            {
                double s = TensorPrimitives.Dot<double>(t.AsSpan(i * n + j, n - j), t.AsSpan(j * n + j, n - j));
                inv[i * n + j] = s;
                inv[j * n + i] = s;
            }
        });
        return inv;
    }

    /// <summary>
    /// The upper Cholesky factor U of the inverse, A⁻¹ = Uᵀ·U (what SparseGPT and GPTQ sweep: row i of U, scaled by
    /// 1/U[i,i], is the optimal update of the later columns when column i is removed).
    /// </summary>
    public static double[] UpperCholeskyOfInverse(double[] a, int n)
    {
        var inv = InverseSpd(a, n);
        CholeskyDamped(inv, n);
        // inv now holds L2 (lower) with A⁻¹ = L2·L2ᵀ, so U = L2ᵀ.
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) u[i * n + j] = inv[j * n + i];
        return u;
    }

    /// <summary>Solves the symmetric positive-definite system A[S,S]·x = b[S] for the index set <paramref name="s"/>; returns x (one value per index of s).</summary>
    public static double[] SolveSubset(double[] a, int n, int[] s, ReadOnlySpan<double> b)
    {
        int k = s.Length;
        var sub = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            int ri = s[i] * n;
            for (int j = 0; j <= i; j++) sub[i * k + j] = a[ri + s[j]];
        }
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++) sub[i * k + j] = sub[j * k + i];
        CholeskyDamped(sub, k);
        var x = new double[k];
        for (int i = 0; i < k; i++) x[i] = b[s[i]];
        CholeskySolve(sub, k, x);
        return x;
    }
}
