using System.Security.Cryptography;

namespace TuningService.Domain;

/// <summary>OpenAI-style opaque ids: a readable prefix and 24 random base62 characters.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix) => prefix + RandomToken(24);

    public static string RandomToken(int length)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return new string(chars);
    }

    public static long ToUnixSeconds(this DateTimeOffset time) => time.ToUnixTimeSeconds();
}
