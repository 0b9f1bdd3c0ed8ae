namespace TuningService.Worker.Engine.Data;

/// <summary>What a segment of an example is: literal text, or the model's end-of-sequence token.</summary>
public enum SegmentKind
{
    Text,
    EndOfSequence,
}

/// <summary>A piece of an example; <see cref="Trainable"/> pieces carry labels (the loss is computed on them).</summary>
public sealed record ExampleSegment(string Text, bool Trainable, SegmentKind Kind = SegmentKind.Text)
{
    public static ExampleSegment Prompt(string text) => new(text, false);
    public static ExampleSegment Completion(string text) => new(text, true);
    public static ExampleSegment Eos(bool trainable) => new("", trainable, SegmentKind.EndOfSequence);
}

/// <summary>
/// One training example as an ordered list of segments, tokenized as one text (the segments only say which characters
/// are trained). Labels come from this structure, never from comparing token ids (an EOS used as padding must not hide
/// the real, labelled EOS). <see cref="AddBos"/>: the encoder puts the model's BOS first (false for chat-template text,
/// which renders its own special tokens).
/// </summary>
public sealed record TrainingExample(IReadOnlyList<ExampleSegment> Segments, bool AddBos = true)
{
    /// <summary>prompt_completion: loss on the completion and the EOS that ends it.</summary>
    public static TrainingExample FromPromptCompletion(string prompt, string completion)
        => new([ExampleSegment.Prompt(prompt), ExampleSegment.Completion(completion), ExampleSegment.Eos(true)]);

    /// <summary>text: every token is trained, including the closing EOS.</summary>
    public static TrainingExample FromText(string text)
        => new([ExampleSegment.Completion(text), ExampleSegment.Eos(true)]);

    /// <summary>The same example with every segment trainable (train_on_inputs).</summary>
    public TrainingExample TrainEverything() => this with { Segments = Segments.Select(s => s with { Trainable = true }).ToList() };
}
