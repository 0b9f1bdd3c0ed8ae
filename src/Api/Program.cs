using TuningService.Api;
using TuningService.Api.Health;
using TuningService.Api.Ui;
using TuningService.Api.Observability;

var builder = WebApplication.CreateBuilder(args);
builder.AddApiServices();

var app = builder.Build();
await app.PrepareDatabaseAsync();
app.UseApiPipeline();
app.MapHealthApi();
app.MapApiAreas();
app.MapUi();
app.MapMetricsEndpoint();
app.Run();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
