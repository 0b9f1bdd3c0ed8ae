using TuningService.Worker.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddWorkerServices();
await builder.Build().RunAsync();
return 0;
