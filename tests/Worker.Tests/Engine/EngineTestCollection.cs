namespace TuningService.Worker.Tests.Engine;

/// <summary>Engine tests share torch's global generator and thread pool, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineTestCollection : ICollectionFixture<SingleTorchThread>
{
    public const string Name = "Engine (torch global state)";
}

/// <summary>
/// Tiny models spend their time in op overhead, and OpenMP threads spinning on a busy 2-core machine make that
/// several times worse (measured 0.09 s vs 0.7 s per step), so engine tests run torch on one thread.
/// </summary>
public sealed class SingleTorchThread
{
    public SingleTorchThread() => TorchSharp.torch.set_num_threads(1);
}
