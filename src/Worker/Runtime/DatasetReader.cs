using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>Reads a stored training or validation file line by line, straight from its chunks in Postgres.</summary>
public sealed class DatasetReader(IDbContextFactory<TuningDbContext> dbFactory)
{
    /// <summary>
    /// The file's typed examples, parsed by the Domain's dataset parser — the very code that validated the upload —
    /// streamed from its chunks. Fails with a code the user can act on.
    /// </summary>
    public List<DatasetExample> ReadExamples(string projectId, string fileId, string param)
    {
        using var db = dbFactory.CreateDbContext();
        var (file, code) = Find(db, projectId, fileId, param);
        using var content = FileContentStream.OpenAsync(db, projectId, fileId).GetAwaiter().GetResult()
            ?? throw JobFailures.Fail(code, $"File {fileId} no longer exists. Upload it again and create a new job.", param);
        var examples = new List<DatasetExample>(file.Examples);
        try
        {
            var reader = Domain.Datasets.DatasetReader.ReadAsync(content, file.Format).GetAsyncEnumerator();
            while (reader.MoveNextAsync().AsTask().GetAwaiter().GetResult()) examples.Add(reader.Current);
        }
        catch (InvalidDatasetException e)
        {
            throw JobFailures.Fail(code, $"{fileId} line {e.Issue.Line}: {e.Issue.Message} ({e.Issue.Code}).", param, e);
        }
        return examples;
    }

    private static (DatasetFile File, string Code) Find(TuningDbContext db, string projectId, string fileId, string param)
    {
        var file = db.Files.AsNoTracking().SingleOrDefault(f => f.Id == fileId && f.ProjectId == projectId);
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        if (file is null || file.Status != "processed")
            throw JobFailures.Fail(code, $"File {fileId} no longer exists or was not processed successfully. Upload it again and create a new job.", param);
        return (file, code);
    }
}
