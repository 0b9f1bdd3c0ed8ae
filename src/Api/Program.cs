using TuningService.Api;
using TuningService.Api.Health;

var builder = WebApplication.CreateBuilder(args);
builder.AddApiServices();

var app = builder.Build();
await app.PrepareDatabaseAsync();
app.UseApiPipeline();
app.MapHealthApi();
app.MapApiAreas();
app.Run();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
