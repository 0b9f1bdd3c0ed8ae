using TuningService.Domain.Files;
using TuningService.Domain.Projects;
using TuningService.Testing;

namespace TuningService.Domain.Tests.Datasets;

public sealed class FileContentStreamTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task Read_ReturnsChunksConcatenatedInIndexOrder()
    {
        var id = Ids.New("file-");
        var content = Enumerable.Range(0, 2500).Select(i => (byte)(i % 251)).ToArray();
        await using (var db = database.CreateDbContext())
        {
            db.Files.Add(new DatasetFile { Id = id, ProjectId = Project.DefaultProjectId, Filename = "a.jsonl", Purpose = "fine-tune", Status = DatasetFileStatus.Processed, Bytes = content.Length, ChunkCount = 3 });
            await db.SaveChangesAsync();
            // inserted out of order on purpose
            db.FileChunks.Add(new FileChunk { FileId = id, Index = 2, Data = content[2000..] });
            db.FileChunks.Add(new FileChunk { FileId = id, Index = 0, Data = content[..1000] });
            db.FileChunks.Add(new FileChunk { FileId = id, Index = 1, Data = content[1000..2000] });
            await db.SaveChangesAsync();
        }

        await using var read = database.CreateDbContext();
        await using var stream = (await FileContentStream.OpenAsync(read, Project.DefaultProjectId, id))!;
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy, bufferSize: 333);
        Assert.Equal(content, copy.ToArray());
        Assert.Equal(content.Length, stream.Length);
        Assert.Null(await FileContentStream.OpenAsync(read, "proj_other", id));
    }
}
