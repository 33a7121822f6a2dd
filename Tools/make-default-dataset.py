#!/usr/bin/env python3
"""Generates the project's default instruction dataset: data/default/instructions.json.

Every example is Alpaca-style ({"instruction", "input", "output"}) and has one short, verifiable
answer computed here, so exact-match accuracy on it is meaningful. Twelve task types, spread evenly;
the names, cities, products and word tables are small lists in this file. Standard library only.
The output is deterministic: the single random source is random.Random(2026), sets are only used
for membership, and running the script twice writes byte-identical files.

    python3 Tools/make-default-dataset.py            # writes data/default/instructions.json
    python3 Tools/make-default-dataset.py --out X    # writes X instead
"""

import argparse
import json
import os
import random
import sys

SEED = 2026
PER_TYPE = 60
MAX_OUTPUT = 60

# ---------------------------------------------------------------------------------------------
# Word lists

NAMES = [
    "Ada", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Leo", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wen", "Yusuf", "Zoe",
]
CITIES = [
    "Oslo", "Lima", "Cairo", "Tokyo", "Paris", "Berlin", "Madrid", "Nairobi", "Toronto", "Dublin",
    "Lisbon", "Seoul", "Zürich", "Kraków", "Quito", "Hanoi", "Perth", "Vienna", "Bogotá", "Dakar",
]
ITEMS = ["apples", "pencils", "marbles", "stickers", "cookies", "books", "coins", "cards", "shells", "stamps"]
PRODUCTS = [
    "lamp", "kettle", "backpack", "chair", "blender", "jacket", "umbrella", "headset", "mug", "keyboard",
    "toaster", "scarf", "notebook", "clock", "speaker", "tent",
]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "gray", "purple", "orange", "brown"]
WORDS = [
    "garden", "planet", "silver", "rocket", "banana", "window", "pencil", "forest", "castle", "bridge",
    "summer", "winter", "market", "button", "candle", "dragon", "island", "jungle", "kitten", "ladder",
    "mirror", "needle", "orange", "puzzle", "rabbit", "saddle", "tunnel", "velvet", "wallet", "yellow",
    "anchor", "bottle", "cactus", "dinner", "engine", "falcon", "guitar", "harbor", "insect", "jacket",
    "lemon", "melody", "number", "ocean", "parrot", "river", "shadow", "ticket", "violin", "whistle",
]
SORT_WORDS = [
    "apple", "pear", "fig", "plum", "kiwi", "mango", "grape", "lime", "cherry", "peach", "melon",
    "dog", "cat", "owl", "fox", "bear", "wolf", "deer", "hawk", "seal", "lion", "moth", "crab",
    "red", "blue", "gold", "pink", "teal", "navy", "rose", "sand",
]

PLURALS = [
    ("cat", "cats"), ("dog", "dogs"), ("book", "books"), ("tree", "trees"), ("car", "cars"),
    ("box", "boxes"), ("bus", "buses"), ("dish", "dishes"), ("church", "churches"), ("fox", "foxes"),
    ("city", "cities"), ("baby", "babies"), ("party", "parties"), ("story", "stories"), ("day", "days"),
    ("key", "keys"), ("leaf", "leaves"), ("knife", "knives"), ("wolf", "wolves"), ("life", "lives"),
    ("hero", "heroes"), ("potato", "potatoes"), ("photo", "photos"), ("piano", "pianos"),
    ("man", "men"), ("woman", "women"), ("child", "children"), ("tooth", "teeth"), ("foot", "feet"),
    ("mouse", "mice"), ("goose", "geese"), ("person", "people"), ("ox", "oxen"), ("sheep", "sheep"),
    ("fish", "fish"), ("deer", "deer"), ("cactus", "cacti"), ("crisis", "crises"),
    ("analysis", "analyses"), ("phenomenon", "phenomena"), ("glass", "glasses"), ("watch", "watches"),
]
PAST_TENSES = [
    ("walk", "walked"), ("play", "played"), ("jump", "jumped"), ("cook", "cooked"), ("clean", "cleaned"),
    ("open", "opened"), ("stop", "stopped"), ("plan", "planned"), ("try", "tried"), ("carry", "carried"),
    ("dance", "danced"), ("smile", "smiled"), ("go", "went"), ("eat", "ate"), ("see", "saw"),
    ("take", "took"), ("write", "wrote"), ("run", "ran"), ("swim", "swam"), ("sing", "sang"),
    ("drink", "drank"), ("begin", "began"), ("buy", "bought"), ("bring", "brought"), ("think", "thought"),
    ("teach", "taught"), ("catch", "caught"), ("fly", "flew"), ("draw", "drew"), ("grow", "grew"),
    ("know", "knew"), ("speak", "spoke"), ("break", "broke"), ("choose", "chose"), ("drive", "drove"),
    ("ride", "rode"), ("sleep", "slept"), ("keep", "kept"), ("feel", "felt"), ("leave", "left"),
    ("make", "made"), ("sit", "sat"), ("stand", "stood"), ("find", "found"), ("give", "gave"),
]
# (past, past participle, object): "Ada wrote the letter." -> "The letter was written by Ada."
PASSIVE_VERBS = [
    ("wrote", "written", "letter"), ("baked", "baked", "cake"), ("painted", "painted", "fence"),
    ("fixed", "fixed", "bike"), ("read", "read", "report"), ("built", "built", "shed"),
    ("washed", "washed", "car"), ("found", "found", "key"), ("sang", "sung", "song"),
    ("drew", "drawn", "map"), ("opened", "opened", "door"), ("cleaned", "cleaned", "kitchen"),
    ("ate", "eaten", "sandwich"), ("broke", "broken", "vase"), ("signed", "signed", "contract"),
    ("planted", "planted", "tree"), ("sold", "sold", "house"), ("caught", "caught", "ball"),
]
CATEGORIES = {
    "animal": [
        "tiger", "sparrow", "salmon", "elephant", "frog", "rabbit", "dolphin", "beetle", "horse",
        "penguin", "lizard", "octopus", "camel", "owl", "spider", "whale", "goat", "bat",
    ],
    "plant": [
        "oak", "tulip", "cactus", "fern", "rose", "bamboo", "moss", "sunflower", "pine", "ivy",
        "maple", "daisy", "wheat", "orchid", "clover", "lettuce", "willow", "basil",
    ],
    "mineral": [
        "quartz", "granite", "salt", "diamond", "iron ore", "marble", "talc", "gypsum", "copper ore",
        "feldspar", "mica", "pyrite", "graphite", "calcite", "sulfur", "obsidian", "ruby", "limestone",
    ],
}
POSITIVE = [
    "works perfectly and I love it", "is excellent value for the money", "arrived early and looks great",
    "exceeded all my expectations", "is the best purchase I made this year", "is sturdy and easy to use",
    "made my mornings so much better", "is beautiful and well made",
]
NEGATIVE = [
    "broke after two days", "is a complete waste of money", "arrived damaged and smells bad",
    "stopped working after a week", "is far worse than I expected", "feels cheap and flimsy",
    "was a big disappointment", "is noisy and hard to use",
]
REVIEW_OPENERS = ["", "Honestly, ", "In short, ", "Overall, ", "To be fair, "]
SENTENCE_SUBJECTS = ["The cat", "My brother", "Our teacher", "A small dog", "The old man", "The children"]
SENTENCE_VERBS = ["sat on", "looked at", "walked past", "jumped over", "slept near", "ran around"]
SENTENCE_OBJECTS = ["the mat", "the red car", "a big tree", "the quiet lake", "the garden wall", "an empty box"]
SENTENCE_ENDINGS = ["", " yesterday", " this morning", " after lunch", " again", " in the rain"]
SUBJECT_NOUNS = ["cat", "brother", "teacher", "dog", "man", "children"]  # one in each subject
OBJECT_NOUNS = ["mat", "car", "tree", "lake", "wall", "box"]  # one in each object


# ---------------------------------------------------------------------------------------------
# Helpers

def fmt_num(x):
    """2500 -> '2500', 2.5 -> '2.5', 0.75 -> '0.75' (x is a multiple of 1/4)."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:g}"


def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


def join(xs):
    return ", ".join(str(x) for x in xs)


def pick(rng, data_inline, data_input):
    """Half the examples carry their data in `input`: (instruction, input) from one of the two template lists."""
    if rng.random() < 0.5:
        instruction, data = rng.choice(data_input)
        return instruction, data
    return rng.choice(data_inline), ""


def sentence(rng):
    return (f"{rng.choice(SENTENCE_SUBJECTS)} {rng.choice(SENTENCE_VERBS)} "
            f"{rng.choice(SENTENCE_OBJECTS)}{rng.choice(SENTENCE_ENDINGS)}.")


# ---------------------------------------------------------------------------------------------
# Task generators: each returns (instruction, input, output).

def arithmetic(rng):
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    kind = rng.choice(["add", "add2", "sub", "sub2", "mul", "mul2", "div"])
    if kind == "add":
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        problem, answer = f"{name} has {a} {item} and buys {b} more. How many {item} does {name} have now?", a + b
    elif kind == "add2":
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        problem, answer = f"A shelf holds {a} {item}. Someone adds {b} more. How many {item} are on the shelf?", a + b
    elif kind == "sub":
        a = rng.randint(10, 80)
        b = rng.randint(1, a - 1)
        problem, answer = f"{name} had {a} {item} and gave away {b}. How many {item} are left?", a - b
    elif kind == "sub2":
        a = rng.randint(10, 80)
        b = rng.randint(1, a - 1)
        problem, answer = f"There were {a} {item} in a basket. {b} were taken out. How many {item} remain?", a - b
    elif kind == "mul":
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        problem, answer = f"{name} buys {a} boxes with {b} {item} in each box. How many {item} is that in total?", a * b
    elif kind == "mul2":
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        problem, answer = f"A classroom has {a} rows of {b} chairs. How many chairs are there?", a * b
    else:
        b, q = rng.randint(2, 9), rng.randint(2, 12)
        problem, answer = f"{name} shares {b * q} {item} equally among {b} friends. How many {item} does each friend get?", q
    if rng.random() < 0.5:
        instruction = rng.choice([
            "Solve the word problem. Answer with the number only.",
            "Read the problem and give the numeric answer.",
            "Work out the answer to this word problem.",
            "Answer the math question below with a single number.",
        ])
        return instruction, problem, str(answer)
    suffix = rng.choice(["", " Answer with a number.", " Give only the number."])
    return problem + suffix, "", str(answer)


def unit_conversion(rng):
    kind = rng.choice(["km_m", "m_km", "kg_g", "g_kg", "h_min", "min_h", "c_f"])
    if kind == "km_m":
        v = rng.randint(1, 60) / 4
        q, a = f"{fmt_num(v)} km", f"{fmt_num(v * 1000)} m"
        inline = [f"Convert {q} to meters.", f"How many meters are in {q}?", f"Express {q} in meters."]
        given = [("Convert the distance to meters.", q), ("Express the following length in meters.", q)]
    elif kind == "m_km":
        m = rng.randint(1, 60) * 250
        q, a = f"{m} m", f"{fmt_num(m / 1000)} km"
        inline = [f"Convert {q} to kilometers.", f"How many kilometers is {q}?", f"Express {q} in kilometers."]
        given = [("Convert the distance to kilometers.", q), ("Express the following length in kilometers.", q)]
    elif kind == "kg_g":
        v = rng.randint(1, 40) / 4
        q, a = f"{fmt_num(v)} kg", f"{fmt_num(v * 1000)} g"
        inline = [f"Convert {q} to grams.", f"How many grams are in {q}?", f"Express {q} in grams."]
        given = [("Convert the mass to grams.", q), ("Express the following weight in grams.", q)]
    elif kind == "g_kg":
        g = rng.randint(1, 40) * 250
        q, a = f"{g} g", f"{fmt_num(g / 1000)} kg"
        inline = [f"Convert {q} to kilograms.", f"How many kilograms is {q}?", f"Express {q} in kilograms."]
        given = [("Convert the mass to kilograms.", q), ("Express the following weight in kilograms.", q)]
    elif kind == "h_min":
        v = rng.randint(1, 24) / 2
        q = f"{fmt_num(v)} {'hour' if v == 1 else 'hours'}"
        a = f"{int(v * 60)} minutes"
        inline = [f"Convert {q} to minutes.", f"How many minutes are in {q}?"]
        given = [("Convert the duration to minutes.", q), ("How many minutes is this?", q)]
    elif kind == "min_h":
        m = rng.randint(1, 24) * 30
        h = m / 60
        q, a = f"{m} minutes", f"{fmt_num(h)} {'hour' if h == 1 else 'hours'}"
        inline = [f"Convert {q} to hours.", f"How many hours is {q}?"]
        given = [("Convert the duration to hours.", q), ("How many hours is this?", q)]
    else:
        c = rng.randint(-8, 20) * 5
        q, a = f"{c} °C", f"{c * 9 // 5 + 32} °F"
        inline = [f"Convert {q} to Fahrenheit.", f"What is {q} in degrees Fahrenheit?"]
        given = [("Convert the temperature to Fahrenheit.", q), ("Express this Celsius temperature in Fahrenheit.", q)]
    instruction, data = pick(rng, inline, given)
    return instruction, data, a


def sorting(rng):
    kind = rng.choice(["asc", "desc", "alpha", "asc", "desc", "alpha", "ralpha"])
    if kind in ("asc", "desc"):
        xs = rng.sample(range(1, 100), rng.randint(4, 7))
        ys = sorted(xs, reverse=(kind == "desc"))
        data = join(xs)
        if kind == "asc":
            inline = [f"Sort these numbers in ascending order: {data}",
                      f"Arrange the numbers from smallest to largest: {data}"]
            given = [("Sort the following numbers in ascending order.", data),
                     ("Order the numbers below from smallest to largest.", data)]
        else:
            inline = [f"Sort these numbers in descending order: {data}",
                      f"Arrange the numbers from largest to smallest: {data}"]
            given = [("Sort the following numbers in descending order.", data),
                     ("Order the numbers below from largest to smallest.", data)]
    else:
        xs = rng.sample(SORT_WORDS, rng.randint(4, 6))
        ys = sorted(xs, reverse=(kind == "ralpha"))
        data = join(xs)
        if kind == "alpha":
            inline = [f"Sort these words alphabetically: {data}",
                      f"Put the words in alphabetical order: {data}"]
            given = [("Sort the following words alphabetically.", data),
                     ("Put the words below in alphabetical order.", data)]
        else:
            inline = [f"Sort these words in reverse alphabetical order: {data}"]
            given = [("Sort the following words in reverse alphabetical order.", data)]
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, join(ys)


def string_edit(rng):
    kind = rng.choice(["reverse", "upper", "vowels", "count", "replace"])
    w = rng.choice(WORDS)
    if kind == "reverse":
        inline = [f'Reverse the letters of the word "{w}".', f'Write the word "{w}" backwards.']
        given = [("Reverse the letters of the given word.", w), ("Spell the word below backwards.", w)]
        answer = w[::-1]
    elif kind == "upper":
        text = f"{w} {rng.choice(WORDS)}"
        inline = [f'Convert "{text}" to uppercase.', f'Write "{text}" in capital letters.']
        given = [("Rewrite the text in uppercase letters.", text), ("Convert the following text to uppercase.", text)]
        answer = text.upper()
    elif kind == "vowels":
        inline = [f'Remove all vowels from the word "{w}".', f'Delete the vowels (a, e, i, o, u) from "{w}".']
        given = [("Remove all vowels from the given word.", w), ("Delete every vowel (a, e, i, o, u) in the word below.", w)]
        answer = "".join(ch for ch in w if ch not in "aeiou")
    elif kind == "count":
        c = rng.choice(w) if rng.random() < 0.85 else rng.choice("bcdfghjklmnpqrstvwxyz")
        inline = [f'How many times does the letter "{c}" appear in "{w}"?',
                  f'Count the occurrences of the letter "{c}" in the word "{w}".']
        given = [(f'Count how many times the letter "{c}" appears in the word below.', w)]
        answer = str(w.count(c))
    else:
        s = sentence(rng)
        tokens = s.rstrip(".").split(" ")
        # Swap a noun for another noun of the same kind (a person or animal, or a thing).
        if rng.random() < 0.5:
            old = next(t for t in tokens if t in SUBJECT_NOUNS)
            new = rng.choice([x for x in SUBJECT_NOUNS + ["girl", "farmer", "horse"] if x not in tokens])
        else:
            old = next(t for t in tokens if t in OBJECT_NOUNS)
            new = rng.choice([x for x in OBJECT_NOUNS + ["bench", "fence", "boat"] if x not in tokens])
        inline = [f'Replace "{old}" with "{new}" in: {s}']
        given = [(f'Replace the word "{old}" with "{new}" in the sentence.', s)]
        answer = " ".join(new if t == old else t for t in tokens) + "."
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, answer


def json_extraction(rng):
    if rng.random() < 0.5:
        name, age, city = rng.choice(NAMES), rng.randint(18, 90), rng.choice(CITIES)
        s = rng.choice([
            f"{name} is {age} years old and lives in {city}.",
            f"Meet {name}, a {age}-year-old from {city}.",
            f"{name}, aged {age}, recently moved to {city}.",
            f"At {age}, {name} still enjoys walking around {city}.",
        ])
        obj = {"name": name, "age": age, "city": city}
        inline = [f"Extract the name, age and city as JSON with the keys name, age, city: {s}"]
        given = [("Extract the person's name, age and city from the sentence as JSON.", s),
                 ('Return a JSON object with the keys "name", "age" and "city" for the text below.', s)]
    else:
        product, color, price = rng.choice(PRODUCTS), rng.choice(COLORS), rng.randint(5, 250)
        s = rng.choice([
            f"The {color} {product} costs {price} dollars.",
            f"A {color} {product} is on sale for ${price}.",
            f"You can buy the {product} in {color} for {price} dollars.",
        ])
        obj = {"product": product, "color": color, "price": price}
        inline = [f"Extract the product, color and price as JSON with the keys product, color, price: {s}"]
        given = [("Extract the product, its color and its price from the sentence as JSON.", s),
                 ('Return a JSON object with the keys "product", "color" and "price" for the text below.', s)]
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, json.dumps(obj, ensure_ascii=False)


def grammar(rng):
    kind = rng.choice(["plural", "past", "passive"])
    if kind == "plural":
        noun, plural = rng.choice(PLURALS)
        inline = [f'Write the plural of "{noun}".', f'What is the plural form of the noun "{noun}"?']
        given = [("Give the plural form of the noun.", noun), ("Write the plural of the word below.", noun)]
        answer = plural
    elif kind == "past":
        verb, past = rng.choice(PAST_TENSES)
        inline = [f'What is the past tense of "{verb}"?', f'Give the simple past form of the verb "{verb}".']
        given = [("Give the simple past tense of the verb.", verb), ("Write the past tense of the verb below.", verb)]
        answer = past
    else:
        name = rng.choice(NAMES)
        past, participle, obj = rng.choice(PASSIVE_VERBS)
        s = f"{name} {past} the {obj}."
        inline = [f'Rewrite in the passive voice: {s}', f'Change "{s}" to the passive voice.']
        given = [("Rewrite the sentence in the passive voice.", s), ("Convert the sentence from active to passive voice.", s)]
        answer = f"The {obj} was {participle} by {name}."
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, answer


def sentiment(rng):
    label = rng.choice(["positive", "negative"])
    phrase = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
    product = rng.choice(PRODUCTS)
    opener = rng.choice(REVIEW_OPENERS)
    article = rng.choice(["the", "this", "my new"])
    review = f"{opener}{article} {product} {phrase}."
    review = review[0].upper() + review[1:]
    inline = [f'Is the following review positive or negative? "{review}"',
              f'Classify the sentiment of this review as positive or negative: {review}']
    given = [("Classify the sentiment of the review as positive or negative.", review),
             ("Is this product review positive or negative?", review)]
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, label


def number_class(rng):
    if rng.random() < 0.5:
        n = rng.randint(1, 999)
        inline = [f"Is {n} even or odd?", f"Tell me whether {n} is an even or odd number."]
        given = [("State whether the number is even or odd.", str(n)), ("Is the given number even or odd?", str(n))]
        answer = "even" if n % 2 == 0 else "odd"
    else:
        if rng.random() < 0.5:
            n = rng.choice([p for p in range(2, 200) if is_prime(p)])
        else:
            n = rng.choice([c for c in range(2, 200) if not is_prime(c)])
        inline = [f"Is {n} a prime number? Answer yes or no.", f"Answer yes or no: is {n} prime?"]
        given = [("Is the given number prime? Answer yes or no.", str(n)), ("Answer yes or no: is this number prime?", str(n))]
        answer = "yes" if is_prime(n) else "no"
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, answer


def category(rng):
    label = rng.choice(list(CATEGORIES))
    x = rng.choice(CATEGORIES[label])
    inline = [f'Classify "{x}" as animal, plant or mineral.',
              f'Is "{x}" an animal, a plant or a mineral?',
              f'Which category does "{x}" belong to: animal, plant or mineral?']
    given = [("Classify the item as animal, plant or mineral.", x),
             ("Is the following an animal, a plant or a mineral?", x)]
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, label


def comparison(rng):
    kind = rng.choice(["max", "min", "larger", "smaller"])
    if kind in ("max", "min"):
        xs = rng.sample(range(1, 1000), rng.randint(4, 7))
        data = join(xs)
        word = "largest" if kind == "max" else "smallest"
        inline = [f"What is the {word} number in this list: {data}?", f"Find the {word} number: {data}"]
        given = [(f"Find the {word} number in the list below.", data), (f"Which is the {word} number in the list?", data)]
        answer = max(xs) if kind == "max" else min(xs)
    else:
        a, b = rng.sample(range(1, 1000), 2)
        word = "larger" if kind == "larger" else "smaller"
        inline = [f"Which is {word}, {a} or {b}?"]
        given = [(f"Which of the two numbers is {word}?", f"{a}, {b}")]
        answer = max(a, b) if kind == "larger" else min(a, b)
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, str(answer)


def counting(rng):
    if rng.random() < 0.6:
        s = sentence(rng)
        inline = [f'How many words are in the sentence "{s}"?', f'Count the words in: {s}']
        given = [("Count the words in the following sentence.", s), ("How many words does this sentence have?", s)]
        answer = len(s.split())
    else:
        w = rng.choice(WORDS)
        inline = [f'How many letters are in the word "{w}"?', f'Count the letters in "{w}".']
        given = [("Count the letters in the word below.", w), ("How many letters does this word have?", w)]
        answer = len(w)
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, str(answer)


def sequence(rng):
    n = rng.randint(4, 5)
    if rng.random() < 0.8:
        a, d = rng.randint(-20, 50), rng.choice([x for x in range(-9, 13) if x != 0])
        xs = [a + d * i for i in range(n + 1)]
    else:
        a, r = rng.randint(1, 5), rng.choice([2, 3])
        xs = [a * r ** i for i in range(n + 1)]
    data, answer = join(xs[:-1]), xs[-1]
    inline = [f"What number comes next in the sequence: {data}",
              f"Continue the sequence with the next number: {data}"]
    given = [("Give the next number in this sequence.", data), ("What number comes next?", data)]
    instruction, inp = pick(rng, inline, given)
    return instruction, inp, str(answer)


TASKS = [
    ("arithmetic word problems", arithmetic),
    ("unit conversion", unit_conversion),
    ("sorting numbers and words", sorting),
    ("string edits", string_edit),
    ("extraction to JSON", json_extraction),
    ("grammar transformations", grammar),
    ("sentiment classification", sentiment),
    ("even/odd and prime", number_class),
    ("animal/plant/mineral", category),
    ("comparisons (min/max)", comparison),
    ("counting words and letters", counting),
    ("next number in a sequence", sequence),
]


def generate(per_type=PER_TYPE):
    rng = random.Random(SEED)
    seen = set()
    examples, counts = [], []
    for label, fn in TASKS:
        made, tries = 0, 0
        while made < per_type:
            tries += 1
            if tries > per_type * 200:
                sys.exit(f"could not make {per_type} unique examples for {label}")
            instruction, inp, output = fn(rng)
            key = (instruction, inp)
            if key in seen:
                continue
            assert instruction.strip() and output.strip(), (label, instruction)
            assert len(output) < MAX_OUTPUT, (label, output)
            seen.add(key)
            examples.append({"instruction": instruction, "input": inp, "output": output})
            made += 1
        counts.append((label, made))
    rng.shuffle(examples)
    return examples, counts


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(root, "data", "default", "instructions.json"))
    args = parser.parse_args()
    examples, counts = generate()
    text = json.dumps(examples, indent=1, ensure_ascii=False) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    width = max(len(label) for label, _ in counts)
    for label, n in counts:
        print(f"{label:<{width}}  {n}")
    with_input = sum(1 for e in examples if e["input"])
    print(f"{'total':<{width}}  {len(examples)} ({with_input} with input)")
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes)")


if __name__ == "__main__":
    main()
