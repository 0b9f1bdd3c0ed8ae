using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Worker.Runtime;

/// <summary>
/// The job's spec as the API stored it (every field resolved), read with the Domain's own serializer and records,
/// so the API and the worker agree on every name and default.
/// </summary>
public static class JobSpecs
{
    /// <summary>The job's whole resolved spec.</summary>
    public static JobSpec Of(TrainingJob job)
    {
        try
        {
            return JobSpecSerializer.Deserialize(job.Spec);
        }
        catch (JsonException e)
        {
            throw JobFailures.Fail(JobFailures.InvalidHyperparameters, $"The job's stored spec cannot be read: {e.Message}", "method", e);
        }
    }

    /// <summary>The hyperparameters of the job's method; a spec without them, or of another method, is an error, never defaults.</summary>
    public static T HyperparametersOf<T>(TrainingJob job) where T : Domain.Jobs.Specs.TrainingHyperparameters
    {
        var spec = Of(job);
        return (spec.Method?.Selected ?? spec.Hyperparameters) as T
            ?? throw JobFailures.Fail(JobFailures.InvalidHyperparameters,
                $"The job's stored spec has no {job.MethodType} hyperparameters; create the job again.", $"method.{job.MethodType}.hyperparameters");
    }
}
