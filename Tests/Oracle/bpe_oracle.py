"""subword-nmt BPE oracle for the data tests: learns codes with subword-nmt's own `learn_bpe`
and applies them with its `apply_bpe.BPE.process_line` (default options: separator "@@", all
merges, no glossaries, no vocabulary, no dropout) (`pip install subword-nmt`).

Usage: bpe_oracle.py WORKDIR MERGES LANG=TOKENIZED.txt [LANG=TOKENIZED.txt ...]
  The codes are learned jointly on all the given files (Moses-tokenized text, one sentence per
  line) and written to WORKDIR:
    codes.v02.txt           learn_bpe's output ("#version: 0.2" header)
    codes.v02-noheader.txt  the same without its header, which apply_bpe reads as version 0.1
    codes.v01.txt           version 0.1 codes: learn_bpe's algorithm with 0.1's word
                            representation (characters, then a separate "</w>"), no header;
                            subword-nmt no longer writes these, so its learn_bpe function is
                            rerun with that one line changed
    codes.v01-header.txt    codes.v01.txt with an explicit "#version: 0.1" header
  WORKDIR/result.json: {"codes": {name: path}, "segmented": {name: {LANG: [process_line(line)]}},
                        "removed": {LANG: [(seg + ' ').replace('@@ ', '').rstrip()] for codes.v02}}
  Written atomically.
"""
import inspect
import io
import json
import os
import sys
import textwrap

from subword_nmt import apply_bpe, learn_bpe


def learn_v01(text, merges):
    """learn_bpe.learn_bpe with version 0.1's representation of a word and no header."""
    source = textwrap.dedent(inspect.getsource(learn_bpe.learn_bpe))
    v02 = "vocab = dict([(tuple(x[:-1])+(x[-1]+'</w>',) ,y) for (x,y) in vocab.items()])"
    header = "outfile.write('#version: 0.2\\n')"
    assert v02 in source and header in source, "subword-nmt's learn_bpe changed"
    source = source.replace(v02, "vocab = dict([(tuple(x)+('</w>',) ,y) for (x,y) in vocab.items()])")
    source = source.replace(header, "pass")
    namespace = dict(vars(learn_bpe))
    exec(compile(source, "learn_bpe_v01", "exec"), namespace)
    out = io.StringIO()
    namespace["learn_bpe"](io.StringIO(text), out, merges)
    return out.getvalue()


def main():
    workdir, merges = sys.argv[1], int(sys.argv[2])
    inputs = {}
    for arg in sys.argv[3:]:
        lang, path = arg.split("=", 1)
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        inputs[lang] = lines
    joint = "".join(l + "\n" for lines in inputs.values() for l in lines)

    out = io.StringIO()
    learn_bpe.learn_bpe(io.StringIO(joint), out, merges)
    v02 = out.getvalue()
    assert v02.startswith("#version: 0.2\n")
    v01 = learn_v01(joint, merges)
    codes = {
        "v02": v02,
        "v02-noheader": v02[len("#version: 0.2\n"):],
        "v01": v01,
        "v01-header": "#version: 0.1\n" + v01,
    }
    paths, segmented = {}, {}
    for name, text in codes.items():
        path = os.path.join(workdir, "codes.%s.txt" % name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        paths[name] = path
        with open(path, encoding="utf-8") as f:
            bpe = apply_bpe.BPE(f)
        segmented[name] = {lang: [bpe.process_line(l) for l in lines] for lang, lines in inputs.items()}
    removed = {lang: [(s + " ").replace("@@ ", "").rstrip() for s in segs] for lang, segs in segmented["v02"].items()}
    result = {"codes": paths, "segmented": segmented, "removed": removed}
    output = os.path.join(workdir, "result.json")
    with open(output + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    os.replace(output + ".tmp", output)


if __name__ == "__main__":
    main()
