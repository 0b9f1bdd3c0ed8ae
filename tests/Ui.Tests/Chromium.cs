using PuppeteerSharp;
using Xunit.Abstractions;

namespace TuningService.Ui.Tests;

/// <summary>
/// Headless Chromium from the system (Debian's <c>chromium</c> package, or <c>CHROMIUM_PATH</c>); never downloaded.
/// Tests skip, saying why, only when no Chromium is installed.
/// </summary>
public static class Chromium
{
    public static string? ExecutablePath =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public static void SkipWhenMissing() =>
        Skip.If(ExecutablePath is null, "No Chromium installed: the dashboard's browser tests need /usr/bin/chromium (apt-get install chromium; ./test.sh installs it as root) or CHROMIUM_PATH.");

    public static async Task<IBrowser> LaunchAsync()
    {
        var profile = Directory.CreateTempSubdirectory("tuning-ui-chromium-").FullName;
        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            UserDataDir = profile,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>Writes a PNG (the full page unless told) under the test output's TestResults/screenshots and prints its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name, ITestOutputHelper output, bool fullPage = true)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        await page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = fullPage });
        output.WriteLine($"screenshot: {path}");
        Console.WriteLine($"screenshot: {path}");
        return path;
    }
}
