#!/usr/bin/env python3
"""Reference metrics of ch. 7's responses file, computed by the reference implementations
(sacreBLEU, rouge-score, SQuAD v1.1's normalization), for `ift-gpu eval metrics`'s CLI test
(Tests/CLITests/EvalCLITests.swift holds these numbers).

Usage: pip install sacrebleu rouge-score
       python3 Tools/ch7-metric-summary.py ../shared/data/raschka-ch07/instruction-data-with-response.json
"""
import json, re, string, sys
from collections import Counter

import sacrebleu
from rouge_score import rouge_scorer

rows = json.load(open(sys.argv[1]))
hyp = [r["model_response"] for r in rows]
ref = [r["output"] for r in rows]


def norm(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1(p, g):
    p, g = norm(p).split(), norm(g).split()
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
scores = [scorer.score(r, h) for h, r in zip(hyp, ref)]
out = {
    "bleu": sacrebleu.corpus_bleu(hyp, [ref]).score,
    "chrf": sacrebleu.corpus_chrf(hyp, [ref]).score,
    "rouge1": 100 * sum(s["rouge1"].fmeasure for s in scores) / len(scores),
    "rouge2": 100 * sum(s["rouge2"].fmeasure for s in scores) / len(scores),
    "rougeL": 100 * sum(s["rougeL"].fmeasure for s in scores) / len(scores),
    "exact_match": 100 * sum(norm(h) == norm(r) for h, r in zip(hyp, ref)) / len(hyp),
    "f1": 100 * sum(f1(h, r) for h, r in zip(hyp, ref)) / len(hyp),
    "versions": {"sacrebleu": sacrebleu.__version__},
}
print(json.dumps(out, indent=1))
