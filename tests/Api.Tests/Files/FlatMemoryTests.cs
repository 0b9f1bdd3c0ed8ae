using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;
using System.Text;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using static TuningService.Api.Tests.Files.FileUploads;

namespace TuningService.Api.Tests.Files;

/// <summary>
/// The API behind real Kestrel on a loopback port. TestServer's in-memory request pipe buffers a body the server
/// reads slower than the client writes, which would measure the test harness instead of the API.
/// </summary>
public sealed class KestrelApiFactory : ApiFactory, IAsyncLifetime
{
    public KestrelApiFactory() => UseKestrel(0);

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    async Task IAsyncLifetime.InitializeAsync()
    {
        // The base creates the database, then touches Server, which Kestrel mode does not support; start Kestrel instead.
        try { await InitializeAsync(); }
        catch (NotSupportedException) { }
        StartServer();
    }
}

public sealed class FlatMemoryTests(KestrelApiFactory api) : IClassFixture<KestrelApiFactory>
{
    private const long UploadBytes = 100L * 1024 * 1024;

    [Fact]
    public async Task Upload_Of100MB_KeepsApiMemoryGrowthUnder100MB()
    {
        // No redirect handler: Mvc.Testing's buffers the whole request body so it could replay it on a redirect.
        var client = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = api.Address });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
        client.Timeout = TimeSpan.FromMinutes(2);
        await UploadOk(client, ValidJsonl()); // warm up every code path first
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                // Live memory only: a full collection first, so garbage awaiting the next GC does not count as growth.
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                await Task.Delay(200);
            }
        });

        var stopwatch = Stopwatch.StartNew();
        var response = await Upload(client, new StreamContent(new GeneratedJsonlStream(UploadBytes), 64 * 1024), "big.jsonl", "fine-tune");
        sampling.Cancel();
        await sampler;

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var file = JsonDocument.Parse(body).RootElement;
        Assert.True(file.GetProperty("status").GetString() == "processed", body);
        Assert.InRange(file.GetProperty("bytes").GetInt64(), UploadBytes, UploadBytes + 1024);
        var growthMb = (peak - baseline) / (1024.0 * 1024);
        Assert.True(growthMb < 100, $"Managed memory grew by {growthMb:F0} MB while uploading {UploadBytes >> 20} MB in {stopwatch.Elapsed}.");
    }

    /// <summary>Prompt/completion JSONL generated on the fly: never more than one line in memory.</summary>
    private sealed class GeneratedJsonlStream(long length) : Stream
    {
        private byte[] _line = [];
        private int _offset;
        private long _produced;
        private int _index;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var written = 0;
            while (written < count)
            {
                if (_offset == _line.Length)
                {
                    if (_produced >= length) break;
                    _line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
                    {
                        prompt = $"Review {_index}: this product number {_index * 7919 % 100_003} was " + (_index % 2 == 0 ? "great" : "awful") + " overall.",
                        completion = _index++ % 2 == 0 ? " positive" : " negative",
                    }) + "\n");
                    _offset = 0;
                }
                var n = Math.Min(count - written, _line.Length - _offset);
                Array.Copy(_line, _offset, buffer, offset + written, n);
                _offset += n;
                written += n;
                _produced += n;
            }
            return written;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _produced; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
