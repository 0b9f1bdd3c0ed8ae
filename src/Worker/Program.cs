using TuningService.Worker.Bench;
using TuningService.Worker.Hosting;

// `bench` trains the real model code and prints one JSON line; anything else runs the worker host.
if (args is ["bench", ..]) return await BenchCommand.RunAsync(args[1..]);

var builder = Host.CreateApplicationBuilder(args);
builder.AddWorkerServices();
await builder.Build().RunAsync();
return 0;
