"""The Python side of benchmarks/text_pipeline.sh: sacremoses' tokenizer (HAT's options:
aggressive dash splits, escaping) and subword-nmt's apply_bpe (default options), one thread,
on the same lines as `HATBenchmarks text-pipeline`. Prints JSON lines like it.

  text_pipeline_python.py learn CODES MERGES FILE...   joint codes with subword-nmt's learn_bpe on
                                                        sacremoses' tokenization of the FILEs (untimed)
  text_pipeline_python.py LANG CODES FILE               time tokenize, detokenize, bpe, tokenize+bpe (best of three runs each)
"""
import gzip
import io
import json
import sys
import time

from sacremoses import MosesDetokenizer, MosesTokenizer
from subword_nmt import apply_bpe, learn_bpe


def read_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def lang_of(path):
    return path.rsplit(".", 2)[-2] if path.endswith(".gz") else path.rsplit(".", 1)[-1]


def main():
    if sys.argv[1] == "learn":
        codes, merges = sys.argv[2], int(sys.argv[3])
        text = io.StringIO()
        for path in sys.argv[4:]:
            tok = MosesTokenizer(lang=lang_of(path))
            for l in read_lines(path):
                text.write(tok.tokenize(l, aggressive_dash_splits=True, escape=True, return_str=True) + "\n")
        text.seek(0)
        with open(codes, "w", encoding="utf-8") as out:
            learn_bpe.learn_bpe(text, out, merges)
        return
    lang, codes, path = sys.argv[1:4]
    lines = read_lines(path)
    tok = MosesTokenizer(lang=lang)

    def emit(stage, seconds, extra=None):
        row = {"bench": "text_pipeline", "impl": "python", "lang": lang, "stage": stage, "lines": len(lines),
               "seconds": seconds, "lines_per_s": len(lines) / seconds}
        print(json.dumps(row, sort_keys=True), flush=True)

    def new_bpe():
        with open(codes, encoding="utf-8") as f:
            return apply_bpe.BPE(f)

    def best(stage, body, setup=lambda: None, runs=3):
        # Best of three, as on the Swift side: the machine is shared, contention only adds time.
        times = []
        for _ in range(runs):
            state = setup()
            start = time.perf_counter()
            result = body(state)
            times.append(time.perf_counter() - start)
        emit(stage, min(times))
        return result

    tokenized = best("tokenize", lambda _: [tok.tokenize(l, aggressive_dash_splits=True, escape=True, return_str=True) for l in lines])
    detok = MosesDetokenizer(lang=lang)
    detokenized = best("detokenize", lambda _: [detok.detokenize(t.split()) for t in tokenized])
    start = time.perf_counter()
    bpe = new_bpe()
    seconds = time.perf_counter() - start
    print(json.dumps({"bench": "text_pipeline_codes", "impl": "python", "lang": lang, "merges": len(bpe.bpe_codes),
                      "seconds": seconds}, sort_keys=True))
    # Each run starts from freshly read codes (an empty word cache), read outside the timing.
    best("bpe", lambda bpe: [bpe.process_line(l) for l in tokenized], setup=new_bpe)
    out = best("tokenize+bpe", lambda bpe: [bpe.process_line(tok.tokenize(l, aggressive_dash_splits=True, escape=True, return_str=True))
                                            for l in lines], setup=new_bpe)
    print(json.dumps({"bench": "text_pipeline_output", "impl": "python", "lang": lang,
                      "bpe_output_bytes": sum(len(o.encode("utf-8")) for o in out),
                      "detokenized_bytes": sum(len(d.encode("utf-8")) for d in detokenized)}, sort_keys=True))


if __name__ == "__main__":
    main()
