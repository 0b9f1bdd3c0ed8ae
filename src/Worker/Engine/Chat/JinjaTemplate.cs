using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Jint;
using Jint.Runtime;

namespace TuningService.Worker.Engine.Chat;

/// <summary>A template raised an error (its <c>raise_exception</c>, or a failure while parsing or rendering).</summary>
public sealed class ChatTemplateException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A Jinja chat template rendered by Hugging Face's own renderer, <c>@huggingface/jinja</c> (the one transformers.js
/// uses; bundled at build time from npm, see ChatTemplates/), executed by the Jint JavaScript interpreter. It parses
/// templates as transformers does (trim_blocks, lstrip_blocks, <c>raise_exception</c>, <c>strftime_now</c> globals).
/// Each distinct template text is prepared once per process, in an interpreter of its own; renders are serialized.
/// </summary>
public sealed class JinjaTemplate
{
    private static readonly Lazy<Prepared<Acornima.Ast.Script>> Bundle = new(() =>
    {
        using var stream = typeof(JinjaTemplate).Assembly.GetManifestResourceStream("TuningService.Worker.ChatTemplates.jinja.js")
            ?? throw new InvalidOperationException("The Jinja renderer bundle is not embedded (ChatTemplates.targets did not run).");
        using var reader = new StreamReader(stream);
        return Jint.Engine.PrepareScript(reader.ReadToEnd(), "jinja.js");
    });

    private static readonly ConcurrentDictionary<string, Lazy<JinjaTemplate>> Prepared = new();

    private readonly Lock gate = new();
    private readonly Jint.Engine engine;
    private readonly Jint.Native.JsValue render;
    private readonly Jint.Native.JsValue handle;

    private JinjaTemplate(string source)
    {
        engine = new Jint.Engine(options => options.LimitRecursion(512).TimeoutInterval(TimeSpan.FromSeconds(30)));
        engine.Execute(Bundle.Value);
        render = engine.GetValue("renderChatTemplate");
        try
        {
            handle = engine.Invoke("prepareChatTemplate", source);
        }
        catch (JavaScriptException e)
        {
            throw new ChatTemplateException($"The chat template does not parse: {e.Message}", e);
        }
    }

    /// <summary>The prepared template for <paramref name="source"/>, parsed on first use and kept for the process's life.</summary>
    public static JinjaTemplate For(string source)
    {
        var lazy = Prepared.GetOrAdd(source, s => new Lazy<JinjaTemplate>(() => new JinjaTemplate(s)));
        try
        {
            return lazy.Value;
        }
        catch (ChatTemplateException)
        {
            Prepared.TryRemove(source, out _);
            throw;
        }
    }

    /// <summary>Renders with <paramref name="variables"/> as the template's context (plain JSON values, as transformers passes them).</summary>
    public string Render(JsonObject variables)
    {
        var json = variables.ToJsonString();
        lock (gate)
        {
            try
            {
                return engine.Invoke(render, handle, json).AsString();
            }
            catch (JavaScriptException e)
            {
                throw new ChatTemplateException(e.Message, e);
            }
        }
    }
}
