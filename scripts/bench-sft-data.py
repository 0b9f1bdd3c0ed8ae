#!/usr/bin/env python3
"""Variable-length SFT data for `bench --dataset`: prompt_completion lines whose prompts run 5..N words and whose
completions are a few words, as in short-answer instruction data. Prompt lengths are uniform, or with --long-tail
log-uniform (many short prompts, few long ones, as in most chat and instruction sets). Deterministic: same arguments,
same bytes. Run: python3 scripts/bench-sft-data.py OUT.jsonl [--lines 400] [--max-words 200] [--long-tail] [--seed 7]"""
import argparse
import json
import random

WORDS = ("the a service order customer delivery package account refund payment invoice product team support update "
         "schedule meeting report data model training request error server network storage access password user "
         "question answer issue ticket review release version feature change policy price plan contract email").split()

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--lines", type=int, default=400)
parser.add_argument("--max-words", type=int, default=200)
parser.add_argument("--long-tail", action="store_true")
parser.add_argument("--seed", type=int, default=7)
args = parser.parse_args()
rng = random.Random(args.seed)
with open(args.out, "w", encoding="utf-8", newline="\n") as f:
    for _ in range(args.lines):
        words = int(5 * (args.max_words / 5) ** rng.random()) if args.long_tail else rng.randint(5, args.max_words)
        prompt = " ".join(rng.choice(WORDS) for _ in range(words))
        completion = " " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
        f.write(json.dumps({"prompt": prompt + "\nAnswer:", "completion": completion}) + "\n")
