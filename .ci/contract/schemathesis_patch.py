"""schemathesis validates each server-sent event's envelope ({data, event,
id, retry}) against a `text/event-stream` schema, as OpenAPI 3.2 intends;
the published 3.0 document puts the chunk schema there instead, so every
stream, from any server, would fail. Write a copy whose event-stream schema
describes the envelope (data is a string). The JSON response schema stays as
published. Chunk contents are checked elsewhere: the mock's own tests
validate every chunk against the normaliser's relaxed chunk schema (the
published one is stricter than any real server; see spec/README.md), and
the openai SDK check parses a real stream."""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
doc = json.load(open(src))
ENVELOPE = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}},
}
patched = 0
for item in doc.get("paths", {}).values():
    for op in item.values():
        for response in (op.get("responses") or {}).values():
            media = (response.get("content") or {}).get("text/event-stream")
            if media is not None:
                media["schema"] = ENVELOPE
                patched += 1
json.dump(doc, open(dst, "w"))
print(f"schemathesis spec: {patched} event-stream schema(s) described as SSE envelopes -> {dst}")
