namespace TuningService.Domain;

/// <summary>Settings shared by the Api and the Worker, bound from the <c>Tuning</c> section.</summary>
public sealed class TuningOptions
{
    public const string Section = "Tuning";

    /// <summary>Admin bearer key (also <c>TUNING_API_KEY</c>). Owns the default project and manages projects and keys.</summary>
    public string? AdminApiKey { get; set; }
    /// <summary>Directory for checkpoint and model weights, shared by every worker and the API.</summary>
    public string ArtifactsRoot { get; set; } = "artifacts";
    /// <summary>Directory of Hugging Face checkpoint folders usable as base models.</summary>
    public string ModelsRoot { get; set; } = "models";
}
