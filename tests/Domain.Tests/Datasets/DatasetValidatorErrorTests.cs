using System.Text;
using TuningService.Domain.Datasets;
using static TuningService.Domain.Tests.Datasets.DatasetText;

namespace TuningService.Domain.Tests.Datasets;

public sealed class DatasetValidatorErrorTests
{
    private static string Valid(int count = 12) => Lines(count, PromptCompletion);

    [Fact]
    public async Task Validate_RejectsLine_WhenNotUtf8()
    {
        var bytes = Encoding.UTF8.GetBytes(Valid()).Concat(new byte[] { (byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}', (byte)'\n' }).ToArray();
        var error = SingleError(await Validate(bytes));
        Assert.Equal((DatasetCodes.InvalidUtf8, 13L), (error.Code, error.Line!.Value));
    }

    [Theory]
    [InlineData("{\"prompt\": \"x\", ")]
    [InlineData("{\"prompt\":\"a\",\"completion\":\"b\"} {}")]
    public async Task Validate_RejectsLine_WhenLineIsNotJson(string line)
    {
        var error = SingleError(await Validate(Valid() + line + "\n"));
        Assert.Equal((DatasetCodes.InvalidJson, 13L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task Validate_RejectsLine_WhenNotAnObject()
    {
        var error = SingleError(await Validate("[1, 2]\n" + Valid()));
        Assert.Equal((DatasetCodes.NotAnObject, 1L), (error.Code, error.Line!.Value));
    }

    [Theory]
    [InlineData("{\"completion\": \"x\"}", "prompt")]
    [InlineData("{\"foo\": 1}", null)]
    [InlineData("{\"prompt\": \"x\", \"chosen\": \"a\"}", "rejected")]
    [InlineData("{\"input\": {\"messages\": [{\"role\":\"user\",\"content\":\"hi\"}]}, \"preferred_output\": [{\"role\":\"assistant\",\"content\":\"a\"}]}", "non_preferred_output")]
    public async Task Validate_RejectsLine_WhenFieldIsMissing(string line, string? field)
    {
        var error = SingleError(await Validate(line + "\n" + Valid()));
        Assert.Equal((DatasetCodes.MissingField, field), (error.Code, error.Field));
    }

    [Theory]
    [InlineData("{\"prompt\": 1, \"completion\": \"x\"}", "prompt")]
    [InlineData("{\"messages\": {\"role\": \"user\"}}", "messages")]
    [InlineData("{\"messages\": [{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\",\"weight\":2}]}", "messages[1].weight")]
    public async Task Validate_RejectsField_WhenItHasTheWrongType(string line, string field)
    {
        var error = SingleError(await Validate(line + "\n" + Valid()));
        Assert.Equal((DatasetCodes.WrongType, field), (error.Code, error.Field));
    }

    [Fact]
    public async Task Validate_RejectsMessage_WhenRoleIsUnknown()
    {
        var bad = Json(new { messages = new object[] { new { role = "user", content = "q" }, new { role = "bot", content = "a" } } });
        var error = SingleError(await Validate(Lines(12, Chat) + bad + "\n"));
        Assert.Equal((DatasetCodes.UnrecognizedRole, "messages[1].role", 13L), (error.Code, error.Field, error.Line!.Value));
    }

    [Theory]
    [InlineData("{\"prompt\": \"q\", \"completion\": \"   \"}", "completion")]
    [InlineData("{\"messages\": []}", "messages")]
    public async Task Validate_RejectsField_WhenContentIsEmpty(string line, string field)
    {
        var error = SingleError(await Validate(Valid() + line));
        Assert.Equal((DatasetCodes.EmptyContent, field), (error.Code, error.Field));
    }

    [Fact]
    public async Task Validate_RejectsConversation_WhenChatFileLineHasNoAssistant()
    {
        var error = SingleError(await Validate(Lines(12, Chat) + PromptOnlyChat(0) + "\n"));
        Assert.Equal((DatasetCodes.NoAssistantMessage, 13L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task Validate_RejectsConversation_WhenOnlySystemTurn()
    {
        var line = Json(new { messages = new object[] { new { role = "system", content = "Be nice." } } });
        Assert.Equal(DatasetCodes.NoAssistantMessage, SingleError(await Validate(line + "\n" + Lines(12, Chat))).Code);
    }

    [Fact]
    public async Task Validate_RejectsConversation_WhenPromptOnlyFileLineEndsWithAssistant()
    {
        var error = SingleError(await Validate(Lines(12, PromptOnlyChat) + Chat(0) + "\n"));
        Assert.Equal((DatasetCodes.LastMessageNotUser, 13L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task Validate_RejectsFile_WhenFormatsAreMixed()
    {
        var report = await Validate(Valid() + Json(new { text = "plain text" }) + "\n");
        var error = SingleError(report);
        Assert.Equal((DatasetCodes.MixedFormats, 13L), (error.Code, error.Line!.Value));
        Assert.Equal(DatasetFormat.PromptCompletion, report.Format);
    }

    [Fact]
    public async Task Validate_RejectsFile_WhenTooFewExamples()
    {
        var error = SingleError(await Validate(Valid(9)));
        Assert.Equal((DatasetCodes.TooFewExamples, (long?)null), (error.Code, error.Line));
        Assert.True((await Validate(Valid(3), new DatasetLimits { MinExamples = 3 })).IsValid);
    }

    [Fact]
    public async Task Validate_RejectsFile_WhenTooManyExamples()
    {
        var error = SingleError(await Validate(Valid(15), new DatasetLimits { MaxExamples = 12 }));
        Assert.Equal((DatasetCodes.TooManyExamples, 13L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task Validate_RejectsLine_WhenLongerThanTheLimit_WithoutBufferingIt()
    {
        var longLine = Json(new { prompt = new string('x', 5000), completion = "y" });
        var report = await Validate(Valid(6) + longLine + "\n" + Valid(6), new DatasetLimits { MaxLineBytes = 1024 });
        var error = SingleError(report);
        Assert.Equal((DatasetCodes.LineTooLong, 7L), (error.Code, error.Line!.Value));
        Assert.Equal(12, report.Examples);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n\r\n")]
    public async Task Validate_RejectsFile_WhenEmpty(string content)
    {
        var error = SingleError(await Validate(content));
        Assert.Equal(DatasetCodes.EmptyFile, error.Code);
    }

    [Fact]
    public async Task Validate_ListsFirstErrorsOnly_ButCountsThemAll()
    {
        var report = await Validate(Lines(50, _ => "nope"), new DatasetLimits { MaxReportedErrors = 5 });
        Assert.Equal(5, report.Errors.Count);
        Assert.Equal(50, report.ErrorCount);
        Assert.Equal([1L, 2, 3, 4, 5], report.Errors.Select(e => e.Line!.Value));
    }
}
