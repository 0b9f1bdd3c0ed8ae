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
/// Each distinct template text is prepared once per process; renders run in parallel, each on an interpreter of a pool
/// (an interpreter is single-threaded: one more is made when all are busy, and kept).
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

    private readonly string source;
    private readonly ConcurrentBag<Interpreter> idle = [];

    private JinjaTemplate(string source)
    {
        this.source = source;
        idle.Add(new Interpreter(source));   // parses now, so that a broken template fails here
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
        var interpreter = idle.TryTake(out var free) ? free : new Interpreter(source);
        try
        {
            return interpreter.Render(json);
        }
        finally
        {
            idle.Add(interpreter);
        }
    }

    /// <summary>One Jint engine with the bundle loaded and the template parsed in it.</summary>
    private sealed class Interpreter
    {
        private readonly Jint.Engine engine;
        private readonly Jint.Native.JsValue render;
        private readonly Jint.Native.JsValue handle;

        public Interpreter(string source)
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

        public string Render(string variablesJson)
        {
            try
            {
                return engine.Invoke(render, handle, variablesJson).AsString();
            }
            catch (JavaScriptException e)
            {
                throw new ChatTemplateException(e.Message, e);
            }
        }
    }
}
