"""HAT's tokenized, compound-split BLEU in Python, for HATBLEU: fairseq's compound_split_bleu.sh
regex (as Python's re.sub, which like Perl's s///g takes non-overlapping matches left to right),
then sacreBLEU on the already tokenized text (tokenize='none', no smoothing, as fairseq-score).

Usage: hat_bleu_oracle.py IN.json  ->  prints {"split": [...], "bleu": [score per case]}
IN.json: {"lines": [str], "cases": [{"hyp": [str], "ref": [str]}]}
"""
import json, re, sys

import sacrebleu

request = json.load(open(sys.argv[1]))
split = lambda s: re.sub(r"(\S)-(\S)", r"\1 ##AT##-##AT## \2", s)
scores = []
for case in request["cases"]:
    bleu = sacrebleu.corpus_bleu([split(h) for h in case["hyp"]], [[split(r) for r in case["ref"]]],
                                 tokenize="none", smooth_method="none", force=True)
    scores.append(bleu.score)
print(json.dumps({"split": [split(l) for l in request["lines"]], "bleu": scores}))
