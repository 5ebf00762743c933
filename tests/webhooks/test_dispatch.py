"""Deliveries to a real receiver: signed per Standard Webhooks, retried on the schedule,
logged, and stopped by a 410 or a run of failures."""

import asyncio
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select, update

from app.changes.models import ScheduledChange
from app.webhooks import dispatcher
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookOutbox
from tests.helpers import ROOT, create_article, parse_time
from tests.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.anyio


async def test_a_published_article_reaches_the_receiver_signed(desk, receiver):
    webhook = await desk.subscribe(receiver)
    article = await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 1)

    [message] = receiver.received
    assert message.verified, "the signature must verify with the webhook's secret"
    assert message.path == "/hooks/newsdesk"
    assert message.headers["content-type"] == "application/json"
    assert message.message_id.startswith("msg_")
    assert abs(int(message.headers["webhook-timestamp"]) - time.time()) < 30
    assert message.payload["type"] == "article.published"
    data = message.payload["data"]
    assert data["article_id"] == article["id"]
    assert data["slug"] == "pier-closes"
    assert data["version"] == article["version"]
    assert data["url"] == f"https://api.newsdesk.test/v1/articles/{article['id']}"
    changes = (await desk.client.get("/v1/changes")).json()["data"]
    assert data["seq"] == changes[-1]["seq"]
    assert parse_time(message.payload["timestamp"]) == parse_time(changes[-1]["occurred_at"])

    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "succeeded"
    assert logged["message_id"] == message.message_id
    assert logged["payload"] == message.payload
    assert [a["status_code"] for a in logged["attempts"]] == [200]
    assert logged["attempts"][0]["response_excerpt"] == "ok"
    assert logged["next_attempt_at"] is None


async def test_a_tampered_body_fails_verification(desk, receiver):
    """The receiver's check is real: the same headers over other bytes do not verify."""
    await desk.subscribe(receiver)
    await desk.publish("pier-closes")
    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    [message] = receiver.received
    assert receiver._verify(message.body, message.headers)
    assert not receiver._verify(message.body.replace(b"pier", b"pyer"), message.headers)


async def test_every_change_is_delivered_once(desk, receiver):
    """Sends run side by side, so arrival order is not promised: `seq` gives the order."""
    await desk.subscribe(receiver)
    article = await desk.publish("pier-closes")
    url = f"/v1/articles/{article['id']}"
    for step in (
        desk.client.patch(url, json={"deck": "Repairs start Monday."}, headers=desk.editor),
        desk.client.post(f"{url}/retract", json={"text": "Wrong pier."}, headers=desk.editor),
        desk.client.delete(url, headers=desk.editor),
    ):
        assert (await step).status_code in (200, 204)

    await desk.dispatch(until=lambda: len(receiver.received) == 4)
    await asyncio.sleep(0.2)  # nothing more comes

    in_order = sorted(receiver.received, key=lambda m: m.payload["data"]["seq"])
    assert [m.payload["type"] for m in in_order] == [
        "article.published",
        "article.updated",
        "article.retracted",
        "article.deleted",
    ]
    assert len(receiver.message_ids()) == 4
    assert all(m.verified for m in receiver.received)
    async with desk.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookOutbox)) == 0


async def test_drafts_and_unsubscribed_events_are_not_sent(desk, receiver):
    await desk.subscribe(receiver, events=["article.deleted"])
    article = await desk.publish("pier-closes")
    await desk.drain()
    await desk.client.delete(f"/v1/articles/{article['id']}", headers=desk.editor)

    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    await asyncio.sleep(0.2)

    assert [m.payload["type"] for m in receiver.received] == ["article.deleted"]


async def test_the_view_decides_whether_unsyndicated_articles_are_sent(desk, receiver):
    syndicated = await desk.subscribe(receiver)
    public = await desk.subscribe(receiver, view="public")
    receiver.secret = None  # two secrets in play: this test reads the logs instead
    await desk.publish("members-only", syndication={"allowed": False})
    await desk.publish("for-everyone")

    await desk.dispatch(until=lambda: len(receiver.received) == 3)

    slugs = lambda logged: sorted(d["payload"]["data"]["slug"] for d in logged)  # noqa: E731
    assert slugs(await desk.deliveries(syndicated)) == ["for-everyone"]
    assert slugs(await desk.deliveries(public)) == ["for-everyone", "members-only"]


async def test_failures_are_retried_with_the_same_id_until_delivered(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(500, 503, Answer(302, {"Location": "/elsewhere"}))
    await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 4)

    assert len(receiver.message_ids()) == 1, "retries keep the webhook-id"
    assert all(m.verified for m in receiver.received)
    assert all(m.path == "/hooks/newsdesk" for m in receiver.received), "redirects not followed"
    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "succeeded"
    assert logged["attempt_count"] == 4
    assert [a["status_code"] for a in logged["attempts"]] == [500, 503, 302, 200]
    assert "redirects are not followed" in logged["attempts"][2]["error"]
    first, second = (parse_time(a["attempted_at"]) for a in logged["attempts"][:2])
    assert second - first >= timedelta(seconds=0.2), "the retry waits its turn"
    assert (await desk.webhook(webhook))["consecutive_failures"] == 0


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_other_client_errors_are_final(desk, receiver, status):
    webhook = await desk.subscribe(receiver)
    receiver.answer(status)
    await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    await asyncio.sleep(0.5)  # longer than the retry wait
    await desk.drain()

    assert len(receiver.received) == 1
    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "failed"
    assert logged["attempts"][0]["error"] == f"answered {status}"
    assert (await desk.webhook(webhook))["enabled"] is True


async def test_a_delivery_is_given_up_when_the_schedule_runs_out(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.default = Answer(500)
    await desk.publish("pier-closes")

    attempts = len(desk.settings.webhook_retry_schedule)
    await desk.dispatch(until=lambda: len(receiver.received) == attempts)
    await asyncio.sleep(0.5)
    await desk.drain()

    assert len(receiver.received) == attempts
    [logged] = await desk.deliveries(webhook, status="failed")
    assert logged["attempt_count"] == attempts
    assert logged["completed_at"] is not None
    assert (await desk.webhook(webhook))["consecutive_failures"] == attempts


async def test_retry_after_is_honoured(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(Answer(429, {"Retry-After": "30"}))
    await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    await asyncio.sleep(0.1)

    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "pending"
    waited = parse_time(logged["next_attempt_at"]) - parse_time(
        logged["attempts"][0]["attempted_at"]
    )
    assert waited >= timedelta(seconds=29)


async def test_a_slow_receiver_times_out_and_is_retried(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(Answer(200, delay=2))  # the timeout is 1 s
    await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 2)

    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "succeeded"
    first = logged["attempts"][0]
    assert first["status_code"] is None
    assert first["error"] == "no answer within 1 s"
    assert 900 <= first["duration_ms"] < 2000


async def test_a_refused_connection_is_retried(desk, receiver):
    webhook = await desk.subscribe(receiver)
    patched = await desk.client.patch(
        f"/v1/webhooks/{webhook['id']}",
        json={"url": "http://127.0.0.1:9/nothing-listens"},
        headers=desk.admin,
    )
    assert patched.status_code == 200
    await desk.publish("pier-closes")

    async def failed_twice() -> bool:
        logged = await desk.deliveries(webhook)
        return bool(logged) and len(logged[0]["attempts"]) >= 2

    async with asyncio.timeout(20):
        while not await failed_twice():
            await desk.drain()
            await asyncio.sleep(0.1)

    [logged] = await desk.deliveries(webhook)
    assert logged["status"] == "pending"
    assert all("ConnectError" in a["error"] for a in logged["attempts"])


async def test_410_gone_disables_the_webhook(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(410)
    await desk.publish("pier-closes")
    await desk.dispatch(until=lambda: len(receiver.received) == 1)

    await desk.publish("harbour-reopens")
    await desk.drain()
    await asyncio.sleep(0.3)
    await desk.drain()

    assert len(receiver.received) == 1, "nothing goes to a webhook that is gone"
    state = await desk.webhook(webhook)
    assert state["enabled"] is False
    assert state["disabled_reason"] == "The receiver answered 410 Gone."
    assert [d["status"] for d in await desk.deliveries(webhook)] == ["failed"]


async def test_a_run_of_failures_disables_it_and_re_enabling_resumes(desk, receiver):
    desk.settings.webhook_disable_after_failures = 3
    webhook = await desk.subscribe(receiver)
    receiver.default = Answer(503)
    await desk.publish("pier-closes")

    await desk.dispatch(until=lambda: len(receiver.received) == 3)
    await asyncio.sleep(0.4)
    await desk.drain()

    state = await desk.webhook(webhook)
    assert len(receiver.received) == 3
    assert state["enabled"] is False
    assert state["disabled_reason"].startswith("3 failed attempts in a row since ")
    assert state["consecutive_failures"] == 3
    [waiting] = await desk.deliveries(webhook)
    assert waiting["status"] == "pending", "what was queued is kept for when it returns"

    receiver.default = Answer(200)
    enabled = await desk.client.patch(
        f"/v1/webhooks/{webhook['id']}", json={"enabled": True}, headers=desk.admin
    )
    assert enabled.json()["enabled"] is True
    await desk.dispatch(until=lambda: len(receiver.received) == 4)
    [delivered] = await desk.deliveries(webhook)
    assert delivered["status"] == "succeeded"


async def test_events_raised_while_disabled_are_not_queued(desk, receiver):
    webhook = await desk.subscribe(receiver)
    await desk.client.patch(
        f"/v1/webhooks/{webhook['id']}", json={"enabled": False}, headers=desk.admin
    )
    await desk.publish("pier-closes")
    await desk.drain()
    async with desk.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookOutbox)) == 0
    assert await desk.deliveries(webhook) == []


async def test_private_addresses_are_refused_at_delivery(desk, receiver):
    webhook = await desk.subscribe(receiver)  # allowed while the setting was on
    desk.settings.webhooks_allow_private = False
    await desk.publish("pier-closes")

    async def logged() -> list:
        return await desk.deliveries(webhook, status="failed")

    async with asyncio.timeout(20):
        while not await logged():
            await desk.drain()
            await asyncio.sleep(0.05)

    assert receiver.received == []
    [refused] = await logged()
    assert refused["attempt_count"] == 1
    assert refused["attempts"][0]["error"] == (
        "refused: the URL points at 127.0.0.1, a private or reserved address"
    )


async def test_test_messages_report_the_answer_and_count_for_nothing(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(500)

    failed = await desk.client.post(f"/v1/webhooks/{webhook['id']}/test", headers=desk.admin)
    ok = await desk.client.post(f"/v1/webhooks/{webhook['id']}/test", headers=desk.admin)

    assert failed.status_code == ok.status_code == 200
    assert failed.json()["status"] == "failed"
    assert failed.json()["attempts"][0]["status_code"] == 500
    assert ok.json()["status"] == "succeeded"
    assert ok.json()["event"] == "webhook.test"
    assert [m.payload["type"] for m in receiver.received] == ["webhook.test"] * 2
    assert all(m.verified for m in receiver.received)
    assert receiver.received[0].payload["data"] == {"webhook_id": webhook["id"]}
    assert (await desk.webhook(webhook))["consecutive_failures"] == 0
    await desk.drain()
    await asyncio.sleep(0.3)
    await desk.drain()
    assert len(receiver.received) == 2, "a test message is not retried"
    assert len(await desk.deliveries(webhook)) == 2


async def test_a_disabled_webhook_can_still_be_tested(desk, receiver):
    webhook = await desk.subscribe(receiver)
    await desk.client.patch(
        f"/v1/webhooks/{webhook['id']}", json={"enabled": False}, headers=desk.admin
    )
    sent = await desk.client.post(f"/v1/webhooks/{webhook['id']}/test", headers=desk.admin)
    assert sent.json()["status"] == "succeeded"
    assert len(receiver.received) == 1


async def test_two_dispatchers_never_send_the_same_delivery_twice(desk, receiver):
    """Without a leader (both act at once), row claims alone keep each send single."""
    await desk.subscribe(receiver)
    for n in range(12):
        await desk.publish(f"story-{n}")
    receiver.default = Answer(200, delay=0.05)

    await asyncio.gather(
        desk.dispatch(until=lambda: len(receiver.received) >= 12),
        desk.dispatch(until=lambda: len(receiver.received) >= 12),
    )
    await asyncio.sleep(0.3)

    assert len(receiver.received) == 12
    assert len(receiver.message_ids()) == 12


async def test_one_dispatcher_leads_and_another_takes_over_when_its_lease_lapses(desk):
    """Only the first lease is meant to lapse; the others outlast any slow moment."""
    lease = "test-lease"
    assert await dispatcher.hold_lease(desk.sessionmaker, lease, "first", 30)
    assert not await dispatcher.hold_lease(desk.sessionmaker, lease, "second", 30)
    assert await dispatcher.hold_lease(desk.sessionmaker, lease, "first", 0.5), "renewal"
    await asyncio.sleep(0.6)
    assert await dispatcher.hold_lease(desk.sessionmaker, lease, "second", 30)
    assert not await dispatcher.hold_lease(desk.sessionmaker, lease, "first", 30)
    await dispatcher.release_lease(desk.sessionmaker, lease, "second")
    assert await dispatcher.hold_lease(desk.sessionmaker, lease, "first", 30)


async def test_a_running_dispatcher_delivers_and_stops_after_sends_in_flight(desk, receiver):
    await desk.subscribe(receiver)
    running = dispatcher.Dispatcher(desk.sessionmaker, desk.settings)
    task = asyncio.create_task(running.run())
    try:
        receiver.answer(Answer(200, delay=0.6))
        await desk.publish("pier-closes")
        async with asyncio.timeout(10):
            while not await _in_flight(desk):  # noqa: ASYNC110  (polls the database)
                await asyncio.sleep(0.02)
        running.stop()
        await asyncio.wait_for(task, 10)
    finally:
        running.stop()
        await task

    assert len(receiver.received) == 1
    async with desk.sessionmaker() as session:
        statuses = list(await session.scalars(select(WebhookDelivery.status)))
    assert statuses == [DeliveryStatus.succeeded], "the send in flight was finished and logged"


async def _in_flight(desk) -> bool:
    """A delivery has been taken (its due time pushed into the future) but not finished."""
    async with desk.sessionmaker() as session:
        taken = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at > datetime.now(UTC),
            )
        )
    return bool(taken)


async def test_old_finished_deliveries_are_pruned(desk, receiver):
    webhook = await desk.subscribe(receiver)
    receiver.answer(400)
    await desk.publish("old-news")
    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    long_ago = datetime.now(UTC) - timedelta(days=desk.settings.webhook_log_days + 1)
    async with desk.sessionmaker.begin() as session:
        await session.execute(update(WebhookDelivery).values(completed_at=long_ago))
    await desk.publish("fresh-news")
    await dispatcher.fan_out(desk.sessionmaker, desk.settings)  # queued, not yet sent

    await dispatcher.prune(desk.sessionmaker, desk.settings)

    assert [d["payload"]["data"]["slug"] for d in await desk.deliveries(webhook)] == ["fresh-news"]


def readme_verifier():  # type: ignore[no-untyped-def]
    """The signature check the README gives partners, taken from the README itself."""
    text = (ROOT / "README.md").read_text()
    found = re.search(r"```python\n(import base64.*?def verify.*?)```", text, re.DOTALL)
    assert found, "the README shows how to verify a signature"
    namespace: dict[str, object] = {}
    exec(found.group(1), namespace)  # noqa: S102  (our own README)
    return namespace["verify"]


async def test_the_readme_verifier_accepts_deliveries_and_rejects_forgeries(desk, receiver):
    verify = readme_verifier()
    await desk.subscribe(receiver)
    await desk.publish("pier-closes")
    await desk.dispatch(until=lambda: len(receiver.received) == 1)
    [message] = receiver.received
    secret = receiver.secret

    assert verify(secret, message.headers, message.body)
    assert not verify(secret, message.headers, message.body + b" ")
    other_secret = (await desk.subscribe(receiver))["secret"]
    assert not verify(other_secret, message.headers, message.body)
    stale = {**message.headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    assert not verify(secret, stale, message.body)


async def test_the_schedule_s_first_wait_delays_the_first_attempt(desk, receiver):
    desk.settings.webhook_retry_schedule = [30, 60]
    webhook = await desk.subscribe(receiver)
    await desk.publish("pier-closes")
    queued_at = datetime.now(UTC)

    await desk.drain()

    assert receiver.received == []
    [waiting] = await desk.deliveries(webhook)
    assert waiting["status"] == "pending"
    assert parse_time(waiting["next_attempt_at"]) >= queued_at + timedelta(seconds=29)


async def test_claims_take_turns_across_endpoints_and_respect_their_room(desk):
    with Receiver() as first, Receiver() as second:
        busy = await desk.subscribe(first)
        for n in range(6):
            await desk.publish(f"backlog-{n}")
        await dispatcher.fan_out(desk.sessionmaker, desk.settings)
        other = await desk.subscribe(second)
        for n in range(2):
            await desk.publish(f"fresh-{n}")
        await dispatcher.fan_out(desk.sessionmaker, desk.settings)
    desk.settings.webhook_concurrency_per_endpoint = 4
    take = partial(dispatcher.claim, desk.sessionmaker, desk.settings)

    # The busy endpoint's older backlog does not come first: each endpoint gets a turn.
    taken = Counter(str(job.webhook_id) for job in await take(4))
    assert taken == {busy["id"]: 2, other["id"]: 2}
    # An endpoint with sends in flight gets only what its room allows, and none when full.
    busy_id = uuid.UUID(busy["id"])
    assert len(await take(4, {busy_id: 3})) == 1
    assert await take(4, {busy_id: 4}) == []
    assert len(await take(4, {busy_id: 1})) == 3


async def test_a_hanging_receiver_does_not_hold_up_another(desk):
    """Sends stay in flight continuously and each endpoint has its own share of them."""
    events = 24
    desk.settings.webhook_timeout_seconds = 3
    desk.settings.webhook_concurrency = 8
    desk.settings.webhook_concurrency_per_endpoint = 4
    with Receiver() as hanging, Receiver() as healthy:
        hanging.default = Answer(200, delay=30)  # longer than this test waits
        await desk.subscribe(hanging)
        await desk.subscribe(healthy)
        for n in range(events):
            await desk.publish(f"story-{n}")
        running = dispatcher.Dispatcher(desk.sessionmaker, desk.settings)
        task = asyncio.create_task(running.run())
        try:
            # Sending batch by batch, each waiting out the hanging receiver's timeout,
            # would take 3 s for every 4 of the healthy one's: 18 s.
            async with asyncio.timeout(8):
                while len(healthy.received) < events:  # noqa: ASYNC110  (a receiver thread)
                    await asyncio.sleep(0.05)
        finally:
            running.stop()
            await task
    assert {m.payload["data"]["slug"] for m in healthy.received} == {
        f"story-{n}" for n in range(events)
    }
    assert all(m.verified for m in healthy.received)


async def test_a_running_dispatcher_announces_a_scheduled_article_when_it_falls_due(desk, receiver):
    """Nobody reads the API: the leader releases the article at its time, even with a poll
    interval longer than the wait."""
    desk.settings.webhook_poll_seconds = 30
    await desk.subscribe(receiver)
    article = await create_article(desk.client, desk.editor, slug="at-dawn")
    due = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = await desk.client.post(
        f"/v1/articles/{article['id']}/publish",
        json={"published_at": due.isoformat()},
        headers=desk.editor,
    )
    assert scheduled.status_code == 200, scheduled.text
    running = dispatcher.Dispatcher(desk.sessionmaker, desk.settings)
    task = asyncio.create_task(running.run())
    try:
        async with asyncio.timeout(10):
            while not receiver.received:  # noqa: ASYNC110  (a receiver thread)
                await asyncio.sleep(0.05)
        arrived = datetime.now(UTC)
    finally:
        running.stop()
        await task

    [message] = receiver.received
    assert message.verified
    assert message.payload["type"] == "article.published"
    assert message.payload["data"]["article_id"] == article["id"]
    assert parse_time(message.payload["timestamp"]) == parse_time(scheduled.json()["published_at"])
    assert due <= arrived < due + timedelta(seconds=6)
    async with desk.sessionmaker() as session:
        assert await session.scalar(select(ScheduledChange.article_id)) is None


async def test_only_the_leader_releases_scheduled_articles(desk, receiver):
    await desk.subscribe(receiver)
    # Held for longer than the test takes, however slow the machine: the standby must not
    # lead until the other leader lets go below.
    assert await dispatcher.hold_lease(desk.sessionmaker, dispatcher.LEADER_LEASE, "other", 300)
    article = await create_article(desk.client, desk.editor, slug="at-dawn")
    # Far enough ahead that the publish itself lands before it on a loaded machine (half a
    # second was not: the article went live at once and nothing was left to release).
    due = datetime.now(UTC) + timedelta(seconds=2)
    await desk.client.post(
        f"/v1/articles/{article['id']}/publish",
        json={"published_at": due.isoformat()},
        headers=desk.editor,
    )
    standby = dispatcher.Dispatcher(desk.sessionmaker, desk.settings)
    task = asyncio.create_task(standby.run())
    try:
        # A second past the due time: a leader would have released it by then.
        await asyncio.sleep((due - datetime.now(UTC)).total_seconds() + 1)
        async with desk.sessionmaker() as session:
            waiting = await session.scalar(select(ScheduledChange.article_id))
        assert str(waiting) == article["id"], "a standby leaves the release to the leader"
        assert receiver.received == []
        # The other leader steps down: the standby takes over and catches up.
        await dispatcher.release_lease(desk.sessionmaker, dispatcher.LEADER_LEASE, "other")
        async with asyncio.timeout(10):
            while not receiver.received:  # noqa: ASYNC110  (a receiver thread)
                await asyncio.sleep(0.05)
    finally:
        standby.stop()
        await task
    assert receiver.received[0].payload["data"]["slug"] == "at-dawn"
