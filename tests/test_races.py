"""Nothing lost, nothing doubled: concurrent texts of one person, the same webhook delivered
twice at once, and a replay after the retry answer expired, against the real app (one
Flask test client per thread) on a real redis-server.

Requests of one pair are released together by a barrier; the turn's load, step and save
leave the GIL on every Redis round trip, so without the save's check the pairs interleave.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from rq import Queue

from hotline.outbound import QUEUE
from hotline.store import Store

from .conftest import SECRET, TOKEN
from .harness import HOTLINE_NUMBER, Caller, Texter, post, read_turn

ACCOUNT = "AC" + "1" * 32


def together(*actions):
    """Run the actions in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)
    errors: list = []

    def run(i, action):
        barrier.wait()
        try:
            results[i] = action()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def state(redis_client, number: str) -> tuple:
    """What is stored about one person's text conversation, preferences included."""
    store = Store(redis_client, SECRET.encode())
    session, _ = store.load(store.pid(number), "sms", None)
    return (session.lang, session.opted_out, session.to_dict())


def french_texter(app, number: str) -> Texter:
    texter = Texter(app.test_client(), TOKEN, number=number)
    texter.send("Bonjour")
    texter.send("1")
    return texter


PAIRS = [("2", "1"), ("TEST", "AME"), ("LANG en", "CSS"), ("STOP", "LANG en"), ("1", "TEST")]


@pytest.mark.parametrize("first,second", PAIRS)
def test_concurrent_texts_of_one_person_end_as_some_serial_order(app, redis_client, first,
                                                                  second):
    serial = set()
    for n, order in enumerate([(first, second), (second, first)]):
        texter = french_texter(app, f"+3361000{n:04d}")
        for body in order:
            texter.send(body)
        serial.add(repr(state(redis_client, texter.number)))

    def pair(n: int) -> str:
        a = french_texter(app, f"+3362{n:07d}")
        b = Texter(app.test_client(), TOKEN, number=a.number)
        together(lambda: a.send(first), lambda: b.send(second))
        return repr(state(redis_client, a.number))

    with ThreadPoolExecutor(8) as pool:
        ends = list(pool.map(pair, range(40)))
    odd = [end for end in ends if end not in serial]
    assert not odd, f"{len(odd)} of {len(ends)} end states no serial order gives: {odd[0]}"


def test_stop_is_never_lost_whatever_arrives_with_it(app, redis_client):
    def person(n: int) -> tuple[list, list]:
        a = french_texter(app, f"+3363{n:07d}")
        b = Texter(app.test_client(), TOKEN, number=a.number)
        other = ("LANG en", "2", "AME", "LANGUE", "STOP")[n % 5]
        stop, _ = together(lambda: a.send("STOP"), lambda: b.send(other))
        return stop, state(redis_client, a.number)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(person, range(50)))
    assert [opted_out for _, (_, opted_out, _) in results] == [True] * 50


def test_the_same_text_delivered_twice_at_once_counts_and_advances_once(app, redis_client):
    def person(n: int) -> None:
        texter = Texter(app.test_client(), TOKEN, number=f"+3364{n:07d}")
        twin = Texter(app.test_client(), TOKEN, number=texter.number)
        sid = f"SMtwin{n:026d}"
        first, again = together(lambda: texter.send("Bonjour", sid=sid),
                                lambda: twin.send("Bonjour", sid=sid))
        assert first == again

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(person, range(1000)))
    store = app.extensions["hotline"].store
    stats = store.stats(app.extensions["hotline"].config.clock().date())
    assert stats["sms.text"] == 1000
    assert stats["node.language"] == 1000
    for n in range(0, 1000, 97):  # and each session moved one step
        assert state(redis_client, f"+3364{n:07d}")[2]["step"] == 1


def test_send_me_this_by_sms_pressed_twice_at_once_queues_one_copy(make_app, redis_client):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    app.extensions["hotline"].outbox.inline = False  # queue on RQ, as with a worker
    queue = Queue(QUEUE, connection=redis_client)

    def caller(n: int) -> None:
        person = Caller(app.test_client(), TOKEN, number=f"+3365{n:07d}")
        person.call()
        person.press("1")  # French
        person.press("2")  # information
        answer = person.press("2")  # AME: "1 to receive it by SMS"
        action = urlsplit(answer.gather["action"])
        path = f"{action.path}?{action.query}"
        params = {"CallSid": person.call_sid, "From": person.number, "To": HOTLINE_NUMBER,
                  "Digits": "1"}
        client = app.test_client()
        first, again = together(lambda: post(person.client, TOKEN, path, params).data,
                                lambda: post(client, TOKEN, path, params).data)
        assert first == again and "SMS" in read_turn(first).text

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(caller, range(100)))
    assert queue.count == 100


def test_a_replay_after_the_retry_answer_expired_changes_nothing(app, redis_client):
    texter = french_texter(app, "+33612340000")
    texter.send("2")
    sid = "SMreplay000000000000000000000001"
    assert texter.send("1", sid=sid)[0].startswith("PUMA")
    store = app.extensions["hotline"].store
    pid = store.pid(texter.number)
    before = state(redis_client, texter.number)
    counts = store.stats(app.extensions["hotline"].config.clock().date())
    redis_client.delete(store.answer_key(pid, f"sms:{sid}"))  # six minutes later

    assert texter.send("1", sid=sid) == []  # silence: a replay must not cost a text
    assert state(redis_client, texter.number) == before
    assert store.stats(app.extensions["hotline"].config.clock().date()) == counts

    # a call step replayed the same way repeats the current prompt and moves nothing
    caller = Caller(app.test_client(), TOKEN, number="+33698760000")
    caller.call()
    menu = caller.press("1")
    action = urlsplit(menu.gather["action"])
    params = {"CallSid": caller.call_sid, "From": caller.number, "To": HOTLINE_NUMBER,
              "Digits": "2"}
    topics = read_turn(post(caller.client, TOKEN, f"{action.path}?{action.query}", params).data)
    assert "Carte Vitale: 4" in topics.text
    for key in redis_client.scan_iter(f"hl:{{{store.pid(caller.number)}}}:answer:*"):
        redis_client.delete(key)
    again = read_turn(post(caller.client, TOKEN, f"{action.path}?{action.query}", params).data)
    assert again.texts == topics.texts  # the current prompt, not the next one
    caller.turn = topics
    assert "L'aide médicale de l'État" in caller.press("2").text  # still on the topics menu
