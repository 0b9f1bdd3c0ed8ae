using TorchSharp;
using static TorchSharp.torch;

var x = randn(4, 8, requires_grad: true);
var w = nn.Linear(8, 2);
var loss = w.forward(x).pow(2).mean();
loss.backward();
Console.WriteLine($"loss={loss.item<float>()} grad={x.grad!.abs().sum().item<float>()}");
