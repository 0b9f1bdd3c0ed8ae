using System.Text;
using TuningService.Domain.Datasets;
using static TuningService.Domain.Tests.Datasets.DatasetText;

namespace TuningService.Domain.Tests.Datasets;

public sealed class DatasetFormatDetectionTests
{
    public static TheoryData<string, string> Formats => new()
    {
        { DatasetFormat.Text, Json(new { text = "Once upon a time." }) },
        { DatasetFormat.PromptCompletion, PromptCompletion(1) },
        { DatasetFormat.Chat, Chat(1) },
        { DatasetFormat.Preference, Json(new { prompt = "Say hi", chosen = "Hello!", rejected = "What?" }) },
        { DatasetFormat.Preference, Json(new
            {
                input = new { messages = new[] { new { role = "user", content = "Say hi" } } },
                preferred_output = new[] { new { role = "assistant", content = "Hello!" } },
                non_preferred_output = new[] { new { role = "assistant", content = "What?" } },
            }) },
        { DatasetFormat.PromptOnly, Json(new { prompt = "Tell me a story." }) },
        { DatasetFormat.PromptOnly, PromptOnlyChat(1) },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Validate_DetectsFormat_AndCountsExamples(string format, string line)
    {
        var report = await Validate(Lines(23, _ => line));
        Assert.True(report.IsValid, string.Join("; ", report.Errors));
        Assert.Equal((format, 23L), (report.Format, report.Examples));
    }

    [Fact]
    public async Task Validate_TreatsChatFile_AsPromptOnly_WhenEveryConversationEndsWithUser()
    {
        var line = Json(new
        {
            messages = new object[]
            {
                new { role = "user", content = "2+2?" }, new { role = "assistant", content = "4" }, new { role = "user", content = "3+3?" },
            },
        });
        var report = await Validate(Lines(12, _ => line));
        Assert.Equal(DatasetFormat.PromptOnly, report.Format);
    }

    [Fact]
    public async Task Validate_AcceptsChatLine_EndingWithUser_OnceFileIsChat()
    {
        var trailingUser = Json(new
        {
            messages = new object[] { new { role = "user", content = "q" }, new { role = "assistant", content = "a" }, new { role = "user", content = "thanks" } },
        });
        var report = await Validate(Lines(11, Chat) + trailingUser + "\n");
        Assert.True(report.IsValid);
        Assert.Equal((DatasetFormat.Chat, 12L), (report.Format, report.Examples));
    }

    [Fact]
    public async Task Validate_IgnoresBomCrlfAndBlankLines()
    {
        var content = "\uFEFF" + Lines(12, PromptCompletion).Replace("\n", "\r\n") + "\r\n\r\n";
        var report = await Validate(Encoding.UTF8.GetBytes(content));
        Assert.True(report.IsValid, string.Join("; ", report.Errors));
        Assert.Equal(12, report.Examples);
        Assert.Equal(Encoding.UTF8.GetByteCount(content), report.Bytes);
    }

    [Fact]
    public async Task Validate_AcceptsLastLine_WithoutNewline()
    {
        var report = await Validate(Lines(12, PromptCompletion).TrimEnd('\n'));
        Assert.Equal(12, report.Examples);
    }

    [Fact]
    public async Task Validate_GivesSameReport_WhateverTheReadSize()
    {
        var bytes = Encoding.UTF8.GetBytes(Lines(40, Chat) + "oops\n");
        var whole = await Validate(bytes);
        var validator = new DatasetValidator();
        foreach (var b in bytes) validator.Write([b]);
        var byteByByte = validator.Complete();
        Assert.Equal((whole.Examples, whole.ErrorCount, whole.Errors[0]), (byteByByte.Examples, byteByByte.ErrorCount, byteByByte.Errors[0]));
    }
}
