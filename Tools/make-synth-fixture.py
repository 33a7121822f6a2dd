#!/usr/bin/env python3
"""Writes Tests/IFTSynthTests/Fixtures/rouge-l-novelty.json for SynthFilterTests: ROUGE-L F1 of
instruction pairs by Google's `rouge-score` (RougeScorer(["rougeL"], use_stemmer=False), as
Self-Instruct's filter uses it), and the instructions Self-Instruct's novelty filter keeps from a
candidate list (kept when the ROUGE-L F1 with every pooled instruction, seeds and kept ones,
is at most 0.7). The instructions are Alpaca's seed tasks and perturbed copies of them.

    pip install rouge-score
    python3 Tools/make-synth-fixture.py ../shared/data/alpaca/seed_tasks.jsonl
"""
import json, random, sys
from importlib.metadata import version
from rouge_score import rouge_scorer

seeds = [json.loads(l)["instruction"] for l in open(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/alpaca/seed_tasks.jsonl")]
rng = random.Random(7)
scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def perturb(s):
    w = s.split()
    k = rng.randrange(4)
    if k == 0 and len(w) > 4:
        del w[rng.randrange(len(w))]
    elif k == 1 and len(w) > 4:
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
    elif k == 2:
        w = ["Please"] + w + ["now."]
    else:
        w = w[: max(3, len(w) * 2 // 3)] + ["and", "explain", "why."]
    return " ".join(w)


pairs = []
for i in range(60):
    a = seeds[i]
    b = seeds[rng.randrange(len(seeds))] if i % 3 == 0 else perturb(a)
    pairs.append({"a": a, "b": b, "f1": scorer.score(a, b)["rougeL"].fmeasure})

pool_seeds = seeds[:40]
candidates = [perturb(s) if i % 2 else s.replace("the", "a") for i, s in enumerate(seeds[20:80])]
candidates += seeds[120:150]
kept, pool = [], list(pool_seeds)
for i, c in enumerate(candidates):
    if max(scorer.score(p, c)["rougeL"].fmeasure for p in pool) <= 0.7:
        kept.append(i)
        pool.append(c)
json.dump({"versions": {"rouge-score": version("rouge-score")}, "threshold": 0.7, "pairs": pairs, "pool": pool_seeds,
           "candidates": candidates, "kept": kept},
          open("Tests/IFTSynthTests/Fixtures/rouge-l-novelty.json", "w"), indent=1, ensure_ascii=False)
print(len(pairs), "pairs;", len(kept), "of", len(candidates), "candidates kept")
