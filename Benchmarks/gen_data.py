#!/usr/bin/env python3
"""Generates the benchmark files, reproducibly from a seed, into a bench root.

    gen_data.py ROOT [--seed N]

ROOT/data/small.bin    4 KiB of seeded random bytes
ROOT/data/medium.bin   64 MiB of seeded random bytes
ROOT/data/big.txt      1 GiB of English-like text: lines of words drawn with Zipf-like weights
                       from a fixed vocabulary (the literal "example" is planted at a known
                       weight so a count is meaningful), ASCII only, every line ends in "\\n"
ROOT/patch/patch.bin   64 MiB of seeded random bytes (target of the PATCH benchmark; rewritten
                       by every run, so it is regenerated when its size is wrong)
ROOT/patch/baseline.bin  same size, target of the pwrite+fdatasync baseline

ROOT/manifest.json records the generator version, the seed and every size; files whose manifest
entry matches and whose size is right are reused (the 1 GiB file takes ~15 s to write).
"""

import argparse
import json
import os
import random
import sys
import time

GENERATOR_VERSION = 2
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

# Common English words, roughly in frequency order; weights fall off as 1/rank (Zipf).
VOCABULARY = """
the of and to in is that for it as was with be by on not he this are or his from at which but have
an they you were her she there been one all their has would will we more if no when can said who
so its into them some could time these two may then do first any my now such like our over man me
even most made after also did many before must through back years where much your way well down
should because each just those people how too little state good very make world still own see men
work long get here between both life being under never day same another know while last might us
great old year off come since against go came right used take three himself few house use during
without again place around however home small found thought went say part once general high upon
school every does got united left number course war until always away something fact water though
less public put think almost hand enough far took head yet government system better set told nothing
night end why called didn find look going asked later knew point next program city business give
group toward young days let room president side social given present several order national possible
rather second face per among form important often things looked early white case john become large
big need four within felt along children saw best church ever least power development light thing
seemed family interest want members mind country area others done turned although open problem sense
certain kind different thus began fact help means whole matter perhaps itself york times law human
line above name example action company local show whether five history gave today either act feet
across taken past quite anyone having seen death experience body word half really field car words
already themselves information tell together college shall money period held keep sure real probably
free seems political cannot behind miss question air office making brought whose special heard major
problems ago became federal moment study available known result street economic boy reason change
position south board individual job areas society west close turn love community true court force full
seem wife age future voice center woman control common policy necessary following front sometimes six
girl clear further land run students provide feel party able mother music education university child
effect level stood military short town morning total outside rate figure class art century washington
north usually plan leave therefore evidence top million sound black strong hard various says believe
type value play surface soon mean near lines table peace modern tax road red book personal process
situation minutes increase schools idea english alone women gone nor living america started longer dark
""".split()

# The planted literal: a mid-frequency word, about one in 600 words (~300k matches in 1 GiB).
PLANTED = "example"
PLANTED_WEIGHT = 1 / 600


def weights_for(words):
    raw = [1.0 / (rank + 10) for rank in range(len(words))]
    total = sum(raw)
    scaled = [w / total * (1 - PLANTED_WEIGHT) for w in raw]
    scaled[words.index(PLANTED)] += PLANTED_WEIGHT
    return scaled


def make_line_pool(rng, count):
    """`count` distinct-ish lines: 4-16 words, capitalised, with commas and a full stop."""
    words = VOCABULARY
    cumulative = []
    running = 0.0
    for w in weights_for(words):
        running += w
        cumulative.append(running)
    pool = []
    for _ in range(count):
        n = rng.randint(4, 16)
        chosen = rng.choices(words, cum_weights=cumulative, k=n)
        if rng.random() < 0.3:
            chosen[rng.randrange(n)] += ","
        chosen[0] = chosen[0].capitalize()
        pool.append((" ".join(chosen) + ".\n").encode("ascii"))
    return pool


def write_random(path, size, seed):
    rng = random.Random(seed)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(left, 16 * MIB)
            f.write(rng.randbytes(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_text(path, size, seed):
    rng = random.Random(seed)
    pool = make_line_pool(rng, 50_000)
    average = sum(map(len, pool)) / len(pool)
    per_block = int(4 * MIB / average) + 64
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left:
            block = b"".join(rng.choices(pool, k=per_block))
            if len(block) >= left:
                # End exactly at `size`, on a newline, without a partial word.
                block = block[:left]
                cut = block.rfind(b"\n", 0, left - 1)
                block = block[: cut + 1] + b" " * (left - cut - 2) + b"\n"
            f.write(block)
            left -= len(block)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


FILES = [
    # (relative path, size, kind, seed offset)
    ("data/small.bin", 4 * KIB, "random", 1),
    ("data/medium.bin", 64 * MIB, "random", 2),
    ("data/big.txt", 1 * GIB, "text", 3),
    ("patch/patch.bin", 64 * MIB, "random", 4),
    ("patch/baseline.bin", 64 * MIB, "random", 5),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    root = args.root
    manifest_path = os.path.join(root, "manifest.json")
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("version") != GENERATOR_VERSION or manifest.get("seed") != args.seed:
        manifest = {"version": GENERATOR_VERSION, "seed": args.seed, "files": {}}
    for sub in ("data", "patch"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for rel, size, kind, offset in FILES:
        path = os.path.join(root, rel)
        recorded = manifest["files"].get(rel)
        try:
            actual = os.path.getsize(path)
        except OSError:
            actual = -1
        if recorded == size and actual == size:
            continue
        # Drop the entry first: an interrupted write never leaves a stale "valid" marker.
        manifest["files"].pop(rel, None)
        with open(manifest_path, "w") as f:
            json.dump(manifest, f)
        started = time.monotonic()
        print(f"generating {rel} ({size} bytes, seed {args.seed}+{offset})...", file=sys.stderr, flush=True)
        if kind == "random":
            write_random(path, size, args.seed + offset)
        else:
            write_text(path, size, args.seed + offset)
        print(f"  done in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
        manifest["files"][rel] = size
        with open(manifest_path, "w") as f:
            json.dump(manifest, f)
    print(json.dumps({"planted": PLANTED, **manifest}))


if __name__ == "__main__":
    main()
