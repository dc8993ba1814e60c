"""Prism silently stops validating requests on the published spec because
three schemas carry `nullable` without `type`. Write a patched temporary
copy: a bare `{nullable: true}` branch of anyOf/oneOf is dropped (the null
alternative of `stop`), and a bare `{nullable: true}` anywhere else (the
free-form `parameters` and `schema` maps) becomes `{}`, "any value"."""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
doc = json.load(open(src))
patched = 0


def bare(node):
    """`nullable` with no `type` and nothing else but a description."""
    return isinstance(node, dict) and node.get("nullable") is True and set(node) <= {"nullable", "description"}


def fix(node):
    global patched
    if isinstance(node, dict):
        if bare(node):
            patched += 1
            return {}
        out = {}
        for k, v in node.items():
            if k in ("anyOf", "oneOf") and isinstance(v, list) and any(bare(b) for b in v):
                patched += 1
                v = [b for b in v if not bare(b)]
            out[k] = fix(v)
        return out
    if isinstance(node, list):
        return [fix(x) for x in node]
    return node


doc = fix(doc)
json.dump(doc, open(dst, "w"))
print(f"prism spec: patched {patched} schema(s) that had nullable without type -> {dst}")
