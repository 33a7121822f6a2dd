#!/usr/bin/env python3
"""Reference values for the Swift reference metrics (Sources/IFTEval/Metrics).

    pip install sacrebleu rouge-score scikit-learn     # rouge-score brings nltk
    python3 Tools/make-metric-fixture.py [RESPONSES_JSON] [OUT]

RESPONSES_JSON defaults to ../shared/data/raschka-ch07/instruction-data-with-response.json
(`model_response` is the hypothesis, `output` the reference); OUT defaults to
Tests/IFTEvalTests/Fixtures/metrics/metric-fixture.json. The pairs are those rows followed by
hand-made tricky pairs (punctuation, digits, HTML entities, accents, decomposed accents, CJK,
emoji, Greek final sigma, Unicode spaces, empty and identical strings, ...).

What the fixture holds (compact JSON):

    versions        python, sacrebleu, rouge-score, nltk, scikit-learn, unicodedata
    pairs           [{"hypothesis", "reference", "reference2" (null for every 5th row), "source"}]
    tokens_13a      per pair: sacreBLEU's 13a tokenization of hypothesis and reference
                    (after BLEU's rstrip), for clear failure messages
    bleu            sacrebleu.corpus_bleu(hyps, [refs]) (defaults: 13a, exp smoothing,
                    mixed case, order 4): score, precisions, bp, sys_len, ref_len, counts, totals
    bleu_pairs      the same for each pair alone (corpus_bleu([h], [[r]]))
    bleu_multi      corpus_bleu(hyps, [refs, refs2]) (refs2 has None rows: a variable count)
    chrf, chrf_multi  sacrebleu CHRF() defaults (char order 6, word order 0, beta 2,
                    whitespace removed) corpus score; chrf_pairs: each pair alone
    rouge, rouge_stemmed  RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False/True)
                    .score(reference, hypothesis): per-pair F1 lists and their means
    rouge_multi     score_multi([reference, reference2], hypothesis) F1 (use_stemmer=False)
    squad           official SQuAD v1.1 normalize_answer / exact_match / f1 (copied below),
                    per pair, and the means x100 as evaluate-v1.1.py reports them
    squad_multi     max over [reference, reference2] (metric_max_over_ground_truths)
    squad_normalized  normalize_answer of every hypothesis (debugging aid)
    classification  hand-made labels: normalized with `normalize_label` below, then
                    sklearn accuracy_score and f1_score(average="macro")
    stemmer         {word: nltk PorterStemmer().stem(word)} for every ROUGE token longer than
                    3 characters in the pairs and in instruction-data.json (beside the responses
                    file, when present), plus classic Porter test words
"""

import collections
import importlib.metadata
import json
import os
import re
import string
import sys
import unicodedata

import sacrebleu
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize
from sacrebleu.metrics import BLEU, CHRF
from sklearn.metrics import accuracy_score, f1_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_IN = os.path.join(ROOT, "..", "shared", "data", "raschka-ch07", "instruction-data-with-response.json")
DEFAULT_OUT = os.path.join(ROOT, "Tests", "IFTEvalTests", "Fixtures", "metrics", "metric-fixture.json")

# (hypothesis, reference, second reference or None, what it exercises)
HAND_MADE = [
    ("The quick brown fox jumps over the lazy dog.", "The quick brown fox jumps over the lazy dog.",
     "A quick brown fox jumped over a lazy dog.", "identical strings"),
    ("", "Something should have been said here.", "Nothing.", "empty hypothesis"),
    ("", "", None, "empty hypothesis and reference"),
    ("   \n\t ", "Only whitespace in the hypothesis.", None, "whitespace-only hypothesis"),
    ("Hello, world! (Really?) -- yes; \"quoted\" & <tag> {braces} [brackets] `tick` ~tilde^ |pipe| @at #hash $5 %pct *star +plus =eq _under_",
     "Hello world, really? Yes: 'quoted' and tag braces brackets tick tilde pipe at hash 5 pct star plus eq under.",
     None, "ASCII punctuation"),
    ("It costs $1,234.56 on 2023-01-05, not 3.14 or 1,000. Items 3-4, e.g. a.b.c and x,y.",
     "The price is 1,234.56 dollars as of 2023-01-05; see items 3 - 4.", "It costs 1234.56 dollars.",
     "digits with separators, dashes after digits"),
    ("v1.2.3 at 10.5% and 1.000,5 or .5 and 5. then ,7 ...", "version 1.2.3 at 10.5 % and 1.000,5", None,
     "periods and commas next to digits"),
    ("Tom &amp; Jerry &quot;live&quot; &lt;here&gt; &amp;lt; <skipped> word-\nbreak\nnext",
     "Tom & Jerry \"live\" <here> &lt; wordbreak next", None, "13a entities, <skipped>, hyphen-newline"),
    ("Café naïve résumé — à la carte; Ünïcödé ÀÉÎÕÜ", "Cafe\u0301 naive resume - a la carte; Unicode AEIOU",
     "Café naïve résumé à la carte", "precomposed vs decomposed accents, em dash"),
    ("我喜欢学习机器学习。东京是日本的首都。", "我爱机器学习。", "我喜欢机器学习", "CJK without spaces"),
    ("東京は日本の首都です", "東京は日本の首都です", None, "identical CJK"),
    ("I ❤️ my 👨\u200d👩\u200d👧 family 🎉🎉", "I love my 👨\u200d👩\u200d👧 family 🎉", None,
     "emoji, ZWJ sequences (graphemes vs code points)"),
    ("a", "b", None, "single different letters"),
    ("A", "a", "A", "single letter, case"),
    ("Yes.", "yes", None, "short answer with period"),
    ("The  cat\n\n sat \t on   the mat.\n", "The cat sat on the mat.", None, "multiple spaces, tabs, newlines"),
    ("word\u00a0word\u3000word\u2009end\u2028line\x1cfs", "word word word end line fs", None,
     "Unicode whitespace (NBSP, ideographic space, thin space, LS, FS)"),
    ("The Eiffel Tower, an iron lattice tower!", "eiffel tower iron lattice tower", "Eiffel Tower",
     "SQuAD articles and punctuation"),
    ("a an the", "The", None, "only articles: both normalize to empty"),
    ("don't snake_case it's O'Neil's", "do not snake case it is O'Neil", None, "apostrophes and underscores"),
    ("İstanbul 5 K (Kelvin) ﬁne Straße", "istanbul 5 k kelvin fine strasse", None,
     "non-ASCII letters whose lowercase is ASCII (İ, Kelvin sign), ligature, sharp s"),
    ("ΟΔΟΣ ΣΟΦΟΣ Σ ΑΣ.", "οδος σοφος σ ας.", None, "Greek final sigma when lowercasing"),
    ("the the the the the the the", "the cat is on the mat", "there is a cat on the mat", "clipped repeated words"),
    ("The runners were running quickly through the happiness of generalizations",
     "A runner runs quick, happily generalizing the relational conditioning", None, "stemming-sensitive words"),
    ("Ends with spaces.   \n", "Ends with spaces.", None, "trailing whitespace (BLEU rstrip)"),
    ("the\u0301 an\u0308 a\u0300 word", "word", None, "combining marks after articles (regex \\b)"),
    ("!!!...,,,??? ---", "...", None, "punctuation only"),
    ("state-of-the-art 2-3 well—known − minus", "state of the art 2 - 3 well known minus", None, "dashes"),
    ("Hg.", "Hg", None, "chemical symbol"),
    ("猫", "猫", None, "single CJK character"),
    ("Café", "Cafe\u0301", None, "canonically equivalent, different code points (not equal in Python)"),
    ("مرحبا بالعالم", "مرحبا بالعالم!", None, "Arabic"),
]

# Class labels: (prediction, reference). Normalized with `normalize_label` before scoring.
CLASSIFICATION = [
    ("Positive", "positive"), ("negative.", "Negative"), (" NEUTRAL ", "neutral"), ("positive", "negative"),
    ("Positive!", "positive"), ("mixed", "neutral"), ("negative", "negative"), ("(A)", "A"), ("B", "a"),
    ("a.", "A"), ("c", "C"), ("d", "b"), ("Opinion-based.", "opinion-based"), ("factual", "opinion-based"),
    ("Factual", "factual"), ("spam", "not  spam"), ("not spam", "Not Spam."), ("spam", "spam"),
    ("neutral", "positive"), ("positive", "positive"), ("sarcastic", "negative"), ("", "neutral"),
    ("Neutral", "neutral"), ("Question", "exclamation"), ("exclamation", "Exclamation."),
    ("négatif", "negatif"), ("Négatif", "négatif"), ("positive", "neutral"),
    ("ne\u0301gatif", "négatif"),
]

CLASSIC_PORTER = """caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated
troubled sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional
rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli
vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti
sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness
revival allowance inference airliner gyroscopic adjustable defensible irritant replacement
adjustment dependent adoption homologou communism activate angulariti homologous effective
bowdlerize probate rate cease controll roll dying lying tying skies news innings outing cannings
howe proceed exceed succeed generously fully analogi archaeology tied cried spied generalizations
happiness runners running quickly syllogi fulli hopefulli dies lies ties agreed disagreed abated
abatement abbreviations ability abilities abnormally yearly yelling yellow toying saying played
flying crying trying buying enjoying annoying boys days keys eyes bye yes yyyy ayes ivy
abysmal zzzzing hisses busses bussed fizz buzzing agreement measured generous generalization
bys spys flys ys ied dies died eed ing ling sing bling fling ates bles izes hoping hopping""".split()


def normalize_answer(s):
    """SQuAD v1.1 evaluate-v1.1.py: lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score_squad(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def normalize_label(s):
    """Class labels: lowercase, whitespace runs to one space, punctuation and spaces stripped at both ends."""
    return ' '.join(s.lower().split()).strip(string.punctuation + ' ')


def bleu_dict(b):
    return {"score": b.score, "precisions": list(b.precisions), "bp": b.bp, "sys_len": int(b.sys_len),
            "ref_len": int(b.ref_len), "counts": [int(c) for c in b.counts], "totals": [int(t) for t in b.totals]}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_IN
    out = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    with open(src, encoding="utf-8") as f:
        rows = json.load(f)
    pairs = []
    for i, row in enumerate(rows):
        ref = row["output"]
        # A second reference for the multi-reference checks: every third word dropped, and
        # none for every fifth row (sacreBLEU's variable reference count).
        words = ref.split()
        ref2 = None if i % 5 == 0 else " ".join(w for j, w in enumerate(words) if j % 3 != 2)
        pairs.append({"hypothesis": row["model_response"], "reference": ref, "reference2": ref2,
                      "source": f"{os.path.basename(src)} row {i}"})
    for h, r, r2, what in HAND_MADE:
        pairs.append({"hypothesis": h, "reference": r, "reference2": r2, "source": "hand-made: " + what})
    hyps = [p["hypothesis"] for p in pairs]
    refs = [p["reference"] for p in pairs]
    refs2 = [p["reference2"] for p in pairs]

    bleu_metric = BLEU()
    tokens = [{"hypothesis": bleu_metric._preprocess_segment(p["hypothesis"]).split(),
               "reference": bleu_metric._preprocess_segment(p["reference"]).split()} for p in pairs]
    bleu = sacrebleu.corpus_bleu(hyps, [refs])
    assert bleu.score == BLEU().corpus_score(hyps, [refs]).score
    bleu_pairs = [bleu_dict(sacrebleu.corpus_bleu([h], [[r]])) for h, r in zip(hyps, refs)]
    bleu_multi = sacrebleu.corpus_bleu(hyps, [refs, refs2])

    chrf = CHRF().corpus_score(hyps, [refs])
    chrf_multi = CHRF().corpus_score(hyps, [refs, refs2])
    chrf_pairs = [CHRF().corpus_score([h], [[r]]).score for h, r in zip(hyps, refs)]

    types = ["rouge1", "rouge2", "rougeL"]

    def rouge(stem, multi=False):
        scorer = rouge_scorer.RougeScorer(types, use_stemmer=stem)
        per = {t: [] for t in types}
        for p in pairs:
            if multi:
                targets = [p["reference"]] + ([p["reference2"]] if p["reference2"] is not None else [])
                s = scorer.score_multi(targets, p["hypothesis"])
            else:
                s = scorer.score(p["reference"], p["hypothesis"])
            for t in types:
                per[t].append(s[t].fmeasure)
        return {"f1": per, "mean_f1": {t: sum(v) / len(v) for t, v in per.items()}}

    em = [1.0 if exact_match_score(h, r) else 0.0 for h, r in zip(hyps, refs)]
    f1 = [float(f1_score_squad(h, r)) for h, r in zip(hyps, refs)]
    gts = [[p["reference"]] + ([p["reference2"]] if p["reference2"] is not None else []) for p in pairs]
    em_multi = [1.0 if metric_max_over_ground_truths(exact_match_score, h, g) else 0.0 for h, g in zip(hyps, gts)]
    f1_multi = [float(metric_max_over_ground_truths(f1_score_squad, h, g)) for h, g in zip(hyps, gts)]

    cls_pred = [normalize_label(p) for p, _ in CLASSIFICATION]
    cls_ref = [normalize_label(r) for _, r in CLASSIFICATION]
    classification = {
        "hypotheses": [p for p, _ in CLASSIFICATION], "references": [r for _, r in CLASSIFICATION],
        "normalized_hypotheses": cls_pred, "normalized_references": cls_ref,
        "labels": sorted(set(cls_pred) | set(cls_ref)),
        "accuracy": float(accuracy_score(cls_ref, cls_pred)),
        "macro_f1": float(f1_score(cls_ref, cls_pred, average="macro", zero_division=0)),
    }

    stemmer = porter.PorterStemmer()
    words = set(CLASSIC_PORTER)
    # More words for the stemmer: the instructions, inputs and outputs of instruction-data.json
    # beside the responses file (the chapter 7 training data), when it is there.
    texts = hyps + refs
    more = os.path.join(os.path.dirname(src), "instruction-data.json")
    if os.path.exists(more):
        with open(more, encoding="utf-8") as f:
            texts += [r[k] for r in json.load(f) for k in ("instruction", "input", "output")]
    for text in texts:
        words.update(t for t in tokenize.tokenize(text, None) if len(t) > 3)
    stems = {w: stemmer.stem(w) for w in sorted(words)}

    versions = {"python": sys.version.split()[0], "unicodedata": unicodedata.unidata_version}
    for pkg in ["sacrebleu", "rouge-score", "nltk", "scikit-learn"]:
        versions[pkg] = importlib.metadata.version(pkg)

    fixture = {
        "versions": versions,
        "pairs": pairs,
        "tokens_13a": tokens,
        "bleu": bleu_dict(bleu),
        "bleu_pairs": bleu_pairs,
        "bleu_multi": bleu_dict(bleu_multi),
        "chrf": chrf.score,
        "chrf_multi": chrf_multi.score,
        "chrf_pairs": chrf_pairs,
        "rouge": rouge(False),
        "rouge_stemmed": rouge(True),
        "rouge_multi": rouge(False, multi=True),
        "squad": {"exact_match": em, "f1": f1, "mean_exact_match": 100.0 * sum(em) / len(em),
                  "mean_f1": 100.0 * sum(f1) / len(f1)},
        "squad_multi": {"exact_match": em_multi, "f1": f1_multi,
                        "mean_exact_match": 100.0 * sum(em_multi) / len(em_multi),
                        "mean_f1": 100.0 * sum(f1_multi) / len(f1_multi)},
        "squad_normalized": [normalize_answer(h) for h in hyps],
        "classification": classification,
        "stemmer": stems,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{out}: {len(pairs)} pairs, {os.path.getsize(out)} bytes; BLEU {bleu.score:.4f}, chrF {chrf.score:.4f}, "
          f"ROUGE-L {fixture['rouge']['mean_f1']['rougeL']:.4f}, EM {fixture['squad']['mean_exact_match']:.2f}, "
          f"F1 {fixture['squad']['mean_f1']:.2f}, macro-F1 {classification['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
