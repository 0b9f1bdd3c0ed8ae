using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>
/// The safetensors format: 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes. F32, F16, BF16, I64 supported.
/// Kept instead of TorchSharp.PyBridge (whose reference was dropped): PyBridge's safetensors reader/writer is
/// internal, reachable only as module.load_safetensors/save_safetensors over the module's own parameter names
/// (HF names differ: GPT-2's Conv1D layout, prefixes, adapters), it writes no __metadata__ {"format":"pt"} that
/// transformers checks, and it refuses tensors over 2 GB.
/// </summary>
public static class Safetensors
{
    /// <summary>Reads every tensor of a file onto the CPU in its stored dtype.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes));
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + headerLength;
        var header = JsonNode.Parse(headerBytes)!.AsObject();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is null) continue;
            var dtype = ParseDtype(node["dtype"]!.GetValue<string>());
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var bytes = new byte[offsets[1] - offsets[0]];
            stream.Position = dataStart + offsets[0];
            stream.ReadExactly(bytes);
            var tensor = empty(shape, dtype);
            if (bytes.Length > 0) tensor.bytes = bytes;
            result[name] = tensor.DetachFromDisposeScope();
        }
        return result;
    }

    /// <summary>Writes tensors (any device, contiguous or not) to a file; keys are written in sorted order.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            long size = t.numel() * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(t.dtype),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + size)),
            };
            offset += size;
        }
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header);
        int padding = (8 - headerBytes.Length % 8) % 8; // align the data section, as the reference writer does
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(headerBytes.Length + padding));
        stream.Write(lengthBytes);
        stream.Write(headerBytes);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach (var name in names)
        {
            using var cpu = tensors[name].detach().cpu().contiguous();
            if (cpu.numel() > 0) stream.Write(cpu.bytes);
        }
        stream.Flush(flushToDisk: true);
    }

    public static ScalarType ParseDtype(string name) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new NotSupportedException($"safetensors dtype {name} is not supported."),
    };

    public static string DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {dtype} cannot be written to safetensors."),
    };

    /// <summary>Hugging Face's torch_dtype name to a scalar type (float32 when absent).</summary>
    public static ScalarType ParseTorchDtype(string? name) => name switch
    {
        null or "float32" => ScalarType.Float32,
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        _ => throw new NotSupportedException($"torch_dtype {name} is not supported."),
    };

    public static string TorchDtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => throw new NotSupportedException($"dtype {dtype} is not a model dtype."),
    };
}
