using System.Text.RegularExpressions;
using TorchSharp;

namespace TuningService.Worker.Hosting;

/// <summary>
/// The device a worker trains on, from <c>Worker:Device</c>: <c>auto</c> (the first GPU when CUDA is available, else
/// the CPU), <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>) or <c>cuda:N</c>. Run one worker per GPU, each naming its own.
/// </summary>
public static partial class TrainingDevice
{
    public const string Auto = "auto";

    /// <summary>Whether the setting is spelled as one of the accepted forms (availability is checked by <see cref="Resolve"/>).</summary>
    public static bool IsValidSetting(string? setting) => setting is not null && Setting().IsMatch(setting);

    /// <summary>Whether the setting is valid and names a device this machine has (checked when the worker starts).</summary>
    public static bool IsAvailable(string? setting)
    {
        if (!IsValidSetting(setting)) return false;
        try
        {
            Resolve(setting!);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The torch device; throws naming Worker:Device when it asks for a GPU this machine does not have.</summary>
    public static torch.Device Resolve(string setting)
    {
        var match = Setting().Match(setting);
        if (!match.Success) throw new InvalidOperationException($"Worker:Device '{setting}' is not auto, cpu, cuda or cuda:N.");
        if (setting == "cpu") return torch.CPU;
        bool cuda = torch.cuda.is_available();
        if (setting == Auto) return cuda ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
        int index = match.Groups["index"].Success ? int.Parse(match.Groups["index"].Value) : 0;
        int count = cuda ? torch.cuda.device_count() : 0;
        if (index >= count)
            throw new InvalidOperationException(count == 0
                ? $"Worker:Device is '{setting}' but CUDA is not available here (a CPU build of TorchSharp, or no driver): use cpu or auto."
                : $"Worker:Device is '{setting}' but this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.");
        return new torch.Device(DeviceType.CUDA, index);
    }

    [GeneratedRegex(@"^(auto|cpu|cuda(:(?<index>\d{1,2}))?)$")]
    private static partial Regex Setting();
}
