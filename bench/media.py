"""What images cost: uploading a 12-megapixel JPEG (its renditions are made then), and
reading renditions and an article with a featured image under wrk, each against nginx
serving the same bytes from disk.

    .venv/bin/python -m bench.media [--workers 2] [--duration 10] [--warmup 3] [--uploads 5]

One `newsdesk serve` on SQLite with the demo stories and a media directory of its own.
`--uploads` photographs (12 MP, noise over a gradient, so they compress like a photograph;
each a little different, so none is a re-upload) are posted one after another; the p50,
fastest and slowest answers are printed, with the same file's renditions made in this
process for comparison (no HTTP, no storage). Then wrk loads, each with its nginx baseline:
the 1280-wide JPEG rendition, the 640-wide WebP, and a demo article given the first upload
as its featured image. Needs wrk and nginx (apt-get install wrk nginx-light).
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import httpx
from PIL import Image, ImageFilter

from app.media import images
from bench.common import VAR, log
from bench.databases import fresh_sqlite
from bench.processes import Tools, background, free_port, run_command
from bench.results import Scenario
from bench.scenarios import Bench, fetch, measure_nginx, print_header
from bench.wrk import Load

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
WIDTH, HEIGHT = 4000, 3000  # 12 megapixels


def photograph(seed: int) -> bytes:
    """A 12 MP JPEG that compresses like a photograph (about 2 MB at quality 90)."""
    noise = Image.effect_noise((WIDTH, HEIGHT), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    picture = Image.blend(noise, gradient, 0.5).filter(ImageFilter.GaussianBlur(1))
    picture.putpixel((seed, seed), (seed % 256, 0, 0))  # a different file each time
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(client: httpx.Client, key: str, data: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post(
        "/v1/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"alt": "A photograph for the bench", "caption": "Bench."},
        headers={"Authorization": f"Bearer {key}"},
    )
    took = time.perf_counter() - started
    response.raise_for_status()
    return took, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--uploads", type=int, default=5)
    options = parser.parse_args()
    tools = Tools.find()

    database = fresh_sqlite(VAR / "media.db")
    media = VAR / "media-store"
    for old in sorted(media.rglob("*"), reverse=True) if media.exists() else []:
        old.unlink() if old.is_file() else old.rmdir()
    env = {
        "NEWSDESK_DATABASE_URL": database.url,
        "NEWSDESK_MEDIA_STORE_URL": media.resolve().as_uri(),
        "NEWSDESK_WEBHOOKS_DISPATCHER": "false",
        "NEWSDESK_RATE_LIMIT_PER_KEY": "0",
        "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
    }
    run_command([NEWSDESK, "migrate"], env)
    run_command([NEWSDESK, "demo"], env)
    create = [NEWSDESK, "keys", "create", "--name", "bench", "--scope", "content:publish"]
    key = run_command([*create, "--scope", "content:write"], env).strip().splitlines()[-1]
    photographs = [photograph(seed) for seed in range(options.uploads)]
    log(f"{options.uploads} photographs of {WIDTH}x{HEIGHT}, {len(photographs[0]):,} bytes each")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["NEWSDESK_PUBLIC_BASE_URL"] = base
    command = [NEWSDESK, "serve", "--port", str(port), "--workers", str(options.workers)]
    with background([*command, "--no-access-log"], VAR / "media.log", f"{base}/healthz", env):
        with httpx.Client(base_url=base, timeout=120) as client:
            uploads = [upload(client, key, data) for data in photographs]
            medium = uploads[0][1]
            slug = client.get("/v1/articles", params={"limit": 1}).json()["data"][0]["slug"]
            featured = client.patch(
                f"/v1/articles/{slug}",
                json={"featured_image": {"id": medium["id"]}},
                headers={"Authorization": f"Bearer {key}"},
            )
            featured.raise_for_status()
        took = [seconds for seconds, _ in uploads]
        in_process = []
        for data in photographs[:3]:
            started = time.perf_counter()
            images.render(data, 80_000_000, images.FocalPoint())
            in_process.append(time.perf_counter() - started)
        print(
            f"upload of a 12 MP JPEG     p50 {statistics.median(took):5.2f} s"
            f"  fastest {min(took):5.2f} s  slowest {max(took):5.2f} s"
            f"  ({len(medium['renditions'])} renditions; made in process alone: "
            f"p50 {statistics.median(in_process):5.2f} s)"
        )

        by_name = {r["name"]: r for r in medium["renditions"]}
        jpeg, webp = by_name["1280.jpg"]["url"], by_name["640.webp"]["url"]
        article = f"{base}/v1/articles/{slug}"
        bench = Bench(tools, options.duration, options.warmup)
        print_header(f"Media, {options.workers} workers")
        files = {
            "rendition-jpeg.jpg": fetch(jpeg),
            "rendition-webp.webp": fetch(webp),
            "article.json": fetch(article),
        }
        labels = {
            "rendition-jpeg.jpg": "nginx: the 1280 JPEG, from disk",
            "rendition-webp.webp": "nginx: the 640 WebP, from disk",
            "article.json": "nginx: the article with its image, from disk",
        }
        measure_nginx(bench, files, labels, options.workers)
        for scenario in (
            Scenario("m1", "GET /v1/media/{id}/1280.jpg", Load(jpeg), "rendition-jpeg"),
            Scenario("m2", "GET /v1/media/{id}/640.webp", Load(webp), "rendition-webp"),
            Scenario("m3", "GET /v1/articles/{slug} (featured image)", Load(article), "article"),
        ):
            bench.measure(scenario)


if __name__ == "__main__":
    main()
