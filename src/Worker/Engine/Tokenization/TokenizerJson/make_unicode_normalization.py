#!/usr/bin/env python3
"""Writes unicode-normalization.txt, the data UnicodeNormalization.cs needs (the service runs with invariant
globalization, where string.Normalize does nothing). From Python's unicodedata (Unicode 14.0):
  XXXX:ccc             canonical combining class, when not 0
  XXXX=c YYYY ZZZZ     canonical decomposition that composes back (primary composite)
  XXXX=d YYYY ...      canonical decomposition that does not compose back (singletons, exclusions)
  XXXX=k YYYY ...      compatibility decomposition
Hangul syllables are decomposed algorithmically and not listed. Run: python3 make_unicode_normalization.py"""
import os, unicodedata

lines = [f"# unicodedata {unicodedata.unidata_version}"]
for c in range(0x110000):
    if 0xAC00 <= c <= 0xD7A3 or 0xD800 <= c <= 0xDFFF:
        continue
    ch = chr(c)
    ccc = unicodedata.combining(ch)
    if ccc:
        lines.append(f"{c:X}:{ccc}")
    d = unicodedata.decomposition(ch)
    if not d:
        continue
    parts = d.split()
    if parts[0].startswith("<"):
        lines.append(f"{c:X}=k " + " ".join(parts[1:]))
    else:
        kind = "c" if unicodedata.normalize("NFC", ch) == ch else "d"
        lines.append(f"{c:X}={kind} " + " ".join(parts))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "unicode-normalization.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
