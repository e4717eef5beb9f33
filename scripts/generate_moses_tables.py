#!/usr/bin/env python3
"""Writes Sources/Datasets/MosesTables.swift: the data the Swift Moses tokenizer and detokenizer
need from sacremoses, so that the `hat` binary carries it (no resource files beside it).

Usage: .venv-oracle/bin/python scripts/generate_moses_tables.py [OUT.swift]
  (pip install sacremoses into .venv-oracle first; scripts/setup.sh does)

What it writes, all read from the installed sacremoses itself:
  - the non-breaking prefixes of en, de and fr exactly as `MosesTokenizer(lang).NONBREAKING_PREFIXES`
    and `.NUMERIC_ONLY_PREFIXES` hold them;
  - every character class the tokenizer's and detokenizer's regular expressions use, as
    code-point ranges. Each class is computed by asking Python's `re` about every code point
    with the very bracket expression sacremoses compiles (the Perl Unicode property strings
    pasted into `[...]`), so the Swift tables mean what the regexes mean, whatever characters
    those strings hold;
  - the plain character sets (`set(IsAlpha)`, `set(IsLower)`) that `isanyalpha`/`islower` use;
  - Python's whitespace (`str.isspace`, which is also `re`'s `\\s`, `str.split()` and
    `str.strip()`), and sacremoses' CJK ranges.
"""
import re
import sys
import unicodedata

import sacremoses
from sacremoses import util
from sacremoses.tokenize import MosesDetokenizer, MosesTokenizer

OUT = sys.argv[1] if len(sys.argv) > 1 else "Sources/Datasets/MosesTables.swift"
LANGS = ["en", "de", "fr"]
MAX = 0x110000


def code_points():
    for c in range(MAX):
        if 0xD800 <= c <= 0xDFFF:  # lone surrogates cannot occur in a Swift String
            continue
        yield c


def members(predicate):
    return [c for c in code_points() if predicate(chr(c))]


def ranges(cps):
    out = []
    for c in cps:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def bracket_class(body, used_in):
    """The code points `[body]` matches; `used_in` must contain that bracket expression."""
    assert "[" + body + "]" in used_in or "[^" + body + "]" in used_in, "sacremoses changed: " + used_in[:80]
    rx = re.compile("[" + body + "]")
    neg = re.compile("[^" + body + "]")
    cps = members(lambda ch: rx.fullmatch(ch) is not None)
    # The Swift port writes [^X] as "not in [X]"; check that this holds for every code point.
    negs = members(lambda ch: neg.fullmatch(ch) is not None)
    assert set(negs) == set(code_points()) - set(cps), "[^X] is not the complement of [X]"
    return cps


T, D = MosesTokenizer, MosesDetokenizer
tables = {}
# Tokenizer: PAD_NOT_ISALNUM is itself a negated class: pad every character it matches.
pad_rx = T.PAD_NOT_ISALNUM[0]
assert pad_rx.pattern.startswith("([^") and pad_rx.pattern.endswith("])")
tables["tokenizerPad"] = ("characters PAD_NOT_ISALNUM pads with spaces: [^IsAlnum\\s.'`,-]",
                          members(lambda ch: pad_rx.fullmatch(ch) is not None))
tables["tokenizerAlnum"] = ("[IsAlnum] (with viramas and nuktas): AGGRESSIVE_HYPHEN_SPLIT",
                            bracket_class(T.IsAlnum, T.AGGRESSIVE_HYPHEN_SPLIT[0].pattern))
tables["tokenizerNumber"] = ("[IsN]: COMMA_SEPARATE_*, EN_SPECIFIC_5",
                             bracket_class(T.IsN, T.COMMA_SEPARATE_1[0].pattern))
tables["tokenizerAlpha"] = ("[IsAlpha] (with viramas and nuktas): EN_SPECIFIC_*, FR_IT_SPECIFIC_*",
                            bracket_class(T.IsAlpha, T.EN_SPECIFIC_1[0].pattern))
tables["tokenizerAlphaOrNumber"] = ("[IsAlpha IsN]: EN_SPECIFIC_2's [^{alpha}{isn}]",
                                    bracket_class(T.IsAlpha + T.IsN, T.EN_SPECIFIC_2[0].pattern))
tables["tokenizerAlphaSet"] = ("set(IsAlpha): isanyalpha (a plain set, not a regex class)",
                               sorted(ord(ch) for ch in set(T.IsAlpha) if not 0xD800 <= ord(ch) <= 0xDFFF))
tables["tokenizerLowerSet"] = ("set(IsLower): islower (a plain set, not a regex class)",
                               sorted(ord(ch) for ch in set(T.IsLower) if not 0xD800 <= ord(ch) <= 0xDFFF))
cur = D.IS_CURRENCY_SYMBOL.pattern
assert cur.startswith("^[") and cur.endswith("]+$")
tables["detokenizerCurrency"] = ("IS_CURRENCY_SYMBOL's class: [IsSc ( [ { ¿ ¡]",
                                 bracket_class(cur[2:-3], cur))
start_alpha = D.STARTS_WITH_ALPHA.pattern
assert start_alpha.startswith("^[") and start_alpha.endswith("]")
tables["detokenizerAlpha"] = ("[IsAlpha] (without viramas): IS_ENGLISH_CONTRACTION, IS_FRENCH_CONRTACTION, STARTS_WITH_ALPHA",
                              bracket_class(start_alpha[2:-1], start_alpha))
space_rx = re.compile(r"\s")
spaces = members(lambda ch: ch.isspace())
assert spaces == members(lambda ch: space_rx.fullmatch(ch) is not None)
tables["pythonWhitespace"] = ("Python's str.isspace (= re's \\s, str.split(), str.strip())", spaces)
cjk = []
for start, end in util._CJKChars_ranges:
    cjk.extend(range(start, end + 1))
tables["cjk"] = ("sacremoses.util.is_cjk (closed ranges)", cjk)

prefixes = {}
for lang in LANGS:
    tok = MosesTokenizer(lang=lang)
    prefixes[lang] = (tok.NONBREAKING_PREFIXES, tok.NUMERIC_ONLY_PREFIXES)


def swift_string(s):
    out = []
    for ch in s:
        if ch == "\\" or ch == '"':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%X}" % ord(ch))
    return '"' + "".join(out) + '"'


lines = []
emit = lines.append
emit("// GENERATED by scripts/generate_moses_tables.py from sacremoses %s (%s) on Python %s," % (
    getattr(sacremoses, "__version__", "0.2.0"), "https://github.com/hplt-project/sacremoses",
    ".".join(map(str, sys.version_info[:3]))))
emit("// Unicode %s. Do not edit; rerun the script." % unicodedata.unidata_version)
emit("//")
emit("// Licences: sacremoses is MIT-licensed (Copyright (c) 2020 alvations). Its non-breaking prefix")
emit("// lists come from the Moses toolkit (scripts/share/nonbreaking_prefixes, LGPL-2.1), its character")
emit("// classes from the Perl Unicode properties (perluniprops, Unicode data licence).")
emit("")
emit("/// Code-point tables of the Moses tokenizer and detokenizer: closed ranges as flat")
emit("/// [first, last, first, last, ...] lists, computed from sacremoses' own regular expressions.")
emit("enum MosesTables {")
for name, (doc, cps) in tables.items():
    rs = ranges(cps)
    emit("    /// %s; %d code points in %d ranges." % (doc, len(cps), len(rs)))
    emit("    static let %s: [UInt32] = [" % name)
    flat = ["0x%X, 0x%X" % (a, b) for a, b in rs]
    for i in range(0, len(flat), 6):
        emit("        " + ", ".join(flat[i:i + 6]) + ",")
    emit("    ]")
emit("")
emit("    /// `MosesTokenizer(lang).NONBREAKING_PREFIXES` (stripped lines, `#NUMERIC_ONLY#` marks kept)")
emit("    /// and `.NUMERIC_ONLY_PREFIXES`, per language.")
emit("    static let nonbreakingPrefixes: [String: (prefixes: [String], numericOnly: [String])] = [")
for lang in LANGS:
    nbp, num = prefixes[lang]
    emit("        %s: (" % swift_string(lang))
    emit("            prefixes: [")
    for i in range(0, len(nbp), 10):
        emit("                " + ", ".join(swift_string(p) for p in nbp[i:i + 10]) + ",")
    emit("            ],")
    emit("            numericOnly: [" + ", ".join(swift_string(p) for p in num) + "]")
    emit("        ),")
emit("    ]")
emit("}")

with open(OUT + ".tmp", "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
import os

os.replace(OUT + ".tmp", OUT)
print("wrote %s (%d tables, prefixes for %s)" % (OUT, len(tables), ", ".join(LANGS)))
