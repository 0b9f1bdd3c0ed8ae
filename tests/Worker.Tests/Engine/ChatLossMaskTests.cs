using System.Text.Json.Nodes;
using TuningService.Domain.Datasets;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// A chat example is its rendered conversation tokenized once: the ids equal tokenizing the rendered text, and the
/// trained tokens are exactly those whose characters meet an assistant turn (content and end-of-turn token).
/// </summary>
[Collection(EngineTestCollection.Name)]
public sealed class ChatLossMaskTests
{
    private static readonly List<ChatMessage> HelloWorld =
        [new("user", "hello"), new("assistant", "world"), new("user", "hello world"), new("assistant", "hello")];

    [Fact]
    public void MistralTemplate_OnSentencePiece_TrainsTheAssistantTurnsAndTheirEos_FromOneTokenization()
    {
        using var dir = new TempDirectory("chat-mask-");
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        ChatTemplateFixtureTests.Checkpoint(dir.Path, ChatTemplateFixtureTests.Template("mistral-v0.3"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var template = ChatTemplate.Of(tokenizer);

        var rendered = template.Render(HelloWorld, addGenerationPrompt: false);
        Assert.Equal("<s>[INST] hello[/INST] world</s>[INST] hello world[/INST] hello</s>", rendered);
        var encoded = ExampleEncoder.Encode(template.RenderExample(HelloWorld), tokenizer, 256);

        Assert.Equal(tokenizer.Encode(rendered), encoded.InputIds);                 // one tokenization, BOS from the template only
        Assert.Equal(1, encoded.InputIds.Count(id => id == tokenizer.BosId));
        Assert.Equal([20, 2, 15, 2], Labelled(encoded));                            // ▁world </s> ▁hello </s>
        AssertLabelsAreTheTokensOf(tokenizer, rendered, encoded, "world</s>", "hello</s>");
    }

    [Fact]
    public void ChatMlFallback_OnSentencePiece_TrainsTheTurnAsTheRenderedTextTokenizes_WithoutAPhantomSpace()
    {
        using var dir = new TempDirectory("chat-mask-");
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var template = ChatTemplate.Of(tokenizer);
        Assert.StartsWith("ChatML (the checkpoint has none", template.Description);

        List<ChatMessage> messages = [new("user", "hello"), new("assistant", "hello world")];
        var rendered = template.Render(messages, addGenerationPrompt: false);
        Assert.Equal("<s><|im_start|>user\nhello</s>\n<|im_start|>assistant\nhello world</s>\n", rendered);
        var encoded = ExampleEncoder.Encode(template.RenderExample(messages), tokenizer, 256);

        Assert.Equal(tokenizer.Encode(rendered), encoded.InputIds);
        // "hello" after "\n" is `hello` (14) in the rendered text; tokenized as its own segment it was `▁hello` (15).
        Assert.Equal([14, 20, 2], Labelled(encoded));
        AssertLabelsAreTheTokensOf(tokenizer, rendered, encoded, "hello world</s>");
    }

    [Fact]
    public void QwenTemplate_OnByteLevelBpe_TrainsWeightedAssistantTurnsWithImEnd_AndSkipsWeightZero()
    {
        using var dir = new TempDirectory("chat-mask-");
        Gpt2HuggingFaceFiles.Write(dir.Path, "unused_marker");
        File.Delete(Path.Combine(dir.Path, "special_tokens_map.json"));
        var qwen = ChatTemplateFixtureTests.Template("qwen2.5");
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), new JsonObject
        {
            ["chat_template"] = qwen["chat_template"]!.GetValue<string>(), ["eos_token"] = "<|im_end|>", ["add_bos_token"] = false,
            ["added_tokens_decoder"] = new JsonObject
            {
                ["50256"] = new JsonObject { ["content"] = "<|endoftext|>" },
                ["50257"] = new JsonObject { ["content"] = "<|im_start|>" },
                ["50258"] = new JsonObject { ["content"] = "<|im_end|>" },
            },
        }.ToJsonString());
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var template = ChatTemplate.Of(tokenizer);

        var messages = ChatTemplateFixtureTests.Messages("system-multi-turn");
        messages[2] = messages[2] with { Weight = 0 };                             // "Paris." is context, not trained
        var rendered = template.Render(messages, addGenerationPrompt: false);
        var encoded = ExampleEncoder.Encode(template.RenderExample(messages), tokenizer, 512);

        Assert.Equal(tokenizer.Encode(rendered), encoded.InputIds);
        Assert.Equal([.. tokenizer.Encode(" Rome, of course. "), 50258], Labelled(encoded));
        AssertLabelsAreTheTokensOf(tokenizer, rendered, encoded, " Rome, of course. <|im_end|>");
    }

    [Fact]
    public void PreferencePair_WithChatPrompt_RendersEachResponseAsTheAssistantTurn()
    {
        using var dir = new TempDirectory("chat-mask-");
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        ChatTemplateFixtureTests.Checkpoint(dir.Path, ChatTemplateFixtureTests.Template("mistral-v0.3"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var template = ChatTemplate.Of(tokenizer);
        var pair = new TuningService.Worker.Engine.Rlhf.PreferencePair("", "world", "hello") { PromptMessages = [new("user", "hello")] };

        var encoded = Assert.Single(TuningService.Worker.Engine.Rlhf.PreferenceEncoder.EncodePairs([pair], tokenizer, 64, template: template).Kept);

        var prompt = template.RenderPrompt([new("user", "hello")]);
        Assert.Equal(tokenizer.Encode(prompt), encoded.Chosen[..encoded.PromptLength]);
        Assert.Equal(tokenizer.Encode("<s>[INST] hello[/INST] world</s>"), encoded.Chosen);
        Assert.Equal([15, 2], encoded.Rejected[encoded.PromptLength..]);                   // ▁hello </s>
    }

    private static int[] Labelled(EncodedExample encoded) => encoded.InputIds.Where((_, i) => encoded.Labelled[i]).ToArray();

    /// <summary>Labels are exactly the tokens of <paramref name="rendered"/> whose characters meet one of the given turns.</summary>
    private static void AssertLabelsAreTheTokensOf(TextTokenizer tokenizer, string rendered, EncodedExample encoded, params string[] turns)
    {
        var spans = new List<(int Start, int End)>();
        int from = 0;
        foreach (var turn in turns)
        {
            int at = rendered.IndexOf(turn, from, StringComparison.Ordinal);
            spans.Add((at, at + turn.Length));
            from = at + turn.Length;
        }
        var offsets = tokenizer.EncodeWithOffsets(rendered).Offsets;
        Assert.Equal(offsets.Select(o => spans.Any(s => o.End > o.Start ? o.Start < s.End && o.End > s.Start : o.Start >= s.Start && o.Start < s.End)), encoded.Labelled);
    }
}
