"""The console's routes under /console. Every page needs a signed-in account; with no
account configured every /console path is 404."""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError

from ..services import hotline
from . import auth, flow, health, scriptview, stats, try_line

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

OPEN_ENDPOINTS = {"console.login", "console.static"}
PAGE_ENDPOINTS = {"console.dashboard", "console.flow_page", "console.node_page",
                  "console.try_page", "console.content_page", "console.logout"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def init_console(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Register the console on the app (it stays 404 when HOTLINE_CONSOLE_USERS is unset)."""
    values = {**os.environ, **{k: v for k, v in (overrides or {}).items() if isinstance(v, str)}}
    auth.configure(app, auth.Settings.load(values, app.extensions["hotline"].config.secret))
    app.register_blueprint(bp)


@bp.before_request
def guard() -> Any:
    if not auth.settings().enabled:
        abort(404)
    if request.endpoint == "console.static":
        return None
    if request.method == "POST" and not auth.csrf_ok():
        return Response("CSRF token missing or wrong: reload the page.", status=400,
                        mimetype="text/plain")
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    g.user = auth.signed_in()
    if g.user:
        return None
    if request.method == "GET" and request.endpoint in PAGE_ENDPOINTS:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    return Response("", status=401)


@bp.after_request
def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def template_values() -> dict[str, Any]:
    if not request.path.startswith("/console"):
        return {}
    return {"csrf_token": auth.csrf_token, "user": getattr(g, "user", None),
            "idle_minutes": auth.settings().idle_seconds // 60}


# -- signing in and out -------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only a console path of this site: never another host."""
    target = target or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/console/"):
        return url_for("console.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("console/login.html", error=None,
                               next=request.args.get("next", ""))
    name = (request.form.get("username") or "").strip()[:64]
    password = (request.form.get("password") or "")[:256]
    redis = hotline().store.redis
    try:
        counts = auth.failures(redis, name)
    except RedisError:
        return render_template("console/login.html", error="The database does not answer: "
                               "try again in a minute.", next=""), 503
    if auth.refused(counts):
        response = render_template("console/login.html", next="",
                                   error="Too many failed attempts. Wait 15 minutes, then "
                                         "try again.")
        return response, 429, {"Retry-After": str(auth.settings().window_seconds)}
    time.sleep(auth.delay(counts))
    if not name or not auth.settings().check(name, password):
        auth.record_failure(redis, name)
        return render_template("console/login.html", error="Wrong name or password.",
                               next=request.form.get("next", "")), 401
    auth.clear_failures(redis, name)
    auth.sign_in(name)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    if request.method == "GET":
        return render_template("console/logout.html")
    auth.sign_out()
    return redirect(url_for("console.login"))


# -- the dashboard ------------------------------------------------------------------
def _usage() -> tuple[stats.Usage, Any]:
    hl = hotline()
    first, last = stats.date_range(request.args, hl.config.clock().date())
    return stats.Usage(hl.store.stats_range(first, last)), hl


@bp.get("/")
def dashboard() -> str:
    usage, hl = _usage()
    data = stats.summary(usage, hl.script)
    return render_template("console/dashboard.html", data=data)


@bp.get("/api/stats")
def api_stats() -> Response:
    usage, hl = _usage()
    return jsonify(stats.summary(usage, hl.script))


@bp.get("/export.csv")
def export_csv() -> Response:
    usage, _ = _usage()
    first, last = min(usage.days), max(usage.days)
    return Response(stats.to_csv(usage), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="hotline-{first}-{last}.csv"'})


# -- the flow -------------------------------------------------------------------------
def _flow_svg() -> str:
    usage, hl = _usage()
    counts = {k: v for k, v in usage.by_suffix("node.").items()}
    query: dict[str, Any] = request.args.to_dict()
    source = flow.dot_source(hl.script, counts,
                             lambda node_id: url_for("console.node_page", node_id=node_id,
                                                     **query))
    return flow.render_svg(source)


@bp.get("/flow.svg")
def flow_svg() -> Response:
    try:
        return Response(_flow_svg(), mimetype="image/svg+xml")
    except flow.FlowError as error:
        return Response(str(error), status=503, mimetype="text/plain")


@bp.get("/flow")
def flow_page() -> str:
    usage, _ = _usage()
    try:
        svg, error = flow.inline_svg(_flow_svg()), None
    except flow.FlowError as failure:
        svg, error = "", str(failure)
    return render_template("console/flow.html", svg=svg, error=error, first=min(usage.days),
                           last=max(usage.days))


@bp.get("/flow/node/<node_id>")
def node_page(node_id: str) -> str:
    usage, hl = _usage()
    views = {view.id: view for view in scriptview.nodes(hl.script)}
    view = views.get(node_id)
    if view is None:
        abort(404)
    came_from = [(v.id, key) for v in views.values() for key, t in v.edges if t == node_id]
    counts = {"entered": usage.total(f"node.{node_id}"),
              "calls ended here": usage.total(f"left.{node_id}")}
    if view.outcome:
        counts[f"outcome {view.outcome}"] = usage.total(f"outcome.{view.outcome}")
    texts = {msg_id: scriptview.texts(hl.script, msg_id) for msg_id in view.messages}
    names = {code: name for code, name, _, _ in scriptview.languages(hl.script)}
    return render_template("console/node.html", view=view, texts=texts, counts=counts,
                           came_from=came_from, names=names, first=min(usage.days),
                           last=max(usage.days))


# -- the line in the browser ------------------------------------------------------------
@bp.get("/try")
def try_page() -> str:
    return render_template("console/try.html", identity=try_line.identity(g.user),
                           languages=scriptview.languages(hotline().script))


@bp.post("/try/sms")
def try_sms() -> Any:
    body = (request.form.get("body") or "").strip()
    if not body:
        return jsonify(error="Type a message first."), 400
    try:
        return jsonify(try_line.text(g.user, body))
    except try_line.TryError as error:
        return jsonify(error=str(error)), 502


@bp.post("/try/call")
def try_call() -> Any:
    action = request.form.get("action") or None
    if action is None or not session.get("try_call"):
        session["try_call"] = try_line.new_call_sid()
    digits = "".join(c for c in request.form.get("digits", "") if c in "0123456789*#")[:20]
    try:
        return jsonify(try_line.call(g.user, session["try_call"], action, digits))
    except try_line.TryError as error:
        return jsonify(error=str(error)), 400


@bp.post("/try/reset")
def try_reset() -> Response:
    """Forget the test identity: the next text or call starts as a new person's."""
    store = hotline().store
    store.forget(store.pid(try_line.identity(g.user)))
    session.pop("try_call", None)
    return jsonify(ok=True)


# -- content health -------------------------------------------------------------------------
@bp.get("/content")
def content_page() -> str:
    hl = hotline()
    return render_template("console/content.html",
                           health=health.content_health(hl, hl.config.clock().date()))
