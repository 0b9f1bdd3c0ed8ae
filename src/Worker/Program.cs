// Temporary entry point until the hosting engineer's generic host lands; the merge wires `bench` there.
if (args.Length > 0 && args[0] == "bench") return await TuningService.Worker.Bench.BenchCommand.RunAsync(args[1..]);
Console.WriteLine("usage: bench [--arch gpt2|llama] [--layers N] [--dim C] [--heads H] [--vocab V] [--seq T] [--batch B] [--steps S] [--threads N]");
return 0;
