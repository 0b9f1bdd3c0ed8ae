using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>A tokenizer.json decoder step: rewrites the list of token strings (the Rust library's decode_chain).</summary>
internal interface ITokenDecoder
{
    List<string> Decode(List<string> tokens);
}

/// <summary>Reads the "decoder" of a tokenizer.json.</summary>
internal static class Decoders
{
    public static ITokenDecoder? Read(JsonNode? node)
    {
        if (node is not JsonObject o) return null;
        var type = o["type"]!.GetValue<string>();
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "Metaspace" => new MetaspaceDecoder(o["replacement"]?.GetValue<string>() ?? "▁",
                (o["prepend_scheme"]?.GetValue<string>() ?? (o["add_prefix_space"]?.GetValue<bool>() == false ? "never" : "always")) != "never"),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(o["content"]!.GetValue<string>(), o["start"]?.GetValue<int>() ?? 0, o["stop"]?.GetValue<int>() ?? 0),
            "Replace" => new ReplaceDecoder(Patterns.Read(o["pattern"]!), o["content"]!.GetValue<string>()),
            "WordPiece" => new WordPieceDecoder(o["prefix"]?.GetValue<string>() ?? "##", o["cleanup"]?.GetValue<bool>() ?? true),
            "Sequence" => new SequenceDecoder((o["decoders"] as JsonArray ?? []).Select(d => Read(d)!).ToArray()),
            _ => throw new NotSupportedException($"The tokenizer.json decoder '{type}' is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece, Sequence)."),
        };
    }
}

/// <summary>Byte-level characters back to bytes, all tokens into one UTF-8 string (invalid bytes become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : ITokenDecoder
{
    private static readonly Dictionary<char, byte> ByteOfChar = Enumerable.Range(0, 256)
        .ToDictionary(b => ByteLevelAlphabet.Encode([(byte)b])[0], b => (byte)b);

    public List<string> Decode(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.All(ByteOfChar.ContainsKey)) bytes.AddRange(token.Select(c => ByteOfChar[c]));
            else bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

/// <summary>"▁" back to spaces; on the first token the prepended "▁" goes (every "▁" of it, as the Rust library does).</summary>
internal sealed class MetaspaceDecoder(string replacement, bool prepended) : ITokenDecoder
{
    public List<string> Decode(List<string> tokens)
        => tokens.Select((token, i) => token.Replace(replacement, i == 0 && prepended ? "" : " ")).ToList();
}

/// <summary>Runs of &lt;0xXX&gt; tokens back to the UTF-8 text they spell (U+FFFD per byte when they spell none).</summary>
internal sealed class ByteFallbackDecoder : ITokenDecoder
{
    public List<string> Decode(List<string> tokens)
    {
        var result = new List<string>();
        var pending = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x") && token.EndsWith('>')
                && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
            {
                pending.Add(b);
                continue;
            }
            Flush();
            result.Add(token);
        }
        Flush();
        return result;

        void Flush()
        {
            if (pending.Count == 0) return;
            try
            {
                result.Add(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(pending.ToArray()));
            }
            catch (DecoderFallbackException)
            {
                result.AddRange(Enumerable.Repeat("\uFFFD", pending.Count));
            }
            pending.Clear();
        }
    }
}

internal sealed class FuseDecoder : ITokenDecoder
{
    public List<string> Decode(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character from each token.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : ITokenDecoder
{
    public List<string> Decode(List<string> tokens) => tokens.Select(Strip).ToList();

    private string Strip(string token)
    {
        int from = 0, to = token.Length;
        for (int n = 0; n < start && token.AsSpan(from).StartsWith(content); n++) from += content.Length;
        for (int n = 0; n < stop && to - content.Length >= from && token.AsSpan(from, to - from).EndsWith(content); n++) to -= content.Length;
        return token[from..to];
    }
}

internal sealed class ReplaceDecoder(Regex pattern, string content) : ITokenDecoder
{
    public List<string> Decode(List<string> tokens) => tokens.Select(t => pattern.Replace(t, content)).ToList();
}

/// <summary>"##" continuations glued to the previous token, other tokens after a space; optional English clean-up.</summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : ITokenDecoder
{
    public List<string> Decode(List<string> tokens) => tokens.Select((token, i) =>
    {
        if (i != 0) token = token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
        return cleanup ? Cleanup(token) : token;
    }).ToList();

    private static string Cleanup(string s) => s.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");
}

internal sealed class SequenceDecoder(ITokenDecoder[] steps) : ITokenDecoder
{
    public List<string> Decode(List<string> tokens) => steps.Aggregate(tokens, (current, step) => step.Decode(current));
}
