using System.Buffers;
using System.Text;
using FluentValidation;

namespace TuningService.Api.Validation;

public static class TextRules
{
    /// <summary>
    /// Text PostgreSQL can store and a reader can see: no control characters (<c>\u0000</c> included), no unpaired
    /// surrogates, no leading or trailing whitespace only.
    /// </summary>
    public static IRuleBuilderOptions<T, string?> CleanText<T>(this IRuleBuilder<T, string?> rule, int maxLength) => rule
        .NotEmpty().WithMessage("{PropertyName} is required.")
        .Must(v => v is null || v.Trim().Length > 0).WithMessage("{PropertyName} must not be blank.")
        .MaximumLength(maxLength).WithMessage("{PropertyName} must be at most {MaxLength} characters.")
        .Must(v => v is null || IsStorable(v)).WithMessage("{PropertyName} must not contain control characters or invalid Unicode.");

    public static bool IsStorable(string value)
    {
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != OperationStatus.Done || Rune.IsControl(rune)) return false;
            rest = rest[used..];
        }
        return true;
    }
}
