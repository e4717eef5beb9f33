"""sacreBLEU oracle for Tests/GenerateTests/ScoreTests.swift.

Usage: sacrebleu_oracle.py MANIFEST.json

MANIFEST is a JSON list of cases {"name", "hyp": path, "refs": [paths]}. Files are UTF-8, one
segment a line, split on "\n" only (a final newline adds no line, a trailing "\r" is dropped),
the way `hat score` reads them. For every case, prints (as one JSON object on stdout, keyed by
case name) sacreBLEU's corpus scores at full precision:

  bleu/<tok>/<cased|lc>     BLEU(tokenize=tok, lowercase=...) for tok in 13a, intl, none
  tokbleu/<cased|lc>        BLEU(tokenize='none', smooth_method='none'): "tokenized BLEU"
  chrf/<cased|lc>           CHRF() (chrF2, sacreBLEU defaults)
  chrfpp/<cased|lc>         CHRF(word_order=2) (chrF2++)
  chrfeps/<cased|lc>        CHRF(eps_smoothing=True)

each with score, signature and, for BLEU, counts, totals, precisions, bp, sys_len, ref_len;
plus "tokens": {"13a": [...], "intl": [...]}, the tokenizers' output for every hypothesis line
followed by every line of every reference file.
"""
import json
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International


def read_lines(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        text = f.read()
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def bleu_result(metric, hyps, refs):
    s = metric.corpus_score(hyps, refs)
    return {
        "score": s.score, "counts": list(s.counts), "totals": list(s.totals),
        "precisions": list(s.precisions), "bp": s.bp, "sys_len": s.sys_len, "ref_len": s.ref_len,
        "signature": str(metric.get_signature()),
    }


def chrf_result(metric, hyps, refs):
    s = metric.corpus_score(hyps, refs)
    return {"score": s.score, "signature": str(metric.get_signature())}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    tok13a, tokintl = Tokenizer13a(), TokenizerV14International()
    out = {"version": sacrebleu.__version__, "cases": {}}
    for case in cases:
        hyps = read_lines(case["hyp"])
        refs = [read_lines(p) for p in case["refs"]]
        result = {}
        for lc in (False, True):
            case_key = "lc" if lc else "cased"
            for tok in ("13a", "intl", "none"):
                result[f"bleu/{tok}/{case_key}"] = bleu_result(BLEU(tokenize=tok, lowercase=lc), hyps, refs)
            result[f"tokbleu/{case_key}"] = bleu_result(
                BLEU(tokenize="none", smooth_method="none", lowercase=lc, force=True), hyps, refs)
            result[f"chrf/{case_key}"] = chrf_result(CHRF(lowercase=lc), hyps, refs)
            result[f"chrfpp/{case_key}"] = chrf_result(CHRF(word_order=2, lowercase=lc), hyps, refs)
            result[f"chrfeps/{case_key}"] = chrf_result(CHRF(eps_smoothing=True, lowercase=lc), hyps, refs)
        all_lines = hyps + [line for stream in refs for line in stream]
        result["tokens"] = {"13a": [tok13a(x) for x in all_lines], "intl": [tokintl(x) for x in all_lines]}
        out["cases"][case["name"]] = result
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
