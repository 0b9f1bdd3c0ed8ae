#!/usr/bin/python3
"""Trains small SentencePiece models and records how the reference libraries tokenize a set of texts with them.

Run with Debian's python3-sentencepiece (apt-get install -y python3-sentencepiece; PyPI is not needed):
    /usr/bin/python3 tests/Worker.Tests/Fixtures/sentencepiece/make-fixtures.py
Writes, next to this script, <name>.model for each model below and expected.json. Deterministic: one training
thread, no input shuffling, a corpus this script writes itself.

expected.json, per model and text:
  sentencepiece: ids and character offsets [start, end) into the text from SentencePieceProcessor itself
                 (encode_as_immutable_proto; its code point offsets converted to UTF-16 ones).
  legacy / non_legacy: the ids transformers' slow LlamaTokenizer gives with `legacy` true / false (no BOS/EOS). The
                 `sentencepiece` Python package has no notion of `legacy` or of added tokens, so these ids follow
                 transformers' own algorithm (tokenization_llama.py and PreTrainedTokenizer.tokenize, restated in
                 hf_llama_tokenize below) on top of the real SentencePieceProcessor: added tokens split out first
                 (longest match, lstrip/rstrip honoured); legacy: each stretch encoded with the model's dummy
                 prefix; non-legacy: a model copy with add_dummy_prefix off, "▁" + text, "▁"→" ", stretches that start
                 with a space encoded behind the unk token's text whose pieces are then dropped, and a lone leading
                 "▁" dropped before a special token. For a GemmaTokenizer model only the legacy path exists.
"""
import json
import os
import random
import re

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
SPIECE_UNDERLINE = "\u2581"


def corpus(path):
    rng = random.Random(12)
    words = ("the a one two three four five hello world model token piece train data cat dog runs fast slow "
             "what is plus minus and or not with without before after day night water fire code test value").split()
    syllables = "ka ri to ne su mo la vi pe dor an tem gul shi bro ex qu zen wal fy".split()
    made_up = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(300)]

    def sentence(vocabulary):
        text = rng.choice(vocabulary).capitalize()
        for _ in range(rng.randint(2, 11)):
            text += ("  " if rng.random() < 0.25 else " ") + rng.choice(vocabulary)  # a few double spaces, never triple
        return text + rng.choice(".!?,")

    lines = [sentence(words) for _ in range(1500)] + [sentence(made_up) for _ in range(400)]
    for _ in range(300):
        lines.append("\tdef " + rng.choice(words) + "(self, " + rng.choice(words) + "):")
        lines.append("\t\treturn self.__" + rng.choice(words) + "__ + " + str(rng.randint(0, 99999)))
        lines.append("\tif " + rng.choice(words) + " == " + str(rng.random())[:6] + ":\t" + rng.choice(words))
        lines.append("class Foo: __init__ __" + rng.choice(words) + "__")
        lines.append("[INST] what is " + rng.choice(words) + " [/INST] " + rng.choice(words) + " " + rng.choice(words))
    for _ in range(40):
        lines.append("café naïve über niño " + rng.choice(words) + " 日本語 " + rng.choice(words))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# name: (training options, tokenizer_config.json of the checkpoint it stands for, minus `legacy`)
MODELS = {
    # Llama 2 / Mistral: BPE, identity, dummy prefix, spaces kept, digits split, byte fallback, whitespace-only
    # pieces; [INST] and [/INST] control pieces that the checkpoint also lists as special added tokens.
    "llama-bpe": (dict(model_type="bpe", vocab_size=700, normalization_rule_name="identity", add_dummy_prefix=True,
                       remove_extra_whitespaces=False, split_digits=True, byte_fallback=True,
                       allow_whitespace_only_pieces=True, control_symbols=["[INST]", "[/INST]"], character_coverage=0.999),
                  {"added": ["[INST]", "[/INST]"]}),
    # BPE with sentencepiece's default whitespace handling, unknown characters without byte fallback, user-defined
    # symbols (matched whole, never merged), and an added token with lstrip/rstrip.
    "bpe-plain": (dict(model_type="bpe", vocab_size=500, normalization_rule_name="identity",
                       user_defined_symbols=["<tool>", "@@"], character_coverage=0.995),
                  {"added": [{"content": "<tool>", "lstrip": True, "rstrip": True}]}),
    # Unigram with byte fallback, split digits, whitespace-only pieces and a user-defined symbol.
    "unigram": (dict(model_type="unigram", vocab_size=800, normalization_rule_name="identity",
                     remove_extra_whitespaces=False, split_digits=True, byte_fallback=True,
                     allow_whitespace_only_pieces=True, user_defined_symbols=["<sep>"], character_coverage=0.999),
                {"added": []}),
    # Unigram with sentencepiece's defaults (identity normalization): unknown runs merged into one <unk>.
    "unigram-plain": (dict(model_type="unigram", vocab_size=400, normalization_rule_name="identity",
                           character_coverage=0.995), {"added": []}),
    # Unigram with normalization rules compiled into a precompiled charsmap (RULES below; the rule set stays small where
    # nmt_nfkc's charsmap alone is ~240 KB): lowercase, ligature, full-width and emoji rewrites, a 3-character key.
    "unigram-rules": (dict(model_type="unigram", vocab_size=400, normalization_rule_tsv="RULES", character_coverage=0.995),
                      {"added": []}),
    # Whitespace as a suffix ("hello▁"), the dummy "▁" going last.
    "bpe-suffix": (dict(model_type="bpe", vocab_size=400, normalization_rule_name="identity", treat_whitespace_as_suffix=True,
                        remove_extra_whitespaces=False, byte_fallback=True, character_coverage=0.999), {"added": []}),
    # Gemma-style: BPE without a dummy prefix, byte fallback, newline/tab user-defined symbols, GemmaTokenizer.
    "gemma-bpe": (dict(model_type="bpe", vocab_size=600, normalization_rule_name="identity", add_dummy_prefix=False,
                       remove_extra_whitespaces=False, byte_fallback=True, allow_whitespace_only_pieces=True,
                       split_digits=True, user_defined_symbols=["\n", "\t", "<start_of_turn>"], character_coverage=0.999),
                  {"added": ["<start_of_turn>"], "tokenizer_class": "GemmaTokenizer"}),
}

TEXTS = [
    "", " ", "   ", "hello world", "Hello, world!", "  two", " two", "two", "a    b", "___", "x ___ y", "__init__",
    " leading space", "trailing space ", "trailing spaces   ", "line one\nline two", "\n\nparagraph\n", "tab\tseparated\tvalues",
    "digits 1234567890 and 3.14159", "12345", "emoji 😀 here", "日本語のテキスト", "mixed 中文 and English", "café naïve",
    "<s>hello", "<s> hello", "hello</s>", "hello </s> world", "</s>  two", "<s>", "<s></s>", "[INST] What is two plus two? [/INST] Four.",
    "[INST]hi[/INST]", "<s>[INST] hi [/INST] ok</s>", "\u2581already escaped", "def __init__(self):\n    return None",
    "    indented code", "if x:\n\tpass", "a\u00a0b", "wait...   what?!", "<unk>", "<unk> two", "<sep> user defined",
    "@@ joined @@ ", "use <tool> here", "use<tool>here", "<start_of_turn>user\nhi", "Zebra quizzes jumped",
    "<s>___", "<s>  two", "hello<s>", "hello <s> ", "</s>\n", "<s>\u2581x",
    "ABC Hello \ufb01ne \u2460 caf\u00e9\u3000x\uff01 \U0001F600 ABCABC AB",
]


# name: (trained model it derives from, pieces marked UNUSED)
VARIANTS = {
    "llama-bpe-unused": ("llama-bpe", {"\u2581hello", "\u2581two", "ld", "__"}),
    "unigram-unused": ("unigram", {"\u2581hello", "\u2581two", "ld", "__"}),
}


def random_texts(count):
    """Texts drawn from the corpus's alphabet, whitespace, special tokens and a few characters the models lack."""
    rng = random.Random(34)
    alphabet = (list("abcdefghijklmnopqrstuvwxyzTHEW0123456789_.,!?():=+-") + [" "] * 12 + ["  ", "\n", "\t", "__"]
                + ["hello", "two", "world", "the", "code", "self", "café", "日本語", "ñ", "😀", "\u2581"]
                + ["<s>", "</s>", "[INST]", "[/INST]", "<unk>", "<tool>", "<sep>", "@@", "<start_of_turn>"])
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(count)]


# normalization_rule_tsv: source code points TAB replacement code points (hex).
RULES = ([f"{c:X}\t{c + 32:X}" for c in range(ord("A"), ord("Z") + 1)]
         + ["41 42 43\t78", "FB01\t66 69", "3000\t20", "2460\t31", "E9\t65 301", "FF01\t21", "1F600\t3A 29"])


def train(name, options):
    if options.get("normalization_rule_tsv") == "RULES":
        rules = os.path.join(HERE, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            f.write("\n".join(RULES) + "\n")
        options = dict(options, normalization_rule_tsv=rules)
    prefix = os.path.join(HERE, name)
    spm.SentencePieceTrainer.train(input=os.path.join(HERE, "corpus.txt"), model_prefix=prefix, num_threads=1,
                                   shuffle_input_sentence=False, minloglevel=2, **options)
    os.remove(prefix + ".vocab")
    return prefix + ".model"


def varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def put_varint(value):
    b = bytearray()
    while value >= 0x80:
        b.append(value & 0x7F | 0x80)
        value >>= 7
    b.append(value)
    return bytes(b)


def rewrite_messages(serialized, field_number, rewrite):
    """serialized with each length-delimited top-level field `field_number` replaced by rewrite(its bytes)."""
    out, at = bytearray(), 0
    while at < len(serialized):
        start = at
        tag, at = varint(serialized, at)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, at = varint(serialized, at)
        elif wire == 5:
            at += 4
        elif wire == 1:
            at += 8
        elif wire == 2:
            length, body = varint(serialized, at)
            at = body + length
            if field == field_number:
                message = rewrite(serialized[body:at])
                out += put_varint(tag) + put_varint(len(message)) + message
                continue
        out += serialized[start:at]
    return bytes(out)


def without_dummy_prefix(serialized):
    """The model with normalizer_spec.add_dummy_prefix = false, as transformers' get_spm_processor makes it (protobuf
    merge: a later scalar field wins, so appending the field to the normalizer_spec message overrides it)."""
    return rewrite_messages(serialized, 3, lambda message: message + bytes([3 << 3, 0]))


def with_unused_pieces(serialized, pieces):
    """The model with the given pieces' type set to UNUSED (5): BPE still merges into them, then splits them back;
    Unigram never picks them."""
    def mark(message):
        length, body = varint(message, 1)  # field 1 (piece) comes first in what the trainer writes
        piece = message[body:body + length].decode("utf-8")
        return message + bytes([3 << 3, 5]) if piece in pieces else message
    return rewrite_messages(serialized, 1, mark)


def added_tokens(sp, config):
    tokens = {}
    for piece_id in (sp.unk_id(), sp.bos_id(), sp.eos_id()):
        tokens[sp.id_to_piece(piece_id)] = {"id": piece_id, "special": True, "lstrip": False, "rstrip": False}
    for token in config["added"]:
        token = token if isinstance(token, dict) else {"content": token}
        tokens[token["content"]] = {"id": sp.piece_to_id(token["content"]), "special": True,
                                    "lstrip": token.get("lstrip", False), "rstrip": token.get("rstrip", False)}
    return tokens


def hf_llama_tokenize(sp, sp_no_dummy, text, added, legacy, add_prefix_space=True, unk_token="<unk>"):
    """transformers' slow LlamaTokenizer.tokenize + convert_tokens_to_ids, restated (see the module docstring)."""
    if not legacy and text:
        text = text.replace(SPIECE_UNDERLINE, " ")
        if add_prefix_space:
            text = SPIECE_UNDERLINE + text
    pattern = "(" + "|".join(re.escape(t) for t in sorted(added, key=len, reverse=True)) + ")"
    parts = [p for p in re.split(pattern, text)] if added else [text]
    for i, part in enumerate(parts):
        if part in added:
            if added[part]["rstrip"] and i + 1 < len(parts) and parts[i + 1]:
                parts[i + 1] = parts[i + 1].lstrip()
            if added[part]["lstrip"] and i > 0 and parts[i - 1]:
                parts[i - 1] = parts[i - 1].rstrip()

    def tokenize_stretch(stretch):
        if legacy or not stretch.startswith((SPIECE_UNDERLINE, " ")):
            return (sp if legacy else sp_no_dummy).encode(stretch, out_type=str)
        pieces = sp_no_dummy.encode(unk_token + stretch, out_type=str)
        unk_length = len(sp_no_dummy.encode(unk_token))
        return pieces[unk_length:] if len(pieces) >= unk_length else pieces

    tokens = []
    for part in parts:
        if not part:
            continue
        tokens.extend([part] if part in added else tokenize_stretch(part))
    if not legacy and len(tokens) > 1 and tokens[0] == SPIECE_UNDERLINE and tokens[1] in added and added[tokens[1]]["special"]:
        tokens = tokens[1:]
    return [added[t]["id"] if t in added else sp.piece_to_id(t) for t in tokens]


def char_offsets(text, begin, end):
    """Code point offsets (what the Python binding reports for a str) → UTF-16 code unit offsets (as .NET counts)."""
    def to_utf16(code_points):
        return len(text[:code_points].encode("utf-16-le")) // 2
    return [to_utf16(begin), to_utf16(end)]


def main():
    corpus(os.path.join(HERE, "corpus.txt"))
    expected = {}
    models = [(name, train(name, options), config) for name, (options, config) in MODELS.items()]
    for name, (source, unused) in VARIANTS.items():
        path = os.path.join(HERE, name + ".model")
        with open(os.path.join(HERE, source + ".model"), "rb") as f:
            serialized = with_unused_pieces(f.read(), unused)
        with open(path, "wb") as f:
            f.write(serialized)
        models.append((name, path, MODELS[source][1]))
    for name, path, config in models:
        sp = spm.SentencePieceProcessor(model_file=path)
        sp_no_dummy = spm.SentencePieceProcessor()
        sp_no_dummy.LoadFromSerializedProto(without_dummy_prefix(sp.serialized_model_proto()))
        added = added_tokens(sp, config)
        gemma = config.get("tokenizer_class") == "GemmaTokenizer"
        cases = []
        for text in TEXTS + random_texts(25):
            proto = sp.encode_as_immutable_proto(text)
            case = {
                "text": text,
                "sentencepiece": {
                    "ids": [p.id for p in proto.pieces],
                    "offsets": [char_offsets(text, p.begin, p.end) for p in proto.pieces],
                    "decoded": sp.decode([p.id for p in proto.pieces]),
                },
                "legacy": hf_llama_tokenize(sp, sp_no_dummy, text, added, legacy=True),
            }
            if not gemma:
                case["non_legacy"] = hf_llama_tokenize(sp, sp_no_dummy, text, added, legacy=False)
            cases.append(case)
        expected[name] = {
            "model": name + ".model",
            "tokenizer_class": config.get("tokenizer_class", "LlamaTokenizer"),
            "added_tokens_decoder": {str(t["id"]): {"content": c, "special": t["special"], "lstrip": t["lstrip"], "rstrip": t["rstrip"]}
                                     for c, t in added.items()},
            "cases": cases,
        }
    os.remove(os.path.join(HERE, "corpus.txt"))
    os.remove(os.path.join(HERE, "rules.tsv"))
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:  # one case a line
        f.write("{\n" + ",\n".join(
            json.dumps(name, ensure_ascii=False) + ": {\n" + ",\n".join(
                f"  {json.dumps(key)}: " + ("[\n" + ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in value) + "\n  ]"
                                            if key == "cases" else json.dumps(value, ensure_ascii=False))
                for key, value in model.items()) + "\n}"
            for name, model in expected.items()) + "\n}\n")


if __name__ == "__main__":
    main()
