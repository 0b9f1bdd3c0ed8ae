using TuningService.Domain.Datasets;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// The Domain parser's examples — the very code that validated the upload — as the engine's segments:
/// prompts are context; completions, texts and weighted assistant turns are trained.
/// </summary>
public static class DomainExamples
{
    /// <summary>Null for formats supervised and instruction training cannot use (preference, prompt_only).</summary>
    public static TrainingExample? ToTraining(DatasetExample example, ChatTemplate template) => example switch
    {
        PromptCompletionExample pc => TrainingExample.FromPromptCompletion(pc.Prompt, pc.Completion),
        TextExample text => TrainingExample.FromText(text.Text),
        ChatExample chat => template.RenderExample(chat.Messages),
        _ => null,
    };

    /// <summary>Every example of a local JSONL file (benchmarks, tools); throws InvalidDatasetException on a bad line.</summary>
    public static List<DatasetExample> ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        var examples = new List<DatasetExample>();
        var reader = DatasetReader.ReadAsync(stream).GetAsyncEnumerator();
        while (reader.MoveNextAsync().AsTask().GetAwaiter().GetResult()) examples.Add(reader.Current);
        return examples;
    }
}
