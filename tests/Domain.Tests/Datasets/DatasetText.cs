using System.Text;
using System.Text.Json;
using TuningService.Domain.Datasets;

namespace TuningService.Domain.Tests.Datasets;

/// <summary>Builds small JSONL datasets for the tests.</summary>
internal static class DatasetText
{
    public static string Lines(int count, Func<int, string> line) =>
        string.Concat(Enumerable.Range(0, count).Select(i => line(i) + "\n"));

    public static string Json(object value) => JsonSerializer.Serialize(value);

    public static string PromptCompletion(int i) => Json(new { prompt = $"Question {i}?", completion = $" Answer number {i}." });

    public static string Chat(int i) => Json(new
    {
        messages = new object[]
        {
            new { role = "system", content = "You are helpful." },
            new { role = "user", content = $"Hello {i}" },
            new { role = "assistant", content = $"Hi there {i}!" },
        },
    });

    public static string PromptOnlyChat(int i) => Json(new { messages = new object[] { new { role = "user", content = $"Write about {i}." } } });

    public static Task<DatasetReport> Validate(string content, DatasetLimits? limits = null) =>
        Validate(Encoding.UTF8.GetBytes(content), limits);

    public static Task<DatasetReport> Validate(byte[] content, DatasetLimits? limits = null) =>
        DatasetValidator.ValidateAsync(new MemoryStream(content), limits);

    public static DatasetIssue SingleError(DatasetReport report)
    {
        Assert.False(report.IsValid);
        return Assert.Single(report.Errors);
    }
}
