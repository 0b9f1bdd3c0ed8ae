using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Files;
using TuningService.Api.Tests.Infrastructure;
using static TuningService.Api.Tests.Files.FileUploads;

namespace TuningService.Api.Tests.Files;

public sealed class OpenAiSdkTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task OpenAiFileClient_UploadsListsRetrievesDownloadsAndDeletes()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(api.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(api.CreateClient()),
        };
        var client = new OpenAIFileClient(new ApiKeyCredential(ApiFactory.AdminKey), options);
        var content = Encoding.UTF8.GetBytes(ValidJsonl(20));

        OpenAIFile uploaded = await client.UploadFileAsync(BinaryData.FromBytes(content), "sdk.jsonl", FileUploadPurpose.FineTune);
        Assert.StartsWith("file-", uploaded.Id);
        Assert.Equal(FilePurpose.FineTune, uploaded.Purpose);
#pragma warning disable CS0618 // Status is obsolete in the SDK but still parsed; it must read "processed".
        Assert.Equal(FileStatus.Processed, uploaded.Status);
#pragma warning restore CS0618
        Assert.Equal(content.Length, uploaded.SizeInBytes);
        Assert.Equal("sdk.jsonl", uploaded.Filename);

        OpenAIFileCollection files = await client.GetFilesAsync(FilePurpose.FineTune);
        Assert.Contains(files, f => f.Id == uploaded.Id);

        OpenAIFile retrieved = await client.GetFileAsync(uploaded.Id);
        Assert.Equal(uploaded.CreatedAt, retrieved.CreatedAt);

        BinaryData downloaded = await client.DownloadFileAsync(uploaded.Id);
        Assert.Equal(content, downloaded.ToArray());

        FileDeletionResult deleted = await client.DeleteFileAsync(uploaded.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(uploaded.Id, deleted.FileId);
    }
}
