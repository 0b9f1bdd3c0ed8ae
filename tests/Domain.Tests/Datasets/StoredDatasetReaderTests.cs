using System.Text;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;
using TuningService.Domain.Projects;
using TuningService.Testing;
using static TuningService.Domain.Tests.Datasets.DatasetText;

namespace TuningService.Domain.Tests.Datasets;

public sealed class StoredDatasetReaderTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task ReadStored_ReadsAProcessedFile_AcrossChunks_WithItsStoredFormat()
    {
        var id = await AddFileAsync(Lines(5, PromptOnlyChat), DatasetFormat.PromptOnly, DatasetFileStatus.Processed);
        await using var db = database.CreateDbContext();
        var examples = (await DatasetReader.ReadStoredAsync(db, Project.DefaultProjectId, id))!;
        Assert.Equal(5, examples.Count);
        Assert.Equal("Write about 4.", Assert.IsType<PromptOnlyExample>(examples[4]).Messages![0].Content);
    }

    [Fact]
    public async Task ReadStored_IsNull_ForARejectedFile_OrAnotherProjectsFile()
    {
        var rejected = await AddFileAsync(Lines(5, Chat), DatasetFormat.Chat, DatasetFileStatus.Error);
        var processed = await AddFileAsync(Lines(5, Chat), DatasetFormat.Chat, DatasetFileStatus.Processed);
        await using var db = database.CreateDbContext();
        Assert.Null(await DatasetReader.ReadStoredAsync(db, Project.DefaultProjectId, rejected));
        Assert.Null(await DatasetReader.ReadStoredAsync(db, "proj_other", processed));
        Assert.Null(await DatasetReader.ReadStoredAsync(db, Project.DefaultProjectId, "file-missing"));
    }

    /// <summary>Stores <paramref name="content"/> in chunks of 100 bytes, as an upload would.</summary>
    private async Task<string> AddFileAsync(string content, string format, string status)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var chunks = bytes.Chunk(100).ToList();
        var id = Ids.New("file-");
        await using var db = database.CreateDbContext();
        db.Files.Add(new DatasetFile
        {
            Id = id, ProjectId = Project.DefaultProjectId, Filename = "data.jsonl", Purpose = "fine-tune", Status = status,
            Format = format, Bytes = bytes.Length, ChunkCount = chunks.Count,
        });
        await db.SaveChangesAsync();
        db.FileChunks.AddRange(chunks.Select((data, index) => new FileChunk { FileId = id, Index = index, Data = data }));
        await db.SaveChangesAsync();
        return id;
    }
}
