using System.Text.Json.Nodes;
using TuningService.Domain.Datasets;
using TuningService.Worker.Engine.Chat;
using TuningService.Worker.Engine.Data;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// Real checkpoints' chat templates (Fixtures/chat-templates/templates.json, with where each came from) rendered by the
/// service agree character for character with Hugging Face's @huggingface/jinja under Node (expected.json, made by
/// make-fixtures.mjs), refusals included (Mistral's role alternation, Gemma's system role).
/// </summary>
public sealed class ChatTemplateFixtureTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "chat-templates");
    private static readonly JsonArray Templates = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "templates.json")))!.AsArray();
    private static readonly JsonObject Expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")))!.AsObject();

    public static TheoryData<string> TemplateNames() => new(Templates.Select(t => t!["name"]!.GetValue<string>()));

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void CheckpointTemplate_RendersEveryConversation_AsHuggingFaceJinjaDoes(string name)
    {
        using var dir = new TempDirectory("chat-template-");
        var template = Checkpoint(dir.Path, Templates.Single(t => t!["name"]!.GetValue<string>() == name)!.AsObject());
        var cases = Expected["cases"]!.AsArray().Select(c => c!.AsObject()).Where(c => c["template"]!.GetValue<string>() == name).ToList();
        Assert.Equal(10, cases.Count);
        foreach (var c in cases)
        {
            var messages = Messages(c["conversation"]!.GetValue<string>());
            bool addGenerationPrompt = c["add_generation_prompt"]!.GetValue<bool>();
            var what = $"{name}, {c["conversation"]}, add_generation_prompt={addGenerationPrompt}";
            if (c["error"] is JsonNode error)
                Assert.Equal((what, error.GetValue<string>()), (what, Assert.Throws<ChatTemplateException>(() => template.Render(messages, addGenerationPrompt)).Message));
            else
                Assert.Equal((what, c["expected"]!.GetValue<string>()), (what, template.Render(messages, addGenerationPrompt)));
        }
    }

    [Fact]
    public void GenerationPrompt_IsTheConversationFollowedByTheAssistantHeader()
    {
        using var dir = new TempDirectory("chat-template-");
        var template = Checkpoint(dir.Path, Templates.Single(t => t!["name"]!.GetValue<string>() == "llama-3.1")!.AsObject());
        var messages = Messages("system-prompt");
        var prompt = template.RenderPrompt(messages);
        Assert.Equal(template.Render(messages, false) + "<|start_header_id|>assistant<|end_header_id|>\n\n", prompt);
        Assert.Equal("the checkpoint's own (tokenizer_config.json)", template.Description);
    }

    [Fact]
    public void TemplateSources_ChatTemplateJinjaFirst_ThenTheDefaultOfANamedList()
    {
        using var dir = new TempDirectory("chat-template-");
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), new JsonObject
        {
            ["eos_token"] = "</s>",
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools" },
                new JsonObject { ["name"] = "default", ["template"] = "{{ messages[0].content }}{{ eos_token }}" }),
        }.ToJsonString());
        Assert.Equal("hi</s>", ChatTemplate.FromDirectory(dir.Path, [])!.Render([new("user", "hi")], false));

        File.WriteAllText(Path.Combine(dir.Path, "chat_template.jinja"), "[{{ messages | length }}]");
        var fromFile = ChatTemplate.FromDirectory(dir.Path, [])!;
        Assert.Equal("[1]", fromFile.Render([new("user", "hi")], false));
        Assert.Equal("the checkpoint's own (chat_template.jinja)", fromFile.Description);
    }

    [Theory]
    [InlineData("llama-3.1", "<|eot_id|>")]
    [InlineData("gemma-2", "<end_of_turn>")]
    [InlineData("phi-3", "<|end|>")]
    [InlineData("mistral-v0.3", "</s>")]
    [InlineData("qwen3", "<|im_end|>")]
    public void EndOfTurn_IsTheSpecialTokenThatClosesAnAssistantTurn(string name, string expected)
    {
        using var dir = new TempDirectory("chat-template-");
        Checkpoint(dir.Path, Template(name));
        Assert.Equal(expected, ChatTemplate.FromDirectory(dir.Path, ["<|eot_id|>", "<|start_header_id|>", "<end_of_turn>", "<start_of_turn>", "<|end|>", "<|user|>", "<|assistant|>", "<|im_start|>", "<|im_end|>"])!.EndOfTurn);
    }

    [Fact]
    public void StrftimeNow_GivesTodaysDateWithEnglishMonthNames_AsLlama32TemplatesAskForIt()
    {
        using var dir = new TempDirectory("chat-template-");
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"),
            new JsonObject { ["chat_template"] = "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B') }}", ["eos_token"] = "</s>" }.ToJsonString());
        var before = DateTime.Now;
        var rendered = ChatTemplate.FromDirectory(dir.Path, [])!.Render([new("user", "hi")], false);
        var after = DateTime.Now;
        string Expected(DateTime d) => d.ToString("dd MMM yyyy|MMMM", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(rendered, new[] { Expected(before), Expected(after) });
    }

    /// <summary>A checkpoint folder holding only tokenizer_config.json with the template and its special tokens.</summary>
    internal static ChatTemplate Checkpoint(string dir, JsonObject template)
    {
        var config = new JsonObject { ["chat_template"] = template["chat_template"]!.GetValue<string>(), ["eos_token"] = template["eos_token"]!.GetValue<string>() };
        if (template["bos_token"] is JsonNode bos) config["bos_token"] = bos.GetValue<string>();
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        return ChatTemplate.FromDirectory(dir, [])!;
    }

    internal static JsonObject Template(string name) => Templates.Single(t => t!["name"]!.GetValue<string>() == name)!.AsObject();

    internal static List<ChatMessage> Messages(string conversation)
        => Expected["conversations"]![conversation]!.AsArray()
            .Select(m => new ChatMessage(m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>())).ToList();
}
