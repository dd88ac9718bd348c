"""Growing past one machine: several app processes on one Redis, Redis Cluster, Sentinel.

- Two gunicorn servers on different loopback ports share one redis-server, and one text
  conversation and one call hop between them at every turn.
- A local 3-node Redis Cluster (real `redis-server --cluster-enabled yes` processes) holds a
  whole conversation, a call and an erasure through REDIS_URL=redis+cluster://...
- redis+sentinel:// URLs become Sentinel-managed clients (and one real Sentinel is tried).

Every process started here is stopped in a `finally`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import redis

from hotline import create_app
from hotline.content.script import shared_script
from hotline.embedded_redis import EmbeddedRedis, free_port
from hotline.redis_conn import redis_client as make_client
from hotline.sms_segments import fold_for_sms
from hotline.store import Store

from .conftest import SECRET, TOKEN, redis_binary
from .harness import HOTLINE_NUMBER, Caller, Texter, read_turn, sign
from .twiml_check import parse

REPO = Path(__file__).resolve().parents[1]
SCRIPT = shared_script()
# RULES.md scenario 11: metropolitan France, no child, no papers, > 3 months, 1 person,
# 700 EUR a month -> AME. Q3's answer ("4", no papers) is kept only in the session: if a
# turn on the other server lost it, the outcome could not be AME.
QUIZ_KEYS = ["1", "2", "4", "1", "1", "1", "700"]
QUIZ_PROMPTS = ["quiz.q2", "quiz.q3", "quiz.q3.other", "quiz.q4.nopapers", "quiz.q5", "quiz.q6",
                "quiz.out.ame"]


def shown(msg_id: str, channel: str, answer: str, lang: str = "fr") -> bool:
    """Whether the answer carries the first words of that message (before any placeholder),
    as written or folded to GSM-7 as French SMS are."""
    text = SCRIPT.message(lang, msg_id).text(channel).split("{")[0][:40]
    return text in answer or (channel == "sms" and fold_for_sms(text) in answer)


# --------------------------------------------------------------------------- processes
def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdout, process.stderr, getattr(process, "log", None)):
        if stream is not None:
            stream.close()


def start_gunicorn(redis_url: str, **extra_env: str) -> tuple[subprocess.Popen, str]:
    """`gunicorn 'hotline:create_app()'` on a free loopback port; (process, base URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    base = f"http://127.0.0.1:{port}"
    env.update(REDIS_URL=redis_url, TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_SECRET=SECRET,
               HOTLINE_AUDIO="0",  # every prompt as <Say>: the test reads the words
               HOTLINE_PUBLIC_URL=base, **extra_env)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--timeout", "20", "--log-level", "warning", "hotline:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, base
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    stop(process)
    raise RuntimeError("gunicorn did not answer /healthz in 30 s")


@pytest.fixture(scope="module")
def gunicorn_pair(redis_server):
    """Two hotline processes on two ports sharing the session's redis-server."""
    started = []
    try:
        for _ in range(2):
            started.append(start_gunicorn(redis_server.url))
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            stop(process)


@pytest.fixture
def two_servers(gunicorn_pair, redis_client):  # redis_client: a flushed Redis per test
    return gunicorn_pair


def http_post(base: str, path_and_query: str, params: dict) -> bytes:
    """POST as Twilio does: form body, signature over the exact URL this server sees."""
    url = base + path_and_query
    request = urllib.request.Request(
        url, data=urlencode(params).encode(), method="POST",
        headers={"X-Twilio-Signature": sign(TOKEN, url, params),
                 "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read()


def sms_over_http(base: str, number: str, body: str, sid: str) -> str:
    params = {"From": number, "To": HOTLINE_NUMBER, "Body": body, "MessageSid": sid,
              "NumMedia": "0"}
    root = parse(http_post(base, "/sms", params))
    return "\n".join((m.text or "") for m in root.iter("Message"))


# --------------------------------------------------------------------------- two processes
def test_one_text_conversation_hops_between_two_app_processes(two_servers, redis_client):
    a, b = two_servers
    number = "+33611223344"
    turns = [("Bonjour", "language.option"), ("1", "main.menu"), ("TEST", "quiz.q1")]
    turns += list(zip(QUIZ_KEYS, QUIZ_PROMPTS))
    for i, (text, expected) in enumerate(turns):
        server = (a, b)[i % 2]
        answer = sms_over_http(server, number, text, f"SM{i:032d}")
        assert shown(expected, "sms", answer), (i, server, text, answer)

    # A retry of the last message reaching the other process gets the same answer and
    # changes nothing: the cached answer lives in the shared Redis, not in a process.
    last = f"SM{len(turns) - 1:032d}"
    first = sms_over_http(b, number, "700", last)
    again = sms_over_http(a, number, "700", last)
    assert first == again and shown("quiz.out.ame", "sms", again)
    assert shown("main.menu", "sms", sms_over_http(b, number, "MENU", "SM" + "9" * 32))

    pid = Store(redis_client, SECRET.encode()).pid(number)
    assert redis_client.exists(Store.session_key(pid, "sms"))
    assert not any(number.encode() in key for key in redis_client.keys("*"))


def test_a_stopping_worker_writes_the_usage_counters_it_holds(redis_server, redis_client):
    """Counters are added up in each process and written once per HOTLINE_STATS_EVERY:
    a worker stopped by gunicorn (deploy, scale down) writes what it holds on its way out."""
    process, base = start_gunicorn(redis_server.url, HOTLINE_STATS_EVERY="3600")
    try:
        for i, text in enumerate(["Bonjour", "1", "AME"]):
            sms_over_http(base, "+33611220000", text, f"SM{i:032d}")
        assert not redis_client.keys("hl:stats:*")  # held in the worker for now
    finally:
        stop(process)  # SIGTERM: gunicorn stops its worker gracefully
    [key] = redis_client.keys("hl:stats:*")
    counts = {k.decode(): int(v) for k, v in redis_client.hgetall(key).items()}
    assert counts["sms.text"] == 3 and counts["lang.fr"] == 1 and counts["node.topic.ame"] == 1


def test_one_call_hops_between_two_app_processes(two_servers):
    a, b = two_servers
    params = {"CallSid": "CA" + "7" * 32, "From": "+33655443322", "To": HOTLINE_NUMBER,
              "CallStatus": "in-progress", "Direction": "inbound"}
    turn = read_turn(http_post(a, "/voice", params))
    assert shown("language.option", "voice", turn.text)
    assert turn.gather["action"].startswith(a + "/voice/input?")

    keys = ["1", "1"] + QUIZ_KEYS  # French, questionnaire, then its answers
    expected = ["main.menu", "quiz.q1"] + QUIZ_PROMPTS
    for i, (key, prompt) in enumerate(zip(keys, expected)):
        server = (b, a)[i % 2]
        action = urlsplit(turn.gather["action"])  # given by the other process
        turn = read_turn(http_post(server, f"{action.path}?{action.query}",
                                   {**params, "Digits": key}))
        assert shown(prompt, "voice", turn.text), (i, server, key, turn.text)
        if turn.gather:
            assert turn.gather["action"].startswith(server + "/voice/input?")


# --------------------------------------------------------------------------- Redis Cluster
def redis_cli_binary() -> str | None:
    """redis-cli next to the redis-server in use, else on PATH (not a pyenv shim)."""
    server = redis_binary()
    if server:
        beside = Path(server).resolve().parent / "redis-cli"
        if beside.exists():
            return str(beside)
        beside = Path(server).parent / "redis-cli"
        if beside.exists():
            return str(beside)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("redis-cli", path=folder) if "shims" not in folder else None
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory, redis_server):
    """Three real redis-server processes in cluster mode, no replicas; yields the client
    URL. Skipped when redis-server or redis-cli is not installed, or older than 7 (the
    nodes are given their bus port with --cluster-port, new in Redis 7)."""
    cli = redis_cli_binary()
    if not redis_binary() or not cli:
        pytest.skip("redis-server and redis-cli are needed for the Redis Cluster test "
                    "(apt-get install redis-server)")
    version = redis_server.version()
    if version < (7,):
        pytest.skip(f"the Redis Cluster tests need redis-server 7 or later (--cluster-port); "
                    f"this one is {'.'.join(map(str, version))}")
    folder = tmp_path_factory.mktemp("cluster")
    nodes: list[EmbeddedRedis] = []
    try:
        for n in range(3):
            bus = free_port()  # the bus port, given explicitly: port+10000 may not exist
            nodes.append(EmbeddedRedis(binary=redis_binary(), extra_args=[
                "--cluster-enabled", "yes", "--cluster-port", str(bus),
                "--cluster-config-file", str(folder / f"nodes-{n}.conf"),
                "--cluster-node-timeout", "2000"]))
        created = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stdout + created.stderr
        deadline = time.monotonic() + 30
        for node in nodes:
            plain = redis.Redis(port=node.port)
            while b"cluster_state:ok" not in plain.execute_command("CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the cluster did not reach state ok"
                time.sleep(0.1)
            plain.close()
        yield f"redis+cluster://127.0.0.1:{nodes[0].port}", [node.port for node in nodes]
    finally:
        for node in nodes:
            node.stop()


def test_a_conversation_a_call_and_an_erasure_on_redis_cluster(redis_cluster):
    url, ports = redis_cluster
    app = create_app({"REDIS_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "HOTLINE_SECRET": SECRET,
                      "HOTLINE_AUDIO": "0", "TWILIO_ACCOUNT_SID": "",
                      "HOTLINE_SKIP_SIGNATURE": "0"})
    store = app.extensions["hotline"].store
    assert isinstance(store.redis.get(), redis.cluster.RedisCluster)
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["redis"] == "ok"

    texter = Texter(client, TOKEN, number="+33612000001")
    assert shown("language.option", "sms", texter.says("Bonjour"))
    assert shown("main.menu", "sms", texter.says("1"))
    assert shown("quiz.q1", "sms", texter.says("TEST"))
    for key, prompt in zip(QUIZ_KEYS, QUIZ_PROMPTS):
        assert shown(prompt, "sms", texter.says(key))
    retry = texter.send("700", sid=texter.last_sid)  # Twilio retrying: the cached answer
    assert shown("quiz.out.ame", "sms", "\n".join(retry))

    caller = Caller(client, TOKEN, number="+33698000002")
    assert shown("language.option", "voice", caller.call().text)
    assert shown("main.menu", "voice", caller.press("1").text)
    assert shown("quiz.q1", "voice", caller.press("1").text)
    for key, prompt in zip(QUIZ_KEYS, QUIZ_PROMPTS):
        assert shown(prompt, "voice", caller.press(key).text)

    # every key of one person in one slot (the {pid} hash tag), on one node
    pid = store.pid(texter.number)
    keys = list(store.redis.scan_iter(match=f"hl:{{{pid}}}:*"))
    assert len(keys) >= 3  # session, preferences, cached answers
    assert len({store.redis.keyslot(key) for key in keys}) == 1
    # ... while different people spread over the three nodes
    slots = {store.redis.keyslot(Store.prefs_key(store.pid(f"+3361{n:07d}"))) for n in range(60)}
    owners = {store.redis.nodes_manager.get_node_from_slot(slot).port for slot in slots}
    assert owners == set(ports)

    # the rate limit's INCR + EXPIRE NX pipeline, and the daily counters
    caller_pid = store.pid(caller.number)
    assert [store.allow_outbound(caller_pid, limit=2) for _ in range(3)] == [True, True, False]
    assert 0 < store.redis.ttl(Store.outbound_key(caller_pid)) <= 3600
    stats = store.stats(app.extensions["hotline"].config.clock().date())
    assert stats.get("sms.text", 0) >= 9 and stats.get("voice.start") == 1

    # `hotline forget`: everything of that person goes, the other person stays
    assert store.forget(pid) == len(keys)
    assert list(store.redis.scan_iter(match=f"hl:{{{pid}}}:*")) == []
    assert list(store.redis.scan_iter(match=f"hl:{{{caller_pid}}}:*"))
    assert shown("language.option", "sms", texter.says("Bonjour"))  # a stranger again
    store.redis.close()


def test_the_worker_command_says_rq_cannot_run_on_a_cluster(redis_cluster, monkeypatch):
    from click.testing import CliRunner

    from hotline.cli import main

    monkeypatch.setenv("REDIS_URL", redis_cluster[0])
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code != 0 and "scale the `worker` process to 0" in result.output


# --------------------------------------------------------------------------- Sentinel
def test_sentinel_urls_become_sentinel_managed_clients():
    from redis.sentinel import SentinelConnectionPool

    client = make_client("redis+sentinel://:s3cr%40t@10.0.0.1:26379,10.0.0.2,[::1]:26380"
                          "/hotline-master/2")
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "hotline-master" and pool.is_master
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "s3cr@t"
    assert pool.connection_kwargs["socket_timeout"] == 1.0
    sentinels = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
    assert [(s["host"], s["port"]) for s in sentinels] == [
        ("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380)]
    assert all(s["socket_timeout"] == 1.0 and not s.get("password") for s in sentinels)
    assert make_client("redis+sentinel://h:1/svc").connection_pool.connection_kwargs["db"] == 0


@pytest.mark.parametrize("url", ["redis+sentinel://h:26379", "redis+sentinel://h/a/1/2",
                                 "memcached://h:1", "unix+cluster:///tmp/r.sock",
                                 "redis+cluster://h:7000/3"])
def test_bad_redis_urls_are_refused_at_start_up(url):
    with pytest.raises(ValueError):
        make_client(url)


def test_plain_urls_still_give_one_server_clients(redis_server):
    client = make_client(redis_server.url)
    assert type(client) is redis.Redis and client.ping()
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 1.0 and kwargs["socket_connect_timeout"] == 1.0
    unix = make_client("unix:///tmp/none.sock?db=3").connection_pool.connection_kwargs
    assert unix["path"] == "/tmp/none.sock" and unix["db"] == 3


def test_a_real_sentinel_points_the_app_at_its_master(redis_server, redis_client, tmp_path,
                                                      monkeypatch):
    binary = redis_binary()
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    master_port = urlsplit(redis_server.url).port
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor hotline 127.0.0.1 {master_port} 1\n")
    process = subprocess.Popen([binary, str(conf), "--sentinel"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if probe.execute_command("SENTINEL", "get-master-addr-by-name", "hotline"):
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the sentinel did not start"
            time.sleep(0.1)
        app = create_app({"REDIS_URL": f"redis+sentinel://127.0.0.1:{port}/hotline",
                          "TWILIO_AUTH_TOKEN": TOKEN, "HOTLINE_SECRET": SECRET,
                          "TWILIO_ACCOUNT_SID": ""})
        texter = Texter(app.test_client(), TOKEN, number="+33612999999")
        texter.send("Bonjour")
        assert shown("main.menu", "sms", texter.says("1"))
        pid = Store(redis_client, SECRET.encode()).pid(texter.number)
        assert redis_client.exists(Store.session_key(pid, "sms"))  # it is the master
        # `hotline worker` finds the queue through the same Sentinel URL (`rq worker --url`
        # could not)
        from .test_outbound import queue_and_work

        url = f"redis+sentinel://127.0.0.1:{port}/hotline"
        [body] = queue_and_work(url, make_client(url), monkeypatch)
        assert "CPAM+93" in body
        probe.close()
    finally:
        stop(process)


def test_healthz_sees_one_cluster_node_down(redis_cluster):
    """Every primary holds some people: /healthz pings them all, not one. Stops a node, so
    it runs last of the cluster tests (the fixture is per module)."""
    url, ports = redis_cluster
    app = create_app({"REDIS_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "HOTLINE_SECRET": SECRET,
                      "HOTLINE_AUDIO": "0", "TWILIO_ACCOUNT_SID": ""})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    redis.Redis(port=ports[-1]).shutdown(nosave=True)
    started = time.monotonic()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["redis"].startswith("unreachable")
    assert time.monotonic() - started < 10
    # and a text still gets an answer (stateless if that person's node is the one down)
    texter = Texter(client, TOKEN, number="+33612000009")
    assert texter.says("AME")
