#!/usr/bin/env python3
"""Where the bytes of a WebAssembly module are: code by crate, by function and by generic family.

Needs a module that still has its "name" section. The split build keeps one for the main module
before wasm-bindgen and wasm-opt run (cargo-leptos writes it beside the lib's output):

    scripts/build.sh
    scripts/wasm-sizes.py target/front/wasm32-unknown-unknown/wasm-release/payments_console_split.wasm

(`payments_console.wasm` in the same directory is the whole bundle before the split, lazy pages
included.) Sizes are of function bodies as the linker left them, less wasm-bindgen's `describe`
functions, which wasm-bindgen drops (--keep-describe counts them); wasm-opt then shrinks the
rest by about a quarter. Names are demangled with `c++filt` (binutils).

Which page or component a generic instantiation serves shows only in v0-mangled names (legacy
names carry no generic arguments). Rebuild the crate alone with them, then map the whole bundle
onto the split build's main module (matched by body size and name; an estimate):

    RUSTFLAGS=-Clink-args=--emit-relocs cargo rustc --lib --profile wasm-release \
      --target wasm32-unknown-unknown --no-default-features --features hydrate \
      --target-dir target/front-v0 -- -C symbol-mangling-version=v0
    scripts/wasm-sizes.py target/front-v0/wasm32-unknown-unknown/wasm-release/payments_console.wasm \
      --by-module --in-main-of target/front/wasm32-unknown-unknown/wasm-release/payments_console_split.wasm

Options: --top N (rows per table, default 40), --crates N (default 25), --grep TEXT (list the
functions whose name contains TEXT), --diff OTHER.wasm (bytes by crate in OTHER minus this one),
--by-module (bytes by this crate's module named in the instantiation), --in-main-of SPLIT.wasm.
"""

import argparse
import gzip
import re
import subprocess
import sys
from collections import defaultdict


def leb(b, i):
    result = shift = 0
    while True:
        x = b[i]
        i += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, i


def sections(b):
    assert b[:4] == b"\0asm", "not a WebAssembly module"
    i = 8
    while i < len(b):
        sid = b[i]
        n, i = leb(b, i + 1)
        yield sid, i, i + n
        i += n


def parse(path):
    """(functions as [(name, body bytes)], data segment bytes, section sizes)."""
    b = open(path, "rb").read()
    imported = 0
    bodies = []
    names = {}
    data = b""
    sizes = {}
    for sid, start, end in sections(b):
        label = str(sid)
        if sid == 0:
            ln, j = leb(b, start)
            label = b[j : j + ln].decode()
        sizes[label] = sizes.get(label, 0) + (end - start)
        if sid == 2:  # imports: the imported functions take the first indices
            count, i = leb(b, start)
            for _ in range(count):
                for _ in range(2):
                    ln, i = leb(b, i)
                    i += ln
                kind = b[i]
                i += 1
                if kind == 0:
                    _, i = leb(b, i)
                    imported += 1
                elif kind == 1:  # table: element type, limits
                    i += 1
                    flags, i = leb(b, i)
                    _, i = leb(b, i)
                    if flags & 1:
                        _, i = leb(b, i)
                elif kind == 2:  # memory: limits
                    flags, i = leb(b, i)
                    _, i = leb(b, i)
                    if flags & 1:
                        _, i = leb(b, i)
                elif kind == 3:  # global: value type, mutability
                    i += 2
                else:
                    _, i = leb(b, i)
        elif sid == 10:
            count, i = leb(b, start)
            for _ in range(count):
                size, i = leb(b, i)
                bodies.append(b[i : i + size])
                i += size
        elif sid == 11:
            data = b[start:end]
        elif sid == 0 and label == "name":
            ln, k = leb(b, start)
            k += ln
            while k < end:
                sub = b[k]
                size, k = leb(b, k + 1)
                if sub == 1:  # function names
                    count, m = leb(b, k)
                    for _ in range(count):
                        idx, m = leb(b, m)
                        ln, m = leb(b, m)
                        names[idx] = b[m : m + ln].decode("utf-8", "replace")
                        m += ln
                k += size
    if not names:
        sys.exit(f"{path} has no name section: use the module from before wasm-bindgen/wasm-opt")
    funcs = [(names.get(imported + n, f"func[{imported + n}]"), body) for n, body in enumerate(bodies)]
    return funcs, data, sizes


def demangle(raw_names):
    out = subprocess.run(["c++filt"], input="\n".join(raw_names), capture_output=True, text=True).stdout
    tidy = []
    for name in out.split("\n")[: len(raw_names)]:
        name = re.sub(r"\[[0-9a-f]{16}\]", "", name)  # v0 crate disambiguators
        name = re.sub(r"::h[0-9a-f]{16}$", "", name)  # legacy hashes
        tidy.append(name.replace(" local_shim", ""))
    return tidy


def _drop_generics(s):
    out = []
    depth = 0
    i = 0
    while i < len(s):
        if s.startswith("->", i):
            if depth == 0:
                out.append("->")
            i += 2
            continue
        c = s[i]
        if c == "<":
            depth += 1
        elif c == ">":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(c)
        i += 1
    t = "".join(out)
    while "::::" in t:
        t = t.replace("::::", "::")
    return t.rstrip(":")


def _matching(s, open_at):
    depth = 0
    i = open_at
    while i < len(s):
        if s.startswith("->", i):
            i += 2
            continue
        if s[i] == "<":
            depth += 1
        elif s[i] == ">":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(s) - 1


def _split_as(s):
    depth = 0
    i = 0
    while i < len(s):
        if s.startswith("->", i):
            i += 2
            continue
        if s[i] == "<":
            depth += 1
        elif s[i] == ">":
            depth -= 1
        elif depth == 0 and s.startswith(" as ", i):
            return s[:i], s[i + 4 :]
        i += 1
    return s, None


def strip_generics(name):
    """`<a::B<C> as d::E<F>>::g::<H>` -> `<a::B as d::E>::g`: the family of an instantiation."""
    if not name.startswith("<"):
        return _drop_generics(name)
    j = _matching(name, 0)
    ty, tr = _split_as(name[1:j])
    head = _drop_generics(ty) if tr is None else f"{_drop_generics(ty)} as {_drop_generics(tr)}"
    return f"<{head}>{_drop_generics(name[j + 1 :])}"


def owner_crate(name):
    """The crate a function is attributed to: that of the type in `<T as Trait>`, else the path's."""
    n = name
    while n.startswith("<") or n.startswith("&") or n.startswith("("):
        n = n.lstrip("<&(").removeprefix("mut ").removeprefix("dyn ")
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", n)
    if not m:
        return "?"
    crate = m.group(0)
    if "::" not in n[: m.end() + 2]:
        # A primitive or bare type (`[T]`, `str`, `u8`...): the trait's crate says more.
        t = re.search(r" as ([A-Za-z_][A-Za-z0-9_]*)::", name)
        return t.group(1) if t else crate
    return crate


def gz(data):
    return len(gzip.compress(data, 9))


def _tail(name):
    # v0 and legacy demangling spell closures and shims differently.
    name = re.sub(r"\{closure#\d+\}", "{{closure}}", name)
    name = re.sub(r"\{shim:vtable#\d+\}", "{{vtable.shim}}", name).replace("{{vtable.shim}}", "::{{vtable.shim}}")
    if name.startswith("core::ptr::drop_in_place<"):
        # Drop glue names its concrete type in both manglings.
        return re.sub(r"\s+", "", name)
    parts = [p for p in strip_generics(name).split("::") if p]
    return "::".join(parts[-2:]) if parts and parts[-1].startswith("{{") else (parts[-1] if parts else name)


def main_weights(names, funcs, split_path):
    """How much of each function of an unsplit module is in the main module of a split build.

    The split build's main module has its own names, mangled the legacy way; the same function
    has the same body size in both builds, so functions are matched by (size, last path segment).
    Where k of n functions with one key are in the main module, each counts k/n.
    """
    sfuncs, _, _ = parse(split_path)
    in_main = defaultdict(int)
    for name, (_, body) in zip(demangle([n for n, _ in sfuncs]), sfuncs):
        in_main[(len(body), _tail(name))] += 1
    total = defaultdict(int)
    keys = [(len(body), _tail(name)) for name, (_, body) in zip(names, funcs)]
    for k in keys:
        total[k] += 1
    return [min(1.0, in_main.get(k, 0) / total[k]) for k in keys]


def report(path, top, ncrates, grep, by_app=False, split=None, keep_describe=False):
    funcs, data, sizes = parse(path)
    names = demangle([n for n, _ in funcs])
    if not keep_describe:
        # wasm-bindgen runs its `describe` functions to learn the bindings' types, then drops them.
        dropped = [i for i, n in enumerate(names) if "describe" in n.split("::")[-1]]
        print(f"# left out: {len(dropped)} wasm-bindgen describe functions, "
              f"{sum(len(funcs[i][1]) for i in dropped)} B (gone from the shipped file; --keep-describe)")
        gone = set(dropped)
        names = [n for i, n in enumerate(names) if i not in gone]
        funcs = [f for i, f in enumerate(funcs) if i not in gone]
    if split:
        weights = main_weights(names, funcs, split)
        matched = sum(w * len(b) for w, (_, b) in zip(weights, funcs))
        print(f"# only the share of {path} estimated to be in the main module of {split}: {matched:.0f} B")
        funcs = [(n, b[: round(len(b) * w)]) for w, (n, b) in zip(weights, funcs)]
    total_code = sum(len(b) for _, b in funcs)
    print(f"# {path}")
    print(f"sections (bytes): " + ", ".join(f"{k}={v}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])))
    print(f"functions: {len(funcs)}, code bodies: {total_code} B (gzip alone {gz(b''.join(b for _, b in funcs))} B), data: {len(data)} B (gzip alone {gz(data)} B)")

    by_crate = defaultdict(lambda: [0, 0, []])
    by_family = defaultdict(lambda: [0, 0])
    for name, (_, body) in zip(names, funcs):
        c = by_crate[owner_crate(name)]
        c[0] += len(body)
        c[1] += 1
        c[2].append(body)
        f = by_family[strip_generics(name)]
        f[0] += len(body)
        f[1] += 1

    print(f"\n## Top {ncrates} crates by code bytes (gzip = that crate's bodies compressed on their own)")
    print(f"{'bytes':>9} {'%':>5} {'gzip':>8} {'fns':>6}  crate")
    for crate, (n, count, bodies) in sorted(by_crate.items(), key=lambda kv: -kv[1][0])[:ncrates]:
        print(f"{n:>9} {100 * n / total_code:5.1f} {gz(b''.join(bodies)):>8} {count:>6}  {crate}")

    print(f"\n## Top {top} functions by code bytes")
    print(f"{'bytes':>9}  function")
    for name, (_, body) in sorted(zip(names, funcs), key=lambda kv: -len(kv[1][1]))[:top]:
        print(f"{len(body):>9}  {name[:220]}")

    print(f"\n## Top {top} generic families (instantiations of one item summed)")
    print(f"{'bytes':>9} {'insts':>6}  item")
    for fam, (n, count) in sorted(by_family.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"{n:>9} {count:>6}  {fam[:220]}")

    if by_app:
        # Which of this crate's modules a function works for, from the types in its name: needs
        # v0 mangling (legacy names carry no generic arguments), see the header.
        by_mod = defaultdict(lambda: [0, 0])
        for name, (_, body) in zip(names, funcs):
            mods = set(re.findall(r"payments_console::((?:pages|ui)::[a-z_]+|[a-z_]+)", name))
            # A page's types name the error and model types too: the most specific module wins.
            for tier in ("pages::", "ui::"):
                if any(m.startswith(tier) for m in mods):
                    mods = {m for m in mods if m.startswith(tier)}
                    break
            mods = sorted(mods)
            key = " + ".join(mods) if 0 < len(mods) <= 2 else ("(no type of this crate)" if not mods else "(3+ modules: route table, frame)")
            by_mod[key][0] += len(body)
            by_mod[key][1] += 1
        print(f"\n## Code bytes by the crate's module whose types the function is instantiated with")
        print(f"{'bytes':>9} {'%':>5} {'fns':>6}  module(s)")
        for key, (n, count) in sorted(by_mod.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"{n:>9} {100 * n / total_code:5.1f} {count:>6}  {key}")

    if grep:
        print(f"\n## Functions matching {grep!r}")
        hits = [(len(b), n) for n, (_, b) in zip(names, funcs) if grep in n]
        print(f"{sum(h[0] for h in hits)} B in {len(hits)} functions")
        for size, n in sorted(hits, reverse=True)[:top]:
            print(f"{size:>9}  {n[:220]}")
    return {c: v[0] for c, v in by_crate.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wasm")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--crates", type=int, default=25)
    ap.add_argument("--grep")
    ap.add_argument("--diff")
    ap.add_argument("--by-module", action="store_true")
    ap.add_argument("--in-main-of", metavar="SPLIT.wasm")
    ap.add_argument("--keep-describe", action="store_true")
    a = ap.parse_args()
    mine = report(a.wasm, a.top, a.crates, a.grep, a.by_module, a.in_main_of, a.keep_describe)
    if a.diff:
        funcs, _, _ = parse(a.diff)
        other = defaultdict(int)
        for name, (_, body) in zip(demangle([n for n, _ in funcs]), funcs):
            other[owner_crate(name)] += len(body)
        print(f"\n## Code bytes by crate: {a.diff} minus {a.wasm}")
        rows = [(other.get(c, 0) - mine.get(c, 0), c) for c in set(mine) | set(other)]
        for d, c in sorted(rows, reverse=True)[: a.crates]:
            print(f"{d:>9}  {c}")


if __name__ == "__main__":
    main()
