#!/usr/bin/env python3
"""Builds the small tokenizer.json fixtures: each copies the normalizer / pre_tokenizer / model type and options /
post_processor / decoder / added-token flags of a real checkpoint family (see README.md), with a small vocabulary
trained here on CORPUS so that merges, byte fallback and unknown characters are all exercised.
Deterministic: run `python3 make_fixtures.py` in this folder to rebuild every <family>/tokenizer.json."""
import base64, collections, io, json, math, os
import regex  # Debian's python3-regex: \p{L} like the Rust regex crate

CORPUS = """Hello world! This is a small corpus for training tiny tokenizers. The quick brown fox jumps over the lazy dog.
Tokenizers split text into tokens; tokens become ids. Numbers like 12345 and 2024 appear, as do 3.14 and 1,000.
Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve r\u00e9sum\u00e9. def main(): return 0  # code with    spaces
She said, "don't stop" and we'll see. It's the user's turn; they're here, I'm there, you've won.
The assistant answers the user. The system prompt says: be helpful, be honest, be brief.
Training a model on instructions and preferences needs exact tokenization of every example.
___ underscores ___ and dashes --- and dots ... appear in markdown and code.
\tTabs and\nnewlines\n\nseparate lines. Two  spaces, three   spaces, four    spaces.
""" * 3

SPECIAL_OPTIONS = dict(single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def byte_alphabet():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTES = byte_alphabet()


def train_bpe(words, alphabet, merges_count):
    """Plain BPE training: words (symbol tuples with counts), most frequent pair first, ties by first seen."""
    vocab = list(dict.fromkeys(alphabet))
    words = collections.Counter(words)
    merges = []
    for _ in range(merges_count):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        vocab.append(best[0] + best[1])
        merged = {}
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1]); i += 2
                else:
                    out.append(word[i]); i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + count
        words = merged
    return list(dict.fromkeys(vocab)), merges


def byte_level_words(pattern, text):
    return [tuple(BYTES[b] for b in piece.encode()) for piece in regex.findall(pattern, text)]


def metaspace_words(text):
    words = []
    for line in text.split("\n"):
        for piece in regex.findall(r"\u2581?[^\u2581]+|\u2581+", "\u2581" + line.replace(" ", "\u2581")):
            words.append(tuple(piece))
    return words


def added(entries):
    return [dict(id=i, content=c, **{**SPECIAL_OPTIONS, **o}) for i, c, o in entries]


def bpe_model(vocab, merges, **options):
    model = dict(type="BPE", dropout=None, unk_token=None, continuing_subword_prefix=None, end_of_word_suffix=None,
                 fuse_unk=False, byte_fallback=False, ignore_merges=False)
    model.update(options)
    model["vocab"] = {t: i for i, t in enumerate(vocab)}
    model["merges"] = [[a, b] for a, b in merges]
    return model


def write(name, normalizer, pre_tokenizer, model, post_processor, decoder, added_tokens):
    os.makedirs(name, exist_ok=True)
    doc = dict(version="1.0", truncation=None, padding=None, added_tokens=added_tokens, normalizer=normalizer,
               pre_tokenizer=pre_tokenizer, post_processor=post_processor, decoder=decoder, model=model)
    with open(os.path.join(name, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)


def template(bos, bos_id):
    return dict(type="TemplateProcessing",
                single=[dict(SpecialToken=dict(id=bos, type_id=0)), dict(Sequence=dict(id="A", type_id=0))],
                pair=[dict(SpecialToken=dict(id=bos, type_id=0)), dict(Sequence=dict(id="A", type_id=0)),
                      dict(SpecialToken=dict(id=bos, type_id=1)), dict(Sequence=dict(id="B", type_id=1))],
                special_tokens={bos: dict(id=bos, ids=[bos_id], tokens=[bos])})


def byte_level(add_prefix_space=False, trim_offsets=True, use_regex=True):
    return dict(type="ByteLevel", add_prefix_space=add_prefix_space, trim_offsets=trim_offsets, use_regex=use_regex)


def byte_level_family(name, pattern, merges_count, normalizer, pre_tokenizer, post_processor_of, specials, model_options, extra_added=()):
    vocab, merges = train_bpe(byte_level_words(pattern, CORPUS), [BYTES[b] for b in range(256)], merges_count)
    base = len(vocab)
    added_tokens = added([(base + i, c, o) for i, (c, o) in enumerate(list(specials) + list(extra_added))])
    write(name, normalizer, pre_tokenizer, bpe_model(vocab, merges, **model_options), post_processor_of(base),
          byte_level(True, True, True), added_tokens)


def sentencepiece_bpe_vocab(merges_count, head=("<unk>", "<s>", "</s>")):
    """Llama 2 / Mistral / Gemma layout: <unk> <s> </s>, the 256 byte tokens, then pieces; runs of "▁" as pieces."""
    alphabet = sorted({c for c in CORPUS.replace(" ", "\u2581").replace("\n", "") if c != "\u2581"}) + ["\u2581"]
    vocab, merges = train_bpe(metaspace_words(CORPUS), alphabet, merges_count)
    for run in (2, 4):  # "▁▁" and "▁▁▁▁" exist in Llama's and Gemma's vocabularies
        half = "\u2581" * (run // 2)
        if (half, half) not in merges:
            merges.append((half, half)); vocab.append(half * 2)
    head = list(head) + [f"<0x{b:02X}>" for b in range(256)]
    return head + [t for t in dict.fromkeys(vocab) if t not in head], merges


def unigram_vocab(head, byte_fallback):
    counts = collections.Counter()
    for word in metaspace_words(CORPUS):
        text = "".join(word)
        for n in range(1, 7):
            for i in range(len(text) - n + 1):
                counts[text[i:i + n]] += 1
    chars = [p for p in counts if len(p) == 1]
    pieces = chars + [p for p, c in counts.most_common(600) if len(p) > 1 and c > 2]
    total = sum(counts[p] for p in pieces)
    vocab = [[t, 0.0] for t in head]
    if byte_fallback:
        vocab += [[f"<0x{b:02X}>", 0.0] for b in range(256)]
    seen = {t for t, _ in vocab}
    for p in dict.fromkeys(pieces):
        if p not in seen and p not in "0123456789":  # digits left out: they exercise unk / byte fallback
            vocab.append([p, round(math.log(counts[p] / total) - 0.1 * len(p), 6)])
    return vocab


def protobuf_fields(buffer):
    """(field number, bytes or None) of a serialized protobuf message: enough to pull one bytes field out."""
    def varint(at):
        value, shift = 0, 0
        while True:
            byte = buffer[at]; at += 1
            value |= (byte & 0x7F) << shift; shift += 7
            if byte < 0x80:
                return value, at
    at = 0
    while at < len(buffer):
        key, at = varint(at)
        wire = key & 7
        if wire == 0:
            _, at = varint(at); yield key >> 3, None
        elif wire == 2:
            size, at = varint(at); yield key >> 3, buffer[at:at + size]; at += size
        else:
            at += 8 if wire == 1 else 4; yield key >> 3, None


def nmt_nfkc_charsmap():
    """SentencePiece's built-in nmt_nfkc rules as T5's spiece.model carries them (normalizer_spec.precompiled_charsmap),
    taken from a throwaway model: Debian's python3-sentencepiece, so run this script with /usr/bin/python3."""
    import sentencepiece
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS.splitlines()), model_writer=model, model_type="char",
                                             vocab_size=60, normalization_rule_name="nmt_nfkc", num_threads=1, minloglevel=2)
    spec = next(v for f, v in protobuf_fields(model.getvalue()) if f == 3)         # ModelProto.normalizer_spec
    return next(v for f, v in protobuf_fields(spec) if f == 2)                      # NormalizerSpec.precompiled_charsmap


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    llama3_specials = [("<|begin_of_text|>", {}), ("<|end_of_text|>", {}), ("<|start_header_id|>", {}),
                       ("<|end_header_id|>", {}), ("<|eot_id|>", {})]
    byte_level_family("llama3", LLAMA3_PATTERN, 400, None,
                      dict(type="Sequence", pretokenizers=[dict(type="Split", pattern=dict(Regex=LLAMA3_PATTERN), behavior="Isolated", invert=False),
                                                          byte_level(False, True, False)]),
                      lambda base: dict(type="Sequence", processors=[byte_level(True, False, True), template("<|begin_of_text|>", base)]),
                      llama3_specials, dict(ignore_merges=True))
    byte_level_family("qwen2", QWEN2_PATTERN, 400, dict(type="NFC"),
                      dict(type="Sequence", pretokenizers=[dict(type="Split", pattern=dict(Regex=QWEN2_PATTERN), behavior="Isolated", invert=False),
                                                          byte_level(False, False, False)]),
                      lambda base: byte_level(False, False, False),
                      [("<|endoftext|>", {}), ("<|im_start|>", {}), ("<|im_end|>", {})], {},
                      extra_added=[("<tool_call>", dict(special=False)), ("</tool_call>", dict(special=False))])
    byte_level_family("smollm2", GPT2_PATTERN, 400, None,
                      dict(type="Sequence", pretokenizers=[dict(type="Digits", individual_digits=True), byte_level(False, True, True)]),
                      lambda base: byte_level(True, False, True),
                      [("<|endoftext|>", {}), ("<|im_start|>", {}), ("<|im_end|>", {})], {})
    byte_level_family("roberta-like", GPT2_PATTERN, 300, None, byte_level(False, True, True),
                      lambda base: dict(type="RobertaProcessing", sep=["</s>", base + 2], cls=["<s>", base], trim_offsets=True, add_prefix_space=False),
                      [("<s>", {}), ("<pad>", {}), ("</s>", {}), ("<unk>", {}), ("<mask>", dict(lstrip=True))], {})

    vocab, merges = sentencepiece_bpe_vocab(500)
    n = len(vocab)
    llama_decoder = dict(type="Sequence", decoders=[dict(type="Replace", pattern=dict(String="\u2581"), content=" "), dict(type="ByteFallback"),
                                                    dict(type="Fuse"), dict(type="Strip", content=" ", start=1, stop=0)])
    prepend_replace = dict(type="Sequence", normalizers=[dict(type="Prepend", prepend="\u2581"), dict(type="Replace", pattern=dict(String=" "), content="\u2581")])
    sp_model = dict(unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    write("mistral-v0.3", prepend_replace, None, bpe_model(vocab, merges, **sp_model), template("<s>", 1), llama_decoder,
          added([(0, "<unk>", {}), (1, "<s>", {}), (2, "</s>", {})]) + added([(n, "[INST]", {}), (n + 1, "[/INST]", {}), (n + 2, "[TOOL_CALLS]", {})]))
    write("phi3", prepend_replace, None, bpe_model(vocab, merges, **sp_model), template("<s>", 1), llama_decoder,
          added([(0, "<unk>", {}), (1, "<s>", {}), (2, "</s>", dict(rstrip=True))])
          + added([(n, "<|endoftext|>", {}), (n + 1, "<|assistant|>", dict(rstrip=True)), (n + 2, "<|end|>", dict(rstrip=True)),
                   (n + 3, "<|user|>", dict(rstrip=True)), (n + 4, "<|system|>", dict(rstrip=True))]))
    gemma_decoder = dict(type="Sequence", decoders=[dict(type="Replace", pattern=dict(String="\u2581"), content=" "), dict(type="ByteFallback"), dict(type="Fuse")])
    gemma_vocab, gemma_merges = sentencepiece_bpe_vocab(500, head=("<pad>", "<eos>", "<bos>", "<unk>"))
    g = len(gemma_vocab)
    write("gemma2", dict(type="Replace", pattern=dict(String=" "), content="\u2581"), None, bpe_model(gemma_vocab, gemma_merges, **sp_model),
          template("<bos>", 2), gemma_decoder,
          added([(0, "<pad>", {}), (1, "<eos>", {}), (2, "<bos>", {}), (3, "<unk>", {})]) + added([(g, "<start_of_turn>", {}), (g + 1, "<end_of_turn>", {})]))
    write("llama-metaspace", None, dict(type="Metaspace", replacement="\u2581", prepend_scheme="first", split=False),
          bpe_model(vocab, merges, **sp_model), template("<s>", 1),
          dict(type="Sequence", decoders=[dict(type="Replace", pattern=dict(String="\u2581"), content=" "), dict(type="ByteFallback"),
                                          dict(type="Fuse"), dict(type="Strip", content=" ", start=1, stop=0)]),
          added([(0, "<unk>", {}), (1, "<s>", {}), (2, "</s>", {})]))

    t5_vocab = unigram_vocab(["<pad>", "</s>", "<unk>"], byte_fallback=False)
    write("t5-like", dict(type="Sequence", normalizers=[dict(type="NFKC"), dict(type="Replace", pattern=dict(Regex=" {2,}"), content=" ")]),
          dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True),
          dict(type="Unigram", unk_id=2, vocab=t5_vocab, byte_fallback=False),
          dict(type="TemplateProcessing", single=[dict(Sequence=dict(id="A", type_id=0)), dict(SpecialToken=dict(id="</s>", type_id=0))],
               pair=[dict(Sequence=dict(id="A", type_id=0)), dict(SpecialToken=dict(id="</s>", type_id=0)), dict(Sequence=dict(id="B", type_id=0)),
                     dict(SpecialToken=dict(id="</s>", type_id=0))], special_tokens={"</s>": dict(id="</s>", ids=[1], tokens=["</s>"])}),
          dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True),
          added([(0, "<pad>", {}), (1, "</s>", {}), (2, "<unk>", {})]) + added([(len(t5_vocab), "<extra_id_0>", {})]))
    # T5's converted tokenizer.json: its spiece.model's nmt_nfkc charsmap, then runs of spaces collapsed.
    write("t5-precompiled", dict(type="Sequence", normalizers=[dict(type="Precompiled", precompiled_charsmap=base64.b64encode(nmt_nfkc_charsmap()).decode()),
                                                                dict(type="Replace", pattern=dict(Regex=" {2,}"), content=" ")]),
          dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True),
          dict(type="Unigram", unk_id=2, vocab=t5_vocab, byte_fallback=False), None,
          dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True),
          added([(0, "<pad>", {}), (1, "</s>", {}), (2, "<unk>", {})]) + added([(len(t5_vocab), "<extra_id_0>", {})]))
    bf_vocab = unigram_vocab(["<unk>", "<s>", "</s>"], byte_fallback=True)
    write("unigram-byte-fallback", dict(type="Sequence", normalizers=[dict(type="NFD"), dict(type="StripAccents"), dict(type="Lowercase"), dict(type="Strip", strip_left=True, strip_right=True)]),
          dict(type="Sequence", pretokenizers=[dict(type="WhitespaceSplit"), dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True)]),
          dict(type="Unigram", unk_id=0, vocab=bf_vocab, byte_fallback=True), None,
          dict(type="Sequence", decoders=[dict(type="ByteFallback"), dict(type="Metaspace", replacement="\u2581", prepend_scheme="always", split=True)]),
          added([(0, "<unk>", {}), (1, "<s>", {}), (2, "</s>", {})]) + added([(len(bf_vocab), "hello", dict(special=False, normalized=True))]))

    words = collections.Counter(w.lower() for w in regex.findall(r"\w+", CORPUS))
    chars = sorted({c for c in CORPUS.lower() if not c.isspace()})
    wp = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars if c.isalnum()]
    wp += [w for w, c in words.most_common(120)] + ["##ing", "##s", "##ed", "##er", "##izer", "##izers", "##ken", "##s", "##ly"]
    wp = list(dict.fromkeys(wp))
    write("bert", dict(type="BertNormalizer", clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True),
          dict(type="BertPreTokenizer"),
          dict(type="WordPiece", unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100, vocab={t: i for i, t in enumerate(wp)}),
          dict(type="TemplateProcessing", single=[dict(SpecialToken=dict(id="[CLS]", type_id=0)), dict(Sequence=dict(id="A", type_id=0)), dict(SpecialToken=dict(id="[SEP]", type_id=0))],
               pair=[dict(SpecialToken=dict(id="[CLS]", type_id=0)), dict(Sequence=dict(id="A", type_id=0)), dict(SpecialToken=dict(id="[SEP]", type_id=0)),
                     dict(Sequence=dict(id="B", type_id=1)), dict(SpecialToken=dict(id="[SEP]", type_id=1))],
               special_tokens={t: dict(id=t, ids=[wp.index(t)], tokens=[t]) for t in ("[CLS]", "[SEP]")}),
          dict(type="WordPiece", prefix="##", cleanup=True),
          added([(0, "[PAD]", {}), (1, "[UNK]", {}), (2, "[CLS]", {}), (3, "[SEP]", {}), (4, "[MASK]", {})]))

    wl = ["[UNK]", "[PAD]"] + [w for w, c in words.most_common(150)] + [".", ",", "!", "'", "?"]
    write("wordlevel", dict(type="Lowercase"), dict(type="Whitespace"),
          dict(type="WordLevel", vocab={t: i for i, t in enumerate(dict.fromkeys(wl))}, unk_token="[UNK]"), None, None,
          added([(0, "[UNK]", {}), (1, "[PAD]", {})]))
    write("punctuation-split", dict(type="Sequence", normalizers=[dict(type="NFKD"), dict(type="Lowercase")]),
          dict(type="Sequence", pretokenizers=[dict(type="Whitespace"), dict(type="Punctuation", behavior="Contiguous"),
                                               dict(type="Split", pattern=dict(String="e"), behavior="MergedWithPrevious", invert=False),
                                               dict(type="Split", pattern=dict(Regex="[0-9]"), behavior="MergedWithNext", invert=False),
                                               dict(type="Digits", individual_digits=False)]),
          dict(type="WordPiece", unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100, vocab={t: i for i, t in enumerate(wp)}),
          None, dict(type="WordPiece", prefix="##", cleanup=False),
          added([(0, "[PAD]", {}), (1, "[UNK]", {}), (2, "[CLS]", {}), (3, "[SEP]", {}), (4, "[MASK]", dict(single_word=True, lstrip=True, rstrip=True))]))


# tokenizer_config.json: the BOS/EOS (and add_bos_token where the real checkpoint sets it) of each family.
CONFIGS = {
    "llama3": dict(bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>"),
    "qwen2": dict(bos_token=None, eos_token="<|endoftext|>"),
    "smollm2": dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>"),
    "roberta-like": dict(bos_token="<s>", eos_token="</s>"),
    "mistral-v0.3": dict(bos_token="<s>", eos_token="</s>", add_bos_token=True),
    "phi3": dict(bos_token="<s>", eos_token="<|endoftext|>", add_bos_token=False),
    "gemma2": dict(bos_token="<bos>", eos_token="<eos>", add_bos_token=True),
    "llama-metaspace": dict(bos_token="<s>", eos_token="</s>", add_bos_token=True),
    "t5-like": dict(eos_token="</s>"),
    "t5-precompiled": dict(eos_token="</s>"),
    "unigram-byte-fallback": dict(bos_token="<s>", eos_token="</s>"),
    "bert": dict(eos_token="[SEP]"),
    "punctuation-split": dict(eos_token="[SEP]"),
    "wordlevel": dict(eos_token="[PAD]"),
}


def write_configs():
    for name, config in CONFIGS.items():
        with open(os.path.join(name, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
    write_configs()
