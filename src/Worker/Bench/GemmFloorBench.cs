using System.Diagnostics;
using static TorchSharp.torch;

namespace TuningService.Worker.Bench;

/// <summary>
/// <c>bench --gemm-floor</c>: only the matrix products a GPT-2 training step of the given shape must do (each linear
/// layer's forward, input-gradient and weight-gradient GEMM, and the same three for the tied head over every position),
/// into preallocated outputs: the time no implementation of that step can beat on this BLAS, to set beside
/// <c>bench</c> and <c>bench --plain</c>. Attention, norms, GELU, the loss and the optimizer are left out.
/// </summary>
internal static class GemmFloorBench
{
    public static Dictionary<string, object> Run(int layers, int dim, int vocab, int seq, int batch, int repeats = 5)
    {
        manual_seed(1);
        long rows = (long)batch * seq;
        var shapes = new List<(long In, long Out)> { (dim, vocab) };                      // the head: (N, C) · (V, C)ᵀ
        for (int l = 0; l < layers; l++) shapes.AddRange([(dim, 3 * dim), (dim, dim), (dim, 4 * dim), (4 * dim, dim)]);
        var gemms = shapes.Select(s => (Weight: randn(s.Out, s.In), Grad: zeros(s.Out, s.In), Input: randn(rows, s.In), Output: empty(rows, s.Out), InputGrad: empty(rows, s.In))).ToList();
        void Step()
        {
            foreach (var g in gemms)
            {
                g.Output.addmm_(g.Input, g.Weight.t(), beta: 0);    // forward
                g.InputGrad.addmm_(g.Output, g.Weight, beta: 0);    // input gradient (the output stands in for its gradient)
                g.Grad.addmm_(g.Output.t(), g.Input);               // weight gradient, accumulated
            }
        }
        Step();
        var wall = new List<double>();
        var cpu = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            Step();
            wall.Add(clock.Elapsed.TotalSeconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
        }
        double flops = shapes.Sum(s => 3 * 2.0 * rows * s.In * s.Out), medianWall = wall.Order().ElementAt(repeats / 2);
        foreach (var g in gemms) { g.Weight.Dispose(); g.Grad.Dispose(); g.Input.Dispose(); g.Output.Dispose(); g.InputGrad.Dispose(); }
        return new Dictionary<string, object>
        {
            ["baseline"] = "gemm_floor", ["gflop_per_step"] = Math.Round(flops / 1e9, 1), ["median_step_s"] = Math.Round(medianWall, 4),
            ["median_step_cpu_s"] = Math.Round(cpu.Order().ElementAt(repeats / 2), 4), ["gflop_per_s"] = Math.Round(flops / 1e9 / medianWall, 1),
            ["tokens_per_s"] = Math.Round(rows / medianWall, 1),
        };
    }
}
