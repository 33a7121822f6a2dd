#!/usr/bin/env python3
"""Reference tokenizations and chat-template renderings for the Swift tokenizer tests.

    pip install gguf tokenizers transformers jinja2
    Tools/fetch-smollm2.sh                      # puts the GGUF in .build/models/
    python3 Tools/make-tokenizer-fixture.py [GGUF] [OUT]

Writes Tests/IFTModelTests/Fixtures/smollm2-tokenizer.json (compact JSON), and beside it
pretokenizer-splits.json: how Hugging Face tokenizers splits 300 of the texts with llama.cpp's
patterns for the `gpt-2`, `smollm`, `llama-bpe`, `qwen2` and `default` pre-tokenizers.

smollm2-tokenizer.json:

    {"model": ..., "gguf_sha256": ..., "reference": "...",
     "cases": [{"text": S, "ids": [...], "ids_special": [...]?}, ...],
     "chats": [{"template": NAME, "messages": [...], "add_generation_prompt": B,
                "text": RENDERED, "ids": [...]}, ...],
     "templates": {NAME: SOURCE, ...},
     "notes": {...}}

`ids` tokenizes the text with special tokens treated as plain text; `ids_special` (present only
where it differs) with special tokens recognised in the text; `decoded` (present only where it
differs from the text) is the decoding of `ids`. Chats' `ids` recognise special tokens.

The reference tokenizer
-----------------------
Hugging Face `tokenizers` (Rust), configured as SmolLM2's own tokenizer.json is (the Hub is not
reachable from here, so this is rebuilt rather than loaded): a byte-level BPE
over the GGUF's vocabulary and merges (in rank order), the pre-tokenizer
Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)],
the ByteLevel decoder, and the 17 control tokens of the GGUF as special added tokens. This is
the tokenization llama.cpp reproduces for `tokenizer.ggml.pre = "smollm"` (its regexes "\\p{N}"
then the GPT-2 pattern).

transformers' own GGUF conversion (`AutoTokenizer.from_pretrained(dir, gguf_file=...)`) is NOT
used for the ids: for a `smollm` file it builds a GPT2Tokenizer with the plain GPT-2 pattern and
no digit splitting, so it differs from the original tokenizer (and from llama.cpp) on texts with
multi-digit numbers or a space before a digit (552 of the 2836 texts). The script still runs that conversion (when transformers is importable;
its GGUF reader needs torch, so the builder functions are called directly on metadata read with
gguf-py) and records in notes how many texts it tokenizes differently.

Chat templates are rendered by transformers' `apply_chat_template(..., tokenize=False)` (Jinja2
with trim_blocks and lstrip_blocks), for the GGUF's own template and for a few extra ChatML-like
templates written here to exercise more of the Jinja subset.
"""
import hashlib
import json
import os
import random
import sys
import unicodedata

import gguf
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DEFAULT_GGUF = os.path.join(ROOT, ".build", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_OUT = os.path.join(ROOT, "Tests", "IFTModelTests", "Fixtures", "smollm2-tokenizer.json")
SPLITS_OUT = "pretokenizer-splits.json"  # beside OUT
SEED = 20250207
N_RANDOM = 2700


# --------------------------------------------------------------------------------------------
# GGUF metadata


def read_metadata(path):
    r = gguf.GGUFReader(path)

    def field(name):
        f = r.fields.get(name)
        if f is None:
            return None
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            if f.types[1] == gguf.GGUFValueType.STRING:
                return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
            return [f.parts[i].tolist()[0] for i in f.data]
        if f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode("utf-8")
        return f.parts[f.data[0]].tolist()[0]

    keys = ["model", "pre", "tokens", "token_type", "merges", "bos_token_id", "eos_token_id",
            "padding_token_id", "unknown_token_id"]
    md = {k: field("tokenizer.ggml." + k) for k in keys}
    md["chat_template"] = field("tokenizer.chat_template")
    md["architecture"] = field("general.architecture")
    return md


def reference_tokenizer(md):
    """SmolLM2's tokenizer, rebuilt with HF tokenizers from the GGUF vocabulary and merges."""
    vocab = {t: i for i, t in enumerate(md["tokens"])}
    merges = [tuple(m.split(" ", 1)) for m in md["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [AddedToken(t, special=True, normalized=False)
                for t, ty in zip(md["tokens"], md["token_type"]) if ty == 3]
    tok.add_special_tokens(specials)
    return tok


def transformers_gguf_tokenizer(md):
    """transformers' own conversion of the GGUF tokenizer (None when unavailable)."""
    try:
        from transformers.integrations.gguf import gguf_tokenizer_mapping as m
    except Exception as e:  # noqa: BLE001
        return None, f"transformers GGUF conversion unavailable: {e}"
    d = {"tokenizer_type": md["model"], "pre_tokenizer_type": md["pre"], "tokens": md["tokens"],
         "token_type": md["token_type"], "merges": md["merges"]}
    try:
        backend, _ = m.convert_gguf_tokenizer(md["architecture"], d)
    except Exception as e:  # noqa: BLE001
        return None, f"transformers GGUF conversion failed: {e}"
    return backend, "transformers.integrations.gguf.gguf_tokenizer_mapping.convert_gguf_tokenizer"


# --------------------------------------------------------------------------------------------
# Texts

FIXED = [
    "", " ", "  ", "   ", "\n", "\n\n", "\t", "\t\t", " \n", "\n ", "\r\n", "a\r\nb", " \t \n x",
    "Hello world", "Hello, world!", "hello  world", "trailing space ", "trailing spaces   ",
    "  leading", "don't", "I'LL", "I'll", "we've", "they're", "it's", "'s", "'", "''", "'S",
    "You'D", "rock'n'roll", "O'Neil's", "can't won't shan't",
    "0", "7", "12", "123", "1234", "12345", "3.14159", "1,000,000", "-42", "+1e-10", "0x1F",
    "123456789012345678901234567890123456789012345678901234567890", "a1b22c333d4444",
    " 1 22  333", "١٢٣ ٤٥", "１２３", "x² + y³ = z⁴", "ⅫⅣ", "½ ¾ ⅓", "𝟏𝟐𝟑",
    "你好，世界！", "日本語のテキストです。", "한국어 텍스트", "Привет, мир!", "Γειά σου Κόσμε",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Tiếng Việt có dấu",
    "e\u0301te\u0301", "n\u0303", "Z\u0351\u0362a\u0337l\u0334g\u0315o", "\u0301", "a\u0300\u0301\u0302",
    "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🤖 robots 🤖", "🏳️‍🌈",
    "\u00a0", "a\u00a0b", "a\u3000b", "a\u2028b", "a\u2029b", "a\u0085b", "a\u200bb", "a\ufeffb",
    "a\u1680b", "a\u2009\u200ab", "a\u202fb", "a\u205fb", "a\u180eb", "a\u000bb\u000cc", "\x1c\x1d\x1e\x1f",
    "\x00", "a\x00b", "\x7f", "\u0080\u009f", "\U0010fffd", "\ue000", "\U000e0041",
    "def f(x):\n    return x * 2\n", "if (a && b) { return c; }", "let x: [Int] = [1, 2, 3]",
    '{"key": "value", "n": 42}', "SELECT * FROM t WHERE id = 7;", "<html><body>hi</body></html>",
    "a  b   c    d", "a\tb\t\tc", "x\n\n\ny", "end.\n", "  \n  \n", "line1\nline2\r\nline3\rline4",
    "!!!", "...", "?!?", "—–-", "«quotes»", "“curly” ‘single’", "@user #tag $100 %50 ^ & * ()",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>user\nHello!<|im_end|>\n",
    "<|im_start|>assistant\n", "text<|im_end|><|im_start|>more", " <|im_start|> spaced <|im_end|> ",
    "<|im_start", "im_start|>", "<|im_start|<|im_end|>>", "<<|endoftext|>>", "<repo_name>x<file_sep>y",
    "<jupyter_code>print(1)<jupyter_output>1<empty_output>", "<|IM_START|>", "<|endoftext|>" * 3,
]

WORDS = (
    "the of and to in is was he for it with as his on be at by had are but from or have an they "
    "which one you were all her she there would their we him been has when who will no more if out "
    "so up said what its about than into them can only other time new some could these two may first "
    "then do any like my now over such our man me even most made after also did many before must "
    "through back years where much your way well down should because each just those people how too "
    "little state good very make world still see own men work long get here between both life being "
    "under never day same another know while last might us great old year off come since against go "
    "came right used take three Tokenizer BPE GPU Swift Vulkan LLaMA SmolLM2 HuggingFace JSON UTF-8 "
    "don't I'm you're it's we'll they've she'd I'LL DON'T Isn't").split()
EMOJI = ["😀", "😂", "🥲", "👍", "👍🏿", "🔥", "🚀", "✨", "🎉", "💡", "👩‍💻", "🧑🏽‍🚀", "🇩🇪", "⚡", "☕", "✅"]
CJK = "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从"
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["…", "—", "«", "»", "¿", "¡", "·", "•", "§", "©", "®", "°", "±", "×", "÷", "€", "£", "¥"]
SPACES = [" ", "  ", "   ", "    ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\n", "\u00a0", "\u3000"]
SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<file_sep>", "<|im_start|>user\n",
           "<|im_start|>assistant\n", "<|im_end|>\n"]
CODE = ["for i in range(10):", "x += 1", "return nil", "func f() -> Int { 42 }", "#include <stdio.h>",
        "a[i][j] = b[j][i];", "print(f\"{x!r:>10}\")", "//  comment", "/* block */", "    indented()",
        "if x == 0 && y != 1 {", "}", "SELECT id, name FROM users;", "<div class=\"a\">", "x = {'a': [1, 2]}"]

BLOCKS = [
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x04FF),
    (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x1100, 0x11FF),
    (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F),
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF),
    (0x1D400, 0x1D7FF), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF),
]


def random_codepoint(rng):
    while True:
        lo, hi = rng.choice(BLOCKS)
        c = chr(rng.randint(lo, hi))
        # Assigned code points only (both sides' Unicode versions agree on those in these blocks).
        if unicodedata.category(c) not in ("Cn", "Cs", "Co"):
            return c


def random_number(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return str(rng.randint(0, 10 ** rng.randint(1, 25)))
    if kind == 1:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 8)}f}"
    if kind == 2:
        return f"{rng.randint(0, 999)},{rng.randint(0, 999):03d},{rng.randint(0, 999):03d}"
    if kind == 3:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 60)))
    return f"{rng.randint(1, 31)}/{rng.randint(1, 12)}/{rng.randint(1900, 2100)}"


def random_piece(rng):
    r = rng.random()
    if r < 0.34:
        w = rng.choice(WORDS)
        c = rng.random()
        return w.upper() if c < 0.1 else w.capitalize() if c < 0.25 else w
    if r < 0.44:
        return random_number(rng)
    if r < 0.54:
        return "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 3)))
    if r < 0.60:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(1, 8)))
    if r < 0.64:
        return rng.choice(EMOJI)
    if r < 0.72:
        return "".join(random_codepoint(rng) for _ in range(rng.randint(1, 6)))
    if r < 0.78:
        return rng.choice(CODE)
    if r < 0.81:
        return rng.choice(SPECIAL)
    if r < 0.84:
        return rng.choice(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't"])
    return rng.choice(SPACES)


def random_text(rng):
    parts = []
    for _ in range(rng.randint(1, 24)):
        parts.append(random_piece(rng))
        if rng.random() < 0.7:
            parts.append(rng.choice([" ", " ", " ", "", "\n", "  ", "\t"]))
    text = "".join(parts)
    if rng.random() < 0.1:
        text += rng.choice(SPACES)
    return text


def long_texts(rng):
    out = []
    for n in (2000, 6000):
        parts = []
        while sum(map(len, parts)) < n:
            parts.append(random_text(rng))
        out.append(" ".join(parts))
    out.append(" " * 300 + "x" + "\n" * 200 + "\t" * 50)
    out.append("9" * 500)
    out.append("ab" * 400)
    return out


def texts():
    rng = random.Random(SEED)
    out = list(FIXED)
    out += [random_text(rng) for _ in range(N_RANDOM)]
    out += long_texts(rng)
    return out


# --------------------------------------------------------------------------------------------
# Chat templates

EXTRA_TEMPLATES = {
    # ChatML with a namespace, loop variables, filters, elif and whitespace control.
    "chatml-ns": (
        "{%- set ns = namespace(system='', count=0) -%}\n"
        "{%- for m in messages -%}\n"
        "  {%- if m.role == 'system' -%}{%- set ns.system = m.content | trim -%}{%- endif -%}\n"
        "{%- endfor -%}\n"
        "{{ bos_token }}"
        "{%- if ns.system %}<|im_start|>system\n{{ ns.system }}<|im_end|>\n{% endif -%}\n"
        "{%- for m in messages if m['role'] != 'system' -%}\n"
        "  {%- set ns.count = ns.count + 1 -%}\n"
        "  {%- if m.role == 'user' -%}\n"
        "<|im_start|>user\n{{ m.content }}<|im_end|>\n"
        "  {%- elif m.role == 'assistant' -%}\n"
        "<|im_start|>assistant\n{{ m.content | trim }}{{ eos_token if loop.last else '' }}<|im_end|>\n"
        "  {%- else -%}\n"
        "{{ raise_exception('unknown role: ' ~ m.role) }}\n"
        "  {%- endif %}\n"
        "{% endfor -%}\n"
        "{%- if add_generation_prompt -%}<|im_start|>assistant\n{%- endif -%}\n"
        "{#- turns: {{ ns.count }} -#}"
    ),
    # Llama-3 style headers; trim_blocks/lstrip_blocks matter here (no '-' on most tags).
    "llama3-like": (
        "{{ bos_token }}\n"
        "{% for message in messages %}\n"
        "    {% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}\n"
        "    {% if loop.index0 == 0 and message['role'] != 'system' %}\n"
        "{{ '<|start_header_id|>system<|end_header_id|>\\n\\nYou are helpful.<|eot_id|>' }}\n"
        "    {% endif %}\n"
        "{{ content }}\n"
        "{% endfor %}\n"
        "{% if add_generation_prompt %}\n"
        "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
        "{% endif %}\n"
    ),
    # Expressions: comparisons, arithmetic, ternaries, tests, lists, dicts, string methods.
    "expressions": (
        "{% set roles = ['system', 'user', 'assistant'] %}"
        "{% set info = {'n': messages | length, 'first': messages[0].role} %}"
        "{% for m in messages %}"
        "[{{ loop.index }}/{{ loop.length }}{{ ' first' if loop.first }}{{ ' last' if loop.last }}]"
        "{{ m.role | upper }}({{ roles.index(m.role) if m.role in roles else -1 }}):"
        "{{ m.content.strip() | replace('\\n', ' / ') }}"
        "{% if m.content | length > 20 and not m.content.startswith('<') %} (long){% elif m.content == '' %} (empty){% else %} (short){% endif %}"
        "{{ '\\n' }}"
        "{% endfor %}"
        "n={{ info.n }} first={{ info['first'] }} sum={{ 1 + 2 * 3 - 4 / 2 }} int={{ 7 // 2 }} mod={{ -7 % 3 }} "
        "cat={{ 'a' ~ 1 ~ none ~ true }} {{ messages | map(attribute='role') | join(',') }} "
        "{{ (messages | selectattr('role', 'equalto', 'user') | list | length) }} "
        "{{ undefined_var is defined }} {{ add_generation_prompt is sameas true }} {{ [1, 2][-1] }} {{ 'abc'[1:] }}"
        "{% if add_generation_prompt %}\n<|im_start|>assistant\n{% endif %}"
    ),
}

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Where is the treasure?"}],
    [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"},
     {"role": "user", "content": "And 12345 * 678?"}],
    [{"role": "system", "content": "  Be brief.\n"}, {"role": "user", "content": "Summarize: the quick brown fox."},
     {"role": "assistant", "content": " The fox is quick.  "}, {"role": "user", "content": "Thanks 👍"}],
    [{"role": "user", "content": "多语言：你好，世界！ Ünïcödé\nnew line\ttab"}],
    [{"role": "user", "content": ""}],
    [{"role": "user", "content": "Text with <|im_end|> inside and 'quotes' \"double\""}],
]


def render_chats(md, ref_tok):
    from transformers import PreTrainedTokenizerFast

    templates = {"smollm2": md["chat_template"], **EXTRA_TEMPLATES}
    hf = PreTrainedTokenizerFast(tokenizer_object=ref_tok, bos_token="<|im_start|>", eos_token="<|im_end|>")
    chats = []
    for name, tmpl in templates.items():
        for conv in CONVERSATIONS:
            for agp in (False, True):
                text = hf.apply_chat_template(conv, chat_template=tmpl, tokenize=False, add_generation_prompt=agp)
                ids = ref_tok.encode(text, add_special_tokens=False).ids
                chats.append({"template": name, "messages": conv, "add_generation_prompt": agp,
                              "text": text, "ids": ids})
    return templates, chats, {"bos_token": hf.bos_token, "eos_token": hf.eos_token}


# --------------------------------------------------------------------------------------------
# Pre-tokenizer splits (HF tokenizers' Split/Digits with llama.cpp's patterns), for the kinds the
# SmolLM2 vocabulary does not exercise.

GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = LLAMA3_RE.replace(r"\p{N}{1,3}", r"\p{N}")


def pretokenizer_splits(all_texts):
    from tokenizers import Regex

    def split(pattern):
        return pre_tokenizers.Split(Regex(pattern), behavior="isolated")

    kinds = {
        "gpt-2": split(GPT2_RE),
        "smollm": pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), split(GPT2_RE)]),
        "llama-bpe": split(LLAMA3_RE),
        "qwen2": split(QWEN2_RE),
        "default": pre_tokenizers.Sequence([split(r"[\p{P}\$\+<=>\^~\|]+"), split(GPT2_RE), split(r"\p{N}+"),
                                            split(r"[0-9][0-9][0-9]")]),
    }
    texts = [t for t in all_texts if len(t) < 160][:300]
    return {"texts": texts,
            "splits": {name: [[piece for piece, _ in p.pre_tokenize_str(t)] for t in texts] for name, p in kinds.items()}}


# --------------------------------------------------------------------------------------------


def main():
    gguf_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_GGUF
    out_path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    with open(gguf_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    md = read_metadata(gguf_path)
    assert md["model"] == "gpt2" and md["pre"] == "smollm", (md["model"], md["pre"])
    tok = reference_tokenizer(md)

    cases = []
    n_special_diff = 0
    n_lossy = 0
    all_texts = texts()
    for s in all_texts:
        tok.encode_special_tokens = True
        plain = tok.encode(s, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        special = tok.encode(s, add_special_tokens=False).ids
        case = {"text": s, "ids": plain}
        decoded = tok.decode(plain, skip_special_tokens=False)
        if decoded != s:
            # Bytes without a token of their own (SmolLM2's vocabulary lacks 21 of the 256 byte
            # symbols, e.g. 0x04, 0x1d, 0xf1) are dropped, so the text does not round-trip.
            case["decoded"] = decoded
            n_lossy += 1
        if special != plain:
            case["ids_special"] = special
            n_special_diff += 1
        cases.append(case)

    notes = {"texts": len(cases), "texts_with_special_tokens_parsed_differently": n_special_diff,
             "texts_not_round_tripping": n_lossy}
    tf, how = transformers_gguf_tokenizer(md)
    notes["transformers_gguf_conversion"] = how
    if tf is not None:
        tf.encode_special_tokens = True
        diff = [c for c in cases if tf.encode(c["text"], add_special_tokens=False).ids != c["ids"]]
        notes["transformers_gguf_conversion_differs_on"] = len(diff)
        notes["transformers_gguf_conversion_differs_example"] = diff[0]["text"][:60] if diff else None

    templates, chats, special_tokens = render_chats(md, tok)
    fixture = {
        "model": os.path.basename(gguf_path),
        "gguf_sha256": sha,
        "reference": "HF tokenizers: BPE(vocab, merges from the GGUF) + Sequence[Digits(individual), ByteLevel(regex)] "
                     "+ ByteLevel decoder + control tokens as special; chats by transformers apply_chat_template",
        "special_tokens": special_tokens,
        "templates": templates,
        "chats": chats,
        "cases": cases,
        "notes": notes,
    }
    text = json.dumps(fixture, ensure_ascii=False, separators=(",", ":"))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out_path}: {len(text.encode()) / 1e6:.2f} MB, {len(cases)} texts, {len(chats)} chats")
    print(json.dumps(notes, ensure_ascii=False))

    splits_path = os.path.join(os.path.dirname(out_path), SPLITS_OUT)
    text = json.dumps(pretokenizer_splits(all_texts), ensure_ascii=False, separators=(",", ":"))
    with open(splits_path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {splits_path}: {len(text.encode()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
