"""Realistic, pre-signed Twilio traffic for bench/run.py, and a Python load driver.

Traffic: thousands of people, each following one of a few recorded conversations (SMS
commands, the questionnaire to an outcome, postcodes, voice menus with their <Gather>
actions), every request carrying the form fields Twilio posts and an X-Twilio-Signature
computed with twilio's RequestValidator over the exact URL the server sees.

How a pool is made:
1. `record(app)` plays each persona once through the Flask test client of a real hotline
   (real Redis) and keeps, per step, the path (for a call: the <Gather> action the previous
   answer gave, /voice/input?s=..&n=..&l=..), the input and the answer.
2. `build_pool` gives every person their own number, MessageSid and CallSid, and replays
   their persona's steps; `slots` people talk at once, interleaved one step each, so two
   steps of one person are `slots` requests apart and never in flight together; a person
   who is done leaves their slot to a new number. Every request is unique: no retry
   (cached answer) is served unless a run needs more requests than the pool holds.
3. `write_pool` writes one request per line, `path \\t signature \\t body`, read by
   bench/wrk_pool.lua, or by `python bench/loadgen.py drive` when wrk is not installed.

The answers depend only on each person's own history (and the time of day), so a person
of the pool gets the answers recorded for their persona: `verify` checks it on a live
server with spare people before the load starts.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

HOTLINE_NUMBER = "+33100000000"
ACCOUNT_SID = "AC" + "0" * 32
CALL = "<call>"  # a voice step: a new call (POST /voice); other voice steps are keys
SILENCE = ""     # a voice step: the caller says and presses nothing

# What people do: a persona is one conversation, from the first text or the call. Many
# people send a few texts and go; some answer the whole questionnaire.
PERSONAS: dict[str, tuple[str, list[str]]] = {
    "sms-quiz-fr": ("sms", ["Bonjour", "1", "TEST", "1", "2", "4", "1", "1", "700",
                            "CPAM 93200"]),
    "sms-quiz-en": ("sms", ["Hello", "2", "TEST", "1", "2", "1", "2", "1", "600", "DOCS"]),
    "sms-short": ("sms", ["AME", "1", "CSS"]),
    "sms-cpam": ("sms", ["Bonjour", "1", "AIDE", "CPAM 13001", "93200"]),
    "sms-topics": ("sms", ["Salut", "1", "2", "4", "9", "*", "COMEDE"]),
    "voice-quiz-fr": ("voice", [CALL, "1", "1", "1", "2", "4", "1", "1", "700", "9"]),
    "voice-cpam-en": ("voice", [CALL, "2", "3", "93200", "*", "2", "2", SILENCE]),
    "voice-short": ("voice", [CALL, "1", "4"]),
}


@dataclass
class Step:
    channel: str            # sms | voice
    path: str               # path and query, as signed
    value: str              # the text, the keys, or CALL
    call: int = 0           # which call of this person (voice)
    answer: bytes = b""     # the recorded answer, with http://localhost as base


@dataclass
class Persona:
    name: str
    steps: list[Step] = field(default_factory=list)


def phone(person: int) -> str:
    return f"+3367{person:07d}"


def sms_params(number: str, body: str, sid: str) -> dict[str, str]:
    """The fields Twilio posts for an incoming SMS."""
    return {"ToCountry": "FR", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "",
            "SmsStatus": "received", "FromCity": "", "Body": body, "FromCountry": "FR",
            "To": HOTLINE_NUMBER, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": number, "ApiVersion": "2010-04-01"}


def voice_params(number: str, call_sid: str, keys: str | None) -> dict[str, str]:
    """The fields Twilio posts for a call (and, after a <Gather>, its result)."""
    params = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid,
              "CallStatus": "ringing" if keys is None else "in-progress",
              "Called": HOTLINE_NUMBER, "CalledCity": "", "CalledCountry": "FR",
              "CalledState": "", "CalledZip": "", "Caller": number, "CallerCity": "",
              "CallerCountry": "FR", "CallerState": "", "CallerZip": "", "Direction": "inbound",
              "From": number, "FromCity": "", "FromCountry": "FR", "FromState": "",
              "FromZip": "", "To": HOTLINE_NUMBER, "ToCity": "", "ToCountry": "FR",
              "ToState": "", "ToZip": ""}
    if keys:
        params.update(Digits=keys, FinishedOnKey="#" if len(keys) > 1 else "",
                      msg="Gather End")
    return params


def step_params(step: Step, person: int, index: int) -> dict[str, str]:
    """The form of one step for one person: their number, their own message/call SIDs."""
    number = phone(person)
    if step.channel == "sms":
        return sms_params(number, step.value, f"SM{person:08x}{index:024x}")
    call_sid = f"CA{person:08x}{step.call:024x}"
    return voice_params(number, call_sid, None if step.value == CALL else step.value)


def record(app, token: str, first_person: int = 9_000_000) -> list[Persona]:
    """Play each persona once through the app's test client (signed as Twilio would)."""
    import xml.etree.ElementTree as ET

    client = app.test_client()
    personas = []
    for k, (name, (channel, script)) in enumerate(PERSONAS.items()):
        person = first_person + k
        persona = Persona(name)
        action, call = None, -1
        for value in script:
            if channel == "voice" and (value == CALL or action is None):
                call += 1  # a new call (also when the last one hung up: keys are dropped)
                step = Step("voice", "/voice", CALL, call)
            elif channel == "voice":
                step = Step("voice", action, value, call)
            else:
                step = Step("sms", "/sms", value)
            params = step_params(step, person, len(persona.steps))
            url = "http://localhost" + step.path
            signature = RequestValidator(token).compute_signature(url, params)
            response = client.post(step.path, data=params,
                                   headers={"X-Twilio-Signature": signature})
            if response.status_code != 200:
                raise RuntimeError(f"recording {name}: {step.path} answered {response.status_code}")
            step.answer = response.data
            persona.steps.append(step)
            if channel == "voice":
                gather = ET.fromstring(response.data).find("Gather")
                if gather is None:
                    action = None
                else:
                    parts = urlsplit(gather.get("action"))
                    action = parts.path + (f"?{parts.query}" if parts.query else "")
        personas.append(persona)
    return personas


@dataclass
class Request:
    path: str
    signature: str
    body: str
    expect: bytes = b""


def build_pool(personas: list[Persona], base: str, token: str, size: int,
               slots: int) -> tuple[list[Request], list[list[Request]], int]:
    """(the pool of `size` requests, one full conversation per persona for `verify`, how
    many distinct people the pool holds).

    `slots` people talk at once: the pool goes round the slots, one step each; when the
    person of a slot has finished their conversation a new person (a new number) takes the
    slot. Two steps of one person are `slots` requests apart, never in flight together."""
    validator = RequestValidator(token)

    def make(step: Step, person: int, index: int) -> Request:
        params = step_params(step, person, index)
        return Request(step.path, validator.compute_signature(base + step.path, params),
                       urlencode(params), step.answer.replace(b"http://localhost", base.encode()))

    people = list(range(slots))            # who talks in each slot
    progress = [0] * slots                 # their next step
    next_person = slots
    pool: list[Request] = []
    while len(pool) < size:
        for slot in range(slots):
            person = people[slot]
            persona = personas[person % len(personas)]
            if progress[slot] == len(persona.steps):
                person = people[slot] = next_person
                next_person += 1
                persona, progress[slot] = personas[person % len(personas)], 0
            pool.append(make(persona.steps[progress[slot]], person, progress[slot]))
            progress[slot] += 1
            if len(pool) == size:
                break
    spare = [[make(step, next_person + k, i) for i, step in enumerate(persona.steps)]
             for k, persona in enumerate(personas)]
    return pool, spare, next_person


def write_pool(path: str, pool: list[Request]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for request in pool:
            out.write(f"{request.path}\t{request.signature}\t{request.body}\n")


def read_pool(path: str) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [tuple(line.rstrip("\n").split("\t", 2)) for line in handle]


def post(conn: http.client.HTTPConnection, path: str, signature: str, body: str):
    conn.request("POST", path, body=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    response = conn.getresponse()
    data = response.read()
    if response.will_close:
        conn.close()  # a sync gunicorn worker closes after each answer; reopen next time
    return response.status, data


def verify(base: str, conversations: list[list[Request]], compare: bool) -> tuple[int, int, list[str]]:
    """Play the spare people's conversations one step at a time: (steps answered 200,
    steps whose answer equals the recording, first differences)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    ok = same = 0
    diffs: list[str] = []
    try:
        for conversation in conversations:
            for request in conversation:
                status, data = post(conn, request.path, request.signature, request.body)
                ok += status == 200
                if compare and data == request.expect:
                    same += 1
                elif compare and len(diffs) < 3:
                    diffs.append(f"{request.path} {status}: {data[:160]!r} != {request.expect[:160]!r}")
    finally:
        conn.close()
    return ok, same, diffs


# --------------------------------------------------------------------------- Python driver
def drive(base: str, pool: list[tuple[str, str, str]], offset: int, connections: int,
          duration: float, timeout: float = 10.0) -> dict:
    """Closed loop: `connections` threads, each with its own keep-alive connection, send
    the pool's requests in order from `offset` for `duration` seconds."""
    parts = urlsplit(base)
    counter = itertools.count(offset)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    bad = [0] * connections
    socket_errors = [0] * connections
    last = [offset] * connections
    stop_at = time.perf_counter() + duration

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        mine = latencies[k]
        while time.perf_counter() < stop_at:
            i = next(counter)
            last[k] = i
            path, signature, body = pool[i % len(pool)]
            start = time.perf_counter()
            try:
                status, _ = post(conn, path, signature, body)
            except (OSError, http.client.HTTPException):
                socket_errors[k] += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - start)
            bad[k] += not 200 <= status < 300
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(itertools.chain.from_iterable(latencies))
    done = len(every)

    def pct(p: float) -> float:
        return every[min(done - 1, int(done * p / 100))] * 1000 if done else float("nan")

    end = max(last) + 1
    return {"tool": "python", "requests": done, "duration_s": elapsed,
            "rps": done / elapsed, "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "max_ms": every[-1] * 1000 if done else float("nan"),
            "mean_ms": statistics.fmean(every) * 1000 if done else float("nan"),
            "non2xx": sum(bad), "socket_errors": sum(socket_errors), "next_offset": end,
            "repeated": max(0, end - len(pool))}


def main() -> None:
    parser = argparse.ArgumentParser(description="drive a pool of signed requests (no wrk)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("drive")
    run.add_argument("--url", required=True)
    run.add_argument("--pool", required=True)
    run.add_argument("--offset", type=int, default=0)
    run.add_argument("--connections", type=int, default=32)
    run.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    result = drive(args.url, read_pool(args.pool), args.offset, args.connections, args.duration)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
