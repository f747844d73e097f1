"""H.264 vs AV1 (and HEVC) for the rendition ladder: bytes at equal quality, encode CPU,
egress saved and the view count at which an AV1 ladder pays for itself.

``make bench-codecs`` (or ``.venv/bin/python bench/codecs.py``). For each clip (the demo
clips of ``seed_demo`` and one real-looking clip with motion, fine detail and grain) and
each rung of ``VIDEO_RENDITION_LADDER`` the clip reaches, it encodes:

- H.264 exactly as production does (``videos.media.transcode_hls``: TS segments);
- AV1 exactly as production does (``videos.media.transcode_hls_av1``: fMP4) at
  ``AV1_CRF`` and at a sweep of CRFs, and HEVC (x265, fMP4) at a sweep of CRFs;

then measures the bytes every player downloads (segments, init and audio included), SSIM
against the source scaled to the rung, and the CPU-seconds of each encode (the ffmpeg
child's user + system time). "Equal quality" is the highest CRF whose SSIM is at least
the H.264 rendition's. Results go to bench/results/codecs.json.

Break-even: the AV1 ladder costs its encode CPU once (plus storage); each view by an
AV1-capable player saves the byte difference of the rung it watches. The prices are
arguments (defaults: list prices of a large cloud's CDN egress and on-demand vCPU).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiktok.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from videos import media  # noqa: E402
from videos.av1 import encoder_options as av1_options  # noqa: E402

# (name, lavfi video source, size, seconds): the demo's patterns as seed_demo renders them
# (640x360, 25 fps) and a real-looking 720p clip: a zooming fractal (motion, fine detail)
# under moving test graphics, with film grain.
DEMO = [(name, f"{name}=size=640x360:rate=25", 4) for name in ("testsrc", "testsrc2", "smptebars", "mandelbrot")]
REAL = (
    "real-looking",
    "mandelbrot=size=1280x720:rate=30[m];testsrc2=size=1280x720:rate=30[t];"
    "[m][t]blend=all_mode=overlay:all_opacity=0.35,noise=alls=6:allf=t+u",
    10,
)
AV1_SWEEP = (30, 35, 40, 45)
HEVC_SWEEP = (24, 28, 32)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render(directory: Path, name: str, source: str, seconds: int) -> Path:
    """A near-lossless H.264/AAC source clip (the upload)."""
    path = directory / f"{name}.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source,
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-shortest", str(path)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return path


def hevc_hls(source: Path, directory: Path, *, plan: media.RenditionPlan, crf: int) -> Path:
    """HEVC (x265) the way an HEVC ladder would be made: fMP4 HLS, 2 s segments."""
    directory.mkdir(parents=True, exist_ok=True)
    playlist = directory / "index.m3u8"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?",
         "-vf", f"scale={plan.width}:{plan.height},format=yuv420p",
         "-c:v", "libx265", "-preset", "veryfast", "-crf", str(crf), "-tag:v", "hvc1",
         "-x265-params", "log-level=error:scenecut=0:keyint=60:min-keyint=60:pools=2",
         "-c:a", "aac", "-b:a", str(media.AUDIO_BITRATE), "-ac", "2", "-ar", "44100",
         "-f", "hls", "-hls_time", str(media.SEGMENT_SECONDS), "-hls_playlist_type", "vod",
         "-hls_segment_type", "fmp4", "-hls_segment_filename", str(directory / "seg_%03d.m4s"), str(playlist)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return playlist


def served_bytes(playlist: Path) -> int:
    return sum(path.stat().st_size for path in playlist.parent.iterdir() if path.suffix in (".ts", ".m4s", ".mp4"))


def ssim(playlist: Path, source: Path, plan: media.RenditionPlan) -> float:
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-nostats", "-i", str(playlist), "-i", str(source),
         "-lavfi", f"[1:v]scale={plan.width}:{plan.height},format=yuv420p[ref];[0:v]format=yuv420p[out];"
         "[out][ref]ssim", "-f", "null", "-"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    match = re.search(r"All:([0-9.]+)", result.stderr)
    if not match:
        raise RuntimeError(f"no SSIM for {playlist}: {result.stderr[-400:]}")
    return float(match[1])


def measure(encode, *, source: Path, plan: media.RenditionPlan, seconds: float) -> dict:
    """Run ``encode`` (returns the variant playlist) and measure what it made."""
    before = cpu_seconds()
    playlist = encode()
    cpu = cpu_seconds() - before
    return {
        "bytes": served_bytes(playlist),
        "ssim": round(ssim(playlist, source, plan), 5),
        "cpu_s_per_min": round(cpu * 60 / seconds, 1),
    }


def equal_quality(sweep: dict[int, dict], target: float) -> dict:
    """The sweep point with the fewest bytes whose SSIM is at least ``target``."""
    good = [dict(point, crf=crf) for crf, point in sweep.items() if point["ssim"] >= target]
    if not good:
        best = max(sweep, key=lambda crf: sweep[crf]["ssim"])
        return dict(sweep[best], crf=best, below_target=True)
    return min(good, key=lambda point: point["bytes"])


def bench_clip(directory: Path, name: str, source_spec: str, seconds: int) -> dict:
    source = render(directory, name, source_spec, seconds)
    probe = media.probe(source)
    rungs = {}
    for plan in media.plan_renditions(width=probe.width, height=probe.height):
        work = directory / name / plan.name
        rung = {"source": source, "plan": plan, "seconds": probe.duration}
        h264 = measure(partial(media.transcode_hls, source, work / "h264", plan=plan, probe_result=probe), **rung)
        av1 = {
            crf: measure(
                partial(
                    media.transcode_hls_av1,
                    source,
                    work / f"av1-{crf}",
                    plan=plan,
                    probe_result=probe,
                    **{**av1_options(plan), "crf": crf},
                ),
                **rung,
            )  # fmt: skip
            for crf in sorted({*AV1_SWEEP, settings.AV1_CRF})
        }
        hevc = {
            crf: measure(partial(hevc_hls, source, work / f"hevc-{crf}", plan=plan, crf=crf), **rung)
            for crf in HEVC_SWEEP
        }
        rungs[plan.name] = {
            "h264": h264,
            "av1_production": dict(av1[settings.AV1_CRF], crf=settings.AV1_CRF),
            "av1_equal_quality": equal_quality(av1, h264["ssim"]),
            "hevc_equal_quality": equal_quality(hevc, h264["ssim"]),
            "av1_sweep": av1,
            "hevc_sweep": hevc,
        }
        print(name, plan.name, json.dumps({k: v for k, v in rungs[plan.name].items() if "sweep" not in k}), flush=True)
    return {"seconds": probe.duration, "rungs": rungs}


def break_even(clip: dict, *, codec: str, egress_per_gb: float, cpu_per_hour: float, capable: float) -> dict:
    """Views at which a ladder in ``codec`` (production AV1 or equal-quality HEVC) pays.

    Each view is assumed to watch the clip once at its top rung; ``capable`` of views
    come from players that decode the codec. Encode cost: CPU of every rung.
    """
    rungs = clip["rungs"]
    top = rungs[list(rungs)[-1]]
    key = "av1_production" if codec == "av1" else "hevc_equal_quality"
    minutes = clip["seconds"] / 60
    saved_per_view = (top["h264"]["bytes"] - top[key]["bytes"]) * capable
    encode_cpu_s = sum(rung[key]["cpu_s_per_min"] for rung in rungs.values()) * minutes
    encode_cost = encode_cpu_s / 3600 * cpu_per_hour
    saved_per_view_cost = saved_per_view / 1e9 * egress_per_gb
    return {
        "saved_bytes_per_1000_views_per_min": round(saved_per_view * 1000 / minutes),
        "encode_cpu_s_per_min": round(encode_cpu_s / minutes, 1),
        "break_even_views": round(encode_cost / saved_per_view_cost) if saved_per_view_cost > 0 else None,
    }


def markdown(report: dict) -> str:
    """The tables of BENCHMARKS.md's "AV1 ladder" section, from a report."""
    lines = [
        "| clip | rung | H.264 bytes (SSIM) | AV1 crf {crf} bytes (SSIM) | AV1 equal-SSIM bytes (crf) |"
        " HEVC equal-SSIM bytes (crf) | CPU-s/min H.264 / AV1 / HEVC |".format(crf=report["settings"]["AV1_CRF"]),
        "|---|---|---|---|---|---|---|",
    ]
    for name, clip in report["clips"].items():
        for rung_name, rung in clip["rungs"].items():
            h264, av1, av1_eq, hevc = (
                rung["h264"], rung["av1_production"], rung["av1_equal_quality"], rung["hevc_equal_quality"]
            )  # fmt: skip
            lines.append(
                f"| {name} | {rung_name} | {h264['bytes']:,} ({h264['ssim']:.4f}) "
                f"| {av1['bytes']:,} ({av1['ssim']:.4f}) "
                f"| {av1_eq['bytes']:,} ({av1_eq['crf']}{', below' if av1_eq.get('below_target') else ''}) "
                f"| {hevc['bytes']:,} ({hevc['crf']}{', below' if hevc.get('below_target') else ''}) "
                f"| {h264['cpu_s_per_min']} / {av1['cpu_s_per_min']} / {hevc['cpu_s_per_min']} |"
            )
    lines += [
        "",
        "| clip | AV1: MB saved per 1,000 views per min | AV1 ladder CPU-s per min | AV1 break-even views |"
        " HEVC: MB saved per 1,000 views per min | HEVC break-even views |",
        "|---|---|---|---|---|---|",
    ]
    for name, clip in report["clips"].items():
        av1, hevc = clip["av1_break_even"], clip["hevc_break_even"]
        lines.append(
            f"| {name} | {av1['saved_bytes_per_1000_views_per_min'] / 1e6:.1f} | {av1['encode_cpu_s_per_min']} "
            f"| {av1['break_even_views'] if av1['break_even_views'] is not None else 'never'} "
            f"| {hevc['saved_bytes_per_1000_views_per_min'] / 1e6:.1f} "
            f"| {hevc['break_even_views'] if hevc['break_even_views'] is not None else 'never'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--egress-per-gb", type=float, default=0.02, help="CDN egress, $ per GB")
    parser.add_argument("--cpu-per-hour", type=float, default=0.04, help="encode worker, $ per vCPU-hour")
    parser.add_argument("--capable", type=float, default=0.7, help="share of views from AV1/HEVC-capable players")
    parser.add_argument("--output", default=str(REPO / "bench" / "results" / "codecs.json"))
    parser.add_argument("--clips", nargs="*", help="only these clips (names as in the report)")
    parser.add_argument("--tables", action="store_true", help="print the tables of an existing --output and stop")
    arguments = parser.parse_args()
    if arguments.tables:
        print(markdown(json.loads(Path(arguments.output).read_text())))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-codecs-") as directory:
        for name, spec, seconds in [*DEMO, REAL]:
            if arguments.clips and name not in arguments.clips:
                continue
            results[name] = bench_clip(Path(directory), name, spec, seconds)
    prices = {"egress_per_gb": arguments.egress_per_gb, "cpu_per_hour": arguments.cpu_per_hour}
    for clip in results.values():
        for codec in ("av1", "hevc"):
            clip[f"{codec}_break_even"] = break_even(clip, codec=codec, capable=arguments.capable, **prices)
    report = {
        "settings": {
            "AV1_PRESET": settings.AV1_PRESET,
            "AV1_CRF": settings.AV1_CRF,
            "AV1_MAX_BITRATE_RATIO": settings.AV1_MAX_BITRATE_RATIO,
            "capable": arguments.capable,
        },
        "prices": prices,
        "clips": results,
    }
    Path(arguments.output).write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
