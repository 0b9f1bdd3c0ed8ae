using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Datasets;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>
/// A job's training and validation files, read by the Domain's <see cref="DatasetReader"/> (the parser and format
/// rules that validated the upload) straight from their chunks in Postgres. Every failure becomes a job error with a
/// code the user can act on.
/// </summary>
public sealed class TrainingFiles(IDbContextFactory<TuningDbContext> dbFactory)
{
    public List<DatasetExample> ReadExamples(string projectId, string fileId, string param)
    {
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        using var db = dbFactory.CreateDbContext();
        try
        {
            return DatasetReader.ReadStoredAsync(db, projectId, fileId).GetAwaiter().GetResult()
                ?? throw JobFailures.Fail(code, $"File {fileId} no longer exists or was not processed successfully. Upload it again and create a new job.", param);
        }
        catch (InvalidDatasetException e)
        {
            throw JobFailures.Fail(code, $"{fileId} line {e.Issue.Line}: {e.Issue.Message} ({e.Issue.Code}).", param, e);
        }
    }
}
