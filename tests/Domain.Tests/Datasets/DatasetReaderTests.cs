using System.Text;
using TuningService.Domain.Datasets;
using static TuningService.Domain.Tests.Datasets.DatasetText;

namespace TuningService.Domain.Tests.Datasets;

public sealed class DatasetReaderTests
{
    private static async Task<List<DatasetExample>> Read(string content, string? format = null)
    {
        var examples = new List<DatasetExample>();
        await foreach (var example in DatasetReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(content)), format)) examples.Add(example);
        return examples;
    }

    [Fact]
    public async Task Read_StreamsTypedExamples_InFileOrder()
    {
        var examples = await Read("\uFEFF" + Lines(3, PromptCompletion).Replace("\n", "\r\n"));
        Assert.Equal([new PromptCompletionExample("Question 0?", " Answer number 0."), new PromptCompletionExample("Question 1?", " Answer number 1."),
            new PromptCompletionExample("Question 2?", " Answer number 2.")], examples);
    }

    [Fact]
    public async Task Read_NormalisesOpenAiPreference_ToPromptMessagesAndContents()
    {
        var line = Json(new
        {
            input = new { messages = new[] { new { role = "user", content = "Say hi" } } },
            preferred_output = new[] { new { role = "assistant", content = "Hello!" } },
            non_preferred_output = new[] { new { role = "assistant", content = "What?" } },
        });
        var example = Assert.IsType<PreferenceExample>(Assert.Single(await Read(line)));
        Assert.Null(example.Prompt);
        Assert.Equal([new ChatMessage("user", "Say hi")], example.PromptMessages!);
        Assert.Equal(("Hello!", "What?"), (example.Chosen, example.Rejected));
    }

    [Fact]
    public async Task Read_ReturnsPromptOnlyExamples_ForMessagesEndingWithUser()
    {
        var example = Assert.IsType<PromptOnlyExample>(Assert.Single(await Read(PromptOnlyChat(4), DatasetFormat.PromptOnly)));
        Assert.Equal("Write about 4.", example.Messages![0].Content);
    }

    [Fact]
    public async Task Read_KeepsChatWeights()
    {
        var line = Json(new { messages = new object[] { new { role = "user", content = "q" }, new { role = "assistant", content = "a", weight = 0 } } });
        var chat = Assert.IsType<ChatExample>(Assert.Single(await Read(line, DatasetFormat.Chat)));
        Assert.Equal(0, chat.Messages[1].Weight);
    }

    [Fact]
    public async Task Read_Throws_OnAnInvalidLine()
    {
        var error = await Assert.ThrowsAsync<InvalidDatasetException>(() => Read(PromptCompletion(0) + "\n{bad\n"));
        Assert.Equal((DatasetCodes.InvalidJson, 2L), (error.Issue.Code, error.Issue.Line!.Value));
    }

    [Fact]
    public async Task Read_RejectsAConversationWithoutAssistant_InAStoredChatFile_LikeTheValidator()
    {
        var content = Lines(12, Chat) + PromptOnlyChat(0) + "\n";
        var error = await Assert.ThrowsAsync<InvalidDatasetException>(() => Read(content, DatasetFormat.Chat));
        Assert.Equal((DatasetCodes.NoAssistantMessage, 13L, "messages"), (error.Issue.Code, error.Issue.Line!.Value, error.Issue.Field));
        Assert.Equal(error.Issue.Code, SingleError(await Validate(content)).Code);
    }

    [Fact]
    public async Task Read_RejectsAConversationEndingWithAssistant_InAStoredPromptOnlyFile()
    {
        var error = await Assert.ThrowsAsync<InvalidDatasetException>(() => Read(PromptOnlyChat(0) + "\n" + Chat(1) + "\n", DatasetFormat.PromptOnly));
        Assert.Equal((DatasetCodes.LastMessageNotUser, 2L), (error.Issue.Code, error.Issue.Line!.Value));
    }

    [Theory]
    [InlineData(DatasetFormat.Text, 1L)]   // the stored format decides from line 1
    [InlineData(null, 2L)]                 // the first line decides
    public async Task Read_RejectsALineOfAnotherFormat_AsMixedFormats(string? format, long line)
    {
        var content = Json(new { text = "plain" }) + "\n" + PromptCompletion(1) + "\n";
        if (format is not null) content = PromptCompletion(0) + "\n";
        var error = await Assert.ThrowsAsync<InvalidDatasetException>(() => Read(content, format));
        Assert.Equal((DatasetCodes.MixedFormats, line), (error.Issue.Code, error.Issue.Line!.Value));
    }

    [Fact]
    public async Task Read_SkipsTheLinesTheValidatorCallsBlank()
    {
        var content = PromptCompletion(0) + "\n \t\r\r\n\n" + PromptCompletion(1) + "\n";
        Assert.Equal(2, (await Read(content)).Count);
        Assert.Equal(2, (await Validate(content, new DatasetLimits { MinExamples = 1 })).Examples);
    }
}
