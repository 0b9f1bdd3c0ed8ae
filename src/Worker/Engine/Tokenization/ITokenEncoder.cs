namespace TuningService.Worker.Engine.Tokenization;

/// <summary>
/// The text ↔ ids step of a tokenizer. An encoder handles the special tokens written inside the text itself and adds
/// no BOS/EOS of its own (the <see cref="TextTokenizer"/> user decides those).
/// </summary>
public interface ITokenEncoder
{
    /// <summary>Ids of <paramref name="text"/> with, per token, the span [Start, End) of the characters it stands for.</summary>
    EncodedText Encode(string text);

    string Decode(IEnumerable<int> ids);
}
