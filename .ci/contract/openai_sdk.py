"""The official openai SDK as a client of `maverick mock`: if the mock speaks
the API faithfully, the SDK's own parsing and retry logic work unchanged.

Usage: openai_sdk.py BASE_URL KEY [replay]. The same script runs through
`maverick proxy` (which forwards the x-mock-fault header to the mock), and
with `replay` against `maverick mock --replay` serving what the proxy
recorded: there the 429 is the recorded one, so no fault is asked for."""
import json
import sys
import uuid

from openai import OpenAI

base, key = sys.argv[1], sys.argv[2]
replaying = len(sys.argv) > 3 and sys.argv[3] == "replay"
client = OpenAI(api_key=key, base_url=base.rstrip("/") + "/v1", max_retries=2, timeout=30)
model = "meta-llama/llama-4-maverick"
user = [{"role": "user", "content": "Hello from the openai SDK"}]

r = client.chat.completions.create(model=model, messages=user, max_tokens=8)
assert r.choices[0].message.content, r
assert r.usage and r.usage.total_tokens > 0, r
print("non-stream ok:", repr(r.choices[0].message.content))

chunks = list(client.chat.completions.create(
    model=model, messages=user, max_tokens=8, stream=True, stream_options={"include_usage": True}))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
assert text, chunks
assert chunks[-1].usage is not None and chunks[-1].choices == [], chunks[-1]
print("stream ok:", repr(text))

tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                       "required": ["city", "days"]}}}
r = client.chat.completions.create(model=model, messages=user, tools=[tool], tool_choice="required")
call = r.choices[0].message.tool_calls[0]
args = json.loads(call.function.arguments)
assert call.function.name == "get_weather" and isinstance(args["city"], str) and isinstance(args["days"], int), call
print("tools ok:", call.function.name, args)

# A scripted 429 (Retry-After: 1) the SDK must retry through.
token = uuid.uuid4().hex
fault = {} if replaying else {"x-mock-fault": f"429;once={token}"}
raw = client.chat.completions.with_raw_response.create(
    model=model, messages=user, max_tokens=4, extra_headers=fault)
assert raw.http_response.status_code == 200
assert raw.retries_taken == 1, raw.retries_taken
print("retry ok: 429 then 200 after", raw.retries_taken, "retry")
