using TuningService.Worker.Bench;
using TuningService.Worker.Hosting;
using TuningService.Worker.Inference;

// `bench` trains the real model code and prints one JSON line; anything else runs the worker host.
if (args is ["bench", ..]) return await BenchCommand.RunAsync(args[1..]);
// `serve` (or Worker:Role=inference) runs the inference role: an HTTP server for generation instead of the Hangfire server.
if (args is ["serve", ..]) return await InferenceHost.RunAsync(args[1..]);
if (new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build()["Worker:Role"] == "inference")
    return await InferenceHost.RunAsync(args);

var builder = Host.CreateApplicationBuilder(args);
builder.AddWorkerServices();
await builder.Build().RunAsync();
return 0;
