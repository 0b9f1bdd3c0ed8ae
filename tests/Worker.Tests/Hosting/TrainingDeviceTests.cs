using TorchSharp;
using TuningService.Worker.Hosting;

namespace TuningService.Worker.Tests.Hosting;

/// <summary>Worker:Device picks the device a worker trains on; a GPU the machine lacks is refused when the worker starts.</summary>
public sealed class TrainingDeviceTests
{
    [Theory]
    [InlineData("auto", true)]
    [InlineData("cpu", true)]
    [InlineData("cuda", true)]
    [InlineData("cuda:1", true)]
    [InlineData("gpu", false)]
    [InlineData("cuda:", false)]
    [InlineData("CPU", false)]
    [InlineData("", false)]
    public void Setting_IsAutoCpuCudaOrCudaN(string setting, bool valid) => Assert.Equal(valid, TrainingDevice.IsValidSetting(setting));

    [Fact]
    public void Cpu_AndAuto_ResolveToTheCpu_AndAGpuThisMachineLacks_IsRefusedNamingTheSetting()
    {
        Assert.Equal(DeviceType.CPU, TrainingDevice.Resolve("cpu").type);
        var auto = TrainingDevice.Resolve("auto");
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, auto.type);
        var beyond = $"cuda:{(torch.cuda.is_available() ? torch.cuda.device_count() : 1)}";
        Assert.Contains("Worker:Device", Assert.Throws<InvalidOperationException>(() => TrainingDevice.Resolve(beyond)).Message);
        Assert.False(TrainingDevice.IsAvailable(beyond));
        Assert.True(TrainingDevice.IsAvailable("cpu"));
    }
}
